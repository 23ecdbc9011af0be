//! Training sets from the catalog: the frames of the episodes a query selected, written in the
//! KITTI object layout or the YOLO layout, with the tracker's objects as labels and a manifest
//! of the source episodes (`pitsense-ingest export`).
//!
//! A frame is a `/tracks` message (the tracker's output, one per published frame) together with
//! the primary lidar's cloud logged at the same time and the camera image nearest in stamp
//! (within [`IMAGE_PAIRING_NS`]); the camera is the one the episode's calibration names. Frames
//! without a cloud (made while the lidar was lost), without an image near them, or in an episode
//! without a camera calibration are skipped and counted.
//!
//! Geometry: a track's box (centre, length/width/height, yaw about the up axis) is brought to the
//! primary lidar's frame — site-frame tracks through the recorded ego pose at the frame's stamp
//! and the episode's `truck_from_lidar`, ego-frame tracks through `truck_from_lidar` — then to the
//! camera's optical frame by the calibration's `camera_from_lidar`.
//!
//! **KITTI** (`training/` as in the KITTI object benchmark's devkit readme): `image_2/NNNNNN.<png|jpg>`
//! (the recorded bytes), `velodyne/NNNNNN.bin` (x, y, z, intensity as little-endian f32, lidar
//! frame), `calib/NNNNNN.txt` (`P0`..`P3` = `K [I | 0]` of the rectified camera, `R0_rect` = I,
//! `Tr_velo_to_cam` = `camera_from_lidar`, `Tr_imu_to_velo` = I) and `label_2/NNNNNN.txt`, one
//! line per track in front of the camera whose projected box meets the image: type, truncation
//! (the share of the projected box outside the image), occlusion 0 (unknown), alpha, the 2D box
//! (the 8 projected corners' bounds clipped to the image), height/width/length, the bottom
//! centre in the camera frame and `rotation_y` (the heading about the camera's y axis).
//! **YOLO**: `images/NNNNNN.<ext>`, `labels/NNNNNN.txt` (`class cx cy w h`, normalised by the
//! image size) and `classes.txt` (the track labels seen, sorted: the class index is the line).
//!
//! `manifest.json`: the format, the frames written and skipped, per source episode its truck,
//! SHA-256, store path and the frame numbers it gave, and the SHA-256 of every file written.
//! Deterministic: the same catalog and query give the same files, byte for byte.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use pitsense_types::CameraCalibration;
use pitsense_types::nalgebra::{Isometry3, Point3, Vector3};
use serde::Serialize;

use crate::catalog::QueryHit;
use crate::episode::EpisodeMessage;
use crate::episode_index::truck_from_lidar;
use crate::episode_reader::{EpisodeReader, RawMessage};
use crate::error::CloudLinkError;
use crate::schemas::{RecordedTrack, recorded_tracks};

/// An image pairs with a frame when their stamps differ by at most this, ns (half a 10 Hz
/// period).
pub const IMAGE_PAIRING_NS: u64 = 50_000_000;

/// Nearest depth a box corner may have in front of the camera to be projected, m.
const MIN_DEPTH_M: f64 = 0.1;

/// The layout of a training set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// KITTI object benchmark layout (`training/image_2`, `velodyne`, `calib`, `label_2`).
    Kitti,
    /// YOLO layout (`images`, `labels`, `classes.txt`).
    Yolo,
}

/// What one source episode gave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportedEpisode {
    /// Its truck.
    pub truck_id: String,
    /// SHA-256 of the episode file.
    pub sha256: String,
    /// Path in the store.
    pub store_path: String,
    /// The frame numbers written from it.
    pub frames: Vec<u64>,
    /// Frames skipped: no cloud at the frame (lidar lost), no image near it, or no calibration.
    pub frames_skipped: u64,
    /// Why the episode gave nothing, when it could not be read or has no camera calibration.
    pub skipped_because: Option<String>,
}

/// The manifest of an export (written as `manifest.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    /// The layout.
    pub format: ExportFormat,
    /// Frames written.
    pub frames_written: u64,
    /// Frames skipped, over all episodes.
    pub frames_skipped: u64,
    /// Per source episode, in query order.
    pub episodes: Vec<ExportedEpisode>,
    /// SHA-256 of each file written, by path relative to the export folder.
    pub files: BTreeMap<String, String>,
}

