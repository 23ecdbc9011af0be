//! The simulated world: terrain, actors, the ego truck, dust — validated from a scenario file.
//!
//! **Terrain** is a height field on a regular grid (site frame, `cell_size_m` spacing), bilinear
//! inside each cell, built by stamping the scenario's features on a flat pit floor:
//!
//! - a haul road sets the height of every grid vertex within `width_m / 2` of its centre line to
//!   the centre line's height at the nearest point (so a centre line rising 10 m over 100 m is a
//!   10 % ramp); where roads overlap, the nearest centre line wins (intersections have no berm);
//! - a berm (windrow) is a triangular ridge of `height_m` on `base_width_m` beside each edge;
//! - beyond the berm the terrain returns to the floor height on a 1 : 1.5 slope (an embankment
//!   for a ramp above the floor, a cut below it);
//! - a pad is a flat rectangle at its height.
//!
//! **Ray casting** walks the grid cells a ray crosses (Amanatides & Woo, "A fast voxel traversal
//! algorithm for ray tracing", Eurographics 1987) between the heights of the lowest and highest
//! vertex, and finds the crossing inside a cell from the ray's height
//! above the surface at the cell's entry and exit, refined by regula falsi (Illinois) on the
//! bilinear surface. Tiles of 8 × 8 cells that the ray passes above are skipped whole; tiles
//! whose vertices lie on one plane (flat roads, pads, constant grades) are intersected as that
//! plane.
//!
//! **Actors** are oriented boxes standing on the terrain: position from their waypoint
//! trajectory, yaw from its direction, pitch from the terrain's grade along the box. Default
//! sizes are the manufacturers' published overall dimensions (see [`ActorKind::default_size_m`]).

use std::path::Path;

use nalgebra::{Isometry3, Point3, Translation3, UnitQuaternion, Vector3};
use pitsense_fusion::tracker::TrackerConfig;
use pitsense_perception::drivers::ouster::OusterMetadata;
use pitsense_perception::lidar::LidarConfig;
use serde::{Deserialize, Serialize};

use super::ScenarioError;
use super::file::{ActorFile, DustFile, LidarFile, PoseFile, RoadFile, ScenarioSource, WorldFile};
use super::score::Gate;

/// Side slope of embankments and cuts beyond a road's berm: 1 vertical in 1.5 horizontal.
const SIDE_SLOPE: f64 = 1.0 / 1.5;

/// Bounds on the work of building a scenario's terrain, so that no scenario file can make the
/// simulator run out of memory or hang.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BuildLimits {
    /// Largest height field built, vertices.
    pub max_vertices: usize,
    /// Largest number of vertex-to-feature distance evaluations building the terrain may take.
    pub max_terrain_work: f64,
}

impl BuildLimits {
    /// The simulator's limits: 4·10^7 vertices (320 MB of heights), 4·10^8 distance
    /// evaluations (about ten seconds).
    pub const DEFAULT: Self = Self { max_vertices: 40_000_000, max_terrain_work: 4e8 };
}

/// What an actor is: its default box, reflectivity and the class its metrics are reported under.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// Ultra-class haul truck (CAT 797F).
    HaulTruck,
    /// Light vehicle (pick-up, Toyota Land Cruiser 79 class).
    LightVehicle,
    /// A person on foot.
    Person,
    /// Track-type dozer (CAT D10T2).
    Dozer,
    /// Loading shovel (hydraulic mining shovel, CAT 6060 class), its body.
    Shovel,
    /// A rock on the road; needs `size_m`.
    Rock,
}

impl ActorKind {
    /// Every kind, in metric order.
    pub const ALL: [Self; 6] =
        [Self::HaulTruck, Self::LightVehicle, Self::Person, Self::Dozer, Self::Shovel, Self::Rock];

    /// The name used in scenario files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::HaulTruck => "haul_truck",
            Self::LightVehicle => "light_vehicle",
            Self::Person => "person",
            Self::Dozer => "dozer",
            Self::Shovel => "shovel",
            Self::Rock => "rock",
        }
    }

    /// Default `[length, width, height]`, m: CAT 797F spec sheet (overall length 15.08 m, width
    /// 9.75 m, height to canopy 7.7 m); Land Cruiser 79 double cab (5.22 × 1.87 × 1.94 m); a
    /// standing adult with a vest (0.5 × 0.6 × 1.8 m); CAT D10T2 with SU blade (8.0 × 4.9 ×
    /// 4.5 m); CAT 6060 upper structure and tracks without the boom (10.0 × 8.6 × 7.6 m).
    /// `None` for rocks, whose size the scenario gives.
    pub fn default_size_m(self) -> Option<[f64; 3]> {
        match self {
            Self::HaulTruck => Some([15.08, 9.75, 7.7]),
            Self::LightVehicle => Some([5.22, 1.87, 1.94]),
            Self::Person => Some([0.5, 0.6, 1.8]),
            Self::Dozer => Some([8.0, 4.9, 4.5]),
            Self::Shovel => Some([10.0, 8.6, 7.6]),
            Self::Rock => None,
        }
    }

    /// Default Lambertian reflectivity at 865 nm: yellow paint 0.5, white light vehicle 0.6,
    /// clothing with a fluorescent vest 0.4, rock 0.2 (values of the order of Ouster's
    /// reflectivity guide; ours).
    pub fn default_reflectivity(self) -> f64 {
        match self {
            Self::HaulTruck | Self::Dozer | Self::Shovel => 0.5,
            Self::LightVehicle => 0.6,
            Self::Person => 0.4,
            Self::Rock => 0.2,
        }
    }
}

/// Constant-speed motion along a polyline, stopping at its end.
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectory {
    points_m: Vec<[f64; 2]>,
    /// Arc length at each point, m.
    arc_m: Vec<f64>,
    speed_mps: f64,
    start_s: f64,
    parked_heading_rad: f64,
}

/// Where a trajectory is at one time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrajectorySample {
    /// Position, site frame, m.
    pub xy_m: [f64; 2],
    /// Heading, rad counter-clockwise from east.
    pub heading_rad: f64,
    /// Speed, m/s (0 before the start and after the end).
    pub speed_mps: f64,
}

impl Trajectory {
    /// A trajectory through `points_m` at `speed_mps` from `start_s`; with one point (or zero
    /// speed) it stays at the first point with `heading_deg`.
    pub fn new(points_m: Vec<[f64; 2]>, speed_mps: f64, start_s: f64, heading_deg: f64) -> Self {
        let mut arc_m = Vec::with_capacity(points_m.len());
        let mut total = 0.0;
        for (index, point) in points_m.iter().enumerate() {
            if index > 0 {
                let previous = points_m[index - 1];
                total += (point[0] - previous[0]).hypot(point[1] - previous[1]);
            }
            arc_m.push(total);
        }
        Self { points_m, arc_m, speed_mps, start_s, parked_heading_rad: heading_deg.to_radians() }
    }

    /// Length of the polyline, m.
    pub fn length_m(&self) -> f64 {
        self.arc_m.last().copied().unwrap_or(0.0)
    }

    /// The sample at `t_s` seconds after the scenario start.
    pub fn at(&self, t_s: f64) -> TrajectorySample {
        let first = self.points_m.first().copied().unwrap_or([0.0, 0.0]);
        let length = self.length_m();
        if self.points_m.len() < 2 || length <= 0.0 {
            return TrajectorySample { xy_m: first, heading_rad: self.parked_heading_rad, speed_mps: 0.0 };
        }
        let travelled = (self.speed_mps * (t_s - self.start_s)).max(0.0);
        let moving = travelled > 0.0 && travelled < length && self.speed_mps > 0.0;
        let s = travelled.min(length);
        // The segment holding arc length s (the last one at the end).
        let segment = self.arc_m.partition_point(|&arc| arc <= s).clamp(1, self.points_m.len() - 1);
        let (a, b) = (self.points_m[segment - 1], self.points_m[segment]);
        let span = self.arc_m[segment] - self.arc_m[segment - 1];
        let f = if span > 0.0 { (s - self.arc_m[segment - 1]) / span } else { 0.0 };
        TrajectorySample {
            xy_m: [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])],
            heading_rad: (b[1] - a[1]).atan2(b[0] - a[0]),
            speed_mps: if moving { self.speed_mps } else { 0.0 },
        }
    }
}

