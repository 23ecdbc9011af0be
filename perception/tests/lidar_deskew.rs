//! Motion compensation on a synthetic wall seen from a moving, turning truck.
//!
//! The wall is the plane `x = 20 m`, `|y| <= 12 m`, in the lidar frame at the cloud's stamp (the
//! reference time). A clockwise lidar, 4 m ahead of and 0.5 m left of the rear axle, sweeps it
//! once in 100 ms while the truck drives at 15 m/s and turns left at 0.4 rad/s (CTRV). Each
//! return is simulated exactly: the sensor's pose at the firing time, the ray's intersection
//! with the wall, the hit expressed in the lidar frame of that time. Over a rotation the sensor
//! moves 1.5 m and turns 2.3°; the wall, swept 33 to 67 ms before the stamp (cut behind), comes
//! out 0.5 to 0.8 m too far and tilted. After deskew every point must lie on `x = 20 m` again
//! to within a millimetre.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use std::f64::consts::PI;

use pitsense_perception::lidar::{
    DeskewConfig, LidarConfig, LidarFrame, LidarPipeline, RotationDirection, deskew,
};
use pitsense_types::nalgebra::Isometry3;
use pitsense_types::{EgoState, FrameId, Header, PointCloud, PointXyzi};

const WALL_X_M: f64 = 20.0;
const WALL_HALF_LENGTH_M: f64 = 12.0;
const SPEED_MPS: f64 = 15.0;
const YAW_RATE_RADPS: f64 = 0.4;
const LEVER_ARM_M: [f64; 2] = [4.0, 0.5];

fn ego() -> EgoState {
    EgoState {
        header: Header { stamp_ns: 1_000_000_000, frame: FrameId::Site, seq: 3 },
        site_from_truck: Isometry3::identity(),
        speed_mps: SPEED_MPS,
        yaw_rate_radps: YAW_RATE_RADPS,
        accel_mps2: 0.0,
    }
}

/// Pose of the lidar at `dt_s` from the stamp in the reference lidar frame: heading and
/// position, straight from the CTRV equations (exact trigonometry, no series).
fn lidar_pose(dt_s: f64) -> (f64, [f64; 2]) {
    let theta = YAW_RATE_RADPS * dt_s;
    let ego_xy = [SPEED_MPS / YAW_RATE_RADPS * theta.sin(), SPEED_MPS / YAW_RATE_RADPS * (1.0 - theta.cos())];
    let (sin, cos) = theta.sin_cos();
    let [mx, my] = LEVER_ARM_M;
    (theta, [ego_xy[0] + cos * mx - sin * my - mx, ego_xy[1] + sin * mx + cos * my - my])
}

/// Time of the firing at encoder azimuth `azimuth_rad` under `config`'s sweep model.
fn firing_time_s(azimuth_rad: f64, config: &DeskewConfig) -> f64 {
    let swept = match config.rotation_direction {
        RotationDirection::Clockwise => config.cut_azimuth_rad - azimuth_rad,
        RotationDirection::CounterClockwise => azimuth_rad - config.cut_azimuth_rad,
    };
    -(1.0 - swept.rem_euclid(2.0 * PI) / (2.0 * PI)) * config.rotation_period_s
}

/// The wall's returns, in the lidar frame of their firing time, with each firing's time.
fn wall_scan(config: &DeskewConfig) -> (PointCloud, Vec<f32>) {
    let mut points = Vec::new();
    let mut times = Vec::new();
    for column in 0..1800 {
        let azimuth = -PI + (column as f64 + 0.5) * 2.0 * PI / 1800.0;
        let dt_s = firing_time_s(azimuth, config);
        let (heading, [sx, sy]) = lidar_pose(dt_s);
        let (sin, cos) = (heading + azimuth).sin_cos();
        if cos < 0.2 {
            continue;
        }
        let horizontal_m = (WALL_X_M - sx) / cos;
        if (sy + horizontal_m * sin).abs() > WALL_HALF_LENGTH_M {
            continue;
        }
        // Beams from -3° to +4.5°: the wall from about 1.3 m below the lidar to 2 m above.
        for ring in 0..16 {
            let elevation = (-3.0 + 0.5 * ring as f64).to_radians();
            points.push(PointXyzi {
                x_m: (horizontal_m * azimuth.cos()) as f32,
                y_m: (horizontal_m * azimuth.sin()) as f32,
                z_m: (horizontal_m * elevation.tan()) as f32,
                intensity: 0.5,
            });
            times.push(dt_s as f32);
        }
    }
    (
        PointCloud { header: Header { stamp_ns: 1_000_000_000, frame: FrameId::Lidar(0), seq: 3 }, points },
        times,
    )
}

fn x_spread_m(points: &[PointXyzi]) -> (f64, f64) {
    let worst = points.iter().map(|p| (f64::from(p.x_m) - WALL_X_M).abs()).fold(0.0, f64::max);
    let min = points.iter().map(|p| f64::from(p.x_m)).fold(f64::INFINITY, f64::min);
    let max = points.iter().map(|p| f64::from(p.x_m)).fold(f64::NEG_INFINITY, f64::max);
    (worst, max - min)
}

