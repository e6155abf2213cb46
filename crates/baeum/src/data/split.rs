//! Splitting examples into training, validation and test sets: random (PyTorch's
//! `random_split`, scikit-learn's `train_test_split`), stratified by class, and by time.

use std::sync::Arc;

use super::{Dataset, Subset};
use crate::error::{Result, bail};
use crate::{Generator, Tensor};

/// Split sizes: either counts that sum to the number of examples, or fractions that sum to 1.
pub trait SplitLengths {
    /// The sizes of the parts for `n` examples.
    fn lengths(&self, n: usize) -> Result<Vec<usize>>;
}

impl SplitLengths for [usize] {
    fn lengths(&self, n: usize) -> Result<Vec<usize>> {
        let total: usize = self.iter().sum();
        if total != n {
            bail!(
                Invalid,
                "random_split: the lengths {self:?} sum to {total}, not to the {n} examples"
            );
        }
        Ok(self.to_vec())
    }
}

/// Fractions as PyTorch reads them: each part gets `floor(n * fraction)` and the examples left
/// over go one each to the parts in turn, from the first.
impl SplitLengths for [f64] {
    fn lengths(&self, n: usize) -> Result<Vec<usize>> {
        fraction_lengths("random_split", self, n)
    }
}

macro_rules! forward_split_lengths {
    ($($t:ty),*) => {$(
        impl<const N: usize> SplitLengths for [$t; N] {
            fn lengths(&self, n: usize) -> Result<Vec<usize>> {
                self.as_slice().lengths(n)
            }
        }
        impl SplitLengths for Vec<$t> {
            fn lengths(&self, n: usize) -> Result<Vec<usize>> {
                self.as_slice().lengths(n)
            }
        }
        impl SplitLengths for &[$t] {
            fn lengths(&self, n: usize) -> Result<Vec<usize>> {
                (**self).lengths(n)
            }
        }
    )*};
}
forward_split_lengths!(usize, f64);

fn fraction_lengths(op: &str, fractions: &[f64], n: usize) -> Result<Vec<usize>> {
    if fractions.is_empty() {
        bail!(Invalid, "{op}: expects at least one fraction");
    }
    if let Some(bad) = fractions.iter().find(|f| !(0.0..=1.0).contains(*f)) {
        bail!(
            Invalid,
            "{op}: fraction {bad} of {fractions:?} is not between 0 and 1"
        );
    }
    let sum: f64 = fractions.iter().sum();
    if (sum - 1.0).abs() > 1e-9 {
        bail!(
            Invalid,
            "{op}: the fractions {fractions:?} sum to {sum}, not 1"
        );
    }
    let mut lengths: Vec<usize> = fractions
        .iter()
        .map(|f| (n as f64 * f).floor() as usize)
        .collect();
    let remainder = n - lengths.iter().sum::<usize>();
    for i in 0..remainder {
        let k = lengths.len();
        lengths[i % k] += 1;
    }
    Ok(lengths)
}

/// The generator behind the splits: the same seed gives the same split.
fn split_generator(seed: u64) -> Generator {
    Generator::new(seed)
}

/// Random disjoint index lists of the given sizes over `0..n` (the indices behind
/// [`random_split`]).
pub fn random_split_indices(
    n: usize,
    lengths: &(impl SplitLengths + ?Sized),
    seed: u64,
) -> Result<Vec<Vec<usize>>> {
    let lengths = lengths.lengths(n)?;
    let mut order: Vec<usize> = (0..n).collect();
    split_generator(seed).shuffle(&mut order);
    let mut parts = Vec::with_capacity(lengths.len());
    let mut start = 0;
    for len in lengths {
        parts.push(order[start..start + len].to_vec());
        start += len;
    }
    Ok(parts)
}

