//! Reductions over all elements or given dimensions (sum, mean, max, min, argmax, argmin, prod,
//! var, std, logsumexp, norm) and softmax / log-softmax along a dimension.
//!
//! Dimension lists follow PyTorch: negative dimensions count from the back, an empty list means
//! every dimension, and `keepdim` keeps the reduced dimensions with size 1. Integer and bool
//! sums and products give i64; statistics of integer tensors (mean, var, std, norm,
//! logsumexp, softmax) compute in f32.

use crate::autograd::{Saved, grads, is_grad_enabled, record_op};
use crate::kernels::reduce::{Run, reduce, softmax as softmax_kernel, sum_leading_rows, sum_run};
use crate::tensor::{DType, Dim, Element, Float, Shape, Tensor, resolve_dim};
use crate::{with_dtype, with_float_dtype};

/// The reduced dimensions (sorted, unique; `[]` for a 0-d tensor) and the output shape.
fn reduce_plan(op: &str, x: &Tensor, dims: &[isize], keepdim: bool) -> (Vec<usize>, Shape) {
    let rank = x.rank();
    let mut red: Vec<usize> = if dims.is_empty() {
        (0..rank).collect()
    } else {
        dims.iter()
            .map(|&d| {
                resolve_dim(d, rank).unwrap_or_else(|_| {
                    panic!(
                        "{op}: dimension {d} out of range for a tensor of shape {} (expected {} to {})",
                        x.shape(),
                        -(rank.max(1) as isize),
                        rank.max(1) as isize - 1
                    )
                })
            })
            .collect()
    };
    red.sort_unstable();
    if let Some(w) = red.windows(2).find(|w| w[0] == w[1]) {
        panic!(
            "{op}: dimension {} appears more than once in {dims:?} (shape {})",
            w[0],
            x.shape()
        );
    }
    if rank == 0 {
        return (Vec::new(), Shape::scalar());
    }
    let shape: Vec<usize> = (0..rank)
        .filter_map(|d| {
            if red.contains(&d) {
                keepdim.then_some(1)
            } else {
                Some(x.dims()[d])
            }
        })
        .collect();
    (red, Shape::from(shape))
}

/// The number of elements each output of a reduction over `red` folds.
fn region_len(x: &Tensor, red: &[usize]) -> usize {
    red.iter().map(|&d| x.dims()[d]).product()
}

/// How a reduction's gradient is laid back over its input: results reshaped with the reduced
/// dimensions kept (size 1), so they broadcast against the input.
struct Unreduce {
    /// The reduced dimensions, resolved (empty for a 0-d input).
    dims: Vec<isize>,
    /// The output's shape with keepdim.
    kept: Shape,
}

impl Unreduce {
    fn new(op: &str, x: &Tensor, dims: &[isize]) -> Unreduce {
        let (red, kept) = reduce_plan(op, x, dims, true);
        Unreduce {
            dims: red.iter().map(|&d| d as isize).collect(),
            kept,
        }
    }

    /// A result of the reduction (with or without keepdim) with the reduced dimensions kept.
    fn keep(&self, t: &Tensor) -> Tensor {
        t.reshape_to(self.kept.clone())
    }
}

/// 1.0 where `mask` is true, 0.0 elsewhere, in `like`'s dtype.
fn indicator(mask: &Tensor, like: &Tensor) -> Tensor {
    mask.to_dtype(like.dtype())
}

/// The gradient of a max or min (`y`, kept dims) over `u`: `g` split evenly among the elements
/// equal to the extreme (PyTorch's convention for `max()`, `amax` and `amin`); where the extreme
/// is NaN, among the NaNs.
fn even_split_backward(g: &Tensor, x: &Tensor, y: &Tensor, u: &Unreduce) -> Tensor {
    let hit = x.eq(y) | (x.isnan() & y.isnan());
    let hit = indicator(&hit, g);
    let count = hit.sum_dims(&u.dims, true);
    g / count * hit
}

/// The gradient of a product over `u` (`g` and `y` with kept dims): `g` times the product of
/// the other elements of the slice. Without zeros that is y / x; with zeros it is rebuilt from
/// the product of the non-zeros, as a polynomial in the zeros, so that the second derivative
/// is right too (PyTorch's `prod_backward` uses exclusive cumulative products for that).
fn prod_backward(g: &Tensor, x: &Tensor, y: &Tensor, u: &Unreduce) -> Tensor {
    let zero = x.eq_scalar(0.0);
    if zero.sum().item::<i64>() == 0 {
        let y = if is_grad_enabled() {
            x.prod_dims(&u.dims, true)
        } else {
            y.clone()
        };
        return g * (y / x);
    }
    let dims = u.dims.as_slice();
    let (one, nil) = (x.scalar_operand(1.0), x.scalar_operand(0.0));
    let count = indicator(&zero, x).sum_dims(dims, true);
    let nonzero = Tensor::where_(&zero, &one, x);
    // The product of the non-zeros, and the product and sum of the zeros (0 in value, but
    // their derivatives are what the second order needs).
    let p = nonzero.prod_dims(dims, true);
    let zeros_prod = Tensor::where_(&zero, x, &one).prod_dims(dims, true);
    let zeros_sum = Tensor::where_(&zero, x, &nil).sum_dims(dims, true);
    // At a zero, the others are the non-zeros and the other zeros: none (a factor 1), one
    // (the sum of the zeros minus this one), or more (0 to second order).
    let other_zeros = Tensor::where_(
        &count.eq_scalar(1.0),
        &one,
        &Tensor::where_(&count.eq_scalar(2.0), &(zeros_sum - x), &nil),
    );
    let others = Tensor::where_(&zero, &(&p * other_zeros), &(&p / &nonzero * zeros_prod));
    g * others
}

/// The gradient of a variance over `u` with divisor `div` (`g` with kept dims):
/// 2(x − mean)/div · g.
fn var_backward(g: &Tensor, x: &Tensor, u: &Unreduce, div: f64) -> Tensor {
    g * (x - x.mean_dims(&u.dims, true)) * (2.0 / div)
}

