//! Source threads: sockets and files in, stamped messages out on bounded edges.
//!
//! Every source keeps an [`InputState`]: its health monitor (fed with the arrival time on the
//! injected clock and the sensor stamp of each message), its **watermark** (a promise that every
//! message it will still deliver is stamped at or after it — what event-time fusion waits on)
//! and whether it ended. Bad input (malformed packets, unreadable log lines) is counted and
//! logged with the source and the reason; the thread keeps going.

use std::net::UdpSocket;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use pitsense_perception::drivers::ouster::{OusterMetadata, OusterScanBatcher, XyzLut};
use pitsense_perception::drivers::pcap::PcapUdpReader;
use pitsense_perception::drivers::velodyne::{
    VelodyneDecoder, VelodyneDecoderConfig, VelodyneRotationAssembler,
};
use pitsense_perception::drivers::{PacketCounters, RotationAssembler};
use pitsense_types::{Clock, FrameId, Header, Image, ManualClock, PointCloud, VehicleSignals};
use tracing::{debug, warn};

use crate::can::{CanError, CanInputCounters, VehicleSignalDecoder, open_bus};
use crate::gnss::{GnssCounters, GnssError, GnssSource, StampedSentence};
use crate::graph::channel::{EdgeSender, SendOutcome};
use crate::graph::health::{InputMonitor, InputRole, MonitorConfig};
use crate::onboard::config::{LidarSensorConfig, StampSource, parse_source};

/// Largest UDP payload over IPv4.
const MAX_UDP_PAYLOAD: usize = 65_507;
/// How long a socket read waits before the thread looks at its stop flag and watermark.
const SOCKET_POLL: Duration = Duration::from_millis(2);

/// A lidar's rotation period when its configuration states none (10 Hz, 600 rpm), ns.
const DEFAULT_ROTATION_PERIOD_NS: u64 = 100_000_000;

/// Receive buffer asked for on a lidar socket, bytes: 16 MiB, about ten rotations of an
/// OS-2-128 (64 packets of 24,832 bytes), so that a busy CPU delays packets instead of losing
/// them. The kernel grants at most `net.core.rmem_max` (raise it on the truck:
/// `sysctl -w net.core.rmem_max=33554432`).
pub const LIDAR_RECEIVE_BUFFER_BYTES: usize = 16 * 1024 * 1024;

/// Binds a lidar's UDP socket with a [`LIDAR_RECEIVE_BUFFER_BYTES`] receive buffer.
///
/// # Errors
/// The address does not parse, or the socket cannot be created or bound.
fn bind_lidar_socket(addr: &str) -> anyhow::Result<UdpSocket> {
    let address: std::net::SocketAddr =
        addr.parse().with_context(|| format!("`{addr}` is not an IP address and port"))?;
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(address),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )
    .with_context(|| format!("cannot create a UDP socket for {addr}"))?;
    if let Err(error) = socket.set_recv_buffer_size(LIDAR_RECEIVE_BUFFER_BYTES) {
        warn!("lidar UDP {addr}: cannot enlarge the receive buffer: {error}");
    }
    debug!("lidar UDP {addr}: receive buffer {:?} bytes", socket.recv_buffer_size());
    socket.bind(&address.into()).with_context(|| format!("cannot bind UDP {addr}"))?;
    Ok(socket.into())
}

/// A stream's **watermark**: a promise that every message it will still deliver is stamped at
/// or after it, and whether the stream ended (then the watermark is `u64::MAX`).
#[derive(Debug, Default)]
pub struct Watermark {
    ns: AtomicU64,
    ended: AtomicBool,
}

impl Watermark {
    /// Promises that every later message is stamped at or after `stamp_ns` (never goes back).
    pub fn advance(&self, stamp_ns: u64) {
        self.ns.fetch_max(stamp_ns, Ordering::SeqCst);
    }

    /// The watermark, ns (`u64::MAX` once ended).
    pub fn ns(&self) -> u64 {
        if self.is_ended() { u64::MAX } else { self.ns.load(Ordering::SeqCst) }
    }

    /// The stream ended.
    pub fn end(&self) {
        self.ended.store(true, Ordering::SeqCst);
    }

    /// Whether the stream ended.
    pub fn is_ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }
}

/// Shared state of one input: health, watermark, end of stream, counters.
#[derive(Debug)]
pub struct InputState {
    /// Name in the health message (`lidar`, `v2x`...).
    pub name: String,
    /// Role in the mode decision.
    pub role: InputRole,
    monitor: Mutex<InputMonitor>,
    watermark: Arc<Watermark>,
    /// Inputs rejected as malformed (packets, datagrams, lines).
    pub malformed: AtomicU64,
    /// The first [`PROBLEMS_KEPT`] problems reported (each names the input and the reason),
    /// for the run's summary.
    problems: Mutex<Vec<String>>,
}

