//! SAE J3224 `SensorDataSharingMessage` (J2735 messageId 41) and its data frames/elements.
//!
//! Written from the published SAE field definitions (see the `j2735` module docs); each
//! type's doc line gives its ASN.1 name, its range or size, and the unit of physical values.

use rasn::prelude::*;

use super::common::*;

/// `SensorDataSharingMessage` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct SensorDataSharingMessage {
    /// `msgCnt`
    pub msg_cnt: MsgCount,
    /// `sourceID`
    pub source_id: TemporaryId,
    /// `equipmentType`
    pub equipment_type: EquipmentType,
    /// `sDSMTimeStamp`
    pub sdsm_time_stamp: DDateTime,
    /// `refPos`
    pub ref_pos: Position3D,
    /// `refPosXYConf`
    pub ref_pos_xy_conf: PositionalAccuracy,
    /// `refPosElConf`
    pub ref_pos_el_conf: Option<ElevationConfidence>,
    /// `objects`
    pub objects: DetectedObjectList,
}

/// `EquipmentType` (ENUMERATED, extensible).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum EquipmentType {
    /// `unknown`
    Unknown = 0,
    /// `rsu`
    Rsu = 1,
    /// `obu`
    Obu = 2,
    /// `vru`
    Vru = 3,
}

impl EquipmentType {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Rsu => "rsu",
            Self::Obu => "obu",
            Self::Vru => "vru",
        }
    }
}

/// `DetectedObjectList` (SEQUENCE S(SIZE(1..256)) OF DetectedObjectData).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=256"))]
pub struct DetectedObjectList(pub Vec<DetectedObjectData>);

/// `DetectedObjectData` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct DetectedObjectData {
    /// `detObjCommon`
    pub det_obj_common: DetectedObjectCommonData,
    /// `detObjOptData`
    pub det_obj_opt_data: Option<DetectedObjectOptionalData>,
}

/// `DetectedObjectCommonData` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct DetectedObjectCommonData {
    /// `objType`
    pub obj_type: ObjectType,
    /// `objTypeCfd`
    pub obj_type_cfd: ClassificationConfidence,
    /// `objectID`
    pub object_id: ObjectId,
    /// `measurementTime`
    pub measurement_time: MeasurementTimeOffset,
    /// `timeConfidence`
    pub time_confidence: TimeConfidence,
    /// `pos`
    pub pos: PositionOffsetXyz,
    /// `posConfidence`
    pub pos_confidence: PositionConfidenceSet,
    /// `speed`
    pub speed: Speed,
    /// `speedConfidence`
    pub speed_confidence: SpeedConfidence,
    /// `speedZ`
    pub speed_z: Option<Speed>,
    /// `speedConfidenceZ`
    pub speed_confidence_z: Option<SpeedConfidence>,
    /// `heading`
    pub heading: Heading,
    /// `headingConf`
    pub heading_conf: HeadingConfidence,
    /// `accel4way`
    pub accel_4way: Option<AccelerationSet4Way>,
    /// `accCfdX`
    pub acc_cfd_x: Option<AccelerationConfidence>,
    /// `accCfdY`
    pub acc_cfd_y: Option<AccelerationConfidence>,
    /// `accCfdZ`
    pub acc_cfd_z: Option<AccelerationConfidence>,
    /// `accCfdYaw`
    pub acc_cfd_yaw: Option<YawRateConfidence>,
}

/// `ObjectType` (ENUMERATED, extensible).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum ObjectType {
    /// `unknown`
    Unknown = 0,
    /// `vehicle`
    Vehicle = 1,
    /// `vru`
    Vru = 2,
    /// `animal`
    Animal = 3,
}

impl ObjectType {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Vehicle => "vehicle",
            Self::Vru => "vru",
            Self::Animal => "animal",
        }
    }
}

/// `ClassificationConfidence`: classification confidence in percent (0..=100); 101 = unavailable (0..=101).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=101"))]
pub struct ClassificationConfidence(pub u8);

