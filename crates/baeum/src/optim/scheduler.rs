//! Learning-rate schedules (PyTorch's `torch.optim.lr_scheduler`): StepLR, MultiStepLR,
//! ExponentialLR, CosineAnnealingLR, LinearLR (warm-up), SequentialLR and ReduceLROnPlateau.
//!
//! A scheduler reads the learning rates of the optimizer it is built for (recording them as
//! each group's `initial_lr`) and changes them at every [`LrScheduler::step`], which is called
//! after `optimizer.step()`, usually once per epoch. The epoch-based ones use PyTorch's
//! recursive forms (each new rate from the current one), so they reproduce its numbers.

use super::optimizer::Optimizer;
use crate::error::{Result, bail};
use crate::io::StateDict;

/// A learning-rate schedule.
pub trait LrScheduler: Send {
    /// One scheduler.step(): call after optimizer.step() (per epoch usually). `metric` is
    /// required by ReduceLROnPlateau and ignored by the others.
    fn step(&mut self, optimizer: &mut dyn Optimizer, metric: Option<f64>) -> Result<()>;
    /// The learning rate of each group after the last step.
    fn last_lr(&self) -> Vec<f64>;
    fn state_dict(&self) -> StateDict;
    fn load_state_dict(&mut self, state: &StateDict) -> Result<()>;
    /// Starts over at epoch 0 from each group's initial rate, as if just built: what
    /// [`SequentialLr`] does when it hands the schedule over to this scheduler (PyTorch's
    /// `scheduler.step(0)`). Schedulers without an epoch count refuse.
    fn restart(&mut self, optimizer: &mut dyn Optimizer) -> Result<()> {
        let _ = optimizer;
        bail!(
            Invalid,
            "this scheduler cannot be restarted at epoch 0, so it cannot be chained in \
             SequentialLR"
        )
    }
}

/// What the epoch-based schedulers share: the epoch count and the rates they started from.
#[derive(Clone, Debug)]
struct Epochs {
    name: &'static str,
    last_epoch: i64,
    base_lrs: Vec<f64>,
    last_lr: Vec<f64>,
}

impl Epochs {
    /// Attaches to `optimizer` (PyTorch's constructor with `last_epoch = -1`): records
    /// `initial_lr` where a group has none, then takes the initial step, `initial(lr)` giving
    /// each group's rate at epoch 0.
    fn attach(
        name: &'static str,
        optimizer: &mut dyn Optimizer,
        initial: impl Fn(f64) -> f64,
    ) -> Epochs {
        let mut base_lrs = Vec::new();
        let mut last_lr = Vec::new();
        for group in optimizer.param_groups_mut() {
            let lr0 = *group.initial_lr.get_or_insert(group.lr);
            base_lrs.push(lr0);
            group.lr = initial(group.lr);
            last_lr.push(group.lr);
        }
        Epochs {
            name,
            last_epoch: 0,
            base_lrs,
            last_lr,
        }
    }

    /// Advances one epoch, setting each group's rate to `next(epoch, base_lr, lr)`.
    fn advance(
        &mut self,
        optimizer: &mut dyn Optimizer,
        next: impl Fn(i64, f64, f64) -> f64,
    ) -> Result<()> {
        let groups = optimizer.param_groups_mut();
        if groups.len() != self.base_lrs.len() {
            bail!(
                Invalid,
                "{}.step: the optimizer has {} parameter groups, but the scheduler was built \
                 for {}",
                self.name,
                groups.len(),
                self.base_lrs.len()
            );
        }
        self.last_epoch += 1;
        for (group, &base) in groups.iter_mut().zip(&self.base_lrs) {
            group.lr = next(self.last_epoch, base, group.lr);
        }
        self.last_lr = groups.iter().map(|g| g.lr).collect();
        Ok(())
    }

