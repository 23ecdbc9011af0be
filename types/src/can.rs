//! Vehicle CAN frames and the vehicle signals decoded from them.

use serde::{Deserialize, Serialize};

/// One CAN (2.0 or FD) frame as received or sent on a vehicle bus.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanFrame {
    /// Time of reception (or of sending), ns on the truck clock.
    pub stamp_ns: u64,
    /// Name of the bus it was seen on (`can0`, a candump log's interface column).
    pub bus: String,
    /// Arbitration id: 11 bits for standard frames, 29 bits when `extended`.
    pub can_id: u32,
    /// Whether `can_id` is a 29-bit extended id.
    pub extended: bool,
    /// Payload: 0..=8 bytes (classic CAN) or up to 64 bytes (CAN FD).
    pub data: Vec<u8>,
}

/// The truck's own motion and state, decoded from vehicle CAN through a DBC file.
///
/// Each field is `None` when the configured signal has not been received yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VehicleSignals {
    /// Time of the newest frame that contributed, ns on the truck clock.
    pub stamp_ns: u64,
    /// Longitudinal speed over ground, m/s, positive forward.
    pub speed_mps: Option<f64>,
    /// Yaw rate about the ego z axis, rad/s, positive counter-clockwise.
    pub yaw_rate_radps: Option<f64>,
    /// Gear selector position as the DBC's raw value (its value table names it).
    pub gear: Option<i64>,
    /// Service brake demand, `0.0..=1.0` (1: full braking).
    pub brake_ratio: Option<f64>,
}
