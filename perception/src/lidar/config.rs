//! Configuration of the lidar obstacle pipeline (`[lidar]` table of the runtime config).

use std::f64::consts::{FRAC_PI_2, PI};

use pitsense_types::ConfigError;
use serde::{Deserialize, Serialize};

/// Largest number of cells the clustering grid may hold (4 bytes each): 64 MiB.
pub const MAX_CLUSTER_GRID_CELLS: usize = 1 << 24;

/// Largest number of ground bins over all zones.
pub const MAX_GROUND_BINS: usize = 100_000;

/// An axis-aligned box in the lidar frame, metres; points inside it are the truck itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EgoBoxConfig {
    /// Lower corner `(x, y, z)`, metres, lidar frame.
    pub min_m: [f64; 3],
    /// Upper corner `(x, y, z)`, metres, lidar frame.
    pub max_m: [f64; 3],
}

/// One zone of the concentric zone model (Lim et al., "Patchwork", RA-L 2021; Patchwork++,
/// IROS 2022): an annulus from the previous zone's outer radius (or `min_range_m` for the
/// first) to `outer_radius_m`, split into `rings × sectors` bins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroundZoneConfig {
    /// Outer radius of the zone, horizontal distance from the lidar, metres.
    pub outer_radius_m: f64,
    /// Number of rings (radial divisions, equal width).
    pub rings: u32,
    /// Number of sectors (angular divisions, equal angle, from -π).
    pub sectors: u32,
}

/// Direction in which the lidar's beam sweeps, seen from above (its z axis pointing at the
/// viewer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RotationDirection {
    /// Azimuth decreases with time (Velodyne; their manuals count azimuth clockwise).
    Clockwise,
    /// Azimuth increases with time.
    CounterClockwise,
}

/// Motion compensation (deskew) of a rotation, `[lidar.deskew]`; see [`mod@super::deskew`].
///
/// Convention: the cloud's `header.stamp_ns` is the time of the rotation's **last** point, the
/// moment the beam comes back to `cut_azimuth_rad`; points are moved into the lidar frame at that
/// time. Without per-point times a point's time follows from its azimuth: a point
/// `Δφ ∈ [0, 2π)` past the cut in the direction of rotation was measured
/// `(1 − Δφ / 2π) · rotation_period_s` before the stamp.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeskewConfig {
    /// Whether [`super::LidarPipeline::process_frame`] deskews when it is given an ego state.
    pub enabled: bool,
    /// Duration of one rotation, seconds (0.1 for 10 Hz).
    pub rotation_period_s: f64,
    /// Direction of the beam's sweep, seen from above.
    pub rotation_direction: RotationDirection,
    /// Azimuth of the cut between rotations (first and last point), radians counter-clockwise
    /// from the lidar's x axis in `[-π, π]` (π: behind the sensor). The Velodyne rotation
    /// assembler's `cut_azimuth_deg` (clockwise from forward) is `-cut_azimuth_rad` in degrees.
    pub cut_azimuth_rad: f64,
    /// Position `(x, y)` of the lidar origin in the ego frame (rear-axle centre, x forward, y
    /// left), metres: the lever arm through which the yaw rate moves the sensor sideways. The
    /// lidar's axes are taken parallel to the ego axes.
    pub lidar_position_in_ego_m: [f64; 2],
}

impl Default for DeskewConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            rotation_period_s: 0.1,
            rotation_direction: RotationDirection::Clockwise,
            cut_azimuth_rad: PI,
            lidar_position_in_ego_m: [0.0, 0.0],
        }
    }
}

/// Dust filter, `[lidar.dust]`; see [`super::dust`].
///
/// A non-ground point is dust when its intensity is at most `max_intensity` and either fewer
/// than `min_neighbours` other non-ground points lie within `neighbour_radius_m` of it, or (when
/// the sensor reports multiple echoes) the same laser firing also returned at least
/// `echo_min_separation_m` farther away.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DustConfig {
    /// Whether the dust filter runs.
    pub enabled: bool,
    /// Points with a higher intensity are never dust (sensor scale: KITTI reflectance 0..1,
    /// the Velodyne driver's reflectivity / 255).
    pub max_intensity: f32,
    /// Radius of the neighbour count, metres; should exceed the sensor's spacing between
    /// neighbouring returns of one surface at `max_range_m` (KITTI HDL-64E: 0.18° apart on a
    /// ring, 0.25 m at 80 m).
    pub neighbour_radius_m: f64,
    /// A low-intensity point with fewer neighbours than this within the radius is dust.
    pub min_neighbours: usize,
    /// Multi-echo: a low-intensity return followed, on the same firing, by another return at
    /// least this much farther is dust (the beam went through it), metres.
    pub echo_min_separation_m: f32,
}

