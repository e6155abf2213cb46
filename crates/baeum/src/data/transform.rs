//! Transforms fitted on the training split and applied to every split (scikit-learn's
//! `StandardScaler`, `MinMaxScaler`), torchvision's per-channel `Normalize`, and sliding windows
//! over a time series.

use crate::error::{Result, bail};
use crate::{DType, Tensor};

/// Something that maps a tensor to a tensor of the same shape (a preprocessing step).
pub trait Transform: Send + Sync {
    fn apply(&self, x: &Tensor) -> Result<Tensor>;
}

/// The float dtype a transform returns for `x`: its own if it is a float, else f32.
fn float_dtype(x: &Tensor) -> DType {
    if x.dtype().is_float() {
        x.dtype()
    } else {
        DType::F32
    }
}

/// Checks `x` is `[..., F]` with at least two dimensions and returns `(rows, F)`.
fn rows_and_features(op: &str, x: &Tensor) -> Result<(usize, usize)> {
    if x.rank() < 2 {
        bail!(
            Shape,
            "{op}: expects samples × features, at least 2-D [N, F], got shape {} (reshape a single feature to [N, 1])",
            x.shape()
        );
    }
    let f = x.dims()[x.rank() - 1];
    let rows = x.numel().checked_div(f).unwrap_or(0);
    Ok((rows, f))
}

/// Per-feature columns of `x` (features on the last dimension), as f64.
fn feature_columns(x: &Tensor, rows: usize, f: usize) -> Vec<Vec<f64>> {
    let data = x.to_vec::<f64>();
    let mut columns = vec![Vec::with_capacity(rows); f];
    for row in data.chunks(f) {
        for (c, &v) in columns.iter_mut().zip(row) {
            c.push(v);
        }
    }
    columns
}

/// `(x - shift) * factor` per feature (the last dimension), in `x`'s float dtype.
fn affine(op: &str, x: &Tensor, shift: &[f64], factor: &[f64]) -> Result<Tensor> {
    let (_, f) = rows_and_features(op, x)?;
    if f != shift.len() {
        bail!(
            Shape,
            "{op}: fitted on {} features but got shape {} with {f}",
            shift.len(),
            x.shape()
        );
    }
    let dtype = float_dtype(x);
    let shift = Tensor::from_slice(shift, [f]).to_dtype(dtype);
    let factor = Tensor::from_slice(factor, [f]).to_dtype(dtype);
    Ok(x.to_dtype(dtype).sub(&shift).mul(&factor))
}

/// Standardisation per feature: `x' = (x - mean) / std` with the population standard deviation
/// (scikit-learn's `StandardScaler`); a constant feature (std 0) is only centred.
#[derive(Clone, Debug, PartialEq)]
pub struct StandardScaler {
    /// The mean of each feature (scikit-learn's `mean_`).
    pub mean: Vec<f64>,
    /// The standard deviation of each feature, with 0 replaced by 1 (`scale_`).
    pub scale: Vec<f64>,
}

impl StandardScaler {
    /// Learns the means and standard deviations of `x [N, F]` (features on the last dimension).
    pub fn fit(x: &Tensor) -> Result<Self> {
        let (rows, f) = rows_and_features("StandardScaler::fit", x)?;
        if rows == 0 {
            bail!(
                Invalid,
                "StandardScaler::fit: no samples in shape {}",
                x.shape()
            );
        }
        let mut mean = Vec::with_capacity(f);
        let mut scale = Vec::with_capacity(f);
        for column in feature_columns(x, rows, f) {
            let m = column.iter().sum::<f64>() / rows as f64;
            let var = column.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / rows as f64;
            let s = var.sqrt();
            mean.push(m);
            scale.push(if s == 0.0 || !s.is_finite() { 1.0 } else { s });
        }
        Ok(StandardScaler { mean, scale })
    }

    /// `(x - mean) / scale` per feature.
    pub fn transform(&self, x: &Tensor) -> Result<Tensor> {
        let inv: Vec<f64> = self.scale.iter().map(|s| 1.0 / s).collect();
        affine("StandardScaler::transform", x, &self.mean, &inv)
    }

    /// Fits on `x` and transforms it.
    pub fn fit_transform(x: &Tensor) -> Result<(Self, Tensor)> {
        let s = StandardScaler::fit(x)?;
        let t = s.transform(x)?;
        Ok((s, t))
    }

