//! The replay's Rerun recording (`replay.rrd`): what a field engineer opens in the viewer.
//!
//! Entities, on the `frame` sequence timeline:
//! - `world/lidar/points`: the raw point cloud (lidar frame), grey by intensity;
//! - `world/lidar/obstacles`: the non-ground points kept by the lidar pipeline, orange;
//! - `world/tracks`: published tracks as oriented 3D boxes labelled `#<track_id> <class>`;
//! - `camera/image`: the camera image (PNG as recorded);
//! - `camera/image/detections`: detector boxes labelled `<class> <score>`.

use std::path::Path;

use anyhow::Context;
use pitsense_fusion::tracker::UpdateReport;
use pitsense_perception::lidar::LidarStats;
use pitsense_types::{Detection2d, PointXyzi, Track};
use rerun::{
    Angle, Boxes2D, Boxes3D, Color, EncodedImage, Points3D, RecordingStream, RecordingStreamBuilder,
    RotationAxisAngle, Scalars,
};

/// Writes the replay recording.
pub struct ReplayRecording {
    stream: RecordingStream,
    point_stride: usize,
}

impl std::fmt::Debug for ReplayRecording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayRecording").finish_non_exhaustive()
    }
}

impl ReplayRecording {
    /// Creates `path` (overwriting it). `point_stride` keeps every n-th point.
    ///
    /// # Errors
    /// When the file cannot be created.
    pub fn create(path: &Path, point_stride: usize) -> anyhow::Result<Self> {
        let stream = RecordingStreamBuilder::new("pitsense_replay")
            .save(path)
            .with_context(|| format!("cannot create Rerun recording `{}`", path.display()))?;
        Ok(Self { stream, point_stride: point_stride.max(1) })
    }

    /// Logs one frame. `image_bytes` (the encoded image as recorded, when the source kept
    /// it) is moved into the recording, not copied.
    ///
    /// # Errors
    /// When Rerun rejects a log call (closed sink).
    pub fn log_frame(
        &self,
        seq: u64,
        points: &[PointXyzi],
        obstacle_points: &[PointXyzi],
        image_bytes: Option<Vec<u8>>,
        detections: &[Detection2d],
        tracks: &[Track],
    ) -> anyhow::Result<()> {
        let rec = &self.stream;
        rec.set_time_sequence("frame", i64::try_from(seq).unwrap_or(i64::MAX));
        let positions = |points: &[PointXyzi]| -> Vec<[f32; 3]> {
            points.iter().step_by(self.point_stride).map(|p| [p.x_m, p.y_m, p.z_m]).collect()
        };
        let greys: Vec<Color> = points
            .iter()
            .step_by(self.point_stride)
            .map(|p| {
                let level = (60.0 + 195.0 * p.intensity.clamp(0.0, 1.0)) as u8;
                Color::from_rgb(level, level, level)
            })
            .collect();
        rec.log(
            "world/lidar/points",
            &Points3D::new(positions(points)).with_colors(greys).with_radii([0.02]),
        )?;
        rec.log(
            "world/lidar/obstacles",
            &Points3D::new(positions(obstacle_points))
                .with_colors([Color::from_rgb(255, 140, 0)])
                .with_radii([0.04]),
        )?;
        let centers: Vec<[f32; 3]> = tracks
            .iter()
            .map(|t| [t.state.center_m.x as f32, t.state.center_m.y as f32, t.state.center_m.z as f32])
            .collect();
        let sizes: Vec<[f32; 3]> = tracks
            .iter()
            .map(|t| [t.state.size_m.x as f32, t.state.size_m.y as f32, t.state.size_m.z as f32])
            .collect();
        let rotations: Vec<RotationAxisAngle> = tracks
            .iter()
            .map(|t| RotationAxisAngle::new([0.0, 0.0, 1.0], Angle::from_radians(t.state.yaw_rad as f32)))
            .collect();
        let labels: Vec<String> =
            tracks.iter().map(|t| format!("#{} {}", t.track_id, t.class_label)).collect();
        rec.log(
            "world/tracks",
            &Boxes3D::from_centers_and_sizes(centers, sizes)
                .with_rotation_axis_angles(rotations)
                .with_labels(labels),
        )?;
        if let Some(image_bytes) = image_bytes {
            rec.log("camera/image", &EncodedImage::from_file_contents(image_bytes))?;
        }
        let mins: Vec<[f32; 2]> = detections.iter().map(|d| [d.box_px.x1, d.box_px.y1]).collect();
        let sizes: Vec<[f32; 2]> =
            detections.iter().map(|d| [d.box_px.x2 - d.box_px.x1, d.box_px.y2 - d.box_px.y1]).collect();
        let labels: Vec<String> =
            detections.iter().map(|d| format!("{} {:.2}", d.class_label, d.score)).collect();
        rec.log("camera/image/detections", &Boxes2D::from_mins_and_sizes(mins, sizes).with_labels(labels))?;
        Ok(())
    }

    /// Logs one frame's counts as time series on the `frame` timeline: the tracker's
    /// `stats/tracker/{matched,born,deleted,rejected}` and, for a frame with a lidar scan, the
    /// pipeline's `stats/lidar/{input_points,ground_points,dust_points,obstacle_points,clusters}`.
    ///
    /// # Errors
    /// When Rerun rejects a log call (closed sink).
    pub fn log_stats(
        &self,
        seq: u64,
        tracker: &UpdateReport,
        lidar: Option<&LidarStats>,
    ) -> anyhow::Result<()> {
        let rec = &self.stream;
        rec.set_time_sequence("frame", i64::try_from(seq).unwrap_or(i64::MAX));
        let rejected = tracker.rejected_invalid + tracker.rejected_frame + tracker.v2x_rejected;
        for (name, value) in [
            ("matched", tracker.matched),
            ("born", tracker.born),
            ("deleted", tracker.deleted),
            ("rejected", rejected),
        ] {
            rec.log(format!("stats/tracker/{name}"), &Scalars::single(value as f64))?;
        }
        if let Some(lidar) = lidar {
            for (name, value) in [
                ("input_points", lidar.input_points),
                ("ground_points", lidar.ground_points),
                ("dust_points", lidar.dust_points),
                ("obstacle_points", lidar.obstacle_points),
                ("clusters", lidar.clusters),
            ] {
                rec.log(format!("stats/lidar/{name}"), &Scalars::single(value as f64))?;
            }
        }
        Ok(())
    }

    /// Flushes everything to disk.
    ///
    /// # Errors
    /// When the file sink fails.
    pub fn finish(self) -> anyhow::Result<()> {
        self.stream.flush_blocking().context("cannot flush the Rerun recording")?;
        Ok(())
    }
}
