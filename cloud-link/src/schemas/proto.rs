//! pitsense's own channel messages in protobuf (package `pitsense`, proto3), and the
//! `FileDescriptorSet` that MCAP's `protobuf` schema encoding carries for them.
//!
//! The messages are written by hand with `prost`'s derive (no code generator in the build); the
//! descriptor set is built from the same field list ([`descriptor_set`]), so a reader with only
//! the file (Foxglove, Rerun, `mcap-protobuf-support` in Python) decodes them. The test
//! `cloud-link/tests/episode.rs` decodes every channel with the Python `protobuf` runtime from
//! the descriptor in the file, which checks that the two agree.
//!
//! Times are `uint64` ns on the truck clock (as everywhere in pitsense), not
//! `google.protobuf.Timestamp`: the descriptor set then needs no imported file. In the `.proto`
//! language the file reads:
//!
//! ```proto
//! syntax = "proto3";
//! package pitsense;
//! message Detection2d { float x1_px = 1; float y1_px = 2; float x2_px = 3; float y2_px = 4;
//!                       uint32 class_index = 5; string class_label = 6; float score = 7; }
//! message Detections2d { uint64 stamp_ns = 1; string frame_id = 2; uint64 seq = 3;
//!                        repeated Detection2d detections = 4; }
//! message CanFrame { uint64 stamp_ns = 1; uint32 bus = 2; uint32 can_id = 3; bool extended_id = 4;
//!                    bytes data = 5; }
//! message V2xRaw { uint64 stamp_ns = 1; string source = 2; bytes data = 3; }
//! message V2xDecoded { uint64 stamp_ns = 1; string message_type = 2; string message_json = 3; }
//! message Pose { double x_m = 1; double y_m = 2; double z_m = 3;
//!                double qx = 4; double qy = 5; double qz = 6; double qw = 7; }
//! message EgoState { uint64 stamp_ns = 1; uint64 seq = 2; double speed_mps = 3;
//!                    double yaw_rate_radps = 4; double accel_mps2 = 5; Pose site_from_truck = 6;
//!                    bool pose_held = 7; }
//! message InputHealth { string name = 1; string status = 2; double rate_hz = 3;
//!                       optional double age_ms = 4; optional double stamp_offset_ms = 5; }
//! message EdgeDrops { string edge = 1; uint64 dropped = 2; }
//! message HealthReport { uint64 stamp_ns = 1; string mode = 2; string reason = 3;
//!                        repeated InputHealth inputs = 4; uint64 late_frames = 5;
//!                        repeated EdgeDrops dropped = 6; }
//! ```

use prost::Message as _;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{
    DescriptorProto, FieldDescriptorProto, FileDescriptorProto, FileDescriptorSet, OneofDescriptorProto,
};

/// One camera detection, pixels in the image (`pitsense.Detection2d`).
#[derive(Clone, PartialEq, prost::Message, serde::Deserialize)]
pub struct Detection2d {
    /// Left edge, px.
    #[prost(float, tag = "1")]
    pub x1_px: f32,
    /// Top edge, px.
    #[prost(float, tag = "2")]
    pub y1_px: f32,
    /// Right edge, px.
    #[prost(float, tag = "3")]
    pub x2_px: f32,
    /// Bottom edge, px.
    #[prost(float, tag = "4")]
    pub y2_px: f32,
    /// The model's class index.
    #[prost(uint32, tag = "5")]
    pub class_index: u32,
    /// The class name.
    #[prost(string, tag = "6")]
    pub class_label: String,
    /// Confidence, 0..1.
    #[prost(float, tag = "7")]
    pub score: f32,
}

/// The camera detector's boxes for one image (`pitsense.Detections2d`). Also the JSON form of
/// episodes recorded before protobuf (same field names), hence `Deserialize`.
#[derive(Clone, PartialEq, prost::Message, serde::Deserialize)]
pub struct Detections2d {
    /// Capture time of the image, ns.
    #[prost(uint64, tag = "1")]
    pub stamp_ns: u64,
    /// The image frame (`image2`, ...).
    #[prost(string, tag = "2")]
    pub frame_id: String,
    /// The frame's sequence number.
    #[prost(uint64, tag = "3")]
    pub seq: u64,
    /// The boxes.
    #[prost(message, repeated, tag = "4")]
    pub detections: Vec<Detection2d>,
}

