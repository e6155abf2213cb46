//! PyTorch gradient cases (`torch-grad`) mapped onto baeum.
//!
//! A case names a PyTorch function (`op`), its hyper-parameters (`attributes`, plain JSON) and
//! its inputs; [`run_case`] builds the inputs as f64 leaves (`requires_grad_(true)` where the
//! case says so, integer and bool inputs as constants), evaluates the op with [`forward`],
//! back-propagates the case's upstream gradients (the loss is `L = Σ_k sum(out_k · upstream_k)`,
//! so the gradients are vector-Jacobian products) and returns every listed output: the forward
//! results and `grad_<input>` for each input that requires grad.
//!
//! Element-wise, reduction, linear-algebra, softmax and shape ops map onto baeum's tensor
//! operations one to one. Convolutions, pooling, the normalisation layers and embedding map onto
//! `baeum::nn::functional`; the losses (cross-entropy, NLL, binary cross-entropy, MSE) are
//! composed here from tensor operations, following PyTorch's documented semantics; the recurrent
//! layers (`torch.nn.LSTM/GRU/RNN`, weights given as inputs) map onto
//! `baeum::nn::functional::recurrent`; conv3d answers "not supported yet". Nothing here panics on
//! a malformed case: an unknown op, a missing input or an attribute the mapping does not read
//! is a failure with its reason.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::Path;

use baeum::autograd::{self, BackwardOptions};
use baeum::io::read_npy;
use baeum::nn::functional::{
    self as F, AvgPoolOptions, ConvOptions, ConvTransposeOptions, MaxPoolOptions, Padding, Sizes,
};
use baeum::ops::transform::PadMode;
use baeum::{DType, Tensor};
use serde_json::{Map, Value};

use crate::case::Case;

// ---------------------------------------------------------------------------------------------
// The case format.

/// One input of a case.
#[derive(Clone, Debug)]
pub struct InputSpec {
    pub name: String,
    pub dtype: Option<DType>,
    pub requires_grad: bool,
    pub file: String,
}

/// What an output file holds.
#[derive(Clone, Debug, PartialEq)]
pub enum OutputKind {
    /// Forward result number `index`.
    Forward { index: usize },
    /// ∂L/∂(input named `wrt`).
    Grad { wrt: String },
}

/// One output file a case asks for.
#[derive(Clone, Debug)]
pub struct OutputSpec {
    pub name: String,
    pub kind: OutputKind,
    pub dtype: Option<DType>,
    pub shape: Option<Vec<usize>>,
    pub file: String,
}

/// The upstream gradient of one forward output.
#[derive(Clone, Debug)]
pub struct UpstreamSpec {
    pub name: String,
    pub index: usize,
    pub file: String,
}

/// The grad-suite fields of a `case.json`.
#[derive(Clone, Debug, Default)]
pub struct GradSpec {
    pub semantics: String,
    pub attributes: Map<String, Value>,
    pub inputs: Vec<InputSpec>,
    pub upstream: Vec<UpstreamSpec>,
    pub outputs: Vec<OutputSpec>,
}

/// The dtype named in a case (`float64`, `int64`, `bool`, ...).
pub fn parse_dtype(name: &str) -> Result<DType, String> {
    Ok(match name {
        "float64" | "double" => DType::F64,
        "float32" | "float" => DType::F32,
        "int64" | "long" => DType::I64,
        "int32" | "int" => DType::I32,
        "uint8" => DType::U8,
        "bool" => DType::Bool,
        other => return Err(format!("unknown dtype \"{other}\"")),
    })
}

fn str_field<'a>(v: &'a Value, key: &str, what: &str) -> Result<&'a str, String> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("case.json: {what} has no \"{key}\" string"))
}

fn opt_dtype(v: &Value) -> Result<Option<DType>, String> {
    v.get("dtype")
        .and_then(Value::as_str)
        .map(parse_dtype)
        .transpose()
}

fn list<'a>(j: &'a Value, key: &str) -> Result<&'a [Value], String> {
    match j.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(format!("case.json: \"{key}\" is not a list")),
    }
}

