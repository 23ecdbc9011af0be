//! `[run]`: the onboard runtime's inputs, budgets and outputs.
//!
//! Every sub-section denies unknown keys; [`RunConfig::validate`] names the dotted key of the
//! first bad value (`run.inputs.lidar.sensors[0].source`). Extrinsics are typed poses named
//! `truck_from_<sensor>` ([`Pose`]), never positional arrays.

use std::path::PathBuf;

use pitsense_perception::drivers::velodyne::VelodyneModel;
use pitsense_types::nalgebra::{Isometry3, Translation3, UnitQuaternion};
use pitsense_types::{CameraIntrinsics, ConfigError};
use serde::{Deserialize, Serialize};

use crate::can::{CanInputConfig, CanOutputConfig};
use crate::gnss::EgoEstimatorConfig;

use crate::graph::channel::DropPolicy;
use crate::graph::health::MonitorConfig;
use crate::outputs::ZenohOutputsConfig;

/// A rigid pose: translation in metres, then rotation by roll about x, pitch about y, yaw about z
/// (intrinsic Z-Y-X, REP 103), radians. `truck_from_lidar` reads "the lidar's pose in the truck
/// frame": it takes points in the lidar frame to the truck frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Pose {
    /// Forward, m.
    pub x_m: f64,
    /// Left, m.
    pub y_m: f64,
    /// Up, m.
    pub z_m: f64,
    /// Rotation about x, rad.
    pub roll_rad: f64,
    /// Rotation about y, rad.
    pub pitch_rad: f64,
    /// Rotation about z, rad (counter-clockwise seen from above).
    pub yaw_rad: f64,
}

impl Pose {
    /// The pose as an isometry (`target_from_source`).
    pub fn isometry(&self) -> Isometry3<f64> {
        Isometry3::from_parts(
            Translation3::new(self.x_m, self.y_m, self.z_m),
            UnitQuaternion::from_euler_angles(self.roll_rad, self.pitch_rad, self.yaw_rad),
        )
    }

    /// Checks that every value is finite and within ±1e7; the error names `key`.
    ///
    /// # Errors
    /// [`ConfigError`] naming `key` when a value is not.
    pub fn validate(&self, key: &str) -> Result<(), ConfigError> {
        let values = [self.x_m, self.y_m, self.z_m, self.roll_rad, self.pitch_rad, self.yaw_rad];
        if values.iter().all(|v| v.is_finite() && v.abs() <= 1e7) {
            Ok(())
        } else {
            Err(ConfigError::new(key, "every value must be finite and within ±1e7"))
        }
    }
}

/// Which lidar driver decodes a sensor's packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LidarDriver {
    /// Ouster OS (metadata JSON required).
    Ouster,
    /// Velodyne VLP-16.
    Vlp16,
    /// Velodyne VLP-32C.
    Vlp32c,
    /// Velodyne HDL-32E.
    Hdl32e,
    /// Velodyne HDL-64E.
    Hdl64e,
}

impl From<VelodyneModel> for LidarDriver {
    fn from(model: VelodyneModel) -> Self {
        match model {
            VelodyneModel::Vlp16 => Self::Vlp16,
            VelodyneModel::Vlp32c => Self::Vlp32c,
            VelodyneModel::Hdl32e => Self::Hdl32e,
            VelodyneModel::Hdl64e => Self::Hdl64e,
        }
    }
}

impl LidarDriver {
    /// The Velodyne model this driver decodes; `None` for Ouster.
    pub fn velodyne_model(self) -> Option<VelodyneModel> {
        match self {
            Self::Ouster => None,
            Self::Vlp16 => Some(VelodyneModel::Vlp16),
            Self::Vlp32c => Some(VelodyneModel::Vlp32c),
            Self::Hdl32e => Some(VelodyneModel::Hdl32e),
            Self::Hdl64e => Some(VelodyneModel::Hdl64e),
        }
    }
}

/// What a lidar frame's stamp is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StampSource {
    /// The injected clock when the packet that completed the frame arrived (sensors whose
    /// clocks are not synchronised to the truck's; the default).
    #[default]
    Arrival,
    /// The sensor's own packet timestamps (PTP-synchronised sensors).
    Sensor,
}

/// One lidar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LidarSensorConfig {
    /// Where packets come from: `udp:ADDR:PORT` (live; Ouster 7502, Velodyne 2368) or
    /// `pcap:PATH` (replay, paced by the capture's timestamps).
    pub source: String,
    /// Packet decoder.
    pub driver: LidarDriver,
    /// Ouster sensor metadata JSON (Ouster only); relative paths are relative to the data root.
    #[serde(default)]
    pub metadata: PathBuf,
    /// Lidar extrinsics: the lidar frame's pose in the truck frame.
    #[serde(default)]
    pub truck_from_lidar: Pose,
    /// Frame stamps from arrival or from the sensor.
    #[serde(default)]
    pub stamp: StampSource,
}

