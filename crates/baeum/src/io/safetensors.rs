//! Checkpoints as safetensors files (Hugging Face's format, which PyTorch users export with
//! `safetensors.torch.save_file`), written atomically. f16/bf16 tensors are widened to f32 on
//! load, since baeum computes in f32/f64.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::StateDict;
use crate::error::{Error, Result, bail};
use crate::{DType, Tensor};

/// Free-form string metadata stored in the file's header (`__metadata__`).
pub type Metadata = HashMap<String, String>;

/// The file's bytes for `state` (tensors are made contiguous; keys keep their names).
pub fn to_safetensors_bytes(state: &StateDict, metadata: Option<&Metadata>) -> Result<Vec<u8>> {
    let buffers: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = state
        .iter()
        .map(|(k, t)| {
            (
                k.to_string(),
                dtype_out(t.dtype()),
                t.dims().to_vec(),
                tensor_bytes(t),
            )
        })
        .collect();
    let mut views = Vec::with_capacity(buffers.len());
    for (k, dt, shape, bytes) in &buffers {
        let view = TensorView::new(*dt, shape.clone(), bytes)
            .map_err(|e| Error::Invalid(format!("safetensors: cannot store '{k}': {e}")))?;
        views.push((k.as_str(), view));
    }
    safetensors::serialize(views, metadata.cloned())
        .map_err(|e| Error::Invalid(format!("safetensors: cannot serialise: {e}")))
}

/// Writes `state` to `path` atomically (temporary file + rename).
pub fn save_safetensors(
    state: &StateDict,
    metadata: Option<&Metadata>,
    path: impl AsRef<Path>,
) -> Result<()> {
    let bytes = to_safetensors_bytes(state, metadata)?;
    super::write_atomic("save_safetensors", path.as_ref(), &bytes)
}

/// Reads a safetensors file: its tensors (in file order) and its metadata.
pub fn load_safetensors(path: impl AsRef<Path>) -> Result<(StateDict, Metadata)> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| {
        Error::Io(format!(
            "load_safetensors: cannot read {}: {e}",
            path.display()
        ))
    })?;
    from_safetensors_bytes(&bytes).map_err(|e| Error::Format(format!("{}: {e}", path.display())))
}

/// Parses safetensors bytes (see [`load_safetensors`]).
pub fn from_safetensors_bytes(bytes: &[u8]) -> Result<(StateDict, Metadata)> {
    let bad = |e: safetensors::SafeTensorError| {
        Error::Format(format!("not a valid safetensors file: {e}"))
    };
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(bad)?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let st = SafeTensors::deserialize(bytes).map_err(bad)?;
    let mut tensors = st.tensors();
    // In data-offset order, as the file lays them out.
    tensors.sort_by_key(|(_, v)| v.data().as_ptr() as usize);
    let mut out = StateDict::new();
    for (name, view) in tensors {
        out.insert(name.clone(), tensor_from_view(&name, &view)?);
    }
    Ok((out, metadata))
}

fn dtype_out(d: DType) -> Dtype {
    match d {
        DType::Bool => Dtype::BOOL,
        DType::U8 => Dtype::U8,
        DType::I32 => Dtype::I32,
        DType::I64 => Dtype::I64,
        DType::F32 => Dtype::F32,
        DType::F64 => Dtype::F64,
    }
}

fn tensor_bytes(t: &Tensor) -> Vec<u8> {
    match t.dtype() {
        DType::Bool => t.to_vec::<bool>().into_iter().map(u8::from).collect(),
        DType::U8 => t.to_vec::<u8>(),
        DType::I32 => t
            .to_vec::<i32>()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::I64 => t
            .to_vec::<i64>()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::F32 => t
            .to_vec::<f32>()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::F64 => t
            .to_vec::<f64>()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
    }
}

