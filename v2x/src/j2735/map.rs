//! SAE J2735 `MapData` (MAP, messageId 18) and its data frames/elements.
//!
//! Written from the published SAE field definitions (see the `j2735` module docs); each
//! type's doc line gives its ASN.1 name, its range or size, and the unit of physical values.

use rasn::prelude::*;

use super::RegionalExtension;
use super::common::*;

/// `MapData` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct MapData {
    /// `timeStamp`
    pub time_stamp: Option<MinuteOfTheYear>,
    /// `msgIssueRevision`
    pub msg_issue_revision: MsgCount,
    /// `layerType`
    pub layer_type: Option<LayerType>,
    /// `layerID`
    pub layer_id: Option<LayerId>,
    /// `intersections`
    pub intersections: Option<IntersectionGeometryList>,
    /// `roadSegments`
    pub road_segments: Option<RoadSegmentList>,
    /// `dataParameters`
    pub data_parameters: Option<DataParameters>,
    /// `restrictionList`
    pub restriction_list: Option<RestrictionClassList>,
    /// `regional`
    #[rasn(size("1..=4"))]
    pub regional: Option<Vec<RegionalExtension>>,
}

/// `LayerType` (ENUMERATED, extensible).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum LayerType {
    /// `none`
    None = 0,
    /// `mixedContent`
    MixedContent = 1,
    /// `generalMapData`
    GeneralMapData = 2,
    /// `intersectionData`
    IntersectionData = 3,
    /// `curveData`
    CurveData = 4,
    /// `roadwaySectionData`
    RoadwaySectionData = 5,
    /// `parkingAreaData`
    ParkingAreaData = 6,
    /// `sharedLaneData`
    SharedLaneData = 7,
}

impl LayerType {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::MixedContent => "mixedContent",
            Self::GeneralMapData => "generalMapData",
            Self::IntersectionData => "intersectionData",
            Self::CurveData => "curveData",
            Self::RoadwaySectionData => "roadwaySectionData",
            Self::ParkingAreaData => "parkingAreaData",
            Self::SharedLaneData => "sharedLaneData",
        }
    }
}

/// `LayerID` (0..=100).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=100"))]
pub struct LayerId(pub u8);

/// `IntersectionGeometryList` (SEQUENCE S(SIZE(1..32)) OF IntersectionGeometry).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=32"))]
pub struct IntersectionGeometryList(pub Vec<IntersectionGeometry>);

/// `IntersectionGeometry` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct IntersectionGeometry {
    /// `name`
    pub name: Option<DescriptiveName>,
    /// `id`
    pub id: IntersectionReferenceId,
    /// `revision`
    pub revision: MsgCount,
    /// `refPoint`
    pub ref_point: Position3D,
    /// `laneWidth`
    pub lane_width: Option<LaneWidth>,
    /// `speedLimits`
    pub speed_limits: Option<SpeedLimitList>,
    /// `laneSet`
    pub lane_set: LaneList,
    /// `preemptPriorityData`
    pub preempt_priority_data: Option<PreemptPriorityList>,
    /// `regional`
    #[rasn(size("1..=4"))]
    pub regional: Option<Vec<RegionalExtension>>,
    /// `roadAuthorityID`
    #[rasn(extension_addition)]
    pub road_authority_id: Option<RoadAuthorityId>,
}

/// `LaneWidth`: lane width in cm (0..=32767).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=32767"))]
pub struct LaneWidth(pub u16);

/// `SpeedLimitList` (SEQUENCE S(SIZE(1..9)) OF RegulatorySpeedLimit).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=9"))]
pub struct SpeedLimitList(pub Vec<RegulatorySpeedLimit>);

/// `RegulatorySpeedLimit` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct RegulatorySpeedLimit {
    /// `type`
    pub kind: SpeedLimitType,
    /// `speed`
    pub speed: Velocity,
}

