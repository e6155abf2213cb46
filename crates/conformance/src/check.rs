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
        let mut first = None;
        let mut max_abs = 0f64;
        for (i, (&b, &a)) in e.iter().zip(&g).enumerate() {
            let ok = if a.is_nan() || b.is_nan() {
                a.is_nan() && b.is_nan()
            } else if a.is_infinite() || b.is_infinite() {
                a == b
            } else {
                let d = (a - b).abs();
                max_abs = max_abs.max(d);
                d <= tol.atol + tol.rtol * b.abs()
            };
            if !ok {
                bad += 1;
                first.get_or_insert((i, b, a));
            }
        }
        if let Some((i, b, a)) = first {
            return Err(format!(
                "{bad}/{n} elements out of tolerance (rtol={}, atol={}); max_abs_err={max_abs:.3e}; first at flat index {i}: expected {b:?} got {a:?}",
                tol.rtol, tol.atol
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
