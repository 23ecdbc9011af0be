use serde::{Deserialize, Serialize};

/// Identifies one physical sensor of a given kind on the truck (0 for the first lidar, camera...).
pub type SensorId = u16;

/// The coordinate frame a message's geometry is expressed in.
///
/// Frames: [`FrameId::Ego`] is the truck's body frame (ISO 8855, origin at the rear axle centre
/// on the ground); [`FrameId::Lidar`] and [`FrameId::Camera`] are sensor frames whose pose in the
/// ego frame comes from the extrinsics; [`FrameId::Site`] is the mine's local ENU frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameId {
    /// Truck body frame: x forward, y left, z up.
    Ego,
    /// Frame of lidar number `SensorId`: x forward, y left, z up (vendor convention).
    Lidar(SensorId),
    /// Optical frame of camera number `SensorId`: x right, y down, z forward.
    Camera(SensorId),
    /// Image plane of camera number `SensorId`, in pixels: u right, v down, origin at the
    /// top-left corner of the top-left pixel.
    ImagePixels(SensorId),
    /// The site's local east-north-up frame.
    Site,
}

impl std::fmt::Display for FrameId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameId::Ego => write!(f, "ego"),
            FrameId::Lidar(id) => write!(f, "lidar{id}"),
            FrameId::Camera(id) => write!(f, "camera{id}"),
            FrameId::ImagePixels(id) => write!(f, "image{id}"),
            FrameId::Site => write!(f, "site"),
        }
    }
}

/// The envelope every message carries (copper-rs style): time of validity, frame, sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Time of validity of the payload: nanoseconds on the truck clock (sensor time, not the time
    /// the message was processed).
    pub stamp_ns: u64,
    /// Frame the payload's geometry is expressed in.
    pub frame: FrameId,
    /// Sequence number from the producer, increasing by one per message; gaps mean drops.
    pub seq: u64,
}