/// Problems an input keeps for the summary (later ones are counted in `malformed` and logged).
pub const PROBLEMS_KEPT: usize = 64;

impl InputState {
    /// A new input state, its monitor started at `now_ns`.
    pub fn new(name: &str, role: InputRole, config: MonitorConfig, now_ns: u64) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_owned(),
            role,
            monitor: Mutex::new(InputMonitor::new(config, now_ns)),
            watermark: Arc::new(Watermark::default()),
            malformed: AtomicU64::new(0),
            problems: Mutex::new(Vec::new()),
        })
    }

    /// Counts one malformed input and keeps `problem` (naming the input and the reason) for
    /// the summary while fewer than [`PROBLEMS_KEPT`] are kept; logs it as a warning.
    pub fn report_malformed(&self, problem: String) {
        warn!("{problem}");
        self.malformed.fetch_add(1, Ordering::Relaxed);
        let mut problems = self.problems.lock().unwrap_or_else(PoisonError::into_inner);
        if problems.len() < PROBLEMS_KEPT {
            problems.push(problem);
        }
    }

    /// The problems kept by [`InputState::report_malformed`], in order.
    pub fn problems(&self) -> Vec<String> {
        self.problems.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Locks the monitor (a panic elsewhere leaves it consistent: each update is one call).
    pub fn monitor(&self) -> std::sync::MutexGuard<'_, InputMonitor> {
        self.monitor.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A message arrived at `arrival_ns` with sensor stamp `stamp_ns`.
    pub fn on_message(&self, arrival_ns: u64, stamp_ns: u64) {
        self.monitor().on_message(arrival_ns, stamp_ns);
    }

    /// Promises that every later message is stamped at or after `stamp_ns`.
    pub fn advance_watermark(&self, stamp_ns: u64) {
        self.watermark.advance(stamp_ns);
    }

    /// The watermark, ns (`u64::MAX` once ended).
    pub fn watermark_ns(&self) -> u64 {
        self.watermark.ns()
    }

    /// The input's watermark, shared (what fusion waits on for inputs it takes directly).
    pub fn watermark(&self) -> Arc<Watermark> {
        Arc::clone(&self.watermark)
    }

    /// The stream ended (a replay file read to its end, a source that failed for good).
    pub fn end(&self) {
        self.watermark.end();
    }

    /// Whether the stream ended.
    pub fn is_ended(&self) -> bool {
        self.watermark.is_ended()
    }

    /// The source failed: health `failed` with the reason; the stream ends.
    pub fn fail(&self, reason: String) {
        warn!(input = %self.name, "{reason}");
        self.monitor().on_failure(reason);
        self.end();
    }
}

/// One lidar scan for the lidar task.
#[derive(Clone, Debug)]
pub struct LidarScanMessage {
    /// Index of the lidar in `run.inputs.lidar.sensors`.
    pub sensor_index: usize,
    /// The points in that lidar's frame.
    pub cloud: PointCloud,
    /// Clock time when the packet that completed the scan arrived, ns.
    pub arrival_ns: u64,
    /// The frame's name in the objects output when the source has one (a dataset's file
    /// stem, `000042`); `None`: the frame's number.
    pub name: Option<String>,
    /// `true`: no scan, but a frame the recording made while the lidar was lost (an episode's
    /// replay): the fusion makes a frame without lidar at the (empty) cloud's stamp, as the
    /// truck did. Never counted as a lidar message.
    pub lidar_lost: bool,
}

/// One camera image for the camera task.
#[derive(Clone, Debug)]
pub struct CameraFrame {
    /// The image (RGB8), stamped at capture.
    pub image: Image,
    /// The image as recorded, when the source has it (datasets, episodes): the encoded bytes
    /// and their Foxglove format name (`png`, `jpeg`); kept for the episode recorder and the
    /// Rerun recording. `None` for live cameras and video files: while recording, the camera
    /// task JPEG-encodes those frames after its detections are sent.
    pub encoded: Option<(Vec<u8>, String)>,
    /// The camera's calibration for this image when the source carries its own (KITTI object
    /// frames each have one); `None`: `run.inputs.camera`'s intrinsics and extrinsics.
    pub calibration: Option<pitsense_types::CameraCalibration>,
}

/// One V2X datagram.
#[derive(Clone, Debug)]
pub struct V2xDatagram {
    /// Receive time on the injected clock (replay: the log's stamp), ns.
    pub receive_stamp_ns: u64,
    /// The octets: raw UPER, an IEEE 1609.2 envelope, ETSI or CSAE.
    pub bytes: Vec<u8>,
}

