//! Dropout and its channel-wise variant.
