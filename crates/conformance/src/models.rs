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

use baeum::io::{StateDict, load_safetensors, read_npy};
use baeum::nn::functional::{self as F, ConvOptions, CrossEntropyOptions, Reduction};
use baeum::nn::{
    self, BatchNorm, Conv1d, Conv2d, Dropout, Embedding, Forward, GRU, GlobalAvgPool, LSTM, Layer,
    Linear, MaxPool2d, ModuleExt, RnnConfig, Sequential,
};
use baeum::{DType, Generator, Tensor};
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

fn conv2d(
    c_in: usize,
    c_out: usize,
    k: usize,
    bias: bool,
    g: &mut Generator,
) -> baeum::Result<Conv2d> {
    Conv2d::with_options(c_in, c_out, k, ConvOptions::default(), bias, DType::F64, g)
}

fn linear(i: usize, o: usize, g: &mut Generator) -> Linear {
    Linear::with_options(i, o, true, DType::F64, g)
}

/// LeNet-5 for 28×28 inputs: conv1(1→6, k5, pad 2) → relu → maxpool 2 → conv2(6→16, k5) →
/// relu → maxpool 2 → flatten(400) → fc1(120) → relu → fc2(84) → relu → fc3(10).
#[derive(nn::Module)]
struct LeNet5 {
    conv1: Conv2d,
    conv2: Conv2d,
    fc1: Linear,
    fc2: Linear,
    fc3: Linear,
    pool: MaxPool2d,
}

impl LeNet5 {
    fn new(g: &mut Generator) -> baeum::Result<LeNet5> {
        Ok(LeNet5 {
            conv1: conv2d(1, 6, 5, true, g)?.padding(2),
            conv2: conv2d(6, 16, 5, true, g)?,
            fc1: linear(400, 120, g),
            fc2: linear(120, 84, g),
            fc3: linear(84, 10, g),
            pool: MaxPool2d::new(2),
        })
    }
}

impl Forward for LeNet5 {
    fn forward(&self, x: &Tensor) -> baeum::Result<Tensor> {
        let x = self.pool.forward(&self.conv1.forward(x)?.relu())?;
        let x = self.pool.forward(&self.conv2.forward(&x)?.relu())?;
        let x = self.fc1.forward(&x.flatten(1, -1))?.relu();
        let x = self.fc2.forward(&x)?.relu();
        self.fc3.forward(&x)
    }
}

/// The PyTorch MNIST example's CNN: conv1(1→32, k3) → relu → conv2(32→64, k3) → relu →
/// maxpool 2 → dropout1(0.25) → flatten(9216) → fc1(128) → relu → dropout2(0.5) → fc2(10).
#[derive(nn::Module)]
struct MnistCnn {
    conv1: Conv2d,
    conv2: Conv2d,
    dropout1: Dropout,
    dropout2: Dropout,
    fc1: Linear,
    fc2: Linear,
    pool: MaxPool2d,
}

impl MnistCnn {
    fn new(g: &mut Generator) -> baeum::Result<MnistCnn> {
        Ok(MnistCnn {
            conv1: conv2d(1, 32, 3, true, g)?,
            conv2: conv2d(32, 64, 3, true, g)?,
            dropout1: Dropout::new(0.25)?,
            dropout2: Dropout::new(0.5)?,
            fc1: linear(9216, 128, g),
            fc2: linear(128, 10, g),
            pool: MaxPool2d::new(2),
        })
    }
}

