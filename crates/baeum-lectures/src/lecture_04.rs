//! COURSE §4: logistic classification.
//!
//! For a 0/1 answer the hypothesis is squashed by the sigmoid g(z) = 1/(1 + e^(−z)), and the
//! cost is the logistic (cross-entropy) cost −(1/m) Σ [y log H + (1 − y) log(1 − H)]: its two
//! halves, then gradient descent on hours studied → pass, and on the Pima diabetes table
//! (`data-03-diabetes.csv`).

use std::io::{self, Write};

use baeum::{DType, Generator, Tensor, tensor};

use crate::common::{
    DIABETES_CSV, Table, binary_cross_entropy, fmt_list, gd_step, heading, predict_binary, scalar,
    title, values,
};

/// What the lecture computed.
#[derive(Clone, Debug)]
pub struct Report {
    /// (z, g(z)) on a few points.
    pub sigmoid: Vec<(f64, f64)>,
    /// −log H for y = 1 at H = 1, 0.5, 0: 0, 0.693, ∞.
    pub cost_y1: Vec<(f64, f64)>,
    /// −log(1 − H) for y = 0 at H = 0, 0.5, 1: 0, 0.693, ∞.
    pub cost_y0: Vec<(f64, f64)>,
    /// Hours 1..6 → pass: the probabilities H(x), predictions (H ≥ 0.5) and the final cost.
    pub hours_probabilities: Vec<f64>,
    pub hours_predictions: Vec<f64>,
    pub hours_cost: f64,
    pub hours_w: f64,
    pub hours_b: f64,
    /// The diabetes table: rows, how many are 1, the cost and accuracy after training.
    pub diabetes_rows: usize,
    pub diabetes_positives: usize,
    pub diabetes_cost: f64,
    pub diabetes_accuracy: f64,
}

/// Runs the lecture, printing to `out`.
pub fn run(out: &mut dyn Write) -> io::Result<Report> {
    title(out, 4, "Logistic classification")?;
    writeln!(
        out,
        "Spam (1) or ham (0), show (1) or hide (0): H(x) = g(XW + b) with g(z) = 1 / (1 + e^(−z))"
    )?;
    let sigmoid = sigmoid_table(out)?;
    let (cost_y1, cost_y0) = cost_halves(out)?;
    let hours = hours_to_pass(out)?;
    let diabetes = diabetes(out)?;
    Ok(Report {
        sigmoid,
        cost_y1,
        cost_y0,
        hours_probabilities: hours.probabilities,
        hours_predictions: hours.predictions,
        hours_cost: hours.cost,
        hours_w: hours.w,
        hours_b: hours.b,
        diabetes_rows: diabetes.rows,
        diabetes_positives: diabetes.positives,
        diabetes_cost: diabetes.cost,
        diabetes_accuracy: diabetes.accuracy,
    })
}

fn sigmoid_table(out: &mut dyn Write) -> io::Result<Vec<(f64, f64)>> {
    heading(
        out,
        "The sigmoid (logistic) function squashes any z into (0, 1)",
    )?;
    let zs = [-10.0, -5.0, -1.0, 0.0, 1.0, 5.0, 10.0];
    let z = Tensor::from_vec(zs.to_vec(), [zs.len()]);
    let g = values(&z.sigmoid());
    let mut table = Vec::new();
    for (&zv, &gv) in zs.iter().zip(&g) {
        writeln!(out, "  g({zv:>5}) = {gv:.5}")?;
        table.push((zv, gv));
    }
    Ok(table)
}

type CostTable = Vec<(f64, f64)>;

fn cost_halves(out: &mut dyn Write) -> io::Result<(CostTable, CostTable)> {
    heading(
        out,
        "The cost: C(H(x), y) = −y log H(x) − (1 − y) log(1 − H(x))",
    )?;
    let hs = [1.0, 0.5, 0.0];
    let h = Tensor::from_vec(hs.to_vec(), [3]);
    // + 0.0: −log 1 is −0, printed as 0.
    let y1: Vec<f64> = values(&-h.log()).iter().map(|c| c + 0.0).collect();
    writeln!(out, "  y = 1: −log H(x)")?;
    for (&hv, &c) in hs.iter().zip(&y1) {
        writeln!(out, "    H(x) = {hv:<3}: cost = {}", fmt_cost(c))?;
    }
    let hs0 = [0.0, 0.5, 1.0];
    let h0 = Tensor::from_vec(hs0.to_vec(), [3]);
    let y0: Vec<f64> = values(&-h0.rsub_scalar(1.0).log())
        .iter()
        .map(|c| c + 0.0)
        .collect();
    writeln!(out, "  y = 0: −log(1 − H(x))")?;
    for (&hv, &c) in hs0.iter().zip(&y0) {
        writeln!(out, "    H(x) = {hv:<3}: cost = {}", fmt_cost(c))?;
    }
    writeln!(
        out,
        "  A right answer costs 0; a confidently wrong one costs ∞. The cost is convex in W."
    )?;
    Ok((
        hs.iter().copied().zip(y1).collect(),
        hs0.iter().copied().zip(y0).collect(),
    ))
}

