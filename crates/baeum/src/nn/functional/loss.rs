//! Loss functions with PyTorch's reductions (`torch.nn.functional`): regression (MSE, L1,
//! smooth L1, Huber), binary classification (BCE, BCE with logits), multi-class (cross-entropy
//! with index or probability targets, NLL) and KL divergence.
//!
//! `cross_entropy` with class-index targets is one fused operation (log-softmax and NLL in a
//! single pass, backward `softmax − smoothed one-hot`, scaled); the others are composed of
//! differentiable tensor operations. Every function checks shapes and dtypes first and returns
//! an error naming the function and what was wrong.

use std::sync::Arc;

use crate::autograd::{Saved, grads, is_grad_enabled, record_op};
use crate::error::{Result, bail};
use crate::tensor::{Float, Tensor};
use crate::with_float_dtype;

/// How a loss reduces its per-element values (PyTorch's `reduction`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// The per-element losses, unreduced.
    None,
    /// Their mean (the default). With class weights, cross-entropy and NLL divide by the sum
    /// of the weights of the counted targets instead, as PyTorch.
    #[default]
    Mean,
    /// Their sum.
    Sum,
    /// The sum divided by the batch size (the first dimension): `kl_div` only, where it gives
    /// the true KL divergence per sample.
    BatchMean,
}

fn reduce(op: &str, loss: Tensor, reduction: Reduction) -> Result<Tensor> {
    Ok(match reduction {
        Reduction::None => loss,
        Reduction::Mean => loss.mean(),
        Reduction::Sum => loss.sum(),
        Reduction::BatchMean => bail!(
            Invalid,
            "{op}: reduction BatchMean is only for kl_div; use Mean, Sum or None"
        ),
    })
}

fn check_float(op: &str, what: &str, t: &Tensor) -> Result<()> {
    if !t.dtype().is_float() {
        bail!(
            DType,
            "{op}: {what} of shape {} has dtype {}, but a float tensor is needed",
            t.shape(),
            t.dtype()
        );
    }
    Ok(())
}

/// Input and target: float, of one dtype and one shape.
fn check_pair(op: &str, input: &Tensor, target: &Tensor) -> Result<()> {
    check_float(op, "input", input)?;
    check_float(op, "target", target)?;
    if input.dtype() != target.dtype() {
        bail!(
            DType,
            "{op}: input has dtype {} but target has dtype {}; convert one of them",
            input.dtype(),
            target.dtype()
        );
    }
    if input.shape() != target.shape() {
        bail!(
            Shape,
            "{op}: input of shape {} and target of shape {} must have the same shape",
            input.shape(),
            target.shape()
        );
    }
    Ok(())
}

/// Mean squared error: `(x − y)²`, reduced.
///
/// ```
/// use baeum::{tensor, nn::functional::{mse_loss, Reduction}};
/// let l = mse_loss(&tensor!([1.0, 2.0]), &tensor!([0.0, 4.0]), Reduction::Mean).unwrap();
/// assert_eq!(l.item::<f32>(), 2.5);
/// ```
pub fn mse_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    check_pair("mse_loss", input, target)?;
    reduce("mse_loss", (input - target).square(), reduction)
}

/// Mean absolute error: `|x − y|`, reduced (gradient 0 where x = y, as PyTorch).
pub fn l1_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    check_pair("l1_loss", input, target)?;
    reduce("l1_loss", (input - target).abs(), reduction)
}

/// Smooth L1: `½ d² / β` where `|d| < β`, else `|d| − ½ β` (PyTorch's default β = 1; β = 0
/// is the L1 loss).
pub fn smooth_l1_loss(
    input: &Tensor,
    target: &Tensor,
    reduction: Reduction,
    beta: f64,
) -> Result<Tensor> {
    const OP: &str = "smooth_l1_loss";
    check_pair(OP, input, target)?;
    if beta.is_nan() || beta < 0.0 {
        bail!(Invalid, "{OP}: beta must be non-negative, got {beta}");
    }
    let d = input - target;
    if beta == 0.0 {
        return reduce(OP, d.abs(), reduction);
    }
    let abs = d.abs();
    let quadratic = d.square() * (0.5 / beta);
    let linear = &abs - 0.5 * beta;
    reduce(
        OP,
        Tensor::where_(&abs.lt_scalar(beta), &quadratic, &linear),
        reduction,
    )
}

