//! AlexNet twice: torchvision's `alexnet` (64-192-384-256-256 filters, adaptive pooling to
//! 6×6, 61,100,840 parameters at 1000 classes) and the layout of the paper as COURSE §8 walks
//! through it (227×227×3 input, CONV1 96 11×11 stride 4 → 55×55×96 with 34,944 parameters,
//! overlapping 3×3 stride-2 pools, local response normalisation, FC 4096-4096-1000, dropout 0.5;
//! 62,378,344 parameters).

use baeum::nn::{self, AdaptiveAvgPool2d, Dropout, Forward, LocalResponseNorm, ReLU, Sequential};
use baeum::{Generator, Result, Tensor};

use super::{
    ConvSpec, Init, Maker, ModelConfig, Tap, VisionModel, check_flat, check_input, head_config,
    last_of, out_size, pool, run_seq, seq_names,
};

/// The classifier both layouts share: dropout → fc(in, 4096) → relu → dropout → fc(4096) →
/// relu → fc(classes), at indices 0..6 as torchvision numbers them.
fn classifier(
    m: &mut Maker,
    flat: usize,
    classes: usize,
    hidden: Init,
    last: Init,
) -> Result<Sequential> {
    Ok(Sequential::new()
        .add(Dropout::new(0.5)?)
        .add(m.linear(flat, 4096, hidden))
        .add(ReLU)
        .add(Dropout::new(0.5)?)
        .add(m.linear(4096, 4096, hidden))
        .add(ReLU)
        .add(m.linear(4096, classes, last)))
}

/// torchvision's AlexNet: `features` (5 convolutions with ReLU, 3 max pools), `avgpool`
/// (adaptive, 6×6), `classifier` (dropout, 9216→4096→4096→classes). PyTorch's default init,
/// as torchvision leaves it.
#[derive(nn::Module)]
pub struct AlexNet {
    pub features: Sequential,
    pub avgpool: AdaptiveAvgPool2d,
    pub classifier: Sequential,
    num_classes: usize,
    in_channels: usize,
}

impl AlexNet {
    pub fn new(config: &ModelConfig, g: &mut Generator) -> Result<AlexNet> {
        config.check("alexnet")?;
        let mut m = Maker::new(config, g);
        let d = Init::Default;
        let features = Sequential::new()
            .add(
                m.conv(
                    ConvSpec::new(config.in_channels, 64, 11)
                        .stride(4)
                        .padding(2),
                    d,
                ),
            )
            .add(ReLU)
            .add(pool(3, 2))
            .add(m.conv(ConvSpec::new(64, 192, 5).padding(2), d))
            .add(ReLU)
            .add(pool(3, 2))
            .add(m.conv(ConvSpec::new(192, 384, 3).padding(1), d))
            .add(ReLU)
            .add(m.conv(ConvSpec::new(384, 256, 3).padding(1), d))
            .add(ReLU)
            .add(m.conv(ConvSpec::new(256, 256, 3).padding(1), d))
            .add(ReLU)
            .add(pool(3, 2));
        Ok(AlexNet {
            features,
            avgpool: AdaptiveAvgPool2d::new(6),
            classifier: classifier(&mut m, 256 * 6 * 6, config.num_classes, d, d)?,
            num_classes: config.num_classes,
            in_channels: config.in_channels,
        })
    }
}

impl VisionModel for AlexNet {
    fn arch(&self) -> &'static str {
        "alexnet"
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
        let config = head_config(self, "alexnet", num_classes)?;
        let head = Maker::new(&config, g).linear(4096, num_classes, Init::Default);
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
        check_input("alexnet", x, self.in_channels)?;
        let y = run_seq(&self.features, "features", x.clone(), t)?;
        let y = t.at("avgpool", self.avgpool.forward(&y)?)?;
        run_seq(&self.classifier, "classifier", y.flatten(1, -1), t)
    }
}