/// `SpeedLimitType` (ENUMERATED, extensible).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum SpeedLimitType {
    /// `unknown`
    Unknown = 0,
    /// `maxSpeedInSchoolZone`
    MaxSpeedInSchoolZone = 1,
    /// `maxSpeedInSchoolZoneWhenChildrenArePresent`
    MaxSpeedInSchoolZoneWhenChildrenArePresent = 2,
    /// `maxSpeedInConstructionZone`
    MaxSpeedInConstructionZone = 3,
    /// `vehicleMinSpeed`
    VehicleMinSpeed = 4,
    /// `vehicleMaxSpeed`
    VehicleMaxSpeed = 5,
    /// `vehicleNightMaxSpeed`
    VehicleNightMaxSpeed = 6,
    /// `truckMinSpeed`
    TruckMinSpeed = 7,
    /// `truckMaxSpeed`
    TruckMaxSpeed = 8,
    /// `truckNightMaxSpeed`
    TruckNightMaxSpeed = 9,
    /// `vehiclesWithTrailersMinSpeed`
    VehiclesWithTrailersMinSpeed = 10,
    /// `vehiclesWithTrailersMaxSpeed`
    VehiclesWithTrailersMaxSpeed = 11,
    /// `vehiclesWithTrailersNightMaxSpeed`
    VehiclesWithTrailersNightMaxSpeed = 12,
}

impl SpeedLimitType {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::MaxSpeedInSchoolZone => "maxSpeedInSchoolZone",
            Self::MaxSpeedInSchoolZoneWhenChildrenArePresent => "maxSpeedInSchoolZoneWhenChildrenArePresent",
            Self::MaxSpeedInConstructionZone => "maxSpeedInConstructionZone",
            Self::VehicleMinSpeed => "vehicleMinSpeed",
            Self::VehicleMaxSpeed => "vehicleMaxSpeed",
            Self::VehicleNightMaxSpeed => "vehicleNightMaxSpeed",
            Self::TruckMinSpeed => "truckMinSpeed",
            Self::TruckMaxSpeed => "truckMaxSpeed",
            Self::TruckNightMaxSpeed => "truckNightMaxSpeed",
            Self::VehiclesWithTrailersMinSpeed => "vehiclesWithTrailersMinSpeed",
            Self::VehiclesWithTrailersMaxSpeed => "vehiclesWithTrailersMaxSpeed",
            Self::VehiclesWithTrailersNightMaxSpeed => "vehiclesWithTrailersNightMaxSpeed",
        }
    }
}

/// `LaneList` (SEQUENCE S(SIZE(1..255)) OF GenericLane).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=255"))]
pub struct LaneList(pub Vec<GenericLane>);

/// `GenericLane` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct GenericLane {
    /// `laneID`
    pub lane_id: LaneId,
    /// `name`
    pub name: Option<DescriptiveName>,
    /// `ingressApproach`
    pub ingress_approach: Option<ApproachId>,
    /// `egressApproach`
    pub egress_approach: Option<ApproachId>,
    /// `laneAttributes`
    pub lane_attributes: LaneAttributes,
    /// `maneuvers`
    pub maneuvers: Option<AllowedManeuvers>,
    /// `nodeList`
    pub node_list: NodeListXY,
    /// `connectsTo`
    pub connects_to: Option<ConnectsToList>,
    /// `overlays`
    pub overlays: Option<OverlayLaneList>,
    /// `regional`
    #[rasn(size("1..=4"))]
    pub regional: Option<Vec<RegionalExtension>>,
}

/// `ApproachID` (0..=15).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=15"))]
pub struct ApproachId(pub u8);

/// `LaneAttributes` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct LaneAttributes {
    /// `directionalUse`
    pub directional_use: LaneDirection,
    /// `sharedWith`
    pub shared_with: LaneSharing,
    /// `laneType`
    pub lane_type: LaneTypeAttributes,
    /// `regional`
    pub regional: Option<RegionalExtension>,
}

