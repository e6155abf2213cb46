//! Looking at a recorded graph: walking its nodes, tracing values, and drawing it as a picture
//! (COURSE §10's computational graphs, from real runs).
//!
//! Record inside [`trace`] so each operation keeps its output's values (and, after backward, its
//! gradient), then draw from the result with [`Graph::of`]: one box per leaf and per operation,
//! arrows in the forward direction (inputs → operation → output), as Graphviz DOT text
//! ([`Graph::to_dot`]) or a standalone SVG laid out here in Rust ([`Graph::to_svg`]).
//!
//! ```
//! use baeum::{tensor, autograd::graph::{Graph, trace}};
//! // f = wx + b at w = −2, x = 5, b = 3 (COURSE §10)
//! let w = tensor!([-2.0]).requires_grad_(true);
//! let x = tensor!([5.0]).requires_grad_(true);
//! let b = tensor!([3.0]).requires_grad_(true);
//! let f = trace(|| &(&w * &x) + &b);
//! f.backward();
//!
//! let picture = Graph::of(&f).label(&w, "w").label(&x, "x").label(&b, "b").label(&f, "f");
//! let dot = picture.to_dot();
//! assert!(dot.contains("f = add") && dot.contains("[-7.]")); // the forward value
//! assert!(dot.contains("grad [5.]")); // ∂f/∂w = x
//! assert!(picture.to_svg().starts_with("<svg"));
//! // picture.save_svg("wx_plus_b.svg")?; writes the file (atomically)
//! ```
//!
//! What a box shows: its name (from [`Graph::label`]) and operation, the output's shape, the
//! values when the tensor has at most [`Graph::max_values`] elements (operations only when
//! recorded inside [`trace`]), and the gradient: a leaf's accumulated [`Tensor::grad`], an
//! operation's gradient from the last backward (kept for traced nodes, or after
//! [`Tensor::retain_grad`]). Inputs that do not require grad are drawn as small `const` boxes
//! (their values are not recorded); [`Graph::constants`] hides them.

mod dot;
mod layout;
mod svg;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use super::node::{Edge, Node, set_tracing};
use super::{lock, no_grad};
use crate::error::Result;
use crate::tensor::{DType, Tensor};

/// Runs `f` with tracing on: every node recorded inside keeps its output's values and, after
/// backward, its gradient, so a picture of the graph can show both.
pub fn trace<R>(f: impl FnOnce() -> R) -> R {
    let previous = set_tracing(true);
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            set_tracing(self.0);
        }
    }
    let _restore = Restore(previous);
    f()
}

/// Appends the op name of every node reachable from `root` (each node once).
pub(crate) fn collect_ops(root: &Arc<Node>, ops: &mut Vec<&'static str>) {
    let mut seen: HashSet<*const Node> = HashSet::new();
    let mut stack = vec![root.clone()];
    while let Some(n) = stack.pop() {
        if !seen.insert(Arc::as_ptr(&n)) {
            continue;
        }
        ops.push(n.op());
        for e in n.inputs() {
            if let Edge::Node(m) = e {
                stack.push(m.clone());
            }
        }
    }
}

/// One box of the picture.
enum Vertex {
    /// A tensor that is not the output of a recorded operation (usually a parameter).
    Leaf(Tensor),
    /// A recorded operation, standing for its output.
    Op(Arc<Node>),
    /// An input of an operation that does not require grad: the graph keeps no handle to it.
    Const,
}

/// An arrow from input `src` to the operation `dst`, as argument `arg` of `dst`.
struct Link {
    src: usize,
    dst: usize,
    arg: usize,
}

/// A picture of a recorded graph, to be written as DOT or SVG.
///
/// It holds the graph (the nodes and leaves reachable from the tensors it was made from), and
/// reads values and gradients when it is drawn: a picture drawn after `backward` shows the
/// gradients. See the [module documentation](self) for an example.
pub struct Graph {
    /// Inputs before the operations that use them (a depth-first post-order from the roots).
    vertices: Vec<Vertex>,
    /// Ordered by consumer, then argument.
    links: Vec<Link>,
    roots: Vec<usize>,
    /// Vertex of a node (by node address) or of a leaf (by tensor address).
    index: HashMap<usize, usize>,
    names: HashMap<usize, String>,
    title: Option<String>,
    max_values: usize,
    constants: bool,
    edge_grads: bool,
}