impl GradSpec {
    /// Reads the grad-suite fields of a parsed `case.json`.
    pub fn parse(j: &Value) -> Result<GradSpec, String> {
        let attributes = match j.get("attributes") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err("case.json: \"attributes\" is not an object".into()),
        };
        let inputs = list(j, "inputs")?
            .iter()
            .map(|v| {
                Ok(InputSpec {
                    name: str_field(v, "name", "an input")?.to_string(),
                    dtype: opt_dtype(v)?,
                    requires_grad: v
                        .get("requires_grad")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    file: str_field(v, "file", "an input")?.to_string(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let upstream = list(j, "upstream")?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                Ok(UpstreamSpec {
                    name: v.get("name").and_then(Value::as_str).unwrap_or("").into(),
                    index: v
                        .get("index")
                        .and_then(Value::as_u64)
                        .map_or(i, |x| x as usize),
                    file: str_field(v, "file", "an upstream entry")?.to_string(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut outputs = Vec::new();
        for (i, v) in list(j, "outputs")?.iter().enumerate() {
            // An output without a file is not requested.
            let Some(file) = v.get("file").and_then(Value::as_str) else {
                continue;
            };
            let name = v.get("name").and_then(Value::as_str).unwrap_or("");
            let kind = match v.get("kind").and_then(Value::as_str).unwrap_or("forward") {
                "forward" => OutputKind::Forward {
                    index: v
                        .get("index")
                        .and_then(Value::as_u64)
                        .map_or(i, |x| x as usize),
                },
                "grad" => OutputKind::Grad {
                    wrt: match v.get("wrt").and_then(Value::as_str) {
                        Some(w) => w.to_string(),
                        None => name
                            .strip_prefix("grad_")
                            .ok_or_else(|| {
                                format!("case.json: gradient output \"{name}\" has no \"wrt\"")
                            })?
                            .to_string(),
                    },
                },
                k => {
                    return Err(format!(
                        "case.json: output \"{name}\" has unknown kind {k:?}"
                    ));
                }
            };
            let shape = v.get("shape").and_then(Value::as_array).and_then(|a| {
                a.iter()
                    .map(|d| d.as_u64().map(|d| d as usize))
                    .collect::<Option<Vec<_>>>()
            });
            outputs.push(OutputSpec {
                name: name.to_string(),
                kind,
                dtype: opt_dtype(v)?,
                shape,
                file: file.to_string(),
            });
        }
        Ok(GradSpec {
            semantics: j
                .get("semantics")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            attributes,
            inputs,
            upstream,
            outputs,
        })
    }
}

/// A named input tensor of an op.
#[derive(Clone, Debug)]
pub struct Input {
    pub name: String,
    pub tensor: Tensor,
}

impl Input {
    pub fn new(name: &str, tensor: Tensor) -> Input {
        Input {
            name: name.to_string(),
            tensor,
        }
    }
}

/// Reads the case's inputs: float inputs that require grad become leaves with
/// `requires_grad_(true)`, everything else a constant.
pub fn load_inputs(dir: &Path, spec: &GradSpec) -> Result<Vec<Input>, String> {
    spec.inputs
        .iter()
        .map(|s| {
            let mut t = read_npy(dir.join(&s.file)).map_err(|e| format!("{}: {e}", s.file))?;
            if let Some(d) = s.dtype
                && d != t.dtype()
            {
                t = conform(t, Some(d), &s.name)?;
            }
            if s.requires_grad {
                if !t.dtype().is_float() {
                    return Err(format!(
                        "input '{}' requires grad but has dtype {}",
                        s.name,
                        t.dtype()
                    ));
                }
                t = t.requires_grad_(true);
            }
            Ok(Input {
                name: s.name.clone(),
                tensor: t,
            })
        })
        .collect()
}

/// `t` in dtype `want`, converting only within a kind (float to float, integer to integer):
/// a float result where integers are expected is a mapping error, not something to round.
fn conform(t: Tensor, want: Option<DType>, what: &str) -> Result<Tensor, String> {
    let Some(want) = want else { return Ok(t) };
    let (have, kind) = (t.dtype(), |d: DType| (d.is_float(), d == DType::Bool));
    if have == want {
        Ok(t)
    } else if kind(have) == kind(want) {
        Ok(t.to_dtype(want))
    } else {
        Err(format!(
            "{what}: produced dtype {have}, the case expects {want}"
        ))
    }
}

/// Evaluates a torch-grad case: the forward outputs and input gradients it lists, as
/// (file name, tensor).
pub fn run_case(case: &Case) -> Result<Vec<(String, Tensor)>, String> {
    let spec = GradSpec::parse(&case.json)?;
    let inputs = load_inputs(&case.dir, &spec)?;
    let args = Args::new(&case.op, spec.attributes.clone(), &spec.semantics);
    let out_shape = spec.outputs.iter().find_map(|o| match o.kind {
        OutputKind::Forward { index: 0 } => o.shape.clone(),
        _ => None,
    });
    let outs = forward(&case.op, &args, &inputs, out_shape.as_deref())?;
    args.check_all_read()?;
    let grads = backward(&case.dir, &case.op, &spec, &inputs, &outs)?;
    spec.outputs
        .iter()
        .map(|o| {
            let t = match &o.kind {
                OutputKind::Forward { index } => outs
                    .get(*index)
                    .ok_or_else(|| {
                        format!(
                            "{}: produced {} output(s), the case lists output {index} ('{}')",
                            case.op,
                            outs.len(),
                            o.name
                        )
                    })?
                    .detach(),
                OutputKind::Grad { wrt } => grads
                    .iter()
                    .find(|(n, _)| n == wrt)
                    .map(|(_, g)| g.detach())
                    .ok_or_else(|| format!("no gradient computed for '{wrt}'"))?,
            };
            Ok((o.file.clone(), conform(t, o.dtype, &o.name)?))
        })
        .collect()
}

/// Back-propagates the case's upstream gradients through `outs`, returning (input name,
/// gradient) for every gradient output the case lists.
fn backward(
    dir: &Path,
    op: &str,
    spec: &GradSpec,
    inputs: &[Input],
    outs: &[Tensor],
) -> Result<Vec<(String, Tensor)>, String> {
    let wanted: Vec<&str> = spec
        .outputs
        .iter()
        .filter_map(|o| match &o.kind {
            OutputKind::Grad { wrt } => Some(wrt.as_str()),
            OutputKind::Forward { .. } => None,
        })
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    if spec.upstream.is_empty() {
        return Err("case.json lists gradients but no upstream gradients".into());
    }
    let mut roots = Vec::new();
    let mut upstream = Vec::new();
    for u in &spec.upstream {
        let out = outs.get(u.index).ok_or_else(|| {
            format!(
                "{op}: produced {} output(s), the upstream '{}' is for output {}",
                outs.len(),
                u.name,
                u.index
            )
        })?;
        if !out.requires_grad() {
            return Err(format!(
                "{op}: output {} ('{}') does not require grad: no backward rule was recorded for it",
                u.index, u.name
            ));
        }
        let g = read_npy(dir.join(&u.file)).map_err(|e| format!("{}: {e}", u.file))?;
        upstream.push(g.to_dtype(out.dtype()));
        roots.push(out);
    }
    let mut leaves = Vec::new();
    for w in &wanted {
        let x = inputs
            .iter()
            .find(|i| i.name == *w)
            .ok_or_else(|| format!("gradient asked for '{w}', which is not an input"))?;
        if !x.tensor.requires_grad() {
            return Err(format!(
                "gradient asked for '{w}', whose case entry does not require grad"
            ));
        }
        leaves.push(&x.tensor);
    }
    let got = autograd::grad(&roots, &leaves, Some(&upstream), BackwardOptions::default())
        .map_err(|e| format!("backward: {e}"))?;
    wanted
        .iter()
        .zip(got)
        .map(|(w, g)| {
            g.map(|g| (w.to_string(), g)).ok_or_else(|| {
                format!(
                    "backward: no gradient reached '{w}' (a backward rule is missing on its path)"
                )
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Attributes.

/// An op's attributes (plain JSON) with typed getters. Every name asked for is remembered, so
/// that an attribute the mapping never read can be reported instead of silently ignored
/// ([`Args::check_all_read`]). A `null` value counts as absent.
#[derive(Debug)]
pub struct Args {
    op: String,
    map: Map<String, Value>,
    semantics: String,
    read: RefCell<BTreeSet<String>>,
}

impl Args {
    pub fn new(op: &str, map: Map<String, Value>, semantics: &str) -> Args {
        Args {
            op: op.to_string(),
            map,
            semantics: semantics.to_string(),
            read: RefCell::new(BTreeSet::new()),
        }
    }

    /// Attributes from `(name, value)` pairs, no semantics.
    pub fn from_pairs(op: &str, pairs: &[(&str, Value)]) -> Args {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        Args::new(op, map, "")
    }

    /// The case's one-line description of the computation.
    pub fn semantics(&self) -> &str {
        &self.semantics
    }

    fn value(&self, name: &str) -> Option<&Value> {
        self.read.borrow_mut().insert(name.to_string());
        self.map.get(name).filter(|v| !v.is_null())
    }

    fn bad(&self, name: &str, want: &str, v: &Value) -> String {
        format!("{}: attribute {name} = {v} is not {want}", self.op)
    }

    /// Whether the attribute is given (not absent, not null).
    pub fn has(&self, name: &str) -> bool {
        self.value(name).is_some()
    }

    /// The first of `names` that is given.
    pub fn first_of<'n>(&self, names: &[&'n str]) -> Option<&'n str> {
        names.iter().copied().find(|n| self.has(n))
    }

    pub fn f64_opt(&self, name: &str) -> Result<Option<f64>, String> {
        self.value(name)
            .map(|v| v.as_f64().ok_or_else(|| self.bad(name, "a number", v)))
            .transpose()
    }

    pub fn f64(&self, name: &str, default: f64) -> Result<f64, String> {
        Ok(self.f64_opt(name)?.unwrap_or(default))
    }

    /// A hyper-parameter from the attributes, else from a `name=value` in the semantics line
    /// (the visible cases give e.g. leaky_relu's slope only there), else `default`.
    pub fn param(&self, name: &str, default: f64) -> Result<f64, String> {
        if let Some(v) = self.f64_opt(name)? {
            return Ok(v);
        }
        Ok([format!("{name}="), format!("{name} =")]
            .iter()
            .find_map(|k| number_after(&self.semantics, k))
            .unwrap_or(default))
    }

    /// An integer; a one-element list (`"dim": [1]`) reads as its element.
    pub fn int_opt(&self, name: &str) -> Result<Option<i64>, String> {
        self.value(name)
            .map(|v| {
                let one = v.as_array().filter(|a| a.len() == 1).map(|a| &a[0]);
                as_int(one.unwrap_or(v)).ok_or_else(|| self.bad(name, "an integer", v))
            })
            .transpose()
    }

    pub fn int(&self, name: &str, default: i64) -> Result<i64, String> {
        Ok(self.int_opt(name)?.unwrap_or(default))
    }

    /// An attribute the op cannot do without.
    pub fn int_required(&self, name: &str) -> Result<i64, String> {
        self.int_opt(name)?
            .ok_or_else(|| format!("{}: attribute {name} is required", self.op))
    }

    /// A flag: `true`/`false` or 0/1.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool, String> {
        match self.value(name) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => match as_int(v) {
                Some(0) => Ok(false),
                Some(1) => Ok(true),
                _ => Err(self.bad(name, "a boolean", v)),
            },
        }
    }

    pub fn string(&self, name: &str, default: &str) -> Result<String, String> {
        match self.value(name) {
            None => Ok(default.to_string()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v) => Err(self.bad(name, "a string", v)),
        }
    }

    /// A list of integers; a single integer reads as a one-element list.
    pub fn ints_opt(&self, name: &str) -> Result<Option<Vec<i64>>, String> {
        let Some(v) = self.value(name) else {
            return Ok(None);
        };
        if let Some(i) = as_int(v) {
            return Ok(Some(vec![i]));
        }
        v.as_array()
            .and_then(|a| a.iter().map(as_int).collect::<Option<Vec<_>>>())
            .map(Some)
            .ok_or_else(|| self.bad(name, "an integer or a list of integers", v))
    }

    /// Dimensions (`dim`: one or a list), as isize.
    pub fn dims_opt(&self, name: &str) -> Result<Option<Vec<isize>>, String> {
        Ok(self
            .ints_opt(name)?
            .map(|v| v.into_iter().map(|d| d as isize).collect()))
    }

    /// One dimension that must be given.
    pub fn dim_required(&self, name: &str) -> Result<isize, String> {
        Ok(self.int_required(name)? as isize)
    }

    /// `Err` naming every given attribute that was never read: the mapping does not know it,
    /// so the result would silently ignore it.
    pub fn check_all_read(&self) -> Result<(), String> {
        let read = self.read.borrow();
        let unknown: Vec<&str> = self
            .map
            .iter()
            .filter(|(k, v)| !v.is_null() && !read.contains(*k))
            .map(|(k, _)| k.as_str())
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "op '{}': unsupported attribute(s) {} = {}",
                self.op,
                unknown.join(", "),
                unknown
                    .iter()
                    .map(|k| self.map[*k].to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    }
}

fn as_int(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
            .map(|f| f as i64)
    })
}

/// The number right after the first `key` in `text` (spaces skipped): `0.1` in
/// `"x if x>0 else 0.1*x (negative_slope=0.1)"` for `negative_slope=`.
pub fn number_after(text: &str, key: &str) -> Option<f64> {
    let start = text.find(key)? + key.len();
    let rest = text[start..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .unwrap_or(rest.len());
    // Shorten until it parses, so that a trailing `.` or `e` of the prose is left out.
    let mut s = &rest[..end];
    while !s.is_empty() {
        if let Ok(v) = s.parse::<f64>() {
            return Some(v);
        }
        s = &s[..s.len() - 1];
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Inputs of an op.

fn at<'a>(inputs: &'a [Input], i: usize, op: &str) -> Result<&'a Tensor, String> {
    inputs.get(i).map(|x| &x.tensor).ok_or_else(|| {
        format!(
            "{op}: needs at least {} input(s), the case has {}",
            i + 1,
            inputs.len()
        )
    })
}

fn named<'a>(inputs: &'a [Input], names: &[&str]) -> Option<&'a Tensor> {
    inputs
        .iter()
        .find(|x| names.contains(&x.name.as_str()))
        .map(|x| &x.tensor)
}

/// The inputs that are not integer or bool (the differentiable operands).
fn float_inputs(inputs: &[Input]) -> Vec<&Tensor> {
    inputs
        .iter()
        .map(|x| &x.tensor)
        .filter(|t| t.dtype().is_float())
        .collect()
}

/// The first integer input (class targets, indices).
fn int_input<'a>(inputs: &'a [Input], op: &str) -> Result<&'a Tensor, String> {
    inputs
        .iter()
        .map(|x| &x.tensor)
        .find(|t| !t.dtype().is_float() && t.dtype() != DType::Bool)
        .ok_or_else(|| format!("{op}: no integer (index) input"))
}

fn e2s(e: baeum::Error) -> String {
    e.to_string()
}

// ---------------------------------------------------------------------------------------------
// The op table.

/// Evaluates op `op` (a PyTorch function name, as in case.json) on `inputs` (positional, with
/// their names) with attributes `a`; `out_shape` is the shape the case expects of output 0
/// (used by `expand` when the case gives no size). Returns the forward outputs in order.
pub fn forward(
    op: &str,
    a: &Args,
    inputs: &[Input],
    out_shape: Option<&[usize]>,
) -> Result<Vec<Tensor>, String> {
    let one = |t: Tensor| Ok(vec![t]);
    let x = || at(inputs, 0, op);
    match op {
        // Element-wise, one input.
        "abs" => one(x()?.abs()),
        "neg" | "negative" => one(x()?.neg()),
        "exp" => one(x()?.exp()),
        "log" => one(x()?.log()),
        "log1p" => one(x()?.log1p()),
        "expm1" => one(x()?.expm1()),
        "sqrt" => one(x()?.sqrt()),
        "rsqrt" => one(x()?.rsqrt()),
        "reciprocal" => one(x()?.reciprocal()),
        "square" => one(x()?.square()),
        "sin" => one(x()?.sin()),
        "cos" => one(x()?.cos()),
        "tanh" => one(x()?.tanh()),
        "sigmoid" => one(x()?.sigmoid()),
        "erf" => one(x()?.erf()),
        "relu" => one(x()?.relu()),
        "silu" => one(x()?.silu()),
        "mish" => one(x()?.mish()),
        "softsign" => one(x()?.softsign()),
        "selu" => one(x()?.selu()),
        "hardsigmoid" => one(x()?.hardsigmoid()),
        "hardswish" => one(x()?.hardswish()),
        "elu" => one(x()?.elu(a.param("alpha", 1.0)?)),
        "leaky_relu" => one(x()?.leaky_relu(a.param("negative_slope", 0.01)?)),
        "softplus" => one(x()?.softplus(a.param("beta", 1.0)?, a.param("threshold", 20.0)?)),
        "gelu" => match a.string("approximate", "none")?.as_str() {
            "none" => one(x()?.gelu()),
            "tanh" => one(x()?.gelu_tanh()),
            other => Err(format!("gelu: unknown approximate=\"{other}\"")),
        },
        "gelu_tanh" => one(x()?.gelu_tanh()),
        "clamp" | "clip" => {
            let (lo, hi) = clamp_bounds(a)?;
            one(x()?.clamp(lo, hi))
        }
        "pow_scalar" => one(x()?.powf(pow_exponent(a)?)),

        // Element-wise, two or more inputs.
        "add" | "sub" => {
            let alpha = a.f64("alpha", 1.0)?;
            let (p, q) = binary_operands(op, a, inputs)?;
            let q = if alpha == 1.0 { q } else { q.mul_scalar(alpha) };
            one(if op == "add" { p.add(&q) } else { p.sub(&q) })
        }
        "mul" | "multiply" => {
            let (p, q) = binary_operands(op, a, inputs)?;
            one(p.mul(&q))
        }
        "div" | "divide" | "true_divide" => {
            if let Some(mode) = a.value("rounding_mode") {
                return Err(format!(
                    "div: rounding_mode={mode} has no useful gradient and is not mapped"
                ));
            }
            let (p, q) = binary_operands(op, a, inputs)?;
            one(p.div(&q))
        }
        "maximum" => {
            let (p, q) = binary_operands(op, a, inputs)?;
            one(p.maximum(&q))
        }
        "minimum" => {
            let (p, q) = binary_operands(op, a, inputs)?;
            one(p.minimum(&q))
        }
        "pow" => {
            if float_inputs(inputs).len() >= 2 {
                let (p, q) = binary_operands(op, a, inputs)?;
                one(p.pow(&q))
            } else {
                one(x()?.powf(pow_exponent(a)?))
            }
        }
        "where" => {
            let cond = inputs
                .iter()
                .position(|i| i.tensor.dtype() == DType::Bool)
                .ok_or_else(|| "where: no bool condition input".to_string())?;
            let rest: Vec<&Tensor> = inputs
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != cond)
                .map(|(_, x)| &x.tensor)
                .collect();
            let [p, q] = rest[..] else {
                return Err(format!(
                    "where: expects a condition and two value inputs, got {} inputs",
                    inputs.len()
                ));
            };
            one(Tensor::where_(&inputs[cond].tensor, p, q))
        }

        // Reductions.
        "sum" | "mean" => {
            let dims = a.dims_opt("dim")?.unwrap_or_default();
            let keepdim = a.bool("keepdim", false)?;
            let t = x()?;
            one(if op == "sum" {
                t.sum_dims(&dims, keepdim)
            } else {
                t.mean_dims(&dims, keepdim)
            })
        }
        "var" | "std" => one(variance(a, x()?, op == "std")?),
        "logsumexp" => {
            let dims = a
                .dims_opt("dim")?
                .ok_or_else(|| "logsumexp: attribute dim is required".to_string())?;
            one(x()?.logsumexp_dims(&dims, a.bool("keepdim", false)?))
        }
        "max" | "min" => {
            let t = x()?;
            match a.int_opt("dim")? {
                // max(x, dim) -> (values, indices)
                Some(d) => {
                    let keepdim = a.bool("keepdim", false)?;
                    let (v, i) = if op == "max" {
                        t.max_dim(d as isize, keepdim)
                    } else {
                        t.min_dim(d as isize, keepdim)
                    };
                    Ok(vec![v, i])
                }
                None => one(if op == "max" { t.max() } else { t.min() }),
            }
        }
        "amax" | "amin" => {
            let dims = a.dims_opt("dim")?.unwrap_or_default();
            let keepdim = a.bool("keepdim", false)?;
            let t = x()?;
            one(if op == "amax" {
                t.amax(&dims, keepdim)
            } else {
                t.amin(&dims, keepdim)
            })
        }

        // Linear algebra.
        "matmul" | "mm" | "bmm" => one(x()?.try_matmul(at(inputs, 1, op)?).map_err(e2s)?),
        "einsum" => {
            let eq = a.string("equation", "")?;
            if eq.is_empty() {
                return Err("einsum: attribute equation is required".into());
            }
            let ops: Vec<&Tensor> = inputs.iter().map(|i| &i.tensor).collect();
            one(Tensor::try_einsum(&eq, &ops).map_err(e2s)?)
        }
        "linear" => {
            let w = named(inputs, &["weight", "w"]).map_or_else(|| at(inputs, 1, op), Ok)?;
            let b = named(inputs, &["bias", "b"]).or_else(|| inputs.get(2).map(|i| &i.tensor));
            one(linear(x()?, w, b)?)
        }

        // Softmax and losses.
        "softmax" | "log_softmax" => {
            let d = a.dim_required("dim")?;
            let t = x()?;
            one(if op == "softmax" {
                t.softmax(d)
            } else {
                t.log_softmax(d)
            })
        }
        "mse_loss" => {
            let d = x()?.sub(at(inputs, 1, op)?);
            one(reduce_loss(&d.mul(&d), &a.string("reduction", "mean")?)?)
        }
        "cross_entropy" => one(cross_entropy(a, inputs)?),
        "nll_loss" => one(nll_loss(a, inputs)?),
        "binary_cross_entropy_with_logits" => one(bce_with_logits(a, inputs)?),
        "binary_cross_entropy" => one(bce(a, inputs)?),

        // Shape.
        "cat" | "concat" | "concatenate" => {
            let ts: Vec<&Tensor> = inputs.iter().map(|i| &i.tensor).collect();
            one(Tensor::try_cat(&ts, a.int("dim", 0)? as isize).map_err(e2s)?)
        }
        "stack" => {
            let ts: Vec<&Tensor> = inputs.iter().map(|i| &i.tensor).collect();
            one(Tensor::try_stack(&ts, a.int("dim", 0)? as isize).map_err(e2s)?)
        }
        "cumsum" => one(x()?.cumsum(a.dim_required("dim")?)),
        "flatten" => one(x()?.flatten(a.int("start_dim", 0)?, a.int("end_dim", -1)?)),
        "reshape" | "view" => {
            let shape = a
                .dims_opt("shape")?
                .ok_or_else(|| format!("{op}: attribute shape is required"))?;
            one(x()?.try_reshape(&shape).map_err(e2s)?)
        }
        "squeeze" => {
            let t = x()?;
            match a.dims_opt("dim")? {
                None => one(t.squeeze()),
                Some(ds) => {
                    let mut ds: Vec<usize> = ds
                        .iter()
                        .map(|&d| baeum::tensor::resolve_dim(d, t.rank()).map_err(e2s))
                        .collect::<Result<_, _>>()?;
                    ds.sort_unstable();
                    Ok(vec![
                        ds.iter().rev().fold(t.clone(), |t, &d| t.squeeze_dim(d)),
                    ])
                }
            }
        }
        "unsqueeze" => one(x()?.unsqueeze(a.dim_required("dim")?)),
        "expand" => {
            let size = match a.first_of(&["size", "sizes", "shape"]) {
                Some(k) => a.dims_opt(k)?.unwrap_or_default(),
                None => out_shape
                    .ok_or_else(|| "expand: no size attribute and no output shape".to_string())?
                    .iter()
                    .map(|&d| d as isize)
                    .collect(),
            };
            one(x()?.expand(&size))
        }
        "permute" => {
            let k = a
                .first_of(&["dims", "perm", "permutation", "order"])
                .ok_or_else(|| "permute: attribute dims is required".to_string())?;
            let dims = a.dims_opt(k)?.unwrap_or_default();
            let t = x()?;
            if dims.len() != t.rank() {
                return Err(format!(
                    "permute: dims {dims:?} for a tensor of shape {:?}",
                    t.dims()
                ));
            }
            one(t.permute(&dims))
        }
        "transpose" | "t" | "swapaxes" => {
            let t = x()?;
            match (a.int_opt("dim0")?, a.int_opt("dim1")?) {
                (Some(d0), Some(d1)) => one(t.transpose(d0 as isize, d1 as isize)),
                (None, None) if t.rank() <= 2 => one(t.t()),
                _ => Err(format!(
                    "{op}: give dim0 and dim1 (a tensor of shape {:?})",
                    t.dims()
                )),
            }
        }
        "gather" => {
            let d = a.dim_required("dim")?;
            a.bool("sparse_grad", false)?;
            let t = float_inputs(inputs)
                .first()
                .copied()
                .ok_or_else(|| "gather: no float input".to_string())?;
            one(t.try_gather(d, int_input(inputs, op)?).map_err(e2s)?)
        }
        "index_select" => {
            let d = a.dim_required("dim")?;
            let t = float_inputs(inputs)
                .first()
                .copied()
                .ok_or_else(|| "index_select: no float input".to_string())?;
            one(t.try_index_select(d, int_input(inputs, op)?).map_err(e2s)?)
        }
        "pad" => one(pad(a, x()?)?),
        "slice" => one(slice(a, x()?)?),
        "narrow" => {
            let t = x()?;
            let d = a.dim_required("dim")?;
            let start = a.int_required("start")?;
            let n = t.dims()[baeum::tensor::resolve_dim(d, t.rank()).map_err(e2s)?] as i64;
            let start = if start < 0 { start + n } else { start };
            let len = a.int_required("length")?;
            if start < 0 || len < 0 {
                return Err(format!("narrow: start {start}, length {len}"));
            }
            one(t.try_narrow(d, start as usize, len as usize).map_err(e2s)?)
        }
        "select" => {
            let t = x()?;
            let d = a.dim_required("dim")?;
            let i = a.int_required("index")?;
            one(select(t, d, i as isize)?)
        }
        "split" | "chunk" => split(op, a, x()?),

        // Layers: baeum::nn::functional.
        "embedding" => one(embedding(a, inputs)?),
        "layer_norm" => one(layer_norm(a, inputs)?),
        "group_norm" => one(group_norm(a, inputs)?),
        "batch_norm" => batch_norm(a, inputs),
        "conv1d" | "conv2d" => one(conv(op, a, inputs)?),
        "conv_transpose1d" | "conv_transpose2d" => one(conv_transpose(op, a, inputs)?),
        "max_pool1d" | "max_pool2d" => max_pool(op, a, x()?),
        "avg_pool1d" | "avg_pool2d" => one(avg_pool(op, a, x()?)?),
        "adaptive_avg_pool1d"
        | "adaptive_avg_pool2d"
        | "adaptive_max_pool1d"
        | "adaptive_max_pool2d" => adaptive_pool(op, a, x()?),
        "composite" => one(composite(a, inputs)?),

        "lstm" | "gru" | "rnn" | "rnn_tanh" | "rnn_relu" => recurrent(op, a, inputs),
        "conv3d" => Err(format!("op '{op}' not supported yet")),
        _ => Err(format!("op '{op}' not supported yet (unknown op)")),
    }
}

/// The two operands of a binary op: two tensor inputs, or one and a scalar attribute
/// (`other`), as in `torch.mul(x, 2.5)`.
fn binary_operands(op: &str, a: &Args, inputs: &[Input]) -> Result<(Tensor, Tensor), String> {
    match inputs {
        [p, q, ..] => Ok((p.tensor.clone(), q.tensor.clone())),
        [p] => match a.first_of(&["other", "scalar", "value"]) {
            Some(k) => {
                let s = a.f64(k, 0.0)?;
                Ok((p.tensor.clone(), Tensor::full([], s, p.tensor.dtype())))
            }
            None => Err(format!("{op}: needs two inputs or an `other` attribute")),
        },
        [] => Err(format!("{op}: no inputs")),
    }
}

/// clamp's bounds: the `min`/`max` attributes, else read from the semantics line
/// (`min(max(x, -0.5), 0.5)`, `clamp(x, -0.5, 0.5)` or `min=-0.5, max=0.5`).
fn clamp_bounds(a: &Args) -> Result<(Option<f64>, Option<f64>), String> {
    let (lo, hi) = (a.f64_opt("min")?, a.f64_opt("max")?);
    if lo.is_some() || hi.is_some() {
        return Ok((lo, hi));
    }
    let s = a.semantics();
    if let (Some(lo), Some(hi)) = (number_after(s, "min="), number_after(s, "max=")) {
        return Ok((Some(lo), Some(hi)));
    }
    if let Some(i) = s.find("max(x,") {
        let rest = &s[i..];
        if let (Some(lo), Some(j)) = (number_after(rest, "max(x,"), rest.find("),"))
            && let Some(hi) = number_after(&rest[j..], "),")
        {
            return Ok((Some(lo), Some(hi)));
        }
    }
    if let Some(i) = s.find("clamp(x,") {
        let rest = &s[i + "clamp(x,".len()..];
        let mut parts = rest.splitn(2, ',');
        if let (Some(lo), Some(hi)) = (parts.next(), parts.next()) {
            let (lo, hi) = (number_after(lo, ""), number_after(hi, ""));
            if lo.is_some() || hi.is_some() {
                return Ok((lo, hi));
            }
        }
    }
    Err(format!(
        "clamp: no min/max attribute and none found in the semantics {s:?}"
    ))
}

/// A scalar exponent: the `exponent` attribute (or `exp`/`other`/`p`), else from the semantics
/// line (`x ** 3`, `x^3`, `pow(x, 3)`, `exponent=3`, `p=3`).
fn pow_exponent(a: &Args) -> Result<f64, String> {
    if let Some(k) = a.first_of(&["exponent", "exp", "other", "p"]) {
        return a.f64(k, 1.0);
    }
    let s = a.semantics();
    ["exponent=", "**", "^", "pow(x,", "p="]
        .iter()
        .find_map(|k| number_after(s, k))
        .ok_or_else(|| format!("pow: no exponent attribute and none found in the semantics {s:?}"))
}

/// var/std with `dim`, `keepdim` and `correction` (or `unbiased`; default: correction 1).
fn variance(a: &Args, x: &Tensor, std: bool) -> Result<Tensor, String> {
    let dims = a.dims_opt("dim")?.unwrap_or_default();
    let keepdim = a.bool("keepdim", false)?;
    let correction = match a.f64_opt("correction")? {
        Some(c) => c,
        None => f64::from(u8::from(a.bool("unbiased", true)?)),
    };
    let v = if correction == 0.0 || correction == 1.0 {
        x.var_dims(&dims, correction == 1.0, keepdim)
    } else {
        // Any other correction: Σ(x - mean)² / (n - correction).
        let all: Vec<isize> = (0..x.rank() as isize).collect();
        let red = if dims.is_empty() { &all } else { &dims };
        let n: usize = red
            .iter()
            .map(|&d| baeum::tensor::resolve_dim(d, x.rank()).map(|d| x.dims()[d]))
            .collect::<baeum::Result<Vec<_>>>()
            .map_err(e2s)?
            .iter()
            .product();
        let c = x.sub(&x.mean_dims(red, true));
        c.mul(&c)
            .sum_dims(red, keepdim)
            .div_scalar(n as f64 - correction)
    };
    Ok(if std { v.sqrt() } else { v })
}

/// `x · Wᵀ + b` (torch.nn.functional.linear): weight `(out, in)` or `(in)`, bias `(out)`.
fn linear(x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Result<Tensor, String> {
    let wt = match w.rank() {
        2 => w.t(),
        1 => w.clone(),
        _ => return Err(format!("linear: weight of shape {:?}", w.dims())),
    };
    let y = x.try_matmul(&wt).map_err(e2s)?;
    Ok(match b {
        Some(b) => y.add(b),
        None => y,
    })
}

/// Applies a loss `reduction`: none, mean or sum.
fn reduce_loss(l: &Tensor, reduction: &str) -> Result<Tensor, String> {
    match reduction {
        "none" => Ok(l.clone()),
        "mean" => Ok(l.mean()),
        "sum" => Ok(l.sum()),
        r => Err(format!("unknown reduction \"{r}\"")),
    }
}

/// `t` reshaped so that a per-class vector lines up with dim 1 of a rank-`rank` tensor.
fn class_view(t: &Tensor, rank: usize) -> Tensor {
    let mut shape = vec![1isize; rank];
    shape[1] = -1;
    t.reshape(&shape)
}

/// The parts of a negative log-likelihood over class dim 1 of `logp` `(N, C, d...)` for
/// class targets `(N, d...)`.
struct Nll {
    /// `-w[t_i] · logp[i, t_i]` per target, 0 where ignored.
    loss: Tensor,
    /// Σ w[t_i] over the targets not ignored (the weighted mean's divisor), a constant.
    weight_sum: Tensor,
    /// 1.0 per target not ignored, 0.0 where ignored.
    keep: Tensor,
}

fn nll_terms(
    op: &str,
    logp: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    ignore_index: i64,
) -> Result<Nll, String> {
    let c = logp.dims()[1];
    let mut expected: Vec<usize> = logp.dims().to_vec();
    expected.remove(1);
    if target.dims() != expected.as_slice() {
        return Err(format!(
            "{op}: target of shape {:?} for input of shape {:?} (expected {expected:?})",
            target.dims(),
            logp.dims()
        ));
    }
    if let Some(w) = weight
        && w.dims() != [c]
    {
        return Err(format!(
            "{op}: weight of shape {:?} for {c} classes",
            w.dims()
        ));
    }
    let target = target.to_i64();
    let ignored = target.eq_scalar(ignore_index);
    // Ignored targets pick class 0 and are then zeroed, so that gather stays in range.
    let safe = target.masked_fill(&ignored, 0.0);
    if let Some(bad) = safe
        .to_vec::<i64>()
        .into_iter()
        .find(|&t| t < 0 || t >= c as i64)
    {
        return Err(format!("{op}: target {bad} out of range for {c} classes"));
    }
    let keep = ignored.logical_not().to_dtype(logp.dtype());
    let mut index_shape: Vec<isize> = expected.iter().map(|&d| d as isize).collect();
    index_shape.insert(1, 1);
    let picked = logp
        .try_gather(1, &safe.reshape(&index_shape))
        .map_err(e2s)?
        .reshape_to(expected.clone());
    let w = match weight {
        Some(w) => w
            .detach()
            .to_dtype(logp.dtype())
            .index_select(0, &safe.reshape(&[-1]))
            .reshape_to(expected)
            .mul(&keep),
        None => keep.clone(),
    };
    Ok(Nll {
        loss: picked.mul(&w).neg(),
        weight_sum: w.sum(),
        keep,
    })
}

/// `(input, target)` with an unbatched input `(C)` / target `()` given a batch of one; the
/// flag says to drop it again from an unreduced result.
fn batch_of_one(input: &Tensor, target: &Tensor, class_targets: bool) -> (Tensor, Tensor, bool) {
    if input.rank() == 1 {
        let t = if class_targets {
            target.reshape(&[1])
        } else {
            target.reshape(&[1, -1])
        };
        (input.reshape(&[1, -1]), t, true)
    } else {
        (input.clone(), target.clone(), false)
    }
}

/// The loss inputs: (input, target, optional class weight).
fn loss_inputs<'a>(
    op: &str,
    inputs: &'a [Input],
) -> Result<(&'a Tensor, &'a Tensor, Option<&'a Tensor>), String> {
    let input = named(inputs, &["input", "logits", "x"]).map_or_else(|| at(inputs, 0, op), Ok)?;
    let target =
        named(inputs, &["target", "targets", "y"]).map_or_else(|| at(inputs, 1, op), Ok)?;
    let weight = named(inputs, &["weight"]).or_else(|| inputs.get(2).map(|i| &i.tensor));
    Ok((input, target, weight))
}

/// torch.nn.functional.nll_loss on log-probabilities `(N, C, d...)` or `(C)`.
fn nll_loss(a: &Args, inputs: &[Input]) -> Result<Tensor, String> {
    let (input, target, weight) = loss_inputs("nll_loss", inputs)?;
    let reduction = a.string("reduction", "mean")?;
    let ignore = a.int("ignore_index", -100)?;
    let (input, target, unbatched) = batch_of_one(input, target, true);
    let nll = nll_terms("nll_loss", &input, &target, weight, ignore)?;
    Ok(match reduction.as_str() {
        "mean" => nll.loss.sum().div(&nll.weight_sum),
        "none" if unbatched => nll.loss.reshape(&[]),
        r => reduce_loss(&nll.loss, r)?,
    })
}

/// torch.nn.functional.cross_entropy: logits `(N, C, d...)` or `(C)`, with class-index targets
/// (`weight`, `ignore_index`, `label_smoothing`, weighted mean) or class-probability targets
/// of the logits' shape.
fn cross_entropy(a: &Args, inputs: &[Input]) -> Result<Tensor, String> {
    let op = "cross_entropy";
    let (input, target, weight) = loss_inputs(op, inputs)?;
    let reduction = a.string("reduction", "mean")?;
    let ignore = a.int("ignore_index", -100)?;
    let eps = a.f64("label_smoothing", 0.0)?;
    let class_targets = !target.dtype().is_float();
    let (input, target, unbatched) = batch_of_one(input, target, class_targets);
    if input.rank() < 2 {
        return Err(format!("{op}: input of shape {:?}", input.dims()));
    }
    let c = input.dims()[1];
    let logp = input.log_softmax(1);
    let wv = weight.map(|w| class_view(&w.detach().to_dtype(logp.dtype()), logp.rank()));
    let out = if class_targets {
        let nll = nll_terms(op, &logp, &target, weight, ignore)?;
        let reduced = |l: &Tensor, divisor: &Tensor| -> Result<Tensor, String> {
            Ok(match reduction.as_str() {
                "mean" => l.sum().div(divisor),
                "none" if unbatched => l.reshape(&[]),
                r => reduce_loss(l, r)?,
            })
        };
        let loss = reduced(&nll.loss, &nll.weight_sum)?;
        if eps == 0.0 {
            loss
        } else {
            // PyTorch: (1 - ε)·nll + ε/C · Σ_c -w_c·logp_c, the smoothing term taken over the
            // targets not ignored and divided like the nll term (by Σ w[t_i] with a weight, by
            // the count of targets otherwise).
            let lp = match &wv {
                Some(w) => logp.mul(w),
                None => logp.clone(),
            };
            let smooth = lp.sum_dim(1, false).neg().mul(&nll.keep);
            let divisor = if weight.is_some() {
                nll.weight_sum.clone()
            } else {
                nll.keep.sum()
            };
            let smooth = reduced(&smooth, &divisor)?;
            loss.mul_scalar(1.0 - eps)
                .add(&smooth.mul_scalar(eps / c as f64))
        }
    } else {
        if target.dims() != input.dims() {
            return Err(format!(
                "{op}: probability target of shape {:?} for input of shape {:?}",
                target.dims(),
                input.dims()
            ));
        }
        let t = target.detach().to_dtype(logp.dtype());
        let t = if eps == 0.0 {
            t
        } else {
            t.mul_scalar(1.0 - eps).add_scalar(eps / c as f64)
        };
        let mut term = logp.mul(&t);
        if let Some(w) = &wv {
            term = term.mul(w);
        }
        let per = term.sum_dim(1, false).neg();
        match reduction.as_str() {
            // The mean is over the targets: numel / C of them.
            "mean" => per.sum().div_scalar((input.numel() / c.max(1)) as f64),
            "none" if unbatched => per.reshape(&[]),
            r => reduce_loss(&per, r)?,
        }
    };
    Ok(out)
}

/// torch.nn.functional.binary_cross_entropy_with_logits, as
/// `l = pos_weight·t·softplus(-x) + (1 - t)·softplus(x)` (= `-(pw·t·log σ(x) + (1-t)·log(1-σ(x)))`):
/// both terms are non-negative, so nothing cancels for large |x|; times `weight`.
fn bce_with_logits(a: &Args, inputs: &[Input]) -> Result<Tensor, String> {
    let op = "binary_cross_entropy_with_logits";
    let x = named(inputs, &["input", "logits", "x"]).map_or_else(|| at(inputs, 0, op), Ok)?;
    let t = named(inputs, &["target", "y"]).map_or_else(|| at(inputs, 1, op), Ok)?;
    let mut pos = t.mul(&x.neg().softplus(1.0, 20.0));
    if let Some(pw) = named(inputs, &["pos_weight"]) {
        pos = pos.mul(pw);
    }
    let mut l = pos.add(&t.rsub_scalar(1.0).mul(&x.softplus(1.0, 20.0)));
    if let Some(w) = named(inputs, &["weight"]) {
        l = l.mul(w);
    }
    reduce_loss(&l, &a.string("reduction", "mean")?)
}

/// torch.nn.functional.binary_cross_entropy on probabilities, with PyTorch's clamp of each
/// log at -100.
fn bce(a: &Args, inputs: &[Input]) -> Result<Tensor, String> {
    let op = "binary_cross_entropy";
    let p = named(inputs, &["input", "x"]).map_or_else(|| at(inputs, 0, op), Ok)?;
    let t = named(inputs, &["target", "y"]).map_or_else(|| at(inputs, 1, op), Ok)?;
    let log_p = p.log().clamp_min(-100.0);
    let log_q = p.rsub_scalar(1.0).log().clamp_min(-100.0);
    let mut l = t.mul(&log_p).add(&t.rsub_scalar(1.0).mul(&log_q)).neg();
    if let Some(w) = named(inputs, &["weight"]) {
        l = l.mul(w);
    }
    reduce_loss(&l, &a.string("reduction", "mean")?)
}

/// torch.nn.functional.pad: `pad` lists (before, after) pairs from the last dimension;
/// `mode` constant (with `value`), reflect, replicate or circular.
fn pad(a: &Args, x: &Tensor) -> Result<Tensor, String> {
    let pads = a
        .dims_opt("pad")?
        .ok_or_else(|| "pad: attribute pad is required".to_string())?;
    let mode = match a.string("mode", "constant")?.as_str() {
        "constant" => PadMode::Constant(a.f64("value", 0.0)?),
        "reflect" => PadMode::Reflect,
        "replicate" => PadMode::Replicate,
        "circular" => PadMode::Circular,
        m => return Err(format!("pad: unknown mode \"{m}\"")),
    };
    x.try_pad(&pads, mode).map_err(e2s)
}

/// `x.select(dim, index)` with the range checked.
fn select(x: &Tensor, dim: isize, index: isize) -> Result<Tensor, String> {
    let d = baeum::tensor::resolve_dim(dim, x.rank()).map_err(e2s)?;
    let n = x.dims()[d] as isize;
    if index < -n || index >= n {
        return Err(format!(
            "index {index} out of range for dimension {d} of shape {:?}",
            x.dims()
        ));
    }
    Ok(x.select(d, index))
}

/// One item of a Python subscript.
#[derive(Clone, Debug, PartialEq)]
pub enum Index {
    /// `start:stop:step`, each optional.
    Slice(Option<isize>, Option<isize>, Option<isize>),
    /// An integer: selects and removes the dimension.
    At(isize),
    /// `...`
    Ellipsis,
    /// `None`: a new dimension of size 1.
    NewAxis,
}

/// Parses a Python subscript such as `x[:, 1::2, :3]` (the part in brackets).
pub fn parse_subscript(expr: &str) -> Result<Vec<Index>, String> {
    let bad = || format!("slice: cannot parse subscript {expr:?}");
    let open = expr.find('[').ok_or_else(bad)?;
    let close = expr.rfind(']').filter(|&c| c > open).ok_or_else(bad)?;
    let inner = expr[open + 1..close].trim();
    if inner.is_empty() {
        return Err(bad());
    }
    let int = |s: &str| -> Result<Option<isize>, String> {
        let s = s.trim();
        if s.is_empty() || s == "None" {
            Ok(None)
        } else {
            s.parse::<isize>().map(Some).map_err(|_| bad())
        }
    };
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            Ok(match item {
                "..." | "Ellipsis" => Index::Ellipsis,
                "None" => Index::NewAxis,
                _ if item.contains(':') => {
                    let parts: Vec<&str> = item.split(':').collect();
                    if parts.len() > 3 {
                        return Err(bad());
                    }
                    Index::Slice(
                        int(parts[0])?,
                        int(parts[1])?,
                        parts.get(2).map(|s| int(s)).transpose()?.flatten(),
                    )
                }
                _ => Index::At(int(item)?.ok_or_else(bad)?),
            })
        })
        .collect()
}

