//! 3-D pooling and convolution against PyTorch: outputs, max-pool indices and gradients from
//! `fixtures/reference_3d.safetensors` (made by `fixtures/make_3d_reference.py`); the 3-D
//! layers' parameter names, shapes and initialisation bounds; errors on wrong shapes.

use std::sync::OnceLock;

use baeum::io::{StateDict, load_safetensors};
use baeum::nn::functional::*;
use baeum::nn::{
    AdaptiveAvgPool3d, AdaptiveMaxPool3d, AvgPool3d, Conv3d, ConvTranspose3d, Forward,
    GlobalAvgPool, MaxPool3d, Module, ModuleExt,
};
use baeum::{DType, Generator, Tensor};

fn reference() -> &'static StateDict {
    static R: OnceLock<StateDict> = OnceLock::new();
    R.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/reference_3d.safetensors"
        );
        load_safetensors(path).expect("reference file").0
    })
}

fn get(key: &str) -> Tensor {
    reference()
        .get(key)
        .unwrap_or_else(|| panic!("{key} in the reference file"))
        .clone()
}

fn close(name: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.dims(), want.dims(), "{name}: shape");
    let (g, w) = (got.to_vec::<f64>(), want.to_vec::<f64>());
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        assert!(
            (a - b).abs() <= 1e-10 + 1e-8 * b.abs(),
            "{name}[{i}]: {a} vs {b}"
        );
    }
}

/// Runs `f` on the case's inputs `names` (each requiring grad), compares the output with
/// PyTorch's, backpropagates sum(y · upstream) and compares every input's gradient.
fn check(case: &str, names: &[&str], f: impl Fn(&[Tensor]) -> Tensor) {
    let inputs: Vec<Tensor> = names
        .iter()
        .map(|n| get(&format!("{case}.{n}")).detach().requires_grad_(true))
        .collect();
    let y = f(&inputs);
    close(&format!("{case}.y"), &y, &get(&format!("{case}.y")));
    (&y * &get(&format!("{case}.upstream"))).sum().backward();
    for (n, t) in names.iter().zip(&inputs) {
        let key = format!("{case}.grad_{n}");
        close(&key, &t.grad().expect(&key), &get(&key));
    }
}

fn same_indices(case: &str, got: &Tensor) {
    let want = get(&format!("{case}.indices"));
    assert_eq!(got.dims(), want.dims(), "{case}.indices: shape");
    assert_eq!(got.dtype(), DType::I64);
    assert_eq!(got.to_vec::<i64>(), want.to_vec::<i64>(), "{case}.indices");
}

fn max_options() -> MaxPoolOptions {
    MaxPoolOptions::new([2, 3, 2])
        .stride([2, 2, 1])
        .padding([1, 1, 0])
        .dilation([1, 1, 2])
        .ceil_mode(true)
}

#[test]
fn max_pool3d_matches_pytorch() {
    check("max_pool3d", &["x"], |x| {
        let (y, i) = max_pool3d_with_indices(&x[0], &max_options()).unwrap();
        same_indices("max_pool3d", &i);
        y
    });
    check("max_pool3d_default", &["x"], |x| {
        let (y, i) = max_pool3d_with_indices(&x[0], &MaxPoolOptions::new(2)).unwrap();
        same_indices("max_pool3d_default", &i);
        y
    });
}

fn avg_options(count_include_pad: bool) -> AvgPoolOptions {
    AvgPoolOptions::new([3, 2, 3])
        .stride([2, 1, 2])
        .padding([1, 0, 1])
        .ceil_mode(true)
        .count_include_pad(count_include_pad)
}

#[test]
fn avg_pool3d_matches_pytorch() {
    check("avg_pool3d_pad1", &["x"], |x| {
        avg_pool3d(&x[0], &avg_options(true)).unwrap()
    });
    check("avg_pool3d_pad0", &["x"], |x| {
        avg_pool3d(&x[0], &avg_options(false)).unwrap()
    });
    check("avg_pool3d_divisor", &["x"], |x| {
        let o = AvgPoolOptions::new(2).stride(1).divisor_override(Some(5));
        avg_pool3d(&x[0], &o).unwrap()
    });
}

