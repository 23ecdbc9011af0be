//! Scoring a run against the ground truth, and the gates.
//!
//! Per frame, every published track (site frame) is matched one-to-one with the actors' true
//! boxes by the Hungarian method ([`crate::kitti_tracking`]'s solver) on the x-y distance from
//! the track's centre to the actor's footprint (0 inside it), gated at [`MATCH_GATE_M`]; ties
//! go to the track whose nearest point is nearest the actor's. The
//! footprint rather than the centre, because a lidar sees a 15 m haul truck's near faces and
//! its box sits there. An actor is **visible** in a frame when the lidars returned at least
//! `cluster_min_points` points from it (the fewest the pipeline can make an object of); its
//! **range** is the x-y distance from the first lidar to the nearest point of its footprint.
//!
//! - **Recall** per class and range bin: visible actor-frames matched / visible actor-frames.
//! - **Precision** per range bin (of the track's nearest point): matched tracks / (matched +
//!   false). An unmatched track within the gate of an actor is a *fragment* (one actor seen as
//!   two clusters) and an unmatched track off the drivable surface (berms, walls) is *roadside*;
//!   neither counts. Every other unmatched track is **false** (dust ghosts, noise).
//! - **Position error**: x-y distance between the track box's nearest point and the true
//!   footprint's nearest point (what a planner brakes for), mean and 95th percentile.
//! - **Time to first detection** per actor: first matched frame − first visible frame, s.
//! - **Identity switches**: a matched actor's track id changing. **Lost frames**: frames in
//!   which an actor already detected and visible was not matched.
//! - **False tracks**: distinct ids of tracks that were ever false; per km of the ego's path.

use std::collections::{BTreeMap, BTreeSet};

use pitsense_types::Track;
use serde::{Deserialize, Serialize};

use super::ScenarioError;
use super::file::{GateFile, ScenarioSource};
use super::world::{Actor, ActorBox, ActorKind, Terrain};
use crate::kitti_tracking::max_weight_pairs;

/// Largest x-y distance from a track's centre to an actor's footprint for a match, m.
pub const MATCH_GATE_M: f64 = 2.0;

/// A range bin of the metrics, by the x-y distance from the lidar to the object's nearest point.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum RangeBin {
    /// 0–30 m.
    #[serde(rename = "0-30")]
    Near,
    /// 30–60 m.
    #[serde(rename = "30-60")]
    Mid,
    /// 60–100 m.
    #[serde(rename = "60-100")]
    Far,
    /// 100–150 m.
    #[serde(rename = "100-150")]
    VeryFar,
}

impl RangeBin {
    /// Every bin, near to far.
    pub const ALL: [Self; 4] = [Self::Near, Self::Mid, Self::Far, Self::VeryFar];

    /// The bin of a range, `None` beyond 150 m.
    pub fn of(range_m: f64) -> Option<Self> {
        match range_m {
            r if r < 30.0 => Some(Self::Near),
            r if r < 60.0 => Some(Self::Mid),
            r if r < 100.0 => Some(Self::Far),
            r if r <= 150.0 => Some(Self::VeryFar),
            _ => None,
        }
    }

    /// `0-30`, `30-60`, `60-100`, `100-150`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Near => "0-30",
            Self::Mid => "30-60",
            Self::Far => "60-100",
            Self::VeryFar => "100-150",
        }
    }
}

/// A metric a gate can bound (see the module documentation).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Detection recall (class and range bin optional).
    Recall,
    /// Detection precision (range bin optional).
    Precision,
    /// Mean position error, m (class optional).
    PositionErrorMeanM,
    /// 95th-percentile position error, m (class optional).
    PositionErrorP95M,
    /// Time to first detection, s: of one actor, or the worst of a class or of all.
    TimeToFirstDetectionS,
    /// Range at the first detection, m: of one actor, or the shortest of a class or of all
    /// (an actor never detected gives no value, which fails the gate).
    FirstDetectionRangeM,
    /// Identity switches (actor or class optional).
    IdSwitches,
    /// Frames an already detected, visible actor was not matched (actor or class optional).
    LostFrames,
    /// Distinct false tracks.
    FalseTracks,
    /// Distinct false tracks per km of the ego's path.
    FalseTracksPerKm,
}

