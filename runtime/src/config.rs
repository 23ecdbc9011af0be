//! The runtime's configuration: one TOML file, one typed section per stage.
//!
//! Every section denies unknown keys and is validated at start-up; an error names the dotted
//! key (`tracker.max_age_frames`) and the accepted range. `config/pitsense.toml` at the
//! repository root is the commented default and documents every key; a test checks it parses
//! to exactly [`PitsenseConfig::default`].

use std::path::{Path, PathBuf};

use pitsense_fusion::camera_lidar::FusionConfig;
use pitsense_fusion::tracker::TrackerConfig;
use pitsense_perception::camera::DetectorConfig;
use pitsense_perception::lidar::LidarConfig;
use pitsense_types::ConfigError;
use serde::{Deserialize, Serialize};

/// The commented default configuration, as shipped.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../../config/pitsense.toml");

/// `[models]`: which networks run and where ONNX Runtime comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelsConfig {
    /// Name of the built-in camera detector manifest (`pitsense-models`).
    pub camera_detector: String,
    /// Model file to use instead of the manifest's (relative to the data root); empty: the
    /// manifest's. Its SHA-256 must still match the manifest.
    pub camera_detector_file: PathBuf,
    /// Path of `libonnxruntime.so`; empty: the `ORT_DYLIB_PATH` environment variable.
    pub onnxruntime_library: PathBuf,
}

impl Default for ModelsConfig {
    fn default() -> Self {
        Self {
            camera_detector: "yolox_nano".into(),
            camera_detector_file: PathBuf::new(),
            onnxruntime_library: PathBuf::new(),
        }
    }
}

/// `[replay]`: how a recorded dataset is turned into timed sensor messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplayConfig {
    /// Time between frames, ms, used to stamp datasets without timestamps (KITTI object:
    /// frame index × period; KITTI records at 10 Hz).
    pub frame_period_ms: u64,
    /// Sensor id given to the lidar.
    pub lidar_id: u16,
    /// Sensor id given to the camera (KITTI's left colour camera is camera 2).
    pub camera_id: u16,
    /// Write `replay.rrd` for the Rerun viewer.
    pub write_rrd: bool,
    /// Log every n-th lidar point to the `.rrd` (1: all); bounds its size on long replays.
    pub rrd_point_stride: usize,
    /// The truck's pose in the site frame for the whole replay, `[x_m, y_m, z_m, yaw_rad]`
    /// (ENU, yaw counter-clockwise from east), for datasets without GNSS/INS such as KITTI
    /// object: the truck stands at a surveyed point. Needed to fuse a V2X log (`--v2x-log`);
    /// with it, tracks are kept and published in the site frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ego_pose_site: Option<[f64; 4]>,
    /// Lidar extrinsics: the lidar's pose in the truck frame, `[x_m, y_m, z_m, yaw_rad]`.
    /// Default: KITTI's Velodyne, 1.73 m above the ground under it.
    pub lidar_in_truck: [f64; 4],
}

impl Default for ReplayConfig {
    fn default() -> Self {
        Self {
            frame_period_ms: 100,
            lidar_id: 0,
            camera_id: 2,
            write_rrd: true,
            rrd_point_stride: 1,
            ego_pose_site: None,
            lidar_in_truck: [0.0, 0.0, 1.73, 0.0],
        }
    }
}

impl ReplayConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=10_000).contains(&self.frame_period_ms) {
            return Err(ConfigError::new("replay.frame_period_ms", "must be in 1..=10000"));
        }
        if !(1..=1000).contains(&self.rrd_point_stride) {
            return Err(ConfigError::new("replay.rrd_point_stride", "must be in 1..=1000"));
        }
        for (key, pose) in [
            ("replay.ego_pose_site", self.ego_pose_site),
            ("replay.lidar_in_truck", Some(self.lidar_in_truck)),
        ] {
            if let Some(pose) = pose
                && !pose.iter().all(|v| v.is_finite() && v.abs() <= 1e7)
            {
                return Err(ConfigError::new(key, "every value must be finite and within ±1e7"));
            }
        }
        Ok(())
    }
}

