//! Element-wise and matmul operations compared with naive f64 references on random shapes,
//! with broadcasting, non-contiguous views and empty tensors.

use baeum::{DType, Generator, Tensor};

/// Row-major multi-indices of a shape.
fn indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let n: usize = shape.iter().product();
    (0..n)
        .map(|mut k| {
            let mut idx = vec![0; shape.len()];
            for d in (0..shape.len()).rev() {
                idx[d] = k % shape[d];
                k /= shape[d];
            }
            idx
        })
        .collect()
}

/// Value of `t` at the broadcast index `idx` of an output of rank `rank`.
fn at(t: &Tensor, idx: &[usize]) -> f64 {
    let extra = idx.len() - t.rank();
    let own: Vec<usize> = (0..t.rank())
        .map(|d| if t.dims()[d] == 1 { 0 } else { idx[extra + d] })
        .collect();
    t.get(&own)
}

fn random_shape(g: &mut Generator, rank: usize, allow_empty: bool) -> Vec<usize> {
    (0..rank)
        .map(|_| {
            let lo = if allow_empty { 0 } else { 1 };
            lo + g.below(4 - lo as u64) as usize
        })
        .collect()
}

/// A tensor of `shape` built in a random way: directly, as a transposed view, as a stepped
/// slice, or as an expanded view — so kernels see every kind of layout.
fn random_tensor(g: &mut Generator, shape: &[usize], dtype: DType) -> Tensor {
    let base = |g: &mut Generator, s: &[usize]| {
        Tensor::uniform_with(s.to_vec(), -2.0, 2.0, DType::F64, g).to_dtype(dtype)
    };
    match g.below(4) {
        1 if shape.len() >= 2 => {
            let mut s = shape.to_vec();
            let r = s.len();
            s.swap(r - 1, r - 2);
            base(g, &s).transpose(-1, -2)
        }
        2 if !shape.is_empty() => {
            let mut s = shape.to_vec();
            s[0] *= 2;
            base(g, &s).slice(0, 0, s[0] as isize, 2)
        }
        3 if !shape.is_empty() && shape[0] != 0 => {
            let mut s = shape.to_vec();
            s[0] = 1;
            let dims: Vec<isize> = shape.iter().map(|&d| d as isize).collect();
            base(g, &s).expand(&dims)
        }
        _ => base(g, shape),
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol * (1.0 + b.abs())
}

fn check_binary(name: &str, f: impl Fn(&Tensor, &Tensor) -> Tensor, r: impl Fn(f64, f64) -> f64) {
    let mut g = Generator::new(42);
    for case in 0..60 {
        let ra = g.below(4) as usize;
        let rb = g.below(4) as usize;
        let out = random_shape(&mut g, ra.max(rb), case % 5 == 0);
        // Each operand takes the trailing dims, some set to 1 to broadcast.
        let take = |g: &mut Generator, r: usize| -> Vec<usize> {
            out[out.len() - r..]
                .iter()
                .map(|&d| if g.below(3) == 0 { 1 } else { d })
                .collect()
        };
        let (sa, sb) = (take(&mut g, ra), take(&mut g, rb));
        for dtype in [DType::F32, DType::F64] {
            let a = random_tensor(&mut g, &sa, dtype);
            let b = random_tensor(&mut g, &sb, dtype);
            let y = f(&a, &b);
            let expect_shape = baeum::tensor::broadcast_shapes(&sa, &sb).unwrap();
            assert_eq!(y.dims(), expect_shape.dims(), "{name}: {sa:?} with {sb:?}");
            assert_eq!(y.dtype(), dtype);
            for idx in indices(y.dims()) {
                let want = r(at(&a, &idx), at(&b, &idx));
                let got = y.get(&idx);
                let tol = if dtype == DType::F32 { 1e-5 } else { 1e-12 };
                assert!(close(got, want, tol), "{name} at {idx:?}: {got} vs {want}");
            }
        }
    }
}

#[test]
fn binary_ops_match_the_reference() {
    check_binary("add", |a, b| a + b, |x, y| x + y);
    check_binary("sub", |a, b| a - b, |x, y| x - y);
    check_binary("mul", |a, b| a * b, |x, y| x * y);
    check_binary("div", |a, b| a / b, |x, y| x / y);
    check_binary("maximum", |a, b| a.maximum(b), f64::max);
    check_binary("minimum", |a, b| a.minimum(b), f64::min);
    check_binary("pow", |a, b| a.abs().pow(b), |x, y| x.abs().powf(y));
    check_binary(
        "where",
        |a, b| Tensor::where_(&a.gt(b), a, b),
        |x, y| if x > y { x } else { y },
    );
}

fn check_unary(name: &str, f: impl Fn(&Tensor) -> Tensor, r: impl Fn(f64) -> f64) {
    let mut g = Generator::new(7);
    for case in 0..30 {
        let rank = g.below(5) as usize;
        let shape = random_shape(&mut g, rank, case % 6 == 0);
        for dtype in [DType::F32, DType::F64] {
            let x = random_tensor(&mut g, &shape, dtype);
            let y = f(&x);
            assert_eq!(y.dims(), x.dims());
            for idx in indices(&shape) {
                let want = r(x.get(&idx));
                let got = y.get(&idx);
                let tol = if dtype == DType::F32 { 2e-5 } else { 1e-11 };
                assert!(
                    close(got, want, tol),
                    "{name}({}) = {got}, want {want}",
                    x.get(&idx)
                );
            }
        }
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn erf(x: f64) -> f64 {
    // Abramowitz–Stegun 7.1.26 is too coarse for a reference; integrate instead.
    let n = 2000;
    let h = x / n as f64;
    let f = |t: f64| (-t * t).exp();
    let mut s = f(0.0) + f(x);
    for i in 1..n {
        s += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0 * 2.0 / std::f64::consts::PI.sqrt()
}

#[test]
fn unary_ops_match_the_reference() {
    check_unary("exp", |x| x.exp(), f64::exp);
    check_unary("log", |x| x.abs().log(), |v| v.abs().ln());
    check_unary("sqrt", |x| x.abs().sqrt(), |v| v.abs().sqrt());
    check_unary("rsqrt", |x| x.abs().rsqrt(), |v| 1.0 / v.abs().sqrt());
    check_unary("reciprocal", |x| x.reciprocal(), |v| 1.0 / v);
    check_unary("neg", |x| -x, |v| -v);
    check_unary("square", |x| x.square(), |v| v * v);
    check_unary("sin", |x| x.sin(), f64::sin);
    check_unary("cos", |x| x.cos(), f64::cos);
    check_unary("tanh", |x| x.tanh(), f64::tanh);
    check_unary("sigmoid", |x| x.sigmoid(), sigmoid);
    check_unary("relu", |x| x.relu(), |v| v.max(0.0));
    check_unary(
        "leaky_relu",
        |x| x.leaky_relu(0.1),
        |v| if v > 0.0 { v } else { 0.1 * v },
    );
    check_unary(
        "elu",
        |x| x.elu(1.5),
        |v| if v > 0.0 { v } else { 1.5 * (v.exp() - 1.0) },
    );
    check_unary(
        "selu",
        |x| x.selu(),
        |v| {
            1.0507009873554805
                * if v > 0.0 {
                    v
                } else {
                    1.6732632423543772 * (v.exp() - 1.0)
                }
        },
    );
    check_unary("silu", |x| x.silu(), |v| v * sigmoid(v));
    check_unary(
        "gelu",
        |x| x.gelu(),
        |v| 0.5 * v * (1.0 + erf(v / 2f64.sqrt())),
    );
    check_unary(
        "gelu_tanh",
        |x| x.gelu_tanh(),
        |v| {
            0.5 * v
                * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (v + 0.044715 * v.powi(3))).tanh())
        },
    );
    check_unary(
        "softplus",
        |x| x.softplus(1.0, 20.0),
        |v| (1.0 + v.exp()).ln(),
    );
    check_unary("softsign", |x| x.softsign(), |v| v / (1.0 + v.abs()));
    check_unary("mish", |x| x.mish(), |v| v * (1.0 + v.exp()).ln().tanh());
    check_unary(
        "hardsigmoid",
        |x| x.hardsigmoid(),
        |v| ((v + 3.0).clamp(0.0, 6.0)) / 6.0,
    );
    check_unary(
        "hardswish",
        |x| x.hardswish(),
        |v| v * ((v + 3.0).clamp(0.0, 6.0)) / 6.0,
    );
    check_unary("erf", |x| x.erf(), erf);
    check_unary("abs", |x| x.abs(), f64::abs);
    check_unary(
        "sign",
        |x| x.sign(),
        |v| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                0.0
            }
        },
    );
    check_unary("floor", |x| x.floor(), f64::floor);
    check_unary("ceil", |x| x.ceil(), f64::ceil);
    check_unary(
        "round",
        |x| (x * 2.0).round(),
        |v| (v * 2.0).round_ties_even(),
    );
    check_unary(
        "clamp",
        |x| x.clamp(Some(-0.5), Some(0.75)),
        |v| v.clamp(-0.5, 0.75),
    );
    check_unary("powf", |x| x.abs().powf(1.5), |v| v.abs().powf(1.5));
}

