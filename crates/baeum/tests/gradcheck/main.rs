//! Gradchecks every differentiable operation against central finite differences (f64), and
//! fails if an operation listed in `autograd::registry` was not covered by any check.
//!
//! Each family's cases live in their own module as `pub fn cases() -> Vec<Case>`.

mod binary;
mod elementwise;
mod linalg;
mod loss;
mod nn;
mod reduce;
mod shape;

use std::collections::BTreeSet;

use baeum::Tensor;
use baeum::autograd::gradcheck::{GradcheckOptions, gradcheck_with, gradgradcheck};
use baeum::autograd::registry;

/// A function checked by gradcheck.
pub type CheckedFn = Box<dyn Fn(&[Tensor]) -> Tensor>;

/// One check: a name, the function and the inputs it is checked at.
pub struct Case {
    pub name: &'static str,
    pub f: CheckedFn,
    pub inputs: Vec<Tensor>,
    /// Also check second derivatives (create_graph through the rule).
    pub second_order: bool,
    pub options: GradcheckOptions,
}

impl Case {
    pub fn new(
        name: &'static str,
        inputs: Vec<Tensor>,
        f: impl Fn(&[Tensor]) -> Tensor + 'static,
    ) -> Case {
        Case {
            name,
            f: Box::new(f),
            inputs,
            second_order: false,
            options: GradcheckOptions::default(),
        }
    }

    /// Checks with other tolerances (e.g. a larger step through f32 computations).
    pub fn options(mut self, options: GradcheckOptions) -> Case {
        self.options = options;
        self
    }

    /// Also gradgradcheck this case.
    pub fn twice(mut self) -> Case {
        self.second_order = true;
        self
    }
}

/// A seeded f64 tensor with values in [lo, hi).
pub fn uniform(shape: &[usize], lo: f64, hi: f64, seed: u64) -> Tensor {
    let mut g = baeum::Generator::new(seed);
    Tensor::uniform_with(shape.to_vec(), lo, hi, baeum::DType::F64, &mut g)
}

fn all_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(binary::cases());
    cases.extend(elementwise::cases());
    cases.extend(reduce::cases());
    cases.extend(shape::cases());
    cases.extend(linalg::cases());
    cases.extend(nn::cases());
    cases.extend(loss::cases());
    cases
}

#[test]
fn every_case_passes_gradcheck_and_every_registered_op_is_covered() {
    let mut covered = BTreeSet::new();
    let mut failures = Vec::new();
    for case in all_cases() {
        let report = gradcheck_with(&case.f, &case.inputs, case.options);
        covered.extend(report.ops.iter().copied());
        if !report.passed() {
            failures.push(format!("{}: {report}", case.name));
        }
        if case.second_order {
            let report = gradgradcheck(&case.f, &case.inputs);
            if !report.passed() {
                failures.push(format!("{} (second order): {report}", case.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "gradcheck failures:\n{}",
        failures.join("\n")
    );
    let missing: Vec<&str> = registry::differentiable_ops()
        .filter(|op| !covered.contains(op))
        .collect();
    assert!(
        missing.is_empty(),
        "operations that record a node but no gradcheck case exercises: {missing:?}"
    );
}
