//! The confusion matrix (rows: true class, columns: predicted class, as scikit-learn), its
//! normalisations, the per-class scores it gives, and a text table for reports.

use std::fmt;

use super::classification::{Average, PrecisionRecallF1, paired_classes, ratio};
use crate::Tensor;
use crate::error::{Result, bail};

/// Which totals a normalised confusion matrix divides by (scikit-learn's `normalize=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalization {
    /// Each row sums to 1: the share of each true class predicted as each class (`'true'`).
    True,
    /// Each column sums to 1 (`'pred'`).
    Pred,
    /// All entries sum to 1 (`'all'`).
    All,
}

/// Counts of (true class, predicted class) pairs, accumulated over batches.
///
/// ```
/// use baeum::{tensor, metrics::ConfusionMatrix};
/// let mut cm = ConfusionMatrix::new(3);
/// cm.update(&tensor!([0i64, 2, 1, 1]), &tensor!([0i64, 1, 1, 2])).unwrap();
/// assert_eq!(cm.get(1, 2), 1); // one true 1 predicted as 2
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ConfusionMatrix {
    num_classes: usize,
    /// Row-major `[true][pred]`.
    counts: Vec<u64>,
    class_names: Option<Vec<String>>,
}

impl ConfusionMatrix {
    /// An empty matrix over the classes `0..num_classes`.
    pub fn new(num_classes: usize) -> Self {
        ConfusionMatrix {
            num_classes,
            counts: vec![0; num_classes * num_classes],
            class_names: None,
        }
    }

    /// An empty matrix whose classes have names (one per class), shown by `Display`.
    pub fn with_class_names<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        let mut cm = ConfusionMatrix::new(names.len());
        cm.class_names = Some(names);
        cm
    }

    /// The matrix of one set of predictions.
    pub fn from_predictions(output: &Tensor, target: &Tensor, num_classes: usize) -> Result<Self> {
        let mut cm = ConfusionMatrix::new(num_classes);
        cm.update(output, target)?;
        Ok(cm)
    }

    /// Adds a batch: `output` as [`accuracy`](super::accuracy) reads it (scores, class indices
    /// or binary probabilities), `target` class indices or one-hot rows.
    pub fn update(&mut self, output: &Tensor, target: &Tensor) -> Result<()> {
        let (preds, targets) = paired_classes("ConfusionMatrix::update", output, target)?;
        let c = self.num_classes as i64;
        if let Some((p, t)) = preds
            .iter()
            .zip(&targets)
            .find(|(p, t)| !(0..c).contains(*p) || !(0..c).contains(*t))
        {
            bail!(
                Index,
                "ConfusionMatrix::update: class out of range for {c} classes (predicted {p}, true {t})"
            );
        }
        for (&p, &t) in preds.iter().zip(&targets) {
            self.counts[t as usize * self.num_classes + p as usize] += 1;
        }
        Ok(())
    }

    /// Clears the counts.
    pub fn reset(&mut self) {
        self.counts.fill(0);
    }

    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    pub fn class_names(&self) -> Option<&[String]> {
        self.class_names.as_deref()
    }

    /// The number of examples of class `true_class` predicted as `predicted`.
    pub fn get(&self, true_class: usize, predicted: usize) -> u64 {
        self.counts[true_class * self.num_classes + predicted]
    }

    /// The counts, row-major: `counts()[t * num_classes + p]`.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The counts as rows (true classes) of columns (predicted classes).
    pub fn rows(&self) -> Vec<Vec<u64>> {
        self.counts
            .chunks(self.num_classes.max(1))
            .map(<[u64]>::to_vec)
            .collect()
    }

    /// The counts as an i64 tensor `[C, C]`.
    pub fn to_tensor(&self) -> Tensor {
        Tensor::from_vec(
            self.counts.iter().map(|&x| x as i64).collect::<Vec<_>>(),
            [self.num_classes, self.num_classes],
        )
    }

    /// The number of examples counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The matrix divided by row, column or overall totals (a zero total gives zeros, as in
    /// scikit-learn), as rows of columns.
    pub fn normalized(&self, by: Normalization) -> Vec<Vec<f64>> {
        let c = self.num_classes;
        let row_sum = |t: usize| (0..c).map(|p| self.get(t, p)).sum::<u64>() as f64;
        let col_sum = |p: usize| (0..c).map(|t| self.get(t, p)).sum::<u64>() as f64;
        let total = self.total() as f64;
        (0..c)
            .map(|t| {
                (0..c)
                    .map(|p| {
                        let den = match by {
                            Normalization::True => row_sum(t),
                            Normalization::Pred => col_sum(p),
                            Normalization::All => total,
                        };
                        ratio(self.get(t, p) as f64, den)
                    })
                    .collect()
            })
            .collect()
    }

    /// The fraction of examples on the diagonal (0 for an empty matrix).
    pub fn accuracy(&self) -> f64 {
        let diag: u64 = (0..self.num_classes).map(|i| self.get(i, i)).sum();
        ratio(diag as f64, self.total() as f64)
    }

    /// Precision, recall and F1 from the counts (see
    /// [`precision_recall_f1`](super::precision_recall_f1)).
    pub fn precision_recall_f1(&self, average: Average) -> PrecisionRecallF1 {
        let c = self.num_classes;
        let tp: Vec<f64> = (0..c).map(|i| self.get(i, i) as f64).collect();
        let predicted: Vec<f64> = (0..c)
            .map(|p| (0..c).map(|t| self.get(t, p)).sum::<u64>() as f64)
            .collect();
        let support: Vec<u64> = (0..c)
            .map(|t| (0..c).map(|p| self.get(t, p)).sum())
            .collect();
        let per_class = |i: usize| {
            let p = ratio(tp[i], predicted[i]);
            let r = ratio(tp[i], support[i] as f64);
            (p, r, ratio(2.0 * p * r, p + r))
        };
        let scores: Vec<(f64, f64, f64)> = (0..c).map(per_class).collect();
        let total_support: u64 = support.iter().sum();
        let one = |p: f64, r: f64, f: f64| PrecisionRecallF1 {
            precision: vec![p],
            recall: vec![r],
            f1: vec![f],
            support: vec![total_support],
        };
        match average {
            Average::PerClass => PrecisionRecallF1 {
                precision: scores.iter().map(|s| s.0).collect(),
                recall: scores.iter().map(|s| s.1).collect(),
                f1: scores.iter().map(|s| s.2).collect(),
                support,
            },
            Average::Macro => {
                let n = c as f64;
                one(
                    ratio(scores.iter().map(|s| s.0).sum(), n),
                    ratio(scores.iter().map(|s| s.1).sum(), n),
                    ratio(scores.iter().map(|s| s.2).sum(), n),
                )
            }
            Average::Weighted => {
                let w = total_support as f64;
                let weighted = |f: fn(&(f64, f64, f64)) -> f64| {
                    ratio(
                        scores
                            .iter()
                            .zip(&support)
                            .map(|(s, &n)| f(s) * n as f64)
                            .sum(),
                        w,
                    )
                };
                one(weighted(|s| s.0), weighted(|s| s.1), weighted(|s| s.2))
            }
            Average::Micro => {
                let tp: f64 = tp.iter().sum();
                let p = ratio(tp, predicted.iter().sum());
                let r = ratio(tp, total_support as f64);
                one(p, r, ratio(2.0 * p * r, p + r))
            }
        }
    }

    fn label(&self, i: usize) -> String {
        match &self.class_names {
            Some(names) => names[i].clone(),
            None => i.to_string(),
        }
    }
}

