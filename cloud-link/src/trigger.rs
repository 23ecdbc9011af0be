//! When to record: trigger rules on the pipeline's output, the pre-roll ring buffer, and the
//! episode window. Pure logic: every time is a message stamp passed in; no clocks, no I/O.
//!
//! Rules ([`TriggerRules`], the `[recorder.triggers]` TOML section):
//! - manual: a request addressed to the truck (see `crate::recorder`), priority high;
//! - periodic: every `periodic_s` of stamp time, priority low;
//! - low confidence: a confirmed track (`hits >= min_hits`) whose score is below `max_score`;
//! - camera–lidar disagreement: a lidar-only track whose centre projects into the camera image
//!   (the camera saw nothing there), or a camera-only track (the lidar saw nothing);
//! - V2X only: a track whose only source is V2X;
//! - hard braking: a CAN signal (id, bytes, scale) read as longitudinal acceleration at or below
//!   `-decel_mps2`, priority high.
//!
//! Each rule fires at most once per `cooldown_s`. An episode spans `pre_roll_s` before its first
//! trigger to `post_roll_s` after its last (triggers during an episode extend it).

use std::collections::{BTreeMap, VecDeque};

use pitsense_types::nalgebra::Point3;
use pitsense_types::{CameraCalibration, ObjectSource, Track};
use serde::{Deserialize, Serialize};

use crate::episode::{CanFrame, EpisodeMessage};
use crate::queue::Priority;

const NS_PER_S: f64 = 1e9;

fn seconds_to_ns(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 { (seconds * NS_PER_S) as u64 } else { 0 }
}

/// Low detector confidence on a confirmed track.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LowConfidenceRule {
    /// Rule on or off.
    pub enabled: bool,
    /// A track scoring below this (0..1) fires.
    pub max_score: f32,
    /// Only tracks with at least this many hits (confirmed).
    pub min_hits: u32,
}

impl Default for LowConfidenceRule {
    fn default() -> Self {
        Self { enabled: true, max_score: 0.35, min_hits: 3 }
    }
}

/// Camera and lidar disagree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DisagreementRule {
    /// Rule on or off.
    pub enabled: bool,
    /// Only tracks with at least this many hits.
    pub min_hits: u32,
    /// Only lidar tracks closer than this, m (farther ones are too small for the detector).
    pub max_range_m: f64,
}

impl Default for DisagreementRule {
    fn default() -> Self {
        Self { enabled: true, min_hits: 3, max_range_m: 60.0 }
    }
}

/// Hard braking read from a CAN signal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HardBrakingRule {
    /// Rule on or off.
    pub enabled: bool,
    /// Deceleration that fires, m/s² (positive).
    pub decel_mps2: f64,
    /// CAN identifier carrying the longitudinal acceleration.
    pub can_id: u32,
    /// First byte of the signal in the payload.
    pub start_byte: usize,
    /// Signal length: 1 or 2 bytes.
    pub length_bytes: usize,
    /// Byte order of a 2-byte signal.
    pub little_endian: bool,
    /// Two's-complement signed raw value.
    pub signed: bool,
    /// m/s² per raw unit.
    pub scale_mps2: f64,
    /// m/s² added after scaling.
    pub offset_mps2: f64,
}

impl Default for HardBrakingRule {
    fn default() -> Self {
        Self {
            enabled: true,
            decel_mps2: 4.0,
            can_id: 0x0C4,
            start_byte: 0,
            length_bytes: 2,
            little_endian: true,
            signed: true,
            scale_mps2: 0.001,
            offset_mps2: 0.0,
        }
    }
}

impl HardBrakingRule {
    /// The acceleration (m/s²) a frame carries, if it is the configured signal.
    pub fn accel_mps2(&self, frame: &CanFrame) -> Option<f64> {
        if frame.can_id != self.can_id {
            return None;
        }
        let bytes = frame.data.get(self.start_byte..self.start_byte.checked_add(self.length_bytes)?)?;
        let raw: i64 = match (bytes, self.little_endian, self.signed) {
            ([b], _, false) => i64::from(*b),
            ([b], _, true) => i64::from(*b as i8),
            ([a, b], true, false) => i64::from(u16::from_le_bytes([*a, *b])),
            ([a, b], true, true) => i64::from(i16::from_le_bytes([*a, *b])),
            ([a, b], false, false) => i64::from(u16::from_be_bytes([*a, *b])),
            ([a, b], false, true) => i64::from(i16::from_be_bytes([*a, *b])),
            _ => return None,
        };
        Some(raw as f64 * self.scale_mps2 + self.offset_mps2)
    }
}

