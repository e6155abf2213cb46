//! Optimizers and schedulers against PyTorch trajectories for the variants the conformance
//! suite keeps back (Nesterov, dampening, weight decay, AMSGrad, centered RMSprop, lr_decay,
//! momentum_decay, maximize, ExponentialLR, MultiStepLR, LinearLR, per-group settings), plus
//! state-dict round trips and gradient clipping.
//!
//! Each trajectory: parameters p0 = [0.5, −1, 1.5] and p1 = [[0.25, −0.75], [2, 0.1]] (f64),
//! eight steps with gradients g_k[i] = sin(1.3k + 0.7i + 0.2) (p1: + 0.5, row-major), the
//! scheduler stepped after each optimizer step; the constants are PyTorch 2.15's results.

use baeum::optim::*;
use baeum::{DType, Tensor};

// Generated with PyTorch 2.15.0 (float64); see make_params/grads in this file.
const SGD_NESTEROV_WEIGHT_DECAY: [f64; 7] = [
    -0.10510410821402377,
    -1.5585465586158744,
    1.132190265165568,
    -0.38048066211176146,
    -1.1436637474640905,
    1.914231695226205,
    0.4870123562122078,
];
const SGD_DAMPENING_MAXIMIZE: [f64; 7] = [
    0.6476856308968477,
    -0.8070530544888828,
    1.6474622967723198,
    0.4391352894306214,
    -0.5807562276580288,
    2.0697542646140015,
    0.03745823629761606,
];
const ADAGRAD_LR_DECAY: [f64; 7] = [
    0.35557834764663493,
    -1.0686062316065619,
    1.4012156262628563,
    0.12415041558782496,
    -0.7885714856412304,
    1.9209299877711579,
    0.1473830996689776,
];
const RMSPROP_CENTERED_MOMENTUM: [f64; 7] = [
    0.36869729005973956,
    -1.0851402379498343,
    1.4498279544227874,
    0.14981754666471586,
    -0.80679222326318,
    1.9803463693913852,
    0.11041620506771715,
];
const ADADELTA_RHO_WEIGHT_DECAY: [f64; 7] = [
    0.49640049541558506,
    -1.0009406852163714,
    1.499182078610129,
    0.24797005794228774,
    -0.7502404612446296,
    2.00006175160686,
    0.10176058780113392,
];
const ADAM_AMSGRAD_WEIGHT_DECAY: [f64; 7] = [
    0.34018280791382693,
    -1.1321925863985836,
    1.3947019183583875,
    0.09974710861357047,
    -0.8524815775245516,
    1.9362347292653208,
    0.12877554878473071,
];
const ADAM_DECOUPLED: [f64; 7] = [
    0.31812300521856013,
    -1.1117805965649281,
    1.3368646932322719,
    0.08087179328883276,
    -0.840692838597023,
    1.8678019115214228,
    0.12609377507558858,
];
const ADAMW_AMSGRAD_MAXIMIZE: [f64; 7] = [
    0.663998337890901,
    -0.8413556130348687,
    1.6008852975436734,
    0.41201939357587,
    -0.6238326763846852,
    2.0473316856191364,
    0.06961360320482617,
];
const NADAM_MOMENTUM_DECAY: [f64; 7] = [
    0.44597820310084874,
    -1.0258140201152013,
    1.4776848744760922,
    0.21056093858510846,
    -0.7633039102016657,
    1.9878786928723646,
    0.11401317286978464,
];
const NADAM_DECOUPLED: [f64; 7] = [
    0.4449476252099773,
    -1.024184602109204,
    1.4755654714736723,
    0.21012834511412234,
    -0.7621853073381684,
    1.9862200362849378,
    0.11390909237195146,
];
const EXPONENTIAL: [f64; 7] = [
    0.4106308944282671,
    -1.0975165304099828,
    1.4401995927414015,
    0.14986798439374718,
    -0.8245763229549233,
    1.9860537796692972,
    0.1532430076307505,
];
const EXPONENTIAL_LR: [f64; 8] = [
    0.08000000000000002,
    0.06400000000000002,
    0.051200000000000016,
    0.04096000000000002,
    0.03276800000000001,
    0.026214400000000013,
    0.02097152000000001,
    0.016777216000000008,
];
const MULTISTEP: [f64; 7] = [
    0.24860306508382918,
    -1.3041858529922137,
    1.2860885886290456,
    -0.053902440291213646,
    -1.0029998736300718,
    1.916892486831367,
    0.22587160932672848,
];
const MULTISTEP_LR: [f64; 8] = [0.1, 0.05, 0.05, 0.0125, 0.0125, 0.0125, 0.0125, 0.0125];
const LINEAR_WARMUP: [f64; 7] = [
    0.30598808838763025,
    -1.1713625483600092,
    1.4036969190533022,
    0.0646439009930535,
    -0.8712944793115096,
    1.979228611225861,
    0.19637579834951527,
];
const LINEAR_WARMUP_LR: [f64; 8] = [0.05, 0.07500000000000001, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];
const COSINE_WRAP: [f64; 7] = [
    0.28528079620290436,
    -1.207493944221346,
    1.397318959504016,
    0.029366479206579272,
    -0.8904037765162087,
    2.005860057726102,
    0.24936781525389853,
];
const COSINE_WRAP_LR: [f64; 8] = [
    0.0775,
    0.032500000000000015,
    0.01,
    0.0325,
    0.07750000000000005,
    0.10000000000000007,
    0.07750000000000007,
    0.03250000000000006,
];
const PLATEAU_MAX_ABS: [f64; 7] = [
    0.39452891977906285,
    -1.079862761001013,
    1.4833062626077513,
    0.15804022102051182,
    -0.7870522042424244,
    2.0352816011065133,
    0.19102191816483338,
];
const PLATEAU_MAX_ABS_LR: [f64; 8] = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025];
const PER_GROUP: [f64; 7] = [
    0.00020189167640544643,
    -1.5480896845588203,
    1.1613938819915286,
    0.22628897094870673,
    -0.7649573601783998,
    2.000830988901595,
    0.11622851091660956,
];
const CLIP_L2: (f64, [f64; 6]) = (
    5.852349955359813,
    [
        1.2815362675970765,
        -1.7087150234627688,
        0.4271787558656922,
        0.8543575117313844,
        -0.8543575117313844,
        0.2135893779328461,
    ],
);
const CLIP_L1: (f64, [f64; 6]) = (
    12.5,
    [
        0.5999999520000039,
        -0.7999999360000052,
        0.1999999840000013,
        0.3999999680000026,
        -0.3999999680000026,
        0.09999999200000065,
    ],
);
const CLIP_INF: (f64, [f64; 6]) = (
    4.0,
    [
        1.874999531250117,
        -2.499999375000156,
        0.624999843750039,
        1.249999687500078,
        -1.249999687500078,
        0.3124999218750195,
    ],
);
const CLIP_L3: (f64, [f64; 6]) = (
    4.7640397172728965,
    [
        1.5742938495062362,
        -2.099058466008315,
        0.5247646165020787,
        1.0495292330041575,
        -1.0495292330041575,
        0.26238230825103936,
    ],
);

