//! Slope-tolerant ground segmentation with local plane fits on a concentric zone model, in the
//! spirit of Patchwork / Patchwork++ (Lim, Oh, Myung, "Patchwork: Concentric Zone-based
//! Region-wise Ground Segmentation with Ground Likelihood Estimation Using a 3D LiDAR Sensor",
//! RA-L 2021; Lee, Lim, Myung, "Patchwork++", IROS 2022).
//!
//! The x-y plane around the lidar is cut into zones of rings × sectors ("bins"). Bins are
//! visited from the inside out. Each bin gets a **reference plane**: for the innermost ring, the
//! horizontal plane `sensor_height_m` below the lidar; otherwise the plane of the bin just inside
//! it at the same angle, extrapolated. In the bin:
//!
//! 1. Heights are taken relative to the reference plane, so a ramp's grade does not bias the
//!    seeds to the bin's low edge. Points far below the reference (noise, multipath) are left
//!    out of the fit.
//! 2. The mean of the `ground_seed_count` lowest relative heights is the "lowest point
//!    representative"; points up to `ground_seed_height_m` above it are the seeds.
//! 3. A plane is fitted by PCA (normal = eigenvector of the smallest eigenvalue of the 3×3
//!    covariance, `nalgebra::SymmetricEigen`), then re-fitted on the points within
//!    `ground_distance_threshold_m` of it, `ground_plane_iterations` fits in all.
//! 4. The plane is accepted as ground when its normal is within `ground_max_tilt_rad` of the
//!    lidar's z axis and its height at the fitted points' centroid is within
//!    `ground_max_height_step_m + ground_max_grade_change_m_per_m · d` of the reference plane,
//!    `d` being the horizontal distance from the reference plane's anchor. Otherwise (or when the
//!    bin has fewer than `ground_min_bin_points` points) the bin keeps the reference plane, which
//!    is then carried further out.
//! 5. Points less than `ground_distance_threshold_m` above the bin's plane (or below it) are
//!    ground.

use std::f32::consts::PI as PI_F32;

use nalgebra::{Matrix3, SymmetricEigen, Vector3};
use pitsense_types::{ConfigError, PointXyzi};

use super::config::LidarConfig;

/// One annulus of bins.
#[derive(Clone, Copy, Debug)]
struct Zone {
    inner_m: f32,
    outer_m: f32,
    ring_width_m: f32,
    /// `1 / ring_width_m`.
    rings_per_m: f32,
    /// `sectors / 2π`.
    sectors_per_rad: f32,
    rings: u32,
    sectors: u32,
    first_bin: usize,
}

/// The bin of a point: zone by horizontal range (clamped to the first and last zone), ring
/// within the zone, sector by azimuth from -π.
#[inline]
fn bin_of(zones: &[Zone], p: &PointXyzi) -> u32 {
    let range_m = (p.x_m * p.x_m + p.y_m * p.y_m).sqrt();
    // Zones are sorted by radius: the zone is the number of outer radii at or below the range.
    let index = zones.iter().filter(|z| range_m >= z.outer_m).count();
    let Some(zone) = zones.get(index).or(zones.last()) else {
        return 0;
    };
    // Float-to-int casts saturate: negative values (inside the first zone) give ring 0.
    let ring = (((range_m - zone.inner_m) * zone.rings_per_m) as u32).min(zone.rings - 1);
    let sector = (((fast_atan2(p.y_m, p.x_m) + PI_F32) * zone.sectors_per_rad) as u32).min(zone.sectors - 1);
    (zone.first_bin + (ring * zone.sectors + sector) as usize) as u32
}

/// A plane `normal · p + offset = 0` with an upward unit normal, and the x-y point it was
/// estimated around (distances for the grade allowance are measured from it).
#[derive(Clone, Copy, Debug, PartialEq)]
struct GroundPlane {
    normal: Vector3<f64>,
    offset: f64,
    anchor_xy: [f64; 2],
}

impl GroundPlane {
    /// The horizontal plane `z = height_m`, anchored at the origin.
    fn horizontal(height_m: f64) -> Self {
        Self { normal: Vector3::z(), offset: -height_m, anchor_xy: [0.0, 0.0] }
    }

    /// Height of the plane above `(x, y)`; the normal's z is positive for every plane kept.
    fn height_at(&self, x: f64, y: f64) -> f64 {
        -(self.normal.x * x + self.normal.y * y + self.offset) / self.normal.z
    }

