//! Normalisation: batch, instance, layer, group and local response norm, with PyTorch's
//! statistics (biased variance to normalise, unbiased for the running variance) and
//! momentum convention. Training-mode batch norm is one recorded op with fused kernels
//! (`kernels/norm.rs`) whose backward, under create_graph, replays the composition below;
//! the others are composed of differentiable tensor operations. Gradients of any order flow
//! through the batch statistics.

use super::pool::{PoolGeometry, avg_pool_with_geometry};
use crate::autograd::{Grads, Saved, is_grad_enabled, no_grad, record_op, replayed_grads};
use crate::error::{Result, bail};
use crate::kernels::norm::{
    ChannelShape, batch_norm_grad_input, channel_affine, channel_grad_sums, channel_moments,
};
use crate::tensor::{Element, Tensor};
use crate::with_float_dtype;

/// The factor a BatchNorm layer passes as `momentum` to [`batch_norm`] (what PyTorch's
/// `_BatchNorm.forward` does): the momentum itself, or, for `momentum=None` (a cumulative
/// moving average), `1 / num_batches_tracked`, counting the batch being processed.
///
/// ```
/// use baeum::nn::functional::batch_norm_momentum;
/// assert_eq!(batch_norm_momentum(Some(0.1), 7), 0.1);
/// assert_eq!(batch_norm_momentum(None, 4), 0.25);
/// ```
pub fn batch_norm_momentum(momentum: Option<f64>, num_batches_tracked: u64) -> f64 {
    match momentum {
        Some(m) => m,
        None => 1.0 / num_batches_tracked.max(1) as f64,
    }
}

/// `t` (of `channels` elements) shaped to broadcast along dimension 1 of a rank-`rank` tensor.
fn per_channel(t: &Tensor, rank: usize) -> Tensor {
    let mut shape = vec![1isize; rank];
    shape[1] = -1;
    t.reshape(&shape)
}

fn check_vector(op: &str, what: &str, t: Option<&Tensor>, n: usize, x: &Tensor) -> Result<()> {
    if let Some(t) = t {
        if t.dims() != [n] {
            bail!(
                Shape,
                "{op}: {what} {} must have shape [{n}] for input {}",
                t.shape(),
                x.shape()
            );
        }
        if t.dtype() != x.dtype() {
            bail!(
                DType,
                "{op}: {what} has dtype {} but the input has dtype {}",
                t.dtype(),
                x.dtype()
            );
        }
    }
    Ok(())
}

fn float_input(op: &str, x: &Tensor) -> Result<()> {
    if !x.dtype().is_float() {
        bail!(
            DType,
            "{op}: input of dtype {} must be a float tensor (convert with .to_f32())",
            x.dtype()
        );
    }
    Ok(())
}

/// `y·weight + bias` with weight and bias reshaped by `view`.
fn affine(
    y: Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    view: impl Fn(&Tensor) -> Tensor,
) -> Tensor {
    let y = match weight {
        Some(w) => y * view(w),
        None => y,
    };
    match bias {
        Some(b) => y + view(b),
        None => y,
    }
}

/// Batch normalisation (`torch.nn.functional.batch_norm`) of `[N, C]` or `[N, C, *]` input,
/// per channel.
///
/// - `training`: normalise with the batch's mean and biased variance (over every dimension but
///   1), and, when running statistics are given, update them in place:
///   `running = (1 − momentum)·running + momentum·batch`, with the unbiased batch variance.
///   For PyTorch's `momentum=None` pass [`batch_norm_momentum`]`(None, num_batches_tracked)`.
/// - otherwise: normalise with the running statistics (both required).
///
/// `weight` and `bias` (shape `[C]`) scale and shift after normalising.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm(
    input: &Tensor,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> Result<Tensor> {
    let op = "batch_norm";
    if input.rank() < 2 {
        bail!(
            Shape,
            "{op}: input {} must have at least 2 dimensions [N, C, *]",
            input.shape()
        );
    }
    float_input(op, input)?;
    let (rank, c) = (input.rank(), input.dims()[1]);
    check_vector(op, "running_mean", running_mean, c, input)?;
    check_vector(op, "running_var", running_var, c, input)?;
    check_vector(op, "weight", weight, c, input)?;
    check_vector(op, "bias", bias, c, input)?;
    let view = |t: &Tensor| per_channel(t, rank);
    if !training {
        let (Some(rm), Some(rv)) = (running_mean, running_var) else {
            bail!(
                Invalid,
                "{op}: evaluation (training = false) needs running_mean and running_var"
            );
        };
        let y = (input - view(rm)) / (view(rv) + eps).sqrt();
        return Ok(affine(y, weight, bias, view));
    }
    let count = input.numel() / c.max(1);
    if count <= 1 {
        bail!(
            Invalid,
            "{op}: training needs more than 1 value per channel, got input {}",
            input.shape()
        );
    }
    let (y, mean, var) = batch_norm_training(input, weight, bias, eps);
    update_running(
        running_mean,
        running_var,
        &mean,
        &var,
        count,
        momentum,
        None,
    );
    Ok(y)
}

