//! The `Tensor` handle: shared storage plus a layout. Cloning a tensor is cheap (one reference
//! count); views share the storage of the tensor they come from.

pub mod create;
pub mod display;
pub mod dtype;
pub mod layout;
pub mod random;
pub mod storage;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

pub use dtype::{DType, Element, Float, Numeric};
pub use layout::{Dims, Layout, Shape, broadcast_shapes};
pub use storage::{Storage, StorageData};

use crate::autograd::Node;
use crate::error::{Result, bail};

/// An n-dimensional array of one dtype: the value every operation takes and returns.
///
/// ```
/// use baeum::tensor;
/// let a = tensor!([[1., 2., 3.], [4., 5., 6.]]);
/// assert_eq!(a.dims(), &[2, 3]);
/// assert_eq!(a.rank(), 2);
/// ```
#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<TensorImpl>);

pub(crate) struct TensorImpl {
    pub(crate) storage: Arc<Storage>,
    pub(crate) layout: Layout,
    /// The operation that produced this tensor, when it was recorded for autograd (`None` for
    /// leaves and for tensors made with gradients off).
    pub(crate) grad_fn: Option<Arc<Node>>,
    /// A leaf's flag: gradients flow to this tensor and collect in `grad`.
    pub(crate) requires_grad: AtomicBool,
    /// The gradient accumulated by `backward` (leaves only).
    pub(crate) grad: Mutex<Option<Tensor>>,
}

