//! Regression metrics: mean squared and absolute error, their root, and R² (scikit-learn's
//! definitions).

use crate::Tensor;
use crate::error::{Result, bail};

/// The predictions and targets as f64 columns: equal shapes, or `[N]` against `[N, 1]` (the
/// common output of a one-unit head). Returns the values and the number of outputs per example.
pub(crate) fn paired_values(
    op: &str,
    pred: &Tensor,
    target: &Tensor,
) -> Result<(Vec<f64>, Vec<f64>, usize)> {
    let same = pred.dims() == target.dims();
    let column_pair =
        matches!((pred.dims(), target.dims()), ([a], [b, 1]) | ([a, 1], [b]) if a == b);
    if !same && !column_pair {
        bail!(
            Shape,
            "{op}: predictions {} and targets {} must have the same shape",
            pred.shape(),
            target.shape()
        );
    }
    if pred.numel() == 0 {
        bail!(Invalid, "{op}: no values (shape {})", pred.shape());
    }
    let outputs = if same && pred.rank() >= 2 {
        pred.dims()[1..].iter().product()
    } else {
        1
    };
    Ok((pred.to_vec::<f64>(), target.to_vec::<f64>(), outputs))
}

/// Mean squared error `mean((pred - target)²)` over all values.
pub fn mse(pred: &Tensor, target: &Tensor) -> Result<f64> {
    let (p, t, _) = paired_values("mse", pred, target)?;
    Ok(p.iter()
        .zip(&t)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        / p.len() as f64)
}

/// Mean absolute error `mean(|pred - target|)`.
pub fn mae(pred: &Tensor, target: &Tensor) -> Result<f64> {
    let (p, t, _) = paired_values("mae", pred, target)?;
    Ok(p.iter().zip(&t).map(|(a, b)| (a - b).abs()).sum::<f64>() / p.len() as f64)
}

/// Root mean squared error, in the units of the targets.
pub fn rmse(pred: &Tensor, target: &Tensor) -> Result<f64> {
    Ok(mse(pred, target)?.sqrt())
}

/// R² per output `1 - Σ(y - ŷ)² / Σ(y - ȳ)²`, averaged over outputs (scikit-learn's
/// `r2_score` with `multioutput='uniform_average'`). A constant target gives 1 when predicted
/// exactly and 0 otherwise, as scikit-learn's `force_finite`.
pub fn r2_score(pred: &Tensor, target: &Tensor) -> Result<f64> {
    let (p, t, k) = paired_values("r2_score", pred, target)?;
    let n = t.len() / k;
    let mut total = 0.0;
    for j in 0..k {
        let column = |v: &[f64]| (0..n).map(|i| v[i * k + j]).collect::<Vec<_>>();
        let (pj, tj) = (column(&p), column(&t));
        let mean = tj.iter().sum::<f64>() / n as f64;
        let ss_tot: f64 = tj.iter().map(|y| (y - mean) * (y - mean)).sum();
        let ss_res: f64 = pj.iter().zip(&tj).map(|(a, b)| (a - b) * (a - b)).sum();
        total += r2_from_sums(ss_res, ss_tot);
    }
    Ok(total / k as f64)
}

/// R² from the residual and total sums of squares, finite as scikit-learn's `force_finite`.
pub(crate) fn r2_from_sums(ss_res: f64, ss_tot: f64) -> f64 {
    if ss_tot == 0.0 {
        if ss_res == 0.0 { 1.0 } else { 0.0 }
    } else {
        1.0 - ss_res / ss_tot
    }
}
