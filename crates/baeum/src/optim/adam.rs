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

/// How the weight decay enters a step: not at all, as an L2 term added to the gradient
/// (Adam), or by shrinking the weights directly (AdamW).
const NO_DECAY: u8 = 0;
const L2_DECAY: u8 = 1;
const DECOUPLED_DECAY: u8 = 2;

/// The per-step constants of an Adam update, in the parameter's dtype.
#[derive(Clone, Copy)]
struct AdamConsts<T> {
    /// −1 to maximize, else 1 (multiplying by ±1 is exact, so this is the same as negating).
    sign: T,
    w1: T,
    b2: T,
    w2: T,
    eps: T,
    bc2_sqrt: T,
    wd: T,
    decay: T,
    neg_step_size: T,
}

/// One run of the update over a chunk. The options that pick a formula are const parameters,
/// so the loop body has no branches and vectorises; the arithmetic and its order are
/// PyTorch's (`addcdiv` with `denom = √v / √(1 − β₂ᵗ) + ε`).
#[inline(never)]
fn adam_run<T: Float, const DECAY: u8, const AMSGRAD: bool>(
    k: AdamConsts<T>,
    p: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    vmax: &mut [T],
) {
    let n = p.len();
    let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
    let vmax = &mut vmax[..if AMSGRAD { n } else { 0 }];
    for i in 0..n {
        let mut d = g[i] * k.sign;
        match DECAY {
            L2_DECAY => d = d + k.wd * p[i],
            DECOUPLED_DECAY => p[i] = p[i] * k.decay,
            _ => {}
        }
        let mi = lerp(m[i], d, k.w1);
        let vi = v[i] * k.b2 + k.w2 * d * d;
        m[i] = mi;
        v[i] = vi;
        let second = if AMSGRAD {
            // torch.maximum: NaN wins.
            if vi > vmax[i] || vi.is_nan() {
                vmax[i] = vi;
            }
            vmax[i]
        } else {
            vi
        };
        p[i] = p[i] + k.neg_step_size * mi / (second.sqrt() / k.bc2_sqrt + k.eps);
    }
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
    let k = AdamConsts {
        sign: T::c(if maximize { -1.0 } else { 1.0 }),
        w1: T::c(1.0 - beta1),
        b2: T::c(beta2),
        w2: T::c(1.0 - beta2),
        eps: T::c(eps),
        bc2_sqrt: T::c(bias_correction2_sqrt),
        wd: T::c(weight_decay),
        decay: T::c(1.0 - lr * weight_decay),
        neg_step_size: T::c(-(lr / bias_correction1)),
    };
    let decay = match (weight_decay != 0.0, decoupled) {
        (false, _) => NO_DECAY,
        (true, false) => L2_DECAY,
        (true, true) => DECOUPLED_DECAY,
    };
    let run = match (decay, amsgrad) {
        (NO_DECAY, false) => adam_run::<T, NO_DECAY, false>,
        (L2_DECAY, false) => adam_run::<T, L2_DECAY, false>,
        (_, false) => adam_run::<T, DECOUPLED_DECAY, false>,
        (NO_DECAY, true) => adam_run::<T, NO_DECAY, true>,
        (L2_DECAY, true) => adam_run::<T, L2_DECAY, true>,
        (_, true) => adam_run::<T, DECOUPLED_DECAY, true>,
    };
    let [m, v, vmax] = st.buffers_opt_mut::<T, 3>(["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]);
    let (m, v) = (m.expect("exp_avg created"), v.expect("exp_avg_sq created"));
    match vmax {
        None if n >= PARALLEL_THRESHOLD => {
            let c = PARALLEL_CHUNK;
            p.par_chunks_mut(c)
                .zip(g.par_chunks(c))
                .zip(m.par_chunks_mut(c))
                .zip(v.par_chunks_mut(c))
                .for_each(|(((p, g), m), v)| run(k, p, g, m, v, &mut []));
        }
        None => run(k, p, g, m, v, &mut []),
        Some(vmax) => run(k, p, g, m, v, vmax),
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