/// The gradient of the p-norm `n` (kept dims) over `u` (`g` with kept dims), as PyTorch's
/// `norm_backward`.
fn norm_backward(g: &Tensor, x: &Tensor, n: &Tensor, p: f64, u: &Unreduce) -> Tensor {
    let (one, nil) = (x.scalar_operand(1.0), x.scalar_operand(0.0));
    if p == 0.0 {
        return x.zeros_like();
    }
    if p == 1.0 {
        return g * x.sign();
    }
    if p.is_infinite() {
        let hit = indicator(&x.abs().eq(n), g);
        let count = hit.sum_dims(&u.dims, true);
        return g / count * hit * x.sign();
    }
    // Safe divisors: the branch a `where` does not take must stay finite, or 0·∞ would reach
    // a second derivative.
    let zero_norm = n.eq_scalar(0.0);
    let n_safe = Tensor::where_(&zero_norm, &one, n);
    if p == 2.0 {
        return x * Tensor::where_(&zero_norm, &nil, &(g / n_safe));
    }
    let a = x.abs();
    if p < 1.0 {
        // |x|^(p−1) is infinite at 0: those elements get 0, as in PyTorch.
        let at_zero = x.eq_scalar(0.0);
        let a_safe = Tensor::where_(&at_zero, &one, &a);
        let scaled = x.sign() * Tensor::where_(&at_zero, &nil, &a_safe.powf(p - 1.0));
        return scaled * g * n.powf(1.0 - p);
    }
    let scaled = x.sign() * a.powf(p - 1.0);
    scaled * Tensor::where_(&zero_norm, &nil, &(g / n_safe.powf(p - 1.0)))
}

fn to_usize(dims: &[isize]) -> Vec<usize> {
    dims.iter().map(|&d| d as usize).collect()
}

/// `x` as a float tensor for statistics (integers and bools compute in f32).
fn as_float(x: &Tensor) -> Tensor {
    if x.dtype().is_float() {
        x.clone()
    } else {
        x.to_dtype(DType::F32)
    }
}

#[inline(always)]
fn is_nan<T: Element>(v: T) -> bool {
    v.partial_cmp(&v).is_none()
}

/// Folds a run into the best (value, index) so far: `better(v, best)` decides a replacement;
/// a NaN beats everything and the first NaN stays.
#[inline(always)]
fn fold_best<T: Element>(
    acc: &mut Option<(T, usize)>,
    run: &Run<'_, T>,
    better: impl Fn(T, T) -> bool,
) {
    for i in 0..run.len {
        let v = run.get(i);
        match acc {
            None => *acc = Some((v, run.position + i)),
            Some((b, idx)) => {
                if !is_nan(*b) && (is_nan(v) || better(v, *b)) {
                    *b = v;
                    *idx = run.position + i;
                }
            }
        }
    }
}

/// Running (count, mean, M2) merged run by run (Chan et al.), each run in two passes.
#[inline]
fn fold_moments<T: Float>(acc: &mut (f64, f64, f64), run: &Run<'_, T>) {
    if run.len == 0 {
        return;
    }
    let nb = run.len as f64;
    let mb = sum_run(run) / nb;
    let m2b: f64 = (0..run.len)
        .map(|i| {
            let d = run.get(i).to_f64() - mb;
            d * d
        })
        .sum();
    let (na, ma, m2a) = *acc;
    let n = na + nb;
    let delta = mb - ma;
    *acc = (
        n,
        ma + delta * nb / n,
        m2a + m2b + delta * delta * na * nb / n,
    );
}

/// Which extreme a max/min-style reduction looks for.
#[derive(Clone, Copy)]
enum Extreme {
    Max,
    Min,
}

impl Extreme {
    fn name(self) -> &'static str {
        match self {
            Extreme::Max => "max",
            Extreme::Min => "min",
        }
    }
}

impl Tensor {
    // ----- sum, mean, prod -----

    /// The sum of all elements as a 0-d tensor (i64 for integer and bool tensors).
    pub fn sum(&self) -> Tensor {
        self.sum_dims(&[], false)
    }

    /// The sum over one dimension.
    pub fn sum_dim(&self, dim: impl Dim, keepdim: bool) -> Tensor {
        self.sum_dims(&[dim.to_isize()], keepdim)
    }

    /// The sum over several dimensions (all of them for `&[]`). Floats accumulate in f64;
    /// integers and bools give i64. An empty sum is 0.
    pub fn sum_dims(&self, dims: &[isize], keepdim: bool) -> Tensor {
        record_op(
            "sum_dims",
            &[self],
            || self.sum_dims_forward(dims, keepdim),
            |_, _| {
                // The gradient of a sum is the upstream gradient repeated over the summed dims.
                let (red, _) = reduce_plan("sum", self, dims, keepdim);
                let from = self.shape().clone();
                let mut kept: Vec<usize> = from.to_vec();
                for &d in &red {
                    kept[d] = 1;
                }
                move |g: &Tensor| {
                    grads([Some(g.reshape_to(kept.clone()).broadcast_to(from.clone()))])
                }
            },
        )
    }

    /// Sums this tensor down to `shape`, which must broadcast to this tensor's shape (PyTorch's
    /// `sum_to_size`): the reverse of broadcasting, as backward rules need it.
    pub fn sum_to_size(&self, shape: impl Into<Shape>) -> Tensor {
        let shape = shape.into();
        if self.shape() == &shape {
            return self.clone();
        }
        let lead = self.rank().checked_sub(shape.len());
        let ok = lead.is_some_and(|lead| {
            shape
                .iter()
                .zip(&self.dims()[lead..])
                .all(|(&s, &d)| s == d || s == 1)
        });
        assert!(
            ok,
            "sum_to_size: shape {} cannot be summed to {shape}",
            self.shape()
        );
        let lead = lead.unwrap_or(0);
        let mut dims: Vec<isize> = (0..lead as isize).collect();
        for (i, &s) in shape.iter().enumerate() {
            if s == 1 && self.dims()[lead + i] != 1 {
                dims.push((lead + i) as isize);
            }
        }
        if dims.is_empty() {
            return self.reshape_to(shape);
        }
        self.sum_dims(&dims, true).reshape_to(shape)
    }

    fn sum_dims_forward(&self, dims: &[isize], keepdim: bool) -> Tensor {
        let (red, shape) = reduce_plan("sum", self, dims, keepdim);
        with_float_dtype!(self.dtype(), T => {
            // A contiguous tensor summed over leading dims: accumulate rows in memory order.
            let lead = red.iter().enumerate().all(|(i, &d)| i == d);
            if self.is_contiguous() && lead && !red.is_empty() && red.len() < self.rank() {
                let rows = region_len(self, &red);
                let cols = shape.numel();
                let out = self.with_slice::<T, _>(|d, l| {
                    sum_leading_rows(&d[l.offset..l.offset + self.numel()], rows, cols)
                });
                return Tensor::from_vec(out, shape);
            }
            let out = reduce::<T, f64, T>(self, &red, || 0.0, |a, r| *a += sum_run(&r), T::from_f64);
            Tensor::from_vec(out, shape)
        }, with_dtype!(self.dtype(), T => {
            let out = reduce::<T, i64, i64>(self, &red, || 0, |a, r| {
                for i in 0..r.len {
                    *a = a.wrapping_add(r.get(i).to_i64());
                }
            }, |a| a);
            Tensor::from_vec(out, shape)
        }))
    }

    /// The mean of all elements (integer tensors compute in f32; an empty mean is NaN).
    pub fn mean(&self) -> Tensor {
        self.mean_dims(&[], false)
    }

