//! 3D IoU of KITTI camera boxes against hand-computed cases.

use std::f64::consts::{FRAC_1_SQRT_2, FRAC_PI_2, FRAC_PI_4, PI};

use pitsense_sim::kitti_tracking::{KittiBox3d, iou_3d};

fn cuboid(x_m: f64, y_m: f64, z_m: f64, (h_m, w_m, l_m): (f64, f64, f64), rot_y_rad: f64) -> KittiBox3d {
    KittiBox3d { h_m, w_m, l_m, x_m, y_m, z_m, rot_y_rad }
}

fn close(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 1e-12, "{actual} != {expected}");
}

const CAR: (f64, f64, f64) = (1.5, 1.8, 4.2);

#[test]
fn identical_boxes() {
    for rot in [0.0, 0.3, FRAC_PI_2, -2.1] {
        let a = cuboid(-4.55, 1.86, 13.41, CAR, rot);
        assert_eq!(iou_3d(&a, &a), 1.0);
    }
}

#[test]
fn nearly_identical_boxes() {
    // Edges collinear up to rounding: the clipping must neither lose nor invent area.
    for rot in [0.0, 0.3, FRAC_PI_2, -2.1] {
        let a = cuboid(-4.55, 1.86, 13.41, CAR, rot);
        let b = cuboid(-4.55 + 1e-13, 1.86, 13.41 - 1e-13, CAR, rot + 1e-15);
        let iou = iou_3d(&a, &b);
        assert!((iou - 1.0).abs() < 1e-9 && iou <= 1.0, "{iou}");
    }
}

#[test]
fn disjoint_boxes() {
    let a = cuboid(0.0, 1.5, 20.0, CAR, 0.3);
    // Side by side in the ground plane.
    assert_eq!(iou_3d(&a, &cuboid(10.0, 1.5, 20.0, CAR, 0.3)), 0.0);
    // Same footprint, stacked: y spans [0, 1.5] and [−1.5, 0] (touching, zero overlap).
    assert_eq!(iou_3d(&a, &cuboid(0.0, 0.0, 20.0, CAR, 0.3)), 0.0);
}

#[test]
fn contained_box() {
    // 1 × 1 × 1 inside 2 × 2 × 2 (same bottom, centred footprint): IoU = 1 / 8.
    let big = cuboid(0.0, 1.0, 10.0, (2.0, 2.0, 2.0), 0.4);
    let small = cuboid(0.0, 0.5, 10.0, (1.0, 1.0, 1.0), -0.7);
    close(iou_3d(&big, &small), 1.0 / 8.0);
    close(iou_3d(&small, &big), 1.0 / 8.0);
}

#[test]
fn rotated_square_footprints() {
    // A square footprint turned by 90° is the same square: IoU 1.
    let square = cuboid(3.0, 1.0, 15.0, (1.0, 2.0, 2.0), 0.0);
    close(iou_3d(&square, &cuboid(3.0, 1.0, 15.0, (1.0, 2.0, 2.0), FRAC_PI_2)), 1.0);
    // Turned by 45°: the intersection is a regular octagon of area 8(√2 − 1) for side 2, so
    // IoU = 8(√2 − 1) / (8 − 8(√2 − 1)) = 1/√2.
    close(iou_3d(&square, &cuboid(3.0, 1.0, 15.0, (1.0, 2.0, 2.0), FRAC_PI_4)), FRAC_1_SQRT_2);
    // A 4 × 2 rectangle against itself turned by 90°: intersection 2 × 2 = 4, IoU 4 / 12.
    let rectangle = cuboid(3.0, 1.0, 15.0, (1.0, 2.0, 4.0), 0.2);
    close(iou_3d(&rectangle, &cuboid(3.0, 1.0, 15.0, (1.0, 2.0, 4.0), 0.2 + FRAC_PI_2)), 1.0 / 3.0);
    // A heading flipped by π is the same box.
    close(iou_3d(&rectangle, &cuboid(3.0, 1.0, 15.0, (1.0, 2.0, 4.0), 0.2 + PI)), 1.0);
}

#[test]
fn partial_overlaps() {
    // Same footprint, bottoms 0.75 m apart with h = 1.5: half the height shared, IoU 0.5 / 1.5.
    let a = cuboid(0.0, 1.5, 20.0, CAR, 0.0);
    close(iou_3d(&a, &cuboid(0.0, 0.75, 20.0, CAR, 0.0)), 1.0 / 3.0);
    // Shifted by 1 m along its length (x at yaw 0): overlap 3.2 of 4.2 m.
    close(iou_3d(&a, &cuboid(1.0, 1.5, 20.0, CAR, 0.0)), 3.2 / (2.0 * 4.2 - 3.2));
    // At yaw π/2 the length lies along camera z: the same shift along z.
    let turned = cuboid(0.0, 1.5, 20.0, CAR, FRAC_PI_2);
    close(iou_3d(&turned, &cuboid(0.0, 1.5, 21.0, CAR, FRAC_PI_2)), 3.2 / (2.0 * 4.2 - 3.2));
    // Both: half the length and half the height: ∩ = 0.5 · 0.5 of one box, IoU 0.25 / 1.75.
    close(iou_3d(&a, &cuboid(2.1, 0.75, 20.0, CAR, 0.0)), 0.25 / 1.75);
}
