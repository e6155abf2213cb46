//! The recorded graph: a [`Node`] per operation, [`Edge`]s to its inputs, and [`record_op`],
//! the one function every differentiable operation calls to join the graph.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use smallvec::SmallVec;

use super::{is_grad_enabled, lock, no_grad};
use crate::tensor::{DType, Shape, Tensor};

/// Gradients with respect to a node's inputs, in input order (`None`: no gradient flows there).
pub(crate) type Grads = SmallVec<[Option<Tensor>; 2]>;

/// A backward rule: from ∂L/∂output to ∂L/∂input for each input.
pub(crate) type BackwardFn = Box<dyn Fn(&Tensor) -> Grads + Send + Sync>;

/// Shorthand for building [`Grads`]: `grads([Some(ga), None])`.
pub(crate) fn grads<const N: usize>(g: [Option<Tensor>; N]) -> Grads {
    g.into_iter().collect()
}

/// Where a node's gradient goes for one of its inputs.
pub enum Edge {
    /// The input does not require grad: nothing flows.
    None,
    /// A leaf that requires grad: the gradient accumulates in its `grad()`.
    Leaf(Tensor),
    /// The output of another recorded operation: the gradient continues through its node.
    Node(Arc<Node>),
}

/// One recorded operation: its name, the edges to its inputs and its backward rule.
pub struct Node {
    op: &'static str,
    pub(crate) inputs: SmallVec<[Edge; 2]>,
    /// Taken (and so freed, with every tensor it saved) by a backward pass that does not
    /// retain the graph.
    pub(crate) backward: Mutex<Option<BackwardFn>>,
    shape: Shape,
    dtype: DType,
    retain: AtomicBool,
    retained: Mutex<Option<Tensor>>,
    /// The output's values, kept only while tracing for a graph picture.
    value: Option<Tensor>,
}

impl Node {
    /// The operation's name (`"mul"`, `"matmul"`, ...).
    pub fn op(&self) -> &'static str {
        self.op
    }

    /// The shape of the output this node produced.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The edges to the inputs, in argument order (PyTorch's `next_functions`).
    pub fn inputs(&self) -> &[Edge] {
        &self.inputs
    }

    /// The output's values, when the graph was recorded inside [`super::graph::trace`].
    pub fn value(&self) -> Option<&Tensor> {
        self.value.as_ref()
    }

    /// Whether the backward rule was freed by a backward pass.
    pub fn is_freed(&self) -> bool {
        lock(&self.backward).is_none()
    }

    pub(crate) fn set_retain(&self, retain: bool) {
        self.retain.store(retain, Ordering::Relaxed);
    }

    pub(crate) fn retains(&self) -> bool {
        self.retain.load(Ordering::Relaxed)
    }

    /// The gradient of this node's output kept by the last backward, if it was retained.
    pub fn retained_grad(&self) -> Option<Tensor> {
        lock(&self.retained).clone()
    }

    pub(crate) fn store_retained(&self, g: Tensor) {
        *lock(&self.retained) = Some(g);
    }
}

impl Drop for Node {
    /// Frees a long chain of nodes iteratively: dropping a graph of 100 000 recorded steps must
    /// not overflow the stack by recursing once per node.
    fn drop(&mut self) {
        let mut pending: Vec<Arc<Node>> = Vec::new();
        let take = |node: &mut Node, pending: &mut Vec<Arc<Node>>| {
            // The rule's saved tensors point at nodes that `inputs` also holds, so dropping it
            // first never frees a node recursively.
            drop(lock(&node.backward).take());
            for edge in node.inputs.drain(..) {
                if let Edge::Node(n) = edge {
                    pending.push(n);
                }
            }
        };
        take(self, &mut pending);
        while let Some(arc) = pending.pop() {
            if let Some(mut node) = Arc::into_inner(arc) {
                take(&mut node, &mut pending);
            }
        }
    }
}

