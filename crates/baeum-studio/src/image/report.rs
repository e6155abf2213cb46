//! The image run's `report.html`: summary, curves, confusion matrix, per-class scores, the
//! misclassified test images with their top-3 predictions, and saliency / Grad-CAM maps.

use std::path::PathBuf;

use baeum::data::Dataset;
use baeum::nn::functional::softmax;
use baeum::train::History;
use baeum::{Result, Tensor};
use baeum_plot::{GridImage, ImageGrid, Page};
use baeum_vision::datasets::ImageDataset;
use baeum_vision::explain;
use baeum_vision::models::VisionModel;

use super::config::RunConfig;
use crate::project::figures::{confusion_heatmap, history_charts};
use crate::project::{ClassificationSummary, RunDir};

/// Each test image's true class and the classes ranked by probability.
pub struct Predictions {
    pub truth: Vec<i64>,
    /// Per image: (class, probability), most probable first.
    pub ranked: Vec<Vec<(usize, f32)>>,
}

impl Predictions {
    pub fn from_logits(logits: &Tensor, labels: &Tensor) -> Result<Predictions> {
        let probs = softmax(logits, -1).to_dtype(baeum::DType::F32);
        let classes = probs.dims().get(1).copied().unwrap_or(0);
        let ranked = probs
            .to_vec::<f32>()
            .chunks(classes.max(1))
            .map(|row| {
                let mut r: Vec<(usize, f32)> = row.iter().copied().enumerate().collect();
                r.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                r
            })
            .collect();
        Ok(Predictions {
            truth: labels.to_vec::<i64>(),
            ranked,
        })
    }

    pub fn top1(&self) -> Vec<i64> {
        self.ranked.iter().map(|r| r[0].0 as i64).collect()
    }

    /// Indices of the wrongly classified images, the most confident mistakes first.
    pub fn mistakes(&self) -> Vec<usize> {
        let mut m: Vec<usize> = (0..self.truth.len())
            .filter(|&i| self.ranked[i][0].0 as i64 != self.truth[i])
            .collect();
        m.sort_by(|&a, &b| self.ranked[b][0].1.total_cmp(&self.ranked[a][0].1));
        m
    }
}

pub struct ReportInput<'a> {
    pub run: &'a RunDir,
    pub config: &'a RunConfig,
    pub history: &'a History,
    pub summary: &'a ClassificationSummary,
    pub model: &'a dyn VisionModel,
    /// Test images as loaded, pixels in [0, 1] (what the figures show).
    pub test_raw: &'a ImageDataset,
    /// The same, normalised (what the model reads).
    pub test_norm: &'a ImageDataset,
    pub predictions: &'a Predictions,
    pub seconds_per_epoch: f64,
    pub notes: &'a [String],
}

fn grid_image(data: &ImageDataset, index: usize) -> Result<GridImage> {
    let img = data.image(index)?;
    let d = img.dims().to_vec();
    let channels = if d[0] == 3 { 3 } else { 1 };
    // Images of other channel counts show their first channel.
    let pixels = img.narrow(0, 0, channels).contiguous().to_vec::<f32>();
    Ok(GridImage::new(pixels, channels, d[1], d[2]))
}

/// The scale that draws an image about 84 pixels wide.
fn scale_for(width: usize) -> f64 {
    (84.0 / width as f64).clamp(1.0, 10.0)
}

/// The misclassified test images (at most `max`) with true class and top-3.
fn mistakes_grid(input: &ReportInput<'_>, max: usize) -> Result<Option<String>> {
    let classes = &input.config.classes;
    let name = |c: usize| classes.get(c).cloned().unwrap_or_else(|| c.to_string());
    let wrong = input.predictions.mistakes();
    if wrong.is_empty() {
        return Ok(None);
    }
    let mut cells = Vec::new();
    for &i in wrong.iter().take(max) {
        let mut cell = grid_image(input.test_raw, i)?
            .caption(format!(
                "true: {}",
                name(input.predictions.truth[i] as usize)
            ))
            .highlight(true);
        for (c, p) in input.predictions.ranked[i].iter().take(3) {
            cell = cell.caption(format!("{} {:.2}", name(*c), p));
        }
        cells.push(cell);
    }
    let width = input.config.input_shape[2];
    let title = format!(
        "misclassified test images ({} of {}; most confident first)",
        cells.len(),
        wrong.len()
    );
    Ok(Some(
        ImageGrid::new(title, cells)
            .columns(8)
            .scale(scale_for(width))
            .to_svg(),
    ))
}

