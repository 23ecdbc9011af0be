//! `pitsense replay`: a thin front over the onboard graph ([`crate::onboard::run`] in
//! [`RunMode::Replay`]): the very graph that runs on the truck, with file sources swapped in
//! and the recording's clock.
//!
//! Inputs: a dataset in KITTI object layout (lidar and camera, see
//! [`crate::onboard::sources::KittiSource`]), an episode recorded by pitsense (MCAP: its lidar
//! clouds, camera images, V2X datagrams and ego states run through the graph again, see
//! [`crate::onboard::episode_source`]), or a lidar capture (pcap, Ouster with its metadata
//! JSON or Velodyne) with an optional video file (`--video`, stamped from the capture's first
//! packet unless `--video-start-ns`). A `[run]` section in the configuration
//! is taken as the base (budgets, tolerance, extrinsics, the camera's intrinsics, file inputs
//! such as `log:` V2X or `candump:` CAN); live-only inputs (UDP, serial, GNSS) and the live
//! outputs (zenoh, CAN) are left out. A frame whose files are missing or corrupt is reported
//! (file and reason), skipped and counted; the replay goes on. Start-up problems (model, ONNX
//! Runtime, config, output folder) stop it before the first frame.
//!
//! With a V2X log (`--v2x-log`, see [`read_v2x_log`]) the messages go through the V2X input;
//! the truck then stands at `replay.ego_pose_site` (or `run.ego_pose_site`) and tracks are
//! published in the site frame.
//!
//! With `[recorder] enabled = true`, episodes are recorded by the graph's recorder (see
//! [`crate::episodes`]): they land in `recorder.episode_dir`, relative to `--out` when
//! relative, and are listed in the summary.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use pitsense_types::nalgebra::Isometry3;

use crate::config::PitsenseConfig;
use crate::onboard::config::{
    CameraInputConfig, LidarDriver, LidarInputConfig, LidarSensorConfig, Pose, RunConfig, StampSource,
    V2xInputConfig,
};
use crate::onboard::{RecordedInput, RunMode, RunOptions, RunSummary, StopReason};

/// What `replay` needs.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    /// A dataset folder in KITTI object layout, an episode (MCAP), or a lidar capture file
    /// (pcap/pcapng).
    pub input: PathBuf,
    /// How a capture's packets are decoded (captures only).
    pub lidar: Option<CaptureLidar>,
    /// A video file recorded beside the capture (captures only); the camera's intrinsics and
    /// `truck_from_camera` come from `run.inputs.camera`.
    pub video: Option<PathBuf>,
    /// The video's time zero on the capture's clock, ns (default: the first packet's time).
    pub video_start_ns: Option<u64>,
    /// Output folder (created).
    pub out_dir: PathBuf,
    /// Data root, where model files are found.
    pub data_root: PathBuf,
    /// Validated configuration.
    pub config: PitsenseConfig,
    /// V2X log to fuse (JSON lines, see [`read_v2x_log`]).
    pub v2x_log: Option<PathBuf>,
    /// Set it (the SIGINT/SIGTERM handlers of `pitsense replay`) to end the replay after the
    /// frame in flight: the outputs written so far are finished as at a normal end
    /// (`objects.jsonl`, the `.rrd` with its footer, episodes) and the summary says it stopped.
    pub stop: Arc<AtomicBool>,
}

