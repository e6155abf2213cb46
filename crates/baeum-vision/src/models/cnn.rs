//! The compact CNN of PyTorch's MNIST example (`cnn` in the registry), with the layout and key
//! names of the conformance suite's `mnist_cnn` case: two 3×3 convolutions, one 2×2 pool,
//! dropout, two linear layers. It reaches 99 % on MNIST in a few epochs.

use baeum::nn::{self, Conv2d, Dropout, Forward, Linear, MaxPool2d};
use baeum::{Generator, Result, Tensor};

use super::{
    ConvSpec, Init, Maker, ModelConfig, Tap, VisionModel, check_flat, check_input, head_config,
    out_size,
};

/// conv1(C→32, 3×3) → relu → conv2(32→64, 3×3) → relu → maxpool 2 → dropout1(0.25) →
/// flatten → fc1(128) → relu → dropout2(0.5) → fc2(classes). PyTorch's default init.
#[derive(nn::Module)]
pub struct MnistCnn {
    pub conv1: Conv2d,
    pub conv2: Conv2d,
    pub dropout1: Dropout,
    pub dropout2: Dropout,
    pub fc1: Linear,
    pub fc2: Linear,
    pool: MaxPool2d,
    flat: usize,
    num_classes: usize,
    in_channels: usize,
}

impl MnistCnn {
    /// For `config.image_size` (28×28 by default: fc1 sees 64·12·12 = 9216 features; 8×8
    /// digits give 64·2·2 = 256).
    pub fn new(config: &ModelConfig, g: &mut Generator) -> Result<MnistCnn> {
        config.check("cnn")?;
        let (h, w) = config.image_size.unwrap_or((28, 28));
        let side = |n: usize| -> Result<usize> {
            let n = out_size("cnn", n, 3, 1, 0)?;
            let n = out_size("cnn", n, 3, 1, 0)?;
            out_size("cnn", n, 2, 2, 0)
        };
        let flat = 64 * side(h)? * side(w)?;
        let mut m = Maker::new(config, g);
        Ok(MnistCnn {
            conv1: m.conv(ConvSpec::new(config.in_channels, 32, 3), Init::Default),
            conv2: m.conv(ConvSpec::new(32, 64, 3), Init::Default),
            dropout1: Dropout::new(0.25)?,
            dropout2: Dropout::new(0.5)?,
            fc1: m.linear(flat, 128, Init::Default),
            fc2: m.linear(128, config.num_classes, Init::Default),
            pool: MaxPool2d::new(2),
            flat,
            num_classes: config.num_classes,
            in_channels: config.in_channels,
        })
    }
}

const LAYERS: &[&str] = &[
    "conv1", "relu1", "conv2", "relu2", "pool", "dropout1", "fc1", "relu3", "dropout2", "fc2",
];

impl VisionModel for MnistCnn {
    fn arch(&self) -> &'static str {
        "cnn"
    }
    fn num_classes(&self) -> usize {
        self.num_classes
    }
    fn in_channels(&self) -> usize {
        self.in_channels
    }
    fn feature_prefixes(&self) -> Vec<String> {
        vec!["conv1".into(), "conv2".into()]
    }
    fn head_prefix(&self) -> String {
        "fc2".into()
    }
    fn replace_head(&mut self, num_classes: usize, g: &mut Generator) -> Result<()> {
        let config = head_config(self, "cnn", num_classes)?;
        self.fc2 = Maker::new(&config, g).linear(128, num_classes, Init::Default);
        self.num_classes = num_classes;
        Ok(())
    }
    fn layer_names(&self) -> Vec<String> {
        LAYERS.iter().map(|s| s.to_string()).collect()
    }
    fn cam_layer(&self) -> String {
        "relu2".into()
    }
    fn forward_tapped(&self, x: &Tensor, t: &mut Tap<'_>) -> Result<Tensor> {
        check_input("cnn", x, self.in_channels)?;
        let y = t.at("conv1", self.conv1.forward(x)?)?;
        let y = t.at("relu1", y.relu())?;
        let y = t.at("conv2", self.conv2.forward(&y)?)?;
        let y = t.at("relu2", y.relu())?;
        let y = t.at("pool", self.pool.forward(&y)?)?;
        let y = t.at("dropout1", self.dropout1.forward(&y)?)?;
        let y = t.at(
            "fc1",
            self.fc1.forward(&check_flat("cnn", x, &y, self.flat)?)?,
        )?;
        let y = t.at("relu3", y.relu())?;
        let y = t.at("dropout2", self.dropout2.forward(&y)?)?;
        t.at("fc2", self.fc2.forward(&y)?)
    }
}
