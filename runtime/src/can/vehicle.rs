//! The truck's own signals (speed, yaw rate, gear, brake) decoded from vehicle CAN frames.

use pitsense_types::{CanFrame, ConfigError, VehicleSignals};
use serde::Serialize;

use super::bus::CanError;
use super::config::{CanInputConfig, INPUT_KEY};
use super::dbc::Dbc;

/// Counters of the CAN input, for the health report and the run summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CanInputCounters {
    /// Frames pushed.
    pub frames_received: u64,
    /// Frames whose id is in the DBC and whose payload decoded.
    pub frames_decoded: u64,
    /// Frames whose id (with its standard/extended kind) is not in the DBC.
    pub unknown_ids: u64,
    /// Frames whose id is in the DBC but whose payload did not decode (too short, unknown
    /// multiplexer value, non-finite float).
    pub decode_errors: u64,
}

/// Which vehicle signal a binding feeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Speed,
    YawRate,
    Gear,
    Brake,
}

/// A mapped signal, resolved against the DBC.
#[derive(Clone, Debug)]
struct Binding {
    target: Target,
    message_index: usize,
    signal_index: usize,
    /// DBC unit → SI factor (1 for the gear's raw value).
    to_si_factor: f64,
}

/// The DBC unit → SI factor for a target, when the unit is one we know.
fn factor_from_unit(target: Target, unit: &str) -> Option<f64> {
    let unit = unit.trim().to_ascii_lowercase();
    match target {
        Target::Speed => match unit.as_str() {
            "m/s" | "mps" => Some(1.0),
            "km/h" | "kph" | "kmh" | "km/hr" => Some(1.0 / 3.6),
            "mph" => Some(0.447_04),
            _ => None,
        },
        Target::YawRate => match unit.as_str() {
            "rad/s" => Some(1.0),
            "deg/s" | "°/s" | "degree/s" | "deg/sec" => Some(std::f64::consts::PI / 180.0),
            _ => None,
        },
        Target::Brake => match unit.as_str() {
            "%" => Some(0.01),
            "" | "ratio" | "1" => Some(1.0),
            _ => None,
        },
        Target::Gear => Some(1.0),
    }
}

/// Decodes vehicle CAN frames into [`VehicleSignals`] through a DBC and
/// [`CanInputConfig::signals`].
///
/// Each frame updates the signals it carries; the others keep their last value.
/// [`VehicleSignals::stamp_ns`] is the newest contributing frame's stamp. Speed and yaw rate
/// are scaled to m/s and rad/s, the brake demand to a ratio clamped to `0..=1`, and the gear
/// is the signal's raw value.
#[derive(Clone, Debug)]
pub struct VehicleSignalDecoder {
    dbc: Dbc,
    bindings: Vec<Binding>,
    signals: VehicleSignals,
    counters: CanInputCounters,
}

