//! The training loop: XOR learned through `Trainer::fit` (COURSE §7), resuming from a
//! checkpoint equals an uninterrupted run, early stopping restores the best weights, the NaN
//! guard stops with a clear error and keeps the last good checkpoint.

use std::path::{Path, PathBuf};

use baeum::data::{DataLoader, TensorDataset};
use baeum::nn::functional::{Reduction, mse_loss};
use baeum::nn::{BCEWithLogitsLoss, Dropout, Forward, Linear, ModuleExt, ReLU, Sequential};
use baeum::optim::{Adam, Sgd};
use baeum::train::{EarlyStopping, Trainer, TrainerConfig, load_checkpoint};
use baeum::{Result, Tensor};

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("baeum-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn xor() -> (Tensor, Tensor) {
    let x = Tensor::from_vec(vec![0f32, 0., 0., 1., 1., 0., 1., 1.], [4, 2]);
    let y = Tensor::from_vec(vec![0f32, 1., 1., 0.], [4, 1]);
    (x, y)
}

fn mse(out: &Tensor, y: &Tensor) -> Result<Tensor> {
    mse_loss(out, y, Reduction::Mean)
}

fn deep_relu_net(depth: usize) -> Sequential {
    let mut m = Sequential::new().add(Linear::new(2, 10)).add(ReLU);
    for _ in 1..depth {
        m = m.add(Linear::new(10, 10)).add(ReLU);
    }
    m.add(Linear::new(10, 1))
}

#[test]
fn a_deep_relu_net_learns_xor_through_fit() {
    baeum::manual_seed(1);
    let model = deep_relu_net(10);
    let (x, y) = xor();
    let mut loader = DataLoader::new(TensorDataset::new(x.clone(), y.clone()).unwrap(), 4);
    let mut opt = Adam::new(model.parameters(), 0.01);
    let bce = BCEWithLogitsLoss::default();
    let mut trainer = Trainer::new(TrainerConfig {
        epochs: 300,
        verbose: 0,
        ..Default::default()
    });
    let history = trainer
        .fit(&model, &mut opt, &bce, &mut loader, None)
        .unwrap();
    assert_eq!(history.epochs.len(), 300);
    let losses = history.get("loss");
    assert!(
        losses[299] < 0.05 && losses[299] < losses[0],
        "{:?}",
        &losses[290..]
    );
    let p = model.forward(&x).unwrap().sigmoid().to_vec::<f32>();
    let predicted: Vec<f32> = p.iter().map(|v| if *v > 0.5 { 1.0 } else { 0.0 }).collect();
    assert_eq!(predicted, y.to_vec::<f32>(), "{p:?}");
}

/// A regression run with dropout and shuffling, so resuming must restore the RNG, the
/// optimizer's momentum and the loader's epoch exactly.
fn regression_run(dir: &Path, epochs: usize, resume: bool) -> (Vec<f32>, Vec<f64>) {
    baeum::manual_seed(7);
    let model = Sequential::new()
        .add(Linear::new(3, 16))
        .add(ReLU)
        .add(Dropout::new(0.3).unwrap())
        .add(Linear::new(16, 1));
    let x = Tensor::randn([40, 3]);
    let y = (x.sum_dims(&[1], true) * 0.5).sin();
    let mut train = DataLoader::new(TensorDataset::new(x.clone(), y.clone()).unwrap(), 8)
        .shuffle(true)
        .seed(3);
    let mut val = DataLoader::new(TensorDataset::new(x, y).unwrap(), 40);
    let mut opt = Sgd::new(model.parameters(), 0.05).momentum(0.9);
    let mut trainer = Trainer::new(TrainerConfig {
        epochs,
        seed: 11,
        out_dir: Some(dir.to_path_buf()),
        verbose: 0,
        ..Default::default()
    });
    if resume {
        trainer = trainer.resume_from(dir.join("last.safetensors")).unwrap();
    }
    let h = trainer
        .fit(&model, &mut opt, &mse, &mut train, Some(&mut val))
        .unwrap();
    let w: Vec<f32> = model
        .parameters()
        .iter()
        .flat_map(|p| p.to_vec::<f32>())
        .collect();
    (w, h.get("val_loss"))
}

