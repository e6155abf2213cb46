//! Helpers shared by the test files: the weights and inputs of `fixtures/reference/make_reference.py`,
//! computed by the same formula here, and the paths of the fixtures and of ../shared.

#![allow(dead_code)]

use std::path::PathBuf;

use baeum::Tensor;
use baeum::io::{StateDict, read_npy};
use baeum::nn::{Layer, ModuleExt};

/// The fixtures folder of this crate.
pub fn fixture(name: &str) -> Tensor {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reference")
        .join(name);
    read_npy(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// `../shared/conformance/torch-models` beside the workspace, if this checkout has it.
pub fn torch_models() -> Option<PathBuf> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/torch-models");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "note: {} is absent; skipping the checks against PyTorch's listing",
            dir.display()
        );
        None
    }
}

/// Loads the formula weights of make_reference.py: for the keys in sorted order (key j,
/// element i), s = sin(0.37·i + 0.11·j); conv/linear weights s·√(6/fan_in), other weights
/// 1 + 0.1·s, biases and running means 0.1·s, running variances 1 + 0.5·s².
pub fn load_formula_weights(model: &dyn Layer) {
    let own = model.state_dict();
    let mut keys: Vec<String> = own.keys().map(str::to_string).collect();
    keys.sort();
    let mut state = StateDict::new();
    for (j, key) in keys.iter().enumerate() {
        let t = own.get(key).unwrap();
        if key.ends_with("num_batches_tracked") {
            state.insert(key.clone(), t.clone());
            continue;
        }
        let dims = t.dims().to_vec();
        let n = t.numel();
        let s = |i: usize| (0.37 * i as f64 + 0.11 * j as f64).sin();
        let v: Vec<f64> = if key.ends_with("running_var") {
            (0..n).map(|i| 1.0 + 0.5 * s(i) * s(i)).collect()
        } else if key.ends_with("weight") && dims.len() >= 2 {
            let fan_in = (n / dims[0]) as f64;
            (0..n).map(|i| s(i) * (6.0 / fan_in).sqrt()).collect()
        } else if key.ends_with("weight") {
            (0..n).map(|i| 1.0 + 0.1 * s(i)).collect()
        } else {
            (0..n).map(|i| 0.1 * s(i)).collect()
        };
        state.insert(key.clone(), Tensor::from_vec(v, dims));
    }
    model.load_state_dict(&state, true).unwrap();
    model.eval();
}

/// The formula input: element i of the flattened `[N, C, H, W]` is sin(0.05·i + 0.3), in f32.
pub fn formula_input(dims: &[usize]) -> Tensor {
    let n: usize = dims.iter().product();
    let v: Vec<f32> = (0..n)
        .map(|i| (0.05 * i as f64 + 0.3).sin() as f32)
        .collect();
    Tensor::from_vec(v, dims.to_vec())
}

/// Largest |a − b| over two tensors of the same shape.
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.dims(), b.dims(), "shapes differ");
    a.to_vec::<f64>()
        .iter()
        .zip(b.to_vec::<f64>())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Largest |x| of a tensor.
pub fn max_abs(a: &Tensor) -> f64 {
    a.to_vec::<f64>().iter().fold(0.0, |m, x| m.max(x.abs()))
}
