//! Oriented 3D boxes: exact IoU and GIoU, and the KITTI rectified-camera box convention.
//!
//! A box stands upright: it turns about the frame's up axis only (the convention of
//! [`Detection3d`]: centre, size `(l, w, h)` with `l` along the heading, yaw counter-clockwise
//! from the x axis, z up). Its overlap with another box is therefore the overlap of the two
//! footprints in the bird's-eye view (x-y) times the overlap of the two height intervals.
//!
//! - Footprint intersection: Sutherland–Hodgman clipping of one convex quadrilateral by the
//!   other (Sutherland & Hodgman, "Reentrant polygon clipping", CACM 1974), exact up to
//!   floating point; areas by the shoelace formula.
//! - GIoU (Rezatofighi et al., "Generalized Intersection over Union", CVPR 2019) as extended to
//!   oriented 3D boxes by AB3DMOT (Weng et al., IROS 2020; `AB3DMOT_libs/dist_metrics.py`): the
//!   enclosing volume `C` is the area of the convex hull of both footprints (Andrew's monotone
//!   chain) times the span from the lower bottom to the higher top, and
//!   `GIoU = IoU − (C − U) / C` with `U` the union volume. GIoU is in `(−1, 1]`: 1 for identical
//!   boxes, negative for disjoint ones, approaching −1 as they move apart.
//!
//! - Site-frame coordinates (UTM eastings of about 500 km, northings of several thousand km):
//!   every measure is computed in a frame centred on the pair (the midpoint of the two centres),
//!   so the corner coordinates stay of the size of the boxes and the shoelace sums keep their
//!   precision; IoU and GIoU are then the same at 4,500,000 m as at the origin. The enclosing
//!   hull is never taken smaller than the union (it cannot be, except by rounding), so GIoU ≤ IoU
//!   ≤ 1 always.
//!
//! Everything here works on fixed-size stack arrays: no allocation.

use pitsense_types::nalgebra::{Point3, Vector3};
use pitsense_types::{Detection3d, TrackState};

use crate::kalman::normalize_angle_rad;

/// An upright oriented box: the geometry of a [`Detection3d`] or a track, in one frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrientedBox {
    /// Geometric centre (not the bottom face), metres.
    pub center_m: Point3<f64>,
    /// Length along the heading, width, height, metres; a negative value counts as zero.
    pub size_m: Vector3<f64>,
    /// Heading about the up axis from the x axis, counter-clockwise, radians (any value; only
    /// its sine and cosine are used).
    pub yaw_rad: f64,
}

impl OrientedBox {
    /// The box of a detection.
    pub fn from_detection(detection: &Detection3d) -> Self {
        Self { center_m: detection.center_m, size_m: detection.size_m, yaw_rad: detection.yaw_rad }
    }

    /// The box of a track's state.
    pub fn from_track_state(state: &TrackState) -> Self {
        Self { center_m: state.center_m, size_m: state.size_m, yaw_rad: state.yaw_rad }
    }

    /// A box given in KITTI's rectified-camera convention (x right, y down, z forward;
    /// `(x, y, z)` the centre of the box's **bottom** face; `rot_y_rad` the rotation about the
    /// camera's y axis, 0 when the box's length points along camera x; sizes `h, w, l` in
    /// metres), expressed in a frame with x forward, y left, z up whose axes are the camera's
    /// turned: `X = z`, `Y = −x`, `Z = −y` (no translation). The centre moves up by `h / 2`,
    /// and `yaw = −rot_y − π/2`, wrapped to `(−π, π]`.
    ///
    /// This is the conversion the tracker's KITTI runs use (`pitsense track`, the benchmark);
    /// [`OrientedBox::to_kitti_rect_camera`] is its inverse.
    pub fn from_kitti_rect_camera(
        h_m: f64,
        w_m: f64,
        l_m: f64,
        bottom_center_in_rect_camera_m: [f64; 3],
        rot_y_rad: f64,
    ) -> Self {
        let [x, y, z] = bottom_center_in_rect_camera_m;
        Self {
            center_m: Point3::new(z, -x, -y + h_m / 2.0),
            size_m: Vector3::new(l_m, w_m, h_m),
            yaw_rad: normalize_angle_rad(-rot_y_rad - std::f64::consts::FRAC_PI_2),
        }
    }

