//! Input health and the degraded mode (ISO 17757 perception failure modes: an input not
//! received, too slow, stale, failed).
//!
//! Each input has an [`InputMonitor`] fed with the arrival time (the injected clock) and the
//! sensor stamp of every message. Its status at time `now`:
//!
//! | status | when |
//! |---|---|
//! | `failed` | the source reported a fatal error (cannot open, socket closed) |
//! | `not_received` | nothing since start-up |
//! | `stale` | nothing arrived for more than `stale_after_periods` nominal periods (2 by default: a lost lidar at 10 Hz is detected within 200 ms), or the newest sensor stamp lags the clock, or leads it, by more than `max_stamp_lag_ms` (a sensor clock that jumped; the health then gives the offset, `stamp_offset_ms`, and the reason says "sensor stamps N ms behind/ahead of the clock") |
//! | `rate_low` | arrivals over the last `rate_window_ms` below `rate_low_fraction` of the nominal rate |
//! | `ok` | otherwise |
//!
//! Autoware's topic state monitor waits 1 s and dora 5 s before declaring an input gone; the
//! truck needs to know within two frames.

use std::collections::{BTreeMap, VecDeque};

use pitsense_types::{ConfigError, DegradedMode, InputHealth, InputStatus};
use serde::{Deserialize, Serialize};

/// Most arrival times kept for the rate estimate (bounds memory under a flood).
const MAX_ARRIVALS: usize = 4096;

/// How one input is judged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitorConfig {
    /// Nominal message rate, Hz (lidar 10, camera 10–30, V2X 10, CAN 50–100, GNSS 1–20).
    pub nominal_rate_hz: f64,
    /// An input is stale after this many nominal periods without a message.
    pub stale_after_periods: f64,
    /// Below this fraction of the nominal rate (over the window) the rate is low.
    pub rate_low_fraction: f64,
    /// Window of the rate estimate, ms.
    pub rate_window_ms: u64,
    /// Largest tolerated lag of the newest sensor stamp behind the clock, ms, and lead ahead of
    /// it (a sensor clock that jumped forward: stamps from the future would be fused with an
    /// ego pose that does not exist yet); 0 disables the check (sensors whose clocks are not
    /// synchronised to the truck's).
    pub max_stamp_lag_ms: u64,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            nominal_rate_hz: 10.0,
            stale_after_periods: 2.0,
            rate_low_fraction: 0.5,
            rate_window_ms: 1000,
            max_stamp_lag_ms: 0,
        }
    }
}

impl MonitorConfig {
    /// Checks ranges; `key` is the dotted prefix of the section (`run.inputs.lidar.health`).
    ///
    /// # Errors
    /// The first key out of range.
    pub fn validate(&self, key: &str) -> Result<(), ConfigError> {
        ConfigError::check_range(&format!("{key}.nominal_rate_hz"), self.nominal_rate_hz, 0.01, 10_000.0)?;
        ConfigError::check_range(
            &format!("{key}.stale_after_periods"),
            self.stale_after_periods,
            1.0,
            100.0,
        )?;
        ConfigError::check_range(&format!("{key}.rate_low_fraction"), self.rate_low_fraction, 0.0, 1.0)?;
        if !(10..=60_000).contains(&self.rate_window_ms) {
            return Err(ConfigError::new(format!("{key}.rate_window_ms"), "must be in 10..=60000"));
        }
        Ok(())
    }

    /// The stale limit, ns.
    pub fn stale_after_ns(&self) -> u64 {
        (self.stale_after_periods / self.nominal_rate_hz * 1e9) as u64
    }
}

/// Watches one input.
#[derive(Clone, Debug)]
pub struct InputMonitor {
    config: MonitorConfig,
    started_ns: u64,
    arrivals_ns: VecDeque<u64>,
    last_arrival_ns: Option<u64>,
    /// The newest arrival no longer in `arrivals_ns` (out of the window or over the cap).
    last_pruned_ns: Option<u64>,
    last_stamp_ns: Option<u64>,
    failure: Option<String>,
    messages: u64,
}

impl InputMonitor {
    /// A monitor started at `now_ns` (the rate window counts from there).
    pub fn new(config: MonitorConfig, now_ns: u64) -> Self {
        Self {
            config,
            started_ns: now_ns,
            arrivals_ns: VecDeque::new(),
            last_arrival_ns: None,
            last_pruned_ns: None,
            last_stamp_ns: None,
            failure: None,
            messages: 0,
        }
    }

