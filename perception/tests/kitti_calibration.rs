//! Golden check of the KITTI readers against KITTI's own labels: every 3D label box, converted
//! to the lidar frame and projected through `CameraCalibration::from_kitti`, must cover the
//! label's hand-drawn 2D box (the 2D boxes were annotated independently of the 3D ones).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use pitsense_perception::kitti::{
    KittiError, parse_velo_to_cam, read_calib, read_labels, read_raw_drive_calib,
};
use pitsense_types::BoxPx;

/// Smallest accepted IoU between the projected 3D box and the labelled 2D box. Measured
/// independently: 0.89 for the pedestrian of 000000, 0.94-0.98 for vehicles.
const MIN_IOU: f32 = 0.85;

#[test]
fn projected_label_boxes_match_their_2d_boxes() {
    let mut checked = 0;
    for frame in common::KITTI_TRAINING_FRAMES {
        let calib_path = common::data_file(&format!("kitti/object/training/calib/{frame}.txt"));
        let calib = read_calib(&calib_path).unwrap();
        let (width_px, height_px) =
            common::png_size(&common::data_file(&format!("kitti/object/training/image_2/{frame}.png")));
        let camera = calib.camera_calibration(width_px, height_px).unwrap();
        let velo_from_rect = calib.velo_from_rect().unwrap();
        let labels =
            read_labels(&common::data_file(&format!("kitti/object/training/label_2/{frame}.txt"))).unwrap();
        for label in labels.iter().filter(|l| !l.is_dont_care()) {
            let detection = label.to_detection_in_lidar(&velo_from_rect, common::kitti_header(0));
            let (mut x1, mut y1, mut x2, mut y2) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for corner in detection.corners_m() {
                let pixel = camera.project_lidar_point(&corner, 0.1).unwrap_or_else(|| {
                    panic!("{frame} {}: a corner is behind the camera", label.object_type)
                });
                x1 = x1.min(pixel.x);
                y1 = y1.min(pixel.y);
                x2 = x2.max(pixel.x);
                y2 = y2.max(pixel.y);
            }
            let (w, h) = (f64::from(width_px), f64::from(height_px));
            let projected = BoxPx {
                x1: x1.clamp(0.0, w) as f32,
                y1: y1.clamp(0.0, h) as f32,
                x2: x2.clamp(0.0, w) as f32,
                y2: y2.clamp(0.0, h) as f32,
            };
            let iou = projected.iou(&label.box_px);
            let center = camera.project_lidar_point(&detection.center_m, 0.1).unwrap();
            let b = &label.box_px;
            let center_inside = center.x >= f64::from(b.x1)
                && center.x <= f64::from(b.x2)
                && center.y >= f64::from(b.y1)
                && center.y <= f64::from(b.y2);
            println!(
                "{frame} {:<10} IoU {iou:.3}  projected ({:.1}, {:.1}, {:.1}, {:.1})  label ({:.1}, {:.1}, {:.1}, {:.1})  centre ({:.1}, {:.1})",
                label.object_type,
                projected.x1,
                projected.y1,
                projected.x2,
                projected.y2,
                b.x1,
                b.y1,
                b.x2,
                b.y2,
                center.x,
                center.y
            );
            assert!(iou >= MIN_IOU, "{frame} {}: IoU {iou:.3} < {MIN_IOU}", label.object_type);
            assert!(
                center_inside,
                "{frame} {}: projected centre {center:?} outside {b:?}",
                label.object_type
            );
            checked += 1;
        }
    }
    // 000000: Pedestrian; 000001: Truck, Car, Cyclist; 000002: Misc, Car.
    assert_eq!(checked, 6);
}

#[test]
fn calib_file_values_are_read_exactly() {
    let calib = read_calib(&common::data_file("kitti/object/training/calib/000000.txt")).unwrap();
    assert_eq!(calib.p2[(0, 0)], 7.070493e2);
    assert_eq!(calib.p2[(0, 3)], 4.575831e1);
    assert_eq!(calib.p2[(2, 3)], 4.981016e-3);
    assert_eq!(calib.rect_from_cam0[(2, 2)], 9.999556e-1);
    assert_eq!(calib.cam0_from_velo[(1, 3)], -6.127237e-2);
    assert_eq!(calib.velo_from_imu.unwrap()[(0, 3)], -8.086759e-1);
    assert_eq!(calib.p3.unwrap()[(0, 3)], -3.341081e2);
    let (width_px, height_px) =
        common::png_size(&common::data_file("kitti/object/training/image_2/000000.png"));
    assert_eq!((width_px, height_px), (1224, 370));
    let camera = calib.camera_calibration(width_px, height_px).unwrap();
    assert_eq!(camera.intrinsics.fx_px, 7.070493e2);
    assert_eq!(camera.camera_id, 2);
}

/// `regressions/B05/<case>/calib/000000.txt` under the data root, or `None` (with a message) when
/// the regression inputs are absent.
fn b05_calib(case: &str) -> Option<std::path::PathBuf> {
    let path = common::data_root().join("regressions/B05").join(case).join("calib/000000.txt");
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("skipping: {} is absent (set PITSENSE_DATA to the shared data root)", path.display());
        None
    }
}

