//! pitsense tracks as Autoware's `autoware_perception_msgs/msg/TrackedObjects`, CDR-encoded.
//!
//! Message definitions: `autoware_msgs` release 1.12.0, shipped unchanged under `runtime/msg/`
//! (Apache-2.0). Wire layout, in field order (CDR rules in [`super::cdr`]):
//!
//! ```text
//! TrackedObjects
//!   std_msgs/Header header            builtin_interfaces/Time stamp {int32 sec, uint32 nanosec},
//!                                     string frame_id
//!   TrackedObject[] objects
//! TrackedObject
//!   unique_identifier_msgs/UUID object_id      uint8[16]
//!   float32 existence_probability
//!   ObjectClassification[] classification      {uint8 label, float32 probability}
//!   TrackedObjectKinematics kinematics
//!     geometry_msgs/PoseWithCovariance pose_with_covariance       Point, Quaternion, float64[36]
//!     geometry_msgs/TwistWithCovariance twist_with_covariance     Vector3 ×2, float64[36]
//!     geometry_msgs/AccelWithCovariance acceleration_with_covariance  Vector3 ×2, float64[36]
//!     uint8 orientation_availability
//!     bool is_stationary
//!   Shape shape
//!     uint8 type
//!     geometry_msgs/Polygon footprint          Point32[] points {float32 x, y, z}
//!     geometry_msgs/Vector3 dimensions
//! ```
//!
//! How a [`Track`] fills it (Autoware's conventions, from its `multi_object_tracker`):
//! - `object_id`: a name-based UUID version 8 (RFC 9562 §5.8, the SHA-256 construction of its
//!   Appendix B.2) of the name `pitsense:truck/<truck_id>/track/<track_id>` in the URL
//!   namespace, so one track keeps one id in every message and two trucks never share one.
//! - `existence_probability` and the one classification's `probability`: the track's `score`;
//!   `label` from the class name ([`autoware_label`]).
//! - Pose: the box centre in the header's frame; orientation the rotation by `yaw_rad` about z,
//!   quaternion `(0, 0, sin(yaw/2), cos(yaw/2))`; covariance (row-major 6×6 over x, y, z, roll,
//!   pitch, yaw) with the track's position block in x, y, z and
//!   [`UNESTIMATED_ANGLE_VARIANCE_RAD2`] on the roll, pitch, yaw diagonal (the tracker does not
//!   estimate orientation uncertainty).
//! - Twist: **in the object's own frame** (x along the heading, y to its left), as Autoware's
//!   trackers publish it (`twist.linear.x` is the longitudinal speed):
//!   `v_object = Rz(yaw)ᵀ · v_frame`, covariance `Rz(yaw)ᵀ · Σ_v · Rz(yaw)` from the track's
//!   velocity block; angular velocity zero (the tracker's motion models carry no yaw rate) with
//!   [`UNESTIMATED_ANGULAR_RATE_VARIANCE_RAD2PS2`] on its diagonal. Position–velocity cross terms
//!   have no place in the message and are dropped.
//! - Acceleration: not estimated; zero, with zero covariance (Autoware's trackers do the same).
//! - `orientation_availability`: `SIGN_UNKNOWN` (yaw comes from box fitting, which cannot tell
//!   front from back); `is_stationary`: false (as Autoware's `multi_object_tracker` publishes).
//! - Shape: `BOUNDING_BOX`, dimensions (length, width, height) from `size_m`, empty footprint.

use pitsense_types::Track;
use pitsense_types::nalgebra::{Matrix3, Rotation3, Vector3};
use sha2::{Digest, Sha256};

use super::OutputError;
use super::cdr::CdrWriter;

/// The full ROS 2 type name of the encoded message.
pub const TRACKED_OBJECTS_TYPE: &str = "autoware_perception_msgs/msg/TrackedObjects";

