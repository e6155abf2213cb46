//! Gradcheck cases for the linalg operations.

use super::{Case, uniform};
use baeum::autograd::gradcheck::GradcheckOptions;
use baeum::{DType, Tensor};

/// A well-conditioned square matrix (or batch of them): random entries plus 3·I.
fn conditioned(shape: &[usize], seed: u64) -> Tensor {
    let n = shape[shape.len() - 1];
    uniform(shape, -1.0, 1.0, seed) + Tensor::eye_dtype(n, n, DType::F64) * 3.0
}

fn matmul_cases() -> Vec<Case> {
    vec![
        Case::new(
            "matmul 2-D",
            vec![
                uniform(&[3, 4], -1.0, 1.0, 201),
                uniform(&[4, 2], -1.0, 1.0, 202),
            ],
            |x| x[0].matmul(&x[1]),
        )
        .twice(),
        Case::new(
            "matmul 1-D · 1-D",
            vec![uniform(&[4], -1.0, 1.0, 203), uniform(&[4], -1.0, 1.0, 204)],
            |x| x[0].matmul(&x[1]),
        )
        .twice(),
        Case::new(
            "matmul 1-D · 2-D",
            vec![
                uniform(&[4], -1.0, 1.0, 205),
                uniform(&[4, 3], -1.0, 1.0, 206),
            ],
            |x| x[0].matmul(&x[1]),
        )
        .twice(),
        Case::new(
            "matmul 2-D · 1-D",
            vec![
                uniform(&[3, 4], -1.0, 1.0, 207),
                uniform(&[4], -1.0, 1.0, 208),
            ],
            |x| x[0].matmul(&x[1]),
        ),
        Case::new(
            "matmul broadcast batch",
            vec![
                uniform(&[2, 1, 3, 4], -1.0, 1.0, 209),
                uniform(&[5, 4, 2], -1.0, 1.0, 210),
            ],
            |x| x[0].matmul(&x[1]),
        )
        .twice(),
        Case::new(
            "matmul batch · 2-D",
            vec![
                uniform(&[2, 3, 4], -1.0, 1.0, 211),
                uniform(&[4, 2], -1.0, 1.0, 212),
            ],
            |x| x[0].matmul(&x[1]),
        ),
        Case::new(
            "matmul 1-D · batch",
            vec![
                uniform(&[4], -1.0, 1.0, 213),
                uniform(&[3, 4, 2], -1.0, 1.0, 214),
            ],
            |x| x[0].matmul(&x[1]),
        ),
        Case::new(
            "matmul batch · 1-D",
            vec![
                uniform(&[2, 3, 4], -1.0, 1.0, 215),
                uniform(&[4], -1.0, 1.0, 216),
            ],
            |x| x[0].matmul(&x[1]),
        ),
        Case::new(
            "matmul of transposed views",
            vec![
                uniform(&[4, 3], -1.0, 1.0, 217),
                uniform(&[2, 4], -1.0, 1.0, 218),
            ],
            |x| x[0].t().matmul(&x[1].t()),
        ),
        Case::new(
            "matmul f64 · i64",
            vec![
                uniform(&[3, 4], -1.0, 1.0, 219),
                Tensor::from_vec(vec![1i64, -2, 0, 3, 2, 1, -1, 4], [4, 2]),
            ],
            |x| x[0].matmul(&x[1]),
        ),
        // The f64 gradient is cast back to the f32 operand; the finite differences go
        // through f32, hence the larger step and tolerance.
        Case::new(
            "matmul f32 · f64",
            vec![
                uniform(&[3, 4], -1.0, 1.0, 220),
                uniform(&[4, 2], -1.0, 1.0, 221),
            ],
            |x| x[0].to_dtype(DType::F32).matmul(&x[1]),
        )
        .options(GradcheckOptions {
            eps: 1e-2,
            atol: 1e-4,
            ..Default::default()
        }),
        Case::new(
            "dot",
            vec![uniform(&[5], -1.0, 1.0, 221), uniform(&[5], -1.0, 1.0, 222)],
            |x| x[0].dot(&x[1]),
        ),
        Case::new(
            "outer",
            vec![uniform(&[3], -1.0, 1.0, 223), uniform(&[2], -1.0, 1.0, 224)],
            |x| x[0].outer(&x[1]),
        ),
        Case::new(
            "mm",
            vec![
                uniform(&[3, 4], -1.0, 1.0, 225),
                uniform(&[4, 2], -1.0, 1.0, 226),
            ],
            |x| x[0].mm(&x[1]),
        ),
        Case::new(
            "bmm",
            vec![
                uniform(&[2, 3, 4], -1.0, 1.0, 227),
                uniform(&[2, 4, 2], -1.0, 1.0, 228),
            ],
            |x| x[0].bmm(&x[1]),
        ),
    ]
}

