//! Linear algebra: `matmul` with `torch.matmul` semantics, and the course's matrix operations.
//!
//! Gradients: `matmul` records one rule for all its forms (dot, mm, bmm and outer are built on
//! it or on `mul`); `einsum` differentiates each operand with another einsum; `inverse` and
//! `det` have their closed forms. Every rule is written with differentiable operations.

use super::or_panic;
use crate::autograd::{Grads, Saved, grads, is_grad_enabled, record_op};
use crate::error::{Result, bail};
use crate::kernels::matmul::{MatmulPlan, matmul_float, matmul_int};
use crate::tensor::{DType, Element, Shape, Tensor, broadcast_shapes};
use crate::{numeric_or_panic, with_float_dtype};

impl Tensor {
    /// The matrix product with `torch.matmul` semantics: 1-D operands are promoted to a row
    /// (left) or column (right) and the added dimension removed afterwards; batch dimensions
    /// broadcast. Panics naming both shapes when the inner dimensions differ:
    /// `matmul: cannot multiply [7, 3] by [5, 3]: inner dimensions 3 and 5 differ`.
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        or_panic(self.try_matmul(other))
    }

    /// [`Tensor::matmul`] returning an error instead of panicking.
    pub fn try_matmul(&self, other: &Tensor) -> Result<Tensor> {
        let (ra, rb) = (self.rank(), other.rank());
        if ra == 0 || rb == 0 {
            bail!(
                Shape,
                "matmul: both operands need at least one dimension, got shapes {} and {}",
                self.shape(),
                other.shape()
            );
        }
        // The shapes with a 1-D left operand as a row and a 1-D right operand as a column.
        let da: Vec<usize> = if ra == 1 {
            vec![1, self.dims()[0]]
        } else {
            self.dims().to_vec()
        };
        let db: Vec<usize> = if rb == 1 {
            vec![other.dims()[0], 1]
        } else {
            other.dims().to_vec()
        };
        let (m, k) = (da[da.len() - 2], da[da.len() - 1]);
        let (k2, n) = (db[db.len() - 2], db[db.len() - 1]);
        if k != k2 {
            bail!(
                Shape,
                "matmul: cannot multiply {} by {}: inner dimensions {k} and {k2} differ",
                self.shape(),
                other.shape()
            );
        }
        let batch = match broadcast_shapes(&da[..da.len() - 2], &db[..db.len() - 2]) {
            Some(s) => s,
            None => bail!(
                Shape,
                "matmul: batch dimensions of {} and {} cannot be broadcast together",
                self.shape(),
                other.shape()
            ),
        };
        Ok(record_op(
            "matmul",
            &[self, other],
            || matmul_forward(self, other, &batch, m, k, n),
            |_, needs| matmul_rule(self, other, needs),
        ))
    }
}

/// The product of validated operands: `batch` is the broadcast batch shape, `m × k` and
/// `k × n` the matrices (1-D operands counted as a row or a column).
fn matmul_forward(x: &Tensor, y: &Tensor, batch: &Shape, m: usize, k: usize, n: usize) -> Tensor {
    let (ra, rb) = (x.rank(), y.rank());
    let a = if ra == 1 { x.unsqueeze(0) } else { x.clone() };
    let b = if rb == 1 { y.unsqueeze(1) } else { y.clone() };
    let dtype = DType::promote(a.dtype(), b.dtype());
    let (a, b) = (a.to_dtype(dtype), b.to_dtype(dtype));
    let mut sa = batch.0.clone();
    sa.extend([m, k]);
    let mut sb = batch.0.clone();
    sb.extend([k, n]);
    let la = a.layout().broadcast_to(&Shape(sa));
    let lb = b.layout().broadcast_to(&Shape(sb));
    let plan = MatmulPlan::new(&la, &lb);
    let mut out_shape = batch.0.clone();
    out_shape.extend([m, n]);
    let numel = plan.batch() * m * n;
    let out = numeric_or_panic!(dtype, "matmul", T => {
        a.with_slice::<T, _>(|da, _| b.with_slice::<T, _>(|db, _| {
            with_float_dtype!(dtype, F => {
                // SAFETY-free reinterpretation: T and F are the same type in this arm.
                let (da, db): (&[F], &[F]) = (cast_slice(da), cast_slice(db));
                Tensor::from_vec(matmul_float::<F>(da, db, &plan), Shape(out_shape))
            }, {
                let mut out = vec![T::zero(); numel];
                matmul_int::<T>(da, db, &plan, &mut out);
                Tensor::from_vec(out, Shape(out_shape))
            })
        }))
    });
    // Remove the dimensions that 1-D operands gained.
    match (ra, rb) {
        (1, 1) => out.reshape(&[]),
        (1, _) => out.squeeze_dim(-2),
        (_, 1) => out.squeeze_dim(-1),
        _ => out,
    }
}