/// Huber: `½ d²` where `|d| < δ`, else `δ (|d| − ½ δ)` (PyTorch's default δ = 1).
pub fn huber_loss(
    input: &Tensor,
    target: &Tensor,
    reduction: Reduction,
    delta: f64,
) -> Result<Tensor> {
    const OP: &str = "huber_loss";
    check_pair(OP, input, target)?;
    if delta.is_nan() || delta <= 0.0 {
        bail!(Invalid, "{OP}: delta must be positive, got {delta}");
    }
    let d = input - target;
    let abs = d.abs();
    let quadratic = d.square() * 0.5;
    let linear = (&abs - 0.5 * delta) * delta;
    reduce(
        OP,
        Tensor::where_(&abs.lt_scalar(delta), &quadratic, &linear),
        reduction,
    )
}

/// An optional element-wise weight that must broadcast to `shape`, in `dtype`.
fn check_weight(op: &str, name: &str, w: Option<&Tensor>, like: &Tensor) -> Result<()> {
    if let Some(w) = w {
        check_float(op, name, w)?;
        if crate::tensor::broadcast_shapes(w.dims(), like.dims()).as_ref() != Some(like.shape()) {
            bail!(
                Shape,
                "{op}: {name} of shape {} does not broadcast to the input's shape {}",
                w.shape(),
                like.shape()
            );
        }
    }
    Ok(())
}

/// log(x) clamped at −100 (PyTorch's BCE), with a finite gradient path where x = 0.
fn clamped_log(x: &Tensor) -> Tensor {
    let positive = x.gt_scalar(0.0);
    let safe = Tensor::where_(&positive, x, &x.ones_like());
    let log = Tensor::where_(&positive, &safe.log(), &x.full_like(-100.0));
    log.clamp_min(-100.0)
}

/// Binary cross-entropy of probabilities: `−w (y log x + (1 − y) log(1 − x))`, the logs
/// clamped at −100 as PyTorch does (so x = 0 or 1 gives a finite loss). Inputs must lie in
/// [0, 1]; `weight` broadcasts to the input's shape.
pub fn binary_cross_entropy(
    input: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: Reduction,
) -> Result<Tensor> {
    const OP: &str = "binary_cross_entropy";
    check_pair(OP, input, target)?;
    check_weight(OP, "weight", weight, input)?;
    let values = input.to_vec::<f64>();
    if let Some((i, v)) = values
        .iter()
        .enumerate()
        .find(|(_, v)| !(0.0..=1.0).contains(*v))
    {
        bail!(
            Invalid,
            "{OP}: every input must be a probability in [0, 1], but element {i} is {v} \
             (use binary_cross_entropy_with_logits for scores)"
        );
    }
    let loss = -(target * clamped_log(input) + (1.0 - target) * clamped_log(&(1.0 - input)));
    let loss = match weight {
        Some(w) => loss * w,
        None => loss,
    };
    reduce(OP, loss, reduction)
}

/// Binary cross-entropy of logits, in the stable form
/// `(1 − y) x + (1 + (p − 1) y) · softplus(−x)` (`p` = `pos_weight`, broadcast along the last
/// dimension, the classes), times `weight`.
pub fn binary_cross_entropy_with_logits(
    input: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    pos_weight: Option<&Tensor>,
    reduction: Reduction,
) -> Result<Tensor> {
    const OP: &str = "binary_cross_entropy_with_logits";
    check_pair(OP, input, target)?;
    check_weight(OP, "weight", weight, input)?;
    check_weight(OP, "pos_weight", pos_weight, input)?;
    // softplus's linear branch starts where e^(−50) is below any float's resolution.
    let softplus_neg = (-input).softplus(1.0, 50.0);
    let loss = match pos_weight {
        Some(pw) => {
            let log_weight = (pw - 1.0) * target + 1.0;
            (1.0 - target) * input + log_weight * softplus_neg
        }
        None => (1.0 - target) * input + softplus_neg,
    };
    let loss = match weight {
        Some(w) => loss * w,
        None => loss,
    };
    reduce(OP, loss, reduction)
}