fn einsum_cases() -> Vec<Case> {
    let e = |name: &'static str, eq: &'static str, shapes: &[&[usize]], seed: u64| {
        let inputs = shapes
            .iter()
            .enumerate()
            .map(|(i, s)| uniform(s, -1.0, 1.0, seed + i as u64))
            .collect();
        Case::new(name, inputs, move |x| {
            let refs: Vec<&Tensor> = x.iter().collect();
            Tensor::einsum(eq, &refs)
        })
    };
    vec![
        e("einsum matmul", "ij,jk->ik", &[&[3, 4], &[4, 2]], 230).twice(),
        e(
            "einsum batched",
            "bij,bjk->bik",
            &[&[2, 3, 4], &[2, 4, 2]],
            232,
        ),
        e("einsum diagonal", "ii->i", &[&[4, 4]], 234).twice(),
        e("einsum trace", "ii", &[&[3, 3]], 235),
        e("einsum summed-out label", "ij->i", &[&[3, 4]], 236),
        e("einsum outer", "i,j->ij", &[&[3], &[2]], 237),
        e("einsum transpose", "ijk->kji", &[&[2, 3, 4]], 239),
        e("einsum repeated + free", "iij->ji", &[&[3, 3, 2]], 240).twice(),
        e(
            "einsum diagonal times vector",
            "ii,i->i",
            &[&[3, 3], &[3]],
            241,
        )
        .twice(),
        e(
            "einsum chain of three",
            "ij,jk,kl->il",
            &[&[2, 3], &[3, 4], &[4, 2]],
            243,
        )
        .twice(),
        e(
            "einsum label only in one operand",
            "ab,cd,bd->ac",
            &[&[2, 3], &[4, 5], &[3, 5]],
            246,
        ),
        e(
            "einsum ellipsis broadcast batch",
            "...ij,...jk->...ik",
            &[&[2, 3, 4, 5], &[3, 5, 2]],
            249,
        )
        .twice(),
        e(
            "einsum size-1 broadcast",
            "ij,ij->ij",
            &[&[1, 3], &[2, 3]],
            251,
        ),
        e("einsum implicit output", "ij,jk", &[&[3, 4], &[4, 2]], 253),
        e("einsum to a scalar", "ij,ij->", &[&[2, 3], &[2, 3]], 255),
        Case::new(
            "einsum broadcast diagonal",
            vec![
                uniform(&[1, 1], -1.0, 1.0, 257),
                uniform(&[3], -1.0, 1.0, 258),
            ],
            |x| Tensor::einsum("ii,i->i", &[&x[0], &x[1]]),
        ),
    ]
}

fn inverse_det_cases() -> Vec<Case> {
    // Rank 2 (third row = first + second), so det = 0 but the cofactors are not all zero.
    let singular = Tensor::from_vec(vec![1.0, 2.0, 0.5, -1.0, 0.5, 2.0, 0.0, 2.5, 2.5], [3, 3]);
    vec![
        Case::new("inverse", vec![conditioned(&[3, 3], 261)], |x| {
            x[0].inverse()
        })
        .twice(),
        Case::new("inverse batched", vec![conditioned(&[2, 3, 3], 262)], |x| {
            x[0].inverse()
        }),
        Case::new("det", vec![conditioned(&[3, 3], 263)], |x| x[0].det()).twice(),
        Case::new("det batched", vec![conditioned(&[2, 3, 3], 264)], |x| {
            x[0].det()
        }),
        Case::new("det 1×1", vec![uniform(&[2, 1, 1], 0.5, 1.5, 265)], |x| {
            x[0].det()
        }),
        Case::new("det singular", vec![singular.clone()], |x| x[0].det()),
        Case::new("det singular twice", vec![singular], |x| x[0].det()).twice(),
    ]
}

pub fn cases() -> Vec<Case> {
    let mut cases = matmul_cases();
    cases.extend(einsum_cases());
    cases.extend(inverse_det_cases());
    cases
}
