//! Constant-velocity Kalman filter over an oriented 3D box, and the box-measurement update that
//! every motion model of the tracker shares.
//!
//! State (10): `(x, y, z, yaw, l, w, h, vx, vy, vz)` — box centre in metres, heading in radians
//! in `(-π, π]`, size in metres, centre velocity in m/s, all in the tracker's frame. Measurement
//! (7): `(x, y, z, yaw, l, w, h)` from a [`Detection3d`]. This is the model of AB3DMOT (Weng et
//! al., IROS 2020), with the process noise of the discretised continuous white-noise
//! acceleration model (Bar-Shalom, Li, Kirubarajan, "Estimation with Applications to Tracking
//! and Navigation", 2001, §6.2.2) so that it scales with the time step.
//!
//! Both this filter and the CTRV filter ([`crate::ctrv`]) keep the measured box
//! `(x, y, z, yaw, l, w, h)` as the first seven state components, so the measurement model is
//! the same linear `H = [I₇ | 0]` for both and [`box_update`] is shared. The tracker holds
//! either through [`crate::motion::MotionFilter`].

use pitsense_types::nalgebra::{Cholesky, Matrix6, Point3, SMatrix, SVector, U7, Vector3};
use pitsense_types::{ConfigError, Detection3d, TrackState};
use serde::{Deserialize, Serialize};

/// State vector `(x, y, z, yaw, l, w, h, vx, vy, vz)`: metres, radians, metres, m/s.
pub type StateVector = SVector<f64, 10>;
/// State covariance, 10×10, in the units of [`StateVector`] squared.
pub type StateCovariance = SMatrix<f64, 10, 10>;
/// Measurement vector `(x, y, z, yaw, l, w, h)`: metres, radians, metres.
pub type BoxMeasurement = SVector<f64, 7>;
/// Measurement (or innovation) covariance, 7×7, in the units of [`BoxMeasurement`] squared.
pub type MeasurementCovariance = SMatrix<f64, 7, 7>;
/// Cholesky factor of an innovation covariance `S = H P Hᵀ + R`, for Mahalanobis distances.
pub type InnovationCholesky = Cholesky<f64, U7>;

/// Index of the yaw in the state and in the measurement.
pub(crate) const YAW: usize = 3;
/// Indices of `(x, y, z, vx, vy, vz)` in the state.
const POSITION_VELOCITY: [usize; 6] = [0, 1, 2, 7, 8, 9];

/// Why a filter step was refused.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum KalmanError {
    /// A measurement component is NaN or infinite (index into `(x, y, z, yaw, l, w, h)`).
    #[error("measurement component {index} is not finite")]
    NonFiniteMeasurement {
        /// Index of the first bad component.
        index: usize,
    },
    /// The innovation covariance `H P Hᵀ + R` is not positive definite (Cholesky failed); the
    /// filter is left unchanged.
    #[error("innovation covariance is not positive definite")]
    InnovationNotPositiveDefinite,
}

/// Noise settings of [`CvKalmanFilter`], TOML table `[tracker.classes.<label>.cv]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CvKalmanConfig {
    /// Power spectral density of the white-noise horizontal acceleration, m²/s³ (per axis).
    /// Default 2.0 (a haul truck's braking and a light vehicle's manoeuvres).
    pub accel_psd_xy_m2ps3: f64,
    /// Power spectral density of the white-noise vertical acceleration, m²/s³. Default 0.2.
    pub accel_psd_z_m2ps3: f64,
    /// Power spectral density of the heading's random walk, rad²/s. Default 0.1.
    pub yaw_psd_rad2ps: f64,
    /// Power spectral density of each box dimension's random walk, m²/s. Default 0.01.
    pub size_psd_m2ps: f64,
    /// Standard deviation of a measured box centre, per axis, metres. Default 0.3.
    pub meas_position_std_m: f64,
    /// Standard deviation of a measured heading, radians. Default 0.2.
    pub meas_yaw_std_rad: f64,
    /// Standard deviation of a measured box dimension, metres. Default 0.3.
    pub meas_size_std_m: f64,
    /// Standard deviation of the velocity of a new track (unobserved), m/s. Default 10.
    pub init_velocity_std_mps: f64,
}