    /// `x * scale + mean`: back to the original units.
    pub fn inverse_transform(&self, x: &Tensor) -> Result<Tensor> {
        let shift: Vec<f64> = self
            .mean
            .iter()
            .zip(&self.scale)
            .map(|(m, s)| -m / s)
            .collect();
        affine("StandardScaler::inverse_transform", x, &shift, &self.scale)
    }
}

impl Transform for StandardScaler {
    fn apply(&self, x: &Tensor) -> Result<Tensor> {
        self.transform(x)
    }
}

/// Min-max scaling per feature into `feature_range` (default `(0, 1)`):
/// `x' = (x - min) / (max - min) * (hi - lo) + lo` (scikit-learn's `MinMaxScaler`); a constant
/// feature maps to `lo`.
#[derive(Clone, Debug, PartialEq)]
pub struct MinMaxScaler {
    /// The smallest value of each feature (`data_min_`).
    pub data_min: Vec<f64>,
    /// The largest value of each feature (`data_max_`).
    pub data_max: Vec<f64>,
    /// The target range `(lo, hi)`.
    pub feature_range: (f64, f64),
}

impl MinMaxScaler {
    /// Learns the per-feature minima and maxima of `x [N, F]`, scaling into `(0, 1)`.
    pub fn fit(x: &Tensor) -> Result<Self> {
        MinMaxScaler::fit_range(x, (0.0, 1.0))
    }

    /// Like [`MinMaxScaler::fit`] with another target range (`lo < hi`).
    pub fn fit_range(x: &Tensor, feature_range: (f64, f64)) -> Result<Self> {
        let (lo, hi) = feature_range;
        if lo.is_nan() || hi.is_nan() || lo >= hi {
            bail!(
                Invalid,
                "MinMaxScaler: feature_range ({lo}, {hi}) must have its minimum below its maximum"
            );
        }
        let (rows, f) = rows_and_features("MinMaxScaler::fit", x)?;
        if rows == 0 {
            bail!(
                Invalid,
                "MinMaxScaler::fit: no samples in shape {}",
                x.shape()
            );
        }
        let columns = feature_columns(x, rows, f);
        let data_min = columns
            .iter()
            .map(|c| c.iter().copied().fold(f64::INFINITY, f64::min))
            .collect();
        let data_max = columns
            .iter()
            .map(|c| c.iter().copied().fold(f64::NEG_INFINITY, f64::max))
            .collect();
        Ok(MinMaxScaler {
            data_min,
            data_max,
            feature_range,
        })
    }

    /// The per-feature factor `(hi - lo) / (max - min)`, 1 for a constant feature.
    pub fn scale(&self) -> Vec<f64> {
        let (lo, hi) = self.feature_range;
        self.data_min
            .iter()
            .zip(&self.data_max)
            .map(|(mn, mx)| {
                let range = mx - mn;
                (hi - lo) / if range == 0.0 { 1.0 } else { range }
            })
            .collect()
    }

    /// Scales `x` into the feature range.
    pub fn transform(&self, x: &Tensor) -> Result<Tensor> {
        // x * scale + (lo - min * scale) written as (x - (min - lo / scale)) * scale.
        let scale = self.scale();
        let lo = self.feature_range.0;
        let shift: Vec<f64> = self
            .data_min
            .iter()
            .zip(&scale)
            .map(|(m, s)| m - lo / s)
            .collect();
        affine("MinMaxScaler::transform", x, &shift, &scale)
    }

    /// Fits on `x` and transforms it.
    pub fn fit_transform(x: &Tensor) -> Result<(Self, Tensor)> {
        let s = MinMaxScaler::fit(x)?;
        let t = s.transform(x)?;
        Ok((s, t))
    }

    /// Back to the original units (to report an error such as RMSE in them).
    pub fn inverse_transform(&self, x: &Tensor) -> Result<Tensor> {
        let scale = self.scale();
        let lo = self.feature_range.0;
        let inv: Vec<f64> = scale.iter().map(|s| 1.0 / s).collect();
        let shift: Vec<f64> = self
            .data_min
            .iter()
            .zip(&scale)
            .map(|(m, s)| lo - m * s)
            .collect();
        affine("MinMaxScaler::inverse_transform", x, &shift, &inv)
    }

