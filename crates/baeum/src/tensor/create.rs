//! Creating tensors: filled, ranges, identity, and nested literals (the `tensor!` macro).

use super::{DType, Element, Shape, Tensor};
use crate::with_dtype;

impl Tensor {
    /// A tensor of `shape` with every element `value` (converted to `dtype`).
    pub fn full(shape: impl Into<Shape>, value: f64, dtype: DType) -> Tensor {
        let shape = shape.into();
        let n = shape.numel();
        with_dtype!(dtype, T => Tensor::from_data(T::wrap(vec![T::from_f64(value); n]), shape))
    }

    /// Zeros of `shape` as f32 (PyTorch's default dtype); see [`Tensor::zeros_dtype`].
    pub fn zeros(shape: impl Into<Shape>) -> Tensor {
        Tensor::full(shape, 0.0, DType::F32)
    }

    pub fn zeros_dtype(shape: impl Into<Shape>, dtype: DType) -> Tensor {
        Tensor::full(shape, 0.0, dtype)
    }

    /// Ones of `shape` as f32; see [`Tensor::ones_dtype`].
    pub fn ones(shape: impl Into<Shape>) -> Tensor {
        Tensor::full(shape, 1.0, DType::F32)
    }

    pub fn ones_dtype(shape: impl Into<Shape>, dtype: DType) -> Tensor {
        Tensor::full(shape, 1.0, dtype)
    }

    /// Zeros with this tensor's shape and dtype.
    pub fn zeros_like(&self) -> Tensor {
        Tensor::full(self.shape().clone(), 0.0, self.dtype())
    }

    /// Ones with this tensor's shape and dtype.
    pub fn ones_like(&self) -> Tensor {
        Tensor::full(self.shape().clone(), 1.0, self.dtype())
    }

    /// `value` everywhere, with this tensor's shape and dtype.
    pub fn full_like(&self, value: f64) -> Tensor {
        Tensor::full(self.shape().clone(), value, self.dtype())
    }

    /// `[start, start+step, ...]` up to but excluding `end`, as `dtype` (PyTorch's `arange`).
    /// Panics if `step` is zero or points away from `end`.
    pub fn arange_step(start: f64, end: f64, step: f64, dtype: DType) -> Tensor {
        assert!(step != 0.0, "arange: step must be non-zero");
        assert!(
            (end - start) * step >= 0.0 || start == end,
            "arange: step {step} does not move from {start} toward {end}"
        );
        let n = ((end - start) / step).ceil().max(0.0) as usize;
        with_dtype!(dtype, T => {
            let v: Vec<T> = (0..n).map(|i| T::from_f64(start + i as f64 * step)).collect();
            Tensor::from_vec(v, [n])
        })
    }

    /// `[0, 1, ..., end-1]` as i64, like `torch.arange(end)`.
    pub fn arange(end: i64) -> Tensor {
        Tensor::from_vec((0..end.max(0)).collect::<Vec<i64>>(), [end.max(0) as usize])
    }

    /// `steps` evenly spaced values from `start` to `end` inclusive, as f32.
    pub fn linspace(start: f64, end: f64, steps: usize) -> Tensor {
        Tensor::linspace_dtype(start, end, steps, DType::F32)
    }

    pub fn linspace_dtype(start: f64, end: f64, steps: usize, dtype: DType) -> Tensor {
        let step = if steps > 1 {
            (end - start) / (steps - 1) as f64
        } else {
            0.0
        };
        // PyTorch fills the second half backward from `end` so the last value is exact.
        let half = steps / 2;
        let vals: Vec<f64> = (0..steps)
            .map(|i| {
                if i < half {
                    start + step * i as f64
                } else {
                    end - step * (steps - 1 - i) as f64
                }
            })
            .collect();
        Tensor::from_vec(vals, [steps]).to_dtype(dtype)
    }

    /// The `n × n` identity matrix as f32.
    pub fn eye(n: usize) -> Tensor {
        Tensor::eye_dtype(n, n, DType::F32)
    }

    /// An `n × m` matrix with ones on the diagonal.
    pub fn eye_dtype(n: usize, m: usize, dtype: DType) -> Tensor {
        let mut v = vec![0.0f64; n * m];
        for i in 0..n.min(m) {
            v[i * m + i] = 1.0;
        }
        Tensor::from_vec(v, [n, m]).to_dtype(dtype)
    }
}

