//! Pooling kernels over contiguous `[planes, D, H, W]` data: max (with the argmax of each
//! window), average, and the average's adjoint. Windows are separable: an output cell
//! `(a, i, j)` reads the input depths of `spans[0][a]` crossed with the rows of `spans[1][i]`
//! and the columns of `spans[2][j]`, which covers strided, padded, dilated, ceil-mode and
//! adaptive windows alike. 2-D pooling is the same with depth 1, 1-D with depth and height 1.

use rayon::prelude::*;

use crate::tensor::Float;

/// The input indices one output position reads along one dimension, already clipped to
/// the input: `start, start + step, ...` (`len` of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub len: usize,
    pub step: usize,
}

impl Span {
    /// The single index 0: the window along a dimension a lower-rank pool does not have.
    pub const UNIT: Span = Span {
        start: 0,
        len: 1,
        step: 1,
    };

    #[inline]
    fn indices(self) -> impl Iterator<Item = usize> {
        (0..self.len).map(move |k| self.start + k * self.step)
    }
}

/// Where every output cell of a pooling reads.
#[derive(Clone, Debug)]
pub struct PoolPlan {
    pub planes: usize,
    /// The input's (depth, height, width).
    pub size: [usize; 3],
    /// The windows along depth, height and width, one per output position.
    pub spans: [Vec<Span>; 3],
}

impl PoolPlan {
    fn in_plane(&self) -> usize {
        self.size.iter().product()
    }
    fn out_plane(&self) -> usize {
        self.spans.iter().map(Vec::len).product()
    }
    fn parallel(&self) -> bool {
        self.planes > 1 && self.planes * (self.in_plane() + self.out_plane()) >= 1 << 14
    }

    /// Calls `f(cell, [depth, row, column] output position)` for every output cell in
    /// row-major order.
    #[inline]
    fn each_cell(&self, mut f: impl FnMut(usize, [usize; 3])) {
        let [ds, rs, cs] = &self.spans;
        let mut cell = 0;
        for a in 0..ds.len() {
            for i in 0..rs.len() {
                for j in 0..cs.len() {
                    f(cell, [a, i, j]);
                    cell += 1;
                }
            }
        }
    }

    /// Calls `f(flat input index)` for every input element of the window at `at`, in
    /// row-major order; `f` returns false to stop early.
    #[inline]
    fn each_tap(&self, [a, i, j]: [usize; 3], mut f: impl FnMut(usize) -> bool) {
        let [_, h, w] = self.size;
        let (c, r) = (self.spans[2][j], self.spans[1][i]);
        for d in self.spans[0][a].indices() {
            for y in r.indices() {
                let row = (d * h + y) * w;
                for x in c.indices() {
                    if !f(row + x) {
                        return;
                    }
                }
            }
        }
    }
}

/// The divisor of each output position of an average pooling: the product of one factor
/// per spatial dimension (`div[0][a] · div[1][i] · div[2][j]`).
fn divisor(div: &[Vec<f64>; 3], [a, i, j]: [usize; 3]) -> f64 {
    div[0][a] * div[1][i] * div[2][j]
}

/// Applies `f(input plane, output plane)` to every plane, in parallel when large.
fn per_plane<T: Float, U: Send>(
    src: &[T],
    src_len: usize,
    dst: &mut [U],
    dst_len: usize,
    parallel: bool,
    f: impl Fn(&[T], &mut [U]) + Sync + Send,
) {
    if src_len == 0 || dst_len == 0 {
        return;
    }
    if parallel {
        src.par_chunks(src_len)
            .zip(dst.par_chunks_mut(dst_len))
            .for_each(|(s, d)| f(s, d));
    } else {
        src.chunks(src_len)
            .zip(dst.chunks_mut(dst_len))
            .for_each(|(s, d)| f(s, d));
    }
}

/// The maximum of every window and its flat index `(d·H + h)·W + w` in its plane (PyTorch's
/// `max_pool{1,2,3}d_with_indices`). Ties keep the first maximum in row-major order; a NaN
/// wins (and the first NaN stays), as in PyTorch. An empty window gives −∞ at index 0.
pub fn max_pool<T: Float>(x: &[T], plan: &PoolPlan) -> (Vec<T>, Vec<i64>) {
    let n = plan.planes * plan.out_plane();
    let mut both: Vec<(T, i64)> = vec![(T::NEG_INFINITY, 0); n];
    per_plane(
        x,
        plan.in_plane(),
        &mut both,
        plan.out_plane(),
        plan.parallel(),
        |src, dst| {
            plan.each_cell(|cell, pos| {
                let mut best = (T::NEG_INFINITY, None::<usize>);
                plan.each_tap(pos, |at| {
                    let v = src[at];
                    if v.is_nan() {
                        best = (v, Some(at));
                        return false;
                    }
                    if best.1.is_none() || v > best.0 {
                        best = (v, Some(at));
                    }
                    true
                });
                dst[cell] = (best.0, best.1.unwrap_or(0) as i64);
            });
        },
    );
    both.into_iter().unzip()
}

