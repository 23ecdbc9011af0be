//! `pitsense replay`: runs the whole pipeline over a recorded KITTI-layout dataset.
//!
//! A frame whose files are missing or corrupt is reported (file and reason), skipped and
//! counted; the replay goes on. Start-up problems (model, ONNX Runtime, config, output folder)
//! stop it before the first frame.
//!
//! With a V2X log (`--v2x-log`, see [`read_v2x_log`]), the messages received up to each
//! frame's stamp go through the runtime's V2X input ([`crate::v2x_fusion::V2xFusion`]) and
//! are fused into the tracks; the truck then stands at `replay.ego_pose_site` and tracks are
//! published in the site frame.
//!
//! With `[recorder] enabled = true`, every processed frame is also offered to the episode
//! recorder (see [`crate::episodes`]): episodes land in `recorder.episode_dir`, relative to
//! `--out` when relative, and are listed in the summary.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use pitsense_imaging::decode_image;
use pitsense_perception::kitti::{read_calib, read_velodyne_bin};
use pitsense_types::nalgebra::{Isometry3, Translation3, UnitQuaternion};
use pitsense_types::{EgoState, FrameId, Header, Image, PointCloud};
use tracing::warn;

use crate::config::PitsenseConfig;
use crate::dataset::{KittiFrame, list_frames};
use crate::episodes::{EpisodeRecordingSummary, FrameMessages, ReplayRecorder};
use crate::objects_jsonl::FrameRecord;
use crate::pipeline::{EgoContext, Pipeline, StageLatencyMs};
use crate::rrd::ReplayRecording;
use crate::v2x_fusion::{V2xFusion, V2xFusionStats};

/// What `replay` needs.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    /// Dataset folder in KITTI object layout.
    pub dataset: PathBuf,
    /// Output folder (created).
    pub out_dir: PathBuf,
    /// Data root, where model files are found.
    pub data_root: PathBuf,
    /// Validated configuration.
    pub config: PitsenseConfig,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// V2X log to fuse (JSON lines, see [`read_v2x_log`]).
    pub v2x_log: Option<PathBuf>,
}

/// One received V2X message of a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V2xLogEntry {
    /// Receive time on the replay's clock (frame `n` is at `n × frame_period_ms`), ns.
    pub receive_stamp_ns: u64,
    /// The datagram as received: raw UPER, or an IEEE 1609.2 envelope.
    pub bytes: Vec<u8>,
}

/// Reads a V2X log: one JSON object per line, `{"receive_stamp_ns": 1200000000, "hex":
/// "0029..."}` (the datagram's octets as hex), blank lines ignored. Returns the entries sorted
/// by receive time (stable) and, for each line that could not be read, a warning naming the
/// line and the reason (bad lines are skipped, not fatal).
///
/// # Errors
/// When the file cannot be read.
pub fn read_v2x_log(path: &Path) -> anyhow::Result<(Vec<V2xLogEntry>, Vec<String>)> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Line {
        receive_stamp_ns: u64,
        hex: String,
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("V2X log `{}`: cannot read", path.display()))?;
    let mut entries = Vec::new();
    let mut warnings = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<Line>(line).map_err(|e| e.to_string()).and_then(|line| {
            let hex = line.hex.trim();
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|at| hex.get(at..at + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
                .collect::<Option<Vec<u8>>>()
                .filter(|bytes| !bytes.is_empty())
                .ok_or_else(|| "`hex` is not an even number of hex digits".to_owned())?;
            Ok(V2xLogEntry { receive_stamp_ns: line.receive_stamp_ns, bytes })
        });
        match parsed {
            Ok(entry) => entries.push(entry),
            Err(reason) => {
                warnings.push(format!("V2X log `{}` line {}: {reason}", path.display(), index + 1))
            }
        }
    }
    entries.sort_by_key(|entry| entry.receive_stamp_ns);
    Ok((entries, warnings))
}

/// The `source` of V2X datagrams from a log in recorded episodes.
pub const V2X_LOG_SOURCE: &str = "v2x-log";

/// The truck's pose `[x_m, y_m, z_m, yaw_rad]` as an isometry.
fn pose(values: [f64; 4]) -> Isometry3<f64> {
    Isometry3::from_parts(
        Translation3::new(values[0], values[1], values[2]),
        UnitQuaternion::from_euler_angles(0.0, 0.0, values[3]),
    )
}

/// One skipped frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedFrame {
    /// Frame name.
    pub frame: String,
    /// The error, naming the file and the reason.
    pub reason: String,
}

