//! CSAE messages in SI units, edition-independent: the plain structs the JSON views and the
//! measurement builder share. Unit definitions are the CSAE modules' (see [`super`]); values the
//! standard marks unavailable become `None`.
//!
//! Object positions (RSM participants, SSM participants and obstacles) are resolved to WGS-84
//! by the `PositionOffsetLLV` CHOICE the sender chose, never by the size of the numbers:
//! `position-LL1`..`position-LL6` are latitude/longitude offsets (1e-7 degree) from the
//! message's reference position, `position-LatLon` is an absolute position; `offsetV`
//! `offset1`..`offset6` is an elevation offset (0.1 m) from the reference, `elevation` an
//! absolute elevation, and without `offsetV` the reference elevation is used.

use rasn::types::Enumerated;
use serde::Serialize;

use super::CsaeMessage;
use super::v2019;
#[cfg(feature = "csae-2020")]
use super::{ExtMessage, v2020};

/// A WGS-84 position, `None` where unavailable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct GeoPosition {
    /// Latitude, degrees north.
    pub lat_deg: Option<f64>,
    /// Longitude, degrees east.
    pub lon_deg: Option<f64>,
    /// Elevation above the WGS-84 ellipsoid, metres.
    pub elevation_m: Option<f64>,
}

/// `Latitude` (1e-7 degree; 900000001 unavailable) in degrees.
pub fn lat_deg(raw: i32) -> Option<f64> {
    (raw != 900_000_001).then(|| f64::from(raw) / 1e7)
}

/// `Longitude` (1e-7 degree; 1800000001 unavailable) in degrees.
pub fn lon_deg(raw: i32) -> Option<f64> {
    (raw != 1_800_000_001).then(|| f64::from(raw) / 1e7)
}

/// `Elevation` (0.1 m; -4096 unknown) in metres.
pub fn elevation_m(raw: i32) -> Option<f64> {
    (raw != -4096).then(|| f64::from(raw) * 0.1)
}

/// `Speed` (0.02 m/s; 8191 unavailable) in m/s.
pub fn speed_mps(raw: u16) -> Option<f64> {
    (raw != 8191).then(|| f64::from(raw) * 0.02)
}

/// `Heading` (0.0125 degree clockwise from north, 0..=28799; 28800 read as unavailable) in
/// radians clockwise from north.
pub fn heading_rad(raw: u16) -> Option<f64> {
    (raw < 28_800).then(|| (f64::from(raw) * 0.0125).to_radians())
}

/// `DSecond` (milliseconds within the minute; 60000.. reserved) in milliseconds.
pub fn sec_mark_ms(raw: u16) -> Option<u16> {
    (raw < 60_000).then_some(raw)
}

/// `VehicleWidth` / `VehicleLength` (0.01 m; 0 read as not sent) in metres.
pub fn centimetres_m(raw: u16) -> Option<f64> {
    (raw != 0).then(|| f64::from(raw) * 0.01)
}

/// `VehicleHeight` (0.05 m; 0 read as not sent) in metres.
pub fn vehicle_height_m(raw: u8) -> Option<f64> {
    (raw != 0).then(|| f64::from(raw) * 0.05)
}

/// SSM `SizeValue` (0.1 m; 0 read as not sent) in metres.
pub fn size_value_m(raw: u16) -> Option<f64> {
    (raw != 0).then(|| f64::from(raw) * 0.1)
}

/// `PositionConfidence` (`a500m` ... `a1cm`, a 95 % bound as in J2735) in metres;
/// `unavailable` gives `None`.
pub fn position_confidence_m(identifier: &str) -> Option<f64> {
    let value = identifier.strip_prefix('a')?;
    if let Some(cm) = value.strip_suffix("cm") {
        return cm.parse::<f64>().ok().map(|cm| cm * 0.01);
    }
    value.strip_suffix('m')?.parse::<f64>().ok()
}

