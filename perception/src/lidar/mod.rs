//! Lidar obstacle pipeline: one point cloud in, oriented obstacle boxes out.
//!
//! Steps, all in the cloud's frame (the lidar's: x forward, y left, z up, metres):
//!
//! 1. **Filter**: non-finite points, points outside `min_range_m..=max_range_m` (3D range) and
//!    points in the ego box are dropped and counted. This runs on the raw points: the ego box
//!    moves with the sensor.
//! 2. **Deskew** ([`mod@deskew`], optional): with an ego state ([`LidarFrame::ego`]) and
//!    `[lidar.deskew] enabled`, each point is moved into the lidar frame at the cloud's stamp
//!    (constant speed and yaw rate over the rotation).
//! 3. **Ground removal** ([`ground`]): local PCA plane fits on a concentric zone model
//!    (Patchwork++-style), each bin judged against the plane carried out from the bin inside
//!    it, so that haul ramps stay ground.
//! 4. **Dust** ([`dust`], `[lidar.dust]`): dim non-ground points with few neighbours (or, with
//!    multi-echo data, with a farther echo) are dropped and counted.
//! 5. **Voxel downsampling** ([`voxel`], optional, `[lidar.voxel]`): clustering and boxes use
//!    one centroid per voxel.
//! 6. **Clustering** ([`cluster`]): 8-connected components of a bird's-eye grid, expected O(n).
//! 7. **Boxes** ([`lshape`]): L-shape rectangle fitting (Zhang et al. 2017, closeness
//!    criterion) in x-y, z from the cluster's lowest and highest points, and the height of the
//!    box bottom above the ground plane under the box centre.
//!
//! Oversized clusters (more than `cluster_max_points` points or longer than
//! `cluster_max_length_m`: berms, walls, trailers, objects merged together) are never dropped:
//! they are in `objects` like the others, flagged in [`LidarObjectInfo::oversized`], so that a
//! planner avoids them and a tracker may choose to treat them as static extended obstacles.
//!
//! [`LidarPipeline::process_frame`] does no I/O and reads no clock; its buffers live in the
//! struct and are reused, so a steady stream of clouds allocates only the output.

pub mod cluster;
mod config;
pub mod deskew;
pub mod dust;
pub mod ground;
pub mod lshape;
pub mod voxel;

use nalgebra::{Point3, Vector3};
use pitsense_types::{
    ConfigError, Detection3d, EgoState, Header, ObjectSource, PointCloud, PointXyzi, UNKNOWN_CLASS,
};

pub use cluster::GridClusterer;
pub use config::{
    DeskewConfig, DustConfig, EgoBoxConfig, GroundZoneConfig, LidarConfig, MAX_CLUSTER_GRID_CELLS,
    MAX_GROUND_BINS, RotationDirection, VoxelConfig,
};
pub use deskew::{DeskewError, DeskewStats, EgoMotion, PointTimes, deskew};
pub use dust::{DustFilter, DustStats};
pub use ground::{GroundSegmenter, GroundStats};
pub use lshape::{Rectangle, RectangleFitter};
pub use voxel::VoxelDownsampler;

/// One rotation and what else the caller knows about it: the input of
/// [`LidarPipeline::process_frame`].
///
/// The per-point channels are parallel to `cloud.points` (same length and order); a channel of
/// another length is ignored and counted in [`LidarStats::channels_ignored`].
#[derive(Clone, Copy, Debug)]
pub struct LidarFrame<'a> {
    /// The points, lidar frame; `header.stamp_ns` is the time of the rotation's last point.
    pub cloud: &'a PointCloud,
    /// The ego motion during the rotation (speed and yaw rate); `None`: no deskew.
    pub ego: Option<&'a EgoState>,
    /// Per point, its measurement time relative to `header.stamp_ns`, seconds (negative:
    /// before). `None`: times from the azimuth model of [`DeskewConfig`].
    pub time_offset_s: Option<&'a [f32]>,
    /// Multi-echo sensors: per point, how much farther than this return the farthest other
    /// return of the same laser firing lay, metres (0 or NaN: none). See [`dust`].
    pub farther_echo_m: Option<&'a [f32]>,
}

