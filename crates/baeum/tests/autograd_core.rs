//! The autograd engine itself: accumulation, graph freeing, no_grad, detach, errors,
//! higher-order gradients.

use baeum::autograd::{BackwardOptions, grad, no_grad};
use baeum::{Tensor, tensor};

fn close(a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}");
    }
}

#[test]
fn linear_function_gradients_match_course_10() {
    // f = w·x + b with w = −2, x = 5, b = 3 (COURSE §10): f = −7, ∂f/∂x = −2, ∂f/∂w = 5, ∂f/∂b = 1.
    let w = tensor!(-2.0).requires_grad_(true);
    let x = tensor!(5.0).requires_grad_(true);
    let b = tensor!(3.0).requires_grad_(true);
    let f = &w * &x + &b;
    assert_eq!(f.item::<f32>(), -7.0);
    f.backward();
    assert_eq!(x.grad().unwrap().item::<f32>(), -2.0);
    assert_eq!(w.grad().unwrap().item::<f32>(), 5.0);
    assert_eq!(b.grad().unwrap().item::<f32>(), 1.0);
}

#[test]
fn gradients_accumulate_until_zero_grad() {
    let x = tensor!([1.0, 2.0]).requires_grad_(true);
    for _ in 0..3 {
        (&x * 3.0).sum().backward();
    }
    close(&x.grad().unwrap().to_vec(), &[9.0, 9.0]);
    x.zero_grad();
    assert!(x.grad().is_none());
    (&x * &x).sum().backward();
    close(&x.grad().unwrap().to_vec(), &[2.0, 4.0]);
}

#[test]
fn broadcasting_reduces_the_gradient_to_the_input_shape() {
    let a = Tensor::ones([2, 3]).requires_grad_(true);
    let b = tensor!([1.0, 2.0, 3.0]).requires_grad_(true);
    let c = tensor!(2.0).requires_grad_(true);
    (&(&a * &b) * &c).sum().backward();
    close(&b.grad().unwrap().to_vec(), &[4.0, 4.0, 4.0]);
    assert_eq!(c.grad().unwrap().dims(), &[] as &[usize]);
    assert_eq!(c.grad().unwrap().item::<f32>(), 12.0);
    close(&a.grad().unwrap().to_vec(), &[2.0, 4.0, 6.0, 2.0, 4.0, 6.0]);
}

#[test]
fn second_backward_needs_retain_graph() {
    let x = tensor!([1.0, 2.0]).requires_grad_(true);
    let y = (&x * &x).sum();
    y.try_backward(None, BackwardOptions::retain_graph())
        .unwrap();
    y.backward();
    close(&x.grad().unwrap().to_vec(), &[4.0, 8.0]);
    let err = y
        .try_backward(None, BackwardOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("freed"), "{err}");
}

#[test]
fn no_grad_and_detach_cut_the_graph() {
    let x = tensor!([1.0]).requires_grad_(true);
    let y = no_grad(|| &x * 2.0);
    assert!(!y.requires_grad() && y.grad_fn().is_none());
    let z = (&x * 2.0).detach();
    assert!(!z.requires_grad());
    let err = z
        .sum()
        .try_backward(None, BackwardOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("does not require grad"), "{err}");
}

#[test]
fn integer_results_refuse_gradients() {
    let x = tensor!([1.0, 3.0, 2.0]).requires_grad_(true);
    let i = (&x * 1.0).argmax();
    assert!(!i.requires_grad());
    let err = i
        .try_backward(None, BackwardOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("i64"), "{err}");
}

#[test]
#[should_panic(expected = "only floating-point tensors")]
fn integer_parameters_are_refused() {
    tensor!([1, 2]).requires_grad_(true);
}

#[test]
fn non_scalar_backward_needs_a_gradient() {
    let x = tensor!([1.0, 2.0]).requires_grad_(true);
    let y = &x * 2.0;
    assert!(y.try_backward(None, BackwardOptions::default()).is_err());
    y.backward_with(&tensor!([1.0, 10.0]));
    close(&x.grad().unwrap().to_vec(), &[2.0, 20.0]);
}

#[test]
fn create_graph_gives_second_derivatives() {
    let x = tensor!([3.0]).requires_grad_(true);
    let y = (&x * &x * &x).sum();
    let dy = grad(&[&y], &[&x], None, BackwardOptions::create_graph()).unwrap()[0]
        .clone()
        .unwrap();
    close(&dy.to_vec(), &[27.0]);
    assert!(x.grad().is_none(), "grad() must not touch .grad");
    dy.sum().backward();
    close(&x.grad().unwrap().to_vec(), &[18.0]);
}