/// Options of [`cross_entropy`] and [`nll_loss`], in PyTorch's names.
#[derive(Clone, Debug)]
pub struct CrossEntropyOptions {
    /// A weight per class (shape `[C]`).
    pub weight: Option<Tensor>,
    /// Targets equal to this class index count for nothing (default −100).
    pub ignore_index: i64,
    pub reduction: Reduction,
    /// ε in [0, 1]: the target becomes `(1 − ε) one_hot + ε / C` (cross-entropy only).
    pub label_smoothing: f64,
}

impl Default for CrossEntropyOptions {
    fn default() -> Self {
        CrossEntropyOptions {
            weight: None,
            ignore_index: -100,
            reduction: Reduction::Mean,
            label_smoothing: 0.0,
        }
    }
}

impl CrossEntropyOptions {
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(weight);
        self
    }

    pub fn ignore_index(mut self, ignore_index: i64) -> Self {
        self.ignore_index = ignore_index;
        self
    }

    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    pub fn label_smoothing(mut self, label_smoothing: f64) -> Self {
        self.label_smoothing = label_smoothing;
        self
    }
}

/// The class layout of a `[N, C, d1, ...]` input (or `[C]`, one sample): N, C and the size
/// of the spatial part, after checking the target of index classes.
struct ClassLayout {
    batch: usize,
    classes: usize,
    spatial: usize,
}

fn class_layout(op: &str, input: &Tensor) -> Result<ClassLayout> {
    check_float(op, "input", input)?;
    let d = input.dims();
    match d.len() {
        0 => bail!(
            Shape,
            "{op}: input must have a class dimension ([C], [N, C] or [N, C, d1, ...]), got a \
             scalar"
        ),
        1 => Ok(ClassLayout {
            batch: 1,
            classes: d[0],
            spatial: 1,
        }),
        _ => Ok(ClassLayout {
            batch: d[0],
            classes: d[1],
            spatial: d[2..].iter().product(),
        }),
    }
}

/// The expected shape of index targets for `input`: the input's without the class dimension.
fn index_target_shape(input: &Tensor) -> Vec<usize> {
    let d = input.dims();
    if d.len() == 1 {
        Vec::new()
    } else {
        let mut s = vec![d[0]];
        s.extend_from_slice(&d[2..]);
        s
    }
}

/// Class-index targets as i64, checked against the class count (ignore_index excepted).
fn index_targets(op: &str, input: &Tensor, target: &Tensor, ignore_index: i64) -> Result<Vec<i64>> {
    if !target.dtype().is_int() {
        bail!(
            DType,
            "{op}: class-index targets must have an integer dtype, got {} (probability targets \
             must have the input's shape {})",
            target.dtype(),
            input.shape()
        );
    }
    let expected = index_target_shape(input);
    if target.dims() != expected.as_slice() {
        bail!(
            Shape,
            "{op}: input of shape {} needs class-index targets of shape {:?}, got {}",
            input.shape(),
            expected,
            target.shape()
        );
    }
    let classes = class_layout(op, input)?.classes as i64;
    let t = target.to_vec::<i64>();
    if let Some((i, y)) = t
        .iter()
        .enumerate()
        .find(|(_, y)| **y != ignore_index && !(0..classes).contains(*y))
    {
        bail!(
            Index,
            "{op}: target {y} at index {i} is out of range for {classes} classes (expected 0 to \
             {}, or ignore_index {ignore_index})",
            classes - 1
        );
    }
    Ok(t)
}