const STEPS: usize = 8;

fn params() -> Vec<Tensor> {
    vec![
        Tensor::param(&Tensor::from_vec(vec![0.5, -1.0, 1.5], [3])),
        Tensor::param(&Tensor::from_vec(vec![0.25, -0.75, 2.0, 0.1], [2, 2])),
    ]
}

fn grad(k: usize, n: usize, offset: f64) -> Vec<f64> {
    (0..n)
        .map(|i| (1.3 * k as f64 + 0.7 * i as f64 + 0.2 + offset).sin())
        .collect()
}

fn set_grads(ps: &[Tensor], k: usize) {
    ps[0].set_grad(Some(Tensor::from_vec(grad(k, 3, 0.0), [3])));
    ps[1].set_grad(Some(Tensor::from_vec(grad(k, 4, 0.5), [2, 2])));
}

fn values(ps: &[Tensor]) -> Vec<f64> {
    ps.iter().flat_map(|p| p.to_vec::<f64>()).collect()
}

/// Runs steps `from..to` of the protocol, returning the lr of group 0 after each.
fn run_steps(
    ps: &[Tensor],
    opt: &mut dyn Optimizer,
    mut sched: Option<&mut dyn LrScheduler>,
    metric: Option<&[f64]>,
    from: usize,
    to: usize,
) -> Vec<f64> {
    let mut lrs = Vec::new();
    for k in from..to {
        set_grads(ps, k);
        opt.step().unwrap();
        if let Some(s) = sched.as_deref_mut() {
            s.step(opt, metric.map(|m| m[k])).unwrap();
        }
        lrs.push(opt.param_groups()[0].lr);
    }
    lrs
}

