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

/// The name [`FrameId`]'s `Display` writes (`ego`, `lidar0`, `camera2`, `image2`, `site`) did
/// not parse back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a frame name (ego, site, lidarN, cameraN, imageN)")]
pub struct FrameIdParseError(pub String);

impl std::str::FromStr for FrameId {
    type Err = FrameIdParseError;

    /// Parses the names `Display` writes: `ego`, `site`, `lidar<N>`, `camera<N>`, `image<N>`
    /// (N a sensor id, 0 to 65535).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let sensor = |prefix: &str| {
            text.strip_prefix(prefix)
                .filter(|id| id.bytes().all(|byte| byte.is_ascii_digit()))
                .and_then(|id| id.parse::<SensorId>().ok())
        };
        match text {
            "ego" => Ok(Self::Ego),
            "site" => Ok(Self::Site),
            _ => sensor("lidar")
                .map(Self::Lidar)
                .or_else(|| sensor("camera").map(Self::Camera))
                .or_else(|| sensor("image").map(Self::ImagePixels))
                .ok_or_else(|| FrameIdParseError(text.to_owned())),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_names_parse_back_to_their_frames() {
        let frames =
            [FrameId::Ego, FrameId::Site, FrameId::Lidar(0), FrameId::Camera(2), FrameId::ImagePixels(65535)];
        for frame in frames {
            assert_eq!(frame.to_string().parse::<FrameId>(), Ok(frame));
        }
        assert_eq!("camera2".parse::<FrameId>(), Ok(FrameId::Camera(2)));
        for bad in ["", "lidar", "lidar-1", "lidar65536", "Camera2", "image 2", "egos", "lidar+1"] {
            assert_eq!(bad.parse::<FrameId>(), Err(FrameIdParseError(bad.to_owned())), "{bad}");
        }
    }
}
