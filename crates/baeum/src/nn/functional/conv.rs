//! Convolutions: conv1d, conv2d and conv_transpose2d.
