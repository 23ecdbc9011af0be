//! Serde views of decoded messages in SI units, for `pitsense v2x decode` and logs.
//!
//! One [`MessageView`] per frame serialises to one flat JSON object: where the frame was,
//! `message_type`, `message_id`, the envelope's security, then the message's fields in SI
//! units (degrees for latitude/longitude, metres, m/s, radians, milliseconds, seconds).
//! Headings and orientations are radians clockwise from true north, as J2735 sends them.
//! Values the message marks unavailable are `null`.

use serde::Serialize;

use crate::decode::{DecodeReport, EnvelopeReport};
use crate::ieee1609dot2::Truncation;
use crate::j2735::common::{DDateTime, PositionalAccuracy, TemporaryId};
use crate::j2735::map::{IntersectionGeometry, MapData, NodeListXY, NodeOffsetPointXY};
use crate::j2735::sdsm::{DetectedObjectData, DetectedObjectOptionalData, SensorDataSharingMessage};
use crate::j2735::spat::Spat;
use crate::j2735::{J2735Message, bsm::BasicSafetyMessage, message_id, psm::PersonalSafetyMessage};

/// One frame of a [`DecodeReport`], ready to serialise.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MessageView {
    /// Offset of the frame in the frame octets (after hex decoding and unwrapping), bytes.
    pub offset_bytes: usize,
    /// Octets of the frame, bytes.
    pub length_bytes: usize,
    /// The standard: always `j2735` here (CSAE frames have [`crate::csae::view::CsaeMessageView`]).
    pub standard: &'static str,
    /// The edition of the types: `2024` (SAE J2735 2024, J3224 2024).
    pub edition: &'static str,
    /// `BSM`, `MAP`, `SPAT`, `PSM`, `SDSM`, or `unsupported`.
    pub message_type: &'static str,
    /// The frame's `messageId`.
    pub message_id: u16,
    /// The IEEE 1609.2 envelope's security (`unsecured`, `signed_not_verified`), or `null`
    /// for a bare frame.
    pub security: Option<crate::ieee1609dot2::Security>,
    /// Set when the 1609.2 envelope was cut short: the frame was still complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope_truncated: Option<Truncation>,
    /// Why the message's value did not decode (the other fields are then absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The message's fields.
    #[serde(flatten)]
    pub body: Option<MessageBody>,
}

/// The fields of one message kind.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MessageBody {
    /// A BSM.
    Bsm(BsmView),
    /// A PSM.
    Psm(PsmView),
    /// An SDSM.
    Sdsm(SdsmView),
    /// A SPaT.
    Spat(SpatView),
    /// A MAP.
    Map(MapView),
    /// Any other messageId.
    Unsupported(UnsupportedView),
}

/// A whole capture for the CLI: one [`MessageView`] per frame, then what surrounded them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaptureView {
    /// Whether the input was hex text.
    pub hex_text: bool,
    /// The IEEE 1609.2 envelope, when there was one.
    pub envelope: Option<EnvelopeReport>,
    /// One view per frame, in order.
    pub messages: Vec<MessageView>,
    /// Undecodable octets after the last frame.
    pub trailing: Option<TrailingView>,
}

/// Undecodable octets after the last frame.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrailingView {
    /// Offset in the frame octets, bytes.
    pub offset_bytes: usize,
    /// Count, bytes.
    pub length_bytes: usize,
    /// Why decoding stopped there.
    pub reason: String,
}

impl From<&DecodeReport> for CaptureView {
    fn from(report: &DecodeReport) -> Self {
        Self {
            hex_text: report.hex_text,
            envelope: report.envelope,
            messages: report_views(report),
            trailing: report.trailing.as_ref().map(|trailing| TrailingView {
                offset_bytes: trailing.offset_bytes,
                length_bytes: trailing.length_bytes,
                reason: trailing.reason.clone(),
            }),
        }
    }
}

