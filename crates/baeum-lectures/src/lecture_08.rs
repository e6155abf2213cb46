//! COURSE §8: convolutional networks.
//!
//! The output-size rule (N − F)/stride + 1 and the stride that does not fit, zero padding that
//! keeps the size, max pooling, VALID and SAME convolution of the notes' 3×3 image, and
//! AlexNet's layer table (the convolution and pooling part, run once on a 227×227×3 input by
//! `nn::summary`), with its parameter counts.

use std::io::{self, Write};

use baeum::Tensor;
use baeum::nn::functional::{
    ConvOptions, MaxPoolOptions, Padding, conv_output_size, conv_output_size_exact, conv2d,
    max_pool2d,
};
use baeum::nn::{Conv2d, Forward, MaxPool2d, ReLU, Sequential, summary};

use crate::common::{heading, or_io, title, values};

/// What the lecture computed.
#[derive(Clone, Debug)]
pub struct Report {
    /// N = 7, F = 3: the output size with stride 1 and 2.
    pub stride1: usize,
    pub stride2: usize,
    /// The error that stride 3 gives (the windows do not fit: 2.33).
    pub stride3_error: String,
    /// The spatial size a 3×3 convolution with padding 1 keeps on a 7×7 input (a real `Conv2d`).
    pub padded_output: Vec<usize>,
    /// 32×32×3 through one 5×5×3 filter, stride 1, no padding.
    pub filter_5x5_on_32: usize,
    /// Max pooling 2×2 stride 2 of the notes' 4×4 input, row-major.
    pub max_pool: Vec<f64>,
    /// The 3×3 image convolved with a 2×2 filter of ones.
    pub valid: Vec<f64>,
    pub valid_shape: Vec<usize>,
    pub same: Vec<f64>,
    pub same_shape: Vec<usize>,
    /// AlexNet's convolution and pooling layers: (name, output [C, H, W], parameters).
    pub alexnet: Vec<(String, Vec<usize>, usize)>,
    /// Parameters of the convolution part, counted by the summary.
    pub alexnet_conv_params: usize,
    /// FC6, FC7, FC8: (in · out + out) each, by arithmetic.
    pub alexnet_fc_params: Vec<(String, usize)>,
}

/// Runs the lecture, printing to `out`.
pub fn run(out: &mut dyn Write) -> io::Result<Report> {
    title(out, 8, "Convolutional networks")?;

    heading(out, "Output size (N − F + 2P) / stride + 1, N = 7, F = 3")?;
    let stride1 = or_io(conv_output_size_exact(7, 3, 1, 0, 1))?;
    let stride2 = or_io(conv_output_size_exact(7, 3, 2, 0, 1))?;
    writeln!(out, "  stride 1: (7 − 3)/1 + 1 = {stride1}")?;
    writeln!(out, "  stride 2: (7 − 3)/2 + 1 = {stride2}")?;
    let stride3_error = match conv_output_size_exact(7, 3, 3, 0, 1) {
        Ok(n) => {
            return Err(io::Error::other(format!(
                "conv_output_size_exact accepted stride 3 on N = 7, F = 3 (gave {n})"
            )));
        }
        Err(e) => e.to_string(),
    };
    writeln!(out, "  stride 3: (7 − 3)/3 + 1 = 2.33, refused:")?;
    writeln!(out, "    {stride3_error}")?;

    heading(out, "Zero padding (F − 1)/2 keeps the size")?;
    let conv = Conv2d::new(1, 1, 3).padding(1);
    let y = or_io(conv.forward(&Tensor::zeros([1, 1, 7, 7])))?;
    let padded_output = y.dims()[2..].to_vec();
    writeln!(
        out,
        "  7×7 input, 3×3 filter, stride 1, pad 1 → {}×{} (a Conv2d run on it)",
        padded_output[0], padded_output[1]
    )?;
    let filter_5x5_on_32 = or_io(conv_output_size(32, 5, 1, 0, 1))?;
    writeln!(
        out,
        "  32×32×3 image, one 5×5×3 filter, stride 1 → {filter_5x5_on_32}×{filter_5x5_on_32}×1 \
         (one activation map per filter)"
    )?;

    heading(out, "Max pooling 2×2, stride 2")?;
    let x = Tensor::from_vec(
        vec![
            1f32, 1., 2., 4., 5., 6., 7., 8., 3., 2., 1., 0., 1., 2., 3., 4.,
        ],
        [1, 1, 4, 4],
    );
    let pooled = or_io(max_pool2d(&x, &MaxPoolOptions::new(2).stride(2)))?;
    let max_pool = values(&pooled);
    writeln!(out, "  [[1,1,2,4],[5,6,7,8],[3,2,1,0],[1,2,3,4]]")?;
    writeln!(out, "  → {}", fmt_grid(&max_pool, 2))?;

    heading(out, "The 3×3 image and a 2×2 filter of ones")?;
    let image = Tensor::from_vec((1..=9).map(|v| v as f32).collect(), [1, 1, 3, 3]);
    let ones = Tensor::full([1, 1, 2, 2], 1.0, baeum::DType::F32);
    let valid_t = or_io(conv2d(
        &image,
        &ones,
        None,
        &ConvOptions::default().padding(Padding::Valid),
    ))?;
    let same_t = or_io(conv2d(
        &image,
        &ones,
        None,
        &ConvOptions::default().padding(Padding::Same),
    ))?;
    let (valid, same) = (values(&valid_t), values(&same_t));
    let (valid_shape, same_shape) = (valid_t.dims()[2..].to_vec(), same_t.dims()[2..].to_vec());
    writeln!(out, "  image [[1,2,3],[4,5,6],[7,8,9]]")?;
    writeln!(
        out,
        "  VALID (no padding)          → {}",
        fmt_grid(&valid, valid_shape[1])
    )?;
    writeln!(
        out,
        "  SAME (zeros bottom/right)   → {}",
        fmt_grid(&same, same_shape[1])
    )?;

    let (alexnet, alexnet_conv_params, alexnet_fc_params) = alexnet(out)?;
    Ok(Report {
        stride1,
        stride2,
        stride3_error,
        padded_output,
        filter_5x5_on_32,
        max_pool,
        valid,
        valid_shape,
        same,
        same_shape,
        alexnet,
        alexnet_conv_params,
        alexnet_fc_params,
    })
}

