//! The tracker's configuration: TOML table `[tracker]` with one sub-table per class,
//! `[tracker.classes.<label>]`.

use std::collections::BTreeMap;

use pitsense_types::ConfigError;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use crate::association::{AssociationMethod, AssociationMetric};
use crate::ctrv::CtrvKalmanConfig;
use crate::kalman::CvKalmanConfig;
use crate::motion::MotionModel;

/// Key of the class table used for every label that has no table of its own (including
/// [`pitsense_types::UNKNOWN_CLASS`]).
pub const DEFAULT_CLASS: &str = "default";

/// Frame of the published tracks when ego motion is given
/// ([`crate::tracker::Tracker::update_with_ego`]); TOML `ego_output_frame`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EgoOutputFrame {
    /// The site frame the tracks are kept in ([`pitsense_types::FrameId::Site`]): positions
    /// and velocities over ground.
    Site,
    /// Back in the detections' frame at the frame's stamp: positions relative to the sensor,
    /// velocities **over ground** expressed in the sensor's axes.
    Sensor,
}

/// Which detections may update which tracks, by class label; TOML `class_gating`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassGating {
    /// Only tracks and detections with the same label are associated (AB3DMOT on KITTI, where
    /// detections come per class).
    SameLabel,
    /// As `same_label`, then, among what is left, a detection labelled
    /// [`pitsense_types::UNKNOWN_CLASS`] (an unclassified lidar object) may update a track of any
    /// class and an unclassified track may take a classified detection, with the classified
    /// side's parameters and the `default` class's method. Two different known labels never
    /// meet.
    UnknownMatchesAny,
    /// Any detection may update any track (one association with the `default` class's method,
    /// each pair scored with the track's class parameters); a track's label is the majority of
    /// its detections' labels. For detectors whose class flickers.
    None,
}

/// Settings of [`crate::tracker::Tracker`], TOML table `[tracker]`.
///
/// Per-class parameters live in `classes`, keyed by lower-case class label
/// (`[tracker.classes.car]`); a label is looked up case-insensitively, and a label with no table
/// of its own uses `[tracker.classes.default]`. Reading a config merges each class table given
/// in the file over the built-in table of the same label (car, pedestrian, cyclist and default
/// are built in; another label starts from the file's `default` table), so a file needs to give
/// only the keys it changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrackerConfig {
    /// Frame of the published tracks when ego motion is given. Default `site`.
    pub ego_output_frame: EgoOutputFrame,
    /// Which detections may update which tracks: `same_label`, `unknown_matches_any` or
    /// `none`. Default `unknown_matches_any`.
    pub class_gating: ClassGating,
    /// Per-class parameters by lower-case label; must contain `default`.
    #[serde(deserialize_with = "deserialize_classes")]
    pub classes: BTreeMap<String, ClassTrackerConfig>,
    /// How V2X objects ([`pitsense_types::ObjectMeasurement`]) are fused, TOML table
    /// `[tracker.v2x]`.
    pub v2x: V2xFusionConfig,
}

/// Fusion of V2X objects into the tracks, TOML table `[tracker.v2x]`.
///
/// V2X objects come with their own accuracy, often metres, so they are associated by the
/// Mahalanobis distance of their centre, `d² = νᵀ (P + R)⁻¹ ν` with `P` the track's centre
/// covariance and `R` the message's (3 degrees of freedom), after the sensor detections of the
/// same frame have updated the tracks (sequential updates of independent measurements,
/// Bar-Shalom, Li & Kirubarajan 2001, §3.4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct V2xFusionConfig {
    /// Gate on the squared Mahalanobis distance of the centre, in `(0, 1e4]`. Default 11.34
    /// (χ²₃ 99 %).
    pub gate_chi2: f64,
    /// Gate on the centre distance, metres, in `(0, 1000]`, whatever the covariances say.
    /// Default 10.
    pub max_distance_m: f64,
    /// Whether a V2X object no track matches starts a track (an object only V2X sees, in the
    /// truck's blind zone; published with source `v2x`). Default true.
    pub birth: bool,
}

impl Default for V2xFusionConfig {
    fn default() -> Self {
        Self { gate_chi2: 11.34, max_distance_m: 10.0, birth: true }
    }
}

