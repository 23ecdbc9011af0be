//! The motion models against seeded synthetic ground truth: a constant-velocity target and a
//! turning (CTRV) target, measured with known Gaussian noise. After convergence the filtered
//! error must be within the measurement noise, and the CTRV model must follow a turn better than
//! the CV model.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use std::f64::consts::PI;

use pitsense_fusion::kalman::{BoxMeasurement, normalize_angle_rad};
use pitsense_fusion::{CtrvKalmanConfig, CvKalmanConfig, MotionFilter, MotionModel};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

const DT_S: f64 = 0.1;
const POSITION_SIGMA_M: f64 = 0.2;
const YAW_SIGMA_RAD: f64 = 0.05;
const SIZE: [f64; 3] = [4.5, 1.8, 1.6];

/// Ground truth at step `k`: `(x, y, yaw, speed, yaw_rate)` of a target starting at
/// `(x0, y0, yaw0)` with constant speed and yaw rate.
fn truth(k: usize, start: (f64, f64, f64), speed_mps: f64, yaw_rate_radps: f64) -> (f64, f64, f64) {
    let t = k as f64 * DT_S;
    let (x0, y0, yaw0) = start;
    if yaw_rate_radps == 0.0 {
        (x0 + speed_mps * t * yaw0.cos(), y0 + speed_mps * t * yaw0.sin(), yaw0)
    } else {
        let yaw = yaw0 + yaw_rate_radps * t;
        let radius = speed_mps / yaw_rate_radps;
        (x0 + radius * (yaw.sin() - yaw0.sin()), y0 + radius * (yaw0.cos() - yaw.cos()), yaw)
    }
}

struct Errors {
    position_rms_m: f64,
    yaw_rms_rad: f64,
    speed_rms_mps: f64,
    measurement_rms_m: f64,
}

/// Runs `model` on noisy measurements of a target for `steps` steps; errors after step 30.
fn run(
    model: MotionModel,
    start: (f64, f64, f64),
    speed: f64,
    yaw_rate: f64,
    seed: u64,
    steps: usize,
) -> Errors {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let position_noise = Normal::new(0.0, POSITION_SIGMA_M).unwrap();
    let yaw_noise = Normal::new(0.0, YAW_SIGMA_RAD).unwrap();
    let cv = CvKalmanConfig {
        meas_position_std_m: POSITION_SIGMA_M,
        meas_yaw_std_rad: YAW_SIGMA_RAD,
        meas_size_std_m: 0.05,
        accel_psd_xy_m2ps3: 0.5,
        ..CvKalmanConfig::default()
    };
    let ctrv = CtrvKalmanConfig {
        meas_position_std_m: POSITION_SIGMA_M,
        meas_yaw_std_rad: YAW_SIGMA_RAD,
        meas_size_std_m: 0.05,
        accel_psd_m2ps3: 0.5,
        yaw_accel_psd_rad2ps3: 0.05,
        lateral_psd_m2ps: 0.01,
        ..CtrvKalmanConfig::default()
    };
    let mut measure = |k: usize| {
        let (x, y, yaw) = truth(k, start, speed, yaw_rate);
        BoxMeasurement::from([
            x + position_noise.sample(&mut rng),
            y + position_noise.sample(&mut rng),
            1.0 + position_noise.sample(&mut rng),
            normalize_angle_rad(yaw + yaw_noise.sample(&mut rng)),
            SIZE[0],
            SIZE[1],
            SIZE[2],
        ])
    };
    let mut filter = MotionFilter::new(model, &measure(0), &cv, &ctrv).unwrap();
    let (mut position_sq, mut yaw_sq, mut speed_sq, mut measurement_sq, mut samples) =
        (0.0, 0.0, 0.0, 0.0, 0);
    for k in 1..steps {
        filter.predict(DT_S);
        let z = measure(k);
        filter.update(&z).unwrap();
        assert!(filter.position_velocity_covariance().cholesky().is_some());
        if k >= 30 {
            let (x, y, yaw) = truth(k, start, speed, yaw_rate);
            let state = filter.track_state();
            position_sq += (state.center_m.x - x).powi(2) + (state.center_m.y - y).powi(2);
            measurement_sq += (z[0] - x).powi(2) + (z[1] - y).powi(2);
            yaw_sq += normalize_angle_rad(state.yaw_rad - yaw).powi(2);
            let velocity = (speed * yaw.cos(), speed * yaw.sin());
            speed_sq +=
                (state.velocity_mps.x - velocity.0).powi(2) + (state.velocity_mps.y - velocity.1).powi(2);
            samples += 1;
        }
    }
    let rms = |sum: f64| (sum / f64::from(samples)).sqrt();
    Errors {
        position_rms_m: rms(position_sq),
        yaw_rms_rad: rms(yaw_sq),
        speed_rms_mps: rms(speed_sq),
        measurement_rms_m: rms(measurement_sq),
    }
}

