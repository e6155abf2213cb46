//! Image transforms on `[C, H, W]` f32 tensors, torchvision's `transforms` in Rust: to-tensor,
//! normalise, resize, crops, flips, rotations and affine maps. Every random transform draws from
//! a [`Generator`] it is handed, so the same seed gives the same images; [`Compose`] chains them
//! and [`Transformed`] applies them to a data set's examples as they are loaded.
//!
//! The geometry follows torchvision's tensor functions, so the numbers match theirs: resizing is
//! `F.interpolate(mode="bilinear", align_corners=False)` (with or without antialiasing),
//! rotations and affine maps sample as `F.rotate` / `F.affine` do (the inverse map about the
//! image centre, `grid_sample` with `align_corners=False`, a fill colour outside the image).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use baeum::data::{Dataset, Normalize, Transform};
use baeum::{DType, Generator, Result, Tensor};
use image::DynamicImage;

use crate::bail;
use crate::datasets::ColorMode;

/// A transform of one image `[C, H, W]`; random ones draw from `g` (and deterministic ones
/// ignore it), so a seeded generator makes any chain reproducible.
pub trait ImageTransform: Send + Sync {
    fn apply(&self, x: &Tensor, g: &mut Generator) -> Result<Tensor>;
}

/// torchvision's per-channel `Normalize`, from the library, as a step of a [`Compose`].
impl ImageTransform for Normalize {
    fn apply(&self, x: &Tensor, _g: &mut Generator) -> Result<Tensor> {
        Transform::apply(self, x)
    }
}

impl<T: ImageTransform + ?Sized> ImageTransform for Arc<T> {
    fn apply(&self, x: &Tensor, g: &mut Generator) -> Result<Tensor> {
        (**self).apply(x, g)
    }
}

impl<T: ImageTransform + ?Sized> ImageTransform for Box<T> {
    fn apply(&self, x: &Tensor, g: &mut Generator) -> Result<Tensor> {
        (**self).apply(x, g)
    }
}

/// An image `[C, H, W]` unpacked as `(c, h, w, pixels)`, or an error naming `op` and the shape.
fn unpack(op: &str, x: &Tensor) -> Result<(usize, usize, usize, Vec<f32>)> {
    if x.rank() != 3 || !x.dtype().is_float() {
        bail!(
            Shape,
            "{op}: expects a float image [C, H, W], got {} of shape {}",
            x.dtype(),
            x.shape()
        );
    }
    let d = x.dims();
    Ok((d[0], d[1], d[2], x.to_vec::<f32>()))
}

// ---------------------------------------------------------------------------------------------
// To and from images.

/// A decoded image as `[C, H, W]` f32 in `[0, 1]` (torchvision's `ToTensor`): one channel for
/// [`ColorMode::Gray`] (PIL's `convert("L")` weights), three for [`ColorMode::Rgb`] (alpha
/// dropped).
pub fn to_tensor(img: &DynamicImage, mode: ColorMode) -> Tensor {
    let rgb = img.to_rgb8();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let raw = rgb.as_raw();
    match mode {
        ColorMode::Rgb => {
            let mut out = vec![0f32; 3 * h * w];
            for (p, px) in raw.chunks_exact(3).enumerate() {
                for c in 0..3 {
                    out[c * h * w + p] = px[c] as f32 / 255.0;
                }
            }
            Tensor::from_vec(out, [3, h, w])
        }
        ColorMode::Gray => {
            let out: Vec<f32> = if img.color().has_color() {
                raw.chunks_exact(3)
                    .map(|px| luma(px[0], px[1], px[2]) as f32 / 255.0)
                    .collect()
            } else {
                // Already gray: its own values, not a round trip through RGB weights.
                img.to_luma8()
                    .as_raw()
                    .iter()
                    .map(|&v| v as f32 / 255.0)
                    .collect()
            };
            Tensor::from_vec(out, [1, h, w])
        }
    }
}

/// PIL's RGB → L: `(R·299 + G·587 + B·114) / 1000` in 16-bit fixed point, rounded.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((r as u32 * 19595 + g as u32 * 38470 + b as u32 * 7471 + 0x8000) >> 16) as u8
}

/// Interleaved u8 pixels `[H, W, C]` (as image files and NumPy hold them) as `[C, H, W]` f32
/// in `[0, 1]`.
pub fn from_hwc_u8(pixels: &[u8], height: usize, width: usize, channels: usize) -> Result<Tensor> {
    if pixels.len() != height * width * channels {
        bail!(
            Shape,
            "from_hwc_u8: {} bytes cannot be an image of {height}×{width}×{channels}",
            pixels.len()
        );
    }
    let plane = height * width;
    let mut out = vec![0f32; pixels.len()];
    for (i, &v) in pixels.iter().enumerate() {
        out[(i % channels) * plane + i / channels] = v as f32 / 255.0;
    }
    Ok(Tensor::from_vec(out, [channels, height, width]))
}

