//! One scenario end to end: simulate every lidar rotation, run today's onboard lidar pipeline
//! and tracker on it, score against the ground truth, check the gates.
//!
//! Per frame (one rotation of the first lidar; every lidar rotates in step):
//! 1. each lidar's rotation is simulated ([`LidarModel::simulate`]) with a generator seeded
//!    from `(seed, lidar, frame)`; with `--write-pcap` its packets are encoded by `perception`'s
//!    Ouster encoder and written to `<dir>/<scenario>-<lidar>.pcap` beside the metadata JSON;
//! 2. the packets' fields become a point cloud through the decoder's XYZ table, stamped with the
//!    rotation's last column (the pipeline's convention), and go through `perception`'s
//!    [`LidarPipeline`] with the true ego motion (deskew);
//! 3. the objects of all lidars, moved into the truck frame, update `fusion`'s [`Tracker`] with
//!    the true ego pose (tracks in the site frame), as the runtime's fusion task does;
//! 4. the published tracks are scored against the actors' boxes at the cloud's stamp
//!    ([`Scorer`]); with `--out`, the ground truth goes to `<dir>/<scenario>/truth.jsonl` and the
//!    tracks to `<dir>/<scenario>/tracks.jsonl`.
//!
//! Lidar faults: during an outage a lidar's rotation is still simulated (so the actors it would
//! have seen count as visible) but nothing of it is written or processed; with a yaw
//! calibration error the beams leave the true mount while the pipeline and tracker use the
//! configured one. With `--episodes`, each lidar's cloud (`/lidar<N>/points`), the ego state
//! (`/ego/state`, `/tf`) and the tracks (`/tracks`) go into a pitsense MCAP episode, which
//! `pitsense replay` and the Rerun/Foxglove tools open. The camera model, RSU messages and
//! object-level faults are not simulated yet.

use std::io::Write;
use std::path::{Path, PathBuf};

use nalgebra::{Isometry3, Vector3};
use pitsense_cloud_link::episode::{EpisodeMessage, EpisodeMetadata, EpisodeWriter, EpisodeWriterOptions};
use pitsense_fusion::tracker::Tracker;
use pitsense_perception::drivers::ouster::OusterPacketEncoder;
use pitsense_perception::drivers::pcap::PcapUdpWriter;
use pitsense_perception::lidar::{LidarFrame, LidarPipeline};
use pitsense_types::{Detection3d, EgoState, FrameId, Header, Track};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::ScenarioError;
use super::lidar::{LidarModel, STAMP_EPOCH_NS};
use super::score::{GateResult, RunMetrics, Scorer, Truth};
use super::world::Scenario;

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Seed of every random draw; the scenario file's when `None`.
    pub seed: Option<u64>,
    /// Folder for the ground truth and tracks (JSON lines); none when `None`.
    pub out_dir: Option<PathBuf>,
    /// Folder for each lidar's pcap and metadata JSON; none when `None`.
    pub write_pcap: Option<PathBuf>,
    /// Stop after this many frames (smoke runs); the whole duration when `None`.
    pub max_frames: Option<u64>,
    /// Folder for a pitsense MCAP episode per scenario (`<dir>/<scenario>.mcap`: every lidar's
    /// cloud, the ego states and the tracks, as the truck records them); none when `None`.
    pub episodes: Option<PathBuf>,
}

/// The outcome of one scenario.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioReport {
    /// Scenario name.
    pub scenario: String,
    /// Seed used.
    pub seed: u64,
    /// Frames simulated.
    pub frames: u64,
    /// Simulated time, s (frames × the first lidar's rotation period).
    pub simulated_s: f64,
    /// Lidar returns simulated over the run (all lidars).
    pub lidar_returns: u64,
    /// Lidar rotations not sent because of an outage fault (all lidars).
    pub outage_frames: u64,
    /// What the run measured.
    pub metrics: RunMetrics,
    /// Every gate's outcome.
    pub gates: Vec<GateResult>,
    /// Whether every gate held.
    pub passed: bool,
    /// Files written (pcaps, metadata, truth and tracks).
    pub files: Vec<PathBuf>,
}

