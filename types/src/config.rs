/// A configuration value that fails validation at start-up.
///
/// `key` is the full dotted path of the TOML key as written in the config file
/// (for example `lidar.voxel_size_m`), so the operator can find it.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("config key `{key}`: {reason}")]
pub struct ConfigError {
    /// Dotted path of the key, e.g. `tracker.max_age_frames`.
    pub key: String,
    /// Why the value is not acceptable, with the accepted range.
    pub reason: String,
}

impl ConfigError {
    /// Builds an error for `key` with a reason.
    pub fn new(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { key: key.into(), reason: reason.into() }
    }

    /// Checks that a float is finite and inside `min..=max`.
    ///
    /// # Errors
    /// A [`ConfigError`] naming `key` and the accepted range.
    pub fn check_range(key: &str, value: f64, min: f64, max: f64) -> Result<(), ConfigError> {
        if value.is_finite() && value >= min && value <= max {
            Ok(())
        } else {
            Err(Self::new(key, format!("{value} is outside the accepted range {min}..={max}")))
        }
    }
}