fn assert_close(got: &[f64], expected: &[f64], what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: lengths");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= 1e-12 + 1e-10 * e.abs(),
            "{what}[{i}]: got {g}, PyTorch {e}"
        );
    }
}

fn check(mut opt: impl Optimizer, ps: &[Tensor], expected: &[f64], what: &str) {
    run_steps(ps, &mut opt, None, None, 0, STEPS);
    assert_close(&values(ps), expected, what);
}

#[test]
fn sgd_variants_match_pytorch() {
    let ps = params();
    let opt = Sgd::new(ps.clone(), 0.1)
        .momentum(0.9)
        .nesterov(true)
        .weight_decay(0.01);
    check(opt, &ps, &SGD_NESTEROV_WEIGHT_DECAY, "SGD nesterov");
    let ps = params();
    let opt = Sgd::new(ps.clone(), 0.05)
        .momentum(0.8)
        .dampening(0.3)
        .maximize(true);
    check(opt, &ps, &SGD_DAMPENING_MAXIMIZE, "SGD dampening maximize");
}

#[test]
fn adaptive_variants_match_pytorch() {
    let ps = params();
    let opt = Adagrad::new(ps.clone(), 0.1)
        .lr_decay(0.05)
        .weight_decay(0.1)
        .initial_accumulator_value(0.2)
        .eps(1e-8);
    check(opt, &ps, &ADAGRAD_LR_DECAY, "Adagrad");
    let ps = params();
    let opt = Rmsprop::new(ps.clone(), 0.01)
        .alpha(0.9)
        .momentum(0.5)
        .centered(true)
        .weight_decay(0.01);
    check(opt, &ps, &RMSPROP_CENTERED_MOMENTUM, "RMSprop centered");
    let ps = params();
    let opt = Adadelta::new(ps.clone(), 0.5).rho(0.8).weight_decay(0.05);
    check(opt, &ps, &ADADELTA_RHO_WEIGHT_DECAY, "Adadelta");
}

#[test]
fn adam_family_variants_match_pytorch() {
    let ps = params();
    let opt = Adam::new(ps.clone(), 0.05)
        .betas(0.8, 0.95)
        .weight_decay(0.02)
        .amsgrad(true);
    check(opt, &ps, &ADAM_AMSGRAD_WEIGHT_DECAY, "Adam amsgrad");
    let ps = params();
    let opt = Adam::new(ps.clone(), 0.05)
        .weight_decay(0.1)
        .decoupled_weight_decay(true);
    check(opt, &ps, &ADAM_DECOUPLED, "Adam decoupled");
    let ps = params();
    let opt = AdamW::new(ps.clone(), 0.05).amsgrad(true).maximize(true);
    check(opt, &ps, &ADAMW_AMSGRAD_MAXIMIZE, "AdamW amsgrad maximize");
    let ps = params();
    let opt = NAdam::new(ps.clone(), 0.02)
        .momentum_decay(0.01)
        .weight_decay(0.05);
    check(opt, &ps, &NADAM_MOMENTUM_DECAY, "NAdam momentum_decay");
    let ps = params();
    let opt = NAdam::new(ps.clone(), 0.02)
        .weight_decay(0.05)
        .decoupled_weight_decay(true);
    check(opt, &ps, &NADAM_DECOUPLED, "NAdam decoupled");
}

