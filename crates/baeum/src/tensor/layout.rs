//! Shapes and layouts: how a tensor's logical indices map onto offsets in its storage.
//! Every view (transpose, permute, slice, expand, reshape of contiguous data) is a new `Layout`
//! over the same storage.

use std::fmt;

use smallvec::SmallVec;

/// Dimension sizes or strides; six inline before it allocates.
pub type Dims = SmallVec<[usize; 6]>;

/// A tensor's shape: the size of each dimension. Prints as `[2, 3]`.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Shape(pub Dims);

impl Shape {
    pub fn new(dims: &[usize]) -> Self {
        Shape(Dims::from_slice(dims))
    }
    pub fn scalar() -> Self {
        Shape(Dims::new())
    }
    pub fn dims(&self) -> &[usize] {
        &self.0
    }
    pub fn rank(&self) -> usize {
        self.0.len()
    }
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }
    /// Row-major (C order) strides for this shape.
    pub fn contiguous_strides(&self) -> Dims {
        let mut strides = Dims::from_elem(0, self.0.len());
        let mut acc = 1;
        for i in (0..self.0.len()).rev() {
            strides[i] = acc;
            acc *= self.0[i];
        }
        strides
    }
}

impl std::ops::Deref for Shape {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        &self.0
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0.as_slice())
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0.as_slice())
    }
}

impl From<&[usize]> for Shape {
    fn from(d: &[usize]) -> Self {
        Shape::new(d)
    }
}
impl<const N: usize> From<[usize; N]> for Shape {
    fn from(d: [usize; N]) -> Self {
        Shape::new(&d)
    }
}
impl<const N: usize> From<&[usize; N]> for Shape {
    fn from(d: &[usize; N]) -> Self {
        Shape::new(d)
    }
}
impl From<Vec<usize>> for Shape {
    fn from(d: Vec<usize>) -> Self {
        Shape(Dims::from_vec(d))
    }
}
impl From<&Vec<usize>> for Shape {
    fn from(d: &Vec<usize>) -> Self {
        Shape::new(d)
    }
}
impl From<&Shape> for Shape {
    fn from(s: &Shape) -> Self {
        s.clone()
    }
}
impl From<()> for Shape {
    fn from(_: ()) -> Self {
        Shape::scalar()
    }
}
impl From<usize> for Shape {
    fn from(d: usize) -> Self {
        Shape::new(&[d])
    }
}
impl From<(usize, usize)> for Shape {
    fn from(d: (usize, usize)) -> Self {
        Shape::new(&[d.0, d.1])
    }
}
impl From<(usize, usize, usize)> for Shape {
    fn from(d: (usize, usize, usize)) -> Self {
        Shape::new(&[d.0, d.1, d.2])
    }
}
impl From<(usize, usize, usize, usize)> for Shape {
    fn from(d: (usize, usize, usize, usize)) -> Self {
        Shape::new(&[d.0, d.1, d.2, d.3])
    }
}

/// Shape, strides (in elements) and offset into the storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub shape: Shape,
    pub strides: Dims,
    pub offset: usize,
}

impl Layout {
    /// A row-major layout starting at offset 0.
    pub fn contiguous(shape: Shape) -> Self {
        let strides = shape.contiguous_strides();
        Layout {
            shape,
            strides,
            offset: 0,
        }
    }

    pub fn rank(&self) -> usize {
        self.shape.rank()
    }

    pub fn numel(&self) -> usize {
        self.shape.numel()
    }

    /// Row-major with no gaps (sizes-1 dimensions may have any stride).
    pub fn is_contiguous(&self) -> bool {
        let mut acc = 1;
        for i in (0..self.rank()).rev() {
            let d = self.shape[i];
            if d != 1 && self.strides[i] != acc {
                return false;
            }
            acc *= d;
        }
        true
    }

    /// Calls `f(offset, len, stride)` for each run along the innermost dimension, in row-major
    /// order. Kernels use the runs so their inner loop is a plain (often unit-stride) loop.
    #[inline]
    pub fn for_each_run(&self, mut f: impl FnMut(usize, usize, usize)) {
        let n = self.numel();
        if n == 0 {
            return;
        }
        if self.is_contiguous() {
            f(self.offset, n, 1);
            return;
        }
        let rank = self.rank();
        let inner = self.shape[rank - 1];
        let inner_stride = self.strides[rank - 1];
        let outer = n / inner;
        let mut idx = Dims::from_elem(0, rank - 1);
        let mut off = self.offset;
        for _ in 0..outer {
            f(off, inner, inner_stride);
            // Advance the multi-index over the outer dimensions.
            let mut d = rank - 1;
            while d > 0 {
                d -= 1;
                idx[d] += 1;
                off += self.strides[d];
                if idx[d] < self.shape[d] {
                    break;
                }
                off -= self.strides[d] * self.shape[d];
                idx[d] = 0;
            }
        }
    }

    /// Storage offsets of all elements in row-major order.
    pub fn offsets(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.numel());
        self.for_each_run(|off, len, stride| {
            for i in 0..len {
                out.push(off + i * stride);
            }
        });
        out
    }

    /// The storage offset of a multi-index (no bounds check beyond debug assertions).
    pub fn offset_of(&self, index: &[usize]) -> usize {
        debug_assert_eq!(index.len(), self.rank());
        self.offset
            + index
                .iter()
                .zip(self.strides.iter())
                .map(|(i, s)| i * s)
                .sum::<usize>()
    }

    /// The layout with its dimensions reordered.
    pub fn permute(&self, dims: &[usize]) -> Layout {
        Layout {
            shape: Shape(dims.iter().map(|&d| self.shape[d]).collect()),
            strides: dims.iter().map(|&d| self.strides[d]).collect(),
            offset: self.offset,
        }
    }

    /// Broadcast to `shape` (already validated): new leading dims and size-1 dims get stride 0.
    pub fn broadcast_to(&self, shape: &Shape) -> Layout {
        let extra = shape.rank() - self.rank();
        let mut strides = Dims::from_elem(0, shape.rank());
        for i in 0..self.rank() {
            if self.shape[i] == shape[extra + i] {
                strides[extra + i] = self.strides[i];
            }
        }
        Layout {
            shape: shape.clone(),
            strides,
            offset: self.offset,
        }
    }
}

/// The broadcast shape of two shapes under NumPy rules, or `None` if they don't broadcast.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Shape> {
    let rank = a.len().max(b.len());
    let mut out = Dims::from_elem(0, rank);
    for i in 0..rank {
        let da = if i + a.len() >= rank { a[i + a.len() - rank] } else { 1 };
        let db = if i + b.len() >= rank { b[i + b.len() - rank] } else { 1 };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return None;
        };
    }
    Some(Shape(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_a_transposed_layout_visit_column_major_offsets() {
        let l = Layout::contiguous(Shape::new(&[2, 3])).permute(&[1, 0]);
        assert_eq!(l.offsets(), vec![0, 3, 1, 4, 2, 5]);
        assert!(!l.is_contiguous());
    }

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shapes(&[3, 1], &[4]).unwrap().dims(), &[3, 4]);
        assert_eq!(broadcast_shapes(&[], &[2, 2]).unwrap().dims(), &[2, 2]);
        assert_eq!(broadcast_shapes(&[0, 1], &[1, 5]).unwrap().dims(), &[0, 5]);
        assert!(broadcast_shapes(&[3], &[4]).is_none());
        let l = Layout::contiguous(Shape::new(&[3, 1])).broadcast_to(&Shape::new(&[2, 3, 4]));
        assert_eq!(l.strides.as_slice(), &[0, 1, 0]);
    }
}