    /// Back to epoch 0: each group's rate becomes `start(base_lr)`.
    fn restart(&mut self, optimizer: &mut dyn Optimizer, start: impl Fn(f64) -> f64) -> Result<()> {
        let groups = optimizer.param_groups_mut();
        if groups.len() != self.base_lrs.len() {
            bail!(
                Invalid,
                "{}: the optimizer has {} parameter groups, but the scheduler was built for {}",
                self.name,
                groups.len(),
                self.base_lrs.len()
            );
        }
        self.last_epoch = 0;
        for (group, &base) in groups.iter_mut().zip(&self.base_lrs) {
            group.lr = start(base);
        }
        self.last_lr = groups.iter().map(|g| g.lr).collect();
        Ok(())
    }

    fn save(&self, sd: &mut StateDict) {
        sd.insert_i64("last_epoch", self.last_epoch);
        for (i, v) in self.base_lrs.iter().enumerate() {
            sd.insert_f64(format!("base_lrs.{i}"), *v);
        }
        for (i, v) in self.last_lr.iter().enumerate() {
            sd.insert_f64(format!("last_lr.{i}"), *v);
        }
    }

    fn load(&mut self, sd: &StateDict) -> Result<()> {
        let owner = self.name;
        let last_epoch = sd.get_i64(owner, "last_epoch")?;
        let read = |prefix: &str, n: usize| -> Result<Vec<f64>> {
            (0..n)
                .map(|i| sd.get_f64(owner, &format!("{prefix}.{i}")))
                .collect()
        };
        let base_lrs = read("base_lrs", self.base_lrs.len())?;
        let last_lr = read("last_lr", self.last_lr.len())?;
        if sd.contains_key(&format!("base_lrs.{}", self.base_lrs.len())) {
            bail!(
                Shape,
                "{owner}.load_state_dict: the state dict is for more parameter groups than the \
                 {} of this scheduler",
                self.base_lrs.len()
            );
        }
        self.last_epoch = last_epoch;
        self.base_lrs = base_lrs;
        self.last_lr = last_lr;
        Ok(())
    }
}

/// Checks that a state dict was saved by the scheduler `name`.
fn check_kind(sd: &StateDict, name: &str) -> Result<()> {
    let kind = sd.require(name, "scheduler")?;
    let kind = String::from_utf8(kind.to_vec::<u8>()).unwrap_or_default();
    if kind != name {
        bail!(
            Invalid,
            "{name}.load_state_dict: the state dict was saved by {kind}, not {name}"
        );
    }
    Ok(())
}

fn kind_tensor(name: &str) -> crate::Tensor {
    crate::Tensor::from_vec(name.bytes().collect::<Vec<u8>>(), [name.len()])
}

/// Implements [`LrScheduler`] for an epoch-based scheduler with fields `epochs` and a rule
/// `fn next(&self, epoch, base_lr, lr) -> f64` and its rate at epoch 0,
/// `fn start(&self, base_lr) -> f64`, saving the listed hyper-parameters.
macro_rules! epoch_scheduler {
    ($ty:ident, $name:literal, [$($field:ident),*]) => {
        impl LrScheduler for $ty {
            fn step(&mut self, optimizer: &mut dyn Optimizer, _metric: Option<f64>) -> Result<()> {
                let this = self.clone();
                self.epochs
                    .advance(optimizer, |epoch, base, lr| this.next(epoch, base, lr))
            }

            fn last_lr(&self) -> Vec<f64> {
                self.epochs.last_lr.clone()
            }

            fn restart(&mut self, optimizer: &mut dyn Optimizer) -> Result<()> {
                let this = self.clone();
                self.epochs.restart(optimizer, |base| this.start(base))
            }

            fn state_dict(&self) -> StateDict {
                let mut sd = StateDict::new();
                sd.insert("scheduler", kind_tensor($name));
                self.epochs.save(&mut sd);
                $(sd.insert(stringify!($field), HyperField::to_tensor(&self.$field));)*
                sd
            }

            fn load_state_dict(&mut self, sd: &StateDict) -> Result<()> {
                check_kind(sd, $name)?;
                $(let $field = HyperField::from_state(sd, $name, stringify!($field))?;)*
                self.epochs.load(sd)?;
                $(self.$field = $field;)*
                Ok(())
            }
        }
    };
}

