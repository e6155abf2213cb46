//! Adadelta: steps scaled by the ratio of running RMS of updates and of gradients
//! (PyTorch's `torch.optim.Adadelta`, whose default `lr` is 1.0).

use super::optimizer::{
    GenericOptimizer, ParamState, UpdateRule, builders, check, constructors, define_options,
};
use crate::tensor::Float;

define_options! {
    /// Adadelta's hyper-parameters besides `lr` (default 1.0), with PyTorch's defaults.
    AdadeltaOptions, "Adadelta" {
        /// Smoothing constant of both running averages.
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        maximize: bool = false,
    }
    validate |o, lr| {
        check(lr >= 0.0, "Adadelta", "learning rate", lr)?;
        check((0.0..=1.0).contains(&o.rho), "Adadelta", "rho value", o.rho)?;
        check(o.eps >= 0.0, "Adadelta", "epsilon value", o.eps)?;
        check(o.weight_decay >= 0.0, "Adadelta", "weight_decay value", o.weight_decay)
    }
}

/// Adadelta's update.
pub struct AdadeltaRule;

impl UpdateRule for AdadeltaRule {
    type Options = AdadeltaOptions;

    fn update<T: Float>(o: &AdadeltaOptions, lr: f64, st: &mut ParamState, p: &mut [T], g: &[T]) {
        let n = p.len();
        st.ensure_buffer::<T>("square_avg", n, 0.0);
        st.ensure_buffer::<T>("acc_delta", n, 0.0);
        let (rho, keep, eps) = (T::c(o.rho), T::c(1.0 - o.rho), T::c(o.eps));
        let (wd, neg_lr) = (T::c(o.weight_decay), T::c(-lr));
        let [sq, acc] = st.buffers_mut::<T, 2>(["square_avg", "acc_delta"]);
        for i in 0..n {
            let mut d = if o.maximize { -g[i] } else { g[i] };
            if o.weight_decay != 0.0 {
                d = d + wd * p[i];
            }
            sq[i] = sq[i] * rho + keep * d * d;
            let std = (sq[i] + eps).sqrt();
            let delta = (acc[i] + eps).sqrt() / std * d;
            acc[i] = acc[i] * rho + keep * delta * delta;
            p[i] = p[i] + neg_lr * delta;
        }
    }
}

/// `torch.optim.Adadelta`: `Adadelta::new(params, 1.0).rho(0.95)`.
pub type Adadelta = GenericOptimizer<AdadeltaRule>;

constructors!(AdadeltaRule, AdadeltaOptions);
builders!(AdadeltaRule {
    rho(rho: f64) => "rho" rho;
    eps(eps: f64) => "eps" eps;
    weight_decay(weight_decay: f64) => "weight_decay" weight_decay;
    maximize(maximize: bool) => "maximize" maximize;
});
