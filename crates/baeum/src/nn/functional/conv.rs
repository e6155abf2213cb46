//! Convolutions: conv1d, conv2d, conv_transpose1d/2d, and the unfold/fold (im2col/col2im)
//! pair they are built on, with PyTorch's arguments and output sizes.
//!
//! A convolution is one matrix product: the weight `[C_out, C_in·k…]` times the input's
//! windows laid out as columns (`unfold`). The backward rules are written with `unfold`,
//! `fold` (each the other's adjoint, both recorded) and `matmul`, so convolutions have
//! second derivatives too (a gradient penalty through a CNN works).

use crate::autograd::{Saved, grads, record_op};
use crate::error::{Error, Result, bail};
use crate::kernels::conv::{Window2d, col2im, im2col};
use crate::tensor::{Shape, Tensor};
use crate::with_float_dtype;

/// A size given once for every spatial dimension or once per dimension (PyTorch's
/// `_size_2_t`): `2`, `[2, 3]` or `vec![2, 3]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sizes(pub Vec<usize>);

impl From<usize> for Sizes {
    fn from(v: usize) -> Sizes {
        Sizes(vec![v])
    }
}
impl<const N: usize> From<[usize; N]> for Sizes {
    fn from(v: [usize; N]) -> Sizes {
        Sizes(v.to_vec())
    }
}
impl From<Vec<usize>> for Sizes {
    fn from(v: Vec<usize>) -> Sizes {
        Sizes(v)
    }
}
impl From<&[usize]> for Sizes {
    fn from(v: &[usize]) -> Sizes {
        Sizes(v.to_vec())
    }
}

impl Sizes {
    /// One value per spatial dimension (`n` of them): a single value repeats.
    pub(crate) fn per_dim(&self, n: usize, op: &str, what: &str) -> Result<Vec<usize>> {
        match self.0.len() {
            1 => Ok(vec![self.0[0]; n]),
            k if k == n => Ok(self.0.clone()),
            _ => bail!(
                Invalid,
                "{op}: {what} {:?} must have 1 or {n} values",
                self.0
            ),
        }
    }
}

/// A convolution's zero padding (PyTorch's `padding` argument).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Padding {
    /// The same number of zeros on both sides of each spatial dimension (one value for all
    /// dimensions, or one per dimension).
    Explicit(Sizes),
    /// `padding="same"`: the output keeps the input's size (stride 1 only). With an even
    /// kernel the extra zero goes after (right/bottom), as in PyTorch and TensorFlow.
    Same,
    /// `padding="valid"`: no padding.
    Valid,
}

impl<T: Into<Sizes>> From<T> for Padding {
    fn from(v: T) -> Padding {
        Padding::Explicit(v.into())
    }
}

/// The options of [`conv1d`] / [`conv2d`] (PyTorch's names and defaults: stride 1, padding 0,
/// dilation 1, groups 1). A `Conv2d` layer holds one.
///
/// ```
/// use baeum::nn::functional::{ConvOptions, Padding};
/// let o = ConvOptions::default().stride(2).padding(1);
/// let same = ConvOptions::default().padding(Padding::Same).dilation([1, 2]);
/// # let _ = (o, same);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvOptions {
    pub stride: Sizes,
    pub padding: Padding,
    pub dilation: Sizes,
    pub groups: usize,
}

impl Default for ConvOptions {
    fn default() -> Self {
        ConvOptions {
            stride: Sizes::from(1),
            padding: Padding::Explicit(Sizes::from(0)),
            dilation: Sizes::from(1),
            groups: 1,
        }
    }
}

impl ConvOptions {
    pub fn stride(mut self, stride: impl Into<Sizes>) -> Self {
        self.stride = stride.into();
        self
    }
    pub fn padding(mut self, padding: impl Into<Padding>) -> Self {
        self.padding = padding.into();
        self
    }
    pub fn dilation(mut self, dilation: impl Into<Sizes>) -> Self {
        self.dilation = dilation.into();
        self
    }
    pub fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }
}

