//! The lidar pipeline on seeded synthetic scenes (a haul ramp with objects on it, a load hanging
//! over it, oversized objects) and on bad input: truncated scans, calibration without `P2`, NaN
//! points, empty clouds.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use std::f64::consts::{FRAC_PI_2, PI};
use std::path::PathBuf;

use pitsense_perception::kitti::{KittiError, read_calib, read_velodyne_bin};
use pitsense_perception::lidar::{LidarConfig, LidarPipeline};
use pitsense_types::{FrameId, Header, ObjectSource, PointCloud, PointXyzi, UNKNOWN_CLASS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

const SENSOR_HEIGHT_M: f64 = 1.73;

fn header() -> Header {
    Header { stamp_ns: 42, frame: FrameId::Lidar(0), seq: 7 }
}

/// Ground height of the valley scene in the lidar frame: flat under the truck, a 10 % ramp
/// climbing ahead from x = 8 m and an 8 % ramp climbing behind from x = -10 m.
fn valley_ground_z(x: f64, _y: f64) -> f64 {
    let base = -SENSOR_HEIGHT_M;
    if x > 8.0 {
        base + 0.10 * (x - 8.0)
    } else if x < -10.0 {
        base + 0.08 * (-10.0 - x)
    } else {
        base
    }
}

/// Ground height of the crest scene in the lidar frame: the truck climbs a 10 % ramp whose top
/// flattens 12 m ahead (so, seen from the pitched truck, the ground falls away at 10 %), with a
/// 4 % cross-fall to the right.
fn crest_ground_z(x: f64, y: f64) -> f64 {
    let along = if x > 12.0 { -0.10 * (x - 12.0) } else { 0.0 };
    -SENSOR_HEIGHT_M + along + 0.04 * y
}

/// A box standing on the ground: centre of its footprint, length, width, height, yaw.
#[derive(Clone, Copy, Debug)]
struct SceneBox {
    x: f64,
    y: f64,
    length: f64,
    width: f64,
    height: f64,
    yaw: f64,
    points: usize,
}

impl SceneBox {
    fn contains_xy(&self, x: f64, y: f64, margin: f64) -> bool {
        let (sin, cos) = self.yaw.sin_cos();
        let (dx, dy) = (x - self.x, y - self.y);
        let u = cos * dx + sin * dy;
        let v = -sin * dx + cos * dy;
        u.abs() <= self.length / 2.0 + margin && v.abs() <= self.width / 2.0 + margin
    }
}

const BOXES: [SceneBox; 4] = [
    // A light vehicle on the ramp ahead, a person, a haul truck farther up, a car behind.
    SceneBox { x: 22.0, y: 4.0, length: 4.6, width: 1.9, height: 1.7, yaw: 0.35, points: 500 },
    SceneBox { x: 15.0, y: -5.0, length: 0.6, width: 0.5, height: 1.8, yaw: 0.0, points: 120 },
    SceneBox { x: 40.0, y: -9.0, length: 9.0, width: 6.5, height: 5.5, yaw: -0.4, points: 1500 },
    SceneBox { x: -20.0, y: 3.0, length: 4.2, width: 1.8, height: 1.5, yaw: 1.2, points: 300 },
];

/// Intensity that tags ground points (bright enough that the dust filter leaves them alone).
const GROUND_TAG: f32 = 0.5;

/// Ground points tagged with intensity [`GROUND_TAG`], box `k` points with intensity `k + 1`.
fn ramp_scene(seed: u64, ground_z: fn(f64, f64) -> f64) -> PointCloud {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, 0.02).unwrap();
    let mut points = Vec::new();
    // Ground: azimuth uniform, range log-uniform (density falling with range, as a spinning
    // lidar's) from 3 to 70 m; none under the boxes.
    while points.len() < 60_000 {
        let azimuth = rng.random_range(-PI..PI);
        let range = 3.0 * (70.0_f64 / 3.0).powf(rng.random::<f64>());
        let (x, y) = (range * azimuth.cos(), range * azimuth.sin());
        if BOXES.iter().any(|b| b.contains_xy(x, y, 0.05)) {
            continue;
        }
        let z = ground_z(x, y) + noise.sample(&mut rng);
        points.push(PointXyzi { x_m: x as f32, y_m: y as f32, z_m: z as f32, intensity: GROUND_TAG });
    }
    // Boxes: the side faces that look towards the sensor (the sensor sees no roof from 1.73 m).
    for (index, b) in BOXES.iter().enumerate() {
        let (sin, cos) = b.yaw.sin_cos();
        let bottom = ground_z(b.x, b.y);
        let faces = [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)];
        let visible: Vec<(f64, f64)> = faces
            .into_iter()
            .filter(|(fu, fv)| {
                let (nx, ny) = (cos * fu - sin * fv, sin * fu + cos * fv);
                let (cx, cy) = (b.x + nx * b.length / 2.0 * fu.abs(), b.y + ny * b.width / 2.0 * fv.abs());
                nx * -cx + ny * -cy > 0.0
            })
            .collect();
        for k in 0..b.points {
            let (fu, fv) = visible[k % visible.len()];
            let along = rng.random_range(-0.5..0.5);
            let (u, v) = if fu != 0.0 {
                (fu * b.length / 2.0, along * b.width)
            } else {
                (along * b.length, fv * b.width / 2.0)
            };
            let (x, y) = (b.x + cos * u - sin * v, b.y + sin * u + cos * v);
            let z = rng.random_range(ground_z(x, y)..bottom + b.height);
            points.push(PointXyzi {
                x_m: (x + noise.sample(&mut rng)) as f32,
                y_m: (y + noise.sample(&mut rng)) as f32,
                z_m: z as f32,
                intensity: (index + 1) as f32,
            });
        }
    }
    PointCloud { header: header(), points }
}

