//! Project 1, image recognition (COURSE.md §8–§9): `baeum image train | eval | predict`.
//!
//! `train` reads a data set (MNIST, Fashion-MNIST, CIFAR-10, the embedded 8×8 digits, or a
//! folder), builds a classic CNN from `baeum_vision::models`, trains it with
//! `baeum::train::Trainer`, and writes a run folder: `config.json` (everything needed to
//! rebuild the model and its input pipeline), `history.{csv,json}`, `best.safetensors` and
//! `last.safetensors`, `metrics.json` and `report.html`. `eval` and `predict` read that
//! folder's `config.json` beside the checkpoint they are given.

mod augment;
mod config;
mod eval;
mod predict;
mod report;
mod train;
mod transfer;

use std::path::PathBuf;

use clap::{Args, Subcommand};

pub use train::{TrainOutcome, train};

#[derive(Subcommand)]
pub enum ImageCommand {
    /// Trains a model and writes a run folder with history, checkpoints, metrics and report.
    Train(TrainArgs),
    /// Evaluates a checkpoint on a data set's test split: accuracy and confusion matrix.
    Eval(EvalArgs),
    /// Classifies image files with a checkpoint: the top classes with probabilities.
    Predict(PredictArgs),
    /// Transfer learning (COURSE §9): trains on the same data from scratch, with the
    /// --init-from network's features frozen, and fine-tuning all of it; compares the three.
    Transfer(TrainArgs),
}

#[derive(Args, Clone, Debug)]
pub struct TrainArgs {
    /// mnist, fashion-mnist, cifar10, digits (embedded, no download), or a PATH (IDX folder,
    /// CIFAR-10 batches, digits CSV, or an image folder root/<class>/<file>).
    #[arg(long, default_value = "digits")]
    pub data: String,
    /// Where named data sets are looked for (default: $BAEUM_DATA or ~/.cache/baeum).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Read an image folder's images as one gray channel (default: RGB, as PyTorch's
    /// ImageFolder does).
    #[arg(long)]
    pub gray: bool,
    /// lenet5, cnn, alexnet, alexnet_paper, vgg11, vgg16, resnet18, resnet34, resnet50,
    /// resnet_cifar (default: cnn for 1-channel data, resnet_cifar for colour).
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Learning rate (default: 1e-3 for adam/adamw/rmsprop/nadam, 1.0 for adadelta, 0.01 for
    /// sgd/adagrad).
    #[arg(long)]
    pub lr: Option<f64>,
    /// sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam, adamw, nadam.
    #[arg(long, default_value = "adam")]
    pub optimizer: String,
    /// L2 weight decay.
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
    /// Multiply the learning rate by this every epoch (ExponentialLR); 1 keeps it.
    #[arg(long, default_value_t = 1.0)]
    pub lr_decay: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The run folder (default: runs/image/<timestamp>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Fraction of the training split held out for validation (picks best.safetensors).
    #[arg(long, default_value_t = 0.1)]
    pub val_fraction: f64,
    /// Train on at most this many training images (a stratified subset), e.g. 500 for the
    /// transfer-learning comparison.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Random crops, small rotations and (for colour images) horizontal flips.
    #[arg(long)]
    pub augment: bool,
    /// Stop when the validation loss has not improved for this many epochs.
    #[arg(long)]
    pub patience: Option<usize>,
    /// Start from this checkpoint's weights (transfer learning); a head of another size is
    /// replaced by a fresh one.
    #[arg(long)]
    pub init_from: Option<PathBuf>,
    /// `features`: freeze the feature extractor, train only the classifier.
    #[arg(long)]
    pub freeze: Option<String>,
    /// Background threads preparing batches (0: none).
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// No report.html (faster for scripted runs).
    #[arg(long)]
    pub no_report: bool,
}

#[derive(Args, Clone, Debug)]
pub struct EvalArgs {
    /// A `best.safetensors` or `last.safetensors` of a run (its config.json is read from the
    /// same folder).
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// The data set whose test split to evaluate on (default: the one trained on).
    #[arg(long)]
    pub data: Option<String>,
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Where metrics.json goes (default: <checkpoint folder>/eval).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
}

#[derive(Args, Clone, Debug)]
pub struct PredictArgs {
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Image files (PNG, JPEG, ...); resized to the model's input size when they differ.
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    /// How many classes to list per image.
    #[arg(long, default_value_t = 3)]
    pub top: usize,
}

/// Runs an image subcommand; errors are printed by the caller.
pub fn run(command: ImageCommand) -> baeum::Result<()> {
    match command {
        ImageCommand::Train(args) => train::train(&args).map(|_| ()),
        ImageCommand::Eval(args) => eval::eval(&args),
        ImageCommand::Predict(args) => predict::predict(&args),
        ImageCommand::Transfer(args) => transfer::transfer(&args),
    }
}
