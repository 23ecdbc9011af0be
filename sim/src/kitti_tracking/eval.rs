//! The KITTI tracking evaluation: CLEAR MOT, sAMOTA / AMOTA / AMOTP and HOTA.
//!
//! Follows AB3DMOT's `scripts/KITTI/evaluate.py` (Weng et al. 2020), itself the KITTI tracking
//! devkit's `evaluate_tracking.py` extended to 3D IoU, as closely as its behaviour can be read:
//!
//! **Loading, per class.** Ground truth and results keep the class's type and its neighbouring
//! type (`Van` for car, `Person_sitting` for pedestrian; see [`TrackingClass`]); ground-truth
//! DontCare lines become DontCare regions; objects with `track_id = −1` that are not DontCare
//! are dropped. Result DontCare lines are dropped too (the devkit would score them as tracker
//! boxes, or reject the file when a frame has two). A `(frame, track_id)` appearing twice among
//! the loaded results is an error ([`EvalError::DuplicateTrackId`]), as in the devkit. A result
//! line without score counts as score −1, as the devkit reads 17-column files.
//!
//! **Per frame** (devkit `compute3rdPartyMetrics`):
//! 1. Hungarian assignment of ground truth to tracker boxes minimising `Σ (1 − IoU)`, pairs with
//!    `1 − IoU > 1 − min_overlap` gated out; IoU is [`iou_3d`] or [`iou_2d`] per [`MatchMode`].
//! 2. A ground-truth object is *ignored* when it is of the neighbouring type, occluded beyond
//!    [`MAX_OCCLUSION`] or truncated beyond [`MAX_TRUNCATION`]: unmatched it is no FN, matched it
//!    is an ignored TP (still counted in TP, recall and MOTP, not in MOTA's denominator).
//! 3. An unmatched tracker box is *ignored* (no FP) when it is of the neighbouring type, its 2D
//!    height is at most [`MIN_HEIGHT_PX`], or more than [`DONT_CARE_OVERLAP`] of its 2D area lies
//!    in one DontCare region. **A tracker must therefore write real 2D boxes** (AB3DMOT projects
//!    its 3D boxes into the image): a zero-height 2D box is never a false positive.
//! 4. `FP = |tracker| − |matched| − |ignored tracker|`, `FN = |unmatched, not ignored GT|`.
//!
//! **Per ground-truth trajectory** (its matched tracker ids over the frames where it appears): ID
//! switches, fragmentations and MT/PT/ML with the devkit's rules (`last_id`, ignored frames reset
//! the history; see `trajectory_statistics`).
//!
//! **CLEAR MOT** (Bernardin & Stiefelhagen 2008, "Evaluating Multiple Object Tracking
//! Performance: The CLEAR MOT Metrics", EURASIP JIVP, eq. 1–2): `MOTA = 1 − (FN + FP + IDS) /
//! GT` over the non-ignored ground truth; `MOTP` = mean IoU of the matches (3D IoU in 3D mode, as
//! AB3DMOT).
//!
//! **sAMOTA / AMOTA / AMOTP** (Weng et al. 2020, "AB3DMOT: A Baseline for 3D Multi-Object
//! Tracking and New Evaluation Metrics", IROS, §IV eq. 3–5): every track's score is its mean
//! over its boxes; a first pass over all tracks collects the scores of the matched boxes; the
//! score thresholds that sample recall at `1/40, 2/40, …` are read off these scores sorted in
//! decreasing order (AB3DMOT's `getThresholds`, [`NUM_SAMPLE_POINTS`] = 41 including recall 0,
//! which is dropped); at each threshold `r`, tracks whose mean score is below it are removed and
//! `sMOTA_r = clip(1 − (FN + FP + IDS − (1 − r)·GT) / (r·GT), 0, 1)`. sAMOTA, AMOTA and AMOTP are
//! the sums of sMOTA, MOTA and MOTP over the thresholds divided by 40 (missing recall points
//! count as 0). The headline CLEAR numbers ([`EvalReport::clear`]) are AB3DMOT's: a last pass at
//! the threshold of best MOTA (all tracks when no threshold beats MOTA 0).
//!
//! Two AB3DMOT behaviours are kept on purpose so that the numbers stay comparable with its
//! published tables: a tracker box once matched in an earlier pass stays "valid" (is never
//! ignored) in later passes, and the per-track mean score is recomputed from the previous
//! pass's means at every pass with a plain left-to-right sum (CPython before 3.12), so a track
//! whose mean equals a threshold may fall just below it.
//!
//! **HOTA** (Luiten et al. 2021, see [`super::hota`]) is computed on all result boxes (no score
//! threshold, as TrackEval) after TrackEval's KITTI preprocessing: ignored ground truth is
//! removed together with the tracker boxes matched to it in the CLEAR assignment above (TrackEval
//! uses a fixed 0.5 similarity there; `min_overlap` is used here so that CLEAR and HOTA drop the
//! same boxes; identical in 2D mode at 0.5), and so are the ignored unmatched tracker boxes.
//!
//! Every frame present in the ground truth or in the results of a sequence is evaluated.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::assignment::max_weight_pairs;
use super::class::TrackingClass;
use super::format::{SequenceSet, TrackingObject};
use super::geometry::{ImageBox, intersection_over_first_2d, iou_2d, iou_3d};
use super::hota::{HotaAccumulator, HotaAtAlpha, HotaFrame, HotaSequence};

