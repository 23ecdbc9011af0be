//! ETSI ITS messages: CAM (TS 103 900 v2.3.1, successor of EN 302 637-2) and CPM (TS 103 324
//! v2.1.1), with the common data dictionary (TS 102 894-2 v2.4.1).
//!
//! The ASN.1 types in [`generated`] come from ETSI's modules through `rasn-compiler` 0.16
//! (`cargo run -p pitsense-v2x-codegen`); they are not edited by hand. This module adds what
//! the generator cannot: the PDU dispatch on `ItsPduHeader.messageId` (CDD: cam 2, cpm 14),
//! the CPM's open-type containers (`containerData`, decoded by `containerId`: 1 originating
//! vehicle, 2 originating RSU, 5 perceived objects), SI-unit views, and perceived objects as
//! fusion measurements in the site frame.
//!
//! Units (CDD v2.4.1): latitude/longitude 0.1 µdeg, altitude 0.01 m, Cartesian coordinates
//! 0.01 m, velocity components and speeds 0.01 m/s, Cartesian angles 0.1° counter-clockwise
//! from the x axis, WGS-84 angles and headings 0.1° clockwise from north, object dimensions
//! 0.1 m, confidences at the 95 % level. `TimestampIts` counts TAI milliseconds since
//! 2004-01-01T00:00:00Z (5 leap seconds ahead of UTC since 2017).
//!
//! Frames of perceived objects (TS 103 324 v2.1.1 §6.?: "coordinate systems"): for an RSU
//! (originating RSU container) the x axis points east, y north, z up at the reference position
//! (ENU); for a vehicle (originating vehicle container) x points along the vehicle's
//! `orientationAngle` (clockwise from north), y to its left.

/// Types generated from ETSI's ASN.1 modules (BSD-3-Clause-style ETSI licence, notice in the file).
#[rustfmt::skip]
#[allow(missing_docs, clippy::all, clippy::pedantic, non_camel_case_types, non_snake_case, unused_imports, dead_code)]
pub mod generated;

use nalgebra::{Matrix2, Matrix3, Point3, Vector2, Vector3};
use pitsense_types::{Detection3d, FrameId, Header, ObjectSource, UNKNOWN_CLASS};
use rasn::types::Any;
use serde::Serialize;

use crate::geodesy::{Geodetic, SiteFrame};
use crate::measurement::{MeasurementConfig, MessageKind, ObjectKey, TimeSource, V2xMeasurement};
use generated::cam_pdu_descriptions::{CAM, HighFrequencyContainer};
use generated::cpm_originating_station_containers::OriginatingVehicleContainer;
use generated::cpm_pdu_descriptions::{CollectivePerceptionMessage, WrappedCpmContainer};
use generated::cpm_perceived_object_container::PerceivedObjectContainer;
use generated::etsi_its_cdd::{
    CartesianCoordinateWithConfidence, ObjectClass, ObjectDimension, PerceivedObject, PosConfidenceEllipse,
    Velocity3dWithConfidence, VruProfileAndSubprofile,
};

/// `ItsPduHeader.messageId` of a CAM (CDD `MessageId`).
pub const MESSAGE_ID_CAM: u8 = 2;
/// `ItsPduHeader.messageId` of a CPM.
pub const MESSAGE_ID_CPM: u8 = 14;
/// `CpmContainerId` of the originating vehicle container.
pub const CONTAINER_ORIGINATING_VEHICLE: u8 = 1;
/// `CpmContainerId` of the originating RSU container.
pub const CONTAINER_ORIGINATING_RSU: u8 = 2;
/// `CpmContainerId` of the perceived object container.
pub const CONTAINER_PERCEIVED_OBJECTS: u8 = 5;

/// Unix time of the ITS epoch 2004-01-01T00:00:00Z, milliseconds.
const ITS_EPOCH_UNIX_MS: i64 = 1_072_915_200_000;
/// TAI − UTC growth since the ITS epoch: leap seconds inserted since 2004 (2005, 2008, 2012,
/// 2015, 2016; none since 2017-01-01), milliseconds.
pub const ITS_LEAP_MS: i64 = 5_000;
/// Ratio of a 95 % bound to one standard deviation (normal distribution).
const BOUND_95_TO_SIGMA: f64 = 1.0 / 1.96;

