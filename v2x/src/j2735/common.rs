//! SAE J2735 data elements and frames shared by several messages.
//!
//! Written from the published SAE field definitions (see the `j2735` module docs); each
//! type's doc line gives its ASN.1 name, its range or size, and the unit of physical values.

use rasn::prelude::*;

use super::RegionalExtension;

/// `MsgCount`: message counter, increments by one per message and wraps 127 -> 0 (0..=127).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=127"))]
pub struct MsgCount(pub u8);

/// `TemporaryID`: temporary (privacy-rotating) station id, 4 octets (OCTET STRING (SIZE(4))).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate)]
pub struct TemporaryId(pub FixedOctetString<4>);

/// `DSecond`: milliseconds within the UTC minute (`secMark`); 60000..=65534 reserved (leap second), 65535 unavailable (0..=65535).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=65535"))]
pub struct DSecond(pub u16);

/// `Latitude`: geodetic latitude (WGS-84) in units of 1e-7 degree; 900000001 = unavailable (-900000000..=900000001).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-900000000..=900000001"))]
pub struct Latitude(pub i32);

/// `Longitude`: geodetic longitude (WGS-84) in units of 1e-7 degree; 1800000001 = unavailable (-1799999999..=1800000001).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-1799999999..=1800000001"))]
pub struct Longitude(pub i32);

/// `Elevation`: height above the WGS-84 ellipsoid in units of 0.1 m; -4096 = unavailable (-4096..=61439).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-4096..=61439"))]
pub struct Elevation(pub i32);

/// `PositionalAccuracy` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct PositionalAccuracy {
    /// `semiMajor`
    pub semi_major: SemiMajorAxisAccuracy,
    /// `semiMinor`
    pub semi_minor: SemiMinorAxisAccuracy,
    /// `orientation`
    pub orientation: SemiMajorAxisOrientation,
}

/// `SemiMajorAxisAccuracy`: one-sigma semi-major axis of the position error ellipse in units of 0.05 m; 254 = 12.7 m or more, 255 = unavailable (0..=255).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=255"))]
pub struct SemiMajorAxisAccuracy(pub u8);

/// `SemiMinorAxisAccuracy`: one-sigma semi-minor axis of the position error ellipse in units of 0.05 m; 254 = 12.7 m or more, 255 = unavailable (0..=255).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=255"))]
pub struct SemiMinorAxisAccuracy(pub u8);

/// `SemiMajorAxisOrientation`: orientation of the semi-major axis, clockwise from true north, in units of 360/65535 degree; 65535 = unavailable (0..=65535).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=65535"))]
pub struct SemiMajorAxisOrientation(pub u16);

/// `TransmissionState` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum TransmissionState {
    /// `neutral`
    Neutral = 0,
    /// `park`
    Park = 1,
    /// `forwardGears`
    ForwardGears = 2,
    /// `reverseGears`
    ReverseGears = 3,
    /// `reserved1`
    Reserved1 = 4,
    /// `reserved2`
    Reserved2 = 5,
    /// `reserved3`
    Reserved3 = 6,
    /// `unavailable`
    Unavailable = 7,
}

impl TransmissionState {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Neutral => "neutral",
            Self::Park => "park",
            Self::ForwardGears => "forwardGears",
            Self::ReverseGears => "reverseGears",
            Self::Reserved1 => "reserved1",
            Self::Reserved2 => "reserved2",
            Self::Reserved3 => "reserved3",
            Self::Unavailable => "unavailable",
        }
    }
}

/// `Speed`: speed over ground in units of 0.02 m/s; 8191 = unavailable (0..=8191).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=8191"))]
pub struct Speed(pub u16);

/// `Heading`: course over ground, clockwise from true north, in units of 0.0125 degree; 28800 = unavailable (0..=28800).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=28800"))]
pub struct Heading(pub u16);

