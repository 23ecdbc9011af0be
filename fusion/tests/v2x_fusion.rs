//! V2X objects fused into the tracks (`Tracker::update_with_ego_and_v2x`): objects only V2X
//! sees become `v2x` tracks, objects both see stay one track with the covariance-weighted
//! position, gates keep far objects apart, and unusable objects are counted, not fused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use pitsense_fusion::{ClassTrackerConfig, CvKalmanConfig, Tracker, TrackerConfig};
use pitsense_types::nalgebra::{Isometry3, Matrix3, Point3, Translation3, UnitQuaternion, Vector3};
use pitsense_types::{Detection3d, EgoState, FrameId, Header, ObjectMeasurement, ObjectSource};

const DT_NS: u64 = 100_000_000;

/// Truck parked at (100, 50) in the site, turned by 0.4 rad; lidar 2 m ahead, 3 m up.
fn ego(frame: u64) -> EgoState {
    EgoState {
        header: Header { stamp_ns: frame * DT_NS, frame: FrameId::Site, seq: frame },
        site_from_truck: Isometry3::from_parts(
            Translation3::new(100.0, 50.0, 0.0),
            UnitQuaternion::from_euler_angles(0.0, 0.0, 0.4),
        ),
        speed_mps: 0.0,
        yaw_rate_radps: 0.0,
        accel_mps2: 0.0,
    }
}

fn truck_from_lidar() -> Isometry3<f64> {
    Isometry3::translation(2.0, 0.0, 3.0)
}

fn config() -> TrackerConfig {
    let class = ClassTrackerConfig {
        min_hits: 1,
        cv: CvKalmanConfig { meas_position_std_m: 0.3, ..CvKalmanConfig::default() },
        ..ClassTrackerConfig::default()
    };
    TrackerConfig::with_all_classes(class)
}

fn boxed(stamp_ns: u64, frame: FrameId, center: Point3<f64>, source: ObjectSource) -> Detection3d {
    Detection3d {
        header: Header { stamp_ns, frame, seq: 0 },
        center_m: center,
        size_m: Vector3::new(4.5, 1.8, 1.6),
        yaw_rad: 0.0,
        class_label: "car".into(),
        score: 0.9,
        source,
    }
}

fn v2x_object(stamp_ns: u64, center_in_site: Point3<f64>, sigma_m: f64) -> ObjectMeasurement {
    ObjectMeasurement {
        detection: boxed(stamp_ns, FrameId::Site, center_in_site, ObjectSource::V2x),
        position_covariance_m2: Matrix3::identity() * sigma_m * sigma_m,
        yaw_std_rad: None,
        size_std_m: 0.5,
    }
}

#[test]
fn an_object_only_v2x_sees_is_tracked_with_source_v2x() {
    let mut tracker = Tracker::new(config()).unwrap();
    let velocity = Vector3::new(4.0, -2.0, 0.0);
    let mut last = Vec::new();
    for frame in 0..30u64 {
        let stamp = frame * DT_NS;
        let truth = Point3::new(140.0, 80.0, 1.0) + velocity * (frame as f64 * 0.1);
        let objects = [v2x_object(stamp, truth, 1.0)];
        last = tracker.update_with_ego_and_v2x(stamp, &[], &objects, &ego(frame), &truck_from_lidar());
        let report = tracker.last_report();
        if frame == 0 {
            assert_eq!((report.v2x_born, report.v2x_matched), (1, 0));
        } else {
            assert_eq!((report.v2x_born, report.v2x_matched), (0, 1), "frame {frame}");
        }
        assert_eq!(tracker.last_detection_indices(), &[(1, 0)]);
    }
    assert_eq!(last.len(), 1);
    let track = &last[0];
    assert_eq!((track.track_id, track.source, track.header.frame), (1, ObjectSource::V2x, FrameId::Site));
    assert_eq!(track.class_label, "car");
    // Noise-free measurements on a straight line: the filter converges on the truth.
    let truth = Point3::new(140.0, 80.0, 1.0) + velocity * 2.9;
    assert!((track.state.center_m - truth).norm() < 0.05, "{:?}", track.state.center_m);
    assert!((track.state.velocity_mps - velocity).norm() < 0.1, "{:?}", track.state.velocity_mps);
}