/// The options of [`conv_transpose1d`] / [`conv_transpose2d`] (PyTorch's defaults: stride 1,
/// padding 0, output_padding 0, groups 1, dilation 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvTransposeOptions {
    pub stride: Sizes,
    pub padding: Sizes,
    pub output_padding: Sizes,
    pub groups: usize,
    pub dilation: Sizes,
}

impl Default for ConvTransposeOptions {
    fn default() -> Self {
        ConvTransposeOptions {
            stride: Sizes::from(1),
            padding: Sizes::from(0),
            output_padding: Sizes::from(0),
            groups: 1,
            dilation: Sizes::from(1),
        }
    }
}

impl ConvTransposeOptions {
    pub fn stride(mut self, stride: impl Into<Sizes>) -> Self {
        self.stride = stride.into();
        self
    }
    pub fn padding(mut self, padding: impl Into<Sizes>) -> Self {
        self.padding = padding.into();
        self
    }
    pub fn output_padding(mut self, output_padding: impl Into<Sizes>) -> Self {
        self.output_padding = output_padding.into();
        self
    }
    pub fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }
    pub fn dilation(mut self, dilation: impl Into<Sizes>) -> Self {
        self.dilation = dilation.into();
        self
    }
}

/// The output length of a convolution or pooling along one dimension, as PyTorch computes it:
/// `⌊(n + 2·pad − dilation·(k − 1) − 1) / stride⌋ + 1` (a window that does not fit at the end
/// is dropped). Errors when the kernel is larger than the padded input or stride is 0.
///
/// ```
/// use baeum::nn::functional::conv_output_size;
/// assert_eq!(conv_output_size(7, 3, 1, 0, 1).unwrap(), 5);
/// assert_eq!(conv_output_size(7, 3, 3, 0, 1).unwrap(), 2); // floor, as PyTorch
/// assert_eq!(conv_output_size(227, 11, 4, 0, 1).unwrap(), 55); // AlexNet CONV1
/// ```
pub fn conv_output_size(
    n: usize,
    k: usize,
    stride: usize,
    pad: usize,
    dilation: usize,
) -> Result<usize> {
    Ok(span_fit(n, k, stride, pad, dilation)?.0)
}

/// [`conv_output_size`] that also refuses a stride that does not step evenly from one edge
/// to the other: `(N − F + 2P)` must be divisible by the stride (COURSE §8: N = 7, F = 3,
/// stride 3 gives 2.33, not valid).
///
/// ```
/// use baeum::nn::functional::conv_output_size_exact;
/// assert_eq!(conv_output_size_exact(7, 3, 2, 0, 1).unwrap(), 3);
/// assert!(conv_output_size_exact(7, 3, 3, 0, 1).is_err());
/// ```
pub fn conv_output_size_exact(
    n: usize,
    k: usize,
    stride: usize,
    pad: usize,
    dilation: usize,
) -> Result<usize> {
    let (out, rest, span) = span_fit(n, k, stride, pad, dilation)?;
    if rest != 0 {
        bail!(
            Invalid,
            "conv_output_size: with N = {n}, F = {span}, P = {pad} and stride {stride}, \
             (N - F + 2P) / stride + 1 = {:.2} is not an integer: the windows do not fit the \
             input evenly (change the stride or the padding)",
            (n + 2 * pad - span) as f64 / stride as f64 + 1.0
        );
    }
    Ok(out)
}

/// (output size, leftover of the division, effective kernel span) of a window along one
/// dimension.
fn span_fit(
    n: usize,
    k: usize,
    stride: usize,
    pad: usize,
    dilation: usize,
) -> Result<(usize, usize, usize)> {
    if stride == 0 || dilation == 0 || k == 0 {
        bail!(
            Invalid,
            "conv_output_size: kernel size {k}, stride {stride} and dilation {dilation} must be \
             positive"
        );
    }
    let span = dilation * (k - 1) + 1;
    let padded = n + 2 * pad;
    if span > padded {
        bail!(
            Shape,
            "conv_output_size: kernel of size {k} (spanning {span} with dilation {dilation}) is \
             larger than the padded input {n} + 2·{pad} = {padded}"
        );
    }
    Ok(((padded - span) / stride + 1, (padded - span) % stride, span))
}

