//! VGG-11 and VGG-16 (Simonyan and Zisserman, configurations A and D) as torchvision builds
//! them without batch norm: 3×3 convolutions with padding 1 and ReLU, 2×2 max pools,
//! adaptive pooling to 7×7, and the 25088→4096→4096→classes classifier with dropout.

use baeum::nn::{self, AdaptiveAvgPool2d, Dropout, Forward, MaxPool2d, ReLU, Sequential};
use baeum::{Generator, Result, Tensor};

use super::{
    ConvSpec, Init, Maker, ModelConfig, Tap, VisionModel, check_input, head_config, last_of,
    run_seq, seq_names,
};

/// A max pool in a configuration list.
const M: usize = 0;
/// Configuration A (VGG-11): filters per convolution, `M` for a pool.
const VGG11: &[usize] = &[64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M];
/// Configuration D (VGG-16).
const VGG16: &[usize] = &[
    64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M,
];

/// The linear layers' init (torchvision): N(0, 0.01²), bias 0.
const LINEAR_INIT: Init = Init::Normal {
    std: 0.01,
    bias: 0.0,
};

/// torchvision's `VGG`: `features`, `avgpool` (adaptive, 7×7), `classifier` (indices 0, 3, 6
/// are the linear layers). Convolutions start from kaiming_normal (fan_out, ReLU) with zero
/// bias, linear layers from N(0, 0.01²), as torchvision initialises them.
#[derive(nn::Module)]
pub struct Vgg {
    pub features: Sequential,
    pub avgpool: AdaptiveAvgPool2d,
    pub classifier: Sequential,
    #[skip]
    arch: &'static str,
    num_classes: usize,
    in_channels: usize,
}

impl Vgg {
    /// VGG-11 (configuration A): 8 convolutions, 132,863,336 parameters at 1000 classes.
    pub fn vgg11(config: &ModelConfig, g: &mut Generator) -> Result<Vgg> {
        Vgg::from_layout("vgg11", VGG11, config, g)
    }

    /// VGG-16 (configuration D): 13 convolutions, 138,357,544 parameters at 1000 classes.
    pub fn vgg16(config: &ModelConfig, g: &mut Generator) -> Result<Vgg> {
        Vgg::from_layout("vgg16", VGG16, config, g)
    }

    fn from_layout(
        arch: &'static str,
        layout: &[usize],
        config: &ModelConfig,
        g: &mut Generator,
    ) -> Result<Vgg> {
        config.check(arch)?;
        let mut m = Maker::new(config, g);
        let mut features = Sequential::new();
        let mut c_in = config.in_channels;
        for &c in layout {
            if c == M {
                features.push(MaxPool2d::new(2));
            } else {
                features.push(m.conv(ConvSpec::new(c_in, c, 3).padding(1), Init::KaimingFanOut));
                features.push(ReLU);
                c_in = c;
            }
        }
        let classifier = Sequential::new()
            .add(m.linear(512 * 7 * 7, 4096, LINEAR_INIT))
            .add(ReLU)
            .add(Dropout::new(0.5)?)
            .add(m.linear(4096, 4096, LINEAR_INIT))
            .add(ReLU)
            .add(Dropout::new(0.5)?)
            .add(m.linear(4096, config.num_classes, LINEAR_INIT));
        Ok(Vgg {
            features,
            avgpool: AdaptiveAvgPool2d::new(7),
            classifier,
            arch,
            num_classes: config.num_classes,
            in_channels: config.in_channels,
        })
    }
}

impl VisionModel for Vgg {
    fn arch(&self) -> &'static str {
        self.arch
    }
    fn num_classes(&self) -> usize {
        self.num_classes
    }
    fn in_channels(&self) -> usize {
        self.in_channels
    }
    fn feature_prefixes(&self) -> Vec<String> {
        vec!["features".into()]
    }
    fn head_prefix(&self) -> String {
        "classifier.6".into()
    }
    fn replace_head(&mut self, num_classes: usize, g: &mut Generator) -> Result<()> {
        let config = head_config(self, self.arch, num_classes)?;
        let head = Maker::new(&config, g).linear(4096, num_classes, LINEAR_INIT);
        self.classifier.set(6, head);
        self.num_classes = num_classes;
        Ok(())
    }
    fn layer_names(&self) -> Vec<String> {
        let mut names = seq_names(&self.features, "features");
        names.push("avgpool".into());
        names.extend(seq_names(&self.classifier, "classifier"));
        names
    }
    fn cam_layer(&self) -> String {
        format!("features.{}", last_of(&self.features, "ReLU").unwrap_or(0))
    }
    fn forward_tapped(&self, x: &Tensor, t: &mut Tap<'_>) -> Result<Tensor> {
        check_input(self.arch, x, self.in_channels)?;
        let y = run_seq(&self.features, "features", x.clone(), t)?;
        let y = t.at("avgpool", self.avgpool.forward(&y)?)?;
        run_seq(&self.classifier, "classifier", y.flatten(1, -1), t)
    }
}