#[test]
fn schedulers_match_pytorch() {
    let ps = params();
    let mut opt = Sgd::new(ps.clone(), 0.1);
    let mut s = ExponentialLr::new(&mut opt, 0.8);
    let lrs = run_steps(&ps, &mut opt, Some(&mut s), None, 0, STEPS);
    assert_close(&lrs, &EXPONENTIAL_LR, "ExponentialLR lr");
    assert_close(&values(&ps), &EXPONENTIAL, "ExponentialLR params");

    let ps = params();
    let mut opt = Sgd::new(ps.clone(), 0.1).momentum(0.9);
    let mut s = MultiStepLr::new(&mut opt, vec![2, 4, 4], 0.5);
    let lrs = run_steps(&ps, &mut opt, Some(&mut s), None, 0, STEPS);
    assert_close(&lrs, &MULTISTEP_LR, "MultiStepLR lr");
    assert_close(&values(&ps), &MULTISTEP, "MultiStepLR params");

    let ps = params();
    let mut opt = Adam::new(ps.clone(), 0.1);
    let mut s = LinearLr::new(&mut opt, 0.25, 1.0, 3);
    assert_eq!(opt.param_groups()[0].lr, 0.025, "LinearLR scales at once");
    let lrs = run_steps(&ps, &mut opt, Some(&mut s), None, 0, STEPS);
    assert_close(&lrs, &LINEAR_WARMUP_LR, "LinearLR lr");
    assert_close(&values(&ps), &LINEAR_WARMUP, "LinearLR params");

    let ps = params();
    let mut opt = Sgd::new(ps.clone(), 0.1);
    let mut s = CosineAnnealingLr::new(&mut opt, 3, 0.01);
    let lrs = run_steps(&ps, &mut opt, Some(&mut s), None, 0, STEPS);
    assert_close(&lrs, &COSINE_WRAP_LR, "CosineAnnealingLR lr");
    assert_close(&values(&ps), &COSINE_WRAP, "CosineAnnealingLR params");

    let ps = params();
    let mut opt = Sgd::new(ps.clone(), 0.1);
    let mut s = ReduceLrOnPlateau::new(&mut opt)
        .mode(PlateauMode::Max)
        .factor(0.5)
        .patience(1)
        .threshold(0.05)
        .threshold_mode(ThresholdMode::Abs)
        .cooldown(1)
        .min_lr(0.02);
    let metric = [0.5, 0.6, 0.62, 0.63, 0.7, 0.7, 0.71, 0.72];
    let lrs = run_steps(&ps, &mut opt, Some(&mut s), Some(&metric), 0, STEPS);
    assert_close(&lrs, &PLATEAU_MAX_ABS_LR, "ReduceLROnPlateau lr");
    assert_close(&values(&ps), &PLATEAU_MAX_ABS, "ReduceLROnPlateau params");
    assert!(
        s.step(&mut opt, None).is_err(),
        "the plateau scheduler needs a metric"
    );
}

#[test]
fn per_group_settings_match_pytorch() {
    let ps = params();
    let groups = vec![
        ParamGroup::new(vec![ps[0].clone()]),
        ParamGroup::new(vec![ps[1].clone()])
            .lr(0.01)
            .set("momentum", 0.5),
    ];
    let opt = Sgd::with_groups(groups, 0.1).unwrap().momentum(0.9);
    check(opt, &ps, &PER_GROUP, "per-group SGD");
}