/// Largest truncation level of a scored ground-truth object (AB3DMOT's setting; the KITTI
/// devkit's default is 0 as well).
pub const MAX_TRUNCATION: i32 = 0;
/// Largest occlusion level of a scored ground-truth object.
pub const MAX_OCCLUSION: i32 = 2;
/// Unmatched tracker boxes whose 2D height is at most this many pixels are ignored.
pub const MIN_HEIGHT_PX: f64 = 25.0;
/// An unmatched tracker box is ignored when more than this fraction of its 2D area lies in a
/// DontCare region (intersection over the tracker box's area, devkit `boxoverlap(.., "a")`).
pub const DONT_CARE_OVERLAP: f64 = 0.5;
/// AB3DMOT's `num_sample_pts`: recall is sampled at `NUM_SAMPLE_POINTS − 1 = 40` points.
pub const NUM_SAMPLE_POINTS: f64 = 41.0;
/// The "no threshold" score of the first and of a fallback last pass (AB3DMOT's −10000).
const NO_THRESHOLD: f64 = -10000.0;

/// How boxes are compared.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "space", rename_all = "snake_case")]
pub enum MatchMode {
    /// 3D IoU in the camera frame ([`iou_3d`]); AB3DMOT reports 0.25, 0.5 and 0.7.
    Iou3d {
        /// Smallest IoU of a match, in `(0, 1]`.
        min_overlap: f64,
    },
    /// 2D image-box IoU ([`iou_2d`]); the KITTI 2D MOT benchmark uses 0.5.
    Iou2d {
        /// Smallest IoU of a match, in `(0, 1]`.
        min_overlap: f64,
    },
}

impl MatchMode {
    /// The threshold of a match.
    pub fn min_overlap(&self) -> f64 {
        match *self {
            MatchMode::Iou3d { min_overlap } | MatchMode::Iou2d { min_overlap } => min_overlap,
        }
    }

    /// IoU of a ground-truth and a tracker object in this mode.
    pub fn similarity(&self, gt: &TrackingObject, tracker: &TrackingObject) -> f64 {
        match self {
            MatchMode::Iou3d { .. } => iou_3d(&gt.box_3d, &tracker.box_3d),
            MatchMode::Iou2d { .. } => iou_2d(&gt.box_2d, &tracker.box_2d),
        }
    }
}

impl std::fmt::Display for MatchMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MatchMode::Iou3d { min_overlap } => write!(f, "3D IoU >= {min_overlap}"),
            MatchMode::Iou2d { min_overlap } => write!(f, "2D IoU >= {min_overlap}"),
        }
    }
}

/// Why an evaluation could not be run.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// A ground-truth sequence has no results.
    #[error("the results have no sequence `{name}`")]
    MissingSequence {
        /// Sequence name.
        name: String,
    },
    /// A result file repeats a track id within one frame.
    #[error(
        "sequence {sequence}, frame {frame}: track id {track_id} appears more than once in the {class} results"
    )]
    DuplicateTrackId {
        /// Sequence name.
        sequence: String,
        /// Frame index.
        frame: u32,
        /// The repeated id.
        track_id: i64,
        /// Evaluated class.
        class: TrackingClass,
    },
    /// `min_overlap` is not in `(0, 1]`.
    #[error("min_overlap must be in (0, 1], got {value}")]
    InvalidThreshold {
        /// The value given.
        value: f64,
    },
    /// No ground-truth object of the class is left once the ignored ones are removed.
    #[error("no {class} ground truth to evaluate")]
    NoGroundTruth {
        /// Evaluated class.
        class: TrackingClass,
    },
}

/// CLEAR MOT and the devkit's companion counts, for one score threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClearMot {
    /// Tracks whose mean score is below this were removed; `None`: all tracks.
    pub score_threshold: Option<f64>,
    /// `1 − (FN + FP + IDS) / GT`.
    pub mota: f64,
    /// Mean IoU of the matches (ignored ones included, as the devkit), `0` without matches.
    pub motp: f64,
    /// `1 − (FN + FP) / GT`.
    pub moda: f64,
    /// Matches, ignored ground truth included (the devkit's `tp`).
    pub true_positives: u64,
    /// Matches whose ground truth is ignored.
    pub ignored_true_positives: u64,
    /// Tracker boxes neither matched nor ignored.
    pub false_positives: u64,
    /// Non-ignored ground truth left unmatched.
    pub false_negatives: u64,
    /// Ignored ground truth left unmatched.
    pub ignored_false_negatives: u64,
    /// Identity switches.
    pub id_switches: u64,
    /// Fragmentations.
    pub fragmentations: u64,
    /// `TP / (TP + FN)`.
    pub recall: f64,
    /// `TP / (TP + FP)`.
    pub precision: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Fraction of the non-ignored trajectories tracked more than 80 % of their frames.
    pub mostly_tracked: f64,
    /// Fraction tracked 20–80 %.
    pub partly_tracked: f64,
    /// Fraction tracked less than 20 %.
    pub mostly_lost: f64,
    /// Non-ignored ground-truth objects (MOTA's denominator).
    pub gt_objects: u64,
    /// Ignored ground-truth objects.
    pub ignored_gt_objects: u64,
    /// Ground-truth trajectories (ids), neighbouring type included.
    pub gt_trajectories: u64,
    /// Ground-truth trajectories ignored in every frame.
    pub ignored_gt_trajectories: u64,
    /// Tracker boxes kept at this threshold.
    pub tracker_objects: u64,
    /// Tracker boxes ignored (DontCare, neighbouring type, too small).
    pub ignored_tracker_objects: u64,
}