/// The whole configuration file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PitsenseConfig {
    /// Models and ONNX Runtime.
    pub models: ModelsConfig,
    /// Camera detector post-processing.
    pub camera: DetectorConfig,
    /// Lidar obstacle pipeline.
    pub lidar: LidarConfig,
    /// Camera–lidar association.
    pub fusion: FusionConfig,
    /// Multi-object tracker.
    pub tracker: TrackerConfig,
    /// Dataset replay.
    pub replay: ReplayConfig,
    /// V2X input (`pitsense-v2x`'s `[v2x]` table: site origin, decoder, measurements,
    /// plausibility gates, receiver); absent: no V2X. `v2x/config/v2x.example.toml` documents
    /// every key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v2x: Option<pitsense_v2x::config::V2xConfig>,
    /// Episode recorder (MCAP around trigger events, `pitsense-cloud-link`).
    pub recorder: pitsense_cloud_link::trigger::RecorderConfig,
    /// The onboard runtime (`pitsense run`): inputs, budgets, outputs; absent: `run` refuses
    /// to start. `config/examples/loopback.toml` documents every key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<crate::onboard::config::RunConfig>,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// The file cannot be read.
    #[error("config file `{}`: {source}", path.display())]
    Io {
        /// File tried.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// TOML syntax, unknown key or wrong type; the parser's message names the key and line.
    #[error("config file `{name}`: {reason}")]
    Parse {
        /// File name.
        name: String,
        /// Parser message.
        reason: String,
    },
    /// A value is out of range.
    #[error("config file `{name}`: {source}")]
    Invalid {
        /// File name.
        name: String,
        /// The key and reason.
        source: ConfigError,
    },
}

impl PitsenseConfig {
    /// Parses and validates TOML text; `name` labels errors.
    ///
    /// # Errors
    /// [`ConfigFileError::Parse`] or [`ConfigFileError::Invalid`].
    pub fn parse(text: &str, name: &str) -> Result<Self, ConfigFileError> {
        let config: PitsenseConfig = toml::from_str(text)
            .map_err(|error| ConfigFileError::Parse { name: name.to_owned(), reason: error.to_string() })?;
        config.validate().map_err(|source| ConfigFileError::Invalid { name: name.to_owned(), source })?;
        Ok(config)
    }

