//! Velodyne packets to rotations, cut at a configurable azimuth.

use pitsense_types::{Header, PointCloud, PointXyzi};

use super::{PacketInfo, VelodyneDecoder, VelodyneError, VelodynePoint};
use crate::drivers::{PacketCounters, RotationAssembler};

/// Velodyne timestamps count microseconds past the hour.
const HOUR_US: u64 = 3_600_000_000;

/// One rotation of Velodyne returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VelodyneRotation {
    /// The returns, in arrival order.
    pub points: Vec<VelodynePoint>,
    /// Per point, its firing time in microseconds past the hour (packet timestamp + offset),
    /// parallel to `points`.
    pub point_time_us: Vec<f64>,
    /// Timestamp of the first packet, microseconds past the hour.
    pub first_timestamp_us: u32,
    /// Packets that contributed.
    pub packets: usize,
    /// Whether the rotation began and ended at the cut azimuth with no packet lost in between
    /// (false for the partial rotations at the start and end of a stream).
    pub complete: bool,
}

impl VelodyneRotation {
    /// The returns as a point cloud (x forward, y left, z up, metres; intensity =
    /// reflectivity / 255) with the given header (Velodyne time is only "microseconds past the
    /// hour", so the caller supplies the absolute stamp).
    pub fn point_cloud(&self, header: Header) -> PointCloud {
        let points = self
            .points
            .iter()
            .map(|point| PointXyzi {
                x_m: point.x_m,
                y_m: point.y_m,
                z_m: point.z_m,
                intensity: f32::from(point.reflectivity) / 255.0,
            })
            .collect();
        PointCloud { header, points }
    }
}

/// Groups decoded packets into rotations.
///
/// A rotation ends before the first data block whose (raw, block) azimuth reaches the cut
/// azimuth coming from below, i.e. when the cut lies in `(previous block, this block]` going
/// clockwise. A packet straddling the cut is split at that block. Points keep their per-laser
/// corrected azimuths, so with azimuth offsets (VLP-32C, HDL-64E) a few returns of the block
/// before the cut may lie up to the offset past it.
///
/// Counters: lost packets are estimated from timestamp gaps over 1.5 nominal packet periods
/// (not for the HDL-64E, which has no published period); a packet with the same timestamp and
/// first azimuth as the previous one is a duplicate; one rejected by the decoder is malformed.
#[derive(Clone, Debug)]
pub struct VelodyneRotationAssembler {
    decoder: VelodyneDecoder,
    cut_azimuth_cdeg: u16,
    current: VelodyneRotation,
    started_at_cut: bool,
    lost_in_current: bool,
    last_block_azimuth: Option<u16>,
    last_packet: Option<(u32, u16)>,
    scratch: Vec<VelodynePoint>,
    counters: PacketCounters,
}

impl VelodyneRotationAssembler {
    /// An assembler cutting rotations at `cut_azimuth_deg` (degrees, clockwise from forward;
    /// taken modulo 360, rounded to 0.01°).
    pub fn new(decoder: VelodyneDecoder, cut_azimuth_deg: f64) -> Self {
        let cut = if cut_azimuth_deg.is_finite() {
            (cut_azimuth_deg.rem_euclid(360.0) * 100.0).round()
        } else {
            0.0
        };
        Self {
            decoder,
            cut_azimuth_cdeg: (cut as u16) % 36_000,
            current: VelodyneRotation::default(),
            started_at_cut: false,
            lost_in_current: false,
            last_block_azimuth: None,
            last_packet: None,
            scratch: Vec::new(),
            counters: PacketCounters::default(),
        }
    }

    /// The decoder in use.
    pub fn decoder(&self) -> &VelodyneDecoder {
        &self.decoder
    }

    /// Whether going from azimuth `from` to `to` (clockwise, hundredths) crosses the cut.
    fn crosses_cut(&self, from: u16, to: u16) -> bool {
        let forward = |a: u16, b: u16| (i32::from(b) - i32::from(a)).rem_euclid(36_000);
        let step = forward(from, to);
        let to_cut = forward(from, self.cut_azimuth_cdeg);
        step > 0 && step < 18_000 && to_cut > 0 && to_cut <= step
    }

