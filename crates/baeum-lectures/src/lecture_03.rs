//! COURSE §3: multi-variable linear regression.
//!
//! With several features the hypothesis is a matrix product, H(X) = XW + b: the shapes of the
//! notes ([5, 3]·[3, 1] = [5, 1]), the hours/attendance table fitted by gradient descent and
//! checked against the exact least-squares fit, and the 25 exam scores of
//! `data-01-test-score.csv`, first normalised (the features are in the hundreds, so raw
//! gradient descent needs a tiny learning rate), then predicted.

use std::io::{self, Write};

use baeum::{DType, Tensor, tensor};

use crate::common::{
    TEST_SCORE_CSV, Table, fmt_list, gd_step, heading, mse, scalar, title, values, zeros_param,
};

/// What the lecture computed.
#[derive(Clone, Debug)]
pub struct Report {
    /// The shapes of the matrix-product examples: ([5, 3], [3, 1], [5, 1]) and ([5, 3], [3, 2],
    /// [5, 2]).
    pub shapes: Vec<(Vec<usize>, Vec<usize>, Vec<usize>)>,
    /// The hours/attendance table: gradient descent and the exact least-squares fit.
    pub hours: Fit,
    pub hours_least_squares: Fit,
    /// The exam scores, features standardised: gradient descent and least squares.
    pub scores: Fit,
    pub scores_least_squares: Fit,
    /// (prediction, true final score) for the notes' five rows.
    pub score_predictions: Vec<(f64, f64)>,
    /// The exam scores on raw features: the cost after the same number of steps with
    /// α = 10⁻⁵, and the costs of the first steps with α = 10⁻⁴ (which diverges).
    pub raw_mse_small_lr: f64,
    pub raw_costs_large_lr: Vec<f64>,
}

/// A fitted linear model H(X) = XW + b and its mean squared error on the data.
#[derive(Clone, Debug)]
pub struct Fit {
    pub w: Vec<f64>,
    pub b: f64,
    pub mse: f64,
}

/// Runs the lecture, printing to `out`.
pub fn run(out: &mut dyn Write) -> io::Result<Report> {
    title(out, 3, "Multi-variable linear regression")?;
    writeln!(
        out,
        "H(x₁, x₂, x₃) = w₁x₁ + w₂x₂ + w₃x₃ + b, written with matrices: H(X) = XW + b"
    )?;
    let shapes = shapes(out)?;
    let (hours, hours_least_squares) = hours_attendance(out)?;
    let scores = exam_scores(out)?;
    Ok(Report {
        shapes,
        hours,
        hours_least_squares,
        scores: scores.fit,
        scores_least_squares: scores.least_squares,
        score_predictions: scores.predictions,
        raw_mse_small_lr: scores.raw_mse_small_lr,
        raw_costs_large_lr: scores.raw_costs_large_lr,
    })
}

/// The notes' five rows of quiz 1, quiz 2, midterm.
fn notes_rows() -> Tensor {
    tensor!([
        [73., 80., 75.],
        [93., 88., 93.],
        [89., 91., 90.],
        [96., 98., 100.],
        [73., 66., 70.]
    ])
}

type Shapes = (Vec<usize>, Vec<usize>, Vec<usize>);

fn shapes(out: &mut dyn Write) -> io::Result<Vec<Shapes>> {
    heading(out, "Hypothesis using matrices: the shapes")?;
    let x = notes_rows();
    let mut shapes = Vec::new();
    for outputs in [1, 2] {
        let w = Tensor::ones([3, outputs]);
        let h = x.matmul(&w);
        writeln!(
            out,
            "  X {:?} · W {:?} = H(X) {:?}",
            x.dims(),
            w.dims(),
            h.dims()
        )?;
        shapes.push((x.dims().to_vec(), w.dims().to_vec(), h.dims().to_vec()));
    }
    writeln!(
        out,
        "  With n rows: [n, 3]·[3, 1] = [n, 1]; W's shape is [features in, outputs]."
    )?;
    if let Err(e) = x.try_matmul(&Tensor::ones([1, 3])) {
        writeln!(out, "  And a mismatch is an error: {e}")?;
    }
    Ok(shapes)
}

/// Least squares by the normal equations: [W; b] = (AᵀA)⁻¹ Aᵀy with A = [X 1], in f64.
fn least_squares(x: &Tensor, y: &Tensor) -> Fit {
    let x = x.to_dtype(DType::F64);
    let y = y.to_dtype(DType::F64);
    let n = x.size(0);
    let a = Tensor::cat(&[&x, &Tensor::ones_dtype([n, 1], DType::F64)], 1);
    let at = a.t();
    let theta = at.matmul(&a).inverse().matmul(&at.matmul(&y));
    let mut w = values(&theta);
    let b = w.pop().expect("theta has a bias row");
    let mse = scalar(&mse(&a.matmul(&theta), &y));
    Fit { w, b, mse }
}

/// Gradient descent on H(X) = XW + b from zeros; returns the parameters.
fn fit_by_descent(x: &Tensor, y: &Tensor, lr: f64, steps: usize) -> (Tensor, Tensor) {
    let w = zeros_param(&[x.size(1), 1]);
    let b = zeros_param(&[1]);
    for _ in 0..steps {
        let cost = mse(&(x.matmul(&w) + &b), y);
        cost.backward();
        gd_step(&[&w, &b], lr);
    }
    (w, b)
}

