//! The classic CNNs of COURSE §8–§9, with torchvision's parameter names so that a torchvision
//! state dict exported to safetensors loads as it is: LeNet-5, the PyTorch MNIST example's
//! CNN, AlexNet (torchvision's and the paper's layout), VGG-11/16, ResNet-18/34/50 and the
//! CIFAR-style ResNet.
//!
//! Every model is a [`VisionModel`]: a [`Layer`] (state dict, train/eval, `forward`) that also
//! says which of its parameters form the feature extractor and which layer is the classifier
//! head (for `--freeze features` and for replacing the head in transfer learning), and that
//! lets a caller tap the activation of a named layer during the forward pass (Grad-CAM).
//!
//! ```
//! use baeum::nn::ModuleExt;
//! use baeum_vision::models::{self, ModelConfig};
//! let model = models::build("lenet5", 10, 1).unwrap();
//! assert_eq!(model.num_parameters(false), 61_706);
//! assert_eq!(model.head_prefix(), "fc3");
//! let cnn = models::build_with("cnn", &ModelConfig::new(10).image_size(8, 8),
//!                              &mut baeum::Generator::new(0)).unwrap();
//! assert_eq!(cnn.state_dict().get("fc1.weight").unwrap().dims(), &[128, 256]);
//! assert!(models::build("resnet19", 10, 3).err().unwrap().to_string().contains("resnet18"));
//! ```

pub(crate) use crate::bail;

mod alexnet;
mod cnn;
mod lenet;
mod resnet;
mod vgg;

pub use alexnet::{AlexNet, AlexNetPaper};
pub use cnn::MnistCnn;
pub use lenet::LeNet5;
pub use resnet::{BasicBlock, Bottleneck, CifarResNet, ResNet};
pub use vgg::Vgg;

use baeum::nn::functional::{ConvOptions, Sizes};
use baeum::nn::{Conv2d, Layer, Linear, ModuleExt, Sequential};
use baeum::{DType, Generator, Result, Tensor};

/// The names [`build`] knows, in the order they are listed to a user.
pub const NAMES: &[&str] = &[
    "lenet5",
    "cnn",
    "alexnet",
    "alexnet_paper",
    "vgg11",
    "vgg16",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet_cifar",
    "resnet20",
    "resnet32",
    "resnet44",
    "resnet56",
];

/// What a model is built for. `image_size` matters only to the models whose classifier sees a
/// fixed-size feature map (`lenet5`, `cnn`, `alexnet_paper`); the others pool adaptively and
/// take any input large enough.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelConfig {
    pub num_classes: usize,
    pub in_channels: usize,
    /// `(height, width)` of the input; `None` is the model's own (28×28 for the MNIST models,
    /// 227×227 for the paper's AlexNet).
    pub image_size: Option<(usize, usize)>,
    /// Random initialisation as torchvision's (true), or zeros (false): for a model whose
    /// weights are loaded right after, where drawing 138 million numbers for VGG-16 is waste.
    pub init: bool,
    /// The parameters' dtype: f32 (the default), or f64 for gradient checks.
    pub dtype: DType,
}

impl ModelConfig {
    /// `num_classes` outputs, 3 input channels, the model's own input size, random init.
    pub fn new(num_classes: usize) -> ModelConfig {
        ModelConfig {
            num_classes,
            in_channels: 3,
            image_size: None,
            init: true,
            dtype: DType::F32,
        }
    }
    pub fn in_channels(mut self, in_channels: usize) -> Self {
        self.in_channels = in_channels;
        self
    }
    pub fn image_size(mut self, height: usize, width: usize) -> Self {
        self.image_size = Some((height, width));
        self
    }
    /// Zeros instead of random weights (the model is about to load a checkpoint).
    pub fn skip_init(mut self) -> Self {
        self.init = false;
        self
    }

    /// Parameters in `dtype` (f32 or f64).
    pub fn dtype(mut self, dtype: DType) -> Self {
        self.dtype = dtype;
        self
    }

