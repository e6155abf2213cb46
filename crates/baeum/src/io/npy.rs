//! NumPy's `.npy` format (<https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html>).
//!
//! Reads versions 1.0, 2.0 and 3.0 of little-endian, C-order files of the dtypes baeum has
//! (`<f4 <f8 <i8 <i4 |u1 |b1`); writes version 1.0 with the header padded so that the data
//! starts at a multiple of 64 bytes, as NumPy does.
//!
//! ```
//! use baeum::{Tensor, io::{from_npy_bytes, to_npy_bytes}};
//! let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [3]);
//! let back = from_npy_bytes(&to_npy_bytes(&t)).unwrap();
//! assert_eq!(back.to_vec::<f32>(), vec![1.0, 2.0, 3.0]);
//! ```

use std::path::Path;

use crate::error::{Error, Result};
use crate::tensor::{DType, Element, Shape, Tensor};

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Reads a tensor from a `.npy` file. Errors name the path and what is wrong with the file.
pub fn read_npy(path: impl AsRef<Path>) -> Result<Tensor> {
    let path = path.as_ref();
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Io(format!("read_npy: cannot read {}: {e}", path.display())))?;
    parse(&bytes).map_err(|m| Error::Format(format!("read_npy: {}: {m}", path.display())))
}

/// Writes a tensor to a `.npy` file (format 1.0). The bytes go to a temporary file in the same
/// folder, which is then renamed over `path`, so a crash never leaves a half-written file.
pub fn write_npy(path: impl AsRef<Path>, tensor: &Tensor) -> Result<()> {
    super::write_atomic("write_npy", path.as_ref(), &to_npy_bytes(tensor))
}

/// Parses the bytes of a `.npy` file.
pub fn from_npy_bytes(bytes: &[u8]) -> Result<Tensor> {
    parse(bytes).map_err(|m| Error::Format(format!("npy: {m}")))
}

