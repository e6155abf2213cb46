//! Saliency and Grad-CAM against PyTorch (fixtures/reference/make_reference.py computes the same maps on
//! LeNet-5 with formula weights) and against finite differences.

mod reference;

use baeum::nn::{Forward, Module, ModuleExt};
use baeum::{DType, Tensor};
use baeum_vision::explain::{self, cam, upsample_bilinear};
use baeum_vision::models::{self, LeNet5, MnistCnn, ModelConfig, VisionModel};
use reference::{fixture, formula_input, load_formula_weights, max_abs, max_abs_diff};

fn lenet() -> Box<dyn VisionModel> {
    baeum::manual_seed(0);
    let model = models::build("lenet5", 10, 1).unwrap();
    load_formula_weights(&*model);
    model
}

fn stack(maps: &[explain::HeatMap]) -> Tensor {
    let refs: Vec<Tensor> = maps.iter().map(|m| m.map.unsqueeze(0)).collect();
    let refs: Vec<&Tensor> = refs.iter().collect();
    Tensor::cat(&refs, 0)
}

fn assert_close(what: &str, got: &Tensor, want: &Tensor, rel: f64) {
    let err = max_abs_diff(got, want);
    let scale = max_abs(want).max(1e-12);
    assert!(
        err <= rel * scale,
        "{what}: max error {err} (scale {scale})"
    );
}

#[test]
fn the_logits_match_pytorch() {
    let model = lenet();
    let y = model.forward(&formula_input(&[2, 1, 28, 28])).unwrap();
    assert_close("logits", &y, &fixture("lenet5_logits.npy"), 1e-5);
}

#[test]
fn saliency_matches_pytorch() {
    let model = lenet();
    let x = formula_input(&[2, 1, 28, 28]);
    let given = explain::input_gradient(&*model, &x, Some(&[3, 7])).unwrap();
    assert_eq!(given.classes, [3, 7]);
    assert_close(
        "input gradient",
        &given.gradient,
        &fixture("lenet5_input_grad_given.npy"),
        1e-4,
    );
    for (tag, classes) in [("pred", None), ("given", Some(&[3usize, 7][..]))] {
        let maps = explain::saliency(&*model, &x, classes).unwrap();
        assert_eq!(maps.len(), 2);
        assert_eq!(maps[0].map.dims(), &[28, 28]);
        let want = fixture(&format!("lenet5_saliency_{tag}.npy"));
        assert_close(&format!("saliency {tag}"), &stack(&maps), &want, 1e-4);
        for m in &maps {
            let v = m.map.to_vec::<f32>();
            assert_eq!(v.iter().copied().fold(f32::MIN, f32::max), 1.0);
            assert_eq!(v.iter().copied().fold(f32::MAX, f32::min), 0.0);
        }
    }
    // PyTorch predicts class 9 for both formula images.
    let pred = explain::saliency(&*model, &x, None).unwrap();
    assert_eq!([pred[0].class, pred[1].class], [9, 9]);
    let logits = fixture("lenet5_logits.npy").to_vec::<f64>();
    assert!((pred[1].score as f64 - logits[19]).abs() < 1e-5);
}

#[test]
fn grad_cam_matches_pytorch() {
    let model = lenet();
    let x = formula_input(&[2, 1, 28, 28]);
    assert_eq!(model.cam_layer(), "relu2");
    for (tag, classes) in [("pred", None), ("given", Some(&[3usize, 7][..]))] {
        let g = explain::layer_gradient(&*model, &x, None, classes).unwrap();
        assert_eq!(g.activation.dims(), &[2, 16, 10, 10]);
        let raw = cam(&g.activation, &g.gradient).unwrap();
        let want = fixture(&format!("lenet5_cam_raw_{tag}.npy"));
        assert_close(&format!("raw cam {tag}"), &raw, &want, 1e-4);
        let maps = explain::grad_cam(&*model, &x, None, classes).unwrap();
        let want = fixture(&format!("lenet5_gradcam_{tag}.npy"));
        assert_close(&format!("grad-cam {tag}"), &stack(&maps), &want, 1e-4);
    }
}

#[test]
fn bilinear_resizing_matches_pytorch() {
    let m = fixture("bilinear_in.npy").to_dtype(baeum::DType::F32);
    for (h, w) in [(7, 11), (2, 3), (6, 4)] {
        let got = upsample_bilinear(&m, h, w).unwrap();
        assert_close(
            &format!("{h}x{w}"),
            &got,
            &fixture(&format!("bilinear_{h}x{w}.npy")),
            1e-6,
        );
    }
    // One map without a batch dim, and sizes that cannot be.
    let one = upsample_bilinear(&m.select(0, 1), 7, 11).unwrap();
    assert_eq!(one.dims(), &[7, 11]);
    assert!(upsample_bilinear(&m, 0, 3).is_err());
    assert!(upsample_bilinear(&Tensor::zeros([2]), 3, 3).is_err());
}