    fn check(&self, model: &str) -> Result<()> {
        if !matches!(self.dtype, DType::F32 | DType::F64) {
            bail!(
                DType,
                "{model}: parameters must be f32 or f64, not {}",
                self.dtype
            );
        }
        if self.num_classes == 0 {
            bail!(Invalid, "{model}: num_classes must be at least 1");
        }
        if self.in_channels == 0 {
            bail!(Invalid, "{model}: in_channels must be at least 1");
        }
        Ok(())
    }
}

/// What a hook does with a layer's output: returns the tensor the forward pass goes on with.
pub type Hook<'h> = dyn FnMut(Tensor) -> Result<Tensor> + 'h;

/// A hook on one named layer's output during a forward pass (see
/// [`VisionModel::forward_hooked`]). Models call [`Tap::at`] after each nameable layer.
pub struct Tap<'h> {
    target: Option<(&'h str, &'h mut Hook<'h>)>,
    fired: bool,
}

impl<'h> Tap<'h> {
    /// A tap that fires nowhere (a plain forward).
    pub fn none() -> Tap<'static> {
        Tap {
            target: None,
            fired: false,
        }
    }

    /// A tap that passes the output of layer `name` through `hook`.
    pub fn new(name: &'h str, hook: &'h mut Hook<'h>) -> Tap<'h> {
        Tap {
            target: Some((name, hook)),
            fired: false,
        }
    }

    /// Called by a model with each named layer's output: returns the hook's result at the
    /// tapped layer (the first time the name comes by), the output itself elsewhere.
    pub fn at(&mut self, name: &str, output: Tensor) -> Result<Tensor> {
        match &mut self.target {
            Some((want, hook)) if !self.fired && *want == name => {
                self.fired = true;
                hook(output)
            }
            _ => Ok(output),
        }
    }

    /// Whether the hook ran.
    pub fn fired(&self) -> bool {
        self.fired
    }
}

/// A vision model: a [`Layer`] from images `[N, C, H, W]` to logits `[N, classes]` that knows
/// its feature extractor, its classifier head and the names of the layers one can tap.
pub trait VisionModel: Layer {
    /// The registry name (`"resnet18"`).
    fn arch(&self) -> &'static str;

    /// The number of outputs of the head.
    fn num_classes(&self) -> usize;

    /// The number of input channels the first layer expects.
    fn in_channels(&self) -> usize;

    /// Names of the parameter groups that form the feature extractor (`"features"`,
    /// `"layer1"`): [`freeze_features`] stops their gradients.
    fn feature_prefixes(&self) -> Vec<String>;

    /// The name of the classifier's last layer (`"fc"`, `"classifier.6"`), which
    /// [`VisionModel::replace_head`] swaps.
    fn head_prefix(&self) -> String;

    /// A fresh, randomly initialised last layer with `num_classes` outputs (transfer learning:
    /// load pretrained weights, then give the network a head for the new classes).
    fn replace_head(&mut self, num_classes: usize, g: &mut Generator) -> Result<()>;

    /// The layers a [`Tap`] can name, in forward order.
    fn layer_names(&self) -> Vec<String>;

    /// The layer Grad-CAM uses unless told otherwise: the last convolutional stage's
    /// rectified output.
    fn cam_layer(&self) -> String;

