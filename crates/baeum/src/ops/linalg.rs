//! Linear algebra: `matmul` with `torch.matmul` semantics, and the course's matrix operations.

use super::or_panic;
use crate::error::{Result, bail};
use crate::kernels::matmul::{MatmulPlan, matmul_float, matmul_int};
use crate::tensor::{DType, Element, Shape, Tensor, broadcast_shapes};
use crate::{numeric_or_panic, with_float_dtype};

impl Tensor {
    /// The matrix product with `torch.matmul` semantics: 1-D operands are promoted to a row
    /// (left) or column (right) and the added dimension removed afterwards; batch dimensions
    /// broadcast. Panics naming both shapes when the inner dimensions differ:
    /// `matmul: cannot multiply [7, 3] by [5, 3]: inner dimensions 3 and 5 differ`.
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        or_panic(self.try_matmul(other))
    }

    /// [`Tensor::matmul`] returning an error instead of panicking.
    pub fn try_matmul(&self, other: &Tensor) -> Result<Tensor> {
        let (ra, rb) = (self.rank(), other.rank());
        if ra == 0 || rb == 0 {
            bail!(
                Shape,
                "matmul: both operands need at least one dimension, got shapes {} and {}",
                self.shape(),
                other.shape()
            );
        }
        let a = if ra == 1 { self.unsqueeze(0) } else { self.clone() };
        let b = if rb == 1 { other.unsqueeze(1) } else { other.clone() };
        let (m, k) = (a.dims()[a.rank() - 2], a.dims()[a.rank() - 1]);
        let (k2, n) = (b.dims()[b.rank() - 2], b.dims()[b.rank() - 1]);
        if k != k2 {
            bail!(
                Shape,
                "matmul: cannot multiply {} by {}: inner dimensions {k} and {k2} differ",
                self.shape(),
                other.shape()
            );
        }
        let ba = &a.dims()[..a.rank() - 2];
        let bb = &b.dims()[..b.rank() - 2];
        let batch = match broadcast_shapes(ba, bb) {
            Some(s) => s,
            None => bail!(
                Shape,
                "matmul: batch dimensions of {} and {} cannot be broadcast together",
                self.shape(),
                other.shape()
            ),
        };
        let dtype = DType::promote(a.dtype(), b.dtype());
        let (a, b) = (a.to_dtype(dtype), b.to_dtype(dtype));
        let mut sa = batch.0.clone();
        sa.extend([m, k]);
        let mut sb = batch.0.clone();
        sb.extend([k, n]);
        let la = a.layout().broadcast_to(&Shape(sa));
        let lb = b.layout().broadcast_to(&Shape(sb));
        let plan = MatmulPlan::new(&la, &lb);
        let mut out_shape = batch.0.clone();
        out_shape.extend([m, n]);
        let numel = plan.batch() * m * n;
        let out = numeric_or_panic!(dtype, "matmul", T => {
            let mut out = vec![T::zero(); numel];
            a.with_slice::<T, _>(|da, _| b.with_slice::<T, _>(|db, _| {
                with_float_dtype!(dtype, F => {
                    // SAFETY-free reinterpretation: T and F are the same type in this arm.
                    let (da, db): (&[F], &[F]) = (cast_slice(da), cast_slice(db));
                    matmul_float::<F>(da, db, &plan, cast_slice_mut(&mut out));
                }, matmul_int::<T>(da, db, &plan, &mut out))
            }));
            Tensor::from_vec(out, Shape(out_shape))
        });
        // Remove the dimensions that 1-D operands gained.
        Ok(match (ra, rb) {
            (1, 1) => out.reshape(&[]),
            (1, _) => out.squeeze_dim(-2),
            (_, 1) => out.squeeze_dim(-1),
            _ => out,
        })
    }
}

/// Views a slice of `T` as `U` where the two are the same type (checked at run time).
fn cast_slice<T: 'static, U: 'static>(s: &[T]) -> &[U] {
    assert_eq!(std::any::TypeId::of::<T>(), std::any::TypeId::of::<U>());
    // SAFETY: T and U are the same type.
    unsafe { std::slice::from_raw_parts(s.as_ptr() as *const U, s.len()) }
}

fn cast_slice_mut<T: 'static, U: 'static>(s: &mut [T]) -> &mut [U] {
    assert_eq!(std::any::TypeId::of::<T>(), std::any::TypeId::of::<U>());
    // SAFETY: T and U are the same type.
    unsafe { std::slice::from_raw_parts_mut(s.as_mut_ptr() as *mut U, s.len()) }
}
