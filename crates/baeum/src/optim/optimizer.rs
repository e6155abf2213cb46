//! The `Optimizer` trait, parameter groups with their hyper-parameters, and the machinery the
//! optimizers share: per-parameter state, state dicts, and the in-place update of a parameter
//! from its gradient over contiguous buffers.

use crate::autograd::no_grad;
use crate::error::{Error, Result, bail};
use crate::tensor::{Element, Float, StorageData, Tensor};
use crate::with_float_dtype;

use crate::io::StateDict;

/// An optimizer: updates parameters from their gradients (PyTorch's `torch.optim.Optimizer`).
///
/// ```
/// use baeum::optim::{Optimizer, Sgd};
/// use baeum::tensor;
/// let w = baeum::Tensor::param(&tensor!([1.0, 2.0]));
/// let mut opt = Sgd::new(vec![w.clone()], 0.1);
/// (&w * &w).sum().backward(); // ∂/∂w = 2w
/// opt.step().unwrap();
/// assert_eq!(w.to_vec::<f32>(), vec![0.8, 1.6]);
/// opt.zero_grad();
/// assert!(w.grad().is_none());
/// ```
pub trait Optimizer: Send {
    /// One update of every parameter that has a gradient (parameters whose `grad()` is `None`
    /// are skipped), in place and without recording.
    fn step(&mut self) -> Result<()>;
    /// Clears every parameter's gradient (PyTorch's default `set_to_none=True`).
    fn zero_grad(&mut self);
    fn param_groups(&self) -> &[ParamGroup];
    /// The groups, editable: schedulers change `lr` here; other hyper-parameters change with
    /// [`ParamGroup::set`].
    fn param_groups_mut(&mut self) -> &mut [ParamGroup];
    /// Everything needed to resume: per-parameter state (`state.{i}.{name}`), per-group
    /// hyper-parameters (`param_groups.{g}.{name}`) and the optimizer's kind (`optimizer`).
    fn state_dict(&self) -> StateDict;
    /// Restores what [`Optimizer::state_dict`] saved, into an optimizer of the same kind over
    /// parameters of the same shapes.
    fn load_state_dict(&mut self, state: &StateDict) -> Result<()>;
}

/// A hyper-parameter's value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HyperValue {
    Float(f64),
    Bool(bool),
    /// A pair, such as Adam's `betas`.
    Pair(f64, f64),
}

impl From<f64> for HyperValue {
    fn from(v: f64) -> Self {
        HyperValue::Float(v)
    }
}
impl From<bool> for HyperValue {
    fn from(v: bool) -> Self {
        HyperValue::Bool(v)
    }
}
impl From<(f64, f64)> for HyperValue {
    fn from(v: (f64, f64)) -> Self {
        HyperValue::Pair(v.0, v.1)
    }
}

impl HyperValue {
    /// The value as a float, or an error naming the hyper-parameter.
    pub fn float(self, owner: &str, name: &str) -> Result<f64> {
        match self {
            HyperValue::Float(v) => Ok(v),
            other => bail!(
                Invalid,
                "{owner}: hyper-parameter `{name}` must be a number, got {other:?}"
            ),
        }
    }

    pub fn bool(self, owner: &str, name: &str) -> Result<bool> {
        match self {
            HyperValue::Bool(v) => Ok(v),
            other => bail!(
                Invalid,
                "{owner}: hyper-parameter `{name}` must be true or false, got {other:?}"
            ),
        }
    }

    pub fn pair(self, owner: &str, name: &str) -> Result<(f64, f64)> {
        match self {
            HyperValue::Pair(a, b) => Ok((a, b)),
            other => bail!(
                Invalid,
                "{owner}: hyper-parameter `{name}` must be a pair, got {other:?}"
            ),
        }
    }

    /// As a tensor for a state dict: a 0-d f64, a 0-d i64 flag, or a 1-d f64 pair.
    fn to_tensor(self) -> Tensor {
        match self {
            HyperValue::Float(v) => Tensor::scalar(v),
            HyperValue::Bool(v) => Tensor::scalar(v as i64),
            HyperValue::Pair(a, b) => Tensor::from_vec(vec![a, b], [2]),
        }
    }