impl Metric {
    /// The name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Recall => "recall",
            Self::Precision => "precision",
            Self::PositionErrorMeanM => "position_error_mean_m",
            Self::PositionErrorP95M => "position_error_p95_m",
            Self::TimeToFirstDetectionS => "time_to_first_detection_s",
            Self::FirstDetectionRangeM => "first_detection_range_m",
            Self::IdSwitches => "id_switches",
            Self::LostFrames => "lost_frames",
            Self::FalseTracks => "false_tracks",
            Self::FalseTracksPerKm => "false_tracks_per_km",
        }
    }
}

/// A threshold on one metric (`[[gates]]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Gate {
    /// The metric.
    pub metric: Metric,
    /// One class only.
    pub class: Option<ActorKind>,
    /// One actor only.
    pub actor: Option<String>,
    /// One range bin only.
    pub range: Option<RangeBin>,
    /// Lowest passing value.
    pub min: Option<f64>,
    /// Highest passing value.
    pub max: Option<f64>,
}

impl Gate {
    /// Validates a `[[gates]]` entry (index `index`) against the scenario's actors.
    ///
    /// # Errors
    /// [`ScenarioError::Invalid`] for a gate without bounds, an unknown actor, or a filter the
    /// metric does not take.
    pub fn from_file(
        file: &toml::Spanned<GateFile>,
        index: usize,
        actors: &[Actor],
        source: &ScenarioSource,
    ) -> Result<Self, ScenarioError> {
        let gate = file.get_ref();
        let key = format!("gates[{index}]");
        let invalid = |reason: String| source.invalid(file.span(), key.clone(), reason);
        if gate.min.is_none() && gate.max.is_none() {
            return Err(invalid("needs `min` or `max`".into()));
        }
        if gate.min.into_iter().chain(gate.max).any(|bound| !bound.is_finite()) {
            return Err(invalid("`min` and `max` must be finite".into()));
        }
        if let (Some(min), Some(max)) = (gate.min, gate.max)
            && min > max
        {
            return Err(invalid(format!("`min` {min} is above `max` {max}")));
        }
        if let Some(class) = gate.class
            && !actors.iter().any(|a| a.kind == class && gate.actor.as_ref().is_none_or(|id| &a.id == id))
        {
            return Err(invalid(format!(
                "`class = \"{}\"` matches no actor of the scenario (with its `actor`)",
                class.name()
            )));
        }
        if let Some(actor) = &gate.actor
            && !actors.iter().any(|a| &a.id == actor)
        {
            return Err(invalid(format!("names actor `{actor}`, which the scenario does not have")));
        }
        let takes = match gate.metric {
            Metric::Recall => (true, false, true),
            Metric::Precision => (false, false, true),
            Metric::PositionErrorMeanM | Metric::PositionErrorP95M => (true, false, false),
            Metric::TimeToFirstDetectionS
            | Metric::FirstDetectionRangeM
            | Metric::IdSwitches
            | Metric::LostFrames => (true, true, false),
            Metric::FalseTracks | Metric::FalseTracksPerKm => (false, false, false),
        };
        for (given, allowed, what) in [
            (gate.class.is_some(), takes.0, "class"),
            (gate.actor.is_some(), takes.1, "actor"),
            (gate.range.is_some(), takes.2, "range"),
        ] {
            if given && !allowed {
                return Err(invalid(format!("`{}` takes no `{what}`", gate.metric.name())));
            }
        }
        Ok(Self {
            metric: gate.metric,
            class: gate.class,
            actor: gate.actor.clone(),
            range: gate.range,
            min: gate.min,
            max: gate.max,
        })
    }

