//! Comparing produced tensors with expected ones, with the rules of `check_npy_case.py`:
//! shape and dtype exact; floats `|got - expected| <= atol + rtol * |expected|` computed in f64,
//! NaN equal to NaN, infinities equal only to themselves; integers and bools exact.

use baeum::{DType, Tensor};

use crate::case::Tolerance;

/// `Ok(())` if `got` matches `expected`, else a one-line reason.
pub fn compare(expected: &Tensor, got: &Tensor, tol: Tolerance) -> Result<(), String> {
    if expected.dims() != got.dims() {
        return Err(format!(
            "shape mismatch: expected {:?}, got {:?}",
            expected.dims(),
            got.dims()
        ));
    }
    if expected.dtype() != got.dtype() {
        return Err(format!(
            "dtype mismatch: expected {}, got {}",
            expected.dtype(),
            got.dtype()
        ));
    }
    let n = expected.numel();
    if expected.dtype().is_float() {
        let (e, g) = (expected.to_vec::<f64>(), got.to_vec::<f64>());
        let mut bad = 0usize;
        let mut max_abs = 0f64;
        // The element furthest outside its bound, by error / allowed error (∞ for a NaN or
        // infinity mismatch), so the report shows the worst offender rather than the first.
        let mut worst: Option<(f64, usize)> = None;
        for (i, (&b, &a)) in e.iter().zip(&g).enumerate() {
            let excess = if a.is_nan() || b.is_nan() {
                (a.is_nan() != b.is_nan()).then_some(f64::INFINITY)
            } else if a.is_infinite() || b.is_infinite() {
                (a != b).then_some(f64::INFINITY)
            } else {
                let d = (a - b).abs();
                max_abs = max_abs.max(d);
                let allowed = tol.atol + tol.rtol * b.abs();
                (d > allowed).then(|| d / allowed)
            };
            if let Some(x) = excess {
                bad += 1;
                if worst.is_none_or(|(w, _)| x > w) {
                    worst = Some((x, i));
                }
            }
        }
        if let Some((_, i)) = worst {
            let (b, a) = (e[i], g[i]);
            return Err(format!(
                "{bad}/{n} elements out of tolerance (rtol={}, atol={}); max_abs_err={max_abs:.3e}; worst at {:?} (flat {i}): expected {b:?} got {a:?} (abs err {:.3e}, rel err {:.3e})",
                tol.rtol,
                tol.atol,
                unravel(i, expected.dims()),
                (a - b).abs(),
                (a - b).abs() / b.abs(),
            ));
        }
        return Ok(());
    }
    let (e, g) = if expected.dtype() == DType::Bool {
        (
            expected
                .to_vec::<bool>()
                .into_iter()
                .map(i64::from)
                .collect(),
            got.to_vec::<bool>().into_iter().map(i64::from).collect(),
        )
    } else {
        (expected.to_vec::<i64>(), got.to_vec::<i64>())
    };
    let bad = e.iter().zip(&g).filter(|(a, b)| a != b).count();
    if let Some((i, (b, a))) = e.iter().zip(&g).enumerate().find(|(_, (a, b))| a != b) {
        return Err(format!(
            "{bad}/{n} elements differ; first at flat index {i}: expected {b} got {a}"
        ));
    }
    Ok(())
}

/// The multi-dimensional index of flat (row-major) position `i` in `dims`.
fn unravel(mut i: usize, dims: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; dims.len()];
    for (k, &d) in dims.iter().enumerate().rev() {
        if d > 0 {
            idx[k] = i % d;
            i /= d;
        }
    }
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_rules() {
        let t = Tolerance::default();
        let e = Tensor::from_vec(vec![1.0f32, f32::NAN, f32::INFINITY, 0.0], [4]);
        assert!(compare(&e, &e, t).is_ok());
        let g = Tensor::from_vec(vec![1.00005f32, f32::NAN, f32::INFINITY, 5e-6], [4]);
        assert!(compare(&e, &g, t).is_ok());
        let g = Tensor::from_vec(vec![1.0f32, 0.0, f32::INFINITY, 0.0], [4]);
        assert!(compare(&e, &g, t).unwrap_err().contains("1/4"));
        let g = Tensor::from_vec(vec![1.0f32, f32::NAN, f32::NEG_INFINITY, 0.0], [4]);
        assert!(compare(&e, &g, t).is_err());
        // The report names the worst element, not the first.
        let e6 = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
        let g6 = Tensor::from_vec(vec![1.001f64, 2.0, 3.0, 4.0, 5.5, 6.0], [2, 3]);
        let msg = compare(&e6, &g6, t).unwrap_err();
        assert!(msg.starts_with("2/6 elements"), "{msg}");
        assert!(
            msg.contains("worst at [1, 1] (flat 4): expected 5.0 got 5.5"),
            "{msg}"
        );
        assert!(compare(&e, &e.to_f64(), t).unwrap_err().contains("dtype"));
        assert!(
            compare(&e, &e.reshape(&[2, 2]), t)
                .unwrap_err()
                .contains("shape")
        );
    }

    #[test]
    fn exact_rules() {
        let t = Tolerance::default();
        let e = Tensor::from_vec(vec![1i64, 2, 3], [3]);
        assert!(compare(&e, &e, t).is_ok());
        let g = Tensor::from_vec(vec![1i64, 2, 4], [3]);
        assert!(compare(&e, &g, t).unwrap_err().contains("expected 3 got 4"));
        let b = Tensor::from_vec(vec![true, false], [2]);
        assert!(compare(&b, &b.logical_not(), t).is_err());
        assert!(compare(&b, &b, t).is_ok());
    }
}