impl V2xFusionConfig {
    /// Checks every value.
    ///
    /// # Errors
    /// [`ConfigError`] naming `tracker.v2x.<key>` and the accepted range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check_range("tracker.v2x.gate_chi2", self.gate_chi2, 1e-6, 1e4)?;
        ConfigError::check_range("tracker.v2x.max_distance_m", self.max_distance_m, 1e-6, 1000.0)?;
        Ok(())
    }
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            ego_output_frame: EgoOutputFrame::Site,
            class_gating: ClassGating::UnknownMatchesAny,
            classes: built_in_classes(),
            v2x: V2xFusionConfig::default(),
        }
    }
}

impl TrackerConfig {
    /// A config whose only class table is `default = class`: every label is tracked with the
    /// same parameters (class gating still applies).
    pub fn with_all_classes(class: ClassTrackerConfig) -> Self {
        Self { classes: BTreeMap::from([(DEFAULT_CLASS.to_owned(), class)]), ..Self::default() }
    }

    /// Checks every value of every class.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first bad key as a dotted path: `tracker.classes` when the
    /// `default` table is missing, `tracker.classes.<label>` for a label that is not lower case,
    /// `tracker.classes.<label>.<key>` (including `.cv.*` and `.ctrv.*`) for a bad value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.v2x.validate()?;
        if !self.classes.contains_key(DEFAULT_CLASS) {
            return Err(ConfigError::new("tracker.classes", "needs a `default` table"));
        }
        for (label, class) in &self.classes {
            let prefix = format!("tracker.classes.{label}");
            let label_ok = !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            if !label_ok {
                return Err(ConfigError::new(prefix, "a class label key must be lower-case [a-z0-9_-]"));
            }
            class.validate_at(&prefix)?;
        }
        Ok(())
    }

    /// The parameters for a detection or track label: its table (label compared
    /// case-insensitively) or the `default` one.
    pub fn class(&self, label: &str) -> Option<&ClassTrackerConfig> {
        self.classes
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(label))
            .map(|(_, class)| class)
            .or_else(|| self.classes.get(DEFAULT_CLASS))
    }
}

/// Parameters of one class, TOML table `[tracker.classes.<label>]`.
///
/// Track-management counts follow AB3DMOT's meaning with one offset: AB3DMOT deletes a track
/// when it has missed `max_age` frames, here when it has missed more than `max_age_frames`, so
/// `max_age_frames = max_age − 1`; in both, every live track that is confirmed is published.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassTrackerConfig {
    /// Assignment method: `hungarian` (optimal) or `greedy`.
    pub association: AssociationMethod,
    /// Pair similarity: `giou_3d`, `iou_3d`, `giou_bev`, `iou_bev`, `distance_3d`,
    /// `distance_bev` or `mahalanobis`.
    pub metric: AssociationMetric,
    /// For the overlap metrics: the smallest IoU / GIoU of a predicted track box and a detection
    /// box that may be matched, in `[−1, 1]` (AB3DMOT's threshold).
    pub min_similarity: f64,
    /// Gate on the centre distance, metres, in `(0, 1000]`: pairs farther apart are never
    /// matched, whatever the metric (3D distance, or bird's-eye-view for `distance_bev`). For the
    /// distance metrics it is the matching threshold (AB3DMOT's `dist_3d` threshold).
    pub max_distance_m: f64,
    /// Gate on the squared Mahalanobis distance (7 degrees of freedom; χ²₇ 99 % = 18.5,
    /// 99.9 % = 24.3), in `[0, 1e6]`; 0 turns the gate off. With `metric = "mahalanobis"` it is
    /// the matching threshold and must be positive.
    pub mahalanobis_gate_sq: f64,
    /// Updates (the birth detection included) a track needs before it is published, in
    /// `1..=1000` (AB3DMOT's `min_hits`). In the tracker's first `min_hits` frames every track is
    /// published (AB3DMOT's start-up rule).
    pub min_hits: u32,
    /// Frames a track may go without an update before it is deleted, in `0..=1000`
    /// (AB3DMOT's `max_age` − 1).
    pub max_age_frames: u32,
    /// Smallest detection score that starts a new track, in `[0, 1]` (lower-scored detections
    /// may still update existing tracks).
    pub birth_score: f64,
    /// A detection scoring above this confirms its track at once (published before `min_hits`),
    /// in `[0, 1]`; 1 turns this off.
    pub confirm_score: f64,
    /// Factor applied to a track's published score per frame without an update, in `[0, 1]`.
    /// The published score is the last matched detection's score times this to the power of
    /// the frames missed.
    pub score_decay_per_missed_frame: f64,
    /// Motion model of the class's tracks: `cv` or `ctrv` (fixed at a track's birth).
    pub motion_model: MotionModel,
    /// Constant-velocity model noise, used when `motion_model = "cv"`.
    pub cv: CvKalmanConfig,
    /// CTRV model noise, used when `motion_model = "ctrv"`.
    pub ctrv: CtrvKalmanConfig,
}