    /// `recall[person, 0-30] >= 0.9`, for reports.
    pub fn describe(&self) -> String {
        let mut filters = Vec::new();
        if let Some(class) = self.class {
            filters.push(class.name().to_owned());
        }
        if let Some(actor) = &self.actor {
            filters.push(actor.clone());
        }
        if let Some(range) = self.range {
            filters.push(format!("{} m", range.name()));
        }
        let mut text = self.metric.name().to_owned();
        if !filters.is_empty() {
            text.push_str(&format!("[{}]", filters.join(", ")));
        }
        match (self.min, self.max) {
            (Some(min), Some(max)) => format!("{min} <= {text} <= {max}"),
            (Some(min), None) => format!("{text} >= {min}"),
            (None, Some(max)) => format!("{text} <= {max}"),
            (None, None) => text,
        }
    }
}

/// The outcome of one gate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GateResult {
    /// The gate, described.
    pub gate: String,
    /// The measured value; `None` when the run gave no data for it (which fails the gate).
    pub value: Option<f64>,
    /// Whether the gate held.
    pub passed: bool,
}

/// Counts of one class in one range bin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct BinCounts {
    /// Visible actor-frames.
    pub visible: u64,
    /// Of those, matched by a track.
    pub matched: u64,
}

impl BinCounts {
    fn recall(self) -> Option<f64> {
        (self.visible > 0).then(|| self.matched as f64 / self.visible as f64)
    }
}

/// Per-actor running state.
#[derive(Clone, Debug, Default)]
struct ActorState {
    first_visible_s: Option<f64>,
    first_matched_s: Option<f64>,
    first_matched_range_m: Option<f64>,
    last_track_id: Option<u64>,
    id_switches: u64,
    lost_frames: u64,
}

/// Per-actor results.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActorMetrics {
    /// Kind.
    pub class: ActorKind,
    /// First time the actor was visible, s.
    pub first_visible_s: Option<f64>,
    /// Time to first detection, s; `None` when never visible; infinite when visible but never
    /// detected (serialised as `null` by JSON, reported as `never`).
    pub time_to_first_detection_s: Option<f64>,
    /// Range of the actor's nearest point at its first detection, m; `None` when never detected.
    pub first_detection_range_m: Option<f64>,
    /// Identity switches.
    pub id_switches: u64,
    /// Lost frames.
    pub lost_frames: u64,
}

/// Everything a run measured (the JSON report's `metrics`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunMetrics {
    /// Frames scored.
    pub frames: u64,
    /// Length of the ego's path, m.
    pub ego_distance_m: f64,
    /// Per class, per range bin: visible and matched actor-frames.
    pub counts: BTreeMap<ActorKind, BTreeMap<RangeBin, BinCounts>>,
    /// Per class, position errors of matched actor-frames, m (sorted).
    #[serde(skip)]
    pub position_errors_m: BTreeMap<ActorKind, Vec<f64>>,
    /// Per range bin of the track: matched tracks.
    pub true_positives: BTreeMap<RangeBin, u64>,
    /// Per range bin of the track: false track-frames.
    pub false_positives: BTreeMap<RangeBin, u64>,
    /// Unmatched tracks next to an actor (fragments), track-frames.
    pub fragment_frames: u64,
    /// Unmatched tracks off the drivable surface (berms, walls), track-frames.
    pub roadside_frames: u64,
    /// Distinct false track ids.
    pub false_track_ids: BTreeSet<u64>,
    /// Per actor id.
    pub actors: BTreeMap<String, ActorMetrics>,
    /// Soft (dust) returns over the run.
    pub dust_returns: u64,
    /// Hard returns lost to dust attenuation over the run.
    pub dust_extinguished: u64,
}

/// One actor's truth in one frame.
#[derive(Clone, Copy, Debug)]
pub struct Truth {
    /// The box.
    pub actor_box: ActorBox,
    /// Lidar returns from it in this frame.
    pub returns: usize,
}

