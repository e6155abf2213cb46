//! Transforms against torchvision 0.29 / PyTorch 2.15: the expected numbers were printed by
//! `torch.nn.functional.interpolate`, `torchvision.transforms.functional.rotate` and `.affine`
//! (with a fill list, as `RandomRotation` / `RandomAffine` pass it) on the same inputs.

use std::sync::Arc;

use baeum::data::{DataLoader, Dataset, Normalize, TensorDataset};
use baeum::{Generator, Tensor};
use baeum_vision::transforms::{
    AffineParams, CenterCrop, Compose, ImageTransform, Interpolation, RandomAffine, RandomCrop,
    RandomHorizontalFlip, RandomRotation, Resize, Transformed, affine, center_crop, resize, rotate,
};

fn close(got: &Tensor, want: &[f32], tol: f32) {
    let g = got.to_vec::<f32>();
    assert_eq!(g.len(), want.len(), "{g:?}");
    for (i, (a, b)) in g.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= tol,
            "element {i}: got {a}, want {b}\n{g:?}"
        );
    }
}

/// `torch.arange(n) / d` as `[c, h, w]`.
fn ramp(c: usize, h: usize, w: usize, d: f32) -> Tensor {
    Tensor::from_vec((0..c * h * w).map(|v| v as f32 / d).collect(), [c, h, w])
}

#[test]
fn bilinear_resize_matches_torch_interpolate() {
    let x = ramp(1, 4, 5, 19.0);
    #[rustfmt::skip]
    let r37 = [0.0438597, 0.0739348, 0.1115288, 0.1491228, 0.1867168, 0.2243108, 0.2543859,
        0.3947369, 0.424812, 0.462406, 0.5, 0.537594, 0.575188, 0.6052632,
        0.7456141, 0.7756892, 0.8132833, 0.8508772, 0.8884712, 0.9260652, 0.9561404];
    close(&resize(&x, 3, 7, false).unwrap(), &r37, 1e-6);
    let r23 = [
        0.1491228, 0.2368421, 0.3245614, 0.6754386, 0.7631578, 0.8508772,
    ];
    close(&resize(&x, 2, 3, false).unwrap(), &r23, 1e-6);
    // antialias=True: shrinking averages under a stretched triangle.
    let r23aa = [
        0.2105263, 0.2932331, 0.3759398, 0.6240602, 0.7067669, 0.7894737,
    ];
    close(&resize(&x, 2, 3, true).unwrap(), &r23aa, 1e-6);
    close(&Resize::new(2, 3).resize(&x).unwrap(), &r23aa, 1e-6);
    #[rustfmt::skip]
    let r68 = [0.0, 0.0230263, 0.0559211, 0.0888158, 0.1217105, 0.1546053, 0.1875, 0.2105263,
        0.131579, 0.1546053, 0.1875, 0.2203947, 0.2532895, 0.2861842, 0.319079, 0.3421053,
        0.3070176, 0.3300439, 0.3629386, 0.3958334, 0.4287281, 0.4616228, 0.4945176, 0.5175439,
        0.4824562, 0.5054825, 0.5383773, 0.571272, 0.6041667, 0.6370615, 0.6699561, 0.6929825,
        0.6578947, 0.6809211, 0.7138158, 0.7467105, 0.7796053, 0.8125, 0.8453947, 0.8684211,
        0.7894737, 0.8125, 0.8453948, 0.8782895, 0.9111842, 0.944079, 0.9769737, 1.0];
    close(&resize(&x, 6, 8, true).unwrap(), &r68, 1e-6);
    close(&resize(&x, 6, 8, false).unwrap(), &r68, 1e-6);
    // Shorter side to 8: 4×5 → 8×10 (torchvision's Resize(8)).
    assert_eq!(Resize::shorter_side(8).output_size(4, 5), (8, 10));
    assert_eq!(Resize::shorter_side(8).output_size(7, 3), (18, 8));
}

