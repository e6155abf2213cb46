//! Pooling: max, average and adaptive pooling in one, two and three dimensions, with PyTorch's
//! output sizes (ceil_mode included), padding and index conventions. All of them share one
//! separable kernel over `[planes, D, H, W]`: a 2-D pool is a 3-D one of depth 1, a 1-D pool
//! has height 1 too.
//!
//! Max pooling's gradient goes to the saved argmax of each window (a `scatter_add`, so it is
//! differentiable again); average pooling's gradient is its adjoint, a recorded op whose own
//! gradient is the average pooling again.

use std::sync::Arc;

use super::conv::Sizes;
use crate::autograd::{grads, is_grad_enabled, record_op};
use crate::error::{Result, bail};
use crate::kernels::pool::{
    PoolPlan, Span, avg_pool, avg_pool_backward, max_pool, max_pool_adjoint,
};
use crate::tensor::Tensor;
use crate::with_float_dtype;

/// The options of [`max_pool1d`] / [`max_pool2d`] / [`max_pool3d`]: PyTorch's `kernel_size`,
/// `stride` (default: the kernel size), `padding` (implicit −∞), `dilation` and `ceil_mode`.
///
/// ```
/// use baeum::nn::functional::MaxPoolOptions;
/// // AlexNet's overlapping pool: 3×3 windows every 2.
/// let alexnet = MaxPoolOptions::new(3).stride(2);
/// # let _ = alexnet;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaxPoolOptions {
    pub kernel_size: Sizes,
    pub stride: Option<Sizes>,
    pub padding: Sizes,
    pub dilation: Sizes,
    pub ceil_mode: bool,
}

impl MaxPoolOptions {
    pub fn new(kernel_size: impl Into<Sizes>) -> Self {
        MaxPoolOptions {
            kernel_size: kernel_size.into(),
            stride: None,
            padding: Sizes::from(0),
            dilation: Sizes::from(1),
            ceil_mode: false,
        }
    }
    pub fn stride(mut self, stride: impl Into<Sizes>) -> Self {
        self.stride = Some(stride.into());
        self
    }
    pub fn padding(mut self, padding: impl Into<Sizes>) -> Self {
        self.padding = padding.into();
        self
    }
    pub fn dilation(mut self, dilation: impl Into<Sizes>) -> Self {
        self.dilation = dilation.into();
        self
    }
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }
}

/// The options of [`avg_pool1d`] / [`avg_pool2d`] / [`avg_pool3d`]: PyTorch's `kernel_size`,
/// `stride` (default: the kernel size), `padding` (zeros), `ceil_mode`, `count_include_pad`
/// (default true: the divisor counts padding zeros) and `divisor_override`.
#[derive(Clone, Debug, PartialEq)]
pub struct AvgPoolOptions {
    pub kernel_size: Sizes,
    pub stride: Option<Sizes>,
    pub padding: Sizes,
    pub ceil_mode: bool,
    pub count_include_pad: bool,
    pub divisor_override: Option<usize>,
}

impl AvgPoolOptions {
    pub fn new(kernel_size: impl Into<Sizes>) -> Self {
        AvgPoolOptions {
            kernel_size: kernel_size.into(),
            stride: None,
            padding: Sizes::from(0),
            ceil_mode: false,
            count_include_pad: true,
            divisor_override: None,
        }
    }
    pub fn stride(mut self, stride: impl Into<Sizes>) -> Self {
        self.stride = Some(stride.into());
        self
    }
    pub fn padding(mut self, padding: impl Into<Sizes>) -> Self {
        self.padding = padding.into();
        self
    }
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }
    pub fn count_include_pad(mut self, count_include_pad: bool) -> Self {
        self.count_include_pad = count_include_pad;
        self
    }
    pub fn divisor_override(mut self, divisor: Option<usize>) -> Self {
        self.divisor_override = divisor;
        self
    }
}

