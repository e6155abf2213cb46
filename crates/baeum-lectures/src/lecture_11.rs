//! COURSE §11: the optimizers of the notes' family tree on one problem.
//!
//! Every optimizer (SGD, Momentum, NAG, Adagrad, RMSProp, AdaDelta, Adam, NAdam) walks the
//! Rosenbrock valley f(x, y) = (1 − x)² + 100 (y − x²)² from (−1.5, 2) for the same number of
//! steps, each with a learning rate tuned for it; the minimum is f(1, 1) = 0. The paths are
//! drawn into one SVG picture by [`save_picture`].

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use baeum::Tensor;
use baeum::optim::{Adadelta, Adagrad, Adam, NAdam, Optimizer, Rmsprop, Sgd};

use baeum_plot::{Anchor, PALETTE, Svg};

use crate::common::{heading, or_io, title};

/// The start point of every run.
pub const START: (f64, f64) = (-1.5, 2.0);
/// Steps every optimizer takes.
pub const STEPS: usize = 2000;
/// A point of the path is kept every this many steps.
const KEEP_EVERY: usize = 10;

/// One optimizer's run.
#[derive(Clone, Debug)]
pub struct Run {
    pub name: &'static str,
    pub lr: f64,
    /// f at the start and at the end.
    pub start_loss: f64,
    pub loss: f64,
    /// The final point.
    pub x: f64,
    pub y: f64,
    /// The points visited, every few steps, from the start to the end.
    pub path: Vec<(f64, f64)>,
}

impl Run {
    /// Distance of the final point from the minimum (1, 1).
    pub fn distance_to_minimum(&self) -> f64 {
        ((self.x - 1.0).powi(2) + (self.y - 1.0).powi(2)).sqrt()
    }
}

/// What the lecture computed: one run per optimizer, in the notes' order.
#[derive(Clone, Debug)]
pub struct Report {
    pub runs: Vec<Run>,
}

/// The Rosenbrock function (1 − x)² + 100 (y − x²)², differentiable.
pub fn rosenbrock(x: &Tensor, y: &Tensor) -> Tensor {
    let a = x.rsub_scalar(1.0);
    let b = y - &x.square();
    (a.square() + b.square() * 100.0).sum()
}

type MakeOptimizer = fn(Vec<Tensor>, f64) -> Box<dyn Optimizer>;

/// The optimizers of the notes, each with the learning rate it gets here.
pub fn optimizers() -> Vec<(&'static str, f64, MakeOptimizer)> {
    fn sgd(p: Vec<Tensor>, lr: f64) -> Box<dyn Optimizer> {
        Box::new(Sgd::new(p, lr))
    }
    fn momentum(p: Vec<Tensor>, lr: f64) -> Box<dyn Optimizer> {
        Box::new(Sgd::new(p, lr).momentum(0.9))
    }
    fn nag(p: Vec<Tensor>, lr: f64) -> Box<dyn Optimizer> {
        Box::new(Sgd::new(p, lr).momentum(0.9).nesterov(true))
    }
    fn adagrad(p: Vec<Tensor>, lr: f64) -> Box<dyn Optimizer> {
        Box::new(Adagrad::new(p, lr))
    }
    fn rmsprop(p: Vec<Tensor>, lr: f64) -> Box<dyn Optimizer> {
        Box::new(Rmsprop::new(p, lr))
    }
    fn adadelta(p: Vec<Tensor>, lr: f64) -> Box<dyn Optimizer> {
        Box::new(Adadelta::new(p, lr))
    }
    fn adam(p: Vec<Tensor>, lr: f64) -> Box<dyn Optimizer> {
        Box::new(Adam::new(p, lr))
    }
    fn nadam(p: Vec<Tensor>, lr: f64) -> Box<dyn Optimizer> {
        Box::new(NAdam::new(p, lr))
    }
    vec![
        ("SGD", 5e-4, sgd as MakeOptimizer),
        ("Momentum", 5e-4, momentum),
        ("NAG", 5e-4, nag),
        ("Adagrad", 1.0, adagrad),
        ("RMSProp", 3e-3, rmsprop),
        ("AdaDelta", 1.0, adadelta),
        ("Adam", 0.03, adam),
        ("NAdam", 0.03, nadam),
    ]
}

/// Runs one optimizer from [`START`] for `steps` steps (in f64).
pub fn descend(
    name: &'static str,
    lr: f64,
    make: MakeOptimizer,
    steps: usize,
) -> baeum::Result<Run> {
    let x = Tensor::from_vec(vec![START.0], [1]).requires_grad_(true);
    let y = Tensor::from_vec(vec![START.1], [1]).requires_grad_(true);
    let mut opt = make(vec![x.clone(), y.clone()], lr);
    let start_loss = rosenbrock(&x, &y).item_f64();
    let mut path = vec![START];
    for step in 1..=steps {
        opt.zero_grad();
        rosenbrock(&x, &y).backward();
        opt.step()?;
        if step % KEEP_EVERY == 0 || step == steps {
            path.push((x.item_f64(), y.item_f64()));
        }
    }
    let loss = baeum::autograd::no_grad(|| rosenbrock(&x, &y)).item_f64();
    Ok(Run {
        name,
        lr,
        start_loss,
        loss,
        x: x.item_f64(),
        y: y.item_f64(),
        path,
    })
}

