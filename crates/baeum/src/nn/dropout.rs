//! Dropout layers: active in training mode, the identity in eval mode. They draw from the
//! global generator, which `Trainer` reseeds every epoch (so runs repeat and resume exactly).

use super::functional::{dropout, dropout2d};
use super::init::with_default_generator;
use super::module::{Forward, Module, TrainingFlag, Visitor};
use super::summary::record;
use crate::Tensor;
use crate::error::{Result, bail};

macro_rules! dropout_layer {
    ($(#[$doc:meta])* $name:ident, $f:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            pub p: f64,
            training: TrainingFlag,
        }
        impl $name {
            /// Drops with probability `p` (0.5 is PyTorch's default); `p` outside [0, 1] is an error.
            pub fn new(p: f64) -> Result<$name> {
                if !(0.0..=1.0).contains(&p) {
                    bail!(Invalid, "{}: p = {p} must be in [0, 1]", stringify!($name));
                }
                Ok($name { p, training: TrainingFlag::default() })
            }
        }
        impl Module for $name {
            fn visit(&self, _: &mut dyn Visitor) {}
            fn extra_repr(&self) -> String {
                format!("p={}", self.p)
            }
            fn set_training(&self, training: bool) {
                self.training.set(training)
            }
            fn is_training(&self) -> bool {
                self.training.get()
            }
        }
        impl Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                let training = self.training.get();
                let y = if training && self.p > 0.0 {
                    with_default_generator(|g| $f(x, self.p, true, g))?
                } else {
                    x.clone()
                };
                record(self, &y);
                Ok(y)
            }
        }
    };
}

dropout_layer!(
    /// Zeroes elements with probability p and scales the rest by 1/(1−p).
    Dropout, dropout
);
dropout_layer!(
    /// Zeroes whole channels of `[N, C, H, W]` with probability p.
    Dropout2d, dropout2d
);
