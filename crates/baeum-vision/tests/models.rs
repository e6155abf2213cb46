//! The classic CNNs: torchvision's key names and shapes (from the conformance suite's listing),
//! parameter counts, output shapes, forward values against PyTorch, initialisation, the
//! registry, freezing and head replacement, taps.

mod reference;

use baeum::io::{load_safetensors, read_npy};
use baeum::nn::{Forward, Layer, ModuleExt, summary};
use baeum::{Generator, Tensor};
use baeum_vision::models::{self, CifarResNet, ModelConfig, NAMES, ResNet, freeze_features};
use reference::{
    fixture, formula_input, load_formula_weights, max_abs, max_abs_diff, torch_models,
};
use serde_json::Value;

fn shape_of(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("a shape is a list")
        .iter()
        .map(|d| d.as_u64().expect("a size") as usize)
        .collect()
}

/// The model's state dict against a listing of `key → shape`: the same keys, the same shapes.
fn assert_same_keys(name: &str, model: &dyn Layer, listing: &serde_json::Map<String, Value>) {
    let own = model.state_dict();
    let mut ours: Vec<(&str, Vec<usize>)> =
        own.iter().map(|(k, t)| (k, t.dims().to_vec())).collect();
    let mut theirs: Vec<(&str, Vec<usize>)> = listing
        .iter()
        .map(|(k, s)| (k.as_str(), shape_of(s)))
        .collect();
    for (k, s) in &theirs {
        let found = ours.iter().find(|(o, _)| o == k);
        assert_eq!(found.map(|f| &f.1), Some(s), "{name}: key {k}");
    }
    assert_eq!(ours.len(), theirs.len(), "{name}: number of keys");
    // serde_json's map is sorted by key, so compare the sorted lists.
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs, "{name}");
}

#[test]
fn torchvision_state_dicts_match_key_for_key() {
    let Some(dir) = torch_models() else { return };
    let text = std::fs::read_to_string(dir.join("torchvision-arch.json")).unwrap();
    let arch: Value = serde_json::from_str(&text).unwrap();
    for name in [
        "alexnet", "vgg11", "vgg16", "resnet18", "resnet34", "resnet50",
    ] {
        let entry = &arch[name];
        // Zeros: the shapes and counts need no random numbers.
        let config = ModelConfig::new(1000).skip_init();
        let model = models::build_with(name, &config, &mut Generator::new(0)).unwrap();
        assert_eq!(model.arch(), name);
        assert_same_keys(name, &*model, entry["state_dict"].as_object().unwrap());
        assert_eq!(
            model.num_parameters(false) as u64,
            entry["parameter_count"].as_u64().unwrap(),
            "{name}: parameter count"
        );
        // serde_json sorts its maps, so the file's own order is read from the text: the keys
        // must come in the same order in this model's section as in our state dict.
        let start = text.find(&format!("\"{name}\":")).unwrap();
        let end = start + text[start..].find("output_for_input").unwrap();
        let section = &text[start..end];
        let mut last = 0;
        for key in model.state_dict().keys() {
            let at = section.find(&format!("\"{key}\"")).unwrap();
            assert!(
                at > last,
                "{name}: {key} comes earlier in torchvision's order"
            );
            last = at;
        }
    }
    // The counts COURSE and the issue quote.
    assert_eq!(arch["resnet18"]["parameter_count"], 11_689_512);
    assert_eq!(arch["alexnet"]["parameter_count"], 61_100_840);
}