/// The longest gradient written on an arrow, in characters.
const MAX_EDGE_LABEL: usize = 24;

/// The key under which a tensor's vertex is found: its node, or for a leaf the tensor itself.
fn key_of(t: &Tensor) -> usize {
    match t.grad_fn() {
        Some(node) => Arc::as_ptr(node) as usize,
        None => Arc::as_ptr(&t.0) as usize,
    }
}

impl Graph {
    /// The graph that produced `output`: every recorded operation and leaf it depends on.
    pub fn of(output: &Tensor) -> Graph {
        Graph::of_many(&[output])
    }

    /// The graph behind several outputs (two losses, or a model's outputs), drawn as one.
    pub fn of_many(outputs: &[&Tensor]) -> Graph {
        let mut g = Graph {
            vertices: Vec::new(),
            links: Vec::new(),
            roots: Vec::new(),
            index: HashMap::new(),
            names: HashMap::new(),
            title: None,
            max_values: 6,
            constants: true,
            edge_grads: false,
        };
        for out in outputs {
            let root = match out.grad_fn() {
                Some(node) => g.add_subgraph(node),
                None => g.vertex_for((*out).clone()),
            };
            if !g.roots.contains(&root) {
                g.roots.push(root);
            }
        }
        g
    }

    /// The vertex of a leaf, added on first sight.
    fn vertex_for(&mut self, leaf: Tensor) -> usize {
        let key = Arc::as_ptr(&leaf.0) as usize;
        if let Some(&v) = self.index.get(&key) {
            return v;
        }
        self.vertices.push(Vertex::Leaf(leaf));
        self.index.insert(key, self.vertices.len() - 1);
        self.vertices.len() - 1
    }

    /// Adds `root` and everything it depends on, inputs first; returns `root`'s vertex. The walk
    /// is iterative: a graph of a long training loop must not overflow the stack.
    fn add_subgraph(&mut self, root: &Arc<Node>) -> usize {
        let key = |n: &Arc<Node>| Arc::as_ptr(n) as usize;
        if let Some(&v) = self.index.get(&key(root)) {
            return v;
        }
        // (node, next input to visit, inputs' vertices so far)
        let mut stack: Vec<(Arc<Node>, usize, Vec<usize>)> = vec![(root.clone(), 0, Vec::new())];
        loop {
            let top = stack.last_mut().expect("the root leaves the stack last");
            let (node, next) = (top.0.clone(), top.1);
            if next < node.inputs().len() {
                top.1 += 1;
                let v = match &node.inputs()[next] {
                    Edge::Leaf(t) => self.vertex_for(t.clone()),
                    Edge::None => {
                        self.vertices.push(Vertex::Const);
                        self.vertices.len() - 1
                    }
                    Edge::Node(m) => match self.index.get(&key(m)) {
                        Some(&v) => v,
                        None => {
                            // Not seen yet (a recorded graph has no cycles): visit it first.
                            stack.push((m.clone(), 0, Vec::new()));
                            continue;
                        }
                    },
                };
                stack.last_mut().expect("not empty").2.push(v);
                continue;
            }
            let (node, _, inputs) = stack.pop().expect("not empty");
            self.vertices.push(Vertex::Op(node.clone()));
            let v = self.vertices.len() - 1;
            self.index.insert(key(&node), v);
            for (arg, src) in inputs.into_iter().enumerate() {
                self.links.push(Link { src, dst: v, arg });
            }
            match stack.last_mut() {
                Some(parent) => parent.2.push(v),
                None => return v,
            }
        }
    }

