//! Datasets, loaders, splits, transforms and CSV reading, end to end.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use baeum::data::csv::{Column, CsvOptions, Encoding, read_csv, read_csv_bytes};
use baeum::data::*;
use baeum::{Result, Tensor};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// `n` examples: input `[i, 10 i]`, target `i`.
fn numbered(n: usize) -> TensorDataset {
    let x: Vec<f32> = (0..n).flat_map(|i| [i as f32, 10.0 * i as f32]).collect();
    let y: Vec<i64> = (0..n as i64).collect();
    TensorDataset::new(Tensor::from_vec(x, [n, 2]), Tensor::from_vec(y, [n])).unwrap()
}

fn targets_of(batches: impl Iterator<Item = Result<(Tensor, Tensor)>>) -> Vec<Vec<i64>> {
    batches.map(|b| b.unwrap().1.to_vec::<i64>()).collect()
}

// ---------------------------------------------------------------- datasets

#[test]
fn tensor_dataset_indexes_examples_and_gathers_batches() {
    let ds = numbered(5);
    assert_eq!(ds.len(), 5);
    let (x, y) = ds.get(3).unwrap();
    assert_eq!((x.to_vec::<f32>(), y.item::<i64>()), (vec![3.0, 30.0], 3));
    let (xb, yb) = ds.get_batch(&[4, 0, 2]).unwrap();
    assert_eq!(xb.dims(), &[3, 2]);
    assert_eq!(xb.to_vec::<f32>(), vec![4.0, 40.0, 0.0, 0.0, 2.0, 20.0]);
    assert_eq!(yb.to_vec::<i64>(), vec![4, 0, 2]);
    let e = ds.get(5).unwrap_err().to_string();
    assert!(e.contains("index 5") && e.contains("5 examples"), "{e}");
    assert!(ds.get_batch(&[1, 9]).is_err());
}

#[test]
fn tensor_dataset_rejects_different_first_dimensions_naming_both_shapes() {
    let e = TensorDataset::new(Tensor::zeros([4, 3]), Tensor::zeros([5]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("[4, 3]") && e.contains("[5]"), "{e}");
}

/// A dataset with only `get`: the default `get_batch` stacks.
struct Squares;
impl Dataset for Squares {
    fn len(&self) -> usize {
        6
    }
    fn get(&self, i: usize) -> Result<(Tensor, Tensor)> {
        let v = i as f32;
        Ok((
            Tensor::from_vec(vec![v, v * v], [2]),
            Tensor::scalar(i as i64),
        ))
    }
}

#[test]
fn default_get_batch_stacks_examples_and_subset_maps_indices() {
    let (x, y) = Squares.get_batch(&[2, 5]).unwrap();
    assert_eq!(x.dims(), &[2, 2]);
    assert_eq!(x.to_vec::<f32>(), vec![2.0, 4.0, 5.0, 25.0]);
    assert_eq!((y.dims(), y.to_vec::<i64>()), (&[2usize][..], vec![2, 5]));

    let sub = Subset::new(Arc::new(numbered(10)), vec![7, 1, 4]).unwrap();
    assert_eq!(sub.len(), 3);
    assert_eq!(sub.get(0).unwrap().1.item::<i64>(), 7);
    assert_eq!(
        sub.get_batch(&[2, 1]).unwrap().1.to_vec::<i64>(),
        vec![4, 1]
    );
    assert!(sub.get(3).is_err());
    let e = Subset::new(Arc::new(numbered(3)), vec![0, 3])
        .unwrap_err()
        .to_string();
    assert!(e.contains("index 3") && e.contains("3 examples"), "{e}");
}

// ---------------------------------------------------------------- loader

#[test]
fn loader_batches_in_order_with_a_smaller_last_batch_or_drop_last() {
    let mut loader = DataLoader::new(numbered(10), 4);
    assert_eq!(loader.len(), 3);
    assert_eq!(
        targets_of(loader.iter()),
        vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]
    );
    let mut loader = DataLoader::new(numbered(10), 4).drop_last(true);
    assert_eq!(loader.len(), 2);
    assert_eq!(targets_of(loader.iter()).len(), 2);
    let (x, _) = DataLoader::new(numbered(10), 4)
        .iter()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(x.dims(), &[4, 2]);
}

