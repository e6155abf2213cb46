//! Checkpoints: `NAME.safetensors` holds the model's state dict with PyTorch's key names (so
//! PyTorch, or `load_state_dict`, reads it directly), and `NAME.state.safetensors` what a run
//! needs to resume (optimizer, schedule, callbacks, epoch, history, seed). Both are written
//! atomically; both carry the epoch, so a pair from different epochs is refused.

use std::path::{Path, PathBuf};

use super::history::History;
use crate::error::{Error, Result, bail};
use crate::io::{Metadata, StateDict, load_safetensors, save_safetensors};

/// A model plus the training state saved with it.
#[derive(Clone, Debug, Default)]
pub struct Checkpoint {
    pub model: StateDict,
    pub optimizer: StateDict,
    pub scheduler: StateDict,
    pub callbacks: StateDict,
    /// Epochs completed.
    pub epoch: usize,
    pub seed: u64,
    pub history: History,
}

/// The training-state file that goes with a model file (`last.safetensors` →
/// `last.state.safetensors`).
pub fn state_path(model_path: &Path) -> PathBuf {
    let stem = model_path
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.strip_suffix(".safetensors").unwrap_or(n).to_string())
        .unwrap_or_default();
    model_path.with_file_name(format!("{stem}.state.safetensors"))
}

/// Writes the two files of a checkpoint; the state file first, so the model file's presence
/// means the pair is complete.
pub fn save_checkpoint(c: &Checkpoint, model_path: impl AsRef<Path>) -> Result<()> {
    let model_path = model_path.as_ref();
    let mut state = StateDict::new();
    state.extend_prefixed("optimizer", &c.optimizer);
    state.extend_prefixed("scheduler", &c.scheduler);
    state.extend_prefixed("callbacks", &c.callbacks);
    let meta = Metadata::from([
        ("format".to_string(), "baeum-train-state-1".to_string()),
        ("epoch".to_string(), c.epoch.to_string()),
        ("seed".to_string(), c.seed.to_string()),
        ("history".to_string(), c.history.to_json()),
    ]);
    save_safetensors(&state, Some(&meta), state_path(model_path))?;
    let meta = Metadata::from([
        ("format".to_string(), "pt".to_string()),
        ("epoch".to_string(), c.epoch.to_string()),
    ]);
    save_safetensors(&c.model, Some(&meta), model_path)
}

/// Reads a checkpoint. Without its state file, the model is returned with empty training state
/// (epoch 0), so a plain PyTorch state dict works as a starting point.
pub fn load_checkpoint(model_path: impl AsRef<Path>) -> Result<Checkpoint> {
    let model_path = model_path.as_ref();
    let (model, meta) = load_safetensors(model_path)?;
    let sp = state_path(model_path);
    if !sp.exists() {
        return Ok(Checkpoint {
            model,
            ..Checkpoint::default()
        });
    }
    let (state, smeta) = load_safetensors(&sp)?;
    let field = |m: &Metadata, k: &str, p: &Path| -> Result<String> {
        m.get(k).cloned().ok_or_else(|| {
            Error::Format(format!("{}: checkpoint metadata lacks '{k}'", p.display()))
        })
    };
    let epoch_of = |m: &Metadata, p: &Path| -> Result<usize> {
        field(m, "epoch", p)?
            .parse()
            .map_err(|_| Error::Format(format!("{}: bad epoch in metadata", p.display())))
    };
    let epoch = epoch_of(&smeta, &sp)?;
    if meta.contains_key("epoch") && epoch_of(&meta, model_path)? != epoch {
        bail!(
            Format,
            "{} (epoch {}) and {} (epoch {epoch}) are from different epochs",
            model_path.display(),
            epoch_of(&meta, model_path)?,
            sp.display()
        );
    }
    Ok(Checkpoint {
        model,
        optimizer: state.sub("optimizer"),
        scheduler: state.sub("scheduler"),
        callbacks: state.sub("callbacks"),
        epoch,
        seed: field(&smeta, "seed", &sp)?
            .parse()
            .map_err(|_| Error::Format(format!("{}: bad seed in metadata", sp.display())))?,
        history: History::from_json(&field(&smeta, "history", &sp)?)?,
    })
}