#[test]
fn cv_filter_converges_within_the_noise_on_a_constant_velocity_target() {
    for (seed, heading) in [(1, 0.3), (2, -2.0), (3, PI)] {
        let errors = run(MotionModel::Cv, (5.0, -3.0, heading), 8.0, 0.0, seed, 150);
        eprintln!(
            "CV on CV target: position {:.3} m (raw {:.3}), velocity {:.3} m/s, yaw {:.4} rad",
            errors.position_rms_m, errors.measurement_rms_m, errors.speed_rms_mps, errors.yaw_rms_rad
        );
        assert!(errors.position_rms_m < 0.6 * errors.measurement_rms_m);
        assert!(errors.speed_rms_mps < 0.4);
        assert!(errors.yaw_rms_rad < YAW_SIGMA_RAD);
    }
}

#[test]
fn ctrv_filter_converges_within_the_noise_on_a_turning_target() {
    for (seed, yaw_rate) in [(4, 0.4), (5, -0.25), (6, 0.0)] {
        let ctrv = run(MotionModel::Ctrv, (0.0, 0.0, 2.8), 10.0, yaw_rate, seed, 150);
        let cv = run(MotionModel::Cv, (0.0, 0.0, 2.8), 10.0, yaw_rate, seed, 150);
        eprintln!(
            "ω {yaw_rate}: CTRV position {:.3} m (raw {:.3}), velocity {:.3} m/s, yaw {:.4} rad; \
             CV position {:.3} m, velocity {:.3} m/s",
            ctrv.position_rms_m,
            ctrv.measurement_rms_m,
            ctrv.speed_rms_mps,
            ctrv.yaw_rms_rad,
            cv.position_rms_m,
            cv.speed_rms_mps
        );
        assert!(ctrv.position_rms_m < 0.6 * ctrv.measurement_rms_m);
        // A finite difference of two raw positions would be off by σ√2 / dt ≈ 2.8 m/s.
        assert!(ctrv.speed_rms_mps < 0.4);
        assert!(ctrv.yaw_rms_rad < YAW_SIGMA_RAD);
        if yaw_rate != 0.0 {
            // The CV model lags the turn: its velocity estimate is worse.
            assert!(
                ctrv.speed_rms_mps < cv.speed_rms_mps,
                "CTRV {} vs CV {}",
                ctrv.speed_rms_mps,
                cv.speed_rms_mps
            );
        }
    }
}

#[test]
fn ctrv_heading_crosses_the_wrap_and_absorbs_a_flipped_box() {
    // Turning left through yaw = π, with one box fitted back to front.
    let cv = CvKalmanConfig::default();
    let ctrv = CtrvKalmanConfig { meas_yaw_std_rad: 0.05, ..CtrvKalmanConfig::default() };
    let start = (0.0, 0.0, PI - 0.6);
    let (speed, yaw_rate) = (6.0, 0.3);
    let first = truth(0, start, speed, yaw_rate);
    let measurement =
        |x: f64, y: f64, yaw: f64| BoxMeasurement::from([x, y, 1.0, normalize_angle_rad(yaw), 4.5, 1.8, 1.6]);
    let mut filter =
        MotionFilter::new(MotionModel::Ctrv, &measurement(first.0, first.1, first.2), &cv, &ctrv).unwrap();
    for k in 1..=40 {
        let (x, y, yaw) = truth(k, start, speed, yaw_rate);
        let measured_yaw = if k == 25 { yaw + PI } else { yaw };
        filter.predict(DT_S);
        filter.update(&measurement(x, y, measured_yaw)).unwrap();
        let state = filter.track_state();
        assert!(state.yaw_rad > -PI && state.yaw_rad <= PI);
        if k >= 10 {
            let yaw_error = normalize_angle_rad(state.yaw_rad - yaw).abs();
            assert!(yaw_error < 0.05, "step {k}: yaw {} vs {}", state.yaw_rad, normalize_angle_rad(yaw));
            let speed_estimate = filter.state()[7];
            assert!((speed_estimate - speed).abs() < 0.5, "step {k}: speed {speed_estimate}");
        }
    }
    // The heading went through ±π: from about 2.5 rad to about −2.8 rad.
    assert!(filter.track_state().yaw_rad < -2.5);
}