/// Saliency and Grad-CAM over the first `count` test images.
fn explanation_grids(input: &ReportInput<'_>, count: usize) -> Result<Vec<(String, String)>> {
    let n = count.min(input.test_norm.len());
    if n == 0 {
        return Ok(Vec::new());
    }
    let idx: Vec<usize> = (0..n).collect();
    let batch = input.test_norm.subset(&idx)?;
    let x = batch.images();
    let classes = &input.config.classes;
    let name = |c: usize| classes.get(c).cloned().unwrap_or_else(|| c.to_string());
    let width = input.config.input_shape[2];
    let mut out = Vec::new();
    let maps = [
        ("saliency", explain::saliency(input.model, x, None)?),
        ("Grad-CAM", explain::grad_cam(input.model, x, None, None)?),
    ];
    for (what, heat) in maps {
        let mut cells = Vec::new();
        for (i, m) in heat.iter().enumerate() {
            let truth = input.predictions.truth[i] as usize;
            cells.push(
                grid_image(input.test_raw, i)?
                    .overlay(m.map.to_vec::<f32>())
                    .caption(format!("pred {}", name(m.class)))
                    .caption(format!("true {}", name(truth)))
                    .highlight(m.class != truth),
            );
        }
        let title = if what == "Grad-CAM" {
            format!(
                "Grad-CAM at {} (red: what the predicted class relied on)",
                input.model.cam_layer()
            )
        } else {
            "saliency |∂ score / ∂ pixel| (red: pixels the score is most sensitive to)".to_string()
        };
        let svg = ImageGrid::new(title, cells)
            .columns(8)
            .scale(scale_for(width))
            .to_svg();
        out.push((what.to_string(), svg));
    }
    Ok(out)
}

/// Writes `report.html` into the run folder; returns its path.
pub fn write(input: &ReportInput<'_>) -> Result<PathBuf> {
    let c = input.config;
    let s = input.summary;
    let mut page = Page::new(format!("baeum image: {} on {}", c.model, c.data));
    page.heading("Summary");
    let t = &c.training;
    let rows = vec![
        vec![
            "test accuracy".into(),
            format!("{:.2}%", s.accuracy() * 100.0),
        ],
        vec!["test images".into(), format!("{}", s.confusion.total())],
        vec!["model".into(), c.model.clone()],
        vec!["parameters".into(), t["parameters"].to_string()],
        vec!["data".into(), c.data.clone()],
        vec![
            "input".into(),
            format!(
                "{}×{}×{}",
                c.input_shape[0], c.input_shape[1], c.input_shape[2]
            ),
        ],
        vec!["epochs run".into(), input.history.epochs.len().to_string()],
        vec![
            "seconds per epoch".into(),
            format!("{:.1}", input.seconds_per_epoch),
        ],
        vec![
            "optimizer".into(),
            format!(
                "{} (lr {})",
                t["optimizer"].as_str().unwrap_or("?"),
                t["lr"]
            ),
        ],
        vec!["batch size".into(), t["batch_size"].to_string()],
        vec!["seed".into(), t["seed"].to_string()],
    ];
    page.table(&["", "value"], &rows);
    for n in input.notes {
        page.paragraph(n);
    }
    page.heading("Training curves");
    for (name, svg) in history_charts(input.history) {
        page.figure(&svg, &format!("{name} per epoch (dashed: validation)"));
    }
    page.heading("Confusion matrix (test)");
    page.figure(
        &confusion_heatmap(s, "confusion matrix"),
        "rows: true class, columns: predicted; shading: share of the row (recall)",
    );
    page.heading("Per-class scores (test)");
    page.code(&s.class_table());
    page.heading("Mistakes");
    match mistakes_grid(input, 32)? {
        Some(svg) => {
            page.figure(
                &svg,
                "each image with its true class and the model's top-3 classes",
            );
        }
        None => {
            page.paragraph("No test image was misclassified.");
        }
    }
    page.heading("What the model looked at");
    for (what, svg) in explanation_grids(input, 8)? {
        page.figure(&svg, &format!("{what} over the first test images"));
    }
    let path = input.run.file("report.html");
    page.write(&path)
        .map_err(|e| baeum::Error::Io(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}
