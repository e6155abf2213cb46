//! Small helpers the lectures share: the embedded data sets and their CSV reader, the mean
//! squared error, one gradient-descent step, accuracy, number formatting, and a small SVG
//! writer for the pictures some lectures draw.

use std::fmt;
use std::io::{self, Write};

use baeum::autograd::no_grad;
use baeum::{DType, Generator, Tensor};

/// `data-01-test-score.csv`: three exam scores → the final score, 25 rows (COURSE §3).
pub const TEST_SCORE_CSV: &str = include_str!("../data/data-01-test-score.csv");
/// `data-02-stock_daily.csv`: GOOG daily Open, High, Low, Volume, Close, 732 rows, newest
/// first (COURSE §12).
pub const STOCK_CSV: &str = include_str!("../data/data-02-stock_daily.csv");
/// `data-03-diabetes.csv`: 8 features scaled to [−1, 1] → diabetes 0/1, 759 rows (COURSE §4).
pub const DIABETES_CSV: &str = include_str!("../data/data-03-diabetes.csv");
/// `data-04-zoo.csv`: 16 animal attributes → type 0–6, 101 rows (COURSE §6).
pub const ZOO_CSV: &str = include_str!("../data/data-04-zoo.csv");

/// A table of numbers read from CSV: `rows × cols` values in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f32>,
}

/// A line of a CSV that is not a row of numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvError {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "csv line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for CsvError {}

/// Reads a CSV of numbers without a header, as the course's data files are written: lines that
/// are empty or start with `#` are skipped, `\r` and spaces around values are trimmed, and every
/// row must have the same number of values.
pub fn parse_csv(text: &str) -> Result<Table, CsvError> {
    let mut values = Vec::new();
    let (mut rows, mut cols) = (0, 0);
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |message: String| CsvError {
            line: i + 1,
            message,
        };
        let mut n = 0;
        for field in line.split(',') {
            let field = field.trim();
            let v: f32 = field
                .parse()
                .map_err(|_| err(format!("`{field}` is not a number")))?;
            values.push(v);
            n += 1;
        }
        if rows == 0 {
            cols = n;
        } else if n != cols {
            return Err(err(format!("{n} values where the rows above have {cols}")));
        }
        rows += 1;
    }
    Ok(Table { rows, cols, values })
}

impl Table {
    /// Parses one of the embedded data sets (they are known to be well formed).
    pub fn embedded(text: &str) -> Table {
        parse_csv(text).unwrap_or_else(|e| panic!("embedded lecture data: {e}"))
    }

    /// All columns but the last, as an f32 tensor `[rows, cols − 1]` (the inputs X).
    pub fn features(&self) -> Tensor {
        let k = self.cols - 1;
        let v: Vec<f32> = (0..self.rows)
            .flat_map(|r| {
                self.values[r * self.cols..r * self.cols + k]
                    .iter()
                    .copied()
            })
            .collect();
        Tensor::from_vec(v, [self.rows, k])
    }

    /// The last column as an f32 tensor `[rows, 1]` (the target y of a regression).
    pub fn target(&self) -> Tensor {
        Tensor::from_vec(self.last_column(), [self.rows, 1])
    }

    /// The last column as class indices, an i64 tensor `[rows]`.
    pub fn labels(&self) -> Tensor {
        let v: Vec<i64> = self.last_column().iter().map(|&x| x as i64).collect();
        Tensor::from_vec(v, [self.rows])
    }

    fn last_column(&self) -> Vec<f32> {
        (0..self.rows)
            .map(|r| self.values[r * self.cols + self.cols - 1])
            .collect()
    }
}

/// The mean squared error (1/m) Σ (h − y)², differentiable.
pub fn mse(h: &Tensor, y: &Tensor) -> Tensor {
    let e = h - y;
    (&e * &e).mean()
}

/// The logistic cost of the notes, −(1/m) Σ [y log h + (1 − y) log(1 − h)], differentiable.
pub fn binary_cross_entropy(h: &Tensor, y: &Tensor) -> Tensor {
    let one_minus_y = y.rsub_scalar(1.0);
    let one_minus_h = h.rsub_scalar(1.0);
    -(y * h.log() + one_minus_y * one_minus_h.log()).mean()
}

/// The softmax cross-entropy of the notes, computed from the logits (numerically stable):
/// (1/N) Σᵢ −Σ_c onehotᵢ_c · log softmax(logitsᵢ)_c.
pub fn cross_entropy_with_logits(logits: &Tensor, one_hot: &Tensor) -> Tensor {
    -(one_hot * logits.log_softmax(1)).sum_dim(1, false).mean()
}