// ---------------------------------------------------------------------------------------------
// unfold / fold: the recorded primitives.

/// The sliding windows of a batch of images as columns (`torch.nn.functional.unfold`, im2col):
/// `[N, C, H, W]` → `[N, C·kH·kW, L]`, L the number of window positions. Row `(c, i, j)` holds
/// the element at kernel offset `(i, j)` of channel `c`. Its gradient is [`fold`].
pub fn unfold(
    input: &Tensor,
    kernel_size: impl Into<Sizes>,
    dilation: impl Into<Sizes>,
    padding: impl Into<Sizes>,
    stride: impl Into<Sizes>,
) -> Result<Tensor> {
    let op = "unfold";
    let (x, batched) = batch4(op, input)?;
    let k = kernel_size.into().per_dim(2, op, "kernel_size")?;
    let d = dilation.into().per_dim(2, op, "dilation")?;
    let p = padding.into().per_dim(2, op, "padding")?;
    let s = stride.into().per_dim(2, op, "stride")?;
    let dims = x.dims();
    let win = window(
        op,
        input,
        [dims[1], dims[2], dims[3]],
        [k[0], k[1]],
        [s[0], s[1]],
        [d[0], d[1]],
        [[p[0], p[0]], [p[1], p[1]]],
    )?;
    float_check(op, &x)?;
    let cols = unfold_window(&x, win);
    Ok(if batched { cols } else { cols.squeeze_dim(0) })
}

/// The adjoint of [`unfold`] (`torch.nn.functional.fold`, col2im): `[N, C·kH·kW, L]` columns
/// summed back into `[N, C, H, W]` images of `output_size`; overlapping windows add up.
pub fn fold(
    input: &Tensor,
    output_size: impl Into<Sizes>,
    kernel_size: impl Into<Sizes>,
    dilation: impl Into<Sizes>,
    padding: impl Into<Sizes>,
    stride: impl Into<Sizes>,
) -> Result<Tensor> {
    let op = "fold";
    let batched = match input.rank() {
        3 => true,
        2 => false,
        _ => bail!(
            Shape,
            "{op}: input {} must be 3-D [N, C·kH·kW, L] or 2-D [C·kH·kW, L]",
            input.shape()
        ),
    };
    float_check(op, input)?;
    let cols = if batched {
        input.clone()
    } else {
        input.unsqueeze(0)
    };
    let o = output_size.into().per_dim(2, op, "output_size")?;
    let k = kernel_size.into().per_dim(2, op, "kernel_size")?;
    let d = dilation.into().per_dim(2, op, "dilation")?;
    let p = padding.into().per_dim(2, op, "padding")?;
    let s = stride.into().per_dim(2, op, "stride")?;
    let rows = cols.dims()[1];
    if k[0] * k[1] == 0 || rows % (k[0] * k[1]) != 0 {
        bail!(
            Shape,
            "{op}: input {} has {rows} rows, not a multiple of the kernel's {}×{} elements",
            input.shape(),
            k[0],
            k[1]
        );
    }
    let win = window(
        op,
        input,
        [rows / (k[0] * k[1]), o[0], o[1]],
        [k[0], k[1]],
        [s[0], s[1]],
        [d[0], d[1]],
        [[p[0], p[0]], [p[1], p[1]]],
    )?;
    if cols.dims()[2] != win.col_cols() {
        bail!(
            Shape,
            "{op}: input {} has {} columns but an output of {}×{} with this kernel, stride, \
             padding and dilation has {}×{} = {} window positions",
            input.shape(),
            cols.dims()[2],
            o[0],
            o[1],
            win.out[0],
            win.out[1],
            win.col_cols()
        );
    }
    let img = fold_window(&cols, win);
    Ok(if batched { img } else { img.squeeze_dim(0) })
}