    /// Records a message that arrived at `arrival_ns` with sensor stamp `stamp_ns`; clears a
    /// previous failure (the source recovered).
    pub fn on_message(&mut self, arrival_ns: u64, stamp_ns: u64) {
        self.messages += 1;
        self.failure = None;
        self.last_arrival_ns = Some(self.last_arrival_ns.map_or(arrival_ns, |last| last.max(arrival_ns)));
        self.last_stamp_ns = Some(self.last_stamp_ns.map_or(stamp_ns, |last| last.max(stamp_ns)));
        if self.arrivals_ns.len() >= MAX_ARRIVALS {
            self.last_pruned_ns = self.last_pruned_ns.max(self.arrivals_ns.pop_front());
        }
        self.arrivals_ns.push_back(arrival_ns);
    }

    /// Marks the input failed with a reason (cannot open, source ended).
    pub fn on_failure(&mut self, reason: String) {
        self.failure = Some(reason);
    }

    /// The failure reason, when failed.
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// Messages seen since start-up.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// Status, rate and age at `now_ns`.
    pub fn health(&mut self, now_ns: u64) -> InputHealth {
        let window_ns = self.config.rate_window_ms * 1_000_000;
        let from_ns = now_ns.saturating_sub(window_ns);
        // The window is half-open, (now - window, now]. Arrivals after `now_ns` (a replay
        // judging a time its inputs have already passed) do not count: the status at a time
        // depends only on what had arrived by then.
        while let Some(&arrival) = self.arrivals_ns.front().filter(|&&arrival| arrival <= from_ns) {
            self.arrivals_ns.pop_front();
            self.last_pruned_ns = self.last_pruned_ns.max(Some(arrival));
        }
        let in_window = self.arrivals_ns.iter().filter(|&&arrival| arrival <= now_ns).count();
        let last_arrival_ns = self
            .arrivals_ns
            .iter()
            .rev()
            .find(|&&arrival| arrival <= now_ns)
            .copied()
            .or(self.last_pruned_ns)
            .or(self.last_arrival_ns.filter(|&last| last <= now_ns));
        let observed_ns = now_ns.saturating_sub(self.started_ns).clamp(1, window_ns.max(1));
        let rate_hz = in_window as f64 / (observed_ns as f64 * 1e-9);
        let age_ms = last_arrival_ns.map(|last| now_ns.saturating_sub(last) as f64 * 1e-6);
        let status = if self.failure.is_some() {
            InputStatus::Failed
        } else if let Some(last_arrival_ns) = last_arrival_ns {
            let stamp_lag_ns = self.last_stamp_ns.map_or(0, |stamp| now_ns.saturating_sub(stamp));
            let stamp_lead_ns = self.last_stamp_ns.map_or(0, |stamp| stamp.saturating_sub(now_ns));
            let lag_limit_ns = self.config.max_stamp_lag_ms * 1_000_000;
            if now_ns.saturating_sub(last_arrival_ns) > self.config.stale_after_ns()
                || (lag_limit_ns > 0 && stamp_lag_ns.max(stamp_lead_ns) > lag_limit_ns)
            {
                InputStatus::Stale
            } else if now_ns.saturating_sub(self.started_ns) >= window_ns
                && rate_hz < self.config.rate_low_fraction * self.config.nominal_rate_hz
            {
                InputStatus::RateLow
            } else {
                InputStatus::Ok
            }
        } else {
            InputStatus::NotReceived
        };
        let stamp_offset_ms = (self.config.max_stamp_lag_ms > 0)
            .then_some(self.last_stamp_ns)
            .flatten()
            .filter(|_| last_arrival_ns.is_some())
            .map(|stamp| (stamp as f64 - now_ns as f64) * 1e-6);
        InputHealth { status, rate_hz, age_ms, stamp_offset_ms }
    }
}

/// The role of an input in choosing the mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum InputRole {
    /// A lidar (any of the lidars).
    Lidar,
    /// A camera.
    Camera,
    /// Road-side V2X messages.
    V2x,
    /// The truck's pose (GNSS/INS).
    EgoPose,
    /// Anything else (vehicle CAN): reported, no mode of its own.
    Other,
}

