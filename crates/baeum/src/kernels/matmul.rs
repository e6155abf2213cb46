//! Matrix products. Floats go to the `gemm` crate, which takes arbitrary strides, so
//! transposed views multiply without a copy; batches of small products run in parallel.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use crate::tensor::{Element, Float, Layout};

/// The operands of a batched product: `batch` pairs of `m×k` and `k×n` matrices, where batch
/// `i` starts at `a_offsets[i]` / `b_offsets[i]` and the matrices have the given row/column
/// strides.
pub struct MatmulPlan {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub a_offsets: Vec<usize>,
    pub b_offsets: Vec<usize>,
    pub a_rs: usize,
    pub a_cs: usize,
    pub b_rs: usize,
    pub b_cs: usize,
}

impl MatmulPlan {
    /// A plan for layouts already broadcast to `[batch..., m, k]` and `[batch..., k, n]`.
    pub fn new(a: &Layout, b: &Layout) -> MatmulPlan {
        let r = a.rank();
        debug_assert_eq!(r, b.rank());
        debug_assert!(r >= 2);
        let (m, k, n) = (a.shape[r - 2], a.shape[r - 1], b.shape[r - 1]);
        let batch_shape = &a.shape[..r - 2];
        let mut a_offsets = vec![a.offset];
        let mut b_offsets = vec![b.offset];
        for (d, &size) in batch_shape.iter().enumerate() {
            let (na, nb) = (a_offsets.len(), b_offsets.len());
            let mut na_off = Vec::with_capacity(na * size);
            let mut nb_off = Vec::with_capacity(nb * size);
            for i in 0..na {
                for j in 0..size {
                    na_off.push(a_offsets[i] + j * a.strides[d]);
                    nb_off.push(b_offsets[i] + j * b.strides[d]);
                }
            }
            a_offsets = na_off;
            b_offsets = nb_off;
        }
        MatmulPlan {
            m,
            k,
            n,
            a_offsets,
            b_offsets,
            a_rs: a.strides[r - 2],
            a_cs: a.strides[r - 1],
            b_rs: b.strides[r - 2],
            b_cs: b.strides[r - 1],
        }
    }

    pub fn batch(&self) -> usize {
        self.a_offsets.len()
    }
}

/// Products this small (m·k·n) are cheaper with a plain loop than through `gemm`'s packing.
const TINY: usize = 512;
/// Products at least this large (m·k·n) let `gemm` use all threads.
const LARGE: usize = 64 * 64 * 64;

/// Every product of `plan`, as a contiguous `[batch, m, n]` buffer. The buffer is not zeroed
/// first: every element is written exactly once (gemm overwrites, it does not accumulate).
pub fn matmul_float<T: Float>(a: &[T], b: &[T], plan: &MatmulPlan) -> Vec<T> {
    let (m, k, n) = (plan.m, plan.k, plan.n);
    let per = m * n;
    let numel = plan.batch() * per;
    let mut out: Vec<T> = Vec::with_capacity(numel);
    if per == 0 {
        return out;
    }
    let flops = m * k * n;
    let one = |i: usize, dst: &mut [MaybeUninit<T>], par: gemm::Parallelism| {
        let (ao, bo) = (plan.a_offsets[i], plan.b_offsets[i]);
        if k == 0 {
            dst.fill(MaybeUninit::new(T::zero()));
            return;
        }
        if flops <= TINY {
            naive(a, b, ao, bo, plan, dst);
            return;
        }
        // SAFETY: offsets and strides come from validated layouts of `a` and `b`, so every
        // element gemm reads lies inside the slices; `dst` holds exactly m·n elements, which
        // gemm writes without reading (`read_dst` false).
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                dst.as_mut_ptr().cast::<T>(),
                1,
                n as isize,
                false,
                a.as_ptr().add(ao),
                plan.a_cs as isize,
                plan.a_rs as isize,
                b.as_ptr().add(bo),
                plan.b_cs as isize,
                plan.b_rs as isize,
                T::zero(),
                T::one(),
                false,
                false,
                false,
                par,
            );
        }
    };
    let batch = plan.batch();
    let dst = &mut out.spare_capacity_mut()[..numel];
    // Whole products per thread when they share out evenly (a convolution's per-image
    // products): no synchronisation inside each product, and each thread's operands stay in
    // its own cache. Otherwise large products are split across threads one after another.
    let threads = rayon::current_num_threads();
    let even = batch >= 4 * threads || batch.is_multiple_of(threads);
    if batch > 1 && (flops < LARGE || even) {
        dst.par_chunks_mut(per)
            .enumerate()
            .for_each(|(i, dst)| one(i, dst, gemm::Parallelism::None));
    } else {
        let par = if flops >= LARGE {
            gemm::Parallelism::Rayon(0)
        } else {
            gemm::Parallelism::None
        };
        for (i, dst) in dst.chunks_mut(per).enumerate() {
            one(i, dst, par);
        }
    }
    // SAFETY: every one of the `numel` elements was written above (each product writes its
    // whole m·n block: by gemm, by `naive`, or the zero fill when k = 0).
    unsafe { out.set_len(numel) };
    out
}