    /// Signed distance of a point, positive above the plane.
    fn signed_distance(&self, p: &PointXyzi) -> f64 {
        self.normal.x * f64::from(p.x_m)
            + self.normal.y * f64::from(p.y_m)
            + self.normal.z * f64::from(p.z_m)
            + self.offset
    }

    fn anchor_distance_m(&self, x: f64, y: f64) -> f64 {
        (x - self.anchor_xy[0]).hypot(y - self.anchor_xy[1])
    }
}

/// Sums for a least-squares plane through points, relative to a local origin: the count, the
/// coordinate sums and the six distinct second moments.
#[derive(Clone, Copy, Debug)]
struct PlaneAccumulator {
    origin: [f64; 3],
    count: usize,
    sum: [f64; 3],
    /// xx, xy, xz, yy, yz, zz.
    moments: [f64; 6],
}

impl PlaneAccumulator {
    fn new(origin: [f64; 3]) -> Self {
        Self { origin, count: 0, sum: [0.0; 3], moments: [0.0; 6] }
    }

    fn add(&mut self, p: &PointXyzi) {
        let x = f64::from(p.x_m) - self.origin[0];
        let y = f64::from(p.y_m) - self.origin[1];
        let z = f64::from(p.z_m) - self.origin[2];
        self.count += 1;
        self.sum[0] += x;
        self.sum[1] += y;
        self.sum[2] += z;
        self.moments[0] += x * x;
        self.moments[1] += x * y;
        self.moments[2] += x * z;
        self.moments[3] += y * y;
        self.moments[4] += y * z;
        self.moments[5] += z * z;
    }

    /// PCA plane: normal = eigenvector of the smallest eigenvalue of the covariance, pointing
    /// up. `None` with fewer than three points or a non-finite result.
    fn fit(&self) -> Option<GroundPlane> {
        if self.count < 3 {
            return None;
        }
        let n = self.count as f64;
        let mean = Vector3::new(self.sum[0] / n, self.sum[1] / n, self.sum[2] / n);
        let [xx, xy, xz, yy, yz, zz] = self.moments.map(|m| m / n);
        let second = Matrix3::new(xx, xy, xz, xy, yy, yz, xz, yz, zz);
        let covariance = second - mean * mean.transpose();
        let eigen = SymmetricEigen::new(covariance);
        let smallest = eigen.eigenvalues.imin();
        let mut normal: Vector3<f64> = eigen.eigenvectors.column(smallest).into_owned();
        if normal.z < 0.0 {
            normal = -normal;
        }
        let norm = normal.norm();
        if norm.is_nan() || norm <= 0.0 || !normal.iter().all(|v| v.is_finite()) {
            return None;
        }
        normal /= norm;
        let centroid =
            Vector3::new(mean.x + self.origin[0], mean.y + self.origin[1], mean.z + self.origin[2]);
        Some(GroundPlane { normal, offset: -normal.dot(&centroid), anchor_xy: [centroid.x, centroid.y] })
    }
}

/// Counters of one ground segmentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroundStats {
    /// Points classified as ground.
    pub ground_points: usize,
    /// Bins whose fitted plane was accepted.
    pub bins_fitted: usize,
    /// Bins whose fitted plane was rejected (too tilted, or too far above or below the inner
    /// bin's plane); their points were classified against the carried plane.
    pub bins_rejected: usize,
    /// Non-empty bins with too few points to fit.
    pub bins_sparse: usize,
}

/// What the fit of one bin decided.
enum BinOutcome {
    Fitted(GroundPlane),
    Rejected,
    Sparse,
}

/// Parameters copied from [`LidarConfig`].
#[derive(Clone, Copy, Debug)]
struct Params {
    sensor_height_m: f64,
    seed_count: usize,
    seed_height_m: f64,
    distance_threshold_m: f64,
    iterations: usize,
    min_bin_points: usize,
    min_normal_z: f64,
    max_height_step_m: f64,
    max_grade_change: f64,
}

/// The ground segmenter (module documentation); owns all its buffers so that a frame allocates
/// nothing once the buffers have grown to the largest cloud seen.
#[derive(Clone, Debug)]
pub struct GroundSegmenter {
    params: Params,
    zones: Vec<Zone>,
    bin_count: usize,
    bin_of_point: Vec<u32>,
    bin_start: Vec<u32>,
    bin_cursor: Vec<u32>,
    /// The points in bin order (bins are then contiguous and cache-friendly) ...
    binned_points: Vec<PointXyzi>,
    /// ... and the index of each in the caller's slice.
    binned_index: Vec<u32>,
    bin_planes: Vec<GroundPlane>,
    residuals: Vec<(f32, u32)>,
}