/// A pooling window in full generality, per spatial dimension (depth, height, width for a 3-D
/// pool; height, width for 2-D; the width alone for 1-D): padding may differ before and
/// after (ONNX's `pads` and `auto_pad`), and average pooling may be dilated (ONNX's
/// AveragePool `dilations`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolGeometry {
    pub kernel: Vec<usize>,
    pub stride: Vec<usize>,
    pub dilation: Vec<usize>,
    pub pad_before: Vec<usize>,
    pub pad_after: Vec<usize>,
    pub ceil_mode: bool,
}

impl PoolGeometry {
    fn from_options(
        op: &str,
        n: usize,
        kernel: &Sizes,
        stride: Option<&Sizes>,
        padding: &Sizes,
        dilation: &Sizes,
        ceil_mode: bool,
    ) -> Result<PoolGeometry> {
        let kernel = kernel.per_dim(n, op, "kernel_size")?;
        let stride = match stride {
            Some(s) if !s.0.is_empty() => s.per_dim(n, op, "stride")?,
            _ => kernel.clone(),
        };
        let padding = padding.per_dim(n, op, "padding")?;
        let dilation = dilation.per_dim(n, op, "dilation")?;
        for (&p, &k) in padding.iter().zip(&kernel) {
            if p > k / 2 {
                bail!(
                    Invalid,
                    "{op}: padding {padding:?} must be at most half the kernel size {kernel:?}"
                );
            }
        }
        Ok(PoolGeometry {
            kernel,
            stride,
            dilation,
            pad_before: padding.clone(),
            pad_after: padding,
            ceil_mode,
        })
    }
}

/// The output size along one dimension (PyTorch's `pooling_output_shape`): with ceil_mode
/// the division rounds up, but a last window that would start in the right padding is
/// dropped.
fn pooled_size(op: &str, n: usize, g: &PoolGeometry, d: usize) -> Result<usize> {
    let (k, s, dl) = (g.kernel[d], g.stride[d], g.dilation[d]);
    let (pb, pa) = (g.pad_before[d], g.pad_after[d]);
    if k == 0 || s == 0 || dl == 0 {
        bail!(
            Invalid,
            "{op}: kernel size {:?}, stride {:?} and dilation {:?} must be positive",
            g.kernel,
            g.stride,
            g.dilation
        );
    }
    let span = dl * (k - 1) + 1;
    let padded = n + pb + pa;
    if span > padded {
        bail!(
            Shape,
            "{op}: kernel {:?} (spanning {span} with dilation {dl}) is larger than the padded \
             input ({n} + padding {pb} + {pa} = {padded})",
            g.kernel
        );
    }
    let room = padded - span;
    let mut out = if g.ceil_mode {
        room.div_ceil(s) + 1
    } else {
        room / s + 1
    };
    if g.ceil_mode && (out - 1) * s >= n + pb {
        out -= 1;
    }
    Ok(out)
}

/// The spans of a sliding window along one dimension, and the divisor each output position
/// contributes when padding counts (the taps inside the input or its padding).
fn sliding_spans(n: usize, out: usize, g: &PoolGeometry, d: usize) -> (Vec<Span>, Vec<f64>) {
    let (k, s, dl) = (g.kernel[d], g.stride[d], g.dilation[d]);
    let (pb, pa) = (g.pad_before[d] as isize, g.pad_after[d] as isize);
    let n_i = n as isize;
    let mut spans = Vec::with_capacity(out);
    let mut with_pad = Vec::with_capacity(out);
    for o in 0..out {
        let start = (o * s) as isize - pb;
        let tap = |j: usize| start + (j * dl) as isize;
        let valid: Vec<usize> = (0..k).filter(|&j| (0..n_i).contains(&tap(j))).collect();
        let span = match valid.first() {
            Some(&j0) => Span {
                start: tap(j0) as usize,
                len: valid.len(),
                step: dl,
            },
            _ => Span {
                start: 0,
                len: 0,
                step: dl,
            },
        };
        spans.push(span);
        with_pad.push((0..k).filter(|&j| tap(j) < n_i + pa).count() as f64);
    }
    (spans, with_pad)
}

