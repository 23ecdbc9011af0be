//! `pitsense run`: the onboard runtime — live sensors (or recorded ones), one dataflow graph,
//! deadlines, health and degraded modes, outputs.
//!
//! ```text
//! camera (OpenCV) ─[camera, drop oldest]─> camera task (detector) ─[camera_task->fusion]──┐
//! lidar sources (UDP/pcap) ─[lidar, drop oldest]─> lidar task (merge, obstacle pipeline) ─┤
//! V2X source (UDP/log) ─────[v2x, drop oldest]───────────────────────────────────────────┤
//! GNSS (NMEA over UDP/serial) ─[gnss, drop oldest]───────────────────────────────────────┤
//! vehicle CAN (SocketCAN/UDP/candump) ─[can, drop oldest]────────────────────────────────┤
//!                                                    [lidar_task->fusion, drop oldest]    v
//!                                   fusion task (frame clock): pairing (the camera result
//!                                   nearest in stamp within run.pairing_tolerance_ms),
//!                                   camera–lidar fusion, ego pose at the frame stamp, V2X
//!                                   objects, tracker ──> objects.jsonl, zenoh objects
//!                                   and latency, nearest objects for CAN
//! health (main thread, every run.health_period_ms): input status, mode, drops, watchdogs
//!                                   ──> health.jsonl, zenoh health, CAN health + objects
//! ```
//!
//! Ego pose: with a GNSS input, the [`crate::gnss::EgoEstimator`] interpolates the fixes (and
//! dead-reckons with the CAN speed and yaw rate) to each frame's stamp. A frame with no pose is
//! tracked at the last pose, without V2X (whose objects need the truck's true pose), and the
//! mode says `ego_pose_lost` once the GNSS input is lost. Until the first pose the site frame is
//! the truck's own (identity pose); the tracker restarts at the first pose. Without GNSS,
//! `run.ego_pose_site` is a fixed pose (a parked or simulated truck).
//!
//! Threads and bounded edges ([`crate::graph::channel`]); every drop is counted and published in
//! the health message. Time is the injected clock: the system clock live, the recording's clock
//! in replay ([`RunMode::Replay`]: lossless edges, event-time fusion, no deadlines forced), so
//! that replay is this very graph with file sources swapped in (`pcap:`, `log:`, `candump:`, a
//! `file:` video stamped from its position, a KITTI dataset through [`KittiSource`], or an
//! episode recorded by pitsense through [`EpisodeSource`]: `pitsense replay` is a front over
//! [`run`]). Replaying an episode, fusion takes the truck's pose recorded at each frame's stamp
//! (the `/ego/state` it recorded) instead of estimating it again. Stage work is timed on a separate work clock
//! ([`RunOptions::work_clock`]), never on the recording's.
//!
//! Event time: each partner of fusion (camera task, V2X, CAN, GNSS) has a watermark — nothing it
//! will still deliver is stamped before it; the camera task publishes its own, so a frame waits
//! for the detector, not just for the camera. A frame is fused once every partner is strictly
//! past its stamp (live with `sync = "event_time"`, at most `run.input_wait_ms` longer).
//!
//! Lidar lost (live): while the lidar input is not usable and a camera or V2X input exists,
//! fusion makes frames without it — one per camera result, or one per lidar period on the clock
//! — with the camera's detections placed on the ground
//! ([`pitsense_perception::camera::ground_plane_measurements`], a covariance growing with the
//! square of the range) and the V2X objects; they are flagged `lidar_lost` in `objects.jsonl`.
//!
//! Frame deadline: a frame is late when it is published more than `run.frame_budget_ms` after
//! its stamp; late frames are counted and reported, never dropped silently.

pub mod config;
pub mod episode_source;
pub mod sources;

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use pitsense_cloud_link::{EpisodeMessage, RecordedEgo, V2xRaw};
use pitsense_fusion::camera_lidar::CameraLidarFusion;
use pitsense_fusion::tracker::{Tracker, TrackerConfig, UpdateReport};
use pitsense_perception::camera::{GroundRangeConfig, ground_plane_measurements};
use pitsense_perception::drivers::PacketCounters;
use pitsense_perception::lidar::{LidarOutput, LidarPipeline, LidarStats};
use pitsense_types::nalgebra::Isometry3;
use pitsense_types::{
    CameraCalibration, Clock, Detection2d, EgoState, FrameId, Header, HealthReport, ManualClock, PointCloud,
    Track, VehicleSignals,
};
use tracing::{info, warn};

use crate::can::{CanBus, CanInputCounters, CanOutputEncoder, Dbc, ObjectOnCan, VehicleSignalDecoder};
use crate::config::PitsenseConfig;
use crate::episodes::{EpisodeRecorder, EpisodeRecordingSummary, FrameMessages, RecordedImage};
use crate::gnss::{EgoEstimator, GnssCounters, StampedSentence};
use crate::graph::channel::{DropPolicy, EdgeProbe, EdgeReceiver, RecvOutcome, edge};
use crate::graph::health::{InputRole, MonitorConfig, degraded_mode};
use crate::graph::watchdog::StageWatch;
use crate::objects_jsonl::FrameRecord;
use crate::onboard::config::{RunConfig, SyncPolicy};
use crate::onboard::episode_source::{EpisodeOutputs, EpisodeSource};
use crate::onboard::sources::{
    CameraFrame, CameraInput, CanSource, GnssInput, InputState, KittiSource, LidarDecoder, LidarScanMessage,
    LidarSource, SourceContext, V2xDatagram, V2xSource, Watermark,
};
use crate::outputs::{LatencyReport, ZenohOutputs};
use crate::replay::percentile;
use crate::v2x_fusion::{V2xFusion, V2xFusionStats};

/// Live sensors or a recording.
#[derive(Clone, Debug)]
pub enum RunMode {
    /// The system clock; configured drop policies; deadlines force fusion.
    Live,
    /// The recording's clock (advanced by the file sources); lossless edges; event-time fusion;
    /// the run ends when every input has ended.
    Replay(ManualClock),
}

/// A recording replayed as several inputs at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordedInput {
    /// A dataset in KITTI object layout (`velodyne/`, `image_2/`, `calib/`): the lidar and
    /// camera inputs (see [`KittiSource`]); `run.inputs.lidar` and `run.inputs.camera` must be
    /// absent.
    Kitti(PathBuf),
    /// An episode recorded by pitsense (MCAP): its lidar clouds, camera images, V2X datagrams
    /// and ego states (see [`EpisodeSource`]); `run.inputs` lidar, camera, V2X and GNSS must be
    /// absent.
    Episode(PathBuf),
}

/// What `run` needs.
#[derive(Debug)]
pub struct RunOptions {
    /// Validated configuration with a `[run]` section.
    pub config: PitsenseConfig,
    /// Data root (model files, relative metadata paths).
    pub data_root: PathBuf,
    /// Live or replay.
    pub mode: RunMode,
    /// The injected clock (live: [`crate::graph::clock::SystemClock`]).
    pub clock: Arc<dyn Clock>,
    /// The clock that times the stages' work (per-stage latency, watchdogs): the system clock,
    /// live and in replay (the recording's clock stands still while a stage works). Never
    /// read by a stage and never part of its output.
    pub work_clock: Arc<dyn Clock>,
    /// Replay a recording that is not a `[run]` input: a KITTI dataset or an episode (replay
    /// only; the inputs it replaces must be absent from `run.inputs`).
    pub recorded: Option<RecordedInput>,
    /// Replay: the camera video's time zero on the recording's clock, ns; `None`: the first
    /// lidar capture's first packet.
    pub replay_video_start_ns: Option<u64>,
    /// Write a Rerun recording of every fused frame here (points, obstacles, the camera image
    /// when the source kept it, detections, tracks); needs the `rerun` cargo feature.
    pub rrd: Option<PathBuf>,
    /// Set by a signal handler (or a test) to stop.
    pub stop: Arc<AtomicBool>,
    /// Stop after this long (live), if given.
    pub duration: Option<Duration>,
}

/// Why the run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The stop flag was set (SIGINT/SIGTERM, or a test).
    Requested,
    /// `duration` elapsed.
    DurationElapsed,
    /// Replay: every input ended and every frame was processed.
    InputsEnded,
}

/// The run's figures, printed at the end.
#[derive(Clone, Debug)]
pub struct RunSummary {
    /// Why it ended.
    pub stop_reason: StopReason,
    /// Frames fused and published.
    pub frames: u64,
    /// Frames published after their deadline.
    pub late_frames: u64,
    /// End-to-end latency per frame (the newest [`LATENCY_SAMPLES_KEPT`] frames), from the
    /// arrival of the packet that completed the lidar frame to the publication of its objects,
    /// ms.
    pub latency_ms: Vec<f64>,
    /// Drops per edge.
    pub dropped: BTreeMap<String, u64>,
    /// Malformed inputs per input name.
    pub malformed: BTreeMap<String, u64>,
    /// Packet counters per lidar.
    pub lidar_packets: Vec<PacketCounters>,
    /// The V2X input's counters, when configured.
    pub v2x: Option<V2xFusionStats>,
    /// Mode changes, in order: (clock ns, mode, reason).
    pub mode_changes: Vec<(u64, String, String)>,
    /// The vehicle CAN input's counters, when configured.
    pub can: Option<CanInputCounters>,
    /// The GNSS input's counters, when configured.
    pub gnss: Option<GnssCounters>,
    /// Outputs that could not be published or sent (zenoh puts, CAN frames), by output.
    pub output_errors: BTreeMap<String, u64>,
    /// What the episode recorder did, when `run.outputs.episodes`.
    pub episodes: Option<EpisodeRecordingSummary>,
    /// Problems kept per input name (each names the input, the file or packet, the reason).
    pub problems: BTreeMap<String, Vec<String>>,
    /// Objects published, summed over frames.
    pub objects_published: u64,
    /// Most objects published in one frame.
    pub objects_max: u64,
    /// Objects published with source `v2x` (seen only through V2X), summed over frames.
    pub v2x_only_objects: u64,
    /// Camera detections fused into frames, summed over frames.
    pub camera_detections: u64,
    /// Frames published while the lidar was lost (camera- or clock-driven, flagged
    /// `"degraded": "lidar_lost"` in `objects.jsonl`), included in `frames`.
    pub lidar_lost_frames: u64,
    /// Work time per stage (`lidar`, `camera`, `fusion`) of the newest
    /// [`LATENCY_SAMPLES_KEPT`] frames, ms, on the work clock.
    pub stage_ms: BTreeMap<String, Vec<f64>>,
    /// What the tracker did, summed over frames ([`pitsense_fusion::tracker::UpdateReport`]).
    pub tracker: TrackerTotals,
    /// What the lidar pipeline did to the points, summed over the frames with a lidar scan.
    pub lidar_stats: LidarStats,
}

/// The tracker's [`UpdateReport`]s summed over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrackerTotals {
    /// Updates (frames fused).
    pub updates: u64,
    /// Detections that updated a track.
    pub matched: u64,
    /// Tracks started.
    pub born: u64,
    /// Tracks deleted.
    pub deleted: u64,
    /// Detections ignored for a non-finite value or a negative size.
    pub rejected_invalid: u64,
    /// Detections ignored for being in another frame than the tracker's.
    pub rejected_frame: u64,
    /// Updates whose stamp was not after the previous one (zero-time predictions).
    pub stamps_not_increasing: u64,
    /// V2X objects that updated a track.
    pub v2x_matched: u64,
    /// Tracks started by a V2X object.
    pub v2x_born: u64,
    /// V2X objects ignored.
    pub v2x_rejected: u64,
}

