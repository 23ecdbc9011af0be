//! Velodyne decoding on the shared one-packet VLP-16 capture (`VLI-16-one-packet.pcap`,
//! `shared/data/SOURCES.md` §7), with points checked by hand against the packet bytes, and on
//! synthetic packets for the other models, dual return and rotation assembly.
//!
//! The capture: pcap header 24 B, record header 16 B, Ethernet 14 B, IPv4 20 B
//! (192.168.1.200 → 192.168.1.102), UDP 8 B (2369 → 2368, length 1220): the payload starts at
//! file offset 0x52 and is 1212 bytes — twelve 100-byte blocks (0xFFEE flags at payload
//! offsets 0, 100, ..., 1100), then 12 bytes, whose last six are the standard trailer:
//! timestamp `b8 7b 2e 2b` = 0x2B2E7BB8 = 724 466 616 µs past the hour, return mode 0x37
//! (strongest), product id 0x10 (not a published id, so the model is configured: VLP-16).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use pitsense_perception::drivers::RotationAssembler;
use pitsense_perception::drivers::pcap::read_udp_datagrams;
use pitsense_perception::drivers::velodyne::{
    ReturnKind, ReturnMode, VelodyneCalibration, VelodyneDecoder, VelodyneDecoderConfig, VelodyneError,
    VelodyneModel, VelodynePoint, VelodyneRotationAssembler,
};

const CAPTURE: &str = "lidar_pcap/ouster_sdk_tests/VLI-16-one-packet.pcap";

fn payload() -> Vec<u8> {
    let (datagrams, stats) = read_udp_datagrams(&common::data_file(CAPTURE), None).unwrap();
    assert_eq!((stats.records, stats.udp_datagrams), (1, 1));
    assert_eq!(datagrams[0].destination.port(), 2368);
    datagrams.into_iter().next().unwrap().payload
}

fn vlp16() -> VelodyneDecoder {
    VelodyneDecoder::new(VelodyneDecoderConfig::new(VelodyneModel::Vlp16)).unwrap()
}

/// The point of `block` fired at `time_in_block_us` after the block's first firing.
fn point_at(points: &[VelodynePoint], block: u8, laser: u8, sequence: usize) -> VelodynePoint {
    *points
        .iter()
        .find(|point| {
            let in_block = point.time_offset_us as f64 - 110.592 * f64::from(point.block);
            point.block == block && point.laser_id == laser && (in_block >= 55.296) == (sequence == 1)
        })
        .unwrap_or_else(|| panic!("no point block {block} laser {laser} sequence {sequence}"))
}

/// `actual` (an `f32`) equals the hand value `expected` to the hand value's 7 digits and the
/// `f32` rounding.
fn close(actual: f32, expected: f64, what: &str) {
    let tolerance = 2e-6 + 2.0 * f64::from(f32::EPSILON) * expected.abs();
    assert!((f64::from(actual) - expected).abs() <= tolerance, "{what}: {actual} vs {expected}");
}

