//! Channel schemas and protobuf encoders.
//!
//! Messages are written with the MCAP `protobuf` message encoding; each schema record holds a
//! binary `FileDescriptorSet` and names the message. Where one fits, the schema is Foxglove's
//! well-known schema (`foxglove.PointCloud`, `foxglove.CompressedImage`, `foxglove.SceneUpdate`,
//! `foxglove.FrameTransform`): the message types and descriptor sets are the `foxglove` crate's,
//! generated from Foxglove's published `.proto` files, so Foxglove shows the point clouds,
//! images, boxes and transforms and `rerun mcap convert` turns them into Rerun's archetypes
//! (`Points3D`, `EncodedImage`, `Boxes3D`, `Transform3D`). Messages without a Foxglove
//! equivalent (2D detections, CAN frames, V2X, ego state, health) use pitsense's own protobuf
//! messages ([`proto`]).
//!
//! Episodes recorded before (JSON messages under the same schema names) still read:
//! [`decode`] picks the decoder by the channel's message encoding ([`legacy_json`]).

pub mod legacy_json;
pub mod proto;

use std::borrow::Cow;

use foxglove::messages as fg;
use pitsense_types::nalgebra::{Isometry3, Quaternion, Translation3, UnitQuaternion};
use pitsense_types::{
    BoxPx, Detection2d, Detection3d, EgoState, FrameId, Header, HealthReport, InputHealth, PointCloud,
    PointXyzi, Track,
};
use prost::Message as _;

use crate::episode::{CanFrame, CompressedImage, EpisodeMessage, RecordedEgo, V2xDecoded, V2xRaw};

/// The MCAP schema encoding of every schema written.
pub const SCHEMA_ENCODING: &str = "protobuf";
/// The MCAP message encoding of every channel written.
pub const MESSAGE_ENCODING: &str = "protobuf";
/// The message encoding of episodes recorded before protobuf (read back by [`legacy_json`]).
pub const LEGACY_MESSAGE_ENCODING: &str = "json";

/// A schema: its name and where its descriptor set comes from.
#[derive(Clone, Copy, Debug)]
pub struct SchemaDef {
    /// The schema name written in the MCAP Schema record: the protobuf message's full name
    /// (`foxglove.PointCloud`, `pitsense.CanFrame`, ...).
    pub name: &'static str,
    descriptor_set: fn() -> Cow<'static, [u8]>,
}

impl SchemaDef {
    /// The schema data: the serialized `FileDescriptorSet` holding the message and every file
    /// it imports.
    pub fn descriptor_set(&self) -> Cow<'static, [u8]> {
        (self.descriptor_set)()
    }
}

fn foxglove_descriptor<T: foxglove::Encode>() -> Cow<'static, [u8]> {
    T::get_schema().map(|schema| schema.data).unwrap_or_default()
}

fn pitsense_descriptor() -> Cow<'static, [u8]> {
    Cow::Owned(proto::descriptor_set())
}

/// `foxglove.PointCloud`: points as packed little-endian `f32` x, y, z, intensity (16-byte stride).
pub const POINT_CLOUD: SchemaDef =
    SchemaDef { name: "foxglove.PointCloud", descriptor_set: foxglove_descriptor::<fg::PointCloud> };
/// `foxglove.CompressedImage`: JPEG/PNG/... bytes as recorded by the camera or encoder.
pub const COMPRESSED_IMAGE: SchemaDef = SchemaDef {
    name: "foxglove.CompressedImage",
    descriptor_set: foxglove_descriptor::<fg::CompressedImage>,
};
/// `foxglove.SceneUpdate`: 3D detections and tracks as cubes with a text label.
pub const SCENE_UPDATE: SchemaDef =
    SchemaDef { name: "foxglove.SceneUpdate", descriptor_set: foxglove_descriptor::<fg::SceneUpdate> };
/// `foxglove.FrameTransform`: the truck pose in the site frame (`site` parent, `ego` child).
pub const FRAME_TRANSFORM: SchemaDef =
    SchemaDef { name: "foxglove.FrameTransform", descriptor_set: foxglove_descriptor::<fg::FrameTransform> };
/// `pitsense.Detections2d`: the camera detector's boxes (pixels) for one image.
pub const DETECTIONS_2D: SchemaDef =
    SchemaDef { name: "pitsense.Detections2d", descriptor_set: pitsense_descriptor };
