//! Shape-changing copies and orderings: pad, repeat, tile, flip, roll, tril/triu, cumsum,
//! cumprod, sort, argsort, topk.
//!
//! Gradients: each copy sends the upstream gradient back along the same index maps (flip
//! flips it, roll rolls it back, repeat sums the tiles, pad crops or folds the border back);
//! sort and topk values are gathers, differentiable through `gather`.

use std::cmp::Ordering;

use super::index::{dim_for, index_add_zeros};
use super::or_panic;
use crate::autograd::{Saved, grads, is_grad_enabled, record_op};
use crate::error::{Result, bail};
use crate::kernels::gather::{FILL, gather_axes};
use crate::tensor::{DType, Dim, Element, Shape, Tensor};
use crate::with_dtype;

/// How [`Tensor::pad`] fills the new border (PyTorch's `F.pad` modes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PadMode {
    /// A constant value (converted to the tensor's dtype). Negative pads crop.
    Constant(f64),
    /// The mirror image without repeating the edge: `[0,1,2,3]` padded by `(2, 1)` gives
    /// `[2,1,0,1,2,3,2]`. Each pad must be less than the dimension's size.
    Reflect,
    /// The edge value repeated.
    Replicate,
    /// Wrapping around: the other end of the dimension. Each pad must be at most the size.
    Circular,
}

/// Orders elements with NaN above everything (PyTorch's sort order); NaNs are equal.
#[inline]
fn cmp_nan_last<T: PartialOrd>(a: &T, b: &T) -> Ordering {
    match a.partial_cmp(b) {
        Some(o) => o,
        #[allow(clippy::eq_op)]
        None => match (a != a, b != b) {
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ => Ordering::Equal,
        },
    }
}

/// Applies `f` to every lane of `x` along dimension `d` (its elements in order); `f` appends
/// `out_len` values per lane. Returns the contiguous result, of `x`'s shape with size
/// `out_len` along `d` (a 0-D `x` is one lane of length 1; its result stays 0-D when
/// `out_len == 1` and is 1-D otherwise).
fn map_lanes<T: Element, U: Element>(
    x: &Tensor,
    d: usize,
    out_len: usize,
    mut f: impl FnMut(&[T], &mut Vec<U>),
) -> Tensor {
    // Only values are read here: no graph for the intermediate views.
    let x1 = if x.rank() == 0 {
        x.detach().reshape(&[1])
    } else {
        x.detach()
    };
    let last = x1.rank() - 1;
    let t = x1.transpose(d, last);
    let n = t.dims()[last];
    let lanes: usize = t.dims()[..last].iter().product();
    let data = t.to_vec::<T>();
    let mut out = Vec::with_capacity(lanes * out_len);
    for l in 0..lanes {
        f(&data[l * n..(l + 1) * n], &mut out);
    }
    let mut shape = t.shape().clone();
    shape.0[last] = out_len;
    let r = Tensor::from_vec(out, shape).transpose(d, last).contiguous();
    if x.rank() == 0 && out_len == 1 {
        r.reshape(&[])
    } else {
        r
    }
}

impl Tensor {
    /// The tensor padded (`torch.nn.functional.pad`): `pads` lists `(before, after)` pairs
    /// starting from the last dimension, so `[1, 2]` pads the last dimension with one element
    /// before and two after, and `[1, 1, 2, 2]` also pads the one before it. Negative pads
    /// crop. Any number of trailing dimensions may be padded in every mode.
    ///
    /// ```
    /// use baeum::Tensor;
    /// use baeum::ops::transform::PadMode;
    /// let t = Tensor::from_vec(vec![0., 1., 2., 3.], [4]);
    /// assert_eq!(t.pad(&[2, 1], PadMode::Reflect).to_vec::<f64>(), vec![2., 1., 0., 1., 2., 3., 2.]);
    /// ```
    pub fn pad(&self, pads: &[isize], mode: PadMode) -> Tensor {
        or_panic(self.try_pad(pads, mode))
    }

