//! `bench`: baeum's benchmark workloads. Prints a table, or with `--json` one JSON object per
//! line. Each figure is the median of several timed repeats after a warm-up.
//!
//! ```text
//! cargo run --release -p bench -- [--json] [--quick] [W0] [EW] [W6]
//! ```
//! - `W0`: f32 matrix product C = A·B for square n ∈ {128, 512, 1024, 2048}: GFLOP/s of
//!   `Tensor::matmul` and of the `gemm` crate called directly on the same buffers.
//! - `EW`: 16M-element f32 add, mul and exp: GB/s moved, beside a parallel memory copy of the
//!   same size (the bandwidth ceiling).
//! - `W6`: per-step overhead of a tiny graph: linear regression H = W·x + b on x = y = [1, 2, 3]
//!   with scalar W and b; one step is forward, MSE, backward and an SGD update (µs per step).
//!   `bench/torch_ref.py W6` runs the same loop in PyTorch.

use std::time::Instant;

// mimalloc keeps freed pages for reuse, so a large output buffer is not page-faulted afresh
// on every operation (glibc returns big blocks to the OS at once).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use baeum::{DType, Generator, Tensor};
use rayon::prelude::*;

struct Row {
    workload: &'static str,
    name: String,
    imp: &'static str,
    metric: &'static str,
    median: f64,
    n: Option<usize>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Runs `f` `reps` times (after one warm-up) and returns the median seconds per call.
fn time(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let v = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    median(v)
}

/// Peak resident memory of this process in MiB (Linux), if known.
fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn w0(quick: bool, rows: &mut Vec<Row>) {
    let sizes: &[usize] = if quick {
        &[128, 512]
    } else {
        &[128, 512, 1024, 2048]
    };
    let mut g = Generator::new(0);
    for &n in sizes {
        let a = Tensor::uniform_with([n, n], -1.0, 1.0, DType::F32, &mut g);
        let b = Tensor::uniform_with([n, n], -1.0, 1.0, DType::F32, &mut g);
        let reps = (2_000_000_000 / (2 * n * n * n)).clamp(5, 200);
        let flop = 2.0 * (n * n * n) as f64;
        let t_baeum = time(reps, || {
            std::hint::black_box(a.matmul(&b));
        });
        let (va, vb) = (a.to_vec::<f32>(), b.to_vec::<f32>());
        let mut dst = vec![0f32; n * n];
        let t_gemm = time(reps, || {
            // SAFETY: all three buffers hold n·n elements in row-major order.
            unsafe {
                gemm::gemm(
                    n,
                    n,
                    n,
                    dst.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    va.as_ptr(),
                    1,
                    n as isize,
                    vb.as_ptr(),
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
            std::hint::black_box(&dst);
        });
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
}

fn ew(quick: bool, rows: &mut Vec<Row>) {
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
    let mut push = |name: &str, imp: &'static str, v: f64| {
        rows.push(Row {
            workload: "EW",
            name: name.to_string(),
            imp,
            metric: "gbps",
            median: v,
            n: Some(n),
        })
    };
    push("copy (bandwidth)", "memcpy", gb(2, t_copy));
    push("add", "baeum", gb(3, time(reps, || drop(&a + &b))));
    push("mul", "baeum", gb(3, time(reps, || drop(&a * &b))));
    push("exp", "baeum", gb(2, time(reps, || drop(a.exp()))));
}

fn w6(quick: bool, rows: &mut Vec<Row>) {
    let steps = 2000;
    let reps = if quick { 3 } else { 7 };
    let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [3]);
    let y = x.clone();
    let lr = Tensor::scalar(0.01f32);
    let t = time(reps, || {
        let w = Tensor::param(&Tensor::scalar(0.5f32));
        let b = Tensor::param(&Tensor::scalar(0.1f32));
        for _ in 0..steps {
            let h = &w * &x + &b;
            let d = &h - &y;
            let loss = (&d * &d).mean();
            loss.backward();
            baeum::autograd::no_grad(|| {
                for p in [&w, &b] {
                    p.sub_(&(&p.grad().expect("a gradient reached the parameter") * &lr));
                    p.zero_grad();
                }
            });
        }
        std::hint::black_box(&w);
    });
    rows.push(Row {
        workload: "W6",
        name: "tiny graph step".into(),
        imp: "baeum",
        metric: "us_per_step",
        median: t / steps as f64 * 1e6,
        n: None,
    });
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let quick = args.iter().any(|a| a == "--quick");
    let mut chosen: Vec<String> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(|a| a.to_uppercase())
        .collect();
    if chosen.is_empty() {
        chosen = vec!["W0".into(), "EW".into()];
    }
    let mut rows = Vec::new();
    for w in &chosen {
        match w.as_str() {
            "W0" => w0(quick, &mut rows),
            "EW" => ew(quick, &mut rows),
            "W6" => w6(quick, &mut rows),
            other => {
                eprintln!("bench: unknown workload {other} (known: W0, EW, W6)");
                std::process::exit(2);
            }
        }
    }
    let rss = peak_rss_mib();
    if json {
        for r in &rows {
            let mut o = serde_json::json!({
                "workload": r.workload, "name": r.name, "impl": r.imp,
                "metric": r.metric, "median": r.median, "peak_rss_mib": rss,
            });
            if let Some(n) = r.n {
                o["n"] = n.into();
            }
            println!("{o}");
        }
        return;
    }
    println!("threads: {}", rayon::current_num_threads());
    println!(
        "{:<4} {:<22} {:<7} {:>10} {:<7}",
        "wl", "case", "impl", "median", "unit"
    );
    for r in &rows {
        println!(
            "{:<4} {:<22} {:<7} {:>10.2} {:<7}",
            r.workload, r.name, r.imp, r.median, r.metric
        );
    }
    // Ratios the foundation issue sets goals for.
    for pair in rows.chunks(2).filter(|p| p[0].workload == "W0") {
        println!(
            "{}: baeum / gemm = {:.3}",
            pair[0].name,
            pair[0].median / pair[1].median
        );
    }
    if let Some(copy) = rows.iter().find(|r| r.imp == "memcpy") {
        for r in rows
            .iter()
            .filter(|r| r.workload == "EW" && r.imp == "baeum")
        {
            println!(
                "{}: bandwidth / baeum = {:.2}",
                r.name,
                copy.median / r.median
            );
        }
    }
    if let Some(m) = rss {
        println!("peak RSS: {m:.0} MiB");
    }
}