/// What a height-field vertex is, for reflectivity and the drivable-surface test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    /// Pit floor, embankment or cut.
    Floor,
    /// A road's running surface.
    Road,
    /// A berm (windrow).
    Berm,
    /// A pad.
    Pad,
}

/// The terrain height field (see the module documentation).
#[derive(Clone, Debug)]
pub struct Terrain {
    origin_m: [f64; 2],
    cell_m: f64,
    nx: usize,
    ny: usize,
    heights_m: Vec<f64>,
    surface: Vec<Surface>,
    reflectivity: Vec<f32>,
    min_z_m: f64,
    max_z_m: f64,
    /// Highest vertex of each tile of `TILE_CELLS`² cells (row-major, `tiles_x` per row), m.
    tile_max_m: Vec<f64>,
    /// Per tile, `[a, b, c]` with `z = a x + b y + c` (site frame) when all its vertices lie on
    /// that plane within a micrometre.
    tile_plane: Vec<Option<[f64; 3]>>,
    tiles_x: usize,
    tiles_y: usize,
}

/// Cells per tile side of the terrain's coarse level.
pub const TILE_CELLS: usize = 8;

/// Walks the unit cells of a 2D grid that the line `(u0, v0) + (t − t_start) · (du, dv)` crosses
/// for `t_start ≤ t ≤ t_end` (Amanatides & Woo 1987), yielding `(i, j, t_enter, t_exit)`.
struct GridWalk {
    i: i64,
    j: i64,
    step_i: i64,
    step_j: i64,
    t_next_i: f64,
    t_next_j: f64,
    delta_i: f64,
    delta_j: f64,
    t: f64,
    t_end: f64,
}

impl GridWalk {
    fn new(u0: f64, v0: f64, du: f64, dv: f64, t_start: f64, t_end: f64) -> Self {
        let (i, j) = (u0.floor() as i64, v0.floor() as i64);
        let boundary = |index: i64, start: f64, d: f64| {
            if d > 0.0 {
                t_start + ((index + 1) as f64 - start) / d
            } else if d < 0.0 {
                t_start + (index as f64 - start) / d
            } else {
                f64::INFINITY
            }
        };
        Self {
            i,
            j,
            step_i: if du > 0.0 { 1 } else { -1 },
            step_j: if dv > 0.0 { 1 } else { -1 },
            t_next_i: boundary(i, u0, du),
            t_next_j: boundary(j, v0, dv),
            delta_i: if du == 0.0 { f64::INFINITY } else { 1.0 / du.abs() },
            delta_j: if dv == 0.0 { f64::INFINITY } else { 1.0 / dv.abs() },
            t: t_start,
            t_end,
        }
    }

    /// The next cell and the part of the line inside it, `None` past `t_end`.
    fn next(&mut self) -> Option<(i64, i64, f64, f64)> {
        if self.t >= self.t_end {
            return None;
        }
        let exit = self.t_next_i.min(self.t_next_j).min(self.t_end);
        let cell = (self.i, self.j, self.t, exit);
        if self.t_next_i < self.t_next_j {
            self.i += self.step_i;
            self.t_next_i += self.delta_i;
        } else {
            self.j += self.step_j;
            self.t_next_j += self.delta_j;
        }
        self.t = exit;
        Some(cell)
    }
}

/// A ray's first crossing of a surface.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// Distance along the (unit) ray, m.
    pub t_m: f64,
    /// Unit surface normal at the hit, site frame.
    pub normal: Vector3<f64>,
    /// Lambertian reflectivity of the surface, 0..1.
    pub reflectivity: f64,
}

/// Distance from `p` to segment `a`–`b` in x-y, and the fraction along it of the nearest point.
fn segment_distance(p: [f64; 2], a: [f64; 3], b: [f64; 3]) -> (f64, f64) {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let length_sq = dx * dx + dy * dy;
    let f = if length_sq > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length_sq).clamp(0.0, 1.0)
    } else {
        0.0
    };
    ((p[0] - a[0] - f * dx).hypot(p[1] - a[1] - f * dy), f)
}

/// Nearest point of a road's centre line to `p`: `(distance in x-y, centre-line height)`.
fn road_nearest(p: [f64; 2], centerline: &[[f64; 3]]) -> (f64, f64) {
    let mut best = (f64::INFINITY, 0.0);
    for pair in centerline.windows(2) {
        let (distance, f) = segment_distance(p, pair[0], pair[1]);
        if distance < best.0 {
            best = (distance, pair[0][2] + f * (pair[1][2] - pair[0][2]));
        }
    }
    best
}

impl Terrain {
    fn build(
        world: &WorldFile,
        source: &ScenarioSource,
        limits: &BuildLimits,
    ) -> Result<Self, ScenarioError> {
        let BuildLimits { max_vertices, max_terrain_work } = *limits;
        let cell_m = *world.cell_size_m.get_ref();
        source.check_range(cell_m, 0.1..=5.0, "m", world.cell_size_m.span(), "world.cell_size_m")?;
        let max = *world.max_m.get_ref();
        let extent = [max[0] - world.min_m[0], max[1] - world.min_m[1]];
        if !(extent[0] > 0.0 && extent[1] > 0.0 && extent.iter().all(|e| e.is_finite())) {
            return Err(source.invalid(
                world.max_m.span(),
                "world.max_m",
                "must lie north-east of world.min_m",
            ));
        }
        let cells = [(extent[0] / cell_m).ceil(), (extent[1] / cell_m).ceil()];
        if cells[0] * cells[1] > max_vertices as f64 {
            return Err(source.invalid(
                world.max_m.span(),
                "world.max_m",
                format!(
                    "makes a {} × {} height field (at most {max_vertices} vertices): enlarge cell_size_m",
                    cells[0], cells[1]
                ),
            ));
        }
        let nx = cells[0] as usize + 1;
        let ny = cells[1] as usize + 1;
        if nx.saturating_mul(ny) > max_vertices {
            return Err(source.invalid(
                world.max_m.span(),
                "world.max_m",
                format!(
                    "makes a {nx} × {ny} height field (at most {max_vertices} vertices): enlarge cell_size_m"
                ),
            ));
        }
        if !(world.min_m.iter().all(|v| v.is_finite()) && world.base_height_m.abs() <= 10_000.0) {
            return Err(source.invalid(
                world.max_m.span(),
                "world",
                "min_m and base_height_m must be finite (|height| <= 10 km)",
            ));
        }
        source.check_range(
            world.ground_reflectivity,
            0.0..=1.0,
            "",
            world.max_m.span(),
            "world.ground_reflectivity",
        )?;
        let mut segments = 0_usize;
        for (index, road) in world.roads.iter().enumerate() {
            let key = format!("world.roads[{index}]");
            let points = road.centerline_m.get_ref();
            if !points.iter().flatten().all(|v| v.is_finite() && v.abs() <= 1e6) {
                return Err(source.invalid(
                    road.centerline_m.span(),
                    format!("{key}.centerline_m"),
                    "must be finite, within 1000 km",
                ));
            }
            source.check_range(
                road.reflectivity,
                0.0..=1.0,
                "",
                road.width_m.span(),
                format!("{key}.reflectivity"),
            )?;
            if let Some(berm) = road.berm
                && !((0.0..=50.0).contains(&berm.height_m) && (0.0..=200.0).contains(&berm.base_width_m))
            {
                return Err(source.invalid(
                    road.width_m.span(),
                    format!("{key}.berm"),
                    "height_m must be in 0..=50 m and base_width_m in 0..=200 m",
                ));
            }
            segments += points.len().saturating_sub(1);
            if road.centerline_m.get_ref().len() < 2 {
                return Err(source.invalid(
                    road.centerline_m.span(),
                    format!("{key}.centerline_m"),
                    "needs two points or more",
                ));
            }
            if !road.width_m.get_ref().is_finite() || *road.width_m.get_ref() <= 0.0 {
                return Err(source.invalid(
                    road.width_m.span(),
                    format!("{key}.width_m"),
                    "must be positive",
                ));
            }
        }
        // Every vertex measures its distance to every road segment: bound the work.
        let work = (nx as f64) * (ny as f64) * (segments + world.pads.len()).max(1) as f64;
        if work > max_terrain_work {
            return Err(source.invalid(
                world.cell_size_m.span(),
                "world.cell_size_m",
                format!(
                    "with {segments} road segments and {} pads over {nx} × {ny} vertices needs {work:.1e} distance evaluations (at most {max_terrain_work:.0e}): enlarge the cell size, shrink the world or simplify the roads",
                    world.pads.len()
                ),
            ));
        }
        for (index, pad) in world.pads.iter().enumerate() {
            let size = pad.size_m.get_ref();
            let finite = pad.center_m.iter().chain([&pad.yaw_deg, &pad.height_m]).all(|v| v.is_finite());
            if !finite || pad.height_m.abs() > 10_000.0 || size.iter().any(|v| !v.is_finite() || *v > 1e6) {
                return Err(source.invalid(
                    pad.size_m.span(),
                    format!("world.pads[{index}]"),
                    "center_m, yaw_deg, height_m and size_m must be finite (sizes within 1000 km)",
                ));
            }
            if !(size[0] > 0.0 && size[1] > 0.0) {
                return Err(source.invalid(
                    pad.size_m.span(),
                    format!("world.pads[{index}].size_m"),
                    "must be positive",
                ));
            }
        }
        let mut terrain = Self {
            origin_m: world.min_m,
            cell_m,
            nx,
            ny,
            heights_m: Vec::with_capacity(nx * ny),
            surface: Vec::with_capacity(nx * ny),
            reflectivity: Vec::with_capacity(nx * ny),
            min_z_m: f64::INFINITY,
            max_z_m: f64::NEG_INFINITY,
            tile_max_m: Vec::new(),
            tile_plane: Vec::new(),
            tiles_x: (nx - 1).div_ceil(TILE_CELLS).max(1),
            tiles_y: (ny - 1).div_ceil(TILE_CELLS).max(1),
        };
        for j in 0..ny {
            for i in 0..nx {
                let p = [world.min_m[0] + i as f64 * cell_m, world.min_m[1] + j as f64 * cell_m];
                let (height, surface, reflectivity) = vertex(p, world);
                terrain.min_z_m = terrain.min_z_m.min(height);
                terrain.max_z_m = terrain.max_z_m.max(height);
                terrain.heights_m.push(height);
                terrain.surface.push(surface);
                terrain.reflectivity.push(reflectivity as f32);
            }
        }
        let mut tile_max_m = vec![f64::NEG_INFINITY; terrain.tiles_x * terrain.tiles_y];
        for j in 0..ny {
            for i in 0..nx {
                let height = terrain.heights_m[j * nx + i];
                // A vertex on a tile edge belongs to the tiles on both sides.
                for tj in [j.saturating_sub(1) / TILE_CELLS, j / TILE_CELLS] {
                    for ti in [i.saturating_sub(1) / TILE_CELLS, i / TILE_CELLS] {
                        if ti < terrain.tiles_x && tj < terrain.tiles_y {
                            let slot = &mut tile_max_m[tj * terrain.tiles_x + ti];
                            *slot = slot.max(height);
                        }
                    }
                }
            }
        }
        terrain.tile_max_m = tile_max_m;
        terrain.tile_plane = (0..terrain.tiles_x * terrain.tiles_y)
            .map(|tile| terrain.planar_tile(tile % terrain.tiles_x, tile / terrain.tiles_x))
            .collect();
        if !terrain.heights_m.iter().all(|h| h.is_finite()) {
            return Err(source.invalid(
                world.max_m.span(),
                "world",
                "gives non-finite terrain heights (a NaN or infinite height, width or berm size)",
            ));
        }
        Ok(terrain)
    }