impl<'a> LidarFrame<'a> {
    /// A frame of just a cloud: no ego motion, no per-point channels.
    pub fn new(cloud: &'a PointCloud) -> Self {
        Self { cloud, ego: None, time_offset_s: None, farther_echo_m: None }
    }
}

/// Counters of one [`LidarPipeline::process_frame`] call. Every input point is counted exactly
/// once among `non_finite`, `out_of_range`, `in_ego_box`, `ground_points`, `dust_points` and
/// `obstacle_points`.
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
    /// Points moved by the deskew (0 without an ego state or with deskew disabled).
    pub deskewed_points: usize,
    /// Points left where they were by the deskew because their time offset was unusable.
    pub points_without_time: usize,
    /// Ego states refused by the deskew (non-finite or implausible speed or yaw rate): 0 or 1.
    pub ego_states_rejected: usize,
    /// Per-point channels ignored because their length differs from the cloud's (0..=2).
    pub channels_ignored: usize,
    /// Points classified as ground.
    pub ground_points: usize,
    /// Non-ground points classified as dust (dropped).
    pub dust_points: usize,
    /// Of `dust_points`, those found by their farther echo.
    pub dust_by_echo: usize,
    /// Kept points that are neither ground nor dust (the output's `obstacle_points`).
    pub obstacle_points: usize,
    /// Ground bins whose local plane was accepted.
    pub ground_bins_fitted: usize,
    /// Ground bins whose local plane was rejected (tilted or implausibly high or low).
    pub ground_bins_rejected: usize,
    /// Non-empty ground bins with too few points for a fit.
    pub ground_bins_sparse: usize,
    /// Voxel centroids clustered instead of the obstacle points (0 when downsampling is off).
    pub voxel_centroids: usize,
    /// Objects reported that are not oversized.
    pub clusters: usize,
    /// Connected components with fewer than `cluster_min_points` points (not reported).
    pub small_clusters: usize,
    /// Objects reported with the `oversized` flag (more than `cluster_max_points` points or
    /// longer than `cluster_max_length_m`).
    pub oversized_clusters: usize,
}

impl std::ops::AddAssign for LidarStats {
    /// Field by field: the statistics of several frames (a run's totals).
    fn add_assign(&mut self, other: Self) {
        let Self {
            input_points,
            non_finite,
            out_of_range,
            in_ego_box,
            deskewed_points,
            points_without_time,
            ego_states_rejected,
            channels_ignored,
            ground_points,
            dust_points,
            dust_by_echo,
            obstacle_points,
            ground_bins_fitted,
            ground_bins_rejected,
            ground_bins_sparse,
            voxel_centroids,
            clusters,
            small_clusters,
            oversized_clusters,
        } = other;
        self.input_points += input_points;
        self.non_finite += non_finite;
        self.out_of_range += out_of_range;
        self.in_ego_box += in_ego_box;
        self.deskewed_points += deskewed_points;
        self.points_without_time += points_without_time;
        self.ego_states_rejected += ego_states_rejected;
        self.channels_ignored += channels_ignored;
        self.ground_points += ground_points;
        self.dust_points += dust_points;
        self.dust_by_echo += dust_by_echo;
        self.obstacle_points += obstacle_points;
        self.ground_bins_fitted += ground_bins_fitted;
        self.ground_bins_rejected += ground_bins_rejected;
        self.ground_bins_sparse += ground_bins_sparse;
        self.voxel_centroids += voxel_centroids;
        self.clusters += clusters;
        self.small_clusters += small_clusters;
        self.oversized_clusters += oversized_clusters;
    }
}

/// What the lidar knows about one object beyond its [`Detection3d`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LidarObjectInfo {
    /// Points in the cluster (voxel centroids when voxel downsampling is on).
    pub point_count: usize,
    /// Height of the box bottom (the cluster's lowest point) above the local ground plane under
    /// the box centre, metres, measured along z: about 0 for an object standing on the ground,
    /// larger for an overhang (a raised dump body, a hanging load, a sign), negative when the
    /// cluster reaches below the plane.
    pub height_above_ground_m: f64,
    /// The cluster has more than `cluster_max_points` points or its box is longer than
    /// `cluster_max_length_m`: a berm, a wall, a trailer or several objects merged. It is an
    /// obstacle all the same, but its box may not be one object's.
    pub oversized: bool,
}

