//! SAE J2735 `SPAT` (signal phase and timing, messageId 19) and its data frames/elements.
//!
//! Written from the published SAE field definitions (see the `j2735` module docs); each
//! type's doc line gives its ASN.1 name, its range or size, and the unit of physical values.

use rasn::prelude::*;

use super::RegionalExtension;
use super::common::*;

/// `SPAT` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct Spat {
    /// `timeStamp`
    pub time_stamp: Option<MinuteOfTheYear>,
    /// `name`
    pub name: Option<DescriptiveName>,
    /// `intersections`
    pub intersections: IntersectionStateList,
    /// `regional`
    #[rasn(size("1..=4"))]
    pub regional: Option<Vec<RegionalExtension>>,
}

/// `IntersectionStateList` (SEQUENCE S(SIZE(1..32)) OF IntersectionState).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=32"))]
pub struct IntersectionStateList(pub Vec<IntersectionState>);

/// `IntersectionState` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct IntersectionState {
    /// `name`
    pub name: Option<DescriptiveName>,
    /// `id`
    pub id: IntersectionReferenceId,
    /// `revision`
    pub revision: MsgCount,
    /// `status`
    pub status: IntersectionStatusObject,
    /// `moy`
    pub moy: Option<MinuteOfTheYear>,
    /// `timeStamp`
    pub time_stamp: Option<DSecond>,
    /// `enabledLanes`
    pub enabled_lanes: Option<EnabledLaneList>,
    /// `states`
    pub states: MovementList,
    /// `maneuverAssistList`
    pub maneuver_assist_list: Option<ManeuverAssistList>,
    /// `regional`
    #[rasn(size("1..=4"))]
    pub regional: Option<Vec<RegionalExtension>>,
    /// `roadAuthorityID`
    #[rasn(extension_addition)]
    pub road_authority_id: Option<RoadAuthorityId>,
}

/// `IntersectionStatusObject` (BIT STRING S(SIZE(16..16))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("16"))]
pub struct IntersectionStatusObject(pub BitString);

/// `EnabledLaneList` (SEQUENCE S(SIZE(1..16)) OF LaneID).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=16"))]
pub struct EnabledLaneList(pub Vec<LaneId>);

/// `MovementList` (SEQUENCE S(SIZE(1..255)) OF MovementState).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=255"))]
pub struct MovementList(pub Vec<MovementState>);

/// `MovementState` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct MovementState {
    /// `movementName`
    pub movement_name: Option<DescriptiveName>,
    /// `signalGroup`
    pub signal_group: SignalGroupId,
    /// `state-time-speed`
    pub state_time_speed: MovementEventList,
    /// `maneuverAssistList`
    pub maneuver_assist_list: Option<ManeuverAssistList>,
    /// `regional`
    #[rasn(size("1..=4"))]
    pub regional: Option<Vec<RegionalExtension>>,
}

/// `MovementEventList` (SEQUENCE S(SIZE(1..16)) OF MovementEvent).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=16"))]
pub struct MovementEventList(pub Vec<MovementEvent>);

/// `MovementEvent` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct MovementEvent {
    /// `eventState`
    pub event_state: MovementPhaseState,
    /// `timing`
    pub timing: Option<TimeChangeDetails>,
    /// `speeds`
    pub speeds: Option<AdvisorySpeedList>,
    /// `regional`
    #[rasn(size("1..=4"))]
    pub regional: Option<Vec<RegionalExtension>>,
}

/// `MovementPhaseState` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum MovementPhaseState {
    /// `unavailable`
    Unavailable = 0,
    /// `dark`
    Dark = 1,
    /// `stop-Then-Proceed`
    StopThenProceed = 2,
    /// `stop-And-Remain`
    StopAndRemain = 3,
    /// `pre-Movement`
    PreMovement = 4,
    /// `permissive-Movement-Allowed`
    PermissiveMovementAllowed = 5,
    /// `protected-Movement-Allowed`
    ProtectedMovementAllowed = 6,
    /// `permissive-clearance`
    PermissiveClearance = 7,
    /// `protected-clearance`
    ProtectedClearance = 8,
    /// `caution-Conflicting-Traffic`
    CautionConflictingTraffic = 9,
}