/// The trigger rules (`[recorder.triggers]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TriggerRules {
    /// Record on request (zenoh put/query to the truck).
    pub manual: bool,
    /// Record every this many seconds of stamp time; 0 turns it off.
    pub periodic_s: f64,
    /// A rule fires at most once per this many seconds.
    pub cooldown_s: f64,
    /// Low detector confidence on a confirmed track.
    pub low_confidence: LowConfidenceRule,
    /// Camera–lidar disagreement.
    pub camera_lidar_disagreement: DisagreementRule,
    /// A track seen only through V2X.
    pub v2x_only: bool,
    /// Hard braking from CAN.
    pub hard_braking: HardBrakingRule,
}

impl Default for TriggerRules {
    fn default() -> Self {
        Self {
            manual: true,
            periodic_s: 0.0,
            cooldown_s: 30.0,
            low_confidence: LowConfidenceRule::default(),
            camera_lidar_disagreement: DisagreementRule::default(),
            v2x_only: true,
            hard_braking: HardBrakingRule::default(),
        }
    }
}

/// The recorder's windows and buffers (`[recorder]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecorderConfig {
    /// Recorder on or off.
    pub enabled: bool,
    /// Seconds kept before a trigger.
    pub pre_roll_s: f64,
    /// Seconds recorded after the last trigger.
    pub post_roll_s: f64,
    /// Memory bound of the pre-roll ring buffer, bytes (oldest messages dropped first).
    pub ring_buffer_bytes: u64,
    /// Messages waiting for the recorder thread; more are dropped and counted.
    pub channel_capacity: usize,
    /// MCAP chunk size, bytes.
    pub chunk_size_bytes: u64,
    /// A chunk is closed at least this often (stamp time), s: a crash loses at most this much.
    pub chunk_flush_s: f64,
    /// Where episodes are written before they enter the upload queue.
    pub episode_dir: String,
    /// JPEG quality (1..=100) of camera frames that arrive decoded (live cameras, video files):
    /// the runtime's camera task encodes them for the recorder after its detections are sent.
    pub camera_jpeg_quality: u8,
    /// The trigger rules.
    pub triggers: TriggerRules,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            pre_roll_s: 10.0,
            post_roll_s: 5.0,
            ring_buffer_bytes: 512 * 1024 * 1024,
            channel_capacity: 1024,
            chunk_size_bytes: 4 * 1024 * 1024,
            chunk_flush_s: 1.0,
            episode_dir: "episodes".into(),
            camera_jpeg_quality: 90,
            triggers: TriggerRules::default(),
        }
    }
}

/// The commented `[recorder]` section for `config/pitsense.toml`, holding every key at its
/// default (a test checks it parses to [`RecorderConfig::default`]).
pub const DEFAULT_RECORDER_TOML: &str = r#"# Episode recorder (cloud-link): records what the truck saw around trigger events into MCAP
# files and hands them to the upload queue.
[recorder]
enabled = false                   # record episodes at all
pre_roll_s = 10.0                 # seconds kept before a trigger (in-memory ring buffer)
post_roll_s = 5.0                 # seconds recorded after the last trigger of an episode
ring_buffer_bytes = 536870912     # memory bound of the ring buffer, bytes (oldest dropped first)
channel_capacity = 1024           # messages waiting for the recorder thread; more are dropped and counted
chunk_size_bytes = 4194304        # MCAP chunk size, bytes (uncompressed)
chunk_flush_s = 1.0               # a chunk is closed at least this often: a crash loses at most this much
episode_dir = "episodes"          # where episodes are written before they enter the upload queue
camera_jpeg_quality = 90          # JPEG quality (1-100) of camera frames that arrive decoded (live, video)

