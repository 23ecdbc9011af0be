//! Velodyne data-packet decoding.
//!
//! Layout of the 1206-byte UDP payload (VLP-16 user manual §9.3 "Data Packet Structure"; the
//! VLP-32C, HDL-32E and HDL-64E manuals use the same frame). Little-endian:
//!
//! ```text
//! offset  size  content
//!      0  100   data block 0:  u16 flag (0xEEFF; HDL-64E lower bank 0xDDFF)
//!                              u16 azimuth, hundredths of a degree, 0..=36000
//!                              (36000 = 360.00° = 0°: sensors emit it where the encoder
//!                              rounds up to a full turn, so it is read as 0)
//!                              32 × { u16 distance (2 mm, VLP-32C 4 mm; 0 = no return),
//!                                     u8 calibrated reflectivity }
//!    100  100   data block 1
//!    ...
//!   1100  100   data block 11
//!   1200    4   u32 timestamp, microseconds past the hour (first firing of block 0)
//!   1204    1   return mode: 0x37 strongest, 0x38 last, 0x39 dual (HDL-64E: status type)
//!   1205    1   product id: 0x22 VLP-16, 0x28 VLP-32C, 0x21 HDL-32E (HDL-64E: status value)
//! ```
//!
//! Channel `k` (0..32) of a block is laser `k % 16`, firing sequence `k / 16` on the VLP-16;
//! laser `k` on the 32-laser models; laser `k` (flag 0xEEFF) or `32 + k` (0xDDFF) on the
//! HDL-64E. In dual-return mode blocks come in pairs with the same azimuth: the even block holds
//! the last return, the odd block the strongest (or second-strongest when the strongest is the
//! last) (VLP-16 manual §9.3.1.5 "Dual Return Mode").
//!
//! Azimuth of each firing (manual §9.5 "Precision Azimuth Calculation"): the block's azimuth
//! plus the azimuth gap to the next block's firing, times the firing's time offset over the
//! block duration. Firing time offsets (manual "Firing Sequence Timing"): VLP-16
//! `55.296 µs × sequence + 2.304 µs × laser`; VLP-32C `2.304 µs × ⌊channel / 2⌋` (lasers fire
//! in pairs); HDL-32E `1.152 µs × channel`. The HDL-64E's manual publishes no per-laser
//! schedule: its points take the block azimuth (as the ROS driver does) and time offset 0 within
//! a block.
//!
//! XYZ (VLP-16 manual §9.5 "Coordinate Calculation", with the per-laser corrections of the ROS
//! `velodyne_pointcloud` driver): with distance `r` (raw × resolution + distance offset),
//! elevation `ω`, corrected azimuth `α` (clockwise seen from above, 0 = forward), vertical
//! offset `v` and horizontal offset `h`,
//!
//! ```text
//! xy = r cos ω − v sin ω
//! X  = xy sin α − h cos α      (Velodyne frame: X right, Y forward, Z up)
//! Y  = xy cos α + h sin α
//! Z  = r sin ω + v cos ω
//! ```
//!
//! which for a VLP-16 (no offsets) is the manual's `X = r cos ω sin α, Y = r cos ω cos α,
//! Z = r sin ω`. Points are then given in the pitsense lidar frame, x forward, y left, z up,
//! exactly as the ROS `velodyne` driver does: `x = Y, y = −X, z = Z`.

use serde::{Deserialize, Serialize};

use super::{VelodyneCalibration, VelodyneError, VelodyneModel};
use crate::drivers::bytes;

/// Bytes of a standard Velodyne data payload.
pub const DATA_PACKET_BYTES: usize = 1206;
const BLOCKS: usize = 12;
const BLOCK_BYTES: usize = 100;
const CHANNELS: usize = 32;
/// A full turn, hundredths of a degree.
const FULL_TURN_CDEG: u16 = 36_000;
const UPPER_BANK_FLAG: u16 = 0xEEFF;
const LOWER_BANK_FLAG: u16 = 0xDDFF;

/// The packet's return mode (factory byte at offset 1204).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnMode {
    /// 0x37: each block is the strongest return of its firing.
    Strongest,
    /// 0x38: each block is the last return of its firing.
    Last,
    /// 0x39: block pairs hold the last and the strongest return of one firing.
    Dual,
}

impl ReturnMode {
    /// The mode a factory byte names.
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0x37 => Some(Self::Strongest),
            0x38 => Some(Self::Last),
            0x39 => Some(Self::Dual),
            _ => None,
        }
    }
}

