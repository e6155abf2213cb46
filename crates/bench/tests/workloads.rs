//! Every workload still builds, runs and learns, at small batches so that this stays a few
//! seconds: a suite that silently stopped measuring what it says would be worse than none.

use baeum::{DType, Generator, Tensor};
use bench::job::TrainJob;
use bench::workloads::{self, cnn, matmul, mlp, rnn, tiny};

/// Runs `steps` training steps: the output has `out` dims, every loss is finite, and the
/// losses of the last third are lower on average than those of the first third (the batch is
/// fixed, so even random labels are learned).
fn learns(name: &str, mut job: TrainJob, out: &[usize], steps: usize) {
    assert_eq!(job.output().unwrap().dims(), out, "{name}: output shape");
    let losses: Vec<f32> = (0..steps)
        .map(|_| job.step().unwrap().item::<f32>())
        .collect();
    assert!(
        losses.iter().all(|l| l.is_finite()),
        "{name}: losses {losses:?}"
    );
    let third = steps / 3;
    let mean = |s: &[f32]| s.iter().sum::<f32>() / s.len() as f32;
    let (first, last) = (mean(&losses[..third]), mean(&losses[steps - third..]));
    assert!(last < first, "{name}: loss did not fall: {losses:?}");
}

#[test]
fn w1_mlp_learns() {
    learns("W1", mlp::job(8), &[8, 10], 9);
}

#[test]
fn w2_lenet_learns() {
    learns("W2", cnn::lenet_job(4).unwrap(), &[4, 10], 12);
}

#[test]
fn w3_mnist_cnn_learns() {
    learns("W3", cnn::mnist_cnn_job(4).unwrap(), &[4, 10], 9);
}

#[test]
fn w4_lstm_learns() {
    learns("W4", rnn::lstm_job(4).unwrap(), &[4, 2], 9);
}

#[test]
fn w5_resnet_learns() {
    learns("W5", cnn::resnet_job(4).unwrap(), &[4, 10], 9);
}

#[test]
fn w8_gru_learns() {
    learns("W8", rnn::gru_job(8).unwrap(), &[8, 1], 9);
}

#[test]
fn w6_tiny_step_learns() {
    let t = tiny::Tiny::new();
    let first = t.step().item::<f32>();
    let mut last = first;
    for _ in 0..200 {
        last = t.step().item::<f32>();
    }
    assert!(last.is_finite() && last < first / 2.0, "{first} → {last}");
}

#[test]
fn w7_inference_is_eval_and_unrecorded() {
    let inf = cnn::Inference::new().unwrap();
    let (a, b) = (inf.forward().unwrap(), inf.forward().unwrap());
    assert_eq!(a.dims(), &[1, 10]);
    assert!(!a.requires_grad(), "the forward pass was recorded");
    // Dropout is off in eval mode, so the same image gives the same logits.
    assert_eq!(a.to_vec::<f32>(), b.to_vec::<f32>());
}

#[test]
fn w0_gemm_call_computes_the_product() {
    let n = 48;
    let mut g = Generator::new(3);
    let a = Tensor::uniform_with([n, n], -1.0, 1.0, DType::F32, &mut g);
    let b = Tensor::uniform_with([n, n], -1.0, 1.0, DType::F32, &mut g);
    let mut c = vec![0f32; n * n];
    matmul::gemm_direct(&a.to_vec::<f32>(), &b.to_vec::<f32>(), &mut c, n);
    for (x, y) in c.iter().zip(a.matmul(&b).to_vec::<f32>()) {
        assert!((x - y).abs() < 1e-4, "{x} vs {y}");
    }
    assert_eq!(matmul::reps(2048, false), 5);
}

/// The PyTorch side must offer the same workloads, or compare.py would print holes.
#[test]
fn torch_reference_has_every_workload() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/torch_ref.py");
    let src = std::fs::read_to_string(path).unwrap();
    let table = src
        .split("WORKLOADS = {")
        .nth(1)
        .and_then(|s| s.split('}').next())
        .expect("torch_ref.py defines WORKLOADS");
    for (id, _) in workloads::ALL {
        assert!(
            table.contains(&format!("\"{id}\"")),
            "torch_ref.py lacks {id}"
        );
    }
}
