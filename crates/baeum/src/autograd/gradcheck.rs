//! Gradient checking: the gradients backward computes, compared with central finite
//! differences in f64 (PyTorch's `torch.autograd.gradcheck`).
//!
//! ```
//! use baeum::autograd::gradcheck::gradcheck;
//! use baeum::tensor;
//! let f = |x: &[baeum::Tensor]| x[0].mul(&x[1]) / (&x[1] + 2.0);
//! let report = gradcheck(f, &[tensor!([0.5, -1.0]), tensor!([2.0, 3.0])]);
//! assert!(report.passed(), "{report}");
//! ```

use std::fmt;

use super::{BackwardOptions, grad};
use crate::tensor::random::Generator;
use crate::tensor::{DType, Tensor};

/// Tolerances and step of a gradient check.
#[derive(Clone, Copy, Debug)]
pub struct GradcheckOptions {
    /// The finite-difference step.
    pub eps: f64,
    /// An element passes when |analytic − numeric| ≤ atol + rtol·|numeric|.
    pub atol: f64,
    pub rtol: f64,
    /// Seed of the random upstream gradient.
    pub seed: u64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
            seed: 0,
        }
    }
}

/// The comparison for one input.
#[derive(Clone, Debug)]
pub struct InputCheck {
    /// The input's position in the argument list.
    pub index: usize,
    /// Largest |analytic − numeric| over the input's elements.
    pub max_abs_error: f64,
    /// Largest |analytic − numeric| / max(|analytic|, |numeric|) over elements where either
    /// exceeds `atol` (relative error is meaningless for gradients that are both ~0).
    pub max_rel_error: f64,
    /// Whether every element was within tolerance.
    pub passed: bool,
    pub analytic: Vec<f64>,
    pub numeric: Vec<f64>,
}

/// The result of [`gradcheck`]: one [`InputCheck`] per float input, and the operations the
/// checked function recorded.
#[derive(Clone, Debug)]
pub struct GradcheckReport {
    pub inputs: Vec<InputCheck>,
    /// The names of the nodes in the recorded graph, for coverage accounting.
    pub ops: Vec<&'static str>,
}

impl GradcheckReport {
    pub fn passed(&self) -> bool {
        self.inputs.iter().all(|c| c.passed)
    }

    /// The worst relative error over all inputs.
    pub fn max_rel_error(&self) -> f64 {
        self.inputs
            .iter()
            .map(|c| c.max_rel_error)
            .fold(0.0, f64::max)
    }
}

impl fmt::Display for GradcheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gradcheck of [{}]:", self.ops.join(", "))?;
        for c in &self.inputs {
            write!(
                f,
                "\n  input {}: {} (max abs error {:.3e}, max rel error {:.3e})",
                c.index,
                if c.passed { "ok" } else { "MISMATCH" },
                c.max_abs_error,
                c.max_rel_error
            )?;
            if !c.passed {
                write!(
                    f,
                    "\n    analytic {:?}\n    numeric  {:?}",
                    c.analytic, c.numeric
                )?;
            }
        }
        Ok(())
    }
}

/// [`gradcheck_with`] with default tolerances.
pub fn gradcheck(f: impl Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) -> GradcheckReport {
    gradcheck_with(f, inputs, GradcheckOptions::default())
}