/// The generator of lidar `lidar`'s rotation `frame` under `seed` (SplitMix64-style mixing, so
/// nearby seeds give unrelated streams).
pub fn frame_rng(seed: u64, lidar: usize, frame: u64) -> ChaCha8Rng {
    let mut z =
        seed ^ (lidar as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ frame.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ChaCha8Rng::seed_from_u64(z ^ (z >> 31))
}

/// A lidar object moved into the truck frame (centre transformed, heading turned).
fn to_truck(detection: &Detection3d, truck_from_lidar: &Isometry3<f64>) -> Detection3d {
    let mut moved = detection.clone();
    moved.center_m = truck_from_lidar * detection.center_m;
    let heading =
        truck_from_lidar.rotation * Vector3::new(detection.yaw_rad.cos(), detection.yaw_rad.sin(), 0.0);
    moved.yaw_rad = heading.y.atan2(heading.x);
    moved.header.frame = FrameId::Ego;
    moved
}

/// One line of `truth.jsonl`.
#[derive(Serialize)]
struct TruthLine<'a> {
    stamp_ns: u64,
    actor: &'a str,
    class: &'static str,
    center_m: [f64; 3],
    size_m: [f64; 3],
    yaw_rad: f64,
    speed_mps: f64,
    lidar_returns: usize,
}

/// One line of `tracks.jsonl`.
#[derive(Serialize)]
struct TrackLine {
    stamp_ns: u64,
    track_id: u64,
    center_m: [f64; 3],
    size_m: [f64; 3],
    yaw_rad: f64,
    velocity_mps: [f64; 3],
}

/// A buffered output file that names itself in errors.
struct Output {
    path: PathBuf,
    writer: std::io::BufWriter<std::fs::File>,
}

impl Output {
    fn create(path: PathBuf) -> Result<Self, ScenarioError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| ScenarioError::Output { file: parent.to_path_buf(), reason: e.to_string() })?;
        }
        let file = std::fs::File::create(&path)
            .map_err(|e| ScenarioError::Output { file: path.clone(), reason: e.to_string() })?;
        Ok(Self { path, writer: std::io::BufWriter::new(file) })
    }

    fn line(&mut self, value: &impl Serialize) -> Result<(), ScenarioError> {
        let text = serde_json::to_string(value)
            .map_err(|e| ScenarioError::Output { file: self.path.clone(), reason: e.to_string() })?;
        writeln!(self.writer, "{text}")
            .map_err(|e| ScenarioError::Output { file: self.path.clone(), reason: e.to_string() })
    }

    fn finish(mut self) -> Result<PathBuf, ScenarioError> {
        self.writer
            .flush()
            .map_err(|e| ScenarioError::Output { file: self.path.clone(), reason: e.to_string() })?;
        Ok(self.path)
    }
}

/// Per-lidar state of a run.
struct LidarRun {
    model: LidarModel,
    pipeline: LidarPipeline,
    encoder: OusterPacketEncoder,
    pcap: Option<(PathBuf, PcapUdpWriter<std::io::BufWriter<std::fs::File>>)>,
}