/// `AccelerationSet4Way` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct AccelerationSet4Way {
    /// `long`
    pub long: Acceleration,
    /// `lat`
    pub lat: Acceleration,
    /// `vert`
    pub vert: VerticalAcceleration,
    /// `yaw`
    pub yaw: YawRate,
}

/// `Acceleration`: acceleration in units of 0.01 m/s^2; 2001 = unavailable (-2000..=2001).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-2000..=2001"))]
pub struct Acceleration(pub i16);

/// `VerticalAcceleration`: vertical acceleration in units of 0.02 G; -127 = unavailable (-127..=127).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-127..=127"))]
pub struct VerticalAcceleration(pub i8);

/// `YawRate`: yaw rate in units of 0.01 degree/s, positive clockwise (seen from above) (-32767..=32767).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-32767..=32767"))]
pub struct YawRate(pub i16);

/// `VehicleSize` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct VehicleSize {
    /// `width`
    pub width: VehicleWidth,
    /// `length`
    pub length: VehicleLength,
}

/// `VehicleWidth`: vehicle width in cm; 0 = unavailable (0..=1023).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=1023"))]
pub struct VehicleWidth(pub u16);

/// `VehicleLength`: vehicle length in cm; 0 = unavailable (0..=4095).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=4095"))]
pub struct VehicleLength(pub u16);

/// `RegionId` (0..=255).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=255"))]
pub struct RegionId(pub u8);

/// `PersonalDeviceUserType` (ENUMERATED, extensible).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum PersonalDeviceUserType {
    /// `unavailable`
    Unavailable = 0,
    /// `aPEDESTRIAN`
    APedestrian = 1,
    /// `aPEDALCYCLIST`
    APedalcyclist = 2,
    /// `aPUBLICSAFETYWORKER`
    APublicSafetyWorker = 3,
    /// `anANIMAL`
    AnAnimal = 4,
}

impl PersonalDeviceUserType {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::APedestrian => "aPEDESTRIAN",
            Self::APedalcyclist => "aPEDALCYCLIST",
            Self::APublicSafetyWorker => "aPUBLICSAFETYWORKER",
            Self::AnAnimal => "anANIMAL",
        }
    }
}

/// `Position3D` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct Position3D {
    /// `lat`
    pub lat: Latitude,
    /// `long`
    pub long: Longitude,
    /// `elevation`
    pub elevation: Option<Elevation>,
    /// `regional`
    #[rasn(size("1..=4"))]
    pub regional: Option<Vec<RegionalExtension>>,
}

/// `Velocity`: speed over ground in units of 0.02 m/s; 8191 = unavailable (0..=8191).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=8191"))]
pub struct Velocity(pub u16);

/// `DDateTime` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct DDateTime {
    /// `year`
    pub year: Option<DYear>,
    /// `month`
    pub month: Option<DMonth>,
    /// `day`
    pub day: Option<DDay>,
    /// `hour`
    pub hour: Option<DHour>,
    /// `minute`
    pub minute: Option<DMinute>,
    /// `second`
    pub second: Option<DSecond>,
    /// `offset`
    pub offset: Option<DOffset>,
}

/// `DYear`: UTC year; 0 = unavailable (0..=4095).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=4095"))]
pub struct DYear(pub u16);

/// `DMonth`: UTC month; 0 = unavailable (0..=12).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=12"))]
pub struct DMonth(pub u8);

/// `DDay`: UTC day of month; 0 = unavailable (0..=31).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=31"))]
pub struct DDay(pub u8);

/// `DHour`: UTC hour; 31 = unavailable (0..=31).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=31"))]
pub struct DHour(pub u8);

/// `DMinute`: UTC minute; 60 = unavailable (0..=60).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=60"))]
pub struct DMinute(pub u8);

/// `DOffset`: local time zone offset in minutes (-840..=840).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-840..=840"))]
pub struct DOffset(pub i16);

