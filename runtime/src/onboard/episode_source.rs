//! An episode recorded by pitsense (MCAP) as the replay's inputs.
//!
//! [`EpisodeSource`] reads the episode with the cloud-link's [`EpisodeReader`] in log time order
//! and sends what the recording truck's graph took in back into the same graph:
//! - the lidar cloud (`/lidar<N>/points`, the lowest N: the primary lidar's frame, secondary
//!   lidars already merged in) to the lidar task, which runs the obstacle pipeline on it again;
//! - the camera images (`/camera<N>/compressed`, PNG or JPEG as the source kept them) to the
//!   camera task, with the episode's calibration (its `pitsense.episode` metadata), so the
//!   detector runs again: a new model can be tested on old episodes;
//! - the raw V2X datagrams (`/v2x/raw`) to the V2X input, decoded again;
//! - the truck's recorded ego states (`/ego/state`) to fusion, which uses the one recorded at
//!   each frame's stamp instead of estimating the pose again.
//!
//! - the frames the truck made while its lidar was lost (a `/detections_3d`, which every
//!   published frame has, at a log time without a cloud) to the lidar task as lidar-lost frames,
//!   so the replay fuses them at the same stamps (camera ground-plane estimates, V2X, coasting).
//!
//! The recording's outputs (`/detections_3d`, `/tracks`, `/image<N>/detections`) are what the
//! replay makes again, and are not read (but for the frame stamps above). Time: the replay clock follows the log times; every
//! input's watermark moves to a message's log time when the log time moves past the previous
//! one, so fusion waits until everything logged at a frame's stamp has been sent.
//!
//! Bad content (a message that does not decode, an image that does not decode) is reported on
//! the input it belongs to, with the episode, topic, log time and reason, and skipped; a damaged
//! chunk ends the episode there (reported), keeping everything before it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::Context;
use pitsense_cloud_link::{EpisodeMessage, EpisodeReadError, EpisodeReader, MessageView, RecordedEgo};
use pitsense_types::{CameraCalibration, FrameId, Header};

use crate::graph::channel::EdgeSender;
use crate::onboard::config::Pose;
use crate::onboard::sources::{CameraFrame, InputState, LidarScanMessage, SourceContext, V2xDatagram};

/// The topic of the fused detections: one message per frame the truck published.
const FUSED_TOPIC: &str = "/detections_3d";

/// The V2X input's source name for datagrams replayed from an episode.
pub const EPISODE_V2X_SOURCE: &str = "episode";

/// An episode opened for replay, and what it holds.
#[derive(Debug)]
pub struct EpisodeSource {
    path: PathBuf,
    reader: EpisodeReader,
    calibration: Option<CameraCalibration>,
    truck_from_lidar: Option<Pose>,
    lidar_topic: Option<String>,
    camera_topic: Option<String>,
    lidar_frames: u64,
    has_v2x: bool,
    has_ego: bool,
}

/// Where the episode's messages go: each input's edge and state, for the inputs the replay
/// takes (`None`: that input's messages are skipped).
#[derive(Debug, Default)]
pub struct EpisodeOutputs {
    /// Clouds to the lidar task.
    pub lidar: Option<(EdgeSender<LidarScanMessage>, Arc<InputState>)>,
    /// Images to the camera task.
    pub camera: Option<(EdgeSender<CameraFrame>, Arc<InputState>)>,
    /// Datagrams to the V2X input.
    pub v2x: Option<(EdgeSender<V2xDatagram>, Arc<InputState>)>,
    /// Ego states to fusion.
    pub ego: Option<(EdgeSender<RecordedEgo>, Arc<InputState>)>,
}

impl EpisodeOutputs {
    fn states(&self) -> Vec<&Arc<InputState>> {
        let lidar = self.lidar.as_ref().map(|(_, state)| state);
        let camera = self.camera.as_ref().map(|(_, state)| state);
        let v2x = self.v2x.as_ref().map(|(_, state)| state);
        let ego = self.ego.as_ref().map(|(_, state)| state);
        [lidar, camera, v2x, ego].into_iter().flatten().collect()
    }

    /// The input a topic's problems are reported on (the lidar's when the topic has none).
    fn state_for(&self, topic: &str) -> Option<&Arc<InputState>> {
        let own = if topic.ends_with("/points") {
            self.lidar.as_ref().map(|(_, state)| state)
        } else if topic.ends_with("/compressed") {
            self.camera.as_ref().map(|(_, state)| state)
        } else if topic.starts_with("/v2x/") {
            self.v2x.as_ref().map(|(_, state)| state)
        } else if topic == "/ego/state" {
            self.ego.as_ref().map(|(_, state)| state)
        } else {
            None
        };
        own.or_else(|| self.states().into_iter().next())
    }
}

