//! Joining, splitting and indexing: cat, stack, split, chunk, unbind, index_select, gather,
//! scatter, scatter_add, one_hot, masked_select, nonzero, take.
//!
//! Gradients: `cat` hands each input its slice of the upstream gradient; stack, split, chunk
//! and unbind are views or joins of views and differentiate through those. Picking ops
//! (index_select, gather, masked_select, take) send the gradient back with `scatter_add`, so
//! repeated indices accumulate; the scatters pass it on with `gather`. Their rules use only
//! differentiable operations, so second derivatives work.

use super::or_panic;
use crate::autograd::{Saved, grads, record_op};
use crate::error::{Error, Result, bail};
use crate::kernels::gather::{gather_offsets, pinned_offsets, scatter_offsets};
use crate::kernels::map::copy_into;
use crate::ops::transform::PadMode;
use crate::tensor::{DType, Dim, Element, Layout, Numeric, Shape, Tensor, resolve_dim};
use crate::{numeric_or_panic, with_dtype};

/// `dim` resolved against `rank`, or an error naming the operation and the shape.
pub(crate) fn dim_for(op: &str, dim: isize, rank: usize, shape: &Shape) -> Result<usize> {
    resolve_dim(dim, rank).map_err(|_| {
        Error::Index(format!(
            "{op}: dimension {dim} out of range for a tensor of shape {shape} (expected {} to {})",
            -(rank.max(1) as isize),
            rank.max(1) as isize - 1
        ))
    })
}

/// Checks that `index` can address `input` along dimension `d` (gather and scatter): the same
/// rank, and no larger than `input` in any other dimension.
fn check_index_shape(op: &str, input: &Tensor, index: &Tensor, d: usize) -> Result<()> {
    let r = input.rank().max(1);
    if index.rank().max(1) != r {
        bail!(
            Shape,
            "{op}: index of shape {} must have as many dimensions as the input of shape {}",
            index.shape(),
            input.shape()
        );
    }
    let (x, ix) = (at_least_1d(input), at_least_1d(index));
    if let Some(k) = (0..r).find(|&k| k != d && ix.dims()[k] > x.dims()[k]) {
        bail!(
            Shape,
            "{op}: index of shape {} is larger than the input of shape {} in dimension {k} (only dimension {d} may be larger)",
            index.shape(),
            input.shape()
        );
    }
    Ok(())
}

/// An error unless `t` holds integers (u8, i32 or i64).
fn check_index_dtype(op: &str, t: &Tensor) -> Result<()> {
    if !t.dtype().is_int() {
        bail!(
            DType,
            "{op}: index must be an integer tensor, got {} of shape {}",
            t.dtype(),
            t.shape()
        );
    }
    Ok(())
}

