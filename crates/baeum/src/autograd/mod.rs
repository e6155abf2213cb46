//! Reverse-mode automatic differentiation, define-by-run as in PyTorch.
//!
//! Every operation on a tensor that requires a gradient records a [`Node`] naming the operation,
//! its inputs and a backward rule (the "local derivative" of COURSE §10, written next to the
//! forward in `ops`). `loss.backward()` walks the recorded graph from the loss back to the leaves
//! and accumulates `∂loss/∂leaf` into each leaf's `grad()`.
//!
//! ```
//! use baeum::tensor;
//! let x = tensor!([1.0, 2.0, 3.0]).requires_grad_(true);
//! let y = (&x * &x).sum(); // y = Σ x²
//! y.backward();
//! assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![2.0, 4.0, 6.0]); // ∂y/∂x = 2x
//! ```
//!
//! - [`no_grad`] / [`NoGradGuard`]: run without recording (evaluation, optimizer updates).
//! - [`Tensor::detach`]: the same values, cut from the graph.
//! - [`BackwardOptions`]: `retain_graph` keeps the graph for a second backward; `create_graph`
//!   records the backward pass itself so gradients can be differentiated again.
//! - [`grad`]: gradients of outputs with respect to chosen inputs, returned instead of
//!   accumulated (PyTorch's `torch.autograd.grad`).
//! - [`gradcheck`](gradcheck::gradcheck): analytic gradients against finite differences.

mod engine;
pub mod gradcheck;
pub mod graph;
mod node;
pub mod registry;

use std::cell::Cell;

pub(crate) use engine::replayed_grads;
pub use engine::{BackwardOptions, grad};
pub use node::{Edge, Node};
pub(crate) use node::{Grads, Saved, grads, record_op};

use crate::error::{Result, bail};
use crate::tensor::Tensor;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether operations on this thread are being recorded for autograd.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Turns recording on or off for this thread, returning the previous setting.
pub fn set_grad_enabled(enabled: bool) -> bool {
    GRAD_ENABLED.with(|g| g.replace(enabled))
}

/// Runs `f` with recording off (PyTorch's `with torch.no_grad():`): nothing computed inside
/// joins a graph, so evaluation uses less memory and optimizer updates are not differentiated.
///
/// ```
/// use baeum::{tensor, autograd::no_grad};
/// let w = tensor!([1.0]).requires_grad_(true);
/// let y = no_grad(|| &w * 2.0);
/// assert!(!y.requires_grad());
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = NoGradGuard::new();
    f()
}

/// Runs `f` with recording on, even inside a [`no_grad`] scope.
pub fn enable_grad<R>(f: impl FnOnce() -> R) -> R {
    let previous = set_grad_enabled(true);
    let _restore = Restore(previous);
    f()
}

/// Recording is off while this guard lives, and back to what it was when it drops.
#[must_use = "recording is off only while the guard is alive"]
pub struct NoGradGuard {
    _restore: Restore,
}

impl NoGradGuard {
    pub fn new() -> Self {
        NoGradGuard {
            _restore: Restore(set_grad_enabled(false)),
        }
    }
}

impl Default for NoGradGuard {
    fn default() -> Self {
        Self::new()
    }
}

struct Restore(bool);
impl Drop for Restore {
    fn drop(&mut self) {
        set_grad_enabled(self.0);
    }
}

/// The autograd side of a tensor: flags, gradients, backward.
impl Tensor {
    /// Marks a leaf tensor as a parameter: gradients will flow to it and collect in
    /// [`Tensor::grad`]. Returns a handle to the same tensor, so it chains after a constructor:
    /// `Tensor::randn([3, 2]).requires_grad_(true)`.
    ///
    /// Panics for a tensor that is the result of a recorded operation (only leaves can be
    /// parameters) and for integer or bool tensors (gradients need floats).
    pub fn requires_grad_(&self, requires_grad: bool) -> Tensor {
        if let Some(node) = &self.0.grad_fn {
            panic!(
                "requires_grad_: only leaf tensors can change requires_grad; this one is the \
                 output of `{}` (use .detach() to get a leaf with the same values)",
                node.op()
            );
        }
        assert!(
            !requires_grad || self.dtype().is_float(),
            "requires_grad_: only floating-point tensors can require gradients, not {} \
             (convert with .to_f32() first)",
            self.dtype()
        );
        self.0
            .requires_grad
            .store(requires_grad, std::sync::atomic::Ordering::Relaxed);
        self.clone()
    }

    /// A new leaf parameter with the values of `value` (detached from any graph), ready for
    /// gradient descent.
    pub fn param(value: &Tensor) -> Tensor {
        value.detach().requires_grad_(true)
    }

