//! Reads what the runtime publishes on `pitsense/truck/<id>/objects`: Autoware's
//! `autoware_perception_msgs/msg/TrackedObjects` (autoware_msgs 1.12.0), CDR-encoded.
//!
//! Wire rules (OMG DDS-XTypes 1.3 §7.4.3, XCDR1): a 4-byte encapsulation header (`00 01` for
//! little-endian CDR, then two option bytes), then the body, in which every primitive of size
//! n is aligned to a multiple of n counted from the body's first byte; a string is a `u32`
//! length including its NUL, the bytes and the NUL; a sequence is a `u32` count and the
//! elements. Field order is the `.msg` files' (`runtime/msg/`):
//!
//! ```text
//! TrackedObjects { Header { Time { int32 sec, uint32 nanosec }, string frame_id }, TrackedObject[] }
//! TrackedObject  { uint8[16] object_id, float32 existence_probability,
//!                  ObjectClassification[] { uint8 label, float32 probability },
//!                  kinematics { pose { Point(3 f64), Quaternion(4 f64), float64[36] },
//!                               twist { Vector3 linear, Vector3 angular, float64[36] },
//!                               accel { Vector3 linear, Vector3 angular, float64[36] },
//!                               uint8 orientation_availability, bool is_stationary },
//!                  shape { uint8 type, Point32[] footprint (3 f32 each), Vector3 dimensions } }
//! ```
//!
//! The harness decodes this itself (it reads only the runtime's transports, never its code);
//! `runtime/tests/hil_harness.rs` checks it against the runtime's encoder, and
//! `runtime/tests/zenoh_subscriber.py` checks that encoder against `rosbags`.

/// A message that does not decode.
#[derive(Debug, thiserror::Error)]
#[error("TrackedObjects message of {bytes} bytes: {reason} at byte {offset}")]
pub struct DecodeError {
    /// Length of the message.
    pub bytes: usize,
    /// Where decoding stopped (from the message's first byte).
    pub offset: usize,
    /// Why.
    pub reason: &'static str,
}

/// One object as published.
#[derive(Clone, Debug, PartialEq)]
pub struct PublishedObject {
    /// `object_id`: the track's UUID (one per track for its lifetime).
    pub uuid: [u8; 16],
    /// The first classification's label (Autoware `ObjectClassification` constant), 0 without one.
    pub label: u8,
    /// Box centre in the header's frame, m.
    pub center_m: [f64; 3],
    /// Heading, rad counter-clockwise from the frame's x axis (from the quaternion's z rotation).
    pub yaw_rad: f64,
    /// Length, width, height, m (`shape.dimensions`).
    pub size_m: [f64; 3],
    /// Speed along the heading, m/s (`twist.linear.x`, object frame).
    pub speed_mps: f64,
}

/// One decoded `TrackedObjects`.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackedObjectsMessage {
    /// `header.stamp` as ns since the Unix epoch (the frame's time of validity).
    pub stamp_ns: u64,
    /// `header.frame_id`.
    pub frame_id: String,
    /// The objects, in message order.
    pub objects: Vec<PublishedObject>,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

const HEADER_LEN: usize = 4;

impl<'a> Reader<'a> {
    fn fail(&self, reason: &'static str) -> DecodeError {
        DecodeError { bytes: self.bytes.len(), offset: self.at, reason }
    }

    fn take(&mut self, n: usize, align: usize) -> Result<&'a [u8], DecodeError> {
        let body = self.at - HEADER_LEN;
        self.at += (align - body % align) % align;
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| self.fail("truncated"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1, 1)?[0])
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f32(&mut self) -> Result<f32, DecodeError> {
        Ok(f32::from_bits(self.u32()?))
    }

    fn f64(&mut self) -> Result<f64, DecodeError> {
        let b = self.take(8, 8)?;
        Ok(f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }

    fn f64s<const N: usize>(&mut self) -> Result<[f64; N], DecodeError> {
        let mut out = [0.0; N];
        for value in &mut out {
            *value = self.f64()?;
        }
        Ok(out)
    }

    /// A sequence count, refused when the rest of the message cannot hold `min_element_bytes`
    /// per element (a corrupt count must not allocate).
    fn count(&mut self, min_element_bytes: usize) -> Result<usize, DecodeError> {
        let count = self.u32()? as usize;
        if count.saturating_mul(min_element_bytes) > self.bytes.len() - self.at {
            return Err(self.fail("sequence longer than the message"));
        }
        Ok(count)
    }
}

