//! `pitsense-sim track` and `pitsense-sim eval-tracking`: the tracker on public 3D detections
//! (AB3DMOT's PointRCNN files for KITTI tracking) and its scoring by the KITTI tracking
//! evaluation of [`crate::kitti_tracking`]. They live here, not in the truck binary: the truck
//! carries no simulator or evaluator.
//!
//! Boxes arrive in KITTI's rectified camera frame (x right, y down, z forward, bottom centre,
//! `rot_y` about y). They are turned into the tracker's x-forward / y-left / z-up convention with
//! `OrientedBox::from_kitti_rect_camera` (X = z, Y = −x, Z = −y + h/2, yaw = −rot_y − π/2) and
//! back for the result files. Frames are 0.1 s apart (KITTI's 10 Hz).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::kitti_tracking::{
    EvalReport, ImageBox, KittiBox3d, MatchMode, PointRcnnDetection, SeqmapEntry, Sequence, TrackingClass,
    TrackingObject, evaluate, read_pointrcnn_detections, read_seqmap, read_sequence_set, write_tracking_file,
};
use anyhow::{Context, bail};
use nalgebra::{Matrix3x4, Point3, Vector4};
use pitsense_fusion::geometry::OrientedBox;
use pitsense_fusion::tracker::{Tracker, TrackerConfig};
use pitsense_types::{Detection3d, FrameId, Header, ObjectSource, Track};
use tracing::warn;

/// KITTI tracking's frame period, ns (10 Hz).
const FRAME_PERIOD_NS: u64 = 100_000_000;

/// KITTI image size used to clip projected boxes (the tracking images are 1242 × 375 px; some
/// sequences are a few pixels smaller, which changes nothing at the evaluator's 25 px filter).
const IMAGE_SIZE_PX: (f64, f64) = (1242.0, 375.0);

/// Logistic function mapping PointRCNN's unbounded scores (about −1..16) into `0..1`, the
/// tracker's score range; monotonic, so the evaluator's threshold sweep is unchanged.
pub fn score_probability(raw_score: f64) -> f64 {
    1.0 / (1.0 + (-raw_score).exp())
}

/// Inverse of [`score_probability`], clamped to finite values.
pub fn score_logit(probability: f64) -> f64 {
    let p = probability.clamp(1e-9, 1.0 - 1e-9);
    (p / (1.0 - p)).ln()
}

/// The classes selected by `--class`.
pub fn classes(selection: &str) -> anyhow::Result<Vec<TrackingClass>> {
    match selection.to_ascii_lowercase().as_str() {
        "all" => Ok(vec![TrackingClass::Car, TrackingClass::Pedestrian, TrackingClass::Cyclist]),
        other => {
            Ok(vec![other.parse::<TrackingClass>().map_err(|error| anyhow::anyhow!("--class: {error}"))?])
        }
    }
}

/// One detection converted for the tracker, with what the result file needs back.
fn detection_in_tracker_frame(
    detection: &PointRcnnDetection,
    class: TrackingClass,
    stamp_ns: u64,
    seq: u64,
) -> Detection3d {
    let kitti = &detection.box_3d;
    let oriented = OrientedBox::from_kitti_rect_camera(
        kitti.h_m,
        kitti.w_m,
        kitti.l_m,
        [kitti.x_m, kitti.y_m, kitti.z_m],
        kitti.rot_y_rad,
    );
    Detection3d {
        header: Header { stamp_ns, frame: FrameId::Camera(2), seq },
        center_m: oriented.center_m,
        size_m: oriented.size_m,
        yaw_rad: oriented.yaw_rad,
        class_label: class.name().to_owned(),
        score: score_probability(detection.score) as f32,
        source: ObjectSource::Lidar,
    }
}

/// Projects a KITTI box (rect camera) with `P2` and returns its image rectangle clipped to
/// the image, or `None` when the box is not in front of the camera.
pub fn project_kitti_box(p2: &Matrix3x4<f64>, kitti: &KittiBox3d) -> Option<ImageBox> {
    let (sin, cos) = kitti.rot_y_rad.sin_cos();
    let (mut min_u, mut min_v, mut max_u, mut max_v) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (dx, dz) in [(1.0, 1.0), (1.0, -1.0), (-1.0, -1.0), (-1.0, 1.0)] {
        let (x, z) = (dx * kitti.l_m / 2.0, dz * kitti.w_m / 2.0);
        for dy in [0.0, -kitti.h_m] {
            // Rotation about the camera y axis by rot_y (KITTI devkit `computeBox3D`).
            let corner =
                Point3::new(kitti.x_m + cos * x + sin * z, kitti.y_m + dy, kitti.z_m - sin * x + cos * z);
            let image = p2 * Vector4::new(corner.x, corner.y, corner.z, 1.0);
            if image.z <= 0.1 {
                return None;
            }
            let (u, v) = (image.x / image.z, image.y / image.z);
            (min_u, min_v, max_u, max_v) = (min_u.min(u), min_v.min(v), max_u.max(u), max_v.max(v));
        }
    }
    let clipped = ImageBox {
        x1_px: min_u.clamp(0.0, IMAGE_SIZE_PX.0 - 1.0),
        y1_px: min_v.clamp(0.0, IMAGE_SIZE_PX.1 - 1.0),
        x2_px: max_u.clamp(0.0, IMAGE_SIZE_PX.0 - 1.0),
        y2_px: max_v.clamp(0.0, IMAGE_SIZE_PX.1 - 1.0),
    };
    (clipped.x2_px > clipped.x1_px && clipped.y2_px > clipped.y1_px).then_some(clipped)
}