/// Training-mode batch norm of a float `[N, C, *]` input as one recorded op `batch_norm`:
/// the output, and each channel's mean and biased variance (`[C]`, the input's dtype).
fn batch_norm_training(
    input: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> (Tensor, Tensor, Tensor) {
    let dims = input.dims();
    let sh = ChannelShape {
        batch: dims[0],
        channels: dims[1],
        spatial: dims[2..].iter().product(),
    };
    let c = sh.channels;
    let x = input.contiguous();
    let (mean, var) = with_float_dtype!(x.dtype(), T => {
        x.with_slice::<T, _>(|d, l| channel_moments(&d[l.offset..l.offset + l.numel()], sh))
    }, unreachable!("batch_norm: checked float"));
    let invstd: Vec<f64> = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
    let values = |t: Option<&Tensor>, default: f64| -> Vec<f64> {
        t.map_or_else(|| vec![default; c], |t| t.to_vec::<f64>())
    };
    let (w, b) = (values(weight, 1.0), values(bias, 0.0));
    let dtype = x.dtype();
    let y = with_float_dtype!(dtype, T => {
        // PyTorch's CPU transform: y = x·α + β, α = invstd·w, β = b − mean·α.
        let alpha: Vec<T> = (0..c).map(|k| T::from_f64(invstd[k] * w[k])).collect();
        let beta: Vec<T> = (0..c)
            .map(|k| T::from_f64(b[k] - mean[k] * invstd[k] * w[k]))
            .collect();
        let y = x.with_slice::<T, _>(|d, l| {
            channel_affine(&d[l.offset..l.offset + l.numel()], sh, &alpha, &beta)
        });
        Tensor::from_vec(y, input.shape().clone())
    }, unreachable!("batch_norm: checked float"));
    let stats = |v: &[f64]| Tensor::from_vec(v.to_vec(), [c]).to_dtype(dtype);
    let (mean_t, var_t) = (stats(&mean), stats(&var));

    let mut inputs: Vec<&Tensor> = vec![input];
    inputs.extend(weight);
    inputs.extend(bias);
    let present = [weight.is_some(), bias.is_some()];
    let saved: Vec<Saved> = inputs.iter().map(|t| Saved::new("batch_norm", t)).collect();
    let y = record_op(
        "batch_norm",
        &inputs,
        move || y,
        move |_, needs| {
            let needs = needs.to_vec();
            move |g: &Tensor| {
                let inputs: Vec<&Tensor> = saved.iter().map(|s| s.get()).collect();
                if is_grad_enabled() {
                    return replayed_batch_norm_backward(&inputs, present, &needs, g, eps);
                }
                let x = inputs[0].contiguous();
                let g = g.contiguous();
                let m = sh.count() as f64;
                with_float_dtype!(dtype, T => {
                    let (sum_g, sum_gx, dx) = x.with_slice::<T, _>(|xd, xl| {
                        g.with_slice::<T, _>(|gd, gl| {
                            let xs = &xd[xl.offset..xl.offset + xl.numel()];
                            let gs = &gd[gl.offset..gl.offset + gl.numel()];
                            let (sum_g, sum_gx) = channel_grad_sums(gs, xs, &mean, sh);
                            let dx = needs[0].then(|| {
                                let mean_g: Vec<f64> = sum_g.iter().map(|s| s / m).collect();
                                let k: Vec<f64> = (0..c)
                                    .map(|i| sum_gx[i] / m * invstd[i] * invstd[i])
                                    .collect();
                                let scale: Vec<f64> = (0..c).map(|i| invstd[i] * w[i]).collect();
                                batch_norm_grad_input(gs, xs, sh, &mean, &mean_g, &k, &scale)
                            });
                            (sum_g, sum_gx, dx)
                        })
                    });
                    let mut out = Grads::new();
                    out.push(dx.map(|dx| Tensor::from_vec(dx, x.shape().clone())));
                    let mut k = 1;
                    if present[0] {
                        let dw: Vec<T> =
                            (0..c).map(|i| T::from_f64(sum_gx[i] * invstd[i])).collect();
                        out.push(needs[k].then(|| Tensor::from_vec(dw, [c])));
                        k += 1;
                    }
                    if present[1] {
                        let db: Vec<T> = sum_g.iter().map(|&s| T::from_f64(s)).collect();
                        out.push(needs[k].then(|| Tensor::from_vec(db, [c])));
                    }
                    out
                }, unreachable!("batch_norm: checked float"))
            }
        },
    );
    (y, mean_t, var_t)
}

/// The backward of the fused batch norm under create_graph: the normalisation composed of
/// tensor ops from the saved inputs, and differentiated, so the gradient is differentiable.
fn replayed_batch_norm_backward(
    inputs: &[&Tensor],
    present: [bool; 2],
    needs: &[bool],
    g: &Tensor,
    eps: f64,
) -> Grads {
    let x = inputs[0];
    let mut rest = inputs[1..].iter().copied();
    let mut next = |p: bool| if p { rest.next() } else { None };
    let (weight, bias) = (next(present[0]), next(present[1]));
    let rank = x.rank();
    let dims: Vec<isize> = (0..rank as isize).filter(|&d| d != 1).collect();
    let (y, _, _) = normalize(x, &dims, eps);
    let y = affine(y, weight, bias, |t| per_channel(t, rank));
    replayed_grads("batch_norm", &y, inputs, needs, g)
}

/// `(x − mean) / sqrt(var + eps)` over `dims`, with the mean and biased variance (kept dims).
fn normalize(x: &Tensor, dims: &[isize], eps: f64) -> (Tensor, Tensor, Tensor) {
    let mean = x.mean_dims(dims, true);
    let var = x.var_dims(dims, false, true);
    let y = (x - &mean) / (&var + eps).sqrt();
    (y, mean, var)
}

/// The running statistics' in-place update from batch statistics `mean`/`var` (biased, over
/// `count` values each); `average_over`: first average over that dimension (instance norm's
/// batch).
fn update_running(
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    mean: &Tensor,
    var: &Tensor,
    count: usize,
    momentum: f64,
    average_over: Option<isize>,
) {
    no_grad(|| {
        let flat = |t: &Tensor| match average_over {
            Some(d) => t.mean_dim(d, false).reshape(&[-1]),
            None => t.reshape(&[-1]),
        };
        if let Some(rm) = running_mean {
            let new = rm * (1.0 - momentum) + flat(mean) * momentum;
            rm.copy_(&new.to_dtype(rm.dtype()));
        }
        if let Some(rv) = running_var {
            let unbiased = var * (count as f64 / (count as f64 - 1.0));
            let new = rv * (1.0 - momentum) + flat(&unbiased) * momentum;
            rv.copy_(&new.to_dtype(rv.dtype()));
        }
    });
}

/// Instance normalisation (`torch.nn.functional.instance_norm`) of `[N, C, *]` input: each
/// (sample, channel) normalised over its spatial positions. With `use_input_stats` the
/// instance statistics are used (and running statistics, when given, are updated with their
/// average over the batch); without, the running statistics are.
#[allow(clippy::too_many_arguments)]
pub fn instance_norm(
    input: &Tensor,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    use_input_stats: bool,
    momentum: f64,
    eps: f64,
) -> Result<Tensor> {
    let op = "instance_norm";
    if input.rank() < 3 {
        bail!(
            Shape,
            "{op}: input {} must have at least 3 dimensions [N, C, *]",
            input.shape()
        );
    }
    float_input(op, input)?;
    let (rank, c) = (input.rank(), input.dims()[1]);
    check_vector(op, "running_mean", running_mean, c, input)?;
    check_vector(op, "running_var", running_var, c, input)?;
    check_vector(op, "weight", weight, c, input)?;
    check_vector(op, "bias", bias, c, input)?;
    let view = |t: &Tensor| per_channel(t, rank);
    if !use_input_stats {
        return batch_norm(
            input,
            running_mean,
            running_var,
            weight,
            bias,
            false,
            momentum,
            eps,
        );
    }
    let count: usize = input.dims()[2..].iter().product();
    if count <= 1 {
        bail!(
            Invalid,
            "{op}: needs more than 1 spatial element per channel, got input {}",
            input.shape()
        );
    }
    let dims: Vec<isize> = (2..rank as isize).collect();
    let (y, mean, var) = normalize(input, &dims, eps);
    update_running(
        running_mean,
        running_var,
        &mean,
        &var,
        count,
        momentum,
        Some(0),
    );
    Ok(affine(y, weight, bias, view))
}

/// Layer normalisation (`torch.nn.functional.layer_norm`) over the trailing dimensions
/// `normalized_shape`, with mean and biased variance; `weight` and `bias` have shape
/// `normalized_shape`.
pub fn layer_norm(
    input: &Tensor,
    normalized_shape: &[usize],
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<Tensor> {
    let op = "layer_norm";
    float_input(op, input)?;
    let k = normalized_shape.len();
    if k == 0 || k > input.rank() || input.dims()[input.rank() - k..] != *normalized_shape {
        bail!(
            Shape,
            "{op}: normalized_shape {normalized_shape:?} must be the trailing dimensions of the \
             input {}",
            input.shape()
        );
    }
    for (what, t) in [("weight", weight), ("bias", bias)] {
        if let Some(t) = t
            && t.dims() != normalized_shape
        {
            bail!(
                Shape,
                "{op}: {what} {} must have the normalized_shape {normalized_shape:?}",
                t.shape()
            );
        }
    }
    let dims: Vec<isize> = (1..=k as isize).map(|i| -i).collect();
    let (y, _, _) = normalize(input, &dims, eps);
    Ok(affine(y, weight, bias, Tensor::clone))
}

/// Group normalisation (`torch.nn.functional.group_norm`) of `[N, C, *]` input: the channels
/// split into `num_groups` contiguous groups, statistics per (sample, group); `weight` and
/// `bias` are per channel.
pub fn group_norm(
    input: &Tensor,
    num_groups: usize,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<Tensor> {
    let op = "group_norm";
    float_input(op, input)?;
    if input.rank() < 2 {
        bail!(
            Shape,
            "{op}: input {} must have at least 2 dimensions [N, C, *]",
            input.shape()
        );
    }
    let (rank, n, c) = (input.rank(), input.dims()[0], input.dims()[1]);
    if num_groups == 0 || c % num_groups != 0 {
        bail!(
            Shape,
            "{op}: the input's {c} channels (input {}) cannot be split into {num_groups} groups",
            input.shape()
        );
    }
    check_vector(op, "weight", weight, c, input)?;
    check_vector(op, "bias", bias, c, input)?;
    if input.numel() == 0 {
        return Ok(input.clone());
    }
    let grouped = input.reshape(&[n as isize, num_groups as isize, -1]);
    let (y, _, _) = normalize(&grouped, &[2], eps);
    let y = y.reshape_to(input.shape().clone());
    Ok(affine(y, weight, bias, |t| per_channel(t, rank)))
}

/// Local response normalisation across channels (`torch.nn.functional.local_response_norm`,
/// AlexNet's NORM): `b_c = a_c / (k + α/n · Σ a_j²)^β`, the sum over the `size` channels
/// around c (zeros beyond the edges; n = `size`).
pub fn local_response_norm(
    input: &Tensor,
    size: usize,
    alpha: f64,
    beta: f64,
    k: f64,
) -> Result<Tensor> {
    let op = "local_response_norm";
    float_input(op, input)?;
    if input.rank() < 3 {
        bail!(
            Shape,
            "{op}: input {} must have at least 3 dimensions [N, C, *]",
            input.shape()
        );
    }
    if size == 0 {
        bail!(Invalid, "{op}: size must be positive");
    }
    let (n, c) = (input.dims()[0] as isize, input.dims()[1] as isize);
    // The squares as one-channel images [N, 1, C, rest]: a (size × 1) average pool with zero
    // padding that counts is the windowed mean over channels.
    let squares = input.square().reshape(&[n, 1, c, -1]);
    let geometry = PoolGeometry {
        kernel: vec![size, 1],
        stride: vec![1, 1],
        dilation: vec![1, 1],
        pad_before: vec![size / 2, 0],
        pad_after: vec![(size - 1) / 2, 0],
        ceil_mode: false,
    };
    let mean = avg_pool_with_geometry(&squares, 2, &geometry, true, None)?
        .reshape_to(input.shape().clone());
    Ok(input / (mean * alpha + k).powf(beta))
}
