//! Gradcheck cases for `ops/binary.rs`, plus the casts, sums and views the rules use.

use super::{Case, uniform};
use baeum::DType;
use baeum::autograd::gradcheck::GradcheckOptions;

pub fn cases() -> Vec<Case> {
    let a = || uniform(&[3, 4], -2.0, 2.0, 1);
    let b = || uniform(&[4], 0.5, 2.0, 2);
    vec![
        Case::new("add broadcast", vec![a(), b()], |x| &x[0] + &x[1]).twice(),
        Case::new("sub broadcast", vec![a(), b()], |x| &x[1] - &x[0]).twice(),
        Case::new("mul broadcast", vec![a(), b()], |x| &x[0] * &x[1]).twice(),
        Case::new("mul scalar", vec![a()], |x| &x[0] * 3.0),
        Case::new("div broadcast", vec![a(), b()], |x| &x[0] / &x[1]).twice(),
        Case::new("rdiv scalar", vec![b()], |x| x[0].rdiv_scalar(2.0)),
        Case::new(
            "pow tensor",
            vec![
                uniform(&[3, 4], 0.5, 2.0, 3),
                uniform(&[3, 1], -1.5, 1.5, 4),
            ],
            |x| x[0].pow(&x[1]),
        )
        .twice(),
        Case::new("maximum", vec![a(), uniform(&[3, 4], -2.0, 2.0, 5)], |x| {
            x[0].maximum(&x[1])
        }),
        Case::new("minimum", vec![a(), uniform(&[4], -2.0, 2.0, 6)], |x| {
            x[0].minimum(&x[1])
        }),
        // Through f32 the finite differences need a larger step and looser tolerance.
        Case::new("to_dtype f32 round trip", vec![a()], |x| {
            x[0].to_dtype(DType::F32).to_dtype(DType::F64) * 2.0
        })
        .options(GradcheckOptions {
            eps: 1e-2,
            atol: 1e-4,
            ..Default::default()
        }),
        Case::new("sum_dims", vec![uniform(&[2, 3, 4], -1.0, 1.0, 7)], |x| {
            x[0].sum_dims(&[0, 2], false)
        }),
        Case::new(
            "sum_dims keepdim",
            vec![uniform(&[2, 3, 4], -1.0, 1.0, 8)],
            |x| x[0].sum_dims(&[1], true),
        ),
        Case::new("reshape", vec![a()], |x| x[0].reshape(&[2, -1])),
        Case::new("expand", vec![uniform(&[3, 1], -1.0, 1.0, 9)], |x| {
            x[0].expand(&[2, 3, 4])
        }),
        Case::new(
            "sum_to_size",
            vec![uniform(&[2, 3, 4], -1.0, 1.0, 10)],
            |x| x[0].sum_to_size(vec![3, 1]),
        ),
    ]
}