/// Accumulates the metrics frame by frame.
#[derive(Clone, Debug)]
pub struct Scorer {
    kinds: Vec<ActorKind>,
    ids: Vec<String>,
    min_returns: usize,
    states: Vec<ActorState>,
    metrics: RunMetrics,
    last_ego_xy: Option<[f64; 2]>,
}

fn nearest_point_of_track(track: &Track, from: [f64; 2]) -> [f64; 2] {
    let state = &track.state;
    let (c, s) = (state.yaw_rad.cos(), state.yaw_rad.sin());
    let (dx, dy) = (from[0] - state.center_m.x, from[1] - state.center_m.y);
    let along = (dx * c + dy * s).clamp(-state.size_m.x * 0.5, state.size_m.x * 0.5);
    let across = (-dx * s + dy * c).clamp(-state.size_m.y * 0.5, state.size_m.y * 0.5);
    [state.center_m.x + along * c - across * s, state.center_m.y + along * s + across * c]
}

fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

impl Scorer {
    /// A scorer for `actors`; an actor is visible with `min_returns` lidar returns or more.
    pub fn new(actors: &[Actor], min_returns: usize) -> Self {
        let mut metrics = RunMetrics::default();
        for actor in actors {
            let bins = metrics.counts.entry(actor.kind).or_default();
            for bin in RangeBin::ALL {
                bins.entry(bin).or_default();
            }
        }
        Self {
            kinds: actors.iter().map(|a| a.kind).collect(),
            ids: actors.iter().map(|a| a.id.clone()).collect(),
            min_returns: min_returns.max(1),
            states: vec![ActorState::default(); actors.len()],
            metrics,
            last_ego_xy: None,
        }
    }

    /// Scores one frame at scenario time `t_s`: `truth` per actor (index order), the published
    /// `tracks` (site frame), the first lidar's position `lidar_xy_m` and the ego's `ego_xy_m`.
    pub fn frame(
        &mut self,
        t_s: f64,
        truth: &[Truth],
        tracks: &[Track],
        lidar_xy_m: [f64; 2],
        ego_xy_m: [f64; 2],
        terrain: &Terrain,
    ) {
        let metrics = &mut self.metrics;
        metrics.frames += 1;
        if let Some(last) = self.last_ego_xy {
            metrics.ego_distance_m += distance(last, ego_xy_m);
        }
        self.last_ego_xy = Some(ego_xy_m);
        let centre = |track: &Track| [track.state.center_m.x, track.state.center_m.y];
        // Nearest footprint first; among tracks as near (several inside one haul truck's
        // footprint), the one whose nearest point is nearest the actor's.
        let weight = |g: usize, k: usize| {
            let actor_box = &truth[g].actor_box;
            let gap = actor_box.footprint_distance_m(centre(&tracks[k]));
            if gap > MATCH_GATE_M {
                return 0;
            }
            let offset = distance(
                nearest_point_of_track(&tracks[k], lidar_xy_m),
                actor_box.footprint_nearest_m(lidar_xy_m),
            );
            ((MATCH_GATE_M - gap) * 1000.0).round() as i64 * 1000
                + (999.0 - (offset * 10.0).min(999.0)).round() as i64
                + 1
        };
        let pairs = max_weight_pairs(truth.len(), tracks.len(), weight);
        let mut track_of = vec![None; truth.len()];
        let mut matched_track = vec![false; tracks.len()];
        for &(g, k) in &pairs {
            track_of[g] = Some(k);
            matched_track[k] = true;
        }
        for (g, item) in truth.iter().enumerate() {
            let kind = self.kinds[g];
            let state = &mut self.states[g];
            let nearest = item.actor_box.footprint_nearest_m(lidar_xy_m);
            let range_m = distance(nearest, lidar_xy_m);
            // Visible: enough returns, and within the scored 150 m (the pipeline's range).
            let visible = item.returns >= self.min_returns && RangeBin::of(range_m).is_some();
            if visible && state.first_visible_s.is_none() {
                state.first_visible_s = Some(t_s);
            }
            if let Some(k) = track_of[g] {
                let track = &tracks[k];
                if state.first_matched_s.is_none() {
                    state.first_matched_s = Some(t_s);
                    state.first_matched_range_m = Some(range_m);
                }
                if state.last_track_id.is_some_and(|id| id != track.track_id) {
                    state.id_switches += 1;
                }
                state.last_track_id = Some(track.track_id);
                if visible {
                    let error = distance(nearest_point_of_track(track, lidar_xy_m), nearest);
                    metrics.position_errors_m.entry(kind).or_default().push(error);
                }
            } else if visible && state.first_matched_s.is_some() {
                state.lost_frames += 1;
            }
            if visible && let Some(bin) = RangeBin::of(range_m) {
                let counts = metrics.counts.entry(kind).or_default().entry(bin).or_default();
                counts.visible += 1;
                counts.matched += u64::from(track_of[g].is_some());
            }
        }
        for (k, track) in tracks.iter().enumerate() {
            let range_m = distance(nearest_point_of_track(track, lidar_xy_m), lidar_xy_m);
            let bin = RangeBin::of(range_m);
            if matched_track[k] {
                if let Some(bin) = bin {
                    *metrics.true_positives.entry(bin).or_default() += 1;
                }
            } else if truth
                .iter()
                .any(|item| item.actor_box.footprint_distance_m(centre(track)) <= MATCH_GATE_M)
            {
                metrics.fragment_frames += 1;
            } else if !terrain.is_drivable(centre(track)) {
                metrics.roadside_frames += 1;
            } else {
                metrics.false_track_ids.insert(track.track_id);
                if let Some(bin) = bin {
                    *metrics.false_positives.entry(bin).or_default() += 1;
                }
            }
        }
    }