/// Result of one [`LidarPipeline::process_frame`] call; geometry in the input cloud's frame
/// (after deskew, when it ran).
#[derive(Clone, Debug, PartialEq)]
pub struct LidarOutput {
    /// One box per cluster of `cluster_min_points` points or more, oversized ones included:
    /// class [`UNKNOWN_CLASS`], source [`ObjectSource::Lidar`], score `cluster_score`, header
    /// copied from the cloud; `size_m.x >= size_m.y` and `yaw_rad` in `(-π/2, π/2]` (an L-shape
    /// shows no front). Sorted by horizontal range from the lidar, then x, then y.
    pub objects: Vec<Detection3d>,
    /// Parallel to `objects`: point count, height above ground, oversized flag.
    pub object_info: Vec<LidarObjectInfo>,
    /// The kept points that are neither ground nor dust, in input order (for visualisation and
    /// fusion); full resolution even when clustering uses voxel centroids.
    pub obstacle_points: Vec<PointXyzi>,
    /// What happened to the points.
    pub stats: LidarStats,
}

/// The lidar obstacle pipeline (see the module documentation).
#[derive(Clone, Debug)]
pub struct LidarPipeline {
    config: LidarConfig,
    ground: GroundSegmenter,
    dust: DustFilter,
    voxel: VoxelDownsampler,
    clusterer: GridClusterer,
    fitter: RectangleFitter,
    cluster_xy: Vec<[f64; 2]>,
    /// Points that passed the filter, and the index of each in the input cloud.
    kept: Vec<PointXyzi>,
    kept_index: Vec<u32>,
    is_ground: Vec<bool>,
    /// Non-ground points, and the index of each in the input cloud.
    non_ground: Vec<PointXyzi>,
    non_ground_index: Vec<u32>,
    is_dust: Vec<bool>,
    /// A per-point channel gathered for the points of one step.
    gathered: Vec<f32>,
    centroids: Vec<PointXyzi>,
}

/// Orders boxes by horizontal range from the origin, then x, then y (total order on floats).
fn compare_by_range(a: &Detection3d, b: &Detection3d) -> std::cmp::Ordering {
    let range = |d: &Detection3d| d.center_m.x.hypot(d.center_m.y);
    range(a)
        .total_cmp(&range(b))
        .then(a.center_m.x.total_cmp(&b.center_m.x))
        .then(a.center_m.y.total_cmp(&b.center_m.y))
}

/// `channel` when it has `len` values; otherwise `None`, counted in `ignored`.
fn checked_channel<'a>(channel: Option<&'a [f32]>, len: usize, ignored: &mut usize) -> Option<&'a [f32]> {
    match channel {
        Some(values) if values.len() == len => Some(values),
        Some(_) => {
            *ignored += 1;
            None
        }
        None => None,
    }
}

/// Writes `channel[index]` for each of `indices` into `out` (NaN where out of range).
fn gather(channel: &[f32], indices: &[u32], out: &mut Vec<f32>) {
    out.clear();
    out.extend(indices.iter().map(|&i| channel.get(i as usize).copied().unwrap_or(f32::NAN)));
}