#[test]
fn one_packet_checked_by_hand() {
    let payload = payload();
    assert_eq!(payload.len(), 1212);
    let decoder = vlp16();
    let mut points = Vec::new();
    let info = decoder.decode(&payload, &mut points).unwrap();
    assert_eq!(info.timestamp_us, 0x2B2E_7BB8);
    assert_eq!((info.return_mode, info.product_id, info.extra_bytes), (ReturnMode::Strongest, 0x10, 6));
    assert_eq!(
        info.block_azimuths_cdeg,
        [16027, 16099, 16171, 16243, 16315, 16387, 16459, 16531, 16602, 16676, 16749, 16822]
    );

    // Count the non-zero distances straight from the bytes: every one is a point.
    let nonzero = (0..12)
        .flat_map(|block| (0..32).map(move |channel| block * 100 + 4 + channel * 3))
        .filter(|&offset| payload[offset] != 0 || payload[offset + 1] != 0)
        .count();
    assert_eq!(points.len(), nonzero);
    assert_eq!(info.points, nonzero);

    // VLP-16 manual: laser ω table (id 0..15) −15, 1, −13, 3, −11, 5, −9, 7, −7, 9, −5, 11,
    // −3, 13, −1, 15°; channel k of a block is laser k % 16 of firing sequence k / 16, fired
    // at 55.296 µs × sequence + 2.304 µs × laser; azimuth = block azimuth + gap to the next
    // block × that time / 110.592 µs; X = r cos ω sin α, Y = r cos ω cos α, Z = r sin ω;
    // output x = Y, y = −X, z = Z.

    // Point 1: block 0, channel 0. Block 0 azimuth: payload bytes 2–3 `9b 3e` = 16027 →
    // 160.27°; channel 0 at payload offset 4: `7c 00 02` → distance 0x007C = 124 × 2 mm =
    // 0.248 m, reflectivity 2; laser 0 (ω = −15°), sequence 0, time 0 → α = 160.27°.
    // cos ω = 0.9659258, sin ω = −0.2588190, sin α = 0.3375882, cos α = −0.9412939:
    // X = 0.248 × 0.9659258 × 0.3375882 = 0.0808691, Y = 0.248 × 0.9659258 × −0.9412939 =
    // −0.2254866, Z = 0.248 × −0.2588190 = −0.0641871.
    let p = point_at(&points, 0, 0, 0);
    assert_eq!(p.reflectivity, 2);
    close(p.distance_m, 0.248, "distance");
    close(p.azimuth_deg, 160.27, "azimuth");
    close(p.x_m, -0.225_486_6, "x");
    close(p.y_m, -0.080_869_1, "y");
    close(p.z_m, -0.064_187_1, "z");
    close(p.time_offset_us, 0.0, "time");

    // Point 2: block 1 (payload offset 100, flag `ff ee`), azimuth bytes `e3 3e` = 16099; block 2
    // azimuth `2b 3f` = 16171, gap 72. Channel 11 at payload offset 100 + 4 + 33 = 137 (file
    // 0xDB): `d4 01 45` → 0x01D4 = 468 × 2 mm = 0.936 m, reflectivity 0x45 = 69; laser 11
    // (ω = 11°), sequence 0, fired 2.304 × 11 = 25.344 µs into the block → α = (16099 + 72 ×
    // 25.344 / 110.592) / 100 = (16099 + 16.5) / 100 = 161.155°.
    // cos ω = 0.9816272, sin ω = 0.1908090, sin α = 0.3230091, cos α = −0.9463959:
    // X = 0.936 × 0.9816272 × 0.3230091 = 0.2967817, Y = −0.8695514, Z = 0.1785972.
    let p = point_at(&points, 1, 11, 0);
    assert_eq!(p.reflectivity, 69);
    close(p.distance_m, 0.936, "distance");
    close(p.azimuth_deg, 161.155, "azimuth");
    close(p.x_m, -0.869_551_4, "x");
    close(p.y_m, -0.296_781_7, "y");
    close(p.z_m, 0.178_597_2, "z");
    close(p.time_offset_us, 110.592 + 25.344, "time");

    // Point 3: block 1, channel 27 = laser 11 of sequence 1, payload offset 100 + 4 + 81 = 185
    // (file 0x10B): `d2 01 46` → 466 × 2 mm = 0.932 m, reflectivity 0x46 = 70; fired
    // 55.296 + 25.344 = 80.64 µs into the block → α = (16099 + 72 × 80.64 / 110.592) / 100 =
    // (16099 + 52.5) / 100 = 161.515°. sin α = 0.3170564, cos α = −0.9484067:
    // X = 0.932 × 0.9816272 × 0.3170564 = 0.2900674, Y = −0.8676750, Z = 0.932 × 0.1908090 =
    // 0.1778340.
    let p = point_at(&points, 1, 11, 1);
    assert_eq!(p.reflectivity, 70);
    close(p.azimuth_deg, 161.515, "azimuth");
    close(p.x_m, -0.867_675_0, "x");
    close(p.y_m, -0.290_067_4, "y");
    close(p.z_m, 0.177_834_0, "z");

    // Point 4: the last block has no successor, so it reuses the previous gap: block 10
    // azimuth 16749, block 11 azimuth `b6 41` = 16822, gap 73. Channel 31 = laser 15
    // (ω = 15°) of sequence 1 at payload offset 1100 + 4 + 93 = 1197 (file 0x4FF): `df 01 40`
    // → 0x01DF = 479 × 2 mm = 0.958 m, reflectivity 0x40 = 64; fired 55.296 + 2.304 × 15 =
    // 89.856 µs → fraction 0.8125 → α = (16822 + 73 × 0.8125) / 100 = 168.813125°.
    // sin α = 0.1940096, cos α = −0.9809996: X = 0.958 × 0.9659258 × 0.1940096 = 0.1795282,
    // Y = −0.9077748, Z = 0.958 × 0.2588190 = 0.2479486.
    assert_eq!(&payload[1197..1200], &[0xdf, 0x01, 0x40]);
    let p = point_at(&points, 11, 15, 1);
    assert_eq!(p.reflectivity, 64);
    close(p.distance_m, 0.958, "distance");
    close(p.azimuth_deg, 168.813_125, "azimuth");
    close(p.x_m, -0.907_774_8, "x");
    close(p.y_m, -0.179_528_2, "y");
    close(p.z_m, 0.247_948_6, "z");
    close(p.time_offset_us, 11.0 * 110.592 + 89.856, "time");

    assert!(points.iter().all(|point| point.return_kind == ReturnKind::Strongest));
    // The same bytes decode to the same points.
    let mut again = Vec::new();
    decoder.decode(&payload, &mut again).unwrap();
    assert_eq!(points, again);
}

