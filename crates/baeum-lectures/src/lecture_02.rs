//! COURSE §2: linear regression, cost, gradient descent.
//!
//! H(x) = Wx + b and its cost, the mean squared error (1/m) Σ (H(x⁽ⁱ⁾) − y⁽ⁱ⁾)²: the cost curve
//! of the notes on x = y = [1, 2, 3], the ten-point example (MSE 0.8), gradient descent from a
//! poor start with autograd computing ∂cost/∂W, a learning-rate sweep (too small, right, too
//! large), and the chain rule on f(x) = (x + 2)².

use std::io::{self, Write};

use baeum::autograd::no_grad;
use baeum::{DType, Tensor, tensor};

use crate::common::{fmt_list, fmt_wide, heading, mse, scalar, title, values};

/// What the lecture computed.
#[derive(Clone, Debug)]
pub struct Report {
    /// (W, cost(W)) for H = Wx on x = y = [1, 2, 3], over a range of W including 0, 1 and 2.
    pub cost_curve: Vec<(f64, f64)>,
    /// The notes' ten points, two of them 2 off the line: (0² + … + 2² + … + 2² + 0²)/10.
    pub ten_point_mse: f64,
    /// ∂cost/∂W at W = 5 (H = Wx) by autograd, and by the notes' formula (2/m) Σ (Wx − y)x.
    pub grad_autograd: f64,
    pub grad_formula: f64,
    /// Gradient descent on H = Wx + b from W = −3, b = 5: (step, W, b, cost) along the way.
    pub descent: Vec<(usize, f64, f64, f64)>,
    /// The learning-rate sweep on H = Wx from W = 5.
    pub sweep: Vec<LrRun>,
    /// The largest learning rate for which descent on this cost converges: 2 / cost''(W).
    pub critical_lr: f64,
    /// The chain rule on f(x) = (x + 2)² at a few points.
    pub chain: Vec<ChainPoint>,
}

/// How gradient descent went for one learning rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// W is within 10⁻³ of the minimum.
    Converged,
    /// The cost went down, but W is still far from the minimum: steps too small.
    Slow,
    /// The cost went down while W jumped back and forth across the minimum.
    Oscillating,
    /// The cost grew: each step overshoots more than the last.
    Diverged,
}

/// One run of the learning-rate sweep.
#[derive(Clone, Debug)]
pub struct LrRun {
    pub lr: f64,
    pub steps: usize,
    pub final_w: f64,
    pub start_cost: f64,
    pub final_cost: f64,
    pub outcome: Outcome,
}

/// f(x) = (x + 2)² at one x: the value and the derivative three ways.
#[derive(Clone, Debug)]
pub struct ChainPoint {
    pub x: f64,
    pub f: f64,
    /// ∂f/∂x from `backward()`.
    pub autograd: f64,
    /// The chain rule by hand: 2(x + 2).
    pub formula: f64,
    /// The definition: (f(x + h) − f(x − h)) / 2h with h = 10⁻⁴.
    pub finite_difference: f64,
}

/// Runs the lecture, printing to `out`.
pub fn run(out: &mut dyn Write) -> io::Result<Report> {
    title(out, 2, "Linear regression, cost, gradient descent")?;
    writeln!(
        out,
        "Hypothesis H(x) = Wx + b; cost(W, b) = (1/m) Σ (H(x⁽ⁱ⁾) − y⁽ⁱ⁾)²"
    )?;

    let cost_curve = cost_curve(out)?;
    let ten_point_mse = ten_points(out)?;
    let (grad_autograd, grad_formula) = gradient_by_autograd(out)?;
    let descent = descent(out)?;
    let (sweep, critical_lr) = learning_rate_sweep(out)?;
    let chain = chain_rule(out)?;
    Ok(Report {
        cost_curve,
        ten_point_mse,
        grad_autograd,
        grad_formula,
        descent,
        sweep,
        critical_lr,
        chain,
    })
}

/// x = y = [1, 2, 3], the notes' table.
fn xy() -> (Tensor, Tensor) {
    (tensor!([1., 2., 3.]), tensor!([1., 2., 3.]))
}

