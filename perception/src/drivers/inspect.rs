//! The report behind `pitsense lidar inspect`: what a capture holds and whether it decodes.
//!
//! [`inspect_ouster_pcap`] replays a capture with its metadata through the decoder and returns
//! an [`InspectReport`] (sensor, profile, frames, packet counts by kind, lost/duplicate/late/
//! malformed packets, points per frame) and, on request, the per-frame field digests in the
//! vendor SDK's digest form ([`InspectReport::digest_lines`], [`InspectReport::digest_json`]).
//! [`inspect_velodyne_pcap`] does the same for a Velodyne capture. A CLI is a thin wrapper:
//! print [`InspectReport`]'s `Display`, then the digest lines.
//!
//! A capture from which not one frame decodes is an error ([`InspectError::NothingDecoded`]),
//! not a report of "0 frames": the error says why — no datagram on the lidar port (and which
//! ports the capture's datagrams went to, and whether the metadata lacked its port key), or
//! every lidar packet rejected (the decoder's reason, the metadata keys that were absent and
//! defaulted, and which packet profile the packets' size fits) — and carries the report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ouster::{
    OusterError, OusterMetadata, OusterScanBatcher, PacketDigest, PacketFormat, StreamDigest,
    UdpProfileLidar, scan_digest,
};
use super::pcap::{PcapReadError, PcapStats, PcapUdpReader};
use super::velodyne::{VelodyneDecoder, VelodyneDecoderConfig, VelodyneError, VelodyneRotationAssembler};
use super::{PacketCounters, RotationAssembler};

/// Default Ouster lidar UDP port (when the metadata does not record one).
pub const OUSTER_DEFAULT_LIDAR_PORT: u16 = 7502;
/// Default Ouster IMU UDP port.
pub const OUSTER_DEFAULT_IMU_PORT: u16 = 7503;
/// Default Velodyne data port.
pub const VELODYNE_DEFAULT_DATA_PORT: u16 = 2368;
/// Default Velodyne position (GPS) port.
pub const VELODYNE_DEFAULT_POSITION_PORT: u16 = 8308;

