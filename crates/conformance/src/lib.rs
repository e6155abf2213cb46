//! Runs baeum against external conformance suites (`../shared/conformance`).
//!
//! A suite is a folder of cases, each a folder holding `case.json` plus `.npy` tensors. The
//! library part runs cases in-process ([`run_suite`]) or one at a time into an output folder
//! ([`run_case_to_dir`]), and compares results with the rules of the suites' Python checker
//! ([`check::compare`]). Each suite kind ([`Suite`]) knows how to evaluate its cases: `onnx`
//! (the ONNX node tests, forward only), `grad` (PyTorch forward results and gradients),
//! `optim` (PyTorch optimizer and scheduler trajectories) and `models` (whole PyTorch models:
//! state-dict loading, forward, loss and parameter gradients).

pub mod case;
pub mod check;
pub mod filter;
pub mod grad;
pub mod models;
pub mod onnx;
pub mod optim;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use baeum::Tensor;
use baeum::io::{StateDict, read_npy, write_npy};

pub use case::{AttrValue, Attrs, Case, Tolerance};
pub use filter::Filter;

/// A kind of suite: how its cases are evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    /// ONNX backend node tests: one operator per case.
    Onnx,
    /// PyTorch gradient cases (`torch-grad`): forward outputs and input gradients in f64.
    Grad,
    /// PyTorch optimizer and scheduler trajectories (`torch-optim`), float64.
    Optim,
    /// Whole PyTorch models (`torch-models`): load the state dict, eval forward, loss and
    /// parameter gradients, float64.
    Models,
}

impl Suite {
    /// The suite named on the command line.
    pub fn from_name(name: &str) -> Option<Suite> {
        match name {
            "onnx" => Some(Suite::Onnx),
            "grad" => Some(Suite::Grad),
            "optim" => Some(Suite::Optim),
            "models" => Some(Suite::Models),
            _ => None,
        }
    }

    /// The names [`Suite::from_name`] knows.
    pub const NAMES: &'static [&'static str] = &["onnx", "grad", "optim", "models"];

    /// The tolerance for cases that give none. ONNX cases use the suites' checker default
    /// (float32-friendly); the gradient cases are float64 references computed in float64, so
    /// they are held to a bound that only rounding passes.
    pub fn default_tolerance(self) -> Tolerance {
        match self {
            Suite::Onnx => Tolerance::default(),
            Suite::Grad => Tolerance {
                rtol: 1e-7,
                atol: 1e-9,
            },
            Suite::Optim => Tolerance {
                rtol: 1e-9,
                atol: 1e-12,
            },
            // The suite's cases give their own; this is what they give.
            Suite::Models => Tolerance {
                rtol: 1e-6,
                atol: 1e-9,
            },
        }
    }

    /// Evaluates a case, giving the tensors to write, as (file name, tensor).
    pub fn run(self, case: &Case) -> Result<Vec<(String, Tensor)>, String> {
        match self {
            Suite::Onnx => onnx::run_case(case),
            Suite::Grad => grad::run_case(case),
            Suite::Optim => optim::run_case(case),
            Suite::Models => models::run_case(case),
        }
    }
}

/// Where a case's expected tensors come from: `.npy` files in the case folder, and for the
/// models suite the parameter gradients in `grads.safetensors` (read once per case).
struct Expected<'c> {
    suite: Suite,
    case: &'c Case,
    grads: Option<StateDict>,
    /// The gradient keys compared so far, to find expected gradients nothing produced.
    seen: Vec<String>,
}

