//! Printing tensors the way PyTorch does: `tensor([[1., 2.], [3., 4.]])`, aligned columns,
//! four decimals or scientific notation chosen from the values, `...` for large tensors, and
//! the dtype named when it is not the default (f32 for floats, i64 for integers).

use std::fmt;

use super::{DType, Tensor};

/// Tensors with more elements than this are summarised with `...`.
const THRESHOLD: usize = 1000;
/// Items kept at each end of a summarised dimension.
const EDGE: usize = 3;
const LINE_WIDTH: usize = 80;

#[derive(Clone, Copy)]
enum Style {
    Int,
    /// Floats that are all whole numbers: `1.`, `-2.`.
    WholeFloat,
    Fixed(usize),
    Sci(usize),
    Bool,
}

fn format_sci(v: f64, precision: usize) -> String {
    if !v.is_finite() {
        return format_special(v);
    }
    let s = format!("{v:.precision$e}");
    // Rust writes `1.5000e0`; PyTorch writes `1.5000e+00`.
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            format!("{m}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

fn format_special(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v > 0.0 {
        "inf".into()
    } else {
        "-inf".into()
    }
}

fn format_value(v: f64, style: Style) -> String {
    match style {
        Style::Bool => if v != 0.0 { "True" } else { "False" }.into(),
        Style::Int => format!("{}", v as i64),
        Style::WholeFloat => {
            if v.is_finite() {
                format!("{v:.0}.")
            } else {
                format_special(v)
            }
        }
        Style::Fixed(p) => {
            if v.is_finite() {
                format!("{v:.p$}")
            } else {
                format_special(v)
            }
        }
        Style::Sci(p) => format_sci(v, p),
    }
}

/// PyTorch's choice of notation, made from the values that will be shown.
fn choose_style(dtype: DType, values: &[f64]) -> Style {
    match dtype {
        DType::Bool => return Style::Bool,
        DType::U8 | DType::I32 | DType::I64 => return Style::Int,
        _ => {}
    }
    let finite: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v| v.is_finite() && *v != 0.0)
        .map(f64::abs)
        .collect();
    if finite.is_empty() {
        return Style::WholeFloat;
    }
    let max = finite.iter().cloned().fold(f64::MIN, f64::max);
    let min = finite.iter().cloned().fold(f64::MAX, f64::min);
    let all_whole = values
        .iter()
        .filter(|v| v.is_finite())
        .all(|v| v.fract() == 0.0);
    if all_whole {
        if max / min > 1000.0 || max > 1e8 {
            Style::Sci(4)
        } else {
            Style::WholeFloat
        }
    } else if max / min > 1000.0 || max > 1e8 || min < 1e-4 {
        Style::Sci(4)
    } else {
        Style::Fixed(4)
    }
}

struct Printer {
    dims: Vec<usize>,
    strides: Vec<usize>,
    values: Vec<f64>,
    style: Style,
    width: usize,
    summarize: bool,
}

impl Printer {
    /// Indices shown along a dimension of size `n`, with `None` for the `...` gap.
    fn shown(&self, n: usize) -> Vec<Option<usize>> {
        if self.summarize && n > 2 * EDGE {
            (0..EDGE)
                .map(Some)
                .chain(std::iter::once(None))
                .chain((n - EDGE..n).map(Some))
                .collect()
        } else {
            (0..n).map(Some).collect()
        }
    }

    fn cell(&self, offset: usize) -> String {
        let s = format_value(self.values[offset], self.style);
        format!("{s:>w$}", w = self.width)
    }

    fn write(&self, out: &mut String, dim: usize, offset: usize, indent: usize) {
        let n = self.dims[dim];
        out.push('[');
        if dim + 1 == self.dims.len() {
            let cells: Vec<String> = self
                .shown(n)
                .into_iter()
                .map(|i| match i {
                    Some(i) => self.cell(offset + i * self.strides[dim]),
                    None => " ...".to_string(),
                })
                .collect();
            let per_line = ((LINE_WIDTH.saturating_sub(indent + 1)) / (self.width + 2)).max(1);
            for (k, c) in cells.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                    if k % per_line == 0 {
                        out.push('\n');
                        out.push_str(&" ".repeat(indent + 1));
                    } else {
                        out.push(' ');
                    }
                }
                out.push_str(c);
            }
        } else {
            let newlines = "\n".repeat(self.dims.len() - dim - 1);
            for (k, i) in self.shown(n).into_iter().enumerate() {
                if k > 0 {
                    out.push(',');
                    out.push_str(&newlines);
                    out.push_str(&" ".repeat(indent + 1));
                }
                match i {
                    Some(i) => self.write(out, dim + 1, offset + i * self.strides[dim], indent + 1),
                    None => out.push_str("..."),
                }
            }
        }
        out.push(']');
    }
}

