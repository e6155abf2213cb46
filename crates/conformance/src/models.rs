//! PyTorch model interchange cases (`torch-models`): whole models built from `baeum::nn`
//! layers with PyTorch's state-dict key names.
//!
//! For a case, [`run_case`] builds the architecture the case names (in float64), checks that
//! its state dict has exactly the keys and shapes `case.json` lists and the same parameter
//! count, loads `model.safetensors` strictly, runs the eval-mode forward on `input.npy`,
//! computes the loss `case.json` names against `target.npy`, back-propagates it, and returns
//! `output.npy`, `loss.npy` and one `grad.<parameter key>.npy` per parameter. The expected
//! gradients live in `grads.safetensors` under the parameter keys; [`grad_key`] maps an output
//! file back to its key so that the runner compares them.
//!
//! The architectures are those of the suite's README: `lenet5`, `mnist_cnn`,
//! `lstm_classifier`, `textcnn`, and the two kept back for independent checks,
//! `gru_regressor` and `small_resnet`. An unknown name is a failure with the known ones listed.
//! The image models are the vision crate's (`lenet5`: `LeNet5`, `mnist_cnn`: `MnistCnn`,
//! `small_resnet`: `CifarResNet` with one block per stage), so the suite checks what the image
//! project trains; the text and sequence models are built here from `baeum::nn` layers.

use baeum::io::{StateDict, load_safetensors, read_npy};
use baeum::nn::functional::{self as F, ConvOptions, CrossEntropyOptions, Reduction};
use baeum::nn::{
    self, Conv1d, Dropout, Embedding, Forward, GRU, LSTM, Layer, Linear, ModuleExt, RnnConfig,
};
use baeum::{DType, Generator, Tensor};
use baeum_vision::models as vision;
use serde_json::Value;

use crate::case::Case;

/// The prefix of the gradient output files: `grad.conv1.weight.npy` holds ∂loss/∂`conv1.weight`.
pub const GRAD_PREFIX: &str = "grad.";

/// The file a parameter's gradient is written to.
pub fn grad_file(key: &str) -> String {
    format!("{GRAD_PREFIX}{key}.npy")
}

/// The parameter key of a gradient output file (`grad.fc.bias.npy` → `fc.bias`).
pub fn grad_key(file: &str) -> Option<&str> {
    file.strip_prefix(GRAD_PREFIX)?.strip_suffix(".npy")
}

/// The architectures this runner can build, by case name.
pub const MODELS: &[&str] = &[
    "lenet5",
    "mnist_cnn",
    "lstm_classifier",
    "textcnn",
    "gru_regressor",
    "small_resnet",
];

// ---------------------------------------------------------------------------------------------
// The architectures. Field names are PyTorch's attribute names, so the state-dict keys match.

fn linear(i: usize, o: usize, g: &mut Generator) -> Linear {
    Linear::with_options(i, o, true, DType::F64, g)
}

/// Sentence classifier: embedding(500, 32, padding_idx 0) → LSTM(32→48, 2 layers,
/// bidirectional, batch_first) → the output at the last step (96) → fc(2).
#[derive(nn::Module)]
struct LstmClassifier {
    embedding: Embedding,
    lstm: LSTM,
    fc: Linear,
}

impl LstmClassifier {
    fn new(g: &mut Generator) -> baeum::Result<LstmClassifier> {
        let config = RnnConfig::new(32, 48)
            .num_layers(2)
            .bidirectional(true)
            .batch_first(true);
        Ok(LstmClassifier {
            embedding: Embedding::with_options(500, 32, Some(0), DType::F64, g)?,
            lstm: LSTM::with_options(config, DType::F64, g)?,
            fc: linear(96, 2, g),
        })
    }
}

impl Forward for LstmClassifier {
    fn forward(&self, tokens: &Tensor) -> baeum::Result<Tensor> {
        let (seq, _) = self
            .lstm
            .forward_with(&self.embedding.forward(tokens)?, None)?;
        // [N, T, 2H] → [N, 2H] at t = T − 1 (`out[:, -1, :]`).
        self.fc.forward(&seq.select(1, -1))
    }
}