type AlexNetTable = (
    Vec<(String, Vec<usize>, usize)>,
    usize,
    Vec<(String, usize)>,
);

/// AlexNet as the paper lays it out (one tower; the NORM layers keep the shape and hold no
/// parameters, so they are left out here).
fn alexnet(out: &mut dyn Write) -> io::Result<AlexNetTable> {
    heading(
        out,
        "AlexNet (227×227×3 input), convolution and pooling layers",
    )?;
    let features = Sequential::new()
        .add(Conv2d::new(3, 96, 11).stride(4))
        .add(ReLU)
        .add(MaxPool2d::new(3).stride(2))
        .add(Conv2d::new(96, 256, 5).padding(2))
        .add(ReLU)
        .add(MaxPool2d::new(3).stride(2))
        .add(Conv2d::new(256, 384, 3).padding(1))
        .add(ReLU)
        .add(Conv2d::new(384, 384, 3).padding(1))
        .add(ReLU)
        .add(Conv2d::new(384, 256, 3).padding(1))
        .add(ReLU)
        .add(MaxPool2d::new(3).stride(2));
    let table = or_io(summary(&features, &[1, 3, 227, 227]))?;
    let names = [
        "CONV1", "POOL1", "CONV2", "POOL2", "CONV3", "CONV4", "CONV5", "POOL3",
    ];
    let rows: Vec<_> = table
        .rows
        .iter()
        .filter(|r| r.type_name != "ReLU")
        .zip(names)
        .map(|(r, name)| (name.to_string(), r.output_shape[1..].to_vec(), r.params))
        .collect();
    writeln!(out, "  layer    output (H×W×C)    parameters")?;
    for (name, shape, params) in &rows {
        writeln!(
            out,
            "  {name:<6}   {:>14}   {params:>10}",
            format!("{}×{}×{}", shape[1], shape[2], shape[0])
        )?;
    }
    writeln!(
        out,
        "  CONV1: (11·11·3)·96 = 34,848 weights + 96 biases = {}",
        rows[0].2
    )?;
    writeln!(out, "  convolution part: {} parameters", table.total_params)?;
    let flat = rows.last().map_or(0, |r| r.1.iter().product::<usize>());
    let fc: Vec<(String, usize)> = [
        ("FC6", flat, 4096),
        ("FC7", 4096, 4096),
        ("FC8", 4096, 1000),
    ]
    .iter()
    .map(|&(name, fan_in, fan_out)| (name.to_string(), fan_in * fan_out + fan_out))
    .collect();
    for (name, n) in &fc {
        writeln!(out, "  {name}: {n} parameters (in · out + out)")?;
    }
    let fc_total: usize = fc.iter().map(|f| f.1).sum();
    writeln!(
        out,
        "  the whole network: {} parameters, most of them in the fully connected layers",
        table.total_params + fc_total
    )?;
    Ok((rows, table.total_params, fc))
}

/// A row-major grid as `[[a, b], [c, d]]`.
fn fmt_grid(v: &[f64], cols: usize) -> String {
    let rows: Vec<String> = v
        .chunks(cols)
        .map(|r| {
            let cells: Vec<String> = r.iter().map(|x| format!("{x}")).collect();
            format!("[{}]", cells.join(", "))
        })
        .collect();
    format!("[{}]", rows.join(", "))
}