/// One raw CAN frame (`pitsense.CanFrame`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct CanFrame {
    /// Reception time, ns.
    #[prost(uint64, tag = "1")]
    pub stamp_ns: u64,
    /// The bus index on the truck (0..=255).
    #[prost(uint32, tag = "2")]
    pub bus: u32,
    /// The identifier (11 or 29 bits).
    #[prost(uint32, tag = "3")]
    pub can_id: u32,
    /// Whether `can_id` is a 29-bit identifier.
    #[prost(bool, tag = "4")]
    pub extended_id: bool,
    /// The payload.
    #[prost(bytes = "vec", tag = "5")]
    pub data: Vec<u8>,
}

/// One V2X message as received (`pitsense.V2xRaw`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct V2xRaw {
    /// Reception time, ns.
    #[prost(uint64, tag = "1")]
    pub stamp_ns: u64,
    /// Where it came from (`rsu:10.0.0.7:4321`, ...).
    #[prost(string, tag = "2")]
    pub source: String,
    /// The bytes as received (UPER MessageFrame or IEEE 1609.2 envelope).
    #[prost(bytes = "vec", tag = "3")]
    pub data: Vec<u8>,
}

/// One decoded V2X message (`pitsense.V2xDecoded`): the decoder's JSON form as text (the
/// message sets of J2735, ETSI and CSAE are not restated as protobuf).
#[derive(Clone, PartialEq, prost::Message)]
pub struct V2xDecoded {
    /// Reception time, ns.
    #[prost(uint64, tag = "1")]
    pub stamp_ns: u64,
    /// `BSM`, `SDSM`, `CPM`, `RSM`, ...
    #[prost(string, tag = "2")]
    pub message_type: String,
    /// The decoded message, JSON text.
    #[prost(string, tag = "3")]
    pub message_json: String,
}

/// A rigid transform: translation in metres, rotation as a unit quaternion (`pitsense.Pose`).
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Pose {
    /// Translation x, m.
    #[prost(double, tag = "1")]
    pub x_m: f64,
    /// Translation y, m.
    #[prost(double, tag = "2")]
    pub y_m: f64,
    /// Translation z, m.
    #[prost(double, tag = "3")]
    pub z_m: f64,
    /// Quaternion x.
    #[prost(double, tag = "4")]
    pub qx: f64,
    /// Quaternion y.
    #[prost(double, tag = "5")]
    pub qy: f64,
    /// Quaternion z.
    #[prost(double, tag = "6")]
    pub qz: f64,
    /// Quaternion w.
    #[prost(double, tag = "7")]
    pub qw: f64,
}

/// The truck's motion and pose (`pitsense.EgoState`).
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct EgoState {
    /// Time of the state, ns.
    #[prost(uint64, tag = "1")]
    pub stamp_ns: u64,
    /// Sequence number.
    #[prost(uint64, tag = "2")]
    pub seq: u64,
    /// Speed over ground, m/s.
    #[prost(double, tag = "3")]
    pub speed_mps: f64,
    /// Yaw rate, rad/s (counter-clockwise positive).
    #[prost(double, tag = "4")]
    pub yaw_rate_radps: f64,
    /// Longitudinal acceleration, m/s².
    #[prost(double, tag = "5")]
    pub accel_mps2: f64,
    /// The truck frame in the site frame.
    #[prost(message, optional, tag = "6")]
    pub site_from_truck: Option<Pose>,
    /// Whether the pose is held from an earlier fix (GNSS gap) rather than measured.
    #[prost(bool, tag = "7")]
    pub pose_held: bool,
}

/// The health of one input (`pitsense.InputHealth`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct InputHealth {
    /// The input's name (`lidar0`, `v2x`, ...).
    #[prost(string, tag = "1")]
    pub name: String,
    /// `ok`, `not_received`, `rate_low`, `stale` or `failed`.
    #[prost(string, tag = "2")]
    pub status: String,
    /// Measured message rate, Hz.
    #[prost(double, tag = "3")]
    pub rate_hz: f64,
    /// Time since the newest message, ms; absent when nothing was received.
    #[prost(double, optional, tag = "4")]
    pub age_ms: Option<f64>,
    /// Newest sensor stamp minus the clock, ms; absent when unchecked.
    #[prost(double, optional, tag = "5")]
    pub stamp_offset_ms: Option<f64>,
}

