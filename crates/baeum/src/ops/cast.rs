//! Changing a tensor's dtype.

use crate::autograd::{grads, record_op};
use crate::kernels::cast::cast;
use crate::tensor::{DType, Tensor};

impl Tensor {
    /// This tensor converted to `dtype` (itself when it already has it), as PyTorch's
    /// `.to(dtype)`: floats truncate toward zero into integers, non-zero becomes `true`.
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        if self.dtype() == dtype {
            return self.clone();
        }
        // Between float dtypes the gradient is cast back (backward does that for every
        // input); into an integer dtype the result carries no gradient.
        record_op(
            "to_dtype",
            &[self],
            || cast(self, dtype),
            |_, _| |g: &Tensor| grads([Some(g.clone())]),
        )
    }

    /// Alias of [`Tensor::to_dtype`].
    pub fn cast(&self, dtype: DType) -> Tensor {
        self.to_dtype(dtype)
    }

    pub fn to_f32(&self) -> Tensor {
        self.to_dtype(DType::F32)
    }

    pub fn to_f64(&self) -> Tensor {
        self.to_dtype(DType::F64)
    }

    pub fn to_i64(&self) -> Tensor {
        self.to_dtype(DType::I64)
    }

    pub fn to_bool(&self) -> Tensor {
        self.to_dtype(DType::Bool)
    }

    /// Float tensors unchanged; others as f32 (what float-only math ops compute in).
    pub(crate) fn float_input(&self) -> Tensor {
        if self.dtype().is_float() {
            self.clone()
        } else {
            self.to_dtype(DType::F32)
        }
    }
}