    /// The plane through a tile's vertices, if they all lie on one.
    fn planar_tile(&self, ti: usize, tj: usize) -> Option<[f64; 3]> {
        let (i0, j0) = (ti * TILE_CELLS, tj * TILE_CELLS);
        let (i1, j1) = ((i0 + TILE_CELLS).min(self.nx - 1), (j0 + TILE_CELLS).min(self.ny - 1));
        if i1 == i0 || j1 == j0 {
            return None;
        }
        let h = |i: usize, j: usize| self.heights_m[j * self.nx + i];
        let a = (h(i1, j0) - h(i0, j0)) / ((i1 - i0) as f64 * self.cell_m);
        let b = (h(i0, j1) - h(i0, j0)) / ((j1 - j0) as f64 * self.cell_m);
        let x0 = self.origin_m[0] + i0 as f64 * self.cell_m;
        let y0 = self.origin_m[1] + j0 as f64 * self.cell_m;
        let c = h(i0, j0) - a * x0 - b * y0;
        for j in j0..=j1 {
            for i in i0..=i1 {
                let (x, y) =
                    (self.origin_m[0] + i as f64 * self.cell_m, self.origin_m[1] + j as f64 * self.cell_m);
                if (a * x + b * y + c - h(i, j)).abs() > 1e-6 {
                    return None;
                }
            }
        }
        Some([a, b, c])
    }

    /// Whether `(x, y)` lies on the height field.
    pub fn contains(&self, xy_m: [f64; 2]) -> bool {
        let (u, v) = self.grid(xy_m);
        (0.0..=(self.nx - 1) as f64).contains(&u) && (0.0..=(self.ny - 1) as f64).contains(&v)
    }

    /// Grid coordinates (fractional vertex indices) of a site position.
    fn grid(&self, xy_m: [f64; 2]) -> (f64, f64) {
        ((xy_m[0] - self.origin_m[0]) / self.cell_m, (xy_m[1] - self.origin_m[1]) / self.cell_m)
    }

    /// Terrain height at `(x, y)`, m (bilinear; clamped to the edge outside the field).
    pub fn height_m(&self, xy_m: [f64; 2]) -> f64 {
        let (u, v) = self.grid(xy_m);
        let u = u.clamp(0.0, (self.nx - 1) as f64);
        let v = v.clamp(0.0, (self.ny - 1) as f64);
        // Non-negative after the clamp: truncation is the floor.
        let i = (u as usize).min(self.nx.saturating_sub(2));
        let j = (v as usize).min(self.ny.saturating_sub(2));
        let (fu, fv) = (u - i as f64, v - j as f64);
        let row = j * self.nx + i;
        let (h00, h10) = (self.heights_m[row], self.heights_m[(row + 1).min(self.heights_m.len() - 1)]);
        let next = (row + self.nx).min(self.heights_m.len() - 1);
        let (h01, h11) = (self.heights_m[next], self.heights_m[(next + 1).min(self.heights_m.len() - 1)]);
        (h00 * (1.0 - fu) + h10 * fu) * (1.0 - fv) + (h01 * (1.0 - fu) + h11 * fu) * fv
    }

    /// Unit normal of the terrain at `(x, y)` (from the bilinear patch's gradient).
    pub fn normal(&self, xy_m: [f64; 2]) -> Vector3<f64> {
        let step = self.cell_m * 0.25;
        let dx = (self.height_m([xy_m[0] + step, xy_m[1]]) - self.height_m([xy_m[0] - step, xy_m[1]]))
            / (2.0 * step);
        let dy = (self.height_m([xy_m[0], xy_m[1] + step]) - self.height_m([xy_m[0], xy_m[1] - step]))
            / (2.0 * step);
        Vector3::new(-dx, -dy, 1.0).normalize()
    }

    /// The surface kind of the vertex nearest to `(x, y)`.
    pub fn surface(&self, xy_m: [f64; 2]) -> Surface {
        let (u, v) = self.grid(xy_m);
        let i = u.round().clamp(0.0, (self.nx - 1) as f64) as usize;
        let j = v.round().clamp(0.0, (self.ny - 1) as f64) as usize;
        self.surface[j * self.nx + i]
    }

    /// Whether `(x, y)` is on a road's running surface or a pad (where an unexplained track is a
    /// false track, not a berm or a wall).
    pub fn is_drivable(&self, xy_m: [f64; 2]) -> bool {
        self.contains(xy_m) && matches!(self.surface(xy_m), Surface::Road | Surface::Pad)
    }

    fn reflectivity_at(&self, xy_m: [f64; 2]) -> f64 {
        let (u, v) = self.grid(xy_m);
        let i = u.round().clamp(0.0, (self.nx - 1) as f64) as usize;
        let j = v.round().clamp(0.0, (self.ny - 1) as f64) as usize;
        f64::from(self.reflectivity[j * self.nx + i])
    }

