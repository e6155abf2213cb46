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
        self.planes > 1 && self.planes * (self.in_plane() + self.out_plane()) >= 1 << 16
    }

    /// Whether every window is 2×2 at stride 2 with no padding, over a 2-D plane (the
    /// spans are `{2i, 2, 1}` along height and width).
    fn is_2x2(&self) -> bool {
        let regular = |spans: &[Span], size: usize| {
            spans.len() * 2 <= size
                && spans.iter().enumerate().all(|(i, s)| {
                    *s == Span {
                        start: 2 * i,
                        len: 2,
                        step: 1,
                    }
                })
        };
        !self.deep()
            && regular(&self.spans[1], self.size[1])
            && regular(&self.spans[2], self.size[2])
    }

    /// Whether the plan has windows along depth other than the single unit one (a 1-D or 2-D
    /// pool has only that one; so may a 3-D pool of a depth-1 input).
    fn deep(&self) -> bool {
        self.spans[0] != [Span::UNIT]
    }
}

/// Calls `f(offset of the row)` for every input row `(d, i)` of the window with depth span `ds`
/// and row span `r` (depth-major), until `f` returns false. With `DEEP` false the depth span
/// is known to be the single unit one and its loop is left out (1-D and 2-D pools keep the
/// speed of a two-level loop).
#[inline(always)]
fn each_row<const DEEP: bool>(
    ds: Span,
    r: Span,
    [h, w]: [usize; 2],
    mut f: impl FnMut(usize) -> bool,
) {
    if DEEP {
        for d in ds.indices() {
            for i in r.indices() {
                if !f((d * h + i) * w) {
                    return;
                }
            }
        }
    } else {
        for i in r.indices() {
            if !f(i * w) {
                return;
            }
        }
    }
}

/// Applies `f(input plane, output plane)` to every plane, in parallel when large. The kernels
/// pass `move` closures: holding the plan's slices and sizes by value lets the compiler keep
/// them in registers across the stores to the output.
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
    if plan.is_2x2() {
        max_pool_2x2(x, plan)
    } else if plan.deep() {
        max_pool_in::<T, true>(x, plan)
    } else {
        max_pool_in::<T, false>(x, plan)
    }
}

/// Whether `v` should replace the maximum `best` so far, in row-major order: a larger value
/// or the first NaN (once a NaN is held it stays).
#[inline(always)]
fn beats<T: Float>(v: T, best: T) -> bool {
    (v > best) | (v.is_nan() & !best.is_nan())
}

/// [`max_pool`] for the common 2×2 window at stride 2 without padding (a plan whose spans
/// are exactly `{2i, 2, 1}`): two input rows give one output row, with no span lookups.
fn max_pool_2x2<T: Float>(x: &[T], plan: &PoolPlan) -> (Vec<T>, Vec<i64>) {
    let n = plan.planes * plan.out_plane();
    let (mut values, mut indices) = (vec![T::zero(); n], vec![0i64; n]);
    let (oh, ow) = (plan.spans[1].len(), plan.spans[2].len());
    let w = plan.size[2];
    per_plane_pair(
        x,
        plan.in_plane(),
        (&mut values, &mut indices),
        plan.out_plane(),
        plan.parallel(),
        move |src, vals, idx| {
            for i in 0..oh {
                let (top, bottom) = (2 * i * w, (2 * i + 1) * w);
                let (vals, idx) = (
                    &mut vals[i * ow..(i + 1) * ow],
                    &mut idx[i * ow..(i + 1) * ow],
                );
                let (top, bottom) = (&src[top..top + 2 * ow], &src[bottom..bottom + 2 * ow]);
                // Selects, not branches: which element wins is data-dependent and would
                // mispredict about half the time.
                for j in 0..ow {
                    let candidates = [
                        (top[2 * j], 0),
                        (top[2 * j + 1], 1),
                        (bottom[2 * j], w),
                        (bottom[2 * j + 1], w + 1),
                    ];
                    let (mut best, mut k) = candidates[0];
                    for &(v, at) in &candidates[1..] {
                        let take = beats(v, best);
                        best = if take { v } else { best };
                        k = if take { at } else { k };
                    }
                    vals[j] = best;
                    idx[j] = (2 * i * w + 2 * j + k) as i64;
                }
            }
        },
    );
    (values, indices)
}

