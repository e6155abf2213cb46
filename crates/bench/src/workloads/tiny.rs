//! W6: per-step overhead of a tiny graph: linear regression H = W·x + b on x = y = [1, 2, 3]
//! with scalar W and b; one step is `zero_grad`, forward, MSE, backward and `Sgd::step`
//! (lr 0.01), as in every other workload (µs per step). Nearly all of the time is bookkeeping
//! (allocation, graph recording, optimizer dispatch), not arithmetic.

use std::cell::RefCell;

use baeum::Tensor;
use baeum::optim::{Optimizer, Sgd};

use crate::Row;
use crate::timing::{Plan, per_call};

/// Steps per timed repeat; 7 repeats (3 with `--quick`), each of fresh parameters.
pub const STEPS: usize = 2000;

/// The regression's data and parameters.
pub struct Tiny {
    pub w: Tensor,
    pub b: Tensor,
    x: Tensor,
    y: Tensor,
    // `step` takes `&self` so that a test can call it freely; the optimizer mutates.
    optimizer: RefCell<Sgd>,
}

impl Tiny {
    pub fn new() -> Tiny {
        let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [3]);
        let w = Tensor::param(&Tensor::scalar(0.5f32));
        let b = Tensor::param(&Tensor::scalar(0.1f32));
        Tiny {
            optimizer: RefCell::new(Sgd::new(vec![w.clone(), b.clone()], 0.01)),
            w,
            b,
            y: x.clone(),
            x,
        }
    }

    /// One step; returns the loss.
    pub fn step(&self) -> Tensor {
        let mut optimizer = self.optimizer.borrow_mut();
        optimizer.zero_grad();
        let h = &self.w * &self.x + &self.b;
        let d = &h - &self.y;
        let loss = (&d * &d).mean();
        loss.backward();
        optimizer
            .step()
            .expect("SGD steps scalar f32 parameters with gradients");
        loss
    }
}

impl Default for Tiny {
    fn default() -> Self {
        Tiny::new()
    }
}

pub fn run(quick: bool) -> Vec<Row> {
    let plan = Plan {
        warmup: 1,
        repeats: if quick { 3 } else { 7 },
        steps: 1,
    };
    // One call = STEPS steps from fresh parameters (as before the suite existed).
    let t = per_call(plan, || {
        let tiny = Tiny::new();
        for _ in 0..STEPS {
            tiny.step();
        }
        std::hint::black_box(&tiny.w);
    });
    vec![Row {
        workload: "W6",
        name: "tiny graph step".into(),
        imp: "baeum",
        metric: "us_per_step",
        median: t / STEPS as f64 * 1e6,
        n: None,
    }]
}
