//! Loss functions with PyTorch's reductions.
