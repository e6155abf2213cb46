//! CIFAR-10 in its binary format (`cifar-10-batches-bin/`): records of 1 label byte and
//! 3072 pixel bytes (1024 red, 1024 green, 1024 blue, each plane row-major 32×32).

use std::path::{Path, PathBuf};

use baeum::{Result, Tensor};

use super::ImageDataset;
use crate::bail;

/// The bytes of one record: a label and a 3×32×32 image.
pub const CIFAR10_RECORD: usize = 1 + 3 * 32 * 32;

/// The folder the official archive unpacks to.
pub const CIFAR10_BIN_DIR: &str = "cifar-10-batches-bin";

/// CIFAR-10 (Krizhevsky, 2009): 50,000 training and 10,000 test colour images of 32×32 in ten
/// classes (`torchvision.datasets.CIFAR10`, read from the binary version of the archive).
pub struct Cifar10;

impl Cifar10 {
    /// The class names in label order (`batches.meta.txt` of the archive).
    pub const CLASSES: [&'static str; 10] = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ];

    /// Parses CIFAR-10 binary records (any number of them) from `bytes`: images
    /// `[N, 3, 32, 32]` in `[0, 1]` and labels `[N]`; `name` is the file the errors name.
    pub fn parse(bytes: &[u8], name: &str) -> Result<(Tensor, Tensor)> {
        if bytes.is_empty() {
            bail!(
                Format,
                "{name}: empty; expected CIFAR-10 records of {CIFAR10_RECORD} bytes"
            );
        }
        if !bytes.len().is_multiple_of(CIFAR10_RECORD) {
            bail!(
                Format,
                "{name}: {} bytes is not a whole number of CIFAR-10 records of {CIFAR10_RECORD} bytes (1 label + 3×32×32 pixels): {} records and {} bytes over; is the file truncated?",
                bytes.len(),
                bytes.len() / CIFAR10_RECORD,
                bytes.len() % CIFAR10_RECORD
            );
        }
        let n = bytes.len() / CIFAR10_RECORD;
        let mut labels = Vec::with_capacity(n);
        let mut pixels = Vec::with_capacity(n * (CIFAR10_RECORD - 1));
        for (i, rec) in bytes.chunks_exact(CIFAR10_RECORD).enumerate() {
            if rec[0] > 9 {
                bail!(
                    Format,
                    "{name}: record {i} (byte {}) has label {}, expected 0 to 9; is this a CIFAR-10 binary batch (CIFAR-100 records are 3074 bytes)?",
                    i * CIFAR10_RECORD,
                    rec[0]
                );
            }
            labels.push(rec[0] as i64);
            pixels.extend(rec[1..].iter().map(|&p| p as f32 / 255.0));
        }
        Ok((
            Tensor::from_vec(pixels, [n, 3, 32, 32]),
            Tensor::from_vec(labels, [n]),
        ))
    }

    /// Reads one binary batch file (`data_batch_1.bin`, `test_batch.bin`, or any file of whole
    /// records).
    pub fn read_file(path: &Path) -> Result<(Tensor, Tensor)> {
        let bytes = std::fs::read(path)
            .map_err(|e| baeum::Error::Io(format!("cannot read {}: {e}", path.display())))?;
        Cifar10::parse(&bytes, &path.display().to_string())
    }

    /// The class names from a `batches.meta.txt` (one per line, blank lines ignored), or
    /// [`Cifar10::CLASSES`] when `dir` has none.
    pub fn classes_in(dir: &Path) -> Result<Vec<String>> {
        let meta = dir.join("batches.meta.txt");
        if !meta.is_file() {
            return Ok(Cifar10::CLASSES.iter().map(|s| s.to_string()).collect());
        }
        let text = std::fs::read_to_string(&meta)
            .map_err(|e| baeum::Error::Io(format!("cannot read {}: {e}", meta.display())))?;
        let classes: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        if classes.len() != 10 {
            bail!(
                Format,
                "{}: expected the 10 CIFAR-10 class names, one per line, found {}",
                meta.display(),
                classes.len()
            );
        }
        Ok(classes)
    }

    /// The folder holding the batches: `dir` itself, or `dir/cifar-10-batches-bin` as the
    /// archive unpacks.
    pub fn batches_dir(dir: &Path) -> PathBuf {
        let inner = dir.join(CIFAR10_BIN_DIR);
        if inner.is_dir() {
            inner
        } else {
            dir.to_path_buf()
        }
    }

    /// The batch files of one split in `dir`, sorted: `data_batch_*.bin` for training (so a
    /// partial copy such as `data_batch_1_first4000.bin` reads too), `test_batch*.bin` for test.
    pub fn batch_files(dir: &Path, train: bool) -> Result<Vec<PathBuf>> {
        let prefix = if train { "data_batch_" } else { "test_batch" };
        let entries = std::fs::read_dir(dir)
            .map_err(|e| baeum::Error::Io(format!("cannot list {}: {e}", dir.display())))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".bin"))
            })
            .collect();
        files.sort();
        Ok(files)
    }

    /// Reads the training (`data_batch_*.bin`) or test (`test_batch.bin`) split from `dir` or
    /// `dir/cifar-10-batches-bin`, with the class names of `batches.meta.txt` when present.
    pub fn load(dir: impl AsRef<Path>, train: bool) -> Result<ImageDataset> {
        let dir = Cifar10::batches_dir(dir.as_ref());
        let files = Cifar10::batch_files(&dir, train)?;
        if files.is_empty() {
            bail!(
                Io,
                "CIFAR-10: no {} in {} (`baeum data download cifar10` fetches the binary version, or pass --data PATH)",
                if train {
                    "data_batch_*.bin"
                } else {
                    "test_batch.bin"
                },
                dir.display()
            );
        }
        let mut images = Vec::with_capacity(files.len());
        let mut labels = Vec::with_capacity(files.len());
        for f in &files {
            let (x, y) = Cifar10::read_file(f)?;
            images.push(x);
            labels.push(y);
        }
        let (images, labels) = if images.len() == 1 {
            (images.pop().unwrap(), labels.pop().unwrap())
        } else {
            (
                Tensor::try_cat(&images.iter().collect::<Vec<_>>(), 0)?,
                Tensor::try_cat(&labels.iter().collect::<Vec<_>>(), 0)?,
            )
        };
        ImageDataset::new(images, labels, Cifar10::classes_in(&dir)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_records_plane_by_plane() {
        let mut rec = vec![3u8];
        rec.extend((0..3072).map(|i| (i % 251) as u8));
        let mut bytes = rec.clone();
        rec[0] = 7;
        bytes.extend(&rec);
        let (x, y) = Cifar10::parse(&bytes, "two").unwrap();
        assert_eq!(x.dims(), &[2, 3, 32, 32]);
        assert_eq!(y.to_vec::<i64>(), vec![3, 7]);
        // pixel (c=1, y=2, x=5) is byte 1 + 1024 + 2*32 + 5 of the record
        let v = x.get(&[1, 1, 2, 5]);
        assert_eq!(v, (((1024 + 64 + 5) % 251) as f32 / 255.0) as f64);
    }

    #[test]
    fn a_partial_record_or_a_bad_label_is_an_error() {
        let e = Cifar10::parse(&vec![0u8; 3073 + 10], "cut.bin").unwrap_err();
        assert!(
            e.to_string().contains("cut.bin")
                && e.to_string().contains("1 records and 10 bytes over"),
            "{e}"
        );
        let mut bad = vec![0u8; 3073 * 2];
        bad[3073] = 42;
        let e = Cifar10::parse(&bad, "b.bin").unwrap_err();
        assert!(
            e.to_string().contains("record 1 (byte 3073) has label 42"),
            "{e}"
        );
    }
}
