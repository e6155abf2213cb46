//! COURSE §9 (with §5's overfitting): training improvements.
//!
//! A wide network trained on a small part of `data-03-diabetes.csv` learns its training rows by
//! heart: the training loss falls towards 0 while the validation loss, after a few epochs,
//! climbs. The cures of the notes each run separately from the same start: dropout, L2
//! regularisation (cost + λ Σ w², here as the optimizer's `weight_decay` = 2λ, which is the same
//! update), early stopping that restores the best epoch's weights, and batch normalisation
//! (which speeds training up rather than curing overfitting). Every run goes through
//! `Trainer::fit`; the curves are written out by [`save_curves`] as one CSV per run and one SVG.
//!
//! The three sets play the roles of §5: the training rows fit the parameters, the validation
//! rows choose among the runs (and tell early stopping when to stop), the test rows give the
//! final score once.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use baeum::data::{DataLoader, TensorDataset, random_split_indices};
use baeum::nn::{
    BCEWithLogitsLoss, BatchNorm1d, Dropout, Forward, Linear, Loss, ModuleExt, ReLU, Sequential,
};
use baeum::optim::{Adam, Optimizer, l2_penalty};
use baeum::train::{EarlyStopping, History, Trainer, TrainerConfig, predict};
use baeum::{DType, Generator, Tensor};

use baeum_plot::{Anchor, PALETTE, Svg};

use crate::common::{DIABETES_CSV, Table, heading, or_io, title};

/// Rows the networks train on (of 759): few, so that a wide net can memorise them.
pub const TRAIN_ROWS: usize = 64;
/// Rows for validation; the remaining 495 are the test set.
pub const VAL_ROWS: usize = 200;
/// The seed of the split.
pub const SPLIT_SEED: u64 = 9;
/// Units in each of the two hidden layers.
pub const WIDTH: usize = 128;
/// Epochs each run may take.
pub const EPOCHS: usize = 200;
/// Mini-batch size (the training rows are shuffled every epoch).
pub const BATCH: usize = 16;
/// Adam's learning rate.
pub const LR: f64 = 1e-3;
/// The dropout probability after each hidden layer.
pub const DROPOUT: f64 = 0.5;
/// λ of the L2 penalty λ Σ w²; the optimizer's weight decay is 2λ.
pub const L2_LAMBDA: f64 = 0.02;
/// Early stopping's patience: epochs without a better validation loss before it stops.
pub const PATIENCE: usize = 20;
/// Seeds the initial weights (the same for every run), the shuffling and the dropout masks.
pub const SEED: u64 = 90;

/// A remedy for overfitting, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cure {
    None,
    Dropout,
    L2,
    EarlyStopping,
    BatchNorm,
}

impl Cure {
    /// Every run of the lecture, the baseline first.
    pub const ALL: [Cure; 5] = [
        Cure::None,
        Cure::Dropout,
        Cure::L2,
        Cure::EarlyStopping,
        Cure::BatchNorm,
    ];

    /// A short name, also the name of the run's CSV file.
    pub fn name(self) -> &'static str {
        match self {
            Cure::None => "baseline",
            Cure::Dropout => "dropout",
            Cure::L2 => "l2",
            Cure::EarlyStopping => "early-stopping",
            Cure::BatchNorm => "batch-norm",
        }
    }

    fn describe(self) -> String {
        match self {
            Cure::None => "no cure".into(),
            Cure::Dropout => format!("Dropout({DROPOUT}) after each hidden layer"),
            Cure::L2 => format!(
                "L2: λ = {L2_LAMBDA} (Adam weight_decay = {})",
                2.0 * L2_LAMBDA
            ),
            Cure::EarlyStopping => {
                format!("EarlyStopping(val_loss, patience {PATIENCE}, restore best weights)")
            }
            Cure::BatchNorm => "BatchNorm1d after each hidden Linear".into(),
        }
    }
}

/// One training run.
#[derive(Clone, Debug)]
pub struct Run {
    pub cure: Cure,
    /// Per epoch: `loss` (the mean training loss of the epoch's batches, in training mode:
    /// with dropout on), `val_loss`, `lr`.
    pub history: History,
    /// Epochs run (fewer than [`EPOCHS`] when early stopping stopped it).
    pub epochs_run: usize,
    /// The lowest validation loss of any epoch, and that epoch (counting from 1).
    pub best_val_loss: f64,
    pub best_epoch: usize,
    /// After training (for early stopping: after restoring the best weights), in eval mode.
    pub train_loss: f64,
    pub val_loss: f64,
    pub test_loss: f64,
    pub test_accuracy: f64,
}