/// Fast `atan2`, absolute error about 2e-6 rad (an 11th-order odd minimax polynomial of `atan`
/// on `[0, 1]`, after octant reduction); chooses a point's sector here and its time in
/// [`super::deskew`].
#[inline]
pub(crate) fn fast_atan2(y: f32, x: f32) -> f32 {
    let (ax, ay) = (x.abs(), y.abs());
    let largest = ax.max(ay);
    // 0/0 at the origin gives NaN, which the final selection maps to 0.
    let a = ax.min(ay) / largest;
    let s = a * a;
    let r = a
        * (0.999_977_26
            + s * (-0.332_623_47
                + s * (0.193_543_46 + s * (-0.116_432_87 + s * (0.052_653_32 - s * 0.011_721_2)))));
    // Octant reduction undone with selections rather than branches: the signs of a scan's
    // coordinates are unpredictable, and mispredicted branches dominated this function.
    let r = select(ay > ax, PI_F32 / 2.0 - r, r);
    let r = select(x < 0.0, PI_F32 - r, r);
    let r = select(y < 0.0, -r, r);
    select(largest > 0.0, r, 0.0)
}

/// `if condition { a } else { b }` on floats, written as a bit mask so that it compiles to
/// `and`/`andnot`/`or` instead of a branch.
#[inline]
fn select(condition: bool, a: f32, b: f32) -> f32 {
    let mask = 0_u32.wrapping_sub(u32::from(condition));
    f32::from_bits((a.to_bits() & mask) | (b.to_bits() & !mask))
}