impl Default for CvKalmanConfig {
    fn default() -> Self {
        Self {
            accel_psd_xy_m2ps3: 2.0,
            accel_psd_z_m2ps3: 0.2,
            yaw_psd_rad2ps: 0.1,
            size_psd_m2ps: 0.01,
            meas_position_std_m: 0.3,
            meas_yaw_std_rad: 0.2,
            meas_size_std_m: 0.3,
            init_velocity_std_mps: 10.0,
        }
    }
}

impl CvKalmanConfig {
    /// Checks every value: all must be finite and positive, within a sane upper bound.
    ///
    /// `prefix` is the dotted path of the table, e.g. `tracker.classes.car.cv`.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first bad key, e.g.
    /// `tracker.classes.car.cv.meas_position_std_m`.
    pub fn validate_at(&self, prefix: &str) -> Result<(), ConfigError> {
        check_positive(
            prefix,
            &[
                ("accel_psd_xy_m2ps3", self.accel_psd_xy_m2ps3, 1e3),
                ("accel_psd_z_m2ps3", self.accel_psd_z_m2ps3, 1e3),
                ("yaw_psd_rad2ps", self.yaw_psd_rad2ps, 1e2),
                ("size_psd_m2ps", self.size_psd_m2ps, 1e2),
                ("meas_position_std_m", self.meas_position_std_m, 1e2),
                ("meas_yaw_std_rad", self.meas_yaw_std_rad, std::f64::consts::PI),
                ("meas_size_std_m", self.meas_size_std_m, 1e2),
                ("init_velocity_std_mps", self.init_velocity_std_mps, 1e3),
            ],
        )
    }

    /// [`CvKalmanConfig::validate_at`] for the table of the default class,
    /// `tracker.classes.default.cv`.
    ///
    /// # Errors
    /// As [`CvKalmanConfig::validate_at`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_at("tracker.classes.default.cv")
    }

    /// Measurement noise covariance `R` (7×7 diagonal).
    fn measurement_noise(&self) -> MeasurementCovariance {
        measurement_noise(self.meas_position_std_m, self.meas_yaw_std_rad, self.meas_size_std_m)
    }
}

/// Checks that each `(key, value, max)` has `value` in `(0, max]`; the error names
/// `prefix.key`.
pub(crate) fn check_positive(prefix: &str, checks: &[(&str, f64, f64)]) -> Result<(), ConfigError> {
    for &(key, value, max) in checks {
        if !(value > 0.0 && value <= max) {
            return Err(ConfigError::new(
                format!("{prefix}.{key}"),
                format!("{value} must be in (0, {max}]"),
            ));
        }
    }
    Ok(())
}

/// Diagonal `R` for `(x, y, z, yaw, l, w, h)` from the three standard deviations.
pub(crate) fn measurement_noise(
    position_std_m: f64,
    yaw_std_rad: f64,
    size_std_m: f64,
) -> MeasurementCovariance {
    let (p, a, s) = (position_std_m.powi(2), yaw_std_rad.powi(2), size_std_m.powi(2));
    MeasurementCovariance::from_diagonal(&BoxMeasurement::from([p, p, p, a, s, s, s]))
}

/// Wraps an angle to `(-π, π]`, radians.
pub fn normalize_angle_rad(angle_rad: f64) -> f64 {
    use std::f64::consts::{PI, TAU};
    let wrapped = angle_rad.rem_euclid(TAU);
    if wrapped > PI { wrapped - TAU } else { wrapped }
}

/// The measurement of a detection: `(x, y, z, yaw, l, w, h)` with the yaw wrapped to `(-π, π]`.
pub fn measurement_from_detection(detection: &Detection3d) -> BoxMeasurement {
    let (c, s) = (&detection.center_m, &detection.size_m);
    BoxMeasurement::from([c.x, c.y, c.z, normalize_angle_rad(detection.yaw_rad), s.x, s.y, s.z])
}

