//! Messages shared by every pitsense stage.
//!
//! Every message that crosses a stage boundary lives here, so that stages depend on this crate
//! and never on each other (see `ARCHITECTURE.md`). Conventions, for every type:
//!
//! - SI units and radians; the unit is part of the field name (`range_m`, `yaw_rad`, `stamp_ns`).
//! - Each message carries a [`Header`]: the sensor time of validity (`stamp_ns`, nanoseconds on
//!   the truck's clock), the [`FrameId`] its geometry is expressed in, and a sequence number.
//! - Transforms are named `target_from_source` and read right to left:
//!   `camera_from_lidar * point_in_lidar = point_in_camera`.
//! - Lidar and ego frames follow ISO 8855 / REP 103: x forward, y left, z up. Camera frames
//!   follow the optical convention: x right, y down, z forward.

mod calibration;
mod can;
pub mod channel;
pub mod clock;
mod config;
mod detection;
mod ego;
mod header;
mod health;
mod image;
mod point_cloud;
mod taxonomy;
mod track;

pub use calibration::{CalibrationError, CameraCalibration, CameraIntrinsics};
pub use can::{CanFrame, VehicleSignals};
pub use clock::{Clock, ManualClock};
pub use config::ConfigError;
pub use detection::{BoxPx, Detection2d, Detection3d, ObjectMeasurement, ObjectSource, UNKNOWN_CLASS};
pub use ego::EgoState;
pub use header::{FrameId, FrameIdParseError, Header, SensorId};
pub use health::{DegradedMode, HealthReport, InputHealth, InputStatus};
pub use image::{Image, ImageError, PixelFormat};
pub use point_cloud::{PointCloud, PointXyzi};
pub use taxonomy::ObjectClass;
pub use track::{Track, TrackState};

/// Re-export of the geometry library used in every message, so that stages agree on versions.
pub use nalgebra;
