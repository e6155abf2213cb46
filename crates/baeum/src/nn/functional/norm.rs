//! Normalisation: batch, layer, group and local response norm.
