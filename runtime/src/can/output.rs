//! pitsense's outputs on vehicle CAN: the health report and the nearest objects, as the
//! `PITSENSE_HEALTH` and `PITSENSE_OBJECT` messages of the shipped `config/truck.dbc`.

use std::collections::BTreeMap;

use pitsense_types::{CanFrame, ConfigError, HealthReport, InputStatus};

use super::bus::CanError;
use super::config::{CanOutputConfig, OUTPUT_KEY};
use super::dbc::Dbc;

/// Health message name.
const HEALTH_MESSAGE: &str = "PITSENSE_HEALTH";
/// Object message name.
const OBJECT_MESSAGE: &str = "PITSENSE_OBJECT";
/// The health message's signals.
const HEALTH_SIGNALS: [&str; 9] = [
    "DegradedMode",
    "AliveCounter",
    "LidarStatus",
    "CameraStatus",
    "V2xStatus",
    "CanStatus",
    "GnssStatus",
    "LateFrames",
    "ObjectCount",
];
/// The object message's signals.
const OBJECT_SIGNALS: [&str; 6] =
    ["ObjectIndex", "ObjectClass", "TrackId", "PositionX", "PositionY", "Speed"];
/// Input names in [`HealthReport::inputs`] sent in the health message, in signal order
/// (`LidarStatus`, `CameraStatus`, `V2xStatus`, `CanStatus`, `GnssStatus`).
pub const HEALTH_INPUT_NAMES: [&str; 5] = ["lidar", "camera", "v2x", "can", "gnss"];
/// Status code of an input absent from the report (the DBC's `not_configured`).
const NOT_CONFIGURED: u8 = 7;

/// An input status's code on CAN (the DBC's value table: 0 ok, 1 not received, 2 rate low,
/// 3 stale, 4 failed).
fn status_code(status: InputStatus) -> u8 {
    match status {
        InputStatus::Ok => 0,
        InputStatus::NotReceived => 1,
        InputStatus::RateLow => 2,
        InputStatus::Stale => 3,
        InputStatus::Failed => 4,
    }
}

/// One object as sent on CAN, in the truck frame (x forward, y left, origin at the truck's
/// reference point).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ObjectOnCan {
    /// Track identity (sent modulo 65,536).
    pub track_id: u64,
    /// Class code of the DBC's `ObjectClass` table ([`ObjectOnCan::class_code_for_label`]).
    pub class_code: u8,
    /// Position ahead of the truck, m.
    pub x_m: f64,
    /// Position to the left of the truck, m.
    pub y_m: f64,
    /// Ground speed (magnitude), m/s; a non-finite speed is sent as 0.
    pub speed_mps: f64,
}

impl ObjectOnCan {
    /// The `ObjectClass` code of a class label: 1 car, 2 truck, 3 bus, 4 pedestrian,
    /// 5 cyclist, 6 motorcycle, 0 anything else (`unknown`). COCO's `person`, `bicycle` map to
    /// pedestrian and cyclist.
    pub fn class_code_for_label(label: &str) -> u8 {
        match label {
            "car" => 1,
            "truck" => 2,
            "bus" => 3,
            "pedestrian" | "person" => 4,
            "cyclist" | "bicycle" => 5,
            "motorcycle" => 6,
            _ => 0,
        }
    }
}

/// Encodes the health report and the nearest objects into CAN frames.
///
/// Each [`CanOutputEncoder::encode`] call is one cycle: one `PITSENSE_HEALTH` frame (degraded
/// mode code, the status code of each input in [`HEALTH_INPUT_NAMES`] or 7 when absent, an
/// alive counter that counts cycles modulo 16, late frames, the number of objects sent), then
/// one `PITSENSE_OBJECT` frame per object, nearest first (ties by track id), at most
/// `nearest_objects`. Objects with a non-finite position are left out; values beyond a
/// signal's DBC range are clamped to it (an object 300 m away is sent at the range's edge).
#[derive(Clone, Debug)]
pub struct CanOutputEncoder {
    dbc: Dbc,
    bus_name: String,
    nearest_objects: usize,
    alive_counter: u64,
    /// `(min, max)` of every output signal, by name.
    ranges: BTreeMap<&'static str, (f64, f64)>,
}

