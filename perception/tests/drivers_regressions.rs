//! Lidar-driver regressions of issue 16, on the inputs in `shared/data/regressions/<id>/` (each
//! folder's `EXPECTED.txt` gives the right behaviour and the numbers asserted here). Every test
//! also derives its expectation independently, from the vendor SDK's own capture
//! (`lidar_pcap/ouster_sdk_tests/`, whose decoding `drivers_ouster.rs` checks against the SDK's
//! MD5 digests) or from the packet bytes. Tests skip with a message when the data is absent.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use std::path::PathBuf;

use pitsense_perception::drivers::inspect::{InspectOptions, inspect_ouster_pcap};
use pitsense_perception::drivers::ouster::{LidarScan, OusterMetadata, OusterScanBatcher};
use pitsense_perception::drivers::pcap::read_udp_datagrams;

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