/// `ObjectClassification` label constants (autoware_msgs 1.12.0).
pub mod label {
    /// `UNKNOWN`
    pub const UNKNOWN: u8 = 0;
    /// `CAR`
    pub const CAR: u8 = 1;
    /// `TRUCK`
    pub const TRUCK: u8 = 2;
    /// `BUS`
    pub const BUS: u8 = 3;
    /// `TRAILER`
    pub const TRAILER: u8 = 4;
    /// `MOTORCYCLE`
    pub const MOTORCYCLE: u8 = 5;
    /// `BICYCLE`
    pub const BICYCLE: u8 = 6;
    /// `PEDESTRIAN`
    pub const PEDESTRIAN: u8 = 7;
    /// `ANIMAL` (since autoware_msgs 1.8.0)
    pub const ANIMAL: u8 = 8;
}

/// `TrackedObjectKinematics.SIGN_UNKNOWN`: the orientation is known up to a sign flip.
pub const ORIENTATION_SIGN_UNKNOWN: u8 = 1;

/// `Shape.BOUNDING_BOX`: dimensions are length, width, height.
pub const SHAPE_BOUNDING_BOX: u8 = 0;

/// Variance written for roll, pitch and yaw, rad² ((0.1 rad)²): the tracker does not estimate
/// them; Autoware's trackers write the same tentative value for roll and pitch.
pub const UNESTIMATED_ANGLE_VARIANCE_RAD2: f64 = 0.01;

/// Variance written for the three angular velocities, rad²/s² ((0.1 rad/s)²): not estimated.
pub const UNESTIMATED_ANGULAR_RATE_VARIANCE_RAD2PS2: f64 = 0.01;

/// RFC 9562's URL namespace `6ba7b811-9dad-11d1-80b4-00c04fd430c8`.
const NAMESPACE_URL: [u8; 16] =
    [0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8];

/// Maps a pitsense class name (tracker classes, KITTI and COCO names; ASCII case ignored) onto
/// an Autoware `ObjectClassification` label:
///
/// | class names | label |
/// |---|---|
/// | `car`, `van` | `CAR` (1) |
/// | `truck` | `TRUCK` (2) |
/// | `bus` | `BUS` (3) |
/// | `trailer` | `TRAILER` (4) |
/// | `motorcycle`, `motorbike` | `MOTORCYCLE` (5) |
/// | `bicycle`, `cyclist` | `BICYCLE` (6) |
/// | `pedestrian`, `person`, `person_sitting` | `PEDESTRIAN` (7) |
/// | `animal` | `ANIMAL` (8) |
/// | anything else (`unknown`, `tram`, mining machines) | `UNKNOWN` (0) |
pub fn autoware_label(class_label: &str) -> u8 {
    let class = class_label.trim().to_ascii_lowercase();
    match class.as_str() {
        "car" | "van" => label::CAR,
        "truck" => label::TRUCK,
        "bus" => label::BUS,
        "trailer" => label::TRAILER,
        "motorcycle" | "motorbike" => label::MOTORCYCLE,
        "bicycle" | "cyclist" => label::BICYCLE,
        "pedestrian" | "person" | "person_sitting" => label::PEDESTRIAN,
        "animal" => label::ANIMAL,
        _ => label::UNKNOWN,
    }
}

/// The `object_id` of a track: UUID version 8, name-based with SHA-256 (RFC 9562 §5.8 and
/// Appendix B.2): the first 16 bytes of `SHA-256(URL namespace ‖ name)` with the version nibble
/// set to 8 and the variant bits to `10`, where the name is
/// `pitsense:truck/<truck_id>/track/<track_id>`.
pub fn object_uuid(truck_id: &str, track_id: u64) -> [u8; 16] {
    let name = format!("pitsense:truck/{truck_id}/track/{track_id}");
    name_based_uuid_v8(&NAMESPACE_URL, name.as_bytes())
}

/// RFC 9562 Appendix B.2's name-based UUIDv8 over SHA-256.
fn name_based_uuid_v8(namespace: &[u8; 16], name: &[u8]) -> [u8; 16] {
    let digest = Sha256::new().chain_update(namespace).chain_update(name).finalize();
    let mut uuid = [0u8; 16];
    for (byte, hashed) in uuid.iter_mut().zip(digest.iter()) {
        *byte = *hashed;
    }
    uuid[6] = (uuid[6] & 0x0f) | 0x80;
    uuid[8] = (uuid[8] & 0x3f) | 0x80;
    uuid
}

