//! Dust filter: removes the scattered, weak returns of the dust haul trucks raise.
//!
//! Dust is a cloud of small particles: each particle returns little light (low intensity), the
//! returns scatter in depth along the beams instead of lying on surfaces (few neighbours), and a
//! beam that grazes dust usually goes on to a solid target behind it (a second, farther echo).
//! Solid obstacles give the opposite: returns packed on surfaces, often bright. The filter
//! combines these cues, in the spirit of the intensity + neighbourhood outlier removal used for
//! snow, rain and dust (Charron, Phillips, Waslander, "De-noising of Lidar Point Clouds Corrupted
//! by Snowfall", CRV 2018, DROR; Park, Kim, Jung, "Fast and Accurate Desnowing Algorithm for
//! LiDAR Point Clouds", IEEE Access 2020, LIOR) and with the multi-echo cue of Stanislas et al.,
//! "Airborne Particle Classification in LiDAR Point Clouds Using Deep Learning", FSR 2019.
//!
//! A point is **dust** when its intensity is at most `max_intensity` and
//!
//! 1. (**density**) fewer than `min_neighbours` other points of the slice lie within
//!    `neighbour_radius_m` of it (3D), or
//! 2. (**multi-echo**, when the driver reports it) the same laser firing also returned at least
//!    `echo_min_separation_m` farther away: the beam went through this return.
//!
//! Neighbours are counted with a voxel hash ([`super::voxel`]) of leaf `neighbour_radius_m`:
//! the points within the radius lie in the 27 voxels around the point's own, so the count is
//! expected O(n) and stops as soon as `min_neighbours` are found. Points brighter than
//! `max_intensity` are never dust, whatever their density: a lone bright return is a real
//! (retro-reflective) target.
//!
//! **Multi-echo seam.** [`super::PointXyzi`] has no echo field. A driver that decodes several
//! returns per firing (Velodyne dual return: strongest and last; Ouster dual-return profiles)
//! passes, beside the cloud, one `farther_echo_m` value per point: how much farther than this
//! return the farthest other return of the same firing lay, metres (0 or NaN when the firing
//! returned once or this is the farthest return). See [`super::LidarFrame::farther_echo_m`].
//!
//! The pipeline runs the filter on the non-ground points, after ground removal: dust settled on
//! the ground or floating just above it is ground or dust, never an obstacle, and ground points
//! do not lend dust their density.

use pitsense_types::PointXyzi;

use super::config::DustConfig;
use super::voxel::{VoxelIndex, voxel_coordinates, voxel_key};

/// Counters of one dust classification.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DustStats {
    /// Points at or below `max_intensity` (the only ones that may be dust).
    pub candidates: usize,
    /// Candidates with too few neighbours (dust).
    pub sparse: usize,
    /// Candidates with a farther echo on the same firing (dust), not counted in `sparse`.
    pub echo: usize,
}

impl DustStats {
    /// All points classified as dust.
    pub fn dust(&self) -> usize {
        self.sparse + self.echo
    }
}

/// The dust filter (module documentation); reuses its voxel hash between calls.
#[derive(Clone, Debug)]
pub struct DustFilter {
    config: DustConfig,
    radius_sq_m2: f32,
    index: VoxelIndex,
}

impl DustFilter {
    /// A filter with `config` (validated by [`super::LidarConfig::validate`] as `lidar.dust`;
    /// a non-positive or non-finite radius is replaced by 0.3 m).
    pub fn new(config: &DustConfig) -> Self {
        let mut config = config.clone();
        if !(config.neighbour_radius_m.is_finite() && config.neighbour_radius_m > 0.0) {
            config.neighbour_radius_m = 0.3;
        }
        let radius = config.neighbour_radius_m as f32;
        Self { radius_sq_m2: radius * radius, config, index: VoxelIndex::default() }
    }

    /// Labels each of `points` (finite) dust (`true`) or not, writing `is_dust` (resized to
    /// `points.len()`). `farther_echo_m`, when given, is parallel to `points` (see the module
    /// documentation); a slice of another length is ignored (the caller counts it).
    pub fn classify(
        &mut self,
        points: &[PointXyzi],
        farther_echo_m: Option<&[f32]>,
        is_dust: &mut Vec<bool>,
    ) -> DustStats {
        is_dust.clear();
        is_dust.resize(points.len(), false);
        let mut stats = DustStats::default();
        let max_intensity = self.config.max_intensity;
        let farther_echo_m = farther_echo_m.filter(|echo| echo.len() == points.len());
        if !points.iter().any(|p| p.intensity <= max_intensity) {
            return stats;
        }
        self.index.build(points, self.config.neighbour_radius_m as f32);
        let needed = self.config.min_neighbours;
        for (index, point) in points.iter().enumerate() {
            if point.intensity > max_intensity {
                continue;
            }
            stats.candidates += 1;
            let echo_gap_m = farther_echo_m.and_then(|echo| echo.get(index)).copied().unwrap_or(0.0);
            let dust = if echo_gap_m >= self.config.echo_min_separation_m {
                stats.echo += 1;
                true
            } else if self.count_neighbours(points, index, needed) < needed {
                stats.sparse += 1;
                true
            } else {
                false
            };
            if let Some(flag) = is_dust.get_mut(index) {
                *flag = dust;
            }
        }
        stats
    }

