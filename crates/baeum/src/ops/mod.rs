//! Operations on tensors, one file per family. Each validates its arguments (panicking with the
//! operation and the shapes named, or returning `Result` in its `try_` form) and calls a kernel.

pub mod binary;
pub mod cast;
pub mod compare;
pub mod index;
pub mod inplace;
pub mod linalg;
pub mod reduce;
pub mod transform;
pub mod unary;
pub mod view;

use crate::error::{Result, bail};
use crate::tensor::{Shape, Tensor, broadcast_shapes};

/// The broadcast shape of two tensors, or an error naming the operation and both shapes.
pub fn try_broadcast(op: &str, a: &Tensor, b: &Tensor) -> Result<Shape> {
    match broadcast_shapes(a.dims(), b.dims()) {
        Some(s) => Ok(s),
        None => bail!(
            Shape,
            "{op}: shapes {} and {} cannot be broadcast together",
            a.shape(),
            b.shape()
        ),
    }
}

/// [`try_broadcast`] for model code, where a shape mismatch is a programming error.
pub fn broadcast(op: &str, a: &Tensor, b: &Tensor) -> Shape {
    try_broadcast(op, a, b).unwrap_or_else(|e| panic!("{e}"))
}

/// Unwraps a `try_` result in the panicking form of an op.
pub(crate) fn or_panic<T>(r: Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}