/// B05: an odometry-style file (`P0..P3` and `Tr`, no `R0_rect`) is read with `R0_rect` = identity.
/// Its `Tr` is object 000000's `R0_rect · Tr_velo_to_cam` (checked here by multiplying the object
/// file's matrices), so the labels of object 000000 must come out as the same objects in the lidar
/// frame through either file.
#[test]
fn odometry_calib_with_tr_gives_the_same_objects_as_the_object_calib() {
    let Some(odometry_path) = b05_calib("c_odometry") else { return };
    let object = read_calib(&common::data_file("kitti/object/training/calib/000000.txt")).unwrap();
    let odometry = read_calib(&odometry_path).unwrap();
    assert_eq!(odometry.rect_from_cam0, pitsense_types::nalgebra::Matrix3::identity());
    assert_eq!(odometry.cam0_from_velo[(0, 0)], -0.001596099420763059);
    assert_eq!(odometry.cam0_from_velo[(2, 3)], -0.33254899883289785);
    assert_eq!(odometry.p2, object.p2);
    let product = object.rect_from_cam0 * object.cam0_from_velo;
    assert!(
        (product - odometry.cam0_from_velo).abs().max() < 1e-12,
        "{product} vs {}",
        odometry.cam0_from_velo
    );

    let labels = read_labels(&common::data_file("kitti/object/training/label_2/000000.txt")).unwrap();
    let (object_inverse, odometry_inverse) =
        (object.velo_from_rect().unwrap(), odometry.velo_from_rect().unwrap());
    let mut compared = 0;
    for label in labels.iter().filter(|l| !l.is_dont_care()) {
        let a = label.to_detection_in_lidar(&object_inverse, common::kitti_header(0));
        let b = label.to_detection_in_lidar(&odometry_inverse, common::kitti_header(0));
        assert!((a.center_m - b.center_m).norm() < 1e-9, "{:?} vs {:?}", a.center_m, b.center_m);
        assert!((a.yaw_rad - b.yaw_rad).abs() < 1e-9);
        assert_eq!(a.size_m, b.size_m);
        compared += 1;
    }
    assert_eq!(compared, 1, "000000 holds one pedestrian");
    // The camera model agrees too: a lidar point 10 m ahead projects to the same pixel (the object
    // file's two rotations are re-orthonormalised separately, hence the 0.01 px tolerance).
    let (a, b) =
        (object.camera_calibration(1224, 370).unwrap(), odometry.camera_calibration(1224, 370).unwrap());
    let point = pitsense_types::nalgebra::Point3::new(10.0, 1.0, -1.0);
    let (pa, pb) = (a.project_lidar_point(&point, 0.1).unwrap(), b.project_lidar_point(&point, 0.1).unwrap());
    assert!((pa - pb).norm() < 0.01, "{pa} vs {pb}");
}

/// B05: an odometry-style file without `Tr` fails naming the transform it lacks (and the keys that
/// would have done), not `R0_rect`.
#[test]
fn odometry_calib_without_tr_names_the_missing_transform() {
    let Some(path) = b05_calib("d_odometry_no_Tr") else { return };
    let err = read_calib(&path).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, KittiError::CalibMissingKey { key: "Tr_velo_to_cam", .. }), "{message}");
    assert!(message.contains("`Tr`") && !message.contains("R0_rect"), "{message}");
    assert!(message.contains("d_odometry_no_Tr"), "{message}");
}

/// B05: a raw recording's `calib_velo_to_cam.txt` (`calib_time`, `R`, `T`, `delta_f`, `delta_c`)
/// gives the velodyne → camera 0 transform; its values are object 000000's `Tr_velo_to_cam`
/// (same drive). With a `calib_cam_to_cam.txt` holding object 000000's `P2` and `R0_rect` under
/// their raw names (`P_rect_02`, `R_rect_00`, beside raw keys that must be ignored), the raw pair
/// gives the object file's calibration.
#[test]
fn raw_drive_velo_to_cam_with_r_and_t_is_read() {
    let Some(path) = b05_calib("e_raw_velo_to_cam") else { return };
    let object = read_calib(&common::data_file("kitti/object/training/calib/000000.txt")).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let transform = parse_velo_to_cam(&text, &path).unwrap();
    assert_eq!(transform, object.cam0_from_velo);
    // On its own the file has no camera: the error names `P2`, not the transform.
    let err = read_calib(&path).unwrap_err();
    assert!(matches!(err, KittiError::CalibMissingKey { key: "P2", .. }), "{err}");

    let matrix_text = |m: &[f64]| m.iter().map(|v| format!("{v:e}")).collect::<Vec<_>>().join(" ");
    let p2: Vec<f64> = object.p2.transpose().iter().copied().collect();
    let r0: Vec<f64> = object.rect_from_cam0.transpose().iter().copied().collect();
    let cam_to_cam = format!(
        "calib_time: 09-Jan-2012 13:57:47\ncorner_dist: 9.950000e-02\nS_02: 1.392000e+03 5.120000e+02\n\
         R_02: 1 0 0 0 1 0 0 0 1\nT_02: 0.06 -0.001 0.002\nR_rect_00: {}\nP_rect_02: {}\n",
        matrix_text(&r0),
        matrix_text(&p2)
    );
    let cam_to_cam_path =
        std::env::temp_dir().join(format!("pitsense-b05-{}-calib_cam_to_cam.txt", std::process::id()));
    std::fs::write(&cam_to_cam_path, cam_to_cam).unwrap();
    let raw = read_raw_drive_calib(&cam_to_cam_path, &path);
    std::fs::remove_file(&cam_to_cam_path).ok();
    let raw = raw.unwrap();
    assert_eq!(
        (raw.p2, raw.rect_from_cam0, raw.cam0_from_velo),
        (object.p2, object.rect_from_cam0, object.cam0_from_velo)
    );
}