/// One sampled recall point of the sAMOTA curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecallPoint {
    /// Nominal recall `r` (`k/40`).
    pub recall: f64,
    /// Score threshold that reaches it.
    pub score_threshold: f64,
    /// Scaled MOTA, in `[0, 1]`.
    pub smota: f64,
    /// MOTA at this threshold.
    pub mota: f64,
    /// MOTP at this threshold.
    pub motp: f64,
}

/// Result of [`evaluate`]. Fractions in `[0, 1]` (MOTA may be negative), not percentages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Evaluated class.
    pub class: TrackingClass,
    /// Matching criterion.
    pub mode: MatchMode,
    /// Evaluated sequences, sorted.
    pub sequences: Vec<String>,
    /// CLEAR MOT at the score threshold of best MOTA (AB3DMOT's reported numbers).
    pub clear: ClearMot,
    /// CLEAR MOT over all tracks, no score threshold (the KITTI devkit's numbers).
    pub clear_all_tracks: ClearMot,
    /// Scaled AMOTA: mean sMOTA over the 40 recall points (Weng et al. 2020, eq. 5).
    pub samota: f64,
    /// Mean MOTA over the 40 recall points (eq. 3).
    pub amota: f64,
    /// Mean MOTP over the 40 recall points.
    pub amotp: f64,
    /// The sampled recall points, in increasing recall.
    pub recall_points: Vec<RecallPoint>,
    /// HOTA, mean over α (Luiten et al. 2021, eq. 2).
    pub hota: f64,
    /// Detection accuracy, mean over α.
    pub deta: f64,
    /// Association accuracy, mean over α.
    pub assa: f64,
    /// Localisation accuracy, mean over α.
    pub loca: f64,
    /// Detection recall, mean over α.
    pub detre: f64,
    /// Detection precision, mean over α.
    pub detpr: f64,
    /// Association recall, mean over α.
    pub assre: f64,
    /// Association precision, mean over α.
    pub asspr: f64,
    /// HOTA and sub-metrics at each α = 0.05, 0.10, …, 0.95.
    pub hota_per_alpha: Vec<HotaAtAlpha>,
}

/// A ground-truth object of one frame, as the passes need it.
#[derive(Clone, Debug)]
struct GtBox {
    /// Dense index of its trajectory in the sequence.
    trajectory: usize,
    /// Neighbouring type, too occluded or too truncated.
    ignored: bool,
}

/// A tracker box of one frame, as the passes need it.
#[derive(Clone, Debug)]
struct TrackerBox {
    track_id: i64,
    /// Dense index of its track in the sequence.
    track: usize,
    /// Index of the box in the sequence (load order).
    index: usize,
    /// Neighbouring type, too small, or inside a DontCare region: ignored when unmatched.
    ignorable: bool,
}

#[derive(Clone, Debug, Default)]
struct Frame {
    gt: Vec<GtBox>,
    tracker: Vec<TrackerBox>,
    /// IoU, row-major `gt × tracker`.
    similarity: Vec<f64>,
}

#[derive(Clone, Debug, Default)]
struct PreparedSequence {
    frames: Vec<Frame>,
    gt_trajectory_count: usize,
    /// Box indices of every track, in load order.
    track_boxes: Vec<Vec<usize>>,
    /// Score of every box as read (`−1` when absent).
    box_scores: Vec<f64>,
}

/// State AB3DMOT's evaluator carries from one pass to the next (see the module docs).
struct PassState {
    /// Per sequence, per box: the score as last re-averaged.
    box_scores: Vec<Vec<f64>>,
    /// Per sequence, per box: matched in this or an earlier pass.
    valid: Vec<Vec<bool>>,
}

/// Integer counts of one pass.
#[derive(Clone, Debug, Default)]
struct PassCounts {
    tp: u64,
    itp: u64,
    fp: u64,
    fn_: u64,
    ifn: u64,
    ids: u64,
    frag: u64,
    n_gt: u64,
    n_igt: u64,
    n_tr: u64,
    n_itr: u64,
    total_iou: f64,
    mt: u64,
    pt: u64,
    ml: u64,
    gt_trajectories: u64,
    ignored_trajectories: u64,
}