/// Splits a dataset at random into disjoint subsets of the given sizes
/// (`torch.utils.data.random_split`): counts (`&[800, 200]`) or fractions (`&[0.8, 0.2]`).
///
/// ```
/// use std::sync::Arc;
/// use baeum::{Tensor, data::{Dataset, TensorDataset, random_split}};
/// let ds = Arc::new(TensorDataset::new(Tensor::arange(10), Tensor::arange(10)).unwrap());
/// let parts = random_split(ds, &[0.7, 0.3], 42).unwrap();
/// assert_eq!((parts[0].len(), parts[1].len()), (7, 3));
/// ```
pub fn random_split(
    dataset: Arc<dyn Dataset>,
    lengths: &(impl SplitLengths + ?Sized),
    seed: u64,
) -> Result<Vec<Subset>> {
    random_split_indices(dataset.len(), lengths, seed)?
        .into_iter()
        .map(|idx| Subset::new(dataset.clone(), idx))
        .collect()
}

/// Shuffled training and test indices over `0..n`, as scikit-learn's `train_test_split`:
/// `test_size` is a fraction in (0, 1), the test part has `ceil(n * test_size)` examples and the
/// training part the rest.
pub fn train_test_split(n: usize, test_size: f64, seed: u64) -> Result<(Vec<usize>, Vec<usize>)> {
    if test_size.is_nan() || test_size <= 0.0 || test_size >= 1.0 {
        bail!(
            Invalid,
            "train_test_split: test_size must lie strictly between 0 and 1, got {test_size}"
        );
    }
    let n_test = (n as f64 * test_size).ceil() as usize;
    if n_test == 0 || n_test >= n {
        bail!(
            Invalid,
            "train_test_split: test_size {test_size} of {n} examples leaves {n_test} for test and {} for training; both must be non-empty",
            n.saturating_sub(n_test)
        );
    }
    let mut order: Vec<usize> = (0..n).collect();
    split_generator(seed).shuffle(&mut order);
    let test = order.split_off(n - n_test);
    Ok((order, test))
}

/// Index lists over the examples whose class `labels` (a 1-D integer tensor) are given, split
/// by `fractions` within every class, so each part keeps the class proportions (scikit-learn's
/// `stratify=`). Within a class, the examples left over by rounding go to the parts in turn,
/// continuing from class to class so no part gathers all of them. Each part comes out shuffled.
pub fn stratified_split(labels: &Tensor, fractions: &[f64], seed: u64) -> Result<Vec<Vec<usize>>> {
    if labels.rank() != 1 || !(labels.dtype().is_int() || labels.dtype() == crate::DType::Bool) {
        bail!(
            Shape,
            "stratified_split: labels must be a 1-D integer tensor, got {} of shape {}",
            labels.dtype(),
            labels.shape()
        );
    }
    let labels = labels.to_vec::<i64>();
    // Validate the fractions once, for the whole set.
    fraction_lengths("stratified_split", fractions, labels.len())?;
    let mut classes: Vec<i64> = labels.clone();
    classes.sort_unstable();
    classes.dedup();
    let mut g = split_generator(seed);
    let mut parts: Vec<Vec<usize>> = vec![Vec::new(); fractions.len()];
    let mut turn = 0;
    for class in classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        g.shuffle(&mut members);
        let mut lengths: Vec<usize> = fractions
            .iter()
            .map(|f| (members.len() as f64 * f).floor() as usize)
            .collect();
        let remainder = members.len() - lengths.iter().sum::<usize>();
        for _ in 0..remainder {
            lengths[turn % fractions.len()] += 1;
            turn += 1;
        }
        let mut start = 0;
        for (part, len) in parts.iter_mut().zip(lengths) {
            part.extend_from_slice(&members[start..start + len]);
            start += len;
        }
    }
    for part in &mut parts {
        g.shuffle(part);
    }
    Ok(parts)
}

/// The first `floor(n * train_fraction)` indices for training and the rest for testing, in
/// order: the split for a time series, where the model must not see the future.
pub fn time_split(n: usize, train_fraction: f64) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(0.0..=1.0).contains(&train_fraction) {
        bail!(
            Invalid,
            "time_split: train_fraction must lie between 0 and 1, got {train_fraction}"
        );
    }
    let n_train = (n as f64 * train_fraction).floor() as usize;
    Ok(((0..n_train).collect(), (n_train..n).collect()))
}
