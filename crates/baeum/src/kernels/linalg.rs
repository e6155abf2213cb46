//! Dense linear algebra on small f64 matrices: LU factorisation with partial pivoting, and the
//! inverse and determinant built on it. Batches run in parallel when large.

use rayon::prelude::*;

/// Factors the row-major `n×n` matrix `a` in place into L (unit lower, below the diagonal) and
/// U (on and above it), recording row swaps in `perm`. Returns the sign of the permutation, or
/// `None` when a pivot is exactly zero or below `tol` in magnitude.
fn lu_in_place(a: &mut [f64], n: usize, perm: &mut [usize], tol: f64) -> Option<f64> {
    let mut sign = 1.0;
    for (i, p) in perm.iter_mut().enumerate() {
        *p = i;
    }
    for k in 0..n {
        // Partial pivoting: the largest magnitude in column k at or below the diagonal.
        let mut piv = k;
        let mut best = a[k * n + k].abs();
        for r in k + 1..n {
            let v = a[r * n + k].abs();
            if v > best || (best.is_nan() && !v.is_nan()) {
                best = v;
                piv = r;
            }
        }
        if best <= tol || best.is_nan() {
            return None;
        }
        if piv != k {
            for c in 0..n {
                a.swap(k * n + c, piv * n + c);
            }
            perm.swap(k, piv);
            sign = -sign;
        }
        let d = a[k * n + k];
        for r in k + 1..n {
            let f = a[r * n + k] / d;
            a[r * n + k] = f;
            if f != 0.0 {
                for c in k + 1..n {
                    a[r * n + c] -= f * a[k * n + c];
                }
            }
        }
    }
    Some(sign)
}

/// The inverse of the row-major `n×n` matrix `m`, or `None` if it is singular (a pivot of
/// magnitude at most `n · ε · max|m|`).
pub fn inverse(m: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut a = m.to_vec();
    let mut perm = vec![0; n];
    let scale = m.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    let tol = n as f64 * f64::EPSILON * scale;
    lu_in_place(&mut a, n, &mut perm, tol)?;
    // Solve L U x = P e_j for every column j of the identity.
    let mut inv = vec![0.0; n * n];
    let mut col = vec![0.0; n];
    for j in 0..n {
        for (i, c) in col.iter_mut().enumerate() {
            *c = if perm[i] == j { 1.0 } else { 0.0 };
        }
        for i in 0..n {
            let mut s = col[i];
            for k in 0..i {
                s -= a[i * n + k] * col[k];
            }
            col[i] = s;
        }
        for i in (0..n).rev() {
            let mut s = col[i];
            for k in i + 1..n {
                s -= a[i * n + k] * col[k];
            }
            col[i] = s / a[i * n + i];
        }
        for i in 0..n {
            inv[i * n + j] = col[i];
        }
    }
    Some(inv)
}

/// The determinant of the row-major `n×n` matrix `m` (0 when a pivot is exactly zero).
pub fn det(m: &[f64], n: usize) -> f64 {
    let mut a = m.to_vec();
    let mut perm = vec![0; n];
    match lu_in_place(&mut a, n, &mut perm, 0.0) {
        None => {
            if m.iter().any(|v| v.is_nan()) {
                f64::NAN
            } else {
                0.0
            }
        }
        Some(sign) => (0..n).fold(sign, |p, i| p * a[i * n + i]),
    }
}

/// Runs `f` on each `n×n` matrix of a contiguous batch, in parallel when the work is large.
pub fn per_matrix<R: Send>(data: &[f64], n: usize, f: impl Fn(&[f64]) -> R + Sync) -> Vec<R> {
    let size = (n * n).max(1);
    let batch = if n == 0 { 0 } else { data.len() / size };
    if batch > 1 && batch * n * n * n >= super::PARALLEL_THRESHOLD {
        data.par_chunks(size).map(&f).collect()
    } else {
        data.chunks(size).take(batch).map(&f).collect()
    }
}