/// `LaneDirection` (BIT STRING S(SIZE(2..2))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("2"))]
pub struct LaneDirection(pub BitString);

/// `LaneSharing` (BIT STRING S(SIZE(10..10))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("10"))]
pub struct LaneSharing(pub BitString);

/// `LaneTypeAttributes` (CHOICE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum LaneTypeAttributes {
    /// `vehicle`
    Vehicle(LaneAttributesVehicle),
    /// `crosswalk`
    Crosswalk(LaneAttributesCrosswalk),
    /// `bikeLane`
    BikeLane(LaneAttributesBike),
    /// `sidewalk`
    Sidewalk(LaneAttributesSidewalk),
    /// `median`
    Median(LaneAttributesBarrier),
    /// `striping`
    Striping(LaneAttributesStriping),
    /// `trackedVehicle`
    TrackedVehicle(LaneAttributesTrackedVehicle),
    /// `parking`
    Parking(LaneAttributesParking),
}

/// `LaneAttributes-Vehicle` (BIT STRING S+(SIZE(8..8,...))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("8", extensible))]
pub struct LaneAttributesVehicle(pub BitString);

/// `LaneAttributes-Crosswalk` (BIT STRING S(SIZE(16..16))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("16"))]
pub struct LaneAttributesCrosswalk(pub BitString);

/// `LaneAttributes-Bike` (BIT STRING S(SIZE(16..16))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("16"))]
pub struct LaneAttributesBike(pub BitString);

/// `LaneAttributes-Sidewalk` (BIT STRING S(SIZE(16..16))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("16"))]
pub struct LaneAttributesSidewalk(pub BitString);

/// `LaneAttributes-Barrier` (BIT STRING S(SIZE(16..16))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("16"))]
pub struct LaneAttributesBarrier(pub BitString);

/// `LaneAttributes-Striping` (BIT STRING S(SIZE(16..16))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("16"))]
pub struct LaneAttributesStriping(pub BitString);

/// `LaneAttributes-TrackedVehicle` (BIT STRING S(SIZE(16..16))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("16"))]
pub struct LaneAttributesTrackedVehicle(pub BitString);

/// `LaneAttributes-Parking` (BIT STRING S(SIZE(16..16))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("16"))]
pub struct LaneAttributesParking(pub BitString);

/// `AllowedManeuvers` (BIT STRING S(SIZE(12..12))).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("12"))]
pub struct AllowedManeuvers(pub BitString);

/// `NodeListXY` (CHOICE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum NodeListXY {
    /// `nodes`
    Nodes(NodeSetXY),
    /// `computed`
    Computed(ComputedLane),
}

/// `NodeSetXY` (SEQUENCE S(SIZE(2..63)) OF NodeXY).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("2..=63"))]
pub struct NodeSetXY(pub Vec<NodeXY>);

/// `NodeXY` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct NodeXY {
    /// `delta`
    pub delta: NodeOffsetPointXY,
    /// `attributes`
    pub attributes: Option<NodeAttributeSetXY>,
}

/// `NodeOffsetPointXY` (CHOICE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(choice, automatic_tags)]
pub enum NodeOffsetPointXY {
    /// `node-XY1`
    NodeXy1(NodeXY20b),
    /// `node-XY2`
    NodeXy2(NodeXY22b),
    /// `node-XY3`
    NodeXy3(NodeXY24b),
    /// `node-XY4`
    NodeXy4(NodeXY26b),
    /// `node-XY5`
    NodeXy5(NodeXY28b),
    /// `node-XY6`
    NodeXy6(NodeXY32b),
    /// `node-LatLon`
    NodeLatLon(NodeLLmD64b),
    /// `regional`
    Regional(RegionalExtension),
}

/// `Node-XY-20b` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct NodeXY20b {
    /// `x`
    pub x: OffsetB10,
    /// `y`
    pub y: OffsetB10,
}