#[test]
fn resuming_from_a_checkpoint_equals_an_uninterrupted_run() {
    let a = tmp_dir("straight");
    let (w_straight, h_straight) = regression_run(&a, 6, false);
    let b = tmp_dir("resumed");
    let (_, h_first) = regression_run(&b, 3, false);
    assert_eq!(h_first, h_straight[..3]);
    let (w_resumed, h_resumed) = regression_run(&b, 6, true);
    assert_eq!(h_resumed, h_straight);
    assert_eq!(w_resumed, w_straight);
    // The run folder holds both checkpoints (PyTorch key names) and the history.
    for f in [
        "best.safetensors",
        "last.safetensors",
        "last.state.safetensors",
        "history.csv",
        "history.json",
    ] {
        assert!(a.join(f).exists(), "{f}");
    }
    let ck = load_checkpoint(a.join("last.safetensors")).unwrap();
    assert_eq!(ck.epoch, 6);
    let mut keys: Vec<&str> = ck.model.keys().collect();
    keys.sort();
    assert_eq!(keys, ["0.bias", "0.weight", "3.bias", "3.weight"]);
    let csv = std::fs::read_to_string(a.join("history.csv")).unwrap();
    assert!(csv.starts_with("epoch,loss,lr,val_loss\n1,"), "{csv}");
    assert_eq!(csv.lines().count(), 7);
    // A corrupt checkpoint is a clear error.
    std::fs::write(
        b.join("broken.safetensors"),
        b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":",
    )
    .unwrap();
    let err = load_checkpoint(b.join("broken.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("broken.safetensors") && err.contains("not a valid safetensors file"),
        "{err}"
    );
    std::fs::remove_dir_all(a).unwrap();
    std::fs::remove_dir_all(b).unwrap();
}

#[test]
fn early_stopping_stops_and_restores_the_best_weights() {
    baeum::manual_seed(3);
    let model = Sequential::new().add(Linear::new(2, 1));
    let x = Tensor::randn([16, 2]);
    let noise = Tensor::randn([16, 1]);
    let mut train = DataLoader::new(TensorDataset::new(x.clone(), noise.clone()).unwrap(), 16);
    // Validation targets the model cannot fit while lr is large: the loss wanders.
    let mut val = DataLoader::new(TensorDataset::new(x, noise * -1.0).unwrap(), 16);
    let mut opt = Sgd::new(model.parameters(), 0.5);
    let mut trainer = Trainer::new(TrainerConfig {
        epochs: 100,
        verbose: 0,
        ..Default::default()
    })
    .callback(
        EarlyStopping::new("val_loss")
            .patience(2)
            .restore_best_weights(true),
    );
    let h = trainer
        .fit(&model, &mut opt, &mse, &mut train, Some(&mut val))
        .unwrap();
    let vl = h.get("val_loss");
    assert!(vl.len() < 100, "stopped early");
    let best = vl.iter().cloned().fold(f64::INFINITY, f64::min);
    let best_epoch = vl.iter().position(|v| *v == best).unwrap();
    assert_eq!(
        vl.len(),
        best_epoch + 3,
        "patience 2 after the best epoch: {vl:?}"
    );
    let logs = trainer.evaluate(&model, &mse, &mut val).unwrap();
    assert!(
        (logs["loss"] - best).abs() < 1e-6,
        "restored weights give the best val_loss"
    );
}

#[test]
fn a_nan_loss_stops_with_a_clear_error_and_keeps_the_last_checkpoint() {
    baeum::manual_seed(0);
    let dir = tmp_dir("nan");
    let model = Sequential::new().add(Linear::new(1, 1));
    let x = Tensor::from_vec(vec![1e3f32, -2e3, 3e3, 5e2], [4, 1]);
    let y = Tensor::from_vec(vec![1f32, 2., 3., 4.], [4, 1]);
    let mut loader = DataLoader::new(TensorDataset::new(x, y).unwrap(), 4);
    let mut opt = Sgd::new(model.parameters(), 10.0);
    let mut trainer = Trainer::new(TrainerConfig {
        epochs: 50,
        out_dir: Some(dir.clone()),
        verbose: 0,
        ..Default::default()
    });
    let err = trainer
        .fit(&model, &mut opt, &mse, &mut loader, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("training stopped: the loss is") && err.contains("batch 1"),
        "{err}"
    );
    assert!(err.contains("last.safetensors"), "{err}");
    let ck = load_checkpoint(dir.join("last.safetensors")).unwrap();
    assert!(ck.epoch >= 1);
    assert!(
        ck.model
            .iter()
            .all(|(_, t)| t.to_vec::<f64>().iter().all(|v| v.is_finite()))
    );
    std::fs::remove_dir_all(dir).unwrap();
}
