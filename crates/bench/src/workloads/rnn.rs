//! The recurrent workloads, built from `baeum::nn` as a user would:
//! - W4: Embedding(10000, 128) → LSTM(128 → 128, batch-first) over 64 tokens → the last hidden
//!   state → fc(2); cross-entropy, Adam lr 1e-3, batch 32 (a sentiment classifier's shape);
//! - W8: GRU(5 → 64, batch-first) over 28 steps → the last hidden state → fc(1); MSE, Adam
//!   lr 1e-3, batch 32 (a time-series regressor).
//!
//! Both are long chains of small ops: they measure per-step overhead of the recurrent cell
//! and of the autograd graph more than arithmetic.

use baeum::nn::{
    self, CrossEntropyLoss, Embedding, Forward, GRU, LSTM, Linear, MSELoss, ModuleExt, RnnConfig,
};
use baeum::optim::Adam;
use baeum::{DType, Generator, Result, Tensor};

use super::{SEED, built, steps_per_s};
use crate::Row;
use crate::job::TrainJob;

pub const BATCH: usize = 32;
pub const VOCAB: usize = 10_000;
pub const TOKENS: usize = 64;
pub const SERIES_STEPS: usize = 28;

/// W4's model: token ids `[N, T]` → logits `[N, 2]`.
#[derive(nn::Module)]
pub struct LstmClassifier {
    pub embedding: Embedding,
    pub lstm: LSTM,
    pub fc: Linear,
}

impl Forward for LstmClassifier {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (_, (h, _)) = self.lstm.forward_with(&self.embedding.forward(x)?, None)?;
        // h_n is [layers, N, H]: the last layer's final state.
        self.fc.forward(&h.select(0, -1))
    }
}

/// W8's model: series `[N, T, 5]` → predictions `[N, 1]`.
#[derive(nn::Module)]
pub struct GruRegressor {
    pub gru: GRU,
    pub fc: Linear,
}

impl Forward for GruRegressor {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (_, h) = self.gru.forward_with(x, None)?;
        self.fc.forward(&h.select(0, -1))
    }
}

/// W4's job at `n` sequences per batch; token ids and labels uniform.
pub fn lstm_job(n: usize) -> Result<TrainJob> {
    let mut g = Generator::new(SEED);
    let model = LstmClassifier {
        embedding: Embedding::with_options(VOCAB, 128, None, DType::F32, &mut g)?,
        lstm: LSTM::with_options(
            RnnConfig::new(128, 128).batch_first(true),
            DType::F32,
            &mut g,
        )?,
        fc: Linear::with_options(128, 2, true, DType::F32, &mut g),
    };
    let x = Tensor::randint_with(0, VOCAB as i64, [n, TOKENS], &mut g);
    let y = Tensor::randint_with(0, 2, [n], &mut g);
    Ok(TrainJob {
        optimizer: Box::new(Adam::new(model.parameters(), 1e-3)),
        model: Box::new(model),
        loss: Box::new(CrossEntropyLoss::default()),
        x,
        y,
    })
}

/// W8's job at `n` series per batch; inputs and targets N(0, 1).
pub fn gru_job(n: usize) -> Result<TrainJob> {
    let mut g = Generator::new(SEED);
    let model = GruRegressor {
        gru: GRU::with_options(RnnConfig::new(5, 64).batch_first(true), DType::F32, &mut g)?,
        fc: Linear::with_options(64, 1, true, DType::F32, &mut g),
    };
    let x = Tensor::normal_with([n, SERIES_STEPS, 5], 0.0, 1.0, DType::F32, &mut g);
    let y = Tensor::normal_with([n, 1], 0.0, 1.0, DType::F32, &mut g);
    Ok(TrainJob {
        optimizer: Box::new(Adam::new(model.parameters(), 1e-3)),
        model: Box::new(model),
        loss: Box::new(MSELoss::default()),
        x,
        y,
    })
}

pub fn run_w4(quick: bool) -> Vec<Row> {
    let job = built(lstm_job(BATCH));
    vec![steps_per_s(
        "W4",
        "embedding+lstm 64 tokens adam b32",
        quick,
        job,
    )]
}

pub fn run_w8(quick: bool) -> Vec<Row> {
    let job = built(gru_job(BATCH));
    vec![steps_per_s("W8", "gru 28 steps mse adam b32", quick, job)]
}