    /// Reads a value of the same kind as `self` back from a state-dict tensor.
    fn read_like(self, owner: &str, key: &str, t: &Tensor) -> Result<HyperValue> {
        let values = t.to_vec::<f64>();
        Ok(match (self, values.as_slice()) {
            (HyperValue::Float(_), [v]) => HyperValue::Float(*v),
            (HyperValue::Bool(_), [v]) => HyperValue::Bool(*v != 0.0),
            (HyperValue::Pair(..), [a, b]) => HyperValue::Pair(*a, *b),
            _ => bail!(
                Shape,
                "{owner}.load_state_dict: `{key}` has shape {}, which does not fit {self:?}",
                t.shape()
            ),
        })
    }
}

/// The hyper-parameters of one optimizer (everything but `lr`), settable by PyTorch's names.
pub trait Options: Clone + Default + std::fmt::Debug + Send + Sync + 'static {
    /// PyTorch's class name (`"Adam"`).
    const OPTIMIZER: &'static str;
    /// Sets a hyper-parameter by its PyTorch name; an unknown name or a value of the wrong kind
    /// is an error (never silently ignored).
    fn set(&mut self, name: &str, value: HyperValue) -> Result<()>;
    /// Every hyper-parameter with its value, in PyTorch's order.
    fn entries(&self) -> Vec<(&'static str, HyperValue)>;
    /// Checks ranges (PyTorch's `ValueError`s), naming the value.
    fn validate(&self, lr: f64) -> Result<()>;
}

/// Parameters that share hyper-parameters (PyTorch's param group).
///
/// ```
/// use baeum::optim::{Optimizer, ParamGroup, Sgd};
/// let body = baeum::Tensor::param(&baeum::Tensor::zeros([3]));
/// let head = baeum::Tensor::param(&baeum::Tensor::zeros([2]));
/// let opt = Sgd::with_groups(
///     vec![ParamGroup::new(vec![body]), ParamGroup::new(vec![head]).lr(0.1).set("momentum", 0.9)],
///     0.01,
/// ).unwrap();
/// assert_eq!(opt.param_groups()[0].lr, 0.01);
/// assert_eq!(opt.param_groups()[1].lr, 0.1);
/// ```
#[derive(Clone, Debug)]
pub struct ParamGroup {
    pub params: Vec<Tensor>,
    /// The learning rate now (schedulers change it).
    pub lr: f64,
    /// The learning rate a scheduler started from (PyTorch's `initial_lr`), set by the first
    /// scheduler attached.
    pub initial_lr: Option<f64>,
    lr_given: bool,
    /// Hyper-parameters set for this group, overriding the optimizer's defaults.
    overrides: Vec<(String, HyperValue)>,
}

impl ParamGroup {
    /// A group taking every hyper-parameter from the optimizer's defaults.
    pub fn new(params: Vec<Tensor>) -> Self {
        ParamGroup {
            params,
            lr: 0.0,
            initial_lr: None,
            lr_given: false,
            overrides: Vec::new(),
        }
    }

    /// This group's learning rate.
    pub fn lr(mut self, lr: f64) -> Self {
        self.lr = lr;
        self.lr_given = true;
        self
    }

    /// Sets another hyper-parameter for this group by PyTorch's name (`"momentum"`,
    /// `"weight_decay"`, `"betas"`, ...); checked when the optimizer is built.
    pub fn set(mut self, name: &str, value: impl Into<HyperValue>) -> Self {
        self.set_option(name, value);
        self
    }

    /// Changes a hyper-parameter of this group in place (`param_groups_mut()[0].set_option(..)`).
    pub fn set_option(&mut self, name: &str, value: impl Into<HyperValue>) {
        let value = value.into();
        if name == "lr"
            && let HyperValue::Float(lr) = value
        {
            self.lr = lr;
            self.lr_given = true;
            return;
        }
        match self.overrides.iter_mut().find(|(k, _)| k == name) {
            Some(entry) => entry.1 = value,
            None => self.overrides.push((name.to_string(), value)),
        }
    }

    /// The hyper-parameters set on this group (not counting `lr`).
    pub fn overrides(&self) -> &[(String, HyperValue)] {
        &self.overrides
    }

