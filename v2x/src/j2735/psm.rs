//! SAE J2735 `PersonalSafetyMessage` (messageId 32) and its own data frames/elements.
//!
//! Written from the published SAE field definitions (see the `j2735` module docs); each
//! type's doc line gives its ASN.1 name, its range or size, and the unit of physical values.

use rasn::prelude::*;

use super::RegionalExtension;
use super::common::*;

/// `PersonalSafetyMessage` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct PersonalSafetyMessage {
    /// `basicType`
    pub basic_type: PersonalDeviceUserType,
    /// `secMark`
    pub sec_mark: DSecond,
    /// `msgCnt`
    pub msg_cnt: MsgCount,
    /// `id`
    pub id: TemporaryId,
    /// `position`
    pub position: Position3D,
    /// `accuracy`
    pub accuracy: PositionalAccuracy,
    /// `speed`
    pub speed: Velocity,
    /// `heading`
    pub heading: Heading,
    /// `accelSet`
    pub accel_set: Option<AccelerationSet4Way>,
    /// `pathHistory`
    pub path_history: Option<PathHistory>,
    /// `pathPrediction`
    pub path_prediction: Option<PathPrediction>,
    /// `propulsion`
    pub propulsion: Option<PropelledInformation>,
    /// `useState`
    pub use_state: Option<PersonalDeviceUsageState>,
    /// `crossRequest`
    pub cross_request: Option<PersonalCrossingRequest>,
    /// `crossState`
    pub cross_state: Option<PersonalCrossingInProgress>,
    /// `clusterSize`
    pub cluster_size: Option<NumberOfParticipantsInCluster>,
    /// `clusterRadius`
    pub cluster_radius: Option<PersonalClusterRadius>,
    /// `eventResponderType`
    pub event_responder_type: Option<PublicSafetyEventResponderWorkerType>,
    /// `activityType`
    pub activity_type: Option<PublicSafetyAndRoadWorkerActivity>,
    /// `activitySubType`
    pub activity_sub_type: Option<PublicSafetyDirectingTrafficSubType>,
    /// `assistType`
    pub assist_type: Option<PersonalAssistive>,
    /// `sizing`
    pub sizing: Option<UserSizeAndBehaviour>,
    /// `attachment`
    pub attachment: Option<Attachment>,
    /// `attachmentRadius`
    pub attachment_radius: Option<AttachmentRadius>,
    /// `animalType`
    pub animal_type: Option<AnimalType>,
    /// `regional`
    #[rasn(size("1..=4"))]
    pub regional: Option<Vec<RegionalExtension>>,
}

/// `PathHistory` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct PathHistory {
    /// `initialPosition`
    pub initial_position: Option<FullPositionVector>,
    /// `currGNSSstatus`
    pub curr_gnss_status: Option<GnssStatus>,
    /// `crumbData`
    pub crumb_data: PathHistoryPointList,
}

/// `FullPositionVector` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct FullPositionVector {
    /// `utcTime`
    pub utc_time: Option<DDateTime>,
    /// `long`
    pub long: Longitude,
    /// `lat`
    pub lat: Latitude,
    /// `elevation`
    pub elevation: Option<Elevation>,
    /// `heading`
    pub heading: Option<Heading>,
    /// `speed`
    pub speed: Option<TransmissionAndSpeed>,
    /// `posAccuracy`
    pub pos_accuracy: Option<PositionalAccuracy>,
    /// `timeConfidence`
    pub time_confidence: Option<TimeConfidence>,
    /// `posConfidence`
    pub pos_confidence: Option<PositionConfidenceSet>,
    /// `speedConfidence`
    pub speed_confidence: Option<SpeedandHeadingandThrottleConfidence>,
}

/// `TransmissionAndSpeed` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct TransmissionAndSpeed {
    /// `transmisson`
    pub transmission: TransmissionState,
    /// `speed`
    pub speed: Velocity,
}

/// `SpeedandHeadingandThrottleConfidence` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct SpeedandHeadingandThrottleConfidence {
    /// `heading`
    pub heading: HeadingConfidence,
    /// `speed`
    pub speed: SpeedConfidence,
    /// `throttle`
    pub throttle: ThrottleConfidence,
}

/// `ThrottleConfidence` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum ThrottleConfidence {
    /// `unavailable`
    Unavailable = 0,
    /// `prec10percent`
    Prec10percent = 1,
    /// `prec1percent`
    Prec1percent = 2,
    /// `prec0-5percent`
    Prec0_5percent = 3,
}

impl ThrottleConfidence {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Prec10percent => "prec10percent",
            Self::Prec1percent => "prec1percent",
            Self::Prec0_5percent => "prec0-5percent",
        }
    }
}

/// `GNSSstatus` (BIT STRING S(SIZE(8..8))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("8"))]
pub struct GnssStatus(pub BitString);

/// `PathHistoryPointList` (SEQUENCE S(SIZE(1..23)) OF PathHistoryPoint).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=23"))]
pub struct PathHistoryPointList(pub Vec<PathHistoryPoint>);

