//! Regression guard: every case listed in `baseline/onnx-pass.txt` (ONNX node tests),
//! `baseline/grad-pass.txt` (PyTorch gradients), `baseline/optim-pass.txt` (PyTorch optimizer
//! trajectories) and `baseline/models-pass.txt` (PyTorch models) must still pass.
//!
//! The suites live outside the repository, in
//! `../shared/conformance/{onnx-node,torch-grad,torch-optim,torch-models}`
//! next to the workspace root; when they are absent the tests print a note and pass.
//!
//! To refresh a baseline after adding ops (only ever growing it):
//! `cargo run -p conformance -- baseline onnx ../shared/conformance/onnx-node crates/conformance/baseline/onnx-pass.txt`
//! `cargo run -p conformance -- baseline grad ../shared/conformance/torch-grad crates/conformance/baseline/grad-pass.txt`
//! `cargo run -p conformance -- baseline optim ../shared/conformance/torch-optim crates/conformance/baseline/optim-pass.txt`
//! `cargo run -p conformance -- baseline models ../shared/conformance/torch-models crates/conformance/baseline/models-pass.txt`

use std::path::{Path, PathBuf};

use conformance::{Suite, read_baseline, regressions, run_suite};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/conformance is two levels below the workspace root")
        .to_path_buf()
}

/// Runs `suite` from `../shared/conformance/<folder>` and fails if a case of `baseline/<file>`
/// no longer passes.
fn baseline_still_passes(suite: Suite, folder: &str, file: &str) {
    let suite_dir = workspace_root().join("../shared/conformance").join(folder);
    if !suite_dir.is_dir() {
        println!(
            "note: {} not found; skipping the {folder} conformance regression check",
            suite_dir.display()
        );
        return;
    }
    let baseline_file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("baseline")
        .join(file);
    let baseline = read_baseline(&baseline_file).expect("baseline file");
    assert!(!baseline.is_empty(), "the baseline lists no cases");
    let mut sorted = baseline.clone();
    sorted.sort();
    assert_eq!(baseline, sorted, "keep {} sorted", baseline_file.display());

    let outcomes = run_suite(suite, &suite_dir, None, |_| {}).expect("suite runs");
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    println!(
        "{folder}: {passed} passed, {} failed",
        outcomes.len() - passed
    );
    let lost = regressions(&baseline, &outcomes);
    assert!(
        lost.is_empty(),
        "{} case(s) of {file} no longer pass:\n{}",
        lost.len(),
        lost.join("\n")
    );
    let new: Vec<_> = outcomes
        .iter()
        .filter(|o| o.passed() && !baseline.contains(&o.name))
        .map(|o| o.name.as_str())
        .collect();
    if !new.is_empty() {
        println!("newly passing (consider adding to {file}): {new:?}");
    }
}

#[test]
fn onnx_baseline_still_passes() {
    baseline_still_passes(Suite::Onnx, "onnx-node", "onnx-pass.txt");
}

#[test]
fn grad_baseline_still_passes() {
    baseline_still_passes(Suite::Grad, "torch-grad", "grad-pass.txt");
}

#[test]
fn optim_baseline_still_passes() {
    baseline_still_passes(Suite::Optim, "torch-optim", "optim-pass.txt");
}

#[test]
fn models_baseline_still_passes() {
    baseline_still_passes(Suite::Models, "torch-models", "models-pass.txt");
}

#[test]
fn one_case_writes_its_outputs() {
    let case = workspace_root().join("../shared/conformance/onnx-node/test_add");
    if !case.is_dir() {
        println!("note: {} not found; skipping", case.display());
        return;
    }
    let out = std::env::temp_dir().join(format!("conformance-test-add-{}", std::process::id()));
    conformance::run_case_to_dir(Suite::Onnx, &case, &out).expect("test_add runs");
    let got = baeum::io::read_npy(out.join("output_0.npy")).unwrap();
    let expected = baeum::io::read_npy(case.join("output_0.npy")).unwrap();
    conformance::check::compare(&expected, &got, Default::default()).unwrap();
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn one_grad_case_writes_forward_and_gradients() {
    let case = workspace_root().join("../shared/conformance/torch-grad/add_scalar_tensor");
    if !case.is_dir() {
        println!("note: {} not found; skipping", case.display());
        return;
    }
    let out = std::env::temp_dir().join(format!("conformance-grad-add-{}", std::process::id()));
    conformance::run_case_to_dir(Suite::Grad, &case, &out).expect("add_scalar_tensor runs");
    for file in ["out_output.npy", "grad_a.npy", "grad_b.npy"] {
        let got = baeum::io::read_npy(out.join(file)).unwrap();
        let expected = baeum::io::read_npy(case.join(file)).unwrap();
        conformance::check::compare(&expected, &got, Suite::Grad.default_tolerance())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    std::fs::remove_dir_all(&out).unwrap();
}