    /// The group's effective options: `defaults` with this group's overrides applied.
    pub(crate) fn resolve<O: Options>(&self, defaults: &O) -> Result<O> {
        let mut o = defaults.clone();
        for (k, v) in &self.overrides {
            o.set(k, *v)?;
        }
        Ok(o)
    }
}

/// The state an optimizer keeps for one parameter: a step count, named scalars (NAdam's
/// `mu_product`) and named buffers shaped like the parameter, in the parameter's dtype.
#[derive(Clone, Debug, Default)]
pub struct ParamState {
    pub step: i64,
    pub scalars: Vec<(&'static str, f64)>,
    pub buffers: Vec<(&'static str, StorageData)>,
}

impl ParamState {
    pub fn scalar(&self, name: &str) -> f64 {
        self.scalars
            .iter()
            .find(|(k, _)| *k == name)
            .map_or(0.0, |(_, v)| *v)
    }

    pub fn set_scalar(&mut self, name: &'static str, value: f64) {
        match self.scalars.iter_mut().find(|(k, _)| *k == name) {
            Some(e) => e.1 = value,
            None => self.scalars.push((name, value)),
        }
    }

    pub fn has_scalar(&self, name: &str) -> bool {
        self.scalars.iter().any(|(k, _)| *k == name)
    }

    pub fn has_buffer(&self, name: &str) -> bool {
        self.buffers.iter().any(|(k, _)| *k == name)
    }

    /// Adds a buffer of `len` elements equal to `value`, in `T`'s dtype, if it is missing.
    pub fn ensure_buffer<T: Float>(&mut self, name: &'static str, len: usize, value: f64) {
        if !self.has_buffer(name) {
            self.buffers
                .push((name, T::wrap(vec![T::from_f64(value); len])));
        }
    }

    /// The buffers named, in that order, as mutable slices of `T`. Panics if one is missing
    /// (the rules create them before asking).
    pub fn buffers_mut<T: Float, const N: usize>(&mut self, names: [&str; N]) -> [&mut [T]; N] {
        self.buffers_opt_mut(names)
            .map(|b| b.expect("internal: optimizer state buffer missing"))
    }

    /// The buffers named, `None` for those that do not exist.
    pub fn buffers_opt_mut<T: Float, const N: usize>(
        &mut self,
        names: [&str; N],
    ) -> [Option<&mut [T]>; N] {
        let mut found: [Option<&mut [T]>; N] = std::array::from_fn(|_| None);
        for (k, data) in self.buffers.iter_mut() {
            if let Some(i) = names.iter().position(|n| n == k) {
                found[i] = Some(
                    T::unwrap_mut(data)
                        .expect("optimizer state is kept in the parameter's dtype")
                        .as_mut_slice(),
                );
            }
        }
        found
    }
}

/// What makes one optimizer: its options and its update rule for one parameter.
pub trait UpdateRule: Send + 'static {
    type Options: Options;
    /// State created before the first step (Adagrad's accumulator); most rules start empty
    /// and create their buffers lazily, as PyTorch does.
    fn initial_state(_options: &Self::Options, _param: &Tensor) -> Option<ParamState> {
        None
    }
    /// Updates `param` in place from `grad`, with `state.step` already incremented.
    fn update<T: Float>(
        options: &Self::Options,
        lr: f64,
        state: &mut ParamState,
        param: &mut [T],
        grad: &[T],
    );
}

/// An optimizer built from an [`UpdateRule`]: the groups, the defaults and per-parameter state.
pub struct GenericOptimizer<R: UpdateRule> {
    pub(crate) groups: Vec<ParamGroup>,
    pub(crate) defaults: R::Options,
    pub(crate) default_lr: f64,
    /// By global parameter index (groups in order, PyTorch's numbering); `None` until the
    /// parameter's first step.
    pub(crate) state: Vec<Option<ParamState>>,
    rule: std::marker::PhantomData<fn() -> R>,
}

impl<R: UpdateRule> Clone for GenericOptimizer<R> {
    fn clone(&self) -> Self {
        GenericOptimizer {
            groups: self.groups.clone(),
            defaults: self.defaults.clone(),
            default_lr: self.default_lr,
            state: self.state.clone(),
            rule: std::marker::PhantomData,
        }
    }
}

impl<R: UpdateRule> std::fmt::Debug for GenericOptimizer<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(R::Options::OPTIMIZER)
            .field("lr", &self.default_lr)
            .field("defaults", &self.defaults)
            .field("groups", &self.groups.len())
            .field(
                "params",
                &self.groups.iter().map(|g| g.params.len()).sum::<usize>(),
            )
            .finish()
    }
}

