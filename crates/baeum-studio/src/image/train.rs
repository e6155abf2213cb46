//! `baeum image train`: data → model → Trainer → test metrics → run folder and report.

use std::path::Path;
use std::time::Instant;

use baeum::data::{DataLoader, Dataset};
use baeum::io::load_safetensors;
use baeum::metrics::Accuracy;
use baeum::nn::functional::CrossEntropyOptions;
use baeum::nn::{CrossEntropyLoss, Layer, ModuleExt};
use baeum::optim::{Adadelta, Adagrad, Adam, AdamW, ExponentialLr, NAdam, Optimizer, Rmsprop, Sgd};
use baeum::train::{EarlyStopping, Mode, Trainer, TrainerConfig, predict};
use baeum::{Error, Generator, Result, Tensor};
use baeum_vision::datasets::{ColorMode, ImageDataset, open};
use baeum_vision::models::{self, ModelConfig, VisionModel, freeze_features, under_prefix};
use baeum_vision::transforms::Transformed;
use serde_json::json;

use super::TrainArgs;
use super::augment::default_chain;
use super::config::RunConfig;
use super::report::{self, Predictions};
use crate::project::{ClassificationSummary, RunDir};

/// What a finished run produced.
pub struct TrainOutcome {
    pub run: RunDir,
    pub summary: ClassificationSummary,
    pub seconds_per_epoch: f64,
    pub epochs_run: usize,
    pub train_examples: usize,
    pub trainable_parameters: usize,
}

/// (x − mean) / std per channel of images `[N, C, H, W]`.
pub fn normalize(images: &Tensor, mean: &[f64], std: &[f64]) -> Tensor {
    let c = mean.len();
    let m = Tensor::from_vec(mean.iter().map(|&v| v as f32).collect(), [1, c, 1, 1]);
    let s = Tensor::from_vec(std.iter().map(|&v| v as f32).collect(), [1, c, 1, 1]);
    (images - &m) / &s
}

/// A copy of `data` with its images normalised.
fn normalized(data: &ImageDataset, mean: &[f64], std: &[f64]) -> Result<ImageDataset> {
    ImageDataset::new(
        normalize(data.images(), mean, std),
        data.labels().clone(),
        data.classes().to_vec(),
    )
}

/// The model a data set gets when none is named: the PyTorch MNIST example's CNN for grey
/// images, the CIFAR ResNet for colour.
pub fn default_model(channels: usize) -> &'static str {
    if channels == 1 { "cnn" } else { "resnet_cifar" }
}

/// The optimizer named on the command line, over `params`, and its default learning rate.
pub fn make_optimizer(
    name: &str,
    params: Vec<Tensor>,
    lr: Option<f64>,
    weight_decay: f64,
) -> Result<(Box<dyn Optimizer>, f64)> {
    let adaptive = 1e-3;
    let opt: (Box<dyn Optimizer>, f64) = match name.to_ascii_lowercase().as_str() {
        "sgd" => {
            let lr = lr.unwrap_or(0.01);
            (
                Box::new(Sgd::new(params, lr).weight_decay(weight_decay)),
                lr,
            )
        }
        "momentum" => {
            let lr = lr.unwrap_or(0.01);
            let o = Sgd::new(params, lr)
                .momentum(0.9)
                .weight_decay(weight_decay);
            (Box::new(o), lr)
        }
        "nesterov" => {
            let lr = lr.unwrap_or(0.01);
            let o = Sgd::new(params, lr)
                .momentum(0.9)
                .nesterov(true)
                .weight_decay(weight_decay);
            (Box::new(o), lr)
        }
        "adagrad" => {
            let lr = lr.unwrap_or(0.01);
            (
                Box::new(Adagrad::new(params, lr).weight_decay(weight_decay)),
                lr,
            )
        }
        "rmsprop" => {
            let lr = lr.unwrap_or(adaptive);
            (
                Box::new(Rmsprop::new(params, lr).weight_decay(weight_decay)),
                lr,
            )
        }
        "adadelta" => {
            let lr = lr.unwrap_or(1.0);
            (
                Box::new(Adadelta::new(params, lr).weight_decay(weight_decay)),
                lr,
            )
        }
        "adam" => {
            let lr = lr.unwrap_or(adaptive);
            (
                Box::new(Adam::new(params, lr).weight_decay(weight_decay)),
                lr,
            )
        }
        "adamw" => {
            let lr = lr.unwrap_or(adaptive);
            let wd = if weight_decay == 0.0 {
                0.01
            } else {
                weight_decay
            };
            (Box::new(AdamW::new(params, lr).weight_decay(wd)), lr)
        }
        "nadam" => {
            let lr = lr.unwrap_or(2e-3);
            (
                Box::new(NAdam::new(params, lr).weight_decay(weight_decay)),
                lr,
            )
        }
        other => {
            return Err(Error::Invalid(format!(
                "unknown optimizer '{other}' (known: sgd, momentum, nesterov, adagrad, rmsprop, \
                 adadelta, adam, adamw, nadam)"
            )));
        }
    };
    Ok(opt)
}

