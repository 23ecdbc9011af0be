//! Ouster lidar packet encoder: a [`LidarScan`] back to the sensor's lidar packets (UDP
//! payloads), the inverse of [`super::OusterScanBatcher`].
//!
//! Source: Ouster Sensor/Firmware User Manual (v2.3–v3.1), "Lidar Data Format". The byte
//! layout is the one drawn in `packet.rs`; pixel fields are written through the same
//! [`FieldSpec`] bit table the decoder reads them with ([`FieldSpec::write`]), so encoder and
//! decoder cannot disagree on where a bit lies.
//!
//! What the encoder writes, per packet:
//!
//! - non-LEGACY packet header: `packet_type` 1, `frame_id` and `init_id` from the scan, `prod_sn`
//!   from the metadata (the serial string parsed as an integer; 0 when it is not one or needs
//!   more than the field's 40 bits); alert flags, countdowns, shutdown / shot-limiting status
//!   and the reserved bytes zero (a [`LidarScan`] does not carry them);
//! - per column: the scan's `timestamp_ns`, the column index as measurement id, the scan's
//!   status (non-LEGACY `u16` in the header; LEGACY `u32` footer) and, LEGACY only, the scan's
//!   frame id and encoder count in the column header;
//! - per pixel: every field of the profile the scan carries (`RANGE`, `SIGNAL`,
//!   `REFLECTIVITY`, `NEAR_IR`, `FLAGS`, and the `*2` second-return fields of the dual
//!   profile), reserved bits zero;
//! - non-LEGACY packet footer: zero.
//!
//! A value that does not fit its field is an error ([`OusterError::ValueOutOfRange`]), never
//! truncated: a 19-bit range of 2¹⁹ mm or more, a low-data-rate range that is not a multiple of
//! 8 mm, a non-zero encoder count outside LEGACY, ...

use super::{FieldImage, FieldSpec, LidarScan, OusterError, OusterMetadata, PacketFormat, UdpProfileLidar};

/// The per-pixel fields of a [`LidarScan`], by SDK name: each is written when the profile has
/// it, and must be empty when it does not.
const SCAN_FIELDS: [&str; 9] =
    ["RANGE", "RANGE2", "SIGNAL", "SIGNAL2", "REFLECTIVITY", "REFLECTIVITY2", "NEAR_IR", "FLAGS", "FLAGS2"];

/// Largest `prod_sn` the non-LEGACY packet header holds (40 bits).
const PROD_SN_MAX: u64 = 0xff_ffff_ffff;
/// Largest `init_id` the non-LEGACY packet header holds (24 bits).
const INIT_ID_MAX: u64 = 0xff_ffff;

/// Writes [`LidarScan`]s as Ouster lidar packets for one sensor configuration (profile, `H`,
/// `W`, columns per packet, column window), byte for byte in the layout
/// [`super::OusterScanBatcher`] decodes (Ouster user manual, "Lidar Data Format").
///
/// No I/O, no clock: the same scan gives the same packets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OusterPacketEncoder {
    format: PacketFormat,
    columns_per_frame: usize,
    column_window: (usize, usize),
    prod_sn: u64,
}

impl OusterPacketEncoder {
    /// An encoder for a sensor's metadata. The packet header's serial number is
    /// `metadata.prod_sn` parsed as a decimal integer, or 0 when it is not one or does not fit
    /// the header's 40 bits.
    pub fn new(metadata: &OusterMetadata) -> Self {
        let prod_sn =
            metadata.prod_sn.trim().parse::<u64>().ok().filter(|&sn| sn <= PROD_SN_MAX).unwrap_or(0);
        Self {
            format: PacketFormat::new(metadata),
            columns_per_frame: metadata.columns_per_frame,
            column_window: metadata.column_window,
            prod_sn,
        }
    }

    /// The packet layout written.
    pub fn format(&self) -> &PacketFormat {
        &self.format
    }

    /// The serial number written into non-LEGACY packet headers.
    pub fn prod_sn(&self) -> u64 {
        self.prod_sn
    }