impl<R: UpdateRule> GenericOptimizer<R> {
    pub(crate) fn build(groups: Vec<ParamGroup>, lr: f64, defaults: R::Options) -> Result<Self> {
        let name = R::Options::OPTIMIZER;
        if groups.is_empty() {
            bail!(Invalid, "{name}: got an empty list of parameter groups");
        }
        let mut opt: Self = GenericOptimizer {
            groups,
            defaults,
            default_lr: lr,
            state: Vec::new(),
            rule: std::marker::PhantomData,
        };
        opt.defaults.validate(lr)?;
        for (g, group) in opt.groups.iter_mut().enumerate() {
            if !group.lr_given {
                group.lr = lr;
            }
            if group.params.is_empty() {
                bail!(Invalid, "{name}: parameter group {g} has no parameters");
            }
            for (i, p) in group.params.iter().enumerate() {
                if !p.dtype().is_float() {
                    bail!(
                        DType,
                        "{name}: parameter {i} of group {g} has dtype {}; only f32 and f64 \
                         parameters can be optimized",
                        p.dtype()
                    );
                }
                if !p.is_leaf() {
                    bail!(
                        Invalid,
                        "{name}: parameter {i} of group {g} (shape {}) is not a leaf tensor; \
                         optimize Tensor::param(..) leaves",
                        p.shape()
                    );
                }
            }
            group.resolve(&opt.defaults)?.validate(group.lr)?;
        }
        opt.state = opt
            .groups
            .iter()
            .flat_map(|g| g.params.iter())
            .map(|p| R::initial_state(&opt.defaults, p))
            .collect();
        Ok(opt)
    }

    /// Sets a default hyper-parameter, for the builder methods: every group that did not set
    /// it itself follows the default.
    pub(crate) fn set_default(mut self, name: &str, value: HyperValue) -> Self {
        if let Err(e) = self.defaults.set(name, value) {
            panic!("{e}");
        }
        if let Err(e) = self.defaults.validate(self.default_lr) {
            panic!("{e}");
        }
        // State created up front (Adagrad's accumulator) depends on the options.
        let fresh = self
            .state
            .iter()
            .all(|s| s.as_ref().is_none_or(|s| s.step == 0));
        if fresh {
            let defaults = self.defaults.clone();
            self.state = self
                .groups
                .iter()
                .flat_map(|g| g.params.iter())
                .map(|p| R::initial_state(&defaults, p))
                .collect();
        }
        self
    }

    /// The optimizer's default options (per-group overrides aside).
    pub fn defaults(&self) -> &R::Options {
        &self.defaults
    }

    fn total_params(&self) -> usize {
        self.groups.iter().map(|g| g.params.len()).sum()
    }
}

impl<R: UpdateRule> Optimizer for GenericOptimizer<R> {
    fn step(&mut self) -> Result<()> {
        let name = R::Options::OPTIMIZER;
        if self.state.len() != self.total_params() {
            // Parameters were added to a group after construction: give them (empty) state.
            let defaults = self.defaults.clone();
            let params: Vec<Tensor> = self.groups.iter().flat_map(|g| g.params.clone()).collect();
            self.state.resize_with(params.len(), || None);
            for (s, p) in self.state.iter_mut().zip(&params) {
                if s.is_none() {
                    *s = R::initial_state(&defaults, p);
                }
            }
        }
        let _no_grad = crate::autograd::NoGradGuard::new();
        let mut index = 0;
        for group in &self.groups {
            let options = group.resolve(&self.defaults)?;
            for param in &group.params {
                let slot = &mut self.state[index];
                index += 1;
                let Some(grad) = param.grad() else { continue };
                if grad.shape() != param.shape() {
                    bail!(
                        Shape,
                        "{name}.step: gradient of shape {} for parameter {} of shape {}",
                        grad.shape(),
                        index - 1,
                        param.shape()
                    );
                }
                let state = slot.get_or_insert_with(ParamState::default);
                state.step += 1;
                let lr = group.lr;
                with_float_dtype!(param.dtype(), T => update_in_place::<T>(param, &grad, |p, g| {
                    R::update(&options, lr, state, p, g)
                }), unreachable!("parameters are float (checked when built)"));
            }
        }
        Ok(())
    }

