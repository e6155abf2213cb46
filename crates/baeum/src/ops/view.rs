//! Views: operations that return a tensor sharing this one's storage with a new layout
//! (reshape of contiguous data, permute, transpose, squeeze, expand, narrow, slice, select).
//!
//! Each records its backward rule: a view's gradient is the upstream gradient put back in the
//! input's layout (permuted back, reshaped back, or embedded in zeros for the picked parts).

use super::or_panic;
use crate::autograd::{grads, record_op};
use crate::error::{Result, bail};
use crate::ops::transform::PadMode;
use crate::tensor::{Dim, Dims, Layout, Shape, Tensor, resolve_dim};

impl Tensor {
    /// The tensor with a new shape holding the same elements in row-major order. One dimension
    /// may be `-1` (inferred). A view when the data is contiguous, a copy otherwise
    /// (PyTorch's `reshape`).
    pub fn reshape(&self, shape: &[isize]) -> Tensor {
        or_panic(self.try_reshape(shape))
    }

    /// [`Tensor::reshape`] returning an error for a shape that does not fit.
    pub fn try_reshape(&self, shape: &[isize]) -> Result<Tensor> {
        let target = infer_shape("reshape", self.shape(), shape)?;
        Ok(record_op(
            "reshape",
            &[self],
            || {
                if self.is_contiguous() {
                    return self.view_with(Layout {
                        strides: target.contiguous_strides(),
                        shape: target,
                        offset: self.layout().offset,
                    });
                }
                let c = self.contiguous();
                c.view_with(Layout::contiguous(target))
            },
            |_, _| {
                let from = self.shape().clone();
                move |g| grads([Some(g.reshape_to(from.clone()))])
            },
        ))
    }

    /// [`Tensor::reshape`] with a shape of sizes.
    pub fn reshape_to(&self, shape: impl Into<Shape>) -> Tensor {
        let s: Vec<isize> = shape.into().iter().map(|&d| d as isize).collect();
        self.reshape(&s)
    }

    /// A view with a new shape; panics if the data is not contiguous (PyTorch's `view`).
    pub fn view(&self, shape: &[isize]) -> Tensor {
        assert!(
            self.is_contiguous(),
            "view: tensor of shape {} with strides {:?} is not contiguous; use reshape or contiguous() first",
            self.shape(),
            self.strides()
        );
        self.reshape(shape)
    }

    /// Dimensions `start..=end` merged into one (`flatten(0, -1)` gives 1-D).
    pub fn flatten(&self, start: impl Dim, end: impl Dim) -> Tensor {
        if self.rank() == 0 {
            return self.reshape(&[1]);
        }
        let s = start.resolve(self.rank(), "flatten");
        let e = end.resolve(self.rank(), "flatten");
        assert!(
            s <= e,
            "flatten: start dimension {s} is after end dimension {e}"
        );
        let d = self.dims();
        let mut shape: Vec<isize> = d[..s].iter().map(|&x| x as isize).collect();
        shape.push(d[s..=e].iter().product::<usize>() as isize);
        shape.extend(d[e + 1..].iter().map(|&x| x as isize));
        self.reshape(&shape)
    }

    /// Dimensions reordered: output dimension i is input dimension `dims[i]`.
    pub fn permute(&self, dims: &[isize]) -> Tensor {
        let r = self.rank();
        assert_eq!(
            dims.len(),
            r,
            "permute: {} dimensions given for a tensor of shape {}",
            dims.len(),
            self.shape()
        );
        let resolved: Vec<usize> = dims.iter().map(|&d| d.resolve(r, "permute")).collect();
        let mut seen = vec![false; r];
        for &d in &resolved {
            assert!(!seen[d], "permute: dimension {d} repeated in {dims:?}");
            seen[d] = true;
        }
        record_op(
            "permute",
            &[self],
            || self.view_with(self.layout().permute(&resolved)),
            |_, _| {
                // Output dimension i is input dimension resolved[i]: permute back.
                let mut inverse = vec![0isize; r];
                for (i, &d) in resolved.iter().enumerate() {
                    inverse[d] = i as isize;
                }
                move |g: &Tensor| grads([Some(g.permute(&inverse))])
            },
        )
    }