/// Whether a symmetric matrix is positive definite (its Cholesky factorisation exists) and
/// symmetric to a relative tolerance of 1e-9.
pub(crate) fn is_symmetric_positive_definite(matrix: &StateCovariance) -> bool {
    let scale = matrix.abs().max().max(1.0);
    (matrix - matrix.transpose()).abs().max() <= 1e-9 * scale && matrix.cholesky().is_some()
}

/// The innovation `z − H x` of a box measurement against a state whose first seven components
/// are the box, with the heading handled as in AB3DMOT's orientation correction: the yaw
/// difference is wrapped to `(-π, π]`, and when it exceeds π/2 the measured box is taken as
/// turned by π (lidar boxes do not tell front from back), so the yaw innovation is always in
/// `[−π/2, π/2]`.
pub fn box_innovation(state: &StateVector, measurement: &BoxMeasurement) -> BoxMeasurement {
    let mut innovation = measurement - state.fixed_rows::<7>(0);
    let mut yaw_innovation = normalize_angle_rad(innovation[YAW]);
    if yaw_innovation.abs() > std::f64::consts::FRAC_PI_2 {
        yaw_innovation = normalize_angle_rad(yaw_innovation + std::f64::consts::PI);
    }
    innovation[YAW] = yaw_innovation;
    innovation
}

/// `S = H P Hᵀ + R` for `H = [I₇ | 0]`: the top-left 7×7 block of `P` plus `R`.
pub(crate) fn innovation_covariance(
    covariance: &StateCovariance,
    measurement_noise: &MeasurementCovariance,
) -> MeasurementCovariance {
    covariance.fixed_view::<7, 7>(0, 0) + measurement_noise
}

/// Squared Mahalanobis distance `νᵀ S⁻¹ ν` of a box measurement from a predicted state, with
/// `S` given by its Cholesky factor (see [`box_innovation`] for the heading). Dimensionless;
/// χ²-distributed with 7 degrees of freedom when the filter is consistent.
pub fn mahalanobis_sq(
    state: &StateVector,
    cholesky: &InnovationCholesky,
    measurement: &BoxMeasurement,
) -> f64 {
    let innovation = box_innovation(state, measurement);
    let whitened = cholesky.l().solve_lower_triangular(&innovation).unwrap_or(innovation);
    whitened.norm_squared()
}

/// The Kalman update shared by the box filters: `H = [I₇ | 0]`, innovation from
/// [`box_innovation`], gain `K = P Hᵀ S⁻¹` through a Cholesky solve, covariance in Joseph form
/// `(I − KH) P (I − KH)ᵀ + K R Kᵀ` (Bucy & Joseph 1968), then symmetrised; the yaw is wrapped
/// to `(-π, π]` afterwards.
///
/// # Errors
/// [`KalmanError::NonFiniteMeasurement`] or [`KalmanError::InnovationNotPositiveDefinite`];
/// `state` and `covariance` are unchanged then.
pub fn box_update(
    state: &mut StateVector,
    covariance: &mut StateCovariance,
    measurement_noise: &MeasurementCovariance,
    measurement: &BoxMeasurement,
) -> Result<(), KalmanError> {
    check_finite(measurement)?;
    let innovation = box_innovation(state, measurement);
    let innovation_covariance = innovation_covariance(covariance, measurement_noise);
    let cholesky = innovation_covariance.cholesky().ok_or(KalmanError::InnovationNotPositiveDefinite)?;
    // P Hᵀ is the first seven columns of P; K = P Hᵀ S⁻¹ = (S⁻¹ H P)ᵀ as S and P are symmetric.
    let p_ht: SMatrix<f64, 10, 7> = covariance.fixed_columns::<7>(0).into_owned();
    let gain: SMatrix<f64, 10, 7> = cholesky.solve(&p_ht.transpose()).transpose();

    *state += gain * innovation;
    state[YAW] = normalize_angle_rad(state[YAW]);
    // Joseph form with A = I − K H and H = [I₇ | 0]: A P = P − K P[0..7, :], then
    // (A P) Aᵀ = A P − (A P)[:, 0..7] Kᵀ; the same numbers as the dense products, in a third of
    // the work.
    let a_p: StateCovariance = *covariance - gain * covariance.fixed_rows::<7>(0);
    let a_p_at: StateCovariance = a_p - a_p.fixed_columns::<7>(0) * gain.transpose();
    *covariance = a_p_at + gain * measurement_noise * gain.transpose();
    symmetrize(covariance);
    debug_assert!(is_symmetric_positive_definite(covariance), "{covariance}");
    Ok(())
}

