//! 3D multi-object tracker: AB3DMOT (Weng, Wang, Held, Kitani, "3D Multi-Object Tracking: A
//! Baseline and New Evaluation Metrics", IROS 2020) with per-class association and motion
//! models, score-aware track management and optional ego-motion compensation.
//!
//! Per frame ([`Tracker::update`], [`Tracker::update_with_ego`]):
//! 1. **Input.** Detections with a non-finite value or a negative size, or in another frame than
//!    the first valid detection's, are ignored. With ego motion, each detection box is moved
//!    into the site frame with `site_from_truck · truck_from_sensor` (centre transformed, heading
//!    turned by the rotation's effect on the heading vector).
//! 2. **Predict** every track to the frame's stamp with its motion model
//!    ([`crate::motion::MotionFilter`]: constant velocity or CTRV, chosen per class at birth).
//! 3. **Associate** per class label: detections are matched only with tracks of the same label,
//!    with that class's method (Hungarian or greedy, [`crate::association`]) on that class's
//!    metric (3D/BEV GIoU or IoU of the predicted box, centre distance, or Mahalanobis
//!    distance), gated by `max_distance_m` and, optionally, a χ² gate on the Mahalanobis
//!    distance. Then, with `class_gating = "unknown_matches_any"`, unclassified detections and
//!    tracks are matched across classes among what is left ([`ClassGating`]).
//! 4. **Update** matched tracks (Kalman update, heading flips absorbed); a track's class label is
//!    the majority of its detections' non-unknown labels (ties to the alphabetically first).
//! 5. **Manage.** Tracks missed for more than `max_age_frames` frames are deleted; every
//!    unmatched detection scoring at least `birth_score` starts a track. A track is published
//!    once it has `min_hits` updates, or a detection scoring above `confirm_score`, or while
//!    the tracker is in its first `min_hits` frames (AB3DMOT's start-up rule). Its score is the
//!    last matched detection's score times `score_decay_per_missed_frame` per missed frame, so
//!    that score thresholds (sAMOTA's sweep, a planner's filter) rank coasting tracks lower.
//!
//! 6. **V2X** ([`Tracker::update_with_ego_and_v2x`]): after the sensor detections, V2X objects
//!    (with the accuracy their messages gave) are associated with every track by the
//!    Mahalanobis distance of the centre (Hungarian, [`V2xFusionConfig`] gates) and fused with
//!    the message's noise, as a sequential update; an unmatched one starts a track. A track
//!    only V2X updated in a frame is published with source `v2x`.
//!
//! Parameters are per class ([`TrackerConfig::classes`]); the built-in car, pedestrian and
//! cyclist tables are AB3DMOT's for PointRCNN on KITTI.
//!
//! **Frames.** Without ego motion, tracks live in the detections' frame (a moving sensor frame:
//! velocities are relative to the sensor). With ego motion, tracks live in the site frame
//! (velocities over ground, so a parked car is still) and are published in the site frame or,
//! with `ego_output_frame = "sensor"`, moved back into the detections' frame at the frame's
//! stamp. Switching between [`Tracker::update`] and [`Tracker::update_with_ego`] deletes every
//! track, since the two frames cannot be related.
//!
//! **Determinism.** No hash maps, no clock, no threads: ordered containers, index tie-breaks
//! and a fixed order of floating-point operations, so the same input gives bit-identical output.

mod config;

use std::collections::BTreeMap;

pub use config::{
    ClassGating, ClassTrackerConfig, DEFAULT_CLASS, EgoOutputFrame, TrackerConfig, V2xFusionConfig,
    built_in_classes,
};
use pitsense_types::nalgebra::{Isometry3, Matrix3, Matrix6, Point3, Vector3};
use pitsense_types::{
    ConfigError, Detection3d, EgoState, FrameId, Header, ObjectMeasurement, ObjectSource, Track,
    UNKNOWN_CLASS,
};

use crate::association::{AssociationMethod, AssociationMetric};
use crate::geometry::{OrientedBox, box_overlap};
use crate::kalman::{
    BoxMeasurement, InnovationCholesky, MeasurementCovariance, mahalanobis_sq, measurement_from_detection,
};
use crate::motion::MotionFilter;

