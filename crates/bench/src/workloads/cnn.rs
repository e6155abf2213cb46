//! The convolutional workloads, on baeum-vision's models (what a user trains):
//! - W2: LeNet-5 (conv 1→6 k5 pad 2, pool, conv 6→16 k5, pool, fc 120, 84, 10), SGD lr 0.01
//!   momentum 0.9, batch 64 of 28×28;
//! - W3: PyTorch's MNIST example CNN (conv 1→32 k3, conv 32→64 k3, pool, dropout 0.25,
//!   fc 9216→128, dropout 0.5, fc 10), Adam lr 1e-3, batch 64;
//! - W5: the CIFAR ResNet with one basic block per stage (16; 32 stride 2; 64 stride 2, with
//!   1×1 projections), batch norm, global average pool, fc 10; SGD lr 0.01 momentum 0.9,
//!   batch 32 of 3×32×32;
//! - W7: W3's model at batch 1 in eval mode without recording: µs per forward (inference
//!   latency, where per-op overhead dominates).
//!
//! Inputs are U(0, 1), labels uniform in 0..10, all from [`SEED`].

use baeum::nn::{CrossEntropyLoss, Forward, Layer, ModuleExt};
use baeum::optim::{Adam, Sgd};
use baeum::{DType, Generator, Result, Tensor};
use baeum_vision::models::{CifarResNet, LeNet5, MnistCnn, ModelConfig};

use super::{SEED, built, steps_per_s};
use crate::Row;
use crate::job::TrainJob;
use crate::timing::{Plan, per_call};

pub const MNIST_BATCH: usize = 64;
pub const RESNET_BATCH: usize = 32;

fn mnist_config() -> ModelConfig {
    // ModelConfig's default is 3 channels; MNIST digits have one.
    ModelConfig::new(10).in_channels(1).image_size(28, 28)
}

fn batch(g: &mut Generator, dims: [usize; 4]) -> (Tensor, Tensor) {
    let x = Tensor::uniform_with(dims, 0.0, 1.0, DType::F32, g);
    let y = Tensor::randint_with(0, 10, [dims[0]], g);
    (x, y)
}

fn classification(model: impl Layer + 'static, sgd: bool, x: Tensor, y: Tensor) -> TrainJob {
    let params = model.parameters();
    let optimizer: Box<dyn baeum::optim::Optimizer> = if sgd {
        Box::new(Sgd::new(params, 0.01).momentum(0.9))
    } else {
        Box::new(Adam::new(params, 1e-3))
    };
    TrainJob {
        model: Box::new(model),
        optimizer,
        loss: Box::new(CrossEntropyLoss::default()),
        x,
        y,
    }
}

/// W2's job at `n` images per batch.
pub fn lenet_job(n: usize) -> Result<TrainJob> {
    let mut g = Generator::new(SEED);
    let model = LeNet5::new(&mnist_config(), &mut g)?;
    let (x, y) = batch(&mut g, [n, 1, 28, 28]);
    Ok(classification(model, true, x, y))
}

/// W3's job at `n` images per batch.
pub fn mnist_cnn_job(n: usize) -> Result<TrainJob> {
    let mut g = Generator::new(SEED);
    let model = MnistCnn::new(&mnist_config(), &mut g)?;
    let (x, y) = batch(&mut g, [n, 1, 28, 28]);
    Ok(classification(model, false, x, y))
}

/// W5's job at `n` images per batch.
pub fn resnet_job(n: usize) -> Result<TrainJob> {
    let mut g = Generator::new(SEED);
    let config = ModelConfig::new(10).in_channels(3).image_size(32, 32);
    let model = CifarResNet::new(1, &config, &mut g)?;
    let (x, y) = batch(&mut g, [n, 3, 32, 32]);
    Ok(classification(model, true, x, y))
}

/// W7: the MNIST CNN in eval mode and one 28×28 image.
pub struct Inference {
    pub model: MnistCnn,
    pub x: Tensor,
}

impl Inference {
    pub fn new() -> Result<Inference> {
        let mut g = Generator::new(SEED);
        let model = MnistCnn::new(&mnist_config(), &mut g)?;
        model.eval();
        let x = Tensor::uniform_with([1, 1, 28, 28], 0.0, 1.0, DType::F32, &mut g);
        Ok(Inference { model, x })
    }

    /// One forward pass without recording: the logits `[1, 10]`.
    pub fn forward(&self) -> Result<Tensor> {
        baeum::autograd::no_grad(|| self.model.forward(&self.x))
    }
}

pub fn run_w2(quick: bool) -> Vec<Row> {
    let job = built(lenet_job(MNIST_BATCH));
    vec![steps_per_s("W2", "lenet5 sgd b64", quick, job)]
}

pub fn run_w3(quick: bool) -> Vec<Row> {
    let job = built(mnist_cnn_job(MNIST_BATCH));
    vec![steps_per_s("W3", "mnist cnn adam b64", quick, job)]
}

pub fn run_w5(quick: bool) -> Vec<Row> {
    let job = built(resnet_job(RESNET_BATCH));
    vec![steps_per_s(
        "W5",
        "resnet (1 block/stage) sgd b32",
        quick,
        job,
    )]
}

pub fn run_w7(quick: bool) -> Vec<Row> {
    let inf = built(Inference::new());
    let t = per_call(Plan::new(quick), || {
        std::hint::black_box(inf.forward().expect("the forward pass failed"));
    });
    vec![Row {
        workload: "W7",
        name: "mnist cnn eval b1".into(),
        imp: "baeum",
        metric: "us_per_forward",
        median: t * 1e6,
        n: None,
    }]
}