/// im2col of a float `[N, C, H, W]` tensor, recorded as `unfold`.
pub(crate) fn unfold_window(x: &Tensor, win: Window2d) -> Tensor {
    record_op(
        "unfold",
        &[x],
        || {
            let n = x.dims()[0];
            let c = x.contiguous();
            with_float_dtype!(c.dtype(), T => c.with_slice::<T, _>(|data, l| {
                let data = &data[l.offset..l.offset + l.numel()];
                Tensor::from_vec(im2col(data, n, &win), [n, win.col_rows(), win.col_cols()])
            }), unreachable!("unfold: checked to be float"))
        },
        move |_, _| move |g: &Tensor| grads([Some(fold_window(g, win))]),
    )
}

/// col2im of a float `[N, C·kH·kW, L]` tensor, recorded as `fold`.
pub(crate) fn fold_window(cols: &Tensor, win: Window2d) -> Tensor {
    record_op(
        "fold",
        &[cols],
        || {
            let n = cols.dims()[0];
            let c = cols.contiguous();
            with_float_dtype!(c.dtype(), T => c.with_slice::<T, _>(|data, l| {
                let data = &data[l.offset..l.offset + l.numel()];
                Tensor::from_vec(
                    col2im(data, n, &win),
                    [n, win.channels, win.height, win.width],
                )
            }), unreachable!("fold: checked to be float"))
        },
        move |_, _| move |g: &Tensor| grads([Some(unfold_window(g, win))]),
    )
}

// ---------------------------------------------------------------------------------------------
// Convolutions.

/// 1-D convolution (cross-correlation, as PyTorch): input `[N, C_in, L]` or unbatched
/// `[C_in, L]`, weight `[C_out, C_in/groups, k]`, optional bias `[C_out]`.
pub fn conv1d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    options: &ConvOptions,
) -> Result<Tensor> {
    let op = "conv1d";
    let batched = match input.rank() {
        3 => true,
        2 => false,
        _ => bail!(
            Shape,
            "{op}: input {} must be 3-D [N, C, L] or 2-D [C, L]",
            input.shape()
        ),
    };
    if weight.rank() != 3 {
        bail!(
            Shape,
            "{op}: weight {} must be 3-D [C_out, C_in/groups, k]",
            weight.shape()
        );
    }
    let x = if batched {
        input.clone()
    } else {
        input.unsqueeze(0)
    };
    let stride = options.stride.per_dim(1, op, "stride")?;
    let dilation = options.dilation.per_dim(1, op, "dilation")?;
    let opts2 = ConvOptions {
        stride: Sizes(vec![1, stride[0]]),
        dilation: Sizes(vec![1, dilation[0]]),
        padding: match &options.padding {
            Padding::Explicit(p) => {
                Padding::Explicit(Sizes(vec![0, p.per_dim(1, op, "padding")?[0]]))
            }
            other => other.clone(),
        },
        groups: options.groups,
    };
    let out = convolution(
        op,
        input,
        &x.unsqueeze(2),
        &weight.unsqueeze(2),
        bias,
        &opts2,
    )?
    .squeeze_dim(2);
    Ok(if batched { out } else { out.squeeze_dim(0) })
}

/// 2-D convolution (cross-correlation, as PyTorch): input `[N, C_in, H, W]` or unbatched
/// `[C_in, H, W]`, weight `[C_out, C_in/groups, kH, kW]`, optional bias `[C_out]`.
/// Output `[N, C_out, H_out, W_out]` with `H_out = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1`.
///
/// ```
/// use baeum::{tensor, Tensor};
/// use baeum::nn::functional::{conv2d, ConvOptions};
/// let image = tensor!([[[[1., 2., 3.], [4., 5., 6.], [7., 8., 9.]]]]);
/// let filter = Tensor::ones([1, 1, 2, 2]);
/// let y = conv2d(&image, &filter, None, &ConvOptions::default()).unwrap();
/// assert_eq!(y.to_vec::<f32>(), vec![12., 16., 24., 28.]);
/// ```
pub fn conv2d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    options: &ConvOptions,
) -> Result<Tensor> {
    let op = "conv2d";
    let (x, batched) = batch4(op, input)?;
    if weight.rank() != 4 {
        bail!(
            Shape,
            "{op}: weight {} must be 4-D [C_out, C_in/groups, kH, kW]",
            weight.shape()
        );
    }
    let out = convolution(op, input, &x, weight, bias, options)?;
    Ok(if batched { out } else { out.squeeze_dim(0) })
}