    /// The forward pass, offering each named layer's output to `tap`.
    fn forward_tapped(&self, x: &Tensor, tap: &mut Tap<'_>) -> Result<Tensor>;

    /// The forward pass with the output of layer `at` passed through `hook` (which may record
    /// it, or replace it, e.g. by a leaf that requires grad); an unknown name is an error that
    /// lists the known ones.
    fn forward_hooked(
        &self,
        x: &Tensor,
        at: &str,
        hook: &mut dyn FnMut(Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let names = self.layer_names();
        if !names.iter().any(|n| n == at) {
            bail!(
                Invalid,
                "{}: no layer named '{at}' (layers: {})",
                self.arch(),
                names.join(", ")
            );
        }
        let mut tap = Tap::new(at, hook);
        let y = self.forward_tapped(x, &mut tap)?;
        if !tap.fired() {
            bail!(
                Invalid,
                "{}: layer '{at}' was not reached by the forward pass",
                self.arch()
            );
        }
        Ok(y)
    }
}

/// Builds a model by name with `num_classes` outputs and `in_channels` input channels, at its
/// default input size, initialised from the global generator (`baeum::manual_seed`).
pub fn build(name: &str, num_classes: usize, in_channels: usize) -> Result<Box<dyn VisionModel>> {
    let config = ModelConfig::new(num_classes).in_channels(in_channels);
    baeum::tensor::random::with_global(|g| build_with(name, &config, g))
}

/// Builds a model by name from a full configuration and a generator.
pub fn build_with(
    name: &str,
    config: &ModelConfig,
    g: &mut Generator,
) -> Result<Box<dyn VisionModel>> {
    fn boxed<M: VisionModel + 'static>(m: Result<M>) -> Result<Box<dyn VisionModel>> {
        m.map(|m| Box::new(m) as Box<dyn VisionModel>)
    }
    match name {
        "lenet5" => boxed(LeNet5::new(config, g)),
        "cnn" => boxed(MnistCnn::new(config, g)),
        "alexnet" => boxed(AlexNet::new(config, g)),
        "alexnet_paper" => boxed(AlexNetPaper::new(config, g)),
        "vgg11" => boxed(Vgg::vgg11(config, g)),
        "vgg16" => boxed(Vgg::vgg16(config, g)),
        "resnet18" => boxed(ResNet::resnet18(config, g)),
        "resnet34" => boxed(ResNet::resnet34(config, g)),
        "resnet50" => boxed(ResNet::resnet50(config, g)),
        "resnet_cifar" | "resnet20" => boxed(CifarResNet::new(3, config, g)),
        "resnet32" => boxed(CifarResNet::new(5, config, g)),
        "resnet44" => boxed(CifarResNet::new(7, config, g)),
        "resnet56" => boxed(CifarResNet::new(9, config, g)),
        other => bail!(
            Invalid,
            "models: no model named '{other}' (known: {})",
            NAMES.join(", ")
        ),
    }
}

/// Whether parameter `name` lies under `prefix` (`features` covers `features.0.weight`, not
/// `features_x.weight`).
pub fn under_prefix(name: &str, prefix: &str) -> bool {
    name == prefix
        || (name.len() > prefix.len()
            && name.starts_with(prefix)
            && name.as_bytes()[prefix.len()] == b'.')
}

/// Stops the gradients of the feature extractor's parameters (`--freeze features`): only the
/// classifier trains. Returns how many parameter elements were frozen.
pub fn freeze_features(model: &dyn VisionModel) -> usize {
    let prefixes = model.feature_prefixes();
    let mut frozen = 0;
    for (name, p) in (model as &dyn Layer).named_parameters() {
        if prefixes.iter().any(|pre| under_prefix(&name, pre)) {
            p.requires_grad_(false);
            frozen += p.numel();
        }
    }
    frozen
}

// ---------------------------------------------------------------------------------------------
// Building blocks shared by the families: layers created with their final initialisation
// directly (no default init drawn first and then overwritten).

/// How a layer's weight and bias start.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Init {
    /// PyTorch's layer default: weight and bias from U(−1/√fan_in, 1/√fan_in).
    Default,
    /// kaiming_normal_(mode = fan_out, ReLU), bias 0 (torchvision's ResNet and VGG convs).
    KaimingFanOut,
    /// N(0, std²) weights and a constant bias (VGG's linear layers; the AlexNet paper).
    Normal { std: f64, bias: f64 },
}

/// Creates layers from one generator, or zeros when the config says `skip_init`.
pub(crate) struct Maker<'g> {
    pub(crate) g: &'g mut Generator,
    pub(crate) random: bool,
    pub(crate) dtype: DType,
}

