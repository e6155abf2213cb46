//! `DataLoader`: batches of a dataset in order or in a seeded per-epoch shuffle, optionally
//! prepared ahead by worker threads.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use super::Dataset;
use crate::error::{Error, Result};
use crate::{Generator, Tensor};

/// The seed a shuffling loader uses unless told otherwise.
pub const DEFAULT_LOADER_SEED: u64 = 0x5EED_DA7A;

/// Batches from a [`Dataset`] (`torch.utils.data.DataLoader`).
///
/// - `batch_size` examples per batch; the last batch is smaller unless `drop_last`.
/// - `shuffle`: every epoch sees a different permutation, and the permutation of epoch `e` is
///   a function of `(seed, e)` alone. Each [`DataLoader::iter`] runs one epoch and moves to the
///   next; [`DataLoader::set_epoch`] puts a resumed run back on the same sequence of orders as
///   an uninterrupted one.
/// - `num_workers > 0` prepares batches on that many threads, `prefetch_factor` batches ahead
///   per worker. The batches come out in the same order for any number of workers.
///
/// ```
/// use baeum::{Tensor, data::{DataLoader, TensorDataset}};
/// let ds = TensorDataset::new(Tensor::arange(10).reshape(&[5, 2]), Tensor::arange(5)).unwrap();
/// let mut loader = DataLoader::new(ds, 2).shuffle(true).seed(7);
/// assert_eq!(loader.len(), 3);
/// let sizes: Vec<usize> = loader.iter().map(|b| b.unwrap().1.dims()[0]).collect();
/// assert_eq!(sizes, vec![2, 2, 1]);
/// ```
#[derive(Clone)]
pub struct DataLoader {
    dataset: Arc<dyn Dataset>,
    batch_size: usize,
    shuffle: bool,
    seed: u64,
    drop_last: bool,
    num_workers: usize,
    prefetch_factor: usize,
    epoch: u64,
}

impl DataLoader {
    /// A loader over `dataset` with `batch_size` examples per batch (in order, no workers).
    /// Panics if `batch_size` is 0 (a programming error, like PyTorch's ValueError).
    pub fn new(dataset: impl Dataset + 'static, batch_size: usize) -> Self {
        DataLoader::from_arc(Arc::new(dataset), batch_size)
    }

    /// Like [`DataLoader::new`] for a dataset that is already shared.
    pub fn from_arc(dataset: Arc<dyn Dataset>, batch_size: usize) -> Self {
        assert!(
            batch_size > 0,
            "DataLoader: batch_size must be positive, got 0"
        );
        DataLoader {
            dataset,
            batch_size,
            shuffle: false,
            seed: DEFAULT_LOADER_SEED,
            drop_last: false,
            num_workers: 0,
            prefetch_factor: 2,
            epoch: 0,
        }
    }

    /// Shuffle the examples every epoch.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// The seed of the shuffles.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Leave out the last batch when it would be smaller than `batch_size`.
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// Prepare batches on `num_workers` background threads (0: in the iterating thread).
    pub fn num_workers(mut self, num_workers: usize) -> Self {
        self.num_workers = num_workers;
        self
    }

    /// How many batches each worker may prepare ahead (at least 1; default 2).
    pub fn prefetch_factor(mut self, prefetch_factor: usize) -> Self {
        self.prefetch_factor = prefetch_factor.max(1);
        self
    }

    /// Sets the epoch the next [`DataLoader::iter`] runs (for resuming a run).
    pub fn set_epoch(&mut self, epoch: u64) {
        self.epoch = epoch;
    }