impl TrackerTotals {
    /// Adds one update's report.
    pub fn add(&mut self, report: &UpdateReport) {
        let UpdateReport {
            matched,
            born,
            deleted,
            rejected_invalid,
            rejected_frame,
            stamp_not_increasing,
            v2x_matched,
            v2x_born,
            v2x_rejected,
        } = *report;
        self.updates += 1;
        self.matched += matched as u64;
        self.born += born as u64;
        self.deleted += deleted as u64;
        self.rejected_invalid += rejected_invalid as u64;
        self.rejected_frame += rejected_frame as u64;
        self.stamps_not_increasing += u64::from(stamp_not_increasing);
        self.v2x_matched += v2x_matched as u64;
        self.v2x_born += v2x_born as u64;
        self.v2x_rejected += v2x_rejected as u64;
    }

    /// One line for a summary: `tracker: 80 updates, 75 matched, 3 born, 1 deleted, ...`.
    pub fn render(&self) -> String {
        format!(
            "tracker: {} updates, {} detections matched, {} tracks born, {} deleted; rejected: {} invalid, {} in another frame; {} stamps not increasing; V2X: {} matched, {} born, {} rejected\n",
            self.updates,
            self.matched,
            self.born,
            self.deleted,
            self.rejected_invalid,
            self.rejected_frame,
            self.stamps_not_increasing,
            self.v2x_matched,
            self.v2x_born,
            self.v2x_rejected
        )
    }
}

/// One line for a summary of the lidar pipeline's summed [`LidarStats`].
pub fn render_lidar_stats(stats: &LidarStats) -> String {
    format!(
        "lidar points: {} in, {} non-finite, {} out of range, {} in the ego box, {} ground, {} dust, {} obstacle; clusters: {} ({} oversized, {} too small)\n",
        stats.input_points,
        stats.non_finite,
        stats.out_of_range,
        stats.in_ego_box,
        stats.ground_points,
        stats.dust_points,
        stats.obstacle_points,
        stats.clusters,
        stats.oversized_clusters,
        stats.small_clusters
    )
}

impl RunSummary {
    /// The summary as text.
    pub fn render(&self) -> String {
        let mut latency = self.latency_ms.clone();
        let mut out = format!(
            "stopped: {:?}\nframes: {} published ({} while the lidar was lost), {} late\nend-to-end latency ms: p50 {:.2}, p99 {:.2}, max {:.2}\n",
            self.stop_reason,
            self.frames,
            self.lidar_lost_frames,
            self.late_frames,
            percentile(&mut latency, 0.5),
            percentile(&mut latency, 0.99),
            latency.iter().copied().fold(f64::NAN, f64::max),
        );
        out.push_str(&self.tracker.render());
        out.push_str(&render_lidar_stats(&self.lidar_stats));
        for (edge, dropped) in &self.dropped {
            out.push_str(&format!("edge {edge}: {dropped} dropped\n"));
        }
        for (input, malformed) in &self.malformed {
            out.push_str(&format!("input {input}: {malformed} malformed\n"));
        }
        for (index, counters) in self.lidar_packets.iter().enumerate() {
            out.push_str(&format!(
                "lidar {index}: {} packets, {} lost, {} malformed, {} rotations\n",
                counters.packets, counters.lost, counters.malformed, counters.rotations
            ));
        }
        if let Some(v2x) = &self.v2x {
            out.push_str(&format!(
                "v2x: {} received, {} fused, {} undecodable, {} implausible, {} dropped\n",
                v2x.received, v2x.fused_objects, v2x.undecodable, v2x.implausible, v2x.dropped_inbox_full
            ));
        }
        if let Some(can) = &self.can {
            out.push_str(&format!(
                "can: {} frames, {} unknown ids, {} undecodable\n",
                can.frames_received, can.unknown_ids, can.decode_errors
            ));
        }
        if let Some(gnss) = &self.gnss {
            out.push_str(&format!(
                "gnss: {} sentences, {} bad checksum, {} unsupported, {} malformed\n",
                gnss.parsed, gnss.bad_checksum, gnss.unsupported, gnss.malformed
            ));
        }
        for (input, problems) in &self.problems {
            for problem in problems {
                out.push_str(&format!("input {input}: {problem}\n"));
            }
        }
        if let Some(episodes) = &self.episodes {
            out.push_str(&episodes.render());
        }
        for (output, errors) in &self.output_errors {
            out.push_str(&format!("output {output}: {errors} not sent\n"));
        }
        for (stamp_ns, mode, reason) in &self.mode_changes {
            out.push_str(&format!("mode {mode} at {stamp_ns} ns: {reason}\n"));
        }
        out
    }
}

/// The lidar task's output for one frame.
#[derive(Debug)]
struct LidarResult {
    /// The frame's name in the objects output, when its source named it.
    name: Option<String>,
    /// The merged cloud (first lidar's frame).
    cloud: PointCloud,
    /// Obstacles, boxes and counters.
    output: LidarOutput,
    /// When the frame's last packet arrived, clock ns.
    arrival_ns: u64,
    /// Time the lidar task spent on the frame, ms.
    lidar_ms: f64,
    /// A frame made while the lidar is lost (no cloud, no lidar objects): driven by the camera
    /// (its monocular ground-plane estimates) or, without one, by the clock (V2X, coasting).
    lidar_lost: bool,
}

impl LidarResult {
    /// A frame without the lidar at `stamp_ns` (empty cloud in the primary lidar's frame, no
    /// lidar objects), due at `arrival_ns`.
    fn lidar_lost(stamp_ns: u64, arrival_ns: u64) -> Self {
        let header = Header { stamp_ns, frame: FrameId::Lidar(0), seq: 0 };
        Self {
            name: None,
            cloud: PointCloud { header, points: Vec::new() },
            output: LidarOutput {
                objects: Vec::new(),
                object_info: Vec::new(),
                obstacle_points: Vec::new(),
                stats: pitsense_perception::lidar::LidarStats::default(),
            },
            arrival_ns,
            lidar_ms: 0.0,
            lidar_lost: true,
        }
    }
}

/// The camera task's output for one image.
#[derive(Debug)]
struct CameraResult {
    /// The image's header (capture stamp, pixel frame).
    header: Header,
    /// The detector's boxes.
    detections: Vec<Detection2d>,
    /// Time the detector took, ms.
    camera_ms: f64,
    /// The image as recorded, when its source kept it (bytes, format).
    encoded: Option<(Vec<u8>, String)>,
    /// The image's own calibration, when its source carries one.
    calibration: Option<CameraCalibration>,
}

/// End-to-end latency samples kept for the run's summary: the last hour at 10 Hz.
pub const LATENCY_SAMPLES_KEPT: usize = 36_000;

/// Most camera results kept for pairing.
const CAMERA_RESULTS_KEPT: usize = 8;

/// Everything the threads share.
struct Shared {
    clock: Arc<dyn Clock>,
    /// Times the stages' work (see [`RunOptions::work_clock`]).
    work_clock: Arc<dyn Clock>,
    stop: Arc<AtomicBool>,
    late_frames: AtomicU64,
    frames: AtomicU64,
    /// The newest [`LATENCY_SAMPLES_KEPT`] end-to-end latencies, ms (a ring: a long run's
    /// memory stays bounded).
    latency_ms: Mutex<VecDeque<f64>>,
    health: Mutex<Option<HealthReport>>,
    /// The zenoh outputs, when configured (fusion publishes objects and latency, the health
    /// loop the health).
    zenoh: Option<Mutex<ZenohOutputs>>,
    /// The newest frame's objects in the truck frame, for the CAN output.
    objects_on_can: Mutex<Vec<ObjectOnCan>>,
    /// Failed publications per output.
    output_errors: Mutex<BTreeMap<String, u64>>,
    /// The episode recorder, when `run.outputs.episodes` (taken out to finish it).
    recorder: Mutex<Option<EpisodeRecorder>>,
    /// The published frames' figures for the summary.
    totals: Mutex<FrameTotals>,
}

/// Per-frame figures summed for the run's summary.
#[derive(Debug, Default)]
struct FrameTotals {
    objects: u64,
    objects_max: u64,
    v2x_only: u64,
    camera_detections: u64,
    lidar_lost_frames: u64,
    /// Work time per stage, ms (rings of [`LATENCY_SAMPLES_KEPT`]).
    stage_ms: BTreeMap<String, VecDeque<f64>>,
    tracker: TrackerTotals,
    lidar_stats: LidarStats,
}

impl FrameTotals {
    fn push_stage(&mut self, stage: &str, ms: f64) {
        let samples = self.stage_ms.entry(stage.to_owned()).or_default();
        if samples.len() >= LATENCY_SAMPLES_KEPT {
            samples.pop_front();
        }
        samples.push_back(ms);
    }
}

impl Shared {
    /// Whether an episode recorder runs.
    fn recording(&self) -> bool {
        self.recorder.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    /// Offers one message to the episode recorder, if any (never blocks: a full recorder
    /// channel drops and counts).
    fn record(&self, message: EpisodeMessage) {
        if let Some(recorder) = self.recorder.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            recorder.offer(message);
        }
    }

    /// Offers one camera image to the episode recorder, if any.
    fn record_image(&self, image: RecordedImage) {
        if let Some(recorder) = self.recorder.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            recorder.offer_image(image);
        }
    }

    /// Offers one frame's messages to the episode recorder, if any.
    fn record_frame(&self, frame: FrameMessages) {
        if let Some(recorder) = self.recorder.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            recorder.offer_frame(frame);
        }
    }

    /// Counts a failed publication; the first of each output is logged as a warning.
    fn output_failed(&self, output: &str, error: &dyn std::fmt::Display) {
        let mut errors = self.output_errors.lock().unwrap_or_else(PoisonError::into_inner);
        let count = errors.entry(output.to_owned()).or_insert(0);
        if *count == 0 {
            warn!("output {output}: {error} (further failures are counted)");
        }
        *count += 1;
    }

    /// Runs `publish` on the zenoh outputs, if any, counting a failure under `output`.
    fn publish_zenoh(
        &self,
        output: &str,
        publish: impl FnOnce(&mut ZenohOutputs) -> Result<(), crate::outputs::OutputError>,
    ) {
        if let Some(zenoh) = &self.zenoh {
            let result = publish(&mut zenoh.lock().unwrap_or_else(PoisonError::into_inner));
            if let Err(error) = result {
                self.output_failed(output, &error);
            }
        }
    }
}

