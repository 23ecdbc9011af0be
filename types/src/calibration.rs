use nalgebra::{Isometry3, Matrix3, Matrix3x4, Point2, Point3, Rotation3, Translation3, UnitQuaternion};
use serde::{Deserialize, Serialize};

use crate::SensorId;

/// Why a calibration is unusable.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CalibrationError {
    /// A number is NaN or infinite.
    #[error("calibration value `{name}` is not finite")]
    NotFinite {
        /// Name of the offending value.
        name: &'static str,
    },
    /// The projection matrix is not of the form `K [I | t]` with a usable `K`.
    #[error("projection matrix is not a pinhole camera: {reason}")]
    NotPinhole {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A rotation block is not close to orthonormal.
    #[error("`{name}` is not a rotation (|RᵀR − I| = {deviation:.2e}, det = {determinant:.4})")]
    NotRotation {
        /// Name of the offending matrix.
        name: &'static str,
        /// Largest absolute entry of `RᵀR − I`.
        deviation: f64,
        /// Determinant of the block.
        determinant: f64,
    },
}

/// Pinhole intrinsics of a rectified (undistorted) camera, in pixels.
///
/// Projection of a point `(x, y, z)` in the camera's optical frame (x right, y down, z forward):
/// `u = fx_px * x / z + cx_px`, `v = fy_px * y / z + cy_px` (Hartley & Zisserman, §6.1).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CameraIntrinsics {
    /// Focal length along u, pixels.
    pub fx_px: f64,
    /// Focal length along v, pixels.
    pub fy_px: f64,
    /// Principal point u, pixels.
    pub cx_px: f64,
    /// Principal point v, pixels.
    pub cy_px: f64,
    /// Image width, pixels.
    pub width_px: u32,
    /// Image height, pixels.
    pub height_px: u32,
}

impl CameraIntrinsics {
    /// The 3×3 camera matrix `K`.
    pub fn matrix(&self) -> Matrix3<f64> {
        Matrix3::new(self.fx_px, 0.0, self.cx_px, 0.0, self.fy_px, self.cy_px, 0.0, 0.0, 1.0)
    }
}

/// A camera's intrinsics and its extrinsics relative to a lidar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CameraCalibration {
    /// Which camera.
    pub camera_id: SensorId,
    /// Pinhole intrinsics (the image is assumed rectified).
    pub intrinsics: CameraIntrinsics,
    /// Rigid transform taking points in the lidar frame to the camera's optical frame, metres.
    pub camera_from_lidar: Isometry3<f64>,
}

/// Largest tolerated deviation of `RᵀR` from the identity for a matrix read as a rotation.
/// KITTI's `Tr_velo_to_cam` blocks deviate by about 1e-6; 1e-3 rejects wrong calibrations.
const ROTATION_TOLERANCE: f64 = 1e-3;

/// Projects a general 3×3 block onto the nearest rotation after checking it is one.
///
/// # Errors
/// [`CalibrationError::NotFinite`] or [`CalibrationError::NotRotation`].
pub(crate) fn rotation_from_matrix(
    name: &'static str,
    matrix: &Matrix3<f64>,
) -> Result<UnitQuaternion<f64>, CalibrationError> {
    if matrix.iter().any(|v| !v.is_finite()) {
        return Err(CalibrationError::NotFinite { name });
    }
    let deviation = (matrix.transpose() * matrix - Matrix3::identity()).abs().max();
    let determinant = matrix.determinant();
    if deviation > ROTATION_TOLERANCE || determinant <= 0.0 {
        return Err(CalibrationError::NotRotation { name, deviation, determinant });
    }
    let rotation = Rotation3::from_matrix_eps(matrix, 1e-12, 100, Rotation3::identity());
    Ok(UnitQuaternion::from_rotation_matrix(&rotation))
}