#[test]
fn matmul_matches_the_reference_with_broadcast_batches_and_views() {
    let mut g = Generator::new(3);
    for case in 0..40 {
        let (m, k, n) = (
            g.below(40) as usize + (case % 7 != 0) as usize,
            g.below(40) as usize,
            g.below(40) as usize + 1,
        );
        let batch: Vec<usize> = (0..g.below(3)).map(|_| 1 + g.below(3) as usize).collect();
        let mut sa = batch.clone();
        sa.extend([m, k]);
        let mut sb: Vec<usize> = batch
            .iter()
            .map(|&d| if g.below(2) == 0 { 1 } else { d })
            .collect();
        sb.extend([k, n]);
        for dtype in [DType::F32, DType::F64] {
            let a = random_tensor(&mut g, &sa, dtype);
            let b = random_tensor(&mut g, &sb, dtype);
            let c = a.matmul(&b);
            let mut so = batch.clone();
            so.extend([m, n]);
            assert_eq!(c.dims(), &so[..]);
            for idx in indices(&so) {
                let r = idx.len();
                let mut want = 0.0;
                for l in 0..k {
                    let mut ia = idx.clone();
                    ia[r - 1] = l;
                    let mut ib = idx.clone();
                    ib[r - 2] = l;
                    want += at(&a, &ia) * at(&b, &ib);
                }
                let tol = if dtype == DType::F32 { 1e-4 } else { 1e-10 };
                assert!(
                    close(c.get(&idx), want, tol),
                    "matmul {sa:?}x{sb:?} at {idx:?}"
                );
            }
        }
    }
}