/// Runs `scenario` (see the module documentation).
///
/// # Errors
/// [`ScenarioError::Stage`] when the pipeline or tracker refuses its settings or a packet cannot
/// be encoded, [`ScenarioError::Output`] when an output file cannot be written.
pub fn run(scenario: &Scenario, options: &RunOptions) -> Result<ScenarioReport, ScenarioError> {
    let stage = |reason: String| ScenarioError::Stage { scenario: scenario.name.clone(), reason };
    let seed = options.seed.unwrap_or(scenario.seed);
    let mut files = Vec::new();
    let mut lidars = Vec::with_capacity(scenario.lidars.len());
    for lidar in &scenario.lidars {
        let mut config = scenario.lidar_config.clone();
        // The truck frame's origin is on the ground: the mount height is the sensor height.
        let mount = lidar.truck_from_lidar.translation.vector;
        config.sensor_height_m = mount.z;
        config.deskew.lidar_position_in_ego_m = [mount.x, mount.y];
        let pipeline =
            LidarPipeline::new(config).map_err(|e| stage(format!("lidar `{}`: {e}", lidar.name)))?;
        let pcap = match &options.write_pcap {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| ScenarioError::Output { file: dir.clone(), reason: e.to_string() })?;
                let stem = format!("{}-{}", scenario.name, lidar.name);
                let json = dir.join(format!("{stem}.json"));
                std::fs::copy(&lidar.metadata_path, &json)
                    .map_err(|e| ScenarioError::Output { file: json.clone(), reason: e.to_string() })?;
                files.push(json);
                let path = dir.join(format!("{stem}.pcap"));
                let writer = PcapUdpWriter::create(&path)
                    .map_err(|e| ScenarioError::Output { file: path.clone(), reason: e.to_string() })?;
                Some((path, writer))
            }
            None => None,
        };
        lidars.push(LidarRun {
            model: LidarModel::new(lidar),
            pipeline,
            encoder: OusterPacketEncoder::new(&lidar.metadata),
            pcap,
        });
    }
    let mut tracker = Tracker::new(scenario.tracker_config.clone()).map_err(|e| stage(e.to_string()))?;
    let mut scorer = Scorer::new(&scenario.actors, scenario.lidar_config.cluster_min_points);
    let mut outputs = match &options.out_dir {
        Some(dir) => {
            let dir = dir.join(&scenario.name);
            Some((Output::create(dir.join("truth.jsonl"))?, Output::create(dir.join("tracks.jsonl"))?))
        }
        None => None,
    };
    let mut episode = match &options.episodes {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| ScenarioError::Output { file: dir.clone(), reason: e.to_string() })?;
            let path = dir.join(format!("{}.mcap", scenario.name));
            // The extrinsics the truck believes (the configured mount, not a fault's true one)
            // of the first lidar, whose clouds a replay takes.
            let truck_from_lidar_json = scenario.lidars.first().map_or_else(String::new, |lidar| {
                let t = lidar.truck_from_lidar.translation.vector;
                let (roll_rad, pitch_rad, yaw_rad) = lidar.truck_from_lidar.rotation.euler_angles();
                serde_json::json!({
                    "x_m": t.x, "y_m": t.y, "z_m": t.z,
                    "roll_rad": roll_rad, "pitch_rad": pitch_rad, "yaw_rad": yaw_rad,
                })
                .to_string()
            });
            let metadata = EpisodeMetadata {
                truck_id: "pitsense-sim".to_owned(),
                truck_from_lidar_json,
                software_version: concat!("pitsense-sim ", env!("CARGO_PKG_VERSION")).to_owned(),
                trigger_reason: format!("simulation:{} seed {seed}", scenario.name),
                trigger_stamp_ns: STAMP_EPOCH_NS,
                ..EpisodeMetadata::default()
            };
            let writer = EpisodeWriter::create(&path, &metadata, EpisodeWriterOptions::default())
                .map_err(|e| ScenarioError::Output { file: path.clone(), reason: e.to_string() })?;
            Some((path, writer))
        }
        None => None,
    };
    let period_s = lidars.first().map_or(0.1, |l| l.model.frame_period_s());
    let mut frames = (scenario.duration_s / period_s).floor() as u64;
    if let Some(max) = options.max_frames {
        frames = frames.min(max);
    }
    let mut lidar_returns = 0_u64;
    let mut outage_frames = 0_u64;
    let mut packets = Vec::new();
    for frame in 0..frames {
        let start_s = frame as f64 * period_s;
        let mut detections = Vec::new();
        let mut returns = vec![0_usize; scenario.actors.len()];
        let mut stamp_s = start_s + period_s;
        for (index, run) in lidars.iter_mut().enumerate() {
            let mut rng = frame_rng(seed, index, frame);
            let sim = run.model.simulate(scenario, frame, start_s, &mut rng);
            if index == 0 {
                stamp_s = sim.end_s;
            }
            // What the actors would have returned counts for visibility even while the lidar
            // is dead: a missed detection then is the fault's, and the metrics show it.
            for (count, actor_returns) in returns.iter_mut().zip(&sim.actor_returns) {
                *count += actor_returns;
            }
            if run.model.lidar().is_out(start_s) {
                outage_frames += 1;
                continue;
            }
            if let Some((path, writer)) = &mut run.pcap {
                packets.clear();
                run.encoder
                    .encode_scan(&sim.scan, &mut packets)
                    .map_err(|e| stage(format!("encoding lidar `{}`: {e}", run.model.lidar().name)))?;
                let per_packet = run.model.lidar().metadata.columns_per_packet.max(1);
                for (number, packet) in packets.iter().enumerate() {
                    let last_column = ((number + 1) * per_packet - 1).min(sim.scan.timestamp_ns.len() - 1);
                    let stamp_ns = sim.scan.timestamp_ns[last_column];
                    writer
                        .write_datagram(stamp_ns, run.model.lidar().udp_port, packet)
                        .map_err(|e| ScenarioError::Output { file: path.clone(), reason: e.to_string() })?;
                }
            }
            lidar_returns += sim.owner.iter().filter(|o| **o != super::lidar::Owner::None).count() as u64;
            scorer.dust(sim.dust_returns, sim.dust_extinguished);
            let mut cloud = run
                .model
                .lut()
                .point_cloud(&sim.scan, index as u16, frame)
                .map_err(|e| stage(e.to_string()))?;
            let stamp_ns = STAMP_EPOCH_NS + (sim.end_s * 1e9).round() as u64;
            cloud.header.stamp_ns = stamp_ns;
            let ego = ego_state(scenario, sim.end_s, stamp_ns);
            if let Some((path, writer)) = &mut episode {
                writer
                    .write(&EpisodeMessage::PointCloud(cloud.clone()))
                    .map_err(|e| ScenarioError::Output { file: path.clone(), reason: e.to_string() })?;
            }
            let output = run.pipeline.process_frame(&LidarFrame {
                cloud: &cloud,
                ego: Some(&ego),
                time_offset_s: None,
                farther_echo_m: None,
            });
            let truck_from_lidar = run.model.lidar().truck_from_lidar;
            detections.extend(output.objects.iter().map(|d| to_truck(d, &truck_from_lidar)));
        }
        let stamp_ns = STAMP_EPOCH_NS + (stamp_s * 1e9).round() as u64;
        let ego = ego_state(scenario, stamp_s, stamp_ns);
        let tracks = tracker.update_with_ego(stamp_ns, &detections, &ego, &Isometry3::identity());
        if let Some((path, writer)) = &mut episode {
            let header = Header { stamp_ns, frame: FrameId::Site, seq: frame };
            for message in
                [EpisodeMessage::from(ego.clone()), EpisodeMessage::Tracks { header, tracks: tracks.clone() }]
            {
                writer
                    .write(&message)
                    .map_err(|e| ScenarioError::Output { file: path.clone(), reason: e.to_string() })?;
            }
        }
        let boxes = scenario.actor_boxes(stamp_s);
        let truth: Vec<Truth> = boxes
            .iter()
            .zip(&returns)
            .map(|(actor_box, &returns)| Truth { actor_box: *actor_box, returns })
            .collect();
        let lidar_xy = {
            let first = scenario.lidars.first().map_or_else(Isometry3::identity, |l| l.truck_from_lidar);
            let at = ego.site_from_truck * first;
            [at.translation.vector.x, at.translation.vector.y]
        };
        let ego_xy = [ego.site_from_truck.translation.vector.x, ego.site_from_truck.translation.vector.y];
        scorer.frame(stamp_s, &truth, &tracks, lidar_xy, ego_xy, &scenario.terrain);
        if let Some((truth_out, tracks_out)) = &mut outputs {
            write_frame(truth_out, tracks_out, scenario, stamp_ns, &truth, &tracks)?;
        }
    }
    for run in lidars {
        if let Some((path, writer)) = run.pcap {
            writer
                .finish()
                .map_err(|e| ScenarioError::Output { file: path.clone(), reason: e.to_string() })?;
            files.push(path);
        }
    }
    if let Some((path, writer)) = episode {
        writer.finish().map_err(|e| ScenarioError::Output { file: path.clone(), reason: e.to_string() })?;
        files.push(path);
    }
    if let Some((truth_out, tracks_out)) = outputs {
        files.push(truth_out.finish()?);
        files.push(tracks_out.finish()?);
    }
    let metrics = scorer.finish();
    let gates = metrics.check(&scenario.gates);
    let passed = gates.iter().all(|gate| gate.passed);
    Ok(ScenarioReport {
        scenario: scenario.name.clone(),
        seed,
        frames,
        simulated_s: frames as f64 * period_s,
        lidar_returns,
        outage_frames,
        metrics,
        gates,
        passed,
        files,
    })
}

