//! The per-epoch record of a run (Keras' `History`): losses and metrics by name, written as
//! CSV and JSON.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};

/// One epoch's numbers by name (`loss`, `val_loss`, `accuracy`, `lr`, …).
pub type Logs = BTreeMap<String, f64>;

/// Every epoch's logs, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    pub epochs: Vec<Logs>,
}

impl History {
    /// The values of one key over the epochs (NaN where an epoch lacks it).
    pub fn get(&self, key: &str) -> Vec<f64> {
        self.epochs
            .iter()
            .map(|l| l.get(key).copied().unwrap_or(f64::NAN))
            .collect()
    }

    /// Every key that appears, sorted, with `epoch` first in the files.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.epochs.iter().flat_map(|l| l.keys().cloned()).collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// CSV with a header `epoch,key1,key2,…` and one row per epoch (epochs count from 1).
    pub fn to_csv(&self) -> String {
        let keys = self.keys();
        let mut s = String::from("epoch");
        for k in &keys {
            s.push(',');
            s.push_str(k);
        }
        s.push('\n');
        for (i, l) in self.epochs.iter().enumerate() {
            s.push_str(&(i + 1).to_string());
            for k in &keys {
                s.push(',');
                if let Some(v) = l.get(k) {
                    s.push_str(&format_number(*v));
                }
            }
            s.push('\n');
        }
        s
    }

    /// JSON: `{"loss": [..], "val_loss": [..], …}`, Keras' `history.history`.
    pub fn to_json(&self) -> String {
        let keys = self.keys();
        let mut s = String::from("{");
        for (j, k) in keys.iter().enumerate() {
            if j > 0 {
                s.push_str(", ");
            }
            s.push_str(&format!("{k:?}: ["));
            for (i, v) in self.get(k).iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                s.push_str(&json_number(*v));
            }
            s.push(']');
        }
        s.push('}');
        s
    }

    /// Parses what [`History::to_json`] wrote (used when resuming from a checkpoint).
    pub fn from_json(text: &str) -> Result<History> {
        let bad = |why: &str| Error::Format(format!("history JSON: {why}"));
        let body = text
            .trim()
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .ok_or_else(|| bad("not an object"))?;
        let mut columns: Vec<(String, Vec<f64>)> = Vec::new();
        let mut rest = body.trim();
        while !rest.is_empty() {
            let rest1 = rest
                .strip_prefix('"')
                .ok_or_else(|| bad("expected a key"))?;
            let end = rest1.find('"').ok_or_else(|| bad("unterminated key"))?;
            let key = rest1[..end].to_string();
            let after = rest1[end + 1..].trim_start();
            let after = after
                .strip_prefix(':')
                .ok_or_else(|| bad("expected ':'"))?
                .trim_start();
            let after = after.strip_prefix('[').ok_or_else(|| bad("expected '['"))?;
            let close = after.find(']').ok_or_else(|| bad("unterminated list"))?;
            let values = after[..close]
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| {
                    if v == "null" {
                        Ok(f64::NAN)
                    } else {
                        v.parse::<f64>()
                            .map_err(|_| bad(&format!("bad number {v:?}")))
                    }
                })
                .collect::<Result<Vec<f64>>>()?;
            columns.push((key, values));
            rest = after[close + 1..].trim_start();
            rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
        }
        let n = columns.iter().map(|c| c.1.len()).max().unwrap_or(0);
        let mut epochs = vec![Logs::new(); n];
        for (k, vs) in columns {
            for (i, v) in vs.into_iter().enumerate() {
                if !v.is_nan() {
                    epochs[i].insert(k.clone(), v);
                }
            }
        }
        Ok(History { epochs })
    }

    /// Writes `history.csv` and `history.json` into `dir` (atomically).
    pub fn save(&self, dir: &Path) -> Result<()> {
        crate::io::write_atomic(
            "history",
            &dir.join("history.csv"),
            self.to_csv().as_bytes(),
        )?;
        crate::io::write_atomic(
            "history",
            &dir.join("history.json"),
            self.to_json().as_bytes(),
        )
    }
}

fn format_number(v: f64) -> String {
    format!("{v}")
}

fn json_number(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_json_round_trip() {
        let mut h = History::default();
        h.epochs.push(Logs::from([
            ("loss".into(), 0.5),
            ("val_loss".into(), 0.75),
        ]));
        h.epochs
            .push(Logs::from([("loss".into(), 0.25), ("lr".into(), 0.1)]));
        assert_eq!(
            h.to_csv(),
            "epoch,loss,lr,val_loss\n1,0.5,,0.75\n2,0.25,0.1,\n"
        );
        assert_eq!(
            h.to_json(),
            r#"{"loss": [0.5, 0.25], "lr": [null, 0.1], "val_loss": [0.75, null]}"#
        );
        assert_eq!(History::from_json(&h.to_json()).unwrap(), h);
        assert!(History::from_json("[1, 2]").is_err());
    }
}
