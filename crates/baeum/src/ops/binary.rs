//! Element-wise arithmetic of two tensors (or a tensor and a scalar) with broadcasting and
//! PyTorch's type promotion, and the `+ - * /` operators.

use std::ops::{Add, Div, Mul, Neg, Sub};

use super::broadcast;
use crate::autograd::{Saved, grads, is_grad_enabled, record_op};
use crate::kernels::map::zip;
use crate::tensor::{DType, Element, Numeric, Tensor};
use crate::{numeric_or_panic, with_float_dtype};

/// A scalar operand: its value and whether it counts as a float for promotion.
pub trait Scalar: Copy {
    fn value(self) -> f64;
    fn is_float(self) -> bool;
}
impl Scalar for f64 {
    fn value(self) -> f64 {
        self
    }
    fn is_float(self) -> bool {
        true
    }
}
impl Scalar for f32 {
    fn value(self) -> f64 {
        self as f64
    }
    fn is_float(self) -> bool {
        true
    }
}
impl Scalar for i32 {
    fn value(self) -> f64 {
        self as f64
    }
    fn is_float(self) -> bool {
        false
    }
}
impl Scalar for i64 {
    fn value(self) -> f64 {
        self as f64
    }
    fn is_float(self) -> bool {
        false
    }
}

impl Tensor {
    /// A 0-d tensor holding scalar `s` in the dtype it takes next to this tensor.
    pub(crate) fn scalar_operand(&self, s: impl Scalar) -> Tensor {
        Tensor::full(
            [],
            s.value(),
            DType::promote_scalar(self.dtype(), s.is_float()),
        )
    }

    /// Both operands converted to their promoted dtype (and the broadcast shape).
    fn promoted(
        &self,
        other: &Tensor,
        op: &str,
        dtype: DType,
    ) -> (Tensor, Tensor, crate::tensor::Shape) {
        let shape = broadcast(op, self, other);
        (self.to_dtype(dtype), other.to_dtype(dtype), shape)
    }
}

