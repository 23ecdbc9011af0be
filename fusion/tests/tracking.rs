//! Tracker scenarios against synthetic ground truth (seeded, so every run is identical).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use std::collections::BTreeSet;
use std::f64::consts::PI;

use pitsense_fusion::kalman::normalize_angle_rad;
use pitsense_fusion::{ClassGating, ClassTrackerConfig, CvKalmanConfig, Tracker, TrackerConfig};
use pitsense_types::nalgebra::{Point3, Vector3};
use pitsense_types::{Detection3d, FrameId, Header, ObjectSource, Track, UNKNOWN_CLASS};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

const DT_NS: u64 = 100_000_000;
const POSITION_SIGMA_M: f64 = 0.2;

/// A target moving at constant velocity on the ground plane.
#[derive(Clone, Copy)]
struct Target {
    start_m: [f64; 2],
    velocity_mps: [f64; 2],
    class_label: &'static str,
}

impl Target {
    fn position_at(&self, t_s: f64) -> Point3<f64> {
        Point3::new(
            self.start_m[0] + self.velocity_mps[0] * t_s,
            self.start_m[1] + self.velocity_mps[1] * t_s,
            1.0,
        )
    }

    fn yaw_rad(&self) -> f64 {
        self.velocity_mps[1].atan2(self.velocity_mps[0])
    }
}

fn detection(stamp_ns: u64, center_m: Point3<f64>, yaw_rad: f64, class_label: &str) -> Detection3d {
    Detection3d {
        header: Header { stamp_ns, frame: FrameId::Lidar(0), seq: stamp_ns / DT_NS },
        center_m,
        size_m: Vector3::new(4.5, 2.0, 1.6),
        yaw_rad: normalize_angle_rad(yaw_rad),
        class_label: class_label.into(),
        score: 0.9,
        source: if class_label == UNKNOWN_CLASS { ObjectSource::Lidar } else { ObjectSource::Fused },
    }
}

/// Noisy detections of `targets` for `frames` frames at 10 Hz: σ = 0.2 m per axis on the centre,
/// 0.03 rad on the heading; detections are shuffled by a seeded rotation of their order.
fn scenario(targets: &[Target], frames: u64, seed: u64) -> Vec<(u64, Vec<Detection3d>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let position_noise = Normal::new(0.0, POSITION_SIGMA_M).unwrap();
    let yaw_noise = Normal::new(0.0, 0.03).unwrap();
    (0..frames)
        .map(|frame| {
            let stamp_ns = 1_000_000_000 + frame * DT_NS;
            let t_s = frame as f64 * 0.1;
            let mut detections: Vec<Detection3d> = targets
                .iter()
                .map(|target| {
                    let truth = target.position_at(t_s);
                    let noisy = Point3::new(
                        truth.x + position_noise.sample(&mut rng),
                        truth.y + position_noise.sample(&mut rng),
                        truth.z + position_noise.sample(&mut rng),
                    );
                    detection(
                        stamp_ns,
                        noisy,
                        target.yaw_rad() + yaw_noise.sample(&mut rng),
                        target.class_label,
                    )
                })
                .collect();
            detections.rotate_left((frame % 3) as usize);
            (stamp_ns, detections)
        })
        .collect()
}

fn crossing_targets() -> [Target; 3] {
    // Target 0 crosses the paths of 1 (at (40, 0), 1 s apart) and 2 (at (20, 0), 0.5 s apart);
    // the closest approach of any two is 4 m (0 and 2 at t = 2.2 s).
    [
        Target { start_m: [0.0, 0.0], velocity_mps: [10.0, 0.0], class_label: "truck" },
        Target { start_m: [40.0, -15.0], velocity_mps: [0.0, 5.0], class_label: "car" },
        Target { start_m: [10.0, 20.0], velocity_mps: [4.0, -8.0], class_label: UNKNOWN_CLASS },
    ]
}

/// The default class (gated BEV distance, Hungarian, CV) with the motion model told the
/// scenario's truth: σ = 0.2 m measurements and targets that do not accelerate (small
/// acceleration densities: 0.1 m²/s³ horizontally and 0.05 m²/s³ vertically instead of the
/// defaults 2 and 0.2 meant for real traffic).
fn tracking_class() -> ClassTrackerConfig {
    ClassTrackerConfig {
        cv: CvKalmanConfig {
            meas_position_std_m: POSITION_SIGMA_M,
            accel_psd_xy_m2ps3: 0.1,
            accel_psd_z_m2ps3: 0.05,
            ..CvKalmanConfig::default()
        },
        ..ClassTrackerConfig::default()
    }
}

/// Every label tracked with [`tracking_class`].
fn tracking_config() -> TrackerConfig {
    TrackerConfig::with_all_classes(tracking_class())
}