    /// Adds a rotation's dust counters.
    pub fn dust(&mut self, returns: usize, extinguished: usize) {
        self.metrics.dust_returns += returns as u64;
        self.metrics.dust_extinguished += extinguished as u64;
    }

    /// The metrics of the whole run.
    pub fn finish(mut self) -> RunMetrics {
        for errors in self.metrics.position_errors_m.values_mut() {
            errors.sort_by(f64::total_cmp);
        }
        for (g, state) in self.states.iter().enumerate() {
            let ttfd = state.first_visible_s.map(|visible| match state.first_matched_s {
                Some(matched) => (matched - visible).max(0.0),
                None => f64::INFINITY,
            });
            self.metrics.actors.insert(
                self.ids[g].clone(),
                ActorMetrics {
                    class: self.kinds[g],
                    first_visible_s: state.first_visible_s,
                    time_to_first_detection_s: ttfd,
                    first_detection_range_m: state.first_matched_range_m,
                    id_switches: state.id_switches,
                    lost_frames: state.lost_frames,
                },
            );
        }
        self.metrics
    }
}

/// A metric value for reports: `no data`, `never` (infinite: visible, never detected) or the
/// value with `decimals` decimals.
pub fn value_text(value: Option<f64>, decimals: usize) -> String {
    match value {
        None => "no data".to_owned(),
        Some(v) if v.is_infinite() => "never".to_owned(),
        Some(v) => format!("{v:.decimals$}"),
    }
}

