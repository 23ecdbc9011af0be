//! Constant turn rate and velocity (CTRV) extended Kalman filter over an oriented 3D box: the
//! tracker's motion model for vehicles.
//!
//! State (10): `(x, y, z, yaw, l, w, h, v, yaw_rate, vz)` — box centre in metres, heading in
//! radians in `(-π, π]`, size in metres, speed along the heading in m/s (negative when
//! reversing, or when the box's front was fitted at its back), yaw rate in rad/s, vertical
//! speed in m/s, all in the tracker's frame. The measured box `(x, y, z, yaw, l, w, h)` comes
//! first, so the update is the linear one shared with the CV filter
//! ([`crate::kalman::box_update`], heading flips absorbed there).
//!
//! Motion (Schubert, Richter, Wanielik, "Comparison and evaluation of advanced motion models for
//! vehicle tracking", FUSION 2008): over `T` seconds the centre moves on a circular arc,
//! `x += v/ω (sin(ψ + ωT) − sin ψ)`, `y += v/ω (cos ψ − cos(ψ + ωT))`, `ψ += ωT`, `z += vz T`;
//! for `|ω| < 1e-4` rad/s the second-order expansion of the same arc is used, so the model is
//! continuous through straight driving. The covariance is propagated with the analytic
//! Jacobian (EKF). Process noise: white-noise longitudinal acceleration and yaw acceleration
//! (each a `q [[T³/3, T²/2], [T²/2, T]]` block on `(position along the heading, v)` and
//! `(ψ, ω)`), a white-noise velocity across the heading (position variance `q T`, for slip
//! and heading error), white-noise vertical acceleration, and size random walks.
//!
//! The CTRV model ties the velocity to the heading, which holds for vehicles seen from a frame
//! fixed to the ground (tracks in the site frame, see [`crate::tracker`] and ego motion). In a
//! moving sensor frame without ego-motion compensation, the apparent velocity of crossing
//! traffic is not along its heading; the CV model ([`crate::kalman`]) makes no such assumption.

use pitsense_types::nalgebra::{Matrix6, Point3, SMatrix, Vector3};
use pitsense_types::{ConfigError, TrackState};
use serde::{Deserialize, Serialize};

use crate::kalman::{
    BoxFilterCore, BoxMeasurement, KalmanError, MeasurementCovariance, StateCovariance, StateVector, YAW,
    check_finite, check_noise, check_positive, is_symmetric_positive_definite, measurement_noise,
    normalize_angle_rad, symmetrize,
};

/// Index of the speed along the heading, m/s.
const SPEED: usize = 7;
/// Index of the yaw rate, rad/s.
const YAW_RATE: usize = 8;
/// Index of the vertical speed, m/s.
const VERTICAL_SPEED: usize = 9;
/// Below this yaw rate, rad/s, the arc is replaced by its second-order expansion.
const STRAIGHT_YAW_RATE_RADPS: f64 = 1e-4;
/// Variance added to the published velocity across the heading, (m/s)², so that the published
/// 6×6 covariance stays positive definite at standstill (where `(vx, vy) = v (cos ψ, sin ψ)`
/// has rank one).
const PUBLISHED_LATERAL_VELOCITY_VARIANCE: f64 = 1e-4;

/// Noise settings of [`CtrvKalmanFilter`], TOML table `[tracker.classes.<label>.ctrv]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CtrvKalmanConfig {
    /// Power spectral density of the white-noise longitudinal acceleration, m²/s³. Default 2.0.
    pub accel_psd_m2ps3: f64,
    /// Power spectral density of the white-noise yaw acceleration, rad²/s³. Default 0.5.
    pub yaw_accel_psd_rad2ps3: f64,
    /// Power spectral density of the white-noise velocity across the heading, m²/s (position
    /// variance grows by this times the time step). Default 0.1.
    pub lateral_psd_m2ps: f64,
    /// Power spectral density of the white-noise vertical acceleration, m²/s³. Default 0.2.
    pub accel_psd_z_m2ps3: f64,
    /// Power spectral density of each box dimension's random walk, m²/s. Default 0.01.
    pub size_psd_m2ps: f64,
    /// Standard deviation of a measured box centre, per axis, metres. Default 0.3.
    pub meas_position_std_m: f64,
    /// Standard deviation of a measured heading, radians. Default 0.2.
    pub meas_yaw_std_rad: f64,
    /// Standard deviation of a measured box dimension, metres. Default 0.3.
    pub meas_size_std_m: f64,
    /// Standard deviation of the speed of a new track (unobserved, starts at 0), m/s.
    /// Default 10.
    pub init_speed_std_mps: f64,
    /// Standard deviation of the yaw rate of a new track (starts at 0), rad/s. Default 0.5.
    pub init_yaw_rate_std_radps: f64,
    /// Standard deviation of the vertical speed of a new track (starts at 0), m/s. Default 1.
    pub init_vertical_speed_std_mps: f64,
}

