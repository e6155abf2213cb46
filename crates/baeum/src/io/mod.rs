//! Reading and writing tensors: NumPy's `.npy` format.
