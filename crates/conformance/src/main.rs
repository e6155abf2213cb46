//! `conformance`: runs baeum against the external conformance suites.
//!
//! ```text
//! conformance onnx CASE_DIR OUT_DIR              run one case, write its outputs (run_suite.sh)
//! conformance grad CASE_DIR OUT_DIR              the same for a torch-grad case
//! conformance optim CASE_DIR OUT_DIR             the same for a torch-optim case
//! conformance models CASE_DIR OUT_DIR            the same for a torch-models case
//! conformance run KIND SUITE_DIR [--filter PAT]  run every case in-process, PASS/FAIL per case
//! conformance baseline KIND SUITE_DIR FILE       write the passing case names to FILE
//! ```
//!
//! KIND is `onnx` (`../shared/conformance/onnx-node`), `grad` (`../shared/conformance/torch-grad`),
//! `optim` (`../shared/conformance/torch-optim`) or `models` (`../shared/conformance/torch-models`).

use std::path::Path;
use std::process::ExitCode;

use conformance::{Filter, Suite, baseline_text, run_case_to_dir, run_suite};

const USAGE: &str = "usage:
  conformance KIND CASE_DIR OUT_DIR
  conformance run KIND SUITE_DIR [--filter PATTERN]
  conformance baseline KIND SUITE_DIR FILE [--filter PATTERN]
KIND: onnx (ONNX node tests), grad (PyTorch gradient cases), optim (PyTorch optimizer
      trajectories) or models (PyTorch models: state dict, forward, loss, gradients)
PATTERN: a regex subset (literals . * + ? ^ $ | ( )) or a plain substring";

fn suite(name: &str) -> Result<Suite, String> {
    Suite::from_name(name).ok_or_else(|| {
        format!(
            "unknown suite '{name}' (known: {})",
            Suite::NAMES.join(", ")
        )
    })
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut filter = None;
    if let Some(i) = args.iter().position(|a| a == "--filter" || a == "-f") {
        if i + 1 >= args.len() {
            eprintln!("--filter needs a pattern\n{USAGE}");
            return ExitCode::from(2);
        }
        filter = Some(Filter::new(&args[i + 1]));
        args.drain(i..i + 2);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["run", kind, dir] => suite(kind).and_then(|s| {
            let outcomes = run_suite(s, Path::new(dir), filter.as_ref(), |o| match &o.failure {
                None => println!("PASS {}", o.name),
                Some(r) => println!("FAIL {}: {r}", o.name),
            })?;
            let passed = outcomes.iter().filter(|o| o.passed()).count();
            let failed = outcomes.len() - passed;
            println!("{passed} passed, {failed} failed");
            if failed == 0 {
                Ok(())
            } else {
                Err(String::new())
            }
        }),
        ["baseline", kind, dir, file] => suite(kind).and_then(|s| {
            let outcomes = run_suite(s, Path::new(dir), filter.as_ref(), |_| {})?;
            let text = baseline_text(&outcomes);
            std::fs::write(file, &text).map_err(|e| format!("cannot write {file}: {e}"))?;
            println!(
                "{} of {} cases pass; written to {file}",
                text.lines().count(),
                outcomes.len()
            );
            Ok(())
        }),
        [kind, case, out] if Suite::from_name(kind).is_some() => {
            suite(kind).and_then(|s| run_case_to_dir(s, Path::new(case), Path::new(out)))
        }
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            ExitCode::FAILURE
        }
    }
}
