//! Neural networks: the `Module` trait, layers, losses and initialisers, with PyTorch's names
//! and parameter layouts so that state dicts interchange.

pub mod functional;