/// Central differences in f64 (the model built with `ModelConfig::dtype`): LeNet-5 is
/// piecewise linear (conv, ReLU, max pool, linear), so they are exact away from kinks.
#[test]
fn gradients_agree_with_finite_differences() {
    let config = ModelConfig::new(10).in_channels(1).dtype(DType::F64);
    let model = LeNet5::new(&config, &mut baeum::Generator::new(0)).unwrap();
    load_formula_weights(&model);
    let x = formula_input(&[1, 1, 28, 28]).to_dtype(DType::F64);
    let class = 4;
    let score = |x: &Tensor| model.forward(x).unwrap().to_vec::<f64>()[class];
    let g = explain::input_gradient(&model, &x, Some(&[class])).unwrap();
    assert_eq!(g.gradient.dtype(), DType::F64);
    let grad = g.gradient.to_vec::<f64>();
    let base = x.to_vec::<f64>();
    let h = 1e-5;
    let scale = grad.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for pixel in [0, 29, 200, 405, 406, 511, 783] {
        let mut plus = base.clone();
        plus[pixel] += h;
        let mut minus = base.clone();
        minus[pixel] -= h;
        let fd = (score(&Tensor::from_vec(plus, [1, 1, 28, 28]))
            - score(&Tensor::from_vec(minus, [1, 1, 28, 28])))
            / (2.0 * h);
        assert!(
            (fd - grad[pixel]).abs() < 1e-7 * scale,
            "pixel {pixel}: finite difference {fd}, gradient {} (scale {scale})",
            grad[pixel]
        );
    }

    // ∂score/∂A at the Grad-CAM layer, by nudging the activation through a tap.
    let lg = explain::layer_gradient(&model, &x, Some("relu2"), Some(&[class])).unwrap();
    let ga = lg.gradient.to_vec::<f64>();
    let scale = ga.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let nudged = |at: usize, by: f64| {
        let y = model
            .forward_hooked(&x, "relu2", &mut |a| {
                let mut v = a.to_vec::<f64>();
                v[at] += by;
                Ok(Tensor::from_vec(v, a.dims().to_vec()))
            })
            .unwrap();
        y.to_vec::<f64>()[class]
    };
    for at in [0, 57, 333, 1234, 1599] {
        let fd = (nudged(at, h) - nudged(at, -h)) / (2.0 * h);
        assert!(
            (fd - ga[at]).abs() < 1e-7 * scale,
            "activation {at}: finite difference {fd}, gradient {}",
            ga[at]
        );
    }
}

#[test]
fn explanations_work_on_frozen_models_and_restore_the_mode() {
    let config = ModelConfig::new(10).in_channels(1);
    let model = MnistCnn::new(&config, &mut baeum::Generator::new(0)).unwrap();
    model.train();
    model.freeze();
    let x = Tensor::rand([3, 1, 28, 28]);
    let sal = explain::saliency(&model, &x, None).unwrap();
    let cams = explain::grad_cam(&model, &x, Some("conv2"), Some(&[0, 1, 2])).unwrap();
    assert_eq!((sal.len(), cams.len()), (3, 3));
    assert_eq!(cams[2].class, 2);
    for m in sal.iter().chain(&cams) {
        let v = m.map.to_vec::<f32>();
        assert!(v.iter().all(|x| (0.0..=1.0).contains(x)));
    }
    // Dropout is back in training mode, and no parameter gained a gradient.
    assert!(model.dropout1.is_training());
    assert!(model.parameters().iter().all(|p| p.grad().is_none()));
}

#[test]
fn bad_requests_are_errors() {
    let model = lenet();
    let x = formula_input(&[2, 1, 28, 28]);
    let err = |r: baeum::Result<Vec<explain::HeatMap>>| r.unwrap_err().to_string();
    let e = err(explain::grad_cam(&*model, &x, None, Some(&[1])));
    assert!(e.contains("1 classes given for 2 images"), "{e}");
    let e = err(explain::saliency(&*model, &x, Some(&[1, 10])));
    assert!(e.contains("class 10 is out of range"), "{e}");
    let e = err(explain::grad_cam(&*model, &x, Some("fc1"), None));
    assert!(e.contains("[N, C, H, W]") && e.contains("fc1"), "{e}");
    let e = err(explain::grad_cam(&*model, &x, Some("conv9"), None));
    assert!(e.contains("'conv9'") && e.contains("relu2"), "{e}");
    let e = err(explain::saliency(&*model, &Tensor::zeros([28, 28]), None));
    assert!(e.contains("[N, C, H, W]"), "{e}");
}
