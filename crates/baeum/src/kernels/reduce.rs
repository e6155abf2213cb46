//! Reductions over a set of dimensions: each output element folds the runs of the reduced
//! region that lies under it.

use rayon::prelude::*;

use super::iter::RunPlan;
use super::PARALLEL_THRESHOLD;
use crate::tensor::{Dims, Element, Float, Layout, Tensor};

/// One run of the reduced region: `data[offset + i*stride]` for `i < len`, whose first element
/// is at row-major `position` within the region.
pub struct Run<'a, T> {
    pub data: &'a [T],
    pub offset: usize,
    pub len: usize,
    pub stride: usize,
    pub position: usize,
}

impl<T: Copy> Run<'_, T> {
    #[inline(always)]
    pub fn get(&self, i: usize) -> T {
        self.data[self.offset + i * self.stride]
    }

    /// The run as a slice when it is unit-stride.
    #[inline(always)]
    pub fn as_slice(&self) -> Option<&[T]> {
        (self.stride == 1 || self.len <= 1).then(|| &self.data[self.offset..self.offset + self.len])
    }
}

/// Splits `layout` into the plan over kept dims (one output element each, in row-major order)
/// and the plan over the reduced dims (`dims`, sorted, unique).
fn plans(layout: &Layout, dims: &[usize]) -> (RunPlan<1>, Dims, Dims) {
    let mut kept_shape = Dims::new();
    let mut kept_strides = Dims::new();
    let mut red_shape = Dims::new();
    let mut red_strides = Dims::new();
    for d in 0..layout.rank() {
        if dims.contains(&d) {
            red_shape.push(layout.shape[d]);
            red_strides.push(layout.strides[d]);
        } else {
            kept_shape.push(layout.shape[d]);
            kept_strides.push(layout.strides[d]);
        }
    }
    (
        RunPlan::new(&kept_shape, [&kept_strides], [layout.offset]),
        red_shape,
        red_strides,
    )
}

/// Reduces `x` (dtype `T`) over `dims`, returning one `U` per kept position in row-major order.
/// `fold` sees each run of the region in order; `finish` turns the accumulator into the output.
pub fn reduce<T: Element, A, U: Element + Send>(
    x: &Tensor,
    dims: &[usize],
    init: impl Fn() -> A + Sync,
    fold: impl Fn(&mut A, Run<'_, T>) + Sync,
    finish: impl Fn(A) -> U + Sync,
) -> Vec<U> {
    x.with_slice::<T, _>(|data, layout| {
        let (kept, red_shape, red_strides) = plans(layout, dims);
        let outputs: usize = layout
            .shape
            .iter()
            .enumerate()
            .filter(|(d, _)| !dims.contains(d))
            .map(|(_, &n)| n)
            .product();
        let region: usize = red_shape.iter().product();
        let one = |base: usize| -> U {
            let mut acc = init();
            if region > 0 {
                let rp = RunPlan::new(&red_shape, [&red_strides], [base]);
                let mut position = 0;
                rp.for_runs(0, rp.runs, |[off]| {
                    fold(
                        &mut acc,
                        Run {
                            data,
                            offset: off,
                            len: rp.inner_len,
                            stride: rp.inner_strides[0],
                            position,
                        },
                    );
                    position += rp.inner_len;
                });
            }
            finish(acc)
        };
        let bases: Vec<usize> = if outputs == 1 {
            vec![layout.offset]
        } else {
            let mut b = Vec::with_capacity(outputs);
            kept.for_runs(0, kept.runs, |[o]| {
                for i in 0..kept.inner_len {
                    b.push(o + i * kept.inner_strides[0]);
                }
            });
            b
        };
        if outputs * region.max(1) >= PARALLEL_THRESHOLD && outputs > 1 {
            let mut out = Vec::with_capacity(outputs);
            bases.par_iter().map(|&b| one(b)).collect_into_vec(&mut out);
            out
        } else {
            bases.iter().map(|&b| one(b)).collect()
        }
    })
}

/// Sum of a run of floats, accumulated in eight lanes (vectorisable, and more accurate than
/// one running sum) and returned as f64.
#[inline]
pub fn sum_run<T: Float>(run: &Run<'_, T>) -> f64 {
    match run.as_slice() {
        Some(s) => {
            let mut lanes = [T::zero(); 8];
            let chunks = s.chunks_exact(8);
            let rest = chunks.remainder();
            let mut total = 0.0f64;
            for (i, c) in chunks.enumerate() {
                for k in 0..8 {
                    lanes[k] = lanes[k] + c[k];
                }
                // Flush to f64 now and then so long runs keep their precision.
                if i % 128 == 127 {
                    total += lanes.iter().map(|v| v.to_f64()).sum::<f64>();
                    lanes = [T::zero(); 8];
                }
            }
            total += lanes.iter().map(|v| v.to_f64()).sum::<f64>();
            total + rest.iter().map(|v| v.to_f64()).sum::<f64>()
        }
        None => (0..run.len).map(|i| run.get(i).to_f64()).sum(),
    }
}

/// Sums a contiguous `[rows, cols]` block over its rows (the reduction a broadcast's gradient
/// needs most: a bias summed over the batch), row by row so memory is read in order.
pub fn sum_leading_rows<T: Float>(data: &[T], rows: usize, cols: usize) -> Vec<T> {
    let mut acc = vec![0.0f64; cols];
    for r in 0..rows {
        let row = &data[r * cols..(r + 1) * cols];
        for (a, &v) in acc.iter_mut().zip(row) {
            *a += v.to_f64();
        }
    }
    acc.into_iter().map(T::from_f64).collect()
}