#[test]
fn valley_ramps_stay_ground_and_boxes_on_them_are_found() {
    check_ramp_scene(&ramp_scene(2024, valley_ground_z));
}

#[test]
fn crest_with_cross_fall_stays_ground_and_boxes_on_it_are_found() {
    check_ramp_scene(&ramp_scene(77, crest_ground_z));
}

/// Fraction of the scene's ground points (tagged [`GROUND_TAG`]) that the pipeline labels ground.
fn ground_ratio(cloud: &PointCloud, output: &pitsense_perception::lidar::LidarOutput) -> f64 {
    let ground_in = cloud.points.iter().filter(|p| p.intensity == GROUND_TAG).count();
    let ground_missed = output.obstacle_points.iter().filter(|p| p.intensity == GROUND_TAG).count();
    println!("ramp points labelled ground: {ground_missed} of {ground_in} kept as obstacles");
    1.0 - ground_missed as f64 / ground_in as f64
}

#[test]
fn a_ground_model_that_cannot_tilt_fails_on_the_ramp() {
    // Negative control: with planes limited to 1° of tilt the ramps are not ground, so the
    // checks above do measure slope handling.
    let config = LidarConfig { ground_max_tilt_rad: 0.02, ..LidarConfig::default() };
    let cloud = ramp_scene(2024, valley_ground_z);
    let output = LidarPipeline::new(config).unwrap().process(&cloud);
    let ratio = ground_ratio(&cloud, &output);
    assert!(ratio < 0.9, "{ratio}");
}

