//! Gradcheck cases for the fused losses of `nn/functional/loss.rs` (and the composed ones,
//! whose gradients come from their parts).

use super::{Case, uniform};
use baeum::Tensor;
use baeum::nn::functional::{self as F, CrossEntropyOptions, Reduction};

pub fn cases() -> Vec<Case> {
    let logits = || uniform(&[4, 5], -2.0, 2.0, 71);
    let spatial = || uniform(&[2, 3, 2, 2], -2.0, 2.0, 72);
    let targets = || Tensor::from_vec(vec![0i64, 4, -100, 2], [4]);
    let weights = || Tensor::from_vec(vec![1.0, 0.5, 2.0, 1.5, 0.25], [5]);
    vec![
        Case::new("cross_entropy mean", vec![logits()], move |x| {
            F::cross_entropy(&x[0], &targets(), &CrossEntropyOptions::default()).unwrap()
        })
        .twice(),
        Case::new("cross_entropy weight smoothing", vec![logits()], move |x| {
            let o = CrossEntropyOptions::default()
                .weight(weights())
                .label_smoothing(0.15);
            F::cross_entropy(&x[0], &targets(), &o).unwrap()
        })
        .twice(),
        Case::new("cross_entropy none spatial", vec![spatial()], |x| {
            let t = Tensor::from_vec(vec![0i64, 2, 1, 1, 2, 0, 1, 0], [2, 2, 2]);
            let o = CrossEntropyOptions::default().reduction(Reduction::None);
            F::cross_entropy(&x[0], &t, &o).unwrap()
        })
        .twice(),
        Case::new("cross_entropy sum", vec![logits()], move |x| {
            let o = CrossEntropyOptions::default().reduction(Reduction::Sum);
            F::cross_entropy(&x[0], &targets(), &o).unwrap()
        }),
        Case::new(
            "cross_entropy probabilities",
            vec![logits(), uniform(&[4, 5], 0.0, 1.0, 73)],
            |x| {
                F::cross_entropy(
                    &x[0],
                    &x[1],
                    &CrossEntropyOptions::default().label_smoothing(0.1),
                )
                .unwrap()
            },
        ),
        Case::new(
            "binary_cross_entropy_with_logits",
            vec![logits(), uniform(&[4, 5], 0.0, 1.0, 74)],
            |x| {
                let pw = Tensor::from_vec(vec![1.0, 2.0, 0.5, 3.0, 1.0], [5]);
                F::binary_cross_entropy_with_logits(&x[0], &x[1], None, Some(&pw), Reduction::Mean)
                    .unwrap()
            },
        ),
        Case::new(
            "binary_cross_entropy",
            vec![uniform(&[3, 4], 0.1, 0.9, 75)],
            |x| {
                let t = uniform(&[3, 4], 0.0, 1.0, 76);
                F::binary_cross_entropy(&x[0], &t, None, Reduction::Sum).unwrap()
            },
        ),
        Case::new(
            "kl_div",
            vec![
                uniform(&[3, 4], -2.0, -0.1, 77),
                uniform(&[3, 4], 0.05, 1.0, 78),
            ],
            |x| F::kl_div(&x[0], &x[1], Reduction::BatchMean, false).unwrap(),
        ),
        Case::new(
            "smooth_l1 and huber",
            vec![uniform(&[3, 4], -2.0, 2.0, 79)],
            |x| {
                let t = uniform(&[3, 4], -2.0, 2.0, 80);
                F::smooth_l1_loss(&x[0], &t, Reduction::Mean, 0.5).unwrap()
                    + F::huber_loss(&x[0], &t, Reduction::Sum, 0.8).unwrap()
            },
        ),
        Case::new(
            "celu prelu glu log_sigmoid",
            vec![uniform(&[2, 4], -2.0, 2.0, 81)],
            |x| {
                let w = Tensor::from_vec(vec![0.25, -0.5, 1.0, 2.0], [4]);
                F::celu(&x[0], 0.7).sum()
                    + F::prelu(&x[0], &w).unwrap().sum()
                    + F::glu(&x[0], 1).unwrap().sum()
                    + F::log_sigmoid(&x[0]).sum()
            },
        ),
    ]
}
