//! Normalisation layers: `BatchNorm1d/2d` (running statistics, momentum, PyTorch's buffers
//! `running_mean`, `running_var`, `num_batches_tracked`), `LayerNorm`, `GroupNorm` and
//! `LocalResponseNorm` (AlexNet's NORM).

use std::sync::atomic::{AtomicI64, Ordering};

use super::functional::{
    batch_norm, batch_norm_momentum, group_norm, layer_norm, local_response_norm,
};
use super::module::{Forward, Module, TrainingFlag, Visitor, visit_weight_bias};
use super::summary::record;
use crate::autograd::no_grad;
use crate::error::{Result, bail};
use crate::{DType, Tensor};

/// Batch normalisation over the channel dim of `[N, C]`/`[N, C, L]` (1d) or `[N, C, H, W]` (2d).
pub struct BatchNorm {
    pub num_features: usize,
    pub eps: f64,
    /// `None` is PyTorch's cumulative moving average.
    pub momentum: Option<f64>,
    pub weight: Option<Tensor>,
    pub bias: Option<Tensor>,
    pub running_mean: Option<Tensor>,
    pub running_var: Option<Tensor>,
    pub num_batches_tracked: Option<Tensor>,
    ranks: &'static [usize],
    name: &'static str,
    training: TrainingFlag,
    tracked: AtomicI64,
}

/// `BatchNorm1d` and `BatchNorm2d` share one type; the constructors set which input ranks fit.
pub type BatchNorm1d = BatchNorm;
pub type BatchNorm2d = BatchNorm;

impl BatchNorm {
    fn build(
        num_features: usize,
        ranks: &'static [usize],
        name: &'static str,
        dtype: DType,
    ) -> BatchNorm {
        BatchNorm {
            num_features,
            eps: 1e-5,
            momentum: Some(0.1),
            weight: Some(Tensor::ones_dtype([num_features], dtype).requires_grad_(true)),
            bias: Some(Tensor::zeros_dtype([num_features], dtype).requires_grad_(true)),
            running_mean: Some(Tensor::zeros_dtype([num_features], dtype)),
            running_var: Some(Tensor::ones_dtype([num_features], dtype)),
            num_batches_tracked: Some(Tensor::scalar(0i64)),
            ranks,
            name,
            training: TrainingFlag::default(),
            tracked: AtomicI64::new(0),
        }
    }

    /// `BatchNorm1d(num_features)`: input `[N, C]` or `[N, C, L]`.
    pub fn new_1d(num_features: usize) -> BatchNorm {
        BatchNorm::build(num_features, &[2, 3], "BatchNorm1d", DType::F32)
    }

    /// `BatchNorm2d(num_features)`: input `[N, C, H, W]`.
    pub fn new_2d(num_features: usize) -> BatchNorm {
        BatchNorm::build(num_features, &[4], "BatchNorm2d", DType::F32)
    }

    /// The same layer in another float dtype (f64 for gradient checks and conformance).
    pub fn dtype(mut self, dtype: DType) -> Self {
        let c = |t: Option<Tensor>, grad: bool| {
            t.map(|t| {
                let t = t.detach().to_dtype(dtype);
                if grad { t.requires_grad_(true) } else { t }
            })
        };
        self.weight = c(self.weight.take(), true);
        self.bias = c(self.bias.take(), true);
        self.running_mean = c(self.running_mean.take(), false);
        self.running_var = c(self.running_var.take(), false);
        self
    }

    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    pub fn momentum(mut self, momentum: Option<f64>) -> Self {
        self.momentum = momentum;
        self
    }

    /// Without the learnable scale and shift (`affine=False`).
    pub fn affine(mut self, affine: bool) -> Self {
        if !affine {
            self.weight = None;
            self.bias = None;
        }
        self
    }

    /// Without running statistics: batch statistics in eval mode too.
    pub fn track_running_stats(mut self, track: bool) -> Self {
        if !track {
            self.running_mean = None;
            self.running_var = None;
            self.num_batches_tracked = None;
        }
        self
    }
}

impl Module for BatchNorm {
    fn visit(&self, v: &mut dyn Visitor) {
        visit_weight_bias(v, self.weight.as_ref(), self.bias.as_ref());
        if let Some(t) = &self.running_mean {
            v.buffer("running_mean", t);
        }
        if let Some(t) = &self.running_var {
            v.buffer("running_var", t);
        }
        if let Some(t) = &self.num_batches_tracked {
            v.buffer("num_batches_tracked", t);
        }
    }
    fn type_name(&self) -> &'static str {
        self.name
    }
    fn extra_repr(&self) -> String {
        format!(
            "{}, eps={}, momentum={:?}, affine={}, track_running_stats={}",
            self.num_features,
            self.eps,
            self.momentum,
            self.weight.is_some(),
            self.running_mean.is_some()
        )
    }
    fn set_training(&self, training: bool) {
        self.training.set(training)
    }
    fn is_training(&self) -> bool {
        self.training.get()
    }
}