/// [`per_plane`] with two outputs per plane (a pooling's values and indices).
fn per_plane_pair<T: Float, U: Send, V: Send>(
    src: &[T],
    src_len: usize,
    (a, b): (&mut [U], &mut [V]),
    dst_len: usize,
    parallel: bool,
    f: impl Fn(&[T], &mut [U], &mut [V]) + Sync + Send,
) {
    if src_len == 0 || dst_len == 0 {
        return;
    }
    if parallel {
        src.par_chunks(src_len)
            .zip(a.par_chunks_mut(dst_len))
            .zip(b.par_chunks_mut(dst_len))
            .for_each(|((s, a), b)| f(s, a, b));
    } else {
        src.chunks(src_len)
            .zip(a.chunks_mut(dst_len))
            .zip(b.chunks_mut(dst_len))
            .for_each(|((s, a), b)| f(s, a, b));
    }
}

/// [`max_pool`] with the depth loop compiled in (`DEEP`) or out.
fn max_pool_in<T: Float, const DEEP: bool>(x: &[T], plan: &PoolPlan) -> (Vec<T>, Vec<i64>) {
    let n = plan.planes * plan.out_plane();
    let (mut values, mut indices) = (vec![T::NEG_INFINITY; n], vec![0i64; n]);
    let [depths, rows, cols] = &plan.spans;
    let hw = [plan.size[1], plan.size[2]];
    per_plane_pair(
        x,
        plan.in_plane(),
        (&mut values, &mut indices),
        plan.out_plane(),
        plan.parallel(),
        move |src, vals, idx| {
            let mut cell = 0;
            for ds in depths {
                for r in rows {
                    for c in cols {
                        // usize::MAX: no element yet (an empty window). A sentinel rather than
                        // an Option: this loop is the hot one.
                        let mut best = (T::NEG_INFINITY, usize::MAX);
                        each_row::<DEEP>(*ds, *r, hw, |row| {
                            for j in c.indices() {
                                let v = src[row + j];
                                if v.is_nan() {
                                    best = (v, row + j);
                                    return false;
                                }
                                if best.1 == usize::MAX || v > best.0 {
                                    best = (v, row + j);
                                }
                            }
                            true
                        });
                        vals[cell] = best.0;
                        idx[cell] = if best.1 == usize::MAX {
                            0
                        } else {
                            best.1 as i64
                        };
                        cell += 1;
                    }
                }
            }
        },
    );
    (values, indices)
}

/// The gradient of a max pooling: each output's gradient `g` added at its window's argmax
/// `indices` (flat within the plane, as [`max_pool`] gives them) of a zeroed `[planes,
/// in_plane]` buffer; overlapping windows add up. Planes run in parallel when large.
pub fn max_pool_adjoint<T: Float>(
    g: &[T],
    indices: &[i64],
    planes: usize,
    in_plane: usize,
) -> Vec<T> {
    let mut out = vec![T::zero(); planes * in_plane];
    if planes == 0 || in_plane == 0 || g.is_empty() {
        return out;
    }
    let out_plane = g.len() / planes;
    let one = |((dst, g), idx): ((&mut [T], &[T]), &[i64])| {
        for (&v, &i) in g.iter().zip(idx) {
            dst[i as usize] = dst[i as usize] + v;
        }
    };
    if planes > 1 && planes * (in_plane + out_plane) >= 1 << 14 {
        out.par_chunks_mut(in_plane)
            .zip(g.par_chunks(out_plane))
            .zip(indices.par_chunks(out_plane))
            .for_each(one);
    } else {
        out.chunks_mut(in_plane)
            .zip(g.chunks(out_plane))
            .zip(indices.chunks(out_plane))
            .for_each(one);
    }
    out
}

/// The sum of every window divided by `div[0][a] · div[1][i] · div[2][j]` (one factor per
/// output position along depth, height and width).
pub fn avg_pool<T: Float>(x: &[T], plan: &PoolPlan, div: &[Vec<f64>; 3]) -> Vec<T> {
    if plan.deep() {
        avg_pool_in::<T, true>(x, plan, div)
    } else {
        avg_pool_in::<T, false>(x, plan, div)
    }
}

/// [`avg_pool`] with the depth loop compiled in (`DEEP`) or out.
fn avg_pool_in<T: Float, const DEEP: bool>(
    x: &[T],
    plan: &PoolPlan,
    div: &[Vec<f64>; 3],
) -> Vec<T> {
    let mut out = vec![T::zero(); plan.planes * plan.out_plane()];
    let [depths, rows, cols] = &plan.spans;
    let hw = [plan.size[1], plan.size[2]];
    per_plane(
        x,
        plan.in_plane(),
        &mut out,
        plan.out_plane(),
        plan.parallel(),
        move |src, dst| {
            let mut cell = 0;
            for (ds, dd) in depths.iter().zip(&div[0]) {
                for (r, rd) in rows.iter().zip(&div[1]) {
                    for (c, cd) in cols.iter().zip(&div[2]) {
                        let mut acc = 0.0f64;
                        each_row::<DEEP>(*ds, *r, hw, |row| {
                            for j in c.indices() {
                                acc += src[row + j].to_f64();
                            }
                            true
                        });
                        dst[cell] = T::from_f64(acc / (dd * rd * cd));
                        cell += 1;
                    }
                }
            }
        },
    );
    out
}

