//! Episode recording inside the graph (`run.outputs.episodes`, and `pitsense replay` with
//! `[recorder] enabled = true`).
//!
//! The fusion task offers the cloud-link recorder ([`RecorderHandle`]) every fused frame: the
//! ego state (when the truck's pose is known), the point cloud, the camera image as its
//! original encoded bytes when the source kept them (PNG for KITTI), the camera detections, the
//! fused detections and the tracks; a source that delivers decoded frames (live cameras, video
//! files) has every frame JPEG-encoded by the camera task after its detections are sent
//! (`recorder.camera_jpeg_quality`) and offered on its own;
//! received V2X datagrams as they are taken in. The trigger rules of `[recorder.triggers]` run
//! on them in the recorder thread; a health mode change is a manual trigger.
//!
//! Where episodes go: `recorder.episode_dir` (`pitsense replay` takes a relative path relative
//! to its `--out` folder, default `<out>/episodes`). That folder is also the store-and-forward
//! queue ([`EpisodeQueue`], quota [`REPLAY_QUEUE_QUOTA_BYTES`]): a finished episode is renamed
//! to `<seq>.mcap` beside its `<seq>.json` entry, so `pitsense upload --queue DIR --once` can
//! send them. Episodes of earlier runs into the same folder stay queued.
//!
//! Live, the graph never waits for the recorder: [`EpisodeRecorder::offer`] uses the
//! recorder's non-blocking `offer`; a full channel drops the message and counts it. In replay
//! ([`EpisodeRecorder::set_lossless`]) it waits: every message is recorded.
//!
//! The truck id written in the episodes is `run.truck_id` ([`REPLAY_TRUCK_ID`] for
//! `pitsense replay`); the calibration is the camera's (for a KITTI dataset, the first frame's:
//! each object frame has its own calibration file; the recorder's metadata and camera-view
//! rule take one).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use pitsense_cloud_link::queue::{EpisodeQueue, Priority, episode_path};
use pitsense_cloud_link::recorder::{RecorderHandle, RecorderReport};
use pitsense_cloud_link::{CompressedImage, EpisodeMessage, EpisodeMetadata, RecordedEgo};
use pitsense_types::{CameraCalibration, Detection2d, Detection3d, FrameId, Header, PointCloud, Track};
use tracing::warn;

use crate::config::PitsenseConfig;
use crate::onboard::config::Pose;

/// The truck id written in episodes recorded by a replay.
pub const REPLAY_TRUCK_ID: &str = "replay";

/// Byte quota of the replay's episode queue (8 GiB, as `pitsense upload`'s default).
pub const REPLAY_QUEUE_QUOTA_BYTES: u64 = 8 << 30;

/// A camera image as recorded.
#[derive(Debug)]
pub struct RecordedImage {
    /// Capture time and pixel frame of its camera.
    pub header: Header,
    /// The encoded image: as its source delivered it, or JPEG-encoded by the camera task for a
    /// source that delivers decoded frames (live cameras, video files).
    pub bytes: Vec<u8>,
    /// Its format as Foxglove names it (`png`, `jpeg`).
    pub format: String,
}

/// One frame's messages for the recorder, in the order they are offered.
#[derive(Debug)]
pub struct FrameMessages {
    /// The truck's pose at the frame as the runtime used it (measured or held), when known.
    pub ego: Option<RecordedEgo>,
    /// The frame's stamp and the lidar's frame (the headers of boxes when there are none).
    pub header: Header,
    /// The lidar scan (`None` for a frame made while the lidar was lost).
    pub cloud: Option<PointCloud>,
    /// The paired camera image, when its source kept the encoded bytes.
    pub image: Option<RecordedImage>,
    /// The paired camera image's header and its detections (original pixels).
    pub detections: Option<(Header, Vec<Detection2d>)>,
    /// Time and frame of the fused detections.
    pub fused_header: Header,
    /// Fused detections, lidar frame.
    pub fused: Vec<Detection3d>,
    /// The published tracks.
    pub tracks: Vec<Track>,
}

/// One episode written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedEpisode {
    /// The episode in the queue folder (`<seq>.mcap`); `None` when the queue refused it (the
    /// file then stays under its original name in the episode folder).
    pub path: Option<PathBuf>,
    /// The name the recorder gave it (`<truck>-<stamp_ns>-<rule>.mcap`).
    pub original_name: String,
    /// The first trigger's text (`low_confidence:track=3`, ...).
    pub trigger_reason: String,
    /// Upload priority.
    pub priority: Priority,
}

