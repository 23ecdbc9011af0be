//! Bird's-eye-view grid clustering: connected components of occupied cells, expected O(n).
//!
//! The x-y plane within `±max_range_m` of the lidar is cut into square cells of
//! `cluster_cell_size_m`. Each point marks its cell occupied (a dense grid of cell → compact
//! index, reset after use by visiting only the occupied cells). Occupied cells that touch,
//! 8-connected, are joined with a union-find whose root is always the smaller compact index, so
//! labels depend only on the order of the points, never on hashing.

use pitsense_types::{ConfigError, PointXyzi};

use super::config::LidarConfig;

const EMPTY: u32 = u32::MAX;

/// The clusterer (module documentation); reuses its grid and buffers between frames.
#[derive(Clone, Debug)]
pub struct GridClusterer {
    cell_size_m: f32,
    half_extent_m: f32,
    side_cells: usize,
    /// Cell → compact occupied-cell index, or `EMPTY`.
    grid: Vec<u32>,
    /// Compact index → grid cell.
    occupied: Vec<u32>,
    /// Union-find parent per compact index.
    parent: Vec<u32>,
    /// Compact index of each point's cell.
    cell_of_point: Vec<u32>,
    /// Cluster label per compact cell.
    label_of_cell: Vec<u32>,
    /// `cluster_start[c]..cluster_start[c + 1]` indexes `members` for cluster `c`.
    cluster_start: Vec<u32>,
    cursor: Vec<u32>,
    /// Point indices grouped by cluster, ascending within a cluster.
    members: Vec<u32>,
}