#[test]
fn shuffled_epochs_differ_are_reproducible_and_resume_with_set_epoch() {
    let make = || DataLoader::new(numbered(20), 6).shuffle(true).seed(42);
    let mut a = make();
    let epochs: Vec<Vec<Vec<i64>>> = (0..3).map(|_| targets_of(a.iter())).collect();
    assert_eq!(a.epoch(), 3);
    // Every epoch is a permutation of all examples, and the epochs differ.
    for e in &epochs {
        let all: BTreeSet<i64> = e.iter().flatten().copied().collect();
        assert_eq!(all.len(), 20);
        assert_eq!(e.iter().map(Vec::len).collect::<Vec<_>>(), vec![6, 6, 6, 2]);
    }
    assert_ne!(epochs[0], epochs[1]);
    assert_ne!(epochs[1], epochs[2]);
    // The same seed gives the same epochs; another seed others.
    let mut b = make();
    assert_eq!(targets_of(b.iter()), epochs[0]);
    let mut other = DataLoader::new(numbered(20), 6).shuffle(true).seed(43);
    assert_ne!(targets_of(other.iter()), epochs[0]);
    // A run resumed at epoch 2 sees what the uninterrupted run saw.
    let mut resumed = make();
    resumed.set_epoch(2);
    assert_eq!(targets_of(resumed.iter()), epochs[2]);
    assert_eq!(targets_of(make().iter_epoch(1)), epochs[1]);
}

#[test]
fn workers_give_the_same_batches_in_the_same_order() {
    let inline: Vec<Vec<i64>> = {
        let mut l = DataLoader::new(numbered(103), 8).shuffle(true).seed(5);
        l.set_epoch(4);
        targets_of(l.iter())
    };
    for workers in [1, 2, 3, 7, 32] {
        let mut l = DataLoader::new(numbered(103), 8)
            .shuffle(true)
            .seed(5)
            .num_workers(workers)
            .prefetch_factor(1);
        l.set_epoch(4);
        let batches: Vec<(Tensor, Tensor)> = l.iter().map(|b| b.unwrap()).collect();
        let ys: Vec<Vec<i64>> = batches.iter().map(|b| b.1.to_vec::<i64>()).collect();
        assert_eq!(ys, inline, "{workers} workers");
        // Inputs travel with their targets.
        for (x, y) in &batches {
            let x = x.to_vec::<f32>();
            for (k, t) in y.to_vec::<i64>().iter().enumerate() {
                assert_eq!(x[2 * k + 1], 10.0 * *t as f32);
            }
        }
    }
}

/// Counts loads, fails on one index and panics on another.
struct Flaky {
    loads: Arc<AtomicUsize>,
}
impl Dataset for Flaky {
    fn len(&self) -> usize {
        40
    }
    fn get(&self, i: usize) -> Result<(Tensor, Tensor)> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        match i {
            13 => Err(baeum::Error::Format("example 13 is corrupt".into())),
            27 => panic!("example 27 cannot be decoded"),
            _ => Ok((Tensor::scalar(i as f32), Tensor::scalar(i as i64))),
        }
    }
}