/// Checks `f`'s gradients at `inputs`: every float input is converted to an f64 leaf that
/// requires grad (integer and bool inputs, such as indices, are passed unchanged), the output
/// is weighted by a random upstream gradient `v`, and the analytic vector-Jacobian product
/// `∂(Σ f(x)·v)/∂x` is compared with central differences `(L(x+ε) − L(x−ε)) / 2ε` per element.
pub fn gradcheck_with(
    f: impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
    options: GradcheckOptions,
) -> GradcheckReport {
    let leaves: Vec<Tensor> = inputs.iter().map(to_leaf).collect();
    let out = f(&leaves);
    assert!(
        out.dtype().is_float(),
        "gradcheck: the function returned a {} tensor; it must return floats",
        out.dtype()
    );
    let mut ops = Vec::new();
    if let Some(node) = out.grad_fn() {
        super::graph::collect_ops(node, &mut ops);
    }
    let mut rng = Generator::new(options.seed);
    let v = Tensor::normal_with(out.shape().clone(), 0.0, 1.0, DType::F64, &mut rng);
    let float_inputs: Vec<usize> = (0..leaves.len())
        .filter(|&i| leaves[i].dtype().is_float())
        .collect();
    let analytic = if out.requires_grad() {
        let targets: Vec<&Tensor> = float_inputs.iter().map(|&i| &leaves[i]).collect();
        grad(
            &[&out],
            &targets,
            Some(std::slice::from_ref(&v)),
            BackwardOptions::default(),
        )
        .unwrap_or_else(|e| panic!("gradcheck: {e}"))
    } else {
        vec![None; float_inputs.len()]
    };
    let loss = |xs: &[Tensor]| -> f64 { f(xs).to_f64().mul(&v).sum().item::<f64>() };

    let mut checks = Vec::new();
    for (k, &i) in float_inputs.iter().enumerate() {
        let x = &leaves[i];
        let base = x.to_vec::<f64>();
        let a: Vec<f64> = match &analytic[k] {
            Some(g) => g.to_vec::<f64>(),
            None => vec![0.0; base.len()],
        };
        let mut n = Vec::with_capacity(base.len());
        for j in 0..base.len() {
            let at = |delta: f64| {
                let mut vals = base.clone();
                vals[j] += delta;
                let mut xs = leaves.clone();
                xs[i] = Tensor::from_vec(vals, x.shape().clone()).requires_grad_(true);
                loss(&xs)
            };
            n.push((at(options.eps) - at(-options.eps)) / (2.0 * options.eps));
        }
        let (mut max_abs, mut max_rel, mut passed) = (0.0f64, 0.0f64, true);
        for (&ae, &ne) in a.iter().zip(&n) {
            let err = (ae - ne).abs();
            if err.is_nan() || err > options.atol + options.rtol * ne.abs() {
                passed = false;
            }
            max_abs = max_abs.max(err);
            let scale = ae.abs().max(ne.abs());
            if scale > options.atol {
                max_rel = max_rel.max(err / scale);
            }
        }
        checks.push(InputCheck {
            index: i,
            max_abs_error: max_abs,
            max_rel_error: max_rel,
            passed,
            analytic: a,
            numeric: n,
        });
    }
    GradcheckReport {
        inputs: checks,
        ops,
    }
}

/// Checks second derivatives: gradchecks the function `x ↦ ∂(Σ f(x)·v)/∂x` (the backward pass
/// recorded with `create_graph`), as PyTorch's `gradgradcheck` does.
pub fn gradgradcheck(f: impl Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) -> GradcheckReport {
    let options = GradcheckOptions::default();
    let leaves: Vec<Tensor> = inputs.iter().map(to_leaf).collect();
    let shape = f(&leaves).shape().clone();
    let mut rng = Generator::new(options.seed.wrapping_add(1));
    let v = Tensor::normal_with(shape, 0.0, 1.0, DType::F64, &mut rng);
    let first = |xs: &[Tensor]| -> Tensor {
        let out = f(xs);
        let targets: Vec<&Tensor> = xs.iter().filter(|x| x.dtype().is_float()).collect();
        let gs = grad(
            &[&out],
            &targets,
            Some(std::slice::from_ref(&v)),
            BackwardOptions::create_graph(),
        )
        .unwrap_or_else(|e| panic!("gradgradcheck: {e}"));
        // One scalar, Σ_k Σ g_k·w_k with fixed random weights w_k, so the check needs no
        // concatenation and covers every input's gradient at once.
        let mut total: Option<Tensor> = None;
        for (k, (g, x)) in gs.into_iter().zip(&targets).enumerate() {
            let g = g.unwrap_or_else(|| x.zeros_like());
            let mut rng = Generator::new(options.seed.wrapping_add(2 + k as u64));
            let w = Tensor::normal_with(x.shape().clone(), 0.0, 1.0, DType::F64, &mut rng);
            let term = (&g * &w).sum();
            total = Some(match total {
                Some(t) => t + term,
                None => term,
            });
        }
        total.unwrap_or_else(|| Tensor::scalar(0.0f64))
    };
    gradcheck_with(first, inputs, options)
}

fn to_leaf(t: &Tensor) -> Tensor {
    if t.dtype().is_float() {
        Tensor::from_vec(t.to_vec::<f64>(), t.shape().clone()).requires_grad_(true)
    } else {
        t.detach()
    }
}
