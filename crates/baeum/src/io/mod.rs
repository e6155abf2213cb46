//! Reading and writing tensors: NumPy's `.npy` format.

mod atomic;
pub mod npy;

pub(crate) use atomic::write_atomic;

pub use npy::{from_npy_bytes, read_npy, to_npy_bytes, write_npy};
