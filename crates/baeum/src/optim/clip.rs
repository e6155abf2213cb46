//! Gradient clipping (PyTorch's `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`):
//! run after `backward()` and before `optimizer.step()` to keep exploding gradients in check.

use crate::autograd::no_grad;
use crate::error::{Result, bail};
use crate::tensor::Tensor;

/// Scales all gradients together so that their total `norm_type`-norm (the norm of the
/// per-parameter norms; `f64::INFINITY` for the max-norm) is at most `max_norm`, and returns
/// the total norm before clipping. Parameters without a gradient are skipped.
///
/// The scale is `max_norm / (total + 1e-6)`, capped at 1, as in PyTorch.
///
/// ```
/// use baeum::optim::clip_grad_norm_;
/// use baeum::{Tensor, tensor};
/// let w = Tensor::param(&tensor!([0.0, 0.0]));
/// w.set_grad(Some(tensor!([3.0, 4.0])));
/// let total = clip_grad_norm_(&[w.clone()], 1.0, 2.0).unwrap();
/// assert_eq!(total, 5.0);
/// let g = w.grad().unwrap().to_vec::<f32>();
/// assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
/// ```
pub fn clip_grad_norm_(params: &[Tensor], max_norm: f64, norm_type: f64) -> Result<f64> {
    clip_grad_norm_with(params, max_norm, norm_type, false)
}

/// [`clip_grad_norm_`] that, with `error_if_nonfinite`, returns an error (and leaves the
/// gradients alone) when the total norm is NaN or infinite.
pub fn clip_grad_norm_with(
    params: &[Tensor],
    max_norm: f64,
    norm_type: f64,
    error_if_nonfinite: bool,
) -> Result<f64> {
    if norm_type.is_nan() || norm_type <= 0.0 {
        bail!(
            Invalid,
            "clip_grad_norm_: norm_type must be positive or infinite, got {norm_type}"
        );
    }
    let grads: Vec<(&Tensor, Tensor)> = params
        .iter()
        .filter_map(|p| p.grad().map(|g| (p, g)))
        .collect();
    if grads.is_empty() {
        return Ok(0.0);
    }
    // Per-parameter norms accumulated in f64, then the norm of the norms.
    let norms: Vec<f64> = grads
        .iter()
        .map(|(_, g)| vector_norm(&g.to_vec::<f64>(), norm_type))
        .collect();
    let total = vector_norm(&norms, norm_type);
    if error_if_nonfinite && !total.is_finite() {
        bail!(
            Invalid,
            "clip_grad_norm_: the total norm of order {norm_type} of the gradients of {} \
             parameters is non-finite ({total}), so they cannot be clipped",
            grads.len()
        );
    }
    let coef = (max_norm / (total + 1e-6)).min(1.0);
    no_grad(|| {
        for (p, g) in &grads {
            // A new tensor rather than an in-place change: backward may hand one gradient
            // tensor to several parameters.
            p.set_grad(Some(g * coef));
        }
    });
    Ok(total)
}

/// The `p`-norm of a vector (`p = ∞`: the largest absolute value).
fn vector_norm(values: &[f64], p: f64) -> f64 {
    if p.is_infinite() {
        values.iter().fold(0.0f64, |m, v| {
            if v.is_nan() || m.is_nan() {
                f64::NAN
            } else {
                m.max(v.abs())
            }
        })
    } else if p == 1.0 {
        values.iter().map(|v| v.abs()).sum()
    } else if p == 2.0 {
        values.iter().map(|v| v * v).sum::<f64>().sqrt()
    } else {
        values
            .iter()
            .map(|v| v.abs().powf(p))
            .sum::<f64>()
            .powf(1.0 / p)
    }
}

/// Clamps every gradient element into `[-clip_value, clip_value]`.
pub fn clip_grad_value_(params: &[Tensor], clip_value: f64) -> Result<()> {
    if clip_value.is_nan() || clip_value < 0.0 {
        bail!(
            Invalid,
            "clip_grad_value_: clip_value must be non-negative, got {clip_value}"
        );
    }
    no_grad(|| {
        for p in params {
            if let Some(g) = p.grad() {
                p.set_grad(Some(g.clamp(Some(-clip_value), Some(clip_value))));
            }
        }
    });
    Ok(())
}
