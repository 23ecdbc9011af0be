//! HOTA (Luiten et al. 2021, "HOTA: A Higher Order Metric for Evaluating Multi-Object
//! Tracking", IJCV 129), computed as TrackEval's `metrics/hota.py` does.
//!
//! For each localisation threshold α ∈ {0.05, 0.10, …, 0.95} (paper §5, eq. 1–9):
//!
//! - matching per frame (paper §6 "Matching"): Hungarian assignment maximising
//!   `A_global(g, t) · S(g, t)`, where `S` is the similarity (here IoU) and `A_global` the
//!   Jaccard alignment of the two identities over the whole sequence, with the potential match
//!   counts weighted by `S / (Σ_row S + Σ_col S − S)` (TrackEval's `sim_iou`); a pair counts at α
//!   when `S ≥ α`;
//! - `DetA_α = |TP| / (|TP| + |FN| + |FP|)` (eq. 5), `DetRe`, `DetPr` likewise;
//! - `AssA_α = (1/|TP|) Σ_{c∈TP} A(c)`, `A(c) = |TPA| / (|TPA| + |FNA| + |FPA|)` (eq. 7–8),
//!   `AssRe`, `AssPr` likewise (eq. 10–11);
//! - `LocA_α` = mean similarity of the TPs (eq. 12);
//! - `HOTA_α = √(DetA_α · AssA_α)` (eq. 9); the reported values are the means over the 19 α
//!   (eq. 2).
//!
//! Sequences are combined as TrackEval's `combine_sequences`: TP/FN/FP summed, AssA/AssRe/AssPr
//! and LocA averaged with the sequences' TP counts as weights.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::assignment::max_weight_pairs;

/// Number of localisation thresholds α.
pub const HOTA_ALPHA_COUNT: usize = 19;

/// The α of index `index`: `0.05 + 0.05·index`, as `numpy.arange(0.05, 0.99, 0.05)`.
pub fn hota_alpha(index: usize) -> f64 {
    0.05 + index as f64 * 0.05
}

/// Scale of the HOTA matching score `A · S ∈ [0, 1]` to integers for the Hungarian method.
const SCORE_SCALE: f64 = (1u64 << 40) as f64;

/// One frame after preprocessing: dense identity indices and the similarity matrix.
#[derive(Clone, Debug, Default)]
pub(crate) struct HotaFrame {
    /// Ground-truth identity (dense, per sequence) of each kept ground-truth object.
    pub gt_ids: Vec<usize>,
    /// Tracker identity (dense, per sequence) of each kept tracker object.
    pub tracker_ids: Vec<usize>,
    /// Similarity `S`, row-major `gt_ids.len() × tracker_ids.len()`.
    pub similarity: Vec<f64>,
}

/// One sequence: frames in order and the identity counts.
#[derive(Clone, Debug, Default)]
pub(crate) struct HotaSequence {
    /// Frames in time order.
    pub frames: Vec<HotaFrame>,
    /// Number of dense ground-truth identities.
    pub gt_id_count: usize,
    /// Number of dense tracker identities.
    pub tracker_id_count: usize,
}

/// HOTA and its sub-metrics at one α.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HotaAtAlpha {
    /// Localisation threshold α.
    pub alpha: f64,
    /// `√(DetA · AssA)`.
    pub hota: f64,
    /// Detection accuracy.
    pub deta: f64,
    /// Association accuracy.
    pub assa: f64,
    /// Detection recall.
    pub detre: f64,
    /// Detection precision.
    pub detpr: f64,
    /// Association recall.
    pub assre: f64,
    /// Association precision.
    pub asspr: f64,
    /// Localisation accuracy (mean similarity of the TPs).
    pub loca: f64,
    /// True positives.
    pub true_positives: u64,
    /// False negatives.
    pub false_negatives: u64,
    /// False positives.
    pub false_positives: u64,
}

/// Sums over sequences, per α.
#[derive(Clone, Debug)]
pub(crate) struct HotaAccumulator {
    tp: [u64; HOTA_ALPHA_COUNT],
    fn_: [u64; HOTA_ALPHA_COUNT],
    fp: [u64; HOTA_ALPHA_COUNT],
    /// Σ over sequences of `AssA_seq · TP_seq` (and likewise below).
    assa_weighted: [f64; HOTA_ALPHA_COUNT],
    assre_weighted: [f64; HOTA_ALPHA_COUNT],
    asspr_weighted: [f64; HOTA_ALPHA_COUNT],
    loca_weighted: [f64; HOTA_ALPHA_COUNT],
}