/// Why an ETSI PDU did not decode or encode.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EtsiError {
    /// Fewer than the two octets of `protocolVersion` and `messageId`.
    #[error("ETSI ITS PDU: {length_bytes} bytes, too short for an ItsPduHeader")]
    TooShort {
        /// Length of the input, bytes.
        length_bytes: usize,
    },
    /// The PDU's UPER encoding did not decode.
    #[error("UPER {message} (messageId {message_id}): {reason}")]
    Decode {
        /// `CAM`, `CPM`, or the container's name.
        message: &'static str,
        /// The header's messageId.
        message_id: u8,
        /// The UPER decoder's reason.
        reason: String,
    },
    /// A value that cannot be encoded.
    #[error("UPER encoding of {what}: {reason}")]
    Encode {
        /// The type being encoded.
        what: &'static str,
        /// The encoder's reason.
        reason: String,
    },
}

/// A decoded ETSI ITS PDU.
#[derive(Clone, Debug, PartialEq)]
pub enum EtsiMessage {
    /// A cooperative awareness message.
    Cam(Box<CAM>),
    /// A collective perception message.
    Cpm(Box<CollectivePerceptionMessage>),
    /// Another messageId (DENM 1, SPATEM 4, MAPEM 5, VAM 16...): reported, not decoded.
    Unsupported {
        /// The header's messageId.
        message_id: u8,
        /// The header's stationId.
        station_id: Option<u32>,
    },
}

/// Decodes one ETSI ITS PDU (UPER), dispatching on `ItsPduHeader.messageId` (its second
/// octet: `protocolVersion` and `messageId` are 8-bit fields at the start of every PDU).
///
/// Returns the message and the octets it occupies (the rest of the input is not read).
///
/// # Errors
/// [`EtsiError::TooShort`], or [`EtsiError::Decode`] for protocolVersion 0 (not an ITS PDU)
/// or a malformed CAM or CPM (including a CPM container whose `containerData` does not
/// decode).
pub fn decode_pdu(input: &[u8]) -> Result<(EtsiMessage, usize), EtsiError> {
    let [protocol_version, message_id, ..] = *input else {
        return Err(EtsiError::TooShort { length_bytes: input.len() });
    };
    if protocol_version == 0 {
        return Err(EtsiError::Decode {
            message: "ItsPduHeader",
            message_id,
            reason: "protocolVersion 0 is not an ETSI ITS PDU (a J2735 MessageFrame starts with 0x00)".into(),
        });
    }
    fn decode<T: rasn::Decode>(
        message: &'static str,
        message_id: u8,
        input: &[u8],
    ) -> Result<(T, usize), EtsiError> {
        let (value, rest) = rasn::uper::decode_with_remainder::<T>(input)
            .map_err(|error| EtsiError::Decode { message, message_id, reason: error.to_string() })?;
        Ok((value, input.len().saturating_sub(rest.len())))
    }
    match message_id {
        MESSAGE_ID_CAM => {
            decode::<CAM>("CAM", message_id, input).map(|(cam, n)| (EtsiMessage::Cam(Box::new(cam)), n))
        }
        MESSAGE_ID_CPM => {
            let (cpm, consumed) = decode::<CollectivePerceptionMessage>("CPM", message_id, input)?;
            // Containers are open types: check they decode now, so a message either decodes
            // whole or is reported malformed.
            cpm_perceived_objects(&cpm)?;
            cpm_vehicle_orientation_deg(&cpm)?;
            Ok((EtsiMessage::Cpm(Box::new(cpm)), consumed))
        }
        other => {
            let station_id = input.get(2..6).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            Ok((EtsiMessage::Unsupported { message_id: other, station_id }, input.len()))
        }
    }
}

/// Fuzz entry point (cargo-fuzz target `decode_etsi`, and `tests/etsi.rs` on stable): decodes
/// any bytes as an ETSI PDU and, for a CPM, builds its view and measurements; re-encodes what
/// decoded. Must never panic. Inputs over 64 KiB are ignored (an ETSI PDU fits a GeoNetworking
/// packet).
pub fn fuzz_decode_pdu(data: &[u8]) {
    if data.len() > 1 << 16 {
        return;
    }
    let Ok((message, _)) = decode_pdu(data) else {
        return;
    };
    match message {
        EtsiMessage::Cam(cam) => {
            let _ = cam_view(&cam);
            let _ = encode_cam(&cam);
        }
        EtsiMessage::Cpm(cpm) => {
            let _ = cpm_view(&cpm);
            if let Ok(site) = SiteFrame::new(Geodetic::new(-24.27, -69.07, 3100.0)) {
                let _ = cpm_measurements(&cpm, &site, &MeasurementConfig::default(), u64::MAX / 2);
            }
            let _ = encode_cpm(&cpm);
        }
        EtsiMessage::Unsupported { .. } => {}
    }
}