impl CameraCalibration {
    /// Builds the calibration from KITTI's matrices (Geiger et al., "Vision meets Robotics:
    /// The KITTI Dataset", IJRR 2013, eq. 7): a point in the velodyne frame projects to the image
    /// of camera 2 as `P2 · R0_rect · Tr_velo_to_cam · x`.
    ///
    /// `P2 = K [I | t]` is split into intrinsics `K` and a translation `t = K⁻¹ p₄` (the offset
    /// of camera 2 from the rectified reference camera 0), so that
    /// `camera_from_lidar = t ∘ R0_rect ∘ Tr_velo_to_cam`.
    ///
    /// `velo_to_cam` is the 3×4 `[R | t]` matrix; `width_px`, `height_px` the image size.
    ///
    /// # Errors
    /// [`CalibrationError`] if a value is not finite, `P2` is not a pinhole matrix with zero skew
    /// and positive focal lengths, or `R0_rect` / the rotation of `Tr_velo_to_cam` is not a
    /// rotation.
    pub fn from_kitti(
        camera_id: SensorId,
        p2: &Matrix3x4<f64>,
        r0_rect: &Matrix3<f64>,
        velo_to_cam: &Matrix3x4<f64>,
        width_px: u32,
        height_px: u32,
    ) -> Result<Self, CalibrationError> {
        if p2.iter().any(|v| !v.is_finite()) {
            return Err(CalibrationError::NotFinite { name: "P2" });
        }
        if velo_to_cam.iter().any(|v| !v.is_finite()) {
            return Err(CalibrationError::NotFinite { name: "Tr_velo_to_cam" });
        }
        let (fx_px, fy_px, cx_px, cy_px) = (p2[(0, 0)], p2[(1, 1)], p2[(0, 2)], p2[(1, 2)]);
        if fx_px <= 0.0 || fy_px <= 0.0 {
            return Err(CalibrationError::NotPinhole { reason: "focal lengths must be positive" });
        }
        let lower = [p2[(1, 0)], p2[(2, 0)], p2[(2, 1)]];
        if lower.iter().any(|v| v.abs() > 1e-9) || (p2[(2, 2)] - 1.0).abs() > 1e-9 {
            return Err(CalibrationError::NotPinhole {
                reason: "left 3x3 block must be upper triangular with K[2][2] = 1",
            });
        }
        if p2[(0, 1)].abs() > 1e-9 {
            return Err(CalibrationError::NotPinhole { reason: "skew must be zero" });
        }
        // t = K⁻¹ p₄ for K upper triangular with zero skew.
        let tz = p2[(2, 3)];
        let ty = (p2[(1, 3)] - cy_px * tz) / fy_px;
        let tx = (p2[(0, 3)] - cx_px * tz) / fx_px;
        let rect_rotation = rotation_from_matrix("R0_rect", r0_rect)?;
        let velo_rotation =
            rotation_from_matrix("Tr_velo_to_cam", &velo_to_cam.fixed_view::<3, 3>(0, 0).into_owned())?;
        let velo_translation = velo_to_cam.fixed_view::<3, 1>(0, 3).into_owned();
        let cam0_from_velo = Isometry3::from_parts(Translation3::from(velo_translation), velo_rotation);
        let rect_from_cam0 = Isometry3::from_parts(Translation3::identity(), rect_rotation);
        let cam2_from_rect = Isometry3::translation(tx, ty, tz);
        Ok(Self {
            camera_id,
            intrinsics: CameraIntrinsics { fx_px, fy_px, cx_px, cy_px, width_px, height_px },
            camera_from_lidar: cam2_from_rect * rect_from_cam0 * cam0_from_velo,
        })
    }

    /// Projects a point in the camera's optical frame to pixels; `None` when the point is not
    /// in front of the camera (`z <= min_depth_m`).
    pub fn project_camera_point(
        &self,
        point_in_camera: &Point3<f64>,
        min_depth_m: f64,
    ) -> Option<Point2<f64>> {
        let z = point_in_camera.z;
        if z.is_nan() || z <= min_depth_m {
            return None;
        }
        let k = &self.intrinsics;
        Some(Point2::new(
            k.fx_px * point_in_camera.x / z + k.cx_px,
            k.fy_px * point_in_camera.y / z + k.cy_px,
        ))
    }

