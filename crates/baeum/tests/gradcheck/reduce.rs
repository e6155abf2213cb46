//! Gradcheck cases for `ops/reduce.rs` (beyond `sum_dims`, checked with the binary ops), plus
//! value checks of PyTorch's conventions for ties, zeros and zero norms.

use super::{Case, uniform};
use baeum::{DType, Tensor, tensor};

pub fn cases() -> Vec<Case> {
    let x = || uniform(&[3, 4], -2.0, 2.0, 41);
    let x3 = || uniform(&[2, 3, 4], -2.0, 2.0, 42);
    // Distinct values (no ties): a shuffled ramp.
    let distinct = || {
        let v: Vec<f64> = [7, 2, 11, 0, 5, 9, 1, 10, 3, 6, 8, 4]
            .iter()
            .map(|&k| k as f64 * 0.3 - 1.7)
            .collect();
        Tensor::from_vec(v, [3, 4])
    };
    vec![
        Case::new("mean_dims", vec![x3()], |x| x[0].mean_dims(&[0, 2], false)).twice(),
        Case::new("mean", vec![x()], |x| x[0].mean()),
        Case::new("prod", vec![x()], |x| x[0].prod()).twice(),
        Case::new("prod_dims keepdim", vec![x3()], |x| {
            x[0].prod_dims(&[0, -1], true)
        })
        .twice(),
        // One exact zero in a slice, two in another, none in the third.
        Case::new(
            "prod_dim with zeros",
            vec![tensor!(
                [
                    [0.0, 1.5, -0.7, 1.2],
                    [0.9, 0.0, 0.8, 0.0],
                    [1.1, -1.3, 0.6, 1.4]
                ],
                DType::F64
            )],
            |x| x[0].prod_dim(1, false),
        )
        .twice(),
        Case::new(
            "prod with three zeros",
            vec![tensor!([0.0, 1.5, 0.0, 1.2, 0.0], DType::F64)],
            |x| x[0].prod(),
        )
        .twice(),
        Case::new("max", vec![distinct()], |x| x[0].max()),
        Case::new("min", vec![distinct()], |x| x[0].min()),
        Case::new("amax", vec![distinct()], |x| x[0].amax(&[1], false)),
        Case::new("amin keepdim", vec![distinct()], |x| x[0].amin(&[0], true)),
        Case::new("max_dim", vec![distinct()], |x| x[0].max_dim(1, false).0),
        Case::new("min_dim keepdim", vec![distinct()], |x| {
            x[0].min_dim(0, true).0
        }),
        Case::new("var", vec![x()], |x| x[0].var(true)).twice(),
        Case::new("var_dims biased", vec![x3()], |x| {
            x[0].var_dims(&[1, 2], false, true)
        })
        .twice(),
        Case::new("std", vec![x()], |x| x[0].std(false)).twice(),
        Case::new("std_dims", vec![x3()], |x| x[0].std_dims(&[0], true, false)).twice(),
        Case::new("logsumexp", vec![x()], |x| x[0].logsumexp(1, false)).twice(),
        Case::new("logsumexp_dims", vec![x3()], |x| {
            x[0].logsumexp_dims(&[0, 2], true)
        })
        .twice(),
        Case::new("norm 2", vec![x()], |x| x[0].norm(2.0)).twice(),
        Case::new("norm_dims 2", vec![x3()], |x| {
            x[0].norm_dims(2.0, &[-1], false)
        })
        .twice(),
        Case::new("norm 1", vec![distinct()], |x| {
            x[0].norm_dims(1.0, &[1], false)
        }),
        Case::new("norm 3", vec![x3()], |x| x[0].norm_dims(3.0, &[1], true)).twice(),
        Case::new("norm 1.5", vec![x()], |x| x[0].norm_dims(1.5, &[0], false)),
        Case::new("norm 0.5", vec![distinct()], |x| {
            x[0].norm_dims(0.5, &[1], false)
        }),
        Case::new("norm inf", vec![distinct()], |x| {
            x[0].norm_dims(f64::INFINITY, &[1], false)
        }),
        Case::new("norm -inf", vec![distinct()], |x| {
            x[0].norm_dims(f64::NEG_INFINITY, &[0], false)
        }),
        Case::new("norm 0 (zero gradient)", vec![x()], |x| {
            x[0].norm(0.0) * x[0].sum()
        }),
        Case::new("softmax", vec![x3()], |x| x[0].softmax(1)).twice(),
        Case::new("softmax last", vec![x()], |x| x[0].softmax(-1)).twice(),
        Case::new("log_softmax", vec![x3()], |x| x[0].log_softmax(-1)).twice(),
        Case::new("log_softmax dim 0", vec![x()], |x| x[0].log_softmax(0)).twice(),
    ]
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
}