/// `dst[m×n]` (contiguous, row-major) = `A·B` (+ `dst` when `accumulate`), A and B given by
/// their (row, column) element strides: one product for kernels that hold raw slices. Large
/// products use rayon's threads unless `single` (a caller already running one per thread).
#[allow(clippy::too_many_arguments)]
pub fn product<T: Float>(
    (m, n, k): (usize, usize, usize),
    dst: &mut [T],
    accumulate: bool,
    a: &[T],
    (a_rs, a_cs): (usize, usize),
    b: &[T],
    (b_rs, b_cs): (usize, usize),
    single: bool,
) {
    assert_eq!(
        dst.len(),
        m * n,
        "product: dst holds {} elements, not {m}×{n}",
        dst.len()
    );
    if m * n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(T::zero());
        }
        return;
    }
    // O(1) checks that make the unchecked reads below sound.
    assert!(
        (m - 1) * a_rs + (k - 1) * a_cs < a.len() && (k - 1) * b_rs + (n - 1) * b_cs < b.len(),
        "product: a {m}×{k} or b {k}×{n} operand reaches past its slice"
    );
    let par = if !single && m * n * k >= LARGE {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the assertions above: every element gemm reads lies inside `a` and `b` (the
    // largest offsets are checked), and `dst` holds exactly m·n elements.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            T::one(),
            T::one(),
            false,
            false,
            false,
            par,
        );
    }
}

fn naive<T: Float>(
    a: &[T],
    b: &[T],
    ao: usize,
    bo: usize,
    p: &MatmulPlan,
    dst: &mut [MaybeUninit<T>],
) {
    for i in 0..p.m {
        for j in 0..p.n {
            let mut acc = T::zero();
            for l in 0..p.k {
                acc = acc + a[ao + i * p.a_rs + l * p.a_cs] * b[bo + l * p.b_rs + j * p.b_cs];
            }
            dst[i * p.n + j] = MaybeUninit::new(acc);
        }
    }
}

/// Integer products (wrapping, as PyTorch's integer matmul), by plain loops.
pub fn matmul_int<T: Element>(a: &[T], b: &[T], plan: &MatmulPlan, out: &mut [T]) {
    let (m, k, n) = (plan.m, plan.k, plan.n);
    for bi in 0..plan.batch() {
        let (ao, bo) = (plan.a_offsets[bi], plan.b_offsets[bi]);
        for i in 0..m {
            for j in 0..n {
                let mut acc = 0i64;
                for l in 0..k {
                    let x = a[ao + i * plan.a_rs + l * plan.a_cs].to_i64();
                    let y = b[bo + l * plan.b_rs + j * plan.b_cs].to_i64();
                    acc = acc.wrapping_add(x.wrapping_mul(y));
                }
                out[bi * m * n + i * n + j] = T::from_i64(acc);
            }
        }
    }
}
