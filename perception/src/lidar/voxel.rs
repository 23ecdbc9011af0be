//! A voxel hash over a point slice, and voxel downsampling (one centroid per occupied voxel).
//!
//! Space is cut into cubes of edge `leaf`; the voxel of a point is
//! `(⌊x/leaf⌋, ⌊y/leaf⌋, ⌊z/leaf⌋)`. The crate-internal `VoxelIndex` maps voxel keys to compact
//! voxel indices with an open-addressing hash table (Fibonacci hashing, linear probing) whose
//! capacity is at least twice the number of points, so building it is expected O(n) and it is
//! reset by visiting only the slots it used. Compact indices follow the order in which voxels
//! first appear in the input, so everything built on them is deterministic (no iteration over
//! the table itself). The dust filter's neighbour counts use the same index.

use pitsense_types::PointXyzi;

const EMPTY_KEY: u64 = u64::MAX;

/// Voxel coordinates are clamped to `±COORDINATE_LIMIT` (21 bits per axis in a key); with a
/// leaf of 1 cm that is ±10 km, beyond any lidar range.
const COORDINATE_LIMIT: i32 = (1 << 20) - 2;

/// Integer voxel coordinates of a point.
pub(crate) fn voxel_coordinates(point: &PointXyzi, inverse_leaf: f32) -> [i32; 3] {
    let axis = |v: f32| {
        let scaled = v * inverse_leaf;
        // ⌊scaled⌋ without a libm call: truncate, then step down for negative non-integers.
        // Float-to-int casts saturate (and map NaN to 0), so the clamp bounds every input.
        let truncated = scaled as i32;
        let floor = if (truncated as f32) > scaled { truncated.saturating_sub(1) } else { truncated };
        floor.clamp(-COORDINATE_LIMIT, COORDINATE_LIMIT)
    };
    [axis(point.x_m), axis(point.y_m), axis(point.z_m)]
}

/// The 63-bit key of voxel coordinates (each already within `±COORDINATE_LIMIT`).
pub(crate) fn voxel_key(coordinates: [i32; 3]) -> u64 {
    let field = |v: i32| ((v + (1 << 20)) as u64) & 0x1F_FFFF;
    field(coordinates[0]) | (field(coordinates[1]) << 21) | (field(coordinates[2]) << 42)
}

/// Voxel hash of one point slice: voxel of each point, points of each voxel.
#[derive(Clone, Debug, Default)]
pub(crate) struct VoxelIndex {
    inverse_leaf: f32,
    /// log2 of the table capacity.
    table_bits: u32,
    table_keys: Vec<u64>,
    table_voxels: Vec<u32>,
    /// Table slots filled by the last build (to reset them).
    used_slots: Vec<u32>,
    /// Compact voxel index of each point.
    voxel_of_point: Vec<u32>,
    /// `voxel_start[v]..voxel_start[v + 1]` indexes `members` for voxel `v`.
    voxel_start: Vec<u32>,
    cursor: Vec<u32>,
    /// Point indices grouped by voxel, ascending within a voxel.
    members: Vec<u32>,
}

