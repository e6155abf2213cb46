//! The `case.json` model shared by the suites: what to compute, from which input files, and
//! which output files to produce.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use baeum::Tensor;
use baeum::io::read_npy;
use serde_json::Value;

/// An attribute value, decoded with its ONNX attribute type.
#[derive(Clone, Debug)]
pub enum AttrValue {
    Int(i64),
    /// ONNX stores FLOAT attributes as float32; the JSON number is parsed as `f32`.
    Float(f32),
    String(String),
    Ints(Vec<i64>),
    Floats(Vec<f32>),
    Strings(Vec<String>),
    Tensor(Tensor),
}

/// The attributes of a node, by name, with typed getters that take the ONNX default.
#[derive(Clone, Debug, Default)]
pub struct Attrs(pub BTreeMap<String, AttrValue>);

impl Attrs {
    pub fn get(&self, name: &str) -> Option<&AttrValue> {
        self.0.get(name)
    }

    pub fn int(&self, name: &str, default: i64) -> Result<i64, String> {
        match self.get(name) {
            None => Ok(default),
            Some(AttrValue::Int(v)) => Ok(*v),
            Some(v) => Err(format!("attribute {name}: expected INT, got {v:?}")),
        }
    }

    pub fn float(&self, name: &str, default: f32) -> Result<f32, String> {
        match self.get(name) {
            None => Ok(default),
            Some(AttrValue::Float(v)) => Ok(*v),
            Some(v) => Err(format!("attribute {name}: expected FLOAT, got {v:?}")),
        }
    }

    pub fn string(&self, name: &str, default: &str) -> Result<String, String> {
        match self.get(name) {
            None => Ok(default.to_string()),
            Some(AttrValue::String(v)) => Ok(v.clone()),
            Some(v) => Err(format!("attribute {name}: expected STRING, got {v:?}")),
        }
    }

    pub fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(AttrValue::Ints(v)) => Ok(Some(v.clone())),
            Some(v) => Err(format!("attribute {name}: expected INTS, got {v:?}")),
        }
    }
}

/// One input or output slot of a case.
#[derive(Clone, Debug)]
pub struct Slot {
    pub index: usize,
    pub name: String,
    /// The `.npy` file, or `None` for an omitted optional input / an unrequested output.
    pub file: Option<String>,
}

/// Comparison tolerance: `|got - expected| <= atol + rtol * |expected|`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    pub rtol: f64,
    pub atol: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            rtol: 1e-4,
            atol: 1e-5,
        }
    }
}

/// A parsed `case.json` together with the folder it came from.
#[derive(Clone, Debug)]
pub struct Case {
    pub dir: PathBuf,
    pub name: String,
    pub op: String,
    pub opset: i64,
    pub attrs: Attrs,
    pub inputs: Vec<Slot>,
    pub outputs: Vec<Slot>,
    /// The case's own tolerance (`"tolerance"` in case.json), overriding the suite's default.
    pub tolerance: Option<Tolerance>,
    /// The whole `case.json`, for suite-specific fields (`semantics`, `upstream`, untyped
    /// `attributes`, ...).
    pub json: Value,
}

fn slots(v: Option<&Value>, what: &str) -> Result<Vec<Slot>, String> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let arr = v
        .as_array()
        .ok_or_else(|| format!("case.json: \"{what}\" is not a list"))?;
    arr.iter()
        .enumerate()
        .map(|(i, s)| {
            Ok(Slot {
                index: s
                    .get("index")
                    .and_then(Value::as_u64)
                    .map(|x| x as usize)
                    .unwrap_or(i),
                name: s
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                file: s.get("file").and_then(Value::as_str).map(str::to_string),
            })
        })
        .collect()
}

fn attr_value(dir: &Path, name: &str, ty: &str, v: &Value) -> Result<AttrValue, String> {
    let bad = || format!("attribute {name}: value {v} does not match type {ty}");
    let ints =
        |v: &Value| -> Option<Vec<i64>> { v.as_array()?.iter().map(Value::as_i64).collect() };
    Ok(match ty {
        "INT" => AttrValue::Int(v.as_i64().ok_or_else(bad)?),
        // Parse the decimal text itself as f32 (it is the shortest round-tripping f32 form).
        "FLOAT" => AttrValue::Float(v.to_string().parse::<f32>().map_err(|_| bad())?),
        "STRING" => AttrValue::String(v.as_str().ok_or_else(bad)?.to_string()),
        "INTS" => AttrValue::Ints(ints(v).ok_or_else(bad)?),
        "FLOATS" => AttrValue::Floats(
            v.as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|x| x.to_string().parse::<f32>().map_err(|_| bad()))
                .collect::<Result<_, _>>()?,
        ),
        "STRINGS" => AttrValue::Strings(
            v.as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|x| x.as_str().map(str::to_string).ok_or_else(bad))
                .collect::<Result<_, _>>()?,
        ),
        "TENSOR" => {
            let file = v.get("file").and_then(Value::as_str).ok_or_else(bad)?;
            AttrValue::Tensor(read_npy(dir.join(file)).map_err(|e| e.to_string())?)
        }
        other => {
            return Err(format!(
                "attribute {name}: unsupported attribute type {other}"
            ));
        }
    })
}

impl Case {
    /// Reads `dir/case.json`.
    pub fn load(dir: &Path) -> Result<Case, String> {
        let path = dir.join("case.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let j: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: invalid JSON: {e}", path.display()))?;
        let name = j
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                dir.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            });
        let op = j
            .get("op")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let opset = j.get("opset").and_then(Value::as_i64).unwrap_or(0);
        // Typed attributes need `attribute_types` (the ONNX suite); a suite without it (the
        // PyTorch suites) reads its plain JSON `attributes` from `json`.
        let mut attrs = Attrs::default();
        if let (Some(map), Some(types)) = (
            j.get("attributes").and_then(Value::as_object),
            j.get("attribute_types").and_then(Value::as_object),
        ) {
            for (k, v) in map {
                let ty = types
                    .get(k)
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("attribute {k} has no attribute_types entry"))?;
                attrs.0.insert(k.clone(), attr_value(dir, k, ty, v)?);
            }
        }
        let tolerance = j.get("tolerance").map(|t| {
            let mut tol = Tolerance::default();
            if let Some(r) = t.get("rtol").and_then(Value::as_f64) {
                tol.rtol = r;
            }
            if let Some(a) = t.get("atol").and_then(Value::as_f64) {
                tol.atol = a;
            }
            tol
        });
        Ok(Case {
            dir: dir.to_path_buf(),
            name,
            op,
            opset,
            attrs,
            inputs: slots(j.get("inputs"), "inputs")?,
            outputs: slots(j.get("outputs"), "outputs")?,
            tolerance,
            json: j,
        })
    }

    /// The input tensors by slot position (`None` for an omitted optional input).
    pub fn load_inputs(&self) -> Result<Vec<Option<Tensor>>, String> {
        let n = self.inputs.iter().map(|s| s.index + 1).max().unwrap_or(0);
        let mut out = vec![None; n];
        for s in &self.inputs {
            if let Some(f) = &s.file {
                out[s.index] = Some(read_npy(self.dir.join(f)).map_err(|e| e.to_string())?);
            }
        }
        Ok(out)
    }

    /// The outputs that must be produced: (slot index, file name).
    pub fn requested_outputs(&self) -> Vec<(usize, String)> {
        self.outputs
            .iter()
            .filter_map(|s| s.file.clone().map(|f| (s.index, f)))
            .collect()
    }
}