/// `PathHistoryPoint` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct PathHistoryPoint {
    /// `latOffset`
    pub lat_offset: OffsetLLB18,
    /// `lonOffset`
    pub lon_offset: OffsetLLB18,
    /// `elevationOffset`
    pub elevation_offset: VertOffsetB12,
    /// `timeOffset`
    pub time_offset: TimeOffset,
    /// `speed`
    pub speed: Option<Speed>,
    /// `posAccuracy`
    pub pos_accuracy: Option<PositionalAccuracy>,
    /// `heading`
    pub heading: Option<CoarseHeading>,
}

/// `OffsetLL-B18`: latitude/longitude offset in units of 1e-7 degree (-131072..=131071).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-131072..=131071"))]
pub struct OffsetLLB18(pub i32);

/// `VertOffset-B12`: vertical offset in units of 10 cm (-2048..=2047).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-2048..=2047"))]
pub struct VertOffsetB12(pub i16);

/// `TimeOffset`: time offset in units of 10 ms; 65535 = unavailable (1..=65535).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("1..=65535"))]
pub struct TimeOffset(pub u16);

/// `CoarseHeading`: heading in units of 1.5 degree; 240 = unavailable (0..=240).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=240"))]
pub struct CoarseHeading(pub u8);

/// `PathPrediction` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct PathPrediction {
    /// `radiusOfCurve`
    pub radius_of_curve: RadiusOfCurvature,
    /// `confidence`
    pub confidence: Confidence,
}

/// `RadiusOfCurvature` (-32767..=32767).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-32767..=32767"))]
pub struct RadiusOfCurvature(pub i16);

/// `Confidence` (0..=200).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=200"))]
pub struct Confidence(pub u8);

/// `PersonalDeviceUsageState` (BIT STRING S+(SIZE(9..9,...))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("9", extensible))]
pub struct PersonalDeviceUsageState(pub BitString);

/// `PersonalCrossingRequest` (BOOLEAN).
pub type PersonalCrossingRequest = bool;

/// `PersonalCrossingInProgress` (BOOLEAN).
pub type PersonalCrossingInProgress = bool;

/// `NumberOfParticipantsInCluster` (ENUMERATED, extensible).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum NumberOfParticipantsInCluster {
    /// `unavailable`
    Unavailable = 0,
    /// `small`
    Small = 1,
    /// `medium`
    Medium = 2,
    /// `large`
    Large = 3,
}

impl NumberOfParticipantsInCluster {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Small => "small",
            Self::Medium => "medium",
            Self::Large => "large",
        }
    }
}

/// `PersonalClusterRadius` (0..=100).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=100"))]
pub struct PersonalClusterRadius(pub u8);

/// `PublicSafetyEventResponderWorkerType` (ENUMERATED, extensible).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum PublicSafetyEventResponderWorkerType {
    /// `unavailable`
    Unavailable = 0,
    /// `towOperater`
    TowOperater = 1,
    /// `fireAndEMSWorker`
    FireAndEmsWorker = 2,
    /// `aDOTWorker`
    ADotWorker = 3,
    /// `lawEnforcement`
    LawEnforcement = 4,
    /// `hazmatResponder`
    HazmatResponder = 5,
    /// `animalControlWorker`
    AnimalControlWorker = 6,
    /// `otherPersonnel`
    OtherPersonnel = 7,
}

impl PublicSafetyEventResponderWorkerType {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::TowOperater => "towOperater",
            Self::FireAndEmsWorker => "fireAndEMSWorker",
            Self::ADotWorker => "aDOTWorker",
            Self::LawEnforcement => "lawEnforcement",
            Self::HazmatResponder => "hazmatResponder",
            Self::AnimalControlWorker => "animalControlWorker",
            Self::OtherPersonnel => "otherPersonnel",
        }
    }
}

/// `PublicSafetyAndRoadWorkerActivity` (BIT STRING S+(SIZE(6..6,...))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("6", extensible))]
pub struct PublicSafetyAndRoadWorkerActivity(pub BitString);

/// `PublicSafetyDirectingTrafficSubType` (BIT STRING S+(SIZE(7..7,...))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("7", extensible))]
pub struct PublicSafetyDirectingTrafficSubType(pub BitString);

/// `PersonalAssistive` (BIT STRING S+(SIZE(6..6,...))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("6", extensible))]
pub struct PersonalAssistive(pub BitString);

/// `UserSizeAndBehaviour` (BIT STRING S+(SIZE(5..5,...))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("5", extensible))]
pub struct UserSizeAndBehaviour(pub BitString);

/// `AnimalType` (ENUMERATED, extensible).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum AnimalType {
    /// `unavailable`
    Unavailable = 0,
    /// `serviceUse`
    ServiceUse = 1,
    /// `pet`
    Pet = 2,
    /// `farm`
    Farm = 3,
}

impl AnimalType {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::ServiceUse => "serviceUse",
            Self::Pet => "pet",
            Self::Farm => "farm",
        }
    }
}