    /// Lowest and highest terrain height, m.
    pub fn height_range_m(&self) -> (f64, f64) {
        (self.min_z_m, self.max_z_m)
    }

    /// The first crossing of the ray `origin + t · direction` (`direction` a unit vector, site
    /// frame) with the terrain for `0 < t ≤ max_t_m`, or `None` (the ray leaves the height field
    /// or passes above it). A ray starting under the terrain hits at `t = 0`.
    ///
    /// Two-level traversal: tiles of [`TILE_CELLS`]² cells whose highest vertex the ray stays
    /// above are skipped whole; inside the others, cell by cell.
    pub fn cast(&self, origin: &Point3<f64>, direction: &Vector3<f64>, max_t_m: f64) -> Option<Hit> {
        if !(origin.coords.iter().chain(direction.iter()).all(|v| v.is_finite()) && max_t_m.is_finite()) {
            return None;
        }
        let (oz, dz) = (origin.z, direction.z);
        // The part of the ray between the lowest and highest vertex heights (widened by a
        // millimetre, so that a crossing exactly at the lowest height is not lost to rounding).
        let (low, high) = (self.min_z_m - 1e-3, self.max_z_m + 1e-3);
        let (mut t_start, mut t_end) = (0.0_f64, max_t_m);
        if dz > 0.0 {
            if oz > high {
                return None;
            }
            t_end = t_end.min((high - oz) / dz);
        } else if dz < 0.0 {
            t_start = t_start.max((high - oz) / dz);
            t_end = t_end.min((low - oz) / dz);
        } else if oz > high {
            return None;
        }
        if t_start > t_end {
            return None;
        }
        let at = |t: f64| [origin.x + t * direction.x, origin.y + t * direction.y];
        let (u0, v0) = self.grid(at(t_start));
        let last = ((self.nx - 1) as f64, (self.ny - 1) as f64);
        if !(0.0..=last.0).contains(&u0) || !(0.0..=last.1).contains(&v0) {
            return None;
        }
        let (du, dv) = (direction.x / self.cell_m, direction.y / self.cell_m);
        let tile = TILE_CELLS as f64;
        let mut tiles = GridWalk::new(u0 / tile, v0 / tile, du / tile, dv / tile, t_start, t_end);
        let mut above_at = None;
        while let Some((ti, tj, t_a, t_b)) = tiles.next() {
            let (Ok(ti), Ok(tj)) = (usize::try_from(ti), usize::try_from(tj)) else { return None };
            if ti >= self.tiles_x || tj >= self.tiles_y {
                return None;
            }
            // The ray's lowest point over the tile against the tile's highest vertex.
            let lowest = oz + dz * if dz < 0.0 { t_b } else { t_a };
            if lowest > self.tile_max_m[tj * self.tiles_x + ti] {
                above_at = None;
                continue;
            }
            if let Some([a, b, c]) = self.tile_plane[tj * self.tiles_x + ti] {
                // A planar tile (flat road, pad or floor, a constant grade): z = a x + b y + c.
                above_at = None;
                let plane_at =
                    |t: f64| a * (origin.x + t * direction.x) + b * (origin.y + t * direction.y) + c;
                let (f_a, f_b) = (oz + dz * t_a - plane_at(t_a), oz + dz * t_b - plane_at(t_b));
                if f_a <= 0.0 {
                    return Some(self.hit_at(at(t_a), t_a));
                }
                if f_b <= 0.0 {
                    let t = t_a + (t_b - t_a) * f_a / (f_a - f_b);
                    let normal = Vector3::new(-a, -b, 1.0).normalize();
                    return Some(Hit { t_m: t, normal, reflectivity: self.reflectivity_at(at(t)) });
                }
                continue;
            }
            if let Some(hit) = self.cast_cells(origin, direction, (t_a, t_b), &mut above_at) {
                return Some(hit);
            }
        }
        None
    }

    /// The crossing within `t_a..=t_b` of the ray, cell by cell; `above` carries the ray's height
    /// above the terrain at `t_a` from the previous tile (`None`: compute it).
    fn cast_cells(
        &self,
        origin: &Point3<f64>,
        direction: &Vector3<f64>,
        (t_a, t_b): (f64, f64),
        above: &mut Option<f64>,
    ) -> Option<Hit> {
        let at = |t: f64| [origin.x + t * direction.x, origin.y + t * direction.y];
        let height_above = |t: f64| origin.z + t * direction.z - self.height_m(at(t));
        let (u0, v0) = self.grid(at(t_a));
        let (du, dv) = (direction.x / self.cell_m, direction.y / self.cell_m);
        let mut cells = GridWalk::new(u0, v0, du, dv, t_a, t_b);
        let (mut t_prev, mut f_prev) = (t_a, above.unwrap_or_else(|| height_above(t_a)));
        if f_prev <= 0.0 {
            return Some(self.hit_at(at(t_prev), t_prev));
        }
        while let Some((_, _, _, t_exit)) = cells.next() {
            let f_exit = height_above(t_exit);
            if f_exit <= 0.0 {
                // Bracketed: the Illinois variant of regula falsi on the bilinear surface
                // (superlinear; a few steps reach a fraction of a millimetre in one cell).
                let (mut low, mut f_low, mut high, mut f_high) = (t_prev, f_prev, t_exit, f_exit);
                let mut side = 0_i8;
                for _ in 0..6 {
                    let t = high - f_high * (high - low) / (f_high - f_low);
                    let f = height_above(t);
                    if f > 0.0 {
                        (low, f_low) = (t, f);
                        if side == 1 {
                            f_high *= 0.5;
                        }
                        side = 1;
                    } else {
                        (high, f_high) = (t, f);
                        if side == -1 {
                            f_low *= 0.5;
                        }
                        side = -1;
                    }
                    if high - low < 1e-4 {
                        break;
                    }
                }
                return Some(self.hit_at(at(high), high));
            }
            (t_prev, f_prev) = (t_exit, f_exit);
        }
        *above = Some(f_prev);
        None
    }

    fn hit_at(&self, xy_m: [f64; 2], t_m: f64) -> Hit {
        Hit { t_m, normal: self.normal(xy_m), reflectivity: self.reflectivity_at(xy_m) }
    }
}

/// Height, surface and reflectivity of the terrain vertex at `p`.
fn vertex(p: [f64; 2], world: &WorldFile) -> (f64, Surface, f64) {
    // On a running surface: the nearest centre line of the roads covering p.
    let mut on_road: Option<(f64, f64, f64)> = None;
    // Otherwise the road whose edge is nearest: (distance past its edge, height, road index).
    let mut beside: Option<(f64, f64, usize)> = None;
    for (index, road) in world.roads.iter().enumerate() {
        let (distance, height) = road_nearest(p, road.centerline_m.get_ref());
        let half = road.width_m.get_ref() * 0.5;
        if distance <= half {
            if on_road.is_none_or(|(best, _, _)| distance < best) {
                on_road = Some((distance, height, road.reflectivity));
            }
        } else if beside.is_none_or(|(best, _, _)| distance - half < best) {
            beside = Some((distance - half, height, index));
        }
    }
    if let Some((_, height, reflectivity)) = on_road {
        return (height, Surface::Road, reflectivity);
    }
    for pad in &world.pads {
        let (c, s) = (pad.yaw_deg.to_radians().cos(), pad.yaw_deg.to_radians().sin());
        let (dx, dy) = (p[0] - pad.center_m[0], p[1] - pad.center_m[1]);
        let (along, across) = (dx * c + dy * s, -dx * s + dy * c);
        let size = pad.size_m.get_ref();
        if along.abs() <= size[0] * 0.5 && across.abs() <= size[1] * 0.5 {
            return (pad.height_m, Surface::Pad, world.ground_reflectivity);
        }
    }
    let floor = world.base_height_m;
    let Some((past_edge, road_height, index)) = beside else {
        return (floor, Surface::Floor, world.ground_reflectivity);
    };
    let road: &RoadFile = &world.roads[index];
    let berm_width = road.berm.map_or(0.0, |berm| berm.base_width_m.max(0.0));
    if let Some(berm) = road.berm.filter(|_| past_edge <= berm_width && berm_width > 0.0) {
        let half = berm_width * 0.5;
        let profile = berm.height_m * (1.0 - (past_edge - half).abs() / half).max(0.0);
        return (road_height + profile, Surface::Berm, world.ground_reflectivity);
    }
    let run = past_edge - berm_width;
    let difference = floor - road_height;
    let height = road_height + difference.signum() * difference.abs().min(run * SIDE_SLOPE);
    (height, Surface::Floor, world.ground_reflectivity)
}