impl GroundSegmenter {
    /// Validates `config` and builds its zone layout.
    ///
    /// # Errors
    /// The [`ConfigError`] of [`LidarConfig::validate`].
    pub fn new(config: &LidarConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self::new_validated(config))
    }

    /// Builds the zone layout; `config` must have passed [`LidarConfig::validate`].
    pub(crate) fn new_validated(config: &LidarConfig) -> Self {
        let mut zones = Vec::with_capacity(config.ground_zones.len());
        let mut inner_m = config.min_range_m as f32;
        let mut first_bin = 0;
        for zone in &config.ground_zones {
            let outer_m = zone.outer_radius_m as f32;
            let rings = zone.rings.max(1);
            let ring_width_m = (outer_m - inner_m) / rings as f32;
            let sectors = zone.sectors.max(1);
            zones.push(Zone {
                inner_m,
                outer_m,
                ring_width_m,
                rings_per_m: 1.0 / ring_width_m,
                sectors_per_rad: sectors as f32 / (2.0 * PI_F32),
                rings,
                sectors,
                first_bin,
            });
            first_bin += rings as usize * zone.sectors.max(1) as usize;
            inner_m = outer_m;
        }
        Self {
            params: Params {
                sensor_height_m: config.sensor_height_m,
                seed_count: config.ground_seed_count.max(1),
                seed_height_m: config.ground_seed_height_m,
                distance_threshold_m: config.ground_distance_threshold_m,
                iterations: config.ground_plane_iterations.max(1),
                min_bin_points: config.ground_min_bin_points.max(3),
                min_normal_z: config.ground_max_tilt_rad.cos(),
                max_height_step_m: config.ground_max_height_step_m,
                max_grade_change: config.ground_max_grade_change_m_per_m,
            },
            zones,
            bin_count: first_bin,
            bin_of_point: Vec::new(),
            bin_start: vec![0; first_bin + 1],
            bin_cursor: vec![0; first_bin],
            binned_points: Vec::new(),
            binned_index: Vec::new(),
            bin_planes: vec![GroundPlane::horizontal(-config.sensor_height_m); first_bin],
            residuals: Vec::new(),
        }
    }

    /// Height of the ground under `(x_m, y_m)` (lidar frame, metres): the plane of that point's
    /// bin from the last [`Self::segment`] (fitted, or carried out from the bin inside it);
    /// before any segmentation, the horizontal plane `sensor_height_m` below the lidar.
    pub fn ground_height_at(&self, x_m: f64, y_m: f64) -> f64 {
        let probe = PointXyzi { x_m: x_m as f32, y_m: y_m as f32, z_m: 0.0, intensity: 0.0 };
        match self.bin_planes.get(bin_of(&self.zones, &probe) as usize) {
            Some(plane) => plane.height_at(x_m, y_m),
            None => -self.params.sensor_height_m,
        }
    }

    /// Labels each point of `points` (finite, in the lidar frame) as ground (`true`) or not,
    /// writing `is_ground` (resized to `points.len()`).
    pub fn segment(&mut self, points: &[PointXyzi], is_ground: &mut Vec<bool>) -> GroundStats {
        is_ground.clear();
        is_ground.resize(points.len(), false);
        let mut stats = GroundStats::default();
        if self.bin_count == 0 {
            return stats;
        }

        // Counting sort of point indices by bin (stable: ascending point index within a bin).
        self.bin_of_point.clear();
        let zones = &self.zones;
        self.bin_of_point.extend(points.iter().map(|p| bin_of(zones, p)));
        self.bin_start.iter_mut().for_each(|c| *c = 0);
        for &bin in &self.bin_of_point {
            if let Some(count) = self.bin_start.get_mut(bin as usize + 1) {
                *count += 1;
            }
        }
        for index in 1..self.bin_start.len() {
            self.bin_start[index] += self.bin_start[index - 1];
        }
        self.bin_cursor.copy_from_slice(&self.bin_start[..self.bin_count]);
        self.binned_points.clear();
        self.binned_points.resize(points.len(), PointXyzi::default());
        self.binned_index.clear();
        self.binned_index.resize(points.len(), 0);
        for ((index, &bin), p) in self.bin_of_point.iter().enumerate().zip(points) {
            if let Some(cursor) = self.bin_cursor.get_mut(bin as usize) {
                let slot = *cursor as usize;
                if let (Some(point_slot), Some(index_slot)) =
                    (self.binned_points.get_mut(slot), self.binned_index.get_mut(slot))
                {
                    *point_slot = *p;
                    *index_slot = index as u32;
                }
                *cursor += 1;
            }
        }

        // Visit bins from the inside out.
        let params = self.params;
        let origin_plane = GroundPlane::horizontal(-params.sensor_height_m);
        for (zone_index, zone) in self.zones.iter().enumerate() {
            for ring in 0..zone.rings {
                for sector in 0..zone.sectors {
                    let bin = zone.first_bin + (ring * zone.sectors + sector) as usize;
                    let reference = if ring > 0 {
                        self.bin_planes[bin - zone.sectors as usize]
                    } else if let Some(inner) = zone_index.checked_sub(1).and_then(|i| self.zones.get(i)) {
                        let fraction = (sector as f32 + 0.5) / zone.sectors as f32;
                        let inner_sector = ((fraction * inner.sectors as f32) as u32).min(inner.sectors - 1);
                        let inner_bin =
                            inner.first_bin + ((inner.rings - 1) * inner.sectors + inner_sector) as usize;
                        self.bin_planes[inner_bin]
                    } else {
                        origin_plane
                    };
                    let start = self.bin_start[bin] as usize;
                    let end = self.bin_start[bin + 1] as usize;
                    let bin_points = self.binned_points.get(start..end).unwrap_or(&[]);
                    let bin_indices = self.binned_index.get(start..end).unwrap_or(&[]);
                    if bin_points.is_empty() {
                        self.bin_planes[bin] = reference;
                        continue;
                    }
                    let radius_m = f64::from(zone.inner_m + (ring as f32 + 0.5) * zone.ring_width_m);
                    let angle_rad =
                        f64::from(-PI_F32 + (sector as f32 + 0.5) / zone.sectors as f32 * 2.0 * PI_F32);
                    let center_xy = [radius_m * angle_rad.cos(), radius_m * angle_rad.sin()];
                    let outcome = fit_bin(&params, bin_points, &reference, center_xy, &mut self.residuals);
                    let plane = match outcome {
                        BinOutcome::Fitted(plane) => {
                            stats.bins_fitted += 1;
                            plane
                        }
                        BinOutcome::Rejected => {
                            stats.bins_rejected += 1;
                            reference
                        }
                        BinOutcome::Sparse => {
                            stats.bins_sparse += 1;
                            reference
                        }
                    };
                    self.bin_planes[bin] = plane;
                    for (p, &index) in bin_points.iter().zip(bin_indices) {
                        if plane.signed_distance(p) < params.distance_threshold_m
                            && let Some(flag) = is_ground.get_mut(index as usize)
                        {
                            *flag = true;
                            stats.ground_points += 1;
                        }
                    }
                }
            }
        }
        stats
    }
}