/// Runs the graph until stopped, the duration elapses, or (replay) every input ended.
///
/// # Errors
/// Start-up errors (invalid `[run]`, unreadable metadata, model or ONNX Runtime missing,
/// output files not writable). Input failures while running are reported in the health message
/// and the summary, never fatal.
pub fn run(options: RunOptions) -> anyhow::Result<RunSummary> {
    let Some(run_config) = options.config.run.clone() else {
        anyhow::bail!(
            "`pitsense run` needs a [run] section in the configuration (see config/examples/loopback.toml)"
        );
    };
    run_config.validate()?;
    let replay = matches!(options.mode, RunMode::Replay(_));
    let replay_clock = match &options.mode {
        RunMode::Replay(clock) => Some(clock.clone()),
        RunMode::Live => None,
    };
    let clock = Arc::clone(&options.clock);
    let start_ns = clock.now_ns();
    let input_policy = if replay { DropPolicy::Block } else { run_config.input_drop_policy };
    let context = SourceContext { clock: Arc::clone(&clock), replay_clock, stop: Arc::clone(&options.stop) };
    if replay && run_config.inputs.gnss.is_some() {
        anyhow::bail!(
            "run.inputs.gnss is live only: NMEA sentences carry no reception stamps to replay \
             (replay with run.ego_pose_site instead)"
        );
    }
    let zenoh = match run_config.zenoh_outputs() {
        Some(zenoh_config) => {
            let outputs = ZenohOutputs::open(&zenoh_config).context("run.outputs.zenoh")?;
            info!(listen = ?zenoh_config.listen, connect = ?zenoh_config.connect, "zenoh outputs open");
            Some(Mutex::new(outputs))
        }
        None => None,
    };
    let shared = Arc::new(Shared {
        clock: Arc::clone(&clock),
        work_clock: Arc::clone(&options.work_clock),
        stop: Arc::clone(&options.stop),
        late_frames: AtomicU64::new(0),
        frames: AtomicU64::new(0),
        latency_ms: Mutex::new(VecDeque::with_capacity(LATENCY_SAMPLES_KEPT)),
        health: Mutex::new(None),
        zenoh,
        objects_on_can: Mutex::new(Vec::new()),
        output_errors: Mutex::new(BTreeMap::new()),
        recorder: Mutex::new(None),
        totals: Mutex::new(FrameTotals::default()),
    });
    let mut inputs: Vec<Arc<InputState>> = Vec::new();
    let mut probes: Vec<EdgeProbe> = Vec::new();
    let mut threads: Vec<(String, JoinHandle<()>)> = Vec::new();
    let mut watches: Vec<StageWatch> = Vec::new();
    let mut lidar_packet_counters = Vec::new();

    // Lidar and camera: from the configured sensors, or from a dataset replayed as both.
    let (lidar_result_tx, lidar_result_rx, probe) = edge::<LidarResult>(
        "lidar_task->fusion",
        2,
        if replay { DropPolicy::Block } else { DropPolicy::DropOldest },
    );
    probes.push(probe);
    let mut lidar_state = None;
    let mut camera_rx = None;
    let mut camera_state = None;
    let mut camera_fusion = None;
    let mut camera_task_watermark = None;
    // The pose of the frame lidar results are in (the primary lidar's), recorded in episodes.
    let mut truck_from_lidar_pose =
        run_config.inputs.lidar.as_ref().and_then(|l| l.sensors.first()).map(|s| s.truck_from_lidar);
    let mut truck_from_lidar = truck_from_lidar_pose.map(|pose| pose.isometry()).unwrap_or_default();
    let tasks = TaskContext {
        config: &options.config,
        run: &run_config,
        data_root: &options.data_root,
        replay,
        work_clock: Arc::clone(&options.work_clock),
        shared: Arc::clone(&shared),
    };
    // V2X and the recorded ego pose: set by an episode, or V2X by run.inputs.v2x below.
    let mut v2x_rx = None;
    let mut v2x_state = None;
    let mut v2x_fusion = None;
    let mut v2x_source_name = String::new();
    let mut recorded_ego_rx = None;
    let mut recorded_ego_state = None;
    if let Some(RecordedInput::Kitti(dataset)) = &options.recorded {
        if !replay {
            anyhow::bail!("a KITTI dataset is an input of replay only");
        }
        if run_config.inputs.lidar.is_some() || run_config.inputs.camera.is_some() {
            anyhow::bail!(
                "a KITTI dataset replaces run.inputs.lidar and run.inputs.camera: remove them from the configuration"
            );
        }
        let source = KittiSource::open(dataset, &options.config.replay)?;
        let pose = crate::replay::lidar_in_truck_pose(options.config.replay.lidar_in_truck);
        truck_from_lidar = pose.isometry();
        truck_from_lidar_pose = Some(pose);
        // Nominal 1 / frame period; replay judges nothing live, but the summary names the inputs.
        let monitor = MonitorConfig {
            nominal_rate_hz: 1e3 / options.config.replay.frame_period_ms.max(1) as f64,
            ..MonitorConfig::default()
        };
        let lidar = InputState::new("lidar", InputRole::Lidar, monitor.clone(), start_ns);
        let camera = InputState::new("camera", InputRole::Camera, monitor, start_ns);
        inputs.push(Arc::clone(&lidar));
        inputs.push(Arc::clone(&camera));
        let (scan_tx, scan_rx, probe) = edge::<LidarScanMessage>("lidar->lidar_task", 2, input_policy);
        probes.push(probe);
        let (image_tx, image_rx, probe) = edge::<CameraFrame>("camera->camera_task", 2, input_policy);
        probes.push(probe);
        watches.push(tasks.spawn_lidar_task(
            scan_rx,
            vec![Isometry3::identity()],
            lidar_result_tx.clone(),
            Arc::clone(&lidar),
            &mut threads,
        )?);
        let (result_rx, watch, fusion, task_watermark) = tasks.spawn_camera_task(
            image_rx,
            Arc::clone(&camera),
            source.first_calibration().clone(),
            &mut probes,
            &mut threads,
        )?;
        watches.push(watch);
        camera_task_watermark = Some(task_watermark);
        camera_fusion = Some(fusion);
        camera_rx = Some(result_rx);
        let (lidar_for_source, camera_for_source) = (Arc::clone(&lidar), Arc::clone(&camera));
        let context = context.clone();
        threads.push((
            "kitti".into(),
            spawn("kitti", move || {
                source.run(scan_tx, image_tx, &lidar_for_source, &camera_for_source, &context)
            })?,
        ));
        lidar_state = Some(lidar);
        camera_state = Some(camera);
    }
    if let Some(RecordedInput::Episode(path)) = &options.recorded {
        if !replay {
            anyhow::bail!("an episode is an input of replay only");
        }
        let inputs_set = &run_config.inputs;
        if inputs_set.lidar.is_some()
            || inputs_set.camera.is_some()
            || inputs_set.v2x.is_some()
            || inputs_set.gnss.is_some()
        {
            anyhow::bail!(
                "an episode replaces run.inputs.lidar, camera, v2x and gnss: remove them from the configuration"
            );
        }
        let source = EpisodeSource::open(path)?;
        // The extrinsics the episode was recorded with; `replay.lidar_in_truck` for an episode
        // that does not say (recorded before the key existed).
        let pose = source
            .truck_from_lidar()
            .unwrap_or_else(|| crate::replay::lidar_in_truck_pose(options.config.replay.lidar_in_truck));
        truck_from_lidar = pose.isometry();
        truck_from_lidar_pose = Some(pose);
        let mut outputs = EpisodeOutputs::default();
        let lidar = InputState::new("lidar", InputRole::Lidar, MonitorConfig::default(), start_ns);
        inputs.push(Arc::clone(&lidar));
        let (scan_tx, scan_rx, probe) = edge::<LidarScanMessage>("lidar->lidar_task", 2, input_policy);
        probes.push(probe);
        watches.push(tasks.spawn_lidar_task(
            scan_rx,
            vec![Isometry3::identity()],
            lidar_result_tx.clone(),
            Arc::clone(&lidar),
            &mut threads,
        )?);
        outputs.lidar = Some((scan_tx, Arc::clone(&lidar)));
        lidar_state = Some(lidar);
        if let (true, Some(calibration)) = (source.has_camera(), source.calibration()) {
            let camera = InputState::new("camera", InputRole::Camera, MonitorConfig::default(), start_ns);
            inputs.push(Arc::clone(&camera));
            let (image_tx, image_rx, probe) = edge::<CameraFrame>("camera->camera_task", 2, input_policy);
            probes.push(probe);
            let (result_rx, watch, fusion, task_watermark) = tasks.spawn_camera_task(
                image_rx,
                Arc::clone(&camera),
                calibration.clone(),
                &mut probes,
                &mut threads,
            )?;
            watches.push(watch);
            camera_task_watermark = Some(task_watermark);
            camera_fusion = Some(fusion);
            camera_rx = Some(result_rx);
            outputs.camera = Some((image_tx, Arc::clone(&camera)));
            camera_state = Some(camera);
        } else if let Some(topic) = source.camera_without_calibration() {
            warn!(
                "episode `{}`: images on {topic} but no camera calibration in its metadata: the camera is not replayed",
                path.display()
            );
        }
        if source.has_ego() {
            let state = InputState::new("ego", InputRole::EgoPose, MonitorConfig::default(), start_ns);
            inputs.push(Arc::clone(&state));
            let (tx, rx, probe) = edge::<RecordedEgo>("ego->fusion", 64, input_policy);
            probes.push(probe);
            outputs.ego = Some((tx, Arc::clone(&state)));
            recorded_ego_rx = Some(rx);
            recorded_ego_state = Some(state);
        }
        if source.has_v2x() {
            match &options.config.v2x {
                Some(_) if !source.has_ego() && run_config.ego_pose_site.is_none() => warn!(
                    "episode `{}`: its V2X datagrams are not replayed: it has no ego states and \
                     no run.ego_pose_site is set",
                    path.display()
                ),
                Some(v2x_config) => {
                    let fusion = V2xFusion::new(v2x_config)?;
                    probes.push(fusion.inbox_probe());
                    v2x_fusion = Some(fusion);
                    let state = InputState::new("v2x", InputRole::V2x, MonitorConfig::default(), start_ns);
                    inputs.push(Arc::clone(&state));
                    let capacity = v2x_config.receiver.queue_capacity.max(1);
                    let (tx, rx, probe) = edge::<V2xDatagram>("v2x->fusion", capacity, input_policy);
                    probes.push(probe);
                    outputs.v2x = Some((tx, Arc::clone(&state)));
                    v2x_source_name = episode_source::EPISODE_V2X_SOURCE.to_owned();
                    v2x_rx = Some(rx);
                    v2x_state = Some(state);
                }
                None => warn!(
                    "episode `{}`: its V2X datagrams are not replayed: the configuration has no [v2x] section",
                    path.display()
                ),
            }
        }
        let context = context.clone();
        threads.push(("episode".into(), spawn("episode", move || source.run(outputs, &context))?));
    }
    if let Some(lidar) = &run_config.inputs.lidar {
        let state = InputState::new("lidar", InputRole::Lidar, lidar.health.clone(), start_ns);
        inputs.push(Arc::clone(&state));
        let (scan_tx, scan_rx, probe) = edge::<LidarScanMessage>(
            "lidar->lidar_task",
            run_config.input_queue_capacity * lidar.sensors.len(),
            input_policy,
        );
        probes.push(probe);
        for (index, sensor) in lidar.sensors.iter().enumerate() {
            let decoder = LidarDecoder::new(sensor, &options.data_root)
                .with_context(|| format!("run.inputs.lidar.sensors[{index}]"))?;
            let counters = Arc::new(Mutex::new(PacketCounters::default()));
            lidar_packet_counters.push(Arc::clone(&counters));
            let source = LidarSource {
                sensor_index: index,
                config: sensor.clone(),
                decoder,
                sender: scan_tx.clone(),
                state: Arc::clone(&state),
                counters,
            };
            let context = context.clone();
            threads.push((
                format!("lidar{index}"),
                spawn(&format!("lidar{index}"), move || source.run(context))?,
            ));
        }
        drop(scan_tx);
        let primary_from_sensor: Vec<Isometry3<f64>> = lidar
            .sensors
            .iter()
            .map(|s| truck_from_lidar.inverse() * s.truck_from_lidar.isometry())
            .collect();
        watches.push(tasks.spawn_lidar_task(
            scan_rx,
            primary_from_sensor,
            lidar_result_tx.clone(),
            Arc::clone(&state),
            &mut threads,
        )?);
        lidar_state = Some(state);
    }
    drop(lidar_result_tx);
    if let Some(camera) = &run_config.inputs.camera {
        let calibration = CameraCalibration {
            camera_id: 0,
            intrinsics: camera.intrinsics,
            camera_from_lidar: camera.truck_from_camera.isometry().inverse() * truck_from_lidar,
        };
        let state = InputState::new("camera", InputRole::Camera, camera.health.clone(), start_ns);
        inputs.push(Arc::clone(&state));
        let (image_tx, image_rx, probe) = edge::<CameraFrame>("camera->camera_task", 2, input_policy);
        probes.push(probe);
        let (result_rx, watch, fusion, task_watermark) =
            tasks.spawn_camera_task(image_rx, Arc::clone(&state), calibration, &mut probes, &mut threads)?;
        watches.push(watch);
        camera_task_watermark = Some(task_watermark);
        // A video replayed beside a capture starts at the capture's first packet unless told.
        let replay_start_ns = match (replay, options.replay_video_start_ns) {
            (true, Some(start_ns)) => start_ns,
            (true, None) => first_capture_stamp_ns(&run_config)?,
            (false, _) => 0,
        };
        let source = CameraInput {
            uri: camera.source.clone(),
            replay_start_ns,
            sender: image_tx,
            state: Arc::clone(&state),
        };
        let context = context.clone();
        threads.push(("camera".into(), spawn("camera", move || source.run(context))?));
        camera_fusion = Some(fusion);
        camera_rx = Some(result_rx);
        camera_state = Some(state);
    }

    // V2X source.
    if let Some(v2x) = &run_config.inputs.v2x {
        let Some(v2x_config) = &options.config.v2x else {
            anyhow::bail!("run.inputs.v2x needs a [v2x] section (at least [v2x.site_origin])");
        };
        if run_config.ego_pose_site.is_none() && run_config.inputs.gnss.is_none() && recorded_ego_rx.is_none()
        {
            anyhow::bail!("run.inputs.v2x needs the truck's pose: set run.ego_pose_site (or a GNSS input)");
        }
        let fusion = V2xFusion::new(v2x_config)?;
        probes.push(fusion.inbox_probe());
        v2x_fusion = Some(fusion);
        let state = InputState::new("v2x", InputRole::V2x, v2x.health.clone(), start_ns);
        inputs.push(Arc::clone(&state));
        let capacity = v2x_config.receiver.queue_capacity.max(1);
        let (tx, rx, probe) = edge::<V2xDatagram>("v2x->fusion", capacity, input_policy);
        probes.push(probe);
        let source = V2xSource { source: v2x.source.clone(), sender: tx, state: Arc::clone(&state) };
        v2x_source_name = if v2x.source.starts_with("log:") {
            crate::replay::V2X_LOG_SOURCE.to_owned()
        } else {
            v2x.source.clone()
        };
        let context = context.clone();
        threads.push(("v2x".into(), spawn("v2x", move || source.run(context))?));
        v2x_rx = Some(rx);
        v2x_state = Some(state);
    }

    // Episodes.
    if run_config.outputs.episodes {
        let calibration = camera_fusion.as_ref().map(|(_, calibration)| calibration);
        let mut recorder = EpisodeRecorder::start(
            &options.config,
            std::path::Path::new(&options.config.recorder.episode_dir),
            &run_config.truck_id,
            calibration,
            truck_from_lidar_pose.as_ref(),
        )?;
        recorder.set_lossless(replay);
        *shared.recorder.lock().unwrap_or_else(PoisonError::into_inner) = Some(recorder);
    }
    // Vehicle CAN input.
    let mut can_rx = None;
    let mut can_state = None;
    let mut can_counters = None;
    if let Some(can) = &run_config.inputs.can {
        let dbc = Dbc::from_file(&can.dbc_path).context("run.inputs.can.dbc_path")?;
        let decoder = VehicleSignalDecoder::new(can, dbc)?;
        let state = InputState::new("can", InputRole::Other, can.health.clone(), start_ns);
        inputs.push(Arc::clone(&state));
        let (tx, rx, probe) = edge::<VehicleSignals>("can->fusion", 64, input_policy);
        probes.push(probe);
        let counters = Arc::new(Mutex::new(CanInputCounters::default()));
        let source = CanSource {
            bus_uri: can.bus.clone(),
            decoder,
            sender: tx,
            state: Arc::clone(&state),
            counters: Arc::clone(&counters),
        };
        let context = context.clone();
        threads.push(("can".into(), spawn("can", move || source.run(context))?));
        can_rx = Some(rx);
        can_state = Some(state);
        can_counters = Some(counters);
    }

    // GNSS input and the ego pose estimator.
    let mut gnss_rx = None;
    let mut gnss_state = None;
    let mut gnss_counters = None;
    let mut ego_estimator = None;
    if let Some(gnss) = &run_config.inputs.gnss {
        ego_estimator = Some(EgoEstimator::new(gnss.ego.clone())?);
        let state = InputState::new("gnss", InputRole::EgoPose, gnss.health.clone(), start_ns);
        inputs.push(Arc::clone(&state));
        let (tx, rx, probe) = edge::<StampedSentence>("gnss->fusion", 256, input_policy);
        probes.push(probe);
        let counters = Arc::new(Mutex::new(GnssCounters::default()));
        let source = GnssInput {
            uri: gnss.source.clone(),
            sender: tx,
            state: Arc::clone(&state),
            counters: Arc::clone(&counters),
        };
        let context = context.clone();
        threads.push(("gnss".into(), spawn("gnss", move || source.run(context))?));
        gnss_rx = Some(rx);
        gnss_state = Some(state);
        gnss_counters = Some(counters);
    }

    // Outputs.
    let objects_writer = match &run_config.outputs.objects_jsonl {
        Some(path) => Some(create_writer(path)?),
        None => None,
    };
    let mut health_writer = match &run_config.outputs.health_jsonl {
        Some(path) => Some(create_writer(path)?),
        None => None,
    };
    let mut can_output = match &run_config.outputs.can {
        Some(can) => {
            let dbc = Dbc::from_file(&can.dbc_path).context("run.outputs.can.dbc_path")?;
            let bus = crate::can::open_bus(&can.bus, Arc::clone(&clock)).context("run.outputs.can.bus")?;
            let encoder = CanOutputEncoder::new(can, dbc, bus.name())?;
            Some(CanOutput { bus, encoder, period_ns: can.send_period_ms * 1_000_000, last_ns: None })
        }
        None => None,
    };

    let rrd = match &options.rrd {
        Some(path) => Some(open_rrd(path, options.config.replay.rrd_point_stride)?),
        None => None,
    };

    // Fusion task.
    let tracker = Tracker::new(options.config.tracker.clone())?;
    // Fusion waits on the camera task's output, not on the camera: a frame is fused once the
    // detector has seen every image stamped up to it.
    let mut partners: Vec<(Arc<InputState>, Arc<Watermark>)> = Vec::new();
    partners.extend(camera_state.iter().cloned().zip(camera_task_watermark.iter().cloned()));
    for state in v2x_state.iter().chain(&can_state).chain(&gnss_state).chain(&recorded_ego_state) {
        partners.push((Arc::clone(state), state.watermark()));
    }
    let fusion_watch = StageWatch::new("fusion", run_config.stage_budget_ms);
    watches.push(fusion_watch.clone());
    let fusion = FusionTask {
        config: run_config.clone(),
        replay,
        tracker,
        tracker_config: options.config.tracker.clone(),
        v2x: v2x_fusion,
        v2x_rx,
        partners,
        ego: ego_estimator,
        recorded_ego_rx,
        recorded_ego: VecDeque::new(),
        gnss_rx,
        can_rx,
        last_ego: None,
        site_frame_fixed: false,
        camera_rx,
        camera_results: VecDeque::new(),
        camera_fusion,
        lidar_rx: lidar_result_rx,
        lidar_state: lidar_state.clone(),
        objects_writer,
        rrd,
        watch: fusion_watch,
        shared: Arc::clone(&shared),
        truck_from_lidar,
        v2x_source_name,
        ground_range: GroundRangeConfig::default(),
        last_frame_stamp_ns: 0,
        lidar_period_ns: run_config
            .inputs
            .lidar
            .as_ref()
            .map(|lidar| lidar.health.nominal_rate_hz)
            .filter(|rate| rate.is_finite() && *rate > 0.0)
            .map_or(100_000_000, |rate| (1e9 / rate) as u64),
    };
    let fusion_handle = spawn("fusion", move || fusion.run())?;

    // Health loop on this thread: inputs judged every HEALTH_TICK (so a lost input is seen
    // within two of its periods plus one tick), published every period and at once on a mode
    // change.
    let period_ns = run_config.health_period_ms * 1_000_000;
    let mut mode_changes: Vec<(u64, String, String)> = Vec::new();
    let started = std::time::Instant::now();
    let mut last_published_ns: Option<u64> = None;
    // Replay judges health on the recording's time grid (see `replay_judgement_times`).
    let mut next_judgement_ns: Option<u64> = None;
    let stop_reason = loop {
        std::thread::sleep(HEALTH_TICK);
        let now_ns = clock.now_ns();
        let judgement_times = if replay {
            replay_judgement_times(&inputs, now_ns, period_ns, &mut next_judgement_ns)
        } else {
            vec![now_ns]
        };
        for now_ns in judgement_times {
            let mut statuses = BTreeMap::new();
            for input in &inputs {
                let health = input.monitor().health(now_ns);
                statuses.insert(input.name.clone(), (input.role, health));
            }
            let (mode, reason) = degraded_mode(&statuses);
            let changed = mode_changes.last().is_none_or(|(_, last, _)| last != mode.as_str());
            if changed && !mode_changes.is_empty() {
                let note =
                    format!("health: {}{}{reason}", mode.as_str(), if reason.is_empty() { "" } else { ": " });
                if let Some(recorder) =
                    shared.recorder.lock().unwrap_or_else(PoisonError::into_inner).as_ref()
                {
                    recorder.trigger_manual_at(&note, now_ns);
                }
            }
            if changed {
                info!(
                    mode = mode.as_str(),
                    "mode: {}",
                    if reason.is_empty() { "all inputs ok" } else { &reason }
                );
                mode_changes.push((now_ns, mode.as_str().to_owned(), reason.clone()));
            }
            let due = last_published_ns.is_none_or(|last| now_ns.saturating_sub(last) >= period_ns);
            if changed || due {
                last_published_ns = Some(now_ns);
                let work_now_ns = options.work_clock.now_ns();
                for watch in &watches {
                    let report = watch.report(work_now_ns);
                    if let Some(ms) = report.overrunning_ms {
                        warn!(stage = %report.stage, "stage overrunning its budget: {ms} ms into one work item");
                    }
                }
                let report = HealthReport {
                    stamp_ns: now_ns,
                    mode,
                    reason,
                    inputs: statuses.into_iter().map(|(name, (_, health))| (name, health)).collect(),
                    late_frames: shared.late_frames.load(Ordering::Relaxed),
                    dropped: probes.iter().map(|p| (p.name().to_owned(), p.stats().dropped)).collect(),
                };
                if let Some(writer) = &mut health_writer
                    && let Err(error) = serde_json::to_writer(&mut *writer, &report)
                        .map_err(std::io::Error::from)
                        .and_then(|()| writer.write_all(b"\n"))
                        .and_then(|()| writer.flush())
                {
                    warn!("health output: {error}");
                }
                shared.publish_zenoh("zenoh health", |zenoh| zenoh.publish_health(&report));
                if changed && !replay {
                    // The episode's health events (the catalog indexes them). Live only: a
                    // replay's health follows the wall clock, and its episode must not.
                    shared.record(EpisodeMessage::Health(report.clone()));
                }
                *shared.health.lock().unwrap_or_else(PoisonError::into_inner) = Some(report);
            }
        }
        if let Some(can) = &mut can_output {
            can.cycle(now_ns, &shared);
        }
        if options.stop.load(Ordering::SeqCst) {
            break StopReason::Requested;
        }
        if options.duration.is_some_and(|limit| started.elapsed() >= limit) {
            break StopReason::DurationElapsed;
        }
        if fusion_handle.is_finished() {
            break StopReason::InputsEnded;
        }
    };
    options.stop.store(true, Ordering::SeqCst);
    let v2x_stats = match fusion_handle.join() {
        Ok(stats) => stats,
        Err(_) => anyhow::bail!("the fusion task panicked"),
    };
    for (name, handle) in threads {
        if handle.join().is_err() {
            warn!("thread {name} panicked");
        }
    }
    let latency_ms: Vec<f64> =
        std::mem::take(&mut *shared.latency_ms.lock().unwrap_or_else(PoisonError::into_inner)).into();
    // The open episode is closed with what it has (the post-roll ends at the stop).
    let recorder = shared.recorder.lock().unwrap_or_else(PoisonError::into_inner).take();
    let episodes = recorder.map(EpisodeRecorder::finish).transpose()?;
    let totals = std::mem::take(&mut *shared.totals.lock().unwrap_or_else(PoisonError::into_inner));
    Ok(RunSummary {
        stop_reason,
        frames: shared.frames.load(Ordering::Relaxed),
        late_frames: shared.late_frames.load(Ordering::Relaxed),
        latency_ms,
        dropped: probes.iter().map(|p| (p.name().to_owned(), p.stats().dropped)).collect(),
        malformed: inputs.iter().map(|i| (i.name.clone(), i.malformed.load(Ordering::Relaxed))).collect(),
        lidar_packets: lidar_packet_counters
            .iter()
            .map(|c| *c.lock().unwrap_or_else(PoisonError::into_inner))
            .collect(),
        v2x: v2x_stats,
        mode_changes,
        can: can_counters.map(|c| *c.lock().unwrap_or_else(PoisonError::into_inner)),
        gnss: gnss_counters.map(|c| *c.lock().unwrap_or_else(PoisonError::into_inner)),
        output_errors: shared.output_errors.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        episodes,
        problems: inputs
            .iter()
            .map(|input| (input.name.clone(), input.problems()))
            .filter(|(_, problems)| !problems.is_empty())
            .collect(),
        objects_published: totals.objects,
        objects_max: totals.objects_max,
        v2x_only_objects: totals.v2x_only,
        camera_detections: totals.camera_detections,
        lidar_lost_frames: totals.lidar_lost_frames,
        stage_ms: totals.stage_ms.into_iter().map(|(stage, samples)| (stage, samples.into())).collect(),
        tracker: totals.tracker,
        lidar_stats: totals.lidar_stats,
    })
}