/// `Offset-B10`: node offset in cm (-512..=511).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-512..=511"))]
pub struct OffsetB10(pub i16);

/// `Node-XY-22b` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct NodeXY22b {
    /// `x`
    pub x: OffsetB11,
    /// `y`
    pub y: OffsetB11,
}

/// `Offset-B11`: node offset in cm (-1024..=1023).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-1024..=1023"))]
pub struct OffsetB11(pub i16);

/// `Node-XY-24b` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct NodeXY24b {
    /// `x`
    pub x: OffsetB12,
    /// `y`
    pub y: OffsetB12,
}

/// `Offset-B12`: node offset in cm (-2048..=2047).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-2048..=2047"))]
pub struct OffsetB12(pub i16);

/// `Node-XY-26b` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct NodeXY26b {
    /// `x`
    pub x: OffsetB13,
    /// `y`
    pub y: OffsetB13,
}

/// `Offset-B13`: node offset in cm (-4096..=4095).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-4096..=4095"))]
pub struct OffsetB13(pub i16);

/// `Node-XY-28b` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct NodeXY28b {
    /// `x`
    pub x: OffsetB14,
    /// `y`
    pub y: OffsetB14,
}

/// `Offset-B14`: node offset in cm (-8192..=8191).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-8192..=8191"))]
pub struct OffsetB14(pub i16);

/// `Node-XY-32b` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct NodeXY32b {
    /// `x`
    pub x: OffsetB16,
    /// `y`
    pub y: OffsetB16,
}

/// `Offset-B16`: node offset in cm (-32768..=32767).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-32768..=32767"))]
pub struct OffsetB16(pub i16);

/// `Node-LLmD-64b` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct NodeLLmD64b {
    /// `lon`
    pub lon: Longitude,
    /// `lat`
    pub lat: Latitude,
}

/// `NodeAttributeSetXY` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct NodeAttributeSetXY {
    /// `localNode`
    pub local_node: Option<NodeAttributeXYList>,
    /// `disabled`
    pub disabled: Option<SegmentAttributeXYList>,
    /// `enabled`
    pub enabled: Option<SegmentAttributeXYList>,
    /// `data`
    pub data: Option<LaneDataAttributeList>,
    /// `dWidth`
    pub d_width: Option<OffsetB10>,
    /// `dElevation`
    pub d_elevation: Option<OffsetB10>,
    /// `regional`
    #[rasn(size("1..=4"))]
    pub regional: Option<Vec<RegionalExtension>>,
}

/// `NodeAttributeXYList` (SEQUENCE S(SIZE(1..8)) OF NodeAttributeXY).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=8"))]
pub struct NodeAttributeXYList(pub Vec<NodeAttributeXY>);

/// `NodeAttributeXY` (ENUMERATED, extensible).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum NodeAttributeXY {
    /// `reserved`
    Reserved = 0,
    /// `stopLine`
    StopLine = 1,
    /// `roundedCapStyleA`
    RoundedCapStyleA = 2,
    /// `roundedCapStyleB`
    RoundedCapStyleB = 3,
    /// `mergePoint`
    MergePoint = 4,
    /// `divergePoint`
    DivergePoint = 5,
    /// `downstreamStopLine`
    DownstreamStopLine = 6,
    /// `downstreamStartNode`
    DownstreamStartNode = 7,
    /// `closedToTraffic`
    ClosedToTraffic = 8,
    /// `safeIsland`
    SafeIsland = 9,
    /// `curbPresentAtStepOff`
    CurbPresentAtStepOff = 10,
    /// `hydrantPresent`
    HydrantPresent = 11,
}