struct PassOutput {
    counts: PassCounts,
    /// Mean scores of the matched tracks, one per match.
    matched_scores: Vec<f64>,
    /// Per sequence, per frame: matched `(gt, tracker)` indices.
    matches: Vec<Vec<Vec<(usize, usize)>>>,
}

/// Evaluates `results` against `gt` for one class.
///
/// Every sequence of `gt` is evaluated (sorted by name); result sequences absent from `gt` are
/// not. See the module docs for the definitions and the conventions followed.
///
/// # Errors
/// [`EvalError::InvalidThreshold`] for a `min_overlap` outside `(0, 1]`,
/// [`EvalError::MissingSequence`] when `results` lacks a sequence of `gt`,
/// [`EvalError::DuplicateTrackId`] when a result frame repeats a track id,
/// [`EvalError::NoGroundTruth`] when no non-ignored ground truth of the class exists.
pub fn evaluate(
    gt: &SequenceSet,
    results: &SequenceSet,
    class: TrackingClass,
    mode: MatchMode,
) -> Result<EvalReport, EvalError> {
    let min_overlap = mode.min_overlap();
    if !(min_overlap > 0.0 && min_overlap <= 1.0) {
        return Err(EvalError::InvalidThreshold { value: min_overlap });
    }
    let mut sequences = Vec::with_capacity(gt.sequences.len());
    for (name, gt_sequence) in &gt.sequences {
        let result_sequence =
            results.sequences.get(name).ok_or_else(|| EvalError::MissingSequence { name: name.clone() })?;
        sequences.push(prepare_sequence(name, gt_sequence, result_sequence, class, mode)?);
    }

    let mut state = PassState {
        box_scores: sequences.iter().map(|s| s.box_scores.clone()).collect(),
        valid: sequences.iter().map(|s| vec![false; s.box_scores.len()]).collect(),
    };

    // First pass: all tracks; its matches feed the thresholds and the HOTA preprocessing.
    let first = run_pass(&sequences, &mut state, min_overlap, NO_THRESHOLD, true);
    if first.counts.n_gt == 0 {
        return Err(EvalError::NoGroundTruth { class });
    }
    let clear_all_tracks = clear_mot(&first.counts, NO_THRESHOLD);

    // Recall sweep (AB3DMOT `evaluate`).
    let num_gt = first.counts.tp + first.counts.fn_;
    let (thresholds, recalls) = recall_thresholds(first.matched_scores, num_gt);
    let mut recall_points = Vec::with_capacity(thresholds.len());
    let (mut best_mota, mut best_threshold) = (0.0, NO_THRESHOLD);
    for (&threshold, &recall) in thresholds.iter().zip(&recalls) {
        let pass = run_pass(&sequences, &mut state, min_overlap, threshold, false);
        let clear = clear_mot(&pass.counts, threshold);
        recall_points.push(RecallPoint {
            recall,
            score_threshold: threshold,
            smota: scaled_mota(&pass.counts, recall),
            mota: clear.mota,
            motp: clear.motp,
        });
        if clear.mota > best_mota {
            best_mota = clear.mota;
            best_threshold = threshold;
        }
    }
    let last = run_pass(&sequences, &mut state, min_overlap, best_threshold, false);
    let clear = clear_mot(&last.counts, best_threshold);

    let points = NUM_SAMPLE_POINTS - 1.0;
    let samota = recall_points.iter().map(|p| p.smota).sum::<f64>() / points;
    let amota = recall_points.iter().map(|p| p.mota).sum::<f64>() / points;
    let amotp = recall_points.iter().map(|p| p.motp).sum::<f64>() / points;

    // HOTA on all tracks, after preprocessing with the first pass's matches.
    let mut accumulator = HotaAccumulator::default();
    for (sequence, matches) in sequences.iter().zip(&first.matches) {
        accumulator.add_sequence(&hota_sequence(sequence, matches));
    }
    let hota_per_alpha = accumulator.finish();
    let mean = |field: fn(&HotaAtAlpha) -> f64| {
        hota_per_alpha.iter().map(field).sum::<f64>() / hota_per_alpha.len() as f64
    };

    Ok(EvalReport {
        class,
        mode,
        sequences: gt.sequences.keys().cloned().collect(),
        clear,
        clear_all_tracks,
        samota,
        amota,
        amotp,
        recall_points,
        hota: mean(|a| a.hota),
        deta: mean(|a| a.deta),
        assa: mean(|a| a.assa),
        loca: mean(|a| a.loca),
        detre: mean(|a| a.detre),
        detpr: mean(|a| a.detpr),
        assre: mean(|a| a.assre),
        asspr: mean(|a| a.asspr),
        hota_per_alpha,
    })
}

/// Whether an object takes part in the evaluation of `class` (its type or the neighbouring one,
/// a real track id).
fn is_loaded(object: &TrackingObject, class: TrackingClass) -> bool {
    object.track_id != -1
        && (class.is_type(&object.object_type) || class.is_neighbor_type(&object.object_type))
}