/// Saves after `k` steps, loads into a fresh optimizer over fresh copies, continues: the
/// result must equal an uninterrupted run exactly.
fn round_trip<O: Optimizer>(make: impl Fn(Vec<Tensor>) -> O, what: &str) {
    let whole = params();
    let mut opt = make(whole.clone());
    run_steps(&whole, &mut opt, None, None, 0, STEPS);

    let first = params();
    let mut opt = make(first.clone());
    run_steps(&first, &mut opt, None, None, 0, 3);
    let saved = opt.state_dict();
    // Fresh parameters holding copies of the values reached (as if read from a checkpoint).
    let resumed: Vec<Tensor> = first
        .iter()
        .map(|p| Tensor::param(&Tensor::from_vec(p.to_vec::<f64>(), p.shape().clone())))
        .collect();
    let mut fresh = make(resumed.clone());
    fresh.load_state_dict(&saved).unwrap();
    run_steps(&resumed, &mut fresh, None, None, 3, STEPS);
    assert_eq!(
        values(&resumed),
        values(&whole),
        "{what}: resumed run differs"
    );
}

#[test]
fn state_dict_round_trips_resume_exactly() {
    round_trip(|p| Sgd::new(p, 0.1).momentum(0.9).nesterov(true), "SGD");
    round_trip(|p| Adagrad::new(p, 0.1).lr_decay(0.01), "Adagrad");
    round_trip(
        |p| Rmsprop::new(p, 0.01).centered(true).momentum(0.3),
        "RMSprop",
    );
    round_trip(|p| Adadelta::new(p, 1.0), "Adadelta");
    round_trip(|p| Adam::new(p, 0.05).amsgrad(true), "Adam");
    round_trip(|p| AdamW::new(p, 0.05), "AdamW");
    round_trip(|p| NAdam::new(p, 0.02), "NAdam");
}

#[test]
fn state_dict_holds_pytorch_style_keys_and_refuses_mismatches() {
    let ps = params();
    let mut opt = Adam::new(ps.clone(), 0.01).amsgrad(true);
    run_steps(&ps, &mut opt, None, None, 0, 2);
    let sd = opt.state_dict();
    for key in [
        "state.0.step",
        "state.0.exp_avg",
        "state.1.exp_avg_sq",
        "state.1.max_exp_avg_sq",
        "param_groups.0.lr",
        "param_groups.0.betas",
        "param_groups.0.amsgrad",
    ] {
        assert!(sd.contains_key(key), "missing {key}: {sd:?}");
    }
    assert_eq!(sd.get("state.0.step").unwrap().dtype(), DType::I64);
    assert_eq!(sd.get("state.0.step").unwrap().item::<i64>(), 2);
    assert_eq!(sd.get("state.1.exp_avg").unwrap().dims(), &[2, 2]);

    // Another optimizer's state.
    let mut sgd = Sgd::new(params(), 0.1);
    let e = sgd.load_state_dict(&sd).unwrap_err().to_string();
    assert!(e.contains("saved by Adam, not SGD"), "{e}");
    // Wrong shapes.
    let other = vec![
        Tensor::param(&Tensor::zeros_dtype([4], DType::F64)),
        Tensor::param(&Tensor::zeros_dtype([2, 2], DType::F64)),
    ];
    let mut adam = Adam::new(other, 0.01).amsgrad(true);
    let e = adam.load_state_dict(&sd).unwrap_err().to_string();
    assert!(e.contains("state.0.") && e.contains("shape"), "{e}");
    // A missing key.
    let mut partial = baeum::optim::StateDict::new();
    partial.insert("optimizer", sd.get("optimizer").unwrap().clone());
    let e = Adam::new(params(), 0.01)
        .load_state_dict(&partial)
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing key"), "{e}");
}

