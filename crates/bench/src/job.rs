//! A training job as a user writes one: a model, an optimizer, a loss and one fixed batch; a
//! step is `zero_grad`, forward, loss, backward, optimizer step (PyTorch's five lines).

use baeum::nn::{Layer, Loss};
use baeum::optim::Optimizer;
use baeum::{Result, Tensor};

pub struct TrainJob {
    pub model: Box<dyn Layer>,
    pub optimizer: Box<dyn Optimizer>,
    pub loss: Box<dyn Loss>,
    /// The batch's inputs and targets, drawn once from the workload's seed.
    pub x: Tensor,
    pub y: Tensor,
}

impl TrainJob {
    /// One training step; returns the loss (a scalar tensor).
    pub fn step(&mut self) -> Result<Tensor> {
        self.optimizer.zero_grad();
        let out = self.model.forward(&self.x)?;
        let loss = self.loss.loss(&out, &self.y)?;
        loss.backward();
        self.optimizer.step()?;
        Ok(loss)
    }

    /// The model's output on the batch, without recording (for shape checks).
    pub fn output(&self) -> Result<Tensor> {
        baeum::autograd::no_grad(|| self.model.forward(&self.x))
    }
}