/// Applies a parsed subscript as PyTorch basic indexing does (views; steps must be positive).
pub fn apply_subscript(x: &Tensor, items: &[Index]) -> Result<Tensor, String> {
    let consuming = items
        .iter()
        .filter(|i| matches!(i, Index::Slice(..) | Index::At(_)))
        .count();
    if consuming > x.rank() {
        return Err(format!(
            "slice: {consuming} indices for a tensor of shape {:?}",
            x.dims()
        ));
    }
    if items.iter().filter(|i| **i == Index::Ellipsis).count() > 1 {
        return Err("slice: more than one ellipsis".into());
    }
    let mut t = x.clone();
    let mut d = 0usize;
    for item in items {
        match *item {
            Index::Ellipsis => d += x.rank() - consuming,
            Index::NewAxis => {
                t = t.unsqueeze(d);
                d += 1;
            }
            Index::At(i) => t = select(&t, d as isize, i)?,
            Index::Slice(start, stop, step) => {
                let step = step.unwrap_or(1);
                if step <= 0 {
                    return Err(format!("slice: step must be positive, got {step}"));
                }
                t = t.slice(
                    d,
                    start.unwrap_or(0),
                    stop.unwrap_or(isize::MAX),
                    step as usize,
                );
                d += 1;
            }
        }
    }
    Ok(t)
}