/// Which return of a firing a point is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnKind {
    /// Strongest return (single strongest mode, or the odd block of a dual pair).
    Strongest,
    /// Last return (single last mode, or the even block of a dual pair).
    Last,
    /// HDL-64E, whose packets do not say.
    Unlabelled,
}

/// One decoded Velodyne return.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct VelodynePoint {
    /// Forward, metres (pitsense lidar frame).
    pub x_m: f32,
    /// Left, metres.
    pub y_m: f32,
    /// Up, metres.
    pub z_m: f32,
    /// Corrected distance, metres.
    pub distance_m: f32,
    /// Corrected azimuth, degrees in `0..360`, clockwise seen from above, 0 = forward.
    pub azimuth_deg: f32,
    /// Calibrated reflectivity, 0..=255 (diffuse 0..=100, retro-reflective 101..=255).
    pub reflectivity: u8,
    /// Laser id (row of the laser table).
    pub laser_id: u8,
    /// Block index in the packet, 0..12.
    pub block: u8,
    /// Which return of its firing this is.
    pub return_kind: ReturnKind,
    /// Firing time after the packet timestamp, microseconds.
    pub time_offset_us: f32,
}

/// What a packet said besides its points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PacketInfo {
    /// Timestamp, microseconds past the hour (sensor clock; GPS-synchronised when a GPS is
    /// connected).
    pub timestamp_us: u32,
    /// Return mode (for the HDL-64E, the configured one).
    pub return_mode: ReturnMode,
    /// Return-mode byte as received (HDL-64E: status type).
    pub return_mode_byte: u8,
    /// Product-id byte as received (HDL-64E: status value).
    pub product_id: u8,
    /// Azimuth of each block, hundredths of a degree, `0..36000` (a raw 36000 reads as 0).
    pub block_azimuths_cdeg: [u16; BLOCKS],
    /// Returns with a non-zero distance inside the configured range.
    pub points: usize,
    /// Payload bytes beyond the standard 1206 (0 normally).
    pub extra_bytes: usize,
}

/// Decoder settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VelodyneDecoderConfig {
    /// The sensor model (decides tables and timing; packets' product id is reported, not
    /// trusted, since clones and firmware variants send other values).
    pub model: VelodyneModel,
    /// The laser table; `None` uses [`VelodyneModel::factory_calibration`].
    #[serde(default)]
    pub calibration: Option<VelodyneCalibration>,
    /// Returns closer than this are dropped, metres (0 keeps every non-zero distance).
    #[serde(default)]
    pub min_range_m: f64,
    /// Returns farther than this are dropped, metres.
    #[serde(default = "default_max_range_m")]
    pub max_range_m: f64,
    /// Return mode assumed for the HDL-64E, whose packets carry status bytes instead.
    #[serde(default = "default_hdl64e_return_mode")]
    pub hdl64e_return_mode: ReturnMode,
}

fn default_max_range_m() -> f64 {
    300.0
}

fn default_hdl64e_return_mode() -> ReturnMode {
    ReturnMode::Strongest
}