[recorder.triggers]
manual = true                     # record on a zenoh put to pitsense/truck/<truck_id>/record (priority high)
periodic_s = 0.0                  # record every this many seconds of stamp time; 0 = off (priority low)
cooldown_s = 30.0                 # each rule fires at most once per this many seconds
v2x_only = true                   # a track seen only through V2X

[recorder.triggers.low_confidence]
enabled = true
max_score = 0.35                  # a confirmed track scoring below this fires
min_hits = 3                      # confirmed = at least this many hits

[recorder.triggers.camera_lidar_disagreement]
enabled = true                    # lidar-only track in the camera's view, or camera-only track
min_hits = 3
max_range_m = 60.0                # lidar tracks farther than this are ignored

[recorder.triggers.hard_braking]
enabled = true                    # longitudinal acceleration from a CAN signal (priority high)
decel_mps2 = 4.0                  # fires at or below -decel_mps2
can_id = 196                      # 0x0C4
start_byte = 0
length_bytes = 2                  # 1 or 2
little_endian = true
signed = true
scale_mps2 = 0.001                # m/s² per raw unit
offset_mps2 = 0.0
"#;

/// Why an episode is recorded.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TriggerReason {
    /// A request addressed to the truck (free text from the requester).
    Manual(String),
    /// The periodic sample.
    Periodic,
    /// Low confidence on this track id.
    LowConfidence(u64),
    /// A lidar-only track in the camera's view.
    LidarOnlyInCameraView(u64),
    /// A camera-only track.
    CameraOnly(u64),
    /// A V2X-only track.
    V2xOnly(u64),
    /// Hard braking (deceleration in mm/s², positive).
    HardBraking(u64),
}

impl TriggerReason {
    /// The rule's name (cooldowns are per rule).
    pub fn rule(&self) -> &'static str {
        match self {
            Self::Manual(_) => "manual",
            Self::Periodic => "periodic",
            Self::LowConfidence(_) => "low_confidence",
            Self::LidarOnlyInCameraView(_) | Self::CameraOnly(_) => "camera_lidar_disagreement",
            Self::V2xOnly(_) => "v2x_only",
            Self::HardBraking(_) => "hard_braking",
        }
    }

    /// Upload priority of an episode with this reason.
    pub fn priority(&self) -> Priority {
        match self {
            Self::Manual(_) | Self::HardBraking(_) => Priority::High,
            Self::Periodic => Priority::Low,
            _ => Priority::Normal,
        }
    }

    /// The text written in the episode's metadata (`low_confidence:track=17`, ...).
    pub fn text(&self) -> String {
        match self {
            Self::Manual(note) => format!("manual:{note}"),
            Self::Periodic => "periodic".into(),
            Self::LowConfidence(id) => format!("low_confidence:track={id}"),
            Self::LidarOnlyInCameraView(id) => format!("camera_lidar_disagreement:lidar_only_track={id}"),
            Self::CameraOnly(id) => format!("camera_lidar_disagreement:camera_only_track={id}"),
            Self::V2xOnly(id) => format!("v2x_only:track={id}"),
            Self::HardBraking(mm) => format!("hard_braking:decel_mps2={:.3}", *mm as f64 / 1000.0),
        }
    }
}

/// Evaluates the rules on messages; remembers cooldowns and the periodic schedule.
#[derive(Clone, Debug)]
pub struct TriggerEngine {
    rules: TriggerRules,
    camera: Option<CameraCalibration>,
    last_fired_ns: BTreeMap<&'static str, u64>,
    next_periodic_ns: Option<u64>,
}

impl TriggerEngine {
    /// An engine with `rules`; `camera` (its calibration against the lidar) enables the
    /// lidar-only-in-camera-view check.
    pub fn new(rules: TriggerRules, camera: Option<CameraCalibration>) -> Self {
        Self { rules, camera, last_fired_ns: BTreeMap::new(), next_periodic_ns: None }
    }