    pub fn mean_dim(&self, dim: impl Dim, keepdim: bool) -> Tensor {
        self.mean_dims(&[dim.to_isize()], keepdim)
    }

    /// The mean over several dimensions (all of them for `&[]`). Differentiated through the
    /// sum and the division.
    pub fn mean_dims(&self, dims: &[isize], keepdim: bool) -> Tensor {
        // The sum's kernel (with its fast path for leading dims), divided by the count.
        let x = as_float(self);
        let (red, _) = reduce_plan("mean", &x, dims, keepdim);
        let n = region_len(&x, &red) as f64;
        x.sum_dims(dims, keepdim).div_scalar(n)
    }

    /// The product of all elements (i64 for integer and bool tensors; an empty product is 1).
    pub fn prod(&self) -> Tensor {
        self.prod_dims(&[], false)
    }

    pub fn prod_dim(&self, dim: impl Dim, keepdim: bool) -> Tensor {
        self.prod_dims(&[dim.to_isize()], keepdim)
    }

    /// The product over several dimensions (all of them for `&[]`). The gradient of each
    /// element is the product of the others in its slice, zeros included.
    pub fn prod_dims(&self, dims: &[isize], keepdim: bool) -> Tensor {
        record_op(
            "prod_dims",
            &[self],
            || self.prod_dims_forward(dims, keepdim),
            |out, _| {
                let u = Unreduce::new("prod", self, dims);
                let (sx, so) = (
                    Saved::new("prod_dims", self),
                    Saved::output("prod_dims", out),
                );
                move |g: &Tensor| {
                    let y = u.keep(so.get());
                    grads([Some(prod_backward(&u.keep(g), sx.get(), &y, &u))])
                }
            },
        )
    }

    fn prod_dims_forward(&self, dims: &[isize], keepdim: bool) -> Tensor {
        let (red, shape) = reduce_plan("prod", self, dims, keepdim);
        with_float_dtype!(self.dtype(), T => {
            let out = reduce::<T, f64, T>(self, &red, || 1.0, |a, r| {
                for i in 0..r.len {
                    *a *= r.get(i).to_f64();
                }
            }, T::from_f64);
            Tensor::from_vec(out, shape)
        }, with_dtype!(self.dtype(), T => {
            let out = reduce::<T, i64, i64>(self, &red, || 1, |a, r| {
                for i in 0..r.len {
                    *a = a.wrapping_mul(r.get(i).to_i64());
                }
            }, |a| a);
            Tensor::from_vec(out, shape)
        }))
    }

    // ----- max, min, argmax, argmin -----

    /// Values and i64 indices of the extreme over `red` (a single dim, or all dims for a flat
    /// index). Panics naming `op` when a non-empty output would reduce an empty region.
    // `v > b` on bools is exactly what max wants (with_dtype! instantiates it for bool).
    #[allow(clippy::bool_comparison)]
    fn extreme(&self, op: &str, red: &[usize], shape: Shape, which: Extreme) -> (Tensor, Tensor) {
        if region_len(self, red) == 0 && shape.numel() > 0 {
            panic!(
                "{op}: cannot reduce over an empty dimension (shape {}); it has no identity",
                self.shape()
            );
        }
        with_dtype!(self.dtype(), T => {
            let best = reduce::<T, Option<(T, usize)>, (T, i64)>(
                self,
                red,
                || None,
                |a, r| match which {
                    Extreme::Max => fold_best(a, &r, |v, b| v > b),
                    Extreme::Min => fold_best(a, &r, |v, b| v < b),
                },
                |a| {
                    let (v, i) = a.expect("non-empty region");
                    (v, i as i64)
                },
            );
            let (vals, idx): (Vec<T>, Vec<i64>) = best.into_iter().unzip();
            (Tensor::from_vec(vals, shape.clone()), Tensor::from_vec(idx, shape))
        })
    }

    fn extreme_all(&self, which: Extreme, op: &str) -> (Tensor, Tensor) {
        assert!(
            self.numel() > 0,
            "{op}: cannot take the {} of an empty tensor (shape {})",
            which.name(),
            self.shape()
        );
        let red: Vec<usize> = (0..self.rank()).collect();
        self.extreme(op, &red, Shape::scalar(), which)
    }

    fn extreme_dim(&self, op: &str, dim: isize, keepdim: bool, which: Extreme) -> (Tensor, Tensor) {
        let (red, shape) = reduce_plan(op, self, &[dim], keepdim);
        self.extreme(op, &red, shape, which)
    }

    /// Records a max/min-style reduction over `dims` whose gradient is split evenly among the
    /// elements equal to the extreme.
    fn record_even_split(
        &self,
        op: &'static str,
        dims: &[isize],
        forward: impl FnOnce() -> Tensor,
    ) -> Tensor {
        record_op(op, &[self], forward, |out, _| {
            let u = Unreduce::new(op, self, dims);
            let (sx, so) = (Saved::new(op, self), Saved::output(op, out));
            move |g: &Tensor| {
                let y = u.keep(so.get());
                grads([Some(even_split_backward(&u.keep(g), sx.get(), &y, &u))])
            }
        })
    }

    /// Records the values of `max_dim`/`min_dim`: the gradient goes to the element whose index
    /// was returned (the first on ties, as PyTorch), the indices carry none.
    fn extreme_dim_recorded(
        &self,
        op: &'static str,
        dim: isize,
        keepdim: bool,
        which: Extreme,
    ) -> (Tensor, Tensor) {
        let (values, indices) = self.extreme_dim(op, dim, keepdim, which);
        let values = record_op(
            op,
            &[self],
            || values,
            |_, _| {
                let u = Unreduce::new(op, self, &[dim]);
                let shape = self.shape().clone();
                let at = u.keep(&indices);
                move |g: &Tensor| {
                    if shape.is_empty() {
                        return grads([Some(g.reshape_to(shape.clone()))]);
                    }
                    let hit = Tensor::zeros_dtype(shape.clone(), g.dtype())
                        .scatter_value(u.dims[0], &at, 1.0);
                    grads([Some(u.keep(g) * hit)])
                }
            },
        );
        (values, indices)
    }

    /// The largest element as a 0-d tensor; NaN if there is one. Panics on an empty tensor.
    /// The gradient is split evenly among the elements equal to the maximum.
    pub fn max(&self) -> Tensor {
        self.record_even_split("max", &[], || self.extreme_all(Extreme::Max, "max").0)
    }

    /// The smallest element as a 0-d tensor; NaN if there is one. Panics on an empty tensor.
    /// The gradient is split evenly among the elements equal to the minimum.
    pub fn min(&self) -> Tensor {
        self.record_even_split("min", &[], || self.extreme_all(Extreme::Min, "min").0)
    }

    /// The maxima along `dim` and their i64 indices (the first one on ties; a NaN wins).
    /// The gradient of the values goes to the returned index only.
    pub fn max_dim(&self, dim: impl Dim, keepdim: bool) -> (Tensor, Tensor) {
        self.extreme_dim_recorded("max_dim", dim.to_isize(), keepdim, Extreme::Max)
    }

