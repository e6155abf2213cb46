//! Datasets: the `Dataset` trait (indexed `(input, target)` pairs), `TensorDataset` over two
//! tensors, and `Subset` (a dataset seen through a list of indices).

use std::sync::Arc;

use crate::Tensor;
use crate::error::{Result, bail};

/// An indexed collection of `(input, target)` examples (`torch.utils.data.Dataset`).
///
/// `get` is all a dataset must provide; `get_batch` has a default that stacks the examples
/// along a new first dimension, and datasets that can gather many rows at once (a tensor in
/// memory) override it. `Send + Sync` so a [`DataLoader`](super::DataLoader) can read it from
/// worker threads.
pub trait Dataset: Send + Sync {
    /// The number of examples.
    fn len(&self) -> usize;

    /// The example at `index` as `(input, target)`.
    fn get(&self, index: usize) -> Result<(Tensor, Tensor)>;

    /// Whether the dataset holds no examples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The examples at `indices`, stacked along a new first dimension: inputs `[B, ...]` and
    /// targets `[B, ...]` (scalar targets become `[B]`).
    fn get_batch(&self, indices: &[usize]) -> Result<(Tensor, Tensor)> {
        if indices.is_empty() {
            bail!(Invalid, "get_batch: expects at least one index");
        }
        let mut inputs = Vec::with_capacity(indices.len());
        let mut targets = Vec::with_capacity(indices.len());
        for &i in indices {
            let (x, y) = self.get(i)?;
            inputs.push(x);
            targets.push(y);
        }
        let stack = |parts: &[Tensor], what: &str| -> Result<Tensor> {
            let refs: Vec<&Tensor> = parts.iter().collect();
            Tensor::try_stack(&refs, 0).map_err(|e| {
                crate::Error::Shape(format!(
                    "get_batch: cannot stack the {what} of examples {indices:?}: {e}"
                ))
            })
        };
        Ok((stack(&inputs, "inputs")?, stack(&targets, "targets")?))
    }
}

/// Checks that `index` is inside a dataset of `len` examples, naming the operation.
pub(crate) fn check_index(op: &str, index: usize, len: usize) -> Result<()> {
    if index >= len {
        bail!(
            Index,
            "{op}: index {index} out of range for a dataset of {len} examples"
        );
    }
    Ok(())
}

impl<D: Dataset + ?Sized> Dataset for Arc<D> {
    fn len(&self) -> usize {
        (**self).len()
    }
    fn get(&self, index: usize) -> Result<(Tensor, Tensor)> {
        (**self).get(index)
    }
    fn get_batch(&self, indices: &[usize]) -> Result<(Tensor, Tensor)> {
        (**self).get_batch(indices)
    }
}

/// Inputs and targets held in two tensors whose first dimensions index the examples
/// (`torch.utils.data.TensorDataset`).
///
/// ```
/// use baeum::{tensor, data::{Dataset, TensorDataset}};
/// let ds = TensorDataset::new(tensor!([[1., 2.], [3., 4.], [5., 6.]]), tensor!([0i64, 1, 0])).unwrap();
/// let (x, y) = ds.get(1).unwrap();
/// assert_eq!(x.to_vec::<f32>(), vec![3., 4.]);
/// assert_eq!(y.item::<i64>(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct TensorDataset {
    inputs: Tensor,
    targets: Tensor,
}

impl TensorDataset {
    /// Pairs `inputs [N, ...]` with `targets [N, ...]`; the first dimensions must agree.
    pub fn new(inputs: Tensor, targets: Tensor) -> Result<Self> {
        if inputs.rank() == 0 || targets.rank() == 0 {
            bail!(
                Shape,
                "TensorDataset: inputs {} and targets {} must have a first dimension indexing the examples",
                inputs.shape(),
                targets.shape()
            );
        }
        if inputs.dims()[0] != targets.dims()[0] {
            bail!(
                Shape,
                "TensorDataset: inputs {} and targets {} differ in their first dimension ({} vs {} examples)",
                inputs.shape(),
                targets.shape(),
                inputs.dims()[0],
                targets.dims()[0]
            );
        }
        Ok(TensorDataset { inputs, targets })
    }

    pub fn inputs(&self) -> &Tensor {
        &self.inputs
    }

    pub fn targets(&self) -> &Tensor {
        &self.targets
    }
}

impl Dataset for TensorDataset {
    fn len(&self) -> usize {
        self.inputs.dims()[0]
    }

    fn get(&self, index: usize) -> Result<(Tensor, Tensor)> {
        check_index("TensorDataset::get", index, self.len())?;
        Ok((
            self.inputs.select(0, index as isize),
            self.targets.select(0, index as isize),
        ))
    }

    /// One gather per tensor instead of one view per example and a stack.
    fn get_batch(&self, indices: &[usize]) -> Result<(Tensor, Tensor)> {
        let n = self.len();
        for &i in indices {
            check_index("TensorDataset::get_batch", i, n)?;
        }
        let idx = Tensor::from_vec(
            indices.iter().map(|&i| i as i64).collect::<Vec<_>>(),
            [indices.len()],
        );
        Ok((
            self.inputs.try_index_select(0, &idx)?,
            self.targets.try_index_select(0, &idx)?,
        ))
    }
}

/// A dataset seen through a list of indices (`torch.utils.data.Subset`): example `i` of the
/// subset is example `indices[i]` of the dataset.
#[derive(Clone)]
pub struct Subset {
    dataset: Arc<dyn Dataset>,
    indices: Vec<usize>,
}

impl Subset {
    /// The examples of `dataset` at `indices`; every index must be in range.
    pub fn new(dataset: Arc<dyn Dataset>, indices: Vec<usize>) -> Result<Self> {
        let n = dataset.len();
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            bail!(
                Index,
                "Subset: index {bad} out of range for a dataset of {n} examples"
            );
        }
        Ok(Subset { dataset, indices })
    }

    /// The indices into the underlying dataset.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }

    /// The underlying dataset.
    pub fn dataset(&self) -> &Arc<dyn Dataset> {
        &self.dataset
    }
}

impl std::fmt::Debug for Subset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subset")
            .field("len", &self.indices.len())
            .field("dataset_len", &self.dataset.len())
            .finish()
    }
}

impl Dataset for Subset {
    fn len(&self) -> usize {
        self.indices.len()
    }

    fn get(&self, index: usize) -> Result<(Tensor, Tensor)> {
        check_index("Subset::get", index, self.len())?;
        self.dataset.get(self.indices[index])
    }

    /// Maps the indices and keeps the underlying dataset's fast path.
    fn get_batch(&self, indices: &[usize]) -> Result<(Tensor, Tensor)> {
        let mut mapped = Vec::with_capacity(indices.len());
        for &i in indices {
            check_index("Subset::get_batch", i, self.len())?;
            mapped.push(self.indices[i]);
        }
        self.dataset.get_batch(&mapped)
    }
}
