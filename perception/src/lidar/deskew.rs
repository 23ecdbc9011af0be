//! Motion compensation ("deskew") of one lidar rotation from the ego motion.
//!
//! A spinning lidar measures its points over a whole rotation (100 ms at 10 Hz) while the truck
//! moves: at 15 m/s the first and last points of a rotation are taken from places 1.5 m apart,
//! so a wall ahead comes out with a step at the cut and a tilt across it. Deskewing moves every
//! point into the lidar frame at one **reference time**, the cloud's `header.stamp_ns`.
//!
//! **Time of a point.** Convention: the stamp is the time of the rotation's last point, when the
//! beam comes back to the cut azimuth `φc` ([`DeskewConfig::cut_azimuth_rad`]). A point at
//! azimuth `φ = atan2(y, x)` lies `Δφ = (φc − φ) mod 2π` past the cut for a clockwise sensor
//! (`(φ − φc) mod 2π` for a counter-clockwise one) and was measured at
//! `Δt = −(1 − Δφ / 2π) · T` relative to the stamp, `T` being
//! [`DeskewConfig::rotation_period_s`]. Drivers that know each firing's time (the Velodyne
//! rotation assembler's `point_time_us`, Ouster's column timestamps) pass `Δt` per point
//! instead ([`PointTimes::Offsets`]); times after the stamp (`Δt > 0`) are allowed too.
//!
//! **Motion.** Constant speed `v` and yaw rate `ω` over the rotation (CTRV), planar (no pitch,
//! roll or vertical motion). The ego frame at time `Δt`, seen from the ego frame at the stamp,
//! has turned by `θ = ω·Δt` and moved to
//! `t = v·Δt · (sin θ / θ, (1 − cos θ) / θ)` (the limit `(v·Δt, 0)` as `ω → 0`). With the lidar
//! at `m = (mx, my)` in the ego frame and its axes parallel to the ego axes, a point `p`
//! measured at `Δt` becomes `R(θ)·(p + m) + t − m` in x-y; `z` is kept.

use std::f32::consts::PI as PI_F32;

use pitsense_types::{EgoState, PointCloud, PointXyzi};

use super::config::{DeskewConfig, RotationDirection};
use super::ground::fast_atan2;

/// Largest ego speed accepted, m/s (a haul truck tops out near 18 m/s).
pub const MAX_EGO_SPEED_MPS: f64 = 100.0;

/// Largest ego yaw rate accepted, rad/s.
pub const MAX_EGO_YAW_RATE_RADPS: f64 = 10.0;

/// Largest magnitude of a per-point time offset accepted, seconds; points with larger or
/// non-finite offsets are left where they are and counted.
pub const MAX_TIME_OFFSET_S: f32 = 1.0;

/// Why a deskew could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeskewError {
    /// The ego state's speed or yaw rate is not finite or outside
    /// `±`[`MAX_EGO_SPEED_MPS`] / `±`[`MAX_EGO_YAW_RATE_RADPS`].
    #[error(
        "ego state unusable for deskew: speed {speed_mps} m/s (accepted ±{MAX_EGO_SPEED_MPS}), yaw rate \
         {yaw_rate_radps} rad/s (accepted ±{MAX_EGO_YAW_RATE_RADPS})"
    )]
    EgoState {
        /// The speed given, m/s.
        speed_mps: f64,
        /// The yaw rate given, rad/s.
        yaw_rate_radps: f64,
    },
    /// Per-point time offsets were given for a different number of points.
    #[error("{offsets} per-point time offsets given for {points} points")]
    TimeOffsetsLength {
        /// Number of points.
        points: usize,
        /// Number of offsets.
        offsets: usize,
    },
}

/// The ego motion assumed constant over one rotation (CTRV, planar).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EgoMotion {
    /// Longitudinal speed, m/s, positive forward.
    pub speed_mps: f64,
    /// Yaw rate, rad/s, positive counter-clockwise.
    pub yaw_rate_radps: f64,
}

