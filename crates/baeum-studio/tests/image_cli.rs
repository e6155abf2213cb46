//! `baeum quickstart` and `baeum image eval | predict` end to end, through the binary: the run
//! folder's files, the accuracy on the embedded digits, and clear errors for bad input.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

fn baeum(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baeum"))
        .args(args)
        .output()
        .expect("the baeum binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("baeum-image-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One quick-start run shared by the tests (it is the expensive part).
fn quickstart_run() -> &'static (PathBuf, serde_json::Value, String) {
    static RUN: OnceLock<(PathBuf, serde_json::Value, String)> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = scratch("quickstart").join("run");
        let out = baeum(&["quickstart", "--out", dir.to_str().unwrap()]);
        let log = text(&out);
        assert!(out.status.success(), "quickstart failed:\n{log}");
        let metrics: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap())
                .unwrap();
        (dir, metrics, log)
    })
}

#[test]
fn quickstart_learns_the_digits_and_writes_a_complete_run_folder() {
    let (dir, metrics, log) = quickstart_run();
    for f in [
        "config.json",
        "history.csv",
        "history.json",
        "best.safetensors",
        "last.safetensors",
        "metrics.json",
        "report.html",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing in {}", dir.display());
    }
    let acc = metrics["test_accuracy"].as_f64().unwrap();
    assert!(acc >= 0.98, "test accuracy {acc} below the 98% target");
    assert_eq!(metrics["test_examples"], 288);
    assert_eq!(metrics["per_class"].as_array().unwrap().len(), 10);
    let cm = metrics["confusion_matrix"].as_array().unwrap();
    let total: u64 = cm
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(total, 288);
    assert!(
        log.contains("test accuracy") && log.contains("confusion matrix"),
        "{log}"
    );
    assert!(log.contains("report.html"), "{log}");
    let report = std::fs::read_to_string(dir.join("report.html")).unwrap();
    for part in [
        "Training curves",
        "confusion matrix",
        "Grad-CAM",
        "saliency",
    ] {
        assert!(report.contains(part), "report lacks {part}");
    }
}