#[test]
fn rotation_matches_torchvision_rotate() {
    let y = ramp(1, 5, 5, 24.0);
    #[rustfmt::skip]
    let rot30b = [0.0037931, 0.0524376, 0.1808228, 0.3210738, 0.0309318,
        0.0599093, 0.2001603, 0.3404114, 0.4806624, 0.360479,
        0.2194979, 0.3597489, 0.5, 0.640251, 0.7805021,
        0.2292669, 0.5193375, 0.6595886, 0.7998396, 0.9400907,
        0.0408651, 0.6789262, 0.8191773, 0.5373082, 0.0680039];
    close(
        &rotate(&y, 30.0, Interpolation::Bilinear, 0.0).unwrap(),
        &rot30b,
        1e-5,
    );
    #[rustfmt::skip]
    let rot30n = [0.5, 0.0833333, 0.125, 0.375, 0.5,
        0.0416667, 0.2916667, 0.2916667, 0.5416667, 0.5833333,
        0.2083333, 0.4583333, 0.5, 0.5416667, 0.7916667,
        0.4166667, 0.4583333, 0.7083333, 0.7083333, 0.9583333,
        0.5, 0.625, 0.875, 0.9166667, 0.5];
    close(
        &rotate(&y, 30.0, Interpolation::Nearest, 0.5).unwrap(),
        &rot30n,
        1e-6,
    );
}

#[test]
fn affine_matches_torchvision_affine() {
    let y = ramp(1, 5, 5, 24.0);
    let p = AffineParams {
        angle: 20.0,
        translate: (1.0, -1.0),
        scale: 1.2,
        shear: (10.0, 5.0),
    };
    #[rustfmt::skip]
    let aff_b = [0.0437788, 0.3419877, 0.3279198, 0.3138518, 0.2997839,
        0.3232847, 0.528136, 0.5140679, 0.5, 0.4859321,
        0.728352, 0.7142842, 0.7002161, 0.6861482, 0.6720802,
        0.4634616, 0.8050463, 0.8863643, 0.8722963, 0.8582283,
        0.0, 0.0185549, 0.1213344, 0.3218135, 0.594092];
    close(
        &affine(&y, p, Interpolation::Bilinear, 0.0).unwrap(),
        &aff_b,
        1e-5,
    );
    #[rustfmt::skip]
    let aff_n = [0.25, 0.4166667, 0.25, 0.2916667, 0.2916667,
        0.625, 0.4583333, 0.4583333, 0.5, 0.5416667,
        0.625, 0.6666667, 0.7083333, 0.7083333, 0.75,
        0.875, 0.875, 0.9166667, 0.9583333, 0.7916667,
        0.25, 0.25, 0.25, 0.9583333, 1.0];
    close(
        &affine(&y, p, Interpolation::Nearest, 0.25).unwrap(),
        &aff_n,
        1e-6,
    );
    // Two channels, a non-square image, a shrink and a counter-clockwise angle.
    let z = ramp(2, 3, 4, 23.0);
    let p = AffineParams {
        angle: -35.0,
        translate: (0.0, 1.0),
        scale: 0.8,
        shear: (0.0, 0.0),
    };
    #[rustfmt::skip]
    let aff2 = [0.0, 0.0, 0.0038634, 0.0, 0.0, 0.0282732, 0.1768314, 0.019133,
        0.0, 0.1545256, 0.3237352, 0.3799751,
        0.0, 0.0, 0.019317, 0.0, 0.0, 0.2272637, 0.6985705, 0.0509946,
        0.4145184, 0.6762647, 0.8454744, 0.7944934];
    close(
        &affine(&z, p, Interpolation::Bilinear, 0.0).unwrap(),
        &aff2,
        1e-5,
    );
}

#[test]
fn center_crop_matches_torchvision() {
    let x = Tensor::from_vec((0..20).map(|v| v as f32).collect(), [1, 5, 4]);
    close(
        &center_crop(&x, 2, 3).unwrap(),
        &[8., 9., 10., 12., 13., 14.],
        0.0,
    );
    let mut g = Generator::new(0);
    close(
        &CenterCrop::new(2, 3).apply(&x, &mut g).unwrap(),
        &[8., 9., 10., 12., 13., 14.],
        0.0,
    );
}