/// The rule of `C = A·B` (as matrices, 1-D operands as a row or a column): ∂A = ∂C·Bᵀ and
/// ∂B = Aᵀ·∂C, summed over the batch dimensions the operand was broadcast along.
fn matmul_rule(
    a: &Tensor,
    b: &Tensor,
    needs: &[bool],
) -> impl Fn(&Tensor) -> Grads + Send + Sync + 'static + use<> {
    let (ra, rb) = (a.rank(), b.rank());
    // Each gradient needs the other operand.
    let sa = needs[1].then(|| Saved::new("matmul", a));
    let sb = needs[0].then(|| Saved::new("matmul", b));
    let (shape_a, shape_b) = (a.shape().clone(), b.shape().clone());
    let plain = ra == 2 && rb == 2;
    let (a_transposed, b_transposed) = (plain && column_major(a), plain && column_major(b));
    move |g: &Tensor| {
        let g2 = match (ra, rb) {
            (1, 1) => g.reshape(&[1, 1]),
            (1, _) => g.unsqueeze(-2),
            (_, 1) => g.unsqueeze(-1),
            _ => g.clone(),
        };
        let ga = sb.as_ref().map(|sb| {
            let b = sb.get();
            if a_transposed {
                // ∂A = (B·∂Cᵀ)ᵀ: computed in A's own (column-major) order, so the gradient of
                // a transposed weight comes back contiguous after the transpose's backward.
                return b.matmul(&g2.mt()).mt();
            }
            let bt = if rb == 1 { b.unsqueeze(0) } else { b.mt() };
            let ga = g2.matmul(&bt);
            let a2: Vec<usize> = if ra == 1 {
                vec![1, shape_a[0]]
            } else {
                shape_a.to_vec()
            };
            ga.sum_to_size(a2).reshape_to(shape_a.clone())
        });
        let gb = sa.as_ref().map(|sa| {
            let a = sa.get();
            if b_transposed {
                // ∂B = (∂Cᵀ·A)ᵀ, in B's column-major order (a Linear layer's `weight.t()`).
                return g2.mt().matmul(a).mt();
            }
            let at = if ra == 1 { a.unsqueeze(1) } else { a.mt() };
            let gb = at.matmul(&g2);
            let b2: Vec<usize> = if rb == 1 {
                vec![shape_b[0], 1]
            } else {
                shape_b.to_vec()
            };
            gb.sum_to_size(b2).reshape_to(shape_b.clone())
        });
        grads([ga, gb])
    }
}

/// Whether `t` is a matrix stored column by column (a transposed contiguous matrix): the order
/// its gradient is best computed in (for plain 2-D products; batched ones may broadcast).
fn column_major(t: &Tensor) -> bool {
    let l = t.layout();
    l.rank() == 2 && !l.is_contiguous() && l.strides[0] == 1 && l.strides[1] == l.shape[0]
}

/// Views a slice of `T` as `U` where the two are the same type (checked at run time).
fn cast_slice<T: 'static, U: 'static>(s: &[T]) -> &[U] {
    assert_eq!(std::any::TypeId::of::<T>(), std::any::TypeId::of::<U>());
    // SAFETY: T and U are the same type.
    unsafe { std::slice::from_raw_parts(s.as_ptr() as *const U, s.len()) }
}

/// Label ids: `A`–`Z` are 0–25, `a`–`z` 26–51, and ellipsis dimensions 52 onwards.
const ELLIPSIS_BASE: usize = 52;

fn label_id(c: char) -> Option<usize> {
    match c {
        'A'..='Z' => Some(c as usize - 'A' as usize),
        'a'..='z' => Some(c as usize - 'a' as usize + 26),
        _ => None,
    }
}

fn label_name(id: usize) -> String {
    match id {
        0..=25 => ((b'A' + id as u8) as char).to_string(),
        26..=51 => ((b'a' + (id - 26) as u8) as char).to_string(),
        _ => format!("...[{}]", id - ELLIPSIS_BASE),
    }
}

/// One side of an einsum equation: its letters (as ids) and where its ellipsis sits, if any.
struct Term {
    before: Vec<usize>,
    after: Option<Vec<usize>>,
}

impl Term {
    fn parse(eq: &str, s: &str) -> Result<Term> {
        let mut before = Vec::new();
        let mut after: Option<Vec<usize>> = None;
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            if let Some(r) = rest.strip_prefix("...") {
                if after.is_some() {
                    bail!(
                        Invalid,
                        "einsum: more than one ellipsis in term {s:?} of {eq:?}"
                    );
                }
                after = Some(Vec::new());
                rest = r;
                continue;
            }
            let Some(id) = label_id(c) else {
                bail!(
                    Invalid,
                    "einsum: invalid character {c:?} in {eq:?} (subscripts are letters a-z, A-Z and '...')"
                );
            };
            match after.as_mut() {
                Some(a) => a.push(id),
                None => before.push(id),
            }
            rest = &rest[c.len_utf8()..];
        }
        Ok(Term { before, after })
    }

    fn letters(&self) -> usize {
        self.before.len() + self.after.as_ref().map_or(0, |a| a.len())
    }

    /// The labels of every dimension, with `e` ellipsis dims right-aligned among `total`.
    fn labels(&self, e: usize, total: usize) -> Vec<usize> {
        let mut l = self.before.clone();
        if let Some(a) = &self.after {
            l.extend((total - e..total).map(|j| ELLIPSIS_BASE + j));
            l.extend(a);
        }
        l
    }
}

/// A tensor whose dimensions carry einsum labels (unique within it).
struct Labelled {
    t: Tensor,
    labels: Vec<usize>,
}

impl Labelled {
    /// The labels not in `keep`, summed out.
    fn sum_except(self, keep: &[usize]) -> Labelled {
        let gone: Vec<isize> = (0..self.labels.len())
            .filter(|&i| !keep.contains(&self.labels[i]))
            .map(|i| i as isize)
            .collect();
        if gone.is_empty() {
            return self;
        }
        let dtype = self.t.dtype();
        let labels = self
            .labels
            .iter()
            .copied()
            .filter(|l| keep.contains(l))
            .collect();
        Labelled {
            t: self.t.sum_dims(&gone, false).to_dtype(dtype),
            labels,
        }
    }

    /// The tensor with its dims in the order of `order` (labels it has), expanded to `sizes`.
    fn arranged(&self, order: &[usize], sizes: &[usize; 64]) -> Tensor {
        let perm: Vec<isize> = order
            .iter()
            .map(|l| {
                self.labels
                    .iter()
                    .position(|x| x == l)
                    .expect("label present") as isize
            })
            .collect();
        let target: Vec<isize> = order.iter().map(|&l| sizes[l] as isize).collect();
        self.t.permute(&perm).expand(&target)
    }
}

