//! Velodyne models and their laser tables (calibration).

use serde::{Deserialize, Serialize};

use super::VelodyneError;

/// A Velodyne sensor model: fixes the laser count, the laser table, the distance unit and the
/// firing schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VelodyneModel {
    /// VLP-16 / Puck / Puck LITE (product id 0x22): 16 lasers, two firing sequences per block.
    Vlp16,
    /// VLP-32C / Ultra Puck (product id 0x28): 32 lasers fired in pairs, azimuth offsets per
    /// laser.
    Vlp32c,
    /// HDL-32E (product id 0x21): 32 lasers, one firing per block.
    Hdl32e,
    /// HDL-64E S2/S3: 64 lasers in an upper (block flag 0xEEFF) and a lower (0xDDFF) bank;
    /// per-unit calibration.
    Hdl64e,
}

impl VelodyneModel {
    /// The model a packet's product-id byte (offset 1205) names, if known. HDL-64E packets carry
    /// a status byte there instead and are never detected this way.
    pub fn from_product_id(product_id: u8) -> Option<Self> {
        match product_id {
            0x22 => Some(Self::Vlp16),
            0x28 => Some(Self::Vlp32c),
            0x21 => Some(Self::Hdl32e),
            _ => None,
        }
    }

    /// The product-id byte this model sends (VLP-16 user manual, Table 9-2 "Factory Byte
    /// Values"); `None` for the HDL-64E.
    pub fn product_id(self) -> Option<u8> {
        match self {
            Self::Vlp16 => Some(0x22),
            Self::Vlp32c => Some(0x28),
            Self::Hdl32e => Some(0x21),
            Self::Hdl64e => None,
        }
    }

    /// Model name as Velodyne writes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Vlp16 => "VLP-16",
            Self::Vlp32c => "VLP-32C",
            Self::Hdl32e => "HDL-32E",
            Self::Hdl64e => "HDL-64E",
        }
    }

    /// Number of lasers.
    pub fn lasers(self) -> usize {
        match self {
            Self::Vlp16 => 16,
            Self::Vlp32c | Self::Hdl32e => 32,
            Self::Hdl64e => 64,
        }
    }

    /// Distance unit of the raw `u16` distances, metres: 2 mm, except the VLP-32C's 4 mm
    /// (VLP-32C user manual, "Data Point").
    pub fn distance_resolution_m(self) -> f64 {
        match self {
            Self::Vlp32c => 0.004,
            Self::Vlp16 | Self::Hdl32e | Self::Hdl64e => 0.002,
        }
    }

    /// Duration of the firing(s) one data block holds, microseconds (user manuals, "Firing
    /// Sequence Timing"): VLP-16 two sequences of 55.296 µs; VLP-32C one of 55.296 µs; HDL-32E
    /// one of 46.080 µs. `None` for the HDL-64E, whose manual publishes no per-laser schedule.
    pub fn block_duration_us(self) -> Option<f64> {
        match self {
            Self::Vlp16 => Some(110.592),
            Self::Vlp32c => Some(55.296),
            Self::Hdl32e => Some(46.080),
            Self::Hdl64e => None,
        }
    }

    /// The published (factory) laser table of this model. For the HDL-64E this is only the
    /// nominal fan (upper bank +2° to −8.33° in 1/3° steps, lower bank −8.83° to −24.33° in
    /// 1/2° steps, no offsets): every HDL-64E unit ships its own `db.xml` whose corrections
    /// (distance offsets over a metre, per-laser azimuth and elevation) must be passed with
    /// [`VelodyneCalibration::from_ros_json`] for metric accuracy.
    pub fn factory_calibration(self) -> VelodyneCalibration {
        let lasers = match self {
            Self::Vlp16 => {
                VLP16_VERTICAL_DEG.iter().map(|&vertical| LaserCorrection::angles(vertical, 0.0)).collect()
            }
            Self::Vlp32c => VLP32C_TABLE_DEG
                .iter()
                .map(|&(vertical, azimuth)| LaserCorrection::angles(vertical, azimuth))
                .collect(),
            Self::Hdl32e => {
                HDL32E_VERTICAL_DEG.iter().map(|&vertical| LaserCorrection::angles(vertical, 0.0)).collect()
            }
            Self::Hdl64e => (0..64)
                .map(|laser| {
                    let vertical = if laser < 32 {
                        2.0 - f64::from(laser) * (10.33 / 31.0)
                    } else {
                        -8.83 - f64::from(laser - 32) * 0.5
                    };
                    LaserCorrection::angles(vertical, 0.0)
                })
                .collect(),
        };
        VelodyneCalibration { distance_resolution_m: self.distance_resolution_m(), lasers }
    }
}

