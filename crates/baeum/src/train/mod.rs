//! Training (Keras' `fit`): the [`Trainer`] loop with metrics, callbacks (early stopping, LR
//! schedules), a progress display, a NaN guard, and checkpoints that a run resumes from.

pub mod callbacks;
pub mod checkpoint;
pub mod history;
mod progress;
pub mod trainer;

pub use callbacks::{Callback, CallbackContext, Control, EarlyStopping, Mode};
pub use checkpoint::{Checkpoint, load_checkpoint, save_checkpoint};
pub use history::{History, Logs};
pub use trainer::{Trainer, TrainerConfig, predict};