impl Default for CtrvKalmanConfig {
    fn default() -> Self {
        Self {
            accel_psd_m2ps3: 2.0,
            yaw_accel_psd_rad2ps3: 0.5,
            lateral_psd_m2ps: 0.1,
            accel_psd_z_m2ps3: 0.2,
            size_psd_m2ps: 0.01,
            meas_position_std_m: 0.3,
            meas_yaw_std_rad: 0.2,
            meas_size_std_m: 0.3,
            init_speed_std_mps: 10.0,
            init_yaw_rate_std_radps: 0.5,
            init_vertical_speed_std_mps: 1.0,
        }
    }
}

impl CtrvKalmanConfig {
    /// Checks every value: all must be finite and positive, within a sane upper bound.
    ///
    /// `prefix` is the dotted path of the table, e.g. `tracker.classes.car.ctrv`.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first bad key, e.g. `tracker.classes.car.ctrv.accel_psd_m2ps3`.
    pub fn validate_at(&self, prefix: &str) -> Result<(), ConfigError> {
        check_positive(
            prefix,
            &[
                ("accel_psd_m2ps3", self.accel_psd_m2ps3, 1e3),
                ("yaw_accel_psd_rad2ps3", self.yaw_accel_psd_rad2ps3, 1e3),
                ("lateral_psd_m2ps", self.lateral_psd_m2ps, 1e3),
                ("accel_psd_z_m2ps3", self.accel_psd_z_m2ps3, 1e3),
                ("size_psd_m2ps", self.size_psd_m2ps, 1e2),
                ("meas_position_std_m", self.meas_position_std_m, 1e2),
                ("meas_yaw_std_rad", self.meas_yaw_std_rad, std::f64::consts::PI),
                ("meas_size_std_m", self.meas_size_std_m, 1e2),
                ("init_speed_std_mps", self.init_speed_std_mps, 1e3),
                ("init_yaw_rate_std_radps", self.init_yaw_rate_std_radps, 1e2),
                ("init_vertical_speed_std_mps", self.init_vertical_speed_std_mps, 1e3),
            ],
        )
    }

    fn measurement_noise(&self) -> MeasurementCovariance {
        measurement_noise(self.meas_position_std_m, self.meas_yaw_std_rad, self.meas_size_std_m)
    }
}

/// CTRV extended Kalman filter over `(x, y, z, yaw, l, w, h, v, yaw_rate, vz)`.
///
/// Invariants (checked by `debug_assert!` after every step): the covariance is symmetric
/// positive definite and the yaw is in `(-π, π]`.
#[derive(Clone, Debug, PartialEq)]
pub struct CtrvKalmanFilter {
    core: BoxFilterCore,
    config: CtrvKalmanConfig,
}

impl std::ops::Deref for CtrvKalmanFilter {
    type Target = BoxFilterCore;

    fn deref(&self) -> &BoxFilterCore {
        &self.core
    }
}

impl std::ops::DerefMut for CtrvKalmanFilter {
    fn deref_mut(&mut self) -> &mut BoxFilterCore {
        &mut self.core
    }
}

impl CtrvKalmanFilter {
    /// Starts a filter at a box measurement `(x, y, z, yaw, l, w, h)` (metres, radians):
    /// box measured (variances from `R`), speed, yaw rate and vertical speed zero with the
    /// configured initial standard deviations.
    ///
    /// # Errors
    /// [`KalmanError::NonFiniteMeasurement`] if a component is not finite.
    pub fn from_measurement(
        measurement: &BoxMeasurement,
        config: &CtrvKalmanConfig,
    ) -> Result<Self, KalmanError> {
        Self::from_measurement_with_noise(measurement, &config.measurement_noise(), config)
    }

