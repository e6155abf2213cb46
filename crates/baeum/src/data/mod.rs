//! Data: datasets, loaders, splits, transforms and CSV reading.
//!
//! The road from a file to batches: [`csv::read_csv`] (or tensors already in memory) →
//! [`TensorDataset`] → [`random_split`] / [`stratified_split`] / [`time_split`] → scalers fitted
//! on the training split ([`StandardScaler`], [`MinMaxScaler`]) → [`DataLoader`].

pub mod csv;
mod dataset;
mod loader;
mod split;
mod transform;

pub use dataset::{Dataset, Subset, TensorDataset};
pub use loader::{BatchIter, DEFAULT_LOADER_SEED, DataLoader};
pub use split::{
    SplitLengths, random_split, random_split_indices, stratified_split, time_split,
    train_test_split,
};
pub use transform::{MinMaxScaler, Normalize, StandardScaler, Transform, windows};
