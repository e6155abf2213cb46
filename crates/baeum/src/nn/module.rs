//! The `Module` trait: a model's parameters, buffers and children with PyTorch's dotted names,
//! train/eval mode, state dicts, freezing, and printing; `Forward` for what a layer computes.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::Tensor;
use crate::autograd::no_grad;
use crate::error::{Error, Result};
use crate::io::StateDict;
use crate::tensor::DType;

/// Receives a module's own entries, by local name; see [`Module::visit`].
pub trait Visitor {
    fn param(&mut self, name: &str, tensor: &Tensor);
    fn buffer(&mut self, name: &str, tensor: &Tensor);
    fn module(&mut self, name: &str, module: &dyn Module);
}

/// A part of a network: it holds parameters (trained), buffers (saved, not trained: batch
/// norm's running statistics) and child modules. `#[derive(Module)]` writes `visit` for a
/// struct; layers with a train/eval difference also override `set_training`.
pub trait Module: Send + Sync {
    /// Calls the visitor once for each parameter, buffer and direct child, by local name.
    fn visit(&self, visitor: &mut dyn Visitor);

    /// The layer's name in summaries and printing (`Conv2d`).
    fn type_name(&self) -> &'static str {
        let full = std::any::type_name::<Self>();
        let base = full.split('<').next().unwrap_or(full);
        base.rsplit("::").next().unwrap_or(base)
    }

    /// The hyper-parameters shown when printing (PyTorch's `extra_repr`).
    fn extra_repr(&self) -> String {
        String::new()
    }

    /// Switches this module's own train/eval behaviour (not its children's: [`ModuleExt::train`]
    /// walks the tree).
    fn set_training(&self, _training: bool) {}

    /// Whether this module is in training mode (modules without a mode answer `true`).
    fn is_training(&self) -> bool {
        true
    }
}

/// What a layer computes. Separate from [`Module`] so that `#[derive(Module)]` can write the
/// traversal while the user writes `forward`, as in PyTorch.
pub trait Forward {
    fn forward(&self, input: &Tensor) -> Result<Tensor>;
}

/// A module that computes something: what [`crate::nn::Sequential`] holds.
pub trait Layer: Module + Forward {}
impl<T: Module + Forward + ?Sized> Layer for T {}

impl<M: Module + ?Sized> Module for Box<M> {
    fn visit(&self, visitor: &mut dyn Visitor) {
        (**self).visit(visitor)
    }
    fn type_name(&self) -> &'static str {
        (**self).type_name()
    }
    fn extra_repr(&self) -> String {
        (**self).extra_repr()
    }
    fn set_training(&self, training: bool) {
        (**self).set_training(training)
    }
    fn is_training(&self) -> bool {
        (**self).is_training()
    }
}

impl<M: Forward + ?Sized> Forward for Box<M> {
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        (**self).forward(input)
    }
}

impl<M: Module + ?Sized> Module for std::sync::Arc<M> {
    fn visit(&self, visitor: &mut dyn Visitor) {
        (**self).visit(visitor)
    }
    fn type_name(&self) -> &'static str {
        (**self).type_name()
    }
    fn extra_repr(&self) -> String {
        (**self).extra_repr()
    }
    fn set_training(&self, training: bool) {
        (**self).set_training(training)
    }
    fn is_training(&self) -> bool {
        (**self).is_training()
    }
}

/// A field that holds tensors: `Tensor`, `Option<Tensor>`, `Vec<Tensor>` (used by the derive).
pub trait ParamField {
    fn visit_param(&self, name: &str, visitor: &mut dyn Visitor);
    fn visit_buffer(&self, name: &str, visitor: &mut dyn Visitor);
}

impl ParamField for Tensor {
    fn visit_param(&self, name: &str, visitor: &mut dyn Visitor) {
        visitor.param(name, self)
    }
    fn visit_buffer(&self, name: &str, visitor: &mut dyn Visitor) {
        visitor.buffer(name, self)
    }
}

impl ParamField for Option<Tensor> {
    fn visit_param(&self, name: &str, visitor: &mut dyn Visitor) {
        if let Some(t) = self {
            visitor.param(name, t)
        }
    }
    fn visit_buffer(&self, name: &str, visitor: &mut dyn Visitor) {
        if let Some(t) = self {
            visitor.buffer(name, t)
        }
    }
}