/// Most health judgements a replay makes at once: a jump in the recording's time longer than
/// this many health periods is skipped over (judged at its end).
const MAX_REPLAY_JUDGEMENTS: u64 = 1_000;

/// Replay: the recording times at which health is judged now. A replay judges every health
/// period on the recording's clock, from the first time the inputs promised (their
/// watermarks), at each time strictly before every input's watermark: everything stamped up
/// to it has been delivered, so a status there is the recording's, not the replay's pace, and
/// the same replay judges the same times with the same results. Once every input ended, up to
/// the last stamp. `next_ns` carries the grid between calls.
fn replay_judgement_times(
    inputs: &[Arc<InputState>],
    clock_ns: u64,
    period_ns: u64,
    next_ns: &mut Option<u64>,
) -> Vec<u64> {
    let settled_ns = inputs.iter().map(|input| input.watermark_ns()).min().unwrap_or(u64::MAX);
    let limit_ns = if settled_ns == u64::MAX { clock_ns.saturating_add(1) } else { settled_ns };
    if limit_ns == 0 {
        return Vec::new();
    }
    let period_ns = period_ns.max(1);
    let mut at_ns = *next_ns.get_or_insert(limit_ns);
    let pending = limit_ns.saturating_sub(at_ns) / period_ns;
    if pending > MAX_REPLAY_JUDGEMENTS {
        at_ns += (pending - MAX_REPLAY_JUDGEMENTS) * period_ns;
    }
    let mut times = Vec::new();
    while at_ns < limit_ns {
        times.push(at_ns);
        at_ns = at_ns.saturating_add(period_ns);
    }
    *next_ns = Some(at_ns);
    times
}

