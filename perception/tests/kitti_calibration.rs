//! Golden check of the KITTI readers against KITTI's own labels: every 3D label box, converted
//! to the lidar frame and projected through `CameraCalibration::from_kitti`, must cover the
//! label's hand-drawn 2D box (the 2D boxes were annotated independently of the 3D ones).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use pitsense_perception::kitti::{read_calib, read_labels};
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
