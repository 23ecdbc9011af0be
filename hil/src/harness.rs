//! One HIL run: a mine scenario played into the real `pitsense run` binary over its real
//! transports, at wall-clock pace, with faults; what comes back over zenoh scored against the
//! scenario's ground truth.
//!
//! Steps ([`run_scenario`]):
//! 1. The scenario is simulated by `pitsense-sim`'s engine ([`pitsense_sim::scenario::run`]):
//!    every lidar's rotations as real Ouster UDP packets in a pcap, the ground truth per frame
//!    (`truth.jsonl`), and the simulator's own in-process score for comparison.
//! 2. A play schedule is built: the lidar packets at their capture times (the last column's
//!    stamp), and GNSS NMEA 0183 (`GGA` with RTK-fixed quality and `HDT`, one datagram, 20 Hz)
//!    from the ego trajectory, through the site frame's origin ([`SITE_ORIGIN`]). The faults are
//!    applied ([`crate::faults::apply`]).
//! 3. `pitsense run` starts as a child process with a generated configuration (every input and
//!    output on loopback, ports chosen free; zenoh peer listening; the scenario's lidar pipeline
//!    and tracker settings). The harness joins its zenoh session (multicast scouting off) and
//!    waits for its first health report.
//! 4. The schedule is played on the machine's monotonic clock; the lidars' column stamps are
//!    moved onto the wall clock first (as a PTP-synchronised sensor's are), so that the
//!    runtime's `stamp = "sensor"` frames line up with its clock.
//! 5. After the last datagram and a drain time, SIGTERM; the exit status is recorded.
//! 6. Measurements, from the transports alone: per frame, end-to-end latency from the harness
//!    sending the rotation's last packet to the harness receiving the `TrackedObjects` with the
//!    rotation's stamp; frames never published (dropped) and published later than the frame
//!    budget (late); per actor, reaction time from the rotation in which it first became
//!    visible being sent to its first matching track being received; health mode changes; the
//!    runtime's RSS and CPU from `/proc` every [`RESOURCE_PERIOD`]; the scenario's metrics and
//!    gates from `pitsense-sim`'s scorer on the received tracks.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pitsense_cloud_link::transport::LinkConfig;
use pitsense_perception::drivers::pcap::PcapUdpReader;
use pitsense_sim::scenario::lidar::STAMP_EPOCH_NS;
use pitsense_sim::scenario::run::{RunOptions, ScenarioReport};
use pitsense_sim::scenario::score::{GateResult, RunMetrics, Scorer, Truth};
use pitsense_sim::scenario::world::{ActorKind, Scenario};
use pitsense_types::nalgebra::{Matrix6, Point3, Vector3};
use pitsense_types::{FrameId, Header, ObjectSource, Track, TrackState};
use pitsense_v2x::geodesy::{Geodetic, SiteFrame};
use serde::Serialize;

use crate::can_out::{self, CanListener, CanOutputReport};
use crate::faults::{self, Channel, Datagram, Fault, FaultCounts};
use crate::objects::{TrackedObjectsMessage, decode_tracked_objects};
use crate::player::{OusterLayout, sleep_until};
use crate::proxy::CutProxy;
use crate::rsu::{Rsu, RsuObject};

/// The geodetic origin of the simulated site frame (the GNSS sentences and the runtime's
/// `site_origin` share it): a point in the Pilbara, Western Australia, 500 m above the
/// ellipsoid.
pub const SITE_ORIGIN: Geodetic = Geodetic { lat_deg: -22.7, lon_deg: 118.7, height_m: 500.0 };

/// How often the runtime's RSS and CPU are sampled.
pub const RESOURCE_PERIOD: Duration = Duration::from_millis(250);

/// GNSS sentences per second sent from the ego trajectory.
pub const GNSS_RATE_HZ: u64 = 20;

/// The longest wait for the runtime's first health report.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a HIL run could not be carried out (a run that completes with failed gates is not an
/// error: see [`HilReport::passed`]).
#[derive(Debug, thiserror::Error)]
pub enum HilError {
    /// The scenario's simulation failed.
    #[error("simulating `{scenario}`: {reason}")]
    Simulation {
        /// Scenario name.
        scenario: String,
        /// The simulator's error.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("`{file}`: {reason}")]
    File {
        /// The file.
        file: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The runtime could not be started or did not come up.
    #[error("runtime `{binary}`: {reason} (its log: `{log}`)")]
    Runtime {
        /// The binary.
        binary: PathBuf,
        /// What went wrong.
        reason: String,
        /// Its stderr/stdout log.
        log: PathBuf,
    },
    /// zenoh or a socket failed.
    #[error("transport: {0}")]
    Transport(String),
    /// A recording could not be read (the text names the file and the reason).
    #[error("{0}")]
    Recording(String),
}

/// How to run.
#[derive(Clone, Debug)]
pub struct HilOptions {
    /// The `pitsense` binary under test.
    pub pitsense: PathBuf,
    /// Data root (lidar metadata of the scenarios).
    pub data_root: PathBuf,
    /// Folder for each scenario's files (`<dir>/<scenario>/`).
    pub out_dir: PathBuf,
    /// Seed of the simulation and of the faults' draws; the scenario's when `None`.
    pub seed: Option<u64>,
    /// Stop after this many lidar rotations (smoke runs); the whole scenario when `None`.
    pub max_frames: Option<u64>,
    /// Faults injected.
    pub faults: Vec<Fault>,
    /// The vehicle CAN database (`config/truck.dbc`): with it, the ego's wheel speed and yaw rate
    /// go to the runtime as cannelloni CAN-over-UDP at [`CAN_RATE_HZ`]; without it, no CAN.
    pub dbc: Option<PathBuf>,
    /// The runtime's frame budget (`run.frame_budget_ms`): a frame received later is late.
    pub frame_budget_ms: u64,
    /// Time given to the runtime after the last datagram before SIGTERM.
    pub drain: Duration,
    /// Times the scenario is played back to back (≥ 1; a soak). Each loop goes on with the
    /// frame ids, sensor stamps and GNSS time (the ego jumps back to its start). With more than
    /// one loop nothing is scored against the ground truth: metrics and gates stay empty.
    pub loops: u64,
}

/// Percentiles of a sample, ms (`None` without samples).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LatencyMs {
    /// Median.
    pub p50: Option<f64>,
    /// 99th percentile (nearest rank).
    pub p99: Option<f64>,
    /// Largest.
    pub max: Option<f64>,
}

impl LatencyMs {
    /// Nearest-rank percentiles of `samples_ms` (any order).
    pub fn of(samples_ms: &[f64]) -> Self {
        let mut sorted: Vec<f64> = samples_ms.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let rank = |p: f64| -> Option<f64> {
            if sorted.is_empty() {
                return None;
            }
            let index = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
            Some(sorted[index])
        };
        Self { p50: rank(0.50), p99: rank(0.99), max: sorted.last().copied() }
    }
}

/// A health mode change seen on the runtime's health topic.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthTransition {
    /// Scenario time at reception, s (the play's start is 0).
    pub t_s: f64,
    /// Mode before (`None` for the first report).
    pub from: Option<String>,
    /// Mode after.
    pub to: String,
    /// The report's reason.
    pub reason: String,
}

/// One resource sample of the runtime process.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ResourceSample {
    /// Scenario time, s.
    pub t_s: f64,
    /// Resident set size, MiB (`VmRSS`).
    pub rss_mib: f64,
    /// CPU used since the previous sample, % of one core (user + system).
    pub cpu_percent: f64,
}

/// What the RSU of a `rsu_spoof` run sent, and what the runtime made of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RsuReport {
    /// SDSMs sent.
    pub messages_sent: u64,
    /// Spoofed objects sent (over all messages).
    pub spoofed_objects_sent: u64,
    /// Published objects within 5 m of a spoofed object's position (object-frames; 0 when
    /// every spoofed object was rejected).
    pub spoofed_published: u64,
    /// The runtime's stop summary: V2X messages received.
    pub runtime_received: Option<u64>,
    /// The runtime's stop summary: V2X objects fused.
    pub runtime_fused: Option<u64>,
    /// The runtime's stop summary: V2X objects rejected as implausible.
    pub runtime_implausible: Option<u64>,
}