/// The convolution of a 4-D input by a 4-D weight, recorded as `op` (inputs x and weight; the
/// bias is added after, as a broadcast add).
fn convolution(
    op: &'static str,
    original: &Tensor,
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    options: &ConvOptions,
) -> Result<Tensor> {
    float_check(op, x)?;
    same_dtype(op, x, w, "weight")?;
    let (n, c_in, h, wd) = (x.dims()[0], x.dims()[1], x.dims()[2], x.dims()[3]);
    let (c_out, c_per, kh, kw) = (w.dims()[0], w.dims()[1], w.dims()[2], w.dims()[3]);
    let groups = options.groups;
    if groups == 0 || c_in % groups != 0 || c_out % groups != 0 {
        bail!(
            Shape,
            "{op}: groups = {groups} must divide both the input's {c_in} channels and the \
             weight's {c_out} output channels (input {}, weight {})",
            original.shape(),
            w.shape()
        );
    }
    if c_per * groups != c_in {
        bail!(
            Shape,
            "{op}: weight {} expects {} input channels ({c_per} per group × {groups} groups) but \
             the input {} has {c_in}",
            w.shape(),
            c_per * groups,
            original.shape()
        );
    }
    check_bias(op, bias, c_out, x)?;
    let stride = options.stride.per_dim(2, op, "stride")?;
    let dilation = options.dilation.per_dim(2, op, "dilation")?;
    let pads = match &options.padding {
        Padding::Explicit(p) => {
            let p = p.per_dim(2, op, "padding")?;
            [[p[0], p[0]], [p[1], p[1]]]
        }
        Padding::Valid => [[0, 0], [0, 0]],
        Padding::Same => {
            if stride.iter().any(|&s| s != 1) {
                bail!(
                    Invalid,
                    "{op}: padding=\"same\" needs stride 1 (got {stride:?}), as in PyTorch; give \
                     the padding explicitly for a strided convolution"
                );
            }
            let total = |d: usize, k: usize| dilation[d] * (k.max(1) - 1);
            let (th, tw) = (total(0, kh), total(1, kw));
            [[th / 2, th - th / 2], [tw / 2, tw - tw / 2]]
        }
    };
    let win = window(
        op,
        original,
        [c_in, h, wd],
        [kh, kw],
        [stride[0], stride[1]],
        [dilation[0], dilation[1]],
        pads,
    )?;
    let geometry = GroupedConv {
        win,
        groups,
        n,
        c_in,
        c_out,
    };
    let out = record_op(
        op,
        &[x, w],
        || geometry.forward(x, w),
        |_, needs| {
            let (sx, sw) = (Saved::new(op, x), Saved::new(op, w));
            let needs = [needs[0], needs[1]];
            move |g: &Tensor| {
                let (x, w) = (sx.get(), sw.get());
                grads([
                    needs[0].then(|| geometry.grad_input(g, w)),
                    needs[1].then(|| geometry.grad_weight(g, x, w.shape())),
                ])
            }
        },
    );
    Ok(add_bias(out, bias))
}

/// A grouped 2-D convolution's shapes: `win` is the window over the (convolution's) input.
#[derive(Clone, Copy)]
struct GroupedConv {
    win: Window2d,
    groups: usize,
    n: usize,
    c_in: usize,
    c_out: usize,
}

impl GroupedConv {
    fn dims(&self) -> [isize; 6] {
        let g = self.groups;
        let k = self.win.kernel[0] * self.win.kernel[1];
        [
            self.n as isize,
            g as isize,
            (self.c_in / g * k) as isize,
            (self.c_out / g) as isize,
            self.win.col_cols() as isize,
            (self.c_in / g) as isize,
        ]
    }