/// A road-side object (RSM participant, SSM participant or obstacle) in SI units, its position
/// resolved to WGS-84.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoadsideObject {
    /// `participant` (RSM/SSM `ParticipantData`) or `obstacle` (SSM `DetectedObstacleData`).
    pub kind: &'static str,
    /// `ptcId` or `obsId`.
    pub object_id: u16,
    /// `ptcType` (`motor`, `non-motor`, `pedestrian`...) or `obsType` identifier.
    pub object_type: &'static str,
    /// `source` (`video`, `lidar`, `microwaveRadar`...).
    pub source: &'static str,
    /// `secMark`, milliseconds within the UTC minute.
    pub sec_mark_ms: Option<u16>,
    /// The `offsetLL` alternative the sender chose (`position-LL1`..`position-LatLon`).
    pub position_choice: &'static str,
    /// The `offsetV` alternative, when sent (`offset1`..`offset6`, `elevation`).
    pub vertical_choice: Option<&'static str>,
    /// The resolved position (reference + offset, or the absolute position).
    pub position: GeoPosition,
    /// `posConfidence.pos` (95 % bound), metres.
    pub position_confidence_m: Option<f64>,
    /// Speed, m/s.
    pub speed_mps: Option<f64>,
    /// Heading, radians clockwise from north.
    pub heading_rad: Option<f64>,
    /// Length, metres.
    pub length_m: Option<f64>,
    /// Width, metres.
    pub width_m: Option<f64>,
    /// Height, metres.
    pub height_m: Option<f64>,
    /// `typeConfidence` / `objTypeConfidence` (0..=200, units of 0.5 %) as a 0..=1 score.
    pub type_confidence: Option<f64>,
}

impl RoadsideObject {
    /// The pitsense class label (`car`/`truck` for motor vehicles by length, `bicycle`,
    /// `person`, `unknown`).
    pub fn class_label(&self, truck_min_length_m: f64) -> &'static str {
        match self.object_type {
            "motor" => match self.length_m {
                Some(length) if length >= truck_min_length_m => "truck",
                _ => "car",
            },
            "non-motor" => "bicycle",
            "pedestrian" => "person",
            "animal-intrusion" => "animal",
            _ => pitsense_types::UNKNOWN_CLASS,
        }
    }
}

/// A CSAE message's contents in SI units.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CsaeSummary {
    /// BSM: the sending vehicle.
    Bsm(BsmSummary),
    /// RSM or SSM: an RSU (or vehicle) and the objects it detected.
    Roadside(RoadsideSummary),
    /// SPAT: signal phases and their timing.
    Spat(SpatSummary),
    /// MAP: nodes, their links, widths, speed limits and points.
    Map(MapSummary),
    /// RSI: road traffic events and signs with their positions.
    Rsi(RsiSummary),
    /// Unsupported phase-two messages: nothing beyond the raw fields.
    Other(OtherSummary),
}

/// A BSM's main fields.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BsmSummary {
    /// `msgCnt`.
    pub msg_cnt: u8,
    /// `id` (temporary vehicle id), hex.
    pub temporary_id: String,
    /// The same `id` as decoded octets (for the measurement layer; not in the JSON view).
    #[serde(skip)]
    pub temporary_id_octets: Vec<u8>,
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
    /// `transmission` identifier.
    pub transmission: &'static str,
    /// Width, metres.
    pub width_m: Option<f64>,
    /// Length, metres.
    pub length_m: Option<f64>,
    /// Height, metres.
    pub height_m: Option<f64>,
}

/// An RSM or SSM: sender, reference position, objects.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoadsideSummary {
    /// `msgCnt`.
    pub msg_cnt: u8,
    /// `id` (RSU or vehicle id), hex.
    pub sender_id: String,
    /// The same `id` as decoded octets (for the measurement layer; not in the JSON view).
    #[serde(skip)]
    pub sender_id_octets: Vec<u8>,
    /// SSM `equipmentType` identifier; `None` for RSM (always an RSU).
    pub equipment_type: Option<&'static str>,
    /// SSM `secMark`, milliseconds within the UTC minute; `None` for RSM (per participant).
    pub sec_mark_ms: Option<u16>,
    /// `refPos` (RSM) or `sensorPos` (SSM).
    pub ref_position: GeoPosition,
    /// Participants, then obstacles.
    pub objects: Vec<RoadsideObject>,
}

/// A SPAT: per intersection, per phase, the light states and their timing.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpatSummary {
    /// `msgCnt`.
    pub msg_cnt: u8,
    /// `moy`, minutes of the UTC year.
    pub moy_min: Option<u32>,
    /// `timeStamp`, milliseconds within the UTC minute.
    pub timestamp_ms: Option<u16>,
    /// The intersections.
    pub intersections: Vec<SpatIntersection>,
}