/// Kim's (2014) CNN-rand: embedding(400, 24) → transpose to [N, 24, T] → Conv1d(24→16,
/// k = 3, 4, 5) → relu → max over time → concat(48) → dropout(0.5) → fc(2).
#[derive(nn::Module)]
struct TextCnn {
    embedding: Embedding,
    convs: Vec<Conv1d>,
    dropout: Dropout,
    fc: Linear,
}

impl TextCnn {
    fn new(g: &mut Generator) -> baeum::Result<TextCnn> {
        let convs = [3, 4, 5]
            .into_iter()
            .map(|k| Conv1d::with_options(24, 16, k, ConvOptions::default(), true, DType::F64, g))
            .collect::<baeum::Result<Vec<_>>>()?;
        Ok(TextCnn {
            embedding: Embedding::with_options(400, 24, None, DType::F64, g)?,
            convs,
            dropout: Dropout::new(0.5)?,
            fc: linear(48, 2, g),
        })
    }
}

impl Forward for TextCnn {
    fn forward(&self, tokens: &Tensor) -> baeum::Result<Tensor> {
        let x = self.embedding.forward(tokens)?.transpose(1, 2);
        let pooled = self
            .convs
            .iter()
            .map(|conv| Ok(conv.forward(&x)?.relu().amax(&[2], false)))
            .collect::<baeum::Result<Vec<_>>>()?;
        let refs: Vec<&Tensor> = pooled.iter().collect();
        let features = Tensor::cat(&refs, 1);
        self.fc.forward(&self.dropout.forward(&features)?)
    }
}

/// Sequence regressor: GRU(5→16, batch_first) → the last layer's final hidden state → fc(1).
#[derive(nn::Module)]
struct GruRegressor {
    gru: GRU,
    fc: Linear,
}

impl GruRegressor {
    fn new(g: &mut Generator) -> baeum::Result<GruRegressor> {
        Ok(GruRegressor {
            gru: GRU::with_options(RnnConfig::new(5, 16).batch_first(true), DType::F64, g)?,
            fc: linear(16, 1, g),
        })
    }
}

impl Forward for GruRegressor {
    fn forward(&self, x: &Tensor) -> baeum::Result<Tensor> {
        let (_, h_n) = self.gru.forward_with(x, None)?;
        // h_n is [layers, N, H]; the last layer's entry is `h_n[-1]`.
        self.fc.forward(&h_n.select(0, -1))
    }
}

/// The image models come from `baeum_vision::models` (10 classes, float64, 28×28 for the
/// one-channel ones and 32×32 for colour).
fn image_config(in_channels: usize) -> vision::ModelConfig {
    let side = if in_channels == 1 { 28 } else { 32 };
    vision::ModelConfig::new(10)
        .in_channels(in_channels)
        .image_size(side, side)
        .dtype(DType::F64)
}