/// A lidar's packet-to-cloud decoder, whatever the sensor.
pub enum LidarDecoder {
    /// Ouster: scans assembled from column packets, XYZ through the metadata's tables.
    Ouster {
        /// The assembler.
        batcher: Box<OusterScanBatcher>,
        /// Range-to-XYZ table (sensor frame).
        lut: Box<XyzLut>,
        /// One rotation, ns (the metadata's lidar mode; 100 ms when it states no rate).
        rotation_period_ns: u64,
    },
    /// Velodyne: rotations cut at an azimuth.
    Velodyne(Box<VelodyneRotationAssembler>),
}

impl std::fmt::Debug for LidarDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ouster { .. } => f.write_str("LidarDecoder::Ouster"),
            Self::Velodyne(_) => f.write_str("LidarDecoder::Velodyne"),
        }
    }
}

/// A decoded scan before stamping: the cloud with the sensor's stamp (Ouster: the time of the
/// rotation's last column, as the lidar pipeline's deskew assumes; Velodyne gives only
/// microseconds past the hour, so 0).
struct DecodedScan {
    cloud: PointCloud,
    sensor_stamp_ns: u64,
}

impl LidarDecoder {
    /// The decoder of one configured lidar; `data_root` resolves a relative metadata path.
    ///
    /// # Errors
    /// Unreadable or invalid Ouster metadata (the message names the file).
    pub fn new(config: &LidarSensorConfig, data_root: &Path) -> anyhow::Result<Self> {
        let Some(model) = config.driver.velodyne_model() else {
            let path = if config.metadata.is_absolute() {
                config.metadata.clone()
            } else {
                data_root.join(&config.metadata)
            };
            let metadata = OusterMetadata::read(&path)
                .with_context(|| format!("Ouster metadata `{}`", path.display()))?;
            return Ok(Self::Ouster {
                batcher: Box::new(OusterScanBatcher::new(&metadata)),
                lut: Box::new(XyzLut::new(&metadata)),
                rotation_period_ns: metadata
                    .rotation_rate_hz()
                    .map_or(DEFAULT_ROTATION_PERIOD_NS, |rate_hz| 1_000_000_000 / u64::from(rate_hz)),
            });
        };
        let decoder = VelodyneDecoder::new(VelodyneDecoderConfig::new(model))?;
        Ok(Self::Velodyne(Box::new(VelodyneRotationAssembler::new(decoder, 0.0))))
    }

    fn push(&mut self, payload: &[u8], sensor: u16, out: &mut Vec<DecodedScan>) -> Result<(), String> {
        match self {
            Self::Ouster { batcher, lut, .. } => {
                let mut scans = Vec::new();
                let result = batcher.push_packet(payload, &mut scans).map_err(|e| e.to_string());
                for scan in scans {
                    match lut.point_cloud(&scan, sensor, 0) {
                        Ok(cloud) => out.push(DecodedScan { sensor_stamp_ns: scan.end_stamp_ns(), cloud }),
                        Err(error) => return Err(error.to_string()),
                    }
                }
                result
            }
            Self::Velodyne(assembler) => {
                let mut rotations = Vec::new();
                let result = assembler.push_packet(payload, &mut rotations).map_err(|e| e.to_string());
                for rotation in rotations {
                    let header = Header { stamp_ns: 0, frame: FrameId::Lidar(sensor), seq: 0 };
                    out.push(DecodedScan { cloud: rotation.point_cloud(header), sensor_stamp_ns: 0 });
                }
                result
            }
        }
    }

    fn flush(&mut self, sensor: u16, out: &mut Vec<DecodedScan>) {
        match self {
            Self::Ouster { batcher, lut, .. } => {
                let mut scans = Vec::new();
                batcher.flush(&mut scans);
                for scan in scans {
                    if let Ok(cloud) = lut.point_cloud(&scan, sensor, 0) {
                        out.push(DecodedScan { sensor_stamp_ns: scan.end_stamp_ns(), cloud });
                    }
                }
            }
            Self::Velodyne(assembler) => {
                let mut rotations = Vec::new();
                assembler.flush(&mut rotations);
                for rotation in rotations {
                    let header = Header { stamp_ns: 0, frame: FrameId::Lidar(sensor), seq: 0 };
                    out.push(DecodedScan { cloud: rotation.point_cloud(header), sensor_stamp_ns: 0 });
                }
            }
        }
    }

    /// How long a lidar may fall silent before the frame it was sending is emitted as it
    /// stands: one rotation, ns (Ouster: from the metadata's lidar mode; Velodyne: 100 ms, its
    /// 600 rpm default). Packets of one rotation come every 1–2 ms; a rotation without any is a
    /// sensor that stopped or lost its frame's tail, and waiting for the next frame's first
    /// packet would hold the frame for ever when none comes.
    pub fn partial_frame_timeout_ns(&self) -> u64 {
        match self {
            Self::Ouster { rotation_period_ns, .. } => *rotation_period_ns,
            Self::Velodyne(_) => DEFAULT_ROTATION_PERIOD_NS,
        }
    }