/// Encodes a CAM (UPER).
///
/// # Errors
/// [`EtsiError::Encode`] when a field is outside its constraint.
pub fn encode_cam(cam: &CAM) -> Result<Vec<u8>, EtsiError> {
    rasn::uper::encode(cam).map_err(|error| EtsiError::Encode { what: "CAM", reason: error.to_string() })
}

/// Encodes a CPM (UPER; containers are carried as the octets they hold).
///
/// # Errors
/// [`EtsiError::Encode`] when a field is outside its constraint.
pub fn encode_cpm(cpm: &CollectivePerceptionMessage) -> Result<Vec<u8>, EtsiError> {
    rasn::uper::encode(cpm).map_err(|error| EtsiError::Encode { what: "CPM", reason: error.to_string() })
}

/// Wraps a container value as the open type `containerData` of a CPM container.
///
/// # Errors
/// [`EtsiError::Encode`] when the container does not encode.
pub fn wrap_container<T: rasn::Encode>(
    container_id: u8,
    container: &T,
) -> Result<WrappedCpmContainer, EtsiError> {
    let octets = rasn::uper::encode(container)
        .map_err(|error| EtsiError::Encode { what: "CPM container", reason: error.to_string() })?;
    Ok(WrappedCpmContainer {
        container_id: generated::cpm_pdu_descriptions::CpmContainerId(container_id),
        container_data: Any::new(octets),
    })
}

fn container(cpm: &CollectivePerceptionMessage, container_id: u8) -> Option<&WrappedCpmContainer> {
    cpm.payload.cpm_containers.0.0.iter().find(|c| c.container_id.0 == container_id)
}

/// The perceived objects of a CPM (empty without a perceived object container).
///
/// # Errors
/// [`EtsiError::Decode`] when the container's octets do not decode.
pub fn cpm_perceived_objects(cpm: &CollectivePerceptionMessage) -> Result<Vec<PerceivedObject>, EtsiError> {
    let Some(wrapped) = container(cpm, CONTAINER_PERCEIVED_OBJECTS) else {
        return Ok(Vec::new());
    };
    let container: PerceivedObjectContainer =
        rasn::uper::decode(wrapped.container_data.as_bytes()).map_err(|error| EtsiError::Decode {
            message: "CPM PerceivedObjectContainer",
            message_id: MESSAGE_ID_CPM,
            reason: error.to_string(),
        })?;
    Ok(container.perceived_objects.0)
}

/// The sender's orientation when it is a vehicle (originating vehicle container), degrees
/// clockwise from north; `None` for an RSU or when unavailable.
///
/// # Errors
/// [`EtsiError::Decode`] when the container's octets do not decode.
pub fn cpm_vehicle_orientation_deg(cpm: &CollectivePerceptionMessage) -> Result<Option<f64>, EtsiError> {
    let Some(wrapped) = container(cpm, CONTAINER_ORIGINATING_VEHICLE) else {
        return Ok(None);
    };
    let vehicle: OriginatingVehicleContainer = rasn::uper::decode(wrapped.container_data.as_bytes())
        .map_err(|error| EtsiError::Decode {
            message: "CPM OriginatingVehicleContainer",
            message_id: MESSAGE_ID_CPM,
            reason: error.to_string(),
        })?;
    let value = vehicle.orientation_angle.value.0;
    Ok((value < 3600).then(|| f64::from(value) * 0.1))
}

/// Latitude or longitude in 0.1 µdeg to degrees; `None` for the `unavailable` values.
fn degrees(value: i32, unavailable: i32) -> Option<f64> {
    (value != unavailable).then(|| f64::from(value) * 1e-7)
}

/// A 0.01-unit value (m, m/s) to SI; `None` for `unavailable`.
fn centi(value: i32, unavailable: i32) -> Option<f64> {
    (value != unavailable).then(|| f64::from(value) * 0.01)
}

/// A coordinate's 95 % confidence (0.01 m) to a one-sigma error, metres; `None` when
/// out of range (4095) or unavailable (4096).
fn coordinate_sigma_m(coordinate: &CartesianCoordinateWithConfidence) -> Option<f64> {
    let value = coordinate.confidence.0;
    (value < 4095).then(|| f64::from(value) * 0.01 * BOUND_95_TO_SIGMA)
}

