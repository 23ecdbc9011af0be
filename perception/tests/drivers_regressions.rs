//! Lidar-driver regressions of issue 16, on the inputs in `shared/data/regressions/<id>/` (each
//! folder's `EXPECTED.txt` gives the right behaviour and the numbers asserted here). Every test
//! also derives its expectation independently, from the vendor SDK's own capture
//! (`lidar_pcap/ouster_sdk_tests/`, whose decoding `drivers_ouster.rs` checks against the SDK's
//! MD5 digests) or from the packet bytes. Tests skip with a message when the data is absent.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use std::path::PathBuf;

use pitsense_perception::drivers::RotationAssembler;
use pitsense_perception::drivers::inspect::{InspectError, InspectOptions, inspect_ouster_pcap};
use pitsense_perception::drivers::ouster::{LidarScan, OusterMetadata, OusterScanBatcher, StreamDigest};
use pitsense_perception::drivers::pcap::read_udp_datagrams;
use pitsense_perception::drivers::point_files::{PointFileError, read_point_file};
use pitsense_perception::drivers::velodyne::{
    VelodyneDecoder, VelodyneDecoderConfig, VelodyneModel, VelodyneRotationAssembler,
};
use pitsense_perception::kitti::{
    KittiError, VelodyneBinLayout, read_velodyne_bin, read_velodyne_bin_with_layout,
};
use pitsense_types::{FrameId, Header};

const SDK_CAPTURE: &str = "lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.pcap";
const SDK_METADATA: &str = "lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.json";

/// The vendor capture, its metadata and a regression input, or `None` (skipped) when absent.
fn inputs(regression: &str, test: &str) -> Option<(PathBuf, PathBuf, PathBuf)> {
    Some((
        common::optional_data_file(SDK_CAPTURE, test)?,
        common::optional_data_file(SDK_METADATA, test)?,
        common::optional_data_file(regression, test)?,
    ))
}

/// Every frame of a capture's lidar packets (port 7502), flushed at the end.
fn decode_capture(
    capture: &std::path::Path,
    metadata: &OusterMetadata,
) -> (Vec<LidarScan>, OusterScanBatcher) {
    let (datagrams, _) = read_udp_datagrams(capture, Some(&[7502])).unwrap();
    let mut batcher = OusterScanBatcher::new(metadata);
    let mut scans = Vec::new();
    for datagram in &datagrams {
        batcher.push(&datagram.payload, &mut scans).unwrap();
    }
    batcher.flush_frames(&mut scans);
    (scans, batcher)
}

/// B03: columns 100–115 of the vendor capture with status bit 0 cleared (their pixel bytes
/// untouched) must give no points; every other column decodes as before.
#[test]
fn b03_invalid_columns_yield_no_points() {
    let Some((sdk_capture, metadata_file, b03)) =
        inputs("regressions/B03/b03_status_cleared_100_115.pcap", "b03_invalid_columns_yield_no_points")
    else {
        return;
    };
    let metadata = OusterMetadata::read(&metadata_file).unwrap();
    let (reference, _) = decode_capture(&sdk_capture, &metadata);
    let (scans, _) = decode_capture(&b03, &metadata);
    assert_eq!((reference.len(), scans.len()), (1, 1));
    let (reference, scan) = (&reference[0], &scans[0]);

    // Independent count: the vendor frame's returns outside columns 100..=115.
    let invalid = 100..=115_usize;
    let returns_outside = reference
        .range_mm
        .iter()
        .enumerate()
        .filter(|(index, range)| **range > 0 && !invalid.contains(&(index % 1024)))
        .count();
    let returns_inside = reference.returns() - returns_outside;
    assert_eq!(returns_outside, 117_840, "EXPECTED.txt: 117840 points");
    assert_eq!(returns_inside, 1_842, "the bytes of the invalid columns hold 1842 returns");

    assert_eq!(scan.returns(), 117_840);
    assert_eq!(scan.invalid_columns, 16);
    for col in 0..1024 {
        let column_returns = (0..128).filter(|row| scan.range_mm[row * 1024 + col] > 0).count();
        if invalid.contains(&col) {
            assert_eq!(column_returns, 0, "invalid column {col}");
            assert_eq!((scan.timestamp_ns[col], scan.status[col]), (0, 0), "invalid column {col} header");
        } else {
            let reference_returns = (0..128).filter(|row| reference.range_mm[row * 1024 + col] > 0).count();
            assert_eq!(column_returns, reference_returns, "valid column {col}");
        }
    }
    // The packets all arrived: the frame is complete, 16 of its columns flagged invalid.
    assert!(scan.is_complete());

    let report = inspect_ouster_pcap(&b03, &metadata_file, &InspectOptions::default()).unwrap();
    assert_eq!(report.frames.iter().map(|frame| frame.points).sum::<usize>(), 117_840);
}

