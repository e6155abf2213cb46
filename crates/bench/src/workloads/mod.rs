//! The workloads, one file per family, and the registry the binary dispatches on.

pub mod cnn;
pub mod elementwise;
pub mod matmul;
pub mod mlp;
pub mod rnn;
pub mod tiny;

use crate::Row;
use crate::job::TrainJob;
use crate::timing::{Plan, per_call};

/// Every workload's inputs and initial weights come from this seed.
pub const SEED: u64 = 0;

/// A workload: its id, and how to run it (`quick` or not) into rows.
pub type Runner = fn(bool) -> Vec<Row>;

/// Every workload in the order `bench` lists them.
pub const ALL: &[(&str, Runner)] = &[
    ("W0", matmul::run),
    ("EW", elementwise::run),
    ("W1", mlp::run),
    ("W2", cnn::run_w2),
    ("W3", cnn::run_w3),
    ("W4", rnn::run_w4),
    ("W5", cnn::run_w5),
    ("W6", tiny::run),
    ("W7", cnn::run_w7),
    ("W8", rnn::run_w8),
];

/// Looks a workload up by id (any case).
pub fn find(id: &str) -> Option<Runner> {
    ALL.iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(id))
        .map(|&(_, run)| run)
}

/// The model of a workload, or a panic with the reason (the definitions are fixed, so an
/// error here is a bug in baeum or in the bench).
pub(crate) fn built<T>(r: baeum::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("bench: could not build the model: {e}"))
}

/// Times `job.step()` with the plan and reports training steps per second.
pub fn steps_per_s(workload: &'static str, name: &str, quick: bool, mut job: TrainJob) -> Row {
    let t = per_call(Plan::new(quick), || {
        job.step().expect("a training step of the benchmark failed");
    });
    Row {
        workload,
        name: name.to_string(),
        imp: "baeum",
        metric: "steps_per_s",
        median: 1.0 / t,
        n: None,
    }
}