/// Filters one sequence for `class` and precomputes everything the passes reuse.
fn prepare_sequence(
    name: &str,
    gt: &super::format::Sequence,
    results: &super::format::Sequence,
    class: TrackingClass,
    mode: MatchMode,
) -> Result<PreparedSequence, EvalError> {
    let mut frame_numbers: Vec<u32> = gt.frames.keys().chain(results.frames.keys()).copied().collect();
    frame_numbers.sort_unstable();
    frame_numbers.dedup();

    let mut gt_trajectories: BTreeMap<i64, usize> = BTreeMap::new();
    let mut tracks: BTreeMap<i64, usize> = BTreeMap::new();
    let mut prepared = PreparedSequence::default();
    let empty: Vec<TrackingObject> = Vec::new();
    for frame_number in frame_numbers {
        let gt_objects = gt.frames.get(&frame_number).unwrap_or(&empty);
        let result_objects = results.frames.get(&frame_number).unwrap_or(&empty);
        let dont_care: Vec<&ImageBox> =
            gt_objects.iter().filter(|o| o.is_dont_care()).map(|o| &o.box_2d).collect();
        let gt_kept: Vec<&TrackingObject> =
            gt_objects.iter().filter(|o| !o.is_dont_care() && is_loaded(o, class)).collect();
        let tracker_kept: Vec<&TrackingObject> =
            result_objects.iter().filter(|o| !o.is_dont_care() && is_loaded(o, class)).collect();

        let mut frame = Frame::default();
        for object in &gt_kept {
            let next = gt_trajectories.len();
            let trajectory = *gt_trajectories.entry(object.track_id).or_insert(next);
            let ignored = class.is_neighbor_type(&object.object_type)
                || object.occluded > MAX_OCCLUSION
                || object.truncated > MAX_TRUNCATION;
            frame.gt.push(GtBox { trajectory, ignored });
        }
        let mut ids_in_frame = Vec::with_capacity(tracker_kept.len());
        for object in &tracker_kept {
            if ids_in_frame.contains(&object.track_id) {
                return Err(EvalError::DuplicateTrackId {
                    sequence: name.to_owned(),
                    frame: frame_number,
                    track_id: object.track_id,
                    class,
                });
            }
            ids_in_frame.push(object.track_id);
            let next = tracks.len();
            let track = *tracks.entry(object.track_id).or_insert(next);
            if track == prepared.track_boxes.len() {
                prepared.track_boxes.push(Vec::new());
            }
            let index = prepared.box_scores.len();
            prepared.track_boxes[track].push(index);
            prepared.box_scores.push(object.score.unwrap_or(-1.0));
            let ignorable = class.is_neighbor_type(&object.object_type)
                || object.box_2d.height_px() <= MIN_HEIGHT_PX
                || dont_care
                    .iter()
                    .any(|region| intersection_over_first_2d(&object.box_2d, region) > DONT_CARE_OVERLAP);
            frame.tracker.push(TrackerBox { track_id: object.track_id, track, index, ignorable });
        }
        frame.similarity =
            gt_kept.iter().flat_map(|g| tracker_kept.iter().map(move |t| mode.similarity(g, t))).collect();
        prepared.frames.push(frame);
    }
    prepared.gt_trajectory_count = gt_trajectories.len();
    Ok(prepared)
}