/// One `IntersectionState`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpatIntersection {
    /// `intersectionId.region`.
    pub region: Option<u16>,
    /// `intersectionId.id`.
    pub node_id: u16,
    /// `moy`, minutes of the UTC year.
    pub moy_min: Option<u32>,
    /// `timeStamp`, milliseconds within the UTC minute.
    pub timestamp_ms: Option<u16>,
    /// The phases.
    pub phases: Vec<SpatPhase>,
}

/// One `Phase`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpatPhase {
    /// `id` (PhaseID).
    pub phase_id: u8,
    /// The `phaseStates`, in order.
    pub states: Vec<SpatPhaseState>,
}

/// One `PhaseState`: the light and its timing. `TimeMark` is 0.1 s (36001 unknown): with
/// `counting` the times count down from now, with `utcTiming` they are within the UTC hour.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpatPhaseState {
    /// `light` identifier (`red`, `permissive-green`, `yellow`...).
    pub light: &'static str,
    /// `counting` or `utcTiming`, `None` without timing.
    pub timing: Option<&'static str>,
    /// `startTime` / `startUTCTime`, seconds.
    pub start_time_s: Option<f64>,
    /// `minEndTime` / `minEndUTCTime`, seconds.
    pub min_end_time_s: Option<f64>,
    /// `maxEndTime` / `maxEndUTCTime`, seconds.
    pub max_end_time_s: Option<f64>,
    /// `likelyEndTime` / `likelyEndUTCTime`, seconds.
    pub likely_end_time_s: Option<f64>,
    /// `nextStartTime` / `nextStartUTCTime`, seconds.
    pub next_start_time_s: Option<f64>,
    /// `nextDuration` (counting) or `nextEndUTCTime` (utcTiming), seconds.
    pub next_duration_or_end_s: Option<f64>,
}

/// `TimeMark` (0.1 s; 36001 unknown) in seconds.
pub fn time_mark_s(raw: u16) -> Option<f64> {
    (raw <= 36_000).then(|| f64::from(raw) * 0.1)
}

/// A MAP: nodes with their incoming links.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MapSummary {
    /// `msgCnt`.
    pub msg_cnt: u8,
    /// `timeStamp`, minutes of the UTC year.
    pub moy_min: Option<u32>,
    /// The nodes (intersections or road ends).
    pub nodes: Vec<MapNode>,
}

/// One `Node`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MapNode {
    /// `id.region`.
    pub region: Option<u16>,
    /// `id.id`.
    pub node_id: u16,
    /// `refPos`.
    pub ref_position: GeoPosition,
    /// `inLinks`.
    pub links: Vec<MapLink>,
}

/// One `Link` entering the node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MapLink {
    /// `upstreamNodeId.region`.
    pub upstream_region: Option<u16>,
    /// `upstreamNodeId.id`.
    pub upstream_node_id: u16,
    /// `linkWidth` (0.01 m), metres.
    pub link_width_m: Option<f64>,
    /// `speedLimits`: (`type` identifier, speed in m/s).
    pub speed_limits: Vec<(&'static str, Option<f64>)>,
    /// `points`, each resolved from the node's `refPos` by its offset CHOICE.
    pub points: Vec<GeoPosition>,
    /// Number of `lanes`.
    pub lane_count: usize,
}

/// An RSI (road-side information): traffic events (`rtes`) and signs (`rtss`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RsiSummary {
    /// `msgCnt`.
    pub msg_cnt: u8,
    /// `moy`, minutes of the UTC year.
    pub moy_min: Option<u32>,
    /// `id` (RSU id), hex.
    pub sender_id: String,
    /// `refPos`.
    pub ref_position: GeoPosition,
    /// `rtes`: road traffic events.
    pub events: Vec<RsiItem>,
    /// `rtss`: road traffic signs.
    pub signs: Vec<RsiItem>,
}

