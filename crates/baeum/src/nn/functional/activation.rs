//! Activation functions (COURSE §7) as free functions, PyTorch's `F.relu(x)` style: the
//! element-wise ones that are `Tensor` methods, re-exposed, and those that are not: relu6,
//! hardtanh, celu, prelu, glu, log_sigmoid, softmin, tanhshrink, threshold, the unit step and
//! maxout. Each is composed of differentiable tensor operations, so its gradient follows from
//! theirs (PyTorch's at the kinks: hardtanh passes nothing at its bounds, the unit step has
//! gradient 0 everywhere).

use crate::error::{Result, bail};
use crate::tensor::Tensor;

pub fn relu(x: &Tensor) -> Tensor {
    x.relu()
}

/// PyTorch's default `negative_slope` is 0.01.
pub fn leaky_relu(x: &Tensor, negative_slope: f64) -> Tensor {
    x.leaky_relu(negative_slope)
}

/// PyTorch's default `alpha` is 1.
pub fn elu(x: &Tensor, alpha: f64) -> Tensor {
    x.elu(alpha)
}

pub fn selu(x: &Tensor) -> Tensor {
    x.selu()
}

/// The exact GELU, x·Φ(x).
pub fn gelu(x: &Tensor) -> Tensor {
    x.gelu()
}

pub fn silu(x: &Tensor) -> Tensor {
    x.silu()
}

pub fn mish(x: &Tensor) -> Tensor {
    x.mish()
}

/// PyTorch's defaults: `beta` 1, `threshold` 20.
pub fn softplus(x: &Tensor, beta: f64, threshold: f64) -> Tensor {
    x.softplus(beta, threshold)
}

pub fn softsign(x: &Tensor) -> Tensor {
    x.softsign()
}

pub fn hardsigmoid(x: &Tensor) -> Tensor {
    x.hardsigmoid()
}

pub fn hardswish(x: &Tensor) -> Tensor {
    x.hardswish()
}

pub fn sigmoid(x: &Tensor) -> Tensor {
    x.sigmoid()
}

pub fn tanh(x: &Tensor) -> Tensor {
    x.tanh()
}

pub fn softmax(x: &Tensor, dim: isize) -> Tensor {
    x.softmax(dim)
}

pub fn log_softmax(x: &Tensor, dim: isize) -> Tensor {
    x.log_softmax(dim)
}

/// Clamps into `[min_val, max_val]` (PyTorch's defaults −1, 1): the piece-wise linear
/// activation. The gradient is 1 strictly inside and 0 outside and at the bounds, as PyTorch.
pub fn hardtanh(x: &Tensor, min_val: f64, max_val: f64) -> Tensor {
    assert!(
        min_val <= max_val,
        "hardtanh: min_val {min_val} must not exceed max_val {max_val}"
    );
    x.clamp(Some(min_val), Some(max_val))
}

/// min(max(x, 0), 6).
pub fn relu6(x: &Tensor) -> Tensor {
    hardtanh(x, 0.0, 6.0)
}

/// max(0, x) + min(0, α(e^(x/α) − 1)) (PyTorch's default α = 1).
pub fn celu(x: &Tensor, alpha: f64) -> Tensor {
    assert!(alpha != 0.0, "celu: alpha must not be 0");
    (x * (1.0 / alpha)).elu(1.0) * alpha
}

/// x where x > 0, else w·x, with one learned slope per channel (`weight` of shape `[C]` for
/// the channels on dimension 1, or `[1]` shared).
pub fn prelu(input: &Tensor, weight: &Tensor) -> Result<Tensor> {
    if !input.dtype().is_float() || weight.dtype() != input.dtype() {
        bail!(
            DType,
            "prelu: input ({}) and weight ({}) must be float tensors of one dtype",
            input.dtype(),
            weight.dtype()
        );
    }
    if weight.rank() != 1 {
        bail!(
            Shape,
            "prelu: weight must be 1-D ([C] or [1]), got shape {}",
            weight.shape()
        );
    }
    let channels = weight.dims()[0];
    let slope = if channels == 1 {
        weight.reshape(&[])
    } else {
        if input.rank() < 2 || input.dims()[1] != channels {
            bail!(
                Shape,
                "prelu: {channels} slopes need an input with {channels} channels on dimension \
                 1, got shape {}",
                input.shape()
            );
        }
        let mut shape = vec![1isize, channels as isize];
        shape.extend(std::iter::repeat_n(1, input.rank() - 2));
        weight.reshape(&shape)
    };
    Ok(Tensor::where_(
        &input.gt_scalar(0.0),
        input,
        &(input * slope),
    ))
}

/// Gated linear unit: splits `dim` in halves a, b and gives a ⊙ σ(b).
pub fn glu(input: &Tensor, dim: isize) -> Result<Tensor> {
    let d = crate::tensor::resolve_dim(dim, input.rank())?;
    if input.rank() == 0 || !input.dims()[d].is_multiple_of(2) {
        bail!(
            Shape,
            "glu: dimension {dim} of the input (shape {}) must have an even size",
            input.shape()
        );
    }
    let half = input.dims()[d] / 2;
    let a = input.narrow(d, 0, half);
    let b = input.narrow(d, half, half);
    Ok(a * b.sigmoid())
}

/// log σ(x) = −softplus(−x), stable for large |x|.
pub fn log_sigmoid(x: &Tensor) -> Tensor {
    -(-x).softplus(1.0, 50.0)
}

/// softmax(−x) along `dim`.
pub fn softmin(x: &Tensor, dim: isize) -> Tensor {
    (-x).softmax(dim)
}

/// x − tanh(x).
pub fn tanhshrink(x: &Tensor) -> Tensor {
    x - x.tanh()
}

/// x where x > threshold, else `value`.
pub fn threshold(x: &Tensor, threshold: f64, value: f64) -> Tensor {
    Tensor::where_(&x.gt_scalar(threshold), x, &x.full_like(value))
}

/// The unit step (Heaviside): 0 for x < 0, 1 for x > 0 and `value_at_zero` at 0 (PyTorch's
/// `torch.heaviside(x, values)` with one value). Its gradient is 0 everywhere.
pub fn heaviside(x: &Tensor, value_at_zero: f64) -> Tensor {
    // (sign(x) + 1) / 2 is the step off zero; sign's recorded gradient is 0.
    let step = (x.sign() + 1.0) * 0.5;
    Tensor::where_(&x.eq_scalar(0.0), &step.full_like(value_at_zero), &step)
}

/// Maxout: the maximum over groups of `pieces` consecutive channels of dimension `dim`
/// (e.g. max(w₁ᵀx + b₁, w₂ᵀx + b₂) for two pieces), which divides that size by `pieces`.
pub fn maxout(input: &Tensor, pieces: usize, dim: isize) -> Result<Tensor> {
    let d = crate::tensor::resolve_dim(dim, input.rank())?;
    if input.rank() == 0 || pieces == 0 || !input.dims()[d].is_multiple_of(pieces) {
        bail!(
            Shape,
            "maxout: dimension {dim} of the input (shape {}) must be a multiple of pieces = \
             {pieces}",
            input.shape()
        );
    }
    let mut grouped: Vec<isize> = input.dims().iter().map(|&s| s as isize).collect();
    grouped[d] = (input.dims()[d] / pieces) as isize;
    grouped.insert(d + 1, pieces as isize);
    Ok(input.reshape(&grouped).amax(&[d as isize + 1], false))
}