/// An image `[1, H, W]` or `[3, H, W]` with values in `[0, 1]` (clamped) as an 8-bit gray or
/// RGB image, to save as PNG (torchvision's `ToPILImage`, rounding to nearest).
pub fn to_image(x: &Tensor) -> Result<DynamicImage> {
    let (c, h, w, data) = unpack("to_image", x)?;
    let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    let (wu, hu) = (w as u32, h as u32);
    match c {
        1 => {
            let buf: Vec<u8> = data.iter().map(|&v| byte(v)).collect();
            Ok(DynamicImage::ImageLuma8(
                image::GrayImage::from_raw(wu, hu, buf).expect("to_image: buffer size"),
            ))
        }
        3 => {
            let plane = h * w;
            let buf: Vec<u8> = (0..plane * 3)
                .map(|i| byte(data[(i % 3) * plane + i / 3]))
                .collect();
            Ok(DynamicImage::ImageRgb8(
                image::RgbImage::from_raw(wu, hu, buf).expect("to_image: buffer size"),
            ))
        }
        _ => bail!(
            Shape,
            "to_image: expects 1 (gray) or 3 (RGB) channels, got shape {}",
            x.shape()
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Deterministic geometry.

/// Mirrors an image left to right (`F.hflip`).
pub fn hflip(x: &Tensor) -> Result<Tensor> {
    let (c, h, w, data) = unpack("hflip", x)?;
    let mut out: Vec<f32> = Vec::with_capacity(data.len());
    for row in data.chunks_exact(w.max(1)) {
        out.extend(row.iter().rev());
    }
    debug_assert_eq!(out.len(), c * h * w);
    Ok(Tensor::from_vec(out, [c, h, w]))
}

/// The `height × width` window whose top-left corner is `(top, left)`; parts outside the image
/// (negative or past the edge) are `fill` (`F.crop` pads with zeros).
pub fn crop(
    x: &Tensor,
    top: isize,
    left: isize,
    height: usize,
    width: usize,
    fill: f32,
) -> Result<Tensor> {
    let (c, h, w, data) = unpack("crop", x)?;
    let mut out = vec![fill; c * height * width];
    for ch in 0..c {
        for y in 0..height {
            let sy = top + y as isize;
            if sy < 0 || sy >= h as isize {
                continue;
            }
            for xx in 0..width {
                let sx = left + xx as isize;
                if sx >= 0 && sx < w as isize {
                    out[(ch * height + y) * width + xx] =
                        data[(ch * h + sy as usize) * w + sx as usize];
                }
            }
        }
    }
    Ok(Tensor::from_vec(out, [c, height, width]))
}

/// Pads `fill` around an image: `left`, `top`, `right`, `bottom` pixels (`F.pad`, constant mode).
pub fn pad(
    x: &Tensor,
    left: usize,
    top: usize,
    right: usize,
    bottom: usize,
    fill: f32,
) -> Result<Tensor> {
    let (_, h, w, _) = unpack("pad", x)?;
    crop(
        x,
        -(top as isize),
        -(left as isize),
        h + top + bottom,
        w + left + right,
        fill,
    )
}

/// The centre `height × width` window, padding with zeros when the image is smaller
/// (`F.center_crop`: the offset `round((H - height) / 2)`, rounding half to even as Python).
pub fn center_crop(x: &Tensor, height: usize, width: usize) -> Result<Tensor> {
    let (_, h, w, _) = unpack("center_crop", x)?;
    // Python's round((H - h) / 2.0) on a signed difference.
    let offset = |size: usize, crop: usize| ((size as f64 - crop as f64) / 2.0).round_ties_even();
    if height > h || width > w {
        // torchvision pads first ((d) // 2 before, (d + 1) // 2 after), then crops the centre.
        let (dw, dh) = (width.saturating_sub(w), height.saturating_sub(h));
        let padded = pad(x, dw / 2, dh / 2, dw.div_ceil(2), dh.div_ceil(2), 0.0)?;
        return center_crop(&padded, height, width);
    }
    crop(
        x,
        offset(h, height) as isize,
        offset(w, width) as isize,
        height,
        width,
        0.0,
    )
}

/// The source coordinate of output `i` and the neighbours' weights for a 1-D bilinear resize
/// from `input` to `output` samples, as PyTorch computes them with `align_corners=False`.
fn linear_taps(input: usize, output: usize, antialias: bool) -> Vec<(usize, Vec<f32>)> {
    let scale = input as f64 / output as f64;
    (0..output)
        .map(|i| {
            if antialias && scale > 1.0 {
                // PIL's (and torch's `antialias=True`) triangle filter stretched by the scale:
                // every input sample under it contributes, so downsizing averages, not skips.
                let support = scale;
                let center = scale * (i as f64 + 0.5);
                let xmin = ((center - support + 0.5) as i64).max(0) as usize;
                let xmax = ((center + support + 0.5) as i64).min(input as i64) as usize;
                let mut w: Vec<f64> = (xmin..xmax)
                    .map(|j| {
                        let t = ((j as f64 - center + 0.5) / scale).abs();
                        if t < 1.0 { 1.0 - t } else { 0.0 }
                    })
                    .collect();
                let total: f64 = w.iter().sum();
                if total > 0.0 {
                    w.iter_mut().for_each(|v| *v /= total);
                }
                (xmin, w.into_iter().map(|v| v as f32).collect())
            } else {
                let src = (scale * (i as f64 + 0.5) - 0.5).max(0.0);
                let x0 = (src as usize).min(input - 1);
                let l1 = (src - x0 as f64) as f32;
                if x0 + 1 < input {
                    (x0, vec![1.0 - l1, l1])
                } else {
                    (x0, vec![1.0])
                }
            }
        })
        .collect()
}

/// Bilinear resize to `height × width` (`F.interpolate(x, size, mode="bilinear",
/// align_corners=False, antialias=...)`); with `antialias`, shrinking averages over the pixels
/// each output covers, as torchvision's `Resize` does by default.
pub fn resize(x: &Tensor, height: usize, width: usize, antialias: bool) -> Result<Tensor> {
    let (c, h, w, data) = unpack("resize", x)?;
    if height == 0 || width == 0 || h == 0 || w == 0 {
        bail!(
            Shape,
            "resize: cannot resize an image of shape {} to {height}×{width}",
            x.shape()
        );
    }
    if (h, w) == (height, width) {
        return Ok(Tensor::from_vec(data, [c, h, w]));
    }
    // Separable: along the width first, then along the height (torch's order).
    let xt = linear_taps(w, width, antialias);
    let yt = linear_taps(h, height, antialias);
    let mut rows = vec![0f32; c * h * width];
    for (r, src) in data.chunks_exact(w).enumerate() {
        for (o, (x0, ws)) in xt.iter().enumerate() {
            rows[r * width + o] = ws.iter().enumerate().map(|(k, wt)| wt * src[x0 + k]).sum();
        }
    }
    let mut out = vec![0f32; c * height * width];
    for ch in 0..c {
        for (o, (y0, ws)) in yt.iter().enumerate() {
            for xx in 0..width {
                out[(ch * height + o) * width + xx] = ws
                    .iter()
                    .enumerate()
                    .map(|(k, wt)| wt * rows[(ch * h + y0 + k) * width + xx])
                    .sum();
            }
        }
    }
    Ok(Tensor::from_vec(out, [c, height, width]))
}

/// How a rotated or shifted image is sampled between pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Interpolation {
    /// The nearest pixel (torchvision's default for rotations and affine maps).
    #[default]
    Nearest,
    /// Bilinear between the four nearest pixels.
    Bilinear,
}

/// torchvision's `_get_inverse_affine_matrix`: the map from output to input coordinates
/// (centred on the image) of a rotation by `angle` degrees (clockwise, in image coordinates
/// where y points down), a `translate` in pixels, a `scale` and a `shear` in degrees, about
/// `center` (centred coordinates, `(0, 0)` for the image centre).
fn inverse_affine_matrix(
    center: (f64, f64),
    angle: f64,
    translate: (f64, f64),
    scale: f64,
    shear: (f64, f64),
) -> [f64; 6] {
    let rot = angle.to_radians();
    let (sx, sy) = (shear.0.to_radians(), shear.1.to_radians());
    let (cx, cy) = center;
    let (tx, ty) = translate;
    // Rotation with shear, without scale: [[a, b], [c, d]], determinant 1.
    let a = (rot - sy).cos() / sy.cos();
    let b = -(rot - sy).cos() * sx.tan() / sy.cos() - rot.sin();
    let c = (rot - sy).sin() / sy.cos();
    let d = -(rot - sy).sin() * sx.tan() / sy.cos() + rot.cos();
    let mut m = [d, -b, 0.0, -c, a, 0.0].map(|v| v / scale);
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
    m[2] += cx;
    m[5] += cy;
    m
}

/// Resamples an image through an inverse affine map `m` in centred coordinates, as
/// torchvision's `_apply_grid_transform` with a fill: a mask of ones is sampled alongside, and
/// where the sample falls outside the image the result blends toward (bilinear) or becomes
/// (nearest) `fill`.
fn warp(
    op: &str,
    x: &Tensor,
    m: [f64; 6],
    interpolation: Interpolation,
    fill: f32,
) -> Result<Tensor> {
    let (c, h, w, data) = unpack(op, x)?;
    let mut out = vec![0f32; c * h * w];
    let (hx, hy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
    let inside = |xi: i64, yi: i64| xi >= 0 && yi >= 0 && (xi as usize) < w && (yi as usize) < h;
    for y in 0..h {
        let v = y as f64 - hy;
        for xx in 0..w {
            let u = xx as f64 - hx;
            // Input pixel coordinates of the output pixel's centre.
            let sx = m[0] * u + m[1] * v + m[2] + hx;
            let sy = m[3] * u + m[4] * v + m[5] + hy;
            match interpolation {
                Interpolation::Nearest => {
                    // grid_sample rounds half to even (nearbyint).
                    let (xi, yi) = (sx.round_ties_even() as i64, sy.round_ties_even() as i64);
                    for ch in 0..c {
                        out[(ch * h + y) * w + xx] = if inside(xi, yi) {
                            data[(ch * h + yi as usize) * w + xi as usize]
                        } else {
                            fill
                        };
                    }
                }
                Interpolation::Bilinear => {
                    let (x0, y0) = (sx.floor() as i64, sy.floor() as i64);
                    let (fx, fy) = (sx - x0 as f64, sy - y0 as f64);
                    let taps = [
                        (x0, y0, (1.0 - fx) * (1.0 - fy)),
                        (x0 + 1, y0, fx * (1.0 - fy)),
                        (x0, y0 + 1, (1.0 - fx) * fy),
                        (x0 + 1, y0 + 1, fx * fy),
                    ];
                    let mask: f64 = taps
                        .iter()
                        .filter(|(xi, yi, _)| inside(*xi, *yi))
                        .map(|t| t.2)
                        .sum();
                    for ch in 0..c {
                        let s: f64 = taps
                            .iter()
                            .filter(|(xi, yi, _)| inside(*xi, *yi))
                            .map(|&(xi, yi, wt)| {
                                wt * data[(ch * h + yi as usize) * w + xi as usize] as f64
                            })
                            .sum();
                        out[(ch * h + y) * w + xx] = (s * mask + (1.0 - mask) * fill as f64) as f32;
                    }
                }
            }
        }
    }
    Ok(Tensor::from_vec(out, [c, h, w]))
}

/// Rotates an image by `angle` degrees counter-clockwise about its centre, keeping its size
/// (`F.rotate(x, angle, interpolation, fill=[fill])`).
pub fn rotate(x: &Tensor, angle: f64, interpolation: Interpolation, fill: f32) -> Result<Tensor> {
    let m = inverse_affine_matrix((0.0, 0.0), -angle, (0.0, 0.0), 1.0, (0.0, 0.0));
    warp("rotate", x, m, interpolation, fill)
}

/// The parameters of an affine map about the image centre (torchvision's `F.affine`): `angle`
/// degrees clockwise, `translate` in pixels (x right, y down), `scale`, `shear` degrees
/// `(x, y)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AffineParams {
    pub angle: f64,
    pub translate: (f64, f64),
    pub scale: f64,
    pub shear: (f64, f64),
}

impl Default for AffineParams {
    fn default() -> Self {
        AffineParams {
            angle: 0.0,
            translate: (0.0, 0.0),
            scale: 1.0,
            shear: (0.0, 0.0),
        }
    }
}

/// Applies an affine map about the image centre, keeping its size (`F.affine`).
pub fn affine(
    x: &Tensor,
    p: AffineParams,
    interpolation: Interpolation,
    fill: f32,
) -> Result<Tensor> {
    if !(p.scale > 0.0 && p.scale.is_finite()) {
        bail!(Invalid, "affine: scale must be positive, got {}", p.scale);
    }
    let m = inverse_affine_matrix((0.0, 0.0), p.angle, p.translate, p.scale, p.shear);
    warp("affine", x, m, interpolation, fill)
}

// ---------------------------------------------------------------------------------------------
// Transforms as values.

/// Transforms applied in order (`transforms.Compose`), all drawing from one generator.
///
/// ```
/// use baeum::{Generator, Tensor};
/// use baeum_vision::transforms::{Compose, ImageTransform, RandomCrop, RandomHorizontalFlip};
/// let augment = Compose::new()
///     .then(RandomCrop::new(28, 28).padding(2))
///     .then(RandomHorizontalFlip::new(0.5));
/// let x = Tensor::rand([1, 28, 28]);
/// let a = augment.apply(&x, &mut Generator::new(7)).unwrap();
/// let b = augment.apply(&x, &mut Generator::new(7)).unwrap();
/// assert_eq!(a.to_vec::<f32>(), b.to_vec::<f32>());
/// ```
#[derive(Clone, Default)]
pub struct Compose {
    steps: Vec<Arc<dyn ImageTransform>>,
}

impl Compose {
    pub fn new() -> Self {
        Compose::default()
    }

    /// Appends a step.
    pub fn then(mut self, t: impl ImageTransform + 'static) -> Self {
        self.steps.push(Arc::new(t));
        self
    }

    /// Appends a step already shared.
    pub fn then_arc(mut self, t: Arc<dyn ImageTransform>) -> Self {
        self.steps.push(t);
        self
    }

    pub fn len(&self) -> usize {
        self.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl ImageTransform for Compose {
    fn apply(&self, x: &Tensor, g: &mut Generator) -> Result<Tensor> {
        let mut x = x.clone();
        for step in &self.steps {
            x = step.apply(&x, g)?;
        }
        Ok(x)
    }
}

/// Resizes to a fixed `height × width`, or its shorter side to a length keeping the aspect
/// ratio (`transforms.Resize(size)` with an int); bilinear, antialiased when shrinking (as
/// torchvision's default) unless told.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Resize {
    target: ResizeTarget,
    antialias: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum ResizeTarget {
    Exact(usize, usize),
    Shorter(usize),
}

impl Resize {
    /// To exactly `height × width`.
    pub fn new(height: usize, width: usize) -> Self {
        Resize {
            target: ResizeTarget::Exact(height, width),
            antialias: true,
        }
    }

    /// The shorter side to `size`, the longer `floor(size · long / short)`.
    pub fn shorter_side(size: usize) -> Self {
        Resize {
            target: ResizeTarget::Shorter(size),
            antialias: true,
        }
    }

    /// Whether shrinking averages the covered pixels (default true).
    pub fn antialias(mut self, antialias: bool) -> Self {
        self.antialias = antialias;
        self
    }

    /// The output `(height, width)` for an input of `h × w`.
    pub fn output_size(&self, h: usize, w: usize) -> (usize, usize) {
        match self.target {
            ResizeTarget::Exact(oh, ow) => (oh, ow),
            ResizeTarget::Shorter(s) => {
                if h <= w {
                    (s, s * w / h.max(1))
                } else {
                    (s * h / w.max(1), s)
                }
            }
        }
    }

    /// Resizes one image.
    pub fn resize(&self, x: &Tensor) -> Result<Tensor> {
        let (_, h, w, _) = unpack("Resize", x)?;
        let (oh, ow) = self.output_size(h, w);
        resize(x, oh, ow, self.antialias)
    }
}

impl ImageTransform for Resize {
    fn apply(&self, x: &Tensor, _g: &mut Generator) -> Result<Tensor> {
        self.resize(x)
    }
}

/// The centre window of `height × width` (`transforms.CenterCrop`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CenterCrop {
    pub height: usize,
    pub width: usize,
}

impl CenterCrop {
    pub fn new(height: usize, width: usize) -> Self {
        CenterCrop { height, width }
    }
}

impl ImageTransform for CenterCrop {
    fn apply(&self, x: &Tensor, _g: &mut Generator) -> Result<Tensor> {
        center_crop(x, self.height, self.width)
    }
}

/// A random `height × width` window, after padding every side by `padding` pixels of `fill`
/// (`transforms.RandomCrop(size, padding=p)`, the CIFAR augmentation with `p = 4`). The
/// top-left corner is uniform over the positions that fit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RandomCrop {
    pub height: usize,
    pub width: usize,
    pub padding: usize,
    pub fill: f32,
}

impl RandomCrop {
    pub fn new(height: usize, width: usize) -> Self {
        RandomCrop {
            height,
            width,
            padding: 0,
            fill: 0.0,
        }
    }

    pub fn padding(mut self, padding: usize) -> Self {
        self.padding = padding;
        self
    }

    pub fn fill(mut self, fill: f32) -> Self {
        self.fill = fill;
        self
    }
}

impl ImageTransform for RandomCrop {
    fn apply(&self, x: &Tensor, g: &mut Generator) -> Result<Tensor> {
        let (_, h, w, _) = unpack("RandomCrop", x)?;
        let p = self.padding;
        let (ph, pw) = (h + 2 * p, w + 2 * p);
        if self.height > ph || self.width > pw {
            bail!(
                Shape,
                "RandomCrop: a {}×{} crop does not fit an image of shape {} padded by {p} ({ph}×{pw})",
                self.height,
                self.width,
                x.shape()
            );
        }
        // The same window in padded coordinates, read straight from the unpadded image.
        let (top, left) = if (ph, pw) == (self.height, self.width) {
            (0, 0)
        } else {
            let top = g.below((ph - self.height + 1) as u64) as isize;
            let left = g.below((pw - self.width + 1) as u64) as isize;
            (top, left)
        };
        crop(
            x,
            top - p as isize,
            left - p as isize,
            self.height,
            self.width,
            self.fill,
        )
    }
}

/// Mirrors left to right with probability `p` (`transforms.RandomHorizontalFlip`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RandomHorizontalFlip {
    pub p: f64,
}

impl RandomHorizontalFlip {
    pub fn new(p: f64) -> Self {
        RandomHorizontalFlip { p }
    }
}

impl Default for RandomHorizontalFlip {
    fn default() -> Self {
        RandomHorizontalFlip { p: 0.5 }
    }
}

impl ImageTransform for RandomHorizontalFlip {
    fn apply(&self, x: &Tensor, g: &mut Generator) -> Result<Tensor> {
        if g.next_f64() < self.p {
            hflip(x)
        } else {
            unpack("RandomHorizontalFlip", x)?;
            Ok(x.clone())
        }
    }
}

/// A uniform draw from `[lo, hi]`.
fn uniform(g: &mut Generator, (lo, hi): (f64, f64)) -> f64 {
    lo + (hi - lo) * g.next_f64()
}

/// Rotates by an angle uniform in `[-degrees, degrees]` (or a given range), counter-clockwise
/// (`transforms.RandomRotation`; nearest-pixel sampling and fill 0 unless told).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RandomRotation {
    pub degrees: (f64, f64),
    pub interpolation: Interpolation,
    pub fill: f32,
}