/// What the task builders share.
struct TaskContext<'a> {
    config: &'a PitsenseConfig,
    run: &'a RunConfig,
    data_root: &'a std::path::Path,
    replay: bool,
    work_clock: Arc<dyn Clock>,
    /// The run's shared state (the camera task offers the recorder its JPEG-encoded frames).
    shared: Arc<Shared>,
}

/// The camera task's outputs: its results edge, its watch, camera–lidar fusion with the
/// camera's calibration against the primary lidar, and the watermark of its results.
type CameraTaskParts =
    (EdgeReceiver<CameraResult>, StageWatch, (CameraLidarFusion, CameraCalibration), Arc<Watermark>);

impl TaskContext<'_> {
    /// Starts the lidar task (merge into the primary lidar's frame, obstacle pipeline) on
    /// `scans`; frames with non-finite points are reported on `state`. Returns its watch.
    fn spawn_lidar_task(
        &self,
        scans: EdgeReceiver<LidarScanMessage>,
        primary_from_sensor: Vec<Isometry3<f64>>,
        results: crate::graph::channel::EdgeSender<LidarResult>,
        state: Arc<InputState>,
        threads: &mut Vec<(String, JoinHandle<()>)>,
    ) -> anyhow::Result<StageWatch> {
        let pipeline = LidarPipeline::new(self.config.lidar.clone())?;
        let watch = StageWatch::new("lidar", self.run.stage_budget_ms);
        let tolerance_ns = self.run.pairing_tolerance_ms * 1_000_000;
        let work_clock = Arc::clone(&self.work_clock);
        let task_watch = watch.clone();
        threads.push((
            "lidar_task".into(),
            spawn("lidar_task", move || {
                lidar_task(
                    scans,
                    pipeline,
                    primary_from_sensor,
                    tolerance_ns,
                    results,
                    state,
                    task_watch,
                    work_clock,
                )
            })?,
        ));
        Ok(watch)
    }

    /// Builds the detector and starts the camera task on `images`.
    fn spawn_camera_task(
        &self,
        images: EdgeReceiver<CameraFrame>,
        state: Arc<InputState>,
        calibration: CameraCalibration,
        probes: &mut Vec<EdgeProbe>,
        threads: &mut Vec<(String, JoinHandle<()>)>,
    ) -> anyhow::Result<CameraTaskParts> {
        let detector =
            crate::pipeline::build_detector(self.config, self.data_root).context("the camera detector")?;
        let fusion = CameraLidarFusion::new(self.config.fusion.clone())?;
        let (result_tx, result_rx, probe) = edge::<CameraResult>(
            "camera_task->fusion",
            4,
            if self.replay { DropPolicy::Block } else { DropPolicy::DropOldest },
        );
        probes.push(probe);
        let watch = StageWatch::new("camera", self.run.stage_budget_ms);
        let task_watch = watch.clone();
        let work_clock = Arc::clone(&self.work_clock);
        let output = Arc::new(Watermark::default());
        let task = CameraTask {
            detector,
            results: result_tx,
            watch: task_watch,
            clock: work_clock,
            state,
            output: Arc::clone(&output),
            shared: Arc::clone(&self.shared),
            jpeg_quality: self.config.recorder.camera_jpeg_quality,
        };
        threads.push(("camera_task".into(), spawn("camera_task", move || task.run(images))?));
        Ok((result_rx, watch, (fusion, calibration), output))
    }
}

/// The capture time of the first lidar's first packet, ns: a replayed video's default time
/// zero.
///
/// # Errors
/// No pcap lidar to take it from, or the capture cannot be read.
fn first_capture_stamp_ns(run: &RunConfig) -> anyhow::Result<u64> {
    let Some(sensor) = run.inputs.lidar.as_ref().and_then(|lidar| lidar.sensors.first()) else {
        anyhow::bail!(
            "a replayed video needs its start time (--video-start-ns) when no lidar capture gives it"
        );
    };
    let uri = crate::onboard::config::parse_source(&sensor.source, &["pcap"]).map_err(|reason| {
        anyhow::anyhow!("a replayed video starts at the lidar capture's first packet: {reason}")
    })?;
    let mut reader =
        pitsense_perception::drivers::pcap::PcapUdpReader::open(std::path::Path::new(&uri.rest))?;
    match reader.next_datagram()? {
        Some(datagram) => Ok(datagram.capture_time_ns),
        None => anyhow::bail!("lidar capture `{}` holds no UDP datagram", uri.rest),
    }
}

/// The Rerun recording of the fused frames.
#[cfg(feature = "rerun")]
type RrdSink = crate::rrd::ReplayRecording;

/// Opens the Rerun recording.
///
/// # Errors
/// The file cannot be created.
#[cfg(feature = "rerun")]
fn open_rrd(path: &std::path::Path, point_stride: usize) -> anyhow::Result<RrdSink> {
    crate::rrd::ReplayRecording::create(path, point_stride)
}

/// A build without Rerun has no recording: this type has no value.
#[cfg(not(feature = "rerun"))]
#[derive(Debug)]
enum RrdSink {}

#[cfg(not(feature = "rerun"))]
impl RrdSink {
    fn log_frame(
        &self,
        _seq: u64,
        _points: &[pitsense_types::PointXyzi],
        _obstacle_points: &[pitsense_types::PointXyzi],
        _image_bytes: Option<Vec<u8>>,
        _detections: &[Detection2d],
        _tracks: &[Track],
    ) -> anyhow::Result<()> {
        match *self {}
    }

