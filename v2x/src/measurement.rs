//! Decoded V2X messages to fusion measurements: SDSM detected objects and BSM/PSM senders
//! become [`Detection3d`]s (source [`ObjectSource::V2x`]) in the site or truck frame, with a
//! 3×3 position covariance from the messages' accuracy fields and latency compensation from
//! the message time to the fusion time.
//!
//! Time: J2735 stamps carry only the millisecond within the UTC minute (`secMark`, the
//! `second` of the SDSM `DDateTime`). The message time is the instant with that millisecond
//! closest to the receive time (so messages up to ±30 s old resolve correctly), mapped to the
//! truck clock with `utc_minus_truck_clock_ns`. An SDSM without `second` falls back to the
//! receive time ([`TimeSource::ReceiveTime`]). An SDSM object's time adds its
//! `measurementTime` offset.
//!
//! Latency compensation: constant velocity over `dt = fusion time − message time` when speed
//! and heading are present; the horizontal covariance grows by `σ_v² dt² + σ_a² dt⁴ / 4`
//! (speed uncertainty, then unmodelled acceleration). Without a velocity the position is kept
//! and the covariance grows by `(unknown_velocity_sigma_mps · dt)²`.
//!
//! Accuracy fields: `PositionalAccuracy` is a one-sigma ellipse (J2735); `PositionConfidence`,
//! `ElevationConfidence`, `SpeedConfidence`, `HeadingConfidence` and `SizeValueConfidence`
//! are read as 95 % bounds (σ = bound / 1.96). Absent or unavailable accuracies take the
//! configured defaults.

use nalgebra::{Matrix2, Matrix3, Point3, Vector2, Vector3};
use pitsense_types::{ConfigError, Detection3d, EgoState, FrameId, Header, ObjectSource, UNKNOWN_CLASS};
use serde::{Deserialize, Serialize};

use crate::decode::AnyReport;
use crate::etsi::EtsiMessage;
use crate::geodesy::{Geodetic, SiteFrame, truck_from_site};
use crate::j2735::J2735Message;
use crate::j2735::bsm::BasicSafetyMessage;
use crate::j2735::common::{DSecond, Heading, PersonalDeviceUserType, Position3D, PositionalAccuracy};
use crate::j2735::psm::PersonalSafetyMessage;
use crate::j2735::sdsm::{
    DetectedObjectData, DetectedObjectOptionalData, ObjectType, SensorDataSharingMessage,
};
use crate::j2735::units::enu_yaw_from_heading_rad;
use crate::view::object_size_m;

/// Ratio of a 95 % bound to one standard deviation (normal distribution).
const BOUND_95_TO_SIGMA: f64 = 1.0 / 1.96;

/// Frame of the measurements' geometry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputFrame {
    /// The site's ENU frame ([`FrameId::Site`]).
    #[default]
    Site,
    /// The truck frame ([`FrameId::Ego`]) through the ego pose at fusion time.
    Ego,
}

/// Settings of the [`MeasurementBuilder`]; units in the names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MeasurementConfig {
    /// Frame of the output detections.
    pub output_frame: OutputFrame,
    /// UTC minus the truck clock, nanoseconds (0 when `stamp_ns` is UTC since the Unix epoch,
    /// as with a GNSS-disciplined clock).
    pub utc_minus_truck_clock_ns: i64,
    /// Horizontal one-sigma position error when a message gives none, metres.
    pub default_horizontal_sigma_m: f64,
    /// Vertical one-sigma position error when a message gives none, metres.
    pub default_vertical_sigma_m: f64,
    /// Vertical one-sigma error when the elevation is unavailable and the ego height is used
    /// instead, metres.
    pub missing_elevation_sigma_m: f64,
    /// One-sigma speed error when a message gives none, m/s.
    pub default_speed_sigma_mps: f64,
    /// One-sigma unmodelled acceleration for latency compensation, m/s².
    pub accel_sigma_mps2: f64,
    /// One-sigma speed assumed for objects sent without speed or heading, m/s.
    pub unknown_velocity_sigma_mps: f64,
    /// Longest extrapolation, seconds; a longer `dt` is clamped (the stale gate rejects such
    /// messages first when configured below it).
    pub max_extrapolation_s: f64,
    /// Size (length, width, height) of a vehicle that sent none, metres.
    pub default_vehicle_size_m: [f64; 3],
    /// Size of a vulnerable road user (person), metres.
    pub default_vru_size_m: [f64; 3],
    /// Size of an animal or an unknown object, metres.
    pub default_object_size_m: [f64; 3],
    /// Vehicles longer than this are labelled `truck`, else `car`, metres.
    pub truck_min_length_m: f64,
}

impl Default for MeasurementConfig {
    fn default() -> Self {
        Self {
            output_frame: OutputFrame::Site,
            utc_minus_truck_clock_ns: 0,
            default_horizontal_sigma_m: 3.0,
            default_vertical_sigma_m: 5.0,
            missing_elevation_sigma_m: 10.0,
            default_speed_sigma_mps: 1.0,
            accel_sigma_mps2: 2.0,
            unknown_velocity_sigma_mps: 5.0,
            max_extrapolation_s: 2.0,
            default_vehicle_size_m: [4.5, 1.8, 1.6],
            default_vru_size_m: [0.6, 0.6, 1.7],
            default_object_size_m: [1.0, 1.0, 1.0],
            truck_min_length_m: 6.0,
        }
    }
}