    /// Inverse-transforms values of one feature only (`x` of any shape), e.g. a model's
    /// predictions of the target column.
    pub fn inverse_transform_feature(&self, x: &Tensor, feature: usize) -> Result<Tensor> {
        if feature >= self.data_min.len() {
            bail!(
                Index,
                "MinMaxScaler::inverse_transform_feature: feature {feature} out of range for {} features",
                self.data_min.len()
            );
        }
        let s = self.scale()[feature];
        let lo = self.feature_range.0;
        let dtype = float_dtype(x);
        Ok(x.to_dtype(dtype)
            .sub_scalar(lo)
            .div_scalar(s)
            .add_scalar(self.data_min[feature]))
    }
}

impl Transform for MinMaxScaler {
    fn apply(&self, x: &Tensor) -> Result<Tensor> {
        self.transform(x)
    }
}

/// Per-channel normalisation of images `[C, H, W]` or `[N, C, H, W]`:
/// `x' = (x - mean[c]) / std[c]` (torchvision's `transforms.Normalize`).
#[derive(Clone, Debug, PartialEq)]
pub struct Normalize {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

impl Normalize {
    /// One mean and one standard deviation per channel; every std must be non-zero.
    pub fn new(mean: Vec<f64>, std: Vec<f64>) -> Result<Self> {
        if mean.len() != std.len() || mean.is_empty() {
            bail!(
                Invalid,
                "Normalize: expects as many means as standard deviations (at least one), got {} and {}",
                mean.len(),
                std.len()
            );
        }
        if let Some(s) = std.iter().find(|s| **s == 0.0 || !s.is_finite()) {
            bail!(
                Invalid,
                "Normalize: std {std:?} has {s}, which cannot divide"
            );
        }
        Ok(Normalize { mean, std })
    }
}

impl Transform for Normalize {
    fn apply(&self, x: &Tensor) -> Result<Tensor> {
        if x.rank() < 3 {
            bail!(
                Shape,
                "Normalize: expects an image [C, H, W] or a batch [N, C, H, W], got shape {}",
                x.shape()
            );
        }
        let c = x.dims()[x.rank() - 3];
        let k = self.mean.len();
        if k != c && k != 1 {
            bail!(
                Shape,
                "Normalize: {k} channel means for an image of {c} channels (shape {})",
                x.shape()
            );
        }
        let dtype = float_dtype(x);
        let mean = Tensor::from_slice(&self.mean, [k, 1, 1]).to_dtype(dtype);
        let std = Tensor::from_slice(&self.std, [k, 1, 1]).to_dtype(dtype);
        Ok(x.to_dtype(dtype).sub(&mean).div(&std))
    }
}

/// Sliding windows over a time series `[T, F]` for many-to-one prediction: input `i` is
/// rows `i .. i + window` (`[window, F]`) and its target is column `target_column` at row
/// `i + window + horizon - 1`. Returns `X [T - window - horizon + 1, window, F]` and
/// `y [.., 1]`; with `horizon = 1` that is the lecture's `x[i:i+w]` → `y[i+w]`, `T - window`
/// windows.
pub fn windows(
    series: &Tensor,
    window: usize,
    target_column: usize,
    horizon: usize,
) -> Result<(Tensor, Tensor)> {
    if series.rank() != 2 {
        bail!(
            Shape,
            "windows: expects a series [T, F], got shape {}",
            series.shape()
        );
    }
    let (t, f) = (series.dims()[0], series.dims()[1]);
    if target_column >= f {
        bail!(
            Index,
            "windows: target column {target_column} out of range for {f} features (shape {})",
            series.shape()
        );
    }
    if window == 0 || horizon == 0 {
        bail!(
            Invalid,
            "windows: window ({window}) and horizon ({horizon}) must be positive"
        );
    }
    if window + horizon > t {
        bail!(
            Shape,
            "windows: a window of {window} and horizon {horizon} need at least {} rows, the series {} has {t}",
            window + horizon,
            series.shape()
        );
    }
    let m = t - window - horizon + 1;
    let rows: Vec<i64> = (0..m)
        .flat_map(|i| (i..i + window).map(|r| r as i64))
        .collect();
    let x = series
        .try_index_select(0, &Tensor::from_vec(rows, [m * window]))?
        .reshape(&[m as isize, window as isize, f as isize]);
    let y = series
        .select(1, target_column as isize)
        .narrow(0, window + horizon - 1, m)
        .reshape(&[m as isize, 1]);
    Ok((x, y))
}
