//! Gradcheck cases for the shape operations: views, joins and indexing, transforms.

use super::{Case, uniform};
use baeum::Tensor;
use baeum::ops::transform::PadMode;

/// An i64 index tensor.
fn ix(values: &[i64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(values.to_vec(), shape.to_vec())
}

fn views() -> Vec<Case> {
    let x3 = || uniform(&[2, 3, 4], -1.0, 1.0, 101);
    let x2 = || uniform(&[4, 5], -1.0, 1.0, 102);
    vec![
        Case::new("contiguous of a transpose", vec![x2()], |x| {
            x[0].t().contiguous().reshape(&[-1])
        }),
        Case::new("permute", vec![x3()], |x| x[0].permute(&[2, 0, 1])).twice(),
        Case::new("transpose", vec![x3()], |x| x[0].transpose(0, 2)),
        Case::new("t", vec![x2()], |x| x[0].t() * 2.0),
        Case::new("mt", vec![x3()], |x| x[0].mt()),
        Case::new(
            "squeeze",
            vec![uniform(&[3, 1, 4, 1], -1.0, 1.0, 103)],
            |x| x[0].squeeze(),
        ),
        Case::new(
            "squeeze_dim",
            vec![uniform(&[3, 1, 4], -1.0, 1.0, 104)],
            |x| x[0].squeeze_dim(1),
        ),
        Case::new("unsqueeze", vec![x2()], |x| x[0].unsqueeze(1)).twice(),
        Case::new("flatten of a permuted view", vec![x3()], |x| {
            x[0].permute(&[1, 0, 2]).flatten(0, 1)
        }),
        Case::new("narrow", vec![x2()], |x| x[0].narrow(1, 1, 3)).twice(),
        Case::new("slice step 3 (cropped tail)", vec![x2()], |x| {
            x[0].slice(1, 0, 5, 3)
        })
        .twice(),
        Case::new("slice step 2 negative start", vec![x2()], |x| {
            x[0].slice(0, -3, 4, 2)
        }),
        Case::new("slice step 1", vec![x2()], |x| x[0].slice(1, 2, 10, 1)),
        Case::new("slice of a slice", vec![x2()], |x| {
            x[0].slice(1, 1, 5, 2).slice(0, 1, 4, 2)
        }),
        Case::new("select", vec![x2()], |x| x[0].select(1, -1)).twice(),
        Case::new("select dim 0", vec![x3()], |x| x[0].select(0, 1)),
    ]
}

fn joins() -> Vec<Case> {
    vec![
        Case::new(
            "cat three along 0 (and a skipped [0])",
            vec![
                uniform(&[2, 3], -1.0, 1.0, 111),
                uniform(&[0], -1.0, 1.0, 112),
                uniform(&[1, 3], -1.0, 1.0, 113),
                uniform(&[4, 3], -1.0, 1.0, 114),
            ],
            |x| Tensor::cat(&[&x[0], &x[1], &x[2], &x[3]], 0),
        )
        .twice(),
        Case::new(
            "cat along 1, one input used twice",
            vec![
                uniform(&[2, 3], -1.0, 1.0, 115),
                uniform(&[2, 1], -1.0, 1.0, 116),
            ],
            |x| Tensor::concat(&[&x[0], &x[1], &x[0]], -1) * &x[1],
        )
        .twice(),
        Case::new(
            "stack",
            vec![
                uniform(&[2, 3], -1.0, 1.0, 117),
                uniform(&[2, 3], -1.0, 1.0, 118),
            ],
            |x| Tensor::stack(&[&x[0], &x[1]], 1),
        ),
        Case::new("split", vec![uniform(&[3, 5], -1.0, 1.0, 119)], |x| {
            let p = x[0].split(2, 1);
            Tensor::cat(&[&p[2], &(&p[0] * &p[1])], 1)
        }),
        Case::new("split_sizes", vec![uniform(&[6, 2], -1.0, 1.0, 120)], |x| {
            let p = x[0].split_sizes(&[1, 3, 2], 0);
            p[1].sum_dims(&[0], false) * &p[2].narrow(0, 0, 1)
        }),
        Case::new("chunk", vec![uniform(&[5, 2], -1.0, 1.0, 121)], |x| {
            let p = x[0].chunk(2, 0);
            Tensor::cat(&[&p[1], &p[0]], 0)
        }),
        Case::new("unbind", vec![uniform(&[3, 4], -1.0, 1.0, 122)], |x| {
            let p = x[0].unbind(0);
            Tensor::stack(&[&p[2], &(&p[0] * &p[1])], 0)
        }),
    ]
}

fn indexing() -> Vec<Case> {
    let x = || uniform(&[3, 4], -1.0, 1.0, 131);
    let dup_rows = ix(&[2, 0, 2, -1], &[4]);
    let gather_ix = ix(&[0, 0, 3, 1, 2, 1, 3, 3, 3], &[3, 3]);
    // Column 0 and column 1 are written twice (dim 0): the later write wins in scatter.
    let scatter_ix = ix(&[0, 1, 2, 0, 1, 1], &[2, 3]);
    let (s1, s2, s3, s4, s5) = (
        scatter_ix.clone(),
        scatter_ix.clone(),
        scatter_ix.clone(),
        scatter_ix.clone(),
        scatter_ix,
    );
    let g2 = gather_ix.clone();
    let mask = Tensor::from_vec(vec![true, false, true, true], [4]);
    let mask2 = Tensor::from_vec(
        vec![
            true, false, false, true, false, true, true, false, true, true, false, false,
        ],
        [3, 4],
    );
    let take_ix = ix(&[0, -1, 5, 5, 7, 0], &[2, 3]);
    vec![
        Case::new("index_select with repeated indices", vec![x()], move |x| {
            x[0].index_select(0, &dup_rows)
        })
        .twice(),
        Case::new(
            "index_select of a scalar",
            vec![uniform(&[], -1.0, 1.0, 132)],
            |x| x[0].index_select(0, &ix(&[0, 0, 0], &[3])),
        ),
        Case::new("gather with repeated indices", vec![x()], move |x| {
            x[0].gather(1, &gather_ix)
        })
        .twice(),
        Case::new("sort values", vec![x()], |x| x[0].sort(1, false).0),
        Case::new("topk values", vec![x()], |x| {
            x[0].topk(2, 1, true, true).0 * 3.0
        }),
        Case::new(
            "scatter with repeated indices, src larger than index",
            vec![
                uniform(&[3, 5], -1.0, 1.0, 133),
                uniform(&[2, 4], -1.0, 1.0, 134),
            ],
            move |x| x[0].scatter(0, &s1, &x[1]),
        ),
        Case::new(
            "scatter twice",
            vec![
                uniform(&[3, 5], -1.0, 1.0, 133),
                uniform(&[2, 4], -1.0, 1.0, 134),
            ],
            move |x| x[0].scatter(0, &s2, &x[1]) * &x[0],
        )
        .twice(),
        Case::new(
            "scatter_add with repeated indices",
            vec![
                uniform(&[3, 5], -1.0, 1.0, 135),
                uniform(&[2, 4], -1.0, 1.0, 136),
            ],
            move |x| x[0].scatter_add(0, &s3, &x[1]),
        ),
        Case::new(
            "scatter_add twice",
            vec![
                uniform(&[3, 5], -1.0, 1.0, 135),
                uniform(&[2, 3], -1.0, 1.0, 136),
            ],
            move |x| x[0].scatter_add(0, &s4, &x[1]) * &x[0],
        )
        .twice(),
        Case::new(
            "scatter_value",
            vec![uniform(&[3, 5], -1.0, 1.0, 137)],
            move |x| x[0].scatter_value(0, &s5, 2.5),
        ),
        Case::new("gather through gather's rule", vec![x()], move |x| {
            x[0].gather(1, &g2) * &x[0].gather(1, &g2)
        })
        .twice(),
        Case::new("masked_select", vec![x()], move |x| {
            x[0].masked_select(&mask)
        }),
        Case::new(
            "masked_select broadcast self",
            vec![uniform(&[4], -1.0, 1.0, 138)],
            move |x| x[0].masked_select(&mask2),
        ),
        Case::new("take with repeated indices", vec![x()], move |x| {
            x[0].t().take(&take_ix)
        }),
    ]
}

fn transforms() -> Vec<Case> {
    let x = || uniform(&[2, 5], -1.0, 1.0, 141);
    vec![
        Case::new(
            "pad constant",
            vec![uniform(&[2, 3, 4], -1.0, 1.0, 142)],
            |x| x[0].pad(&[1, 2, 0, 1], PadMode::Constant(0.5)),
        )
        .twice(),
        Case::new("pad constant crop", vec![x()], |x| {
            x[0].pad(&[-1, 2, 1, -1], PadMode::Constant(0.0))
        }),
        Case::new("pad reflect", vec![x()], |x| {
            x[0].pad(&[2, 3], PadMode::Reflect)
        })
        .twice(),
        Case::new(
            "pad reflect 2-D",
            vec![uniform(&[3, 4], -1.0, 1.0, 143)],
            |x| x[0].pad(&[1, 3, 2, 1], PadMode::Reflect),
        ),
        Case::new("pad replicate", vec![x()], |x| {
            x[0].pad(&[3, 2, 1, 0], PadMode::Replicate)
        }),
        Case::new("pad circular", vec![x()], |x| {
            x[0].pad(&[2, 5], PadMode::Circular)
        }),
        Case::new("repeat", vec![uniform(&[2, 3], -1.0, 1.0, 144)], |x| {
            x[0].repeat(&[2, 1, 3])
        })
        .twice(),
        Case::new("tile", vec![uniform(&[2, 3], -1.0, 1.0, 145)], |x| {
            x[0].tile(&[2])
        }),
        Case::new("flip", vec![uniform(&[3, 4], -1.0, 1.0, 146)], |x| {
            x[0].flip(&[0, -1])
        }),
        Case::new("roll", vec![uniform(&[3, 4], -1.0, 1.0, 147)], |x| {
            x[0].roll(&[1, -3], &[0, 1])
        }),
        Case::new("roll flat", vec![uniform(&[3, 4], -1.0, 1.0, 148)], |x| {
            x[0].roll(&[5], &[])
        }),
        Case::new("tril", vec![uniform(&[4, 4], -1.0, 1.0, 149)], |x| {
            x[0].tril(0)
        }),
        Case::new(
            "triu batched",
            vec![uniform(&[2, 3, 4], -1.0, 1.0, 150)],
            |x| x[0].triu(1),
        ),
        Case::new(
            "tril batched below",
            vec![uniform(&[2, 3, 4], -1.0, 1.0, 151)],
            |x| x[0].tril(-1),
        ),
        Case::new("cumsum", vec![uniform(&[3, 4], -1.0, 1.0, 152)], |x| {
            x[0].cumsum(1)
        })
        .twice(),
        Case::new(
            "cumsum dim 0",
            vec![uniform(&[3, 4], -1.0, 1.0, 153)],
            |x| x[0].cumsum(0) * &x[0],
        ),
        Case::new("cumprod", vec![uniform(&[3, 4], 0.5, 1.5, 154)], |x| {
            x[0].cumprod(1)
        })
        .twice(),
        Case::new(
            "cumprod with zeros",
            vec![Tensor::from_vec(
                vec![
                    1.2, 0.0, 0.7, 0.0, 1.3, //
                    0.9, 1.1, 0.0, 0.8, 1.4, //
                    0.5, 0.6, 0.7, 0.8, 0.9, //
                    0.0, 1.5, 0.6, 1.1, 0.7,
                ],
                [4, 5],
            )],
            |x| x[0].cumprod(1),
        )
        .twice(),
        Case::new(
            "cumprod with zeros along dim 0",
            vec![Tensor::from_vec(
                vec![1.2, 0.0, 0.7, 0.0, 1.3, 0.9, 1.1, 0.0, 0.8],
                [3, 3],
            )],
            |x| x[0].cumprod(0),
        ),
    ]
}

pub fn cases() -> Vec<Case> {
    let mut cases = views();
    cases.extend(joins());
    cases.extend(indexing());
    cases.extend(transforms());
    cases
}
