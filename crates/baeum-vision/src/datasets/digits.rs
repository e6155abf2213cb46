//! The scikit-learn 8×8 handwritten digits (UCI optdigits) in the CSV form scikit-learn ships:
//! 64 pixel values 0–16 then the label, per row. A copy is compiled in ([`Digits::embedded`]).

use std::path::Path;

use baeum::{Result, Tensor};

use super::ImageDataset;
use super::io::{gunzip_if_gz, read_maybe_gz};
use crate::bail;

/// The embedded `digits_train.csv.gz`: 1437 rows (`data/README.md` says where from).
const EMBEDDED: &[u8] = include_bytes!("../../data/digits_train.csv.gz");

/// The largest pixel value: each pixel counts the "on" cells of a 4×4 block.
pub const DIGITS_MAX: u8 = 16;

/// The scikit-learn 8×8 digits (`sklearn.datasets.load_digits`), as images `[N, 1, 8, 8]` with
/// the pixels divided by 16 into `[0, 1]`, and labels 0–9.
pub struct Digits;

impl Digits {
    /// The number of rows of the embedded copy.
    pub const EMBEDDED_LEN: usize = 1437;
    /// The seed of the quick start's train/test split ([`Digits::embedded_split`]).
    pub const SPLIT_SEED: u64 = 0x00d1_9175;

    pub fn classes() -> Vec<String> {
        (0..10).map(|d| d.to_string()).collect()
    }

    /// Parses the CSV text (gzip or plain) of `name`: 65 integers per row, 64 pixels 0–16 and a
    /// label 0–9. Blank lines are skipped; anything else out of place is an error naming the
    /// line and the column.
    pub fn parse(bytes: &[u8], name: &str) -> Result<ImageDataset> {
        let bytes = gunzip_if_gz(bytes.to_vec(), name)?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            baeum::Error::Format(format!(
                "{name}: not UTF-8 text at byte {} (expected a CSV of integers)",
                e.valid_up_to()
            ))
        })?;
        let mut pixels = Vec::new();
        let mut labels = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.len() != 65 {
                bail!(
                    Format,
                    "{name}: line {}: expected 65 comma-separated integers (64 pixels and a label), found {}",
                    i + 1,
                    fields.len()
                );
            }
            for (j, f) in fields.iter().enumerate() {
                let (max, what) = if j == 64 {
                    (9, "label")
                } else {
                    (DIGITS_MAX, "pixel")
                };
                // Integers, possibly written as floats ("16.0"), as NumPy's savetxt may write.
                let v: Option<u8> = f.parse::<u8>().ok().or_else(|| {
                    f.parse::<f64>()
                        .ok()
                        .filter(|x| x.fract() == 0.0 && (0.0..=255.0).contains(x))
                        .map(|x| x as u8)
                });
                match v {
                    Some(v) if v <= max => {
                        if j == 64 {
                            labels.push(v as i64);
                        } else {
                            pixels.push(v as f32 / DIGITS_MAX as f32);
                        }
                    }
                    _ => bail!(
                        Format,
                        "{name}: line {}, column {}: {what} {f:?} is not an integer from 0 to {max}",
                        i + 1,
                        j + 1
                    ),
                }
            }
        }
        if labels.is_empty() {
            bail!(Format, "{name}: no rows (expected 65 integers per row)");
        }
        let n = labels.len();
        ImageDataset::new(
            Tensor::from_vec(pixels, [n, 1, 8, 8]),
            Tensor::from_vec(labels, [n]),
            Digits::classes(),
        )
    }

    /// Reads a digits CSV file (`.csv` or `.csv.gz`).
    pub fn read_csv(path: impl AsRef<Path>) -> Result<ImageDataset> {
        let path = path.as_ref();
        let bytes = read_maybe_gz(path)?;
        Digits::parse(&bytes, &path.display().to_string())
    }

    /// The 1437 digits compiled into the crate: no file, no download.
    pub fn embedded() -> Result<ImageDataset> {
        Digits::parse(EMBEDDED, "the embedded digits_train.csv.gz")
    }

    /// The embedded digits split 80/20 by class with [`Digits::SPLIT_SEED`]: `(train, test)`,
    /// 1149 and 288 images (scikit-learn's sizes for `test_size=0.2`). The same split on every
    /// run and machine.
    pub fn embedded_split() -> Result<(ImageDataset, ImageDataset)> {
        Digits::embedded()?.train_test_split(0.2, Digits::SPLIT_SEED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_and_scales_pixels() {
        let mut row: Vec<String> = (0..64).map(|i| (i % 17).to_string()).collect();
        row.push("7".into());
        let text = format!("{}\n\n{}\n", row.join(","), row.join(","));
        let ds = Digits::parse(text.as_bytes(), "t.csv").unwrap();
        assert_eq!(ds.images().dims(), &[2, 1, 8, 8]);
        assert_eq!(ds.labels().to_vec::<i64>(), vec![7, 7]);
        assert_eq!(ds.images().get(&[0, 0, 2, 0]), 1.0); // value 16 at index 16: row 2, column 0
        assert_eq!(ds.images().get(&[1, 0, 0, 3]), 0.1875); // 3 / 16
    }

    #[test]
    fn bad_rows_name_the_line_and_column() {
        let e = Digits::parse(b"1,2,3\n", "d.csv").unwrap_err();
        assert!(
            e.to_string()
                .contains("d.csv: line 1: expected 65 comma-separated integers"),
            "{e}"
        );
        let mut row: Vec<String> = vec!["0".into(); 64];
        row[10] = "17".into();
        row.push("3".into());
        let e = Digits::parse(row.join(",").as_bytes(), "d.csv").unwrap_err();
        assert!(
            e.to_string()
                .contains("line 1, column 11: pixel \"17\" is not an integer from 0 to 16"),
            "{e}"
        );
        row[10] = "1".into();
        row[64] = "10".into();
        let e = Digits::parse(row.join(",").as_bytes(), "d.csv").unwrap_err();
        assert!(e.to_string().contains("label \"10\""), "{e}");
    }
}