    fn note_timing(&mut self, info: &PacketInfo) -> bool {
        let first_azimuth = info.block_azimuths_cdeg.first().copied().unwrap_or(0);
        let key = (info.timestamp_us, first_azimuth);
        if self.last_packet == Some(key) {
            self.counters.duplicate += 1;
            return false;
        }
        if let (Some((last_time, _)), Some(period)) =
            (self.last_packet, self.decoder.packet_period_us(info.return_mode))
        {
            let elapsed = (u64::from(info.timestamp_us) + HOUR_US - u64::from(last_time) % HOUR_US) % HOUR_US;
            let elapsed = elapsed as f64;
            // Gaps over half an hour are clock jumps (resynchronisation), not loss.
            if elapsed > 1.5 * period && elapsed < HOUR_US as f64 / 2.0 {
                let missing = (elapsed / period).round() - 1.0;
                if missing >= 1.0 {
                    self.counters.lost += missing as u64;
                    self.lost_in_current = true;
                }
            }
        }
        self.last_packet = Some(key);
        true
    }

    /// Adds one packet's share of points (possibly none) to the rotation in progress.
    fn append(&mut self, points: &[VelodynePoint], info: &PacketInfo) {
        if self.current.packets == 0 {
            self.current.first_timestamp_us = info.timestamp_us;
        }
        self.current.packets += 1;
        let base_time_us = f64::from(info.timestamp_us);
        for point in points {
            self.current.point_time_us.push(base_time_us + f64::from(point.time_offset_us));
            self.current.points.push(*point);
        }
    }

    /// Closes the rotation in progress (if it holds any packet) and starts the next one.
    fn emit(&mut self, rotations: &mut Vec<VelodyneRotation>, ended_at_cut: bool) {
        if self.current.packets == 0 {
            self.started_at_cut = ended_at_cut;
            self.lost_in_current = false;
            return;
        }
        let mut rotation = std::mem::take(&mut self.current);
        rotation.complete = self.started_at_cut && ended_at_cut && !self.lost_in_current;
        self.counters.rotations += 1;
        if !rotation.complete {
            self.counters.incomplete_rotations += 1;
        }
        rotations.push(rotation);
        self.started_at_cut = ended_at_cut;
        self.lost_in_current = false;
    }
}

impl RotationAssembler for VelodyneRotationAssembler {
    type Rotation = VelodyneRotation;
    type Error = VelodyneError;

    fn push_packet(
        &mut self,
        payload: &[u8],
        rotations: &mut Vec<VelodyneRotation>,
    ) -> Result<(), VelodyneError> {
        self.scratch.clear();
        let info = match self.decoder.decode(payload, &mut self.scratch) {
            Ok(info) => info,
            Err(error) => {
                self.counters.malformed += 1;
                return Err(error);
            }
        };
        if !self.note_timing(&info) {
            return Ok(());
        }
        self.counters.packets += 1;
        // The first block (if any) at which this packet crosses the cut.
        let mut previous = self.last_block_azimuth;
        let mut cut_block = None;
        for (block, &azimuth) in info.block_azimuths_cdeg.iter().enumerate() {
            if let Some(previous) = previous
                && cut_block.is_none()
                && self.crosses_cut(previous, azimuth)
            {
                cut_block = Some(block);
            }
            previous = Some(azimuth);
        }
        self.last_block_azimuth = previous;

        let mut points = std::mem::take(&mut self.scratch);
        let split = match cut_block {
            Some(block) => {
                points.iter().position(|point| usize::from(point.block) >= block).unwrap_or(points.len())
            }
            None => points.len(),
        };
        let after = points.split_off(split);
        if cut_block != Some(0) {
            self.append(&points, &info);
        }
        if cut_block.is_some() {
            self.emit(rotations, true);
            self.append(&after, &info);
        }
        points.clear();
        self.scratch = points;
        Ok(())
    }

    fn flush(&mut self, rotations: &mut Vec<VelodyneRotation>) {
        self.emit(rotations, false);
    }

    fn packet_counters(&self) -> PacketCounters {
        self.counters
    }
}
