//! Entry points shared by the cargo-fuzz targets (`perception/fuzz/`) and the seeded
//! random-input test (`tests/drivers_fuzz.rs`): each takes arbitrary bytes, drives one decoder
//! end to end, and must return without panicking. They return a small summary so callers can
//! check that inputs reach the decoders' deeper paths.

use std::io::Cursor;
use std::path::Path;

use nalgebra::Matrix4;
use pitsense_types::{FrameId, Header};

use super::RotationAssembler;
use super::ouster::{OusterMetadata, OusterScanBatcher, PacketDigest, UdpProfileLidar, XyzLut, scan_digest};
use super::pcap::PcapUdpReader;
use super::point_files::{parse_nuscenes_pcd_bin, parse_pcd};
use super::velodyne::{VelodyneDecoder, VelodyneDecoderConfig, VelodyneModel, VelodyneRotationAssembler};

const PROFILES: [UdpProfileLidar; 4] = [
    UdpProfileLidar::Legacy,
    UdpProfileLidar::Rng19Rfl8Sig16Nir16,
    UdpProfileLidar::Rng19Rfl8Sig16Nir16Dual,
    UdpProfileLidar::Rng15Rfl8Nir8,
];

/// A small synthetic sensor (8 beams, 32 columns, 4 columns per packet) with `profile`.
pub fn small_ouster_metadata(profile: UdpProfileLidar) -> OusterMetadata {
    let height = 8;
    let mut lidar_to_sensor = Matrix4::identity();
    lidar_to_sensor[(2, 3)] = 36.18;
    OusterMetadata {
        prod_line: "OS-FUZZ".to_owned(),
        prod_sn: String::new(),
        firmware: String::new(),
        lidar_mode: "32x10".to_owned(),
        udp_profile_lidar: profile,
        udp_profile_imu: "LEGACY".to_owned(),
        columns_per_frame: 32,
        columns_per_packet: 4,
        pixels_per_column: height,
        column_window: (0, 31),
        pixel_shift_by_row: vec![0; height],
        beam_altitude_angles_deg: (0..height).map(|row| 10.0 - 2.5 * row as f64).collect(),
        beam_azimuth_angles_deg: vec![1.0; height],
        lidar_origin_to_beam_origin_mm: 12.0,
        beam_to_lidar_transform: {
            let mut beam = Matrix4::identity();
            beam[(0, 3)] = 12.0;
            beam
        },
        lidar_to_sensor_transform: lidar_to_sensor,
        udp_port_lidar: None,
        udp_port_imu: None,
        initialization_id: None,
        defaulted_keys: Vec::new(),
    }
}

/// Ouster: the first byte picks the profile; the rest is split into packets by its next bytes
/// (each a length hint, stretched to a whole packet when its top bit is set so that
/// well-formed packets with random contents occur). Returns the number of frames emitted.
pub fn ouster_packets(data: &[u8]) -> usize {
    let Some((&selector, rest)) = data.split_first() else { return 0 };
    let metadata = small_ouster_metadata(PROFILES[usize::from(selector) % PROFILES.len()]);
    let mut batcher = OusterScanBatcher::new(&metadata);
    let packet_bytes = batcher.format().packet_bytes();
    let mut digest = PacketDigest::new(batcher.format());
    let lut = XyzLut::new(&metadata);
    let mut frames = Vec::new();
    let mut emitted = 0;
    let mut cursor = rest;
    while let Some((&hint, tail)) = cursor.split_first() {
        let wanted = if hint & 0x80 != 0 { packet_bytes } else { usize::from(hint) * 8 };
        let take = wanted.min(tail.len());
        let (chunk, remaining) = tail.split_at(take);
        cursor = remaining;
        let mut packet = chunk.to_vec();
        if hint & 0x80 != 0 {
            packet.resize(packet_bytes, hint);
            // Keep measurement ids mostly in range so packets reach the batcher's logic.
            if hint & 0x40 != 0 {
                for column in 0..metadata.columns_per_packet {
                    let offset =
                        batcher.format().packet_header_bytes + column * batcher.format().column_bytes() + 8;
                    if let Some(slot) = packet.get_mut(offset..offset + 2) {
                        let id = (u16::from(hint & 0x07) * 4 + column as u16) % 32;
                        slot.copy_from_slice(&id.to_le_bytes());
                    }
                }
            }
        }
        digest.add_packet(&packet);
        // Errors are the expected outcome for most inputs; only panics are failures.
        let _ = batcher.push_packet(&packet, &mut frames);
        emitted += consume(&lut, &mut frames);
    }
    batcher.flush(&mut frames);
    emitted += consume(&lut, &mut frames);
    let _ = digest.finish();
    emitted
}