/// The replay's result, printed as the terminal summary.
#[derive(Clone, Debug, Default)]
pub struct ReplaySummary {
    /// Frames listed in the dataset.
    pub frames_total: usize,
    /// Frames run through the pipeline.
    pub frames_processed: usize,
    /// Frames skipped, with reasons, in order.
    pub skipped: Vec<SkippedFrame>,
    /// Published objects per processed frame.
    pub objects_per_frame: Vec<usize>,
    /// Camera detections per processed frame.
    pub detections_per_frame: Vec<usize>,
    /// Per-stage latencies of each processed frame.
    pub latencies: Vec<StageLatencyMs>,
    /// Path of `objects.jsonl`.
    pub objects_path: PathBuf,
    /// Path of the Rerun recording, when written.
    pub rrd_path: Option<PathBuf>,
    /// The V2X input's counters, when a V2X log was fused.
    pub v2x: Option<V2xFusionStats>,
    /// Unreadable lines of the V2X log (line and reason).
    pub v2x_log_warnings: Vec<String>,
    /// Objects published with source `v2x` (seen only through V2X), summed over frames.
    pub v2x_only_objects: usize,
    /// What the episode recorder wrote, when `[recorder]` is enabled.
    pub episodes: Option<EpisodeRecordingSummary>,
}

/// Nearest-rank percentile of `values` (sorted in place), `q` in `0..=1`.
pub fn percentile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values.get(rank - 1).copied().unwrap_or(f64::NAN)
}

impl ReplaySummary {
    /// Renders the terminal summary: frames, skipped frames with reasons, objects per frame,
    /// per-stage latency p50/p99 (ms).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mean = |values: &[usize]| {
            if values.is_empty() { 0.0 } else { values.iter().sum::<usize>() as f64 / values.len() as f64 }
        };
        out.push_str(&format!(
            "frames: {} listed, {} processed, {} skipped\n",
            self.frames_total,
            self.frames_processed,
            self.skipped.len()
        ));
        for skipped in &self.skipped {
            out.push_str(&format!("  skipped {}: {}\n", skipped.frame, skipped.reason));
        }
        out.push_str(&format!(
            "objects per frame: mean {:.1}, max {}; camera detections per frame: mean {:.1}\n",
            mean(&self.objects_per_frame),
            self.objects_per_frame.iter().max().copied().unwrap_or(0),
            mean(&self.detections_per_frame)
        ));
        if !self.latencies.is_empty() {
            out.push_str("latency ms      p50      p99\n");
            let mut totals: Vec<f64> = Vec::new();
            for (index, (name, _)) in StageLatencyMs::default().named().iter().enumerate() {
                let mut values: Vec<f64> =
                    self.latencies.iter().map(|l| l.named().get(index).map_or(0.0, |(_, v)| *v)).collect();
                out.push_str(&format!(
                    "  {name:<10} {:>8.2} {:>8.2}\n",
                    percentile(&mut values, 0.5),
                    percentile(&mut values, 0.99)
                ));
            }
            for latency in &self.latencies {
                totals.push(latency.named().iter().map(|(_, v)| v).sum());
            }
            out.push_str(&format!(
                "  {:<10} {:>8.2} {:>8.2}\n",
                "total",
                percentile(&mut totals.clone(), 0.5),
                percentile(&mut totals, 0.99)
            ));
        }
        if let Some(v2x) = &self.v2x {
            out.push_str(&format!(
                "v2x: {} messages received, {} objects fused ({} published as v2x-only over all frames), \
                 {} undecodable, {} without objects, {} implausible, {} dropped (inbox full), {} bad log lines\n",
                v2x.received,
                v2x.fused_objects,
                self.v2x_only_objects,
                v2x.undecodable,
                v2x.without_objects,
                v2x.implausible,
                v2x.dropped_inbox_full,
                self.v2x_log_warnings.len()
            ));
            for warning in &self.v2x_log_warnings {
                out.push_str(&format!("  {warning}\n"));
            }
        }
        if let Some(episodes) = &self.episodes {
            out.push_str(&episodes.render());
        }
        out.push_str(&format!("objects: {}\n", self.objects_path.display()));
        if let Some(rrd) = &self.rrd_path {
            out.push_str(&format!(
                "rerun recording: {} (open it with `rerun {}`)\n",
                rrd.display(),
                rrd.display()
            ));
        }
        out
    }
}

/// One frame read from disk and decoded.
struct LoadedFrame {
    cloud: PointCloud,
    image: Image,
    image_bytes: Vec<u8>,
    calibration: pitsense_types::CameraCalibration,
}