impl VehicleSignalDecoder {
    /// Resolves the configured mapping against `dbc`.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the mapping's key (`run.inputs.can.signals.speed_mps.signal`)
    /// when the message or signal is not in the DBC, or `…to_si_factor` when it is absent and
    /// the DBC unit is not one the decoder knows.
    pub fn new(config: &CanInputConfig, dbc: Dbc) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut bindings = Vec::new();
        for (name, mapping, _) in config.signals.entries() {
            let Some(mapping) = mapping else {
                continue;
            };
            let key = format!("{INPUT_KEY}.signals.{name}");
            let target = match name {
                "speed_mps" => Target::Speed,
                "yaw_rate_radps" => Target::YawRate,
                "gear" => Target::Gear,
                _ => Target::Brake,
            };
            let (message_index, message) = dbc.message_by_name(&mapping.message).ok_or_else(|| {
                ConfigError::new(
                    format!("{key}.message"),
                    format!("no message `{}` in DBC {}", mapping.message, dbc.source_name()),
                )
            })?;
            let (signal_index, signal) =
                message.signals.iter().enumerate().find(|(_, s)| s.name == mapping.signal).ok_or_else(
                    || {
                        ConfigError::new(
                            format!("{key}.signal"),
                            format!("no signal `{}` in message `{}`", mapping.signal, mapping.message),
                        )
                    },
                )?;
            let to_si_factor = match mapping.to_si_factor {
                Some(factor) => factor,
                None => factor_from_unit(target, &signal.unit).ok_or_else(|| {
                    ConfigError::new(
                        format!("{key}.to_si_factor"),
                        format!(
                            "the DBC gives {} the unit `{}`, which is not known: set the factor",
                            signal.name, signal.unit
                        ),
                    )
                })?,
            };
            bindings.push(Binding { target, message_index, signal_index, to_si_factor });
        }
        Ok(Self { dbc, bindings, signals: VehicleSignals::default(), counters: CanInputCounters::default() })
    }

    /// Takes one frame: updates the signals it carries and the counters.
    ///
    /// Returns whether a vehicle signal was updated. A frame whose id is not in the DBC is
    /// counted ([`CanInputCounters::unknown_ids`]) and is not an error.
    ///
    /// # Errors
    /// [`CanError::Decode`] naming the message when a known frame does not decode (counted
    /// in [`CanInputCounters::decode_errors`]; the signals keep their values).
    pub fn push(&mut self, frame: &CanFrame) -> Result<bool, CanError> {
        self.counters.frames_received += 1;
        let Some(message_index) = self.dbc.message_index(frame.can_id, frame.extended) else {
            self.counters.unknown_ids += 1;
            return Ok(false);
        };
        match self.decode_bound(message_index, frame) {
            Ok(values) => {
                self.counters.frames_decoded += 1;
                let updated = !values.is_empty();
                for (target, physical, raw) in values {
                    match target {
                        Target::Speed => self.signals.speed_mps = Some(physical),
                        Target::YawRate => self.signals.yaw_rate_radps = Some(physical),
                        Target::Brake => self.signals.brake_ratio = Some(physical.clamp(0.0, 1.0)),
                        Target::Gear => {
                            let gear =
                                i64::try_from(raw).unwrap_or(if raw < 0 { i64::MIN } else { i64::MAX });
                            self.signals.gear = Some(gear);
                        }
                    }
                }
                if updated {
                    self.signals.stamp_ns = self.signals.stamp_ns.max(frame.stamp_ns);
                }
                Ok(updated)
            }
            Err(error) => {
                self.counters.decode_errors += 1;
                Err(error)
            }
        }
    }

    /// Decodes the bound signals of one known frame: `(target, SI value, raw)` for each
    /// present one. All or nothing, so that a bad frame changes no signal.
    fn decode_bound(
        &self,
        message_index: usize,
        frame: &CanFrame,
    ) -> Result<Vec<(Target, f64, i128)>, CanError> {
        self.dbc.check_frame_payload(message_index, &frame.data)?;
        let mut values = Vec::new();
        for binding in self.bindings.iter().filter(|b| b.message_index == message_index) {
            let Some((physical, raw)) =
                self.dbc.decode_signal(message_index, binding.signal_index, &frame.data)?
            else {
                continue;
            };
            let value = physical * binding.to_si_factor;
            if !value.is_finite() {
                let message = self.dbc.message(message_index);
                let name = message.map(|m| m.name.clone()).unwrap_or_default();
                let signal =
                    message.and_then(|m| m.signals.get(binding.signal_index)).map(|s| s.name.as_str());
                return Err(CanError::Decode {
                    message: name,
                    can_id: frame.can_id,
                    reason: format!("signal {} is not finite ({value})", signal.unwrap_or("?")),
                });
            }
            values.push((binding.target, value, raw));
        }
        Ok(values)
    }

    /// The vehicle signals as of the last frame pushed.
    pub fn signals(&self) -> VehicleSignals {
        self.signals
    }

    /// The counters since construction.
    pub fn counters(&self) -> CanInputCounters {
        self.counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_units_convert_and_unknown_ones_are_refused() {
        assert_eq!(factor_from_unit(Target::Speed, "km/h"), Some(1.0 / 3.6));
        assert_eq!(factor_from_unit(Target::Speed, " MPH"), Some(0.447_04));
        assert_eq!(factor_from_unit(Target::YawRate, "deg/s"), Some(std::f64::consts::PI / 180.0));
        assert_eq!(factor_from_unit(Target::Brake, "%"), Some(0.01));
        assert_eq!(factor_from_unit(Target::Speed, "furlong/fortnight"), None);
        assert_eq!(factor_from_unit(Target::YawRate, "rpm"), None);
    }
}
