//! The backward pass: orders the recorded nodes so each runs after every node that consumes
//! its output, then hands each node the sum of the gradients that reached it.

use std::collections::HashMap;
use std::sync::Arc;

use super::node::{Edge, Grads, Node};
use super::{lock, no_grad_error, set_grad_enabled};
use crate::error::{Result, bail};
use crate::tensor::Tensor;

/// How a backward pass treats the graph.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackwardOptions {
    /// Keep the backward rules (and the tensors they saved) so backward can run through this
    /// graph again. Off by default: the graph is freed as it is traversed.
    pub retain_graph: bool,
    /// Record the backward pass itself, so the gradients are differentiable (for a gradient
    /// penalty or a Hessian-vector product). Implies `retain_graph`.
    pub create_graph: bool,
}

impl BackwardOptions {
    pub fn retain_graph() -> Self {
        BackwardOptions {
            retain_graph: true,
            create_graph: false,
        }
    }

    pub fn create_graph() -> Self {
        BackwardOptions {
            retain_graph: true,
            create_graph: true,
        }
    }
}

/// The gradients of `outputs` (weighted by `grad_outputs`, ones for one-element outputs when
/// `None`) with respect to `inputs`, returned rather than accumulated into `grad()`
/// (PyTorch's `torch.autograd.grad`). An input the outputs do not depend on gets `None`.
///
/// ```
/// use baeum::{tensor, autograd::{grad, BackwardOptions}};
/// let x = tensor!([3.0]).requires_grad_(true);
/// let y = (&x * &x * &x).sum(); // x³
/// let dy = grad(&[&y], &[&x], None, BackwardOptions::create_graph()).unwrap();
/// let dy = dy[0].clone().unwrap(); // 3x² = 27
/// let d2y = grad(&[&dy.sum()], &[&x], None, BackwardOptions::default()).unwrap();
/// assert_eq!(d2y[0].as_ref().unwrap().item::<f32>(), 18.0); // 6x
/// ```
pub fn grad(
    outputs: &[&Tensor],
    inputs: &[&Tensor],
    grad_outputs: Option<&[Tensor]>,
    options: BackwardOptions,
) -> Result<Vec<Option<Tensor>>> {
    let mut roots = Vec::with_capacity(outputs.len());
    for (i, out) in outputs.iter().enumerate() {
        let g = match grad_outputs {
            Some(gs) => {
                let Some(g) = gs.get(i) else {
                    bail!(
                        Invalid,
                        "grad: {} outputs but {} grad_outputs",
                        outputs.len(),
                        gs.len()
                    );
                };
                if g.shape() != out.shape() {
                    bail!(
                        Shape,
                        "grad: grad_outputs[{i}] has shape {} but outputs[{i}] has shape {}",
                        g.shape(),
                        out.shape()
                    );
                }
                g.clone()
            }
            None if out.numel() == 1 => Tensor::ones_like(out),
            None => bail!(
                Shape,
                "grad: outputs[{i}] has shape {}; pass grad_outputs for outputs with more than \
                 one element",
                out.shape()
            ),
        };
        roots.push(((*out).clone(), g));
    }
    for (i, t) in inputs.iter().enumerate() {
        if !t.requires_grad() {
            return Err(no_grad_error(&format!("grad: inputs[{i}]"), t));
        }
    }
    let targets: Vec<Tensor> = inputs.iter().map(|t| (*t).clone()).collect();
    run_backward(&roots, Some(&targets), options).map(|found| found.unwrap_or_default())
}

/// Adds `g` to an accumulated gradient slot.
fn accumulate(slot: &mut Option<Tensor>, g: Tensor) {
    *slot = Some(match slot.take() {
        Some(prev) => &prev + &g,
        None => g,
    });
}

/// A gradient to keep beyond the backward pass: its own storage, so that clearing or updating
/// one parameter's gradient in place can never change another's.
fn owned(g: Tensor) -> Tensor {
    if Arc::strong_count(&g.0) == 1 && Arc::strong_count(g.storage()) == 1 && g.is_contiguous() {
        g
    } else if g.requires_grad() {
        // Under create_graph the copy must stay differentiable.
        &g + 0.0
    } else {
        crate::with_dtype!(g.dtype(), T => Tensor::from_vec(g.to_vec::<T>(), g.shape().clone()))
    }
}