impl<'c> Expected<'c> {
    fn new(suite: Suite, case: &'c Case) -> Expected<'c> {
        Expected {
            suite,
            case,
            grads: None,
            seen: Vec::new(),
        }
    }

    fn grads(&mut self) -> Result<&StateDict, String> {
        if self.grads.is_none() {
            self.grads = Some(models::expected_grads(self.case)?);
        }
        Ok(self.grads.as_ref().expect("loaded just above"))
    }

    /// The expected tensor for output file `file`.
    fn get(&mut self, file: &str) -> Result<Tensor, String> {
        if self.suite == Suite::Models
            && let Some(key) = models::grad_key(file)
        {
            self.seen.push(key.to_string());
            return self
                .grads()?
                .get(key)
                .cloned()
                .ok_or_else(|| format!("grads.safetensors has no gradient for {key}"));
        }
        read_npy(self.case.dir.join(file)).map_err(|e| e.to_string())
    }

    /// Expected gradients that no produced file was compared with.
    fn unchecked(&mut self) -> Result<Vec<String>, String> {
        if self.suite != Suite::Models {
            return Ok(Vec::new());
        }
        let seen = std::mem::take(&mut self.seen);
        Ok(self
            .grads()?
            .keys()
            .filter(|k| !seen.iter().any(|s| s == k))
            .map(str::to_string)
            .collect())
    }
}

/// The outcome of one case.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub name: String,
    /// `None` if the case passed, else why it failed.
    pub failure: Option<String>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// Case folders of a suite (sub-folders holding `case.json`), sorted by name.
pub fn list_cases(suite_dir: &Path) -> Result<Vec<PathBuf>, String> {
    let rd = std::fs::read_dir(suite_dir)
        .map_err(|e| format!("cannot read suite folder {}: {e}", suite_dir.display()))?;
    let mut dirs: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("case.json").is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

static PANIC_MESSAGE: Mutex<Option<String>> = Mutex::new(None);

/// Runs `f`, turning a panic into `Err` with the panic's message and location. The panic
/// hook is replaced for the duration so that nothing is printed to stderr.
pub fn catch_panics<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(non-string panic payload)".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        *PANIC_MESSAGE.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("{msg}{at}"));
    }));
    let r = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    match r {
        Ok(r) => r,
        Err(_) => {
            let msg = PANIC_MESSAGE
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .unwrap_or_else(|| "unknown panic".into());
            Err(format!("panic: {msg}"))
        }
    }
}

/// Runs one case in-process and compares its outputs with the expected files.
pub fn check_case(suite: Suite, case_dir: &Path) -> Outcome {
    let fallback = case_dir
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let case = match Case::load(case_dir) {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                name: fallback,
                failure: Some(e),
            };
        }
    };
    let result = catch_panics(|| {
        let produced = suite.run(&case)?;
        if produced.is_empty() {
            return Err("case.json lists no outputs".into());
        }
        let tolerance = case.tolerance.unwrap_or(suite.default_tolerance());
        let mut problems = Vec::new();
        let mut expected_of = Expected::new(suite, &case);
        for (file, got) in &produced {
            let expected = expected_of.get(file)?;
            if let Err(e) = check::compare(&expected, got, tolerance) {
                problems.push(format!("{file}: {e}"));
            }
        }
        let unchecked = expected_of.unchecked()?;
        if !unchecked.is_empty() {
            problems.push(format!(
                "expected gradients not produced: {}",
                unchecked.join(", ")
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    });
    Outcome {
        name: case.name,
        failure: result.err(),
    }
}

/// Runs one case and writes its outputs into `out_dir` (the `run_suite.sh` contract).
pub fn run_case_to_dir(suite: Suite, case_dir: &Path, out_dir: &Path) -> Result<(), String> {
    let case = Case::load(case_dir)?;
    let produced = catch_panics(|| suite.run(&case))?;
    std::fs::create_dir_all(out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    for (file, t) in produced {
        write_npy(out_dir.join(&file), &t).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Runs every case of a suite (those whose name matches `filter`), calling `report` after each.
pub fn run_suite(
    suite: Suite,
    suite_dir: &Path,
    filter: Option<&Filter>,
    mut report: impl FnMut(&Outcome),
) -> Result<Vec<Outcome>, String> {
    let mut outcomes = Vec::new();
    for dir in list_cases(suite_dir)? {
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        if filter.is_some_and(|f| !f.matches(&name)) {
            continue;
        }
        let o = check_case(suite, &dir);
        report(&o);
        outcomes.push(o);
    }
    Ok(outcomes)
}

/// The baseline file's text: the passing case names, sorted, one per line.
pub fn baseline_text(outcomes: &[Outcome]) -> String {
    let mut names: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.passed())
        .map(|o| o.name.as_str())
        .collect();
    names.sort_unstable();
    names.iter().map(|n| format!("{n}\n")).collect()
}

/// Reads a baseline file: case names, one per line (blank lines and `#` comments ignored).
pub fn read_baseline(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read baseline {}: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// The names in `baseline` that did not pass in `outcomes` (missing cases count as failed),
/// each with its reason.
pub fn regressions(baseline: &[String], outcomes: &[Outcome]) -> Vec<String> {
    baseline
        .iter()
        .filter_map(|name| match outcomes.iter().find(|o| &o.name == name) {
            Some(o) => o.failure.as_ref().map(|f| format!("{name}: {f}")),
            None => Some(format!("{name}: case not found in the suite")),
        })
        .collect()
}
