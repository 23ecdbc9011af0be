//! Episode files: MCAP, chunked, zstd-compressed, indexed, one channel per sensor and output.
//!
//! An episode opens with a `pitsense.episode` metadata record (truck id, software version,
//! calibration, model SHA-256, trigger reason) and ends with the MCAP summary (schemas, channels,
//! statistics, chunk and metadata indexes). Chunks are built in memory and written whole
//! (`disable_seeking`), so a recorder killed mid-episode leaves only complete chunks followed by
//! at most one torn record; [`crate::recover`] rebuilds a valid file from it.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use pitsense_types::{Detection2d, Detection3d, EgoState, Header, HealthReport, PointCloud, Track};
use serde::{Deserialize, Serialize};

use crate::error::CloudLinkError;
use crate::schemas::{self, MESSAGE_ENCODING, SCHEMA_ENCODING, SchemaDef};

/// Name of the metadata record that describes an episode.
pub const EPISODE_METADATA_NAME: &str = "pitsense.episode";

/// A camera image as compressed by the camera or the encoder (JPEG, PNG, ...).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompressedImage {
    /// Capture time and camera frame (`FrameId::Camera(id)`).
    pub header: Header,
    /// The image format as Foxglove names it: `jpeg`, `png`, `webp`, `avif`.
    pub format: String,
    /// The compressed bytes.
    pub data: Vec<u8>,
}

/// One raw CAN frame.
///
/// Defined here until a CAN input exists in `pitsense-types`; it belongs there once a stage
/// other than the recorder reads CAN.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanFrame {
    /// Reception time in ns.
    pub stamp_ns: u64,
    /// The bus index on the truck.
    pub bus: u8,
    /// The identifier (11 or 29 bits).
    pub can_id: u32,
    /// Whether `can_id` is a 29-bit extended identifier.
    pub extended_id: bool,
    /// The payload (0 to 8 bytes for classic CAN, up to 64 for CAN FD).
    pub data: Vec<u8>,
}

/// One V2X message as received (UPER MessageFrame or IEEE 1609.2 envelope bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct V2xRaw {
    /// Reception time in ns.
    pub stamp_ns: u64,
    /// Where it came from (`rsu:10.0.0.7:4321`, `obu`, ...).
    pub source: String,
    /// The bytes as received.
    pub data: Vec<u8>,
}

/// One decoded V2X message, in the decoder's JSON form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct V2xDecoded {
    /// Reception time in ns.
    pub stamp_ns: u64,
    /// The message type (`BSM`, `SPaT`, `SDSM`, ...).
    pub message_type: String,
    /// The decoded message.
    pub message: serde_json::Value,
}

/// Anything an episode records. Each variant goes to its own channel (see [`EpisodeMessage::topic`]).
#[derive(Clone, Debug, PartialEq)]
pub enum EpisodeMessage {
    /// A lidar scan, topic `/<frame>/points` (for example `/lidar0/points`).
    PointCloud(PointCloud),
    /// A compressed camera image, topic `/<frame>/compressed`.
    CompressedImage(CompressedImage),
    /// The camera detector's output for one image, topic `/<frame>/detections`.
    Detections2d {
        /// Image time and pixel frame.
        header: Header,
        /// The boxes.
        detections: Vec<Detection2d>,
    },
    /// Fused or lidar 3D detections, topic `/detections_3d`.
    Detections3d {
        /// Time and frame of the boxes.
        header: Header,
        /// The boxes.
        detections: Vec<Detection3d>,
    },
    /// The tracker's output, topic `/tracks`.
    Tracks {
        /// Time and frame of the tracks.
        header: Header,
        /// The tracks.
        tracks: Vec<Track>,
    },
    /// A raw V2X message, topic `/v2x/raw`.
    V2xRaw(V2xRaw),
    /// A decoded V2X message, topic `/v2x/decoded`.
    V2xDecoded(V2xDecoded),
    /// A CAN frame, topic `/can/<bus>`.
    Can(CanFrame),
    /// The ego state: two messages, `/tf` (`foxglove.FrameTransform`, site from ego) and
    /// `/ego/state`.
    Ego(RecordedEgo),
    /// The runtime's health report at a change of operating mode, topic `/health`
    /// (`pitsense.HealthReport`): the catalog's health events.
    Health(HealthReport),
}

