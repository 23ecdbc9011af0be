//! The evaluated classes and the devkit's neighbouring ("DontCare-like") classes.

use serde::{Deserialize, Serialize};

/// A class of the KITTI tracking evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackingClass {
    /// `Car`; `Van` is its neighbouring class.
    Car,
    /// `Pedestrian`; `Person_sitting` is its neighbouring class.
    Pedestrian,
    /// `Cyclist`; no neighbouring class.
    Cyclist,
}

/// Error of [`TrackingClass::from_str`](std::str::FromStr::from_str).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown tracking class `{0}` (expected car, pedestrian or cyclist)")]
pub struct UnknownClass(pub String);

impl TrackingClass {
    /// The three classes, in the order of AB3DMOT's tables.
    pub const ALL: [TrackingClass; 3] =
        [TrackingClass::Car, TrackingClass::Pedestrian, TrackingClass::Cyclist];

    /// Lower-case name (`car`), as the devkit and the command line spell it.
    pub fn name(self) -> &'static str {
        match self {
            TrackingClass::Car => "car",
            TrackingClass::Pedestrian => "pedestrian",
            TrackingClass::Cyclist => "cyclist",
        }
    }

    /// The KITTI `type` string (`Car`), also the folder name of AB3DMOT's detection files.
    pub fn kitti_type(self) -> &'static str {
        match self {
            TrackingClass::Car => "Car",
            TrackingClass::Pedestrian => "Pedestrian",
            TrackingClass::Cyclist => "Cyclist",
        }
    }

    /// The neighbouring KITTI type that is neither scored nor counted against a tracker
    /// (`Van` for car, `Person_sitting` for pedestrian), as in the devkit.
    pub fn neighbor_kitti_type(self) -> Option<&'static str> {
        match self {
            TrackingClass::Car => Some("Van"),
            TrackingClass::Pedestrian => Some("Person_sitting"),
            TrackingClass::Cyclist => None,
        }
    }

    /// The class of an AB3DMOT detection `type_id` (1 Pedestrian, 2 Car, 3 Cyclist).
    pub fn from_ab3dmot_type_id(type_id: i64) -> Option<Self> {
        match type_id {
            1 => Some(TrackingClass::Pedestrian),
            2 => Some(TrackingClass::Car),
            3 => Some(TrackingClass::Cyclist),
            _ => None,
        }
    }

    /// Whether a KITTI `type` string is this class (case-insensitive).
    pub fn is_type(self, object_type: &str) -> bool {
        object_type.eq_ignore_ascii_case(self.kitti_type())
    }

    /// Whether a KITTI `type` string is this class's neighbouring class (case-insensitive).
    pub fn is_neighbor_type(self, object_type: &str) -> bool {
        self.neighbor_kitti_type().is_some_and(|neighbor| object_type.eq_ignore_ascii_case(neighbor))
    }
}

impl std::fmt::Display for TrackingClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for TrackingClass {
    type Err = UnknownClass;

    /// Parses `car`, `pedestrian` or `cyclist`, case-insensitive.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        TrackingClass::ALL
            .into_iter()
            .find(|class| text.eq_ignore_ascii_case(class.name()))
            .ok_or_else(|| UnknownClass(text.to_owned()))
    }
}