impl VelodyneDecoderConfig {
    /// Factory table, every non-zero return up to 300 m.
    pub fn new(model: VelodyneModel) -> Self {
        Self {
            model,
            calibration: None,
            min_range_m: 0.0,
            max_range_m: default_max_range_m(),
            hdl64e_return_mode: default_hdl64e_return_mode(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct LaserTrig {
    cos_vertical: f64,
    sin_vertical: f64,
    azimuth_offset_deg: f64,
    distance_offset_m: f64,
    vertical_offset_m: f64,
    horizontal_offset_m: f64,
}

/// Decodes Velodyne data packets into points (see the module documentation for the format and
/// the formulas). Stateless per packet.
#[derive(Clone, Debug)]
pub struct VelodyneDecoder {
    config: VelodyneDecoderConfig,
    distance_resolution_m: f64,
    lasers: Vec<LaserTrig>,
}

impl VelodyneDecoder {
    /// A decoder for one sensor.
    ///
    /// # Errors
    /// [`VelodyneError::Calibration`] when the table does not fit the model or the range limits
    /// are not `0 <= min < max`.
    pub fn new(config: VelodyneDecoderConfig) -> Result<Self, VelodyneError> {
        let calibration = config.calibration.clone().unwrap_or_else(|| config.model.factory_calibration());
        calibration.validate(config.model)?;
        if !(config.min_range_m >= 0.0 && config.min_range_m < config.max_range_m) {
            return Err(VelodyneError::Calibration {
                reason: format!(
                    "range limits {} m .. {} m are not 0 <= min < max",
                    config.min_range_m, config.max_range_m
                ),
            });
        }
        let lasers = calibration
            .lasers
            .iter()
            .map(|laser| LaserTrig {
                cos_vertical: laser.vertical_deg.to_radians().cos(),
                sin_vertical: laser.vertical_deg.to_radians().sin(),
                azimuth_offset_deg: laser.azimuth_offset_deg,
                distance_offset_m: laser.distance_offset_m,
                vertical_offset_m: laser.vertical_offset_m,
                horizontal_offset_m: laser.horizontal_offset_m,
            })
            .collect();
        Ok(Self { distance_resolution_m: calibration.distance_resolution_m, config, lasers })
    }

    /// The settings in use.
    pub fn config(&self) -> &VelodyneDecoderConfig {
        &self.config
    }

    /// Nominal time between two packets, microseconds (12 blocks; dual return carries half as
    /// many firings); `None` for the HDL-64E.
    pub fn packet_period_us(&self, return_mode: ReturnMode) -> Option<f64> {
        let block = self.config.model.block_duration_us()?;
        Some(if return_mode == ReturnMode::Dual { block * 6.0 } else { block * 12.0 })
    }

    /// Reads the packet's trailer and block azimuths without producing points.
    ///
    /// # Errors
    /// As [`Self::decode`].
    pub fn packet_info(&self, payload: &[u8]) -> Result<PacketInfo, VelodyneError> {
        if payload.len() < DATA_PACKET_BYTES {
            return Err(VelodyneError::PayloadLength { actual: payload.len() });
        }
        // The trailer is the last six bytes: at offset 1200 in a standard payload. Some
        // recordings carry a longer payload (the shared `VLI-16-one-packet.pcap` has 1212
        // bytes, six extra bytes after the blocks); their trailer is still the last six.
        let trailer = payload.len() - 6;
        let timestamp_us =
            bytes::le_u32(payload, trailer).ok_or(VelodyneError::PayloadLength { actual: payload.len() })?;
        let return_mode_byte = payload.get(trailer + 4).copied().unwrap_or(0);
        let product_id = payload.get(trailer + 5).copied().unwrap_or(0);
        let mut block_azimuths_cdeg = [0_u16; BLOCKS];
        for (block, azimuth) in block_azimuths_cdeg.iter_mut().enumerate() {
            let base = block * BLOCK_BYTES;
            let flag = bytes::le_u16(payload, base).unwrap_or(0);
            let flag_ok = flag == UPPER_BANK_FLAG
                || (self.config.model == VelodyneModel::Hdl64e && flag == LOWER_BANK_FLAG);
            if !flag_ok {
                return Err(VelodyneError::BlockFlag { block, flag });
            }
            let raw = bytes::le_u16(payload, base + 2).unwrap_or(u16::MAX);
            *azimuth = match raw {
                0..FULL_TURN_CDEG => raw,
                // A full turn is the same direction as 0° (the ROS `velodyne` driver likewise
                // takes every azimuth modulo 36000).
                FULL_TURN_CDEG => 0,
                _ => return Err(VelodyneError::Azimuth { block, raw }),
            };
        }
        let return_mode = if self.config.model == VelodyneModel::Hdl64e {
            self.config.hdl64e_return_mode
        } else {
            ReturnMode::from_byte(return_mode_byte)
                .ok_or(VelodyneError::ReturnMode { byte: return_mode_byte })?
        };
        Ok(PacketInfo {
            timestamp_us,
            return_mode,
            return_mode_byte,
            product_id,
            block_azimuths_cdeg,
            points: 0,
            extra_bytes: payload.len() - DATA_PACKET_BYTES,
        })
    }

    /// Decodes one data packet, appending its returns to `points` (block order, then channel
    /// order; zero distances and returns outside the range limits are skipped).
    ///
    /// # Errors
    /// [`VelodyneError::PayloadLength`] for a payload shorter than 1206 bytes;
    /// [`VelodyneError::BlockFlag`] for a block flag other than 0xEEFF (or 0xDDFF on an
    /// HDL-64E); [`VelodyneError::Azimuth`] for an azimuth above 36000 (36000 itself is 0°); [`VelodyneError::ReturnMode`]
    /// for an unknown return-mode byte (not checked on the HDL-64E). Nothing is appended then.
    pub fn decode(
        &self,
        payload: &[u8],
        points: &mut Vec<VelodynePoint>,
    ) -> Result<PacketInfo, VelodyneError> {
        let mut info = self.packet_info(payload)?;
        let model = self.config.model;
        let dual = info.return_mode == ReturnMode::Dual && model != VelodyneModel::Hdl64e;
        let step = if dual { 2 } else { 1 };
        let start_len = points.len();

        // Azimuth gap (hundredths of a degree) from each block's firing to the next firing.
        let mut gaps = [0_i32; BLOCKS];
        let mut last_gap = 0_i32;
        for block in 0..BLOCKS {
            let next = block + step;
            let (Some(&here), Some(&there)) =
                (info.block_azimuths_cdeg.get(block), info.block_azimuths_cdeg.get(next))
            else {
                if let Some(gap) = gaps.get_mut(block) {
                    *gap = last_gap;
                }
                continue;
            };
            let mut gap = i32::from(there) - i32::from(here);
            if gap < 0 {
                gap += 36_000;
            }
            // A gap over 10° is a discontinuity (field-of-view limit), not rotation.
            if gap > 1_000 {
                gap = last_gap;
            }
            if let Some(slot) = gaps.get_mut(block) {
                *slot = gap;
            }
            last_gap = gap;
        }

        for block in 0..BLOCKS {
            let base = block * BLOCK_BYTES;
            let lower_bank = bytes::le_u16(payload, base) == Some(LOWER_BANK_FLAG);
            let azimuth_cdeg = f64::from(info.block_azimuths_cdeg.get(block).copied().unwrap_or(0));
            let gap_cdeg = f64::from(gaps.get(block).copied().unwrap_or(0));
            let firing = if dual { block / 2 } else { block };
            let return_kind = match (model, info.return_mode) {
                (VelodyneModel::Hdl64e, _) => ReturnKind::Unlabelled,
                (_, ReturnMode::Dual) if block % 2 == 0 => ReturnKind::Last,
                (_, ReturnMode::Last) => ReturnKind::Last,
                _ => ReturnKind::Strongest,
            };
            for channel in 0..CHANNELS {
                let entry = base + 4 + channel * 3;
                let (Some(raw_distance), Some(&reflectivity)) =
                    (bytes::le_u16(payload, entry), payload.get(entry + 2))
                else {
                    continue;
                };
                if raw_distance == 0 {
                    continue;
                }
                // Laser id, firing time within the block (µs) and the fraction of the
                // block's azimuth gap elapsed at that time.
                let (laser_id, time_in_block_us, fraction) = match model {
                    VelodyneModel::Vlp16 => {
                        let (sequence, laser) = (channel / 16, channel % 16);
                        let time = 55.296 * sequence as f64 + 2.304 * laser as f64;
                        (laser, time, time / 110.592)
                    }
                    VelodyneModel::Vlp32c => {
                        let time = 2.304 * (channel / 2) as f64;
                        (channel, time, time / 55.296)
                    }
                    VelodyneModel::Hdl32e => {
                        let time = 1.152 * channel as f64;
                        (channel, time, time / 46.080)
                    }
                    VelodyneModel::Hdl64e => (if lower_bank { 32 + channel } else { channel }, 0.0, 0.0),
                };
                let Some(laser) = self.lasers.get(laser_id) else { continue };
                let distance_m =
                    f64::from(raw_distance) * self.distance_resolution_m + laser.distance_offset_m;
                if distance_m < self.config.min_range_m || distance_m > self.config.max_range_m {
                    continue;
                }
                let azimuth_deg = ((azimuth_cdeg + gap_cdeg * fraction) / 100.0 + laser.azimuth_offset_deg)
                    .rem_euclid(360.0);
                let (sin_azimuth, cos_azimuth) = azimuth_deg.to_radians().sin_cos();
                let xy = distance_m * laser.cos_vertical - laser.vertical_offset_m * laser.sin_vertical;
                let velodyne_x = xy * sin_azimuth - laser.horizontal_offset_m * cos_azimuth;
                let velodyne_y = xy * cos_azimuth + laser.horizontal_offset_m * sin_azimuth;
                let velodyne_z =
                    distance_m * laser.sin_vertical + laser.vertical_offset_m * laser.cos_vertical;
                let time_offset_us = match model.block_duration_us() {
                    Some(duration) => duration * firing as f64 + time_in_block_us,
                    None => 0.0,
                };
                points.push(VelodynePoint {
                    x_m: velodyne_y as f32,
                    y_m: -velodyne_x as f32,
                    z_m: velodyne_z as f32,
                    distance_m: distance_m as f32,
                    azimuth_deg: azimuth_deg as f32,
                    reflectivity,
                    laser_id: laser_id as u8,
                    block: block as u8,
                    return_kind,
                    time_offset_us: time_offset_us as f32,
                });
            }
        }
        info.points = points.len() - start_len;
        Ok(info)
    }
}