/// Runs backward from `roots` (each a tensor and ∂L/∂tensor). With `targets`, returns their
/// gradients instead of accumulating into leaves.
pub(crate) fn run_backward(
    roots: &[(Tensor, Tensor)],
    targets: Option<&[Tensor]>,
    options: BackwardOptions,
) -> Result<Option<Vec<Option<Tensor>>>> {
    let retain = options.retain_graph || options.create_graph;
    let previous = set_grad_enabled(options.create_graph);
    let _restore = super::Restore(previous);

    // Order the nodes: a depth-first post-order lists every node after all its inputs, so
    // walking it backwards visits a node only after all its consumers have sent gradients.
    let mut index: HashMap<*const Node, usize> = HashMap::new();
    let mut order: Vec<Arc<Node>> = Vec::new();
    let mut stack: Vec<(Arc<Node>, usize)> = Vec::new();
    for (t, _) in roots {
        if !t.requires_grad() {
            return Err(no_grad_error("backward", t));
        }
        if let Some(root) = t.grad_fn()
            && !index.contains_key(&Arc::as_ptr(root))
        {
            index.insert(Arc::as_ptr(root), usize::MAX);
            stack.push((root.clone(), 0));
        }
        while let Some((node, next)) = stack.pop() {
            let child = node.inputs[next..].iter().position(|e| match e {
                Edge::Node(n) => !index.contains_key(&Arc::as_ptr(n)),
                _ => false,
            });
            match child {
                Some(k) => {
                    let Edge::Node(n) = &node.inputs[next + k] else {
                        unreachable!()
                    };
                    let n = n.clone();
                    index.insert(Arc::as_ptr(&n), usize::MAX);
                    stack.push((node, next + k + 1));
                    stack.push((n, 0));
                }
                None => {
                    index.insert(Arc::as_ptr(&node), order.len());
                    order.push(node);
                }
            }
        }
    }

    // Targets of `grad()`: leaves by identity, intermediate results by their node.
    let mut found: Option<Vec<Option<Tensor>>> = targets.map(|t| vec![None; t.len()]);
    let target_of_leaf = |t: &Tensor| targets.and_then(|ts| ts.iter().position(|x| x.same(t)));
    let mut node_targets: HashMap<usize, Vec<usize>> = HashMap::new();
    if let Some(ts) = targets {
        for (k, t) in ts.iter().enumerate() {
            if let Some(n) = t.grad_fn()
                && let Some(&i) = index.get(&Arc::as_ptr(n))
            {
                node_targets.entry(i).or_default().push(k);
            }
        }
    }

    let mut pending: Vec<Option<Tensor>> = vec![None; order.len()];
    let to_leaf = |leaf: &Tensor, g: Tensor, found: &mut Option<Vec<Option<Tensor>>>| match found {
        Some(f) => {
            if let Some(k) = target_of_leaf(leaf) {
                accumulate(&mut f[k], g);
            }
        }
        None => {
            let mut slot = lock(&leaf.0.grad);
            *slot = Some(match slot.take() {
                Some(prev) => &prev + &g,
                None => owned(g),
            });
        }
    };
    for (t, g) in roots {
        let g = g.to_dtype(t.dtype());
        match t.grad_fn() {
            Some(n) => accumulate(&mut pending[index[&Arc::as_ptr(n)]], g),
            None => to_leaf(t, g, &mut found),
        }
    }

    for i in (0..order.len()).rev() {
        let Some(g) = pending[i].take() else { continue };
        let node = order[i].clone();
        if let Some(ks) = node_targets.get(&i) {
            let f = found.as_mut().expect("targets were given");
            for &k in ks {
                f[k] = Some(g.clone());
            }
        }
        if node.retains() {
            node.store_retained(g.clone());
        }
        let rule = if retain {
            None
        } else {
            lock(&node.backward).take()
        };
        let input_grads = {
            let guard;
            let f = match &rule {
                Some(f) => f,
                None => {
                    guard = lock(&node.backward);
                    match guard.as_ref() {
                        Some(f) => f,
                        None => bail!(
                            Invalid,
                            "backward: the graph through `{}` was freed by an earlier backward \
                             pass; pass BackwardOptions::retain_graph() to the first backward to \
                             go through it twice",
                            node.op()
                        ),
                    }
                }
            };
            f(&g)
        };
        drop(rule);
        assert_eq!(
            input_grads.len(),
            node.inputs.len(),
            "internal: backward of `{}` returned {} gradients for {} inputs",
            node.op(),
            input_grads.len(),
            node.inputs.len()
        );
        for (edge, g) in node.inputs.iter().zip(input_grads) {
            let Some(g) = g else { continue };
            let (shape, dtype) = match edge {
                Edge::None => continue,
                Edge::Leaf(t) => (t.shape(), t.dtype()),
                Edge::Node(n) => (n.shape(), n.dtype()),
            };
            assert!(
                g.shape() == shape,
                "internal: backward of `{}` produced a gradient of shape {} for an input of \
                 shape {}",
                node.op(),
                g.shape(),
                shape
            );
            let g = g.to_dtype(dtype);
            match edge {
                Edge::Leaf(t) => to_leaf(t, g, &mut found),
                Edge::Node(n) => accumulate(&mut pending[index[&Arc::as_ptr(n)]], g),
                Edge::None => {}
            }
        }
    }
    Ok(found)
}

/// The backward of a fused op under create_graph, from its composition replayed as tensor
/// ops: `output` (computed from `inputs`) differentiated against `g`, differentiably, for the
/// inputs whose `needs` is set (zeros where the output does not reach one).
pub(crate) fn replayed_grads(
    op: &str,
    output: &Tensor,
    inputs: &[&Tensor],
    needs: &[bool],
    g: &Tensor,
) -> Grads {
    let wanted: Vec<&Tensor> = inputs
        .iter()
        .zip(needs)
        .filter(|(_, n)| **n)
        .map(|(t, _)| *t)
        .collect();
    let found = grad(
        &[output],
        &wanted,
        Some(std::slice::from_ref(g)),
        BackwardOptions::create_graph(),
    )
    .unwrap_or_else(|e| panic!("{op}: the replayed backward failed: {e}"));
    let mut found = found.into_iter();
    needs
        .iter()
        .zip(inputs)
        .map(|(&n, t)| n.then(|| found.next().flatten().unwrap_or_else(|| t.zeros_like())))
        .collect()
}
