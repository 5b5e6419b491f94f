//! A uniform grid on the floor plane, for "who is near whom".
//!
//! Checking every pair costs n² per room; bucketing avatars by floor cell makes an
//! area-of-interest query visit only the cells its circle touches. The grid covers the room's
//! floor with square cells and is rebuilt every tick (avatars move every tick anyway) by a
//! counting sort: items are stored cell by cell in one array, rows of cells laid out one after
//! the other, so the cells of one row that a query touches are one contiguous slice. A rebuild
//! allocates nothing once the buffers have grown; a query does no hashing and no allocation.
//!
//! Cells are `cell_size` wide, except in a huge room with few avatars: the cell count is kept
//! within [`MIN_CELL_BUDGET`] or [`CELLS_PER_ITEM`] per item (whichever is larger) by widening
//! the cells, so memory follows occupancy, not floor area. Answers never depend on the cell size.

use glam::Vec3;

/// A grid may always use this many cells.
pub const MIN_CELL_BUDGET: usize = 256;

/// Beyond [`MIN_CELL_BUDGET`], a grid uses at most this many cells per item.
pub const CELLS_PER_ITEM: usize = 8;

/// Items of type `T` bucketed by their X–Z position.
#[derive(Debug, Clone)]
pub struct SpatialGrid<T> {
    /// The configured cell edge, metres.
    cell_size: f32,
    /// 1 / the cell edge in use since the last rebuild.
    inverse_cell: f32,
    origin_x: f32,
    origin_z: f32,
    cols: usize,
    rows: usize,
    /// `starts[c]..starts[c + 1]` are the items of cell `c` (row-major: `c = row × cols + col`).
    starts: Vec<u32>,
    items: Vec<GridItem<T>>,
    /// Per input item, its cell (rebuild scratch).
    cell_of_item: Vec<u32>,
}