/// One step of gradient descent, w := w − α·∂cost/∂w for each parameter, then clears the
/// gradients for the next backward. The update runs under `no_grad`: it is not part of the
/// model, and in-place changes to parameters are refused while recording.
pub fn gd_step(params: &[&Tensor], lr: f64) {
    no_grad(|| {
        for p in params {
            let g = p
                .grad()
                .expect("gd_step: a parameter got no gradient from backward");
            p.sub_(&(&g * lr));
        }
    });
    for p in params {
        p.zero_grad();
    }
}

/// A parameter `[fan_in, fan_out]` drawn from N(0, 2 / (fan_in + fan_out)) (Xavier/Glorot
/// normal initialisation), seeded by `g`.
pub fn xavier_normal(fan_in: usize, fan_out: usize, g: &mut Generator) -> Tensor {
    let std = (2.0 / (fan_in + fan_out) as f64).sqrt();
    Tensor::normal_with([fan_in, fan_out], 0.0, std, DType::F32, g).requires_grad_(true)
}

/// A zero-initialised parameter of the given shape (f32), for biases.
pub fn zeros_param(shape: &[usize]) -> Tensor {
    Tensor::zeros(shape.to_vec()).requires_grad_(true)
}

/// The fraction of positions where two tensors of class indices agree.
pub fn accuracy(predicted: &Tensor, truth: &Tensor) -> f64 {
    predicted.eq(truth).to_f64().mean().item_f64()
}

/// Thresholds probabilities at 0.5: 1.0 where h ≥ 0.5, else 0.0 (f32, the shape of h).
pub fn predict_binary(h: &Tensor) -> Tensor {
    h.ge_scalar(0.5).to_f32()
}

/// The elements of a tensor as f64, in row-major order.
pub fn values(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>()
}

/// The one value of a one-element tensor as f64.
pub fn scalar(t: &Tensor) -> f64 {
    t.item_f64()
}

/// A number in a fixed width of 12: fixed-point with 5 decimals where that reads well,
/// scientific notation for the very large and very small (a diverging run, a vanishing cost).
pub fn fmt_wide(v: f64) -> String {
    if v == 0.0 || (1e-4..1e5).contains(&v.abs()) {
        format!("{:>12.5}", v + 0.0)
    } else {
        format!("{v:>12.4e}")
    }
}

/// `[a, b, c]` with `decimals` places each.
pub fn fmt_list(xs: &[f64], decimals: usize) -> String {
    let parts: Vec<String> = xs.iter().map(|x| format!("{x:.decimals$}")).collect();
    format!("[{}]", parts.join(", "))
}

/// A baeum error as an I/O error, so a lecture can stop with `?` where its printing would.
pub fn or_io<T>(result: baeum::Result<T>) -> io::Result<T> {
    result.map_err(|e| io::Error::other(e.to_string()))
}

/// Prints a lecture's title line.
pub fn title(out: &mut dyn Write, section: u32, title: &str) -> io::Result<()> {
    let line = format!("COURSE §{section}. {title}");
    writeln!(out, "{line}")?;
    writeln!(out, "{}", "=".repeat(line.chars().count()))
}

/// Prints an example's heading (with a blank line before it).
pub fn heading(out: &mut dyn Write, text: &str) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "── {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_skips_comments_and_trims() {
        let t = parse_csv("# a header\r\n 1, 2 ,3\r\n\r\n4,5,6").unwrap();
        assert_eq!((t.rows, t.cols), (2, 3));
        assert_eq!(t.values, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(t.features().dims(), &[2, 2]);
        assert_eq!(t.target().to_vec::<f32>(), vec![3.0, 6.0]);
        assert_eq!(t.labels().to_vec::<i64>(), vec![3, 6]);
    }

    #[test]
    fn csv_errors_name_the_line() {
        let e = parse_csv("1,2\n3,x\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().contains("`x` is not a number"), "{e}");
        let e = parse_csv("1,2\n# c\n3,4,5\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(
            e.to_string()
                .contains("3 values where the rows above have 2")
        );
    }

    #[test]
    fn embedded_tables_have_the_documented_shapes() {
        let ts = Table::embedded(TEST_SCORE_CSV);
        assert_eq!((ts.rows, ts.cols), (25, 4));
        let d = Table::embedded(DIABETES_CSV);
        assert_eq!((d.rows, d.cols), (759, 9));
        let ones = d.last_column().iter().filter(|&&v| v == 1.0).count();
        assert_eq!(ones, 496);
        let z = Table::embedded(ZOO_CSV);
        assert_eq!((z.rows, z.cols), (101, 17));
        let labels = z.labels().to_vec::<i64>();
        assert_eq!(labels.iter().max(), Some(&6));
        assert_eq!(labels.iter().min(), Some(&0));
    }

    #[test]
    fn accuracy_counts_matches() {
        let a = Tensor::from_vec(vec![0i64, 1, 2, 2], [4]);
        let b = Tensor::from_vec(vec![0i64, 1, 1, 2], [4]);
        assert_eq!(accuracy(&a, &b), 0.75);
    }
}