impl RandomRotation {
    /// Angles in `[-degrees, degrees]`.
    pub fn new(degrees: f64) -> Self {
        RandomRotation::range(-degrees.abs(), degrees.abs())
    }

    /// Angles in `[lo, hi]`.
    pub fn range(lo: f64, hi: f64) -> Self {
        RandomRotation {
            degrees: (lo, hi),
            interpolation: Interpolation::Nearest,
            fill: 0.0,
        }
    }

    pub fn interpolation(mut self, interpolation: Interpolation) -> Self {
        self.interpolation = interpolation;
        self
    }

    pub fn fill(mut self, fill: f32) -> Self {
        self.fill = fill;
        self
    }
}

impl ImageTransform for RandomRotation {
    fn apply(&self, x: &Tensor, g: &mut Generator) -> Result<Tensor> {
        let angle = uniform(g, self.degrees);
        rotate(x, angle, self.interpolation, self.fill)
    }
}

/// A random affine map about the centre (`transforms.RandomAffine`): an angle uniform in
/// `degrees` (clockwise), a shift of up to `translate = (fx, fy)` of the width and height
/// (rounded to whole pixels), a scale uniform in `scale`, a shear in degrees uniform in `shear`
/// along x (and y when given). Drawn in torchvision's order: angle, shift, scale, shear.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RandomAffine {
    pub degrees: (f64, f64),
    pub translate: Option<(f64, f64)>,
    pub scale: Option<(f64, f64)>,
    pub shear_x: Option<(f64, f64)>,
    pub shear_y: Option<(f64, f64)>,
    pub interpolation: Interpolation,
    pub fill: f32,
}