impl NodeAttributeXY {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::StopLine => "stopLine",
            Self::RoundedCapStyleA => "roundedCapStyleA",
            Self::RoundedCapStyleB => "roundedCapStyleB",
            Self::MergePoint => "mergePoint",
            Self::DivergePoint => "divergePoint",
            Self::DownstreamStopLine => "downstreamStopLine",
            Self::DownstreamStartNode => "downstreamStartNode",
            Self::ClosedToTraffic => "closedToTraffic",
            Self::SafeIsland => "safeIsland",
            Self::CurbPresentAtStepOff => "curbPresentAtStepOff",
            Self::HydrantPresent => "hydrantPresent",
        }
    }
}

/// `SegmentAttributeXYList` (SEQUENCE S(SIZE(1..8)) OF SegmentAttributeXY).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=8"))]
pub struct SegmentAttributeXYList(pub Vec<SegmentAttributeXY>);

/// `SegmentAttributeXY` (ENUMERATED, extensible).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum SegmentAttributeXY {
    /// `reserved`
    Reserved = 0,
    /// `doNotBlock`
    DoNotBlock = 1,
    /// `whiteLine`
    WhiteLine = 2,
    /// `mergingLaneLeft`
    MergingLaneLeft = 3,
    /// `mergingLaneRight`
    MergingLaneRight = 4,
    /// `curbOnLeft`
    CurbOnLeft = 5,
    /// `curbOnRight`
    CurbOnRight = 6,
    /// `loadingzoneOnLeft`
    LoadingzoneOnLeft = 7,
    /// `loadingzoneOnRight`
    LoadingzoneOnRight = 8,
    /// `turnOutPointOnLeft`
    TurnOutPointOnLeft = 9,
    /// `turnOutPointOnRight`
    TurnOutPointOnRight = 10,
    /// `adjacentParkingOnLeft`
    AdjacentParkingOnLeft = 11,
    /// `adjacentParkingOnRight`
    AdjacentParkingOnRight = 12,
    /// `adjacentBikeLaneOnLeft`
    AdjacentBikeLaneOnLeft = 13,
    /// `adjacentBikeLaneOnRight`
    AdjacentBikeLaneOnRight = 14,
    /// `sharedBikeLane`
    SharedBikeLane = 15,
    /// `bikeBoxInFront`
    BikeBoxInFront = 16,
    /// `transitStopOnLeft`
    TransitStopOnLeft = 17,
    /// `transitStopOnRight`
    TransitStopOnRight = 18,
    /// `transitStopInLane`
    TransitStopInLane = 19,
    /// `sharedWithTrackedVehicle`
    SharedWithTrackedVehicle = 20,
    /// `safeIsland`
    SafeIsland = 21,
    /// `lowCurbsPresent`
    LowCurbsPresent = 22,
    /// `rumbleStripPresent`
    RumbleStripPresent = 23,
    /// `audibleSignalingPresent`
    AudibleSignalingPresent = 24,
    /// `adaptiveTimingPresent`
    AdaptiveTimingPresent = 25,
    /// `rfSignalRequestPresent`
    RfSignalRequestPresent = 26,
    /// `partialCurbIntrusion`
    PartialCurbIntrusion = 27,
    /// `taperToLeft`
    TaperToLeft = 28,
    /// `taperToRight`
    TaperToRight = 29,
    /// `taperToCenterLine`
    TaperToCenterLine = 30,
    /// `parallelParking`
    ParallelParking = 31,
    /// `headInParking`
    HeadInParking = 32,
    /// `freeParking`
    FreeParking = 33,
    /// `timeRestrictionsOnParking`
    TimeRestrictionsOnParking = 34,
    /// `costToPark`
    CostToPark = 35,
    /// `midBlockCurbPresent`
    MidBlockCurbPresent = 36,
    /// `unEvenPavementPresent`
    UnEvenPavementPresent = 37,
}

