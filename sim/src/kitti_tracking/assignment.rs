//! Maximum-weight one-to-one assignment on integer weights (the Hungarian method).
//!
//! Both the CLEAR MOT matching and the HOTA matching reduce to it. Weights are computed by the
//! callers from floats with a fixed scale and rounding, so the outcome is deterministic;
//! [`pathfinding::kuhn_munkres`] (Kuhn 1955, Munkres 1957) solves the integer problem exactly.

use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;

/// Matched `(row, col)` pairs of a maximum-total-weight assignment, sorted by row.
///
/// `weight(row, col) >= 0`; a pair of weight 0 is inadmissible and never returned. Since every
/// weight is non-negative, the maximum over complete assignments of the smaller side equals the
/// maximum over all matchings. Cost `O(n³)`, `n = max(rows, cols)`.
pub(crate) fn max_weight_pairs(
    rows: usize,
    cols: usize,
    weight: impl Fn(usize, usize) -> i64,
) -> Vec<(usize, usize)> {
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    // kuhn_munkres needs rows <= columns: solve the transposed problem when there are more rows.
    let transposed = rows > cols;
    let (small, large) = if transposed { (cols, rows) } else { (rows, cols) };
    let matrix = Matrix::from_fn(small, large, |(s, l)| if transposed { weight(l, s) } else { weight(s, l) });
    let (_total, assignment) = kuhn_munkres(&matrix);
    let mut pairs: Vec<(usize, usize)> = assignment
        .into_iter()
        .enumerate()
        .map(|(s, l)| if transposed { (l, s) } else { (s, l) })
        .filter(|&(row, col)| weight(row, col) > 0)
        .collect();
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beats_greedy_and_handles_more_rows() {
        let table = [[9, 8], [8, 1], [0, 0]];
        // Greedy would take (0,0)=9 then (1,1)=1; the optimum is 8 + 8.
        assert_eq!(max_weight_pairs(3, 2, |r, c| table[r][c]), vec![(0, 1), (1, 0)]);
        assert!(max_weight_pairs(0, 2, |_, _| 1).is_empty());
        assert!(max_weight_pairs(2, 2, |_, _| 0).is_empty());
    }
}
