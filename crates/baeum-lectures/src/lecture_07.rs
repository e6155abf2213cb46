//! COURSE §7: neural networks.
//!
//! XOR is not linearly separable: logistic regression stops at H = 0.5 everywhere. The notes'
//! hand-set two-layer network solves it; so does a trained two-layer sigmoid network, and a
//! deep one with ten ReLU layers. Ten sigmoid layers do not train: the gradient shrinks by a
//! factor of about four or more per layer on its way back (σ' ≤ 1/4), so the first layers hardly
//! learn — the per-layer gradient norms show it. Both deep nets are then built again from
//! layers (`nn::Linear`, `nn::ReLU`, `nn::Sigmoid`) and trained by `train::Trainer::fit`, as a
//! PyTorch or Keras user would write them, from the same initial weights: they end where the
//! hand-written loop ends. Last, the activation functions of the notes on a few points.

use std::io::{self, Write};

use baeum::data::{DataLoader, TensorDataset};
use baeum::metrics::Accuracy;
use baeum::nn::{BCELoss, Forward, Linear, Loss, ModuleExt, ReLU, Sequential, Sigmoid};
use baeum::optim::Sgd;
use baeum::train::{Trainer, TrainerConfig};
use baeum::{Generator, Tensor, tensor};

use crate::common::{
    binary_cross_entropy, fmt_list, gd_step, heading, or_io, predict_binary, scalar, title, values,
    xavier_normal, zeros_param,
};

