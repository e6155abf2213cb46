//! Activation functions beyond the element-wise tensor methods (COURSE §7).