impl CanOutputEncoder {
    /// Checks that `dbc` defines the output messages with exactly the signals this encoder
    /// fills; frames will carry `bus_name` (the bus they are sent on, [`super::CanBus::name`]).
    ///
    /// # Errors
    /// A [`ConfigError`] on `run.outputs.can.dbc_path` naming the missing message or signal,
    /// or on another key when the section does not validate.
    pub fn new(config: &CanOutputConfig, dbc: Dbc, bus_name: &str) -> Result<Self, ConfigError> {
        config.validate()?;
        let key = format!("{OUTPUT_KEY}.dbc_path");
        let mut ranges = BTreeMap::new();
        for (message_name, wanted) in
            [(HEALTH_MESSAGE, &HEALTH_SIGNALS[..]), (OBJECT_MESSAGE, &OBJECT_SIGNALS[..])]
        {
            let (_, message) = dbc.message_by_name(message_name).ok_or_else(|| {
                ConfigError::new(&key, format!("DBC {} has no message {message_name}", dbc.source_name()))
            })?;
            let mut names: Vec<&str> = message.signals.iter().map(|s| s.name.as_str()).collect();
            names.sort_unstable();
            let mut expected = wanted.to_vec();
            expected.sort_unstable();
            if names != expected {
                return Err(ConfigError::new(
                    &key,
                    format!(
                        "message {message_name} must have exactly the signals {expected:?}, it has {names:?}"
                    ),
                ));
            }
            for &name in wanted {
                let range =
                    message.signals.iter().find(|s| s.name == name).and_then(|s| s.range).ok_or_else(
                        || {
                            ConfigError::new(
                                &key,
                                format!("signal {message_name}.{name} needs a [MIN|MAX] range"),
                            )
                        },
                    )?;
                ranges.insert(name, range);
            }
        }
        Ok(Self {
            dbc,
            bus_name: bus_name.to_owned(),
            nearest_objects: config.nearest_objects,
            alive_counter: 0,
            ranges,
        })
    }

    fn clamped(&self, name: &str, value: f64) -> f64 {
        match self.ranges.get(name) {
            Some(&(min, max)) => value.clamp(min, max),
            None => value,
        }
    }

    /// Wraps a counter into a signal's `0..=MAX` range.
    fn wrapped(&self, name: &str, value: u64) -> f64 {
        let modulus = self.ranges.get(name).map_or(1, |&(_, max)| max as u64 + 1);
        (value % modulus) as f64
    }

    /// One output cycle at `stamp_ns` (ns on the truck clock): the health frame, then the
    /// nearest objects' frames (see the type's documentation).
    ///
    /// # Errors
    /// [`CanError::Encode`] if a value cannot be encoded (not expected after the range
    /// clamping; reported rather than hidden).
    pub fn encode(
        &mut self,
        stamp_ns: u64,
        health: &HealthReport,
        objects: &[ObjectOnCan],
    ) -> Result<Vec<CanFrame>, CanError> {
        let mut nearest: Vec<&ObjectOnCan> =
            objects.iter().filter(|o| o.x_m.is_finite() && o.y_m.is_finite()).collect();
        nearest.sort_by(|a, b| {
            let range_a = a.x_m.hypot(a.y_m);
            let range_b = b.x_m.hypot(b.y_m);
            range_a.total_cmp(&range_b).then(a.track_id.cmp(&b.track_id))
        });
        nearest.truncate(self.nearest_objects);

        let status =
            |name: &str| health.inputs.get(name).map_or(NOT_CONFIGURED, |input| status_code(input.status));
        let mut values: BTreeMap<String, f64> = BTreeMap::new();
        values.insert("DegradedMode".into(), f64::from(health.mode.code()));
        values.insert("AliveCounter".into(), self.wrapped("AliveCounter", self.alive_counter));
        for (signal, input) in ["LidarStatus", "CameraStatus", "V2xStatus", "CanStatus", "GnssStatus"]
            .into_iter()
            .zip(HEALTH_INPUT_NAMES)
        {
            values.insert(signal.into(), f64::from(status(input)));
        }
        values.insert("LateFrames".into(), self.clamped("LateFrames", health.late_frames as f64));
        values.insert("ObjectCount".into(), self.clamped("ObjectCount", nearest.len() as f64));
        self.alive_counter = self.alive_counter.wrapping_add(1);

        let mut frames = Vec::with_capacity(1 + nearest.len());
        frames.push(self.dbc.encode(HEALTH_MESSAGE, &values)?.into_can_frame(stamp_ns, &self.bus_name));
        for (index, object) in nearest.into_iter().enumerate() {
            values.clear();
            values.insert("ObjectIndex".into(), index as f64);
            values.insert("ObjectClass".into(), self.clamped("ObjectClass", f64::from(object.class_code)));
            values.insert("TrackId".into(), self.wrapped("TrackId", object.track_id));
            values.insert("PositionX".into(), self.clamped("PositionX", object.x_m));
            values.insert("PositionY".into(), self.clamped("PositionY", object.y_m));
            let speed_mps = if object.speed_mps.is_finite() { object.speed_mps } else { 0.0 };
            values.insert("Speed".into(), self.clamped("Speed", speed_mps));
            frames.push(self.dbc.encode(OBJECT_MESSAGE, &values)?.into_can_frame(stamp_ns, &self.bus_name));
        }
        Ok(frames)
    }
}