    fn cooled(&mut self, reason: &TriggerReason, stamp_ns: u64) -> bool {
        let cooldown_ns = seconds_to_ns(self.rules.cooldown_s);
        let rule = reason.rule();
        match self.last_fired_ns.get(rule) {
            Some(last) if stamp_ns < last.saturating_add(cooldown_ns) => false,
            _ => {
                self.last_fired_ns.insert(rule, stamp_ns);
                true
            }
        }
    }

    fn in_camera_view(&self, track: &Track) -> bool {
        let Some(camera) = &self.camera else { return false };
        let center = &track.state.center_m;
        let Some(pixel) = camera.project_lidar_point(&Point3::new(center.x, center.y, center.z), 0.5) else {
            return false;
        };
        let (width, height) = (f64::from(camera.intrinsics.width_px), f64::from(camera.intrinsics.height_px));
        (0.0..width).contains(&pixel.x) && (0.0..height).contains(&pixel.y)
    }

    /// The triggers `message` fires (after cooldowns), in a fixed order.
    pub fn evaluate(&mut self, message: &EpisodeMessage) -> Vec<TriggerReason> {
        let stamp_ns = message.stamp_ns();
        let mut candidates = Vec::new();
        let periodic_ns = seconds_to_ns(self.rules.periodic_s);
        if periodic_ns > 0 {
            let next = *self.next_periodic_ns.get_or_insert(stamp_ns.saturating_add(periodic_ns));
            if stamp_ns >= next {
                candidates.push(TriggerReason::Periodic);
                self.next_periodic_ns = Some(stamp_ns.saturating_add(periodic_ns));
            }
        }
        match message {
            EpisodeMessage::Tracks { tracks, .. } => {
                let mut sorted: Vec<&Track> = tracks.iter().collect();
                sorted.sort_by_key(|t| t.track_id);
                for track in sorted {
                    candidates.extend(self.track_reasons(track));
                }
            }
            EpisodeMessage::Can(frame) if self.rules.hard_braking.enabled => {
                if let Some(accel) = self.rules.hard_braking.accel_mps2(frame)
                    && accel <= -self.rules.hard_braking.decel_mps2
                {
                    candidates.push(TriggerReason::HardBraking((-accel * 1000.0).round() as u64));
                }
            }
            _ => {}
        }
        let mut fired = Vec::new();
        for reason in candidates {
            let already = fired.iter().any(|f: &TriggerReason| f.rule() == reason.rule());
            if !already && (reason.rule() == "periodic" || self.cooled(&reason, stamp_ns)) {
                fired.push(reason);
            }
        }
        fired
    }

    fn track_reasons(&self, track: &Track) -> Vec<TriggerReason> {
        let mut reasons = Vec::new();
        let low = &self.rules.low_confidence;
        if low.enabled && track.hits >= low.min_hits && track.score < low.max_score {
            reasons.push(TriggerReason::LowConfidence(track.track_id));
        }
        let disagreement = &self.rules.camera_lidar_disagreement;
        if disagreement.enabled && track.hits >= disagreement.min_hits {
            let center = &track.state.center_m;
            let range_m = (center.x * center.x + center.y * center.y).sqrt();
            match track.source {
                ObjectSource::Lidar if range_m <= disagreement.max_range_m && self.in_camera_view(track) => {
                    reasons.push(TriggerReason::LidarOnlyInCameraView(track.track_id))
                }
                ObjectSource::Camera => reasons.push(TriggerReason::CameraOnly(track.track_id)),
                _ => {}
            }
        }
        if self.rules.v2x_only && track.source == ObjectSource::V2x {
            reasons.push(TriggerReason::V2xOnly(track.track_id));
        }
        reasons
    }

    /// A manual trigger at `stamp_ns` (not subject to the cooldown); `None` when manual
    /// triggers are off.
    pub fn manual(&self, note: &str) -> Option<TriggerReason> {
        self.rules.manual.then(|| TriggerReason::Manual(note.to_owned()))
    }
}

/// The pre-roll ring buffer: the last `pre_roll_ns` of messages, at most `max_bytes` (by
/// [`EpisodeMessage::approx_size_bytes`]); the oldest go first.
#[derive(Debug)]
pub struct PreRollBuffer {
    pre_roll_ns: u64,
    max_bytes: usize,
    items: VecDeque<EpisodeMessage>,
    bytes: usize,
    dropped_for_memory: u64,
}