/// `builtin_interfaces/Time` from nanoseconds: `(sec, nanosec)`.
///
/// Errors: [`OutputError::StampOutOfRange`] when the seconds do not fit `int32` (after
/// 2038-01-19 on a Unix-epoch clock).
pub fn ros_time(stamp_ns: u64) -> Result<(i32, u32), OutputError> {
    let sec =
        i32::try_from(stamp_ns / 1_000_000_000).map_err(|_| OutputError::StampOutOfRange { stamp_ns })?;
    // The remainder is below 10⁹ < 2³²: the cast is exact.
    let nanosec = (stamp_ns % 1_000_000_000) as u32;
    Ok((sec, nanosec))
}

/// One `TrackedObject`'s values, as they go on the wire (see the module docs for how each is
/// derived from a [`Track`]). Plain data, no heap: built and encoded per track.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackedObjectFields {
    /// `object_id.uuid`.
    pub object_id: [u8; 16],
    /// `existence_probability`.
    pub existence_probability: f32,
    /// The one `classification` entry's `label`.
    pub label: u8,
    /// The one `classification` entry's `probability`.
    pub label_probability: f32,
    /// `pose.position`, metres, in the header's frame.
    pub position_m: [f64; 3],
    /// `pose.orientation` as `(x, y, z, w)`.
    pub orientation_xyzw: [f64; 4],
    /// `pose_with_covariance.covariance`, row-major 6×6 over x, y, z, roll, pitch, yaw.
    pub pose_covariance: [f64; 36],
    /// `twist.linear`, m/s, in the object's frame (x forward along the heading, y left).
    pub twist_linear_mps: [f64; 3],
    /// `twist.angular`, rad/s.
    pub twist_angular_radps: [f64; 3],
    /// `twist_with_covariance.covariance`, row-major 6×6 over vx, vy, vz, wx, wy, wz.
    pub twist_covariance: [f64; 36],
    /// `orientation_availability`.
    pub orientation_availability: u8,
    /// `is_stationary`.
    pub is_stationary: bool,
    /// `shape.type`.
    pub shape_type: u8,
    /// `shape.dimensions`: length, width, height, metres.
    pub dimensions_m: [f64; 3],
}

impl TrackedObjectFields {
    /// The message values of one track (see the module docs).
    pub fn from_track(truck_id: &str, track: &Track) -> Self {
        let state = &track.state;
        let yaw_rad = state.yaw_rad;
        let half_yaw = 0.5 * yaw_rad;

        let mut pose_covariance = [0.0; 36];
        for row in 0..3 {
            for col in 0..3 {
                pose_covariance[row * 6 + col] = track.covariance[(row, col)];
            }
        }
        for angle in 3..6 {
            pose_covariance[angle * 6 + angle] = UNESTIMATED_ANGLE_VARIANCE_RAD2;
        }

        // frame_from_object = Rz(yaw); object_from_frame is its transpose.
        let frame_from_object = Rotation3::from_axis_angle(&Vector3::z_axis(), yaw_rad);
        let object_from_frame = frame_from_object.inverse();
        let velocity_in_object = object_from_frame * state.velocity_mps;
        let velocity_covariance_frame: Matrix3<f64> = track.covariance.fixed_view::<3, 3>(3, 3).into_owned();
        let velocity_covariance_object =
            object_from_frame.matrix() * velocity_covariance_frame * frame_from_object.matrix();
        let mut twist_covariance = [0.0; 36];
        for row in 0..3 {
            for col in 0..3 {
                twist_covariance[row * 6 + col] = velocity_covariance_object[(row, col)];
            }
        }
        for rate in 3..6 {
            twist_covariance[rate * 6 + rate] = UNESTIMATED_ANGULAR_RATE_VARIANCE_RAD2PS2;
        }

        Self {
            object_id: object_uuid(truck_id, track.track_id),
            existence_probability: track.score,
            label: autoware_label(&track.class_label),
            label_probability: track.score,
            position_m: [state.center_m.x, state.center_m.y, state.center_m.z],
            orientation_xyzw: [0.0, 0.0, half_yaw.sin(), half_yaw.cos()],
            pose_covariance,
            twist_linear_mps: [velocity_in_object.x, velocity_in_object.y, velocity_in_object.z],
            twist_angular_radps: [0.0; 3],
            twist_covariance,
            orientation_availability: ORIENTATION_SIGN_UNKNOWN,
            is_stationary: false,
            shape_type: SHAPE_BOUNDING_BOX,
            dimensions_m: [state.size_m.x, state.size_m.y, state.size_m.z],
        }
    }