fn load_frame(frame: &KittiFrame, seq: u64, config: &PitsenseConfig) -> anyhow::Result<LoadedFrame> {
    let stamp_ns = seq.saturating_mul(config.replay.frame_period_ms).saturating_mul(1_000_000);
    let lidar_header = Header { stamp_ns, frame: FrameId::Lidar(config.replay.lidar_id), seq };
    let cloud = read_velodyne_bin(&frame.velodyne, lidar_header)?;
    let image_bytes = std::fs::read(&frame.image)
        .with_context(|| format!("image `{}`: cannot read", frame.image.display()))?;
    let camera_header = Header { stamp_ns, frame: FrameId::ImagePixels(config.replay.camera_id), seq };
    let image = decode_image(
        &image_bytes,
        &frame.image.display().to_string(),
        camera_header,
        config.replay.camera_id,
    )?;
    let calibration = read_calib(&frame.calib)?
        .camera_calibration(image.width_px, image.height_px)
        .with_context(|| format!("calibration `{}`", frame.calib.display()))?;
    Ok(LoadedFrame { cloud, image, image_bytes, calibration })
}

/// Runs the replay and returns its summary.
///
/// # Errors
/// Start-up errors only: dataset not in KITTI layout, model or ONNX Runtime unusable, output
/// folder not writable. Per-frame errors are in the summary.
pub fn run_replay(options: &ReplayOptions) -> anyhow::Result<ReplaySummary> {
    let frames = list_frames(&options.dataset)?;
    // The V2X input, checked before the (slow) pipeline start-up.
    let mut v2x_input = match &options.v2x_log {
        None => None,
        Some(path) => {
            let Some(v2x_config) = &options.config.v2x else {
                anyhow::bail!(
                    "--v2x-log needs a [v2x] section in the configuration (at least [v2x.site_origin])"
                );
            };
            let Some(ego_pose) = options.config.replay.ego_pose_site else {
                anyhow::bail!(
                    "--v2x-log needs the truck's pose: set replay.ego_pose_site = [x_m, y_m, z_m, yaw_rad]"
                );
            };
            let (entries, warnings) = read_v2x_log(path)?;
            for warning in &warnings {
                warn!("{warning}");
            }
            Some((V2xFusion::new(v2x_config)?, entries.into_iter().peekable(), warnings, pose(ego_pose)))
        }
    };
    let truck_from_lidar = pose(options.config.replay.lidar_in_truck);
    let mut pipeline = Pipeline::new(&options.config, &options.data_root)?;
    std::fs::create_dir_all(&options.out_dir)
        .with_context(|| format!("cannot create output folder `{}`", options.out_dir.display()))?;
    let objects_path = options.out_dir.join("objects.jsonl");
    let objects_file = std::fs::File::create(&objects_path)
        .with_context(|| format!("cannot create `{}`", objects_path.display()))?;
    let mut objects_writer = std::io::BufWriter::new(objects_file);
    let rrd_path = options.config.replay.write_rrd.then(|| options.out_dir.join("replay.rrd"));
    let recording = rrd_path
        .as_deref()
        .map(|path| ReplayRecording::create(path, options.config.replay.rrd_point_stride))
        .transpose()?;

    let progress =
        if options.progress { ProgressBar::new(frames.len() as u64) } else { ProgressBar::hidden() };
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} frames {elapsed} eta {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut summary = ReplaySummary {
        frames_total: frames.len(),
        objects_path: objects_path.clone(),
        rrd_path: rrd_path.clone(),
        ..ReplaySummary::default()
    };
    let mut skip_reasons: BTreeMap<String, usize> = BTreeMap::new();
    // Started at the first frame read (it needs a calibration); dropped or finished at the end,
    // closing the open episode either way.
    let mut recorder: Option<ReplayRecorder> = None;
    for (index, frame) in frames.iter().enumerate() {
        progress.inc(1);
        progress.set_message(frame.name.clone());
        let seq = index as u64;
        let read_start = Instant::now();
        let loaded = match load_frame(frame, seq, &options.config) {
            Ok(loaded) => loaded,
            Err(error) => {
                let reason = crate::error_chain_text(&error);
                progress.suspend(|| warn!(frame = %frame.name, "skipping frame: {reason}"));
                *skip_reasons.entry("unreadable input".into()).or_default() += 1;
                summary.skipped.push(SkippedFrame { frame: frame.name.clone(), reason });
                continue;
            }
        };
        let mut latency =
            StageLatencyMs { read: read_start.elapsed().as_secs_f64() * 1e3, ..Default::default() };
        if options.config.recorder.enabled && recorder.is_none() {
            recorder = Some(ReplayRecorder::start(&options.config, &options.out_dir, &loaded.calibration)?);
        }
        let stamp_ns = loaded.cloud.header.stamp_ns;
        let mut v2x_raw = Vec::new();
        let mut recorded_ego = None;
        let result = match &mut v2x_input {
            None => pipeline.process(&loaded.cloud, &loaded.image, &loaded.calibration, &mut latency),
            Some((v2x, entries, _, site_from_truck)) => {
                while let Some(entry) = entries.next_if(|entry| entry.receive_stamp_ns <= stamp_ns) {
                    if recorder.is_some() {
                        v2x_raw.push(pitsense_cloud_link::V2xRaw {
                            stamp_ns: entry.receive_stamp_ns,
                            source: V2X_LOG_SOURCE.to_owned(),
                            data: entry.bytes.clone(),
                        });
                    }
                    v2x.push(entry.receive_stamp_ns, entry.bytes);
                }
                let ego = EgoState {
                    header: Header { stamp_ns, frame: FrameId::Site, seq },
                    site_from_truck: *site_from_truck,
                    speed_mps: 0.0,
                    yaw_rate_radps: 0.0,
                    accel_mps2: 0.0,
                };
                if recorder.is_some() {
                    recorded_ego = Some(ego.clone());
                }
                let objects = v2x.objects_at(stamp_ns, &ego);
                let context =
                    EgoContext { ego: &ego, truck_from_lidar: &truck_from_lidar, v2x_objects: &objects };
                pipeline.process_with_ego(
                    &loaded.cloud,
                    &loaded.image,
                    &loaded.calibration,
                    &context,
                    &mut latency,
                )
            }
        };
        let output = match result {
            Ok(output) => output,
            Err(error) => {
                let reason = crate::error_chain_text(&error);
                progress.suspend(|| warn!(frame = %frame.name, "skipping frame: {reason}"));
                summary.skipped.push(SkippedFrame { frame: frame.name.clone(), reason });
                continue;
            }
        };
        let record = FrameRecord::new(&frame.name, seq, loaded.cloud.header.stamp_ns, &output.tracks);
        serde_json::to_writer(&mut objects_writer, &record)
            .with_context(|| format!("cannot write `{}`", objects_path.display()))?;
        objects_writer
            .write_all(b"\n")
            .with_context(|| format!("cannot write `{}`", objects_path.display()))?;
        summary.frames_processed += 1;
        summary.objects_per_frame.push(output.tracks.len());
        summary.v2x_only_objects +=
            output.tracks.iter().filter(|track| track.source == pitsense_types::ObjectSource::V2x).count();
        summary.detections_per_frame.push(output.detections.len());
        summary.latencies.push(latency);
        let mut image_bytes = loaded.image_bytes;
        if let Some(recording) = &recording {
            // With the recorder on, both need the encoded image: one copy per frame (~0.9 MB
            // for a KITTI PNG); otherwise the bytes move into the recording.
            let rrd_image_bytes =
                if recorder.is_some() { image_bytes.clone() } else { std::mem::take(&mut image_bytes) };
            recording.log_frame(
                seq,
                &loaded.cloud.points,
                &output.lidar.obstacle_points,
                rrd_image_bytes,
                &output.detections,
                &output.tracks,
            )?;
        }
        if let Some(recorder) = &mut recorder {
            // Everything else is moved in, not copied.
            recorder.offer_frame(FrameMessages {
                v2x_raw,
                ego: recorded_ego,
                cloud: loaded.cloud,
                image_header: loaded.image.header,
                image_bytes,
                image_format: crate::episodes::image_format(&frame.image),
                detections: output.detections,
                fused: output.fused,
                tracks: output.tracks,
            });
        }
    }
    progress.finish_and_clear();
    if let Some((v2x, _, warnings, _)) = v2x_input {
        summary.v2x = Some(*v2x.stats());
        summary.v2x_log_warnings = warnings;
    }
    objects_writer.flush().with_context(|| format!("cannot write `{}`", objects_path.display()))?;
    if let Some(recording) = recording {
        recording.finish()?;
    }
    if let Some(recorder) = recorder {
        summary.episodes = Some(recorder.finish()?);
    } else if options.config.recorder.enabled {
        // No frame was read: nothing recorded.
        summary.episodes = Some(EpisodeRecordingSummary {
            episode_dir: crate::episodes::resolve_episode_dir(&options.config, &options.out_dir),
            ..EpisodeRecordingSummary::default()
        });
    }
    Ok(summary)
}

/// The default data root: `PITSENSE_DATA`, else `../shared/data` (relative to the working
/// directory, i.e. beside the repository when run from its root).
pub fn default_data_root() -> PathBuf {
    std::env::var_os("PITSENSE_DATA")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("../shared/data"), PathBuf::from)
}

/// Checks that the data root exists, with a message that says how to point at one.
///
/// # Errors
/// When `data_root` is not a directory.
pub fn check_data_root(data_root: &Path) -> anyhow::Result<()> {
    if data_root.is_dir() {
        Ok(())
    } else {
        anyhow::bail!(
            "data root `{}` does not exist: pass --data-root DIR or set PITSENSE_DATA to the folder \
             holding models/ and kitti/ (the shared data, ../shared/data from the repository root)",
            data_root.display()
        )
    }
}