impl RandomAffine {
    /// Rotations in `[-degrees, degrees]` and nothing else until more is asked for.
    pub fn new(degrees: f64) -> Self {
        RandomAffine {
            degrees: (-degrees.abs(), degrees.abs()),
            translate: None,
            scale: None,
            shear_x: None,
            shear_y: None,
            interpolation: Interpolation::Nearest,
            fill: 0.0,
        }
    }

    /// Shifts of up to `fx` of the width and `fy` of the height, each way.
    pub fn translate(mut self, fx: f64, fy: f64) -> Self {
        self.translate = Some((fx, fy));
        self
    }

    /// Scales in `[lo, hi]`.
    pub fn scale(mut self, lo: f64, hi: f64) -> Self {
        self.scale = Some((lo, hi));
        self
    }

    /// Shears along x of `[-degrees, degrees]`.
    pub fn shear(mut self, degrees: f64) -> Self {
        self.shear_x = Some((-degrees.abs(), degrees.abs()));
        self
    }

    /// Shears along x in `x` and along y in `y` (degrees).
    pub fn shear_xy(mut self, x: (f64, f64), y: (f64, f64)) -> Self {
        self.shear_x = Some(x);
        self.shear_y = Some(y);
        self
    }

    pub fn interpolation(mut self, interpolation: Interpolation) -> Self {
        self.interpolation = interpolation;
        self
    }