/// A scheduler hyper-parameter stored in a state dict.
trait HyperField: Sized {
    fn to_tensor(&self) -> crate::Tensor;
    fn from_state(sd: &StateDict, owner: &str, key: &str) -> Result<Self>;
}

impl HyperField for f64 {
    fn to_tensor(&self) -> crate::Tensor {
        crate::Tensor::scalar(*self)
    }
    fn from_state(sd: &StateDict, owner: &str, key: &str) -> Result<Self> {
        sd.get_f64(owner, key)
    }
}

impl HyperField for usize {
    fn to_tensor(&self) -> crate::Tensor {
        crate::Tensor::scalar(*self as i64)
    }
    fn from_state(sd: &StateDict, owner: &str, key: &str) -> Result<Self> {
        let v = sd.get_i64(owner, key)?;
        usize::try_from(v).map_err(|_| {
            crate::Error::Invalid(format!("{owner}.load_state_dict: `{key}` is negative: {v}"))
        })
    }
}

impl HyperField for Vec<usize> {
    fn to_tensor(&self) -> crate::Tensor {
        let v: Vec<i64> = self.iter().map(|&x| x as i64).collect();
        crate::Tensor::from_vec(v, [self.len()])
    }
    fn from_state(sd: &StateDict, owner: &str, key: &str) -> Result<Self> {
        let t = sd.require(owner, key)?;
        t.to_vec::<i64>()
            .into_iter()
            .map(|v| {
                usize::try_from(v).map_err(|_| {
                    crate::Error::Invalid(format!(
                        "{owner}.load_state_dict: `{key}` holds a negative value {v}"
                    ))
                })
            })
            .collect()
    }
}

/// Multiplies the rate by `gamma` every `step_size` epochs (PyTorch's `StepLR`).
///
/// ```
/// use baeum::optim::{LrScheduler, Optimizer, Sgd, StepLr};
/// let w = baeum::Tensor::param(&baeum::Tensor::zeros([1]));
/// let mut opt = Sgd::new(vec![w], 0.1);
/// let mut sched = StepLr::new(&mut opt, 2, 0.5);
/// let mut lrs = Vec::new();
/// for _ in 0..4 {
///     opt.step().unwrap();
///     sched.step(&mut opt, None).unwrap();
///     lrs.push(sched.last_lr()[0]);
/// }
/// assert_eq!(lrs, vec![0.1, 0.05, 0.05, 0.025]);
/// ```
#[derive(Clone, Debug)]
pub struct StepLr {
    pub step_size: usize,
    pub gamma: f64,
    epochs: Epochs,
}

impl StepLr {
    /// PyTorch's default `gamma` is 0.1. Panics if `step_size` is 0.
    pub fn new(optimizer: &mut dyn Optimizer, step_size: usize, gamma: f64) -> Self {
        assert!(step_size > 0, "StepLR: step_size must be positive, got 0");
        StepLr {
            step_size,
            gamma,
            epochs: Epochs::attach("StepLR", optimizer, |lr| lr),
        }
    }

    fn start(&self, base: f64) -> f64 {
        base
    }

    fn next(&self, epoch: i64, _base: f64, lr: f64) -> f64 {
        if epoch % self.step_size as i64 == 0 {
            lr * self.gamma
        } else {
            lr
        }
    }
}
epoch_scheduler!(StepLr, "StepLR", [step_size, gamma]);

/// Multiplies the rate by `gamma` at each milestone epoch (PyTorch's `MultiStepLR`; a
/// milestone listed twice multiplies by `gamma²`).
#[derive(Clone, Debug)]
pub struct MultiStepLr {
    pub milestones: Vec<usize>,
    pub gamma: f64,
    epochs: Epochs,
}