impl Default for HotaAccumulator {
    fn default() -> Self {
        Self {
            tp: [0; HOTA_ALPHA_COUNT],
            fn_: [0; HOTA_ALPHA_COUNT],
            fp: [0; HOTA_ALPHA_COUNT],
            assa_weighted: [0.0; HOTA_ALPHA_COUNT],
            assre_weighted: [0.0; HOTA_ALPHA_COUNT],
            asspr_weighted: [0.0; HOTA_ALPHA_COUNT],
            loca_weighted: [0.0; HOTA_ALPHA_COUNT],
        }
    }
}

impl HotaAccumulator {
    /// Evaluates one sequence and adds it.
    pub fn add_sequence(&mut self, sequence: &HotaSequence) {
        let eps = f64::EPSILON;
        let mut gt_count = vec![0.0_f64; sequence.gt_id_count];
        let mut tracker_count = vec![0.0_f64; sequence.tracker_id_count];
        let mut potential: BTreeMap<(usize, usize), f64> = BTreeMap::new();

        // First pass: identity sizes and similarity-weighted potential matches.
        for frame in &sequence.frames {
            let (rows, cols) = (frame.gt_ids.len(), frame.tracker_ids.len());
            for &g in &frame.gt_ids {
                gt_count[g] += 1.0;
            }
            for &t in &frame.tracker_ids {
                tracker_count[t] += 1.0;
            }
            if rows == 0 || cols == 0 {
                continue;
            }
            let at = |r: usize, c: usize| frame.similarity[r * cols + c];
            let row_sums: Vec<f64> = (0..rows).map(|r| (0..cols).map(|c| at(r, c)).sum()).collect();
            let col_sums: Vec<f64> = (0..cols).map(|c| (0..rows).map(|r| at(r, c)).sum()).collect();
            for (r, (&g, &row_sum)) in frame.gt_ids.iter().zip(&row_sums).enumerate() {
                for (c, (&t, &col_sum)) in frame.tracker_ids.iter().zip(&col_sums).enumerate() {
                    let s = at(r, c);
                    let denominator = col_sum + row_sum - s;
                    if s > 0.0 && denominator > eps {
                        *potential.entry((g, t)).or_insert(0.0) += s / denominator;
                    }
                }
            }
        }
        let global_alignment = |g: usize, t: usize| -> f64 {
            potential.get(&(g, t)).map_or(0.0, |&p| p / (gt_count[g] + tracker_count[t] - p))
        };

        // Second pass: per-frame matching and the detection counts per α.
        let mut tp = [0u64; HOTA_ALPHA_COUNT];
        let mut fn_ = [0u64; HOTA_ALPHA_COUNT];
        let mut fp = [0u64; HOTA_ALPHA_COUNT];
        let mut loca_sum = [0.0_f64; HOTA_ALPHA_COUNT];
        let mut matches_count: Vec<BTreeMap<(usize, usize), f64>> = vec![BTreeMap::new(); HOTA_ALPHA_COUNT];
        for frame in &sequence.frames {
            let (rows, cols) = (frame.gt_ids.len(), frame.tracker_ids.len());
            if rows == 0 || cols == 0 {
                for a in 0..HOTA_ALPHA_COUNT {
                    fn_[a] += rows as u64;
                    fp[a] += cols as u64;
                }
                continue;
            }
            let at = |r: usize, c: usize| frame.similarity[r * cols + c];
            let pairs = max_weight_pairs(rows, cols, |r, c| {
                let score = global_alignment(frame.gt_ids[r], frame.tracker_ids[c]) * at(r, c);
                if score > 0.0 { ((score * SCORE_SCALE).round() as i64).max(1) } else { 0 }
            });
            for a in 0..HOTA_ALPHA_COUNT {
                let alpha = hota_alpha(a);
                let mut matched = 0u64;
                for &(r, c) in &pairs {
                    let s = at(r, c);
                    if s >= alpha - eps {
                        matched += 1;
                        loca_sum[a] += s;
                        *matches_count[a].entry((frame.gt_ids[r], frame.tracker_ids[c])).or_insert(0.0) +=
                            1.0;
                    }
                }
                tp[a] += matched;
                fn_[a] += rows as u64 - matched;
                fp[a] += cols as u64 - matched;
            }
        }

        // Association scores per α, then weighted into the accumulator.
        for a in 0..HOTA_ALPHA_COUNT {
            let (mut assa, mut assre, mut asspr) = (0.0, 0.0, 0.0);
            for (&(g, t), &count) in &matches_count[a] {
                assa += count * (count / (gt_count[g] + tracker_count[t] - count).max(1.0));
                assre += count * (count / gt_count[g].max(1.0));
                asspr += count * (count / tracker_count[t].max(1.0));
            }
            let tp_a = tp[a] as f64;
            let weight = tp_a.max(1.0);
            let loca = loca_sum[a].max(1e-10) / tp_a.max(1e-10);
            self.assa_weighted[a] += assa / weight * tp_a;
            self.assre_weighted[a] += assre / weight * tp_a;
            self.asspr_weighted[a] += asspr / weight * tp_a;
            self.loca_weighted[a] += loca * tp_a;
            self.tp[a] += tp[a];
            self.fn_[a] += fn_[a];
            self.fp[a] += fp[a];
        }
    }