    /// The minima along `dim` and their i64 indices (the first one on ties; a NaN wins).
    /// The gradient of the values goes to the returned index only.
    pub fn min_dim(&self, dim: impl Dim, keepdim: bool) -> (Tensor, Tensor) {
        self.extreme_dim_recorded("min_dim", dim.to_isize(), keepdim, Extreme::Min)
    }

    /// The maximum over several dimensions (all of them for `&[]`), values only. The gradient
    /// is split evenly among the elements equal to the maximum.
    pub fn amax(&self, dims: &[isize], keepdim: bool) -> Tensor {
        self.record_even_split("amax", dims, || {
            let (red, shape) = reduce_plan("amax", self, dims, keepdim);
            self.extreme("amax", &red, shape, Extreme::Max).0
        })
    }

    /// The minimum over several dimensions (all of them for `&[]`), values only. The gradient
    /// is split evenly among the elements equal to the minimum.
    pub fn amin(&self, dims: &[isize], keepdim: bool) -> Tensor {
        self.record_even_split("amin", dims, || {
            let (red, shape) = reduce_plan("amin", self, dims, keepdim);
            self.extreme("amin", &red, shape, Extreme::Min).0
        })
    }

    /// The index of the largest element of the flattened tensor, as a 0-d i64 tensor.
    pub fn argmax(&self) -> Tensor {
        self.extreme_all(Extreme::Max, "argmax").1
    }

    /// The index of the smallest element of the flattened tensor, as a 0-d i64 tensor.
    pub fn argmin(&self) -> Tensor {
        self.extreme_all(Extreme::Min, "argmin").1
    }

    /// The i64 indices of the maxima along `dim`.
    pub fn argmax_dim(&self, dim: impl Dim, keepdim: bool) -> Tensor {
        self.extreme_dim("argmax_dim", dim.to_isize(), keepdim, Extreme::Max)
            .1
    }

    /// The i64 indices of the minima along `dim`.
    pub fn argmin_dim(&self, dim: impl Dim, keepdim: bool) -> Tensor {
        self.extreme_dim("argmin_dim", dim.to_isize(), keepdim, Extreme::Min)
            .1
    }

    // ----- var, std -----

    /// The variance of all elements: divided by n − 1 when `unbiased` (PyTorch's default),
    /// by n otherwise. NaN when the divisor is not positive.
    pub fn var(&self, unbiased: bool) -> Tensor {
        self.var_dims(&[], unbiased, false)
    }

    /// The variance over several dimensions (all of them for `&[]`), computed with per-run
    /// two-pass moments merged exactly, so large offsets do not cancel.
    pub fn var_dims(&self, dims: &[isize], unbiased: bool, keepdim: bool) -> Tensor {
        record_op(
            "var_dims",
            &[self],
            || self.var_dims_forward(dims, unbiased, keepdim),
            |_, _| {
                let u = Unreduce::new("var", self, dims);
                let div = region_len(self, &to_usize(&u.dims)) as f64 - f64::from(unbiased);
                let sx = Saved::new("var_dims", self);
                move |g: &Tensor| grads([Some(var_backward(&u.keep(g), sx.get(), &u, div))])
            },
        )
    }

    fn var_dims_forward(&self, dims: &[isize], unbiased: bool, keepdim: bool) -> Tensor {
        let x = as_float(self);
        let (red, shape) = reduce_plan("var", &x, dims, keepdim);
        let ddof = if unbiased { 1.0 } else { 0.0 };
        with_float_dtype!(x.dtype(), T => {
            let out = reduce::<T, (f64, f64, f64), T>(
                &x,
                &red,
                || (0.0, 0.0, 0.0),
                |a, r| fold_moments(a, &r),
                |(n, _, m2)| {
                    let div = n - ddof;
                    T::from_f64(if div > 0.0 { m2 / div } else { f64::NAN })
                },
            );
            Tensor::from_vec(out, shape)
        }, unreachable!())
    }

    /// The standard deviation of all elements (see [`Tensor::var`]).
    pub fn std(&self, unbiased: bool) -> Tensor {
        self.std_dims(&[], unbiased, false)
    }

    /// The standard deviation over several dimensions (see [`Tensor::var_dims`]). Where it is
    /// 0 the gradient is 0 (PyTorch's convention), not the NaN of √ at 0.
    pub fn std_dims(&self, dims: &[isize], unbiased: bool, keepdim: bool) -> Tensor {
        record_op(
            "std_dims",
            &[self],
            || self.var_dims_forward(dims, unbiased, keepdim).sqrt(),
            |out, _| {
                let u = Unreduce::new("std", self, dims);
                let div = region_len(self, &to_usize(&u.dims)) as f64 - f64::from(unbiased);
                let (sx, so) = (Saved::new("std_dims", self), Saved::output("std_dims", out));
                move |g: &Tensor| {
                    let x = sx.get();
                    let s = if is_grad_enabled() {
                        x.std_dims(&u.dims, unbiased, true)
                    } else {
                        u.keep(so.get())
                    };
                    // ∂std = ∂var / (2·std), masked where std = 0 (with a safe divisor, so the
                    // branch not taken has no infinity for a second derivative to meet).
                    let flat = s.eq_scalar(0.0);
                    let safe = Tensor::where_(&flat, &s.scalar_operand(1.0), &s);
                    let gv =
                        Tensor::where_(&flat, &s.scalar_operand(0.0), &(u.keep(g) / (safe * 2.0)));
                    grads([Some(var_backward(&gv, x, &u, div))])
                }
            },
        )
    }

    // ----- logsumexp, norm -----

    /// log Σ exp(x) over one dimension.
    pub fn logsumexp(&self, dim: impl Dim, keepdim: bool) -> Tensor {
        self.logsumexp_dims(&[dim.to_isize()], keepdim)
    }

    /// log Σ exp(x) over several dimensions (all of them for `&[]`), stable: the maximum is
    /// subtracted first. Regions of only −∞ (or empty ones) give −∞, a +∞ gives +∞, a NaN NaN.
    /// The gradient is g · exp(x − logsumexp(x)).
    pub fn logsumexp_dims(&self, dims: &[isize], keepdim: bool) -> Tensor {
        record_op(
            "logsumexp",
            &[self],
            || self.logsumexp_forward(dims, keepdim),
            |out, _| {
                let u = Unreduce::new("logsumexp", self, dims);
                let (sx, so) = (
                    Saved::new("logsumexp", self),
                    Saved::output("logsumexp", out),
                );
                move |g: &Tensor| {
                    let x = sx.get();
                    let y = if is_grad_enabled() {
                        x.logsumexp_dims(&u.dims, true)
                    } else {
                        u.keep(so.get())
                    };
                    grads([Some(u.keep(g) * (x - y).exp())])
                }
            },
        )
    }

