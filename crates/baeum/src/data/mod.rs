//! Data: datasets, loaders, splits, transforms and CSV reading.