/// An object dimension (0.1 m) to metres; `None` when out of range or unavailable.
fn dimension_m(dimension: Option<&ObjectDimension>) -> Option<f64> {
    dimension.and_then(|d| (d.value.0 < 255).then(|| f64::from(d.value.0) * 0.1))
}

/// Class label of a perceived object: the most confident class of its classification.
fn class_label(object: &PerceivedObject) -> &'static str {
    let Some(classes) = &object.classification else {
        return UNKNOWN_CLASS;
    };
    let best = classes.0.iter().max_by_key(|c| c.confidence.0);
    match best.map(|c| &c.object_class) {
        Some(ObjectClass::vehicleSubClass(kind)) => match kind.0 {
            1 => "person",
            2 => "bicycle",
            3 | 4 => "motorcycle",
            5 => "car",
            6 => "bus",
            7..=10 | 15 => "truck",
            _ => UNKNOWN_CLASS,
        },
        Some(ObjectClass::vruSubClass(profile)) => match profile {
            VruProfileAndSubprofile::pedestrian(_) => "person",
            VruProfileAndSubprofile::bicyclistAndLightVruVehicle(_) => "bicycle",
            VruProfileAndSubprofile::motorcyclist(_) => "motorcycle",
            VruProfileAndSubprofile::animal(_) => "animal",
        },
        Some(ObjectClass::groupSubClass(_)) => "person",
        _ => UNKNOWN_CLASS,
    }
}

/// Velocity of a perceived object in its sender's frame, m/s (x, y; z ignored).
fn velocity_mps(object: &PerceivedObject) -> Option<(Vector2<f64>, f64)> {
    match object.velocity.as_ref()? {
        Velocity3dWithConfidence::cartesianVelocity(v) => {
            let x = centi(i32::from(v.x_velocity.value.0), 16_383)?;
            let y = centi(i32::from(v.y_velocity.value.0), 16_383)?;
            let sigma =
                speed_sigma_mps(v.x_velocity.confidence.0).max(speed_sigma_mps(v.y_velocity.confidence.0));
            Some((Vector2::new(x, y), sigma))
        }
        Velocity3dWithConfidence::polarVelocity(v) => {
            let speed = centi(i32::from(v.velocity_magnitude.speed_value.0), 16_383)?;
            let angle = v.velocity_direction.value.0;
            if angle >= 3600 {
                return None;
            }
            let angle_rad = (f64::from(angle) * 0.1).to_radians();
            let sigma = speed_sigma_mps(v.velocity_magnitude.speed_confidence.0);
            Some((Vector2::new(speed * angle_rad.cos(), speed * angle_rad.sin()), sigma))
        }
    }
}

/// A `SpeedConfidence` (0.01 m/s at 95 %) to one sigma; 126/127 (out of range, unavailable)
/// give 5 m/s.
fn speed_sigma_mps(confidence: u8) -> f64 {
    if confidence < 126 { f64::from(confidence) * 0.01 * BOUND_95_TO_SIGMA } else { 5.0 }
}

/// The reference position's confidence ellipse as a horizontal ENU covariance, m² (95 % semi
/// axes in 0.01 m, major axis orientation 0.1° clockwise from north).
fn ellipse_covariance_m2(ellipse: &PosConfidenceEllipse, default_sigma_m: f64) -> Matrix2<f64> {
    let (major, minor, orientation) =
        (ellipse.semi_major_confidence.0, ellipse.semi_minor_confidence.0, ellipse.semi_major_orientation.0);
    if major >= 4094 || minor >= 4094 || orientation >= 3600 {
        return Matrix2::identity() * default_sigma_m.powi(2);
    }
    let (a, b) = (f64::from(major) * 0.01 * BOUND_95_TO_SIGMA, f64::from(minor) * 0.01 * BOUND_95_TO_SIGMA);
    // Major axis direction in ENU: clockwise from north θ → (sin θ, cos θ).
    let theta = (f64::from(orientation) * 0.1).to_radians();
    let major_axis = Vector2::new(theta.sin(), theta.cos());
    let minor_axis = Vector2::new(theta.cos(), -theta.sin());
    major_axis * major_axis.transpose() * a * a + minor_axis * minor_axis.transpose() * b * b
}