impl MultiStepLr {
    pub fn new(optimizer: &mut dyn Optimizer, milestones: Vec<usize>, gamma: f64) -> Self {
        let mut milestones = milestones;
        milestones.sort_unstable();
        MultiStepLr {
            milestones,
            gamma,
            epochs: Epochs::attach("MultiStepLR", optimizer, |lr| lr),
        }
    }

    /// A milestone at epoch 0 already applies (PyTorch's closed form).
    fn start(&self, base: f64) -> f64 {
        let hits = self.milestones.iter().filter(|&&m| m == 0).count();
        base * self.gamma.powi(hits as i32)
    }

    fn next(&self, epoch: i64, _base: f64, lr: f64) -> f64 {
        let hits = self
            .milestones
            .iter()
            .filter(|&&m| m as i64 == epoch)
            .count();
        if hits == 0 {
            lr
        } else {
            lr * self.gamma.powi(hits as i32)
        }
    }
}
epoch_scheduler!(MultiStepLr, "MultiStepLR", [milestones, gamma]);

/// Multiplies the rate by `gamma` every epoch (PyTorch's `ExponentialLR`).
#[derive(Clone, Debug)]
pub struct ExponentialLr {
    pub gamma: f64,
    epochs: Epochs,
}

impl ExponentialLr {
    pub fn new(optimizer: &mut dyn Optimizer, gamma: f64) -> Self {
        ExponentialLr {
            gamma,
            epochs: Epochs::attach("ExponentialLR", optimizer, |lr| lr),
        }
    }

    fn start(&self, base: f64) -> f64 {
        base
    }

    fn next(&self, _epoch: i64, _base: f64, lr: f64) -> f64 {
        lr * self.gamma
    }
}
epoch_scheduler!(ExponentialLr, "ExponentialLR", [gamma]);

/// Cosine annealing from the initial rate down to `eta_min` over `t_max` epochs, then back up
/// (PyTorch's `CosineAnnealingLR`, in its recursive form).
#[derive(Clone, Debug)]
pub struct CosineAnnealingLr {
    pub t_max: usize,
    pub eta_min: f64,
    epochs: Epochs,
}

impl CosineAnnealingLr {
    /// PyTorch's default `eta_min` is 0. Panics if `t_max` is 0.
    pub fn new(optimizer: &mut dyn Optimizer, t_max: usize, eta_min: f64) -> Self {
        assert!(
            t_max > 0,
            "CosineAnnealingLR: T_max must be positive, got 0"
        );
        CosineAnnealingLr {
            t_max,
            eta_min,
            epochs: Epochs::attach("CosineAnnealingLR", optimizer, |lr| lr),
        }
    }

    fn start(&self, base: f64) -> f64 {
        base
    }

    fn next(&self, epoch: i64, base: f64, lr: f64) -> f64 {
        use std::f64::consts::PI;
        let t = self.t_max as f64;
        let t_max = self.t_max as i64;
        if (epoch - 1 - t_max).rem_euclid(2 * t_max) == 0 {
            lr + (base - self.eta_min) * (1.0 - (PI / t).cos()) / 2.0
        } else {
            (1.0 + (PI * epoch as f64 / t).cos()) / (1.0 + (PI * (epoch - 1) as f64 / t).cos())
                * (lr - self.eta_min)
                + self.eta_min
        }
    }
}
epoch_scheduler!(CosineAnnealingLr, "CosineAnnealingLR", [t_max, eta_min]);

/// Scales the rate linearly from `start_factor` to `end_factor` over `total_iters` epochs,
/// then keeps it: the usual warm-up (PyTorch's `LinearLR`; defaults 1/3, 1.0, 5).
#[derive(Clone, Debug)]
pub struct LinearLr {
    pub start_factor: f64,
    pub end_factor: f64,
    pub total_iters: usize,
    epochs: Epochs,
}