    /// [`Tensor::pad`] returning an error for malformed pads.
    ///
    /// The gradient crops the constant border away (and zero-fills what a negative pad
    /// cropped); in the other modes every border element's gradient is added back to the
    /// element it copies.
    pub fn try_pad(&self, pads: &[isize], mode: PadMode) -> Result<Tensor> {
        let (maps, shape) = self.pad_maps(pads, mode)?;
        let fill = match mode {
            PadMode::Constant(v) => v,
            _ => 0.0,
        };
        Ok(record_op(
            "pad",
            &[self],
            || {
                with_dtype!(self.dtype(), T => {
                    Tensor::from_vec(gather_axes::<T>(self, &maps, T::from_f64(fill)), shape)
                })
            },
            |_, _| {
                let rank = self.rank();
                // The padded dimensions, with the source index of each output position.
                let folds: Vec<(usize, Vec<usize>, usize)> = pads
                    .chunks(2)
                    .enumerate()
                    .filter(|(_, pair)| pair[0] != 0 || pair[1] != 0)
                    .map(|(k, _)| {
                        let d = rank - 1 - k;
                        (d, maps[d].clone(), self.dims()[d])
                    })
                    .collect();
                let crop: Vec<isize> = pads.iter().map(|&p| -p).collect();
                move |g: &Tensor| {
                    grads([Some(match mode {
                        PadMode::Constant(_) => g.pad(&crop, PadMode::Constant(0.0)),
                        _ => folds
                            .iter()
                            .fold(g.clone(), |t, (d, map, n)| index_add_zeros(&t, *d, map, *n)),
                    })])
                }
            },
        ))
    }

    /// For each dimension, the source index of every output position of [`Tensor::pad`]
    /// ([`FILL`] for the constant border), and the output shape.
    fn pad_maps(&self, pads: &[isize], mode: PadMode) -> Result<(Vec<Vec<usize>>, Shape)> {
        let rank = self.rank();
        if !pads.len().is_multiple_of(2) {
            bail!(
                Shape,
                "pad: pads must be (before, after) pairs, got {} values {pads:?} for shape {}",
                pads.len(),
                self.shape()
            );
        }
        if pads.len() / 2 > rank {
            bail!(
                Shape,
                "pad: {pads:?} pads {} dimensions but the tensor has shape {}",
                pads.len() / 2,
                self.shape()
            );
        }
        let mut maps: Vec<Vec<usize>> = self.dims().iter().map(|&n| (0..n).collect()).collect();
        let mut shape = self.shape().clone();
        for (k, pair) in pads.chunks(2).enumerate() {
            let d = rank - 1 - k;
            let (b, a) = (pair[0], pair[1]);
            let n = self.dims()[d] as isize;
            let m = n + b + a;
            if m < 0 {
                bail!(
                    Shape,
                    "pad: pads ({b}, {a}) would give dimension {d} of shape {} a negative size {m}",
                    self.shape()
                );
            }
            if (b != 0 || a != 0) && !matches!(mode, PadMode::Constant(_)) {
                if n == 0 {
                    bail!(
                        Shape,
                        "pad: {mode:?} padding of dimension {d} needs a non-empty dimension (shape {})",
                        self.shape()
                    );
                }
                let ok = match mode {
                    PadMode::Reflect => b < n && a < n,
                    PadMode::Circular => b <= n && a <= n,
                    _ => true,
                };
                if !ok {
                    bail!(
                        Shape,
                        "pad: {mode:?} pads ({b}, {a}) must be {} the size {n} of dimension {d} (shape {})",
                        if mode == PadMode::Reflect {
                            "less than"
                        } else {
                            "at most"
                        },
                        self.shape()
                    );
                }
            }
            maps[d] = (0..m)
                .map(|i| {
                    let j = i - b;
                    match mode {
                        PadMode::Constant(_) => {
                            if (0..n).contains(&j) {
                                j as usize
                            } else {
                                FILL
                            }
                        }
                        PadMode::Reflect => {
                            let j = if j < 0 { -j } else { j };
                            (if j >= n { 2 * (n - 1) - j } else { j }) as usize
                        }
                        PadMode::Replicate => j.clamp(0, n - 1) as usize,
                        PadMode::Circular => j.rem_euclid(n) as usize,
                    }
                })
                .collect();
            shape.0[d] = m as usize;
        }
        Ok((maps, shape))
    }

