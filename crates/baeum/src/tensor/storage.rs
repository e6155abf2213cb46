//! Storage: the flat buffer of elements that one or more tensors (views) share.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::dtype::{DType, Element};

/// The elements of a storage, one variant per dtype.
#[derive(Clone, Debug)]
pub enum StorageData {
    Bool(Vec<bool>),
    U8(Vec<u8>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl StorageData {
    pub fn dtype(&self) -> DType {
        match self {
            StorageData::Bool(_) => DType::Bool,
            StorageData::U8(_) => DType::U8,
            StorageData::I32(_) => DType::I32,
            StorageData::I64(_) => DType::I64,
            StorageData::F32(_) => DType::F32,
            StorageData::F64(_) => DType::F64,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            StorageData::Bool(v) => v.len(),
            StorageData::U8(v) => v.len(),
            StorageData::I32(v) => v.len(),
            StorageData::I64(v) => v.len(),
            StorageData::F32(v) => v.len(),
            StorageData::F64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A shared, interiorly mutable buffer. Reads take a shared lock (uncontended: one atomic
/// operation); in-place operations (optimizer updates, `fill_`) take the write lock.
#[derive(Debug)]
pub struct Storage {
    data: RwLock<StorageData>,
    dtype: DType,
    /// Counts writes, so autograd can tell that a tensor saved for backward was changed in
    /// place after it was saved.
    version: AtomicU64,
}

impl Storage {
    pub fn new(data: StorageData) -> Self {
        let dtype = data.dtype();
        Storage {
            data: RwLock::new(data),
            dtype,
            version: AtomicU64::new(0),
        }
    }

    pub fn from_vec<T: Element>(v: Vec<T>) -> Self {
        Storage::new(T::wrap(v))
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn read(&self) -> RwLockReadGuard<'_, StorageData> {
        // A panic while a lock was held cannot leave the numbers half-typed: recover the data.
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    /// How many times the data was written in place since it was created.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, StorageData> {
        self.version.fetch_add(1, Ordering::Relaxed);
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }
}