/// The lidar that recorded a capture.
#[derive(Clone, Debug, PartialEq)]
pub enum CaptureLidar {
    /// An Ouster sensor and its metadata JSON.
    Ouster(PathBuf),
    /// A Velodyne sensor of this model.
    Velodyne(LidarDriver),
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
pub fn pose(values: [f64; 4]) -> Isometry3<f64> {
    lidar_in_truck_pose(values).isometry()
}

/// `replay.lidar_in_truck` (`[x_m, y_m, z_m, yaw_rad]`, no roll or pitch) as a [`Pose`].
pub fn lidar_in_truck_pose([x_m, y_m, z_m, yaw_rad]: [f64; 4]) -> Pose {
    Pose { x_m, y_m, z_m, yaw_rad, ..Pose::default() }
}

/// The replay's result, printed as the terminal summary.
#[derive(Clone, Debug)]
pub struct ReplaySummary {
    /// Frames listed in a dataset (`None` for a capture: its frames are not known ahead).
    pub frames_listed: Option<usize>,
    /// The graph's summary.
    pub run: RunSummary,
    /// Path of `objects.jsonl`.
    pub objects_path: PathBuf,
    /// Path of the Rerun recording, when written.
    pub rrd_path: Option<PathBuf>,
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
    /// Frames fused and published.
    pub fn frames_processed(&self) -> u64 {
        self.run.frames
    }

