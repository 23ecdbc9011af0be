//! Ouster packet decode rate on the vendor SDK's test capture (no criterion: a plain timed
//! loop).
//!
//! `cargo bench -p pitsense-perception --bench ouster_decode`: replays the 64 lidar packets of
//! `lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.pcap` (RNG19_RFL8_SIG16_NIR16,
//! 128 beams, 16 columns per packet) through the frame batcher for about
//! `PITSENSE_BENCH_SECONDS` (default 2) seconds on one thread, then converts frames to points,
//! and prints packets per second (and the equivalent sensor rate: 1024×10 sends 640 packets per
//! second) and XYZ frames per second. Data root: `$PITSENSE_DATA`, else `../shared/data`.

#![allow(clippy::expect_used)] // A benchmark without its data should stop loudly.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pitsense_perception::drivers::RotationAssembler;
use pitsense_perception::drivers::ouster::{OusterMetadata, OusterScanBatcher, XyzLut};
use pitsense_perception::drivers::pcap::read_udp_datagrams;

fn main() {
    let root = std::env::var_os("PITSENSE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    let seconds: f64 =
        std::env::var("PITSENSE_BENCH_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(2.0);
    let budget = Duration::from_secs_f64(seconds);
    let directory = root.join("lidar_pcap/ouster_sdk_tests");
    let metadata =
        OusterMetadata::read(&directory.join("OS-2-128-U1_v2.3.0_1024x10.json")).expect("metadata");
    let (datagrams, _) =
        read_udp_datagrams(&directory.join("OS-2-128-U1_v2.3.0_1024x10.pcap"), Some(&[7502]))
            .expect("capture");
    let packets: Vec<Vec<u8>> = datagrams.into_iter().map(|datagram| datagram.payload).collect();

    let mut batcher = OusterScanBatcher::new(&metadata);
    let mut scans = Vec::new();
    let mut frame_id = 0_u16;
    let mut decoded = 0_u64;
    let mut renumbered = packets.clone();
    let start = Instant::now();
    while start.elapsed() < budget {
        // Renumber the frame so every pass is a new, complete frame.
        frame_id = frame_id.wrapping_add(1);
        for (packet, original) in renumbered.iter_mut().zip(&packets) {
            packet.copy_from_slice(original);
            if let Some(id) = packet.get_mut(2..4) {
                id.copy_from_slice(&frame_id.to_le_bytes());
            }
            batcher.push_packet(packet, &mut scans).expect("capture packets decode");
            decoded += 1;
        }
        scans.clear();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let rate = decoded as f64 / elapsed;
    println!(
        "ouster decode: {decoded} packets in {elapsed:.2} s = {rate:.0} packets/s ({:.1} MB/s, {:.0}x the \
         1024x10 sensor rate of 640 packets/s)",
        rate * packets.first().map_or(0, Vec::len) as f64 / 1e6,
        rate / 640.0
    );

    let mut frames = Vec::new();
    for packet in &packets {
        batcher.push_packet(packet, &mut frames).expect("capture packets decode");
    }
    batcher.flush(&mut frames);
    let scan = frames.pop().expect("one frame");
    let lut = XyzLut::new(&metadata);
    let mut clouds = 0_u64;
    let mut points = 0_usize;
    let start = Instant::now();
    while start.elapsed() < budget {
        points = lut.point_cloud(&scan, 0, clouds).expect("shape").points.len();
        clouds += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "ouster xyz: {clouds} frames of {points} points in {elapsed:.2} s = {:.0} frames/s",
        clouds as f64 / elapsed
    );
}
