//! `baeum image transfer`: COURSE §9's transfer-learning comparison. The same small labelled
//! set is learnt three ways — from scratch, with a pretrained feature extractor frozen (only
//! the classifier trains), and with every pretrained weight fine-tuned — and the three test
//! accuracies are printed side by side and written to `comparison.json`.

use std::path::Path;

use baeum::{Error, Result};
use serde_json::json;

use super::TrainArgs;
use super::train::train;
use crate::project::RunDir;

/// One way of starting the training.
struct Start {
    /// The sub-folder of the comparison's run folder.
    name: &'static str,
    what: &'static str,
    pretrained: bool,
    freeze: bool,
}

const STARTS: [Start; 3] = [
    Start {
        name: "scratch",
        what: "from scratch (random weights)",
        pretrained: false,
        freeze: false,
    },
    Start {
        name: "frozen",
        what: "pretrained features, frozen (only the classifier trains)",
        pretrained: true,
        freeze: true,
    },
    Start {
        name: "finetune",
        what: "pretrained, fine-tuned (every weight trains)",
        pretrained: true,
        freeze: false,
    },
];

/// Runs the three trainings with `args` (whose `--init-from` names the pretrained checkpoint)
/// into `<out>/{scratch,frozen,finetune}` and compares them.
pub fn transfer(args: &TrainArgs) -> Result<()> {
    let Some(pretrained) = args.init_from.clone() else {
        return Err(Error::Invalid(
            "image transfer: needs --init-from CHECKPOINT, the pretrained network to transfer from"
                .into(),
        ));
    };
    if args.freeze.is_some() {
        return Err(Error::Invalid(
            "image transfer: --freeze is chosen per run by the comparison itself; leave it out"
                .into(),
        ));
    }
    let run = RunDir::create(args.out.as_deref(), "transfer")?;
    let mut rows = Vec::new();
    for start in &STARTS {
        println!("\n== {}: {} ==", start.name, start.what);
        let mut one = args.clone();
        one.out = Some(run.path.join(start.name));
        one.init_from = start.pretrained.then(|| pretrained.clone());
        one.freeze = start.freeze.then(|| "features".to_string());
        let outcome = train(&one)?;
        rows.push(json!({
            "start": start.name,
            "description": start.what,
            "test_accuracy": outcome.summary.accuracy(),
            "macro_f1": outcome.summary.macro_f1(),
            "trainable_parameters": outcome.trainable_parameters,
            "train_examples": outcome.train_examples,
            "epochs_run": outcome.epochs_run,
            "seconds_per_epoch": outcome.seconds_per_epoch,
            "run": outcome.run.path.display().to_string(),
        }));
    }
    let comparison = json!({
        "data": args.data,
        "model": args.model,
        "pretrained": pretrained.display().to_string(),
        "limit": args.limit,
        "epochs": args.epochs,
        "optimizer": args.optimizer,
        "lr": args.lr,
        "seed": args.seed,
        "runs": rows,
    });
    run.write(
        "comparison.json",
        &serde_json::to_string_pretty(&comparison).unwrap_or_default(),
    )?;
    println!("\n{}", table(&comparison, &pretrained));
    println!("comparison: {}", run.file("comparison.json").display());
    Ok(())
}

/// The comparison as a terminal table.
fn table(comparison: &serde_json::Value, pretrained: &Path) -> String {
    let mut out = format!(
        "transfer learning on {} ({} training images), pretrained {}:\n",
        comparison["data"].as_str().unwrap_or("?"),
        comparison["runs"][0]["train_examples"],
        pretrained.display()
    );
    out.push_str(&format!(
        "{:<10} {:>12} {:>14} {:>9}\n",
        "start", "trainable", "test accuracy", "macro F1"
    ));
    for r in comparison["runs"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "{:<10} {:>12} {:>13.2}% {:>9.4}\n",
            r["start"].as_str().unwrap_or("?"),
            r["trainable_parameters"],
            r["test_accuracy"].as_f64().unwrap_or(f64::NAN) * 100.0,
            r["macro_f1"].as_f64().unwrap_or(f64::NAN),
        ));
    }
    out
}