#[test]
fn compose_normalize_and_errors() {
    let x = ramp(2, 2, 2, 8.0);
    let t = Compose::new()
        .then(Resize::new(2, 2))
        .then(Normalize::new(vec![0.5, 0.25], vec![0.5, 2.0]).unwrap());
    // (v - mean) / std per channel.
    close(
        &t.apply(&x, &mut Generator::new(1)).unwrap(),
        &[-1.0, -0.75, -0.5, -0.25, 0.125, 0.1875, 0.25, 0.3125],
        1e-7,
    );
    let e = RandomRotation::new(10.0)
        .apply(&Tensor::ones([4, 4]), &mut Generator::new(0))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("rotate: expects a float image [C, H, W], got f32 of shape [4, 4]"),
        "{e}"
    );
}

#[test]
fn random_transforms_are_reproducible_and_vary() {
    let x = ramp(3, 8, 8, 191.0);
    let augment = Compose::new()
        .then(RandomCrop::new(8, 8).padding(2))
        .then(RandomHorizontalFlip::new(0.5))
        .then(RandomRotation::new(15.0).interpolation(Interpolation::Bilinear))
        .then(
            RandomAffine::new(10.0)
                .translate(0.1, 0.1)
                .scale(0.9, 1.1)
                .shear(5.0),
        );
    let run = |seed| {
        augment
            .apply(&x, &mut Generator::new(seed))
            .unwrap()
            .to_vec::<f32>()
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
    // A flip with p = 1 always flips, p = 0 never.
    let mut g = Generator::new(9);
    let f = RandomHorizontalFlip::new(1.0).apply(&x, &mut g).unwrap();
    assert_eq!(f.get(&[0, 0, 0]), x.get(&[0, 0, 7]));
    let f = RandomHorizontalFlip::new(0.0).apply(&x, &mut g).unwrap();
    assert_eq!(f.to_vec::<f32>(), x.to_vec::<f32>());
    // About half the draws flip.
    let flips = (0..1000)
        .filter(|_| {
            RandomHorizontalFlip::default()
                .apply(&x, &mut g)
                .unwrap()
                .get(&[0, 0, 0])
                != 0.0
        })
        .count();
    assert!((430..570).contains(&flips), "{flips} flips of 1000");
    // RandomAffine draws whole-pixel shifts within ±10% of 8 pixels (±0.8 → -1, 0 or 1).
    let ra = RandomAffine::new(0.0).translate(0.1, 0.1);
    for s in 0..50 {
        let p = ra.sample(8, 8, &mut Generator::new(s));
        assert!(
            p.translate.0.fract() == 0.0 && p.translate.0.abs() <= 1.0,
            "{p:?}"
        );
        assert_eq!((p.angle, p.scale), (0.0, 1.0));
    }
}

#[test]
fn transformed_dataset_is_reproducible_across_workers_and_epochs() {
    let n = 12;
    let images = Tensor::rand([n, 1, 6, 6]);
    let labels = Tensor::from_vec((0..n as i64).collect::<Vec<_>>(), [n]);
    let base = TensorDataset::new(images, labels).unwrap();
    let augment = Compose::new()
        .then(RandomCrop::new(6, 6).padding(1))
        .then(RandomHorizontalFlip::default());
    let epochs = |workers: usize| {
        let ds = Arc::new(Transformed::new(base.clone(), augment.clone(), 5));
        let mut loader = DataLoader::from_arc(ds, 5)
            .shuffle(true)
            .seed(1)
            .num_workers(workers);
        (0..2)
            .map(|_| {
                // Per example, whatever batch it lands in.
                let mut by_label = vec![Vec::new(); n];
                for b in loader.iter() {
                    let (x, y) = b.unwrap();
                    for (r, l) in y.to_vec::<i64>().into_iter().enumerate() {
                        by_label[l as usize] = x.select(0, r as isize).to_vec::<f32>();
                    }
                }
                by_label
            })
            .collect::<Vec<_>>()
    };
    let inline = epochs(0);
    assert_eq!(inline, epochs(2));
    // The two epochs augment differently.
    assert_ne!(inline[0], inline[1]);
    // set_epoch(1) reproduces epoch 1 on its own.
    let ds = Transformed::new(base.clone(), augment.clone(), 5);
    ds.set_epoch(1);
    assert_eq!(ds.get(3).unwrap().0.to_vec::<f32>(), inline[1][3]);
    assert_eq!(ds.len(), n);
}