/// One frame's end-to-end latency.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct FrameLatency {
    /// Scenario time of the frame's stamp, s.
    pub t_s: f64,
    /// Last packet sent → objects received, ms.
    pub latency_ms: f64,
}

/// The outcome of one HIL run.
#[derive(Clone, Debug, Serialize)]
pub struct HilReport {
    /// Scenario name.
    pub scenario: String,
    /// Seed used.
    pub seed: u64,
    /// Faults injected.
    pub faults: Vec<String>,
    /// What the faults did to the lidar datagrams.
    pub fault_counts: FaultCounts,
    /// Lidar datagrams sent.
    pub lidar_datagrams_sent: u64,
    /// Rotations of the first lidar with at least one packet sent (rotations a fault removed
    /// whole, such as `death`, are not counted).
    pub frames_sent: u64,
    /// Of those, rotations whose objects were received.
    pub frames_published: u64,
    /// Rotations sent for which no objects carrying the rotation's stamp came back: the runtime
    /// dropped them, a fault lost them (a cut link), or the runtime published them under another
    /// stamp (after a clock jump back it refuses stamps that do not increase).
    pub dropped_frames: u64,
    /// Rotations received later than the frame budget after their last packet.
    pub late_frames: u64,
    /// The runtime's own late-frame count (its last health report).
    pub runtime_late_frames: Option<u64>,
    /// Objects messages received in all (degraded frames included).
    pub objects_messages: u64,
    /// End-to-end latency over the published rotations.
    pub latency_ms: LatencyMs,
    /// Age of each published rotation at reception: the harness's wall clock at reception minus
    /// the stamp the objects carry (the sensor's time of validity). Unlike `latency_ms` it
    /// includes what the network did before the runtime (`delay`, `jitter`).
    pub age_ms: LatencyMs,
    /// Worst reaction time over the actors detected, ms.
    pub reaction_ms: Option<f64>,
    /// Reaction time per actor (first visible rotation sent → first matching track received),
    /// ms; `None` when never detected.
    pub reaction_ms_by_actor: BTreeMap<String, Option<f64>>,
    /// Per `zenoh_cut`, the time from the link's return to the next objects received, ms
    /// (`None`: nothing came after it).
    pub link_recovery_ms: Vec<Option<f64>>,
    /// With `rsu_spoof`: what the RSU sent and what came of it.
    pub rsu: Option<RsuReport>,
    /// With vehicle CAN: the runtime's CAN outputs as the truck's ECU received them.
    pub can_output: Option<CanOutputReport>,
    /// Health mode changes while the inputs played (not those from the harness stopping them).
    pub health_transitions: Vec<HealthTransition>,
    /// Per input (the health reports' names: `lidar`, `gnss`, `can`, `v2x`), the median rate
    /// the runtime measured while the input was `ok`, Hz.
    pub input_rate_hz: BTreeMap<String, f64>,
    /// Health reports received.
    pub health_reports: u64,
    /// RSS and CPU over the run.
    pub resources: Vec<ResourceSample>,
    /// Latency per published rotation.
    pub latencies: Vec<FrameLatency>,
    /// The runtime's exit status (143 after SIGTERM is a clean stop); `None` when killed.
    pub runtime_exit: Option<i32>,
    /// The scenario's metrics on the tracks received over zenoh.
    pub metrics: RunMetrics,
    /// The scenario's gates on those metrics.
    pub gates: Vec<GateResult>,
    /// The simulator's in-process run of the same scenario and seed (no transports, no faults);
    /// `None` for a recording.
    pub in_process: Option<ScenarioReport>,
    /// For a recording: its live output against `pitsense run --replay` of what was sent.
    pub live_vs_replay: Option<crate::recording::LiveVsReplay>,
    /// How long the inputs played, s.
    pub played_s: f64,
    /// Whether every gate held and the runtime stopped cleanly.
    pub passed: bool,
}

/// What the zenoh subscribers saw, each with its reception time since the play's start.
#[derive(Debug, Default)]
pub(crate) struct Received {
    pub(crate) objects: Vec<(u64, TrackedObjectsMessage)>,
    pub(crate) undecodable_objects: u64,
    pub(crate) health: Vec<(u64, serde_json::Value)>,
}

/// A free loopback port (UDP or TCP).
pub(crate) fn free_port(udp: bool) -> Result<u16, HilError> {
    let port = if udp {
        UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr())
    } else {
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|s| s.local_addr())
    };
    port.map(|a| a.port()).map_err(|e| HilError::Transport(format!("no free port: {e}")))
}

pub(crate) fn file_error(file: &Path) -> impl Fn(String) -> HilError + '_ {
    move |reason| HilError::File { file: file.to_path_buf(), reason }
}

/// `ddmm.mmmmmmm` / `dddmm.mmmmmmm` and the hemisphere letter of an NMEA coordinate.
fn nmea_coordinate(degrees: f64, degree_digits: usize, positive: char, negative: char) -> (String, char) {
    let hemisphere = if degrees < 0.0 { negative } else { positive };
    let degrees = degrees.abs();
    let whole = degrees.floor();
    let minutes = (degrees - whole) * 60.0;
    (format!("{:0degree_digits$}{:010.7}", whole as u64, minutes), hemisphere)
}

/// One NMEA sentence with its checksum (XOR of the bytes between `$` and `*`; NMEA 0183 §5.3).
fn nmea_sentence(body: &str) -> String {
    let checksum = body.bytes().fold(0_u8, |acc, b| acc ^ b);
    format!("${body}*{checksum:02X}\r\n")
}

/// The GGA (RTK fixed, geoid separation 0 so that the altitude is the ellipsoidal height) and
/// HDT sentences of a position and a heading, at `utc_s` seconds of the day.
pub fn gnss_datagram(position: &Geodetic, true_heading_deg: f64, utc_s: f64) -> Vec<u8> {
    let utc_s = utc_s.rem_euclid(86_400.0);
    let (h, m) = ((utc_s / 3600.0).floor(), ((utc_s % 3600.0) / 60.0).floor());
    let s = utc_s - h * 3600.0 - m * 60.0;
    let time = format!("{:02}{:02}{:05.2}", h as u32, m as u32, s);
    let (lat, ns) = nmea_coordinate(position.lat_deg, 2, 'N', 'S');
    let (lon, ew) = nmea_coordinate(position.lon_deg, 3, 'E', 'W');
    let gga =
        format!("GPGGA,{time},{lat},{ns},{lon},{ew},4,16,0.7,{:.3},M,0.000,M,1.0,0001", position.height_m);
    let hdt = format!("GPHDT,{:.3},T", true_heading_deg.rem_euclid(360.0));
    let mut out = nmea_sentence(&gga);
    out.push_str(&nmea_sentence(&hdt));
    out.into_bytes()
}

/// The loopback ports of a run's inputs and zenoh listener.
struct Ports {
    lidar: Vec<u16>,
    gnss: u16,
    zenoh: u16,
    v2x: Option<u16>,
    can: Option<(u16, PathBuf)>,
    /// Where the runtime sends its CAN outputs (the harness's listener), with the same DBC.
    can_out: Option<u16>,
}