impl<'g> Maker<'g> {
    pub(crate) fn new(config: &ModelConfig, g: &'g mut Generator) -> Maker<'g> {
        Maker {
            g,
            random: config.init,
            dtype: config.dtype,
        }
    }

    /// `(weight, bias)` of the given shapes; `fan_in`/`fan_out` as torch.nn.init computes them.
    fn tensors(&mut self, shape: &[usize], bias: bool, init: Init) -> (Tensor, Option<Tensor>) {
        let out = shape[0];
        let receptive: usize = shape[2..].iter().product();
        let fan_in = shape[1] * receptive;
        let fan_out = out * receptive;
        let dtype = self.dtype;
        if !self.random {
            let b = bias.then(|| Tensor::zeros_dtype([out], dtype));
            return (Tensor::zeros_dtype(shape, dtype), b);
        }
        let g = &mut *self.g;
        match init {
            Init::Default => {
                let bound = 1.0 / (fan_in as f64).sqrt();
                let w = Tensor::uniform_with(shape, -bound, bound, dtype, g);
                let b = bias.then(|| Tensor::uniform_with([out], -bound, bound, dtype, g));
                (w, b)
            }
            Init::KaimingFanOut => {
                let std = 2f64.sqrt() / (fan_out as f64).sqrt();
                let w = Tensor::normal_with(shape, 0.0, std, dtype, g);
                (w, bias.then(|| Tensor::zeros_dtype([out], dtype)))
            }
            Init::Normal { std, bias: b } => {
                let w = Tensor::normal_with(shape, 0.0, std, dtype, g);
                (w, bias.then(|| Tensor::full([out], b, dtype)))
            }
        }
    }

    /// A square `k`×`k` convolution with the given stride and padding.
    pub(crate) fn conv(&mut self, spec: ConvSpec, init: Init) -> Conv2d {
        let ConvSpec {
            c_in,
            c_out,
            k,
            stride,
            padding,
            bias,
        } = spec;
        let (w, b) = self.tensors(&[c_out, c_in, k, k], bias, init);
        Conv2d {
            weight: w.requires_grad_(true),
            bias: b.map(|b| b.requires_grad_(true)),
            in_channels: c_in,
            out_channels: c_out,
            kernel_size: vec![k, k],
            options: ConvOptions::default().stride(stride).padding(padding),
        }
    }

    /// Batch norm over `c` channels at weight 1, bias 0 (torchvision's init), in the dtype.
    pub(crate) fn bn(&self, c: usize) -> baeum::nn::BatchNorm2d {
        baeum::nn::BatchNorm2d::new_2d(c).dtype(self.dtype)
    }

    pub(crate) fn linear(&mut self, i: usize, o: usize, init: Init) -> Linear {
        let (w, b) = self.tensors(&[o, i], true, init);
        Linear::from_weights(w.requires_grad_(true), b.map(|b| b.requires_grad_(true)))
            .expect("the shapes were made to match")
    }
}

/// A convolution's shape: `c_in → c_out`, `k`×`k`, stride, padding, bias.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConvSpec {
    pub c_in: usize,
    pub c_out: usize,
    pub k: usize,
    pub stride: usize,
    pub padding: usize,
    pub bias: bool,
}

impl ConvSpec {
    /// Stride 1, no padding, with a bias.
    pub(crate) fn new(c_in: usize, c_out: usize, k: usize) -> ConvSpec {
        ConvSpec {
            c_in,
            c_out,
            k,
            stride: 1,
            padding: 0,
            bias: true,
        }
    }
    pub(crate) fn stride(mut self, s: usize) -> Self {
        self.stride = s;
        self
    }
    pub(crate) fn padding(mut self, p: usize) -> Self {
        self.padding = p;
        self
    }
    pub(crate) fn no_bias(mut self) -> Self {
        self.bias = false;
        self
    }
}

