//! Element-wise functions of one tensor: math, activations, rounding.
//!
//! Float math on an integer tensor computes in f32, as PyTorch does (`torch.exp` of an int64
//! tensor is float32).

use crate::kernels::map::map;
use crate::tensor::dtype::num_like::FloatOps;
use crate::tensor::{Element, Float, Numeric, Tensor};
use crate::{numeric_or_panic, with_float_dtype};

/// SELU's constants (Klambauer et al., 2017), as PyTorch uses them.
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
pub const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

#[inline(always)]
fn sigmoid<T: Float>(x: T) -> T {
    // Two branches keep exp from overflowing for large |x|.
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

#[inline(always)]
fn softplus<T: Float>(x: T, beta: T, threshold: T) -> T {
    if x * beta > threshold {
        x
    } else {
        (x * beta).exp().ln_1p() / beta
    }
}

/// Applies `$f` to a float view of the tensor.
macro_rules! float_map {
    ($x:expr, |$v:ident| $e:expr) => {{
        let x = $x.float_input();
        with_float_dtype!(x.dtype(), T => map::<T, T>(&x, |$v: T| $e), unreachable!())
    }};
}

/// Applies `$f` to a numeric tensor in its own dtype.
macro_rules! numeric_map {
    ($x:expr, $op:expr, |$v:ident| $e:expr) => {{
        let x = $x;
        numeric_or_panic!(x.dtype(), $op, T => map::<T, T>(x, |$v: T| $e))
    }};
}

macro_rules! float_unary {
    ($($(#[$doc:meta])* $name:ident => |$v:ident| $e:expr;)*) => {
        impl Tensor {$(
            $(#[$doc])*
            pub fn $name(&self) -> Tensor {
                float_map!(self, |$v| $e)
            }
        )*}
    };
}

float_unary! {
    /// e^x.
    exp => |v| v.exp();
    /// Natural logarithm.
    log => |v| v.ln();
    /// ln(1 + x), accurate near 0.
    log1p => |v| v.ln_1p();
    /// e^x − 1, accurate near 0.
    expm1 => |v| v.exp_m1();
    sqrt => |v| v.sqrt();
    /// 1 / √x.
    rsqrt => |v| T::one() / v.sqrt();
    /// 1 / x.
    reciprocal => |v| T::one() / v;
    sin => |v| v.sin();
    cos => |v| v.cos();
    tanh => |v| v.tanh();
    /// 1 / (1 + e^−x).
    sigmoid => |v| sigmoid(v);
    /// SELU: scale · (x if x > 0 else α(e^x − 1)).
    selu => |v| T::c(SELU_SCALE) * if v > T::zero() { v } else { T::c(SELU_ALPHA) * v.exp_m1() };
    /// SiLU (swish): x · σ(x).
    silu => |v| v * sigmoid(v);
    /// GELU, exact: x · Φ(x) = ½x(1 + erf(x/√2)).
    gelu => |v| T::c(0.5) * v * (T::one() + FloatOps::erf(v * T::c(std::f64::consts::FRAC_1_SQRT_2)));
    /// GELU with the tanh approximation (PyTorch's `approximate="tanh"`).
    gelu_tanh => |v| {
        let inner = T::c((2.0 / std::f64::consts::PI).sqrt()) * (v + T::c(0.044715) * v * v * v);
        T::c(0.5) * v * (T::one() + inner.tanh())
    };
    /// x / (1 + |x|).
    softsign => |v| v / (T::one() + Numeric::abs(v));
    /// x · tanh(softplus(x)).
    mish => |v| v * softplus(v, T::one(), T::c(20.0)).tanh();
    /// PyTorch's hard sigmoid: relu6(x + 3) / 6.
    hardsigmoid => |v| Numeric::minimum(Numeric::maximum(v + T::c(3.0), T::zero()), T::c(6.0)) / T::c(6.0);
    /// x · relu6(x + 3) / 6.
    hardswish => |v| v * Numeric::minimum(Numeric::maximum(v + T::c(3.0), T::zero()), T::c(6.0)) / T::c(6.0);
    /// The error function.
    erf => |v| FloatOps::erf(v);
}

impl Tensor {
    /// −x.
    pub fn neg(&self) -> Tensor {
        numeric_map!(self, "neg", |v| Numeric::neg(v))
    }

    /// |x|.
    pub fn abs(&self) -> Tensor {
        numeric_map!(self, "abs", |v| Numeric::abs(v))
    }

    /// x².
    pub fn square(&self) -> Tensor {
        numeric_map!(self, "square", |v| Numeric::mul(v, v))
    }

    /// −1, 0 or 1 by the sign of x (0 stays 0, NaN stays NaN).
    pub fn sign(&self) -> Tensor {
        numeric_map!(self, "sign", |v| Numeric::sign(v))
    }

    /// max(x, 0); NaN stays NaN.
    pub fn relu(&self) -> Tensor {
        numeric_map!(self, "relu", |v| if v > T::zero() || Numeric::is_nan(v) { v } else { T::zero() })
    }

    /// x if x > 0 else slope · x (PyTorch's default slope is 0.01).
    pub fn leaky_relu(&self, negative_slope: f64) -> Tensor {
        float_map!(self, |v| if v > T::zero() { v } else { v * T::c(negative_slope) })
    }

    /// x if x > 0 else α(e^x − 1) (PyTorch's default α is 1).
    pub fn elu(&self, alpha: f64) -> Tensor {
        float_map!(self, |v| if v > T::zero() { v } else { T::c(alpha) * v.exp_m1() })
    }

    /// ln(1 + e^(βx)) / β, linear above `threshold` (PyTorch's defaults: β = 1, threshold = 20).
    pub fn softplus(&self, beta: f64, threshold: f64) -> Tensor {
        float_map!(self, |v| softplus(v, T::c(beta), T::c(threshold)))
    }

    /// x^e for a scalar exponent.
    pub fn powf(&self, exponent: f64) -> Tensor {
        if exponent == 2.0 {
            return self.float_input().square();
        }
        float_map!(self, |v| v.powf(T::c(exponent)))
    }

    /// Largest integer ≤ x (integers unchanged).
    pub fn floor(&self) -> Tensor {
        if !self.dtype().is_float() {
            return self.clone();
        }
        float_map!(self, |v| v.floor())
    }

    /// Smallest integer ≥ x (integers unchanged).
    pub fn ceil(&self) -> Tensor {
        if !self.dtype().is_float() {
            return self.clone();
        }
        float_map!(self, |v| v.ceil())
    }

    /// Nearest integer, halves to even (PyTorch's and NumPy's rounding).
    pub fn round(&self) -> Tensor {
        if !self.dtype().is_float() {
            return self.clone();
        }
        float_map!(self, |v| v.round_half_even())
    }

    /// Limits values to `[min, max]` (either bound optional), in the tensor's dtype; NaN stays.
    pub fn clamp(&self, min: Option<f64>, max: Option<f64>) -> Tensor {
        numeric_or_panic!(self.dtype(), "clamp", T => {
            let lo = min.map(T::from_f64);
            let hi = max.map(T::from_f64);
            map::<T, T>(self, |v: T| {
                let mut r = v;
                if let Some(l) = lo { if r < l { r = l } }
                if let Some(h) = hi { if r > h { r = h } }
                r
            })
        })
    }

    /// Clamps from below (`clamp(min, None)`).
    pub fn clamp_min(&self, min: f64) -> Tensor {
        self.clamp(Some(min), None)
    }

    /// Clamps from above (`clamp(None, max)`).
    pub fn clamp_max(&self, max: f64) -> Tensor {
        self.clamp(None, Some(max))
    }

    /// Whether each element is NaN.
    pub fn isnan(&self) -> Tensor {
        numeric_or_panic!(self.dtype(), "isnan", T => map::<T, bool>(self, |v: T| Numeric::is_nan(v)))
    }

    /// Whether each element is finite (not NaN or ±∞).
    pub fn isfinite(&self) -> Tensor {
        numeric_or_panic!(self.dtype(), "isfinite", T => map::<T, bool>(self, |v: T| v.to_f64().is_finite()))
    }
}