#[test]
fn adaptive_pool3d_matches_pytorch() {
    check("adaptive_avg_pool3d", &["x"], |x| {
        adaptive_avg_pool3d(&x[0], [3, 4, 2]).unwrap()
    });
    check("adaptive_max_pool3d", &["x"], |x| {
        let (y, i) = adaptive_max_pool3d_with_indices(&x[0], [2, 3, 4]).unwrap();
        same_indices("adaptive_max_pool3d", &i);
        y
    });
}

fn conv_options() -> ConvOptions {
    ConvOptions::default()
        .stride([2, 1, 2])
        .padding([1, 0, 1])
        .dilation([1, 2, 1])
        .groups(2)
}

fn conv_transpose_options() -> ConvTransposeOptions {
    ConvTransposeOptions::default()
        .stride([2, 1, 2])
        .padding([1, 0, 1])
        .output_padding([1, 0, 0])
        .groups(2)
        .dilation([1, 2, 1])
}

#[test]
fn conv3d_matches_pytorch() {
    check("conv3d", &["x", "w", "b"], |x| {
        conv3d(&x[0], &x[1], Some(&x[2]), &conv_options()).unwrap()
    });
    check("conv3d_same", &["x", "w"], |x| {
        let o = ConvOptions::default()
            .padding(Padding::Same)
            .dilation([1, 1, 2]);
        conv3d(&x[0], &x[1], None, &o).unwrap()
    });
}

#[test]
fn conv_transpose3d_matches_pytorch() {
    check("conv_transpose3d", &["x", "w", "b"], |x| {
        conv_transpose3d(&x[0], &x[1], Some(&x[2]), &conv_transpose_options()).unwrap()
    });
    check("conv_transpose3d_unbatched", &["x", "w"], |x| {
        let o = ConvTransposeOptions::default().stride(2);
        conv_transpose3d(&x[0], &x[1], None, &o).unwrap()
    });
}

/// The case's weight and bias under PyTorch's layer keys.
fn layer_state(case: &str) -> StateDict {
    let mut s = StateDict::new();
    s.insert("weight", get(&format!("{case}.w")));
    s.insert("bias", get(&format!("{case}.b")));
    s
}

#[test]
fn layers_with_pytorchs_weights_give_pytorchs_outputs() {
    let mut g = Generator::new(0);
    let conv =
        Conv3d::with_options(4, 6, [3, 2, 3], conv_options(), true, DType::F64, &mut g).unwrap();
    conv.load_state_dict(&layer_state("conv3d"), true).unwrap();
    let y = conv.forward(&get("conv3d.x")).unwrap();
    close("Conv3d", &y, &get("conv3d.y"));

    let up = ConvTranspose3d::with_options(
        4,
        6,
        [3, 2, 3],
        conv_transpose_options(),
        true,
        DType::F64,
        &mut g,
    )
    .unwrap();
    up.load_state_dict(&layer_state("conv_transpose3d"), true)
        .unwrap();
    let y = up.forward(&get("conv_transpose3d.x")).unwrap();
    close("ConvTranspose3d", &y, &get("conv_transpose3d.y"));

    let o = max_options();
    let pool = MaxPool3d::new(o.kernel_size.clone())
        .stride(o.stride.clone().unwrap())
        .padding(o.padding.clone())
        .dilation(o.dilation.clone())
        .ceil_mode(true);
    let y = pool.forward(&get("max_pool3d.x")).unwrap();
    close("MaxPool3d", &y, &get("max_pool3d.y"));

    let pool = AvgPool3d::new([3, 2, 3])
        .stride([2, 1, 2])
        .padding([1, 0, 1])
        .ceil_mode(true)
        .count_include_pad(false);
    let y = pool.forward(&get("avg_pool3d_pad0.x")).unwrap();
    close("AvgPool3d", &y, &get("avg_pool3d_pad0.y"));
    let pool = AvgPool3d::new(2).stride(1).divisor_override(Some(5));
    let y = pool.forward(&get("avg_pool3d_divisor.x")).unwrap();
    close("AvgPool3d divisor", &y, &get("avg_pool3d_divisor.y"));

    let y = AdaptiveAvgPool3d::new([3, 4, 2])
        .forward(&get("adaptive_avg_pool3d.x"))
        .unwrap();
    close("AdaptiveAvgPool3d", &y, &get("adaptive_avg_pool3d.y"));
    let y = AdaptiveMaxPool3d::new([2, 3, 4])
        .forward(&get("adaptive_max_pool3d.x"))
        .unwrap();
    close("AdaptiveMaxPool3d", &y, &get("adaptive_max_pool3d.y"));
}