#[test]
fn malformed_packets_are_errors_not_panics() {
    let payload = payload();
    let decoder = vlp16();
    let mut points = Vec::new();
    for length in [0, 1, 99, 100, 1199, 1205] {
        assert!(matches!(
            decoder.decode(&payload[..length], &mut points),
            Err(VelodyneError::PayloadLength { actual }) if actual == length
        ));
    }
    let mut bad_flag = payload.clone();
    bad_flag[300] = 0x00;
    assert!(matches!(decoder.decode(&bad_flag, &mut points), Err(VelodyneError::BlockFlag { block: 3, .. })));
    let mut bad_azimuth = payload.clone();
    // 36000 is a full turn, read as 0 (tests/drivers_regressions.rs, B04); beyond it is corrupt.
    bad_azimuth[502..504].copy_from_slice(&36_001_u16.to_le_bytes());
    assert!(matches!(
        decoder.decode(&bad_azimuth, &mut points),
        Err(VelodyneError::Azimuth { block: 5, raw: 36_001 })
    ));
    let mut bad_mode = payload.clone();
    let mode_at = bad_mode.len() - 2;
    bad_mode[mode_at] = 0x99;
    let error = decoder.decode(&bad_mode, &mut points).unwrap_err();
    assert!(error.to_string().contains("0x99"), "{error}");
    assert!(points.is_empty(), "a rejected packet adds nothing");
}

/// One synthetic data block: flag, raw azimuth, and (channel, raw distance, reflectivity)
/// returns.
type Block = (u16, u16, Vec<(usize, u16, u8)>);

/// A synthetic standard (1206-byte) packet of `blocks`.
fn packet(blocks: &[Block], timestamp_us: u32, mode: u8, product: u8) -> Vec<u8> {
    let mut bytes = vec![0_u8; 1206];
    for (index, (flag, azimuth, returns)) in blocks.iter().enumerate() {
        let base = index * 100;
        bytes[base..base + 2].copy_from_slice(&flag.to_le_bytes());
        bytes[base + 2..base + 4].copy_from_slice(&azimuth.to_le_bytes());
        for &(channel, distance, reflectivity) in returns {
            let at = base + 4 + channel * 3;
            bytes[at..at + 2].copy_from_slice(&distance.to_le_bytes());
            bytes[at + 2] = reflectivity;
        }
    }
    bytes[1200..1204].copy_from_slice(&timestamp_us.to_le_bytes());
    bytes[1204] = mode;
    bytes[1205] = product;
    bytes
}

/// Twelve upper-bank blocks starting at `first_cdeg`, `step_cdeg` apart, each with one return.
fn sweep(first_cdeg: u32, step_cdeg: u32, returns: Vec<(usize, u16, u8)>) -> Vec<Block> {
    (0..12)
        .map(|block| (0xEEFF, ((first_cdeg + block * step_cdeg) % 36_000) as u16, returns.clone()))
        .collect()
}

#[test]
fn vlp32c_azimuth_offsets_and_4mm_unit() {
    // Laser 0 of the VLP-32C: ω = −25°, azimuth offset +1.4° (manual table); distance raw
    // 2500 × 4 mm = 10 m; channel 0 fires at the block's start → α = 0° + 1.4° = 1.4°.
    // Channel 5 (laser 5, ω = 0°, offset −1.4°) fires with channel 4 at 2.304 × 2 = 4.608 µs:
    // α = (0 + 20 × 4.608 / 55.296) / 100 − 1.4 = 0.016667 − 1.4 = −1.383333° → 358.616667°.
    let bytes = packet(&sweep(0, 20, vec![(0, 2500, 10), (5, 2500, 20)]), 0, 0x37, 0x28);
    let decoder = VelodyneDecoder::new(VelodyneDecoderConfig::new(VelodyneModel::Vlp32c)).unwrap();
    let mut points = Vec::new();
    decoder.decode(&bytes, &mut points).unwrap();
    assert_eq!(points.len(), 24);
    let first = points[0];
    let (omega, alpha) = ((-25.0_f64).to_radians(), 1.4_f64.to_radians());
    close(first.distance_m, 10.0, "distance");
    close(first.azimuth_deg, 1.4, "azimuth");
    close(first.x_m, 10.0 * omega.cos() * alpha.cos(), "x");
    close(first.y_m, -10.0 * omega.cos() * alpha.sin(), "y");
    close(first.z_m, 10.0 * omega.sin(), "z");
    let second = points[1];
    assert_eq!(second.laser_id, 5);
    assert!((f64::from(second.azimuth_deg) - 358.616_667).abs() < 1e-4, "{}", second.azimuth_deg);
    close(second.time_offset_us, 4.608, "time");
    // A clockwise azimuth lies to the right: negative y.
    assert!(first.y_m < 0.0 && second.y_m > 0.0);
}

