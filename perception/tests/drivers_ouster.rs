//! Ouster golden test on the vendor SDK's own test capture (`shared/data/SOURCES.md` §7):
//! `OS-2-128-U1_v2.3.0_1024x10.pcap` (64 lidar packets to UDP 7502, 10 IMU packets to 7503)
//! with its metadata. Every field the SDK digests (`..._digest.json`: the packet stream's
//! column headers and pixel fields, and the one frame's headers and images) must reproduce
//! the SDK's MD5 exactly. XYZ is checked against the user manual's formula, computed here
//! independently of the decoder's lookup table.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use std::path::{Path, PathBuf};

use pitsense_perception::drivers::RotationAssembler;
use pitsense_perception::drivers::inspect::{InspectOptions, inspect_ouster_pcap};
use pitsense_perception::drivers::ouster::{
    LidarScan, OusterError, OusterMetadata, OusterPacketEncoder, OusterScanBatcher, PacketDigest,
    StreamDigest, UdpProfileLidar, XyzLut, destagger, scan_digest,
};
use pitsense_perception::drivers::pcap::read_udp_datagrams;
use pitsense_types::nalgebra::Matrix4;

const CAPTURE: &str = "lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.pcap";
const METADATA: &str = "lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.json";
const DIGEST: &str = "lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10_digest.json";

fn metadata() -> OusterMetadata {
    OusterMetadata::read(&common::data_file(METADATA)).unwrap()
}

fn lidar_packets() -> Vec<Vec<u8>> {
    let (datagrams, stats) = read_udp_datagrams(&common::data_file(CAPTURE), Some(&[7502])).unwrap();
    assert!(!stats.truncated);
    assert_eq!(stats.filtered_out, 10, "10 IMU packets go to 7503");
    datagrams.into_iter().map(|datagram| datagram.payload).collect()
}

fn decode(metadata: &OusterMetadata, packets: &[Vec<u8>]) -> (Vec<LidarScan>, OusterScanBatcher) {
    let mut batcher = OusterScanBatcher::new(metadata);
    let mut scans = Vec::new();
    for packet in packets {
        batcher.push(packet, &mut scans).unwrap();
    }
    batcher.flush(&mut scans);
    (scans, batcher)
}

#[test]
fn metadata_of_the_capture() {
    let meta = metadata();
    assert_eq!(meta.prod_line, "OS-2-128");
    assert_eq!(meta.udp_profile_lidar, UdpProfileLidar::Rng19Rfl8Sig16Nir16);
    assert_eq!((meta.pixels_per_column, meta.columns_per_frame, meta.columns_per_packet), (128, 1024, 16));
    assert_eq!(meta.column_window, (0, 1023));
    assert_eq!(meta.udp_port_lidar, Some(7502));
    // No beam_to_lidar_transform in this (flat, v2.3) file: it comes from the beam offset.
    assert_eq!(meta.beam_to_lidar_transform[(0, 3)], 13.762);
    // 32 B header + 16 × (12 B column header + 128 × 12 B pixels) + 32 B footer.
    let format = OusterScanBatcher::new(&meta).format().clone();
    assert_eq!(format.packet_bytes(), 32 + 16 * (12 + 128 * 12) + 32);
}

#[test]
fn decoded_fields_reproduce_the_vendor_sdk_digest() {
    let meta = metadata();
    let packets = lidar_packets();
    assert_eq!(packets.len(), 64);

    let (scans, batcher) = decode(&meta, &packets);
    assert_eq!(scans.len(), 1);
    let scan = &scans[0];
    assert_eq!(scan.frame_id, 1259);
    assert!(scan.is_complete());
    assert_eq!(scan.packets, 64);
    let counters = batcher.counters();
    assert_eq!((counters.packets, counters.lost_packets, counters.duplicate_packets), (64, 0, 0));
    assert_eq!((counters.late_packets, counters.malformed_packets, counters.frames), (0, 0, 1));

    let mut packet_digest = PacketDigest::new(batcher.format());
    for packet in &packets {
        assert!(packet_digest.add_packet(packet));
    }
    let ours = StreamDigest { packet_hash: packet_digest.finish(), scans: vec![scan_digest(scan)] };
    let expected =
        StreamDigest::parse_json(&std::fs::read_to_string(common::data_file(DIGEST)).unwrap()).unwrap();

    // Every key of the vendor file, ENCODER_COUNT included, must match (13 packet keys, 9
    // frame keys); the comparison prints each mismatch.
    assert_eq!(expected.packet_hash.len(), 13);
    assert_eq!(expected.scans.len(), 1);
    assert_eq!(expected.scans[0].len(), 9);
    let differences = ours.differences(&expected);
    assert!(differences.is_empty(), "digest mismatches (entry, key, expected, ours): {differences:#?}");
    // And explicitly, key by key, so the test names what it checked.
    for (key, value) in &expected.packet_hash {
        let our = ours.packet_hash.iter().find(|(ours_key, _)| ours_key == key).map(|(_, value)| value);
        assert_eq!(our, Some(value), "packet_hash {key}");
    }
    for (key, value) in &expected.scans[0] {
        let our = ours.scans[0].iter().find(|(ours_key, _)| ours_key == key).map(|(_, value)| value);
        assert_eq!(our, Some(value), "scans[0] {key}");
    }
    // Our digest has no key the vendor file lacks (same form).
    assert_eq!(ours.packet_hash.len(), expected.packet_hash.len());
    assert_eq!(ours.scans[0].len(), expected.scans[0].len());
}