    /// Names `tensor` in the picture (a leaf such as a parameter, or an intermediate result):
    /// its box is titled `name`, or `name = op` for the output of an operation.
    ///
    /// Panics if `tensor` is not in the graph: it does not require grad (such inputs are drawn
    /// as unnamed `const` boxes), or the outputs do not depend on it.
    pub fn label(mut self, tensor: &Tensor, name: impl Into<String>) -> Graph {
        self.name(tensor, name);
        self
    }

    /// [`Graph::label`] on a borrowed picture.
    pub fn name(&mut self, tensor: &Tensor, name: impl Into<String>) -> &mut Graph {
        let name = name.into();
        let Some(&v) = self.index.get(&key_of(tensor)) else {
            panic!(
                "Graph::label: the tensor named `{name}` (shape {}) is not in the graph: {}",
                tensor.shape(),
                if tensor.requires_grad() {
                    "the graph's outputs do not depend on it"
                } else {
                    "it does not require grad, so operations record no link to it \
                     (mark it with requires_grad_(true) to draw it with its name)"
                }
            );
        };
        self.names.insert(v, name);
        self
    }

    /// A caption for the picture.
    pub fn title(mut self, title: impl Into<String>) -> Graph {
        self.title = Some(title.into());
        self
    }

    /// Shows values and gradients of tensors with at most `n` elements (6 by default); larger
    /// tensors show only their shape.
    pub fn max_values(mut self, n: usize) -> Graph {
        self.max_values = n;
        self
    }

    /// Whether to draw inputs that do not require grad as `const` boxes (on by default).
    pub fn constants(mut self, show: bool) -> Graph {
        self.constants = show;
        self
    }

    /// Whether to write on each arrow the gradient that flows back along it (off by default):
    /// the input's gradient when the arrow is its only use; for an input used several times,
    /// its share, which can be computed only while the graph is kept (backward with
    /// `retain_graph`), and is left out otherwise. Labels longer than 24 characters are left
    /// out too (the boxes still show every gradient), so that arrows stay short.
    pub fn edge_grads(mut self, show: bool) -> Graph {
        self.edge_grads = show;
        self
    }

    /// The number of boxes the picture draws.
    pub fn node_count(&self) -> usize {
        self.vertices
            .iter()
            .filter(|v| self.constants || !matches!(v, Vertex::Const))
            .count()
    }

    /// The number of arrows the picture draws.
    pub fn edge_count(&self) -> usize {
        self.links
            .iter()
            .filter(|l| self.constants || !matches!(self.vertices[l.src], Vertex::Const))
            .count()
    }

    /// The picture as Graphviz DOT text (`dot -Tsvg graph.dot` renders it).
    pub fn to_dot(&self) -> String {
        dot::render(&self.scene())
    }

    /// The picture as a standalone SVG document, laid out without Graphviz.
    pub fn to_svg(&self) -> String {
        svg::render(&self.scene())
    }

    /// Writes [`Graph::to_dot`] to `path` (atomically: a temporary file renamed over it).
    pub fn save_dot(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::io::write_atomic("save_dot", path.as_ref(), self.to_dot().as_bytes())
    }

    /// Writes [`Graph::to_svg`] to `path` (atomically: a temporary file renamed over it).
    pub fn save_svg(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::io::write_atomic("save_svg", path.as_ref(), self.to_svg().as_bytes())
    }