#[test]
fn retain_grad_keeps_intermediate_gradients() {
    let x = tensor!([1.0, 2.0]).requires_grad_(true);
    let y = &x * 3.0;
    y.retain_grad();
    let z = (&y * &y).sum();
    z.backward();
    close(&y.grad().unwrap().to_vec(), &[6.0, 12.0]);
}

#[test]
fn a_long_chain_frees_without_overflowing_the_stack() {
    let x = tensor!([1.0]).requires_grad_(true);
    let mut y = x.clone();
    for _ in 0..200_000 {
        y = &y + 1.0;
    }
    drop(y);
    let mut y = x.clone();
    for _ in 0..50_000 {
        y = &y * 1.0;
    }
    y.sum().backward();
    close(&x.grad().unwrap().to_vec(), &[1.0]);
}

#[test]
fn shared_gradients_are_independent_copies() {
    let a = tensor!([1.0]).requires_grad_(true);
    let b = tensor!([2.0]).requires_grad_(true);
    (&a + &b).sum().backward();
    a.grad().unwrap().fill_(5.0);
    close(&b.grad().unwrap().to_vec(), &[1.0]);
}

#[test]
#[should_panic(expected = "modified in place")]
fn in_place_change_of_a_saved_tensor_is_caught() {
    let a = tensor!([1.0, 2.0]).requires_grad_(true);
    let b = tensor!([3.0, 4.0]);
    let y = (&a * &b).sum();
    b.fill_(0.0);
    y.backward();
}

#[test]
#[should_panic(expected = "update it inside no_grad")]
fn parameters_change_in_place_only_under_no_grad() {
    let w = tensor!([1.0]).requires_grad_(true);
    baeum::autograd::no_grad(|| w.fill_(2.0));
    assert_eq!(w.item::<f32>(), 2.0);
    w.fill_(3.0);
}

#[test]
fn mixed_dtypes_get_gradients_in_their_own_dtype() {
    let a = tensor!([1.0, 2.0]).requires_grad_(true);
    let b = Tensor::from_vec(vec![3.0f64, 4.0], [2]).requires_grad_(true);
    (&a * &b).sum().backward();
    assert_eq!(a.grad().unwrap().dtype(), baeum::DType::F32);
    assert_eq!(b.grad().unwrap().dtype(), baeum::DType::F64);
    close(&a.grad().unwrap().to_vec(), &[3.0, 4.0]);
}

#[test]
fn fast_backward_paths_equal_the_recorded_rules_bit_for_bit() {
    // relu and max pooling compute their gradient in one kernel pass in a plain backward, and
    // with recorded tensor operations under create_graph: both must give the same bits, with
    // overlapping windows (stride 1) adding up, ties, zeros, and a NaN/infinite upstream
    // gradient kept NaN where relu's slope is 0.
    use baeum::nn::functional::{MaxPoolOptions, max_pool2d};
    let mut g = baeum::Generator::new(7);
    let x = Tensor::normal_with([2, 3, 5, 6], 0.0, 1.0, baeum::DType::F32, &mut g)
        .round()
        .requires_grad_(true);
    let upstream = |shape: &[usize]| {
        let n: usize = shape.iter().product();
        let mut v: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
        v[0] = f32::INFINITY;
        v[1] = f32::NAN;
        Tensor::from_vec(v, shape.to_vec())
    };
    let bits = |t: &Tensor| -> Vec<u32> {
        t.contiguous()
            .to_vec::<f32>()
            .iter()
            .map(|v| if v.is_nan() { u32::MAX } else { v.to_bits() })
            .collect()
    };
    type Op = Box<dyn Fn(&Tensor) -> Tensor>;
    let cases: [(&str, Op); 3] = [
        ("relu", Box::new(|x: &Tensor| x.relu())),
        (
            "max_pool2d 2×2",
            Box::new(|x: &Tensor| max_pool2d(x, &MaxPoolOptions::new(2)).unwrap()),
        ),
        (
            "max_pool2d 3×3 stride 1",
            Box::new(|x: &Tensor| max_pool2d(x, &MaxPoolOptions::new(3).stride(1)).unwrap()),
        ),
    ];
    for (name, f) in cases {
        let y = f(&x);
        let gy = upstream(y.dims());
        let plain = grad(
            &[&y],
            &[&x],
            Some(std::slice::from_ref(&gy)),
            BackwardOptions::default(),
        )
        .unwrap()[0]
            .clone()
            .unwrap();
        let y = f(&x);
        let recorded = grad(&[&y], &[&x], Some(&[gy]), BackwardOptions::create_graph()).unwrap()[0]
            .clone()
            .unwrap();
        assert_eq!(bits(&plain), bits(&recorded), "{name}");
    }
}