    fn log_stats(
        &self,
        _seq: u64,
        _tracker: &UpdateReport,
        _lidar: Option<&LidarStats>,
    ) -> anyhow::Result<()> {
        match *self {}
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {}
    }
}

/// A build without the `rerun` feature cannot write a recording.
///
/// # Errors
/// Always: the build has no Rerun logging.
#[cfg(not(feature = "rerun"))]
fn open_rrd(path: &std::path::Path, _point_stride: usize) -> anyhow::Result<RrdSink> {
    anyhow::bail!(
        "cannot write the Rerun recording `{}`: this build has no Rerun logging (cargo feature `rerun`)",
        path.display()
    )
}

fn spawn<F, T>(name: &str, body: F) -> anyhow::Result<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(body)
        .with_context(|| format!("cannot start thread `{name}`"))
}

fn create_writer(path: &std::path::Path) -> anyhow::Result<std::io::BufWriter<std::fs::File>> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create `{}`", parent.display()))?;
    }
    let file = std::fs::File::create(path).with_context(|| format!("cannot create `{}`", path.display()))?;
    Ok(std::io::BufWriter::new(file))
}

/// The lidar task: merges the lidars into the first one's frame and runs the obstacle pipeline.
/// `clock` times the work (the work clock).
#[allow(clippy::too_many_arguments)]
fn lidar_task(
    scans: EdgeReceiver<LidarScanMessage>,
    mut pipeline: LidarPipeline,
    primary_from_sensor: Vec<Isometry3<f64>>,
    tolerance_ns: u64,
    results: crate::graph::channel::EdgeSender<LidarResult>,
    state: Arc<InputState>,
    watch: StageWatch,
    clock: Arc<dyn Clock>,
) {
    let mut latest_secondary: Vec<Option<LidarScanMessage>> = vec![None; primary_from_sensor.len()];
    loop {
        let message = match scans.recv_timeout(Duration::from_millis(20)) {
            Ok(message) => message,
            // The sources drop their senders when they stop: the stream then ends here.
            Err(RecvOutcome::Timeout) => continue,
            Err(RecvOutcome::Ended) => return,
        };
        if message.lidar_lost {
            // A recorded frame without the lidar (episode replay): straight to the fusion.
            results.send(LidarResult::lidar_lost(message.cloud.header.stamp_ns, message.arrival_ns));
            continue;
        }
        if message.sensor_index != 0 {
            if let Some(slot) = latest_secondary.get_mut(message.sensor_index) {
                *slot = Some(message);
            }
            continue;
        }
        let begin_ns = clock.now_ns();
        watch.begin(begin_ns);
        let mut cloud = message.cloud;
        let stamp_ns = cloud.header.stamp_ns;
        for (index, secondary) in latest_secondary.iter().enumerate().skip(1) {
            let Some(secondary) = secondary else { continue };
            if secondary.cloud.header.stamp_ns.abs_diff(stamp_ns) > tolerance_ns {
                continue;
            }
            let Some(transform) = primary_from_sensor.get(index) else { continue };
            let transform = transform.cast::<f32>();
            cloud.points.extend(secondary.cloud.points.iter().map(|point| {
                let moved =
                    transform * pitsense_types::nalgebra::Point3::new(point.x_m, point.y_m, point.z_m);
                pitsense_types::PointXyzi {
                    x_m: moved.x,
                    y_m: moved.y,
                    z_m: moved.z,
                    intensity: point.intensity,
                }
            }));
        }
        let output = pipeline.process(&cloud);
        if output.stats.non_finite > 0 {
            // The pipeline drops them (and counts them); the frame goes on without them.
            state.report_malformed(format!(
                "lidar frame {} at {stamp_ns} ns: {} of {} points not finite (NaN or infinite), dropped",
                message.name.as_deref().unwrap_or("-"),
                output.stats.non_finite,
                cloud.points.len()
            ));
        }
        let end_ns = clock.now_ns();
        watch.end(end_ns);
        let lidar_ms = end_ns.saturating_sub(begin_ns) as f64 * 1e-6;
        results.send(LidarResult {
            lidar_lost: false,
            name: message.name,
            cloud,
            output,
            arrival_ns: message.arrival_ns,
            lidar_ms,
        });
    }
}

/// The camera task: the detector on each image.
struct CameraTask {
    detector: crate::pipeline::CameraDetector,
    results: crate::graph::channel::EdgeSender<CameraResult>,
    watch: StageWatch,
    /// Times the work (the work clock).
    clock: Arc<dyn Clock>,
    /// The camera input (its watermark; detector failures are reported on it).
    state: Arc<InputState>,
    /// The watermark of the results: every image stamped at or before it has been through the
    /// detector (its result sent, or its failure reported).
    output: Arc<Watermark>,
    /// The recorder (through the run's shared state): while it records, frames that arrived
    /// decoded are JPEG-encoded here, after their result is sent, and offered to it.
    shared: Arc<Shared>,
    /// `recorder.camera_jpeg_quality`.
    jpeg_quality: u8,
}

impl CameraTask {
    /// Offers a decoded frame to the recorder as JPEG (the detections were sent already: this
    /// costs the next frame's wait, not this one's latency). A failure is counted as an output
    /// error `episode_image`.
    fn record_decoded(&self, image: &pitsense_types::Image) {
        match pitsense_imaging::encode_jpeg(image, self.jpeg_quality) {
            Ok(bytes) => self.shared.record_image(RecordedImage {
                header: image.header,
                bytes,
                format: "jpeg".to_owned(),
            }),
            Err(error) => self.shared.output_failed("episode_image", &error),
        }
    }

    fn run(mut self, images: EdgeReceiver<CameraFrame>) {
        loop {
            // Read before the edge is found empty: every image stamped up to it was sent before,
            // so an empty edge means each was processed.
            let input_watermark_ns = self.state.watermark_ns();
            // A short wait: fusion may be waiting on this watermark.
            let frame = match images.recv_timeout(Duration::from_millis(2)) {
                Ok(frame) => frame,
                Err(RecvOutcome::Timeout) => {
                    if input_watermark_ns == u64::MAX {
                        // The source ended with nothing left on the edge.
                        self.output.end();
                    } else {
                        self.output.advance(input_watermark_ns);
                    }
                    continue;
                }
                Err(RecvOutcome::Ended) => {
                    self.output.end();
                    return;
                }
            };
            let stamp_ns = frame.image.header.stamp_ns;
            let begin_ns = self.clock.now_ns();
            self.watch.begin(begin_ns);
            let detected = self.detector.detect(&frame.image);
            let end_ns = self.clock.now_ns();
            self.watch.end(end_ns);
            match detected {
                Ok(detections) => {
                    let camera_ms = end_ns.saturating_sub(begin_ns) as f64 * 1e-6;
                    let decoded_only = frame.encoded.is_none();
                    self.results.send(CameraResult {
                        header: frame.image.header,
                        detections,
                        camera_ms,
                        encoded: frame.encoded,
                        calibration: frame.calibration,
                    });
                    if decoded_only && self.shared.recording() {
                        self.record_decoded(&frame.image);
                    }
                }
                Err(error) => self.state.report_malformed(format!(
                    "camera frame at {stamp_ns} ns: detector: {}",
                    crate::error_chain_text(&error)
                )),
            }
            self.output.advance(stamp_ns);
        }
    }
}

/// The fusion task: runs on the frame clock.
struct FusionTask {
    config: RunConfig,
    replay: bool,
    tracker: Tracker,
    tracker_config: TrackerConfig,
    v2x: Option<V2xFusion>,
    v2x_rx: Option<EdgeReceiver<V2xDatagram>>,
    /// The V2X input's name in recorded episodes (its URI, or `v2x-log`).
    v2x_source_name: String,
    /// The asynchronous inputs event-time fusion waits for (camera, V2X, CAN, GNSS).
    partners: Vec<(Arc<InputState>, Arc<Watermark>)>,
    /// The ego pose estimator, with a GNSS input.
    ego: Option<EgoEstimator>,
    /// Replaying an episode: the truck's ego states as recorded.
    recorded_ego_rx: Option<EdgeReceiver<RecordedEgo>>,
    /// The recorded ego states received, oldest first (at most [`RECORDED_EGO_KEPT`]): the
    /// newest at or before the oldest frame still to fuse, and those after it.
    recorded_ego: VecDeque<RecordedEgo>,
    gnss_rx: Option<EdgeReceiver<StampedSentence>>,
    can_rx: Option<EdgeReceiver<VehicleSignals>>,
    /// The last pose the estimator gave (used, without V2X, for frames it has none for).
    last_ego: Option<EgoState>,
    /// Whether the tracker runs in the true site frame (a first GNSS pose came).
    site_frame_fixed: bool,
    camera_rx: Option<EdgeReceiver<CameraResult>>,
    /// The newest camera results, oldest first, for pairing (at most [`CAMERA_RESULTS_KEPT`]).
    camera_results: VecDeque<CameraResult>,
    /// Camera–lidar fusion and the camera's configured calibration against the primary lidar.
    camera_fusion: Option<(CameraLidarFusion, CameraCalibration)>,
    lidar_rx: EdgeReceiver<LidarResult>,
    lidar_state: Option<Arc<InputState>>,
    objects_writer: Option<std::io::BufWriter<std::fs::File>>,
    /// The Rerun recording, when asked for.
    rrd: Option<RrdSink>,
    watch: StageWatch,
    shared: Arc<Shared>,
    truck_from_lidar: Isometry3<f64>,
    /// The camera's monocular range estimate, used while the lidar is lost.
    ground_range: GroundRangeConfig,
    /// The newest stamp fused so far, ns.
    last_frame_stamp_ns: u64,
    /// The lidar's nominal frame period (its health's nominal rate), ns: the pace of frames
    /// while the lidar is lost and no camera drives them.
    lidar_period_ns: u64,
}

/// The CAN output: every `period_ns`, the health frame and the nearest objects' frames.
struct CanOutput {
    bus: Box<dyn CanBus>,
    encoder: CanOutputEncoder,
    period_ns: u64,
    last_ns: Option<u64>,
}

impl CanOutput {
    /// Sends one cycle when one is due (and a health report exists).
    fn cycle(&mut self, now_ns: u64, shared: &Shared) {
        if self.last_ns.is_some_and(|last| now_ns.saturating_sub(last) < self.period_ns) {
            return;
        }
        let Some(health) = shared.health.lock().unwrap_or_else(PoisonError::into_inner).clone() else {
            return;
        };
        self.last_ns = Some(now_ns);
        let objects = shared.objects_on_can.lock().unwrap_or_else(PoisonError::into_inner).clone();
        match self.encoder.encode(now_ns, &health, &objects) {
            Ok(frames) => {
                for frame in frames {
                    if let Err(error) = self.bus.send(&frame) {
                        shared.output_failed("can", &error);
                    }
                }
            }
            Err(error) => shared.output_failed("can", &error),
        }
    }
}

/// How often the health loop judges the inputs.
const HEALTH_TICK: Duration = Duration::from_millis(10);

/// Most recorded ego states fusion keeps (replaying an episode); the edge holds the rest back.
const RECORDED_EGO_KEPT: usize = 64;

/// Most lidar frames waiting for their partners before the oldest is fused anyway.
const MAX_PENDING_FRAMES: usize = 4;