/// An actor's box at one time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActorBox {
    /// Index of the actor in [`Scenario::actors`].
    pub actor: usize,
    /// Box centre, site frame, m.
    pub center_m: Point3<f64>,
    /// Orientation (yaw from the trajectory, pitch from the terrain).
    pub rotation: UnitQuaternion<f64>,
    /// Heading, rad counter-clockwise from east.
    pub yaw_rad: f64,
    /// Half extents along the box's length, width and height, m.
    pub half_m: Vector3<f64>,
    /// Lambertian reflectivity.
    pub reflectivity: f64,
    /// Speed over ground, m/s.
    pub speed_mps: f64,
}

impl ActorBox {
    /// Radius of the sphere around the box, m.
    pub fn bounding_radius_m(&self) -> f64 {
        self.half_m.norm()
    }

    /// The ray's entry into the box (slab method, Kay & Kajiya 1986) for `0 < t ≤ max_t_m`.
    pub fn cast(&self, origin: &Point3<f64>, direction: &Vector3<f64>, max_t_m: f64) -> Option<Hit> {
        let to_center = self.center_m - origin;
        let along = to_center.dot(direction);
        let radius = self.bounding_radius_m();
        if along < -radius || (to_center - direction * along).norm_squared() > radius * radius {
            return None;
        }
        let inverse = self.rotation.inverse();
        let local_origin = inverse * (-to_center);
        let local_direction = inverse * direction;
        let (mut t_near, mut t_far, mut axis) = (f64::NEG_INFINITY, f64::INFINITY, 0_usize);
        for k in 0..3 {
            let (o, d, h) = (local_origin[k], local_direction[k], self.half_m[k]);
            if d.abs() < 1e-12 {
                if o.abs() > h {
                    return None;
                }
                continue;
            }
            let (mut t0, mut t1) = ((-h - o) / d, (h - o) / d);
            if t0 > t1 {
                std::mem::swap(&mut t0, &mut t1);
            }
            if t0 > t_near {
                t_near = t0;
                axis = k;
            }
            t_far = t_far.min(t1);
        }
        if t_near > t_far || t_near <= 0.0 || t_near > max_t_m {
            return None;
        }
        let mut local_normal = Vector3::zeros();
        local_normal[axis] = -local_direction[axis].signum();
        Some(Hit { t_m: t_near, normal: self.rotation * local_normal, reflectivity: self.reflectivity })
    }

    /// The box's footprint corners in x-y, site frame (counter-clockwise).
    pub fn footprint_m(&self) -> [[f64; 2]; 4] {
        let (c, s) = (self.yaw_rad.cos(), self.yaw_rad.sin());
        let (l, w) = (self.half_m.x, self.half_m.y);
        [[l, w], [-l, w], [-l, -w], [l, -w]]
            .map(|[a, b]| [self.center_m.x + a * c - b * s, self.center_m.y + a * s + b * c])
    }

    /// Distance in x-y from `p` to the footprint (0 inside), m.
    pub fn footprint_distance_m(&self, p: [f64; 2]) -> f64 {
        let (c, s) = (self.yaw_rad.cos(), self.yaw_rad.sin());
        let (dx, dy) = (p[0] - self.center_m.x, p[1] - self.center_m.y);
        let (along, across) = (dx * c + dy * s, -dx * s + dy * c);
        let ex = (along.abs() - self.half_m.x).max(0.0);
        let ey = (across.abs() - self.half_m.y).max(0.0);
        ex.hypot(ey)
    }

    /// The footprint point nearest to `p`, site frame x-y.
    pub fn footprint_nearest_m(&self, p: [f64; 2]) -> [f64; 2] {
        let (c, s) = (self.yaw_rad.cos(), self.yaw_rad.sin());
        let (dx, dy) = (p[0] - self.center_m.x, p[1] - self.center_m.y);
        let along = (dx * c + dy * s).clamp(-self.half_m.x, self.half_m.x);
        let across = (-dx * s + dy * c).clamp(-self.half_m.y, self.half_m.y);
        [self.center_m.x + along * c - across * s, self.center_m.y + along * s + across * c]
    }
}

/// One actor of the scenario.
#[derive(Clone, Debug)]
pub struct Actor {
    /// Identity.
    pub id: String,
    /// Kind (metric class).
    pub kind: ActorKind,
    /// `[length, width, height]`, m.
    pub size_m: [f64; 3],
    /// Lambertian reflectivity.
    pub reflectivity: f64,
    /// Motion.
    pub trajectory: Trajectory,
}

/// A dust cloud (see [`super::lidar`] for its optics).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DustCloud {
    /// Centre, site frame, m.
    pub center_m: [f64; 2],
    /// Radius, m.
    pub radius_m: f64,
    /// Bottom and top height, site frame, m.
    pub z_range_m: (f64, f64),
    /// Meteorological optical range, m.
    pub mor_m: f64,
    /// Extinction coefficient `α = −ln 0.05 / MOR` (Koschmieder), 1/m.
    pub extinction_per_m: f64,
    /// Back-scatter coefficient `β = α / S`, 1/(m·sr).
    pub backscatter_per_m_sr: f64,
    /// σ of the per-beam log-normal back-scatter factor.
    pub patchiness: f64,
}

impl DustCloud {
    /// The part `[t_in, t_out]` of the ray inside the cloud, if any, clipped to `0..=max_t_m`.
    pub fn segment(
        &self,
        origin: &Point3<f64>,
        direction: &Vector3<f64>,
        max_t_m: f64,
    ) -> Option<(f64, f64)> {
        let (ox, oy) = (origin.x - self.center_m[0], origin.y - self.center_m[1]);
        let a = direction.x * direction.x + direction.y * direction.y;
        let (mut t0, mut t1) = (0.0, max_t_m);
        if a < 1e-12 {
            if ox * ox + oy * oy > self.radius_m * self.radius_m {
                return None;
            }
        } else {
            let b = ox * direction.x + oy * direction.y;
            let c = ox * ox + oy * oy - self.radius_m * self.radius_m;
            let discriminant = b * b - a * c;
            if discriminant <= 0.0 {
                return None;
            }
            let root = discriminant.sqrt();
            t0 = f64::max(t0, (-b - root) / a);
            t1 = f64::min(t1, (-b + root) / a);
        }
        if direction.z.abs() > 1e-12 {
            let (za, zb) =
                ((self.z_range_m.0 - origin.z) / direction.z, (self.z_range_m.1 - origin.z) / direction.z);
            t0 = t0.max(za.min(zb));
            t1 = t1.min(za.max(zb));
        } else if !(self.z_range_m.0..=self.z_range_m.1).contains(&origin.z) {
            return None;
        }
        (t0 < t1).then_some((t0, t1))
    }
}

/// One simulated lidar.
#[derive(Clone, Debug)]
pub struct SimLidar {
    /// Name.
    pub name: String,
    /// The metadata file, resolved.
    pub metadata_path: std::path::PathBuf,
    /// Its parsed content.
    pub metadata: OusterMetadata,
    /// Pose of the lidar's sensor frame in the truck frame.
    pub truck_from_lidar: Isometry3<f64>,
    /// 1σ range noise, m.
    pub range_noise_m: f64,
    /// Range of a 10 % target at the detection threshold, m.
    pub range_at_10pct_m: f64,
    /// UDP port in the pcap.
    pub udp_port: u16,
    /// Spans `[start_s, end_s)` of scenario time in which the lidar sends nothing.
    pub outages_s: Vec<[f64; 2]>,
    /// Where the lidar really is: `truck_from_lidar` turned by the yaw calibration error (the
    /// beams are cast from here; the pipeline believes `truck_from_lidar`).
    pub truck_from_lidar_true: Isometry3<f64>,
}