    /// The assembler's packet counters (lost, duplicate, malformed...).
    pub fn counters(&self) -> PacketCounters {
        match self {
            Self::Ouster { batcher, .. } => batcher.packet_counters(),
            Self::Velodyne(assembler) => assembler.packet_counters(),
        }
    }
}

/// What every source thread needs.
#[derive(Clone, Debug)]
pub struct SourceContext {
    /// The injected clock.
    pub clock: Arc<dyn Clock>,
    /// The replay clock, when replaying (sources advance it to their recorded stamps).
    pub replay_clock: Option<ManualClock>,
    /// Set when the runtime stops.
    pub stop: Arc<AtomicBool>,
}

/// Runs one lidar until stopped (live) or until its capture ends (replay).
pub struct LidarSource {
    /// Index in `run.inputs.lidar.sensors`.
    pub sensor_index: usize,
    /// Its configuration.
    pub config: LidarSensorConfig,
    /// Its decoder.
    pub decoder: LidarDecoder,
    /// Where scans go.
    pub sender: EdgeSender<LidarScanMessage>,
    /// The lidar input's shared state.
    pub state: Arc<InputState>,
    /// Packet counters of this lidar, updated as it runs.
    pub counters: Arc<Mutex<PacketCounters>>,
}

impl LidarSource {
    /// The thread body.
    pub fn run(mut self, context: SourceContext) {
        let uri = match parse_source(&self.config.source, &["udp", "pcap"]) {
            Ok(uri) => uri,
            Err(reason) => return self.state.fail(format!("lidar {}: {reason}", self.sensor_index)),
        };
        let outcome = if uri.scheme == "udp" {
            self.run_udp(&uri.rest, &context)
        } else {
            self.run_pcap(Path::new(&uri.rest), &context)
        };
        if let Err(error) = outcome {
            self.state.fail(format!(
                "lidar {} `{}`: {}",
                self.sensor_index,
                self.config.source,
                crate::error_chain_text(&error)
            ));
        }
    }

    fn emit(&mut self, scans: Vec<DecodedScan>, arrival_ns: u64, seq: &mut u64) {
        for scan in scans {
            let stamp_ns = match self.config.stamp {
                StampSource::Arrival => arrival_ns,
                StampSource::Sensor => scan.sensor_stamp_ns,
            };
            let mut cloud = scan.cloud;
            cloud.header.stamp_ns = stamp_ns;
            cloud.header.seq = *seq;
            *seq += 1;
            self.state.on_message(arrival_ns, stamp_ns);
            let outcome = self.sender.send(LidarScanMessage {
                sensor_index: self.sensor_index,
                cloud,
                arrival_ns,
                name: None,
                lidar_lost: false,
            });
            if outcome == SendOutcome::Disconnected {
                debug!("lidar task gone; scan discarded");
            }
        }
        *self.counters.lock().unwrap_or_else(PoisonError::into_inner) = self.decoder.counters();
    }

    /// Emits the frame in progress as it stands (its lidar fell silent for
    /// [`LidarDecoder::partial_frame_timeout_ns`]), as received at `at_ns`.
    fn emit_partial(&mut self, sensor: u16, at_ns: u64, seq: &mut u64) {
        let mut scans = Vec::new();
        self.decoder.flush(sensor, &mut scans);
        if !scans.is_empty() {
            debug!(
                "lidar {}: silent for a rotation; the frame in progress goes out as it stands",
                self.sensor_index
            );
        }
        self.emit(scans, at_ns, seq);
    }