/// Decodes a capture (raw UPER frames, hex text, or a 1609.2 envelope; see
/// [`crate::decode::decode_input`]) straight to its serialisable view: what
/// `pitsense v2x decode` prints, one `messages` entry per JSON line.
///
/// # Errors
/// As [`crate::decode::decode_input`].
pub fn decode_capture(
    input: &[u8],
    config: &crate::decode::DecodeConfig,
) -> Result<CaptureView, crate::V2xError> {
    crate::decode::decode_input(input, config).map(|report| CaptureView::from(&report))
}

/// A capture of any standard for the CLI: what [`decode_capture_any`] returns.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnyCaptureView {
    /// Whether the input was hex text.
    pub hex_text: bool,
    /// The IEEE 1609.2 envelope (J2735 only), when there was one.
    pub envelope: Option<EnvelopeReport>,
    /// The RSU uplink frame header (CSAE only), when the input was one.
    pub uplink: Option<crate::csae::uplink::UplinkFrame>,
    /// One view per frame, in order; each names its `standard` and `edition`.
    pub messages: Vec<AnyMessageView>,
    /// Undecodable octets after the last frame.
    pub trailing: Option<TrailingView>,
}

/// The view of one frame of any standard (serialised without a tag: both shapes carry
/// `standard`, `edition` and `message_type`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)] // built once per frame for printing
pub enum AnyMessageView {
    /// A J2735 frame.
    J2735(MessageView),
    /// A China CSAE frame (SI fields plus `raw`, the ASN.1 field names and values).
    Csae(crate::csae::view::CsaeMessageView),
    /// An ETSI CAM or CPM.
    Etsi(crate::etsi::EtsiMessageView),
}

impl From<&crate::decode::AnyReport> for AnyCaptureView {
    fn from(report: &crate::decode::AnyReport) -> Self {
        let trailing_view = |trailing: &crate::j2735::TrailingBytes| TrailingView {
            offset_bytes: trailing.offset_bytes,
            length_bytes: trailing.length_bytes,
            reason: trailing.reason.clone(),
        };
        match report {
            crate::decode::AnyReport::J2735(report) => Self {
                hex_text: report.hex_text,
                envelope: report.envelope,
                uplink: None,
                messages: report_views(report).into_iter().map(AnyMessageView::J2735).collect(),
                trailing: report.trailing.as_ref().map(trailing_view),
            },
            crate::decode::AnyReport::Etsi(report) => Self {
                hex_text: report.hex_text,
                envelope: None,
                uplink: None,
                messages: vec![AnyMessageView::Etsi(crate::etsi::EtsiMessageView::new(
                    &report.message,
                    report.length_bytes,
                ))],
                trailing: report.trailing.as_ref().map(trailing_view),
            },
            crate::decode::AnyReport::Csae(report) => Self {
                hex_text: report.hex_text,
                envelope: None,
                uplink: report.uplink.clone(),
                messages: report
                    .frames
                    .iter()
                    .map(|frame| {
                        AnyMessageView::Csae(crate::csae::view::CsaeMessageView::new(
                            frame,
                            report.uplink.as_ref(),
                        ))
                    })
                    .collect(),
                trailing: report.trailing.as_ref().map(trailing_view),
            },
        }
    }
}

/// Decodes a capture of any standard ([`crate::decode::decode_any`]) straight to its view:
/// what `pitsense v2x decode --standard ...` prints.
///
/// # Errors
/// As [`crate::decode::decode_any`].
pub fn decode_capture_any(
    input: &[u8],
    config: &crate::decode::DecodeConfig,
    format: &crate::decode::FormatConfig,
) -> Result<AnyCaptureView, crate::V2xError> {
    crate::decode::decode_any(input, config, format).map(|report| AnyCaptureView::from(&report))
}

/// Views of every frame of a report, in order.
pub fn report_views(report: &DecodeReport) -> Vec<MessageView> {
    report.frames.iter().map(|frame| frame_view(frame, report.envelope.as_ref())).collect()
}

