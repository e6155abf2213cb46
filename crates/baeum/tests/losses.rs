//! Losses and activations of `nn::functional` against PyTorch 2.15 (float64): loss values and
//! the gradient of the (summed) loss with respect to the input, for every option.

// The reference values are PyTorch's printed outputs; some happen to equal ln 2.
#![allow(clippy::approx_constant)]

use baeum::nn::functional as F;
use baeum::nn::functional::{CrossEntropyOptions, Reduction};
use baeum::{DType, Tensor};

const MSE_MEAN: &[f64] = &[0.9566666666666667];
const MSE_MEAN_GRAD: &[f64] = &[
    0.16666666666666666,
    -0.3333333333333333,
    0.3333333333333333,
    0.09999999999999999,
    -0.1333333333333333,
    0.6,
];
const MSE_NONE: &[f64] = &[0.25, 1.0, 1.0, 0.09, 0.15999999999999992, 3.24];
const MSE_NONE_GRAD: &[f64] = &[1.0, -2.0, 2.0, 0.6, -0.7999999999999998, 3.6];
const L1_SUM: &[f64] = &[5.0];
const L1_SUM_GRAD: &[f64] = &[1.0, -1.0, 1.0, 1.0, -1.0, 1.0];
const SMOOTH_L1_BETA: &[f64] = &[0.5178571428571429];
const SMOOTH_L1_BETA_GRAD: &[f64] = &[
    0.11904761904761905,
    -0.16666666666666666,
    0.16666666666666666,
    0.07142857142857142,
    -0.09523809523809522,
    0.16666666666666666,
];
const HUBER_DELTA: &[f64] = &[2.1750000000000003];
const HUBER_DELTA_GRAD: &[f64] = &[0.5, -0.7, 0.7, 0.3, -0.3999999999999999, 0.7];
const BCE_WEIGHT: &[f64] = &[8.570522045135926];
const BCE_WEIGHT_GRAD: &[f64] = &[
    -0.1851851851851852,
    0.4166666666666666,
    -83333333666.31691,
    0.13333333333333333,
    0.0,
    0.11904761904761905,
];
const BCE_NONE: &[f64] = &[
    0.10536051565782628,
    0.22314355131420976,
    0.916290731874155,
    0.6931471805599453,
    0.35667494393873245,
    0.35667494393873234,
];
const BCE_NONE_GRAD: &[f64] = &[
    -1.1111111111111112,
    1.2499999999999998,
    -2.5,
    0.8,
    -1.4285714285714286,
    1.4285714285714286,
];
const BCE_LOGITS: &[f64] = &[10.48424567048137];
const BCE_LOGITS_GRAD: &[f64] = &[
    -0.05960146101105882,
    0.08964714045666504,
    -0.041666666666666664,
    0.11666666666664172,
    -0.16666666666666666,
    0.05568231434734718,
];
const BCE_LOGITS_PLAIN: &[f64] = &[63.236522928006686];
const BCE_LOGITS_PLAIN_GRAD: &[f64] = &[
    -0.11920292202211769,
    0.2689414213699951,
    -0.5,
    0.6999999999999065,
    -1.0,
    0.6681877721681662,
];
const CE_PLAIN: &[f64] = &[0.7725158680312401];
const CE_PLAIN_GRAD: &[f64] = &[
    -0.12064454961735412,
    0.07824383089686818,
    0.03181156770454068,
    0.010589151015945285,
    0.06200423875476744,
    0.027860300370556534,
    -0.1274720109622327,
    0.037607471836908726,
    0.08333333333333333,
    0.08333333333333333,
    0.08333333333333333,
    -0.25,
];
const CE_WEIGHT: &[f64] = &[1.077592490230392];
const CE_WEIGHT_GRAD: &[f64] = &[
    -0.08042969974490274,
    0.052162553931245456,
    0.02120771180302712,
    0.007059434010630189,
    0.02066807958492248,
    0.009286766790185511,
    -0.04249067032074423,
    0.012535823945636243,
    0.16666666666666666,
    0.16666666666666666,
    0.16666666666666666,
    -0.5,
];
const CE_IGNORE: &[f64] = &[1.1520490214350065];
const CE_IGNORE_GRAD: &[f64] = &[
    -0.09048341221301559,
    0.05868287317265114,
    0.023858675778405513,
    0.007941863261958964,
    0.0,
    0.0,
    0.0,
    0.0,
    0.1875,
    0.1875,
    0.1875,
    -0.5625,
];
const CE_IGNORE7_SUM: &[f64] = &[3.8682346017133664];
const CE_IGNORE7_SUM_GRAD: &[f64] = &[
    0.0,
    0.0,
    0.0,
    0.0,
    0.18601271626430232,
    -0.9164190988883304,
    0.6175839671133019,
    0.11282241551072619,
    0.25,
    0.25,
    0.25,
    -0.75,
];
const CE_SMOOTH: &[f64] = &[0.9525158680312401];
const CE_SMOOTH_GRAD: &[f64] = &[
    -0.07064454961735413,
    0.061577164230201514,
    0.015144901037874015,
    -0.0060775156507213825,
    0.04533757208810077,
    0.011193633703889866,
    -0.0774720109622327,
    0.020940805170242063,
    0.06666666666666667,
    0.06666666666666667,
    0.06666666666666667,
    -0.2,
];
const CE_SMOOTH_WEIGHT_IGNORE: &[f64] = &[0.8858889749284202];
const CE_SMOOTH_WEIGHT_IGNORE_GRAD: &[f64] = &[
    -0.16470300127021084,
    0.13293480732251156,
    0.059266248038815625,
    -0.02749805409111627,
    0.059288525807923445,
    0.0007955346205984212,
    -0.05615321342873508,
    -0.003930846999786808,
    0.0,
    0.0,
    0.0,
    0.0,
];
const CE_NONE: &[f64] = &[0.5968130023803544, 0.6044402405934755, 1.3862943611198906];
const CE_NONE_GRAD: &[f64] = &[
    -0.2869336488520624,
    0.20973149269060457,
    0.07043470311362204,
    0.006767453047835853,
    0.16101271626430233,
    0.0585809011116696,
    -0.30741603288669817,
    0.0878224155107262,
    0.225,
    0.225,
    0.225,
    -0.675,
];
const CE_PROBS: &[f64] = &[1.5860524082493441];
const CE_PROBS_GRAD: &[f64] = &[
    0.05550347570098993,
    0.024072265613051123,
    0.021790726752929465,
    -0.10136646806697046,
    0.029644262903961723,
    0.0003977673102992106,
    -0.02807660671436754,
    -0.001965423499893404,
    0.052083333333333356,
    -0.031249999999999972,
    0.09375000000000003,
    -0.11458333333333331,
];
const CE_SPATIAL: &[f64] = &[0.9296094871294257];
const CE_SPATIAL_GRAD: &[f64] = &[
    -0.047471164245518956,
    0.13765276694838732,
    0.08125292162846363,
    0.0417424481193533,
    0.007050991491385173,
    0.0227448574399239,
    -0.10024929795559494,
    -0.05507766387235971,
    0.04042017275413379,
    -0.1603976243883112,
    0.0189963763271313,
    0.013335215753006412,
    0.03820655850043918,
    -0.039918986331048095,
    0.0,
    0.06829883436987344,
    0.048992968641627506,
    0.005672017765378902,
    0.0,
    -0.08359166994662956,
    -0.08719952714206669,
    0.0342469685656692,
    0.0,
    0.015292835576756097,
];
const CE_ONE_SAMPLE: &[f64] = &[0.35213494228933956];
const CE_ONE_SAMPLE_GRAD: &[f64] = &[0.1916403305175532, -0.2968147738504915, 0.10517444333293838];
const NLL_WEIGHT: &[f64] = &[1.411501817624076];
const NLL_WEIGHT_GRAD: &[f64] = &[
    0.0,
    -0.4,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    -0.6000000000000001,
];
const NLL_SPATIAL_NONE: &[f64] = &[
    -0.0,
    -0.4121184852417566,
    0.27941549819892586,
    -0.6569865987187891,
    -0.9129452507276277,
    -0.4201670368266409,
    0.0,
    -0.14987720966295234,
];
const NLL_SPATIAL_NONE_GRAD: &[f64] = &[
    -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0, -1.0, 0.0, -1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0,
    0.0, -1.0, -1.0, 0.0, 0.0, 0.0,
];
const KL_BATCHMEAN: &[f64] = &[0.6621175433987025];
const KL_BATCHMEAN_GRAD: &[f64] = &[-0.1, -0.15, -0.25, -0.0, -0.3, -0.2];
const KL_LOG_TARGET_SUM: &[f64] = &[1.1494722694621995];
const KL_LOG_TARGET_SUM_GRAD: &[f64] = &[-0.2, -0.3, -0.5, -0.10000000000000002, -0.6, -0.4];
const RELU6: &[f64] = &[0.0, 0.0, 0.0, 0.0, 0.4, 1.2, 6.0];
const RELU6_GRAD: &[f64] = &[0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0];
const HARDTANH: &[f64] = &[-2.0, -2.0, -0.3, 0.0, 0.4, 1.0, 1.0];
const HARDTANH_GRAD: &[f64] = &[0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0];
const CELU: &[f64] = &[
    -0.49999958423564045,
    -0.49663102650045726,
    -0.22559418195298678,
    0.0,
    0.4,
    1.2,
    6.5,
];
const CELU_GRAD: &[f64] = &[
    8.315287191035679e-07,
    0.006737946999085467,
    0.5488116360940264,
    1.0,
    1.0,
    1.0,
    1.0,
];
const LOG_SIGMOID: &[f64] = &[
    -7.000911466453775,
    -2.5788897342925496,
    -0.8543552444685272,
    -0.6931471805599453,
    -0.5130152523999526,
    -0.26328246733803123,
    -0.0015023101597542838,
];
const LOG_SIGMOID_GRAD: &[f64] = &[
    0.9990889488055994,
    0.9241418199787564,
    0.5744425168116589,
    0.5,
    0.401312339887548,
    0.23147521650098238,
    0.0015011822567369915,
];
const TANHSHRINK: &[f64] = &[
    -6.0000016630560555,
    -1.5133857018485697,
    -0.008687387548409087,
    0.0,
    0.020051037744775124,
    0.36634539298784474,
    5.500004520648596,
];
const TANHSHRINK_GRAD: &[f64] = &[
    0.9999966738906552,
    0.9734077733168395,
    0.08486303817337082,
    0.0,
    0.14436121391882228,
    0.694980003792591,
    0.9999909587232446,
];
const THRESHOLD: &[f64] = &[-1.0, -1.0, -1.0, -1.0, 0.4, 1.2, 6.5];
const THRESHOLD_GRAD: &[f64] = &[0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
const SOFTMIN: &[f64] = &[
    0.9860580583600123,
    0.010954115556827305,
    0.001213750600762441,
    0.0008991685604081978,
    0.0006027307108066224,
    0.00027082436592837665,
    1.3518452548109063e-06,
];
const SOFTMIN_GRAD: &[f64] = &[-0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0];

fn t(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape.to_vec())
}