#[test]
fn alexnet_and_resnet18_give_the_listed_output_for_a_224_image() {
    let listed: Option<Value> = torch_models().map(|dir| {
        serde_json::from_str(&std::fs::read_to_string(dir.join("torchvision-arch.json")).unwrap())
            .unwrap()
    });
    let x = Tensor::uniform_with(
        [1, 3, 224, 224],
        -1.0,
        1.0,
        baeum::DType::F32,
        &mut Generator::new(1),
    );
    for name in ["alexnet", "resnet18"] {
        let model =
            models::build_with(name, &ModelConfig::new(1000), &mut Generator::new(2)).unwrap();
        model.eval();
        let y = baeum::autograd::no_grad(|| model.forward(&x)).unwrap();
        assert_eq!(y.dims(), &[1, 1000], "{name}");
        if let Some(arch) = &listed {
            assert_eq!(
                y.dims(),
                shape_of(&arch[name]["output_for_input_1x3x224x224"]).as_slice()
            );
        }
        let v = y.to_vec::<f32>();
        assert!(v.iter().all(|x| x.is_finite()), "{name}: finite logits");
        assert!(max_abs(&y) > 0.0, "{name}: the logits are not all zero");
    }
}

#[test]
fn the_papers_alexnet_follows_course_8() {
    let config = ModelConfig::new(1000).skip_init();
    let model = models::build_with("alexnet_paper", &config, &mut Generator::new(0)).unwrap();
    let s = summary(&model, &[1, 3, 227, 227]).unwrap();
    let row = |name: &str| {
        s.rows
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no row {name}"))
    };
    // CONV1 96 11×11 stride 4 → 55×55×96 with (11·11·3)·96 + 96 = 34,944 parameters.
    assert_eq!(row("features.0").output_shape, [1, 96, 55, 55]);
    assert_eq!(row("features.0").params, 34_944);
    assert_eq!(row("features.2").output_shape, [1, 96, 27, 27]); // POOL1, 3×3 s2
    assert_eq!(row("features.2").params, 0);
    assert_eq!(row("features.3").type_name, "LocalResponseNorm"); // NORM1
    assert_eq!(row("features.4").output_shape, [1, 256, 27, 27]); // CONV2 5×5 pad 2
    assert_eq!(row("features.6").output_shape, [1, 256, 13, 13]); // POOL2
    assert_eq!(row("features.8").output_shape, [1, 384, 13, 13]); // CONV3
    assert_eq!(row("features.10").output_shape, [1, 384, 13, 13]); // CONV4
    assert_eq!(row("features.12").output_shape, [1, 256, 13, 13]); // CONV5
    assert_eq!(row("features.14").output_shape, [1, 256, 6, 6]); // POOL3
    assert_eq!(row("classifier.1").output_shape, [1, 4096]); // FC6
    assert_eq!(row("classifier.4").output_shape, [1, 4096]); // FC7
    assert_eq!(row("classifier.6").output_shape, [1, 1000]); // FC8
    assert_eq!(s.total_params, 62_378_344);

    // The paper's init: N(0, 0.01²) weights, bias 1 in CONV2, CONV4, CONV5, FC6, FC7. A
    // 67×67 input keeps the layers but shrinks FC6 (256·1·1 inputs), so this stays quick.
    let config = ModelConfig::new(10).image_size(67, 67);
    let small = models::build_with("alexnet_paper", &config, &mut Generator::new(4)).unwrap();
    let sd = small.state_dict();
    for (key, bias) in [
        ("features.0", 0.0),
        ("features.4", 1.0),
        ("features.8", 0.0),
        ("features.10", 1.0),
        ("features.12", 1.0),
        ("classifier.1", 1.0),
        ("classifier.4", 1.0),
        ("classifier.6", 0.0),
    ] {
        let b = sd.get(&format!("{key}.bias")).unwrap().to_vec::<f32>();
        assert!(b.iter().all(|&v| v == bias), "{key}.bias");
        let w = sd.get(&format!("{key}.weight")).unwrap().to_vec::<f64>();
        let std = (w.iter().map(|x| x * x).sum::<f64>() / w.len() as f64).sqrt();
        assert!((std - 0.01).abs() < 0.001, "{key}.weight std {std}");
    }
    assert_eq!(sd.get("classifier.1.weight").unwrap().dims(), &[4096, 256]);
    // The same model refuses a 227×227 image, naming the size it was built for.
    let err = small
        .forward(&Tensor::zeros([1, 3, 227, 227]))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("image_size") && err.contains("256"), "{err}");
}