/// What the last [`Tracker::update`] did, for logging and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpdateReport {
    /// Detections that updated a track.
    pub matched: usize,
    /// Tracks started.
    pub born: usize,
    /// Tracks deleted: missed more than `max_age_frames` frames, or dropped when switching
    /// between updates with and without ego motion.
    pub deleted: usize,
    /// Detections ignored because a value is not finite or a size is negative.
    pub rejected_invalid: usize,
    /// Detections ignored because their frame is not the tracker's frame (the frame of the first
    /// valid detection it saw).
    pub rejected_frame: usize,
    /// Whether the stamp was not after the previous one, so the step was a zero-time prediction.
    pub stamp_not_increasing: bool,
    /// V2X objects that updated a track.
    pub v2x_matched: usize,
    /// Tracks started by a V2X object (objects seen only through V2X).
    pub v2x_born: usize,
    /// V2X objects ignored: another frame than site or ego, a non-finite value, or a noise that
    /// is not positive definite.
    pub v2x_rejected: usize,
}

/// One track's private state.
#[derive(Clone, Debug)]
struct TrackEntry {
    track_id: u64,
    filter: MotionFilter,
    /// Count of matched detections per non-unknown class label (sorted, so ties are broken by
    /// name deterministically).
    class_votes: BTreeMap<String, u32>,
    /// Majority of `class_votes`, or [`UNKNOWN_CLASS`].
    label: String,
    /// Index of the label's parameters in [`Tracker::classes`].
    class_index: usize,
    last_score: f32,
    source: ObjectSource,
    age_frames: u32,
    hits: u32,
    frames_since_update: u32,
    /// Whether a detection scoring above `confirm_score` updated or started the track.
    confirmed_by_score: bool,
}

impl TrackEntry {
    /// A track started by one measurement: one hit, unlabelled until [`vote`] counts its label.
    fn born(
        track_id: u64,
        filter: MotionFilter,
        default_class: usize,
        score: f32,
        source: ObjectSource,
        confirmed_by_score: bool,
    ) -> Self {
        Self {
            track_id,
            filter,
            class_votes: BTreeMap::new(),
            label: UNKNOWN_CLASS.to_owned(),
            class_index: default_class,
            last_score: score,
            source,
            age_frames: 0,
            hits: 1,
            frames_since_update: 0,
            confirmed_by_score,
        }
    }
}

/// A detection as the tracker uses it this frame (in the tracker's frame).
#[derive(Clone, Debug)]
struct DetectionInput {
    /// Index into the caller's slice.
    index: usize,
    measurement: BoxMeasurement,
    oriented_box: OrientedBox,
    class_index: usize,
}

/// A track's predicted box and innovation factor this frame.
#[derive(Clone, Debug)]
struct TrackPrediction {
    oriented_box: OrientedBox,
    cholesky: Option<InnovationCholesky>,
}

/// The multi-object tracker. See the module documentation for the algorithm.
#[derive(Clone, Debug)]
pub struct Tracker {
    config: TrackerConfig,
    /// `(lower-case label, parameters)` in key order, resolved from the config.
    classes: Vec<(String, ClassTrackerConfig)>,
    /// Index of the `default` table in `classes`.
    default_class: usize,
    /// Whether any class uses the Mahalanobis distance (metric or gate).
    needs_innovation: bool,
    /// Live tracks, in increasing `track_id` order (births are appended).
    tracks: Vec<TrackEntry>,
    /// Next identity to hand out; starts at 1, only increases.
    next_track_id: u64,
    /// Number of `update` calls so far.
    frame_count: u64,
    /// Time of validity of the track states (the largest stamp seen), nanoseconds.
    clock_stamp_ns: Option<u64>,
    /// Frame of the detections: the frame of the first valid detection.
    sensor_frame: Option<FrameId>,
    /// Whether tracks are kept in the site frame (ego motion given); `None` before any update.
    site_mode: Option<bool>,
    /// Pose of the detections' frame in the site frame at the last update with ego motion.
    site_from_sensor: Option<Isometry3<f64>>,
    report: UpdateReport,
    /// `(track_id, detection index)` of the last update's matches and births, by `track_id`.
    last_detections: Vec<(u64, usize)>,
    /// Reused per-frame buffers.
    inputs: Vec<DetectionInput>,
    predictions: Vec<TrackPrediction>,
}

impl Tracker {
    /// Builds an empty tracker.
    ///
    /// # Errors
    /// The [`ConfigError`] of [`TrackerConfig::validate`].
    pub fn new(config: TrackerConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let classes: Vec<(String, ClassTrackerConfig)> =
            config.classes.iter().map(|(label, class)| (label.clone(), class.clone())).collect();
        let default_class = classes
            .iter()
            .position(|(label, _)| label == DEFAULT_CLASS)
            .ok_or_else(|| ConfigError::new("tracker.classes", "needs a `default` table"))?;
        let needs_innovation = classes.iter().any(|(_, class)| {
            class.metric == AssociationMetric::Mahalanobis || class.mahalanobis_gate_sq > 0.0
        });
        Ok(Self {
            config,
            classes,
            default_class,
            needs_innovation,
            tracks: Vec::new(),
            next_track_id: 1,
            frame_count: 0,
            clock_stamp_ns: None,
            sensor_frame: None,
            site_mode: None,
            site_from_sensor: None,
            report: UpdateReport::default(),
            last_detections: Vec::new(),
            inputs: Vec::new(),
            predictions: Vec::new(),
        })
    }