impl Default for DustConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            max_intensity: 0.1,
            neighbour_radius_m: 0.3,
            min_neighbours: 3,
            echo_min_separation_m: 1.0,
        }
    }
}

/// Voxel downsampling before clustering, `[lidar.voxel]`; see [`super::voxel`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VoxelConfig {
    /// Whether clustering and boxes use voxel centroids instead of the obstacle points.
    pub enabled: bool,
    /// Edge of the cubic voxels, metres.
    pub leaf_size_m: f64,
}

impl Default for VoxelConfig {
    fn default() -> Self {
        Self { enabled: false, leaf_size_m: 0.1 }
    }
}

/// Parameters of [`super::LidarPipeline`]. Defaults suit a Velodyne HDL-64E 1.73 m above flat
/// ground (KITTI) and Patchwork++'s published zone layout; set `sensor_height_m` (and the ego
/// box) for a haul truck.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LidarConfig {
    /// Points closer than this to the lidar origin (3D range) are dropped, metres.
    pub min_range_m: f64,
    /// Points farther than this (3D range) are dropped, metres.
    pub max_range_m: f64,
    /// Points inside this box are dropped (the truck's own body); `None` keeps all.
    pub ego_box: Option<EgoBoxConfig>,
    /// Height of the lidar origin above the ground under the truck, metres. Seeds the ground
    /// model of the innermost ring.
    pub sensor_height_m: f64,
    /// Concentric zones of ground bins, inner to outer. The last outer radius must reach
    /// `max_range_m`.
    pub ground_zones: Vec<GroundZoneConfig>,
    /// Number of lowest points (heights relative to the inner bin's plane) whose mean height
    /// starts the seed selection ("lowest point representative", Patchwork's `num_lpr`).
    pub ground_seed_count: usize,
    /// Points within this height above the lowest-point mean are the initial plane seeds,
    /// metres (Patchwork's `th_seeds`).
    pub ground_seed_height_m: f64,
    /// A point is ground when it lies less than this above its bin's plane, metres
    /// (Patchwork's `th_dist`); points below the plane are ground too.
    pub ground_distance_threshold_m: f64,
    /// Plane fits per bin, the first on the seeds, each later one on the points within
    /// `ground_distance_threshold_m` of the previous plane (Patchwork's `num_iter`).
    pub ground_plane_iterations: usize,
    /// Bins with fewer points are not fitted: their points are classified against the plane
    /// carried outward from the inner bin (Patchwork's `num_min_pts`).
    pub ground_min_bin_points: usize,
    /// Largest angle between a fitted plane's normal and the lidar's z axis for the plane to be
    /// ground, radians (0.35 rad = 20°; a 10 % haul ramp is 5.7°).
    pub ground_max_tilt_rad: f64,
    /// Largest height difference between a bin's fitted plane and the plane carried outward
    /// from the inner bin, at the fitted points' centroid, before any grade allowance, metres.
    pub ground_max_height_step_m: f64,
    /// Extra height difference allowed per metre of horizontal distance from the inner plane's
    /// anchor (how fast the grade may change), metres per metre.
    pub ground_max_grade_change_m_per_m: f64,
    /// Side of the square bird's-eye grid cells used for clustering, metres; points in
    /// 8-connected occupied cells join one cluster.
    pub cluster_cell_size_m: f64,
    /// Clusters with fewer points are dropped (their points stay in `obstacle_points`).
    pub cluster_min_points: usize,
    /// Clusters with more points are flagged oversized (walls, berms, merged groups): still
    /// reported in `objects`, with [`super::LidarObjectInfo::oversized`] set.
    pub cluster_max_points: usize,
    /// Clusters whose box is longer than this are flagged oversized too, metres.
    pub cluster_max_length_m: f64,
    /// Score given to every lidar object, `0..=1`.
    pub cluster_score: f32,
    /// Coarse step of the L-shape heading search over `[0, π/2)`, radians; a second pass
    /// searches ±one step around the best at a fifth of it.
    pub lshape_angle_step_rad: f64,
    /// The heading search uses at most this many points of a cluster (an even subsample); the
    /// box extents always use all points.
    pub lshape_max_points: usize,
    /// Motion compensation, used when an ego state is given.
    pub deskew: DeskewConfig,
    /// Dust filter on the non-ground points.
    pub dust: DustConfig,
    /// Voxel downsampling before clustering.
    pub voxel: VoxelConfig,
}

