//! Layer modules: PyTorch's parameter names, shapes and initialisation bounds, batch norm's
//! running statistics, dropout's train/eval switch, embedding's padding row, AlexNet's CONV1
//! summary (COURSE §8), and clear errors on wrong input shapes.

use baeum::nn::{
    self, BatchNorm, Conv2d, Dropout, Embedding, Forward, LocalResponseNorm, MaxPool2d, ModuleExt,
    Padding, ReLU, Sequential,
};
use baeum::{DType, Generator, Tensor};

#[test]
fn conv2d_has_pytorchs_layout_and_bounds() {
    baeum::manual_seed(0);
    let c = Conv2d::new(3, 8, 5).stride(2).padding(2);
    let names: Vec<(String, Vec<usize>)> = c
        .named_parameters()
        .into_iter()
        .map(|(n, t)| (n, t.dims().to_vec()))
        .collect();
    assert_eq!(
        names,
        [
            ("weight".to_string(), vec![8, 3, 5, 5]),
            ("bias".to_string(), vec![8])
        ]
    );
    let bound = 1.0 / (75f32).sqrt();
    assert!(c.weight.to_vec::<f32>().iter().all(|w| w.abs() <= bound));
    let y = c.forward(&Tensor::zeros([2, 3, 32, 32])).unwrap();
    assert_eq!(y.dims(), &[2, 8, 16, 16]);
    let same = Conv2d::new(1, 1, 3).padding(Padding::Same);
    assert_eq!(
        same.forward(&Tensor::zeros([1, 1, 7, 7])).unwrap().dims(),
        &[1, 1, 7, 7]
    );
    let err = c
        .forward(&Tensor::zeros([2, 4, 32, 32]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("conv2d"), "{err}");
    assert!(
        Conv2d::with_options(
            3,
            8,
            3,
            nn::functional::ConvOptions::default().groups(2),
            true,
            DType::F32,
            &mut Generator::new(0)
        )
        .is_err()
    );
}

#[test]
fn alexnet_conv1_summary_matches_the_notes() {
    baeum::manual_seed(0);
    let features = Sequential::new()
        .add(Conv2d::new(3, 96, 11).stride(4))
        .add(ReLU)
        .add(LocalResponseNorm::with(5, 1e-4, 0.75, 2.0))
        .add(MaxPool2d::new(3).stride(2));
    let s = nn::summary(&features, &[1, 3, 227, 227]).unwrap();
    assert_eq!(
        (s.rows[0].output_shape.as_slice(), s.rows[0].params),
        (&[1usize, 96, 55, 55][..], 34_944)
    );
    assert_eq!(s.rows[3].output_shape, [1, 96, 27, 27]);
    assert_eq!(s.rows[3].params, 0);
}

#[test]
fn batch_norm_tracks_running_statistics_like_pytorch() {
    let bn = BatchNorm::new_2d(2).dtype(DType::F64);
    let keys: Vec<String> = bn.state_dict().keys().map(String::from).collect();
    assert_eq!(
        keys,
        [
            "weight",
            "bias",
            "running_mean",
            "running_var",
            "num_batches_tracked"
        ]
    );
    // Channel 0 holds 1..=8, channel 1 holds 2·(1..=8), over N = 2 and 2×2 pixels.
    let mut v = Vec::new();
    for n in 0..2 {
        for c in 0..2 {
            for i in 0..4 {
                v.push(((n * 4 + i + 1) * (c + 1)) as f64);
            }
        }
    }
    let x = Tensor::from_vec(v, [2, 2, 2, 2]);
    let y = bn.forward(&x).unwrap();
    // Batch statistics normalise: each channel has mean 0 and (biased) variance 1 − eps-ish.
    let y0: Vec<f64> = y.select(1, 0).to_vec::<f64>();
    assert!(y0.iter().sum::<f64>().abs() < 1e-9);
    let rm = bn.running_mean.as_ref().unwrap().to_vec::<f64>();
    let rv = bn.running_var.as_ref().unwrap().to_vec::<f64>();
    // mean of 1..=8 is 4.5, unbiased variance 6; running = 0.9·init + 0.1·batch.
    assert!(
        (rm[0] - 0.45).abs() < 1e-12 && (rm[1] - 0.9).abs() < 1e-12,
        "{rm:?}"
    );
    assert!(
        (rv[0] - (0.9 + 0.6)).abs() < 1e-12 && (rv[1] - (0.9 + 2.4)).abs() < 1e-12,
        "{rv:?}"
    );
    assert_eq!(bn.num_batches_tracked.as_ref().unwrap().item::<i64>(), 1);
    // Eval mode uses the running statistics and leaves them alone.
    bn.eval();
    let ye = bn.forward(&x).unwrap().to_vec::<f64>();
    let expect = (1.0 - 0.45) / (1.5f64 + 1e-5).sqrt();
    assert!((ye[0] - expect).abs() < 1e-12, "{} vs {expect}", ye[0]);
    assert_eq!(bn.num_batches_tracked.as_ref().unwrap().item::<i64>(), 1);
    let err = bn
        .forward(&Tensor::zeros([2, 3, 2, 2]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("BatchNorm2d(2): input [2, 3, 2, 2]"), "{err}");
}

#[test]
fn cumulative_momentum_averages_every_batch() {
    let bn = BatchNorm::new_1d(1).dtype(DType::F64).momentum(None);
    for m in [2.0, 4.0, 9.0] {
        bn.forward(&Tensor::from_vec(vec![m - 1.0, m + 1.0], [2, 1]))
            .unwrap();
    }
    let rm = bn.running_mean.as_ref().unwrap().to_vec::<f64>()[0];
    assert!((rm - 5.0).abs() < 1e-12, "{rm}");
}

#[test]
fn dropout_is_active_only_in_training() {
    baeum::manual_seed(0);
    let d = Dropout::new(0.5).unwrap();
    let x = Tensor::ones([1000]);
    let y = d.forward(&x).unwrap().to_vec::<f32>();
    assert!(y.iter().all(|v| *v == 0.0 || *v == 2.0));
    let kept = y.iter().filter(|v| **v == 2.0).count();
    assert!((400..600).contains(&kept), "{kept}");
    d.eval();
    assert_eq!(d.forward(&x).unwrap().to_vec::<f32>(), x.to_vec::<f32>());
    assert!(Dropout::new(1.5).is_err());
}

#[test]
fn embedding_padding_row_is_zero_and_untrained() {
    let e = Embedding::with_options(5, 3, Some(-1), DType::F32, &mut Generator::new(0)).unwrap();
    assert_eq!(e.padding_idx, Some(4));
    assert_eq!(e.weight.select(0, 4).to_vec::<f32>(), vec![0.0; 3]);
    let ids = Tensor::from_vec(vec![1i64, 4, 4, 2], [2, 2]);
    let y = e.forward(&ids).unwrap();
    assert_eq!(y.dims(), &[2, 2, 3]);
    y.sum().backward();
    let g = e.weight.grad().unwrap();
    assert_eq!(g.select(0, 4).to_vec::<f32>(), vec![0.0; 3]);
    assert_eq!(g.select(0, 1).to_vec::<f32>(), vec![1.0; 3]);
    let err = e
        .forward(&Tensor::from_vec(vec![7i64], [1]))
        .unwrap_err()
        .to_string();
    assert!(err.contains('7') && err.contains('5'), "{err}");
}