    fn run_udp(&mut self, addr: &str, context: &SourceContext) -> anyhow::Result<()> {
        let socket = bind_lidar_socket(addr)?;
        socket.set_read_timeout(Some(SOCKET_POLL)).context("cannot set the socket timeout")?;
        let mut buffer = vec![0_u8; MAX_UDP_PAYLOAD + 1];
        let mut seq = 0;
        let sensor = u16::try_from(self.sensor_index).unwrap_or(u16::MAX);
        let timeout_ns = self.decoder.partial_frame_timeout_ns();
        // The clock at the last packet while a frame may be in progress.
        let mut last_packet_ns: Option<u64> = None;
        while !context.stop.load(Ordering::SeqCst) {
            if let Some(last) = last_packet_ns
                && context.clock.now_ns().saturating_sub(last) >= timeout_ns
            {
                self.emit_partial(sensor, last.saturating_add(timeout_ns), &mut seq);
                last_packet_ns = None;
            }
            match socket.recv_from(&mut buffer) {
                Ok((length, from)) => {
                    let arrival_ns = context.clock.now_ns();
                    last_packet_ns = Some(arrival_ns);
                    let mut scans = Vec::new();
                    if let Err(reason) =
                        self.decoder.push(buffer.get(..length).unwrap_or_default(), sensor, &mut scans)
                    {
                        self.state.malformed.fetch_add(1, Ordering::Relaxed);
                        debug!(
                            "lidar {}: malformed packet from {from} ({length} bytes): {reason}",
                            self.sensor_index
                        );
                    }
                    self.emit(scans, arrival_ns, &mut seq);
                }
                Err(error)
                    if matches!(
                        error.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(error) => warn!("lidar {} UDP receive error: {error}", self.sensor_index),
            }
        }
        let mut scans = Vec::new();
        self.decoder.flush(sensor, &mut scans);
        let now = context.clock.now_ns();
        self.emit(scans, now, &mut seq);
        Ok(())
    }

    fn run_pcap(&mut self, path: &Path, context: &SourceContext) -> anyhow::Result<()> {
        let mut reader = PcapUdpReader::open(path)?;
        let mut seq = 0;
        let sensor = u16::try_from(self.sensor_index).unwrap_or(u16::MAX);
        let mut last_ns = 0;
        let timeout_ns = self.decoder.partial_frame_timeout_ns();
        while !context.stop.load(Ordering::SeqCst) {
            let Some(datagram) = reader.next_datagram()? else { break };
            // A silence of a rotation in the recording: the frame in progress goes out as it
            // stands, when it did live.
            if last_ns > 0 && datagram.capture_time_ns.saturating_sub(last_ns) >= timeout_ns {
                let at_ns = last_ns.saturating_add(timeout_ns);
                if let Some(clock) = &context.replay_clock {
                    clock.set_ns(at_ns);
                }
                self.emit_partial(sensor, at_ns, &mut seq);
            }
            last_ns = datagram.capture_time_ns;
            if let Some(clock) = &context.replay_clock {
                clock.set_ns(datagram.capture_time_ns);
            }
            let mut scans = Vec::new();
            if let Err(reason) = self.decoder.push(&datagram.payload, sensor, &mut scans) {
                self.state.malformed.fetch_add(1, Ordering::Relaxed);
                debug!("lidar {} `{}`: malformed packet: {reason}", self.sensor_index, path.display());
            }
            self.emit(scans, datagram.capture_time_ns, &mut seq);
        }
        let mut scans = Vec::new();
        self.decoder.flush(sensor, &mut scans);
        self.emit(scans, last_ns, &mut seq);
        self.state.end();
        Ok(())
    }
}

/// Runs the V2X input until stopped (UDP) or until its log ends (replay).
#[derive(Debug)]
pub struct V2xSource {
    /// `udp:ADDR:PORT` or `log:PATH`.
    pub source: String,
    /// Where datagrams go.
    pub sender: EdgeSender<V2xDatagram>,
    /// The input's shared state.
    pub state: Arc<InputState>,
}

impl V2xSource {
    /// The thread body.
    pub fn run(self, context: SourceContext) {
        let uri = match parse_source(&self.source, &["udp", "log"]) {
            Ok(uri) => uri,
            Err(reason) => return self.state.fail(format!("v2x: {reason}")),
        };
        let outcome = if uri.scheme == "udp" {
            self.run_udp(&uri.rest, &context)
        } else {
            self.run_log(Path::new(&uri.rest), &context)
        };
        if let Err(error) = outcome {
            self.state.fail(format!("v2x `{}`: {}", self.source, crate::error_chain_text(&error)));
        }
    }