impl PreRollBuffer {
    /// An empty buffer.
    pub fn new(pre_roll_s: f64, max_bytes: u64) -> Self {
        Self {
            pre_roll_ns: seconds_to_ns(pre_roll_s),
            max_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
            items: VecDeque::new(),
            bytes: 0,
            dropped_for_memory: 0,
        }
    }

    /// Adds a message and drops what is older than the window (relative to this message) or
    /// over the memory bound.
    pub fn push(&mut self, message: EpisodeMessage) {
        let newest_ns = message.stamp_ns();
        self.bytes += message.approx_size_bytes();
        self.items.push_back(message);
        let oldest_kept_ns = newest_ns.saturating_sub(self.pre_roll_ns);
        while let Some(front) = self.items.front() {
            let too_old = front.stamp_ns() < oldest_kept_ns;
            let too_big = self.bytes > self.max_bytes;
            if !too_old && !too_big {
                break;
            }
            if !too_old {
                self.dropped_for_memory += 1;
            }
            self.bytes -= front.approx_size_bytes();
            self.items.pop_front();
        }
    }

    /// Takes every message stamped at or after `start_ns`, oldest first, leaving the buffer empty.
    pub fn drain_from(&mut self, start_ns: u64) -> Vec<EpisodeMessage> {
        self.bytes = 0;
        self.items.drain(..).filter(|m| m.stamp_ns() >= start_ns).collect()
    }

    /// Messages held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Bytes held (estimate).
    pub fn size_bytes(&self) -> usize {
        self.bytes
    }

    /// Messages dropped because of the memory bound (not the window).
    pub fn dropped_for_memory(&self) -> u64 {
        self.dropped_for_memory
    }
}

/// The episode window: idle, or recording until `end_ns`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EpisodeWindow {
    /// The open episode: first trigger's reason, its priority, and the end of the window (ns).
    pub open: Option<(TriggerReason, Priority, u64)>,
}

/// What the window says to do with a trigger or a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WindowAction {
    /// Open an episode for `reason`, starting with the pre-roll from `start_ns`.
    Open {
        /// The first trigger.
        reason: TriggerReason,
        /// The episode's priority.
        priority: Priority,
        /// First stamp to include (trigger minus pre-roll).
        start_ns: u64,
    },
    /// The open episode was extended (another trigger).
    Extended,
    /// Close the open episode before writing this message (it is past the window).
    Close,
    /// Nothing to do.
    None,
}

impl EpisodeWindow {
    /// A trigger at `stamp_ns` with the pre/post-roll in ns.
    pub fn trigger(
        &mut self,
        reason: TriggerReason,
        stamp_ns: u64,
        pre_roll_ns: u64,
        post_roll_ns: u64,
    ) -> WindowAction {
        let end_ns = stamp_ns.saturating_add(post_roll_ns);
        match &mut self.open {
            Some((_, priority, end)) => {
                *end = (*end).max(end_ns);
                *priority = (*priority).max(reason.priority());
                WindowAction::Extended
            }
            None => {
                let priority = reason.priority();
                self.open = Some((reason.clone(), priority, end_ns));
                WindowAction::Open { reason, priority, start_ns: stamp_ns.saturating_sub(pre_roll_ns) }
            }
        }
    }

    /// A message at `stamp_ns`: [`WindowAction::Close`] once it is past the open window.
    pub fn message(&mut self, stamp_ns: u64) -> WindowAction {
        match &self.open {
            Some((_, _, end)) if stamp_ns > *end => WindowAction::Close,
            _ => WindowAction::None,
        }
    }