/// `slice`: a Python subscript in `slices` (`"x[:, 1::2, :3]"`), or `dim`/`start`/`end`/`step`.
fn slice(a: &Args, x: &Tensor) -> Result<Tensor, String> {
    if a.has("slices") {
        let expr = a.string("slices", "")?;
        return apply_subscript(x, &parse_subscript(&expr)?);
    }
    let d = a.int("dim", 0)?;
    let start = a.int_opt("start")?.map(|v| v as isize);
    let end = a.int_opt("end")?.map(|v| v as isize);
    let step = a.int_opt("step")?.map(|v| v as isize);
    if d < 0 && -d as usize > x.rank() || d >= 0 && d as usize >= x.rank() {
        return Err(format!(
            "slice: dim {d} for a tensor of shape {:?}",
            x.dims()
        ));
    }
    let d = if d < 0 { d + x.rank() as i64 } else { d } as usize;
    let mut items = vec![Index::Slice(None, None, None); d];
    items.push(Index::Slice(start, end, step));
    apply_subscript(x, &items)
}

/// split (`split_size_or_sections` / `split_sizes` / `split_size`) and chunk (`chunks`) along `dim`.
fn split(op: &str, a: &Args, x: &Tensor) -> Result<Vec<Tensor>, String> {
    let d = a.int("dim", 0)? as isize;
    let n = x.dims()[baeum::tensor::resolve_dim(d, x.rank()).map_err(e2s)?];
    if op == "chunk" {
        let k = a.int_required("chunks")?;
        if k <= 0 {
            return Err(format!("chunk: chunks must be positive, got {k}"));
        }
        return Ok(x.chunk(k as usize, d));
    }
    let key = a
        .first_of(&[
            "split_size_or_sections",
            "split_sizes",
            "sections",
            "split_size",
        ])
        .ok_or_else(|| "split: attribute split_size_or_sections is required".to_string())?;
    let sizes = a.ints_opt(key)?.unwrap_or_default();
    if sizes.iter().any(|&s| s < 0) {
        return Err(format!("split: negative size in {sizes:?}"));
    }
    let sizes: Vec<usize> = sizes.iter().map(|&s| s as usize).collect();
    let single = matches!(a.map.get(key), Some(v) if as_int(v).is_some());
    if single {
        if sizes[0] == 0 {
            return Err("split: split size 0".into());
        }
        Ok(x.split(sizes[0], d))
    } else {
        if sizes.iter().sum::<usize>() != n {
            return Err(format!(
                "split: sizes {sizes:?} do not add up to dimension {d} of shape {:?}",
                x.dims()
            ));
        }
        Ok(x.split_sizes(&sizes, d))
    }
}