    /// Starts a filter at a box measurement whose own noise `initial_noise` (7×7) is the box's
    /// initial covariance (a V2X object); as
    /// [`crate::kalman::CvKalmanFilter::from_measurement_with_noise`].
    ///
    /// # Errors
    /// [`KalmanError::NonFiniteMeasurement`] if a component of the measurement or the noise is
    /// not finite.
    pub fn from_measurement_with_noise(
        measurement: &BoxMeasurement,
        initial_noise: &MeasurementCovariance,
        config: &CtrvKalmanConfig,
    ) -> Result<Self, KalmanError> {
        check_finite(measurement)?;
        check_noise(initial_noise)?;
        let mut state = StateVector::zeros();
        state.fixed_rows_mut::<7>(0).copy_from(measurement);
        state[YAW] = normalize_angle_rad(state[YAW]);
        let measurement_noise = config.measurement_noise();
        let mut covariance = StateCovariance::zeros();
        covariance.fixed_view_mut::<7, 7>(0, 0).copy_from(initial_noise);
        covariance[(SPEED, SPEED)] = config.init_speed_std_mps.powi(2);
        covariance[(YAW_RATE, YAW_RATE)] = config.init_yaw_rate_std_radps.powi(2);
        covariance[(VERTICAL_SPEED, VERTICAL_SPEED)] = config.init_vertical_speed_std_mps.powi(2);
        Ok(Self { core: BoxFilterCore { state, covariance, measurement_noise }, config: config.clone() })
    }

    /// Predicts the state `dt_s` seconds ahead along the CTRV arc: `x ← f(x)`,
    /// `P ← F P Fᵀ + Q(dt)` with `F = ∂f/∂x` (see the module documentation). A `dt_s` that is not
    /// strictly positive and finite is a zero-time prediction: nothing changes.
    pub fn predict(&mut self, dt_s: f64) {
        if !(dt_s > 0.0 && dt_s.is_finite()) {
            return;
        }
        let (sin0, cos0) = self.core.state[YAW].sin_cos();
        let (predicted, jacobian) = arc_transition(&self.core.state, dt_s);
        let process_noise = self.process_noise(dt_s, sin0, cos0);
        self.core.state = predicted;
        self.core.covariance = jacobian * self.core.covariance * jacobian.transpose() + process_noise;
        symmetrize(&mut self.core.covariance);
        debug_assert!(is_symmetric_positive_definite(&self.core.covariance), "{}", self.core.covariance);
    }

    /// `Q(dt)` at heading `(sin ψ, cos ψ)`: see the module documentation.
    fn process_noise(&self, dt_s: f64, sin: f64, cos: f64) -> StateCovariance {
        let c = &self.config;
        let (dt2, dt3) = (dt_s * dt_s / 2.0, dt_s.powi(3) / 3.0);
        let mut q = StateCovariance::zeros();
        let (along, across) = ([cos, sin], [-sin, cos]);
        for row in 0..2 {
            for col in 0..2 {
                q[(row, col)] = c.accel_psd_m2ps3 * dt3 * along[row] * along[col]
                    + c.lateral_psd_m2ps * dt_s * across[row] * across[col];
            }
            q[(row, SPEED)] = c.accel_psd_m2ps3 * dt2 * along[row];
            q[(SPEED, row)] = q[(row, SPEED)];
        }
        q[(SPEED, SPEED)] = c.accel_psd_m2ps3 * dt_s;
        for (position, rate, psd) in
            [(YAW, YAW_RATE, c.yaw_accel_psd_rad2ps3), (2, VERTICAL_SPEED, c.accel_psd_z_m2ps3)]
        {
            q[(position, position)] = psd * dt3;
            q[(position, rate)] = psd * dt2;
            q[(rate, position)] = psd * dt2;
            q[(rate, rate)] = psd * dt_s;
        }
        for size in 4..7 {
            q[(size, size)] = c.size_psd_m2ps * dt_s;
        }
        q
    }

    /// The state as the tracker publishes it: velocity `(v cos ψ, v sin ψ, vz)`.
    pub fn track_state(&self) -> TrackState {
        let s = &self.core.state;
        let (sin, cos) = s[YAW].sin_cos();
        TrackState {
            center_m: Point3::new(s[0], s[1], s[2]),
            velocity_mps: Vector3::new(s[SPEED] * cos, s[SPEED] * sin, s[VERTICAL_SPEED]),
            yaw_rad: normalize_angle_rad(s[YAW]),
            size_m: Vector3::new(s[4], s[5], s[6]),
        }
    }

