//! Element-wise functions of one tensor: math, activations, rounding, each with its local
//! derivative.
//!
//! Float math on an integer tensor computes in f32, as PyTorch does (`torch.exp` of an int64
//! tensor is float32).
//!
//! Gradients follow PyTorch (2.15, the version the conformance cases come from), including at
//! the kinks: `relu` has slope 0 at 0, `abs` has gradient `sign(x)` (0 at 0), `clamp` passes
//! the gradient strictly inside its bounds (0 at a bound), and `sign`, `floor`, `ceil` and
//! `round` have gradient 0 everywhere.

use crate::autograd::{Saved, grads, is_grad_enabled, record_op};
use crate::kernels::map::{map, zip};
use crate::tensor::dtype::num_like::FloatOps;
use crate::tensor::{Element, Float, Numeric, Tensor};
use crate::{numeric_or_panic, with_float_dtype};

/// SELU's constants (Klambauer et al., 2017), as PyTorch uses them.
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
pub const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

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

// ----- recording -----
//
// The rules below are written with differentiable tensor operations, so the gradients they
// return can be differentiated again (create_graph).

/// Records `op` on `x` with the backward rule `∂L/∂x = rule(g, x)`, `g` being ∂L/∂out.
fn with_input_rule(
    op: &'static str,
    x: &Tensor,
    forward: impl FnOnce() -> Tensor,
    rule: impl Fn(&Tensor, &Tensor) -> Tensor + Send + Sync + 'static,
) -> Tensor {
    record_op(op, &[x], forward, |_, _| {
        let sx = Saved::new(op, x);
        move |g: &Tensor| grads([Some(rule(g, sx.get()))])
    })
}

/// Records `op` on `x` with the backward rule `∂L/∂x = rule(g, y)` in terms of its output
/// `y = f(x)`. The output is kept detached; under create_graph (recording on inside the rule)
/// it is recomputed from `x` with `f`, so the gradient stays differentiable in `x`.
fn with_output_rule(
    op: &'static str,
    x: &Tensor,
    forward: impl FnOnce() -> Tensor,
    f: fn(&Tensor) -> Tensor,
    rule: impl Fn(&Tensor, &Tensor) -> Tensor + Send + Sync + 'static,
) -> Tensor {
    record_op(op, &[x], forward, |out, _| {
        let sx = Saved::new(op, x);
        let so = Saved::output(op, out);
        move |g: &Tensor| {
            let y = if is_grad_enabled() {
                f(sx.get())
            } else {
                so.get().clone()
            };
            grads([Some(rule(g, &y))])
        }
    })
}

/// Records `op` with a gradient of zero everywhere (rounding and sign, as in PyTorch).
fn with_zero_rule(op: &'static str, x: &Tensor, forward: impl FnOnce() -> Tensor) -> Tensor {
    record_op(op, &[x], forward, |_, _| {
        |g: &Tensor| grads([Some(g.zeros_like())])
    })
}

/// 1.0 where `mask` is true, 0.0 elsewhere, in `like`'s dtype: a constant factor of a rule.
fn indicator(mask: &Tensor, like: &Tensor) -> Tensor {
    mask.to_dtype(like.dtype())
}

/// ∂L/∂x of relu: `g · [x > 0]`. Outside create_graph (the usual backward) in one pass over
/// both tensors, bit for bit what the recorded form gives (`g · 0` keeps a NaN or infinite
/// `g` NaN), rather than a mask, a cast and a product.
fn relu_backward(g: &Tensor, x: &Tensor) -> Tensor {
    let fast = !is_grad_enabled() && g.dtype() == x.dtype() && g.shape() == x.shape();
    let direct = fast.then(|| {
        with_float_dtype!(
            x.dtype(),
            T => Some(zip::<T, T, T>(g, x, x.shape(), |g, v| {
                if v > T::zero() { g } else { g * T::zero() }
            })),
            None
        )
    });
    direct
        .flatten()
        .unwrap_or_else(|| g * indicator(&x.gt_scalar(0.0), g))
}

/// `a` where `x > 0`, else `b`.
fn where_positive(x: &Tensor, a: &Tensor, b: &Tensor) -> Tensor {
    Tensor::where_(&x.gt_scalar(0.0), a, b)
}