/// Why a capture could not be inspected.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The metadata could not be read or is unusable.
    #[error(transparent)]
    Metadata(#[from] OusterError),
    /// The Velodyne decoder settings are unusable.
    #[error(transparent)]
    Velodyne(#[from] VelodyneError),
    /// The capture could not be read.
    #[error(transparent)]
    Capture(#[from] PcapReadError),
    /// The capture was read but not one frame (rotation) could be decoded from it.
    #[error("`{}`: no frame could be decoded: {cause}", capture.display())]
    NothingDecoded {
        /// The capture file.
        capture: PathBuf,
        /// Why: what went to the lidar port and what the decoder or the metadata said.
        cause: String,
        /// What was found (packet counts by port and kind, capture counters).
        report: Box<InspectReport>,
    },
}

/// Where the lidar port came from, for error messages.
fn port_origin(given: Option<u16>, from_metadata: Option<u16>, key: &str, default: u16) -> String {
    match (given, from_metadata) {
        (Some(_), _) => "as given".to_owned(),
        (None, Some(_)) => format!("the metadata's `{key}`"),
        (None, None) => format!("the vendor default {default}: the metadata has no `{key}`"),
    }
}

/// What a capture's UDP datagrams looked like, for explaining a capture that decodes nothing.
#[derive(Default)]
struct DatagramCensus {
    /// Datagrams and the first datagram's payload length, by destination port.
    by_port: BTreeMap<u16, (u64, usize)>,
    /// The decoder's first complaint about a lidar packet.
    first_error: Option<String>,
}

impl DatagramCensus {
    fn note(&mut self, port: u16, payload_len: usize) {
        self.by_port.entry(port).or_insert((0, payload_len)).0 += 1;
    }

    fn reject(&mut self, error: &dyn std::fmt::Display) {
        if self.first_error.is_none() {
            self.first_error = Some(error.to_string());
        }
    }

    /// Why no frame decoded. `lidar_packet_bytes`: the size a lidar packet should have, when the
    /// format fixes it (Ouster); `packet_hint`: what the metadata has to say about rejected
    /// packets.
    fn cause(
        &self,
        packets: &PacketSummary,
        lidar_port: u16,
        port_origin: &str,
        lidar_packet_bytes: Option<usize>,
        packet_hint: impl FnOnce(usize) -> String,
    ) -> String {
        if packets.lidar == 0 {
            let mut cause = format!("no UDP datagram went to the lidar port {lidar_port} ({port_origin})");
            if self.by_port.is_empty() {
                cause.push_str("; the capture holds no UDP datagram");
                return cause;
            }
            let ports: Vec<String> = self
                .by_port
                .iter()
                .map(|(port, (count, bytes))| format!("{port} ({count} × {bytes} B)"))
                .collect();
            let _ = write!(cause, "; datagrams went to ports {}", ports.join(", "));
            let fitting = self.by_port.iter().find(|(_, (_, bytes))| Some(*bytes) == lidar_packet_bytes);
            if let Some((port, (_, bytes))) = fitting {
                let _ = write!(
                    cause,
                    "; port {port} carries {bytes}-byte datagrams, this sensor's lidar packet size"
                );
            }
            return cause;
        }
        let mut cause = format!(
            "all {} datagrams to the lidar port {lidar_port} were rejected ({})",
            packets.lidar,
            self.first_error.as_deref().unwrap_or("no reason given")
        );
        let first_len = self.by_port.get(&lidar_port).map_or(0, |(_, bytes)| *bytes);
        let hint = packet_hint(first_len);
        if !hint.is_empty() {
            let _ = write!(cause, "; {hint}");
        }
        cause
    }
}

/// What an Ouster metadata file's absent keys and the profiles' packet sizes say about lidar
/// packets of `packet_len` bytes that did not decode.
fn ouster_packet_hint(metadata: &OusterMetadata, metadata_file: &Path, packet_len: usize) -> String {
    let mut hints = Vec::new();
    let format_keys = ["data_format", "lidar_data_format", "udp_profile_lidar"];
    if let Some(key) = metadata.defaulted_keys.iter().find(|key| format_keys.contains(key)) {
        hints.push(format!(
            "the metadata `{}` has no `{key}`, so the {} profile was assumed",
            metadata_file.display(),
            metadata.udp_profile_lidar
        ));
    }
    let fitting: Vec<&str> = UdpProfileLidar::ALL
        .iter()
        .filter(|&&profile| {
            let mut other = metadata.clone();
            other.udp_profile_lidar = profile;
            profile != metadata.udp_profile_lidar && PacketFormat::new(&other).packet_bytes() == packet_len
        })
        .map(|profile| profile.name())
        .collect();
    if !fitting.is_empty() {
        hints.push(format!("{packet_len}-byte packets fit the {} profile", fitting.join(" or ")));
    }
    hints.join("; ")
}

/// Options of an inspection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InspectOptions {
    /// Compute the field digests.
    pub digest: bool,
    /// Lidar (data) UDP port; default: the metadata's, else the vendor default.
    pub lidar_port: Option<u16>,
    /// IMU (position) UDP port; default: the metadata's, else the vendor default.
    pub imu_port: Option<u16>,
}

/// One frame (rotation) of the capture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FrameSummary {
    /// Ouster frame id, or the rotation's index for Velodyne.
    pub frame_id: u64,
    /// Sensor time of the frame: Ouster nanoseconds on the sensor clock, Velodyne microseconds
    /// past the hour × 1000.
    pub stamp_ns: u64,
    /// Packets that contributed.
    pub packets: usize,
    /// Whether the frame is complete (Ouster: every column of the window; Velodyne: began and
    /// ended at the cut with nothing lost).
    pub complete: bool,
    /// Points (returns with a non-zero range).
    pub points: usize,
}