/// One labelled object on one image.
#[derive(Clone, Debug, PartialEq)]
struct Label {
    class_label: String,
    /// 2D box clipped to the image, pixels: x1, y1, x2, y2.
    box_px: [f64; 4],
    /// Share of the projected box outside the image, 0..1.
    truncation: f64,
    /// Height, width, length, m.
    hwl_m: [f64; 3],
    /// Bottom centre in the camera frame, m.
    bottom_center_camera_m: Point3<f64>,
    /// Heading about the camera's y axis, rad.
    rotation_y_rad: f64,
    /// Observation angle, rad.
    alpha_rad: f64,
}

/// The KITTI type of a track label.
fn kitti_type(class_label: &str) -> &'static str {
    match class_label {
        "car" => "Car",
        "van" => "Van",
        "truck" | "haul_truck" | "bus" => "Truck",
        "pedestrian" | "person" => "Pedestrian",
        "cyclist" | "bicycle" | "motorcycle" => "Cyclist",
        "tram" | "train" => "Tram",
        _ => "Misc",
    }
}

/// Wraps an angle into `(-π, π]`.
fn wrap_rad(angle_rad: f64) -> f64 {
    let wrapped = angle_rad.rem_euclid(std::f64::consts::TAU);
    if wrapped > std::f64::consts::PI { wrapped - std::f64::consts::TAU } else { wrapped }
}

/// The label of one track whose box is given in the lidar frame; `None` when no corner is in
/// front of the camera or the projected box misses the image.
fn label(
    calibration: &CameraCalibration,
    class_label: &str,
    center_lidar_m: Point3<f64>,
    size_m: Vector3<f64>,
    heading_lidar: Vector3<f64>,
    up_lidar: Vector3<f64>,
) -> Option<Label> {
    let camera_from_lidar = calibration.camera_from_lidar;
    let forward = heading_lidar.normalize();
    let up = up_lidar.normalize();
    let left = up.cross(&forward);
    let (half_l, half_w, half_h) = (size_m.x / 2.0, size_m.y / 2.0, size_m.z / 2.0);
    let mut u = (f64::INFINITY, f64::NEG_INFINITY);
    let mut v = (f64::INFINITY, f64::NEG_INFINITY);
    for (sl, sw, sh) in [-1.0, 1.0].into_iter().flat_map(|a| {
        [-1.0, 1.0].into_iter().flat_map(move |b| [-1.0, 1.0].into_iter().map(move |c| (a, b, c)))
    }) {
        let corner = center_lidar_m + forward * (sl * half_l) + left * (sw * half_w) + up * (sh * half_h);
        let pixel = calibration.project_lidar_point(&corner, MIN_DEPTH_M)?;
        u = (u.0.min(pixel.x), u.1.max(pixel.x));
        v = (v.0.min(pixel.y), v.1.max(pixel.y));
    }
    let (width, height) =
        (f64::from(calibration.intrinsics.width_px), f64::from(calibration.intrinsics.height_px));
    let clipped =
        [u.0.clamp(0.0, width), v.0.clamp(0.0, height), u.1.clamp(0.0, width), v.1.clamp(0.0, height)];
    let area = (u.1 - u.0) * (v.1 - v.0);
    let clipped_area = (clipped[2] - clipped[0]) * (clipped[3] - clipped[1]);
    if clipped_area <= 0.0 || !area.is_finite() {
        return None;
    }
    let bottom = camera_from_lidar * (center_lidar_m - up * half_h);
    let heading_camera = camera_from_lidar.rotation * forward;
    let rotation_y_rad = wrap_rad((-heading_camera.z).atan2(heading_camera.x));
    Some(Label {
        class_label: class_label.to_owned(),
        box_px: clipped,
        truncation: (1.0 - clipped_area / area).clamp(0.0, 1.0),
        hwl_m: [size_m.z, size_m.y, size_m.x],
        bottom_center_camera_m: bottom,
        rotation_y_rad,
        alpha_rad: wrap_rad(rotation_y_rad - bottom.x.atan2(bottom.z)),
    })
}

