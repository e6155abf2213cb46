//! Element-wise kernels: one, two or three strided (possibly broadcast) inputs mapped into a
//! new contiguous output.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::iter::RunPlan;
use super::{PARALLEL_CHUNK, PARALLEL_THRESHOLD};
use crate::tensor::{Element, Layout, Shape, Tensor};

/// Visits the output positions `start..end` of a plan: `f(input offsets, len, out position)`
/// for each piece of a run that falls in the range.
#[inline]
pub fn for_range<const N: usize>(
    plan: &RunPlan<N>,
    start: usize,
    end: usize,
    mut f: impl FnMut([usize; N], usize, usize),
) {
    let il = plan.inner_len;
    if il == 0 || start >= end {
        return;
    }
    let first_run = start / il;
    let last_run = (end - 1) / il;
    let mut pos = start;
    plan.for_runs(first_run, last_run + 1, |mut off| {
        let run_begin = (pos / il) * il;
        let skip = pos - run_begin;
        let len = (il - skip).min(end - pos);
        for (k, o) in off.iter_mut().enumerate() {
            *o += skip * plan.inner_strides[k];
        }
        f(off, len, pos);
        pos += len;
    });
}

/// Allocates `n` outputs and lets `fill(start, chunk)` write them, in parallel when large.
/// Every element of each chunk must be written.
pub fn build<U: Send>(n: usize, fill: impl Fn(usize, &mut [MaybeUninit<U>]) + Sync) -> Vec<U> {
    let mut out: Vec<U> = Vec::with_capacity(n);
    let spare = &mut out.spare_capacity_mut()[..n];
    if n >= PARALLEL_THRESHOLD {
        spare
            .par_chunks_mut(PARALLEL_CHUNK)
            .enumerate()
            .for_each(|(i, c)| fill(i * PARALLEL_CHUNK, c));
    } else {
        fill(0, spare);
    }
    // SAFETY: `fill` wrote every element of every chunk, which together cover 0..n.
    unsafe { out.set_len(n) };
    out
}

fn layout_of(t: &Tensor, shape: &Shape) -> Layout {
    if t.shape() == shape {
        t.layout().clone()
    } else {
        t.layout().broadcast_to(shape)
    }
}

/// `f` applied to every element of `x` (of dtype `T`), giving a contiguous tensor of `U`.
pub fn map<T: Element, U: Element>(x: &Tensor, f: impl Fn(T) -> U + Sync) -> Tensor {
    let n = x.numel();
    let data = x.with_slice::<T, _>(|src, layout| {
        if layout.is_contiguous() {
            let src = &src[layout.offset..layout.offset + n];
            if n >= PARALLEL_THRESHOLD {
                let mut out = Vec::with_capacity(n);
                src.par_iter().map(|&v| f(v)).collect_into_vec(&mut out);
                return out;
            }
            return src.iter().map(|&v| f(v)).collect();
        }
        let plan = RunPlan::new(&layout.shape, [&layout.strides], [layout.offset]);
        build(n, |start, chunk| {
            for_range(&plan, start, start + chunk.len(), |[o], len, pos| {
                let s = plan.inner_strides[0];
                let dst = &mut chunk[pos - start..pos - start + len];
                for (i, d) in dst.iter_mut().enumerate() {
                    d.write(f(src[o + i * s]));
                }
            })
        })
    });
    Tensor::from_vec(data, x.shape().clone())
}