    /// The weight as `[groups, C_out/g, C_in/g·k]`.
    fn weight_matrix(&self, w: &Tensor) -> Tensor {
        let [_, g, rows, outs, _, _] = self.dims();
        w.reshape(&[g, outs, rows])
    }

    /// The columns of `x` (the convolution's input), grouped: `[N, g, C_in/g·k, L]`.
    fn columns(&self, x: &Tensor) -> Tensor {
        let [n, g, rows, _, l, _] = self.dims();
        unfold_window(x, self.win).reshape(&[n, g, rows, l])
    }

    /// `[N, C_out, oH, oW]`: the weight times the columns.
    fn forward(&self, x: &Tensor, w: &Tensor) -> Tensor {
        let [n, _, _, _, _, _] = self.dims();
        let [oh, ow] = self.win.out;
        self.weight_matrix(w).matmul(&self.columns(x)).reshape(&[
            n,
            self.c_out as isize,
            oh as isize,
            ow as isize,
        ])
    }

    /// ∂L/∂x: the weight's transpose times the gradient, folded back (a transposed
    /// convolution).
    fn grad_input(&self, g: &Tensor, w: &Tensor) -> Tensor {
        let [n, gr, rows, outs, l, _] = self.dims();
        let g = g.reshape(&[n, gr, outs, l]);
        let cols = self.weight_matrix(w).mt().matmul(&g);
        fold_window(&cols.reshape(&[n, gr * rows, l]), self.win)
    }

    /// ∂L/∂w: the gradient times the columns' transpose, summed over the batch.
    fn grad_weight(&self, g: &Tensor, x: &Tensor, w_shape: &Shape) -> Tensor {
        let [n, gr, _, outs, l, _] = self.dims();
        let g = g.reshape(&[n, gr, outs, l]);
        g.matmul(&self.columns(x).mt())
            .sum_dims(&[0], false)
            .reshape_to(w_shape.clone())
    }

    // The transposed convolution uses the same window, read the other way: its input is
    // this convolution's output `[N, C_in_t, L]` and its output this convolution's input.
    // Here `c_in` is the transposed convolution's output channels and `c_out` its input's.

    /// `[N, C_out_t, H_t, W_t]`: the columns `wᵀ·x` folded.
    fn transpose_forward(&self, x: &Tensor, w: &Tensor) -> Tensor {
        let [n, g, rows, outs, l, _] = self.dims();
        let cols = self
            .weight_matrix(w)
            .mt()
            .matmul(&x.reshape(&[n, g, outs, l]));
        fold_window(&cols.reshape(&[n, g * rows, l]), self.win)
    }
}

/// 1-D transposed convolution (the gradient of conv1d with respect to its input): input
/// `[N, C_in, L]` or `[C_in, L]`, weight `[C_in, C_out/groups, k]`, bias `[C_out]`.
pub fn conv_transpose1d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    options: &ConvTransposeOptions,
) -> Result<Tensor> {
    let op = "conv_transpose1d";
    let batched = match input.rank() {
        3 => true,
        2 => false,
        _ => bail!(
            Shape,
            "{op}: input {} must be 3-D [N, C, L] or 2-D [C, L]",
            input.shape()
        ),
    };
    if weight.rank() != 3 {
        bail!(
            Shape,
            "{op}: weight {} must be 3-D [C_in, C_out/groups, k]",
            weight.shape()
        );
    }
    let x = if batched {
        input.clone()
    } else {
        input.unsqueeze(0)
    };
    let one =
        |s: &Sizes, what: &str| -> Result<Sizes> { Ok(Sizes(vec![0, s.per_dim(1, op, what)?[0]])) };
    let ones =
        |s: &Sizes, what: &str| -> Result<Sizes> { Ok(Sizes(vec![1, s.per_dim(1, op, what)?[0]])) };
    let opts2 = ConvTransposeOptions {
        stride: ones(&options.stride, "stride")?,
        padding: one(&options.padding, "padding")?,
        output_padding: one(&options.output_padding, "output_padding")?,
        groups: options.groups,
        dilation: ones(&options.dilation, "dilation")?,
    };
    let out = transposed_convolution(
        op,
        input,
        &x.unsqueeze(2),
        &weight.unsqueeze(2),
        bias,
        &opts2,
    )?
    .squeeze_dim(2);
    Ok(if batched { out } else { out.squeeze_dim(0) })
}