#[test]
fn dataset_errors_and_panics_surface_as_err_batches_with_and_without_workers() {
    for workers in [0, 3] {
        let loads = Arc::new(AtomicUsize::new(0));
        let mut l = DataLoader::new(
            Flaky {
                loads: loads.clone(),
            },
            5,
        )
        .num_workers(workers);
        let results: Vec<Result<(Tensor, Tensor)>> = l.iter().collect();
        assert_eq!(results.len(), 8);
        for (b, r) in results.iter().enumerate() {
            match b {
                2 => assert!(r.as_ref().unwrap_err().to_string().contains("corrupt")),
                5 => {
                    let e = r.as_ref().unwrap_err().to_string();
                    assert!(
                        e.contains("batch 5") && e.contains("cannot be decoded"),
                        "{e}"
                    );
                }
                _ => assert_eq!(r.as_ref().unwrap().1.dims(), &[5]),
            }
        }
    }
}

#[test]
fn dropping_the_iterator_early_stops_the_workers() {
    let loads = Arc::new(AtomicUsize::new(0));
    let ds: Arc<dyn Dataset> = Arc::new(Flaky {
        loads: loads.clone(),
    });
    let mut l = DataLoader::from_arc(ds, 1)
        .num_workers(2)
        .prefetch_factor(1);
    {
        let mut it = l.iter();
        assert_eq!(it.len(), 40);
        assert_eq!(it.next().unwrap().unwrap().1.item::<i64>(), 0);
        assert_eq!(it.next().unwrap().unwrap().1.item::<i64>(), 1);
    } // dropped here: workers are joined
    let after_drop = loads.load(Ordering::SeqCst);
    // At most the two read, plus per worker one waiting in its channel and one in flight.
    assert!(after_drop <= 2 + 2 * 2, "{after_drop} loads");
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(
        loads.load(Ordering::SeqCst),
        after_drop,
        "workers still running"
    );
}

// ---------------------------------------------------------------- splits

