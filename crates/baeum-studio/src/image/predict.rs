//! `baeum image predict`: the top classes of image files.

use baeum::nn::functional::softmax;
use baeum::nn::{Forward, ModuleExt};
use baeum::{Error, Result, Tensor};
use baeum_vision::datasets::{ColorMode, read_image};
use baeum_vision::transforms::resize;

use super::PredictArgs;
use super::config::RunConfig;
use super::eval::load_model;
use super::train::normalize;

/// Reads an image file as the model expects it: its channels, resized (bilinear, with
/// antialiasing) to the training size when it differs.
pub fn load_input(path: &std::path::Path, config: &RunConfig) -> Result<(Tensor, Option<String>)> {
    let [c, h, w] = config.input_shape;
    let mode = match c {
        1 => ColorMode::Gray,
        3 => ColorMode::Rgb,
        other => {
            return Err(Error::Invalid(format!(
                "the model takes {other}-channel images; predict reads grey (1) or RGB (3) files"
            )));
        }
    };
    let img = read_image(path, mode)?;
    let (ih, iw) = (img.dims()[1], img.dims()[2]);
    if (ih, iw) == (h, w) {
        return Ok((img, None));
    }
    let note = format!("{}: resized from {ih}×{iw} to {h}×{w}", path.display());
    Ok((resize(&img, h, w, true)?, Some(note)))
}

pub fn predict(args: &PredictArgs) -> Result<()> {
    let config = RunConfig::load_beside(&args.checkpoint)?;
    let model = load_model(&args.checkpoint, &config)?;
    model.eval();
    let top = args.top.clamp(1, config.classes.len());
    for path in &args.images {
        let (img, note) = load_input(path, &config)?;
        if let Some(n) = note {
            println!("{n}");
        }
        let x = normalize(&img.unsqueeze(0), &config.mean, &config.std);
        let logits = baeum::autograd::no_grad(|| model.forward(&x))?;
        let probs = softmax(&logits, -1).to_vec::<f32>();
        let mut ranked: Vec<(usize, f32)> = probs.into_iter().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        let line: Vec<String> = ranked
            .iter()
            .take(top)
            .map(|(c, p)| format!("{} {:.4}", config.classes[*c], p))
            .collect();
        println!("{}: {}", path.display(), line.join(", "));
    }
    Ok(())
}