macro_rules! arith {
    ($($(#[$doc:meta])* $name:ident, $scalar:ident, $rscalar:ident, $method:ident, $rule:path;)*) => {
        impl Tensor {$(
            $(#[$doc])*
            pub fn $name(&self, other: &Tensor) -> Tensor {
                record_op(
                    stringify!($name),
                    &[self, other],
                    || {
                        let dtype = DType::promote(self.dtype(), other.dtype());
                        let (a, b, shape) = self.promoted(other, stringify!($name), dtype);
                        numeric_or_panic!(dtype, stringify!($name), T => zip::<T, T, T>(&a, &b, &shape, |x: T, y: T| Numeric::$method(x, y)))
                    },
                    |_, needs| $rule(stringify!($name), self, other, needs),
                )
            }

            /// The same with a scalar on the right.
            pub fn $scalar(&self, s: impl Scalar) -> Tensor {
                self.$name(&self.scalar_operand(s))
            }

            /// The same with a scalar on the left.
            pub fn $rscalar(&self, s: impl Scalar) -> Tensor {
                self.scalar_operand(s).$name(self)
            }
        )*}
    };
}

arith! {
    /// a + b, broadcast.
    add, add_scalar, radd_scalar, add, add_rule;
    /// a − b, broadcast.
    sub, sub_scalar, rsub_scalar, sub, sub_rule;
    /// a · b, broadcast.
    mul, mul_scalar, rmul_scalar, mul, mul_rule;
    /// Element-wise maximum (NaN if either is NaN). Where a = b the gradient is split evenly.
    maximum, maximum_scalar, rmaximum_scalar, maximum, maximum_rule;
    /// Element-wise minimum (NaN if either is NaN). Where a = b the gradient is split evenly.
    minimum, minimum_scalar, rminimum_scalar, minimum, minimum_rule;
}

// Backward rules. Each gradient is summed back to its input's shape, undoing broadcasting.

type Rule = Box<dyn Fn(&Tensor) -> crate::autograd::Grads + Send + Sync>;

/// The rule of an operation whose partial derivatives are `da(g)` and `db(g)` in the broadcast
/// shape: each is computed only for inputs that need it.
fn broadcast_rule(
    a: &Tensor,
    b: &Tensor,
    needs: &[bool],
    da: impl Fn(&Tensor) -> Tensor + Send + Sync + 'static,
    db: impl Fn(&Tensor) -> Tensor + Send + Sync + 'static,
) -> Rule {
    let (sa, sb) = (a.shape().clone(), b.shape().clone());
    let (na, nb) = (needs[0], needs[1]);
    Box::new(move |g| {
        grads([
            na.then(|| da(g).sum_to_size(sa.clone())),
            nb.then(|| db(g).sum_to_size(sb.clone())),
        ])
    })
}

fn add_rule(_: &'static str, a: &Tensor, b: &Tensor, needs: &[bool]) -> Rule {
    broadcast_rule(a, b, needs, |g| g.clone(), |g| g.clone())
}

fn sub_rule(_: &'static str, a: &Tensor, b: &Tensor, needs: &[bool]) -> Rule {
    broadcast_rule(a, b, needs, |g| g.clone(), |g| g.neg())
}

fn mul_rule(op: &'static str, a: &Tensor, b: &Tensor, needs: &[bool]) -> Rule {
    let (sa, sb) = (Saved::new(op, a), Saved::new(op, b));
    broadcast_rule(a, b, needs, move |g| g * sb.get(), move |g| g * sa.get())
}

/// The rule of maximum (`pick_a` = a > b) or minimum (a < b): the gradient goes to the chosen
/// input, half to each where they tie (PyTorch's convention).
fn extreme_rule(op: &'static str, a: &Tensor, b: &Tensor, needs: &[bool], max: bool) -> Rule {
    let (sa, sb) = (Saved::new(op, a), Saved::new(op, b));
    let (sa2, sb2) = (Saved::new(op, a), Saved::new(op, b));
    let weight = move |x: &Tensor, y: &Tensor| {
        let wins = if max { x.gt(y) } else { x.lt(y) };
        wins.to_dtype(DType::F64) + x.eq(y).to_dtype(DType::F64) * 0.5
    };
    broadcast_rule(
        a,
        b,
        needs,
        move |g| g * weight(sa.get(), sb.get()).to_dtype(g.dtype()),
        move |g| g * weight(sb2.get(), sa2.get()).to_dtype(g.dtype()),
    )
}

fn maximum_rule(op: &'static str, a: &Tensor, b: &Tensor, needs: &[bool]) -> Rule {
    extreme_rule(op, a, b, needs, true)
}

fn minimum_rule(op: &'static str, a: &Tensor, b: &Tensor, needs: &[bool]) -> Rule {
    extreme_rule(op, a, b, needs, false)
}

impl Tensor {
    /// a / b, broadcast: true division, so integer operands give a float result as in PyTorch.
    pub fn div(&self, other: &Tensor) -> Tensor {
        record_op(
            "div",
            &[self, other],
            || {
                let mut dtype = DType::promote(self.dtype(), other.dtype());
                if !dtype.is_float() {
                    dtype = DType::F32;
                }
                let (a, b, shape) = self.promoted(other, "div", dtype);
                with_float_dtype!(dtype, T => zip::<T, T, T>(&a, &b, &shape, |x: T, y: T| x / y), unreachable!())
            },
            |_, needs| {
                // ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b².
                let (sa, sb) = (Saved::new("div", self), Saved::new("div", other));
                let sb2 = Saved::new("div", other);
                broadcast_rule(
                    self,
                    other,
                    needs,
                    move |g| g / sb.get(),
                    move |g| {
                        let b = sb2.get();
                        g * sa.get() / (b * b) * -1.0
                    },
                )
            },
        )
    }

    pub fn div_scalar(&self, s: impl Scalar) -> Tensor {
        self.div(&self.scalar_operand(s))
    }

    pub fn rdiv_scalar(&self, s: impl Scalar) -> Tensor {
        self.scalar_operand(s).div(self)
    }

    /// Integer division rounding toward −∞ (`//` in Python); floats are floored after dividing.
    /// The result is piecewise constant, so its gradient is 0 for both operands (PyTorch's
    /// `floor_divide` has none; here it comes through `floor`).
    pub fn floor_divide(&self, other: &Tensor) -> Tensor {
        let dtype = DType::promote(self.dtype(), other.dtype());
        if dtype.is_float() {
            return self.div(other).floor();
        }
        let (a, b, shape) = self.promoted(other, "floor_divide", dtype);
        numeric_or_panic!(dtype, "floor_divide", T => zip::<T, T, T>(&a, &b, &shape, |x: T, y: T| {
            let (xi, yi) = (x.to_i64(), y.to_i64());
            assert!(yi != 0, "floor_divide: integer division by zero");
            let q = xi.wrapping_div(yi);
            T::from_i64(if xi % yi != 0 && ((xi < 0) != (yi < 0)) { q - 1 } else { q })
        }))
    }

    /// Remainder with the sign of the divisor (Python's `%`, `torch.remainder`):
    /// a − b·⌊a/b⌋, so ∂/∂a = 1 and ∂/∂b = −⌊a/b⌋ (as PyTorch).
    pub fn remainder(&self, other: &Tensor) -> Tensor {
        record_op(
            "remainder",
            &[self, other],
            || {
                let dtype = DType::promote(self.dtype(), other.dtype());
                let (a, b, shape) = self.promoted(other, "remainder", dtype);
                numeric_or_panic!(dtype, "remainder", T => zip::<T, T, T>(&a, &b, &shape, |x: T, y: T| {
                    if T::DTYPE.is_float() {
                        let (xf, yf) = (x.to_f64(), y.to_f64());
                        let r = xf % yf;
                        T::from_f64(if r != 0.0 && (r < 0.0) != (yf < 0.0) { r + yf } else { r })
                    } else {
                        let (xi, yi) = (x.to_i64(), y.to_i64());
                        assert!(yi != 0, "remainder: integer division by zero");
                        let r = xi % yi;
                        T::from_i64(if r != 0 && (r < 0) != (yi < 0) { r + yi } else { r })
                    }
                }))
            },
            |_, needs| {
                let (sa, sb) = (
                    Saved::new("remainder", self),
                    Saved::new("remainder", other),
                );
                broadcast_rule(
                    self,
                    other,
                    needs,
                    |g| g.clone(),
                    move |g| -(g * sa.get().div(sb.get()).floor()),
                )
            },
        )
    }

    /// a^b element-wise, broadcast.
    /// ∂/∂a = b·a^(b−1) (0 where b = 0), ∂/∂b = a^b·ln a (0 where a = 0 and b ≥ 0), as in
    /// PyTorch.
    pub fn pow(&self, exponent: &Tensor) -> Tensor {
        record_op(
            "pow",
            &[self, exponent],
            || {
                let dtype = DType::promote(self.dtype(), exponent.dtype());
                let (a, b, shape) = self.promoted(exponent, "pow", dtype);
                numeric_or_panic!(dtype, "pow", T => zip::<T, T, T>(&a, &b, &shape, |x: T, y: T| Numeric::pow(x, y)))
            },
            |out, needs| {
                let (sa, sb) = (Saved::new("pow", self), Saved::new("pow", exponent));
                let (sa2, sb2) = (Saved::new("pow", self), Saved::new("pow", exponent));
                let so = Saved::output("pow", out);
                broadcast_rule(
                    self,
                    exponent,
                    needs,
                    move |g| {
                        let (a, b) = (sa.get(), sb.get());
                        let d = b * a.pow(&b.sub_scalar(1.0));
                        let d = Tensor::where_(&b.eq_scalar(0.0), &d.zeros_like(), &d);
                        g * d
                    },
                    move |g| {
                        let (a, b) = (sa2.get(), sb2.get());
                        // Under create_graph the output must be recomputed to keep its graph.
                        let out = if is_grad_enabled() {
                            a.pow(b)
                        } else {
                            so.get().clone()
                        };
                        let d = out * a.log();
                        let zero = a.eq_scalar(0.0).logical_and(&b.ge_scalar(0.0));
                        let d = Tensor::where_(&zero, &d.zeros_like(), &d);
                        g * d
                    },
                )
            },
        )
    }

    /// s^x for a scalar base.
    pub fn rpow_scalar(&self, base: impl Scalar) -> Tensor {
        self.scalar_operand(base).pow(self)
    }
}

macro_rules! operator {
    ($trait:ident, $fn:ident, $method:ident, $scalar:ident, $rscalar:ident) => {
        impl $trait<&Tensor> for &Tensor {
            type Output = Tensor;
            fn $fn(self, rhs: &Tensor) -> Tensor {
                Tensor::$method(&self, &rhs)
            }
        }
        impl $trait<Tensor> for &Tensor {
            type Output = Tensor;
            fn $fn(self, rhs: Tensor) -> Tensor {
                Tensor::$method(&self, &rhs)
            }
        }
        impl $trait<&Tensor> for Tensor {
            type Output = Tensor;
            fn $fn(self, rhs: &Tensor) -> Tensor {
                Tensor::$method(&self, &rhs)
            }
        }
        impl $trait<Tensor> for Tensor {
            type Output = Tensor;
            fn $fn(self, rhs: Tensor) -> Tensor {
                Tensor::$method(&self, &rhs)
            }
        }
        // One float and one integer type, so literals (`x * 2.0`, `x * 2`) infer without annotations.
        operator!(@scalar $trait, $fn, $scalar, $rscalar, f64, i64);
    };
    (@scalar $trait:ident, $fn:ident, $scalar:ident, $rscalar:ident, $($s:ty),*) => {$(
        impl $trait<$s> for &Tensor {
            type Output = Tensor;
            fn $fn(self, rhs: $s) -> Tensor {
                Tensor::$scalar(&self, rhs)
            }
        }
        impl $trait<$s> for Tensor {
            type Output = Tensor;
            fn $fn(self, rhs: $s) -> Tensor {
                Tensor::$scalar(&self, rhs)
            }
        }
        impl $trait<&Tensor> for $s {
            type Output = Tensor;
            fn $fn(self, rhs: &Tensor) -> Tensor {
                Tensor::$rscalar(&rhs, self)
            }
        }
        impl $trait<Tensor> for $s {
            type Output = Tensor;
            fn $fn(self, rhs: Tensor) -> Tensor {
                Tensor::$rscalar(&rhs, self)
            }
        }
    )*};
}

operator!(Add, add, add, add_scalar, radd_scalar);
operator!(Sub, sub, sub, sub_scalar, rsub_scalar);
operator!(Mul, mul, mul, mul_scalar, rmul_scalar);
operator!(Div, div, div, div_scalar, rdiv_scalar);

impl Neg for &Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}
impl Neg for Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(&self)
    }
}