    /// The 6×6 covariance of `(x, y, z, vx, vy, vz)` (m², m²/s, m²/s²), propagated through the
    /// Jacobian of `(vx, vy) = v (cos ψ, sin ψ)`, plus a floor of (0.01 m/s)² on the velocity
    /// across the heading so that it stays positive definite at standstill.
    pub fn position_velocity_covariance(&self) -> Matrix6<f64> {
        let s = &self.core.state;
        let (sin, cos) = s[YAW].sin_cos();
        let mut jacobian = SMatrix::<f64, 6, 10>::zeros();
        jacobian[(0, 0)] = 1.0;
        jacobian[(1, 1)] = 1.0;
        jacobian[(2, 2)] = 1.0;
        jacobian[(3, YAW)] = -s[SPEED] * sin;
        jacobian[(3, SPEED)] = cos;
        jacobian[(4, YAW)] = s[SPEED] * cos;
        jacobian[(4, SPEED)] = sin;
        jacobian[(5, VERTICAL_SPEED)] = 1.0;
        let mut covariance = jacobian * self.core.covariance * jacobian.transpose();
        let across = [-sin, cos];
        for row in 0..2 {
            for col in 0..2 {
                covariance[(3 + row, 3 + col)] +=
                    PUBLISHED_LATERAL_VELOCITY_VARIANCE * across[row] * across[col];
            }
        }
        (covariance + covariance.transpose()) * 0.5
    }
}