/// Contracts two labelled operands, keeping the labels in `keep`, with one batched matmul (or
/// a broadcast product when nothing is summed).
fn contract(a: Labelled, b: Labelled, keep: &[usize], sizes: &[usize; 64]) -> Labelled {
    let mut keep_a: Vec<usize> = keep.to_vec();
    keep_a.extend(&b.labels);
    let mut keep_b: Vec<usize> = keep.to_vec();
    keep_b.extend(&a.labels);
    let a = a.sum_except(&keep_a);
    let b = b.sum_except(&keep_b);
    let shared = |l: &usize| b.labels.contains(l);
    let batch: Vec<usize> = a
        .labels
        .iter()
        .copied()
        .filter(|l| shared(l) && keep.contains(l))
        .collect();
    let summed: Vec<usize> = a
        .labels
        .iter()
        .copied()
        .filter(|l| shared(l) && !keep.contains(l))
        .collect();
    let left: Vec<usize> = a.labels.iter().copied().filter(|l| !shared(l)).collect();
    let right: Vec<usize> = b
        .labels
        .iter()
        .copied()
        .filter(|l| !a.labels.contains(l))
        .collect();
    let size_of = |ls: &[usize], t: &Labelled| -> Vec<usize> {
        ls.iter()
            .map(|l| {
                if batch.contains(l) || summed.contains(l) {
                    sizes[*l]
                } else {
                    t.t.dims()[t.labels.iter().position(|x| x == l).expect("label")]
                }
            })
            .collect()
    };
    let (bs, ls, ks, rs) = (
        size_of(&batch, &a),
        size_of(&left, &a),
        size_of(&summed, &a),
        size_of(&right, &b),
    );
    let (nb, m, k, n) = (
        bs.iter().product::<usize>(),
        ls.iter().product::<usize>(),
        ks.iter().product::<usize>(),
        rs.iter().product::<usize>(),
    );
    let order_a: Vec<usize> = [&batch[..], &left[..], &summed[..]].concat();
    let order_b: Vec<usize> = [&batch[..], &summed[..], &right[..]].concat();
    let mut sz = *sizes;
    for (l, s) in left.iter().zip(&ls) {
        sz[*l] = *s;
    }
    for (l, s) in right.iter().zip(&rs) {
        sz[*l] = *s;
    }
    let ta = a.arranged(&order_a, &sz);
    let tb = b.arranged(&order_b, &sz);
    let (nb, m, k, n) = (nb as isize, m as isize, k as isize, n as isize);
    let prod = if summed.is_empty() {
        ta.reshape(&[nb, m, 1]).mul(&tb.reshape(&[nb, 1, n]))
    } else {
        ta.reshape(&[nb, m, k]).matmul(&tb.reshape(&[nb, k, n]))
    };
    let shape: Vec<isize> = [&bs[..], &ls[..], &rs[..]]
        .concat()
        .iter()
        .map(|&s| s as isize)
        .collect();
    Labelled {
        t: prod.reshape(&shape),
        labels: [&batch[..], &left[..], &right[..]].concat(),
    }
}

impl Tensor {
    /// The dot product of two 1-D tensors of the same length, as a 0-d tensor.
    pub fn dot(&self, other: &Tensor) -> Tensor {
        assert!(
            self.rank() == 1 && other.rank() == 1,
            "dot: expects two 1-D tensors, got shapes {} and {}",
            self.shape(),
            other.shape()
        );
        assert!(
            self.numel() == other.numel(),
            "dot: cannot multiply {} by {}: lengths differ",
            self.shape(),
            other.shape()
        );
        self.matmul(other)
    }

    /// The outer product of two 1-D tensors: `[n] × [m] → [n, m]`.
    pub fn outer(&self, other: &Tensor) -> Tensor {
        assert!(
            self.rank() == 1 && other.rank() == 1,
            "outer: expects two 1-D tensors, got shapes {} and {}",
            self.shape(),
            other.shape()
        );
        self.unsqueeze(1).mul(&other.unsqueeze(0))
    }

    /// The product of two matrices (`[n, k] × [k, m]`), without broadcasting.
    pub fn mm(&self, other: &Tensor) -> Tensor {
        assert!(
            self.rank() == 2 && other.rank() == 2,
            "mm: expects two 2-D tensors, got shapes {} and {}",
            self.shape(),
            other.shape()
        );
        self.matmul(other)
    }

    /// Batched matrix product (`[b, n, k] × [b, k, m]`), without broadcasting.
    pub fn bmm(&self, other: &Tensor) -> Tensor {
        assert!(
            self.rank() == 3 && other.rank() == 3 && self.dims()[0] == other.dims()[0],
            "bmm: expects two 3-D tensors with the same batch size, got shapes {} and {}",
            self.shape(),
            other.shape()
        );
        self.matmul(other)
    }

    /// Einstein summation, as `torch.einsum`: `"ij,jk->ik"` is a matrix product, `"ii->i"` a
    /// diagonal, `"ii"` a trace, `"...ij->...ji"` a batched transpose. Without `->` the output
    /// holds the ellipsis dimensions and then the labels that appear once, in alphabetical
    /// order (upper case first). Size-1 dimensions broadcast. Panics on a malformed equation
    /// or mismatched shapes; see [`Tensor::try_einsum`].
    ///
    /// Differentiable in every operand, to any order: each operand's gradient is another
    /// einsum of the upstream gradient with the other operands, spread over the diagonal for
    /// repeated subscripts and repeated along subscripts only that operand has.
    pub fn einsum(equation: &str, operands: &[&Tensor]) -> Tensor {
        or_panic(Tensor::try_einsum(equation, operands))
    }

