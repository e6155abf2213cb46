//! Embedding lookup: rows of a weight table picked by integer indices, with PyTorch's
//! `padding_idx` (a row that is read but never trained).

use crate::autograd::{grads, record_op};
use crate::error::{Result, bail};
use crate::ops::index::index_add_zeros;
use crate::tensor::Tensor;

/// The rows of `weight` (`[num_embeddings, embedding_dim]`) at `indices` (any integer dtype,
/// any shape): output `indices.shape + [embedding_dim]` (`torch.nn.functional.embedding`).
/// Gradients of repeated indices accumulate; the row `padding_idx` (negative counts from the
/// end) gets no gradient. An index outside the table is an error naming it.
///
/// ```
/// use baeum::{tensor, Tensor};
/// use baeum::nn::functional::embedding;
/// let table = tensor!([[0., 0.], [1., 2.], [3., 4.]]);
/// let ids = Tensor::from_vec(vec![2i64, 1, 2], [3]);
/// let e = embedding(&ids, &table, None).unwrap();
/// assert_eq!(e.to_vec::<f32>(), vec![3., 4., 1., 2., 3., 4.]);
/// ```
pub fn embedding(indices: &Tensor, weight: &Tensor, padding_idx: Option<i64>) -> Result<Tensor> {
    let op = "embedding";
    if weight.rank() != 2 {
        bail!(
            Shape,
            "{op}: weight {} must be 2-D [num_embeddings, embedding_dim]",
            weight.shape()
        );
    }
    if !indices.dtype().is_int() {
        bail!(
            DType,
            "{op}: indices must have an integer dtype, not {}",
            indices.dtype()
        );
    }
    let (num, dim) = (weight.dims()[0], weight.dims()[1]);
    let flat: Vec<i64> = indices.to_vec::<i64>();
    if let Some(&bad) = flat.iter().find(|&&i| i < 0 || i as usize >= num) {
        bail!(
            Index,
            "{op}: index {bad} is out of range for a table of {num} embeddings (weight {})",
            weight.shape()
        );
    }
    let padding = match padding_idx {
        None => None,
        Some(p) if (-(num as i64)..num as i64).contains(&p) => {
            Some(if p < 0 { p + num as i64 } else { p })
        }
        Some(p) => bail!(
            Index,
            "{op}: padding_idx {p} must be within the table of {num} embeddings"
        ),
    };
    let mut shape = indices.dims().to_vec();
    shape.push(dim);
    let rows = Tensor::from_vec(flat.clone(), [flat.len()]);
    let out = record_op(
        op,
        &[weight],
        || weight.index_select(0, &rows).reshape_to(shape.clone()),
        |_, _| {
            let map: Vec<usize> = flat.iter().map(|&i| i as usize).collect();
            // 1 for the rows that learn, 0 for those reading the padding row.
            let keep = padding.map(|p| {
                let v: Vec<f64> = flat
                    .iter()
                    .map(|&i| if i == p { 0.0 } else { 1.0 })
                    .collect();
                Tensor::from_vec(v, [flat.len(), 1])
            });
            move |g: &Tensor| {
                let g = g.reshape(&[map.len() as isize, dim as isize]);
                let g = match &keep {
                    Some(k) => &g * k.to_dtype(g.dtype()),
                    None => g,
                };
                grads([Some(index_add_zeros(&g, 0, &map, num))])
            }
        },
    );
    Ok(out)
}
