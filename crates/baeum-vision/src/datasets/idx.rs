//! The IDX format of MNIST and Fashion-MNIST (LeCun's "ubyte" files), gzip or raw.
//!
//! A file is a 4-byte magic number `0x0000TTNN` (TT the element type, 0x08 for u8; NN the
//! number of dimensions), NN big-endian u32 sizes, then the elements, row-major. Images are
//! magic 2051 (`0x00000803`: u8, 3 dimensions `[N, rows, cols]`), labels 2049 (`0x00000801`:
//! u8, `[N]`).

use std::path::{Path, PathBuf};

use baeum::{Result, Tensor};

use super::ImageDataset;
use super::io::{find_file, read_maybe_gz};
use crate::bail;

/// The magic number of an IDX file of u8 images `[N, rows, cols]`.
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// The magic number of an IDX file of u8 labels `[N]`.
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;

/// The dimensions and bytes of an IDX file of u8 elements.
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// What a magic number announces, for error messages: `2051 (0x00000803: u8, 3 dimensions)`.
fn describe_magic(magic: u32) -> String {
    let kind = match (magic >> 8) & 0xff {
        0x08 => "u8",
        0x09 => "i8",
        0x0B => "i16",
        0x0C => "i32",
        0x0D => "f32",
        0x0E => "f64",
        _ => "unknown type",
    };
    if magic >> 16 != 0 {
        return format!("{magic} (0x{magic:08x}: not an IDX magic number)");
    }
    format!(
        "{magic} (0x{magic:08x}: {kind}, {} dimensions)",
        magic & 0xff
    )
}

/// Parses the IDX bytes of `name` (a path, for the errors) and checks the magic number is
/// `expected_magic` and the element count matches the header exactly.
pub fn parse_idx(bytes: &[u8], name: &str, expected_magic: u32) -> Result<IdxArray> {
    if bytes.len() < 4 {
        bail!(
            Format,
            "{name}: expected an IDX file (a 4-byte magic number, then sizes), found only {} bytes",
            bytes.len()
        );
    }
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if magic != expected_magic {
        let hint = match magic {
            IDX_IMAGES_MAGIC => "; this looks like an image file",
            IDX_LABELS_MAGIC => "; this looks like a label file",
            _ => "",
        };
        bail!(
            Format,
            "{name}: expected the IDX magic number {}, found {}{hint}",
            describe_magic(expected_magic),
            describe_magic(magic)
        );
    }
    let ndim = (magic & 0xff) as usize;
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        bail!(
            Format,
            "{name}: expected a {header}-byte IDX header ({ndim} sizes), found only {} bytes",
            bytes.len()
        );
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|i| {
            let o = 4 + 4 * i;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect();
    let Some(count) = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) else {
        bail!(Format, "{name}: the IDX sizes {dims:?} overflow");
    };
    let found = bytes.len() - header;
    if found < count {
        bail!(
            Format,
            "{name}: truncated: the header announces {dims:?} = {count} bytes of data, found {found}"
        );
    }
    if found > count {
        bail!(
            Format,
            "{name}: the header announces {dims:?} = {count} bytes of data, found {found} ({} bytes too many)",
            found - count
        );
    }
    Ok(IdxArray {
        dims,
        data: bytes[header..].to_vec(),
    })
}

/// Reads an IDX file (gzip or raw) and checks its magic number.
pub fn read_idx(path: &Path, expected_magic: u32) -> Result<IdxArray> {
    let bytes = read_maybe_gz(path)?;
    parse_idx(&bytes, &path.display().to_string(), expected_magic)
}

/// IDX images `[N, rows, cols]` as an f32 tensor `[N, 1, rows, cols]` in `[0, 1]` (pixel / 255,
/// as torchvision's `ToTensor`).
pub fn read_idx_images(path: &Path) -> Result<Tensor> {
    let idx = read_idx(path, IDX_IMAGES_MAGIC)?;
    let (n, rows, cols) = (idx.dims[0], idx.dims[1], idx.dims[2]);
    if rows == 0 || cols == 0 {
        bail!(
            Format,
            "{}: images of {rows}×{cols} pixels: expected both sizes positive",
            path.display()
        );
    }
    let pixels: Vec<f32> = idx.data.iter().map(|&p| p as f32 / 255.0).collect();
    Ok(Tensor::from_vec(pixels, [n, 1, rows, cols]))
}

/// IDX labels `[N]` as an i64 tensor.
pub fn read_idx_labels(path: &Path) -> Result<Tensor> {
    let idx = read_idx(path, IDX_LABELS_MAGIC)?;
    let n = idx.dims[0];
    let labels: Vec<i64> = idx.data.iter().map(|&l| l as i64).collect();
    Ok(Tensor::from_vec(labels, [n]))
}

/// The canonical names of the four IDX files (each may carry `.gz`), with the names some
/// copies use (a dot before `idx`).
fn idx_names(train: bool) -> (&'static [&'static str], &'static [&'static str]) {
    if train {
        (
            &["train-images-idx3-ubyte", "train-images.idx3-ubyte"],
            &["train-labels-idx1-ubyte", "train-labels.idx1-ubyte"],
        )
    } else {
        (
            &["t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"],
            &["t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"],
        )
    }
}

/// Whether `dir` holds the IDX files of the training or the test split.
pub(crate) fn has_idx_files(dir: &Path) -> bool {
    [true, false].into_iter().any(|train| {
        let (images, labels) = idx_names(train);
        find_file(dir, images).is_some() && find_file(dir, labels).is_some()
    })
}