    /// Appends the `TrackedObject` in CDR.
    fn encode(&self, writer: &mut CdrWriter<'_>) -> Result<(), OutputError> {
        writer.write_u8_array(&self.object_id);
        writer.write_f32(self.existence_probability);
        writer.write_sequence_length(1)?;
        writer.write_u8(self.label);
        writer.write_f32(self.label_probability);
        // pose_with_covariance: Point, Quaternion, covariance.
        writer.write_f64_array(&self.position_m);
        writer.write_f64_array(&self.orientation_xyzw);
        writer.write_f64_array(&self.pose_covariance);
        // twist_with_covariance: linear, angular, covariance.
        writer.write_f64_array(&self.twist_linear_mps);
        writer.write_f64_array(&self.twist_angular_radps);
        writer.write_f64_array(&self.twist_covariance);
        // acceleration_with_covariance: not estimated, all zero.
        writer.write_f64_array(&[0.0; 6]);
        writer.write_f64_array(&[0.0; 36]);
        writer.write_u8(self.orientation_availability);
        writer.write_bool(self.is_stationary);
        // shape: type, footprint (empty Point32[]), dimensions.
        writer.write_u8(self.shape_type);
        writer.write_sequence_length(0)?;
        writer.write_f64_array(&self.dimensions_m);
        Ok(())
    }
}