/// Values of the elements that a summarised print shows (all of them when not summarising).
fn shown_values(dims: &[usize], values: &[f64], summarize: bool) -> Vec<f64> {
    if !summarize {
        return values.to_vec();
    }
    let mut out = Vec::new();
    let strides: Vec<usize> = {
        let mut s = vec![1; dims.len()];
        for i in (0..dims.len().saturating_sub(1)).rev() {
            s[i] = s[i + 1] * dims[i + 1];
        }
        s
    };
    fn walk(
        dims: &[usize],
        strides: &[usize],
        d: usize,
        off: usize,
        v: &[f64],
        out: &mut Vec<f64>,
    ) {
        let n = dims[d];
        let idx: Vec<usize> = if n > 2 * EDGE {
            (0..EDGE).chain(n - EDGE..n).collect()
        } else {
            (0..n).collect()
        };
        for i in idx {
            let o = off + i * strides[d];
            if d + 1 == dims.len() {
                out.push(v[o]);
            } else {
                walk(dims, strides, d + 1, o, v, out);
            }
        }
    }
    walk(dims, &strides, 0, 0, values, &mut out);
    out
}

impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dtype = self.dtype();
        let mut suffix = match dtype {
            DType::F32 | DType::I64 | DType::Bool => String::new(),
            other => format!(", dtype={other}"),
        };
        // As PyTorch shows it: the operation that made a recorded tensor, or a parameter's flag.
        match self.grad_fn() {
            Some(node) => suffix.push_str(&format!(", grad_fn=<{}>", node.op())),
            None if self.requires_grad() => suffix.push_str(", requires_grad=true"),
            None => {}
        }
        let dims = self.dims().to_vec();
        if self.numel() == 0 {
            let size = if dims.len() == 1 {
                String::new()
            } else {
                format!(", size={:?}", dims)
            };
            return write!(f, "tensor([]{size}{suffix})");
        }
        let values = self.to_vec::<f64>();
        let summarize = values.len() > THRESHOLD;
        let shown = shown_values(&dims, &values, summarize);
        let style = choose_style(dtype, &shown);
        if dims.is_empty() {
            return write!(f, "tensor({}{suffix})", format_value(values[0], style));
        }
        let width = shown
            .iter()
            .map(|&v| format_value(v, style).len())
            .max()
            .unwrap_or(1);
        let mut strides = vec![1; dims.len()];
        for i in (0..dims.len() - 1).rev() {
            strides[i] = strides[i + 1] * dims[i + 1];
        }
        let p = Printer {
            dims,
            strides,
            values,
            style,
            width,
            summarize,
        };
        let mut out = String::from("tensor(");
        p.write(&mut out, 0, 0, "tensor(".len());
        write!(f, "{out}{suffix})")
    }
}

#[cfg(test)]
mod tests {
    use crate::{DType, Tensor, tensor};

    #[test]
    fn prints_like_pytorch() {
        assert_eq!(
            tensor!([[1., 2., 3.], [4., 5., 6.]]).to_string(),
            "tensor([[1., 2., 3.],\n        [4., 5., 6.]])"
        );
        assert_eq!(
            tensor!([0.5, -1.25]).to_string(),
            "tensor([ 0.5000, -1.2500])"
        );
        assert_eq!(
            tensor!([1., 2.], DType::F64).to_string(),
            "tensor([1., 2.], dtype=f64)"
        );
        let w = crate::tensor!([1.0, 2.0]).requires_grad_(true);
        assert_eq!(w.to_string(), "tensor([1., 2.], requires_grad=true)");
        assert_eq!((&w * 2.0).to_string(), "tensor([2., 4.], grad_fn=<mul>)");
        assert_eq!(tensor!(3.5).to_string(), "tensor(3.5000)");
        assert_eq!(tensor!([1, 20]).to_string(), "tensor([ 1, 20])");
        assert_eq!(
            tensor!([1e-5, 1.0]).to_string(),
            "tensor([1.0000e-05, 1.0000e+00])"
        );
        assert_eq!(tensor!([true, false]).to_string(), "tensor([ True, False])");
        assert_eq!(Tensor::zeros([0, 3]).to_string(), "tensor([], size=[0, 3])");
    }

    #[test]
    fn large_tensors_are_summarised() {
        let s = Tensor::arange(2000).to_string();
        assert_eq!(s, "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])");
    }
}