/// Adaptive windows: output position `o` of `out` covers `⌊o·n/out⌋ .. ⌈(o+1)·n/out⌉`.
fn adaptive_spans(n: usize, out: usize) -> Vec<Span> {
    (0..out)
        .map(|o| {
            let start = o * n / out;
            let end = ((o + 1) * n).div_ceil(out);
            Span {
                start,
                len: end - start,
                step: 1,
            }
        })
        .collect()
}

/// The name of a pooling `kind` ("max_pool", "avg_pool", ...) over `spatial` dimensions, as
/// recorded in the graph.
fn pool_name(kind: &str, spatial: usize) -> Result<&'static str> {
    Ok(match (kind, spatial) {
        ("max_pool", 1) => "max_pool1d",
        ("max_pool", 2) => "max_pool2d",
        ("max_pool", 3) => "max_pool3d",
        ("avg_pool", 1) => "avg_pool1d",
        ("avg_pool", 2) => "avg_pool2d",
        ("avg_pool", 3) => "avg_pool3d",
        _ => bail!(
            Invalid,
            "{kind}: {spatial} spatial dimensions; pooling has 1, 2 or 3"
        ),
    })
}

/// The input viewed as planes of `[D, H, W]` (a 2-D pool: `[1, H, W]`, a 1-D pool:
/// `[1, 1, L]`): checks the rank and dtype, returns (planes, [D, H, W], leading dims).
fn planes_of(op: &str, x: &Tensor, spatial: usize) -> Result<(usize, [usize; 3], Vec<usize>)> {
    let r = x.rank();
    if r != spatial + 1 && r != spatial + 2 {
        let what = match spatial {
            1 => "3-D [N, C, L] or 2-D [C, L]",
            2 => "4-D [N, C, H, W] or 3-D [C, H, W]",
            _ => "5-D [N, C, D, H, W] or 4-D [C, D, H, W]",
        };
        bail!(Shape, "{op}: input {} must be {what}", x.shape());
    }
    if !x.dtype().is_float() {
        bail!(
            DType,
            "{op}: input of dtype {} must be a float tensor (convert with .to_f32())",
            x.dtype()
        );
    }
    let lead = x.dims()[..r - spatial].to_vec();
    let planes = lead.iter().product();
    let mut size = [1; 3];
    size[3 - spatial..].copy_from_slice(&x.dims()[r - spatial..]);
    if size.contains(&0) {
        bail!(
            Shape,
            "{op}: input {} has an empty spatial dimension",
            x.shape()
        );
    }
    Ok((planes, size, lead))
}

/// The plan of a sliding pool over `x` (with the per-dimension divisors that count padding).
fn sliding_plan(
    op: &str,
    x: &Tensor,
    spatial: usize,
    geometry: &PoolGeometry,
) -> Result<(PoolPlan, [Vec<f64>; 3], Vec<usize>)> {
    for (what, v) in [
        ("kernel", &geometry.kernel),
        ("stride", &geometry.stride),
        ("dilation", &geometry.dilation),
        ("pad_before", &geometry.pad_before),
        ("pad_after", &geometry.pad_after),
    ] {
        if v.len() != spatial {
            bail!(
                Invalid,
                "{op}: {what} {v:?} must have {spatial} value(s), one per spatial dimension"
            );
        }
    }
    let (planes, size, mut shape) = planes_of(op, x, spatial)?;
    // The dimensions a lower-rank pool lacks get one window of size 1.
    let mut spans = [vec![Span::UNIT], vec![Span::UNIT], vec![Span::UNIT]];
    let mut with_pad = [vec![1.0], vec![1.0], vec![1.0]];
    for (g, d) in (3 - spatial..3).enumerate() {
        let out = pooled_size(op, size[d], geometry, g)?;
        (spans[d], with_pad[d]) = sliding_spans(size[d], out, geometry, g);
        shape.push(out);
    }
    let plan = PoolPlan {
        planes,
        size,
        spans,
    };
    Ok((plan, with_pad, shape))
}