/// `case.json`'s keys and count, then the case's PyTorch weights, input and eval-mode output.
#[test]
fn lenet5_and_cnn_reproduce_the_conformance_cases() {
    let Some(dir) = torch_models() else { return };
    for (case, name) in [("lenet5", "lenet5"), ("mnist_cnn", "cnn")] {
        let dir = dir.join(case);
        let json: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
        let model = models::build(name, 10, 1).unwrap();
        assert_same_keys(name, &*model, json["state_dict"].as_object().unwrap());
        assert_eq!(
            model.num_parameters(false) as u64,
            json["parameter_count"].as_u64().unwrap()
        );
        let (weights, _) = load_safetensors(dir.join("model.safetensors")).unwrap();
        model.load_state_dict(&weights, true).unwrap();
        model.eval();
        let x = read_npy(dir.join("input.npy")).unwrap();
        let want = read_npy(dir.join("output.npy")).unwrap();
        let got = model.forward(&x).unwrap();
        // PyTorch computed in f64, the model runs in f32.
        let err = max_abs_diff(&got, &want);
        assert!(
            err < 1e-4 * max_abs(&want).max(1.0),
            "{name}: max error {err}"
        );
    }
}

#[test]
fn resnets_match_pytorch_on_formula_weights() {
    // Bottleneck blocks, the 7×7 stem and the max pool: ResNet-50 on a 64×64 image.
    let config = ModelConfig::new(1000).skip_init();
    let r50 = ResNet::resnet50(&config, &mut Generator::new(0)).unwrap();
    load_formula_weights(&r50);
    let want = fixture("resnet50_logits.npy");
    let got = r50.forward(&formula_input(&[1, 3, 64, 64])).unwrap();
    let err = max_abs_diff(&got, &want);
    assert!(err < 1e-3 * max_abs(&want), "resnet50: max error {err}");
    drop(r50);

    // BasicBlocks with projection shortcuts: the CIFAR ResNet at n = 1 (the conformance
    // suite's `small_resnet` layout).
    let r8 = CifarResNet::new(1, &ModelConfig::new(10), &mut Generator::new(0)).unwrap();
    assert_eq!(r8.depth(), 8);
    assert_eq!(r8.num_parameters(false), 78_042); // PyTorch's count of the same module
    load_formula_weights(&r8);
    let want = fixture("resnet8_logits.npy");
    let got = r8.forward(&formula_input(&[2, 3, 32, 32])).unwrap();
    let err = max_abs_diff(&got, &want);
    assert!(err < 1e-4 * max_abs(&want), "resnet8: max error {err}");

    // resnet20 (n = 3): 272,474 parameters in PyTorch (the paper's 0.27M plus the two
    // projection shortcuts).
    let r20 = models::build("resnet_cifar", 10, 3).unwrap();
    assert_eq!(r20.arch(), "resnet20");
    assert_eq!(r20.num_parameters(false), 272_474);
    let y = r20.forward(&Tensor::zeros([2, 3, 32, 32])).unwrap();
    assert_eq!(y.dims(), &[2, 10]);
}

