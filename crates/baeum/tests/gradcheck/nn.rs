//! Gradcheck cases for `nn::functional`: convolutions in 1-3 dimensions (stride, padding,
//! dilation, groups, transposed), unfold/fold, pooling in 1-3 dimensions (max, average,
//! adaptive; ceil_mode, padding), embedding and whole recurrent sequences. Convolutions,
//! unfold/fold, average pools and the recurrences are checked to second order too.

use super::{Case, uniform};
use baeum::Tensor;
use baeum::autograd::{BackwardOptions, grad};
use baeum::nn::functional::*;

/// Values 0.1 apart in a shuffled order, so no pooling window has a tie (max pooling is not
/// differentiable at ties) and finite differences of size 1e-6 never change the argmax.
fn distinct(shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let mut order: Vec<usize> = (0..n).collect();
    baeum::Generator::new(seed).shuffle(&mut order);
    let v: Vec<f64> = order
        .iter()
        .map(|&k| k as f64 * 0.1 - n as f64 * 0.05)
        .collect();
    Tensor::from_vec(v, shape.to_vec())
}

fn conv_cases() -> Vec<Case> {
    vec![
        Case::new(
            "conv2d stride 2 padding 1 bias",
            vec![
                uniform(&[2, 2, 5, 5], -1.0, 1.0, 501),
                uniform(&[3, 2, 3, 3], -1.0, 1.0, 502),
                uniform(&[3], -1.0, 1.0, 503),
            ],
            |x| {
                let o = ConvOptions::default().stride(2).padding(1);
                conv2d(&x[0], &x[1], Some(&x[2]), &o).unwrap()
            },
        )
        .twice(),
        Case::new(
            "conv2d dilation groups asymmetric stride",
            vec![
                uniform(&[1, 4, 6, 5], -1.0, 1.0, 504),
                uniform(&[6, 2, 2, 3], -1.0, 1.0, 505),
            ],
            |x| {
                let o = ConvOptions::default()
                    .stride([2, 1])
                    .padding([0, 1])
                    .dilation([2, 1])
                    .groups(2);
                conv2d(&x[0], &x[1], None, &o).unwrap()
            },
        )
        .twice(),
        Case::new(
            "conv2d same padding even kernel, unbatched",
            vec![
                uniform(&[2, 4, 4], -1.0, 1.0, 506),
                uniform(&[2, 2, 2, 4], -1.0, 1.0, 507),
            ],
            |x| {
                let o = ConvOptions::default().padding(Padding::Same);
                conv2d(&x[0], &x[1], None, &o).unwrap()
            },
        ),
        Case::new(
            "conv1d stride padding dilation groups bias",
            vec![
                uniform(&[2, 4, 9], -1.0, 1.0, 508),
                uniform(&[2, 2, 3], -1.0, 1.0, 509),
                uniform(&[2], -1.0, 1.0, 510),
            ],
            |x| {
                let o = ConvOptions::default()
                    .stride(2)
                    .padding(1)
                    .dilation(2)
                    .groups(2);
                conv1d(&x[0], &x[1], Some(&x[2]), &o).unwrap()
            },
        )
        .twice(),
        Case::new(
            "conv_transpose2d stride padding output_padding bias",
            vec![
                uniform(&[2, 3, 3, 3], -1.0, 1.0, 511),
                uniform(&[3, 2, 3, 3], -1.0, 1.0, 512),
                uniform(&[2], -1.0, 1.0, 513),
            ],
            |x| {
                let o = ConvTransposeOptions::default()
                    .stride(2)
                    .padding(1)
                    .output_padding(1);
                conv_transpose2d(&x[0], &x[1], Some(&x[2]), &o).unwrap()
            },
        )
        .twice(),
        Case::new(
            "conv_transpose2d groups dilation",
            vec![
                uniform(&[1, 4, 3, 2], -1.0, 1.0, 514),
                uniform(&[4, 1, 2, 2], -1.0, 1.0, 515),
            ],
            |x| {
                let o = ConvTransposeOptions::default()
                    .stride([1, 2])
                    .groups(2)
                    .dilation(2);
                conv_transpose2d(&x[0], &x[1], None, &o).unwrap()
            },
        )
        .twice(),
        Case::new(
            "conv_transpose1d",
            vec![
                uniform(&[2, 3, 4], -1.0, 1.0, 516),
                uniform(&[3, 2, 3], -1.0, 1.0, 517),
            ],
            |x| {
                let o = ConvTransposeOptions::default().stride(3).padding(1);
                conv_transpose1d(&x[0], &x[1], None, &o).unwrap()
            },
        )
        .twice(),
        Case::new(
            "conv3d stride padding dilation groups bias",
            vec![
                uniform(&[2, 4, 4, 5, 4], -1.0, 1.0, 520),
                uniform(&[4, 2, 2, 3, 2], -1.0, 1.0, 521),
                uniform(&[4], -1.0, 1.0, 522),
            ],
            |x| {
                let o = ConvOptions::default()
                    .stride([2, 1, 1])
                    .padding([1, 0, 1])
                    .dilation([1, 2, 1])
                    .groups(2);
                conv3d(&x[0], &x[1], Some(&x[2]), &o).unwrap()
            },
        )
        .twice(),
        Case::new(
            "conv3d same padding even kernel, unbatched",
            vec![
                uniform(&[2, 3, 3, 4], -1.0, 1.0, 523),
                uniform(&[2, 2, 2, 3, 2], -1.0, 1.0, 524),
            ],
            |x| {
                let o = ConvOptions::default().padding(Padding::Same);
                conv3d(&x[0], &x[1], None, &o).unwrap()
            },
        ),
        Case::new(
            "conv_transpose3d stride padding output_padding groups dilation bias",
            vec![
                uniform(&[1, 4, 2, 3, 2], -1.0, 1.0, 525),
                uniform(&[4, 1, 2, 2, 3], -1.0, 1.0, 526),
                uniform(&[2], -1.0, 1.0, 527),
            ],
            |x| {
                let o = ConvTransposeOptions::default()
                    .stride([2, 1, 2])
                    .padding([0, 1, 1])
                    .output_padding([1, 0, 1])
                    .dilation([1, 2, 1])
                    .groups(2);
                conv_transpose3d(&x[0], &x[1], Some(&x[2]), &o).unwrap()
            },
        )
        .twice(),
        Case::new(
            "unfold",
            vec![uniform(&[1, 2, 4, 5], -1.0, 1.0, 518)],
            |x| unfold(&x[0], [2, 3], [1, 2], 1, [2, 1]).unwrap(),
        )
        .twice(),
        Case::new("fold", vec![uniform(&[2, 8, 6], -1.0, 1.0, 519)], |x| {
            fold(&x[0], [3, 4], 2, 1, 0, 1).unwrap()
        })
        .twice(),
    ]
}