    /// Closes the window; returns what it was.
    pub fn close(&mut self) -> Option<(TriggerReason, Priority, u64)> {
        self.open.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pitsense_types::nalgebra::{Matrix6, Vector3};
    use pitsense_types::{FrameId, Header, TrackState};

    fn track(track_id: u64, score: f32, hits: u32, source: ObjectSource, x_m: f64) -> Track {
        Track {
            header: Header { stamp_ns: 0, frame: FrameId::Lidar(0), seq: 0 },
            track_id,
            state: TrackState {
                center_m: Point3::new(x_m, 0.0, -0.5),
                velocity_mps: Vector3::zeros(),
                yaw_rad: 0.0,
                size_m: Vector3::new(4.0, 2.0, 1.5),
            },
            covariance: Matrix6::identity(),
            class_label: "car".into(),
            score,
            age_frames: hits,
            hits,
            frames_since_update: 0,
            source,
        }
    }

    fn tracks_at(stamp_ns: u64, tracks: Vec<Track>) -> EpisodeMessage {
        EpisodeMessage::Tracks { header: Header { stamp_ns, frame: FrameId::Lidar(0), seq: 0 }, tracks }
    }

    fn can(stamp_ns: u64, can_id: u32, data: Vec<u8>) -> EpisodeMessage {
        EpisodeMessage::Can(CanFrame { stamp_ns, bus: 0, can_id, extended_id: false, data })
    }

    #[test]
    fn the_documented_toml_is_the_default() {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            recorder: RecorderConfig,
        }
        let file: File = toml::from_str(DEFAULT_RECORDER_TOML).unwrap();
        assert_eq!(file.recorder, RecorderConfig::default());
    }

    #[test]
    fn low_confidence_fires_on_confirmed_tracks_once_per_cooldown() {
        let mut engine = TriggerEngine::new(TriggerRules::default(), None);
        // Unconfirmed (2 hits) or confident: nothing.
        assert!(engine.evaluate(&tracks_at(0, vec![track(1, 0.2, 2, ObjectSource::Fused, 10.0)])).is_empty());
        assert!(engine.evaluate(&tracks_at(0, vec![track(1, 0.9, 5, ObjectSource::Fused, 10.0)])).is_empty());
        let s = 1_000_000_000;
        assert_eq!(
            engine.evaluate(&tracks_at(s, vec![track(7, 0.2, 5, ObjectSource::Fused, 10.0)])),
            vec![TriggerReason::LowConfidence(7)]
        );
        // Within the 30 s cooldown: silent; after it: fires again.
        assert!(
            engine.evaluate(&tracks_at(20 * s, vec![track(7, 0.2, 5, ObjectSource::Fused, 10.0)])).is_empty()
        );
        assert_eq!(
            engine.evaluate(&tracks_at(31 * s, vec![track(8, 0.1, 9, ObjectSource::Fused, 10.0)])).len(),
            1
        );
    }

    #[test]
    fn disagreement_uses_the_camera_view_and_v2x_only_fires() {
        // KITTI object 000000's P2, R0_rect and Tr_velo_to_cam (its calib file).
        use pitsense_types::nalgebra::{Matrix3, Matrix3x4};
        let p2 = Matrix3x4::from_row_slice(&[
            707.0493,
            0.0,
            604.0814,
            45.75831,
            0.0,
            707.0493,
            180.5066,
            -0.3454157,
            0.0,
            0.0,
            1.0,
            0.004981016,
        ]);
        let r0 = Matrix3::from_row_slice(&[
            0.9999128,
            0.01009263,
            -0.008511932,
            -0.01012729,
            0.9999406,
            -0.004037671,
            0.008470675,
            0.004123522,
            0.9999556,
        ]);
        let tr = Matrix3x4::from_row_slice(&[
            0.006927964,
            -0.9999722,
            -0.002757829,
            -0.02457729,
            -0.001162982,
            0.002749836,
            -0.9999955,
            -0.06127237,
            0.9999753,
            0.006931141,
            -0.001143899,
            -0.3321029,
        ]);
        let camera = CameraCalibration::from_kitti(2, &p2, &r0, &tr, 1224, 370).unwrap();
        let mut engine = TriggerEngine::new(TriggerRules::default(), Some(camera));
        // A lidar-only track 10 m ahead is in the KITTI camera's view; one 10 m behind is not.
        assert!(
            engine.evaluate(&tracks_at(0, vec![track(2, 0.9, 5, ObjectSource::Lidar, -10.0)])).is_empty()
        );
        assert_eq!(
            engine.evaluate(&tracks_at(1, vec![track(3, 0.9, 5, ObjectSource::Lidar, 10.0)])),
            vec![TriggerReason::LidarOnlyInCameraView(3)]
        );
        let mut engine = TriggerEngine::new(TriggerRules::default(), None);
        assert_eq!(
            engine.evaluate(&tracks_at(
                0,
                vec![track(4, 0.9, 5, ObjectSource::Camera, 10.0), track(5, 0.9, 1, ObjectSource::V2x, 30.0)]
            )),
            vec![TriggerReason::CameraOnly(4), TriggerReason::V2xOnly(5)]
        );
    }

