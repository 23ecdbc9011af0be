//! What the fleet catalog knows about one episode: its [`EpisodeIndex`], read from the file.
//!
//! The index is built from the episode alone (its `pitsense.episode` metadata and the channels
//! `/tracks`, `/ego/state` and `/health`), so the cloud can index any episode that lands, and
//! re-index a whole store when the index grows a field:
//!
//! - **time**: the first and last message log time (the writer logs every message at its stamp);
//! - **why and what ran**: truck id, trigger reason and stamp, software version, detector model
//!   SHA-256 (metadata);
//! - **classes**: per class label, the tracks that ended with it (a track's label is the majority
//!   of its camera classes, so its last label counts), the most of them in one frame, and the
//!   closest any came to the truck (horizontal range in the truck frame, m: tracks in the `site`
//!   frame are brought to the truck by the ego pose in force at their stamp, tracks in a lidar
//!   frame by the episode's `truck_from_lidar`, tracks in the `ego` frame are there already);
//! - **V2X-only objects**: tracks every update of which came from V2X alone (`source = v2x`):
//!   what only the road-side unit saw;
//! - **health events**: every `/health` report (the runtime records one per change of operating
//!   mode): stamp, mode and reason;
//! - **area**: the site-frame bounding rectangle of the truck's measured positions (held poses,
//!   carried forward during a GNSS outage, are left out).
//!
//! Errors: what [`EpisodeReader`] refuses (not an indexed MCAP, a damaged chunk), and a
//! `/tracks`, `/ego/state` or `/health` message that does not decode, come out as an
//! [`EpisodeReadError`] naming the file (and for a message its topic and log time).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek};
use std::path::Path;

use pitsense_types::nalgebra::{Isometry3, Translation3, UnitQuaternion};
use serde::{Deserialize, Serialize};

use crate::episode::EpisodeMessage;
use crate::episode_reader::{EpisodeReadError, EpisodeReader, RawMessage, decode};
use crate::schemas::{self, recorded_tracks};

/// The channels the index reads.
pub const INDEXED_TOPICS: [&str; 3] = ["/tracks", "/ego/state", "/health"];

/// What one class label did in an episode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassSummary {
    /// Distinct track ids whose last label in the episode was this class.
    pub tracks: u64,
    /// The most tracks with this label in one `/tracks` message.
    pub max_in_frame: u64,
    /// The smallest horizontal distance from the truck frame's origin to a track centre with this
    /// label, m; `None` when no track of the class could be placed relative to the truck (a site
    /// frame track before any ego pose).
    pub min_range_m: Option<f64>,
}

/// A change of operating mode the runtime recorded (`/health`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthEvent {
    /// When the runtime made the report, ns on the truck clock.
    pub stamp_ns: u64,
    /// The mode entered (`lidar_lost`, `nominal`, ...).
    pub mode: String,
    /// Why (empty when nominal).
    pub reason: String,
}

/// The site-frame rectangle the truck drove in, m (east/north or the site's x/y).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteArea {
    /// Smallest x, m.
    pub min_x_m: f64,
    /// Smallest y, m.
    pub min_y_m: f64,
    /// Largest x, m.
    pub max_x_m: f64,
    /// Largest y, m.
    pub max_y_m: f64,
}

impl SiteArea {
    fn around(x_m: f64, y_m: f64) -> Self {
        Self { min_x_m: x_m, min_y_m: y_m, max_x_m: x_m, max_y_m: y_m }
    }

    fn grow(&mut self, x_m: f64, y_m: f64) {
        self.min_x_m = self.min_x_m.min(x_m);
        self.min_y_m = self.min_y_m.min(y_m);
        self.max_x_m = self.max_x_m.max(x_m);
        self.max_y_m = self.max_y_m.max(y_m);
    }

    /// Whether the two rectangles share a point (edges included).
    pub fn intersects(&self, other: &SiteArea) -> bool {
        self.min_x_m <= other.max_x_m
            && other.min_x_m <= self.max_x_m
            && self.min_y_m <= other.max_y_m
            && other.min_y_m <= self.max_y_m
    }
}