    fn logsumexp_forward(&self, dims: &[isize], keepdim: bool) -> Tensor {
        let x = as_float(self);
        let (red, shape) = reduce_plan("logsumexp", &x, dims, keepdim);
        with_float_dtype!(x.dtype(), T => {
            // (running max, Σ exp(x − max), saw NaN)
            let out = reduce::<T, (f64, f64, bool), T>(
                &x,
                &red,
                || (f64::NEG_INFINITY, 0.0, false),
                |a, r| {
                    let mut rm = f64::NEG_INFINITY;
                    for i in 0..r.len {
                        let v = r.get(i).to_f64();
                        if v.is_nan() {
                            a.2 = true;
                        } else if v > rm {
                            rm = v;
                        }
                    }
                    if rm == f64::NEG_INFINITY || a.2 {
                        return;
                    }
                    if rm == f64::INFINITY || a.0 == f64::INFINITY {
                        a.0 = f64::INFINITY;
                        return;
                    }
                    let rs: f64 = (0..r.len).map(|i| (r.get(i).to_f64() - rm).exp()).sum();
                    if rm > a.0 {
                        a.1 = a.1 * (a.0 - rm).exp() + rs;
                        a.0 = rm;
                    } else {
                        a.1 += rs * (rm - a.0).exp();
                    }
                },
                |(m, s, nan)| {
                    T::from_f64(if nan {
                        f64::NAN
                    } else if m.is_infinite() {
                        m
                    } else {
                        m + s.ln()
                    })
                },
            );
            Tensor::from_vec(out, shape)
        }, unreachable!())
    }

    /// The p-norm of all elements as a 0-d float tensor: (Σ |x|^p)^(1/p); `p = ∞` is max |x|,
    /// `p = −∞` min |x|, `p = 0` the number of non-zeros. PyTorch's default is `p = 2`.
    pub fn norm(&self, p: f64) -> Tensor {
        self.norm_dims(p, &[], false)
    }

    /// The p-norm over several dimensions (all of them for `&[]`).
    ///
    /// Gradients as PyTorch's: sign(x)·|x|^(p−1) / ‖x‖^(p−1), 0 for a zero norm (the
    /// subgradient, so a zero vector gets 0 for p = 2); sign(x) for p = 1; for p = ±∞ split
    /// evenly among the elements of extreme |x|, with their sign; 0 for p = 0.
    pub fn norm_dims(&self, p: f64, dims: &[isize], keepdim: bool) -> Tensor {
        record_op(
            "norm",
            &[self],
            || self.norm_forward(p, dims, keepdim),
            |out, _| {
                let u = Unreduce::new("norm", self, dims);
                let (sx, so) = (Saved::new("norm", self), Saved::output("norm", out));
                move |g: &Tensor| {
                    let x = sx.get();
                    let n = if is_grad_enabled() {
                        x.norm_dims(p, &u.dims, true)
                    } else {
                        u.keep(so.get())
                    };
                    grads([Some(norm_backward(&u.keep(g), x, &n, p, &u))])
                }
            },
        )
    }

    fn norm_forward(&self, p: f64, dims: &[isize], keepdim: bool) -> Tensor {
        assert!(!p.is_nan(), "norm: p must be a number, got NaN");
        let x = as_float(self);
        let (red, shape) = reduce_plan("norm", &x, dims, keepdim);
        with_float_dtype!(x.dtype(), T => {
            let out = if p.is_infinite() {
                let max = p > 0.0;
                reduce::<T, f64, T>(&x, &red, || if max { 0.0 } else { f64::INFINITY }, |a, r| {
                    for i in 0..r.len {
                        let v = r.get(i).to_f64().abs();
                        if v.is_nan() || a.is_nan() {
                            *a = f64::NAN;
                        } else if (max && v > *a) || (!max && v < *a) {
                            *a = v;
                        }
                    }
                }, T::from_f64)
            } else {
                let elem = move |v: f64| -> f64 {
                    let v = v.abs();
                    if p == 0.0 {
                        if v != 0.0 { 1.0 } else { 0.0 }
                    } else if p == 1.0 {
                        v
                    } else if p == 2.0 {
                        v * v
                    } else {
                        v.powf(p)
                    }
                };
                reduce::<T, f64, T>(&x, &red, || 0.0, |a, r| {
                    for i in 0..r.len {
                        *a += elem(r.get(i).to_f64());
                    }
                }, |a| T::from_f64(if p == 0.0 || p == 1.0 {
                    a
                } else if p == 2.0 {
                    a.sqrt()
                } else {
                    a.powf(1.0 / p)
                }))
            };
            Tensor::from_vec(out, shape)
        }, unreachable!())
    }

    // ----- softmax -----

    /// exp(x) / Σ exp(x) along `dim`, stable (the maximum is subtracted first); integer
    /// tensors compute in f32. The gradient is y·(g − Σ g·y), y the softmax.
    pub fn softmax(&self, dim: impl Dim) -> Tensor {
        let d = dim.resolve(self.rank(), "softmax");
        record_op(
            "softmax",
            &[self],
            || self.softmax_impl(d, false),
            |out, _| {
                let (sx, so) = (Saved::new("softmax", self), Saved::output("softmax", out));
                move |g: &Tensor| {
                    let y = if is_grad_enabled() {
                        sx.get().softmax(d)
                    } else {
                        so.get().clone()
                    };
                    let s = (g * &y).sum_dims(&[d as isize], true);
                    grads([Some(&y * (g - s))])
                }
            },
        )
    }

    /// log(softmax(x)) along `dim`, computed as x − max − log Σ exp(x − max). The gradient is
    /// g − softmax(x)·Σ g.
    pub fn log_softmax(&self, dim: impl Dim) -> Tensor {
        let d = dim.resolve(self.rank(), "log_softmax");
        record_op(
            "log_softmax",
            &[self],
            || self.softmax_impl(d, true),
            |out, _| {
                let (sx, so) = (
                    Saved::new("log_softmax", self),
                    Saved::output("log_softmax", out),
                );
                move |g: &Tensor| {
                    let y = if is_grad_enabled() {
                        sx.get().softmax(d)
                    } else {
                        so.get().exp()
                    };
                    grads([Some(g - y * g.sum_dims(&[d as isize], true))])
                }
            },
        )
    }

    fn softmax_impl(&self, dim: usize, log: bool) -> Tensor {
        let x = as_float(self).contiguous();
        let dims = x.dims();
        let (outer, n, inner) = if x.rank() == 0 {
            (1, 1, 1)
        } else {
            (
                dims[..dim].iter().product(),
                dims[dim],
                dims[dim + 1..].iter().product(),
            )
        };
        with_float_dtype!(x.dtype(), T => {
            let out = x.with_slice::<T, _>(|d, l| {
                softmax_kernel(&d[l.offset..l.offset + x.numel()], outer, n, inner, log)
            });
            Tensor::from_vec(out, x.shape().clone())
        }, unreachable!())
    }
}