    #[test]
    fn hard_braking_reads_the_configured_can_signal() {
        let mut engine = TriggerEngine::new(TriggerRules::default(), None);
        // -4500 mm/s² little-endian signed on 0x0C4: fires; -3000 does not; another id does not.
        let raw = (-4500i16).to_le_bytes();
        assert!(engine.evaluate(&can(0, 0x0C4, vec![0xE8, 0xF3])).is_empty(), "-3.0 m/s² is not hard");
        assert!(engine.evaluate(&can(0, 0x0C5, raw.to_vec())).is_empty());
        assert_eq!(engine.evaluate(&can(1, 0x0C4, raw.to_vec())), vec![TriggerReason::HardBraking(4500)]);
        // A truncated payload is not read.
        assert!(engine.evaluate(&can(50_000_000_000, 0x0C4, vec![0x01])).is_empty());
    }

    #[test]
    fn periodic_fires_every_period_of_stamp_time() {
        let rules = TriggerRules { periodic_s: 60.0, ..TriggerRules::default() };
        let mut engine = TriggerEngine::new(rules, None);
        let s = 1_000_000_000u64;
        let fired: Vec<u64> = (0..=180u64)
            .filter(|t| engine.evaluate(&can(t * s, 0x1, vec![])).contains(&TriggerReason::Periodic))
            .collect();
        assert_eq!(fired, vec![60, 120, 180]);
    }

    #[test]
    fn the_ring_buffer_keeps_the_pre_roll_window_within_its_bytes() {
        let s = 1_000_000_000u64;
        let mut buffer = PreRollBuffer::new(10.0, 1 << 20);
        for t in 0..=30 {
            buffer.push(can(t * s, 1, vec![0; 8]));
        }
        // Stamps 20..=30 s are within 10 s of the newest.
        assert_eq!(buffer.len(), 11);
        assert_eq!(buffer.dropped_for_memory(), 0);
        let drained: Vec<u64> = buffer.drain_from(25 * s).iter().map(|m| m.stamp_ns() / s).collect();
        assert_eq!(drained, vec![25, 26, 27, 28, 29, 30]);
        assert!(buffer.is_empty());
        // Memory bound: each CAN message of 8 bytes counts 72; 300 bytes hold 4.
        let mut small = PreRollBuffer::new(10.0, 300);
        for t in 0..10 {
            small.push(can(t, 1, vec![0; 8]));
        }
        assert_eq!((small.len(), small.dropped_for_memory()), (4, 6));
    }

    #[test]
    fn the_window_opens_extends_and_closes() {
        let s = 1_000_000_000u64;
        let mut window = EpisodeWindow::default();
        assert_eq!(
            window.trigger(TriggerReason::LowConfidence(1), 100 * s, 10 * s, 5 * s),
            WindowAction::Open {
                reason: TriggerReason::LowConfidence(1),
                priority: Priority::Normal,
                start_ns: 90 * s
            }
        );
        assert_eq!(window.message(104 * s), WindowAction::None);
        // Hard braking at 103 s: the window runs to 108 s and the priority rises to high.
        assert_eq!(
            window.trigger(TriggerReason::HardBraking(5000), 103 * s, 10 * s, 5 * s),
            WindowAction::Extended
        );
        assert_eq!(window.message(107 * s), WindowAction::None);
        assert_eq!(window.message(108 * s + 1), WindowAction::Close);
        assert_eq!(window.close(), Some((TriggerReason::LowConfidence(1), Priority::High, 108 * s)));
    }
}