impl Run {
    /// Validation minus training loss at the end: how far the model fits its training rows
    /// better than new ones.
    pub fn gap(&self) -> f64 {
        self.val_loss - self.train_loss
    }
}

/// What the lecture computed.
#[derive(Clone, Debug)]
pub struct Report {
    pub train_rows: usize,
    pub val_rows: usize,
    pub test_rows: usize,
    /// One run per [`Cure::ALL`], in that order.
    pub runs: Vec<Run>,
    /// After the same Adam steps, the largest difference between the weights of a model whose
    /// cost carries + λ Σ w² and one trained with `weight_decay` = 2λ (the same update), and
    /// between the first and one with neither (how much the penalty moved them).
    pub l2_vs_weight_decay: f64,
    pub l2_vs_none: f64,
}

/// The diabetes rows split at random into training, validation and test sets: (x [n, 8],
/// y [n, 1]) each.
pub struct Split {
    pub train: (Tensor, Tensor),
    pub val: (Tensor, Tensor),
    pub test: (Tensor, Tensor),
}

/// Splits the embedded diabetes table: [`TRAIN_ROWS`], [`VAL_ROWS`] and the rest, drawn with
/// [`SPLIT_SEED`].
pub fn split() -> baeum::Result<Split> {
    let table = Table::embedded(DIABETES_CSV);
    let parts = random_split_indices(
        table.rows,
        &[TRAIN_ROWS, VAL_ROWS, table.rows - TRAIN_ROWS - VAL_ROWS],
        SPLIT_SEED,
    )?;
    let (x, y) = (table.features(), table.target());
    let take = |rows: &[usize]| {
        let index = Tensor::from_vec(rows.iter().map(|&r| r as i64).collect(), [rows.len()]);
        (x.index_select(0, &index), y.index_select(0, &index))
    };
    Ok(Split {
        train: take(&parts[0]),
        val: take(&parts[1]),
        test: take(&parts[2]),
    })
}

/// 8 → WIDTH → WIDTH → 1 (a logit), ReLU; with the cure's layers where it adds some. The
/// Linear layers draw from a generator seeded with [`SEED`] in the same order in every model,
/// so every run starts from the same weights.
fn model(cure: Cure) -> baeum::Result<Sequential> {
    let mut g = Generator::new(SEED);
    let mut m = Sequential::new();
    let mut fan_in = 8;
    for _ in 0..2 {
        m.push(Linear::with_options(
            fan_in,
            WIDTH,
            true,
            DType::F32,
            &mut g,
        ));
        if cure == Cure::BatchNorm {
            m.push(BatchNorm1d::new_1d(WIDTH));
        }
        m.push(ReLU);
        if cure == Cure::Dropout {
            m.push(Dropout::new(DROPOUT)?);
        }
        fan_in = WIDTH;
    }
    m.push(Linear::with_options(fan_in, 1, true, DType::F32, &mut g));
    Ok(m)
}

fn loader(data: &(Tensor, Tensor), batch: usize) -> baeum::Result<DataLoader> {
    Ok(DataLoader::new(
        TensorDataset::new(data.0.clone(), data.1.clone())?,
        batch,
    ))
}

