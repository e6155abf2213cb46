//! 배움 (baeum): a deep learning framework for learning and doing deep learning.
//!
//! The crate is layered as `../shared/DESIGN.md` describes; each module depends only on those
//! listed before it:
//! - [`tensor`]: the `Tensor` handle (shared storage + layout), dtypes, creation, views, display;
//! - [`kernels`]: the CPU compute behind every operation (the only place for `unsafe`);
//! - [`ops`]: the user-facing operations on tensors, one file per family;
//! - [`autograd`]: the recorded graph, `backward`, `no_grad`, gradient checking;
//! - [`io`]: reading and writing tensors (`.npy`);
//! - [`nn`]: modules, layers, losses ([`nn::functional`] holds the stateless ops);
//! - [`optim`]: optimizers, schedules, clipping;
//! - [`data`]: datasets, loaders, splits, transforms, CSV;
//! - [`metrics`]: classification and regression metrics;
//! - [`train`]: the training loop (`Trainer::fit`), callbacks, checkpoints.

extern crate self as baeum;

pub mod autograd;
pub mod data;
pub mod error;
pub mod io;
pub mod kernels;
pub mod metrics;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod tensor;
pub mod train;

pub use error::{Error, Result};
pub use tensor::random::{Generator, manual_seed};
pub use tensor::{DType, Element, Float, Shape, Tensor};

/// Everything a typical program needs: `use baeum::prelude::*;`.
pub mod prelude {
    pub use crate::autograd::{NoGradGuard, no_grad};
    pub use crate::tensor;
    pub use crate::tensor::random::{Generator, manual_seed};
    pub use crate::{DType, Error, Result, Tensor};
}

/// README.md's examples, compiled and run as doctests so the tour never goes stale.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
