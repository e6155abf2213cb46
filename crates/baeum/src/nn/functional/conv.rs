//! Convolutions: conv1d/2d/3d, conv_transpose1d/2d/3d, and the unfold/fold (im2col/col2im)
//! pair they are built on, with PyTorch's arguments and output sizes. All go through one
//! window over `[C, D, H, W]` volumes: a 2-D convolution is a 3-D one of depth 1, a 1-D one
//! has height 1 too.
//!
//! A convolution is one matrix product: the weight `[C_out, C_in·k…]` times the input's
//! windows laid out as columns (`unfold`). The backward rules are written with `unfold`,
//! `fold` (each the other's adjoint, both recorded) and `matmul`, so convolutions have
//! second derivatives too (a gradient penalty through a CNN works). The forward, and the
//! backward outside create_graph, run the same products image by image in
//! `kernels::conv` instead, never holding the whole batch's columns.

use crate::autograd::{Saved, grads, is_grad_enabled, record_op};
use crate::error::{Error, Result, bail};
use crate::kernels::conv::{
    ConvShape, Window, col2im, conv_forward, conv_grad_input, conv_grad_weight, im2col,
};
use crate::tensor::{Element, Shape, Tensor};
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

/// The options of [`conv1d`] / [`conv2d`] / [`conv3d`] (PyTorch's names and defaults: stride
/// 1, padding 0, dilation 1, groups 1). A `Conv2d` layer holds one.
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

/// The options of [`conv_transpose1d`] / [`conv_transpose2d`] / [`conv_transpose3d`]
/// (PyTorch's defaults: stride 1, padding 0, output_padding 0, groups 1, dilation 1).
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
    let (x, batched) = batched(op, input, 2)?;
    let k = kernel_size.into().per_dim(2, op, "kernel_size")?;
    let d = dilation.into().per_dim(2, op, "dilation")?;
    let p = padding.into().per_dim(2, op, "padding")?;
    let s = stride.into().per_dim(2, op, "stride")?;
    let dims = x.dims();
    let win = window(
        op,
        input,
        dims[1],
        &dims[2..],
        &k,
        &s,
        &d,
        &[[p[0], p[0]], [p[1], p[1]]],
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
        rows / (k[0] * k[1]),
        &o,
        &k,
        &s,
        &d,
        &[[p[0], p[0]], [p[1], p[1]]],
    )?;
    if cols.dims()[2] != win.col_cols() {
        let out = win.out_dims();
        bail!(
            Shape,
            "{op}: input {} has {} columns but an output of {}×{} with this kernel, stride, \
             padding and dilation has {}×{} = {} window positions",
            input.shape(),
            cols.dims()[2],
            o[0],
            o[1],
            out[0],
            out[1],
            win.col_cols()
        );
    }
    let img = fold_window(&cols, win);
    Ok(if batched { img } else { img.squeeze_dim(0) })
}

/// Calls `f` with the elements of `a` and `b` (both of dtype `T`) in row-major order.
fn contiguous_pair<T: Element, R>(a: &Tensor, b: &Tensor, f: impl FnOnce(&[T], &[T]) -> R) -> R {
    let (a, b) = (a.contiguous(), b.contiguous());
    a.with_slice::<T, _>(|da, la| {
        b.with_slice::<T, _>(|db, lb| {
            f(
                &da[la.offset..la.offset + la.numel()],
                &db[lb.offset..lb.offset + lb.numel()],
            )
        })
    })
}

