//! The list of operations that record a node. An operation that records a node must be listed
//! here (a debug assertion in `record_op` enforces it), and the gradcheck suite
//! (`tests/gradcheck/main.rs`) fails unless every listed operation was gradchecked: so a new
//! differentiable operation cannot land without a gradient check.
//!
//! One list per file of `ops`, so the list reads like the operation families.

/// `ops/binary.rs`.
pub const BINARY_OPS: &[&str] = &[
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "maximum",
    "minimum",
    "remainder",
];

/// `ops/unary.rs` and `ops/compare.rs`.
pub const UNARY_OPS: &[&str] = &[
    "exp",
    "log",
    "log1p",
    "expm1",
    "sqrt",
    "rsqrt",
    "reciprocal",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "selu",
    "silu",
    "gelu",
    "gelu_tanh",
    "softsign",
    "mish",
    "hardsigmoid",
    "hardswish",
    "erf",
    "neg",
    "abs",
    "square",
    "sign",
    "floor",
    "ceil",
    "round",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "powf",
    "clamp",
    "where",
];

/// `ops/reduce.rs`.
pub const REDUCE_OPS: &[&str] = &[
    "sum_dims",
    "prod_dims",
    "max",
    "min",
    "amax",
    "amin",
    "max_dim",
    "min_dim",
    "var_dims",
    "std_dims",
    "logsumexp",
    "norm",
    "softmax",
    "log_softmax",
];

/// `ops/linalg.rs`.
pub const LINALG_OPS: &[&str] = &["matmul", "einsum", "inverse", "det"];

/// `ops/view.rs`, `ops/index.rs`, `ops/transform.rs`, `ops/cast.rs`, `tensor/mod.rs`.
pub const SHAPE_OPS: &[&str] = &[
    // view.rs, cast.rs, tensor/mod.rs
    "reshape",
    "expand",
    "to_dtype",
    "contiguous",
    "permute",
    "transpose",
    "squeeze",
    "unsqueeze",
    "narrow",
    "slice",
    "select",
    // index.rs
    "cat",
    "index_select",
    "gather",
    "scatter",
    "scatter_add",
    "scatter_value",
    "masked_select",
    "take",
    // transform.rs
    "pad",
    "repeat",
    "flip",
    "roll",
    "tril",
    "triu",
    "cumsum",
    "cumprod",
];

/// `nn/functional/{conv,pool,embedding,rnn}.rs` (normalisation and dropout are composed of the
/// operations above and record no node of their own).
pub const NN_OPS: &[&str] = &[
    // conv.rs
    "unfold",
    "fold",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    // pool.rs
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "avg_pool_backward",
    // embedding.rs
    "embedding",
    // rnn.rs
    "recurrence",
    // norm.rs
    "batch_norm",
];

/// `nn/functional/loss.rs` (fused losses with their own backward).
pub const LOSS_OPS: &[&str] = &["cross_entropy"];

/// Every family's list.
pub const ALL: &[&[&str]] = &[
    BINARY_OPS, UNARY_OPS, REDUCE_OPS, LINALG_OPS, SHAPE_OPS, NN_OPS, LOSS_OPS,
];

/// Every operation that records a node.
pub fn differentiable_ops() -> impl Iterator<Item = &'static str> {
    ALL.iter().flat_map(|l| l.iter().copied())
}

/// Whether `op` is listed.
pub fn is_registered(op: &str) -> bool {
    differentiable_ops().any(|o| o == op)
}