/// The view of one frame.
pub fn frame_view(frame: &crate::j2735::DecodedFrame, envelope: Option<&EnvelopeReport>) -> MessageView {
    let (message_type, body, error) = match &frame.message {
        Ok(message) => (message_type(message), Some(message_body(message)), None),
        Err(error) => {
            (message_id::name(frame.message_id).unwrap_or("unsupported"), None, Some(error.to_string()))
        }
    };
    MessageView {
        offset_bytes: frame.offset_bytes,
        length_bytes: frame.length_bytes,
        standard: "j2735",
        edition: "2024",
        message_type,
        message_id: frame.message_id,
        security: envelope.map(|envelope| envelope.security),
        envelope_truncated: envelope.and_then(|envelope| envelope.truncated),
        error,
        body,
    }
}

/// `BSM`, `MAP`, `SPAT`, `PSM`, `SDSM`, or `unsupported`.
pub fn message_type(message: &J2735Message) -> &'static str {
    match message {
        J2735Message::Bsm(_) => "BSM",
        J2735Message::Map(_) => "MAP",
        J2735Message::Spat(_) => "SPAT",
        J2735Message::Psm(_) => "PSM",
        J2735Message::Sdsm(_) => "SDSM",
        J2735Message::Unsupported { .. } => "unsupported",
    }
}

/// The SI view of a message.
pub fn message_body(message: &J2735Message) -> MessageBody {
    match message {
        J2735Message::Bsm(bsm) => MessageBody::Bsm(BsmView::from(bsm)),
        J2735Message::Psm(psm) => MessageBody::Psm(PsmView::from(psm)),
        J2735Message::Sdsm(sdsm) => MessageBody::Sdsm(SdsmView::from(sdsm)),
        J2735Message::Spat(spat) => MessageBody::Spat(SpatView::from(spat)),
        J2735Message::Map(map) => MessageBody::Map(MapView::from(map)),
        J2735Message::Unsupported { message_id, value } => MessageBody::Unsupported(UnsupportedView {
            note: format!("unsupported message id {message_id}"),
            name: message_id::name(*message_id),
            value_hex: hex(value),
        }),
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

fn temporary_id_hex(id: &TemporaryId) -> String {
    hex(id.0.as_ref())
}

fn bits(bits: &rasn::types::BitString) -> String {
    bits.iter().map(|bit| if *bit { '1' } else { '0' }).collect()
}

/// Position error ellipse (`PositionalAccuracy`), one sigma.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct AccuracyView {
    /// Semi-major axis, metres.
    pub semi_major_m: Option<f64>,
    /// Semi-minor axis, metres.
    pub semi_minor_m: Option<f64>,
    /// Semi-major axis orientation, radians clockwise from north.
    pub orientation_rad: Option<f64>,
}

impl From<&PositionalAccuracy> for AccuracyView {
    fn from(accuracy: &PositionalAccuracy) -> Self {
        Self {
            semi_major_m: accuracy.semi_major.metres(),
            semi_minor_m: accuracy.semi_minor.metres(),
            orientation_rad: accuracy.orientation.radians(),
        }
    }
}

/// A BSM's core data (Part II contents are listed by id only).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BsmView {
    /// `msgCnt`.
    pub msg_cnt: u8,
    /// `id` (temporary id), hex.
    pub temporary_id: String,
    /// `secMark`, milliseconds within the UTC minute.
    pub sec_mark_ms: Option<u16>,
    /// Latitude, degrees.
    pub lat_deg: Option<f64>,
    /// Longitude, degrees.
    pub lon_deg: Option<f64>,
    /// Elevation above the WGS-84 ellipsoid, metres.
    pub elevation_m: Option<f64>,
    /// Speed, m/s.
    pub speed_mps: Option<f64>,
    /// Heading, radians clockwise from north.
    pub heading_rad: Option<f64>,
    /// Transmission state (ASN.1 name).
    pub transmission: &'static str,
    /// Longitudinal acceleration, m/s².
    pub accel_long_mps2: Option<f64>,
    /// Lateral acceleration, m/s².
    pub accel_lat_mps2: Option<f64>,
    /// Vertical acceleration, m/s².
    pub accel_vert_mps2: Option<f64>,
    /// Yaw rate, rad/s (J2735 sign).
    pub yaw_rate_radps: f64,
    /// Position accuracy.
    pub accuracy: AccuracyView,
    /// Vehicle width, metres.
    pub width_m: Option<f64>,
    /// Vehicle length, metres.
    pub length_m: Option<f64>,
    /// `wheelBrakes` bits (leftFront, leftRear, rightFront, rightRear, unavailable...).
    pub wheel_brakes: String,
    /// `partII-Id` of each Part II extension present.
    pub part_ii_ids: Vec<u8>,
}