/// The catalog's index of one episode (module docs give each field's source).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpisodeIndex {
    /// The truck that recorded it (metadata).
    pub truck_id: String,
    /// The first message's log time, ns (0 for an episode without messages).
    pub start_ns: u64,
    /// The last message's log time, ns.
    pub end_ns: u64,
    /// Why it was recorded (metadata: `manual`, `periodic`, `health: lidar_lost: ...`, ...).
    pub trigger_reason: String,
    /// The trigger's time, ns.
    pub trigger_stamp_ns: u64,
    /// The pitsense version that recorded it.
    pub software_version: String,
    /// SHA-256 (hex) of the detector model that ran.
    pub model_sha256: String,
    /// Per class label (sorted).
    pub classes: BTreeMap<String, ClassSummary>,
    /// Tracks that only V2X ever updated.
    pub v2x_only_tracks: u64,
    /// Changes of operating mode, in time order.
    pub health_events: Vec<HealthEvent>,
    /// Where the truck drove, when a measured pose was recorded.
    pub site_area: Option<SiteArea>,
    /// Messages per topic (from the summary's statistics).
    pub message_counts: BTreeMap<String, u64>,
}

/// `truck_from_lidar` metadata: `{"x_m", "y_m", "z_m", "roll_rad", "pitch_rad", "yaw_rad"}`.
#[derive(Deserialize)]
struct MountJson {
    x_m: f64,
    y_m: f64,
    z_m: f64,
    roll_rad: f64,
    pitch_rad: f64,
    yaw_rad: f64,
}

/// The episode metadata's `truck_from_lidar` (metres; radians, intrinsic Z-Y-X) as a transform;
/// `None` when it is empty or not such an object.
pub(crate) fn truck_from_lidar(metadata_json: &str) -> Option<Isometry3<f64>> {
    serde_json::from_str::<MountJson>(metadata_json).ok().map(|m| {
        Isometry3::from_parts(
            Translation3::new(m.x_m, m.y_m, m.z_m),
            UnitQuaternion::from_euler_angles(m.roll_rad, m.pitch_rad, m.yaw_rad),
        )
    })
}

/// Builds the index of one episode as its messages come (in log time order).
struct IndexBuilder {
    index: EpisodeIndex,
    truck_from_lidar: Option<Isometry3<f64>>,
    /// The newest measured truck pose in the site frame.
    site_from_truck: Option<Isometry3<f64>>,
    /// Last label of each track, and whether every update was V2X only.
    tracks: BTreeMap<u64, (String, bool)>,
    first_log_ns: Option<u64>,
}

impl IndexBuilder {
    fn add(&mut self, raw: &RawMessage) -> Result<(), String> {
        self.first_log_ns.get_or_insert(raw.log_time_ns);
        self.index.end_ns = self.index.end_ns.max(raw.log_time_ns);
        if raw.schema_name == schemas::SCENE_UPDATE.name && raw.topic == "/tracks" {
            return self.add_tracks(&raw.message_encoding, &raw.data);
        }
        match decode(&raw.schema_name, &raw.message_encoding, &raw.data)? {
            Some(EpisodeMessage::Ego(recorded)) if !recorded.pose_held => {
                let pose = recorded.ego.site_from_truck;
                let t = pose.translation.vector;
                match &mut self.index.site_area {
                    Some(area) => area.grow(t.x, t.y),
                    None => self.index.site_area = Some(SiteArea::around(t.x, t.y)),
                }
                self.site_from_truck = Some(pose);
            }
            Some(EpisodeMessage::Health(report)) => self.index.health_events.push(HealthEvent {
                stamp_ns: report.stamp_ns,
                mode: report.mode.as_str().to_owned(),
                reason: report.reason,
            }),
            _ => {}
        }
        Ok(())
    }