impl ParamField for Vec<Tensor> {
    fn visit_param(&self, name: &str, visitor: &mut dyn Visitor) {
        for (i, t) in self.iter().enumerate() {
            visitor.param(&format!("{name}.{i}"), t)
        }
    }
    fn visit_buffer(&self, name: &str, visitor: &mut dyn Visitor) {
        for (i, t) in self.iter().enumerate() {
            visitor.buffer(&format!("{name}.{i}"), t)
        }
    }
}

/// A field that holds child modules: a module, `Option<M>` or `Vec<M>` (items named `0`, `1`, …).
pub trait ChildField {
    fn visit_child(&self, name: &str, visitor: &mut dyn Visitor);
}

impl<M: Module> ChildField for M {
    fn visit_child(&self, name: &str, visitor: &mut dyn Visitor) {
        visitor.module(name, self)
    }
}

impl<M: Module> ChildField for Option<M> {
    fn visit_child(&self, name: &str, visitor: &mut dyn Visitor) {
        if let Some(m) = self {
            visitor.module(name, m)
        }
    }
}

impl<M: Module> ChildField for Vec<M> {
    fn visit_child(&self, name: &str, visitor: &mut dyn Visitor) {
        for (i, m) in self.iter().enumerate() {
            visitor.module(&format!("{name}.{i}"), m)
        }
    }
}

/// A train/eval switch for a layer whose forward depends on the mode (dropout, batch norm).
#[derive(Debug)]
pub struct TrainingFlag(AtomicBool);

impl Default for TrainingFlag {
    fn default() -> Self {
        TrainingFlag(AtomicBool::new(true))
    }
}

impl TrainingFlag {
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
    pub fn set(&self, training: bool) {
        self.0.store(training, Ordering::Relaxed)
    }
}

impl Clone for TrainingFlag {
    fn clone(&self) -> Self {
        TrainingFlag(AtomicBool::new(self.get()))
    }
}