/// `TimeConfidence` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum TimeConfidence {
    /// `unavailable`
    Unavailable = 0,
    /// `time-100-000`
    Time100_000 = 1,
    /// `time-050-000`
    Time050_000 = 2,
    /// `time-020-000`
    Time020_000 = 3,
    /// `time-010-000`
    Time010_000 = 4,
    /// `time-002-000`
    Time002_000 = 5,
    /// `time-001-000`
    Time001_000 = 6,
    /// `time-000-500`
    Time000_500 = 7,
    /// `time-000-200`
    Time000_200 = 8,
    /// `time-000-100`
    Time000_100 = 9,
    /// `time-000-050`
    Time000_050 = 10,
    /// `time-000-020`
    Time000_020 = 11,
    /// `time-000-010`
    Time000_010 = 12,
    /// `time-000-005`
    Time000_005 = 13,
    /// `time-000-002`
    Time000_002 = 14,
    /// `time-000-001`
    Time000_001 = 15,
    /// `time-000-000-5`
    Time000_000_5 = 16,
    /// `time-000-000-2`
    Time000_000_2 = 17,
    /// `time-000-000-1`
    Time000_000_1 = 18,
    /// `time-000-000-05`
    Time000_000_05 = 19,
    /// `time-000-000-02`
    Time000_000_02 = 20,
    /// `time-000-000-01`
    Time000_000_01 = 21,
    /// `time-000-000-005`
    Time000_000_005 = 22,
    /// `time-000-000-002`
    Time000_000_002 = 23,
    /// `time-000-000-001`
    Time000_000_001 = 24,
    /// `time-000-000-000-5`
    Time000_000_000_5 = 25,
    /// `time-000-000-000-2`
    Time000_000_000_2 = 26,
    /// `time-000-000-000-1`
    Time000_000_000_1 = 27,
    /// `time-000-000-000-05`
    Time000_000_000_05 = 28,
    /// `time-000-000-000-02`
    Time000_000_000_02 = 29,
    /// `time-000-000-000-01`
    Time000_000_000_01 = 30,
    /// `time-000-000-000-005`
    Time000_000_000_005 = 31,
    /// `time-000-000-000-002`
    Time000_000_000_002 = 32,
    /// `time-000-000-000-001`
    Time000_000_000_001 = 33,
    /// `time-000-000-000-000-5`
    Time000_000_000_000_5 = 34,
    /// `time-000-000-000-000-2`
    Time000_000_000_000_2 = 35,
    /// `time-000-000-000-000-1`
    Time000_000_000_000_1 = 36,
    /// `time-000-000-000-000-05`
    Time000_000_000_000_05 = 37,
    /// `time-000-000-000-000-02`
    Time000_000_000_000_02 = 38,
    /// `time-000-000-000-000-01`
    Time000_000_000_000_01 = 39,
}