impl VelodyneModel {
    /// Every model, in the order command lines list them.
    pub const ALL: [Self; 4] = [Self::Vlp16, Self::Vlp32c, Self::Hdl32e, Self::Hdl64e];

    /// The model's name on command lines and in configuration: `vlp16`, `vlp32c`, `hdl32e`,
    /// `hdl64e` (its [`VelodyneModel::name`] in lower case without the dash).
    pub fn cli_name(self) -> &'static str {
        match self {
            Self::Vlp16 => "vlp16",
            Self::Vlp32c => "vlp32c",
            Self::Hdl32e => "hdl32e",
            Self::Hdl64e => "hdl64e",
        }
    }
}

impl std::str::FromStr for VelodyneModel {
    type Err = String;

    /// Parses a [`VelodyneModel::cli_name`] or a [`VelodyneModel::name`], in any case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|model| {
                text.eq_ignore_ascii_case(model.cli_name()) || text.eq_ignore_ascii_case(model.name())
            })
            .ok_or_else(|| format!("unknown Velodyne model `{text}` (vlp16, vlp32c, hdl32e, hdl64e)"))
    }
}

impl std::fmt::Display for VelodyneModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// VLP-16 elevation of laser ids 0..15, degrees (VLP-16 user manual, Table 9-1 "Laser ID and
/// Vertical Angle").
const VLP16_VERTICAL_DEG: [f64; 16] =
    [-15.0, 1.0, -13.0, 3.0, -11.0, 5.0, -9.0, 7.0, -7.0, 9.0, -5.0, 11.0, -3.0, 13.0, -1.0, 15.0];

/// VLP-32C (elevation, azimuth offset) of laser ids 0..31, degrees (VLP-32C user manual, "Laser
/// Channel Vertical Angles and Azimuth Offsets").
const VLP32C_TABLE_DEG: [(f64, f64); 32] = [
    (-25.0, 1.4),
    (-1.0, -4.2),
    (-1.667, 1.4),
    (-15.639, -1.4),
    (-11.31, 1.4),
    (0.0, -1.4),
    (-0.667, 4.2),
    (-8.843, -1.4),
    (-7.254, 1.4),
    (0.333, -4.2),
    (-0.333, 1.4),
    (-6.148, -1.4),
    (-5.333, 4.2),
    (1.333, -1.4),
    (0.667, 4.2),
    (-4.0, -1.4),
    (-4.667, 1.4),
    (1.667, -4.2),
    (1.0, 1.4),
    (-3.667, -4.2),
    (-3.333, 4.2),
    (3.333, -1.4),
    (2.333, 1.4),
    (-2.667, -1.4),
    (-3.0, 1.4),
    (7.0, -1.4),
    (4.667, 1.4),
    (-2.333, -4.2),
    (-2.0, 4.2),
    (15.0, -1.4),
    (10.333, 1.4),
    (-1.333, -1.4),
];

/// HDL-32E elevation of laser ids 0..31, degrees (HDL-32E user manual, "Laser Vertical
/// Angles").
const HDL32E_VERTICAL_DEG: [f64; 32] = [
    -30.67, -9.33, -29.33, -8.00, -28.00, -6.67, -26.67, -5.33, -25.33, -4.00, -24.00, -2.67, -22.67, -1.33,
    -21.33, 0.00, -20.00, 1.33, -18.67, 2.67, -17.33, 4.00, -16.00, 5.33, -14.67, 6.67, -13.33, 8.00, -12.00,
    9.33, -10.67, 10.67,
];

/// Corrections of one laser.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaserCorrection {
    /// Elevation angle ω, degrees, positive up.
    pub vertical_deg: f64,
    /// Azimuth offset added to the firing azimuth, degrees, clockwise seen from above (the
    /// VLP-32C manual's sign; ROS `rot_correction` is its negative, in radians).
    pub azimuth_offset_deg: f64,
    /// Added to every measured distance, metres (ROS `dist_correction`).
    pub distance_offset_m: f64,
    /// Height of the laser's origin above the sensor's, metres (ROS `vert_offset_correction`).
    pub vertical_offset_m: f64,
    /// Sideways offset of the laser's origin, metres (ROS `horiz_offset_correction`).
    pub horizontal_offset_m: f64,
}

impl LaserCorrection {
    fn angles(vertical_deg: f64, azimuth_offset_deg: f64) -> Self {
        Self {
            vertical_deg,
            azimuth_offset_deg,
            distance_offset_m: 0.0,
            vertical_offset_m: 0.0,
            horizontal_offset_m: 0.0,
        }
    }
}

