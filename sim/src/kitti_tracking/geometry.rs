//! Box geometry for the evaluation: 3D IoU of KITTI camera boxes and 2D IoU of image boxes.
//!
//! Kept self-contained on purpose: the evaluator must not share code with the tracker it scores
//! (fusion/ has its own oriented IoU/GIoU).
//!
//! KITTI rectified camera frame: x right, y down, z forward, metres. A KITTI 3D box is given by
//! its *bottom-face* centre `(x, y, z)`, its size `h` (along y), `w`, `l`, and `rot_y`, the yaw
//! about the camera y axis; `l` lies along the box's own x axis and `w` along its z axis, as in
//! the KITTI object devkit (`computeBox3D`) and AB3DMOT's `Box3D.box2corners3d_camcoord`. The box
//! spans `y - h ..= y` vertically (y points down).

use serde::{Deserialize, Serialize};

/// An axis-aligned box in image pixels, KITTI convention: `(x1, y1)` top-left, `(x2, y2)`
/// bottom-right, continuous coordinates (no `+1` pixel convention, as the tracking devkit).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageBox {
    /// Left edge, pixels.
    pub x1_px: f64,
    /// Top edge, pixels.
    pub y1_px: f64,
    /// Right edge, pixels.
    pub x2_px: f64,
    /// Bottom edge, pixels.
    pub y2_px: f64,
}

impl ImageBox {
    /// Height `|y2 − y1|` in pixels: what the devkit compares with `min_height`.
    pub fn height_px(&self) -> f64 {
        (self.y1_px - self.y2_px).abs()
    }

    /// Area `(x2 − x1)(y2 − y1)` in square pixels, signed as the devkit computes it.
    fn area_px2(&self) -> f64 {
        (self.x2_px - self.x1_px) * (self.y2_px - self.y1_px)
    }

    /// Intersection area with `other` in square pixels, `None` when the overlap has no positive
    /// width or height (the devkit's `w <= 0 or h <= 0` test).
    fn intersection_px2(&self, other: &ImageBox) -> Option<f64> {
        let width = self.x2_px.min(other.x2_px) - self.x1_px.max(other.x1_px);
        let height = self.y2_px.min(other.y2_px) - self.y1_px.max(other.y1_px);
        (width > 0.0 && height > 0.0).then_some(width * height)
    }
}

/// Intersection over union of two image boxes, in `0.0..=1.0`.
///
/// Definition of the KITTI tracking devkit's `boxoverlap(a, b, "union")`: 0 when the boxes do
/// not overlap with positive width and height, else `∩ / (area_a + area_b − ∩)`. A non-positive
/// union (degenerate boxes) gives 0 instead of a division by zero.
pub fn iou_2d(a: &ImageBox, b: &ImageBox) -> f64 {
    let Some(intersection) = a.intersection_px2(b) else { return 0.0 };
    let union = a.area_px2() + b.area_px2() - intersection;
    if union > 0.0 { (intersection / union).clamp(0.0, 1.0) } else { 0.0 }
}

/// Fraction of `a`'s area covered by `b` (intersection over `a`), in `0.0..=1.0`.
///
/// The devkit's `boxoverlap(a, b, "a")`, used to test whether a tracker box `a` lies inside a
/// DontCare region `b`. 0 when `a` has no positive area.
pub fn intersection_over_first_2d(a: &ImageBox, b: &ImageBox) -> f64 {
    let Some(intersection) = a.intersection_px2(b) else { return 0.0 };
    let area = a.area_px2();
    if area > 0.0 { (intersection / area).clamp(0.0, 1.0) } else { 0.0 }
}

/// A KITTI 3D box in the rectified camera frame (see the module docs for the conventions).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct KittiBox3d {
    /// Height along the camera y axis, metres.
    pub h_m: f64,
    /// Width (along the box's own z axis before rotation), metres.
    pub w_m: f64,
    /// Length (along the box's own x axis before rotation), metres.
    pub l_m: f64,
    /// Bottom-face centre x (right), metres.
    pub x_m: f64,
    /// Bottom-face centre y (down), metres: the box spans `y − h ..= y`.
    pub y_m: f64,
    /// Bottom-face centre z (forward), metres.
    pub z_m: f64,
    /// Yaw about the camera y axis, radians (KITTI `rotation_y`).
    pub rot_y_rad: f64,
}