#[test]
fn scheduler_state_round_trips() {
    let ps = params();
    let mut opt = Sgd::new(ps.clone(), 0.1);
    let mut s = CosineAnnealingLr::new(&mut opt, 3, 0.01);
    run_steps(&ps, &mut opt, Some(&mut s), None, 0, 4);
    let saved_opt = opt.state_dict();
    let saved = s.state_dict();
    let ps2 = params();
    let mut opt2 = Sgd::new(ps2.clone(), 0.1);
    let mut s2 = CosineAnnealingLr::new(&mut opt2, 5, 0.0);
    opt2.load_state_dict(&saved_opt).unwrap();
    s2.load_state_dict(&saved).unwrap();
    assert_eq!((s2.t_max, s2.eta_min), (3, 0.01));
    let lrs = run_steps(&ps2, &mut opt2, Some(&mut s2), None, 4, STEPS);
    assert_close(&lrs, &COSINE_WRAP_LR[4..], "resumed cosine lr");
    let e = StepLr::new(&mut Sgd::new(params(), 0.1), 2, 0.5)
        .load_state_dict(&saved)
        .unwrap_err()
        .to_string();
    assert!(e.contains("saved by CosineAnnealingLR"), "{e}");
}

fn clip_case(norm_type: f64, expected: (f64, [f64; 6])) {
    let a = Tensor::param(&Tensor::zeros_dtype([2], DType::F64));
    let b = Tensor::param(&Tensor::zeros_dtype([2, 2], DType::F64));
    a.set_grad(Some(Tensor::from_vec(vec![3.0, -4.0], [2])));
    b.set_grad(Some(Tensor::from_vec(vec![1.0, 2.0, -2.0, 0.5], [2, 2])));
    let none = Tensor::param(&Tensor::zeros_dtype([3], DType::F64));
    let total = clip_grad_norm_(&[a.clone(), none.clone(), b.clone()], 2.5, norm_type).unwrap();
    assert!(
        (total - expected.0).abs() < 1e-12,
        "norm {norm_type}: total {total}"
    );
    let got: Vec<f64> = [a, b]
        .iter()
        .flat_map(|p| p.grad().unwrap().to_vec::<f64>())
        .collect();
    assert_close(&got, &expected.1, &format!("clip_grad_norm_ {norm_type}"));
    assert!(none.grad().is_none());
}

#[test]
fn clip_grad_norm_matches_pytorch() {
    clip_case(2.0, CLIP_L2);
    clip_case(1.0, CLIP_L1);
    clip_case(f64::INFINITY, CLIP_INF);
    clip_case(3.0, CLIP_L3);
    // Already small enough: unchanged (the scale is capped at 1).
    let a = Tensor::param(&Tensor::zeros_dtype([2], DType::F64));
    a.set_grad(Some(Tensor::from_vec(vec![0.3, 0.4], [2])));
    assert_eq!(
        clip_grad_norm_(std::slice::from_ref(&a), 1.0, 2.0).unwrap(),
        0.5
    );
    assert_eq!(a.grad().unwrap().to_vec::<f64>(), vec![0.3, 0.4]);
    // Non-finite totals.
    a.set_grad(Some(Tensor::from_vec(vec![f64::NAN, 0.4], [2])));
    let e = clip_grad_norm_with(std::slice::from_ref(&a), 1.0, 2.0, true).unwrap_err();
    assert!(e.to_string().contains("non-finite"), "{e}");
    assert!(clip_grad_norm_(&[a], 1.0, 2.0).unwrap().is_nan());
}

#[test]
fn clip_grad_value_clamps_each_element() {
    let a = Tensor::param(&Tensor::zeros([3]));
    a.set_grad(Some(Tensor::from_vec(vec![-3.0f32, 0.5, 2.0], [3])));
    clip_grad_value_(std::slice::from_ref(&a), 1.0).unwrap();
    assert_eq!(a.grad().unwrap().to_vec::<f32>(), vec![-1.0, 0.5, 1.0]);
    assert!(clip_grad_value_(&[a], -1.0).is_err());
}