/// One evaluation pass over all sequences at a score threshold (devkit
/// `compute3rdPartyMetrics(threshold)`), updating the carried state.
fn run_pass(
    sequences: &[PreparedSequence],
    state: &mut PassState,
    min_overlap: f64,
    threshold: f64,
    record_matches: bool,
) -> PassOutput {
    // Integer scale of IoU for the Hungarian method (resolution 2^-30 ≈ 1e-9).
    const IOU_SCALE: f64 = (1u64 << 30) as f64;
    let mut counts = PassCounts::default();
    let mut matched_scores = Vec::new();
    let mut matches = Vec::with_capacity(if record_matches { sequences.len() } else { 0 });
    for (s, sequence) in sequences.iter().enumerate() {
        let box_scores = &mut state.box_scores[s];
        let valid = &mut state.valid[s];
        // Mean score per track, recomputed from the current box scores (see module docs).
        let mut alive = vec![true; sequence.track_boxes.len()];
        for (track, boxes) in sequence.track_boxes.iter().enumerate() {
            let sum = boxes.iter().fold(0.0, |sum, &b| sum + box_scores[b]);
            let mean = sum / boxes.len() as f64;
            for &b in boxes {
                box_scores[b] = mean;
            }
            // AB3DMOT deletes a track when `mean < threshold` (scores are finite, never NaN).
            alive[track] = mean >= threshold;
        }

        let mut trajectories: Vec<(Vec<i64>, Vec<bool>)> =
            vec![(Vec::new(), Vec::new()); sequence.gt_trajectory_count];
        let mut sequence_matches = Vec::with_capacity(if record_matches { sequence.frames.len() } else { 0 });
        for frame in &sequence.frames {
            let columns: Vec<usize> =
                (0..frame.tracker.len()).filter(|&c| alive[frame.tracker[c].track]).collect();
            let n_tracker = frame.tracker.len();
            let similarity = |r: usize, c: usize| frame.similarity[r * n_tracker + c];
            let gated_in = |r: usize, c: usize| 1.0 - similarity(r, c) <= 1.0 - min_overlap;
            let big = (frame.gt.len().min(columns.len()) as i64 + 1) << 30;
            let pairs: Vec<(usize, usize)> = max_weight_pairs(frame.gt.len(), columns.len(), |r, k| {
                let c = columns[k];
                if gated_in(r, c) { big + (similarity(r, c) * IOU_SCALE).round() as i64 } else { 0 }
            })
            .into_iter()
            .map(|(r, k)| (r, columns[k]))
            .collect();

            let mut matched_tracker = vec![None; frame.gt.len()];
            for &(r, c) in &pairs {
                let tracker_box = &frame.tracker[c];
                counts.tp += 1;
                counts.total_iou += 1.0 - (1.0 - similarity(r, c));
                matched_scores.push(box_scores[tracker_box.index]);
                valid[tracker_box.index] = true;
                matched_tracker[r] = Some(tracker_box.track_id);
            }
            let ignored_trackers = columns
                .iter()
                .filter(|&&c| frame.tracker[c].ignorable && !valid[frame.tracker[c].index])
                .count() as u64;
            let (mut ignored_fn, mut ignored_tp) = (0u64, 0u64);
            for (gt_box, matched) in frame.gt.iter().zip(&matched_tracker) {
                match (gt_box.ignored, matched) {
                    (true, Some(_)) => ignored_tp += 1,
                    (true, None) => ignored_fn += 1,
                    (false, _) => {}
                }
                let (ids, ignored) = &mut trajectories[gt_box.trajectory];
                ids.push(matched.unwrap_or(-1));
                ignored.push(gt_box.ignored);
            }
            let n_gt = frame.gt.len() as u64;
            let n_matched = pairs.len() as u64;
            counts.itp += ignored_tp;
            counts.n_gt += n_gt - ignored_fn - ignored_tp;
            counts.n_igt += ignored_fn + ignored_tp;
            counts.fn_ += n_gt - n_matched - ignored_fn;
            counts.ifn += ignored_fn;
            // A matched tracker box is valid, so never ignored: the devkit's "ignored pairs" is 0.
            counts.fp += columns.len() as u64 - n_matched - ignored_trackers;
            counts.n_tr += columns.len() as u64;
            counts.n_itr += ignored_trackers;
            if record_matches {
                sequence_matches.push(pairs);
            }
        }
        for (ids, ignored) in &trajectories {
            trajectory_statistics(ids, ignored, &mut counts);
        }
        counts.gt_trajectories += sequence.gt_trajectory_count as u64;
        if record_matches {
            matches.push(sequence_matches);
        }
    }
    PassOutput { counts, matched_scores, matches }
}

/// ID switches, fragmentations and MT/PT/ML of one ground-truth trajectory, literally as the
/// devkit: `ids[f]` is the tracker id matched in the trajectory's `f`-th frame (−1: none),
/// `ignored[f]` whether that frame's object is ignored.
///
/// - an ignored frame resets `last_id` to −1 and is skipped;
/// - ID switch at `f`: `last_id ≠ ids[f]`, `last_id ≠ −1`, `ids[f] ≠ −1`, `ids[f−1] ≠ −1`;
/// - fragmentation at `f < n−1`: `ids[f−1] ≠ ids[f]`, `last_id ≠ −1`, `ids[f] ≠ −1`,
///   `ids[f+1] ≠ −1`; at the last frame: `ids[f−1] ≠ ids[f]`, `last_id ≠ −1`, `ids[f] ≠ −1`, not
///   ignored;
/// - tracked ratio = tracked frames / non-ignored frames: MT > 0.8, ML < 0.2, else PT; a
///   trajectory never matched is ML; one ignored in every frame is left out.
fn trajectory_statistics(ids: &[i64], ignored: &[bool], counts: &mut PassCounts) {
    let Some(&first) = ids.first() else { return };
    if ignored.iter().all(|&i| i) {
        counts.ignored_trajectories += 1;
        return;
    }
    if ids.iter().all(|&id| id == -1) {
        counts.ml += 1;
        return;
    }
    let n = ids.len();
    let mut last_id = first;
    let mut tracked = u64::from(first >= 0);
    for f in 1..n {
        if ignored[f] {
            last_id = -1;
            continue;
        }
        if last_id != ids[f] && last_id != -1 && ids[f] != -1 && ids[f - 1] != -1 {
            counts.ids += 1;
        }
        if f < n - 1 && ids[f - 1] != ids[f] && last_id != -1 && ids[f] != -1 && ids[f + 1] != -1 {
            counts.frag += 1;
        }
        if ids[f] != -1 {
            tracked += 1;
            last_id = ids[f];
        }
    }
    if n > 1 {
        let f = n - 1;
        if ids[f - 1] != ids[f] && last_id != -1 && ids[f] != -1 && !ignored[f] {
            counts.frag += 1;
        }
    }
    let ratio = tracked as f64 / (n - ignored.iter().filter(|&&i| i).count()) as f64;
    if ratio > 0.8 {
        counts.mt += 1;
    } else if ratio < 0.2 {
        counts.ml += 1;
    } else {
        counts.pt += 1;
    }
}