fn check_ramp_scene(cloud: &PointCloud) {
    let mut pipeline = LidarPipeline::new(LidarConfig::default()).unwrap();
    let output = pipeline.process(cloud);
    let stats = output.stats;
    println!("{stats:?}");

    let ground_ratio = ground_ratio(cloud, &output);
    println!("ramp ground ratio {ground_ratio:.4}");
    assert!(ground_ratio >= 0.95, "only {ground_ratio:.3} of the ramp is ground");

    for (index, b) in BOXES.iter().enumerate() {
        let tag = (index + 1) as f32;
        let kept = output.obstacle_points.iter().filter(|p| p.intensity == tag).count();
        let found = output
            .objects
            .iter()
            .min_by(|p, q| {
                let d = |o: &pitsense_types::Detection3d| (o.center_m.x - b.x).hypot(o.center_m.y - b.y);
                d(p).total_cmp(&d(q))
            })
            .unwrap();
        let centre_error = (found.center_m.x - b.x).hypot(found.center_m.y - b.y);
        // Yaw modulo π (a box has no front), for boxes with a distinct long side.
        let yaw_error = {
            let d = (found.yaw_rad - b.yaw).rem_euclid(PI);
            d.min(PI - d)
        };
        println!(
            "box {index}: {kept}/{} points kept, centre error {centre_error:.2} m, size {:.2}x{:.2}x{:.2} \
             (true {}x{}x{}), yaw {:.3} (true {})",
            b.points,
            found.size_m.x,
            found.size_m.y,
            found.size_m.z,
            b.length,
            b.width,
            b.height,
            found.yaw_rad,
            b.yaw
        );
        assert!(kept as f64 >= 0.75 * b.points as f64, "box {index}: only {kept} points kept");
        assert!(centre_error < 0.3, "box {index}: centre error {centre_error:.2} m");
        assert!((found.size_m.x - b.length).abs() < 0.3, "box {index}: length {}", found.size_m.x);
        assert!((found.size_m.y - b.width).abs() < 0.3, "box {index}: width {}", found.size_m.y);
        if b.length > 1.5 * b.width {
            assert!(yaw_error < 3f64.to_radians(), "box {index}: yaw error {yaw_error:.3} rad");
        }
        assert_eq!(found.class_label, UNKNOWN_CLASS);
        assert_eq!(found.source, ObjectSource::Lidar);
        assert_eq!(found.score, 0.5);
        assert_eq!(found.header, header());
        assert!(found.yaw_rad > -FRAC_PI_2 && found.yaw_rad <= FRAC_PI_2);
    }
    assert_eq!(output.objects.len(), BOXES.len(), "{:#?}", output.objects);
    assert_eq!(output.object_info.len(), output.objects.len());
    assert!(output.object_info.iter().all(|info| !info.oversized), "{:?}", output.object_info);
    // Every box stands on the ramp: its lowest kept point is just above the ground threshold
    // (0.2 m), give or take the grade across its footprint.
    for (object, info) in output.objects.iter().zip(&output.object_info) {
        println!(
            "box at ({:.1}, {:.1}): height above ground {:.2} m",
            object.center_m.x, object.center_m.y, info.height_above_ground_m
        );
        assert!(info.height_above_ground_m.abs() < 0.5, "{info:?}");
    }
    // Sorted by horizontal range.
    let ranges: Vec<f64> = output.objects.iter().map(|o| o.center_m.x.hypot(o.center_m.y)).collect();
    assert!(ranges.windows(2).all(|w| w[0] <= w[1]), "{ranges:?}");
}

#[test]
fn same_seed_same_scene_same_output() {
    let mut pipeline = LidarPipeline::new(LidarConfig::default()).unwrap();
    let first = pipeline.process(&ramp_scene(5, valley_ground_z));
    let other = pipeline.process(&ramp_scene(6, valley_ground_z));
    let again = pipeline.process(&ramp_scene(5, valley_ground_z));
    assert_eq!(first, again);
    assert_ne!(first.obstacle_points, other.obstacle_points);
}

#[test]
fn oversized_clusters_are_reported_not_dropped() {
    let config = LidarConfig { cluster_max_points: 400, ..LidarConfig::default() };
    let output = LidarPipeline::new(config).unwrap().process(&ramp_scene(1, valley_ground_z));
    // The car ahead (about 410 points kept) and the haul truck (about 1400) exceed 400 points:
    // they stay in `objects`, flagged.
    assert_eq!(output.stats.oversized_clusters, 2, "{:?}", output.stats);
    assert_eq!(output.stats.clusters, 2, "{:?}", output.stats);
    assert_eq!(output.objects.len(), 4);
    let flagged: Vec<usize> =
        output.object_info.iter().filter(|i| i.oversized).map(|i| i.point_count).collect();
    assert_eq!(flagged.len(), 2);
    assert!(flagged.iter().all(|&count| count > 400), "{flagged:?}");

    // A length limit flags the haul truck (9 m) and nothing shorter.
    let config = LidarConfig { cluster_max_length_m: 8.0, ..LidarConfig::default() };
    let output = LidarPipeline::new(config).unwrap().process(&ramp_scene(1, valley_ground_z));
    assert_eq!(output.stats.oversized_clusters, 1, "{:?}", output.stats);
    let (truck, info) = output.objects.iter().zip(&output.object_info).find(|(_, i)| i.oversized).unwrap();
    assert!((truck.center_m.x - 40.0).abs() < 1.0 && truck.size_m.x > 8.0, "{truck:?} {info:?}");
}