/// `pitsense.CanFrame`: one raw CAN frame.
pub const CAN_FRAME: SchemaDef = SchemaDef { name: "pitsense.CanFrame", descriptor_set: pitsense_descriptor };
/// `pitsense.V2xRaw`: one V2X message as received (UPER or IEEE 1609.2 bytes).
pub const V2X_RAW: SchemaDef = SchemaDef { name: "pitsense.V2xRaw", descriptor_set: pitsense_descriptor };
/// `pitsense.V2xDecoded`: one decoded V2X message (the decoder's JSON form as text).
pub const V2X_DECODED: SchemaDef =
    SchemaDef { name: "pitsense.V2xDecoded", descriptor_set: pitsense_descriptor };
/// `pitsense.EgoState`: speed, yaw rate, acceleration and the site-from-truck pose.
pub const EGO_STATE: SchemaDef = SchemaDef { name: "pitsense.EgoState", descriptor_set: pitsense_descriptor };
/// `pitsense.HealthReport`: the runtime's health report at a change of operating mode (mode,
/// reason, per-input status, late frames, drops per edge).
pub const HEALTH_REPORT: SchemaDef =
    SchemaDef { name: "pitsense.HealthReport", descriptor_set: pitsense_descriptor };

/// Every schema this module defines, in a fixed order.
pub const ALL: [SchemaDef; 10] = [
    POINT_CLOUD,
    COMPRESSED_IMAGE,
    SCENE_UPDATE,
    FRAME_TRANSFORM,
    DETECTIONS_2D,
    CAN_FRAME,
    V2X_RAW,
    V2X_DECODED,
    EGO_STATE,
    HEALTH_REPORT,
];

/// A Foxglove timestamp for a time in ns (seconds saturate at `u32::MAX`, the year 2106).
fn timestamp(stamp_ns: u64) -> fg::Timestamp {
    let sec = u32::try_from(stamp_ns / 1_000_000_000).unwrap_or(u32::MAX);
    // nsec < 10^9: no normalization, no overflow.
    fg::Timestamp::new(sec, (stamp_ns % 1_000_000_000) as u32)
}

fn vector3(x: f64, y: f64, z: f64) -> Option<fg::Vector3> {
    Some(fg::Vector3 { x, y, z })
}

fn pose(position: [f64; 3], rotation_xyzw: [f64; 4]) -> Option<fg::Pose> {
    let [x, y, z, w] = rotation_xyzw;
    Some(fg::Pose {
        position: vector3(position[0], position[1], position[2]),
        orientation: Some(fg::Quaternion { x, y, z, w }),
    })
}

/// `foxglove.PointCloud` for a lidar scan: x, y, z, intensity as `FLOAT32`, 16-byte stride.
pub fn point_cloud(cloud: &PointCloud) -> Vec<u8> {
    let mut data = Vec::with_capacity(cloud.points.len() * 16);
    for point in &cloud.points {
        for value in [point.x_m, point.y_m, point.z_m, point.intensity] {
            data.extend_from_slice(&value.to_le_bytes());
        }
    }
    let field = |name: &str, offset| fg::PackedElementField {
        name: name.to_owned(),
        offset,
        r#type: fg::packed_element_field::NumericType::Float32 as i32,
    };
    fg::PointCloud {
        timestamp: Some(timestamp(cloud.header.stamp_ns)),
        frame_id: cloud.header.frame.to_string(),
        pose: pose([0.0; 3], [0.0, 0.0, 0.0, 1.0]),
        point_stride: 16,
        fields: vec![field("x", 0), field("y", 4), field("z", 8), field("intensity", 12)],
        data: data.into(),
    }
    .encode_to_vec()
}

/// `foxglove.CompressedImage`.
pub fn compressed_image(image: &CompressedImage) -> Vec<u8> {
    fg::CompressedImage {
        timestamp: Some(timestamp(image.header.stamp_ns)),
        frame_id: image.header.frame.to_string(),
        data: image.data.clone().into(),
        format: image.format.clone(),
    }
    .encode_to_vec()
}