    fn zero_grad(&mut self) {
        for p in self.groups.iter().flat_map(|g| g.params.iter()) {
            p.zero_grad();
        }
    }

    fn param_groups(&self) -> &[ParamGroup] {
        &self.groups
    }

    fn param_groups_mut(&mut self) -> &mut [ParamGroup] {
        &mut self.groups
    }

    fn state_dict(&self) -> StateDict {
        let mut sd = StateDict::new();
        sd.insert(
            "optimizer",
            Tensor::from_vec(
                R::Options::OPTIMIZER.bytes().collect::<Vec<u8>>(),
                [R::Options::OPTIMIZER.len()],
            ),
        );
        let params: Vec<&Tensor> = self.groups.iter().flat_map(|g| g.params.iter()).collect();
        for (i, (slot, p)) in self.state.iter().zip(&params).enumerate() {
            let Some(st) = slot else { continue };
            sd.insert_i64(format!("state.{i}.step"), st.step);
            for (k, v) in &st.scalars {
                sd.insert_f64(format!("state.{i}.{k}"), *v);
            }
            for (k, data) in &st.buffers {
                sd.insert(
                    format!("state.{i}.{k}"),
                    Tensor::from_data(data.clone(), p.shape().clone()),
                );
            }
        }
        let mut first = 0;
        for (g, group) in self.groups.iter().enumerate() {
            sd.insert_f64(format!("param_groups.{g}.lr"), group.lr);
            if let Some(lr0) = group.initial_lr {
                sd.insert_f64(format!("param_groups.{g}.initial_lr"), lr0);
            }
            // Options the group could not resolve cannot exist: they were checked when set.
            if let Ok(options) = group.resolve(&self.defaults) {
                for (k, v) in options.entries() {
                    sd.insert(format!("param_groups.{g}.{k}"), v.to_tensor());
                }
            }
            let ids: Vec<i64> = (first..first + group.params.len() as i64).collect();
            first += group.params.len() as i64;
            sd.insert(
                format!("param_groups.{g}.params"),
                Tensor::from_vec(ids.clone(), [ids.len()]),
            );
        }
        sd
    }

