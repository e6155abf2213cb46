//! `Sequential`: layers applied one after another, named `0`, `1`, … as in PyTorch.

use super::module::{Forward, Layer, Module, Visitor};
use crate::Tensor;
use crate::error::Result;

/// Applies its layers in order. Build it with `add` (Keras' `model.add`) or from a `Vec`.
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Layer>>,
}

impl Sequential {
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends a layer (builder style, Keras' `model.add`).
    #[allow(clippy::should_implement_trait)] // the Keras name users know, not `+`
    pub fn add(mut self, layer: impl Layer + 'static) -> Sequential {
        self.layers.push(Box::new(layer));
        self
    }

    /// Appends a layer to an existing model.
    pub fn push(&mut self, layer: impl Layer + 'static) {
        self.layers.push(Box::new(layer));
    }

    pub fn len(&self) -> usize {
        self.layers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The layer at `index` (`model[0]` in PyTorch).
    pub fn get(&self, index: usize) -> Option<&dyn Layer> {
        self.layers.get(index).map(|l| l.as_ref())
    }

    /// Replaces the layer at `index` (e.g. a new classifier head for transfer learning).
    pub fn set(&mut self, index: usize, layer: impl Layer + 'static) {
        self.layers[index] = Box::new(layer);
    }

    pub fn iter(&self) -> impl Iterator<Item = &dyn Layer> {
        self.layers.iter().map(|l| l.as_ref())
    }
}

impl From<Vec<Box<dyn Layer>>> for Sequential {
    fn from(layers: Vec<Box<dyn Layer>>) -> Self {
        Sequential { layers }
    }
}

impl Module for Sequential {
    fn visit(&self, v: &mut dyn Visitor) {
        for (i, l) in self.layers.iter().enumerate() {
            v.module(&i.to_string(), l.as_ref());
        }
    }
}

impl Forward for Sequential {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut y = x.clone();
        for l in &self.layers {
            y = l.forward(&y)?;
        }
        Ok(y)
    }
}