#[test]
fn non_finite_points_are_dropped_and_counted() {
    let mut cloud = ramp_scene(3, valley_ground_z);
    let good = cloud.points.len();
    let bad = [
        PointXyzi { x_m: f32::NAN, y_m: 1.0, z_m: 0.0, intensity: 0.0 },
        PointXyzi { x_m: 5.0, y_m: f32::INFINITY, z_m: 0.0, intensity: 0.0 },
        PointXyzi { x_m: 5.0, y_m: 1.0, z_m: f32::NEG_INFINITY, intensity: 0.0 },
        PointXyzi { x_m: 5.0, y_m: 1.0, z_m: 0.0, intensity: f32::NAN },
    ];
    for (k, p) in bad.iter().enumerate() {
        cloud.points.insert(k * 1000, *p);
    }
    let mut pipeline = LidarPipeline::new(LidarConfig::default()).unwrap();
    let output = pipeline.process(&cloud);
    assert_eq!(output.stats.non_finite, 4);
    assert_eq!(output.stats.input_points, good + 4);
    assert!(output.obstacle_points.iter().all(PointXyzi::is_finite));
    assert!(output.objects.iter().all(|o| o.center_m.iter().chain(o.size_m.iter()).all(|v| v.is_finite())));

    // A cloud of nothing but NaN.
    let nan_cloud = PointCloud { header: header(), points: vec![bad[0]; 100] };
    let output = pipeline.process(&nan_cloud);
    assert_eq!(output.stats.non_finite, 100);
    assert!(output.objects.is_empty() && output.obstacle_points.is_empty());
}

#[test]
fn empty_cloud_gives_empty_output() {
    let mut pipeline = LidarPipeline::new(LidarConfig::default()).unwrap();
    let output = pipeline.process(&PointCloud { header: header(), points: Vec::new() });
    assert!(output.objects.is_empty() && output.object_info.is_empty() && output.obstacle_points.is_empty());
    assert_eq!(output.stats, Default::default());
}

#[test]
fn range_and_ego_box_filters_count_what_they_drop() {
    let config = LidarConfig {
        ego_box: Some(pitsense_perception::lidar::EgoBoxConfig {
            min_m: [-3.0, -1.5, -2.0],
            max_m: [3.0, 1.5, 1.0],
        }),
        ..LidarConfig::default()
    };
    let points = vec![
        PointXyzi { x_m: 0.5, y_m: 0.0, z_m: 0.0, intensity: 0.0 }, // closer than min range
        PointXyzi { x_m: 2.9, y_m: 0.5, z_m: 0.0, intensity: 0.0 }, // in the ego box
        PointXyzi { x_m: 90.0, y_m: 0.0, z_m: 0.0, intensity: 0.0 }, // beyond max range
        PointXyzi { x_m: 10.0, y_m: 0.0, z_m: -1.73, intensity: 0.0 }, // kept
    ];
    let output = LidarPipeline::new(config).unwrap().process(&PointCloud { header: header(), points });
    let s = output.stats;
    assert_eq!((s.out_of_range, s.in_ego_box, s.ground_points + s.obstacle_points), (2, 1, 1), "{s:?}");
}

#[test]
fn invalid_config_is_refused_with_its_key() {
    let err = LidarPipeline::new(LidarConfig { min_range_m: 100.0, ..LidarConfig::default() }).unwrap_err();
    assert_eq!(err.key, "lidar.min_range_m");
}

fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("pitsense-perception-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn truncated_velodyne_file_is_an_error_naming_it() {
    let path = temp_file("truncated.bin", &[0u8; 16 * 10 + 7]);
    let err = read_velodyne_bin(&path, header()).unwrap_err();
    std::fs::remove_file(&path).ok();
    let message = err.to_string();
    assert!(matches!(err, KittiError::VelodyneLength { byte_len: 167, .. }), "{message}");
    assert!(message.contains("truncated.bin") && message.contains("167"), "{message}");

    let missing =
        read_velodyne_bin(&std::env::temp_dir().join("pitsense-no-such-file.bin"), header()).unwrap_err();
    assert!(
        matches!(missing, KittiError::Io { .. }) && missing.to_string().contains("pitsense-no-such-file.bin")
    );
}

#[test]
fn calib_without_p2_is_an_error_naming_the_key() {
    let real = std::fs::read_to_string(common::data_file("kitti/object/training/calib/000000.txt")).unwrap();
    let without_p2: String =
        real.lines().filter(|l| !l.starts_with("P2:")).map(|l| format!("{l}\n")).collect();
    let path = temp_file("calib-no-p2.txt", without_p2.as_bytes());
    let err = read_calib(&path).unwrap_err();
    std::fs::remove_file(&path).ok();
    let message = err.to_string();
    assert!(matches!(err, KittiError::CalibMissingKey { key: "P2", .. }), "{message}");
    assert!(message.contains("calib-no-p2.txt") && message.contains("`P2`"), "{message}");
}