/// What the recorder did during a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EpisodeRecordingSummary {
    /// The episode (and queue) folder.
    pub episode_dir: PathBuf,
    /// Episodes written, in order.
    pub episodes: Vec<RecordedEpisode>,
    /// Messages offered to the recorder.
    pub offered_messages: u64,
    /// Messages dropped because the recorder's channel was full.
    pub dropped_messages: u64,
    /// Messages dropped from the pre-roll ring buffer for its memory bound.
    pub dropped_for_memory: u64,
}

impl EpisodeRecordingSummary {
    /// The summary lines: `episodes: N written to DIR ...`, then one line per episode.
    pub fn render(&self) -> String {
        let mut out = format!(
            "episodes: {} written to {} ({} messages offered, {} dropped: recorder channel full, \
             {} dropped: pre-roll memory bound)\n",
            self.episodes.len(),
            self.episode_dir.display(),
            self.offered_messages,
            self.dropped_messages,
            self.dropped_for_memory
        );
        for episode in &self.episodes {
            let location = episode
                .path
                .as_ref()
                .map_or_else(|| "refused by the queue".to_owned(), |path| path.display().to_string());
            out.push_str(&format!(
                "  {} ({}): {}, priority {:?}\n",
                location, episode.original_name, episode.trigger_reason, episode.priority
            ));
        }
        out
    }
}

/// The recorder as the graph drives it. Dropping it without [`EpisodeRecorder::finish`] (a
/// run that stops early) still closes the open episode with what it has.
pub struct EpisodeRecorder {
    handle: Option<RecorderHandle>,
    queue: Arc<Mutex<EpisodeQueue>>,
    first_new_seq: u64,
    episode_dir: PathBuf,
    offered_messages: u64,
    lossless: bool,
}

/// `recorder.episode_dir`, relative paths taken relative to `out_dir`.
pub fn resolve_episode_dir(config: &PitsenseConfig, out_dir: &Path) -> PathBuf {
    let dir = Path::new(&config.recorder.episode_dir);
    if dir.is_absolute() { dir.to_owned() } else { out_dir.join(dir) }
}

impl EpisodeRecorder {
    /// Opens the episode queue in `episode_dir` and starts the recorder thread with the
    /// `[recorder]` section (forced on). `calibration` is the camera's, if any (metadata and the
    /// camera-view check of the disagreement rule); `truck_from_lidar` is the pose of the frame
    /// the recorded clouds are in (metadata `truck_from_lidar`, which replay uses).
    ///
    /// # Errors
    /// The model manifest is unknown, the episode folder cannot be created or read as a queue,
    /// or the thread cannot start.
    pub fn start(
        config: &PitsenseConfig,
        episode_dir: &Path,
        truck_id: &str,
        calibration: Option<&CameraCalibration>,
        truck_from_lidar: Option<&Pose>,
    ) -> anyhow::Result<Self> {
        let episode_dir = episode_dir.to_owned();
        let Some(episode_dir_text) = episode_dir.to_str() else {
            anyhow::bail!("recorder.episode_dir `{}`: not valid UTF-8", episode_dir.display());
        };
        let manifest = pitsense_models::builtin_manifest(&config.models.camera_detector)
            .with_context(|| format!("models.camera_detector `{}`", config.models.camera_detector))?;
        let metadata = EpisodeMetadata {
            truck_id: truck_id.to_owned(),
            software_version: env!("CARGO_PKG_VERSION").to_owned(),
            calibration_json: serde_json::to_string(&calibration).context("calibration as JSON")?,
            truck_from_lidar_json: match truck_from_lidar {
                Some(pose) => serde_json::to_string(pose).context("truck_from_lidar as JSON")?,
                None => String::new(),
            },
            model_sha256: manifest.model.sha256,
            trigger_reason: String::new(),
            trigger_stamp_ns: 0,
        };
        let queue = EpisodeQueue::open(&episode_dir, REPLAY_QUEUE_QUOTA_BYTES)
            .with_context(|| format!("episode queue `{}`", episode_dir.display()))?;
        let first_new_seq = queue.entries().map(|entry| entry.seq + 1).max().unwrap_or(0);
        let queue = Arc::new(Mutex::new(queue));
        let recorder_config = pitsense_cloud_link::trigger::RecorderConfig {
            enabled: true,
            episode_dir: episode_dir_text.to_owned(),
            ..config.recorder.clone()
        };
        let handle = RecorderHandle::spawn(recorder_config, metadata, calibration.cloned(), queue.clone())
            .context("cannot start the episode recorder")?;
        Ok(Self {
            handle: Some(handle),
            queue,
            first_new_seq,
            episode_dir,
            offered_messages: 0,
            lossless: false,
        })
    }