    /// The epoch the next [`DataLoader::iter`] runs.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    pub fn dataset(&self) -> &Arc<dyn Dataset> {
        &self.dataset
    }

    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The number of batches in an epoch.
    pub fn len(&self) -> usize {
        let n = self.dataset.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// Whether an epoch yields no batch.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The order in which epoch `epoch` visits the examples.
    pub fn epoch_order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        if self.shuffle {
            // One generator per (seed, epoch): an epoch's order never depends on what ran before.
            let mut g = Generator::new(
                self.seed ^ epoch.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            g.shuffle(&mut order);
        }
        order
    }

    /// The index lists of the batches of epoch `epoch`.
    pub fn epoch_batches(&self, epoch: u64) -> Vec<Vec<usize>> {
        let order = self.epoch_order(epoch);
        order
            .chunks(self.batch_size)
            .filter(|c| !self.drop_last || c.len() == self.batch_size)
            .map(<[usize]>::to_vec)
            .collect()
    }

    /// Runs the current epoch and moves on to the next.
    pub fn iter(&mut self) -> BatchIter {
        let it = self.iter_epoch(self.epoch);
        self.epoch += 1;
        it
    }

    /// The batches of epoch `epoch`, leaving the loader's epoch counter alone.
    pub fn iter_epoch(&self, epoch: u64) -> BatchIter {
        let batches = self.epoch_batches(epoch);
        if self.num_workers == 0 || batches.is_empty() {
            return BatchIter {
                batches,
                next: 0,
                mode: Mode::Inline(self.dataset.clone()),
            };
        }
        let workers = self.num_workers.min(batches.len());
        let stop = Arc::new(AtomicBool::new(false));
        let batches = Arc::new(batches);
        let mut receivers = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, rx) = sync_channel(self.prefetch_factor);
            let (dataset, batches, stop) = (self.dataset.clone(), batches.clone(), stop.clone());
            handles.push(
                std::thread::Builder::new()
                    .name(format!("baeum-loader-{w}"))
                    .spawn(move || worker(w, workers, &*dataset, &batches, &stop, tx))
                    .expect("DataLoader: cannot start a worker thread"),
            );
            receivers.push(rx);
        }
        BatchIter {
            batches: Vec::new(),
            next: 0,
            mode: Mode::Workers {
                total: batches.len(),
                receivers,
                handles,
                stop,
            },
        }
    }
}

impl std::fmt::Debug for DataLoader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataLoader")
            .field("dataset_len", &self.dataset.len())
            .field("batch_size", &self.batch_size)
            .field("shuffle", &self.shuffle)
            .field("seed", &self.seed)
            .field("drop_last", &self.drop_last)
            .field("num_workers", &self.num_workers)
            .field("epoch", &self.epoch)
            .finish()
    }
}

impl IntoIterator for &mut DataLoader {
    type Item = Result<(Tensor, Tensor)>;
    type IntoIter = BatchIter;
    fn into_iter(self) -> BatchIter {
        self.iter()
    }
}

/// Loads one batch, turning a panic inside the dataset into an error.
fn load(dataset: &dyn Dataset, indices: &[usize], batch: usize) -> Result<(Tensor, Tensor)> {
    match catch_unwind(AssertUnwindSafe(|| dataset.get_batch(indices))) {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(Error::Invalid(format!(
                "DataLoader: the dataset panicked while loading batch {batch}: {message}"
            )))
        }
    }
}

/// Worker `w` of `workers` loads batches `w, w + workers, ...`; the consumer reads the workers'
/// channels in turn, so the order of batches is the same for any number of workers.
fn worker(
    w: usize,
    workers: usize,
    dataset: &dyn Dataset,
    batches: &[Vec<usize>],
    stop: &AtomicBool,
    tx: SyncSender<Result<(Tensor, Tensor)>>,
) {
    for b in (w..batches.len()).step_by(workers) {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        // A failed send means the iterator is gone: stop quietly.
        if tx.send(load(dataset, &batches[b], b)).is_err() {
            return;
        }
    }
}

enum Mode {
    Inline(Arc<dyn Dataset>),
    Workers {
        total: usize,
        receivers: Vec<Receiver<Result<(Tensor, Tensor)>>>,
        handles: Vec<JoinHandle<()>>,
        stop: Arc<AtomicBool>,
    },
}

/// The batches of one epoch, as `Result<(inputs, targets)>`. A batch the dataset cannot load
/// comes out as an `Err`, and iteration goes on with the next batch. Dropping the iterator early
/// stops and joins its workers.
pub struct BatchIter {
    batches: Vec<Vec<usize>>,
    next: usize,
    mode: Mode,
}

impl BatchIter {
    fn total(&self) -> usize {
        match &self.mode {
            Mode::Inline(_) => self.batches.len(),
            Mode::Workers { total, .. } => *total,
        }
    }
}

impl Iterator for BatchIter {
    type Item = Result<(Tensor, Tensor)>;

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.next;
        if b >= self.total() {
            return None;
        }
        self.next += 1;
        match &self.mode {
            Mode::Inline(dataset) => Some(load(&**dataset, &self.batches[b], b)),
            Mode::Workers { receivers, .. } => {
                let rx = &receivers[b % receivers.len()];
                Some(rx.recv().unwrap_or_else(|_| {
                    Err(Error::Invalid(format!(
                        "DataLoader: worker {} stopped before delivering batch {b}",
                        b % receivers.len()
                    )))
                }))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.total() - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for BatchIter {}

impl Drop for BatchIter {
    fn drop(&mut self) {
        if let Mode::Workers {
            receivers,
            handles,
            stop,
            ..
        } = &mut self.mode
        {
            stop.store(true, Ordering::Relaxed);
            // Closing the channels wakes workers blocked on a full one.
            receivers.clear();
            for h in handles.drain(..) {
                let _ = h.join();
            }
        }
    }
}
