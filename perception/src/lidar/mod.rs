//! Lidar obstacle pipeline: one point cloud in, oriented obstacle boxes out.
//!
//! Steps, all in the cloud's frame (the lidar's: x forward, y left, z up, metres):
//!
//! 1. **Filter**: non-finite points, points outside `min_range_m..=max_range_m` (3D range) and
//!    points in the ego box are dropped and counted.
//! 2. **Ground removal** ([`ground`]): local PCA plane fits on a concentric zone model
//!    (Patchwork++-style), each bin judged against the plane carried out from the bin inside
//!    it, so that haul ramps stay ground.
//! 3. **Clustering** ([`cluster`]): 8-connected components of a bird's-eye grid, expected O(n).
//! 4. **Boxes** ([`lshape`]): L-shape rectangle fitting (Zhang et al. 2017, closeness
//!    criterion) in x-y, z from the cluster's lowest and highest points.
//!
//! [`LidarPipeline::process`] does no I/O and reads no clock; its buffers live in the struct
//! and are reused, so a steady stream of clouds allocates only the output.

pub mod cluster;
mod config;
pub mod ground;
pub mod lshape;

use nalgebra::{Point3, Vector3};
use pitsense_types::{ConfigError, Detection3d, Header, ObjectSource, PointCloud, PointXyzi, UNKNOWN_CLASS};

pub use config::{EgoBoxConfig, GroundZoneConfig, LidarConfig, MAX_CLUSTER_GRID_CELLS, MAX_GROUND_BINS};
pub use ground::GroundStats;
pub use lshape::{Rectangle, RectangleFitter};

use cluster::GridClusterer;
use ground::GroundSegmenter;

/// Counters of one [`LidarPipeline::process`] call. Every input point is counted exactly once
/// among `non_finite`, `out_of_range`, `in_ego_box`, `ground_points` and `obstacle_points`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LidarStats {
    /// Points in the input cloud.
    pub input_points: usize,
    /// Points with a NaN or infinite coordinate or intensity (dropped).
    pub non_finite: usize,
    /// Points closer than `min_range_m` or farther than `max_range_m` (dropped).
    pub out_of_range: usize,
    /// Points inside the configured ego box (dropped).
    pub in_ego_box: usize,
    /// Points classified as ground.
    pub ground_points: usize,
    /// Kept points that are not ground (the output's `obstacle_points`).
    pub obstacle_points: usize,
    /// Ground bins whose local plane was accepted.
    pub ground_bins_fitted: usize,
    /// Ground bins whose local plane was rejected (tilted or implausibly high or low).
    pub ground_bins_rejected: usize,
    /// Non-empty ground bins with too few points for a fit.
    pub ground_bins_sparse: usize,
    /// Clusters reported in `objects` (`cluster_min_points..=cluster_max_points` points).
    pub clusters: usize,
    /// Connected components with fewer than `cluster_min_points` points (not reported).
    pub small_clusters: usize,
    /// Clusters with more than `cluster_max_points` points (reported in `oversized_objects`).
    pub oversized_clusters: usize,
}

/// Result of one [`LidarPipeline::process`] call; geometry in the input cloud's frame.
#[derive(Clone, Debug, PartialEq)]
pub struct LidarOutput {
    /// One box per cluster: class [`UNKNOWN_CLASS`], source [`ObjectSource::Lidar`], score
    /// `cluster_score`, header copied from the cloud; `size_m.x >= size_m.y` and `yaw_rad` in
    /// `(-π/2, π/2]` (an L-shape shows no front). Sorted by horizontal range from the lidar,
    /// then x, then y.
    pub objects: Vec<Detection3d>,
    /// Boxes of clusters with more than `cluster_max_points` points (walls, berms, several
    /// objects merged), same form and order as `objects`. Not dropped: a planner must still
    /// avoid them, but a tracker should not treat them as one object.
    pub oversized_objects: Vec<Detection3d>,
    /// The kept points that are not ground, in input order (for visualisation and fusion).
    pub obstacle_points: Vec<PointXyzi>,
    /// What happened to the points.
    pub stats: LidarStats,
}

/// The lidar obstacle pipeline (see the module documentation).
#[derive(Clone, Debug)]
pub struct LidarPipeline {
    config: LidarConfig,
    ground: GroundSegmenter,
    clusterer: GridClusterer,
    fitter: RectangleFitter,
    cluster_xy: Vec<[f64; 2]>,
    kept: Vec<PointXyzi>,
    is_ground: Vec<bool>,
}

/// Orders boxes by horizontal range from the origin, then x, then y (total order on floats).
fn compare_by_range(a: &Detection3d, b: &Detection3d) -> std::cmp::Ordering {
    let range = |d: &Detection3d| d.center_m.x.hypot(d.center_m.y);
    range(a)
        .total_cmp(&range(b))
        .then(a.center_m.x.total_cmp(&b.center_m.x))
        .then(a.center_m.y.total_cmp(&b.center_m.y))
}