    /// What to draw, read from the graph now: boxes with their lines, arrows with their labels.
    fn scene(&self) -> Scene {
        let mut boxes = Vec::new();
        let mut slot = vec![usize::MAX; self.vertices.len()];
        for (v, vertex) in self.vertices.iter().enumerate() {
            if matches!(vertex, Vertex::Const) && !self.constants {
                continue;
            }
            slot[v] = boxes.len();
            boxes.push(self.box_of(v));
        }
        let mut consumers = vec![0usize; self.vertices.len()];
        for l in &self.links {
            consumers[l.src] += 1;
        }
        // Each input's share of the gradient, per consumer, from its (kept) backward rule.
        let mut shares: HashMap<usize, Vec<Option<Tensor>>> = HashMap::new();
        let mut arrows = Vec::new();
        for l in &self.links {
            if slot[l.src] == usize::MAX {
                continue;
            }
            let label = if self.edge_grads {
                let grad = if consumers[l.src] == 1 {
                    self.grad_of(l.src)
                } else {
                    shares
                        .entry(l.dst)
                        .or_insert_with(|| self.input_shares(l.dst))
                        .get(l.arg)
                        .cloned()
                        .flatten()
                };
                grad.filter(|g| g.numel() <= self.max_values)
                    .map(|g| format_values(&g))
                    .filter(|text| text.chars().count() <= MAX_EDGE_LABEL)
            } else {
                None
            };
            arrows.push(Arrow {
                src: slot[l.src],
                dst: slot[l.dst],
                port: 0,
                label,
            });
        }
        // Ports on each box's input side, in argument order.
        for a in &mut arrows {
            a.port = boxes[a.dst].inputs;
            boxes[a.dst].inputs += 1;
        }
        Scene {
            title: self.title.clone(),
            boxes,
            arrows,
        }
    }

    /// The gradient a vertex shows: a leaf's accumulated gradient, an operation's retained one.
    fn grad_of(&self, v: usize) -> Option<Tensor> {
        match &self.vertices[v] {
            Vertex::Leaf(t) => t.grad(),
            Vertex::Op(node) => node.retained_grad(),
            Vertex::Const => None,
        }
    }

    /// The gradients that the last backward sent from operation `v` to each of its inputs,
    /// recomputed with its backward rule; empty when the rule was freed or no gradient is kept.
    fn input_shares(&self, v: usize) -> Vec<Option<Tensor>> {
        let Vertex::Op(node) = &self.vertices[v] else {
            return Vec::new();
        };
        let Some(g) = node.retained_grad() else {
            return Vec::new();
        };
        let rule = lock(&node.backward);
        match rule.as_ref() {
            Some(rule) => no_grad(|| rule(&g)).into_iter().collect(),
            None => Vec::new(),
        }
    }

    fn box_of(&self, v: usize) -> BoxSpec {
        let name = self.names.get(&v).cloned();
        let (kind, title, value, dims, dtype) = match &self.vertices[v] {
            Vertex::Const => {
                return BoxSpec {
                    kind: BoxKind::Const,
                    lines: vec![Line::new(LineKind::Title, "const")],
                    inputs: 0,
                };
            }
            Vertex::Leaf(t) => (
                BoxKind::Leaf,
                name.unwrap_or_else(|| "leaf".to_string()),
                Some(t.clone()),
                t.dims().to_vec(),
                t.dtype(),
            ),
            Vertex::Op(node) => (
                BoxKind::Op,
                match name {
                    Some(n) => format!("{n} = {}", node.op()),
                    None => node.op().to_string(),
                },
                node.value().cloned(),
                node.shape().to_vec(),
                node.dtype(),
            ),
        };
        let kind = if self.roots.contains(&v) {
            BoxKind::Output
        } else {
            kind
        };
        let mut lines = vec![Line::new(LineKind::Title, title)];
        let mut shape = if dims.is_empty() {
            "scalar".to_string()
        } else {
            format!("shape {}", format_dims(&dims))
        };
        // f32 is the default; other dtypes are worth a word.
        if dtype != DType::F32 {
            shape.push_str(&format!(" {dtype}"));
        }
        lines.push(Line::new(LineKind::Shape, shape));
        if let Some(t) = value.filter(|t| t.numel() <= self.max_values) {
            lines.push(Line::new(LineKind::Value, format_values(&t)));
        }
        if let Some(g) = self.grad_of(v).filter(|g| g.numel() <= self.max_values) {
            lines.push(Line::new(
                LineKind::Grad,
                format!("grad {}", format_values(&g)),
            ));
        }
        BoxSpec {
            kind,
            lines,
            inputs: 0,
        }
    }
}