/// Trains one run for at most `epochs` epochs and measures it.
pub fn train(data: &Split, cure: Cure, epochs: usize) -> baeum::Result<Run> {
    let model = model(cure)?;
    let mut optimizer = Adam::new(model.parameters(), LR);
    if cure == Cure::L2 {
        optimizer = optimizer.weight_decay(2.0 * L2_LAMBDA);
    }
    let mut trainer = Trainer::new(TrainerConfig {
        epochs,
        seed: SEED,
        verbose: 0,
        ..Default::default()
    });
    if cure == Cure::EarlyStopping {
        trainer = trainer.callback(
            EarlyStopping::new("val_loss")
                .patience(PATIENCE)
                .restore_best_weights(true),
        );
    }
    let loss_fn = BCEWithLogitsLoss::default();
    let mut train = loader(&data.train, BATCH)?.shuffle(true).seed(SEED);
    let mut val = loader(&data.val, VAL_ROWS)?;
    let history = trainer.fit(&model, &mut optimizer, &loss_fn, &mut train, Some(&mut val))?;
    // The best epoch, counting from 1 (the first one on ties, as EarlyStopping picks it).
    let (mut best_epoch, mut best_val_loss) = (0, f64::INFINITY);
    for (e, v) in history.get("val_loss").into_iter().enumerate() {
        if v < best_val_loss {
            (best_epoch, best_val_loss) = (e + 1, v);
        }
    }
    let mut whole_train = loader(&data.train, TRAIN_ROWS)?;
    let mut test = loader(&data.test, data.test.0.size(0))?;
    let train_loss = trainer.evaluate(&model, &loss_fn, &mut whole_train)?["loss"];
    let val_loss = trainer.evaluate(&model, &loss_fn, &mut val)?["loss"];
    let test_loss = trainer.evaluate(&model, &loss_fn, &mut test)?["loss"];
    // The model puts out logits: the prediction is 1 where the logit is ≥ 0 (p ≥ 0.5).
    let predicted = predict(&model, &test)?.ge_scalar(0.0).to_f32();
    let test_accuracy = predicted.eq(&data.test.1).to_f64().mean().item_f64();
    Ok(Run {
        cure,
        epochs_run: history.epochs.len(),
        history,
        best_val_loss,
        best_epoch,
        train_loss,
        val_loss,
        test_loss,
        test_accuracy,
    })
}

/// A few Adam steps three ways from the same start: cost + λ Σ w² (`l2_penalty`), plain cost
/// with `weight_decay` = 2λ, plain cost alone. Returns the largest weight difference of the
/// first from the second and from the third.
pub fn l2_equals_weight_decay(data: &Split, steps: usize) -> baeum::Result<(f64, f64)> {
    let loss_fn = BCEWithLogitsLoss::default();
    let (x, y) = &data.train;
    let run = |penalty: bool, weight_decay: f64| -> baeum::Result<Vec<f32>> {
        let model = model(Cure::None)?;
        let params = model.parameters();
        let mut optimizer = Adam::new(params.clone(), LR).weight_decay(weight_decay);
        for _ in 0..steps {
            optimizer.zero_grad();
            let mut cost = loss_fn.loss(&model.forward(x)?, y)?;
            if penalty {
                cost = cost + l2_penalty(&params, L2_LAMBDA)?;
            }
            cost.backward();
            optimizer.step()?;
        }
        Ok(params.iter().flat_map(|p| p.to_vec::<f32>()).collect())
    };
    let penalised = run(true, 0.0)?;
    let decayed = run(false, 2.0 * L2_LAMBDA)?;
    let plain = run(false, 0.0)?;
    let max_diff = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(p, q)| f64::from((p - q).abs()))
            .fold(0.0, f64::max)
    };
    Ok((max_diff(&penalised, &decayed), max_diff(&penalised, &plain)))
}