    /// The validated configuration.
    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// What the last [`Tracker::update`] did.
    pub fn last_report(&self) -> &UpdateReport {
        &self.report
    }

    /// Which detection of the last update's slice updated or started each track:
    /// `(track_id, index into the detections slice)`, sorted by `track_id`. Tracks not in the
    /// list were not updated (coasting). For carrying per-detection data the tracker does not
    /// keep (a 2D image box, KITTI's observation angle) to the published tracks, as AB3DMOT
    /// does.
    pub fn last_detection_indices(&self) -> &[(u64, usize)] {
        &self.last_detections
    }

    /// Runs one frame without ego motion: `detections` (boxes in one frame, normally
    /// [`FrameId::Lidar`], any source and class) valid at `stamp_ns` (nanoseconds, truck
    /// clock). Tracks are kept in the detections' frame.
    ///
    /// Returns the published tracks sorted by `track_id`. Their header carries the tracker's
    /// time (`stamp_ns`, or the previous stamp if this one is not later), its frame (that of the
    /// first valid detection ever given; detections in another frame are ignored), and as `seq`
    /// the number of earlier `update` calls.
    ///
    /// A stamp that is not after the previous one (`dt ≤ 0`) is treated as a zero-time
    /// prediction: the tracks are not moved, the detections are associated and fused as if taken
    /// at the previous stamp, and the clock does not go back. Detections with a non-finite
    /// value or a negative size are ignored ([`UpdateReport::rejected_invalid`]).
    pub fn update(&mut self, stamp_ns: u64, detections: &[Detection3d]) -> Vec<Track> {
        self.step(stamp_ns, detections, &[], None)
    }

    /// Runs one frame with ego motion: as [`Tracker::update`], but tracks are kept in the site
    /// frame ([`FrameId::Site`]). `ego` is the truck's pose valid at `stamp_ns` (interpolated by
    /// the caller), `truck_from_sensor` the pose of the detections' frame in the truck's frame
    /// (the lidar extrinsics; identity for detections in [`FrameId::Ego`]). Each detection box
    /// is moved into the site frame with `ego.site_from_truck · truck_from_sensor` before
    /// association.
    ///
    /// Published tracks are in the site frame (header frame `Site`) or, with
    /// `ego_output_frame = "sensor"`, in the detections' frame at this stamp (header frame that
    /// of the detections; velocity over ground in the sensor's axes; covariance rotated).
    pub fn update_with_ego(
        &mut self,
        stamp_ns: u64,
        detections: &[Detection3d],
        ego: &EgoState,
        truck_from_sensor: &Isometry3<f64>,
    ) -> Vec<Track> {
        self.step(stamp_ns, detections, &[], Some((ego.site_from_truck, *truck_from_sensor)))
    }

    /// Runs one frame with ego motion and V2X objects: as [`Tracker::update_with_ego`], then the
    /// V2X objects (`v2x`, each with its own accuracy, frame [`FrameId::Site`] or
    /// [`FrameId::Ego`], valid at `stamp_ns` after the caller's latency compensation) are
    /// associated with every track — those the detections just updated and those they did not,
    /// new ones included — by the Mahalanobis distance of the centre, gated by
    /// [`crate::tracker::V2xFusionConfig`], and fused with the message's noise. A V2X object that
    /// matches no track starts one (`birth = true`, score at least the class's `birth_score`).
    ///
    /// A track updated only by these measurements in a frame is published with the
    /// measurement's source: [`ObjectSource::V2x`] for V2X (the object is seen only through
    /// V2X, for example in the truck's blind zone), [`ObjectSource::Camera`] for the runtime's
    /// monocular camera estimates while the lidar is lost. One updated by a sensor detection
    /// keeps that detection's source.
    ///
    /// In [`Tracker::last_detection_indices`], V2X object `j` has index
    /// `detections.len() + j`. V2X objects in another frame, with a non-finite value or a
    /// covariance that is not positive definite count in
    /// [`UpdateReport::v2x_rejected`].
    pub fn update_with_ego_and_v2x(
        &mut self,
        stamp_ns: u64,
        detections: &[Detection3d],
        v2x: &[ObjectMeasurement],
        ego: &EgoState,
        truck_from_sensor: &Isometry3<f64>,
    ) -> Vec<Track> {
        self.step(stamp_ns, detections, v2x, Some((ego.site_from_truck, *truck_from_sensor)))
    }