#[cfg(test)]
mod tests {
    use crate::tensor;
    use crate::tensor::random::Generator;
    use crate::{DType, Tensor};

    /// The values under each output position of a reduction over `red`, each group in
    /// row-major order of the reduced dims: the naive reference every test compares against.
    fn groups(x: &Tensor, red: &[usize]) -> Vec<Vec<f64>> {
        let v = x.to_vec::<f64>();
        let shape = x.dims().to_vec();
        let rank = shape.len();
        let kept: Vec<usize> = (0..rank).filter(|d| !red.contains(d)).collect();
        let nout: usize = kept.iter().map(|&d| shape[d]).product();
        let mut g = vec![Vec::new(); nout];
        for (flat, &val) in v.iter().enumerate() {
            let mut rem = flat;
            let mut idx = vec![0; rank];
            for d in (0..rank).rev() {
                idx[d] = rem % shape[d];
                rem /= shape[d];
            }
            let o = kept.iter().fold(0, |o, &d| o * shape[d] + idx[d]);
            g[o].push(val);
        }
        g
    }

    fn out_shape(x: &Tensor, red: &[usize], keepdim: bool) -> Vec<usize> {
        (0..x.rank())
            .filter_map(|d| {
                if red.contains(&d) {
                    keepdim.then_some(1)
                } else {
                    Some(x.dims()[d])
                }
            })
            .collect()
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol * (1.0 + b.abs())
    }

    fn assert_close(got: &Tensor, want_shape: &[usize], want: &[f64], tol: f64, what: &str) {
        assert_eq!(got.dims(), want_shape, "{what}: shape");
        let g = got.to_vec::<f64>();
        assert_eq!(g.len(), want.len(), "{what}: length");
        for (i, (a, b)) in g.iter().zip(want).enumerate() {
            assert!(close(*a, *b, tol), "{what}: element {i}: got {a}, want {b}");
        }
    }

    /// A random tensor of rank 0..=4 (sometimes with a zero-size dim), as a plain tensor, a
    /// permuted view, a strided slice or an expanded (broadcast) view.
    fn random_input(g: &mut Generator, dtype: DType) -> Tensor {
        let rank = g.below(5) as usize;
        let shape: Vec<usize> = (0..rank)
            .map(|_| {
                if g.below(12) == 0 {
                    0
                } else {
                    1 + g.below(4) as usize
                }
            })
            .collect();
        let make = |g: &mut Generator, s: &[usize]| -> Tensor {
            if dtype == DType::I64 {
                Tensor::randint_with(-5, 6, s, g)
            } else {
                Tensor::normal_with(s, 0.5, 2.0, dtype, g)
            }
        };
        match g.below(4) {
            1 if rank >= 2 => {
                let rev: Vec<usize> = shape.iter().rev().copied().collect();
                let p: Vec<isize> = (0..rank as isize).rev().collect();
                make(g, &rev).permute(&p)
            }
            2 if rank >= 1 => {
                let d = g.below(rank as u64) as usize;
                let mut s = shape.clone();
                s[d] = 2 * s[d] + 1;
                make(g, &s).slice(d as isize, 1, s[d] as isize, 2)
            }
            3 if rank >= 1 => {
                let s: Vec<usize> = shape
                    .iter()
                    .map(|&n| if g.below(2) == 0 { 1 } else { n })
                    .collect();
                let target: Vec<isize> = shape.iter().map(|&n| n as isize).collect();
                make(g, &s).expand(&target)
            }
            _ => make(g, &shape),
        }
    }

    /// A random dim list for `x` (possibly empty = all), with some dims negative; and the
    /// resolved, sorted dims it means.
    fn random_dims(g: &mut Generator, x: &Tensor) -> (Vec<isize>, Vec<usize>) {
        let r = x.rank();
        if r == 0 {
            return match g.below(3) {
                0 => (vec![], vec![]),
                1 => (vec![0], vec![]),
                _ => (vec![-1], vec![]),
            };
        }
        let mut dims = Vec::new();
        let mut red = Vec::new();
        for d in 0..r {
            if g.below(2) == 0 {
                red.push(d);
                dims.push(if g.below(2) == 0 {
                    d as isize
                } else {
                    d as isize - r as isize
                });
            }
        }
        if dims.is_empty() {
            red = (0..r).collect();
        }
        g.shuffle(&mut dims);
        (dims, red)
    }

    fn ref_sum(v: &[f64]) -> f64 {
        v.iter().sum()
    }
    fn ref_var(v: &[f64], ddof: f64) -> f64 {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        let div = n - ddof;
        if div > 0.0 {
            v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / div
        } else {
            f64::NAN
        }
    }
    fn ref_lse(v: &[f64]) -> f64 {
        let m = v.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        if m.is_infinite() {
            return m;
        }
        m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
    }
    fn ref_norm(v: &[f64], p: f64) -> f64 {
        if p == f64::INFINITY {
            v.iter().fold(0.0, |a: f64, b| a.max(b.abs()))
        } else if p == 0.0 {
            v.iter().filter(|x| **x != 0.0).count() as f64
        } else {
            v.iter().map(|x| x.abs().powf(p)).sum::<f64>().powf(1.0 / p)
        }
    }
    /// (value, index) of the first maximum (or minimum) of a group.
    fn ref_best(v: &[f64], max: bool) -> (f64, f64) {
        let mut best = (v[0], 0);
        for (i, &x) in v.iter().enumerate() {
            if (max && x > best.0) || (!max && x < best.0) {
                best = (x, i);
            }
        }
        (best.0, best.1 as f64)
    }