impl LinearLr {
    /// Multiplies the optimizer's rates by `start_factor` at once (epoch 0). Panics unless
    /// `0 < start_factor ≤ 1` and `0 ≤ end_factor ≤ 1`, as PyTorch.
    pub fn new(
        optimizer: &mut dyn Optimizer,
        start_factor: f64,
        end_factor: f64,
        total_iters: usize,
    ) -> Self {
        assert!(
            start_factor > 0.0 && start_factor <= 1.0,
            "LinearLR: start_factor must be in (0, 1], got {start_factor}"
        );
        assert!(
            (0.0..=1.0).contains(&end_factor),
            "LinearLR: end_factor must be in [0, 1], got {end_factor}"
        );
        LinearLr {
            start_factor,
            end_factor,
            total_iters,
            epochs: Epochs::attach("LinearLR", optimizer, |lr| lr * start_factor),
        }
    }

    fn start(&self, base: f64) -> f64 {
        base * self.start_factor
    }

    fn next(&self, epoch: i64, _base: f64, lr: f64) -> f64 {
        if epoch > self.total_iters as i64 {
            return lr;
        }
        let span = self.end_factor - self.start_factor;
        lr * (1.0
            + span / (self.total_iters as f64 * self.start_factor + (epoch - 1) as f64 * span))
    }
}
epoch_scheduler!(
    LinearLr,
    "LinearLR",
    [start_factor, end_factor, total_iters]
);

/// Whether ReduceLROnPlateau watches a quantity to minimize (a loss) or maximize (accuracy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlateauMode {
    Min,
    Max,
}

/// How ReduceLROnPlateau's `threshold` measures a significant improvement: relative to the
/// best value (`best · (1 ∓ threshold)`) or absolute (`best ∓ threshold`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdMode {
    Rel,
    Abs,
}

/// Multiplies the rates by `factor` when a metric stopped improving for more than `patience`
/// epochs (PyTorch's `ReduceLROnPlateau`). `step` needs the metric.
///
/// ```
/// use baeum::optim::{LrScheduler, Optimizer, ReduceLrOnPlateau, Sgd};
/// let w = baeum::Tensor::param(&baeum::Tensor::zeros([1]));
/// let mut opt = Sgd::new(vec![w], 0.1);
/// let mut plateau = ReduceLrOnPlateau::new(&mut opt).patience(1).factor(0.5);
/// for loss in [1.0, 0.9, 0.9, 0.9] {
///     plateau.step(&mut opt, Some(loss)).unwrap();
/// }
/// assert_eq!(plateau.last_lr(), vec![0.05]);
/// ```
#[derive(Clone, Debug)]
pub struct ReduceLrOnPlateau {
    pub mode: PlateauMode,
    pub factor: f64,
    pub patience: usize,
    pub threshold: f64,
    pub threshold_mode: ThresholdMode,
    pub cooldown: usize,
    /// The lowest rate of each group.
    pub min_lrs: Vec<f64>,
    /// Changes smaller than this are not made.
    pub eps: f64,
    best: f64,
    num_bad_epochs: usize,
    cooldown_counter: usize,
    last_epoch: i64,
    last_lr: Vec<f64>,
}

impl ReduceLrOnPlateau {
    /// PyTorch's defaults: mode min, factor 0.1, patience 10, threshold 1e-4 (relative),
    /// cooldown 0, min_lr 0, eps 1e-8.
    pub fn new(optimizer: &mut dyn Optimizer) -> Self {
        let groups = optimizer.param_groups();
        ReduceLrOnPlateau {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lrs: vec![0.0; groups.len()],
            eps: 1e-8,
            best: f64::INFINITY,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            last_epoch: 0,
            last_lr: groups.iter().map(|g| g.lr).collect(),
        }
    }

    pub fn mode(mut self, mode: PlateauMode) -> Self {
        self.mode = mode;
        self.best = self.worst();
        self
    }