/// Decodes one `TrackedObjects` payload.
///
/// # Errors
/// [`DecodeError`] for a payload that is not little-endian CDR, is truncated, or declares a
/// sequence or string longer than itself.
pub fn decode_tracked_objects(payload: &[u8]) -> Result<TrackedObjectsMessage, DecodeError> {
    if payload.len() < HEADER_LEN || payload[..2] != [0x00, 0x01] {
        return Err(DecodeError {
            bytes: payload.len(),
            offset: 0,
            reason: "not a little-endian CDR payload",
        });
    }
    let mut r = Reader { bytes: payload, at: HEADER_LEN };
    let sec = r.u32()? as i32;
    let nanosec = r.u32()?;
    if sec < 0 || nanosec >= 1_000_000_000 {
        return Err(r.fail("stamp before 1970 or nanoseconds ≥ 1 s"));
    }
    let stamp_ns = sec as u64 * 1_000_000_000 + u64::from(nanosec);
    let length = r.count(1)?;
    let text = r.take(length, 1)?;
    let frame_id = String::from_utf8_lossy(text.strip_suffix(&[0]).unwrap_or(text)).into_owned();
    let objects_len = r.count(16)?;
    let mut objects = Vec::with_capacity(objects_len);
    for _ in 0..objects_len {
        let mut uuid = [0_u8; 16];
        uuid.copy_from_slice(r.take(16, 1)?);
        let _existence_probability = r.f32()?;
        let classes = r.count(5)?;
        let mut label = 0;
        for index in 0..classes {
            let class = r.u8()?;
            let _probability = r.f32()?;
            if index == 0 {
                label = class;
            }
        }
        let position = r.f64s::<3>()?;
        let [qx, qy, qz, qw] = r.f64s::<4>()?;
        let _pose_covariance = r.f64s::<36>()?;
        let [speed_mps, _, _] = r.f64s::<3>()?;
        let _angular = r.f64s::<3>()?;
        let _twist_covariance = r.f64s::<36>()?;
        let _acceleration = r.f64s::<6>()?;
        let _acceleration_covariance = r.f64s::<36>()?;
        let _orientation_availability = r.u8()?;
        let _is_stationary = r.u8()?;
        let _shape_type = r.u8()?;
        let footprint = r.count(12)?;
        for _ in 0..footprint * 3 {
            r.f32()?;
        }
        let size_m = r.f64s::<3>()?;
        // Yaw of a unit quaternion (z–y–x Euler angles).
        let yaw_rad = (2.0 * (qw * qz + qx * qy)).atan2(1.0 - 2.0 * (qy * qy + qz * qz));
        objects.push(PublishedObject { uuid, label, center_m: position, yaw_rad, size_m, speed_mps });
    }
    Ok(TrackedObjectsMessage { stamp_ns, frame_id, objects })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message written by hand from the rules: stamp 1.5 s, frame `ab`, no object.
    #[test]
    fn decodes_an_empty_message_written_by_hand() {
        let mut bytes = vec![0x00, 0x01, 0x00, 0x00];
        bytes.extend_from_slice(&1_i32.to_le_bytes());
        bytes.extend_from_slice(&500_000_000_u32.to_le_bytes());
        bytes.extend_from_slice(&3_u32.to_le_bytes());
        bytes.extend_from_slice(b"ab\0");
        bytes.push(0); // pad to a multiple of 4 in the body (offset 15 → 16)
        bytes.extend_from_slice(&0_u32.to_le_bytes());
        let message = decode_tracked_objects(&bytes).unwrap();
        assert_eq!(
            message,
            TrackedObjectsMessage { stamp_ns: 1_500_000_000, frame_id: "ab".into(), objects: vec![] }
        );
    }

    #[test]
    fn refuses_garbage_truncation_and_huge_counts() {
        assert!(decode_tracked_objects(b"").unwrap_err().to_string().contains("not a little-endian CDR"));
        let mut bytes = vec![0x00, 0x01, 0x00, 0x00, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, b'a', b'b', 0, 0];
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_tracked_objects(&bytes).unwrap_err().to_string().contains("sequence longer"));
        bytes.truncate(14);
        assert!(decode_tracked_objects(&bytes).unwrap_err().to_string().contains("truncated"));
    }
}
