//! Comparisons and logic: element-wise `eq ne lt le gt ge` giving bool tensors, `and or xor
//! not` on truth values, `where_` and `masked_fill`.

// The comparison closures are generic over every dtype; for bool, `a < b` is what is meant.
#![allow(clippy::bool_comparison)]

use super::binary::Scalar;
use super::broadcast;
use crate::autograd::{grads, record_op};
use crate::kernels::map::{map, zip, zip3};
use crate::tensor::{DType, Element, Tensor};
use crate::with_dtype;

macro_rules! comparison {
    ($($(#[$doc:meta])* $name:ident, $scalar:ident, |$a:ident, $b:ident| $e:expr;)*) => {
        impl Tensor {$(
            $(#[$doc])*
            pub fn $name(&self, other: &Tensor) -> Tensor {
                let shape = broadcast(stringify!($name), self, other);
                let dtype = DType::promote(self.dtype(), other.dtype());
                let (x, y) = (self.to_dtype(dtype), other.to_dtype(dtype));
                with_dtype!(dtype, T => zip::<T, T, bool>(&x, &y, &shape, |$a: T, $b: T| $e))
            }

            /// The same against a scalar.
            pub fn $scalar(&self, s: impl Scalar) -> Tensor {
                self.$name(&self.scalar_operand(s))
            }
        )*}
    };
}

comparison! {
    /// a == b.
    eq, eq_scalar, |a, b| a == b;
    /// a != b.
    ne, ne_scalar, |a, b| a != b;
    /// a < b.
    lt, lt_scalar, |a, b| a < b;
    /// a ≤ b.
    le, le_scalar, |a, b| a <= b;
    /// a > b.
    gt, gt_scalar, |a, b| a > b;
    /// a ≥ b.
    ge, ge_scalar, |a, b| a >= b;
}

/// Truth value of an element: non-zero is true.
#[inline(always)]
fn truth<T: Element>(v: T) -> bool {
    v != T::zero()
}

macro_rules! logical {
    ($($(#[$doc:meta])* $name:ident, |$a:ident, $b:ident| $e:expr;)*) => {
        impl Tensor {$(
            $(#[$doc])*
            pub fn $name(&self, other: &Tensor) -> Tensor {
                let shape = broadcast(stringify!($name), self, other);
                with_dtype!(self.dtype(), A => with_dtype!(other.dtype(), B =>
                    zip::<A, B, bool>(self, other, &shape, |x: A, y: B| {
                        let ($a, $b) = (truth(x), truth(y));
                        $e
                    })))
            }
        )*}
    };
}

logical! {
    /// Element-wise logical and (non-zero is true).
    logical_and, |a, b| a && b;
    /// Element-wise logical or.
    logical_or, |a, b| a || b;
    /// Element-wise logical exclusive or.
    logical_xor, |a, b| a != b;
}

impl Tensor {
    /// Element-wise logical not.
    pub fn logical_not(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map::<T, bool>(self, |v: T| !truth(v)))
    }

    /// `a` where `condition` is true, else `b` (all three broadcast; `torch.where`).
    /// The gradient goes to `a` where the condition holds and to `b` elsewhere, each summed
    /// back over the dimensions it was broadcast along; the condition gets none.
    pub fn where_(condition: &Tensor, a: &Tensor, b: &Tensor) -> Tensor {
        let shape = broadcast("where", a, b);
        let shape = crate::tensor::broadcast_shapes(condition.dims(), &shape).unwrap_or_else(|| {
            panic!(
                "where: condition of shape {} cannot be broadcast with values of shapes {} and {}",
                condition.shape(),
                a.shape(),
                b.shape()
            )
        });
        let c = condition.to_bool();
        record_op(
            "where",
            &[a, b],
            || {
                let dtype = DType::promote(a.dtype(), b.dtype());
                let (x, y) = (a.to_dtype(dtype), b.to_dtype(dtype));
                with_dtype!(dtype, T => zip3::<bool, T, T, T>(&c, &x, &y, &shape, |m: bool, p: T, q: T| if m { p } else { q }))
            },
            |_, needs| {
                let (sa, sb) = (a.shape().clone(), b.shape().clone());
                let (na, nb) = (needs[0], needs[1]);
                let c = c.clone();
                move |g: &Tensor| {
                    let zero = Tensor::full([], 0.0, g.dtype());
                    grads([
                        na.then(|| Tensor::where_(&c, g, &zero).sum_to_size(sa.clone())),
                        nb.then(|| Tensor::where_(&c, &zero, g).sum_to_size(sb.clone())),
                    ])
                }
            },
        )
    }

    /// `value` where `mask` is true, this tensor's values elsewhere (mask broadcasts to self).
    /// Differentiated through [`Tensor::where_`]: the filled positions get gradient 0.
    pub fn masked_fill(&self, mask: &Tensor, value: f64) -> Tensor {
        let shape = broadcast("masked_fill", self, mask);
        assert_eq!(
            &shape,
            self.shape(),
            "masked_fill: mask of shape {} does not broadcast to the tensor's shape {}",
            mask.shape(),
            self.shape()
        );
        let fill = Tensor::full([], value, self.dtype());
        Tensor::where_(mask, &fill, self)
    }
}

/// `&`, `|`, `^` and `!` on tensors are the logical operations (as `&`, `|`, `^`, `~` on
/// PyTorch's bool tensors).
macro_rules! logic_operator {
    ($trait:ident, $fn:ident, $method:ident) => {
        impl std::ops::$trait<&Tensor> for &Tensor {
            type Output = Tensor;
            fn $fn(self, rhs: &Tensor) -> Tensor {
                Tensor::$method(self, rhs)
            }
        }
        impl std::ops::$trait<Tensor> for Tensor {
            type Output = Tensor;
            fn $fn(self, rhs: Tensor) -> Tensor {
                Tensor::$method(&self, &rhs)
            }
        }
    };
}
logic_operator!(BitAnd, bitand, logical_and);
logic_operator!(BitOr, bitor, logical_or);
logic_operator!(BitXor, bitxor, logical_xor);

impl std::ops::Not for &Tensor {
    type Output = Tensor;
    fn not(self) -> Tensor {
        self.logical_not()
    }
}
impl std::ops::Not for Tensor {
    type Output = Tensor;
    fn not(self) -> Tensor {
        self.logical_not()
    }
}

#[cfg(test)]
mod tests {
    use crate::{DType, Tensor, tensor};

    #[test]
    fn comparisons_broadcast_and_promote() {
        let a = tensor!([[1., 2., 3.], [4., 5., 6.]]);
        let b = tensor!([2, 5, 3]);
        assert_eq!(
            a.eq(&b).to_vec::<bool>(),
            vec![false, false, true, false, true, false]
        );
        assert_eq!(
            a.ne(&b).to_vec::<bool>(),
            vec![true, true, false, true, false, true]
        );
        assert_eq!(
            a.lt(&b).to_vec::<bool>(),
            vec![true, true, false, false, false, false]
        );
        assert_eq!(
            a.le(&b).to_vec::<bool>(),
            vec![true, true, true, false, true, false]
        );
        assert_eq!(
            a.gt_scalar(3.5).to_vec::<bool>(),
            vec![false, false, false, true, true, true]
        );
        assert_eq!(a.ge_scalar(3).dtype(), DType::Bool);
        let nan = tensor!([f64::NAN]);
        assert_eq!(nan.eq(&nan).to_vec::<bool>(), vec![false]);
    }

    #[test]
    fn logic_treats_nonzero_as_true() {
        let p = tensor!([true, true, false, false]);
        let q = tensor!([1, 0, 2, 0]);
        assert_eq!((&p & &q).to_vec::<bool>(), vec![true, false, false, false]);
        assert_eq!((&p | &q).to_vec::<bool>(), vec![true, true, true, false]);
        assert_eq!((&p ^ &q).to_vec::<bool>(), vec![false, true, true, false]);
        assert_eq!((!&q).to_vec::<bool>(), vec![false, true, false, true]);
    }

    #[test]
    fn where_and_masked_fill() {
        let x = tensor!([[1., -2.], [-3., 4.]]);
        let m = x.lt_scalar(0.0);
        assert_eq!(x.masked_fill(&m, 0.0).to_vec::<f32>(), vec![1., 0., 0., 4.]);
        let w = Tensor::where_(&m, &tensor!([10., 20.]), &tensor!(7));
        assert_eq!(w.dtype(), DType::F32);
        assert_eq!(w.to_vec::<f32>(), vec![7., 20., 10., 7.]);
        let r =
            std::panic::catch_unwind(|| x.masked_fill(&tensor!([[true], [false], [true]]), 1.0));
        assert!(r.is_err());
    }
}