/// Packet counts of a capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PacketSummary {
    /// UDP datagrams in the capture.
    pub udp: u64,
    /// Datagrams to the lidar (data) port.
    pub lidar: u64,
    /// Datagrams to the IMU (position) port.
    pub imu: u64,
    /// Datagrams to any other port.
    pub other: u64,
    /// The lidar assembler's counters (accepted, lost, duplicate, late, malformed).
    pub assembler: PacketCounters,
}

/// What [`inspect_ouster_pcap`] / [`inspect_velodyne_pcap`] found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InspectReport {
    /// The capture file.
    pub capture_file: PathBuf,
    /// Sensor description (vendor, product line, serial, firmware, mode).
    pub sensor: String,
    /// Packet profile (Ouster) or return mode (Velodyne).
    pub profile: String,
    /// Lidar (data) port used.
    pub lidar_port: u16,
    /// IMU (position) port used.
    pub imu_port: u16,
    /// Frames in capture order.
    pub frames: Vec<FrameSummary>,
    /// Packet counts.
    pub packets: PacketSummary,
    /// Capture-level counters (non-UDP, fragments, malformed frames, truncation).
    pub capture: PcapStats,
    /// Field digests (Ouster, when requested).
    #[serde(skip)]
    pub digest: Option<StreamDigest>,
}

impl InspectReport {
    /// The digests as lines `packet_hash KEY VALUE` and `scans[i] KEY VALUE` (the vendor
    /// file's entries, one per line, in its key order). Empty without digests.
    pub fn digest_lines(&self) -> Vec<String> {
        let Some(digest) = &self.digest else { return Vec::new() };
        let mut lines: Vec<String> =
            digest.packet_hash.iter().map(|(key, value)| format!("packet_hash {key} {value}")).collect();
        for (index, scan) in digest.scans.iter().enumerate() {
            lines.extend(scan.iter().map(|(key, value)| format!("scans[{index}] {key} {value}")));
        }
        lines
    }

    /// The digests as a vendor-style digest JSON document (`None` without digests).
    pub fn digest_json(&self) -> Option<String> {
        self.digest.as_ref().map(StreamDigest::to_json)
    }
}

impl std::fmt::Display for InspectReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let packets = &self.packets;
        let counters = &packets.assembler;
        let capture = &self.capture;
        writeln!(f, "capture: {}", self.capture_file.display())?;
        writeln!(f, "sensor: {}", self.sensor)?;
        writeln!(f, "profile: {}", self.profile)?;
        let complete = self.frames.iter().filter(|frame| frame.complete).count();
        writeln!(f, "frames: {} ({complete} complete)", self.frames.len())?;
        writeln!(
            f,
            "packets: {} udp: {} lidar (port {}), {} imu (port {}), {} other",
            packets.udp, packets.lidar, self.lidar_port, packets.imu, self.imu_port, packets.other
        )?;
        writeln!(
            f,
            "lidar packets: {} accepted, {} lost, {} duplicate, {} late, {} malformed, {} stray",
            counters.packets,
            counters.lost,
            counters.duplicate,
            counters.late,
            counters.malformed,
            counters.stray
        )?;
        let mut skipped = String::new();
        let _ = write!(
            skipped,
            "{} records, {} not IPv4, {} not UDP, {} IPv4 fragments ({} datagrams reassembled, {} \
             incomplete dropped), {} malformed, {} unsupported link",
            capture.records,
            capture.not_ipv4,
            capture.not_udp,
            capture.ipv4_fragments,
            capture.reassembled_datagrams,
            capture.incomplete_reassemblies,
            capture.malformed,
            capture.unsupported_link
        );
        writeln!(
            f,
            "capture records: {skipped}{}",
            if capture.truncated { ", TRUNCATED at the end" } else { "" }
        )?;
        for frame in &self.frames {
            writeln!(
                f,
                "frame {}: stamp_ns {} packets {} points {}{}",
                frame.frame_id,
                frame.stamp_ns,
                frame.packets,
                frame.points,
                if frame.complete { "" } else { " (incomplete)" }
            )?;
        }
        Ok(())
    }
}