/// Messages one bounded edge dropped (`pitsense.EdgeDrops`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct EdgeDrops {
    /// The edge (`lidar->fusion`, ...).
    #[prost(string, tag = "1")]
    pub edge: String,
    /// Dropped since start-up.
    #[prost(uint64, tag = "2")]
    pub dropped: u64,
}

/// The runtime's health at a change of operating mode (`pitsense.HealthReport`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct HealthReport {
    /// When the report was made, ns on the truck clock.
    #[prost(uint64, tag = "1")]
    pub stamp_ns: u64,
    /// `nominal`, `lidar_lost`, `camera_lost`, `v2x_lost`, `ego_pose_lost` or
    /// `perception_unavailable`.
    #[prost(string, tag = "2")]
    pub mode: String,
    /// Why, for people (empty when nominal).
    #[prost(string, tag = "3")]
    pub reason: String,
    /// Per-input health, sorted by name.
    #[prost(message, repeated, tag = "4")]
    pub inputs: Vec<InputHealth>,
    /// Frames finished after their deadline since start-up.
    #[prost(uint64, tag = "5")]
    pub late_frames: u64,
    /// Drops per edge since start-up, sorted by edge.
    #[prost(message, repeated, tag = "6")]
    pub dropped: Vec<EdgeDrops>,
}

/// A scalar field of proto3 (`optional` adds presence, as `protoc` describes it: a synthetic
/// one-of per optional field).
fn scalar(name: &str, number: i32, kind: Type) -> FieldDescriptorProto {
    FieldDescriptorProto {
        name: Some(name.to_owned()),
        number: Some(number),
        label: Some(Label::Optional as i32),
        r#type: Some(kind as i32),
        json_name: Some(json_name(name)),
        ..Default::default()
    }
}

/// A message-typed field (`repeated` or singular) referring to `pitsense.<type_name>`.
fn message(name: &str, number: i32, type_name: &str, repeated: bool) -> FieldDescriptorProto {
    FieldDescriptorProto {
        label: Some(if repeated { Label::Repeated } else { Label::Optional } as i32),
        type_name: Some(format!(".pitsense.{type_name}")),
        ..scalar(name, number, Type::Message)
    }
}

/// `lowerCamelCase` of a `snake_case` field name, as `protoc` fills `json_name`.
fn json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn descriptor(name: &str, fields: Vec<FieldDescriptorProto>) -> DescriptorProto {
    DescriptorProto { name: Some(name.to_owned()), field: fields, ..Default::default() }
}

/// Marks `fields` of `message` as proto3 `optional` (each in its own synthetic one-of `_name`).
fn with_optional(mut message: DescriptorProto, fields: &[&str]) -> DescriptorProto {
    for name in fields {
        let index = i32::try_from(message.oneof_decl.len()).unwrap_or(i32::MAX);
        message.oneof_decl.push(OneofDescriptorProto { name: Some(format!("_{name}")), options: None });
        if let Some(field) = message.field.iter_mut().find(|f| f.name.as_deref() == Some(name)) {
            field.proto3_optional = Some(true);
            field.oneof_index = Some(index);
        }
    }
    message
}