impl GridClusterer {
    /// Validates `config` (which bounds the grid's size) and allocates the grid.
    ///
    /// # Errors
    /// The [`ConfigError`] of [`LidarConfig::validate`].
    pub fn new(config: &LidarConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self::new_validated(config))
    }

    /// Allocates the grid; `config` must have passed [`LidarConfig::validate`].
    pub(crate) fn new_validated(config: &LidarConfig) -> Self {
        let side_cells = config.cluster_grid_side_cells();
        Self {
            cell_size_m: config.cluster_cell_size_m as f32,
            half_extent_m: config.max_range_m as f32,
            side_cells,
            grid: vec![EMPTY; side_cells * side_cells],
            occupied: Vec::new(),
            parent: Vec::new(),
            cell_of_point: Vec::new(),
            label_of_cell: Vec::new(),
            cluster_start: Vec::new(),
            cursor: Vec::new(),
            members: Vec::new(),
        }
    }

    fn cell_coordinates(&self, p: &PointXyzi) -> (usize, usize) {
        let last = self.side_cells.saturating_sub(1);
        // Float-to-int casts saturate, so points outside the grid land on its border cells.
        let ix = (((p.x_m + self.half_extent_m) / self.cell_size_m) as usize).min(last);
        let iy = (((p.y_m + self.half_extent_m) / self.cell_size_m) as usize).min(last);
        (ix, iy)
    }

    fn find(&mut self, mut node: u32) -> u32 {
        // Path halving.
        while self.parent[node as usize] != node {
            let grandparent = self.parent[self.parent[node as usize] as usize];
            self.parent[node as usize] = grandparent;
            node = grandparent;
        }
        node
    }

    fn union(&mut self, a: u32, b: u32) {
        let (root_a, root_b) = (self.find(a), self.find(b));
        if root_a != root_b {
            let (small, large) = if root_a < root_b { (root_a, root_b) } else { (root_b, root_a) };
            self.parent[large as usize] = small;
        }
    }

    /// Clusters `points` (finite, lidar frame); returns the number of clusters. Clusters are
    /// numbered in the order of their first point; read them with [`Self::cluster_members`].
    pub fn cluster(&mut self, points: &[PointXyzi]) -> usize {
        self.occupied.clear();
        self.cell_of_point.clear();
        for p in points {
            let (ix, iy) = self.cell_coordinates(p);
            let cell = iy * self.side_cells + ix;
            let Some(slot) = self.grid.get_mut(cell) else { continue };
            if *slot == EMPTY {
                *slot = self.occupied.len() as u32;
                self.occupied.push(cell as u32);
            }
            self.cell_of_point.push(*slot);
        }

        let occupied_count = self.occupied.len();
        self.parent.clear();
        self.parent.extend(0..occupied_count as u32);
        let side = self.side_cells;
        for compact in 0..occupied_count {
            let cell = self.occupied[compact] as usize;
            let (ix, iy) = (cell % side, cell / side);
            // Half of the 8-neighbourhood: every touching pair is seen once.
            for (dx, dy) in [(1_isize, 0_isize), (-1, 1), (0, 1), (1, 1)] {
                let (Some(nx), Some(ny)) = (ix.checked_add_signed(dx), iy.checked_add_signed(dy)) else {
                    continue;
                };
                if nx >= side || ny >= side {
                    continue;
                }
                let neighbour = self.grid[ny * side + nx];
                if neighbour != EMPTY {
                    self.union(compact as u32, neighbour);
                }
            }
        }

        // Labels in order of first appearance (roots are the smallest compact index, and compact
        // indices follow the points' order).
        self.label_of_cell.clear();
        self.label_of_cell.resize(occupied_count, EMPTY);
        let mut cluster_count = 0_u32;
        for compact in 0..occupied_count as u32 {
            let root = self.find(compact);
            let label = if self.label_of_cell[root as usize] == EMPTY {
                self.label_of_cell[root as usize] = cluster_count;
                cluster_count += 1;
                cluster_count - 1
            } else {
                self.label_of_cell[root as usize]
            };
            self.label_of_cell[compact as usize] = label;
        }

        // Counting sort of points by cluster.
        let clusters = cluster_count as usize;
        self.cluster_start.clear();
        self.cluster_start.resize(clusters + 1, 0);
        for &compact in &self.cell_of_point {
            self.cluster_start[self.label_of_cell[compact as usize] as usize + 1] += 1;
        }
        for index in 1..self.cluster_start.len() {
            self.cluster_start[index] += self.cluster_start[index - 1];
        }
        self.cursor.clear();
        self.cursor.extend_from_slice(&self.cluster_start[..clusters]);
        self.members.clear();
        self.members.resize(self.cell_of_point.len(), 0);
        for (point, &compact) in self.cell_of_point.iter().enumerate() {
            let label = self.label_of_cell[compact as usize] as usize;
            self.members[self.cursor[label] as usize] = point as u32;
            self.cursor[label] += 1;
        }

        // Reset the grid for the next frame by visiting only what was set.
        for &cell in &self.occupied {
            if let Some(slot) = self.grid.get_mut(cell as usize) {
                *slot = EMPTY;
            }
        }
        clusters
    }

    /// Indices (into the slice given to [`Self::cluster`]) of the points of cluster `index`,
    /// ascending; empty for an index out of range.
    pub fn cluster_members(&self, index: usize) -> &[u32] {
        let (Some(&start), Some(&end)) = (self.cluster_start.get(index), self.cluster_start.get(index + 1))
        else {
            return &[];
        };
        self.members.get(start as usize..end as usize).unwrap_or(&[])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.
mod tests {
    use super::*;

    fn point(x: f32, y: f32) -> PointXyzi {
        PointXyzi { x_m: x, y_m: y, z_m: 0.0, intensity: 0.0 }
    }

    #[test]
    fn touching_cells_join_and_gaps_split() {
        let config = LidarConfig { cluster_cell_size_m: 0.5, ..LidarConfig::default() };
        let mut clusterer = GridClusterer::new(&config).unwrap();
        let points = [
            point(10.1, 0.1),
            point(20.0, 20.0),
            point(10.6, 0.6), // diagonal neighbour of the first
            point(11.6, 0.6), // one empty cell away: separate
            point(-79.9, 79.9),
            point(500.0, -500.0), // outside the grid: clamped to a border cell
        ];
        let clusters = clusterer.cluster(&points);
        assert_eq!(clusters, 5);
        assert_eq!(clusterer.cluster_members(0), &[0, 2]);
        assert_eq!(clusterer.cluster_members(1), &[1]);
        assert_eq!(clusterer.cluster_members(2), &[3]);
        assert_eq!(clusterer.cluster_members(9), &[] as &[u32]);
        // The grid is reset: a second run gives the same answer.
        assert_eq!(clusterer.cluster(&points), 5);
        assert_eq!(clusterer.cluster_members(0), &[0, 2]);
    }
}