/// The runtime configuration of a HIL run (TOML).
fn runtime_config(
    scenario: &Scenario,
    metadata: &[PathBuf],
    ports: &Ports,
    dir: &Path,
    frame_budget_ms: u64,
) -> Result<String, HilError> {
    let Ports { lidar: lidar_ports, gnss: gnss_port, zenoh: zenoh_port, v2x: v2x_port, can, can_out } = ports;
    let mut text = format!(
        "# Generated by pitsense-hil for scenario `{}`.\n\n[run]\ntruck_id = \"hil\"\nframe_budget_ms = \
         {frame_budget_ms}\nhealth_period_ms = 100\n\n",
        scenario.name
    );
    for ((lidar, path), port) in scenario.lidars.iter().zip(metadata).zip(lidar_ports) {
        let t = lidar.truck_from_lidar.translation.vector;
        let (roll, pitch, yaw) = lidar.truck_from_lidar.rotation.euler_angles();
        text.push_str(&format!(
            "[[run.inputs.lidar.sensors]]\nsource = \"udp:127.0.0.1:{port}\"\ndriver = \"ouster\"\nmetadata = \
             {:?}\nstamp = \"sensor\"\ntruck_from_lidar = {{ x_m = {}, y_m = {}, z_m = {}, roll_rad = {roll}, \
             pitch_rad = {pitch}, yaw_rad = {yaw} }}\n\n",
            path.display().to_string(),
            t.x,
            t.y,
            t.z
        ));
    }
    // The simulated sensors are PTP-synchronised: stamps lagging the runtime's clock by more
    // than 300 ms (a clock jump back) make the lidar `stale`.
    text.push_str("[run.inputs.lidar.health]\nmax_stamp_lag_ms = 300\n\n");
    text.push_str(&format!(
        "[run.inputs.gnss]\nsource = \"udp:127.0.0.1:{gnss_port}\"\nhealth = {{ nominal_rate_hz = {}.0, \
         stale_after_periods = 8.0 }}\n\n[run.inputs.gnss.ego]\nsite_origin = {{ lat_deg = {}, lon_deg = {}, \
         height_m = {} }}\ntruck_from_gnss = {{ x_m = 0.0, y_m = 0.0, z_m = 0.0, yaw_rad = 0.0 }}\n\n",
        // Two sentences (GGA, HDT) per datagram.
        2 * GNSS_RATE_HZ,
        SITE_ORIGIN.lat_deg,
        SITE_ORIGIN.lon_deg,
        SITE_ORIGIN.height_m
    ));
    if let Some((port, dbc)) = can {
        text.push_str(&format!(
            "[run.inputs.can]\nbus = \"udp:127.0.0.1:{port}\"\ndbc_path = {:?}\nhealth = {{ nominal_rate_hz = \
             {}.0, stale_after_periods = 10.0 }}\n\n",
            dbc.display().to_string(),
            // Two frames (wheel speed, yaw rate) per datagram.
            2 * CAN_RATE_HZ
        ));
    }
    if let (Some((_, dbc)), Some(port)) = (can, can_out) {
        text.push_str(&format!(
            "[run.outputs.can]\nbus = \"udp:127.0.0.1:0?peer=127.0.0.1:{port}\"\ndbc_path = {:?}\nnearest_objects \
             = 4\nsend_period_ms = 100\n\n",
            dbc.display().to_string(),
        ));
    }
    if let Some(port) = v2x_port {
        text.push_str(&format!(
            "[run.inputs.v2x]\nsource = \"udp:127.0.0.1:{port}\"\n\n[v2x.site_origin]\nlat_deg = {}\nlon_deg = \
             {}\nheight_m = {}\n\n",
            SITE_ORIGIN.lat_deg, SITE_ORIGIN.lon_deg, SITE_ORIGIN.height_m
        ));
    }
    text.push_str(&format!(
        "[run.outputs]\nobjects_jsonl = {:?}\nhealth_jsonl = {:?}\n\n[run.outputs.zenoh]\nmode = \"peer\"\nlisten = \
         [\"tcp/127.0.0.1:{zenoh_port}\"]\nframe_id = \"map\"\n\n",
        dir.join("objects.jsonl").display().to_string(),
        dir.join("health.jsonl").display().to_string(),
    ));
    // The scenario's pipeline and tracker, as `pitsense-sim` runs them (the first lidar's
    // mount gives the sensor height and the deskew lever arm).
    let mut lidar = scenario.lidar_config.clone();
    if let Some(first) = scenario.lidars.first() {
        let mount = first.truck_from_lidar.translation.vector;
        lidar.sensor_height_m = mount.z;
        lidar.deskew.lidar_position_in_ego_m = [mount.x, mount.y];
    }
    #[derive(Serialize)]
    struct Stages<'a> {
        lidar: &'a pitsense_perception::lidar::LidarConfig,
        tracker: &'a pitsense_fusion::tracker::TrackerConfig,
    }
    let stages = toml::to_string(&Stages { lidar: &lidar, tracker: &scenario.tracker_config })
        .map_err(|e| HilError::Simulation { scenario: scenario.name.clone(), reason: e.to_string() })?;
    text.push_str(&stages);
    Ok(text)
}

/// The play schedule of a simulated scenario: lidar packets from the pcaps at their capture
/// stamps, GNSS from the ego trajectory. Also returns, per rotation of the first lidar (keyed by
/// its frame id), the rotation's stamp in scenario ns.
fn schedule(
    scenario: &Scenario,
    pcaps: &[PathBuf],
    duration_ns: u64,
    can: bool,
) -> Result<(Vec<Datagram>, BTreeMap<u16, u64>), HilError> {
    let mut out = Vec::new();
    let mut rotations = BTreeMap::new();
    for (index, (path, lidar)) in pcaps.iter().zip(&scenario.lidars).enumerate() {
        let layout = OusterLayout::new(&lidar.metadata);
        let mut reader = PcapUdpReader::open(path).map_err(|e| file_error(path)(e.to_string()))?;
        while let Some(datagram) = reader.next_datagram().map_err(|e| file_error(path)(e.to_string()))? {
            let at_ns = datagram.capture_time_ns.saturating_sub(STAMP_EPOCH_NS);
            if index == 0
                && let Some(frame_id) = layout.frame_id(&datagram.payload)
            {
                let stamp = rotations.entry(frame_id).or_insert(0_u64);
                *stamp = (*stamp).max(at_ns);
            }
            out.push(Datagram { at_ns, channel: Channel::Lidar(index), payload: datagram.payload });
        }
    }
    let site = site_frame(scenario)?;
    let period_ns = 1_000_000_000 / GNSS_RATE_HZ;
    for k in 0..=duration_ns / period_ns {
        let at_ns = k * period_ns;
        out.push(Datagram { at_ns, channel: Channel::Gnss, payload: gnss_at(scenario, &site, at_ns, at_ns) });
    }
    if can {
        let period_ns = 1_000_000_000 / CAN_RATE_HZ;
        for k in 0..=duration_ns / period_ns {
            let at_ns = k * period_ns;
            let (speed_mps, yaw_rate_radps) = ego_motion(scenario, at_ns as f64 * 1e-9);
            let payload = can_datagram(k as u8, speed_mps, yaw_rate_radps);
            out.push(Datagram { at_ns, channel: Channel::Can, payload });
        }
    }
    out.sort_by_key(|d| d.at_ns);
    Ok((out, rotations))
}

fn site_frame(scenario: &Scenario) -> Result<SiteFrame, HilError> {
    SiteFrame::new(SITE_ORIGIN)
        .map_err(|e| HilError::Simulation { scenario: scenario.name.clone(), reason: e.to_string() })
}

/// The GNSS datagram of the ego's pose at scenario time `at_ns`, its UTC time of day `utc_ns`
/// after midnight (later than `at_ns` when a scenario is looped).
fn gnss_at(scenario: &Scenario, site: &SiteFrame, at_ns: u64, utc_ns: u64) -> Vec<u8> {
    let (pose, _) = scenario.ego_pose(at_ns as f64 * 1e-9);
    let position = site.geodetic_from_site(&Point3::from(pose.translation.vector));
    let (_, _, yaw_rad) = pose.rotation.euler_angles();
    // ENU yaw (counter-clockwise from east) to true heading (clockwise from north).
    let heading_deg = 90.0 - yaw_rad.to_degrees();
    gnss_datagram(&position, heading_deg, utc_ns as f64 * 1e-9)
}

/// The actors within 250 m of the RSU at scenario time `at_ns`, as it reports them (ids from 1 in
/// actor order).
fn rsu_objects(scenario: &Scenario, at_ns: u64, ref_site_m: [f64; 2]) -> Vec<RsuObject> {
    scenario
        .actor_boxes(at_ns as f64 * 1e-9)
        .iter()
        .filter(|b| (b.center_m.x - ref_site_m[0]).hypot(b.center_m.y - ref_site_m[1]) < 250.0)
        .map(|b| RsuObject {
            id: b.actor as u16 + 1,
            vru: scenario.actors[b.actor].kind == ActorKind::Person,
            site_m: [b.center_m.x, b.center_m.y],
            speed_mps: b.speed_mps,
            yaw_rad: b.yaw_rad,
        })
        .collect()
}

/// Vehicle CAN frames sent per second.
pub const CAN_RATE_HZ: u64 = 50;