/// Encodes `tracks` as one `autoware_perception_msgs/msg/TrackedObjects` (XCDR1 little-endian,
/// with the 4-byte encapsulation header) into `buffer`, replacing its contents.
///
/// `stamp_ns` becomes `header.stamp`, `frame_id` `header.frame_id` (the frame the tracks'
/// geometry is expressed in, e.g. `map` or `base_link`); `truck_id` names the object ids.
///
/// Errors: [`OutputError::StampOutOfRange`] (seconds beyond `int32`),
/// [`OutputError::TooLong`] (a string or list longer than CDR's `uint32` length).
pub fn encode_tracked_objects(
    buffer: &mut Vec<u8>,
    stamp_ns: u64,
    frame_id: &str,
    truck_id: &str,
    tracks: &[Track],
) -> Result<(), OutputError> {
    let (sec, nanosec) = ros_time(stamp_ns)?;
    let mut writer = CdrWriter::new(buffer);
    writer.write_i32(sec);
    writer.write_u32(nanosec);
    writer.write_string(frame_id)?;
    writer.write_sequence_length(tracks.len())?;
    for track in tracks {
        TrackedObjectFields::from_track(truck_id, track).encode(&mut writer)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use pitsense_types::nalgebra::{Matrix6, Point3};
    use pitsense_types::{FrameId, Header, ObjectSource, TrackState};

    use super::*;

    fn track(track_id: u64, yaw_rad: f64, class_label: &str) -> Track {
        Track {
            header: Header { stamp_ns: 0, frame: FrameId::Ego, seq: 0 },
            track_id,
            state: TrackState {
                center_m: Point3::new(10.0, -2.5, 0.75),
                velocity_mps: Vector3::new(3.0, 4.0, 0.0),
                yaw_rad,
                size_m: Vector3::new(4.5, 1.8, 1.5),
            },
            covariance: Matrix6::from_diagonal(&pitsense_types::nalgebra::Vector6::new(
                0.25, 0.36, 0.49, 1.0, 2.0, 0.5,
            )),
            class_label: class_label.into(),
            score: 0.875,
            age_frames: 3,
            hits: 3,
            frames_since_update: 0,
            source: ObjectSource::Lidar,
        }
    }

    fn f64_at(bytes: &[u8], offset: usize) -> f64 {
        f64::from_le_bytes(bytes[offset..offset + 8].try_into().unwrap())
    }

    fn f32_at(bytes: &[u8], offset: usize) -> f32 {
        f32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap())
    }

    fn u32_at(bytes: &[u8], offset: usize) -> u32 {
        u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap())
    }

    /// One object, frame `ab`, stamp 1.5 s. Body offsets worked out by hand from the CDR rules
    /// (payload offset = body offset + 4):
    ///
    /// ```text
    ///    0 sec  4 nanosec  8 len=3  12 "ab\0"  15 pad  16 objects=1
    ///   20 uuid[16]  36 existence_probability  40 classification=1  44 label  45 pad×3
    ///   48 probability  52 pad×4 (float64 next)  56 position  80 orientation  112 pose cov
    ///  400 twist linear  424 angular  448 twist cov  736 accel linear  760 angular  784 accel cov
    /// 1072 orientation_availability  1073 is_stationary  1074 shape type  1075 pad
    /// 1076 footprint points=0  1080 dimensions  1104 end
    /// ```
    #[test]
    fn one_object_lies_at_the_hand_computed_offsets_with_zero_padding() {
        let mut buffer = Vec::new();
        let tracks = [track(7, 0.0, "car")];
        encode_tracked_objects(&mut buffer, 1_500_000_000, "ab", "truck-01", &tracks).unwrap();
        let body = 4;
        assert_eq!(buffer.len(), body + 1104);
        assert_eq!(&buffer[..4], &[0, 1, 0, 0]);
        assert_eq!(u32_at(&buffer, body), 1);
        assert_eq!(u32_at(&buffer, body + 4), 500_000_000);
        assert_eq!(u32_at(&buffer, body + 8), 3);
        assert_eq!(&buffer[body + 12..body + 16], b"ab\0\0");
        assert_eq!(u32_at(&buffer, body + 16), 1);
        assert_eq!(&buffer[body + 20..body + 36], &object_uuid("truck-01", 7));
        assert_eq!(f32_at(&buffer, body + 36), 0.875);
        assert_eq!(u32_at(&buffer, body + 40), 1);
        assert_eq!(&buffer[body + 44..body + 48], &[label::CAR, 0, 0, 0]);
        assert_eq!(f32_at(&buffer, body + 48), 0.875);
        assert_eq!(&buffer[body + 52..body + 56], &[0, 0, 0, 0]);
        assert_eq!(f64_at(&buffer, body + 56), 10.0);
        assert_eq!(f64_at(&buffer, body + 64), -2.5);
        assert_eq!(f64_at(&buffer, body + 72), 0.75);
        assert_eq!(f64_at(&buffer, body + 104), 1.0); // w of the identity rotation
        assert_eq!(f64_at(&buffer, body + 112), 0.25); // pose cov x-x
        assert_eq!(f64_at(&buffer, body + 112 + 7 * 8), 0.36); // y-y is entry 7
        assert_eq!(f64_at(&buffer, body + 112 + 35 * 8), UNESTIMATED_ANGLE_VARIANCE_RAD2);
        assert_eq!(f64_at(&buffer, body + 400), 3.0); // yaw 0: object frame = header frame
        assert_eq!(f64_at(&buffer, body + 408), 4.0);
        assert_eq!(f64_at(&buffer, body + 448), 1.0); // twist cov vx-vx
        assert_eq!(f64_at(&buffer, body + 448 + 7 * 8), 2.0);
        assert!(buffer[body + 736..body + 1072].iter().all(|&b| b == 0));
        assert_eq!(
            &buffer[body + 1072..body + 1080],
            &[ORIENTATION_SIGN_UNKNOWN, 0, SHAPE_BOUNDING_BOX, 0, 0, 0, 0, 0]
        );
        assert_eq!(f64_at(&buffer, body + 1080), 4.5);
        assert_eq!(f64_at(&buffer, body + 1088), 1.8);
        assert_eq!(f64_at(&buffer, body + 1096), 1.5);
    }

    #[test]
    fn an_empty_list_is_header_and_count() {
        let mut buffer = Vec::new();
        encode_tracked_objects(&mut buffer, 2_000_000_007, "map", "t", &[]).unwrap();
        let expected = [0, 1, 0, 0, 2, 0, 0, 0, 7, 0, 0, 0, 4, 0, 0, 0, b'm', b'a', b'p', 0, 0, 0, 0, 0];
        assert_eq!(buffer, expected);
    }

    #[test]
    fn a_quarter_turn_rotates_velocity_and_its_covariance_into_the_object_frame() {
        // yaw = +90°: the object's x axis is the frame's y axis, its y axis the frame's −x.
        // v_object = (v_y, −v_x) = (4, −3); Σ_object = [[σ_yy, −σ_xy], [−σ_xy, σ_xx]].
        let mut moving = track(1, std::f64::consts::FRAC_PI_2, "pedestrian");
        moving.covariance[(3, 4)] = 0.3;
        moving.covariance[(4, 3)] = 0.3;
        let fields = TrackedObjectFields::from_track("t", &moving);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(fields.twist_linear_mps[0], 4.0) && close(fields.twist_linear_mps[1], -3.0));
        assert!(close(fields.twist_covariance[0], 2.0));
        assert!(close(fields.twist_covariance[1], -0.3) && close(fields.twist_covariance[6], -0.3));
        assert!(close(fields.twist_covariance[7], 1.0));
        assert!(close(fields.twist_covariance[14], 0.5));
        let half = std::f64::consts::FRAC_1_SQRT_2;
        assert!(close(fields.orientation_xyzw[2], half) && close(fields.orientation_xyzw[3], half));
        assert_eq!(fields.label, label::PEDESTRIAN);
    }

    #[test]
    fn class_names_map_to_autoware_labels() {
        let cases = [
            ("car", 1),
            ("Van", 1),
            ("truck", 2),
            ("bus", 3),
            ("trailer", 4),
            ("motorcycle", 5),
            ("cyclist", 6),
            ("bicycle", 6),
            ("person", 7),
            ("Pedestrian", 7),
            ("animal", 8),
            ("unknown", 0),
            ("excavator", 0),
        ];
        for (name, expected) in cases {
            assert_eq!(autoware_label(name), expected, "{name}");
        }
    }

    #[test]
    fn uuid_v8_matches_the_rfc_9562_appendix_b2_example() {
        // RFC 9562 B.2: SHA-256 name-based UUIDv8 of "www.example.com" in the DNS namespace is
        // 5c146b14-3c52-8afd-938a-375d0df1fbf6.
        let namespace_dns =
            [0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8];
        let expected =
            [0x5c, 0x14, 0x6b, 0x14, 0x3c, 0x52, 0x8a, 0xfd, 0x93, 0x8a, 0x37, 0x5d, 0x0d, 0xf1, 0xfb, 0xf6];
        assert_eq!(name_based_uuid_v8(&namespace_dns, b"www.example.com"), expected);
        assert_ne!(object_uuid("truck-01", 1), object_uuid("truck-02", 1));
        assert_ne!(object_uuid("truck-01", 1), object_uuid("truck-01", 2));
    }

    #[test]
    fn stamps_split_into_seconds_and_nanoseconds_and_refuse_2038() {
        assert_eq!(ros_time(1_700_000_000_123_456_789).unwrap(), (1_700_000_000, 123_456_789));
        assert_eq!(ros_time(0).unwrap(), (0, 0));
        let past_2038 = (i32::MAX as u64 + 1) * 1_000_000_000;
        assert!(matches!(ros_time(past_2038), Err(OutputError::StampOutOfRange { .. })));
    }
}
