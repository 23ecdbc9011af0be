//! Plausibility gates for V2X measurements, each counted: outside the sender's stated
//! detection area or range, impossible speed, impossible acceleration, stale, from the
//! future, duplicate, position jump. They also blunt spoofing: a forged object must stay
//! consistent with physics and with what the same station said before.
//!
//! Gates run in the site frame on [`V2xMeasurement::center_in_site_m`], in this order (the
//! first that fails names the rejection): time (stale / future), area, speed, duplicate,
//! acceleration, position jump. History is kept per [`ObjectKey`] for accepted measurements
//! only, bounded by `max_tracked_objects` (the least recently updated key is forgotten
//! first; ties broken by key, so the result is deterministic).

use std::collections::BTreeMap;

use nalgebra::{Point2, Point3};
use pitsense_types::ConfigError;
use serde::{Deserialize, Serialize};

use crate::measurement::{MessageKind, ObjectKey, V2xMeasurement};

/// A road-side unit's stated detection area.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RsuArea {
    /// The RSU's `sourceID` as 8 hex digits (`"010c0c0a"`).
    pub source_id_hex: String,
    /// Detection range around the SDSM `refPos`, metres.
    pub max_range_m: f64,
    /// Optional detection polygon in the site frame, `[east, north]` metres, at least three
    /// vertices; objects must lie inside it (and within `max_range_m`).
    #[serde(default)]
    pub polygon_site_m: Vec<[f64; 2]>,
}

/// Settings of the [`PlausibilityGate`]; units in the names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlausibilityConfig {
    /// Oldest accepted message, seconds between message time and fusion time.
    pub max_age_s: f64,
    /// Latest accepted message time after fusion time (clock skew), seconds.
    pub max_future_s: f64,
    /// Range around an SDSM sender's `refPos` for RSUs without an [`RsuArea`], metres.
    pub default_sdsm_range_m: f64,
    /// Range between a BSM/PSM sender and the truck (when the ego pose is known), metres.
    pub max_sender_range_m: f64,
    /// Stated areas of known RSUs.
    pub rsu_areas: Vec<RsuArea>,
    /// Highest plausible speed, m/s (reported, or implied by two positions).
    pub max_speed_mps: f64,
    /// Highest plausible acceleration, m/s² (reported, or from two speeds).
    pub max_accel_mps2: f64,
    /// Position change allowed beyond `max_speed_mps · dt` between two measurements of the
    /// same object, metres (covers position noise).
    pub jump_margin_m: f64,
    /// Keys not updated for this long are forgotten, seconds.
    pub forget_after_s: f64,
    /// Most objects remembered at once.
    pub max_tracked_objects: usize,
}

impl Default for PlausibilityConfig {
    fn default() -> Self {
        Self {
            max_age_s: 1.0,
            max_future_s: 0.2,
            default_sdsm_range_m: 300.0,
            max_sender_range_m: 1500.0,
            rsu_areas: Vec::new(),
            max_speed_mps: 40.0,
            max_accel_mps2: 12.0,
            jump_margin_m: 5.0,
            forget_after_s: 10.0,
            max_tracked_objects: 4096,
        }
    }
}

