//! COURSE §6: softmax and cross-entropy.
//!
//! Scores become probabilities through the softmax, one-hot labels say which class is right,
//! and the cross-entropy D(S, L) = −Σ Lᵢ log Sᵢ costs 0 for a right answer and ∞ for a
//! confidently wrong one. Computed from the logits it stays finite where the textbook formula
//! overflows. Then two softmax classifiers: the grades table (hours, attendance → A/B/C) and
//! the animals of `data-04-zoo.csv` (16 features, 7 classes), the latter twice: written out on
//! tensors, then with the library's layer, loss and optimizer (`nn::Linear`,
//! `nn::CrossEntropyLoss`, `optim::Sgd`) from the same initial weights, which ends at the same
//! place.

use std::io::{self, Write};

use baeum::nn::{CrossEntropyLoss, Forward, Linear, Loss, ModuleExt};
use baeum::optim::{Optimizer, Sgd};
use baeum::{DType, Generator, Tensor, tensor};

use crate::common::{
    Table, ZOO_CSV, accuracy, cross_entropy_with_logits, fmt_list, gd_step, heading, or_io, scalar,
    title, values, xavier_normal, zeros_param,
};

/// What the lecture computed.
#[derive(Clone, Debug)]
pub struct Report {
    /// softmax([2.0, 1.0, 0.1]).
    pub softmax: Vec<f64>,
    /// One-hot rows of the labels [0, 2, 1] with 3 classes.
    pub one_hot: Vec<Vec<f64>>,
    /// D(Ŷ, L) with L = [0, 1]: Ŷ = [0, 1] (right) costs 0, Ŷ = [1, 0] (wrong) costs ∞.
    pub cross_entropy_right: f64,
    pub cross_entropy_wrong: f64,
    /// Cross-entropy of the scores [2.0, 1.0, 0.1] with label A: from the probabilities and
    /// from the logits (the same number).
    pub cross_entropy_probabilities: f64,
    pub cross_entropy_logits: f64,
    /// Logits [1000, 0] with label B: the textbook route (e^1000 overflows, so P(B) = 1/∞ = 0
    /// and the cost is ∞) and from the logits (exactly 1000).
    pub large_logits_naive: f64,
    pub large_logits_stable: f64,
    /// The grades table: predicted classes (0 = A, 1 = B, 2 = C) and accuracy.
    pub grades_predictions: Vec<i64>,
    pub grades_accuracy: f64,
    /// The zoo: training cost and accuracy after training.
    pub zoo_rows: usize,
    pub zoo_features: usize,
    pub zoo_classes: usize,
    pub zoo_cost: f64,
    pub zoo_accuracy: f64,
    /// The zoo again with `nn::Linear`, `nn::CrossEntropyLoss` and `optim::Sgd`, from the same
    /// initial weights, learning rate and number of steps.
    pub zoo_layers: ZooLayers,
}

/// How the layer/optimizer version of the zoo classifier ended.
#[derive(Clone, Debug)]
pub struct ZooLayers {
    /// The cost printed along the way: (step, cost).
    pub costs: Vec<(usize, f64)>,
    pub cost: f64,
    pub accuracy: f64,
    /// The largest difference from the tensor version's trained W and b.
    pub max_weight_difference: f64,
}