/// Truck-clock time of a `TimestampIts` plus an offset, nanoseconds (UTC since the Unix
/// epoch, shifted by `utc_minus_truck_clock_ns`). `TimestampIts` counts TAI milliseconds since
/// 2004-01-01T00:00:00Z (CDD TS 102 894-2 v2.4.1); [`ITS_LEAP_MS`] is taken off. Saturates at
/// 0 and `u64::MAX` instead of overflowing.
pub fn truck_time_ns(timestamp_its_ms: u64, offset_ms: i64, utc_minus_truck_clock_ns: i64) -> u64 {
    // i128 throughout: no input can overflow (a public function, fed from messages).
    let utc_ms = i128::from(timestamp_its_ms) - i128::from(ITS_LEAP_MS)
        + i128::from(ITS_EPOCH_UNIX_MS)
        + i128::from(offset_ms);
    let ns = utc_ms * 1_000_000 - i128::from(utc_minus_truck_clock_ns);
    u64::try_from(ns.max(0)).unwrap_or(u64::MAX)
}

/// The perceived objects of a CPM as fusion measurements in the site frame, latency
/// compensated to `fusion_stamp_ns` (constant velocity; covariance grown by the speed error
/// and `accel_sigma_mps2`, as for J3224 SDSM objects in [`crate::measurement`]).
///
/// Position: the reference position (WGS-84, altitude; unavailable altitude → the site
/// origin's height) plus the object's offset in the sender's frame (ENU for an RSU, the
/// vehicle frame turned by `orientationAngle` otherwise). Covariance: the reference
/// position's ellipse plus the object's coordinate confidences (95 % → σ), defaults from
/// `config` where unavailable. Time: `referenceTime + measurementDeltaTime`.
///
/// # Errors
/// [`EtsiError::Decode`] when a container does not decode. Objects of a CPM whose reference
/// position is unavailable are skipped (the result is empty).
pub fn cpm_measurements(
    cpm: &CollectivePerceptionMessage,
    site: &SiteFrame,
    config: &MeasurementConfig,
    fusion_stamp_ns: u64,
) -> Result<Vec<V2xMeasurement>, EtsiError> {
    let management = &cpm.payload.management_container;
    let reference = &management.reference_position;
    let (Some(lat_deg), Some(lon_deg)) =
        (degrees(reference.latitude.0, 900_000_001), degrees(reference.longitude.0, 1_800_000_001))
    else {
        return Ok(Vec::new());
    };
    let altitude_m = centi(reference.altitude.altitude_value.0, 800_001).unwrap_or(site.origin().height_m);
    let sender = site.site_from_geodetic(&Geodetic::new(lat_deg, lon_deg, altitude_m));
    // Rotation from the sender's frame to ENU (site axes at the sender; the site frame's
    // rotation over a few kilometres is below 1 mrad and taken from `site_from_local_enu`).
    let enu_from_sender = match cpm_vehicle_orientation_deg(cpm)? {
        Some(orientation_deg) => {
            let yaw = std::f64::consts::FRAC_PI_2 - orientation_deg.to_radians();
            nalgebra::Rotation3::from_euler_angles(0.0, 0.0, yaw).into_inner()
        }
        None => Matrix3::identity(),
    };
    let site_from_sender =
        site.site_from_local_enu(&Geodetic::new(lat_deg, lon_deg, altitude_m)) * enu_from_sender;
    let mut reference_covariance = Matrix3::zeros();
    reference_covariance.fixed_view_mut::<2, 2>(0, 0).copy_from(&ellipse_covariance_m2(
        &reference.position_confidence_ellipse,
        config.default_horizontal_sigma_m,
    ));
    reference_covariance[(2, 2)] = config.default_vertical_sigma_m.powi(2);
    let station_id = cpm.header.station_id.0.to_be_bytes();

    let mut measurements = Vec::new();
    for object in cpm_perceived_objects(cpm)? {
        let position = &object.position;
        let offset = Vector3::new(
            f64::from(position.x_coordinate.value.0) * 0.01,
            f64::from(position.y_coordinate.value.0) * 0.01,
            position.z_coordinate.as_ref().map_or(0.0, |z| f64::from(z.value.0) * 0.01),
        );
        let sigma = |c: Option<&CartesianCoordinateWithConfidence>, default: f64| {
            c.and_then(coordinate_sigma_m).unwrap_or(default)
        };
        let object_covariance = Matrix3::from_diagonal(&Vector3::new(
            sigma(Some(&position.x_coordinate), config.default_horizontal_sigma_m).powi(2),
            sigma(Some(&position.y_coordinate), config.default_horizontal_sigma_m).powi(2),
            sigma(position.z_coordinate.as_ref(), config.default_vertical_sigma_m).powi(2),
        ));
        let mut covariance =
            reference_covariance + site_from_sender * object_covariance * site_from_sender.transpose();
        let mut center = sender + site_from_sender * offset;

        let message_time_ns = truck_time_ns(
            management.reference_time.0,
            i64::from(object.measurement_delta_time.0),
            config.utc_minus_truck_clock_ns,
        );
        let latency_s = (fusion_stamp_ns as f64 - message_time_ns as f64) * 1e-9;
        let dt = latency_s.clamp(-config.max_extrapolation_s, config.max_extrapolation_s);
        let velocity =
            velocity_mps(&object).map(|(v, sigma)| (site_from_sender * Vector3::new(v.x, v.y, 0.0), sigma));
        match velocity {
            Some((velocity, speed_sigma)) => {
                center += velocity * dt;
                let growth =
                    speed_sigma.powi(2) * dt * dt + config.accel_sigma_mps2.powi(2) * dt.powi(4) / 4.0;
                covariance[(0, 0)] += growth;
                covariance[(1, 1)] += growth;
            }
            None => {
                let growth = (config.unknown_velocity_sigma_mps * dt).powi(2);
                covariance[(0, 0)] += growth;
                covariance[(1, 1)] += growth;
            }
        }
        let label = class_label(&object);
        let default_size = match label {
            "person" => config.default_vru_size_m,
            "car" | "truck" | "bus" | "motorcycle" => config.default_vehicle_size_m,
            _ => config.default_object_size_m,
        };
        let size = Vector3::new(
            dimension_m(object.object_dimension_x.as_ref()).unwrap_or(default_size[0]),
            dimension_m(object.object_dimension_y.as_ref()).unwrap_or(default_size[1]),
            dimension_m(object.object_dimension_z.as_ref()).unwrap_or(default_size[2]),
        );
        // zAngle: counter-clockwise from the sender's x axis; into the site frame.
        let yaw_rad = object.angles.as_ref().filter(|a| a.z_angle.value.0 < 3600).map(|a| {
            let in_sender = (f64::from(a.z_angle.value.0) * 0.1).to_radians();
            let heading = site_from_sender * Vector3::new(in_sender.cos(), in_sender.sin(), 0.0);
            heading.y.atan2(heading.x)
        });
        let score = object
            .classification
            .as_ref()
            .and_then(|classes| classes.0.iter().map(|c| c.confidence.0).filter(|&c| c <= 100).max())
            .map_or(1.0, |percent| f32::from(percent) / 100.0);
        let detection = Detection3d {
            header: Header { stamp_ns: fusion_stamp_ns, frame: FrameId::Site, seq: 0 },
            center_m: center,
            size_m: size,
            yaw_rad: yaw_rad.or(velocity.map(|(v, _)| v.y.atan2(v.x))).unwrap_or(0.0),
            class_label: label.to_owned(),
            score,
            source: ObjectSource::V2x,
        };
        measurements.push(V2xMeasurement {
            center_in_site_m: center,
            velocity_in_site_mps: velocity.map(|(v, _)| v),
            velocity_mps: velocity.map(|(v, _)| v),
            position_covariance_m2: (covariance + covariance.transpose()) * 0.5,
            detection,
            sender_in_site_m: Point3::from(sender.coords),
            message_time_ns,
            time_source: TimeSource::Message,
            latency_s,
            key: ObjectKey {
                kind: MessageKind::Cpm,
                station_id,
                object_id: object.object_id.as_ref().map(|id| id.0),
            },
            msg_cnt: 0,
            reported_accel_mps2: None,
        });
    }
    Ok(measurements)
}

