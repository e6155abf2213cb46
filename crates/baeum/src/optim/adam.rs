//! Adam and AdamW: bias-corrected first and second moment estimates, with L2 (Adam) or
//! decoupled (AdamW) weight decay and the AMSGrad variant (PyTorch's `torch.optim.Adam`,
//! `torch.optim.AdamW`).

use super::optimizer::{
    GenericOptimizer, ParamState, UpdateRule, builders, check, constructors, define_options, lerp,
};
use crate::kernels::{PARALLEL_CHUNK, PARALLEL_THRESHOLD};
use crate::tensor::Float;
use rayon::prelude::*;

fn validate_adam(name: &str, lr: f64, betas: (f64, f64), eps: f64, wd: f64) -> crate::Result<()> {
    check(lr >= 0.0, name, "learning rate", lr)?;
    check(eps >= 0.0, name, "epsilon value", eps)?;
    check(
        (0.0..1.0).contains(&betas.0),
        name,
        "beta parameter at index 0",
        betas.0,
    )?;
    check(
        (0.0..1.0).contains(&betas.1),
        name,
        "beta parameter at index 1",
        betas.1,
    )?;
    check(wd >= 0.0, name, "weight_decay value", wd)
}

define_options! {
    /// Adam's hyper-parameters besides `lr` (default 1e-3), with PyTorch's defaults.
    AdamOptions, "Adam" {
        /// Decay rates (β₁, β₂) of the first and second moment estimates.
        betas: pair = (0.9, 0.999),
        eps: float = 1e-8,
        /// L2 penalty added to the gradient (or, with `decoupled_weight_decay`, AdamW's decay).
        weight_decay: float = 0.0,
        /// Use the maximum of all second-moment estimates so far (AMSGrad).
        amsgrad: bool = false,
        maximize: bool = false,
        /// Decay the weights directly, `θ ← θ (1 − lr λ)`, as AdamW does.
        decoupled_weight_decay: bool = false,
    }
    validate |o, lr| { validate_adam("Adam", lr, o.betas, o.eps, o.weight_decay) }
}

define_options! {
    /// AdamW's hyper-parameters besides `lr` (default 1e-3); weight decay is decoupled and
    /// defaults to 1e-2.
    AdamWOptions, "AdamW" {
        betas: pair = (0.9, 0.999),
        eps: float = 1e-8,
        /// Decoupled weight decay: `θ ← θ (1 − lr λ)` before the Adam step.
        weight_decay: float = 1e-2,
        amsgrad: bool = false,
        maximize: bool = false,
    }
    validate |o, lr| { validate_adam("AdamW", lr, o.betas, o.eps, o.weight_decay) }
}