    /// The inverse of [`OrientedBox::from_kitti_rect_camera`]: `(h, w, l)` in metres, the
    /// bottom-face centre `(x, y, z)` in rectified-camera coordinates, metres, and `rot_y`
    /// in radians, wrapped to `(−π, π]`.
    pub fn to_kitti_rect_camera(&self) -> ([f64; 3], [f64; 3], f64) {
        let (l, w, h) = (self.size_m.x, self.size_m.y, self.size_m.z);
        let bottom = [-self.center_m.y, -(self.center_m.z - h / 2.0), self.center_m.x];
        ([h, w, l], bottom, normalize_angle_rad(-self.yaw_rad - std::f64::consts::FRAC_PI_2))
    }

    /// The four footprint corners in the x-y plane, counter-clockwise from the front-left one.
    pub fn footprint_m(&self) -> [[f64; 2]; 4] {
        let (sin, cos) = self.yaw_rad.sin_cos();
        let (half_l, half_w) = (self.size_m.x.max(0.0) / 2.0, self.size_m.y.max(0.0) / 2.0);
        let (cx, cy) = (self.center_m.x, self.center_m.y);
        [(half_l, half_w), (-half_l, half_w), (-half_l, -half_w), (half_l, -half_w)]
            .map(|(dx, dy)| [cx + cos * dx - sin * dy, cy + sin * dx + cos * dy])
    }

    /// Footprint area, m².
    pub fn footprint_area_m2(&self) -> f64 {
        self.size_m.x.max(0.0) * self.size_m.y.max(0.0)
    }

    /// Volume, m³.
    pub fn volume_m3(&self) -> f64 {
        self.footprint_area_m2() * self.size_m.z.max(0.0)
    }

    /// `(bottom, top)` heights, metres.
    fn z_range_m(&self) -> (f64, f64) {
        let half_h = self.size_m.z.max(0.0) / 2.0;
        (self.center_m.z - half_h, self.center_m.z + half_h)
    }
}

/// Overlap measures of two boxes, from one clipping and one hull computation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoxOverlap {
    /// Intersection volume, m³.
    pub intersection_m3: f64,
    /// Union volume, m³.
    pub union_m3: f64,
    /// Volume of the AB3DMOT enclosing box: footprint hull area × height span, m³.
    pub enclosing_m3: f64,
    /// Footprint intersection area, m².
    pub intersection_bev_m2: f64,
    /// Footprint union area, m².
    pub union_bev_m2: f64,
    /// Area of the convex hull of both footprints, m².
    pub hull_bev_m2: f64,
}

impl BoxOverlap {
    /// 3D IoU in `[0, 1]`; 0 when the union is empty.
    pub fn iou_3d(&self) -> f64 {
        ratio(self.intersection_m3, self.union_m3)
    }

    /// 3D GIoU in `[−1, 1]`: `IoU − (C − U) / C`; 0 when both boxes are empty.
    pub fn giou_3d(&self) -> f64 {
        self.iou_3d() - ratio(self.enclosing_m3 - self.union_m3, self.enclosing_m3)
    }

    /// Bird's-eye-view IoU of the footprints in `[0, 1]`.
    pub fn iou_bev(&self) -> f64 {
        ratio(self.intersection_bev_m2, self.union_bev_m2)
    }

    /// Bird's-eye-view GIoU of the footprints in `[−1, 1]` (AB3DMOT's `giou_2d`).
    pub fn giou_bev(&self) -> f64 {
        self.iou_bev() - ratio(self.hull_bev_m2 - self.union_bev_m2, self.hull_bev_m2)
    }
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 { (numerator / denominator).clamp(-1.0, 1.0) } else { 0.0 }
}