impl SimLidar {
    /// Whether the lidar is dead at scenario time `t_s`.
    pub fn is_out(&self, t_s: f64) -> bool {
        self.outages_s.iter().any(|&[start, end]| (start..end).contains(&t_s))
    }
}

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Simulated time, s.
    pub duration_s: f64,
    /// The file's seed.
    pub seed: u64,
    /// Terrain.
    pub terrain: Terrain,
    /// The ego truck's trajectory.
    pub ego: Trajectory,
    /// Actors, in file order.
    pub actors: Vec<Actor>,
    /// Lidars, in file order (at least one).
    pub lidars: Vec<SimLidar>,
    /// Dust clouds.
    pub dust: Vec<DustCloud>,
    /// Lidar pipeline settings.
    pub lidar_config: LidarConfig,
    /// Tracker settings.
    pub tracker_config: TrackerConfig,
    /// Gates.
    pub gates: Vec<Gate>,
}

/// A 6-DoF pose from the file's fields.
pub fn isometry(pose: &PoseFile) -> Isometry3<f64> {
    Isometry3::from_parts(
        Translation3::new(pose.x_m, pose.y_m, pose.z_m),
        UnitQuaternion::from_euler_angles(pose.roll_rad, pose.pitch_rad, pose.yaw_rad),
    )
}

impl Scenario {
    /// Parses and validates a scenario; lidar metadata paths are resolved against `data_root`.
    ///
    /// # Errors
    /// [`ScenarioError::Format`] for a file that does not parse (unknown key, wrong type),
    /// [`ScenarioError::Invalid`] for an impossible value (with its line and key),
    /// [`ScenarioError::Io`] for an unreadable pipeline file.
    pub fn build(source: &ScenarioSource, data_root: &Path) -> Result<Self, ScenarioError> {
        Self::build_with_limits(source, data_root, &BuildLimits::DEFAULT)
    }

    /// [`Scenario::build`] with other bounds on the terrain's size and work (the fuzz target
    /// uses small ones, so that every input runs in milliseconds). Same errors.
    pub fn build_with_limits(
        source: &ScenarioSource,
        data_root: &Path,
        limits: &BuildLimits,
    ) -> Result<Self, ScenarioError> {
        let file = source.parse()?;
        let name = file.scenario.name.get_ref().clone();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(source.invalid(
                file.scenario.name.span(),
                "scenario.name",
                "must be letters, digits, '_' or '-'",
            ));
        }
        let duration_s = *file.scenario.duration_s.get_ref();
        source.check_range(
            duration_s,
            0.1..=3600.0,
            "s",
            file.scenario.duration_s.span(),
            "scenario.duration_s",
        )?;
        let terrain = Terrain::build(&file.world, source, limits)?;
        let ego = trajectory(
            &file.ego.waypoints_m,
            &file.ego.speed_mps,
            (file.ego.start_s, file.ego.heading_deg),
            "ego",
            &terrain,
            source,
        )?;
        let mut actors = Vec::with_capacity(file.actors.len());
        for (index, actor) in file.actors.iter().enumerate() {
            actors.push(self::actor(actor, index, &terrain, source, &actors)?);
        }
        let lidar_list = file.lidars.get_ref();
        if lidar_list.is_empty() {
            return Err(source.invalid(file.lidars.span(), "lidars", "needs at least one lidar"));
        }
        let lidars = lidar_list
            .iter()
            .enumerate()
            .map(|(index, lidar)| self::lidar(lidar, index, data_root, source))
            .collect::<Result<Vec<_>, _>>()?;
        for (index, lidar) in lidars.iter().enumerate() {
            if lidars[..index].iter().any(|earlier| earlier.name == lidar.name) {
                return Err(source.invalid(
                    file.lidars.span(),
                    format!("lidars[{index}].name"),
                    format!("`{}` is used twice (it names output files)", lidar.name),
                ));
            }
        }
        let dust = file
            .dust
            .iter()
            .enumerate()
            .map(|(index, dust)| self::dust(dust, index, &terrain, source))
            .collect::<Result<Vec<_>, _>>()?;
        let (lidar_config, tracker_config) = pipeline(source, &file)?;
        let gates = file
            .gates
            .iter()
            .enumerate()
            .map(|(index, gate)| Gate::from_file(gate, index, &actors, source))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            name,
            description: file.scenario.description.trim().to_owned(),
            duration_s,
            seed: file.scenario.seed,
            terrain,
            ego,
            actors,
            lidars,
            dust,
            lidar_config,
            tracker_config,
            gates,
        })
    }

    /// Pose of the truck frame in the site frame at `t_s`, and the trajectory sample: on the
    /// trajectory, on the terrain, pitched and rolled by the terrain's slope under a 797-class
    /// footprint.
    pub fn ego_pose(&self, t_s: f64) -> (Isometry3<f64>, TrajectorySample) {
        let sample = self.ego.at(t_s);
        let [length, width, _] = ActorKind::HaulTruck.default_size_m().unwrap_or([15.0, 9.75, 7.7]);
        (self.pose_on_terrain(&sample, length, width, 0.0), sample)
    }

    /// An oriented pose on the terrain; `lift_m` raises the origin along the pose's z axis.
    fn pose_on_terrain(
        &self,
        sample: &TrajectorySample,
        length_m: f64,
        width_m: f64,
        lift_m: f64,
    ) -> Isometry3<f64> {
        let [x, y] = sample.xy_m;
        let (c, s) = (sample.heading_rad.cos(), sample.heading_rad.sin());
        let half_l = length_m * 0.5;
        let half_w = width_m * 0.5;
        let front = self.terrain.height_m([x + half_l * c, y + half_l * s]);
        let rear = self.terrain.height_m([x - half_l * c, y - half_l * s]);
        let left = self.terrain.height_m([x - half_w * s, y + half_w * c]);
        let right = self.terrain.height_m([x + half_w * s, y - half_w * c]);
        let pitch = -((front - rear) / length_m.max(1e-6)).atan();
        let roll = ((left - right) / width_m.max(1e-6)).atan();
        let rotation = UnitQuaternion::from_euler_angles(roll, pitch, sample.heading_rad);
        let ground = Point3::new(x, y, self.terrain.height_m([x, y]));
        let origin = ground + rotation * Vector3::new(0.0, 0.0, lift_m);
        Isometry3::from_parts(Translation3::from(origin.coords), rotation)
    }

    /// Every actor's box at `t_s`.
    pub fn actor_boxes(&self, t_s: f64) -> Vec<ActorBox> {
        self.actors
            .iter()
            .enumerate()
            .map(|(index, actor)| {
                let sample = actor.trajectory.at(t_s);
                let [l, w, h] = actor.size_m;
                let pose = self.pose_on_terrain(&sample, l, w, h * 0.5);
                ActorBox {
                    actor: index,
                    center_m: Point3::from(pose.translation.vector),
                    rotation: pose.rotation,
                    yaw_rad: sample.heading_rad,
                    half_m: Vector3::new(l * 0.5, w * 0.5, h * 0.5),
                    reflectivity: actor.reflectivity,
                    speed_mps: sample.speed_mps,
                }
            })
            .collect()
    }
}

/// A validated trajectory from a waypoint table's keys (`key` names it in errors).
fn trajectory(
    waypoints: &toml::Spanned<Vec<[f64; 2]>>,
    speed_mps: &toml::Spanned<f64>,
    (start_s, heading_deg): (f64, f64),
    key: &str,
    terrain: &Terrain,
    source: &ScenarioSource,
) -> Result<Trajectory, ScenarioError> {
    check_waypoints(waypoints, &format!("{key}.waypoints_m"), terrain, source)?;
    let speed = *speed_mps.get_ref();
    source.check_range(speed, 0.0..=60.0, "m/s", speed_mps.span(), format!("{key}.speed_mps"))?;
    if !(start_s.is_finite() && heading_deg.is_finite()) {
        return Err(source.invalid(waypoints.span(), key, "start_s and heading_deg must be finite"));
    }
    Ok(Trajectory::new(waypoints.get_ref().clone(), speed, start_s, heading_deg))
}

fn check_waypoints(
    waypoints: &toml::Spanned<Vec<[f64; 2]>>,
    key: &str,
    terrain: &Terrain,
    source: &ScenarioSource,
) -> Result<(), ScenarioError> {
    if waypoints.get_ref().is_empty() {
        return Err(source.invalid(waypoints.span(), key, "needs at least one waypoint"));
    }
    for (index, point) in waypoints.get_ref().iter().enumerate() {
        if !point.iter().all(|v| v.is_finite()) || !terrain.contains(*point) {
            let max = [
                terrain.origin_m[0] + (terrain.nx - 1) as f64 * terrain.cell_m,
                terrain.origin_m[1] + (terrain.ny - 1) as f64 * terrain.cell_m,
            ];
            return Err(source.invalid(
                waypoints.span(),
                format!("{key}[{index}]"),
                format!(
                    "= [{}, {}] leaves the world ([{}, {}] .. [{}, {}])",
                    point[0], point[1], terrain.origin_m[0], terrain.origin_m[1], max[0], max[1]
                ),
            ));
        }
    }
    Ok(())
}