/// The true ego state at scenario time `t_s` (yaw rate from the heading 50 ms either side).
fn ego_state(scenario: &Scenario, t_s: f64, stamp_ns: u64) -> EgoState {
    let (pose, sample) = scenario.ego_pose(t_s);
    let before = scenario.ego.at(t_s - 0.05).heading_rad;
    let after = scenario.ego.at(t_s + 0.05).heading_rad;
    let turn =
        (after - before + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) - std::f64::consts::PI;
    EgoState {
        header: Header { stamp_ns, frame: FrameId::Site, seq: 0 },
        site_from_truck: pose,
        speed_mps: sample.speed_mps,
        yaw_rate_radps: turn / 0.1,
        accel_mps2: 0.0,
    }
}

fn write_frame(
    truth_out: &mut Output,
    tracks_out: &mut Output,
    scenario: &Scenario,
    stamp_ns: u64,
    truth: &[Truth],
    tracks: &[Track],
) -> Result<(), ScenarioError> {
    for item in truth {
        let actor = &scenario.actors[item.actor_box.actor];
        let c = item.actor_box.center_m;
        truth_out.line(&TruthLine {
            stamp_ns,
            actor: &actor.id,
            class: actor.kind.name(),
            center_m: [c.x, c.y, c.z],
            size_m: actor.size_m,
            yaw_rad: item.actor_box.yaw_rad,
            speed_mps: item.actor_box.speed_mps,
            lidar_returns: item.returns,
        })?;
    }
    for track in tracks {
        let s = &track.state;
        tracks_out.line(&TrackLine {
            stamp_ns,
            track_id: track.track_id,
            center_m: [s.center_m.x, s.center_m.y, s.center_m.z],
            size_m: [s.size_m.x, s.size_m.y, s.size_m.z],
            yaw_rad: s.yaw_rad,
            velocity_mps: [s.velocity_mps.x, s.velocity_mps.y, s.velocity_mps.z],
        })?;
    }
    Ok(())
}

/// Writes `report` as pretty JSON to `path`.
///
/// # Errors
/// [`ScenarioError::Output`] when the file cannot be written.
pub fn write_report(path: &Path, report: &ScenarioReport) -> Result<(), ScenarioError> {
    let text = serde_json::to_string_pretty(report)
        .map_err(|e| ScenarioError::Output { file: path.to_path_buf(), reason: e.to_string() })?;
    std::fs::write(path, text + "\n")
        .map_err(|e| ScenarioError::Output { file: path.to_path_buf(), reason: e.to_string() })
}