#[test]
fn penalties_are_differentiable_sums() {
    let w = Tensor::param(&Tensor::from_vec(vec![1.0, -2.0, 0.5], [3]));
    let v = Tensor::param(&Tensor::from_vec(vec![3.0], [1]));
    let l1 = l1_penalty(&[w.clone(), v.clone()], 0.1).unwrap();
    assert!((l1.item::<f64>() - 0.65).abs() < 1e-12);
    let l2 = l2_penalty(&[w.clone(), v.clone()], 0.5).unwrap();
    assert!((l2.item::<f64>() - 0.5 * (1.0 + 4.0 + 0.25 + 9.0)).abs() < 1e-12);
    (l1 + l2).backward();
    // ∂/∂w = 0.1·sign(w) + 2·0.5·w
    assert_close(
        &w.grad().unwrap().to_vec::<f64>(),
        &[1.1, -2.1, 0.6],
        "penalty grad",
    );
    assert!(l1_penalty(&[], 0.1).is_err());
    assert!(l2_penalty(&[w], -1.0).is_err());
}

#[test]
fn f32_parameters_update_in_their_dtype() {
    let w = Tensor::param(&Tensor::from_vec(vec![1.0f32, -1.0], [2]));
    let mut opt = Adam::new(vec![w.clone()], 0.1);
    w.set_grad(Some(Tensor::from_vec(vec![0.5f32, -0.25], [2])));
    opt.step().unwrap();
    assert_eq!(w.dtype(), DType::F32);
    // Adam's first step moves each weight by lr against the gradient's sign.
    let got = w.to_vec::<f32>();
    assert!(
        (got[0] - 0.9).abs() < 1e-6 && (got[1] + 0.9).abs() < 1e-6,
        "{got:?}"
    );
    // Parameters without a gradient are skipped; zero_grad clears gradients.
    opt.zero_grad();
    assert!(w.grad().is_none());
    opt.step().unwrap();
    assert_eq!(w.to_vec::<f32>(), got);
}

#[test]
fn invalid_settings_are_refused() {
    let e = Sgd::with_groups(vec![ParamGroup::new(params())], -0.1).unwrap_err();
    assert!(e.to_string().contains("learning rate"), "{e}");
    let e =
        Sgd::with_groups(vec![ParamGroup::new(params()).set("nesterov", true)], 0.1).unwrap_err();
    assert!(e.to_string().contains("Nesterov"), "{e}");
    let e =
        Adam::with_groups(vec![ParamGroup::new(params()).set("momentum", 0.9)], 0.1).unwrap_err();
    assert!(
        e.to_string().contains("unknown hyper-parameter `momentum`"),
        "{e}"
    );
    let ints = vec![Tensor::from_vec(vec![1i64, 2], [2])];
    assert!(Sgd::with_groups(vec![ParamGroup::new(ints)], 0.1).is_err());
}

/// Learning rates before the first step and after each of 12 steps, from PyTorch 2.15:
/// `SequentialLR(opt, [LinearLR(opt, 0.1, 1.0, total_iters=3), CosineAnnealingLR(opt,
/// T_max=5, eta_min=0.001)], milestones=[3])` over SGD(lr=0.1).
const WARMUP_COSINE_LR: [f64; 13] = [
    0.010000000000000002,
    0.04,
    0.07,
    0.1,
    0.0905463412215599,
    0.06579634122155989,
    0.035203658778440096,
    0.010453658778440105,
    0.001,
    0.010453658778440102,
    0.03520365877844012,
    0.06579634122155993,
    0.09054634122155995,
];

