//! Adagrad: per-element learning rates from the running sum of squared gradients
//! (PyTorch's `torch.optim.Adagrad`).

use super::optimizer::{
    GenericOptimizer, ParamState, UpdateRule, builders, check, constructors, define_options,
};
use crate::tensor::{Float, Tensor};
use crate::with_float_dtype;

define_options! {
    /// Adagrad's hyper-parameters besides `lr` (default 1e-2), with PyTorch's defaults.
    AdagradOptions, "Adagrad" {
        /// Learning-rate decay: step t uses `lr / (1 + (t − 1) · lr_decay)`.
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        /// The starting value of the sum of squares.
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        maximize: bool = false,
    }
    validate |o, lr| {
        check(lr >= 0.0, "Adagrad", "learning rate", lr)?;
        check(o.lr_decay >= 0.0, "Adagrad", "lr_decay value", o.lr_decay)?;
        check(o.weight_decay >= 0.0, "Adagrad", "weight_decay value", o.weight_decay)?;
        check(
            o.initial_accumulator_value >= 0.0,
            "Adagrad",
            "initial_accumulator_value",
            o.initial_accumulator_value,
        )?;
        check(o.eps >= 0.0, "Adagrad", "epsilon value", o.eps)
    }
}

/// Adagrad's update: `G ← G + g²`, `θ ← θ − clr · g / (√G + ε)`.
pub struct AdagradRule;

impl UpdateRule for AdagradRule {
    type Options = AdagradOptions;

    /// PyTorch creates the accumulator when the optimizer is built.
    fn initial_state(o: &AdagradOptions, param: &Tensor) -> Option<ParamState> {
        let mut st = ParamState::default();
        with_float_dtype!(param.dtype(), T => {
            st.ensure_buffer::<T>("sum", param.numel(), o.initial_accumulator_value)
        }, {});
        Some(st)
    }

    fn update<T: Float>(o: &AdagradOptions, lr: f64, st: &mut ParamState, p: &mut [T], g: &[T]) {
        st.ensure_buffer::<T>("sum", p.len(), o.initial_accumulator_value);
        let clr = lr / (1.0 + (st.step - 1) as f64 * o.lr_decay);
        let (wd, eps, neg_clr) = (T::c(o.weight_decay), T::c(o.eps), T::c(-clr));
        let [sum] = st.buffers_mut::<T, 1>(["sum"]);
        for i in 0..p.len() {
            let mut d = if o.maximize { -g[i] } else { g[i] };
            if o.weight_decay != 0.0 {
                d = d + wd * p[i];
            }
            sum[i] = sum[i] + d * d;
            let std = sum[i].sqrt() + eps;
            p[i] = p[i] + neg_clr * d / std;
        }
    }
}

/// `torch.optim.Adagrad`: `Adagrad::new(params, 0.01).lr_decay(1e-3)`.
pub type Adagrad = GenericOptimizer<AdagradRule>;

constructors!(AdagradRule, AdagradOptions);
builders!(AdagradRule {
    lr_decay(lr_decay: f64) => "lr_decay" lr_decay;
    weight_decay(weight_decay: f64) => "weight_decay" weight_decay;
    initial_accumulator_value(value: f64) => "initial_accumulator_value" value;
    eps(eps: f64) => "eps" eps;
    maximize(maximize: bool) => "maximize" maximize;
});