/// `pitsense.Detections2d`.
pub fn detections_2d(header: &Header, detections: &[Detection2d]) -> Vec<u8> {
    proto::Detections2d {
        stamp_ns: header.stamp_ns,
        frame_id: header.frame.to_string(),
        seq: header.seq,
        detections: detections
            .iter()
            .map(|d| proto::Detection2d {
                x1_px: d.box_px.x1,
                y1_px: d.box_px.y1,
                x2_px: d.box_px.x2,
                y2_px: d.box_px.y2,
                class_index: d.class_index,
                class_label: d.class_label.clone(),
                score: d.score,
            })
            .collect(),
    }
    .encode_to_vec()
}

/// One cube entity with a text label above it.
struct BoxEntity {
    entity_id: String,
    center_m: [f64; 3],
    size_m: [f64; 3],
    yaw_rad: f64,
    label: String,
    color_rgba: [f64; 4],
    metadata: Vec<(&'static str, String)>,
}

impl BoxEntity {
    fn into_entity(self, header: &Header) -> fg::SceneEntity {
        let [x, y, z] = self.center_m;
        let half = self.yaw_rad / 2.0;
        let [r, g, b, a] = self.color_rgba;
        fg::SceneEntity {
            timestamp: Some(timestamp(header.stamp_ns)),
            frame_id: header.frame.to_string(),
            id: self.entity_id,
            lifetime: Some(fg::Duration::new(0, 200_000_000)),
            frame_locked: false,
            metadata: self
                .metadata
                .into_iter()
                .map(|(key, value)| fg::KeyValuePair { key: key.to_owned(), value })
                .collect(),
            cubes: vec![fg::CubePrimitive {
                pose: pose(self.center_m, [0.0, 0.0, half.sin(), half.cos()]),
                size: vector3(self.size_m[0], self.size_m[1], self.size_m[2]),
                color: Some(fg::Color { r, g, b, a }),
            }],
            texts: vec![fg::TextPrimitive {
                pose: pose([x, y, z + self.size_m[2] / 2.0 + 0.5], [0.0, 0.0, 0.0, 1.0]),
                billboard: true,
                font_size: 14.0,
                scale_invariant: true,
                color: Some(fg::Color { r: 1.0, g: 1.0, b: 1.0, a: 1.0 }),
                text: self.label,
            }],
            ..Default::default()
        }
    }
}

/// `foxglove.SceneUpdate` for 3D detections: one cube entity per detection (`det-<index>`),
/// with class, score and source as metadata.
pub fn detections_3d(header: &Header, detections: &[Detection3d]) -> Vec<u8> {
    let entities = detections
        .iter()
        .enumerate()
        .map(|(index, d)| {
            BoxEntity {
                entity_id: format!("det-{index}"),
                center_m: [d.center_m.x, d.center_m.y, d.center_m.z],
                size_m: [d.size_m.x, d.size_m.y, d.size_m.z],
                yaw_rad: d.yaw_rad,
                label: format!("{} {:.2}", d.class_label, d.score),
                color_rgba: [0.2, 0.6, 1.0, 0.4],
                metadata: vec![
                    ("class", d.class_label.clone()),
                    ("score", d.score.to_string()),
                    ("source", format!("{:?}", d.source).to_lowercase()),
                ],
            }
            .into_entity(header)
        })
        .collect();
    fg::SceneUpdate { deletions: Vec::new(), entities }.encode_to_vec()
}

/// `foxglove.SceneUpdate` for tracks: one cube entity per track (`track-<track_id>`), with the
/// id, class, score, source, velocity (m/s, `"x y z"` in the track's frame), age and hits as
/// metadata (the catalog's index reads `track_id`, `class` and `source`).
pub fn tracks(header: &Header, tracks: &[Track]) -> Vec<u8> {
    let entities = tracks
        .iter()
        .map(|t| {
            let s = &t.state;
            BoxEntity {
                entity_id: format!("track-{}", t.track_id),
                center_m: [s.center_m.x, s.center_m.y, s.center_m.z],
                size_m: [s.size_m.x, s.size_m.y, s.size_m.z],
                yaw_rad: s.yaw_rad,
                label: format!("{} #{}", t.class_label, t.track_id),
                color_rgba: [1.0, 0.6, 0.1, 0.4],
                metadata: vec![
                    ("track_id", t.track_id.to_string()),
                    ("class", t.class_label.clone()),
                    ("score", t.score.to_string()),
                    ("source", format!("{:?}", t.source).to_lowercase()),
                    (
                        "velocity_mps",
                        format!("{} {} {}", s.velocity_mps.x, s.velocity_mps.y, s.velocity_mps.z),
                    ),
                    ("age_frames", t.age_frames.to_string()),
                    ("hits", t.hits.to_string()),
                ],
            }
            .into_entity(header)
        })
        .collect();
    fg::SceneUpdate { deletions: Vec::new(), entities }.encode_to_vec()
}

/// `foxglove.FrameTransform`: `site` (parent) from `ego` (child).
pub fn ego_transform(ego: &EgoState) -> Vec<u8> {
    let t = ego.site_from_truck.translation.vector;
    let q = ego.site_from_truck.rotation;
    fg::FrameTransform {
        timestamp: Some(timestamp(ego.header.stamp_ns)),
        parent_frame_id: FrameId::Site.to_string(),
        child_frame_id: FrameId::Ego.to_string(),
        translation: vector3(t.x, t.y, t.z),
        rotation: Some(fg::Quaternion { x: q.i, y: q.j, z: q.k, w: q.w }),
    }
    .encode_to_vec()
}

/// The serde name of a value whose serde form is a string (`InputStatus`, `DegradedMode`).
fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        other => format!("{other:?}"),
    }
}

