//! The lidar pipeline on real KITTI scans against the KITTI labels (acceptance), and the dust
//! filter on synthetic dust around a real KITTI car.
//!
//! Four frames: 000000-000002 of `kitti/object/training` (label_2) and mmdet3d's demo frame
//! 000008 (labels in its info JSON). Labelled Car/Van/Truck/Pedestrian/Cyclist whose centre is
//! within 40 m (bird's-eye view) are targets, truncated and occluded ones included: 8 in all.
//! Each target is matched to the lidar box whose centre is nearest in bird's-eye view; the
//! acceptance is all 8 within 1.5 m and at least 7 within 1.0 m. The table printed gives each
//! target's centre error, yaw error (modulo π: a lidar box has no front) and bird's-eye IoU
//! (oriented rectangles). Boxes that match no label (poles, walls, vegetation, unlabelled
//! vehicles) are obstacles too: they are counted by size, never suppressed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use std::collections::HashSet;
use std::f64::consts::PI;

use pitsense_perception::kitti::{KittiCalib, KittiLabel, read_calib, read_labels, read_velodyne_bin};
use pitsense_perception::lidar::{LidarConfig, LidarOutput, LidarPipeline};
use pitsense_types::{Detection3d, PointCloud, PointXyzi};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const TARGET_TYPES: [&str; 5] = ["Car", "Van", "Truck", "Pedestrian", "Cyclist"];
const MAX_TARGET_RANGE_M: f64 = 40.0;
const MATCH_RADIUS_M: f64 = 1.5;

struct Frame {
    name: &'static str,
    cloud: PointCloud,
    calib: KittiCalib,
    labels: Vec<KittiLabel>,
}

fn frames() -> Vec<Frame> {
    let mut frames = Vec::new();
    for (index, name) in common::KITTI_TRAINING_FRAMES.into_iter().enumerate() {
        frames.push(Frame {
            name,
            cloud: read_velodyne_bin(
                &common::data_file(&format!("kitti/object/training/velodyne/{name}.bin")),
                common::kitti_header(index as u64),
            )
            .unwrap(),
            calib: read_calib(&common::data_file(&format!("kitti/object/training/calib/{name}.txt")))
                .unwrap(),
            labels: read_labels(&common::data_file(&format!("kitti/object/training/label_2/{name}.txt")))
                .unwrap(),
        });
    }
    let (calib, labels) =
        common::mmdet3d_frame(&common::data_file("kitti/object_mmdet3d_demo/000008_info.json"));
    frames.push(Frame {
        name: "000008",
        cloud: read_velodyne_bin(
            &common::data_file("kitti/object_mmdet3d_demo/000008.bin"),
            common::kitti_header(8),
        )
        .unwrap(),
        calib,
        labels,
    });
    frames
}

/// The labels of a frame (DontCare left out) as boxes in the lidar frame, with their type.
fn labelled_boxes(frame: &Frame) -> Vec<(String, Detection3d)> {
    let velo_from_rect = frame.calib.velo_from_rect().unwrap();
    frame
        .labels
        .iter()
        .filter(|l| !l.is_dont_care())
        .map(|l| (l.object_type.clone(), l.to_detection_in_lidar(&velo_from_rect, frame.cloud.header)))
        .collect()
}

fn bev_distance(a: &Detection3d, b: &Detection3d) -> f64 {
    (a.center_m.x - b.center_m.x).hypot(a.center_m.y - b.center_m.y)
}

/// Difference of two headings modulo π, in `[0, π/2]`.
fn yaw_error_mod_pi(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(PI);
    d.min(PI - d)
}

/// The bird's-eye footprint of a box: four corners, counter-clockwise.
fn footprint(d: &Detection3d) -> Vec<[f64; 2]> {
    d.corners_m()[..4].iter().map(|c| [c.x, c.y]).collect()
}

