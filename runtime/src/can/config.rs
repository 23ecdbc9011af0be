//! Configuration of the CAN input (`[run.inputs.can]`) and the CAN output
//! (`[run.outputs.can]`).
//!
//! ```toml
//! [run.inputs.can]
//! bus = "udp:127.0.0.1:20000"        # socketcan:IFACE | udp:ADDR[?peer=ADDR] | candump:FILE
//! dbc_path = "config/truck.dbc"
//! # Which DBC signals feed VehicleSignals. Writing this table replaces the whole default
//! # mapping (the shipped truck.dbc's); leave a key out to not decode that signal.
//! [run.inputs.can.signals]
//! speed_mps = { message = "TRUCK_WHEEL_SPEED", signal = "WheelBasedSpeed" }       # km/h in the DBC
//! yaw_rate_radps = { message = "TRUCK_YAW_RATE", signal = "YawRate" }              # deg/s
//! gear = { message = "TRUCK_GEAR", signal = "GearSelector" }                       # raw value
//! brake_ratio = { message = "TRUCK_BRAKE", signal = "ServiceBrakeDemand" }         # %
//!
//! [run.outputs.can]
//! bus = "udp:127.0.0.1:0?peer=127.0.0.1:20001"  # socketcan:IFACE | udp:...?peer= | candump-write:FILE
//! dbc_path = "config/truck.dbc"       # must define PITSENSE_HEALTH and PITSENSE_OBJECT
//! nearest_objects = 8                 # objects sent per cycle, nearest first (0..=16)
//! send_period_ms = 100                # one health frame + the objects every period
//! ```

use std::path::PathBuf;

use pitsense_types::ConfigError;
use serde::{Deserialize, Serialize};

use super::bus::BusUri;
use crate::graph::health::MonitorConfig;

/// Dotted key of the input section, prefixed to every input [`ConfigError`].
pub(crate) const INPUT_KEY: &str = "run.inputs.can";
/// Dotted key of the output section, prefixed to every output [`ConfigError`].
pub(crate) const OUTPUT_KEY: &str = "run.outputs.can";

/// One DBC signal feeding a vehicle signal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalMapping {
    /// DBC message name (`BO_ … NAME:`).
    pub message: String,
    /// DBC signal name within it (`SG_ NAME`).
    pub signal: String,
    /// Factor from the DBC's physical unit to the key's SI unit (km/h → m/s: 1/3.6; a yaw
    /// rate positive clockwise in deg/s → rad/s counter-clockwise: −π/180). Absent: derived
    /// from the DBC unit (`m/s`, `km/h`, `kph`, `mph`; `rad/s`, `deg/s`, `°/s`; `%` → ratio).
    /// Not allowed for `gear`, which is the raw value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_si_factor: Option<f64>,
}

impl SignalMapping {
    fn new(message: &str, signal: &str) -> Self {
        Self { message: message.into(), signal: signal.into(), to_si_factor: None }
    }

