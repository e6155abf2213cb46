//! What a classifier looked at: vanilla saliency maps (Simonyan et al. 2014) and Grad-CAM
//! (Selvaraju et al. 2017), as heat maps `[H, W]` in [0, 1] at the input's size.
//!
//! - **Saliency**: |∂ score_c / ∂ x|, the largest over the colour channels, per pixel.
//! - **Grad-CAM**: at a convolutional layer with activation A (`[K, h, w]`), the weights
//!   α_k = mean over positions of ∂ score_c / ∂ A_k; the map ReLU(Σ_k α_k A_k), upsampled
//!   bilinearly to the input size (PyTorch's `interpolate(mode="bilinear",
//!   align_corners=False)`).
//!
//! Both then scale each map to [0, 1] by its own minimum and maximum (a constant map becomes
//! zeros). The score is the class's logit; the class is the model's prediction unless given.
//! The model runs in eval mode (dropout off, batch norm on running statistics, so that each
//! image's gradient is its own) and is put back in the mode it was in.
//!
//! ```
//! use baeum_vision::{explain, models};
//! baeum::manual_seed(0);
//! let model = models::build("lenet5", 10, 1).unwrap();
//! let images = baeum::Tensor::rand([2, 1, 28, 28]);
//! let cams = explain::grad_cam(&*model, &images, None, None).unwrap();
//! assert_eq!(cams[0].map.dims(), &[28, 28]);
//! let sal = explain::saliency(&*model, &images, Some(&[3, 7])).unwrap();
//! assert_eq!(sal[1].class, 7);
//! assert!(sal[1].map.to_vec::<f32>().iter().all(|v| (0.0..=1.0).contains(v)));
//! ```

use baeum::autograd::{BackwardOptions, enable_grad, grad};
use baeum::nn::{Entry, Layer, Module, ModuleExt, walk};
use baeum::{DType, Result, Tensor};

use crate::models::{VisionModel, bail};

/// One image's heat map.
#[derive(Clone, Debug)]
pub struct HeatMap {
    /// The class explained.
    pub class: usize,
    /// That class's logit for this image.
    pub score: f32,
    /// `[H, W]` f32 in [0, 1], at the input's height and width.
    pub map: Tensor,
}

/// The raw material of a saliency map: the logits, the classes explained and
/// ∂ score_class / ∂ input (`[N, C, H, W]`, one image's gradient per row).
#[derive(Clone, Debug)]
pub struct InputGradient {
    pub logits: Tensor,
    pub classes: Vec<usize>,
    pub gradient: Tensor,
}

/// The raw material of Grad-CAM: the logits, the classes explained, a layer's activation A
/// (`[N, K, h, w]`) and ∂ score_class / ∂ A.
#[derive(Clone, Debug)]
pub struct LayerGradient {
    pub logits: Tensor,
    pub classes: Vec<usize>,
    pub activation: Tensor,
    pub gradient: Tensor,
}

/// Vanilla saliency for each image of `images` (`[N, C, H, W]`), for `classes` (one per image)
/// or the predicted ones.
pub fn saliency(
    model: &dyn Layer,
    images: &Tensor,
    classes: Option<&[usize]>,
) -> Result<Vec<HeatMap>> {
    let g = input_gradient(model, images, classes)?;
    // |∂s/∂x| then the largest over channels: [N, C, H, W] → [N, H, W].
    let maps = g.gradient.abs().amax(&[1], false).to_dtype(DType::F32);
    heat_maps(&g.logits, &g.classes, &maps)
}

/// ∂ score_class / ∂ input for each image, the model in eval mode.
pub fn input_gradient(
    model: &dyn Layer,
    images: &Tensor,
    classes: Option<&[usize]>,
) -> Result<InputGradient> {
    check_images("saliency", images)?;
    in_eval(model as &dyn Module, || {
        enable_grad(|| {
            let x = images.detach().requires_grad_(true);
            let logits = model.forward(&x)?;
            let classes = pick_classes("saliency", &logits, images.dims()[0], classes)?;
            let score = class_scores(&logits, &classes).sum();
            let gradient = grad(&[&score], &[&x], None, BackwardOptions::default())?
                .pop()
                .flatten()
                .unwrap_or_else(|| Tensor::zeros_dtype(x.dims(), x.dtype()));
            Ok(InputGradient {
                logits: logits.detach(),
                classes,
                gradient,
            })
        })
    })
}

