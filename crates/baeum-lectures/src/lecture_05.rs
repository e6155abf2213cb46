//! COURSE §5: application and tips — preprocessing for gradient descent.
//!
//! The notes' table x1 = [1, 2, 4, 6, 9], x2 = [9000, −5000, −2000, 8000, 9000] has features on
//! wildly different scales; min-max normalisation maps each to [0, 1] and standardisation to
//! mean 0 and standard deviation 1. Standardisation is shown with the population σ (÷ n, what
//! gives exactly unit variance; scikit-learn's `StandardScaler`) and with the sample σ
//! (÷ (n − 1), what PyTorch's `x.std()` computes by default, `unbiased=True`).

use std::io::{self, Write};

use baeum::{Tensor, tensor};

use crate::common::{fmt_list, heading, title, values};

/// What the lecture computed; every vector is per feature: `[x1, x2]`.
#[derive(Clone, Debug)]
pub struct Report {
    pub x1: Vec<f64>,
    pub x2: Vec<f64>,
    pub min: [f64; 2],
    pub max: [f64; 2],
    /// (x − min) / (max − min), per column.
    pub min_max: [Vec<f64>; 2],
    pub mean: [f64; 2],
    /// σ = √((1/n) Σ (x − μ)²).
    pub std_population: [f64; 2],
    /// s = √((1/(n − 1)) Σ (x − μ)²).
    pub std_sample: [f64; 2],
    /// (x − μ) / σ with the population σ.
    pub standardised: [Vec<f64>; 2],
    /// (x − μ) / s with the sample s (PyTorch's default `std`).
    pub standardised_sample: [Vec<f64>; 2],
}

/// Runs the lecture, printing to `out`.
pub fn run(out: &mut dyn Write) -> io::Result<Report> {
    title(out, 5, "Application and tips: data preprocessing")?;
    // Rows are samples, columns the features x1, x2 (classes A, A, B, B, C).
    let x = tensor!([
        [1., 9000.],
        [2., -5000.],
        [4., -2000.],
        [6., 8000.],
        [9., 9000.]
    ]);
    let column = |t: &Tensor, c: isize| values(&t.select(1, c));
    let pair = |t: &Tensor| {
        let v = values(t);
        [v[0], v[1]]
    };

    heading(out, "The data: features on very different scales")?;
    writeln!(out, "  x1 = {}", fmt_list(&column(&x, 0), 0))?;
    writeln!(out, "  x2 = {}", fmt_list(&column(&x, 1), 0))?;
    writeln!(out, "  y  = [A, A, B, B, C]")?;
    writeln!(
        out,
        "  A step that suits w2 (the cost is steep along it) barely moves w1: the contours of the \
         cost are long, thin ellipses. Rescale first."
    )?;

    heading(
        out,
        "Min-max normalisation: x' = (x − min) / (max − min), into [0, 1]",
    )?;
    let min = x.amin(&[0], true);
    let max = x.amax(&[0], true);
    let normalised = (&x - &min) / (&max - &min);
    let min_max = [column(&normalised, 0), column(&normalised, 1)];
    writeln!(
        out,
        "  min = {}, max = {}",
        fmt_list(&values(&min), 0),
        fmt_list(&values(&max), 0)
    )?;
    writeln!(out, "  x1' = {}", fmt_list(&min_max[0], 4))?;
    writeln!(out, "  x2' = {}", fmt_list(&min_max[1], 4))?;

    heading(
        out,
        "Standardisation: x' = (x − μ) / σ, mean 0 and standard deviation 1",
    )?;
    let mean = x.mean_dim(0, true);
    let std_population = x.std_dims(&[0], false, true);
    let std_sample = x.std_dims(&[0], true, true);
    let standardised_t = (&x - &mean) / &std_population;
    let standardised = [column(&standardised_t, 0), column(&standardised_t, 1)];
    let sample_t = (&x - &mean) / &std_sample;
    let standardised_sample = [column(&sample_t, 0), column(&sample_t, 1)];
    writeln!(out, "  μ = {}", fmt_list(&values(&mean), 1))?;
    writeln!(
        out,
        "  σ = {}   population: √((1/n) Σ (x − μ)²), x.std_dims(&[0], false, _)",
        fmt_list(&values(&std_population), 4)
    )?;
    writeln!(out, "  x1' = {}", fmt_list(&standardised[0], 4))?;
    writeln!(out, "  x2' = {}", fmt_list(&standardised[1], 4))?;
    writeln!(
        out,
        "  With the sample s = {} (÷ (n − 1): PyTorch's x.std() default, unbiased=True):",
        fmt_list(&values(&std_sample), 4)
    )?;
    writeln!(out, "  x1' = {}", fmt_list(&standardised_sample[0], 4))?;
    writeln!(out, "  x2' = {}", fmt_list(&standardised_sample[1], 4))?;
    let check_mean = values(&standardised_t.mean_dim(0, false));
    let check_std = values(&standardised_t.std_dims(&[0], false, false));
    writeln!(
        out,
        "  Check: the standardised columns have mean {} and σ {}.",
        fmt_list(&check_mean.iter().map(|v| v.abs()).collect::<Vec<_>>(), 4),
        fmt_list(&check_std, 4)
    )?;

    heading(out, "Overfitting, and the data you keep apart")?;
    writeln!(
        out,
        "  A model that memorises its training set does well there and badly on new data.\n  \
         Remedies: more training data, fewer features, regularisation, early stopping, dropout.\n  \
         Training set → the parameters; validation set → the hyper-parameters (α, λ, layers);\n  \
         test set → the final score, looked at once."
    )?;

    Ok(Report {
        x1: column(&x, 0),
        x2: column(&x, 1),
        min: pair(&min),
        max: pair(&max),
        min_max,
        mean: pair(&mean),
        std_population: pair(&std_population),
        std_sample: pair(&std_sample),
        standardised,
        standardised_sample,
    })
}