    pub fn fill(mut self, fill: f32) -> Self {
        self.fill = fill;
        self
    }

    /// Draws the parameters for an image of `h × w`.
    pub fn sample(&self, h: usize, w: usize, g: &mut Generator) -> AffineParams {
        let angle = uniform(g, self.degrees);
        let translate = match self.translate {
            Some((fx, fy)) => {
                let (mx, my) = (fx * w as f64, fy * h as f64);
                (
                    uniform(g, (-mx, mx)).round_ties_even(),
                    uniform(g, (-my, my)).round_ties_even(),
                )
            }
            None => (0.0, 0.0),
        };
        let scale = self.scale.map_or(1.0, |r| uniform(g, r));
        let sx = self.shear_x.map_or(0.0, |r| uniform(g, r));
        let sy = self.shear_y.map_or(0.0, |r| uniform(g, r));
        AffineParams {
            angle,
            translate,
            scale,
            shear: (sx, sy),
        }
    }
}

impl ImageTransform for RandomAffine {
    fn apply(&self, x: &Tensor, g: &mut Generator) -> Result<Tensor> {
        let (_, h, w, _) = unpack("RandomAffine", x)?;
        let p = self.sample(h, w, g);
        affine(x, p, self.interpolation, self.fill)
    }
}

// ---------------------------------------------------------------------------------------------
// A data set whose images pass through a transform.

