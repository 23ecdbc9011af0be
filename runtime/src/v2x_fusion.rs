//! The V2X input of the pipeline: received messages in, fusable objects out.
//!
//! Wiring only (the algorithms are `pitsense-v2x`'s): each received datagram or capture record
//! goes into a bounded inbox with its receive time; at each fusion time the inbox is drained up
//! to that time, every message decoded ([`Decoder::decode_any`] with the RSU's
//! `[v2x.format]`: SAE J2735 raw or in IEEE 1609.2, ETSI CAM/CPM, China CSAE), turned into
//! measurements ([`MeasurementBuilder`]: site frame, covariance from the message's accuracy,
//! latency compensated to the fusion time), checked ([`PlausibilityGate`]: area, speed,
//! acceleration, stale, duplicate, jump), and handed to the tracker as
//! [`ObjectMeasurement`]s ([`pitsense_fusion::tracker::Tracker::update_with_ego_and_v2x`]).
//!
//! The inbox is an edge of the project's one channel type ([`crate::graph::channel`], named
//! [`V2X_INBOX_EDGE`]) used within the fusion task: messages wait there until a frame's stamp
//! passes their receive time, the first one received after the frame held aside. Drop policy:
//! when the inbox is full, the oldest queued message is dropped and counted
//! ([`V2xFusionStats::dropped_inbox_full`], and under the edge's name in the health message);
//! newer messages are worth more to fusion.

use pitsense_types::nalgebra::Point3;
use pitsense_types::{ConfigError, EgoState, ObjectClass, ObjectMeasurement};
use pitsense_v2x::config::V2xConfig;
use pitsense_v2x::decode::{Decoder, FormatConfig};
use pitsense_v2x::geodesy::SiteFrame;
use pitsense_v2x::measurement::{MeasurementBuilder, MeasurementContext, MeasurementError, V2xMeasurement};
use pitsense_v2x::plausibility::PlausibilityGate;
use serde::Serialize;

use crate::graph::channel::{DropPolicy, EdgeProbe, EdgeReceiver, EdgeSender, edge};

/// The inbox edge's name in the health message's `dropped` counters.
pub const V2X_INBOX_EDGE: &str = "v2x->inbox";

/// One-sigma heading error given to V2X objects that carry a heading, radians (J2735 and
/// J3224 heading confidences are not carried into measurements yet: 0.2 rad ≈ 11°).
pub const V2X_YAW_STD_RAD: f64 = 0.2;
/// One-sigma error given to the box dimensions of V2X objects, metres.
pub const V2X_SIZE_STD_M: f64 = 0.5;

/// Counters of the V2X input, for logs and the replay summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct V2xFusionStats {
    /// Messages pushed into the inbox.
    pub received: u64,
    /// Messages dropped because the inbox was full (oldest first).
    pub dropped_inbox_full: u64,
    /// Inputs the decoder refused whole (malformed, too long, empty), and messages inside an
    /// input whose value did not decode.
    pub undecodable: u64,
    /// Decoded messages that gave no measurement (MAP, SPaT, unsupported, no position).
    pub without_objects: u64,
    /// Measurements rejected by a plausibility gate.
    pub implausible: u64,
    /// Objects handed to the tracker.
    pub fused_objects: u64,
}

/// The V2X input stage of the runtime.
#[derive(Debug)]
pub struct V2xFusion {
    decoder: Decoder,
    format: FormatConfig,
    builder: MeasurementBuilder,
    gate: PlausibilityGate,
    /// Received inputs (receive stamp on the truck clock, ns; bytes), oldest first.
    inbox: EdgeSender<(u64, Vec<u8>)>,
    inbox_rx: EdgeReceiver<(u64, Vec<u8>)>,
    inbox_probe: EdgeProbe,
    /// The first input received after the last fusion time, taken from the inbox.
    held: Option<(u64, Vec<u8>)>,
    stats: V2xFusionStats,
}

impl V2xFusion {
    /// Builds the decoder, measurement builder and gates of the `[v2x]` configuration; the
    /// inbox holds `receiver.queue_capacity` messages (and one more held aside, see the module
    /// docs).
    ///
    /// # Errors
    /// The first invalid key of the configuration.
    pub fn new(config: &V2xConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let (inbox, inbox_rx, inbox_probe) =
            edge(V2X_INBOX_EDGE, config.receiver.queue_capacity, DropPolicy::DropOldest);
        Ok(Self {
            decoder: Decoder::new(config.decode)?,
            format: config.format,
            builder: MeasurementBuilder::new(
                config.measurement.clone(),
                SiteFrame::new(config.site_origin)?,
            )?,
            gate: PlausibilityGate::new(config.plausibility.clone())?,
            inbox,
            inbox_rx,
            inbox_probe,
            held: None,
            stats: V2xFusionStats::default(),
        })
    }

