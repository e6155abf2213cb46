//! Pooling: max, average and adaptive pooling.
