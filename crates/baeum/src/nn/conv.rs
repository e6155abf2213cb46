//! Convolution layers: `Conv1d`, `Conv2d`, `Conv3d` and `ConvTranspose1d/2d/3d`, with
//! PyTorch's weight layouts and default initialisation.

use super::functional::{
    ConvOptions, ConvTransposeOptions, Padding, Sizes, conv_transpose1d, conv_transpose2d,
    conv_transpose3d, conv1d, conv2d, conv3d,
};
use super::init::{default_layer_init, with_default_generator};
use super::module::{Forward, Module, Visitor, visit_weight_bias};
use super::summary::record;
use crate::error::{Result, bail};
use crate::{DType, Generator, Tensor};

fn per_dim(s: &Sizes, n: usize) -> Vec<usize> {
    if s.0.len() == 1 {
        vec![s.0[0]; n]
    } else {
        s.0.clone()
    }
}

fn check_groups(op: &str, c_in: usize, c_out: usize, groups: usize) -> Result<()> {
    if groups == 0 || !c_in.is_multiple_of(groups) || !c_out.is_multiple_of(groups) {
        bail!(
            Invalid,
            "{op}: in_channels {c_in} and out_channels {c_out} must both be divisible by groups {groups}"
        );
    }
    Ok(())
}

macro_rules! conv_layer {
    ($(#[$doc:meta])* $name:ident, $dims:expr, $f:ident, $op:expr) => {
        $(#[$doc])*
        pub struct $name {
            pub weight: Tensor,
            pub bias: Option<Tensor>,
            pub in_channels: usize,
            pub out_channels: usize,
            pub kernel_size: Vec<usize>,
            pub options: ConvOptions,
        }

        impl $name {
            /// A layer with a bias, stride 1, no padding; initialised from the global generator.
            pub fn new(in_channels: usize, out_channels: usize, kernel_size: impl Into<Sizes>) -> $name {
                with_default_generator(|g| {
                    $name::with_options(in_channels, out_channels, kernel_size, ConvOptions::default(), true, DType::F32, g)
                })
                .expect("a convolution with groups = 1 is always valid")
            }

            /// Every choice spelled out (groups change the weight's shape, so they are set here).
            pub fn with_options(
                in_channels: usize,
                out_channels: usize,
                kernel_size: impl Into<Sizes>,
                options: ConvOptions,
                bias: bool,
                dtype: DType,
                g: &mut Generator,
            ) -> Result<$name> {
                check_groups($op, in_channels, out_channels, options.groups)?;
                let k = per_dim(&kernel_size.into(), $dims);
                let mut shape = vec![out_channels, in_channels / options.groups];
                shape.extend(&k);
                let weight = Tensor::zeros_dtype(shape, dtype);
                let b = bias.then(|| Tensor::zeros_dtype([out_channels], dtype));
                default_layer_init(&weight, b.as_ref(), g);
                Ok($name {
                    weight: weight.requires_grad_(true),
                    bias: b.map(|b| b.requires_grad_(true)),
                    in_channels,
                    out_channels,
                    kernel_size: k,
                    options,
                })
            }

            pub fn stride(mut self, stride: impl Into<Sizes>) -> Self {
                self.options.stride = stride.into();
                self
            }
            /// Explicit padding, or `Padding::Same` / `Padding::Valid`.
            pub fn padding(mut self, padding: impl Into<Padding>) -> Self {
                self.options.padding = padding.into();
                self
            }
            pub fn dilation(mut self, dilation: impl Into<Sizes>) -> Self {
                self.options.dilation = dilation.into();
                self
            }
            /// Drops the bias (before batch norm, as ResNet does).
            pub fn no_bias(mut self) -> Self {
                self.bias = None;
                self
            }
        }

        impl Module for $name {
            fn visit(&self, v: &mut dyn Visitor) {
                visit_weight_bias(v, Some(&self.weight), self.bias.as_ref());
            }
            fn extra_repr(&self) -> String {
                let o = &self.options;
                let mut s = format!(
                    "{}, {}, kernel_size={:?}, stride={:?}",
                    self.in_channels, self.out_channels, self.kernel_size, o.stride.0
                );
                match &o.padding {
                    Padding::Explicit(p) if p.0.iter().any(|&x| x != 0) => s += &format!(", padding={:?}", p.0),
                    Padding::Same => s += ", padding=same",
                    _ => {}
                }
                if o.dilation.0.iter().any(|&d| d != 1) {
                    s += &format!(", dilation={:?}", o.dilation.0);
                }
                if o.groups != 1 {
                    s += &format!(", groups={}", o.groups);
                }
                if self.bias.is_none() {
                    s += ", bias=false";
                }
                s
            }
        }

        impl Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                let x = if x.dtype() == self.weight.dtype() { x.clone() } else { x.to_dtype(self.weight.dtype()) };
                let y = $f(&x, &self.weight, self.bias.as_ref(), &self.options)?;
                record(self, &y);
                Ok(y)
            }
        }
    };
}

