//! Copies that pick each output element from a source position chosen independently per
//! dimension (pad, repeat, tile, flip, roll), plus the offset tables gather and scatter use.

use crate::tensor::{Element, Layout, Shape, Tensor};

/// Marks an output index that takes the fill value instead of a source element.
pub const FILL: usize = usize::MAX;

/// The elements of `x` picked by per-dimension maps, in row-major order over the output shape
/// `[maps[0].len(), maps[1].len(), ...]`: output index `i` of dimension `d` reads source index
/// `maps[d][i]` of that dimension, or gives `fill` where it is [`FILL`]. `maps.len()` must be
/// `x.rank()` and every source index in range (callers check).
pub fn gather_axes<T: Element>(x: &Tensor, maps: &[Vec<usize>], fill: T) -> Vec<T> {
    let r = maps.len();
    debug_assert_eq!(r, x.rank());
    let strides = x.strides();
    // Offsets (relative to the layout's base) of each output index, per dimension.
    let offs: Vec<Vec<usize>> = maps
        .iter()
        .enumerate()
        .map(|(d, m)| {
            m.iter()
                .map(|&i| if i == FILL { FILL } else { i * strides[d] })
                .collect()
        })
        .collect();
    let out_dims: Vec<usize> = maps.iter().map(Vec::len).collect();
    let n: usize = out_dims.iter().product();
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    x.with_slice::<T, _>(|data, layout| {
        if r == 0 {
            out.push(data[layout.offset]);
            return;
        }
        let inner = &offs[r - 1];
        let outer_dims = &out_dims[..r - 1];
        let outer: usize = outer_dims.iter().product();
        let mut idx = vec![0usize; r - 1];
        for _ in 0..outer {
            let mut base = Some(layout.offset);
            for d in 0..r - 1 {
                let o = offs[d][idx[d]];
                if o == FILL {
                    base = None;
                    break;
                }
                base = base.map(|b| b + o);
            }
            match base {
                None => out.extend(std::iter::repeat_n(fill, inner.len())),
                Some(b) => out.extend(
                    inner
                        .iter()
                        .map(|&o| if o == FILL { fill } else { data[b + o] }),
                ),
            }
            for d in (0..r - 1).rev() {
                idx[d] += 1;
                if idx[d] < outer_dims[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
    });
    out
}

/// Storage offsets, in row-major order over `shape`, of the positions of `layout` (whose
/// sizes are at least `shape`'s) with dimension `dim` pinned at index 0: the base offsets
/// gather and scatter add `index * stride` to.
pub fn pinned_offsets(layout: &Layout, shape: &Shape, dim: usize) -> Vec<usize> {
    let mut strides = layout.strides.clone();
    strides[dim] = 0;
    Layout {
        shape: shape.clone(),
        strides,
        offset: layout.offset,
    }
    .offsets()
}

/// `self` elements at `base[p] + index[p] * stride`, for every position `p` (indices are
/// already checked to be in range and non-negative).
pub fn gather_offsets<T: Element>(
    x: &Tensor,
    base: &[usize],
    index: &[i64],
    stride: usize,
) -> Vec<T> {
    x.with_slice::<T, _>(|data, _| {
        base.iter()
            .zip(index)
            .map(|(&b, &i)| data[b + i as usize * stride])
            .collect()
    })
}

/// Writes `f(old, value)` at `base[p] + index[p] * stride` of `out`, in order of `p`.
pub fn scatter_offsets<T: Element>(
    out: &mut [T],
    base: &[usize],
    index: &[i64],
    stride: usize,
    values: &[T],
    f: impl Fn(T, T) -> T,
) {
    for ((&b, &i), &v) in base.iter().zip(index).zip(values) {
        let o = b + i as usize * stride;
        out[o] = f(out[o], v);
    }
}
