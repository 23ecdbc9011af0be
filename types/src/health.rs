//! Input health and degraded modes of the onboard runtime, named after ISO 17757's perception
//! failure modes (an input not received, received too slowly, stale, or failed).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The status of one input (lidar, camera, V2X, CAN, GNSS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputStatus {
    /// Messages arrive at (near) the nominal rate with fresh stamps.
    Ok,
    /// Nothing received since start-up.
    NotReceived,
    /// Messages arrive, but slower than the configured fraction of the nominal rate.
    RateLow,
    /// Nothing received for longer than the stale limit (two nominal periods).
    Stale,
    /// The input could not be opened or its source reported a fatal error.
    Failed,
}

impl InputStatus {
    /// Whether the input's data can be used (only [`InputStatus::Ok`] and
    /// [`InputStatus::RateLow`] deliver fresh data).
    pub fn is_usable(self) -> bool {
        matches!(self, Self::Ok | Self::RateLow)
    }

    /// The snake_case name used in the health message.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::NotReceived => "not_received",
            Self::RateLow => "rate_low",
            Self::Stale => "stale",
            Self::Failed => "failed",
        }
    }
}

/// The runtime's operating mode, derived from the inputs' statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DegradedMode {
    /// Every configured input is usable.
    Nominal,
    /// No lidar: camera and V2X keep the tracks, covariance widened, objects flagged.
    LidarLost,
    /// No camera: lidar and V2X keep the tracks, classes unknown.
    CameraLost,
    /// No V2X: the truck's own sensors only (no blind-zone objects).
    V2xLost,
    /// No GNSS/INS pose (and no dead reckoning left): site-frame outputs unavailable.
    EgoPoseLost,
    /// Nothing usable: the vehicle must stop.
    PerceptionUnavailable,
}

impl DegradedMode {
    /// The snake_case name used in the health message.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nominal => "nominal",
            Self::LidarLost => "lidar_lost",
            Self::CameraLost => "camera_lost",
            Self::V2xLost => "v2x_lost",
            Self::EgoPoseLost => "ego_pose_lost",
            Self::PerceptionUnavailable => "perception_unavailable",
        }
    }

    /// The mode of a CAN code ([`DegradedMode::code`]); `None` for a code no mode has.
    pub fn from_code(code: u8) -> Option<Self> {
        [
            Self::Nominal,
            Self::LidarLost,
            Self::CameraLost,
            Self::V2xLost,
            Self::EgoPoseLost,
            Self::PerceptionUnavailable,
        ]
        .into_iter()
        .find(|mode| mode.code() == code)
    }

    /// Numeric code used on CAN (0 nominal … 5 perception unavailable).
    pub fn code(self) -> u8 {
        match self {
            Self::Nominal => 0,
            Self::LidarLost => 1,
            Self::CameraLost => 2,
            Self::V2xLost => 3,
            Self::EgoPoseLost => 4,
            Self::PerceptionUnavailable => 5,
        }
    }
}

/// The health of one input at one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputHealth {
    /// Status.
    pub status: InputStatus,
    /// Measured message rate over the monitor's window, Hz.
    pub rate_hz: f64,
    /// Time since the newest message arrived, ms (`None` when nothing was received).
    pub age_ms: Option<f64>,
    /// The newest sensor stamp minus the clock, ms, where the input's stamps are checked
    /// against the clock (`max_stamp_lag_ms` set): negative when the stamps lag it (normal up
    /// to a frame period plus transport), positive when they lead it (a sensor clock ahead of
    /// the truck's). `None` (absent in JSON) when unchecked or nothing was received. Tells a
    /// sensor clock that jumped from an input that went silent: both are `stale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp_offset_ms: Option<f64>,
}

/// The health message the runtime publishes at ≥ 10 Hz.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthReport {
    /// When the report was made, ns on the truck clock.
    pub stamp_ns: u64,
    /// The operating mode.
    pub mode: DegradedMode,
    /// Why the mode is what it is (for people; empty when nominal).
    pub reason: String,
    /// Per-input status, by input name (sorted).
    pub inputs: BTreeMap<String, InputHealth>,
    /// Frames that finished after their deadline, since start-up.
    pub late_frames: u64,
    /// Messages dropped by each bounded edge's drop policy, since start-up, by edge name.
    pub dropped: BTreeMap<String, u64>,
}

#[cfg(test)]
mod tests {
    use super::DegradedMode;

    #[test]
    fn can_codes_round_trip_and_unknown_codes_are_none() {
        for code in 0..=5 {
            assert_eq!(DegradedMode::from_code(code).map(DegradedMode::code), Some(code));
        }
        assert_eq!(DegradedMode::from_code(5), Some(DegradedMode::PerceptionUnavailable));
        assert_eq!(DegradedMode::from_code(6), None);
    }
}