fn class_weights(op: &str, weight: Option<&Tensor>, classes: usize) -> Result<Option<Vec<f64>>> {
    let Some(w) = weight else { return Ok(None) };
    check_float(op, "weight", w)?;
    if w.dims() != [classes] {
        bail!(
            Shape,
            "{op}: weight must have one value per class, shape [{classes}], got {}",
            w.shape()
        );
    }
    Ok(Some(w.to_vec::<f64>()))
}

/// Cross-entropy between logits `input` (`[C]`, `[N, C]` or `[N, C, d1, ...]`) and `target`:
/// class indices of any integer dtype (shape `[N, d1, ...]`) or class probabilities (the
/// input's shape). With class weights and mean reduction, the sum is divided by the total
/// weight of the non-ignored targets, exactly as PyTorch.
///
/// ```
/// use baeum::{tensor, Tensor, nn::functional::{cross_entropy, CrossEntropyOptions}};
/// let logits = tensor!([[2.0, 1.0, 0.1]], baeum::DType::F64);
/// let target = Tensor::from_vec(vec![0i64], [1]);
/// let l = cross_entropy(&logits, &target, &CrossEntropyOptions::default()).unwrap();
/// assert!((l.item::<f64>() - 0.417_029_7).abs() < 1e-6); // −ln 0.659
/// ```
pub fn cross_entropy(
    input: &Tensor,
    target: &Tensor,
    options: &CrossEntropyOptions,
) -> Result<Tensor> {
    const OP: &str = "cross_entropy";
    let layout = class_layout(OP, input)?;
    let eps = options.label_smoothing;
    if !(0.0..=1.0).contains(&eps) {
        bail!(
            Invalid,
            "{OP}: label_smoothing must be in [0, 1], got {eps}"
        );
    }
    let weights = class_weights(OP, options.weight.as_ref(), layout.classes)?;
    if target.dtype().is_float() {
        return soft_cross_entropy(input, target, options, &layout);
    }
    if options.reduction == Reduction::BatchMean {
        bail!(Invalid, "{OP}: reduction BatchMean is only for kl_div");
    }
    let targets = index_targets(OP, input, target, options.ignore_index)?;
    let spec = Arc::new(IndexTargets {
        targets,
        weights,
        ignore_index: options.ignore_index,
        smoothing: eps,
        reduction: options.reduction,
        batch: layout.batch,
        classes: layout.classes,
        spatial: layout.spatial,
    });
    let x = input.contiguous();
    let out_shape = index_target_shape(input);
    let spec_fwd = spec.clone();
    let out = record_op(
        "cross_entropy",
        &[&x],
        || with_float_dtype!(x.dtype(), T => spec_fwd.forward::<T>(&x, &out_shape), unreachable!()),
        |_, _| {
            let sx = Saved::new("cross_entropy", &x);
            move |g: &Tensor| {
                let x = sx.get();
                let grad = if is_grad_enabled() {
                    spec.backward_differentiable(x, g)
                } else {
                    with_float_dtype!(x.dtype(), T => spec.backward::<T>(x, g), unreachable!())
                };
                grads([Some(grad)])
            }
        },
    );
    Ok(out)
}

/// Everything the fused index-target cross-entropy needs besides the logits.
struct IndexTargets {
    targets: Vec<i64>,
    weights: Option<Vec<f64>>,
    ignore_index: i64,
    smoothing: f64,
    reduction: Reduction,
    batch: usize,
    classes: usize,
    spatial: usize,
}

impl IndexTargets {
    fn weight(&self, c: usize) -> f64 {
        self.weights.as_ref().map_or(1.0, |w| w[c])
    }

    fn total_class_weight(&self) -> f64 {
        self.weights
            .as_ref()
            .map_or(self.classes as f64, |w| w.iter().sum())
    }

    /// The sum of the weights of the counted targets: the divisor of the mean.
    fn denominator(&self) -> f64 {
        self.targets
            .iter()
            .filter(|&&y| y != self.ignore_index)
            .map(|&y| self.weight(y as usize))
            .sum()
    }

