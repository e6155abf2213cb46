//! Optimizers, learning-rate schedules, gradient clipping and weight penalties.
//!
//! Every optimizer follows PyTorch's update rule and defaults exactly (checked against PyTorch
//! trajectories in float64): [`Sgd`] (momentum, dampening, Nesterov), [`Adagrad`],
//! [`Rmsprop`], [`Adadelta`], [`Adam`], [`AdamW`], [`NAdam`]. They share the [`Optimizer`]
//! trait, [`ParamGroup`]s for per-group settings, and [`StateDict`]s for checkpoints.
//! Schedules ([`StepLr`], [`MultiStepLr`], [`ExponentialLr`], [`CosineAnnealingLr`],
//! [`LinearLr`] for warm-up, [`SequentialLr`] to chain them, [`ReduceLrOnPlateau`]) share
//! the [`LrScheduler`] trait.
//!
//! ```
//! use baeum::optim::{Adam, Optimizer};
//! use baeum::{Tensor, tensor};
//! let w = Tensor::param(&tensor!([1.0, -1.0]));
//! let mut opt = Adam::new(vec![w.clone()], 0.1).betas(0.9, 0.99).weight_decay(1e-4);
//! for _ in 0..3 {
//!     opt.zero_grad();
//!     let loss = (&w * &w).sum();
//!     loss.backward();
//!     opt.step().unwrap();
//! }
//! assert!(w.to_vec::<f32>()[0] < 1.0);
//! ```

pub mod adadelta;
pub mod adagrad;
pub mod adam;
pub mod clip;
pub mod nadam;
pub mod optimizer;
pub mod penalty;
pub mod rmsprop;
pub mod scheduler;
pub mod sgd;

pub use crate::io::StateDict;
pub use adadelta::{Adadelta, AdadeltaOptions};
pub use adagrad::{Adagrad, AdagradOptions};
pub use adam::{Adam, AdamOptions, AdamW, AdamWOptions};
pub use clip::{clip_grad_norm_, clip_grad_norm_with, clip_grad_value_};
pub use nadam::{NAdam, NAdamOptions};
pub use optimizer::{GenericOptimizer, HyperValue, Optimizer, Options, ParamGroup};
pub use penalty::{l1_penalty, l2_penalty};
pub use rmsprop::{Rmsprop, RmspropOptions};
pub use scheduler::{
    CosineAnnealingLr, ExponentialLr, LinearLr, LrScheduler, MultiStepLr, PlateauMode,
    ReduceLrOnPlateau, SequentialLr, StepLr, ThresholdMode,
};
pub use sgd::{Sgd, SgdOptions};