impl MeasurementConfig {
    /// Checks every value.
    ///
    /// # Errors
    /// [`ConfigError`] naming the key (`v2x.measurement.<field>`) and the accepted range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let key = |name: &str| format!("v2x.measurement.{name}");
        ConfigError::check_range(
            &key("default_horizontal_sigma_m"),
            self.default_horizontal_sigma_m,
            1e-3,
            1e4,
        )?;
        ConfigError::check_range(&key("default_vertical_sigma_m"), self.default_vertical_sigma_m, 1e-3, 1e4)?;
        ConfigError::check_range(
            &key("missing_elevation_sigma_m"),
            self.missing_elevation_sigma_m,
            1e-3,
            1e4,
        )?;
        ConfigError::check_range(&key("default_speed_sigma_mps"), self.default_speed_sigma_mps, 1e-3, 100.0)?;
        ConfigError::check_range(&key("accel_sigma_mps2"), self.accel_sigma_mps2, 0.0, 100.0)?;
        ConfigError::check_range(
            &key("unknown_velocity_sigma_mps"),
            self.unknown_velocity_sigma_mps,
            0.0,
            100.0,
        )?;
        ConfigError::check_range(&key("max_extrapolation_s"), self.max_extrapolation_s, 0.0, 60.0)?;
        ConfigError::check_range(&key("truck_min_length_m"), self.truck_min_length_m, 0.0, 100.0)?;
        for (name, size) in [
            ("default_vehicle_size_m", self.default_vehicle_size_m),
            ("default_vru_size_m", self.default_vru_size_m),
            ("default_object_size_m", self.default_object_size_m),
        ] {
            for value in size {
                ConfigError::check_range(&key(name), value, 0.01, 100.0)?;
            }
        }
        Ok(())
    }
}

/// Which message a measurement came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// A BSM: the sending vehicle itself.
    Bsm,
    /// A PSM: the sending person (or animal, cyclist) itself.
    Psm,
    /// An SDSM: an object the sender (an RSU or a vehicle) detected.
    Sdsm,
    /// An ETSI CPM: an object the sender (an RSU or a vehicle) perceived.
    Cpm,
}

/// Where the message time came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// The message's own time stamp (`secMark` or `DDateTime.second`).
    Message,
    /// The message had no usable time: the receive time was used, latency unknown.
    ReceiveTime,
}

/// Identity of a measured object: the sender's temporary id and, for SDSM, the object id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectKey {
    /// The message kind.
    pub kind: MessageKind,
    /// The sender's `TemporaryID` (BSM/PSM `id`, SDSM `sourceID`).
    pub station_id: [u8; 4],
    /// The SDSM `objectID`; `None` for BSM/PSM (the sender is the object).
    pub object_id: Option<u16>,
}

/// One V2X measurement for fusion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct V2xMeasurement {
    /// The object as a detection: header stamp = fusion time, frame per
    /// [`MeasurementConfig::output_frame`], source [`ObjectSource::V2x`].
    pub detection: Detection3d,
    /// Covariance of `detection.center_m`, m², in the detection's frame; symmetric positive
    /// definite.
    pub position_covariance_m2: Matrix3<f64>,
    /// Velocity in the detection's frame, m/s; `None` when the message gave no speed/heading.
    pub velocity_mps: Option<Vector3<f64>>,
    /// The centre in the site frame at fusion time (for gating whatever the output frame).
    pub center_in_site_m: Point3<f64>,
    /// Velocity in the site frame, m/s.
    pub velocity_in_site_mps: Option<Vector3<f64>>,
    /// The sender's position in the site frame (SDSM `refPos`; the BSM/PSM sender itself).
    pub sender_in_site_m: Point3<f64>,
    /// Time of the measurement on the truck clock, before compensation, nanoseconds.
    pub message_time_ns: u64,
    /// Where `message_time_ns` came from.
    pub time_source: TimeSource,
    /// Compensated latency `fusion time − message time`, seconds (negative for a message
    /// stamped after the fusion time).
    pub latency_s: f64,
    /// Identity of the object.
    pub key: ObjectKey,
    /// The message's `msgCnt`.
    pub msg_cnt: u8,
    /// Longitudinal acceleration the sender reported, m/s² (BSM `accelSet.long`).
    pub reported_accel_mps2: Option<f64>,
}

/// Times a measurement needs: when the message arrived and when fusion wants it, plus the
/// ego pose at fusion time.
#[derive(Clone, Copy, Debug)]
pub struct MeasurementContext<'a> {
    /// Receive time on the truck clock, nanoseconds.
    pub receive_stamp_ns: u64,
    /// Fusion time on the truck clock, nanoseconds (the stamp of the output detections).
    pub fusion_stamp_ns: u64,
    /// The ego pose at fusion time (needed for [`OutputFrame::Ego`], and to stand in for an
    /// unavailable elevation).
    pub ego: Option<&'a EgoState>,
}

/// Why a message gave no measurement.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MeasurementError {
    /// Latitude or longitude unavailable in the message.
    #[error("{kind:?} from station {station_id:02x?}: latitude/longitude unavailable")]
    PositionUnavailable {
        /// The message kind.
        kind: MessageKind,
        /// The sender's temporary id.
        station_id: [u8; 4],
    },
    /// [`OutputFrame::Ego`] without an ego pose in the context.
    #[error("{kind:?} from station {station_id:02x?}: the output frame is ego but no ego pose was given")]
    NoEgoPose {
        /// The message kind.
        kind: MessageKind,
        /// The sender's temporary id.
        station_id: [u8; 4],
    },
    /// A message kind that carries no object positions (MAP, SPaT, unsupported ids).
    #[error("messageId {message_id} carries no object positions")]
    NotAnObjectMessage {
        /// The frame's messageId.
        message_id: u16,
    },
    /// The message's value (a J2735 frame's open type, an ETSI container) did not decode.
    #[error("the message did not decode: {reason}")]
    Undecodable {
        /// The decoder's error text.
        reason: String,
    },
}