/// The truck's ego state as the runtime used it for one frame, and whether it was measured.
///
/// A pose is *held* when the runtime had no pose at the frame's stamp and carried the last one
/// forward (before the first GNSS fix, or when the fixes stopped for longer than dead
/// reckoning may bridge); the runtime then fuses no V2X for that frame, and restarts its
/// tracker in the site frame at the first measured pose. Replay needs both facts to give the
/// same objects as the truck did.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedEgo {
    /// The state: time of validity, site-frame pose of the truck, speed, yaw rate.
    pub ego: EgoState,
    /// `true` when the pose was carried forward from an earlier one (not valid at the stamp).
    pub pose_held: bool,
}

impl RecordedEgo {
    /// A pose measured at its stamp (GNSS, dead reckoning between fixes, a fixed configured
    /// pose, or a simulator's ground truth).
    pub fn measured(ego: EgoState) -> Self {
        Self { ego, pose_held: false }
    }
}

impl EpisodeMessage {
    /// The message's time of validity in ns.
    pub fn stamp_ns(&self) -> u64 {
        match self {
            Self::PointCloud(cloud) => cloud.header.stamp_ns,
            Self::CompressedImage(image) => image.header.stamp_ns,
            Self::Detections2d { header, .. }
            | Self::Detections3d { header, .. }
            | Self::Tracks { header, .. } => header.stamp_ns,
            Self::V2xRaw(message) => message.stamp_ns,
            Self::V2xDecoded(message) => message.stamp_ns,
            Self::Can(frame) => frame.stamp_ns,
            Self::Ego(recorded) => recorded.ego.header.stamp_ns,
            Self::Health(report) => report.stamp_ns,
        }
    }

    /// An estimate of the memory the message holds, in bytes (payload plus a fixed overhead);
    /// the pre-roll ring buffer is bounded by it.
    pub fn approx_size_bytes(&self) -> usize {
        const OVERHEAD_BYTES: usize = 64;
        OVERHEAD_BYTES
            + match self {
                Self::PointCloud(cloud) => cloud.points.len() * 16,
                Self::CompressedImage(image) => image.data.len() + image.format.len(),
                Self::Detections2d { detections, .. } => detections.len() * 64,
                Self::Detections3d { detections, .. } => detections.len() * 128,
                Self::Tracks { tracks, .. } => tracks.len() * 400,
                Self::V2xRaw(message) => message.data.len() + message.source.len(),
                Self::V2xDecoded(message) => message.message.to_string().len(),
                Self::Can(frame) => frame.data.len(),
                Self::Ego(_) => 128,
                Self::Health(report) => {
                    report.reason.len() + 64 * (report.inputs.len() + report.dropped.len())
                }
            }
    }

    /// The channel topics and schemas this message is written to, with their protobuf payloads
    /// ([`crate::schemas`]).
    pub fn encode(&self) -> Vec<(String, SchemaDef, Vec<u8>)> {
        match self {
            Self::PointCloud(cloud) => {
                vec![(
                    format!("/{}/points", cloud.header.frame),
                    schemas::POINT_CLOUD,
                    schemas::point_cloud(cloud),
                )]
            }
            Self::CompressedImage(image) => vec![(
                format!("/{}/compressed", image.header.frame),
                schemas::COMPRESSED_IMAGE,
                schemas::compressed_image(image),
            )],
            Self::Detections2d { header, detections } => vec![(
                format!("/{}/detections", header.frame),
                schemas::DETECTIONS_2D,
                schemas::detections_2d(header, detections),
            )],
            Self::Detections3d { header, detections } => {
                vec![(
                    "/detections_3d".into(),
                    schemas::SCENE_UPDATE,
                    schemas::detections_3d(header, detections),
                )]
            }
            Self::Tracks { header, tracks } => {
                vec![("/tracks".into(), schemas::SCENE_UPDATE, schemas::tracks(header, tracks))]
            }
            Self::V2xRaw(message) => vec![("/v2x/raw".into(), schemas::V2X_RAW, schemas::v2x_raw(message))],
            Self::V2xDecoded(message) => {
                vec![("/v2x/decoded".into(), schemas::V2X_DECODED, schemas::v2x_decoded(message))]
            }
            Self::Can(frame) => {
                vec![(format!("/can/{}", frame.bus), schemas::CAN_FRAME, schemas::can_frame(frame))]
            }
            Self::Ego(recorded) => vec![
                ("/tf".into(), schemas::FRAME_TRANSFORM, schemas::ego_transform(&recorded.ego)),
                ("/ego/state".into(), schemas::EGO_STATE, schemas::ego_state(recorded)),
            ],
            Self::Health(report) => {
                vec![("/health".into(), schemas::HEALTH_REPORT, schemas::health_report(report))]
            }
        }
    }
}