/// One perceived object of a CPM, in SI units, for `pitsense v2x decode`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CpmObjectView {
    /// `objectId`.
    pub object_id: Option<u16>,
    /// `measurementDeltaTime`: object time minus `referenceTime`, ms.
    pub measurement_delta_time_ms: i16,
    /// Offset from the reference position in the sender's frame (x, y, z), m.
    pub offset_m: [f64; 3],
    /// One-sigma offset errors from the 95 % confidences, m (`null` when unavailable).
    pub offset_sigma_m: [Option<f64>; 3],
    /// Velocity in the sender's frame (x, y), m/s.
    pub velocity_mps: Option<[f64; 2]>,
    /// Heading in the sender's frame, counter-clockwise from its x axis, rad.
    pub yaw_rad: Option<f64>,
    /// Length (x), width (y), height (z), m (`null` when unavailable).
    pub size_m: [Option<f64>; 3],
    /// Most confident class, as pitsense labels it.
    pub class: &'static str,
}

/// A CPM in SI units, for `pitsense v2x decode`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CpmView {
    /// `ItsPduHeader.stationId`.
    pub station_id: u32,
    /// `referenceTime`, TAI ms since 2004-01-01 (ETSI `TimestampIts`).
    pub reference_time_its_ms: u64,
    /// Reference position latitude, degrees.
    pub lat_deg: Option<f64>,
    /// Reference position longitude, degrees.
    pub lon_deg: Option<f64>,
    /// Reference position altitude (WGS-84), m.
    pub elevation_m: Option<f64>,
    /// `rsu` or `vehicle` (which originating container).
    pub sender: &'static str,
    /// The vehicle sender's orientation, rad clockwise from north.
    pub orientation_rad: Option<f64>,
    /// Perceived objects.
    pub objects: Vec<CpmObjectView>,
}