/// Turns decoded messages into measurements (a plain synchronous stage: no I/O, no clock).
#[derive(Clone, Debug)]
pub struct MeasurementBuilder {
    config: MeasurementConfig,
    site: SiteFrame,
    seq: u64,
}

/// Position, velocity and covariance in the site frame before the output transform.
struct SiteState {
    center: Point3<f64>,
    covariance: Matrix3<f64>,
    velocity: Option<Vector3<f64>>,
    yaw_rad: f64,
}

impl MeasurementBuilder {
    /// A builder for one site.
    ///
    /// # Errors
    /// [`ConfigError`] from [`MeasurementConfig::validate`].
    pub fn new(config: MeasurementConfig, site: SiteFrame) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self { config, site, seq: 0 })
    }

    /// The site frame.
    pub fn site(&self) -> &SiteFrame {
        &self.site
    }

    /// Measurements of one message: one for a BSM or PSM (its sender), one per SDSM object.
    ///
    /// # Errors
    /// [`MeasurementError`] when the message has no usable position, is not an object
    /// message, or the ego frame is asked for without an ego pose.
    pub fn process(
        &mut self,
        message: &J2735Message,
        context: &MeasurementContext,
    ) -> Result<Vec<V2xMeasurement>, MeasurementError> {
        match message {
            J2735Message::Bsm(bsm) => self.bsm(bsm, context).map(|measurement| vec![measurement]),
            J2735Message::Psm(psm) => self.psm(psm, context).map(|measurement| vec![measurement]),
            J2735Message::Sdsm(sdsm) => self.sdsm(sdsm, context),
            other => Err(MeasurementError::NotAnObjectMessage { message_id: other.message_id() }),
        }
    }

    /// Message time on the truck clock from a millisecond-in-minute stamp.
    fn time_from_ms_in_minute(&self, ms_in_minute: Option<u16>, receive_stamp_ns: u64) -> (u64, TimeSource) {
        let Some(ms) = ms_in_minute else { return (receive_stamp_ns, TimeSource::ReceiveTime) };
        let ms = i128::from(ms.min(59_999));
        let offset = i128::from(self.config.utc_minus_truck_clock_ns);
        let receive_utc_ns = i128::from(receive_stamp_ns) + offset;
        let minute_ns = 60_000_000_000i128;
        let minute_start = receive_utc_ns.div_euclid(minute_ns) * minute_ns;
        let best = (-1..=1)
            .map(|k| minute_start + k * minute_ns + ms * 1_000_000)
            .min_by_key(|candidate| (candidate - receive_utc_ns).abs())
            .unwrap_or(receive_utc_ns);
        let truck = (best - offset).clamp(0, i128::from(u64::MAX));
        (u64::try_from(truck).unwrap_or(receive_stamp_ns), TimeSource::Message)
    }

    fn site_position(
        &self,
        position: &Position3D,
        context: &MeasurementContext,
    ) -> Option<(Point3<f64>, bool)> {
        let lat_deg = position.lat.degrees()?;
        let lon_deg = position.long.degrees()?;
        match position.elevation.and_then(|elevation| elevation.metres()) {
            Some(height_m) => {
                Some((self.site.site_from_geodetic(&Geodetic::new(lat_deg, lon_deg, height_m)), true))
            }
            None => {
                // Elevation unavailable: put the point at the ego's height (or the origin's).
                let on_ellipsoid = self.site.site_from_geodetic(&Geodetic::new(
                    lat_deg,
                    lon_deg,
                    self.site.origin().height_m,
                ));
                let ground_z = context.ego.map_or(on_ellipsoid.z, |ego| ego.site_from_truck.translation.z);
                Some((Point3::new(on_ellipsoid.x, on_ellipsoid.y, ground_z), false))
            }
        }
    }

    fn ellipse_covariance(&self, accuracy: &PositionalAccuracy) -> Matrix2<f64> {
        let default = self.config.default_horizontal_sigma_m;
        let (Some(major), Some(minor)) = (accuracy.semi_major.metres(), accuracy.semi_minor.metres()) else {
            return Matrix2::identity() * default * default;
        };
        let major = major.max(0.01);
        let minor = minor.max(0.01);
        match accuracy.orientation.radians() {
            Some(theta) => {
                // Semi-major axis direction in ENU: clockwise from north.
                let along = Vector2::new(theta.sin(), theta.cos());
                let across = Vector2::new(theta.cos(), -theta.sin());
                along * along.transpose() * major * major + across * across.transpose() * minor * minor
            }
            // Orientation unknown: a circle of the larger axis.
            None => Matrix2::identity() * major.max(minor).powi(2),
        }
    }

    /// Velocity in the site frame from a speed and a heading measured at `position`.
    fn velocity(
        &self,
        speed_mps: Option<f64>,
        heading: Heading,
        position: &Geodetic,
    ) -> Option<Vector3<f64>> {
        let speed = speed_mps?;
        let heading_rad = heading.radians()?;
        let local = Vector3::new(speed * heading_rad.sin(), speed * heading_rad.cos(), 0.0);
        Some(self.site.site_from_local_enu(position) * local)
    }

    /// Extrapolates to fusion time and grows the covariance.
    fn compensate(&self, state: &mut SiteState, latency_s: f64, speed_sigma_mps: f64) {
        let dt = latency_s.clamp(-self.config.max_extrapolation_s, self.config.max_extrapolation_s);
        let added = match state.velocity {
            Some(velocity) => {
                state.center += velocity * dt;
                let accel = self.config.accel_sigma_mps2;
                speed_sigma_mps * speed_sigma_mps * dt * dt + accel * accel * dt.powi(4) / 4.0
            }
            None => (self.config.unknown_velocity_sigma_mps * dt).powi(2),
        };
        state.covariance[(0, 0)] += added;
        state.covariance[(1, 1)] += added;
    }

    #[allow(clippy::too_many_arguments)] // one place that assembles the output
    fn finish(
        &mut self,
        mut state: SiteState,
        context: &MeasurementContext,
        key: ObjectKey,
        msg_cnt: u8,
        size_m: [f64; 3],
        class_label: &str,
        score: f32,
        message_time_ns: u64,
        time_source: TimeSource,
        speed_sigma_mps: f64,
        sender_in_site_m: Point3<f64>,
        reported_accel_mps2: Option<f64>,
    ) -> Result<V2xMeasurement, MeasurementError> {
        let latency_s = (i128::from(context.fusion_stamp_ns) - i128::from(message_time_ns)) as f64 * 1e-9;
        self.compensate(&mut state, latency_s, speed_sigma_mps);
        // Symmetrise against rounding.
        state.covariance = (state.covariance + state.covariance.transpose()) * 0.5;
        debug_assert!(
            state.covariance.cholesky().is_some(),
            "covariance not positive definite: {}",
            state.covariance
        );
        let in_site = V2xMeasurement {
            detection: Detection3d {
                header: Header { stamp_ns: context.fusion_stamp_ns, frame: FrameId::Site, seq: 0 },
                center_m: state.center,
                size_m: Vector3::from(size_m),
                yaw_rad: state.yaw_rad,
                class_label: class_label.to_owned(),
                score,
                source: ObjectSource::V2x,
            },
            position_covariance_m2: state.covariance,
            velocity_mps: state.velocity,
            center_in_site_m: state.center,
            velocity_in_site_mps: state.velocity,
            sender_in_site_m,
            message_time_ns,
            time_source,
            latency_s,
            key,
            msg_cnt,
            reported_accel_mps2,
        };
        self.in_output_frame(in_site, context)
    }

    /// A site-frame measurement in [`MeasurementConfig::output_frame`], numbered with the
    /// builder's sequence: unchanged for the site frame; for the ego frame its centre,
    /// covariance (`R Σ Rᵀ`), velocity and heading go through `truck_from_site` of the
    /// context's ego pose.
    ///
    /// # Errors
    /// [`MeasurementError::NoEgoPose`] for the ego frame without an ego pose in `context`.
    fn in_output_frame(
        &mut self,
        mut measurement: V2xMeasurement,
        context: &MeasurementContext,
    ) -> Result<V2xMeasurement, MeasurementError> {
        if self.config.output_frame == OutputFrame::Ego {
            let key = &measurement.key;
            let ego = context
                .ego
                .ok_or(MeasurementError::NoEgoPose { kind: key.kind, station_id: key.station_id })?;
            let truck_from_site = truck_from_site(ego);
            let rotation = truck_from_site.rotation.to_rotation_matrix();
            let detection = &mut measurement.detection;
            let heading_in_site = Vector3::new(detection.yaw_rad.cos(), detection.yaw_rad.sin(), 0.0);
            let heading_in_truck = rotation * heading_in_site;
            detection.header.frame = FrameId::Ego;
            detection.center_m = truck_from_site * detection.center_m;
            detection.yaw_rad = heading_in_truck.y.atan2(heading_in_truck.x);
            measurement.position_covariance_m2 =
                rotation.matrix() * measurement.position_covariance_m2 * rotation.matrix().transpose();
            measurement.velocity_mps = measurement.velocity_mps.map(|velocity| rotation * velocity);
        }
        measurement.detection.header.seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        Ok(measurement)
    }

    /// Measurements of one ETSI collective perception message: [`crate::etsi::cpm_measurements`]
    /// (site frame, compensated to `context.fusion_stamp_ns`) put in
    /// [`MeasurementConfig::output_frame`] as the J2735 and CSAE objects are.
    ///
    /// # Errors
    /// [`MeasurementError::Undecodable`] when a container does not decode;
    /// [`MeasurementError::NoEgoPose`] as [`Self::process`].
    pub fn process_cpm(
        &mut self,
        cpm: &crate::etsi::generated::cpm_pdu_descriptions::CollectivePerceptionMessage,
        context: &MeasurementContext,
    ) -> Result<Vec<V2xMeasurement>, MeasurementError> {
        let in_site = crate::etsi::cpm_measurements(cpm, &self.site, &self.config, context.fusion_stamp_ns)
            .map_err(|error| MeasurementError::Undecodable { reason: error.to_string() })?;
        in_site.into_iter().map(|measurement| self.in_output_frame(measurement, context)).collect()
    }

    /// The one entry from a decoded input ([`crate::decode::Decoder::decode_any`], any
    /// standard) to fusion: per message, in the input's order, its measurements or why it gave
    /// none. J2735 BSM/PSM/SDSM go through [`Self::process`], CSAE messages through
    /// [`Self::process_csae`], an ETSI CPM through [`Self::process_cpm`]; a J2735 frame whose
    /// value did not decode is [`MeasurementError::Undecodable`], an ETSI CAM or another
    /// ETSI message [`MeasurementError::NotAnObjectMessage`] with its messageId.
    pub fn measurements(
        &mut self,
        report: &AnyReport,
        context: &MeasurementContext,
    ) -> Vec<Result<Vec<V2xMeasurement>, MeasurementError>> {
        match report {
            AnyReport::J2735(report) => report
                .frames
                .iter()
                .map(|frame| match &frame.message {
                    Ok(message) => self.process(message, context),
                    Err(error) => Err(MeasurementError::Undecodable { reason: error.to_string() }),
                })
                .collect(),
            AnyReport::Csae(report) => {
                report.frames.iter().map(|frame| self.process_csae(&frame.message, context)).collect()
            }
            AnyReport::Etsi(report) => vec![match &report.message {
                EtsiMessage::Cpm(cpm) => self.process_cpm(cpm, context),
                // ETSI TS 102 894-2 messageId: CAM is 2.
                EtsiMessage::Cam(_) => Err(MeasurementError::NotAnObjectMessage { message_id: 2 }),
                EtsiMessage::Unsupported { message_id, .. } => {
                    Err(MeasurementError::NotAnObjectMessage { message_id: u16::from(*message_id) })
                }
            }],
        }
    }

    fn vehicle_label(&self, length_m: f64) -> &'static str {
        if length_m >= self.config.truck_min_length_m { "truck" } else { "car" }
    }

    fn bsm(
        &mut self,
        bsm: &BasicSafetyMessage,
        context: &MeasurementContext,
    ) -> Result<V2xMeasurement, MeasurementError> {
        let core = &bsm.core_data;
        let key = ObjectKey { kind: MessageKind::Bsm, station_id: *core.id.0, object_id: None };
        let unavailable =
            MeasurementError::PositionUnavailable { kind: key.kind, station_id: key.station_id };
        let position =
            Position3D { lat: core.lat, long: core.long, elevation: Some(core.elev), regional: None };
        let (ground, has_elevation) = self.site_position(&position, context).ok_or(unavailable.clone())?;
        let geodetic = Geodetic::new(
            core.lat.degrees().ok_or(unavailable.clone())?,
            core.long.degrees().ok_or(unavailable)?,
            core.elev.metres().unwrap_or(0.0),
        );
        let length = core.size.length.metres().unwrap_or(self.config.default_vehicle_size_m[0]);
        let width = core.size.width.metres().unwrap_or(self.config.default_vehicle_size_m[1]);
        let height = self.config.default_vehicle_size_m[2];
        let (message_time_ns, time_source) =
            self.time_from_ms_in_minute(core.sec_mark.milliseconds(), context.receive_stamp_ns);
        let state = self.sender_state(
            ground,
            has_elevation,
            height,
            &core.accuracy,
            core.speed.metres_per_second(),
            core.heading,
            &geodetic,
        );
        let label = self.vehicle_label(length);
        self.finish(
            state,
            context,
            key,
            core.msg_cnt.0,
            [length, width, height],
            label,
            1.0,
            message_time_ns,
            time_source,
            self.config.default_speed_sigma_mps,
            ground,
            core.accel_set.long.metres_per_second2(),
        )
    }

    fn psm(
        &mut self,
        psm: &PersonalSafetyMessage,
        context: &MeasurementContext,
    ) -> Result<V2xMeasurement, MeasurementError> {
        let key = ObjectKey { kind: MessageKind::Psm, station_id: *psm.id.0, object_id: None };
        let unavailable =
            MeasurementError::PositionUnavailable { kind: key.kind, station_id: key.station_id };
        let (ground, has_elevation) =
            self.site_position(&psm.position, context).ok_or(unavailable.clone())?;
        let geodetic = Geodetic::new(
            psm.position.lat.degrees().ok_or(unavailable.clone())?,
            psm.position.long.degrees().ok_or(unavailable)?,
            psm.position.elevation.and_then(|elevation| elevation.metres()).unwrap_or(0.0),
        );
        let (label, size) = match psm.basic_type {
            PersonalDeviceUserType::APedalcyclist => ("bicycle", [1.8, 0.6, 1.7]),
            PersonalDeviceUserType::AnAnimal => ("animal", self.config.default_object_size_m),
            _ => ("person", self.config.default_vru_size_m),
        };
        let (message_time_ns, time_source) =
            self.time_from_ms_in_minute(psm.sec_mark.milliseconds(), context.receive_stamp_ns);
        let state = self.sender_state(
            ground,
            has_elevation,
            size[2],
            &psm.accuracy,
            psm.speed.metres_per_second(),
            psm.heading,
            &geodetic,
        );
        self.finish(
            state,
            context,
            key,
            psm.msg_cnt.0,
            size,
            label,
            1.0,
            message_time_ns,
            time_source,
            self.config.default_speed_sigma_mps,
            ground,
            psm.accel_set.as_ref().and_then(|accel| accel.long.metres_per_second2()),
        )
    }

    /// Site state of a BSM/PSM sender: its reported position is on the ground; the box
    /// centre is half its height above.
    #[allow(clippy::too_many_arguments)]
    fn sender_state(
        &self,
        ground: Point3<f64>,
        has_elevation: bool,
        height_m: f64,
        accuracy: &PositionalAccuracy,
        speed_mps: Option<f64>,
        heading: Heading,
        geodetic: &Geodetic,
    ) -> SiteState {
        let mut covariance = Matrix3::zeros();
        covariance.fixed_view_mut::<2, 2>(0, 0).copy_from(&self.ellipse_covariance(accuracy));
        let vertical = if has_elevation {
            self.config.default_vertical_sigma_m
        } else {
            self.config.missing_elevation_sigma_m
        };
        covariance[(2, 2)] = vertical * vertical;
        let velocity = self.velocity(speed_mps, heading, geodetic);
        SiteState {
            center: ground + Vector3::new(0.0, 0.0, height_m / 2.0),
            covariance,
            velocity,
            yaw_rad: heading.radians().map_or(0.0, enu_yaw_from_heading_rad),
        }
    }

    fn sdsm(
        &mut self,
        sdsm: &SensorDataSharingMessage,
        context: &MeasurementContext,
    ) -> Result<Vec<V2xMeasurement>, MeasurementError> {
        let station_id: [u8; 4] = *sdsm.source_id.0;
        let unavailable = MeasurementError::PositionUnavailable { kind: MessageKind::Sdsm, station_id };
        let (reference, has_elevation) =
            self.site_position(&sdsm.ref_pos, context).ok_or(unavailable.clone())?;
        let reference_geodetic = Geodetic::new(
            sdsm.ref_pos.lat.degrees().ok_or(unavailable.clone())?,
            sdsm.ref_pos.long.degrees().ok_or(unavailable)?,
            sdsm.ref_pos.elevation.and_then(|elevation| elevation.metres()).unwrap_or(0.0),
        );
        let site_from_local = self.site.site_from_local_enu(&reference_geodetic);
        // Reference position uncertainty, shared by every object.
        let mut reference_covariance = Matrix3::zeros();
        reference_covariance
            .fixed_view_mut::<2, 2>(0, 0)
            .copy_from(&self.ellipse_covariance(&sdsm.ref_pos_xy_conf));
        let reference_vertical =
            match (has_elevation, sdsm.ref_pos_el_conf.and_then(|confidence| confidence.bound_metres())) {
                (false, _) => self.config.missing_elevation_sigma_m,
                (true, Some(bound)) => bound * BOUND_95_TO_SIGMA,
                (true, None) => 0.0,
            };
        reference_covariance[(2, 2)] = reference_vertical * reference_vertical;
        let (base_time_ns, time_source) = self.time_from_ms_in_minute(
            sdsm.sdsm_time_stamp.second.and_then(DSecond::milliseconds),
            context.receive_stamp_ns,
        );
        let mut measurements = Vec::with_capacity(sdsm.objects.0.len());
        for object in &sdsm.objects.0 {
            let measurement = self.sdsm_object(
                object,
                context,
                station_id,
                sdsm.msg_cnt.0,
                reference,
                &reference_geodetic,
                &site_from_local,
                &reference_covariance,
                base_time_ns,
                time_source,
            )?;
            measurements.push(measurement);
        }
        Ok(measurements)
    }

    #[allow(clippy::too_many_arguments)]
    fn sdsm_object(
        &mut self,
        object: &DetectedObjectData,
        context: &MeasurementContext,
        station_id: [u8; 4],
        msg_cnt: u8,
        reference: Point3<f64>,
        reference_geodetic: &Geodetic,
        site_from_local: &Matrix3<f64>,
        reference_covariance: &Matrix3<f64>,
        base_time_ns: u64,
        time_source: TimeSource,
    ) -> Result<V2xMeasurement, MeasurementError> {
        let common = &object.det_obj_common;
        let key = ObjectKey { kind: MessageKind::Sdsm, station_id, object_id: Some(common.object_id.0) };
        let offset_local = Vector3::new(
            common.pos.offset_x.metres(),
            common.pos.offset_y.metres(),
            common.pos.offset_z.map_or(0.0, |z| z.metres()),
        );
        // Object covariance: its own confidences (95 % bounds) plus the reference's.
        let horizontal = common
            .pos_confidence
            .pos
            .bound_metres()
            .map_or(self.config.default_horizontal_sigma_m, |bound| bound * BOUND_95_TO_SIGMA);
        let vertical = common
            .pos_confidence
            .elevation
            .bound_metres()
            .map_or(self.config.default_vertical_sigma_m, |bound| bound * BOUND_95_TO_SIGMA);
        let object_covariance = Matrix3::from_diagonal(&Vector3::new(
            horizontal * horizontal,
            horizontal * horizontal,
            vertical * vertical,
        ));
        let covariance =
            reference_covariance + site_from_local * object_covariance * site_from_local.transpose();
        let (length, width, height) = object_size_m(object);
        let (label, default_size): (&str, [f64; 3]) = match common.obj_type {
            ObjectType::Vehicle => {
                let length = length.unwrap_or(self.config.default_vehicle_size_m[0]);
                (self.vehicle_label(length), self.config.default_vehicle_size_m)
            }
            ObjectType::Vru => match &object.det_obj_opt_data {
                Some(DetectedObjectOptionalData::DetVru(vru))
                    if vru.basic_type == Some(PersonalDeviceUserType::APedalcyclist) =>
                {
                    ("bicycle", [1.8, 0.6, 1.7])
                }
                _ => ("person", self.config.default_vru_size_m),
            },
            ObjectType::Animal => ("animal", self.config.default_object_size_m),
            _ => (UNKNOWN_CLASS, self.config.default_object_size_m),
        };
        let size = [
            length.unwrap_or(default_size[0]),
            width.unwrap_or(default_size[1]),
            height.unwrap_or(default_size[2]),
        ];
        // With no offsetZ the reference height stands for the ground: centre half a height up.
        let lift = if common.pos.offset_z.is_some() { 0.0 } else { size[2] / 2.0 };
        let center = reference + site_from_local * offset_local + Vector3::new(0.0, 0.0, lift);
        let velocity = self.velocity(common.speed.metres_per_second(), common.heading, reference_geodetic);
        let speed_sigma = common
            .speed_confidence
            .bound_mps()
            .map_or(self.config.default_speed_sigma_mps, |bound| bound * BOUND_95_TO_SIGMA);
        let offset_ns = i128::from(common.measurement_time.0) * 1_000_000;
        let message_time_ns =
            u64::try_from((i128::from(base_time_ns) + offset_ns).max(0)).unwrap_or(base_time_ns);
        let score = common.obj_type_cfd.percent().map_or(1.0, |percent| f32::from(percent) / 100.0);
        let state = SiteState {
            center,
            covariance,
            velocity,
            yaw_rad: common.heading.radians().map_or(0.0, enu_yaw_from_heading_rad),
        };
        self.finish(
            state,
            context,
            key,
            msg_cnt,
            size,
            label,
            score,
            message_time_ns,
            time_source,
            speed_sigma,
            reference,
            common.accel_4way.as_ref().and_then(|accel| accel.long.metres_per_second2()),
        )
    }
}