/// The image and label files of one split in `dir`, or an error naming what is missing.
fn idx_pair(what: &str, dir: &Path, train: bool, download: &str) -> Result<(PathBuf, PathBuf)> {
    let (images, labels) = idx_names(train);
    let find = |names: &[&str]| {
        find_file(dir, names).ok_or_else(|| {
            baeum::Error::Io(format!(
                "{what}: no {}[.gz] in {} (the {} split of {what} is four IDX files; `baeum data download {download}` fetches them, or pass --data PATH)",
                names[0],
                dir.display(),
                if train { "training" } else { "test" },
            ))
        })
    };
    Ok((find(images)?, find(labels)?))
}

/// Reads one split of an MNIST-like IDX data set and checks the counts agree and the labels
/// name a class.
fn load_idx_dataset(
    what: &str,
    dir: &Path,
    train: bool,
    download: &str,
    classes: Vec<String>,
) -> Result<ImageDataset> {
    let (images_path, labels_path) = idx_pair(what, dir, train, download)?;
    let images = read_idx_images(&images_path)?;
    let labels = read_idx_labels(&labels_path)?;
    if images.dims()[0] != labels.dims()[0] {
        bail!(
            Format,
            "{what}: {} holds {} images but {} holds {} labels",
            images_path.display(),
            images.dims()[0],
            labels_path.display(),
            labels.dims()[0]
        );
    }
    let k = classes.len() as i64;
    if let Some((i, l)) = labels
        .to_vec::<i64>()
        .into_iter()
        .enumerate()
        .find(|(_, l)| !(0..k).contains(l))
    {
        bail!(
            Format,
            "{}: label {i} is {l}, expected a class from 0 to {}",
            labels_path.display(),
            k - 1
        );
    }
    ImageDataset::new(images, labels, classes)
}

/// MNIST handwritten digits (LeCun, Cortes, Burges): 60,000 training and 10,000 test images,
/// 28×28 grayscale (`torchvision.datasets.MNIST`).
pub struct Mnist;

impl Mnist {
    /// The class names: the digits `"0"` to `"9"`.
    pub fn classes() -> Vec<String> {
        (0..10).map(|d| d.to_string()).collect()
    }

    /// Reads the training (`train = true`) or test split from the IDX files in `dir`
    /// (`train-images-idx3-ubyte[.gz]` and the other three): images `[N, 1, 28, 28]` in `[0, 1]`,
    /// labels `[N]`.
    pub fn load(dir: impl AsRef<Path>, train: bool) -> Result<ImageDataset> {
        load_idx_dataset("MNIST", dir.as_ref(), train, "mnist", Mnist::classes())
    }
}

/// Fashion-MNIST (Zalando): 60,000 training and 10,000 test images of clothing, 28×28
/// grayscale, in MNIST's IDX format (`torchvision.datasets.FashionMNIST`).
pub struct FashionMnist;

impl FashionMnist {
    /// The ten class names, in label order (torchvision's).
    pub const CLASSES: [&'static str; 10] = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ];

    pub fn classes() -> Vec<String> {
        FashionMnist::CLASSES
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// Reads the training or test split from the IDX files in `dir`, as [`Mnist::load`].
    pub fn load(dir: impl AsRef<Path>, train: bool) -> Result<ImageDataset> {
        load_idx_dataset(
            "Fashion-MNIST",
            dir.as_ref(),
            train,
            "fashion-mnist",
            FashionMnist::classes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut b = magic.to_be_bytes().to_vec();
        for d in dims {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn parses_a_tiny_image_file() {
        let bytes = idx(2051, &[2, 1, 3], &[0, 51, 255, 1, 2, 3]);
        let a = parse_idx(&bytes, "tiny", IDX_IMAGES_MAGIC).unwrap();
        assert_eq!(a.dims, vec![2, 1, 3]);
        assert_eq!(a.data, vec![0, 51, 255, 1, 2, 3]);
    }

    #[test]
    fn rejects_wrong_magic_truncation_and_extra_bytes() {
        let labels = idx(2049, &[3], &[1, 2, 3]);
        let e = parse_idx(&labels, "x.idx", IDX_IMAGES_MAGIC).unwrap_err();
        assert!(
            e.to_string()
                .contains("x.idx: expected the IDX magic number 2051")
                && e.to_string().contains("found 2049")
                && e.to_string().contains("label file"),
            "{e}"
        );
        let short = idx(2051, &[2, 2, 2], &[0; 7]);
        let e = parse_idx(&short, "s", IDX_IMAGES_MAGIC).unwrap_err();
        assert!(
            e.to_string()
                .contains("truncated: the header announces [2, 2, 2] = 8 bytes of data, found 7"),
            "{e}"
        );
        let long = idx(2049, &[2], &[0; 3]);
        let e = parse_idx(&long, "l", IDX_LABELS_MAGIC).unwrap_err();
        assert!(e.to_string().contains("1 bytes too many"), "{e}");
        let e = parse_idx(&[0, 0, 8], "h", IDX_LABELS_MAGIC).unwrap_err();
        assert!(e.to_string().contains("found only 3 bytes"), "{e}");
        let e = parse_idx(&[0, 0, 8, 3, 0, 0], "h", IDX_IMAGES_MAGIC).unwrap_err();
        assert!(
            e.to_string().contains("expected a 16-byte IDX header"),
            "{e}"
        );
        let e = parse_idx(b"\x89PNG....", "p", IDX_IMAGES_MAGIC).unwrap_err();
        assert!(e.to_string().contains("not an IDX magic number"), "{e}");
    }

    #[test]
    fn overflowing_sizes_are_an_error_not_a_panic() {
        let bytes = idx(0x0803, &[u32::MAX, u32::MAX, u32::MAX], &[]);
        let e = parse_idx(&bytes, "o", IDX_IMAGES_MAGIC).unwrap_err();
        assert!(e.to_string().contains("overflow"), "{e}");
    }
}