/// The paper's AlexNet as COURSE §8 lays it out, on one device (no two-GPU grouping):
/// CONV1 96 11×11 s4 → relu → POOL1 3×3 s2 → NORM1 → CONV2 256 5×5 p2 → relu → POOL2 → NORM2 →
/// CONV3 384 3×3 p1 → CONV4 384 3×3 p1 → CONV5 256 3×3 p1 (each with relu) → POOL3 → 6×6×256
/// → FC6 4096 → FC7 4096 → FC8 classes, dropout 0.5 before FC6 and FC7. Initialised as the
/// paper: weights N(0, 0.01²), biases 1 in CONV2, CONV4, CONV5, FC6, FC7 and 0 elsewhere.
/// NORM is the paper's k = 2, n = 5, α = 1e-4, β = 0.75; PyTorch's LRN divides α by n, so
/// the layer holds α = 5e-4.
#[derive(nn::Module)]
pub struct AlexNetPaper {
    pub features: Sequential,
    pub classifier: Sequential,
    flat: usize,
    num_classes: usize,
    in_channels: usize,
}

impl AlexNetPaper {
    /// For `config.image_size` (227×227 by default), which sets FC6's input size.
    pub fn new(config: &ModelConfig, g: &mut Generator) -> Result<AlexNetPaper> {
        const NAME: &str = "alexnet_paper";
        config.check(NAME)?;
        let (h, w) = config.image_size.unwrap_or((227, 227));
        let side = |n: usize| -> Result<usize> {
            let n = out_size(NAME, n, 11, 4, 0)?;
            let n = out_size(NAME, n, 3, 2, 0)?;
            let n = out_size(NAME, n, 5, 1, 2)?;
            let n = out_size(NAME, n, 3, 2, 0)?;
            out_size(NAME, n, 3, 2, 0)
        };
        let flat = 256 * side(h)? * side(w)?;
        let zero = Init::Normal {
            std: 0.01,
            bias: 0.0,
        };
        let one = Init::Normal {
            std: 0.01,
            bias: 1.0,
        };
        let norm = || LocalResponseNorm::with(5, 5e-4, 0.75, 2.0);
        let mut m = Maker::new(config, g);
        let features = Sequential::new()
            .add(m.conv(ConvSpec::new(config.in_channels, 96, 11).stride(4), zero))
            .add(ReLU)
            .add(pool(3, 2))
            .add(norm())
            .add(m.conv(ConvSpec::new(96, 256, 5).padding(2), one))
            .add(ReLU)
            .add(pool(3, 2))
            .add(norm())
            .add(m.conv(ConvSpec::new(256, 384, 3).padding(1), zero))
            .add(ReLU)
            .add(m.conv(ConvSpec::new(384, 384, 3).padding(1), one))
            .add(ReLU)
            .add(m.conv(ConvSpec::new(384, 256, 3).padding(1), one))
            .add(ReLU)
            .add(pool(3, 2));
        Ok(AlexNetPaper {
            features,
            classifier: classifier(&mut m, flat, config.num_classes, one, zero)?,
            flat,
            num_classes: config.num_classes,
            in_channels: config.in_channels,
        })
    }
}

impl VisionModel for AlexNetPaper {
    fn arch(&self) -> &'static str {
        "alexnet_paper"
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
        let config = head_config(self, "alexnet_paper", num_classes)?;
        let init = Init::Normal {
            std: 0.01,
            bias: 0.0,
        };
        let head = Maker::new(&config, g).linear(4096, num_classes, init);
        self.classifier.set(6, head);
        self.num_classes = num_classes;
        Ok(())
    }
    fn layer_names(&self) -> Vec<String> {
        let mut names = seq_names(&self.features, "features");
        names.extend(seq_names(&self.classifier, "classifier"));
        names
    }
    fn cam_layer(&self) -> String {
        format!("features.{}", last_of(&self.features, "ReLU").unwrap_or(0))
    }
    fn forward_tapped(&self, x: &Tensor, t: &mut Tap<'_>) -> Result<Tensor> {
        check_input("alexnet_paper", x, self.in_channels)?;
        let y = run_seq(&self.features, "features", x.clone(), t)?;
        let flat = check_flat("alexnet_paper", x, &y, self.flat)?;
        run_seq(&self.classifier, "classifier", flat, t)
    }
}
