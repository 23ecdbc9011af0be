//! `pitsense run`: the onboard runtime — live sensors (or recorded ones), one dataflow graph,
//! deadlines, health and degraded modes, outputs.
//!
//! ```text
//! lidar sources (UDP/pcap) ─[lidar, drop oldest]─> lidar task (merge, obstacle pipeline) ─┐
//! V2X source (UDP/log) ─────[v2x, drop oldest]───────────────────────────────────────────┤
//!                                                    [lidar_task->fusion, drop oldest]    v
//!                                   fusion task (frame clock): pairing, camera–lidar fusion,
//!                                   V2X objects, tracker ──> objects.jsonl, publishers
//! health (main thread, every run.health_period_ms): input status, mode, drops, watchdogs
//! ```
//!
//! Threads and bounded edges ([`crate::graph::channel`]); every drop is counted and published in
//! the health message. Time is the injected clock: the system clock live, the recording's clock
//! in replay ([`RunMode::Replay`]: lossless edges, event-time fusion, no deadlines forced), so
//! that replay is this very graph with file sources swapped in.
//!
//! Frame deadline: a frame is late when it is published more than `run.frame_budget_ms` after
//! its stamp; late frames are counted and reported, never dropped silently.

pub mod config;
pub mod sources;

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use pitsense_fusion::tracker::Tracker;
use pitsense_perception::drivers::PacketCounters;
use pitsense_perception::lidar::{LidarOutput, LidarPipeline};
use pitsense_types::nalgebra::Isometry3;
use pitsense_types::{Clock, EgoState, FrameId, Header, HealthReport, ManualClock, PointCloud, Track};
use tracing::{info, warn};

use crate::config::PitsenseConfig;
use crate::graph::channel::{DropPolicy, EdgeProbe, EdgeReceiver, RecvOutcome, edge};
use crate::graph::health::{InputRole, MonitorConfig, degraded_mode};
use crate::graph::watchdog::StageWatch;
use crate::objects_jsonl::FrameRecord;
use crate::onboard::config::{RunConfig, SyncPolicy};
use crate::onboard::sources::{
    InputState, LidarDecoder, LidarScanMessage, LidarSource, SourceContext, V2xDatagram, V2xSource,
};
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
    /// End-to-end latency per frame, from the arrival of the packet that completed the lidar
    /// frame to the publication of its objects, ms.
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
}

impl RunSummary {
    /// The summary as text.
    pub fn render(&self) -> String {
        let mut latency = self.latency_ms.clone();
        let mut out = format!(
            "stopped: {:?}\nframes: {} published, {} late\nend-to-end latency ms: p50 {:.2}, p99 {:.2}, max {:.2}\n",
            self.stop_reason,
            self.frames,
            self.late_frames,
            percentile(&mut latency, 0.5),
            percentile(&mut latency, 0.99),
            latency.iter().copied().fold(f64::NAN, f64::max),
        );
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
        for (stamp_ns, mode, reason) in &self.mode_changes {
            out.push_str(&format!("mode {mode} at {stamp_ns} ns: {reason}\n"));
        }
        out
    }
}

/// The lidar task's output for one frame.
#[derive(Debug)]
struct LidarResult {
    /// The merged cloud (first lidar's frame).
    cloud: PointCloud,
    /// Obstacles, boxes and counters.
    output: LidarOutput,
    /// When the frame's last packet arrived, clock ns.
    arrival_ns: u64,
}

/// Everything the threads share.
struct Shared {
    clock: Arc<dyn Clock>,
    stop: Arc<AtomicBool>,
    late_frames: AtomicU64,
    frames: AtomicU64,
    latency_ms: Mutex<Vec<f64>>,
    health: Mutex<Option<HealthReport>>,
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
    let shared = Arc::new(Shared {
        clock: Arc::clone(&clock),
        stop: Arc::clone(&options.stop),
        late_frames: AtomicU64::new(0),
        frames: AtomicU64::new(0),
        latency_ms: Mutex::new(Vec::new()),
        health: Mutex::new(None),
    });
    let mut inputs: Vec<Arc<InputState>> = Vec::new();
    let mut probes: Vec<EdgeProbe> = Vec::new();
    let mut threads: Vec<(String, JoinHandle<()>)> = Vec::new();
    let mut watches: Vec<StageWatch> = Vec::new();
    let mut lidar_packet_counters = Vec::new();

