//! The one class taxonomy of pitsense: the labels the tracker's per-class tables, the outputs
//! (Autoware's `ObjectClassification`, the CAN `ObjectClass`) and the lidar pipeline use.
//!
//! A camera detector's own class names (COCO's `person`, `motorbike`...) map onto it through
//! its model manifest's `output.class_map`; classes the map does not name are not road users
//! and are dropped before fusion. The classes follow KITTI's tracked classes (`car`,
//! `pedestrian`, `cyclist`: the tracker's tuned tables) plus the other road users of a mine
//! and Autoware's `ObjectClassification` labels (`truck`, `bus`, `motorcycle`, `animal`).

use serde::{Deserialize, Serialize};

/// A class of the taxonomy; its [`ObjectClass::label`] is the `class_label` of detections and
/// tracks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectClass {
    /// Passenger cars, pick-ups and light vehicles.
    Car,
    /// Trucks, haul trucks included.
    Truck,
    /// Buses (crew transport).
    Bus,
    /// People on foot.
    Pedestrian,
    /// People on bicycles.
    Cyclist,
    /// Motorcycles and their riders.
    Motorcycle,
    /// Animals.
    Animal,
    /// Seen but not classified (lidar-only objects).
    Unknown,
}

impl ObjectClass {
    /// Every class, in a fixed order.
    pub const ALL: [ObjectClass; 8] = [
        Self::Car,
        Self::Truck,
        Self::Bus,
        Self::Pedestrian,
        Self::Cyclist,
        Self::Motorcycle,
        Self::Animal,
        Self::Unknown,
    ];

    /// The label (lower case): `car`, `truck`, `bus`, `pedestrian`, `cyclist`, `motorcycle`,
    /// `animal`, `unknown` ([`crate::UNKNOWN_CLASS`]).
    pub fn label(self) -> &'static str {
        match self {
            Self::Car => "car",
            Self::Truck => "truck",
            Self::Bus => "bus",
            Self::Pedestrian => "pedestrian",
            Self::Cyclist => "cyclist",
            Self::Motorcycle => "motorcycle",
            Self::Animal => "animal",
            Self::Unknown => crate::UNKNOWN_CLASS,
        }
    }

    /// The class whose label is `label` (case and surrounding spaces ignored), if any.
    pub fn from_label(label: &str) -> Option<Self> {
        let label = label.trim();
        Self::ALL.into_iter().find(|class| class.label().eq_ignore_ascii_case(label))
    }
}

impl std::fmt::Display for ObjectClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_and_unknown_is_the_shared_constant() {
        for class in ObjectClass::ALL {
            assert_eq!(ObjectClass::from_label(class.label()), Some(class));
            assert_eq!(ObjectClass::from_label(&format!(" {} ", class.label().to_uppercase())), Some(class));
        }
        assert_eq!(ObjectClass::Unknown.label(), crate::UNKNOWN_CLASS);
        assert_eq!(ObjectClass::from_label("person"), None);
        assert_eq!(ObjectClass::from_label("motorbike"), None);
    }
}
