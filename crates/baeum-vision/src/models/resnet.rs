//! Residual networks (He et al. 2015): torchvision's ResNet-18/34 (BasicBlock) and ResNet-50
//! (Bottleneck, stride on the 3×3 convolution as torchvision's "v1.5"), and the CIFAR-style
//! ResNet of the paper's §4.2 (3×3 stem, no max pool, three stages of 16/32/64 filters,
//! depth 6n + 2: resnet20 at n = 3) with projection shortcuts, as the conformance
//! `small_resnet` case builds them.

use crate::bail;
use baeum::nn::{self, AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Forward, Layer, Linear, MaxPool2d};
use baeum::{Generator, Result, Tensor};

use super::{ConvSpec, Init, Maker, ModelConfig, Tap, VisionModel, check_input, head_config};

/// Convolutions start from kaiming_normal (fan_out, ReLU), batch norms at weight 1, bias 0,
/// as torchvision initialises ResNets.
const CONV_INIT: Init = Init::KaimingFanOut;

/// The projection shortcut `downsample` = [conv 1×1 stride s, no bias; batch norm], when the
/// block changes the shape; `None` (identity) otherwise.
fn downsample(m: &mut Maker, c_in: usize, c_out: usize, stride: usize) -> Option<nn::Sequential> {
    (stride != 1 || c_in != c_out).then(|| {
        nn::Sequential::new()
            .add(m.conv(
                ConvSpec::new(c_in, c_out, 1).stride(stride).no_bias(),
                CONV_INIT,
            ))
            .add(m.bn(c_out))
    })
}

fn shortcut(downsample: &Option<nn::Sequential>, x: &Tensor) -> Result<Tensor> {
    match downsample {
        Some(d) => d.forward(x),
        None => Ok(x.clone()),
    }
}

/// conv1 3×3 (stride s) → bn1 → relu → conv2 3×3 → bn2, plus the shortcut, then relu.
#[derive(nn::Module)]
pub struct BasicBlock {
    pub conv1: Conv2d,
    pub bn1: BatchNorm2d,
    pub conv2: Conv2d,
    pub bn2: BatchNorm2d,
    pub downsample: Option<nn::Sequential>,
}

impl BasicBlock {
    /// The output has `planes` channels (BasicBlock's expansion is 1).
    fn new(m: &mut Maker, c_in: usize, planes: usize, stride: usize) -> BasicBlock {
        BasicBlock {
            conv1: m.conv(
                ConvSpec::new(c_in, planes, 3)
                    .stride(stride)
                    .padding(1)
                    .no_bias(),
                CONV_INIT,
            ),
            bn1: m.bn(planes),
            conv2: m.conv(
                ConvSpec::new(planes, planes, 3).padding(1).no_bias(),
                CONV_INIT,
            ),
            bn2: m.bn(planes),
            downsample: downsample(m, c_in, planes, stride),
        }
    }
}

impl Forward for BasicBlock {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = self.bn1.forward(&self.conv1.forward(x)?)?.relu();
        let y = self.bn2.forward(&self.conv2.forward(&y)?)?;
        Ok((y + shortcut(&self.downsample, x)?).relu())
    }
}

/// conv1 1×1 → bn1 → relu → conv2 3×3 (stride s) → bn2 → relu → conv3 1×1 (4× the width) →
/// bn3, plus the shortcut, then relu.
#[derive(nn::Module)]
pub struct Bottleneck {
    pub conv1: Conv2d,
    pub bn1: BatchNorm2d,
    pub conv2: Conv2d,
    pub bn2: BatchNorm2d,
    pub conv3: Conv2d,
    pub bn3: BatchNorm2d,
    pub downsample: Option<nn::Sequential>,
}

impl Bottleneck {
    const EXPANSION: usize = 4;

