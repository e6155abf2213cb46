//! `baeum quickstart`: the first thing a new user runs. Trains the MNIST-example CNN on the
//! scikit-learn 8×8 digits embedded in baeum-vision (no download), shows progress, prints the
//! test accuracy and confusion matrix, and says where the report is.

use std::path::PathBuf;

use crate::image::{TrainArgs, TrainOutcome, train};

/// The quick start's settings: small and fast enough for two cores in well under two minutes.
pub fn args(out: Option<PathBuf>, epochs: usize) -> TrainArgs {
    TrainArgs {
        data: "digits".into(),
        data_dir: None,
        gray: false,
        model: Some("cnn".into()),
        epochs,
        batch_size: 32,
        lr: Some(1e-3),
        optimizer: "adam".into(),
        weight_decay: 0.0,
        lr_decay: 1.0,
        seed: 0,
        out,
        val_fraction: 0.1,
        limit: None,
        augment: false,
        patience: None,
        init_from: None,
        freeze: None,
        workers: 1,
        no_report: false,
    }
}

pub fn run(out: Option<PathBuf>, epochs: usize) -> baeum::Result<TrainOutcome> {
    println!(
        "baeum quickstart: a CNN learns the 8×8 handwritten digits (scikit-learn's copy of \
         UCI optdigits, embedded; no download)\n"
    );
    let outcome = train(&args(out, epochs))?;
    println!(
        "\nquickstart: {:.2}% of the {} test digits right after {} epochs ({:.1} s each); \
         the report is {}",
        outcome.summary.accuracy() * 100.0,
        outcome.summary.confusion.total(),
        outcome.epochs_run,
        outcome.seconds_per_epoch,
        outcome.run.file("report.html").display()
    );
    println!(
        "\nNext: open the report in a browser; train on MNIST with `baeum image train --data \
         mnist` (after `baeum data download mnist`); see `baeum image --help`."
    );
    Ok(outcome)
}