/// A dimension argument: non-negative counts from the front, negative from the back, as in
/// PyTorch (`-1` is the last dimension).
pub trait Dim: Copy {
    fn to_isize(self) -> isize;
    /// The dimension as an index into a shape of `rank` dimensions; panics naming `op` if out of
    /// range.
    fn resolve(self, rank: usize, op: &str) -> usize {
        match resolve_dim(self.to_isize(), rank) {
            Ok(d) => d,
            Err(_) => panic!(
                "{op}: dimension {} out of range for a tensor of rank {rank} (expected {} to {})",
                self.to_isize(),
                -(rank.max(1) as isize),
                rank.max(1) as isize - 1
            ),
        }
    }
}
macro_rules! impl_dim {
    ($($t:ty),*) => {$(impl Dim for $t { #[inline] fn to_isize(self) -> isize { self as isize } })*};
}
impl_dim!(i32, i64, isize, usize, u32);

/// Resolve a possibly negative dimension against a rank (a scalar accepts 0 and -1).
pub fn resolve_dim(d: isize, rank: usize) -> Result<usize> {
    let r = rank.max(1) as isize;
    if d < -r || d >= r {
        bail!(
            Index,
            "dimension {d} out of range for a tensor of rank {rank}"
        );
    }
    Ok(if d < 0 { (d + r) as usize } else { d as usize })
}

impl Tensor {
    /// A tensor over `storage` with `layout`; the one place tensors are assembled.
    pub(crate) fn from_parts(storage: Arc<Storage>, layout: Layout) -> Tensor {
        Tensor::from_parts_with(storage, layout, None)
    }

    /// [`Tensor::from_parts`] with the node that produced it.
    pub(crate) fn from_parts_with(
        storage: Arc<Storage>,
        layout: Layout,
        grad_fn: Option<Arc<Node>>,
    ) -> Tensor {
        Tensor(Arc::new(TensorImpl {
            storage,
            layout,
            grad_fn,
            requires_grad: AtomicBool::new(false),
            grad: Mutex::new(None),
        }))
    }

    /// A view of this tensor's storage with another layout.
    pub(crate) fn view_with(&self, layout: Layout) -> Tensor {
        Tensor::from_parts(self.0.storage.clone(), layout)
    }

    /// A contiguous tensor owning `data`, which must hold exactly `shape.numel()` elements.
    pub(crate) fn from_data(data: StorageData, shape: Shape) -> Tensor {
        debug_assert_eq!(data.len(), shape.numel());
        Tensor::from_parts(Arc::new(Storage::new(data)), Layout::contiguous(shape))
    }

    /// A tensor of `shape` holding `data` in row-major order. Panics if the lengths differ.
    pub fn from_vec<T: Element>(data: Vec<T>, shape: impl Into<Shape>) -> Tensor {
        match Tensor::try_from_vec(data, shape) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`Tensor::from_vec`], returning an error if the number of elements does not fit
    /// the shape.
    pub fn try_from_vec<T: Element>(data: Vec<T>, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        if data.len() != shape.numel() {
            bail!(
                Shape,
                "from_vec: {} elements cannot fill shape {shape} ({} elements)",
                data.len(),
                shape.numel()
            );
        }
        Ok(Tensor::from_data(T::wrap(data), shape))
    }

    /// A tensor of `shape` holding a copy of `data`.
    pub fn from_slice<T: Element>(data: &[T], shape: impl Into<Shape>) -> Tensor {
        Tensor::from_vec(data.to_vec(), shape)
    }

    /// A 0-dimensional tensor holding one value.
    pub fn scalar<T: Element>(value: T) -> Tensor {
        Tensor::from_vec(vec![value], Shape::scalar())
    }

    pub fn shape(&self) -> &Shape {
        &self.0.layout.shape
    }

    /// The sizes of the dimensions (PyTorch's `size()`).
    pub fn dims(&self) -> &[usize] {
        &self.0.layout.shape
    }

    /// The size of one dimension (negative counts from the back).
    pub fn size(&self, dim: impl Dim) -> usize {
        self.dims()[dim.resolve(self.rank(), "size")]
    }

    /// The number of dimensions.
    pub fn rank(&self) -> usize {
        self.0.layout.rank()
    }

    /// PyTorch's name for [`Tensor::rank`].
    pub fn dim(&self) -> usize {
        self.rank()
    }

    pub fn numel(&self) -> usize {
        self.0.layout.numel()
    }

    pub fn dtype(&self) -> DType {
        self.0.storage.dtype()
    }

    pub fn layout(&self) -> &Layout {
        &self.0.layout
    }

    pub fn strides(&self) -> &[usize] {
        &self.0.layout.strides
    }

    pub fn is_contiguous(&self) -> bool {
        self.0.layout.is_contiguous()
    }

    pub(crate) fn storage(&self) -> &Arc<Storage> {
        &self.0.storage
    }

    /// Whether two tensors are views of the same storage.
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0.storage, &other.0.storage)
    }

    /// Whether two handles are the same tensor (not just equal values).
    pub fn same(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Runs `f` on the storage slice and this tensor's layout, for kernels. Panics if the
    /// dtype is not `T`'s.
    pub(crate) fn with_slice<T: Element, R>(&self, f: impl FnOnce(&[T], &Layout) -> R) -> R {
        let guard = self.0.storage.read();
        let data = T::unwrap(&guard).unwrap_or_else(|| {
            panic!(
                "internal: tensor of dtype {} read as {}",
                self.dtype(),
                T::DTYPE
            )
        });
        f(data, &self.0.layout)
    }

    /// The elements in row-major order as a new vector of `T` (converting the dtype if needed,
    /// with `as` semantics).
    pub fn to_vec<T: Element>(&self) -> Vec<T> {
        if self.dtype() != T::DTYPE {
            return self.to_dtype(T::DTYPE).to_vec();
        }
        self.with_slice::<T, _>(|data, layout| {
            if layout.is_contiguous() {
                return data[layout.offset..layout.offset + layout.numel()].to_vec();
            }
            let mut out = Vec::with_capacity(layout.numel());
            layout.for_each_run(|off, len, stride| {
                out.extend((0..len).map(|i| data[off + i * stride]));
            });
            out
        })
    }

    /// The value of a one-element tensor, converted to `T`. Panics (naming the shape) otherwise.
    pub fn item<T: Element>(&self) -> T {
        match self.try_item() {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`Tensor::item`], returning an error for a tensor of more than one element.
    pub fn try_item<T: Element>(&self) -> Result<T> {
        if self.numel() != 1 {
            bail!(
                Shape,
                "item: a tensor of shape {} has {} elements, not one",
                self.shape(),
                self.numel()
            );
        }
        Ok(self.to_vec::<T>()[0])
    }

    /// The value of a one-element tensor as `f64`.
    pub fn item_f64(&self) -> f64 {
        self.item::<f64>()
    }

    /// The value at a multi-index, as `f64` (for tests and inspection).
    pub fn get(&self, index: &[usize]) -> f64 {
        assert_eq!(
            index.len(),
            self.rank(),
            "get: index {index:?} has {} entries but the tensor has rank {}",
            index.len(),
            self.rank()
        );
        for (d, (&i, &n)) in index.iter().zip(self.dims()).enumerate() {
            assert!(
                i < n,
                "get: index {i} out of range for dimension {d} of size {n} (shape {})",
                self.shape()
            );
        }
        let off = self.layout().offset_of(index);
        crate::with_dtype!(self.dtype(), T => self.with_slice::<T, _>(|d, _| d[off].to_f64()))
    }

    /// A contiguous tensor with the same values: `self` itself when already contiguous. The
    /// copy stays in the graph (its gradient is the upstream gradient unchanged).
    pub fn contiguous(&self) -> Tensor {
        if self.is_contiguous() {
            return self.clone();
        }
        crate::autograd::record_op(
            "contiguous",
            &[self],
            || {
                crate::with_dtype!(self.dtype(), T => {
                    Tensor::from_vec(self.to_vec::<T>(), self.shape().clone())
                })
            },
            |_, _| |g: &Tensor| crate::autograd::grads([Some(g.clone())]),
        )
    }
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