#[test]
fn the_image_is_staggered_and_row_major() {
    let meta = metadata();
    let (scans, _) = decode(&meta, &lidar_packets());
    let scan = &scans[0];
    assert_eq!(scan.measurement_id, (0..1024).collect::<Vec<u16>>());
    assert!(scan.status.iter().all(|&status| status == 1));
    assert!(scan.timestamp_ns.windows(2).all(|pair| pair[0] < pair[1]));
    // Column timestamps step by 1/(1024 × 10 Hz) ≈ 97.7 µs.
    let step_ns = (scan.timestamp_ns[1023] - scan.timestamp_ns[0]) as f64 / 1023.0;
    assert!((step_ns - 97_656.25).abs() < 500.0, "column period {step_ns} ns");
    assert_eq!(scan.stamp_ns(), scan.timestamp_ns[0]);
    // Destaggering moves row r right by pixel_shift_by_row[r] (12, 8, 4, 0, ...).
    let destaggered = destagger(&scan.range_mm, scan.width, &meta.pixel_shift_by_row).unwrap();
    assert_eq!(destaggered[12], scan.range_mm[0]);
    assert_eq!(destaggered[1024 + 8], scan.range_mm[1024]);
    assert_eq!(destaggered[3 * 1024], scan.range_mm[3 * 1024]);
    assert!(scan.returns() > 50_000, "{} returns", scan.returns());
}