impl TimeConfidence {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Time100_000 => "time-100-000",
            Self::Time050_000 => "time-050-000",
            Self::Time020_000 => "time-020-000",
            Self::Time010_000 => "time-010-000",
            Self::Time002_000 => "time-002-000",
            Self::Time001_000 => "time-001-000",
            Self::Time000_500 => "time-000-500",
            Self::Time000_200 => "time-000-200",
            Self::Time000_100 => "time-000-100",
            Self::Time000_050 => "time-000-050",
            Self::Time000_020 => "time-000-020",
            Self::Time000_010 => "time-000-010",
            Self::Time000_005 => "time-000-005",
            Self::Time000_002 => "time-000-002",
            Self::Time000_001 => "time-000-001",
            Self::Time000_000_5 => "time-000-000-5",
            Self::Time000_000_2 => "time-000-000-2",
            Self::Time000_000_1 => "time-000-000-1",
            Self::Time000_000_05 => "time-000-000-05",
            Self::Time000_000_02 => "time-000-000-02",
            Self::Time000_000_01 => "time-000-000-01",
            Self::Time000_000_005 => "time-000-000-005",
            Self::Time000_000_002 => "time-000-000-002",
            Self::Time000_000_001 => "time-000-000-001",
            Self::Time000_000_000_5 => "time-000-000-000-5",
            Self::Time000_000_000_2 => "time-000-000-000-2",
            Self::Time000_000_000_1 => "time-000-000-000-1",
            Self::Time000_000_000_05 => "time-000-000-000-05",
            Self::Time000_000_000_02 => "time-000-000-000-02",
            Self::Time000_000_000_01 => "time-000-000-000-01",
            Self::Time000_000_000_005 => "time-000-000-000-005",
            Self::Time000_000_000_002 => "time-000-000-000-002",
            Self::Time000_000_000_001 => "time-000-000-000-001",
            Self::Time000_000_000_000_5 => "time-000-000-000-000-5",
            Self::Time000_000_000_000_2 => "time-000-000-000-000-2",
            Self::Time000_000_000_000_1 => "time-000-000-000-000-1",
            Self::Time000_000_000_000_05 => "time-000-000-000-000-05",
            Self::Time000_000_000_000_02 => "time-000-000-000-000-02",
            Self::Time000_000_000_000_01 => "time-000-000-000-000-01",
        }
    }
}

/// `PositionConfidenceSet` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct PositionConfidenceSet {
    /// `pos`
    pub pos: PositionConfidence,
    /// `elevation`
    pub elevation: ElevationConfidence,
}

/// `PositionConfidence` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum PositionConfidence {
    /// `unavailable`
    Unavailable = 0,
    /// `a500m`
    A500m = 1,
    /// `a200m`
    A200m = 2,
    /// `a100m`
    A100m = 3,
    /// `a50m`
    A50m = 4,
    /// `a20m`
    A20m = 5,
    /// `a10m`
    A10m = 6,
    /// `a5m`
    A5m = 7,
    /// `a2m`
    A2m = 8,
    /// `a1m`
    A1m = 9,
    /// `a50cm`
    A50cm = 10,
    /// `a20cm`
    A20cm = 11,
    /// `a10cm`
    A10cm = 12,
    /// `a5cm`
    A5cm = 13,
    /// `a2cm`
    A2cm = 14,
    /// `a1cm`
    A1cm = 15,
}

impl PositionConfidence {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::A500m => "a500m",
            Self::A200m => "a200m",
            Self::A100m => "a100m",
            Self::A50m => "a50m",
            Self::A20m => "a20m",
            Self::A10m => "a10m",
            Self::A5m => "a5m",
            Self::A2m => "a2m",
            Self::A1m => "a1m",
            Self::A50cm => "a50cm",
            Self::A20cm => "a20cm",
            Self::A10cm => "a10cm",
            Self::A5cm => "a5cm",
            Self::A2cm => "a2cm",
            Self::A1cm => "a1cm",
        }
    }
}

/// `ElevationConfidence` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum ElevationConfidence {
    /// `unavailable`
    Unavailable = 0,
    /// `elev-500-00`
    Elev500_00 = 1,
    /// `elev-200-00`
    Elev200_00 = 2,
    /// `elev-100-00`
    Elev100_00 = 3,
    /// `elev-050-00`
    Elev050_00 = 4,
    /// `elev-020-00`
    Elev020_00 = 5,
    /// `elev-010-00`
    Elev010_00 = 6,
    /// `elev-005-00`
    Elev005_00 = 7,
    /// `elev-002-00`
    Elev002_00 = 8,
    /// `elev-001-00`
    Elev001_00 = 9,
    /// `elev-000-50`
    Elev000_50 = 10,
    /// `elev-000-20`
    Elev000_20 = 11,
    /// `elev-000-10`
    Elev000_10 = 12,
    /// `elev-000-05`
    Elev000_05 = 13,
    /// `elev-000-02`
    Elev000_02 = 14,
    /// `elev-000-01`
    Elev000_01 = 15,
}