/// Intersection, union and enclosing volumes of two boxes (see the module documentation),
/// computed relative to the midpoint of the two centres so that site-frame (UTM-scale)
/// coordinates lose no precision.
pub fn box_overlap(a: &OrientedBox, b: &OrientedBox) -> BoxOverlap {
    let pair_centre = pair_midpoint(&a.center_m, &b.center_m);
    let relative =
        |boxed: &OrientedBox| OrientedBox { center_m: Point3::from(boxed.center_m - pair_centre), ..*boxed };
    let (a, b) = (relative(a), relative(b));
    let (footprint_a, footprint_b) = (a.footprint_m(), b.footprint_m());
    let intersection_bev_m2 = convex_intersection_area_m2(&footprint_a, &footprint_b);
    let union_bev_m2 = a.footprint_area_m2() + b.footprint_area_m2() - intersection_bev_m2;
    // The hull holds the union; rounding must not make it smaller (GIoU would pass IoU).
    let hull_bev_m2 = hull_area_m2(&footprint_a, &footprint_b).max(union_bev_m2);
    let ((bottom_a, top_a), (bottom_b, top_b)) = (a.z_range_m(), b.z_range_m());
    let overlap_height_m = (top_a.min(top_b) - bottom_a.max(bottom_b)).max(0.0);
    let span_height_m = top_a.max(top_b) - bottom_a.min(bottom_b);
    let intersection_m3 = intersection_bev_m2 * overlap_height_m;
    let union_m3 = a.volume_m3() + b.volume_m3() - intersection_m3;
    BoxOverlap {
        intersection_m3,
        union_m3,
        enclosing_m3: (hull_bev_m2 * span_height_m).max(union_m3),
        intersection_bev_m2,
        union_bev_m2,
        hull_bev_m2,
    }
}

/// The midpoint of two points, halving before adding so that it cannot overflow.
fn pair_midpoint(p: &Point3<f64>, q: &Point3<f64>) -> Point3<f64> {
    Point3::new(p.x / 2.0 + q.x / 2.0, p.y / 2.0 + q.y / 2.0, p.z / 2.0 + q.z / 2.0)
}

/// 3D IoU of two upright boxes, in `[0, 1]`.
pub fn iou_3d(a: &OrientedBox, b: &OrientedBox) -> f64 {
    box_overlap(a, b).iou_3d()
}

/// 3D GIoU of two upright boxes (AB3DMOT's `giou_3d`), in `[−1, 1]`.
pub fn giou_3d(a: &OrientedBox, b: &OrientedBox) -> f64 {
    box_overlap(a, b).giou_3d()
}

/// A convex polygon of at most `N` vertices on the stack.
#[derive(Clone, Copy)]
struct Polygon<const N: usize> {
    vertices: [[f64; 2]; N],
    len: usize,
}

impl<const N: usize> Polygon<N> {
    fn new() -> Self {
        Self { vertices: [[0.0; 2]; N], len: 0 }
    }

    fn push(&mut self, vertex: [f64; 2]) {
        // Cannot overflow for the uses below (a quadrilateral clipped by four half-planes has at
        // most 8 vertices; a hull of 8 points at most 8 + 1 while it is built); a dropped vertex
        // would only shrink the area.
        if let Some(slot) = self.vertices.get_mut(self.len) {
            *slot = vertex;
            self.len += 1;
        }
    }

    fn as_slice(&self) -> &[[f64; 2]] {
        self.vertices.get(..self.len).unwrap_or(&[])
    }
}