fn idx(v: &[i64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape.to_vec())
}

fn close(got: &[f64], expected: &[f64], what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: {got:?} vs {expected:?}");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= 1e-10 + 1e-9 * e.abs(),
            "{what}[{i}]: got {g}, PyTorch {e}"
        );
    }
}

/// Checks f(input)'s values and the gradient of its sum against PyTorch's.
fn check(what: &str, input: Tensor, f: impl Fn(&Tensor) -> Tensor, value: &[f64], grad: &[f64]) {
    let x = Tensor::param(&input);
    let out = f(&x);
    close(&out.to_vec::<f64>(), value, what);
    out.sum().backward();
    close(
        &x.grad().unwrap().to_vec::<f64>(),
        grad,
        &format!("{what} grad"),
    );
}

fn x() -> Tensor {
    t(&[1.0, -0.5, 2.0, 0.3, 0.8, -1.2], &[2, 3])
}
fn y() -> Tensor {
    t(&[0.5, 0.5, 1.0, 0.0, 1.2, -3.0], &[2, 3])
}

#[test]
fn regression_losses_match_pytorch() {
    let y = y();
    check(
        "mse mean",
        x(),
        |a| F::mse_loss(a, &y, Reduction::Mean).unwrap(),
        MSE_MEAN,
        MSE_MEAN_GRAD,
    );
    check(
        "mse none",
        x(),
        |a| F::mse_loss(a, &y, Reduction::None).unwrap(),
        MSE_NONE,
        MSE_NONE_GRAD,
    );
    check(
        "l1 sum",
        x(),
        |a| F::l1_loss(a, &y, Reduction::Sum).unwrap(),
        L1_SUM,
        L1_SUM_GRAD,
    );
    check(
        "smooth_l1 beta",
        x(),
        |a| F::smooth_l1_loss(a, &y, Reduction::Mean, 0.7).unwrap(),
        SMOOTH_L1_BETA,
        SMOOTH_L1_BETA_GRAD,
    );
    check(
        "huber delta",
        x(),
        |a| F::huber_loss(a, &y, Reduction::Sum, 0.7).unwrap(),
        HUBER_DELTA,
        HUBER_DELTA_GRAD,
    );
}