    /// One frame; `poses` is `(site_from_truck, truck_from_sensor)` with ego motion.
    fn step(
        &mut self,
        stamp_ns: u64,
        detections: &[Detection3d],
        v2x: &[ObjectMeasurement],
        poses: Option<(Isometry3<f64>, Isometry3<f64>)>,
    ) -> Vec<Track> {
        let site_from_sensor =
            poses.map(|(site_from_truck, truck_from_sensor)| site_from_truck * truck_from_sensor);
        self.frame_count += 1;
        let mut report = UpdateReport::default();

        let dt_s = match self.clock_stamp_ns {
            Some(previous) if stamp_ns > previous => (stamp_ns - previous) as f64 * 1e-9,
            Some(_) => {
                report.stamp_not_increasing = true;
                0.0
            }
            None => 0.0,
        };
        self.clock_stamp_ns = Some(self.clock_stamp_ns.map_or(stamp_ns, |previous| previous.max(stamp_ns)));

        let site_mode = site_from_sensor.is_some();
        if self.site_mode.is_some_and(|previous| previous != site_mode) {
            report.deleted += self.tracks.len();
            self.tracks.clear();
        }
        self.site_mode = Some(site_mode);
        self.site_from_sensor = site_from_sensor;

        self.read_detections(detections, site_from_sensor.as_ref(), &mut report);

        for track in &mut self.tracks {
            track.filter.predict(dt_s);
            track.age_frames = track.age_frames.saturating_add(1);
        }
        self.predictions.clear();
        for track in &self.tracks {
            let cholesky = if self.needs_innovation { track.filter.innovation_cholesky() } else { None };
            self.predictions.push(TrackPrediction { oriented_box: track.filter.oriented_box(), cholesky });
        }

        let pairs = self.associate(detections);

        self.last_detections.clear();
        let mut track_updated = vec![false; self.tracks.len()];
        let mut detection_used = vec![false; self.inputs.len()];
        for (row, col) in pairs {
            let (Some(track), Some(input)) = (self.tracks.get_mut(row), self.inputs.get(col)) else {
                continue;
            };
            let Some(detection) = detections.get(input.index) else {
                continue;
            };
            // Only an unusable measurement fails here (validated above): it then counts as a
            // miss for the track and as unmatched for the detection.
            if track.filter.update(&input.measurement).is_err() {
                continue;
            }
            self.last_detections.push((track.track_id, input.index));
            track.hits = track.hits.saturating_add(1);
            track.frames_since_update = 0;
            track.last_score = detection.score;
            track.source = detection.source;
            if vote(track, &detection.class_label) {
                track.class_index = class_index(&self.classes, self.default_class, &track.label);
            }
            let class = &self.classes[track.class_index].1;
            track.confirmed_by_score |= f64::from(detection.score) > class.confirm_score;
            if let Some(flag) = track_updated.get_mut(row) {
                *flag = true;
            }
            if let Some(flag) = detection_used.get_mut(col) {
                *flag = true;
            }
            report.matched += 1;
        }
        for (input, used) in self.inputs.iter().zip(&detection_used) {
            let Some(detection) = detections.get(input.index) else {
                continue;
            };
            let class = &self.classes[input.class_index].1;
            if *used || f64::from(detection.score) < class.birth_score {
                continue;
            }
            let Ok(filter) =
                MotionFilter::new(class.motion_model, &input.measurement, &class.cv, &class.ctrv)
            else {
                continue;
            };
            let confirmed = f64::from(detection.score) > class.confirm_score;
            let mut track = TrackEntry::born(
                self.next_track_id,
                filter,
                self.default_class,
                detection.score,
                detection.source,
                confirmed,
            );
            vote(&mut track, &detection.class_label);
            track.class_index = class_index(&self.classes, self.default_class, &track.label);
            self.last_detections.push((track.track_id, input.index));
            self.tracks.push(track);
            track_updated.push(true);
            self.next_track_id += 1;
            report.born += 1;
        }

        if let (Some((site_from_truck, _)), false) = (poses, v2x.is_empty()) {
            self.fuse_v2x(v2x, detections.len(), &site_from_truck, &mut track_updated, &mut report);
        }

        for (track, updated) in self.tracks.iter_mut().zip(&track_updated) {
            if !updated {
                track.frames_since_update = track.frames_since_update.saturating_add(1);
            }
        }
        let before = self.tracks.len();
        let classes = &self.classes;
        self.tracks.retain(|track| track.frames_since_update <= classes[track.class_index].1.max_age_frames);
        report.deleted += before - self.tracks.len();

        self.last_detections.sort_unstable();
        self.report = report;
        self.publish()
    }

