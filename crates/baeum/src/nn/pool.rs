//! Pooling layers in one, two and three dimensions: max and average pooling (any kernel,
//! stride, padding, ceil mode; overlapping windows as in AlexNet), adaptive and global
//! pooling. They hold no parameters.

use super::functional::{
    AvgPoolOptions, MaxPoolOptions, Sizes, adaptive_avg_pool1d, adaptive_avg_pool2d,
    adaptive_avg_pool3d, adaptive_max_pool2d, adaptive_max_pool3d, avg_pool1d, avg_pool2d,
    avg_pool3d, max_pool1d, max_pool2d, max_pool3d,
};
use super::module::{Forward, Module, Visitor};
use super::summary::record;
use crate::Tensor;
use crate::error::Result;

macro_rules! max_pool {
    ($(#[$doc:meta])* $name:ident, $f:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name {
            pub options: MaxPoolOptions,
        }
        impl $name {
            /// Stride defaults to the kernel size, as in PyTorch.
            pub fn new(kernel_size: impl Into<Sizes>) -> $name {
                $name { options: MaxPoolOptions::new(kernel_size) }
            }
            pub fn stride(mut self, s: impl Into<Sizes>) -> Self {
                self.options = self.options.stride(s);
                self
            }
            pub fn padding(mut self, p: impl Into<Sizes>) -> Self {
                self.options = self.options.padding(p);
                self
            }
            pub fn dilation(mut self, d: impl Into<Sizes>) -> Self {
                self.options = self.options.dilation(d);
                self
            }
            pub fn ceil_mode(mut self, on: bool) -> Self {
                self.options = self.options.ceil_mode(on);
                self
            }
        }
        impl Module for $name {
            fn visit(&self, _: &mut dyn Visitor) {}
            fn extra_repr(&self) -> String {
                let o = &self.options;
                format!(
                    "kernel_size={:?}, stride={:?}, padding={:?}, ceil_mode={}",
                    o.kernel_size.0,
                    o.stride.as_ref().unwrap_or(&o.kernel_size).0,
                    o.padding.0,
                    o.ceil_mode
                )
            }
        }
        impl Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                let y = $f(x, &self.options)?;
                record(self, &y);
                Ok(y)
            }
        }
    };
}

max_pool!(/// Max pooling over `[N, C, L]`.
    MaxPool1d, max_pool1d);
max_pool!(/// Max pooling over `[N, C, H, W]`.
    MaxPool2d, max_pool2d);
max_pool!(/// Max pooling over `[N, C, D, H, W]`.
    MaxPool3d, max_pool3d);

macro_rules! avg_pool {
    ($(#[$doc:meta])* $name:ident, $f:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name {
            pub options: AvgPoolOptions,
        }
        impl $name {
            pub fn new(kernel_size: impl Into<Sizes>) -> $name {
                $name { options: AvgPoolOptions::new(kernel_size) }
            }
            pub fn stride(mut self, s: impl Into<Sizes>) -> Self {
                self.options = self.options.stride(s);
                self
            }
            pub fn padding(mut self, p: impl Into<Sizes>) -> Self {
                self.options = self.options.padding(p);
                self
            }
            pub fn ceil_mode(mut self, on: bool) -> Self {
                self.options = self.options.ceil_mode(on);
                self
            }
            pub fn count_include_pad(mut self, on: bool) -> Self {
                self.options = self.options.count_include_pad(on);
                self
            }
            /// Divides every window by this instead of its size.
            pub fn divisor_override(mut self, divisor: Option<usize>) -> Self {
                self.options = self.options.divisor_override(divisor);
                self
            }
        }
        impl Module for $name {
            fn visit(&self, _: &mut dyn Visitor) {}
            fn extra_repr(&self) -> String {
                format!("kernel_size={:?}", self.options.kernel_size.0)
            }
        }
        impl Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                let y = $f(x, &self.options)?;
                record(self, &y);
                Ok(y)
            }
        }
    };
}

avg_pool!(/// Average pooling over `[N, C, L]`.
    AvgPool1d, avg_pool1d);
avg_pool!(/// Average pooling over `[N, C, H, W]`.
    AvgPool2d, avg_pool2d);
avg_pool!(/// Average pooling over `[N, C, D, H, W]`.
    AvgPool3d, avg_pool3d);

macro_rules! adaptive_pool {
    ($(#[$doc:meta])* $name:ident, $f:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name {
            pub output_size: Sizes,
        }
        impl $name {
            pub fn new(output_size: impl Into<Sizes>) -> $name {
                $name { output_size: output_size.into() }
            }
        }
        impl Module for $name {
            fn visit(&self, _: &mut dyn Visitor) {}
            fn extra_repr(&self) -> String {
                format!("output_size={:?}", self.output_size.0)
            }
        }
        impl Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                let y = $f(x, self.output_size.clone())?;
                record(self, &y);
                Ok(y)
            }
        }
    };
}

adaptive_pool!(
    /// Average pooling to a fixed output size (`AdaptiveAvgPool2d((1, 1))` is global average
    /// pooling, as ResNet ends).
    AdaptiveAvgPool2d, adaptive_avg_pool2d
);
adaptive_pool!(
    /// Average pooling of `[N, C, D, H, W]` to a fixed output size (`[D, H, W]` or one value).
    AdaptiveAvgPool3d, adaptive_avg_pool3d
);
adaptive_pool!(
    /// Max pooling to a fixed output size.
    AdaptiveMaxPool2d, adaptive_max_pool2d
);
adaptive_pool!(
    /// Max pooling of `[N, C, D, H, W]` to a fixed output size (`[D, H, W]` or one value).
    AdaptiveMaxPool3d, adaptive_max_pool3d
);

/// Average over every spatial position, `[N, C, *] → [N, C]` (Keras' `GlobalAveragePooling`).
#[derive(Clone, Copy, Debug, Default)]
pub struct GlobalAvgPool;

impl Module for GlobalAvgPool {
    fn visit(&self, _: &mut dyn Visitor) {}
}

impl Forward for GlobalAvgPool {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = match x.rank() {
            3 => adaptive_avg_pool1d(x, 1)?.flatten(1, -1),
            4 => adaptive_avg_pool2d(x, 1)?.flatten(1, -1),
            5 => adaptive_avg_pool3d(x, 1)?.flatten(1, -1),
            _ => crate::error::bail!(
                Shape,
                "GlobalAvgPool: input {:?} must be [N, C, L], [N, C, H, W] or [N, C, D, H, W]",
                x.dims()
            ),
        };
        record(self, &y);
        Ok(y)
    }
}

/// Max over every position of dim 2 onwards, `[N, C, *] → [N, C]` (max-over-time pooling in
/// Kim's sentence CNN).
#[derive(Clone, Copy, Debug, Default)]
pub struct GlobalMaxPool;

impl Module for GlobalMaxPool {
    fn visit(&self, _: &mut dyn Visitor) {}
}

impl Forward for GlobalMaxPool {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.rank() < 3 {
            crate::error::bail!(
                Shape,
                "GlobalMaxPool: input {:?} must be [N, C, *]",
                x.dims()
            );
        }
        let y = x.flatten(2, -1).amax(&[2], false);
        record(self, &y);
        Ok(y)
    }
}