impl KittiBox3d {
    /// Volume `h · w · l` in cubic metres.
    pub fn volume_m3(&self) -> f64 {
        self.h_m * self.w_m * self.l_m
    }

    /// The four footprint corners as `(x, z)` pairs in the bird's-eye x–z plane, metres.
    ///
    /// Corner `(±l/2, ±w/2)` in the box frame maps to `x + cos·dx + sin·dz`,
    /// `z − sin·dx + cos·dz` (rotation about y, the KITTI `roty` matrix).
    pub fn footprint_xz_m(&self) -> [(f64, f64); 4] {
        let (sin, cos) = self.rot_y_rad.sin_cos();
        let (half_l, half_w) = (self.l_m / 2.0, self.w_m / 2.0);
        [(half_l, half_w), (half_l, -half_w), (-half_l, -half_w), (-half_l, half_w)]
            .map(|(dx, dz)| (self.x_m + cos * dx + sin * dz, self.z_m - sin * dx + cos * dz))
    }
}

/// Overlap of the vertical extents `[y − h, y]` of two boxes, metres (0 when disjoint).
fn height_overlap_m(a: &KittiBox3d, b: &KittiBox3d) -> f64 {
    let bottom = a.y_m.min(b.y_m);
    let top = (a.y_m - a.h_m).max(b.y_m - b.h_m);
    (bottom - top).max(0.0)
}

/// Exact 3D intersection over union of two KITTI boxes, in `0.0..=1.0`.
///
/// As AB3DMOT's `dist_metrics.iou(.., metric='iou_3d')`: the intersection is the area of the
/// intersection of the two bird's-eye footprints (x–z plane, exact convex polygon clipping,
/// Sutherland & Hodgman 1974) times the overlap of the vertical extents; the union is
/// `h_a·w_a·l_a + h_b·w_b·l_b − ∩`. Identical boxes give exactly 1 and nearly identical ones
/// within rounding of 1 (AB3DMOT's scipy `ConvexHull` path fails on them; this clipping counts
/// points on an edge as inside). A non-positive union (degenerate boxes) gives 0.
pub fn iou_3d(a: &KittiBox3d, b: &KittiBox3d) -> f64 {
    // Exactly 1 for identical boxes, without the clipping's rounding.
    if a == b && a.volume_m3() > 0.0 {
        return 1.0;
    }
    let height = height_overlap_m(a, b);
    if height <= 0.0 {
        return 0.0;
    }
    let area = convex_intersection_area(&a.footprint_xz_m(), &b.footprint_xz_m());
    let intersection = area * height;
    let union = a.volume_m3() + b.volume_m3() - intersection;
    if union > 0.0 { (intersection / union).clamp(0.0, 1.0) } else { 0.0 }
}

/// Signed area of a polygon (shoelace), positive for counter-clockwise vertex order.
fn signed_area(polygon: &[(f64, f64)]) -> f64 {
    let Some(&last) = polygon.last() else { return 0.0 };
    let mut previous = last;
    let mut twice_area = 0.0;
    for &point in polygon {
        twice_area += previous.0 * point.1 - point.0 * previous.1;
        previous = point;
    }
    twice_area / 2.0
}

/// The polygon in counter-clockwise order; `None` when it has no area.
fn counter_clockwise(polygon: &[(f64, f64); 4]) -> Option<[(f64, f64); 4]> {
    let area = signed_area(polygon);
    if area > 0.0 {
        Some(*polygon)
    } else if area < 0.0 {
        let mut reversed = *polygon;
        reversed.reverse();
        Some(reversed)
    } else {
        None
    }
}