#[test]
fn initialisation_follows_torchvision_and_repeats_with_the_seed() {
    let config = ModelConfig::new(10);
    let a = ResNet::resnet18(&config, &mut Generator::new(3)).unwrap();
    let b = ResNet::resnet18(&config, &mut Generator::new(3)).unwrap();
    let c = ResNet::resnet18(&config, &mut Generator::new(4)).unwrap();
    let (sa, sb, sc) = (a.state_dict(), b.state_dict(), c.state_dict());
    for (k, t) in sa.iter() {
        assert_eq!(t.to_vec::<f64>(), sb.get(k).unwrap().to_vec::<f64>(), "{k}");
    }
    let w = |sd: &baeum::io::StateDict, k: &str| sd.get(k).unwrap().to_vec::<f64>();
    assert_ne!(w(&sa, "conv1.weight"), w(&sc, "conv1.weight"));
    // kaiming_normal, fan_out, ReLU gain: std = √2 / √(out·k·k).
    for (key, fan_out) in [
        ("conv1.weight", 64 * 49),
        ("layer1.0.conv1.weight", 64 * 9),
        ("layer4.1.conv2.weight", 512 * 9),
        ("layer3.0.downsample.0.weight", 256),
    ] {
        let v = w(&sa, key);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        let want = (2.0 / fan_out as f64).sqrt();
        assert!(
            (std / want - 1.0).abs() < 0.05,
            "{key}: std {std}, want {want}"
        );
        assert!(mean.abs() < 0.1 * want, "{key}: mean {mean}");
    }
    assert!(w(&sa, "layer2.1.bn2.weight").iter().all(|&x| x == 1.0));
    assert!(w(&sa, "layer2.1.bn2.bias").iter().all(|&x| x == 0.0));
    assert!(w(&sa, "bn1.running_var").iter().all(|&x| x == 1.0));
    // The linear head keeps PyTorch's default: U(−1/√512, 1/√512).
    let bound = 1.0 / 512f64.sqrt();
    let fc = w(&sa, "fc.weight");
    assert!(fc.iter().all(|x| x.abs() <= bound));
    assert!(fc.iter().any(|x| x.abs() > 0.9 * bound));

    // A zero-initialised model (for loading weights next) really is zeros.
    let z = ResNet::resnet18(&config.clone().skip_init(), &mut Generator::new(3)).unwrap();
    assert!(
        z.parameters()
            .iter()
            .filter(|p| p.dims().len() > 1)
            .all(|p| max_abs(p) == 0.0)
    );
}

#[test]
fn the_registry_builds_every_name_and_explains_unknown_ones() {
    baeum::manual_seed(0);
    for (name, size) in [
        ("lenet5", 28),
        ("cnn", 28),
        ("resnet_cifar", 32),
        ("resnet20", 32),
        ("resnet32", 32),
    ] {
        for channels in [1, 3] {
            let model = models::build(name, 7, channels).unwrap();
            assert_eq!((model.num_classes(), model.in_channels()), (7, channels));
            let y = model
                .forward(&Tensor::zeros([2, channels, size, size]))
                .unwrap();
            assert_eq!(y.dims(), &[2, 7], "{name}");
        }
    }
    for name in ["resnet44", "resnet56"] {
        assert!(models::build(name, 10, 3).is_ok(), "{name}");
    }
    assert!(NAMES.contains(&"alexnet_paper") && NAMES.contains(&"vgg16"));
    let err = models::build("resnet19", 10, 3).err().unwrap().to_string();
    assert!(
        err.contains("'resnet19'") && err.contains("lenet5, cnn, alexnet"),
        "{err}"
    );
    let err = models::build("lenet5", 0, 1).err().unwrap().to_string();
    assert!(err.contains("num_classes"), "{err}");

    // The MNIST models adapt their classifier to the image size they are built for.
    let cfg = ModelConfig::new(10).in_channels(1).image_size(8, 8);
    let cnn = models::build_with("cnn", &cfg, &mut Generator::new(0)).unwrap();
    assert_eq!(
        cnn.state_dict().get("fc1.weight").unwrap().dims(),
        &[128, 256]
    );
    assert_eq!(
        cnn.forward(&Tensor::zeros([3, 1, 8, 8])).unwrap().dims(),
        &[3, 10]
    );
    let err = models::build_with("lenet5", &cfg, &mut Generator::new(0))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("too small"), "{err}");

    // Wrong inputs are errors that say what the model expects.
    let lenet = models::build("lenet5", 10, 1).unwrap();
    let err = lenet
        .forward(&Tensor::zeros([1, 3, 28, 28]))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("[N, 1, H, W]"), "{err}");
    let err = lenet
        .forward(&Tensor::zeros([1, 1, 32, 32]))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("built for 400"), "{err}");
}