impl Default for ClassTrackerConfig {
    /// The `default` class: the previous single-class tracker (gated bird's-eye-view distance,
    /// Hungarian, AB3DMOT's counts, constant velocity), for unclassified lidar objects.
    fn default() -> Self {
        Self {
            association: AssociationMethod::Hungarian,
            metric: AssociationMetric::DistanceBev,
            min_similarity: -0.2,
            max_distance_m: 3.0,
            mahalanobis_gate_sq: 0.0,
            min_hits: 3,
            max_age_frames: 2,
            birth_score: 0.3,
            confirm_score: 1.0,
            score_decay_per_missed_frame: 0.9,
            motion_model: MotionModel::Cv,
            cv: CvKalmanConfig::default(),
            ctrv: CtrvKalmanConfig::default(),
        }
    }
}

/// Constant-velocity noise for KITTI objects tracked in the moving sensor frame (no ego-motion
/// compensation, as with the shared KITTI data, which has no GPS/IMU).
///
/// Without ego motion, an object's apparent acceleration includes the ego vehicle's: braking,
/// and above all turning (a yaw rate of 0.3 rad/s moves a car 20 m away sideways at 6 m/s).
/// The white-noise acceleration PSD is therefore raised to 8 m²/s³ horizontally and 2 m²/s³
/// vertically (pitch on bumps), and the measurement noise set to PointRCNN's centre error,
/// about 0.15 m (Shi et al., CVPR 2019, KITTI 3D AP at IoU 0.7). Chosen on the train split
/// (measured against AB3DMOT there), the same for all three classes.
pub fn kitti_cv_noise() -> CvKalmanConfig {
    CvKalmanConfig {
        accel_psd_xy_m2ps3: 8.0,
        accel_psd_z_m2ps3: 2.0,
        meas_position_std_m: 0.15,
        ..CvKalmanConfig::default()
    }
}

impl ClassTrackerConfig {
    /// AB3DMOT's PointRCNN parameters for KITTI cars (Hungarian, GIoU-3D ≥ −0.2, min_hits 3,
    /// max_age 2), [`kitti_cv_noise`], with a 10 m centre-distance gate (which never binds at that threshold for
    /// car-sized boxes) and births from every detection.
    pub fn kitti_car() -> Self {
        Self {
            association: AssociationMethod::Hungarian,
            metric: AssociationMetric::Giou3d,
            min_similarity: -0.2,
            max_distance_m: 10.0,
            min_hits: 3,
            max_age_frames: 1,
            birth_score: 0.0,
            cv: kitti_cv_noise(),
            ..Self::default()
        }
    }

    /// AB3DMOT's PointRCNN parameters for KITTI pedestrians (greedy, GIoU-3D ≥ −0.4, min_hits 1,
    /// max_age 4), [`kitti_cv_noise`].
    pub fn kitti_pedestrian() -> Self {
        Self {
            association: AssociationMethod::Greedy,
            metric: AssociationMetric::Giou3d,
            min_similarity: -0.4,
            max_distance_m: 10.0,
            min_hits: 1,
            max_age_frames: 3,
            birth_score: 0.0,
            cv: kitti_cv_noise(),
            ..Self::default()
        }
    }