impl EgoMotion {
    /// The speed and yaw rate of `ego` (its pose and stamp are not used: the motion is taken as
    /// constant over the rotation).
    ///
    /// # Errors
    /// [`DeskewError::EgoState`] when either is non-finite or implausibly large.
    pub fn from_ego_state(ego: &EgoState) -> Result<Self, DeskewError> {
        let (speed_mps, yaw_rate_radps) = (ego.speed_mps, ego.yaw_rate_radps);
        if speed_mps.is_finite()
            && yaw_rate_radps.is_finite()
            && speed_mps.abs() <= MAX_EGO_SPEED_MPS
            && yaw_rate_radps.abs() <= MAX_EGO_YAW_RATE_RADPS
        {
            Ok(Self { speed_mps, yaw_rate_radps })
        } else {
            Err(DeskewError::EgoState { speed_mps, yaw_rate_radps })
        }
    }
}

/// Where each point's measurement time comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PointTimes<'a> {
    /// From its azimuth, with the sweep model of [`DeskewConfig`] (module documentation).
    FromAzimuth,
    /// Given per point by the driver: time relative to the stamp, seconds (negative: before),
    /// parallel to the points.
    Offsets(&'a [f32]),
}

/// What one deskew did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeskewStats {
    /// Points moved to the reference time.
    pub moved: usize,
    /// Points left unmoved because their time offset was non-finite or beyond
    /// `±`[`MAX_TIME_OFFSET_S`].
    pub without_time: usize,
}

/// Time of a point relative to the stamp from its azimuth (module documentation), seconds.
#[inline]
pub fn time_offset_from_azimuth_s(point: &PointXyzi, config: &DeskewConfig) -> f32 {
    let azimuth = fast_atan2(point.y_m, point.x_m);
    let cut = config.cut_azimuth_rad as f32;
    let swept = match config.rotation_direction {
        RotationDirection::Clockwise => cut - azimuth,
        RotationDirection::CounterClockwise => azimuth - cut,
    };
    // Both angles are in [-π, π], so one turn added or taken off brings `swept` into [0, 2π).
    let swept = if swept < 0.0 {
        swept + 2.0 * PI_F32
    } else if swept >= 2.0 * PI_F32 {
        swept - 2.0 * PI_F32
    } else {
        swept
    };
    let fraction = (swept / (2.0 * PI_F32)).clamp(0.0, 1.0);
    -(1.0 - fraction) * config.rotation_period_s as f32
}

/// The pose of the ego frame `dt_s` after the reference time, in the reference ego frame:
/// `(cos θ, sin θ, tx, ty)`.
#[inline]
fn ego_pose_at(motion: &EgoMotion, dt_s: f64) -> (f64, f64, f64, f64) {
    let theta = motion.yaw_rate_radps * dt_s;
    let distance = motion.speed_mps * dt_s;
    if theta.abs() < 0.5 {
        // Taylor series (a 10 Hz rotation at 5 rad/s turns 0.5 rad): sin θ / θ to θ⁸ and cos θ
        // to θ¹⁰, truncation errors below 3e-11; no division, no libm call.
        // (Products with reciprocals: the compiler keeps divisions by constants as divisions.)
        let t2 = theta * theta;
        let sin_over_theta = 1.0
            - t2 * (1.0 / 6.0)
                * (1.0 - t2 * (1.0 / 20.0) * (1.0 - t2 * (1.0 / 42.0) * (1.0 - t2 * (1.0 / 72.0))));
        let one_minus_cos_over_t2 = 0.5
            * (1.0
                - t2 * (1.0 / 12.0)
                    * (1.0 - t2 * (1.0 / 30.0) * (1.0 - t2 * (1.0 / 56.0) * (1.0 - t2 * (1.0 / 90.0)))));
        let (sin, cos) = (theta * sin_over_theta, 1.0 - t2 * one_minus_cos_over_t2);
        // t = v·Δt · (sin θ / θ, (1 − cos θ) / θ).
        (cos, sin, distance * sin_over_theta, distance * theta * one_minus_cos_over_t2)
    } else {
        let (sin, cos) = theta.sin_cos();
        (cos, sin, distance * sin / theta, distance * (1.0 - cos) / theta)
    }
}

