//! The tracker's motion models behind one type: constant velocity ([`CvKalmanFilter`]) or
//! constant turn rate and velocity ([`CtrvKalmanFilter`]), chosen per class.
//!
//! Both keep the measured box `(x, y, z, yaw, l, w, h)` as the first seven state components and
//! share the measurement update, so association (GIoU of the predicted box, Mahalanobis distance
//! of a detection) reads them the same way.

use pitsense_types::TrackState;
use pitsense_types::nalgebra::{Matrix6, Point3, Vector3};
use serde::{Deserialize, Serialize};

use crate::ctrv::{CtrvKalmanConfig, CtrvKalmanFilter};
use crate::geometry::OrientedBox;
use crate::kalman::{
    BoxFilterCore, BoxMeasurement, CvKalmanConfig, CvKalmanFilter, InnovationCholesky, KalmanError,
    MeasurementCovariance, StateVector,
};

/// Which motion model a class's tracks use (TOML `motion_model = "cv"` or `"ctrv"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MotionModel {
    /// Constant velocity in x, y, z (AB3DMOT's model): [`CvKalmanFilter`].
    Cv,
    /// Constant turn rate and velocity along the heading (EKF): [`CtrvKalmanFilter`].
    Ctrv,
}

/// A track's filter: one of the motion models.
#[derive(Clone, Debug, PartialEq)]
pub enum MotionFilter {
    /// Constant velocity.
    Cv(CvKalmanFilter),
    /// Constant turn rate and velocity.
    Ctrv(CtrvKalmanFilter),
}

impl MotionFilter {
    /// Starts a filter of the given model at a box measurement `(x, y, z, yaw, l, w, h)`
    /// (metres, radians), with that model's noise settings.
    ///
    /// # Errors
    /// [`KalmanError::NonFiniteMeasurement`] if a component is not finite.
    pub fn new(
        model: MotionModel,
        measurement: &BoxMeasurement,
        cv: &CvKalmanConfig,
        ctrv: &CtrvKalmanConfig,
    ) -> Result<Self, KalmanError> {
        Ok(match model {
            MotionModel::Cv => Self::Cv(CvKalmanFilter::from_measurement(measurement, cv)?),
            MotionModel::Ctrv => Self::Ctrv(CtrvKalmanFilter::from_measurement(measurement, ctrv)?),
        })
    }

    /// Starts a filter of the given model at a box measurement with its own noise (7×7, the
    /// box's initial covariance; a V2X object with the accuracy its message gave).
    ///
    /// # Errors
    /// [`KalmanError::NonFiniteMeasurement`] if a component is not finite;
    /// [`KalmanError::InnovationNotPositiveDefinite`] if the noise is not positive definite.
    pub fn new_with_noise(
        model: MotionModel,
        measurement: &BoxMeasurement,
        noise: &MeasurementCovariance,
        cv: &CvKalmanConfig,
        ctrv: &CtrvKalmanConfig,
    ) -> Result<Self, KalmanError> {
        Ok(match model {
            MotionModel::Cv => Self::Cv(CvKalmanFilter::from_measurement_with_noise(measurement, noise, cv)?),
            MotionModel::Ctrv => {
                Self::Ctrv(CtrvKalmanFilter::from_measurement_with_noise(measurement, noise, ctrv)?)
            }
        })
    }

    /// Corrects with a box measurement that carries its own noise `R` (7×7).
    ///
    /// # Errors
    /// [`KalmanError`]; the filter is unchanged then.
    pub fn update_with_noise(
        &mut self,
        measurement: &BoxMeasurement,
        noise: &MeasurementCovariance,
    ) -> Result<(), KalmanError> {
        self.core_mut().update_with_noise(measurement, noise)
    }

    /// The state, covariance and box update both models share.
    pub fn core(&self) -> &BoxFilterCore {
        match self {
            Self::Cv(filter) => filter,
            Self::Ctrv(filter) => filter,
        }
    }

    fn core_mut(&mut self) -> &mut BoxFilterCore {
        match self {
            Self::Cv(filter) => filter,
            Self::Ctrv(filter) => filter,
        }
    }

    /// Predicts `dt_s` seconds ahead; a non-positive or non-finite `dt_s` changes nothing.
    pub fn predict(&mut self, dt_s: f64) {
        match self {
            Self::Cv(filter) => filter.predict(dt_s),
            Self::Ctrv(filter) => filter.predict(dt_s),
        }
    }

    /// Corrects with a box measurement `(x, y, z, yaw, l, w, h)` (metres, radians), heading flips
    /// absorbed ([`crate::kalman::box_update`]).
    ///
    /// # Errors
    /// [`KalmanError`]; the filter is unchanged then.
    pub fn update(&mut self, measurement: &BoxMeasurement) -> Result<(), KalmanError> {
        self.core_mut().update(measurement)
    }

    /// The state vector (its first seven components are the box; the last three depend on the
    /// model).
    pub fn state(&self) -> &StateVector {
        self.core().state()
    }

    /// The box of the current state, in the tracker's frame.
    pub fn oriented_box(&self) -> OrientedBox {
        let s = self.state();
        OrientedBox {
            center_m: Point3::new(s[0], s[1], s[2]),
            size_m: Vector3::new(s[4], s[5], s[6]),
            yaw_rad: s[3],
        }
    }

    /// Cholesky factor of the innovation covariance at the current state; `None` if it is not
    /// positive definite.
    pub fn innovation_cholesky(&self) -> Option<InnovationCholesky> {
        self.core().innovation_cholesky()
    }

    /// The state as the tracker publishes it.
    pub fn track_state(&self) -> TrackState {
        match self {
            Self::Cv(filter) => filter.track_state(),
            Self::Ctrv(filter) => filter.track_state(),
        }
    }

    /// The 3×3 covariance of the box centre `(x, y, z)`, m².
    pub fn position_covariance(&self) -> pitsense_types::nalgebra::Matrix3<f64> {
        self.position_velocity_covariance().fixed_view::<3, 3>(0, 0).into_owned()
    }

    /// The 6×6 covariance of `(x, y, z, vx, vy, vz)`: m², m²/s, m²/s².
    pub fn position_velocity_covariance(&self) -> Matrix6<f64> {
        match self {
            Self::Cv(filter) => filter.position_velocity_covariance(),
            Self::Ctrv(filter) => filter.position_velocity_covariance(),
        }
    }
}