    fn add_tracks(&mut self, message_encoding: &str, data: &[u8]) -> Result<(), String> {
        let mut in_frame: BTreeMap<String, u64> = BTreeMap::new();
        for sighting in recorded_tracks(message_encoding, data)? {
            let truck_from_frame = match sighting.frame_id.as_str() {
                "ego" => Some(Isometry3::identity()),
                "site" => self.site_from_truck.map(|pose| pose.inverse()),
                frame if frame.starts_with("lidar") => {
                    Some(self.truck_from_lidar.unwrap_or_else(Isometry3::identity))
                }
                _ => None,
            };
            let range_m = truck_from_frame.map(|pose| {
                let p = pose * sighting.center_m;
                p.x.hypot(p.y)
            });
            let class = self.index.classes.entry(sighting.class_label.clone()).or_insert(ClassSummary {
                tracks: 0,
                max_in_frame: 0,
                min_range_m: None,
            });
            if let Some(range_m) = range_m.filter(|r| r.is_finite()) {
                class.min_range_m = Some(class.min_range_m.map_or(range_m, |m| m.min(range_m)));
            }
            *in_frame.entry(sighting.class_label.clone()).or_insert(0) += 1;
            let entry = self.tracks.entry(sighting.track_id).or_insert_with(|| (String::new(), true));
            entry.0 = sighting.class_label;
            entry.1 &= sighting.v2x;
        }
        for (label, count) in in_frame {
            if let Some(class) = self.index.classes.get_mut(&label) {
                class.max_in_frame = class.max_in_frame.max(count);
            }
        }
        Ok(())
    }

    fn finish(mut self) -> EpisodeIndex {
        for (label, _) in self.tracks.values() {
            if let Some(class) = self.index.classes.get_mut(label) {
                class.tracks += 1;
            }
        }
        self.index.v2x_only_tracks = self.tracks.values().filter(|(_, v2x)| *v2x).count() as u64;
        self.index.start_ns = self.first_log_ns.unwrap_or(0);
        self.index
    }
}

impl EpisodeIndex {
    /// Indexes the episode at `path` (module docs give each field's source).
    ///
    /// Reads the metadata and the summary's message counts, then `/tracks`, `/ego/state` and
    /// `/health` only (chunks without them are not decompressed).
    ///
    /// # Errors
    /// The file is not a readable episode, or one of those messages does not decode: an
    /// [`EpisodeReadError`] naming the file (and the message's topic and log time).
    pub fn of_file(path: &Path) -> Result<Self, EpisodeReadError> {
        Self::of_reader(EpisodeReader::open(path)?, path)
    }

    /// Indexes an episode opened from any seekable reader (an episode in memory, ...); `path`
    /// names it in errors. Same reading and errors as [`EpisodeIndex::of_file`].
    ///
    /// # Errors
    /// As [`EpisodeIndex::of_file`].
    pub fn of_reader<R: Read + Seek>(
        reader: EpisodeReader<R>,
        path: &Path,
    ) -> Result<Self, EpisodeReadError> {
        let metadata = reader.metadata().clone();
        let message_counts = reader.topic_message_counts();
        let mut reader = reader.only_topics(INDEXED_TOPICS)?;
        let truck_from_lidar = truck_from_lidar(&metadata.truck_from_lidar_json);
        let mut builder = IndexBuilder {
            index: EpisodeIndex {
                truck_id: metadata.truck_id,
                trigger_reason: metadata.trigger_reason,
                trigger_stamp_ns: metadata.trigger_stamp_ns,
                software_version: metadata.software_version,
                model_sha256: metadata.model_sha256,
                message_counts,
                ..Self::default()
            },
            truck_from_lidar,
            site_from_truck: None,
            tracks: BTreeMap::new(),
            first_log_ns: None,
        };
        while let Some(raw) = reader.next_raw() {
            let raw = raw?;
            builder.add(&raw).map_err(|reason| EpisodeReadError::Message {
                path: path.to_owned(),
                topic: raw.topic.clone(),
                log_time_ns: raw.log_time_ns,
                reason,
            })?;
        }
        let observed = builder.first_log_ns.map(|first_ns| (first_ns, builder.index.end_ns));
        let mut index = builder.finish();
        // Start and end cover every channel, not only the indexed ones: the summary's statistics
        // hold the whole file's time range. A damaged summary can say the start comes after the
        // end (found by fuzzing): then only what was read counts.
        if let Some((start_ns, end_ns)) = reader.message_time_range().filter(|(start, end)| start <= end) {
            let (read_start_ns, read_end_ns) = observed.unwrap_or((start_ns, end_ns));
            index.start_ns = start_ns.min(read_start_ns);
            index.end_ns = end_ns.max(read_end_ns);
        }
        Ok(index)
    }

    /// The distinct modes entered, sorted.
    pub fn health_modes(&self) -> BTreeSet<&str> {
        self.health_events.iter().map(|event| event.mode.as_str()).collect()
    }
}