impl From<&BasicSafetyMessage> for BsmView {
    fn from(bsm: &BasicSafetyMessage) -> Self {
        let core = &bsm.core_data;
        Self {
            msg_cnt: core.msg_cnt.0,
            temporary_id: temporary_id_hex(&core.id),
            sec_mark_ms: core.sec_mark.milliseconds(),
            lat_deg: core.lat.degrees(),
            lon_deg: core.long.degrees(),
            elevation_m: core.elev.metres(),
            speed_mps: core.speed.metres_per_second(),
            heading_rad: core.heading.radians(),
            transmission: core.transmission.asn1_name(),
            accel_long_mps2: core.accel_set.long.metres_per_second2(),
            accel_lat_mps2: core.accel_set.lat.metres_per_second2(),
            accel_vert_mps2: core.accel_set.vert.metres_per_second2(),
            yaw_rate_radps: core.accel_set.yaw.radians_per_second(),
            accuracy: AccuracyView::from(&core.accuracy),
            width_m: core.size.width.metres(),
            length_m: core.size.length.metres(),
            wheel_brakes: bits(&core.brakes.wheel_brakes.0),
            part_ii_ids: bsm.part_ii.iter().flatten().map(|extension| extension.part_ii_id.0).collect(),
        }
    }
}

/// A PSM's main fields.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PsmView {
    /// `basicType` (ASN.1 name: `aPEDESTRIAN`...).
    pub basic_type: &'static str,
    /// `msgCnt`.
    pub msg_cnt: u8,
    /// `id`, hex.
    pub temporary_id: String,
    /// `secMark`, milliseconds within the UTC minute.
    pub sec_mark_ms: Option<u16>,
    /// Latitude, degrees.
    pub lat_deg: Option<f64>,
    /// Longitude, degrees.
    pub lon_deg: Option<f64>,
    /// Elevation, metres.
    pub elevation_m: Option<f64>,
    /// Speed, m/s.
    pub speed_mps: Option<f64>,
    /// Heading, radians clockwise from north.
    pub heading_rad: Option<f64>,
    /// Position accuracy.
    pub accuracy: AccuracyView,
}

impl From<&PersonalSafetyMessage> for PsmView {
    fn from(psm: &PersonalSafetyMessage) -> Self {
        Self {
            basic_type: psm.basic_type.asn1_name(),
            msg_cnt: psm.msg_cnt.0,
            temporary_id: temporary_id_hex(&psm.id),
            sec_mark_ms: psm.sec_mark.milliseconds(),
            lat_deg: psm.position.lat.degrees(),
            lon_deg: psm.position.long.degrees(),
            elevation_m: psm.position.elevation.and_then(|elevation| elevation.metres()),
            speed_mps: psm.speed.metres_per_second(),
            heading_rad: psm.heading.radians(),
            accuracy: AccuracyView::from(&psm.accuracy),
        }
    }
}