impl MovementPhaseState {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Dark => "dark",
            Self::StopThenProceed => "stop-Then-Proceed",
            Self::StopAndRemain => "stop-And-Remain",
            Self::PreMovement => "pre-Movement",
            Self::PermissiveMovementAllowed => "permissive-Movement-Allowed",
            Self::ProtectedMovementAllowed => "protected-Movement-Allowed",
            Self::PermissiveClearance => "permissive-clearance",
            Self::ProtectedClearance => "protected-clearance",
            Self::CautionConflictingTraffic => "caution-Conflicting-Traffic",
        }
    }
}

/// `TimeChangeDetails` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct TimeChangeDetails {
    /// `startTime`
    pub start_time: Option<TimeMark>,
    /// `minEndTime`
    pub min_end_time: TimeMark,
    /// `maxEndTime`
    pub max_end_time: Option<TimeMark>,
    /// `likelyTime`
    pub likely_time: Option<TimeMark>,
    /// `confidence`
    pub confidence: Option<TimeIntervalConfidence>,
    /// `nextTime`
    pub next_time: Option<TimeMark>,
}

/// `TimeMark`: tenths of a second within the current UTC hour; 36000 = leap second, 36001 = unknown (0..=36111).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=36111"))]
pub struct TimeMark(pub u16);

/// `TimeIntervalConfidence` (0..=15).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=15"))]
pub struct TimeIntervalConfidence(pub u8);

/// `AdvisorySpeedList` (SEQUENCE S(SIZE(1..16)) OF AdvisorySpeed).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=16"))]
pub struct AdvisorySpeedList(pub Vec<AdvisorySpeed>);

/// `AdvisorySpeed` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct AdvisorySpeed {
    /// `type`
    pub kind: AdvisorySpeedType,
    /// `speed`
    pub speed: Option<SpeedAdvice>,
    /// `confidence`
    pub confidence: Option<SpeedConfidence>,
    /// `distance`
    pub distance: Option<ZoneLength>,
    /// `class`
    pub restriction_class: Option<RestrictionClassId>,
    /// `regional`
    #[rasn(size("1..=4"))]
    pub regional: Option<Vec<RegionalExtension>>,
}

/// `AdvisorySpeedType` (ENUMERATED, extensible).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum AdvisorySpeedType {
    /// `none`
    None = 0,
    /// `greenwave`
    Greenwave = 1,
    /// `ecoDrive`
    EcoDrive = 2,
    /// `transit`
    Transit = 3,
}

impl AdvisorySpeedType {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Greenwave => "greenwave",
            Self::EcoDrive => "ecoDrive",
            Self::Transit => "transit",
        }
    }
}

/// `SpeedAdvice`: advisory speed in units of 0.1 m/s; 500 = unavailable (0..=500).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=500"))]
pub struct SpeedAdvice(pub u16);

/// `ZoneLength`: distance in metres (0..=10000).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=10000"))]
pub struct ZoneLength(pub u16);

/// `ManeuverAssistList` (SEQUENCE S(SIZE(1..16)) OF ConnectionManeuverAssist).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=16"))]
pub struct ManeuverAssistList(pub Vec<ConnectionManeuverAssist>);

/// `ConnectionManeuverAssist` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct ConnectionManeuverAssist {
    /// `connectionID`
    pub connection_id: LaneConnectionId,
    /// `queueLength`
    pub queue_length: Option<ZoneLength>,
    /// `availableStorageLength`
    pub available_storage_length: Option<ZoneLength>,
    /// `waitOnStop`
    pub wait_on_stop: Option<WaitOnStopline>,
    /// `pedBicycleDetect`
    pub ped_bicycle_detect: Option<PedestrianBicycleDetect>,
    /// `regional`
    #[rasn(size("1..=4"))]
    pub regional: Option<Vec<RegionalExtension>>,
}

/// `WaitOnStopline` (BOOLEAN).
pub type WaitOnStopline = bool;

/// `PedestrianBicycleDetect` (BOOLEAN).
pub type PedestrianBicycleDetect = bool;