/// The frames of one episode, as the export needs them.
struct EpisodeFrames<'a> {
    calibration: &'a CameraCalibration,
    truck_from_lidar: Isometry3<f64>,
    camera_topic: String,
    lidar_topic: Option<String>,
    site_from_truck: Option<Isometry3<f64>>,
    /// The last image and its stamp (bytes, format).
    last_image: Option<(u64, Vec<u8>, String)>,
}

/// One frame ready to write.
struct Frame {
    image: (Vec<u8>, String),
    points: Vec<u8>,
    labels: Vec<Label>,
}

impl EpisodeFrames<'_> {
    /// The lidar-frame box of a track (centre, heading, the box's up axis), or `None` for a
    /// frame it cannot be placed in (a site-frame track before any pose).
    fn in_lidar(&self, track: &RecordedTrack) -> Option<(Point3<f64>, Vector3<f64>, Vector3<f64>)> {
        let lidar_from = match track.frame_id.as_str() {
            frame if frame.starts_with("lidar") => Isometry3::identity(),
            "ego" => self.truck_from_lidar.inverse(),
            "site" => (self.site_from_truck? * self.truck_from_lidar).inverse(),
            _ => return None,
        };
        let heading = Vector3::new(track.yaw_rad.cos(), track.yaw_rad.sin(), 0.0);
        Some((lidar_from * track.center_m, lidar_from.rotation * heading, lidar_from.rotation * Vector3::z()))
    }

    /// Takes in the messages of one log time; returns the frame they make, if any, and whether
    /// a frame was there but skipped.
    fn log_time(
        &mut self,
        reader: &EpisodeReader,
        stamp_ns: u64,
        group: Vec<RawMessage>,
    ) -> (Option<Frame>, bool) {
        let mut tracks = None;
        let mut cloud = None;
        for raw in group {
            if raw.topic == "/tracks" {
                tracks = recorded_tracks(&raw.message_encoding, &raw.data).ok();
                continue;
            }
            let Ok(Some(read)) = reader.decode_raw(raw) else { continue };
            match read.message {
                EpisodeMessage::Ego(recorded) if !recorded.pose_held => {
                    self.site_from_truck = Some(recorded.ego.site_from_truck);
                }
                EpisodeMessage::CompressedImage(image) if read.topic == self.camera_topic => {
                    self.last_image = Some((image.header.stamp_ns, image.data, image.format));
                }
                EpisodeMessage::PointCloud(points) if Some(&read.topic) == self.lidar_topic.as_ref() => {
                    cloud = Some(points);
                }
                _ => {}
            }
        }
        let Some(tracks) = tracks else { return (None, false) };
        let image = self
            .last_image
            .as_ref()
            .filter(|(image_ns, _, _)| image_ns.abs_diff(stamp_ns) <= IMAGE_PAIRING_NS)
            .map(|(_, bytes, format)| (bytes.clone(), format.clone()));
        let (Some(cloud), Some(image)) = (cloud, image) else { return (None, true) };
        let mut points = Vec::with_capacity(cloud.points.len() * 16);
        for p in &cloud.points {
            for value in [p.x_m, p.y_m, p.z_m, p.intensity] {
                points.extend_from_slice(&value.to_le_bytes());
            }
        }
        let labels = tracks
            .iter()
            .filter_map(|track| {
                let (center, heading, up) = self.in_lidar(track)?;
                label(self.calibration, &track.class_label, center, track.size_m, heading, up)
            })
            .collect();
        (Some(Frame { image, points, labels }), false)
    }
}