#[test]
fn matmul_promotes_vectors_like_torch() {
    let m = Tensor::from_vec(vec![1.0f32, 2., 3., 4., 5., 6.], [2, 3]);
    let v = Tensor::from_vec(vec![1.0f32, 0., -1.], [3]);
    assert_eq!(m.matmul(&v).to_vec::<f32>(), vec![-2., -2.]);
    let w = Tensor::from_vec(vec![1.0f32, 1.], [2]);
    assert_eq!(w.matmul(&m).to_vec::<f32>(), vec![5., 7., 9.]);
    let d = v.matmul(&v);
    assert_eq!((d.rank(), d.item::<f32>()), (0, 2.0));
    let batched = Tensor::ones([4, 2, 3]).matmul(&v);
    assert_eq!(batched.dims(), &[4, 2]);
    let ints = Tensor::from_vec(vec![1i64, 2, 3, 4], [2, 2]);
    assert_eq!(ints.matmul(&ints).to_vec::<i64>(), vec![7, 10, 15, 22]);
}

#[test]
fn type_promotion_follows_pytorch() {
    let i = Tensor::from_vec(vec![1i64, 2, 3], [3]);
    let f = Tensor::from_vec(vec![0.5f32, 0.5, 0.5], [3]);
    assert_eq!((&i + &f).dtype(), DType::F32);
    assert_eq!((&i * 2).dtype(), DType::I64);
    assert_eq!((&i * 2.5).dtype(), DType::F32);
    assert_eq!((&i / 2).to_vec::<f32>(), vec![0.5, 1.0, 1.5]);
    assert_eq!((&f + &f.to_f64()).dtype(), DType::F64);
    assert_eq!(i.exp().dtype(), DType::F32);
    assert_eq!(
        Tensor::from_vec(vec![-7i64, 7], [2])
            .floor_divide(&Tensor::from_vec(vec![2i64, -2], [2]))
            .to_vec::<i64>(),
        vec![-4, -4]
    );
    assert_eq!(
        Tensor::from_vec(vec![-7i64, 7], [2])
            .remainder(&Tensor::from_vec(vec![2i64, -2], [2]))
            .to_vec::<i64>(),
        vec![1, -1]
    );
    assert_eq!(
        Tensor::from_vec(vec![2.7f32, -2.7], [2])
            .to_i64()
            .to_vec::<i64>(),
        vec![2, -2]
    );
}

#[test]
fn shape_errors_name_the_operation_and_both_shapes() {
    let r = std::panic::catch_unwind(|| Tensor::ones([2, 3]) + Tensor::ones([4]));
    let e = r.unwrap_err();
    let msg = e.downcast_ref::<String>().unwrap();
    assert_eq!(
        msg,
        "add: shapes [2, 3] and [4] cannot be broadcast together"
    );
    let e = Tensor::ones([2, 3])
        .try_reshape(&[4, 2])
        .unwrap_err()
        .to_string();
    assert!(e.contains("[2, 3]") && e.contains("[4, 2]"), "{e}");
}