/// The CLEAR MOT summary of a pass (devkit formulas).
fn clear_mot(counts: &PassCounts, threshold: f64) -> ClearMot {
    let (tp, fp, fn_) = (counts.tp as f64, counts.fp as f64, counts.fn_ as f64);
    let n_gt = counts.n_gt as f64;
    let (recall, precision) = if counts.fp + counts.tp == 0 || counts.tp + counts.fn_ == 0 {
        (0.0, 0.0)
    } else {
        (tp / (tp + fn_), tp / (fp + tp))
    };
    let f1 = if recall + precision == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    let scored_trajectories = counts.gt_trajectories.saturating_sub(counts.ignored_trajectories) as f64;
    let fraction = |n: u64| if scored_trajectories > 0.0 { n as f64 / scored_trajectories } else { 0.0 };
    ClearMot {
        score_threshold: (threshold != NO_THRESHOLD).then_some(threshold),
        mota: 1.0 - (fn_ + fp + counts.ids as f64) / n_gt,
        motp: if counts.tp == 0 { 0.0 } else { counts.total_iou / tp },
        moda: 1.0 - (fn_ + fp) / n_gt,
        true_positives: counts.tp,
        ignored_true_positives: counts.itp,
        false_positives: counts.fp,
        false_negatives: counts.fn_,
        ignored_false_negatives: counts.ifn,
        id_switches: counts.ids,
        fragmentations: counts.frag,
        recall,
        precision,
        f1,
        mostly_tracked: fraction(counts.mt),
        partly_tracked: fraction(counts.pt),
        mostly_lost: fraction(counts.ml),
        gt_objects: counts.n_gt,
        ignored_gt_objects: counts.n_igt,
        gt_trajectories: counts.gt_trajectories,
        ignored_gt_trajectories: counts.ignored_trajectories,
        tracker_objects: counts.n_tr,
        ignored_tracker_objects: counts.n_itr,
    }
}

/// sMOTA at nominal recall `recall` (Weng et al. 2020, eq. 4), clipped to `[0, 1]`.
fn scaled_mota(counts: &PassCounts, recall: f64) -> f64 {
    let n_gt = counts.n_gt as f64;
    let errors = (counts.fn_ + counts.fp + counts.ids) as f64;
    (1.0 - (errors - (1.0 - recall) * n_gt) / (recall * n_gt)).clamp(0.0, 1.0)
}

/// AB3DMOT's `getThresholds`: from the matched scores sorted in decreasing order, the score at
/// which each sampled recall `k/40` is first reached (the midpoint of the recall before and
/// after the score is at least `k/40`; the last score is always taken). The recall-0 point is
/// dropped. Returns `(thresholds, recalls)`.
fn recall_thresholds(mut scores: Vec<f64>, num_gt: u64) -> (Vec<f64>, Vec<f64>) {
    scores.sort_by(|a, b| b.total_cmp(a));
    let num_gt = num_gt as f64;
    let step = 1.0 / (NUM_SAMPLE_POINTS - 1.0);
    let mut current_recall = 0.0;
    let (mut thresholds, mut recalls) = (Vec::new(), Vec::new());
    let last = scores.len().saturating_sub(1);
    for (i, &score) in scores.iter().enumerate() {
        let left_recall = (i + 1) as f64 / num_gt;
        let right_recall = if i < last { (i + 2) as f64 / num_gt } else { left_recall };
        if (right_recall - current_recall) < (current_recall - left_recall) && i < last {
            continue;
        }
        thresholds.push(score);
        recalls.push(current_recall);
        current_recall += step;
    }
    if thresholds.is_empty() {
        return (thresholds, recalls);
    }
    (thresholds.split_off(1), recalls.split_off(1))
}

/// The HOTA input of one sequence: ignored ground truth removed with the tracker boxes matched to
/// it, and ignorable unmatched tracker boxes removed (TrackEval's KITTI preprocessing).
fn hota_sequence(sequence: &PreparedSequence, matches: &[Vec<(usize, usize)>]) -> HotaSequence {
    let mut frames = Vec::with_capacity(sequence.frames.len());
    for (frame, pairs) in sequence.frames.iter().zip(matches) {
        let mut tracker_matched_to = vec![None; frame.tracker.len()];
        for &(r, c) in pairs {
            tracker_matched_to[c] = Some(r);
        }
        let gt_keep: Vec<usize> = (0..frame.gt.len()).filter(|&r| !frame.gt[r].ignored).collect();
        let tracker_keep: Vec<usize> = (0..frame.tracker.len())
            .filter(|&c| match tracker_matched_to[c] {
                Some(r) => !frame.gt[r].ignored,
                None => !frame.tracker[c].ignorable,
            })
            .collect();
        let n_tracker = frame.tracker.len();
        frames.push(HotaFrame {
            gt_ids: gt_keep.iter().map(|&r| frame.gt[r].trajectory).collect(),
            tracker_ids: tracker_keep.iter().map(|&c| frame.tracker[c].track).collect(),
            similarity: gt_keep
                .iter()
                .flat_map(|&r| tracker_keep.iter().map(move |&c| frame.similarity[r * n_tracker + c]))
                .collect(),
        });
    }
    HotaSequence {
        frames,
        gt_id_count: sequence.gt_trajectory_count,
        tracker_id_count: sequence.track_boxes.len(),
    }
}

