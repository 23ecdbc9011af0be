//! Search-based rectangle fitting with the closeness criterion: Zhang, Xu, Dolan,
//! "Efficient L-Shape Fitting for Vehicle Detection Using Laser Scanners", IEEE IV 2017,
//! Algorithms 1 and 4.
//!
//! For each candidate heading `θ ∈ [0, π/2)` the points are projected on `e1 = (cos θ, sin θ)`
//! and `e2 = (-sin θ, cos θ)`. Each point's distance to the nearer of the two bounding edges
//! along `e1`, and along `e2`, is taken; the smaller of the two, floored at `d0 = 0.01 m`,
//! scores `1/d`. The heading with the largest sum is the rectangle's: points hug two edges of
//! an L-shaped vehicle outline.

use std::f64::consts::{FRAC_PI_2, PI};

/// Floor on point-to-edge distances in the closeness score (the paper's `d0`), metres.
pub const CLOSENESS_FLOOR_M: f64 = 0.01;

/// Smallest extent reported for a box side, metres (a cluster on one line has zero width).
pub const MIN_BOX_EXTENT_M: f64 = 0.05;

/// A rectangle in the x-y plane of the points' frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rectangle {
    /// Centre, metres.
    pub center_m: [f64; 2],
    /// Extent along the heading, metres; `length_m >= width_m`.
    pub length_m: f64,
    /// Extent across the heading, metres.
    pub width_m: f64,
    /// Direction of the long side from the x axis, counter-clockwise, radians in
    /// `(-π/2, π/2]` (a rectangle has no front: `yaw` and `yaw + π` are the same box).
    pub yaw_rad: f64,
}

/// Extent of the projections of the points on `e1 = (cos θ, sin θ)` and `e2 = (-sin θ, cos θ)`.
#[derive(Clone, Copy, Debug)]
struct Extents {
    c1_min: f64,
    c1_max: f64,
    c2_min: f64,
    c2_max: f64,
}

fn extents(points: &[[f64; 2]], cos: f64, sin: f64) -> Extents {
    let mut e = Extents {
        c1_min: f64::INFINITY,
        c1_max: f64::NEG_INFINITY,
        c2_min: f64::INFINITY,
        c2_max: f64::NEG_INFINITY,
    };
    for [x, y] in points {
        let c1 = cos * x + sin * y;
        let c2 = -sin * x + cos * y;
        e.c1_min = e.c1_min.min(c1);
        e.c1_max = e.c1_max.max(c1);
        e.c2_min = e.c2_min.min(c2);
        e.c2_max = e.c2_max.max(c2);
    }
    e
}

/// Lanes of the heading search's inner loops: partial minima, maxima and sums are kept per lane
/// (in a fixed order, so results do not depend on the machine) and the compiler vectorises them.
const LANES: usize = 8;

/// The search points (centred on the cluster mean) as separate `f32` coordinate arrays, and
/// the projection buffers of one candidate heading.
#[derive(Clone, Debug, Default)]
struct SearchBuffers {
    xs: Vec<f32>,
    ys: Vec<f32>,
    c1: Vec<f32>,
    c2: Vec<f32>,
}

impl SearchBuffers {
    /// The closeness criterion (Zhang et al. 2017, Algorithm 4) of the heading whose
    /// `(cos, sin)` is given, in `f32` (the points are centred, so the projections keep
    /// sub-millimetre precision).
    fn closeness_score(&mut self, cos: f32, sin: f32) -> f32 {
        let count = self.xs.len();
        self.c1.resize(count, 0.0);
        self.c2.resize(count, 0.0);
        for (((x, y), c1), c2) in self.xs.iter().zip(&self.ys).zip(self.c1.iter_mut()).zip(self.c2.iter_mut())
        {
            *c1 = cos * x + sin * y;
            *c2 = cos * y - sin * x;
        }
        let (c1_min, c1_max) = lane_extent(&self.c1);
        let (c2_min, c2_max) = lane_extent(&self.c2);
        let floor = CLOSENESS_FLOOR_M as f32;
        let score = |c1: f32, c2: f32| {
            let d1 = (c1_max - c1).min(c1 - c1_min);
            let d2 = (c2_max - c2).min(c2 - c2_min);
            1.0 / d1.min(d2).max(floor)
        };
        let mut lanes = [0.0_f32; LANES];
        let chunks1 = self.c1.chunks_exact(LANES);
        let chunks2 = self.c2.chunks_exact(LANES);
        let (rest1, rest2) = (chunks1.remainder(), chunks2.remainder());
        for (a, b) in chunks1.zip(chunks2) {
            for lane in 0..LANES {
                lanes[lane] += score(a[lane], b[lane]);
            }
        }
        for (lane, (&a, &b)) in rest1.iter().zip(rest2).enumerate() {
            lanes[lane] += score(a, b);
        }
        lanes.iter().sum()
    }
}

