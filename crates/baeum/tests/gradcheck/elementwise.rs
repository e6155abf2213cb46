//! Gradcheck cases for `ops/unary.rs`, `ops/compare.rs` (`where_`, `masked_fill`) and the
//! element-wise `remainder` / `floor_divide` of `ops/binary.rs`, plus value checks of PyTorch's
//! conventions at the kinks.

use super::{Case, uniform};
use baeum::{DType, Tensor, tensor};

/// Values with |x| in [0.2, 2] and random signs: away from the kink at 0.
fn away_from_zero(shape: &[usize], seed: u64) -> Tensor {
    let magnitude = uniform(shape, 0.2, 2.0, seed);
    let sign = uniform(shape, -1.0, 1.0, seed + 1000).sign();
    magnitude * sign
}

/// Values in (lo, hi) at least 0.1 from every multiple of `step` (kinks and jumps of rounding,
/// clamping at integers, the ±3 of the hard activations).
fn away_from_multiples(shape: &[usize], lo: f64, hi: f64, step: f64, seed: u64) -> Tensor {
    let v: Vec<f64> = uniform(shape, lo, hi, seed)
        .to_vec::<f64>()
        .into_iter()
        .map(|x| {
            let k = (x / step).round() * step;
            match x - k {
                d if d.abs() >= 0.1 => x,
                d if d < 0.0 => k - 0.15,
                _ => k + 0.15,
            }
        })
        .collect();
    Tensor::from_vec(v, shape.to_vec())
}

pub fn cases() -> Vec<Case> {
    let x = || uniform(&[3, 4], -2.0, 2.0, 21);
    let pos = || uniform(&[3, 4], 0.5, 2.0, 22);
    let nz = || away_from_zero(&[3, 4], 23);
    vec![
        Case::new("exp", vec![x()], |x| x[0].exp()).twice(),
        Case::new("log", vec![pos()], |x| x[0].log()).twice(),
        Case::new("log1p", vec![uniform(&[3, 4], -0.5, 2.0, 24)], |x| {
            x[0].log1p()
        })
        .twice(),
        Case::new("expm1", vec![x()], |x| x[0].expm1()).twice(),
        Case::new("sqrt", vec![pos()], |x| x[0].sqrt()).twice(),
        Case::new("rsqrt", vec![pos()], |x| x[0].rsqrt()).twice(),
        Case::new("reciprocal", vec![nz()], |x| x[0].reciprocal()).twice(),
        Case::new("sin", vec![x()], |x| x[0].sin()).twice(),
        Case::new("cos", vec![x()], |x| x[0].cos()).twice(),
        Case::new("tanh", vec![x()], |x| x[0].tanh()).twice(),
        Case::new("sigmoid", vec![x()], |x| x[0].sigmoid()).twice(),
        Case::new("selu", vec![nz()], |x| x[0].selu()).twice(),
        Case::new("silu", vec![x()], |x| x[0].silu()).twice(),
        Case::new("gelu", vec![x()], |x| x[0].gelu()).twice(),
        Case::new("gelu_tanh", vec![x()], |x| x[0].gelu_tanh()).twice(),
        Case::new("softsign", vec![nz()], |x| x[0].softsign()).twice(),
        Case::new("mish", vec![x()], |x| x[0].mish()).twice(),
        Case::new(
            "hardsigmoid",
            vec![away_from_multiples(&[3, 4], -5.0, 5.0, 3.0, 25)],
            |x| x[0].hardsigmoid(),
        ),
        Case::new(
            "hardswish",
            vec![away_from_multiples(&[3, 4], -5.0, 5.0, 3.0, 26)],
            |x| x[0].hardswish(),
        )
        .twice(),
        Case::new("erf", vec![x()], |x| x[0].erf()).twice(),
        Case::new("neg", vec![x()], |x| x[0].neg()).twice(),
        Case::new("abs", vec![nz()], |x| x[0].abs()).twice(),
        Case::new("square", vec![x()], |x| x[0].square()).twice(),
        // Zero-gradient ops: only the other factor's path contributes.
        Case::new(
            "sign floor ceil round",
            vec![away_from_multiples(&[3, 4], -3.0, 3.0, 0.5, 27)],
            |x| {
                let v = &x[0];
                v * v.sign() + v * v.floor() + v.ceil() * v + v.round() * v
            },
        ),
        Case::new("relu", vec![nz()], |x| x[0].relu()).twice(),
        Case::new("leaky_relu", vec![nz()], |x| x[0].leaky_relu(0.2)),
        Case::new("elu", vec![nz()], |x| x[0].elu(1.5)).twice(),
        // β = 2, threshold 3: values above 1.5 take the linear branch.
        Case::new("softplus", vec![nz()], |x| x[0].softplus(2.0, 3.0)).twice(),
        Case::new("powf", vec![pos()], |x| x[0].powf(2.5)).twice(),
        Case::new("powf negative exponent", vec![pos()], |x| x[0].powf(-0.5)).twice(),
        Case::new("powf 2 (square)", vec![x()], |x| x[0].powf(2.0)),
        Case::new("powf 0", vec![pos()], |x| x[0].powf(0.0) + &x[0]),
        Case::new(
            "clamp",
            vec![away_from_multiples(&[3, 4], -2.0, 2.0, 1.0, 28)],
            |x| x[0].clamp(Some(-1.0), Some(1.0)),
        ),
        Case::new(
            "clamp_min clamp_max",
            vec![away_from_multiples(&[3, 4], -2.0, 2.0, 0.5, 29)],
            |x| x[0].clamp_min(-0.5) * x[0].clamp_max(0.5),
        ),
        Case::new(
            "where broadcast",
            vec![x(), uniform(&[4], -1.0, 1.0, 30)],
            |x| {
                let cond = tensor!([[true], [false], [true]]);
                Tensor::where_(&cond, &x[0], &x[1])
            },
        )
        .twice(),
        Case::new("where mixes", vec![x()], |x| {
            // A typical use: a different formula on each side of 0.
            let v = &x[0];
            Tensor::where_(&v.gt_scalar(0.0), &v.square(), &v.sin())
        }),
        Case::new("masked_fill", vec![x()], |x| {
            x[0].masked_fill(&x[0].lt_scalar(0.0), 2.0) * &x[0]
        }),
        Case::new(
            "remainder",
            vec![
                away_from_multiples(&[3, 4], -3.0, 3.0, 0.5, 31),
                tensor!([0.5, -0.5, 0.5, 0.5], DType::F64),
            ],
            |x| x[0].remainder(&x[1]),
        )
        .twice(),
        Case::new(
            "remainder divisor",
            vec![
                tensor!([[1.3, -2.6], [0.7, 3.5]], DType::F64),
                tensor!([0.9, 1.1], DType::F64),
            ],
            |x| x[0].remainder(&x[1]),
        ),
        Case::new(
            "floor_divide",
            vec![
                tensor!([[1.3, -2.6], [0.7, 3.5]], DType::F64),
                tensor!([0.9, 1.1], DType::F64),
            ],
            |x| x[0].floor_divide(&x[1]) * &x[1] + &x[0],
        ),
    ]
}