/// The CTRV transition over `dt_s` seconds: the predicted state `f(x)` and its Jacobian
/// `F = ∂f/∂x` (see the module documentation).
fn arc_transition(state: &StateVector, dt_s: f64) -> (StateVector, StateCovariance) {
    let (yaw, speed, yaw_rate) = (state[YAW], state[SPEED], state[YAW_RATE]);
    let (sin0, cos0) = yaw.sin_cos();
    let mut jacobian = StateCovariance::identity();
    let (dx, dy);
    if yaw_rate.abs() >= STRAIGHT_YAW_RATE_RADPS {
        let (sin1, cos1) = (yaw + yaw_rate * dt_s).sin_cos();
        let (arc_sin, arc_cos) = ((sin1 - sin0) / yaw_rate, (cos0 - cos1) / yaw_rate);
        dx = speed * arc_sin;
        dy = speed * arc_cos;
        jacobian[(0, YAW)] = speed * (cos1 - cos0) / yaw_rate;
        jacobian[(0, SPEED)] = arc_sin;
        jacobian[(0, YAW_RATE)] = speed * (dt_s * cos1 - arc_sin) / yaw_rate;
        jacobian[(1, YAW)] = speed * (sin1 - sin0) / yaw_rate;
        jacobian[(1, SPEED)] = arc_cos;
        jacobian[(1, YAW_RATE)] = speed * (dt_s * sin1 - arc_cos) / yaw_rate;
    } else {
        // Second-order expansion in ω T of the arc above.
        let half_dt2 = 0.5 * dt_s * dt_s;
        dx = speed * (dt_s * cos0 - yaw_rate * half_dt2 * sin0);
        dy = speed * (dt_s * sin0 + yaw_rate * half_dt2 * cos0);
        jacobian[(0, YAW)] = -speed * (dt_s * sin0 + yaw_rate * half_dt2 * cos0);
        jacobian[(0, SPEED)] = dt_s * cos0 - yaw_rate * half_dt2 * sin0;
        jacobian[(0, YAW_RATE)] = -speed * half_dt2 * sin0;
        jacobian[(1, YAW)] = speed * (dt_s * cos0 - yaw_rate * half_dt2 * sin0);
        jacobian[(1, SPEED)] = dt_s * sin0 + yaw_rate * half_dt2 * cos0;
        jacobian[(1, YAW_RATE)] = speed * half_dt2 * cos0;
    }
    jacobian[(2, VERTICAL_SPEED)] = dt_s;
    jacobian[(YAW, YAW_RATE)] = dt_s;
    let mut predicted = *state;
    predicted[0] += dx;
    predicted[1] += dy;
    predicted[2] += state[VERTICAL_SPEED] * dt_s;
    predicted[YAW] = normalize_angle_rad(yaw + yaw_rate * dt_s);
    (predicted, jacobian)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.
mod tests {
    use std::f64::consts::{FRAC_PI_2, PI};

    use super::*;

    fn filter_at(x: f64, y: f64, yaw: f64, speed: f64, yaw_rate: f64) -> CtrvKalmanFilter {
        let z = BoxMeasurement::from([x, y, 1.0, yaw, 4.5, 1.8, 1.6]);
        let mut filter = CtrvKalmanFilter::from_measurement(&z, &CtrvKalmanConfig::default()).unwrap();
        filter.state[SPEED] = speed;
        filter.state[YAW_RATE] = yaw_rate;
        filter
    }

    #[test]
    fn a_quarter_circle_by_hand() {
        // 10 m/s at π/20 rad/s for 10 s: a quarter circle of radius v/ω = 200/π m, starting
        // at the origin heading +x, ends at (r, r) heading +y.
        let mut filter = filter_at(0.0, 0.0, 0.0, 10.0, PI / 20.0);
        filter.predict(10.0);
        let radius = 200.0 / PI;
        assert!((filter.state[0] - radius).abs() < 1e-9, "{}", filter.state[0]);
        assert!((filter.state[1] - radius).abs() < 1e-9);
        assert!((filter.state[YAW] - FRAC_PI_2).abs() < 1e-12);
    }

    #[test]
    fn straight_driving_is_continuous_with_the_arc() {
        let mut straight = filter_at(1.0, 2.0, 0.3, 8.0, 0.0);
        straight.predict(0.1);
        assert!((straight.state[0] - (1.0 + 0.8 * 0.3f64.cos())).abs() < 1e-12);
        assert!((straight.state[1] - (2.0 + 0.8 * 0.3f64.sin())).abs() < 1e-12);
        // Just below and just above the switch to the exact arc: the same prediction.
        let mut below = filter_at(1.0, 2.0, 0.3, 8.0, 0.999_99 * STRAIGHT_YAW_RATE_RADPS);
        let mut above = filter_at(1.0, 2.0, 0.3, 8.0, 1.000_01 * STRAIGHT_YAW_RATE_RADPS);
        below.predict(0.1);
        above.predict(0.1);
        let difference = (below.state - above.state).abs().max();
        assert!(difference < 1e-8, "{difference}");
        assert!((below.covariance - above.covariance).abs().max() < 1e-7);
    }

    #[test]
    fn the_jacobian_matches_central_differences() {
        for yaw_rate in [0.0, 5e-5, 0.3, -1.2] {
            let base = filter_at(3.0, -1.0, 2.5, 7.0, yaw_rate).state;
            let dt = 0.4;
            let (_, jacobian) = arc_transition(&base, dt);
            for column in 0..10 {
                let h = 1e-6;
                let (mut plus, mut minus) = (base, base);
                plus[column] += h;
                minus[column] -= h;
                let mut numeric = (arc_transition(&plus, dt).0 - arc_transition(&minus, dt).0) / (2.0 * h);
                numeric[YAW] = normalize_angle_rad(numeric[YAW] * 2.0 * h) / (2.0 * h);
                let analytic = jacobian.column(column);
                assert!((numeric - analytic).abs().max() < 1e-6, "ω {yaw_rate}, column {column}");
            }
        }
    }

    #[test]
    fn a_turning_target_is_followed_and_the_covariance_stays_spd() {
        // Noise-free measurements of a 10 m/s, 0.3 rad/s turn at 10 Hz; the filter learns the
        // speed and yaw rate.
        let (speed, yaw_rate) = (10.0, 0.3);
        let mut filter = filter_at(0.0, 0.0, 0.0, 0.0, 0.0);
        for step in 1..=100 {
            let t = f64::from(step) * 0.1;
            let yaw = yaw_rate * t;
            let (x, y) = (speed / yaw_rate * yaw.sin(), speed / yaw_rate * (1.0 - yaw.cos()));
            filter.predict(0.1);
            filter
                .update(&BoxMeasurement::from([x, y, 1.0, normalize_angle_rad(yaw), 4.5, 1.8, 1.6]))
                .unwrap();
            assert!(is_symmetric_positive_definite(&filter.covariance));
            assert!(filter.position_velocity_covariance().cholesky().is_some());
        }
        assert!((filter.state[SPEED] - speed).abs() < 0.05, "{}", filter.state);
        assert!((filter.state[YAW_RATE] - yaw_rate).abs() < 0.01, "{}", filter.state);
    }

    #[test]
    fn standstill_covariance_is_positive_definite() {
        let filter = filter_at(0.0, 0.0, 1.0, 0.0, 0.0);
        assert!(filter.position_velocity_covariance().cholesky().is_some());
    }

    #[test]
    fn config_errors_name_the_dotted_key() {
        let config = CtrvKalmanConfig { yaw_accel_psd_rad2ps3: 0.0, ..CtrvKalmanConfig::default() };
        let err = config.validate_at("tracker.classes.car.ctrv").unwrap_err();
        assert_eq!(err.key, "tracker.classes.car.ctrv.yaw_accel_psd_rad2ps3");
        assert!(CtrvKalmanConfig::default().validate_at("x").is_ok());
    }
}