/// B04: a VLP-16 packet whose block 5 carries the raw azimuth 36000 (360.00°). It is 0°, not a
/// malformed packet: all 274 returns decode, and block 5's returns lie between block 4's and
/// block 6's azimuths.
#[test]
fn b04_velodyne_azimuth_36000_is_zero() {
    let Some(capture) =
        common::optional_data_file("regressions/B04/b04_c.pcap", "b04_velodyne_azimuth_36000_is_zero")
    else {
        return;
    };
    let (datagrams, _) = read_udp_datagrams(&capture, Some(&[2368])).unwrap();
    assert_eq!(datagrams.len(), 1);
    let payload = &datagrams[0].payload;
    // The raw block azimuths, read straight from the bytes (offset 2 of each 100-byte block).
    let raw: Vec<u16> = (0..12)
        .map(|block| u16::from_le_bytes([payload[block * 100 + 2], payload[block * 100 + 3]]))
        .collect();
    assert_eq!(raw[5], 36_000);
    // Returns counted from the bytes: every non-zero distance (VLP-16 max range 100 m < 300 m).
    let nonzero = (0..12)
        .flat_map(|block| (0..32).map(move |channel| block * 100 + 4 + channel * 3))
        .filter(|&offset| payload[offset] != 0 || payload[offset + 1] != 0)
        .count();
    assert_eq!(nonzero, 274, "EXPECTED.txt: 274 points");

    let decoder = VelodyneDecoder::new(VelodyneDecoderConfig::new(VelodyneModel::Vlp16)).unwrap();
    let mut points = Vec::new();
    let info = decoder.decode(payload, &mut points).unwrap();
    assert_eq!(info.block_azimuths_cdeg[5], 0);
    assert_eq!(info.points, 274);
    assert_eq!(points.len(), 274);
    // Block 5 fires at 0° plus at most one block's rotation (VLP-16 manual §9.5: the firing's
    // share of the gap to the next block, here 100 − 0 = 1.00°).
    for point in points.iter().filter(|point| point.block == 5) {
        assert!((0.0..1.0).contains(&point.azimuth_deg), "block 5 point at {}°", point.azimuth_deg);
    }
    // And the rotation assembler counts the packet, not a malformed one.
    let mut assembler = VelodyneRotationAssembler::new(decoder, 180.0);
    let mut rotations = Vec::new();
    assembler.push_packet(payload, &mut rotations).unwrap();
    assembler.flush(&mut rotations);
    let counters = assembler.packet_counters();
    assert_eq!((counters.packets, counters.malformed), (1, 0));
    assert_eq!(rotations.iter().map(|rotation| rotation.points.len()).sum::<usize>(), 274);
}

/// Frame id and first measurement id of every lidar packet of a capture, from the bytes
/// (non-LEGACY header: frame id at byte 2; first column header at byte 32, measurement id at
/// its byte 8).
fn packet_ids(capture: &std::path::Path) -> Vec<(u16, u16)> {
    let (datagrams, _) = read_udp_datagrams(capture, Some(&[7502])).unwrap();
    datagrams
        .iter()
        .map(|datagram| {
            let bytes = &datagram.payload;
            (u16::from_le_bytes([bytes[2], bytes[3]]), u16::from_le_bytes([bytes[40], bytes[41]]))
        })
        .collect()
}