#[test]
fn eval_reproduces_the_run_and_predict_ranks_classes() {
    let (dir, metrics, _) = quickstart_run();
    let best = dir.join("best.safetensors");
    let out_dir = scratch("eval");
    let out = baeum(&[
        "image",
        "eval",
        "--checkpoint",
        best.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let evald: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("metrics.json")).unwrap())
            .unwrap();
    assert_eq!(evald["test_accuracy"], metrics["test_accuracy"]);
    assert_eq!(evald["confusion_matrix"], metrics["confusion_matrix"]);

    // A digit drawn as a PNG: a vertical bar (a "1") on 8×8, and the same at 24×24, which
    // predict resizes.
    let small = out_dir.join("one.png");
    let large = out_dir.join("one-large.png");
    for (path, side) in [(&small, 8u32), (&large, 24u32)] {
        let img = image::GrayImage::from_fn(side, side, |x, _| {
            let mid = side / 2;
            image::Luma([if x + side / 8 >= mid && x <= mid {
                255
            } else {
                0
            }])
        });
        img.save(path).unwrap();
    }
    let out = baeum(&[
        "image",
        "predict",
        "--checkpoint",
        best.to_str().unwrap(),
        "--top",
        "3",
        small.to_str().unwrap(),
        large.to_str().unwrap(),
    ]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("resized from 24×24 to 8×8"), "{log}");
    let line = log
        .lines()
        .find(|l| l.starts_with(small.to_str().unwrap()))
        .unwrap();
    let probs: Vec<f64> = line
        .split(": ")
        .nth(1)
        .unwrap()
        .split(", ")
        .map(|p| p.split(' ').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(probs.len(), 3);
    assert!(probs.windows(2).all(|w| w[0] >= w[1]), "{line}");
    assert!(probs.iter().sum::<f64>() <= 1.0 + 1e-6);
}

fn fails_with(args: &[&str], needles: &[&str]) {
    let out = baeum(args);
    let log = text(&out);
    assert!(!out.status.success(), "{args:?} should fail:\n{log}");
    assert!(!log.contains("panicked"), "{log}");
    for n in needles {
        assert!(log.contains(n), "expected {n:?} in:\n{log}");
    }
}

#[test]
fn bad_input_gets_clear_errors() {
    let (dir, _, _) = quickstart_run();
    let best = dir.join("best.safetensors");
    let scratch = scratch("bad");
    // A file named .png that is not a PNG.
    let fake = scratch.join("fake.png");
    std::fs::write(&fake, b"not an image at all").unwrap();
    fails_with(
        &[
            "image",
            "predict",
            "--checkpoint",
            best.to_str().unwrap(),
            fake.to_str().unwrap(),
        ],
        &["fake.png"],
    );
    // A checkpoint whose config names another model.
    let other = scratch.join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::copy(&best, other.join("best.safetensors")).unwrap();
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    std::fs::write(
        other.join("config.json"),
        config.replace("\"model\": \"cnn\"", "\"model\": \"lenet5\""),
    )
    .unwrap();
    fails_with(
        &[
            "image",
            "eval",
            "--checkpoint",
            other.join("best.safetensors").to_str().unwrap(),
        ],
        &["lenet5"],
    );
    // No config beside the checkpoint, and no checkpoint at all.
    let lonely = scratch.join("lonely.safetensors");
    std::fs::copy(&best, &lonely).unwrap();
    fails_with(
        &["image", "eval", "--checkpoint", lonely.to_str().unwrap()],
        &["config.json"],
    );
    fails_with(
        &[
            "image",
            "eval",
            "--checkpoint",
            "/nonexistent/best.safetensors",
        ],
        &["does not exist"],
    );
    // A truncated checkpoint.
    let cut = scratch.join("cut");
    std::fs::create_dir_all(&cut).unwrap();
    let bytes = std::fs::read(&best).unwrap();
    std::fs::write(cut.join("best.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    std::fs::write(cut.join("config.json"), &config).unwrap();
    fails_with(
        &[
            "image",
            "eval",
            "--checkpoint",
            cut.join("best.safetensors").to_str().unwrap(),
        ],
        &["best.safetensors"],
    );
    // An unknown model and an unknown data set.
    fails_with(
        &[
            "image",
            "train",
            "--model",
            "resnet19",
            "--epochs",
            "1",
            "--no-report",
            "--out",
            scratch.join("x").to_str().unwrap(),
        ],
        &["resnet19", "resnet18"],
    );
    fails_with(
        &[
            "image",
            "train",
            "--data",
            "/nonexistent/data",
            "--epochs",
            "1",
        ],
        &["/nonexistent/data"],
    );
}

/// The first `n` embedded digits as 8×8 grey PNGs in an image folder of two new classes, even
/// and odd (no test/ folder: `train` splits it 80/20 by class).
fn parity_folder(root: &std::path::Path, n: usize) {
    let digits = baeum_vision::datasets::Digits::embedded().unwrap();
    for i in 0..n {
        let class = if digits.label(i).unwrap() % 2 == 0 {
            "even"
        } else {
            "odd"
        };
        let pixels = digits.image(i).unwrap().contiguous().to_vec::<f32>();
        let img = image::GrayImage::from_fn(8, 8, |x, y| {
            image::Luma([(pixels[(y * 8 + x) as usize] * 255.0).round() as u8])
        });
        std::fs::create_dir_all(root.join(class)).unwrap();
        img.save(root.join(class).join(format!("{i:04}.png")))
            .unwrap();
    }
}

fn tensors(path: &std::path::Path) -> std::collections::BTreeMap<String, Vec<f32>> {
    let (state, _) = baeum::io::load_safetensors(path).unwrap();
    state
        .iter()
        .map(|(k, t)| (k.to_string(), t.contiguous().to_vec::<f32>()))
        .collect()
}

#[test]
fn transfer_compares_scratch_frozen_and_fine_tuned_training_on_a_new_task() {
    let (pretrained_dir, _, _) = quickstart_run();
    let pretrained = pretrained_dir.join("best.safetensors");
    let dir = scratch("transfer");
    let data = dir.join("parity");
    parity_folder(&data, 300);
    let out_dir = dir.join("cmp");
    let out = baeum(&[
        "image",
        "transfer",
        "--data",
        data.to_str().unwrap(),
        "--gray",
        "--init-from",
        pretrained.to_str().unwrap(),
        "--epochs",
        "4",
        "--no-report",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    let cmp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("comparison.json")).unwrap())
            .unwrap();
    let runs = cmp["runs"].as_array().unwrap();
    let starts: Vec<&str> = runs.iter().map(|r| r["start"].as_str().unwrap()).collect();
    assert_eq!(starts, ["scratch", "frozen", "finetune"]);
    // 300 images split 80/20 by class, then a tenth of the 240 held out for validation.
    assert!(runs.iter().all(|r| r["train_examples"] == 216), "{cmp}");
    let trainable: Vec<u64> = runs
        .iter()
        .map(|r| r["trainable_parameters"].as_u64().unwrap())
        .collect();
    // The frozen run trains only the classifier: cnn's fc1 (64·2·2 features of an 8×8 image
    // → 128) and the new head fc2 (128 → 2).
    assert_eq!(trainable[1], (256 * 128 + 128) + (128 * 2 + 2));
    assert_eq!(trainable[0], trainable[2]);
    for r in runs {
        let acc = r["test_accuracy"].as_f64().unwrap();
        assert!(acc > 0.6, "{} learnt nothing: {acc}\n{log}", r["start"]);
    }
    // Frozen means frozen: every convolution weight is the pretrained one, bit for bit, while
    // the classifier trained and the head is new. Fine-tuning moved the features too.
    let before = tensors(&pretrained);
    let frozen = tensors(&out_dir.join("frozen/best.safetensors"));
    let tuned = tensors(&out_dir.join("finetune/best.safetensors"));
    for key in ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"] {
        assert_eq!(frozen[key], before[key], "{key}");
    }
    assert_ne!(frozen["fc1.weight"], before["fc1.weight"]);
    assert_eq!(frozen["fc2.weight"].len(), 128 * 2);
    assert_ne!(tuned["conv1.weight"], before["conv1.weight"]);
    assert!(
        log.contains("test accuracy") && log.contains("frozen"),
        "{log}"
    );
}