impl VoxelIndex {
    fn slot_of(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.table_bits)) as usize
    }

    /// Compact index of the voxel with `key`, if any point lies in it.
    pub(crate) fn find(&self, key: u64) -> Option<u32> {
        let mask = self.table_keys.len().checked_sub(1)?;
        let mut slot = self.slot_of(key);
        loop {
            let stored = *self.table_keys.get(slot)?;
            if stored == key {
                return self.table_voxels.get(slot).copied();
            }
            if stored == EMPTY_KEY {
                return None;
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Indexes `points` in voxels of edge `leaf_m` (finite, positive).
    pub(crate) fn build(&mut self, points: &[PointXyzi], leaf_m: f32) {
        self.inverse_leaf = 1.0 / leaf_m;
        for &slot in &self.used_slots {
            if let Some(key) = self.table_keys.get_mut(slot as usize) {
                *key = EMPTY_KEY;
            }
        }
        self.used_slots.clear();
        let wanted = (2 * points.len()).max(64).next_power_of_two();
        if wanted > self.table_keys.len() {
            self.table_keys.clear();
            self.table_keys.resize(wanted, EMPTY_KEY);
            self.table_voxels.resize(wanted, 0);
            self.table_bits = wanted.trailing_zeros();
        }
        let mask = self.table_keys.len() - 1;

        self.voxel_of_point.clear();
        self.voxel_start.clear();
        self.voxel_start.push(0);
        // Consecutive points of a scan often share a voxel: remember the last one.
        let mut last: Option<(u64, u32)> = None;
        for point in points {
            let key = voxel_key(voxel_coordinates(point, self.inverse_leaf));
            if let Some((last_key, last_voxel)) = last
                && last_key == key
            {
                self.voxel_of_point.push(last_voxel);
                if let Some(count) = self.voxel_start.get_mut(last_voxel as usize + 1) {
                    *count += 1;
                }
                continue;
            }
            let mut slot = self.slot_of(key);
            let voxel = loop {
                match self.table_keys.get(slot).copied() {
                    Some(stored) if stored == key => break self.table_voxels.get(slot).copied().unwrap_or(0),
                    Some(EMPTY_KEY) => {
                        let voxel = self.used_slots.len() as u32;
                        self.table_keys[slot] = key;
                        self.table_voxels[slot] = voxel;
                        self.used_slots.push(slot as u32);
                        self.voxel_start.push(0);
                        break voxel;
                    }
                    Some(_) => slot = (slot + 1) & mask,
                    // Unreachable: the table is never full (capacity >= 2 · points).
                    None => break 0,
                }
            };
            last = Some((key, voxel));
            self.voxel_of_point.push(voxel);
            if let Some(count) = self.voxel_start.get_mut(voxel as usize + 1) {
                *count += 1;
            }
        }
        for index in 1..self.voxel_start.len() {
            self.voxel_start[index] += self.voxel_start[index - 1];
        }
        self.cursor.clear();
        self.cursor.extend_from_slice(&self.voxel_start[..self.voxel_start.len() - 1]);
        self.members.clear();
        self.members.resize(points.len(), 0);
        for (point, &voxel) in self.voxel_of_point.iter().enumerate() {
            if let Some(cursor) = self.cursor.get_mut(voxel as usize) {
                if let Some(slot) = self.members.get_mut(*cursor as usize) {
                    *slot = point as u32;
                }
                *cursor += 1;
            }
        }
    }

    /// Number of occupied voxels.
    pub(crate) fn voxel_count(&self) -> usize {
        self.voxel_start.len().saturating_sub(1)
    }

    /// `1 / leaf` of the last build.
    pub(crate) fn inverse_leaf(&self) -> f32 {
        self.inverse_leaf
    }

    /// Compact voxel index of point `index` of the last build.
    pub(crate) fn voxel_of_point(&self, index: usize) -> Option<u32> {
        self.voxel_of_point.get(index).copied()
    }

    /// Indices of the points in voxel `voxel`, ascending; empty when out of range.
    pub(crate) fn members(&self, voxel: u32) -> &[u32] {
        let voxel = voxel as usize;
        let (Some(&start), Some(&end)) = (self.voxel_start.get(voxel), self.voxel_start.get(voxel + 1))
        else {
            return &[];
        };
        self.members.get(start as usize..end as usize).unwrap_or(&[])
    }
}

/// Voxel downsampling: each occupied voxel becomes the centroid of its points (position and
/// intensity averaged), in the order in which voxels first appear in the input.
#[derive(Clone, Debug)]
pub struct VoxelDownsampler {
    leaf_m: f32,
    index: VoxelIndex,
}

impl VoxelDownsampler {
    /// A downsampler with cubic voxels of edge `leaf_m` metres (validated by
    /// [`super::LidarConfig::validate`] as `lidar.voxel.leaf_size_m`; non-finite or
    /// non-positive values are replaced by 0.1 m).
    pub fn new(leaf_m: f64) -> Self {
        let leaf_m = if leaf_m.is_finite() && leaf_m > 0.0 { leaf_m as f32 } else { 0.1 };
        Self { leaf_m, index: VoxelIndex::default() }
    }

    /// Writes the centroids of `points` (finite) into `centroids` (cleared first).
    pub fn downsample(&mut self, points: &[PointXyzi], centroids: &mut Vec<PointXyzi>) {
        centroids.clear();
        self.index.build(points, self.leaf_m);
        for voxel in 0..self.index.voxel_count() as u32 {
            let members = self.index.members(voxel);
            let mut sum = [0.0_f64; 4];
            for p in members.iter().filter_map(|&i| points.get(i as usize)) {
                sum[0] += f64::from(p.x_m);
                sum[1] += f64::from(p.y_m);
                sum[2] += f64::from(p.z_m);
                sum[3] += f64::from(p.intensity);
            }
            let n = members.len().max(1) as f64;
            centroids.push(PointXyzi {
                x_m: (sum[0] / n) as f32,
                y_m: (sum[1] / n) as f32,
                z_m: (sum[2] / n) as f32,
                intensity: (sum[3] / n) as f32,
            });
        }
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
    fn keys_and_lookup() {
        let points =
            [point(0.05, 0.05, 0.05, 0.0), point(-0.05, 0.05, 0.05, 0.0), point(0.09, 0.01, 0.02, 0.0)];
        let mut index = VoxelIndex::default();
        index.build(&points, 0.1);
        assert_eq!(index.voxel_count(), 2);
        assert_eq!(index.members(0), &[0, 2]);
        assert_eq!(index.members(1), &[1]);
        assert_eq!(index.find(voxel_key([-1, 0, 0])), Some(1));
        assert_eq!(index.find(voxel_key([5, 0, 0])), None);
        assert_eq!(voxel_coordinates(&point(-0.05, 0.0, 1e30, 0.0), 10.0), [-1, 0, COORDINATE_LIMIT]);
        assert_eq!(
            voxel_coordinates(&point(-2.0, -0.25, f32::NEG_INFINITY, 0.0), 4.0),
            [-8, -1, -COORDINATE_LIMIT]
        );
        assert_eq!(voxel_coordinates(&point(0.99, 1.0, -1e-7, 0.0), 1.0), [0, 1, -1]);
        // A second build forgets the first.
        index.build(&points[1..2], 0.1);
        assert_eq!(index.voxel_count(), 1);
        assert_eq!(index.find(voxel_key([0, 0, 0])), None);
        assert_eq!(index.find(voxel_key([-1, 0, 0])), Some(0));
    }

    #[test]
    fn centroids_in_first_appearance_order() {
        let points = [
            point(1.01, 0.0, 0.0, 0.2),
            point(5.0, 5.0, 5.0, 1.0),
            point(1.03, 0.02, 0.04, 0.4),
            point(1.05, 0.0, 0.02, 0.6),
        ];
        let mut downsampler = VoxelDownsampler::new(0.1);
        let mut centroids = Vec::new();
        downsampler.downsample(&points, &mut centroids);
        assert_eq!(centroids.len(), 2);
        let c = centroids[0];
        assert!(
            (c.x_m - 1.03).abs() < 1e-6 && (c.y_m - 0.02 / 3.0).abs() < 1e-6 && (c.z_m - 0.02).abs() < 1e-6
        );
        assert!((c.intensity - 0.4).abs() < 1e-6);
        assert_eq!(centroids[1], points[1]);
        // Many points: the table grows and the result stays the same on a rerun.
        let many: Vec<PointXyzi> = (0..10_000)
            .map(|i| point((i % 100) as f32 * 0.05 + 0.025, (i / 100) as f32 * 0.05 + 0.025, 0.0, 0.0))
            .collect();
        downsampler.downsample(&many, &mut centroids);
        assert_eq!(centroids.len(), 50 * 50);
        let first = centroids.clone();
        downsampler.downsample(&many, &mut centroids);
        assert_eq!(first, centroids);
    }
}