/// The model a case names, in float64 (initial values are overwritten by the case's weights).
pub fn build(name: &str) -> Result<Box<dyn Layer>, String> {
    let g = &mut Generator::new(0);
    let model: baeum::Result<Box<dyn Layer>> = match name {
        "lenet5" => vision::LeNet5::new(&image_config(1), g).map(|m| Box::new(m) as Box<dyn Layer>),
        "mnist_cnn" => {
            vision::MnistCnn::new(&image_config(1), g).map(|m| Box::new(m) as Box<dyn Layer>)
        }
        "lstm_classifier" => LstmClassifier::new(g).map(|m| Box::new(m) as Box<dyn Layer>),
        "textcnn" => TextCnn::new(g).map(|m| Box::new(m) as Box<dyn Layer>),
        "gru_regressor" => GruRegressor::new(g).map(|m| Box::new(m) as Box<dyn Layer>),
        // One BasicBlock per stage: the CIFAR ResNet at n = 1 (depth 8).
        "small_resnet" => {
            vision::CifarResNet::new(1, &image_config(3), g).map(|m| Box::new(m) as Box<dyn Layer>)
        }
        other => {
            return Err(format!(
                "no architecture named '{other}' (known: {})",
                MODELS.join(", ")
            ));
        }
    };
    model.map_err(|e| format!("building {name}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Running a case.

/// Checks that the model's state dict has exactly the keys and shapes `case.json` lists.
fn check_declared_keys(model: &dyn Layer, declared: &Value) -> Result<(), String> {
    let Some(declared) = declared.as_object() else {
        return Err("case.json: \"state_dict\" is not an object of key → shape".into());
    };
    let own = model.state_dict();
    let mut problems = Vec::new();
    for (key, shape) in declared {
        let shape: Option<Vec<usize>> = shape
            .as_array()
            .and_then(|a| a.iter().map(|d| d.as_u64().map(|d| d as usize)).collect());
        let Some(shape) = shape else {
            return Err(format!(
                "case.json: the shape of {key} is not a list of sizes"
            ));
        };
        match own.get(key) {
            None => problems.push(format!("the model has no {key}")),
            Some(t) if t.dims() != shape.as_slice() => problems.push(format!(
                "{key} is {:?} in the model, {shape:?} in case.json",
                t.dims()
            )),
            Some(_) => {}
        }
    }
    for key in own.keys() {
        if !declared.contains_key(key) {
            problems.push(format!(
                "the model has {key}, which case.json does not list"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("state dict keys: {}", problems.join("; ")))
    }
}

/// The loss `case.json` names (`"cross_entropy(output, target) (mean)"`,
/// `"mse_loss(output, target) (mean)"`), of `output` against `target`.
fn loss(description: &str, output: &Tensor, target: &Tensor) -> Result<Tensor, String> {
    let reduction = if description.contains("(sum)") {
        Reduction::Sum
    } else if description.contains("(none)") {
        return Err(format!(
            "loss '{description}': an unreduced loss has no scalar to back-propagate"
        ));
    } else {
        Reduction::Mean
    };
    let function = description.split('(').next().unwrap_or("").trim();
    let result = match function {
        "cross_entropy" => F::cross_entropy(
            output,
            target,
            &CrossEntropyOptions {
                reduction,
                ..CrossEntropyOptions::default()
            },
        ),
        "mse_loss" => F::mse_loss(output, &target.to_dtype(output.dtype()), reduction),
        other => {
            return Err(format!(
                "loss '{description}': unknown loss function '{other}' (known: cross_entropy, mse_loss)"
            ));
        }
    };
    result.map_err(|e| format!("loss: {e}"))
}

fn read(case: &Case, file: &str) -> Result<Tensor, String> {
    read_npy(case.dir.join(file)).map_err(|e| format!("{file}: {e}"))
}

/// Evaluates a torch-models case: `output.npy`, `loss.npy` and `grad.<key>.npy` for every
/// parameter, as (file name, tensor).
pub fn run_case(case: &Case) -> Result<Vec<(String, Tensor)>, String> {
    let model = build(&case.name)?;
    if let Some(declared) = case.json.get("state_dict") {
        check_declared_keys(model.as_ref(), declared)?;
    }
    if let Some(count) = case.json.get("parameter_count").and_then(Value::as_u64) {
        let own = model.num_parameters(false);
        if own as u64 != count {
            return Err(format!(
                "the model has {own} parameters, case.json says {count}"
            ));
        }
    }
    let (weights, _) = load_safetensors(case.dir.join("model.safetensors"))
        .map_err(|e| format!("model.safetensors: {e}"))?;
    model
        .load_state_dict(&weights, true)
        .map_err(|e| e.to_string())?;
    model.eval();

    let input = read(case, "input.npy")?;
    let output = model.forward(&input).map_err(|e| format!("forward: {e}"))?;
    let target = read(case, "target.npy")?;
    let description = case
        .json
        .get("loss")
        .and_then(Value::as_str)
        .ok_or("case.json names no \"loss\"")?;
    let loss = loss(description, &output, &target)?;
    loss.try_backward(None, Default::default())
        .map_err(|e| format!("backward: {e}"))?;

    let mut produced = vec![
        ("output.npy".to_string(), output.detach()),
        ("loss.npy".to_string(), loss.detach()),
    ];
    for (key, p) in model.named_parameters() {
        let grad = p
            .grad()
            .ok_or_else(|| format!("backward: no gradient reached {key}"))?;
        produced.push((grad_file(&key), grad));
    }
    Ok(produced)
}

/// The expected gradients of a case, `grads.safetensors`, by parameter key.
pub fn expected_grads(case: &Case) -> Result<StateDict, String> {
    load_safetensors(case.dir.join("grads.safetensors"))
        .map(|(s, _)| s)
        .map_err(|e| format!("grads.safetensors: {e}"))
}