fn adaptive_plan(
    op: &str,
    x: &Tensor,
    spatial: usize,
    output_size: &Sizes,
) -> Result<(PoolPlan, Vec<usize>)> {
    let (planes, size, mut shape) = planes_of(op, x, spatial)?;
    let out = output_size.per_dim(spatial, op, "output_size")?;
    if out.contains(&0) {
        bail!(Invalid, "{op}: output_size {out:?} must be positive");
    }
    shape.extend(&out);
    let mut out3 = [1; 3];
    out3[3 - spatial..].copy_from_slice(&out);
    let plan = PoolPlan {
        planes,
        size,
        spans: [0, 1, 2].map(|d| adaptive_spans(size[d], out3[d])),
    };
    Ok((plan, shape))
}

// ---------------------------------------------------------------------------------------------
// Max pooling.

/// Max pooling of `x` along `plan`, recorded as `op`: values and int64 flat indices per plane.
fn max_pool_plan(
    op: &'static str,
    x: &Tensor,
    plan: PoolPlan,
    shape: Vec<usize>,
) -> (Tensor, Tensor) {
    let xc = x.detach().contiguous();
    let (values, indices) = with_float_dtype!(xc.dtype(), T => xc.with_slice::<T, _>(|d, l| {
        let (v, i) = max_pool(&d[l.offset..l.offset + l.numel()], &plan);
        (Tensor::from_vec(v, shape.clone()), Tensor::from_vec(i, shape.clone()))
    }), unreachable!("{op}: checked to be float"));
    let saved_indices = indices.clone();
    let in_plane: usize = plan.size.iter().product();
    let (planes, in_plane) = (plan.planes as isize, in_plane as isize);
    let out = record_op(
        op,
        &[x],
        move || values,
        |_, _| {
            let x_shape = x.shape().clone();
            move |g: &Tensor| {
                // Each output's gradient goes to its window's argmax; overlapping windows add.
                // Outside create_graph by the kernel, in one pass; recorded, by scatter_add.
                if !is_grad_enabled() && g.dtype().is_float() {
                    let gc = g.contiguous();
                    let gi = with_float_dtype!(gc.dtype(), T => gc.with_slice::<T, _>(|d, l| {
                        saved_indices.with_slice::<i64, _>(|ix, il| {
                            let n = l.numel();
                            Tensor::from_vec(
                                max_pool_adjoint(
                                    &d[l.offset..l.offset + n],
                                    &ix[il.offset..il.offset + n],
                                    planes as usize,
                                    in_plane as usize,
                                ),
                                x_shape.clone(),
                            )
                        })
                    }), unreachable!("checked to be float"));
                    return grads([Some(gi)]);
                }
                let idx = saved_indices.reshape(&[planes, -1]);
                let gi = Tensor::zeros_dtype([planes as usize, in_plane as usize], g.dtype())
                    .scatter_add(1, &idx, &g.reshape(&[planes, -1]));
                grads([Some(gi.reshape_to(x_shape.clone()))])
            }
        },
    );
    (out, indices)
}

/// 1-D max pooling of `[N, C, L]` or `[C, L]` (`torch.nn.functional.max_pool1d`).
pub fn max_pool1d(input: &Tensor, options: &MaxPoolOptions) -> Result<Tensor> {
    Ok(max_pool1d_with_indices(input, options)?.0)
}

/// [`max_pool1d`] with the index of each maximum within its row.
pub fn max_pool1d_with_indices(
    input: &Tensor,
    options: &MaxPoolOptions,
) -> Result<(Tensor, Tensor)> {
    let g = max_geometry("max_pool1d", 1, options)?;
    max_pool_with_geometry(input, 1, &g)
}