/// The gradient of the sum of `f(x)`.
fn grad_of(x: Tensor, f: impl Fn(&Tensor) -> Tensor) -> Vec<f64> {
    let x = x.requires_grad_(true);
    let y = f(&x);
    y.backward_with(&y.ones_like());
    x.grad().expect("a gradient").to_vec::<f64>()
}

#[test]
fn ties_split_evenly_like_pytorch() {
    // max()/min() and amax/amin share the gradient among tied extremes...
    let g = grad_of(tensor!([1.0, 3.0, 3.0, 2.0], DType::F64), |x| x.max());
    assert_eq!(g, vec![0.0, 0.5, 0.5, 0.0]);
    let g = grad_of(tensor!([1.0, 0.0, 3.0, 0.0, 0.0], DType::F64), |x| x.min());
    let third = 1.0 / 3.0;
    assert_eq!(g, vec![0.0, third, 0.0, third, third]);
    let t = || tensor!([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], DType::F64);
    assert_eq!(
        grad_of(t(), |x| x.amax(&[1], false)),
        vec![0.0, 0.5, 0.5, 0.5, 0.5, 0.0]
    );
    assert_eq!(
        grad_of(t(), |x| x.amin(&[0], true)),
        vec![1.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    );
    // ...while max_dim/min_dim give it all to the index they return (the first).
    assert_eq!(
        grad_of(t(), |x| x.max_dim(1, false).0),
        vec![0.0, 1.0, 0.0, 1.0, 0.0, 0.0]
    );
    assert_eq!(
        grad_of(t(), |x| x.min_dim(-1, true).0),
        vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    );
    // ±∞ norms split among the tied largest |x|, with their signs.
    let g = grad_of(tensor!([-3.0, 3.0, 1.0], DType::F64), |x| {
        x.norm(f64::INFINITY)
    });
    assert_eq!(g, vec![-0.5, 0.5, 0.0]);
}

#[test]
fn zeros_and_flat_inputs_follow_pytorch() {
    // prod: one zero gets the product of the others; two zeros give 0 everywhere.
    assert_eq!(
        grad_of(tensor!([0.0, 2.0, 3.0], DType::F64), |x| x.prod()),
        vec![6.0, 0.0, 0.0]
    );
    assert_eq!(
        grad_of(tensor!([0.0, 2.0, 0.0], DType::F64), |x| x.prod()),
        vec![0.0, 0.0, 0.0]
    );
    assert_eq!(
        grad_of(tensor!([[0.0, 2.0], [3.0, 4.0]], DType::F64), |x| x
            .prod_dim(1, false)),
        vec![2.0, 0.0, 4.0, 3.0]
    );
    // The 2-norm of a zero vector has gradient 0 (the subgradient), as does a constant's std.
    let g = grad_of(tensor!([[0.0, 0.0], [3.0, 4.0]], DType::F64), |x| {
        x.norm_dims(2.0, &[1], false)
    });
    assert!(close(&g, &[0.0, 0.0, 0.6, 0.8]), "{g:?}");
    assert_eq!(
        grad_of(tensor!([1.0, 1.0, 1.0], DType::F64), |x| x.std(true)),
        vec![0.0, 0.0, 0.0]
    );
    // p < 1: zeros get 0 (PyTorch: [0, −2.7321, 1.5774] for p = 0.5).
    let g = grad_of(tensor!([0.0, -1.0, 3.0], DType::F64), |x| x.norm(0.5));
    let want = [0.0, -2.732_050_807_568_877, 1.577_350_269_189_626];
    assert!(close(&g, &want), "{g:?}");
}

#[test]
fn softmax_gradients_match_pytorch() {
    // torch.softmax(x, 0) with upstream [1, 2, 3] at x = [0.5, -1, 2].
    let x = tensor!([0.5, -1.0, 2.0], DType::F64).requires_grad_(true);
    let up = tensor!([1.0, 2.0, 3.0], DType::F64);
    (x.softmax(0) * &up).sum().backward();
    let g = x.grad().unwrap().to_vec::<f64>();
    let want = [
        -0.282_271_282_820_633,
        -0.023_870_663_270_383,
        0.306_141_946_091_016,
    ];
    assert!(close(&g, &want), "softmax {g:?}");
    let x = tensor!([0.5, -1.0, 2.0], DType::F64).requires_grad_(true);
    (x.log_softmax(0) * &up).sum().backward();
    let g = x.grad().unwrap().to_vec::<f64>();
    let want = [
        -0.051_742_352_840_220,
        1.765_324_560_375_875,
        -1.713_582_207_535_655,
    ];
    assert!(close(&g, &want), "log_softmax {g:?}");
}
