//! PyTorch optimizer trajectories (`torch-optim`) replayed with `baeum::optim`.
//!
//! A case names an optimizer and its hyper-parameters in PyTorch's names, optionally a
//! learning-rate scheduler (`"StepLR(step_size=7, gamma=0.5), stepped once per step"`), the
//! initial parameters and the gradient given at every step. [`run_case`] follows the protocol
//! of the suite's README: for each step it sets every gradient, steps the optimizer, then the
//! scheduler (ReduceLROnPlateau with `metric[k]`), and records the parameters and the first
//! group's learning rate. It returns `expected_p{i}.npy` (shape `[steps, ...]`) and
//! `expected_lr.npy`, which the runner compares with PyTorch's.
//!
//! Every hyper-parameter name is mapped explicitly: an unknown optimizer, scheduler or
//! hyper-parameter is a failure with its reason, never silently ignored.

use baeum::io::read_npy;
use baeum::optim::{
    Adadelta, AdadeltaOptions, Adagrad, AdagradOptions, Adam, AdamOptions, AdamW, AdamWOptions,
    CosineAnnealingLr, ExponentialLr, HyperValue, LinearLr, LrScheduler, MultiStepLr, NAdam,
    NAdamOptions, Optimizer, Options, ParamGroup, PlateauMode, ReduceLrOnPlateau, Rmsprop,
    RmspropOptions, Sgd, SgdOptions, StepLr, ThresholdMode,
};
use baeum::{DType, Tensor};
use serde_json::Value;

use crate::case::Case;

/// Flags of PyTorch's optimizers that choose an implementation, not the arithmetic: accepted
/// only with their default (off / unset) value.
const IMPLEMENTATION_FLAGS: &[&str] = &["foreach", "fused", "capturable", "differentiable"];

/// A hyper-parameter's JSON value as a [`HyperValue`].
fn hyper_value(name: &str, v: &Value) -> Result<HyperValue, String> {
    match v {
        Value::Bool(b) => Ok(HyperValue::Bool(*b)),
        Value::Number(n) => n
            .as_f64()
            .map(HyperValue::Float)
            .ok_or_else(|| format!("hyper-parameter {name}: {v} is not a number")),
        Value::Array(items) => match items.as_slice() {
            [a, b] => match (a.as_f64(), b.as_f64()) {
                (Some(a), Some(b)) => Ok(HyperValue::Pair(a, b)),
                _ => Err(format!(
                    "hyper-parameter {name}: {v} is not a pair of numbers"
                )),
            },
            _ => Err(format!("hyper-parameter {name}: {v} is not a pair")),
        },
        _ => Err(format!("hyper-parameter {name}: unsupported value {v}")),
    }
}

/// The options `O` with the case's hyper-parameters (all but `lr`) applied by name.
fn options<O: Options>(hyper: &serde_json::Map<String, Value>) -> Result<O, String> {
    let mut o = O::default();
    for (name, v) in hyper {
        if name == "lr" {
            continue;
        }
        if IMPLEMENTATION_FLAGS.contains(&name.as_str()) {
            if v.is_null() || v == &Value::Bool(false) {
                continue;
            }
            return Err(format!(
                "{}: `{name}={v}` selects an implementation that baeum does not have",
                O::OPTIMIZER
            ));
        }
        o.set(name, hyper_value(name, v)?)
            .map_err(|e| e.to_string())?;
    }
    Ok(o)
}

