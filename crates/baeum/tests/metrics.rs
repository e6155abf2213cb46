//! Classification and regression metrics against scikit-learn 1.x numbers (computed once with
//! `sklearn.metrics`, pasted here), and the streaming metrics against the one-shot functions.

use baeum::Tensor;
use baeum::metrics::*;

/// sklearn's mean_squared_error of the regression example: (0.25 + 0.25 + 0 + 1 + 0.09) / 5.
const SKLEARN_MSE: f64 = 1.59 / 5.0;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

fn assert_all_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(close(*g, *w), "{got:?} vs {want:?}");
    }
}

fn classes(v: &[i64]) -> Tensor {
    Tensor::from_slice(v, [v.len()])
}

// y_true / y_pred of the scikit-learn reference; class 4 never occurs (labels=range(5)).
const Y_TRUE: [i64; 12] = [0, 1, 2, 2, 1, 0, 3, 2, 1, 0, 2, 1];
const Y_PRED: [i64; 12] = [0, 2, 2, 2, 1, 1, 0, 2, 1, 0, 1, 1];

#[test]
fn precision_recall_f1_match_scikit_learn_for_every_average() {
    let (p, t) = (classes(&Y_PRED), classes(&Y_TRUE));
    let r = precision_recall_f1(&p, &t, 5, Average::Macro).unwrap();
    assert_all_close(&r.precision, &[0.4033333333333333]);
    assert_all_close(&r.recall, &[0.4333333333333333]);
    assert_all_close(&r.f1, &[0.41666666666666663]);
    let r = precision_recall_f1(&p, &t, 5, Average::Micro).unwrap();
    let (mp, mr, mf) = r.value();
    assert!(close(mp, 2.0 / 3.0) && close(mr, 2.0 / 3.0) && close(mf, 2.0 / 3.0));
    let r = precision_recall_f1(&p, &t, 5, Average::Weighted).unwrap();
    assert_all_close(&r.precision, &[0.6166666666666667]);
    assert_all_close(&r.recall, &[0.6666666666666666]);
    assert_all_close(&r.f1, &[0.6388888888888888]);
    assert_eq!(r.support, vec![12]);
    let r = precision_recall_f1(&p, &t, 5, Average::PerClass).unwrap();
    assert_all_close(&r.precision, &[2.0 / 3.0, 0.6, 0.75, 0.0, 0.0]);
    assert_all_close(&r.recall, &[2.0 / 3.0, 0.75, 0.75, 0.0, 0.0]);
    assert_all_close(&r.f1, &[2.0 / 3.0, 2.0 / 3.0, 0.75, 0.0, 0.0]);
    assert_eq!(r.support, vec![3, 4, 4, 1, 0]);
}

#[test]
fn confusion_matrix_counts_rows_as_true_classes_and_normalizes() {
    let mut cm = ConfusionMatrix::new(5);
    // Two batches give the same counts as one.
    cm.update(&classes(&Y_PRED[..5]), &classes(&Y_TRUE[..5]))
        .unwrap();
    cm.update(&classes(&Y_PRED[5..]), &classes(&Y_TRUE[5..]))
        .unwrap();
    assert_eq!(
        cm.rows(),
        vec![
            vec![2, 1, 0, 0, 0],
            vec![0, 3, 1, 0, 0],
            vec![0, 1, 3, 0, 0],
            vec![1, 0, 0, 0, 0],
            vec![0, 0, 0, 0, 0],
        ]
    );
    assert_eq!(cm.total(), 12);
    assert!(close(cm.accuracy(), 2.0 / 3.0));
    assert_eq!(cm.to_tensor().dims(), &[5, 5]);
    assert_eq!(cm.to_tensor().to_vec::<i64>()[5..10], [0, 3, 1, 0, 0]);
    let n = cm.normalized(Normalization::True);
    assert_all_close(&n[0], &[2.0 / 3.0, 1.0 / 3.0, 0.0, 0.0, 0.0]);
    assert_all_close(&n[1], &[0.0, 0.75, 0.25, 0.0, 0.0]);
    assert_all_close(&n[3], &[1.0, 0.0, 0.0, 0.0, 0.0]);
    assert_all_close(&n[4], &[0.0; 5]);
    let by_pred = cm.normalized(Normalization::Pred);
    // Column 0 holds 2 + 1 predictions of class 0.
    assert!(close(by_pred[0][0], 2.0 / 3.0) && close(by_pred[3][0], 1.0 / 3.0));
    let all = cm.normalized(Normalization::All);
    assert!(close(all[1][1], 3.0 / 12.0));
    cm.reset();
    assert_eq!(cm.total(), 0);
}