/// One RSI event (`RTEData`) or sign (`RTSData`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RsiItem {
    /// `rteId` / `rtsId`.
    pub item_id: u8,
    /// `eventType` / `signType` (GB/T 29100 / GB 5768 codes).
    pub item_type: u16,
    /// `eventPos` / `signPos` resolved from `refPos` by its offset CHOICE; `None` when not sent.
    pub position: Option<GeoPosition>,
    /// `eventRadius` (0.1 m), metres; signs have none.
    pub radius_m: Option<f64>,
}

/// Messages without an SI summary here.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OtherSummary {
    /// `msgCnt` where the message has one.
    pub msg_cnt: Option<u8>,
}

/// Generates the edition-specific conversions from one generated module set; the 2019 and 2020
/// types share field names, so the same code reads both.
macro_rules! conversions {
    ($module:ident, $name:ident, $spat:ident, $link_width:expr) => {
        mod $name {
            use super::*;
            use $module::def_position::Position3D;
            use $module::def_position_offset::{PositionOffsetLL, PositionOffsetLLV, VerticalOffset};

            pub(super) fn position(position: &Position3D) -> GeoPosition {
                GeoPosition {
                    lat_deg: lat_deg(position.lat.0),
                    lon_deg: lon_deg(position.long.0),
                    elevation_m: position.elevation.as_ref().and_then(|elevation| elevation_m(elevation.0)),
                }
            }

            /// Resolves an offset by its CHOICE: the six offset sizes add to the reference, the
            /// LatLon alternative is absolute.
            pub(super) fn resolve(
                reference: &GeoPosition,
                offset: &PositionOffsetLLV,
            ) -> (GeoPosition, &'static str, Option<&'static str>) {
                let add = |base: Option<f64>, delta: i64| base.map(|base| base + delta as f64 / 1e7);
                let (lat, lon, choice) = match &offset.offset_ll {
                    PositionOffsetLL::position_LL1(p) => (
                        add(reference.lat_deg, p.lat.0.into()),
                        add(reference.lon_deg, p.lon.0.into()),
                        "position-LL1",
                    ),
                    PositionOffsetLL::position_LL2(p) => (
                        add(reference.lat_deg, p.lat.0.into()),
                        add(reference.lon_deg, p.lon.0.into()),
                        "position-LL2",
                    ),
                    PositionOffsetLL::position_LL3(p) => (
                        add(reference.lat_deg, p.lat.0.into()),
                        add(reference.lon_deg, p.lon.0.into()),
                        "position-LL3",
                    ),
                    PositionOffsetLL::position_LL4(p) => (
                        add(reference.lat_deg, p.lat.0.into()),
                        add(reference.lon_deg, p.lon.0.into()),
                        "position-LL4",
                    ),
                    PositionOffsetLL::position_LL5(p) => (
                        add(reference.lat_deg, p.lat.0.into()),
                        add(reference.lon_deg, p.lon.0.into()),
                        "position-LL5",
                    ),
                    PositionOffsetLL::position_LL6(p) => (
                        add(reference.lat_deg, p.lat.0.into()),
                        add(reference.lon_deg, p.lon.0.into()),
                        "position-LL6",
                    ),
                    PositionOffsetLL::position_LatLon(p) => {
                        (lat_deg(p.lat.0), lon_deg(p.lon.0), "position-LatLon")
                    }
                };
                // Each VertOffset-Bnn uses its minimum for "unavailable".
                let vertical = |value: i64, min: i64| {
                    if value == min {
                        None
                    } else {
                        reference.elevation_m.map(|base| base + value as f64 * 0.1)
                    }
                };
                let (elevation, vertical_choice) = match &offset.offset_v {
                    None => (reference.elevation_m, None),
                    Some(VerticalOffset::offset1(v)) => (vertical(v.0.into(), -64), Some("offset1")),
                    Some(VerticalOffset::offset2(v)) => (vertical(v.0.into(), -128), Some("offset2")),
                    Some(VerticalOffset::offset3(v)) => (vertical(v.0.into(), -256), Some("offset3")),
                    Some(VerticalOffset::offset4(v)) => (vertical(v.0.into(), -512), Some("offset4")),
                    Some(VerticalOffset::offset5(v)) => (vertical(v.0.into(), -1024), Some("offset5")),
                    Some(VerticalOffset::offset6(v)) => (vertical(v.0.into(), -2048), Some("offset6")),
                    Some(VerticalOffset::elevation(e)) => (elevation_m(e.0), Some("elevation")),
                };
                (GeoPosition { lat_deg: lat, lon_deg: lon, elevation_m: elevation }, choice, vertical_choice)
            }

            pub(super) fn participant(
                reference: &GeoPosition,
                ptc: &$module::rsm::ParticipantData,
                type_confidence: Option<f64>,
            ) -> RoadsideObject {
                let (position, position_choice, vertical_choice) = resolve(reference, &ptc.pos);
                RoadsideObject {
                    kind: "participant",
                    object_id: ptc.ptc_id,
                    object_type: ptc.ptc_type.identifier(),
                    source: ptc.source.identifier(),
                    sec_mark_ms: sec_mark_ms(ptc.sec_mark.0),
                    position_choice,
                    vertical_choice,
                    position,
                    position_confidence_m: position_confidence_m(ptc.pos_confidence.pos.identifier()),
                    speed_mps: speed_mps(ptc.speed.0),
                    heading_rad: heading_rad(ptc.heading.0),
                    length_m: centimetres_m(ptc.size.length.0),
                    width_m: centimetres_m(ptc.size.width.0),
                    height_m: ptc.size.height.as_ref().and_then(|height| vehicle_height_m(height.0)),
                    type_confidence,
                }
            }

            pub(super) fn bsm(bsm: &$module::bsm::BasicSafetyMessage) -> BsmSummary {
                let position = position(&bsm.pos);
                BsmSummary {
                    msg_cnt: bsm.msg_cnt.0,
                    temporary_id: crate::view::hex(&bsm.id),
                    temporary_id_octets: bsm.id.to_vec(),
                    sec_mark_ms: sec_mark_ms(bsm.sec_mark.0),
                    lat_deg: position.lat_deg,
                    lon_deg: position.lon_deg,
                    elevation_m: position.elevation_m,
                    speed_mps: speed_mps(bsm.speed.0),
                    heading_rad: heading_rad(bsm.heading.0),
                    transmission: bsm.transmission.identifier(),
                    width_m: centimetres_m(bsm.size.width.0),
                    length_m: centimetres_m(bsm.size.length.0),
                    height_m: bsm.size.height.as_ref().and_then(|height| vehicle_height_m(height.0)),
                }
            }

            pub(super) fn rsm(rsm: &$module::rsm::RoadsideSafetyMessage) -> RoadsideSummary {
                let reference = position(&rsm.ref_pos);
                RoadsideSummary {
                    msg_cnt: rsm.msg_cnt.0,
                    sender_id: crate::view::hex(&rsm.id),
                    sender_id_octets: rsm.id.to_vec(),
                    equipment_type: None,
                    sec_mark_ms: None,
                    ref_position: reference,
                    objects: rsm
                        .participants
                        .0
                        .iter()
                        .map(|ptc| participant(&reference, ptc, None))
                        .collect(),
                }
            }

            pub(super) fn spat(spat: &$module::signal_phase_and_timing::SPAT) -> SpatSummary {
                use $module::$spat::TimeChangeDetails;
                let state = |state: &$module::$spat::PhaseState| {
                    let mark = |raw: &$module::def_time::TimeMark| time_mark_s(raw.0);
                    let (timing, times) = match &state.timing {
                        None => (None, [None; 6]),
                        Some(TimeChangeDetails::counting(t)) => (
                            Some("counting"),
                            [
                                mark(&t.start_time),
                                t.min_end_time.as_ref().and_then(mark),
                                t.max_end_time.as_ref().and_then(mark),
                                mark(&t.likely_end_time),
                                t.next_start_time.as_ref().and_then(mark),
                                t.next_duration.as_ref().and_then(mark),
                            ],
                        ),
                        Some(TimeChangeDetails::utcTiming(t)) => (
                            Some("utcTiming"),
                            [
                                mark(&t.start_utctime),
                                t.min_end_utctime.as_ref().and_then(mark),
                                t.max_end_utctime.as_ref().and_then(mark),
                                mark(&t.likely_end_utctime),
                                t.next_start_utctime.as_ref().and_then(mark),
                                t.next_end_utctime.as_ref().and_then(mark),
                            ],
                        ),
                        #[allow(unreachable_patterns)]
                        Some(_) => (None, [None; 6]),
                    };
                    let [start, min_end, max_end, likely_end, next_start, next] = times;
                    SpatPhaseState {
                        light: state.light.identifier(),
                        timing,
                        start_time_s: start,
                        min_end_time_s: min_end,
                        max_end_time_s: max_end,
                        likely_end_time_s: likely_end,
                        next_start_time_s: next_start,
                        next_duration_or_end_s: next,
                    }
                };
                SpatSummary {
                    msg_cnt: spat.msg_cnt.0,
                    moy_min: spat.moy.as_ref().map(|moy| moy.0),
                    timestamp_ms: spat.time_stamp.as_ref().and_then(|stamp| sec_mark_ms(stamp.0)),
                    intersections: spat
                        .intersections
                        .0
                        .iter()
                        .map(|intersection| SpatIntersection {
                            region: intersection.intersection_id.region.as_ref().map(|region| region.0),
                            node_id: intersection.intersection_id.id.0,
                            moy_min: intersection.moy.as_ref().map(|moy| moy.0),
                            timestamp_ms: intersection
                                .time_stamp
                                .as_ref()
                                .and_then(|stamp| sec_mark_ms(stamp.0)),
                            phases: intersection
                                .phases
                                .0
                                .iter()
                                .map(|phase| SpatPhase {
                                    phase_id: phase.id.0,
                                    states: phase.phase_states.0.iter().map(state).collect(),
                                })
                                .collect(),
                        })
                        .collect(),
                }
            }

            pub(super) fn map(map: &$module::map::MapData) -> MapSummary {
                let link_width_cm = $link_width;
                MapSummary {
                    msg_cnt: map.msg_cnt.0,
                    moy_min: map.time_stamp.as_ref().map(|moy| moy.0),
                    nodes: map
                        .nodes
                        .0
                        .iter()
                        .map(|node| {
                            let reference = position(&node.ref_pos);
                            MapNode {
                                region: node.id.region.as_ref().map(|region| region.0),
                                node_id: node.id.id.0,
                                ref_position: reference,
                                links: node
                                    .in_links
                                    .iter()
                                    .flat_map(|links| links.0.iter())
                                    .map(|link| MapLink {
                                        upstream_region: link
                                            .upstream_node_id
                                            .region
                                            .as_ref()
                                            .map(|region| region.0),
                                        upstream_node_id: link.upstream_node_id.id.0,
                                        link_width_m: link_width_cm(link).map(|cm: u16| f64::from(cm) * 0.01),
                                        speed_limits: link
                                            .speed_limits
                                            .iter()
                                            .flat_map(|limits| limits.0.iter())
                                            .map(|limit| {
                                                (limit.r_type.identifier(), speed_mps(limit.speed.0))
                                            })
                                            .collect(),
                                        points: link
                                            .points
                                            .iter()
                                            .flat_map(|points| points.0.iter())
                                            .map(|point| resolve(&reference, &point.pos_offset).0)
                                            .collect(),
                                        lane_count: link.lanes.0.len(),
                                    })
                                    .collect(),
                            }
                        })
                        .collect(),
                }
            }

            pub(super) fn rsi(rsi: &$module::rsi::RoadSideInformation) -> RsiSummary {
                let reference = position(&rsi.ref_pos);
                RsiSummary {
                    msg_cnt: rsi.msg_cnt.0,
                    moy_min: rsi.moy.as_ref().map(|moy| moy.0),
                    sender_id: crate::view::hex(&rsi.id),
                    ref_position: reference,
                    events: rsi
                        .rtes
                        .iter()
                        .flat_map(|list| list.0.iter())
                        .map(|event| RsiItem {
                            item_id: event.rte_id,
                            item_type: event.event_type.0,
                            position: event.event_pos.as_ref().map(|offset| resolve(&reference, offset).0),
                            radius_m: event.event_radius.as_ref().map(|radius| f64::from(radius.0) * 0.1),
                        })
                        .collect(),
                    signs: rsi
                        .rtss
                        .iter()
                        .flat_map(|list| list.0.iter())
                        .map(|sign| RsiItem {
                            item_id: sign.rts_id,
                            item_type: sign.sign_type.0,
                            position: sign.sign_pos.as_ref().map(|offset| resolve(&reference, offset).0),
                            radius_m: None,
                        })
                        .collect(),
                }
            }

            pub(super) fn root(frame: &$module::msg_frame::MessageFrame) -> CsaeSummary {
                use $module::msg_frame::MessageFrame;
                match frame {
                    MessageFrame::bsmFrame(message) => CsaeSummary::Bsm(bsm(message)),
                    MessageFrame::rsmFrame(message) => CsaeSummary::Roadside(rsm(message)),
                    MessageFrame::mapFrame(message) => CsaeSummary::Map(map(message)),
                    MessageFrame::spatFrame(message) => CsaeSummary::Spat(spat(message)),
                    MessageFrame::rsiFrame(message) => CsaeSummary::Rsi(rsi(message)),
                    #[allow(unreachable_patterns)]
                    _ => CsaeSummary::Other(OtherSummary { msg_cnt: None }),
                }
            }
        }
    };
}