fn fit_of(x: &Tensor, y: &Tensor, w: &Tensor, b: &Tensor) -> Fit {
    Fit {
        w: values(w),
        b: scalar(b),
        mse: scalar(&mse(&(x.matmul(w) + b), y)),
    }
}

fn hours_attendance(out: &mut dyn Write) -> io::Result<(Fit, Fit)> {
    heading(out, "Two features: hours and attendance → score")?;
    let x = tensor!([[10., 5.], [9., 5.], [3., 2.], [2., 4.], [11., 1.]]);
    let y = tensor!([[90.], [80.], [50.], [60.], [40.]]);
    writeln!(
        out,
        "H(x₁, x₂) = w₁x₁ + w₂x₂ + b; 2000 steps of gradient descent, α = 0.01"
    )?;
    let (w, b) = fit_by_descent(&x, &y, 0.01, 2000);
    let fit = fit_of(&x, &y, &w, &b);
    let exact = least_squares(&x, &y);
    let h = values(&(x.matmul(&w) + &b));
    let xs = values(&x);
    let ys = values(&y);
    writeln!(out, "  x₁ (hours)  x₂ (attendance)  y (score)  H(x)")?;
    for i in 0..5 {
        writeln!(
            out,
            "  {:>10}  {:>15}  {:>9}  {:>5.1}",
            xs[2 * i],
            xs[2 * i + 1],
            ys[i],
            h[i]
        )?;
    }
    writeln!(
        out,
        "  descent:       W = {}, b = {:.3}, MSE = {:.4}",
        fmt_list(&fit.w, 3),
        fit.b,
        fit.mse
    )?;
    writeln!(
        out,
        "  least squares: W = {}, b = {:.3}, MSE = {:.4}  ((AᵀA)⁻¹Aᵀy, the exact minimum)",
        fmt_list(&exact.w, 3),
        exact.b,
        exact.mse
    )?;
    writeln!(
        out,
        "  Five points cannot lie on one plane here: the best MSE is not 0."
    )?;
    Ok((fit, exact))
}

struct Scores {
    fit: Fit,
    least_squares: Fit,
    predictions: Vec<(f64, f64)>,
    raw_mse_small_lr: f64,
    raw_costs_large_lr: Vec<f64>,
}

fn exam_scores(out: &mut dyn Write) -> io::Result<Scores> {
    heading(
        out,
        "Predicting exam scores: quiz 1, quiz 2, midterm → final (data-01-test-score.csv)",
    )?;
    let table = Table::embedded(TEST_SCORE_CSV);
    let x = table.features();
    let y = table.target();
    writeln!(
        out,
        "{} rows; X {:?}, W [3, 1], y {:?}",
        table.rows,
        x.dims(),
        y.dims()
    )?;

    // The scores are in the hundreds: the cost's curvature along W is ~10⁴, so raw descent
    // needs α ≈ 10⁻⁵, and then the bias (curvature 2) hardly moves.
    let steps = 500;
    writeln!(out, "Raw features, {steps} steps:")?;
    let (w, b) = fit_by_descent(&x, &y, 1e-5, steps);
    let raw_mse_small_lr = scalar(&mse(&(x.matmul(&w) + &b), &y));
    writeln!(
        out,
        "  α = 1e-5: MSE = {raw_mse_small_lr:.3} (b = {:.4} has barely moved)",
        scalar(&b)
    )?;
    let raw_costs_large_lr = {
        let w = zeros_param(&[3, 1]);
        let b = zeros_param(&[1]);
        let mut costs = Vec::new();
        for _ in 0..6 {
            let cost = mse(&(x.matmul(&w) + &b), &y);
            costs.push(scalar(&cost));
            cost.backward();
            gd_step(&[&w, &b], 1e-4);
        }
        costs
    };
    writeln!(
        out,
        "  α = 1e-4: cost over the first steps {} (diverges)",
        fmt_list(&raw_costs_large_lr, 0)
    )?;

    writeln!(
        out,
        "Standardised features x' = (x − μ)/σ (per column, population σ), {steps} steps, α = 0.1:"
    )?;
    let mu = x.mean_dim(0, true);
    let sigma = x.std_dims(&[0], false, true);
    let xn = (&x - &mu) / &sigma;
    let (w, b) = fit_by_descent(&xn, &y, 0.1, steps);
    let fit = fit_of(&xn, &y, &w, &b);
    let exact = least_squares(&xn, &y);
    writeln!(
        out,
        "  descent:       W = {}, b = {:.3}, MSE = {:.4}",
        fmt_list(&fit.w, 3),
        fit.b,
        fit.mse
    )?;
    writeln!(
        out,
        "  least squares: W = {}, b = {:.3}, MSE = {:.4}",
        fmt_list(&exact.w, 3),
        exact.b,
        exact.mse
    )?;

    let h = values(&(xn.matmul(&w) + &b));
    let xs = values(&x);
    let ys = values(&y);
    writeln!(out, "The notes' five rows:")?;
    writeln!(out, "  quiz 1  quiz 2  midterm   final  predicted")?;
    let mut predictions = Vec::new();
    for i in 0..5 {
        writeln!(
            out,
            "  {:>6}  {:>6}  {:>7}  {:>6}  {:>9.1}",
            xs[3 * i],
            xs[3 * i + 1],
            xs[3 * i + 2],
            ys[i],
            h[i]
        )?;
        predictions.push((h[i], ys[i]));
    }
    Ok(Scores {
        fit,
        least_squares: exact,
        predictions,
        raw_mse_small_lr,
        raw_costs_large_lr,
    })
}