/// Moves `point`, measured `dt_s` from the reference time, into the reference lidar frame.
#[inline]
fn move_point(point: &mut PointXyzi, motion: &EgoMotion, dt_s: f64, lever_arm_m: [f64; 2]) {
    let (cos, sin, tx, ty) = ego_pose_at(motion, dt_s);
    let x = f64::from(point.x_m) + lever_arm_m[0];
    let y = f64::from(point.y_m) + lever_arm_m[1];
    point.x_m = (cos * x - sin * y + tx - lever_arm_m[0]) as f32;
    point.y_m = (sin * x + cos * y + ty - lever_arm_m[1]) as f32;
}

/// [`move_point`] in `f32` for small turns (`|θ| < 0.5`), the common case: Taylor series to
/// θ⁶ (truncation below 1e-8) and single precision (about 10 µm at 80 m), which the compiler
/// turns into a short branch-free sequence.
#[inline]
fn move_point_small_turn(
    point: &mut PointXyzi,
    yaw_rate_radps: f32,
    speed_mps: f32,
    dt_s: f32,
    lever_arm_m: [f32; 2],
) {
    let theta = yaw_rate_radps * dt_s;
    let distance = speed_mps * dt_s;
    let t2 = theta * theta;
    let sin_over_theta = 1.0 - t2 * (1.0 / 6.0) * (1.0 - t2 * (1.0 / 20.0) * (1.0 - t2 * (1.0 / 42.0)));
    let one_minus_cos_over_t2 =
        0.5 * (1.0 - t2 * (1.0 / 12.0) * (1.0 - t2 * (1.0 / 30.0) * (1.0 - t2 * (1.0 / 56.0))));
    let (sin, cos) = (theta * sin_over_theta, 1.0 - t2 * one_minus_cos_over_t2);
    let (tx, ty) = (distance * sin_over_theta, distance * theta * one_minus_cos_over_t2);
    let x = point.x_m + lever_arm_m[0];
    let y = point.y_m + lever_arm_m[1];
    point.x_m = cos * x - sin * y + tx - lever_arm_m[0];
    point.y_m = sin * x + cos * y + ty - lever_arm_m[1];
}

/// Moves `points` with times from the azimuth model; returns how many.
fn deskew_from_azimuth<'a>(
    points: impl Iterator<Item = &'a mut PointXyzi>,
    motion: EgoMotion,
    config: &DeskewConfig,
) -> usize {
    let mut moved = 0;
    if (motion.yaw_rate_radps * config.rotation_period_s).abs() < 0.5 {
        let (yaw_rate, speed) = (motion.yaw_rate_radps as f32, motion.speed_mps as f32);
        let lever_arm_m = config.lidar_position_in_ego_m.map(|v| v as f32);
        for point in points {
            let dt_s = time_offset_from_azimuth_s(point, config);
            move_point_small_turn(point, yaw_rate, speed, dt_s, lever_arm_m);
            moved += 1;
        }
    } else {
        for point in points {
            let dt_s = time_offset_from_azimuth_s(point, config);
            move_point(point, &motion, f64::from(dt_s), config.lidar_position_in_ego_m);
            moved += 1;
        }
    }
    moved
}