#[test]
fn binary_losses_match_pytorch() {
    let target = t(&[1.0, 0.0, 1.0, 0.3, 1.0, 0.0], &[2, 3]);
    let w = t(&[1.0, 2.0, 0.5], &[3]);
    // Probabilities of exactly 0 and 1: the logs clamp at −100.
    let p = t(&[0.9, 0.2, 0.0, 0.5, 1.0, 0.3], &[2, 3]);
    let x = Tensor::param(&p);
    let out = F::binary_cross_entropy(&x, &target, Some(&w), Reduction::Mean).unwrap();
    close(&out.to_vec::<f64>(), BCE_WEIGHT, "bce weight");
    // Gradients agree except where the input is exactly 0 or 1 (elements 2 and 4): there
    // PyTorch divides by max(x(1 − x), 1e-12), while the clamped logs here pass 0 / −w·y/x.
    out.backward();
    let g = x.grad().unwrap().to_vec::<f64>();
    for i in [0, 1, 3, 5] {
        close(&g[i..=i], &BCE_WEIGHT_GRAD[i..=i], "bce weight grad");
    }
    assert!(g.iter().all(|v| v.is_finite()));
    let ps = t(&[0.9, 0.2, 0.4, 0.5, 0.7, 0.3], &[2, 3]);
    check(
        "bce none",
        ps,
        |a| F::binary_cross_entropy(a, &target, None, Reduction::None).unwrap(),
        BCE_NONE,
        BCE_NONE_GRAD,
    );
    let logits = t(&[2.0, -1.0, 0.0, 30.0, -40.0, 0.7], &[2, 3]);
    let pw = t(&[3.0, 0.5, 1.0], &[3]);
    check(
        "bce logits weight pos_weight",
        logits.clone(),
        |a| {
            F::binary_cross_entropy_with_logits(a, &target, Some(&w), Some(&pw), Reduction::Mean)
                .unwrap()
        },
        BCE_LOGITS,
        BCE_LOGITS_GRAD,
    );
    check(
        "bce logits sum",
        logits,
        |a| F::binary_cross_entropy_with_logits(a, &target, None, None, Reduction::Sum).unwrap(),
        BCE_LOGITS_PLAIN,
        BCE_LOGITS_PLAIN_GRAD,
    );
    let e = F::binary_cross_entropy(&t(&[1.5], &[1]), &t(&[1.0], &[1]), None, Reduction::Mean)
        .unwrap_err();
    assert!(e.to_string().contains("element 0 is 1.5"), "{e}");
}