    /// The V2X stage of [`Tracker::update_with_ego_and_v2x`]: gate, associate (Hungarian on
    /// `1 − d²/gate`), update with the message noise, start tracks for the rest.
    /// `track_updated` flags the tracks the sensor detections updated this frame (one per
    /// track); V2X updates and births set it too.
    fn fuse_v2x(
        &mut self,
        v2x: &[ObjectMeasurement],
        index_offset: usize,
        site_from_truck: &Isometry3<f64>,
        track_updated: &mut Vec<bool>,
        report: &mut UpdateReport,
    ) {
        let fusion = self.config.v2x.clone();
        let inputs: Vec<V2xInput> = v2x
            .iter()
            .enumerate()
            .filter_map(|(index, object)| {
                let input = v2x_input(object, index_offset + index, site_from_truck);
                if input.is_none() {
                    report.v2x_rejected += 1;
                }
                input
            })
            .collect();
        let gating = self.config.class_gating;
        let labels_compatible = |track_label: &str, object_label: &str| match gating {
            ClassGating::None => true,
            ClassGating::SameLabel => track_label == object_label,
            ClassGating::UnknownMatchesAny => {
                track_label == object_label || track_label == UNKNOWN_CLASS || object_label == UNKNOWN_CLASS
            }
        };
        let pairs = AssociationMethod::Hungarian.assign(self.tracks.len(), inputs.len(), |row, col| {
            let (track, input) = (self.tracks.get(row)?, inputs.get(col)?);
            if !labels_compatible(&track.label, &input.label) {
                return None;
            }
            let state = track.filter.state();
            let offset = Vector3::new(
                input.measurement[0] - state[0],
                input.measurement[1] - state[1],
                input.measurement[2] - state[2],
            );
            let within_distance = offset.norm() <= fusion.max_distance_m;
            if !within_distance {
                return None;
            }
            let innovation = track.filter.position_covariance() + input.noise.fixed_view::<3, 3>(0, 0);
            let distance_sq = innovation.cholesky()?.solve(&offset).dot(&offset);
            let within_gate = distance_sq <= fusion.gate_chi2;
            within_gate.then(|| 1.0 - distance_sq / fusion.gate_chi2)
        });
        let mut used = vec![false; inputs.len()];
        for (row, col) in pairs {
            let (Some(track), Some(input)) = (self.tracks.get_mut(row), inputs.get(col)) else {
                continue;
            };
            if track.filter.update_with_noise(&input.measurement, &input.noise).is_err() {
                continue;
            }
            used[col] = true;
            report.v2x_matched += 1;
            self.last_detections.push((track.track_id, input.index));
            if let Some(updated) = track_updated.get_mut(row) {
                if !*updated {
                    // Only V2X saw it this frame.
                    track.hits = track.hits.saturating_add(1);
                    track.frames_since_update = 0;
                    track.last_score = input.score;
                    track.source = input.source;
                }
                *updated = true;
            }
            if vote(track, &input.label) {
                track.class_index = class_index(&self.classes, self.default_class, &track.label);
            }
        }
        if !fusion.birth {
            return;
        }
        for (input, used) in inputs.iter().zip(&used) {
            let input_class = class_index(&self.classes, self.default_class, &input.label);
            let class = &self.classes[input_class].1;
            if *used || f64::from(input.score) < class.birth_score {
                continue;
            }
            let Ok(filter) = MotionFilter::new_with_noise(
                class.motion_model,
                &input.measurement,
                &input.noise,
                &class.cv,
                &class.ctrv,
            ) else {
                report.v2x_rejected += 1;
                continue;
            };
            let confirmed = f64::from(input.score) > class.confirm_score;
            let mut track = TrackEntry::born(
                self.next_track_id,
                filter,
                self.default_class,
                input.score,
                input.source,
                confirmed,
            );
            vote(&mut track, &input.label);
            track.class_index = class_index(&self.classes, self.default_class, &track.label);
            self.last_detections.push((track.track_id, input.index));
            self.tracks.push(track);
            track_updated.push(true);
            self.next_track_id += 1;
            report.v2x_born += 1;
        }
    }