/// `P ← (P + Pᵀ) / 2`.
pub(crate) fn symmetrize(covariance: &mut StateCovariance) {
    *covariance = (*covariance + covariance.transpose()) * 0.5;
}

/// Constant-velocity Kalman filter over `(x, y, z, yaw, l, w, h, vx, vy, vz)`.
///
/// Invariants (checked by `debug_assert!` after every step): the covariance is symmetric
/// positive definite and the yaw is in `(-π, π]`.
#[derive(Clone, Debug, PartialEq)]
pub struct CvKalmanFilter {
    core: BoxFilterCore,
    config: CvKalmanConfig,
}

/// What every box filter shares (the constant-velocity one here and
/// [`crate::ctrv::CtrvKalmanFilter`]): a 10-component state whose first seven are the measured
/// box `(x, y, z, yaw, l, w, h)` (the last three are the motion model's), its 10×10 covariance,
/// the configured box measurement noise `R` (7×7), and what uses only those: the linear box
/// update ([`box_update`], `H = [I₇ 0]`), the innovation covariance and the accessors. The
/// motion models own one and differ in their prediction and in how they publish velocity; they
/// reach these methods through `Deref`.
#[derive(Clone, Debug, PartialEq)]
pub struct BoxFilterCore {
    pub(crate) state: StateVector,
    pub(crate) covariance: StateCovariance,
    pub(crate) measurement_noise: MeasurementCovariance,
}

impl BoxFilterCore {
    /// Corrects the state with a box measurement `(x, y, z, yaw, l, w, h)` (metres, radians).
    ///
    /// Heading: lidar boxes do not tell front from back, so when the measured yaw is more than
    /// π/2 from the predicted one it is turned by π first; the yaw innovation is then wrapped to
    /// `(-π, π]` (as in AB3DMOT's orientation correction). See [`box_update`].
    ///
    /// # Errors
    /// [`KalmanError::NonFiniteMeasurement`] or [`KalmanError::InnovationNotPositiveDefinite`];
    /// the filter is unchanged then.
    pub fn update(&mut self, measurement: &BoxMeasurement) -> Result<(), KalmanError> {
        box_update(&mut self.state, &mut self.covariance, &self.measurement_noise, measurement)
    }

    /// Corrects with a box measurement that carries its own noise `R` (7×7), instead of the
    /// configured one (a V2X object).
    ///
    /// # Errors
    /// As [`box_update`]; the filter is unchanged then.
    pub fn update_with_noise(
        &mut self,
        measurement: &BoxMeasurement,
        noise: &MeasurementCovariance,
    ) -> Result<(), KalmanError> {
        box_update(&mut self.state, &mut self.covariance, noise, measurement)
    }

    /// The Cholesky factor of the innovation covariance `S = H P Hᵀ + R` at the current
    /// (predicted) state, for [`mahalanobis_sq`]; `None` if `S` is not positive definite.
    pub fn innovation_cholesky(&self) -> Option<InnovationCholesky> {
        innovation_covariance(&self.covariance, &self.measurement_noise).cholesky()
    }

    /// The state vector: the box `(x, y, z, yaw, l, w, h)`, then the motion model's three
    /// components (`vx, vy, vz` for constant velocity, `v, yaw_rate, vz` for CTRV).
    pub fn state(&self) -> &StateVector {
        &self.state
    }

    /// The 10×10 state covariance.
    pub fn covariance(&self) -> &StateCovariance {
        &self.covariance
    }
}

impl std::ops::Deref for CvKalmanFilter {
    type Target = BoxFilterCore;

    fn deref(&self) -> &BoxFilterCore {
        &self.core
    }
}