    /// Renders the terminal summary: frames, skipped frames and other input problems with
    /// reasons, objects per frame, per-stage work time p50/p99 (ms), V2X, episodes, outputs.
    pub fn render(&self) -> String {
        let run = &self.run;
        let stopped = run.stop_reason == StopReason::Requested;
        let mut out = match self.frames_listed {
            Some(listed) => format!(
                "frames: {listed} listed, {} processed, {} {}\n",
                run.frames,
                (listed as u64).saturating_sub(run.frames),
                if stopped { "not reached or skipped" } else { "skipped" }
            ),
            None => format!("frames: {} processed\n", run.frames),
        };
        if stopped {
            out.push_str(
                "stopped on request (SIGINT/SIGTERM): outputs are complete up to the last frame processed\n",
            );
        }
        for problems in run.problems.values() {
            for problem in problems {
                out.push_str(&format!("  {problem}\n"));
            }
        }
        let per_frame = |total: u64| if run.frames == 0 { 0.0 } else { total as f64 / run.frames as f64 };
        out.push_str(&format!(
            "objects per frame: mean {:.1}, max {}; camera detections per frame: mean {:.1}\n",
            per_frame(run.objects_published),
            run.objects_max,
            per_frame(run.camera_detections)
        ));
        out.push_str(&run.tracker.render());
        out.push_str(&crate::onboard::render_lidar_stats(&run.lidar_stats));
        if !run.stage_ms.is_empty() {
            out.push_str("work ms         p50      p99\n");
            for (stage, samples) in &run.stage_ms {
                let mut samples = samples.clone();
                out.push_str(&format!(
                    "  {stage:<10} {:>8.2} {:>8.2}\n",
                    percentile(&mut samples, 0.5),
                    percentile(&mut samples, 0.99)
                ));
            }
        }
        for (index, counters) in run.lidar_packets.iter().enumerate() {
            out.push_str(&format!(
                "lidar {index}: {} packets, {} lost, {} malformed, {} rotations\n",
                counters.packets, counters.lost, counters.malformed, counters.rotations
            ));
        }
        if let Some(v2x) = &run.v2x {
            out.push_str(&format!(
                "v2x: {} messages received, {} objects fused ({} published as v2x-only over all frames), \
                 {} undecodable, {} without objects, {} implausible, {} dropped (inbox full), {} bad log lines\n",
                v2x.received,
                v2x.fused_objects,
                run.v2x_only_objects,
                v2x.undecodable,
                v2x.without_objects,
                v2x.implausible,
                v2x.dropped_inbox_full,
                run.malformed.get("v2x").copied().unwrap_or(0)
            ));
        }
        if let Some(can) = &run.can {
            out.push_str(&format!(
                "can: {} frames, {} unknown ids, {} undecodable\n",
                can.frames_received, can.unknown_ids, can.decode_errors
            ));
        }
        if let Some(episodes) = &run.episodes {
            out.push_str(&episodes.render());
        }
        for (output, errors) in &run.output_errors {
            out.push_str(&format!("output {output}: {errors} not written\n"));
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

/// What a replay input is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A folder in KITTI object layout.
    Kitti,
    /// An MCAP file: an episode recorded by pitsense.
    Episode,
    /// Any other file: a lidar capture.
    Capture,
}

/// Tells a KITTI folder, an episode (a file that starts with the MCAP magic) and a capture
/// apart.
///
/// # Errors
/// The input is neither a folder nor a readable file.
pub fn input_kind(input: &Path) -> anyhow::Result<InputKind> {
    use std::io::Read as _;
    if input.is_dir() {
        return Ok(InputKind::Kitti);
    }
    if !input.is_file() {
        anyhow::bail!(
            "`{}` is neither a dataset folder (KITTI object layout) nor a file (episode or capture)",
            input.display()
        );
    }
    let mut magic = [0_u8; 8];
    let mut file =
        std::fs::File::open(input).with_context(|| format!("`{}`: cannot open", input.display()))?;
    let is_mcap =
        file.read_exact(&mut magic).is_ok() && magic[..] == *pitsense_cloud_link::episode_reader::MCAP_MAGIC;
    Ok(if is_mcap { InputKind::Episode } else { InputKind::Capture })
}

/// A file source (`log:`, `candump:`, `pcap:`, `file:`) replays; a live one does not.
fn is_file_source(uri: &str) -> bool {
    ["log:", "candump:", "pcap:", "file:"].iter().any(|scheme| uri.starts_with(scheme))
}

/// The `[run]` section the replay runs: the configuration's own (when it has one) with the
/// inputs swapped for the replay's files and the outputs set to the output folder.
///
/// # Errors
/// A capture without its lidar, a video without the camera's intrinsics, a V2X log without a
/// pose.
fn replay_run_config(options: &ReplayOptions, kind: InputKind) -> anyhow::Result<RunConfig> {
    let config = &options.config;
    let base = config.run.clone().unwrap_or_default();
    let mut run = RunConfig {
        truck_id: crate::episodes::REPLAY_TRUCK_ID.to_owned(),
        inputs: Default::default(),
        outputs: Default::default(),
        ..base.clone()
    };
    if run.ego_pose_site.is_none()
        && let Some([x_m, y_m, z_m, yaw_rad]) = config.replay.ego_pose_site
    {
        run.ego_pose_site = Some(Pose { x_m, y_m, z_m, yaw_rad, ..Pose::default() });
    }
    if kind == InputKind::Capture {
        let Some(lidar) = &options.lidar else {
            anyhow::bail!(
                "`{}`: a capture needs its lidar: --metadata META.json (Ouster) or --velodyne MODEL",
                options.input.display()
            );
        };
        let base_sensor = base.inputs.lidar.as_ref().and_then(|l| l.sensors.first());
        let (driver, metadata) = match lidar {
            CaptureLidar::Ouster(metadata) => (LidarDriver::Ouster, metadata.clone()),
            CaptureLidar::Velodyne(driver) => (*driver, PathBuf::new()),
        };
        run.inputs.lidar = Some(LidarInputConfig {
            sensors: vec![LidarSensorConfig {
                source: format!("pcap:{}", options.input.display()),
                driver,
                metadata,
                truck_from_lidar: base_sensor
                    .map_or(lidar_in_truck_pose(config.replay.lidar_in_truck), |sensor| {
                        sensor.truck_from_lidar
                    }),
                stamp: base_sensor.map_or(StampSource::Arrival, |sensor| sensor.stamp),
            }],
            health: base.inputs.lidar.as_ref().map(|l| l.health.clone()).unwrap_or_default(),
        });
        if let Some(video) = &options.video {
            let Some(camera) = &base.inputs.camera else {
                anyhow::bail!(
                    "--video `{}` needs the camera's intrinsics and truck_from_camera: a [run.inputs.camera] \
                     section in the configuration",
                    video.display()
                );
            };
            run.inputs.camera =
                Some(CameraInputConfig { source: format!("file:{}", video.display()), ..camera.clone() });
        }
    } else if options.video.is_some() || options.lidar.is_some() {
        anyhow::bail!(
            "--video, --metadata and --velodyne go with a capture file, not a KITTI dataset or an episode"
        );
    }
    if kind == InputKind::Episode && options.v2x_log.is_some() {
        anyhow::bail!("--v2x-log goes with a KITTI dataset or a capture: an episode replays its own V2X");
    }
    // File inputs of the configuration replay; live ones are left out (and an episode brings
    // its own V2X).
    if let Some(v2x) = base.inputs.v2x.filter(|v2x| is_file_source(&v2x.source))
        && kind != InputKind::Episode
    {
        run.inputs.v2x = Some(v2x);
    }
    if let Some(can) = base.inputs.can.filter(|can| is_file_source(&can.bus)) {
        run.inputs.can = Some(can);
    }
    if let Some(path) = &options.v2x_log {
        if config.v2x.is_none() {
            anyhow::bail!(
                "--v2x-log needs a [v2x] section in the configuration (at least [v2x.site_origin])"
            );
        }
        if run.ego_pose_site.is_none() {
            anyhow::bail!(
                "--v2x-log needs the truck's pose: set replay.ego_pose_site = [x_m, y_m, z_m, yaw_rad]"
            );
        }
        let health = run.inputs.v2x.take().map(|v2x| v2x.health).unwrap_or_default();
        run.inputs.v2x = Some(V2xInputConfig { source: format!("log:{}", path.display()), health });
    }
    run.outputs.objects_jsonl = Some(options.out_dir.join("objects.jsonl"));
    run.outputs.episodes = config.recorder.enabled || base.outputs.episodes;
    Ok(run)
}

/// Runs the replay through the onboard graph and returns its summary.
///
/// # Errors
/// Start-up errors only: input not a KITTI folder, a readable episode or a capture, model or ONNX
/// Runtime unusable, output folder not writable. Per-frame errors are in the summary.
pub fn run_replay(options: &ReplayOptions) -> anyhow::Result<ReplaySummary> {
    let kind = input_kind(&options.input)?;
    let frames_listed = match kind {
        InputKind::Kitti => Some(crate::dataset::list_frames(&options.input)?.len()),
        InputKind::Episode => {
            let episode = crate::onboard::episode_source::EpisodeSource::open(&options.input)?;
            Some(usize::try_from(episode.lidar_frames()).unwrap_or(usize::MAX))
        }
        InputKind::Capture => None,
    };
    let mut config = options.config.clone();
    config.run = Some(replay_run_config(options, kind)?);
    config.recorder.episode_dir =
        crate::episodes::resolve_episode_dir(&options.config, &options.out_dir).display().to_string();
    std::fs::create_dir_all(&options.out_dir)
        .with_context(|| format!("cannot create output folder `{}`", options.out_dir.display()))?;
    let objects_path = options.out_dir.join("objects.jsonl");
    let rrd_path = options.config.replay.write_rrd.then(|| options.out_dir.join("replay.rrd"));
    let clock = pitsense_types::ManualClock::new(0);
    let run = crate::onboard::run(RunOptions {
        config,
        data_root: options.data_root.clone(),
        mode: RunMode::Replay(clock.clone()),
        clock: Arc::new(clock),
        work_clock: Arc::new(crate::graph::clock::SystemClock::new()),
        stop: Arc::clone(&options.stop),
        duration: None,
        recorded: match kind {
            InputKind::Kitti => Some(RecordedInput::Kitti(options.input.clone())),
            InputKind::Episode => Some(RecordedInput::Episode(options.input.clone())),
            InputKind::Capture => None,
        },
        replay_video_start_ns: options.video_start_ns,
        rrd: rrd_path.clone(),
    })?;
    Ok(ReplaySummary { frames_listed, run, objects_path, rrd_path })
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