/// Result line for one published track. Updated tracks keep their detection's 2D box and
/// observation angle (as AB3DMOT); coasting ones get the projection of their 3D box.
fn result_object(
    track: &Track,
    frame: u32,
    class: TrackingClass,
    detection: Option<&PointRcnnDetection>,
    p2: &Matrix3x4<f64>,
) -> Option<TrackingObject> {
    let oriented = OrientedBox {
        center_m: track.state.center_m,
        size_m: track.state.size_m,
        yaw_rad: track.state.yaw_rad,
    };
    let ([h_m, w_m, l_m], [x_m, y_m, z_m], rot_y_rad) = oriented.to_kitti_rect_camera();
    let box_3d = KittiBox3d { h_m, w_m, l_m, x_m, y_m, z_m, rot_y_rad };
    let (box_2d, alpha_rad) = match detection {
        Some(detection) => (detection.box_2d, detection.alpha_rad),
        None => (
            project_kitti_box(p2, &box_3d)?,
            pitsense_fusion::kalman::normalize_angle_rad(rot_y_rad - x_m.atan2(z_m)),
        ),
    };
    Some(TrackingObject {
        frame,
        track_id: i64::try_from(track.track_id).ok()?,
        object_type: class.kitti_type().to_owned(),
        truncated: 0,
        occluded: 0,
        alpha_rad,
        box_2d,
        box_3d,
        // The detector's own score scale, as AB3DMOT writes it: the evaluator averages scores
        // over a track, so a saturating mapping would reorder tracks.
        score: Some(detection.map_or_else(|| score_logit(f64::from(track.score)), |d| d.score)),
    })
}

/// Runs one tracker over one sequence of detections of several classes (association stays
/// per class: a detection only ever matches a track of its own class), as the onboard runtime
/// runs one tracker for every class, so that track ids are unique across classes in a run.
/// Returns each class's result sequence and the number of frames run.
pub fn track_sequence(
    detections: &[(TrackingClass, BTreeMap<u32, Vec<PointRcnnDetection>>)],
    entry: &SeqmapEntry,
    config: &TrackerConfig,
    p2: &Matrix3x4<f64>,
) -> anyhow::Result<(BTreeMap<TrackingClass, Sequence>, u32)> {
    let mut tracker = Tracker::new(config.clone())?;
    let mut objects: BTreeMap<TrackingClass, Vec<TrackingObject>> =
        detections.iter().map(|(class, _)| (*class, Vec::new())).collect();
    // No track outlives its last update by more than `max_age_frames` (at most 1000, checked
    // by the config), so frames past the last detection plus that margin publish nothing: a
    // seqmap count far beyond the data (a typo) must not run for hours.
    const MAX_AGE_BOUND_FRAMES: u32 = 1001;
    let seqmap_end = entry.first_frame.saturating_add(entry.frame_count);
    let data_end = detections
        .iter()
        .filter_map(|(_, frames)| frames.keys().next_back())
        .max()
        .map_or(entry.first_frame, |&last| last.saturating_add(1));
    let last_frame = seqmap_end.min(data_end.saturating_add(MAX_AGE_BOUND_FRAMES));
    for (class, frames) in detections {
        if let Some(&beyond) = frames.keys().find(|&&frame| frame >= seqmap_end || frame < entry.first_frame)
        {
            warn!(
                "sequence {}, {}: detections at frame {beyond} lie outside the seqmap's frames {}..{seqmap_end}; ignored",
                entry.name,
                class.name(),
                entry.first_frame
            );
        }
    }
    for frame in entry.first_frame..last_frame {
        let stamp_ns = u64::from(frame) * FRAME_PERIOD_NS;
        // The frame's detections, class after class in a fixed order.
        let frame_detections: Vec<(TrackingClass, &PointRcnnDetection)> = detections
            .iter()
            .flat_map(|(class, frames)| frames.get(&frame).into_iter().flatten().map(|d| (*class, d)))
            .collect();
        let boxes: Vec<Detection3d> = frame_detections
            .iter()
            .map(|(class, detection)| {
                detection_in_tracker_frame(detection, *class, stamp_ns, u64::from(frame))
            })
            .collect();
        let tracks = tracker.update(stamp_ns, &boxes);
        let updated: BTreeMap<u64, usize> = tracker.last_detection_indices().iter().copied().collect();
        for track in &tracks {
            let Ok(class) = track.class_label.parse::<TrackingClass>() else { continue };
            let Some(class_objects) = objects.get_mut(&class) else { continue };
            let detection = updated.get(&track.track_id).and_then(|&index| frame_detections.get(index));
            if let Some(object) = result_object(track, frame, class, detection.map(|(_, d)| *d), p2) {
                class_objects.push(object);
            }
        }
    }
    let sequences =
        objects.into_iter().map(|(class, objects)| (class, Sequence::from_objects(objects))).collect();
    Ok((sequences, last_frame.saturating_sub(entry.first_frame)))
}