impl Default for LidarConfig {
    fn default() -> Self {
        Self {
            min_range_m: 2.7,
            max_range_m: 80.0,
            ego_box: None,
            sensor_height_m: 1.73,
            // Patchwork++ defaults for min 2.7 m / max 80 m: zone edges at (7·min+max)/8,
            // (3·min+max)/4, (min+max)/2 and max.
            ground_zones: vec![
                GroundZoneConfig { outer_radius_m: 12.3625, rings: 2, sectors: 16 },
                GroundZoneConfig { outer_radius_m: 22.025, rings: 4, sectors: 32 },
                GroundZoneConfig { outer_radius_m: 41.35, rings: 4, sectors: 54 },
                GroundZoneConfig { outer_radius_m: 80.0, rings: 4, sectors: 32 },
            ],
            ground_seed_count: 20,
            ground_seed_height_m: 0.3,
            ground_distance_threshold_m: 0.2,
            ground_plane_iterations: 3,
            ground_min_bin_points: 10,
            ground_max_tilt_rad: 0.35,
            ground_max_height_step_m: 0.4,
            ground_max_grade_change_m_per_m: 0.15,
            cluster_cell_size_m: 0.25,
            cluster_min_points: 5,
            cluster_max_points: 20_000,
            cluster_max_length_m: 20.0,
            cluster_score: 0.5,
            lshape_angle_step_rad: 0.05,
            lshape_max_points: 200,
            deskew: DeskewConfig::default(),
            dust: DustConfig::default(),
            voxel: VoxelConfig::default(),
        }
    }
}

fn check_count(key: &str, value: usize, min: usize, max: usize) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::new(key, format!("{value} is outside the accepted range {min}..={max}")))
    }
}

impl LidarConfig {
    /// Number of cells per side of the clustering grid, which spans `±max_range_m` around the
    /// lidar in x and y.
    pub fn cluster_grid_side_cells(&self) -> usize {
        let side = (2.0 * self.max_range_m / self.cluster_cell_size_m).ceil();
        if side.is_finite() && side >= 0.0 { side as usize + 1 } else { usize::MAX }
    }