/// What the `pitsense.episode` metadata record says about an episode.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpisodeMetadata {
    /// The truck that recorded it.
    pub truck_id: String,
    /// The pitsense version that recorded it.
    pub software_version: String,
    /// The calibration in force (JSON text: intrinsics and extrinsics per sensor).
    pub calibration_json: String,
    /// The pose of the lidar frame the recorded clouds are in (the primary lidar's), in the truck
    /// frame: JSON `{"x_m", "y_m", "z_m", "roll_rad", "pitch_rad", "yaw_rad"}` (metres; radians,
    /// intrinsic Z-Y-X). Empty when the recorder did not know it (episodes before this key).
    pub truck_from_lidar_json: String,
    /// SHA-256 (hex) of the detector model that ran.
    pub model_sha256: String,
    /// Why the episode was recorded (`manual`, `periodic`, `low_confidence_track:17`, ...).
    pub trigger_reason: String,
    /// The trigger's time in ns.
    pub trigger_stamp_ns: u64,
}

impl EpisodeMetadata {
    /// The metadata as the MCAP string map.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("truck_id".to_owned(), self.truck_id.clone()),
            ("software_version".to_owned(), self.software_version.clone()),
            ("calibration".to_owned(), self.calibration_json.clone()),
            ("truck_from_lidar".to_owned(), self.truck_from_lidar_json.clone()),
            ("model_sha256".to_owned(), self.model_sha256.clone()),
            ("trigger_reason".to_owned(), self.trigger_reason.clone()),
            ("trigger_stamp_ns".to_owned(), self.trigger_stamp_ns.to_string()),
        ])
    }

    /// The metadata from the MCAP string map [`EpisodeMetadata::to_map`] writes; a missing key
    /// reads as empty (0 for the trigger stamp, also when it is not a number).
    pub fn from_map(fields: &BTreeMap<String, String>) -> Self {
        let text = |key: &str| fields.get(key).cloned().unwrap_or_default();
        Self {
            truck_id: text("truck_id"),
            software_version: text("software_version"),
            calibration_json: text("calibration"),
            truck_from_lidar_json: text("truck_from_lidar"),
            model_sha256: text("model_sha256"),
            trigger_reason: text("trigger_reason"),
            trigger_stamp_ns: fields.get("trigger_stamp_ns").and_then(|ns| ns.parse().ok()).unwrap_or(0),
        }
    }
}

/// How episode files are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpisodeWriterOptions {
    /// A chunk is closed once its uncompressed size passes this many bytes.
    pub chunk_size_bytes: u64,
    /// zstd level (1 fast ... 19 small).
    pub zstd_level: u32,
}

impl Default for EpisodeWriterOptions {
    fn default() -> Self {
        Self { chunk_size_bytes: 4 * 1024 * 1024, zstd_level: 3 }
    }
}

/// Totals of a finished episode.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EpisodeSummary {
    /// The file written.
    pub path: PathBuf,
    /// Messages written, per topic.
    pub message_counts: BTreeMap<String, u64>,
    /// Chunks in the file.
    pub chunk_count: u32,
}

/// Writes one episode MCAP file.
pub struct EpisodeWriter {
    path: PathBuf,
    writer: mcap::Writer<File>,
    schema_ids: BTreeMap<&'static str, u16>,
    channels: BTreeMap<String, (u16, u32)>,
    message_counts: BTreeMap<String, u64>,
}