/// A data set whose images go through `transform` as they are loaded (torchvision's
/// `transform=` argument); the targets pass unchanged.
///
/// Randomness: the `k`-th time example `i` is loaded, its generator is seeded from
/// `(seed, i, k)`. A loader visits every example once per epoch, so epoch `e` sees draw `e` of
/// every example whatever the order, batch size or number of worker threads, and a run is
/// reproducible. [`Transformed::set_epoch`] puts every example back at draw `e` (to resume).
pub struct Transformed<D> {
    dataset: D,
    transform: Arc<dyn ImageTransform>,
    seed: u64,
    draws: Vec<AtomicU64>,
}

impl<D: Dataset> Transformed<D> {
    pub fn new(dataset: D, transform: impl ImageTransform + 'static, seed: u64) -> Self {
        let draws = (0..dataset.len()).map(|_| AtomicU64::new(0)).collect();
        Transformed {
            dataset,
            transform: Arc::new(transform),
            seed,
            draws,
        }
    }

    /// Every example's next load uses draw `epoch`.
    pub fn set_epoch(&self, epoch: u64) {
        for d in &self.draws {
            d.store(epoch, Ordering::Relaxed);
        }
    }

    pub fn inner(&self) -> &D {
        &self.dataset
    }

    /// The generator of draw `k` of example `index`.
    fn generator(&self, index: usize, k: u64) -> Generator {
        // Spread (seed, index, draw) over the seed space; Generator::new mixes further.
        Generator::new(
            self.seed
                ^ (index as u64)
                    .wrapping_add(1)
                    .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ k.wrapping_add(1).wrapping_mul(0xD1B5_4A32_D192_ED03),
        )
    }