#[test]
fn hdl32e_interpolation_and_hdl64e_banks() {
    // HDL-32E channel 31 fires 31 × 1.152 = 35.712 µs into a 46.08 µs block: with a 16-cdeg
    // gap, α = (9000 + 16 × 35.712 / 46.08) / 100 = 90.124°.
    let bytes = packet(&sweep(9000, 16, vec![(31, 5000, 1)]), 0, 0x37, 0x21);
    let decoder = VelodyneDecoder::new(VelodyneDecoderConfig::new(VelodyneModel::Hdl32e)).unwrap();
    let mut points = Vec::new();
    decoder.decode(&bytes, &mut points).unwrap();
    close(points[0].azimuth_deg, 90.124, "azimuth");
    close(points[0].z_m, 10.0 * 10.67_f64.to_radians().sin(), "z (laser 31 at +10.67°)");
    // At α ≈ 90° the point is to the right: y ≈ −r cos ω.
    assert!(points[0].y_m < -9.0);

    // HDL-64E: 0xDDFF blocks are the lower bank (lasers 32..64); status bytes are not a mode.
    let mut blocks = sweep(0, 0, vec![(2, 1000, 9)]);
    for (index, block) in blocks.iter_mut().enumerate() {
        block.0 = if index % 2 == 0 { 0xEEFF } else { 0xDDFF };
    }
    let bytes = packet(&blocks, 0, 0x55, 0x4b);
    let decoder = VelodyneDecoder::new(VelodyneDecoderConfig::new(VelodyneModel::Hdl64e)).unwrap();
    let mut points = Vec::new();
    decoder.decode(&bytes, &mut points).unwrap();
    let lasers: Vec<u8> = points.iter().map(|point| point.laser_id).collect();
    assert_eq!(lasers, [2, 34, 2, 34, 2, 34, 2, 34, 2, 34, 2, 34]);
    assert!(points.iter().all(|point| point.return_kind == ReturnKind::Unlabelled));
    // 0xDDFF is only valid on the HDL-64E.
    assert!(matches!(
        vlp16().decode(&bytes, &mut Vec::new()),
        Err(VelodyneError::BlockFlag { block: 1, .. })
    ));
}

#[test]
fn dual_return_pairs() {
    // Dual return: blocks 2i (last) and 2i + 1 (strongest) share an azimuth; firings are
    // 110.592 µs apart per pair on the VLP-16.
    let blocks: Vec<_> =
        (0..12_u32).map(|block| (0xEEFF_u16, (100 + (block / 2) * 40) as u16, vec![(0, 500, 1)])).collect();
    let bytes = packet(&blocks, 0, 0x39, 0x22);
    let mut points = Vec::new();
    let info = vlp16().decode(&bytes, &mut points).unwrap();
    assert_eq!(info.return_mode, ReturnMode::Dual);
    let kinds: Vec<ReturnKind> = points.iter().map(|point| point.return_kind).collect();
    assert_eq!(
        kinds[..4],
        [ReturnKind::Last, ReturnKind::Strongest, ReturnKind::Last, ReturnKind::Strongest]
    );
    close(points[2].time_offset_us, 110.592, "second firing");
    close(points[3].time_offset_us, 110.592, "second firing, strongest");
    // Interpolation spans the pair's gap (40 cdeg to the next pair), not the zero gap between
    // the two blocks of a pair; channel 0 fires at the start: α = block azimuth.
    close(points[2].azimuth_deg, 1.4, "azimuth");
}