/// 2-D max pooling of `[N, C, H, W]` or `[C, H, W]` (`torch.nn.functional.max_pool2d`).
///
/// ```
/// use baeum::tensor;
/// use baeum::nn::functional::{max_pool2d, MaxPoolOptions};
/// let x = tensor!([[[[1., 1., 2., 4.], [5., 6., 7., 8.], [3., 2., 1., 0.], [1., 2., 3., 4.]]]]);
/// let y = max_pool2d(&x, &MaxPoolOptions::new(2).stride(2)).unwrap();
/// assert_eq!(y.to_vec::<f32>(), vec![6., 8., 3., 4.]);
/// ```
pub fn max_pool2d(input: &Tensor, options: &MaxPoolOptions) -> Result<Tensor> {
    Ok(max_pool2d_with_indices(input, options)?.0)
}

/// [`max_pool2d`] with the flat index `h·W + w` of each maximum in its plane (PyTorch's
/// `return_indices=True`), as int64.
pub fn max_pool2d_with_indices(
    input: &Tensor,
    options: &MaxPoolOptions,
) -> Result<(Tensor, Tensor)> {
    let g = max_geometry("max_pool2d", 2, options)?;
    max_pool_with_geometry(input, 2, &g)
}

/// 3-D max pooling of `[N, C, D, H, W]` or `[C, D, H, W]` (`torch.nn.functional.max_pool3d`):
/// volumes such as video clips or medical scans.
///
/// ```
/// use baeum::{DType, Tensor};
/// use baeum::nn::functional::{max_pool3d, MaxPoolOptions};
/// let x = Tensor::arange_step(0.0, 8.0, 1.0, DType::F32).reshape(&[1, 1, 2, 2, 2]);
/// let y = max_pool3d(&x, &MaxPoolOptions::new(2)).unwrap();
/// assert_eq!(y.to_vec::<f32>(), vec![7.]);
/// ```
pub fn max_pool3d(input: &Tensor, options: &MaxPoolOptions) -> Result<Tensor> {
    Ok(max_pool3d_with_indices(input, options)?.0)
}

/// [`max_pool3d`] with the flat index `(d·H + h)·W + w` of each maximum in its volume
/// (PyTorch's `return_indices=True`), as int64.
pub fn max_pool3d_with_indices(
    input: &Tensor,
    options: &MaxPoolOptions,
) -> Result<(Tensor, Tensor)> {
    let g = max_geometry("max_pool3d", 3, options)?;
    max_pool_with_geometry(input, 3, &g)
}

fn max_geometry(op: &str, spatial: usize, o: &MaxPoolOptions) -> Result<PoolGeometry> {
    PoolGeometry::from_options(
        op,
        spatial,
        &o.kernel_size,
        o.stride.as_ref(),
        &o.padding,
        &o.dilation,
        o.ceil_mode,
    )
}

/// Max pooling over the last `spatial` (1, 2 or 3) dimensions with any [`PoolGeometry`]
/// (asymmetric padding, as ONNX's MaxPool): values and flat indices per plane (row-major over
/// the spatial dimensions). Recorded as `max_pool1d`, `max_pool2d` or `max_pool3d`.
pub fn max_pool_with_geometry(
    input: &Tensor,
    spatial: usize,
    geometry: &PoolGeometry,
) -> Result<(Tensor, Tensor)> {
    let op = pool_name("max_pool", spatial)?;
    let (plan, _, shape) = sliding_plan(op, input, spatial, geometry)?;
    Ok(max_pool_plan(op, input, plan, shape))
}

/// Adaptive 1-D max pooling to `output_size` positions.
pub fn adaptive_max_pool1d(input: &Tensor, output_size: usize) -> Result<Tensor> {
    let (plan, shape) = adaptive_plan("adaptive_max_pool1d", input, 1, &Sizes::from(output_size))?;
    Ok(max_pool_plan("adaptive_max_pool1d", input, plan, shape).0)
}

/// Adaptive 2-D max pooling to `output_size` (one value or `[H, W]`).
pub fn adaptive_max_pool2d(input: &Tensor, output_size: impl Into<Sizes>) -> Result<Tensor> {
    Ok(adaptive_max_pool2d_with_indices(input, output_size)?.0)
}