    /// Whether gradients flow to this tensor: a leaf marked with `requires_grad_`, or the
    /// result of a recorded operation.
    pub fn requires_grad(&self) -> bool {
        self.0.grad_fn.is_some()
            || self
                .0
                .requires_grad
                .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether this tensor is a leaf of the graph (not the output of a recorded operation).
    pub fn is_leaf(&self) -> bool {
        self.0.grad_fn.is_none()
    }

    /// The node that produced this tensor, if it was recorded.
    pub fn grad_fn(&self) -> Option<&std::sync::Arc<Node>> {
        self.0.grad_fn.as_ref()
    }

    /// The gradient collected by `backward`: for a leaf, the sum over all backward calls since
    /// the last [`Tensor::zero_grad`]; for an intermediate result, the last gradient if
    /// [`Tensor::retain_grad`] was called before backward. `None` when nothing arrived.
    pub fn grad(&self) -> Option<Tensor> {
        match &self.0.grad_fn {
            Some(node) => node.retained_grad(),
            None => lock(&self.0.grad).clone(),
        }
    }

    /// Replaces the leaf's gradient (or clears it with `None`).
    pub fn set_grad(&self, grad: Option<Tensor>) {
        if let Some(g) = &grad {
            assert_eq!(
                g.shape(),
                self.shape(),
                "set_grad: gradient of shape {} for a tensor of shape {}",
                g.shape(),
                self.shape()
            );
        }
        *lock(&self.0.grad) = grad;
    }

    /// Clears the gradient, as PyTorch's `zero_grad()` does by default (`set_to_none=True`):
    /// the next backward starts from nothing.
    pub fn zero_grad(&self) {
        *lock(&self.0.grad) = None;
    }

    /// Keeps the gradient of this intermediate result during backward, for [`Tensor::grad`].
    pub fn retain_grad(&self) {
        if let Some(node) = &self.0.grad_fn {
            node.set_retain(true);
        }
    }

    /// The same values (sharing storage) as a new leaf outside any graph: gradients stop here.
    pub fn detach(&self) -> Tensor {
        Tensor::from_parts(self.0.storage.clone(), self.0.layout.clone())
    }

    /// Back-propagates from this one-element tensor (a loss): adds ∂self/∂leaf to the `grad()`
    /// of every leaf that requires grad. The graph is freed afterwards.
    ///
    /// Panics with the reason if that is impossible (see [`Tensor::try_backward`]).
    pub fn backward(&self) {
        if let Err(e) = self.try_backward(None, BackwardOptions::default()) {
            panic!("{e}");
        }
    }

    /// Back-propagates with `grad` as ∂L/∂self, for a tensor of any shape (PyTorch's
    /// `y.backward(gradient)`).
    pub fn backward_with(&self, grad: &Tensor) {
        if let Err(e) = self.try_backward(Some(grad), BackwardOptions::default()) {
            panic!("{e}");
        }
    }

    /// Backward with options, returning an error instead of panicking when this tensor does
    /// not require grad, is not a scalar and no gradient was given, the gradient's shape is
    /// wrong, or the graph was already freed.
    pub fn try_backward(&self, grad: Option<&Tensor>, options: BackwardOptions) -> Result<()> {
        let grad = match grad {
            Some(g) => {
                if g.shape() != self.shape() {
                    bail!(
                        Shape,
                        "backward: gradient of shape {} given for a tensor of shape {}",
                        g.shape(),
                        self.shape()
                    );
                }
                g.clone()
            }
            None => {
                if self.numel() != 1 {
                    bail!(
                        Shape,
                        "backward: a gradient can be implied only for a one-element output, \
                         but this tensor has shape {}; pass one with backward_with",
                        self.shape()
                    );
                }
                Tensor::ones_like(self)
            }
        };
        engine::run_backward(&[(self.clone(), grad)], None, options).map(|_| ())
    }
}

/// Locks a mutex, recovering the data if a panic poisoned it (a gradient is still a gradient).
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Error for asking a gradient of something that has none.
pub(crate) fn no_grad_error(op: &str, t: &Tensor) -> crate::Error {
    let why = if !t.dtype().is_float() {
        format!(
            "it has dtype {}, and only float tensors carry gradients (argmax, comparisons and \
             integer results are not differentiable)",
            t.dtype()
        )
    } else {
        "it does not require grad and has no grad_fn: no input of the computation was marked \
         with requires_grad_(true), or it was computed inside no_grad or from detach()"
            .to_string()
    };
    crate::Error::Invalid(format!(
        "{op}: cannot differentiate a tensor of shape {}: {why}",
        t.shape()
    ))
}