    /// The output has `4 · planes` channels.
    fn new(m: &mut Maker, c_in: usize, planes: usize, stride: usize) -> Bottleneck {
        let out = planes * Self::EXPANSION;
        Bottleneck {
            conv1: m.conv(ConvSpec::new(c_in, planes, 1).no_bias(), CONV_INIT),
            bn1: m.bn(planes),
            conv2: m.conv(
                ConvSpec::new(planes, planes, 3)
                    .stride(stride)
                    .padding(1)
                    .no_bias(),
                CONV_INIT,
            ),
            bn2: m.bn(planes),
            conv3: m.conv(ConvSpec::new(planes, out, 1).no_bias(), CONV_INIT),
            bn3: m.bn(out),
            downsample: downsample(m, c_in, out, stride),
        }
    }
}

impl Forward for Bottleneck {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = self.bn1.forward(&self.conv1.forward(x)?)?.relu();
        let y = self.bn2.forward(&self.conv2.forward(&y)?)?.relu();
        let y = self.bn3.forward(&self.conv3.forward(&y)?)?;
        Ok((y + shortcut(&self.downsample, x)?).relu())
    }
}

/// Which residual block a network stacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Basic,
    Bottleneck,
}

impl Kind {
    fn expansion(self) -> usize {
        match self {
            Kind::Basic => 1,
            Kind::Bottleneck => Bottleneck::EXPANSION,
        }
    }
}

/// A stage: `blocks` blocks of `planes`, the first with `stride`. Returns the blocks and the
/// stage's output channels.
fn stage(
    m: &mut Maker,
    kind: Kind,
    c_in: usize,
    planes: usize,
    blocks: usize,
    stride: usize,
) -> (Vec<Box<dyn Layer>>, usize) {
    let mut layers: Vec<Box<dyn Layer>> = Vec::with_capacity(blocks);
    let mut c = c_in;
    for i in 0..blocks {
        let s = if i == 0 { stride } else { 1 };
        layers.push(match kind {
            Kind::Basic => Box::new(BasicBlock::new(m, c, planes, s)),
            Kind::Bottleneck => Box::new(Bottleneck::new(m, c, planes, s)),
        });
        c = planes * kind.expansion();
    }
    (layers, c)
}

/// Runs a stage, offering each block's output (`layer2.0`) and the stage's (`layer2`) to the tap.
fn run_stage(blocks: &[Box<dyn Layer>], name: &str, x: Tensor, t: &mut Tap) -> Result<Tensor> {
    let mut y = x;
    for (i, block) in blocks.iter().enumerate() {
        y = t.at(&format!("{name}.{i}"), block.forward(&y)?)?;
    }
    t.at(name, y)
}

fn stage_names(blocks: &[Box<dyn Layer>], name: &str, out: &mut Vec<String>) {
    out.extend((0..blocks.len()).map(|i| format!("{name}.{i}")));
    out.push(name.to_string());
}

/// torchvision's ResNet: conv1 7×7 s2 → bn1 → relu → maxpool 3×3 s2 → layer1..layer4 (64,
/// 128, 256, 512 planes; strides 1, 2, 2, 2) → adaptive average pool → fc.
#[derive(nn::Module)]
pub struct ResNet {
    pub conv1: Conv2d,
    pub bn1: BatchNorm2d,
    pub maxpool: MaxPool2d,
    pub layer1: Vec<Box<dyn Layer>>,
    pub layer2: Vec<Box<dyn Layer>>,
    pub layer3: Vec<Box<dyn Layer>>,
    pub layer4: Vec<Box<dyn Layer>>,
    pub avgpool: AdaptiveAvgPool2d,
    pub fc: Linear,
    #[skip]
    arch: &'static str,
    fc_in: usize,
    num_classes: usize,
    in_channels: usize,
}

impl ResNet {
    /// ResNet-18: BasicBlocks [2, 2, 2, 2], 11,689,512 parameters at 1000 classes.
    pub fn resnet18(config: &ModelConfig, g: &mut Generator) -> Result<ResNet> {
        ResNet::build("resnet18", Kind::Basic, [2, 2, 2, 2], config, g)
    }

    /// ResNet-34: BasicBlocks [3, 4, 6, 3], 21,797,672 parameters at 1000 classes.
    pub fn resnet34(config: &ModelConfig, g: &mut Generator) -> Result<ResNet> {
        ResNet::build("resnet34", Kind::Basic, [3, 4, 6, 3], config, g)
    }