/// Runs the lecture, printing to `out`.
pub fn run(out: &mut dyn Write) -> io::Result<Report> {
    title(out, 6, "Softmax and cross-entropy")?;

    heading(out, "Scores → probabilities: S(yᵢ) = e^(yᵢ) / Σⱼ e^(yⱼ)")?;
    let scores = tensor!([2.0, 1.0, 0.1]);
    let p = scores.softmax(0);
    let softmax = values(&p);
    writeln!(out, "  scores   {}", fmt_list(&values(&scores), 1))?;
    writeln!(
        out,
        "  softmax  {}   (the notes round: 0.7, 0.2, 0.1); sum = {:.3}",
        fmt_list(&softmax, 3),
        scalar(&p.sum())
    )?;
    writeln!(
        out,
        "  The largest score wins: argmax = {} (class A)",
        scalar(&p.argmax())
    )?;

    heading(out, "One-hot encoding: the label as a probability vector")?;
    let labels = Tensor::from_vec(vec![0i64, 2, 1], [3]);
    let one_hot_t = labels.one_hot(Some(3));
    let one_hot: Vec<Vec<f64>> = (0..3)
        .map(|r| values(&one_hot_t.select(0, r as isize)))
        .collect();
    for (label, row) in ["A", "C", "B"].iter().zip(&one_hot) {
        writeln!(out, "  {label} → {}", fmt_list(row, 0))?;
    }

    heading(out, "Cross-entropy: D(S, L) = −Σᵢ Lᵢ log Sᵢ")?;
    let l = tensor!([0.0, 1.0]);
    let right = cross_entropy(&tensor!([0.0, 1.0]), &l);
    let wrong = cross_entropy(&tensor!([1.0, 0.0]), &l);
    writeln!(out, "  L = [0, 1] (B):")?;
    writeln!(
        out,
        "    Ŷ = [0, 1] (B, right): [0, 1] · −log [0, 1] = [0, 1] · [∞, 0] = {}",
        show(right)
    )?;
    writeln!(
        out,
        "    Ŷ = [1, 0] (A, wrong): [0, 1] · −log [1, 0] = [0, 1] · [0, ∞] = {}",
        show(wrong)
    )?;
    writeln!(
        out,
        "  (0 · ∞ counts as 0 here: a class that is not the label adds nothing.)"
    )?;

    heading(
        out,
        "softmax_cross_entropy_with_logits: from the scores, numerically stable",
    )?;
    let label_a = tensor!([[1.0, 0.0, 0.0]]);
    let logits = scores.reshape(&[1, 3]);
    let cross_entropy_probabilities = cross_entropy(&p, &label_a.reshape(&[3]));
    let cross_entropy_logits = scalar(&cross_entropy_with_logits(&logits, &label_a));
    writeln!(
        out,
        "  scores [2.0, 1.0, 0.1], label A: −Σ L log softmax = {cross_entropy_probabilities:.4}; \
         from the logits = {cross_entropy_logits:.4}"
    )?;
    // The textbook route: e^1000 overflows to ∞, so P(B) = 1/∞ = 0 and −log 0 = ∞. From the
    // logits, log softmax = z − max z − log Σ e^(z − max z) never exponentiates anything above 0.
    let big = tensor!([[1000.0, 0.0]]);
    let label_b = tensor!([[0.0, 1.0]]);
    let e = big.exp();
    let naive_p = &e / &e.sum_dim(1, true);
    let large_logits_naive = cross_entropy(&naive_p.reshape(&[2]), &label_b.reshape(&[2]));
    let large_logits_stable = scalar(&cross_entropy_with_logits(&big, &label_b));
    writeln!(
        out,
        "  scores [1000, 0], label B: e^z / Σ e^z then −log gives {}; from the logits: {}",
        show(large_logits_naive),
        show(large_logits_stable)
    )?;

    let (grades_predictions, grades_accuracy) = grades(out)?;
    let zoo = zoo(out)?;
    let zoo_layers = zoo_layers(out, &zoo)?;
    Ok(Report {
        softmax,
        one_hot,
        cross_entropy_right: right,
        cross_entropy_wrong: wrong,
        cross_entropy_probabilities,
        cross_entropy_logits,
        large_logits_naive,
        large_logits_stable,
        grades_predictions,
        grades_accuracy,
        zoo_rows: zoo.rows,
        zoo_features: zoo.features,
        zoo_classes: zoo.classes,
        zoo_cost: zoo.cost,
        zoo_accuracy: zoo.accuracy,
        zoo_layers,
    })
}

/// A number as the notes write it: ∞ for infinity.
fn show(v: f64) -> String {
    if v == f64::INFINITY {
        "∞".to_string()
    } else {
        format!("{v}")
    }
}