impl SegmentAttributeXY {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::DoNotBlock => "doNotBlock",
            Self::WhiteLine => "whiteLine",
            Self::MergingLaneLeft => "mergingLaneLeft",
            Self::MergingLaneRight => "mergingLaneRight",
            Self::CurbOnLeft => "curbOnLeft",
            Self::CurbOnRight => "curbOnRight",
            Self::LoadingzoneOnLeft => "loadingzoneOnLeft",
            Self::LoadingzoneOnRight => "loadingzoneOnRight",
            Self::TurnOutPointOnLeft => "turnOutPointOnLeft",
            Self::TurnOutPointOnRight => "turnOutPointOnRight",
            Self::AdjacentParkingOnLeft => "adjacentParkingOnLeft",
            Self::AdjacentParkingOnRight => "adjacentParkingOnRight",
            Self::AdjacentBikeLaneOnLeft => "adjacentBikeLaneOnLeft",
            Self::AdjacentBikeLaneOnRight => "adjacentBikeLaneOnRight",
            Self::SharedBikeLane => "sharedBikeLane",
            Self::BikeBoxInFront => "bikeBoxInFront",
            Self::TransitStopOnLeft => "transitStopOnLeft",
            Self::TransitStopOnRight => "transitStopOnRight",
            Self::TransitStopInLane => "transitStopInLane",
            Self::SharedWithTrackedVehicle => "sharedWithTrackedVehicle",
            Self::SafeIsland => "safeIsland",
            Self::LowCurbsPresent => "lowCurbsPresent",
            Self::RumbleStripPresent => "rumbleStripPresent",
            Self::AudibleSignalingPresent => "audibleSignalingPresent",
            Self::AdaptiveTimingPresent => "adaptiveTimingPresent",
            Self::RfSignalRequestPresent => "rfSignalRequestPresent",
            Self::PartialCurbIntrusion => "partialCurbIntrusion",
            Self::TaperToLeft => "taperToLeft",
            Self::TaperToRight => "taperToRight",
            Self::TaperToCenterLine => "taperToCenterLine",
            Self::ParallelParking => "parallelParking",
            Self::HeadInParking => "headInParking",
            Self::FreeParking => "freeParking",
            Self::TimeRestrictionsOnParking => "timeRestrictionsOnParking",
            Self::CostToPark => "costToPark",
            Self::MidBlockCurbPresent => "midBlockCurbPresent",
            Self::UnEvenPavementPresent => "unEvenPavementPresent",
        }
    }
}

/// `LaneDataAttributeList` (SEQUENCE S(SIZE(1..8)) OF LaneDataAttribute).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=8"))]
pub struct LaneDataAttributeList(pub Vec<LaneDataAttribute>);

/// `LaneDataAttribute` (CHOICE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum LaneDataAttribute {
    /// `pathEndPointAngle`
    PathEndPointAngle(DeltaAngle),
    /// `laneCrownPointCenter`
    LaneCrownPointCenter(RoadwayCrownAngle),
    /// `laneCrownPointLeft`
    LaneCrownPointLeft(RoadwayCrownAngle),
    /// `laneCrownPointRight`
    LaneCrownPointRight(RoadwayCrownAngle),
    /// `laneAngle`
    LaneAngle(MergeDivergeNodeAngle),
    /// `speedLimits`
    SpeedLimits(SpeedLimitList),
    /// `regional`
    #[rasn(size("1..=4"))]
    Regional(Vec<RegionalExtension>),
}

/// `DeltaAngle` (-150..=150).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-150..=150"))]
pub struct DeltaAngle(pub i16);

/// `RoadwayCrownAngle` (-128..=127).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-128..=127"))]
pub struct RoadwayCrownAngle(pub i8);

/// `MergeDivergeNodeAngle` (-180..=180).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-180..=180"))]
pub struct MergeDivergeNodeAngle(pub i16);

/// `offsetXaxis` (CHOICE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(choice, automatic_tags)]
pub enum ComputedLaneOffsetXaxis {
    /// `small`
    Small(DrivenLineOffsetSm),
    /// `large`
    Large(DrivenLineOffsetLg),
}