fn tensor_from_view(name: &str, view: &TensorView<'_>) -> Result<Tensor> {
    let shape = view.shape().to_vec();
    let data = view.data();
    fn words<const N: usize>(data: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
        data.chunks_exact(N)
            .map(|c| c.try_into().expect("chunk of N bytes"))
    }
    let t = match view.dtype() {
        Dtype::BOOL => Tensor::from_vec(data.iter().map(|&b| b != 0).collect::<Vec<_>>(), shape),
        Dtype::U8 => Tensor::from_vec(data.to_vec(), shape),
        Dtype::I32 => Tensor::from_vec(
            words(data).map(i32::from_le_bytes).collect::<Vec<_>>(),
            shape,
        ),
        Dtype::I64 => Tensor::from_vec(
            words(data).map(i64::from_le_bytes).collect::<Vec<_>>(),
            shape,
        ),
        Dtype::F32 => Tensor::from_vec(
            words(data).map(f32::from_le_bytes).collect::<Vec<_>>(),
            shape,
        ),
        Dtype::F64 => Tensor::from_vec(
            words(data).map(f64::from_le_bytes).collect::<Vec<_>>(),
            shape,
        ),
        Dtype::F16 => Tensor::from_vec(
            words(data)
                .map(|w| half::f16::from_le_bytes(w).to_f32())
                .collect::<Vec<_>>(),
            shape,
        ),
        Dtype::BF16 => Tensor::from_vec(
            words(data)
                .map(|w| half::bf16::from_le_bytes(w).to_f32())
                .collect::<Vec<_>>(),
            shape,
        ),
        Dtype::I8 => Tensor::from_vec(
            data.iter().map(|&b| b as i8 as i32).collect::<Vec<_>>(),
            shape,
        ),
        Dtype::I16 => Tensor::from_vec(
            words(data)
                .map(|w| i16::from_le_bytes(w) as i32)
                .collect::<Vec<_>>(),
            shape,
        ),
        Dtype::U16 => Tensor::from_vec(
            words(data)
                .map(|w| u16::from_le_bytes(w) as i32)
                .collect::<Vec<_>>(),
            shape,
        ),
        Dtype::U32 => Tensor::from_vec(
            words(data)
                .map(|w| u32::from_le_bytes(w) as i64)
                .collect::<Vec<_>>(),
            shape,
        ),
        other => bail!(
            DType,
            "safetensors: tensor '{name}' has dtype {other:?}, which baeum cannot hold"
        ),
    };
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_dtype_with_metadata() {
        let mut s = StateDict::new();
        s.insert(
            "fc.weight",
            Tensor::from_vec(vec![1.5f32, -2.0, 3.25, 0.0], [2, 2]),
        );
        s.insert("fc.bias", Tensor::from_vec(vec![0.1f64, 0.2], [2]));
        s.insert("bn.num_batches_tracked", Tensor::scalar(7i64));
        s.insert("mask", Tensor::from_vec(vec![true, false, true], [3]));
        s.insert("ids", Tensor::from_vec(vec![3i32, -4], [2]));
        s.insert("pix", Tensor::from_vec(vec![0u8, 255], [1, 2]));
        let meta = Metadata::from([("epoch".to_string(), "3".to_string())]);
        let bytes = to_safetensors_bytes(&s, Some(&meta)).unwrap();
        let (back, m) = from_safetensors_bytes(&bytes).unwrap();
        assert_eq!(m["epoch"], "3");
        // The file lays tensors out by alignment and name, whatever the writer's order.
        let (mut got, mut want): (Vec<&str>, Vec<&str>) =
            (back.keys().collect(), s.keys().collect());
        got.sort();
        want.sort();
        assert_eq!(got, want);
        for (k, t) in s.iter() {
            let b = back.get(k).unwrap();
            assert_eq!(b.dtype(), t.dtype(), "{k}");
            assert_eq!(b.dims(), t.dims(), "{k}");
            assert_eq!(b.to_vec::<f64>(), t.to_vec::<f64>(), "{k}");
        }
    }

    #[test]
    fn rejects_truncated_and_garbage_files() {
        let mut s = StateDict::new();
        s.insert("w", Tensor::ones([4]));
        let bytes = to_safetensors_bytes(&s, None).unwrap();
        let err = from_safetensors_bytes(&bytes[..bytes.len() - 3]).unwrap_err();
        assert!(
            err.to_string().contains("not a valid safetensors file"),
            "{err}"
        );
        assert!(from_safetensors_bytes(b"PK\x03\x04 not a checkpoint").is_err());
        let dir = std::env::temp_dir().join(format!("baeum-st-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("bad.safetensors");
        std::fs::write(&p, b"garbage").unwrap();
        let err = load_safetensors(&p).unwrap_err().to_string();
        assert!(err.contains("bad.safetensors"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