conversions!(v2019, from_2019, spatintersection_state, |link: &v2019::map_link::Link| {
    link.link_width.as_ref().map(|width| width.0)
});
// 2020: `Link.linkWidth` is mandatory.
#[cfg(feature = "csae-2020")]
conversions!(v2020, from_2020, signal_phase_and_timing, |link: &v2020::map::Link| Some(link.link_width.0));

/// The SSM in SI units: participants (`ptc` with the detection's `typeConfidence`), then
/// obstacles, all resolved from `sensorPos`.
#[cfg(feature = "csae-2020")]
pub fn ssm_summary(ssm: &v2020::sensor_sharing::SensorSharingMsg) -> RoadsideSummary {
    let reference = from_2020::position(&ssm.sensor_pos);
    let confidence = |raw: u8| f64::from(raw) / 200.0;
    let mut objects = Vec::new();
    for detected in ssm.participants.iter().flat_map(|list| list.0.iter()) {
        objects.push(from_2020::participant(
            &reference,
            &detected.ptc,
            detected.type_confidence.as_ref().map(|c| confidence(c.0)),
        ));
    }
    for obstacle in ssm.obstacles.iter().flat_map(|list| list.0.iter()) {
        let (position, position_choice, vertical_choice) = from_2020::resolve(&reference, &obstacle.pos);
        objects.push(RoadsideObject {
            kind: "obstacle",
            object_id: obstacle.obs_id,
            object_type: obstacle.obs_type.identifier(),
            source: obstacle.source.identifier(),
            sec_mark_ms: sec_mark_ms(obstacle.sec_mark.0),
            position_choice,
            vertical_choice,
            position,
            position_confidence_m: position_confidence_m(obstacle.pos_confidence.pos.identifier()),
            speed_mps: speed_mps(obstacle.speed.0),
            heading_rad: heading_rad(obstacle.heading.0),
            length_m: size_value_m(obstacle.size.length.0),
            width_m: size_value_m(obstacle.size.width.0),
            height_m: obstacle.size.height.as_ref().and_then(|height| size_value_m(height.0)),
            type_confidence: obstacle.obj_type_confidence.as_ref().map(|c| confidence(c.0)),
        });
    }
    RoadsideSummary {
        msg_cnt: ssm.msg_cnt.0,
        sender_id: crate::view::hex(&ssm.id),
        sender_id_octets: ssm.id.to_vec(),
        equipment_type: Some(ssm.equipment_type.identifier()),
        sec_mark_ms: sec_mark_ms(ssm.sec_mark.0),
        ref_position: reference,
        objects,
    }
}

/// The SI summary of any CSAE message.
pub fn summary(message: &CsaeMessage) -> CsaeSummary {
    match message {
        CsaeMessage::Y2019(frame) => from_2019::root(frame),
        #[cfg(feature = "csae-2020")]
        CsaeMessage::Y2020(frame) => from_2020::root(frame),
        #[cfg(feature = "csae-2020")]
        CsaeMessage::Y2020Ext(ExtMessage::Ssm(ssm)) => CsaeSummary::Roadside(ssm_summary(ssm)),
        #[cfg(feature = "csae-2020")]
        CsaeMessage::Y2020Ext(ExtMessage::Other { .. }) => CsaeSummary::Other(OtherSummary { msg_cnt: None }),
    }
}