// ---------------------------------------------------------------------------------------------
// Layers: baeum::nn::functional.

/// A size attribute (one value or one per spatial dim) as `Sizes`, or `default`.
fn sizes(a: &Args, name: &str, default: usize) -> Result<Sizes, String> {
    match a.ints_opt(name)? {
        None => Ok(Sizes::from(default)),
        Some(v) => v
            .iter()
            .map(|&x| usize::try_from(x).map_err(|_| format!("{name} = {v:?} must be >= 0")))
            .collect::<Result<Vec<usize>, String>>()
            .map(Sizes),
    }
}

fn groups(a: &Args) -> Result<usize, String> {
    let g = a.int("groups", 1)?;
    usize::try_from(g).map_err(|_| format!("groups = {g}"))
}

/// The input, weight and optional bias of a convolution.
fn conv_operands<'a>(
    op: &str,
    inputs: &'a [Input],
) -> Result<(&'a Tensor, &'a Tensor, Option<&'a Tensor>), String> {
    let x = named(inputs, &["input", "x"]).map_or_else(|| at(inputs, 0, op), Ok)?;
    let w = named(inputs, &["weight", "w"]).map_or_else(|| at(inputs, 1, op), Ok)?;
    let b = named(inputs, &["bias", "b"]).or_else(|| {
        inputs
            .get(2)
            .filter(|i| !["input", "x", "weight", "w"].contains(&i.name.as_str()))
            .map(|i| &i.tensor)
    });
    Ok((x, w, b))
}

/// torch.nn.functional.conv1d / conv2d (padding: sizes or "same" / "valid").
fn conv(op: &str, a: &Args, inputs: &[Input]) -> Result<Tensor, String> {
    let (x, w, b) = conv_operands(op, inputs)?;
    let padding = match a.value("padding") {
        Some(Value::String(s)) => match s.as_str() {
            "same" => Padding::Same,
            "valid" => Padding::Valid,
            other => return Err(format!("{op}: padding=\"{other}\"")),
        },
        _ => Padding::Explicit(sizes(a, "padding", 0)?),
    };
    let o = ConvOptions {
        stride: sizes(a, "stride", 1)?,
        padding,
        dilation: sizes(a, "dilation", 1)?,
        groups: groups(a)?,
    };
    if a.string("padding_mode", "zeros")? != "zeros" {
        return Err(format!("{op}: only padding_mode=\"zeros\" is mapped"));
    }
    match op {
        "conv1d" => F::conv1d(x, w, b, &o),
        _ => F::conv2d(x, w, b, &o),
    }
    .map_err(e2s)
}

/// torch.nn.functional.conv_transpose1d / conv_transpose2d.
fn conv_transpose(op: &str, a: &Args, inputs: &[Input]) -> Result<Tensor, String> {
    let (x, w, b) = conv_operands(op, inputs)?;
    let o = ConvTransposeOptions {
        stride: sizes(a, "stride", 1)?,
        padding: sizes(a, "padding", 0)?,
        output_padding: sizes(a, "output_padding", 0)?,
        groups: groups(a)?,
        dilation: sizes(a, "dilation", 1)?,
    };
    match op {
        "conv_transpose1d" => F::conv_transpose1d(x, w, b, &o),
        _ => F::conv_transpose2d(x, w, b, &o),
    }
    .map_err(e2s)
}

/// The stride attribute of a pool: absent, null or an empty list mean "the kernel size".
fn pool_stride(a: &Args) -> Result<Option<Sizes>, String> {
    Ok(match a.ints_opt("stride")? {
        Some(v) if !v.is_empty() => Some(sizes(a, "stride", 1)?),
        _ => None,
    })
}

/// torch.nn.functional.max_pool1d / max_pool2d (values, and the indices with
/// return_indices).
fn max_pool(op: &str, a: &Args, x: &Tensor) -> Result<Vec<Tensor>, String> {
    let kernel = a
        .ints_opt("kernel_size")?
        .ok_or_else(|| format!("{op}: attribute kernel_size is required"))?;
    let o = MaxPoolOptions {
        kernel_size: Sizes(kernel.iter().map(|&k| k.max(0) as usize).collect()),
        stride: pool_stride(a)?,
        padding: sizes(a, "padding", 0)?,
        dilation: sizes(a, "dilation", 1)?,
        ceil_mode: a.bool("ceil_mode", false)?,
    };
    let (v, i) = match op {
        "max_pool1d" => F::max_pool1d_with_indices(x, &o),
        _ => F::max_pool2d_with_indices(x, &o),
    }
    .map_err(e2s)?;
    Ok(if a.bool("return_indices", false)? {
        vec![v, i]
    } else {
        vec![v]
    })
}

