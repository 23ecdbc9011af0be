//! SAE J2735 `BasicSafetyMessage` (messageId 20) and its own data frames/elements.
//!
//! Written from the published SAE field definitions (see the `j2735` module docs); each
//! type's doc line gives its ASN.1 name, its range or size, and the unit of physical values.

use rasn::prelude::*;

use super::RegionalExtension;
use super::common::*;

/// `BasicSafetyMessage` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct BasicSafetyMessage {
    /// `coreData`
    pub core_data: BsmCoreData,
    /// `partII`
    #[rasn(size("1..=8"))]
    pub part_ii: Option<Vec<BsmPartIiExtension>>,
    /// `regional`
    #[rasn(size("1..=4"))]
    pub regional: Option<Vec<RegionalExtension>>,
}

/// `BSMcoreData` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct BsmCoreData {
    /// `msgCnt`
    pub msg_cnt: MsgCount,
    /// `id`
    pub id: TemporaryId,
    /// `secMark`
    pub sec_mark: DSecond,
    /// `lat`
    pub lat: Latitude,
    /// `long`
    pub long: Longitude,
    /// `elev`
    pub elev: Elevation,
    /// `accuracy`
    pub accuracy: PositionalAccuracy,
    /// `transmission`
    pub transmission: TransmissionState,
    /// `speed`
    pub speed: Speed,
    /// `heading`
    pub heading: Heading,
    /// `angle`
    pub angle: SteeringWheelAngle,
    /// `accelSet`
    pub accel_set: AccelerationSet4Way,
    /// `brakes`
    pub brakes: BrakeSystemStatus,
    /// `size`
    pub size: VehicleSize,
}

/// `SteeringWheelAngle`: steering wheel angle in units of 1.5 degree, positive to the right; 127 = unavailable (-126..=127).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-126..=127"))]
pub struct SteeringWheelAngle(pub i8);

/// `BrakeSystemStatus` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct BrakeSystemStatus {
    /// `wheelBrakes`
    pub wheel_brakes: BrakeAppliedStatus,
    /// `traction`
    pub traction: TractionControlStatus,
    /// `abs`
    pub abs: AntiLockBrakeStatus,
    /// `scs`
    pub scs: StabilityControlStatus,
    /// `brakeBoost`
    pub brake_boost: BrakeBoostApplied,
    /// `auxBrakes`
    pub aux_brakes: AuxiliaryBrakeStatus,
}

/// `BrakeAppliedStatus` (BIT STRING S(SIZE(5..5))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("5"))]
pub struct BrakeAppliedStatus(pub BitString);

/// `TractionControlStatus` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum TractionControlStatus {
    /// `unavailable`
    Unavailable = 0,
    /// `off`
    Off = 1,
    /// `on`
    On = 2,
    /// `engaged`
    Engaged = 3,
}

impl TractionControlStatus {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Off => "off",
            Self::On => "on",
            Self::Engaged => "engaged",
        }
    }
}

/// `AntiLockBrakeStatus` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum AntiLockBrakeStatus {
    /// `unavailable`
    Unavailable = 0,
    /// `off`
    Off = 1,
    /// `on`
    On = 2,
    /// `engaged`
    Engaged = 3,
}

impl AntiLockBrakeStatus {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Off => "off",
            Self::On => "on",
            Self::Engaged => "engaged",
        }
    }
}

/// `StabilityControlStatus` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum StabilityControlStatus {
    /// `unavailable`
    Unavailable = 0,
    /// `off`
    Off = 1,
    /// `on`
    On = 2,
    /// `engaged`
    Engaged = 3,
}

impl StabilityControlStatus {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Off => "off",
            Self::On => "on",
            Self::Engaged => "engaged",
        }
    }
}

/// `BrakeBoostApplied` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum BrakeBoostApplied {
    /// `unavailable`
    Unavailable = 0,
    /// `off`
    Off = 1,
    /// `on`
    On = 2,
}

impl BrakeBoostApplied {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Off => "off",
            Self::On => "on",
        }
    }
}

/// `AuxiliaryBrakeStatus` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum AuxiliaryBrakeStatus {
    /// `unavailable`
    Unavailable = 0,
    /// `off`
    Off = 1,
    /// `on`
    On = 2,
    /// `reserved`
    Reserved = 3,
}

impl AuxiliaryBrakeStatus {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Off => "off",
            Self::On => "on",
            Self::Reserved => "reserved",
        }
    }
}

/// `BSMpartIIExtension` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct BsmPartIiExtension {
    /// `partII-Id`
    pub part_ii_id: PartIiId,
    /// `partII-Value`
    pub part_ii_value: Any,
}

/// `PartII-Id` (0..=63).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=63"))]
pub struct PartIiId(pub u8);