/// Area of the intersection of two convex quadrilaterals (either vertex order).
///
/// Sutherland–Hodgman: the subject polygon is clipped by each edge of the clip polygon in turn.
/// Vertices on an edge's line count as inside, and the crossing point is interpolated along the
/// subject edge from the two signed distances (`t = d_s / (d_s − d_e)`, always in `[0, 1]`), so
/// nearly collinear edges cannot produce points off the segment.
fn convex_intersection_area(subject: &[(f64, f64); 4], clip: &[(f64, f64); 4]) -> f64 {
    let (Some(subject), Some(clip)) = (counter_clockwise(subject), counter_clockwise(clip)) else {
        return 0.0;
    };
    let mut output: Vec<(f64, f64)> = subject.to_vec();
    let mut input: Vec<(f64, f64)> = Vec::with_capacity(8);
    let mut edge_start = clip[3];
    for &edge_end in &clip {
        std::mem::swap(&mut input, &mut output);
        output.clear();
        let (ex, ez) = (edge_end.0 - edge_start.0, edge_end.1 - edge_start.1);
        // Signed distance (times the edge length) of `p` to the left of the clip edge.
        let side = |p: (f64, f64)| ex * (p.1 - edge_start.1) - ez * (p.0 - edge_start.0);
        let Some(&last) = input.last() else { return 0.0 };
        let mut start = last;
        let mut start_side = side(start);
        for &end in &input {
            let end_side = side(end);
            if end_side >= 0.0 {
                if start_side < 0.0 {
                    output.push(crossing(start, end, start_side, end_side));
                }
                output.push(end);
            } else if start_side >= 0.0 {
                output.push(crossing(start, end, start_side, end_side));
            }
            start = end;
            start_side = end_side;
        }
        if output.len() < 3 {
            return 0.0;
        }
        edge_start = edge_end;
    }
    signed_area(&output).abs()
}

/// The point where segment `start → end` crosses a line, from the signed distances of its ends
/// (of opposite signs).
fn crossing(start: (f64, f64), end: (f64, f64), start_side: f64, end_side: f64) -> (f64, f64) {
    let t = start_side / (start_side - end_side);
    (start.0 + t * (end.0 - start.0), start.1 + t * (end.1 - start.1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::{FRAC_PI_2, FRAC_PI_4};

    fn cube(x: f64, y: f64, z: f64, h: f64, w: f64, l: f64, rot: f64) -> KittiBox3d {
        KittiBox3d { h_m: h, w_m: w, l_m: l, x_m: x, y_m: y, z_m: z, rot_y_rad: rot }
    }

    #[test]
    fn footprint_of_a_turned_box() {
        // l = 4 along x, w = 2 along z; turned by +90° about y: box x axis -> camera -z.
        let b = cube(0.0, 0.0, 0.0, 1.0, 2.0, 4.0, FRAC_PI_2);
        let corners = b.footprint_xz_m();
        // (dx, dz) = (2, 1) -> (cos·2 + sin·1, −sin·2 + cos·1) = (1, −2).
        assert!((corners[0].0 - 1.0).abs() < 1e-12 && (corners[0].1 + 2.0).abs() < 1e-12);
    }

    #[test]
    fn square_rotated_by_45_degrees_against_itself() {
        // Unit square vs the same square turned by 45° about its centre: the intersection is a
        // regular octagon of side √2 − 1 ... area 2(√2 − 1) = 0.828427.
        let a = cube(0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0);
        let b = cube(0.0, 0.0, 0.0, 1.0, 1.0, 1.0, FRAC_PI_4);
        let area = convex_intersection_area(&a.footprint_xz_m(), &b.footprint_xz_m());
        assert!((area - 2.0 * (2f64.sqrt() - 1.0)).abs() < 1e-12, "{area}");
    }

    #[test]
    fn image_box_overlap() {
        let a = ImageBox { x1_px: 0.0, y1_px: 0.0, x2_px: 2.0, y2_px: 2.0 };
        let b = ImageBox { x1_px: 1.0, y1_px: 1.0, x2_px: 3.0, y2_px: 3.0 };
        assert!((iou_2d(&a, &b) - 1.0 / 7.0).abs() < 1e-15);
        assert!((intersection_over_first_2d(&a, &b) - 0.25).abs() < 1e-15);
        // Touching edges: zero width, zero overlap.
        let c = ImageBox { x1_px: 2.0, y1_px: 0.0, x2_px: 4.0, y2_px: 2.0 };
        assert_eq!(iou_2d(&a, &c), 0.0);
    }
}