/// ∂(Σ f(x))/∂x at `values`.
fn grad_of(values: &[f64], f: impl Fn(&Tensor) -> Tensor) -> Vec<f64> {
    let x = Tensor::from_vec(values.to_vec(), [values.len()]).requires_grad_(true);
    f(&x).sum().backward();
    x.grad().expect("a gradient").to_vec::<f64>()
}

#[test]
fn kinks_follow_pytorch() {
    // relu: slope 0 at 0; abs: sign(x), so 0 at 0.
    assert_eq!(
        grad_of(&[-1.0, 0.0, 2.0], |x| x.relu()),
        vec![0.0, 0.0, 1.0]
    );
    assert_eq!(
        grad_of(&[-1.0, 0.0, 2.0], |x| x.abs()),
        vec![-1.0, 0.0, 1.0]
    );
    // clamp: 0 at the bounds, as PyTorch 2.15 (the conformance reference) computes.
    assert_eq!(
        grad_of(&[-2.0, -1.0, 0.0, 1.0, 2.0], |x| x
            .clamp(Some(-1.0), Some(1.0))),
        vec![0.0, 0.0, 1.0, 0.0, 0.0]
    );
    assert_eq!(
        grad_of(&[-1.0, 0.0, 1.0], |x| x.clamp_min(0.0)),
        vec![0.0, 0.0, 1.0]
    );
    assert_eq!(
        grad_of(&[-1.0, 0.0, 1.0], |x| x.clamp_max(0.0)),
        vec![1.0, 0.0, 0.0]
    );
    // leaky_relu and elu at 0 take the negative side's slope.
    assert_eq!(grad_of(&[0.0], |x| x.leaky_relu(0.1)), vec![0.1]);
    assert_eq!(grad_of(&[0.0], |x| x.elu(2.0)), vec![2.0]);
    // hardsigmoid: 1/6 strictly inside (−3, 3); hardswish: 0 at −3, x/3 + ½ inside, 1 at 3.
    let h = grad_of(&[-3.0, 0.0, 3.0], |x| x.hardsigmoid());
    assert_eq!(h, vec![0.0, 1.0 / 6.0, 0.0]);
    let h = grad_of(&[-4.0, -3.0, -1.5, 0.0, 3.0, 4.0], |x| x.hardswish());
    assert_eq!(h, vec![0.0, 0.0, 0.0, 0.5, 1.0, 1.0]);
    // Rounding and sign: gradient 0, but present.
    for f in [Tensor::floor, Tensor::ceil, Tensor::round, Tensor::sign] {
        assert_eq!(grad_of(&[0.3, -1.7], f), vec![0.0, 0.0]);
    }
    // powf with exponent 0: 0 even at x = 0.
    assert_eq!(grad_of(&[0.0, 2.0], |x| x.powf(0.0)), vec![0.0, 0.0]);
    // softplus beyond the threshold is the identity.
    let s = grad_of(&[0.0, 25.0], |x| x.softplus(1.0, 20.0));
    assert_eq!(s, vec![0.5, 1.0]);
}

