//! NAdam: Adam with Nesterov momentum and a momentum schedule (PyTorch's `torch.optim.NAdam`).

use super::optimizer::{
    GenericOptimizer, ParamState, UpdateRule, builders, check, constructors, define_options, lerp,
};
use crate::tensor::Float;

define_options! {
    /// NAdam's hyper-parameters besides `lr` (default 2e-3), with PyTorch's defaults.
    NAdamOptions, "NAdam" {
        betas: pair = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        /// ψ of the momentum schedule `μ_t = β₁ (1 − ½ · 0.96^(t ψ))`.
        momentum_decay: float = 4e-3,
        /// Decay the weights directly (as AdamW) instead of adding an L2 term to the gradient.
        decoupled_weight_decay: bool = false,
        maximize: bool = false,
    }
    validate |o, lr| {
        check(lr >= 0.0, "NAdam", "learning rate", lr)?;
        check(o.eps >= 0.0, "NAdam", "epsilon value", o.eps)?;
        check((0.0..1.0).contains(&o.betas.0), "NAdam", "beta parameter at index 0", o.betas.0)?;
        check((0.0..1.0).contains(&o.betas.1), "NAdam", "beta parameter at index 1", o.betas.1)?;
        check(o.weight_decay >= 0.0, "NAdam", "weight_decay value", o.weight_decay)?;
        check(o.momentum_decay >= 0.0, "NAdam", "momentum_decay value", o.momentum_decay)
    }
}

/// NAdam's update.
pub struct NAdamRule;

impl UpdateRule for NAdamRule {
    type Options = NAdamOptions;

    fn update<T: Float>(o: &NAdamOptions, lr: f64, st: &mut ParamState, p: &mut [T], g: &[T]) {
        let n = p.len();
        st.ensure_buffer::<T>("exp_avg", n, 0.0);
        st.ensure_buffer::<T>("exp_avg_sq", n, 0.0);
        if !st.has_scalar("mu_product") {
            st.set_scalar("mu_product", 1.0);
        }
        let (beta1, beta2) = o.betas;
        let step = st.step as f64;
        let bias_correction2 = 1.0 - beta2.powf(step);
        let mu = beta1 * (1.0 - 0.5 * 0.96f64.powf(step * o.momentum_decay));
        let mu_next = beta1 * (1.0 - 0.5 * 0.96f64.powf((step + 1.0) * o.momentum_decay));
        let mu_product = st.scalar("mu_product") * mu;
        st.set_scalar("mu_product", mu_product);
        let mu_product_next = mu_product * mu_next;
        let grad_coef = T::c(-lr * (1.0 - mu) / (1.0 - mu_product));
        let avg_coef = T::c((-lr * mu_next) / (1.0 - mu_product_next));
        let (w1, b2, w2) = (T::c(1.0 - beta1), T::c(beta2), T::c(1.0 - beta2));
        let (eps, bc2, wd) = (T::c(o.eps), T::c(bias_correction2), T::c(o.weight_decay));
        let decay = T::c(1.0 - lr * o.weight_decay);
        let [m, v] = st.buffers_mut::<T, 2>(["exp_avg", "exp_avg_sq"]);
        for i in 0..n {
            let mut d = if o.maximize { -g[i] } else { g[i] };
            if o.weight_decay != 0.0 {
                if o.decoupled_weight_decay {
                    p[i] = p[i] * decay;
                } else {
                    d = d + wd * p[i];
                }
            }
            m[i] = lerp(m[i], d, w1);
            v[i] = v[i] * b2 + w2 * d * d;
            let denom = (v[i] / bc2).sqrt() + eps;
            p[i] = p[i] + grad_coef * d / denom;
            p[i] = p[i] + avg_coef * m[i] / denom;
        }
    }
}

/// `torch.optim.NAdam`: `NAdam::new(params, 2e-3).momentum_decay(4e-3)`.
pub type NAdam = GenericOptimizer<NAdamRule>;

constructors!(NAdamRule, NAdamOptions);
builders!(NAdamRule {
    betas(beta1: f64, beta2: f64) => "betas" (beta1, beta2);
    eps(eps: f64) => "eps" eps;
    weight_decay(weight_decay: f64) => "weight_decay" weight_decay;
    momentum_decay(momentum_decay: f64) => "momentum_decay" momentum_decay;
    decoupled_weight_decay(decoupled: bool) => "decoupled_weight_decay" decoupled;
    maximize(maximize: bool) => "maximize" maximize;
});
