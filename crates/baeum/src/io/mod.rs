//! Reading and writing tensors: NumPy's `.npy` format, state dicts and safetensors checkpoints.

mod atomic;
pub mod npy;
pub mod safetensors;
mod state_dict;

pub(crate) use atomic::write_atomic;

pub use npy::{from_npy_bytes, read_npy, to_npy_bytes, write_npy};
pub use safetensors::{
    Metadata, from_safetensors_bytes, load_safetensors, save_safetensors, to_safetensors_bytes,
};
pub use state_dict::StateDict;