/// The mode from the inputs' health, and the reason.
///
/// Order of precedence: no lidar and no camera usable → `perception_unavailable`; else a lost
/// lidar → `lidar_lost`; a lost camera → `camera_lost`; a lost pose → `ego_pose_lost`; lost V2X →
/// `v2x_lost`; else `nominal`. The reason lists every input that is not `ok`.
pub fn degraded_mode(inputs: &BTreeMap<String, (InputRole, InputHealth)>) -> (DegradedMode, String) {
    let lost = |role: InputRole| inputs.values().any(|(r, health)| *r == role && !health.status.is_usable());
    let has = |role: InputRole| inputs.values().any(|(r, _)| *r == role);
    let usable = |role: InputRole| inputs.values().any(|(r, health)| *r == role && health.status.is_usable());
    let sensors_usable = usable(InputRole::Lidar) || usable(InputRole::Camera);
    let mode = if !sensors_usable {
        DegradedMode::PerceptionUnavailable
    } else if has(InputRole::Lidar) && lost(InputRole::Lidar) {
        DegradedMode::LidarLost
    } else if has(InputRole::Camera) && lost(InputRole::Camera) {
        DegradedMode::CameraLost
    } else if lost(InputRole::EgoPose) {
        DegradedMode::EgoPoseLost
    } else if lost(InputRole::V2x) {
        DegradedMode::V2xLost
    } else {
        DegradedMode::Nominal
    };
    let reason = inputs
        .iter()
        .filter(|(_, (_, health))| health.status != InputStatus::Ok)
        .map(|(name, (_, health))| {
            let status = health.status.as_str();
            let offset = match health.stamp_offset_ms {
                Some(ms) if ms < 0.0 => format!("; sensor stamps {:.0} ms behind the clock", -ms),
                Some(ms) => format!("; sensor stamps {ms:.0} ms ahead of the clock"),
                None => String::new(),
            };
            match health.age_ms {
                Some(age_ms) => format!("{name}: {status} (last message {age_ms:.0} ms ago{offset})"),
                None => format!("{name}: {status}"),
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    (mode, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn a_lost_input_is_stale_within_two_periods() {
        let mut monitor = InputMonitor::new(MonitorConfig::default(), 0);
        assert_eq!(monitor.health(50 * MS).status, InputStatus::NotReceived);
        for frame in 0..20 {
            monitor.on_message(frame * 100 * MS, frame * 100 * MS);
        }
        // Last message at 1.9 s; 10 Hz nominal: stale strictly after 200 ms without one.
        assert_eq!(monitor.health(2_000 * MS).status, InputStatus::Ok);
        assert_eq!(monitor.health(2_100 * MS).status, InputStatus::Ok);
        assert_eq!(monitor.health(2_100 * MS + 1).status, InputStatus::Stale);
        let health = monitor.health(2_100 * MS + 1);
        assert_eq!(health.age_ms, Some(200.000001));
        monitor.on_message(2_200 * MS, 2_200 * MS);
        assert_eq!(monitor.health(2_200 * MS).status, InputStatus::Ok);
    }

    #[test]
    fn rate_low_over_the_window() {
        let mut monitor = InputMonitor::new(MonitorConfig::default(), 0);
        // 4 Hz where 10 Hz is nominal (below half) for 2 s; each gap 250 ms > 200 ms stale
        // limit, so judge right after a message.
        for index in 0..=8 {
            monitor.on_message(index * 250 * MS, index * 250 * MS);
        }
        let health = monitor.health(2_000 * MS);
        assert_eq!(health.status, InputStatus::RateLow);
        // The window (1.0 s, 2.0 s] holds the arrivals at 1.25, 1.5, 1.75 and 2.0 s.
        assert_eq!(health.rate_hz, 4.0);
    }

    #[test]
    fn health_at_a_time_counts_only_what_had_arrived_by_then() {
        // A replay judges 500 ms while the input has already delivered up to 1 s.
        let mut monitor = InputMonitor::new(MonitorConfig::default(), 0);
        for frame in 0..=10 {
            monitor.on_message(frame * 100 * MS, frame * 100 * MS);
        }
        let health = monitor.health(500 * MS);
        // The window (0, 500 ms] holds the arrivals at 100..=500 ms, not the later ones: 5 in
        // the 500 ms observed so far (10 Hz), the last 0 ms ago.
        assert_eq!((health.status, health.rate_hz, health.age_ms), (InputStatus::Ok, 10.0, Some(0.0)));
        // Before the first arrival nothing had been received.
        let mut monitor = InputMonitor::new(MonitorConfig::default(), 0);
        monitor.on_message(400 * MS, 400 * MS);
        assert_eq!(monitor.health(300 * MS).status, InputStatus::NotReceived);
        // Arrivals out of the window still say when the last one was: stale.
        monitor.on_message(500 * MS, 500 * MS);
        assert_eq!(monitor.health(3_000 * MS).status, InputStatus::Stale);
        assert_eq!(monitor.health(3_000 * MS).age_ms, Some(2_500.0));
    }

    #[test]
    fn failure_and_recovery() {
        let mut monitor = InputMonitor::new(MonitorConfig::default(), 0);
        monitor.on_failure("camera `file:/x.avi`: cannot open".into());
        assert_eq!(monitor.health(1).status, InputStatus::Failed);
        monitor.on_message(2, 2);
        assert_eq!(monitor.health(3).status, InputStatus::Ok);
    }

    #[test]
    fn stamp_lag_makes_an_input_stale() {
        let config = MonitorConfig { max_stamp_lag_ms: 300, ..MonitorConfig::default() };
        let mut monitor = InputMonitor::new(config, 0);
        monitor.on_message(1_000 * MS, 600 * MS);
        let health = monitor.health(1_000 * MS);
        assert_eq!(health.status, InputStatus::Stale);
        // The offset says it is the stamps: 400 ms behind, the message itself just arrived.
        assert_eq!((health.age_ms, health.stamp_offset_ms), (Some(0.0), Some(-400.0)));
        let inputs = BTreeMap::from([("lidar".to_owned(), (InputRole::Lidar, health))]);
        assert_eq!(
            degraded_mode(&inputs).1,
            "lidar: stale (last message 0 ms ago; sensor stamps 400 ms behind the clock)"
        );
        // Unchecked stamps give no offset.
        let mut unchecked = InputMonitor::new(MonitorConfig::default(), 0);
        unchecked.on_message(1_000 * MS, 600 * MS);
        assert_eq!(unchecked.health(1_000 * MS).stamp_offset_ms, None);
    }

    #[test]
    fn stamps_from_the_future_make_an_input_stale() {
        // One message a second: no rate check here.
        let config =
            MonitorConfig { max_stamp_lag_ms: 300, rate_low_fraction: 0.0, ..MonitorConfig::default() };
        let mut monitor = InputMonitor::new(config.clone(), 0);
        // 200 ms ahead: within the limit.
        monitor.on_message(1_000 * MS, 1_200 * MS);
        assert_eq!(monitor.health(1_000 * MS).status, InputStatus::Ok);
        // A sensor clock that jumped 1 s forward.
        monitor.on_message(1_100 * MS, 2_100 * MS);
        let health = monitor.health(1_100 * MS);
        assert_eq!((health.status, health.stamp_offset_ms), (InputStatus::Stale, Some(1_000.0)));
        let inputs = BTreeMap::from([("lidar".to_owned(), (InputRole::Lidar, health))]);
        assert_eq!(
            degraded_mode(&inputs).1,
            "lidar: stale (last message 0 ms ago; sensor stamps 1000 ms ahead of the clock)"
        );
        // Unchecked when the limit is 0 (unsynchronised sensor clocks).
        let mut unchecked = InputMonitor::new(MonitorConfig { max_stamp_lag_ms: 0, ..config }, 0);
        unchecked.on_message(1_000 * MS, 9_000 * MS);
        assert_eq!(unchecked.health(1_000 * MS).status, InputStatus::Ok);
    }

    #[test]
    fn modes_by_precedence() {
        let ok =
            InputHealth { status: InputStatus::Ok, rate_hz: 10.0, age_ms: Some(1.0), stamp_offset_ms: None };
        let stale = InputHealth {
            status: InputStatus::Stale,
            rate_hz: 0.0,
            age_ms: Some(300.0),
            stamp_offset_ms: None,
        };
        let mut inputs = BTreeMap::from([
            ("lidar".to_owned(), (InputRole::Lidar, ok.clone())),
            ("camera".to_owned(), (InputRole::Camera, ok.clone())),
            ("v2x".to_owned(), (InputRole::V2x, ok.clone())),
            ("gnss".to_owned(), (InputRole::EgoPose, ok.clone())),
            ("can".to_owned(), (InputRole::Other, ok.clone())),
        ]);
        assert_eq!(degraded_mode(&inputs), (DegradedMode::Nominal, String::new()));
        inputs.insert("v2x".into(), (InputRole::V2x, stale.clone()));
        assert_eq!(degraded_mode(&inputs).0, DegradedMode::V2xLost);
        inputs.insert("lidar".into(), (InputRole::Lidar, stale.clone()));
        let (mode, reason) = degraded_mode(&inputs);
        assert_eq!(mode, DegradedMode::LidarLost);
        assert_eq!(reason, "lidar: stale (last message 300 ms ago); v2x: stale (last message 300 ms ago)");
        inputs.insert("camera".into(), (InputRole::Camera, stale));
        assert_eq!(degraded_mode(&inputs).0, DegradedMode::PerceptionUnavailable);
    }
}