/// B01: frames 1259 (64 packets), 1260 (packets 57–63 lost) and 1261 (packets 0–17 lost). Frame
/// 1261 is stamped at the time its column 0 had, extrapolated back from column 288; all 25
/// missing packets count as lost, and a tail missing at the end of the stream too.
#[test]
fn b01_frames_that_lost_head_or_tail_packets() {
    let Some((_, metadata_file, b01)) =
        inputs("regressions/B01/b01_three_frames.pcap", "b01_frames_that_lost_head_or_tail_packets")
    else {
        return;
    };
    // The packets present, from the bytes: 64 + 57 + 46.
    let ids = packet_ids(&b01);
    let per_frame =
        |frame: u16| ids.iter().filter(|(id, _)| *id == frame).map(|(_, m)| m / 16).collect::<Vec<_>>();
    assert_eq!(per_frame(1259), (0..64).collect::<Vec<_>>());
    assert_eq!(per_frame(1260), (0..57).collect::<Vec<_>>());
    assert_eq!(per_frame(1261), (18..64).collect::<Vec<_>>());
    // Lost: 1260's tail 57..=63 (7) + 1261's head 0..=17 (18) = 25 (EXPECTED.txt).
    let expected_lost = (64 - 57) + 18;
    assert_eq!(expected_lost, 25);

    let report = inspect_ouster_pcap(&b01, &metadata_file, &InspectOptions::default()).unwrap();
    let frames: Vec<_> =
        report.frames.iter().map(|frame| (frame.frame_id, frame.packets, frame.complete)).collect();
    assert_eq!(frames, [(1259, 64, true), (1260, 57, false), (1261, 46, false)]);
    assert_eq!(report.packets.assembler.lost, 25);
    assert_eq!(report.packets.assembler.packets, 167);

    // Stamp of 1261: column 288's timestamp (its first received column, read from the bytes of
    // the frame's first packet) minus 288 column periods. Lidar mode 1024x10: one column every
    // 1 s / (1024 × 10) = 97 656.25 ns, so 288 × 97 656.25 = 28 125 000 ns exactly.
    let (datagrams, _) = read_udp_datagrams(&b01, Some(&[7502])).unwrap();
    let first_of_1261 = &datagrams[64 + 57].payload;
    assert_eq!(u16::from_le_bytes([first_of_1261[40], first_of_1261[41]]), 288);
    let column_288_ns = u64::from_le_bytes(first_of_1261[32..40].try_into().unwrap());
    assert_eq!(column_288_ns, 765_925_163_920);
    let stamp_1261 = report.frames[2].stamp_ns;
    assert_eq!(stamp_1261, column_288_ns - 28_125_000);
    assert_eq!(stamp_1261, 765_897_038_920, "EXPECTED.txt: ~765897039000");
    // Cross-check: one rotation (100 ms at 10 Hz) after frame 1260's column 0, within a column.
    let stamp_1260 = report.frames[1].stamp_ns;
    assert!(
        (stamp_1261 as i64 - stamp_1260 as i64 - 100_000_000).abs() < 97_657,
        "{stamp_1260} → {stamp_1261}"
    );

    // The stream ends three packets early (1261's packets 61..=63 never come): flush counts them.
    let metadata = OusterMetadata::read(&metadata_file).unwrap();
    let mut batcher = OusterScanBatcher::new(&metadata);
    let mut scans = Vec::new();
    for datagram in &datagrams[..datagrams.len() - 3] {
        batcher.push(&datagram.payload, &mut scans).unwrap();
    }
    batcher.flush_frames(&mut scans);
    assert_eq!(scans.len(), 3);
    assert_eq!(batcher.counters().lost_packets, 25 + 3);
}

