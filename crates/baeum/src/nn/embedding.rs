//! `Embedding`: a lookup table of `num_embeddings` vectors of `embedding_dim`, initialised
//! N(0, 1) as in PyTorch, with an optional padding index whose row is zero and never trained.

use super::functional::embedding;
use super::init::{normal_, with_default_generator};
use super::module::{Forward, Module, Visitor};
use super::summary::record;
use crate::autograd::no_grad;
use crate::error::{Result, bail};
use crate::{DType, Generator, Tensor};

pub struct Embedding {
    pub weight: Tensor,
    pub num_embeddings: usize,
    pub embedding_dim: usize,
    pub padding_idx: Option<i64>,
}

impl Embedding {
    pub fn new(num_embeddings: usize, embedding_dim: usize) -> Embedding {
        with_default_generator(|g| {
            Embedding::with_options(num_embeddings, embedding_dim, None, DType::F32, g)
        })
        .expect("no padding index is always valid")
    }

    /// `padding_idx` may be negative (counted from the end), as in PyTorch.
    pub fn with_options(
        num_embeddings: usize,
        embedding_dim: usize,
        padding_idx: Option<i64>,
        dtype: DType,
        g: &mut Generator,
    ) -> Result<Embedding> {
        let n = num_embeddings as i64;
        let padding_idx = match padding_idx {
            Some(p) if p >= n || p < -n => {
                bail!(
                    Index,
                    "Embedding: padding_idx {p} is out of range for {num_embeddings} embeddings"
                )
            }
            Some(p) if p < 0 => Some(p + n),
            p => p,
        };
        let weight = Tensor::zeros_dtype([num_embeddings, embedding_dim], dtype);
        normal_(&weight, 0.0, 1.0, g);
        if let Some(p) = padding_idx {
            no_grad(|| {
                weight
                    .select(0, p as isize)
                    .copy_(&Tensor::zeros_dtype([embedding_dim], dtype))
            });
        }
        Ok(Embedding {
            weight: weight.requires_grad_(true),
            num_embeddings,
            embedding_dim,
            padding_idx,
        })
    }

    /// A layer holding pretrained vectors `[num, dim]` (`Embedding.from_pretrained`); `freeze`
    /// keeps them fixed (the "static" channel of Kim's CNN).
    pub fn from_pretrained(
        weight: Tensor,
        freeze: bool,
        padding_idx: Option<i64>,
    ) -> Result<Embedding> {
        let &[num_embeddings, embedding_dim] = weight.dims() else {
            bail!(
                Shape,
                "Embedding.from_pretrained: weight {:?} must be [num, dim]",
                weight.dims()
            );
        };
        Ok(Embedding {
            weight: weight.detach().requires_grad_(!freeze),
            num_embeddings,
            embedding_dim,
            padding_idx,
        })
    }
}

impl Module for Embedding {
    fn visit(&self, v: &mut dyn Visitor) {
        v.param("weight", &self.weight);
    }
    fn extra_repr(&self) -> String {
        let mut s = format!("{}, {}", self.num_embeddings, self.embedding_dim);
        if let Some(p) = self.padding_idx {
            s += &format!(", padding_idx={p}");
        }
        s
    }
}

impl Forward for Embedding {
    fn forward(&self, indices: &Tensor) -> Result<Tensor> {
        let y = embedding(indices, &self.weight, self.padding_idx)?;
        record(self, &y);
        Ok(y)
    }
}