    fn transform_one(&self, index: usize, x: &Tensor) -> Result<Tensor> {
        let k = self.draws[index].fetch_add(1, Ordering::Relaxed);
        let x = if x.dtype() == DType::F32 {
            x.clone()
        } else {
            x.to_dtype(DType::F32)
        };
        self.transform.apply(&x, &mut self.generator(index, k))
    }
}

impl<D: Dataset> Dataset for Transformed<D> {
    fn len(&self) -> usize {
        self.dataset.len()
    }

    fn get(&self, index: usize) -> Result<(Tensor, Tensor)> {
        let (x, y) = self.dataset.get(index)?;
        Ok((self.transform_one(index, &x)?, y))
    }

    /// The inner data set's batch (its fast path), then the transform row by row.
    fn get_batch(&self, indices: &[usize]) -> Result<(Tensor, Tensor)> {
        let (x, y) = self.dataset.get_batch(indices)?;
        let rows = indices
            .iter()
            .enumerate()
            .map(|(r, &i)| self.transform_one(i, &x.select(0, r as isize)))
            .collect::<Result<Vec<_>>>()?;
        let x = Tensor::try_stack(&rows.iter().collect::<Vec<_>>(), 0).map_err(|e| {
            baeum::Error::Shape(format!(
                "Transformed: the transformed images of one batch differ in shape ({e}); end the transform with a fixed size (Resize, CenterCrop, RandomCrop)"
            ))
        })?;
        Ok((x, y))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(c: usize, h: usize, w: usize) -> Tensor {
        Tensor::from_vec((0..c * h * w).map(|v| v as f32).collect(), [c, h, w])
    }

    #[test]
    fn hflip_crop_pad_exact() {
        let x = img(1, 2, 3);
        assert_eq!(
            hflip(&x).unwrap().to_vec::<f32>(),
            vec![2., 1., 0., 5., 4., 3.]
        );
        let p = pad(&x, 1, 0, 0, 1, -1.0).unwrap();
        assert_eq!(p.dims(), &[1, 3, 4]);
        assert_eq!(
            p.to_vec::<f32>(),
            vec![-1., 0., 1., 2., -1., 3., 4., 5., -1., -1., -1., -1.]
        );
        let c = crop(&x, 1, 1, 1, 2, 0.0).unwrap();
        assert_eq!(c.to_vec::<f32>(), vec![4., 5.]);
    }

    #[test]
    fn center_crop_rounds_half_to_even_as_python() {
        // H - h = 3: round(1.5) = 2 in Python; W - w = 1: round(0.5) = 0.
        let x = img(1, 5, 4);
        let c = center_crop(&x, 2, 3).unwrap();
        assert_eq!(c.to_vec::<f32>(), vec![8., 9., 10., 12., 13., 14.]);
        // Larger than the image: padded, torchvision puts the extra row after.
        let c = center_crop(&img(1, 1, 1), 2, 3).unwrap();
        assert_eq!(c.to_vec::<f32>(), vec![0., 0., 0., 0., 0., 0.]);
        let c = center_crop(&Tensor::ones([1, 1, 1]), 2, 3).unwrap();
        assert_eq!(c.to_vec::<f32>(), vec![0., 1., 0., 0., 0., 0.]);
    }

    #[test]
    fn rotate_90_moves_pixels_exactly() {
        // Counter-clockwise: the top row becomes the left column, read bottom to top.
        let x = img(1, 3, 3);
        let r = rotate(&x, 90.0, Interpolation::Nearest, 0.0).unwrap();
        assert_eq!(r.to_vec::<f32>(), vec![2., 5., 8., 1., 4., 7., 0., 3., 6.]);
        let r = rotate(&x, 90.0, Interpolation::Bilinear, 0.0).unwrap();
        let got = r.to_vec::<f32>();
        for (a, b) in got.iter().zip([2., 5., 8., 1., 4., 7., 0., 3., 6.]) {
            assert!((a - b).abs() < 1e-5, "{got:?}");
        }
    }

    #[test]
    fn resize_identity_and_upsample_exact() {
        let x = img(1, 1, 2);
        // 2 → 4 (align_corners=False): sources -0.25→0, 0.25, 0.75, 1.25→clamped.
        let r = resize(&x, 1, 4, false).unwrap();
        assert_eq!(r.to_vec::<f32>(), vec![0., 0.25, 0.75, 1.]);
        let r = resize(&x, 1, 4, true).unwrap();
        assert_eq!(r.to_vec::<f32>(), vec![0., 0.25, 0.75, 1.]);
        // 4 → 2 without antialiasing picks the midpoints; with it, averages with a triangle.
        let x = img(1, 1, 4);
        assert_eq!(
            resize(&x, 1, 2, false).unwrap().to_vec::<f32>(),
            vec![0.5, 2.5]
        );
    }

    #[test]
    fn random_crop_is_seeded_and_in_range() {
        let x = img(2, 4, 4);
        let t = RandomCrop::new(4, 4).padding(1);
        let mut seen = std::collections::HashSet::new();
        for seed in 0..50 {
            let a = t.apply(&x, &mut Generator::new(seed)).unwrap();
            let b = t.apply(&x, &mut Generator::new(seed)).unwrap();
            assert_eq!(a.to_vec::<f32>(), b.to_vec::<f32>());
            assert_eq!(a.dims(), &[2, 4, 4]);
            seen.insert(
                a.to_vec::<f32>()
                    .iter()
                    .map(|v| *v as i32)
                    .collect::<Vec<_>>(),
            );
        }
        // 3 × 3 possible windows; 50 draws see them all.
        assert_eq!(seen.len(), 9);
        let e = RandomCrop::new(7, 7)
            .padding(1)
            .apply(&x, &mut Generator::new(0))
            .unwrap_err();
        assert!(e.to_string().contains("does not fit"), "{e}");
    }

    #[test]
    fn to_image_round_trips_bytes() {
        let bytes: Vec<u8> = vec![0, 10, 20, 30, 40, 50, 255, 128, 1, 2, 3, 4];
        let t = from_hwc_u8(&bytes, 2, 2, 3).unwrap();
        assert_eq!(t.get(&[1, 0, 0]), (10.0f32 / 255.0) as f64);
        let back = to_image(&t).unwrap().to_rgb8().into_raw();
        assert_eq!(back, bytes);
        let gray = to_tensor(&to_image(&t).unwrap(), ColorMode::Gray);
        // PIL: (0·299 + 10·587 + 20·114) / 1000 = 8.15 → 8
        assert_eq!(gray.get(&[0, 0, 0]), (8.0f32 / 255.0) as f64);
    }
}