#[test]
fn known_derivatives() {
    // Values PyTorch 2.15 gives (the gradient of the sum, in float64).
    let close = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() < 1e-6 * (1.0 + y.abs()))
    };
    let g = grad_of(&[-1.0, 0.5], |x| x.gelu());
    assert!(close(&g, &[-0.0833154706, 0.8674951247]), "gelu {g:?}");
    let g = grad_of(&[-1.0, 0.5], |x| x.gelu_tanh());
    assert!(close(&g, &[-0.0829640838, 0.8673699035]), "gelu_tanh {g:?}");
    let g = grad_of(&[-1.0, 0.5], |x| x.mish());
    assert!(close(&g, &[0.0592167559, 0.8864243754]), "mish {g:?}");
    let g = grad_of(&[-1.0, 0.5], |x| x.selu());
    assert!(close(&g, &[0.6467686030, 1.0507009874]), "selu {g:?}");
    let g = grad_of(&[-1.0, 0.5], |x| x.silu());
    assert!(close(&g, &[0.0723294881, 0.7399611873]), "silu {g:?}");
}

#[test]
fn where_and_masked_fill_route_gradients() {
    let a = tensor!([1.0, 2.0, 3.0], DType::F64).requires_grad_(true);
    let b = tensor!([10.0], DType::F64).requires_grad_(true);
    let c = tensor!([true, false, true]);
    (Tensor::where_(&c, &a, &b) * tensor!([1.0, 2.0, 3.0], DType::F64))
        .sum()
        .backward();
    assert_eq!(a.grad().unwrap().to_vec::<f64>(), vec![1.0, 0.0, 3.0]);
    assert_eq!(b.grad().unwrap().to_vec::<f64>(), vec![2.0]);
    let x = tensor!([1.0, -2.0], DType::F64).requires_grad_(true);
    x.masked_fill(&x.lt_scalar(0.0), 5.0).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![1.0, 0.0]);
    // An f32 branch next to an f64 one gets an f32 gradient.
    let f = tensor!([1.0f32, 2.0]).requires_grad_(true);
    Tensor::where_(
        &tensor!([true, false]),
        &f,
        &tensor!([0.5, 0.5], DType::F64),
    )
    .sum()
    .backward();
    let gf = f.grad().unwrap();
    assert_eq!(gf.dtype(), DType::F32);
    assert_eq!(gf.to_vec::<f32>(), vec![1.0, 0.0]);
}

#[test]
fn remainder_divisor_gradient_is_minus_floor() {
    let a = tensor!([5.5, -5.5], DType::F64).requires_grad_(true);
    let b = tensor!([2.0, 2.0], DType::F64).requires_grad_(true);
    a.remainder(&b).sum().backward();
    assert_eq!(a.grad().unwrap().to_vec::<f64>(), vec![1.0, 1.0]);
    // ⌊5.5/2⌋ = 2, ⌊−5.5/2⌋ = −3.
    assert_eq!(b.grad().unwrap().to_vec::<f64>(), vec![-2.0, 3.0]);
}

#[test]
fn output_rules_are_differentiable_twice() {
    // d²/dx² of exp, sigmoid and tanh at 0.5, through the saved-output rules.
    use baeum::autograd::{BackwardOptions, grad};
    let second = |f: fn(&Tensor) -> Tensor| {
        let x = tensor!([0.5], DType::F64).requires_grad_(true);
        let y = f(&x).sum();
        let d = grad(&[&y], &[&x], None, BackwardOptions::create_graph()).unwrap();
        let d = d[0].clone().unwrap().sum();
        let d2 = grad(&[&d], &[&x], None, BackwardOptions::default()).unwrap();
        d2[0].as_ref().unwrap().item::<f64>()
    };
    let s = 1.0 / (1.0 + (-0.5f64).exp());
    let t = 0.5f64.tanh();
    assert!((second(Tensor::exp) - 0.5f64.exp()).abs() < 1e-12);
    assert!((second(Tensor::sigmoid) - s * (1.0 - s) * (1.0 - 2.0 * s)).abs() < 1e-12);
    assert!((second(Tensor::tanh) - (-2.0 * t * (1.0 - t * t))).abs() < 1e-12);
    assert!((second(Tensor::sqrt) - (-0.25 * 0.5f64.powf(-1.5))).abs() < 1e-12);
}