    /// The tensor repeated `repeats[i]` times along dimension `i` (`torch.Tensor.repeat`);
    /// extra leading counts add new leading dimensions. Needs at least one count per
    /// dimension.
    pub fn repeat(&self, repeats: &[usize]) -> Tensor {
        assert!(
            repeats.len() >= self.rank(),
            "repeat: {} repeat counts {repeats:?} for a tensor of shape {} (need at least one per dimension)",
            repeats.len(),
            self.shape()
        );
        // The tensor with leading size-1 dimensions for the extra counts.
        let mut dims = vec![1usize; repeats.len() - self.rank()];
        dims.extend_from_slice(self.dims());
        record_op(
            "repeat",
            &[self],
            || {
                let x = self.reshape_to(dims.clone());
                let maps: Vec<Vec<usize>> = dims
                    .iter()
                    .zip(repeats)
                    .map(|(&n, &r)| (0..n * r).map(|i| i % n).collect())
                    .collect();
                let shape = Shape(maps.iter().map(Vec::len).collect());
                with_dtype!(self.dtype(), T => Tensor::from_vec(gather_axes::<T>(&x, &maps, T::default()), shape))
            },
            |_, _| {
                // Output dimension k of size r·n is r tiles of n: split it into [r, n] and sum
                // the tiles.
                let split: Vec<isize> = dims
                    .iter()
                    .zip(repeats)
                    .flat_map(|(&n, &r)| [r as isize, n as isize])
                    .collect();
                let tiles: Vec<isize> = (0..dims.len() as isize).map(|k| 2 * k).collect();
                let from = self.shape().clone();
                move |g: &Tensor| {
                    grads([Some(if tiles.is_empty() {
                        g.clone()
                    } else {
                        g.reshape(&split)
                            .sum_dims(&tiles, false)
                            .reshape_to(from.clone())
                    })])
                }
            },
        )
    }

    /// [`Tensor::repeat`] where fewer counts than dimensions are padded with leading 1s
    /// (`torch.tile`).
    pub fn tile(&self, reps: &[usize]) -> Tensor {
        let mut full = vec![1; self.rank().saturating_sub(reps.len())];
        full.extend_from_slice(reps);
        self.repeat(&full)
    }

    /// The tensor with the order of the entries of each of `dims` reversed: a copy
    /// (`torch.flip`).
    pub fn flip(&self, dims: &[isize]) -> Tensor {
        let r = self.rank();
        let mut maps: Vec<Vec<usize>> = self.dims().iter().map(|&n| (0..n).collect()).collect();
        let mut seen = vec![false; r.max(1)];
        for &dim in dims {
            let d = dim.resolve(r, "flip");
            assert!(!seen[d], "flip: dimension {dim} repeated in {dims:?}");
            seen[d] = true;
            if r > 0 {
                maps[d].reverse();
            }
        }
        record_op(
            "flip",
            &[self],
            || with_dtype!(self.dtype(), T => Tensor::from_vec(gather_axes::<T>(self, &maps, T::default()), self.shape().clone())),
            |_, _| {
                let dims = dims.to_vec();
                move |g: &Tensor| grads([Some(g.flip(&dims))])
            },
        )
    }

    /// The entries shifted by `shifts[i]` along `dims[i]`, wrapping around (`torch.roll`).
    /// With `dims` empty, the tensor is rolled as if flattened by the single shift.
    pub fn roll(&self, shifts: &[isize], dims: &[isize]) -> Tensor {
        if dims.is_empty() {
            assert_eq!(
                shifts.len(),
                1,
                "roll: without dims, expects one shift, got {shifts:?}"
            );
            let flat = self.reshape(&[-1]).roll(shifts, &[0]);
            return flat.reshape_to(self.shape().clone());
        }
        assert_eq!(
            shifts.len(),
            dims.len(),
            "roll: {} shifts {shifts:?} for {} dims {dims:?}",
            shifts.len(),
            dims.len()
        );
        let r = self.rank();
        let mut total = vec![0isize; r.max(1)];
        for (&s, &dim) in shifts.iter().zip(dims) {
            total[dim.resolve(r, "roll")] += s;
        }
        let maps: Vec<Vec<usize>> = self
            .dims()
            .iter()
            .zip(&total)
            .map(|(&n, &s)| {
                (0..n as isize)
                    .map(|i| (i - s).rem_euclid(n as isize) as usize)
                    .collect()
            })
            .collect();
        record_op(
            "roll",
            &[self],
            || with_dtype!(self.dtype(), T => Tensor::from_vec(gather_axes::<T>(self, &maps, T::default()), self.shape().clone())),
            |_, _| {
                let back: Vec<isize> = shifts.iter().map(|&s| -s).collect();
                let dims = dims.to_vec();
                move |g: &Tensor| grads([Some(g.roll(&back, &dims))])
            },
        )
    }