/// Builds the optimizer the case names over `params`.
pub fn build_optimizer(
    name: &str,
    hyper: &serde_json::Map<String, Value>,
    params: Vec<Tensor>,
) -> Result<Box<dyn Optimizer>, String> {
    let lr = |default: f64| -> Result<f64, String> {
        match hyper.get("lr") {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .ok_or_else(|| format!("hyper-parameter lr: {v} is not a number")),
        }
    };
    let groups = vec![ParamGroup::new(params)];
    let e = |e: baeum::Error| e.to_string();
    Ok(match name {
        "SGD" => Box::new(
            Sgd::with_options(groups, lr(1e-3)?, options::<SgdOptions>(hyper)?).map_err(e)?,
        ),
        "Adagrad" => Box::new(
            Adagrad::with_options(groups, lr(1e-2)?, options::<AdagradOptions>(hyper)?)
                .map_err(e)?,
        ),
        "RMSprop" => Box::new(
            Rmsprop::with_options(groups, lr(1e-2)?, options::<RmspropOptions>(hyper)?)
                .map_err(e)?,
        ),
        "Adadelta" => Box::new(
            Adadelta::with_options(groups, lr(1.0)?, options::<AdadeltaOptions>(hyper)?)
                .map_err(e)?,
        ),
        "Adam" => Box::new(
            Adam::with_options(groups, lr(1e-3)?, options::<AdamOptions>(hyper)?).map_err(e)?,
        ),
        "AdamW" => Box::new(
            AdamW::with_options(groups, lr(1e-3)?, options::<AdamWOptions>(hyper)?).map_err(e)?,
        ),
        "NAdam" => Box::new(
            NAdam::with_options(groups, lr(2e-3)?, options::<NAdamOptions>(hyper)?).map_err(e)?,
        ),
        other => {
            return Err(format!(
                "unknown optimizer {other} (known: SGD, Adagrad, RMSprop, Adadelta, Adam, \
                 AdamW, NAdam)"
            ));
        }
    })
}

/// A scheduler argument: a number, a word (`min`, `rel`, `True`) or a list of numbers.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Number(f64),
    Word(String),
    List(Vec<f64>),
}

/// A scheduler as the case describes it: its name and keyword arguments, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct SchedulerSpec {
    pub name: String,
    pub args: Vec<(String, Arg)>,
}

fn parse_arg(text: &str) -> Result<Arg, String> {
    let t = text.trim();
    if let Some(inner) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        let items = inner
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<f64>()
                    .map_err(|_| format!("scheduler argument list {t}: {s} is not a number"))
            })
            .collect::<Result<_, _>>()?;
        return Ok(Arg::List(items));
    }
    if let Ok(v) = t.parse::<f64>() {
        return Ok(Arg::Number(v));
    }
    let word = t.trim_matches(|c| c == '\'' || c == '"');
    if word.is_empty() {
        return Err(format!("empty scheduler argument in `{text}`"));
    }
    Ok(Arg::Word(word.to_string()))
}