    /// Waits for room in the recorder's channel instead of dropping (replay).
    pub fn set_lossless(&mut self, lossless: bool) {
        self.lossless = lossless;
    }

    /// Offers one message: without blocking (a full recorder channel drops and counts it), or,
    /// lossless, waiting for room.
    pub fn offer(&mut self, message: EpisodeMessage) {
        if let Some(handle) = &self.handle {
            self.offered_messages += 1;
            // A refused message is counted by the handle (`dropped_messages`).
            let _ = if self.lossless { handle.offer_blocking(message) } else { handle.offer(message) };
        }
    }

    /// Offers one frame's messages without blocking (moved in: the caller clones only what it
    /// still needs).
    pub fn offer_frame(&mut self, frame: FrameMessages) {
        let header = frame.header;
        if let Some(ego) = frame.ego {
            self.offer(EpisodeMessage::Ego(ego));
        }
        if let Some(cloud) = frame.cloud {
            self.offer(EpisodeMessage::PointCloud(cloud));
        }
        if let Some(image) = frame.image {
            self.offer_image(image);
        }
        if let Some((image_header, detections)) = frame.detections {
            self.offer(EpisodeMessage::Detections2d { header: image_header, detections });
        }
        self.offer(EpisodeMessage::Detections3d { header: frame.fused_header, detections: frame.fused });
        let tracks_header = frame.tracks.first().map_or(header, |track| track.header);
        self.offer(EpisodeMessage::Tracks { header: tracks_header, tracks: frame.tracks });
    }

    /// Offers one camera image (in its camera's frame) without blocking, or, lossless, waiting.
    pub fn offer_image(&mut self, image: RecordedImage) {
        let camera_frame = match image.header.frame {
            FrameId::ImagePixels(id) | FrameId::Camera(id) => FrameId::Camera(id),
            other => other,
        };
        self.offer(EpisodeMessage::CompressedImage(CompressedImage {
            header: Header { frame: camera_frame, ..image.header },
            format: image.format,
            data: image.bytes,
        }));
    }

    /// A manual trigger at `stamp_ns` with `note` (a health mode change).
    pub fn trigger_manual_at(&self, note: &str, stamp_ns: u64) {
        if let Some(handle) = &self.handle {
            handle.trigger_manual_at(note, stamp_ns);
        }
    }

    /// Closes the input, waits for the recorder to close the open episode (with the post-roll
    /// it has) and lists the episodes written.
    ///
    /// # Errors
    /// Writing or queueing an episode failed.
    pub fn finish(mut self) -> anyhow::Result<EpisodeRecordingSummary> {
        let Some(handle) = self.handle.take() else {
            return Ok(EpisodeRecordingSummary {
                episode_dir: self.episode_dir.clone(),
                ..Default::default()
            });
        };
        let dropped_messages = handle.dropped_messages();
        let report = handle.finish().context("episode recorder")?;
        Ok(self.summarise(&report, dropped_messages))
    }

    fn summarise(&self, report: &RecorderReport, dropped_messages: u64) -> EpisodeRecordingSummary {
        let queued: Vec<(u64, String)> = match self.queue.lock() {
            Ok(queue) => queue
                .entries()
                .filter(|entry| entry.seq >= self.first_new_seq)
                .map(|entry| (entry.seq, entry.file_name.clone()))
                .collect(),
            Err(_) => Vec::new(),
        };
        let episodes = report
            .episodes
            .iter()
            .map(|(name, reason, priority)| RecordedEpisode {
                path: queued
                    .iter()
                    .find(|(_, queued_name)| queued_name == name)
                    .map(|(seq, _)| episode_path(&self.episode_dir, *seq)),
                original_name: name.clone(),
                trigger_reason: reason.clone(),
                priority: *priority,
            })
            .collect();
        EpisodeRecordingSummary {
            episode_dir: self.episode_dir.clone(),
            episodes,
            offered_messages: self.offered_messages,
            dropped_messages,
            dropped_for_memory: report.dropped_for_memory,
        }
    }
}

impl Drop for EpisodeRecorder {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take()
            && let Err(error) = handle.finish()
        {
            warn!("episode recorder: {error}");
        }
    }
}

/// The Foxglove image format of an image file, from its extension (`png` when unknown).
pub fn image_format(path: &Path) -> String {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("jpg" | "jpeg") => "jpeg".into(),
        Some("webp") => "webp".into(),
        _ => "png".into(),
    }
}