impl FusionTask {
    fn run(mut self) -> Option<V2xFusionStats> {
        let mut pending: VecDeque<(LidarResult, u64)> = VecDeque::new();
        let mut lidar_ended = self.lidar_state.is_none();
        let mut seq = 0_u64;
        loop {
            let horizon_ns = pending.front().map(|(frame, _)| frame.cloud.header.stamp_ns);
            self.drain_inputs(horizon_ns);
            // Replay never forces a frame out: with the pending frames full it stops taking
            // lidar results (the lossless edges hold the sources back) until partners catch up.
            let take_lidar = !(lidar_ended || self.replay && pending.len() >= MAX_PENDING_FRAMES);
            if take_lidar {
                match self.lidar_rx.recv_timeout(Duration::from_millis(2)) {
                    Ok(result) => {
                        let ready_ns = self.shared.clock.now_ns();
                        if pending.len() >= MAX_PENDING_FRAMES
                            && let Some((oldest, _)) = pending.pop_front()
                        {
                            // Waiting any longer would make every later frame late: fuse it now.
                            self.drain_inputs(Some(oldest.cloud.header.stamp_ns));
                            self.fuse(oldest, seq);
                            seq += 1;
                        }
                        pending.push_back((result, ready_ns));
                    }
                    Err(RecvOutcome::Timeout) => {}
                    Err(RecvOutcome::Ended) => lidar_ended = true,
                }
            } else {
                std::thread::sleep(Duration::from_millis(2));
            }
            while let Some((front, ready_ns)) = pending.front() {
                let (stamp_ns, ready_ns) = (front.cloud.header.stamp_ns, *ready_ns);
                self.drain_inputs(Some(stamp_ns));
                // In replay every partner is a file that ends (its watermark then passes every
                // stamp): frames wait for them even after the lidar ended.
                if !self.partners_ready(stamp_ns, ready_ns) {
                    break;
                }
                // A partner sends before it advances its watermark: what the watermark promised
                // is on the edges now.
                self.drain_inputs(Some(stamp_ns));
                let Some((result, _)) = pending.pop_front() else { break };
                self.fuse(result, seq);
                seq += 1;
            }
            if !self.replay
                && pending.is_empty()
                && let Some(frame) = self.lidar_lost_frame()
            {
                self.fuse(frame, seq);
                seq += 1;
            }
            if lidar_ended && pending.is_empty() {
                break;
            }
            if self.shared.stop.load(Ordering::SeqCst) && !self.replay {
                // Finish the frames already assembled, then stop.
                while let Some((result, _)) = pending.pop_front() {
                    self.fuse(result, seq);
                    seq += 1;
                }
                break;
            }
        }
        if let Some(writer) = &mut self.objects_writer
            && let Err(error) = writer.flush()
        {
            warn!("objects output: {error}");
        }
        if let Some(rrd) = self.rrd.take()
            && let Err(error) = rrd.finish()
        {
            warn!("Rerun recording: {}", crate::error_chain_text(&error));
        }
        self.v2x.as_ref().map(|v2x| v2x.stats())
    }

    /// Live, while the lidar input is not usable (and a camera or V2X input is configured):
    /// the next frame to publish without the lidar. Each new
    /// camera result drives one (stamped at its capture; the camera's detections are placed
    /// by the flat-ground estimate and fused with their range-dependent covariance); without a
    /// new one, the clock drives one every lidar period (V2X objects, tracks coasting). `None`
    /// while the lidar is usable or nothing is due.
    fn lidar_lost_frame(&mut self) -> Option<LidarResult> {
        let lidar = self.lidar_state.as_ref()?;
        // Without a camera or V2X nothing but the lidar can bring news: no frame to make.
        if self.camera_rx.is_none() && self.v2x.is_none() {
            return None;
        }
        let now_ns = self.shared.clock.now_ns();
        if lidar.monitor().health(now_ns).status.is_usable() {
            return None;
        }
        self.drain_inputs(None);
        let camera_stamp_ns = self
            .camera_results
            .back()
            .map(|camera| camera.header.stamp_ns)
            .filter(|stamp_ns| *stamp_ns > self.last_frame_stamp_ns);
        let stamp_ns = match camera_stamp_ns {
            Some(stamp_ns) => stamp_ns,
            // A usable camera drives the frames; only without one does the clock.
            None if !self.camera_usable(now_ns)
                && now_ns >= self.last_frame_stamp_ns.saturating_add(self.lidar_period_ns) =>
            {
                now_ns
            }
            None => return None,
        };
        Some(LidarResult::lidar_lost(stamp_ns, stamp_ns))
    }

    /// Whether a camera input is configured and usable at `now_ns`.
    fn camera_usable(&self, now_ns: u64) -> bool {
        self.partners.iter().any(|(state, _)| {
            state.role == InputRole::Camera && state.monitor().health(now_ns).status.is_usable()
        })
    }

    /// Takes in what the asynchronous inputs sent: V2X datagrams, camera results, vehicle
    /// signals (first, so dead reckoning has them) and GNSS sentences.
    ///
    /// Camera results are kept for pairing, at most [`CAMERA_RESULTS_KEPT`]. `horizon_ns` is
    /// the stamp of the oldest frame still to fuse: a result older than it by more than the
    /// pairing tolerance can pair with no frame and goes first. In replay a result that could
    /// still pair is never evicted: the camera edge then holds the rest back (lossless).
    fn drain_inputs(&mut self, horizon_ns: Option<u64>) {
        if let (Some(rx), Some(v2x)) = (&self.v2x_rx, &mut self.v2x) {
            while let Some(datagram) = rx.try_recv() {
                if self.shared.recording() {
                    self.shared.record(EpisodeMessage::V2xRaw(V2xRaw {
                        stamp_ns: datagram.receive_stamp_ns,
                        source: self.v2x_source_name.clone(),
                        data: datagram.bytes.clone(),
                    }));
                }
                v2x.push(datagram.receive_stamp_ns, datagram.bytes);
            }
        }
        if let Some(rx) = &self.camera_rx {
            let tolerance_ns = self.config.pairing_tolerance_ms * 1_000_000;
            let useless = |result: &CameraResult| {
                horizon_ns
                    .is_some_and(|horizon| result.header.stamp_ns.saturating_add(tolerance_ns) < horizon)
            };
            loop {
                while self.camera_results.front().is_some_and(useless) {
                    self.camera_results.pop_front();
                }
                if self.camera_results.len() >= CAMERA_RESULTS_KEPT {
                    if self.replay {
                        break;
                    }
                    self.camera_results.pop_front();
                }
                let Some(result) = rx.try_recv() else { break };
                self.camera_results.push_back(result);
            }
        }
        if let Some(rx) = &self.recorded_ego_rx {
            loop {
                // Of the states at or before the horizon, only the newest can still be used.
                // (Without a frame waiting, the next one comes after the last fused.)
                let horizon = horizon_ns.unwrap_or(self.last_frame_stamp_ns);
                while self.recorded_ego.get(1).is_some_and(|next| next.ego.header.stamp_ns <= horizon) {
                    self.recorded_ego.pop_front();
                }
                if self.recorded_ego.len() >= RECORDED_EGO_KEPT {
                    if self.replay {
                        break;
                    }
                    self.recorded_ego.pop_front();
                }
                let Some(ego) = rx.try_recv() else { break };
                self.recorded_ego.push_back(ego);
            }
        }
        if let Some(estimator) = &mut self.ego {
            if let Some(rx) = &self.can_rx {
                while let Some(signals) = rx.try_recv() {
                    estimator.push_vehicle(&signals);
                }
            }
            if let Some(rx) = &self.gnss_rx {
                while let Some(sentence) = rx.try_recv() {
                    estimator.push_fix(&sentence);
                }
            }
        } else if let Some(rx) = &self.can_rx {
            // No estimator: the vehicle signals are received (health, counters) but unused.
            while rx.try_recv().is_some() {}
        }
    }

    /// The truck's pose for a frame stamped `stamp_ns`, and whether it is a true pose at that
    /// stamp (V2X objects are fused only then). See the module docs.
    fn ego_for(&mut self, stamp_ns: u64, seq: u64) -> Option<(EgoState, bool)> {
        let header = Header { stamp_ns, frame: FrameId::Site, seq };
        if self.recorded_ego_rx.is_some() {
            return Some(self.recorded_ego_at(header));
        }
        let Some(estimator) = &self.ego else {
            return self.config.ego_pose_site.map(|pose| {
                let ego = EgoState {
                    header,
                    site_from_truck: pose.isometry(),
                    speed_mps: 0.0,
                    yaw_rate_radps: 0.0,
                    accel_mps2: 0.0,
                };
                (ego, true)
            });
        };
        if let Some(mut ego) = estimator.ego_at(stamp_ns) {
            ego.header.seq = seq;
            self.fix_site_frame();
            self.last_ego = Some(ego.clone());
            return Some((ego, true));
        }
        let held = self.last_ego.clone().unwrap_or(EgoState {
            header,
            site_from_truck: Isometry3::identity(),
            speed_mps: 0.0,
            yaw_rate_radps: 0.0,
            accel_mps2: 0.0,
        });
        Some((EgoState { header, ..held }, false))
    }

    /// The first true pose puts the tracker in the site frame: the tracks it kept in the
    /// provisional frame (the identity or a held pose) are dropped, once.
    fn fix_site_frame(&mut self) {
        if self.site_frame_fixed {
            return;
        }
        info!("first true pose: the tracker restarts in the site frame");
        self.site_frame_fixed = true;
        if let Ok(tracker) = Tracker::new(self.tracker_config.clone()) {
            self.tracker = tracker;
        }
    }

    /// Replaying an episode: the ego state recorded at the frame's stamp, a true pose unless
    /// the truck held it (then, as on the truck, no V2X is fused); else the newest recorded
    /// before it, or the last one used, held (identity before the first). The first true pose
    /// restarts the tracker in the site frame, as [`Self::ego_for`] does live (a no-op when it
    /// is the first frame).
    fn recorded_ego_at(&mut self, header: Header) -> (EgoState, bool) {
        while self.recorded_ego.get(1).is_some_and(|next| next.ego.header.stamp_ns <= header.stamp_ns) {
            self.recorded_ego.pop_front();
        }
        match self.recorded_ego.front() {
            Some(recorded) if recorded.ego.header.stamp_ns == header.stamp_ns => {
                let ego = EgoState { header, ..recorded.ego.clone() };
                let true_pose = !recorded.pose_held;
                if true_pose {
                    self.fix_site_frame();
                }
                self.last_ego = Some(ego.clone());
                (ego, true_pose)
            }
            newest_before => {
                let held = newest_before
                    .map(|recorded| &recorded.ego)
                    .filter(|ego| ego.header.stamp_ns < header.stamp_ns)
                    .or(self.last_ego.as_ref())
                    .cloned()
                    .unwrap_or(EgoState {
                        header,
                        site_from_truck: Isometry3::identity(),
                        speed_mps: 0.0,
                        yaw_rate_radps: 0.0,
                        accel_mps2: 0.0,
                    });
                (EgoState { header, ..held }, false)
            }
        }
    }