fn nearest<'a>(tracks: &'a [Track], truth: &Point3<f64>) -> Option<&'a Track> {
    tracks.iter().min_by(|a, b| {
        let da = (a.state.center_m - truth).norm();
        let db = (b.state.center_m - truth).norm();
        da.total_cmp(&db)
    })
}

#[test]
fn constant_velocity_targets_converge_and_keep_their_ids() {
    let targets = crossing_targets();
    let mut tracker = Tracker::new(tracking_config()).unwrap();
    let mut ids: Vec<BTreeSet<u64>> = vec![BTreeSet::new(); targets.len()];
    let (mut position_sq, mut velocity_sq, mut samples) = (0.0, 0.0, 0usize);
    for (frame, (stamp_ns, detections)) in scenario(&targets, 60, 7).into_iter().enumerate() {
        let tracks = tracker.update(stamp_ns, &detections);
        // AB3DMOT start-up rule: published from the first frame.
        assert_eq!(tracks.len(), targets.len(), "frame {frame}");
        assert!(tracks.windows(2).all(|pair| pair[0].track_id < pair[1].track_id));
        for (index, target) in targets.iter().enumerate() {
            let truth = target.position_at(frame as f64 * 0.1);
            let track = nearest(&tracks, &truth).unwrap();
            ids[index].insert(track.track_id);
            if frame >= 20 {
                position_sq += (track.state.center_m - truth).norm_squared();
                let velocity = Vector3::new(target.velocity_mps[0], target.velocity_mps[1], 0.0);
                velocity_sq += (track.state.velocity_mps - velocity).norm_squared();
                samples += 1;
                assert_eq!(track.class_label, target.class_label);
                assert_eq!(track.frames_since_update, 0);
                assert_eq!(track.hits as usize, frame + 1);
                assert!(track.covariance.cholesky().is_some());
            }
        }
    }
    let position_rms_m = (position_sq / samples as f64).sqrt();
    let velocity_rms_mps = (velocity_sq / samples as f64).sqrt();
    // The raw detections have a 3D RMS error of σ√3 ≈ 0.35 m.
    eprintln!("position RMS {position_rms_m:.4} m, velocity RMS {velocity_rms_mps:.4} m/s");
    assert!(position_rms_m < POSITION_SIGMA_M, "position RMS {position_rms_m} m");
    assert!(velocity_rms_mps < 0.3, "velocity RMS {velocity_rms_mps} m/s");
    assert_eq!(ids, vec![BTreeSet::from([1]), BTreeSet::from([2]), BTreeSet::from([3])]);
}

