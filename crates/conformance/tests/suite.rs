//! Regression guard: every case listed in `baseline/onnx-pass.txt` must still pass.
//!
//! The suite lives outside the repository, in `../shared/conformance/onnx-node` next to the
//! workspace root; when it is absent the test prints a note and passes.
//!
//! To refresh the baseline after adding ops (only ever growing it):
//! `cargo run --release -p conformance -- baseline onnx ../shared/conformance/onnx-node crates/conformance/baseline/onnx-pass.txt`

use std::path::{Path, PathBuf};

use conformance::{Suite, read_baseline, regressions, run_suite};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/conformance is two levels below the workspace root")
        .to_path_buf()
}

#[test]
fn onnx_baseline_still_passes() {
    let suite_dir = workspace_root().join("../shared/conformance/onnx-node");
    if !suite_dir.is_dir() {
        println!(
            "note: {} not found; skipping the ONNX conformance regression check",
            suite_dir.display()
        );
        return;
    }
    let baseline_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("baseline/onnx-pass.txt");
    let baseline = read_baseline(&baseline_file).expect("baseline file");
    assert!(!baseline.is_empty(), "the baseline lists no cases");
    let mut sorted = baseline.clone();
    sorted.sort();
    assert_eq!(baseline, sorted, "keep {} sorted", baseline_file.display());

    let outcomes = run_suite(Suite::Onnx, &suite_dir, None, |_| {}).expect("suite runs");
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    println!("{passed} passed, {} failed", outcomes.len() - passed);
    let lost = regressions(&baseline, &outcomes);
    assert!(
        lost.is_empty(),
        "{} case(s) of the baseline no longer pass:\n{}",
        lost.len(),
        lost.join("\n")
    );
    let new: Vec<_> = outcomes
        .iter()
        .filter(|o| o.passed() && !baseline.contains(&o.name))
        .map(|o| o.name.as_str())
        .collect();
    if !new.is_empty() {
        println!("newly passing (consider adding to the baseline): {new:?}");
    }
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