/// What the lecture computed.
#[derive(Clone, Debug)]
pub struct Report {
    /// The hand-set network's outputs for (0,0), (0,1), (1,0), (1,1).
    pub hand_set: Vec<f64>,
    /// Logistic regression (one layer) trained on XOR.
    pub linear: Training,
    /// A two-layer sigmoid network 2 → 4 → 1 trained on XOR.
    pub two_layer: Training,
    /// Ten ReLU layers of width 10 and a sigmoid output, trained on XOR.
    pub deep_relu: Training,
    /// Ten sigmoid layers of width 10 and a sigmoid output, trained the same way.
    pub deep_sigmoid: Training,
    /// ‖∂cost/∂W‖ per layer (first to last, 11 layers) at initialisation.
    pub relu_grad_norms: Vec<f64>,
    pub sigmoid_grad_norms: Vec<f64>,
    /// The two deep nets again as `Sequential` models trained by `Trainer::fit` (SGD, the
    /// same initial weights, learning rate and number of steps).
    pub deep_relu_fit: Fitted,
    pub deep_sigmoid_fit: Fitted,
    /// The points the activations are evaluated on.
    pub points: Vec<f64>,
    /// (name, values on `points`) for each activation of the notes.
    pub activations: Vec<(&'static str, Vec<f64>)>,
}

/// A deep net built from layers and trained by `Trainer::fit`.
#[derive(Clone, Debug)]
pub struct Fitted {
    /// ‖∂cost/∂W‖ of the first layer at initialisation.
    pub first_grad_norm: f64,
    /// The history's training loss per epoch (one batch of all four points per epoch).
    pub losses: Vec<f64>,
    pub training: Training,
}

/// How a network trained on XOR ended.
#[derive(Clone, Debug)]
pub struct Training {
    pub steps: usize,
    pub cost: f64,
    /// H(x) for (0,0), (0,1), (1,0), (1,1).
    pub outputs: Vec<f64>,
    pub accuracy: f64,
}

/// Runs the lecture, printing to `out`.
pub fn run(out: &mut dyn Write) -> io::Result<Report> {
    title(out, 7, "Neural networks")?;
    let (x, y) = xor();
    writeln!(out, "XOR: (0,0) → 0, (0,1) → 1, (1,0) → 1, (1,1) → 0")?;

    let hand_set = hand_set(out, &x)?;

    heading(out, "One layer cannot do it: logistic regression on XOR")?;
    let mut linear_net = Net::new(&[2, 1], Hidden::Sigmoid, 70);
    let linear = train(out, &mut linear_net, &x, &y, 1.0, 1000)?;
    writeln!(
        out,
        "  No line separates the 1s from the 0s: the best a line can do is H = 0.5 everywhere, \
         cost ln 2 = 0.693."
    )?;

    heading(out, "Two layers, trained: 2 → 4 (sigmoid) → 1 (sigmoid)")?;
    let mut two = Net::new(&[2, 4, 1], Hidden::Sigmoid, 71);
    writeln!(
        out,
        "  Xavier-normal weights (seed 71), zero biases, α = 1.0. (With only 2 hidden units, as \
         in the hand-set net, some initialisations get stuck in a local minimum.)"
    )?;
    let two_layer = train(out, &mut two, &x, &y, 1.0, 2000)?;

    let deep_widths: Vec<usize> = std::iter::once(2)
        .chain(std::iter::repeat_n(10, 10))
        .chain(std::iter::once(1))
        .collect();

    heading(out, "Deep: 10 ReLU layers of width 10, sigmoid output")?;
    writeln!(
        out,
        "  L1 = relu(X·W1 + b1), …, L10 = relu(L9·W10 + b10), H = σ(L10·W11 + b11)"
    )?;
    writeln!(
        out,
        "  Xavier-normal weights (seed 72), zero biases, α = 0.1"
    )?;
    let mut relu_net = Net::new(&deep_widths, Hidden::Relu, 72);
    let relu_grad_norms = relu_net.grad_norms(&x, &y);
    let deep_relu = train(out, &mut relu_net, &x, &y, 0.1, 1000)?;

    heading(out, "The same with sigmoid layers: the vanishing gradient")?;
    let mut sigmoid_net = Net::new(&deep_widths, Hidden::Sigmoid, 72);
    let sigmoid_grad_norms = sigmoid_net.grad_norms(&x, &y);
    writeln!(
        out,
        "  ‖∂cost/∂W‖ per layer at initialisation (same weights as the ReLU net):"
    )?;
    writeln!(out, "  layer   sigmoid net    ReLU net")?;
    for (i, (s, r)) in sigmoid_grad_norms.iter().zip(&relu_grad_norms).enumerate() {
        writeln!(out, "  {:>5}   {s:>11.3e}   {r:>9.3e}", i + 1)?;
    }
    writeln!(
        out,
        "  σ'(z) ≤ 1/4: every sigmoid layer shrinks the gradient on its way back, so the first \
         layer's is {:.0e} times the last's. Trained the same way:",
        sigmoid_grad_norms[0] / sigmoid_grad_norms[sigmoid_grad_norms.len() - 1]
    )?;
    let deep_sigmoid = train(out, &mut sigmoid_net, &x, &y, 0.1, 1000)?;
    writeln!(
        out,
        "  It stays at H ≈ 0.5: the deep sigmoid net does not learn XOR."
    )?;

    heading(
        out,
        "The deep nets with layers, trained by Trainer::fit (Keras' model.fit)",
    )?;
    writeln!(
        out,
        "  Sequential: 10 × [Linear(·, 10), ReLU or Sigmoid], Linear(10, 1), Sigmoid; loss \
         BCELoss(); Sgd(lr = 0.1); one batch of the four points per epoch, 1000 epochs; the same \
         initial weights as above (seed 72)"
    )?;
    let deep_relu_fit = fit_deep(out, "ReLU", &deep_widths, Hidden::Relu, 72, 0.1, 1000)?;
    let deep_sigmoid_fit = fit_deep(out, "sigmoid", &deep_widths, Hidden::Sigmoid, 72, 0.1, 1000)?;
    writeln!(
        out,
        "  First layer's ‖∂cost/∂W‖ at the start: ReLU {:.3e}, sigmoid {:.3e} ({:.0} times \
         smaller); accuracy after training: ReLU {:.2}, sigmoid {:.2}",
        deep_relu_fit.first_grad_norm,
        deep_sigmoid_fit.first_grad_norm,
        deep_relu_fit.first_grad_norm / deep_sigmoid_fit.first_grad_norm,
        deep_relu_fit.training.accuracy,
        deep_sigmoid_fit.training.accuracy
    )?;

    let (points, activations) = activation_table(out)?;
    Ok(Report {
        hand_set,
        linear,
        two_layer,
        deep_relu,
        deep_sigmoid,
        relu_grad_norms,
        sigmoid_grad_norms,
        deep_relu_fit,
        deep_sigmoid_fit,
        points,
        activations,
    })
}

/// The four XOR inputs [4, 2] and targets [4, 1].
fn xor() -> (Tensor, Tensor) {
    (
        tensor!([[0., 0.], [0., 1.], [1., 0.], [1., 1.]]),
        tensor!([[0.], [1.], [1.], [0.]]),
    )
}

fn hand_set(out: &mut dyn Write, x: &Tensor) -> io::Result<Vec<f64>> {
    heading(out, "The notes' hand-set network")?;
    writeln!(
        out,
        "  n1 = σ(5x1 + 5x2 − 8), n2 = σ(−7x1 − 7x2 + 3), H = σ(−11n1 − 11n2 + 6)"
    )?;
    // Columns of W1 are the two hidden units.
    let w1 = tensor!([[5., -7.], [5., -7.]]);
    let b1 = tensor!([-8., 3.]);
    let w2 = tensor!([[-11.], [-11.]]);
    let b2 = tensor!([6.]);
    let hidden = (x.matmul(&w1) + &b1).sigmoid();
    let h = (hidden.matmul(&w2) + &b2).sigmoid();
    let outputs = values(&h);
    writeln!(out, "  x1 x2      n1      n2       H   →  y")?;
    let xs = values(x);
    let hs = values(&hidden);
    for i in 0..4 {
        writeln!(
            out,
            "  {:>2} {:>2}  {:>6.4}  {:>6.4}  {:>6.3}   →  {}",
            xs[2 * i],
            xs[2 * i + 1],
            hs[2 * i],
            hs[2 * i + 1],
            outputs[i],
            u8::from(outputs[i] >= 0.5)
        )?;
    }
    Ok(outputs)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Hidden {
    Sigmoid,
    Relu,
}

/// A fully connected network: hidden layers with one activation, a sigmoid output.
struct Net {
    layers: Vec<(Tensor, Tensor)>,
    hidden: Hidden,
}

impl Net {
    /// Layers `widths[0] → widths[1] → …`, Xavier-normal weights from `seed`, zero biases.
    fn new(widths: &[usize], hidden: Hidden, seed: u64) -> Net {
        let mut g = Generator::new(seed);
        let layers = widths
            .windows(2)
            .map(|w| (xavier_normal(w[0], w[1], &mut g), zeros_param(&[w[1]])))
            .collect();
        Net { layers, hidden }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let last = self.layers.len() - 1;
        let mut h = x.clone();
        for (i, (w, b)) in self.layers.iter().enumerate() {
            let z = h.matmul(w) + b;
            h = if i == last || self.hidden == Hidden::Sigmoid {
                z.sigmoid()
            } else {
                z.relu()
            };
        }
        h
    }

    fn params(&self) -> Vec<&Tensor> {
        self.layers.iter().flat_map(|(w, b)| [w, b]).collect()
    }

    /// The same network as a `Sequential` of layers: `Linear` layers holding copies of the
    /// weights (transposed: a layer stores W as [out, in]) and biases, the hidden activation
    /// after each but the last, a `Sigmoid` at the end.
    fn to_sequential(&self) -> baeum::Result<Sequential> {
        let mut model = Sequential::new();
        let last = self.layers.len() - 1;
        for (i, (w, b)) in self.layers.iter().enumerate() {
            let (fan_in, fan_out) = (w.size(0), w.size(1));
            // Fresh storage, so training the layers leaves this net's tensors alone.
            let weight = Tensor::from_vec(w.t().to_vec::<f32>(), [fan_out, fan_in]);
            let bias = Tensor::from_vec(b.to_vec::<f32>(), [fan_out]);
            model.push(Linear::from_weights(
                weight.requires_grad_(true),
                Some(bias.requires_grad_(true)),
            )?);
            if i == last || self.hidden == Hidden::Sigmoid {
                model.push(Sigmoid);
            } else {
                model.push(ReLU);
            }
        }
        Ok(model)
    }

    /// ‖∂cost/∂W‖ for each layer's weights, at the current parameters (gradients cleared after).
    fn grad_norms(&self, x: &Tensor, y: &Tensor) -> Vec<f64> {
        binary_cross_entropy(&self.forward(x), y).backward();
        let norms = self
            .layers
            .iter()
            .map(|(w, _)| scalar(&w.grad().expect("every layer gets a gradient").norm(2.0)))
            .collect();
        for p in self.params() {
            p.zero_grad();
        }
        norms
    }
}

fn train(
    out: &mut dyn Write,
    net: &mut Net,
    x: &Tensor,
    y: &Tensor,
    lr: f64,
    steps: usize,
) -> io::Result<Training> {
    let report_every = steps / 4;
    for step in 0..steps {
        let cost = binary_cross_entropy(&net.forward(x), y);
        if step % report_every == 0 {
            writeln!(out, "  step {step:>4}: cost = {:.5}", scalar(&cost))?;
        }
        cost.backward();
        gd_step(&net.params(), lr);
    }
    let h = net.forward(x);
    let cost = scalar(&binary_cross_entropy(&h, y));
    let outputs = values(&h);
    let accuracy = scalar(&predict_binary(&h).eq(y).to_f64().mean());
    writeln!(
        out,
        "  step {steps:>4}: cost = {cost:.5}; H = {}, accuracy {accuracy:.2}",
        fmt_list(&outputs, 3)
    )?;
    Ok(Training {
        steps,
        cost,
        outputs,
        accuracy,
    })
}

/// Builds the net of `widths` and `hidden` from `seed` as layers, measures its first layer's
/// gradient, and trains it with `Trainer::fit` and SGD on XOR.
fn fit_deep(
    out: &mut dyn Write,
    name: &str,
    widths: &[usize],
    hidden: Hidden,
    seed: u64,
    lr: f64,
    epochs: usize,
) -> io::Result<Fitted> {
    let model = or_io(Net::new(widths, hidden, seed).to_sequential())?;
    let (x, y) = xor();
    let loss_fn = BCELoss::default();
    let first_grad_norm = {
        or_io(loss_fn.loss(&or_io(model.forward(&x))?, &y))?.backward();
        let first = &model.parameters()[0];
        let norm = scalar(
            &first
                .grad()
                .expect("the first layer gets a gradient")
                .norm(2.0),
        );
        model.zero_grad();
        norm
    };
    let mut data = DataLoader::new(or_io(TensorDataset::new(x.clone(), y.clone()))?, 4);
    let mut optimizer = Sgd::new(model.parameters(), lr);
    let mut trainer = Trainer::new(TrainerConfig {
        epochs,
        seed,
        verbose: 0,
        ..Default::default()
    })
    .metric(Accuracy::new());
    let history = or_io(trainer.fit(&model, &mut optimizer, &loss_fn, &mut data, None))?;
    let losses = history.get("loss");
    let logs = or_io(trainer.evaluate(&model, &loss_fn, &mut data))?;
    let h = or_io(baeum::autograd::no_grad(|| model.forward(&x)))?;
    let shown: Vec<String> = losses
        .iter()
        .enumerate()
        .step_by(epochs / 4)
        .map(|(e, l)| format!("epoch {}: {l:.5}", e + 1))
        .collect();
    writeln!(out, "  {name:<7} loss {}", shown.join(", "))?;
    let training = Training {
        steps: epochs,
        cost: logs["loss"],
        outputs: values(&h),
        accuracy: logs["accuracy"],
    };
    writeln!(
        out,
        "  {name:<7} after {epochs} epochs: loss {:.5}; H = {}, accuracy {:.2}",
        training.cost,
        fmt_list(&training.outputs, 3),
        training.accuracy
    )?;
    Ok(Fitted {
        first_grad_norm,
        losses,
        training,
    })
}

type Activations = (Vec<f64>, Vec<(&'static str, Vec<f64>)>);

fn activation_table(out: &mut dyn Write) -> io::Result<Activations> {
    heading(out, "Activation functions")?;
    let points = vec![-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0];
    let x = Tensor::from_vec(points.clone(), [points.len()]);
    // Maxout over two linear pieces of the scalar input: max(w1·x + b1, w2·x + b2), here with
    // (w1, b1) = (1, 0) and (w2, b2) = (−0.5, 0.5).
    let maxout = x.maximum(&(&x * -0.5 + 0.5));
    let rows: Vec<(&'static str, &'static str, Tensor)> = vec![
        ("sigmoid", "1 / (1 + e^−x)", x.sigmoid()),
        ("tanh", "(e^x − e^−x) / (e^x + e^−x)", x.tanh()),
        ("ReLU", "max(0, x)", x.relu()),
        ("leaky ReLU", "max(0.1x, x)", (&x * 0.1).maximum(&x)),
        ("ELU", "x if x > 0 else α(e^x − 1), α = 1", x.elu(1.0)),
        ("maxout", "max(x, −0.5x + 0.5)", maxout),
        (
            "unit step",
            "0 (x<0), 0.5 (x=0), 1 (x>0)",
            (x.sign() + 1.0) * 0.5,
        ),
        ("sign", "−1, 0, 1", x.sign()),
        ("linear", "x", x.clone()),
        (
            "piece-wise linear",
            "clamp(x + 0.5, 0, 1)",
            (&x + 0.5).clamp(Some(0.0), Some(1.0)),
        ),
    ];
    writeln!(out, "  {:<18} x = {}", "", fmt_list(&points, 1))?;
    let mut activations = Vec::new();
    for (name, formula, t) in rows {
        let v = values(&t);
        writeln!(out, "  {name:<18}     {}   {formula}", fmt_list(&v, 3))?;
        activations.push((name, v));
    }
    Ok((points, activations))
}