fn pool_cases() -> Vec<Case> {
    vec![
        Case::new(
            "max_pool2d 3x3 stride 2 padding 1 (overlapping)",
            vec![distinct(&[1, 2, 5, 6], 601)],
            |x| max_pool2d(&x[0], &MaxPoolOptions::new(3).stride(2).padding(1)).unwrap(),
        )
        .twice(),
        Case::new(
            "max_pool2d ceil_mode dilation",
            vec![distinct(&[2, 1, 6, 7], 602)],
            |x| {
                let o = MaxPoolOptions::new([2, 3])
                    .stride([1, 2])
                    .padding(1)
                    .dilation(2)
                    .ceil_mode(true);
                max_pool2d(&x[0], &o).unwrap()
            },
        ),
        Case::new(
            "max_pool1d ceil_mode",
            vec![distinct(&[2, 2, 7], 603)],
            |x| max_pool1d(&x[0], &MaxPoolOptions::new(2).ceil_mode(true)).unwrap(),
        ),
        Case::new(
            "adaptive_max_pool2d",
            vec![distinct(&[1, 2, 5, 7], 604)],
            |x| adaptive_max_pool2d(&x[0], [2, 3]).unwrap(),
        ),
        Case::new("adaptive_max_pool1d", vec![distinct(&[2, 9], 605)], |x| {
            adaptive_max_pool1d(&x[0], 4).unwrap()
        }),
        Case::new(
            "avg_pool2d ceil_mode without pad count",
            vec![uniform(&[1, 2, 5, 6], -1.0, 1.0, 606)],
            |x| {
                let o = AvgPoolOptions::new(3)
                    .stride(2)
                    .padding(1)
                    .ceil_mode(true)
                    .count_include_pad(false);
                avg_pool2d(&x[0], &o).unwrap()
            },
        )
        .twice(),
        Case::new(
            "avg_pool2d divisor_override, unbatched",
            vec![uniform(&[2, 4, 4], -1.0, 1.0, 607)],
            |x| {
                let o = AvgPoolOptions::new(2).divisor_override(Some(3));
                avg_pool2d(&x[0], &o).unwrap()
            },
        ),
        Case::new(
            "avg_pool1d padding",
            vec![uniform(&[2, 3, 7], -1.0, 1.0, 608)],
            |x| avg_pool1d(&x[0], &AvgPoolOptions::new(3).stride(2).padding(1)).unwrap(),
        )
        .twice(),
        Case::new(
            "adaptive_avg_pool2d overlapping windows",
            vec![uniform(&[1, 2, 5, 7], -1.0, 1.0, 609)],
            |x| adaptive_avg_pool2d(&x[0], [3, 4]).unwrap(),
        )
        .twice(),
        Case::new(
            "adaptive_avg_pool1d",
            vec![uniform(&[2, 2, 10], -1.0, 1.0, 610)],
            |x| adaptive_avg_pool1d(&x[0], 4).unwrap(),
        ),
        Case::new(
            "max_pool3d padding dilation ceil_mode",
            vec![distinct(&[2, 2, 4, 5, 5], 613)],
            |x| {
                let o = MaxPoolOptions::new([2, 3, 2])
                    .stride([2, 2, 1])
                    .padding([1, 1, 0])
                    .dilation([1, 1, 2])
                    .ceil_mode(true);
                max_pool3d(&x[0], &o).unwrap()
            },
        ),
        Case::new(
            "adaptive_max_pool3d",
            vec![distinct(&[1, 2, 5, 4, 6], 614)],
            |x| adaptive_max_pool3d(&x[0], [2, 3, 4]).unwrap(),
        ),
        Case::new(
            "avg_pool3d ceil_mode without pad count",
            vec![uniform(&[2, 2, 5, 4, 6], -1.0, 1.0, 615)],
            |x| {
                let o = AvgPoolOptions::new([3, 2, 3])
                    .stride([2, 1, 2])
                    .padding([1, 0, 1])
                    .ceil_mode(true)
                    .count_include_pad(false);
                avg_pool3d(&x[0], &o).unwrap()
            },
        )
        .twice(),
        Case::new(
            "avg_pool3d divisor_override, unbatched",
            vec![uniform(&[2, 3, 4, 3], -1.0, 1.0, 616)],
            |x| {
                let o = AvgPoolOptions::new(2).stride(1).divisor_override(Some(5));
                avg_pool3d(&x[0], &o).unwrap()
            },
        ),
        Case::new(
            "adaptive_avg_pool3d overlapping windows",
            vec![uniform(&[1, 2, 5, 7, 6], -1.0, 1.0, 617)],
            |x| adaptive_avg_pool3d(&x[0], [3, 4, 2]).unwrap(),
        )
        .twice(),
        // The adjoint as a function of the upstream gradient: what a second derivative runs.
        Case::new(
            "avg_pool_backward",
            vec![uniform(&[1, 2, 3, 4], -1.0, 1.0, 611)],
            |x| {
                let a = uniform(&[1, 2, 5, 6], -1.0, 1.0, 612).requires_grad_(true);
                let o = AvgPoolOptions::new(3).stride(2).padding(1).ceil_mode(true);
                let y = avg_pool2d(&a, &o).unwrap();
                let g = grad(
                    &[&y],
                    &[&a],
                    Some(std::slice::from_ref(&x[0])),
                    BackwardOptions::create_graph(),
                )
                .unwrap();
                g[0].clone().unwrap()
            },
        ),
    ]
}