/// One cannelloni (format version 2) datagram with the ego's wheel speed and yaw rate, encoded
/// by hand from `config/truck.dbc`:
/// - `TRUCK_WHEEL_SPEED` (extended id `0x18FEF100`; DBC id 2566844672 carries the extended flag):
///   `WheelBasedSpeed` bits 8–23, little-endian unsigned, 1/256 km/h;
/// - `TRUCK_YAW_RATE` (standard id 416): `YawRate` Motorola (big-endian) from bit 7, 16 bits
///   signed, 0.01 deg/s; `YawRateValid` bit 55 (byte 6, bit 7) set.
///
/// Cannelloni header: version 2, op code 0 (DATA), sequence number, frame count (u16 BE); each
/// frame: Linux `canid_t` (u32 BE, bit 31 for an extended id), length, data.
pub fn can_datagram(seq_no: u8, speed_mps: f64, yaw_rate_radps: f64) -> Vec<u8> {
    let mut out = vec![2, 0, seq_no, 0, 2];
    let speed_raw = (speed_mps * 3.6 * 256.0).round().clamp(0.0, 64_255.0) as u16;
    let mut wheel = [0_u8; 8];
    wheel[1..3].copy_from_slice(&speed_raw.to_le_bytes());
    out.extend_from_slice(&(0x18FE_F100_u32 | 0x8000_0000).to_be_bytes());
    out.push(8);
    out.extend_from_slice(&wheel);
    let yaw_raw = (yaw_rate_radps.to_degrees() * 100.0).round().clamp(-32_768.0, 32_767.0) as i16;
    let mut yaw = [0_u8; 8];
    yaw[0..2].copy_from_slice(&yaw_raw.to_be_bytes());
    yaw[6] |= 0x80;
    out.extend_from_slice(&416_u32.to_be_bytes());
    out.push(8);
    out.extend_from_slice(&yaw);
    out
}

/// The ego's speed, m/s, and yaw rate, rad/s (heading 50 ms either side), at scenario time `t_s`.
fn ego_motion(scenario: &Scenario, t_s: f64) -> (f64, f64) {
    let turn = scenario.ego.at(t_s + 0.05).heading_rad - scenario.ego.at(t_s - 0.05).heading_rad;
    let turn = (turn + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) - std::f64::consts::PI;
    (scenario.ego.at(t_s).speed_mps, turn / 0.1)
}

/// The runtime process; killed when dropped.
struct RuntimeProcess {
    child: Child,
}

impl Drop for RuntimeProcess {
    fn drop(&mut self) {
        let family = descendants(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
        signal(&family, "-KILL");
    }
}

/// Every process below `pid` (children, theirs, …), from the `PPid` of each `/proc/<n>/status`.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let status = std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
        let parent =
            status.lines().find_map(|l| l.strip_prefix("PPid:")).and_then(|v| v.trim().parse::<u32>().ok());
        if let Some(parent) = parent {
            parents.push((child, parent));
        }
    }
    let mut found = Vec::new();
    let mut frontier = vec![pid];
    while let Some(next) = frontier.pop() {
        for &(child, parent) in &parents {
            if parent == next && !found.contains(&child) {
                found.push(child);
                frontier.push(child);
            }
        }
    }
    found
}

/// Sends `signal` (`-TERM`, `-KILL`) to `pids` with procps' `kill` (the crate forbids unsafe
/// code, so no direct kill(2)).
fn signal(pids: &[u32], signal: &str) {
    if pids.is_empty() {
        return;
    }
    let _ =
        Command::new("kill").arg(signal).args(pids.iter().map(u32::to_string)).stderr(Stdio::null()).status();
}

impl RuntimeProcess {
    /// SIGTERM to the child and every process below it (a wrapper script's runtime included),
    /// then up to 15 s for the child's exit; what is left below it is killed. The child's exit
    /// code (128 + signal for a signal death), or `None` when it had to be killed.
    fn terminate(mut self) -> Option<i32> {
        let mut family = descendants(self.child.id());
        family.push(self.child.id());
        signal(&family, "-TERM");
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                use std::os::unix::process::ExitStatusExt;
                // Give the rest of the family the same deadline, then make sure.
                while Instant::now() < deadline
                    && family.iter().any(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                family.pop();
                signal(&family, "-KILL");
                return status.code().or_else(|| status.signal().map(|s| 128 + s));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

/// Samples `/proc/<pid>` every [`RESOURCE_PERIOD`] until `stop`.
fn sample_resources(pid: u32, start: Instant, stop: Arc<AtomicBool>) -> Vec<ResourceSample> {
    // Linux reports CPU times in clock ticks of USER_HZ, 100 on every mainstream architecture.
    const TICKS_PER_S: f64 = 100.0;
    let read_ticks = || -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command's closing parenthesis; utime and stime are fields 14 and 15.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
    };
    let read_rss_mib = || -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
    };
    let mut samples = Vec::new();
    let mut last = (Instant::now(), read_ticks().unwrap_or(0));
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(RESOURCE_PERIOD);
        let (Some(ticks), Some(rss_mib)) = (read_ticks(), read_rss_mib()) else { break };
        let now = Instant::now();
        let wall_s = now.duration_since(last.0).as_secs_f64().max(1e-6);
        let cpu_percent = (ticks.saturating_sub(last.1)) as f64 / TICKS_PER_S / wall_s * 100.0;
        samples.push(ResourceSample { t_s: now.duration_since(start).as_secs_f64(), rss_mib, cpu_percent });
        last = (now, ticks);
    }
    samples
}

/// Busy processes competing for the CPU (the `cpu_hog` fault); killed when dropped.
pub(crate) struct CpuHogs(Vec<Child>);