#[test]
fn conv3d_layers_have_pytorchs_layout_and_bounds() {
    let shapes = |p: Vec<(String, Tensor)>| -> Vec<(String, Vec<usize>)> {
        p.into_iter().map(|(n, t)| (n, t.dims().to_vec())).collect()
    };
    baeum::manual_seed(0);
    let c = Conv3d::new(2, 4, [3, 2, 3]).stride(2).padding(1);
    assert_eq!(
        shapes(c.named_parameters()),
        [
            ("weight".to_string(), vec![4, 2, 3, 2, 3]),
            ("bias".to_string(), vec![4])
        ]
    );
    // PyTorch's default: U(−1/√fan_in, 1/√fan_in), fan_in = 2·3·2·3 = 36.
    let bound = 1.0 / 6.0 + 1e-7;
    let w = c.weight.to_vec::<f32>();
    assert!(w.iter().all(|v| v.abs() <= bound));
    assert!(
        w.iter().any(|v| v.abs() > 0.8 / 6.0),
        "spread over the range"
    );
    let y = c.forward(&Tensor::zeros([1, 2, 8, 9, 10])).unwrap();
    assert_eq!(y.dims(), &[1, 4, 4, 5, 5]);

    // A transposed convolution's weight is [in, out/groups, k…]; its fan_in is dim 1 × the
    // kernel: 3 · 27 = 81.
    let mut g = Generator::new(1);
    let o = ConvTransposeOptions::default().groups(2).stride(2);
    let t = ConvTranspose3d::with_options(4, 6, 3, o, true, DType::F32, &mut g).unwrap();
    assert_eq!(
        shapes(t.named_parameters()),
        [
            ("weight".to_string(), vec![4, 3, 3, 3, 3]),
            ("bias".to_string(), vec![6])
        ]
    );
    let bound = 1.0 / 9.0 + 1e-7;
    assert!(t.weight.to_vec::<f32>().iter().all(|v| v.abs() <= bound));
    assert!(
        t.bias
            .as_ref()
            .unwrap()
            .to_vec::<f32>()
            .iter()
            .all(|v| v.abs() <= bound)
    );
    let y = t.forward(&Tensor::zeros([2, 4, 2, 3, 4])).unwrap();
    assert_eq!(y.dims(), &[2, 6, 5, 7, 9]);
    assert!(t.extra_repr().contains("groups=2"), "{}", t.extra_repr());
}

#[test]
fn global_average_pooling_of_volumes() {
    let x = get("adaptive_avg_pool3d.x");
    let y = GlobalAvgPool.forward(&x).unwrap();
    assert_eq!(y.dims(), &[2, 2]);
    close("GlobalAvgPool", &y, &x.mean_dims(&[2, 3, 4], false));
}

#[test]
fn wrong_shapes_name_the_op_and_the_shapes() {
    let x = Tensor::zeros([1, 2, 4, 4, 4]);
    let e = conv3d(
        &x,
        &Tensor::zeros([3, 2, 3, 3]),
        None,
        &ConvOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("conv3d") && e.contains("[3, 2, 3, 3]"), "{e}");
    let e = conv3d(
        &x,
        &Tensor::zeros([3, 4, 3, 3, 3]),
        None,
        &ConvOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("conv3d") && e.contains("input channels"), "{e}");
    let e = conv3d(
        &x,
        &Tensor::zeros([3, 2, 5, 3, 3]),
        None,
        &ConvOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("larger than the padded input"), "{e}");
    let e = max_pool3d(&Tensor::zeros([2, 4, 4]), &MaxPoolOptions::new(2))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("max_pool3d") && e.contains("[N, C, D, H, W]"),
        "{e}"
    );
    let e = avg_pool3d(&x, &AvgPoolOptions::new([2, 2]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("avg_pool3d") && e.contains("kernel_size"), "{e}");
    let e = conv_transpose3d(
        &x,
        &Tensor::zeros([2, 1, 2, 2, 2]),
        None,
        &ConvTransposeOptions::default().stride(2).output_padding(2),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("conv_transpose3d") && e.contains("output_padding"),
        "{e}"
    );
}
