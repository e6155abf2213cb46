//! EW: 16M-element f32 add, mul and exp (4M with `--quick`): GB/s moved, beside a parallel
//! memory copy of the same size (the bandwidth ceiling).

use baeum::{DType, Generator, Tensor};
use rayon::prelude::*;

use crate::Row;
use crate::timing::time;

pub fn run(quick: bool) -> Vec<Row> {
    let n = if quick { 1 << 22 } else { 1 << 24 };
    let mut g = Generator::new(1);
    let a = Tensor::uniform_with([n], -1.0, 1.0, DType::F32, &mut g);
    let b = Tensor::uniform_with([n], -1.0, 1.0, DType::F32, &mut g);
    let reps = if quick { 5 } else { 11 };
    let gb = |arrays: usize, t: f64| (arrays * n * 4) as f64 / t / 1e9;
    let src = a.to_vec::<f32>();
    let mut dst = vec![0f32; n];
    let t_copy = time(reps, || {
        dst.par_chunks_mut(1 << 16)
            .zip(src.par_chunks(1 << 16))
            .for_each(|(d, s)| d.copy_from_slice(s));
        std::hint::black_box(&dst);
    });
    let row = |name: &str, imp: &'static str, v: f64| Row {
        workload: "EW",
        name: name.to_string(),
        imp,
        metric: "gbps",
        median: v,
        n: Some(n),
    };
    vec![
        row("copy (bandwidth)", "memcpy", gb(2, t_copy)),
        row("add", "baeum", gb(3, time(reps, || drop(&a + &b)))),
        row("mul", "baeum", gb(3, time(reps, || drop(&a * &b)))),
        row("exp", "baeum", gb(2, time(reps, || drop(a.exp())))),
    ]
}