/// A tensor kept for the backward rule, with the storage version at the time it was saved:
/// using it after an in-place change would give a silently wrong gradient, so that panics.
pub(crate) struct Saved {
    tensor: Tensor,
    version: u64,
    op: &'static str,
}

impl Saved {
    /// Saves an input of `op` (keeping its graph, for higher-order gradients).
    pub(crate) fn new(op: &'static str, t: &Tensor) -> Saved {
        Saved {
            tensor: t.clone(),
            version: t.storage().version(),
            op,
        }
    }

    /// Saves the output of `op`: detached, because the output points at this node and a
    /// node holding its own output would never be freed. A rule that must differentiate
    /// through its output under `create_graph` recomputes it from the inputs instead.
    pub(crate) fn output(op: &'static str, t: &Tensor) -> Saved {
        Saved::new(op, &t.detach())
    }

    pub(crate) fn get(&self) -> &Tensor {
        assert!(
            self.tensor.storage().version() == self.version,
            "backward of `{}`: a tensor it saved (shape {}) was modified in place after the \
             forward pass, so its gradient would be wrong; clone it before changing it, or \
             change it under no_grad only after backward",
            self.op,
            self.tensor.shape()
        );
        &self.tensor
    }
}

/// Whether recording for graph pictures is on (see [`super::graph::trace`]).
pub(crate) fn tracing() -> bool {
    TRACING.with(|t| t.get())
}

pub(crate) fn set_tracing(on: bool) -> bool {
    TRACING.with(|t| t.replace(on))
}

thread_local! {
    static TRACING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs a differentiable operation: `forward` computes the result; when gradients are on and
/// some input requires grad, the result joins the graph with a node named `op` whose backward
/// rule `make_backward` builds from the output and a flag per input (does it need a gradient).
///
/// `forward` runs with recording off, so an operation built from other operations records one
/// node, its own. An operation composed of differentiable operations and without a rule of its
/// own does not call this at all.
pub(crate) fn record_op<M, B>(
    op: &'static str,
    inputs: &[&Tensor],
    forward: impl FnOnce() -> Tensor,
    make_backward: M,
) -> Tensor
where
    M: FnOnce(&Tensor, &[bool]) -> B,
    B: Fn(&Tensor) -> Grads + Send + Sync + 'static,
{
    if !inputs.iter().any(|t| t.requires_grad()) || !is_grad_enabled() {
        return forward();
    }
    debug_assert!(
        super::registry::is_registered(op),
        "internal: `{op}` records a node but is not listed in autograd::registry::DIFFERENTIABLE_OPS"
    );
    let out = no_grad(forward);
    let needs: SmallVec<[bool; 4]> = inputs.iter().map(|t| t.requires_grad()).collect();
    if !out.dtype().is_float() {
        // Integer and bool results (argmax, comparisons, casts to int) carry no gradient.
        return out;
    }
    let edges = inputs.iter().map(|t| edge_to(t)).collect();
    let backward: BackwardFn = Box::new(make_backward(&out, &needs));
    let node = Node {
        op,
        inputs: edges,
        backward: Mutex::new(Some(backward)),
        shape: out.shape().clone(),
        dtype: out.dtype(),
        retain: AtomicBool::new(false),
        retained: Mutex::new(None),
        value: tracing().then(|| out.detach()),
    };
    if node.value.is_some() {
        node.set_retain(true);
    }
    let node = Arc::new(node);
    let mut out = out;
    match Arc::get_mut(&mut out.0) {
        // A freshly computed result is ours alone: attach the node in place.
        Some(imp) => {
            imp.grad_fn = Some(node);
            out
        }
        // The forward returned a tensor that exists elsewhere too (an input passed through).
        None => Tensor::from_parts_with(out.storage().clone(), out.layout().clone(), Some(node)),
    }
}

/// The edge along which a gradient reaches `t`.
pub(crate) fn edge_to(t: &Tensor) -> Edge {
    match t.grad_fn() {
        Some(node) => Edge::Node(node.clone()),
        None if t.requires_grad() => Edge::Leaf(t.clone()),
        None => Edge::None,
    }
}