/// A CAM in SI units, for `pitsense v2x decode`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CamView {
    /// `ItsPduHeader.stationId`.
    pub station_id: u32,
    /// `stationType` (CDD `TrafficParticipantType`: 5 passenger car, 8 heavy truck...).
    pub station_type: u8,
    /// `generationDeltaTime`: `TimestampIts` mod 65 536, ms.
    pub generation_delta_time_ms: u16,
    /// Latitude, degrees.
    pub lat_deg: Option<f64>,
    /// Longitude, degrees.
    pub lon_deg: Option<f64>,
    /// Altitude (WGS-84), m.
    pub elevation_m: Option<f64>,
    /// Heading, rad clockwise from north (vehicles only).
    pub heading_rad: Option<f64>,
    /// Speed, m/s (vehicles only).
    pub speed_mps: Option<f64>,
    /// Vehicle length, m (`null` when unavailable).
    pub length_m: Option<f64>,
    /// Vehicle width, m (`null` when unavailable or out of range: over 6.1 m).
    pub width_m: Option<f64>,
}

/// The view of a CPM.
///
/// # Errors
/// [`EtsiError::Decode`] when a container does not decode.
pub fn cpm_view(cpm: &CollectivePerceptionMessage) -> Result<CpmView, EtsiError> {
    let management = &cpm.payload.management_container;
    let reference = &management.reference_position;
    let orientation_deg = cpm_vehicle_orientation_deg(cpm)?;
    let objects = cpm_perceived_objects(cpm)?
        .iter()
        .map(|object| {
            let p = &object.position;
            CpmObjectView {
                object_id: object.object_id.as_ref().map(|id| id.0),
                measurement_delta_time_ms: object.measurement_delta_time.0,
                offset_m: [
                    f64::from(p.x_coordinate.value.0) * 0.01,
                    f64::from(p.y_coordinate.value.0) * 0.01,
                    p.z_coordinate.as_ref().map_or(0.0, |z| f64::from(z.value.0) * 0.01),
                ],
                offset_sigma_m: [
                    coordinate_sigma_m(&p.x_coordinate),
                    coordinate_sigma_m(&p.y_coordinate),
                    p.z_coordinate.as_ref().and_then(coordinate_sigma_m),
                ],
                velocity_mps: velocity_mps(object).map(|(v, _)| [v.x, v.y]),
                yaw_rad: object
                    .angles
                    .as_ref()
                    .filter(|a| a.z_angle.value.0 < 3600)
                    .map(|a| (f64::from(a.z_angle.value.0) * 0.1).to_radians()),
                size_m: [
                    dimension_m(object.object_dimension_x.as_ref()),
                    dimension_m(object.object_dimension_y.as_ref()),
                    dimension_m(object.object_dimension_z.as_ref()),
                ],
                class: class_label(object),
            }
        })
        .collect();
    Ok(CpmView {
        station_id: cpm.header.station_id.0,
        reference_time_its_ms: management.reference_time.0,
        lat_deg: degrees(reference.latitude.0, 900_000_001),
        lon_deg: degrees(reference.longitude.0, 1_800_000_001),
        elevation_m: centi(reference.altitude.altitude_value.0, 800_001),
        sender: if container(cpm, CONTAINER_ORIGINATING_RSU).is_some() || orientation_deg.is_none() {
            "rsu"
        } else {
            "vehicle"
        },
        orientation_rad: orientation_deg.map(f64::to_radians),
        objects,
    })
}