    /// Per-position losses and the reduced result.
    fn forward<T: Float>(&self, x: &Tensor, out_shape: &[usize]) -> Tensor {
        let (c_count, s_count) = (self.classes, self.spatial);
        let eps = self.smoothing;
        let smooth = eps / c_count as f64;
        let mut losses = vec![0.0f64; self.batch * s_count];
        x.with_slice::<T, _>(|data, layout| {
            let data = &data[layout.offset..layout.offset + layout.numel()];
            for n in 0..self.batch {
                for s in 0..s_count {
                    let pos = n * s_count + s;
                    let y = self.targets[pos];
                    if y == self.ignore_index {
                        continue;
                    }
                    let at = |c: usize| data[(n * c_count + c) * s_count + s].to_f64();
                    let max = (0..c_count).map(at).fold(f64::NEG_INFINITY, f64::max);
                    let lse = max + (0..c_count).map(|c| (at(c) - max).exp()).sum::<f64>().ln();
                    let y = y as usize;
                    let mut loss = (1.0 - eps) * self.weight(y) * (lse - at(y));
                    if eps > 0.0 {
                        let all: f64 = (0..c_count).map(|c| self.weight(c) * (lse - at(c))).sum();
                        loss += smooth * all;
                    }
                    losses[pos] = loss;
                }
            }
        });
        let value = |v: f64| T::from_f64(v);
        match self.reduction {
            Reduction::None => Tensor::from_vec(
                losses.into_iter().map(value).collect::<Vec<T>>(),
                out_shape.to_vec(),
            ),
            Reduction::Sum => Tensor::scalar(value(losses.iter().sum())),
            _ => Tensor::scalar(value(losses.iter().sum::<f64>() / self.denominator())),
        }
    }

    /// The factor of each position's gradient: the upstream gradient, divided by the
    /// denominator for the mean.
    fn scales(&self, g: &Tensor) -> Vec<f64> {
        let g = g.to_vec::<f64>();
        let positions = self.batch * self.spatial;
        match self.reduction {
            Reduction::None => g,
            Reduction::Sum => vec![g[0]; positions],
            _ => vec![g[0] / self.denominator(); positions],
        }
    }

    /// The smoothed, weighted target distribution q of one position at class c.
    fn q(&self, y: usize, c: usize) -> f64 {
        let hit = if c == y {
            (1.0 - self.smoothing) * self.weight(y)
        } else {
            0.0
        };
        hit + self.smoothing / self.classes as f64 * self.weight(c)
    }

    /// Σ_c q_c for target class y.
    fn q_total(&self, y: usize) -> f64 {
        (1.0 - self.smoothing) * self.weight(y)
            + self.smoothing / self.classes as f64 * self.total_class_weight()
    }

    /// ∂L/∂x = scale · (Σq · softmax(x) − q), in one pass.
    fn backward<T: Float>(&self, x: &Tensor, g: &Tensor) -> Tensor {
        let (c_count, s_count) = (self.classes, self.spatial);
        let scales = self.scales(g);
        let mut grad = vec![T::zero(); x.numel()];
        x.with_slice::<T, _>(|data, layout| {
            let data = &data[layout.offset..layout.offset + layout.numel()];
            let mut exps = vec![0.0f64; c_count];
            for n in 0..self.batch {
                for s in 0..s_count {
                    let pos = n * s_count + s;
                    let y = self.targets[pos];
                    if y == self.ignore_index {
                        continue;
                    }
                    let y = y as usize;
                    let idx = |c: usize| (n * c_count + c) * s_count + s;
                    let max = (0..c_count)
                        .map(|c| data[idx(c)].to_f64())
                        .fold(f64::NEG_INFINITY, f64::max);
                    for (c, e) in exps.iter_mut().enumerate() {
                        *e = (data[idx(c)].to_f64() - max).exp();
                    }
                    let sum: f64 = exps.iter().sum();
                    let total = self.q_total(y);
                    for (c, e) in exps.iter().enumerate() {
                        grad[idx(c)] = T::from_f64(scales[pos] * (total * e / sum - self.q(y, c)));
                    }
                }
            }
        });
        Tensor::from_vec(grad, x.shape().clone())
    }