/// `[run.inputs.lidar]`: one or more lidars merged into the first one's frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LidarInputConfig {
    /// The lidars; the first drives the frame clock, the others are merged into its frame when
    /// their newest scan lies within `run.pairing_tolerance_ms`.
    pub sensors: Vec<LidarSensorConfig>,
    /// Health judgement (nominal rate: the sensor's rotation rate).
    #[serde(default)]
    pub health: MonitorConfig,
}

/// `[run.inputs.v2x]`: road-side messages (decoded by the `[v2x]` section's settings).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct V2xInputConfig {
    /// `udp:ADDR:PORT` (live, every datagram stamped at arrival) or `log:PATH` (replay; the
    /// JSON-lines log of `pitsense replay --v2x-log`).
    pub source: String,
    /// Health judgement (nominal rate of the RSU's messages).
    #[serde(default)]
    pub health: MonitorConfig,
}

/// How fusion pairs a lidar frame with the other inputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPolicy {
    /// Live: pair with the nearest camera result already available within the tolerance,
    /// waiting at most `run.input_wait_ms` for one when none is; V2X as received so far.
    #[default]
    Latest,
    /// Event time: a frame is fused once every usable input has delivered everything stamped
    /// up to the frame's stamp (watermarks). Deterministic: replay, and live runs that must equal
    /// replay. Live, a frame still waits at most `run.input_wait_ms`.
    EventTime,
}

/// `[run.inputs.camera]`: one camera through OpenCV (`VideoCapture`), the detector on its
/// frames, its detections fused with the lidar objects of the frame nearest in stamp.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraInputConfig {
    /// `v4l2:/dev/video0` (or `v4l2:0`), `rtsp://…`, `gst:<pipeline ending in appsink>`, or
    /// `file:PATH` (a video file, played at its own frame rate, as a camera would deliver it;
    /// in replay stamped from its position in the file and read as fast as the graph takes it).
    pub source: String,
    /// Pinhole intrinsics of the (rectified) image, pixels.
    pub intrinsics: CameraIntrinsics,
    /// The camera's optical frame (x right, y down, z forward) in the truck frame.
    pub truck_from_camera: Pose,
    /// Health judgement of the frame stream.
    #[serde(default)]
    pub health: MonitorConfig,
}

/// `[run.inputs.gnss]`: a GNSS receiver or INS speaking NMEA 0183 (GGA, RMC, HDT, THS).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GnssInputConfig {
    /// `udp:ADDRESS:PORT`, `serial:/dev/ttyUSB0` or `file:PATH` (live only: a file's sentences
    /// carry no reception stamps).
    pub source: String,
    /// The ego pose estimator (`runtime/config/gnss.example.toml` documents every key).
    pub ego: EgoEstimatorConfig,
    /// Health judgement of the sentence stream.
    #[serde(default)]
    pub health: MonitorConfig,
}

/// `[run.outputs]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunOutputs {
    /// Write one `objects.jsonl` line per fused frame here (same format as replay's).
    pub objects_jsonl: Option<PathBuf>,
    /// Write every health report as a JSON line here.
    pub health_jsonl: Option<PathBuf>,
    /// Objects (CDR `autoware_perception_msgs/msg/TrackedObjects`), health (JSON) and latency
    /// (JSON) over zenoh under `pitsense/truck/<run.truck_id>/…`. Its `truck_id` must be absent
    /// or equal `run.truck_id`.
    pub zenoh: Option<ZenohOutputsConfig>,
    /// The health mode and the nearest objects (truck frame) as frames of a DBC on vehicle CAN.
    pub can: Option<CanOutputConfig>,
    /// Record episodes with the `[recorder]` section's pre-roll, post-roll, triggers and folder
    /// (a health mode change is a trigger too); finished episodes enter the upload queue there.
    pub episodes: bool,
}

/// `[run.inputs]`: each input is optional; its key is its name in the health message.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunInputs {
    /// Lidars.
    pub lidar: Option<LidarInputConfig>,
    /// Road-side V2X.
    pub v2x: Option<V2xInputConfig>,
    /// A camera, its detector fused with the lidar objects.
    pub camera: Option<CameraInputConfig>,
    /// Vehicle CAN (speed, yaw rate, gear, brake) through a DBC: the ego pose estimator's dead
    /// reckoning between GNSS fixes.
    pub can: Option<CanInputConfig>,
    /// GNSS/INS (NMEA 0183): the truck's pose in the site frame, interpolated to each frame.
    pub gnss: Option<GnssInputConfig>,
}