#[derive(Debug, Clone, Copy)]
struct GridItem<T> {
    item: T,
    x: f32,
    z: f32,
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
            inverse_cell: 1.0 / cell_size,
            origin_x: 0.0,
            origin_z: 0.0,
            cols: 1,
            rows: 1,
            starts: vec![0, 0],
            items: Vec::new(),
            cell_of_item: Vec::new(),
        }
    }

    /// Replaces the contents with `items`, covering the floor rectangle from `min` to `max`
    /// (X and Z of the room's bounds). Items outside the rectangle are kept in its edge cells,
    /// so every query still finds them.
    pub fn rebuild(&mut self, min: Vec3, max: Vec3, items: &[(T, Vec3)]) {
        let width = (max.x - min.x).max(0.0);
        let depth = (max.z - min.z).max(0.0);
        let budget = MIN_CELL_BUDGET.max(CELLS_PER_ITEM.saturating_mul(items.len()));
        let mut cell = self.cell_size;
        let cells_at = |cell: f32| {
            let cols = ((width / cell).ceil() as usize).max(1);
            let rows = ((depth / cell).ceil() as usize).max(1);
            (cols, rows)
        };
        let (mut cols, mut rows) = cells_at(cell);
        while cols.saturating_mul(rows) > budget {
            cell *= ((cols as f32 * rows as f32) / budget as f32)
                .sqrt()
                .max(1.01);
            (cols, rows) = cells_at(cell);
        }
        self.inverse_cell = 1.0 / cell;
        self.origin_x = min.x;
        self.origin_z = min.z;
        self.cols = cols;
        self.rows = rows;

        let cells = cols * rows;
        self.starts.clear();
        self.starts.resize(cells + 1, 0);
        self.cell_of_item.clear();
        for (_, position) in items {
            let cell = self.row_of(position.z) * cols + self.col_of(position.x);
            self.cell_of_item.push(cell as u32);
            self.starts[cell + 1] += 1;
        }
        for c in 0..cells {
            self.starts[c + 1] += self.starts[c];
        }
        // Scatter, using `starts[c]` as the fill cursor of cell c; afterwards each cursor has
        // reached the next cell's start, so shifting restores the starts.
        self.items.clear();
        let Some(&(first, _)) = items.first() else {
            return;
        };
        let blank = GridItem {
            item: first,
            x: 0.0,
            z: 0.0,
        };
        self.items.resize(items.len(), blank);
        for ((item, position), &cell) in items.iter().zip(&self.cell_of_item) {
            let at = &mut self.starts[cell as usize];
            self.items[*at as usize] = GridItem {
                item: *item,
                x: position.x,
                z: position.z,
            };
            *at += 1;
        }
        for c in (1..=cells).rev() {
            self.starts[c] = self.starts[c - 1];
        }
        self.starts[0] = 0;
    }

    fn col_of(&self, x: f32) -> usize {
        // `as` saturates (NaN becomes 0), so absurd coordinates land in an edge cell.
        (((x - self.origin_x) * self.inverse_cell).floor() as i64).clamp(0, self.cols as i64 - 1)
            as usize
    }

    fn row_of(&self, z: f32) -> usize {
        (((z - self.origin_z) * self.inverse_cell).floor() as i64).clamp(0, self.rows as i64 - 1)
            as usize
    }

    /// How many items are in the grid.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the grid is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Calls `visit(item, distance²)` for every item within `radius` of `center` on the floor
    /// plane (heights are ignored: a balcony above you is still near).
    pub fn for_each_within(&self, center: Vec3, radius: f32, mut visit: impl FnMut(T, f32)) {
        if self.items.is_empty() {
            return;
        }
        let (c0, c1) = (
            self.col_of(center.x - radius),
            self.col_of(center.x + radius),
        );
        let (r0, r1) = (
            self.row_of(center.z - radius),
            self.row_of(center.z + radius),
        );
        let radius_sq = radius * radius;
        for row in r0..=r1 {
            let first = self.starts[row * self.cols + c0] as usize;
            let last = self.starts[row * self.cols + c1 + 1] as usize;
            for entry in &self.items[first..last] {
                let dx = entry.x - center.x;
                let dz = entry.z - center.z;
                let d_sq = dx * dx + dz * dz;
                if d_sq <= radius_sq {
                    visit(entry.item, d_sq);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Vec3 = Vec3::new(-25.0, 0.0, -22.0);
    const MAX: Vec3 = Vec3::new(26.0, 5.0, 23.0);

    fn grid(cell: f32, points: &[(u32, Vec3)]) -> SpatialGrid<u32> {
        let mut grid = SpatialGrid::new(cell);
        grid.rebuild(MIN, MAX, points);
        grid
    }

    fn within(grid: &SpatialGrid<u32>, center: Vec3, radius: f32) -> Vec<u32> {
        let mut found = Vec::new();
        grid.for_each_within(center, radius, |item, _| found.push(item));
        found.sort_unstable();
        found
    }

    #[test]
    fn finds_exactly_the_items_within_the_radius() {
        let points = [
            (1, Vec3::new(0.0, 0.0, 0.0)),
            (2, Vec3::new(3.0, 0.0, 4.0)),   // exactly 5 m away
            (3, Vec3::new(-3.9, 0.0, -3.9)), // ~5.5 m
            (4, Vec3::new(12.0, 0.0, 0.0)),
            (5, Vec3::new(0.0, 40.0, 1.0)), // high above: height ignored
        ];
        let grid = grid(4.0, &points);
        assert_eq!(grid.len(), 5);
        assert_eq!(within(&grid, Vec3::ZERO, 5.0), [1, 2, 5]);
        assert_eq!(within(&grid, Vec3::ZERO, 6.0), [1, 2, 3, 5]);
        assert_eq!(within(&grid, Vec3::new(12.0, 0.0, 0.0), 0.5), [4]);
    }

    fn scatter() -> Vec<(u32, Vec3)> {
        // deterministic scatter, including cell borders and points outside the rectangle
        (0..400u32)
            .map(|i| {
                let x = ((i * 37) % 101) as f32 * 0.5 - 25.0;
                let z = ((i * 53) % 89) as f32 * 0.5 - 22.0;
                let p = match i % 50 {
                    0 => Vec3::new(x - 100.0, 0.0, z),
                    1 => Vec3::new(x, 0.0, z + 60.0),
                    _ => Vec3::new(x, 0.0, z),
                };
                (i, p)
            })
            .collect()
    }

    #[test]
    fn agrees_with_brute_force_for_any_cell_size() {
        let points = scatter();
        for cell in [0.7, 3.0, 8.0, 100.0] {
            let grid = grid(cell, &points);
            for center in [
                Vec3::ZERO,
                Vec3::new(-20.0, 0.0, 7.5),
                Vec3::new(9.0, 0.0, -9.0),
                Vec3::new(-110.0, 0.0, 0.0),
                Vec3::new(0.0, 0.0, 80.0),
            ] {
                for radius in [0.5, 8.0, 30.0] {
                    let mut expected: Vec<u32> = points
                        .iter()
                        .filter(|(_, p)| {
                            let (dx, dz) = (p.x - center.x, p.z - center.z);
                            dx * dx + dz * dz <= radius * radius
                        })
                        .map(|(id, _)| *id)
                        .collect();
                    expected.sort_unstable();
                    assert_eq!(
                        within(&grid, center, radius),
                        expected,
                        "cell {cell}, centre {center}, radius {radius}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_huge_sparse_room_gets_wider_cells_not_millions() {
        let mut grid = SpatialGrid::new(1.0);
        let points = [
            (1u32, Vec3::new(10.0, 0.0, 10.0)),
            (2, Vec3::new(9_000.0, 0.0, 50.0)),
        ];
        grid.rebuild(Vec3::ZERO, Vec3::new(10_000.0, 10.0, 10_000.0), &points);
        assert!(
            grid.cols * grid.rows <= MIN_CELL_BUDGET,
            "{}",
            grid.cols * grid.rows
        );
        assert_eq!(within(&grid, Vec3::new(11.0, 0.0, 11.0), 2.0), [1]);
        assert_eq!(within(&grid, Vec3::new(9_000.0, 0.0, 45.0), 5.0), [2]);
    }

    #[test]
    fn a_rebuild_replaces_the_contents() {
        let mut g = grid(2.0, &[(7, Vec3::ONE)]);
        g.rebuild(MIN, MAX, &[]);
        assert!(g.is_empty());
        assert!(within(&g, Vec3::ONE, 10.0).is_empty());
        g.rebuild(MIN, MAX, &[(8, Vec3::ONE)]);
        assert_eq!(within(&g, Vec3::ONE, 1.0), [8]);
    }
}
