//! CPU kernels: the compute behind every operation. Ops validate shapes and dtypes and then
//! call in here; kernels trust their arguments. Contiguous inputs take fast paths, large ones
//! are split across threads with rayon, and matrix products go to the `gemm` crate.

pub mod cast;
pub mod conv;
pub mod gather;
pub mod iter;
pub mod linalg;
pub mod map;
pub mod matmul;
pub mod norm;
pub mod pool;
pub mod recurrent;
pub mod reduce;

/// Element counts at or above this are split across threads.
pub const PARALLEL_THRESHOLD: usize = 1 << 16;

/// Elements handled per parallel task.
pub const PARALLEL_CHUNK: usize = 1 << 14;
