//! `baeum image eval`: a checkpoint on a data set's test split.

use std::path::Path;

use baeum::data::{DataLoader, Dataset};
use baeum::io::load_safetensors;
use baeum::nn::ModuleExt;
use baeum::train::predict;
use baeum::{Error, Generator, Result};
use baeum_vision::datasets::{ColorMode, ImageDataset, open};
use baeum_vision::models::{self, ModelConfig, VisionModel};
use serde_json::json;

use super::EvalArgs;
use super::config::RunConfig;
use super::report::Predictions;
use super::train::normalize;
use crate::project::{ClassificationSummary, RunDir};

/// Rebuilds the model a run's config describes and loads `checkpoint` into it, with an error
/// that names both when the weights belong to another model.
pub fn load_model(checkpoint: &Path, config: &RunConfig) -> Result<Box<dyn VisionModel>> {
    let [c, h, w] = config.input_shape;
    let model_config = ModelConfig::new(config.classes.len())
        .in_channels(c)
        .image_size(h, w)
        .skip_init();
    let model = models::build_with(&config.model, &model_config, &mut Generator::new(0))?;
    let (state, _) = load_safetensors(checkpoint)?;
    model.load_state_dict(&state, true).map_err(|e| {
        Error::Invalid(format!(
            "{} does not hold a {} for {} classes of {c}×{h}×{w} images (as its config.json \
             says): {e}",
            checkpoint.display(),
            config.model,
            config.classes.len()
        ))
    })?;
    Ok(model)
}

/// Checks a data set has the run's image shape and classes.
fn check_matches(data: &ImageDataset, config: &RunConfig, name: &str) -> Result<()> {
    let shape = data.image_shape();
    if shape != config.input_shape {
        return Err(Error::Shape(format!(
            "{name}: images are {:?}, the model was trained on {:?}",
            shape, config.input_shape
        )));
    }
    if data.classes() != config.classes.as_slice() {
        return Err(Error::Invalid(format!(
            "{name}: classes {:?} differ from the model's {:?}",
            data.classes(),
            config.classes
        )));
    }
    Ok(())
}

pub fn eval(args: &EvalArgs) -> Result<()> {
    let config = RunConfig::load_beside(&args.checkpoint)?;
    let model = load_model(&args.checkpoint, &config)?;
    let data_name = args.data.clone().unwrap_or_else(|| config.data.clone());
    // An image folder is read as the model was trained: its channels and its image size.
    let [c, h, w] = config.input_shape;
    let mode = if c == 1 {
        ColorMode::Gray
    } else {
        ColorMode::Rgb
    };
    let test = open(
        &data_name,
        args.data_dir.as_deref(),
        false,
        mode,
        Some((h, w)),
    )?;
    check_matches(&test, &config, &data_name)?;
    let images = normalize(test.images(), &config.mean, &config.std);
    let normed = ImageDataset::new(images, test.labels().clone(), test.classes().to_vec())?;
    let logits = predict(&model, &DataLoader::new(normed, args.batch_size.max(1)))?;
    let preds = Predictions::from_logits(&logits, test.labels())?;
    let summary =
        ClassificationSummary::from_labels(config.classes.clone(), &preds.truth, &preds.top1());
    println!(
        "{} on {} (test split, {} images): accuracy {:.2}%",
        args.checkpoint.display(),
        data_name,
        test.len(),
        summary.accuracy() * 100.0
    );
    println!("\nconfusion matrix:\n{}", summary.confusion_table());
    println!("{}", summary.class_table());
    let out = match &args.out {
        Some(p) => p.clone(),
        None => args
            .checkpoint
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join("eval"),
    };
    let run = RunDir::create(Some(&out), "image")?;
    let metrics = summary.to_json(&[
        ("checkpoint", json!(args.checkpoint.display().to_string())),
        ("data", json!(data_name)),
        ("model", json!(config.model)),
    ]);
    let path = run.write(
        "metrics.json",
        &serde_json::to_string_pretty(&metrics).unwrap_or_default(),
    )?;
    println!("metrics: {}", path.display());
    Ok(())
}
