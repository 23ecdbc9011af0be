//! `objects.jsonl`: the fused object list, one JSON line per frame.
//!
//! Shape: `{"frame": "000000", "seq": 0, "stamp_ns": 0, "objects": [{"track_id": 1,
//! "class": "person", "score": 0.81, "center_m": [x, y, z], "size_m": [l, w, h],
//! "yaw_rad": 0.1, "source": "fused"}]}`, geometry in the lidar frame (in the site frame when
//! the replay has the truck's pose, `replay.ego_pose_site`). `source` is `fused`, `lidar`,
//! `camera`, or `v2x` for an object seen only through V2X in that frame. Numbers are rounded
//! (1 mm, 1e-4 rad, 1e-4 score) so that the file is stable and readable; the same input gives
//! the same bytes.

use pitsense_types::{ObjectSource, Track};
use serde::Serialize;

/// One object of a frame line.
#[derive(Debug, Serialize)]
pub struct ObjectRecord<'a> {
    /// Track identity.
    pub track_id: u64,
    /// Class label.
    pub class: &'a str,
    /// Confidence, 0..1.
    pub score: f64,
    /// Box centre, metres, lidar frame (site frame with an ego pose).
    pub center_m: [f64; 3],
    /// Length, width, height, metres.
    pub size_m: [f64; 3],
    /// Heading about the lidar z axis, radians.
    pub yaw_rad: f64,
    /// Supporting sensors.
    pub source: ObjectSource,
}

/// One line of `objects.jsonl`.
#[derive(Debug, Serialize)]
pub struct FrameRecord<'a> {
    /// Frame name in the dataset.
    pub frame: &'a str,
    /// Frame sequence number (0-based, in replay order).
    pub seq: u64,
    /// Frame time of validity, ns.
    pub stamp_ns: u64,
    /// Published tracks.
    pub objects: Vec<ObjectRecord<'a>>,
    /// Set on a frame published in a degraded mode (`lidar_lost`: no lidar in it); absent
    /// otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub degraded: Option<&'static str>,
}

fn round(value: f64, step: f64) -> f64 {
    let rounded = (value / step).round() * step;
    // Avoid "-0.0" in the output.
    if rounded == 0.0 { 0.0 } else { rounded }
}

impl<'a> FrameRecord<'a> {
    /// Builds the line for one frame from the tracker's output.
    pub fn new(frame: &'a str, seq: u64, stamp_ns: u64, tracks: &'a [Track]) -> Self {
        let objects = tracks
            .iter()
            .map(|track| {
                let state = &track.state;
                ObjectRecord {
                    track_id: track.track_id,
                    class: &track.class_label,
                    score: round(f64::from(track.score), 1e-4),
                    center_m: [state.center_m.x, state.center_m.y, state.center_m.z].map(|v| round(v, 1e-3)),
                    size_m: [state.size_m.x, state.size_m.y, state.size_m.z].map(|v| round(v, 1e-3)),
                    yaw_rad: round(state.yaw_rad, 1e-4),
                    source: track.source,
                }
            })
            .collect();
        Self { frame, seq, stamp_ns, objects, degraded: None }
    }
}