    /// ResNet-50: Bottlenecks [3, 4, 6, 3], 25,557,032 parameters at 1000 classes.
    pub fn resnet50(config: &ModelConfig, g: &mut Generator) -> Result<ResNet> {
        ResNet::build("resnet50", Kind::Bottleneck, [3, 4, 6, 3], config, g)
    }

    fn build(
        arch: &'static str,
        kind: Kind,
        blocks: [usize; 4],
        config: &ModelConfig,
        g: &mut Generator,
    ) -> Result<ResNet> {
        config.check(arch)?;
        let mut m = Maker::new(config, g);
        let conv1 = m.conv(
            ConvSpec::new(config.in_channels, 64, 7)
                .stride(2)
                .padding(3)
                .no_bias(),
            CONV_INIT,
        );
        let (layer1, c) = stage(&mut m, kind, 64, 64, blocks[0], 1);
        let (layer2, c) = stage(&mut m, kind, c, 128, blocks[1], 2);
        let (layer3, c) = stage(&mut m, kind, c, 256, blocks[2], 2);
        let (layer4, c) = stage(&mut m, kind, c, 512, blocks[3], 2);
        Ok(ResNet {
            conv1,
            bn1: m.bn(64),
            maxpool: MaxPool2d::new(3).stride(2).padding(1),
            layer1,
            layer2,
            layer3,
            layer4,
            avgpool: AdaptiveAvgPool2d::new(1),
            fc: m.linear(c, config.num_classes, Init::Default),
            arch,
            fc_in: c,
            num_classes: config.num_classes,
            in_channels: config.in_channels,
        })
    }

    fn stages(&self) -> [(&'static str, &[Box<dyn Layer>]); 4] {
        [
            ("layer1", &self.layer1),
            ("layer2", &self.layer2),
            ("layer3", &self.layer3),
            ("layer4", &self.layer4),
        ]
    }
}

impl VisionModel for ResNet {
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
        ["conv1", "bn1", "layer1", "layer2", "layer3", "layer4"]
            .map(String::from)
            .to_vec()
    }
    fn head_prefix(&self) -> String {
        "fc".into()
    }
    fn replace_head(&mut self, num_classes: usize, g: &mut Generator) -> Result<()> {
        let config = head_config(self, self.arch, num_classes)?;
        self.fc = Maker::new(&config, g).linear(self.fc_in, num_classes, Init::Default);
        self.num_classes = num_classes;
        Ok(())
    }
    fn layer_names(&self) -> Vec<String> {
        let mut names: Vec<String> = ["conv1", "bn1", "relu", "maxpool"]
            .map(String::from)
            .to_vec();
        for (name, blocks) in self.stages() {
            stage_names(blocks, name, &mut names);
        }
        names.extend(["avgpool".to_string(), "fc".to_string()]);
        names
    }
    fn cam_layer(&self) -> String {
        "layer4".into()
    }
    fn forward_tapped(&self, x: &Tensor, t: &mut Tap<'_>) -> Result<Tensor> {
        check_input(self.arch, x, self.in_channels)?;
        let y = t.at("conv1", self.conv1.forward(x)?)?;
        let y = t.at("bn1", self.bn1.forward(&y)?)?;
        let y = t.at("relu", y.relu())?;
        let mut y = t.at("maxpool", self.maxpool.forward(&y)?)?;
        for (name, blocks) in self.stages() {
            y = run_stage(blocks, name, y, t)?;
        }
        let y = t.at("avgpool", self.avgpool.forward(&y)?)?;
        t.at("fc", self.fc.forward(&y.flatten(1, -1))?)
    }
}

/// The CIFAR ResNet of He et al. §4.2 for 32×32 inputs: conv1 3×3 (C→16) → bn1 → relu →
/// layer1..layer3 of `n` BasicBlocks each (16, 32, 64 planes; strides 1, 2, 2) → global
/// average pool → fc(64 → classes); 6n + 2 layers with weights. Shortcuts that change the
/// shape are 1×1 projections (the paper's option B), with torchvision's key names.
#[derive(nn::Module)]
pub struct CifarResNet {
    pub conv1: Conv2d,
    pub bn1: BatchNorm2d,
    pub layer1: Vec<Box<dyn Layer>>,
    pub layer2: Vec<Box<dyn Layer>>,
    pub layer3: Vec<Box<dyn Layer>>,
    pub avgpool: AdaptiveAvgPool2d,
    pub fc: Linear,
    blocks_per_stage: usize,
    num_classes: usize,
    in_channels: usize,
}