/// The training images limited to `limit` (a stratified subset, the same for a seed).
fn limited(train: ImageDataset, limit: Option<usize>, seed: u64) -> Result<ImageDataset> {
    match limit {
        Some(0) => Err(Error::Invalid("--limit must be at least 1".into())),
        Some(n) if n < train.len() => {
            let f = n as f64 / train.len() as f64;
            let mut parts = train.stratified_split(&[f, 1.0 - f], seed)?;
            Ok(parts.swap_remove(0))
        }
        _ => Ok(train),
    }
}

/// Loads pretrained weights for transfer learning. Everything but the classifier head must
/// match; the head is taken too when it fits the new classes and the classes are the same,
/// and is left freshly initialised otherwise. Returns a line saying what was loaded.
pub fn init_from(model: &dyn VisionModel, checkpoint: &Path, classes: &[String]) -> Result<String> {
    let (mut state, _) = load_safetensors(checkpoint)?;
    let head = model.head_prefix();
    let same_classes = RunConfig::load_beside(checkpoint)
        .map(|c| c.classes == classes)
        .unwrap_or(false);
    let layer: &dyn Layer = model;
    let own = layer.state_dict();
    let mut dropped = Vec::new();
    for (name, _) in state.clone().iter() {
        let fits = own.get(name).map(|t| t.dims()) == state.get(name).map(|t| t.dims());
        if under_prefix(name, &head) && !(same_classes && fits) {
            dropped.push(name.to_string());
        }
    }
    for name in &dropped {
        state.remove(name);
    }
    let report = layer
        .load_state_dict(&state, false)
        .map_err(|e| Error::Invalid(format!("--init-from {}: {e}", checkpoint.display())))?;
    let missing: Vec<&String> = report
        .missing_keys
        .iter()
        .filter(|k| !under_prefix(k, &head))
        .collect();
    if !missing.is_empty()
        || !report.unexpected_keys.is_empty()
        || !report.mismatched_shapes.is_empty()
    {
        return Err(Error::Invalid(format!(
            "--init-from {}: not a checkpoint of this architecture ({}): missing {:?}, \
             unexpected {:?}, mismatched shapes {:?}",
            checkpoint.display(),
            model.arch(),
            missing,
            report.unexpected_keys,
            report.mismatched_shapes
        )));
    }
    Ok(if dropped.is_empty() {
        format!("loaded every weight from {}", checkpoint.display())
    } else {
        format!(
            "loaded the feature extractor from {}; the head ({head}) starts fresh",
            checkpoint.display()
        )
    })
}