/// `ObjectID`: object identifier assigned by the sender, stable while it tracks the object (0..=65535).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=65535"))]
pub struct ObjectId(pub u16);

/// `MeasurementTimeOffset`: time of the measurement relative to `sDSMTimeStamp` in ms (-1500..=1500).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-1500..=1500"))]
pub struct MeasurementTimeOffset(pub i16);

/// `PositionOffsetXYZ` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct PositionOffsetXyz {
    /// `offsetX`
    pub offset_x: ObjectDistance,
    /// `offsetY`
    pub offset_y: ObjectDistance,
    /// `offsetZ`
    pub offset_z: Option<ObjectDistance>,
}

/// `ObjectDistance`: offset from the reference position in units of 0.1 m (x east, y north, z up) (-32767..=32767).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-32767..=32767"))]
pub struct ObjectDistance(pub i16);

/// `AccelerationConfidence` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum AccelerationConfidence {
    /// `unavailable`
    Unavailable = 0,
    /// `accl-100-00`
    Accl100_00 = 1,
    /// `accl-010-00`
    Accl010_00 = 2,
    /// `accl-005-00`
    Accl005_00 = 3,
    /// `accl-001-00`
    Accl001_00 = 4,
    /// `accl-000-10`
    Accl000_10 = 5,
    /// `accl-000-05`
    Accl000_05 = 6,
    /// `accl-000-01`
    Accl000_01 = 7,
}

impl AccelerationConfidence {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Accl100_00 => "accl-100-00",
            Self::Accl010_00 => "accl-010-00",
            Self::Accl005_00 => "accl-005-00",
            Self::Accl001_00 => "accl-001-00",
            Self::Accl000_10 => "accl-000-10",
            Self::Accl000_05 => "accl-000-05",
            Self::Accl000_01 => "accl-000-01",
        }
    }
}

/// `YawRateConfidence` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum YawRateConfidence {
    /// `unavailable`
    Unavailable = 0,
    /// `degSec-100-00`
    DegSec100_00 = 1,
    /// `degSec-010-00`
    DegSec010_00 = 2,
    /// `degSec-005-00`
    DegSec005_00 = 3,
    /// `degSec-001-00`
    DegSec001_00 = 4,
    /// `degSec-000-10`
    DegSec000_10 = 5,
    /// `degSec-000-05`
    DegSec000_05 = 6,
    /// `degSec-000-01`
    DegSec000_01 = 7,
}

impl YawRateConfidence {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::DegSec100_00 => "degSec-100-00",
            Self::DegSec010_00 => "degSec-010-00",
            Self::DegSec005_00 => "degSec-005-00",
            Self::DegSec001_00 => "degSec-001-00",
            Self::DegSec000_10 => "degSec-000-10",
            Self::DegSec000_05 => "degSec-000-05",
            Self::DegSec000_01 => "degSec-000-01",
        }
    }
}

/// `DetectedObjectOptionalData` (CHOICE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(choice, automatic_tags)]
pub enum DetectedObjectOptionalData {
    /// `detVeh`
    DetVeh(DetectedVehicleData),
    /// `detVRU`
    DetVru(DetectedVRUData),
    /// `detObst`
    DetObst(DetectedObstacleData),
}

/// `DetectedVehicleData` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct DetectedVehicleData {
    /// `lights`
    pub lights: Option<ExteriorLights>,
    /// `vehAttitude`
    pub veh_attitude: Option<Attitude>,
    /// `vehAttitudeConfidence`
    pub veh_attitude_confidence: Option<AttitudeConfidence>,
    /// `vehAngVel`
    pub veh_ang_vel: Option<AngularVelocity>,
    /// `vehAngVelConfidence`
    pub veh_ang_vel_confidence: Option<AngularVelocityConfidence>,
    /// `size`
    pub size: Option<VehicleSize>,
    /// `height`
    pub height: Option<VehicleHeight>,
    /// `vehicleSizeConfidence`
    pub vehicle_size_confidence: Option<VehicleSizeConfidence>,
    /// `vehicleClass`
    pub vehicle_class: Option<BasicVehicleClass>,
    /// `classConf`
    pub class_conf: Option<ClassificationConfidence>,
}