/// The view of a CAM.
pub fn cam_view(cam: &CAM) -> CamView {
    let basic = &cam.cam.cam_parameters.basic_container;
    let reference = &basic.reference_position;
    let vehicle = match &cam.cam.cam_parameters.high_frequency_container {
        HighFrequencyContainer::basicVehicleContainerHighFrequency(hf) => Some(hf),
        HighFrequencyContainer::rsuContainerHighFrequency(_) => None,
    };
    CamView {
        station_id: cam.header.station_id.0,
        station_type: basic.station_type.0,
        generation_delta_time_ms: cam.cam.generation_delta_time.0,
        lat_deg: degrees(reference.latitude.0, 900_000_001),
        lon_deg: degrees(reference.longitude.0, 1_800_000_001),
        elevation_m: centi(reference.altitude.altitude_value.0, 800_001),
        heading_rad: vehicle
            .map(|hf| hf.heading.heading_value.0)
            .filter(|&h| h < 3600)
            .map(|h| (f64::from(h) * 0.1).to_radians()),
        speed_mps: vehicle.and_then(|hf| centi(i32::from(hf.speed.speed_value.0), 16_383)),
        length_m: vehicle
            .map(|hf| hf.vehicle_length.vehicle_length_value.0)
            .filter(|&l| l < 1022)
            .map(|l| f64::from(l) * 0.1),
        width_m: vehicle.map(|hf| hf.vehicle_width.0).filter(|&w| w < 61).map(|w| f64::from(w) * 0.1),
    }
}

/// One ETSI PDU as `pitsense v2x decode` prints it: the same outer shape as the J2735 and CSAE
/// views (`standard`, `edition`, `message_type`, `message_id`) and the message's SI fields.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EtsiMessageView {
    /// Offset of the PDU in the (binary) input, bytes (always 0: one PDU per input).
    pub offset_bytes: usize,
    /// Octets of the PDU, bytes.
    pub length_bytes: usize,
    /// `etsi`.
    pub standard: &'static str,
    /// The message's standard and version: `TS 103 900 v2.3.1` (CAM), `TS 103 324 v2.1.1`
    /// (CPM), or `unknown`.
    pub edition: &'static str,
    /// `CAM`, `CPM`, or `unsupported`.
    pub message_type: &'static str,
    /// `ItsPduHeader.messageId`.
    pub message_id: u8,
    /// Why the view could not be built (a container that did not decode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The message's fields.
    #[serde(flatten)]
    pub body: Option<EtsiBody>,
}

/// The fields of one ETSI message kind.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EtsiBody {
    /// A CAM.
    Cam(CamView),
    /// A CPM.
    Cpm(CpmView),
    /// Another messageId.
    Unsupported {
        /// `unsupported message id N`.
        note: String,
        /// The header's stationId.
        station_id: Option<u32>,
    },
}

impl EtsiMessageView {
    /// The view of a decoded PDU of `length_bytes` octets.
    pub fn new(message: &EtsiMessage, length_bytes: usize) -> Self {
        let (edition, message_type, message_id, body, error) = match message {
            EtsiMessage::Cam(cam) => {
                ("TS 103 900 v2.3.1", "CAM", MESSAGE_ID_CAM, Some(EtsiBody::Cam(cam_view(cam))), None)
            }
            EtsiMessage::Cpm(cpm) => match cpm_view(cpm) {
                Ok(view) => ("TS 103 324 v2.1.1", "CPM", MESSAGE_ID_CPM, Some(EtsiBody::Cpm(view)), None),
                Err(error) => ("TS 103 324 v2.1.1", "CPM", MESSAGE_ID_CPM, None, Some(error.to_string())),
            },
            EtsiMessage::Unsupported { message_id, station_id } => (
                "unknown",
                "unsupported",
                *message_id,
                Some(EtsiBody::Unsupported {
                    note: format!("unsupported message id {message_id}"),
                    station_id: *station_id,
                }),
                None,
            ),
        };
        Self {
            offset_bytes: 0,
            length_bytes,
            standard: "etsi",
            edition,
            message_type,
            message_id,
            error,
            body,
        }
    }
}