/// im2col of a float `[N, C, *spatial]` tensor, recorded as `unfold`.
pub(crate) fn unfold_window(x: &Tensor, win: Window) -> Tensor {
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

/// col2im of a float `[N, C·k…, L]` tensor to `[N, C, *spatial]`, recorded as `fold`.
pub(crate) fn fold_window(cols: &Tensor, win: Window) -> Tensor {
    record_op(
        "fold",
        &[cols],
        || {
            let n = cols.dims()[0];
            let c = cols.contiguous();
            let mut shape = vec![n, win.channels];
            shape.extend_from_slice(win.size_dims());
            with_float_dtype!(c.dtype(), T => c.with_slice::<T, _>(|data, l| {
                let data = &data[l.offset..l.offset + l.numel()];
                Tensor::from_vec(col2im(data, n, &win), shape.clone())
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
    convolution("conv1d", 1, input, weight, bias, options)
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
    convolution("conv2d", 2, input, weight, bias, options)
}

/// 3-D convolution (cross-correlation, as PyTorch): input `[N, C_in, D, H, W]` or unbatched
/// `[C_in, D, H, W]`, weight `[C_out, C_in/groups, kD, kH, kW]`, optional bias `[C_out]`;
/// each output size follows [`conv_output_size`].
///
/// ```
/// use baeum::Tensor;
/// use baeum::nn::functional::{conv3d, ConvOptions};
/// // A 2×2×2 box filter sums each 2×2×2 block of a volume of ones.
/// let volume = Tensor::ones([1, 1, 3, 4, 5]);
/// let y = conv3d(&volume, &Tensor::ones([1, 1, 2, 2, 2]), None, &ConvOptions::default());
/// let y = y.unwrap();
/// assert_eq!(y.dims(), &[1, 1, 2, 3, 4]);
/// assert!(y.to_vec::<f32>().iter().all(|&v| v == 8.0));
/// ```
pub fn conv3d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    options: &ConvOptions,
) -> Result<Tensor> {
    convolution("conv3d", 3, input, weight, bias, options)
}

/// The names of a kernel's dimensions in messages, by spatial rank.
fn kernel_names(spatial: usize) -> &'static str {
    match spatial {
        1 => "k",
        2 => "kH, kW",
        _ => "kD, kH, kW",
    }
}

/// The convolution of `[N, C_in, *spatial]` (or unbatched) input by a `[C_out, C_in/groups,
/// *kernel]` weight over `spatial` dimensions, recorded as `op` (inputs x and weight; the
/// bias is added after, as a broadcast add).
fn convolution(
    op: &'static str,
    spatial: usize,
    input: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    options: &ConvOptions,
) -> Result<Tensor> {
    let (x, batched) = batched(op, input, spatial)?;
    if w.rank() != spatial + 2 {
        bail!(
            Shape,
            "{op}: weight {} must be {}-D [C_out, C_in/groups, {}]",
            w.shape(),
            spatial + 2,
            kernel_names(spatial)
        );
    }
    float_check(op, &x)?;
    same_dtype(op, &x, w, "weight")?;
    let (n, c_in) = (x.dims()[0], x.dims()[1]);
    let (c_out, c_per) = (w.dims()[0], w.dims()[1]);
    let kernel = &w.dims()[2..];
    let groups = options.groups;
    if groups == 0 || c_in % groups != 0 || c_out % groups != 0 {
        bail!(
            Shape,
            "{op}: groups = {groups} must divide both the input's {c_in} channels and the \
             weight's {c_out} output channels (input {}, weight {})",
            input.shape(),
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
            input.shape()
        );
    }
    check_bias(op, bias, c_out, &x)?;
    let stride = options.stride.per_dim(spatial, op, "stride")?;
    let dilation = options.dilation.per_dim(spatial, op, "dilation")?;
    let pads: Vec<[usize; 2]> = match &options.padding {
        Padding::Explicit(p) => p
            .per_dim(spatial, op, "padding")?
            .into_iter()
            .map(|p| [p, p])
            .collect(),
        Padding::Valid => vec![[0, 0]; spatial],
        Padding::Same => {
            if stride.iter().any(|&s| s != 1) {
                bail!(
                    Invalid,
                    "{op}: padding=\"same\" needs stride 1 (got {stride:?}), as in PyTorch; give \
                     the padding explicitly for a strided convolution"
                );
            }
            (0..spatial)
                .map(|d| {
                    let total = dilation[d] * (kernel[d].max(1) - 1);
                    [total / 2, total - total / 2]
                })
                .collect()
        }
    };
    let win = window(
        op,
        input,
        c_in,
        &x.dims()[2..],
        kernel,
        &stride,
        &dilation,
        &pads,
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
        &[&x, w],
        || geometry.direct_forward(&x, w),
        |_, needs| {
            let (sx, sw) = (Saved::new(op, &x), Saved::new(op, w));
            let needs = [needs[0], needs[1]];
            move |g: &Tensor| {
                let (x, w) = (sx.get(), sw.get());
                // Outside create_graph the per-image kernels; recorded, the unfold/fold rules.
                if !is_grad_enabled() {
                    return grads([
                        needs[0].then(|| geometry.direct_grad_input(g, w, x.shape())),
                        needs[1].then(|| geometry.direct_grad_weight(g, x, w.shape())),
                    ]);
                }
                grads([
                    needs[0].then(|| geometry.grad_input(g, w)),
                    needs[1].then(|| geometry.grad_weight(g, x, w.shape())),
                ])
            }
        },
    );
    let out = add_bias(out, bias);
    Ok(if batched { out } else { out.squeeze_dim(0) })
}

/// A grouped convolution's shapes: `win` is the window over the (convolution's) input.
#[derive(Clone, Copy)]
struct GroupedConv {
    win: Window,
    groups: usize,
    n: usize,
    c_in: usize,
    c_out: usize,
}

impl GroupedConv {
    fn dims(&self) -> [isize; 6] {
        let g = self.groups;
        let k: usize = self.win.kernel.iter().product();
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

    /// `[N, C_out, *out]`: the weight times the columns.
    fn forward(&self, x: &Tensor, w: &Tensor) -> Tensor {
        let [n, _, _, _, _, _] = self.dims();
        let mut shape = vec![n, self.c_out as isize];
        shape.extend(self.win.out_dims().iter().map(|&o| o as isize));
        self.weight_matrix(w)
            .matmul(&self.columns(x))
            .reshape(&shape)
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

    fn shape(&self) -> ConvShape {
        ConvShape {
            win: self.win,
            groups: self.groups,
            batch: self.n,
            c_out: self.c_out,
        }
    }

    /// [`GroupedConv::forward`] by the per-image kernel (no batch-sized column matrix).
    fn direct_forward(&self, x: &Tensor, w: &Tensor) -> Tensor {
        let mut shape = vec![self.n, self.c_out];
        shape.extend_from_slice(self.win.out_dims());
        let s = self.shape();
        with_float_dtype!(x.dtype(), T => contiguous_pair::<T, _>(x, w, |x, w| {
            Tensor::from_vec(conv_forward(x, w, &s), shape)
        }), unreachable!("convolution: checked to be float"))
    }

    /// [`GroupedConv::grad_input`] by the per-image kernel, not differentiable.
    fn direct_grad_input(&self, g: &Tensor, w: &Tensor, x_shape: &Shape) -> Tensor {
        let s = self.shape();
        with_float_dtype!(w.dtype(), T => contiguous_pair::<T, _>(&g.to_dtype(w.dtype()), w,
            |g, w| Tensor::from_vec(conv_grad_input(g, w, &s), x_shape.clone())),
            unreachable!("convolution: checked to be float"))
    }

    /// [`GroupedConv::grad_weight`] by the per-image kernel, not differentiable.
    fn direct_grad_weight(&self, g: &Tensor, x: &Tensor, w_shape: &Shape) -> Tensor {
        let s = self.shape();
        with_float_dtype!(x.dtype(), T => contiguous_pair::<T, _>(&g.to_dtype(x.dtype()), x,
            |g, x| Tensor::from_vec(conv_grad_weight(g, x, &s), w_shape.clone())),
            unreachable!("convolution: checked to be float"))
    }

    // The transposed convolution uses the same window, read the other way: its input is
    // this convolution's output `[N, C_in_t, L]` and its output this convolution's input.
    // Here `c_in` is the transposed convolution's output channels and `c_out` its input's.

    /// `[N, C_out_t, *size]`: the columns `wᵀ·x` folded.
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
    transposed_convolution("conv_transpose1d", 1, input, weight, bias, options)
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
    transposed_convolution("conv_transpose2d", 2, input, weight, bias, options)
}

/// 3-D transposed convolution (the gradient of conv3d with respect to its input): input
/// `[N, C_in, D, H, W]` or `[C_in, D, H, W]`, weight `[C_in, C_out/groups, kD, kH, kW]`, bias
/// `[C_out]`; each output size is `(n − 1)·s − 2p + d(k − 1) + output_padding + 1`.
///
/// ```
/// use baeum::Tensor;
/// use baeum::nn::functional::{conv_transpose3d, ConvTransposeOptions};
/// // Stride 2 with a 2×2×2 kernel of ones copies each voxel into a 2×2×2 block.
/// let x = Tensor::ones([1, 1, 2, 2, 2]);
/// let o = ConvTransposeOptions::default().stride(2);
/// let y = conv_transpose3d(&x, &Tensor::ones([1, 1, 2, 2, 2]), None, &o).unwrap();
/// assert_eq!(y.dims(), &[1, 1, 4, 4, 4]);
/// assert!(y.to_vec::<f32>().iter().all(|&v| v == 1.0));
/// ```
pub fn conv_transpose3d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    options: &ConvTransposeOptions,
) -> Result<Tensor> {
    transposed_convolution("conv_transpose3d", 3, input, weight, bias, options)
}

fn transposed_convolution(
    op: &'static str,
    spatial: usize,
    input: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    options: &ConvTransposeOptions,
) -> Result<Tensor> {
    let (x, batched) = batched(op, input, spatial)?;
    if w.rank() != spatial + 2 {
        bail!(
            Shape,
            "{op}: weight {} must be {}-D [C_in, C_out/groups, {}]",
            w.shape(),
            spatial + 2,
            kernel_names(spatial)
        );
    }
    float_check(op, &x)?;
    same_dtype(op, &x, w, "weight")?;
    let (n, c_in) = (x.dims()[0], x.dims()[1]);
    let (w_in, c_per) = (w.dims()[0], w.dims()[1]);
    let kernel = &w.dims()[2..];
    let groups = options.groups;
    if groups == 0 || c_in % groups != 0 || w_in != c_in {
        bail!(
            Shape,
            "{op}: weight {} must have the input's {c_in} channels first, divisible by groups = \
             {groups} (input {})",
            w.shape(),
            input.shape()
        );
    }
    let c_out = c_per * groups;
    check_bias(op, bias, c_out, &x)?;
    let s = options.stride.per_dim(spatial, op, "stride")?;
    let p = options.padding.per_dim(spatial, op, "padding")?;
    let op_ = options
        .output_padding
        .per_dim(spatial, op, "output_padding")?;
    let d = options.dilation.per_dim(spatial, op, "dilation")?;
    if s.contains(&0) || d.contains(&0) {
        bail!(
            Invalid,
            "{op}: stride {s:?} and dilation {d:?} must be positive"
        );
    }
    let sizes = &x.dims()[2..];
    let mut size = vec![0usize; spatial];
    for k in 0..spatial {
        if op_[k] >= s[k] && op_[k] >= d[k] {
            bail!(
                Invalid,
                "{op}: output_padding {:?} must be smaller than either the stride {s:?} or the \
                 dilation {d:?}",
                op_
            );
        }
        let (n_in, kk) = (sizes[k], kernel[k]);
        let full = (n_in.max(1) - 1) * s[k] + d[k] * (kk.max(1) - 1) + op_[k] + 1;
        if n_in == 0 || full <= 2 * p[k] {
            bail!(
                Shape,
                "{op}: input {} with kernel {kernel:?}, stride {s:?}, padding {p:?} and \
                 dilation {d:?} gives an empty output",
                input.shape()
            );
        }
        size[k] = full - 2 * p[k];
    }
    // The window of the convolution this one is the adjoint of: it slides over this one's
    // output, and its positions are this one's input elements.
    let lift = |v: &[usize], fill: usize| -> [usize; 3] {
        let mut a = [fill; 3];
        a[3 - spatial..].copy_from_slice(v);
        a
    };
    let win = Window {
        channels: c_out,
        size: lift(&size, 1),
        kernel: lift(kernel, 1),
        stride: lift(&s, 1),
        dilation: lift(&d, 1),
        pad_before: lift(&p, 0),
        pad_after: lift(&p, 0),
        out: lift(sizes, 1),
        spatial,
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
        &[&x, w],
        || geometry.transpose_forward(&x, w),
        |_, needs| {
            let (sx, sw) = (Saved::new(op, &x), Saved::new(op, w));
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
    let out = add_bias(out, bias);
    Ok(if batched { out } else { out.squeeze_dim(0) })
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the convolutions and pools.

/// A batched view `[N, C, *spatial]` of an input with `spatial` spatial dimensions, batched
/// or unbatched `[C, *spatial]`, and whether it was batched.
pub(crate) fn batched(op: &str, input: &Tensor, spatial: usize) -> Result<(Tensor, bool)> {
    match input.rank() {
        r if r == spatial + 2 => Ok((input.clone(), true)),
        r if r == spatial + 1 => Ok((input.unsqueeze(0), false)),
        _ => bail!(
            Shape,
            "{op}: input {} must be {}",
            input.shape(),
            match spatial {
                1 => "3-D [N, C, L] or 2-D [C, L]",
                2 => "4-D [N, C, H, W] or 3-D [C, H, W]",
                _ => "5-D [N, C, D, H, W] or 4-D [C, D, H, W]",
            }
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

/// The window of a sliding operation over `channels` planes of `size` (1 to 3 spatial
/// dimensions; `kernel`, `stride`, `dilation` and `pads` give one entry per dimension), with
/// the output size PyTorch computes; errors name `op`, the input's shape and the parameters.
#[allow(clippy::too_many_arguments)]
pub(crate) fn window(
    op: &str,
    input: &Tensor,
    channels: usize,
    size: &[usize],
    kernel: &[usize],
    stride: &[usize],
    dilation: &[usize],
    pads: &[[usize; 2]],
) -> Result<Window> {
    let spatial = size.len();
    let shown = |v: &[usize]| {
        v.iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join("×")
    };
    let mut win = Window {
        channels,
        size: [1; 3],
        kernel: [1; 3],
        stride: [1; 3],
        dilation: [1; 3],
        pad_before: [0; 3],
        pad_after: [0; 3],
        out: [1; 3],
        spatial,
    };
    for d in 0..spatial {
        let n = size[d];
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
                "{op}: kernel {} (spanning {span} with dilation {dl}) is larger than the \
                 padded input ({n} + padding {} + {} = {padded}) of input {}",
                shown(kernel),
                pads[d][0],
                pads[d][1],
                input.shape()
            )));
        }
        let at = 3 - spatial + d;
        win.size[at] = n;
        win.kernel[at] = k;
        win.stride[at] = s;
        win.dilation[at] = dl;
        win.pad_before[at] = pads[d][0];
        win.pad_after[at] = pads[d][1];
        win.out[at] = (padded - span) / s + 1;
    }
    Ok(win)
}