/// Deskews `points` (lidar frame, finite) in place: each is moved into the lidar frame at the
/// reference time (module documentation).
///
/// # Errors
/// [`DeskewError::TimeOffsetsLength`] when `times` is [`PointTimes::Offsets`] of another length
/// than `points` (nothing is moved).
pub fn deskew_points(
    points: &mut [PointXyzi],
    motion: EgoMotion,
    times: PointTimes<'_>,
    config: &DeskewConfig,
) -> Result<DeskewStats, DeskewError> {
    let lever_arm_m = config.lidar_position_in_ego_m;
    let mut stats = DeskewStats::default();
    match times {
        PointTimes::FromAzimuth => stats.moved = deskew_from_azimuth(points.iter_mut(), motion, config),
        PointTimes::Offsets(offsets) => {
            if offsets.len() != points.len() {
                return Err(DeskewError::TimeOffsetsLength { points: points.len(), offsets: offsets.len() });
            }
            for (point, &dt_s) in points.iter_mut().zip(offsets) {
                if dt_s.is_finite() && dt_s.abs() <= MAX_TIME_OFFSET_S {
                    move_point(point, &motion, f64::from(dt_s), lever_arm_m);
                    stats.moved += 1;
                } else {
                    stats.without_time += 1;
                }
            }
        }
    }
    Ok(stats)
}