impl std::ops::DerefMut for CvKalmanFilter {
    fn deref_mut(&mut self) -> &mut BoxFilterCore {
        &mut self.core
    }
}

impl CvKalmanFilter {
    /// Starts a filter at a detection: position, yaw and size measured (variances from `R`),
    /// velocity zero with standard deviation `init_velocity_std_mps`.
    ///
    /// # Errors
    /// [`KalmanError::NonFiniteMeasurement`] if the detection is not finite.
    pub fn from_detection(detection: &Detection3d, config: &CvKalmanConfig) -> Result<Self, KalmanError> {
        Self::from_measurement(&measurement_from_detection(detection), config)
    }

    /// Starts a filter at a box measurement `(x, y, z, yaw, l, w, h)` (metres, radians); as
    /// [`CvKalmanFilter::from_detection`].
    ///
    /// # Errors
    /// [`KalmanError::NonFiniteMeasurement`] if a component is not finite.
    pub fn from_measurement(
        measurement: &BoxMeasurement,
        config: &CvKalmanConfig,
    ) -> Result<Self, KalmanError> {
        Self::from_measurement_with_noise(measurement, &config.measurement_noise(), config)
    }

    /// Starts a filter at a box measurement whose own noise `initial_noise` (7×7, units of
    /// [`BoxMeasurement`] squared) is the box's initial covariance — a V2X object with the
    /// accuracy its message gave; later updates use the configured `R` unless given another
    /// ([`CvKalmanFilter::update_with_noise`]).
    ///
    /// # Errors
    /// [`KalmanError::NonFiniteMeasurement`] if a component of the measurement or the noise is
    /// not finite.
    pub fn from_measurement_with_noise(
        measurement: &BoxMeasurement,
        initial_noise: &MeasurementCovariance,
        config: &CvKalmanConfig,
    ) -> Result<Self, KalmanError> {
        check_finite(measurement)?;
        check_noise(initial_noise)?;
        let mut state = StateVector::zeros();
        state.fixed_rows_mut::<7>(0).copy_from(measurement);
        state[YAW] = normalize_angle_rad(state[YAW]);
        let measurement_noise = config.measurement_noise();
        let mut covariance = StateCovariance::zeros();
        covariance.fixed_view_mut::<7, 7>(0, 0).copy_from(initial_noise);
        let velocity_variance = config.init_velocity_std_mps.powi(2);
        for index in 7..10 {
            covariance[(index, index)] = velocity_variance;
        }
        Ok(Self { core: BoxFilterCore { state, covariance, measurement_noise }, config: config.clone() })
    }

    /// Predicts the state `dt_s` seconds ahead: `x ← F x`, `P ← F P Fᵀ + Q(dt)`.
    ///
    /// `F` adds `v · dt` to the centre; `Q` is the white-noise acceleration block
    /// `q [[dt³/3, dt²/2], [dt²/2, dt]]` per axis, and `q · dt` random walks for yaw and size.
    /// A `dt_s` that is not strictly positive and finite (a repeated or out-of-order stamp) is a
    /// zero-time prediction: nothing changes.
    pub fn predict(&mut self, dt_s: f64) {
        if !(dt_s > 0.0 && dt_s.is_finite()) {
            return;
        }
        let c = &self.config;
        let (dt2, dt3) = (dt_s * dt_s / 2.0, dt_s.powi(3) / 3.0);
        // x ← F x and P ← F P Fᵀ with F = I + dt·E, E moving each velocity onto its position:
        // F P adds dt × (velocity row) to the position row, (F P) Fᵀ the same for columns.
        let p = &mut self.core.covariance;
        for axis in 0..3 {
            let velocity = axis + 7;
            self.core.state[axis] += dt_s * self.core.state[velocity];
            for col in 0..10 {
                p[(axis, col)] += dt_s * p[(velocity, col)];
            }
        }
        for axis in 0..3 {
            let velocity = axis + 7;
            for row in 0..10 {
                p[(row, axis)] += dt_s * p[(row, velocity)];
            }
        }
        // + Q(dt).
        for (axis, psd) in [(0, c.accel_psd_xy_m2ps3), (1, c.accel_psd_xy_m2ps3), (2, c.accel_psd_z_m2ps3)] {
            let velocity = axis + 7;
            p[(axis, axis)] += psd * dt3;
            p[(axis, velocity)] += psd * dt2;
            p[(velocity, axis)] += psd * dt2;
            p[(velocity, velocity)] += psd * dt_s;
        }
        p[(YAW, YAW)] += c.yaw_psd_rad2ps * dt_s;
        for size in 4..7 {
            p[(size, size)] += c.size_psd_m2ps * dt_s;
        }
        symmetrize(&mut self.core.covariance);
        debug_assert!(is_symmetric_positive_definite(&self.core.covariance), "{}", self.core.covariance);
    }