/// The 8-octet CSAE `id` folded into the 4-octet [`ObjectKey::station_id`]: the two halves
/// XOR-ed, so an id whose last four octets are zero keeps its first four unchanged. `id` is the
/// decoded octets (the codec's, not the view's hex); octets past 8 are ignored and missing
/// ones count as zero.
pub fn csae_station_id(id: &[u8]) -> [u8; 4] {
    let octet = |index: usize| id.get(index).copied().unwrap_or(0);
    [octet(0) ^ octet(4), octet(1) ^ octet(5), octet(2) ^ octet(6), octet(3) ^ octet(7)]
}

impl MeasurementBuilder {
    /// Measurements of one China CSAE message (T/CSAE 53 / 157): one per RSM participant and
    /// per SSM participant and obstacle (key kind [`MessageKind::Sdsm`]: objects an RSU or
    /// vehicle detected), one for a BSM (its sender, kind [`MessageKind::Bsm`]).
    ///
    /// Positions are the WGS-84 positions [`crate::csae::convert`] resolved by the
    /// `PositionOffsetLLV` CHOICE (an offset from `refPos`/`sensorPos`, or an absolute
    /// `position-LatLon`). Without `offsetV` the object stands on the reference elevation and
    /// its centre is half its height above; an unavailable elevation uses the ego's height. The
    /// horizontal and vertical sigma are `posConfidence` (95 % bound / 1.96) or the configured
    /// defaults; time is each object's `secMark` (RSM participants) or the message's; CSAE ids
    /// are 8 octets and are folded into the 4-octet station id by [`csae_station_id`].
    ///
    /// # Errors
    /// [`MeasurementError::PositionUnavailable`] when an object's latitude or longitude is
    /// unavailable; [`MeasurementError::NotAnObjectMessage`] (message id 0) for MAP, SPAT, RSI
    /// and phase-two messages other than SSM; [`MeasurementError::NoEgoPose`] as
    /// [`Self::process`].
    pub fn process_csae(
        &mut self,
        message: &crate::csae::CsaeMessage,
        context: &MeasurementContext,
    ) -> Result<Vec<V2xMeasurement>, MeasurementError> {
        use crate::csae::convert::{CsaeSummary, RoadsideObject, summary};
        match summary(message) {
            CsaeSummary::Roadside(roadside) => {
                let station_id = csae_station_id(&roadside.sender_id_octets);
                let mut measurements = Vec::with_capacity(roadside.objects.len());
                let reference = match (roadside.ref_position.lat_deg, roadside.ref_position.lon_deg) {
                    (Some(lat), Some(lon)) => Some(self.site.site_from_geodetic(&Geodetic::new(
                        lat,
                        lon,
                        roadside.ref_position.elevation_m.unwrap_or(self.site.origin().height_m),
                    ))),
                    _ => None,
                };
                for object in &roadside.objects {
                    let key =
                        ObjectKey { kind: MessageKind::Sdsm, station_id, object_id: Some(object.object_id) };
                    let sec_mark = object.sec_mark_ms.or(roadside.sec_mark_ms);
                    measurements.push(self.csae_object(
                        object,
                        key,
                        roadside.msg_cnt,
                        sec_mark,
                        reference,
                        context,
                    )?);
                }
                Ok(measurements)
            }
            CsaeSummary::Bsm(bsm) => {
                let object = RoadsideObject {
                    kind: "bsm",
                    object_id: 0,
                    object_type: "motor",
                    source: "selfinfo",
                    sec_mark_ms: bsm.sec_mark_ms,
                    position_choice: "position-LatLon",
                    vertical_choice: bsm.elevation_m.map(|_| "elevation"),
                    position: crate::csae::convert::GeoPosition {
                        lat_deg: bsm.lat_deg,
                        lon_deg: bsm.lon_deg,
                        elevation_m: bsm.elevation_m,
                    },
                    position_confidence_m: None,
                    speed_mps: bsm.speed_mps,
                    heading_rad: bsm.heading_rad,
                    length_m: bsm.length_m,
                    width_m: bsm.width_m,
                    height_m: bsm.height_m,
                    type_confidence: None,
                };
                let key = ObjectKey {
                    kind: MessageKind::Bsm,
                    station_id: csae_station_id(&bsm.temporary_id_octets),
                    object_id: None,
                };
                // The BSM position is the vehicle's own (ground) position.
                let mut measurement =
                    self.csae_object(&object, key, bsm.msg_cnt, bsm.sec_mark_ms, None, context)?;
                measurement.sender_in_site_m = measurement.center_in_site_m;
                Ok(vec![measurement])
            }
            CsaeSummary::Spat(_) | CsaeSummary::Map(_) | CsaeSummary::Rsi(_) | CsaeSummary::Other(_) => {
                Err(MeasurementError::NotAnObjectMessage { message_id: 0 })
            }
        }
    }

