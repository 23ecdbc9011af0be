use serde::{Deserialize, Serialize};

use crate::Header;

/// One lidar return: position in metres in the cloud's frame and intensity.
///
/// `intensity` is the sensor's return strength normalised to `0.0..=1.0` where the sensor gives
/// it so (KITTI reflectance); other sensors document their scale in their driver.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[repr(C)]
pub struct PointXyzi {
    /// Forward coordinate, metres.
    pub x_m: f32,
    /// Left coordinate, metres.
    pub y_m: f32,
    /// Up coordinate, metres.
    pub z_m: f32,
    /// Return intensity (sensor-specific scale, KITTI: reflectance 0..1).
    pub intensity: f32,
}

impl PointXyzi {
    /// Whether all four fields are finite (no NaN or infinity).
    pub fn is_finite(&self) -> bool {
        self.x_m.is_finite() && self.y_m.is_finite() && self.z_m.is_finite() && self.intensity.is_finite()
    }

    /// Euclidean distance from the frame origin, metres.
    pub fn range_m(&self) -> f32 {
        (self.x_m * self.x_m + self.y_m * self.y_m + self.z_m * self.z_m).sqrt()
    }
}

/// One lidar rotation (or file frame) as an unordered list of points.
///
/// The header's frame is normally [`crate::FrameId::Lidar`]; `stamp_ns` is the time of the
/// rotation's cut (KITTI: the frame's nominal time).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointCloud {
    /// Time of validity, frame and sequence number.
    pub header: Header,
    /// The points, in the header's frame.
    pub points: Vec<PointXyzi>,
}