/// What `pitsense track` needs.
#[derive(Clone, Debug)]
pub struct TrackOptions {
    /// Folder with `<Class>/<seq>.txt` PointRCNN detection files.
    pub detections: PathBuf,
    /// Seqmap file.
    pub seqmap: PathBuf,
    /// Folder with `<seq>.txt` calibration files (for projecting coasting tracks).
    pub calib: PathBuf,
    /// Output folder: `<class>/data/<seq>.txt`.
    pub out: PathBuf,
    /// Classes to run.
    pub classes: Vec<TrackingClass>,
    /// Tracker configuration.
    pub tracker: TrackerConfig,
}

/// Runs `pitsense track`: one tracker per sequence for all the selected classes (ids unique
/// across classes); returns the number of frames processed per class.
///
/// # Errors
/// Unreadable seqmap, detection or calibration files, or an unwritable output folder.
/// Malformed detection lines are reported (file and line) and skipped.
pub fn run_track(options: &TrackOptions) -> anyhow::Result<BTreeMap<String, u64>> {
    let seqmap = read_seqmap(&options.seqmap)?;
    for warning in &seqmap.warnings {
        warn!("{warning}");
    }
    let mut out_dirs = Vec::new();
    for &class in &options.classes {
        let out_dir = options.out.join(class.name()).join("data");
        std::fs::create_dir_all(&out_dir)
            .with_context(|| format!("cannot create `{}`", out_dir.display()))?;
        out_dirs.push((class, out_dir));
    }
    let mut frames: BTreeMap<String, u64> =
        options.classes.iter().map(|class| (class.name().to_owned(), 0)).collect();
    for entry in &seqmap.data {
        let mut detections = Vec::new();
        for &class in &options.classes {
            let path = options.detections.join(class.kitti_type()).join(format!("{}.txt", entry.name));
            let parsed = read_pointrcnn_detections(&path)?;
            for warning in &parsed.warnings {
                warn!("skipped detection: {warning}");
            }
            detections.push((class, parsed.data));
        }
        let calib_path = options.calib.join(format!("{}.txt", entry.name));
        let calib = pitsense_perception::kitti::read_calib(&calib_path)?;
        let (sequences, frames_run) = track_sequence(&detections, entry, &options.tracker, &calib.p2)?;
        for (class, out_dir) in &out_dirs {
            let sequence = sequences.get(class).cloned().unwrap_or_default();
            write_tracking_file(&out_dir.join(format!("{}.txt", entry.name)), &sequence)?;
            *frames.entry(class.name().to_owned()).or_insert(0) += u64::from(frames_run);
        }
    }
    Ok(frames)
}

/// Where a class's result files are: `<results>/<class>/data/` when it exists (the layout
/// `pitsense track` writes), else `<results>/` itself.
pub fn results_dir(results: &Path, class: TrackingClass) -> PathBuf {
    let nested = results.join(class.name()).join("data");
    if nested.is_dir() { nested } else { results.to_owned() }
}

/// Runs `pitsense eval-tracking` for one class; returns the report.
///
/// # Errors
/// Unreadable files, a results folder missing a sequence, no ground truth for the class.
pub fn run_eval(
    results: &Path,
    labels: &Path,
    seqmap: &Path,
    class: TrackingClass,
    mode: MatchMode,
) -> anyhow::Result<EvalReport> {
    let seqmap = read_seqmap(seqmap)?;
    for warning in &seqmap.warnings {
        warn!("skipped seqmap line: {warning}");
    }
    let gt = read_sequence_set(labels, &seqmap.data)?;
    let results_folder = results_dir(results, class);
    let tracked = read_sequence_set(&results_folder, &seqmap.data)?;
    for warning in gt.warnings.iter().chain(&tracked.warnings) {
        warn!("skipped line: {warning}");
    }
    if seqmap.data.is_empty() {
        bail!("seqmap lists no sequence");
    }
    Ok(evaluate(&gt.data, &tracked.data, class, mode)?)
}