/// A `DDateTime`, field by field (each `null` when absent or unavailable).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DateTimeView {
    /// Year.
    pub year: Option<u16>,
    /// Month, 1..=12.
    pub month: Option<u8>,
    /// Day of month.
    pub day: Option<u8>,
    /// Hour, 0..=23.
    pub hour: Option<u8>,
    /// Minute, 0..=59.
    pub minute: Option<u8>,
    /// Milliseconds within the minute.
    pub second_ms: Option<u16>,
    /// Time zone offset, minutes.
    pub offset_min: Option<i16>,
}

impl From<&DDateTime> for DateTimeView {
    fn from(time: &DDateTime) -> Self {
        Self {
            year: time.year.map(|year| year.0).filter(|&year| year != 0),
            month: time.month.map(|month| month.0).filter(|&month| month != 0),
            day: time.day.map(|day| day.0).filter(|&day| day != 0),
            hour: time.hour.map(|hour| hour.0).filter(|&hour| hour < 24),
            minute: time.minute.map(|minute| minute.0).filter(|&minute| minute < 60),
            second_ms: time.second.and_then(|second| second.milliseconds()),
            offset_min: time.offset.map(|offset| offset.0),
        }
    }
}

/// An SDSM: the sender's reference position and its detected objects.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SdsmView {
    /// `msgCnt`.
    pub msg_cnt: u8,
    /// `sourceID`, hex.
    pub source_id: String,
    /// `equipmentType` (ASN.1 name: `rsu`, `obu`...).
    pub equipment_type: &'static str,
    /// `sDSMTimeStamp`.
    pub timestamp: DateTimeView,
    /// Reference latitude, degrees.
    pub ref_lat_deg: Option<f64>,
    /// Reference longitude, degrees.
    pub ref_lon_deg: Option<f64>,
    /// Reference elevation, metres.
    pub ref_elevation_m: Option<f64>,
    /// Reference position accuracy.
    pub ref_accuracy: AccuracyView,
    /// Reference elevation confidence (95 % bound), metres.
    pub ref_elevation_confidence_m: Option<f64>,
    /// The detected objects.
    pub objects: Vec<SdsmObjectView>,
}

/// One SDSM detected object, offsets from the reference position.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SdsmObjectView {
    /// `objectID`.
    pub object_id: u16,
    /// `objType` (ASN.1 name: `unknown`, `vehicle`, `vru`, `animal`).
    pub object_type: &'static str,
    /// `objTypeCfd`, percent.
    pub type_confidence_pct: Option<u8>,
    /// `measurementTime`, seconds relative to the time stamp.
    pub measurement_time_offset_s: f64,
    /// `timeConfidence` (ASN.1 name).
    pub time_confidence: &'static str,
    /// East offset, metres.
    pub offset_x_m: f64,
    /// North offset, metres.
    pub offset_y_m: f64,
    /// Up offset, metres.
    pub offset_z_m: Option<f64>,
    /// Horizontal position confidence (95 % bound), metres.
    pub position_confidence_m: Option<f64>,
    /// Elevation confidence (95 % bound), metres.
    pub elevation_confidence_m: Option<f64>,
    /// Speed, m/s.
    pub speed_mps: Option<f64>,
    /// Speed confidence (95 % bound), m/s.
    pub speed_confidence_mps: Option<f64>,
    /// Heading, radians clockwise from north.
    pub heading_rad: Option<f64>,
    /// Heading confidence (95 % bound), radians.
    pub heading_confidence_rad: Option<f64>,
    /// Length, metres (vehicle or obstacle data).
    pub length_m: Option<f64>,
    /// Width, metres.
    pub width_m: Option<f64>,
    /// Height, metres.
    pub height_m: Option<f64>,
    /// Which optional data the object carried: `vehicle`, `vru`, `obstacle`, or `null`.
    pub optional_data: Option<&'static str>,
}

