//! Camera-lidar fusion and 3D multi-object tracking.
//!
//! # Role
//! The stage between detection and planning: it gives lidar objects a camera class, then follows
//! the objects over time with stable identities and velocity estimates.
//!
//! # Inputs
//! - Lidar objects ([`pitsense_types::Detection3d`], frame [`pitsense_types::FrameId::Lidar`],
//!   class [`pitsense_types::UNKNOWN_CLASS`], source [`pitsense_types::ObjectSource::Lidar`]).
//! - Camera detections ([`pitsense_types::Detection2d`], frame
//!   [`pitsense_types::FrameId::ImagePixels`]) and the camera's
//!   [`pitsense_types::CameraCalibration`].
//! - Optionally, the truck's pose per frame ([`pitsense_types::EgoState`]) so that tracks are
//!   kept in the site frame.
//!
//! # Outputs
//! - [`camera_lidar::FusionOutput`]: one 3D object per lidar object (fused ones carry the camera
//!   class and score), the projected image rectangle of each, and the camera detections nothing
//!   matched.
//! - [`pitsense_types::Track`]s from [`tracker::Tracker`], sorted by `track_id`.
//!
//! # Modules
//! - [`camera_lidar`]: box projection and IoU-based optimal camera-lidar association.
//! - [`geometry`]: oriented 3D boxes, exact 3D / bird's-eye-view IoU and GIoU, the KITTI
//!   rectified-camera box convention.
//! - [`kalman`]: the constant-velocity Kalman filter and the box update shared by all models.
//! - [`ctrv`]: the constant turn rate and velocity extended Kalman filter (vehicles).
//! - [`motion`]: the per-class choice between the two.
//! - [`association`]: gated assignment (Hungarian / Kuhn-Munkres, greedy) and the tracker's
//!   similarity metrics.
//! - [`tracker`]: the per-class AB3DMOT-style tracker (Weng et al., "3D Multi-Object Tracking: A
//!   Baseline and New Evaluation Metrics", IROS 2020).
//!
//! Every stage is a plain struct built from a validated config (`new(config)`), with no I/O and
//! no clock reads; outputs depend only on inputs (bit-identical on replay).

pub mod association;
pub mod camera_lidar;
pub mod ctrv;
pub mod geometry;
pub mod kalman;
pub mod motion;
pub mod tracker;

pub use association::{AssociationMethod, AssociationMetric};
pub use camera_lidar::{CameraLidarFusion, CameraMatch, FusionConfig, FusionOutput, project_box};
pub use ctrv::{CtrvKalmanConfig, CtrvKalmanFilter};
pub use geometry::{BoxOverlap, OrientedBox, box_overlap, giou_3d, iou_3d};
pub use kalman::{BoxFilterCore, CvKalmanConfig, CvKalmanFilter, KalmanError};
pub use motion::{MotionFilter, MotionModel};
pub use tracker::{ClassGating, ClassTrackerConfig, EgoOutputFrame, Tracker, TrackerConfig, UpdateReport};
