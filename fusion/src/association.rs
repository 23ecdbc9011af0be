//! Gated one-to-one assignment (the association seam of fusion and tracking): optimal
//! (Hungarian) or greedy, and the tracker's choice of similarity metric.
//!
//! Both camera-lidar fusion (IoU) and the tracker (gated centre distance) reduce association to
//! the same problem: given a weight `w(r, c) ∈ (0, 1]` for every admissible pair (row `r`,
//! column `c`) and no edge for the others, find the one-to-one matching of maximum total weight.
//! It is solved exactly with the Hungarian method (Kuhn 1955, Munkres 1957) as implemented by
//! [`pathfinding::kuhn_munkres`], which needs integer weights: each weight is scaled by
//! [`WEIGHT_SCALE`] and rounded, deterministically.
//!
//! Maximising `Σ (1 − d / gate)` over matched pairs is the standard gated minimum-cost
//! assignment with a cost of `gate / 2` for leaving a row or column unmatched: it never prefers
//! leaving a pair unmatched to matching it inside the gate.

use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;
use serde::{Deserialize, Serialize};

/// How detections are assigned to tracks (TOML `association = "hungarian"` or `"greedy"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssociationMethod {
    /// Maximum total weight: [`assign_max_weight`] (Kuhn 1955, Munkres 1957).
    Hungarian,
    /// Best pair first: [`assign_greedy`] (AB3DMOT's choice for pedestrians).
    Greedy,
}

impl AssociationMethod {
    /// Runs this method on a gated weight table; see [`assign_max_weight`] for the contract.
    pub fn assign(
        self,
        rows: usize,
        cols: usize,
        weight: impl Fn(usize, usize) -> Option<f64>,
    ) -> Vec<(usize, usize)> {
        match self {
            Self::Hungarian => assign_max_weight(rows, cols, weight),
            Self::Greedy => assign_greedy(rows, cols, weight),
        }
    }
}

/// The similarity a tracker scores a (predicted track, detection) pair with (TOML `metric`).
///
/// The overlap metrics are those of AB3DMOT (Weng et al., IROS 2020, `dist_metrics.py`), computed
/// exactly by [`crate::geometry`]; a pair matches when the value is at least the class's
/// `min_similarity`. The distance metrics match within `max_distance_m`; `mahalanobis` matches
/// when the squared Mahalanobis distance of the detection from the predicted box (7 degrees of
/// freedom, [`crate::kalman::mahalanobis_sq`]) is within `mahalanobis_gate_sq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssociationMetric {
    /// Oriented 3D GIoU, in `[−1, 1]`.
    #[serde(rename = "giou_3d")]
    Giou3d,
    /// Oriented 3D IoU, in `[0, 1]`.
    #[serde(rename = "iou_3d")]
    Iou3d,
    /// Bird's-eye-view GIoU of the footprints, in `[−1, 1]`.
    #[serde(rename = "giou_bev")]
    GiouBev,
    /// Bird's-eye-view IoU of the footprints, in `[0, 1]`.
    #[serde(rename = "iou_bev")]
    IouBev,
    /// Euclidean distance between the centres, metres (AB3DMOT's `dist_3d`).
    #[serde(rename = "distance_3d")]
    Distance3d,
    /// Bird's-eye-view (x-y) distance between the centres, metres.
    #[serde(rename = "distance_bev")]
    DistanceBev,
    /// Squared Mahalanobis distance of the detection's box under the predicted innovation
    /// covariance (AB3DMOT's `m_dis`).
    #[serde(rename = "mahalanobis")]
    Mahalanobis,
}

impl AssociationMetric {
    /// Whether the metric is an overlap (IoU or GIoU) matched against `min_similarity`.
    pub fn is_overlap(self) -> bool {
        matches!(self, Self::Giou3d | Self::Iou3d | Self::GiouBev | Self::IouBev)
    }
}

/// Integer scale applied to weights in `(0, 1]` before the Hungarian method: a resolution of
/// 1e-9, and with at most a few thousand rows the totals stay far from `i64` overflow.
pub const WEIGHT_SCALE: f64 = 1e9;

/// Maximum-weight one-to-one assignment between `rows` and `cols` items.
///
/// `weight(r, c)` returns `Some(w)` for an admissible pair, `w` in `(0, 1]` (values outside are
/// clamped; a non-finite `w` makes the pair inadmissible), and `None` for a pair outside the gate.
/// Returns the matched `(row, col)` pairs, admissible only, sorted by row. Every admissible pair
/// weighs at least one integer unit, so a matching never trades an admissible pair for nothing.
///
/// Deterministic: the same weights always give the same pairs (ties are broken by the fixed
/// iteration order of the Hungarian method). Cost `O(n³)` with `n = max(rows, cols)`.
pub fn assign_max_weight(
    rows: usize,
    cols: usize,
    weight: impl Fn(usize, usize) -> Option<f64>,
) -> Vec<(usize, usize)> {
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    let scaled = |row: usize, col: usize| -> Option<i64> {
        let w = weight(row, col).filter(|w| w.is_finite())?;
        // Saturating float-to-int cast; the clamp keeps it in 1..=WEIGHT_SCALE.
        Some(((w.clamp(0.0, 1.0) * WEIGHT_SCALE).round() as i64).max(1))
    };
    // kuhn_munkres needs rows <= columns: solve the transposed problem when there are more rows.
    let transposed = rows > cols;
    let (n_small, n_large) = if transposed { (cols, rows) } else { (rows, cols) };
    let matrix = Matrix::from_fn(n_small, n_large, |(small, large)| {
        let admissible = if transposed { scaled(large, small) } else { scaled(small, large) };
        admissible.unwrap_or(0)
    });
    let (_total, assignment) = kuhn_munkres(&matrix);
    let mut pairs: Vec<(usize, usize)> = assignment
        .into_iter()
        .enumerate()
        .map(|(small, large)| if transposed { (large, small) } else { (small, large) })
        .filter(|&(row, col)| scaled(row, col).is_some())
        .collect();
    pairs.sort_unstable();
    pairs
}