/// Smallest and largest value of `values` (`(+inf, -inf)` when empty), by lanes.
fn lane_extent(values: &[f32]) -> (f32, f32) {
    let mut low = [f32::INFINITY; LANES];
    let mut high = [f32::NEG_INFINITY; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for lane in 0..LANES {
            low[lane] = low[lane].min(chunk[lane]);
            high[lane] = high[lane].max(chunk[lane]);
        }
    }
    for (lane, &v) in rest.iter().enumerate() {
        low[lane] = low[lane].min(v);
        high[lane] = high[lane].max(v);
    }
    (low.iter().fold(f32::INFINITY, |a, &b| a.min(b)), high.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)))
}

/// Best heading in `[0, π/2)`: a coarse scan of the headings whose `(θ, cos θ, sin θ)` are in
/// `coarse`, then a scan at a fifth of the coarse step over ± one coarse step around the coarse
/// best. Ties keep the first heading scanned (deterministic).
fn best_heading(buffers: &mut SearchBuffers, coarse: &[(f64, f32, f32)]) -> f64 {
    let coarse_step = FRAC_PI_2 / coarse.len().max(1) as f64;
    let mut best = (f32::NEG_INFINITY, 0.0);
    for &(theta, cos, sin) in coarse {
        let score = buffers.closeness_score(cos, sin);
        if score > best.0 {
            best = (score, theta);
        }
    }
    let fine_step = coarse_step / 5.0;
    let center = best.1;
    for index in -5_i32..=5 {
        if index == 0 {
            continue;
        }
        let theta = center + f64::from(index) * fine_step;
        let (sin, cos) = theta.sin_cos();
        let score = buffers.closeness_score(cos as f32, sin as f32);
        if score > best.0 {
            best = (score, theta);
        }
    }
    best.1.rem_euclid(FRAC_PI_2)
}

/// Fits rectangles with the closeness criterion; holds reusable buffers.
#[derive(Clone, Debug)]
pub struct RectangleFitter {
    /// `(θ, cos θ, sin θ)` of the coarse headings.
    coarse: Vec<(f64, f32, f32)>,
    max_search_points: usize,
    centred: Vec<[f64; 2]>,
    search: SearchBuffers,
}

impl RectangleFitter {
    /// A fitter whose coarse heading step is `step_rad` and whose heading search uses at most
    /// `max_search_points` points of a cluster (every k-th, in input order).
    pub fn new(step_rad: f64, max_search_points: usize) -> Self {
        let coarse_steps = if step_rad.is_finite() && step_rad > 0.0 {
            ((FRAC_PI_2 / step_rad).ceil() as usize).clamp(1, 100_000)
        } else {
            1
        };
        let coarse_step = FRAC_PI_2 / coarse_steps as f64;
        let coarse = (0..coarse_steps)
            .map(|index| {
                let theta = index as f64 * coarse_step;
                let (sin, cos) = theta.sin_cos();
                (theta, cos as f32, sin as f32)
            })
            .collect();
        Self {
            coarse,
            max_search_points: max_search_points.max(1),
            centred: Vec::new(),
            search: SearchBuffers::default(),
        }
    }