    /// Two dimensions swapped.
    pub fn transpose(&self, dim0: impl Dim, dim1: impl Dim) -> Tensor {
        let r = self.rank();
        if r == 0 {
            return self.clone();
        }
        let (a, b) = (dim0.resolve(r, "transpose"), dim1.resolve(r, "transpose"));
        let mut order: Vec<usize> = (0..r).collect();
        order.swap(a, b);
        record_op(
            "transpose",
            &[self],
            || self.view_with(self.layout().permute(&order)),
            |_, _| move |g: &Tensor| grads([Some(g.transpose(a, b))]),
        )
    }

    /// The transpose of a matrix (tensors of rank ≤ 1 are returned as they are).
    pub fn t(&self) -> Tensor {
        assert!(
            self.rank() <= 2,
            "t: expects a tensor of rank at most 2, got shape {}",
            self.shape()
        );
        if self.rank() < 2 {
            self.clone()
        } else {
            self.transpose(0, 1)
        }
    }

    /// Alias of [`Tensor::t`] for matrices, as `.T` in NumPy.
    pub fn mt(&self) -> Tensor {
        self.transpose(-2, -1)
    }

    /// Size-1 dimensions removed.
    pub fn squeeze(&self) -> Tensor {
        let keep: Vec<usize> = (0..self.rank()).filter(|&d| self.dims()[d] != 1).collect();
        self.keep_dims(&keep)
    }

    /// Dimension `dim` removed if its size is 1 (unchanged otherwise, as in PyTorch).
    pub fn squeeze_dim(&self, dim: impl Dim) -> Tensor {
        let d = dim.resolve(self.rank(), "squeeze");
        if self.rank() == 0 || self.dims()[d] != 1 {
            return self.clone();
        }
        let keep: Vec<usize> = (0..self.rank()).filter(|&i| i != d).collect();
        self.keep_dims(&keep)
    }

    /// The view keeping only dimensions `keep` (the others have size 1).
    fn keep_dims(&self, keep: &[usize]) -> Tensor {
        let l = self.layout();
        record_op(
            "squeeze",
            &[self],
            || {
                self.view_with(Layout {
                    shape: Shape(keep.iter().map(|&d| l.shape[d]).collect()),
                    strides: keep.iter().map(|&d| l.strides[d]).collect(),
                    offset: l.offset,
                })
            },
            |_, _| {
                let from = self.shape().clone();
                move |g: &Tensor| grads([Some(g.reshape_to(from.clone()))])
            },
        )
    }

    /// A size-1 dimension inserted at `dim` (which may be `rank`, or negative from the end).
    pub fn unsqueeze(&self, dim: impl Dim) -> Tensor {
        let r = self.rank() + 1;
        let d = dim.resolve(r, "unsqueeze");
        let l = self.layout();
        let mut shape = l.shape.0.clone();
        let mut strides = l.strides.clone();
        let stride = if d < self.rank() {
            l.strides[d] * l.shape[d]
        } else {
            1
        };
        shape.insert(d, 1);
        strides.insert(d, stride);
        record_op(
            "unsqueeze",
            &[self],
            || {
                self.view_with(Layout {
                    shape: Shape(shape),
                    strides,
                    offset: l.offset,
                })
            },
            |_, _| move |g: &Tensor| grads([Some(g.squeeze_dim(d))]),
        )
    }

