//! The stage's whole configuration, as a `[v2x]` table of the pitsense configuration file.
//! `v2x/config/v2x.example.toml` documents every key with its default.

use pitsense_types::ConfigError;
use serde::{Deserialize, Serialize};

use crate::decode::{DecodeConfig, FormatConfig};
use crate::geodesy::{Geodetic, SiteFrame};
use crate::measurement::MeasurementConfig;
use crate::plausibility::PlausibilityConfig;
use crate::receiver::ReceiverConfig;

/// Every setting of the V2X stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct V2xConfig {
    /// Origin of the site's ENU frame (surveyed; the same origin as the ego pose's site frame).
    pub site_origin: Geodetic,
    /// Decoder limits.
    #[serde(default)]
    pub decode: DecodeConfig,
    /// Standard and edition of the RSU's messages (`auto` by default; see
    /// [`FormatConfig`]).
    #[serde(default)]
    pub format: FormatConfig,
    /// Measurement conversion.
    #[serde(default)]
    pub measurement: MeasurementConfig,
    /// Plausibility gates.
    #[serde(default)]
    pub plausibility: PlausibilityConfig,
    /// UDP receiver.
    #[serde(default)]
    pub receiver: ReceiverConfig,
}

impl V2xConfig {
    /// Checks every value (the constructors check them again).
    ///
    /// # Errors
    /// The first [`ConfigError`], naming its key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        SiteFrame::new(self.site_origin)?;
        crate::decode::Decoder::new(self.decode)?;
        self.measurement.validate()?;
        self.plausibility.validate()?;
        if self.receiver.queue_capacity == 0 {
            return Err(ConfigError::new("v2x.receiver.queue_capacity", "must be at least 1"));
        }
        if self.receiver.max_datagram_bytes == 0 || self.receiver.max_datagram_bytes > 65_535 {
            return Err(ConfigError::new("v2x.receiver.max_datagram_bytes", "must be in 1..=65535"));
        }
        if self.receiver.max_sources == 0 {
            return Err(ConfigError::new("v2x.receiver.max_sources", "must be at least 1"));
        }
        Ok(())
    }
}