    /// Panics unless `factor < 1` (PyTorch's check).
    pub fn factor(mut self, factor: f64) -> Self {
        assert!(
            factor < 1.0,
            "ReduceLROnPlateau: factor should be < 1.0, got {factor}"
        );
        self.factor = factor;
        self
    }

    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }

    pub fn threshold_mode(mut self, threshold_mode: ThresholdMode) -> Self {
        self.threshold_mode = threshold_mode;
        self
    }

    pub fn cooldown(mut self, cooldown: usize) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// One lower bound for every group.
    pub fn min_lr(mut self, min_lr: f64) -> Self {
        self.min_lrs.iter_mut().for_each(|m| *m = min_lr);
        self
    }

    /// A lower bound per group. Panics if the count differs from the optimizer's groups.
    pub fn min_lrs(mut self, min_lrs: Vec<f64>) -> Self {
        assert_eq!(
            min_lrs.len(),
            self.min_lrs.len(),
            "ReduceLROnPlateau: expected {} min_lrs, got {}",
            self.min_lrs.len(),
            min_lrs.len()
        );
        self.min_lrs = min_lrs;
        self
    }

    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// The best metric value seen so far.
    pub fn best(&self) -> f64 {
        self.best
    }

    /// Epochs since the last improvement.
    pub fn num_bad_epochs(&self) -> usize {
        self.num_bad_epochs
    }

    fn worst(&self) -> f64 {
        match self.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        }
    }

    fn is_better(&self, a: f64, best: f64) -> bool {
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - self.threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - self.threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (self.threshold + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + self.threshold,
        }
    }
}