/// The sensor id of a `/<kind><N>/<leaf>` topic.
fn topic_sensor(topic: &str, kind: &str, leaf: &str) -> Option<u16> {
    let rest = topic.strip_prefix('/')?.strip_prefix(kind)?.strip_suffix(leaf)?.strip_suffix('/')?;
    rest.bytes().all(|b| b.is_ascii_digit()).then(|| rest.parse().ok()).flatten()
}

impl EpisodeSource {
    /// Opens the episode and reads what it holds: the primary lidar's and the first camera's
    /// topics, V2X and ego states, and the camera calibration of its metadata.
    ///
    /// # Errors
    /// The episode cannot be read (not MCAP, torn: see [`EpisodeReader::open`]), holds no lidar
    /// cloud, its calibration is not the JSON of a [`CameraCalibration`], or its
    /// `truck_from_lidar` is not the JSON of a finite [`Pose`].
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let reader = EpisodeReader::open(path)?;
        let topics = reader.topics();
        let first = |kind: &str, leaf: &str| {
            topics
                .iter()
                .filter_map(|topic| topic_sensor(topic, kind, leaf).map(|id| (id, topic.clone())))
                .min()
                .map(|(_, topic)| topic)
        };
        let lidar_topic = first("lidar", "points");
        let Some(lidar) = &lidar_topic else {
            anyhow::bail!(
                "episode `{}`: no lidar cloud (/lidarN/points) to replay; its topics: {}",
                path.display(),
                topics.join(", ")
            );
        };
        let lidar_frames = reader.topic_message_counts().get(lidar).copied().unwrap_or(0);
        let pose_json = reader.metadata().truck_from_lidar_json.trim();
        let truck_from_lidar = if pose_json.is_empty() {
            None
        } else {
            let pose = serde_json::from_str::<Pose>(pose_json)
                .with_context(|| format!("episode `{}`: metadata `truck_from_lidar`", path.display()))?;
            pose.validate("truck_from_lidar")
                .with_context(|| format!("episode `{}`: metadata `truck_from_lidar`", path.display()))?;
            Some(pose)
        };
        let calibration_json = reader.metadata().calibration_json.trim();
        let calibration = if calibration_json.is_empty() {
            None
        } else {
            serde_json::from_str::<Option<CameraCalibration>>(calibration_json)
                .with_context(|| format!("episode `{}`: metadata `calibration`", path.display()))?
        };
        Ok(Self {
            path: path.to_owned(),
            calibration,
            truck_from_lidar,
            lidar_topic,
            camera_topic: first("camera", "compressed"),
            lidar_frames,
            has_v2x: topics.iter().any(|topic| topic == "/v2x/raw"),
            has_ego: topics.iter().any(|topic| topic == "/ego/state"),
            reader,
        })
    }

    /// The pose of the recorded clouds' frame in the truck frame (metadata `truck_from_lidar`),
    /// if the episode says.
    pub fn truck_from_lidar(&self) -> Option<Pose> {
        self.truck_from_lidar
    }

    /// The camera calibration the episode was recorded with, if any.
    pub fn calibration(&self) -> Option<&CameraCalibration> {
        self.calibration.as_ref()
    }

    /// Whether camera images can be replayed: the episode has images and a calibration.
    pub fn has_camera(&self) -> bool {
        self.camera_topic.is_some() && self.calibration.is_some()
    }

    /// The camera topic when the episode has images but no calibration to fuse them with.
    pub fn camera_without_calibration(&self) -> Option<&str> {
        self.camera_topic.as_deref().filter(|_| self.calibration.is_none())
    }

    /// Whether the episode has raw V2X datagrams.
    pub fn has_v2x(&self) -> bool {
        self.has_v2x
    }

    /// Whether the episode has the truck's ego states.
    pub fn has_ego(&self) -> bool {
        self.has_ego
    }

    /// Lidar clouds in the episode (its summary's count): the frames it lists.
    pub fn lidar_frames(&self) -> u64 {
        self.lidar_frames
    }

    /// The thread body: every message in log time order to its input, then the end of every
    /// input.
    pub fn run(self, outputs: EpisodeOutputs, context: &SourceContext) {
        let Self { path, mut reader, calibration, lidar_topic, camera_topic, .. } = self;
        let mut current_ns: Option<u64> = None;
        let mut lidar_seq = 0_u64;
        // The truck's frames without the lidar: a `/detections_3d` (every published frame has
        // one) at a log time with no cloud. Decided once the log time has moved on.
        let mut frame_at_current = false;
        let mut cloud_at_current = false;
        let send_lidar_lost = |stamp_ns: u64| {
            if let Some((sender, _)) = &outputs.lidar {
                let header = Header { stamp_ns, frame: FrameId::Lidar(0), seq: 0 };
                sender.send(LidarScanMessage {
                    sensor_index: 0,
                    cloud: pitsense_types::PointCloud { header, points: Vec::new() },
                    arrival_ns: stamp_ns,
                    name: None,
                    lidar_lost: true,
                });
            }
        };
        // Each message decoded straight from the chunk in memory; a frame's `/detections_3d`
        // only marks its stamp.
        let episode = path.clone();
        let mut take = |view: MessageView<'_>| {
            let decoded = (view.topic != FUSED_TOPIC).then(|| view.decode(&episode));
            Some((view.log_time_ns, decoded))
        };
        while let Some(item) = reader.next_with(&mut take) {
            if context.stop.load(Ordering::SeqCst) {
                break;
            }
            let (stamp_ns, decoded) = match item {
                Ok(taken) => taken,
                Err(error) => {
                    if let Some(state) = outputs.state_for("") {
                        state.report_malformed(error.to_string());
                    }
                    continue;
                }
            };
            if current_ns.is_none_or(|current| stamp_ns > current) {
                if let Some(previous_ns) = current_ns
                    && frame_at_current
                    && !cloud_at_current
                {
                    send_lidar_lost(previous_ns);
                }
                (frame_at_current, cloud_at_current) = (false, false);
                // Everything logged before this time has been sent.
                for state in outputs.states() {
                    state.advance_watermark(stamp_ns);
                }
                if let Some(clock) = &context.replay_clock {
                    clock.set_ns(stamp_ns);
                }
                current_ns = Some(stamp_ns);
            }
            let read = match decoded {
                None => {
                    frame_at_current = true;
                    continue;
                }
                Some(Ok(Some(read))) => read,
                Some(Ok(None)) => continue,
                Some(Err(error)) => {
                    let topic = match &error {
                        EpisodeReadError::Message { topic, .. } => topic.as_str(),
                        _ => "",
                    };
                    if let Some(state) = outputs.state_for(topic) {
                        state.report_malformed(error.to_string());
                    }
                    continue;
                }
            };
            if Some(&read.topic) == lidar_topic.as_ref() {
                cloud_at_current = true;
            }
            match read.message {
                EpisodeMessage::PointCloud(mut cloud) if Some(&read.topic) == lidar_topic.as_ref() => {
                    if let Some((sender, state)) = &outputs.lidar {
                        state.on_message(stamp_ns, cloud.header.stamp_ns);
                        // Foxglove's cloud carries no sequence number: the replay numbers them.
                        cloud.header.seq = lidar_seq;
                        lidar_seq += 1;
                        sender.send(LidarScanMessage {
                            sensor_index: 0,
                            cloud,
                            arrival_ns: stamp_ns,
                            name: None,
                            lidar_lost: false,
                        });
                    }
                }
                EpisodeMessage::CompressedImage(image) if Some(&read.topic) == camera_topic.as_ref() => {
                    let Some((sender, state)) = &outputs.camera else { continue };
                    let FrameId::Camera(camera_id) = image.header.frame else { continue };
                    let header = Header { frame: FrameId::ImagePixels(camera_id), ..image.header };
                    let name = format!("episode `{}`: {} at {stamp_ns} ns", path.display(), read.topic);
                    match pitsense_imaging::decode_image(&image.data, &name, header, camera_id) {
                        Ok(decoded) => {
                            state.on_message(stamp_ns, header.stamp_ns);
                            sender.send(CameraFrame {
                                image: decoded,
                                encoded: Some((image.data, image.format)),
                                calibration: calibration.clone(),
                            });
                        }
                        Err(error) => state.report_malformed(format!("{name}: {error}")),
                    }
                }
                EpisodeMessage::V2xRaw(raw) => {
                    if let Some((sender, state)) = &outputs.v2x {
                        state.on_message(stamp_ns, raw.stamp_ns);
                        sender.send(V2xDatagram { receive_stamp_ns: raw.stamp_ns, bytes: raw.data });
                    }
                }
                EpisodeMessage::Ego(recorded) => {
                    if let Some((sender, state)) = &outputs.ego {
                        state.on_message(stamp_ns, recorded.ego.header.stamp_ns);
                        sender.send(recorded);
                    }
                }
                _ => {}
            }
        }
        if let Some(last_ns) = current_ns
            && frame_at_current
            && !cloud_at_current
            && !context.stop.load(Ordering::SeqCst)
        {
            send_lidar_lost(last_ns);
        }
        for state in outputs.states() {
            state.end();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::topic_sensor;

    #[test]
    fn sensor_topics_name_their_sensor() {
        assert_eq!(topic_sensor("/lidar0/points", "lidar", "points"), Some(0));
        assert_eq!(topic_sensor("/camera12/compressed", "camera", "compressed"), Some(12));
        for other in
            ["/lidar/points", "/lidarx/points", "/lidar0/pointsx", "lidar0/points", "/lidar+1/points"]
        {
            assert_eq!(topic_sensor(other, "lidar", "points"), None, "{other}");
        }
    }
}