/// [`adaptive_max_pool2d`] with the flat index of each maximum in its plane.
pub fn adaptive_max_pool2d_with_indices(
    input: &Tensor,
    output_size: impl Into<Sizes>,
) -> Result<(Tensor, Tensor)> {
    let op = "adaptive_max_pool2d";
    let (plan, shape) = adaptive_plan(op, input, 2, &output_size.into())?;
    Ok(max_pool_plan(op, input, plan, shape))
}

/// Adaptive 3-D max pooling to `output_size` (one value or `[D, H, W]`).
pub fn adaptive_max_pool3d(input: &Tensor, output_size: impl Into<Sizes>) -> Result<Tensor> {
    Ok(adaptive_max_pool3d_with_indices(input, output_size)?.0)
}

/// [`adaptive_max_pool3d`] with the flat index of each maximum in its volume.
pub fn adaptive_max_pool3d_with_indices(
    input: &Tensor,
    output_size: impl Into<Sizes>,
) -> Result<(Tensor, Tensor)> {
    let op = "adaptive_max_pool3d";
    let (plan, shape) = adaptive_plan(op, input, 3, &output_size.into())?;
    Ok(max_pool_plan(op, input, plan, shape))
}

// ---------------------------------------------------------------------------------------------
// Average pooling.

/// An average pooling's plan and divisors (one factor per output position along depth,
/// height and width), shared by the forward and its adjoint.
struct AvgPlan {
    plan: PoolPlan,
    div: [Vec<f64>; 3],
    in_shape: Vec<usize>,
    out_shape: Vec<usize>,
}

/// Average pooling of `x` along `plan`, recorded as `op`; its gradient is
/// [`avg_pool_adjoint`].
fn avg_pool_apply(op: &'static str, x: &Tensor, p: Arc<AvgPlan>) -> Tensor {
    record_op(
        op,
        &[x],
        || {
            let xc = x.contiguous();
            with_float_dtype!(xc.dtype(), T => xc.with_slice::<T, _>(|d, l| {
                let v = avg_pool(&d[l.offset..l.offset + l.numel()], &p.plan, &p.div);
                Tensor::from_vec(v, p.out_shape.clone())
            }), unreachable!("{op}: checked to be float"))
        },
        |_, _| {
            let p = p.clone();
            move |g: &Tensor| grads([Some(avg_pool_adjoint(op, g, p.clone()))])
        },
    )
}

/// The adjoint of an average pooling (its gradient), recorded as `avg_pool_backward`; its
/// own gradient is the pooling again.
fn avg_pool_adjoint(op: &'static str, g: &Tensor, p: Arc<AvgPlan>) -> Tensor {
    record_op(
        "avg_pool_backward",
        &[g],
        || {
            let gc = g.contiguous();
            with_float_dtype!(gc.dtype(), T => gc.with_slice::<T, _>(|d, l| {
                let v = avg_pool_backward(&d[l.offset..l.offset + l.numel()], &p.plan, &p.div);
                Tensor::from_vec(v, p.in_shape.clone())
            }), unreachable!("avg_pool_backward: float gradients only"))
        },
        |_, _| {
            let p = p.clone();
            move |gg: &Tensor| grads([Some(avg_pool_apply(op, gg, p.clone()))])
        },
    )
}

/// 1-D average pooling of `[N, C, L]` or `[C, L]` (`torch.nn.functional.avg_pool1d`).
pub fn avg_pool1d(input: &Tensor, options: &AvgPoolOptions) -> Result<Tensor> {
    let op = "avg_pool1d";
    let g = avg_geometry(op, 1, options)?;
    avg_pool_with_geometry(
        input,
        1,
        &g,
        options.count_include_pad,
        options.divisor_override,
    )
}

/// 2-D average pooling of `[N, C, H, W]` or `[C, H, W]` (`torch.nn.functional.avg_pool2d`).
/// With `count_include_pad` (the default) every window divides by kH·kW (padding zeros count,
/// though a ceil-mode window that runs past the right padding counts only up to it);
/// without, by the number of input elements it covers.
pub fn avg_pool2d(input: &Tensor, options: &AvgPoolOptions) -> Result<Tensor> {
    let op = "avg_pool2d";
    let g = avg_geometry(op, 2, options)?;
    avg_pool_with_geometry(
        input,
        2,
        &g,
        options.count_include_pad,
        options.divisor_override,
    )
}