#[test]
fn random_split_uses_pytorch_lengths_and_disjoint_indices() {
    // PyTorch: floor(n * f) each, then the remainder one by one from the first part.
    let parts = random_split_indices(10, &[0.33, 0.33, 0.34], 0).unwrap();
    assert_eq!(
        parts.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![4, 3, 3]
    );
    let parts = random_split_indices(11, &[0.5, 0.5], 0).unwrap();
    assert_eq!(parts.iter().map(Vec::len).collect::<Vec<_>>(), vec![6, 5]);
    let parts = random_split_indices(7, &[0.1, 0.1, 0.8], 0).unwrap();
    assert_eq!(
        parts.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![1, 1, 5]
    );
    let parts = random_split_indices(100, &[70usize, 20, 10], 9).unwrap();
    let all: BTreeSet<usize> = parts.iter().flatten().copied().collect();
    assert_eq!(all.len(), 100);
    assert_eq!(
        parts,
        random_split_indices(100, &[70usize, 20, 10], 9).unwrap()
    );
    assert_ne!(
        parts,
        random_split_indices(100, &[70usize, 20, 10], 10).unwrap()
    );

    let subsets = random_split(Arc::new(numbered(10)), &[0.8, 0.2], 1).unwrap();
    assert_eq!((subsets[0].len(), subsets[1].len()), (8, 2));
    let seen: BTreeSet<i64> = subsets
        .iter()
        .flat_map(|s| (0..s.len()).map(|i| s.get(i).unwrap().1.item::<i64>()))
        .collect();
    assert_eq!(seen.len(), 10);

    let e = random_split_indices(10, &[6usize, 3], 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("sum to 9") && e.contains("10"), "{e}");
    let e = random_split_indices(10, &[0.5, 0.6], 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not 1"), "{e}");
}

#[test]
fn train_test_split_rounds_the_test_part_up_like_scikit_learn() {
    let (train, test) = train_test_split(10, 0.25, 3).unwrap();
    assert_eq!((train.len(), test.len()), (7, 3)); // ceil(2.5) = 3
    let all: BTreeSet<usize> = train.iter().chain(&test).copied().collect();
    assert_eq!(all.len(), 10);
    assert!(train_test_split(10, 1.0, 3).is_err());
}

#[test]
fn stratified_split_keeps_class_proportions() {
    // 60 of class 0, 30 of class 1, 10 of class 2.
    let labels: Vec<i64> = (0..100)
        .map(|i| {
            if i < 60 {
                0
            } else if i < 90 {
                1
            } else {
                2
            }
        })
        .collect();
    let t = Tensor::from_slice(&labels, [100]);
    let parts = stratified_split(&t, &[0.8, 0.2], 7).unwrap();
    let count = |part: &[usize], c: i64| part.iter().filter(|&&i| labels[i] == c).count();
    assert_eq!(
        [
            count(&parts[0], 0),
            count(&parts[0], 1),
            count(&parts[0], 2)
        ],
        [48, 24, 8]
    );
    assert_eq!(
        [
            count(&parts[1], 0),
            count(&parts[1], 1),
            count(&parts[1], 2)
        ],
        [12, 6, 2]
    );
    let all: BTreeSet<usize> = parts.iter().flatten().copied().collect();
    assert_eq!(all.len(), 100);
    // Remainders rotate across classes: 3 classes of 5 split in half give 8 and 7, not 9 and 6.
    let small: Vec<i64> = (0..15).map(|i| i / 5).collect();
    let parts = stratified_split(&Tensor::from_slice(&small, [15]), &[0.5, 0.5], 0).unwrap();
    assert_eq!((parts[0].len(), parts[1].len()), (8, 7));
    assert!(stratified_split(&Tensor::zeros([4]), &[0.5, 0.5], 0).is_err());
}

#[test]
fn time_split_keeps_order() {
    let (train, test) = time_split(10, 0.7).unwrap();
    assert_eq!(train, (0..7).collect::<Vec<_>>());
    assert_eq!(test, vec![7, 8, 9]);
}

// ---------------------------------------------------------------- transforms

/// COURSE §5: x1 = [1, 2, 4, 6, 9], x2 = [9000, -5000, -2000, 8000, 9000].
fn course_features() -> Tensor {
    Tensor::from_vec(
        vec![
            1.0f64, 9000.0, 2.0, -5000.0, 4.0, -2000.0, 6.0, 8000.0, 9.0, 9000.0,
        ],
        [5, 2],
    )
}

#[test]
fn min_max_scaling_of_the_course_example() {
    let x = course_features();
    let (scaler, scaled) = MinMaxScaler::fit_transform(&x).unwrap();
    assert_eq!(scaler.data_min, vec![1.0, -5000.0]);
    assert_eq!(scaler.data_max, vec![9.0, 9000.0]);
    // (x - min) / (max - min), computed exactly: x1 over 8, x2 over 14000.
    let want = [
        0.0,
        1.0, //
        1.0 / 8.0,
        0.0, //
        3.0 / 8.0,
        3000.0 / 14000.0, //
        5.0 / 8.0,
        13000.0 / 14000.0, //
        1.0,
        1.0,
    ];
    for (g, w) in scaled.to_vec::<f64>().iter().zip(want) {
        assert!((g - w).abs() < 1e-15, "{g} vs {w}");
    }
    let back = scaler.inverse_transform(&scaled).unwrap().to_vec::<f64>();
    for (g, w) in back.iter().zip(x.to_vec::<f64>()) {
        assert!((g - w).abs() < 1e-9, "{g} vs {w}");
    }
    // Another range, and one feature back to original units (RMSE in the data's units).
    let s = MinMaxScaler::fit_range(&x, (-1.0, 1.0)).unwrap();
    let t = s.transform(&x).unwrap().to_vec::<f64>();
    assert!((t[0] + 1.0).abs() < 1e-15 && (t[2] - (-1.0 + 2.0 / 8.0)).abs() < 1e-15);
    let col = Tensor::from_vec(vec![0.0f64, 0.5, 1.0], [3, 1]);
    let orig = scaler
        .inverse_transform_feature(&col, 1)
        .unwrap()
        .to_vec::<f64>();
    for (g, w) in orig.iter().zip([-5000.0, 2000.0, 9000.0]) {
        assert!((g - w).abs() < 1e-9, "{g} vs {w}");
    }
}

#[test]
fn standardisation_of_the_course_example_uses_the_population_std() {
    let x = course_features();
    let (scaler, z) = StandardScaler::fit_transform(&x).unwrap();
    // x1: mean 4.4, population variance (3.4² + 2.4² + 0.4² + 1.6² + 4.6²) / 5 = 8.24.
    // x2: mean 3800, population variance 182,560,000 / 5 = 36,560,000.
    let (m1, s1) = (4.4, 8.24f64.sqrt());
    let (m2, s2) = (3800.0, 36_560_000f64.sqrt());
    assert!((scaler.mean[0] - m1).abs() < 1e-12 && (scaler.mean[1] - m2).abs() < 1e-9);
    assert!((scaler.scale[0] - s1).abs() < 1e-12 && (scaler.scale[1] - s2).abs() < 1e-9);
    let xs = x.to_vec::<f64>();
    for (i, (g, v)) in z.to_vec::<f64>().iter().zip(xs).enumerate() {
        let w = if i % 2 == 0 {
            (v - m1) / s1
        } else {
            (v - m2) / s2
        };
        assert!((g - w).abs() < 1e-12, "{g} vs {w}");
    }
    // sklearn's StandardScaler().fit_transform, first row: [-1.18444612429575, 0.8600035621523092]
    let z = z.to_vec::<f64>();
    assert!((z[0] + 1.18444612429575).abs() < 1e-12 && (z[1] - 0.8600035621523092).abs() < 1e-12);
    let back = scaler
        .inverse_transform(&Tensor::from_slice(&z, [5, 2]))
        .unwrap();
    assert!((back.to_vec::<f64>()[3] + 5000.0).abs() < 1e-9);
}

#[test]
fn scalers_fit_on_training_rows_guard_constant_features_and_check_shapes() {
    let train = Tensor::from_vec(vec![1.0f32, 5.0, 3.0, 5.0], [2, 2]);
    let s = StandardScaler::fit(&train).unwrap();
    assert_eq!(s.scale[1], 1.0); // std 0 → only centred
    let test = Tensor::from_vec(vec![5.0f32, 6.0], [1, 2]);
    let out = s.transform(&test).unwrap();
    assert_eq!(out.dtype(), baeum::DType::F32);
    assert_eq!(out.to_vec::<f32>(), vec![3.0, 1.0]); // (5 - 2) / 1, (6 - 5) / 1
    let m = MinMaxScaler::fit(&train).unwrap();
    assert_eq!(m.transform(&test).unwrap().to_vec::<f32>(), vec![2.0, 1.0]);
    let e = s.transform(&Tensor::zeros([3, 3])).unwrap_err().to_string();
    assert!(e.contains("2 features") && e.contains("[3, 3]"), "{e}");
    let e = StandardScaler::fit(&Tensor::zeros([4]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("[4]"), "{e}");
}

#[test]
fn normalize_is_per_channel() {
    let img = Tensor::from_vec((0..8).map(|v| v as f32).collect::<Vec<_>>(), [2, 2, 2]);
    let n = Normalize::new(vec![1.0, 2.0], vec![2.0, 4.0]).unwrap();
    let out = n.apply(&img).unwrap().to_vec::<f32>();
    assert_eq!(out, vec![-0.5, 0.0, 0.5, 1.0, 0.5, 0.75, 1.0, 1.25]);
    let batch = img.unsqueeze(0);
    assert_eq!(n.apply(&batch).unwrap().dims(), &[1, 2, 2, 2]);
    let e = n.apply(&Tensor::zeros([3, 2, 2])).unwrap_err().to_string();
    assert!(e.contains("3 channels"), "{e}");
    assert!(Normalize::new(vec![0.0], vec![0.0]).is_err());
}

#[test]
fn windows_pair_seven_days_with_the_next_close() {
    // 10 days × 2 features (open, close); close of day t is 100 + t.
    let rows: Vec<f32> = (0..10).flat_map(|t| [t as f32, 100.0 + t as f32]).collect();
    let series = Tensor::from_vec(rows, [10, 2]);
    let (x, y) = windows(&series, 7, 1, 1).unwrap();
    assert_eq!(
        (x.dims(), y.dims()),
        (&[3usize, 7, 2][..], &[3usize, 1][..])
    );
    assert_eq!(y.to_vec::<f32>(), vec![107.0, 108.0, 109.0]);
    let x = x.to_vec::<f32>();
    assert_eq!(&x[..4], &[0.0, 100.0, 1.0, 101.0]); // window 0 starts at day 0
    assert_eq!(&x[14..16], &[1.0, 101.0]); // window 1 starts at day 1
    let (x3, y3) = windows(&series, 7, 1, 3).unwrap();
    assert_eq!((x3.dims()[0], y3.to_vec::<f32>()), (1, vec![109.0]));
    assert!(windows(&series, 10, 1, 1).is_err());
    assert!(windows(&series, 3, 2, 1).is_err());
}

// ---------------------------------------------------------------- CSV

#[test]
fn csv_reads_cp949_korean_files_detecting_the_encoding_and_header() {
    let t = read_csv(fixture("korean_cp949.csv"), &CsvOptions::default()).unwrap();
    assert_eq!(t.encoding(), Encoding::EucKr);
    assert_eq!(t.names(), ["날짜", "지역", "평균기온(℃)", "강수량", "등급"]);
    assert_eq!(t.num_rows(), 4);
    let temps = t.column("평균기온(℃)").unwrap();
    assert_eq!(temps.to_vec::<f32>(), vec![-2.5, 5.1, 3.0, -7.25]);
    // 똠 is outside EUC-KR proper (a CP949 extension); it still decodes.
    assert_eq!(t.classes("지역").unwrap(), ["똠양", "부산", "서울"]);
    assert_eq!(t.labels("지역").unwrap().to_vec::<i64>(), vec![2, 1, 0, 2]);
    assert_eq!(
        t.decode("등급", t.labels("등급").unwrap().to_vec::<i64>()[1])
            .unwrap(),
        "좋음"
    );
    // The empty rainfall is missing: NaN, and drop_missing removes its row.
    let x = t.to_tensor(&["평균기온(℃)", "강수량"]).unwrap();
    assert_eq!(x.dims(), &[4, 2]);
    assert!(x.to_vec::<f32>()[5].is_nan());
    let clean = t.drop_missing(&["강수량"]).unwrap();
    assert_eq!(clean.num_rows(), 3);
    assert_eq!(
        clean.column(3usize).unwrap().to_vec::<f32>(),
        vec![0.0, 1.2, 4.5]
    );
    // Forcing UTF-8 on CP949 bytes fails clearly.
    let e = read_csv(
        fixture("korean_cp949.csv"),
        &CsvOptions::new().encoding(Encoding::Utf8),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("korean_cp949.csv") && e.contains("line 1") && e.contains("UTF-8"),
        "{e}"
    );
}

#[test]
fn csv_reads_utf8_with_bom_and_gives_the_same_table() {
    let bom = read_csv(fixture("korean_utf8_bom.csv"), &CsvOptions::default()).unwrap();
    let cp = read_csv(fixture("korean_cp949.csv"), &CsvOptions::default()).unwrap();
    assert_eq!(bom.encoding(), Encoding::Utf8);
    assert_eq!(bom.names()[0], "날짜"); // no BOM glued to the first name
    assert_eq!(bom.names(), cp.names());
    assert_eq!(bom.values("등급").unwrap(), cp.values("등급").unwrap());
    let chosen = read_csv(
        fixture("korean_cp949.csv"),
        &CsvOptions::new().encoding(Encoding::EucKr),
    )
    .unwrap();
    assert_eq!(chosen.names(), cp.names());
}

#[test]
fn csv_skips_comments_and_blank_lines_with_crlf_and_detects_no_header() {
    let t = read_csv(fixture("comments_crlf.csv"), &CsvOptions::default()).unwrap();
    assert_eq!(t.names(), ["0", "1", "2"]);
    let x = t.to_tensor(&[0usize, 1]).unwrap();
    assert_eq!(x.to_vec::<f32>(), vec![73.0, 80.0, 93.0, 88.0, 89.0, 91.0]);
    assert_eq!(
        t.labels(2usize).unwrap().to_vec::<i64>(),
        vec![152, 185, 180]
    );
    assert_eq!(t.to_tensor_all().unwrap().dims(), &[3, 3]);
    // Forcing a header takes the first data row as names.
    let h = read_csv(
        fixture("comments_crlf.csv"),
        &CsvOptions::new().has_header(true),
    )
    .unwrap();
    assert_eq!((h.names()[0].as_str(), h.num_rows()), ("73", 2));
}

#[test]
fn csv_selects_columns_forces_categorical_and_reads_quoted_fields() {
    let opts = CsvOptions::new()
        .delimiter(b';')
        .columns(["class", "score", "name"])
        .categorical(["class"]);
    let t = read_csv(fixture("semicolon_quoted.csv"), &opts).unwrap();
    assert_eq!(t.names(), ["class", "score", "name"]);
    assert_eq!(
        t.classes("name").unwrap(),
        ["Kim; Minji", "Lee", "Park \"PJ\""]
    );
    assert_eq!(t.labels("class").unwrap().to_vec::<i64>(), vec![1, 0, 1]);
    assert_eq!(
        t.column("score").unwrap().to_vec::<f32>(),
        vec![3.5, 4.0, 2.25]
    );
    // A numeric-looking column read as labels, by index.
    let opts = CsvOptions::new().delimiter(b';').categorical([1usize]);
    let t = read_csv(fixture("semicolon_quoted.csv"), &opts).unwrap();
    assert_eq!(t.classes("score").unwrap(), ["2.25", "3.5", "4"]);
    match t.values("score").unwrap() {
        Column::Categorical { codes, .. } => assert_eq!(codes, &vec![1, 2, 0]),
        Column::Numeric(_) => panic!("expected a categorical column"),
    }
    let e = read_csv(
        fixture("semicolon_quoted.csv"),
        &CsvOptions::new().delimiter(b';').columns(["grade"]),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("\"grade\"") && e.contains("score"), "{e}");
}

#[test]
fn csv_errors_name_the_file_line_and_column() {
    let e = read_csv(fixture("malformed_fields.csv"), &CsvOptions::default())
        .unwrap_err()
        .to_string();
    // Line 4 of the file (the comment and the header count).
    assert!(
        e.contains("malformed_fields.csv") && e.contains("line 4") && e.contains("2 fields"),
        "{e}"
    );
    let e = read_csv(fixture("malformed_value.csv"), &CsvOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("malformed_value.csv")
            && e.contains("line 5")
            && e.contains("\"x2\"")
            && e.contains("\"eight\""),
        "{e}"
    );
    // Comments and blank lines between records count as lines too (CRLF as well).
    let e = read_csv_bytes(
        b"# top\r\nx,y\r\n1,2\r\n# note\r\n\r\n  \r\n3,oops\r\n",
        "<crlf>",
        &CsvOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("<crlf>, line 7, column \"y\""), "{e}");
    for empty in ["empty.csv", "only_comments.csv"] {
        let e = read_csv(fixture(empty), &CsvOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains(empty) && e.contains("empty"), "{e}");
    }
    let e = read_csv(fixture("missing.csv"), &CsvOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.csv"), "{e}");
    let e = read_csv_bytes(b"a,b\n1,2\n", "<memory>", &CsvOptions::default())
        .unwrap()
        .to_tensor(&["a", "c"])
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"c\""), "{e}");
}

#[test]
fn csv_from_bytes_handles_lf_cr_lf_spaces_and_a_missing_final_newline() {
    let lf = read_csv_bytes(b"x, y\n1,  2\n3,4", "<lf>", &CsvOptions::default()).unwrap();
    let crlf = read_csv_bytes(
        b"x, y\r\n1,  2\r\n3,4\r\n",
        "<crlf>",
        &CsvOptions::default(),
    )
    .unwrap();
    assert_eq!(lf.names(), ["x", "y"]);
    assert_eq!(
        lf.to_tensor(&["x", "y"]).unwrap().to_vec::<f32>(),
        vec![1.0, 2.0, 3.0, 4.0]
    );
    assert_eq!(lf.values("y").unwrap(), crlf.values("y").unwrap());
    let f64s = lf.to_tensor_dtype(&["y"], baeum::DType::F64).unwrap();
    assert_eq!(f64s.dtype(), baeum::DType::F64);
}

/// The lecture CSVs in ../shared/data, when present: comments, CRLF, spaces, no header; and
/// the Korean public-data files in CP949 and UTF-8 with BOM.
#[test]
fn csv_reads_the_course_files_when_present() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    let zoo = root.join("hunkim_zerotoall/data-04-zoo.csv");
    if !zoo.exists() {
        eprintln!("skipping: {} not found", zoo.display());
        return;
    }
    let t = read_csv(&zoo, &CsvOptions::default()).unwrap();
    assert_eq!((t.num_rows(), t.num_columns()), (101, 17));
    let y = t.labels(16usize).unwrap().to_vec::<i64>();
    assert_eq!(*y.iter().max().unwrap(), 6);
    let lin = read_csv(
        root.join("hunkim_zerotoall/data-01-linear.csv"),
        &CsvOptions::default(),
    )
    .unwrap();
    assert_eq!(lin.to_tensor_all().unwrap().dims(), &[6, 4]);
    let stock = read_csv(
        root.join("hunkim_zerotoall/data-02-stock_daily.csv"),
        &CsvOptions::default(),
    )
    .unwrap();
    assert_eq!((stock.num_rows(), stock.num_columns()), (732, 5));
    let score = read_csv(
        root.join("hunkim_zerotoall/data-01-test-score.csv"),
        &CsvOptions::default(),
    )
    .unwrap();
    assert_eq!(score.num_rows(), 25);

    let seoul = read_csv(
        root.join("korean_public_csv/seoul.csv"),
        &CsvOptions::default(),
    )
    .unwrap();
    assert_eq!(seoul.encoding(), Encoding::EucKr);
    assert_eq!(
        seoul.names(),
        ["날짜", "지점", "평균기온(℃)", "최저기온(℃)", "최고기온(℃)"]
    );
    assert_eq!(seoul.num_rows(), 39_926);
    assert_eq!(
        seoul.drop_missing::<&str>(&[]).unwrap().num_rows(),
        39_926 - 758
    );
    let cars = read_csv(
        root.join("korean_public_csv/kea_car_fuel_efficiency_20240731.csv"),
        &CsvOptions::default(),
    )
    .unwrap();
    assert_eq!(cars.encoding(), Encoding::Utf8);
    assert_eq!(cars.names()[0], "업체명");
    assert_eq!(cars.num_rows(), 3_498);
    assert!(cars.classes("등급").unwrap().contains(&"PHEV".to_string()));
    let subway = read_csv(
        root.join("korean_public_csv/subwayfee.csv"),
        &CsvOptions::default(),
    )
    .unwrap();
    assert_eq!(
        (subway.num_rows(), subway.names()[3].as_str()),
        (598, "지하철역")
    );
}