fn logits() -> Tensor {
    t(
        &[2.0, 1.0, 0.1, -1.0, 0.5, -0.3, 1.7, 0.0, 1.0, 1.0, 1.0, 1.0],
        &[3, 4],
    )
}

fn class_weights() -> Tensor {
    t(&[1.0, 2.0, 0.5, 3.0], &[4])
}

#[test]
fn cross_entropy_matches_pytorch_for_every_option() {
    let ce = |target: Tensor, o: CrossEntropyOptions| {
        move |a: &Tensor| F::cross_entropy(a, &target, &o).unwrap()
    };
    let tgt = || idx(&[0, 2, 3], &[3]);
    let o = CrossEntropyOptions::default;
    check("ce", logits(), ce(tgt(), o()), CE_PLAIN, CE_PLAIN_GRAD);
    check(
        "ce weight",
        logits(),
        ce(tgt(), o().weight(class_weights())),
        CE_WEIGHT,
        CE_WEIGHT_GRAD,
    );
    check(
        "ce ignore",
        logits(),
        ce(idx(&[0, -100, 3], &[3]), o().weight(class_weights())),
        CE_IGNORE,
        CE_IGNORE_GRAD,
    );
    check(
        "ce ignore_index 7, sum",
        logits(),
        ce(
            idx(&[7, 1, 3], &[3]),
            o().ignore_index(7).reduction(Reduction::Sum),
        ),
        CE_IGNORE7_SUM,
        CE_IGNORE7_SUM_GRAD,
    );
    check(
        "ce smoothing",
        logits(),
        ce(tgt(), o().label_smoothing(0.2)),
        CE_SMOOTH,
        CE_SMOOTH_GRAD,
    );
    check(
        "ce smoothing weight ignore",
        logits(),
        ce(
            idx(&[0, 2, -100], &[3]),
            o().weight(class_weights()).label_smoothing(0.1),
        ),
        CE_SMOOTH_WEIGHT_IGNORE,
        CE_SMOOTH_WEIGHT_IGNORE_GRAD,
    );
    check(
        "ce none",
        logits(),
        ce(tgt(), o().reduction(Reduction::None).label_smoothing(0.1)),
        CE_NONE,
        CE_NONE_GRAD,
    );
    let probs = t(
        &[
            0.7, 0.1, 0.1, 0.1, 0.0, 0.0, 1.0, 0.0, 0.25, 0.25, 0.25, 0.25,
        ],
        &[3, 4],
    );
    check(
        "ce probabilities",
        logits(),
        ce(probs, o().weight(class_weights()).label_smoothing(0.1)),
        CE_PROBS,
        CE_PROBS_GRAD,
    );
    let spatial: Vec<f64> = (0..24).map(|i| (i as f64).sin()).collect();
    let sp_t = idx(&[0, 2, 1, 1, 2, 0, -100, 1], &[2, 2, 2]);
    check(
        "ce spatial",
        t(&spatial, &[2, 3, 2, 2]),
        ce(sp_t.clone(), o().weight(t(&[0.5, 1.0, 2.0], &[3]))),
        CE_SPATIAL,
        CE_SPATIAL_GRAD,
    );
    check(
        "ce one sample",
        t(&[0.2, 1.5, -0.4], &[3]),
        ce(idx(&[1], &[]), o()),
        CE_ONE_SAMPLE,
        CE_ONE_SAMPLE_GRAD,
    );
    // Any integer dtype for the targets.
    let u8_targets = Tensor::from_vec(vec![0u8, 2, 3], [3]);
    check(
        "ce u8 targets",
        logits(),
        ce(u8_targets, o()),
        CE_PLAIN,
        CE_PLAIN_GRAD,
    );
    let i32_targets = Tensor::from_vec(vec![0i32, 2, 3], [3]);
    check(
        "ce i32 targets",
        logits(),
        ce(i32_targets, o()),
        CE_PLAIN,
        CE_PLAIN_GRAD,
    );
}