    fn run_udp(&self, addr: &str, context: &SourceContext) -> anyhow::Result<()> {
        let socket = UdpSocket::bind(addr).with_context(|| format!("cannot bind UDP {addr}"))?;
        socket.set_read_timeout(Some(SOCKET_POLL)).context("cannot set the socket timeout")?;
        let mut buffer = vec![0_u8; MAX_UDP_PAYLOAD + 1];
        while !context.stop.load(Ordering::SeqCst) {
            // Every datagram read after this instant is stamped later: the watermark.
            let before_ns = context.clock.now_ns();
            match socket.recv_from(&mut buffer) {
                Ok((length, _from)) => {
                    let receive_stamp_ns = context.clock.now_ns();
                    self.state.on_message(receive_stamp_ns, receive_stamp_ns);
                    let bytes = buffer.get(..length).unwrap_or_default().to_vec();
                    self.sender.send(V2xDatagram { receive_stamp_ns, bytes });
                }
                Err(error)
                    if matches!(
                        error.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(error) => warn!("v2x UDP receive error: {error}"),
            }
            self.state.advance_watermark(before_ns);
        }
        Ok(())
    }

    fn run_log(&self, path: &Path, context: &SourceContext) -> anyhow::Result<()> {
        let (entries, warnings) = crate::replay::read_v2x_log(path)?;
        for warning in warnings {
            self.state.report_malformed(warning);
        }
        for entry in entries {
            if context.stop.load(Ordering::SeqCst) {
                break;
            }
            if let Some(clock) = &context.replay_clock {
                clock.set_ns(entry.receive_stamp_ns);
            }
            self.state.on_message(entry.receive_stamp_ns, entry.receive_stamp_ns);
            self.sender.send(V2xDatagram { receive_stamp_ns: entry.receive_stamp_ns, bytes: entry.bytes });
            self.state.advance_watermark(entry.receive_stamp_ns);
        }
        self.state.end();
        Ok(())
    }
}

/// Runs the vehicle CAN input: frames decoded through the DBC into [`VehicleSignals`], sent
/// to the fusion task whenever a mapped signal changed.
pub struct CanSource {
    /// Bus URI (`socketcan:IFACE`, `udp:ADDR`, `candump:FILE`).
    pub bus_uri: String,
    /// The DBC decoder with the configured signal mapping.
    pub decoder: VehicleSignalDecoder,
    /// Where the vehicle signals go.
    pub sender: EdgeSender<VehicleSignals>,
    /// The input's shared state (every received frame is a message).
    pub state: Arc<InputState>,
    /// The decoder's counters (frames, unknown ids, decode errors), updated as it runs.
    pub counters: Arc<Mutex<CanInputCounters>>,
}

impl std::fmt::Debug for CanSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CanSource").field("bus_uri", &self.bus_uri).finish_non_exhaustive()
    }
}

impl CanSource {
    /// The thread body: until stopped, or until a candump log ends.
    pub fn run(mut self, context: SourceContext) {
        let mut bus = match open_bus(&self.bus_uri, Arc::clone(&context.clock)) {
            Ok(bus) => bus,
            Err(error) => return self.state.fail(format!("can: {error}")),
        };
        while !context.stop.load(Ordering::SeqCst) {
            let before_ns = context.clock.now_ns();
            match bus.recv(SOCKET_POLL) {
                Ok(Some(frame)) => {
                    if let Some(clock) = &context.replay_clock {
                        clock.set_ns(frame.stamp_ns);
                    }
                    let arrival_ns = context.clock.now_ns();
                    self.state.on_message(arrival_ns, frame.stamp_ns);
                    match self.decoder.push(&frame) {
                        Ok(true) => {
                            self.sender.send(self.decoder.signals());
                        }
                        Ok(false) => {}
                        Err(error) => {
                            self.state.malformed.fetch_add(1, Ordering::Relaxed);
                            debug!("can {}: {error}", bus.name());
                        }
                    }
                    *self.counters.lock().unwrap_or_else(PoisonError::into_inner) = self.decoder.counters();
                    self.state.advance_watermark(frame.stamp_ns);
                }
                Ok(None) => self.state.advance_watermark(before_ns),
                Err(CanError::EndOfLog { .. }) => break,
                // One bad line or datagram: counted, the bus goes on.
                Err(error @ (CanError::CandumpLine { .. } | CanError::Cannelloni { .. })) => {
                    self.state.malformed.fetch_add(1, Ordering::Relaxed);
                    debug!("can: {error}");
                }
                Err(error) => return self.state.fail(format!("can `{}`: {error}", self.bus_uri)),
            }
        }
        self.state.end();
    }
}

/// Runs the GNSS input: NMEA sentences, stamped at reception, to the fusion task's ego pose
/// estimator.
#[derive(Debug)]
pub struct GnssInput {
    /// `udp:ADDRESS:PORT`, `serial:PATH` or `file:PATH`.
    pub uri: String,
    /// Where the sentences go.
    pub sender: EdgeSender<StampedSentence>,
    /// The input's shared state.
    pub state: Arc<InputState>,
    /// The source's counters (parsed, bad checksum, unsupported, malformed), updated as it runs.
    pub counters: Arc<Mutex<GnssCounters>>,
}

