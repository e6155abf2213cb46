//! Joining, splitting and indexing: concat, stack, split, chunk, index_select, gather, scatter,
//! scatter_add, one_hot.

use super::or_panic;
use crate::error::{Result, bail};
use crate::tensor::{DType, Dim, Tensor};
use crate::with_dtype;

impl Tensor {
    /// The entries of dimension `dim` at `indices` (a 1-D integer tensor; negative indices
    /// count from the back), in that order: a copy (`torch.index_select`).
    pub fn index_select(&self, dim: impl Dim, indices: &Tensor) -> Tensor {
        or_panic(self.try_index_select(dim.to_isize(), indices))
    }

    /// [`Tensor::index_select`] returning an error for bad indices.
    pub fn try_index_select(&self, dim: isize, indices: &Tensor) -> Result<Tensor> {
        let d = crate::tensor::resolve_dim(dim, self.rank())?;
        if indices.rank() > 1 || indices.dtype().is_float() || indices.dtype() == DType::Bool {
            bail!(
                Index,
                "index_select: indices must be a 0-D or 1-D integer tensor, got {} of shape {}",
                indices.dtype(),
                indices.shape()
            );
        }
        let n = if self.rank() == 0 { 1 } else { self.dims()[d] };
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
        if self.rank() == 0 {
            return Ok(self
                .reshape(&[1])
                .expand(&[resolved.len() as isize])
                .contiguous()
                .reshape(&[]));
        }
        // Move `dim` to the front, gather whole slices, then move it back.
        let src = self.transpose(0, d as isize);
        let inner: usize = src.dims()[1..].iter().product();
        let out = with_dtype!(self.dtype(), T => {
            let data = src.contiguous().to_vec::<T>();
            let mut out: Vec<T> = Vec::with_capacity(resolved.len() * inner);
            for &i in &resolved {
                out.extend_from_slice(&data[i * inner..(i + 1) * inner]);
            }
            let mut shape = src.dims().to_vec();
            shape[0] = resolved.len();
            Tensor::from_vec(out, shape)
        });
        Ok(out.transpose(0, d as isize).contiguous())
    }
}