    /// A broadcast view of `shape`: size-1 dimensions repeat without copying; `-1` keeps a size.
    pub fn expand(&self, shape: &[isize]) -> Tensor {
        let extra = shape.len().checked_sub(self.rank()).unwrap_or_else(|| {
            panic!(
                "expand: cannot expand shape {} to fewer dimensions {shape:?}",
                self.shape()
            )
        });
        let target: Dims = shape
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                if s == -1 {
                    assert!(
                        i >= extra,
                        "expand: -1 is not allowed for a new leading dimension"
                    );
                    self.dims()[i - extra]
                } else {
                    s as usize
                }
            })
            .collect();
        self.broadcast_to(Shape(target))
    }

    /// A broadcast view of `shape` under NumPy rules.
    pub fn broadcast_to(&self, shape: impl Into<Shape>) -> Tensor {
        let shape = shape.into();
        match crate::tensor::broadcast_shapes(self.dims(), &shape) {
            Some(s) if s == shape => record_op(
                "expand",
                &[self],
                || self.view_with(self.layout().broadcast_to(&shape)),
                |_, _| {
                    let from = self.shape().clone();
                    move |g| grads([Some(g.sum_to_size(from.clone()))])
                },
            ),
            _ => panic!(
                "expand: shape {} cannot be broadcast to {}",
                self.shape(),
                shape
            ),
        }
    }

    /// A broadcast view with `other`'s shape.
    pub fn expand_as(&self, other: &Tensor) -> Tensor {
        self.broadcast_to(other.shape().clone())
    }

    /// `length` elements of dimension `dim` starting at `start`: a view.
    pub fn narrow(&self, dim: impl Dim, start: usize, length: usize) -> Tensor {
        or_panic(self.try_narrow(dim.to_isize(), start, length))
    }

    pub fn try_narrow(&self, dim: isize, start: usize, length: usize) -> Result<Tensor> {
        let d = resolve_dim(dim, self.rank())?;
        let n = self.dims()[d];
        if start + length > n {
            bail!(
                Index,
                "narrow: elements {start}..{} out of range for dimension {d} of size {n} (shape {})",
                start + length,
                self.shape()
            );
        }
        let mut l = self.layout().clone();
        l.offset += start * l.strides[d];
        l.shape.0[d] = length;
        Ok(record_op(
            "narrow",
            &[self],
            || self.view_with(l),
            |_, _| move |g: &Tensor| grads([Some(embed(g, d, n, start, 1))]),
        ))
    }

    /// Python's `x[start:end:step]` along `dim` (negative `start`/`end` count from the back,
    /// both clamp to the size; `step` ≥ 1): a view.
    pub fn slice(&self, dim: impl Dim, start: isize, end: isize, step: usize) -> Tensor {
        assert!(step >= 1, "slice: step must be positive, got {step}");
        let d = dim.resolve(self.rank(), "slice");
        let n = self.dims()[d] as isize;
        let clampi = |i: isize| if i < 0 { (i + n).max(0) } else { i.min(n) };
        let (s, e) = (clampi(start), clampi(end));
        let len = if e > s {
            ((e - s) as usize).div_ceil(step)
        } else {
            0
        };
        let mut l = self.layout().clone();
        if len > 0 {
            l.offset += s as usize * l.strides[d];
        }
        l.shape.0[d] = len;
        l.strides[d] *= step;
        record_op(
            "slice",
            &[self],
            || self.view_with(l),
            |_, _| {
                let (n, s) = (n as usize, s as usize);
                move |g: &Tensor| grads([Some(embed(g, d, n, s, step))])
            },
        )
    }

    /// Index `index` of dimension `dim`, removing that dimension: a view (`x[:, i]`).
    /// Negative indices count from the back.
    pub fn select(&self, dim: impl Dim, index: isize) -> Tensor {
        let d = dim.resolve(self.rank(), "select");
        let n = self.dims()[d] as isize;
        assert!(
            index >= -n && index < n,
            "select: index {index} out of range for dimension {d} of size {n} (shape {})",
            self.shape()
        );
        let i = if index < 0 { index + n } else { index } as usize;
        let mut l = self.layout().clone();
        l.offset += i * l.strides[d];
        l.shape.0.remove(d);
        l.strides.remove(d);
        record_op(
            "select",
            &[self],
            || self.view_with(l),
            |_, _| {
                let n = n as usize;
                move |g: &Tensor| grads([Some(embed(&g.unsqueeze(d), d, n, i, 1))])
            },
        )
    }
}