impl PlausibilityConfig {
    /// Checks every value.
    ///
    /// # Errors
    /// [`ConfigError`] naming the key (`v2x.plausibility.<field>`) and the accepted range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let key = |name: &str| format!("v2x.plausibility.{name}");
        ConfigError::check_range(&key("max_age_s"), self.max_age_s, 0.0, 3600.0)?;
        ConfigError::check_range(&key("max_future_s"), self.max_future_s, 0.0, 60.0)?;
        ConfigError::check_range(&key("default_sdsm_range_m"), self.default_sdsm_range_m, 0.0, 1e5)?;
        ConfigError::check_range(&key("max_sender_range_m"), self.max_sender_range_m, 0.0, 1e5)?;
        ConfigError::check_range(&key("max_speed_mps"), self.max_speed_mps, 0.0, 1000.0)?;
        ConfigError::check_range(&key("max_accel_mps2"), self.max_accel_mps2, 0.0, 1000.0)?;
        ConfigError::check_range(&key("jump_margin_m"), self.jump_margin_m, 0.0, 1e4)?;
        ConfigError::check_range(&key("forget_after_s"), self.forget_after_s, 0.0, 86_400.0)?;
        if self.max_tracked_objects == 0 {
            return Err(ConfigError::new(key("max_tracked_objects"), "must be at least 1"));
        }
        for (index, area) in self.rsu_areas.iter().enumerate() {
            if parse_station_id(&area.source_id_hex).is_none() {
                return Err(ConfigError::new(
                    format!("v2x.plausibility.rsu_areas[{index}].source_id_hex"),
                    format!("`{}` is not 8 hex digits", area.source_id_hex),
                ));
            }
            ConfigError::check_range(
                &format!("v2x.plausibility.rsu_areas[{index}].max_range_m"),
                area.max_range_m,
                0.0,
                1e5,
            )?;
            if !area.polygon_site_m.is_empty() && area.polygon_site_m.len() < 3 {
                return Err(ConfigError::new(
                    format!("v2x.plausibility.rsu_areas[{index}].polygon_site_m"),
                    "needs at least three vertices (or none)",
                ));
            }
        }
        Ok(())
    }
}

fn parse_station_id(hex: &str) -> Option<[u8; 4]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 8 {
        return None;
    }
    let mut id = [0u8; 4];
    for (index, pair) in bytes.chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).ok()?;
        *id.get_mut(index)? = u8::from_str_radix(text, 16).ok()?;
    }
    Some(id)
}

/// Why a measurement was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// Outside the sender's stated detection area or range (or too far from the truck).
    OutsideArea,
    /// Speed above `max_speed_mps` (reported, or implied by two positions).
    ImpossibleSpeed,
    /// Acceleration above `max_accel_mps2` (reported, or from two speeds).
    ImpossibleAcceleration,
    /// Message older than `max_age_s` at fusion time.
    Stale,
    /// Message time more than `max_future_s` after fusion time.
    FromTheFuture,
    /// Same object and message time as a measurement already accepted.
    Duplicate,
    /// Position incompatible with the previous one of the same object.
    PositionJump,
}

/// Counters of the gate: accepted, and rejected by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PlausibilityStats {
    /// Measurements that passed every gate.
    pub accepted: u64,
    /// Rejected: [`RejectReason::OutsideArea`].
    pub outside_area: u64,
    /// Rejected: [`RejectReason::ImpossibleSpeed`].
    pub impossible_speed: u64,
    /// Rejected: [`RejectReason::ImpossibleAcceleration`].
    pub impossible_acceleration: u64,
    /// Rejected: [`RejectReason::Stale`].
    pub stale: u64,
    /// Rejected: [`RejectReason::FromTheFuture`].
    pub from_the_future: u64,
    /// Rejected: [`RejectReason::Duplicate`].
    pub duplicate: u64,
    /// Rejected: [`RejectReason::PositionJump`].
    pub position_jump: u64,
}

impl PlausibilityStats {
    fn count(&mut self, reason: RejectReason) {
        let counter = match reason {
            RejectReason::OutsideArea => &mut self.outside_area,
            RejectReason::ImpossibleSpeed => &mut self.impossible_speed,
            RejectReason::ImpossibleAcceleration => &mut self.impossible_acceleration,
            RejectReason::Stale => &mut self.stale,
            RejectReason::FromTheFuture => &mut self.from_the_future,
            RejectReason::Duplicate => &mut self.duplicate,
            RejectReason::PositionJump => &mut self.position_jump,
        };
        *counter += 1;
    }

    /// Total rejected.
    pub fn rejected(&self) -> u64 {
        self.outside_area
            + self.impossible_speed
            + self.impossible_acceleration
            + self.stale
            + self.from_the_future
            + self.duplicate
            + self.position_jump
    }
}