/// The Adam step shared by Adam and AdamW.
#[allow(clippy::too_many_arguments)]
fn adam_step<T: Float>(
    (beta1, beta2): (f64, f64),
    eps: f64,
    weight_decay: f64,
    amsgrad: bool,
    maximize: bool,
    decoupled: bool,
    lr: f64,
    st: &mut ParamState,
    p: &mut [T],
    g: &[T],
) {
    let n = p.len();
    st.ensure_buffer::<T>("exp_avg", n, 0.0);
    st.ensure_buffer::<T>("exp_avg_sq", n, 0.0);
    if amsgrad {
        st.ensure_buffer::<T>("max_exp_avg_sq", n, 0.0);
    }
    let step = st.step as f64;
    let bias_correction1 = 1.0 - beta1.powf(step);
    let bias_correction2_sqrt = (1.0 - beta2.powf(step)).sqrt();
    let neg_step_size = T::c(-(lr / bias_correction1));
    let (w1, b2, w2) = (T::c(1.0 - beta1), T::c(beta2), T::c(1.0 - beta2));
    let (eps, bc2_sqrt, wd) = (T::c(eps), T::c(bias_correction2_sqrt), T::c(weight_decay));
    let decay = T::c(1.0 - lr * weight_decay);
    let [m, v, vmax] = st.buffers_opt_mut::<T, 3>(["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]);
    let (m, v) = (m.expect("exp_avg created"), v.expect("exp_avg_sq created"));
    // One run over a chunk; the options are loop-invariant, so the loops vectorise.
    let run = |p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], vmax: Option<&mut [T]>| {
        let n = p.len();
        let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
        // The moments of element i, after applying its (decayed) gradient.
        let mut moments = |i: usize, p: &mut [T]| {
            let mut d = if maximize { -g[i] } else { g[i] };
            if weight_decay != 0.0 {
                if decoupled {
                    p[i] = p[i] * decay;
                } else {
                    d = d + wd * p[i];
                }
            }
            m[i] = lerp(m[i], d, w1);
            v[i] = v[i] * b2 + w2 * d * d;
            (m[i], v[i])
        };
        match vmax {
            Some(vmax) => {
                let vmax = &mut vmax[..n];
                for i in 0..n {
                    let (mi, vi) = moments(i, p);
                    // torch.maximum: NaN wins.
                    if vi > vmax[i] || vi.is_nan() {
                        vmax[i] = vi;
                    }
                    p[i] = p[i] + neg_step_size * mi / (vmax[i].sqrt() / bc2_sqrt + eps);
                }
            }
            None => {
                for i in 0..n {
                    let (mi, vi) = moments(i, p);
                    p[i] = p[i] + neg_step_size * mi / (vi.sqrt() / bc2_sqrt + eps);
                }
            }
        }
    };
    match vmax {
        None if n >= PARALLEL_THRESHOLD => {
            let c = PARALLEL_CHUNK;
            p.par_chunks_mut(c)
                .zip(g.par_chunks(c))
                .zip(m.par_chunks_mut(c))
                .zip(v.par_chunks_mut(c))
                .for_each(|(((p, g), m), v)| run(p, g, m, v, None));
        }
        vmax => run(p, g, m, v, vmax),
    }
}

/// Adam's update.
pub struct AdamRule;

impl UpdateRule for AdamRule {
    type Options = AdamOptions;

    fn update<T: Float>(o: &AdamOptions, lr: f64, st: &mut ParamState, p: &mut [T], g: &[T]) {
        adam_step(
            o.betas,
            o.eps,
            o.weight_decay,
            o.amsgrad,
            o.maximize,
            o.decoupled_weight_decay,
            lr,
            st,
            p,
            g,
        );
    }
}

/// AdamW's update: Adam with decoupled weight decay.
pub struct AdamWRule;

impl UpdateRule for AdamWRule {
    type Options = AdamWOptions;

    fn update<T: Float>(o: &AdamWOptions, lr: f64, st: &mut ParamState, p: &mut [T], g: &[T]) {
        adam_step(
            o.betas,
            o.eps,
            o.weight_decay,
            o.amsgrad,
            o.maximize,
            true,
            lr,
            st,
            p,
            g,
        );
    }
}

/// `torch.optim.Adam`: `Adam::new(params, 1e-3).betas(0.9, 0.999).amsgrad(true)`.
pub type Adam = GenericOptimizer<AdamRule>;
/// `torch.optim.AdamW`: `AdamW::new(params, 1e-3).weight_decay(0.05)`.
pub type AdamW = GenericOptimizer<AdamWRule>;

constructors!(AdamRule, AdamOptions);
builders!(AdamRule {
    betas(beta1: f64, beta2: f64) => "betas" (beta1, beta2);
    eps(eps: f64) => "eps" eps;
    weight_decay(weight_decay: f64) => "weight_decay" weight_decay;
    amsgrad(amsgrad: bool) => "amsgrad" amsgrad;
    maximize(maximize: bool) => "maximize" maximize;
    decoupled_weight_decay(decoupled: bool) => "decoupled_weight_decay" decoupled;
});

constructors!(AdamWRule, AdamWOptions);
builders!(AdamWRule {
    betas(beta1: f64, beta2: f64) => "betas" (beta1, beta2);
    eps(eps: f64) => "eps" eps;
    weight_decay(weight_decay: f64) => "weight_decay" weight_decay;
    amsgrad(amsgrad: bool) => "amsgrad" amsgrad;
    maximize(maximize: bool) => "maximize" maximize;
});
