//! Classification metrics: accuracy, top-k accuracy, and precision / recall / F1 with
//! scikit-learn's averages.

use super::ConfusionMatrix;
use crate::Tensor;
use crate::error::{Result, bail};

/// The class each example is predicted to be, from a model's output:
/// - scores `[N, C]` (logits or probabilities, `C > 1`): the arg-max of each row;
/// - class indices `[N]` of an integer (or bool) dtype: as they are;
/// - binary probabilities `[N]` or `[N, 1]` of a float dtype: 1 where `p > 0.5`, else 0
///   (Keras' threshold).
pub fn class_predictions(op: &str, output: &Tensor) -> Result<Vec<i64>> {
    let dims = output.dims();
    match dims {
        [_, c] if *c > 1 => {
            let v = output.to_vec::<f64>();
            Ok(v.chunks(*c).map(argmax).collect())
        }
        [_] | [_, 1] if !output.dtype().is_float() => Ok(output.to_vec::<i64>()),
        [_] | [_, 1] => {
            let v = output.to_vec::<f64>();
            if let Some(p) = v.iter().find(|p| !(0.0..=1.0).contains(*p)) {
                bail!(
                    Invalid,
                    "{op}: a float output of shape {} is read as binary probabilities, but it holds {p}; apply sigmoid to logits, or pass class indices as an integer tensor",
                    output.shape()
                );
            }
            Ok(v.iter().map(|&p| i64::from(p > 0.5)).collect())
        }
        _ => bail!(
            Shape,
            "{op}: expects an output [N, C] of scores, [N] of classes or [N, 1] of probabilities, got shape {}",
            output.shape()
        ),
    }
}

/// The true class of each example: indices `[N]` (or `[N, 1]`) of any dtype holding whole
/// numbers, or one-hot rows `[N, C]`.
pub fn class_targets(op: &str, target: &Tensor) -> Result<Vec<i64>> {
    match target.dims() {
        [_] | [_, 1] => {
            let v = target.to_vec::<f64>();
            if let Some(t) = v.iter().find(|t| t.fract() != 0.0 || !t.is_finite()) {
                bail!(
                    Invalid,
                    "{op}: targets of shape {} must be class indices, but hold {t}",
                    target.shape()
                );
            }
            Ok(v.iter().map(|&t| t as i64).collect())
        }
        [_, c] => Ok(target.to_vec::<f64>().chunks(*c).map(argmax).collect()),
        _ => bail!(
            Shape,
            "{op}: expects targets [N] of class indices or [N, C] one-hot, got shape {}",
            target.shape()
        ),
    }
}

/// The index of the largest value (the first on ties; NaN counts as the largest, as in
/// `torch.argmax`).
fn argmax(row: &[f64]) -> i64 {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate().skip(1) {
        let b = row[best];
        if !b.is_nan() && (v > b || v.is_nan()) {
            best = i;
        }
    }
    best as i64
}

/// Predicted and true classes of the same length.
pub(crate) fn paired_classes(
    op: &str,
    output: &Tensor,
    target: &Tensor,
) -> Result<(Vec<i64>, Vec<i64>)> {
    let preds = class_predictions(op, output)?;
    let targets = class_targets(op, target)?;
    if preds.len() != targets.len() {
        bail!(
            Shape,
            "{op}: output {} gives {} predictions but target {} has {} examples",
            output.shape(),
            preds.len(),
            target.shape(),
            targets.len()
        );
    }
    Ok((preds, targets))
}

/// The fraction of examples whose predicted class (see [`class_predictions`]) is the target.
///
/// ```
/// use baeum::{tensor, metrics::accuracy};
/// let logits = tensor!([[2., 1.], [0., 3.], [1., 0.]]);
/// assert_eq!(accuracy(&logits, &tensor!([0i64, 1, 1])).unwrap(), 2.0 / 3.0);
/// ```
pub fn accuracy(output: &Tensor, target: &Tensor) -> Result<f64> {
    let (preds, targets) = paired_classes("accuracy", output, target)?;
    if preds.is_empty() {
        bail!(
            Invalid,
            "accuracy: no examples (output shape {})",
            output.shape()
        );
    }
    let correct = preds.iter().zip(&targets).filter(|(p, t)| p == t).count();
    Ok(correct as f64 / preds.len() as f64)
}