/// B02, fragments: the vendor capture's 64 lidar datagrams, each sent as 17 IPv4 fragments
/// (some datagrams interleaved, one in reverse order). Reassembled, they are the vendor
/// capture's datagrams byte for byte, so the frame reproduces the SDK digest.
#[test]
fn b02_fragmented_datagrams_are_reassembled() {
    let test = "b02_fragmented_datagrams_are_reassembled";
    let Some((sdk_capture, metadata_file, fragmented)) = inputs("regressions/B02/b02_fragmented.pcap", test)
    else {
        return;
    };
    let Some(digest_file) = common::optional_data_file(
        "lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10_digest.json",
        test,
    ) else {
        return;
    };
    let Some(missing30) = common::optional_data_file("regressions/B02/b02_fragmented_missing30.pcap", test)
    else {
        return;
    };
    let (reference, _) = read_udp_datagrams(&sdk_capture, Some(&[7502])).unwrap();
    let (datagrams, stats) = read_udp_datagrams(&fragmented, Some(&[7502])).unwrap();
    assert_eq!((stats.records, stats.ipv4_fragments), (64 * 17, 64 * 17));
    assert_eq!((stats.reassembled_datagrams, stats.incomplete_reassemblies, stats.malformed), (64, 0, 0));
    assert_eq!(datagrams.len(), 64);
    for (index, (ours, vendor)) in datagrams.iter().zip(&reference).enumerate() {
        assert!(ours.payload == vendor.payload, "datagram {index} differs from the vendor capture's");
    }

    let report = inspect_ouster_pcap(
        &fragmented,
        &metadata_file,
        &InspectOptions { digest: true, ..Default::default() },
    )
    .unwrap();
    assert_eq!(report.frames.len(), 1);
    assert_eq!((report.frames[0].frame_id, report.frames[0].packets), (1259, 64));
    assert!(report.frames[0].complete);
    let expected = StreamDigest::parse_json(&std::fs::read_to_string(digest_file).unwrap()).unwrap();
    let differences = report.digest.as_ref().unwrap().differences(&expected);
    assert!(differences.is_empty(), "digest mismatches: {differences:#?}");

    // One fragment of datagram 30 deleted: that datagram is dropped and counted, the frame has
    // 63 of 64 packets, and packet 30's columns (30 × 16 = 480 ..= 495) are missing.
    let (datagrams, stats) = read_udp_datagrams(&missing30, Some(&[7502])).unwrap();
    assert_eq!(
        (stats.ipv4_fragments, stats.reassembled_datagrams, stats.incomplete_reassemblies),
        (64 * 17 - 1, 63, 1)
    );
    assert_eq!(datagrams.len(), 63);
    let metadata = OusterMetadata::read(&metadata_file).unwrap();
    let (scans, batcher) = decode_capture(&missing30, &metadata);
    assert_eq!(scans.len(), 1);
    let scan = &scans[0];
    assert_eq!((scan.packets, scan.columns_received), (63, 1024 - 16));
    let missing: Vec<usize> = (0..1024).filter(|&col| scan.timestamp_ns[col] == 0).collect();
    assert_eq!(missing, (480..=495).collect::<Vec<_>>());
    assert!((0..128).all(|row| (480..=495).all(|col| scan.range_mm[row * 1024 + col] == 0)));
    // Packets 29 and 31 arrived, so packet 30 was lost.
    assert_eq!(batcher.counters().lost_packets, 1);
}

/// B02, stray: the vendor capture with a copy of packet 20 renumbered frame 1259 + 5000 = 6259
/// inserted after packet 40. It is counted as stray and dropped; frame 1259 stays whole, and
/// nothing counts as lost or late.
#[test]
fn b02_a_stray_frame_id_closes_no_frame() {
    let Some((_, metadata_file, stray)) =
        inputs("regressions/B02/b02_stray_unfragmented.pcap", "b02_a_stray_frame_id_closes_no_frame")
    else {
        return;
    };
    let ids = packet_ids(&stray);
    assert_eq!(ids.len(), 65);
    assert_eq!(ids[41], (6259, 320));
    assert!(ids.iter().enumerate().all(|(index, (frame, _))| index == 41 || *frame == 1259));

    let report = inspect_ouster_pcap(&stray, &metadata_file, &InspectOptions::default()).unwrap();
    let frames: Vec<_> =
        report.frames.iter().map(|frame| (frame.frame_id, frame.packets, frame.complete)).collect();
    assert_eq!(frames, [(1259, 64, true)]);
    let counters = report.packets.assembler;
    assert_eq!((counters.packets, counters.stray, counters.lost, counters.late), (64, 1, 0, 0));
}