    /// [`Tensor::einsum`] returning an error instead of panicking.
    pub fn try_einsum(equation: &str, operands: &[&Tensor]) -> Result<Tensor> {
        let eq: String = equation.chars().filter(|c| !c.is_whitespace()).collect();
        let (lhs, rhs) = match eq.split_once("->") {
            Some((l, r)) => {
                if r.contains("->") {
                    bail!(Invalid, "einsum: more than one '->' in {equation:?}");
                }
                (l, Some(r))
            }
            None => (eq.as_str(), None),
        };
        let terms = lhs
            .split(',')
            .map(|s| Term::parse(equation, s))
            .collect::<Result<Vec<_>>>()?;
        if operands.is_empty() || terms.len() != operands.len() {
            bail!(
                Invalid,
                "einsum: {equation:?} has {} input terms but {} operands were given",
                terms.len(),
                operands.len()
            );
        }
        // Ellipsis widths, and each operand's labels.
        let mut ell = Vec::with_capacity(terms.len());
        for (i, (t, x)) in terms.iter().zip(operands).enumerate() {
            let r = x.rank();
            let e = if t.after.is_some() {
                match r.checked_sub(t.letters()) {
                    Some(e) => e,
                    None => bail!(
                        Shape,
                        "einsum: operand {i} of shape {} has fewer dimensions than subscripts in {equation:?}",
                        x.shape()
                    ),
                }
            } else {
                if r != t.letters() {
                    bail!(
                        Shape,
                        "einsum: operand {i} of shape {} has {r} dimensions but {} subscripts in {equation:?}",
                        x.shape(),
                        t.letters()
                    );
                }
                0
            };
            ell.push(e);
        }
        let total_ell = ell.iter().copied().max().unwrap_or(0);
        if ELLIPSIS_BASE + total_ell > 64 {
            bail!(
                Invalid,
                "einsum: too many ellipsis dimensions in {equation:?}"
            );
        }
        let labels: Vec<Vec<usize>> = terms
            .iter()
            .zip(&ell)
            .map(|(t, &e)| t.labels(e, total_ell))
            .collect();
        // Sizes per label: equal, or 1 (broadcast).
        let mut sizes = [0usize; 64];
        let mut seen = [false; 64];
        let mut count = [0usize; 64];
        for (i, (ls, x)) in labels.iter().zip(operands).enumerate() {
            for (d, &l) in ls.iter().enumerate() {
                count[l] += 1;
                let s = x.dims()[d];
                if ls[..d].contains(&l) {
                    let first = ls.iter().position(|&y| y == l).expect("label");
                    if x.dims()[first] != s {
                        bail!(
                            Shape,
                            "einsum: subscript {} is repeated in operand {i} of shape {} but its dimensions differ ({} and {s})",
                            label_name(l),
                            x.shape(),
                            x.dims()[first]
                        );
                    }
                }
                if !seen[l] || sizes[l] == 1 {
                    sizes[l] = s;
                } else if s != sizes[l] && s != 1 {
                    bail!(
                        Shape,
                        "einsum: subscript {} has size {} in an earlier operand but {s} in operand {i} (shape {}) in {equation:?}",
                        label_name(l),
                        sizes[l],
                        x.shape()
                    );
                }
                seen[l] = true;
            }
        }
        // Output labels.
        let out: Vec<usize> = match rhs {
            Some(r) => {
                let t = Term::parse(equation, r)?;
                let o = t.labels(total_ell, total_ell);
                for (j, &l) in o.iter().enumerate() {
                    if l < ELLIPSIS_BASE && !seen[l] {
                        bail!(
                            Invalid,
                            "einsum: output subscript {} does not appear in the inputs of {equation:?}",
                            label_name(l)
                        );
                    }
                    if o[..j].contains(&l) {
                        bail!(
                            Invalid,
                            "einsum: output subscript {} appears more than once in {equation:?}",
                            label_name(l)
                        );
                    }
                }
                o
            }
            None => {
                let mut o: Vec<usize> = (ELLIPSIS_BASE..ELLIPSIS_BASE + total_ell).collect();
                o.extend((0..ELLIPSIS_BASE).filter(|&l| count[l] == 1));
                o
            }
        };
        Ok(einsum_labelled(operands, &labels, &out, &sizes))
    }

    /// The inverse of a square matrix, or of each matrix in a batch `[..., n, n]`, by LU
    /// factorisation with partial pivoting in f64. Float dtypes are kept; integer input gives
    /// f32. Panics for a singular matrix; see [`Tensor::try_inverse`].
    ///
    /// The gradient is −A⁻ᵀ·∂C·A⁻ᵀ.
    pub fn inverse(&self) -> Tensor {
        or_panic(self.try_inverse())
    }

    /// [`Tensor::inverse`] returning an error (`inverse: matrix is singular`) instead.
    pub fn try_inverse(&self) -> Result<Tensor> {
        let n = square_size("inverse", self)?;
        let inv = crate::autograd::no_grad(|| -> Result<Tensor> {
            let data = self.to_vec::<f64>();
            let results = crate::kernels::linalg::per_matrix(&data, n, |m| {
                crate::kernels::linalg::inverse(m, n)
            });
            let mut out = Vec::with_capacity(data.len());
            for (i, r) in results.into_iter().enumerate() {
                match r {
                    Some(v) => out.extend(v),
                    None if self.rank() == 2 => bail!(Invalid, "inverse: matrix is singular"),
                    None => bail!(
                        Invalid,
                        "inverse: matrix is singular (matrix {i} of the batch of shape {})",
                        self.shape()
                    ),
                }
            }
            Ok(Tensor::from_vec(out, self.shape().clone()).to_dtype(float_dtype(self)))
        })?;
        Ok(record_op(
            "inverse",
            &[self],
            move || inv,
            |out, _| {
                let (sa, so) = (Saved::new("inverse", self), Saved::output("inverse", out));
                move |g: &Tensor| {
                    // Under create_graph the inverse must carry its graph: recompute it.
                    let inv = if is_grad_enabled() {
                        sa.get().inverse()
                    } else {
                        so.get().clone()
                    };
                    let it = inv.mt();
                    grads([Some(it.matmul(g).matmul(&it) * -1.0)])
                }
            },
        ))
    }