/// Parses `"Name(k=v, k=[a, b]), anything after"`; a JSON object
/// `{"name": .., "k": v}` is accepted too.
pub fn parse_scheduler(v: &Value) -> Result<Option<SchedulerSpec>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => {
            let open = s
                .find('(')
                .ok_or_else(|| format!("scheduler `{s}`: expected Name(arguments)"))?;
            let name = s[..open].trim().to_string();
            let mut depth = 0;
            let mut close = None;
            for (i, c) in s[open..].char_indices() {
                match c {
                    '(' | '[' => depth += 1,
                    ')' | ']' => {
                        depth -= 1;
                        if depth == 0 {
                            close = Some(open + i);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let close = close.ok_or_else(|| format!("scheduler `{s}`: unbalanced parentheses"))?;
            let inner = &s[open + 1..close];
            // Split on commas outside brackets.
            let mut args = Vec::new();
            let (mut depth, mut start) = (0, 0);
            let mut pieces = Vec::new();
            for (i, c) in inner.char_indices() {
                match c {
                    '[' | '(' => depth += 1,
                    ']' | ')' => depth -= 1,
                    ',' if depth == 0 => {
                        pieces.push(&inner[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            pieces.push(&inner[start..]);
            for piece in pieces.into_iter().filter(|p| !p.trim().is_empty()) {
                let (k, v) = piece.split_once('=').ok_or_else(|| {
                    format!(
                        "scheduler `{s}`: argument `{}` is not key=value",
                        piece.trim()
                    )
                })?;
                args.push((k.trim().to_string(), parse_arg(v)?));
            }
            Ok(Some(SchedulerSpec { name, args }))
        }
        Value::Object(map) => {
            let name = map
                .get("name")
                .or_else(|| map.get("type"))
                .and_then(Value::as_str)
                .ok_or_else(|| format!("scheduler {v}: no \"name\""))?
                .to_string();
            let mut args = Vec::new();
            for (k, v) in map {
                if k == "name" || k == "type" {
                    continue;
                }
                let arg = match v {
                    Value::Number(n) => Arg::Number(n.as_f64().unwrap_or(f64::NAN)),
                    Value::String(s) => Arg::Word(s.clone()),
                    Value::Bool(b) => Arg::Word(if *b { "True" } else { "False" }.into()),
                    Value::Array(items) => Arg::List(
                        items
                            .iter()
                            .map(|x| {
                                x.as_f64()
                                    .ok_or_else(|| format!("scheduler argument {k}: {v}"))
                            })
                            .collect::<Result<_, _>>()?,
                    ),
                    other => return Err(format!("scheduler argument {k}: unsupported {other}")),
                };
                args.push((k.clone(), arg));
            }
            Ok(Some(SchedulerSpec { name, args }))
        }
        other => Err(format!("scheduler: unsupported description {other}")),
    }
}

/// Reads a scheduler's arguments, refusing names it does not know.
struct ArgReader<'a> {
    spec: &'a SchedulerSpec,
    known: &'static [&'static str],
}

impl ArgReader<'_> {
    fn check(&self) -> Result<(), String> {
        for (k, v) in &self.spec.args {
            if k == "last_epoch" {
                if v != &Arg::Number(-1.0) {
                    return Err(format!(
                        "{}: last_epoch={v:?} (resuming) is not supported by this runner",
                        self.spec.name
                    ));
                }
                continue;
            }
            if !self.known.contains(&k.as_str()) {
                return Err(format!(
                    "{}: unknown argument `{k}` (known: {})",
                    self.spec.name,
                    self.known.join(", ")
                ));
            }
        }
        Ok(())
    }

    fn get(&self, k: &str) -> Option<&Arg> {
        self.spec.args.iter().find(|(n, _)| n == k).map(|(_, v)| v)
    }

    fn number(&self, k: &str, default: Option<f64>) -> Result<f64, String> {
        match self.get(k) {
            None => default.ok_or_else(|| format!("{}: missing argument {k}", self.spec.name)),
            Some(Arg::Number(v)) => Ok(*v),
            Some(other) => Err(format!("{}: {k}={other:?} is not a number", self.spec.name)),
        }
    }

    fn count(&self, k: &str, default: Option<usize>) -> Result<usize, String> {
        let v = self.number(k, default.map(|d| d as f64))?;
        if v < 0.0 || v.fract() != 0.0 {
            return Err(format!("{}: {k}={v} is not a count", self.spec.name));
        }
        Ok(v as usize)
    }

    fn word(&self, k: &str, default: &str) -> Result<String, String> {
        match self.get(k) {
            None => Ok(default.to_string()),
            Some(Arg::Word(w)) => Ok(w.clone()),
            Some(other) => Err(format!("{}: {k}={other:?} is not a word", self.spec.name)),
        }
    }
}

/// Builds the scheduler of a case over `optimizer`.
pub fn build_scheduler(
    spec: &SchedulerSpec,
    optimizer: &mut dyn Optimizer,
) -> Result<Box<dyn LrScheduler>, String> {
    let known: &'static [&'static str] = match spec.name.as_str() {
        "StepLR" => &["step_size", "gamma"],
        "MultiStepLR" => &["milestones", "gamma"],
        "ExponentialLR" => &["gamma"],
        "CosineAnnealingLR" => &["T_max", "eta_min"],
        "LinearLR" => &["start_factor", "end_factor", "total_iters"],
        "ReduceLROnPlateau" => &[
            "mode",
            "factor",
            "patience",
            "threshold",
            "threshold_mode",
            "cooldown",
            "min_lr",
            "eps",
        ],
        other => {
            return Err(format!(
                "unknown scheduler {other} (known: StepLR, MultiStepLR, ExponentialLR, \
                 CosineAnnealingLR, LinearLR, ReduceLROnPlateau)"
            ));
        }
    };
    let a = ArgReader { spec, known };
    a.check()?;
    Ok(match spec.name.as_str() {
        "StepLR" => {
            let step_size = a.count("step_size", None)?;
            if step_size == 0 {
                return Err("StepLR: step_size must be positive".into());
            }
            Box::new(StepLr::new(
                optimizer,
                step_size,
                a.number("gamma", Some(0.1))?,
            ))
        }
        "MultiStepLR" => {
            let milestones = match a.get("milestones") {
                Some(Arg::List(v)) => v
                    .iter()
                    .map(|&m| {
                        if m >= 0.0 && m.fract() == 0.0 {
                            Ok(m as usize)
                        } else {
                            Err(format!("MultiStepLR: milestone {m} is not an epoch"))
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                other => return Err(format!("MultiStepLR: milestones={other:?} is not a list")),
            };
            Box::new(MultiStepLr::new(
                optimizer,
                milestones,
                a.number("gamma", Some(0.1))?,
            ))
        }
        "ExponentialLR" => Box::new(ExponentialLr::new(optimizer, a.number("gamma", None)?)),
        "CosineAnnealingLR" => {
            let t_max = a.count("T_max", None)?;
            if t_max == 0 {
                return Err("CosineAnnealingLR: T_max must be positive".into());
            }
            Box::new(CosineAnnealingLr::new(
                optimizer,
                t_max,
                a.number("eta_min", Some(0.0))?,
            ))
        }
        "LinearLR" => {
            let start = a.number("start_factor", Some(1.0 / 3.0))?;
            let end = a.number("end_factor", Some(1.0))?;
            if !(start > 0.0 && start <= 1.0 && (0.0..=1.0).contains(&end)) {
                return Err(format!(
                    "LinearLR: start_factor {start} must be in (0, 1] and end_factor {end} in [0, 1]"
                ));
            }
            Box::new(LinearLr::new(
                optimizer,
                start,
                end,
                a.count("total_iters", Some(5))?,
            ))
        }
        "ReduceLROnPlateau" => {
            let mode = match a.word("mode", "min")?.as_str() {
                "min" => PlateauMode::Min,
                "max" => PlateauMode::Max,
                m => return Err(format!("ReduceLROnPlateau: unknown mode {m}")),
            };
            let threshold_mode = match a.word("threshold_mode", "rel")?.as_str() {
                "rel" => ThresholdMode::Rel,
                "abs" => ThresholdMode::Abs,
                m => return Err(format!("ReduceLROnPlateau: unknown threshold_mode {m}")),
            };
            let factor = a.number("factor", Some(0.1))?;
            if factor >= 1.0 {
                return Err(format!(
                    "ReduceLROnPlateau: factor {factor} should be < 1.0"
                ));
            }
            let mut s = ReduceLrOnPlateau::new(optimizer)
                .mode(mode)
                .factor(factor)
                .patience(a.count("patience", Some(10))?)
                .threshold(a.number("threshold", Some(1e-4))?)
                .threshold_mode(threshold_mode)
                .cooldown(a.count("cooldown", Some(0))?)
                .eps(a.number("eps", Some(1e-8))?);
            s = match a.get("min_lr") {
                None => s,
                Some(Arg::Number(m)) => s.min_lr(*m),
                Some(Arg::List(v)) => {
                    if v.len() != optimizer.param_groups().len() {
                        return Err(format!(
                            "ReduceLROnPlateau: {} min_lrs for {} parameter groups",
                            v.len(),
                            optimizer.param_groups().len()
                        ));
                    }
                    s.min_lrs(v.clone())
                }
                Some(other) => return Err(format!("ReduceLROnPlateau: min_lr={other:?}")),
            };
            Box::new(s)
        }
        _ => unreachable!("names checked above"),
    })
}

fn load(case: &Case, file: &str) -> Result<Tensor, String> {
    read_npy(case.dir.join(file))
        .map(|t| t.to_dtype(DType::F64))
        .map_err(|e| e.to_string())
}

/// Runs one optimizer case, giving `(expected file name, trajectory)` for every parameter and
/// for the learning rate.
pub fn run_case(case: &Case) -> Result<Vec<(String, Tensor)>, String> {
    let j = &case.json;
    let name = j
        .get("optimizer")
        .and_then(Value::as_str)
        .ok_or("case.json: no \"optimizer\"")?;
    let empty = serde_json::Map::new();
    let hyper = match j.get("hyperparameters") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(format!(
                "case.json: hyperparameters {other} is not an object"
            ));
        }
    };
    let steps = j
        .get("steps")
        .and_then(Value::as_u64)
        .ok_or("case.json: no \"steps\"")? as usize;
    let specs = j
        .get("params")
        .and_then(Value::as_array)
        .ok_or("case.json: no \"params\" list")?;
    let field = |p: &Value, k: &str| -> Result<String, String> {
        p.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("case.json: a parameter has no \"{k}\""))
    };
    let mut params = Vec::new();
    let mut grads = Vec::new();
    let mut expected_files = Vec::new();
    for (i, p) in specs.iter().enumerate() {
        let init = load(case, &field(p, "init")?)?;
        let g = load(case, &field(p, "grads")?)?;
        if g.rank() == 0 || g.dims()[0] < steps || g.dims()[1..] != *init.dims() {
            return Err(format!(
                "parameter {i}: gradients of shape {} do not fit {steps} steps of shape {}",
                g.shape(),
                init.shape()
            ));
        }
        params.push(Tensor::param(&init.contiguous()));
        grads.push(g);
        expected_files.push(field(p, "expected")?);
    }
    let mut optimizer = build_optimizer(name, hyper, params.clone())?;
    let scheduler_spec = parse_scheduler(j.get("scheduler").unwrap_or(&Value::Null))?;
    let mut scheduler = match &scheduler_spec {
        Some(spec) => Some(build_scheduler(spec, optimizer.as_mut())?),
        None => None,
    };
    let metric = match &scheduler_spec {
        Some(spec) if spec.name == "ReduceLROnPlateau" => {
            let file = j
                .get("metric")
                .and_then(Value::as_str)
                .unwrap_or("metric.npy");
            Some(load(case, file)?.to_vec::<f64>())
        }
        _ => None,
    };
    let mut trajectories: Vec<Vec<f64>> = vec![Vec::new(); params.len()];
    let mut lrs = Vec::with_capacity(steps);
    for k in 0..steps {
        for (p, g) in params.iter().zip(&grads) {
            p.set_grad(Some(g.select(0, k as isize).contiguous()));
        }
        optimizer.step().map_err(|e| format!("step {k}: {e}"))?;
        if let Some(s) = scheduler.as_mut() {
            let m = match &metric {
                Some(m) => Some(
                    *m.get(k)
                        .ok_or_else(|| format!("metric.npy has no value for step {k}"))?,
                ),
                None => None,
            };
            s.step(optimizer.as_mut(), m)
                .map_err(|e| format!("scheduler step {k}: {e}"))?;
        }
        for (t, p) in trajectories.iter_mut().zip(&params) {
            t.extend(p.to_vec::<f64>());
        }
        lrs.push(optimizer.param_groups()[0].lr);
    }
    let mut out = Vec::new();
    for ((file, t), p) in expected_files.into_iter().zip(trajectories).zip(&params) {
        let mut shape = vec![steps];
        shape.extend_from_slice(p.dims());
        out.push((file, Tensor::from_vec(t, shape)));
    }
    let lr_file = j
        .get("expected_lr")
        .and_then(Value::as_str)
        .unwrap_or("expected_lr.npy")
        .to_string();
    out.push((lr_file, Tensor::from_vec(lrs, [steps])));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scheduler_descriptions() {
        let s = parse_scheduler(&Value::String(
            "MultiStepLR(milestones=[5, 10], gamma=0.5), stepped once per step".into(),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(s.name, "MultiStepLR");
        assert_eq!(
            s.args,
            vec![
                ("milestones".to_string(), Arg::List(vec![5.0, 10.0])),
                ("gamma".to_string(), Arg::Number(0.5)),
            ]
        );
        let p = parse_scheduler(&Value::String(
            "ReduceLROnPlateau(mode=min, factor=0.1, patience=2), stepped".into(),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(p.args[0], ("mode".to_string(), Arg::Word("min".into())));
        assert!(parse_scheduler(&Value::Null).unwrap().is_none());
    }

    #[test]
    fn unknown_names_fail_with_a_reason() {
        let p = vec![Tensor::param(&Tensor::zeros([2]))];
        let mut hyper = serde_json::Map::new();
        hyper.insert("lr".into(), Value::from(0.1));
        hyper.insert("nesterovv".into(), Value::from(true));
        let err = build_optimizer("SGD", &hyper, p.clone()).err().unwrap();
        assert!(err.contains("unknown hyper-parameter `nesterovv`"), "{err}");
        let err = build_optimizer("LBFGS", &serde_json::Map::new(), p.clone())
            .err()
            .unwrap();
        assert!(err.contains("unknown optimizer LBFGS"), "{err}");
        let mut opt = build_optimizer("SGD", &serde_json::Map::new(), p).unwrap();
        let spec = parse_scheduler(&Value::String("StepLR(step_size=2, gama=0.5)".into()))
            .unwrap()
            .unwrap();
        let err = build_scheduler(&spec, opt.as_mut()).err().unwrap();
        assert!(err.contains("unknown argument `gama`"), "{err}");
    }
}
