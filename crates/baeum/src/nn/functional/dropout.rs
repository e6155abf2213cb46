//! Dropout and its channel-wise variants (dropout1d/2d: whole channels), plus alpha dropout
//! (for SELU networks). Random masks come from a caller's [`Generator`], so a seed fixes them.

use crate::error::{Result, bail};
use crate::tensor::random::Generator;
use crate::tensor::{DType, Tensor};

fn check_p(op: &str, p: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&p) {
        bail!(
            Invalid,
            "{op}: dropout probability has to be between 0 and 1, but got {p}"
        );
    }
    Ok(())
}

/// A mask of `shape` holding `keep_value` with probability 1 − p and 0 otherwise.
fn mask(shape: Vec<usize>, p: f64, keep_value: f64, dtype: DType, g: &mut Generator) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|_| if g.next_f64() < p { 0.0 } else { keep_value })
        .collect();
    Tensor::from_vec(v, shape).to_dtype(dtype)
}

/// Zeroes each element with probability `p` and scales the others by 1/(1 − p), so the
/// expected value is unchanged (`torch.nn.functional.dropout`). Outside training, or with
/// p = 0, the input is returned unchanged; p = 1 gives zeros. Errors for p outside [0, 1].
///
/// ```
/// use baeum::{Generator, Tensor};
/// use baeum::nn::functional::dropout;
/// let x = Tensor::ones([1000]);
/// let y = dropout(&x, 0.5, true, &mut Generator::new(0)).unwrap();
/// // Every element is 0 or 2.
/// assert!(y.to_vec::<f32>().iter().all(|&v| v == 0.0 || v == 2.0));
/// ```
pub fn dropout(
    input: &Tensor,
    p: f64,
    training: bool,
    generator: &mut Generator,
) -> Result<Tensor> {
    check_p("dropout", p)?;
    masked(
        "dropout",
        input,
        p,
        training,
        input.dims().to_vec(),
        generator,
    )
}

/// Channel-wise dropout of `[N, C, L]` or unbatched `[C, L]` input: whole channels are zeroed
/// with probability `p` (`torch.nn.functional.dropout1d`).
pub fn dropout1d(
    input: &Tensor,
    p: f64,
    training: bool,
    generator: &mut Generator,
) -> Result<Tensor> {
    channel_dropout("dropout1d", input, p, training, 1, generator)
}

/// Channel-wise dropout of `[N, C, H, W]` or unbatched `[C, H, W]` input: whole feature maps
/// are zeroed with probability `p` (`torch.nn.functional.dropout2d`).
pub fn dropout2d(
    input: &Tensor,
    p: f64,
    training: bool,
    generator: &mut Generator,
) -> Result<Tensor> {
    channel_dropout("dropout2d", input, p, training, 2, generator)
}

fn channel_dropout(
    op: &str,
    input: &Tensor,
    p: f64,
    training: bool,
    spatial: usize,
    generator: &mut Generator,
) -> Result<Tensor> {
    check_p(op, p)?;
    let r = input.rank();
    if r != spatial + 1 && r != spatial + 2 {
        bail!(
            Shape,
            "{op}: input {} must have {} (batched) or {} (unbatched) dimensions",
            input.shape(),
            spatial + 2,
            spatial + 1
        );
    }
    // One draw per (sample, channel): the spatial dimensions of the mask are 1.
    let mut shape = input.dims().to_vec();
    for d in &mut shape[r - spatial..] {
        *d = 1;
    }
    masked(op, input, p, training, shape, generator)
}

fn masked(
    op: &str,
    input: &Tensor,
    p: f64,
    training: bool,
    mask_shape: Vec<usize>,
    generator: &mut Generator,
) -> Result<Tensor> {
    if !input.dtype().is_float() {
        bail!(
            DType,
            "{op}: input of dtype {} must be a float tensor",
            input.dtype()
        );
    }
    if !training || p == 0.0 {
        return Ok(input.clone());
    }
    let keep = if p == 1.0 { 0.0 } else { 1.0 / (1.0 - p) };
    let m = mask(mask_shape, p, keep, input.dtype(), generator);
    Ok(input * m)
}

/// Alpha dropout for self-normalising (SELU) networks (`torch.nn.functional.alpha_dropout`):
/// dropped elements are set to SELU's negative saturation value and the result is rescaled
/// so that zero mean and unit variance are kept.
pub fn alpha_dropout(
    input: &Tensor,
    p: f64,
    training: bool,
    generator: &mut Generator,
) -> Result<Tensor> {
    let op = "alpha_dropout";
    check_p(op, p)?;
    if !input.dtype().is_float() {
        bail!(
            DType,
            "{op}: input of dtype {} must be a float tensor",
            input.dtype()
        );
    }
    if !training || p == 0.0 {
        return Ok(input.clone());
    }
    if p == 1.0 {
        return Ok(input * 0.0);
    }
    // SELU's scale·alpha: the value a SELU unit saturates to, negated.
    const ALPHA: f64 = 1.758_099_340_847_376_6;
    let a = 1.0 / ((ALPHA * ALPHA * p + 1.0) * (1.0 - p)).sqrt();
    let keep = mask(input.dims().to_vec(), p, 1.0, input.dtype(), generator);
    // kept: a·x + α·a·p; dropped: α·a·(p − 1).
    let shift = (&keep - 1.0) * (ALPHA * a) + ALPHA * a * p;
    Ok(input * (keep * a) + shift)
}
