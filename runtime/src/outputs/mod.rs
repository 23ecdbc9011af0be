//! The onboard runtime's outputs over zenoh (issue 11, "Outputs").
//!
//! Three key expressions per truck, published by [`ZenohOutputs`]:
//!
//! | key | payload | encoding |
//! |---|---|---|
//! | `pitsense/truck/<truck_id>/objects` | the fused object list as Autoware's `autoware_perception_msgs/msg/TrackedObjects` (autoware_msgs 1.12.0), XCDR1 little-endian with its 4-byte encapsulation header ([`tracked_objects`], [`cdr`]) | `application/cdr` |
//! | `pitsense/truck/<truck_id>/health` | [`pitsense_types::HealthReport`] as JSON: `{"stamp_ns", "mode", "reason", "inputs": {name: {"status", "rate_hz", "age_ms"}}, "late_frames", "dropped": {edge: n}}` | `application/json` |
//! | `pitsense/truck/<truck_id>/latency` | [`LatencyReport`] as JSON: `{"stamp_ns", "stages_ms": {stage: ms}, "end_to_end_ms"}` | `application/json` |
//!
//! The objects payload is exactly what a ROS 2 DDS publisher puts on the wire, so ROS 2 and
//! Autoware nodes consume it through a zenoh–ROS 2 bridge (`zenoh-bridge-ros2dds` forwards raw
//! CDR between a zenoh key and a DDS topic) or decode it directly with any CDR reader given the
//! `.msg` files shipped under `runtime/msg/`.

pub mod cdr;
pub mod tracked_objects;
pub mod zenoh_outputs;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use tracked_objects::{TRACKED_OBJECTS_TYPE, TrackedObjectFields, encode_tracked_objects};
pub use zenoh_outputs::{
    ZENOH_OUTPUTS_SECTION, ZenohMode, ZenohOutputs, ZenohOutputsConfig, ZenohTlsConfig, health_key,
    latency_key, objects_key,
};

/// Per-frame latency figures, published on `pitsense/truck/<truck_id>/latency`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyReport {
    /// Sensor stamp (time of validity) of the frame the figures are for, ns on the truck clock.
    pub stamp_ns: u64,
    /// Time spent in each stage for this frame, ms, by stage name (`lidar`, `camera`, `fusion`,
    /// `tracker`, ...; sorted).
    pub stages_ms: BTreeMap<String, f64>,
    /// From the frame's sensor stamp (the last lidar packet) to the objects' publication, ms.
    pub end_to_end_ms: f64,
}

/// Why an output could not be configured, encoded or published. Publishing never panics; the
/// caller counts these and keeps running.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The zenoh session could not be opened (configuration refused, listen endpoint busy, no
    /// router reachable in client mode).
    #[error("zenoh outputs: open session (listen {listen:?}, connect {connect:?}): {source}")]
    Open {
        /// The configured listen endpoints.
        listen: Vec<String>,
        /// The configured connect endpoints.
        connect: Vec<String>,
        /// The cloud-link transport's error (zenoh's reason inside; boxed: it is large).
        source: Box<pitsense_cloud_link::CloudLinkError>,
    },
    /// zenoh refused to declare a publisher or to send a sample.
    #[error("zenoh outputs: {action} on `{key}`: {reason}")]
    Zenoh {
        /// What was being done (`declare publisher`, `put`).
        action: &'static str,
        /// The key expression.
        key: String,
        /// zenoh's reason.
        reason: String,
    },
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] pitsense_types::ConfigError),
    /// A stamp whose seconds do not fit `builtin_interfaces/Time`'s `int32`.
    #[error("stamp {stamp_ns} ns is beyond builtin_interfaces/Time's int32 seconds")]
    StampOutOfRange {
        /// The stamp.
        stamp_ns: u64,
    },
    /// A string or list too long for CDR's `uint32` length.
    #[error("CDR: {0}")]
    TooLong(#[from] cdr::CdrLengthError),
    /// A report could not be serialized as JSON.
    #[error("{what} as JSON: {reason}")]
    Json {
        /// Which report.
        what: &'static str,
        /// serde_json's reason.
        reason: String,
    },
}