    /// The same gradient from differentiable operations, for `create_graph`.
    fn backward_differentiable(&self, x: &Tensor, g: &Tensor) -> Tensor {
        let (c_count, s_count) = (self.classes, self.spatial);
        let positions = self.batch * s_count;
        let mut q = vec![0.0f64; x.numel()];
        let mut totals = vec![0.0f64; positions];
        let mut divisor = vec![1.0f64; positions];
        for n in 0..self.batch {
            for s in 0..s_count {
                let pos = n * s_count + s;
                let y = self.targets[pos];
                if y == self.ignore_index {
                    divisor[pos] = 0.0;
                    continue;
                }
                let y = y as usize;
                totals[pos] = self.q_total(y);
                for c in 0..c_count {
                    q[(n * c_count + c) * s_count + s] = self.q(y, c);
                }
            }
        }
        let dtype = x.dtype();
        let col_shape = vec![self.batch, 1, s_count];
        let x3 = x.reshape(&[self.batch as isize, c_count as isize, s_count as isize]);
        let q = Tensor::from_vec(q, vec![self.batch, c_count, s_count]).to_dtype(dtype);
        let totals = Tensor::from_vec(totals, col_shape.clone()).to_dtype(dtype);
        let mask = Tensor::from_vec(divisor, col_shape.clone()).to_dtype(dtype);
        let scale = match self.reduction {
            Reduction::None => g.reshape(&[self.batch as isize, 1, s_count as isize]) * &mask,
            Reduction::Sum => &mask * g,
            _ => &mask * g * (1.0 / self.denominator()),
        };
        let grad = (x3.softmax(1) * totals - q) * scale;
        grad.reshape_to(x.shape().clone())
    }
}

/// Cross-entropy with class-probability targets: `−Σ_c w_c t'_c log softmax(x)_c` with
/// `t' = (1 − ε) t + ε / C`; the mean is over the positions (not weighted), as PyTorch.
fn soft_cross_entropy(
    input: &Tensor,
    target: &Tensor,
    options: &CrossEntropyOptions,
    layout: &ClassLayout,
) -> Result<Tensor> {
    const OP: &str = "cross_entropy";
    if target.shape() != input.shape() {
        bail!(
            Shape,
            "{OP}: probability targets must have the input's shape {}, got {} (class-index \
             targets need an integer dtype)",
            input.shape(),
            target.shape()
        );
    }
    if target.dtype() != input.dtype() {
        bail!(
            DType,
            "{OP}: probability targets have dtype {} but the input has {}",
            target.dtype(),
            input.dtype()
        );
    }
    let class_dim = if input.rank() == 1 { 0 } else { 1 };
    let eps = options.label_smoothing;
    let t = if eps > 0.0 {
        target * (1.0 - eps) + eps / layout.classes as f64
    } else {
        target.clone()
    };
    let mut weighted = input.log_softmax(class_dim) * t;
    if let Some(w) = &options.weight {
        // [C] → [C, 1, ...] to line up with the class dimension.
        let mut shape = vec![layout.classes as isize];
        shape.extend(std::iter::repeat_n(
            1,
            input.rank().saturating_sub(class_dim + 1),
        ));
        weighted = weighted * w.to_dtype(input.dtype()).reshape(&shape);
    }
    let losses = -weighted.sum_dim(class_dim, false);
    match options.reduction {
        Reduction::BatchMean => bail!(Invalid, "{OP}: reduction BatchMean is only for kl_div"),
        r => reduce(OP, losses, r),
    }
}

/// Options of [`nll_loss`]: [`CrossEntropyOptions`] without label smoothing.
pub type NllLossOptions = CrossEntropyOptions;