/// A sensor's laser table: one [`LaserCorrection`] per laser id and the distance unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VelodyneCalibration {
    /// Metres per raw distance count.
    pub distance_resolution_m: f64,
    /// Corrections indexed by laser id.
    pub lasers: Vec<LaserCorrection>,
}

/// One laser of the ROS `velodyne_pointcloud` calibration format (the YAML that
/// `gen_calibration.py` writes from a `db.xml`), read from its JSON rendering.
#[derive(Deserialize)]
struct RosLaser {
    laser_id: usize,
    #[serde(default)]
    rot_correction: f64,
    vert_correction: f64,
    #[serde(default)]
    dist_correction: f64,
    #[serde(default)]
    vert_offset_correction: f64,
    #[serde(default)]
    horiz_offset_correction: f64,
}

#[derive(Deserialize)]
struct RosCalibration {
    #[serde(default)]
    distance_resolution: Option<f64>,
    lasers: Vec<RosLaser>,
}

impl VelodyneCalibration {
    /// Reads a calibration in the ROS `velodyne_pointcloud` format rendered as JSON
    /// (`{"distance_resolution": 0.002, "lasers": [{"laser_id": 0, "rot_correction": ...,
    /// "vert_correction": ..., "dist_correction": ..., "vert_offset_correction": ...,
    /// "horiz_offset_correction": ...}, ...]}`; radians and metres; other keys such as
    /// `dist_correction_x`, `focal_distance` are accepted and not applied). This is how an
    /// HDL-64E's per-unit `db.xml` reaches the decoder (`db.xml` → ROS YAML → JSON).
    ///
    /// # Errors
    /// [`VelodyneError::CalibrationJson`] for invalid JSON; [`VelodyneError::Calibration`] when
    /// a laser id is repeated or out of range, or a value is not finite.
    pub fn from_ros_json(text: &str, model: VelodyneModel) -> Result<Self, VelodyneError> {
        let ros: RosCalibration =
            serde_json::from_str(text).map_err(|source| VelodyneError::CalibrationJson { source })?;
        let mut lasers: Vec<Option<LaserCorrection>> = vec![None; model.lasers()];
        for laser in &ros.lasers {
            let slot = lasers.get_mut(laser.laser_id).ok_or_else(|| VelodyneError::Calibration {
                reason: format!("laser id {} outside 0..{} for the {model}", laser.laser_id, model.lasers()),
            })?;
            if slot.is_some() {
                return Err(VelodyneError::Calibration {
                    reason: format!("laser id {} listed twice", laser.laser_id),
                });
            }
            *slot = Some(LaserCorrection {
                vertical_deg: laser.vert_correction.to_degrees(),
                azimuth_offset_deg: -laser.rot_correction.to_degrees(),
                distance_offset_m: laser.dist_correction,
                vertical_offset_m: laser.vert_offset_correction,
                horizontal_offset_m: laser.horiz_offset_correction,
            });
        }
        let lasers = lasers
            .into_iter()
            .enumerate()
            .map(|(id, laser)| {
                laser.ok_or_else(|| VelodyneError::Calibration { reason: format!("laser id {id} missing") })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let calibration = Self {
            distance_resolution_m: ros.distance_resolution.unwrap_or(model.distance_resolution_m()),
            lasers,
        };
        calibration.validate(model)?;
        Ok(calibration)
    }

    /// Checks the table fits `model`.
    ///
    /// # Errors
    /// [`VelodyneError::Calibration`] when the laser count differs from the model's, the
    /// resolution is not positive, or a value is not finite.
    pub fn validate(&self, model: VelodyneModel) -> Result<(), VelodyneError> {
        if self.lasers.len() != model.lasers() {
            return Err(VelodyneError::Calibration {
                reason: format!("{} lasers for the {model}, which has {}", self.lasers.len(), model.lasers()),
            });
        }
        if !(self.distance_resolution_m.is_finite() && self.distance_resolution_m > 0.0) {
            return Err(VelodyneError::Calibration {
                reason: format!("distance resolution {} m is not positive", self.distance_resolution_m),
            });
        }
        for (id, laser) in self.lasers.iter().enumerate() {
            let values = [
                laser.vertical_deg,
                laser.azimuth_offset_deg,
                laser.distance_offset_m,
                laser.vertical_offset_m,
                laser.horizontal_offset_m,
            ];
            if values.iter().any(|value| !value.is_finite()) {
                return Err(VelodyneError::Calibration {
                    reason: format!("laser {id} has a non-finite value"),
                });
            }
        }
        Ok(())
    }
}