/// What a picture draws, independent of the format.
struct Scene {
    title: Option<String>,
    boxes: Vec<BoxSpec>,
    /// In order of consumer, then argument.
    arrows: Vec<Arrow>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum BoxKind {
    Leaf,
    Op,
    Const,
    /// A tensor the picture was made from.
    Output,
}

struct BoxSpec {
    kind: BoxKind,
    lines: Vec<Line>,
    /// How many arrows come in (ports on the input side).
    inputs: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum LineKind {
    Title,
    Shape,
    Value,
    Grad,
}

struct Line {
    kind: LineKind,
    text: String,
}

impl Line {
    fn new(kind: LineKind, text: impl Into<String>) -> Line {
        Line {
            kind,
            text: text.into(),
        }
    }
}

struct Arrow {
    src: usize,
    dst: usize,
    /// Which input port of `dst` (argument order among the drawn arrows).
    port: usize,
    label: Option<String>,
}

/// `[2, 3]`.
fn format_dims(dims: &[usize]) -> String {
    let parts: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// A small tensor's values, compactly: a 0-dimensional tensor as its number (`4620`, `1.1`),
/// others in nested brackets with PyTorch's trailing dot on whole floats (`[-7.]`, `[[1., 2.5]]`).
fn format_values(t: &Tensor) -> String {
    let values = t.to_vec::<f64>();
    let float = t.dtype().is_float();
    if t.rank() == 0 {
        return format_number(values[0], float, false);
    }
    let mut out = String::new();
    nest(&mut out, t.dims(), &values, float);
    out
}

fn nest(out: &mut String, dims: &[usize], values: &[f64], float: bool) {
    out.push('[');
    let n = dims[0];
    let step = values.len().checked_div(n).unwrap_or(0);
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        if dims.len() == 1 {
            out.push_str(&format_number(values[i], float, true));
        } else {
            nest(out, &dims[1..], &values[i * step..(i + 1) * step], float);
        }
    }
    out.push(']');
}

/// A number with at most four significant digits, trailing zeros dropped; whole floats get a
/// trailing dot when `dot` (inside brackets, as PyTorch prints them).
fn format_number(v: f64, float: bool, dot: bool) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "nan"
        } else if v > 0.0 {
            "inf"
        } else {
            "-inf"
        }
        .to_string();
    }
    if !float {
        return format!("{}", v as i64);
    }
    let a = v.abs();
    if v.fract() == 0.0 && a < 1e15 {
        let v = if v == 0.0 { 0.0 } else { v }; // no "-0"
        return if dot {
            format!("{v:.0}.")
        } else {
            format!("{v:.0}")
        };
    }
    if !(1e-4..1e6).contains(&a) {
        let s = format!("{v:.3e}");
        let (m, e) = s.split_once('e').expect("exponent form");
        return format!("{}e{e}", trim_zeros(m));
    }
    let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
    trim_zeros(&format!("{v:.decimals$}")).to_string()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_compact() {
        assert_eq!(format_number(4620.0, true, false), "4620");
        assert_eq!(format_number(-7.0, true, true), "-7.");
        assert_eq!(format_number(1.1f32 as f64, true, false), "1.1");
        assert_eq!(format_number(0.8175744761936437, true, false), "0.8176");
        assert_eq!(format_number(1.2e-5, true, false), "1.2e-5");
        assert_eq!(format_number(-0.0, true, false), "0");
        assert_eq!(format_number(3.0, false, true), "3");
        assert_eq!(format_number(f64::NAN, true, true), "nan");
    }

    #[test]
    fn values_nest_by_shape() {
        let t = Tensor::from_vec(vec![1.0f32, 2.5, 3.0, -4.0], [2, 2]);
        assert_eq!(format_values(&t), "[[1., 2.5], [3., -4.]]");
        assert_eq!(format_values(&Tensor::scalar(4620.0f32)), "4620");
        assert_eq!(
            format_values(&Tensor::from_vec(vec![2i64, 3], [2])),
            "[2, 3]"
        );
    }
}