/// Deskews a whole cloud in place with times from the azimuth model (the convenience form of
/// [`deskew_points`]). Non-finite points are left as they are.
///
/// # Errors
/// [`DeskewError::EgoState`] when the ego speed or yaw rate is unusable (nothing is moved).
pub fn deskew(
    cloud: &mut PointCloud,
    ego: &EgoState,
    config: &DeskewConfig,
) -> Result<DeskewStats, DeskewError> {
    let motion = EgoMotion::from_ego_state(ego)?;
    let moved = deskew_from_azimuth(cloud.points.iter_mut().filter(|p| p.is_finite()), motion, config);
    Ok(DeskewStats { moved, without_time: 0 })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.
mod tests {
    use super::*;

    fn point(x: f32, y: f32) -> PointXyzi {
        PointXyzi { x_m: x, y_m: y, z_m: 0.5, intensity: 0.2 }
    }

    #[test]
    fn time_from_azimuth_follows_the_sweep() {
        let clockwise = DeskewConfig::default(); // cut behind (π), 0.1 s
        // Straight ahead is half a turn past a cut behind: 50 ms before the stamp.
        assert!((time_offset_from_azimuth_s(&point(10.0, 0.0), &clockwise) + 0.05).abs() < 1e-6);
        // Clockwise from behind: left (π/2) comes a quarter turn after the cut, right (−π/2)
        // three quarters.
        assert!((time_offset_from_azimuth_s(&point(0.0, 10.0), &clockwise) + 0.075).abs() < 1e-6);
        assert!((time_offset_from_azimuth_s(&point(0.0, -10.0), &clockwise) + 0.025).abs() < 1e-6);
        let counter = DeskewConfig {
            rotation_direction: RotationDirection::CounterClockwise,
            cut_azimuth_rad: 0.0,
            ..DeskewConfig::default()
        };
        assert!((time_offset_from_azimuth_s(&point(0.0, 10.0), &counter) + 0.075).abs() < 1e-6);
        assert!((time_offset_from_azimuth_s(&point(-10.0, 0.0), &counter) + 0.05).abs() < 1e-6);
    }

    #[test]
    fn series_and_exact_poses_agree() {
        for yaw_rate in [-9.0, -1.0, -0.01, 0.0, 1e-9, 0.3, 4.99, 5.01, 9.0] {
            let motion = EgoMotion { speed_mps: 17.0, yaw_rate_radps: yaw_rate };
            for dt in [-0.1, -0.05, -0.0999, 0.02] {
                let (cos, sin, tx, ty) = ego_pose_at(&motion, dt);
                let theta: f64 = yaw_rate * dt;
                let exact = if theta == 0.0 {
                    (1.0, 0.0, 17.0 * dt, 0.0)
                } else {
                    let r = 17.0 / yaw_rate;
                    (theta.cos(), theta.sin(), r * theta.sin(), r * (1.0 - theta.cos()))
                };
                assert!((cos - exact.0).abs() < 1e-10 && (sin - exact.1).abs() < 1e-10, "{yaw_rate} {dt}");
                assert!((tx - exact.2).abs() < 1e-9 && (ty - exact.3).abs() < 1e-9, "{yaw_rate} {dt}");
            }
        }
    }

    #[test]
    fn straight_motion_by_hand() {
        // 10 m/s, no turn: a point measured 50 ms before the stamp was seen from 0.5 m behind.
        let motion = EgoMotion { speed_mps: 10.0, yaw_rate_radps: 0.0 };
        let mut points = [point(20.5, 1.0)];
        let stats =
            deskew_points(&mut points, motion, PointTimes::Offsets(&[-0.05]), &DeskewConfig::default())
                .unwrap();
        assert_eq!(stats, DeskewStats { moved: 1, without_time: 0 });
        assert!((points[0].x_m - 20.0).abs() < 1e-5 && (points[0].y_m - 1.0).abs() < 1e-5, "{:?}", points[0]);
        assert_eq!(points[0].z_m, 0.5);
    }

    #[test]
    fn pure_turn_with_lever_arm_by_hand() {
        // Turning on the spot at 1 rad/s; 0.1 s before the stamp the ego was turned by θ = −0.1
        // rad. The lidar sits 2 m ahead of the rear axle, so the point is (12, 0) in the ego
        // frame of its time, R(θ)·(12, 0) in the reference ego frame, and 2 m less in x in the
        // reference lidar frame.
        let motion = EgoMotion { speed_mps: 0.0, yaw_rate_radps: 1.0 };
        let config = DeskewConfig { lidar_position_in_ego_m: [2.0, 0.0], ..DeskewConfig::default() };
        let mut points = [point(10.0, 0.0)];
        deskew_points(&mut points, motion, PointTimes::Offsets(&[-0.1]), &config).unwrap();
        let (sin, cos) = (-0.1_f64).sin_cos();
        let expected = [cos * 12.0 - 2.0, sin * 12.0];
        assert!((f64::from(points[0].x_m) - expected[0]).abs() < 1e-5, "{:?} vs {expected:?}", points[0]);
        assert!((f64::from(points[0].y_m) - expected[1]).abs() < 1e-5, "{:?} vs {expected:?}", points[0]);
    }

    #[test]
    fn bad_ego_and_bad_offsets_are_refused_or_counted() {
        let mut ego = EgoState {
            header: pitsense_types::Header { stamp_ns: 0, frame: pitsense_types::FrameId::Site, seq: 0 },
            site_from_truck: pitsense_types::nalgebra::Isometry3::identity(),
            speed_mps: f64::NAN,
            yaw_rate_radps: 0.0,
            accel_mps2: 0.0,
        };
        assert!(matches!(EgoMotion::from_ego_state(&ego), Err(DeskewError::EgoState { .. })));
        ego.speed_mps = 1.0e4;
        assert!(EgoMotion::from_ego_state(&ego).is_err());
        let motion = EgoMotion { speed_mps: 10.0, yaw_rate_radps: 0.1 };
        let mut points = [point(5.0, 0.0), point(6.0, 0.0)];
        let err = deskew_points(&mut points, motion, PointTimes::Offsets(&[0.0]), &DeskewConfig::default());
        assert_eq!(err, Err(DeskewError::TimeOffsetsLength { points: 2, offsets: 1 }));
        let stats = deskew_points(
            &mut points,
            motion,
            PointTimes::Offsets(&[f32::NAN, 5.0]),
            &DeskewConfig::default(),
        )
        .unwrap();
        assert_eq!(stats, DeskewStats { moved: 0, without_time: 2 });
        assert_eq!(points, [point(5.0, 0.0), point(6.0, 0.0)]);
    }
}
