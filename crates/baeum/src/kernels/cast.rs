//! Conversion between dtypes.

use super::map::map;
use crate::tensor::{DType, Element, Tensor};
use crate::with_dtype;

/// Converts one value as PyTorch's `.to(dtype)` does: floats truncate toward zero into
/// integers, anything non-zero (NaN included) is `true`, and integer-to-integer conversions go
/// through i64 so large values stay exact.
#[inline(always)]
pub fn convert<T: Element, U: Element>(v: T) -> U {
    if T::DTYPE.is_float() || U::DTYPE.is_float() {
        U::from_f64(v.to_f64())
    } else {
        U::from_i64(v.to_i64())
    }
}

/// `x` as a new contiguous tensor of `dtype`.
pub fn cast(x: &Tensor, dtype: DType) -> Tensor {
    with_dtype!(x.dtype(), T => with_dtype!(dtype, U => map::<T, U>(x, convert::<T, U>)))
}