/// Runs the lecture, printing to `out`.
pub fn run(out: &mut dyn Write) -> io::Result<Report> {
    title(out, 9, "Training improvements: overfitting and its cures")?;
    let data = or_io(split())?;
    let test_rows = data.test.0.size(0);
    writeln!(
        out,
        "data-03-diabetes.csv (8 features → diabetes 0/1), split at random (seed {SPLIT_SEED}): \
         {TRAIN_ROWS} rows for training (the parameters), {VAL_ROWS} for validation (choosing \
         among runs, when to stop), {test_rows} for the final test"
    )?;
    writeln!(
        out,
        "model: Linear(8, {WIDTH}), ReLU, Linear({WIDTH}, {WIDTH}), ReLU, Linear({WIDTH}, 1) → \
         logit; BCEWithLogitsLoss; Adam(lr = {LR}); batches of {BATCH}, shuffled; {EPOCHS} \
         epochs; every run starts from the same weights (seed {SEED})"
    )?;

    heading(
        out,
        "Overfitting: the training loss falls, the validation loss turns and rises",
    )?;
    let baseline = or_io(train(&data, Cure::None, EPOCHS))?;
    let (loss, val_loss) = (
        baseline.history.get("loss"),
        baseline.history.get("val_loss"),
    );
    writeln!(out, "  epoch   train loss   val loss")?;
    for e in (0..EPOCHS).step_by(EPOCHS / 8).chain([EPOCHS - 1]) {
        writeln!(
            out,
            "  {:>5}   {:>10.4}   {:>8.4}",
            e + 1,
            loss[e],
            val_loss[e]
        )?;
    }
    writeln!(
        out,
        "  The validation loss is lowest at epoch {} ({:.4}) and ends at {:.4}: after that the \
         network learns its {TRAIN_ROWS} training rows by heart (train loss {:.4}) instead of \
         the rule behind them.",
        baseline.best_epoch, baseline.best_val_loss, baseline.val_loss, baseline.train_loss
    )?;

    heading(
        out,
        "L2 regularisation: cost + λ Σ w² is what weight decay does",
    )?;
    let (l2_vs_weight_decay, l2_vs_none) = or_io(l2_equals_weight_decay(&data, 10))?;
    let same = if l2_vs_weight_decay == 0.0 {
        "are identical".to_string()
    } else {
        format!("differ by at most {l2_vs_weight_decay:.1e}")
    };
    writeln!(
        out,
        "  ∂(λ Σ w²)/∂w = 2λw, which Adam's weight_decay = 2λ adds to every gradient. After 10 \
         steps from the same start (λ = {L2_LAMBDA}), the weights trained on cost + \
         l2_penalty(λ) and those trained with weight_decay = {} {same}; without either they \
         differ by up to {l2_vs_none:.1e}.",
        2.0 * L2_LAMBDA
    )?;

    heading(out, "Each cure, from the same start")?;
    let mut runs = vec![baseline];
    for cure in &Cure::ALL[1..] {
        runs.push(or_io(train(&data, *cure, EPOCHS))?);
    }
    for r in &runs {
        writeln!(out, "  {:<15} {}", r.cure.name(), r.cure.describe())?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "  run              epochs   best val loss (epoch)   final train   final val   \
         gap (val − train)   test loss   test accuracy"
    )?;
    for r in &runs {
        writeln!(
            out,
            "  {:<15}  {:>6}   {:>13.4} ({:>5})   {:>11.4}   {:>9.4}   {:>17.4}   {:>9.4}   \
             {:>13.4}",
            r.cure.name(),
            r.epochs_run,
            r.best_val_loss,
            r.best_epoch,
            r.train_loss,
            r.val_loss,
            r.gap(),
            r.test_loss,
            r.test_accuracy
        )?;
    }
    writeln!(
        out,
        "  (final: after the last epoch, or the best one early stopping restored; losses in \
         eval mode, without dropout)"
    )?;
    let [base, dropout, l2, early, batch_norm] = &runs[..] else {
        unreachable!("one run per cure");
    };
    writeln!(
        out,
        "  Dropout ({:.2} → {:.2}) and L2 ({:.2} → {:.2}) lower the final validation loss and the \
         gap: the network cannot simply memorise. L2 nearly holds it at its best.",
        base.val_loss, dropout.val_loss, base.val_loss, l2.val_loss
    )?;
    writeln!(
        out,
        "  Early stopping stopped after epoch {} ({PATIENCE} epochs without a better validation \
         loss) and restored epoch {}: validation loss {:.4}, test accuracy {:.4}.",
        early.epochs_run, early.best_epoch, early.val_loss, early.test_accuracy
    )?;
    let (base_train, bn_train) = (base.history.get("loss"), batch_norm.history.get("loss"));
    writeln!(
        out,
        "  Batch normalisation trains faster (training loss at epoch 10: {:.4} against {:.4}) \
         but still learns the rows by heart (final training loss {:.4}): it helps training \
         more than it cures overfitting.",
        bn_train[9], base_train[9], batch_norm.train_loss
    )?;
    Ok(Report {
        train_rows: TRAIN_ROWS,
        val_rows: VAL_ROWS,
        test_rows,
        runs,
        l2_vs_weight_decay,
        l2_vs_none,
    })
}

const PLOT_WIDTH: f64 = 640.0;
const PLOT_HEIGHT: f64 = 400.0;
/// Margins around the plot area: left, right, top, bottom.
const MARGIN: (f64, f64, f64, f64) = (60.0, 190.0, 30.0, 50.0);