    /// Projects a point in the lidar frame to pixels; `None` when it is behind the camera.
    pub fn project_lidar_point(&self, point_in_lidar: &Point3<f64>, min_depth_m: f64) -> Option<Point2<f64>> {
        self.project_camera_point(&(self.camera_from_lidar * point_in_lidar), min_depth_m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// KITTI object 000000's `P2`, `R0_rect` and `Tr_velo_to_cam`, row-major, from its calib file.
    const P2: [f64; 12] = [
        7.070493e2,
        0.0,
        6.040814e2,
        4.575831e1,
        0.0,
        7.070493e2,
        1.805066e2,
        -3.454157e-1,
        0.0,
        0.0,
        1.0,
        4.981016e-3,
    ];
    const R0_RECT: [f64; 9] = [
        9.999128e-1,
        1.009263e-2,
        -8.511932e-3,
        -1.012729e-2,
        9.999406e-1,
        -4.037671e-3,
        8.470675e-3,
        4.123522e-3,
        9.999556e-1,
    ];
    const TR_VELO_TO_CAM: [f64; 12] = [
        6.927964e-3,
        -9.999722e-1,
        -2.757829e-3,
        -2.457729e-2,
        -1.162982e-3,
        2.749836e-3,
        -9.999955e-1,
        -6.127237e-2,
        9.999753e-1,
        6.931141e-3,
        -1.143899e-3,
        -3.321029e-1,
    ];

    fn matrices() -> (Matrix3x4<f64>, Matrix3<f64>, Matrix3x4<f64>) {
        (
            Matrix3x4::from_row_slice(&P2),
            Matrix3::from_row_slice(&R0_RECT),
            Matrix3x4::from_row_slice(&TR_VELO_TO_CAM),
        )
    }

    fn kitti_000000() -> CameraCalibration {
        let (p2, r0, tr) = matrices();
        CameraCalibration::from_kitti(2, &p2, &r0, &tr, 1224, 370).unwrap()
    }

    #[test]
    fn decomposition_reproduces_the_kitti_projection_chain() {
        let calib = kitti_000000();
        // P2 · R0 · Tr · x for x = (10, 1, -1) in the velodyne frame, straight from the matrices.
        let (p2, r0, tr) = matrices();
        let x = nalgebra::Vector4::new(10.0, 1.0, -1.0, 1.0);
        let rect = r0 * (tr * x);
        let uvw = p2 * nalgebra::Vector4::new(rect.x, rect.y, rect.z, 1.0);
        let expected = (uvw.x / uvw.z, uvw.y / uvw.z);
        let got = calib.project_lidar_point(&Point3::new(10.0, 1.0, -1.0), 0.1).unwrap();
        // The rotations are re-orthonormalised, which moves pixels by far less than 0.05 px.
        assert!((got.x - expected.0).abs() < 0.05, "{} vs {}", got.x, expected.0);
        assert!((got.y - expected.1).abs() < 0.05, "{} vs {}", got.y, expected.1);
    }

    #[test]
    fn points_behind_the_camera_do_not_project() {
        let calib = kitti_000000();
        assert!(calib.project_lidar_point(&Point3::new(-5.0, 0.0, 0.0), 0.1).is_none());
    }

    #[test]
    fn a_wrong_rotation_is_rejected_by_name() {
        let p2 = Matrix3x4::new(700.0, 0.0, 600.0, 0.0, 0.0, 700.0, 180.0, 0.0, 0.0, 0.0, 1.0, 0.0);
        let r0 = Matrix3::identity() * 2.0;
        let tr = Matrix3x4::identity();
        let err = CameraCalibration::from_kitti(2, &p2, &r0, &tr, 100, 100).unwrap_err();
        assert!(matches!(err, CalibrationError::NotRotation { name: "R0_rect", .. }), "{err}");
    }

    #[test]
    fn nan_in_p2_is_rejected() {
        let mut p2 = Matrix3x4::new(700.0, 0.0, 600.0, 0.0, 0.0, 700.0, 180.0, 0.0, 0.0, 0.0, 1.0, 0.0);
        p2[(0, 0)] = f64::NAN;
        let err = CameraCalibration::from_kitti(2, &p2, &Matrix3::identity(), &Matrix3x4::identity(), 1, 1);
        assert_eq!(err.unwrap_err(), CalibrationError::NotFinite { name: "P2" });
    }
}