/// `offsetYaxis` (CHOICE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(choice, automatic_tags)]
pub enum ComputedLaneOffsetYaxis {
    /// `small`
    Small(DrivenLineOffsetSm),
    /// `large`
    Large(DrivenLineOffsetLg),
}

/// `ComputedLane` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct ComputedLane {
    /// `referenceLaneId`
    pub reference_lane_id: LaneId,
    /// `offsetXaxis`
    pub offset_x_axis: ComputedLaneOffsetXaxis,
    /// `offsetYaxis`
    pub offset_y_axis: ComputedLaneOffsetYaxis,
    /// `rotateXY`
    pub rotate_xy: Option<Angle>,
    /// `scaleXaxis`
    pub scale_x_axis: Option<ScaleB12>,
    /// `scaleYaxis`
    pub scale_y_axis: Option<ScaleB12>,
    /// `regional`
    #[rasn(size("1..=4"))]
    pub regional: Option<Vec<RegionalExtension>>,
}

/// `DrivenLineOffsetSm` (-2047..=2047).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-2047..=2047"))]
pub struct DrivenLineOffsetSm(pub i16);

/// `DrivenLineOffsetLg` (-32767..=32767).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-32767..=32767"))]
pub struct DrivenLineOffsetLg(pub i16);

/// `Angle`: angle, clockwise from true north, in units of 0.0125 degree; 28800 = unavailable (0..=28800).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=28800"))]
pub struct Angle(pub u16);

/// `Scale-B12` (-2048..=2047).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("-2048..=2047"))]
pub struct ScaleB12(pub i16);

/// `ConnectsToList` (SEQUENCE S(SIZE(1..16)) OF Connection).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=16"))]
pub struct ConnectsToList(pub Vec<Connection>);

/// `Connection` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct Connection {
    /// `connectingLane`
    pub connecting_lane: ConnectingLane,
    /// `remoteIntersection`
    pub remote_intersection: Option<IntersectionReferenceId>,
    /// `signalGroup`
    pub signal_group: Option<SignalGroupId>,
    /// `userClass`
    pub user_class: Option<RestrictionClassId>,
    /// `connectionID`
    pub connection_id: Option<LaneConnectionId>,
}

/// `ConnectingLane` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct ConnectingLane {
    /// `lane`
    pub lane: LaneId,
    /// `maneuver`
    pub maneuver: Option<AllowedManeuvers>,
}

/// `OverlayLaneList` (SEQUENCE S(SIZE(1..5)) OF LaneID).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=5"))]
pub struct OverlayLaneList(pub Vec<LaneId>);

/// `PreemptPriorityList` (SEQUENCE S(SIZE(1..32)) OF SignalControlZone).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=32"))]
pub struct PreemptPriorityList(pub Vec<SignalControlZone>);

/// `SignalControlZone` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct SignalControlZone {
    /// `zone`
    pub zone: RegionalExtension,
}

/// `RoadSegmentList` (SEQUENCE S(SIZE(1..32)) OF RoadSegment).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=32"))]
pub struct RoadSegmentList(pub Vec<RoadSegment>);

/// `RoadSegment` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct RoadSegment {
    /// `name`
    pub name: Option<DescriptiveName>,
    /// `id`
    pub id: RoadSegmentReferenceId,
    /// `revision`
    pub revision: MsgCount,
    /// `refPoint`
    pub ref_point: Position3D,
    /// `laneWidth`
    pub lane_width: Option<LaneWidth>,
    /// `speedLimits`
    pub speed_limits: Option<SpeedLimitList>,
    /// `roadLaneSet`
    pub road_lane_set: RoadLaneSetList,
    /// `regional`
    #[rasn(size("1..=4"))]
    pub regional: Option<Vec<RegionalExtension>>,
}

/// `RoadSegmentReferenceID` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct RoadSegmentReferenceId {
    /// `region`
    pub region: Option<RoadRegulatorId>,
    /// `id`
    pub id: RoadSegmentId,
}

