//! W0: f32 matrix product C = A·B for square n ∈ {128, 512, 1024, 2048}: GFLOP/s of
//! `Tensor::matmul` (which allocates its output, as `torch.mm` does) and of the `gemm` crate
//! called directly on the same buffers (baeum's ceiling, since its kernel calls `gemm`).

use baeum::{DType, Generator, Tensor};

use crate::Row;
use crate::timing::time_pair;

pub const SIZES: [usize; 4] = [128, 512, 1024, 2048];

/// Calls per size: about `budget` floating-point operations' worth, at least 5 (3 with
/// `--quick`); each call is timed alone and the median taken. Same rule in torch_ref.py.
pub fn reps(n: usize, quick: bool) -> usize {
    let (budget, least) = if quick { (2e8, 3) } else { (2e9, 5) };
    ((budget / (2.0 * (n * n * n) as f64)) as usize).clamp(least, 200)
}

/// C = A·B by the `gemm` crate on row-major n×n buffers, with rayon's threads.
pub fn gemm_direct(a: &[f32], b: &[f32], c: &mut [f32], n: usize) {
    assert!(a.len() == n * n && b.len() == n * n && c.len() == n * n);
    // SAFETY: all three buffers hold n·n elements (checked above), row-major with row stride n.
    unsafe {
        gemm::gemm(
            n,
            n,
            n,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            n as isize,
            b.as_ptr(),
            1,
            n as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(0),
        )
    }
}

pub fn run(quick: bool) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut g = Generator::new(0);
    for n in SIZES {
        let a = Tensor::uniform_with([n, n], -1.0, 1.0, DType::F32, &mut g);
        let b = Tensor::uniform_with([n, n], -1.0, 1.0, DType::F32, &mut g);
        let reps = reps(n, quick);
        let flop = 2.0 * (n * n * n) as f64;
        let (va, vb) = (a.to_vec::<f32>(), b.to_vec::<f32>());
        let mut dst = vec![0f32; n * n];
        // Alternating calls, so that both figures see the same machine (its clock and its
        // neighbours' load drift over a run).
        let (t_baeum, t_gemm) = time_pair(
            reps,
            || {
                std::hint::black_box(a.matmul(&b));
            },
            || {
                gemm_direct(&va, &vb, &mut dst, n);
                std::hint::black_box(&dst);
            },
        );
        for (imp, t) in [("baeum", t_baeum), ("gemm", t_gemm)] {
            rows.push(Row {
                workload: "W0",
                name: format!("matmul f32 n={n}"),
                imp,
                metric: "gflops",
                median: flop / t / 1e9,
                n: Some(n),
            });
        }
    }
    rows
}