/// The same for `SequentialLR(opt, [ExponentialLR(opt, 0.5), StepLR(opt, 2, 0.1),
/// LinearLR(opt, 0.5, 1.0, 2)], milestones=[2, 5])`.
const THREE_STAGE_LR: [f64; 13] = [
    0.1,
    0.05,
    0.1,
    0.1,
    0.010000000000000002,
    0.05,
    0.07500000000000001,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
];

fn sequential_lrs(opt: &mut Sgd, sched: &mut SequentialLr, steps: usize) -> Vec<f64> {
    let mut lrs = vec![opt.param_groups()[0].lr];
    for _ in 0..steps {
        opt.step().unwrap();
        sched.step(opt, None).unwrap();
        lrs.push(opt.param_groups()[0].lr);
        assert_eq!(sched.last_lr(), vec![opt.param_groups()[0].lr]);
    }
    lrs
}

#[test]
fn sequential_lr_matches_pytorch() {
    let mut opt = Sgd::new(params(), 0.1);
    let warmup = LinearLr::new(&mut opt, 0.1, 1.0, 3);
    let cosine = CosineAnnealingLr::new(&mut opt, 5, 0.001);
    let mut s =
        SequentialLr::new(&mut opt, vec![Box::new(warmup), Box::new(cosine)], vec![3]).unwrap();
    let lrs = sequential_lrs(&mut opt, &mut s, 12);
    assert_close(&lrs, &WARMUP_COSINE_LR, "warm-up then cosine");

    let mut opt = Sgd::new(params(), 0.1);
    let a = ExponentialLr::new(&mut opt, 0.5);
    let b = StepLr::new(&mut opt, 2, 0.1);
    let c = LinearLr::new(&mut opt, 0.5, 1.0, 2);
    let mut s = SequentialLr::new(
        &mut opt,
        vec![Box::new(a), Box::new(b), Box::new(c)],
        vec![2, 5],
    )
    .unwrap();
    let first = sequential_lrs(&mut opt, &mut s, 6);
    assert_eq!(s.current(), 2);
    // Resume from the state after 6 steps into fresh schedulers: the rest matches too.
    let saved = s.state_dict();
    let saved_opt = opt.state_dict();
    let mut opt2 = Sgd::new(params(), 0.1);
    let a = ExponentialLr::new(&mut opt2, 0.5);
    let b = StepLr::new(&mut opt2, 2, 0.1);
    let c = LinearLr::new(&mut opt2, 0.5, 1.0, 2);
    let mut s2 = SequentialLr::new(
        &mut opt2,
        vec![Box::new(a), Box::new(b), Box::new(c)],
        vec![2, 5],
    )
    .unwrap();
    opt2.load_state_dict(&saved_opt).unwrap();
    s2.load_state_dict(&saved).unwrap();
    let rest = sequential_lrs(&mut opt2, &mut s2, 6);
    let mut all = first;
    all.extend(&rest[1..]);
    assert_close(&all, &THREE_STAGE_LR, "three stages, resumed after 6");
}

#[test]
fn sequential_lr_refuses_bad_chains() {
    let mut opt = Sgd::new(params(), 0.1);
    let a = StepLr::new(&mut opt, 2, 0.5);
    let e = SequentialLr::new(&mut opt, vec![Box::new(a)], vec![3])
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("1 schedulers need 0 milestones"), "{e}");
    let a = StepLr::new(&mut opt, 2, 0.5);
    let b = StepLr::new(&mut opt, 2, 0.5);
    let c = StepLr::new(&mut opt, 2, 0.5);
    let e = SequentialLr::new(
        &mut opt,
        vec![Box::new(a), Box::new(b), Box::new(c)],
        vec![4, 4],
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("must increase strictly"), "{e}");
    let a = StepLr::new(&mut opt, 2, 0.5);
    let plateau = ReduceLrOnPlateau::new(&mut opt);
    let e = SequentialLr::new(&mut opt, vec![Box::new(a), Box::new(plateau)], vec![3])
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("scheduler 1") && e.contains("cannot be restarted"),
        "{e}"
    );
}