/// Seeds, fits and judges the plane of one bin (steps 1-4 of the module documentation);
/// `points` are the bin's points, `residuals` a reusable buffer.
fn fit_bin(
    params: &Params,
    points: &[PointXyzi],
    reference: &GroundPlane,
    center_xy: [f64; 2],
    residuals: &mut Vec<(f32, u32)>,
) -> BinOutcome {
    let allowance_m = |x: f64, y: f64| {
        params.max_height_step_m + params.max_grade_change * reference.anchor_distance_m(x, y)
    };
    let lowest_allowed = -allowance_m(center_xy[0], center_xy[1]);
    residuals.clear();
    // The reference plane as z = a·x + b·y + c (its normal's z is positive).
    let inverse_nz = 1.0 / reference.normal.z;
    let (a, b, c) =
        (-reference.normal.x * inverse_nz, -reference.normal.y * inverse_nz, -reference.offset * inverse_nz);
    for (index, p) in points.iter().enumerate() {
        let height = f64::from(p.z_m) - (a * f64::from(p.x_m) + b * f64::from(p.y_m) + c);
        if height >= lowest_allowed {
            residuals.push((height as f32, index as u32));
        }
    }
    if residuals.len() < params.min_bin_points {
        return BinOutcome::Sparse;
    }
    let seed_count = params.seed_count.min(residuals.len());
    residuals.select_nth_unstable_by(seed_count - 1, |a, b| a.0.total_cmp(&b.0));
    let lowest_mean =
        residuals.iter().take(seed_count).map(|r| f64::from(r.0)).sum::<f64>() / seed_count as f64;
    let seed_limit = lowest_mean + params.seed_height_m;

    let origin = match points.get(residuals[0].1 as usize) {
        Some(p) => [f64::from(p.x_m), f64::from(p.y_m), f64::from(p.z_m)],
        None => return BinOutcome::Sparse,
    };
    let mut accumulator = PlaneAccumulator::new(origin);
    for &(height, index) in residuals.iter() {
        if f64::from(height) < seed_limit
            && let Some(p) = points.get(index as usize)
        {
            accumulator.add(p);
        }
    }
    let Some(mut plane) = accumulator.fit() else { return BinOutcome::Rejected };
    for _ in 1..params.iterations {
        let mut refit = PlaneAccumulator::new(origin);
        for &(_, index) in residuals.iter() {
            if let Some(p) = points.get(index as usize)
                && plane.signed_distance(p).abs() < params.distance_threshold_m
            {
                refit.add(p);
            }
        }
        match refit.fit() {
            Some(better) => plane = better,
            None => break,
        }
    }
    let [x, y] = plane.anchor_xy;
    let step_m = (plane.height_at(x, y) - reference.height_at(x, y)).abs();
    if plane.normal.z >= params.min_normal_z && step_m <= allowance_m(x, y) {
        BinOutcome::Fitted(plane)
    } else {
        BinOutcome::Rejected
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.
mod tests {
    use super::*;

    #[test]
    fn fast_atan2_is_accurate() {
        let mut worst = 0.0_f32;
        for i in 0..3600 {
            let angle = (i as f32 / 3600.0) * 2.0 * PI_F32 - PI_F32 + 1e-4;
            let (y, x) = (angle.sin() * 37.0, angle.cos() * 37.0);
            worst = worst.max((fast_atan2(y, x) - y.atan2(x)).abs());
        }
        assert!(worst < 2e-5, "{worst}");
        assert_eq!(fast_atan2(0.0, 0.0), 0.0);
    }

    #[test]
    fn pca_plane_of_a_tilted_patch() {
        let mut accumulator = PlaneAccumulator::new([10.0, 0.0, -1.0]);
        for i in 0..10 {
            for j in 0..10 {
                let (x, y) = (10.0 + i as f32 * 0.3, j as f32 * 0.3);
                accumulator.add(&PointXyzi { x_m: x, y_m: y, z_m: -1.73 + 0.1 * (x - 10.0), intensity: 0.0 });
            }
        }
        let plane = accumulator.fit().unwrap();
        // Normal of z = 0.1 x + c is (-0.1, 0, 1) / |.|.
        let expected = Vector3::new(-0.1, 0.0, 1.0).normalize();
        assert!((plane.normal - expected).norm() < 1e-4, "{:?}", plane.normal);
        assert!((plane.height_at(12.0, 5.0) - (-1.73 + 0.2)).abs() < 1e-4);
    }
}