#[test]
fn replaying_a_scenario_gives_identical_tracks() {
    let frames = scenario(&crossing_targets(), 40, 11);
    let run = || {
        let mut tracker = Tracker::new(tracking_config()).unwrap();
        frames.iter().map(|(stamp_ns, detections)| tracker.update(*stamp_ns, detections)).collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn heading_across_the_wrap_keeps_its_id_and_absorbs_a_flip() {
    // Heading due −x (yaw ±π) with small noise, so measured yaws alternate between about π and −π.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let yaw_noise = Normal::new(0.0, 0.05).unwrap();
    let mut tracker = Tracker::new(tracking_config()).unwrap();
    let mut ids = BTreeSet::new();
    for frame in 0..40u64 {
        let stamp_ns = frame * DT_NS;
        let center = Point3::new(50.0 - 5.0 * frame as f64 * 0.1, 3.0, 1.0);
        let mut yaw = PI + yaw_noise.sample(&mut rng);
        if frame == 20 {
            yaw -= PI; // front and back swapped by the box fitter
        }
        let tracks = tracker.update(stamp_ns, &[detection(stamp_ns, center, yaw, "car")]);
        assert_eq!(tracks.len(), 1, "frame {frame}");
        let track = &tracks[0];
        ids.insert(track.track_id);
        let yaw_error = normalize_angle_rad(track.state.yaw_rad - PI).abs();
        assert!(yaw_error < 0.1, "frame {frame}: yaw {}", track.state.yaw_rad);
        assert!(track.state.yaw_rad > -PI && track.state.yaw_rad <= PI);
        if frame >= 10 {
            assert!((track.state.velocity_mps.x + 5.0).abs() < 0.5, "{}", track.state.velocity_mps);
        }
    }
    assert_eq!(ids, BTreeSet::from([1]));
}

#[test]
fn births_deaths_and_ids_are_never_reused() {
    let config = TrackerConfig::with_all_classes(ClassTrackerConfig {
        min_hits: 3,
        max_age_frames: 2,
        ..tracking_class()
    });
    let mut tracker = Tracker::new(config).unwrap();
    let stay = Point3::new(10.0, 0.0, 1.0);
    let ghost = Point3::new(50.0, 50.0, 1.0);
    let mut published = Vec::new();
    for frame in 0..20u64 {
        let stamp_ns = frame * DT_NS;
        let mut detections = Vec::new();
        if !(10..15).contains(&frame) {
            detections.push(detection(stamp_ns, stay, 0.0, UNKNOWN_CLASS));
        }
        if frame == 6 {
            detections.push(detection(stamp_ns, ghost, 0.0, UNKNOWN_CLASS));
        }
        let tracks = tracker.update(stamp_ns, &detections);
        published.push(tracks.iter().map(|t| (t.track_id, t.frames_since_update)).collect::<Vec<_>>());
    }
    // Frames 0..=9: the first track, updated every frame; the ghost (id 2, frame 6, after the
    // start-up phase) is never published and is deleted in frame 9.
    for (frame, tracks) in published.iter().enumerate().take(10) {
        assert_eq!(tracks, &vec![(1, 0)], "frame {frame}");
    }
    // Missed in frames 10 and 11 (coasting, still published), removed when missed a third time.
    assert_eq!(published[10], vec![(1, 1)]);
    assert_eq!(published[11], vec![(1, 2)]);
    assert!(published[12].is_empty() && published[13].is_empty() && published[14].is_empty());
    // Reappears at frame 15: a new tentative track (id 3, not 1 or 2) published from its third hit.
    assert!(published[15].is_empty() && published[16].is_empty());
    assert_eq!(published[17], vec![(3, 0)]);
    assert_eq!(published[19], vec![(3, 0)]);
}

#[test]
fn scores_decay_while_coasting_and_classes_follow_the_majority() {
    // Without class gating a track takes detections of any label; its label is the majority.
    let config = TrackerConfig {
        class_gating: ClassGating::None,
        ..TrackerConfig::with_all_classes(ClassTrackerConfig {
            min_hits: 1,
            max_age_frames: 5,
            score_decay_per_missed_frame: 0.5,
            ..tracking_class()
        })
    };
    let mut tracker = Tracker::new(config).unwrap();
    let center = Point3::new(10.0, 0.0, 1.0);
    let labels = ["truck", "car", "car", UNKNOWN_CLASS, UNKNOWN_CLASS, "truck"];
    let mut last = Vec::new();
    for (frame, label) in labels.iter().enumerate() {
        let stamp_ns = frame as u64 * DT_NS;
        last = tracker.update(stamp_ns, &[detection(stamp_ns, center, 0.0, label)]);
    }
    // Two "truck" and two "car" votes: the tie goes to "car" (alphabetical).
    assert_eq!(last[0].class_label, "car");
    assert_eq!(last[0].source, ObjectSource::Fused);
    let coasting = tracker.update(labels.len() as u64 * DT_NS, &[]);
    assert_eq!(coasting[0].frames_since_update, 1);
    assert_eq!(coasting[0].score, 0.45);
    let coasting = tracker.update((labels.len() as u64 + 1) * DT_NS, &[]);
    assert_eq!(coasting[0].score, 0.225);
    assert_eq!(coasting[0].age_frames, 7);
}

#[test]
fn out_of_order_stamps_and_bad_detections_do_not_corrupt_tracks() {
    let config = TrackerConfig::with_all_classes(ClassTrackerConfig { min_hits: 1, ..tracking_class() });
    let mut tracker = Tracker::new(config).unwrap();
    let moving = |frame: u64| Point3::new(10.0 + frame as f64, 0.0, 1.0);
    for frame in 0..10u64 {
        let stamp_ns = 5_000_000_000 + frame * DT_NS;
        tracker.update(stamp_ns, &[detection(stamp_ns, moving(frame), 0.0, "car")]);
    }
    let last_good = 5_000_000_000 + 9 * DT_NS;
    let before = tracker.update(last_good, &[]);
    assert!(tracker.last_report().stamp_not_increasing);
    // An earlier stamp: no backward prediction, the clock stays, nothing panics.
    let mut nan = detection(0, moving(9), 0.0, "car");
    nan.center_m.y = f64::NAN;
    let mut other_frame = detection(0, moving(9), 0.0, "car");
    other_frame.header.frame = FrameId::Ego;
    let after = tracker.update(1_000, &[nan, other_frame]);
    let report = *tracker.last_report();
    assert!(report.stamp_not_increasing);
    assert_eq!((report.rejected_invalid, report.rejected_frame, report.born), (1, 1, 0));
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].header.stamp_ns, last_good);
    assert_eq!(after[0].header.frame, FrameId::Lidar(0));
    assert_eq!(after[0].state, before[0].state);
    assert!(after[0].state.center_m.iter().all(|v| v.is_finite()));
}