/// `pitsense.HealthReport`.
pub fn health_report(report: &HealthReport) -> Vec<u8> {
    proto::HealthReport {
        stamp_ns: report.stamp_ns,
        mode: report.mode.as_str().to_owned(),
        reason: report.reason.clone(),
        inputs: report
            .inputs
            .iter()
            .map(|(name, input)| proto::InputHealth {
                name: name.clone(),
                status: serde_name(&input.status),
                rate_hz: input.rate_hz,
                age_ms: input.age_ms,
                stamp_offset_ms: input.stamp_offset_ms,
            })
            .collect(),
        late_frames: report.late_frames,
        dropped: report
            .dropped
            .iter()
            .map(|(edge, dropped)| proto::EdgeDrops { edge: edge.clone(), dropped: *dropped })
            .collect(),
    }
    .encode_to_vec()
}

/// `pitsense.EgoState`.
pub fn ego_state(recorded: &RecordedEgo) -> Vec<u8> {
    let ego = &recorded.ego;
    let t = ego.site_from_truck.translation.vector;
    let q = ego.site_from_truck.rotation;
    proto::EgoState {
        stamp_ns: ego.header.stamp_ns,
        seq: ego.header.seq,
        speed_mps: ego.speed_mps,
        yaw_rate_radps: ego.yaw_rate_radps,
        accel_mps2: ego.accel_mps2,
        site_from_truck: Some(proto::Pose {
            x_m: t.x,
            y_m: t.y,
            z_m: t.z,
            qx: q.i,
            qy: q.j,
            qz: q.k,
            qw: q.w,
        }),
        pose_held: recorded.pose_held,
    }
    .encode_to_vec()
}

/// `pitsense.CanFrame`.
pub fn can_frame(frame: &CanFrame) -> Vec<u8> {
    proto::CanFrame {
        stamp_ns: frame.stamp_ns,
        bus: u32::from(frame.bus),
        can_id: frame.can_id,
        extended_id: frame.extended_id,
        data: frame.data.clone(),
    }
    .encode_to_vec()
}

/// `pitsense.V2xRaw`.
pub fn v2x_raw(message: &V2xRaw) -> Vec<u8> {
    proto::V2xRaw { stamp_ns: message.stamp_ns, source: message.source.clone(), data: message.data.clone() }
        .encode_to_vec()
}

/// `pitsense.V2xDecoded`.
pub fn v2x_decoded(message: &V2xDecoded) -> Vec<u8> {
    proto::V2xDecoded {
        stamp_ns: message.stamp_ns,
        message_type: message.message_type.clone(),
        message_json: message.message.to_string(),
    }
    .encode_to_vec()
}