impl ElevationConfidence {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Elev500_00 => "elev-500-00",
            Self::Elev200_00 => "elev-200-00",
            Self::Elev100_00 => "elev-100-00",
            Self::Elev050_00 => "elev-050-00",
            Self::Elev020_00 => "elev-020-00",
            Self::Elev010_00 => "elev-010-00",
            Self::Elev005_00 => "elev-005-00",
            Self::Elev002_00 => "elev-002-00",
            Self::Elev001_00 => "elev-001-00",
            Self::Elev000_50 => "elev-000-50",
            Self::Elev000_20 => "elev-000-20",
            Self::Elev000_10 => "elev-000-10",
            Self::Elev000_05 => "elev-000-05",
            Self::Elev000_02 => "elev-000-02",
            Self::Elev000_01 => "elev-000-01",
        }
    }
}

/// `HeadingConfidence` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum HeadingConfidence {
    /// `unavailable`
    Unavailable = 0,
    /// `prec10deg`
    Prec10deg = 1,
    /// `prec05deg`
    Prec05deg = 2,
    /// `prec01deg`
    Prec01deg = 3,
    /// `prec0-1deg`
    Prec0_1deg = 4,
    /// `prec0-05deg`
    Prec0_05deg = 5,
    /// `prec0-01deg`
    Prec0_01deg = 6,
    /// `prec0-0125deg`
    Prec0_0125deg = 7,
}

impl HeadingConfidence {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Prec10deg => "prec10deg",
            Self::Prec05deg => "prec05deg",
            Self::Prec01deg => "prec01deg",
            Self::Prec0_1deg => "prec0-1deg",
            Self::Prec0_05deg => "prec0-05deg",
            Self::Prec0_01deg => "prec0-01deg",
            Self::Prec0_0125deg => "prec0-0125deg",
        }
    }
}

/// `SpeedConfidence` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum SpeedConfidence {
    /// `unavailable`
    Unavailable = 0,
    /// `prec100ms`
    Prec100ms = 1,
    /// `prec10ms`
    Prec10ms = 2,
    /// `prec5ms`
    Prec5ms = 3,
    /// `prec1ms`
    Prec1ms = 4,
    /// `prec0-1ms`
    Prec0_1ms = 5,
    /// `prec0-05ms`
    Prec0_05ms = 6,
    /// `prec0-01ms`
    Prec0_01ms = 7,
}

impl SpeedConfidence {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Prec100ms => "prec100ms",
            Self::Prec10ms => "prec10ms",
            Self::Prec5ms => "prec5ms",
            Self::Prec1ms => "prec1ms",
            Self::Prec0_1ms => "prec0-1ms",
            Self::Prec0_05ms => "prec0-05ms",
            Self::Prec0_01ms => "prec0-01ms",
        }
    }
}

/// `PropelledInformation` (CHOICE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum PropelledInformation {
    /// `human`
    Human(HumanPropelledType),
    /// `animal`
    Animal(AnimalPropelledType),
    /// `motor`
    Motor(MotorizedPropelledType),
}

/// `HumanPropelledType` (ENUMERATED, extensible).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum HumanPropelledType {
    /// `unavailable`
    Unavailable = 0,
    /// `otherTypes`
    OtherTypes = 1,
    /// `onFoot`
    OnFoot = 2,
    /// `skateboard`
    Skateboard = 3,
    /// `pushOrKickScooter`
    PushOrKickScooter = 4,
    /// `wheelchair`
    Wheelchair = 5,
}

impl HumanPropelledType {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::OtherTypes => "otherTypes",
            Self::OnFoot => "onFoot",
            Self::Skateboard => "skateboard",
            Self::PushOrKickScooter => "pushOrKickScooter",
            Self::Wheelchair => "wheelchair",
        }
    }
}