impl LrScheduler for ReduceLrOnPlateau {
    fn step(&mut self, optimizer: &mut dyn Optimizer, metric: Option<f64>) -> Result<()> {
        let Some(current) = metric else {
            bail!(
                Invalid,
                "ReduceLROnPlateau.step: needs the metric it watches (step(optimizer, Some(loss)))"
            );
        };
        let groups = optimizer.param_groups_mut();
        if groups.len() != self.min_lrs.len() {
            bail!(
                Invalid,
                "ReduceLROnPlateau.step: the optimizer has {} parameter groups, but min_lrs has {}",
                groups.len(),
                self.min_lrs.len()
            );
        }
        self.last_epoch += 1;
        if self.is_better(current, self.best) {
            self.best = current;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0; // bad epochs in cooldown do not count
        }
        if self.num_bad_epochs > self.patience {
            for (group, &min_lr) in groups.iter_mut().zip(&self.min_lrs) {
                let new_lr = (group.lr * self.factor).max(min_lr);
                if group.lr - new_lr > self.eps {
                    group.lr = new_lr;
                }
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        self.last_lr = groups.iter().map(|g| g.lr).collect();
        Ok(())
    }

    fn last_lr(&self) -> Vec<f64> {
        self.last_lr.clone()
    }

    fn state_dict(&self) -> StateDict {
        let mut sd = StateDict::new();
        sd.insert("scheduler", kind_tensor("ReduceLROnPlateau"));
        sd.insert_i64("mode_max", (self.mode == PlateauMode::Max) as i64);
        sd.insert_f64("factor", self.factor);
        sd.insert_i64("patience", self.patience as i64);
        sd.insert_f64("threshold", self.threshold);
        sd.insert_i64(
            "threshold_mode_abs",
            (self.threshold_mode == ThresholdMode::Abs) as i64,
        );
        sd.insert_i64("cooldown", self.cooldown as i64);
        sd.insert(
            "min_lrs",
            crate::Tensor::from_vec(self.min_lrs.clone(), [self.min_lrs.len()]),
        );
        sd.insert_f64("eps", self.eps);
        sd.insert_f64("best", self.best);
        sd.insert_i64("num_bad_epochs", self.num_bad_epochs as i64);
        sd.insert_i64("cooldown_counter", self.cooldown_counter as i64);
        sd.insert_i64("last_epoch", self.last_epoch);
        sd.insert(
            "last_lr",
            crate::Tensor::from_vec(self.last_lr.clone(), [self.last_lr.len()]),
        );
        sd
    }

    fn load_state_dict(&mut self, sd: &StateDict) -> Result<()> {
        const NAME: &str = "ReduceLROnPlateau";
        check_kind(sd, NAME)?;
        let count = |key: &str| -> Result<usize> {
            let v = sd.get_i64(NAME, key)?;
            usize::try_from(v).map_err(|_| {
                crate::Error::Invalid(format!("{NAME}.load_state_dict: `{key}` is negative: {v}"))
            })
        };
        let min_lrs = sd.require(NAME, "min_lrs")?.to_vec::<f64>();
        let last_lr = sd.require(NAME, "last_lr")?.to_vec::<f64>();
        if min_lrs.len() != self.min_lrs.len() || last_lr.len() != self.last_lr.len() {
            bail!(
                Shape,
                "{NAME}.load_state_dict: the state dict is for {} parameter groups, this \
                 scheduler for {}",
                min_lrs.len(),
                self.min_lrs.len()
            );
        }
        let loaded = ReduceLrOnPlateau {
            mode: if sd.get_i64(NAME, "mode_max")? != 0 {
                PlateauMode::Max
            } else {
                PlateauMode::Min
            },
            factor: sd.get_f64(NAME, "factor")?,
            patience: count("patience")?,
            threshold: sd.get_f64(NAME, "threshold")?,
            threshold_mode: if sd.get_i64(NAME, "threshold_mode_abs")? != 0 {
                ThresholdMode::Abs
            } else {
                ThresholdMode::Rel
            },
            cooldown: count("cooldown")?,
            min_lrs,
            eps: sd.get_f64(NAME, "eps")?,
            best: sd.get_f64(NAME, "best")?,
            num_bad_epochs: count("num_bad_epochs")?,
            cooldown_counter: count("cooldown_counter")?,
            last_epoch: sd.get_i64(NAME, "last_epoch")?,
            last_lr,
        };
        *self = loaded;
        Ok(())
    }
}

/// Runs schedulers one after another, handing over at each milestone epoch (PyTorch's
/// `SequentialLR`): the usual linear warm-up followed by a decay. At a milestone the next
/// scheduler restarts at its epoch 0 from the initial rates.
///
/// ```
/// use baeum::optim::{CosineAnnealingLr, LinearLr, LrScheduler, Optimizer, SequentialLr, Sgd};
/// let w = baeum::Tensor::param(&baeum::Tensor::zeros([1]));
/// let mut opt = Sgd::new(vec![w], 0.1);
/// let warmup = LinearLr::new(&mut opt, 0.1, 1.0, 3);
/// let decay = CosineAnnealingLr::new(&mut opt, 5, 0.0);
/// let mut sched =
///     SequentialLr::new(&mut opt, vec![Box::new(warmup), Box::new(decay)], vec![3]).unwrap();
/// let mut lrs = vec![sched.last_lr()[0]];
/// for _ in 0..4 {
///     opt.step().unwrap();
///     sched.step(&mut opt, None).unwrap();
///     lrs.push(sched.last_lr()[0]);
/// }
/// let rounded: Vec<f64> = lrs.iter().map(|lr| (lr * 1e4).round() / 1e4).collect();
/// assert_eq!(rounded, vec![0.01, 0.04, 0.07, 0.1, 0.0905]);
/// ```
pub struct SequentialLr {
    schedulers: Vec<Box<dyn LrScheduler>>,
    milestones: Vec<usize>,
    last_epoch: i64,
    last_lr: Vec<f64>,
}

impl SequentialLr {
    /// Chains `schedulers` (all built on `optimizer`), switching from scheduler `i` to `i + 1`
    /// at epoch `milestones[i]`. Resets the rates to their initial values and restarts the
    /// first scheduler, undoing what the later ones did when they were built. Errors unless
    /// there is one milestone fewer than schedulers, in increasing order, and every scheduler
    /// can restart (ReduceLROnPlateau cannot).
    pub fn new(
        optimizer: &mut dyn Optimizer,
        mut schedulers: Vec<Box<dyn LrScheduler>>,
        milestones: Vec<usize>,
    ) -> Result<Self> {
        if schedulers.is_empty() {
            bail!(Invalid, "SequentialLR: needs at least one scheduler");
        }
        if milestones.len() + 1 != schedulers.len() {
            bail!(
                Invalid,
                "SequentialLR: {} schedulers need {} milestones, got {} ({milestones:?})",
                schedulers.len(),
                schedulers.len() - 1,
                milestones.len()
            );
        }
        if milestones.windows(2).any(|w| w[0] >= w[1]) {
            bail!(
                Invalid,
                "SequentialLR: milestones {milestones:?} must increase strictly"
            );
        }
        for group in optimizer.param_groups_mut() {
            group.lr = *group.initial_lr.get_or_insert(group.lr);
        }
        // Restarting the later schedulers only checks they can; the first one goes last so
        // its epoch-0 rates are the ones left in the optimizer.
        for (i, scheduler) in schedulers.iter_mut().enumerate().rev() {
            scheduler
                .restart(optimizer)
                .map_err(|e| crate::Error::Invalid(format!("SequentialLR: scheduler {i}: {e}")))?;
        }
        let last_lr = schedulers[0].last_lr();
        Ok(SequentialLr {
            schedulers,
            milestones,
            last_epoch: 0,
            last_lr,
        })
    }

    /// The index of the scheduler in charge of the current epoch.
    pub fn current(&self) -> usize {
        self.milestones
            .partition_point(|&m| m as i64 <= self.last_epoch)
    }
}

impl LrScheduler for SequentialLr {
    fn step(&mut self, optimizer: &mut dyn Optimizer, metric: Option<f64>) -> Result<()> {
        self.last_epoch += 1;
        let idx = self.current();
        let scheduler = &mut self.schedulers[idx];
        if idx > 0 && self.milestones[idx - 1] as i64 == self.last_epoch {
            scheduler.restart(optimizer)?;
        } else {
            scheduler.step(optimizer, metric)?;
        }
        self.last_lr = scheduler.last_lr();
        Ok(())
    }

    fn last_lr(&self) -> Vec<f64> {
        self.last_lr.clone()
    }

    fn state_dict(&self) -> StateDict {
        let mut sd = StateDict::new();
        sd.insert("scheduler", kind_tensor("SequentialLR"));
        sd.insert_i64("last_epoch", self.last_epoch);
        sd.insert("milestones", HyperField::to_tensor(&self.milestones));
        sd.insert(
            "last_lr",
            crate::Tensor::from_vec(self.last_lr.clone(), [self.last_lr.len()]),
        );
        for (i, scheduler) in self.schedulers.iter().enumerate() {
            sd.extend_prefixed(&format!("schedulers.{i}"), &scheduler.state_dict());
        }
        sd
    }

    fn load_state_dict(&mut self, sd: &StateDict) -> Result<()> {
        const NAME: &str = "SequentialLR";
        check_kind(sd, NAME)?;
        let milestones: Vec<usize> = HyperField::from_state(sd, NAME, "milestones")?;
        if milestones.len() + 1 != self.schedulers.len() {
            bail!(
                Shape,
                "{NAME}.load_state_dict: the state dict chains {} schedulers, this one {}",
                milestones.len() + 1,
                self.schedulers.len()
            );
        }
        let last_epoch = sd.get_i64(NAME, "last_epoch")?;
        let last_lr = sd.require(NAME, "last_lr")?.to_vec::<f64>();
        for (i, scheduler) in self.schedulers.iter_mut().enumerate() {
            scheduler.load_state_dict(&sd.sub(&format!("schedulers.{i}")))?;
        }
        self.milestones = milestones;
        self.last_epoch = last_epoch;
        self.last_lr = last_lr;
        Ok(())
    }
}