    fn load_state_dict(&mut self, sd: &StateDict) -> Result<()> {
        let name = R::Options::OPTIMIZER;
        let kind = sd.require(name, "optimizer")?;
        let kind = String::from_utf8(kind.to_vec::<u8>()).unwrap_or_default();
        if kind != name {
            bail!(
                Invalid,
                "{name}.load_state_dict: the state dict was saved by {kind}, not {name}"
            );
        }
        // Check everything before changing anything, so a failed load leaves the optimizer
        // as it was.
        let mut groups = self.groups.clone();
        for (g, group) in groups.iter_mut().enumerate() {
            let saved_ids = sd.require(name, &format!("param_groups.{g}.params"))?;
            if saved_ids.numel() != group.params.len() {
                bail!(
                    Shape,
                    "{name}.load_state_dict: parameter group {g} has {} parameters, but the \
                     state dict's has {}",
                    group.params.len(),
                    saved_ids.numel()
                );
            }
            group.lr = sd.get_f64(name, &format!("param_groups.{g}.lr"))?;
            let key = format!("param_groups.{g}.initial_lr");
            group.initial_lr = if sd.contains_key(&key) {
                Some(sd.get_f64(name, &key)?)
            } else {
                None
            };
            let current = group.resolve(&self.defaults)?;
            for (k, v) in current.entries() {
                let key = format!("param_groups.{g}.{k}");
                let saved = v.read_like(name, &key, sd.require(name, &key)?)?;
                if saved != v {
                    group.set_option(k, saved);
                }
            }
        }
        if sd.contains_key(&format!("param_groups.{}.lr", groups.len())) {
            bail!(
                Shape,
                "{name}.load_state_dict: the state dict has more parameter groups than the {} \
                 of this optimizer",
                groups.len()
            );
        }
        let params: Vec<&Tensor> = self.groups.iter().flat_map(|g| g.params.iter()).collect();
        let mut state = Vec::with_capacity(params.len());
        for (i, p) in params.iter().enumerate() {
            let prefix = format!("state.{i}.");
            let entries = sd.strip_prefix(&prefix);
            if entries.is_empty() {
                state.push(None);
                continue;
            }
            let mut st = ParamState {
                step: entries
                    .get_i64(name, "step")
                    .map_err(|e| with_prefix(e, &prefix))?,
                ..ParamState::default()
            };
            for (k, t) in entries.iter() {
                if k == "step" {
                    continue;
                }
                let key: &'static str = state_name(k).ok_or_else(|| {
                    Error::Invalid(format!(
                        "{name}.load_state_dict: unknown state entry `{prefix}{k}`"
                    ))
                })?;
                if SCALAR_STATE.contains(&key) {
                    st.set_scalar(key, t.item::<f64>());
                } else {
                    if t.shape() != p.shape() {
                        bail!(
                            Shape,
                            "{name}.load_state_dict: `{prefix}{k}` has shape {}, but parameter \
                             {i} has shape {}",
                            t.shape(),
                            p.shape()
                        );
                    }
                    let data = with_float_dtype!(p.dtype(), T => T::wrap(t.to_vec::<T>()),
                        unreachable!("parameters are float"));
                    st.buffers.push((key, data));
                }
            }
            state.push(Some(st));
        }
        self.groups = groups;
        self.state = state;
        Ok(())
    }
}

/// Per-parameter scalars (not buffers) of the optimizers.
const SCALAR_STATE: &[&str] = &["mu_product"];

/// Every state entry name the optimizers use, as a `'static` name.
fn state_name(k: &str) -> Option<&'static str> {
    const NAMES: &[&str] = &[
        "momentum_buffer",
        "sum",
        "square_avg",
        "grad_avg",
        "acc_delta",
        "exp_avg",
        "exp_avg_sq",
        "max_exp_avg_sq",
        "mu_product",
    ];
    NAMES.iter().copied().find(|n| *n == k)
}

fn with_prefix(e: Error, prefix: &str) -> Error {
    match e {
        Error::Invalid(m) => Error::Invalid(m.replace('`', &format!("`{prefix}"))),
        Error::Shape(m) => Error::Shape(m.replace('`', &format!("`{prefix}"))),
        other => other,
    }
}

/// Runs `f` on `param`'s elements as one mutable slice and `grad`'s as another (both `T`,
/// the parameter's dtype), writing in place when the parameter is contiguous (the usual case),
/// else through a copy written back with `copy_`.
fn update_in_place<T: Float>(param: &Tensor, grad: &Tensor, f: impl FnOnce(&mut [T], &[T])) {
    let n = param.numel();
    // The gradient's elements: borrowed when it is a contiguous T tensor of its own storage.
    let owned_grad: Option<Vec<T>> =
        (grad.dtype() != T::DTYPE || !grad.is_contiguous() || grad.shares_storage(param))
            .then(|| grad.to_vec::<T>());
    let grad_guard = grad.storage().read();
    let g: &[T] = match &owned_grad {
        Some(v) => v,
        None => {
            let off = grad.layout().offset;
            &T::unwrap(&grad_guard).expect("gradient dtype checked")[off..off + n]
        }
    };
    if param.is_contiguous() {
        let offset = param.layout().offset;
        let mut guard = param.storage().write();
        let p = T::unwrap_mut(&mut guard).expect("parameter dtype checked");
        f(&mut p[offset..offset + n], g);
        return;
    }
    let mut copy = param.to_vec::<T>();
    f(&mut copy, g);
    drop(grad_guard);
    let updated = Tensor::from_vec(copy, param.shape().clone());
    no_grad(|| param.copy_(&updated));
}

