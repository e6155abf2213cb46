//! `Trainer::fit` (Keras' `model.fit`): epochs of training and validation with metrics,
//! callbacks, an LR schedule, a progress display, a NaN guard, and best/last checkpoints that
//! a run resumes from with the same result as an uninterrupted one.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::callbacks::{Callback, CallbackContext, Control, Mode};
use super::checkpoint::{Checkpoint, load_checkpoint, save_checkpoint};
use super::history::{History, Logs};
use super::progress::Progress;
use crate::autograd::no_grad;
use crate::data::DataLoader;
use crate::error::{Error, Result, bail};
use crate::metrics::Metric;
use crate::nn::module::{capture_modes, restore_modes};
use crate::nn::{Forward, Loss, Module, ModuleExt};
use crate::optim::{LrScheduler, Optimizer};
use crate::{Tensor, manual_seed};

/// How a run goes: epochs, seed, output folder, what "best" means, and how much to print.
#[derive(Clone, Debug)]
pub struct TrainerConfig {
    pub epochs: usize,
    /// Seeds the global generator at the start of every epoch (from (seed, epoch)), so dropout
    /// and anything else random repeat exactly, and a resumed run matches.
    pub seed: u64,
    /// Where `last.safetensors`, `best.safetensors` and `history.{csv,json}` go (none: no files).
    pub out_dir: Option<PathBuf>,
    /// The quantity that picks `best.safetensors` (default `val_loss`, or `loss` without
    /// validation data).
    pub monitor: Option<String>,
    pub monitor_mode: Mode,
    /// 0 silent, 1 a progress bar on a terminal, 2 one line per epoch.
    pub verbose: u8,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        TrainerConfig {
            epochs: 1,
            seed: 0,
            out_dir: None,
            monitor: None,
            monitor_mode: Mode::Auto,
            verbose: 1,
        }
    }
}

/// The training loop. Build it, add metrics and callbacks, then `fit`.
pub struct Trainer {
    pub config: TrainerConfig,
    metrics: Vec<Box<dyn Metric>>,
    callbacks: Vec<Box<dyn Callback>>,
    scheduler: Option<Box<dyn LrScheduler>>,
    resume: Option<Checkpoint>,
    /// Everything logged so far (kept across `fit` calls and restored on resume).
    pub history: History,
}

/// A loss: `(model output, target) → scalar`: a loss module or a closure.
pub type LossFn<'a> = &'a dyn Loss;

impl Trainer {
    pub fn new(config: TrainerConfig) -> Trainer {
        Trainer {
            config,
            metrics: Vec::new(),
            callbacks: Vec::new(),
            scheduler: None,
            resume: None,
            history: History::default(),
        }
    }

    /// Adds a metric, logged as `name` for training and `val_name` for validation.
    pub fn metric(mut self, m: impl Metric + 'static) -> Trainer {
        self.metrics.push(Box::new(m));
        self
    }

    pub fn callback(mut self, c: impl Callback + 'static) -> Trainer {
        self.callbacks.push(Box::new(c));
        self
    }

    /// A schedule stepped once per epoch, after validation; ReduceLROnPlateau receives the
    /// monitored value.
    pub fn scheduler(mut self, s: impl LrScheduler + 'static) -> Trainer {
        self.scheduler = Some(Box::new(s));
        self
    }

    /// Continues the run saved at `checkpoint` (a `last.safetensors` with its state file):
    /// model, optimizer, schedule, callbacks, epoch count and history are restored by `fit`.
    pub fn resume_from(mut self, checkpoint: impl AsRef<Path>) -> Result<Trainer> {
        let c = load_checkpoint(checkpoint.as_ref())?;
        if c.seed != self.config.seed && c.epoch > 0 {
            bail!(
                Invalid,
                "resume: {} was trained with seed {}, this run has seed {}",
                checkpoint.as_ref().display(),
                c.seed,
                self.config.seed
            );
        }
        self.history = c.history.clone();
        self.resume = Some(c);
        Ok(self)
    }