/// The last accepted state of one object.
#[derive(Clone, Copy, Debug)]
struct History {
    message_time_ns: u64,
    center_in_site_m: Point3<f64>,
    speed_mps: Option<f64>,
}

/// The gate (a plain synchronous stage: no I/O, no clock).
#[derive(Clone, Debug)]
pub struct PlausibilityGate {
    config: PlausibilityConfig,
    areas: BTreeMap<[u8; 4], RsuArea>,
    history: BTreeMap<ObjectKey, History>,
    stats: PlausibilityStats,
}

impl PlausibilityGate {
    /// A gate with the given limits.
    ///
    /// # Errors
    /// [`ConfigError`] from [`PlausibilityConfig::validate`].
    pub fn new(config: PlausibilityConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let areas = config
            .rsu_areas
            .iter()
            .filter_map(|area| parse_station_id(&area.source_id_hex).map(|id| (id, area.clone())))
            .collect();
        Ok(Self { config, areas, history: BTreeMap::new(), stats: PlausibilityStats::default() })
    }

    /// The counters so far.
    pub fn stats(&self) -> &PlausibilityStats {
        &self.stats
    }

    /// Checks one measurement at `fusion_stamp_ns`, with the truck's site position when
    /// known; counts the outcome and remembers accepted measurements.
    ///
    /// # Errors
    /// The [`RejectReason`] of the first gate that fails.
    pub fn check(
        &mut self,
        measurement: &V2xMeasurement,
        fusion_stamp_ns: u64,
        truck_in_site_m: Option<&Point3<f64>>,
    ) -> Result<(), RejectReason> {
        self.forget(fusion_stamp_ns);
        let result = self.evaluate(measurement, fusion_stamp_ns, truck_in_site_m);
        match result {
            Ok(()) => {
                self.stats.accepted += 1;
                self.remember(measurement);
            }
            Err(reason) => self.stats.count(reason),
        }
        result
    }

    fn evaluate(
        &self,
        measurement: &V2xMeasurement,
        fusion_stamp_ns: u64,
        truck_in_site_m: Option<&Point3<f64>>,
    ) -> Result<(), RejectReason> {
        let config = &self.config;
        let age_s = seconds_between(measurement.message_time_ns, fusion_stamp_ns);
        if age_s > config.max_age_s {
            return Err(RejectReason::Stale);
        }
        if -age_s > config.max_future_s {
            return Err(RejectReason::FromTheFuture);
        }
        self.check_area(measurement, truck_in_site_m)?;
        let speed = measurement.velocity_in_site_mps.map(|velocity| velocity.xy().norm());
        if speed.is_some_and(|speed| speed > config.max_speed_mps) {
            return Err(RejectReason::ImpossibleSpeed);
        }
        if measurement.reported_accel_mps2.is_some_and(|accel| accel.abs() > config.max_accel_mps2) {
            return Err(RejectReason::ImpossibleAcceleration);
        }
        let Some(previous) = self.history.get(&measurement.key) else { return Ok(()) };
        if previous.message_time_ns == measurement.message_time_ns {
            return Err(RejectReason::Duplicate);
        }
        let dt = seconds_between(previous.message_time_ns, measurement.message_time_ns).abs();
        if let (Some(previous_speed), Some(speed)) = (previous.speed_mps, speed)
            && dt > 0.05
            && (speed - previous_speed).abs() / dt > config.max_accel_mps2
        {
            return Err(RejectReason::ImpossibleAcceleration);
        }
        // Positions are compared at their message times: undo the latency compensation by
        // comparing against the position the previous state would have at this time.
        let moved_m =
            (measurement_center_at_message_time(measurement) - previous.center_in_site_m).xy().norm();
        if moved_m > config.jump_margin_m + config.max_speed_mps * dt {
            return Err(RejectReason::PositionJump);
        }
        Ok(())
    }

