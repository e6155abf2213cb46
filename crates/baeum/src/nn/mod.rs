//! Neural networks: the `Module` trait (with `#[derive(Module)]`), layers, losses and
//! initialisers, with PyTorch's names and parameter layouts so that state dicts interchange.
//!
//! ```
//! use baeum::nn::{self, Forward, Linear, ModuleExt, ReLU, Sequential};
//! baeum::manual_seed(0);
//! let model = Sequential::new().add(Linear::new(2, 8)).add(ReLU).add(Linear::new(8, 1));
//! let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
//! assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
//! let y = model.forward(&baeum::Tensor::zeros([4, 2])).unwrap();
//! assert_eq!(y.dims(), &[4, 1]);
//! ```

pub mod activation;
pub mod container;
pub mod conv;
pub mod dropout;
pub mod embedding;
pub mod functional;
pub mod init;
pub mod linear;
pub mod loss;
pub mod module;
pub mod norm;
pub mod pool;
pub mod rnn;
pub mod summary;

pub use activation::*;
pub use baeum_derive::Module;
pub use container::Sequential;
pub use conv::{Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d};
pub use dropout::{Dropout, Dropout2d};
pub use embedding::Embedding;
pub use functional::Padding;
pub use linear::{Flatten, Identity, Linear};
pub use loss::{
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, Loss, MSELoss,
    NLLLoss, SmoothL1Loss,
};
pub use module::{
    ChildField, Entry, Forward, Layer, LoadReport, Module, ModuleExt, ParamField, TrainingFlag,
    Visitor, walk,
};
pub use norm::{BatchNorm, BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, LocalResponseNorm};
pub use pool::{
    AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool2d, AdaptiveMaxPool3d, AvgPool1d,
    AvgPool2d, AvgPool3d, GlobalAvgPool, GlobalMaxPool, MaxPool1d, MaxPool2d, MaxPool3d,
};
pub use rnn::{Cell, GRU, LSTM, RNN, RnnConfig};
pub use summary::{Summary, SummaryRow, summary, summary_with_input};