    /// Neighbours of point `index` within the radius, counted up to `needed`.
    fn count_neighbours(&self, points: &[PointXyzi], index: usize, needed: usize) -> usize {
        let Some(point) = points.get(index) else { return 0 };
        let mut count = 0;
        let count_in = |voxel: u32, count: &mut usize| {
            for &other in self.index.members(voxel) {
                if other as usize == index {
                    continue;
                }
                let Some(q) = points.get(other as usize) else { continue };
                let (dx, dy, dz) = (q.x_m - point.x_m, q.y_m - point.y_m, q.z_m - point.z_m);
                if dx * dx + dy * dy + dz * dz <= self.radius_sq_m2 {
                    *count += 1;
                    if *count >= needed {
                        return;
                    }
                }
            }
        };
        // The point's own voxel first: on a surface it usually holds enough neighbours.
        let Some(own) = self.index.voxel_of_point(index) else { return 0 };
        count_in(own, &mut count);
        if count >= needed {
            return count;
        }
        let [cx, cy, cz] = voxel_coordinates(point, self.index.inverse_leaf());
        for dz in -1..=1 {
            for dy in -1..=1 {
                for dx in -1..=1 {
                    if dx == 0 && dy == 0 && dz == 0 {
                        continue;
                    }
                    if let Some(voxel) = self.index.find(voxel_key([cx + dx, cy + dy, cz + dz])) {
                        count_in(voxel, &mut count);
                        if count >= needed {
                            return count;
                        }
                    }
                }
            }
        }
        count
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.
mod tests {
    use super::*;

    fn point(x: f32, y: f32, z: f32, intensity: f32) -> PointXyzi {
        PointXyzi { x_m: x, y_m: y, z_m: z, intensity }
    }

    #[test]
    fn lone_dim_points_are_dust_packed_or_bright_ones_are_not() {
        let config = DustConfig { neighbour_radius_m: 0.3, min_neighbours: 2, ..DustConfig::default() };
        let mut filter = DustFilter::new(&config);
        let points = [
            point(10.0, 0.0, 0.0, 0.05),  // dim, two neighbours within 0.3 m: kept
            point(10.1, 0.0, 0.0, 0.05),  // dim, two neighbours
            point(10.0, 0.25, 0.0, 0.5),  // bright
            point(20.0, 0.0, 0.0, 0.05),  // dim and alone: dust
            point(20.29, 0.0, 0.0, 0.05), // dim, one neighbour (the one above): dust
            point(30.0, 0.0, 0.0, 0.9),   // bright and alone: kept
            point(20.0, 0.0, 0.31, 0.5),  // just outside the radius of the lone dim point
        ];
        let mut is_dust = Vec::new();
        let stats = filter.classify(&points, None, &mut is_dust);
        assert_eq!(is_dust, [false, false, false, true, true, false, false]);
        assert_eq!(stats, DustStats { candidates: 4, sparse: 2, echo: 0 });
    }

    #[test]
    fn a_dim_return_with_a_farther_echo_is_dust() {
        let config = DustConfig { min_neighbours: 1, echo_min_separation_m: 1.0, ..DustConfig::default() };
        let mut filter = DustFilter::new(&config);
        let points = [point(5.0, 0.0, 0.0, 0.05), point(5.05, 0.0, 0.0, 0.05), point(5.1, 0.0, 0.0, 0.8)];
        let mut is_dust = Vec::new();
        // The first firing also returned 6 m farther; the bright one too, but bright is kept.
        let stats = filter.classify(&points, Some(&[6.0, f32::NAN, 6.0]), &mut is_dust);
        assert_eq!(is_dust, [true, false, false]);
        assert_eq!(stats, DustStats { candidates: 2, sparse: 0, echo: 1 });
        // A slice of the wrong length is ignored.
        let stats = filter.classify(&points, Some(&[6.0]), &mut is_dust);
        assert_eq!(is_dust, [false, false, false]);
        assert_eq!(stats.dust(), 0);
    }
}