    fn monitor(&self, has_val: bool) -> String {
        self.config.monitor.clone().unwrap_or_else(|| {
            if has_val {
                "val_loss".into()
            } else {
                "loss".into()
            }
        })
    }

    /// Trains for the configured epochs (fewer if a callback stops it). Returns the history.
    /// A NaN or infinite loss stops the run with an error naming the epoch and batch; the last
    /// checkpoint written (from the last finished epoch) stays intact.
    pub fn fit<M: Module + Forward>(
        &mut self,
        model: &M,
        optimizer: &mut dyn Optimizer,
        loss_fn: LossFn<'_>,
        train: &mut DataLoader,
        mut val: Option<&mut DataLoader>,
    ) -> Result<History> {
        let monitor = self.monitor(val.is_some());
        let mode = self.config.monitor_mode.resolve(&monitor);
        let mut start_epoch = 0;
        if let Some(c) = self.resume.take() {
            model.load_state_dict(&c.model, true)?;
            if !c.optimizer.is_empty() {
                optimizer.load_state_dict(&c.optimizer)?;
            }
            if let Some(s) = self.scheduler.as_mut()
                && !c.scheduler.is_empty()
            {
                s.load_state_dict(&c.scheduler)?;
            }
            for cb in self.callbacks.iter_mut() {
                let state = c.callbacks.sub(&cb.name());
                if !state.is_empty() {
                    cb.load_state_dict(&state)?;
                }
            }
            start_epoch = c.epoch;
        }
        if let Some(dir) = &self.config.out_dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Io(format!("fit: cannot create {}: {e}", dir.display())))?;
        }
        let mut best = self
            .history
            .get(&monitor)
            .into_iter()
            .filter(|v| v.is_finite())
            .fold(f64::NAN, |b, v| {
                if b.is_nan() || mode.improves(v, b, 0.0) {
                    v
                } else {
                    b
                }
            });
        let mut progress = Progress::new(self.config.verbose);
        for epoch in start_epoch..self.config.epochs {
            let t0 = Instant::now();
            manual_seed(epoch_seed(self.config.seed, epoch));
            train.set_epoch(epoch as u64);
            model.train();
            for m in self.metrics.iter_mut() {
                m.reset();
            }
            progress.start_epoch(epoch, self.config.epochs, train.len());
            let (mut loss_sum, mut count) = (0.0, 0usize);
            for (b, batch) in train.iter_epoch(epoch as u64).enumerate() {
                let (x, y) = batch?;
                optimizer.zero_grad();
                let out = model.forward(&x)?;
                let loss = loss_fn.loss(&out, &y)?;
                let lv = loss.item_f64();
                if !lv.is_finite() {
                    let kept = match &self.config.out_dir {
                        Some(d) if epoch > 0 => format!(
                            "; the last good checkpoint is {} (epoch {epoch})",
                            d.join("last.safetensors").display()
                        ),
                        _ => String::new(),
                    };
                    bail!(
                        Invalid,
                        "training stopped: the loss is {lv} at epoch {}, batch {}{kept}. Try a smaller learning rate, or check the inputs for NaN/inf",
                        epoch + 1,
                        b + 1
                    );
                }
                loss.backward();
                optimizer.step()?;
                let n = x.dims().first().copied().unwrap_or(1);
                loss_sum += lv * n as f64;
                count += n;
                no_grad(|| -> Result<()> {
                    for m in self.metrics.iter_mut() {
                        m.update(&out.detach(), &y)?;
                    }
                    Ok(())
                })?;
                progress.batch(lv);
            }
            let mut logs = Logs::new();
            logs.insert("loss".into(), loss_sum / count.max(1) as f64);
            for m in &self.metrics {
                logs.insert(m.name().to_string(), m.compute());
            }
            if let Some(v) = val.as_deref_mut() {
                let vl = self.evaluate(model, loss_fn, v)?;
                for (k, x) in vl {
                    logs.insert(format!("val_{k}"), x);
                }
            }
            logs.insert(
                "lr".into(),
                optimizer
                    .param_groups()
                    .first()
                    .map(|g| g.lr)
                    .unwrap_or(f64::NAN),
            );
            if let Some(s) = self.scheduler.as_mut() {
                s.step(optimizer, logs.get(&monitor).copied())?;
            }
            self.history.epochs.push(logs.clone());
            let ctx = CallbackContext { model, epoch };
            let mut stop = false;
            for cb in self.callbacks.iter_mut() {
                if cb.on_epoch_end(&logs, &ctx)? == Control::Stop {
                    stop = true;
                }
            }
            if let Some(dir) = self.config.out_dir.clone() {
                let value = logs.get(&monitor).copied().unwrap_or(f64::NAN);
                let improved =
                    value.is_finite() && (best.is_nan() || mode.improves(value, best, 0.0));
                let ck = self.checkpoint(model, optimizer, epoch + 1);
                if improved {
                    best = value;
                    save_checkpoint(&ck, dir.join("best.safetensors"))?;
                }
                save_checkpoint(&ck, dir.join("last.safetensors"))?;
                self.history.save(&dir)?;
            }
            progress.end_epoch(epoch, self.config.epochs, &logs, t0.elapsed().as_secs_f64());
            if stop {
                break;
            }
        }
        let ctx = CallbackContext {
            model,
            epoch: self.history.epochs.len(),
        };
        for cb in self.callbacks.iter_mut() {
            cb.on_train_end(&ctx)?;
        }
        Ok(self.history.clone())
    }

    fn checkpoint<M: Module>(
        &self,
        model: &M,
        optimizer: &dyn Optimizer,
        epoch: usize,
    ) -> Checkpoint {
        let mut callbacks = crate::io::StateDict::new();
        for cb in &self.callbacks {
            callbacks.extend_prefixed(&cb.name(), &cb.state_dict());
        }
        Checkpoint {
            model: model.state_dict(),
            optimizer: optimizer.state_dict(),
            scheduler: self
                .scheduler
                .as_ref()
                .map(|s| s.state_dict())
                .unwrap_or_default(),
            callbacks,
            epoch,
            seed: self.config.seed,
            history: self.history.clone(),
        }
    }

    /// Loss and metrics over `data` in eval mode without gradients (Keras' `evaluate`).
    /// Each module's previous mode is restored.
    pub fn evaluate<M: Module + Forward>(
        &mut self,
        model: &M,
        loss_fn: LossFn<'_>,
        data: &mut DataLoader,
    ) -> Result<Logs> {
        let modes = capture_modes(model);
        model.eval();
        for m in self.metrics.iter_mut() {
            m.reset();
        }
        let result = no_grad(|| -> Result<(f64, usize)> {
            let (mut sum, mut count) = (0.0, 0usize);
            for batch in data.iter_epoch(0) {
                let (x, y) = batch?;
                let out = model.forward(&x)?;
                let n = x.dims().first().copied().unwrap_or(1);
                sum += loss_fn.loss(&out, &y)?.item_f64() * n as f64;
                count += n;
                for m in self.metrics.iter_mut() {
                    m.update(&out, &y)?;
                }
            }
            Ok((sum, count))
        });
        restore_modes(model, &modes);
        let (sum, count) = result?;
        let mut logs = Logs::new();
        logs.insert("loss".into(), sum / count.max(1) as f64);
        for m in &self.metrics {
            logs.insert(m.name().to_string(), m.compute());
        }
        Ok(logs)
    }
}

/// Model outputs for every batch of `data`, concatenated (Keras' `predict`), in eval mode.
pub fn predict<M: Module + Forward>(model: &M, data: &DataLoader) -> Result<Tensor> {
    let modes = capture_modes(model);
    model.eval();
    let outs = no_grad(|| -> Result<Vec<Tensor>> {
        data.iter_epoch(0).map(|b| model.forward(&b?.0)).collect()
    });
    restore_modes(model, &modes);
    let outs = outs?;
    if outs.is_empty() {
        bail!(Invalid, "predict: the data loader has no batches");
    }
    let refs: Vec<&Tensor> = outs.iter().collect();
    Ok(Tensor::cat(&refs, 0))
}

/// The seed of one epoch: a fixed mix of the run's seed and the epoch number.
fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    let mut z = seed ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z ^ (z >> 27)
}