impl EpisodeWriter {
    /// Creates `path` (replacing any file there) and writes the header and the episode's metadata
    /// record.
    ///
    /// Errors: the file cannot be created or written.
    pub fn create(
        path: &Path,
        metadata: &EpisodeMetadata,
        options: EpisodeWriterOptions,
    ) -> Result<Self, CloudLinkError> {
        let file = File::create(path).map_err(|e| CloudLinkError::io(path, "create", e))?;
        let write_options = mcap::WriteOptions::new()
            .profile("")
            .library(concat!("pitsense-cloud-link ", env!("CARGO_PKG_VERSION")))
            .compression(Some(mcap::Compression::Zstd))
            .compression_level(options.zstd_level)
            .chunk_size(Some(options.chunk_size_bytes))
            .use_chunks(true)
            .disable_seeking(true);
        let mut writer =
            write_options.create(file).map_err(|e| CloudLinkError::mcap(path, "write header", e))?;
        writer
            .write_metadata(&mcap::records::Metadata {
                name: EPISODE_METADATA_NAME.to_owned(),
                metadata: metadata.to_map(),
            })
            .map_err(|e| CloudLinkError::mcap(path, "write metadata", e))?;
        Ok(Self {
            path: path.to_owned(),
            writer,
            schema_ids: BTreeMap::new(),
            channels: BTreeMap::new(),
            message_counts: BTreeMap::new(),
        })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a message to its channel(s), creating them on first use.
    ///
    /// Errors: encoding or writing fails.
    pub fn write(&mut self, message: &EpisodeMessage) -> Result<(), CloudLinkError> {
        let stamp_ns = message.stamp_ns();
        for (topic, schema, data) in message.encode() {
            self.write_encoded(&topic, schema, stamp_ns, &data)?;
        }
        Ok(())
    }

    /// Writes one message already encoded in protobuf (`data`, a message of `schema`) on
    /// `topic`, logged at `stamp_ns`; the channel is created with `schema` on first use.
    ///
    /// Errors: writing fails.
    pub fn write_encoded(
        &mut self,
        topic: &str,
        schema: SchemaDef,
        stamp_ns: u64,
        data: &[u8],
    ) -> Result<(), CloudLinkError> {
        let channel_id = self.channel_id(topic, schema)?;
        let Some((_, sequence)) = self.channels.get_mut(topic) else {
            return Err(CloudLinkError::Encode { topic: topic.to_owned(), reason: "channel missing".into() });
        };
        *sequence = sequence.wrapping_add(1);
        let header = mcap::records::MessageHeader {
            channel_id,
            sequence: *sequence,
            log_time: stamp_ns,
            publish_time: stamp_ns,
        };
        self.writer
            .write_to_known_channel(&header, data)
            .map_err(|e| CloudLinkError::mcap(&self.path, "write message", e))?;
        *self.message_counts.entry(topic.to_owned()).or_insert(0) += 1;
        Ok(())
    }

    fn channel_id(&mut self, topic: &str, schema: SchemaDef) -> Result<u16, CloudLinkError> {
        if let Some((channel_id, _)) = self.channels.get(topic) {
            return Ok(*channel_id);
        }
        let schema_id = match self.schema_ids.get(schema.name) {
            Some(id) => *id,
            None => {
                let id = self
                    .writer
                    .add_schema(schema.name, SCHEMA_ENCODING, &schema.descriptor_set())
                    .map_err(|e| CloudLinkError::mcap(&self.path, "add schema", e))?;
                self.schema_ids.insert(schema.name, id);
                id
            }
        };
        let channel_id = self
            .writer
            .add_channel(schema_id, topic, MESSAGE_ENCODING, &BTreeMap::new())
            .map_err(|e| CloudLinkError::mcap(&self.path, "add channel", e))?;
        self.channels.insert(topic.to_owned(), (channel_id, 0));
        Ok(channel_id)
    }

    /// Closes the current chunk and hands it to the operating system, so that a crash from here
    /// on loses nothing written so far. The recorder calls this periodically.
    ///
    /// Errors: writing fails.
    pub fn flush_chunk(&mut self) -> Result<(), CloudLinkError> {
        self.writer.flush().map_err(|e| CloudLinkError::mcap(&self.path, "flush chunk", e))
    }

    /// Messages written so far, per topic.
    pub fn message_counts(&self) -> &BTreeMap<String, u64> {
        &self.message_counts
    }

    /// Writes the last chunk, the summary and the footer, and syncs the file to disk.
    ///
    /// Errors: writing or syncing fails.
    pub fn finish(mut self) -> Result<EpisodeSummary, CloudLinkError> {
        let summary = self.writer.finish().map_err(|e| CloudLinkError::mcap(&self.path, "finish", e))?;
        let file = self.writer.into_inner();
        file.sync_all().map_err(|e| CloudLinkError::io(&self.path, "sync", e))?;
        Ok(EpisodeSummary {
            path: self.path,
            message_counts: self.message_counts,
            chunk_count: summary.stats.map_or(0, |s| s.chunk_count),
        })
    }
}