    #[test]
    fn reductions_match_a_naive_reference_on_random_views() {
        let mut g = Generator::new(7);
        for case in 0..300 {
            let dtype = [DType::F64, DType::F32, DType::I64][case % 3];
            let tol = if dtype == DType::F32 { 1e-5 } else { 1e-10 };
            let x = random_input(&mut g, dtype);
            let (dims, red) = random_dims(&mut g, &x);
            let keepdim = g.below(2) == 0;
            let shape = out_shape(&x, &red, keepdim);
            let grp = groups(&x, &red);
            let what = |op: &str| {
                format!(
                    "{op} of {:?} over {dims:?} keepdim={keepdim} ({dtype})",
                    x.dims()
                )
            };
            let col = |f: &dyn Fn(&[f64]) -> f64| grp.iter().map(|v| f(v)).collect::<Vec<f64>>();

            let s = x.sum_dims(&dims, keepdim);
            assert_eq!(
                s.dtype(),
                if dtype == DType::I64 {
                    DType::I64
                } else {
                    dtype
                }
            );
            assert_close(&s, &shape, &col(&ref_sum), tol, &what("sum"));
            let m = x.mean_dims(&dims, keepdim);
            assert!(m.dtype().is_float());
            let mean_ref = col(&|v| ref_sum(v) / v.len() as f64);
            assert_close(&m, &shape, &mean_ref, tol.max(1e-6), &what("mean"));
            // (Integer products could overflow i64 over large groups; the shapes keep them short.)
            if dtype != DType::I64 || grp.iter().all(|v| v.len() <= 20) {
                let p = x.prod_dims(&dims, keepdim);
                let want = col(&|v| v.iter().product());
                assert_close(&p, &shape, &want, tol.max(1e-6), &what("prod"));
            }
            for unbiased in [false, true] {
                let ddof = if unbiased { 1.0 } else { 0.0 };
                let want = col(&|v| ref_var(v, ddof));
                let t = 1e-5;
                assert_close(
                    &x.var_dims(&dims, unbiased, keepdim),
                    &shape,
                    &want,
                    t,
                    &what("var"),
                );
                let sd: Vec<f64> = want.iter().map(|v| v.sqrt()).collect();
                assert_close(
                    &x.std_dims(&dims, unbiased, keepdim),
                    &shape,
                    &sd,
                    t,
                    &what("std"),
                );
            }
            let lse = x.logsumexp_dims(&dims, keepdim);
            assert_close(&lse, &shape, &col(&ref_lse), 1e-5, &what("logsumexp"));
            for pn in [1.0, 2.0, 3.5, 0.0, f64::INFINITY] {
                let n = x.norm_dims(pn, &dims, keepdim);
                assert_close(
                    &n,
                    &shape,
                    &col(&|v| ref_norm(v, pn)),
                    1e-5,
                    &what(&format!("norm {pn}")),
                );
            }
            let nonempty = grp.iter().all(|v| !v.is_empty());
            if nonempty {
                let want: Vec<f64> = col(&|v| ref_best(v, true).0);
                assert_close(&x.amax(&dims, keepdim), &shape, &want, 0.0, &what("amax"));
                let want: Vec<f64> = col(&|v| ref_best(v, false).0);
                assert_close(&x.amin(&dims, keepdim), &shape, &want, 0.0, &what("amin"));
            }
        }
    }

    #[test]
    fn dim_reductions_with_indices_match_the_reference() {
        let mut g = Generator::new(11);
        for case in 0..200 {
            let dtype = [DType::F64, DType::F32, DType::I64][case % 3];
            let x = random_input(&mut g, dtype);
            let r = x.rank();
            let d = if r == 0 {
                0
            } else {
                g.below(r as u64) as usize
            };
            let dim = if g.below(2) == 0 {
                d as isize
            } else {
                d as isize - r.max(1) as isize
            };
            let red: Vec<usize> = if r == 0 { vec![] } else { vec![d] };
            let keepdim = g.below(2) == 0;
            let shape = out_shape(&x, &red, keepdim);
            let grp = groups(&x, &red);
            if grp.iter().any(|v| v.is_empty()) {
                let r = std::panic::catch_unwind(|| x.max_dim(dim, keepdim));
                assert!(
                    r.is_err(),
                    "max_dim over an empty dim of {:?} must panic",
                    x.dims()
                );
                continue;
            }
            for max in [true, false] {
                let (v, i) = if max {
                    x.max_dim(dim, keepdim)
                } else {
                    x.min_dim(dim, keepdim)
                };
                let want: Vec<(f64, f64)> = grp.iter().map(|v| ref_best(v, max)).collect();
                let wv: Vec<f64> = want.iter().map(|w| w.0).collect();
                let wi: Vec<f64> = want.iter().map(|w| w.1).collect();
                let what = format!("max={max} dim {dim} of {:?}", x.dims());
                assert_eq!(v.dtype(), x.dtype());
                assert_eq!(i.dtype(), DType::I64);
                assert_close(&v, &shape, &wv, 0.0, &what);
                assert_close(&i, &shape, &wi, 0.0, &what);
                let a = if max {
                    x.argmax_dim(dim, keepdim)
                } else {
                    x.argmin_dim(dim, keepdim)
                };
                assert_close(&a, &shape, &wi, 0.0, &what);
            }
            // Softmax along the same dim: each group sums to one and matches exp(x - lse).
            if dtype != DType::I64 {
                let sm = x.softmax(dim);
                let ls = x.log_softmax(dim);
                assert_eq!(sm.dims(), x.dims());
                let mut want_sm = vec![0.0; x.numel()];
                let mut want_ls = vec![0.0; x.numel()];
                // Recompute per position: softmax along `d` of the contiguous values.
                let v = x.to_vec::<f64>();
                let (outer, n, inner) = if r == 0 {
                    (1, 1, 1)
                } else {
                    (
                        x.dims()[..d].iter().product::<usize>(),
                        x.dims()[d],
                        x.dims()[d + 1..].iter().product::<usize>(),
                    )
                };
                for o in 0..outer {
                    for j in 0..inner {
                        let idx = |k: usize| (o * n + k) * inner + j;
                        let vals: Vec<f64> = (0..n).map(|k| v[idx(k)]).collect();
                        let lse = ref_lse(&vals);
                        for k in 0..n {
                            want_ls[idx(k)] = vals[k] - lse;
                            want_sm[idx(k)] = (vals[k] - lse).exp();
                        }
                    }
                }
                assert_close(&sm, x.dims(), &want_sm, 1e-5, "softmax");
                assert_close(&ls, x.dims(), &want_ls, 1e-5, "log_softmax");
            }
        }
    }

    #[test]
    fn full_reductions_and_flat_argmax() {
        let mut g = Generator::new(3);
        for _ in 0..50 {
            let x = random_input(&mut g, DType::F64);
            let all: Vec<usize> = (0..x.rank()).collect();
            let v = x.to_vec::<f64>();
            assert_eq!(x.sum().rank(), 0);
            assert!(close(x.sum().item_f64(), ref_sum(&v), 1e-10));
            if v.is_empty() {
                assert!(x.mean().item_f64().is_nan());
                assert_eq!(x.prod().item_f64(), 1.0);
                assert!(std::panic::catch_unwind(|| x.max()).is_err());
                continue;
            }
            let (mx, imx) = ref_best(&v, true);
            let (mn, imn) = ref_best(&v, false);
            assert_eq!(x.max().item_f64(), mx);
            assert_eq!(x.min().item_f64(), mn);
            assert_eq!(x.argmax().item::<i64>() as f64, imx);
            assert_eq!(x.argmin().item::<i64>() as f64, imn);
            assert_eq!(x.argmax().dtype(), DType::I64);
            assert!(close(x.var(true).item_f64(), ref_var(&v, 1.0), 1e-10));
            assert!(close(x.norm(2.0).item_f64(), ref_norm(&v, 2.0), 1e-10));
            let _ = all;
        }
    }

