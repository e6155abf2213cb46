//! LeNet-5 (COURSE §8: CONV-POOL-CONV-POOL-CONV-FC, 5×5 convolutions, 2×2 pools), laid out
//! for 28×28 MNIST digits as the conformance suite's `lenet5` case: the first convolution pads
//! by 2 so that 28×28 plays LeCun's 32×32, and the third "convolution" (C5: 120 filters of
//! 5×5 over the 5×5×16 map) is written as the linear layer `fc1`, which it equals.

use baeum::nn::{self, Conv2d, Forward, Linear, MaxPool2d};
use baeum::{Generator, Result, Tensor};

use super::{
    ConvSpec, Init, Maker, ModelConfig, Tap, VisionModel, check_flat, check_input, head_config,
    out_size,
};

/// conv1(C→6, 5×5, pad 2) → relu → maxpool 2 → conv2(6→16, 5×5) → relu → maxpool 2 →
/// flatten → fc1(120) → relu → fc2(84) → relu → fc3(classes). PyTorch's default init.
#[derive(nn::Module)]
pub struct LeNet5 {
    pub conv1: Conv2d,
    pub conv2: Conv2d,
    pub fc1: Linear,
    pub fc2: Linear,
    pub fc3: Linear,
    pool: MaxPool2d,
    flat: usize,
    num_classes: usize,
    in_channels: usize,
}

impl LeNet5 {
    /// For `config.image_size` (28×28 by default), which sets fc1's input size (400 at 28×28).
    pub fn new(config: &ModelConfig, g: &mut Generator) -> Result<LeNet5> {
        config.check("lenet5")?;
        let (h, w) = config.image_size.unwrap_or((28, 28));
        let side = |n: usize| -> Result<usize> {
            let n = out_size("lenet5", n, 5, 1, 2)?;
            let n = out_size("lenet5", n, 2, 2, 0)?;
            let n = out_size("lenet5", n, 5, 1, 0)?;
            out_size("lenet5", n, 2, 2, 0)
        };
        let flat = 16 * side(h)? * side(w)?;
        let mut m = Maker::new(config, g);
        Ok(LeNet5 {
            conv1: m.conv(
                ConvSpec::new(config.in_channels, 6, 5).padding(2),
                Init::Default,
            ),
            conv2: m.conv(ConvSpec::new(6, 16, 5), Init::Default),
            fc1: m.linear(flat, 120, Init::Default),
            fc2: m.linear(120, 84, Init::Default),
            fc3: m.linear(84, config.num_classes, Init::Default),
            pool: MaxPool2d::new(2),
            flat,
            num_classes: config.num_classes,
            in_channels: config.in_channels,
        })
    }
}

const LAYERS: &[&str] = &[
    "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "fc1", "relu3", "fc2", "relu4", "fc3",
];

impl VisionModel for LeNet5 {
    fn arch(&self) -> &'static str {
        "lenet5"
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
        "fc3".into()
    }
    fn replace_head(&mut self, num_classes: usize, g: &mut Generator) -> Result<()> {
        let config = head_config(self, "lenet5", num_classes)?;
        self.fc3 = Maker::new(&config, g).linear(84, num_classes, Init::Default);
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
        check_input("lenet5", x, self.in_channels)?;
        let y = t.at("conv1", self.conv1.forward(x)?)?;
        let y = t.at("relu1", y.relu())?;
        let y = t.at("pool1", self.pool.forward(&y)?)?;
        let y = t.at("conv2", self.conv2.forward(&y)?)?;
        let y = t.at("relu2", y.relu())?;
        let y = t.at("pool2", self.pool.forward(&y)?)?;
        let y = t.at(
            "fc1",
            self.fc1.forward(&check_flat("lenet5", x, &y, self.flat)?)?,
        )?;
        let y = t.at("relu3", y.relu())?;
        let y = t.at("fc2", self.fc2.forward(&y)?)?;
        let y = t.at("relu4", y.relu())?;
        t.at("fc3", self.fc3.forward(&y)?)
    }
}