impl Drop for CpuHogs {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub(crate) fn start_hogs(faults: &[Fault]) -> Result<CpuHogs, HilError> {
    let mut hogs = CpuHogs(Vec::new());
    for fault in faults {
        if let Fault::CpuHog { processes } = fault {
            for _ in 0..*processes {
                let child = Command::new("sh")
                    .args(["-c", "while :; do :; done"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .spawn()
                    .map_err(|e| HilError::Transport(format!("starting a CPU hog (sh): {e}")))?;
                hogs.0.push(child);
            }
        }
    }
    Ok(hogs)
}

pub(crate) fn ns_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Runs one scenario (see the module documentation).
///
/// # Errors
/// [`HilError`] when the simulation, the runtime's start, a transport or an output file fails.
pub fn run_scenario(scenario: &Scenario, options: &HilOptions) -> Result<HilReport, HilError> {
    // Absolute: the runtime resolves relative paths in its configuration against the data root.
    let out_dir =
        std::path::absolute(&options.out_dir).map_err(|e| file_error(&options.out_dir)(e.to_string()))?;
    let dir = out_dir.join(&scenario.name);
    std::fs::create_dir_all(&dir).map_err(|e| file_error(&dir)(e.to_string()))?;
    let seed = options.seed.unwrap_or(scenario.seed);

    // 1. Simulate.
    let sim_dir = dir.join("sim");
    let in_process = pitsense_sim::scenario::run::run(
        scenario,
        &RunOptions {
            seed: Some(seed),
            out_dir: Some(sim_dir.clone()),
            write_pcap: Some(sim_dir.clone()),
            max_frames: options.max_frames,
            episodes: None,
        },
    )
    .map_err(|e| HilError::Simulation { scenario: scenario.name.clone(), reason: e.to_string() })?;
    let stem = |lidar: &str, ext: &str| sim_dir.join(format!("{}-{lidar}.{ext}", scenario.name));
    let pcaps: Vec<PathBuf> = scenario.lidars.iter().map(|l| stem(&l.name, "pcap")).collect();
    let metadata: Vec<PathBuf> = scenario.lidars.iter().map(|l| stem(&l.name, "json")).collect();
    let truth = read_truth(&sim_dir.join(&scenario.name).join("truth.jsonl"), scenario.actors.len())?;

    // 2. Schedule and faults.
    let duration_ns = (in_process.simulated_s * 1e9) as u64;
    let (plain, rotations) = schedule(scenario, &pcaps, duration_ns, options.dbc.is_some())?;
    let layout =
        scenario.lidars.first().map(|l| OusterLayout::new(&l.metadata)).ok_or_else(|| {
            HilError::Simulation { scenario: scenario.name.clone(), reason: "no lidar".into() }
        })?;
    let (plan, fault_counts) = faults::apply(&options.faults, plain, &layout, seed);

    // 3. The runtime.
    let lidar_ports =
        scenario.lidars.iter().map(|_| free_port(true)).collect::<Result<Vec<u16>, HilError>>()?;
    let (gnss_port, zenoh_port) = (free_port(true)?, free_port(false)?);
    // With `rsu_spoof`, an RSU in the middle of the ego's path sends SDSMs at 10 Hz.
    let spoofed_per_message = options
        .faults
        .iter()
        .find_map(|f| if let Fault::RsuSpoof { objects } = f { Some(*objects) } else { None });
    let (v2x_port, rsu) = match spoofed_per_message {
        Some(_) => {
            let (middle, _) = scenario.ego_pose(in_process.simulated_s / 2.0);
            let ref_site_m = [middle.translation.vector.x, middle.translation.vector.y];
            let rsu = Rsu::new(&options.data_root, &site_frame(scenario)?, ref_site_m).map_err(|e| {
                HilError::Simulation { scenario: scenario.name.clone(), reason: e.to_string() }
            })?;
            (Some(free_port(true)?), Some((rsu, ref_site_m)))
        }
        None => (None, None),
    };
    let spoofed: Vec<RsuObject> = match (spoofed_per_message, &rsu) {
        (Some(count), Some((_, [x, y]))) => (0..count)
            .map(|i| {
                let (far, step) = (i % 2 == 0, f64::from(i / 2));
                RsuObject {
                    id: 1000 + i as u16,
                    vru: false,
                    // 2 km away (beyond any RSU's range), or 30 m away at 120 m/s.
                    site_m: if far { [x + 2000.0, y + 100.0 * step] } else { [x + 30.0, y + 10.0 * step] },
                    speed_mps: if far { 5.0 } else { 120.0 },
                    yaw_rad: 0.0,
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut plan = plan;
    if rsu.is_some() {
        for k in 0..=duration_ns / 100_000_000 {
            plan.push(Datagram { at_ns: k * 100_000_000, channel: Channel::V2x, payload: Vec::new() });
        }
        plan.sort_by_key(|d| d.at_ns);
    }
    // With vehicle CAN, the runtime's CAN outputs come to the harness as the truck's ECU.
    let can_listener = match &options.dbc {
        Some(_) => {
            Some(CanListener::start().map_err(|e| HilError::Transport(format!("CAN output listener: {e}")))?)
        }
        None => None,
    };
    let can_port = match &options.dbc {
        Some(dbc) => {
            Some((free_port(true)?, std::path::absolute(dbc).map_err(|e| file_error(dbc)(e.to_string()))?))
        }
        None => None,
    };
    let ports = Ports {
        lidar: lidar_ports.clone(),
        gnss: gnss_port,
        zenoh: zenoh_port,
        v2x: v2x_port,
        can: can_port.clone(),
        can_out: can_listener.as_ref().map(CanListener::port),
    };
    let config = runtime_config(scenario, &metadata, &ports, &dir, options.frame_budget_ms)?;
    let mut live = LiveRun::launch(options, &dir, &config, zenoh_port)?;

    // 4. Play.
    let hogs = start_hogs(&options.faults)?;
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| HilError::Transport(e.to_string()))?;
    let wall0_ns =
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(0));
    // Scenario ns → the wall-clock ns the runtime sees (sim stamps start at STAMP_EPOCH_NS).
    let to_wall = i64::try_from(wall0_ns).unwrap_or(0) - STAMP_EPOCH_NS as i64;
    let layouts: Vec<OusterLayout> = scenario.lidars.iter().map(|l| OusterLayout::new(&l.metadata)).collect();
    let site = site_frame(scenario)?;
    // The rotation (its stamp, scenario ns of the first loop) of each first-lidar datagram.
    let rotation_of: Vec<Option<u64>> = plan
        .iter()
        .map(|d| match d.channel {
            Channel::Lidar(0) => layout.frame_id(&d.payload).and_then(|id| rotations.get(&id).copied()),
            _ => None,
        })
        .collect();
    let loop_ns = duration_ns.max(1);
    let (start, sampler) = live.begin();
    let mut last_sent_ns: BTreeMap<u64, u64> = BTreeMap::new();
    let mut lidar_datagrams_sent = 0_u64;
    let mut v2x_messages = 0_u64;
    for pass in 0..options.loops.max(1) {
        let base_ns = pass * loop_ns;
        for (datagram, rotation) in plan.iter().zip(&rotation_of) {
            let (port, payload) = match datagram.channel {
                Channel::Lidar(index) => {
                    let mut payload = datagram.payload.clone();
                    layouts[index].add_to_frame_id(&mut payload, (pass * in_process.frames) as u16);
                    layouts[index].shift_column_stamps(
                        &mut payload,
                        to_wall + i64::try_from(base_ns).unwrap_or(i64::MAX),
                    );
                    (lidar_ports[index], payload)
                }
                Channel::Gnss if pass == 0 => (gnss_port, datagram.payload.clone()),
                Channel::Gnss => {
                    (gnss_port, gnss_at(scenario, &site, datagram.at_ns, base_ns + datagram.at_ns))
                }
                Channel::Can => match &can_port {
                    Some((port, _)) => (*port, datagram.payload.clone()),
                    None => continue,
                },
                Channel::V2x => {
                    let (Some((rsu, ref_site_m)), Some(port)) = (&rsu, v2x_port) else { continue };
                    let mut objects = rsu_objects(scenario, datagram.at_ns, *ref_site_m);
                    objects.extend_from_slice(&spoofed);
                    v2x_messages += 1;
                    let utc_ns = wall0_ns + base_ns + datagram.at_ns;
                    let payload = rsu.datagram(v2x_messages as u8, utc_ns, &objects).map_err(|e| {
                        HilError::Simulation { scenario: scenario.name.clone(), reason: e.to_string() }
                    })?;
                    (port, payload)
                }
            };
            sleep_until(start, base_ns + datagram.at_ns);
            live.follow_cuts(datagram.at_ns, start);
            let to = SocketAddr::from(([127, 0, 0, 1], port));
            socket.send_to(&payload, to).map_err(|e| HilError::Transport(format!("UDP to {to}: {e}")))?;
            if matches!(datagram.channel, Channel::Lidar(_)) {
                lidar_datagrams_sent += 1;
            }
            if let Some(stamp) = rotation {
                last_sent_ns.insert(base_ns + stamp, ns_since(start));
            }
        }
    }
    // Health after this is the harness having stopped its inputs, not a fault.
    let play_end_ns = ns_since(start);
    std::thread::sleep(options.drain);
    drop(hogs);

    // 5. Stop.
    let log = live.log.clone();
    let Finished { runtime_exit, resources, received, link_restored_ns } = live.finish(sampler)?;
    let can_output = can_listener.map(|listener| can_out::report(&listener.finish(start), play_end_ns));

    // 6. Measure.
    // The runtime's stamps minus this are scenario ns.
    let offset_ns = i64::try_from(wall0_ns).unwrap_or(0);
    let FrameFigures { received_at, latencies, late_frames, latency_ms, age_ms } =
        frame_figures(&options.faults, &last_sent_ns, loop_ns, offset_ns, &received, options.frame_budget_ms);
    let (input_rate_hz, health_transitions, runtime_late_frames) = health_figures(&received, play_end_ns);
    let frames_sent = last_sent_ns.len() as u64;
    let frames_published = received_at.len() as u64;

    // Score the received tracks on the simulator's truth, frame by frame. Objects published
    // for a frame's stamp count; a degraded message (stamped by the runtime's clock) counts for
    // the truth frame nearest it within half a rotation.
    let mut by_stamp: BTreeMap<u64, &TrackedObjectsMessage> = BTreeMap::new();
    for (_, message) in &received.objects {
        if let Ok(stamp) = u64::try_from(i64::try_from(message.stamp_ns).unwrap_or(0) - offset_ns) {
            by_stamp.entry(stamp).or_insert(message);
        }
    }
    let rate_hz = scenario.lidars.first().and_then(|l| l.metadata.rotation_rate_hz()).map_or(10, u64::from);
    let half_period_ns = 500_000_000 / rate_hz;
    let mut scorer = Scorer::new(&scenario.actors, scenario.lidar_config.cluster_min_points);
    let mut ids: BTreeMap<[u8; 16], u64> = BTreeMap::new();
    let first_lidar = scenario.lidars.first().map(|l| l.truck_from_lidar).unwrap_or_default();
    // A soak (several loops) is not scored: the truth is the first loop's only.
    for (&stamp_ns, returns) in truth.iter().filter(|_| options.loops <= 1) {
        let t_s = stamp_ns.saturating_sub(STAMP_EPOCH_NS) as f64 * 1e-9;
        let scenario_ns = stamp_ns.saturating_sub(STAMP_EPOCH_NS);
        let message = received_at.get(&scenario_ns).map(|(_, m)| *m).or_else(|| {
            let nearest = by_stamp
                .range(scenario_ns.saturating_sub(half_period_ns)..=scenario_ns + half_period_ns)
                .min_by_key(|(s, _)| s.abs_diff(scenario_ns));
            nearest.map(|(_, m)| *m)
        });
        let tracks: Vec<Track> = message.map_or_else(Vec::new, |m| to_tracks(m, &mut ids));
        let boxes = scenario.actor_boxes(t_s);
        let truth: Vec<Truth> = boxes
            .iter()
            .zip(returns)
            .map(|(actor_box, &returns)| Truth { actor_box: *actor_box, returns })
            .collect();
        let (ego, _) = scenario.ego_pose(t_s);
        let lidar_at = ego * first_lidar;
        scorer.frame(
            t_s,
            &truth,
            &tracks,
            [lidar_at.translation.vector.x, lidar_at.translation.vector.y],
            [ego.translation.vector.x, ego.translation.vector.y],
            &scenario.terrain,
        );
    }
    let metrics = scorer.finish();
    let gates = if options.loops <= 1 { metrics.check(&scenario.gates) } else { Vec::new() };

    // Reaction: the first visible rotation's last packet sent → its first matching track's
    // message received.
    let sent_of = |t_s: f64| -> Option<u64> {
        let ns = (t_s * 1e9).round() as u64;
        last_sent_ns.range(ns.saturating_sub(1_000_000)..=ns + 1_000_000).next().map(|(_, &sent)| sent)
    };
    let received_of = |t_s: f64| -> Option<u64> {
        let ns = (t_s * 1e9).round() as u64;
        received_at.range(ns.saturating_sub(1_000_000)..=ns + 1_000_000).next().map(|(_, (at, _))| *at)
    };
    let mut reaction_ms_by_actor = BTreeMap::new();
    for (actor, m) in &metrics.actors {
        let reaction = match (m.first_visible_s, m.time_to_first_detection_s) {
            (Some(visible), Some(ttfd)) if ttfd.is_finite() => {
                match (sent_of(visible), received_of(visible + ttfd)) {
                    (Some(sent), Some(at)) => Some((at as f64 - sent as f64) * 1e-6),
                    _ => None,
                }
            }
            _ => None,
        };
        reaction_ms_by_actor.insert(actor.clone(), reaction);
    }
    let reaction_ms = reaction_ms_by_actor.values().flatten().copied().reduce(f64::max);
    let rsu_report = rsu.as_ref().map(|_| {
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        // The runtime's stop summary: "v2x: N received, F fused, U undecodable, I implausible, D dropped".
        let v2x_line = log_text.lines().rev().find(|l| l.trim_start().starts_with("v2x:")).map(str::trim);
        let count = |word: &str| -> Option<u64> {
            let line = v2x_line?;
            let before = line.split(&format!(" {word}")).next()?;
            before.rsplit([' ', ',', ':']).find(|t| !t.is_empty())?.parse().ok()
        };
        let spoofed_published = received
            .objects
            .iter()
            .flat_map(|(_, m)| m.objects.iter())
            .filter(|o| {
                spoofed.iter().any(|s| (o.center_m[0] - s.site_m[0]).hypot(o.center_m[1] - s.site_m[1]) < 5.0)
            })
            .count() as u64;
        RsuReport {
            messages_sent: v2x_messages,
            spoofed_objects_sent: v2x_messages * spoofed.len() as u64,
            spoofed_published,
            runtime_received: count("received"),
            runtime_fused: count("fused"),
            runtime_implausible: count("implausible"),
        }
    });
    // After each cut: the link restored → the next objects received.
    let link_recovery_ms = link_recovery_ms(&received, &link_restored_ns);
    let passed = gates.iter().all(|g| g.passed) && runtime_exit == Some(143);
    let report = HilReport {
        scenario: scenario.name.clone(),
        seed,
        faults: options.faults.iter().map(ToString::to_string).collect(),
        fault_counts,
        lidar_datagrams_sent,
        frames_sent,
        frames_published,
        dropped_frames: frames_sent.saturating_sub(frames_published),
        late_frames,
        runtime_late_frames,
        objects_messages: received.objects.len() as u64,
        latency_ms,
        age_ms,
        reaction_ms,
        link_recovery_ms,
        rsu: rsu_report,
        can_output,
        reaction_ms_by_actor,
        health_transitions,
        input_rate_hz,
        health_reports: received.health.len() as u64,
        resources,
        latencies,
        runtime_exit,
        metrics,
        gates,
        in_process: Some(in_process),
        live_vs_replay: None,
        played_s: play_end_ns as f64 * 1e-9,
        passed,
    };
    write_report(&dir, &report)?;
    Ok(report)
}

/// Writes `dir/report.json`.
pub(crate) fn write_report(dir: &Path, report: &HilReport) -> Result<(), HilError> {
    let report_path = dir.join("report.json");
    let text = serde_json::to_string_pretty(report).map_err(|e| file_error(&report_path)(e.to_string()))?;
    let mut file =
        std::fs::File::create(&report_path).map_err(|e| file_error(&report_path)(e.to_string()))?;
    file.write_all(text.as_bytes()).map_err(|e| file_error(&report_path)(e.to_string()))
}

/// Per `zenoh_cut`, the time from the link's return (play ns in `restored_ns`) to the next
/// objects received, ms (`None`: nothing came after it).
pub(crate) fn link_recovery_ms(received: &Received, restored_ns: &[u64]) -> Vec<Option<f64>> {
    restored_ns
        .iter()
        .map(|&restored| {
            received
                .objects
                .iter()
                .map(|(at, _)| *at)
                .find(|&at| at >= restored)
                .map(|at| (at - restored) as f64 * 1e-6)
        })
        .collect()
}

/// A `pitsense run` child process joined over zenoh (through the link-cut proxy when a
/// `zenoh_cut` fault asks for one) that has sent its first health report.
pub(crate) struct LiveRun {
    runtime: RuntimeProcess,
    /// The runtime's stdout and stderr.
    log: PathBuf,
    proxy: Option<CutProxy>,
    /// The `zenoh_cut` faults' spans, play ns.
    cut_windows_ns: Vec<(u64, u64)>,
    received: Arc<Mutex<Received>>,
    /// When the play started (the subscribers' time origin).
    start_cell: Arc<Mutex<Option<Instant>>>,
    subscribers: Vec<zenoh::pubsub::Subscriber<()>>,
    session: zenoh::Session,
    /// Whether the proxy cuts the link now.
    link_cut: bool,
    /// When the link came back after each cut, play ns.
    link_restored_ns: Vec<u64>,
}

/// What a [`LiveRun`] left once stopped.
pub(crate) struct Finished {
    pub(crate) runtime_exit: Option<i32>,
    pub(crate) resources: Vec<ResourceSample>,
    pub(crate) received: Received,
    /// When the link came back after each cut, play ns.
    pub(crate) link_restored_ns: Vec<u64>,
}

/// The resource sampler of a play: its thread and its stop flag.
pub(crate) type Sampler = (std::thread::JoinHandle<Vec<ResourceSample>>, Arc<AtomicBool>);

impl LiveRun {
    /// Writes `config` to `dir/pitsense.toml`, starts the runtime on it (its output in
    /// `dir/runtime.log`), joins its zenoh session on `zenoh_port` and waits for its first
    /// health report.
    pub(crate) fn launch(
        options: &HilOptions,
        dir: &Path,
        config: &str,
        zenoh_port: u16,
    ) -> Result<Self, HilError> {
        let log = dir.join("runtime.log");
        let runtime_error =
            |reason: String| HilError::Runtime { binary: options.pitsense.clone(), reason, log: log.clone() };
        let child = spawn_pitsense(options, &[], &dir.join("pitsense.toml"), config, &log)?;
        let mut runtime = RuntimeProcess { child };
        // With a `zenoh_cut` fault the harness's session goes through a proxy that can cut it.
        let cut_windows_ns: Vec<(u64, u64)> = options
            .faults
            .iter()
            .filter_map(|f| match f {
                Fault::ZenohCut { at_s, for_s } => Some(((at_s * 1e9) as u64, ((at_s + for_s) * 1e9) as u64)),
                _ => None,
            })
            .collect();
        let proxy = if cut_windows_ns.is_empty() {
            None
        } else {
            Some(
                CutProxy::start(SocketAddr::from(([127, 0, 0, 1], zenoh_port)))
                    .map_err(|e| HilError::Transport(format!("starting the link-cut proxy: {e}")))?,
            )
        };
        let subscriber_port = proxy.as_ref().map_or(zenoh_port, CutProxy::port);

        // Join its zenoh session.
        let start_cell: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
        let received = Arc::new(Mutex::new(Received::default()));
        let session =
            LinkConfig { connect: vec![format!("tcp/127.0.0.1:{subscriber_port}")], ..LinkConfig::default() }
                .open()
                .map_err(|e| HilError::Transport(e.to_string()))?;
        let since_start = {
            let start_cell = Arc::clone(&start_cell);
            move || -> u64 {
                let start = start_cell.lock().map(|s| *s).unwrap_or(None);
                start.map_or(0, ns_since)
            }
        };
        let objects_subscriber = {
            let (received, since_start) = (Arc::clone(&received), since_start.clone());
            use zenoh::Wait;
            session
                .declare_subscriber("pitsense/truck/hil/objects")
                .callback(move |sample| {
                    let at = since_start();
                    let bytes = sample.payload().to_bytes();
                    if let Ok(mut received) = received.lock() {
                        match decode_tracked_objects(&bytes) {
                            Ok(message) => received.objects.push((at, message)),
                            Err(_) => received.undecodable_objects += 1,
                        }
                    }
                })
                .wait()
                .map_err(|e| HilError::Transport(format!("subscribing to objects: {e}")))?
        };
        let health_subscriber = {
            let (received, since_start) = (Arc::clone(&received), since_start.clone());
            use zenoh::Wait;
            session
                .declare_subscriber("pitsense/truck/hil/health")
                .callback(move |sample| {
                    let at = since_start();
                    let bytes = sample.payload().to_bytes();
                    if let (Ok(value), Ok(mut received)) =
                        (serde_json::from_slice::<serde_json::Value>(&bytes), received.lock())
                    {
                        received.health.push((at, value));
                    }
                })
                .wait()
                .map_err(|e| HilError::Transport(format!("subscribing to health: {e}")))?
        };
        let waiting = Instant::now();
        loop {
            if received.lock().map(|r| !r.health.is_empty()).unwrap_or(false) {
                break;
            }
            if let Ok(Some(status)) = runtime.child.try_wait() {
                // Its own words: the log's last line that says what went wrong.
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                let said = text
                    .lines()
                    .rev()
                    .find(|l| l.contains("rror") || l.contains("invalid"))
                    .or_else(|| text.lines().rev().find(|l| !l.trim().is_empty()))
                    .unwrap_or("(nothing)")
                    .trim()
                    .to_owned();
                return Err(runtime_error(format!("exited at start with {status}: {said}")));
            }
            if waiting.elapsed() > START_TIMEOUT {
                return Err(runtime_error(format!("no health report on zenoh within {START_TIMEOUT:?}")));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Ok(mut received) = received.lock() {
            received.health.clear();
        }
        let subscribers = vec![objects_subscriber, health_subscriber];
        Ok(Self {
            runtime,
            log,
            proxy,
            cut_windows_ns,
            received,
            start_cell,
            subscribers,
            session,
            link_cut: false,
            link_restored_ns: Vec::new(),
        })
    }

    /// Starts the play's clock (the subscribers' time origin) and the resource sampler.
    pub(crate) fn begin(&self) -> (Instant, Sampler) {
        let start = Instant::now();
        if let Ok(mut cell) = self.start_cell.lock() {
            *cell = Some(start);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (pid, stop) = (self.runtime.child.id(), Arc::clone(&stop));
            std::thread::spawn(move || sample_resources(pid, start, stop))
        };
        (start, (sampler, stop))
    }

    /// Cuts or restores the zenoh link for a datagram sent at `at_ns` (play ns) by the
    /// `zenoh_cut` faults' spans, noting when it comes back.
    pub(crate) fn follow_cuts(&mut self, at_ns: u64, start: Instant) {
        if let Some(proxy) = &self.proxy {
            let in_cut = self.cut_windows_ns.iter().any(|&(from, to)| (from..to).contains(&at_ns));
            if in_cut != self.link_cut {
                proxy.set_cut(in_cut);
                self.link_cut = in_cut;
                if !in_cut {
                    self.link_restored_ns.push(ns_since(start));
                }
            }
        }
    }

    /// Restores a cut link, stops the runtime ([`RuntimeProcess::terminate`]) and the sampler,
    /// leaves the zenoh session.
    pub(crate) fn finish(self, (sampler, stop): Sampler) -> Result<Finished, HilError> {
        if let Some(proxy) = &self.proxy {
            proxy.set_cut(false);
        }
        let runtime_exit = self.runtime.terminate();
        stop.store(true, Ordering::SeqCst);
        let resources = sampler.join().unwrap_or_default();
        drop(self.subscribers);
        drop(self.session);
        let received =
            std::mem::take(&mut *self.received.lock().map_err(|_| HilError::Transport("poisoned".into()))?);
        Ok(Finished { runtime_exit, resources, received, link_restored_ns: self.link_restored_ns })
    }
}

/// Writes `config` to `config_path` and starts `pitsense run [extra_args] --config CONFIG
/// --data-root DATA`, its stdout and stderr in `log`.
///
/// # Errors
/// [`HilError::File`] when a file cannot be written; [`HilError::Runtime`] when the binary
/// cannot start.
pub(crate) fn spawn_pitsense(
    options: &HilOptions,
    extra_args: &[&str],
    config_path: &Path,
    config: &str,
    log: &Path,
) -> Result<Child, HilError> {
    std::fs::write(config_path, config).map_err(|e| file_error(config_path)(e.to_string()))?;
    let log_file = std::fs::File::create(log).map_err(|e| file_error(log)(e.to_string()))?;
    let log_err = log_file.try_clone().map_err(|e| file_error(log)(e.to_string()))?;
    Command::new(&options.pitsense)
        .arg("run")
        .args(extra_args)
        .arg("--config")
        .arg(config_path)
        .arg("--data-root")
        .arg(&options.data_root)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err)
        .spawn()
        .map_err(|e| HilError::Runtime {
            binary: options.pitsense.clone(),
            reason: format!("cannot start: {e}"),
            log: log.to_path_buf(),
        })
}

/// What came back for the rotations sent: per rotation stamp (play ns), when its objects were
/// received and the message; the latencies, late frames and ages.
pub(crate) struct FrameFigures<'a> {
    pub(crate) received_at: BTreeMap<u64, (u64, &'a TrackedObjectsMessage)>,
    pub(crate) latencies: Vec<FrameLatency>,
    pub(crate) late_frames: u64,
    pub(crate) latency_ms: LatencyMs,
    pub(crate) age_ms: LatencyMs,
}

/// Matches the objects received to the rotations sent. `last_sent_ns`: per rotation stamp (play
/// ns, loops of `loop_ns` included), when its last packet was sent; the runtime's stamps minus
/// `offset_ns` are play ns; clock jumps among `faults` moved the stamps sent.
pub(crate) fn frame_figures<'a>(
    faults: &[Fault],
    last_sent_ns: &BTreeMap<u64, u64>,
    loop_ns: u64,
    offset_ns: i64,
    received: &'a Received,
    frame_budget_ms: u64,
) -> FrameFigures<'a> {
    // The stamp each rotation went out with (scenario ns): its own, plus every clock jump at
    // or before it in its loop.
    let jumps: Vec<(u64, i64)> = faults
        .iter()
        .filter_map(|f| match f {
            Fault::ClockJump { at_s, offset_s } => {
                Some(((at_s * 1e9) as u64, (offset_s * 1e9).round() as i64))
            }
            _ => None,
        })
        .collect();
    let as_sent: BTreeMap<i64, u64> = last_sent_ns
        .keys()
        .map(|&rotation| {
            let in_loop = rotation % loop_ns;
            let jump: i64 = jumps.iter().filter(|(at, _)| *at <= in_loop).map(|(_, offset)| offset).sum();
            (i64::try_from(rotation).unwrap_or(i64::MAX) + jump, rotation)
        })
        .collect();
    let mut received_at: BTreeMap<u64, (u64, &TrackedObjectsMessage)> = BTreeMap::new();
    let mut ages_ms = Vec::new();
    for (at, message) in &received.objects {
        let stamp = i64::try_from(message.stamp_ns).unwrap_or(i64::MAX) - offset_ns;
        // The rotation's stamp, within 1 ms (rounding of the sim's stamps).
        if let Some((_, &rotation)) = as_sent.range(stamp - 1_000_000..=stamp + 1_000_000).next()
            && let std::collections::btree_map::Entry::Vacant(entry) = received_at.entry(rotation)
        {
            entry.insert((*at, message));
            // Age at reception: scenario time is play time, so the reception's offset against
            // the stamp (both from the play's start).
            ages_ms.push((i64::try_from(*at).unwrap_or(i64::MAX) - stamp) as f64 * 1e-6);
        }
    }
    let mut latencies = Vec::new();
    for (&stamp, &(at, _)) in &received_at {
        if let Some(sent) = last_sent_ns.get(&stamp) {
            latencies.push(FrameLatency {
                t_s: stamp as f64 * 1e-9,
                latency_ms: (at as f64 - *sent as f64) * 1e-6,
            });
        }
    }
    let late_frames = latencies.iter().filter(|l| l.latency_ms > frame_budget_ms as f64).count() as u64;
    let latency_ms = LatencyMs::of(&latencies.iter().map(|l| l.latency_ms).collect::<Vec<f64>>());
    let age_ms = LatencyMs::of(&ages_ms);

    FrameFigures { received_at, latencies, late_frames, latency_ms, age_ms }
}

/// What the health reports received while the inputs played (up to `play_end_ns`) say: per
/// input the median rate while `ok`, the mode changes, and the runtime's last late-frame count.
pub(crate) fn health_figures(
    received: &Received,
    play_end_ns: u64,
) -> (BTreeMap<String, f64>, Vec<HealthTransition>, Option<u64>) {
    let mut rates: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let during_play = || received.health.iter().filter(|(at, _)| *at <= play_end_ns);
    for (_, report) in during_play() {
        if let Some(inputs) = report.get("inputs").and_then(serde_json::Value::as_object) {
            for (name, input) in inputs {
                let ok = input.get("status").and_then(serde_json::Value::as_str) == Some("ok");
                if let (true, Some(rate)) = (ok, input.get("rate_hz").and_then(serde_json::Value::as_f64)) {
                    rates.entry(name.clone()).or_default().push(rate);
                }
            }
        }
    }
    let input_rate_hz: BTreeMap<String, f64> = rates
        .into_iter()
        .filter_map(|(name, mut values)| {
            values.sort_by(f64::total_cmp);
            values.get(values.len() / 2).map(|&median| (name, median))
        })
        .collect();
    let mut health_transitions = Vec::new();
    let mut mode: Option<String> = None;
    let mut runtime_late_frames = None;
    for (at, report) in during_play() {
        let now = report.get("mode").and_then(|m| m.as_str()).unwrap_or("unknown").to_owned();
        runtime_late_frames =
            report.get("late_frames").and_then(serde_json::Value::as_u64).or(runtime_late_frames);
        if mode.as_deref() != Some(now.as_str()) {
            health_transitions.push(HealthTransition {
                t_s: *at as f64 * 1e-9,
                from: mode.clone(),
                to: now.clone(),
                reason: report.get("reason").and_then(|r| r.as_str()).unwrap_or_default().to_owned(),
            });
            mode = Some(now);
        }
    }
    (input_rate_hz, health_transitions, runtime_late_frames)
}

/// The published objects as tracks in the message's frame (ids assigned per UUID in order of
/// first appearance; velocity along the heading from `twist.linear.x`).
fn to_tracks(message: &TrackedObjectsMessage, ids: &mut BTreeMap<[u8; 16], u64>) -> Vec<Track> {
    message
        .objects
        .iter()
        .map(|object| {
            let next = ids.len() as u64 + 1;
            let track_id = *ids.entry(object.uuid).or_insert(next);
            let [x, y, z] = object.center_m;
            let [l, w, h] = object.size_m;
            let (c, s) = (object.yaw_rad.cos(), object.yaw_rad.sin());
            Track {
                header: Header { stamp_ns: message.stamp_ns, frame: FrameId::Site, seq: 0 },
                track_id,
                state: TrackState {
                    center_m: Point3::new(x, y, z),
                    velocity_mps: Vector3::new(object.speed_mps * c, object.speed_mps * s, 0.0),
                    yaw_rad: object.yaw_rad,
                    size_m: Vector3::new(l, w, h),
                },
                covariance: Matrix6::identity(),
                class_label: String::new(),
                score: 1.0,
                age_frames: 0,
                hits: 0,
                frames_since_update: 0,
                source: ObjectSource::Lidar,
            }
        })
        .collect()
}

/// Per truth stamp (sim ns, epoch included), each actor's lidar returns in actor order, from
/// the simulator's `truth.jsonl`.
fn read_truth(path: &Path, actors: usize) -> Result<BTreeMap<u64, Vec<usize>>, HilError> {
    #[derive(serde::Deserialize)]
    struct Line {
        stamp_ns: u64,
        lidar_returns: usize,
    }
    let text = std::fs::read_to_string(path).map_err(|e| file_error(path)(e.to_string()))?;
    let mut truth: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line: Line =
            serde_json::from_str(line).map_err(|e| file_error(path)(format!("line {}: {e}", number + 1)))?;
        truth.entry(line.stamp_ns).or_default().push(line.lidar_returns);
    }
    if let Some((stamp, returns)) = truth.iter().find(|(_, r)| r.len() != actors) {
        return Err(file_error(path)(format!(
            "{} actors at stamp {stamp}, {actors} expected",
            returns.len()
        )));
    }
    Ok(truth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn can_datagram_packs_the_dbc_signals() {
        // 36 km/h = 10 m/s → 36 × 256 = 9216 = 0x2400; −12.34 deg/s → −1234 = 0xFB2E.
        let bytes = can_datagram(7, 10.0, (-12.34_f64).to_radians());
        assert_eq!(bytes[..5], [2, 0, 7, 0, 2]);
        assert_eq!(bytes[5..10], [0x98, 0xFE, 0xF1, 0x00, 8]);
        assert_eq!(bytes[10..18], [0, 0x00, 0x24, 0, 0, 0, 0, 0]);
        assert_eq!(bytes[18..23], [0, 0, 0x01, 0xA0, 8]);
        assert_eq!(bytes[23..31], [0xFB, 0x2E, 0, 0, 0, 0, 0x80, 0]);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<f64> = (1..=200).map(f64::from).collect();
        let p = LatencyMs::of(&samples);
        // Nearest rank: p50 is the 100th value, p99 the 198th.
        assert_eq!((p.p50, p.p99, p.max), (Some(100.0), Some(198.0), Some(200.0)));
        assert_eq!(LatencyMs::of(&[]), LatencyMs::default());
    }

    #[test]
    fn nmea_sentences_carry_the_position_and_a_valid_checksum() {
        let bytes = gnss_datagram(&Geodetic::new(-22.7125, 118.70075, 512.25), 45.5, 3723.5);
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        // 22.7125° = 22° 42.75'; 118.70075° = 118° 42.045'.
        assert!(lines[0].starts_with("$GPGGA,010203.50,2242.7500000,S,11842.0450000,E,4,16,0.7,512.250,M,"));
        assert!(lines[1].starts_with("$GPHDT,45.500,T*"));
        for line in lines {
            let (body, checksum) = line[1..].split_once('*').unwrap();
            let xor = body.bytes().fold(0, |a, b| a ^ b);
            assert_eq!(u8::from_str_radix(checksum, 16).unwrap(), xor, "{line}");
        }
    }
}