/// Writes the frames of `hits` (episodes in the store `store_dir`) in `format` under `out_dir`
/// (created; files of an earlier export there are overwritten) and returns the manifest, also
/// written as `out_dir/manifest.json`. An episode that cannot be read is skipped with the
/// reason in the manifest.
///
/// # Errors
/// `out_dir` is inside the store, or a file cannot be written ([`CloudLinkError::Io`] naming
/// it).
pub fn export(
    store_dir: &Path,
    hits: &[QueryHit],
    format: ExportFormat,
    out_dir: &Path,
) -> Result<ExportReport, CloudLinkError> {
    // The store keeps episodes only: a training set written into it would be mistaken for them.
    std::fs::create_dir_all(out_dir).map_err(|e| CloudLinkError::io(out_dir, "create", e))?;
    if let (Ok(store), Ok(out)) = (store_dir.canonicalize(), out_dir.canonicalize())
        && out.starts_with(&store)
    {
        return Err(CloudLinkError::io(
            out_dir,
            "write a training set",
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "the folder is inside the episode store"),
        ));
    }
    let mut report = ExportReport {
        format,
        frames_written: 0,
        frames_skipped: 0,
        episodes: Vec::new(),
        files: BTreeMap::new(),
    };
    let mut yolo_frames: Vec<(u64, [u32; 2], Vec<Label>)> = Vec::new();
    let mut writer = FileWriter { out_dir: out_dir.to_owned(), files: BTreeMap::new() };
    for hit in hits {
        let row = &hit.row;
        let mut episode = ExportedEpisode {
            truck_id: row.truck_id.clone(),
            sha256: row.sha256.clone(),
            store_path: row.store_path.clone(),
            frames: Vec::new(),
            frames_skipped: 0,
            skipped_because: None,
        };
        let path = store_dir.join(&row.store_path);
        let reader = match EpisodeReader::open(&path) {
            Ok(reader) => reader,
            Err(error) => {
                episode.skipped_because = Some(error.to_string());
                report.episodes.push(episode);
                continue;
            }
        };
        let metadata = reader.metadata().clone();
        let Some(calibration) =
            serde_json::from_str::<Option<CameraCalibration>>(&metadata.calibration_json).ok().flatten()
        else {
            episode.skipped_because = Some("no camera calibration in its metadata".to_owned());
            report.episodes.push(episode);
            continue;
        };
        let topics = reader.topics();
        let camera_topic = format!("/camera{}/compressed", calibration.camera_id);
        let lidar_topic =
            topics.iter().filter(|t| t.starts_with("/lidar") && t.ends_with("/points")).min().cloned();
        let mut frames = EpisodeFrames {
            calibration: &calibration,
            truck_from_lidar: truck_from_lidar(&metadata.truck_from_lidar_json)
                .unwrap_or_else(Isometry3::identity),
            camera_topic,
            lidar_topic,
            site_from_truck: None,
            last_image: None,
        };
        let mut reader = reader;
        let mut group: Vec<RawMessage> = Vec::new();
        let mut group_ns = None;
        loop {
            let next = match reader.next_raw() {
                Some(Ok(raw)) => Some(raw),
                Some(Err(error)) => {
                    episode.skipped_because = Some(format!("read up to an error: {error}"));
                    None
                }
                None => None,
            };
            if group_ns.is_some() && next.as_ref().is_none_or(|raw| Some(raw.log_time_ns) != group_ns) {
                let stamp_ns = group_ns.unwrap_or(0);
                match frames.log_time(&reader, stamp_ns, std::mem::take(&mut group)) {
                    (Some(frame), _) => {
                        let number = report.frames_written;
                        let size = [calibration.intrinsics.width_px, calibration.intrinsics.height_px];
                        writer.frame(format, number, &frame, &calibration)?;
                        if format == ExportFormat::Yolo {
                            yolo_frames.push((number, size, frame.labels));
                        }
                        episode.frames.push(number);
                        report.frames_written += 1;
                    }
                    (None, true) => episode.frames_skipped += 1,
                    (None, false) => {}
                }
            }
            let Some(raw) = next else { break };
            group_ns = Some(raw.log_time_ns);
            group.push(raw);
        }
        report.frames_skipped += episode.frames_skipped;
        report.episodes.push(episode);
    }
    if format == ExportFormat::Yolo {
        writer.yolo_labels(&yolo_frames)?;
    }
    report.files = writer.files;
    let manifest = serde_json::to_vec_pretty(&report).unwrap_or_default();
    let manifest_path = out_dir.join("manifest.json");
    std::fs::write(&manifest_path, manifest).map_err(|e| CloudLinkError::io(&manifest_path, "write", e))?;
    Ok(report)
}

/// Writes files under the export folder and keeps their SHA-256s.
struct FileWriter {
    out_dir: PathBuf,
    files: BTreeMap<String, String>,
}

impl FileWriter {
    fn write(&mut self, relative: &str, bytes: &[u8]) -> Result<(), CloudLinkError> {
        let path = self.out_dir.join(relative);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|e| CloudLinkError::io(folder, "create", e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| CloudLinkError::io(&path, "write", e))?;
        self.files.insert(relative.to_owned(), crate::sha256::of_bytes(bytes));
        Ok(())
    }