/// torch.nn.functional.avg_pool1d / avg_pool2d.
fn avg_pool(op: &str, a: &Args, x: &Tensor) -> Result<Tensor, String> {
    let kernel = a
        .ints_opt("kernel_size")?
        .ok_or_else(|| format!("{op}: attribute kernel_size is required"))?;
    let divisor = a.int_opt("divisor_override")?;
    let o = AvgPoolOptions {
        kernel_size: Sizes(kernel.iter().map(|&k| k.max(0) as usize).collect()),
        stride: pool_stride(a)?,
        padding: sizes(a, "padding", 0)?,
        ceil_mode: a.bool("ceil_mode", false)?,
        count_include_pad: a.bool("count_include_pad", true)?,
        divisor_override: divisor.map(|d| d.max(0) as usize),
    };
    match op {
        "avg_pool1d" => F::avg_pool1d(x, &o),
        _ => F::avg_pool2d(x, &o),
    }
    .map_err(e2s)
}

/// torch.nn.functional.adaptive_{avg,max}_pool{1,2}d; output_size entries that are null keep
/// the input's size, as in PyTorch.
fn adaptive_pool(op: &str, a: &Args, x: &Tensor) -> Result<Vec<Tensor>, String> {
    let spatial = if op.ends_with("1d") { 1 } else { 2 };
    let raw = a
        .value("output_size")
        .cloned()
        .ok_or_else(|| format!("{op}: attribute output_size is required"))?;
    let items: Vec<Value> = match raw {
        Value::Array(v) => v,
        v => vec![v],
    };
    let r = x.rank();
    let mut size = Vec::new();
    for (k, v) in items.iter().enumerate() {
        let keep = if r >= spatial {
            x.dims()[r - spatial + k.min(spatial - 1)]
        } else {
            0
        };
        match v {
            Value::Null => size.push(keep),
            v => size.push(
                as_int(v)
                    .filter(|&i| i > 0)
                    .ok_or_else(|| format!("{op}: output_size {items:?}"))?
                    as usize,
            ),
        }
    }
    let size = Sizes(size);
    let with_indices = a.bool("return_indices", false)?;
    let (v, i) = match op {
        "adaptive_avg_pool1d" => (F::adaptive_avg_pool1d(x, size.0[0]).map_err(e2s)?, None),
        "adaptive_avg_pool2d" => (F::adaptive_avg_pool2d(x, size).map_err(e2s)?, None),
        "adaptive_max_pool1d" => (F::adaptive_max_pool1d(x, size.0[0]).map_err(e2s)?, None),
        _ => {
            let (v, i) = F::adaptive_max_pool2d_with_indices(x, size).map_err(e2s)?;
            (v, Some(i))
        }
    };
    Ok(match (with_indices, i) {
        (true, Some(i)) => vec![v, i],
        (true, None) => return Err(format!("{op}: return_indices is not mapped")),
        _ => vec![v],
    })
}

/// torch.nn.functional.embedding: rows of `weight` picked by integer `indices`; the row
/// `padding_idx` is read but receives no gradient.
fn embedding(a: &Args, inputs: &[Input]) -> Result<Tensor, String> {
    let op = "embedding";
    let idx = int_input(inputs, op)?;
    let w = named(inputs, &["weight"])
        .or_else(|| float_inputs(inputs).first().copied())
        .ok_or_else(|| "embedding: no weight input".to_string())?;
    if a.has("max_norm") {
        return Err("embedding: max_norm (an in-place renormalisation) is not mapped".into());
    }
    if a.bool("scale_grad_by_freq", false)? {
        return Err("embedding: scale_grad_by_freq is not mapped".into());
    }
    a.bool("sparse", false)?;
    F::embedding(idx, w, a.int_opt("padding_idx")?).map_err(e2s)
}

/// torch.nn.functional.layer_norm over the trailing `normalized_shape` dims.
fn layer_norm(a: &Args, inputs: &[Input]) -> Result<Tensor, String> {
    let x = named(inputs, &["input", "x"]).map_or_else(|| at(inputs, 0, "layer_norm"), Ok)?;
    let shape = a
        .ints_opt("normalized_shape")?
        .ok_or_else(|| "layer_norm: attribute normalized_shape is required".to_string())?;
    let shape: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
    let eps = a.f64("eps", 1e-5)?;
    F::layer_norm(
        x,
        &shape,
        named(inputs, &["weight"]),
        named(inputs, &["bias"]),
        eps,
    )
    .map_err(e2s)
}

/// torch.nn.functional.group_norm: statistics per (sample, group of channels), per-channel
/// affine.
fn group_norm(a: &Args, inputs: &[Input]) -> Result<Tensor, String> {
    let x = named(inputs, &["input", "x"]).map_or_else(|| at(inputs, 0, "group_norm"), Ok)?;
    let g = a.int_required("num_groups")?;
    let eps = a.f64("eps", 1e-5)?;
    F::group_norm(
        x,
        g.max(0) as usize,
        named(inputs, &["weight"]),
        named(inputs, &["bias"]),
        eps,
    )
    .map_err(e2s)
}

/// torch.nn.functional.batch_norm. Training: batch statistics, and the updated running
/// statistics as outputs 1 and 2 (baeum updates them in place: copies are updated here, so
/// the case's input tensors stay as loaded). Evaluation: the running statistics.
fn batch_norm(a: &Args, inputs: &[Input]) -> Result<Vec<Tensor>, String> {
    let op = "batch_norm";
    let x = named(inputs, &["input", "x"]).map_or_else(|| at(inputs, 0, op), Ok)?;
    let copy = |t: &Tensor| t.detach() * 1.0;
    let rm = named(inputs, &["running_mean"]).map(copy);
    let rv = named(inputs, &["running_var"]).map(copy);
    let (w, b) = (named(inputs, &["weight"]), named(inputs, &["bias"]));
    let training = a.bool("training", false)?;
    let eps = a.f64("eps", 1e-5)?;
    // F.batch_norm's default momentum; None is the cumulative average (first batch: 1).
    let momentum = if a.has("momentum") {
        a.f64("momentum", 0.1)?
    } else if a.map.contains_key("momentum") {
        F::batch_norm_momentum(None, 1)
    } else {
        0.1
    };
    let y =
        F::batch_norm(x, rm.as_ref(), rv.as_ref(), w, b, training, momentum, eps).map_err(e2s)?;
    let mut outs = vec![y];
    if training && let (Some(rm), Some(rv)) = (rm, rv) {
        outs.push(rm);
        outs.push(rv);
    }
    Ok(outs)
}

/// A composite case: its semantics line is a nested call expression over the inputs, such as
/// `loss = cross_entropy(linear(relu(linear(x, w1, b1)), w2, b2), target)`, evaluated with
/// this op table (keyword arguments become attributes).
/// `torch.nn.LSTM` / `GRU` / `RNN` with the parameters given as inputs named as PyTorch's
/// `named_parameters()` (`weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`, `weight_hr_l{k}` with proj_size, with
/// `_reverse` for the backward direction), and optional initial states `h0` (and `c0`).
/// Returns `[output, h_n]`, plus `c_n` for the LSTM.
fn recurrent(op: &str, a: &Args, inputs: &[Input]) -> Result<Vec<Tensor>, String> {
    let mode = match op {
        "lstm" => F::RnnMode::Lstm,
        "gru" => F::RnnMode::Gru,
        "rnn_tanh" => F::RnnMode::Tanh,
        "rnn_relu" => F::RnnMode::Relu,
        _ => match a.string("nonlinearity", "tanh")?.as_str() {
            "tanh" => F::RnnMode::Tanh,
            "relu" => F::RnnMode::Relu,
            other => {
                return Err(format!(
                    "{op}: nonlinearity '{other}' is not one of tanh, relu"
                ));
            }
        },
    };
    let count = |name: &str, default: i64| -> Result<usize, String> {
        let v = a.int(name, default)?;
        usize::try_from(v).map_err(|_| format!("{op}: {name} = {v} must not be negative"))
    };
    let num_layers = count("num_layers", 1)?;
    let bidirectional = a.bool("bidirectional", false)?;
    let batch_first = a.bool("batch_first", false)?;
    let bias = a.bool("bias", true)?;
    // Dropout between layers is random, so a reference can only hold it off (p = 0).
    let dropout = a.f64("dropout", 0.0)?;
    if dropout != 0.0 {
        return Err(format!(
            "{op}: dropout = {dropout} between layers is random; only 0 can be compared"
        ));
    }
    let proj_size = count("proj_size", 0)?;
    if proj_size != 0 && mode != F::RnnMode::Lstm {
        return Err(format!("{op}: proj_size = {proj_size} is only for an LSTM"));
    }
    let input = named(inputs, &["input", "x"])
        .or_else(|| inputs.first().map(|i| &i.tensor))
        .ok_or_else(|| format!("{op}: no input sequence"))?;
    let feature = input.dims().last().copied().unwrap_or(0);
    if let Some(size) = a.int_opt("input_size")?
        && size != feature as i64
    {
        return Err(format!(
            "{op}: input_size = {size} but the input {:?} has {feature} features",
            input.dims()
        ));
    }
    let dirs = if bidirectional { 2 } else { 1 };
    let mut weights = Vec::with_capacity(num_layers * dirs);
    for layer in 0..num_layers {
        for suffix in &["", "_reverse"][..dirs] {
            let get = |kind: &str| {
                let key = format!("{kind}_l{layer}{suffix}");
                named(inputs, &[key.as_str()]).ok_or_else(|| format!("{op}: no input named {key}"))
            };
            let biases = if bias {
                (Some(get("bias_ih")?), Some(get("bias_hh")?))
            } else {
                (None, None)
            };
            let w_hr = if proj_size > 0 {
                Some(get("weight_hr")?)
            } else {
                None
            };
            weights.push(F::CellWeights {
                w_ih: get("weight_ih")?,
                w_hh: get("weight_hh")?,
                b_ih: biases.0,
                b_hh: biases.1,
                w_hr,
            });
        }
    }
    if let Some(size) = a.int_opt("hidden_size")? {
        let have = weights[0].w_ih.dims().first().copied().unwrap_or(0) / mode.gates();
        if size != have as i64 {
            return Err(format!(
                "{op}: hidden_size = {size} but weight_ih_l0 is {:?}",
                weights[0].w_ih.dims()
            ));
        }
    }
    let options = F::RecurrentOptions {
        mode,
        num_layers,
        bidirectional,
        batch_first,
        dropout,
        training: false,
    };
    let h0 = named(inputs, &["h0", "hx"]);
    let c0 = named(inputs, &["c0", "cx"]);
    if mode != F::RnnMode::Lstm && c0.is_some() {
        return Err(format!(
            "{op}: a cell state c0 is given, but only an LSTM has one"
        ));
    }
    // The generator would only feed inter-layer dropout, which is off.
    let mut generator = baeum::Generator::new(0);
    let out = F::recurrent(input, h0, c0, &weights, options, &mut generator).map_err(e2s)?;
    let mut outs = vec![out.output, out.h_n];
    outs.extend(out.c_n);
    Ok(outs)
}

fn composite(a: &Args, inputs: &[Input]) -> Result<Tensor, String> {
    let s = a.semantics();
    let body = s.split_once('=').map_or(s, |(_, r)| r);
    let mut p = ExprParser {
        s: body.as_bytes(),
        pos: 0,
    };
    let e = p
        .expr()
        .map_err(|e| format!("composite: cannot read the semantics {s:?}: {e}"))?;
    eval(&e, inputs)
}

#[derive(Clone, Debug)]
enum Expr {
    Name(String),
    Number(f64),
    Str(String),
    Call(String, Vec<Expr>, Vec<(String, Expr)>),
}