    /// The determinant of a square matrix, or of each matrix in a batch `[..., n, n]` (LU with
    /// partial pivoting in f64; exactly singular matrices give 0).
    ///
    /// The gradient is ∂C·det(A)·A⁻ᵀ. When the LU factorisation finds a matrix of the batch
    /// singular, the batch's gradient is computed without the inverse, as the matrix of
    /// cofactors (signed determinants of the (n−1)×(n−1) minors, O(n⁵) per matrix), so
    /// singular matrices get their true gradient too.
    pub fn det(&self) -> Tensor {
        let n = or_panic(square_size("det", self));
        let batch_shape = Shape::from(&self.dims()[..self.rank() - 2]);
        record_op(
            "det",
            &[self],
            || {
                let out: Vec<f64> = if n == 0 {
                    vec![1.0; batch_shape.numel()]
                } else {
                    let data = self.to_vec::<f64>();
                    crate::kernels::linalg::per_matrix(&data, n, |m| {
                        crate::kernels::linalg::det(m, n)
                    })
                };
                Tensor::from_vec(out, batch_shape).to_dtype(float_dtype(self))
            },
            |out, _| {
                let (sa, so) = (Saved::new("det", self), Saved::output("det", out));
                move |g: &Tensor| {
                    let a = sa.get();
                    let g = g.unsqueeze(-1).unsqueeze(-1);
                    let grad = match a.try_inverse() {
                        Ok(inv) => {
                            let det = if is_grad_enabled() {
                                a.det()
                            } else {
                                so.get().clone()
                            };
                            g * det.unsqueeze(-1).unsqueeze(-1) * inv.mt()
                        }
                        Err(_) => g * cofactors(a),
                    };
                    grads([Some(grad)])
                }
            },
        )
    }
}

