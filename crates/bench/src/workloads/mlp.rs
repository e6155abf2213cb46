//! W1: a multilayer perceptron 784-256-ReLU-128-ReLU-10 on MNIST-sized inputs, cross-entropy,
//! Adam (lr 1e-3), batch 64. Mostly three small matmuls and their backward: it measures the
//! matmul path at awkward shapes plus per-op overhead.

use baeum::nn::{CrossEntropyLoss, Linear, ModuleExt, ReLU, Sequential};
use baeum::optim::Adam;
use baeum::{DType, Generator, Tensor};

use super::{SEED, steps_per_s};
use crate::Row;
use crate::job::TrainJob;

pub const BATCH: usize = 64;

/// The job at `batch` (the benchmark's is [`BATCH`]); inputs U(0, 1), labels in 0..10.
pub fn job(batch: usize) -> TrainJob {
    let mut g = Generator::new(SEED);
    let mut linear = |i, o| Linear::with_options(i, o, true, DType::F32, &mut g);
    let model = Sequential::new()
        .add(linear(784, 256))
        .add(ReLU)
        .add(linear(256, 128))
        .add(ReLU)
        .add(linear(128, 10));
    let x = Tensor::uniform_with([batch, 784], 0.0, 1.0, DType::F32, &mut g);
    let y = Tensor::randint_with(0, 10, [batch], &mut g);
    TrainJob {
        optimizer: Box::new(Adam::new(model.parameters(), 1e-3)),
        model: Box::new(model),
        loss: Box::new(CrossEntropyLoss::default()),
        x,
        y,
    }
}

pub fn run(quick: bool) -> Vec<Row> {
    vec![steps_per_s(
        "W1",
        "mlp 784-256-128-10 adam b64",
        quick,
        job(BATCH),
    )]
}