struct ExprParser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl ExprParser<'_> {
    fn skip(&mut self) {
        while self.s.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip();
        if self.s.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Option<String> {
        self.skip();
        let start = self.pos;
        while self
            .s
            .get(self.pos)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
        {
            self.pos += 1;
        }
        if self.pos == start || self.s[start].is_ascii_digit() {
            self.pos = start;
            return None;
        }
        Some(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    fn expr(&mut self) -> Result<Expr, String> {
        self.skip();
        match self.s.get(self.pos) {
            None => return Err("expression expected".into()),
            Some(&q @ (b'\'' | b'"')) => {
                let start = self.pos + 1;
                let len = self.s[start..]
                    .iter()
                    .position(|&c| c == q)
                    .ok_or("unterminated string")?;
                self.pos = start + len + 1;
                return Ok(Expr::Str(
                    String::from_utf8_lossy(&self.s[start..start + len]).into_owned(),
                ));
            }
            Some(c) if c.is_ascii_digit() || *c == b'-' || *c == b'.' => {
                let rest = String::from_utf8_lossy(&self.s[self.pos..]).into_owned();
                let len = rest
                    .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
                    .unwrap_or(rest.len());
                let v = number_after(&rest[..len], "").ok_or("bad number")?;
                self.pos += len;
                return Ok(Expr::Number(v));
            }
            _ => {}
        }
        let name = self.ident().ok_or("name expected")?;
        if !self.eat(b'(') {
            return Ok(Expr::Name(name));
        }
        let (mut args, mut kwargs) = (Vec::new(), Vec::new());
        if !self.eat(b')') {
            loop {
                let save = self.pos;
                match self.ident() {
                    Some(k) if self.eat(b'=') => kwargs.push((k, self.expr()?)),
                    _ => {
                        self.pos = save;
                        args.push(self.expr()?);
                    }
                }
                if self.eat(b')') {
                    break;
                }
                if !self.eat(b',') {
                    return Err(format!("',' or ')' expected at byte {}", self.pos));
                }
            }
        }
        Ok(Expr::Call(name, args, kwargs))
    }
}

fn eval(e: &Expr, inputs: &[Input]) -> Result<Tensor, String> {
    match e {
        Expr::Name(n) => named(inputs, &[n.as_str()])
            .cloned()
            .ok_or_else(|| format!("composite: no input named '{n}'")),
        Expr::Number(_) | Expr::Str(_) => {
            Err("composite: a number or string where a tensor is expected".into())
        }
        Expr::Call(f, args, kwargs) => {
            let f = ["torch.nn.functional.", "F.", "torch."]
                .iter()
                .find_map(|p| f.strip_prefix(p))
                .unwrap_or(f);
            let ins = args
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let t = eval(e, inputs)?;
                    // Arguments that are plain inputs keep their names (weight, target...).
                    let name = match e {
                        Expr::Name(n) => n.clone(),
                        _ => format!("arg{i}"),
                    };
                    Ok(Input { name, tensor: t })
                })
                .collect::<Result<Vec<_>, String>>()?;
            let mut map = Map::new();
            for (k, v) in kwargs {
                let v = match v {
                    Expr::Number(x) => Value::from(*x),
                    Expr::Str(s) => Value::from(s.clone()),
                    Expr::Name(n) if n == "True" || n == "False" => Value::from(n == "True"),
                    Expr::Name(n) if n == "None" => Value::Null,
                    _ => return Err(format!("composite: keyword {k} of {f} is not a constant")),
                };
                map.insert(k.clone(), v);
            }
            let args = Args::new(f, map, "");
            let mut outs = forward(f, &args, &ins, None)?;
            args.check_all_read()?;
            if outs.is_empty() {
                return Err(format!("composite: {f} gave no output"));
            }
            Ok(outs.swap_remove(0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(v: &[f64], shape: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), shape.to_vec())
    }

    fn ins(ts: &[(&str, Tensor)]) -> Vec<Input> {
        ts.iter().map(|(n, t)| Input::new(n, t.clone())).collect()
    }

    fn args(op: &str, v: Value, semantics: &str) -> Args {
        Args::new(op, v.as_object().cloned().unwrap_or_default(), semantics)
    }

    fn run(op: &str, a: Value, inputs: &[(&str, Tensor)]) -> Result<Vec<Tensor>, String> {
        let a = args(op, a, "");
        let outs = forward(op, &a, &ins(inputs), None)?;
        a.check_all_read()?;
        Ok(outs)
    }

    fn close(got: &Tensor, want: &[f64]) {
        let g = got.to_vec::<f64>();
        assert_eq!(g.len(), want.len(), "{g:?} vs {want:?}");
        for (x, y) in g.iter().zip(want) {
            assert!(
                (x - y).abs() <= 1e-12 * (1.0 + y.abs()),
                "{g:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn attributes_read_typed_and_unread_ones_are_reported() {
        let a = args(
            "sum",
            json!({"dim": [0, 2], "keepdim": true, "k": 3, "f": 0.5, "n": null, "s": "x"}),
            "",
        );
        assert_eq!(a.dims_opt("dim").unwrap(), Some(vec![0, 2]));
        assert!(a.bool("keepdim", false).unwrap());
        assert_eq!(a.ints_opt("k").unwrap(), Some(vec![3]));
        assert!(a.int_opt("dim").is_err(), "two dims are not one");
        let b = args("softmax", json!({"dim": [-1]}), "");
        assert_eq!(b.dim_required("dim").unwrap(), -1);
        assert_eq!(a.f64("f", 0.0).unwrap(), 0.5);
        assert!(a.int("f", 0).is_err());
        assert_eq!(a.int("n", 7).unwrap(), 7, "null reads as absent");
        let e = a.check_all_read().unwrap_err();
        assert_eq!(e, "op 'sum': unsupported attribute(s) s = \"x\"");
        a.string("s", "").unwrap();
        a.check_all_read().unwrap();
    }

    #[test]
    fn parameters_come_from_the_semantics_when_not_attributes() {
        let a = args(
            "leaky_relu",
            json!({}),
            "y = x if x>0 else 0.1*x (negative_slope=0.1)",
        );
        assert_eq!(a.param("negative_slope", 0.01).unwrap(), 0.1);
        assert_eq!(a.param("alpha", 1.0).unwrap(), 1.0);
        let a = args(
            "clamp",
            json!({}),
            "y = min(max(x, -0.5), 0.5); grad 1 inside",
        );
        assert_eq!(clamp_bounds(&a).unwrap(), (Some(-0.5), Some(0.5)));
        let a = args("clamp", json!({"min": -1.0}), "");
        assert_eq!(clamp_bounds(&a).unwrap(), (Some(-1.0), None));
        let a = args("clamp", json!({}), "y = clamp(x, -2, 3.5)");
        assert_eq!(clamp_bounds(&a).unwrap(), (Some(-2.0), Some(3.5)));
        assert!(clamp_bounds(&args("clamp", json!({}), "y = x")).is_err());
        for (s, e) in [
            ("y = x ** 3, x in [0.5, 2]", 3.0),
            ("y = x^2.5", 2.5),
            ("y = pow(x, -1.5)", -1.5),
        ] {
            assert_eq!(pow_exponent(&args("pow_scalar", json!({}), s)).unwrap(), e);
        }
        assert_eq!(
            pow_exponent(&args("pow", json!({"exponent": 2}), "")).unwrap(),
            2.0
        );
        assert_eq!(number_after("threshold=20. then", "threshold="), Some(20.0));
    }

    #[test]
    fn subscripts_follow_python() {
        let x = Tensor::from_vec((0..90).map(f64::from).collect(), [3, 6, 5]);
        let items = parse_subscript("x[:, 1::2, :3]").unwrap();
        assert_eq!(
            items,
            vec![
                Index::Slice(None, None, None),
                Index::Slice(Some(1), None, Some(2)),
                Index::Slice(None, Some(3), None)
            ]
        );
        let y = apply_subscript(&x, &items).unwrap();
        assert_eq!(y.dims(), &[3, 3, 3]);
        assert_eq!(y.get(&[1, 2, 1]), (30 + 5 * 5 + 1) as f64);
        let y = apply_subscript(&x, &parse_subscript("x[..., -1]").unwrap()).unwrap();
        assert_eq!(y.dims(), &[3, 6]);
        assert_eq!(y.get(&[2, 0]), 64.0);
        let y = apply_subscript(&x, &parse_subscript("x[1, None, -2:]").unwrap()).unwrap();
        assert_eq!(y.dims(), &[1, 2, 5]);
        assert_eq!(y.get(&[0, 0, 0]), 50.0);
        assert!(apply_subscript(&x, &parse_subscript("x[::-1]").unwrap()).is_err());
        assert!(apply_subscript(&x, &parse_subscript("x[0, 0, 0, 0]").unwrap()).is_err());
        assert!(parse_subscript("x[a:b]").is_err());
        // The dim/start/end/step form.
        let y = run(
            "slice",
            json!({"dim": 1, "start": -4, "step": 3}),
            &[("x", x)],
        )
        .unwrap();
        assert_eq!(y[0].dims(), &[3, 2, 5]);
    }

    #[test]
    fn unsupported_and_malformed_say_so() {
        let x = t(&[1.0, 2.0], &[2]);
        let e = run("conv3d", json!({}), &[("x", x.clone())]).unwrap_err();
        assert_eq!(e, "op 'conv3d' not supported yet");
        let e = run("frobnicate", json!({}), &[("x", x.clone())]).unwrap_err();
        assert!(e.contains("not supported yet"), "{e}");
        let e = run("relu", json!({"inplace_weirdness": 1}), &[("x", x.clone())]).unwrap_err();
        assert!(
            e.contains("unsupported attribute(s) inplace_weirdness"),
            "{e}"
        );
        assert!(run("add", json!({}), &[]).is_err());
        assert!(
            run("softmax", json!({}), &[("x", x)]).is_err(),
            "dim required"
        );
    }

    #[test]
    fn ops_map_with_their_attributes() {
        let x = t(&[1.0, -2.0, 3.0, -4.0, 5.0, -6.0], &[2, 3]);
        // expand takes its size from the attributes, or from the expected output shape.
        let r = t(&[1.0, 2.0, 3.0], &[1, 3]);
        let y = run("expand", json!({"size": [2, -1]}), &[("x", r.clone())]).unwrap();
        assert_eq!(y[0].dims(), &[2, 3]);
        let a = args("expand", json!({}), "");
        let y = forward("expand", &a, &ins(&[("x", r)]), Some(&[4, 3])).unwrap();
        assert_eq!(y[0].dims(), &[4, 3]);
        let y = run("permute", json!({"dims": [1, 0]}), &[("x", x.clone())]).unwrap();
        close(&y[0], &[1.0, -4.0, -2.0, 5.0, 3.0, -6.0]);
        // max with a dim gives values and int64 indices.
        let y = run(
            "max",
            json!({"dim": 1, "keepdim": false}),
            &[("x", x.clone())],
        )
        .unwrap();
        close(&y[0], &[3.0, 5.0]);
        assert_eq!(y[1].to_vec::<i64>(), vec![2, 1]);
        // where finds the bool condition wherever it is.
        let c = Tensor::from_vec(vec![true, false, true], [3]);
        let p = t(&[1.0, 2.0, 3.0], &[3]);
        let q = t(&[-1.0, -2.0, -3.0], &[3]);
        let y = run(
            "where",
            json!({}),
            &[("condition", c), ("x", p.clone()), ("y", q)],
        )
        .unwrap();
        close(&y[0], &[1.0, -2.0, 3.0]);
        // linear = x Wᵀ + b
        let w = t(&[1.0, 0.0, 1.0, 0.0, 2.0, 0.0], &[2, 3]);
        let b = t(&[0.5, -0.5], &[2]);
        let y = run(
            "linear",
            json!({}),
            &[("input", x.clone()), ("weight", w), ("bias", b)],
        )
        .unwrap();
        close(&y[0], &[4.5, -4.5, -9.5, 9.5]);
        // add with alpha, a scalar operand.
        let y = run(
            "add",
            json!({"alpha": 2.0}),
            &[("a", p.clone()), ("b", p.clone())],
        )
        .unwrap();
        close(&y[0], &[3.0, 6.0, 9.0]);
        let y = run("mul", json!({"other": 2.5}), &[("a", p.clone())]).unwrap();
        close(&y[0], &[2.5, 5.0, 7.5]);
        // var with a correction other than 0 or 1.
        let y = run(
            "var",
            json!({"dim": 1, "correction": 2}),
            &[("x", x.clone())],
        )
        .unwrap();
        // row 0: mean 2/3, Σ(x-m)² = (1/3)² + (8/3)² + (7/3)² = 114/9
        assert!((y[0].get(&[0]) - 114.0 / 9.0).abs() < 1e-12);
        let y = run(
            "split",
            json!({"split_sizes": [1, 2], "dim": 1}),
            &[("x", x.clone())],
        )
        .unwrap();
        assert_eq!(
            (y[0].dims(), y[1].dims()),
            (&[2usize, 1][..], &[2usize, 2][..])
        );
        let y = run(
            "split",
            json!({"split_size_or_sections": 2, "dim": 1}),
            &[("x", x.clone())],
        )
        .unwrap();
        assert_eq!(y.len(), 2);
        assert!(
            run(
                "split",
                json!({"split_sizes": [1, 1], "dim": 1}),
                &[("x", x.clone())]
            )
            .is_err()
        );
        let y = run(
            "pad",
            json!({"pad": [1, 0], "mode": "constant", "value": 0.5}),
            &[("x", p)],
        )
        .unwrap();
        close(&y[0], &[0.5, 1.0, 2.0, 3.0]);
        let y = run("transpose", json!({}), &[("x", x.clone())]).unwrap();
        assert_eq!(y[0].dims(), &[3, 2]);
        let i = Tensor::from_vec(vec![2i64, 0], [2, 1]);
        let y = run(
            "gather",
            json!({"dim": 1}),
            &[("x", x.clone()), ("index", i)],
        )
        .unwrap();
        close(&y[0], &[3.0, -4.0]);
        let y = run("stack", json!({"dim": 1}), &[("a", x.clone()), ("b", x)]).unwrap();
        assert_eq!(y[0].dims(), &[2, 2, 3]);
    }

    /// -log_softmax(row)[k], computed directly.
    fn nll_row(row: &[f64], k: usize) -> f64 {
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        lse - row[k]
    }

    #[test]
    fn cross_entropy_follows_pytorch() {
        let rows = [
            [0.2, -1.0, 0.5],
            [1.5, 0.3, -0.7],
            [-0.4, 0.9, 0.1],
            [0.0, 0.6, -1.2],
        ];
        let x = t(&rows.concat(), &[4, 3]);
        let target = Tensor::from_vec(vec![2i64, 0, 1, 1], [4]);
        let w = t(&[0.5, 2.0, 1.5], &[3]);
        let nll: Vec<f64> = rows
            .iter()
            .zip([2, 0, 1, 1])
            .map(|(r, k)| nll_row(r, k))
            .collect();
        // Weighted mean over the targets not ignored (ignore_index 0 drops row 1).
        let (ws, wt) = ([1.5, 2.0, 2.0], [0usize, 2, 3]);
        let num: f64 = wt.iter().zip(ws).map(|(&i, w)| w * nll[i]).sum();
        let y = run(
            "cross_entropy",
            json!({"reduction": "mean", "ignore_index": 0}),
            &[
                ("logits", x.clone()),
                ("target", target.clone()),
                ("weight", w.clone()),
            ],
        )
        .unwrap();
        close(&y[0], &[num / 5.5]);
        // Label smoothing, sum reduction: (1-ε)·nll_i + ε/C·Σ_c -logp_ic.
        let eps = 0.2;
        let want: f64 = rows
            .iter()
            .zip([2, 0, 1, 1])
            .map(|(r, k)| {
                let all: f64 = (0..3).map(|c| nll_row(r, c)).sum();
                (1.0 - eps) * nll_row(r, k) + eps / 3.0 * all
            })
            .sum();
        let y = run(
            "cross_entropy",
            json!({"reduction": "sum", "label_smoothing": eps}),
            &[("logits", x.clone()), ("target", target.clone())],
        )
        .unwrap();
        close(&y[0], &[want]);
        // nll_loss on log-probabilities, reduction none.
        let logp = x.log_softmax(1);
        let y = run(
            "nll_loss",
            json!({"reduction": "none"}),
            &[("input", logp), ("target", target)],
        )
        .unwrap();
        close(&y[0], &nll);
        // Probability targets: mean over the batch of -Σ_c p_c·logp_c.
        let p = t(&[0.2, 0.3, 0.5].repeat(4), &[4, 3]);
        let want: f64 = rows
            .iter()
            .map(|r| {
                (0..3)
                    .map(|c| [0.2, 0.3, 0.5][c] * nll_row(r, c))
                    .sum::<f64>()
            })
            .sum::<f64>()
            / 4.0;
        let y = run("cross_entropy", json!({}), &[("logits", x), ("target", p)]).unwrap();
        close(&y[0], &[want]);
    }

    #[test]
    fn bce_with_logits_is_stable_and_weighted() {
        let x = t(&[-30.0, -0.5, 0.0, 2.0, 40.0], &[5]);
        let tg = t(&[0.0, 1.0, 0.3, 1.0, 0.0], &[5]);
        let pw = t(&[2.0; 5], &[5]);
        let naive = |x: f64, t: f64, pw: f64| {
            let s = 1.0 / (1.0 + (-x).exp());
            -(pw * t * s.ln() + (1.0 - t) * (1.0 - s).ln())
        };
        let y = run(
            "binary_cross_entropy_with_logits",
            json!({"reduction": "none"}),
            &[
                ("input", x.clone()),
                ("target", tg.clone()),
                ("pos_weight", pw),
            ],
        )
        .unwrap();
        let want: Vec<f64> = [(-0.5, 1.0), (0.0, 0.3), (2.0, 1.0)]
            .iter()
            .map(|&(x, t)| naive(x, t, 2.0))
            .collect();
        close(&y[0].slice(0, 1, 4, 1), &want);
        // No cancellation: for x = -30, t = 0 the loss is log(1 + e^-30) ≈ e^-30; for x = 40,
        // t = 0 it is 40.
        let v = y[0].to_vec::<f64>();
        assert!((v[0] - (-30f64).exp()).abs() < 1e-25 && (v[4] - 40.0).abs() < 1e-12);
    }

    #[test]
    fn layers_compose() {
        // embedding with padding_idx reads the padding row.
        let w = t(&[0.0, 0.1, 1.0, 1.1, 2.0, 2.1], &[3, 2]);
        let idx = Tensor::from_vec(vec![2i64, 0, 2], [3]);
        let y = run(
            "embedding",
            json!({"padding_idx": 0}),
            &[("indices", idx), ("weight", w)],
        )
        .unwrap();
        close(&y[0], &[2.0, 2.1, 0.0, 0.1, 2.0, 2.1]);
        // layer_norm of one row: (x - mean)/sqrt(var + eps).
        let x = t(&[1.0, 2.0, 3.0, 6.0], &[1, 4]);
        let y = run(
            "layer_norm",
            json!({"normalized_shape": [4], "eps": 0.0}),
            &[("input", x)],
        )
        .unwrap();
        let sd = 3.5f64.sqrt();
        close(&y[0], &[-2.0 / sd, -1.0 / sd, 0.0, 3.0 / sd]);
        // global average pooling
        let x = Tensor::from_vec((0..8).map(f64::from).collect(), [1, 2, 2, 2]);
        let y = run(
            "adaptive_avg_pool2d",
            json!({"output_size": [1, 1]}),
            &[("x", x)],
        )
        .unwrap();
        assert_eq!(y[0].dims(), &[1, 2, 1, 1]);
        close(&y[0], &[1.5, 5.5]);
    }

    #[test]
    fn composite_reads_the_call_expression() {
        let x = t(&[1.0, -1.0], &[1, 2]);
        let w1 = t(&[1.0, 0.0, 0.0, 1.0], &[2, 2]);
        let b1 = t(&[0.0, 0.0], &[2]);
        let target = Tensor::from_vec(vec![0i64], [1]);
        let a = args(
            "composite",
            json!({}),
            "loss = cross_entropy(relu(linear(x, w1, b1)), target, reduction='sum'), mean",
        );
        let y = forward(
            "composite",
            &a,
            &ins(&[("x", x), ("target", target), ("w1", w1), ("b1", b1)]),
            None,
        )
        .unwrap();
        // logits relu([1, -1]) = [1, 0]; -log softmax[0] = log(1 + e^-1)
        close(&y[0], &[(1.0 + (-1f64).exp()).ln()]);
        let a = args("composite", json!({}), "loss = relu(linear(x, w9))");
        let e = forward("composite", &a, &[], None).unwrap_err();
        assert!(e.contains("no input named"), "{e}");
    }

    fn write_json(dir: &Path, v: &Value) {
        std::fs::write(dir.join("case.json"), serde_json::to_string(v).unwrap()).unwrap();
    }

    /// A whole case through [`run_case`]: inputs, upstream gradient of a 0-d loss, forward and
    /// gradient files, dtypes.
    #[test]
    fn run_case_back_propagates_the_upstream() {
        let dir =
            std::env::temp_dir().join(format!("conformance-grad-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
        let b = t(&[0.5, -1.0, 2.0], &[3]);
        baeum::io::write_npy(dir.join("in_a.npy"), &a).unwrap();
        baeum::io::write_npy(dir.join("in_b.npy"), &b).unwrap();
        baeum::io::write_npy(dir.join("upstream_output.npy"), &Tensor::scalar(0.5f64)).unwrap();
        write_json(
            &dir,
            &json!({
                "name": "unit", "op": "composite", "attributes": {},
                "semantics": "loss = sum(mul(a, b))",
                "inputs": [
                    {"index": 0, "name": "a", "dtype": "float64", "shape": [2, 3], "requires_grad": true, "file": "in_a.npy"},
                    {"index": 1, "name": "b", "dtype": "float64", "shape": [3], "requires_grad": true, "file": "in_b.npy"}
                ],
                "upstream": [{"name": "output", "index": 0, "file": "upstream_output.npy"}],
                "outputs": [
                    {"name": "output", "kind": "forward", "index": 0, "dtype": "float64", "shape": [], "file": "out_output.npy"},
                    {"name": "grad_a", "kind": "grad", "wrt": "a", "dtype": "float64", "shape": [2, 3], "file": "grad_a.npy"},
                    {"name": "grad_b", "kind": "grad", "wrt": "b", "dtype": "float64", "shape": [3], "file": "grad_b.npy"}
                ]
            }),
        );
        let case = Case::load(&dir).unwrap();
        let outs = run_case(&case).unwrap();
        let files: Vec<&str> = outs.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(files, ["out_output.npy", "grad_a.npy", "grad_b.npy"]);
        close(&outs[0].1, &[0.5 - 2.0 + 6.0 + 2.0 - 5.0 + 12.0]);
        close(&outs[1].1, &[0.25, -0.5, 1.0, 0.25, -0.5, 1.0]);
        close(&outs[2].1, &[2.5, 3.5, 4.5]);
        assert!(!outs[1].1.requires_grad());

        // A gradient for an input that is a constant is a case error, not a panic.
        let mut j: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
        j["inputs"][1]["requires_grad"] = json!(false);
        write_json(&dir, &j);
        let e = run_case(&Case::load(&dir).unwrap()).unwrap_err();
        assert!(e.contains("does not require grad"), "{e}");
        // An integer output where a float is expected is refused.
        assert!(conform(Tensor::from_vec(vec![1i64], [1]), Some(DType::F64), "o").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