#[test]
fn nll_and_kl_match_pytorch() {
    let log_probs = logits().log_softmax(1).detach();
    check(
        "nll weight ignore",
        log_probs,
        |a| {
            F::nll_loss(
                a,
                &idx(&[1, -100, 3], &[3]),
                &CrossEntropyOptions::default().weight(class_weights()),
            )
            .unwrap()
        },
        NLL_WEIGHT,
        NLL_WEIGHT_GRAD,
    );
    let spatial: Vec<f64> = (0..24).map(|i| (i as f64).sin()).collect();
    let sp_t = idx(&[0, 2, 1, 1, 2, 0, -100, 1], &[2, 2, 2]);
    check(
        "nll spatial none",
        t(&spatial, &[2, 3, 2, 2]),
        |a| {
            F::nll_loss(
                a,
                &sp_t,
                &CrossEntropyOptions::default().reduction(Reduction::None),
            )
            .unwrap()
        },
        NLL_SPATIAL_NONE,
        NLL_SPATIAL_NONE_GRAD,
    );
    let q = t(&[0.2, 0.3, 0.5, 0.0, 0.6, 0.4], &[2, 3]);
    let li = t(&[0.1, 0.2, 0.3, 1.0, -1.0, 0.5], &[2, 3])
        .log_softmax(1)
        .detach();
    check(
        "kl batchmean",
        li.clone(),
        |a| F::kl_div(a, &q, Reduction::BatchMean, false).unwrap(),
        KL_BATCHMEAN,
        KL_BATCHMEAN_GRAD,
    );
    let log_q = q.clamp_min(0.1).log();
    check(
        "kl log_target sum",
        li,
        |a| F::kl_div(a, &log_q, Reduction::Sum, true).unwrap(),
        KL_LOG_TARGET_SUM,
        KL_LOG_TARGET_SUM_GRAD,
    );
}