/// `AnimalPropelledType` (ENUMERATED, extensible).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum AnimalPropelledType {
    /// `unavailable`
    Unavailable = 0,
    /// `otherTypes`
    OtherTypes = 1,
    /// `animalMounted`
    AnimalMounted = 2,
    /// `animalDrawnCarriage`
    AnimalDrawnCarriage = 3,
}

impl AnimalPropelledType {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::OtherTypes => "otherTypes",
            Self::AnimalMounted => "animalMounted",
            Self::AnimalDrawnCarriage => "animalDrawnCarriage",
        }
    }
}

/// `MotorizedPropelledType` (ENUMERATED, extensible).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum MotorizedPropelledType {
    /// `unavailable`
    Unavailable = 0,
    /// `otherTypes`
    OtherTypes = 1,
    /// `wheelChair`
    WheelChair = 2,
    /// `bicycle`
    Bicycle = 3,
    /// `scooter`
    Scooter = 4,
    /// `selfBalancingDevice`
    SelfBalancingDevice = 5,
}

impl MotorizedPropelledType {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::OtherTypes => "otherTypes",
            Self::WheelChair => "wheelChair",
            Self::Bicycle => "bicycle",
            Self::Scooter => "scooter",
            Self::SelfBalancingDevice => "selfBalancingDevice",
        }
    }
}

/// `Attachment` (ENUMERATED, extensible).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum Attachment {
    /// `unavailable`
    Unavailable = 0,
    /// `stroller`
    Stroller = 1,
    /// `bicycleTrailer`
    BicycleTrailer = 2,
    /// `cart`
    Cart = 3,
    /// `wheelchair`
    Wheelchair = 4,
    /// `otherWalkAssistAttachments`
    OtherWalkAssistAttachments = 5,
    /// `pet`
    Pet = 6,
}

impl Attachment {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Stroller => "stroller",
            Self::BicycleTrailer => "bicycleTrailer",
            Self::Cart => "cart",
            Self::Wheelchair => "wheelchair",
            Self::OtherWalkAssistAttachments => "otherWalkAssistAttachments",
            Self::Pet => "pet",
        }
    }
}

/// `AttachmentRadius` (0..=200).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=200"))]
pub struct AttachmentRadius(pub u8);

/// `MinuteOfTheYear`: minutes since the start of the UTC year; 527040 = unavailable (0..=527040).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=527040"))]
pub struct MinuteOfTheYear(pub u32);

/// `DescriptiveName` (IA5String V(0..127) S(SIZE(1..63))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("1..=63"))]
pub struct DescriptiveName(pub Ia5String);

/// `IntersectionReferenceID` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct IntersectionReferenceId {
    /// `region`
    pub region: Option<RoadRegulatorId>,
    /// `id`
    pub id: IntersectionId,
}

/// `RoadRegulatorID` (0..=65535).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=65535"))]
pub struct RoadRegulatorId(pub u16);

/// `IntersectionID` (0..=65535).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=65535"))]
pub struct IntersectionId(pub u16);

/// `LaneID` (0..=255).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=255"))]
pub struct LaneId(pub u8);

/// `SignalGroupID` (0..=255).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=255"))]
pub struct SignalGroupId(pub u8);

/// `RestrictionClassID` (0..=255).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=255"))]
pub struct RestrictionClassId(pub u8);

/// `LaneConnectionID` (0..=255).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=255"))]
pub struct LaneConnectionId(pub u8);

/// `RoadAuthorityID` (CHOICE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum RoadAuthorityId {
    /// `fullRdAuthID`
    FullRdAuthID(FullRoadAuthorityId),
    /// `relRdAuthID`
    RelRdAuthID(RelativeRoadAuthorityId),
}

/// `FullRoadAuthorityID` (OBJECT_IDENTIFIER, kept as its content octets).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate)]
pub struct FullRoadAuthorityId(pub OctetString);

/// `RelativeRoadAuthorityID` (RELATIVE_OID, kept as its content octets).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate)]
pub struct RelativeRoadAuthorityId(pub OctetString);