fn consume(lut: &XyzLut, frames: &mut Vec<super::ouster::LidarScan>) -> usize {
    let count = frames.len();
    for frame in frames.drain(..) {
        let _ = scan_digest(&frame);
        let _ = lut.point_cloud(&frame, 0, 0);
    }
    count
}

/// Velodyne: the first byte picks the model and the cut azimuth; the rest is split into
/// packets like [`ouster_packets`] (top bit of a hint: a 1206-byte packet with valid block
/// flags). Returns the number of points decoded.
pub fn velodyne_packets(data: &[u8]) -> usize {
    let Some((&selector, rest)) = data.split_first() else { return 0 };
    let model = [VelodyneModel::Vlp16, VelodyneModel::Vlp32c, VelodyneModel::Hdl32e, VelodyneModel::Hdl64e]
        [usize::from(selector) % 4];
    let Ok(decoder) = VelodyneDecoder::new(VelodyneDecoderConfig::new(model)) else { return 0 };
    let mut assembler = VelodyneRotationAssembler::new(decoder.clone(), f64::from(selector) * 1.5);
    let mut rotations = Vec::new();
    let mut points = Vec::new();
    let mut decoded = 0;
    let mut cursor = rest;
    while let Some((&hint, tail)) = cursor.split_first() {
        let wanted = if hint & 0x80 != 0 { 1206 } else { usize::from(hint) * 8 };
        let take = wanted.min(tail.len());
        let (chunk, remaining) = tail.split_at(take);
        cursor = remaining;
        let mut packet = chunk.to_vec();
        if hint & 0x80 != 0 {
            packet.resize(1206, hint);
            if hint & 0x40 != 0 {
                for block in 0..12 {
                    if let Some(flag) = packet.get_mut(block * 100..block * 100 + 2) {
                        flag.copy_from_slice(&[
                            0xff,
                            if block % 2 == 1 && hint & 1 == 1 { 0xdd } else { 0xee },
                        ]);
                    }
                    if let Some(azimuth) = packet.get_mut(block * 100 + 2..block * 100 + 4) {
                        let raw = u16::from_le_bytes([azimuth[0], azimuth[1]]) % 36_000;
                        azimuth.copy_from_slice(&raw.to_le_bytes());
                    }
                }
                if let Some(mode) = packet.get_mut(1204) {
                    *mode = 0x37 + (hint % 3);
                }
            }
        }
        points.clear();
        if decoder.decode(&packet, &mut points).is_ok() {
            decoded += points.len();
        }
        let _ = assembler.push_packet(&packet, &mut rotations);
        rotations.clear();
    }
    assembler.flush(&mut rotations);
    decoded
}

/// Point files: the bytes as a PCD file (ASCII or binary per its header) and as a nuScenes
/// `.pcd.bin`. Returns the points parsed.
pub fn point_files(data: &[u8]) -> usize {
    let header = Header { stamp_ns: 0, frame: FrameId::Lidar(0), seq: 0 };
    let pcd = parse_pcd(data, Path::new("fuzz.pcd"), header).map_or(0, |cloud| cloud.points.len());
    let nuscenes =
        parse_nuscenes_pcd_bin(data, Path::new("fuzz.pcd.bin"), header).map_or(0, |cloud| cloud.points.len());
    pcd + nuscenes
}

/// Captures: the bytes as a classic pcap and as a pcapng stream. Returns the UDP datagrams
/// read.
pub fn capture(data: &[u8]) -> usize {
    let mut datagrams = 0;
    for pcapng in [false, true] {
        let Ok(mut reader) = PcapUdpReader::from_reader(Cursor::new(data), Path::new("fuzz.pcap"), pcapng)
        else {
            continue;
        };
        // Bounded: a capture of n bytes has at most n records.
        for _ in 0..=data.len() {
            match reader.next_datagram() {
                Ok(Some(_)) => datagrams += 1,
                Ok(None) | Err(_) => break,
            }
        }
    }
    datagrams
}
