//! `bench`: times baeum's benchmark workloads (see the library's docs for their definitions).
//! Prints a table, or with `--json` one JSON object per line; `bench/compare.py` runs each
//! workload here and in `bench/torch_ref.py` and prints the ratios.
//!
//! ```text
//! cargo run --release -p bench -- [--json] [--quick] [--threads N] [W0 EW W1 … W8 | all]
//! ```
//! With no workload named, runs W0 and EW (as torch_ref.py does).

use bench::Row;
use bench::timing::peak_rss_mib;
use bench::workloads;

// mimalloc keeps freed pages for reuse, so a large output buffer is not page-faulted afresh
// on every operation (glibc returns big blocks to the OS at once).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (the same index in its v2 and v3 headers).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory committed: by default mimalloc hands pages back to the OS 10 ms after
/// they are freed, so every training step faulted its ~100 MB of buffers in afresh (7% of
/// W3's time in the kernel's page clearing). Peak memory is unchanged.
fn keep_freed_pages() {
    // SAFETY: sets an integer option; mimalloc reads it at its next purge.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

struct Args {
    json: bool,
    quick: bool,
    threads: usize,
    chosen: Vec<String>,
}

fn usage(msg: &str) -> ! {
    let known: Vec<&str> = workloads::ALL.iter().map(|(id, _)| *id).collect();
    eprintln!("bench: {msg}");
    eprintln!(
        "usage: bench [--json] [--quick] [--threads N] [WORKLOAD… | all]  (workloads: {})",
        known.join(", ")
    );
    std::process::exit(2);
}

fn parse_args() -> Args {
    let mut args = Args {
        json: false,
        quick: false,
        // The suite's definition: two threads on both sides.
        threads: 2,
        chosen: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => args.json = true,
            "--quick" => args.quick = true,
            "--threads" => {
                args.threads = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .unwrap_or_else(|| usage("--threads needs a positive number"))
            }
            "-h" | "--help" => usage("benchmarks of baeum"),
            s if s.starts_with("--") => usage(&format!("unknown option {s}")),
            "all" => args
                .chosen
                .extend(workloads::ALL.iter().map(|(id, _)| id.to_string())),
            s => args.chosen.push(s.to_uppercase()),
        }
    }
    if args.chosen.is_empty() {
        args.chosen = vec!["W0".into(), "EW".into()];
    }
    args
}

fn main() {
    keep_freed_pages();
    let args = parse_args();
    let runners: Vec<_> = args
        .chosen
        .iter()
        .map(|w| workloads::find(w).unwrap_or_else(|| usage(&format!("unknown workload {w}"))))
        .collect();
    rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build_global()
        .expect("the rayon pool is built once, before any parallel work");
    let rows: Vec<Row> = runners.iter().flat_map(|run| run(args.quick)).collect();
    let rss = peak_rss_mib();
    if args.json {
        for r in &rows {
            let mut o = serde_json::json!({
                "workload": r.workload, "name": r.name, "impl": r.imp,
                "metric": r.metric, "median": r.median, "peak_rss_mib": rss,
                "threads": args.threads, "quick": args.quick,
            });
            if let Some(n) = r.n {
                o["n"] = n.into();
            }
            println!("{o}");
        }
    } else {
        print_table(&rows, args.threads, rss);
    }
}

fn print_table(rows: &[Row], threads: usize, rss: Option<f64>) {
    println!("threads: {threads}");
    println!(
        "{:<4} {:<34} {:<7} {:>10} {:<14}",
        "wl", "case", "impl", "median", "unit"
    );
    for r in rows {
        println!(
            "{:<4} {:<34} {:<7} {:>10.2} {:<14}",
            r.workload, r.name, r.imp, r.median, r.metric
        );
    }
    // Ratios the foundation issue sets goals for.
    let w0: Vec<&Row> = rows.iter().filter(|r| r.workload == "W0").collect();
    for pair in w0.chunks(2) {
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