/// D(S, L) = −Σ Lᵢ log Sᵢ for one prediction, with 0 · log 0 taken as 0 (the label's zeros
/// select nothing, even where the prediction is 0).
fn cross_entropy(s: &Tensor, l: &Tensor) -> f64 {
    let terms = l * s.log();
    let terms = Tensor::where_(&l.eq_scalar(0.0), &terms.zeros_like(), &terms);
    // 0 − x rather than −x: a right answer prints as 0, not −0.
    0.0 - scalar(&terms.sum())
}

/// Trains a softmax classifier logits = XW + b by gradient descent on the cross-entropy;
/// returns (W, b) and prints the cost at a few steps.
fn train_softmax(
    out: &mut dyn Write,
    x: &Tensor,
    one_hot: &Tensor,
    w: Tensor,
    lr: f64,
    steps: usize,
) -> io::Result<(Tensor, Tensor)> {
    let b = zeros_param(&[one_hot.size(1)]);
    for step in 0..=steps {
        let logits = x.matmul(&w) + &b;
        let cost = cross_entropy_with_logits(&logits, one_hot);
        if step % (steps / 4) == 0 {
            writeln!(out, "  step {step:>4}: cost = {:.5}", scalar(&cost))?;
        }
        if step == steps {
            break;
        }
        cost.backward();
        gd_step(&[&w, &b], lr);
    }
    Ok((w, b))
}

fn grades(out: &mut dyn Write) -> io::Result<(Vec<i64>, f64)> {
    heading(
        out,
        "Multinomial classification: hours, attendance → grade A/B/C",
    )?;
    let x = tensor!([[10., 5.], [9., 5.], [3., 2.], [2., 4.], [11., 1.]]);
    let y = Tensor::from_vec(vec![0i64, 0, 1, 1, 2], [5]);
    let one_hot = y.one_hot(Some(3)).to_f32();
    writeln!(
        out,
        "logits = XW + b, W [2, 3] (one column of weights per grade), α = 0.1, 2000 steps"
    )?;
    let w = zeros_param(&[2, 3]);
    let (w, b) = train_softmax(out, &x, &one_hot, w, 0.1, 2000)?;
    let logits = x.matmul(&w) + &b;
    let predicted = logits.argmax_dim(1, false);
    let probabilities = logits.softmax(1);
    let names = ["A", "B", "C"];
    let pv = predicted.to_vec::<i64>();
    let truth = y.to_vec::<i64>();
    for i in 0..5 {
        writeln!(
            out,
            "  {:?} → P = {}  predicted {} (true {})",
            values(&x.select(0, i as isize)),
            fmt_list(&values(&probabilities.select(0, i as isize)), 3),
            names[pv[i] as usize],
            names[truth[i] as usize]
        )?;
    }
    let acc = accuracy(&predicted, &y);
    writeln!(out, "  accuracy {acc:.2}")?;
    Ok((pv, acc))
}

struct Zoo {
    rows: usize,
    features: usize,
    classes: usize,
    cost: f64,
    accuracy: f64,
    /// The trained parameters: W [16, 7] and b [7].
    w: Tensor,
    b: Tensor,
}

/// The zoo classifier's seed, learning rate and number of steps.
const ZOO_SEED: u64 = 6;
const ZOO_LR: f64 = 0.5;
const ZOO_STEPS: usize = 1000;