#[test]
fn calibration_in_ros_form() {
    // rot_correction is the negative of the manual's azimuth offset, in radians.
    let lasers: Vec<String> = (0..16)
        .map(|id| {
            format!(
                r#"{{"laser_id": {id}, "rot_correction": {}, "vert_correction": {}, "dist_correction": 0.1,
                   "vert_offset_correction": 0.0, "horiz_offset_correction": 0.0, "focal_distance": 0.0}}"#,
                if id == 0 { -0.1_f64.to_radians() } else { 0.0 },
                (-15.0_f64 + f64::from(id)).to_radians()
            )
        })
        .collect();
    let json =
        format!(r#"{{"distance_resolution": 0.002, "num_lasers": 16, "lasers": [{}]}}"#, lasers.join(","));
    let calibration = VelodyneCalibration::from_ros_json(&json, VelodyneModel::Vlp16).unwrap();
    assert!((calibration.lasers[0].azimuth_offset_deg - 0.1).abs() < 1e-12);
    assert!((calibration.lasers[3].vertical_deg + 12.0).abs() < 1e-12);
    let mut config = VelodyneDecoderConfig::new(VelodyneModel::Vlp16);
    config.calibration = Some(calibration);
    let decoder = VelodyneDecoder::new(config).unwrap();
    let mut points = Vec::new();
    decoder.decode(&packet(&sweep(0, 0, vec![(0, 1000, 1)]), 0, 0x37, 0x22), &mut points).unwrap();
    close(points[0].distance_m, 2.1, "distance with offset");
    close(points[0].azimuth_deg, 0.1, "azimuth with offset");

    // 16 lasers do not fit a VLP-32C; a repeated id is named.
    let error = VelodyneCalibration::from_ros_json(&json, VelodyneModel::Vlp32c).unwrap_err();
    assert!(error.to_string().contains("laser id 16 missing"), "{error}");
    let repeated = json.replace("\"laser_id\": 1,", "\"laser_id\": 0,");
    let error = VelodyneCalibration::from_ros_json(&repeated, VelodyneModel::Vlp16).unwrap_err();
    assert!(error.to_string().contains("listed twice"), "{error}");
    assert!(VelodyneModel::Hdl64e.factory_calibration().validate(VelodyneModel::Hdl64e).is_ok());
}

#[test]
fn rotations_are_cut_at_the_configured_azimuth() {
    // VLP-16 at 600 rpm: 12 blocks × 110.592 µs = 1327.104 µs per packet, 0.4° per firing
    // pair → 40 cdeg per block, 480 cdeg per packet; 75 packets per rotation.
    let decoder = vlp16();
    let mut assembler = VelodyneRotationAssembler::new(decoder, 90.0);
    let mut rotations = Vec::new();
    let mut time_us = 1_000_000_u32;
    let mut azimuth = 0_u32;
    let mut sent = 0;
    for index in 0..200 {
        let bytes = packet(&sweep(azimuth, 40, vec![(0, 1000, 5), (17, 2000, 6)]), time_us, 0x37, 0x22);
        if index != 100 {
            // Packet 100 is lost.
            assembler.push_packet(&bytes, &mut rotations).unwrap();
            sent += 1;
        }
        if index == 150 {
            assembler.push_packet(&bytes, &mut rotations).unwrap(); // a duplicate
        }
        time_us += 1327;
        azimuth = (azimuth + 480) % 36_000;
    }
    assert!(assembler.push_packet(&[0_u8; 512], &mut rotations).is_err()); // a position packet
    assembler.flush(&mut rotations);

    let counters = assembler.packet_counters();
    assert_eq!(counters.packets, sent);
    assert_eq!((counters.lost, counters.duplicate, counters.malformed), (1, 1, 1));
    // 200 packets × 480 cdeg = 96 000 cdeg: cuts at 90° after 9000, 45 000 and 81 000 cdeg.
    assert_eq!(rotations.len(), 4);
    // The first and last are partial; the third lost packet 100 (blocks 1200..1212 of
    // 1125..2025); the second is whole.
    assert_eq!(
        rotations.iter().map(|rotation| rotation.complete).collect::<Vec<_>>(),
        [false, true, false, false]
    );
    // A rotation after a cut begins there: its first point's azimuth is 90° (block azimuth
    // 9000 cdeg, channel 0 fires at the block start).
    assert!(
        (rotations[1].points[0].azimuth_deg - 90.0).abs() < 1e-4,
        "{}",
        rotations[1].points[0].azimuth_deg
    );
    // A complete rotation holds 900 blocks × 2 returns.
    assert_eq!(rotations[1].points.len(), 1800);
    assert_eq!(rotations[2].points.len(), 1800 - 24);
    let cloud = rotations[1].point_cloud(pitsense_types::Header {
        stamp_ns: 0,
        frame: pitsense_types::FrameId::Lidar(0),
        seq: 0,
    });
    assert_eq!(cloud.points.len(), 1800);
}