impl CifarResNet {
    /// `n` blocks per stage: depth 6n + 2 (n = 3: resnet20, 5: resnet32, 7: resnet44,
    /// 9: resnet56).
    pub fn new(n: usize, config: &ModelConfig, g: &mut Generator) -> Result<CifarResNet> {
        config.check("resnet_cifar")?;
        if n == 0 {
            bail!(
                Invalid,
                "resnet_cifar: each stage needs at least one block (n = 0)"
            );
        }
        let mut m = Maker::new(config, g);
        let conv1 = m.conv(
            ConvSpec::new(config.in_channels, 16, 3)
                .padding(1)
                .no_bias(),
            CONV_INIT,
        );
        let (layer1, c) = stage(&mut m, Kind::Basic, 16, 16, n, 1);
        let (layer2, c) = stage(&mut m, Kind::Basic, c, 32, n, 2);
        let (layer3, c) = stage(&mut m, Kind::Basic, c, 64, n, 2);
        Ok(CifarResNet {
            conv1,
            bn1: m.bn(16),
            layer1,
            layer2,
            layer3,
            avgpool: AdaptiveAvgPool2d::new(1),
            fc: m.linear(c, config.num_classes, Init::Default),
            blocks_per_stage: n,
            num_classes: config.num_classes,
            in_channels: config.in_channels,
        })
    }

    /// The number of layers with weights, 6n + 2.
    pub fn depth(&self) -> usize {
        6 * self.blocks_per_stage + 2
    }

    fn stages(&self) -> [(&'static str, &[Box<dyn Layer>]); 3] {
        [
            ("layer1", &self.layer1),
            ("layer2", &self.layer2),
            ("layer3", &self.layer3),
        ]
    }
}

impl VisionModel for CifarResNet {
    /// The registry name that rebuilds this depth (`resnet_cifar` for depths the registry
    /// does not list by name).
    fn arch(&self) -> &'static str {
        match self.blocks_per_stage {
            3 => "resnet20",
            5 => "resnet32",
            7 => "resnet44",
            9 => "resnet56",
            _ => "resnet_cifar",
        }
    }
    fn num_classes(&self) -> usize {
        self.num_classes
    }
    fn in_channels(&self) -> usize {
        self.in_channels
    }
    fn feature_prefixes(&self) -> Vec<String> {
        ["conv1", "bn1", "layer1", "layer2", "layer3"]
            .map(String::from)
            .to_vec()
    }
    fn head_prefix(&self) -> String {
        "fc".into()
    }
    fn replace_head(&mut self, num_classes: usize, g: &mut Generator) -> Result<()> {
        let config = head_config(self, "resnet_cifar", num_classes)?;
        self.fc = Maker::new(&config, g).linear(64, num_classes, Init::Default);
        self.num_classes = num_classes;
        Ok(())
    }
    fn layer_names(&self) -> Vec<String> {
        let mut names: Vec<String> = ["conv1", "bn1", "relu"].map(String::from).to_vec();
        for (name, blocks) in self.stages() {
            stage_names(blocks, name, &mut names);
        }
        names.extend(["avgpool".to_string(), "fc".to_string()]);
        names
    }
    fn cam_layer(&self) -> String {
        "layer3".into()
    }
    fn forward_tapped(&self, x: &Tensor, t: &mut Tap<'_>) -> Result<Tensor> {
        check_input(self.arch(), x, self.in_channels)?;
        let y = t.at("conv1", self.conv1.forward(x)?)?;
        let y = t.at("bn1", self.bn1.forward(&y)?)?;
        let mut y = t.at("relu", y.relu())?;
        for (name, blocks) in self.stages() {
            y = run_stage(blocks, name, y, t)?;
        }
        let y = t.at("avgpool", self.avgpool.forward(&y)?)?;
        t.at("fc", self.fc.forward(&y.flatten(1, -1))?)
    }
}