fn polygon_area(polygon: &[[f64; 2]]) -> f64 {
    let n = polygon.len();
    (0..n)
        .map(|i| {
            let (a, b) = (polygon[i], polygon[(i + 1) % n]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum::<f64>()
        / 2.0
}

/// Sutherland-Hodgman: `subject` clipped by the convex, counter-clockwise `clip`.
fn clip_polygon(subject: &[[f64; 2]], clip: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let mut output = subject.to_vec();
    for i in 0..clip.len() {
        let (a, b) = (clip[i], clip[(i + 1) % clip.len()]);
        let side = |p: [f64; 2]| (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
        let input = std::mem::take(&mut output);
        for j in 0..input.len() {
            let (p, q) = (input[j], input[(j + 1) % input.len()]);
            let (sp, sq) = (side(p), side(q));
            if sp >= 0.0 {
                output.push(p);
            }
            if (sp >= 0.0) != (sq >= 0.0) {
                let t = sp / (sp - sq);
                output.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
            }
        }
        if output.is_empty() {
            break;
        }
    }
    output
}

/// Bird's-eye IoU of two oriented boxes (their footprints' intersection over union).
fn bev_iou(a: &Detection3d, b: &Detection3d) -> f64 {
    let (pa, pb) = (footprint(a), footprint(b));
    let intersection = polygon_area(&clip_polygon(&pa, &pb)).abs();
    let union = polygon_area(&pa).abs() + polygon_area(&pb).abs() - intersection;
    if union > 0.0 { intersection / union } else { 0.0 }
}

#[test]
fn oriented_bev_iou_by_hand() {
    let base = Detection3d {
        header: common::kitti_header(0),
        center_m: pitsense_types::nalgebra::Point3::new(10.0, 0.0, 0.0),
        size_m: pitsense_types::nalgebra::Vector3::new(4.0, 2.0, 1.5),
        yaw_rad: 0.3,
        class_label: "Car".into(),
        score: 1.0,
        source: pitsense_types::ObjectSource::Lidar,
    };
    assert!((bev_iou(&base, &base) - 1.0).abs() < 1e-12);
    // Half a length along the heading: intersection 2x2 = 4, union 8 + 8 - 4 = 12.
    let mut shifted = base.clone();
    shifted.center_m.x += 2.0 * 0.3_f64.cos();
    shifted.center_m.y += 2.0 * 0.3_f64.sin();
    assert!((bev_iou(&base, &shifted) - 1.0 / 3.0).abs() < 1e-12);
    // A half turn is the same footprint; a quarter turn crosses it in a 2x2 square: 4 / 12.
    let mut turned = base.clone();
    turned.yaw_rad += PI;
    assert!((bev_iou(&base, &turned) - 1.0).abs() < 1e-9);
    turned.yaw_rad += PI / 2.0;
    assert!((bev_iou(&base, &turned) - 1.0 / 3.0).abs() < 1e-9);
    let mut far = base.clone();
    far.center_m.x += 10.0;
    assert_eq!(bev_iou(&base, &far), 0.0);
}

/// What one configuration achieves on the four frames.
#[derive(Debug, Default)]
struct Acceptance {
    targets: usize,
    within_1_5: usize,
    within_1_0: usize,
    /// Boxes far from every label, by footprint length: <1 m, 1-3 m, 3-6 m, >=6 m.
    unmatched_by_length: [usize; 4],
    unmatched_oversized: usize,
    boxes: usize,
}

/// Runs `config` on the four frames and prints the acceptance table.
fn acceptance(config: LidarConfig, title: &str) -> Acceptance {
    let mut pipeline = LidarPipeline::new(config).unwrap();
    let mut result = Acceptance::default();
    println!("== {title}");
    println!(
        "frame  type        range_m  label (x, y)      box (x, y)        box l x w x h     centre_err_m  \
         yaw_err_deg  bev_iou  above_ground_m"
    );
    for frame in frames() {
        let output = pipeline.process(&frame.cloud);
        assert_eq!(output.stats.input_points, frame.cloud.points.len());
        assert_eq!(output.objects.len(), output.object_info.len());
        result.boxes += output.objects.len();
        let labelled = labelled_boxes(&frame);
        for (object_type, label) in &labelled {
            let range_m = label.center_m.x.hypot(label.center_m.y);
            if !TARGET_TYPES.contains(&object_type.as_str()) || range_m > MAX_TARGET_RANGE_M {
                continue;
            }
            result.targets += 1;
            let nearest = output
                .objects
                .iter()
                .zip(&output.object_info)
                .min_by(|a, b| bev_distance(a.0, label).total_cmp(&bev_distance(b.0, label)));
            let Some((object, info)) = nearest else {
                println!("{}  {object_type:<10}  {range_m:7.1}  no box at all", frame.name);
                continue;
            };
            let error_m = bev_distance(object, label);
            println!(
                "{}  {object_type:<10}  {range_m:7.1}  ({:6.2}, {:6.2})  ({:6.2}, {:6.2})  {:4.2} x {:4.2} x {:4.2}  \
                 {error_m:12.2}  {:11.1}  {:7.2}  {:14.2}{}",
                frame.name,
                label.center_m.x,
                label.center_m.y,
                object.center_m.x,
                object.center_m.y,
                object.size_m.x,
                object.size_m.y,
                object.size_m.z,
                yaw_error_mod_pi(object.yaw_rad, label.yaw_rad).to_degrees(),
                bev_iou(object, label),
                info.height_above_ground_m,
                if info.oversized { "  (oversized)" } else { "" },
            );
            result.within_1_5 += usize::from(error_m <= MATCH_RADIUS_M);
            result.within_1_0 += usize::from(error_m <= 1.0);
        }
        for (object, info) in output.objects.iter().zip(&output.object_info) {
            if labelled.iter().all(|(_, label)| bev_distance(object, label) > MATCH_RADIUS_M) {
                let bucket = match object.size_m.x {
                    l if l < 1.0 => 0,
                    l if l < 3.0 => 1,
                    l if l < 6.0 => 2,
                    _ => 3,
                };
                result.unmatched_by_length[bucket] += 1;
                result.unmatched_oversized += usize::from(info.oversized);
            }
        }
    }
    let [small, medium, large, huge] = result.unmatched_by_length;
    println!(
        "{}/{} within {MATCH_RADIUS_M} m, {}/{} within 1.0 m (acceptance: all within 1.5 m, >= 7 within 1.0 m)",
        result.within_1_5, result.targets, result.within_1_0, result.targets
    );
    println!(
        "boxes matching no label (obstacles all the same), by length: <1 m {small}, 1-3 m {medium}, 3-6 m \
         {large}, >=6 m {huge}; {} of them oversized; {} boxes in all",
        result.unmatched_oversized, result.boxes
    );
    result
}

#[test]
fn acceptance_on_labelled_objects_within_40_m() {
    let result = acceptance(LidarConfig::default(), "default configuration");
    assert_eq!(result.targets, 8, "000000: 1 pedestrian, 000002: 1 car, 000008: 6 cars");
    assert_eq!(result.within_1_5, 8, "{result:?}");
    assert!(result.within_1_0 >= 7, "{result:?}");
}

/// The optional steps, measured on the same frames (printed; they are off by default).
#[test]
fn acceptance_with_the_optional_steps_on() {
    let mut voxel = LidarConfig::default();
    voxel.voxel.enabled = true;
    let with_voxels = acceptance(voxel, "voxel downsampling on (leaf 0.1 m)");
    let mut dust = LidarConfig::default();
    dust.dust.enabled = true;
    let with_dust = acceptance(dust, "dust filter on (dust-free scans)");
    assert_eq!((with_voxels.targets, with_dust.targets), (8, 8));
}

#[test]
fn replaying_a_scan_gives_identical_output() {
    let frame = frames().into_iter().next().unwrap();
    for config in [LidarConfig::default(), {
        let mut all_on = LidarConfig::default();
        all_on.dust.enabled = true;
        all_on.voxel.enabled = true;
        all_on
    }] {
        let mut pipeline = LidarPipeline::new(config.clone()).unwrap();
        let first: LidarOutput = pipeline.process(&frame.cloud);
        // Same pipeline (reused buffers) and a fresh one.
        let second = pipeline.process(&frame.cloud);
        let third = LidarPipeline::new(config).unwrap().process(&frame.cloud);
        assert!(!first.objects.is_empty());
        assert_eq!(first, second);
        assert_eq!(first, third);
        let s = first.stats;
        assert_eq!(
            s.non_finite
                + s.out_of_range
                + s.in_ego_box
                + s.ground_points
                + s.dust_points
                + s.obstacle_points,
            s.input_points,
            "every point is counted once: {s:?}"
        );
        assert_eq!(s.clusters + s.oversized_clusters, first.objects.len());
        assert_eq!(s.input_points, 115_384, "SOURCES.md: 000000 has 115,384 points");
    }
}

/// Whether `p` lies in the label's box grown by `margin_m` on every side.
fn in_box(label: &Detection3d, p: &PointXyzi, margin_m: f64) -> bool {
    let (sin, cos) = label.yaw_rad.sin_cos();
    let (dx, dy) = (f64::from(p.x_m) - label.center_m.x, f64::from(p.y_m) - label.center_m.y);
    let (u, v) = (cos * dx + sin * dy, -sin * dx + cos * dy);
    u.abs() <= label.size_m.x / 2.0 + margin_m
        && v.abs() <= label.size_m.y / 2.0 + margin_m
        && (f64::from(p.z_m) - label.center_m.z).abs() <= label.size_m.z / 2.0 + margin_m
}

/// Seeded dust around `center` as a spinning HDL-64E-like lidar sees it: every ray of a
/// 0.18° × 0.4° grid (KITTI's spacing) that crosses the dust volume returns from a particle
/// with probability `hit_probability`, at a depth uniform along its path through the volume,
/// with an intensity in `[0, 0.08)`. The volume is a box `half_extent_m` around `center`
/// (x, y) from `bottom_z_m` to `top_z_m`.
fn dust_cloud(
    seed: u64,
    center: [f64; 2],
    half_extent_m: [f64; 2],
    bottom_z_m: f64,
    top_z_m: f64,
    hit_probability: f64,
) -> Vec<PointXyzi> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut dust = Vec::new();
    let (x0, x1) = (center[0] - half_extent_m[0], center[0] + half_extent_m[0]);
    let (y0, y1) = (center[1] - half_extent_m[1], center[1] + half_extent_m[1]);
    for azimuth_step in 0..2000 {
        let azimuth = (azimuth_step as f64 * 0.18 - 180.0).to_radians();
        let (sin_a, cos_a) = azimuth.sin_cos();
        // Horizontal distances where the ray is inside the box's x and y slabs.
        let slab = |origin_lo: f64, origin_hi: f64, direction: f64| {
            if direction.abs() < 1e-12 {
                if origin_lo <= 0.0 && 0.0 <= origin_hi { (0.0, f64::INFINITY) } else { (1.0, 0.0) }
            } else {
                let (a, b) = (origin_lo / direction, origin_hi / direction);
                (a.min(b), a.max(b))
            }
        };
        let (tx0, tx1) = slab(x0, x1, cos_a);
        let (ty0, ty1) = slab(y0, y1, sin_a);
        let (near, far) = (tx0.max(ty0).max(0.0), tx1.min(ty1));
        if near >= far {
            continue;
        }
        for ring in 0..64 {
            let elevation = (2.0 - 0.4 * ring as f64).to_radians();
            let slope = elevation.tan();
            // Horizontal distances where the ray is between the bottom and top heights.
            let (za, zb) = if slope.abs() < 1e-12 {
                if bottom_z_m <= 0.0 && 0.0 <= top_z_m { (0.0, f64::INFINITY) } else { (1.0, 0.0) }
            } else {
                let (a, b) = (bottom_z_m / slope, top_z_m / slope);
                (a.min(b), a.max(b))
            };
            let (lo, hi) = (near.max(za), far.min(zb));
            if lo >= hi || rng.random::<f64>() >= hit_probability {
                continue;
            }
            let horizontal_m = rng.random_range(lo..hi);
            dust.push(PointXyzi {
                x_m: (horizontal_m * cos_a) as f32,
                y_m: (horizontal_m * sin_a) as f32,
                z_m: (horizontal_m * slope) as f32,
                intensity: rng.random_range(0.0..0.08),
            });
        }
    }
    dust
}

/// The box nearest `label` in bird's-eye view.
fn nearest_box<'a>(output: &'a LidarOutput, label: &Detection3d) -> &'a Detection3d {
    output.objects.iter().min_by(|a, b| bev_distance(a, label).total_cmp(&bev_distance(b, label))).unwrap()
}

#[test]
fn dust_around_a_real_kitti_car_is_removed_and_the_car_kept() {
    // The car 34.7 m ahead in 000002 (label_2 line 2: seen from behind, not occluded).
    let frame = frames().into_iter().nth(2).unwrap();
    let labelled = labelled_boxes(&frame);
    let (_, car) = labelled.iter().find(|(t, _)| t == "Car").unwrap();
    let car_points = frame.cloud.points.iter().filter(|p| in_box(car, p, 0.1)).count();

    // Dust raised around the car: 20 m along x, 16 m across, from the road to 2.5 m above it
    // (the lidar is 1.73 m above the road); 90 % of the rays crossing it return from it.
    let dust = dust_cloud(2002, [car.center_m.x, car.center_m.y], [10.0, 8.0], -1.73, 0.8, 0.9);
    let dust_keys: HashSet<[u32; 3]> =
        dust.iter().map(|p| [p.x_m.to_bits(), p.y_m.to_bits(), p.z_m.to_bits()]).collect();
    assert_eq!(dust_keys.len(), dust.len());
    let mut dusty = frame.cloud.clone();
    dusty.points.extend_from_slice(&dust);
    let surviving = |output: &LidarOutput| {
        output
            .obstacle_points
            .iter()
            .filter(|p| dust_keys.contains(&[p.x_m.to_bits(), p.y_m.to_bits(), p.z_m.to_bits()]))
            .count()
    };

    let plain = LidarConfig::default();
    assert!(!plain.dust.enabled);
    let mut filtered = LidarConfig::default();
    filtered.dust.enabled = true;
    let before = LidarPipeline::new(plain.clone()).unwrap().process(&frame.cloud);
    let unfiltered = LidarPipeline::new(plain).unwrap().process(&dusty);
    let clean_filtered = LidarPipeline::new(filtered.clone()).unwrap().process(&frame.cloud);
    let output = LidarPipeline::new(filtered).unwrap().process(&dusty);

    let survivors = surviving(&output);
    let removed = 1.0 - survivors as f64 / dust.len() as f64;
    println!(
        "{} dust points around the car ({car_points} car points in its label box); without the filter {} survive \
         as obstacles (the rest is labelled ground); with it {survivors} survive: {:.1} % removed; filter stats: \
         {} dust points in all",
        dust.len(),
        surviving(&unfiltered),
        100.0 * removed,
        output.stats.dust_points
    );
    assert!(dust.len() >= 2000, "thousands of dust points: {}", dust.len());
    assert!(
        surviving(&unfiltered) as f64 > 0.5 * dust.len() as f64,
        "negative control: the dust must matter"
    );
    assert!(removed >= 0.9, "only {:.1} % of the dust removed", 100.0 * removed);

    let reference = nearest_box(&before, car);
    for (name, run) in [("clean scan, filter on", &clean_filtered), ("dusty scan, filter on", &output)] {
        let found = nearest_box(run, car);
        let shift_m = bev_distance(found, reference);
        println!(
            "car box: before ({:.2}, {:.2}) {:.2} x {:.2}; {name}: ({:.2}, {:.2}) {:.2} x {:.2}, moved {shift_m:.2} m, \
             label error {:.2} m",
            reference.center_m.x,
            reference.center_m.y,
            reference.size_m.x,
            reference.size_m.y,
            found.center_m.x,
            found.center_m.y,
            found.size_m.x,
            found.size_m.y,
            bev_distance(found, car)
        );
        assert!(shift_m <= 0.5, "{name}: the car's box moved {shift_m:.2} m");
    }
    let unfiltered_car = nearest_box(&unfiltered, car);
    println!(
        "without the filter the dust makes the car's box {:.2} x {:.2} at ({:.2}, {:.2})",
        unfiltered_car.size_m.x,
        unfiltered_car.size_m.y,
        unfiltered_car.center_m.x,
        unfiltered_car.center_m.y
    );
}