/// `ExteriorLights` (BIT STRING S+(SIZE(9..9,...))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("9", extensible))]
pub struct ExteriorLights(pub BitString);

/// `Attitude` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct Attitude {
    /// `pitch`
    pub pitch: PitchDetected,
    /// `roll`
    pub roll: RollDetected,
    /// `yaw`
    pub yaw: YawDetected,
}

/// `PitchDetected` (-7200..=7200).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-7200..=7200"))]
pub struct PitchDetected(pub i16);

/// `RollDetected` (-14400..=14400).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-14400..=14400"))]
pub struct RollDetected(pub i16);

/// `YawDetected` (-14400..=14400).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-14400..=14400"))]
pub struct YawDetected(pub i16);

/// `AttitudeConfidence` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct AttitudeConfidence {
    /// `pitchConfidence`
    pub pitch_confidence: HeadingConfidence,
    /// `rollConfidence`
    pub roll_confidence: HeadingConfidence,
    /// `yawConfidence`
    pub yaw_confidence: HeadingConfidence,
}

/// `AngularVelocity` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct AngularVelocity {
    /// `pitchRate`
    pub pitch_rate: PitchRate,
    /// `rollRate`
    pub roll_rate: RollRate,
}

/// `PitchRate` (-32767..=32767).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-32767..=32767"))]
pub struct PitchRate(pub i16);

/// `RollRate` (-32767..=32767).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-32767..=32767"))]
pub struct RollRate(pub i16);

/// `AngularVelocityConfidence` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct AngularVelocityConfidence {
    /// `pitchRateConfidence`
    pub pitch_rate_confidence: Option<PitchRateConfidence>,
    /// `rollRateConfidence`
    pub roll_rate_confidence: Option<RollRateConfidence>,
}

/// `PitchRateConfidence` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum PitchRateConfidence {
    /// `unavailable`
    Unavailable = 0,
    /// `degSec-100-00`
    DegSec100_00 = 1,
    /// `degSec-010-00`
    DegSec010_00 = 2,
    /// `degSec-005-00`
    DegSec005_00 = 3,
    /// `degSec-001-00`
    DegSec001_00 = 4,
    /// `degSec-000-10`
    DegSec000_10 = 5,
    /// `degSec-000-05`
    DegSec000_05 = 6,
    /// `degSec-000-01`
    DegSec000_01 = 7,
}

impl PitchRateConfidence {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::DegSec100_00 => "degSec-100-00",
            Self::DegSec010_00 => "degSec-010-00",
            Self::DegSec005_00 => "degSec-005-00",
            Self::DegSec001_00 => "degSec-001-00",
            Self::DegSec000_10 => "degSec-000-10",
            Self::DegSec000_05 => "degSec-000-05",
            Self::DegSec000_01 => "degSec-000-01",
        }
    }
}

/// `RollRateConfidence` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum RollRateConfidence {
    /// `unavailable`
    Unavailable = 0,
    /// `degSec-100-00`
    DegSec100_00 = 1,
    /// `degSec-010-00`
    DegSec010_00 = 2,
    /// `degSec-005-00`
    DegSec005_00 = 3,
    /// `degSec-001-00`
    DegSec001_00 = 4,
    /// `degSec-000-10`
    DegSec000_10 = 5,
    /// `degSec-000-05`
    DegSec000_05 = 6,
    /// `degSec-000-01`
    DegSec000_01 = 7,
}