#[test]
fn course_examples() {
    // COURSE §6: softmax of [2.0, 1.0, 0.1] ≈ [0.659, 0.242, 0.099].
    let s = F::softmax(&t(&[2.0, 1.0, 0.1], &[3]), 0).to_vec::<f64>();
    close(
        &s,
        &[0.6590011388859679, 0.24243297070471392, 0.09856589040931818],
        "softmax",
    );
    // Cross-entropy of one-hot L = [0, 1]: the prediction Ŷ = [0, 1] costs 0.
    let y_hat = t(&[0.0, 1.0], &[1, 2]);
    let l = t(&[0.0, 1.0], &[1, 2]);
    let cost = -(l * y_hat.clamp_min(1e-300).log()).sum();
    assert_eq!(cost.item::<f64>(), 0.0);
    // ...and as probability targets of a confident logit, the loss tends to 0.
    let confident = t(&[-50.0, 50.0], &[1, 2]);
    let ce = F::cross_entropy(
        &confident,
        &t(&[0.0, 1.0], &[1, 2]),
        &CrossEntropyOptions::default(),
    )
    .unwrap();
    assert!(ce.item::<f64>() < 1e-40);
}

#[test]
fn errors_name_the_problem() {
    let o = CrossEntropyOptions::default();
    let e = F::cross_entropy(&logits(), &idx(&[0, 4, 1], &[3]), &o)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("target 4 at index 1") && e.contains("4 classes"),
        "{e}"
    );
    let e = F::cross_entropy(&logits(), &idx(&[0, 1], &[2]), &o)
        .unwrap_err()
        .to_string();
    assert!(e.contains("[3]") && e.contains("[2]"), "{e}");
    let e = F::cross_entropy(&logits(), &t(&[0.0; 3], &[3]), &o)
        .unwrap_err()
        .to_string();
    assert!(e.contains("probability targets"), "{e}");
    let e = F::cross_entropy(
        &logits(),
        &idx(&[0, 1, 2], &[3]),
        &o.clone().weight(t(&[1.0], &[1])),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("one value per class"), "{e}");
    let e = F::mse_loss(&x(), &x().to_dtype(DType::F32), Reduction::Mean)
        .unwrap_err()
        .to_string();
    assert!(e.contains("dtype"), "{e}");
    let e = F::l1_loss(&x(), &t(&[1.0; 3], &[3]), Reduction::Mean)
        .unwrap_err()
        .to_string();
    assert!(e.contains("[2, 3]") && e.contains("[3]"), "{e}");
}