/// Grad-CAM for each image at `layer` (the model's [`VisionModel::cam_layer`] when `None`),
/// for `classes` (one per image) or the predicted ones.
pub fn grad_cam(
    model: &dyn VisionModel,
    images: &Tensor,
    layer: Option<&str>,
    classes: Option<&[usize]>,
) -> Result<Vec<HeatMap>> {
    let g = layer_gradient(model, images, layer, classes)?;
    let cams = cam(&g.activation, &g.gradient)?;
    let dims = images.dims();
    let maps = upsample_bilinear(&cams, dims[2], dims[3])?;
    heat_maps(&g.logits, &g.classes, &maps)
}

/// A layer's activation and ∂ score_class / ∂ activation, the model in eval mode. The
/// activation is cut from the graph below it, so only the layers above it are differentiated
/// (and frozen parameters or an input without gradient do not matter).
pub fn layer_gradient(
    model: &dyn VisionModel,
    images: &Tensor,
    layer: Option<&str>,
    classes: Option<&[usize]>,
) -> Result<LayerGradient> {
    check_images("grad_cam", images)?;
    let layer = layer.map_or_else(|| model.cam_layer(), str::to_string);
    in_eval(model as &dyn Module, || {
        enable_grad(|| {
            let mut activation: Option<Tensor> = None;
            let mut keep = |a: Tensor| -> Result<Tensor> {
                let leaf = a.detach().requires_grad_(true);
                activation = Some(leaf.clone());
                Ok(leaf)
            };
            let logits = model.forward_hooked(images, &layer, &mut keep)?;
            let Some(activation) = activation else {
                bail!(Invalid, "grad_cam: layer '{layer}' produced no activation");
            };
            if activation.rank() != 4 {
                bail!(
                    Shape,
                    "grad_cam: layer '{layer}' of {} gives {:?}; Grad-CAM needs a convolutional \
                     layer's [N, C, H, W] output",
                    model.arch(),
                    activation.dims()
                );
            }
            let classes = pick_classes("grad_cam", &logits, images.dims()[0], classes)?;
            let score = class_scores(&logits, &classes).sum();
            let gradient = grad(&[&score], &[&activation], None, BackwardOptions::default())?
                .pop()
                .flatten()
                .unwrap_or_else(|| Tensor::zeros_dtype(activation.dims(), activation.dtype()));
            Ok(LayerGradient {
                logits: logits.detach(),
                classes,
                activation: activation.detach(),
                gradient,
            })
        })
    })
}

/// The class-activation maps ReLU(Σ_k α_k A_k), α_k = mean over positions of the gradient:
/// `[N, K, h, w]` twice → `[N, h, w]` (f32, not yet scaled).
pub fn cam(activation: &Tensor, gradient: &Tensor) -> Result<Tensor> {
    if activation.rank() != 4 || activation.dims() != gradient.dims() {
        bail!(
            Shape,
            "grad_cam: activation {:?} and gradient {:?} must be the same [N, K, h, w]",
            activation.dims(),
            gradient.dims()
        );
    }
    let alpha = gradient.mean_dims(&[2, 3], true);
    Ok((&alpha * activation)
        .sum_dim(1, false)
        .relu()
        .to_dtype(DType::F32))
}

/// Bilinear resizing of maps `[N, h, w]` (or one `[h, w]`) to `height`×`width`, as PyTorch's
/// `interpolate(mode="bilinear", align_corners=False)`: each output pixel samples the input at
/// its centre, ((i + ½)·h/H − ½), clamped at the edges.
pub fn upsample_bilinear(maps: &Tensor, height: usize, width: usize) -> Result<Tensor> {
    let (n, h, w, batched) = match *maps.dims() {
        [n, h, w] => (n, h, w, true),
        [h, w] => (1, h, w, false),
        _ => bail!(
            Shape,
            "upsample_bilinear: maps {:?} must be [N, H, W] or [H, W]",
            maps.dims()
        ),
    };
    if h == 0 || w == 0 || height == 0 || width == 0 {
        bail!(
            Shape,
            "upsample_bilinear: cannot resize {:?} to {height}×{width}",
            maps.dims()
        );
    }
    let src = maps.to_vec::<f32>();
    let rows = taps(h, height);
    let cols = taps(w, width);
    let mut out = Vec::with_capacity(n * height * width);
    for img in src.chunks(h * w) {
        for &(r0, r1, fr) in &rows {
            for &(c0, c1, fc) in &cols {
                let top = img[r0 * w + c0] * (1.0 - fc) + img[r0 * w + c1] * fc;
                let bottom = img[r1 * w + c0] * (1.0 - fc) + img[r1 * w + c1] * fc;
                out.push(top * (1.0 - fr) + bottom * fr);
            }
        }
    }
    let shape: Vec<usize> = if batched {
        vec![n, height, width]
    } else {
        vec![height, width]
    };
    Ok(Tensor::from_vec(out, shape))
}