/// 2-D transposed convolution (the gradient of conv2d with respect to its input): input
/// `[N, C_in, H, W]` or `[C_in, H, W]`, weight `[C_in, C_out/groups, kH, kW]`, bias `[C_out]`;
/// `H_out = (H − 1)·s − 2p + d(k − 1) + output_padding + 1`.
pub fn conv_transpose2d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    options: &ConvTransposeOptions,
) -> Result<Tensor> {
    let op = "conv_transpose2d";
    let (x, batched) = batch4(op, input)?;
    if weight.rank() != 4 {
        bail!(
            Shape,
            "{op}: weight {} must be 4-D [C_in, C_out/groups, kH, kW]",
            weight.shape()
        );
    }
    let out = transposed_convolution(op, input, &x, weight, bias, options)?;
    Ok(if batched { out } else { out.squeeze_dim(0) })
}

fn transposed_convolution(
    op: &'static str,
    original: &Tensor,
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    options: &ConvTransposeOptions,
) -> Result<Tensor> {
    float_check(op, x)?;
    same_dtype(op, x, w, "weight")?;
    let (n, c_in, h, wd) = (x.dims()[0], x.dims()[1], x.dims()[2], x.dims()[3]);
    let (w_in, c_per, kh, kw) = (w.dims()[0], w.dims()[1], w.dims()[2], w.dims()[3]);
    let groups = options.groups;
    if groups == 0 || c_in % groups != 0 || w_in != c_in {
        bail!(
            Shape,
            "{op}: weight {} must have the input's {c_in} channels first, divisible by groups = \
             {groups} (input {})",
            w.shape(),
            original.shape()
        );
    }
    let c_out = c_per * groups;
    check_bias(op, bias, c_out, x)?;
    let s = options.stride.per_dim(2, op, "stride")?;
    let p = options.padding.per_dim(2, op, "padding")?;
    let op_ = options.output_padding.per_dim(2, op, "output_padding")?;
    let d = options.dilation.per_dim(2, op, "dilation")?;
    if s.contains(&0) || d.contains(&0) {
        bail!(
            Invalid,
            "{op}: stride {s:?} and dilation {d:?} must be positive"
        );
    }
    let mut size = [0usize; 2];
    for k in 0..2 {
        if op_[k] >= s[k] && op_[k] >= d[k] {
            bail!(
                Invalid,
                "{op}: output_padding {:?} must be smaller than either the stride {s:?} or the \
                 dilation {d:?}",
                op_
            );
        }
        let n_in = [h, wd][k];
        let kk = [kh, kw][k];
        let full = (n_in.max(1) - 1) * s[k] + d[k] * (kk.max(1) - 1) + op_[k] + 1;
        if n_in == 0 || full <= 2 * p[k] {
            bail!(
                Shape,
                "{op}: input {} with kernel {kh}×{kw}, stride {s:?}, padding {p:?} and \
                 dilation {d:?} gives an empty output",
                original.shape()
            );
        }
        size[k] = full - 2 * p[k];
    }
    let win = Window2d {
        channels: c_out,
        height: size[0],
        width: size[1],
        kernel: [kh, kw],
        stride: [s[0], s[1]],
        dilation: [d[0], d[1]],
        pad_before: [p[0], p[1]],
        pad_after: [p[0], p[1]],
        out: [h, wd],
    };
    // The transposed convolution is the adjoint of this convolution (input and output
    // channels swapped).
    let geometry = GroupedConv {
        win,
        groups,
        n,
        c_in: c_out,
        c_out: c_in,
    };
    let out = record_op(
        op,
        &[x, w],
        || geometry.transpose_forward(x, w),
        |_, needs| {
            let (sx, sw) = (Saved::new(op, x), Saved::new(op, w));
            let needs = [needs[0], needs[1]];
            move |g: &Tensor| {
                let (x, w) = (sx.get(), sw.get());
                grads([
                    // ∂L/∂x is the convolution of the gradient by the same weight.
                    needs[0].then(|| geometry.forward(g, w).reshape_to(x.shape().clone())),
                    // ∂L/∂w pairs the input with the gradient's windows.
                    needs[1].then(|| geometry.grad_weight(x, g, w.shape())),
                ])
            }
        },
    );
    Ok(add_bias(out, bias))
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the convolutions and pools.

/// A 4-D view of a 4-D `[N, C, H, W]` or 3-D unbatched `[C, H, W]` input, and whether it was
/// batched.
pub(crate) fn batch4(op: &str, input: &Tensor) -> Result<(Tensor, bool)> {
    match input.rank() {
        4 => Ok((input.clone(), true)),
        3 => Ok((input.unsqueeze(0), false)),
        _ => bail!(
            Shape,
            "{op}: input {} must be 4-D [N, C, H, W] or 3-D [C, H, W]",
            input.shape()
        ),
    }
}

pub(crate) fn float_check(op: &str, x: &Tensor) -> Result<()> {
    if !x.dtype().is_float() {
        bail!(
            DType,
            "{op}: input of dtype {} must be a float tensor (convert with .to_f32())",
            x.dtype()
        );
    }
    Ok(())
}

fn same_dtype(op: &str, x: &Tensor, other: &Tensor, what: &str) -> Result<()> {
    if x.dtype() != other.dtype() {
        bail!(
            DType,
            "{op}: input has dtype {} but {what} has dtype {}",
            x.dtype(),
            other.dtype()
        );
    }
    Ok(())
}

fn check_bias(op: &str, bias: Option<&Tensor>, c_out: usize, x: &Tensor) -> Result<()> {
    if let Some(b) = bias {
        if b.dims() != [c_out] {
            bail!(
                Shape,
                "{op}: bias {} must be 1-D with the {c_out} output channels",
                b.shape()
            );
        }
        same_dtype(op, x, b, "bias")?;
    }
    Ok(())
}

fn add_bias(out: Tensor, bias: Option<&Tensor>) -> Tensor {
    match bias {
        Some(b) => {
            let mut shape = vec![1isize; out.rank()];
            shape[1] = -1;
            out + b.reshape(&shape)
        }
        None => out,
    }
}

/// The window of a 2-D sliding operation over `[c, h, w]` inputs, with the output size
/// PyTorch computes; errors name `op`, the input's shape and the parameters.
pub(crate) fn window(
    op: &str,
    input: &Tensor,
    [c, h, w]: [usize; 3],
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    pads: [[usize; 2]; 2],
) -> Result<Window2d> {
    let mut out = [0usize; 2];
    for d in 0..2 {
        let n = [h, w][d];
        let (k, s, dl) = (kernel[d], stride[d], dilation[d]);
        if k == 0 || s == 0 || dl == 0 {
            bail!(
                Invalid,
                "{op}: kernel size {kernel:?}, stride {stride:?} and dilation {dilation:?} must \
                 be positive"
            );
        }
        let span = dl * (k - 1) + 1;
        let padded = n + pads[d][0] + pads[d][1];
        if span > padded {
            return Err(Error::Shape(format!(
                "{op}: kernel {}×{} (spanning {span} with dilation {dl}) is larger than the \
                 padded input ({n} + padding {} + {} = {padded}) of input {}",
                kernel[0],
                kernel[1],
                pads[d][0],
                pads[d][1],
                input.shape()
            )));
        }
        out[d] = (padded - span) / s + 1;
    }
    Ok(Window2d {
        channels: c,
        height: h,
        width: w,
        kernel,
        stride,
        dilation,
        pad_before: [pads[0][0], pads[1][0]],
        pad_after: [pads[0][1], pads[1][1]],
        out,
    })
}
