//! `StateDict`: named tensors in insertion order (PyTorch's `OrderedDict` of a `state_dict()`),
//! shared by modules, optimizers, schedules and checkpoints.

use std::collections::HashMap;

use crate::error::{Result, bail};
use crate::{DType, Tensor};

/// Named tensors, kept in the order they were inserted. Scalars (an optimizer's step count, a
/// schedule's epoch) are 0-d tensors.
#[derive(Clone, Default)]
pub struct StateDict {
    entries: Vec<(String, Tensor)>,
    index: HashMap<String, usize>,
}

impl StateDict {
    pub fn new() -> StateDict {
        StateDict::default()
    }

    /// Inserts or replaces `key`; a replaced key keeps its position.
    pub fn insert(&mut self, key: impl Into<String>, tensor: Tensor) {
        let key = key.into();
        match self.index.get(&key) {
            Some(&i) => self.entries[i].1 = tensor,
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push((key, tensor));
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&Tensor> {
        self.index.get(key).map(|&i| &self.entries[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    pub fn remove(&mut self, key: &str) -> Option<Tensor> {
        let i = self.index.remove(key)?;
        let (_, t) = self.entries.remove(i);
        for v in self.index.values_mut() {
            if *v > i {
                *v -= 1;
            }
        }
        Some(t)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.entries.iter().map(|(k, t)| (k.as_str(), t))
    }

    /// The entries whose key starts with `prefix.`, with the prefix removed (how a checkpoint
    /// keeps a model's, an optimizer's and a schedule's state apart).
    pub fn sub(&self, prefix: &str) -> StateDict {
        let p = format!("{prefix}.");
        let mut out = StateDict::new();
        for (k, t) in &self.entries {
            if let Some(rest) = k.strip_prefix(&p) {
                out.insert(rest, t.clone());
            }
        }
        out
    }

    /// Adds every entry of `other` under `prefix.`.
    pub fn extend_prefixed(&mut self, prefix: &str, other: &StateDict) {
        for (k, t) in other.iter() {
            self.insert(format!("{prefix}.{k}"), t.clone());
        }
    }

    /// A scalar entry as f64 (a 0-d or one-element tensor).
    pub fn scalar(&self, key: &str) -> Result<f64> {
        match self.get(key) {
            Some(t) if t.numel() == 1 => Ok(t.reshape(&[]).item_f64()),
            Some(t) => bail!(
                Format,
                "state dict: '{key}' should be a scalar but has shape {:?}",
                t.dims()
            ),
            None => bail!(Format, "state dict: missing key '{key}'"),
        }
    }

    /// The entries whose key starts with `prefix` (no separator added), with it removed.
    pub fn strip_prefix(&self, prefix: &str) -> StateDict {
        self.iter()
            .filter_map(|(k, t)| k.strip_prefix(prefix).map(|k| (k.to_string(), t.clone())))
            .collect()
    }

    /// Stores a scalar as a 0-d f64 tensor.
    pub fn insert_f64(&mut self, key: impl Into<String>, value: f64) {
        self.insert(key, Tensor::scalar(value));
    }

    /// Stores an integer as a 0-d i64 tensor.
    pub fn insert_i64(&mut self, key: impl Into<String>, value: i64) {
        self.insert(key, Tensor::scalar(value));
    }

    /// The entry `key`, or an error naming `owner` (the type loading the state).
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

    /// A one-element entry as `i64` (a float entry must hold an integer).
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
}

impl std::fmt::Debug for StateDict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (k, t) in &self.entries {
            m.entry(k, &format_args!("{} {:?}", t.dtype().name(), t.dims()));
        }
        m.finish()
    }
}

impl FromIterator<(String, Tensor)> for StateDict {
    fn from_iter<I: IntoIterator<Item = (String, Tensor)>>(iter: I) -> Self {
        let mut s = StateDict::new();
        for (k, t) in iter {
            s.insert(k, t);
        }
        s
    }
}

impl IntoIterator for StateDict {
    type Item = (String, Tensor);
    type IntoIter = std::vec::IntoIter<(String, Tensor)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_insertion_order_and_splits_by_prefix() {
        let mut s = StateDict::new();
        s.insert("model.fc.weight", Tensor::zeros([2, 3]));
        s.insert("model.fc.bias", Tensor::zeros([2]));
        s.insert("optimizer.state.0.step", Tensor::scalar(3.0f64));
        s.insert("model.fc.weight", Tensor::ones([2, 3]));
        assert_eq!(
            s.keys().collect::<Vec<_>>(),
            ["model.fc.weight", "model.fc.bias", "optimizer.state.0.step"]
        );
        let m = s.sub("model");
        assert_eq!(m.keys().collect::<Vec<_>>(), ["fc.weight", "fc.bias"]);
        assert_eq!(m.get("fc.weight").unwrap().sum().item_f64(), 6.0);
        assert_eq!(s.sub("optimizer").scalar("state.0.step").unwrap(), 3.0);
        assert!(s.scalar("model.fc.bias").is_err());
        s.remove("model.fc.weight");
        assert_eq!(s.get("model.fc.bias").unwrap().dims(), &[2]);
    }
}