#[test]
fn an_object_lidar_and_v2x_both_see_stays_one_track_at_the_weighted_position() {
    let mut tracker = Tracker::new(config()).unwrap();
    let site_from_lidar = ego(0).site_from_truck * truck_from_lidar();
    let in_lidar = Point3::new(20.0, 5.0, -2.0);
    let in_site = site_from_lidar * in_lidar;
    let lidar = [boxed(0, FrameId::Lidar(0), in_lidar, ObjectSource::Lidar)];
    // The RSU sees it 1.5 m east and 1 m north of where the lidar does, σ = 1 m.
    let reported = in_site + Vector3::new(1.5, 1.0, 0.0);
    let tracks = tracker.update_with_ego_and_v2x(
        0,
        &lidar,
        &[v2x_object(0, reported, 1.0)],
        &ego(0),
        &truck_from_lidar(),
    );
    let report = *tracker.last_report();
    assert_eq!((report.born, report.v2x_matched, report.v2x_born), (1, 1, 0));
    assert_eq!(tracks.len(), 1);
    assert_eq!(tracks[0].source, ObjectSource::Lidar, "a sensor saw it this frame");
    assert_eq!(tracker.last_detection_indices(), &[(1, 0), (1, 1)]);
    // By hand: the birth covariance of the centre is 0.3² I and the V2X noise 1² I, with no
    // cross-covariance at birth, so each axis moves by 0.09 / (0.09 + 1) of the offset.
    let gain = 0.09 / 1.09;
    let expected = in_site + Vector3::new(1.5, 1.0, 0.0) * gain;
    assert!(
        (tracks[0].state.center_m - expected).norm() < 1e-9,
        "{:?} vs {expected:?}",
        tracks[0].state.center_m
    );
    let variance = 0.09 * 1.0 / 1.09;
    assert!((tracks[0].covariance[(0, 0)] - variance).abs() < 1e-9);
}

#[test]
fn a_v2x_object_outside_the_gate_starts_its_own_track() {
    let mut tracker = Tracker::new(config()).unwrap();
    let site_from_lidar = ego(0).site_from_truck * truck_from_lidar();
    let in_lidar = Point3::new(20.0, 5.0, -2.0);
    let lidar = [boxed(0, FrameId::Lidar(0), in_lidar, ObjectSource::Lidar)];
    // 4 m away with σ = 0.5 m: d² = 16 / (0.09 + 0.25) = 47 > 11.34.
    let far = site_from_lidar * in_lidar + Vector3::new(4.0, 0.0, 0.0);
    let tracks =
        tracker.update_with_ego_and_v2x(0, &lidar, &[v2x_object(0, far, 0.5)], &ego(0), &truck_from_lidar());
    let report = *tracker.last_report();
    assert_eq!((report.born, report.v2x_matched, report.v2x_born), (1, 0, 1));
    let sources: Vec<ObjectSource> = tracks.iter().map(|t| t.source).collect();
    assert_eq!(sources, [ObjectSource::Lidar, ObjectSource::V2x]);
    assert!((tracks[1].state.center_m - far).norm() < 1e-9);
}