    // Lidar sources and the lidar task.
    let (lidar_result_tx, lidar_result_rx, probe) = edge::<LidarResult>(
        "lidar_task->fusion",
        2,
        if replay { DropPolicy::Block } else { DropPolicy::DropOldest },
    );
    probes.push(probe);
    let mut lidar_state = None;
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
        let primary_from_sensor: Vec<Isometry3<f64>> = {
            let truck_from_primary =
                lidar.sensors.first().map(|s| s.truck_from_lidar.isometry()).unwrap_or_default();
            lidar
                .sensors
                .iter()
                .map(|s| truck_from_primary.inverse() * s.truck_from_lidar.isometry())
                .collect()
        };
        let pipeline = LidarPipeline::new(options.config.lidar.clone())?;
        let watch = StageWatch::new("lidar", run_config.stage_budget_ms);
        watches.push(watch.clone());
        let tolerance_ns = run_config.pairing_tolerance_ms * 1_000_000;
        let task_clock = Arc::clone(&clock);
        let tx = lidar_result_tx.clone();
        threads.push((
            "lidar_task".into(),
            spawn("lidar_task", move || {
                lidar_task(scan_rx, pipeline, primary_from_sensor, tolerance_ns, tx, watch, task_clock)
            })?,
        ));
        lidar_state = Some(state);
    }
    drop(lidar_result_tx);

    // V2X source.
    let mut v2x_rx = None;
    let mut v2x_state = None;
    let mut v2x_fusion = None;
    if let Some(v2x) = &run_config.inputs.v2x {
        let Some(v2x_config) = &options.config.v2x else {
            anyhow::bail!("run.inputs.v2x needs a [v2x] section (at least [v2x.site_origin])");
        };
        if run_config.ego_pose_site.is_none() {
            anyhow::bail!("run.inputs.v2x needs the truck's pose: set run.ego_pose_site (or a GNSS input)");
        }
        v2x_fusion = Some(V2xFusion::new(v2x_config)?);
        let state = InputState::new("v2x", InputRole::V2x, v2x.health.clone(), start_ns);
        inputs.push(Arc::clone(&state));
        let capacity = v2x_config.receiver.queue_capacity.max(1);
        let (tx, rx, probe) = edge::<V2xDatagram>("v2x->fusion", capacity, input_policy);
        probes.push(probe);
        let source = V2xSource { source: v2x.source.clone(), sender: tx, state: Arc::clone(&state) };
        let context = context.clone();
        threads.push(("v2x".into(), spawn("v2x", move || source.run(context))?));
        v2x_rx = Some(rx);
        v2x_state = Some(state);
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

    // Fusion task.
    let tracker = Tracker::new(options.config.tracker.clone())?;
    let fusion_watch = StageWatch::new("fusion", run_config.stage_budget_ms);
    watches.push(fusion_watch.clone());
    let fusion = FusionTask {
        config: run_config.clone(),
        replay,
        tracker,
        v2x: v2x_fusion,
        v2x_rx,
        v2x_state: v2x_state.clone(),
        lidar_rx: lidar_result_rx,
        lidar_state: lidar_state.clone(),
        objects_writer,
        watch: fusion_watch,
        shared: Arc::clone(&shared),
        truck_from_lidar: run_config
            .inputs
            .lidar
            .as_ref()
            .and_then(|l| l.sensors.first())
            .map(|s| s.truck_from_lidar.isometry())
            .unwrap_or_default(),
    };
    let fusion_handle = spawn("fusion", move || fusion.run())?;

    // Health loop on this thread: inputs judged every HEALTH_TICK (so a lost input is seen
    // within two of its periods plus one tick), published every period and at once on a mode
    // change.
    let period_ns = run_config.health_period_ms * 1_000_000;
    let mut mode_changes: Vec<(u64, String, String)> = Vec::new();
    let started = std::time::Instant::now();
    let mut last_published_ns: Option<u64> = None;
    let stop_reason = loop {
        std::thread::sleep(HEALTH_TICK);
        let now_ns = clock.now_ns();
        let mut statuses = BTreeMap::new();
        for input in &inputs {
            let health = input.monitor().health(now_ns);
            statuses.insert(input.name.clone(), (input.role, health));
        }
        let (mode, reason) = degraded_mode(&statuses);
        let changed = mode_changes.last().is_none_or(|(_, last, _)| last != mode.as_str());
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
            for watch in &watches {
                let report = watch.report(now_ns);
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
            *shared.health.lock().unwrap_or_else(PoisonError::into_inner) = Some(report);
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
    let latency_ms = std::mem::take(&mut *shared.latency_ms.lock().unwrap_or_else(PoisonError::into_inner));
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
    })
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
#[allow(clippy::too_many_arguments)]
fn lidar_task(
    scans: EdgeReceiver<LidarScanMessage>,
    mut pipeline: LidarPipeline,
    primary_from_sensor: Vec<Isometry3<f64>>,
    tolerance_ns: u64,
    results: crate::graph::channel::EdgeSender<LidarResult>,
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
        if message.sensor_index != 0 {
            if let Some(slot) = latest_secondary.get_mut(message.sensor_index) {
                *slot = Some(message);
            }
            continue;
        }
        watch.begin(clock.now_ns());
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
        watch.end(clock.now_ns());
        results.send(LidarResult { cloud, output, arrival_ns: message.arrival_ns });
    }
}