/// 3-D average pooling of `[N, C, D, H, W]` or `[C, D, H, W]`
/// (`torch.nn.functional.avg_pool3d`); the divisor follows [`avg_pool2d`]'s rules, over
/// kD·kH·kW windows.
pub fn avg_pool3d(input: &Tensor, options: &AvgPoolOptions) -> Result<Tensor> {
    let op = "avg_pool3d";
    let g = avg_geometry(op, 3, options)?;
    avg_pool_with_geometry(
        input,
        3,
        &g,
        options.count_include_pad,
        options.divisor_override,
    )
}

fn avg_geometry(op: &str, spatial: usize, o: &AvgPoolOptions) -> Result<PoolGeometry> {
    PoolGeometry::from_options(
        op,
        spatial,
        &o.kernel_size,
        o.stride.as_ref(),
        &o.padding,
        &Sizes::from(1),
        o.ceil_mode,
    )
}

/// Average pooling over the last `spatial` (1, 2 or 3) dimensions with any [`PoolGeometry`]
/// (asymmetric padding, dilation: ONNX's AveragePool). Recorded as `avg_pool1d`,
/// `avg_pool2d` or `avg_pool3d`.
pub fn avg_pool_with_geometry(
    input: &Tensor,
    spatial: usize,
    geometry: &PoolGeometry,
    count_include_pad: bool,
    divisor_override: Option<usize>,
) -> Result<Tensor> {
    let op = pool_name("avg_pool", spatial)?;
    let (plan, with_pad, out_shape) = sliding_plan(op, input, spatial, geometry)?;
    let div = match divisor_override {
        Some(0) => bail!(Invalid, "{op}: divisor_override must be positive"),
        // The whole divisor on the first dimension, ones on the others.
        Some(d) => [0, 1, 2].map(|k| {
            let f = if k == 0 { d as f64 } else { 1.0 };
            vec![f; plan.spans[k].len()]
        }),
        None if count_include_pad => with_pad,
        None => covered(&plan),
    };
    let p = AvgPlan {
        plan,
        div,
        in_shape: input.dims().to_vec(),
        out_shape,
    };
    Ok(avg_pool_apply(op, input, Arc::new(p)))
}

/// Adaptive 1-D average pooling to `output_size` positions.
pub fn adaptive_avg_pool1d(input: &Tensor, output_size: usize) -> Result<Tensor> {
    adaptive_avg("adaptive_avg_pool1d", input, 1, Sizes::from(output_size))
}

/// Adaptive 2-D average pooling to `output_size` (one value or `[H, W]`); output size 1 is
/// global average pooling.
pub fn adaptive_avg_pool2d(input: &Tensor, output_size: impl Into<Sizes>) -> Result<Tensor> {
    adaptive_avg("adaptive_avg_pool2d", input, 2, output_size.into())
}

/// Adaptive 3-D average pooling to `output_size` (one value or `[D, H, W]`).
pub fn adaptive_avg_pool3d(input: &Tensor, output_size: impl Into<Sizes>) -> Result<Tensor> {
    adaptive_avg("adaptive_avg_pool3d", input, 3, output_size.into())
}

/// The number of input elements each window covers along each dimension (the divisors that
/// leave padding out).
fn covered(plan: &PoolPlan) -> [Vec<f64>; 3] {
    [0, 1, 2].map(|d| plan.spans[d].iter().map(|s| s.len as f64).collect())
}

fn adaptive_avg(op: &'static str, input: &Tensor, spatial: usize, size: Sizes) -> Result<Tensor> {
    let (plan, out_shape) = adaptive_plan(op, input, spatial, &size)?;
    let p = AvgPlan {
        div: covered(&plan),
        plan,
        in_shape: input.dims().to_vec(),
        out_shape,
    };
    Ok(avg_pool_apply(op, input, Arc::new(p)))
}