/// The adjoint of [`avg_pool`]: each output cell's gradient, divided like the forward, is
/// added to every input element of its window.
pub fn avg_pool_backward<T: Float>(g: &[T], plan: &PoolPlan, div: &[Vec<f64>; 3]) -> Vec<T> {
    if plan.deep() {
        avg_pool_backward_in::<T, true>(g, plan, div)
    } else {
        avg_pool_backward_in::<T, false>(g, plan, div)
    }
}

/// [`avg_pool_backward`] with the depth loop compiled in (`DEEP`) or out.
fn avg_pool_backward_in<T: Float, const DEEP: bool>(
    g: &[T],
    plan: &PoolPlan,
    div: &[Vec<f64>; 3],
) -> Vec<T> {
    let mut out = vec![T::zero(); plan.planes * plan.in_plane()];
    let [depths, rows, cols] = &plan.spans;
    let hw = [plan.size[1], plan.size[2]];
    per_plane(
        g,
        plan.out_plane(),
        &mut out,
        plan.in_plane(),
        plan.parallel(),
        move |src, dst| {
            let mut cell = 0;
            for (ds, dd) in depths.iter().zip(&div[0]) {
                for (r, rd) in rows.iter().zip(&div[1]) {
                    for (c, cd) in cols.iter().zip(&div[2]) {
                        let share = T::from_f64(src[cell].to_f64() / (dd * rd * cd));
                        each_row::<DEEP>(*ds, *r, hw, |row| {
                            for j in c.indices() {
                                dst[row + j] = dst[row + j] + share;
                            }
                            true
                        });
                        cell += 1;
                    }
                }
            }
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
    fn the_2x2_fast_path_agrees_with_the_general_kernel() {
        // Odd sizes (a last row and column no window reads), ties, NaNs and infinities.
        let (h, w) = (7, 9);
        let x: Vec<f64> = (0..3 * h * w)
            .map(|i| match i % 17 {
                3 => f64::NAN,
                5 => f64::NEG_INFINITY,
                _ => ((i * 7) % 5) as f64,
            })
            .collect();
        let plan = PoolPlan {
            planes: 3,
            size: [1, h, w],
            spans: [vec![Span::UNIT], spans(3, 2, 2), spans(4, 2, 2)],
        };
        assert!(plan.is_2x2());
        let (fast, general) = (
            max_pool_2x2(&x, &plan),
            max_pool_in::<f64, false>(&x, &plan),
        );
        assert_eq!(fast.1, general.1);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&fast.0), bits(&general.0));
        // A stride-1 or padded plan is not the fast path's.
        let strided = PoolPlan {
            spans: [vec![Span::UNIT], spans(6, 2, 1), spans(4, 2, 2)],
            ..plan
        };
        assert!(!strided.is_2x2());
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
    fn kernels_with_and_without_the_depth_loop_agree() {
        // A plan with the unit depth window runs either way; a depth factor of 3 (a 3-D pool
        // of kernel depth 3, padding 1, over a depth-1 input, counting the padding) divides
        // on both paths.
        let plan = PoolPlan {
            planes: 2,
            size: [1, 5, 6],
            spans: [vec![Span::UNIT], spans(2, 3, 2), spans(3, 2, 2)],
        };
        assert!(!plan.deep());
        let div = [vec![3.0], vec![3.0, 3.0], vec![2.0, 2.0, 2.0]];
        let x: Vec<f64> = (0..60).map(|i| ((i * 37) % 23) as f64 - 11.0).collect();
        let g: Vec<f64> = (0..12).map(|i| (i as f64 * 0.7).cos()).collect();
        assert_eq!(
            max_pool_in::<f64, true>(&x, &plan),
            max_pool_in::<f64, false>(&x, &plan)
        );
        let avg = avg_pool_in::<f64, false>(&x, &plan, &div);
        assert_eq!(avg, avg_pool_in::<f64, true>(&x, &plan, &div));
        // The first window: rows 0..3, columns 0..2.
        let first: f64 = (0..3).flat_map(|i| [x[i * 6], x[i * 6 + 1]]).sum();
        assert_eq!(avg[0], first / 18.0);
        assert_eq!(
            avg_pool_backward_in::<f64, true>(&g, &plan, &div),
            avg_pool_backward_in::<f64, false>(&g, &plan, &div)
        );
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