/// `RoadSegmentID` (0..=65535).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(delegate, value("0..=65535"))]
pub struct RoadSegmentId(pub u16);

/// `RoadLaneSetList` (SEQUENCE S(SIZE(1..255)) OF GenericLane).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=255"))]
pub struct RoadLaneSetList(pub Vec<GenericLane>);

/// `DataParameters` (SEQUENCE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct DataParameters {
    /// `processMethod`
    #[rasn(size("1..=255"))]
    pub process_method: Option<Ia5String>,
    /// `processAgency`
    #[rasn(size("1..=255"))]
    pub process_agency: Option<Ia5String>,
    /// `lastCheckedDate`
    #[rasn(size("1..=255"))]
    pub last_checked_date: Option<Ia5String>,
    /// `geoidUsed`
    #[rasn(size("1..=255"))]
    pub geoid_used: Option<Ia5String>,
}

/// `RestrictionClassList` (SEQUENCE S(SIZE(1..254)) OF RestrictionClassAssignment).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=254"))]
pub struct RestrictionClassList(pub Vec<RestrictionClassAssignment>);

/// `RestrictionClassAssignment` (SEQUENCE).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct RestrictionClassAssignment {
    /// `id`
    pub id: RestrictionClassId,
    /// `users`
    pub users: RestrictionUserTypeList,
}

/// `RestrictionUserTypeList` (SEQUENCE S(SIZE(1..16)) OF RestrictionUserType).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(delegate, size("1..=16"))]
pub struct RestrictionUserTypeList(pub Vec<RestrictionUserType>);

/// `RestrictionUserType` (CHOICE, extensible).
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum RestrictionUserType {
    /// `basicType`
    BasicType(RestrictionAppliesTo),
    /// `regional`
    #[rasn(size("1..=4"))]
    Regional(Vec<RegionalExtension>),
}

/// `RestrictionAppliesTo` (ENUMERATED, extensible).
#[derive(AsnType, Decode, Encode, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum RestrictionAppliesTo {
    /// `none`
    None = 0,
    /// `equippedTransit`
    EquippedTransit = 1,
    /// `equippedTaxis`
    EquippedTaxis = 2,
    /// `equippedOther`
    EquippedOther = 3,
    /// `emissionCompliant`
    EmissionCompliant = 4,
    /// `equippedBicycle`
    EquippedBicycle = 5,
    /// `weightCompliant`
    WeightCompliant = 6,
    /// `heightCompliant`
    HeightCompliant = 7,
    /// `pedestrians`
    Pedestrians = 8,
    /// `slowMovingPersons`
    SlowMovingPersons = 9,
    /// `wheelchairUsers`
    WheelchairUsers = 10,
    /// `visualDisabilities`
    VisualDisabilities = 11,
    /// `audioDisabilities`
    AudioDisabilities = 12,
    /// `otherUnknownDisabilities`
    OtherUnknownDisabilities = 13,
}

impl RestrictionAppliesTo {
    /// The value's ASN.1 identifier.
    pub fn asn1_name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::EquippedTransit => "equippedTransit",
            Self::EquippedTaxis => "equippedTaxis",
            Self::EquippedOther => "equippedOther",
            Self::EmissionCompliant => "emissionCompliant",
            Self::EquippedBicycle => "equippedBicycle",
            Self::WeightCompliant => "weightCompliant",
            Self::HeightCompliant => "heightCompliant",
            Self::Pedestrians => "pedestrians",
            Self::SlowMovingPersons => "slowMovingPersons",
            Self::WheelchairUsers => "wheelchairUsers",
            Self::VisualDisabilities => "visualDisabilities",
            Self::AudioDisabilities => "audioDisabilities",
            Self::OtherUnknownDisabilities => "otherUnknownDisabilities",
        }
    }
}