fn actor(
    file: &ActorFile,
    index: usize,
    terrain: &Terrain,
    source: &ScenarioSource,
    earlier: &[Actor],
) -> Result<Actor, ScenarioError> {
    let key = format!("actors[{index}]");
    let id = file.id.get_ref().clone();
    if id.is_empty() || earlier.iter().any(|actor| actor.id == id) {
        return Err(source.invalid(
            file.id.span(),
            format!("{key}.id"),
            format!("`{id}` is empty or not unique"),
        ));
    }
    let size_m = match (&file.size_m, file.kind.default_size_m()) {
        (Some(size), _) => {
            if !size.get_ref().iter().all(|&v| v > 0.0 && v <= 100.0) {
                return Err(source.invalid(
                    size.span(),
                    format!("{key}.size_m"),
                    "must be in (0, 100] m each",
                ));
            }
            *size.get_ref()
        }
        (None, Some(size)) => size,
        (None, None) => {
            return Err(source.invalid(
                file.id.span(),
                format!("{key}.size_m"),
                format!("is required for a `{}`", file.kind.name()),
            ));
        }
    };
    let reflectivity = file.reflectivity.unwrap_or_else(|| file.kind.default_reflectivity());
    source.check_range(reflectivity, 0.0..=1.0, "", file.id.span(), format!("{key}.reflectivity"))?;
    let trajectory = trajectory(
        &file.waypoints_m,
        &file.speed_mps,
        (file.start_s, file.heading_deg),
        &key,
        terrain,
        source,
    )?;
    Ok(Actor { id, kind: file.kind, size_m, reflectivity, trajectory })
}

fn lidar(
    file: &LidarFile,
    index: usize,
    data_root: &Path,
    source: &ScenarioSource,
) -> Result<SimLidar, ScenarioError> {
    let key = format!("lidars[{index}]");
    if file.name.is_empty() || !file.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(source.invalid(
            file.metadata.span(),
            format!("{key}.name"),
            "must be letters, digits, '_' or '-' (it names output files)",
        ));
    }
    let relative = Path::new(file.metadata.get_ref());
    let path = if relative.is_absolute() { relative.to_path_buf() } else { data_root.join(relative) };
    let metadata = OusterMetadata::read(&path).map_err(|error| {
        source.invalid(file.metadata.span(), format!("{key}.metadata"), error.to_string())
    })?;
    let rows = metadata.pixels_per_column;
    for (table, length) in [
        ("beam_altitude_angles", metadata.beam_altitude_angles_deg.len()),
        ("beam_azimuth_angles", metadata.beam_azimuth_angles_deg.len()),
    ] {
        if length != rows {
            return Err(source.invalid(
                file.metadata.span(),
                format!("{key}.metadata"),
                format!("`{}`: {table} has {length} beams but pixels_per_column is {rows}", path.display()),
            ));
        }
    }
    if metadata.rotation_rate_hz().is_none() {
        return Err(source.invalid(
            file.metadata.span(),
            format!("{key}.metadata"),
            format!("`{}`: lidar_mode `{}` gives no rotation rate", path.display(), metadata.lidar_mode),
        ));
    }
    let pose = &file.truck_from_lidar;
    let values = [pose.x_m, pose.y_m, pose.z_m, pose.roll_rad, pose.pitch_rad, pose.yaw_rad];
    if !values.iter().all(|v| v.is_finite() && v.abs() <= 100.0) || pose.z_m < 0.0 {
        return Err(source.invalid(
            file.metadata.span(),
            format!("{key}.truck_from_lidar"),
            "must be finite, within 100 m and 100 rad, and above the ground (z_m >= 0)",
        ));
    }
    let range_at_10pct_m = *file.range_at_10pct_m.get_ref();
    source.check_range(
        range_at_10pct_m,
        1.0..=1000.0,
        "m",
        file.range_at_10pct_m.span(),
        format!("{key}.range_at_10pct_m"),
    )?;
    source.check_range(
        file.range_noise_m,
        0.0..=1.0,
        "m",
        file.metadata.span(),
        format!("{key}.range_noise_m"),
    )?;
    let outages = file.faults.outages_s.get_ref();
    if !outages.iter().all(|&[start, end]| start.is_finite() && end.is_finite() && start < end) {
        return Err(source.invalid(
            file.faults.outages_s.span(),
            format!("{key}.faults.outages_s"),
            "each span must be [start_s, end_s] with start_s < end_s",
        ));
    }
    let yaw_error = file.faults.yaw_error_deg;
    if !(yaw_error.is_finite() && yaw_error.abs() <= 180.0) {
        return Err(source.invalid(
            file.metadata.span(),
            format!("{key}.faults.yaw_error_deg"),
            "must be in -180..=180",
        ));
    }
    let truck_from_lidar = isometry(&file.truck_from_lidar);
    let error = UnitQuaternion::from_euler_angles(0.0, 0.0, yaw_error.to_radians());
    let truck_from_lidar_true =
        Isometry3::from_parts(truck_from_lidar.translation, error * truck_from_lidar.rotation);
    Ok(SimLidar {
        name: file.name.clone(),
        metadata_path: path,
        metadata,
        outages_s: outages.clone(),
        truck_from_lidar_true,
        truck_from_lidar,
        range_noise_m: file.range_noise_m,
        range_at_10pct_m,
        udp_port: file.udp_port,
    })
}

fn dust(
    file: &DustFile,
    index: usize,
    terrain: &Terrain,
    source: &ScenarioSource,
) -> Result<DustCloud, ScenarioError> {
    let key = format!("dust[{index}]");
    let mor_m = *file.mor_m.get_ref();
    source.check_range(mor_m, 1.0..=100_000.0, "m", file.mor_m.span(), format!("{key}.mor_m"))?;
    let radius_m = *file.radius_m.get_ref();
    if !(radius_m > 0.0 && radius_m.is_finite()) {
        return Err(source.invalid(file.radius_m.span(), format!("{key}.radius_m"), "must be positive"));
    }
    if !file.lidar_ratio_sr.is_finite()
        || file.lidar_ratio_sr <= 0.0
        || !(0.0..=3.0).contains(&file.patchiness)
    {
        return Err(source.invalid(
            file.mor_m.span(),
            key,
            "lidar_ratio_sr must be positive and patchiness in 0..=3",
        ));
    }
    if !(file.center_m.iter().all(|v| v.is_finite()) && file.height_m.is_finite() && file.height_m > 0.0) {
        return Err(source.invalid(
            file.radius_m.span(),
            key,
            "center_m must be finite and height_m positive",
        ));
    }
    let extinction_per_m = -(0.05_f64.ln()) / mor_m;
    let ground = terrain.height_m(file.center_m);
    Ok(DustCloud {
        center_m: file.center_m,
        radius_m,
        z_range_m: (terrain.height_range_m().0 - 1.0, ground + file.height_m),
        mor_m,
        extinction_per_m,
        backscatter_per_m_sr: extinction_per_m / file.lidar_ratio_sr,
        patchiness: file.patchiness,
    })
}