fn shapes_of(ts: &[&Tensor]) -> String {
    ts.iter()
        .map(|t| t.shape().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The tensor as at least 1-D (a scalar becomes shape `[1]`), as PyTorch's gather and scatter
/// treat 0-D tensors.
fn at_least_1d(t: &Tensor) -> Tensor {
    if t.rank() == 0 {
        t.reshape(&[1])
    } else {
        t.clone()
    }
}

/// Zeros with `g`'s shape except size `n` in dimension `d`, plus `g` added along `d` at
/// `map[i]` for each entry `i` of `g` there (PyTorch's `index_add` into zeros; repeated
/// targets accumulate). The adjoint of picking entries `map` of a dimension of size `n`.
pub(crate) fn index_add_zeros(g: &Tensor, d: usize, map: &[usize], n: usize) -> Tensor {
    let mut ishape = vec![1usize; g.rank()];
    ishape[d] = map.len();
    let idx = Tensor::from_vec(map.iter().map(|&i| i as i64).collect::<Vec<_>>(), ishape)
        .broadcast_to(g.shape().clone());
    let mut shape = g.shape().clone();
    shape.0[d] = n;
    Tensor::zeros_dtype(shape, g.dtype()).scatter_add(d, &idx, g)
}

/// `t` placed at the start of every dimension of a zero tensor of `shape` (no larger than
/// `shape` anywhere and of the same rank, counting 0-D as 1-D): the gradient of a scatter's
/// `src`, of which only the part the index covers is read.
fn embed_prefix(t: &Tensor, shape: &Shape) -> Tensor {
    if t.shape() == shape {
        return t.clone();
    }
    let t1 = at_least_1d(t);
    let target: Vec<usize> = if shape.rank() == 0 {
        vec![1]
    } else {
        shape.to_vec()
    };
    let pads: Vec<isize> = (0..t1.rank())
        .rev()
        .flat_map(|k| [0, (target[k] - t1.dims()[k]) as isize])
        .collect();
    t1.pad(&pads, PadMode::Constant(0.0))
        .reshape_to(shape.clone())
}

/// The values to write in a scatter.
#[derive(Clone, Copy)]
enum ScatterSrc<'a> {
    Tensor(&'a Tensor),
    Value(f64),
}

impl Tensor {
    /// The tensors joined along an existing dimension `dim` (`torch.cat`). Every tensor must
    /// have the same shape except in `dim`; the dtype is the promotion of all the dtypes. As in
    /// PyTorch, 1-D empty tensors (shape `[0]`) are skipped whatever the other shapes.
    ///
    /// ```
    /// use baeum::{tensor, Tensor};
    /// let a = tensor!([[1., 2.]]);
    /// let b = tensor!([[3., 4.], [5., 6.]]);
    /// assert_eq!(Tensor::cat(&[&a, &b], 0).dims(), &[3, 2]);
    /// ```
    pub fn cat(tensors: &[&Tensor], dim: impl Dim) -> Tensor {
        or_panic(Tensor::try_cat(tensors, dim.to_isize()))
    }

    /// Alias of [`Tensor::cat`] (`torch.concat`).
    pub fn concat(tensors: &[&Tensor], dim: impl Dim) -> Tensor {
        Tensor::cat(tensors, dim)
    }

    /// [`Tensor::cat`] returning an error for an empty list, 0-D tensors, an out-of-range
    /// dimension or mismatched shapes.
    pub fn try_cat(tensors: &[&Tensor], dim: isize) -> Result<Tensor> {
        if tensors.is_empty() {
            bail!(Shape, "cat: expects a non-empty list of tensors");
        }
        let dtype = tensors
            .iter()
            .fold(tensors[0].dtype(), |a, t| DType::promote(a, t.dtype()));
        let parts: Vec<&Tensor> = tensors
            .iter()
            .copied()
            .filter(|t| !(t.rank() == 1 && t.numel() == 0))
            .collect();
        let Some(first) = parts.first() else {
            return Ok(Tensor::zeros_dtype([0], dtype));
        };
        let rank = first.rank();
        if rank == 0 {
            bail!(
                Shape,
                "cat: zero-dimensional tensors cannot be concatenated (shapes {})",
                shapes_of(tensors)
            );
        }
        let d = match resolve_dim(dim, rank) {
            Ok(d) => d,
            Err(_) => bail!(
                Index,
                "cat: dimension {dim} out of range for tensors of rank {rank} (shapes {})",
                shapes_of(tensors)
            ),
        };
        let mut total = 0;
        for t in &parts {
            let mismatch =
                t.rank() != rank || (0..rank).any(|k| k != d && t.dims()[k] != first.dims()[k]);
            if mismatch {
                bail!(
                    Shape,
                    "cat: sizes must match except in dimension {dim}, but got shapes {}",
                    shapes_of(tensors)
                );
            }
            total += t.dims()[d];
        }
        let mut shape = first.shape().clone();
        shape.0[d] = total;
        let out_layout = Layout::contiguous(shape.clone());
        Ok(record_op(
            "cat",
            tensors,
            || {
                with_dtype!(dtype, T => {
                    let mut out = vec![T::default(); shape.numel()];
                    let mut start = 0;
                    for t in &parts {
                        let mut l = out_layout.clone();
                        l.offset = start * l.strides[d];
                        l.shape.0[d] = t.dims()[d];
                        copy_into::<T>(&t.to_dtype(dtype), &mut out, &l);
                        start += t.dims()[d];
                    }
                    Tensor::from_vec(out, shape)
                })
            },
            |_, needs| {
                // Each input's span of dimension d in the output; `None` for a skipped [0].
                let mut start = 0;
                let spans: Vec<Option<(usize, usize)>> = tensors
                    .iter()
                    .zip(needs)
                    .map(|(t, &need)| {
                        if t.rank() == 1 && t.numel() == 0 {
                            return None;
                        }
                        let len = t.dims()[d];
                        start += len;
                        need.then_some((start - len, len))
                    })
                    .collect();
                let needs = needs.to_vec();
                move |g: &Tensor| {
                    spans
                        .iter()
                        .zip(&needs)
                        .map(|(span, &need)| {
                            need.then(|| match span {
                                Some((s, len)) => g.narrow(d, *s, *len),
                                None => Tensor::zeros_dtype([0], g.dtype()),
                            })
                        })
                        .collect()
                }
            },
        ))
    }

    /// The tensors joined along a new dimension `dim` (`torch.stack`); all must have the same
    /// shape. `dim` may be `rank` (or `-1` for a new last dimension).
    pub fn stack(tensors: &[&Tensor], dim: impl Dim) -> Tensor {
        or_panic(Tensor::try_stack(tensors, dim.to_isize()))
    }

    /// [`Tensor::stack`] returning an error for an empty list or unequal shapes.
    pub fn try_stack(tensors: &[&Tensor], dim: isize) -> Result<Tensor> {
        let Some(first) = tensors.first() else {
            bail!(Shape, "stack: expects a non-empty list of tensors");
        };
        for (i, t) in tensors.iter().enumerate() {
            if t.shape() != first.shape() {
                bail!(
                    Shape,
                    "stack: expects tensors of equal shape, but entry 0 has shape {} and entry {i} has shape {}",
                    first.shape(),
                    t.shape()
                );
            }
        }
        let d = dim_for("stack", dim, first.rank() + 1, first.shape())?;
        let parts: Vec<Tensor> = tensors.iter().map(|t| t.unsqueeze(d)).collect();
        let refs: Vec<&Tensor> = parts.iter().collect();
        Tensor::try_cat(&refs, d as isize)
    }

    fn size_for_split(&self, op: &str, dim: impl Dim) -> (usize, usize) {
        assert!(
            self.rank() >= 1,
            "{op}: expects a tensor of at least one dimension, got shape {}",
            self.shape()
        );
        let d = dim.resolve(self.rank(), op);
        (d, self.dims()[d])
    }

    /// Views of `split_size` entries of `dim` each; the last may be smaller (`torch.split`).
    /// A dimension of size 0 gives one empty view.
    pub fn split(&self, split_size: usize, dim: impl Dim) -> Vec<Tensor> {
        let (d, n) = self.size_for_split("split", dim);
        if n == 0 {
            return vec![self.narrow(d, 0, 0)];
        }
        assert!(
            split_size > 0,
            "split: split_size must be positive for dimension {d} of size {n} (shape {})",
            self.shape()
        );
        (0..n.div_ceil(split_size))
            .map(|i| {
                let s = i * split_size;
                self.narrow(d, s, split_size.min(n - s))
            })
            .collect()
    }

    /// Views of the given sizes along `dim`, which must sum to its size
    /// (`torch.split` with a list).
    pub fn split_sizes(&self, sizes: &[usize], dim: impl Dim) -> Vec<Tensor> {
        let (d, n) = self.size_for_split("split_sizes", dim);
        let total: usize = sizes.iter().sum();
        assert_eq!(
            total,
            n,
            "split_sizes: sizes {sizes:?} sum to {total}, but dimension {d} of shape {} has size {n}",
            self.shape()
        );
        let mut start = 0;
        sizes
            .iter()
            .map(|&len| {
                let v = self.narrow(d, start, len);
                start += len;
                v
            })
            .collect()
    }

    /// At most `chunks` views along `dim`, each of `ceil(n / chunks)` entries except perhaps
    /// the last, so there may be fewer than `chunks` (`torch.chunk`). A dimension of size 0
    /// gives `chunks` empty views.
    pub fn chunk(&self, chunks: usize, dim: impl Dim) -> Vec<Tensor> {
        let (d, n) = self.size_for_split("chunk", dim);
        assert!(chunks > 0, "chunk: the number of chunks must be positive");
        if n == 0 {
            return vec![self.narrow(d, 0, 0); chunks];
        }
        self.split(n.div_ceil(chunks), d)
    }

    /// The views `self.select(dim, i)` for every `i`, removing `dim` (`torch.unbind`).
    pub fn unbind(&self, dim: impl Dim) -> Vec<Tensor> {
        let (d, n) = self.size_for_split("unbind", dim);
        (0..n).map(|i| self.select(d, i as isize)).collect()
    }

    /// The entries of dimension `dim` at `indices` (a 1-D integer tensor; negative indices
    /// count from the back), in that order: a copy (`torch.index_select`).
    pub fn index_select(&self, dim: impl Dim, indices: &Tensor) -> Tensor {
        or_panic(self.try_index_select(dim.to_isize(), indices))
    }

    /// [`Tensor::index_select`] returning an error for bad indices.
    pub fn try_index_select(&self, dim: isize, indices: &Tensor) -> Result<Tensor> {
        let d = dim_for("index_select", dim, self.rank(), self.shape())?;
        if indices.rank() > 1 || !indices.dtype().is_int() {
            bail!(
                Index,
                "index_select: indices must be a 0-D or 1-D integer tensor, got {} of shape {}",
                indices.dtype(),
                indices.shape()
            );
        }
        let x = at_least_1d(self);
        let n = x.dims()[d];
        let idx = indices.to_vec::<i64>();
        let mut resolved = Vec::with_capacity(idx.len());
        for &i in &idx {
            if i < -(n as i64) || i >= n as i64 {
                bail!(
                    Index,
                    "index_select: index {i} out of range for dimension {d} of size {n} (shape {})",
                    self.shape()
                );
            }
            resolved.push(if i < 0 { i + n as i64 } else { i } as usize);
        }
        let mut shape = x.shape().clone();
        shape.0[d] = idx.len();
        Ok(record_op(
            "index_select",
            &[self],
            || {
                let mut maps: Vec<Vec<usize>> =
                    x.dims().iter().map(|&s| (0..s).collect()).collect();
                maps[d] = resolved.clone();
                let out = with_dtype!(self.dtype(), T => Tensor::from_vec(
                    crate::kernels::gather::gather_axes::<T>(&x, &maps, T::default()),
                    shape.clone()
                ));
                if self.rank() == 0 && idx.len() == 1 {
                    out.reshape(&[])
                } else {
                    out
                }
            },
            |_, _| {
                let from = self.shape().clone();
                let (shape, resolved) = (shape.clone(), resolved.clone());
                move |g: &Tensor| {
                    let g = g.reshape_to(shape.clone());
                    grads([Some(
                        index_add_zeros(&g, d, &resolved, n).reshape_to(from.clone()),
                    )])
                }
            },
        ))
    }

    /// Values picked along `dim` by `index` (`torch.gather`): `out[i][j][k] =
    /// self[index[i][j][k]][j][k]` for `dim == 0`. `index` is an integer tensor of the same rank,
    /// no larger than `self` in the other dimensions; the output has its shape. Negative
    /// indices are rejected, as in PyTorch.
    ///
    /// ```
    /// use baeum::{tensor, Tensor};
    /// let t = tensor!([[1., 2.], [3., 4.]]);
    /// let i = Tensor::from_vec(vec![0i64, 0, 1, 0], [2, 2]);
    /// assert_eq!(t.gather(1, &i).to_vec::<f32>(), vec![1., 1., 4., 3.]);
    /// ```
    pub fn gather(&self, dim: impl Dim, index: &Tensor) -> Tensor {
        or_panic(self.try_gather(dim.to_isize(), index))
    }

    /// [`Tensor::gather`] returning an error for a bad index tensor.
    pub fn try_gather(&self, dim: isize, index: &Tensor) -> Result<Tensor> {
        let op = "gather";
        check_index_dtype(op, index)?;
        let d = dim_for(op, dim, self.rank(), self.shape())?;
        check_index_shape(op, self, index, d)?;
        let (x, ix) = (at_least_1d(self), at_least_1d(index));
        let n = x.dims()[d];
        let idx = ix.to_vec::<i64>();
        check_indices(op, &idx, n, d, self.shape())?;
        Ok(record_op(
            op,
            &[self],
            || {
                let base = pinned_offsets(x.layout(), ix.shape(), d);
                let stride = x.strides()[d];
                with_dtype!(self.dtype(), T => Tensor::from_vec(
                    gather_offsets::<T>(&x, &base, &idx, stride),
                    index.shape().clone()
                ))
            },
            |_, _| {
                // Each picked value's gradient goes back to where it came from.
                let from = self.shape().clone();
                let index = Saved::new(op, index);
                move |g: &Tensor| {
                    let zeros = Tensor::zeros_dtype(from.clone(), g.dtype());
                    grads([Some(zeros.scatter_add(d, index.get(), g))])
                }
            },
        ))
    }

    /// A copy of `self` with the values of `src` written at the positions `index` selects
    /// along `dim` (`torch.Tensor.scatter`): for `dim == 0`, `out[index[i][j]][j] = src[i][j]`.
    /// `index` has the rank of `self`, is no larger than `src` in any dimension and no larger
    /// than `self` outside `dim`. Where indices repeat, the last write in row-major order wins.
    /// `src` is converted to `self`'s dtype.
    pub fn scatter(&self, dim: impl Dim, index: &Tensor, src: &Tensor) -> Tensor {
        or_panic(self.try_scatter(dim.to_isize(), index, src))
    }

    /// [`Tensor::scatter`] returning an error for bad shapes or indices.
    pub fn try_scatter(&self, dim: isize, index: &Tensor, src: &Tensor) -> Result<Tensor> {
        self.scatter_impl("scatter", dim, index, ScatterSrc::Tensor(src), false)
    }

    /// [`Tensor::scatter`] adding the values instead (repeated indices accumulate):
    /// `torch.Tensor.scatter_add`. Not for bool tensors.
    pub fn scatter_add(&self, dim: impl Dim, index: &Tensor, src: &Tensor) -> Tensor {
        or_panic(self.try_scatter_add(dim.to_isize(), index, src))
    }

    /// [`Tensor::scatter_add`] returning an error for bad shapes, indices or a bool tensor.
    pub fn try_scatter_add(&self, dim: isize, index: &Tensor, src: &Tensor) -> Result<Tensor> {
        self.scatter_impl("scatter_add", dim, index, ScatterSrc::Tensor(src), true)
    }

    /// [`Tensor::scatter`] writing one `value` (converted to `self`'s dtype) everywhere
    /// `index` points (`scatter(dim, index, value)` in PyTorch).
    pub fn scatter_value(&self, dim: impl Dim, index: &Tensor, value: f64) -> Tensor {
        or_panic(self.try_scatter_value(dim.to_isize(), index, value))
    }

    /// [`Tensor::scatter_value`] returning an error for bad shapes or indices.
    pub fn try_scatter_value(&self, dim: isize, index: &Tensor, value: f64) -> Result<Tensor> {
        self.scatter_impl("scatter_value", dim, index, ScatterSrc::Value(value), false)
    }

    fn scatter_impl(
        &self,
        op: &'static str,
        dim: isize,
        index: &Tensor,
        src: ScatterSrc,
        add: bool,
    ) -> Result<Tensor> {
        check_index_dtype(op, index)?;
        let dtype = self.dtype();
        if add && dtype == DType::Bool {
            bail!(
                DType,
                "{op}: not supported for bool tensors (cast to a number type first)"
            );
        }
        let r = self.rank().max(1);
        let d = dim_for(op, dim, self.rank(), self.shape())?;
        check_index_shape(op, self, index, d)?;
        if let ScatterSrc::Tensor(s) = src {
            if s.rank().max(1) != r {
                bail!(
                    Shape,
                    "{op}: src of shape {} must have as many dimensions as the input of shape {}",
                    s.shape(),
                    self.shape()
                );
            }
            let s1 = at_least_1d(s);
            let ix1 = at_least_1d(index);
            if let Some(k) = (0..r).find(|&k| ix1.dims()[k] > s1.dims()[k]) {
                bail!(
                    Shape,
                    "{op}: index of shape {} is larger than src of shape {} in dimension {k}",
                    index.shape(),
                    s.shape()
                );
            }
        }
        let (x, ix) = (at_least_1d(self), at_least_1d(index));
        let n = x.dims()[d];
        let idx = ix.to_vec::<i64>();
        check_indices(op, &idx, n, d, self.shape())?;
        let forward = || {
            let out_layout = Layout::contiguous(x.shape().clone());
            let base = pinned_offsets(&out_layout, ix.shape(), d);
            let stride = out_layout.strides[d];
            // The source values at the index positions, in row-major order of the index.
            let values = match src {
                ScatterSrc::Tensor(s) => {
                    let mut s1 = at_least_1d(s).to_dtype(dtype);
                    for k in 0..r {
                        s1 = s1.narrow(k, 0, ix.dims()[k]);
                    }
                    s1
                }
                ScatterSrc::Value(v) => Tensor::full(ix.shape().clone(), v, dtype),
            };
            if add {
                numeric_or_panic!(dtype, op, T => {
                    let mut out = x.to_vec::<T>();
                    scatter_offsets(&mut out, &base, &idx, stride, &values.to_vec::<T>(), |a: T, b: T| a.add(b));
                    Tensor::from_vec(out, self.shape().clone())
                })
            } else {
                with_dtype!(dtype, T => {
                    let mut out = x.to_vec::<T>();
                    scatter_offsets(&mut out, &base, &idx, stride, &values.to_vec::<T>(), |_, b: T| b);
                    Tensor::from_vec(out, self.shape().clone())
                })
            }
        };
        let src = match src {
            ScatterSrc::Tensor(s) => Some(s),
            ScatterSrc::Value(_) => None,
        };
        let both;
        let inputs: &[&Tensor] = match src {
            Some(s) => {
                both = [self, s];
                &both
            }
            None => std::slice::from_ref(&self),
        };
        Ok(record_op(op, inputs, forward, |_, needs| {
            let index = Saved::new(op, index);
            let need_src = needs.get(1) == Some(&true);
            let src_shape = src.map(|s| s.shape().clone());
            // Where indices repeat, only the last write of scatter lands: the overwritten
            // src entries get no gradient. Found by scattering each entry's own number and
            // reading back which number survived.
            let won = (need_src && !add).then(|| {
                let ids = Tensor::from_vec(
                    (0..ix.numel() as i64).collect::<Vec<_>>(),
                    ix.shape().clone(),
                );
                let written =
                    Tensor::full(x.shape().clone(), -1.0, DType::I64).scatter(d, &ix, &ids);
                written
                    .gather(d, &ix)
                    .eq(&ids)
                    .reshape_to(index.get().shape().clone())
            });
            let need_self = needs[0];
            move |g: &Tensor| {
                let index = index.get();
                let to_self = need_self.then(|| {
                    if add {
                        g.clone()
                    } else {
                        // Overwritten positions do not depend on self.
                        g.scatter_value(d, index, 0.0)
                    }
                });
                let to_src = src_shape.as_ref().and_then(|shape| {
                    need_src.then(|| {
                        let picked = g.gather(d, index);
                        let picked = match &won {
                            Some(w) => picked * w.to_dtype(g.dtype()),
                            None => picked,
                        };
                        embed_prefix(&picked, shape)
                    })
                });
                match src_shape {
                    Some(_) => grads([to_self, to_src]),
                    None => grads([to_self]),
                }
            }
        }))
    }

    /// One-hot encoding of an integer tensor of class indices: i64 with a new last dimension
    /// of `num_classes` (`None`: the largest index + 1), as `torch.nn.functional.one_hot`.
    /// Panics on negative indices or indices ≥ `num_classes`.
    pub fn one_hot(&self, num_classes: Option<usize>) -> Tensor {
        or_panic(self.try_one_hot(num_classes))
    }

    /// [`Tensor::one_hot`] returning an error for bad indices.
    pub fn try_one_hot(&self, num_classes: Option<usize>) -> Result<Tensor> {
        if !self.dtype().is_int() {
            bail!(
                DType,
                "one_hot: expects an integer tensor of class indices, got {} of shape {}",
                self.dtype(),
                self.shape()
            );
        }
        let v = self.to_vec::<i64>();
        if let Some(&m) = v.iter().find(|&&x| x < 0) {
            bail!(
                Index,
                "one_hot: class index {m} is negative (shape {})",
                self.shape()
            );
        }
        let c = match num_classes {
            Some(c) => c,
            None => match v.iter().max() {
                Some(&m) => m as usize + 1,
                None => bail!(
                    Shape,
                    "one_hot: cannot infer the number of classes from an empty tensor of shape {}; pass num_classes",
                    self.shape()
                ),
            },
        };
        if let Some(&m) = v.iter().find(|&&x| x as u64 >= c as u64) {
            bail!(
                Index,
                "one_hot: class index {m} out of range for {c} classes (shape {})",
                self.shape()
            );
        }
        let mut out = vec![0i64; v.len() * c];
        for (i, &x) in v.iter().enumerate() {
            out[i * c + x as usize] = 1;
        }
        let mut shape = self.shape().clone();
        shape.0.push(c);
        Ok(Tensor::from_vec(out, shape))
    }

    /// The elements where the bool `mask` (broadcast with `self`) is true, as a 1-D tensor in
    /// row-major order (`torch.masked_select`).
    pub fn masked_select(&self, mask: &Tensor) -> Tensor {
        or_panic(self.try_masked_select(mask))
    }

    /// [`Tensor::masked_select`] returning an error for a non-bool mask or unbroadcastable
    /// shapes.
    pub fn try_masked_select(&self, mask: &Tensor) -> Result<Tensor> {
        if mask.dtype() != DType::Bool {
            bail!(
                DType,
                "masked_select: mask must be a bool tensor, got {} of shape {}",
                mask.dtype(),
                mask.shape()
            );
        }
        let shape = super::try_broadcast("masked_select", self, mask)?;
        let m = mask.broadcast_to(shape.clone()).to_vec::<bool>();
        Ok(record_op(
            "masked_select",
            &[self],
            || {
                with_dtype!(self.dtype(), T => {
                    let x = self.broadcast_to(shape.clone()).to_vec::<T>();
                    let v: Vec<T> = x.into_iter().zip(&m).filter(|(_, b)| **b).map(|(a, _)| a).collect();
                    let n = v.len();
                    Tensor::from_vec(v, [n])
                })
            },
            |_, _| {
                // The selected values go back to their positions in the broadcast shape, and
                // broadcasting is undone by summing.
                let positions: Vec<usize> = (0..m.len()).filter(|&i| m[i]).collect();
                let from = self.shape().clone();
                let shape = shape.clone();
                move |g: &Tensor| {
                    let flat = index_add_zeros(g, 0, &positions, shape.numel());
                    grads([Some(
                        flat.reshape_to(shape.clone()).sum_to_size(from.clone()),
                    )])
                }
            },
        ))
    }

    /// The multi-indices of the non-zero elements (NaN counts as non-zero), in row-major order,
    /// as an i64 tensor of shape `[count, rank]` (`torch.nonzero`).
    pub fn nonzero(&self) -> Tensor {
        let r = self.rank();
        let strides = self.shape().contiguous_strides();
        let flags: Vec<bool> = with_dtype!(self.dtype(), T => {
            self.to_vec::<T>().into_iter().map(|v| v != T::zero()).collect()
        });
        let mut out = Vec::new();
        let mut count = 0;
        for (p, _) in flags.iter().enumerate().filter(|(_, f)| **f) {
            let mut rem = p;
            for &s in strides.iter() {
                out.push((rem / s) as i64);
                rem %= s;
            }
            count += 1;
        }
        Tensor::from_vec(out, [count, r])
    }

    /// The elements at `indices` of the tensor read as 1-D in row-major order, with the shape
    /// of `indices` (`torch.take`); negative indices count from the back.
    pub fn take(&self, indices: &Tensor) -> Tensor {
        or_panic(self.try_take(indices))
    }

    /// [`Tensor::take`] returning an error for out-of-range indices.
    pub fn try_take(&self, indices: &Tensor) -> Result<Tensor> {
        check_index_dtype("take", indices)?;
        let n = self.numel() as i64;
        let idx = indices.to_vec::<i64>();
        if let Some(&i) = idx.iter().find(|&&i| i < -n || i >= n) {
            bail!(
                Index,
                "take: index {i} out of range for a tensor of shape {} ({n} elements)",
                self.shape()
            );
        }
        let resolved: Vec<usize> = idx
            .iter()
            .map(|&i| if i < 0 { i + n } else { i } as usize)
            .collect();
        Ok(record_op(
            "take",
            &[self],
            || {
                with_dtype!(self.dtype(), T => {
                    let flat = self.to_vec::<T>();
                    let v: Vec<T> = resolved.iter().map(|&i| flat[i]).collect();
                    Tensor::from_vec(v, indices.shape().clone())
                })
            },
            |_, _| {
                let from = self.shape().clone();
                let resolved = resolved.clone();
                move |g: &Tensor| {
                    let flat = index_add_zeros(&g.reshape(&[-1]), 0, &resolved, n as usize);
                    grads([Some(flat.reshape_to(from.clone()))])
                }
            },
        ))
    }
}

/// An error unless every index is in `0..n`.
fn check_indices(op: &str, idx: &[i64], n: usize, d: usize, shape: &Shape) -> Result<()> {
    if let Some(&i) = idx.iter().find(|&&i| i < 0 || i >= n as i64) {
        bail!(
            Index,
            "{op}: index {i} out of range for dimension {d} of size {n} (input shape {shape}){}",
            if i < 0 {
                "; negative indices are not allowed"
            } else {
                ""
            }
        );
    }
    Ok(())
}