fn other_cases() -> Vec<Case> {
    let idx = Tensor::from_vec(vec![1i64, 4, 0, 4, 2, 0, 3, 3], [2, 4]);
    vec![
        Case::new(
            "embedding with repeated indices",
            vec![uniform(&[5, 3], -1.0, 1.0, 701)],
            move |x| embedding(&idx, &x[0], None).unwrap(),
        )
        .twice(),
        // Training-mode batch norm is one fused op (its second order replays the composition);
        // the other normalisations are composed of checked ops.
        Case::new(
            "batch_norm training",
            vec![
                uniform(&[4, 3, 2], -1.0, 1.0, 702),
                uniform(&[3], 0.5, 1.5, 703),
                uniform(&[3], -1.0, 1.0, 704),
            ],
            |x| batch_norm(&x[0], None, None, Some(&x[1]), Some(&x[2]), true, 0.1, 1e-5).unwrap(),
        )
        .twice(),
        Case::new(
            "batch_norm training [N, C, H, W] without affine",
            vec![uniform(&[3, 2, 2, 3], -1.0, 1.0, 708)],
            |x| batch_norm(&x[0], None, None, None, None, true, 0.1, 1e-5).unwrap(),
        )
        .twice(),
        Case::new(
            "batch_norm training [N, C] with weight only",
            vec![
                uniform(&[5, 4], -2.0, 2.0, 709),
                uniform(&[4], 0.5, 1.5, 710),
            ],
            |x| batch_norm(&x[0], None, None, Some(&x[1]), None, true, 0.1, 1e-3).unwrap(),
        ),
        Case::new(
            "group_norm",
            vec![uniform(&[2, 4, 3], -1.0, 1.0, 705)],
            |x| group_norm(&x[0], 2, None, None, 1e-5).unwrap(),
        ),
        Case::new(
            "layer_norm",
            vec![uniform(&[2, 3, 4], -1.0, 1.0, 706)],
            |x| layer_norm(&x[0], &[3, 4], None, None, 1e-5).unwrap(),
        ),
        Case::new(
            "local_response_norm",
            vec![uniform(&[2, 5, 3], -1.0, 1.0, 707)],
            |x| local_response_norm(&x[0], 3, 0.1, 0.75, 2.0).unwrap(),
        ),
    ]
}