    /// Fills `self.inputs` with the valid detections of the tracker's frame, moved into the site
    /// frame when a pose is given.
    fn read_detections(
        &mut self,
        detections: &[Detection3d],
        site_from_sensor: Option<&Isometry3<f64>>,
        report: &mut UpdateReport,
    ) {
        self.inputs.clear();
        for (index, detection) in detections.iter().enumerate() {
            if !is_valid(detection) {
                report.rejected_invalid += 1;
                continue;
            }
            let frame = *self.sensor_frame.get_or_insert(detection.header.frame);
            if detection.header.frame != frame {
                report.rejected_frame += 1;
                continue;
            }
            let mut measurement = measurement_from_detection(detection);
            if let Some(transform) = site_from_sensor {
                measurement = transform_measurement(transform, &measurement);
            }
            let oriented_box = OrientedBox {
                center_m: Point3::new(measurement[0], measurement[1], measurement[2]),
                size_m: Vector3::new(measurement[4], measurement[5], measurement[6]),
                yaw_rad: measurement[3],
            };
            let class_index = class_index(&self.classes, self.default_class, &detection.class_label);
            self.inputs.push(DetectionInput { index, measurement, oriented_box, class_index });
        }
    }

    /// Matched `(track index, input index)` pairs, sorted: per label, then across classes for
    /// unknowns, as [`ClassGating`] says.
    fn associate(&self, detections: &[Detection3d]) -> Vec<(usize, usize)> {
        fn group_key(gating: ClassGating, label: &str) -> &str {
            if gating == ClassGating::None { "" } else { label }
        }
        let label_of = |input: &DetectionInput| {
            detections.get(input.index).map_or(UNKNOWN_CLASS, |d| d.class_label.as_str())
        };
        let gating = self.config.class_gating;
        // Groups in label order: (track indices, input indices); one group without gating.
        let mut groups: BTreeMap<&str, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
        for (index, track) in self.tracks.iter().enumerate() {
            groups.entry(group_key(gating, &track.label)).or_default().0.push(index);
        }
        for (index, input) in self.inputs.iter().enumerate() {
            groups.entry(group_key(gating, label_of(input))).or_default().1.push(index);
        }
        let default_method = self.classes[self.default_class].1.association;
        let mut pairs = Vec::new();
        for (rows, cols) in groups.values() {
            let (Some(&first_col), false) = (cols.first(), rows.is_empty()) else {
                continue;
            };
            let method = match gating {
                ClassGating::None => default_method,
                _ => self
                    .inputs
                    .get(first_col)
                    .map_or(default_method, |input| self.classes[input.class_index].1.association),
            };
            let matched = method.assign(rows.len(), cols.len(), |row, col| {
                self.pair_weight(*rows.get(row)?, *cols.get(col)?)
            });
            pairs.extend(
                matched.into_iter().filter_map(|(row, col)| Some((*rows.get(row)?, *cols.get(col)?))),
            );
        }

        if gating == ClassGating::UnknownMatchesAny {
            let (mut track_used, mut input_used) =
                (vec![false; self.tracks.len()], vec![false; self.inputs.len()]);
            for &(row, col) in &pairs {
                track_used[row] = true;
                input_used[col] = true;
            }
            let rows: Vec<usize> = (0..self.tracks.len()).filter(|&row| !track_used[row]).collect();
            let cols: Vec<usize> = (0..self.inputs.len()).filter(|&col| !input_used[col]).collect();
            if !rows.is_empty() && !cols.is_empty() {
                let matched = default_method.assign(rows.len(), cols.len(), |row, col| {
                    let (row, col) = (*rows.get(row)?, *cols.get(col)?);
                    let track_unknown = self.tracks.get(row)?.label == UNKNOWN_CLASS;
                    let input_unknown = label_of(self.inputs.get(col)?) == UNKNOWN_CLASS;
                    if track_unknown == input_unknown {
                        return None;
                    }
                    self.pair_weight(row, col)
                });
                pairs.extend(
                    matched.into_iter().filter_map(|(row, col)| Some((*rows.get(row)?, *cols.get(col)?))),
                );
            }
        }
        pairs.sort_unstable();
        pairs
    }