#[test]
fn xyz_follows_the_manual_formula() {
    let meta = metadata();
    let (scans, _) = decode(&meta, &lidar_packets());
    let scan = &scans[0];
    let lut = XyzLut::new(&meta);

    // Manual, "Coordinate Frames and XYZ Calculation", for pixel (row, col) with range r mm:
    //   θ_enc = 2π (1 − col / 1024), θ_az = −2π azimuth[row] / 360, φ = 2π altitude[row] / 360,
    //   n = 13.762 mm (lidar_origin_to_beam_origin_mm),
    //   x_l = (r − n) cos(θ_enc + θ_az) cos φ + n cos θ_enc
    //   y_l = (r − n) sin(θ_enc + θ_az) cos φ + n sin θ_enc
    //   z_l = (r − n) sin φ
    // then lidar_to_sensor = [[-1,0,0,0],[0,-1,0,0],[0,0,1,78.296],[0,0,0,1]] (mm):
    //   x_s = −x_l, y_s = −y_l, z_s = z_l + 78.296.
    let manual = |row: usize, col: usize, range_mm: f64| {
        let encoder = 2.0 * std::f64::consts::PI * (1.0 - col as f64 / 1024.0);
        let azimuth = -2.0 * std::f64::consts::PI * meta.beam_azimuth_angles_deg[row] / 360.0;
        let altitude = 2.0 * std::f64::consts::PI * meta.beam_altitude_angles_deg[row] / 360.0;
        let n = 13.762;
        let x = (range_mm - n) * (encoder + azimuth).cos() * altitude.cos() + n * encoder.cos();
        let y = (range_mm - n) * (encoder + azimuth).sin() * altitude.cos() + n * encoder.sin();
        let z = (range_mm - n) * altitude.sin();
        [-x / 1000.0, -y / 1000.0, (z + 78.296) / 1000.0]
    };
    let mut checked = 0;
    for row in (0..128).step_by(9) {
        for col in (0..1024).step_by(37) {
            let range = scan.range_mm[row * 1024 + col];
            if range == 0 {
                assert!(lut.point_m(row, col, range).is_none());
                continue;
            }
            let ours = lut.point_m(row, col, range).unwrap();
            let reference = manual(row, col, f64::from(range));
            for axis in 0..3 {
                assert!(
                    (ours[axis] - reference[axis]).abs() < 1e-9,
                    "({row},{col}) axis {axis}: {ours:?} vs {reference:?}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked} pixels checked");

    // Hand check of one pixel: row 0 (altitude 10.76°, azimuth 2.07°), column 0, r = 1000 mm:
    //   θ_enc = 2π, θ_az = −0.0361283 rad, φ = 0.1877974 rad, r − n = 986.238 mm
    //   x_l = 986.238 × cos(−2.07°) × cos(10.76°) + 13.762 × cos 2π
    //       = 986.238 × 0.9993474 × 0.9824178 + 13.762 = 982.0275 mm
    //   y_l = 986.238 × sin(−2.07°) × 0.9824178 = −34.9970 mm
    //   z_l = 986.238 × sin(10.76°) = 986.238 × 0.1866955 = 184.1262 mm
    //   sensor: (−0.9820275, 0.0349970, (184.1262 + 78.296) / 1000 = 0.2624222) m.
    let [x, y, z] = lut.point_m(0, 0, 1000).unwrap();
    assert!(
        (x + 0.982_027_5).abs() < 1e-6 && (y - 0.034_997_0).abs() < 1e-6 && (z - 0.262_422_2).abs() < 1e-6,
        "{x} {y} {z}"
    );

    // In the lidar frame each point lies r − n from its beam origin (n along the encoder angle).
    let lidar_lut = XyzLut::with_transform(&meta, &Matrix4::identity());
    for (index, &range) in scan.range_mm.iter().enumerate().step_by(101) {
        let (row, col) = (index / 1024, index % 1024);
        let Some([x, y, z]) = lidar_lut.point_m(row, col, range) else { continue };
        let encoder = 2.0 * std::f64::consts::PI * (1.0 - col as f64 / 1024.0);
        let origin = [0.013_762 * encoder.cos(), 0.013_762 * encoder.sin(), 0.0];
        let distance = ((x - origin[0]).powi(2) + (y - origin[1]).powi(2) + (z - origin[2]).powi(2)).sqrt();
        assert!((distance - (f64::from(range) - 13.762) / 1000.0).abs() < 1e-9);
    }

    let cloud = lut.point_cloud(scan, 3, 42).unwrap();
    assert_eq!(cloud.points.len(), scan.returns());
    assert_eq!((cloud.header.stamp_ns, cloud.header.seq), (scan.stamp_ns(), 42));
    assert!(cloud.points.iter().all(|point| point.is_finite() && (0.0..=1.0).contains(&point.intensity)));
    let image = lut.xyz_image(&scan.range_mm).unwrap();
    assert_eq!(image.len(), 128 * 1024);
}

#[test]
fn rays_give_the_points_of_the_table() {
    let meta = metadata();
    for lut in [XyzLut::new(&meta), XyzLut::with_transform(&meta, &Matrix4::identity())] {
        for (row, col) in [(0, 0), (0, 1023), (17, 300), (64, 512), (127, 1023), (127, 0)] {
            let (origin, direction) = lut.ray_m(row, col).unwrap();
            let norm = direction.iter().map(|axis| axis * axis).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-12, "({row},{col}) |direction| = {norm}");
            for range_mm in [1_u32, 1000, 13_762, 524_287] {
                let point = lut.point_m(row, col, range_mm).unwrap();
                let range_m = f64::from(range_mm) / 1000.0;
                for axis in 0..3 {
                    let along_ray = origin[axis] + range_m * direction[axis];
                    assert!(
                        (point[axis] - along_ray).abs() < 1e-9,
                        "({row},{col}) {range_mm} mm axis {axis}: {point:?} vs {along_ray}"
                    );
                }
            }
        }
        assert_eq!(lut.ray_m(128, 0), None);
        assert_eq!(lut.ray_m(0, 1024), None);
    }
}

/// The UDP payloads of the capture are what the encoder writes for the decoded frame, except
/// for bits a [`LidarScan`] does not carry. Masked, and why:
/// - the 32-byte packet footer: reserved in the v2.3 manual; this capture (from the vendor SDK's
///   tests) carries `0x0000c0de` and `0xdeadbeef` in its last 8 bytes, the encoder writes zeros;
/// - the reserved bits of each 12-byte pixel — everything outside RANGE (bits 0–18), FLAGS
///   (19–23), REFLECTIVITY (32–39), SIGNAL (48–63) and NEAR_IR (64–79): in 3021 of the
///   131 072 pixels the capture sets bit 28 (reserved byte 3 of the first word), the encoder
///   writes zeros.
///
/// The packet header is compared whole: its alert flags, countdowns, shutdown / shot-limiting
/// bits and reserved bytes (12–31) are zero in this capture, as the encoder writes them. Column
/// headers (timestamp, measurement id, status) are compared whole.
#[test]
fn encoding_the_decoded_frame_gives_back_the_capture() {
    let meta = metadata();
    let packets = lidar_packets();
    let (scans, _) = decode(&meta, &packets);
    let encoder = OusterPacketEncoder::new(&meta);
    let format = encoder.format().clone();
    assert_eq!(encoder.prod_sn(), 992_210_000_957);

    // The pixel bits the profile defines, from the same field table the decoder reads.
    let mut pixel_mask = vec![0_u8; format.pixel_bytes];
    for name in ["RANGE", "FLAGS", "REFLECTIVITY", "SIGNAL", "NEAR_IR"] {
        let field = format.field(name).unwrap();
        field.write(&mut pixel_mask, field.max_value()).unwrap();
    }
    assert_eq!(pixel_mask, [0xff, 0xff, 0xff, 0x00, 0xff, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00]);
    let mut packet_mask = vec![0xff_u8; format.packet_bytes()];
    for column in 0..format.columns_per_packet {
        let column_start = format.packet_header_bytes + column * format.column_bytes();
        for row in 0..format.pixels_per_column {
            let start = column_start + format.column_header_bytes + row * format.pixel_bytes;
            packet_mask[start..start + format.pixel_bytes].copy_from_slice(&pixel_mask);
        }
    }
    let footer = format.packet_bytes() - format.packet_footer_bytes;
    packet_mask[footer..].fill(0);

    let mut complete = 0;
    let mut reserved_pixels = 0;
    for scan in scans.iter().filter(|scan| scan.is_complete()) {
        complete += 1;
        let mut encoded = Vec::new();
        encoder.encode_scan(scan, &mut encoded).unwrap();
        let original: Vec<&Vec<u8>> = packets
            .iter()
            .filter(|packet| format.header(packet).is_ok_and(|header| header.frame_id == scan.frame_id))
            .collect();
        assert_eq!(encoded.len(), original.len());
        for (index, (ours, theirs)) in encoded.iter().zip(&original).enumerate() {
            assert_eq!(ours.len(), theirs.len());
            for (at, ((&our, &their), &mask)) in ours.iter().zip(theirs.iter()).zip(&packet_mask).enumerate()
            {
                assert_eq!(our & mask, their & mask, "packet {index} byte {at}");
                assert_eq!(our & !mask, 0, "packet {index} byte {at}: undefined bits are written zero");
            }
            assert!(theirs[footer..].iter().any(|&byte| byte != 0), "the capture's footer is not zero");
            reserved_pixels += (0..format.columns_per_packet * format.pixels_per_column)
                .filter(|pixel| {
                    let start = format.packet_header_bytes
                        + (pixel / format.pixels_per_column) * format.column_bytes()
                        + format.column_header_bytes
                        + (pixel % format.pixels_per_column) * format.pixel_bytes;
                    theirs[start..start + format.pixel_bytes]
                        .iter()
                        .zip(&pixel_mask)
                        .any(|(b, m)| b & !m != 0)
                })
                .count();
        }
        // And the encoded packets decode to the same frame, counters and all.
        let (decoded, batcher) = decode(&meta, &encoded);
        assert_eq!(decoded.len(), 1);
        assert_eq!(&decoded[0], scan);
        let counters = batcher.counters();
        assert_eq!((counters.packets, counters.lost_packets, counters.malformed_packets), (64, 0, 0));
    }
    assert_eq!(complete, 1);
    assert_eq!(reserved_pixels, 3021, "pixels whose reserved bits the capture sets");
}

#[test]
fn a_scan_is_stamped_at_its_first_and_at_its_last_column() {
    let metadata = metadata();
    let (scans, _) = decode(&metadata, &lidar_packets());
    let scan = scans.iter().find(|scan| scan.is_complete()).expect("a complete frame");
    let first = scan.timestamp_ns[scan.column_window.0];
    let last = scan.timestamp_ns[scan.column_window.1];
    assert_eq!(scan.stamp_ns(), first);
    assert_eq!(scan.end_stamp_ns(), last);
    // 1023 columns later, at about the nominal 97.66 µs per column (the sensor's clock runs
    // 63 µs long over the rotation in this capture).
    assert!((last - first).abs_diff(1023 * 97_656) < 100_000, "{}", last - first);
    // Without its last packet the frame's end is carried forward from the last column that
    // arrived, with the nominal period.
    let mut truncated = scan.clone();
    let per_packet = metadata.columns_per_packet;
    let last_arrived = scan.column_window.1 - per_packet;
    for col in last_arrived + 1..=scan.column_window.1 {
        truncated.timestamp_ns[col] = 0;
    }
    let expected = scan.timestamp_ns[last_arrived] + (per_packet as u64 * 97_656_250 + 500) / 1000;
    assert_eq!(truncated.end_stamp_ns(), expected);
}

#[test]
fn replay_is_deterministic() {
    let meta = metadata();
    let packets = lidar_packets();
    let (first, _) = decode(&meta, &packets);
    let (second, _) = decode(&meta, &packets);
    assert_eq!(first, second);
    let lut = XyzLut::new(&meta);
    assert_eq!(lut.point_cloud(&first[0], 0, 0).unwrap(), lut.point_cloud(&second[0], 0, 0).unwrap());
}

#[test]
fn lost_duplicate_late_and_malformed_packets_are_counted() {
    let meta = metadata();
    let packets = lidar_packets();
    // The same packets two frames later: frame id + 2, and every column timestamp (16 columns
    // of 12 + 128 × 12 bytes after the 32-byte header) two rotations (2 × 100 ms) later, as the
    // sensor clock would have them.
    let next_frame = |packet: &Vec<u8>, frame_id: u16| {
        let mut packet = packet.clone();
        packet[2..4].copy_from_slice(&frame_id.to_le_bytes());
        for column in 0..16 {
            let at = 32 + column * (12 + 128 * 12);
            let stamp_ns = u64::from_le_bytes(packet[at..at + 8].try_into().unwrap()) + 200_000_000;
            packet[at..at + 8].copy_from_slice(&stamp_ns.to_le_bytes());
        }
        packet
    };
    let mut batcher = OusterScanBatcher::new(&meta);
    let mut scans = Vec::new();
    // Frame 1259 without packet 10, packet 3 twice, a short datagram, a packet with a bad
    // measurement id; then frame 1261 (1260 skipped) complete; then a late packet of 1259.
    for (index, packet) in packets.iter().enumerate() {
        if index == 10 {
            continue;
        }
        batcher.push(packet, &mut scans).unwrap();
        if index == 3 {
            batcher.push(packet, &mut scans).unwrap();
        }
    }
    assert!(matches!(batcher.push(&packets[0][..100], &mut scans), Err(OusterError::PacketLength { .. })));
    let mut bad_column = packets[5].clone();
    bad_column[32 + 8..32 + 10].copy_from_slice(&5000_u16.to_le_bytes());
    assert!(matches!(
        batcher.push(&bad_column, &mut scans),
        Err(OusterError::MeasurementIdOutOfRange { .. })
    ));
    assert!(scans.is_empty(), "frame 1259 is still waiting for packet 10");
    for packet in &packets {
        batcher.push(&next_frame(packet, 1261), &mut scans).unwrap();
    }
    batcher.push(&packets[10], &mut scans).unwrap();
    batcher.flush(&mut scans);

    assert_eq!(
        scans.iter().map(|scan| (scan.frame_id, scan.is_complete())).collect::<Vec<_>>(),
        [(1259, false), (1261, true)]
    );
    assert_eq!(scans[0].columns_received, 1024 - 16);
    let counters = batcher.counters();
    // Packet 10 missing from frame 1259 = 1 packet (packets 9 and 11 arrived, so it is a gap,
    // not the head a recording may start without); frame 1260 skipped = 1 frame, 64 packets.
    assert_eq!(counters.lost_frames, 1);
    assert_eq!(counters.lost_packets, 1 + 64);
    assert_eq!(counters.duplicate_packets, 1);
    assert_eq!(counters.late_packets, 1);
    assert_eq!(counters.malformed_packets, 2);
    assert_eq!(counters.packets, 63 + 64);
    assert_eq!((counters.frames, counters.incomplete_frames), (2, 1));
}

#[test]
fn a_sensor_restart_restarts_the_frame_sequence() {
    let meta = metadata();
    let packets = lidar_packets();
    let mut batcher = OusterScanBatcher::new(&meta);
    let mut scans = Vec::new();
    for packet in &packets[..32] {
        batcher.push(packet, &mut scans).unwrap();
    }
    // The sensor restarts (new init_id, bytes 4..7) and counts frames from 0 again.
    for packet in &packets {
        let mut restarted = packet.clone();
        restarted[2..4].copy_from_slice(&0_u16.to_le_bytes());
        restarted[4..7].copy_from_slice(&[1, 2, 3]);
        batcher.push(&restarted, &mut scans).unwrap();
    }
    assert_eq!(
        scans.iter().map(|scan| (scan.frame_id, scan.init_id, scan.is_complete())).collect::<Vec<_>>(),
        [(1259, 5_431_293, false), (0, 0x0003_0201, true)]
    );
    let counters = batcher.counters();
    assert_eq!((counters.reinitialisations, counters.late_packets, counters.lost_frames), (1, 0, 0));
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pitsense-drivers-{}-{name}", std::process::id()))
}

#[test]
fn inspect_report_and_truncated_capture() {
    let capture = common::data_file(CAPTURE);
    let metadata_file = common::data_file(METADATA);
    let report =
        inspect_ouster_pcap(&capture, &metadata_file, &InspectOptions { digest: true, ..Default::default() })
            .unwrap();
    assert_eq!(
        (report.packets.udp, report.packets.lidar, report.packets.imu, report.packets.other),
        (74, 64, 10, 0)
    );
    assert_eq!(report.frames.len(), 1);
    assert_eq!(report.frames[0].frame_id, 1259);
    assert_eq!(report.profile, "RNG19_RFL8_SIG16_NIR16");
    assert!(report.sensor.contains("OS-2-128"), "{}", report.sensor);
    let expected =
        StreamDigest::parse_json(&std::fs::read_to_string(common::data_file(DIGEST)).unwrap()).unwrap();
    assert!(report.digest.as_ref().unwrap().differences(&expected).is_empty());
    let lines = report.digest_lines();
    assert!(lines.contains(&"scans[0] RANGE 33c7da9fdc46569efda75264e95e1693".to_owned()), "{lines:?}");
    assert!(lines.contains(&"packet_hash RANGE 1d0dc85d743a1d7846ff1e398a304fd0".to_owned()));
    let json = report.digest_json().unwrap();
    assert!(StreamDigest::parse_json(&json).unwrap().differences(&expected).is_empty());
    let text = report.to_string();
    assert!(text.contains("frames: 1 (1 complete)") && text.contains("64 lidar"), "{text}");

    // Cut the capture in the middle of the 40th record: the complete records still decode,
    // the truncation is reported, nothing panics.
    let bytes = std::fs::read(&capture).unwrap();
    let truncated = temp_path("truncated.pcap");
    let cut = 24 + 39 * (16 + 24_874) + 1000;
    std::fs::write(&truncated, &bytes[..cut]).unwrap();
    let report = inspect_ouster_pcap(&truncated, &metadata_file, &InspectOptions::default()).unwrap();
    std::fs::remove_file(&truncated).unwrap();
    assert!(report.capture.truncated);
    assert!(report.capture.records < 74);
    assert_eq!(report.frames.len(), 1);
    assert!(!report.frames[0].complete);
    assert!(report.to_string().contains("TRUNCATED"));

    // Not a capture at all: a clear error naming the file.
    let bogus = temp_path("bogus.pcap");
    std::fs::write(&bogus, b"definitely not a pcap file").unwrap();
    let error = inspect_ouster_pcap(&bogus, &metadata_file, &InspectOptions::default()).unwrap_err();
    std::fs::remove_file(&bogus).unwrap();
    assert!(error.to_string().contains("bogus.pcap"), "{error}");
}

#[test]
fn unsupported_profile_is_a_clear_error() {
    let text = std::fs::read_to_string(common::data_file(METADATA)).unwrap();
    let text = text.replace("RNG19_RFL8_SIG16_NIR16", "RNG19_RFL8_SIG16_NIR16_RGB16");
    let error = OusterMetadata::parse(&text, Path::new("rgb.json")).unwrap_err();
    assert!(matches!(error, OusterError::UnsupportedProfile { .. }));
    assert!(error.to_string().contains("RNG19_RFL8_SIG16_NIR16_RGB16"), "{error}");
}