    /// Reads `path`, or the built-in default when `None`.
    ///
    /// # Errors
    /// As [`PitsenseConfig::parse`], plus [`ConfigFileError::Io`].
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigFileError> {
        match path {
            None => Self::parse(DEFAULT_CONFIG_TOML, "built-in default"),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigFileError::Io { path: path.to_owned(), source })?;
                Self::parse(&text, &path.display().to_string())
            }
        }
    }

    /// Validates every section.
    ///
    /// # Errors
    /// The first invalid key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if pitsense_models::builtin_manifest(&self.models.camera_detector).is_err() {
            return Err(ConfigError::new(
                "models.camera_detector",
                format!(
                    "`{}` is not a built-in model manifest (known: {})",
                    self.models.camera_detector,
                    pitsense_models::builtin_names().join(", ")
                ),
            ));
        }
        self.camera.validate()?;
        self.lidar.validate()?;
        self.fusion.validate()?;
        self.tracker.validate()?;
        if let Some(v2x) = &self.v2x {
            v2x.validate()?;
        }
        if let Some(run) = &self.run {
            run.validate()?;
        }
        if !(1..=100).contains(&self.recorder.camera_jpeg_quality) {
            return Err(ConfigError::new(
                "recorder.camera_jpeg_quality",
                format!("{} is not a JPEG quality (1 to 100)", self.recorder.camera_jpeg_quality),
            ));
        }
        self.replay.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jpeg_quality_outside_1_to_100_is_refused_by_key() {
        for (quality, ok) in [(0, false), (1, true), (100, true), (101, false)] {
            let text = format!("[recorder]\ncamera_jpeg_quality = {quality}\n");
            match PitsenseConfig::parse(&text, "q.toml") {
                Ok(config) => assert!(ok && config.recorder.camera_jpeg_quality == quality, "{quality}"),
                Err(error) => {
                    assert!(!ok, "{quality}: {error}");
                    assert!(error.to_string().contains("recorder.camera_jpeg_quality"), "{error}");
                }
            }
        }
    }

    #[test]
    fn the_shipped_default_file_is_the_default() {
        let parsed = PitsenseConfig::parse(DEFAULT_CONFIG_TOML, "config/pitsense.toml").unwrap();
        assert_eq!(parsed, PitsenseConfig::default());
    }

    /// Checks every key of `table` appears, uncommented, under `[section]` of the shipped file.
    fn assert_documented(section: &str, table: &toml::Table) {
        let header = format!("\n[{section}]\n");
        let start = DEFAULT_CONFIG_TOML.find(&header).unwrap_or_else(|| panic!("section {header} missing"));
        let body = &DEFAULT_CONFIG_TOML[start + header.len() - 1..];
        let body = body.find("\n[").map_or(body, |end| &body[..end]);
        for (key, value) in table {
            match value {
                toml::Value::Table(nested) => assert_documented(&format!("{section}.{key}"), nested),
                toml::Value::Array(items) if items.iter().all(toml::Value::is_table) => assert!(
                    DEFAULT_CONFIG_TOML.contains(&format!("[[{section}.{key}]]")),
                    "array of tables {section}.{key} is not documented in config/pitsense.toml"
                ),
                _ => assert!(
                    body.lines().any(|line| line.trim_start().starts_with(&format!("{key} ="))),
                    "key {section}.{key} is not documented in config/pitsense.toml"
                ),
            }
        }
    }

    #[test]
    fn the_shipped_default_file_documents_every_key() {
        let toml::Value::Table(sections) = toml::Value::try_from(PitsenseConfig::default()).unwrap() else {
            panic!("the config does not serialise to a table");
        };
        for (section, table) in &sections {
            let toml::Value::Table(table) = table else { panic!("{section} is not a table") };
            assert_documented(section, table);
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let error =
            PitsenseConfig::parse("[tracker]\nmax_age_frame = 3\n", "t.toml").unwrap_err().to_string();
        assert!(error.contains("max_age_frame"), "{error}");
        let error = PitsenseConfig::parse("[camera]\nnms_iou = 1.5\n", "t.toml").unwrap_err().to_string();
        assert!(error.contains("camera.nms_iou"), "{error}");
        let error =
            PitsenseConfig::parse("[replay]\nframe_period_ms = 0\n", "t.toml").unwrap_err().to_string();
        assert!(error.contains("replay.frame_period_ms"), "{error}");
        let error = PitsenseConfig::parse("[models]\ncamera_detector = \"nope\"\n", "t.toml")
            .unwrap_err()
            .to_string();
        assert!(error.contains("models.camera_detector") && error.contains("yolox_nano"), "{error}");
    }

    #[test]
    fn the_v2x_section_is_the_v2x_stages_example() {
        let example = include_str!("../../v2x/config/v2x.example.toml");
        let mut text = String::new();
        for line in example.lines() {
            // The example's tables are top-level; under pitsense.toml they sit below [v2x].
            match line.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
                Some(table) if table.starts_with('[') => text.push_str(&format!("[[v2x.{}\n", &table[1..])),
                Some(table) => text.push_str(&format!("[v2x.{table}]\n")),
                None => text.push_str(&format!("{line}\n")),
            }
        }
        let config = PitsenseConfig::parse(&text, "v2x example").unwrap();
        let v2x = config.v2x.unwrap();
        assert_eq!(v2x.site_origin.lat_deg, -24.27);
        assert_eq!(v2x.receiver.queue_capacity, 256);
        let error =
            PitsenseConfig::parse("[v2x.site_origin]\nlat_deg = 95.0\nlon_deg = 0.0\nheight_m = 0.0\n", "t")
                .unwrap_err()
                .to_string();
        assert!(error.contains("lat"), "{error}");
    }
}