    /// The lower (`lower`) or upper triangle relative to `diagonal`; the gradient keeps the
    /// same triangle of the upstream gradient.
    fn triangle(&self, op: &'static str, diagonal: i64, lower: bool) -> Tensor {
        let keep = |i: i64, j: i64| {
            if lower {
                j - i <= diagonal
            } else {
                j - i >= diagonal
            }
        };
        assert!(
            self.rank() >= 2,
            "{op}: expects a tensor of at least 2 dimensions, got shape {}",
            self.shape()
        );
        let (rows, cols) = (self.dims()[self.rank() - 2], self.dims()[self.rank() - 1]);
        record_op(
            op,
            &[self],
            || {
                with_dtype!(self.dtype(), T => {
                    let mut v = self.to_vec::<T>();
                    for (k, x) in v.iter_mut().enumerate() {
                        let j = (k % cols) as i64;
                        let i = ((k / cols) % rows) as i64;
                        if !keep(i, j) {
                            *x = T::zero();
                        }
                    }
                    Tensor::from_vec(v, self.shape().clone())
                })
            },
            |_, _| {
                move |g: &Tensor| {
                    grads([Some(if lower {
                        g.tril(diagonal)
                    } else {
                        g.triu(diagonal)
                    })])
                }
            },
        )
    }

    /// The lower triangle of the last two dimensions: elements with `col - row <= diagonal`
    /// kept, the rest zero (`torch.tril`); batched over leading dimensions.
    pub fn tril(&self, diagonal: i64) -> Tensor {
        self.triangle("tril", diagonal, true)
    }

    /// The upper triangle: elements with `col - row >= diagonal` kept (`torch.triu`).
    pub fn triu(&self, diagonal: i64) -> Tensor {
        self.triangle("triu", diagonal, false)
    }

    fn cumulative(&self, d: usize, sum: bool) -> Tensor {
        let n = if self.rank() == 0 { 1 } else { self.dims()[d] };
        match self.dtype() {
            DType::F32 => map_lanes::<f32, f32>(self, d, n, |lane, out| {
                // Accumulated in f64, as PyTorch does on the CPU.
                let mut acc = if sum { 0.0f64 } else { 1.0 };
                for &v in lane {
                    if sum {
                        acc += v as f64;
                    } else {
                        acc *= v as f64;
                    }
                    out.push(acc as f32);
                }
            }),
            DType::F64 => map_lanes::<f64, f64>(self, d, n, |lane, out| {
                if sum {
                    // Neumaier-compensated running sum.
                    let (mut s, mut c) = (0.0f64, 0.0f64);
                    for &v in lane {
                        let t = s + v;
                        if s.abs() >= v.abs() {
                            c += (s - t) + v;
                        } else {
                            c += (v - t) + s;
                        }
                        s = t;
                        out.push(if (s + c).is_finite() { s + c } else { s });
                    }
                } else {
                    let mut acc = 1.0f64;
                    for &v in lane {
                        acc *= v;
                        out.push(acc);
                    }
                }
            }),
            _ => map_lanes::<i64, i64>(&self.to_dtype(DType::I64), d, n, |lane, out| {
                let mut acc = if sum { 0i64 } else { 1 };
                for &v in lane {
                    acc = if sum {
                        acc.wrapping_add(v)
                    } else {
                        acc.wrapping_mul(v)
                    };
                    out.push(acc);
                }
            }),
        }
    }

    /// Running sums along `dim` (`torch.cumsum`). Integer and bool tensors give i64 (sums
    /// wrap on overflow); f32 accumulates in f64 and f64 with compensated summation.
    /// The gradient is the running sum of the upstream gradient from the back.
    pub fn cumsum(&self, dim: impl Dim) -> Tensor {
        let d = dim.resolve(self.rank(), "cumsum");
        record_op(
            "cumsum",
            &[self],
            || self.cumulative(d, true),
            |_, _| move |g: &Tensor| grads([Some(reverse_cumsum(g, d))]),
        )
    }

