use nalgebra::Isometry3;
use serde::{Deserialize, Serialize};

use crate::Header;

/// The truck's own motion, from GNSS/INS and wheel odometry (CAN).
///
/// Header frame is [`crate::FrameId::Site`]: `site_from_truck` places the ego frame in the
/// site's ENU frame at `stamp_ns`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EgoState {
    /// Time of validity and frame (`Site`).
    pub header: Header,
    /// Pose of the truck (ego frame) in the site frame, metres and unit quaternion.
    pub site_from_truck: Isometry3<f64>,
    /// Longitudinal speed over ground, m/s, positive forward.
    pub speed_mps: f64,
    /// Yaw rate about the ego z axis, rad/s, positive counter-clockwise (left turn).
    pub yaw_rate_radps: f64,
    /// Longitudinal acceleration, m/s², positive forward.
    pub accel_mps2: f64,
}