fn cost_curve(out: &mut dyn Write) -> io::Result<Vec<(f64, f64)>> {
    heading(
        out,
        "What cost(W) looks like: H(x) = Wx on x = y = [1, 2, 3]",
    )?;
    writeln!(
        out,
        "cost(W) = (1/3) ((W·1 − 1)² + (W·2 − 2)² + (W·3 − 3)²)"
    )?;
    let (x, y) = xy();
    let mut curve = Vec::new();
    for w in [-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0] {
        let cost = scalar(&mse(&(&x * w), &y));
        let bar = "█".repeat((cost * 2.0).round() as usize);
        let note = if [0.0, 1.0, 2.0].contains(&w) {
            "  ← the notes"
        } else {
            ""
        };
        writeln!(out, "  W = {w:>4}: cost = {cost:>6.2}  {bar}{note}")?;
        curve.push((w, cost));
    }
    writeln!(
        out,
        "A bowl (convex) with its minimum 0 at W = 1: gradient descent cannot get stuck."
    )?;
    Ok(curve)
}

fn ten_points(out: &mut dyn Write) -> io::Result<f64> {
    heading(out, "Ten points, two of them 2 off the line")?;
    // Eight points on the line y = x, two (the 4th and 8th) lie 2 above it.
    let x = Tensor::arange_step(1.0, 11.0, 1.0, DType::F32);
    let mut yv: Vec<f32> = (1..=10).map(|i| i as f32).collect();
    yv[3] += 2.0;
    yv[7] += 2.0;
    let y = Tensor::from_vec(yv, [10]);
    let h = x.clone(); // the line H(x) = x
    let errors = values(&(&h - &y));
    let squares: Vec<String> = errors.iter().map(|e| format!("{}²", e.abs())).collect();
    let m = scalar(&mse(&h, &y));
    writeln!(out, "MSE = ({}) / 10 = {m:.1}", squares.join(" + "))?;
    writeln!(
        out,
        "Squaring amplifies: an offset of 2 costs 4 times what an offset of 1 does."
    )?;
    Ok(m)
}

fn gradient_by_autograd(out: &mut dyn Write) -> io::Result<(f64, f64)> {
    heading(out, "The gradient: autograd and the notes' formula")?;
    let (x, y) = xy();
    let w = tensor!(5.0).requires_grad_(true);
    let cost = mse(&(&x * &w), &y);
    cost.backward();
    let by_autograd = scalar(&w.grad().expect("w gets a gradient"));
    // The notes' update W := W − α (1/m) Σ (Wx − y)x comes from cost/2 (the 1/2m form), so
    // the derivative of the plain mean is twice that sum.
    let by_formula = no_grad(|| 2.0 * scalar(&((&x * &w - &y) * &x).mean()));
    writeln!(out, "At W = 5, ∂cost/∂W:")?;
    writeln!(out, "  cost.backward(); w.grad()     = {by_autograd:.4}")?;
    writeln!(out, "  (2/m) Σ (Wx⁽ⁱ⁾ − y⁽ⁱ⁾) x⁽ⁱ⁾    = {by_formula:.4}")?;
    writeln!(
        out,
        "(The notes differentiate cost/2 = (1/2m) Σ (Wx − y)², so their update reads \
         W := W − α (1/m) Σ (Wx − y)x: the same direction, half the step.)"
    )?;
    Ok((by_autograd, by_formula))
}

fn descent(out: &mut dyn Write) -> io::Result<Vec<(usize, f64, f64, f64)>> {
    heading(
        out,
        "Gradient descent on H(x) = Wx + b, from a poor start W = −3, b = 5",
    )?;
    writeln!(
        out,
        "Repeat: W := W − α ∂cost/∂W, b := b − α ∂cost/∂b   (α = 0.1)"
    )?;
    let (x, y) = xy();
    let w = tensor!(-3.0).requires_grad_(true);
    let b = tensor!(5.0).requires_grad_(true);
    let lr = 0.1;
    let steps = 500;
    let mut trace = Vec::new();
    for step in 0..=steps {
        let h = &x * &w + &b;
        let cost = mse(&h, &y);
        if [0, 1, 2, 5, 10, 20, 50, 100, 200, 500].contains(&step) {
            let row = (step, scalar(&w), scalar(&b), scalar(&cost));
            writeln!(
                out,
                "  step {:>3}: W = {:>8.4}, b = {:>8.4}, cost = {:.6}",
                row.0, row.1, row.2, row.3
            )?;
            trace.push(row);
        }
        if step == steps {
            break;
        }
        cost.backward();
        // The gradient-descent step, written out: update under no_grad, then clear the grads.
        no_grad(|| {
            w.sub_(&(&w.grad().unwrap() * lr));
            b.sub_(&(&b.grad().unwrap() * lr));
        });
        w.zero_grad();
        b.zero_grad();
    }
    writeln!(out, "It reaches the line through the data: W ≈ 1, b ≈ 0.")?;
    Ok(trace)
}