#[test]
fn confusion_matrix_display_is_an_aligned_table_with_class_names() {
    let mut cm = ConfusionMatrix::with_class_names(["cat", "고양이", "bird"]);
    let logits = Tensor::from_vec(
        vec![
            3.0f32, 0.0, 0.0, //
            0.0, 2.0, 1.0, //
            0.0, 2.0, 1.0, //
            0.0, 0.0, 5.0,
        ],
        [4, 3],
    );
    cm.update(&logits, &classes(&[0, 1, 2, 2])).unwrap();
    let text = cm.to_string();
    let expected = "\
true\\pred  cat  고양이  bird
      cat    1       0     0
   고양이    0       1     0
     bird    0       1     1";
    assert_eq!(text, expected);
}

#[test]
fn confusion_matrix_rejects_classes_out_of_range() {
    let mut cm = ConfusionMatrix::new(2);
    let e = cm
        .update(&classes(&[0, 2]), &classes(&[0, 1]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("out of range for 2 classes") && e.contains("predicted 2"),
        "{e}"
    );
}

#[test]
fn accuracy_reads_logits_class_indices_binary_probabilities_and_one_hot() {
    let logits = Tensor::from_vec(vec![2.0f32, 1.0, 0.0, 3.0, 1.0, 0.0], [3, 2]);
    let target = classes(&[0, 1, 1]);
    assert!(close(accuracy(&logits, &target).unwrap(), 2.0 / 3.0));
    assert!(close(
        accuracy(&classes(&[0, 1, 0]), &target).unwrap(),
        2.0 / 3.0
    ));
    // Binary probabilities [N] and [N, 1], threshold 0.5 (exactly 0.5 counts as 0, as Keras).
    let probs = Tensor::from_vec(vec![0.9f32, 0.2, 0.5, 0.51], [4]);
    let y = Tensor::from_vec(vec![1.0f32, 0.0, 1.0, 1.0], [4]);
    assert!(close(accuracy(&probs, &y).unwrap(), 0.75));
    assert!(close(
        accuracy(&probs.reshape(&[4, 1]), &y.reshape(&[4, 1])).unwrap(),
        0.75
    ));
    // One-hot targets.
    let one_hot = Tensor::from_vec(vec![1.0f32, 0.0, 0.0, 1.0, 0.0, 1.0], [3, 2]);
    assert!(close(accuracy(&logits, &one_hot).unwrap(), 2.0 / 3.0));
}

#[test]
fn accuracy_errors_name_the_shapes() {
    let logits = Tensor::zeros([3, 2]);
    let e = accuracy(&logits, &classes(&[0, 1]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("[3, 2]") && e.contains("[2]"), "{e}");
    let e = accuracy(&Tensor::from_vec(vec![1.5f32, 0.0], [2]), &classes(&[1, 0]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("sigmoid") && e.contains("1.5"), "{e}");
    let e = accuracy(&Tensor::zeros([2, 2, 2]), &classes(&[1, 0]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("[2, 2, 2]"), "{e}");
}

#[test]
fn top_k_accuracy_matches_scikit_learn_without_ties() {
    let scores = Tensor::from_vec(
        vec![
            0.1f64, 0.5, 0.2, 0.2, //
            0.3, 0.25, 0.4, 0.05, //
            0.6, 0.05, 0.2, 0.15, //
            0.05, 0.05, 0.1, 0.8, //
            0.25, 0.25, 0.3, 0.2,
        ],
        [5, 4],
    );
    let t = classes(&[1, 0, 3, 3, 2]);
    // sklearn.metrics.top_k_accuracy_score(t, scores, k=1, 2, 3) = 0.6, 0.8, 1.0
    assert!(close(top_k_accuracy(&scores, &t, 1).unwrap(), 0.6));
    assert!(close(top_k_accuracy(&scores, &t, 2).unwrap(), 0.8));
    assert!(close(top_k_accuracy(&scores, &t, 3).unwrap(), 1.0));
    // k = 1 is plain accuracy.
    assert!(close(
        top_k_accuracy(&scores, &t, 1).unwrap(),
        accuracy(&scores, &t).unwrap()
    ));
    // Ties rank the lower class index first (a stable descending sort).
    let tied = Tensor::from_vec(vec![0.3f32, 0.3, 0.4], [1, 3]);
    assert!(close(
        top_k_accuracy(&tied, &classes(&[0]), 2).unwrap(),
        1.0
    ));
    assert!(close(
        top_k_accuracy(&tied, &classes(&[1]), 2).unwrap(),
        0.0
    ));
}

#[test]
fn regression_metrics_match_scikit_learn() {
    let y = Tensor::from_vec(vec![3.0f64, -0.5, 2.0, 7.0, 4.2], [5]);
    let p = Tensor::from_vec(vec![2.5f64, 0.0, 2.0, 8.0, 3.9], [5]);
    assert!(close(mse(&p, &y).unwrap(), SKLEARN_MSE));
    assert!(close(mae(&p, &y).unwrap(), 0.4600000000000001));
    assert!(close(rmse(&p, &y).unwrap(), 0.5639148871948674));
    assert!(close(r2_score(&p, &y).unwrap(), 0.9480256276150627));
    // [N, 1] predictions against [N] targets (a one-unit head) are accepted.
    assert!(close(mse(&p.reshape(&[5, 1]), &y).unwrap(), SKLEARN_MSE));
    // Multi-output R² is the mean of the per-output scores.
    let yy = Tensor::from_vec(vec![0.5f64, 1.0, -1.0, 1.0, 7.0, -6.0], [3, 2]);
    let pp = Tensor::from_vec(vec![0.0f64, 2.0, -1.0, 2.0, 8.0, -5.0], [3, 2]);
    assert!(close(r2_score(&pp, &yy).unwrap(), 0.9368005266622779));
    assert!(close(mse(&pp, &yy).unwrap(), 0.7083333333333334));
    // A constant target: 1 when predicted exactly, else 0 (force_finite).
    let c = Tensor::from_vec(vec![1.0f64, 1.0, 1.0], [3]);
    assert_eq!(r2_score(&c, &c).unwrap(), 1.0);
    let off = Tensor::from_vec(vec![1.0f64, 2.0, 1.0], [3]);
    assert_eq!(r2_score(&off, &c).unwrap(), 0.0);
    let e = mse(&Tensor::zeros([3]), &Tensor::zeros([4]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("mse") && e.contains("[3]") && e.contains("[4]"),
        "{e}"
    );
}

#[test]
fn streaming_metrics_over_batches_equal_the_metrics_over_everything() {
    let y = Tensor::from_vec(vec![3.0f64, -0.5, 2.0, 7.0, 4.2], [5]);
    let p = Tensor::from_vec(vec![2.5f64, 0.0, 2.0, 8.0, 3.9], [5]);
    let mut ms: Vec<Box<dyn Metric>> = vec![
        Box::new(MeanSquaredError::new()),
        Box::new(MeanAbsoluteError::new()),
        Box::new(RootMeanSquaredError::new()),
        Box::new(R2Score::new()),
    ];
    for m in &mut ms {
        assert_eq!(m.compute(), 0.0);
        m.update(&p.narrow(0, 0, 2), &y.narrow(0, 0, 2)).unwrap();
        m.update(&p.narrow(0, 2, 3), &y.narrow(0, 2, 3)).unwrap();
    }
    let names: Vec<&str> = ms.iter().map(|m| m.name()).collect();
    assert_eq!(names, ["mse", "mae", "rmse", "r2"]);
    let want = [
        SKLEARN_MSE,
        0.4600000000000001,
        0.5639148871948674,
        0.9480256276150627,
    ];
    for (m, w) in ms.iter().zip(want) {
        assert!(
            (m.compute() - w).abs() < 1e-12,
            "{}: {} vs {w}",
            m.name(),
            m.compute()
        );
    }
    for m in &mut ms {
        m.reset();
        assert_eq!(m.compute(), 0.0);
    }

    let mut acc = Accuracy::new();
    let mut top2 = TopKAccuracy::new(2);
    assert_eq!((acc.name(), top2.name()), ("accuracy", "top_2_accuracy"));
    assert_eq!(TopKAccuracy::new(5).name(), "top_5_accuracy");
    let scores = Tensor::from_vec(
        vec![
            0.1f32, 0.5, 0.4, 0.3, 0.25, 0.45, 0.6, 0.3, 0.1, 0.2, 0.7, 0.1,
        ],
        [4, 3],
    );
    let t = classes(&[1, 0, 2, 0]);
    for (lo, len) in [(0, 1), (1, 3)] {
        let (s, tt) = (scores.narrow(0, lo, len), t.narrow(0, lo, len));
        acc.update(&s, &tt).unwrap();
        top2.update(&s, &tt).unwrap();
    }
    // Predictions 1, 2, 0, 1 against 1, 0, 2, 0: one right. Top-2: rows 0, 1 and 3 (the
    // target scores second); row 2's target scores third.
    assert_eq!(acc.compute(), 0.25);
    assert_eq!(top2.compute(), 0.75);
}

#[test]
fn streaming_r2_is_stable_for_large_offsets() {
    // Targets around 1e8 with unit spread: a naive Σy² − nȳ² would lose every digit.
    let base = 1.0e8;
    let y: Vec<f64> = (0..10).map(|i| base + i as f64).collect();
    let p: Vec<f64> = y
        .iter()
        .enumerate()
        .map(|(i, v)| v + if i % 2 == 0 { 0.5 } else { -0.5 })
        .collect();
    let (yt, pt) = (Tensor::from_slice(&y, [10]), Tensor::from_slice(&p, [10]));
    let mut r2 = R2Score::new();
    for c in 0..5 {
        r2.update(&pt.narrow(0, 2 * c, 2), &yt.narrow(0, 2 * c, 2))
            .unwrap();
    }
    // ss_res = 10 * 0.25 = 2.5, ss_tot = Σ(i - 4.5)² = 82.5.
    assert!(
        (r2.compute() - (1.0 - 2.5 / 82.5)).abs() < 1e-9,
        "{}",
        r2.compute()
    );
    assert!((r2_score(&pt, &yt).unwrap() - (1.0 - 2.5 / 82.5)).abs() < 1e-9);
}