    /// Association weight in `(0, 1]` of (track `row`, input `col`), `None` when the pair is
    /// gated out (see [`ClassTrackerConfig`]). Scored with the track's class parameters, or the
    /// detection's for an unclassified track.
    fn pair_weight(&self, row: usize, col: usize) -> Option<f64> {
        let (track, prediction, input) =
            (self.tracks.get(row)?, self.predictions.get(row)?, self.inputs.get(col)?);
        let class_index = if track.label == UNKNOWN_CLASS { input.class_index } else { track.class_index };
        let class = &self.classes.get(class_index)?.1;
        let (predicted, detected) = (&prediction.oriented_box, &input.oriented_box);
        let offset = predicted.center_m - detected.center_m;
        let distance_m = if class.metric == AssociationMetric::DistanceBev {
            offset.x.hypot(offset.y)
        } else {
            offset.norm()
        };
        // Written so that a NaN is never admissible.
        let within_distance = distance_m <= class.max_distance_m;
        if !within_distance {
            return None;
        }
        let gate_sq = class.mahalanobis_gate_sq;
        let mahalanobis = if gate_sq > 0.0 {
            let cholesky = prediction.cholesky.as_ref()?;
            let distance_sq = mahalanobis_sq(track.filter.state(), cholesky, &input.measurement);
            let within_gate = distance_sq <= gate_sq;
            if !within_gate {
                return None;
            }
            distance_sq
        } else {
            0.0
        };
        let similarity = match class.metric {
            AssociationMetric::Distance3d | AssociationMetric::DistanceBev => {
                return Some(1.0 - distance_m / class.max_distance_m);
            }
            AssociationMetric::Mahalanobis => return Some(1.0 - mahalanobis / gate_sq),
            AssociationMetric::Giou3d => box_overlap(predicted, detected).giou_3d(),
            AssociationMetric::Iou3d => box_overlap(predicted, detected).iou_3d(),
            AssociationMetric::GiouBev => box_overlap(predicted, detected).giou_bev(),
            AssociationMetric::IouBev => box_overlap(predicted, detected).iou_bev(),
        };
        let threshold = class.min_similarity;
        let similar_enough = similarity >= threshold;
        if !similar_enough {
            return None;
        }
        Some(if threshold < 1.0 { (similarity - threshold) / (1.0 - threshold) } else { 1.0 })
    }

    /// The tracks to publish this frame, sorted by `track_id`.
    fn publish(&self) -> Vec<Track> {
        let Some(stamp_ns) = self.clock_stamp_ns else {
            return Vec::new();
        };
        // Before any sensor detection (V2X objects only) the sensor frame is unknown: tracks are
        // then published in the site frame whatever `ego_output_frame` says.
        let (frame, sensor_from_site) = match (self.sensor_frame, self.site_from_sensor) {
            (Some(sensor_frame), Some(site_from_sensor)) => match self.config.ego_output_frame {
                EgoOutputFrame::Sensor => (sensor_frame, Some(site_from_sensor.inverse())),
                EgoOutputFrame::Site => (FrameId::Site, None),
            },
            (Some(sensor_frame), None) => (sensor_frame, None),
            (None, Some(_)) => (FrameId::Site, None),
            (None, None) => return Vec::new(),
        };
        let header = Header { stamp_ns, frame, seq: self.frame_count - 1 };
        let mut published: Vec<Track> = self
            .tracks
            .iter()
            .filter_map(|track| {
                let class = &self.classes.get(track.class_index)?.1;
                let start_up = self.frame_count <= u64::from(class.min_hits);
                if !(start_up || track.confirmed_by_score || track.hits >= class.min_hits) {
                    return None;
                }
                let decay = class.score_decay_per_missed_frame as f32;
                let mut published = Track {
                    header,
                    track_id: track.track_id,
                    state: track.filter.track_state(),
                    covariance: track.filter.position_velocity_covariance(),
                    class_label: track.label.clone(),
                    score: track.last_score
                        * decay.powi(i32::try_from(track.frames_since_update).unwrap_or(i32::MAX)),
                    age_frames: track.age_frames,
                    hits: track.hits,
                    frames_since_update: track.frames_since_update,
                    source: track.source,
                };
                if let Some(transform) = &sensor_from_site {
                    transform_track(transform, &mut published);
                }
                Some(published)
            })
            .collect();
        published.sort_by_key(|track| track.track_id);
        published
    }
}

/// Counts a detection's label for a track and refreshes the track's majority label; returns
/// whether the label changed. Unknown labels do not vote.
fn vote(track: &mut TrackEntry, label: &str) -> bool {
    if label == UNKNOWN_CLASS {
        return false;
    }
    match track.class_votes.get_mut(label) {
        Some(count) => *count += 1,
        None => {
            track.class_votes.insert(label.to_owned(), 1);
        }
    }
    // Majority; ties go to the alphabetically first name (the map's order).
    let mut best: Option<(&String, u32)> = None;
    for (candidate, &count) in &track.class_votes {
        if best.is_none_or(|(_, best_count)| count > best_count) {
            best = Some((candidate, count));
        }
    }
    match best {
        Some((winner, _)) if *winner != track.label => {
            track.label = winner.clone();
            true
        }
        _ => false,
    }
}

/// Index of a label's parameters: its own table (case-insensitive) or `default`.
fn class_index(classes: &[(String, ClassTrackerConfig)], default_class: usize, label: &str) -> usize {
    classes.iter().position(|(key, _)| key.eq_ignore_ascii_case(label)).unwrap_or(default_class)
}

