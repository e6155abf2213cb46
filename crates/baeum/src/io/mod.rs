//! Reading and writing tensors: NumPy's `.npy` format.

pub mod npy;

pub use npy::{from_npy_bytes, read_npy, to_npy_bytes, write_npy};