/// The fusion task: runs on the frame clock.
struct FusionTask {
    config: RunConfig,
    replay: bool,
    tracker: Tracker,
    v2x: Option<V2xFusion>,
    v2x_rx: Option<EdgeReceiver<V2xDatagram>>,
    v2x_state: Option<Arc<InputState>>,
    lidar_rx: EdgeReceiver<LidarResult>,
    lidar_state: Option<Arc<InputState>>,
    objects_writer: Option<std::io::BufWriter<std::fs::File>>,
    watch: StageWatch,
    shared: Arc<Shared>,
    truck_from_lidar: Isometry3<f64>,
}

/// How often the health loop judges the inputs.
const HEALTH_TICK: Duration = Duration::from_millis(10);

/// Most lidar frames waiting for their partners before the oldest is fused anyway.
const MAX_PENDING_FRAMES: usize = 4;

impl FusionTask {
    fn run(mut self) -> Option<V2xFusionStats> {
        let mut pending: VecDeque<(LidarResult, u64)> = VecDeque::new();
        let mut lidar_ended = self.lidar_state.is_none();
        let mut seq = 0_u64;
        loop {
            self.drain_v2x();
            if !lidar_ended {
                match self.lidar_rx.recv_timeout(Duration::from_millis(2)) {
                    Ok(result) => {
                        let ready_ns = self.shared.clock.now_ns();
                        if pending.len() >= MAX_PENDING_FRAMES
                            && let Some((oldest, _)) = pending.pop_front()
                        {
                            // Waiting any longer would make every later frame late: fuse it now.
                            self.drain_v2x();
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
                if !(self.partners_ready(front.cloud.header.stamp_ns, *ready_ns)
                    || lidar_ended && self.replay)
                {
                    break;
                }
                let Some((result, _)) = pending.pop_front() else { break };
                self.drain_v2x();
                self.fuse(result, seq);
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
        self.v2x.as_ref().map(|v2x| *v2x.stats())
    }

    fn drain_v2x(&mut self) {
        if let (Some(rx), Some(v2x)) = (&self.v2x_rx, &mut self.v2x) {
            while let Some(datagram) = rx.try_recv() {
                v2x.push(datagram.receive_stamp_ns, datagram.bytes);
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
        self.v2x_state.as_ref().is_none_or(|state| {
            state.watermark_ns() >= stamp_ns
                || !self.replay && !state.monitor().health(self.shared.clock.now_ns()).status.is_usable()
        })
    }

    fn fuse(&mut self, result: LidarResult, seq: u64) {
        let stamp_ns = result.cloud.header.stamp_ns;
        self.watch.begin(self.shared.clock.now_ns());
        let detections = result.output.objects;
        let tracks: Vec<Track> = match (self.config.ego_pose_site, &mut self.v2x) {
            (Some(pose), v2x) => {
                let ego = EgoState {
                    header: Header { stamp_ns, frame: FrameId::Site, seq },
                    site_from_truck: pose.isometry(),
                    speed_mps: 0.0,
                    yaw_rate_radps: 0.0,
                    accel_mps2: 0.0,
                };
                let objects = v2x.as_mut().map(|v2x| v2x.objects_at(stamp_ns, &ego)).unwrap_or_default();
                self.tracker.update_with_ego_and_v2x(
                    stamp_ns,
                    &detections,
                    &objects,
                    &ego,
                    &self.truck_from_lidar,
                )
            }
            (None, _) => self.tracker.update(stamp_ns, &detections),
        };
        if let Some(writer) = &mut self.objects_writer {
            let name = format!("{seq:06}");
            let record = FrameRecord::new(&name, seq, stamp_ns, &tracks);
            if let Err(error) = serde_json::to_writer(&mut *writer, &record)
                .map_err(std::io::Error::from)
                .and_then(|()| writer.write_all(b"\n"))
            {
                warn!("objects output: {error}");
            }
        }
        let published_ns = self.shared.clock.now_ns();
        self.watch.end(published_ns);
        self.shared.frames.fetch_add(1, Ordering::Relaxed);
        if !self.replay {
            let latency_ms = published_ns.saturating_sub(result.arrival_ns) as f64 * 1e-6;
            self.shared.latency_ms.lock().unwrap_or_else(PoisonError::into_inner).push(latency_ms);
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