/// Which port a datagram went to.
#[derive(PartialEq, Eq)]
enum PortKind {
    Lidar,
    Imu,
    Other,
}

fn classify(port: u16, lidar_port: u16, imu_port: u16, packets: &mut PacketSummary) -> PortKind {
    packets.udp += 1;
    if port == lidar_port {
        packets.lidar += 1;
        PortKind::Lidar
    } else if port == imu_port {
        packets.imu += 1;
        PortKind::Imu
    } else {
        packets.other += 1;
        PortKind::Other
    }
}

/// Inspects an Ouster capture with its metadata (see the module documentation).
///
/// Lidar packets are those to the lidar port; each is decoded and batched into frames; with
/// `options.digest` the packet stream and every frame are digested as the vendor SDK does.
///
/// # Errors
/// [`InspectError::Metadata`] when the metadata cannot be read or uses an unsupported profile;
/// [`InspectError::Capture`] when the capture cannot be opened or is corrupt mid-file (a
/// truncated tail is not an error: see [`PcapStats::truncated`]). Malformed packets are
/// counted, not errors, unless no frame decodes at all: then [`InspectError::NothingDecoded`]
/// says why (no datagram on the lidar port — listing the ports the datagrams went to and
/// whether the metadata lacks `udp_port_lidar` — or every lidar packet rejected — with the
/// decoder's reason, the absent metadata keys such as `data_format`, and the profile the
/// packets' size fits).
pub fn inspect_ouster_pcap(
    pcap: &Path,
    metadata: &Path,
    options: &InspectOptions,
) -> Result<InspectReport, InspectError> {
    let metadata_file = metadata;
    let metadata = OusterMetadata::read(metadata_file)?;
    let lidar_port = options.lidar_port.or(metadata.udp_port_lidar).unwrap_or(OUSTER_DEFAULT_LIDAR_PORT);
    let imu_port = options.imu_port.or(metadata.udp_port_imu).unwrap_or(OUSTER_DEFAULT_IMU_PORT);
    let mut batcher = OusterScanBatcher::new(&metadata);
    let mut packet_digest = options.digest.then(|| PacketDigest::new(batcher.format()));
    let mut reader = PcapUdpReader::open(pcap)?;
    let mut packets = PacketSummary::default();
    let mut scans = Vec::new();
    let mut frames = Vec::new();
    let mut scan_digests = Vec::new();
    let mut census = DatagramCensus::default();
    let mut summarise = |scans: &mut Vec<super::ouster::LidarScan>| {
        for scan in scans.drain(..) {
            if options.digest {
                scan_digests.push(scan_digest(&scan));
            }
            frames.push(FrameSummary {
                frame_id: u64::from(scan.frame_id),
                stamp_ns: scan.stamp_ns(),
                packets: scan.packets,
                complete: scan.is_complete(),
                points: scan.returns(),
            });
        }
    };
    while let Some(datagram) = reader.next_datagram()? {
        census.note(datagram.destination.port(), datagram.payload.len());
        if classify(datagram.destination.port(), lidar_port, imu_port, &mut packets) != PortKind::Lidar {
            continue;
        }
        if let Some(digest) = packet_digest.as_mut() {
            digest.add_packet(&datagram.payload);
        }
        if let Err(error) = batcher.push(&datagram.payload, &mut scans) {
            tracing::debug!("{}: malformed lidar packet: {error}", pcap.display());
            census.reject(&error);
        }
        summarise(&mut scans);
    }
    batcher.flush(&mut scans);
    summarise(&mut scans);
    packets.assembler = batcher.packet_counters();
    let report = InspectReport {
        capture_file: pcap.to_path_buf(),
        sensor: metadata.describe(),
        profile: metadata.udp_profile_lidar.to_string(),
        lidar_port,
        imu_port,
        frames,
        packets,
        capture: reader.stats(),
        digest: packet_digest
            .map(|digest| StreamDigest { packet_hash: digest.finish(), scans: scan_digests }),
    };
    if !report.frames.is_empty() {
        return Ok(report);
    }
    let origin =
        port_origin(options.lidar_port, metadata.udp_port_lidar, "udp_port_lidar", OUSTER_DEFAULT_LIDAR_PORT);
    let cause =
        census.cause(&report.packets, lidar_port, &origin, Some(batcher.format().packet_bytes()), |len| {
            ouster_packet_hint(&metadata, metadata_file, len)
        });
    Err(InspectError::NothingDecoded { capture: pcap.to_path_buf(), cause, report: Box::new(report) })
}