    /// The combined metrics at every α.
    pub fn finish(&self) -> Vec<HotaAtAlpha> {
        (0..HOTA_ALPHA_COUNT)
            .map(|a| {
                let (tp, fn_, fp) = (self.tp[a] as f64, self.fn_[a] as f64, self.fp[a] as f64);
                let deta = tp / (tp + fn_ + fp).max(1.0);
                let assa = self.assa_weighted[a] / tp.max(1.0);
                HotaAtAlpha {
                    alpha: hota_alpha(a),
                    hota: (deta * assa).sqrt(),
                    deta,
                    assa,
                    detre: tp / (tp + fn_).max(1.0),
                    detpr: tp / (tp + fp).max(1.0),
                    assre: self.assre_weighted[a] / tp.max(1.0),
                    asspr: self.asspr_weighted[a] / tp.max(1.0),
                    loca: self.loca_weighted[a].max(1e-10) / tp.max(1e-10),
                    true_positives: self.tp[a],
                    false_negatives: self.fn_[a],
                    false_positives: self.fp[a],
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(gt_ids: &[usize], tracker_ids: &[usize], similarity: &[f64]) -> HotaFrame {
        HotaFrame {
            gt_ids: gt_ids.to_vec(),
            tracker_ids: tracker_ids.to_vec(),
            similarity: similarity.to_vec(),
        }
    }

    #[test]
    fn one_object_tracked_by_two_ids() {
        // GT id 0 over 4 frames, all with S = 1; tracker id 0 on frames 0–1, id 1 on frames 2–3.
        // Every α: TP 4, FN 0, FP 0 -> DetA 1. Each TP's association: TPA 2, FNA 2, FPA 0
        // -> A = 2/4 = 0.5 -> AssA 0.5, HOTA = √0.5.
        let sequence = HotaSequence {
            frames: vec![
                frame(&[0], &[0], &[1.0]),
                frame(&[0], &[0], &[1.0]),
                frame(&[0], &[1], &[1.0]),
                frame(&[0], &[1], &[1.0]),
            ],
            gt_id_count: 1,
            tracker_id_count: 2,
        };
        let mut accumulator = HotaAccumulator::default();
        accumulator.add_sequence(&sequence);
        for at_alpha in accumulator.finish() {
            assert_eq!(at_alpha.deta, 1.0);
            assert!((at_alpha.assa - 0.5).abs() < 1e-15);
            assert!((at_alpha.hota - 0.5f64.sqrt()).abs() < 1e-15);
            assert!((at_alpha.assre - 0.5).abs() < 1e-15);
            assert_eq!(at_alpha.asspr, 1.0);
        }
    }

    #[test]
    fn similarity_below_alpha_is_not_a_match() {
        // One frame, S = 0.5: a TP for α ≤ 0.5 (10 thresholds), else an FN and an FP.
        let sequence =
            HotaSequence { frames: vec![frame(&[0], &[0], &[0.5])], gt_id_count: 1, tracker_id_count: 1 };
        let mut accumulator = HotaAccumulator::default();
        accumulator.add_sequence(&sequence);
        let per_alpha = accumulator.finish();
        let tps: u64 = per_alpha.iter().map(|a| a.true_positives).sum();
        assert_eq!(tps, 10);
        assert_eq!(per_alpha[10].deta, 0.0);
        assert_eq!(per_alpha[9].loca, 0.5);
    }
}
