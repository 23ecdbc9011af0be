use nalgebra::{Matrix3, Point3, Vector3};
use serde::{Deserialize, Serialize};

use crate::Header;

/// Class label of an object nobody classified (a lidar cluster with no camera detection).
pub const UNKNOWN_CLASS: &str = "unknown";

/// An axis-aligned box in image pixels: `(x1, y1)` top-left, `(x2, y2)` bottom-right corner.
///
/// Coordinates are continuous pixel positions with the origin at the top-left corner of the
/// top-left pixel; they may lie slightly outside the image (detectors do not clip).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoxPx {
    /// Left edge, pixels.
    pub x1: f32,
    /// Top edge, pixels.
    pub y1: f32,
    /// Right edge, pixels.
    pub x2: f32,
    /// Bottom edge, pixels.
    pub y2: f32,
}

impl BoxPx {
    /// Area in square pixels; zero for degenerate boxes.
    pub fn area_px2(&self) -> f32 {
        (self.x2 - self.x1).max(0.0) * (self.y2 - self.y1).max(0.0)
    }

    /// Intersection over union with `other`, in `0.0..=1.0`; 0 when both are degenerate.
    pub fn iou(&self, other: &BoxPx) -> f32 {
        let width = (self.x2.min(other.x2) - self.x1.max(other.x1)).max(0.0);
        let height = (self.y2.min(other.y2) - self.y1.max(other.y1)).max(0.0);
        let intersection = width * height;
        let union = self.area_px2() + other.area_px2() - intersection;
        if union > 0.0 { intersection / union } else { 0.0 }
    }
}

/// A camera detection: one box, class and confidence, in the original image's pixels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Detection2d {
    /// Stamp of the image it came from; frame [`crate::FrameId::ImagePixels`].
    pub header: Header,
    /// The box in original-image pixels.
    pub box_px: BoxPx,
    /// Index of the class in the model's class list (its output column).
    pub class_index: u32,
    /// Class name from the model manifest (COCO for YOLOX: `person`, `car`, `truck`...).
    pub class_label: String,
    /// Confidence in `0.0..=1.0` (YOLOX: objectness × class probability).
    pub score: f32,
}

/// Which sensors support an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectSource {
    /// Lidar geometry with a camera class.
    Fused,
    /// Lidar only: no camera detection matched it.
    Lidar,
    /// Camera only: no lidar cluster matched it.
    Camera,
    /// Received from a road-side unit or another vehicle only.
    V2x,
}

/// An oriented 3D box: the shared shape of lidar objects, fused objects and V2X objects.
///
/// `center_m` is the box's geometric centre (not its bottom face) in the header's frame;
/// `size_m` is (length along the heading, width, height); `yaw_rad` is the heading about the
/// frame's up axis from its x axis, counter-clockwise, in `(-π, π]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Detection3d {
    /// Time of validity and frame of the geometry.
    pub header: Header,
    /// Box centre, metres.
    pub center_m: Point3<f64>,
    /// Length, width, height, metres.
    pub size_m: Vector3<f64>,
    /// Heading about the up axis, radians.
    pub yaw_rad: f64,
    /// Class label ([`UNKNOWN_CLASS`] when unclassified).
    pub class_label: String,
    /// Confidence in `0.0..=1.0`.
    pub score: f32,
    /// Which sensors support it.
    pub source: ObjectSource,
}

impl Detection3d {
    /// The eight corners in the header's frame: bottom face counter-clockwise from the
    /// front-left corner, then the top face in the same order.
    pub fn corners_m(&self) -> [Point3<f64>; 8] {
        let (sin, cos) = self.yaw_rad.sin_cos();
        let (half_l, half_w, half_h) = (self.size_m.x / 2.0, self.size_m.y / 2.0, self.size_m.z / 2.0);
        let footprint = [(half_l, half_w), (-half_l, half_w), (-half_l, -half_w), (half_l, -half_w)];
        let mut corners = [Point3::origin(); 8];
        for (level, dz) in [-half_h, half_h].into_iter().enumerate() {
            for (index, (dx, dy)) in footprint.iter().enumerate() {
                corners[level * 4 + index] = Point3::new(
                    self.center_m.x + cos * dx - sin * dy,
                    self.center_m.y + sin * dx + cos * dy,
                    self.center_m.z + dz,
                );
            }
        }
        corners
    }
}

/// A 3D object measurement that carries its own uncertainty: what a road-side unit or another
/// vehicle reports over V2X (J3224 SDSM, ETSI CPM, CSAE RSM/SSM objects; J2735 BSM/PSM
/// senders), whose accuracy comes with the message instead of from a sensor model.
///
/// The tracker fuses it with its own noise (`R` built from these fields) instead of a class's
/// configured measurement noise, and associates it by the Mahalanobis distance of its centre.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectMeasurement {
    /// The object's box: header stamp = time of validity (after latency compensation), frame
    /// normally [`crate::FrameId::Site`]; `yaw_rad` is meaningful only when
    /// `yaw_std_rad` is `Some`.
    pub detection: Detection3d,
    /// Covariance of `detection.center_m`, m², in the detection's frame; symmetric positive
    /// definite.
    pub position_covariance_m2: Matrix3<f64>,
    /// One-sigma heading error, radians; `None` when the sender gave no heading (the box's yaw
    /// then carries no information and is not fused).
    pub yaw_std_rad: Option<f64>,
    /// One-sigma error of each box dimension, metres.
    pub size_std_m: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FrameId;

    #[test]
    fn iou_by_hand() {
        let a = BoxPx { x1: 0.0, y1: 0.0, x2: 2.0, y2: 2.0 };
        let b = BoxPx { x1: 1.0, y1: 1.0, x2: 3.0, y2: 3.0 };
        // Intersection 1, union 4 + 4 - 1 = 7.
        assert!((a.iou(&b) - 1.0 / 7.0).abs() < 1e-6);
        assert_eq!(a.iou(&a), 1.0);
        let far = BoxPx { x1: 10.0, y1: 10.0, x2: 11.0, y2: 11.0 };
        assert_eq!(a.iou(&far), 0.0);
    }

    #[test]
    fn corners_of_a_box_turned_by_90_degrees() {
        let det = Detection3d {
            header: Header { stamp_ns: 0, frame: FrameId::Lidar(0), seq: 0 },
            center_m: Point3::new(10.0, 0.0, 1.0),
            size_m: Vector3::new(4.0, 2.0, 2.0),
            yaw_rad: std::f64::consts::FRAC_PI_2,
            class_label: UNKNOWN_CLASS.into(),
            score: 1.0,
            source: ObjectSource::Lidar,
        };
        let corners = det.corners_m();
        // Front-left corner: 2 m ahead along the heading (+y), 1 m to its left (-x).
        assert!((corners[0] - Point3::new(9.0, 2.0, 0.0)).norm() < 1e-12);
        assert!((corners[6] - Point3::new(11.0, -2.0, 2.0)).norm() < 1e-12);
    }
}