    /// The state as the tracker publishes it (centre, velocity, yaw in `(-π, π]`, size).
    pub fn track_state(&self) -> TrackState {
        let s = &self.core.state;
        TrackState {
            center_m: Point3::new(s[0], s[1], s[2]),
            velocity_mps: Vector3::new(s[7], s[8], s[9]),
            yaw_rad: normalize_angle_rad(s[YAW]),
            size_m: Vector3::new(s[4], s[5], s[6]),
        }
    }

    /// The 6×6 covariance of `(x, y, z, vx, vy, vz)`: m², m²/s, m²/s².
    pub fn position_velocity_covariance(&self) -> Matrix6<f64> {
        Matrix6::from_fn(|row, col| self.core.covariance[(POSITION_VELOCITY[row], POSITION_VELOCITY[col])])
    }
}

/// Checks a measurement noise: finite and symmetric positive definite.
pub(crate) fn check_noise(noise: &MeasurementCovariance) -> Result<(), KalmanError> {
    let symmetric = (noise - noise.transpose()).abs().max() <= 1e-9 * noise.abs().max().max(1.0);
    if noise.iter().all(|v| v.is_finite()) && symmetric && noise.cholesky().is_some() {
        Ok(())
    } else {
        Err(KalmanError::InnovationNotPositiveDefinite)
    }
}