impl From<&DetectedObjectData> for SdsmObjectView {
    fn from(object: &DetectedObjectData) -> Self {
        let common = &object.det_obj_common;
        let (length_m, width_m, height_m) = object_size_m(object);
        Self {
            object_id: common.object_id.0,
            object_type: common.obj_type.asn1_name(),
            type_confidence_pct: common.obj_type_cfd.percent(),
            measurement_time_offset_s: common.measurement_time.seconds(),
            time_confidence: common.time_confidence.asn1_name(),
            offset_x_m: common.pos.offset_x.metres(),
            offset_y_m: common.pos.offset_y.metres(),
            offset_z_m: common.pos.offset_z.map(|offset| offset.metres()),
            position_confidence_m: common.pos_confidence.pos.bound_metres(),
            elevation_confidence_m: common.pos_confidence.elevation.bound_metres(),
            speed_mps: common.speed.metres_per_second(),
            speed_confidence_mps: common.speed_confidence.bound_mps(),
            heading_rad: common.heading.radians(),
            heading_confidence_rad: common.heading_conf.bound_rad(),
            length_m,
            width_m,
            height_m,
            optional_data: object.det_obj_opt_data.as_ref().map(|data| match data {
                DetectedObjectOptionalData::DetVeh(_) => "vehicle",
                DetectedObjectOptionalData::DetVru(_) => "vru",
                DetectedObjectOptionalData::DetObst(_) => "obstacle",
            }),
        }
    }
}

/// Length, width and height of an SDSM object from its optional vehicle or obstacle data,
/// metres (`None` where not sent).
pub fn object_size_m(object: &DetectedObjectData) -> (Option<f64>, Option<f64>, Option<f64>) {
    match &object.det_obj_opt_data {
        Some(DetectedObjectOptionalData::DetVeh(vehicle)) => (
            vehicle.size.as_ref().and_then(|size| size.length.metres()),
            vehicle.size.as_ref().and_then(|size| size.width.metres()),
            vehicle.height.and_then(|height| height.metres()),
        ),
        Some(DetectedObjectOptionalData::DetObst(obstacle)) => (
            obstacle.obst_size.length.metres(),
            obstacle.obst_size.width.metres(),
            obstacle.obst_size.height.and_then(|height| height.metres()),
        ),
        _ => (None, None, None),
    }
}

impl From<&SensorDataSharingMessage> for SdsmView {
    fn from(sdsm: &SensorDataSharingMessage) -> Self {
        Self {
            msg_cnt: sdsm.msg_cnt.0,
            source_id: temporary_id_hex(&sdsm.source_id),
            equipment_type: sdsm.equipment_type.asn1_name(),
            timestamp: DateTimeView::from(&sdsm.sdsm_time_stamp),
            ref_lat_deg: sdsm.ref_pos.lat.degrees(),
            ref_lon_deg: sdsm.ref_pos.long.degrees(),
            ref_elevation_m: sdsm.ref_pos.elevation.and_then(|elevation| elevation.metres()),
            ref_accuracy: AccuracyView::from(&sdsm.ref_pos_xy_conf),
            ref_elevation_confidence_m: sdsm.ref_pos_el_conf.and_then(|confidence| confidence.bound_metres()),
            objects: sdsm.objects.0.iter().map(SdsmObjectView::from).collect(),
        }
    }
}

/// A SPaT: per intersection, per signal group, the movement events.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpatView {
    /// `timeStamp`, minutes of the UTC year.
    pub moy_min: Option<u32>,
    /// The intersections.
    pub intersections: Vec<SpatIntersectionView>,
}

/// One `IntersectionState`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpatIntersectionView {
    /// `id.id`.
    pub intersection_id: u16,
    /// `id.region`.
    pub region: Option<u16>,
    /// `revision`.
    pub revision: u8,
    /// `status` bits.
    pub status: String,
    /// `moy`, minutes of the UTC year.
    pub moy_min: Option<u32>,
    /// `timeStamp`, milliseconds within the UTC minute.
    pub timestamp_ms: Option<u16>,
    /// The movements.
    pub movements: Vec<SpatMovementView>,
}