/// Runs the lecture, printing to `out`.
pub fn run(out: &mut dyn Write) -> io::Result<Report> {
    title(out, 11, "Optimizers")?;
    writeln!(
        out,
        "GD → SGD; Momentum; NAG; Adagrad; RMSProp; AdaDelta; Adam (RMSProp + Momentum); NAdam \
         (Adam with NAG)"
    )?;
    heading(
        out,
        "The Rosenbrock valley f(x, y) = (1 − x)² + 100 (y − x²)², from (−1.5, 2)",
    )?;
    writeln!(
        out,
        "  {STEPS} steps each; the minimum is f(1, 1) = 0; f(−1.5, 2) = 12.5"
    )?;
    writeln!(
        out,
        "  optimizer       lr          final (x, y)           f(x, y)   distance to (1, 1)"
    )?;
    let mut runs = Vec::new();
    for (name, lr, make) in optimizers() {
        let r = or_io(descend(name, lr, make, STEPS))?;
        writeln!(
            out,
            "  {name:<9} {lr:>8}   ({:>9.5}, {:>9.5})   {:>12.4e}   {:>8.5}",
            r.x,
            r.y,
            r.loss,
            r.distance_to_minimum()
        )?;
        runs.push(r);
    }
    writeln!(
        out,
        "  Plain SGD crawls along the curved valley floor (a larger rate diverges on its steep \
         walls); momentum and the adaptive methods get much closer to (1, 1)."
    )?;
    Ok(Report { runs })
}

/// The picture's window on the plane: x in [−2, 2], y in [−1, 3].
const VIEW: (f64, f64, f64, f64) = (-2.0, 2.0, -1.0, 3.0);
const SIZE: f64 = 600.0;

fn to_pixels(x: f64, y: f64) -> (f64, f64) {
    let (x0, x1, y0, y1) = VIEW;
    ((x - x0) / (x1 - x0) * SIZE, (y1 - y) / (y1 - y0) * SIZE)
}

/// The runs as an SVG picture: a few level lines of f (as dots where f is near each level),
/// the minimum, every path as a polyline, and a legend.
pub fn svg(report: &Report) -> String {
    let mut svg = Svg::new(SIZE + 180.0, SIZE);
    // Level lines: grid points whose f lies within a small band of a level, as grey dots.
    let levels = [0.5, 2.0, 8.0, 32.0, 128.0, 512.0];
    let n = 240;
    for i in 0..=n {
        for j in 0..=n {
            let x = VIEW.0 + (VIEW.1 - VIEW.0) * i as f64 / n as f64;
            let y = VIEW.2 + (VIEW.3 - VIEW.2) * j as f64 / n as f64;
            let f = (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2);
            if levels.iter().any(|&l| (f / l).ln().abs() < 0.04) {
                let (px, py) = to_pixels(x, y);
                svg.circle(px, py, 0.8, "#bbbbbb");
            }
        }
    }
    for (run, colour) in report.runs.iter().zip(PALETTE.iter().cycle()) {
        let points: Vec<(f64, f64)> = run
            .path
            .iter()
            .map(|&(x, y)| to_pixels(x.clamp(-10.0, 10.0), y.clamp(-10.0, 10.0)))
            .collect();
        svg.polyline(&points, colour, 1.5, false);
    }
    let (mx, my) = to_pixels(1.0, 1.0);
    let (sx, sy) = to_pixels(START.0, START.1);
    svg.circle(mx, my, 4.0, "black");
    svg.text(mx + 6.0, my, "minimum (1, 1)", Anchor::Start, 12.0, "black");
    svg.ring(sx, sy, 4.0, "black");
    svg.text(
        sx + 6.0,
        sy - 6.0,
        "start (−1.5, 2)",
        Anchor::Start,
        12.0,
        "black",
    );
    let labels: Vec<String> = report
        .runs
        .iter()
        .map(|run| format!("{} (lr {})", run.name, run.lr))
        .collect();
    let legend: Vec<(&str, &str, bool)> = labels
        .iter()
        .zip(PALETTE.iter().cycle())
        .map(|(label, colour)| (label.as_str(), *colour, false))
        .collect();
    svg.legend(SIZE + 10.0, 20.0, &legend);
    svg.finish()
}

/// Writes `optimizers.svg` into `dir` (created if missing); returns its path.
pub fn save_picture(report: &Report, dir: &Path) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("optimizers.svg");
    std::fs::write(&path, svg(report))?;
    Ok(path)
}
