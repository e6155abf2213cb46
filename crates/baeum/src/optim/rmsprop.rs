//! RMSprop: gradients divided by a running root-mean-square, optionally centered and with
//! momentum (PyTorch's `torch.optim.RMSprop`).

use super::optimizer::{
    GenericOptimizer, ParamState, UpdateRule, builders, check, constructors, define_options, lerp,
};
use crate::tensor::Float;

define_options! {
    /// RMSprop's hyper-parameters besides `lr` (default 1e-2), with PyTorch's defaults.
    RmspropOptions, "RMSprop" {
        /// Smoothing constant of the mean square: `v ← α v + (1 − α) g²`.
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        /// Divide by the estimated variance `v − ḡ²` instead of `v`.
        centered: bool = false,
        maximize: bool = false,
    }
    validate |o, lr| {
        check(lr >= 0.0, "RMSprop", "learning rate", lr)?;
        check(o.eps >= 0.0, "RMSprop", "epsilon value", o.eps)?;
        check(o.momentum >= 0.0, "RMSprop", "momentum value", o.momentum)?;
        check(o.weight_decay >= 0.0, "RMSprop", "weight_decay value", o.weight_decay)?;
        check(o.alpha >= 0.0, "RMSprop", "alpha value", o.alpha)
    }
}

/// RMSprop's update.
pub struct RmspropRule;

impl UpdateRule for RmspropRule {
    type Options = RmspropOptions;

    fn update<T: Float>(o: &RmspropOptions, lr: f64, st: &mut ParamState, p: &mut [T], g: &[T]) {
        let n = p.len();
        st.ensure_buffer::<T>("square_avg", n, 0.0);
        if o.momentum > 0.0 {
            st.ensure_buffer::<T>("momentum_buffer", n, 0.0);
        }
        if o.centered {
            st.ensure_buffer::<T>("grad_avg", n, 0.0);
        }
        let (alpha, keep, eps) = (T::c(o.alpha), T::c(1.0 - o.alpha), T::c(o.eps));
        let (wd, mom, neg_lr) = (T::c(o.weight_decay), T::c(o.momentum), T::c(-lr));
        let [sq, mut buf, mut gavg] =
            st.buffers_opt_mut::<T, 3>(["square_avg", "momentum_buffer", "grad_avg"]);
        let sq = sq.expect("square_avg was just created");
        for i in 0..n {
            let mut d = if o.maximize { -g[i] } else { g[i] };
            if o.weight_decay != 0.0 {
                d = d + wd * p[i];
            }
            sq[i] = sq[i] * alpha + keep * d * d;
            let avg = if let Some(gavg) = gavg.as_deref_mut() {
                gavg[i] = lerp(gavg[i], d, keep);
                (sq[i] + T::c(-1.0) * gavg[i] * gavg[i]).sqrt()
            } else {
                sq[i].sqrt()
            } + eps;
            if let Some(buf) = buf.as_deref_mut() {
                buf[i] = buf[i] * mom + d / avg;
                p[i] = p[i] + neg_lr * buf[i];
            } else {
                p[i] = p[i] + neg_lr * d / avg;
            }
        }
    }
}

/// `torch.optim.RMSprop`: `Rmsprop::new(params, 0.01).centered(true).momentum(0.9)`.
pub type Rmsprop = GenericOptimizer<RmspropRule>;

constructors!(RmspropRule, RmspropOptions);
builders!(RmspropRule {
    alpha(alpha: f64) => "alpha" alpha;
    eps(eps: f64) => "eps" eps;
    weight_decay(weight_decay: f64) => "weight_decay" weight_decay;
    momentum(momentum: f64) => "momentum" momentum;
    centered(centered: bool) => "centered" centered;
    maximize(maximize: bool) => "maximize" maximize;
});