/// `f(a, b)` element-wise over the broadcast `shape` (already validated by the caller).
pub fn zip<A: Element, B: Element, U: Element>(
    a: &Tensor,
    b: &Tensor,
    shape: &Shape,
    f: impl Fn(A, B) -> U + Sync,
) -> Tensor {
    let n = shape.numel();
    let la = layout_of(a, shape);
    let lb = layout_of(b, shape);
    let data = a.with_slice::<A, _>(|sa, _| {
        b.with_slice::<B, _>(|sb, _| {
            if la.is_contiguous() && lb.is_contiguous() {
                let xa = &sa[la.offset..la.offset + n];
                let xb = &sb[lb.offset..lb.offset + n];
                if n >= PARALLEL_THRESHOLD {
                    let mut out = Vec::with_capacity(n);
                    xa.par_iter()
                        .zip(xb.par_iter())
                        .map(|(&x, &y)| f(x, y))
                        .collect_into_vec(&mut out);
                    return out;
                }
                return xa.iter().zip(xb).map(|(&x, &y)| f(x, y)).collect();
            }
            let plan = RunPlan::new(
                shape,
                [&la.strides, &lb.strides],
                [la.offset, lb.offset],
            );
            let [s0, s1] = plan.inner_strides;
            build(n, |start, chunk| {
                for_range(&plan, start, start + chunk.len(), |[o0, o1], len, pos| {
                    let dst = &mut chunk[pos - start..pos - start + len];
                    match (s0, s1) {
                        // The common broadcast shapes get loops the compiler can vectorise.
                        (1, 1) => {
                            for ((d, &x), &y) in dst.iter_mut().zip(&sa[o0..o0 + len]).zip(&sb[o1..o1 + len]) {
                                d.write(f(x, y));
                            }
                        }
                        (1, 0) => {
                            let y = sb[o1];
                            for (d, &x) in dst.iter_mut().zip(&sa[o0..o0 + len]) {
                                d.write(f(x, y));
                            }
                        }
                        (0, 1) => {
                            let x = sa[o0];
                            for (d, &y) in dst.iter_mut().zip(&sb[o1..o1 + len]) {
                                d.write(f(x, y));
                            }
                        }
                        _ => {
                            for (i, d) in dst.iter_mut().enumerate() {
                                d.write(f(sa[o0 + i * s0], sb[o1 + i * s1]));
                            }
                        }
                    }
                })
            })
        })
    });
    Tensor::from_vec(data, shape.clone())
}

/// `f(a, b, c)` element-wise over the broadcast `shape` (already validated by the caller).
pub fn zip3<A: Element, B: Element, C: Element, U: Element>(
    a: &Tensor,
    b: &Tensor,
    c: &Tensor,
    shape: &Shape,
    f: impl Fn(A, B, C) -> U + Sync,
) -> Tensor {
    let n = shape.numel();
    let (la, lb, lc) = (layout_of(a, shape), layout_of(b, shape), layout_of(c, shape));
    let data = a.with_slice::<A, _>(|sa, _| {
        b.with_slice::<B, _>(|sb, _| {
            c.with_slice::<C, _>(|sc, _| {
                let plan = RunPlan::new(
                    shape,
                    [&la.strides, &lb.strides, &lc.strides],
                    [la.offset, lb.offset, lc.offset],
                );
                let [s0, s1, s2] = plan.inner_strides;
                build(n, |start, chunk| {
                    for_range(&plan, start, start + chunk.len(), |[o0, o1, o2], len, pos| {
                        let dst = &mut chunk[pos - start..pos - start + len];
                        for (i, d) in dst.iter_mut().enumerate() {
                            d.write(f(sa[o0 + i * s0], sb[o1 + i * s1], sc[o2 + i * s2]));
                        }
                    })
                })
            })
        })
    });
    Tensor::from_vec(data, shape.clone())
}

/// Copies `src` (any layout, dtype `T`) into the positions of `dst_layout` inside `dst`.
/// Used by in-place assignment and by ops that assemble outputs from pieces.
pub fn copy_into<T: Element>(src: &Tensor, dst: &mut [T], dst_layout: &Layout) {
    let shape = dst_layout.shape.clone();
    let ls = layout_of(src, &shape);
    src.with_slice::<T, _>(|s, _| {
        let plan = RunPlan::new(
            &shape,
            [&dst_layout.strides, &ls.strides],
            [dst_layout.offset, ls.offset],
        );
        let [sd, ss] = plan.inner_strides;
        plan.for_runs(0, plan.runs, |[od, os]| {
            for i in 0..plan.inner_len {
                dst[od + i * sd] = s[os + i * ss];
            }
        });
    });
}