/// Far-off frame ids are never counted as losses: the vendor frame, then the same packets
/// renumbered 5000 frames later (an unrelated recording: the sensor clock does not move 500 s)
/// give two frames and a discontinuity, nothing lost. Renumbered 2 frames later with the column
/// timestamps 200 ms later (what the sensor sends after losing one frame), the clock confirms
/// the gap: 1 frame, 64 packets lost.
#[test]
fn far_off_frame_ids_are_not_losses() {
    let Some((sdk_capture, metadata_file, _)) = inputs(SDK_CAPTURE, "far_off_frame_ids_are_not_losses")
    else {
        return;
    };
    let metadata = OusterMetadata::read(&metadata_file).unwrap();
    let (datagrams, _) = read_udp_datagrams(&sdk_capture, Some(&[7502])).unwrap();
    // 16 columns of 12 + 128 × 12 bytes after the 32-byte packet header; timestamp first.
    let renumbered = |packet: &[u8], frames_later: u16, shift_ns: u64| {
        let mut packet = packet.to_vec();
        let frame_id = u16::from_le_bytes([packet[2], packet[3]]) + frames_later;
        packet[2..4].copy_from_slice(&frame_id.to_le_bytes());
        for column in 0..16 {
            let at = 32 + column * (12 + 128 * 12);
            let stamp_ns = u64::from_le_bytes(packet[at..at + 8].try_into().unwrap()) + shift_ns;
            packet[at..at + 8].copy_from_slice(&stamp_ns.to_le_bytes());
        }
        packet
    };
    for (frames_later, shift_ns, lost_frames, lost_packets, discontinuities) in
        [(5000, 0, 0, 0, 1), (2, 200_000_000, 1, 64, 0)]
    {
        let mut batcher = OusterScanBatcher::new(&metadata);
        let mut scans = Vec::new();
        // The second frame loses its first packet, so the first packet to arrive is mid-frame.
        for datagram in &datagrams[..60] {
            batcher.push(&datagram.payload, &mut scans).unwrap();
        }
        for datagram in &datagrams[1..] {
            batcher.push(&renumbered(&datagram.payload, frames_later, shift_ns), &mut scans).unwrap();
        }
        batcher.flush_frames(&mut scans);
        let counters = batcher.counters();
        assert_eq!(
            scans.iter().map(|scan| (scan.frame_id, scan.packets)).collect::<Vec<_>>(),
            [(1259, 60), (1259 + frames_later, 63)],
            "{frames_later} frames later"
        );
        assert_eq!(
            (counters.lost_frames, counters.discontinuities, counters.stray_packets),
            (lost_frames, discontinuities, 0)
        );
        // Frame 1259's tail (packets 60..=63) and the second frame's head (packet 0) are lost
        // only when the clock ties the two frames together.
        let edges = if discontinuities == 0 { 4 + 1 } else { 0 };
        assert_eq!(counters.lost_packets, lost_packets + edges, "{frames_later} frames later");
    }
}

/// R05: metadata without `data_format` (the profile then defaults to LEGACY, whose packets are
/// 16 × (16 + 128 × 12 + 4) = 24 896 bytes, while the capture's are the RNG19 profile's
/// 32 + 16 × (12 + 128 × 12) + 32 = 24 832), and a capture whose lidar packets go to port 7510
/// with metadata lacking `udp_port_lidar` (default 7502). Neither may report "0 frames" as a
/// success: the error names the missing key or port, and says what would fit.
#[test]
fn r05_missing_metadata_keys_are_named() {
    let test = "r05_missing_metadata_keys_are_named";
    let Some((sdk_capture, metadata_file, no_data_format)) =
        inputs("regressions/R05/r05_no_data_format.json", test)
    else {
        return;
    };
    let (Some(no_ports), Some(port7510)) = (
        common::optional_data_file("regressions/R05/r05_no_ports.json", test),
        common::optional_data_file("regressions/R05/r05_port7510.pcap", test),
    ) else {
        return;
    };
    let nothing_decoded = |capture: &std::path::Path, metadata: &std::path::Path| match inspect_ouster_pcap(
        capture,
        metadata,
        &InspectOptions::default(),
    ) {
        Err(InspectError::NothingDecoded { cause, report, .. }) => (cause, report),
        other => panic!("expected NothingDecoded, got {other:?}"),
    };

    assert_eq!(OusterMetadata::read(&metadata_file).unwrap().defaulted_keys, Vec::<&str>::new());
    let metadata = OusterMetadata::read(&no_data_format).unwrap();
    assert_eq!(metadata.defaulted_keys, ["data_format"]);
    let (cause, report) = nothing_decoded(&sdk_capture, &no_data_format);
    assert_eq!((report.packets.lidar, report.packets.assembler.malformed), (64, 64));
    assert!(cause.contains("no `data_format`") && cause.contains("LEGACY"), "{cause}");
    assert!(cause.contains("24832 bytes, expected 24896"), "{cause}");
    assert!(cause.contains("24832-byte packets fit the RNG19_RFL8_SIG16_NIR16 profile"), "{cause}");

    let metadata = OusterMetadata::read(&no_ports).unwrap();
    assert_eq!(metadata.defaulted_keys, ["udp_port_lidar", "udp_port_imu"]);
    let (cause, report) = nothing_decoded(&port7510, &no_ports);
    assert_eq!((report.packets.udp, report.packets.lidar, report.packets.other), (74, 0, 74));
    assert!(cause.contains("lidar port 7502") && cause.contains("has no `udp_port_lidar`"), "{cause}");
    assert!(cause.contains("7510 (64 × 24832 B), 7511 (10 × 48 B)"), "{cause}");
    assert!(cause.contains("port 7510 carries 24832-byte datagrams"), "{cause}");
    let error = inspect_ouster_pcap(&port7510, &no_ports, &InspectOptions::default()).unwrap_err();
    assert!(error.to_string().contains("r05_port7510.pcap"), "{error}");

    // With the port given, the same capture decodes to the vendor frame.
    let options = InspectOptions { lidar_port: Some(7510), ..InspectOptions::default() };
    let report = inspect_ouster_pcap(&port7510, &no_ports, &options).unwrap();
    assert_eq!(
        report.frames.iter().map(|frame| (frame.frame_id, frame.packets)).collect::<Vec<_>>(),
        [(1259, 64)]
    );
}