fn zoo(out: &mut dyn Write) -> io::Result<Zoo> {
    heading(out, "Animal classification (data-04-zoo.csv)")?;
    let table = Table::embedded(ZOO_CSV);
    let x = table.features();
    let y = table.labels();
    let classes = 7;
    let one_hot = y.one_hot(Some(classes)).to_dtype(DType::F32);
    writeln!(
        out,
        "{} animals, {} attributes (hair, feathers, eggs, milk, …, legs, tail, domestic, \
         catsize) → type 0–6",
        table.rows,
        x.size(1)
    )?;
    writeln!(
        out,
        "logits = XW + b, W [16, 7] Xavier-normal (seed 6), cost = mean −Σ onehot · log \
         softmax(logits), α = {ZOO_LR}, {ZOO_STEPS} steps"
    )?;
    let mut g = Generator::new(ZOO_SEED);
    let w = xavier_normal(x.size(1), classes, &mut g);
    let (w, b) = train_softmax(out, &x, &one_hot, w, ZOO_LR, ZOO_STEPS)?;
    let logits = x.matmul(&w) + &b;
    let cost = scalar(&cross_entropy_with_logits(&logits, &one_hot));
    let predicted = logits.argmax_dim(1, false);
    let acc = accuracy(&predicted, &y);
    let pv = predicted.to_vec::<i64>();
    let truth = y.to_vec::<i64>();
    let shown: Vec<String> = (0..10).map(|i| format!("{}/{}", pv[i], truth[i])).collect();
    writeln!(
        out,
        "  predicted/true, first ten animals: {}",
        shown.join(" ")
    )?;
    writeln!(out, "  training accuracy {acc:.4}")?;
    Ok(Zoo {
        rows: table.rows,
        features: x.size(1),
        classes,
        cost,
        accuracy: acc,
        w,
        b,
    })
}

/// The zoo classifier as PyTorch code writes it: a `Linear(16, 7)` layer, `CrossEntropyLoss` on
/// the class indices (no one-hot needed), and `Sgd` doing the update. It starts from the same
/// Xavier draw as the tensor version (transposed: a layer stores W as [out, in]), so both
/// should end at the same weights.
fn zoo_layers(out: &mut dyn Write, tensors: &Zoo) -> io::Result<ZooLayers> {
    heading(
        out,
        "The same classifier with layers: nn::Linear, nn::CrossEntropyLoss, optim::Sgd",
    )?;
    let table = Table::embedded(ZOO_CSV);
    let (x, y) = (table.features(), table.labels());
    let mut g = Generator::new(ZOO_SEED);
    let w0 = xavier_normal(x.size(1), tensors.classes, &mut g);
    // A fresh copy of Wᵀ: the layer's weight must not share storage with anything else.
    let weight = Tensor::from_vec(w0.t().to_vec::<f32>(), [tensors.classes, x.size(1)]);
    let model = or_io(Linear::from_weights(
        weight.requires_grad_(true),
        Some(zeros_param(&[tensors.classes])),
    ))?;
    let loss_fn = CrossEntropyLoss::default();
    let mut optimizer = Sgd::new(model.parameters(), ZOO_LR);
    writeln!(
        out,
        "  model = Linear(16, 7) (weight = the same Xavier draw, transposed), loss = \
         CrossEntropyLoss() on the labels 0–6, optimizer = Sgd(lr = {ZOO_LR}), {ZOO_STEPS} steps"
    )?;
    writeln!(
        out,
        "  each step: optimizer.zero_grad(); loss_fn(model(X), y).backward(); optimizer.step()"
    )?;
    let mut costs = Vec::new();
    for step in 0..=ZOO_STEPS {
        optimizer.zero_grad();
        let loss = or_io(loss_fn.loss(&or_io(model.forward(&x))?, &y))?;
        if step % (ZOO_STEPS / 4) == 0 {
            let cost = scalar(&loss);
            writeln!(out, "  step {step:>4}: cost = {cost:.5}")?;
            costs.push((step, cost));
        }
        if step == ZOO_STEPS {
            break;
        }
        loss.backward();
        or_io(optimizer.step())?;
    }
    let logits = baeum::autograd::no_grad(|| model.forward(&x));
    let logits = or_io(logits)?;
    let cost = scalar(&or_io(loss_fn.loss(&logits, &y))?);
    let acc = or_io(baeum::metrics::accuracy(&logits, &y))?;
    let bias = model
        .bias
        .as_ref()
        .expect("the layer was built with a bias");
    let max_weight_difference = scalar(
        &(&model.weight.t() - &tensors.w)
            .abs()
            .max()
            .maximum(&(bias - &tensors.b).abs().max()),
    );
    writeln!(
        out,
        "  training accuracy {acc:.4}; largest difference from the tensor version's W and b: \
         {max_weight_difference:.1e}"
    )?;
    Ok(ZooLayers {
        costs,
        cost,
        accuracy: acc,
        max_weight_difference,
    })
}