conv_layer!(
    /// 1-D convolution over `[N, C, L]` (Kim's sentence CNN convolves over word positions).
    Conv1d, 1, conv1d, "Conv1d"
);
conv_layer!(
    /// 2-D convolution over `[N, C, H, W]`; weight `[out, in/groups, kH, kW]`.
    Conv2d, 2, conv2d, "Conv2d"
);

conv_layer!(
    /// 3-D convolution over `[N, C, D, H, W]` (video clips, volumes); weight
    /// `[out, in/groups, kD, kH, kW]`.
    Conv3d, 3, conv3d, "Conv3d"
);

macro_rules! conv_transpose_layer {
    ($(#[$doc:meta])* $name:ident, $dims:expr, $f:ident, $op:expr) => {
        $(#[$doc])*
        pub struct $name {
            pub weight: Tensor,
            pub bias: Option<Tensor>,
            pub in_channels: usize,
            pub out_channels: usize,
            pub kernel_size: Vec<usize>,
            pub options: ConvTransposeOptions,
        }

        impl $name {
            /// A layer with a bias, stride 1, no padding; initialised from the global generator.
            pub fn new(in_channels: usize, out_channels: usize, kernel_size: impl Into<Sizes>) -> $name {
                with_default_generator(|g| {
                    $name::with_options(
                        in_channels,
                        out_channels,
                        kernel_size,
                        ConvTransposeOptions::default(),
                        true,
                        DType::F32,
                        g,
                    )
                })
                .expect("a transposed convolution with groups = 1 is always valid")
            }

            /// Every choice spelled out (groups change the weight's shape, so they are set here).
            pub fn with_options(
                in_channels: usize,
                out_channels: usize,
                kernel_size: impl Into<Sizes>,
                options: ConvTransposeOptions,
                bias: bool,
                dtype: DType,
                g: &mut Generator,
            ) -> Result<$name> {
                check_groups($op, in_channels, out_channels, options.groups)?;
                let k = per_dim(&kernel_size.into(), $dims);
                // PyTorch's layout: input channels first; its fan-in (dim 1 × kernel) sets
                // the init bound.
                let mut shape = vec![in_channels, out_channels / options.groups];
                shape.extend(&k);
                let weight = Tensor::zeros_dtype(shape, dtype);
                let b = bias.then(|| Tensor::zeros_dtype([out_channels], dtype));
                default_layer_init(&weight, b.as_ref(), g);
                Ok($name {
                    weight: weight.requires_grad_(true),
                    bias: b.map(|b| b.requires_grad_(true)),
                    in_channels,
                    out_channels,
                    kernel_size: k,
                    options,
                })
            }

            pub fn stride(mut self, stride: impl Into<Sizes>) -> Self {
                self.options.stride = stride.into();
                self
            }
            pub fn padding(mut self, padding: impl Into<Sizes>) -> Self {
                self.options.padding = padding.into();
                self
            }
            pub fn output_padding(mut self, p: impl Into<Sizes>) -> Self {
                self.options.output_padding = p.into();
                self
            }
            pub fn dilation(mut self, dilation: impl Into<Sizes>) -> Self {
                self.options.dilation = dilation.into();
                self
            }
            /// Drops the bias.
            pub fn no_bias(mut self) -> Self {
                self.bias = None;
                self
            }
        }

        impl Module for $name {
            fn visit(&self, v: &mut dyn Visitor) {
                visit_weight_bias(v, Some(&self.weight), self.bias.as_ref());
            }
            fn extra_repr(&self) -> String {
                let o = &self.options;
                let mut s = format!(
                    "{}, {}, kernel_size={:?}, stride={:?}",
                    self.in_channels, self.out_channels, self.kernel_size, o.stride.0
                );
                if o.padding.0.iter().any(|&x| x != 0) {
                    s += &format!(", padding={:?}", o.padding.0);
                }
                if o.output_padding.0.iter().any(|&x| x != 0) {
                    s += &format!(", output_padding={:?}", o.output_padding.0);
                }
                if o.dilation.0.iter().any(|&d| d != 1) {
                    s += &format!(", dilation={:?}", o.dilation.0);
                }
                if o.groups != 1 {
                    s += &format!(", groups={}", o.groups);
                }
                if self.bias.is_none() {
                    s += ", bias=false";
                }
                s
            }
        }

        impl Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                let x = if x.dtype() == self.weight.dtype() { x.clone() } else { x.to_dtype(self.weight.dtype()) };
                let y = $f(&x, &self.weight, self.bias.as_ref(), &self.options)?;
                record(self, &y);
                Ok(y)
            }
        }
    };
}

conv_transpose_layer!(
    /// Transposed 1-D convolution (learned upsampling of sequences); weight
    /// `[in, out/groups, k]`.
    ConvTranspose1d, 1, conv_transpose1d, "ConvTranspose1d"
);
conv_transpose_layer!(
    /// Transposed 2-D convolution (learned upsampling); weight `[in, out/groups, kH, kW]`.
    ConvTranspose2d, 2, conv_transpose2d, "ConvTranspose2d"
);
conv_transpose_layer!(
    /// Transposed 3-D convolution (learned upsampling of volumes); weight
    /// `[in, out/groups, kD, kH, kW]`.
    ConvTranspose3d, 3, conv_transpose3d, "ConvTranspose3d"
);
