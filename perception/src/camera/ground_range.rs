//! Monocular range by the flat-ground assumption: a camera detection placed in 3D where the ray
//! through the bottom centre of its box meets the ground plane, with a covariance that grows
//! with the square of the range.
//!
//! What the runtime fuses while the lidar is lost: the camera still sees, but has no depth. The
//! geometry is the classic single-camera range estimate (Stein, Mano and Shashua, "Vision-based
//! ACC with a single camera: bounds on range and range rate accuracy", IEEE IV 2003): for a
//! camera at height `H` above flat ground, an object whose contact point is imaged at an angle
//! `θ` below the horizon is at range `R = H / tan θ`, and a pixel error `δv` (or a pitch error
//! `δθ`) moves it by `δR ≈ R² / H · (δv / f + δθ)`. The error is the estimate's own measurement
//! noise, so the tracker weighs it as it should: a person at 10 m is placed within decimetres,
//! one at 60 m within metres.
//!
//! Frames: the estimate is in the truck frame ([`FrameId::Ego`]: x forward, y left, z up, the
//! origin on the ground), the detection in the image's pixels, `truck_from_lidar` the lidar's
//! extrinsics and the calibration's `camera_from_lidar` the camera's (optical frame: x right,
//! y down, z forward).

use nalgebra::{Isometry3, Matrix3, Point3, Rotation3, Vector3};
use pitsense_types::{
    CameraCalibration, Detection2d, Detection3d, FrameId, Header, ObjectClass, ObjectMeasurement,
    ObjectSource,
};

/// Settings of the flat-ground range estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct GroundRangeConfig {
    /// One-sigma error of a box's bottom edge, pixels (detector jitter).
    pub bottom_edge_std_px: f64,
    /// One-sigma error of a box's horizontal centre, pixels.
    pub center_std_px: f64,
    /// One-sigma error of the camera's pitch to the ground, radians (suspension, road grade).
    pub pitch_std_rad: f64,
    /// Ranges beyond this are not estimated (their error would exceed the object), metres.
    pub max_range_m: f64,
    /// One-sigma error of each box dimension taken from the class prior, metres.
    pub size_std_m: f64,
}

impl Default for GroundRangeConfig {
    /// 2 px edge and centre, 0.01 rad pitch, 60 m, 0.5 m on sizes.
    fn default() -> Self {
        Self {
            bottom_edge_std_px: 2.0,
            center_std_px: 2.0,
            pitch_std_rad: 0.01,
            max_range_m: 60.0,
            size_std_m: 0.5,
        }
    }
}

/// A class's typical box (length, width, height), metres: KITTI's mean sizes for car,
/// pedestrian and cyclist (as used by Frustum PointNets, Qi et al. CVPR 2018); typical sizes of
/// the others. `None` for [`ObjectClass::Unknown`]: its size is not known, no estimate is made.
pub fn class_size_prior_m(class: ObjectClass) -> Option<Vector3<f64>> {
    let (length, width, height) = match class {
        ObjectClass::Car => (3.88, 1.63, 1.53),
        ObjectClass::Pedestrian => (0.84, 0.66, 1.76),
        ObjectClass::Cyclist => (1.76, 0.60, 1.73),
        ObjectClass::Motorcycle => (2.1, 0.8, 1.5),
        ObjectClass::Bus => (12.0, 2.55, 3.2),
        ObjectClass::Truck => (8.0, 2.5, 3.5),
        ObjectClass::Animal => (1.5, 0.6, 1.2),
        ObjectClass::Unknown => return None,
    };
    Some(Vector3::new(length, width, height))
}

