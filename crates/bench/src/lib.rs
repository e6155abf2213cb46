//! baeum's benchmark workloads (issue 6: performance against PyTorch), as a library so that the
//! `bench` binary times them and `cargo test -p bench` checks that each still trains.
//!
//! Every workload is defined identically in `bench/torch_ref.py`: float32, random inputs from a
//! fixed seed (one batch, made before timing: data loading is not measured), 2 threads, and a
//! training "step" = `zero_grad`, forward, loss, backward, optimizer step. A figure is the median
//! over repeats of the mean time of many steps after a warm-up (see [`timing::Plan`]).
//!
//! | id | what | metric |
//! |----|------|--------|
//! | W0 | f32 square matmul, n ∈ {128, 512, 1024, 2048}, beside the `gemm` crate called directly | gflops |
//! | EW | 16M-element add, mul, exp, beside a parallel copy | gbps |
//! | W1 | MLP 784-256-ReLU-128-ReLU-10, cross-entropy, Adam 1e-3, batch 64 | steps_per_s |
//! | W2 | LeNet-5 (`baeum_vision::models::LeNet5`), SGD 0.01 momentum 0.9, batch 64, 28×28 | steps_per_s |
//! | W3 | PyTorch's MNIST example CNN (`MnistCnn`), Adam 1e-3, batch 64 | steps_per_s |
//! | W4 | Embedding(10000, 128) → LSTM(128→128) over 64 steps → fc(2), Adam 1e-3, batch 32 | steps_per_s |
//! | W5 | CIFAR ResNet, one block per stage (`CifarResNet` n = 1), SGD 0.01 momentum 0.9, batch 32 | steps_per_s |
//! | W6 | tiny graph: scalar linear regression step | us_per_step |
//! | W7 | W3's model, batch 1, eval mode, no grad | us_per_forward |
//! | W8 | GRU(5→64) over 28 steps → fc(1), MSE, Adam 1e-3, batch 32 | steps_per_s |

pub mod job;
pub mod timing;
pub mod workloads;

/// One measured figure, printed as a table row or a JSON line.
#[derive(Clone, Debug)]
pub struct Row {
    pub workload: &'static str,
    /// What was measured, for a reader (`matmul f32 n=512`, `mlp b64`).
    pub name: String,
    /// Which implementation: `baeum`, or a reference (`gemm`, `memcpy`).
    pub imp: &'static str,
    /// `gflops`, `gbps`, `steps_per_s`, `us_per_step` or `us_per_forward`.
    pub metric: &'static str,
    pub median: f64,
    /// The problem size where a workload has several (W0's n, EW's length).
    pub n: Option<usize>,
}
