//! RNN, LSTM and GRU against PyTorch: outputs, final states and every gradient, from
//! `fixtures/rnn_reference.safetensors` (made by `fixtures/make_rnn_reference.py`).

use baeum::io::{StateDict, load_safetensors};
use baeum::nn::{GRU, LSTM, ModuleExt, RNN, RnnConfig};
use baeum::{DType, Generator, Tensor};

fn reference() -> StateDict {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rnn_reference.safetensors"
    );
    load_safetensors(path).expect("reference file").0
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

/// Loads the case's parameters, runs `run`, backpropagates sum(y·upstream) + sum(h_n) and
/// compares everything with PyTorch.
fn check(
    case: &str,
    model: &dyn ModuleExtDyn,
    run: impl Fn(&Tensor, &StateDict) -> (Tensor, Tensor, Option<Tensor>),
) {
    let r = reference();
    let params = r.sub(&format!("{case}.param"));
    model.load(&params);
    let x = r
        .get(&format!("{case}.x"))
        .unwrap()
        .detach()
        .requires_grad_(true);
    let (y, h, c) = run(&x, &r);
    close(
        &format!("{case}.y"),
        &y,
        r.get(&format!("{case}.y")).unwrap(),
    );
    close(
        &format!("{case}.h_n"),
        &h,
        r.get(&format!("{case}.h_n")).unwrap(),
    );
    if let Some(c) = c {
        close(
            &format!("{case}.c_n"),
            &c,
            r.get(&format!("{case}.c_n")).unwrap(),
        );
    }
    let loss = (&y * r.get(&format!("{case}.upstream")).unwrap()).sum() + h.sum();
    loss.backward();
    close(
        &format!("{case}.grad_x"),
        &x.grad().unwrap(),
        r.get(&format!("{case}.grad_x")).unwrap(),
    );
    let grads = r.sub(&format!("{case}.grad"));
    let named = model.named();
    assert_eq!(named.len(), grads.len(), "{case}: parameter count");
    for (k, p) in named {
        close(
            &format!("{case}.grad.{k}"),
            &p.grad().expect(&k),
            grads.get(&k).expect(&k),
        );
    }
}

/// Object-safe view of the bits `check` needs.
trait ModuleExtDyn {
    fn load(&self, s: &StateDict);
    fn named(&self) -> Vec<(String, Tensor)>;
}

impl<M: ModuleExt> ModuleExtDyn for M {
    fn load(&self, s: &StateDict) {
        let report = self.load_state_dict(s, true).expect("PyTorch's keys load");
        assert!(report.is_clean());
    }
    fn named(&self) -> Vec<(String, Tensor)> {
        self.named_parameters()
    }
}

#[test]
fn two_layer_tanh_rnn_matches_pytorch() {
    let m = RNN::with_options(
        RnnConfig::new(3, 4).num_layers(2),
        false,
        DType::F64,
        &mut Generator::new(1),
    )
    .unwrap();
    check("rnn", &m, |x, r| {
        let (y, h) = m.forward_with(x, Some(r.get("rnn.h0").unwrap())).unwrap();
        (y, h, None)
    });
}

#[test]
fn two_layer_bidirectional_batch_first_lstm_matches_pytorch() {
    let cfg = RnnConfig::new(3, 4)
        .num_layers(2)
        .bidirectional(true)
        .batch_first(true);
    let m = LSTM::with_options(cfg, DType::F64, &mut Generator::new(1)).unwrap();
    let names: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        &names[..5],
        [
            "weight_ih_l0",
            "weight_hh_l0",
            "bias_ih_l0",
            "bias_hh_l0",
            "weight_ih_l0_reverse"
        ]
    );
    assert_eq!(
        m.named_parameters()[8].1.dims(),
        &[16, 8],
        "layer 1 reads both directions"
    );
    check("lstm", &m, |x, r| {
        let (y, (h, c)) = m
            .forward_with(
                x,
                Some((r.get("lstm.h0").unwrap(), r.get("lstm.c0").unwrap())),
            )
            .unwrap();
        (y, h, Some(c))
    });
}

#[test]
fn bidirectional_gru_matches_pytorch() {
    let m = GRU::with_options(
        RnnConfig::new(3, 4).bidirectional(true),
        DType::F64,
        &mut Generator::new(1),
    )
    .unwrap();
    check("gru", &m, |x, r| {
        let (y, h) = m.forward_with(x, Some(r.get("gru.h0").unwrap())).unwrap();
        (y, h, None)
    });
}

#[test]
fn projected_two_layer_bidirectional_lstm_matches_pytorch() {
    // PyTorch's proj_size: h has 2 features, the cell state keeps 4, layer 1 reads 2·2.
    let cfg = RnnConfig::new(3, 4)
        .num_layers(2)
        .bidirectional(true)
        .proj_size(2);
    let m = LSTM::with_options(cfg, DType::F64, &mut Generator::new(1)).unwrap();
    let shapes: Vec<(String, Vec<usize>)> = m
        .named_parameters()
        .into_iter()
        .map(|(n, p)| (n, p.dims().to_vec()))
        .take(6)
        .collect();
    assert_eq!(shapes[1], ("weight_hh_l0".to_string(), vec![16, 2]));
    assert_eq!(shapes[4], ("weight_hr_l0".to_string(), vec![2, 4]));
    assert!(m.to_pretty_string().contains("proj_size=2"));
    check("lstm_proj", &m, |x, r| {
        let (y, (h, c)) = m
            .forward_with(
                x,
                Some((
                    r.get("lstm_proj.h0").unwrap(),
                    r.get("lstm_proj.c0").unwrap(),
                )),
            )
            .unwrap();
        assert_eq!((y.dims()[2], h.dims()[2], c.dims()[2]), (4, 2, 4));
        (y, h, Some(c))
    });
    let e = LSTM::new(RnnConfig::new(3, 4).proj_size(4))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("proj_size 4 must be smaller than hidden_size 4"),
        "{e}"
    );
    let e = GRU::new(RnnConfig::new(3, 4).proj_size(2))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("only for an LSTM"), "{e}");
}

#[test]
fn keras_simple_rnn_shapes_and_clear_errors() {
    // COURSE §12: SimpleRNN(units=10) over (batch, time, feature) = (4, 3, 1).
    baeum::manual_seed(0);
    let m = RNN::new(RnnConfig::new(1, 10).batch_first(true)).unwrap();
    let (y, h) = m.forward_with(&Tensor::ones([4, 3, 1]), None).unwrap();
    assert_eq!(y.dims(), &[4, 3, 10]);
    assert_eq!(h.dims(), &[1, 4, 10]);
    // The last output step is the final hidden state.
    close("last step", &y.select(1, -1), &h.select(0, 0));
    // Unbatched input [T, F].
    let (y, h) = m.forward_with(&Tensor::ones([3, 1]), None).unwrap();
    assert_eq!((y.dims(), h.dims()), (&[3usize, 10][..], &[1usize, 10][..]));
    let err = m
        .forward_with(&Tensor::ones([4, 3, 2]), None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[4, 3, 2]") && err.contains("1 features"),
        "{err}"
    );
    let err = m
        .forward_with(&Tensor::ones([4, 3, 1]), Some(&Tensor::zeros([2, 4, 10])))
        .unwrap_err()
        .to_string();
    assert!(err.contains("h0 [2, 4, 10] must be [1, 4, 10]"), "{err}");
    assert_eq!(m.num_parameters(false), 10 + 100 + 10 + 10);
}