    /// Checks every value; keys in errors are full dotted paths (`lidar.max_range_m`).
    ///
    /// # Errors
    /// The first [`ConfigError`] found, naming the key and the accepted range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check_range("lidar.max_range_m", self.max_range_m, 1.0, 1000.0)?;
        ConfigError::check_range("lidar.min_range_m", self.min_range_m, 0.0, self.max_range_m - 0.5)?;
        if let Some(ego) = &self.ego_box {
            for axis in 0..3 {
                let (min, max) = (ego.min_m[axis], ego.max_m[axis]);
                ConfigError::check_range("lidar.ego_box.min_m", min, -100.0, 100.0)?;
                ConfigError::check_range("lidar.ego_box.max_m", max, min, 100.0)?;
            }
        }
        ConfigError::check_range("lidar.sensor_height_m", self.sensor_height_m, 0.0, 20.0)?;
        self.validate_zones()?;
        check_count("lidar.ground_seed_count", self.ground_seed_count, 1, 10_000)?;
        ConfigError::check_range("lidar.ground_seed_height_m", self.ground_seed_height_m, 0.0, 5.0)?;
        ConfigError::check_range(
            "lidar.ground_distance_threshold_m",
            self.ground_distance_threshold_m,
            0.01,
            2.0,
        )?;
        check_count("lidar.ground_plane_iterations", self.ground_plane_iterations, 1, 10)?;
        check_count("lidar.ground_min_bin_points", self.ground_min_bin_points, 3, 100_000)?;
        ConfigError::check_range(
            "lidar.ground_max_tilt_rad",
            self.ground_max_tilt_rad,
            0.01,
            FRAC_PI_2 - 0.01,
        )?;
        ConfigError::check_range("lidar.ground_max_height_step_m", self.ground_max_height_step_m, 0.0, 10.0)?;
        ConfigError::check_range(
            "lidar.ground_max_grade_change_m_per_m",
            self.ground_max_grade_change_m_per_m,
            0.0,
            2.0,
        )?;
        ConfigError::check_range("lidar.cluster_cell_size_m", self.cluster_cell_size_m, 0.02, 10.0)?;
        let side = self.cluster_grid_side_cells();
        if side.saturating_mul(side) > MAX_CLUSTER_GRID_CELLS {
            return Err(ConfigError::new(
                "lidar.cluster_cell_size_m",
                format!(
                    "{} m gives a {side}x{side} grid over ±{} m (lidar.max_range_m); at most \
                     {MAX_CLUSTER_GRID_CELLS} cells are allowed, use larger cells",
                    self.cluster_cell_size_m, self.max_range_m
                ),
            ));
        }
        check_count("lidar.cluster_min_points", self.cluster_min_points, 1, 1_000_000)?;
        check_count(
            "lidar.cluster_max_points",
            self.cluster_max_points,
            self.cluster_min_points,
            10_000_000,
        )?;
        ConfigError::check_range("lidar.cluster_max_length_m", self.cluster_max_length_m, 0.1, 1000.0)?;
        ConfigError::check_range("lidar.cluster_score", f64::from(self.cluster_score), 0.0, 1.0)?;
        ConfigError::check_range("lidar.lshape_angle_step_rad", self.lshape_angle_step_rad, 0.001, 0.3)?;
        check_count("lidar.lshape_max_points", self.lshape_max_points, 8, 1_000_000)?;
        let deskew = &self.deskew;
        ConfigError::check_range("lidar.deskew.rotation_period_s", deskew.rotation_period_s, 0.01, 1.0)?;
        ConfigError::check_range("lidar.deskew.cut_azimuth_rad", deskew.cut_azimuth_rad, -PI, PI)?;
        for value in deskew.lidar_position_in_ego_m {
            ConfigError::check_range("lidar.deskew.lidar_position_in_ego_m", value, -100.0, 100.0)?;
        }
        let dust = &self.dust;
        ConfigError::check_range("lidar.dust.max_intensity", f64::from(dust.max_intensity), 0.0, 1.0e6)?;
        ConfigError::check_range("lidar.dust.neighbour_radius_m", dust.neighbour_radius_m, 0.02, 2.0)?;
        check_count("lidar.dust.min_neighbours", dust.min_neighbours, 1, 1000)?;
        ConfigError::check_range(
            "lidar.dust.echo_min_separation_m",
            f64::from(dust.echo_min_separation_m),
            0.05,
            1000.0,
        )?;
        ConfigError::check_range("lidar.voxel.leaf_size_m", self.voxel.leaf_size_m, 0.01, 5.0)?;
        Ok(())
    }

    fn validate_zones(&self) -> Result<(), ConfigError> {
        if self.ground_zones.is_empty() || self.ground_zones.len() > 32 {
            return Err(ConfigError::new(
                "lidar.ground_zones",
                format!("{} zones given, 1..=32 accepted", self.ground_zones.len()),
            ));
        }
        let mut inner_m = self.min_range_m;
        let mut bins = 0_usize;
        for (index, zone) in self.ground_zones.iter().enumerate() {
            let key = |field: &str| format!("lidar.ground_zones[{index}].{field}");
            if !(zone.outer_radius_m.is_finite() && zone.outer_radius_m > inner_m) {
                return Err(ConfigError::new(
                    key("outer_radius_m"),
                    format!(
                        "{} must be finite and larger than the zone's inner radius {inner_m} m \
                         (lidar.min_range_m or the previous zone's outer radius)",
                        zone.outer_radius_m
                    ),
                ));
            }
            check_count(&key("rings"), zone.rings as usize, 1, 256)?;
            check_count(&key("sectors"), zone.sectors as usize, 1, 3600)?;
            bins += zone.rings as usize * zone.sectors as usize;
            inner_m = zone.outer_radius_m;
        }
        if inner_m < self.max_range_m {
            let last = self.ground_zones.len() - 1;
            return Err(ConfigError::new(
                format!("lidar.ground_zones[{last}].outer_radius_m"),
                format!("{inner_m} m must reach lidar.max_range_m ({} m)", self.max_range_m),
            ));
        }
        if bins > MAX_GROUND_BINS {
            return Err(ConfigError::new(
                "lidar.ground_zones",
                format!("{bins} bins in all, at most {MAX_GROUND_BINS} accepted"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        LidarConfig::default().validate().unwrap();
    }

    /// The commented default file documents exactly the built-in defaults.
    #[test]
    fn default_file_matches_defaults() {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            lidar: LidarConfig,
        }
        // The `[lidar]` section of the runtime's commented default configuration.
        let text = include_str!("../../../config/pitsense.toml");
        let mut sections: toml::Table = toml::from_str(text).unwrap();
        let lidar: LidarConfig = sections.remove("lidar").unwrap().try_into().unwrap();
        assert_eq!(lidar, LidarConfig::default());
        // Any subset is accepted; unknown keys are not.
        let partial: File = toml::from_str("[lidar]\nmax_range_m = 80.0\n").unwrap();
        assert_eq!(partial.lidar, LidarConfig::default());
        let unknown = toml::from_str::<File>("[lidar]\nmax_range = 80.0\n");
        assert!(unknown.is_err());
        let ego: File =
            toml::from_str("[lidar]\nego_box = { min_m = [-1, -1, -1], max_m = [1, 1, 1] }\n").unwrap();
        ego.lidar.validate().unwrap();
        // Sub-tables take any subset too.
        let dust: File = toml::from_str("[lidar.dust]\nmin_neighbours = 5\n").unwrap();
        assert_eq!(dust.lidar.dust, DustConfig { min_neighbours: 5, ..DustConfig::default() });
        let deskew: File =
            toml::from_str("[lidar.deskew]\nrotation_direction = \"counter_clockwise\"\n").unwrap();
        assert_eq!(deskew.lidar.deskew.rotation_direction, RotationDirection::CounterClockwise);
        assert!(toml::from_str::<File>("[lidar.voxel]\nleaf_m = 0.1\n").is_err());
    }

    #[test]
    fn errors_name_full_keys() {
        let config = LidarConfig { max_range_m: -3.0, ..LidarConfig::default() };
        assert_eq!(config.validate().unwrap_err().key, "lidar.max_range_m");

        let mut config = LidarConfig::default();
        config.ground_zones[1].outer_radius_m = 5.0;
        assert_eq!(config.validate().unwrap_err().key, "lidar.ground_zones[1].outer_radius_m");

        let config = LidarConfig { max_range_m: 120.0, ..LidarConfig::default() };
        assert_eq!(config.validate().unwrap_err().key, "lidar.ground_zones[3].outer_radius_m");

        let config = LidarConfig { cluster_cell_size_m: 0.02, ..LidarConfig::default() };
        let err = config.validate().unwrap_err();
        assert_eq!(err.key, "lidar.cluster_cell_size_m", "{err}");

        let config = LidarConfig { cluster_max_points: 2, ..LidarConfig::default() };
        assert_eq!(config.validate().unwrap_err().key, "lidar.cluster_max_points");

        let config = LidarConfig { cluster_score: f32::NAN, ..LidarConfig::default() };
        assert_eq!(config.validate().unwrap_err().key, "lidar.cluster_score");

        let mut config = LidarConfig::default();
        config.deskew.rotation_period_s = 0.0;
        assert_eq!(config.validate().unwrap_err().key, "lidar.deskew.rotation_period_s");
        let mut config = LidarConfig::default();
        config.deskew.lidar_position_in_ego_m = [0.0, f64::INFINITY];
        assert_eq!(config.validate().unwrap_err().key, "lidar.deskew.lidar_position_in_ego_m");
        let mut config = LidarConfig::default();
        config.dust.neighbour_radius_m = 0.0;
        assert_eq!(config.validate().unwrap_err().key, "lidar.dust.neighbour_radius_m");
        let mut config = LidarConfig::default();
        config.dust.min_neighbours = 0;
        assert_eq!(config.validate().unwrap_err().key, "lidar.dust.min_neighbours");
        let mut config = LidarConfig::default();
        config.voxel.leaf_size_m = f64::NAN;
        assert_eq!(config.validate().unwrap_err().key, "lidar.voxel.leaf_size_m");
    }
}