impl std::fmt::Display for EvalReport {
    /// A human-readable table in AB3DMOT's layout (values in percent where it prints them so).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.clear;
        let pct = |x: f64| 100.0 * x;
        writeln!(
            f,
            "KITTI tracking evaluation: {}, {}, {} sequences",
            self.class,
            self.mode,
            self.sequences.len()
        )?;
        writeln!(
            f,
            "{:>8} {:>8} {:>8} | {:>8} {:>8} {:>5} {:>5} {:>6} {:>6} {:>6}",
            "sAMOTA", "AMOTA", "AMOTP", "MOTA", "MOTP", "IDS", "FRAG", "FP", "FN", "TP"
        )?;
        writeln!(
            f,
            "{:>8.2} {:>8.2} {:>8.2} | {:>8.2} {:>8.2} {:>5} {:>5} {:>6} {:>6} {:>6}",
            pct(self.samota),
            pct(self.amota),
            pct(self.amotp),
            pct(c.mota),
            pct(c.motp),
            c.id_switches,
            c.fragmentations,
            c.false_positives,
            c.false_negatives,
            c.true_positives
        )?;
        writeln!(
            f,
            "{:>8} {:>8} {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} {:>8}",
            "Recall", "Prec", "MT", "PT", "ML", "HOTA", "DetA", "AssA", "LocA"
        )?;
        writeln!(
            f,
            "{:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} | {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            pct(c.recall),
            pct(c.precision),
            pct(c.mostly_tracked),
            pct(c.partly_tracked),
            pct(c.mostly_lost),
            pct(self.hota),
            pct(self.deta),
            pct(self.assa),
            pct(self.loca)
        )?;
        let threshold = c.score_threshold.map_or_else(|| "none".to_owned(), |t| format!("{t:.4}"));
        writeln!(
            f,
            "CLEAR at best-MOTA score threshold {threshold}; all tracks: MOTA {:.2}, IDS {}, FP {}, FN {}",
            pct(self.clear_all_tracks.mota),
            self.clear_all_tracks.id_switches,
            self.clear_all_tracks.false_positives,
            self.clear_all_tracks.false_negatives
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts() -> PassCounts {
        PassCounts::default()
    }

    #[test]
    fn trajectory_rules() {
        // A, A, B, B: one switch at f = 2; fragmentation at f = 2 (ids[1] ≠ ids[2], next tracked).
        let mut c = counts();
        trajectory_statistics(&[1, 1, 2, 2], &[false; 4], &mut c);
        assert_eq!((c.ids, c.frag, c.mt), (1, 1, 1));
        // A, −, A: no switch; the gap counts one fragmentation at the last frame.
        let mut c = counts();
        trajectory_statistics(&[1, -1, 1], &[false; 3], &mut c);
        assert_eq!((c.ids, c.frag), (0, 1));
        // A, −, B: no switch (the previous frame is untracked), one fragmentation.
        let mut c = counts();
        trajectory_statistics(&[1, -1, 2], &[false; 3], &mut c);
        assert_eq!((c.ids, c.frag), (0, 1));
        // A, B with the first frame ignored: the history is not reset by frame 0, switch counted.
        let mut c = counts();
        trajectory_statistics(&[1, 2], &[true, false], &mut c);
        assert_eq!(c.ids, 1);
        // A, ignored, B: the ignored frame resets last_id: no switch; the last-frame rule still
        // sees ids[1] ≠ ids[2] and counts a fragmentation (devkit behaviour).
        let mut c = counts();
        trajectory_statistics(&[1, 1, 2], &[false, true, false], &mut c);
        assert_eq!((c.ids, c.frag), (0, 1));
    }

    #[test]
    fn thresholds_for_full_recall() {
        // 80 matches, all of GT: one threshold per 1/40 of recall -> 40 points, recall 1/40 .. 1.
        let scores: Vec<f64> = (0..80).map(|i| f64::from(i) / 80.0).collect();
        let (thresholds, recalls) = recall_thresholds(scores, 80);
        assert_eq!(thresholds.len(), 40);
        assert!((recalls[0] - 0.025).abs() < 1e-12);
        assert!((recalls[39] - 1.0).abs() < 1e-12);
        // Recall 1/40 is reached at the 2nd score (midpoint (2/80 + 3/80)/2 >= 0.025? no: at
        // i = 1, l = 2/80, r = 3/80 -> r − c = 0.0125 ≥ c − l = 0 -> taken): 79/80.
        assert_eq!(thresholds[0], 78.0 / 80.0);
        assert_eq!(thresholds[39], 0.0);
    }
}
