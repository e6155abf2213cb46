//! Callbacks run at the end of each epoch (Keras' `callbacks=`): early stopping with patience,
//! min_delta and restoring the best weights, or anything a user writes.

use super::history::Logs;
use crate::Tensor;
use crate::error::{Result, bail};
use crate::io::StateDict;
use crate::nn::{Module, ModuleExt};

/// Whether smaller or larger values of a monitored quantity are better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Min,
    Max,
    /// `Max` for names containing "acc", "f1", "precision", "recall", "r2", `Min` otherwise,
    /// as Keras guesses.
    Auto,
}

impl Mode {
    pub(crate) fn resolve(self, monitor: &str) -> Mode {
        match self {
            Mode::Auto => {
                let m = monitor.to_ascii_lowercase();
                if ["acc", "f1", "precision", "recall", "r2"]
                    .iter()
                    .any(|k| m.contains(k))
                {
                    Mode::Max
                } else {
                    Mode::Min
                }
            }
            m => m,
        }
    }

    /// Whether `value` beats `best` by more than `min_delta`.
    pub(crate) fn improves(self, value: f64, best: f64, min_delta: f64) -> bool {
        match self {
            Mode::Max => value > best + min_delta,
            _ => value < best - min_delta,
        }
    }
}

/// What a callback asks the loop to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

/// What a callback sees: the model (to snapshot or restore weights).
pub struct CallbackContext<'a> {
    pub model: &'a dyn Module,
    pub epoch: usize,
}

/// Hooks into [`super::Trainer::fit`].
pub trait Callback: Send {
    fn on_epoch_end(&mut self, logs: &Logs, ctx: &CallbackContext<'_>) -> Result<Control>;

    fn on_train_end(&mut self, _ctx: &CallbackContext<'_>) -> Result<()> {
        Ok(())
    }

    /// State saved in checkpoints, so a resumed run continues the same way.
    fn state_dict(&self) -> StateDict {
        StateDict::new()
    }

    fn load_state_dict(&mut self, _state: &StateDict) -> Result<()> {
        Ok(())
    }

    /// A short name for state-dict keys.
    fn name(&self) -> String;
}

/// Stops when `monitor` (e.g. `val_loss`) has not improved by more than `min_delta` for
/// `patience` epochs in a row (at least one); with `restore_best_weights` the model ends with its best epoch's weights.
pub struct EarlyStopping {
    pub monitor: String,
    pub patience: usize,
    pub min_delta: f64,
    pub mode: Mode,
    pub restore_best_weights: bool,
    best: f64,
    wait: usize,
    /// The epoch (counting from 0) with the best value.
    pub best_epoch: Option<usize>,
    /// The epoch at which training was stopped, if it was.
    pub stopped_epoch: Option<usize>,
    best_weights: Option<StateDict>,
}

impl EarlyStopping {
    /// Patience 0, min_delta 0, auto mode, no restoring (Keras' defaults).
    pub fn new(monitor: &str) -> EarlyStopping {
        EarlyStopping {
            monitor: monitor.to_string(),
            patience: 0,
            min_delta: 0.0,
            mode: Mode::Auto,
            restore_best_weights: false,
            best: f64::NAN,
            wait: 0,
            best_epoch: None,
            stopped_epoch: None,
            best_weights: None,
        }
    }
    pub fn patience(mut self, p: usize) -> Self {
        self.patience = p;
        self
    }
    pub fn min_delta(mut self, d: f64) -> Self {
        self.min_delta = d.abs();
        self
    }
    pub fn mode(mut self, m: Mode) -> Self {
        self.mode = m;
        self
    }
    pub fn restore_best_weights(mut self, on: bool) -> Self {
        self.restore_best_weights = on;
        self
    }
}

impl Callback for EarlyStopping {
    fn on_epoch_end(&mut self, logs: &Logs, ctx: &CallbackContext<'_>) -> Result<Control> {
        let Some(&value) = logs.get(&self.monitor) else {
            let known: Vec<&str> = logs.keys().map(|k| k.as_str()).collect();
            bail!(
                Invalid,
                "EarlyStopping: '{}' is not logged (available: {})",
                self.monitor,
                known.join(", ")
            );
        };
        let mode = self.mode.resolve(&self.monitor);
        if self.best.is_nan() || mode.improves(value, self.best, self.min_delta) {
            self.best = value;
            self.wait = 0;
            self.best_epoch = Some(ctx.epoch);
            if self.restore_best_weights {
                self.best_weights = Some(ctx.model.state_dict_snapshot());
            }
            return Ok(Control::Continue);
        }
        self.wait += 1;
        // Keras' rule: stop once `patience` epochs in a row brought no improvement.
        if self.wait >= self.patience.max(1) {
            self.stopped_epoch = Some(ctx.epoch);
            return Ok(Control::Stop);
        }
        Ok(Control::Continue)
    }

    fn on_train_end(&mut self, ctx: &CallbackContext<'_>) -> Result<()> {
        if let Some(w) = &self.best_weights
            && self.restore_best_weights
        {
            ctx.model.load_state_dict(w, true)?;
        }
        Ok(())
    }

    fn state_dict(&self) -> StateDict {
        let mut s = StateDict::new();
        s.insert("best", Tensor::scalar(self.best));
        s.insert("wait", Tensor::scalar(self.wait as i64));
        s.insert(
            "best_epoch",
            Tensor::scalar(self.best_epoch.map_or(-1, |e| e as i64)),
        );
        if let Some(w) = &self.best_weights {
            s.extend_prefixed("best_weights", w);
        }
        s
    }

    fn load_state_dict(&mut self, state: &StateDict) -> Result<()> {
        self.best = state.scalar("best")?;
        self.wait = state.scalar("wait")? as usize;
        let e = state.scalar("best_epoch")?;
        self.best_epoch = (e >= 0.0).then_some(e as usize);
        let w = state.sub("best_weights");
        self.best_weights = (!w.is_empty()).then_some(w);
        Ok(())
    }

    fn name(&self) -> String {
        format!("early_stopping_{}", self.monitor)
    }
}