    #[test]
    fn known_values() {
        let s = tensor!([2.0, 1.0, 0.1]).softmax(-1).to_vec::<f64>();
        for (a, b) in s.iter().zip([0.659, 0.242, 0.099]) {
            assert!((a - b).abs() < 1e-3, "softmax {s:?}");
        }
        let v = tensor!([1.0, 2.0, 3.0, 4.0]);
        assert!((v.var(true).item_f64() - 5.0 / 3.0).abs() < 1e-6);
        assert!((v.var(false).item_f64() - 1.25).abs() < 1e-6);
        assert!((v.std(false).item_f64() - 1.25f64.sqrt()).abs() < 1e-6);
        assert_eq!(v.mean().item_f64(), 2.5);
        assert_eq!(v.prod().item_f64(), 24.0);
        assert_eq!(v.norm(1.0).item_f64(), 10.0);
        assert_eq!(v.norm(f64::INFINITY).item_f64(), 4.0);
        assert!((v.norm(2.0).item_f64() - 30f64.sqrt()).abs() < 1e-6);
        assert_eq!(tensor!([0.0, 3.0, 0.0, -1.0]).norm(0.0).item_f64(), 2.0);
        // Integer sums and products are i64, integer means f32.
        let i = Tensor::from_vec(vec![1i32, 2, 3, 4], [2, 2]);
        assert_eq!(i.sum().dtype(), DType::I64);
        assert_eq!(i.sum().item::<i64>(), 10);
        assert_eq!(i.prod_dim(0, false).to_vec::<i64>(), vec![3, 8]);
        assert_eq!(i.mean().dtype(), DType::F32);
        assert_eq!(i.mean_dim(-1, true).to_vec::<f32>(), vec![1.5, 3.5]);
        assert_eq!(i.mean_dim(-1, true).dims(), &[2, 1]);
        assert_eq!(i.softmax(1).dtype(), DType::F32);
        let b = Tensor::from_vec(vec![true, false, true], [3]);
        assert_eq!(b.sum().item::<i64>(), 2);
        assert!(b.max().item::<bool>());
        // Ties take the first index; NaN is the maximum and the minimum.
        let t = tensor!([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]);
        assert_eq!(t.argmax_dim(1, false).to_vec::<i64>(), vec![1, 0]);
        assert_eq!(t.argmax().item::<i64>(), 1);
        assert_eq!(t.argmin_dim(0, true).to_vec::<i64>(), vec![0, 1, 1]);
        let n = tensor!([1.0, f64::NAN, 5.0, f64::NAN]);
        assert!(n.max().item_f64().is_nan());
        assert!(n.min().item_f64().is_nan());
        assert_eq!(n.argmax().item::<i64>(), 1);
        assert_eq!(n.argmin().item::<i64>(), 1);
        assert!(n.sum().item_f64().is_nan());
        assert!(n.logsumexp(0, false).item_f64().is_nan());
        // Stable logsumexp and softmax.
        let big = tensor!([1000.0, 1000.0], DType::F64);
        assert!((big.logsumexp(0, false).item_f64() - (1000.0 + 2f64.ln())).abs() < 1e-9);
        assert_eq!(big.softmax(0).to_vec::<f64>(), vec![0.5, 0.5]);
        let ninf = tensor!([
            [f64::NEG_INFINITY, f64::NEG_INFINITY],
            [0.0, f64::NEG_INFINITY]
        ]);
        assert_eq!(
            ninf.logsumexp(1, false).to_vec::<f64>(),
            vec![f64::NEG_INFINITY, 0.0]
        );
        assert_eq!(
            tensor!([f64::INFINITY, 1.0]).logsumexp(0, false).item_f64(),
            f64::INFINITY
        );
        // Empty reductions: sum 0, prod 1, mean NaN; logsumexp -inf.
        let e = Tensor::zeros([2, 0]);
        assert_eq!(e.sum_dim(1, false).to_vec::<f32>(), vec![0.0, 0.0]);
        assert_eq!(e.prod_dim(1, false).to_vec::<f32>(), vec![1.0, 1.0]);
        assert!(
            e.mean_dim(1, false)
                .to_vec::<f32>()
                .iter()
                .all(|v| v.is_nan())
        );
        assert_eq!(e.sum_dim(0, true).dims(), &[1, 0]);
        assert_eq!(e.max_dim(0, false).0.dims(), &[0]);
        // Accuracy: a large offset does not destroy the variance, a long f32 sum stays exact.
        let off = Tensor::from_vec(vec![1e9f64 + 1.0, 1e9 + 2.0, 1e9 + 3.0, 1e9 + 4.0], [4]);
        assert!((off.var(false).item_f64() - 1.25).abs() < 1e-6);
        let ones = Tensor::ones([1 << 20]).mul_scalar(0.1);
        let total = ones.sum().item_f64();
        assert!((total - 104857.6).abs() < 0.05, "{total}");
    }

    #[test]
    fn large_inputs_take_the_parallel_paths_correctly() {
        let mut g = Generator::new(17);
        let x = Tensor::normal_with([40, 1000], 0.0, 3.0, DType::F32, &mut g);
        let x64 = x.to_dtype(DType::F64);
        for dim in [-1isize, 0] {
            let want = x64.softmax(dim).to_vec::<f64>();
            let got = x.softmax(dim).to_vec::<f64>();
            assert!(
                got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6),
                "softmax {dim}"
            );
            let want = x64.log_softmax(dim).to_vec::<f64>();
            let got = x.log_softmax(dim).to_vec::<f64>();
            assert!(
                got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-4),
                "log_softmax {dim}"
            );
            let grp = groups(&x64, &[if dim < 0 { 1 } else { 0 }]);
            let want: Vec<f64> = grp.iter().map(|v| ref_sum(v)).collect();
            let got = x.sum_dim(dim, false).to_vec::<f64>();
            assert!(
                got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-3),
                "sum {dim}"
            );
            let want: Vec<f64> = grp.iter().map(|v| ref_best(v, true).1).collect();
            let got = x.argmax_dim(dim, false).to_vec::<f64>();
            assert_eq!(got, want, "argmax {dim}");
        }
    }

    #[test]
    fn errors_name_the_operation() {
        let x = Tensor::zeros([2, 3]);
        let e = std::panic::catch_unwind(|| x.sum_dim(2, false)).unwrap_err();
        let msg = e.downcast_ref::<String>().unwrap();
        assert!(msg.contains("sum") && msg.contains("[2, 3]"), "{msg}");
        let e = std::panic::catch_unwind(|| Tensor::zeros([0]).max()).unwrap_err();
        let msg = e.downcast_ref::<String>().unwrap();
        assert!(msg.contains("max") && msg.contains("empty"), "{msg}");
        assert!(std::panic::catch_unwind(|| x.sum_dims(&[1, -1], false)).is_err());
    }
}
