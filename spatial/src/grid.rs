//! A uniform spatial hash grid on the floor plane.
//!
//! Finding who is near whom by checking every pair costs n² per room; bucketing avatars by
//! floor cell makes an area-of-interest query visit only the few cells its circle touches. The
//! grid is rebuilt every tick (avatars move every tick anyway), keeping the buckets' allocations.

use glam::Vec3;

use crate::hash::FastMap;

type Cell = (i32, i32);

/// Items of type `T` bucketed by their X–Z position.
#[derive(Debug, Clone)]
pub struct SpatialGrid<T> {
    cell_size: f32,
    cells: FastMap<Cell, Vec<(T, Vec3)>>,
    len: usize,
}

impl<T: Copy> SpatialGrid<T> {
    /// An empty grid. `cell_size` must be positive (the config validates it); anything else is
    /// treated as 1 m rather than dividing by zero.
    pub fn new(cell_size: f32) -> Self {
        let cell_size = if cell_size.is_finite() && cell_size > 0.0 {
            cell_size
        } else {
            1.0
        };
        Self {
            cell_size,
            cells: FastMap::default(),
            len: 0,
        }
    }

    fn cell_of(&self, x: f32, z: f32) -> Cell {
        // `as` saturates, so absurd coordinates land in the outermost cell instead of wrapping.
        (
            (x / self.cell_size).floor() as i32,
            (z / self.cell_size).floor() as i32,
        )
    }

    /// Empties every bucket but keeps their memory; buckets that stayed empty through the
    /// previous fill are dropped so a crowd that walked away does not pin memory.
    pub fn clear(&mut self) {
        self.cells.retain(|_, bucket| !bucket.is_empty());
        for bucket in self.cells.values_mut() {
            bucket.clear();
        }
        self.len = 0;
    }

    /// Adds an item at a position.
    pub fn insert(&mut self, item: T, position: Vec3) {
        let cell = self.cell_of(position.x, position.z);
        self.cells.entry(cell).or_default().push((item, position));
        self.len += 1;
    }

    /// How many items are in the grid.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the grid is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Calls `visit(item, position, distance²)` for every item within `radius` of `center` on
    /// the floor plane (heights are ignored: a balcony above you is still near).
    pub fn for_each_within(&self, center: Vec3, radius: f32, mut visit: impl FnMut(T, Vec3, f32)) {
        let (x0, z0) = self.cell_of(center.x - radius, center.z - radius);
        let (x1, z1) = self.cell_of(center.x + radius, center.z + radius);
        let radius_sq = radius * radius;
        for cx in x0..=x1 {
            for cz in z0..=z1 {
                let Some(bucket) = self.cells.get(&(cx, cz)) else {
                    continue;
                };
                for &(item, position) in bucket {
                    let dx = position.x - center.x;
                    let dz = position.z - center.z;
                    let d_sq = dx * dx + dz * dz;
                    if d_sq <= radius_sq {
                        visit(item, position, d_sq);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn within(grid: &SpatialGrid<u32>, center: Vec3, radius: f32) -> Vec<u32> {
        let mut found = Vec::new();
        grid.for_each_within(center, radius, |item, _, _| found.push(item));
        found.sort_unstable();
        found
    }

    #[test]
    fn finds_exactly_the_items_within_the_radius() {
        let mut grid = SpatialGrid::new(4.0);
        let points = [
            (1, Vec3::new(0.0, 0.0, 0.0)),
            (2, Vec3::new(3.0, 0.0, 4.0)),   // exactly 5 m away
            (3, Vec3::new(-3.9, 0.0, -3.9)), // ~5.5 m
            (4, Vec3::new(12.0, 0.0, 0.0)),
            (5, Vec3::new(0.0, 40.0, 1.0)), // high above: height ignored
        ];
        for (id, p) in points {
            grid.insert(id, p);
        }
        assert_eq!(grid.len(), 5);
        assert_eq!(within(&grid, Vec3::ZERO, 5.0), [1, 2, 5]);
        assert_eq!(within(&grid, Vec3::ZERO, 6.0), [1, 2, 3, 5]);
        assert_eq!(within(&grid, Vec3::new(12.0, 0.0, 0.0), 0.5), [4]);
    }

    #[test]
    fn agrees_with_brute_force_on_a_scattered_crowd() {
        let mut grid = SpatialGrid::new(3.0);
        let mut points = Vec::new();
        // deterministic scatter, including negative coordinates and cell borders
        for i in 0..400u32 {
            let x = ((i * 37) % 101) as f32 * 0.5 - 25.0;
            let z = ((i * 53) % 89) as f32 * 0.5 - 22.0;
            points.push((i, Vec3::new(x, 0.0, z)));
            grid.insert(i, Vec3::new(x, 0.0, z));
        }
        for center in [
            Vec3::ZERO,
            Vec3::new(-20.0, 0.0, 7.5),
            Vec3::new(9.0, 0.0, -9.0),
        ] {
            let mut expected: Vec<u32> = points
                .iter()
                .filter(|(_, p)| {
                    let d = Vec3::new(p.x - center.x, 0.0, p.z - center.z);
                    d.length_squared() <= 64.0
                })
                .map(|(id, _)| *id)
                .collect();
            expected.sort_unstable();
            assert_eq!(within(&grid, center, 8.0), expected);
        }
    }

    #[test]
    fn clear_empties_the_grid_for_the_next_tick() {
        let mut grid = SpatialGrid::new(2.0);
        grid.insert(7u32, Vec3::ONE);
        grid.clear();
        assert!(grid.is_empty());
        assert!(within(&grid, Vec3::ONE, 10.0).is_empty());
        grid.insert(8u32, Vec3::ONE);
        assert_eq!(within(&grid, Vec3::ONE, 1.0), [8]);
    }
}