#[test]
fn a_wall_seen_while_driving_and_turning_is_straight_after_deskew() {
    let config = DeskewConfig { lidar_position_in_ego_m: LEVER_ARM_M, ..DeskewConfig::default() };
    let (raw, _) = wall_scan(&config);
    let (raw_worst, raw_spread) = x_spread_m(&raw.points);
    println!(
        "{} wall points; raw: worst |x - 20| {raw_worst:.3} m, x spread {raw_spread:.3} m",
        raw.points.len()
    );
    assert!(raw.points.len() > 4000);
    // By hand: the sensor is 15 m/s · 33..67 ms = 0.5..1.0 m behind its place at the stamp
    // (less the turn's sideways share), so the raw wall is that much farther and not parallel.
    assert!(raw_worst > 0.5 && raw_spread > 0.1, "the motion must shift and tilt the raw wall");

    let mut cloud = raw.clone();
    let stats = deskew(&mut cloud, &ego(), &config).unwrap();
    assert_eq!(stats.moved, cloud.points.len());
    let (worst, spread) = x_spread_m(&cloud.points);
    println!("deskewed: worst |x - 20| {worst:.5} m, x spread {spread:.5} m");
    assert!(worst < 1e-3, "deskewed wall is off x = 20 m by {worst} m");
    // Heights are untouched (planar motion).
    assert!(cloud.points.iter().zip(&raw.points).all(|(a, b)| a.z_m == b.z_m));
}

#[test]
fn the_pipeline_deskews_with_the_azimuth_model_or_driver_times() {
    let mut config = LidarConfig::default();
    config.deskew.lidar_position_in_ego_m = LEVER_ARM_M;
    let (cloud, times) = wall_scan(&config.deskew);
    let mut pipeline = LidarPipeline::new(config.clone()).unwrap();

    let still = pipeline.process(&cloud);
    let moving = pipeline.process_with_ego(&cloud, &ego());
    assert_eq!(still.stats.deskewed_points, 0);
    assert_eq!(moving.stats.deskewed_points, cloud.points.len());
    let (worst, _) = x_spread_m(&moving.obstacle_points);
    assert!(worst < 1e-3, "{worst}");
    // One wall, 24 m long: one box, flagged oversized (longer than cluster_max_length_m); where
    // the wall is once deskewed, and where it seemed to be before.
    for output in [&still, &moving] {
        assert_eq!(output.objects.len(), 1, "{:?}", output.objects);
        assert!(output.object_info[0].oversized);
    }
    let (raw_box, box_) = (&still.objects[0], &moving.objects[0]);
    println!(
        "wall box: raw centre x {:.3} m, yaw {:.2}°, width {:.3} m; deskewed centre x {:.4} m, yaw {:.3}°, width {:.3} m",
        raw_box.center_m.x,
        raw_box.yaw_rad.to_degrees(),
        raw_box.size_m.y,
        box_.center_m.x,
        box_.yaw_rad.to_degrees(),
        box_.size_m.y
    );
    assert!((raw_box.center_m.x - WALL_X_M).abs() > 0.3);
    assert!((box_.center_m.x - WALL_X_M).abs() < 0.01);
    assert!((box_.yaw_rad.abs() - PI / 2.0).abs() < 0.1_f64.to_radians());
    assert!(box_.size_m.y < 0.06);

    // Driver times win over the azimuth model: with a wrong sweep model and the true times the
    // result is the same.
    let mut wrong = config.clone();
    wrong.deskew.rotation_direction = RotationDirection::CounterClockwise;
    wrong.deskew.cut_azimuth_rad = 0.3;
    let mut pipeline = LidarPipeline::new(wrong).unwrap();
    let ego = ego();
    let frame = LidarFrame { ego: Some(&ego), time_offset_s: Some(&times), ..LidarFrame::new(&cloud) };
    let with_times = pipeline.process_frame(&frame);
    let (worst, _) = x_spread_m(&with_times.obstacle_points);
    assert!(worst < 1e-3, "{worst}");
    let without_times = pipeline.process_with_ego(&cloud, &ego);
    assert!(x_spread_m(&without_times.obstacle_points).0 > 0.1, "the wrong model must be wrong");

    // A channel of the wrong length is ignored and counted; an unusable ego state too.
    let short = LidarFrame { ego: Some(&ego), time_offset_s: Some(&times[1..]), ..LidarFrame::new(&cloud) };
    let output = pipeline.process_frame(&short);
    assert_eq!((output.stats.channels_ignored, output.stats.deskewed_points), (1, cloud.points.len()));
    let bad_ego = EgoState { yaw_rate_radps: f64::NAN, ..ego.clone() };
    let output = LidarPipeline::new(config).unwrap().process_with_ego(&cloud, &bad_ego);
    assert_eq!((output.stats.ego_states_rejected, output.stats.deskewed_points), (1, 0));
    assert_eq!((&output.objects, &output.obstacle_points), (&still.objects, &still.obstacle_points));
}