/// For each output index along one axis: the two input indices it mixes and the weight of the
/// second (PyTorch's `area_pixel_compute_source_index` with align_corners=False).
fn taps(input: usize, output: usize) -> Vec<(usize, usize, f32)> {
    let scale = input as f64 / output as f64;
    (0..output)
        .map(|i| {
            let src = ((i as f64 + 0.5) * scale - 0.5).max(0.0);
            let i0 = (src.floor() as usize).min(input - 1);
            let i1 = if i0 + 1 < input { i0 + 1 } else { i0 };
            (i0, i1, (src - i0 as f64) as f32)
        })
        .collect()
}

/// Scales a map to [0, 1] by its minimum and maximum; a constant map becomes zeros.
pub fn min_max_scale(map: &[f32]) -> Vec<f32> {
    let lo = map.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = map.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let span = hi - lo;
    if !span.is_finite() || span <= 0.0 {
        return vec![0.0; map.len()];
    }
    map.iter().map(|v| (v - lo) / span).collect()
}

// ---------------------------------------------------------------------------------------------

fn check_images(op: &str, images: &Tensor) -> Result<()> {
    if images.rank() != 4 || images.dims()[0] == 0 {
        bail!(
            Shape,
            "{op}: images {:?} must be a non-empty batch [N, C, H, W]",
            images.dims()
        );
    }
    if !matches!(images.dtype(), DType::F32 | DType::F64) {
        bail!(
            DType,
            "{op}: images must be f32 or f64, got {}",
            images.dtype()
        );
    }
    Ok(())
}

/// The given classes (checked against the batch and the logits) or the predicted ones.
fn pick_classes(
    op: &str,
    logits: &Tensor,
    n: usize,
    classes: Option<&[usize]>,
) -> Result<Vec<usize>> {
    let &[rows, k] = logits.dims() else {
        bail!(
            Shape,
            "{op}: the model's output {:?} is not [N, classes]",
            logits.dims()
        );
    };
    if rows != n {
        bail!(Shape, "{op}: {n} images gave {rows} rows of logits");
    }
    match classes {
        None => Ok(logits
            .argmax_dim(1, false)
            .to_vec::<i64>()
            .into_iter()
            .map(|c| c as usize)
            .collect()),
        Some(c) if c.len() != n => bail!(
            Invalid,
            "{op}: {} classes given for {n} images (one per image)",
            c.len()
        ),
        Some(c) => {
            if let Some(bad) = c.iter().find(|&&c| c >= k) {
                bail!(
                    Index,
                    "{op}: class {bad} is out of range for a model with {k} outputs"
                );
            }
            Ok(c.to_vec())
        }
    }
}

/// `logits[n, classes[n]]` for each row, `[N]`.
fn class_scores(logits: &Tensor, classes: &[usize]) -> Tensor {
    let idx: Vec<i64> = classes.iter().map(|&c| c as i64).collect();
    let idx = Tensor::from_vec(idx, [classes.len(), 1]);
    logits.gather(1, &idx).flatten(0, -1)
}

/// One `HeatMap` per row of `maps` (`[N, H, W]`), each scaled to [0, 1].
fn heat_maps(logits: &Tensor, classes: &[usize], maps: &Tensor) -> Result<Vec<HeatMap>> {
    let dims = maps.dims().to_vec();
    let (h, w) = (dims[1], dims[2]);
    let scores = class_scores(logits, classes).to_vec::<f32>();
    let values = maps.to_vec::<f32>();
    Ok(values
        .chunks(h * w)
        .zip(classes.iter().zip(scores))
        .map(|(m, (&class, score))| HeatMap {
            class,
            score,
            map: Tensor::from_vec(min_max_scale(m), [h, w]),
        })
        .collect())
}

/// Runs `f` with every module in eval mode, then restores each module's mode.
fn in_eval<R>(model: &dyn Module, f: impl FnOnce() -> R) -> R {
    let mut modes = Vec::new();
    walk(model, &mut |_, e| {
        if let Entry::Module(m) = e {
            modes.push(m.is_training());
        }
    });
    model.eval();
    let out = f();
    let mut i = 0;
    walk(model, &mut |_, e| {
        if let Entry::Module(m) = e {
            m.set_training(modes.get(i).copied().unwrap_or(true));
            i += 1;
        }
    });
    out
}