impl GnssInput {
    /// The thread body: until stopped, or until a file ends.
    pub fn run(self, context: SourceContext) {
        let mut source = match GnssSource::open(&self.uri, Arc::clone(&context.clock)) {
            Ok(source) => source,
            Err(error) => return self.state.fail(format!("gnss: {error}")),
        };
        while !context.stop.load(Ordering::SeqCst) {
            let before_ns = context.clock.now_ns();
            let received = source.recv(SOCKET_POLL);
            let counters = source.counters();
            self.state.malformed.store(counters.bad_checksum + counters.malformed, Ordering::Relaxed);
            *self.counters.lock().unwrap_or_else(PoisonError::into_inner) = counters;
            match received {
                Ok(Some(sentence)) => {
                    self.state.on_message(sentence.stamp_ns, sentence.stamp_ns);
                    self.sender.send(sentence);
                }
                Ok(None) => {}
                Err(GnssError::EndOfInput { .. }) => break,
                Err(error) => return self.state.fail(format!("gnss: {error}")),
            }
            if let Some(rejection) = source.last_rejection()
                && rejection.stamp_ns >= before_ns
            {
                debug!("gnss: {}", rejection.error);
            }
            self.state.advance_watermark(before_ns);
        }
        self.state.end();
    }
}

/// Runs one camera: frames read through OpenCV, stamped at capture with the injected clock,
/// sent to the camera task. A video file is played at its own frame rate, as a camera delivers
/// frames; its end ends the input. A camera that cannot open fails the input (named, with the
/// reason); the other inputs go on.
#[derive(Debug)]
pub struct CameraInput {
    /// The camera URI (`v4l2:`, `rtsp://`, `gst:`, `file:`).
    pub uri: String,
    /// Replay: the video file's time zero on the recording's clock, ns (frames are stamped
    /// with it plus their position in the file and sent as fast as the graph takes them).
    pub replay_start_ns: u64,
    /// Where frames go.
    pub sender: EdgeSender<CameraFrame>,
    /// The input's shared state (a failed read counts as malformed).
    pub state: Arc<InputState>,
}

impl CameraInput {
    /// The thread body.
    pub fn run(self, context: SourceContext) {
        #[cfg(feature = "camera-opencv")]
        self.run_opencv(&context);
        #[cfg(not(feature = "camera-opencv"))]
        {
            let _ = context;
            self.state.fail(format!(
                "camera `{}`: this build has no camera input (cargo feature camera-opencv)",
                self.uri
            ));
        }
    }

    #[cfg(feature = "camera-opencv")]
    fn run_opencv(&self, context: &SourceContext) {
        use pitsense_imaging::camera::{CameraOptions, CameraSource, StampSource};
        let replay = context.replay_clock.is_some();
        let options = if replay {
            CameraOptions {
                stamp: StampSource::FilePosition { start_ns: self.replay_start_ns },
                ..CameraOptions::default()
            }
        } else {
            CameraOptions::default()
        };
        let mut source = match CameraSource::open_with(&self.uri, 0, Arc::clone(&context.clock), options) {
            Ok(source) => source,
            Err(error) => return self.state.fail(format!("camera: {error}")),
        };
        // Live, a file plays at its nominal rate (10 fps when it names none); in replay the
        // graph's lossless edges pace it.
        let period_ns = (source.source().is_file() && !replay)
            .then(|| source.nominal_fps().filter(|fps| fps.is_finite() && *fps > 0.0).unwrap_or(10.0))
            .map(|fps| (1e9 / fps) as u64);
        let mut next_ns = context.clock.now_ns();
        while !context.stop.load(Ordering::SeqCst) {
            if let Some(period_ns) = period_ns {
                let now_ns = context.clock.now_ns();
                if now_ns < next_ns {
                    std::thread::sleep(Duration::from_nanos(
                        (next_ns - now_ns).min(SOCKET_POLL.as_nanos() as u64 * 5),
                    ));
                    continue;
                }
                next_ns = next_ns.max(now_ns.saturating_sub(period_ns)) + period_ns;
            }
            match source.read() {
                Ok(Some(image)) => {
                    let stamp_ns = image.header.stamp_ns;
                    if let Some(clock) = &context.replay_clock {
                        clock.set_ns(stamp_ns);
                    }
                    self.state.on_message(context.clock.now_ns(), stamp_ns);
                    self.sender.send(CameraFrame { image, encoded: None, calibration: None });
                    self.state.advance_watermark(stamp_ns);
                }
                Ok(None) => break,
                Err(error) => {
                    self.state.report_malformed(format!("camera `{}`: {error}", self.uri));
                    if !replay {
                        std::thread::sleep(SOCKET_POLL);
                    }
                }
            }
        }
        self.state.end();
    }
}

/// Replays a dataset in KITTI object layout (`velodyne/`, `image_2/`, `calib/`; Geiger et al.,
/// CVPR 2012) as the lidar and camera inputs.
///
/// Frame `n` in name order is stamped `n × replay.frame_period_ms` (the object benchmark has no
/// timestamps; KITTI records at 10 Hz). For each frame the camera image (decoded, with its
/// encoded bytes and the frame's own calibration) is sent first, then the scan, named by the
/// file stem. A frame whose scan, image or calibration cannot be read is skipped and reported
/// on the lidar input (file and reason, counted as malformed); the replay goes on.
#[derive(Debug)]
pub struct KittiSource {
    frames: Vec<crate::dataset::KittiFrame>,
    reader: KittiReader,
    first_calibration: pitsense_types::CameraCalibration,
}