/// The `[lidar]` and `[tracker]` sections of the pipeline file, validated.
fn pipeline(
    source: &ScenarioSource,
    file: &super::file::ScenarioFile,
) -> Result<(LidarConfig, TrackerConfig), ScenarioError> {
    let (path, text) = source.pipeline_text(&file.pipeline)?;
    let format = |message: String| ScenarioError::Format { file: path.clone(), message };
    let mut table: toml::Table = toml::from_str(&text).map_err(|error| format(error.to_string()))?;
    if !table.contains_key("lidar") && !table.contains_key("tracker") {
        return Err(format("has neither a [lidar] nor a [tracker] section (a typo?)".to_owned()));
    }
    // Other sections of a pitsense configuration file are ignored, but one a letter or two away
    // from `lidar` or `tracker` is a typo whose settings would silently fall back to defaults.
    for key in table.keys() {
        for wanted in ["lidar", "tracker"] {
            if key != wanted && edit_distance(&key.to_ascii_lowercase(), wanted) <= 2 {
                return Err(format(format!(
                    "section [{key}]: did you mean [{wanted}]? (it would be ignored)"
                )));
            }
        }
    }
    let lidar = match table.remove("lidar") {
        Some(value) => {
            LidarConfig::deserialize(value).map_err(|error| format(format!("[lidar]: {error}")))?
        }
        None => LidarConfig::default(),
    };
    lidar.validate().map_err(|error| format(error.to_string()))?;
    let tracker = match table.remove("tracker") {
        Some(value) => {
            TrackerConfig::deserialize(value).map_err(|error| format(format!("[tracker]: {error}")))?
        }
        None => TrackerConfig::default(),
    };
    tracker.validate().map_err(|error| format(error.to_string()))?;
    Ok((lidar, tracker))
}

/// Levenshtein distance between two short ASCII names (insertions, deletions, substitutions).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.as_bytes().iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            current[j + 1] =
                (previous[j] + usize::from(ca != cb)).min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// Builders for other modules' unit tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// A terrain from a `[world]` table's text.
    pub(crate) fn terrain(text: &str) -> Terrain {
        let source = ScenarioSource { file: "t.toml".into(), text: text.to_owned(), folder: None };
        let world: WorldFile = toml::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        Terrain::build(&world, &source, &BuildLimits::DEFAULT).unwrap_or_else(|e| panic!("{e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(text: &str) -> (WorldFile, ScenarioSource) {
        let source = ScenarioSource { file: "t.toml".into(), text: text.to_owned(), folder: None };
        (toml::from_str(text).unwrap_or_else(|e| panic!("{e}")), source)
    }

    #[test]
    fn ramp_grade_and_berm_profile_follow_the_file() {
        let (world, source) = world(
            "min_m = [-10.0, -30.0]\nmax_m = [110.0, 30.0]\ncell_size_m = 0.5\n\
             [[roads]]\nname = 'ramp'\ncenterline_m = [[0.0, 0.0, 0.0], [100.0, 0.0, 10.0]]\nwidth_m = 20.0\n\
             berm = { height_m = 2.0, base_width_m = 4.0 }\n",
        );
        let terrain =
            Terrain::build(&world, &source, &BuildLimits::DEFAULT).unwrap_or_else(|e| panic!("{e}"));
        // 10 % grade: 5 m up at x = 50 on the centre line and at the road edge.
        assert!((terrain.height_m([50.0, 0.0]) - 5.0).abs() < 1e-9);
        assert!((terrain.height_m([50.0, 9.5]) - 5.0).abs() < 1e-9);
        // Berm crest 2 m above the road, 2 m past the 10 m half width.
        assert!((terrain.height_m([50.0, 12.0]) - 7.0).abs() < 1e-9);
        // Beyond the berm the embankment falls 1 m per 1.5 m towards the floor (0 m).
        assert!((terrain.height_m([50.0, 14.0 + 3.0]) - 3.0).abs() < 1e-9);
        assert_eq!(terrain.surface([50.0, 0.0]), Surface::Road);
        assert_eq!(terrain.surface([50.0, 12.0]), Surface::Berm);
        // A ray straight down from 20 m above the ramp hits at 15 m.
        let hit = terrain
            .cast(&Point3::new(50.0, 0.0, 20.0), &-Vector3::z(), 100.0)
            .unwrap_or_else(|| panic!("no hit"));
        assert!((hit.t_m - 15.0).abs() < 1e-9);
        // A ray along the road at 1 m above x = 0 climbing the 10 % ramp meets it where
        // 0.1·x = 1, x = 10 m.
        let hit = terrain
            .cast(&Point3::new(0.0, 0.0, 1.0), &Vector3::x(), 100.0)
            .unwrap_or_else(|| panic!("no hit"));
        assert!((hit.t_m - 10.0).abs() < 1e-6, "{}", hit.t_m);
        // The normal leans back against the climb: (−0.1, 0, 1) normalised.
        assert!((hit.normal.x + 0.1 / 1.01_f64.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn tile_skipping_cast_agrees_with_a_fine_march() {
        let (world, source) = world(
            "min_m = [-10.0, -30.0]\nmax_m = [110.0, 30.0]\ncell_size_m = 0.5\n\
             [[roads]]\nname = 'ramp'\ncenterline_m = [[0.0, 0.0, 0.0], [40.0, 0.0, 0.0], [100.0, 0.0, 10.0]]\n\
             width_m = 20.0\nberm = { height_m = 2.0, base_width_m = 4.0 }\n",
        );
        let terrain =
            Terrain::build(&world, &source, &BuildLimits::DEFAULT).unwrap_or_else(|e| panic!("{e}"));
        let origin = Point3::new(5.0, -3.0, 3.0);
        let mut compared = 0;
        for azimuth_step in 0..72 {
            for elevation_step in 0..12 {
                let (azimuth, elevation) = (
                    f64::from(azimuth_step) * 5.0_f64.to_radians(),
                    -f64::from(elevation_step) * 1.5_f64.to_radians(),
                );
                let direction = Vector3::new(
                    azimuth.cos() * elevation.cos(),
                    azimuth.sin() * elevation.cos(),
                    elevation.sin(),
                );
                // Reference: march in 1 cm steps until the ray is at or under the surface.
                let reference = (1..20_000).map(|k| f64::from(k) * 0.01).find(|&t| {
                    let p = origin + direction * t;
                    !terrain.contains([p.x, p.y]) || p.z <= terrain.height_m([p.x, p.y])
                });
                let Some(t_ref) = reference else { continue };
                let p = origin + direction * t_ref;
                let hit = terrain.cast(&origin, &direction, 200.0);
                if !terrain.contains([p.x, p.y]) {
                    assert!(hit.is_none_or(|h| h.t_m >= t_ref - 0.02), "left the field at {t_ref}");
                    continue;
                }
                let hit = hit.unwrap_or_else(|| panic!("azimuth {azimuth_step} elevation {elevation_step}: no hit; the march found one at {t_ref} m at {p:?}"));
                assert!(
                    (hit.t_m - t_ref).abs() < 0.011,
                    "azimuth {azimuth_step} elevation {elevation_step}: {} vs {t_ref}",
                    hit.t_m
                );
                compared += 1;
            }
        }
        assert!(compared > 300, "{compared}");
    }

    #[test]
    fn box_entry_and_footprint_distance() {
        let actor = ActorBox {
            actor: 0,
            center_m: Point3::new(10.0, 0.0, 1.0),
            rotation: UnitQuaternion::identity(),
            yaw_rad: 0.0,
            half_m: Vector3::new(2.0, 1.0, 1.0),
            reflectivity: 0.5,
            speed_mps: 0.0,
        };
        let hit =
            actor.cast(&Point3::new(0.0, 0.0, 1.0), &Vector3::x(), 100.0).unwrap_or_else(|| panic!("no hit"));
        assert!((hit.t_m - 8.0).abs() < 1e-12);
        assert_eq!(hit.normal, -Vector3::x());
        assert!(actor.cast(&Point3::new(0.0, 5.0, 1.0), &Vector3::x(), 100.0).is_none());
        assert!((actor.footprint_distance_m([13.0, 5.0]) - 17.0_f64.sqrt()).abs() < 1e-12); // 1 m past the end, 4 m beside
        assert_eq!(actor.footprint_distance_m([10.5, 0.5]), 0.0);
    }

    #[test]
    fn trajectory_moves_at_speed_and_stops_at_the_end() {
        let trajectory = Trajectory::new(vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]], 2.0, 1.0, 0.0);
        assert_eq!(trajectory.at(0.5).xy_m, [0.0, 0.0]);
        assert_eq!(trajectory.at(0.5).speed_mps, 0.0);
        let sample = trajectory.at(8.0); // 14 m travelled: 4 m up the second leg.
        assert!((sample.xy_m[0] - 10.0).abs() < 1e-12 && (sample.xy_m[1] - 4.0).abs() < 1e-12);
        assert!((sample.heading_rad - std::f64::consts::FRAC_PI_2).abs() < 1e-12);
        assert_eq!(trajectory.at(100.0).xy_m, [10.0, 10.0]);
        assert_eq!(trajectory.at(100.0).speed_mps, 0.0);
    }
}