/// The adjoint of taking entries `start, start + step, ...` of dimension `d` (size `n`): `g`
/// placed at those entries of a zero tensor. Built from differentiable zero-padding and
/// reshapes, so it can itself be differentiated (its own adjoint is the slice again).
fn embed(g: &Tensor, d: usize, n: usize, start: usize, step: usize) -> Tensor {
    let len = g.dims()[d];
    let pair_at = |g: &Tensor, d: usize, before: isize, after: isize| {
        // pad lists (before, after) pairs from the last dimension backwards.
        let mut pads = vec![0isize; 2 * (g.rank() - d)];
        let k = 2 * (g.rank() - 1 - d);
        pads[k] = before;
        pads[k + 1] = after;
        g.pad(&pads, PadMode::Constant(0.0))
    };
    let spread = if step > 1 {
        // [.., len, ..] → [.., len, step, ..] with zeros after each entry → [.., len·step, ..].
        let wide = pair_at(&g.unsqueeze(d + 1), d + 1, 0, step as isize - 1);
        let mut shape: Vec<isize> = g.dims().iter().map(|&x| x as isize).collect();
        shape[d] = (len * step) as isize;
        wide.reshape(&shape)
    } else {
        g.clone()
    };
    let have = spread.dims()[d];
    // The trailing zeros of the last stride may run past the end: a negative pad crops them.
    pair_at(
        &spread,
        d,
        start as isize,
        n as isize - start as isize - have as isize,
    )
}

/// Resolves a requested shape with at most one `-1` against `from`'s element count.
fn infer_shape(op: &str, from: &Shape, shape: &[isize]) -> Result<Shape> {
    let n = from.numel();
    let mut known = 1usize;
    let mut infer = None;
    for (i, &s) in shape.iter().enumerate() {
        if s == -1 {
            if infer.is_some() {
                bail!(Shape, "{op}: only one dimension can be -1, got {shape:?}");
            }
            infer = Some(i);
        } else if s < 0 {
            bail!(Shape, "{op}: invalid size {s} in {shape:?}");
        } else {
            known *= s as usize;
        }
    }
    let mut dims: Dims = shape.iter().map(|&s| s.max(0) as usize).collect();
    if let Some(i) = infer {
        if known == 0 || !n.is_multiple_of(known) {
            bail!(
                Shape,
                "{op}: cannot view shape {from} ({n} elements) as {shape:?}"
            );
        }
        dims[i] = n / known;
    } else if known != n {
        bail!(
            Shape,
            "{op}: cannot view shape {from} ({n} elements) as {shape:?} ({known} elements)"
        );
    }
    Ok(Shape(dims))
}

#[cfg(test)]
mod tests {
    use crate::tensor;

    #[test]
    fn views_share_storage_and_index_like_pytorch() {
        let a = tensor!([[1., 2., 3.], [4., 5., 6.]]);
        let t = a.t();
        assert!(t.shares_storage(&a));
        assert_eq!(t.to_vec::<f32>(), vec![1., 4., 2., 5., 3., 6.]);
        assert_eq!(a.select(1, -1).to_vec::<f32>(), vec![3., 6.]);
        assert_eq!(a.slice(1, 0, 3, 2).to_vec::<f32>(), vec![1., 3., 4., 6.]);
        assert_eq!(a.narrow(0, 1, 1).dims(), &[1, 3]);
        assert_eq!(a.unsqueeze(-1).dims(), &[2, 3, 1]);
        assert_eq!(a.unsqueeze(0).squeeze().dims(), &[2, 3]);
        assert_eq!(a.reshape(&[-1]).dims(), &[6]);
        assert_eq!(
            t.reshape(&[3, 2]).to_vec::<f32>(),
            vec![1., 4., 2., 5., 3., 6.]
        );
        assert_eq!(a.flatten(0, -1).dims(), &[6]);
        let e = tensor!([[1.], [2.]]).expand(&[2, 3]);
        assert_eq!(e.to_vec::<f32>(), vec![1., 1., 1., 2., 2., 2.]);
        assert!(a.try_reshape(&[4, 2]).is_err());
    }
}