impl LidarPipeline {
    /// Validates `config` and allocates the pipeline's grids.
    ///
    /// # Errors
    /// The [`ConfigError`] of [`LidarConfig::validate`], with its `lidar.` key.
    pub fn new(config: LidarConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            ground: GroundSegmenter::new(&config),
            clusterer: GridClusterer::new(&config),
            fitter: RectangleFitter::new(config.lshape_angle_step_rad, config.lshape_max_points),
            config,
            cluster_xy: Vec::new(),
            kept: Vec::new(),
            is_ground: Vec::new(),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &LidarConfig {
        &self.config
    }

    /// Runs filter, ground removal, clustering and box fitting on one cloud.
    ///
    /// Never fails: bad points are dropped and counted in [`LidarStats`]; an empty cloud gives
    /// an empty output.
    pub fn process(&mut self, cloud: &PointCloud) -> LidarOutput {
        let mut stats = LidarStats { input_points: cloud.points.len(), ..LidarStats::default() };
        self.filter(&cloud.points, &mut stats);

        let ground = self.ground.segment(&self.kept, &mut self.is_ground);
        stats.ground_points = ground.ground_points;
        stats.ground_bins_fitted = ground.bins_fitted;
        stats.ground_bins_rejected = ground.bins_rejected;
        stats.ground_bins_sparse = ground.bins_sparse;

        let obstacle_points: Vec<PointXyzi> =
            self.kept.iter().zip(&self.is_ground).filter(|(_, ground)| !**ground).map(|(p, _)| *p).collect();
        stats.obstacle_points = obstacle_points.len();

        let mut objects = Vec::new();
        let mut oversized_objects = Vec::new();
        let cluster_count = self.clusterer.cluster(&obstacle_points);
        for index in 0..cluster_count {
            let members = self.clusterer.cluster_members(index);
            if members.len() < self.config.cluster_min_points {
                stats.small_clusters += 1;
                continue;
            }
            let Some(detection) = box_of_cluster(
                &mut self.fitter,
                &mut self.cluster_xy,
                &obstacle_points,
                members,
                cloud.header,
                self.config.cluster_score,
            ) else {
                continue;
            };
            if members.len() > self.config.cluster_max_points {
                stats.oversized_clusters += 1;
                oversized_objects.push(detection);
            } else {
                stats.clusters += 1;
                objects.push(detection);
            }
        }
        objects.sort_by(compare_by_range);
        oversized_objects.sort_by(compare_by_range);
        LidarOutput { objects, oversized_objects, obstacle_points, stats }
    }

    /// Step 1: copies the usable points into `self.kept`.
    fn filter(&mut self, points: &[PointXyzi], stats: &mut LidarStats) {
        self.kept.clear();
        self.kept.reserve(points.len());
        let (min_range, max_range) = (self.config.min_range_m as f32, self.config.max_range_m as f32);
        let ego = self.config.ego_box.as_ref().map(|b| {
            let f = |v: [f64; 3]| [v[0] as f32, v[1] as f32, v[2] as f32];
            (f(b.min_m), f(b.max_m))
        });
        for p in points {
            if !p.is_finite() {
                stats.non_finite += 1;
                continue;
            }
            let range = p.range_m();
            if !(min_range..=max_range).contains(&range) {
                stats.out_of_range += 1;
                continue;
            }
            if let Some((lo, hi)) = &ego
                && (lo[0]..=hi[0]).contains(&p.x_m)
                && (lo[1]..=hi[1]).contains(&p.y_m)
                && (lo[2]..=hi[2]).contains(&p.z_m)
            {
                stats.in_ego_box += 1;
                continue;
            }
            self.kept.push(*p);
        }
    }
}

/// Fits the oriented box of one cluster: L-shape rectangle in x-y, z from the lowest and highest
/// point (centre z is their midpoint). `xy` is a reusable buffer.
fn box_of_cluster(
    fitter: &mut RectangleFitter,
    xy: &mut Vec<[f64; 2]>,
    points: &[PointXyzi],
    members: &[u32],
    header: Header,
    score: f32,
) -> Option<Detection3d> {
    xy.clear();
    let (mut z_min, mut z_max) = (f32::INFINITY, f32::NEG_INFINITY);
    for p in members.iter().filter_map(|&i| points.get(i as usize)) {
        xy.push([f64::from(p.x_m), f64::from(p.y_m)]);
        z_min = z_min.min(p.z_m);
        z_max = z_max.max(p.z_m);
    }
    let rectangle = fitter.fit(xy)?;
    let (z_min, z_max) = (f64::from(z_min), f64::from(z_max));
    Some(Detection3d {
        header,
        center_m: Point3::new(rectangle.center_m[0], rectangle.center_m[1], (z_min + z_max) / 2.0),
        size_m: Vector3::new(
            rectangle.length_m,
            rectangle.width_m,
            (z_max - z_min).max(lshape::MIN_BOX_EXTENT_M),
        ),
        yaw_rad: rectangle.yaw_rad,
        class_label: UNKNOWN_CLASS.to_string(),
        score,
        source: ObjectSource::Lidar,
    })
}