/// Runs `baeum image train`.
pub fn train(args: &TrainArgs) -> Result<TrainOutcome> {
    let data_dir = args.data_dir.as_deref();
    let mode = if args.gray {
        ColorMode::Gray
    } else {
        ColorMode::Rgb
    };
    let full = open(&args.data, data_dir, true, mode, None)?;
    let test = open(&args.data, data_dir, false, mode, None)?;
    let classes = full.classes().to_vec();
    let [c, h, w] = full.image_shape();
    if test.image_shape() != [c, h, w] {
        return Err(Error::Shape(format!(
            "{}: training images are {:?} but test images {:?}",
            args.data,
            [c, h, w],
            test.image_shape()
        )));
    }
    let full = limited(full, args.limit, args.seed)?;
    let (train_raw, val_raw) = if args.val_fraction > 0.0 {
        let (t, v) = full.train_test_split(args.val_fraction, args.seed)?;
        (t, Some(v))
    } else {
        (full, None)
    };
    let (mean, std) = train_raw.channel_mean_std();
    let std: Vec<f64> = std.iter().map(|s| s.max(1e-6)).collect();
    let model_name = args
        .model
        .clone()
        .unwrap_or_else(|| default_model(c).to_string());
    let mut g = Generator::new(args.seed);
    let config = ModelConfig::new(classes.len())
        .in_channels(c)
        .image_size(h, w);
    let model = models::build_with(&model_name, &config, &mut g)?;
    let mut notes = Vec::new();
    if let Some(ckpt) = &args.init_from {
        notes.push(init_from(&*model, ckpt, &classes)?);
    }
    match args.freeze.as_deref() {
        None => {}
        Some("features") => {
            let n = freeze_features(&*model);
            notes.push(format!("froze the feature extractor ({n} parameters)"));
        }
        Some(other) => {
            return Err(Error::Invalid(format!(
                "--freeze {other}: only `features` is supported"
            )));
        }
    }
    let params = model.trainable_parameters();
    let (mut optimizer, lr) = make_optimizer(&args.optimizer, params, args.lr, args.weight_decay)?;

    let run = RunDir::create(args.out.as_deref(), "image")?;
    let run_config = RunConfig {
        model: model_name.clone(),
        data: args.data.clone(),
        classes: classes.clone(),
        input_shape: [c, h, w],
        mean: mean.clone(),
        std: std.clone(),
        training: json!({
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "optimizer": args.optimizer,
            "lr": lr,
            "weight_decay": args.weight_decay,
            "lr_decay": args.lr_decay,
            "seed": args.seed,
            "val_fraction": args.val_fraction,
            "limit": args.limit,
            "augment": args.augment,
            "patience": args.patience,
            "init_from": args.init_from.as_ref().map(|p| p.display().to_string()),
            "freeze": args.freeze,
            "train_examples": train_raw.len(),
            "val_examples": val_raw.as_ref().map_or(0, |v| v.len()),
            "test_examples": test.len(),
            "parameters": model.num_parameters(false),
            "trainable_parameters": model.num_parameters(true),
        }),
    };
    run.write(
        "config.json",
        &serde_json::to_string_pretty(&run_config.to_json()).unwrap_or_default(),
    )?;

    println!(
        "image: {} on {} ({} train, {} validation, {} test images of {c}×{h}×{w}, {} classes)",
        model_name,
        args.data,
        train_raw.len(),
        val_raw.as_ref().map_or(0, |v| v.len()),
        test.len(),
        classes.len()
    );
    println!(
        "model: {} parameters ({} trainable); optimizer {} lr {lr}",
        model.num_parameters(false),
        model.num_parameters(true),
        args.optimizer
    );
    for n in &notes {
        println!("{n}");
    }

    let train_set: Box<dyn Dataset> = if args.augment {
        let chain =
            default_chain(c, h, w).then(baeum::data::Normalize::new(mean.clone(), std.clone())?);
        Box::new(Transformed::new(train_raw.clone(), chain, args.seed))
    } else {
        Box::new(normalized(&train_raw, &mean, &std)?)
    };
    let mut train_loader = DataLoader::from_arc(train_set.into(), args.batch_size)
        .shuffle(true)
        .seed(args.seed)
        .num_workers(args.workers);
    let mut val_loader = match &val_raw {
        Some(v) => Some(DataLoader::new(normalized(v, &mean, &std)?, 256)),
        None => None,
    };
    let mut trainer = Trainer::new(TrainerConfig {
        epochs: args.epochs,
        seed: args.seed,
        out_dir: Some(run.path.clone()),
        monitor: None,
        monitor_mode: Mode::Auto,
        verbose: 1,
    })
    .metric(Accuracy::new());
    if let Some(p) = args.patience {
        trainer = trainer.callback(EarlyStopping::new("val_loss").patience(p));
    }
    if args.lr_decay != 1.0 {
        trainer = trainer.scheduler(ExponentialLr::new(optimizer.as_mut(), args.lr_decay));
    }
    let loss = CrossEntropyLoss::new(CrossEntropyOptions::default());
    let started = Instant::now();
    let history = trainer.fit(
        &model,
        optimizer.as_mut(),
        &loss,
        &mut train_loader,
        val_loader.as_mut(),
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let epochs_run = history.epochs.len().max(1);

    // Test with the best weights (lowest validation loss) when there was validation.
    let best = run.file("best.safetensors");
    if val_raw.is_some() && best.is_file() {
        let (state, _) = load_safetensors(&best)?;
        model.load_state_dict(&state, true)?;
    }
    let test_norm = normalized(&test, &mean, &std)?;
    let logits = predict(&model, &DataLoader::new(test_norm.clone(), 256))?;
    let preds = Predictions::from_logits(&logits, test.labels())?;
    let summary = ClassificationSummary::from_labels(classes.clone(), &preds.truth, &preds.top1());
    let metrics = summary.to_json(&[
        ("model", json!(model_name)),
        ("data", json!(args.data)),
        ("epochs_run", json!(epochs_run)),
        ("seconds", json!(seconds)),
        ("seconds_per_epoch", json!(seconds / epochs_run as f64)),
        ("parameters", json!(model.num_parameters(false))),
    ]);
    run.write(
        "metrics.json",
        &serde_json::to_string_pretty(&metrics).unwrap_or_default(),
    )?;
    println!(
        "\ntest accuracy {:.2}% ({} of {}), macro F1 {:.4}; {:.1} s per epoch",
        summary.accuracy() * 100.0,
        (summary.accuracy() * test.len() as f64).round(),
        test.len(),
        metrics["macro_f1"].as_f64().unwrap_or(f64::NAN),
        seconds / epochs_run as f64
    );
    println!("\nconfusion matrix (test):\n{}", summary.confusion_table());
    if !args.no_report {
        let path = report::write(&report::ReportInput {
            run: &run,
            config: &run_config,
            history: &history,
            summary: &summary,
            model: &*model,
            test_raw: &test,
            test_norm: &test_norm,
            predictions: &preds,
            seconds_per_epoch: seconds / epochs_run as f64,
            notes: &notes,
        })?;
        println!("report: {}", path.display());
    }
    println!("run folder: {}", run.path.display());
    Ok(TrainOutcome {
        run,
        summary,
        seconds_per_epoch: seconds / epochs_run as f64,
        epochs_run,
        train_examples: train_raw.len(),
        trainable_parameters: model.num_parameters(true),
    })
}