/// Greedy one-to-one assignment: repeatedly takes the admissible pair of largest weight whose
/// row and column are both free (ties broken by the smaller row, then the smaller column).
///
/// Same contract as [`assign_max_weight`] (`weight` in `(0, 1]` for admissible pairs, `None` or
/// non-finite for gated ones; result sorted by row); deterministic. Cost `O(k log k)` for `k`
/// admissible pairs. This is AB3DMOT's `greedy_matching` with gating applied first.
pub fn assign_greedy(
    rows: usize,
    cols: usize,
    weight: impl Fn(usize, usize) -> Option<f64>,
) -> Vec<(usize, usize)> {
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    for row in 0..rows {
        for col in 0..cols {
            if let Some(w) = weight(row, col).filter(|w| w.is_finite()) {
                candidates.push((w.clamp(0.0, 1.0), row, col));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let (mut row_used, mut col_used) = (vec![false; rows], vec![false; cols]);
    let mut pairs = Vec::new();
    for (_, row, col) in candidates {
        let (Some(row_flag), Some(col_flag)) = (row_used.get(row), col_used.get(col)) else {
            continue;
        };
        if *row_flag || *col_flag {
            continue;
        }
        if let Some(flag) = row_used.get_mut(row) {
            *flag = true;
        }
        if let Some(flag) = col_used.get_mut(col) {
            *flag = true;
        }
        pairs.push((row, col));
    }
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.
mod tests {
    use super::*;

    fn from_table(table: &[&[Option<f64>]]) -> impl Fn(usize, usize) -> Option<f64> {
        move |r, c| table[r][c]
    }

    #[test]
    fn hungarian_beats_greedy() {
        // Greedy takes (0,0)=0.9 then (1,1)=0.1, total 1.0; the optimum is 0.8 + 0.8 = 1.6.
        let table: &[&[Option<f64>]] = &[&[Some(0.9), Some(0.8)], &[Some(0.8), Some(0.1)]];
        assert_eq!(assign_max_weight(2, 2, from_table(table)), vec![(0, 1), (1, 0)]);
    }

    #[test]
    fn greedy_takes_the_best_pair_first() {
        // Same table as above: greedy keeps (0,0) = 0.9 and then (1,1) = 0.1.
        let table: &[&[Option<f64>]] = &[&[Some(0.9), Some(0.8)], &[Some(0.8), Some(0.1)]];
        assert_eq!(assign_greedy(2, 2, from_table(table)), vec![(0, 0), (1, 1)]);
        assert_eq!(AssociationMethod::Greedy.assign(2, 2, from_table(table)), vec![(0, 0), (1, 1)]);
        assert_eq!(AssociationMethod::Hungarian.assign(2, 2, from_table(table)), vec![(0, 1), (1, 0)]);
        // Gated and non-finite pairs are never taken; ties go to the smaller row.
        let gated: &[&[Option<f64>]] =
            &[&[None, Some(0.5)], &[Some(0.5), Some(f64::NAN)], &[Some(0.5), None]];
        assert_eq!(assign_greedy(3, 2, from_table(gated)), vec![(0, 1), (1, 0)]);
        assert!(assign_greedy(0, 3, |_, _| Some(1.0)).is_empty());
    }

    #[test]
    fn gated_pairs_are_never_returned() {
        let table: &[&[Option<f64>]] = &[&[None, None], &[Some(0.5), None]];
        assert_eq!(assign_max_weight(2, 2, from_table(table)), vec![(1, 0)]);
        let nan: &[&[Option<f64>]] = &[&[Some(f64::NAN)]];
        assert!(assign_max_weight(1, 1, from_table(nan)).is_empty());
    }

    #[test]
    fn more_rows_than_columns_is_transposed() {
        let table: &[&[Option<f64>]] = &[&[Some(0.2)], &[Some(0.7)], &[None]];
        assert_eq!(assign_max_weight(3, 1, from_table(table)), vec![(1, 0)]);
        let wide: &[&[Option<f64>]] = &[&[Some(0.2), Some(0.7), None]];
        assert_eq!(assign_max_weight(1, 3, from_table(wide)), vec![(0, 1)]);
    }

    #[test]
    fn empty_problems() {
        assert!(assign_max_weight(0, 4, |_, _| Some(1.0)).is_empty());
        assert!(assign_max_weight(4, 0, |_, _| Some(1.0)).is_empty());
    }
}