/// The bytes of a `.npy` file (format 1.0, little-endian, C order) holding `tensor`.
pub fn to_npy_bytes(tensor: &Tensor) -> Vec<u8> {
    let descr = match tensor.dtype() {
        DType::F32 => "<f4",
        DType::F64 => "<f8",
        DType::I64 => "<i8",
        DType::I32 => "<i4",
        DType::U8 => "|u1",
        DType::Bool => "|b1",
    };
    let shape = match tensor.dims() {
        [] => "()".to_string(),
        [d] => format!("({d},)"),
        ds => format!(
            "({})",
            ds.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut out =
        Vec::with_capacity(10 + header.len() + tensor.numel() * tensor.dtype().size_in_bytes());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    match tensor.dtype() {
        DType::F32 => put(&mut out, tensor.to_vec::<f32>(), f32::to_le_bytes),
        DType::F64 => put(&mut out, tensor.to_vec::<f64>(), f64::to_le_bytes),
        DType::I64 => put(&mut out, tensor.to_vec::<i64>(), i64::to_le_bytes),
        DType::I32 => put(&mut out, tensor.to_vec::<i32>(), i32::to_le_bytes),
        DType::U8 => out.extend(tensor.to_vec::<u8>()),
        DType::Bool => out.extend(tensor.to_vec::<bool>().into_iter().map(u8::from)),
    }
    out
}

fn put<T, const N: usize>(out: &mut Vec<u8>, v: Vec<T>, f: fn(T) -> [u8; N]) {
    for x in v {
        out.extend_from_slice(&f(x));
    }
}

fn get<T: Element, const N: usize>(data: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
    data.chunks_exact(N)
        .map(|c| f(c.try_into().expect("chunk of N bytes")))
        .collect()
}

fn parse(bytes: &[u8]) -> std::result::Result<Tensor, String> {
    if bytes.len() < 8 || &bytes[..6] != MAGIC {
        return Err("not a .npy file (bad magic: expected \\x93NUMPY)".into());
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (hlen, start) = match major {
        1 => {
            if bytes.len() < 10 {
                return Err("truncated header length".into());
            }
            (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
        }
        2 | 3 => {
            if bytes.len() < 12 {
                return Err("truncated header length".into());
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        _ => return Err(format!("unsupported format version {major}.{minor}")),
    };
    let data_start = start + hlen;
    if bytes.len() < data_start {
        return Err(format!(
            "truncated header: {hlen} bytes announced, {} present",
            bytes.len() - start
        ));
    }
    let header = std::str::from_utf8(&bytes[start..data_start])
        .map_err(|_| "header is not valid text".to_string())?;
    let (descr, fortran, dims) = parse_header(header)?;
    let dtype = match descr.as_str() {
        "<f4" => DType::F32,
        "<f8" => DType::F64,
        "<i8" => DType::I64,
        "<i4" => DType::I32,
        "|u1" | "<u1" => DType::U8,
        "|b1" => DType::Bool,
        d if d.starts_with('>') => {
            return Err(format!("big-endian data ('{d}') is not supported"));
        }
        d => return Err(format!("unsupported dtype descr '{d}'")),
    };
    if fortran {
        return Err("fortran_order: True (Fortran-ordered data) is not supported".into());
    }
    let shape = Shape::new(&dims);
    let numel = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| format!("shape {dims:?} is too large"))?;
    let data = &bytes[data_start..];
    let want = numel
        .checked_mul(dtype.size_in_bytes())
        .ok_or_else(|| format!("shape {dims:?} is too large"))?;
    if data.len() != want {
        return Err(format!(
            "shape {dims:?} of {descr} needs {want} data bytes, the file holds {}{}",
            data.len(),
            if data.len() < want {
                " (truncated data)"
            } else {
                ""
            }
        ));
    }
    let t = match dtype {
        DType::F32 => Tensor::try_from_vec(get(data, f32::from_le_bytes), shape),
        DType::F64 => Tensor::try_from_vec(get(data, f64::from_le_bytes), shape),
        DType::I64 => Tensor::try_from_vec(get(data, i64::from_le_bytes), shape),
        DType::I32 => Tensor::try_from_vec(get(data, i32::from_le_bytes), shape),
        DType::U8 => Tensor::try_from_vec(data.to_vec(), shape),
        DType::Bool => {
            if let Some(b) = data.iter().find(|&&b| b > 1) {
                return Err(format!("bool data holds the byte {b}, not 0 or 1"));
            }
            Tensor::try_from_vec(data.iter().map(|&b| b != 0).collect::<Vec<bool>>(), shape)
        }
    };
    t.map_err(|e| e.to_string())
}

/// Parses the header dict `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
fn parse_header(h: &str) -> std::result::Result<(String, bool, Vec<usize>), String> {
    let bad = |what: &str| format!("malformed header ({what}): {:?}", h.trim_end());
    let body = h.trim();
    let body = body
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
        .ok_or_else(|| bad("not a dict"))?;
    let value_after = |key: &str| -> std::result::Result<&str, String> {
        let pat1 = format!("'{key}'");
        let pat2 = format!("\"{key}\"");
        let pos = body
            .find(&pat1)
            .map(|p| p + pat1.len())
            .or_else(|| body.find(&pat2).map(|p| p + pat2.len()))
            .ok_or_else(|| bad(&format!("no '{key}' key")))?;
        let rest = body[pos..].trim_start();
        rest.strip_prefix(':')
            .map(str::trim_start)
            .ok_or_else(|| bad(&format!("no ':' after '{key}'")))
    };
    let d = value_after("descr")?;
    let q = d.chars().next().ok_or_else(|| bad("empty descr"))?;
    if q != '\'' && q != '"' {
        return Err(bad(
            "descr is not a string (structured dtypes are not supported)",
        ));
    }
    let end = d[1..].find(q).ok_or_else(|| bad("unterminated descr"))?;
    let descr = d[1..1 + end].to_string();
    let f = value_after("fortran_order")?;
    let fortran = if f.starts_with("False") {
        false
    } else if f.starts_with("True") {
        true
    } else {
        return Err(bad("fortran_order is neither True nor False"));
    };
    let s = value_after("shape")?;
    let s = s
        .strip_prefix('(')
        .ok_or_else(|| bad("shape is not a tuple"))?;
    let end = s.find(')').ok_or_else(|| bad("unterminated shape"))?;
    let mut dims = Vec::new();
    for part in s[..end].split(',') {
        let p = part.trim().trim_end_matches('L');
        if p.is_empty() {
            continue;
        }
        dims.push(
            p.parse::<usize>()
                .map_err(|_| bad(&format!("shape entry '{p}' is not a size")))?,
        );
    }
    Ok((descr, fortran, dims))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_bytes(header: &str, version: u8) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[version, 0]);
        if version == 1 {
            b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        } else {
            b.extend_from_slice(&(header.len() as u32).to_le_bytes());
        }
        b.extend_from_slice(header.as_bytes());
        b
    }

    fn err(bytes: &[u8]) -> String {
        match from_npy_bytes(bytes) {
            Err(Error::Format(m)) => m,
            other => panic!("expected a format error, got {other:?}"),
        }
    }

    fn round_trip(t: &Tensor) -> Tensor {
        let bytes = to_npy_bytes(t);
        let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + hlen) % 64, 0, "data must start at a multiple of 64");
        let back = from_npy_bytes(&bytes).unwrap();
        assert_eq!(back.dims(), t.dims());
        assert_eq!(back.dtype(), t.dtype());
        back
    }

    #[test]
    fn round_trips_every_dtype() {
        let t = Tensor::from_vec(
            vec![1.5f32, -2.0, f32::NAN, f32::INFINITY, 0.0, 7.25],
            [2, 3],
        );
        let b = round_trip(&t).to_vec::<f32>();
        assert_eq!(b[0], 1.5);
        assert!(b[2].is_nan());
        assert_eq!(b[3], f32::INFINITY);
        let t = Tensor::from_vec(vec![1.0f64 / 3.0, -1e300, 5e-324], [3]);
        assert_eq!(round_trip(&t).to_vec::<f64>(), t.to_vec::<f64>());
        let t = Tensor::from_vec(vec![i64::MIN, -1, 0, i64::MAX], [2, 1, 2]);
        assert_eq!(round_trip(&t).to_vec::<i64>(), t.to_vec::<i64>());
        let t = Tensor::from_vec(vec![i32::MIN, 3, i32::MAX], [3, 1]);
        assert_eq!(round_trip(&t).to_vec::<i32>(), t.to_vec::<i32>());
        let t = Tensor::from_vec(vec![0u8, 1, 255], [3]);
        assert_eq!(round_trip(&t).to_vec::<u8>(), vec![0, 1, 255]);
        let t = Tensor::from_vec(vec![true, false, true, true], [4]);
        assert_eq!(
            round_trip(&t).to_vec::<bool>(),
            vec![true, false, true, true]
        );
    }

    #[test]
    fn round_trips_scalars_empty_and_views() {
        for dt in DType::ALL {
            let s = Tensor::full([], 1.0, dt);
            let b = round_trip(&s);
            assert_eq!(b.rank(), 0);
            assert_eq!(b.to_vec::<f64>(), vec![1.0]);
            let e = Tensor::zeros_dtype([2, 0, 3], dt);
            assert_eq!(round_trip(&e).numel(), 0);
        }
        // A non-contiguous view is written in C order of its logical elements.
        let t = Tensor::from_vec((0..6).map(|x| x as f32).collect(), [2, 3]).t();
        assert_eq!(round_trip(&t).to_vec::<f32>(), vec![0., 3., 1., 4., 2., 5.]);
    }

    #[test]
    fn header_is_byte_exact() {
        let t = Tensor::from_vec(vec![1i64, 2, 3], [3]);
        let bytes = to_npy_bytes(&t);
        let dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }";
        let mut expect = header_bytes(
            &format!("{dict}{}\n", " ".repeat(128 - 10 - dict.len() - 1)),
            1,
        );
        // NumPy writes exactly these 128 bytes before the data (np.save of np.arange(1, 4)).
        assert_eq!(expect.len(), 128);
        for v in [1i64, 2, 3] {
            expect.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(bytes, expect);
        let s = to_npy_bytes(&Tensor::scalar(2.0f32));
        assert!(
            std::str::from_utf8(&s[10..128])
                .unwrap()
                .contains("'shape': (), ")
        );
        assert_eq!(s.len(), 128 + 4);
        let m = to_npy_bytes(&Tensor::zeros([2, 3]));
        assert!(
            std::str::from_utf8(&m[10..128])
                .unwrap()
                .contains("'shape': (2, 3), ")
        );
    }

    #[test]
    fn reads_versions_2_and_3() {
        for v in [2u8, 3] {
            let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n";
            let mut b = header_bytes(dict, v);
            b.extend_from_slice(&1.0f32.to_le_bytes());
            b.extend_from_slice(&2.0f32.to_le_bytes());
            assert_eq!(from_npy_bytes(&b).unwrap().to_vec::<f32>(), vec![1.0, 2.0]);
        }
    }

    #[test]
    fn rejects_bad_files() {
        assert!(err(b"\x93NUMPX\x01\x00").contains("bad magic"));
        assert!(err(b"\x93NUMPY\x01").contains("bad magic"));
        let mut b = header_bytes(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n",
            1,
        );
        b.truncate(30);
        assert!(err(&b).contains("truncated header"));
        let dict = |descr: &str, fortran: &str, shape: &str| {
            format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}\n")
        };
        let b = header_bytes(&dict(">f4", "False", "(1,)"), 1);
        assert!(err(&[b, vec![0; 4]].concat()).contains("big-endian"));
        for d in ["<f2", "|O", "<c8"] {
            let m = err(&[header_bytes(&dict(d, "False", "(1,)"), 1), vec![0; 8]].concat());
            assert!(m.contains("unsupported dtype") && m.contains(d), "{m}");
        }
        let m = err(&[header_bytes(&dict("<f4", "True", "(2, 2)"), 1), vec![0; 16]].concat());
        assert!(m.contains("fortran_order"), "{m}");
        let m = err(&[
            header_bytes(&dict("<f4", "False", "(2, 2)"), 1),
            vec![0; 12],
        ]
        .concat());
        assert!(m.contains("truncated data"), "{m}");
        let m = err(&[header_bytes(&dict("<f4", "False", "(2,)"), 1), vec![0; 12]].concat());
        assert!(m.contains("needs 8 data bytes"), "{m}");
        assert!(err(&header_bytes("nonsense\n", 1)).contains("malformed header"));
        assert!(err(b"\x93NUMPY\x09\x00\x00\x00").contains("version 9.0"));
    }

    #[test]
    fn files_round_trip_and_errors_name_the_path() {
        let dir = std::env::temp_dir().join(format!("baeum-npy-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("t.npy");
        let t = Tensor::from_vec(vec![1.0f64, 2.0], [1, 2]);
        write_npy(&p, &t).unwrap();
        assert_eq!(read_npy(&p).unwrap().to_vec::<f64>(), vec![1.0, 2.0]);
        let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
        std::fs::write(&p, b"garbage").unwrap();
        match read_npy(&p) {
            Err(Error::Format(m)) => assert!(m.contains("t.npy") && m.contains("bad magic"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read_npy(dir.join("missing.npy")),
            Err(Error::Io(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