#[test]
fn freezing_the_features_and_replacing_the_head() {
    let mut model = models::build("lenet5", 10, 1).unwrap();
    assert_eq!(model.feature_prefixes(), ["conv1", "conv2"]);
    let frozen = freeze_features(&*model);
    assert_eq!(frozen, 6 * 25 + 6 + 16 * 6 * 25 + 16);
    assert_eq!(model.num_parameters(true), 61_706 - frozen);

    // Transfer learning: a 3-class head on the trained features.
    let before = model.state_dict_snapshot();
    model.replace_head(3, &mut Generator::new(9)).unwrap();
    assert_eq!(model.num_classes(), 3);
    let after = model.state_dict();
    assert_eq!(after.get("fc3.weight").unwrap().dims(), &[3, 84]);
    assert_eq!(
        before.get("conv2.weight").unwrap().to_vec::<f32>(),
        after.get("conv2.weight").unwrap().to_vec::<f32>()
    );
    let param = |k: &str| {
        model
            .named_parameters()
            .into_iter()
            .find(|(n, _)| n == k)
            .unwrap()
            .1
    };
    assert!(param("fc3.weight").requires_grad());
    let y = model.forward(&Tensor::ones([2, 1, 28, 28])).unwrap();
    assert_eq!(y.dims(), &[2, 3]);
    // Only the classifier learns: a backward reaches the fc weights, not the frozen convs.
    y.sum().backward();
    assert!(param("fc3.weight").grad().is_some());
    let conv = param("conv1.weight");
    assert!(conv.grad().is_none() && !conv.requires_grad());

    // The same on a ResNet and a VGG: the features are everything before the head.
    let r = models::build("resnet20", 10, 3).unwrap();
    assert_eq!(r.head_prefix(), "fc");
    freeze_features(&*r);
    assert_eq!(r.num_parameters(true), 64 * 10 + 10);
    let v = models::build_with(
        "vgg11",
        &ModelConfig::new(1000).skip_init(),
        &mut Generator::new(0),
    )
    .unwrap();
    assert_eq!(v.head_prefix(), "classifier.6");
    freeze_features(&*v);
    assert_eq!(
        v.num_parameters(true),
        25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
    );
    assert!(models::under_prefix("features.0.weight", "features"));
    assert!(!models::under_prefix("features_x.weight", "features"));
}

#[test]
fn taps_expose_named_activations() {
    let model = models::build("resnet18", 10, 3).unwrap();
    let names = model.layer_names();
    for n in [
        "conv1", "maxpool", "layer1.0", "layer2.1", "layer4", "avgpool", "fc",
    ] {
        assert!(names.iter().any(|x| x == n), "{n}");
    }
    assert_eq!(model.cam_layer(), "layer4");
    let mut seen = Vec::new();
    let y = model
        .forward_hooked(&Tensor::zeros([1, 3, 64, 64]), "layer4", &mut |a| {
            seen = a.dims().to_vec();
            Ok(a)
        })
        .unwrap();
    assert_eq!(seen, [1, 512, 2, 2]);
    assert_eq!(y.dims(), &[1, 10]);
    // A hook can change what flows on: zeroing layer4 leaves fc's bias as the output.
    model.eval();
    let y = model
        .forward_hooked(&Tensor::rand([1, 3, 64, 64]), "layer4", &mut |a| {
            Ok(Tensor::zeros(a.dims()))
        })
        .unwrap();
    let bias = model.state_dict().get("fc.bias").unwrap().to_vec::<f32>();
    assert_eq!(y.to_vec::<f32>(), bias);
    let err = model
        .forward_hooked(&Tensor::zeros([1, 3, 64, 64]), "layer5", &mut |a| Ok(a))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'layer5'") && err.contains("layer4.1"),
        "{err}"
    );

    let vgg = models::build_with(
        "vgg16",
        &ModelConfig::new(5).skip_init(),
        &mut Generator::new(0),
    )
    .unwrap();
    assert_eq!(vgg.cam_layer(), "features.29");
    let alex = models::build_with(
        "alexnet",
        &ModelConfig::new(5).skip_init(),
        &mut Generator::new(0),
    )
    .unwrap();
    assert_eq!(alex.cam_layer(), "features.11");
}