    /// Queues one received input (a datagram or capture record) with its receive time on the
    /// truck clock, nanoseconds. Never blocks; a full inbox drops its oldest message.
    pub fn push(&mut self, receive_stamp_ns: u64, bytes: Vec<u8>) {
        self.stats.received += 1;
        self.inbox.send((receive_stamp_ns, bytes));
    }

    /// Messages waiting in the inbox.
    pub fn queued(&self) -> usize {
        self.inbox_probe.stats().queued + usize::from(self.held.is_some())
    }

    /// The counters so far.
    pub fn stats(&self) -> V2xFusionStats {
        V2xFusionStats { dropped_inbox_full: self.inbox_probe.stats().dropped, ..self.stats }
    }

    /// A handle on the inbox edge's counters, for the health message.
    pub fn inbox_probe(&self) -> EdgeProbe {
        self.inbox_probe.clone()
    }

    /// The plausibility gate's counters (accepted, rejected by reason).
    pub fn plausibility_stats(&self) -> &pitsense_v2x::plausibility::PlausibilityStats {
        self.gate.stats()
    }

    /// Drains the messages received at or before `fusion_stamp_ns` and returns their objects,
    /// latency-compensated to that time, in the frame the `[v2x.measurement]` section says
    /// (site by default), in receive order. Messages received later stay queued.
    pub fn objects_at(&mut self, fusion_stamp_ns: u64, ego: &EgoState) -> Vec<ObjectMeasurement> {
        let truck_in_site = Point3::from(ego.site_from_truck.translation.vector);
        let mut objects = Vec::new();
        while let Some((receive_stamp_ns, bytes)) = self.held.take().or_else(|| self.inbox_rx.try_recv()) {
            if receive_stamp_ns > fusion_stamp_ns {
                // Received after this frame: it waits for the next one.
                self.held = Some((receive_stamp_ns, bytes));
                break;
            }
            let Ok(report) = self.decoder.decode_any(&bytes, &self.format) else {
                self.stats.undecodable += 1;
                continue;
            };
            let context = MeasurementContext { receive_stamp_ns, fusion_stamp_ns, ego: Some(ego) };
            // Per message: its measurements, or why it gave none.
            let per_message = self.builder.measurements(&report, &context);
            for measurements in per_message {
                let measurements = match measurements {
                    Ok(measurements) => measurements,
                    Err(MeasurementError::Undecodable { .. }) => {
                        self.stats.undecodable += 1;
                        continue;
                    }
                    Err(_) => {
                        self.stats.without_objects += 1;
                        continue;
                    }
                };
                for measurement in measurements {
                    if self.gate.check(&measurement, fusion_stamp_ns, Some(&truck_in_site)).is_err() {
                        self.stats.implausible += 1;
                        continue;
                    }
                    self.stats.fused_objects += 1;
                    objects.push(object_measurement(measurement));
                }
            }
        }
        objects
    }
}

/// A V2X measurement as the tracker takes it: box, centre covariance, heading error (none when
/// the sender gave no heading or speed) and size error.
/// Its class is put in pitsense's taxonomy ([`v2x_taxonomy_class`]).
pub fn object_measurement(measurement: V2xMeasurement) -> ObjectMeasurement {
    let mut detection = measurement.detection;
    detection.class_label = v2x_taxonomy_class(&detection.class_label).label().to_owned();
    ObjectMeasurement {
        yaw_std_rad: measurement.velocity_mps.map(|_| V2X_YAW_STD_RAD),
        position_covariance_m2: measurement.position_covariance_m2,
        detection,
        size_std_m: V2X_SIZE_STD_M,
    }
}

/// The taxonomy class of a V2X decoder's object label: `person` (J2735 VRU, ETSI pedestrian,
/// CSAE pedestrian) → pedestrian, `vehicle` (a vehicle whose length does not make it a truck)
/// → car; the taxonomy's own labels (`truck`, `cyclist`, `animal`...) stay; anything else is
/// unknown.
pub fn v2x_taxonomy_class(label: &str) -> ObjectClass {
    match label.trim().to_ascii_lowercase().as_str() {
        "person" => ObjectClass::Pedestrian,
        "vehicle" => ObjectClass::Car,
        other => ObjectClass::from_label(other).unwrap_or(ObjectClass::Unknown),
    }
}