/// Defines an optimizer's options struct: fields with PyTorch's names and defaults, `set` by
/// name, `entries` for state dicts, and the range checks.
macro_rules! define_options {
    ($(#[$m:meta])* $name:ident, $torch:literal {
        $($(#[$fm:meta])* $field:ident : $kind:ident = $default:expr),* $(,)?
    } validate |$s:ident, $lr:ident| $body:block) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            $($(#[$fm])* pub $field: define_options!(@ty $kind),)*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $($field: $default,)* }
            }
        }

        impl $crate::optim::optimizer::Options for $name {
            const OPTIMIZER: &'static str = $torch;

            fn set(
                &mut self,
                name: &str,
                value: $crate::optim::optimizer::HyperValue,
            ) -> $crate::Result<()> {
                match name {
                    $(stringify!($field) => self.$field = value.$kind($torch, name)?,)*
                    _ => {
                        return Err($crate::Error::Invalid(format!(
                            "{}: unknown hyper-parameter `{name}` (known: lr, {})",
                            $torch,
                            [$(stringify!($field)),*].join(", ")
                        )))
                    }
                }
                Ok(())
            }

            fn entries(&self) -> Vec<(&'static str, $crate::optim::optimizer::HyperValue)> {
                vec![$((stringify!($field), self.$field.into()),)*]
            }

            fn validate(&self, $lr: f64) -> $crate::Result<()> {
                let $s = self;
                $body
            }
        }
    };
    (@ty float) => { f64 };
    (@ty bool) => { bool };
    (@ty pair) => { (f64, f64) };
}
pub(crate) use define_options;

/// `Err(Invalid)` naming the optimizer and the value unless `ok`.
pub(crate) fn check(
    ok: bool,
    optimizer: &str,
    what: &str,
    value: impl std::fmt::Debug,
) -> Result<()> {
    if ok {
        Ok(())
    } else {
        bail!(Invalid, "{optimizer}: invalid {what}: {value:?}")
    }
}

/// PyTorch's `lerp`: `a + w (b − a)`, computed from the nearer end for |w| ≥ ½.
#[inline(always)]
pub(crate) fn lerp<T: Float>(a: T, b: T, w: T) -> T {
    let half = T::c(0.5);
    let aw = if w < T::zero() { -w } else { w };
    if aw < half {
        a + w * (b - a)
    } else {
        b - (b - a) * (T::one() - w)
    }
}

/// The constructors every optimizer has: `new(params, lr)`, `with_groups(groups, lr)` and
/// `with_options(groups, lr, options)`.
macro_rules! constructors {
    ($rule:ty, $options:ty) => {
        impl $crate::optim::optimizer::GenericOptimizer<$rule> {
            /// One group of parameters with learning rate `lr` and PyTorch's defaults for the
            /// rest. Panics with the reason on invalid input (a non-float or non-leaf
            /// parameter, a negative learning rate); [`Self::with_groups`] returns it instead.
            pub fn new(params: Vec<$crate::Tensor>, lr: f64) -> Self {
                match Self::with_groups(vec![$crate::optim::ParamGroup::new(params)], lr) {
                    Ok(o) => o,
                    Err(e) => panic!("{e}"),
                }
            }

            /// Several groups; a group without its own `lr` takes `lr`.
            pub fn with_groups(
                groups: Vec<$crate::optim::ParamGroup>,
                lr: f64,
            ) -> $crate::Result<Self> {
                Self::build(groups, lr, <$options>::default())
            }

            /// Several groups with explicit default options.
            pub fn with_options(
                groups: Vec<$crate::optim::ParamGroup>,
                lr: f64,
                options: $options,
            ) -> $crate::Result<Self> {
                Self::build(groups, lr, options)
            }
        }
    };
}
pub(crate) use constructors;

/// Builder methods that set a default hyper-parameter (`.momentum(0.9)`); they panic on an
/// out-of-range value, as constructors of layers do.
macro_rules! builders {
    ($rule:ty { $($(#[$m:meta])* $method:ident($($arg:ident: $ty:ty),+) => $name:literal $value:expr;)* }) => {
        impl $crate::optim::optimizer::GenericOptimizer<$rule> {
            $(
                $(#[$m])*
                pub fn $method(self, $($arg: $ty),+) -> Self {
                    self.set_default($name, $value.into())
                }
            )*
        }
    };
}
pub(crate) use builders;