    fn validate(&self, key: &str, allows_factor: bool) -> Result<(), ConfigError> {
        if self.message.trim().is_empty() {
            return Err(ConfigError::new(format!("{key}.message"), "must name a DBC message"));
        }
        if self.signal.trim().is_empty() {
            return Err(ConfigError::new(format!("{key}.signal"), "must name a DBC signal"));
        }
        match self.to_si_factor {
            Some(_) if !allows_factor => {
                Err(ConfigError::new(format!("{key}.to_si_factor"), "not allowed: the gear is the raw value"))
            }
            Some(factor) if !factor.is_finite() || factor == 0.0 || factor.abs() > 1e6 => {
                Err(ConfigError::new(
                    format!("{key}.to_si_factor"),
                    format!("{factor} must be finite, non-zero and within ±1e6"),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// `[run.inputs.can.signals]`: the DBC signal behind each field of
/// [`pitsense_types::VehicleSignals`]; an absent key is not decoded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VehicleSignalMapping {
    /// Longitudinal speed, to m/s (positive forward).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_mps: Option<SignalMapping>,
    /// Yaw rate, to rad/s (positive counter-clockwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yaw_rate_radps: Option<SignalMapping>,
    /// Gear selector: the raw value (the DBC's value table names it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gear: Option<SignalMapping>,
    /// Service brake demand, to a ratio `0.0..=1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brake_ratio: Option<SignalMapping>,
}

impl Default for VehicleSignalMapping {
    /// The shipped `config/truck.dbc`'s signals.
    fn default() -> Self {
        Self {
            speed_mps: Some(SignalMapping::new("TRUCK_WHEEL_SPEED", "WheelBasedSpeed")),
            yaw_rate_radps: Some(SignalMapping::new("TRUCK_YAW_RATE", "YawRate")),
            gear: Some(SignalMapping::new("TRUCK_GEAR", "GearSelector")),
            brake_ratio: Some(SignalMapping::new("TRUCK_BRAKE", "ServiceBrakeDemand")),
        }
    }
}

impl VehicleSignalMapping {
    /// `(config key, mapping, whether to_si_factor is allowed)` for each mapped signal.
    pub(crate) fn entries(&self) -> [(&'static str, Option<&SignalMapping>, bool); 4] {
        [
            ("speed_mps", self.speed_mps.as_ref(), true),
            ("yaw_rate_radps", self.yaw_rate_radps.as_ref(), true),
            ("gear", self.gear.as_ref(), false),
            ("brake_ratio", self.brake_ratio.as_ref(), true),
        ]
    }
}

/// `[run.inputs.can]`: the vehicle CAN input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CanInputConfig {
    /// Bus URI: `socketcan:IFACE`, `udp:ADDR[?peer=ADDR]` or `candump:FILE` (see
    /// [`super::open_bus`]).
    pub bus: String,
    /// DBC file describing the vehicle messages (relative paths are resolved by the runtime).
    pub dbc_path: PathBuf,
    /// Which DBC signals feed the vehicle signals.
    pub signals: VehicleSignalMapping,
    /// Health judgement of the bus (every received frame counts as a message; set
    /// `nominal_rate_hz` to the vehicle's total frame rate on the bus).
    pub health: MonitorConfig,
}

impl Default for CanInputConfig {
    fn default() -> Self {
        Self {
            bus: "udp:127.0.0.1:20000".into(),
            dbc_path: PathBuf::from("config/truck.dbc"),
            signals: VehicleSignalMapping::default(),
            health: MonitorConfig::default(),
        }
    }
}

fn validate_bus(key: &str, uri: &str, sends: bool) -> Result<(), ConfigError> {
    let bus_key = format!("{key}.bus");
    let parsed = BusUri::parse(uri).map_err(|error| ConfigError::new(&bus_key, error.to_string()))?;
    match (parsed, sends) {
        (BusUri::CandumpWrite { .. }, false) => {
            Err(ConfigError::new(bus_key, "an input cannot read from candump-write: (use candump:FILE)"))
        }
        (BusUri::CandumpRead { .. }, true) => {
            Err(ConfigError::new(bus_key, "an output cannot send to candump: (use candump-write:FILE)"))
        }
        (BusUri::Udp { peer: None, .. }, true) => {
            Err(ConfigError::new(bus_key, "an output over UDP needs ?peer=IP:PORT"))
        }
        _ => Ok(()),
    }
}

fn validate_dbc_path(key: &str, path: &std::path::Path) -> Result<(), ConfigError> {
    if path.as_os_str().is_empty() {
        return Err(ConfigError::new(format!("{key}.dbc_path"), "must name a DBC file"));
    }
    Ok(())
}

impl CanInputConfig {
    /// Checks the section (the DBC's content is checked when the decoder is built).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the dotted key under `run.inputs.can`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_bus(INPUT_KEY, &self.bus, false)?;
        validate_dbc_path(INPUT_KEY, &self.dbc_path)?;
        self.health.validate(&format!("{INPUT_KEY}.health"))?;
        for (name, mapping, allows_factor) in self.signals.entries() {
            if let Some(mapping) = mapping {
                mapping.validate(&format!("{INPUT_KEY}.signals.{name}"), allows_factor)?;
            }
        }
        Ok(())
    }
}

/// `[run.outputs.can]`: pitsense's objects and health sent on vehicle CAN.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CanOutputConfig {
    /// Bus URI: `socketcan:IFACE`, `udp:ADDR?peer=ADDR` or `candump-write:FILE`.
    pub bus: String,
    /// DBC file defining `PITSENSE_HEALTH` and `PITSENSE_OBJECT` (the shipped
    /// `config/truck.dbc` does).
    pub dbc_path: PathBuf,
    /// How many objects are sent per cycle, nearest to the truck first (`0..=16`; the frame's
    /// object index has 4 bits).
    pub nearest_objects: usize,
    /// Time between two cycles (one health frame, then the objects), ms (`10..=10000`).
    pub send_period_ms: u64,
}

impl Default for CanOutputConfig {
    fn default() -> Self {
        Self {
            bus: "udp:127.0.0.1:0?peer=127.0.0.1:20001".into(),
            dbc_path: PathBuf::from("config/truck.dbc"),
            nearest_objects: 8,
            send_period_ms: 100,
        }
    }
}

impl CanOutputConfig {
    /// Checks the section (the DBC's content is checked when the encoder is built).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the dotted key under `run.outputs.can`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_bus(OUTPUT_KEY, &self.bus, true)?;
        validate_dbc_path(OUTPUT_KEY, &self.dbc_path)?;
        if self.nearest_objects > 16 {
            return Err(ConfigError::new(format!("{OUTPUT_KEY}.nearest_objects"), "must be in 0..=16"));
        }
        if !(10..=10_000).contains(&self.send_period_ms) {
            return Err(ConfigError::new(format!("{OUTPUT_KEY}.send_period_ms"), "must be in 10..=10000"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_round_trip_through_toml() {
        let input = CanInputConfig::default();
        input.validate().unwrap();
        let text = toml::to_string(&input).unwrap();
        assert_eq!(toml::from_str::<CanInputConfig>(&text).unwrap(), input);
        let output = CanOutputConfig::default();
        output.validate().unwrap();
        assert_eq!(toml::from_str::<CanOutputConfig>(&toml::to_string(&output).unwrap()).unwrap(), output);
    }

    #[test]
    fn a_signals_table_replaces_the_default_mapping() {
        let input: CanInputConfig = toml::from_str(
            "bus = \"socketcan:can1\"\n[signals]\nspeed_mps = { message = \"M\", signal = \"S\", to_si_factor = 0.5 }\n",
        )
        .unwrap();
        assert_eq!(
            input.signals.speed_mps,
            Some(SignalMapping { to_si_factor: Some(0.5), ..SignalMapping::new("M", "S") })
        );
        assert_eq!(
            (input.signals.yaw_rate_radps, input.signals.gear, input.signals.brake_ratio),
            (None, None, None)
        );
    }

    #[test]
    fn errors_name_the_dotted_key() {
        let unknown = toml::from_str::<CanInputConfig>("bus_uri = \"x\"").unwrap_err().to_string();
        assert!(unknown.contains("unknown field `bus_uri`"), "{unknown}");
        let cases: [(&str, &str); 6] = [
            ("bus = \"serial:x\"", "run.inputs.can.bus"),
            ("bus = \"candump-write:x.log\"", "run.inputs.can.bus"),
            ("dbc_path = \"\"", "run.inputs.can.dbc_path"),
            (
                "[signals]\nspeed_mps = { message = \"\", signal = \"S\" }",
                "run.inputs.can.signals.speed_mps.message",
            ),
            (
                "[signals]\nyaw_rate_radps = { message = \"M\", signal = \"S\", to_si_factor = 0.0 }",
                "yaw_rate_radps.to_si_factor",
            ),
            (
                "[signals]\ngear = { message = \"M\", signal = \"S\", to_si_factor = 2.0 }",
                "run.inputs.can.signals.gear.to_si_factor",
            ),
        ];
        for (text, key) in cases {
            let error = toml::from_str::<CanInputConfig>(text).unwrap().validate().unwrap_err();
            assert!(error.key.ends_with(key), "{text}: {error}");
        }
        for (text, key) in [
            ("bus = \"udp:127.0.0.1:0\"", "run.outputs.can.bus"),
            ("bus = \"candump:in.log\"", "run.outputs.can.bus"),
            ("nearest_objects = 17", "run.outputs.can.nearest_objects"),
            ("send_period_ms = 5", "run.outputs.can.send_period_ms"),
        ] {
            let error = toml::from_str::<CanOutputConfig>(text).unwrap().validate().unwrap_err();
            assert_eq!(error.key, key, "{text}: {error}");
        }
    }
}
