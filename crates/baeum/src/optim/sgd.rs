//! Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay
//! (PyTorch's `torch.optim.SGD`).

use super::optimizer::{
    GenericOptimizer, ParamState, UpdateRule, builders, check, constructors, define_options,
};
use crate::tensor::Float;

define_options! {
    /// SGD's hyper-parameters besides `lr`, with PyTorch's defaults.
    SgdOptions, "SGD" {
        /// Momentum factor μ (0: plain SGD).
        momentum: float = 0.0,
        /// Dampening τ of the momentum: `b ← μ b + (1 − τ) g`.
        dampening: float = 0.0,
        /// L2 penalty added to the gradient: `g ← g + λ θ`.
        weight_decay: float = 0.0,
        /// Nesterov momentum: step along `g + μ b` instead of `b`.
        nesterov: bool = false,
        /// Maximize the objective instead of minimizing it.
        maximize: bool = false,
    }
    validate |o, lr| {
        check(lr >= 0.0, "SGD", "learning rate", lr)?;
        check(o.momentum >= 0.0, "SGD", "momentum value", o.momentum)?;
        check(o.weight_decay >= 0.0, "SGD", "weight_decay value", o.weight_decay)?;
        check(
            !o.nesterov || (o.momentum > 0.0 && o.dampening == 0.0),
            "SGD",
            "setting: Nesterov momentum requires a momentum and zero dampening; momentum, dampening",
            (o.momentum, o.dampening),
        )
    }
}

/// SGD's update: `θ ← θ − lr · d`, `d` the (momentum) direction.
pub struct SgdRule;

impl UpdateRule for SgdRule {
    type Options = SgdOptions;

    fn update<T: Float>(o: &SgdOptions, lr: f64, st: &mut ParamState, p: &mut [T], g: &[T]) {
        let (wd, mom, keep) = (
            T::c(o.weight_decay),
            T::c(o.momentum),
            T::c(1.0 - o.dampening),
        );
        let neg_lr = T::c(-lr);
        let direction = |i: usize, p: &[T]| {
            let d = if o.maximize { -g[i] } else { g[i] };
            if o.weight_decay != 0.0 {
                d + wd * p[i]
            } else {
                d
            }
        };
        if o.momentum == 0.0 {
            for i in 0..p.len() {
                let d = direction(i, p);
                p[i] = p[i] + neg_lr * d;
            }
            return;
        }
        // The first step starts the buffer at the gradient itself (no dampening), as PyTorch.
        let first = !st.has_buffer("momentum_buffer");
        st.ensure_buffer::<T>("momentum_buffer", p.len(), 0.0);
        let [buf] = st.buffers_mut::<T, 1>(["momentum_buffer"]);
        for i in 0..p.len() {
            let d = direction(i, p);
            buf[i] = if first { d } else { buf[i] * mom + keep * d };
            let step = if o.nesterov { d + mom * buf[i] } else { buf[i] };
            p[i] = p[i] + neg_lr * step;
        }
    }
}

/// `torch.optim.SGD`: `Sgd::new(params, 0.1).momentum(0.9).nesterov(true)`.
pub type Sgd = GenericOptimizer<SgdRule>;

constructors!(SgdRule, SgdOptions);
builders!(SgdRule {
    momentum(momentum: f64) => "momentum" momentum;
    dampening(dampening: f64) => "dampening" dampening;
    weight_decay(weight_decay: f64) => "weight_decay" weight_decay;
    nesterov(nesterov: bool) => "nesterov" nesterov;
    maximize(maximize: bool) => "maximize" maximize;
});