    /// Running products along `dim` (`torch.cumprod`), with the dtypes of [`Tensor::cumsum`].
    ///
    /// The gradient is exact also where the input holds zeros: ∂out_j/∂x_k is the product of
    /// x_0..x_j without x_k, so entries after a lane's first zero get none, and the first zero
    /// gets the products that skip it.
    pub fn cumprod(&self, dim: impl Dim) -> Tensor {
        let d = dim.resolve(self.rank(), "cumprod");
        record_op(
            "cumprod",
            &[self],
            || self.cumulative(d, false),
            |out, _| {
                let (sx, so) = (Saved::new("cumprod", self), Saved::output("cumprod", out));
                move |g: &Tensor| grads([Some(cumprod_backward(g, sx.get(), so.get(), d))])
            },
        )
    }

    /// The i64 indices that sort each lane along `dim` (`torch.argsort(stable=True)`): equal
    /// elements keep their order, NaN sorts as the largest value.
    pub fn argsort(&self, dim: impl Dim, descending: bool) -> Tensor {
        let d = dim.resolve(self.rank(), "argsort");
        let n = if self.rank() == 0 { 1 } else { self.dims()[d] };
        with_dtype!(self.dtype(), T => map_lanes::<T, i64>(self, d, n, |lane, out| {
            let mut ix: Vec<usize> = (0..lane.len()).collect();
            if descending {
                ix.sort_by(|&i, &j| cmp_nan_last(&lane[j], &lane[i]));
            } else {
                ix.sort_by(|&i, &j| cmp_nan_last(&lane[i], &lane[j]));
            }
            out.extend(ix.iter().map(|&i| i as i64));
        }))
    }

    /// The values sorted along `dim` and the i64 indices they came from (`torch.sort` with
    /// `stable=True`): equal elements keep their order, NaN sorts as the largest value.
    ///
    /// ```
    /// use baeum::Tensor;
    /// let t = Tensor::from_vec(vec![3., 1., 2., 1.], [4]);
    /// let (v, i) = t.sort(0, false);
    /// assert_eq!(v.to_vec::<f64>(), vec![1., 1., 2., 3.]);
    /// assert_eq!(i.to_vec::<i64>(), vec![1, 3, 2, 0]);
    /// ```
    pub fn sort(&self, dim: impl Dim, descending: bool) -> (Tensor, Tensor) {
        let idx = self.argsort(dim, descending);
        let d = dim.resolve(self.rank(), "sort");
        (self.gather(d, &idx), idx)
    }

    /// The `k` largest (or smallest) entries along `dim` with their i64 indices
    /// (`torch.topk`), in order from the largest (smallest). Equal values keep the lower index
    /// first; NaN counts as the largest value. The result is always sorted, whatever `sorted`
    /// says (PyTorch leaves the order unspecified when it is false). Panics if `k` exceeds the
    /// size of `dim`.
    pub fn topk(&self, k: usize, dim: impl Dim, largest: bool, sorted: bool) -> (Tensor, Tensor) {
        or_panic(self.try_topk(k, dim.to_isize(), largest, sorted))
    }

    /// [`Tensor::topk`] returning an error for `k` larger than the dimension.
    pub fn try_topk(
        &self,
        k: usize,
        dim: isize,
        largest: bool,
        _sorted: bool,
    ) -> Result<(Tensor, Tensor)> {
        let d = dim_for("topk", dim, self.rank(), self.shape())?;
        let n = if self.rank() == 0 { 1 } else { self.dims()[d] };
        if k > n {
            bail!(
                Index,
                "topk: k = {k} is larger than the size {n} of dimension {d} (shape {})",
                self.shape()
            );
        }
        let idx = with_dtype!(self.dtype(), T => map_lanes::<T, i64>(self, d, k, |lane, out| {
            // A total order: by value, then by index, so ties keep the lower index first.
            let key = |i: &usize, j: &usize| {
                let o = if largest {
                    cmp_nan_last(&lane[*j], &lane[*i])
                } else {
                    cmp_nan_last(&lane[*i], &lane[*j])
                };
                o.then(i.cmp(j))
            };
            let mut ix: Vec<usize> = (0..lane.len()).collect();
            if k > 0 && k < ix.len() {
                ix.select_nth_unstable_by(k - 1, key);
            }
            ix.truncate(k);
            ix.sort_unstable_by(key);
            out.extend(ix.iter().map(|&i| i as i64));
        }));
        Ok((self.gather(d, &idx), idx))
    }
}