impl RollRateConfidence {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::DegSec100_00 => "degSec-100-00",
            Self::DegSec010_00 => "degSec-010-00",
            Self::DegSec005_00 => "degSec-005-00",
            Self::DegSec001_00 => "degSec-001-00",
            Self::DegSec000_10 => "degSec-000-10",
            Self::DegSec000_05 => "degSec-000-05",
            Self::DegSec000_01 => "degSec-000-01",
        }
    }
}

/// `VehicleHeight`: vehicle height in units of 5 cm; 0 = unavailable (0..=127).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=127"))]
pub struct VehicleHeight(pub u8);

/// `VehicleSizeConfidence` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct VehicleSizeConfidence {
    /// `vehicleWidthConfidence`
    pub vehicle_width_confidence: SizeValueConfidence,
    /// `vehicleLengthConfidence`
    pub vehicle_length_confidence: SizeValueConfidence,
    /// `vehicleHeightConfidence`
    pub vehicle_height_confidence: Option<SizeValueConfidence>,
}

/// `SizeValueConfidence` (ENUMERATED).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
pub enum SizeValueConfidence {
    /// `unavailable`
    Unavailable = 0,
    /// `size-100-00`
    Size100_00 = 1,
    /// `size-050-00`
    Size050_00 = 2,
    /// `size-020-00`
    Size020_00 = 3,
    /// `size-010-00`
    Size010_00 = 4,
    /// `size-005-00`
    Size005_00 = 5,
    /// `size-002-00`
    Size002_00 = 6,
    /// `size-001-00`
    Size001_00 = 7,
    /// `size-000-50`
    Size000_50 = 8,
    /// `size-000-20`
    Size000_20 = 9,
    /// `size-000-10`
    Size000_10 = 10,
    /// `size-000-05`
    Size000_05 = 11,
    /// `size-000-02`
    Size000_02 = 12,
    /// `size-000-01`
    Size000_01 = 13,
}

impl SizeValueConfidence {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Size100_00 => "size-100-00",
            Self::Size050_00 => "size-050-00",
            Self::Size020_00 => "size-020-00",
            Self::Size010_00 => "size-010-00",
            Self::Size005_00 => "size-005-00",
            Self::Size002_00 => "size-002-00",
            Self::Size001_00 => "size-001-00",
            Self::Size000_50 => "size-000-50",
            Self::Size000_20 => "size-000-20",
            Self::Size000_10 => "size-000-10",
            Self::Size000_05 => "size-000-05",
            Self::Size000_02 => "size-000-02",
            Self::Size000_01 => "size-000-01",
        }
    }
}

/// `BasicVehicleClass` (0..=255).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=255"))]
pub struct BasicVehicleClass(pub u8);

/// `DetectedVRUData` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct DetectedVRUData {
    /// `basicType`
    pub basic_type: Option<PersonalDeviceUserType>,
    /// `propulsion`
    pub propulsion: Option<PropelledInformation>,
    /// `attachment`
    pub attachment: Option<Attachment>,
    /// `radius`
    pub radius: Option<AttachmentRadius>,
}

/// `DetectedObstacleData` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct DetectedObstacleData {
    /// `obstSize`
    pub obst_size: ObstacleSize,
    /// `obstSizeConfidence`
    pub obst_size_confidence: ObstacleSizeConfidence,
}

/// `ObstacleSize` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct ObstacleSize {
    /// `width`
    pub width: SizeValue,
    /// `length`
    pub length: SizeValue,
    /// `height`
    pub height: Option<SizeValue>,
}

/// `SizeValue`: object dimension in units of 0.1 m (0..=1023).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=1023"))]
pub struct SizeValue(pub u16);

/// `ObstacleSizeConfidence` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct ObstacleSizeConfidence {
    /// `widthConfidence`
    pub width_confidence: SizeValueConfidence,
    /// `lengthConfidence`
    pub length_confidence: SizeValueConfidence,
    /// `heightConfidence`
    pub height_confidence: Option<SizeValueConfidence>,
}
