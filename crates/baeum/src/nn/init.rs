//! Initialisers (PyTorch's `torch.nn.init`): each fills a tensor in place from a generator, so
//! the same seed gives the same network.

use crate::autograd::no_grad;
use crate::error::{Result, bail};
use crate::tensor::random::with_global;
use crate::{Generator, Tensor};

/// The non-linearity an initialiser is scaled for (`calculate_gain`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Nonlinearity {
    Linear,
    Sigmoid,
    Tanh,
    Relu,
    /// Leaky ReLU with this negative slope.
    LeakyRelu(f64),
    Selu,
}

/// The recommended gain for a non-linearity, as PyTorch's `calculate_gain`.
pub fn calculate_gain(nonlinearity: Nonlinearity) -> f64 {
    match nonlinearity {
        Nonlinearity::Linear | Nonlinearity::Sigmoid => 1.0,
        Nonlinearity::Tanh => 5.0 / 3.0,
        Nonlinearity::Relu => 2f64.sqrt(),
        Nonlinearity::LeakyRelu(a) => (2.0 / (1.0 + a * a)).sqrt(),
        Nonlinearity::Selu => 0.75,
    }
}

/// Whether fan-in or fan-out sets the scale (kaiming's `mode`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FanMode {
    FanIn,
    FanOut,
}

/// `(fan_in, fan_out)` of a weight: `[out, in, k...]` → `(in·k, out·k)`.
pub fn fans(t: &Tensor) -> Result<(usize, usize)> {
    let d = t.dims();
    if d.len() < 2 {
        bail!(
            Shape,
            "init: fan in and fan out need a tensor with 2 or more dims, got {:?}",
            d
        );
    }
    let receptive: usize = d[2..].iter().product();
    Ok((d[1] * receptive, d[0] * receptive))
}

fn fill(t: &Tensor, values: Tensor) {
    no_grad(|| t.copy_(&values.to_dtype(t.dtype())));
}

/// Fills with U(low, high) from `g`.
pub fn uniform_(t: &Tensor, low: f64, high: f64, g: &mut Generator) {
    fill(t, Tensor::uniform_with(t.dims(), low, high, t.dtype(), g));
}

/// Fills with N(mean, std²) from `g`.
pub fn normal_(t: &Tensor, mean: f64, std: f64, g: &mut Generator) {
    fill(t, Tensor::normal_with(t.dims(), mean, std, t.dtype(), g));
}

pub fn constant_(t: &Tensor, value: f64) {
    fill(t, Tensor::full(t.dims(), value, t.dtype()));
}

pub fn zeros_(t: &Tensor) {
    constant_(t, 0.0)
}

pub fn ones_(t: &Tensor) {
    constant_(t, 1.0)
}

/// Glorot/Xavier uniform: U(−a, a), a = gain·√(6 / (fan_in + fan_out)).
pub fn xavier_uniform_(t: &Tensor, gain: f64, g: &mut Generator) -> Result<()> {
    let (fi, fo) = fans(t)?;
    let a = gain * (6.0 / (fi + fo) as f64).sqrt();
    uniform_(t, -a, a, g);
    Ok(())
}

/// Glorot/Xavier normal: N(0, std²), std = gain·√(2 / (fan_in + fan_out)).
pub fn xavier_normal_(t: &Tensor, gain: f64, g: &mut Generator) -> Result<()> {
    let (fi, fo) = fans(t)?;
    normal_(t, 0.0, gain * (2.0 / (fi + fo) as f64).sqrt(), g);
    Ok(())
}

fn kaiming_std(t: &Tensor, mode: FanMode, nonlinearity: Nonlinearity) -> Result<f64> {
    let (fi, fo) = fans(t)?;
    let fan = match mode {
        FanMode::FanIn => fi,
        FanMode::FanOut => fo,
    };
    if fan == 0 {
        bail!(Shape, "init: kaiming on an empty tensor {:?}", t.dims());
    }
    Ok(calculate_gain(nonlinearity) / (fan as f64).sqrt())
}

/// He/Kaiming uniform: U(−b, b), b = gain·√(3 / fan).
pub fn kaiming_uniform_(
    t: &Tensor,
    mode: FanMode,
    nonlinearity: Nonlinearity,
    g: &mut Generator,
) -> Result<()> {
    let b = 3f64.sqrt() * kaiming_std(t, mode, nonlinearity)?;
    uniform_(t, -b, b, g);
    Ok(())
}

/// He/Kaiming normal: N(0, (gain / √fan)²).
pub fn kaiming_normal_(
    t: &Tensor,
    mode: FanMode,
    nonlinearity: Nonlinearity,
    g: &mut Generator,
) -> Result<()> {
    let std = kaiming_std(t, mode, nonlinearity)?;
    normal_(t, 0.0, std, g);
    Ok(())
}

/// The default initialisation of PyTorch's Linear and Conv layers: weight from
/// kaiming_uniform(a = √5), i.e. U(−1/√fan_in, 1/√fan_in), and the bias from the same bound.
pub(crate) fn default_layer_init(weight: &Tensor, bias: Option<&Tensor>, g: &mut Generator) {
    let (fan_in, _) = fans(weight).expect("layer weights have 2 or more dims");
    let bound = if fan_in > 0 {
        1.0 / (fan_in as f64).sqrt()
    } else {
        0.0
    };
    uniform_(weight, -bound, bound, g);
    if let Some(b) = bias {
        uniform_(b, -bound, bound, g);
    }
}

/// Runs `f` with the generator layers use when none is given: the global one, which
/// `baeum::manual_seed` seeds (as `torch.manual_seed` does).
pub(crate) fn with_default_generator<R>(f: impl FnOnce(&mut Generator) -> R) -> R {
    with_global(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gains_and_bounds_follow_pytorch() {
        assert_eq!(calculate_gain(Nonlinearity::Relu), 2f64.sqrt());
        assert!((calculate_gain(Nonlinearity::LeakyRelu(0.01)) - 1.4141428569978354).abs() < 1e-12);
        let w = Tensor::zeros([300, 200]);
        let mut g = Generator::new(0);
        xavier_uniform_(&w, 1.0, &mut g).unwrap();
        let a = (6.0f64 / 500.0).sqrt();
        let v = w.to_vec::<f32>();
        assert!(v.iter().all(|x| (x.abs() as f64) <= a));
        assert!(v.iter().any(|x| (x.abs() as f64) > 0.9 * a));
        let w = Tensor::zeros_dtype([400, 100, 3, 3], crate::DType::F64);
        kaiming_normal_(&w, FanMode::FanIn, Nonlinearity::Relu, &mut g).unwrap();
        let std = w.to_vec::<f64>().iter().map(|x| x * x).sum::<f64>() / w.numel() as f64;
        assert!(
            (std.sqrt() - (2.0f64 / 900.0).sqrt()).abs() < 2e-3,
            "{}",
            std.sqrt()
        );
        assert!(fans(&Tensor::zeros([3])).is_err());
    }

    #[test]
    fn the_same_seed_gives_the_same_weights() {
        let a = Tensor::zeros([5, 4]);
        let b = Tensor::zeros([5, 4]);
        default_layer_init(&a, None, &mut Generator::new(7));
        default_layer_init(&b, None, &mut Generator::new(7));
        assert_eq!(a.to_vec::<f32>(), b.to_vec::<f32>());
        assert!(a.to_vec::<f32>().iter().all(|x| x.abs() <= 0.5));
    }
}