/// Decodes one message of schema `schema_name` written with `message_encoding` (`protobuf`, as
/// [`EpisodeMessage::encode`] writes, or `json`, as episodes before it were written):
/// `Ok(None)` for the channels that are not read back as inputs (`/tf`, `/detections_3d`,
/// `/tracks`, `/v2x/decoded`: outputs of the run that recorded them) and for other schemas.
///
/// # Errors
/// The text of the reason: a message encoding other than these two, bytes that are not the
/// schema's message, a time that does not fit in u64 ns, a frame name that does not parse, a
/// point layout other than the writer's, a rotation that is not a unit quaternion, a mode or
/// status name that is not one.
pub fn decode(
    schema_name: &str,
    message_encoding: &str,
    data: &[u8],
) -> Result<Option<EpisodeMessage>, String> {
    match message_encoding {
        MESSAGE_ENCODING => decode_protobuf(schema_name, data),
        LEGACY_MESSAGE_ENCODING => legacy_json::decode(schema_name, data),
        other => Err(format!("message encoding `{other}` is neither `protobuf` nor `json`")),
    }
}

fn protobuf<T: prost::Message + Default>(data: &[u8]) -> Result<T, String> {
    T::decode(data)
        .map_err(|e| format!("not a {}: {e}", std::any::type_name::<T>().rsplit("::").next().unwrap_or("")))
}

/// ns of a Foxglove timestamp; absent reads as 0.
fn stamp_ns(timestamp: Option<fg::Timestamp>) -> Result<u64, String> {
    let Some(timestamp) = timestamp else { return Ok(0) };
    legacy_json::stamp_ns(u64::from(timestamp.sec()), u64::from(timestamp.nsec()))
}

pub(crate) fn frame(name: &str) -> Result<FrameId, String> {
    name.parse::<FrameId>().map_err(|e| e.to_string())
}

/// Points from the layout [`point_cloud`] writes (x, y, z, intensity, `FLOAT32`, 16 bytes).
///
/// # Errors
/// Another layout, or bytes that are not a whole number of points.
pub(crate) fn unpack_points(
    point_stride: u32,
    fields: impl ExactSizeIterator<Item = (String, u32, i32)>,
    packed: &[u8],
) -> Result<Vec<PointXyzi>, String> {
    let expected = [("x", 0), ("y", 4), ("z", 8), ("intensity", 12)];
    let float32 = fg::packed_element_field::NumericType::Float32 as i32;
    let layout_ok = point_stride == 16
        && fields.len() == expected.len()
        && fields
            .zip(expected)
            .all(|((name, offset, kind), (want, at))| name == want && offset == at && kind == float32);
    if !layout_ok {
        return Err("point layout is not x, y, z, intensity as FLOAT32 with a 16-byte stride".to_owned());
    }
    if !packed.len().is_multiple_of(16) {
        return Err(format!("{} bytes of points is not a whole number of 16-byte points", packed.len()));
    }
    Ok(packed
        .chunks_exact(16)
        .map(|point| {
            let value =
                |at: usize| f32::from_le_bytes([point[at], point[at + 1], point[at + 2], point[at + 3]]);
            PointXyzi { x_m: value(0), y_m: value(4), z_m: value(8), intensity: value(12) }
        })
        .collect())
}

/// The site-from-truck pose of a recorded ego state, kept as recorded (unit to 1e-6), bit for
/// bit: a replay must see the same pose.
///
/// # Errors
/// The rotation is not a unit quaternion (to 1e-6) or not finite.
pub(crate) fn site_from_truck(
    translation_m: [f64; 3],
    rotation_xyzw: [f64; 4],
) -> Result<Isometry3<f64>, String> {
    let [x, y, z] = translation_m;
    let [i, j, k, w] = rotation_xyzw;
    let quaternion = Quaternion::new(w, i, j, k);
    let norm = quaternion.norm();
    if !norm.is_finite() || (norm - 1.0).abs() > 1e-6 {
        return Err(format!("site_from_truck rotation has norm {norm}, not a unit quaternion"));
    }
    Ok(Isometry3::from_parts(Translation3::new(x, y, z), UnitQuaternion::new_unchecked(quaternion)))
}

/// A value of a serde enum from its name (`"stale"`, `"v2x_lost"`).
fn from_serde_name<T: serde::de::DeserializeOwned>(what: &str, name: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| format!("{what} `{name}` is not one"))
}