/// How a KITTI frame's files become messages.
#[derive(Clone, Copy, Debug)]
struct KittiReader {
    frame_period_ns: u64,
    lidar_id: u16,
    camera_id: u16,
}

/// One KITTI frame read and decoded.
struct KittiFrameData {
    cloud: PointCloud,
    image: Image,
    image_bytes: Vec<u8>,
    calibration: pitsense_types::CameraCalibration,
}

impl KittiSource {
    /// Lists the dataset's frames and reads the first readable frame's calibration (the
    /// episodes' metadata and the camera's default calibration).
    ///
    /// # Errors
    /// The folder is not in KITTI object layout, or no frame can be read (the error names the
    /// first frame's problem).
    pub fn open(dataset: &Path, replay: &crate::config::ReplayConfig) -> anyhow::Result<Self> {
        let frames = crate::dataset::list_frames(dataset)?;
        let reader = KittiReader {
            frame_period_ns: replay.frame_period_ms.saturating_mul(1_000_000),
            lidar_id: replay.lidar_id,
            camera_id: replay.camera_id,
        };
        let mut first_error = None;
        for (index, frame) in frames.iter().enumerate() {
            match reader.load(frame, index as u64) {
                Ok(data) => return Ok(Self { first_calibration: data.calibration, frames, reader }),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        let error = first_error.unwrap_or_else(|| anyhow::anyhow!("it lists no frame"));
        Err(error.context(format!("dataset `{}`: no frame can be read", dataset.display())))
    }

    /// The calibration of the first readable frame.
    pub fn first_calibration(&self) -> &pitsense_types::CameraCalibration {
        &self.first_calibration
    }
}

impl KittiReader {
    fn load(&self, frame: &crate::dataset::KittiFrame, seq: u64) -> anyhow::Result<KittiFrameData> {
        use pitsense_perception::kitti::{read_calib, read_velodyne_bin};
        let stamp_ns = seq.saturating_mul(self.frame_period_ns);
        let lidar_header = Header { stamp_ns, frame: FrameId::Lidar(self.lidar_id), seq };
        let cloud = read_velodyne_bin(&frame.velodyne, lidar_header)?;
        let image_bytes = std::fs::read(&frame.image)
            .with_context(|| format!("image `{}`: cannot read", frame.image.display()))?;
        let camera_header = Header { stamp_ns, frame: FrameId::ImagePixels(self.camera_id), seq };
        let image = pitsense_imaging::decode_image(
            &image_bytes,
            &frame.image.display().to_string(),
            camera_header,
            self.camera_id,
        )?;
        let calibration = read_calib(&frame.calib)?
            .camera_calibration(image.width_px, image.height_px)
            .with_context(|| format!("calibration `{}`", frame.calib.display()))?;
        Ok(KittiFrameData { cloud, image, image_bytes, calibration })
    }
}

impl KittiSource {
    /// The thread body: every frame in order, then the end of both inputs.
    pub fn run(
        self,
        scans: EdgeSender<LidarScanMessage>,
        images: EdgeSender<CameraFrame>,
        lidar: &InputState,
        camera: &InputState,
        context: &SourceContext,
    ) {
        for (index, frame) in self.frames.iter().enumerate() {
            if context.stop.load(Ordering::SeqCst) {
                break;
            }
            let seq = index as u64;
            let stamp_ns = seq.saturating_mul(self.reader.frame_period_ns);
            if let Some(clock) = &context.replay_clock {
                clock.set_ns(stamp_ns);
            }
            match self.reader.load(frame, seq) {
                Ok(data) => {
                    camera.on_message(stamp_ns, stamp_ns);
                    images.send(CameraFrame {
                        image: data.image,
                        encoded: Some((data.image_bytes, crate::episodes::image_format(&frame.image))),
                        calibration: Some(data.calibration),
                    });
                    lidar.on_message(stamp_ns, stamp_ns);
                    scans.send(LidarScanMessage {
                        sensor_index: 0,
                        cloud: data.cloud,
                        arrival_ns: stamp_ns,
                        name: Some(frame.name.clone()),
                        lidar_lost: false,
                    });
                }
                Err(error) => lidar.report_malformed(format!(
                    "skipped {}: {}",
                    frame.name,
                    crate::error_chain_text(&error)
                )),
            }
            // The next frame is a period later: nothing else comes at this stamp.
            camera.advance_watermark(stamp_ns.saturating_add(1));
            lidar.advance_watermark(stamp_ns.saturating_add(1));
        }
        camera.end();
        lidar.end();
    }
}