/// A whole sequence through `recurrent` (the `recurrence` op): inputs are x `[T, B, I]`, then
/// per direction W_ih, W_hh, and (with `bias`) b_ih, b_hh, then h0 (and c0) when `state`.
/// Returns output, h_n and c_n flattened into one vector, so every packed row is checked.
fn sequence(x: &[Tensor], mode: RnnMode, dirs: usize, bias: bool, state: bool) -> Tensor {
    let per = if bias { 4 } else { 2 };
    let weights: Vec<CellWeights> = (0..dirs)
        .map(|d| {
            let w = &x[1 + d * per..1 + (d + 1) * per];
            CellWeights::new(&w[0], &w[1], bias.then(|| &w[2]), bias.then(|| &w[3]))
        })
        .collect();
    let s = 1 + dirs * per;
    let (h0, c0) = if state {
        (Some(&x[s]), (mode == RnnMode::Lstm).then(|| &x[s + 1]))
    } else {
        (None, None)
    };
    let opts = RecurrentOptions {
        mode,
        num_layers: 1,
        bidirectional: dirs == 2,
        batch_first: false,
        dropout: 0.0,
        training: true,
    };
    let out = recurrent(&x[0], h0, c0, &weights, opts, &mut baeum::Generator::new(0)).unwrap();
    let mut parts = vec![out.output.reshape(&[-1]), out.h_n.reshape(&[-1])];
    if let Some(c) = out.c_n {
        parts.push(c.reshape(&[-1]));
    }
    let refs: Vec<&Tensor> = parts.iter().collect();
    Tensor::cat(&refs, 0)
}

/// Inputs for [`sequence`]: T = 3 steps, batch 2, 3 input features, hidden 2.
fn sequence_inputs(gates: usize, dirs: usize, bias: bool, states: usize, seed: u64) -> Vec<Tensor> {
    let (t, b, i, h) = (3, 2, 3, 2);
    let mut v = vec![uniform(&[t, b, i], -1.0, 1.0, seed)];
    let mut k = seed;
    let mut next = |shape: &[usize]| {
        k += 1;
        uniform(shape, -0.8, 0.8, k)
    };
    for _ in 0..dirs {
        v.push(next(&[gates * h, i]));
        v.push(next(&[gates * h, h]));
        if bias {
            v.push(next(&[gates * h]));
            v.push(next(&[gates * h]));
        }
    }
    for _ in 0..states {
        v.push(next(&[dirs, b, h]));
    }
    v
}

fn recurrence_cases() -> Vec<Case> {
    vec![
        Case::new(
            "recurrence: LSTM with h0, c0 and biases",
            sequence_inputs(4, 1, true, 2, 801),
            |x| sequence(x, RnnMode::Lstm, 1, true, true),
        )
        .twice(),
        Case::new(
            "recurrence: bidirectional GRU with biases",
            sequence_inputs(3, 2, true, 0, 811),
            |x| sequence(x, RnnMode::Gru, 2, true, false),
        )
        .twice(),
        Case::new(
            "recurrence: GRU with h0, no biases",
            sequence_inputs(3, 1, false, 1, 821),
            |x| sequence(x, RnnMode::Gru, 1, false, true),
        ),
        Case::new(
            "recurrence: bidirectional LSTM, no biases",
            sequence_inputs(4, 2, false, 0, 831),
            |x| sequence(x, RnnMode::Lstm, 2, false, false),
        ),
        Case::new(
            "recurrence: tanh RNN with h0 and biases",
            sequence_inputs(1, 1, true, 1, 841),
            |x| sequence(x, RnnMode::Tanh, 1, true, true),
        )
        .twice(),
        Case::new(
            "recurrence: bidirectional relu RNN with biases",
            sequence_inputs(1, 2, true, 0, 851),
            |x| sequence(x, RnnMode::Relu, 2, true, false),
        ),
    ]
}

pub fn cases() -> Vec<Case> {
    let mut cases = conv_cases();
    cases.extend(pool_cases());
    cases.extend(other_cases());
    cases.extend(recurrence_cases());
    cases
}