/// `[run]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// The truck's id in key expressions and episodes (`truck-01`).
    pub truck_id: String,
    /// Budget from a lidar frame's stamp to its publication, ms; a frame published later is
    /// counted late (never dropped silently).
    pub frame_budget_ms: u64,
    /// Largest stamp difference for pairing a camera result or a second lidar with a frame, ms.
    pub pairing_tolerance_ms: u64,
    /// Live: how long fusion waits past a frame's readiness for a missing partner, ms.
    pub input_wait_ms: u64,
    /// Pairing policy.
    pub sync: SyncPolicy,
    /// Health report period, ms (≥ 10 Hz: at most 100).
    pub health_period_ms: u64,
    /// Budget of one work item of any stage (watchdog), ms.
    pub stage_budget_ms: u64,
    /// Capacity of each sensor input edge (messages); full: drop the oldest.
    pub input_queue_capacity: usize,
    /// Drop policy of the sensor input edges when live (replay is always lossless: `block`).
    pub input_drop_policy: DropPolicy,
    /// The truck's pose in the site frame when no GNSS input is configured (a truck standing
    /// at a surveyed point); needed to fuse V2X objects then. With it, tracks are in the site
    /// frame; without it (and without GNSS), in the first lidar's frame.
    pub ego_pose_site: Option<Pose>,
    /// The inputs.
    pub inputs: RunInputs,
    /// The outputs.
    pub outputs: RunOutputs,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            truck_id: "truck-01".into(),
            frame_budget_ms: 100,
            pairing_tolerance_ms: 50,
            input_wait_ms: 30,
            sync: SyncPolicy::Latest,
            health_period_ms: 100,
            stage_budget_ms: 100,
            input_queue_capacity: 2,
            input_drop_policy: DropPolicy::DropOldest,
            ego_pose_site: None,
            inputs: RunInputs::default(),
            outputs: RunOutputs::default(),
        }
    }
}

impl RunConfig {
    /// The zenoh outputs' configuration with `run.truck_id` as the truck id.
    pub fn zenoh_outputs(&self) -> Option<ZenohOutputsConfig> {
        self.outputs
            .zenoh
            .clone()
            .map(|zenoh| ZenohOutputsConfig { truck_id: self.truck_id.clone(), ..zenoh })
    }

    /// Checks every key.
    ///
    /// # Errors
    /// The first invalid key, by its dotted path.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.truck_id.is_empty()
            || !self.truck_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ConfigError::new(
                "run.truck_id",
                "must be non-empty ASCII letters, digits, `-` or `_`",
            ));
        }
        for (key, value, min, max) in [
            ("run.frame_budget_ms", self.frame_budget_ms, 1, 10_000),
            ("run.pairing_tolerance_ms", self.pairing_tolerance_ms, 0, 1_000),
            ("run.input_wait_ms", self.input_wait_ms, 0, 1_000),
            ("run.health_period_ms", self.health_period_ms, 10, 100),
            ("run.stage_budget_ms", self.stage_budget_ms, 1, 10_000),
        ] {
            if !(min..=max).contains(&value) {
                return Err(ConfigError::new(key, format!("{value} is outside {min}..={max}")));
            }
        }
        if !(1..=1024).contains(&self.input_queue_capacity) {
            return Err(ConfigError::new("run.input_queue_capacity", "must be in 1..=1024"));
        }
        if let Some(pose) = &self.ego_pose_site {
            pose.validate("run.ego_pose_site")?;
        }
        if let Some(lidar) = &self.inputs.lidar {
            if lidar.sensors.is_empty() {
                return Err(ConfigError::new("run.inputs.lidar.sensors", "needs at least one lidar"));
            }
            for (index, sensor) in lidar.sensors.iter().enumerate() {
                let key = format!("run.inputs.lidar.sensors[{index}]");
                parse_source(&sensor.source, &["udp", "pcap"])
                    .map_err(|reason| ConfigError::new(format!("{key}.source"), reason))?;
                if sensor.driver == LidarDriver::Ouster && sensor.metadata.as_os_str().is_empty() {
                    return Err(ConfigError::new(
                        format!("{key}.metadata"),
                        "an Ouster lidar needs its metadata JSON",
                    ));
                }
                sensor.truck_from_lidar.validate(&format!("{key}.truck_from_lidar"))?;
            }
            lidar.health.validate("run.inputs.lidar.health")?;
        }
        if let Some(v2x) = &self.inputs.v2x {
            parse_source(&v2x.source, &["udp", "log"])
                .map_err(|reason| ConfigError::new("run.inputs.v2x.source", reason))?;
            v2x.health.validate("run.inputs.v2x.health")?;
        }
        if let Some(can) = &self.inputs.can {
            can.validate()?;
        }
        if let Some(camera) = &self.inputs.camera {
            if camera.source.trim().is_empty() {
                return Err(ConfigError::new("run.inputs.camera.source", "must name a camera URI"));
            }
            let k = &camera.intrinsics;
            let positive = [k.fx_px, k.fy_px].iter().all(|v| v.is_finite() && *v > 0.0)
                && [k.cx_px, k.cy_px].iter().all(|v| v.is_finite())
                && k.width_px > 0
                && k.height_px > 0;
            if !positive {
                return Err(ConfigError::new(
                    "run.inputs.camera.intrinsics",
                    "fx_px and fy_px must be positive, cx_px and cy_px finite, the size non-zero",
                ));
            }
            camera.truck_from_camera.validate("run.inputs.camera.truck_from_camera")?;
            camera.health.validate("run.inputs.camera.health")?;
        }
        if let Some(gnss) = &self.inputs.gnss {
            parse_source(&gnss.source, &["udp", "serial", "file"])
                .map_err(|reason| ConfigError::new("run.inputs.gnss.source", reason))?;
            gnss.ego.validate_in("run.inputs.gnss.ego")?;
            gnss.health.validate("run.inputs.gnss.health")?;
        }
        if let Some(zenoh) = &self.outputs.zenoh {
            // The section's own default truck id stands for "not given".
            let default_id = ZenohOutputsConfig::default().truck_id;
            if zenoh.truck_id != self.truck_id && zenoh.truck_id != default_id {
                return Err(ConfigError::new(
                    "run.outputs.zenoh.truck_id",
                    format!(
                        "`{}` differs from run.truck_id `{}`: set run.truck_id only",
                        zenoh.truck_id, self.truck_id
                    ),
                ));
            }
            self.zenoh_outputs().map_or(Ok(()), |z| z.validate())?;
        }
        if let Some(can) = &self.outputs.can {
            can.validate()?;
        }
        Ok(())
    }
}