fn learning_rate_sweep(out: &mut dyn Write) -> io::Result<(Vec<LrRun>, f64)> {
    heading(
        out,
        "The learning rate: large enough to converge, small enough not to diverge",
    )?;
    let (x, y) = xy();
    // cost(W) is a parabola with cost'' = (2/m) Σ x² = 28/3; a step multiplies the distance to
    // the minimum by (1 − α·cost''), so descent converges exactly when α < 2 / cost''.
    let curvature = 2.0 * scalar(&(&x * &x).mean());
    let critical_lr = 2.0 / curvature;
    writeln!(
        out,
        "H(x) = Wx from W = 5, 50 steps each. cost''(W) = (2/m) Σ x² = {curvature:.3}, so \
         descent converges for α < 2 / cost'' = {critical_lr:.3}."
    )?;
    let steps = 50;
    let mut runs = Vec::new();
    for lr in [0.001, 0.01, 0.1, 0.2, 0.25, 0.5] {
        let w = tensor!(5.0).requires_grad_(true);
        let start_cost = scalar(&mse(&(&x * &w), &y));
        let mut crossed = false;
        for _ in 0..steps {
            let cost = mse(&(&x * &w), &y);
            cost.backward();
            let before = scalar(&w);
            no_grad(|| w.sub_(&(&w.grad().unwrap() * lr)));
            w.zero_grad();
            crossed |= (before - 1.0) * (scalar(&w) - 1.0) < 0.0;
        }
        let final_w = scalar(&w);
        let final_cost = scalar(&mse(&(&x * &w), &y));
        let outcome = if final_cost.is_nan() || final_cost >= start_cost {
            Outcome::Diverged
        } else if (final_w - 1.0).abs() < 1e-3 {
            Outcome::Converged
        } else if crossed {
            Outcome::Oscillating
        } else {
            Outcome::Slow
        };
        let says = match outcome {
            Outcome::Converged => "converged",
            Outcome::Slow => "too small: still on the way",
            Outcome::Oscillating => "jumps across the minimum, slowly settling",
            Outcome::Diverged => "too large: diverges",
        };
        writeln!(
            out,
            "  α = {lr:<5}: W = {}, cost = {}  ({says})",
            fmt_wide(final_w),
            fmt_wide(final_cost)
        )?;
        runs.push(LrRun {
            lr,
            steps,
            final_w,
            start_cost,
            final_cost,
            outcome,
        });
    }
    Ok((runs, critical_lr))
}

fn chain_rule(out: &mut dyn Write) -> io::Result<Vec<ChainPoint>> {
    heading(out, "Derivatives and the chain rule: f(x) = (x + 2)²")?;
    writeln!(
        out,
        "t = x + 2, f = t²: ∂f/∂x = ∂f/∂t · ∂t/∂x = 2t · 1 = 2(x + 2)"
    )?;
    let xs = [-3.0, -2.0, 0.0, 1.5];
    let x = Tensor::from_vec(xs.to_vec(), [xs.len()]).requires_grad_(true);
    let t = &x + 2.0;
    let f = &t * &t;
    // Summing the independent f(xᵢ) gives each xᵢ its own derivative in one backward.
    f.sum().backward();
    let grads = values(&x.grad().expect("x gets a gradient"));
    let fs = values(&f);
    let f_at = |v: f64| (v + 2.0) * (v + 2.0);
    let h = 1e-4;
    writeln!(
        out,
        "  {:>5}  {:>7}  {:>9}  {:>9}  {:>18}",
        "x", "f(x)", "autograd", "2(x + 2)", "(f(x+h)−f(x−h))/2h"
    )?;
    let mut points = Vec::new();
    for (i, &xv) in xs.iter().enumerate() {
        let p = ChainPoint {
            x: xv,
            f: fs[i],
            autograd: grads[i],
            formula: 2.0 * (xv + 2.0),
            // + 0.0 turns the −0 of a symmetric difference at the minimum into 0.
            finite_difference: (f_at(xv + h) - f_at(xv - h)) / (2.0 * h) + 0.0,
        };
        writeln!(
            out,
            "  {:>5}  {:>7.3}  {:>9.4}  {:>9.4}  {:>18.4}",
            p.x, p.f, p.autograd, p.formula, p.finite_difference
        )?;
        points.push(p);
    }
    writeln!(out, "All three agree: {}", fmt_list(&grads, 1))?;
    Ok(points)
}