/// Columns a string takes in a terminal: Hangul and other East Asian wide characters take two.
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let u = c as u32;
            let wide = (0x1100..=0x115F).contains(&u)
                || (0x2E80..=0xA4CF).contains(&u)
                || (0xAC00..=0xD7A3).contains(&u)
                || (0xF900..=0xFAFF).contains(&u)
                || (0xFE30..=0xFE4F).contains(&u)
                || (0xFF00..=0xFF60).contains(&u)
                || (0xFFE0..=0xFFE6).contains(&u);
            if wide { 2 } else { 1 }
        })
        .sum()
}

fn pad_left(f: &mut fmt::Formatter<'_>, s: &str, width: usize) -> fmt::Result {
    let w = display_width(s);
    write!(f, "{}{s}", " ".repeat(width.saturating_sub(w)))
}

/// An aligned text table: one row per true class, one column per predicted class.
impl fmt::Display for ConfusionMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const CORNER: &str = "true\\pred";
        let c = self.num_classes;
        let labels: Vec<String> = (0..c).map(|i| self.label(i)).collect();
        let first = labels
            .iter()
            .map(|l| display_width(l))
            .chain([display_width(CORNER)])
            .max()
            .unwrap_or(0);
        let widths: Vec<usize> = (0..c)
            .map(|p| {
                (0..c)
                    .map(|t| self.get(t, p).to_string().len())
                    .chain([display_width(&labels[p])])
                    .max()
                    .unwrap_or(1)
            })
            .collect();
        pad_left(f, CORNER, first)?;
        for (label, &w) in labels.iter().zip(&widths) {
            write!(f, "  ")?;
            pad_left(f, label, w)?;
        }
        for (t, label) in labels.iter().enumerate() {
            writeln!(f)?;
            pad_left(f, label, first)?;
            for (p, &w) in widths.iter().enumerate() {
                write!(f, "  ")?;
                pad_left(f, &self.get(t, p).to_string(), w)?;
            }
        }
        Ok(())
    }
}
