//! Weight penalties to add to a loss (COURSE §9): L1 = α Σ|w| (sparse weights, Lasso) and
//! L2 = λ Σ w² (small weights, Ridge). Both are differentiable tensors, so `loss + penalty`
//! back-propagates into the weights.

use crate::error::{Result, bail};
use crate::tensor::Tensor;

fn check(op: &str, params: &[Tensor], strength: f64) -> Result<()> {
    if params.is_empty() {
        bail!(Invalid, "{op}: no parameters given");
    }
    if !strength.is_finite() || strength < 0.0 {
        bail!(
            Invalid,
            "{op}: the strength must be finite and non-negative, got {strength}"
        );
    }
    if let Some((i, p)) = params
        .iter()
        .enumerate()
        .find(|(_, p)| !p.dtype().is_float())
    {
        bail!(
            DType,
            "{op}: parameter {i} (shape {}) has dtype {}; penalties need float tensors",
            p.shape(),
            p.dtype()
        );
    }
    Ok(())
}

/// `alpha · Σ_i Σ |w_i|` over all parameters: a 0-d tensor.
///
/// ```
/// use baeum::{Tensor, tensor};
/// let w = Tensor::param(&tensor!([1.0, -2.0]));
/// let p = baeum::optim::l1_penalty(&[w.clone()], 0.5).unwrap();
/// assert_eq!(p.item::<f32>(), 1.5);
/// ```
pub fn l1_penalty(params: &[Tensor], alpha: f64) -> Result<Tensor> {
    check("l1_penalty", params, alpha)?;
    let mut total = params[0].abs().sum();
    for p in &params[1..] {
        total = total + p.abs().sum();
    }
    Ok(total * alpha)
}

/// `lambda · Σ_i Σ w_i²` over all parameters: a 0-d tensor. (Its gradient 2λw is what SGD's
/// `weight_decay = 2λ` adds.)
pub fn l2_penalty(params: &[Tensor], lambda: f64) -> Result<Tensor> {
    check("l2_penalty", params, lambda)?;
    let mut total = params[0].square().sum();
    for p in &params[1..] {
        total = total + p.square().sum();
    }
    Ok(total * lambda)
}