    fn check_area(
        &self,
        measurement: &V2xMeasurement,
        truck_in_site_m: Option<&Point3<f64>>,
    ) -> Result<(), RejectReason> {
        let center = measurement_center_at_message_time(measurement);
        match measurement.key.kind {
            MessageKind::Sdsm | MessageKind::Cpm => {
                let range_to_sender = (center - measurement.sender_in_site_m).xy().norm();
                match self.areas.get(&measurement.key.station_id) {
                    Some(area) => {
                        if range_to_sender > area.max_range_m {
                            return Err(RejectReason::OutsideArea);
                        }
                        if !area.polygon_site_m.is_empty()
                            && !polygon_contains(&area.polygon_site_m, &center.xy())
                        {
                            return Err(RejectReason::OutsideArea);
                        }
                    }
                    None if range_to_sender > self.config.default_sdsm_range_m => {
                        return Err(RejectReason::OutsideArea);
                    }
                    None => {}
                }
            }
            MessageKind::Bsm | MessageKind::Psm => {
                if let Some(truck) = truck_in_site_m
                    && (center - truck).xy().norm() > self.config.max_sender_range_m
                {
                    return Err(RejectReason::OutsideArea);
                }
            }
        }
        Ok(())
    }

    fn remember(&mut self, measurement: &V2xMeasurement) {
        if !self.history.contains_key(&measurement.key)
            && self.history.len() >= self.config.max_tracked_objects
        {
            let oldest = self
                .history
                .iter()
                .min_by_key(|(key, history)| (history.message_time_ns, **key))
                .map(|(key, _)| *key);
            if let Some(oldest) = oldest {
                self.history.remove(&oldest);
            }
        }
        self.history.insert(
            measurement.key,
            History {
                message_time_ns: measurement.message_time_ns,
                center_in_site_m: measurement_center_at_message_time(measurement),
                speed_mps: measurement.velocity_in_site_mps.map(|velocity| velocity.xy().norm()),
            },
        );
    }

    fn forget(&mut self, fusion_stamp_ns: u64) {
        let forget_after_s = self.config.forget_after_s;
        self.history
            .retain(|_, history| seconds_between(history.message_time_ns, fusion_stamp_ns) <= forget_after_s);
    }

    /// Objects currently remembered.
    pub fn tracked_objects(&self) -> usize {
        self.history.len()
    }
}

/// `to − from`, seconds.
fn seconds_between(from_ns: u64, to_ns: u64) -> f64 {
    (i128::from(to_ns) - i128::from(from_ns)) as f64 * 1e-9
}

/// The site-frame centre at the message time (the measurement holds it at fusion time).
fn measurement_center_at_message_time(measurement: &V2xMeasurement) -> Point3<f64> {
    match measurement.velocity_in_site_mps {
        Some(velocity) => measurement.center_in_site_m - velocity * measurement.latency_s,
        None => measurement.center_in_site_m,
    }
}

/// Even-odd rule point-in-polygon test.
fn polygon_contains(polygon: &[[f64; 2]], point: &Point2<f64>) -> bool {
    let mut inside = false;
    let count = polygon.len();
    for index in 0..count {
        let (Some(a), Some(b)) = (polygon.get(index), polygon.get((index + count - 1) % count)) else {
            continue;
        };
        if (a[1] > point.y) != (b[1] > point.y)
            && point.x < (b[0] - a[0]) * (point.y - a[1]) / (b[1] - a[1]) + a[0]
        {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygon_and_station_ids() {
        let square = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        assert!(polygon_contains(&square, &Point2::new(5.0, 5.0)));
        assert!(!polygon_contains(&square, &Point2::new(15.0, 5.0)));
        assert_eq!(parse_station_id("010c0c0A"), Some([1, 12, 12, 10]));
        assert_eq!(parse_station_id("010c0c0"), None);
        assert_eq!(parse_station_id("zz0c0c0a"), None);
    }
}
