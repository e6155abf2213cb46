//! Activation layers (COURSE §7), each a thin module over the element-wise tensor op.

use super::module::{Forward, Module, Visitor};
use super::summary::record;
use crate::Tensor;
use crate::error::Result;

macro_rules! activation {
    ($(#[$doc:meta])* $name:ident, |$x:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Default, Debug)]
        pub struct $name;
        impl Module for $name {
            fn visit(&self, _: &mut dyn Visitor) {}
        }
        impl Forward for $name {
            fn forward(&self, $x: &Tensor) -> Result<Tensor> {
                let y = $body;
                record(self, &y);
                Ok(y)
            }
        }
    };
}

activation!(/// max(0, x).
    ReLU, |x| x.relu());
activation!(/// 1 / (1 + e^−x).
    Sigmoid, |x| x.sigmoid());
activation!(/// tanh x.
    Tanh, |x| x.tanh());
activation!(/// Scaled ELU with PyTorch's constants.
    SELU, |x| x.selu());
activation!(/// x·Φ(x) (exact, erf form).
    GELU, |x| x.gelu());
activation!(/// x·σ(x), also called swish.
    SiLU, |x| x.silu());
activation!(/// x·tanh(softplus(x)).
    Mish, |x| x.mish());
activation!(/// x / (1 + |x|).
    Softsign, |x| x.softsign());
activation!(/// relu6(x + 3) / 6.
    Hardsigmoid, |x| x.hardsigmoid());
activation!(/// x·relu6(x + 3) / 6.
    Hardswish, |x| x.hardswish());
activation!(/// The sign function, −1, 0 or 1 (COURSE §7; its gradient is zero).
    Sign, |x| x.sign());

/// max(0, x) + slope·min(0, x); the course's Leaky ReLU uses slope 0.1, PyTorch's default is 0.01.
#[derive(Clone, Copy, Debug)]
pub struct LeakyReLU {
    pub negative_slope: f64,
}

impl Default for LeakyReLU {
    fn default() -> Self {
        LeakyReLU {
            negative_slope: 0.01,
        }
    }
}

impl LeakyReLU {
    pub fn new(negative_slope: f64) -> LeakyReLU {
        LeakyReLU { negative_slope }
    }
}

impl Module for LeakyReLU {
    fn visit(&self, _: &mut dyn Visitor) {}
    fn extra_repr(&self) -> String {
        format!("negative_slope={}", self.negative_slope)
    }
}

impl Forward for LeakyReLU {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = x.leaky_relu(self.negative_slope);
        record(self, &y);
        Ok(y)
    }
}

/// x for x > 0, α(eˣ − 1) otherwise.
#[derive(Clone, Copy, Debug)]
pub struct ELU {
    pub alpha: f64,
}

impl Default for ELU {
    fn default() -> Self {
        ELU { alpha: 1.0 }
    }
}

impl ELU {
    pub fn new(alpha: f64) -> ELU {
        ELU { alpha }
    }
}

impl Module for ELU {
    fn visit(&self, _: &mut dyn Visitor) {}
    fn extra_repr(&self) -> String {
        format!("alpha={}", self.alpha)
    }
}

impl Forward for ELU {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = x.elu(self.alpha);
        record(self, &y);
        Ok(y)
    }
}

/// log(1 + e^(βx)) / β, linear above `threshold`.
#[derive(Clone, Copy, Debug)]
pub struct Softplus {
    pub beta: f64,
    pub threshold: f64,
}

impl Default for Softplus {
    fn default() -> Self {
        Softplus {
            beta: 1.0,
            threshold: 20.0,
        }
    }
}

impl Module for Softplus {
    fn visit(&self, _: &mut dyn Visitor) {}
    fn extra_repr(&self) -> String {
        format!("beta={}, threshold={}", self.beta, self.threshold)
    }
}

impl Forward for Softplus {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = x.softplus(self.beta, self.threshold);
        record(self, &y);
        Ok(y)
    }
}

/// softmax along `dim` (PyTorch requires the dim; −1 is the usual choice).
#[derive(Clone, Copy, Debug)]
pub struct Softmax {
    pub dim: isize,
}

impl Softmax {
    pub fn new(dim: isize) -> Softmax {
        Softmax { dim }
    }
}

impl Module for Softmax {
    fn visit(&self, _: &mut dyn Visitor) {}
    fn extra_repr(&self) -> String {
        format!("dim={}", self.dim)
    }
}

impl Forward for Softmax {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        crate::tensor::resolve_dim(self.dim, x.rank().max(1))?;
        let y = x.softmax(self.dim);
        record(self, &y);
        Ok(y)
    }
}

/// log softmax along `dim`.
#[derive(Clone, Copy, Debug)]
pub struct LogSoftmax {
    pub dim: isize,
}

impl LogSoftmax {
    pub fn new(dim: isize) -> LogSoftmax {
        LogSoftmax { dim }
    }
}

impl Module for LogSoftmax {
    fn visit(&self, _: &mut dyn Visitor) {}
    fn extra_repr(&self) -> String {
        format!("dim={}", self.dim)
    }
}

impl Forward for LogSoftmax {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        crate::tensor::resolve_dim(self.dim, x.rank().max(1))?;
        let y = x.log_softmax(self.dim);
        record(self, &y);
        Ok(y)
    }
}