    /// Fits the rectangle of the closeness criterion to `points` (x, y in metres).
    ///
    /// The extents use all points. Returns `None` for no points or non-finite input.
    pub fn fit(&mut self, points: &[[f64; 2]]) -> Option<Rectangle> {
        let count = points.len();
        if count == 0 {
            return None;
        }
        // Centre on the mean so that projections keep their precision far from the lidar.
        let (mut sum_x, mut sum_y) = (0.0, 0.0);
        for [x, y] in points {
            sum_x += x;
            sum_y += y;
        }
        let (mean_x, mean_y) = (sum_x / count as f64, sum_y / count as f64);
        if !(mean_x.is_finite() && mean_y.is_finite()) {
            return None;
        }
        self.centred.clear();
        self.centred.extend(points.iter().map(|[x, y]| [x - mean_x, y - mean_y]));
        let stride = count.div_ceil(self.max_search_points).max(1);
        self.search.xs.clear();
        self.search.ys.clear();
        for [x, y] in self.centred.iter().step_by(stride) {
            self.search.xs.push(*x as f32);
            self.search.ys.push(*y as f32);
        }
        let theta = best_heading(&mut self.search, &self.coarse);
        let (sin, cos) = theta.sin_cos();
        let e = extents(&self.centred, cos, sin);
        let (c1, c2) = ((e.c1_min + e.c1_max) / 2.0, (e.c2_min + e.c2_max) / 2.0);
        let center_m = [mean_x + cos * c1 - sin * c2, mean_y + sin * c1 + cos * c2];
        let (along_e1, along_e2) = (e.c1_max - e.c1_min, e.c2_max - e.c2_min);
        let (length_m, width_m, yaw) = if along_e1 >= along_e2 {
            (along_e1, along_e2, theta)
        } else {
            (along_e2, along_e1, theta + FRAC_PI_2)
        };
        let yaw_rad = if yaw > FRAC_PI_2 { yaw - PI } else { yaw };
        Some(Rectangle {
            center_m,
            length_m: length_m.max(MIN_BOX_EXTENT_M),
            width_m: width_m.max(MIN_BOX_EXTENT_M),
            yaw_rad,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Points on the two sides of a `length × width` rectangle facing a sensor at the origin
    /// (an L seen from one corner), with uniform noise of ±`noise_m`.
    fn l_outline(
        center: [f64; 2],
        length: f64,
        width: f64,
        yaw: f64,
        noise_m: f64,
        rng: &mut ChaCha8Rng,
    ) -> Vec<[f64; 2]> {
        let (sin, cos) = yaw.sin_cos();
        let corner = |u: f64, v: f64| [center[0] + cos * u - sin * v, center[1] + sin * u + cos * v];
        // Pick the corner nearest the origin and draw its two edges.
        let corners = [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)];
        let (su, sv) = corners
            .into_iter()
            .min_by(|a, b| {
                let pa = corner(a.0 * length / 2.0, a.1 * width / 2.0);
                let pb = corner(b.0 * length / 2.0, b.1 * width / 2.0);
                (pa[0].hypot(pa[1])).total_cmp(&pb[0].hypot(pb[1]))
            })
            .unwrap();
        let mut points = Vec::new();
        for i in 0..=80 {
            let t = i as f64 / 80.0;
            let u = (t - 0.5) * length;
            points.push(corner(u, sv * width / 2.0));
        }
        for i in 0..=40 {
            let t = i as f64 / 40.0;
            let v = (t - 0.5) * width;
            points.push(corner(su * length / 2.0, v));
        }
        for p in &mut points {
            p[0] += rng.random_range(-noise_m..=noise_m);
            p[1] += rng.random_range(-noise_m..=noise_m);
        }
        points
    }

    fn angle_error(a: f64, b: f64) -> f64 {
        // Boxes are symmetric under a half turn.
        let d = (a - b).rem_euclid(PI);
        d.min(PI - d)
    }

    #[test]
    fn recovers_heading_size_and_centre_of_rotated_rectangles() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for yaw_deg in [-80.0_f64, -45.0, -10.0, 0.0, 3.0, 30.0, 60.0, 89.0, 135.0] {
            let yaw = yaw_deg.to_radians();
            let center = [15.0, -6.0];
            let points = l_outline(center, 4.5, 1.8, yaw, 0.02, &mut rng);
            let rect = RectangleFitter::new(0.05, 400).fit(&points).unwrap();
            let error_deg = angle_error(rect.yaw_rad, yaw).to_degrees();
            assert!(error_deg < 2.0, "yaw {yaw_deg}°: fitted {:.2}°", rect.yaw_rad.to_degrees());
            assert!(rect.yaw_rad > -FRAC_PI_2 && rect.yaw_rad <= FRAC_PI_2);
            assert!((rect.length_m - 4.5).abs() < 0.15, "yaw {yaw_deg}°: length {}", rect.length_m);
            assert!((rect.width_m - 1.8).abs() < 0.15, "yaw {yaw_deg}°: width {}", rect.width_m);
            let centre_error = (rect.center_m[0] - center[0]).hypot(rect.center_m[1] - center[1]);
            assert!(centre_error < 0.15, "yaw {yaw_deg}°: centre error {centre_error}");
        }
    }

    #[test]
    fn subsampled_search_matches_full_search() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let points = l_outline([8.0, 8.0], 6.0, 2.5, 0.4, 0.01, &mut rng);
        let full = RectangleFitter::new(0.05, 10_000).fit(&points).unwrap();
        let sampled = RectangleFitter::new(0.05, 30).fit(&points).unwrap();
        assert!(angle_error(full.yaw_rad, sampled.yaw_rad) < 2f64.to_radians());
        assert!((full.yaw_rad - 0.4).abs() < 2f64.to_radians(), "{}", full.yaw_rad);
    }

    #[test]
    fn degenerate_inputs() {
        assert!(RectangleFitter::new(0.05, 10).fit(&[]).is_none());
        let one = RectangleFitter::new(0.05, 10).fit(&[[3.0, 4.0]]).unwrap();
        assert_eq!(one.center_m, [3.0, 4.0]);
        assert_eq!(one.length_m, MIN_BOX_EXTENT_M);
        let nan = RectangleFitter::new(0.05, 10).fit(&[[f64::NAN, 0.0]]);
        assert!(nan.is_none());
    }
}