#[test]
fn height_above_ground_of_a_standing_and_a_hanging_box_on_the_ramp() {
    // The 10 % ramp ahead of the valley scene; a 2 m cube standing on it at x = 14 m and a load
    // hanging with its bottom 2.5 m above the ramp at x = 25 m (ground there: 1.7 m above the
    // flat part).
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let mut points = Vec::new();
    while points.len() < 40_000 {
        let azimuth = rng.random_range(-PI..PI);
        let range = 3.0 * (60.0_f64 / 3.0).powf(rng.random::<f64>());
        let (x, y) = (range * azimuth.cos(), range * azimuth.sin());
        let z = valley_ground_z(x, y);
        points.push(PointXyzi { x_m: x as f32, y_m: y as f32, z_m: z as f32, intensity: GROUND_TAG });
    }
    // (x of the face seen from the lidar, y centre, bottom above ground, height)
    let objects = [(14.0, 3.0, 0.0, 2.0), (25.0, -4.0, 2.5, 0.8)];
    for &(x, y, clearance, height) in &objects {
        let bottom = valley_ground_z(x, y) + clearance;
        for _ in 0..400 {
            let (dy, dz) = (rng.random_range(-1.0..1.0), rng.random_range(0.0..height));
            points.push(PointXyzi {
                x_m: x as f32,
                y_m: (y + dy) as f32,
                z_m: (bottom + dz) as f32,
                intensity: 0.7,
            });
        }
    }
    let output =
        LidarPipeline::new(LidarConfig::default()).unwrap().process(&PointCloud { header: header(), points });
    assert_eq!(output.objects.len(), 2, "{:?}", output.objects);
    for ((object, info), (x, _, clearance, _)) in output.objects.iter().zip(&output.object_info).zip(objects)
    {
        println!(
            "object at x {:.2} m: bottom z {:.2} m, height above ground {:.3} m (true clearance {clearance} m)",
            object.center_m.x,
            object.center_m.z - object.size_m.z / 2.0,
            info.height_above_ground_m
        );
        assert!((object.center_m.x - x).abs() < 0.1);
        // The lowest 0.2 m of a standing object are within the ground threshold.
        let expected = if clearance > 0.0 { clearance } else { 0.2 };
        assert!((info.height_above_ground_m - expected).abs() < 0.1, "{info:?}");
    }
}

#[test]
fn random_bit_patterns_never_panic_and_every_point_is_counted() {
    // Every step on: random f32 bit patterns (NaN, infinities, subnormals, 1e38, negative
    // intensities) mixed with plausible points, with an ego state and per-point channels of
    // random values too.
    let mut config = LidarConfig::default();
    config.dust.enabled = true;
    config.voxel.enabled = true;
    let mut pipeline = LidarPipeline::new(config).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(4242);
    let ego = pitsense_types::EgoState {
        header: header(),
        site_from_truck: pitsense_types::nalgebra::Isometry3::identity(),
        speed_mps: 12.0,
        yaw_rate_radps: -0.3,
        accel_mps2: 0.0,
    };
    for round in 0..20 {
        let count = rng.random_range(0..5000);
        let points: Vec<PointXyzi> = (0..count)
            .map(|_| {
                let mut value = |plausible: f32| {
                    if rng.random_bool(0.5) {
                        f32::from_bits(rng.random())
                    } else {
                        rng.random_range(-plausible..plausible)
                    }
                };
                PointXyzi { x_m: value(60.0), y_m: value(60.0), z_m: value(5.0), intensity: value(1.0) }
            })
            .collect();
        let times: Vec<f32> = (0..count).map(|_| f32::from_bits(rng.random())).collect();
        let echoes: Vec<f32> = (0..count).map(|_| f32::from_bits(rng.random())).collect();
        let cloud = PointCloud { header: header(), points };
        let frame = pitsense_perception::lidar::LidarFrame {
            ego: Some(&ego),
            time_offset_s: (round % 2 == 0).then_some(times.as_slice()),
            farther_echo_m: Some(&echoes),
            ..pitsense_perception::lidar::LidarFrame::new(&cloud)
        };
        let output = pipeline.process_frame(&frame);
        let s = output.stats;
        assert_eq!(
            s.non_finite
                + s.out_of_range
                + s.in_ego_box
                + s.ground_points
                + s.dust_points
                + s.obstacle_points,
            count,
            "{s:?}"
        );
        assert!(output.obstacle_points.iter().all(PointXyzi::is_finite));
        for (object, info) in output.objects.iter().zip(&output.object_info) {
            assert!(object.center_m.iter().chain(object.size_m.iter()).all(|v| v.is_finite()), "{object:?}");
            assert!(object.yaw_rad.is_finite() && info.height_above_ground_m.is_finite(), "{info:?}");
        }
    }
}
