//! Stateless neural-network operations (PyTorch's `torch.nn.functional`): convolution,
//! pooling, normalisation, dropout, embedding, activations, losses and recurrent steps.
//! Layers in [`crate::nn`] hold parameters and call these.

pub mod activation;
pub mod conv;
pub mod dropout;
pub mod embedding;
pub mod loss;
pub mod norm;
pub mod pool;
pub mod rnn;

pub use activation::*;
pub use conv::*;
pub use dropout::*;
pub use embedding::*;
pub use loss::*;
pub use norm::*;
pub use pool::*;
pub use rnn::*;