/// The serialized `FileDescriptorSet` of `pitsense.proto` (one file, no imports): the schema
/// data of every `pitsense.*` channel (MCAP `protobuf` schema encoding, the schema name picking
/// the message).
pub fn descriptor_set() -> Vec<u8> {
    use Type::{Bool, Bytes, Double, Float, String as Text, Uint32, Uint64};
    let messages = vec![
        descriptor(
            "Detection2d",
            vec![
                scalar("x1_px", 1, Float),
                scalar("y1_px", 2, Float),
                scalar("x2_px", 3, Float),
                scalar("y2_px", 4, Float),
                scalar("class_index", 5, Uint32),
                scalar("class_label", 6, Text),
                scalar("score", 7, Float),
            ],
        ),
        descriptor(
            "Detections2d",
            vec![
                scalar("stamp_ns", 1, Uint64),
                scalar("frame_id", 2, Text),
                scalar("seq", 3, Uint64),
                message("detections", 4, "Detection2d", true),
            ],
        ),
        descriptor(
            "CanFrame",
            vec![
                scalar("stamp_ns", 1, Uint64),
                scalar("bus", 2, Uint32),
                scalar("can_id", 3, Uint32),
                scalar("extended_id", 4, Bool),
                scalar("data", 5, Bytes),
            ],
        ),
        descriptor(
            "V2xRaw",
            vec![scalar("stamp_ns", 1, Uint64), scalar("source", 2, Text), scalar("data", 3, Bytes)],
        ),
        descriptor(
            "V2xDecoded",
            vec![
                scalar("stamp_ns", 1, Uint64),
                scalar("message_type", 2, Text),
                scalar("message_json", 3, Text),
            ],
        ),
        descriptor(
            "Pose",
            vec![
                scalar("x_m", 1, Double),
                scalar("y_m", 2, Double),
                scalar("z_m", 3, Double),
                scalar("qx", 4, Double),
                scalar("qy", 5, Double),
                scalar("qz", 6, Double),
                scalar("qw", 7, Double),
            ],
        ),
        descriptor(
            "EgoState",
            vec![
                scalar("stamp_ns", 1, Uint64),
                scalar("seq", 2, Uint64),
                scalar("speed_mps", 3, Double),
                scalar("yaw_rate_radps", 4, Double),
                scalar("accel_mps2", 5, Double),
                message("site_from_truck", 6, "Pose", false),
                scalar("pose_held", 7, Bool),
            ],
        ),
        with_optional(
            descriptor(
                "InputHealth",
                vec![
                    scalar("name", 1, Text),
                    scalar("status", 2, Text),
                    scalar("rate_hz", 3, Double),
                    scalar("age_ms", 4, Double),
                    scalar("stamp_offset_ms", 5, Double),
                ],
            ),
            &["age_ms", "stamp_offset_ms"],
        ),
        descriptor("EdgeDrops", vec![scalar("edge", 1, Text), scalar("dropped", 2, Uint64)]),
        descriptor(
            "HealthReport",
            vec![
                scalar("stamp_ns", 1, Uint64),
                scalar("mode", 2, Text),
                scalar("reason", 3, Text),
                message("inputs", 4, "InputHealth", true),
                scalar("late_frames", 5, Uint64),
                message("dropped", 6, "EdgeDrops", true),
            ],
        ),
    ];
    FileDescriptorSet {
        file: vec![FileDescriptorProto {
            name: Some("pitsense.proto".to_owned()),
            package: Some("pitsense".to_owned()),
            message_type: messages,
            syntax: Some("proto3".to_owned()),
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_names_are_lower_camel_case_as_protoc_writes_them() {
        assert_eq!(json_name("stamp_ns"), "stampNs");
        assert_eq!(json_name("x1_px"), "x1Px");
        assert_eq!(json_name("seq"), "seq");
    }

    #[test]
    fn the_descriptor_set_decodes_and_optional_fields_have_their_one_ofs() {
        let set = FileDescriptorSet::decode(descriptor_set().as_slice()).unwrap();
        let file = &set.file[0];
        assert_eq!(file.package.as_deref(), Some("pitsense"));
        let input = file.message_type.iter().find(|m| m.name.as_deref() == Some("InputHealth")).unwrap();
        let age = input.field.iter().find(|f| f.name.as_deref() == Some("age_ms")).unwrap();
        assert_eq!((age.proto3_optional, age.oneof_index), (Some(true), Some(0)));
        assert_eq!(input.oneof_decl[1].name.as_deref(), Some("_stamp_offset_ms"));
        // Every field number of the prost structs and the descriptor agree: an InputHealth
        // with all fields set encodes to tags 1..=5 in order.
        let encoded = InputHealth {
            name: "v".into(),
            status: "ok".into(),
            rate_hz: 1.0,
            age_ms: Some(0.0),
            stamp_offset_ms: Some(0.0),
        }
        .encode_to_vec();
        // Keys: (1<<3)|2, (2<<3)|2, (3<<3)|1, (4<<3)|1, (5<<3)|1.
        let keys: Vec<u8> = vec![encoded[0], encoded[3], encoded[7], encoded[16], encoded[25]];
        assert_eq!(keys, vec![0x0A, 0x12, 0x19, 0x21, 0x29]);
    }
}
