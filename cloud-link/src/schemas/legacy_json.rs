//! Reading episodes recorded before pitsense wrote protobuf: the same schema names with the
//! MCAP `json` message encoding and `jsonschema` schemas (Foxglove's JSON conventions:
//! timestamps as `{"sec", "nsec"}`, byte arrays as base64 strings, enums as integers).
//! `cloud-link/tests/data/json_episode_v0.mcap` is such an episode; the tests read it back.

use base64::Engine as _;
use pitsense_types::{EgoState, FrameId, Header, PointCloud};
use serde::Deserialize;

use super::{self as schemas, TrackEntity, detections_2d_message, frame, site_from_truck, unpack_points};
use crate::episode::{CanFrame, CompressedImage, EpisodeMessage, RecordedEgo, V2xRaw};

/// `{"sec", "nsec"}`.
#[derive(Deserialize)]
struct Time {
    sec: u64,
    nsec: u64,
}

impl Time {
    fn stamp_ns(&self) -> Result<u64, String> {
        stamp_ns(self.sec, self.nsec)
    }
}

/// ns of a time given as seconds and nanoseconds.
///
/// # Errors
/// `nsec` is not below 10^9, or the time does not fit in u64 ns.
pub(crate) fn stamp_ns(sec: u64, nsec: u64) -> Result<u64, String> {
    if nsec >= 1_000_000_000 {
        return Err(format!("timestamp nsec {nsec} is not below 10^9"));
    }
    sec.checked_mul(1_000_000_000)
        .and_then(|ns| ns.checked_add(nsec))
        .ok_or_else(|| format!("timestamp {sec} s does not fit in u64 ns"))
}

#[derive(Deserialize)]
struct PackedField {
    name: String,
    offset: u32,
    #[serde(rename = "type")]
    numeric_type: u8,
}

#[derive(Deserialize)]
struct PointCloudJson {
    timestamp: Time,
    frame_id: String,
    point_stride: u32,
    fields: Vec<PackedField>,
    data: String,
}

#[derive(Deserialize)]
struct CompressedImageJson {
    timestamp: Time,
    frame_id: String,
    data: String,
    format: String,
}

#[derive(Deserialize)]
struct V2xRawJson {
    stamp_ns: u64,
    source: String,
    data: String,
}

#[derive(Deserialize)]
struct CanFrameJson {
    stamp_ns: u64,
    bus: u8,
    can_id: u32,
    extended_id: bool,
    data: String,
}

#[derive(Deserialize)]
struct PoseJson {
    translation_m: [f64; 3],
    rotation_xyzw: [f64; 4],
}

#[derive(Deserialize)]
struct EgoStateJson {
    stamp_ns: u64,
    seq: u64,
    speed_mps: f64,
    yaw_rate_radps: f64,
    accel_mps2: f64,
    site_from_truck: PoseJson,
    // Absent in episodes recorded before it existed: their poses count as measured.
    #[serde(default)]
    pose_held: bool,
}

fn bytes(base64_text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(base64_text)
        .map_err(|e| format!("data: not base64: {e}"))
}