/// Counts examples of `scores [N, C]` whose target is among the `k` highest scores. Ties rank
/// the lower class index first, as a stable descending `torch.sort` does (scikit-learn's
/// `top_k_accuracy_score` ranks the higher index first).
pub(crate) fn top_k_correct(
    op: &str,
    scores: &Tensor,
    target: &Tensor,
    k: usize,
) -> Result<(usize, usize)> {
    let [n, c] = *scores.dims() else {
        bail!(
            Shape,
            "{op}: expects scores [N, C], got shape {}",
            scores.shape()
        );
    };
    if k == 0 {
        bail!(Invalid, "{op}: k must be positive");
    }
    let targets = class_targets(op, target)?;
    if targets.len() != n {
        bail!(
            Shape,
            "{op}: scores {} hold {n} examples but target {} has {}",
            scores.shape(),
            target.shape(),
            targets.len()
        );
    }
    let v = scores.to_vec::<f64>();
    let mut correct = 0;
    for (row, &t) in v.chunks(c.max(1)).zip(&targets) {
        if t < 0 || t as usize >= c {
            bail!(Index, "{op}: target class {t} out of range for {c} classes");
        }
        let s = row[t as usize];
        let t = t as usize;
        let rank = row
            .iter()
            .enumerate()
            .filter(|&(j, &x)| x > s || (x == s && j < t))
            .count();
        if rank < k {
            correct += 1;
        }
    }
    Ok((correct, n))
}

/// The fraction of examples whose target class is among the `k` highest of `scores [N, C]`
/// (Keras' `top_k_categorical_accuracy`, scikit-learn's `top_k_accuracy_score`).
pub fn top_k_accuracy(scores: &Tensor, target: &Tensor, k: usize) -> Result<f64> {
    let (correct, n) = top_k_correct("top_k_accuracy", scores, target, k)?;
    if n == 0 {
        bail!(Invalid, "top_k_accuracy: no examples");
    }
    Ok(correct as f64 / n as f64)
}

/// How per-class scores are combined (scikit-learn's `average=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Average {
    /// The unweighted mean over the classes `0..num_classes`.
    Macro,
    /// From the total true positives, false positives and false negatives.
    Micro,
    /// The mean over classes weighted by their support (number of true examples).
    Weighted,
    /// One value per class (`average=None`).
    PerClass,
}

/// Precision, recall and F1: one entry per class for [`Average::PerClass`], a single entry
/// for an average. `support` counts the true examples of each class (one total for an
/// average).
#[derive(Clone, Debug, PartialEq)]
pub struct PrecisionRecallF1 {
    pub precision: Vec<f64>,
    pub recall: Vec<f64>,
    pub f1: Vec<f64>,
    pub support: Vec<u64>,
}

impl PrecisionRecallF1 {
    /// `(precision, recall, f1)` of an average (the first class's for per-class results).
    pub fn value(&self) -> (f64, f64, f64) {
        (self.precision[0], self.recall[0], self.f1[0])
    }
}

/// Precision, recall and F1 of the predicted classes of `output` (see [`class_predictions`])
/// against `target`, over the classes `0..num_classes`, as scikit-learn's
/// `precision_recall_fscore_support(labels=range(num_classes), zero_division=0)`: a ratio with
/// a zero denominator counts as 0.
pub fn precision_recall_f1(
    output: &Tensor,
    target: &Tensor,
    num_classes: usize,
    average: Average,
) -> Result<PrecisionRecallF1> {
    let mut cm = ConfusionMatrix::new(num_classes);
    cm.update(output, target)?;
    Ok(cm.precision_recall_f1(average))
}

/// `num / den`, or 0 when `den` is 0 (scikit-learn's `zero_division=0`).
pub(crate) fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 { 0.0 } else { num / den }
}