#[test]
fn v2x_keeps_a_track_alive_when_the_lidar_loses_it() {
    let mut tracker = Tracker::new(config()).unwrap();
    let site_from_lidar = ego(0).site_from_truck * truck_from_lidar();
    let in_lidar = Point3::new(20.0, 5.0, -2.0);
    let in_site = site_from_lidar * in_lidar;
    for frame in 0..10u64 {
        let stamp = frame * DT_NS;
        // The lidar sees the parked object in the first three frames only (then a berm hides it).
        let lidar: Vec<Detection3d> = if frame < 3 {
            vec![boxed(stamp, FrameId::Lidar(0), in_lidar, ObjectSource::Lidar)]
        } else {
            Vec::new()
        };
        let tracks = tracker.update_with_ego_and_v2x(
            stamp,
            &lidar,
            &[v2x_object(stamp, in_site, 1.0)],
            &ego(frame),
            &truck_from_lidar(),
        );
        assert_eq!(tracks.len(), 1, "frame {frame}");
        assert_eq!(tracks[0].track_id, 1);
        let expected = if frame < 3 { ObjectSource::Lidar } else { ObjectSource::V2x };
        assert_eq!(tracks[0].source, expected, "frame {frame}");
        assert_eq!(tracks[0].frames_since_update, 0);
    }
}

#[test]
fn v2x_objects_in_the_ego_frame_are_moved_into_the_site_frame() {
    let mut tracker = Tracker::new(config()).unwrap();
    let in_truck = Point3::new(30.0, -4.0, 1.0);
    let mut object = v2x_object(0, in_truck, 1.0);
    object.detection.header.frame = FrameId::Ego;
    // An elongated covariance along the truck's x axis.
    object.position_covariance_m2 = Matrix3::from_diagonal(&Vector3::new(4.0, 0.25, 1.0));
    let tracks = tracker.update_with_ego_and_v2x(0, &[], &[object], &ego(0), &truck_from_lidar());
    assert_eq!(tracks.len(), 1);
    // By hand: site = (100, 50, 0) + R(0.4) · (30, −4, 1).
    let (sin, cos) = 0.4f64.sin_cos();
    let expected = Point3::new(100.0 + cos * 30.0 + sin * 4.0, 50.0 + sin * 30.0 - cos * 4.0, 1.0);
    assert!((tracks[0].state.center_m - expected).norm() < 1e-9, "{:?}", tracks[0].state.center_m);
    // The covariance turns with the truck: var(x_site) = 4 cos² + 0.25 sin².
    let var_x = 4.0 * cos * cos + 0.25 * sin * sin;
    assert!((tracks[0].covariance[(0, 0)] - var_x).abs() < 1e-9);
}

#[test]
fn unusable_v2x_objects_are_counted_not_fused() {
    let mut tracker = Tracker::new(config()).unwrap();
    let mut in_lidar_frame = v2x_object(0, Point3::new(1.0, 2.0, 0.0), 1.0);
    in_lidar_frame.detection.header.frame = FrameId::Lidar(0);
    let mut not_finite = v2x_object(0, Point3::new(1.0, 2.0, 0.0), 1.0);
    not_finite.detection.center_m.x = f64::NAN;
    let mut singular = v2x_object(0, Point3::new(1.0, 2.0, 0.0), 1.0);
    singular.position_covariance_m2 = Matrix3::zeros();
    let tracks = tracker.update_with_ego_and_v2x(
        0,
        &[],
        &[in_lidar_frame, not_finite, singular],
        &ego(0),
        &truck_from_lidar(),
    );
    assert!(tracks.is_empty());
    assert_eq!(tracker.last_report().v2x_rejected, 3);
}

#[test]
fn the_v2x_gate_and_birth_are_configurable_and_checked() {
    let mut config = config();
    config.v2x.birth = false;
    let mut tracker = Tracker::new(config.clone()).unwrap();
    let tracks = tracker.update_with_ego_and_v2x(
        0,
        &[],
        &[v2x_object(0, Point3::new(120.0, 60.0, 1.0), 1.0)],
        &ego(0),
        &truck_from_lidar(),
    );
    assert!(tracks.is_empty(), "no V2X births when turned off");
    config.v2x.gate_chi2 = 0.0;
    let error = Tracker::new(config).unwrap_err();
    assert!(error.to_string().contains("tracker.v2x.gate_chi2"), "{error}");
}