/// Decodes one JSON message of schema `schema_name`: `Ok(None)` for the schemas that are not
/// read back (see [`super::decode`]).
///
/// # Errors
/// The text of the reason: not JSON of the schema, bad base64, a frame name that does not
/// parse, a point layout other than the writer's, a rotation that is not a quaternion.
pub fn decode(schema_name: &str, data: &[u8]) -> Result<Option<EpisodeMessage>, String> {
    fn json<'a, T: Deserialize<'a>>(data: &'a [u8]) -> Result<T, String> {
        serde_json::from_slice(data)
            .map_err(|e| format!("not {}: {e}", std::any::type_name::<T>().rsplit("::").next().unwrap_or("")))
    }
    let message = match schema_name {
        name if name == schemas::POINT_CLOUD.name => {
            let cloud: PointCloudJson = json(data)?;
            let fields = cloud.fields.into_iter().map(|f| (f.name, f.offset, i32::from(f.numeric_type)));
            let points = unpack_points(cloud.point_stride, fields, &bytes(&cloud.data)?)?;
            let header =
                Header { stamp_ns: cloud.timestamp.stamp_ns()?, frame: frame(&cloud.frame_id)?, seq: 0 };
            EpisodeMessage::PointCloud(PointCloud { header, points })
        }
        name if name == schemas::COMPRESSED_IMAGE.name => {
            let image: CompressedImageJson = json(data)?;
            let header =
                Header { stamp_ns: image.timestamp.stamp_ns()?, frame: frame(&image.frame_id)?, seq: 0 };
            EpisodeMessage::CompressedImage(CompressedImage {
                header,
                format: image.format,
                data: bytes(&image.data)?,
            })
        }
        name if name == schemas::DETECTIONS_2D.name => {
            detections_2d_message(json::<schemas::proto::Detections2d>(data)?)?
        }
        name if name == schemas::V2X_RAW.name => {
            let raw: V2xRawJson = json(data)?;
            EpisodeMessage::V2xRaw(V2xRaw {
                stamp_ns: raw.stamp_ns,
                source: raw.source,
                data: bytes(&raw.data)?,
            })
        }
        name if name == schemas::CAN_FRAME.name => {
            let can: CanFrameJson = json(data)?;
            EpisodeMessage::Can(CanFrame {
                stamp_ns: can.stamp_ns,
                bus: can.bus,
                can_id: can.can_id,
                extended_id: can.extended_id,
                data: bytes(&can.data)?,
            })
        }
        name if name == schemas::HEALTH_REPORT.name => EpisodeMessage::Health(json(data)?),
        name if name == schemas::EGO_STATE.name => {
            let ego: EgoStateJson = json(data)?;
            let state = EgoState {
                header: Header { stamp_ns: ego.stamp_ns, frame: FrameId::Site, seq: ego.seq },
                site_from_truck: site_from_truck(
                    ego.site_from_truck.translation_m,
                    ego.site_from_truck.rotation_xyzw,
                )?,
                speed_mps: ego.speed_mps,
                yaw_rate_radps: ego.yaw_rate_radps,
                accel_mps2: ego.accel_mps2,
            };
            EpisodeMessage::Ego(RecordedEgo { ego: state, pose_held: ego.pose_held })
        }
        _ => return Ok(None),
    };
    Ok(Some(message))
}

/// The parts of a `foxglove.SceneUpdate` of tracks the index reads.
#[derive(Deserialize)]
struct SceneUpdateJson {
    entities: Vec<EntityJson>,
}

#[derive(Deserialize)]
struct EntityJson {
    frame_id: String,
    #[serde(default)]
    metadata: Vec<KeyValueJson>,
    #[serde(default)]
    cubes: Vec<CubeJson>,
}

#[derive(Deserialize)]
struct KeyValueJson {
    key: String,
    value: String,
}

#[derive(Deserialize)]
struct CubeJson {
    pose: CubePoseJson,
    size: XyzJson,
}

#[derive(Deserialize)]
struct CubePoseJson {
    position: XyzJson,
    orientation: OrientationJson,
}

#[derive(Deserialize)]
struct XyzJson {
    x: f64,
    y: f64,
    z: f64,
}

#[derive(Deserialize)]
struct OrientationJson {
    z: f64,
    w: f64,
}

/// The track entities of one JSON `/tracks` message.
///
/// # Errors
/// Not the JSON of a `foxglove.SceneUpdate`.
pub(crate) fn track_entities(data: &[u8]) -> Result<Vec<TrackEntity>, String> {
    let scene: SceneUpdateJson =
        serde_json::from_slice(data).map_err(|e| format!("not a foxglove.SceneUpdate of tracks: {e}"))?;
    Ok(scene
        .entities
        .into_iter()
        .map(|entity| TrackEntity {
            frame_id: entity.frame_id,
            metadata: entity.metadata.into_iter().map(|kv| (kv.key, kv.value)).collect(),
            cube: entity.cubes.first().map(|cube| {
                let (p, q, size) = (&cube.pose.position, &cube.pose.orientation, &cube.size);
                ([p.x, p.y, p.z], [q.z, q.w], [size.x, size.y, size.z])
            }),
        })
        .collect())
}