/// Σ_{j ≥ k} g_j along `d`: the adjoint of a running sum.
fn reverse_cumsum(g: &Tensor, d: usize) -> Tensor {
    if g.rank() == 0 {
        return g.clone();
    }
    let f = [d as isize];
    g.flip(&f).cumsum(d).flip(&f)
}

/// ∂L/∂x_k of `x.cumprod(d)` as Σ_{j ≥ k} g_j · (Π_{i < k} x_i) · (Π_{k < i ≤ j} x_i), with the
/// products for every pair (k, j) of a lane: a polynomial in x and g, so every derivative of it
/// is right, zeros or not, at the cost of n² values per lane (used only under create_graph for
/// inputs with zeros).
fn cumprod_backward_products(g: &Tensor, x: &Tensor, d: usize) -> Tensor {
    let (xt, gt) = (x.transpose(d, -1), g.transpose(d, -1));
    let n = xt.dims()[xt.rank() - 1];
    let dtype = x.dtype();
    // Π_{i < k} x_i: the running product of [1, x_0, ..., x_{n-2}].
    let mut one_shape = xt.shape().clone();
    one_shape.0[xt.rank() - 1] = 1;
    let ones = Tensor::ones_dtype(one_shape, dtype);
    let before = Tensor::cat(&[&ones, &xt.narrow(-1, 0, n - 1)], -1).cumprod(-1);
    // Row k holds x_i for i > k and 1 elsewhere; its running product is Π_{k < i ≤ j} x_i.
    let later = Tensor::ones_dtype([n, n], dtype).triu(1);
    let rows = xt.unsqueeze(-2) * &later + later.rsub_scalar(1.0);
    let from_k = Tensor::ones_dtype([n, n], dtype).triu(0);
    let after = (gt.unsqueeze(-2) * rows.cumprod(-1) * from_k).sum_dim(-1, false);
    (before * after).transpose(d, -1)
}

/// ∂L/∂x of `out = x.cumprod(d)`: Σ_{j ≥ k} g_j · Π_{i ≤ j, i ≠ k} x_i, without dividing by
/// zero. Before a lane's first zero z this is Σ_{j ≥ k} g_j·out_j / x_k (later outputs are 0);
/// at z it is Σ_{j ≥ z} g_j·cumprod(x with x_z = 1)_j; after z it is 0. Written with
/// differentiable operations (masks are constants), so it has second derivatives.
fn cumprod_backward(g: &Tensor, x: &Tensor, out: &Tensor, d: usize) -> Tensor {
    if x.rank() == 0 {
        return g.clone();
    }
    // Under create_graph the output must carry its graph: recompute it.
    let out = if is_grad_enabled() {
        x.cumprod(d)
    } else {
        out.clone()
    };
    let is_zero = x.eq_scalar(0.0);
    if !is_zero.to_vec::<bool>().contains(&true) {
        return reverse_cumsum(&(g * &out), d) / x;
    }
    if is_grad_enabled() {
        // The masks below are constants, which would lose the second derivatives across a
        // zero: under create_graph use the product formula, which holds everywhere.
        return cumprod_backward_products(g, x, d);
    }
    let dtype = x.dtype();
    let zeros_so_far = is_zero.to_dtype(dtype).cumsum(d);
    let before = zeros_so_far.eq_scalar(0.0).to_dtype(dtype);
    let first = is_zero
        .logical_and(&zeros_so_far.eq_scalar(1.0))
        .to_dtype(dtype);
    // 1 where the division is not used, so it stays finite.
    let safe_x = x * &before + before.rsub_scalar(1.0);
    let lead = reverse_cumsum(&(g * &out), d) / safe_x * &before;
    let skip_zero = x * first.rsub_scalar(1.0) + &first;
    let at = reverse_cumsum(&(g * skip_zero.cumprod(d)), d) * &first;
    lead + at
}