/// The cofactor matrix of each matrix in `a` (`[..., n, n]`): C_ij = (−1)^(i+j)·det(M_ij),
/// M_ij being `a` without row i and column j; equal to det(A)·A⁻ᵀ where A is invertible.
/// All n² minors are cut out with two `index_select`s and go through one batched `det`, so
/// the result is differentiable.
fn cofactors(a: &Tensor) -> Tensor {
    let r = a.rank();
    let n = a.dims()[r - 1];
    if n <= 1 {
        // The cofactor of a 1×1 matrix is det of the empty matrix: 1.
        return a.ones_like();
    }
    let others: Vec<i64> = (0..n)
        .flat_map(|i| (0..n).filter(move |&j| j != i))
        .map(|j| j as i64)
        .collect();
    let others = Tensor::from_vec(others, [n * (n - 1)]);
    let batch: Vec<isize> = a.dims()[..r - 2].iter().map(|&d| d as isize).collect();
    let (n, m) = (n as isize, n as isize - 1);
    let shape = |tail: &[isize]| [&batch[..], tail].concat();
    // [..., i, row, col] with row ≠ i, then [..., i, row, j, col] with col ≠ j.
    let rows = a.index_select(-2, &others).reshape(&shape(&[n, m, n]));
    let minors = rows
        .index_select(-1, &others)
        .reshape(&shape(&[n, m, n, m]));
    let mut perm: Vec<isize> = (0..r as isize - 2).collect();
    let b = r as isize - 2;
    perm.extend([b, b + 2, b + 1, b + 3]);
    let dets = minors.permute(&perm).det();
    let signs: Vec<f64> = (0..n * n)
        .map(|k| if (k / n + k % n) % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    dets * Tensor::from_vec(signs, [n as usize, n as usize]).to_dtype(a.dtype())
}

/// The einsum of `operands` whose dimensions carry `labels` (validated, with the size of
/// every label in `sizes`), giving the labels `out` in that order. Records one node whose rule
/// is an einsum per operand.
fn einsum_labelled(
    operands: &[&Tensor],
    labels: &[Vec<usize>],
    out: &[usize],
    sizes: &[usize; 64],
) -> Tensor {
    record_op(
        "einsum",
        operands,
        || einsum_forward(operands, labels, out, sizes),
        |_, needs| {
            // Operand j's gradient needs every other operand: keep those some gradient needs.
            let saved: Vec<Option<Saved>> = operands
                .iter()
                .enumerate()
                .map(|(j, t)| {
                    let used = (0..needs.len()).any(|i| i != j && needs[i]);
                    used.then(|| Saved::new("einsum", t))
                })
                .collect();
            let shapes: Vec<Shape> = operands.iter().map(|t| t.shape().clone()).collect();
            let (labels, out, sizes, needs) =
                (labels.to_vec(), out.to_vec(), *sizes, needs.to_vec());
            move |g: &Tensor| {
                let ops: Vec<Option<&Tensor>> =
                    saved.iter().map(|s| s.as_ref().map(Saved::get)).collect();
                (0..ops.len())
                    .map(|i| {
                        needs[i].then(|| {
                            einsum_operand_grad(g, &ops, i, &labels, &out, &sizes)
                                .sum_to_size(shapes[i].clone())
                        })
                    })
                    .collect()
            }
        },
    )
}

/// ∂L/∂operand i of an einsum, in the broadcast sizes (the caller sums size-1 dimensions
/// back). The operand's unique labels come from an einsum of `g` (labelled `out`) with the
/// other operands; labels that appear nowhere else were summed out, so that gradient is
/// repeated along them; a label repeated in the operand (a diagonal) gets the gradient on
/// the diagonal and zeros off it.
fn einsum_operand_grad(
    g: &Tensor,
    ops: &[Option<&Tensor>],
    i: usize,
    labels: &[Vec<usize>],
    out: &[usize],
    sizes: &[usize; 64],
) -> Tensor {
    let ls = &labels[i];
    let mut uniq: Vec<usize> = Vec::new();
    for &l in ls {
        if !uniq.contains(&l) {
            uniq.push(l);
        }
    }
    let mut g_ops: Vec<&Tensor> = vec![g];
    let mut g_labels: Vec<Vec<usize>> = vec![out.to_vec()];
    for (j, (op, l)) in ops.iter().zip(labels).enumerate() {
        if j != i {
            g_ops.push(op.expect("einsum: operands other than i are saved"));
            g_labels.push(l.clone());
        }
    }
    let present: Vec<usize> = uniq
        .iter()
        .copied()
        .filter(|l| g_labels.iter().any(|ls| ls.contains(l)))
        .collect();
    let t = einsum_labelled(&g_ops, &g_labels, &present, sizes);
    let full: Vec<usize> = uniq.iter().map(|&l| sizes[l]).collect();
    let t = if present.len() < uniq.len() {
        let kept: Vec<usize> = uniq
            .iter()
            .map(|l| if present.contains(l) { sizes[*l] } else { 1 })
            .collect();
        t.reshape_to(kept).broadcast_to(full)
    } else {
        t
    };
    if uniq.len() == ls.len() {
        return t;
    }
    // Spread over the repeated dimensions: first occurrences keep their size, repeats get 1,
    // then an identity matrix between each repeat and its first occurrence.
    let first: Vec<usize> = ls
        .iter()
        .map(|l| ls.iter().position(|x| x == l).expect("label"))
        .collect();
    let spread: Vec<usize> = (0..ls.len())
        .map(|p| if first[p] == p { sizes[ls[p]] } else { 1 })
        .collect();
    let mut t = t.reshape_to(spread);
    for p in (0..ls.len()).filter(|&p| first[p] != p) {
        let n = sizes[ls[p]];
        let mut eye_shape = vec![1usize; ls.len()];
        eye_shape[first[p]] = n;
        eye_shape[p] = n;
        let eye = Tensor::eye_dtype(n, n, t.dtype()).reshape_to(eye_shape);
        t = t * eye;
    }
    t
}

/// The einsum computation proper (see [`einsum_labelled`]).
fn einsum_forward(
    operands: &[&Tensor],
    labels: &[Vec<usize>],
    out: &[usize],
    sizes: &[usize; 64],
) -> Tensor {
    // Common dtype, then diagonals of repeated labels as strided views.
    let dtype = operands
        .iter()
        .map(|x| x.dtype())
        .reduce(DType::promote)
        .expect("operands");
    let mut ops: Vec<Labelled> = Vec::with_capacity(operands.len());
    for (x, ls) in operands.iter().zip(labels) {
        let x = x.to_dtype(dtype);
        let mut uniq: Vec<usize> = Vec::new();
        let mut shape = crate::tensor::Dims::new();
        let mut strides = crate::tensor::Dims::new();
        for (d, &l) in ls.iter().enumerate() {
            match uniq.iter().position(|&u| u == l) {
                Some(p) => strides[p] += x.strides()[d],
                None => {
                    uniq.push(l);
                    shape.push(x.dims()[d]);
                    strides.push(x.strides()[d]);
                }
            }
        }
        let t = if uniq.len() == ls.len() {
            x
        } else {
            x.view_with(crate::tensor::Layout {
                shape: Shape(shape),
                strides,
                offset: x.layout().offset,
            })
        };
        ops.push(Labelled { t, labels: uniq });
    }
    // Contract left to right, keeping what the output or a later operand needs.
    let mut later: Vec<Vec<usize>> = vec![Vec::new(); ops.len()];
    for i in (0..ops.len().saturating_sub(1)).rev() {
        let mut l = later[i + 1].clone();
        l.extend(&ops[i + 1].labels);
        later[i] = l;
    }
    let mut iter = ops.into_iter().enumerate();
    let (_, first) = iter.next().expect("operands");
    let mut keep0 = out.to_vec();
    keep0.extend(&later[0]);
    let mut acc = first.sum_except(&keep0);
    for (i, next) in iter {
        let mut keep = out.to_vec();
        keep.extend(&later[i]);
        acc = contract(acc, next, &keep, sizes);
    }
    let acc = acc.sum_except(out);
    let perm: Vec<isize> = out
        .iter()
        .map(|l| {
            acc.labels
                .iter()
                .position(|x| x == l)
                .expect("output label") as isize
        })
        .collect();
    let target: Vec<usize> = out.iter().map(|&l| sizes[l]).collect();
    let res = acc.t.permute(&perm);
    let res = if res.dims() == target.as_slice() {
        res
    } else {
        res.broadcast_to(Shape::from(target))
    };
    res.contiguous().to_dtype(dtype)
}

/// `n` for a tensor of shape `[..., n, n]`, or an error naming `op` and the shape.
fn square_size(op: &str, x: &Tensor) -> Result<usize> {
    let r = x.rank();
    if r < 2 || x.dims()[r - 1] != x.dims()[r - 2] {
        bail!(
            Shape,
            "{op}: expects a square matrix or a batch of them ([..., n, n]), got shape {}",
            x.shape()
        );
    }
    Ok(x.dims()[r - 1])
}

/// The dtype of a float result: the input's when it is a float, f32 otherwise.
fn float_dtype(x: &Tensor) -> DType {
    if x.dtype().is_float() {
        x.dtype()
    } else {
        DType::F32
    }
}

#[cfg(test)]
mod tests {
    use crate::tensor;
    use crate::tensor::random::Generator;
    use crate::{DType, Tensor};

    fn assert_close(got: &Tensor, want: &Tensor, tol: f64, what: &str) {
        assert_eq!(got.dims(), want.dims(), "{what}: shape");
        for (i, (a, b)) in got
            .to_vec::<f64>()
            .iter()
            .zip(want.to_vec::<f64>())
            .enumerate()
        {
            assert!(
                (a - b).abs() <= tol * (1.0 + b.abs()),
                "{what}: element {i}: got {a}, want {b}"
            );
        }
    }

    /// Naive einsum over explicit letter equations: loops over every assignment of the labels.
    fn naive_einsum(eq: &str, ops: &[&Tensor]) -> Tensor {
        let (lhs, out) = eq.split_once("->").unwrap();
        let terms: Vec<Vec<char>> = lhs.split(',').map(|t| t.chars().collect()).collect();
        let out: Vec<char> = out.chars().collect();
        let mut labels: Vec<char> = Vec::new();
        let mut size = std::collections::HashMap::new();
        for (t, x) in terms.iter().zip(ops) {
            for (d, &c) in t.iter().enumerate() {
                if !labels.contains(&c) {
                    labels.push(c);
                }
                size.insert(c, x.dims()[d]);
            }
        }
        let vals: Vec<Vec<f64>> = ops.iter().map(|x| x.to_vec::<f64>()).collect();
        let out_shape: Vec<usize> = out.iter().map(|c| size[c]).collect();
        let mut res = vec![0.0; out_shape.iter().product()];
        let total: usize = labels.iter().map(|c| size[c]).product();
        for flat in 0..total {
            let mut rem = flat;
            let mut at = std::collections::HashMap::new();
            for c in labels.iter().rev() {
                at.insert(*c, rem % size[c]);
                rem /= size[c];
            }
            let mut p = 1.0;
            for ((t, x), v) in terms.iter().zip(ops).zip(&vals) {
                let off = t
                    .iter()
                    .enumerate()
                    .fold(0, |o, (d, c)| o * x.dims()[d] + at[c]);
                p *= v[off];
            }
            let o = out.iter().fold(0, |o, c| o * size[c] + at[c]);
            res[o] += p;
        }
        Tensor::from_vec(res, out_shape)
    }

    #[test]
    fn einsum_matches_a_naive_reference() {
        let mut g = Generator::new(5);
        let cases: &[(&str, &[&[usize]])] = &[
            ("ij,jk->ik", &[&[3, 4], &[4, 5]]),
            ("ij,jk->ki", &[&[3, 4], &[4, 2]]),
            ("bij,bjk->bik", &[&[2, 3, 4], &[2, 4, 3]]),
            ("ii->i", &[&[4, 4]]),
            ("ii->", &[&[3, 3]]),
            ("i,j->ij", &[&[3], &[4]]),
            ("ij,ij->ij", &[&[2, 3], &[2, 3]]),
            ("ij,ij->", &[&[2, 3], &[2, 3]]),
            ("ijk->kji", &[&[2, 3, 4]]),
            ("ijk->j", &[&[2, 3, 4]]),
            ("bii->bi", &[&[2, 3, 3]]),
            ("iij->ji", &[&[3, 3, 2]]),
            ("ij,jk,kl->il", &[&[2, 3], &[3, 4], &[4, 2]]),
            ("ab,cd,bd->ac", &[&[2, 3], &[4, 5], &[3, 5]]),
            ("aij,jk->aik", &[&[2, 3, 4], &[4, 0]]),
            ("ij,kj->ikj", &[&[2, 3], &[4, 3]]),
            ("ijkl,jl->ik", &[&[2, 3, 2, 4], &[3, 4]]),
        ];
        for (eq, shapes) in cases {
            let xs: Vec<Tensor> = shapes
                .iter()
                .map(|s| Tensor::normal_with(*s, 0.0, 1.0, DType::F64, &mut g))
                .collect();
            let refs: Vec<&Tensor> = xs.iter().collect();
            let got = Tensor::einsum(eq, &refs);
            assert_close(&got, &naive_einsum(eq, &refs), 1e-10, eq);
            // The same on transposed (non-contiguous) operands.
            let ts: Vec<Tensor> = xs
                .iter()
                .map(|x| {
                    let rev: Vec<isize> = (0..x.rank() as isize).rev().collect();
                    x.permute(&rev).contiguous().permute(&rev)
                })
                .collect();
            let trefs: Vec<&Tensor> = ts.iter().collect();
            assert_close(&Tensor::einsum(eq, &trefs), &got, 1e-10, eq);
        }
    }

    #[test]
    fn einsum_forms_from_the_docs() {
        let mut g = Generator::new(9);
        let a = Tensor::normal_with([3, 4], 0.0, 1.0, DType::F32, &mut g);
        let b = Tensor::normal_with([4, 5], 0.0, 1.0, DType::F32, &mut g);
        assert_close(
            &Tensor::einsum("ij,jk->ik", &[&a, &b]),
            &a.matmul(&b),
            1e-5,
            "matmul",
        );
        assert_close(
            &Tensor::einsum("ij,jk", &[&a, &b]),
            &a.matmul(&b),
            1e-5,
            "implicit",
        );
        assert_close(
            &Tensor::einsum("ij,jk", &[&a.t().contiguous().t(), &b]),
            &a.matmul(&b),
            1e-5,
            "t",
        );
        let sq = tensor!([[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(
            Tensor::einsum("ii->i", &[&sq]).to_vec::<f32>(),
            vec![1.0, 4.0]
        );
        assert_eq!(Tensor::einsum("ii", &[&sq]).item_f64(), 5.0);
        assert_eq!(Tensor::einsum("ii", &[&sq]).rank(), 0);
        assert_eq!(
            Tensor::einsum("ji", &[&sq]).to_vec::<f32>(),
            vec![1.0, 3.0, 2.0, 4.0]
        );
        assert_eq!(
            Tensor::einsum("ij", &[&sq]).to_vec::<f32>(),
            vec![1.0, 2.0, 3.0, 4.0]
        );
        let x = Tensor::normal_with([2, 3, 4, 5], 0.0, 1.0, DType::F64, &mut g);
        assert_close(
            &Tensor::einsum("...ij->...ji", &[&x]),
            &x.transpose(-1, -2).contiguous(),
            0.0,
            "ellipsis",
        );
        let y = Tensor::normal_with([3, 5, 2], 0.0, 1.0, DType::F64, &mut g);
        // Ellipsis dims broadcast: [2, 3] batch against [3].
        assert_close(
            &Tensor::einsum("...ij,...jk->...ik", &[&x, &y]),
            &x.matmul(&y),
            1e-10,
            "batched ellipsis",
        );
        let u = tensor!([1.0, 2.0, 3.0]);
        let v = tensor!([1.0, 10.0]);
        assert_eq!(
            Tensor::einsum("i,j->ij", &[&u, &v]).to_vec::<f32>(),
            u.outer(&v).to_vec::<f32>()
        );
        // Size-1 dims broadcast like PyTorch.
        let r = Tensor::einsum("ij,ij->ij", &[&Tensor::ones([1, 3]), &Tensor::ones([2, 3])]);
        assert_eq!(r.dims(), &[2, 3]);
        // Integer operands keep their dtype.
        let ia = Tensor::from_vec(vec![1i64, 2, 3, 4], [2, 2]);
        let ir = Tensor::einsum("ij,jk->ik", &[&ia, &ia]);
        assert_eq!(ir.dtype(), DType::I64);
        assert_eq!(ir.to_vec::<i64>(), vec![7, 10, 15, 22]);
        assert_eq!(Tensor::einsum("ii", &[&ia]).to_vec::<i64>(), vec![5]);
        // Errors.
        assert!(Tensor::try_einsum("ij,jk->ik", &[&a, &a]).is_err());
        assert!(Tensor::try_einsum("ij->k", &[&a]).is_err());
        assert!(Tensor::try_einsum("ij,jk", &[&a]).is_err());
        assert!(Tensor::try_einsum("ijk", &[&a]).is_err());
        assert!(Tensor::try_einsum("i1", &[&a]).is_err());
        assert!(Tensor::try_einsum("ii", &[&a]).is_err());
    }

    #[test]
    fn dot_outer_mm() {
        let a = tensor!([1.0, 2.0, 3.0]);
        let b = tensor!([4.0, 5.0, 6.0]);
        assert_eq!(a.dot(&b).item_f64(), 32.0);
        assert_eq!(a.dot(&b).rank(), 0);
        let e = std::panic::catch_unwind(|| a.dot(&tensor!([1.0, 2.0, 3.0, 4.0]))).unwrap_err();
        let msg = e.downcast_ref::<String>().unwrap();
        assert_eq!(msg, "dot: cannot multiply [3] by [4]: lengths differ");
        let o = a.outer(&tensor!([1.0, 2.0]));
        assert_eq!(o.dims(), &[3, 2]);
        assert_eq!(o.to_vec::<f32>(), vec![1., 2., 2., 4., 3., 6.]);
        let m = tensor!([[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(m.mm(&m).to_vec::<f32>(), vec![7., 10., 15., 22.]);
        assert_eq!(m.unsqueeze(0).bmm(&m.unsqueeze(0)).dims(), &[1, 2, 2]);
        assert!(std::panic::catch_unwind(|| a.mm(&m)).is_err());
    }

    #[test]
    fn inverse_and_det() {
        let m = tensor!([[1.0, 2.0], [3.0, 4.0]]);
        let inv = m.inverse();
        assert_eq!(inv.dtype(), DType::F32);
        assert_close(&inv, &tensor!([[-2.0, 1.0], [1.5, -0.5]]), 1e-6, "inverse");
        assert!((m.det().item_f64() + 2.0).abs() < 1e-6);
        assert_eq!(m.det().rank(), 0);
        let sing = tensor!([[1.0, 2.0], [2.0, 4.0]]);
        assert_eq!(
            sing.try_inverse().unwrap_err().to_string(),
            "inverse: matrix is singular"
        );
        assert_eq!(sing.det().item_f64(), 0.0);
        assert_eq!(Tensor::zeros([3, 3]).det().item_f64(), 0.0);
        // Integer input computes in f32.
        let i = Tensor::from_vec(vec![2i64, 0, 0, 4], [2, 2]);
        assert_eq!(i.inverse().dtype(), DType::F32);
        assert_eq!(i.inverse().to_vec::<f32>(), vec![0.5, 0.0, 0.0, 0.25]);
        assert_eq!(i.det().item_f64(), 8.0);
        // Random batches: A · A⁻¹ = I, and det matches a cofactor expansion for 3×3.
        let mut g = Generator::new(21);
        let a = Tensor::normal_with([4, 2, 5, 5], 0.0, 1.0, DType::F64, &mut g);
        let eye = Tensor::eye_dtype(5, 5, DType::F64).expand(&[4, 2, 5, 5]);
        assert_close(&a.matmul(&a.inverse()), &eye.contiguous(), 1e-9, "A A^-1");
        assert_close(
            &a.transpose(-1, -2).inverse(),
            &a.inverse().transpose(-1, -2).contiguous(),
            1e-9,
            "inv of view",
        );
        let c = Tensor::normal_with([6, 3, 3], 0.0, 1.0, DType::F64, &mut g);
        let v = c.to_vec::<f64>();
        let want: Vec<f64> = v
            .chunks(9)
            .map(|m| {
                m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6])
                    + m[2] * (m[3] * m[7] - m[4] * m[6])
            })
            .collect();
        assert_close(&c.det(), &Tensor::from_vec(want, [6]), 1e-10, "det");
        // det(AB) = det(A) det(B) on a batch; empty matrices have det 1.
        let b = Tensor::normal_with([6, 3, 3], 0.0, 1.0, DType::F64, &mut g);
        assert_close(
            &c.matmul(&b).det(),
            &c.det().mul(&b.det()),
            1e-9,
            "det product",
        );
        assert_eq!(
            Tensor::zeros([2, 0, 0]).det().to_vec::<f32>(),
            vec![1.0, 1.0]
        );
        assert_eq!(Tensor::zeros([0, 0]).inverse().dims(), &[0, 0]);
        // Shape errors name the op and the shape.
        let e = Tensor::zeros([2, 3]).try_inverse().unwrap_err().to_string();
        assert!(e.contains("inverse") && e.contains("[2, 3]"), "{e}");
        // A batch with one singular matrix fails.
        let batch = Tensor::from_vec(vec![1.0f64, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0], [2, 2, 2]);
        assert!(batch.try_inverse().is_err());
    }
}