/// A cost as the notes write it: three decimals, ∞ for infinity.
fn fmt_cost(c: f64) -> String {
    if c == f64::INFINITY {
        "∞".to_string()
    } else {
        format!("{c:.3}")
    }
}

struct Hours {
    probabilities: Vec<f64>,
    predictions: Vec<f64>,
    cost: f64,
    w: f64,
    b: f64,
}

fn hours_to_pass(out: &mut dyn Write) -> io::Result<Hours> {
    heading(out, "Hours studied → pass: 1, 2, 3 fail; 4, 5, 6 pass")?;
    let x = tensor!([[1.], [2.], [3.], [4.], [5.], [6.]]);
    let y = tensor!([[0.], [0.], [0.], [1.], [1.], [1.]]);
    let w = Tensor::zeros([1, 1]).requires_grad_(true);
    let b = Tensor::zeros([1]).requires_grad_(true);
    let (lr, steps) = (0.5, 1000);
    writeln!(
        out,
        "H(x) = g(xW + b); W := W − α ∂cost/∂W with α = {lr}, from W = b = 0"
    )?;
    for step in 0..=steps {
        let h = x.matmul(&w).add(&b).sigmoid();
        let cost = binary_cross_entropy(&h, &y);
        if [0, 10, 100, 500, 1000].contains(&step) {
            writeln!(
                out,
                "  step {step:>4}: cost = {:.5}, W = {:.4}, b = {:.4}",
                scalar(&cost),
                scalar(&w),
                scalar(&b)
            )?;
        }
        if step == steps {
            break;
        }
        cost.backward();
        gd_step(&[&w, &b], lr);
    }
    let h = x.matmul(&w).add(&b).sigmoid();
    let cost = scalar(&binary_cross_entropy(&h, &y));
    let probabilities = values(&h);
    let predictions = values(&predict_binary(&h));
    writeln!(out, "  hours:        [1, 2, 3, 4, 5, 6]")?;
    writeln!(out, "  H(x):         {}", fmt_list(&probabilities, 3))?;
    writeln!(out, "  H(x) ≥ 0.5:   {}", fmt_list(&predictions, 0))?;
    Ok(Hours {
        probabilities,
        predictions,
        cost,
        w: scalar(&w),
        b: scalar(&b),
    })
}

struct Diabetes {
    rows: usize,
    positives: usize,
    cost: f64,
    accuracy: f64,
}

fn diabetes(out: &mut dyn Write) -> io::Result<Diabetes> {
    heading(out, "Classifying diabetes (data-03-diabetes.csv)")?;
    let table = Table::embedded(DIABETES_CSV);
    let x = table.features();
    let y = table.target();
    let positives = values(&y).iter().filter(|&&v| v == 1.0).count();
    writeln!(
        out,
        "{} patients, 8 measurements each (already scaled to [−1, 1]) → 0/1; {} are 1, so \
         always answering 1 would be right {:.3} of the time.",
        table.rows,
        positives,
        positives as f64 / table.rows as f64
    )?;
    let mut g = Generator::new(4);
    let w = Tensor::normal_with([8, 1], 0.0, 1.0, DType::F32, &mut g).requires_grad_(true);
    let b = Tensor::normal_with([1], 0.0, 1.0, DType::F32, &mut g).requires_grad_(true);
    let (lr, steps) = (1.0, 1000);
    writeln!(
        out,
        "H(X) = g(XW + b), W [8, 1] ~ N(0, 1) (seed 4), α = {lr}, {steps} steps"
    )?;
    for step in 0..=steps {
        let h = x.matmul(&w).add(&b).sigmoid();
        let cost = binary_cross_entropy(&h, &y);
        if step % 250 == 0 {
            let acc = scalar(&predict_binary(&h).eq(&y).to_f64().mean());
            writeln!(
                out,
                "  step {step:>4}: cost = {:.5}, accuracy = {acc:.4}",
                scalar(&cost)
            )?;
        }
        if step == steps {
            break;
        }
        cost.backward();
        gd_step(&[&w, &b], lr);
    }
    let h = x.matmul(&w).add(&b).sigmoid();
    let cost = scalar(&binary_cross_entropy(&h, &y));
    let accuracy = scalar(&predict_binary(&h).eq(&y).to_f64().mean());
    writeln!(
        out,
        "Training accuracy {accuracy:.4} (the original lab, 10 001 steps with α = 0.01: 0.7628)."
    )?;
    Ok(Diabetes {
        rows: table.rows,
        positives,
        cost,
        accuracy,
    })
}