    /// Whether the frame stamped `stamp_ns` can be fused: event time waits for every usable
    /// asynchronous input's watermark to pass the stamp; live, at most `input_wait_ms` past
    /// the moment the frame was ready.
    fn partners_ready(&self, stamp_ns: u64, ready_ns: u64) -> bool {
        if self.config.sync == SyncPolicy::Latest && !self.replay {
            return true;
        }
        let waited_enough = !self.replay
            && self.shared.clock.now_ns() >= ready_ns.saturating_add(self.config.input_wait_ms * 1_000_000);
        if waited_enough {
            return true;
        }
        // Strictly past the stamp: a partner may still deliver a message stamped at its watermark.
        self.partners.iter().all(|(state, watermark)| {
            watermark.ns() > stamp_ns
                || !self.replay && !state.monitor().health(self.shared.clock.now_ns()).status.is_usable()
        })
    }

    fn fuse(&mut self, mut result: LidarResult, seq: u64) {
        let stamp_ns = result.cloud.header.stamp_ns;
        let work_begin_ns = self.shared.work_clock.now_ns();
        self.watch.begin(work_begin_ns);
        // The camera result nearest in stamp, within the pairing tolerance.
        let tolerance_ns = self.config.pairing_tolerance_ms * 1_000_000;
        let paired_index = self
            .camera_results
            .iter()
            .enumerate()
            .filter(|(_, camera)| camera.header.stamp_ns.abs_diff(stamp_ns) <= tolerance_ns)
            .min_by_key(|(_, camera)| camera.header.stamp_ns.abs_diff(stamp_ns))
            .map(|(index, _)| index);
        let lidar_objects = std::mem::take(&mut result.output.objects);
        let detections =
            match (paired_index.and_then(|i| self.camera_results.get(i)), &mut self.camera_fusion) {
                (Some(camera), Some((fusion, configured))) => {
                    let calibration = camera.calibration.as_ref().unwrap_or(configured);
                    fusion.fuse(&lidar_objects, &camera.detections, calibration).objects
                }
                _ => lidar_objects,
            };
        let ego = self.ego_for(stamp_ns, seq);
        // Without the lidar, the camera's detections placed on the ground (truck frame).
        let monocular = match (result.lidar_lost, paired_index.and_then(|i| self.camera_results.get(i))) {
            (true, Some(camera)) => {
                let calibration = camera
                    .calibration
                    .as_ref()
                    .or(self.camera_fusion.as_ref().map(|(_, configured)| configured));
                calibration.map_or_else(Vec::new, |calibration| {
                    ground_plane_measurements(
                        &camera.detections,
                        calibration,
                        &self.truck_from_lidar,
                        stamp_ns,
                        &self.ground_range,
                    )
                })
            }
            _ => Vec::new(),
        };
        if result.lidar_lost {
            tracing::debug!(
                stamp_ns,
                paired = paired_index.is_some(),
                estimates = monocular.len(),
                "lidar lost: camera frame"
            );
        }
        self.last_frame_stamp_ns = self.last_frame_stamp_ns.max(stamp_ns);
        let tracks: Vec<Track> = match &ego {
            Some((ego, true_pose)) => {
                let mut objects = match (&mut self.v2x, true_pose) {
                    (Some(v2x), true) => v2x.objects_at(stamp_ns, ego),
                    _ => Vec::new(),
                };
                objects.extend(monocular);
                self.tracker.update_with_ego_and_v2x(
                    stamp_ns,
                    &detections,
                    &objects,
                    ego,
                    &self.truck_from_lidar,
                )
            }
            None => self.tracker.update(stamp_ns, &detections),
        };
        let update_report = *self.tracker.last_report();
        let lidar_stats = result.output.stats;
        // The objects in the truck frame for the CAN output
        // (site-frame tracks through the pose, sensor-frame tracks through the extrinsics).
        let truck_from_site = ego.as_ref().map(|(ego, _)| ego.site_from_truck.inverse());
        let on_can: Vec<ObjectOnCan> = tracks
            .iter()
            .map(|track| {
                let center = match (track.header.frame, &truck_from_site) {
                    (FrameId::Site, Some(truck_from_site)) => truck_from_site * track.state.center_m,
                    _ => self.truck_from_lidar * track.state.center_m,
                };
                ObjectOnCan {
                    track_id: track.track_id,
                    class_code: ObjectOnCan::class_code_for_label(&track.class_label),
                    x_m: center.x,
                    y_m: center.y,
                    speed_mps: track.state.velocity_mps.norm(),
                }
            })
            .collect();
        *self.shared.objects_on_can.lock().unwrap_or_else(PoisonError::into_inner) = on_can;
        let name = result.name.clone().unwrap_or_else(|| format!("{seq:06}"));
        let paired = paired_index.and_then(|i| self.camera_results.get(i));
        let camera_ms = paired.map(|camera| camera.camera_ms);
        if let Some(rrd) = &self.rrd {
            let image = paired.and_then(|camera| camera.encoded.as_ref()).map(|(bytes, _)| bytes.clone());
            let detections_2d = paired.map_or(&[][..], |camera| camera.detections.as_slice());
            let stats = (!result.lidar_lost).then_some(&lidar_stats);
            if let Err(error) = rrd
                .log_frame(
                    seq,
                    &result.cloud.points,
                    &result.output.obstacle_points,
                    image,
                    detections_2d,
                    &tracks,
                )
                .and_then(|()| rrd.log_stats(seq, &update_report, stats))
            {
                self.shared.output_failed("rerun", &crate::error_chain_text(&error));
            }
        }
        let camera_detections = paired.map_or(0, |camera| camera.detections.len());
        tracing::debug!(
            stamp_ns,
            camera_stamp_ns = ?paired.map(|camera| camera.header.stamp_ns),
            camera_results = ?self.camera_results.iter().map(|camera| camera.header.stamp_ns).collect::<Vec<_>>(),
            camera_detections,
            "fusing frame {name}"
        );
        if self.shared.recording() {
            let header = result.cloud.header;
            let image = paired.and_then(|camera| {
                camera.encoded.as_ref().map(|(bytes, format)| RecordedImage {
                    header: camera.header,
                    bytes: bytes.clone(),
                    format: format.clone(),
                })
            });
            let detections_2d = paired.map(|camera| (camera.header, camera.detections.clone()));
            let detections_header = detections.first().map_or(header, |detection| detection.header);
            self.shared.record_frame(FrameMessages {
                ego: ego
                    .as_ref()
                    .map(|(ego, true_pose)| RecordedEgo { ego: ego.clone(), pose_held: !true_pose }),
                header,
                // The cloud is not needed after this: moved, not copied (about 2 MB per frame).
                cloud: (!result.lidar_lost).then_some(result.cloud),
                image,
                detections: detections_2d,
                fused_header: detections_header,
                fused: detections,
                tracks: tracks.clone(),
            });
        }
        if let Some(writer) = &mut self.objects_writer {
            let mut record = FrameRecord::new(&name, seq, stamp_ns, &tracks);
            record.degraded = result.lidar_lost.then_some("lidar_lost");
            if let Err(error) = serde_json::to_writer(&mut *writer, &record)
                .map_err(std::io::Error::from)
                .and_then(|()| writer.write_all(b"\n"))
            {
                warn!("objects output: {error}");
            }
        }
        self.shared.publish_zenoh("zenoh objects", |zenoh| zenoh.publish_objects(stamp_ns, &tracks));
        let published_ns = self.shared.clock.now_ns();
        let work_end_ns = self.shared.work_clock.now_ns();
        self.watch.end(work_end_ns);
        let fusion_ms = work_end_ns.saturating_sub(work_begin_ns) as f64 * 1e-6;
        if self.shared.zenoh.is_some() {
            let latency = LatencyReport {
                stamp_ns,
                stages_ms: [
                    ("lidar".to_owned(), Some(result.lidar_ms)),
                    ("camera".to_owned(), camera_ms),
                    ("fusion".to_owned(), Some(fusion_ms)),
                ]
                .into_iter()
                .filter_map(|(stage, ms)| ms.map(|ms| (stage, ms)))
                .collect(),
                end_to_end_ms: published_ns.saturating_sub(result.arrival_ns) as f64 * 1e-6,
            };
            self.shared.publish_zenoh("zenoh latency", |zenoh| zenoh.publish_latency(&latency));
        }
        {
            let mut totals = self.shared.totals.lock().unwrap_or_else(PoisonError::into_inner);
            let objects = tracks.len() as u64;
            totals.objects += objects;
            totals.objects_max = totals.objects_max.max(objects);
            totals.v2x_only +=
                tracks.iter().filter(|track| track.source == pitsense_types::ObjectSource::V2x).count()
                    as u64;
            totals.camera_detections += camera_detections as u64;
            totals.tracker.add(&update_report);
            if result.lidar_lost {
                totals.lidar_lost_frames += 1;
            } else {
                totals.lidar_stats += lidar_stats;
                totals.push_stage("lidar", result.lidar_ms);
            }
            if let Some(camera_ms) = camera_ms {
                totals.push_stage("camera", camera_ms);
            }
            totals.push_stage("fusion", fusion_ms);
        }
        self.shared.frames.fetch_add(1, Ordering::Relaxed);
        if !self.replay {
            let latency_ms = published_ns.saturating_sub(result.arrival_ns) as f64 * 1e-6;
            let mut samples = self.shared.latency_ms.lock().unwrap_or_else(PoisonError::into_inner);
            if samples.len() >= LATENCY_SAMPLES_KEPT {
                samples.pop_front();
            }
            samples.push_back(latency_ms);
            if published_ns.saturating_sub(stamp_ns) > self.config.frame_budget_ms * 1_000_000 {
                self.shared.late_frames.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Health judgement of an input that has none configured.
pub fn default_monitor() -> MonitorConfig {
    MonitorConfig::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn replay_judges_health_on_the_recording_grid_behind_every_watermark() {
        let lidar = InputState::new("lidar", InputRole::Lidar, MonitorConfig::default(), 0);
        let camera = InputState::new("camera", InputRole::Camera, MonitorConfig::default(), 0);
        let inputs = vec![Arc::clone(&lidar), Arc::clone(&camera)];
        let mut next = None;
        // Nothing promised yet: nothing to judge.
        assert!(replay_judgement_times(&inputs, 0, 100 * MS, &mut next).is_empty());
        // The grid starts where both first promised (1 s), and a time is judged only once
        // both watermarks are past it.
        lidar.advance_watermark(1_000 * MS);
        camera.advance_watermark(1_000 * MS);
        assert!(replay_judgement_times(&inputs, 1_000 * MS, 100 * MS, &mut next).is_empty());
        lidar.advance_watermark(1_350 * MS);
        camera.advance_watermark(1_200 * MS + 1);
        assert_eq!(
            replay_judgement_times(&inputs, 1_350 * MS, 100 * MS, &mut next),
            [1_000 * MS, 1_100 * MS, 1_200 * MS]
        );
        camera.advance_watermark(1_300 * MS);
        assert!(replay_judgement_times(&inputs, 1_350 * MS, 100 * MS, &mut next).is_empty());
        // Both ended: up to the last stamp on the clock.
        lidar.end();
        camera.end();
        assert_eq!(
            replay_judgement_times(&inputs, 1_500 * MS, 100 * MS, &mut next),
            [1_300 * MS, 1_400 * MS, 1_500 * MS]
        );
    }
}