/// Inspects a Velodyne capture: data packets (to the data port) are decoded with `config` and
/// cut into rotations at `cut_azimuth_deg`. No digests (the vendor publishes none).
///
/// # Errors
/// [`InspectError::Velodyne`] for unusable decoder settings; [`InspectError::Capture`] and
/// [`InspectError::NothingDecoded`] as for [`inspect_ouster_pcap`].
pub fn inspect_velodyne_pcap(
    pcap: &Path,
    config: VelodyneDecoderConfig,
    cut_azimuth_deg: f64,
    options: &InspectOptions,
) -> Result<InspectReport, InspectError> {
    let model = config.model;
    let decoder = VelodyneDecoder::new(config)?;
    let lidar_port = options.lidar_port.unwrap_or(VELODYNE_DEFAULT_DATA_PORT);
    let imu_port = options.imu_port.unwrap_or(VELODYNE_DEFAULT_POSITION_PORT);
    let mut assembler = VelodyneRotationAssembler::new(decoder, cut_azimuth_deg);
    let mut reader = PcapUdpReader::open(pcap)?;
    let mut packets = PacketSummary::default();
    let mut rotations = Vec::new();
    let mut frames = Vec::new();
    let mut return_modes = std::collections::BTreeSet::new();
    let mut census = DatagramCensus::default();
    let mut product_ids = std::collections::BTreeSet::new();
    let mut summarise = |rotations: &mut Vec<super::velodyne::VelodyneRotation>| {
        for rotation in rotations.drain(..) {
            frames.push(FrameSummary {
                frame_id: frames.len() as u64,
                stamp_ns: u64::from(rotation.first_timestamp_us) * 1000,
                packets: rotation.packets,
                complete: rotation.complete,
                points: rotation.points.len(),
            });
        }
    };
    while let Some(datagram) = reader.next_datagram()? {
        census.note(datagram.destination.port(), datagram.payload.len());
        if classify(datagram.destination.port(), lidar_port, imu_port, &mut packets) != PortKind::Lidar {
            continue;
        }
        if let Ok(info) = assembler.decoder().packet_info(&datagram.payload) {
            return_modes.insert(format!("{:?}", info.return_mode).to_lowercase());
            product_ids.insert(info.product_id);
        }
        if let Err(error) = assembler.push_packet(&datagram.payload, &mut rotations) {
            tracing::debug!("{}: malformed Velodyne packet: {error}", pcap.display());
            census.reject(&error);
        }
        summarise(&mut rotations);
    }
    assembler.flush(&mut rotations);
    summarise(&mut rotations);
    packets.assembler = assembler.packet_counters();
    let product_ids: Vec<String> = product_ids.iter().map(|id| format!("{id:#04x}")).collect();
    let report = InspectReport {
        capture_file: pcap.to_path_buf(),
        sensor: format!("Velodyne {model} (product id byte {})", product_ids.join(", ")),
        profile: return_modes.into_iter().collect::<Vec<_>>().join(", "),
        lidar_port,
        imu_port,
        frames,
        packets,
        capture: reader.stats(),
        digest: None,
    };
    if !report.frames.is_empty() {
        return Ok(report);
    }
    let origin = if options.lidar_port.is_some() {
        "as given".to_owned()
    } else {
        format!("the Velodyne default {VELODYNE_DEFAULT_DATA_PORT}")
    };
    let cause = census.cause(&report.packets, lidar_port, &origin, None, |_| String::new());
    Err(InspectError::NothingDecoded { capture: pcap.to_path_buf(), cause, report: Box::new(report) })
}
