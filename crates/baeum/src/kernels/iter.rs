//! Walking N strided operands over one logical shape in row-major order, in "runs" along the
//! innermost dimension, after merging dimensions that are contiguous in every operand so the
//! runs are as long as possible.

use smallvec::SmallVec;

use crate::tensor::Dims;

/// A plan for visiting `shape` with `N` operands of the given strides and base offsets.
#[derive(Clone, Debug)]
pub struct RunPlan<const N: usize> {
    /// Shape of the dimensions outside the run.
    outer: Dims,
    /// Strides of the outer dimensions, per operand.
    outer_strides: [Dims; N],
    pub inner_len: usize,
    pub inner_strides: [usize; N],
    base: [usize; N],
    pub runs: usize,
}

impl<const N: usize> RunPlan<N> {
    pub fn new(shape: &[usize], strides: [&[usize]; N], base: [usize; N]) -> Self {
        // Drop size-1 dims, then merge dim i into i+1 where every operand is contiguous across.
        let mut dims: SmallVec<[(usize, [usize; N]); 6]> = SmallVec::new();
        for (d, &n) in shape.iter().enumerate() {
            if n == 1 {
                continue;
            }
            let s: [usize; N] = std::array::from_fn(|k| strides[k][d]);
            if let Some(last) = dims.last_mut()
                && (0..N).all(|k| last.1[k] == s[k] * n)
            {
                last.0 *= n;
                last.1 = s;
                continue;
            }
            dims.push((n, s));
        }
        let numel: usize = shape.iter().product();
        if numel == 0 {
            return RunPlan {
                outer: Dims::new(),
                outer_strides: std::array::from_fn(|_| Dims::new()),
                inner_len: 0,
                inner_strides: [0; N],
                base,
                runs: 0,
            };
        }
        let (inner_len, inner_strides) = dims.pop().unwrap_or((1, [0; N]));
        let outer: Dims = dims.iter().map(|d| d.0).collect();
        let outer_strides = std::array::from_fn(|k| dims.iter().map(|d| d.1[k]).collect());
        RunPlan {
            runs: outer.iter().product(),
            outer,
            outer_strides,
            inner_len,
            inner_strides,
            base,
        }
    }

    /// Offsets of the first element of run `r`.
    pub fn run_start(&self, mut r: usize) -> [usize; N] {
        let mut off = self.base;
        for d in (0..self.outer.len()).rev() {
            let i = r % self.outer[d];
            r /= self.outer[d];
            for (k, o) in off.iter_mut().enumerate() {
                *o += i * self.outer_strides[k][d];
            }
        }
        off
    }

    /// Calls `f(offsets)` for each run in `start..end`, in order.
    #[inline]
    pub fn for_runs(&self, start: usize, end: usize, mut f: impl FnMut([usize; N])) {
        if start >= end {
            return;
        }
        let rank = self.outer.len();
        let mut idx: Dims = Dims::from_elem(0, rank);
        {
            let mut r = start;
            for d in (0..rank).rev() {
                idx[d] = r % self.outer[d];
                r /= self.outer[d];
            }
        }
        let mut off = self.run_start(start);
        for _ in start..end {
            f(off);
            let mut d = rank;
            while d > 0 {
                d -= 1;
                idx[d] += 1;
                for (k, o) in off.iter_mut().enumerate() {
                    *o += self.outer_strides[k][d];
                }
                if idx[d] < self.outer[d] {
                    break;
                }
                for (k, o) in off.iter_mut().enumerate() {
                    *o -= self.outer_strides[k][d] * self.outer[d];
                }
                idx[d] = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_contiguous_dims_and_keeps_broadcast_ones_apart() {
        // [4, 3, 5] contiguous with a [1, 3, 5]-broadcast second operand.
        let p = RunPlan::new(&[4, 3, 5], [&[15, 5, 1], &[0, 5, 1]], [0, 0]);
        assert_eq!((p.inner_len, p.runs), (15, 4));
        let mut starts = vec![];
        p.for_runs(0, 4, |o| starts.push(o));
        assert_eq!(starts, vec![[0, 0], [15, 0], [30, 0], [45, 0]]);
        assert_eq!(p.run_start(2), [30, 0]);
    }
}
