//! What a run shows while it trains: a progress bar with loss, metrics and ETA on a terminal,
//! one plain line per epoch otherwise (logs, CI), nothing when silent.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use super::history::Logs;

pub(crate) struct Progress {
    verbose: u8,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// `verbose`: 0 silent, 1 a bar on a terminal (plain lines otherwise), 2 plain lines.
    pub(crate) fn new(verbose: u8) -> Progress {
        Progress { verbose, bar: None }
    }

    pub(crate) fn start_epoch(&mut self, epoch: usize, epochs: usize, batches: usize) {
        if self.verbose == 1 && std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(batches as u64);
            let style =
                ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} (eta {eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(format!("epoch {}/{epochs}", epoch + 1));
            self.bar = Some(bar);
        }
    }

    pub(crate) fn batch(&mut self, loss: f64) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("loss {loss:.4}"));
            bar.inc(1);
        }
    }

    pub(crate) fn end_epoch(&mut self, epoch: usize, epochs: usize, logs: &Logs, seconds: f64) {
        let line = format!(
            "epoch {}/{epochs} ({seconds:.1}s): {}",
            epoch + 1,
            logs.iter()
                .map(|(k, v)| format!("{k} {v:.4}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.verbose > 0 {
            eprintln!("{line}");
        }
    }
}