/// The sum of every window divided by its [`divisor`].
pub fn avg_pool<T: Float>(x: &[T], plan: &PoolPlan, div: &[Vec<f64>; 3]) -> Vec<T> {
    let mut out = vec![T::zero(); plan.planes * plan.out_plane()];
    per_plane(
        x,
        plan.in_plane(),
        &mut out,
        plan.out_plane(),
        plan.parallel(),
        |src, dst| {
            plan.each_cell(|cell, pos| {
                let mut acc = 0.0f64;
                plan.each_tap(pos, |at| {
                    acc += src[at].to_f64();
                    true
                });
                dst[cell] = T::from_f64(acc / divisor(div, pos));
            });
        },
    );
    out
}

/// The adjoint of [`avg_pool`]: each output cell's gradient, divided like the forward, is
/// added to every input element of its window.
pub fn avg_pool_backward<T: Float>(g: &[T], plan: &PoolPlan, div: &[Vec<f64>; 3]) -> Vec<T> {
    let mut out = vec![T::zero(); plan.planes * plan.in_plane()];
    per_plane(
        g,
        plan.out_plane(),
        &mut out,
        plan.in_plane(),
        plan.parallel(),
        |src, dst| {
            plan.each_cell(|cell, pos| {
                let share = T::from_f64(src[cell].to_f64() / divisor(div, pos));
                plan.each_tap(pos, |at| {
                    dst[at] = dst[at] + share;
                    true
                });
            });
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(n_out: usize, k: usize, s: usize) -> Vec<Span> {
        (0..n_out)
            .map(|o| Span {
                start: o * s,
                len: k,
                step: 1,
            })
            .collect()
    }

    #[test]
    fn max_pool_of_the_course_example() {
        // COURSE §8: 2×2 max pool, stride 2.
        let x = [
            1., 1., 2., 4., 5., 6., 7., 8., 3., 2., 1., 0., 1., 2., 3., 4.,
        ];
        let plan = PoolPlan {
            planes: 1,
            size: [1, 4, 4],
            spans: [vec![Span::UNIT], spans(2, 2, 2), spans(2, 2, 2)],
        };
        let (v, i) = max_pool::<f64>(&x, &plan);
        assert_eq!(v, vec![6., 8., 3., 4.]);
        assert_eq!(i, vec![5, 7, 8, 15]);
    }

    #[test]
    fn max_pool_indices_are_flat_over_the_volume() {
        // A 2×2×2 volume holding 0..8, pooled by 1×2×2 windows: the maximum of depth d is
        // the last element of its slice, flat index 4d + 3.
        let x: Vec<f64> = (0..8).map(f64::from).collect();
        let plan = PoolPlan {
            planes: 1,
            size: [2, 2, 2],
            spans: [spans(2, 1, 1), spans(1, 2, 1), spans(1, 2, 1)],
        };
        let (v, i) = max_pool(&x, &plan);
        assert_eq!(v, vec![3., 7.]);
        assert_eq!(i, vec![3, 7]);
        // A 2×1×1 window over depth takes the deeper element.
        let plan = PoolPlan {
            spans: [spans(1, 2, 1), spans(2, 1, 1), spans(2, 1, 1)],
            ..plan
        };
        assert_eq!(max_pool(&x, &plan).1, vec![4, 5, 6, 7]);
    }

    #[test]
    fn avg_pool_backward_is_the_adjoint() {
        let plan = PoolPlan {
            planes: 2,
            size: [3, 3, 4],
            spans: [spans(2, 2, 1), spans(2, 2, 1), spans(2, 3, 1)],
        };
        let div = [vec![2.0, 1.0], vec![2.0, 2.0], vec![3.0, 1.5]];
        let x: Vec<f64> = (0..72).map(|i| (i as f64 * 0.3).sin()).collect();
        let g: Vec<f64> = (0..16).map(|i| (i as f64 * 0.7).cos()).collect();
        let lhs: f64 = avg_pool(&x, &plan, &div)
            .iter()
            .zip(&g)
            .map(|(a, b)| a * b)
            .sum();
        let rhs: f64 = avg_pool_backward(&g, &plan, &div)
            .iter()
            .zip(&x)
            .map(|(a, b)| a * b)
            .sum();
        assert!((lhs - rhs).abs() < 1e-12);
    }
}