impl Forward for MnistCnn {
    fn forward(&self, x: &Tensor) -> baeum::Result<Tensor> {
        let x = self.conv1.forward(x)?.relu();
        let x = self.conv2.forward(&x)?.relu();
        let x = self.dropout1.forward(&self.pool.forward(&x)?)?;
        let x = self.fc1.forward(&x.flatten(1, -1))?.relu();
        self.fc2.forward(&self.dropout2.forward(&x)?)
    }
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

fn batch_norm(c: usize) -> BatchNorm {
    BatchNorm::new_2d(c).dtype(DType::F64)
}

/// torchvision's `BasicBlock`: conv1 3×3 (stride s) → bn1 → relu → conv2 3×3 → bn2, plus the
/// shortcut (identity, or `downsample` = [conv 1×1 stride s, BatchNorm] when the shape
/// changes), then relu.
#[derive(nn::Module)]
struct BasicBlock {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    downsample: Option<Sequential>,
}

impl BasicBlock {
    fn new(
        c_in: usize,
        c_out: usize,
        stride: usize,
        g: &mut Generator,
    ) -> baeum::Result<BasicBlock> {
        let downsample = if stride != 1 || c_in != c_out {
            Some(
                Sequential::new()
                    .add(conv2d(c_in, c_out, 1, false, g)?.stride(stride))
                    .add(batch_norm(c_out)),
            )
        } else {
            None
        };
        Ok(BasicBlock {
            conv1: conv2d(c_in, c_out, 3, false, g)?.stride(stride).padding(1),
            bn1: batch_norm(c_out),
            conv2: conv2d(c_out, c_out, 3, false, g)?.padding(1),
            bn2: batch_norm(c_out),
            downsample,
        })
    }
}

impl Forward for BasicBlock {
    fn forward(&self, x: &Tensor) -> baeum::Result<Tensor> {
        let y = self.bn1.forward(&self.conv1.forward(x)?)?.relu();
        let y = self.bn2.forward(&self.conv2.forward(&y)?)?;
        let shortcut = match &self.downsample {
            Some(d) => d.forward(x)?,
            None => x.clone(),
        };
        Ok((y + shortcut).relu())
    }
}

/// A CIFAR-sized ResNet: stem conv1 3×3 (3→16) + bn1 + relu; layer1..3 of one BasicBlock each
/// (16→16 s1, 16→32 s2, 32→64 s2); global average pool; fc(64→10).
#[derive(nn::Module)]
struct SmallResNet {
    conv1: Conv2d,
    bn1: BatchNorm,
    layer1: Vec<BasicBlock>,
    layer2: Vec<BasicBlock>,
    layer3: Vec<BasicBlock>,
    avgpool: GlobalAvgPool,
    fc: Linear,
}

impl SmallResNet {
    fn new(g: &mut Generator) -> baeum::Result<SmallResNet> {
        Ok(SmallResNet {
            conv1: conv2d(3, 16, 3, false, g)?.padding(1),
            bn1: batch_norm(16),
            layer1: vec![BasicBlock::new(16, 16, 1, g)?],
            layer2: vec![BasicBlock::new(16, 32, 2, g)?],
            layer3: vec![BasicBlock::new(32, 64, 2, g)?],
            avgpool: GlobalAvgPool,
            fc: linear(64, 10, g),
        })
    }
}

impl Forward for SmallResNet {
    fn forward(&self, x: &Tensor) -> baeum::Result<Tensor> {
        let mut y = self.bn1.forward(&self.conv1.forward(x)?)?.relu();
        for block in self.layer1.iter().chain(&self.layer2).chain(&self.layer3) {
            y = block.forward(&y)?;
        }
        self.fc.forward(&self.avgpool.forward(&y)?)
    }
}

/// The model a case names, in float64 (initial values are overwritten by the case's weights).
pub fn build(name: &str) -> Result<Box<dyn Layer>, String> {
    let g = &mut Generator::new(0);
    let model: baeum::Result<Box<dyn Layer>> = match name {
        "lenet5" => LeNet5::new(g).map(|m| Box::new(m) as Box<dyn Layer>),
        "mnist_cnn" => MnistCnn::new(g).map(|m| Box::new(m) as Box<dyn Layer>),
        "lstm_classifier" => LstmClassifier::new(g).map(|m| Box::new(m) as Box<dyn Layer>),
        "textcnn" => TextCnn::new(g).map(|m| Box::new(m) as Box<dyn Layer>),
        "gru_regressor" => GruRegressor::new(g).map(|m| Box::new(m) as Box<dyn Layer>),
        "small_resnet" => SmallResNet::new(g).map(|m| Box::new(m) as Box<dyn Layer>),
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
