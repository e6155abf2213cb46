//! `Linear` (a fully connected layer, Keras' `Dense`), `Identity` and `Flatten`.

use super::init::{default_layer_init, with_default_generator};
use super::module::{Forward, Module, Visitor, visit_weight_bias};
use super::summary::record;
use crate::error::{Result, bail};
use crate::{DType, Generator, Tensor};

/// y = x·Wᵀ + b over the last dim. `weight` is `[out_features, in_features]` and the bias
/// `[out_features]`, as in PyTorch, initialised U(−1/√in, 1/√in).
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub in_features: usize,
    pub out_features: usize,
}

impl Linear {
    /// A layer with a bias, initialised from the global generator (`baeum::manual_seed`).
    pub fn new(in_features: usize, out_features: usize) -> Linear {
        with_default_generator(|g| {
            Linear::with_options(in_features, out_features, true, DType::F32, g)
        })
    }

    /// A layer without a bias.
    pub fn no_bias(in_features: usize, out_features: usize) -> Linear {
        with_default_generator(|g| {
            Linear::with_options(in_features, out_features, false, DType::F32, g)
        })
    }

    /// Every choice spelled out: bias or not, dtype and the generator to initialise from.
    pub fn with_options(
        in_features: usize,
        out_features: usize,
        bias: bool,
        dtype: DType,
        g: &mut Generator,
    ) -> Linear {
        let weight = Tensor::zeros_dtype([out_features, in_features], dtype);
        let bias = bias.then(|| Tensor::zeros_dtype([out_features], dtype));
        default_layer_init(&weight, bias.as_ref(), g);
        Linear {
            weight: weight.requires_grad_(true),
            bias: bias.map(|b| b.requires_grad_(true)),
            in_features,
            out_features,
        }
    }

    /// A layer holding the given weight `[out, in]` and optional bias `[out]`.
    pub fn from_weights(weight: Tensor, bias: Option<Tensor>) -> Result<Linear> {
        let &[out_features, in_features] = weight.dims() else {
            bail!(
                Shape,
                "Linear: weight must be [out_features, in_features], got {:?}",
                weight.dims()
            );
        };
        if let Some(b) = &bias
            && b.dims() != [out_features]
        {
            bail!(
                Shape,
                "Linear: bias {:?} does not match weight {:?}",
                b.dims(),
                weight.dims()
            );
        }
        Ok(Linear {
            weight,
            bias,
            in_features,
            out_features,
        })
    }
}

impl Module for Linear {
    fn visit(&self, v: &mut dyn Visitor) {
        visit_weight_bias(v, Some(&self.weight), self.bias.as_ref());
    }
    fn extra_repr(&self) -> String {
        format!(
            "in_features={}, out_features={}, bias={}",
            self.in_features,
            self.out_features,
            self.bias.is_some()
        )
    }
}

impl Forward for Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.rank() == 0 || x.dims()[x.rank() - 1] != self.in_features {
            bail!(
                Shape,
                "Linear(in_features={}, out_features={}): input {:?} must end in {} features",
                self.in_features,
                self.out_features,
                x.dims(),
                self.in_features
            );
        }
        let x = if x.dtype() == self.weight.dtype() {
            x.clone()
        } else {
            x.to_dtype(self.weight.dtype())
        };
        let y = x.try_matmul(&self.weight.t())?;
        let y = match &self.bias {
            Some(b) => y + b,
            None => y,
        };
        record(self, &y);
        Ok(y)
    }
}

/// Passes its input through (a placeholder, e.g. when replacing a classifier head).
#[derive(Default, Clone, Copy)]
pub struct Identity;

impl Module for Identity {
    fn visit(&self, _: &mut dyn Visitor) {}
}

impl Forward for Identity {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.clone())
    }
}

/// Flattens dims `start_dim..=end_dim` into one (default 1..=-1: keeps the batch dim).
#[derive(Clone, Copy)]
pub struct Flatten {
    pub start_dim: isize,
    pub end_dim: isize,
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten {
            start_dim: 1,
            end_dim: -1,
        }
    }
}

impl Flatten {
    pub fn new() -> Flatten {
        Flatten::default()
    }
    pub fn dims(start_dim: isize, end_dim: isize) -> Flatten {
        Flatten { start_dim, end_dim }
    }
}

impl Module for Flatten {
    fn visit(&self, _: &mut dyn Visitor) {}
    fn extra_repr(&self) -> String {
        format!("start_dim={}, end_dim={}", self.start_dim, self.end_dim)
    }
}

impl Forward for Flatten {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let r = x.rank().max(1) as isize;
        let norm = |d: isize| if d < 0 { d + r } else { d };
        let (s, e) = (norm(self.start_dim), norm(self.end_dim));
        if s < 0 || e >= r || s > e {
            bail!(
                Shape,
                "Flatten(start_dim={}, end_dim={}): invalid for input {:?}",
                self.start_dim,
                self.end_dim,
                x.dims()
            );
        }
        let y = x.flatten(s, e);
        record(self, &y);
        Ok(y)
    }
}