impl Forward for BatchNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if !self.ranks.contains(&x.rank()) || x.dims()[1] != self.num_features {
            bail!(
                Shape,
                "{}({}): input {:?} must be {} with {} channels in dim 1",
                self.name,
                self.num_features,
                x.dims(),
                if self.ranks == [4] {
                    "[N, C, H, W]"
                } else {
                    "[N, C] or [N, C, L]"
                },
                self.num_features
            );
        }
        let training = self.training.get();
        let use_batch = training || self.running_mean.is_none();
        let mut momentum = self.momentum.unwrap_or(0.0);
        if training && let Some(n) = &self.num_batches_tracked {
            // Read the stored count (it may have come from a checkpoint), then add this batch.
            let count = no_grad(|| n.item::<i64>()) + 1;
            self.tracked.store(count, Ordering::Relaxed);
            no_grad(|| n.copy_(&Tensor::scalar(count)));
            momentum = batch_norm_momentum(self.momentum, count as u64);
        }
        let (rm, rv) = if use_batch && !training {
            (None, None)
        } else {
            (self.running_mean.as_ref(), self.running_var.as_ref())
        };
        let y = batch_norm(
            x,
            rm,
            rv,
            self.weight.as_ref(),
            self.bias.as_ref(),
            use_batch,
            momentum,
            self.eps,
        )?;
        record(self, &y);
        Ok(y)
    }
}

/// Layer normalisation over the last dims (`normalized_shape`), with a learnable scale/shift.
pub struct LayerNorm {
    pub normalized_shape: Vec<usize>,
    pub eps: f64,
    pub weight: Option<Tensor>,
    pub bias: Option<Tensor>,
}

impl LayerNorm {
    pub fn new(normalized_shape: &[usize]) -> LayerNorm {
        LayerNorm {
            normalized_shape: normalized_shape.to_vec(),
            eps: 1e-5,
            weight: Some(Tensor::ones(normalized_shape).requires_grad_(true)),
            bias: Some(Tensor::zeros(normalized_shape).requires_grad_(true)),
        }
    }
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }
    /// Without the learnable scale and shift (`elementwise_affine=False`).
    pub fn elementwise_affine(mut self, on: bool) -> Self {
        if !on {
            self.weight = None;
            self.bias = None;
        }
        self
    }
}

impl Module for LayerNorm {
    fn visit(&self, v: &mut dyn Visitor) {
        visit_weight_bias(v, self.weight.as_ref(), self.bias.as_ref());
    }
    fn extra_repr(&self) -> String {
        format!("{:?}, eps={}", self.normalized_shape, self.eps)
    }
}

impl Forward for LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = layer_norm(
            x,
            &self.normalized_shape,
            self.weight.as_ref(),
            self.bias.as_ref(),
            self.eps,
        )?;
        record(self, &y);
        Ok(y)
    }
}

/// Group normalisation: channels split into `num_groups`, each normalised per sample.
pub struct GroupNorm {
    pub num_groups: usize,
    pub num_channels: usize,
    pub eps: f64,
    pub weight: Option<Tensor>,
    pub bias: Option<Tensor>,
}

impl GroupNorm {
    pub fn new(num_groups: usize, num_channels: usize) -> Result<GroupNorm> {
        if num_groups == 0 || !num_channels.is_multiple_of(num_groups) {
            bail!(
                Invalid,
                "GroupNorm: {num_channels} channels cannot be split into {num_groups} groups"
            );
        }
        Ok(GroupNorm {
            num_groups,
            num_channels,
            eps: 1e-5,
            weight: Some(Tensor::ones([num_channels]).requires_grad_(true)),
            bias: Some(Tensor::zeros([num_channels]).requires_grad_(true)),
        })
    }
}

impl Module for GroupNorm {
    fn visit(&self, v: &mut dyn Visitor) {
        visit_weight_bias(v, self.weight.as_ref(), self.bias.as_ref());
    }
    fn extra_repr(&self) -> String {
        format!(
            "{}, {}, eps={}",
            self.num_groups, self.num_channels, self.eps
        )
    }
}

impl Forward for GroupNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = group_norm(
            x,
            self.num_groups,
            self.weight.as_ref(),
            self.bias.as_ref(),
            self.eps,
        )?;
        record(self, &y);
        Ok(y)
    }
}

/// Local response normalisation across channels (AlexNet: size 5, α 1e-4, β 0.75, k 2).
#[derive(Clone, Copy, Debug)]
pub struct LocalResponseNorm {
    pub size: usize,
    pub alpha: f64,
    pub beta: f64,
    pub k: f64,
}

impl LocalResponseNorm {
    /// PyTorch's defaults: α = 1e-4, β = 0.75, k = 1.
    pub fn new(size: usize) -> LocalResponseNorm {
        LocalResponseNorm {
            size,
            alpha: 1e-4,
            beta: 0.75,
            k: 1.0,
        }
    }
    pub fn with(size: usize, alpha: f64, beta: f64, k: f64) -> LocalResponseNorm {
        LocalResponseNorm {
            size,
            alpha,
            beta,
            k,
        }
    }
}

impl Module for LocalResponseNorm {
    fn visit(&self, _: &mut dyn Visitor) {}
    fn extra_repr(&self) -> String {
        format!(
            "{}, alpha={}, beta={}, k={}",
            self.size, self.alpha, self.beta, self.k
        )
    }
}

impl Forward for LocalResponseNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = local_response_norm(x, self.size, self.alpha, self.beta, self.k)?;
        record(self, &y);
        Ok(y)
    }
}