/// A nested Rust literal (scalars, arrays, slices, vectors of them) that can become a tensor.
pub trait NestedData {
    /// The element type at the leaves.
    type Elem: Element;
    /// Appends this level's shape (first call) and checks later siblings match.
    fn shape_into(&self, shape: &mut Vec<usize>, depth: usize) -> Result<(), String>;
    fn flatten_into(&self, out: &mut Vec<Self::Elem>);
}

macro_rules! leaf {
    ($($t:ty),*) => {$(
        impl NestedData for $t {
            type Elem = $t;
            fn shape_into(&self, shape: &mut Vec<usize>, depth: usize) -> Result<(), String> {
                if depth < shape.len() {
                    return Err(format!("a scalar at depth {depth} where a list was expected"));
                }
                Ok(())
            }
            fn flatten_into(&self, out: &mut Vec<$t>) {
                out.push(*self);
            }
        }
    )*};
}
leaf!(f32, f64, i64, i32, u8, bool);

fn list_shape<A: NestedData>(
    items: &[A],
    shape: &mut Vec<usize>,
    depth: usize,
) -> Result<(), String> {
    if depth == shape.len() {
        shape.push(items.len());
    } else if shape[depth] != items.len() {
        return Err(format!(
            "ragged nesting: a list of {} at depth {depth} where {} was expected",
            items.len(),
            shape[depth]
        ));
    }
    for it in items {
        it.shape_into(shape, depth + 1)?;
    }
    Ok(())
}

impl<A: NestedData, const N: usize> NestedData for [A; N] {
    type Elem = A::Elem;
    fn shape_into(&self, shape: &mut Vec<usize>, depth: usize) -> Result<(), String> {
        list_shape(self.as_slice(), shape, depth)
    }
    fn flatten_into(&self, out: &mut Vec<A::Elem>) {
        self.iter().for_each(|a| a.flatten_into(out));
    }
}
impl<A: NestedData> NestedData for Vec<A> {
    type Elem = A::Elem;
    fn shape_into(&self, shape: &mut Vec<usize>, depth: usize) -> Result<(), String> {
        list_shape(self.as_slice(), shape, depth)
    }
    fn flatten_into(&self, out: &mut Vec<A::Elem>) {
        self.iter().for_each(|a| a.flatten_into(out));
    }
}
impl<A: NestedData> NestedData for &[A] {
    type Elem = A::Elem;
    fn shape_into(&self, shape: &mut Vec<usize>, depth: usize) -> Result<(), String> {
        list_shape(self, shape, depth)
    }
    fn flatten_into(&self, out: &mut Vec<A::Elem>) {
        self.iter().for_each(|a| a.flatten_into(out));
    }
}

impl Tensor {
    /// A tensor from nested arrays or vectors, keeping the Rust element type
    /// (`[[1.0f64, 2.0]]` gives f64). Panics on ragged nesting.
    pub fn from_nested<N: NestedData>(data: &N) -> Tensor {
        let mut shape = Vec::new();
        if let Err(e) = data.shape_into(&mut shape, 0) {
            panic!("tensor: {e}");
        }
        let mut flat = Vec::with_capacity(shape.iter().product());
        data.flatten_into(&mut flat);
        Tensor::from_vec(flat, shape)
    }

    /// A tensor from a nested literal with PyTorch's dtype inference: floats become f32 and
    /// integers i64 (unless `dtype` says otherwise). This is what [`tensor!`](crate::tensor!)
    /// calls.
    pub fn from_literal<N: NestedData>(data: &N, dtype: Option<DType>) -> Tensor {
        let t = Tensor::from_nested(data);
        let target = dtype.unwrap_or(match t.dtype() {
            DType::F64 | DType::F32 => DType::F32,
            DType::I32 | DType::I64 => DType::I64,
            other => other,
        });
        t.to_dtype(target)
    }
}

/// A tensor from a nested literal, as `torch.tensor` reads one: float literals give f32,
/// integer literals i64; a second argument chooses the dtype.
///
/// ```
/// use baeum::{tensor, DType};
/// let a = tensor!([[1., 2., 3.], [4., 5., 6.]]);
/// assert_eq!((a.dims(), a.dtype()), (&[2usize, 3][..], DType::F32));
/// let b = tensor!([1., 2.], DType::F64);
/// assert_eq!(b.dtype(), DType::F64);
/// assert_eq!(tensor!(3).rank(), 0);
/// ```
#[macro_export]
macro_rules! tensor {
    ($data:expr $(,)?) => {
        $crate::Tensor::from_literal(&$data, None)
    };
    ($data:expr, $dtype:expr $(,)?) => {
        $crate::Tensor::from_literal(&$data, Some($dtype))
    };
}