    /// AB3DMOT's PointRCNN parameters for KITTI cyclists (Hungarian, 3D centre distance ≤ 2 m,
    /// min_hits 3, max_age 4), [`kitti_cv_noise`].
    pub fn kitti_cyclist() -> Self {
        Self {
            association: AssociationMethod::Hungarian,
            metric: AssociationMetric::Distance3d,
            max_distance_m: 2.0,
            min_hits: 3,
            max_age_frames: 3,
            birth_score: 0.0,
            cv: kitti_cv_noise(),
            ..Self::default()
        }
    }

    /// Checks every value; `prefix` is the table's dotted path (`tracker.classes.car`).
    ///
    /// # Errors
    /// A [`ConfigError`] naming `prefix.key` for the first bad key.
    pub fn validate_at(&self, prefix: &str) -> Result<(), ConfigError> {
        let key = |name: &str| format!("{prefix}.{name}");
        ConfigError::check_range(&key("min_similarity"), self.min_similarity, -1.0, 1.0)?;
        if !(self.max_distance_m > 0.0 && self.max_distance_m <= 1000.0) {
            return Err(ConfigError::new(
                key("max_distance_m"),
                format!("{} must be in (0, 1000] metres", self.max_distance_m),
            ));
        }
        ConfigError::check_range(&key("mahalanobis_gate_sq"), self.mahalanobis_gate_sq, 0.0, 1e6)?;
        if self.metric == AssociationMetric::Mahalanobis && self.mahalanobis_gate_sq <= 0.0 {
            return Err(ConfigError::new(
                key("mahalanobis_gate_sq"),
                "must be positive with metric = \"mahalanobis\" (it is the matching threshold)",
            ));
        }
        ConfigError::check_range(&key("min_hits"), f64::from(self.min_hits), 1.0, 1000.0)?;
        ConfigError::check_range(&key("max_age_frames"), f64::from(self.max_age_frames), 0.0, 1000.0)?;
        ConfigError::check_range(&key("birth_score"), self.birth_score, 0.0, 1.0)?;
        ConfigError::check_range(&key("confirm_score"), self.confirm_score, 0.0, 1.0)?;
        ConfigError::check_range(
            &key("score_decay_per_missed_frame"),
            self.score_decay_per_missed_frame,
            0.0,
            1.0,
        )?;
        self.cv.validate_at(&key("cv"))?;
        self.ctrv.validate_at(&key("ctrv"))
    }
}

/// The built-in class tables: `default`, and AB3DMOT's KITTI `car`, `pedestrian`, `cyclist`.
pub fn built_in_classes() -> BTreeMap<String, ClassTrackerConfig> {
    BTreeMap::from([
        (DEFAULT_CLASS.to_owned(), ClassTrackerConfig::default()),
        ("car".to_owned(), ClassTrackerConfig::kitti_car()),
        ("pedestrian".to_owned(), ClassTrackerConfig::kitti_pedestrian()),
        ("cyclist".to_owned(), ClassTrackerConfig::kitti_cyclist()),
    ])
}

/// Reads `classes`: each given table is merged key by key (recursively) over its base, the
/// built-in table of the same label, else the (merged) `default` table; built-in labels the file
/// does not mention keep their built-in tables. Unknown keys are errors naming
/// `tracker.classes.<label>`.
fn deserialize_classes<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, ClassTrackerConfig>, D::Error> {
    let given = BTreeMap::<String, toml::Table>::deserialize(deserializer)?;
    let mut classes = built_in_classes();
    let default_first = given
        .iter()
        .filter(|(label, _)| label.as_str() == DEFAULT_CLASS)
        .chain(given.iter().filter(|(label, _)| label.as_str() != DEFAULT_CLASS));
    for (label, patch) in default_first {
        let base = classes.get(label).or_else(|| classes.get(DEFAULT_CLASS)).cloned().unwrap_or_default();
        let mut table = toml::Table::try_from(&base).map_err(D::Error::custom)?;
        merge_tables(&mut table, patch.clone());
        let class: ClassTrackerConfig = toml::Value::Table(table)
            .try_into()
            .map_err(|error| D::Error::custom(format!("tracker.classes.{label}: {error}")))?;
        classes.insert(label.clone(), class);
    }
    Ok(classes)
}

/// Overwrites `base` with `patch`, descending into tables present in both.
fn merge_tables(base: &mut toml::Table, patch: toml::Table) {
    for (key, value) in patch {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(patch_table)) => {
                merge_tables(base_table, patch_table);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}
