//! Pooling kernels over contiguous `[planes, H, W]` data: max (with the argmax of each
//! window), average, and the average's adjoint. Windows are separable: an output cell
//! `(i, j)` reads the input rows of `rows[i]` crossed with the columns of `cols[j]`, which
//! covers strided, padded, dilated, ceil-mode and adaptive windows alike. 1-D pooling is the
//! same with height 1.

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
    #[inline]
    fn indices(self) -> impl Iterator<Item = usize> {
        (0..self.len).map(move |k| self.start + k * self.step)
    }
}

/// Where every output cell of a pooling reads.
#[derive(Clone, Debug)]
pub struct PoolPlan {
    pub planes: usize,
    pub height: usize,
    pub width: usize,
    pub rows: Vec<Span>,
    pub cols: Vec<Span>,
}

impl PoolPlan {
    fn in_plane(&self) -> usize {
        self.height * self.width
    }
    fn out_plane(&self) -> usize {
        self.rows.len() * self.cols.len()
    }
    fn parallel(&self) -> bool {
        self.planes > 1 && self.planes * (self.in_plane() + self.out_plane()) >= 1 << 14
    }
}

/// Applies `f(plane index, input plane, output plane)` to every plane, in parallel when large.
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

/// The maximum of every window and its flat index `h·W + w` in its plane (PyTorch's
/// `max_pool2d_with_indices`). Ties keep the first maximum in row-major order; a NaN wins
/// (and the first NaN stays), as in PyTorch. An empty window gives −∞ at index 0.
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
            let mut cell = 0;
            for r in &plan.rows {
                for c in &plan.cols {
                    let mut best = (T::NEG_INFINITY, None::<usize>);
                    'window: for i in r.indices() {
                        for j in c.indices() {
                            let at = i * plan.width + j;
                            let v = src[at];
                            if v.is_nan() {
                                best = (v, Some(at));
                                break 'window;
                            }
                            if best.1.is_none() || v > best.0 {
                                best = (v, Some(at));
                            }
                        }
                    }
                    dst[cell] = (best.0, best.1.unwrap_or(0) as i64);
                    cell += 1;
                }
            }
        },
    );
    both.into_iter().unzip()
}

/// The sum of every window divided by `row_div[i] · col_div[j]`.
pub fn avg_pool<T: Float>(x: &[T], plan: &PoolPlan, row_div: &[f64], col_div: &[f64]) -> Vec<T> {
    let mut out = vec![T::zero(); plan.planes * plan.out_plane()];
    per_plane(
        x,
        plan.in_plane(),
        &mut out,
        plan.out_plane(),
        plan.parallel(),
        |src, dst| {
            let mut cell = 0;
            for (r, rd) in plan.rows.iter().zip(row_div) {
                for (c, cd) in plan.cols.iter().zip(col_div) {
                    let mut acc = 0.0f64;
                    for i in r.indices() {
                        for j in c.indices() {
                            acc += src[i * plan.width + j].to_f64();
                        }
                    }
                    dst[cell] = T::from_f64(acc / (rd * cd));
                    cell += 1;
                }
            }
        },
    );
    out
}

/// The adjoint of [`avg_pool`]: each output cell's gradient, divided like the forward, is
/// added to every input element of its window.
pub fn avg_pool_backward<T: Float>(
    g: &[T],
    plan: &PoolPlan,
    row_div: &[f64],
    col_div: &[f64],
) -> Vec<T> {
    let mut out = vec![T::zero(); plan.planes * plan.in_plane()];
    let (out_plane, in_plane) = (plan.out_plane(), plan.in_plane());
    let one = |(src, dst): (&[T], &mut [T])| {
        let mut cell = 0;
        for (r, rd) in plan.rows.iter().zip(row_div) {
            for (c, cd) in plan.cols.iter().zip(col_div) {
                let share = T::from_f64(src[cell].to_f64() / (rd * cd));
                for i in r.indices() {
                    for j in c.indices() {
                        let at = i * plan.width + j;
                        dst[at] = dst[at] + share;
                    }
                }
                cell += 1;
            }
        }
    };
    if out_plane == 0 || in_plane == 0 {
        return out;
    }
    if plan.parallel() {
        g.par_chunks(out_plane)
            .zip(out.par_chunks_mut(in_plane))
            .for_each(one);
    } else {
        g.chunks(out_plane)
            .zip(out.chunks_mut(in_plane))
            .for_each(one);
    }
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
            height: 4,
            width: 4,
            rows: spans(2, 2, 2),
            cols: spans(2, 2, 2),
        };
        let (v, i) = max_pool::<f64>(&x, &plan);
        assert_eq!(v, vec![6., 8., 3., 4.]);
        assert_eq!(i, vec![5, 7, 8, 15]);
    }

    #[test]
    fn avg_pool_backward_is_the_adjoint() {
        let plan = PoolPlan {
            planes: 2,
            height: 3,
            width: 4,
            rows: spans(2, 2, 1),
            cols: spans(2, 3, 1),
        };
        let (rd, cd) = ([2.0, 2.0], [3.0, 1.5]);
        let x: Vec<f64> = (0..24).map(|i| (i as f64 * 0.3).sin()).collect();
        let g: Vec<f64> = (0..8).map(|i| (i as f64 * 0.7).cos()).collect();
        let lhs: f64 = avg_pool(&x, &plan, &rd, &cd)
            .iter()
            .zip(&g)
            .map(|(a, b)| a * b)
            .sum();
        let rhs: f64 = avg_pool_backward(&g, &plan, &rd, &cd)
            .iter()
            .zip(&x)
            .map(|(a, b)| a * b)
            .sum();
        assert!((lhs - rhs).abs() < 1e-12);
    }
}
