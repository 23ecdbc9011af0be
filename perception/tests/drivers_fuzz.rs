//! The fuzz targets' entry points (`perception/fuzz/`, which needs nightly `cargo fuzz`) run
//! here on seeded random byte strings and on randomly mutated real packets, so that every
//! build checks the decoders return errors or counters — never panic — on hostile input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use pitsense_perception::drivers::RotationAssembler;
use pitsense_perception::drivers::fuzz_entry;
use pitsense_perception::drivers::ouster::{
    OusterMetadata, OusterScanBatcher, PacketDigest, XyzLut, scan_digest,
};
use pitsense_perception::drivers::pcap::read_udp_datagrams;
use pitsense_perception::drivers::velodyne::{VelodyneDecoder, VelodyneDecoderConfig, VelodyneModel};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CASES: usize = 300;

fn random_bytes(rng: &mut ChaCha8Rng, max_len: usize) -> Vec<u8> {
    let len = rng.random_range(0..=max_len);
    (0..len).map(|_| rng.random()).collect()
}

fn mutate(rng: &mut ChaCha8Rng, original: &[u8]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    match rng.random_range(0..4) {
        0 => bytes.truncate(rng.random_range(0..=bytes.len())),
        1 => {
            for _ in 0..rng.random_range(1..16) {
                if bytes.is_empty() {
                    break;
                }
                let at = rng.random_range(0..bytes.len());
                bytes[at] = rng.random();
            }
        }
        2 => bytes.extend((0..rng.random_range(1..64)).map(|_| rng.random::<u8>())),
        _ => {
            // Overwrite a random 8-byte word (timestamps, ids, lengths).
            if bytes.len() >= 8 {
                let at = rng.random_range(0..=bytes.len() - 8);
                let word: u64 = rng.random();
                bytes[at..at + 8].copy_from_slice(&word.to_le_bytes());
            }
        }
    }
    bytes
}

#[test]
fn ouster_entry_on_random_bytes() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x0057_e500);
    let mut frames = 0;
    for _ in 0..CASES {
        frames += fuzz_entry::ouster_packets(&random_bytes(&mut rng, 8192));
    }
    assert!(frames > 0, "random inputs should reach frame emission sometimes");
}

#[test]
fn velodyne_entry_on_random_bytes() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x0e10_d14e);
    let mut points = 0;
    for _ in 0..CASES {
        points += fuzz_entry::velodyne_packets(&random_bytes(&mut rng, 6000));
    }
    assert!(points > 0, "random inputs should decode to points sometimes");
}

#[test]
fn point_file_and_capture_entries_on_random_bytes() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x00bc_d000);
    let header = b"FIELDS x y z intensity\nSIZE 4 4 4 4\nTYPE F F F F\nWIDTH 3\nHEIGHT 1\nDATA binary\n";
    for _ in 0..CASES {
        fuzz_entry::point_files(&random_bytes(&mut rng, 512));
        let mut pcd = header.to_vec();
        pcd.extend(random_bytes(&mut rng, 64));
        fuzz_entry::point_files(&mutate(&mut rng, &pcd));
    }
    let capture =
        std::fs::read(common::data_file("lidar_pcap/ouster_sdk_tests/VLI-16-one-packet.pcap")).unwrap();
    assert_eq!(fuzz_entry::capture(&capture), 1);
    for _ in 0..60 {
        fuzz_entry::capture(&mutate(&mut rng, &capture));
        fuzz_entry::capture(&random_bytes(&mut rng, 256));
    }
}

#[test]
fn mutated_real_packets() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x00ca_ffe0);
    let metadata = OusterMetadata::read(&common::data_file(
        "lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.json",
    ))
    .unwrap();
    let (datagrams, _) = read_udp_datagrams(
        &common::data_file("lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.pcap"),
        Some(&[7502]),
    )
    .unwrap();
    let lut = XyzLut::new(&metadata);
    let mut batcher = OusterScanBatcher::new(&metadata);
    let mut digest = PacketDigest::new(batcher.format());
    let mut frames = Vec::new();
    for _ in 0..3 {
        for datagram in &datagrams {
            let packet = if rng.random_bool(0.5) {
                mutate(&mut rng, &datagram.payload)
            } else {
                datagram.payload.clone()
            };
            digest.add_packet(&packet);
            let _ = batcher.push_packet(&packet, &mut frames);
        }
    }
    batcher.flush(&mut frames);
    for frame in &frames {
        let _ = scan_digest(frame);
        let cloud = lut.point_cloud(frame, 0, 0).unwrap();
        assert!(cloud.points.iter().all(|point| point.is_finite()));
    }
    let counters = batcher.counters();
    assert!(counters.malformed_packets > 0 && counters.packets > 0, "{counters:?}");

    let (velodyne, _) =
        read_udp_datagrams(&common::data_file("lidar_pcap/ouster_sdk_tests/VLI-16-one-packet.pcap"), None)
            .unwrap();
    for model in [VelodyneModel::Vlp16, VelodyneModel::Vlp32c, VelodyneModel::Hdl32e, VelodyneModel::Hdl64e] {
        let decoder = VelodyneDecoder::new(VelodyneDecoderConfig::new(model)).unwrap();
        let mut points = Vec::new();
        for _ in 0..CASES {
            points.clear();
            if decoder.decode(&mutate(&mut rng, &velodyne[0].payload), &mut points).is_ok() {
                assert!(points.iter().all(|point| point.x_m.is_finite() && point.azimuth_deg < 360.0));
            }
        }
    }
}
