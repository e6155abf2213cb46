//! Metrics accumulated over the batches of an epoch (`update` per batch, `compute` at the end),
//! named as Keras names them in a training history.

use super::classification::{paired_classes, top_k_correct};
use super::regression::{paired_values, r2_from_sums};
use crate::Tensor;
use crate::error::Result;

/// A metric accumulated over batches: `update` with each batch's output and target, `compute`
/// the value over everything seen since the last `reset`.
pub trait Metric: Send {
    fn update(&mut self, output: &Tensor, target: &Tensor) -> Result<()>;
    /// The value so far (0 before any update, as Keras reports).
    fn compute(&self) -> f64;
    fn reset(&mut self);
    /// The key in a training history (`"accuracy"`, `"mse"`, ...).
    fn name(&self) -> &str;
}

fn mean_or_zero(sum: f64, count: f64) -> f64 {
    if count == 0.0 { 0.0 } else { sum / count }
}

/// The fraction of correctly classified examples ("accuracy"); outputs as
/// [`accuracy`](super::accuracy) reads them.
#[derive(Clone, Debug, Default)]
pub struct Accuracy {
    correct: u64,
    total: u64,
}

impl Accuracy {
    pub fn new() -> Self {
        Accuracy::default()
    }
}

impl Metric for Accuracy {
    fn update(&mut self, output: &Tensor, target: &Tensor) -> Result<()> {
        let (p, t) = paired_classes("Accuracy::update", output, target)?;
        self.correct += p.iter().zip(&t).filter(|(a, b)| a == b).count() as u64;
        self.total += p.len() as u64;
        Ok(())
    }
    fn compute(&self) -> f64 {
        mean_or_zero(self.correct as f64, self.total as f64)
    }
    fn reset(&mut self) {
        *self = Accuracy::default();
    }
    fn name(&self) -> &str {
        "accuracy"
    }
}

/// The fraction of examples whose target is among the `k` highest scores ("top_5_accuracy").
#[derive(Clone, Debug)]
pub struct TopKAccuracy {
    k: usize,
    name: String,
    correct: u64,
    total: u64,
}

impl TopKAccuracy {
    pub fn new(k: usize) -> Self {
        TopKAccuracy {
            k,
            name: format!("top_{k}_accuracy"),
            correct: 0,
            total: 0,
        }
    }
}

impl Metric for TopKAccuracy {
    fn update(&mut self, output: &Tensor, target: &Tensor) -> Result<()> {
        let (correct, n) = top_k_correct("TopKAccuracy::update", output, target, self.k)?;
        self.correct += correct as u64;
        self.total += n as u64;
        Ok(())
    }
    fn compute(&self) -> f64 {
        mean_or_zero(self.correct as f64, self.total as f64)
    }
    fn reset(&mut self) {
        self.correct = 0;
        self.total = 0;
    }
    fn name(&self) -> &str {
        &self.name
    }
}

/// Sums of errors over every value seen.
#[derive(Clone, Debug, Default)]
struct ErrorSums {
    squared: f64,
    absolute: f64,
    count: f64,
}

impl ErrorSums {
    fn update(&mut self, op: &str, output: &Tensor, target: &Tensor) -> Result<()> {
        let (p, t, _) = paired_values(op, output, target)?;
        for (a, b) in p.iter().zip(&t) {
            self.squared += (a - b) * (a - b);
            self.absolute += (a - b).abs();
        }
        self.count += p.len() as f64;
        Ok(())
    }
}

macro_rules! error_metric {
    ($(#[$doc:meta])* $name:ident, $key:literal, |$s:ident| $value:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default)]
        pub struct $name(ErrorSums);

        impl $name {
            pub fn new() -> Self {
                Self::default()
            }
        }

        impl Metric for $name {
            fn update(&mut self, output: &Tensor, target: &Tensor) -> Result<()> {
                self.0.update(concat!(stringify!($name), "::update"), output, target)
            }
            fn compute(&self) -> f64 {
                let $s = &self.0;
                $value
            }
            fn reset(&mut self) {
                self.0 = ErrorSums::default();
            }
            fn name(&self) -> &str {
                $key
            }
        }
    };
}

error_metric!(
    /// Mean squared error over every value seen ("mse").
    MeanSquaredError, "mse", |s| mean_or_zero(s.squared, s.count)
);
error_metric!(
    /// Mean absolute error over every value seen ("mae").
    MeanAbsoluteError, "mae", |s| mean_or_zero(s.absolute, s.count)
);
error_metric!(
    /// Root mean squared error over every value seen ("rmse"): the root of the overall mean,
    /// not the mean of per-batch roots.
    RootMeanSquaredError, "rmse", |s| mean_or_zero(s.squared, s.count).sqrt()
);

/// Running moments of one output column: count, mean and the sum of squared deviations
/// (Chan et al.'s merge, stable where `Σy² - n·ȳ²` would cancel), and the residual sum.
#[derive(Clone, Debug, Default)]
struct R2Column {
    count: f64,
    mean: f64,
    m2: f64,
    ss_res: f64,
}

/// R² over every example seen ("r2"), per output and averaged over outputs, as
/// [`r2_score`](super::r2_score) on everything at once.
#[derive(Clone, Debug, Default)]
pub struct R2Score {
    columns: Vec<R2Column>,
}

impl R2Score {
    pub fn new() -> Self {
        R2Score::default()
    }
}

impl Metric for R2Score {
    fn update(&mut self, output: &Tensor, target: &Tensor) -> Result<()> {
        let (p, t, k) = paired_values("R2Score::update", output, target)?;
        if self.columns.is_empty() {
            self.columns = vec![R2Column::default(); k];
        } else if self.columns.len() != k {
            crate::error::bail!(
                Shape,
                "R2Score::update: targets {} have {k} outputs, earlier batches had {}",
                target.shape(),
                self.columns.len()
            );
        }
        let n = t.len() / k;
        for (j, col) in self.columns.iter_mut().enumerate() {
            let ys = (0..n).map(|i| t[i * k + j]);
            let mean_b = ys.clone().sum::<f64>() / n as f64;
            let m2_b: f64 = ys.map(|y| (y - mean_b) * (y - mean_b)).sum();
            let (na, nb) = (col.count, n as f64);
            let delta = mean_b - col.mean;
            let total = na + nb;
            col.mean += delta * nb / total;
            col.m2 += m2_b + delta * delta * na * nb / total;
            col.count = total;
            col.ss_res += (0..n)
                .map(|i| (p[i * k + j] - t[i * k + j]).powi(2))
                .sum::<f64>();
        }
        Ok(())
    }
    fn compute(&self) -> f64 {
        if self.columns.is_empty() {
            return 0.0;
        }
        let sum: f64 = self
            .columns
            .iter()
            .map(|c| r2_from_sums(c.ss_res, c.m2))
            .sum();
        sum / self.columns.len() as f64
    }
    fn reset(&mut self) {
        self.columns.clear();
    }
    fn name(&self) -> &str {
        "r2"
    }
}