    fn csae_object(
        &mut self,
        object: &crate::csae::convert::RoadsideObject,
        key: ObjectKey,
        msg_cnt: u8,
        sec_mark_ms: Option<u16>,
        reference: Option<Point3<f64>>,
        context: &MeasurementContext,
    ) -> Result<V2xMeasurement, MeasurementError> {
        let unavailable =
            MeasurementError::PositionUnavailable { kind: key.kind, station_id: key.station_id };
        let (Some(lat_deg), Some(lon_deg)) = (object.position.lat_deg, object.position.lon_deg) else {
            return Err(unavailable);
        };
        let label = object.class_label(self.config.truck_min_length_m);
        let default_size = match label {
            "car" | "truck" => self.config.default_vehicle_size_m,
            "person" => self.config.default_vru_size_m,
            "bicycle" => [1.8, 0.6, 1.7],
            _ => self.config.default_object_size_m,
        };
        let size = [
            object.length_m.unwrap_or(default_size[0]),
            object.width_m.unwrap_or(default_size[1]),
            object.height_m.unwrap_or(default_size[2]),
        ];
        let geodetic = Geodetic::new(lat_deg, lon_deg, object.position.elevation_m.unwrap_or(0.0));
        let (mut center, has_elevation) = match object.position.elevation_m {
            Some(height_m) => {
                (self.site.site_from_geodetic(&Geodetic::new(lat_deg, lon_deg, height_m)), true)
            }
            None => {
                let on_ellipsoid = self.site.site_from_geodetic(&Geodetic::new(
                    lat_deg,
                    lon_deg,
                    self.site.origin().height_m,
                ));
                let ground_z = context.ego.map_or(on_ellipsoid.z, |ego| ego.site_from_truck.translation.z);
                (Point3::new(on_ellipsoid.x, on_ellipsoid.y, ground_z), false)
            }
        };
        // Without offsetV the reference elevation (or the ground) stands for the object's
        // base: its centre is half its height above.
        if object.vertical_choice.is_none() {
            center.z += size[2] / 2.0;
        }
        let horizontal = object
            .position_confidence_m
            .map_or(self.config.default_horizontal_sigma_m, |bound| bound * BOUND_95_TO_SIGMA);
        let vertical = if has_elevation {
            self.config.default_vertical_sigma_m
        } else {
            self.config.missing_elevation_sigma_m
        };
        let site_from_local = self.site.site_from_local_enu(&geodetic);
        let local = Matrix3::from_diagonal(&Vector3::new(
            horizontal * horizontal,
            horizontal * horizontal,
            vertical * vertical,
        ));
        let covariance = site_from_local * local * site_from_local.transpose();
        let velocity = match (object.speed_mps, object.heading_rad) {
            (Some(speed), Some(heading)) => {
                Some(site_from_local * Vector3::new(speed * heading.sin(), speed * heading.cos(), 0.0))
            }
            _ => None,
        };
        let (message_time_ns, time_source) =
            self.time_from_ms_in_minute(sec_mark_ms, context.receive_stamp_ns);
        let state = SiteState {
            center,
            covariance,
            velocity,
            yaw_rad: object.heading_rad.map_or(0.0, enu_yaw_from_heading_rad),
        };
        let score = object.type_confidence.map_or(1.0, |confidence| confidence.clamp(0.0, 1.0) as f32);
        self.finish(
            state,
            context,
            key,
            msg_cnt,
            size,
            label,
            score,
            message_time_ns,
            time_source,
            self.config.default_speed_sigma_mps,
            reference.unwrap_or(center),
            None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csae_ids_fold_their_halves_from_the_decoded_octets() {
        assert_eq!(csae_station_id(&[1, 2, 3, 4, 0, 0, 0, 0]), [1, 2, 3, 4]);
        assert_eq!(csae_station_id(&[0xFF, 0, 0, 0x10, 0x0F, 0, 0, 0x01]), [0xF0, 0, 0, 0x11]);
        // A short id counts its missing octets as zero; octets past 8 are not part of it.
        assert_eq!(csae_station_id(&[7, 8]), [7, 8, 0, 0]);
        assert_eq!(csae_station_id(&[0, 0, 0, 0, 0, 0, 0, 0, 9]), [0, 0, 0, 0]);
    }

    #[test]
    fn sec_mark_resolves_to_the_closest_minute() {
        let site = SiteFrame::new(Geodetic::new(0.0, 0.0, 0.0)).unwrap();
        let builder = MeasurementBuilder::new(MeasurementConfig::default(), site).unwrap();
        let minute = 60_000_000_000u64;
        let receive = 1000 * minute + 500_000_000; // 0.5 s into a minute
        // Sent 0.2 s earlier.
        assert_eq!(builder.time_from_ms_in_minute(Some(300), receive).0, 1000 * minute + 300_000_000);
        // Sent 0.7 s earlier: the previous minute.
        assert_eq!(builder.time_from_ms_in_minute(Some(59_800), receive).0, 999 * minute + 59_800_000_000);
        assert_eq!(builder.time_from_ms_in_minute(None, receive), (receive, TimeSource::ReceiveTime));
    }
}