    fn frame(
        &mut self,
        format: ExportFormat,
        number: u64,
        frame: &Frame,
        calibration: &CameraCalibration,
    ) -> Result<(), CloudLinkError> {
        let extension = if frame.image.1.eq_ignore_ascii_case("png") { "png" } else { "jpg" };
        match format {
            ExportFormat::Kitti => {
                self.write(&format!("training/image_2/{number:06}.{extension}"), &frame.image.0)?;
                self.write(&format!("training/velodyne/{number:06}.bin"), &frame.points)?;
                self.write(&format!("training/calib/{number:06}.txt"), kitti_calib(calibration).as_bytes())?;
                let labels: String = frame.labels.iter().map(kitti_label_line).collect();
                self.write(&format!("training/label_2/{number:06}.txt"), labels.as_bytes())
            }
            ExportFormat::Yolo => self.write(&format!("images/{number:06}.{extension}"), &frame.image.0),
        }
    }

    fn yolo_labels(&mut self, frames: &[(u64, [u32; 2], Vec<Label>)]) -> Result<(), CloudLinkError> {
        let classes: BTreeSet<&str> =
            frames.iter().flat_map(|(_, _, labels)| labels.iter().map(|l| l.class_label.as_str())).collect();
        let index: BTreeMap<&str, usize> = classes.iter().enumerate().map(|(i, c)| (*c, i)).collect();
        for (number, [width, height], labels) in frames {
            let (w, h) = (f64::from(*width), f64::from(*height));
            let text: String = labels
                .iter()
                .map(|l| {
                    let [x1, y1, x2, y2] = l.box_px;
                    format!(
                        "{} {:.6} {:.6} {:.6} {:.6}\n",
                        index[l.class_label.as_str()],
                        (x1 + x2) / 2.0 / w,
                        (y1 + y2) / 2.0 / h,
                        (x2 - x1) / w,
                        (y2 - y1) / h
                    )
                })
                .collect();
            self.write(&format!("labels/{number:06}.txt"), text.as_bytes())?;
        }
        let names: String = classes.iter().map(|c| format!("{c}\n")).collect();
        self.write("classes.txt", names.as_bytes())
    }
}

/// A KITTI calib file for a rectified camera with intrinsics `K` and `camera_from_lidar`.
fn kitti_calib(calibration: &CameraCalibration) -> String {
    let k = &calibration.intrinsics;
    let p = format!("{} 0 {} 0 0 {} {} 0 0 0 1 0", k.fx_px, k.cx_px, k.fy_px, k.cy_px);
    let r = calibration.camera_from_lidar.rotation.to_rotation_matrix();
    let t = calibration.camera_from_lidar.translation.vector;
    let m = r.matrix();
    let tr = format!(
        "{} {} {} {} {} {} {} {} {} {} {} {}",
        m[(0, 0)],
        m[(0, 1)],
        m[(0, 2)],
        t.x,
        m[(1, 0)],
        m[(1, 1)],
        m[(1, 2)],
        t.y,
        m[(2, 0)],
        m[(2, 1)],
        m[(2, 2)],
        t.z
    );
    format!(
        "P0: {p}\nP1: {p}\nP2: {p}\nP3: {p}\nR0_rect: 1 0 0 0 1 0 0 0 1\nTr_velo_to_cam: {tr}\nTr_imu_to_velo: 1 0 0 0 0 1 0 0 0 0 1 0\n"
    )
}

/// One `label_2` line (KITTI object devkit: type, truncated, occluded, alpha, bbox, dimensions
/// h w l, location x y z, rotation_y).
fn kitti_label_line(label: &Label) -> String {
    let [x1, y1, x2, y2] = label.box_px;
    let [h, w, l] = label.hwl_m;
    let c = label.bottom_center_camera_m;
    format!(
        "{} {:.2} 0 {:.2} {:.2} {:.2} {:.2} {:.2} {:.2} {:.2} {:.2} {:.2} {:.2} {:.2} {:.2}\n",
        kitti_type(&label.class_label),
        label.truncation,
        label.alpha_rad,
        x1,
        y1,
        x2,
        y2,
        h,
        w,
        l,
        c.x,
        c.y,
        c.z,
        label.rotation_y_rad
    )
}