/// Whether a detection can enter the filter: finite centre, yaw, size and score, no negative
/// dimension.
fn is_valid(detection: &Detection3d) -> bool {
    let c = &detection.center_m;
    let s = &detection.size_m;
    [c.x, c.y, c.z, detection.yaw_rad, s.x, s.y, s.z].iter().all(|v| v.is_finite())
        && detection.score.is_finite()
        && s.iter().all(|&v| v >= 0.0)
}

/// Heading of the horizontal direction `(cos yaw, sin yaw, 0)` after `rotation`, radians.
fn rotate_yaw(rotation: &Matrix3<f64>, yaw_rad: f64) -> f64 {
    let heading = rotation * Vector3::new(yaw_rad.cos(), yaw_rad.sin(), 0.0);
    heading.y.atan2(heading.x)
}

/// A box measurement `(x, y, z, yaw, l, w, h)` moved by `target_from_source`.
/// A V2X object as the tracker uses it: box in the site frame and its 7×7 noise.
#[derive(Clone, Debug)]
struct V2xInput {
    /// Index in [`Tracker::last_detection_indices`] (offset by the detections' count).
    index: usize,
    measurement: BoxMeasurement,
    noise: MeasurementCovariance,
    label: String,
    score: f32,
    /// The measurement's source (V2X, or the camera's monocular estimate).
    source: ObjectSource,
}

/// One-sigma heading error used when a V2X object has no heading, radians: large enough that
/// the heading carries no weight (the box update's π flip keeps the innovation within ±π/2).
const UNKNOWN_YAW_STD_RAD: f64 = 10.0;

/// Reads a V2X object into the site frame; `None` when it is in another frame, has a
/// non-finite value or a noise that is not positive definite.
fn v2x_input(object: &ObjectMeasurement, index: usize, site_from_truck: &Isometry3<f64>) -> Option<V2xInput> {
    let detection = &object.detection;
    if !is_valid(detection) {
        return None;
    }
    let mut measurement = measurement_from_detection(detection);
    let mut position_covariance = object.position_covariance_m2;
    match detection.header.frame {
        FrameId::Site => {}
        FrameId::Ego => {
            measurement = transform_measurement(site_from_truck, &measurement);
            let rotation = site_from_truck.rotation.to_rotation_matrix();
            position_covariance = rotation.matrix() * position_covariance * rotation.matrix().transpose();
        }
        _ => return None,
    }
    let yaw_std_rad = object.yaw_std_rad.unwrap_or(UNKNOWN_YAW_STD_RAD);
    let mut noise = MeasurementCovariance::zeros();
    noise
        .fixed_view_mut::<3, 3>(0, 0)
        .copy_from(&((position_covariance + position_covariance.transpose()) * 0.5));
    noise[(3, 3)] = yaw_std_rad * yaw_std_rad;
    let size_variance = object.size_std_m * object.size_std_m;
    for index in 4..7 {
        noise[(index, index)] = size_variance;
    }
    let usable = noise.iter().all(|v| v.is_finite()) && noise.cholesky().is_some();
    usable.then(|| V2xInput {
        index,
        measurement,
        noise,
        label: detection.class_label.to_ascii_lowercase(),
        score: detection.score,
        source: detection.source,
    })
}

fn transform_measurement(
    target_from_source: &Isometry3<f64>,
    measurement: &BoxMeasurement,
) -> BoxMeasurement {
    let center = target_from_source * Point3::new(measurement[0], measurement[1], measurement[2]);
    let rotation = target_from_source.rotation.to_rotation_matrix();
    let yaw = crate::kalman::normalize_angle_rad(rotate_yaw(rotation.matrix(), measurement[3]));
    BoxMeasurement::from([center.x, center.y, center.z, yaw, measurement[4], measurement[5], measurement[6]])
}

/// A published track moved by `target_from_source`: centre, velocity, heading and the 6×6
/// covariance (rotated block by block).
fn transform_track(target_from_source: &Isometry3<f64>, track: &mut Track) {
    let rotation = *target_from_source.rotation.to_rotation_matrix().matrix();
    let state = &mut track.state;
    state.center_m = target_from_source * state.center_m;
    state.velocity_mps = rotation * state.velocity_mps;
    state.yaw_rad = crate::kalman::normalize_angle_rad(rotate_yaw(&rotation, state.yaw_rad));
    let mut block = Matrix6::zeros();
    block.fixed_view_mut::<3, 3>(0, 0).copy_from(&rotation);
    block.fixed_view_mut::<3, 3>(3, 3).copy_from(&rotation);
    let covariance = block * track.covariance * block.transpose();
    track.covariance = (covariance + covariance.transpose()) * 0.5;
}