/// The training (dashed) and validation (solid) loss curves of every run in one SVG picture,
/// epochs across, loss up; the baseline's climbing validation loss is the overfitting.
pub fn svg(report: &Report) -> String {
    let (left, right, top, bottom) = MARGIN;
    let (w, h) = (PLOT_WIDTH - left - right, PLOT_HEIGHT - top - bottom);
    let longest = report.runs.iter().map(|r| r.epochs_run).max().unwrap_or(1);
    let highest = report
        .runs
        .iter()
        .flat_map(|r| {
            r.history
                .get("loss")
                .into_iter()
                .chain(r.history.get("val_loss"))
        })
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    // Loss ticks every 0.25 up to the first one above every value.
    let y_max = (highest / 0.25).ceil().max(1.0) * 0.25;
    let at = |epoch: f64, loss: f64| {
        (
            left + (epoch - 1.0) / (longest.max(2) - 1) as f64 * w,
            top + (1.0 - loss / y_max) * h,
        )
    };
    let mut svg = Svg::new(PLOT_WIDTH, PLOT_HEIGHT);
    let text = |svg: &mut Svg, (x, y): (f64, f64), t: &str, anchor| {
        svg.text(x, y, t, anchor, 12.0, "black")
    };
    text(
        &mut svg,
        (PLOT_WIDTH / 2.0, 18.0),
        &format!(
            "Diabetes, {} training rows: training (dashed) and validation (solid) loss",
            report.train_rows
        ),
        Anchor::Middle,
    );
    let axis = "#444444";
    svg.line(left, top, left, top + h, axis, 1.0);
    svg.line(left, top + h, left + w, top + h, axis, 1.0);
    let mut tick = 0.0;
    while tick <= y_max + 1e-9 {
        let (_, y) = at(1.0, tick);
        svg.line(left - 4.0, y, left, y, axis, 1.0);
        svg.line(left, y, left + w, y, "#eeeeee", 1.0);
        text(
            &mut svg,
            (left - 8.0, y + 4.0),
            &format!("{tick:.2}"),
            Anchor::End,
        );
        tick += 0.25;
    }
    let step = (longest / 5).max(1);
    for epoch in (0..=longest).step_by(step).map(|e| e.max(1)) {
        let (x, _) = at(epoch as f64, 0.0);
        svg.line(x, top + h, x, top + h + 4.0, axis, 1.0);
        text(
            &mut svg,
            (x, top + h + 18.0),
            &epoch.to_string(),
            Anchor::Middle,
        );
    }
    text(
        &mut svg,
        (left + w / 2.0, PLOT_HEIGHT - 10.0),
        "epoch",
        Anchor::Middle,
    );
    svg.vertical_text(14.0, top + h / 2.0, "loss", 12.0);
    let mut legend = Vec::new();
    for (r, colour) in report.runs.iter().zip(PALETTE.iter().cycle()) {
        for (key, dashed) in [("loss", true), ("val_loss", false)] {
            let points: Vec<(f64, f64)> = r
                .history
                .get(key)
                .iter()
                .enumerate()
                .map(|(e, v)| at((e + 1) as f64, v.clamp(0.0, y_max)))
                .collect();
            svg.polyline(&points, colour, 1.5, dashed);
        }
        legend.push((r.cure.name(), *colour, false));
        if r.cure == Cure::EarlyStopping {
            // Where early stopping went back to.
            let (x, y) = at(r.best_epoch as f64, r.best_val_loss.min(y_max));
            svg.ring(x, y, 4.0, colour);
        }
    }
    legend.push(("training (dashed)", axis, true));
    legend.push(("validation (solid)", axis, false));
    svg.legend(PLOT_WIDTH - right + 20.0, top + 10.0, &legend);
    svg.finish()
}

/// Writes every run's history as `<run>.csv` (epoch, loss, lr, val_loss) and the curves as
/// `losses.svg` into `dir` (created if missing); returns the paths written.
pub fn save_curves(report: &Report, dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for r in &report.runs {
        let path = dir.join(format!("{}.csv", r.cure.name()));
        std::fs::write(&path, r.history.to_csv())?;
        written.push(path);
    }
    let path = dir.join("losses.svg");
    std::fs::write(&path, svg(report))?;
    written.push(path);
    Ok(written)
}