fn decode_protobuf(schema_name: &str, data: &[u8]) -> Result<Option<EpisodeMessage>, String> {
    let message = match schema_name {
        name if name == POINT_CLOUD.name => {
            let cloud: fg::PointCloud = protobuf(data)?;
            let fields = cloud.fields.into_iter().map(|f| (f.name, f.offset, f.r#type));
            let points = unpack_points(cloud.point_stride, fields, &cloud.data)?;
            let header =
                Header { stamp_ns: stamp_ns(cloud.timestamp)?, frame: frame(&cloud.frame_id)?, seq: 0 };
            EpisodeMessage::PointCloud(PointCloud { header, points })
        }
        name if name == COMPRESSED_IMAGE.name => {
            let image: fg::CompressedImage = protobuf(data)?;
            let header =
                Header { stamp_ns: stamp_ns(image.timestamp)?, frame: frame(&image.frame_id)?, seq: 0 };
            EpisodeMessage::CompressedImage(CompressedImage {
                header,
                format: image.format,
                data: image.data.to_vec(),
            })
        }
        name if name == DETECTIONS_2D.name => detections_2d_message(protobuf(data)?)?,
        name if name == V2X_RAW.name => {
            let raw: proto::V2xRaw = protobuf(data)?;
            EpisodeMessage::V2xRaw(V2xRaw { stamp_ns: raw.stamp_ns, source: raw.source, data: raw.data })
        }
        name if name == CAN_FRAME.name => {
            let can: proto::CanFrame = protobuf(data)?;
            let bus = u8::try_from(can.bus).map_err(|_| format!("bus {} is not 0..=255", can.bus))?;
            EpisodeMessage::Can(CanFrame {
                stamp_ns: can.stamp_ns,
                bus,
                can_id: can.can_id,
                extended_id: can.extended_id,
                data: can.data,
            })
        }
        name if name == HEALTH_REPORT.name => {
            let report: proto::HealthReport = protobuf(data)?;
            let inputs = report
                .inputs
                .into_iter()
                .map(|input| {
                    let health = InputHealth {
                        status: from_serde_name("input status", &input.status)?,
                        rate_hz: input.rate_hz,
                        age_ms: input.age_ms,
                        stamp_offset_ms: input.stamp_offset_ms,
                    };
                    Ok((input.name, health))
                })
                .collect::<Result<_, String>>()?;
            EpisodeMessage::Health(HealthReport {
                stamp_ns: report.stamp_ns,
                mode: from_serde_name("mode", &report.mode)?,
                reason: report.reason,
                inputs,
                late_frames: report.late_frames,
                dropped: report.dropped.into_iter().map(|d| (d.edge, d.dropped)).collect(),
            })
        }
        name if name == EGO_STATE.name => {
            let ego: proto::EgoState = protobuf(data)?;
            let p = ego.site_from_truck.ok_or("an ego state without site_from_truck")?;
            let state = EgoState {
                header: Header { stamp_ns: ego.stamp_ns, frame: FrameId::Site, seq: ego.seq },
                site_from_truck: site_from_truck([p.x_m, p.y_m, p.z_m], [p.qx, p.qy, p.qz, p.qw])?,
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

/// The [`EpisodeMessage::Detections2d`] of a decoded `pitsense.Detections2d` (protobuf, or the
/// JSON of older episodes).
///
/// # Errors
/// Its frame name does not parse.
pub(crate) fn detections_2d_message(message: proto::Detections2d) -> Result<EpisodeMessage, String> {
    let header = Header { stamp_ns: message.stamp_ns, frame: frame(&message.frame_id)?, seq: message.seq };
    let detections = message
        .detections
        .into_iter()
        .map(|d| Detection2d {
            header,
            box_px: BoxPx { x1: d.x1_px, y1: d.y1_px, x2: d.x2_px, y2: d.y2_px },
            class_index: d.class_index,
            class_label: d.class_label,
            score: d.score,
        })
        .collect();
    Ok(EpisodeMessage::Detections2d { header, detections })
}

/// One track as recorded in one `/tracks` message ([`tracks`] writes them).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RecordedTrack {
    /// Its id.
    pub track_id: u64,
    /// Its class label at that frame.
    pub class_label: String,
    /// Whether V2X alone updated it last.
    pub v2x: bool,
    /// The frame of its geometry (`site`, `ego`, `lidar0`, ...).
    pub frame_id: String,
    /// Box centre, m, in `frame_id`.
    pub center_m: pitsense_types::nalgebra::Point3<f64>,
    /// Length, width, height, m.
    pub size_m: pitsense_types::nalgebra::Vector3<f64>,
    /// Heading about the frame's up axis, rad (from the cube's yaw-only quaternion).
    pub yaw_rad: f64,
}

/// One track entity's parts: frame, metadata key-value pairs, the first cube's centre,
/// orientation (z, w of the yaw-only quaternion) and size.
pub(crate) struct TrackEntity {
    pub frame_id: String,
    pub metadata: Vec<(String, String)>,
    pub cube: Option<([f64; 3], [f64; 2], [f64; 3])>,
}

impl TrackEntity {
    /// The recorded track.
    ///
    /// # Errors
    /// No numeric `track_id` in the metadata, or no cube.
    pub(crate) fn into_track(self) -> Result<RecordedTrack, String> {
        let value = |key: &str| self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let track_id = value("track_id")
            .and_then(|id| id.parse::<u64>().ok())
            .ok_or_else(|| "a track entity without a numeric track_id".to_owned())?;
        let class_label = value("class").unwrap_or("unknown").to_owned();
        let v2x = value("source") == Some("v2x");
        let ([x, y, z], [qz, qw], [l, w, h]) =
            self.cube.ok_or_else(|| format!("track {track_id}: no cube"))?;
        Ok(RecordedTrack {
            track_id,
            class_label,
            v2x,
            frame_id: self.frame_id,
            center_m: pitsense_types::nalgebra::Point3::new(x, y, z),
            size_m: pitsense_types::nalgebra::Vector3::new(l, w, h),
            yaw_rad: 2.0 * qz.atan2(qw),
        })
    }
}

/// The tracks of one `/tracks` message in either encoding.
///
/// # Errors
/// Not a `foxglove.SceneUpdate` of tracks in `message_encoding`, or an entity without a
/// numeric `track_id` or a cube.
pub(crate) fn recorded_tracks(message_encoding: &str, data: &[u8]) -> Result<Vec<RecordedTrack>, String> {
    let entities = match message_encoding {
        MESSAGE_ENCODING => {
            let scene: fg::SceneUpdate = protobuf(data)?;
            scene
                .entities
                .into_iter()
                .map(|entity| TrackEntity {
                    frame_id: entity.frame_id,
                    metadata: entity.metadata.into_iter().map(|kv| (kv.key, kv.value)).collect(),
                    cube: entity.cubes.first().map(|cube| {
                        let p = cube.pose.unwrap_or_default();
                        let (c, q, s) = (
                            p.position.unwrap_or_default(),
                            p.orientation.unwrap_or_default(),
                            cube.size.unwrap_or_default(),
                        );
                        ([c.x, c.y, c.z], [q.z, q.w], [s.x, s.y, s.z])
                    }),
                })
                .collect()
        }
        LEGACY_MESSAGE_ENCODING => legacy_json::track_entities(data)?,
        other => return Err(format!("message encoding `{other}` is neither `protobuf` nor `json`")),
    };
    entities.into_iter().map(TrackEntity::into_track).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_has_a_descriptor_set_naming_its_message() {
        for schema in ALL {
            let set = prost_types::FileDescriptorSet::decode(schema.descriptor_set().as_ref())
                .unwrap_or_else(|e| panic!("{}: {e}", schema.name));
            let (package, message) = schema.name.split_once('.').unwrap();
            let found = set.file.iter().any(|file| {
                file.package.as_deref() == Some(package)
                    && file.message_type.iter().any(|m| m.name.as_deref() == Some(message))
            });
            assert!(found, "{}: message not in its descriptor set", schema.name);
        }
    }

    #[test]
    fn timestamps_split_into_seconds_and_nanoseconds() {
        let t = timestamp(1_795_946_400_123_456_789);
        assert_eq!((t.sec(), t.nsec()), (1_795_946_400, 123_456_789));
        assert_eq!(stamp_ns(Some(t)), Ok(1_795_946_400_123_456_789));
    }

    #[test]
    fn an_unknown_message_encoding_is_named() {
        let error = decode(CAN_FRAME.name, "cdr", &[]).unwrap_err();
        assert!(error.contains("`cdr`"), "{error}");
    }
}
