//! The module system: derived traversal with PyTorch's dotted names, state dicts through
//! safetensors, strict loading reports, freezing, train/eval, summaries and printing.

use baeum::io::{StateDict, from_safetensors_bytes, to_safetensors_bytes};
use baeum::nn::{
    self, Forward, LSTM, Linear, Module, ModuleExt, ReLU, RnnConfig, Sequential, Sigmoid,
};
use baeum::{Result, Tensor};

#[derive(nn::Module)]
struct Block {
    fc1: Linear,
    act: ReLU,
    fc2: Linear,
    #[buffer]
    steps: Tensor,
    scale: f64,
}

impl Forward for Block {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.act.forward(&self.fc1.forward(x)?)?;
        Ok(self.fc2.forward(&h)? * self.scale)
    }
}

#[derive(nn::Module)]
struct Net {
    layers: Vec<Block>,
    head: Option<Linear>,
    #[module(name = "0")]
    renamed: Sigmoid,
    #[skip]
    _cache: Tensor,
}

impl Forward for Net {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut y = x.clone();
        for b in &self.layers {
            y = b.forward(&y)?;
        }
        if let Some(h) = &self.head {
            y = h.forward(&y)?;
        }
        self.renamed.forward(&y)
    }
}

fn block(i: usize) -> Block {
    Block {
        fc1: Linear::new(4, 8),
        act: ReLU,
        fc2: Linear::new(8, 4),
        steps: Tensor::scalar(i as i64),
        scale: 0.5,
    }
}

fn net() -> Net {
    Net {
        layers: vec![block(0), block(1)],
        head: Some(Linear::new(4, 2)),
        renamed: Sigmoid,
        _cache: Tensor::zeros([3]),
    }
}

#[test]
fn derive_names_entries_as_pytorch_does() {
    baeum::manual_seed(0);
    let n = net();
    let names: Vec<String> = n.named_parameters().into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        [
            "layers.0.fc1.weight",
            "layers.0.fc1.bias",
            "layers.0.fc2.weight",
            "layers.0.fc2.bias",
            "layers.1.fc1.weight",
            "layers.1.fc1.bias",
            "layers.1.fc2.weight",
            "layers.1.fc2.bias",
            "head.weight",
            "head.bias"
        ]
    );
    let buffers: Vec<String> = n.named_buffers().into_iter().map(|(k, _)| k).collect();
    assert_eq!(buffers, ["layers.0.steps", "layers.1.steps"]);
    assert_eq!(
        n.num_parameters(false),
        2 * (4 * 8 + 8 + 8 * 4 + 4) + 4 * 2 + 2
    );
    let printed = n.to_pretty_string();
    assert!(printed.starts_with("Net(\n  (layers.0): Block(\n    (fc1): Linear(in_features=4, out_features=8, bias=true)"), "{printed}");
    assert!(printed.contains("(0): Sigmoid()"), "{printed}");
    let y = n.forward(&Tensor::ones([3, 4])).unwrap();
    assert_eq!(y.dims(), &[3, 2]);
}

#[test]
fn state_dict_round_trips_through_safetensors_and_loads_in_place() {
    baeum::manual_seed(1);
    let a = net();
    baeum::manual_seed(2);
    let b = net();
    let x = Tensor::randn([5, 4]);
    assert_ne!(
        a.forward(&x).unwrap().to_vec::<f32>(),
        b.forward(&x).unwrap().to_vec::<f32>()
    );
    let bytes = to_safetensors_bytes(&a.state_dict(), None).unwrap();
    let (state, _) = from_safetensors_bytes(&bytes).unwrap();
    // b's parameter handles (which an optimizer might hold) are updated in place.
    let held = b.parameters()[0].clone();
    let report = b.load_state_dict(&state, true).unwrap();
    assert!(report.is_clean());
    assert_eq!(
        a.forward(&x).unwrap().to_vec::<f32>(),
        b.forward(&x).unwrap().to_vec::<f32>()
    );
    assert_eq!(held.to_vec::<f32>(), a.parameters()[0].to_vec::<f32>());
    assert_eq!(b.named_buffers()[1].1.item::<i64>(), 1);
}

#[test]
fn load_state_dict_reports_missing_unexpected_and_mismatched_keys() {
    baeum::manual_seed(0);
    let n = net();
    let mut s: StateDict = n.state_dict();
    s.remove("head.bias");
    s.insert("head.extra", Tensor::zeros([1]));
    let err = n.load_state_dict(&s, true).unwrap_err().to_string();
    assert!(err.contains("missing keys: head.bias"), "{err}");
    assert!(err.contains("unexpected keys: head.extra"), "{err}");
    let report = n.load_state_dict(&s, false).unwrap();
    assert_eq!(report.missing_keys, ["head.bias"]);
    assert_eq!(report.unexpected_keys, ["head.extra"]);
    let mut s = n.state_dict();
    s.insert("head.weight", Tensor::zeros([3, 4]));
    let err = n.load_state_dict(&s, false).unwrap_err().to_string();
    assert!(
        err.contains("size mismatch for head.weight: the model has [2, 4], the state dict [3, 4]"),
        "{err}"
    );
}

#[test]
fn freezing_stops_gradients_and_train_eval_walks_the_tree() {
    baeum::manual_seed(0);
    let n = net();
    n.layers[0].freeze();
    assert_eq!(n.trainable_parameters().len(), 6);
    let y = n.forward(&Tensor::randn([2, 4])).unwrap().sum();
    y.backward();
    assert!(n.layers[0].fc1.weight.grad().is_none());
    assert!(n.layers[1].fc1.weight.grad().is_some());
    let lstm = LSTM::new(RnnConfig::new(2, 3)).unwrap();
    let model = Sequential::new().add(lstm);
    assert!(model.get(0).unwrap().is_training());
    model.eval();
    assert!(!model.get(0).unwrap().is_training());
    model.train();
    assert!(model.get(0).unwrap().is_training());
}

#[test]
fn summary_lists_layers_shapes_and_counts() {
    baeum::manual_seed(0);
    let model = Sequential::new()
        .add(Linear::new(784, 256))
        .add(ReLU)
        .add(Linear::new(256, 10))
        .add(ReLU);
    let s = nn::summary(&model, &[1, 784]).unwrap();
    let rows: Vec<(&str, &str, Vec<usize>, usize)> = s
        .rows
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.type_name.as_str(),
                r.output_shape.clone(),
                r.params,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("0", "Linear", vec![1, 256], 200_960),
            ("1", "ReLU", vec![1, 256], 0),
            ("2", "Linear", vec![1, 10], 2_570),
            ("3", "ReLU", vec![1, 10], 0)
        ]
    );
    assert_eq!(s.total_params, 203_530);
    let text = s.to_string();
    assert!(
        text.contains("0 (Linear)")
            && text.contains("200,960")
            && text.contains("Total params: 203,530"),
        "{text}"
    );
    let err = nn::summary(&model, &[1, 100]).unwrap_err().to_string();
    assert!(
        err.contains("Linear(in_features=784, out_features=256): input [1, 100]"),
        "{err}"
    );
}

#[test]
fn a_module_can_be_written_by_hand_too() {
    struct Scale(Tensor);
    impl Module for Scale {
        fn visit(&self, v: &mut dyn nn::Visitor) {
            v.param("alpha", &self.0)
        }
    }
    let s = Scale(Tensor::ones([1]).requires_grad_(true));
    assert_eq!(s.state_dict().keys().collect::<Vec<_>>(), ["alpha"]);
    assert_eq!(s.type_name(), "Scale");
}