/// R09: KITTI frame 000000 written with a fifth float32 column (a ring index, as
/// nuScenes-derived sets do): 115 384 × 20 = 2 307 680 bytes, also a multiple of 16. Read as
/// KITTI records it would be 144 230 points of garbage; the reader refuses it, says it fits
/// the 5-column layout, and with that layout declared gives KITTI 000000's points exactly.
#[test]
fn r09_five_column_bin_is_not_read_as_four() {
    let test = "r09_five_column_bin_is_not_read_as_four";
    let (Some(five_columns), Some(kitti)) = (
        common::optional_data_file("regressions/R09/velodyne/000000.bin", test),
        common::optional_data_file("kitti/object/training/velodyne/000000.bin", test),
    ) else {
        return;
    };
    let bytes = std::fs::read(&five_columns).unwrap();
    assert_eq!(bytes.len(), 2_307_680);
    assert_eq!((bytes.len() % 16, bytes.len() % 20), (0, 0));
    // Independently: the fourth value of each 16-byte record, as a KITTI reader would take it.
    let floats: Vec<f32> =
        bytes.chunks_exact(4).map(|word| f32::from_le_bytes(word.try_into().unwrap())).collect();
    let negative_or_huge = floats
        .iter()
        .skip(3)
        .step_by(4)
        .filter(|value| !value.is_finite() || **value < 0.0 || **value > 65_535.0)
        .count();
    assert_eq!(floats.len() / 4, 144_230);
    assert!(negative_or_huge > 144_230 / 100, "{negative_or_huge} implausible reflectances");

    let header = Header { stamp_ns: 0, frame: FrameId::Lidar(0), seq: 0 };
    let error = read_velodyne_bin(&five_columns, header).unwrap_err();
    let message = error.to_string();
    match error {
        KittiError::VelodyneImplausible { implausible, points, .. } => {
            assert_eq!((implausible, points), (negative_or_huge, 144_230));
        }
        other => panic!("expected VelodyneImplausible, got {other:?}"),
    }
    assert!(message.contains("000000.bin") && message.contains("5 f32 columns"), "{message}");
    assert!(matches!(read_point_file(&five_columns, header), Err(PointFileError::Kitti(_))));

    // Declared (5 columns, intensity stored as KITTI reflectance 0..1): KITTI 000000's points.
    let layout = VelodyneBinLayout { columns: 5, intensity_full_scale: 1.0 };
    let cloud = read_velodyne_bin_with_layout(&five_columns, layout, header).unwrap();
    let reference = read_velodyne_bin(&kitti, header).unwrap();
    assert_eq!(cloud.points.len(), 115_384);
    assert!(cloud.points == reference.points, "the 5-column file holds KITTI 000000's points");
}