fn percentile(sorted: &[f64], fraction: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    // Nearest-rank percentile.
    let rank = ((fraction * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

impl RunMetrics {
    /// Recall of one class (or all) in one range bin (or all); `None` without visible frames.
    pub fn recall(&self, class: Option<ActorKind>, range: Option<RangeBin>) -> Option<f64> {
        let mut total = BinCounts::default();
        for (kind, bins) in &self.counts {
            if class.is_some_and(|c| c != *kind) {
                continue;
            }
            for (bin, counts) in bins {
                if range.is_none_or(|r| r == *bin) {
                    total.visible += counts.visible;
                    total.matched += counts.matched;
                }
            }
        }
        total.recall()
    }

    /// Precision in one range bin (or all); `None` without tracks.
    pub fn precision(&self, range: Option<RangeBin>) -> Option<f64> {
        let sum = |map: &BTreeMap<RangeBin, u64>| -> u64 {
            map.iter().filter(|(bin, _)| range.is_none_or(|r| r == **bin)).map(|(_, n)| n).sum()
        };
        let (tp, fp) = (sum(&self.true_positives), sum(&self.false_positives));
        (tp + fp > 0).then(|| tp as f64 / (tp + fp) as f64)
    }

    fn errors(&self, class: Option<ActorKind>) -> Vec<f64> {
        let mut all: Vec<f64> = self
            .position_errors_m
            .iter()
            .filter(|(kind, _)| class.is_none_or(|c| c == **kind))
            .flat_map(|(_, errors)| errors.iter().copied())
            .collect();
        all.sort_by(f64::total_cmp);
        all
    }

    fn actors_of<'a>(&'a self, gate: &'a Gate) -> impl Iterator<Item = &'a ActorMetrics> + 'a {
        self.actors.iter().filter_map(move |(id, actor)| {
            let wanted =
                gate.actor.as_ref().is_none_or(|a| a == id) && gate.class.is_none_or(|c| c == actor.class);
            wanted.then_some(actor)
        })
    }

    /// The value a gate bounds; `None` when the run gave no data for it.
    pub fn value(&self, gate: &Gate) -> Option<f64> {
        match gate.metric {
            Metric::Recall => self.recall(gate.class, gate.range),
            Metric::Precision => self.precision(gate.range),
            Metric::PositionErrorMeanM => {
                let errors = self.errors(gate.class);
                (!errors.is_empty()).then(|| errors.iter().sum::<f64>() / errors.len() as f64)
            }
            Metric::PositionErrorP95M => percentile(&self.errors(gate.class), 0.95),
            Metric::TimeToFirstDetectionS => {
                self.actors_of(gate).filter_map(|a| a.time_to_first_detection_s).reduce(f64::max)
            }
            Metric::FirstDetectionRangeM => {
                let ranges: Vec<Option<f64>> =
                    self.actors_of(gate).map(|a| a.first_detection_range_m).collect();
                if ranges.iter().any(Option::is_none) {
                    None
                } else {
                    ranges.into_iter().flatten().reduce(f64::min)
                }
            }
            Metric::IdSwitches => self.actors_of(gate).map(|a| a.id_switches as f64).reduce(|a, b| a + b),
            Metric::LostFrames => self.actors_of(gate).map(|a| a.lost_frames as f64).reduce(|a, b| a + b),
            Metric::FalseTracks => Some(self.false_track_ids.len() as f64),
            Metric::FalseTracksPerKm => (self.ego_distance_m >= 10.0)
                .then(|| self.false_track_ids.len() as f64 / (self.ego_distance_m / 1000.0)),
        }
    }

    /// Every gate's outcome.
    pub fn check(&self, gates: &[Gate]) -> Vec<GateResult> {
        gates
            .iter()
            .map(|gate| {
                let value = self.value(gate);
                let passed = value.is_some_and(|v| {
                    !v.is_nan() && gate.min.is_none_or(|min| v >= min) && gate.max.is_none_or(|max| v <= max)
                });
                GateResult { gate: gate.describe(), value, passed }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{Point3, UnitQuaternion, Vector3};
    use pitsense_types::{FrameId, Header, ObjectSource, TrackState};

    use super::*;
    use crate::scenario::world::Trajectory;

    fn actor(id: &str, kind: ActorKind) -> Actor {
        Actor {
            id: id.into(),
            kind,
            size_m: [2.0, 1.0, 1.0],
            reflectivity: 0.5,
            trajectory: Trajectory::new(vec![[0.0, 0.0]], 0.0, 0.0, 0.0),
        }
    }

    fn truth(x: f64, returns: usize) -> Truth {
        Truth {
            actor_box: ActorBox {
                actor: 0,
                center_m: Point3::new(x, 0.0, 0.5),
                rotation: UnitQuaternion::identity(),
                yaw_rad: 0.0,
                half_m: Vector3::new(1.0, 0.5, 0.5),
                reflectivity: 0.5,
                speed_mps: 0.0,
            },
            returns,
        }
    }

    fn track(id: u64, x: f64, y: f64) -> Track {
        Track {
            header: Header { stamp_ns: 0, frame: FrameId::Site, seq: 0 },
            track_id: id,
            state: TrackState {
                center_m: Point3::new(x, y, 0.5),
                velocity_mps: Vector3::zeros(),
                yaw_rad: 0.0,
                size_m: Vector3::new(2.0, 1.0, 1.0),
            },
            covariance: nalgebra::Matrix6::identity(),
            class_label: "unknown".into(),
            score: 1.0,
            age_frames: 1,
            hits: 1,
            frames_since_update: 0,
            source: ObjectSource::Lidar,
        }
    }

    fn flat() -> Terrain {
        let text = "min_m = [-100.0, -100.0]\nmax_m = [100.0, 100.0]\ncell_size_m = 2.0\n\
                    [[pads]]\nname = 'all'\ncenter_m = [0.0, 0.0]\nsize_m = [200.0, 200.0]\nheight_m = 0.0\n";
        crate::scenario::world::tests_support::terrain(text)
    }

    #[test]
    fn recall_precision_switches_and_ttfd_by_hand() {
        let terrain = flat();
        let mut scorer = Scorer::new(&[actor("a", ActorKind::Person)], 5);
        // Frame 0: visible at 40 m (nearest point 39 m), not detected; a false track at 20 m.
        scorer.frame(0.0, &[truth(40.0, 10)], &[track(1, 20.0, 30.0)], [0.0, 0.0], [0.0, 0.0], &terrain);
        // Frame 1: detected by track 2 (0.5 m off the near face), the false track persists.
        scorer.frame(
            0.1,
            &[truth(40.0, 10)],
            &[track(1, 20.0, 30.0), track(2, 38.5, 0.0)],
            [0.0, 0.0],
            [1.0, 0.0],
            &terrain,
        );
        // Frame 2: detected by track 3: an identity switch.
        scorer.frame(0.2, &[truth(40.0, 10)], &[track(3, 40.0, 0.0)], [0.0, 0.0], [2.0, 0.0], &terrain);
        // Frame 3: visible, missed: a lost frame.
        scorer.frame(0.3, &[truth(40.0, 10)], &[], [0.0, 0.0], [3.0, 0.0], &terrain);
        let metrics = scorer.finish();
        // 4 visible frames in 30-60 m, 2 matched.
        assert_eq!(metrics.recall(Some(ActorKind::Person), Some(RangeBin::Mid)), Some(0.5));
        assert_eq!(metrics.recall(None, Some(RangeBin::Near)), None);
        // Tracks: 2 matched (bin 30-60), 2 false frames (track 1 at 36 m → 30-60).
        assert_eq!(metrics.precision(Some(RangeBin::Mid)), Some(0.5));
        assert_eq!(metrics.false_track_ids.len(), 1);
        let a = &metrics.actors["a"];
        assert_eq!(a.id_switches, 1);
        assert_eq!(a.lost_frames, 1);
        assert!((a.time_to_first_detection_s.unwrap_or(f64::NAN) - 0.1).abs() < 1e-12);
        // Position errors: track 2's nearest point (37.5, 0) vs the true 39 → 1.5; track 3 exact.
        assert_eq!(metrics.position_errors_m[&ActorKind::Person], vec![0.0, 1.5]);
        let gate = Gate {
            metric: Metric::Recall,
            class: Some(ActorKind::Person),
            actor: None,
            range: None,
            min: Some(0.9),
            max: None,
        };
        let results = metrics.check(&[gate]);
        assert!(!results[0].passed);
        assert_eq!(results[0].value, Some(0.5));
        assert_eq!(results[0].gate, "recall[person] >= 0.9");
    }
}