    /// Appends the lidar packets of `scan` to `out`, one UDP payload
    /// ([`PacketFormat::packet_bytes`] long) per packet.
    ///
    /// Packet `k` carries measurement ids `k × columns_per_packet ..` (`columns_per_packet`
    /// consecutive columns, as the sensor sends them). A packet is written for every such group
    /// holding at least one valid column (non-LEGACY status bit 0 set, LEGACY status all ones),
    /// in the order the sensor sends them: from the group holding the metadata's column-window
    /// start, wrapping through column 0. A group without a valid column is not written: the
    /// decoder leaves the columns of a lost packet all zero, so they stay lost. Inside a written
    /// packet an invalid column (status 0: outside the window, flagged invalid, or in a packet
    /// that never arrived) is written with status 0 and its measurement id, which the decoder
    /// counts as received but copies nothing of — as it treated it in the first place.
    ///
    /// Every value of the scan is either written so that the decoder reads it back or refused:
    /// an invalid column must be all zero (the decoder keeps nothing of it), as in every scan
    /// the decoder produces. So decoding the packets with [`super::OusterScanBatcher`] gives
    /// back the scan; its counters (`packets`, `columns_received`, `invalid_columns`) are those
    /// of the packets written, which equal the original's for a scan that batcher produced
    /// unless it received a packet whose columns were all invalid (not written here: its
    /// columns come back as lost).
    ///
    /// # Errors
    /// Nothing is appended when:
    /// [`OusterError::ProfileMismatch`] — the scan's profile is not the metadata's;
    /// [`OusterError::ShapeMismatch`] — the scan is not `H × W` of the metadata;
    /// [`OusterError::FieldLength`] — a field vector's length is not `H × W` (pixel field of
    /// the profile), `W` (column header) or 0 (pixel field the profile lacks);
    /// [`OusterError::PartialPacket`] — `W` is not a multiple of the columns per packet;
    /// [`OusterError::MeasurementIdMismatch`] — a column's measurement id is neither its index
    /// nor (invalid column only) 0;
    /// [`OusterError::InvalidColumnNotEmpty`] — an invalid column carries a non-zero value;
    /// [`OusterError::ValueOutOfRange`] — a value does not fit its packet field (naming field,
    /// row, column and value).
    pub fn encode_scan(&self, scan: &LidarScan, out: &mut Vec<Vec<u8>>) -> Result<(), OusterError> {
        let start = out.len();
        let result = self.encode_into(scan, out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn encode_into(&self, scan: &LidarScan, out: &mut Vec<Vec<u8>>) -> Result<(), OusterError> {
        let format = &self.format;
        let (height, width) = (format.pixels_per_column, self.columns_per_frame);
        if scan.profile != format.profile {
            return Err(OusterError::ProfileMismatch { scan: scan.profile, expected: format.profile });
        }
        if scan.height != height || scan.width != width {
            return Err(OusterError::ShapeMismatch {
                scan_height: scan.height,
                scan_width: scan.width,
                lut_height: height,
                lut_width: width,
            });
        }
        for (field, actual) in [
            ("timestamp_ns", scan.timestamp_ns.len()),
            ("measurement_id", scan.measurement_id.len()),
            ("status", scan.status.len()),
            ("encoder_count", scan.encoder_count.len()),
        ] {
            if actual != width {
                return Err(OusterError::FieldLength { field, expected: width, actual });
            }
        }
        let mut fields: Vec<(&'static FieldSpec, FieldImage<'_>)> = Vec::with_capacity(SCAN_FIELDS.len());
        for name in SCAN_FIELDS {
            let spec = format.field(name);
            let image = scan.field_storage(name);
            let actual = image.map_or(0, |image| image.len());
            let expected = if spec.is_some() { height * width } else { 0 };
            if actual != expected {
                return Err(OusterError::FieldLength { field: name, expected, actual });
            }
            if let (Some(spec), Some(image)) = (spec, image) {
                fields.push((spec, image));
            }
        }
        let per_packet = format.columns_per_packet;
        if per_packet == 0 || !width.is_multiple_of(per_packet) {
            return Err(OusterError::PartialPacket {
                columns_per_frame: width,
                columns_per_packet: per_packet,
            });
        }
        let legacy = format.profile == UdpProfileLidar::Legacy;
        let init_id = u64::from(scan.init_id);
        let init_id_max = if legacy { 0 } else { INIT_ID_MAX };
        if init_id > init_id_max {
            return Err(OusterError::ValueOutOfRange {
                field: "init_id",
                row: None,
                column: None,
                value: init_id,
                max: init_id_max,
                step: 1,
            });
        }

        let groups = width / per_packet;
        let first_group = self.column_window.0 / per_packet;
        let mut packet = Vec::new();
        for offset in 0..groups {
            let group = (first_group + offset) % groups;
            // Every group is encoded (so that every value is checked); only those with a valid
            // column are written.
            packet.clear();
            packet.reserve(format.packet_bytes());
            if !legacy {
                packet.extend(1_u16.to_le_bytes());
                packet.extend(scan.frame_id.to_le_bytes());
                packet.extend_from_slice(init_id.to_le_bytes().get(..3).unwrap_or_default());
                packet.extend_from_slice(self.prod_sn.to_le_bytes().get(..5).unwrap_or_default());
                packet.resize(format.packet_header_bytes, 0);
            }
            let mut any_valid = false;
            for col in group * per_packet..(group + 1) * per_packet {
                any_valid |= self.encode_column(scan, &fields, col, &mut packet)?;
            }
            packet.resize(format.packet_bytes(), 0); // Packet footer (non-LEGACY): zero.
            if any_valid {
                out.push(std::mem::take(&mut packet));
            }
        }
        Ok(())
    }

    /// Appends column `col` (header, pixels, LEGACY footer) to `packet`; returns whether the
    /// column is valid.
    fn encode_column(
        &self,
        scan: &LidarScan,
        fields: &[(&'static FieldSpec, FieldImage<'_>)],
        col: usize,
        packet: &mut Vec<u8>,
    ) -> Result<bool, OusterError> {
        let format = &self.format;
        let legacy = format.profile == UdpProfileLidar::Legacy;
        let status = scan.status.get(col).copied().unwrap_or(0);
        let valid = if legacy { status == u32::MAX } else { status & 1 == 1 };
        let timestamp_ns = scan.timestamp_ns.get(col).copied().unwrap_or(0);
        let measurement_id = scan.measurement_id.get(col).copied().unwrap_or(0);
        let encoder_count = scan.encoder_count.get(col).copied().unwrap_or(0);
        let column_id =
            u16::try_from(col).ok().filter(|&id| id == measurement_id || (!valid && measurement_id == 0));
        let Some(column_id) = column_id else {
            return Err(OusterError::MeasurementIdMismatch { column: col, measurement_id });
        };
        let not_empty = |field: &'static str, row: Option<usize>, value: u64| {
            OusterError::InvalidColumnNotEmpty { column: col, status, field, row, value }
        };
        if !valid {
            for (field, value) in [
                ("status", u64::from(status)),
                ("timestamp_ns", timestamp_ns),
                ("encoder_count", u64::from(encoder_count)),
            ] {
                if value != 0 {
                    return Err(not_empty(field, None, value));
                }
            }
        }
        let out_of_range = |field: &'static str, value: u64, max: u64| OusterError::ValueOutOfRange {
            field,
            row: None,
            column: Some(col),
            value,
            max,
            step: 1,
        };
        packet.extend(timestamp_ns.to_le_bytes());
        packet.extend(column_id.to_le_bytes());
        if legacy {
            packet.extend(scan.frame_id.to_le_bytes());
            packet.extend(encoder_count.to_le_bytes());
        } else {
            let status = u16::try_from(status)
                .map_err(|_| out_of_range("status", u64::from(status), u64::from(u16::MAX)))?;
            if encoder_count != 0 {
                return Err(out_of_range("encoder_count", u64::from(encoder_count), 0));
            }
            packet.extend(status.to_le_bytes());
        }
        let mut pixel = [0_u8; 16];
        let pixel = pixel.get_mut(..format.pixel_bytes).unwrap_or_default();
        for row in 0..format.pixels_per_column {
            pixel.fill(0);
            let index = row * self.columns_per_frame + col;
            for (spec, image) in fields {
                let value = image.value(index).unwrap_or(0);
                if !valid && value != 0 {
                    return Err(not_empty(spec.name, Some(row), value));
                }
                if spec.write(pixel, value).is_none() {
                    return Err(OusterError::ValueOutOfRange {
                        field: spec.name,
                        row: Some(row),
                        column: Some(col),
                        value,
                        max: spec.max_value(),
                        step: spec.step(),
                    });
                }
            }
            packet.extend_from_slice(pixel);
        }
        if legacy {
            packet.extend(status.to_le_bytes());
        }
        Ok(valid)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::drivers::ouster::OusterScanBatcher;

    const WIDTH: usize = 64;
    const HEIGHT: usize = 4;
    const PER_PACKET: usize = 8;

    /// A small sensor: 4 beams, 64 columns, 8 columns per packet.
    fn small_sensor(profile: UdpProfileLidar, window: (usize, usize), width: usize) -> OusterMetadata {
        let text = format!(
            r#"{{"prod_sn": "992210000957", "lidar_mode": "{width}x10",
            "data_format": {{"pixels_per_column": {HEIGHT}, "columns_per_packet": {PER_PACKET},
                "columns_per_frame": {width}, "column_window": [{}, {}],
                "pixel_shift_by_row": [0, 0, 0, 0], "udp_profile_lidar": "{profile}"}},
            "beam_altitude_angles": [3, 1, -1, -3], "beam_azimuth_angles": [0, 0, 0, 0],
            "lidar_to_sensor_transform": [1,0,0,0, 0,1,0,0, 0,0,1,0, 0,0,0,1]}}"#,
            window.0, window.1
        );
        OusterMetadata::parse(&text, Path::new("synthetic.json")).unwrap()
    }

    fn decode(metadata: &OusterMetadata, packets: &[Vec<u8>]) -> Vec<LidarScan> {
        let mut batcher = OusterScanBatcher::new(metadata);
        let mut scans = Vec::new();
        for packet in packets {
            batcher.push(packet, &mut scans).unwrap();
        }
        batcher.flush_frames(&mut scans);
        scans
    }

    /// Values cycling through the field's extremes: 0, max, one step, max − step, and a
    /// pseudo-random multiple of the step.
    fn extreme(spec: &FieldSpec, index: usize) -> u64 {
        let (max, step) = (spec.max_value(), spec.step());
        match index % 5 {
            0 => 0,
            1 => max,
            2 => step,
            3 => max - step,
            _ => ((index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) % (max / step + 1) * step,
        }
    }

    /// The scan the batcher makes of packets carrying extreme values: columns of the window
    /// valid except every 13th (invalid: received, zero) and those of packet `lost` (never
    /// sent); columns outside the window invalid.
    fn extreme_scan(metadata: &OusterMetadata, lost: Option<usize>) -> LidarScan {
        let format = PacketFormat::new(metadata);
        let legacy = metadata.udp_profile_lidar == UdpProfileLidar::Legacy;
        let mut scan = LidarScan::empty(metadata);
        scan.frame_id = 0xffff;
        scan.init_id = if legacy { 0 } else { 0xff_ffff };
        let sent = |col: usize| lost != Some(col / PER_PACKET);
        let valid = |col: usize| metadata.in_window(col) && sent(col) && col % 13 != 5;
        for col in 0..WIDTH {
            if !valid(col) {
                continue;
            }
            scan.timestamp_ns[col] = if col == 63 { u64::MAX } else { 1_000_000_000 + col as u64 * 97_656 };
            scan.measurement_id[col] = col as u16;
            scan.status[col] = match (legacy, col % 2) {
                (true, _) => u32::MAX,
                (false, 0) => 1,
                (false, _) => 0xffff,
            };
            if legacy {
                scan.encoder_count[col] = if col == 1 { u32::MAX } else { col as u32 * 1_382 };
            }
            for row in 0..HEIGHT {
                let at = row * WIDTH + col;
                for name in SCAN_FIELDS {
                    let Some(spec) = format.field(name) else { continue };
                    let value = extreme(spec, at + name.len());
                    match name {
                        "RANGE" => scan.range_mm[at] = value as u32,
                        "RANGE2" => scan.range2_mm[at] = value as u32,
                        "SIGNAL" => scan.signal[at] = value as u16,
                        "SIGNAL2" => scan.signal2[at] = value as u16,
                        "REFLECTIVITY" => scan.reflectivity[at] = value as u8,
                        "REFLECTIVITY2" => scan.reflectivity2[at] = value as u8,
                        "NEAR_IR" => scan.near_ir[at] = value as u16,
                        "FLAGS" => scan.flags[at] = value as u8,
                        _ => scan.flags2[at] = value as u8,
                    }
                }
            }
        }
        // What the batcher counts: packets with a valid column (the others are not written);
        // their window columns as received; their columns without a valid status as invalid.
        let packets: Vec<usize> = (0..WIDTH / PER_PACKET)
            .filter(|&packet| (packet * PER_PACKET..(packet + 1) * PER_PACKET).any(valid))
            .collect();
        let columns = || packets.iter().flat_map(|&packet| packet * PER_PACKET..(packet + 1) * PER_PACKET);
        scan.packets = packets.len();
        scan.columns_received = columns().filter(|&col| metadata.in_window(col)).count();
        scan.invalid_columns = columns().filter(|&col| !valid(col)).count();
        scan
    }

    #[test]
    fn every_profile_round_trips_at_its_extremes() {
        for profile in UdpProfileLidar::ALL {
            for (window, lost) in [((0, WIDTH - 1), None), ((52, 11), Some(7))] {
                let metadata = small_sensor(profile, window, WIDTH);
                let scan = extreme_scan(&metadata, lost);
                let encoder = OusterPacketEncoder::new(&metadata);
                let mut packets = Vec::new();
                encoder.encode_scan(&scan, &mut packets).unwrap();
                let case = format!("{profile} window {window:?}");
                assert!(
                    packets.iter().all(|packet| packet.len() == encoder.format().packet_bytes()),
                    "{case}"
                );
                let first_ids: Vec<u16> = packets
                    .iter()
                    .map(|packet| encoder.format().column(packet, 0).unwrap().measurement_id())
                    .collect();
                if lost.is_none() {
                    assert_eq!(first_ids, [0, 8, 16, 24, 32, 40, 48, 56], "{case}");
                    assert!(scan.is_complete());
                } else {
                    // Window 52..=11 wraps: packets 48.., (56.. lost), 0.., 8.., in sending order.
                    assert_eq!(first_ids, [48, 0, 8], "{case}");
                    assert_eq!((scan.columns_received, scan.invalid_columns), (16, 9), "{case}");
                }
                if profile != UdpProfileLidar::Legacy {
                    let header = encoder.format().header(&packets[0]).unwrap();
                    assert_eq!(
                        (header.packet_type, header.frame_id, header.init_id, header.prod_sn),
                        (1, 0xffff, 0xff_ffff, 992_210_000_957),
                        "{case}"
                    );
                }
                let decoded = decode(&metadata, &packets);
                assert_eq!(decoded.len(), 1, "{case}");
                assert_eq!(decoded[0], scan, "{case}");
                // Encoding the decoded scan gives the same bytes.
                let mut again = Vec::new();
                encoder.encode_scan(&decoded[0], &mut again).unwrap();
                assert_eq!(again, packets, "{case}");
            }
        }
    }

    #[test]
    fn values_that_do_not_fit_are_errors_naming_the_pixel() {
        let sentinel = vec![vec![7_u8]];
        let cases: [(UdpProfileLidar, &str, u64, u64, u64); 6] = [
            (UdpProfileLidar::Rng19Rfl8Sig16Nir16, "RANGE", 1 << 19, (1 << 19) - 1, 1),
            (UdpProfileLidar::Rng19Rfl8Sig16Nir16, "FLAGS", 32, 31, 1),
            (UdpProfileLidar::Legacy, "FLAGS", 16, 15, 1),
            (UdpProfileLidar::Rng19Rfl8Sig16Nir16Dual, "RANGE2", 1 << 19, (1 << 19) - 1, 1),
            (UdpProfileLidar::Rng15Rfl8Nir8, "RANGE", 1001, 0x7fff << 3, 8),
            (UdpProfileLidar::Rng15Rfl8Nir8, "NEAR_IR", 4096, 0xff << 4, 16),
        ];
        for (profile, field, value, max, step) in cases {
            let metadata = small_sensor(profile, (0, WIDTH - 1), WIDTH);
            let mut scan = extreme_scan(&metadata, None);
            let at = 2 * WIDTH + 7;
            match field {
                "RANGE" => scan.range_mm[at] = value as u32,
                "RANGE2" => scan.range2_mm[at] = value as u32,
                "NEAR_IR" => scan.near_ir[at] = value as u16,
                _ => scan.flags[at] = value as u8,
            }
            let mut out = sentinel.clone();
            let error = OusterPacketEncoder::new(&metadata).encode_scan(&scan, &mut out).unwrap_err();
            let OusterError::ValueOutOfRange {
                field: name,
                row,
                column,
                value: got,
                max: got_max,
                step: got_step,
            } = &error
            else {
                panic!("{profile} {field}: {error}");
            };
            assert_eq!(
                (*name, *row, *column, *got, *got_max, *got_step),
                (field, Some(2), Some(7), value, max, step),
                "{profile}"
            );
            assert!(error.to_string().contains(&format!("{field} = {value} at row 2, column 7")), "{error}");
            assert_eq!(out, sentinel, "{profile} {field}: nothing appended");
        }
        // Column-header values a profile cannot carry.
        let metadata = small_sensor(UdpProfileLidar::Rng19Rfl8Sig16Nir16, (0, WIDTH - 1), WIDTH);
        let encoder = OusterPacketEncoder::new(&metadata);
        let mut out = Vec::new();
        let mut scan = extreme_scan(&metadata, None);
        scan.status[9] = 0x1_0001;
        let error = encoder.encode_scan(&scan, &mut out).unwrap_err();
        assert!(
            matches!(error, OusterError::ValueOutOfRange { field: "status", row: None, column: Some(9), .. }),
            "{error}"
        );
        let mut scan = extreme_scan(&metadata, None);
        scan.encoder_count[3] = 5;
        let error = encoder.encode_scan(&scan, &mut out).unwrap_err();
        assert!(
            matches!(error, OusterError::ValueOutOfRange { field: "encoder_count", max: 0, .. }),
            "{error}"
        );
        let mut scan = extreme_scan(&metadata, None);
        scan.init_id = 1 << 24;
        let error = encoder.encode_scan(&scan, &mut out).unwrap_err();
        assert!(
            matches!(error, OusterError::ValueOutOfRange { field: "init_id", column: None, .. }),
            "{error}"
        );
        assert!(error.to_string().contains("the packet header"), "{error}");
        let legacy = full_window(UdpProfileLidar::Legacy);
        let mut scan = extreme_scan(&legacy, None);
        scan.init_id = 1;
        let error = OusterPacketEncoder::new(&legacy).encode_scan(&scan, &mut out).unwrap_err();
        assert!(matches!(error, OusterError::ValueOutOfRange { field: "init_id", max: 0, .. }), "{error}");
        assert!(out.is_empty());
    }

    #[test]
    fn nothing_is_dropped_silently() {
        let metadata = small_sensor(UdpProfileLidar::Rng19Rfl8Sig16Nir16, (52, 11), WIDTH);
        let encoder = OusterPacketEncoder::new(&metadata);
        let mut out = Vec::new();
        // An invalid column (status 0) must be empty: the decoder would drop its values.
        let mut scan = extreme_scan(&metadata, Some(7));
        scan.range_mm[3 * WIDTH + 60] = 1234;
        let error = encoder.encode_scan(&scan, &mut out).unwrap_err();
        assert!(
            matches!(
                error,
                OusterError::InvalidColumnNotEmpty {
                    column: 60,
                    status: 0,
                    field: "RANGE",
                    row: Some(3),
                    value: 1234
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("RANGE is 1234 in row 3"), "{error}");
        let mut scan = extreme_scan(&metadata, Some(7));
        scan.timestamp_ns[5] = 1; // column 5 is flagged invalid (every 13th)
        let error = encoder.encode_scan(&scan, &mut out).unwrap_err();
        assert!(
            matches!(error, OusterError::InvalidColumnNotEmpty { column: 5, field: "timestamp_ns", .. }),
            "{error}"
        );
        let mut scan = extreme_scan(&metadata, Some(7));
        scan.status[5] = 2; // not valid (bit 0 clear) but not empty either
        let error = encoder.encode_scan(&scan, &mut out).unwrap_err();
        assert!(
            matches!(error, OusterError::InvalidColumnNotEmpty { field: "status", value: 2, .. }),
            "{error}"
        );
        assert!(out.is_empty());

        // A valid column outside the window (the decoder keeps one) is written and comes back.
        let mut scan = extreme_scan(&metadata, Some(7));
        scan.timestamp_ns[30] = 42;
        scan.measurement_id[30] = 30;
        scan.status[30] = 1;
        scan.range_mm[30] = 4321;
        scan.packets += 1;
        scan.invalid_columns += PER_PACKET - 1;
        encoder.encode_scan(&scan, &mut out).unwrap();
        assert_eq!(out.len(), 4);
        assert_eq!(decode(&metadata, &out), [scan]);
    }

    fn full_window(profile: UdpProfileLidar) -> OusterMetadata {
        small_sensor(profile, (0, WIDTH - 1), WIDTH)
    }

    #[test]
    fn scans_that_do_not_match_the_metadata_are_errors() {
        let metadata = full_window(UdpProfileLidar::Rng19Rfl8Sig16Nir16);
        let encoder = OusterPacketEncoder::new(&metadata);
        let mut out = Vec::new();

        let other = small_sensor(UdpProfileLidar::Rng19Rfl8Sig16Nir16, (0, 127), 128);
        let error = encoder.encode_scan(&extreme_scan(&other, None), &mut out).unwrap_err();
        assert!(
            matches!(
                error,
                OusterError::ShapeMismatch { scan_height: 4, scan_width: 128, lut_height: 4, lut_width: 64 }
            ),
            "{error}"
        );
        let dual = full_window(UdpProfileLidar::Rng19Rfl8Sig16Nir16Dual);
        let error = encoder.encode_scan(&extreme_scan(&dual, None), &mut out).unwrap_err();
        assert!(matches!(error, OusterError::ProfileMismatch { .. }), "{error}");

        let mut scan = extreme_scan(&metadata, None);
        scan.signal.clear();
        let error = encoder.encode_scan(&scan, &mut out).unwrap_err();
        assert!(
            matches!(error, OusterError::FieldLength { field: "SIGNAL", expected: 256, actual: 0 }),
            "{error}"
        );
        let mut scan = extreme_scan(&metadata, None);
        scan.range2_mm = vec![0; 256];
        let error = encoder.encode_scan(&scan, &mut out).unwrap_err();
        assert!(matches!(error, OusterError::FieldLength { field: "RANGE2", expected: 0, .. }), "{error}");
        let mut scan = extreme_scan(&metadata, None);
        scan.status.pop();
        let error = encoder.encode_scan(&scan, &mut out).unwrap_err();
        assert!(matches!(error, OusterError::FieldLength { field: "status", expected: 64, .. }), "{error}");

        let mut scan = extreme_scan(&metadata, None);
        scan.measurement_id[10] = 11;
        let error = encoder.encode_scan(&scan, &mut out).unwrap_err();
        assert!(
            matches!(error, OusterError::MeasurementIdMismatch { column: 10, measurement_id: 11 }),
            "{error}"
        );

        let uneven = small_sensor(UdpProfileLidar::Rng19Rfl8Sig16Nir16, (0, 59), 60);
        let error =
            OusterPacketEncoder::new(&uneven).encode_scan(&LidarScan::empty(&uneven), &mut out).unwrap_err();
        assert!(matches!(error, OusterError::PartialPacket { columns_per_frame: 60, .. }), "{error}");
        assert!(out.is_empty());

        // A serial number that is no integer (or too large for 40 bits) is written as 0.
        let mut named = metadata.clone();
        named.prod_sn = "SN-1".to_owned();
        assert_eq!(OusterPacketEncoder::new(&named).prod_sn(), 0);
        named.prod_sn = (1_u64 << 40).to_string();
        assert_eq!(OusterPacketEncoder::new(&named).prod_sn(), 0);
        assert_eq!(encoder.prod_sn(), 992_210_000_957);
    }
}