/// The output size of a convolution or pooling along one dimension, (n + 2p − k)/s + 1, or an
/// error naming the model when the input is too small.
pub(crate) fn out_size(model: &str, n: usize, k: usize, s: usize, p: usize) -> Result<usize> {
    if n + 2 * p < k {
        bail!(
            Shape,
            "{model}: a {k}×{k} window (padding {p}) does not fit a {n}-pixel-wide input; the \
             image is too small for this model"
        );
    }
    Ok((n + 2 * p - k) / s + 1)
}

/// The names of a `Sequential`'s layers under `prefix` (`features.0`, `features.1`, …).
pub(crate) fn seq_names(seq: &Sequential, prefix: &str) -> Vec<String> {
    (0..seq.len()).map(|i| format!("{prefix}.{i}")).collect()
}

/// Runs a `Sequential` layer by layer, offering each output to the tap by its dotted name.
pub(crate) fn run_seq(seq: &Sequential, prefix: &str, x: Tensor, tap: &mut Tap) -> Result<Tensor> {
    let mut y = x;
    for (i, layer) in seq.iter().enumerate() {
        y = layer.forward(&y)?;
        y = tap.at(&format!("{prefix}.{i}"), y)?;
    }
    Ok(y)
}

/// Checks that the input is `[N, C, H, W]` with the channels the model expects.
pub(crate) fn check_input(model: &str, x: &Tensor, in_channels: usize) -> Result<()> {
    match x.dims() {
        [_, c, _, _] if *c == in_channels => Ok(()),
        dims => bail!(
            Shape,
            "{model}: input {dims:?} must be [N, {in_channels}, H, W] (images with \
             {in_channels} channel{})",
            if in_channels == 1 { "" } else { "s" }
        ),
    }
}

/// Flattens the feature map `y` for a classifier built for `want` inputs, or says which input
/// size the model was built for.
pub(crate) fn check_flat(model: &str, x: &Tensor, y: &Tensor, want: usize) -> Result<Tensor> {
    let flat = y.flatten(1, -1);
    if flat.dims()[1] != want {
        bail!(
            Shape,
            "{model}: the input {:?} gives a {:?} feature map ({} values) but the classifier was              built for {want}; build the model with ModelConfig::image_size for this input size",
            x.dims(),
            y.dims(),
            flat.dims()[1]
        );
    }
    Ok(flat)
}

/// The dtype of a model's parameters (for a new head that matches them).
pub(crate) fn model_dtype<M: baeum::nn::Module>(model: &M) -> DType {
    model.float_dtype().unwrap_or(DType::F32)
}

/// The config a new head of `model` is made with by `replace_head`: its dtype, checked.
pub(crate) fn head_config<M: baeum::nn::Module>(
    model: &M,
    arch: &str,
    num_classes: usize,
) -> Result<ModelConfig> {
    let config = ModelConfig::new(num_classes).dtype(model_dtype(model));
    config.check(arch)?;
    Ok(config)
}

/// Every model's plain forward pass is its tapped one with a tap that fires nowhere.
macro_rules! forward_untapped {
    ($($model:ty),*) => {$(
        impl baeum::nn::Forward for $model {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                self.forward_tapped(x, &mut Tap::none())
            }
        }
    )*};
}

forward_untapped!(
    AlexNet,
    AlexNetPaper,
    MnistCnn,
    LeNet5,
    ResNet,
    CifarResNet,
    Vgg
);

/// The index of the last layer of type `ty` in a `Sequential` (`ReLU` for the CAM layer).
pub(crate) fn last_of(seq: &Sequential, ty: &str) -> Option<usize> {
    seq.iter()
        .enumerate()
        .filter(|(_, l)| l.type_name() == ty)
        .map(|(i, _)| i)
        .last()
}

/// A parameter-free layer's sizes (`MaxPool2d(3, 2)`).
pub(crate) fn pool(k: usize, s: usize) -> baeum::nn::MaxPool2d {
    baeum::nn::MaxPool2d::new(k).stride(Sizes::from(s))
}
