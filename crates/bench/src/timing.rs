//! How a figure is taken: warm-up, then repeats of many calls, the median repeat; and the
//! process's peak resident memory. `bench/torch_ref.py` times with the same plan.

use std::time::Instant;

/// Warm-up calls, timed repeats, and calls per repeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub warmup: usize,
    pub repeats: usize,
    pub steps: usize,
}

impl Plan {
    /// The suite's definition for model workloads: ≥ 5 repeats of ≥ 100 steps after a warm-up.
    pub const FULL: Plan = Plan {
        warmup: 10,
        repeats: 5,
        steps: 100,
    };
    /// A check that everything runs, with rough numbers (`--quick`).
    pub const QUICK: Plan = Plan {
        warmup: 2,
        repeats: 3,
        steps: 10,
    };

    pub fn new(quick: bool) -> Plan {
        if quick { Plan::QUICK } else { Plan::FULL }
    }
}

pub fn median(mut v: Vec<f64>) -> f64 {
    assert!(!v.is_empty(), "median of nothing");
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Runs `f` `plan.warmup` times, then `plan.repeats` × `plan.steps` times, and returns the
/// median over repeats of the seconds per call.
pub fn per_call(plan: Plan, mut f: impl FnMut()) -> f64 {
    for _ in 0..plan.warmup {
        f();
    }
    let v = (0..plan.repeats)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..plan.steps {
                f();
            }
            t.elapsed().as_secs_f64() / plan.steps as f64
        })
        .collect();
    median(v)
}

/// Runs `f` `reps` times (after one warm-up) and returns the median seconds per call (one call
/// per repeat: for calls long enough to time alone, such as a large matmul).
pub fn time(reps: usize, f: impl FnMut()) -> f64 {
    per_call(
        Plan {
            warmup: 1,
            repeats: reps,
            steps: 1,
        },
        f,
    )
}

/// Like [`time`] for two calls at once, alternating `f` and `g` call by call: the median
/// seconds per call of each.
pub fn time_pair(reps: usize, mut f: impl FnMut(), mut g: impl FnMut()) -> (f64, f64) {
    f();
    g();
    let (mut tf, mut tg) = (Vec::with_capacity(reps), Vec::with_capacity(reps));
    for _ in 0..reps {
        let t = Instant::now();
        f();
        tf.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        g();
        tg.push(t.elapsed().as_secs_f64());
    }
    (median(tf), median(tg))
}

/// Peak resident memory of this process in MiB (Linux's VmHWM), if known.
pub fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