/// The camera's detections placed on the ground, one measurement per detection whose class has
/// a size prior and whose contact ray meets the ground ahead within
/// [`GroundRangeConfig::max_range_m`]; the others are left out (a box whose bottom is above the
/// horizon, a camera below the ground plane, an unknown class).
///
/// Each measurement: frame [`FrameId::Ego`] at `stamp_ns`, source [`ObjectSource::Camera`],
/// the detection's class and score, the class's prior size, no heading (`yaw_std_rad: None`),
/// the centre a half length beyond the contact point along the viewing direction and half a
/// height above the ground, and the covariance of the module docs: along the viewing direction
/// `(R² / H)² ((σ_v / f_y)² + σ_θ²)`, across it `(R σ_u / f_x)²` plus the half width squared,
/// vertically the half height squared.
pub fn ground_plane_measurements(
    detections: &[Detection2d],
    calibration: &CameraCalibration,
    truck_from_lidar: &Isometry3<f64>,
    stamp_ns: u64,
    config: &GroundRangeConfig,
) -> Vec<ObjectMeasurement> {
    let k = &calibration.intrinsics;
    let truck_from_camera = truck_from_lidar * calibration.camera_from_lidar.inverse();
    let origin = truck_from_camera * Point3::origin();
    let height_m = origin.z;
    if !(height_m.is_finite() && height_m > 0.0 && k.fx_px > 0.0 && k.fy_px > 0.0) {
        return Vec::new();
    }
    detections
        .iter()
        .filter_map(|detection| {
            let size_m = class_size_prior_m(ObjectClass::from_label(&detection.class_label)?)?;
            let u_px = f64::from(detection.box_px.x1 + detection.box_px.x2) * 0.5;
            let v_px = f64::from(detection.box_px.y2);
            let ray_camera = Vector3::new((u_px - k.cx_px) / k.fx_px, (v_px - k.cy_px) / k.fy_px, 1.0);
            let ray = truck_from_camera.rotation * ray_camera;
            // Downwards (a NaN ray is refused too), meeting the ground ahead of the camera.
            if ray.z.is_nan() || ray.z >= 0.0 {
                return None;
            }
            let contact = origin + ray * (-height_m / ray.z);
            let horizontal = Vector3::new(contact.x - origin.x, contact.y - origin.y, 0.0);
            let range_m = horizontal.norm();
            if !(range_m.is_finite() && range_m > 0.0 && range_m <= config.max_range_m) {
                return None;
            }
            let along = horizontal / range_m;
            let center_m = contact + along * (size_m.x * 0.5) + Vector3::new(0.0, 0.0, size_m.z * 0.5);
            let range_std_m = range_m * range_m / height_m
                * ((config.bottom_edge_std_px / k.fy_px).powi(2) + config.pitch_std_rad.powi(2)).sqrt();
            let lateral_std_m = range_m * config.center_std_px / k.fx_px;
            let variances = Vector3::new(
                range_std_m.powi(2) + (size_m.x * 0.5).powi(2),
                lateral_std_m.powi(2) + (size_m.y * 0.5).powi(2),
                (size_m.z * 0.5).powi(2),
            );
            let heading = Rotation3::from_axis_angle(&Vector3::z_axis(), along.y.atan2(along.x));
            let position_covariance_m2: Matrix3<f64> =
                heading.matrix() * Matrix3::from_diagonal(&variances) * heading.matrix().transpose();
            Some(ObjectMeasurement {
                detection: Detection3d {
                    header: Header { stamp_ns, frame: FrameId::Ego, seq: detection.header.seq },
                    center_m,
                    size_m,
                    yaw_rad: 0.0,
                    class_label: detection.class_label.clone(),
                    score: detection.score,
                    source: ObjectSource::Camera,
                },
                position_covariance_m2,
                yaw_std_rad: None,
                size_std_m: config.size_std_m,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pitsense_types::{BoxPx, CameraIntrinsics};

    /// A forward-looking camera 2 m above the ground at the truck's origin (optical frame:
    /// x right, y down, z forward), f = 1000 px, principal point (640, 360).
    fn calibration() -> (CameraCalibration, Isometry3<f64>) {
        let truck_from_camera = Isometry3::from_parts(
            nalgebra::Translation3::new(0.0, 0.0, 2.0),
            nalgebra::UnitQuaternion::from_rotation_matrix(&Rotation3::from_matrix_unchecked(
                // Columns: the optical axes in the truck frame: x right = -y, y down = -z,
                // z forward = +x.
                Matrix3::new(0.0, 0.0, 1.0, -1.0, 0.0, 0.0, 0.0, -1.0, 0.0),
            )),
        );
        let intrinsics = CameraIntrinsics {
            fx_px: 1000.0,
            fy_px: 1000.0,
            cx_px: 640.0,
            cy_px: 360.0,
            width_px: 1280,
            height_px: 720,
        };
        // The lidar at the truck's origin: camera_from_lidar = camera_from_truck.
        let calibration =
            CameraCalibration { camera_id: 0, intrinsics, camera_from_lidar: truck_from_camera.inverse() };
        (calibration, Isometry3::identity())
    }

    fn person(x1: f32, x2: f32, y2: f32) -> Detection2d {
        Detection2d {
            header: Header { stamp_ns: 0, frame: FrameId::ImagePixels(0), seq: 3 },
            box_px: BoxPx { x1, y1: y2 - 100.0, x2, y2 },
            class_index: 0,
            class_label: "pedestrian".into(),
            score: 0.8,
        }
    }

    #[test]
    fn a_person_standing_100_px_below_the_horizon_is_20_m_ahead() {
        let (calibration, truck_from_lidar) = calibration();
        // Bottom edge 100 px below the principal point: tan θ = 0.1, R = 2 / 0.1 = 20 m; the
        // box centred 50 px right of the axis: y = -20 × 50 / 1000 = -1 m.
        let measurements = ground_plane_measurements(
            &[person(670.0, 710.0, 460.0)],
            &calibration,
            &truck_from_lidar,
            5,
            &GroundRangeConfig::default(),
        );
        assert_eq!(measurements.len(), 1);
        let m = &measurements[0];
        let along = Vector3::new(20.0, -1.0, 0.0).normalize();
        let expected = Point3::new(20.0, -1.0, 0.0) + along * 0.42 + Vector3::new(0.0, 0.0, 0.88);
        assert!((m.detection.center_m - expected).norm() < 1e-9, "{:?}", m.detection.center_m);
        assert_eq!(m.detection.header, Header { stamp_ns: 5, frame: FrameId::Ego, seq: 3 });
        assert_eq!(m.detection.source, ObjectSource::Camera);
        // Along the ray: R = √401 m, σ_R = R² / 2 · √((2/1000)² + 0.01²).
        let range = 401.0_f64.sqrt();
        let range_std = range * range / 2.0 * (0.002_f64.powi(2) + 0.0001).sqrt();
        let along_variance = along.dot(&(m.position_covariance_m2 * along));
        assert!((along_variance - (range_std.powi(2) + 0.42_f64.powi(2))).abs() < 1e-9, "{along_variance}");
        let across = Vector3::new(-along.y, along.x, 0.0);
        let across_variance = across.dot(&(m.position_covariance_m2 * across));
        assert!((across_variance - ((range * 0.002).powi(2) + 0.33_f64.powi(2))).abs() < 1e-9);
        assert!((m.position_covariance_m2[(2, 2)] - 0.88_f64.powi(2)).abs() < 1e-12);
    }

    #[test]
    fn boxes_above_the_horizon_too_far_or_of_unknown_class_are_left_out() {
        let (calibration, truck_from_lidar) = calibration();
        let config = GroundRangeConfig::default();
        let mut unknown = person(600.0, 680.0, 460.0);
        unknown.class_label = "unknown".into();
        let detections = [
            person(600.0, 680.0, 350.0), // bottom above the horizon
            person(600.0, 680.0, 365.0), // 5 px below: 400 m away
            unknown,
            person(600.0, 680.0, 400.0), // 40 px below: 50 m, kept
        ];
        let measurements =
            ground_plane_measurements(&detections, &calibration, &truck_from_lidar, 0, &config);
        assert_eq!(measurements.len(), 1);
        assert!((measurements[0].detection.center_m.x - (50.0 + 0.42)).abs() < 1e-9);
    }

    #[test]
    fn the_error_grows_with_the_square_of_the_range() {
        let (calibration, truck_from_lidar) = calibration();
        let config = GroundRangeConfig { pitch_std_rad: 0.0, ..GroundRangeConfig::default() };
        let near = ground_plane_measurements(
            &[person(620.0, 660.0, 560.0)],
            &calibration,
            &truck_from_lidar,
            0,
            &config,
        );
        let far = ground_plane_measurements(
            &[person(620.0, 660.0, 410.0)],
            &calibration,
            &truck_from_lidar,
            0,
            &config,
        );
        // 10 m and 40 m: σ_R = R² / (f H) × 2 px = 0.1 m and 1.6 m.
        let range_variance = |m: &ObjectMeasurement| m.position_covariance_m2[(0, 0)] - 0.42_f64.powi(2);
        assert!((range_variance(&near[0]) - 0.1_f64.powi(2)).abs() < 1e-9);
        assert!((range_variance(&far[0]) - 1.6_f64.powi(2)).abs() < 1e-9);
    }
}