#[test]
fn activations_match_pytorch() {
    let z = || t(&[-7.0, -2.5, -0.3, 0.0, 0.4, 1.2, 6.5], &[7]);
    check("relu6", z(), F::relu6, RELU6, RELU6_GRAD);
    check(
        "hardtanh",
        z(),
        |a| F::hardtanh(a, -2.0, 1.0),
        HARDTANH,
        HARDTANH_GRAD,
    );
    check("celu", z(), |a| F::celu(a, 0.5), CELU, CELU_GRAD);
    check(
        "log_sigmoid",
        z(),
        F::log_sigmoid,
        LOG_SIGMOID,
        LOG_SIGMOID_GRAD,
    );
    check(
        "tanhshrink",
        z(),
        F::tanhshrink,
        TANHSHRINK,
        TANHSHRINK_GRAD,
    );
    check(
        "threshold",
        z(),
        |a| F::threshold(a, 0.3, -1.0),
        THRESHOLD,
        THRESHOLD_GRAD,
    );
    check("softmin", z(), |a| F::softmin(a, 0), SOFTMIN, SOFTMIN_GRAD);
    // PReLU with one slope per channel (dimension 1), and GLU.
    let x = t(&[1.0, -2.0, 0.5, 3.0, 0.0, 1.0, -1.0, 2.0], &[1, 4, 2]);
    let w = t(&[0.25, -0.5, 1.0, 2.0], &[4]);
    let p = F::prelu(&x, &w).unwrap().to_vec::<f64>();
    close(&p, &[1.0, -0.5, 0.5, 3.0, 0.0, 1.0, -2.0, 2.0], "prelu");
    assert!(F::prelu(&x, &t(&[1.0, 2.0], &[2])).is_err());
    let g = t(&[1.0, 2.0, -1.0, 0.5, 3.0, -2.0, 0.0, 1.0], &[2, 4]);
    let glu = F::glu(&g, 1).unwrap().to_vec::<f64>();
    close(
        &glu,
        &[
            0.2689414213699951,
            1.2449186624037092,
            1.5,
            -1.4621171572600098,
        ],
        "glu",
    );
    assert!(F::glu(&t(&[1.0; 3], &[3]), 0).is_err());
    // The unit step, with gradient 0.
    let s = Tensor::param(&t(&[-1.0, 0.0, 2.0], &[3]));
    let step = F::heaviside(&s, 0.5);
    assert_eq!(step.to_vec::<f64>(), vec![0.0, 0.5, 1.0]);
    step.sum().backward();
    assert_eq!(s.grad().unwrap().to_vec::<f64>(), vec![0.0; 3]);
    // Maxout over pairs of channels: max(w1ᵀx + b1, w2ᵀx + b2).
    let h = t(&[1.0, 3.0, -2.0, -5.0, 0.5, 0.25], &[1, 6]);
    assert_eq!(
        F::maxout(&h, 2, 1).unwrap().to_vec::<f64>(),
        vec![3.0, -2.0, 0.5]
    );
    assert!(F::maxout(&h, 4, 1).is_err());
}