/// Negative log-likelihood of log-probabilities `input` (`[C]`, `[N, C]` or
/// `[N, C, d1, ...]`) at class-index `target`s: `−w[y] · input[y]`; the mean divides by the
/// total weight of the non-ignored targets, as PyTorch.
pub fn nll_loss(input: &Tensor, target: &Tensor, options: &NllLossOptions) -> Result<Tensor> {
    const OP: &str = "nll_loss";
    let layout = class_layout(OP, input)?;
    if options.label_smoothing != 0.0 {
        bail!(
            Invalid,
            "{OP}: has no label_smoothing (got {}); use cross_entropy",
            options.label_smoothing
        );
    }
    let weights = class_weights(OP, options.weight.as_ref(), layout.classes)?;
    let targets = index_targets(OP, input, target, options.ignore_index)?;
    let counted: Vec<bool> = targets.iter().map(|&y| y != options.ignore_index).collect();
    // Gather the target class of each position (0 where ignored), weighted.
    let safe: Vec<i64> = targets
        .iter()
        .zip(&counted)
        .map(|(&y, &c)| if c { y } else { 0 })
        .collect();
    let w_at: Vec<f64> = safe
        .iter()
        .zip(&counted)
        .map(|(&y, &c)| {
            if c {
                weights.as_ref().map_or(1.0, |w| w[y as usize])
            } else {
                0.0
            }
        })
        .collect();
    let (x3, class_dim) = if input.rank() == 1 {
        (input.reshape(&[1, layout.classes as isize, 1]), 1)
    } else {
        (
            input.reshape(&[
                layout.batch as isize,
                layout.classes as isize,
                layout.spatial as isize,
            ]),
            1,
        )
    };
    let index = Tensor::from_vec(safe, [layout.batch, 1, layout.spatial]);
    let picked = x3.gather(class_dim, &index);
    let wt =
        Tensor::from_vec(w_at.clone(), [layout.batch, 1, layout.spatial]).to_dtype(input.dtype());
    let losses = -(picked * wt);
    let out_shape = index_target_shape(input);
    Ok(match options.reduction {
        Reduction::None => losses.reshape_to(out_shape),
        Reduction::Sum => losses.sum(),
        Reduction::Mean => losses.sum() * (1.0 / w_at.iter().sum::<f64>()),
        Reduction::BatchMean => bail!(Invalid, "{OP}: reduction BatchMean is only for kl_div"),
    })
}

/// Kullback–Leibler divergence `KL(target ‖ exp(input))` with `input` log-probabilities:
/// pointwise `t (log t − x)` (0 where t = 0), or `eᵗ (t − x)` with `log_target`. Use
/// `Reduction::BatchMean` for the divergence per sample (PyTorch's advice); `Mean` averages
/// over every element.
pub fn kl_div(
    input: &Tensor,
    target: &Tensor,
    reduction: Reduction,
    log_target: bool,
) -> Result<Tensor> {
    const OP: &str = "kl_div";
    check_pair(OP, input, target)?;
    let pointwise = if log_target {
        target.exp() * (target - input)
    } else {
        // log t where t > 0, and 0 · log 1 = 0 elsewhere, keeping the gradient finite.
        let positive = target.gt_scalar(0.0);
        let safe = Tensor::where_(&positive, target, &target.ones_like());
        target * (safe.log() - input)
    };
    match reduction {
        Reduction::BatchMean => {
            let batch = if input.rank() == 0 {
                1
            } else {
                input.dims()[0]
            };
            Ok(pointwise.sum() * (1.0 / batch as f64))
        }
        r => reduce(OP, pointwise, r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_dtype_and_range_errors_name_the_problem() {
        let x = Tensor::zeros([2, 3]);
        let t = Tensor::from_vec(vec![0i64, 3], [2]);
        let e = cross_entropy(&x, &t, &CrossEntropyOptions::default()).unwrap_err();
        assert!(e.to_string().contains("target 3 at index 1"), "{e}");
        assert!(e.to_string().contains("3 classes"), "{e}");
        let t = Tensor::from_vec(vec![0i64, 1, 2], [3]);
        let e = cross_entropy(&x, &t, &CrossEntropyOptions::default()).unwrap_err();
        assert!(e.to_string().contains("shape [2]"), "{e}");
        let e = mse_loss(&x, &x.to_f64(), Reduction::Mean).unwrap_err();
        assert!(e.to_string().contains("dtype"), "{e}");
    }
}
