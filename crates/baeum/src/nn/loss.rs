//! Loss modules (PyTorch's `nn.CrossEntropyLoss()` and friends): each holds its options and
//! computes `loss(input, target)` through [`crate::nn::functional`]. Anything implementing
//! [`Loss`], closures included, can drive [`crate::train::Trainer`].

use super::functional::{
    CrossEntropyOptions, Reduction, binary_cross_entropy, binary_cross_entropy_with_logits,
    cross_entropy, huber_loss, kl_div, l1_loss, mse_loss, nll_loss, smooth_l1_loss,
};
use crate::Tensor;
use crate::error::Result;

/// A loss: `(model output, target) → tensor` (a scalar unless the reduction is `None`).
pub trait Loss {
    fn loss(&self, input: &Tensor, target: &Tensor) -> Result<Tensor>;
}

impl<F: Fn(&Tensor, &Tensor) -> Result<Tensor>> Loss for F {
    fn loss(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        self(input, target)
    }
}

macro_rules! simple_loss {
    ($(#[$doc:meta])* $name:ident, |$i:ident, $t:ident, $r:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name {
            pub reduction: Reduction,
        }
        impl $name {
            pub fn new(reduction: Reduction) -> $name {
                $name { reduction }
            }
        }
        impl Loss for $name {
            fn loss(&self, $i: &Tensor, $t: &Tensor) -> Result<Tensor> {
                let $r = self.reduction;
                $body
            }
        }
    };
}

simple_loss!(/// Mean squared error (COURSE §2's cost).
    MSELoss, |i, t, r| mse_loss(i, t, r));
simple_loss!(/// Mean absolute error.
    L1Loss, |i, t, r| l1_loss(i, t, r));
simple_loss!(/// Binary cross-entropy on probabilities (after a sigmoid).
    BCELoss, |i, t, r| binary_cross_entropy(i, t, None, r));
simple_loss!(/// KL divergence with log-probability inputs.
    KLDivLoss, |i, t, r| kl_div(i, t, r, false));

/// Smooth L1: quadratic below `beta`, linear above.
#[derive(Clone, Copy, Debug)]
pub struct SmoothL1Loss {
    pub reduction: Reduction,
    pub beta: f64,
}

impl Default for SmoothL1Loss {
    fn default() -> Self {
        SmoothL1Loss {
            reduction: Reduction::Mean,
            beta: 1.0,
        }
    }
}

impl Loss for SmoothL1Loss {
    fn loss(&self, i: &Tensor, t: &Tensor) -> Result<Tensor> {
        smooth_l1_loss(i, t, self.reduction, self.beta)
    }
}

/// Huber loss: quadratic below `delta`, linear above.
#[derive(Clone, Copy, Debug)]
pub struct HuberLoss {
    pub reduction: Reduction,
    pub delta: f64,
}

impl Default for HuberLoss {
    fn default() -> Self {
        HuberLoss {
            reduction: Reduction::Mean,
            delta: 1.0,
        }
    }
}

impl Loss for HuberLoss {
    fn loss(&self, i: &Tensor, t: &Tensor) -> Result<Tensor> {
        huber_loss(i, t, self.reduction, self.delta)
    }
}

/// Sigmoid + binary cross-entropy in one stable step, with optional `pos_weight`.
#[derive(Clone, Debug, Default)]
pub struct BCEWithLogitsLoss {
    pub reduction: Reduction,
    pub weight: Option<Tensor>,
    pub pos_weight: Option<Tensor>,
}

impl Loss for BCEWithLogitsLoss {
    fn loss(&self, i: &Tensor, t: &Tensor) -> Result<Tensor> {
        binary_cross_entropy_with_logits(
            i,
            t,
            self.weight.as_ref(),
            self.pos_weight.as_ref(),
            self.reduction,
        )
    }
}

/// Softmax + cross-entropy from logits (COURSE §6), with class weights, ignore_index and
/// label smoothing; targets are class indices or probabilities.
#[derive(Clone, Debug, Default)]
pub struct CrossEntropyLoss {
    pub options: CrossEntropyOptions,
}

impl CrossEntropyLoss {
    pub fn new(options: CrossEntropyOptions) -> CrossEntropyLoss {
        CrossEntropyLoss { options }
    }
}

impl Loss for CrossEntropyLoss {
    fn loss(&self, i: &Tensor, t: &Tensor) -> Result<Tensor> {
        cross_entropy(i, t, &self.options)
    }
}

/// Negative log-likelihood of log-probabilities (after `LogSoftmax`).
#[derive(Clone, Debug, Default)]
pub struct NLLLoss {
    pub options: CrossEntropyOptions,
}

impl Loss for NLLLoss {
    fn loss(&self, i: &Tensor, t: &Tensor) -> Result<Tensor> {
        nll_loss(i, t, &self.options)
    }
}