/// The standard normal density φ(x) = e^(−x²/2) / √(2π).
fn normal_pdf(x: &Tensor) -> Tensor {
    (x * x * -0.5).exp() * (1.0 / (2.0 * std::f64::consts::PI).sqrt())
}

/// The standard normal distribution function Φ(x) = ½(1 + erf(x/√2)).
fn normal_cdf(x: &Tensor) -> Tensor {
    ((x * std::f64::consts::FRAC_1_SQRT_2).erf() + 1.0) * 0.5
}

/// Functions whose derivative is written in terms of the input (`input |g, x| ...`) or of the
/// output (`output |g, y| ...`, see [`with_output_rule`]).
macro_rules! float_unary {
    ($($(#[$doc:meta])* $name:ident => |$v:ident| $e:expr, $kind:ident |$g:ident, $a:ident| $d:expr;)*) => {
        impl Tensor {$(
            $(#[$doc])*
            pub fn $name(&self) -> Tensor {
                float_unary!(@$kind stringify!($name), self, Tensor::$name,
                    float_map!(self, |$v| $e), move |$g: &Tensor, $a: &Tensor| $d)
            }
        )*}
    };
    (@input $op:expr, $x:expr, $f:expr, $fwd:expr, $rule:expr) => {
        with_input_rule($op, $x, || $fwd, $rule)
    };
    (@output $op:expr, $x:expr, $f:expr, $fwd:expr, $rule:expr) => {
        with_output_rule($op, $x, || $fwd, $f, $rule)
    };
}

float_unary! {
    /// e^x.
    exp => |v| v.exp(), output |g, y| g * y;
    /// Natural logarithm.
    log => |v| v.ln(), input |g, x| g / x;
    /// ln(1 + x), accurate near 0.
    log1p => |v| v.ln_1p(), input |g, x| g / (x + 1.0);
    /// e^x − 1, accurate near 0.
    expm1 => |v| v.exp_m1(), output |g, y| g * (y + 1.0);
    sqrt => |v| v.sqrt(), output |g, y| g / (y * 2.0);
    /// 1 / √x.
    rsqrt => |v| T::one() / v.sqrt(), output |g, y| g * (y * y * y) * -0.5;
    /// 1 / x.
    reciprocal => |v| T::one() / v, output |g, y| -(g * (y * y));
    sin => |v| v.sin(), input |g, x| g * x.cos();
    cos => |v| v.cos(), input |g, x| -(g * x.sin());
    tanh => |v| FloatOps::tanh(v), output |g, y| g * (1.0 - y * y);
    /// 1 / (1 + e^−x).
    sigmoid => |v| FloatOps::sigmoid(v), output |g, y| g * y * (1.0 - y);
    /// SELU: scale · (x if x > 0 else α(e^x − 1)).
    selu => |v| T::c(SELU_SCALE) * if v > T::zero() { v } else { T::c(SELU_ALPHA) * v.exp_m1() },
        // e^min(x, 0): the branch not taken stays finite, so no 0·∞ reaches a gradient.
        input |g, x| g * where_positive(
            x,
            &x.scalar_operand(SELU_SCALE),
            &(x.clamp_max(0.0).exp() * (SELU_SCALE * SELU_ALPHA)),
        );
    /// SiLU (swish): x · σ(x).
    silu => |v| v * FloatOps::sigmoid(v), input |g, x| {
        let s = x.sigmoid();
        g * &s * ((1.0 - &s) * x + 1.0)
    };
    /// GELU, exact: x · Φ(x) = ½x(1 + erf(x/√2)).
    gelu => |v| T::c(0.5) * v * (T::one() + FloatOps::erf(v * T::c(std::f64::consts::FRAC_1_SQRT_2))),
        input |g, x| g * (normal_cdf(x) + x * normal_pdf(x));
    /// GELU with the tanh approximation (PyTorch's `approximate="tanh"`).
    gelu_tanh => |v| {
        let inner = T::c((2.0 / std::f64::consts::PI).sqrt()) * (v + T::c(0.044715) * v * v * v);
        T::c(0.5) * v * (T::one() + FloatOps::tanh(inner))
    }, input |g, x| {
        // ½(1 + t) + ½x(1 − t²)·k(1 + 3c·x²), t = tanh(k(x + c·x³)).
        let k = (2.0 / std::f64::consts::PI).sqrt();
        let x2 = x * x;
        let t = ((&x2 * 0.044715 + 1.0) * x * k).tanh();
        let dinner = (&x2 * (3.0 * 0.044715) + 1.0) * k;
        g * ((&t + 1.0) * 0.5 + (1.0 - &t * &t) * x * dinner * 0.5)
    };
    /// x / (1 + |x|).
    softsign => |v| v / (T::one() + Numeric::abs(v)), input |g, x| {
        let d = x.abs() + 1.0;
        g / (&d * &d)
    };
    /// x · tanh(softplus(x)).
    mish => |v| v * FloatOps::tanh(softplus(v, T::one(), T::c(20.0))), input |g, x| {
        // tanh(sp(x)) + x·σ(x)·(1 − tanh²(sp(x))), as PyTorch's mish_backward.
        let t = x.softplus(1.0, 20.0).tanh();
        g * (&t + x * x.sigmoid() * (1.0 - &t * &t))
    };
    /// PyTorch's hard sigmoid: relu6(x + 3) / 6. Gradient 1/6 on (−3, 3), 0 elsewhere.
    hardsigmoid => |v| Numeric::minimum(Numeric::maximum(v + T::c(3.0), T::zero()), T::c(6.0)) / T::c(6.0),
        input |g, x| g * indicator(&(x.gt_scalar(-3.0) & x.lt_scalar(3.0)), g) * (1.0 / 6.0);
    /// x · relu6(x + 3) / 6. Gradient 0 for x ≤ −3, x/3 + ½ on (−3, 3), 1 for x ≥ 3
    /// (PyTorch's `hardswish_backward`).
    hardswish => |v| v * Numeric::minimum(Numeric::maximum(v + T::c(3.0), T::zero()), T::c(6.0)) / T::c(6.0),
        input |g, x| {
            let inside = x / 3.0 + 0.5;
            let d = Tensor::where_(&x.lt_scalar(3.0), &inside, &x.scalar_operand(1.0));
            let d = Tensor::where_(&x.le_scalar(-3.0), &x.scalar_operand(0.0), &d);
            g * d
        };
    /// The error function.
    erf => |v| FloatOps::erf(v),
        input |g, x| g * (x * x * -1.0).exp() * (2.0 / std::f64::consts::PI.sqrt());
}

impl Tensor {
    /// −x.
    pub fn neg(&self) -> Tensor {
        record_op(
            "neg",
            &[self],
            || numeric_map!(self, "neg", |v| Numeric::neg(v)),
            |_, _| |g: &Tensor| grads([Some(g.neg())]),
        )
    }

    /// |x|. Gradient sign(x), so 0 at 0 (PyTorch's subgradient).
    pub fn abs(&self) -> Tensor {
        with_input_rule(
            "abs",
            self,
            || numeric_map!(self, "abs", |v| Numeric::abs(v)),
            |g, x| g * x.sign(),
        )
    }

    /// x².
    pub fn square(&self) -> Tensor {
        with_input_rule(
            "square",
            self,
            || numeric_map!(self, "square", |v| Numeric::mul(v, v)),
            |g, x| g * x * 2.0,
        )
    }

    /// −1, 0 or 1 by the sign of x (0 stays 0, NaN stays NaN). Gradient 0.
    pub fn sign(&self) -> Tensor {
        with_zero_rule("sign", self, || {
            numeric_map!(self, "sign", |v| Numeric::sign(v))
        })
    }

    /// max(x, 0); NaN stays NaN. Gradient 1 where x > 0, else 0 (0 at 0, as in PyTorch).
    pub fn relu(&self) -> Tensor {
        with_input_rule(
            "relu",
            self,
            || {
                numeric_map!(self, "relu", |v| if v > T::zero() || Numeric::is_nan(v) {
                    v
                } else {
                    T::zero()
                })
            },
            relu_backward,
        )
    }

    /// x if x > 0 else slope · x (PyTorch's default slope is 0.01). The slope at 0 is
    /// `negative_slope`, as in PyTorch.
    pub fn leaky_relu(&self, negative_slope: f64) -> Tensor {
        with_input_rule(
            "leaky_relu",
            self,
            || {
                float_map!(self, |v| if v > T::zero() {
                    v
                } else {
                    v * T::c(negative_slope)
                })
            },
            move |g, x| {
                let d =
                    where_positive(x, &x.scalar_operand(1.0), &x.scalar_operand(negative_slope));
                g * d
            },
        )
    }

    /// x if x > 0 else α(e^x − 1) (PyTorch's default α is 1). The slope at 0 is α.
    pub fn elu(&self, alpha: f64) -> Tensor {
        with_input_rule(
            "elu",
            self,
            || {
                float_map!(self, |v| if v > T::zero() {
                    v
                } else {
                    T::c(alpha) * v.exp_m1()
                })
            },
            move |g, x| {
                // e^min(x, 0) keeps the branch not taken finite.
                let d =
                    where_positive(x, &x.scalar_operand(1.0), &(x.clamp_max(0.0).exp() * alpha));
                g * d
            },
        )
    }

    /// ln(1 + e^(βx)) / β, linear above `threshold` (PyTorch's defaults: β = 1, threshold = 20).
    /// Gradient σ(βx), and 1 where βx > threshold.
    pub fn softplus(&self, beta: f64, threshold: f64) -> Tensor {
        with_input_rule(
            "softplus",
            self,
            || float_map!(self, |v| softplus(v, T::c(beta), T::c(threshold))),
            move |g, x| {
                let bx = x * beta;
                let d = Tensor::where_(
                    &bx.gt_scalar(threshold),
                    &x.scalar_operand(1.0),
                    &bx.sigmoid(),
                );
                g * d
            },
        )
    }

    /// x^e for a scalar exponent. Gradient e·x^(e−1), and 0 for e = 0 (as PyTorch).
    pub fn powf(&self, exponent: f64) -> Tensor {
        if exponent == 2.0 {
            return self.float_input().square();
        }
        with_input_rule(
            "powf",
            self,
            || float_map!(self, |v| v.powf(T::c(exponent))),
            move |g, x| {
                if exponent == 0.0 {
                    g.zeros_like()
                } else {
                    g * x.powf(exponent - 1.0) * exponent
                }
            },
        )
    }

    /// Largest integer ≤ x (integers unchanged). Gradient 0.
    pub fn floor(&self) -> Tensor {
        if !self.dtype().is_float() {
            return self.clone();
        }
        with_zero_rule("floor", self, || float_map!(self, |v| v.floor()))
    }

    /// Smallest integer ≥ x (integers unchanged). Gradient 0.
    pub fn ceil(&self) -> Tensor {
        if !self.dtype().is_float() {
            return self.clone();
        }
        with_zero_rule("ceil", self, || float_map!(self, |v| v.ceil()))
    }

    /// Nearest integer, halves to even (PyTorch's and NumPy's rounding). Gradient 0.
    pub fn round(&self) -> Tensor {
        if !self.dtype().is_float() {
            return self.clone();
        }
        with_zero_rule("round", self, || float_map!(self, |v| v.round_half_even()))
    }

    /// Limits values to `[min, max]` (either bound optional), in the tensor's dtype; NaN stays.
    /// The gradient passes where `min < x < max` and is 0 elsewhere, at the bounds too: what
    /// PyTorch 2.15 computes (older PyTorch passed it at the bounds as well).
    pub fn clamp(&self, min: Option<f64>, max: Option<f64>) -> Tensor {
        with_input_rule(
            "clamp",
            self,
            || {
                numeric_or_panic!(self.dtype(), "clamp", T => {
                    let lo = min.map(T::from_f64);
                    let hi = max.map(T::from_f64);
                    map::<T, T>(self, |v: T| {
                        let mut r = v;
                        if let Some(l) = lo && r < l {
                            r = l;
                        }
                        if let Some(h) = hi && r > h {
                            r = h;
                        }
                        r
                    })
                })
            },
            move |g, x| {
                // A NaN compares false with everything: it gets no gradient.
                let mut inside = x.eq(x);
                if let Some(lo) = min {
                    inside = inside & x.gt_scalar(lo);
                }
                if let Some(hi) = max {
                    inside = inside & x.lt_scalar(hi);
                }
                g * indicator(&inside, g)
            },
        )
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