/// `(b − a) × (c − a)`: positive when `c` is left of the directed line `a → b`.
fn cross(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

/// Shoelace area of a simple polygon, absolute value, m².
fn polygon_area_m2(vertices: &[[f64; 2]]) -> f64 {
    let mut twice_area = 0.0;
    for (index, current) in vertices.iter().enumerate() {
        let next = vertices.get(index + 1).or(vertices.first()).unwrap_or(current);
        twice_area += current[0] * next[1] - next[0] * current[1];
    }
    twice_area.abs() / 2.0
}

/// Area of the intersection of two convex counter-clockwise quadrilaterals, m².
fn convex_intersection_area_m2(subject: &[[f64; 2]; 4], clip: &[[f64; 2]; 4]) -> f64 {
    // A degenerate polygon (zero length or width) has no interior.
    if polygon_area_m2(clip) <= 0.0 || polygon_area_m2(subject) <= 0.0 {
        return 0.0;
    }
    // Disjoint circumscribed circles: nothing to clip (the common case for far pairs).
    let centroid = |quad: &[[f64; 2]; 4]| [(quad[0][0] + quad[2][0]) / 2.0, (quad[0][1] + quad[2][1]) / 2.0];
    let (centre_s, centre_c) = (centroid(subject), centroid(clip));
    let radius_sq = |quad: &[[f64; 2]; 4], centre: [f64; 2]| {
        (quad[0][0] - centre[0]).powi(2) + (quad[0][1] - centre[1]).powi(2)
    };
    let reach = radius_sq(subject, centre_s).sqrt() + radius_sq(clip, centre_c).sqrt();
    if (centre_s[0] - centre_c[0]).powi(2) + (centre_s[1] - centre_c[1]).powi(2) >= reach * reach {
        return 0.0;
    }
    // Sutherland–Hodgman: a convex polygon clipped by a half-plane gains at most one vertex, so
    // four clips of a quadrilateral need 8 slots. Two buffers, used in turn.
    let mut buffers: [Polygon<8>; 2] = [Polygon::new(), Polygon::new()];
    for &vertex in subject {
        buffers[0].push(vertex);
    }
    for (edge, &edge_start) in clip.iter().enumerate() {
        let edge_end = clip.get((edge + 1) % 4).copied().unwrap_or(edge_start);
        let [first, second] = &mut buffers;
        let (input, output) = if edge % 2 == 0 { (&*first, second) } else { (&*second, first) };
        output.len = 0;
        let points = input.as_slice();
        let Some(&last) = points.last() else {
            return 0.0;
        };
        let mut previous = last;
        let mut previous_side = cross(edge_start, edge_end, previous);
        for &point in points {
            let point_side = cross(edge_start, edge_end, point);
            if point_side >= 0.0 {
                if previous_side < 0.0 {
                    output.push(line_crossing(previous, point, previous_side, point_side));
                }
                output.push(point);
            } else if previous_side >= 0.0 {
                output.push(line_crossing(previous, point, previous_side, point_side));
            }
            previous = point;
            previous_side = point_side;
        }
    }
    // Four clips: the result is back in the first buffer.
    polygon_area_m2(buffers[0].as_slice())
}

/// The point where segment `p → q` crosses the clipping line, from the signed sides of its ends
/// (which have opposite signs).
fn line_crossing(p: [f64; 2], q: [f64; 2], side_p: f64, side_q: f64) -> [f64; 2] {
    let t = side_p / (side_p - side_q);
    [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]
}

/// Area of the convex hull of two quadrilaterals' eight corners (Andrew's monotone chain), m².
fn hull_area_m2(a: &[[f64; 2]; 4], b: &[[f64; 2]; 4]) -> f64 {
    let mut points = [[0.0; 2]; 8];
    for (slot, point) in points.iter_mut().zip(a.iter().chain(b)) {
        *slot = *point;
    }
    points.sort_unstable_by(|p, q| p[0].total_cmp(&q[0]).then(p[1].total_cmp(&q[1])));
    // Lower hull then upper hull; each keeps only left turns.
    let mut hull: Polygon<16> = Polygon::new();
    for pass in 0..2 {
        let start = hull.len;
        let ordered: [[f64; 2]; 8] = if pass == 0 {
            points
        } else {
            let mut reversed = points;
            reversed.reverse();
            reversed
        };
        for &point in &ordered {
            while hull.len >= start + 2 {
                let (Some(&o), Some(&a)) = (hull.vertices.get(hull.len - 2), hull.vertices.get(hull.len - 1))
                else {
                    break;
                };
                if cross(o, a, point) > 0.0 {
                    break;
                }
                hull.len -= 1;
            }
            hull.push(point);
        }
        // The last point of each chain is the first of the other.
        hull.len -= 1;
    }
    polygon_area_m2(hull.as_slice())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.
mod tests {
    use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, PI, SQRT_2};

    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn cube(x: f64, y: f64, z: f64, size: f64, yaw_rad: f64) -> OrientedBox {
        OrientedBox { center_m: Point3::new(x, y, z), size_m: Vector3::new(size, size, size), yaw_rad }
    }

    fn close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-12, "{actual} != {expected}");
    }

    #[test]
    fn identical_boxes() {
        let a = OrientedBox {
            center_m: Point3::new(3.0, -2.0, 1.0),
            size_m: Vector3::new(4.5, 1.8, 1.6),
            yaw_rad: 0.7,
        };
        close(iou_3d(&a, &a), 1.0);
        close(giou_3d(&a, &a), 1.0);
    }

    #[test]
    fn disjoint_boxes_by_hand() {
        // Two 2 m cubes 4 m apart along x: I = 0, U = 16, hull 6 × 2 = 12 m², span 2 m, C = 24.
        let (a, b) = (cube(0.0, 0.0, 0.0, 2.0, 0.0), cube(4.0, 0.0, 0.0, 2.0, 0.0));
        let overlap = box_overlap(&a, &b);
        close(overlap.union_m3, 16.0);
        close(overlap.enclosing_m3, 24.0);
        close(overlap.iou_3d(), 0.0);
        close(overlap.giou_3d(), -1.0 / 3.0);
        // Far apart, GIoU tends to −1.
        assert!(giou_3d(&a, &cube(1000.0, 0.0, 0.0, 2.0, 0.0)) < -0.99);
    }

    #[test]
    fn contained_box_by_hand() {
        // A 2 m cube inside a 4 m cube: I = 8, U = 64, C = 64.
        let (a, b) = (cube(0.0, 0.0, 0.0, 4.0, 0.0), cube(0.5, -0.5, 0.5, 2.0, 0.3));
        close(iou_3d(&a, &b), 1.0 / 8.0);
        close(giou_3d(&a, &b), 1.0 / 8.0);
    }

    #[test]
    fn rotated_by_45_degrees_by_hand() {
        // Two 2 m cubes, one turned by 45°: the footprints meet in a regular octagon of area
        // 8√2 − 8 (the square less four corner triangles of area 3 − 2√2); the hull is the regular
        // octagon of circumradius √2, area 4√2. IoU = (8√2 − 8) / (16 − 8√2) = 1/√2,
        // GIoU = 1/√2 − (8√2 − (32 − 16√2)) / 8√2 = 5/√2 − 3.
        let (a, b) = (cube(0.0, 0.0, 0.0, 2.0, 0.0), cube(0.0, 0.0, 0.0, 2.0, FRAC_PI_4));
        let overlap = box_overlap(&a, &b);
        close(overlap.intersection_bev_m2, 8.0 * SQRT_2 - 8.0);
        close(overlap.hull_bev_m2, 4.0 * SQRT_2);
        close(overlap.iou_3d(), 1.0 / SQRT_2);
        close(overlap.giou_3d(), 5.0 / SQRT_2 - 3.0);
        // A box is the same box turned by π (front and back swapped) or by π/2 for a square.
        close(iou_3d(&a, &cube(0.0, 0.0, 0.0, 2.0, PI)), 1.0);
        close(iou_3d(&a, &cube(0.0, 0.0, 0.0, 2.0, FRAC_PI_2)), 1.0);
    }

    #[test]
    fn partial_height_overlap_by_hand() {
        // Same footprint, 1 m height overlap: I = 4, U = 12, C = 4 × 3 = 12.
        let (a, b) = (cube(0.0, 0.0, 0.0, 2.0, 0.0), cube(0.0, 0.0, 1.0, 2.0, 0.0));
        close(iou_3d(&a, &b), 1.0 / 3.0);
        close(giou_3d(&a, &b), 1.0 / 3.0);
        // Shifted 1 m along x as well: I = 2 × 1, U = 14; hull 3 × 2, span 3: C = 18.
        let c = cube(1.0, 0.0, 1.0, 2.0, 0.0);
        close(iou_3d(&a, &c), 1.0 / 7.0);
        close(giou_3d(&a, &c), 1.0 / 7.0 - 4.0 / 18.0);
        // Stacked with no height overlap: IoU 0, GIoU −(C − U)/C with C = 4 × 4, U = 16.
        let d = cube(0.0, 0.0, 2.0, 2.0, 0.0);
        close(iou_3d(&a, &d), 0.0);
        close(giou_3d(&a, &d), 0.0);
    }

    #[test]
    fn degenerate_boxes_have_no_overlap() {
        let a = cube(0.0, 0.0, 0.0, 2.0, 0.0);
        let flat = OrientedBox { size_m: Vector3::new(2.0, 0.0, 2.0), ..a };
        close(iou_3d(&a, &flat), 0.0);
        close(iou_3d(&flat, &flat), 0.0);
        assert!(giou_3d(&flat, &flat).is_finite());
    }

    #[test]
    fn footprint_intersection_matches_a_fine_grid_on_random_boxes() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..20 {
            let mut random_box = || OrientedBox {
                center_m: Point3::new(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0), 0.0),
                size_m: Vector3::new(rng.random_range(0.5..4.0), rng.random_range(0.5..2.0), 1.0),
                yaw_rad: rng.random_range(-PI..PI),
            };
            let (a, b) = (random_box(), random_box());
            let overlap = box_overlap(&a, &b);
            // Count grid cells whose centre is inside both footprints.
            let inside =
                |f: &[[f64; 2]; 4], p: [f64; 2]| (0..4).all(|i| cross(f[i], f[(i + 1) % 4], p) >= 0.0);
            let (fa, fb) = (a.footprint_m(), b.footprint_m());
            let step = 0.01;
            let mut count = 0usize;
            for i in 0..800 {
                for j in 0..800 {
                    let p = [-4.0 + (f64::from(i) + 0.5) * step, -4.0 + (f64::from(j) + 0.5) * step];
                    if inside(&fa, p) && inside(&fb, p) {
                        count += 1;
                    }
                }
            }
            let grid_area = count as f64 * step * step;
            assert!((overlap.intersection_bev_m2 - grid_area).abs() < 0.02, "{overlap:?} vs {grid_area}");
            close(overlap.intersection_m3, box_overlap(&b, &a).intersection_m3);
            assert!(overlap.hull_bev_m2 + 1e-9 >= overlap.union_bev_m2);
            let giou = overlap.giou_3d();
            assert!((-1.0..=1.0).contains(&giou) && giou <= overlap.iou_3d() + 1e-12);
        }
    }

    #[test]
    fn iou_and_giou_at_utm_scale_equal_those_at_the_origin() {
        // Issue 16 B08. Boxes at site-frame coordinates (easting 500 km, northing 4,500 km,
        // elevation 1.2 km) must give the IoU and GIoU they give at the origin. The centres are
        // multiples of 2^-20 m, so the translation itself is exact (the spacing of f64 at 4.5e6
        // is 2^-30) and any difference comes from the overlap computation.
        let offset = Vector3::new(500_000.0, 4_500_000.0, 1_200.0);
        let translate = |b: &OrientedBox| OrientedBox { center_m: b.center_m + offset, ..*b };
        let dyadic = |v: f64| (v * 1_048_576.0).round() / 1_048_576.0;
        // Hand values first: the 45° pair of `rotated_by_45_degrees_by_hand` and identical boxes.
        let (a, b) = (cube(0.0, 0.0, 0.0, 2.0, 0.0), cube(0.0, 0.0, 0.0, 2.0, FRAC_PI_4));
        let far = box_overlap(&translate(&a), &translate(&b));
        assert!((far.iou_3d() - 1.0 / SQRT_2).abs() < 1e-9, "{far:?}");
        assert!((far.giou_3d() - (5.0 / SQRT_2 - 3.0)).abs() < 1e-9, "{far:?}");
        let car = OrientedBox {
            center_m: Point3::new(0.0, 0.0, 0.0),
            size_m: Vector3::new(4.5, 1.8, 1.6),
            yaw_rad: 0.7,
        };
        let car_far = translate(&car);
        assert!(giou_3d(&car_far, &car_far) <= 1.0);
        assert!((iou_3d(&car_far, &car_far) - 1.0).abs() < 1e-9);
        assert!((giou_3d(&car_far, &car_far) - 1.0).abs() < 1e-9);
        // Then seeded random pairs, from overlapping to a few metres apart.
        let mut rng = ChaCha8Rng::seed_from_u64(16);
        for _ in 0..500 {
            let mut random_box = || OrientedBox {
                center_m: Point3::new(
                    dyadic(rng.random_range(-3.0..3.0)),
                    dyadic(rng.random_range(-3.0..3.0)),
                    dyadic(rng.random_range(-0.5..0.5)),
                ),
                size_m: Vector3::new(
                    rng.random_range(0.5..12.0),
                    rng.random_range(0.5..5.0),
                    rng.random_range(1.0..4.0),
                ),
                yaw_rad: rng.random_range(-PI..PI),
            };
            let (a, b) = (random_box(), random_box());
            let (near, far) = (box_overlap(&a, &b), box_overlap(&translate(&a), &translate(&b)));
            assert!((near.iou_3d() - far.iou_3d()).abs() < 1e-9, "{near:?} vs {far:?}");
            assert!((near.giou_3d() - far.giou_3d()).abs() < 1e-9, "{near:?} vs {far:?}");
            assert!((near.giou_bev() - far.giou_bev()).abs() < 1e-9, "{near:?} vs {far:?}");
            assert!(far.giou_3d() <= far.iou_3d() && far.iou_3d() <= 1.0, "{far:?}");
            assert!(far.giou_3d() <= 1.0 && box_overlap(&translate(&a), &translate(&a)).giou_3d() <= 1.0);
        }
    }

    #[test]
    fn kitti_rect_camera_round_trip() {
        // A car 10 m ahead (camera z), 2 m to the right (camera x), bottom 1.6 m below the camera,
        // length along camera x (rot_y = 0): in the x-forward frame it points to −y (yaw −π/2).
        let converted = OrientedBox::from_kitti_rect_camera(1.5, 1.6, 4.0, [2.0, 1.6, 10.0], 0.0);
        close(converted.center_m.x, 10.0);
        close(converted.center_m.y, -2.0);
        close(converted.center_m.z, -1.6 + 0.75);
        close(converted.yaw_rad, -FRAC_PI_2);
        // rot_y = −π/2 is a car heading along camera z, i.e. forward: yaw 0.
        close(OrientedBox::from_kitti_rect_camera(1.5, 1.6, 4.0, [0.0; 3], -FRAC_PI_2).yaw_rad, 0.0);
        let (hwl, bottom, rot_y) = converted.to_kitti_rect_camera();
        assert_eq!(hwl, [1.5, 1.6, 4.0]);
        close(bottom[0], 2.0);
        close(bottom[1], 1.6);
        close(bottom[2], 10.0);
        close(rot_y, 0.0);
        // The corners follow: the front-left corner is ahead along the heading (−y).
        let front_left = converted.footprint_m()[0];
        close(front_left[1], -4.0);
        close(front_left[0], 10.0 + 0.8);
    }
}