pub(crate) fn check_finite(measurement: &BoxMeasurement) -> Result<(), KalmanError> {
    match measurement.iter().position(|value| !value.is_finite()) {
        Some(index) => Err(KalmanError::NonFiniteMeasurement { index }),
        None => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.
mod tests {
    use std::f64::consts::PI;

    use pitsense_types::{FrameId, Header, ObjectSource, UNKNOWN_CLASS};

    use super::*;

    fn detection(x: f64, y: f64, yaw_rad: f64) -> Detection3d {
        Detection3d {
            header: Header { stamp_ns: 0, frame: FrameId::Lidar(0), seq: 0 },
            center_m: Point3::new(x, y, 1.0),
            size_m: Vector3::new(4.0, 2.0, 1.5),
            yaw_rad,
            class_label: UNKNOWN_CLASS.into(),
            score: 0.9,
            source: ObjectSource::Lidar,
        }
    }

    #[test]
    fn angles_wrap_to_the_half_open_interval() {
        assert_eq!(normalize_angle_rad(PI), PI);
        assert_eq!(normalize_angle_rad(-PI), PI);
        assert!((normalize_angle_rad(3.0 * PI / 2.0) + PI / 2.0).abs() < 1e-12);
        assert!((normalize_angle_rad(-7.0 * PI / 2.0) - PI / 2.0).abs() < 1e-12);
        assert_eq!(normalize_angle_rad(0.25), 0.25);
    }

    #[test]
    fn prediction_moves_the_centre_and_adds_process_noise_by_hand() {
        let config = CvKalmanConfig::default();
        let mut filter = CvKalmanFilter::from_detection(&detection(1.0, 2.0, 0.0), &config).unwrap();
        filter.state[7] = 3.0;
        let before = filter.covariance;
        filter.predict(0.5);
        assert_eq!(filter.state[0], 1.0 + 3.0 * 0.5);
        // P_xx ← P_xx + dt² P_vxvx + q dt³ / 3 (no initial position-velocity correlation).
        let expected = before[(0, 0)] + 0.25 * before[(7, 7)] + 2.0 * 0.125 / 3.0;
        assert!((filter.covariance[(0, 0)] - expected).abs() < 1e-12);
        let expected_cross = 0.5 * before[(7, 7)] + 2.0 * 0.25 / 2.0;
        assert!((filter.covariance[(0, 7)] - expected_cross).abs() < 1e-12);
    }

    #[test]
    fn non_positive_time_steps_change_nothing() {
        let mut filter =
            CvKalmanFilter::from_detection(&detection(1.0, 2.0, 0.0), &CvKalmanConfig::default()).unwrap();
        let before = filter.clone();
        filter.predict(0.0);
        filter.predict(-1.0);
        filter.predict(f64::NAN);
        assert_eq!(filter, before);
    }

    #[test]
    fn a_scalar_update_matches_the_textbook_gain() {
        // With no prior correlation the x update is scalar: k = P / (P + r).
        let config = CvKalmanConfig::default();
        let mut filter = CvKalmanFilter::from_detection(&detection(0.0, 0.0, 0.0), &config).unwrap();
        let prior = filter.covariance[(0, 0)];
        let r = config.meas_position_std_m.powi(2);
        let mut z = measurement_from_detection(&detection(1.0, 0.0, 0.0));
        filter.update(&z).unwrap();
        let k = prior / (prior + r);
        assert!((filter.state[0] - k).abs() < 1e-12);
        assert!((filter.covariance[(0, 0)] - (1.0 - k) * prior).abs() < 1e-12);
        z[0] = f64::NAN;
        assert_eq!(filter.update(&z), Err(KalmanError::NonFiniteMeasurement { index: 0 }));
    }

    #[test]
    fn yaw_innovation_wraps_and_flipped_headings_are_absorbed() {
        let config = CvKalmanConfig::default();
        let start = PI - 0.05;
        let mut filter = CvKalmanFilter::from_detection(&detection(0.0, 0.0, start), &config).unwrap();
        // Measured −π + 0.05 is 0.1 rad from π − 0.05 across the wrap, not 2π − 0.1.
        filter.update(&measurement_from_detection(&detection(0.0, 0.0, -PI + 0.05))).unwrap();
        let yaw = filter.state[YAW];
        assert!((yaw.abs() - PI).abs() < 0.05, "{yaw}");
        // A measurement turned by π (front and back swapped) pulls the same way as its flip.
        let before = filter.state[YAW];
        filter.update(&measurement_from_detection(&detection(0.0, 0.0, 0.0))).unwrap();
        let moved = normalize_angle_rad(filter.state[YAW] - before).abs();
        assert!(moved < 0.2, "yaw moved by {moved}");
        assert!((filter.state[YAW].abs() - PI).abs() < 0.2);
    }

    #[test]
    fn covariance_stays_symmetric_positive_definite() {
        let mut filter =
            CvKalmanFilter::from_detection(&detection(0.0, 0.0, 0.0), &CvKalmanConfig::default()).unwrap();
        for step in 0..200 {
            filter.predict(if step % 7 == 0 { 5.0 } else { 0.1 });
            let x = f64::from(step) * 0.5;
            filter.update(&measurement_from_detection(&detection(x, 0.0, 0.01 * f64::from(step)))).unwrap();
            assert!(is_symmetric_positive_definite(filter.covariance()));
        }
        let pv = filter.position_velocity_covariance();
        assert_eq!(pv[(3, 3)], filter.covariance[(7, 7)]);
        assert_eq!(pv[(0, 5)], filter.covariance[(0, 9)]);
    }

    #[test]
    fn config_errors_name_the_dotted_key() {
        let err = CvKalmanConfig { meas_position_std_m: -0.1, ..CvKalmanConfig::default() }
            .validate_at("tracker.classes.car.cv")
            .unwrap_err();
        assert_eq!(err.key, "tracker.classes.car.cv.meas_position_std_m");
        assert!(CvKalmanConfig::default().validate().is_ok());
    }
}
