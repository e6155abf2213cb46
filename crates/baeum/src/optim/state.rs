//! `StateDict`: an ordered map from names to tensors, the form in which optimizers, schedulers
//! (and later modules) save what they need to resume, ready to be written as safetensors.

use crate::error::{Result, bail};
use crate::tensor::{DType, Tensor};

/// Named tensors in insertion order. Scalars are 0-d tensors: `f64` for real values, `i64`
/// for counts, so every entry can go into a safetensors checkpoint as is.
///
/// Keys follow PyTorch's nesting, flattened with dots: `state.0.exp_avg`, `state.0.step`,
/// `param_groups.0.lr`, `last_epoch`.
#[derive(Clone, Default)]
pub struct StateDict {
    entries: Vec<(String, Tensor)>,
}

impl StateDict {
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts `value` under `key`, replacing an entry of the same name in place.
    pub fn insert(&mut self, key: impl Into<String>, value: Tensor) {
        let key = key.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Inserts a real scalar as a 0-d f64 tensor.
    pub fn insert_f64(&mut self, key: impl Into<String>, value: f64) {
        self.insert(key, Tensor::scalar(value));
    }

    /// Inserts a count or flag as a 0-d i64 tensor.
    pub fn insert_i64(&mut self, key: impl Into<String>, value: i64) {
        self.insert(key, Tensor::scalar(value));
    }

    pub fn get(&self, key: &str) -> Option<&Tensor> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, t)| t)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The entry `key`, or an error naming `owner` and the missing key.
    pub fn require(&self, owner: &str, key: &str) -> Result<&Tensor> {
        match self.get(key) {
            Some(t) => Ok(t),
            None => bail!(Invalid, "{owner}.load_state_dict: missing key `{key}`"),
        }
    }

    /// A one-element entry as `f64`.
    pub fn get_f64(&self, owner: &str, key: &str) -> Result<f64> {
        let t = self.require(owner, key)?;
        if t.numel() != 1 {
            bail!(
                Shape,
                "{owner}.load_state_dict: `{key}` should hold one value, but has shape {}",
                t.shape()
            );
        }
        Ok(t.item::<f64>())
    }

    /// A one-element entry as `i64` (integer entries; a float entry must hold an integer).
    pub fn get_i64(&self, owner: &str, key: &str) -> Result<i64> {
        let t = self.require(owner, key)?;
        let v = self.get_f64(owner, key)?;
        if t.dtype().is_float() && v.fract() != 0.0 {
            bail!(
                Invalid,
                "{owner}.load_state_dict: `{key}` should be an integer, got {v}"
            );
        }
        Ok(if t.dtype() == DType::I64 {
            t.item::<i64>()
        } else {
            v as i64
        })
    }

    /// The entries, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.entries.iter().map(|(k, t)| (k.as_str(), t))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds every entry of `other` with `prefix` before its key (`"optimizer."`), for nesting
    /// one state dict in another (a training checkpoint).
    pub fn extend_prefixed(&mut self, prefix: &str, other: &StateDict) {
        for (k, t) in other.iter() {
            self.insert(format!("{prefix}{k}"), t.clone());
        }
    }

    /// The entries whose key starts with `prefix`, with the prefix removed.
    pub fn strip_prefix(&self, prefix: &str) -> StateDict {
        StateDict {
            entries: self
                .entries
                .iter()
                .filter_map(|(k, t)| k.strip_prefix(prefix).map(|k| (k.to_string(), t.clone())))
                .collect(),
        }
    }
}

impl std::fmt::Debug for StateDict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (k, t) in self.iter() {
            m.entry(&k, &format_args!("{} {}", t.dtype(), t.shape()));
        }
        m.finish()
    }
}

impl FromIterator<(String, Tensor)> for StateDict {
    fn from_iter<I: IntoIterator<Item = (String, Tensor)>>(iter: I) -> Self {
        let mut sd = StateDict::new();
        for (k, t) in iter {
            sd.insert(k, t);
        }
        sd
    }
}