/// One `MovementState`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpatMovementView {
    /// `signalGroup`.
    pub signal_group: u8,
    /// The `state-time-speed` events.
    pub events: Vec<SpatEventView>,
}

/// One `MovementEvent`: phase state and timing (seconds within the UTC hour).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpatEventView {
    /// `eventState` (ASN.1 name).
    pub event_state: &'static str,
    /// `timing.startTime`, seconds within the hour.
    pub start_time_s: Option<f64>,
    /// `timing.minEndTime`, seconds within the hour.
    pub min_end_time_s: Option<f64>,
    /// `timing.maxEndTime`, seconds within the hour.
    pub max_end_time_s: Option<f64>,
    /// `timing.likelyTime`, seconds within the hour.
    pub likely_time_s: Option<f64>,
}

impl From<&Spat> for SpatView {
    fn from(spat: &Spat) -> Self {
        Self {
            moy_min: spat.time_stamp.and_then(|moy| moy.minutes()),
            intersections: spat
                .intersections
                .0
                .iter()
                .map(|intersection| SpatIntersectionView {
                    intersection_id: intersection.id.id.0,
                    region: intersection.id.region.map(|region| region.0),
                    revision: intersection.revision.0,
                    status: bits(&intersection.status.0),
                    moy_min: intersection.moy.and_then(|moy| moy.minutes()),
                    timestamp_ms: intersection.time_stamp.and_then(|stamp| stamp.milliseconds()),
                    movements: intersection
                        .states
                        .0
                        .iter()
                        .map(|movement| SpatMovementView {
                            signal_group: movement.signal_group.0,
                            events: movement
                                .state_time_speed
                                .0
                                .iter()
                                .map(|event| {
                                    let timing = event.timing.as_ref();
                                    SpatEventView {
                                        event_state: event.event_state.asn1_name(),
                                        start_time_s: timing
                                            .and_then(|timing| timing.start_time)
                                            .and_then(|mark| mark.seconds_in_hour()),
                                        min_end_time_s: timing
                                            .and_then(|timing| timing.min_end_time.seconds_in_hour()),
                                        max_end_time_s: timing
                                            .and_then(|timing| timing.max_end_time)
                                            .and_then(|mark| mark.seconds_in_hour()),
                                        likely_time_s: timing
                                            .and_then(|timing| timing.likely_time)
                                            .and_then(|mark| mark.seconds_in_hour()),
                                    }
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// A MAP: intersections with their lanes (road segments are counted only).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MapView {
    /// `msgIssueRevision`.
    pub msg_issue_revision: u8,
    /// `layerType` (ASN.1 name).
    pub layer_type: Option<&'static str>,
    /// `layerID`.
    pub layer_id: Option<u8>,
    /// The intersections.
    pub intersections: Vec<MapIntersectionView>,
    /// Number of road segments (not expanded).
    pub road_segment_count: usize,
}

/// One `IntersectionGeometry`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MapIntersectionView {
    /// `id.id`.
    pub intersection_id: u16,
    /// `id.region`.
    pub region: Option<u16>,
    /// `revision`.
    pub revision: u8,
    /// Reference point latitude, degrees.
    pub ref_lat_deg: Option<f64>,
    /// Reference point longitude, degrees.
    pub ref_lon_deg: Option<f64>,
    /// Reference point elevation, metres.
    pub ref_elevation_m: Option<f64>,
    /// `laneWidth`, metres.
    pub lane_width_m: Option<f64>,
    /// The lanes.
    pub lanes: Vec<MapLaneView>,
}

/// One `GenericLane`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MapLaneView {
    /// `laneID`.
    pub lane_id: u8,
    /// `ingressApproach`.
    pub ingress_approach: Option<u8>,
    /// `egressApproach`.
    pub egress_approach: Option<u8>,
    /// `laneAttributes.directionalUse` bits (ingress, egress).
    pub directional_use: String,
    /// Node offsets `[east, north]` in metres, each from the previous node (the first from
    /// the reference point); empty for a computed lane.
    pub node_offsets_m: Vec<[f64; 2]>,
    /// For a computed lane, the reference lane id.
    pub computed_from_lane: Option<u8>,
    /// `connectsTo` lane ids.
    pub connects_to_lanes: Vec<u8>,
}

/// Unsupported messageId: the raw value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnsupportedView {
    /// `unsupported message id N`.
    pub note: String,
    /// The message's short name when known (`SRM`, `TIM`...).
    pub name: Option<&'static str>,
    /// The value's octets, hex.
    pub value_hex: String,
}

fn node_offset_m(delta: &NodeOffsetPointXY) -> Option<[f64; 2]> {
    Some(match delta {
        NodeOffsetPointXY::NodeXy1(node) => [node.x.metres(), node.y.metres()],
        NodeOffsetPointXY::NodeXy2(node) => [node.x.metres(), node.y.metres()],
        NodeOffsetPointXY::NodeXy3(node) => [node.x.metres(), node.y.metres()],
        NodeOffsetPointXY::NodeXy4(node) => [node.x.metres(), node.y.metres()],
        NodeOffsetPointXY::NodeXy5(node) => [node.x.metres(), node.y.metres()],
        NodeOffsetPointXY::NodeXy6(node) => [node.x.metres(), node.y.metres()],
        NodeOffsetPointXY::NodeLatLon(_) | NodeOffsetPointXY::Regional(_) => return None,
    })
}

fn intersection_view(intersection: &IntersectionGeometry) -> MapIntersectionView {
    MapIntersectionView {
        intersection_id: intersection.id.id.0,
        region: intersection.id.region.map(|region| region.0),
        revision: intersection.revision.0,
        ref_lat_deg: intersection.ref_point.lat.degrees(),
        ref_lon_deg: intersection.ref_point.long.degrees(),
        ref_elevation_m: intersection.ref_point.elevation.and_then(|elevation| elevation.metres()),
        lane_width_m: intersection.lane_width.map(|width| f64::from(width.0) * 0.01),
        lanes: intersection
            .lane_set
            .0
            .iter()
            .map(|lane| {
                let (node_offsets_m, computed_from_lane) = match &lane.node_list {
                    NodeListXY::Nodes(nodes) => {
                        (nodes.0.iter().filter_map(|node| node_offset_m(&node.delta)).collect(), None)
                    }
                    NodeListXY::Computed(computed) => (Vec::new(), Some(computed.reference_lane_id.0)),
                };
                MapLaneView {
                    lane_id: lane.lane_id.0,
                    ingress_approach: lane.ingress_approach.map(|approach| approach.0),
                    egress_approach: lane.egress_approach.map(|approach| approach.0),
                    directional_use: bits(&lane.lane_attributes.directional_use.0),
                    node_offsets_m,
                    computed_from_lane,
                    connects_to_lanes: lane
                        .connects_to
                        .iter()
                        .flat_map(|list| list.0.iter())
                        .map(|connection| connection.connecting_lane.lane.0)
                        .collect(),
                }
            })
            .collect(),
    }
}

impl From<&MapData> for MapView {
    fn from(map: &MapData) -> Self {
        Self {
            msg_issue_revision: map.msg_issue_revision.0,
            layer_type: map.layer_type.map(|layer| layer.asn1_name()),
            layer_id: map.layer_id.map(|layer| layer.0),
            intersections: map
                .intersections
                .iter()
                .flat_map(|list| list.0.iter())
                .map(intersection_view)
                .collect(),
            road_segment_count: map.road_segments.as_ref().map_or(0, |list| list.0.len()),
        }
    }
}