/// One entry met while walking a module tree, with its full dotted name.
pub enum Entry<'a> {
    Param(&'a Tensor),
    Buffer(&'a Tensor),
    Module(&'a dyn Module),
}

/// Walks the tree depth first in declaration order, calling `f(dotted_name, entry)`; modules
/// are reported before their contents (the root as "").
pub fn walk(root: &dyn Module, f: &mut dyn FnMut(&str, Entry<'_>)) {
    struct Walker<'f, 'g> {
        prefix: String,
        f: &'f mut (dyn FnMut(&str, Entry<'_>) + 'g),
    }
    impl Walker<'_, '_> {
        fn full(&self, name: &str) -> String {
            if self.prefix.is_empty() {
                name.to_string()
            } else {
                format!("{}.{name}", self.prefix)
            }
        }
    }
    impl Visitor for Walker<'_, '_> {
        fn param(&mut self, name: &str, tensor: &Tensor) {
            let full = self.full(name);
            (self.f)(&full, Entry::Param(tensor))
        }
        fn buffer(&mut self, name: &str, tensor: &Tensor) {
            let full = self.full(name);
            (self.f)(&full, Entry::Buffer(tensor))
        }
        fn module(&mut self, name: &str, module: &dyn Module) {
            let full = self.full(name);
            (self.f)(&full, Entry::Module(module));
            let saved = std::mem::replace(&mut self.prefix, full);
            module.visit(self);
            self.prefix = saved;
        }
    }
    f("", Entry::Module(root));
    root.visit(&mut Walker {
        prefix: String::new(),
        f,
    });
}

/// What [`ModuleExt::load_state_dict`] found wrong, PyTorch's `missing_keys` /
/// `unexpected_keys` plus shape and dtype mismatches.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LoadReport {
    pub missing_keys: Vec<String>,
    pub unexpected_keys: Vec<String>,
    /// `(key, expected shape, found shape)`.
    pub mismatched_shapes: Vec<(String, Vec<usize>, Vec<usize>)>,
}

impl LoadReport {
    pub fn is_clean(&self) -> bool {
        self.missing_keys.is_empty()
            && self.unexpected_keys.is_empty()
            && self.mismatched_shapes.is_empty()
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.missing_keys.is_empty() {
            parts.push(format!("missing keys: {}", self.missing_keys.join(", ")));
        }
        if !self.unexpected_keys.is_empty() {
            parts.push(format!(
                "unexpected keys: {}",
                self.unexpected_keys.join(", ")
            ));
        }
        for (k, want, got) in &self.mismatched_shapes {
            parts.push(format!(
                "size mismatch for {k}: the model has {want:?}, the state dict {got:?}"
            ));
        }
        f.write_str(&parts.join("; "))
    }
}

/// Everything a module tree offers, for every [`Module`] (PyTorch's `nn.Module` methods).
pub trait ModuleExt: Module {
    /// `(dotted name, parameter)` in declaration order (`features.0.weight`).
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        walk(self.as_dyn(), &mut |name, e| {
            if let Entry::Param(t) = e
                && !out.iter().any(|(_, p): &(String, Tensor)| p.same(t))
            {
                out.push((name.to_string(), t.clone()));
            }
        });
        out
    }

    /// The parameters (shared ones once), for an optimizer.
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters()
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    }

    /// The parameters that still require grad (after freezing part of a network).
    fn trainable_parameters(&self) -> Vec<Tensor> {
        self.parameters()
            .into_iter()
            .filter(|p| p.requires_grad())
            .collect()
    }

    /// `(dotted name, buffer)` in declaration order.
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        walk(self.as_dyn(), &mut |name, e| {
            if let Entry::Buffer(t) = e {
                out.push((name.to_string(), t.clone()));
            }
        });
        out
    }

    /// Number of parameter elements (optionally only trainable ones).
    fn num_parameters(&self, only_trainable: bool) -> usize {
        self.parameters()
            .iter()
            .filter(|p| !only_trainable || p.requires_grad())
            .map(|p| p.numel())
            .sum()
    }

    /// Parameters and buffers by dotted name, in module order (the tensors are shared, not
    /// copied: clone them with `detach().contiguous()` to snapshot).
    fn state_dict(&self) -> StateDict {
        let mut out = StateDict::new();
        walk(self.as_dyn(), &mut |name, e| match e {
            Entry::Param(t) | Entry::Buffer(t) => out.insert(name, t.detach()),
            Entry::Module(_) => {}
        });
        out
    }

    /// A deep copy of the state dict (for keeping the best weights in memory).
    fn state_dict_snapshot(&self) -> StateDict {
        self.state_dict()
            .into_iter()
            .map(|(k, t)| (k, snapshot(&t)))
            .collect()
    }

    /// Copies `state` into the module's tensors in place (so an optimizer holding them keeps
    /// working). With `strict`, any missing or unexpected key is an error, as in PyTorch; a
    /// shape mismatch is always an error. Values are cast to each tensor's dtype. Returns what
    /// did not match (empty when strict succeeded).
    fn load_state_dict(&self, state: &StateDict, strict: bool) -> Result<LoadReport> {
        let own = self.state_dict();
        let mut report = LoadReport::default();
        for (k, t) in own.iter() {
            match state.get(k) {
                None => report.missing_keys.push(k.to_string()),
                Some(s) if s.dims() != t.dims() => report.mismatched_shapes.push((
                    k.to_string(),
                    t.dims().to_vec(),
                    s.dims().to_vec(),
                )),
                Some(_) => {}
            }
        }
        for k in state.keys() {
            if !own.contains_key(k) {
                report.unexpected_keys.push(k.to_string());
            }
        }
        let fatal = !report.mismatched_shapes.is_empty()
            || (strict && (!report.missing_keys.is_empty() || !report.unexpected_keys.is_empty()));
        if fatal {
            return Err(Error::Invalid(format!(
                "load_state_dict into {}: {report}",
                self.type_name()
            )));
        }
        no_grad(|| {
            for (k, t) in own.iter() {
                if let Some(s) = state.get(k) {
                    let v = if s.dtype() == t.dtype() {
                        s.clone()
                    } else {
                        s.to_dtype(t.dtype())
                    };
                    t.copy_(&v);
                }
            }
        });
        Ok(report)
    }

    /// Training mode for the whole tree (dropout active, batch norm on batch statistics).
    fn train(&self) {
        self.set_mode(true)
    }

    /// Evaluation mode for the whole tree (PyTorch's `model.eval()`).
    fn eval(&self) {
        self.set_mode(false)
    }

    /// `train()` or `eval()`.
    fn set_mode(&self, training: bool) {
        walk(self.as_dyn(), &mut |_, e| {
            if let Entry::Module(m) = e {
                m.set_training(training)
            }
        });
    }

    /// Stops gradients for every parameter (fine-tuning: freeze a feature extractor).
    fn freeze(&self) {
        for p in self.parameters() {
            p.requires_grad_(false);
        }
    }

    /// Lets every parameter train again.
    fn unfreeze(&self) {
        for p in self.parameters() {
            p.requires_grad_(true);
        }
    }

    /// Clears every parameter's gradient (sets it to none, as PyTorch's default).
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.zero_grad();
        }
    }

    /// The dtype of the first parameter (f32 unless the model was built in f64).
    fn float_dtype(&self) -> Option<DType> {
        self.parameters().first().map(|p| p.dtype())
    }

    /// The child module at a dotted path (`"features.0"`), if any.
    fn find(&self, path: &str) -> Option<String> {
        let mut found = None;
        walk(self.as_dyn(), &mut |name, e| {
            if let Entry::Module(m) = e
                && name == path
            {
                found = Some(m.type_name().to_string());
            }
        });
        found
    }

    /// PyTorch's printed form of a model: a tree of `name: Type(hyper-parameters)`.
    fn to_pretty_string(&self) -> String {
        fn write(m: &dyn Module, indent: usize, out: &mut String) {
            let mut kids: Vec<(String, String)> = Vec::new();
            struct Collect<'o> {
                indent: usize,
                out: &'o mut Vec<(String, String)>,
            }
            impl Visitor for Collect<'_> {
                fn param(&mut self, _: &str, _: &Tensor) {}
                fn buffer(&mut self, _: &str, _: &Tensor) {}
                fn module(&mut self, name: &str, module: &dyn Module) {
                    let mut s = String::new();
                    write(module, self.indent + 2, &mut s);
                    self.out.push((name.to_string(), s));
                }
            }
            m.visit(&mut Collect {
                indent,
                out: &mut kids,
            });
            out.push_str(m.type_name());
            out.push('(');
            if kids.is_empty() {
                out.push_str(&m.extra_repr());
                out.push(')');
                return;
            }
            let extra = m.extra_repr();
            if !extra.is_empty() {
                out.push_str(&extra);
            }
            out.push('\n');
            for (name, s) in kids {
                out.push_str(&" ".repeat(indent + 2));
                out.push('(');
                out.push_str(&name);
                out.push_str("): ");
                out.push_str(&s);
                out.push('\n');
            }
            out.push_str(&" ".repeat(indent));
            out.push(')');
        }
        let mut s = String::new();
        write(self.as_dyn(), 0, &mut s);
        s
    }

    #[doc(hidden)]
    fn as_dyn(&self) -> &dyn Module;
}

