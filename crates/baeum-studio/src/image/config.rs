//! `config.json` of an image run: what `eval` and `predict` need to rebuild the model and
//! feed it as it was trained (architecture, classes, input size, normalisation), plus the
//! resolved training settings for the record.

use std::path::{Path, PathBuf};

use baeum::{Error, Result};
use serde_json::{Value, json};

#[derive(Clone, Debug, PartialEq)]
pub struct RunConfig {
    pub model: String,
    pub data: String,
    pub classes: Vec<String>,
    /// `[C, H, W]` of the model's input.
    pub input_shape: [usize; 3],
    /// Per-channel normalisation fitted on the training split: x' = (x − mean) / std.
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    /// The training settings as given and defaulted (epochs, lr, optimizer, seed, …).
    pub training: Value,
}

impl RunConfig {
    pub fn to_json(&self) -> Value {
        json!({
            "project": "image",
            "model": self.model,
            "data": self.data,
            "classes": self.classes,
            "input_shape": self.input_shape,
            "normalize": {"mean": self.mean, "std": self.std},
            "training": self.training,
        })
    }

    pub fn from_json(v: &Value, source: &Path) -> Result<RunConfig> {
        let bad = |what: &str| {
            Error::Format(format!(
                "{}: {what} (is this an image run's config.json?)",
                source.display()
            ))
        };
        let string = |k: &str| {
            v[k].as_str()
                .map(str::to_string)
                .ok_or_else(|| bad(&format!("\"{k}\" should be a string")))
        };
        let numbers = |x: &Value, k: &str| -> Result<Vec<f64>> {
            x.as_array()
                .ok_or_else(|| bad(&format!("\"{k}\" should be a list of numbers")))?
                .iter()
                .map(|n| {
                    n.as_f64()
                        .ok_or_else(|| bad(&format!("\"{k}\" holds a non-number")))
                })
                .collect()
        };
        let classes: Vec<String> = v["classes"]
            .as_array()
            .ok_or_else(|| bad("\"classes\" should be a list"))?
            .iter()
            .map(|c| {
                c.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad("a class name is not a string"))
            })
            .collect::<Result<_>>()?;
        let shape = numbers(&v["input_shape"], "input_shape")?;
        let input_shape: [usize; 3] = match shape.as_slice() {
            [c, h, w] if shape.iter().all(|d| *d >= 1.0 && d.fract() == 0.0) => {
                [*c as usize, *h as usize, *w as usize]
            }
            _ => return Err(bad("\"input_shape\" should be [C, H, W]")),
        };
        let mean = numbers(&v["normalize"]["mean"], "normalize.mean")?;
        let std = numbers(&v["normalize"]["std"], "normalize.std")?;
        if mean.len() != input_shape[0] || std.len() != input_shape[0] {
            return Err(bad("normalize.mean/std need one value per channel"));
        }
        if classes.is_empty() {
            return Err(bad("\"classes\" is empty"));
        }
        Ok(RunConfig {
            model: string("model")?,
            data: string("data")?,
            classes,
            input_shape,
            mean,
            std,
            training: v["training"].clone(),
        })
    }

    /// The `config.json` beside `checkpoint`.
    pub fn beside(checkpoint: &Path) -> PathBuf {
        checkpoint
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join("config.json")
    }

    /// Reads the `config.json` beside `checkpoint`, with an error that says what is missing.
    pub fn load_beside(checkpoint: &Path) -> Result<RunConfig> {
        if !checkpoint.is_file() {
            return Err(Error::Io(format!(
                "checkpoint {} does not exist",
                checkpoint.display()
            )));
        }
        let path = RunConfig::beside(checkpoint);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::Io(format!(
                "{}: cannot read the run's config ({e}); eval and predict need the config.json \
                 that `baeum image train` writes beside the checkpoint",
                path.display()
            ))
        })?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| Error::Format(format!("{}: not valid JSON: {e}", path.display())))?;
        RunConfig::from_json(&v, &path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reports_what_is_wrong() {
        let c = RunConfig {
            model: "cnn".into(),
            data: "digits".into(),
            classes: vec!["0".into(), "1".into()],
            input_shape: [1, 8, 8],
            mean: vec![0.3],
            std: vec![0.4],
            training: json!({"epochs": 3}),
        };
        let p = Path::new("config.json");
        assert_eq!(RunConfig::from_json(&c.to_json(), p).unwrap(), c);
        let mut v = c.to_json();
        v["input_shape"] = json!([1, 8]);
        let e = RunConfig::from_json(&v, p).unwrap_err().to_string();
        assert!(
            e.contains("input_shape") && e.contains("config.json"),
            "{e}"
        );
        let mut v = c.to_json();
        v["normalize"]["mean"] = json!([0.1, 0.2]);
        assert!(RunConfig::from_json(&v, p).is_err());
    }
}