impl LidarPipeline {
    /// Validates `config` and allocates the pipeline's grids.
    ///
    /// # Errors
    /// The [`ConfigError`] of [`LidarConfig::validate`], with its `lidar.` key.
    pub fn new(config: LidarConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            ground: GroundSegmenter::new_validated(&config),
            dust: DustFilter::new(&config.dust),
            voxel: VoxelDownsampler::new(config.voxel.leaf_size_m),
            clusterer: GridClusterer::new_validated(&config),
            fitter: RectangleFitter::new(config.lshape_angle_step_rad, config.lshape_max_points),
            config,
            cluster_xy: Vec::new(),
            kept: Vec::new(),
            kept_index: Vec::new(),
            is_ground: Vec::new(),
            non_ground: Vec::new(),
            non_ground_index: Vec::new(),
            is_dust: Vec::new(),
            gathered: Vec::new(),
            centroids: Vec::new(),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &LidarConfig {
        &self.config
    }

    /// Runs the pipeline on one cloud without ego motion or per-point channels (no deskew).
    ///
    /// Never fails: bad points are dropped and counted in [`LidarStats`]; an empty cloud gives
    /// an empty output.
    pub fn process(&mut self, cloud: &PointCloud) -> LidarOutput {
        self.process_frame(&LidarFrame::new(cloud))
    }

    /// Runs the pipeline on one cloud measured while the ego moved as `ego` says (deskewed with
    /// times from the azimuth model when `[lidar.deskew] enabled`).
    pub fn process_with_ego(&mut self, cloud: &PointCloud, ego: &EgoState) -> LidarOutput {
        self.process_frame(&LidarFrame { ego: Some(ego), ..LidarFrame::new(cloud) })
    }

    /// Runs filter, deskew, ground removal, dust filter, voxel downsampling, clustering and box
    /// fitting on one frame (module documentation).
    ///
    /// Never fails: bad points, unusable ego states and channels of the wrong length are dropped
    /// or ignored and counted in [`LidarStats`].
    pub fn process_frame(&mut self, frame: &LidarFrame<'_>) -> LidarOutput {
        let cloud = frame.cloud;
        let mut stats = LidarStats { input_points: cloud.points.len(), ..LidarStats::default() };
        let time_offset_s =
            checked_channel(frame.time_offset_s, cloud.points.len(), &mut stats.channels_ignored);
        let farther_echo_m =
            checked_channel(frame.farther_echo_m, cloud.points.len(), &mut stats.channels_ignored);
        self.filter(&cloud.points, &mut stats);
        if let Some(ego) = frame.ego
            && self.config.deskew.enabled
        {
            self.deskew(ego, time_offset_s, &mut stats);
        }

        let ground = self.ground.segment(&self.kept, &mut self.is_ground);
        stats.ground_points = ground.ground_points;
        stats.ground_bins_fitted = ground.bins_fitted;
        stats.ground_bins_rejected = ground.bins_rejected;
        stats.ground_bins_sparse = ground.bins_sparse;

        let obstacle_points = self.remove_ground_and_dust(farther_echo_m, &mut stats);
        stats.obstacle_points = obstacle_points.len();

        let cluster_points: &[PointXyzi] = if self.config.voxel.enabled {
            self.voxel.downsample(&obstacle_points, &mut self.centroids);
            stats.voxel_centroids = self.centroids.len();
            &self.centroids
        } else {
            &obstacle_points
        };
        let mut boxed: Vec<(Detection3d, LidarObjectInfo)> = Vec::new();
        let cluster_count = self.clusterer.cluster(cluster_points);
        for index in 0..cluster_count {
            let members = self.clusterer.cluster_members(index);
            if members.len() < self.config.cluster_min_points {
                stats.small_clusters += 1;
                continue;
            }
            let Some((detection, z_min)) = box_of_cluster(
                &mut self.fitter,
                &mut self.cluster_xy,
                cluster_points,
                members,
                cloud.header,
                self.config.cluster_score,
            ) else {
                continue;
            };
            let ground_z = self.ground.ground_height_at(detection.center_m.x, detection.center_m.y);
            let oversized = members.len() > self.config.cluster_max_points
                || detection.size_m.x > self.config.cluster_max_length_m;
            if oversized {
                stats.oversized_clusters += 1;
            } else {
                stats.clusters += 1;
            }
            let info = LidarObjectInfo {
                point_count: members.len(),
                height_above_ground_m: z_min - ground_z,
                oversized,
            };
            boxed.push((detection, info));
        }
        boxed.sort_by(|a, b| compare_by_range(&a.0, &b.0));
        let (objects, object_info) = boxed.into_iter().unzip();
        LidarOutput { objects, object_info, obstacle_points, stats }
    }

    /// Step 1: copies the usable points into `self.kept` (and their indices into
    /// `self.kept_index`).
    fn filter(&mut self, points: &[PointXyzi], stats: &mut LidarStats) {
        self.kept.clear();
        self.kept.reserve(points.len());
        self.kept_index.clear();
        self.kept_index.reserve(points.len());
        let (min_range, max_range) = (self.config.min_range_m as f32, self.config.max_range_m as f32);
        let (min_range_sq, max_range_sq) = (min_range * min_range, max_range * max_range);
        let ego = self.config.ego_box.as_ref().map(|b| {
            let f = |v: [f64; 3]| [v[0] as f32, v[1] as f32, v[2] as f32];
            (f(b.min_m), f(b.max_m))
        });
        for (index, p) in points.iter().enumerate() {
            if !p.is_finite() {
                stats.non_finite += 1;
                continue;
            }
            let range_sq = p.x_m * p.x_m + p.y_m * p.y_m + p.z_m * p.z_m;
            if !(min_range_sq..=max_range_sq).contains(&range_sq) {
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
            self.kept_index.push(index as u32);
        }
    }

    /// Step 2: deskews `self.kept` in place.
    fn deskew(&mut self, ego: &EgoState, time_offset_s: Option<&[f32]>, stats: &mut LidarStats) {
        let motion = match EgoMotion::from_ego_state(ego) {
            Ok(motion) => motion,
            Err(_) => {
                stats.ego_states_rejected += 1;
                return;
            }
        };
        let times = match time_offset_s {
            Some(offsets) => {
                gather(offsets, &self.kept_index, &mut self.gathered);
                PointTimes::Offsets(&self.gathered)
            }
            None => PointTimes::FromAzimuth,
        };
        // The gathered offsets are as long as `kept`, so this cannot fail.
        if let Ok(deskewed) = deskew::deskew_points(&mut self.kept, motion, times, &self.config.deskew) {
            stats.deskewed_points = deskewed.moved;
            stats.points_without_time = deskewed.without_time;
        }
    }

    /// Steps 3-4: the kept points that are neither ground nor dust, in input order.
    fn remove_ground_and_dust(
        &mut self,
        farther_echo_m: Option<&[f32]>,
        stats: &mut LidarStats,
    ) -> Vec<PointXyzi> {
        let ground_free = self.kept.len().saturating_sub(stats.ground_points);
        if !self.config.dust.enabled {
            let mut obstacle_points = Vec::with_capacity(ground_free);
            obstacle_points.extend(
                self.kept.iter().zip(&self.is_ground).filter(|(_, ground)| !**ground).map(|(p, _)| *p),
            );
            return obstacle_points;
        }
        self.non_ground.clear();
        self.non_ground_index.clear();
        for ((p, &ground), &index) in self.kept.iter().zip(&self.is_ground).zip(&self.kept_index) {
            if !ground {
                self.non_ground.push(*p);
                self.non_ground_index.push(index);
            }
        }
        let echo = match farther_echo_m {
            Some(channel) => {
                gather(channel, &self.non_ground_index, &mut self.gathered);
                Some(self.gathered.as_slice())
            }
            None => None,
        };
        let dust = self.dust.classify(&self.non_ground, echo, &mut self.is_dust);
        stats.dust_points = dust.dust();
        stats.dust_by_echo = dust.echo;
        let mut obstacle_points = Vec::with_capacity(ground_free.saturating_sub(dust.dust()));
        obstacle_points
            .extend(self.non_ground.iter().zip(&self.is_dust).filter(|(_, dust)| !**dust).map(|(p, _)| *p));
        obstacle_points
    }
}

/// Fits the oriented box of one cluster: L-shape rectangle in x-y, z from the lowest and highest
/// point (centre z is their midpoint). `xy` is a reusable buffer. Returns the box and the lowest
/// point's z.
fn box_of_cluster(
    fitter: &mut RectangleFitter,
    xy: &mut Vec<[f64; 2]>,
    points: &[PointXyzi],
    members: &[u32],
    header: Header,
    score: f32,
) -> Option<(Detection3d, f64)> {
    xy.clear();
    let (mut z_min, mut z_max) = (f32::INFINITY, f32::NEG_INFINITY);
    for p in members.iter().filter_map(|&i| points.get(i as usize)) {
        xy.push([f64::from(p.x_m), f64::from(p.y_m)]);
        z_min = z_min.min(p.z_m);
        z_max = z_max.max(p.z_m);
    }
    let rectangle = fitter.fit(xy)?;
    let (z_min, z_max) = (f64::from(z_min), f64::from(z_max));
    let detection = Detection3d {
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
    };
    Some((detection, z_min))
}