impl<M: Module + Sized> ModuleExt for M {
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

impl ModuleExt for dyn Module + '_ {
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

impl ModuleExt for dyn Layer + '_ {
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

/// Visits the optional `weight` and `bias` parameters most layers hold.
pub(crate) fn visit_weight_bias(
    v: &mut dyn Visitor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
) {
    if let Some(w) = weight {
        v.param("weight", w);
    }
    if let Some(b) = bias {
        v.param("bias", b);
    }
}

/// Every module's train/eval mode, in walk order (to put a model back as it was).
pub(crate) fn capture_modes(root: &dyn Module) -> Vec<bool> {
    let mut modes = Vec::new();
    walk(root, &mut |_, e| {
        if let Entry::Module(m) = e {
            modes.push(m.is_training())
        }
    });
    modes
}

/// Restores what [`capture_modes`] saw.
pub(crate) fn restore_modes(root: &dyn Module, modes: &[bool]) {
    let mut i = 0;
    walk(root, &mut |_, e| {
        if let Entry::Module(m) = e {
            m.set_training(modes.get(i).copied().unwrap_or(true));
            i += 1;
        }
    });
}

/// A copy of `t` with its own storage and no graph.
pub(crate) fn snapshot(t: &Tensor) -> Tensor {
    let out = Tensor::zeros_dtype(t.dims(), t.dtype());
    no_grad(|| out.copy_(t));
    out
}