/// A parsed input URI: `scheme:rest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceUri {
    /// `udp`, `pcap`, `log`, ...
    pub scheme: String,
    /// What follows the colon (an address or a path).
    pub rest: String,
}

/// Splits `scheme:rest` and checks the scheme is one of `schemes`.
///
/// # Errors
/// A sentence naming the accepted schemes.
pub fn parse_source(uri: &str, schemes: &[&str]) -> Result<SourceUri, String> {
    let accepted = schemes.iter().map(|s| format!("`{s}:`")).collect::<Vec<_>>().join(", ");
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Err(format!("`{uri}` has no scheme (accepted: {accepted})"));
    };
    if !schemes.contains(&scheme) || rest.is_empty() {
        return Err(format!("`{uri}`: accepted sources are {accepted} followed by an address or path"));
    }
    if scheme == "udp" && rest.parse::<std::net::SocketAddr>().is_err() {
        return Err(format!("`{uri}`: `{rest}` is not an IP address and port"));
    }
    Ok(SourceUri { scheme: scheme.to_owned(), rest: rest.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_checked() {
        assert_eq!(
            parse_source("udp:127.0.0.1:7502", &["udp"]),
            Ok(SourceUri { scheme: "udp".into(), rest: "127.0.0.1:7502".into() })
        );
        assert!(parse_source("udp:localhost", &["udp"]).unwrap_err().contains("not an IP address"));
        assert!(parse_source("tcp:1.2.3.4:5", &["udp", "pcap"]).unwrap_err().contains("`udp:`, `pcap:`"));
        assert!(parse_source("nothing", &["udp"]).unwrap_err().contains("no scheme"));
    }

    #[test]
    fn bad_keys_are_named() {
        let config = RunConfig { health_period_ms: 500, ..RunConfig::default() };
        assert_eq!(config.validate().unwrap_err().key, "run.health_period_ms");
        let mut config = RunConfig::default();
        config.inputs.lidar = Some(LidarInputConfig {
            sensors: vec![LidarSensorConfig {
                source: "udp:0.0.0.0:7502".into(),
                driver: LidarDriver::Ouster,
                metadata: PathBuf::new(),
                truck_from_lidar: Pose::default(),
                stamp: StampSource::Arrival,
            }],
            health: MonitorConfig::default(),
        });
        assert_eq!(config.validate().unwrap_err().key, "run.inputs.lidar.sensors[0].metadata");
    }

    #[test]
    fn pose_reads_right_to_left() {
        let pose = Pose { x_m: 1.0, yaw_rad: std::f64::consts::FRAC_PI_2, ..Pose::default() };
        let point = pose.isometry() * pitsense_types::nalgebra::Point3::new(1.0, 0.0, 0.0);
        // Rotated to +y, then shifted by +1 m along x.
        assert!((point.x - 1.0).abs() < 1e-12 && (point.y - 1.0).abs() < 1e-12);
    }
}
