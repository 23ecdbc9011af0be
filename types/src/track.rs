use nalgebra::{Matrix6, Point3, Vector3};
use serde::{Deserialize, Serialize};

use crate::{Header, ObjectSource};

/// The kinematic state a tracker reports for one object, whatever its internal motion model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackState {
    /// Box centre, metres, in the track's frame.
    pub center_m: Point3<f64>,
    /// Velocity of the centre, m/s, in the track's frame.
    pub velocity_mps: Vector3<f64>,
    /// Heading about the up axis, radians in `(-π, π]`.
    pub yaw_rad: f64,
    /// Length, width, height, metres.
    pub size_m: Vector3<f64>,
}

/// One tracked object as published by the tracker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Track {
    /// Time of the state and the frame of the geometry (the lidar or ego frame, or the site
    /// frame when ego motion is given).
    pub header: Header,
    /// Identity, unique for the tracker's lifetime, never reused.
    pub track_id: u64,
    /// Estimated state.
    pub state: TrackState,
    /// 6×6 covariance of `(x, y, z, vx, vy, vz)`, in m² , m²/s and m²/s²; symmetric positive
    /// definite.
    pub covariance: Matrix6<f64>,
    /// Class label (majority of the camera classes matched so far, else `unknown`).
    pub class_label: String,
    /// Confidence in `0.0..=1.0`.
    pub score: f32,
    /// Frames since birth.
    pub age_frames: u32,
    /// Frames in which a measurement updated the track.
    pub hits: u32,
    /// Frames since the last update (0 when updated in this frame).
    pub frames_since_update: u32,
    /// Which sensors supported the last update.
    pub source: ObjectSource,
}
