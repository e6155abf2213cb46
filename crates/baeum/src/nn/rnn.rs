//! Recurrent layers (COURSE §12): `RNN`, `LSTM`, `GRU` (multi-layer, bidirectional,
//! batch_first, initial states) and the single-step cells, with PyTorch's parameter names
//! (`weight_ih_l0`, `bias_hh_l1_reverse`) and initialisation U(−1/√H, 1/√H).

use super::functional::rnn::{
    CellWeights, RecurrentOptions, RnnMode, gru_cell, lstm_cell, recurrent, rnn_cell,
};
use super::init::{uniform_, with_default_generator};
use super::module::{Forward, Module, TrainingFlag, Visitor};
use super::summary::record;
use crate::error::{Result, bail};
use crate::{DType, Generator, Tensor};

/// The sizes and switches of a recurrent layer, PyTorch's constructor arguments.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RnnConfig {
    pub input_size: usize,
    pub hidden_size: usize,
    pub num_layers: usize,
    pub bias: bool,
    pub batch_first: bool,
    pub dropout: f64,
    pub bidirectional: bool,
    /// LSTM only: project each hidden state down to this size (0: no projection).
    pub proj_size: usize,
}

impl RnnConfig {
    /// One layer, with biases, time-major, no dropout, one direction (PyTorch's defaults).
    pub fn new(input_size: usize, hidden_size: usize) -> RnnConfig {
        RnnConfig {
            input_size,
            hidden_size,
            num_layers: 1,
            bias: true,
            batch_first: false,
            dropout: 0.0,
            bidirectional: false,
            proj_size: 0,
        }
    }
    pub fn num_layers(mut self, n: usize) -> Self {
        self.num_layers = n;
        self
    }
    pub fn bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }
    pub fn batch_first(mut self, batch_first: bool) -> Self {
        self.batch_first = batch_first;
        self
    }
    pub fn dropout(mut self, p: f64) -> Self {
        self.dropout = p;
        self
    }
    pub fn bidirectional(mut self, bidirectional: bool) -> Self {
        self.bidirectional = bidirectional;
        self
    }
    /// PyTorch's `proj_size` (LSTM only): h = W_hr·(o ⊙ tanh c) with `weight_hr` `[P, H]`,
    /// so outputs and `h_n` have P features; must be below `hidden_size`.
    pub fn proj_size(mut self, proj_size: usize) -> Self {
        self.proj_size = proj_size;
        self
    }
}

/// One layer-direction's parameters.
struct LayerParams {
    suffix: String,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Option<Tensor>,
    b_hh: Option<Tensor>,
    w_hr: Option<Tensor>,
}

impl LayerParams {
    fn weights(&self) -> CellWeights<'_> {
        CellWeights {
            w_ih: &self.w_ih,
            w_hh: &self.w_hh,
            b_ih: self.b_ih.as_ref(),
            b_hh: self.b_hh.as_ref(),
            w_hr: self.w_hr.as_ref(),
        }
    }
}

/// The shared body of RNN, LSTM and GRU.
struct Recurrent {
    mode: RnnMode,
    config: RnnConfig,
    layers: Vec<LayerParams>,
    training: TrainingFlag,
}

impl Recurrent {
    fn new(mode: RnnMode, config: RnnConfig, dtype: DType, g: &mut Generator) -> Result<Recurrent> {
        let c = config;
        if c.hidden_size == 0 || c.num_layers == 0 {
            bail!(
                Invalid,
                "{}: hidden_size and num_layers must be positive, got {c:?}",
                mode.name()
            );
        }
        if !(0.0..=1.0).contains(&c.dropout) {
            bail!(
                Invalid,
                "{}: dropout {} must be in [0, 1]",
                mode.name(),
                c.dropout
            );
        }
        if c.proj_size > 0 && mode != RnnMode::Lstm {
            bail!(
                Invalid,
                "{}: proj_size is only for an LSTM, got proj_size={}",
                mode.name(),
                c.proj_size
            );
        }
        if c.proj_size >= c.hidden_size {
            bail!(
                Invalid,
                "LSTM: proj_size {} must be smaller than hidden_size {}",
                c.proj_size,
                c.hidden_size
            );
        }
        let gh = mode.gates() * c.hidden_size;
        // The size of h (what the next layer and the recurrence see).
        let state = if c.proj_size > 0 {
            c.proj_size
        } else {
            c.hidden_size
        };
        let dirs = if c.bidirectional { 2 } else { 1 };
        let bound = 1.0 / (c.hidden_size as f64).sqrt();
        let mut layers = Vec::new();
        for l in 0..c.num_layers {
            for d in 0..dirs {
                let in_size = if l == 0 { c.input_size } else { state * dirs };
                let new = |shape: &[usize], g: &mut Generator| {
                    let t = Tensor::zeros_dtype(shape, dtype);
                    uniform_(&t, -bound, bound, g);
                    t.requires_grad_(true)
                };
                let w_ih = new(&[gh, in_size], g);
                let w_hh = new(&[gh, state], g);
                let (b_ih, b_hh) = if c.bias {
                    (Some(new(&[gh], g)), Some(new(&[gh], g)))
                } else {
                    (None, None)
                };
                let w_hr = (c.proj_size > 0).then(|| new(&[c.proj_size, c.hidden_size], g));
                layers.push(LayerParams {
                    suffix: format!("l{l}{}", if d == 1 { "_reverse" } else { "" }),
                    w_ih,
                    w_hh,
                    b_ih,
                    b_hh,
                    w_hr,
                });
            }
        }
        Ok(Recurrent {
            mode,
            config,
            layers,
            training: TrainingFlag::default(),
        })
    }

    fn visit(&self, v: &mut dyn Visitor) {
        for l in &self.layers {
            v.param(&format!("weight_ih_{}", l.suffix), &l.w_ih);
            v.param(&format!("weight_hh_{}", l.suffix), &l.w_hh);
            if let Some(b) = &l.b_ih {
                v.param(&format!("bias_ih_{}", l.suffix), b);
            }
            if let Some(b) = &l.b_hh {
                v.param(&format!("bias_hh_{}", l.suffix), b);
            }
            if let Some(w) = &l.w_hr {
                v.param(&format!("weight_hr_{}", l.suffix), w);
            }
        }
    }

    fn extra_repr(&self) -> String {
        let c = &self.config;
        let mut s = format!("{}, {}", c.input_size, c.hidden_size);
        if c.num_layers != 1 {
            s += &format!(", num_layers={}", c.num_layers);
        }
        if !c.bias {
            s += ", bias=false";
        }
        if c.batch_first {
            s += ", batch_first=true";
        }
        if c.dropout != 0.0 {
            s += &format!(", dropout={}", c.dropout);
        }
        if c.bidirectional {
            s += ", bidirectional=true";
        }
        if c.proj_size > 0 {
            s += &format!(", proj_size={}", c.proj_size);
        }
        s
    }

    fn run(
        &self,
        x: &Tensor,
        h0: Option<&Tensor>,
        c0: Option<&Tensor>,
    ) -> Result<(Tensor, Tensor, Option<Tensor>)> {
        let c = &self.config;
        let feat = x.dims().last().copied().unwrap_or(0);
        if (x.rank() != 2 && x.rank() != 3) || feat != c.input_size {
            bail!(
                Shape,
                "{}({}, {}): input {:?} must be [{}] with {} features last",
                self.mode.name(),
                c.input_size,
                c.hidden_size,
                x.dims(),
                if c.batch_first {
                    "batch, time, features"
                } else {
                    "time, batch, features"
                },
                c.input_size
            );
        }
        let weights: Vec<CellWeights> = self.layers.iter().map(|l| l.weights()).collect();
        let opts = RecurrentOptions {
            mode: self.mode,
            num_layers: c.num_layers,
            bidirectional: c.bidirectional,
            batch_first: c.batch_first,
            dropout: c.dropout,
            training: self.training.get(),
        };
        // Dropout draws from the global generator, which the trainer reseeds per epoch, so a
        // resumed run repeats an uninterrupted one.
        let out = with_default_generator(|g| recurrent(x, h0, c0, &weights, opts, g))?;
        Ok((out.output, out.h_n, out.c_n))
    }
}

macro_rules! recurrent_layer {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name(Recurrent);

        impl Module for $name {
            fn visit(&self, v: &mut dyn Visitor) {
                self.0.visit(v)
            }
            fn extra_repr(&self) -> String {
                self.0.extra_repr()
            }
            fn set_training(&self, training: bool) {
                self.0.training.set(training)
            }
            fn is_training(&self) -> bool {
                self.0.training.get()
            }
        }

        impl $name {
            pub fn config(&self) -> &RnnConfig {
                &self.0.config
            }
        }
    };
}

recurrent_layer!(
    /// Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh) (or ReLU).
    RNN
);
recurrent_layer!(
    /// Long short-term memory, gates i, f, g, o stacked in that order; with
    /// [`RnnConfig::proj_size`], each h is projected by `weight_hr_l{k}`.
    LSTM
);
recurrent_layer!(
    /// Gated recurrent unit, gates r, z, n stacked in that order.
    GRU
);

impl RNN {
    /// A tanh RNN, initialised from the global generator.
    pub fn new(config: RnnConfig) -> Result<RNN> {
        with_default_generator(|g| RNN::with_options(config, false, DType::F32, g))
    }
    /// `relu` selects PyTorch's `nonlinearity='relu'`.
    pub fn with_options(
        config: RnnConfig,
        relu: bool,
        dtype: DType,
        g: &mut Generator,
    ) -> Result<RNN> {
        let mode = if relu { RnnMode::Relu } else { RnnMode::Tanh };
        Ok(RNN(Recurrent::new(mode, config, dtype, g)?))
    }
    /// Returns `(output, h_n)`; `h0` defaults to zeros.
    pub fn forward_with(&self, x: &Tensor, h0: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        let (y, h, _) = self.0.run(x, h0, None)?;
        record(self, &y);
        Ok((y, h))
    }
}

impl GRU {
    pub fn new(config: RnnConfig) -> Result<GRU> {
        with_default_generator(|g| GRU::with_options(config, DType::F32, g))
    }
    pub fn with_options(config: RnnConfig, dtype: DType, g: &mut Generator) -> Result<GRU> {
        Ok(GRU(Recurrent::new(RnnMode::Gru, config, dtype, g)?))
    }
    /// Returns `(output, h_n)`.
    pub fn forward_with(&self, x: &Tensor, h0: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        let (y, h, _) = self.0.run(x, h0, None)?;
        record(self, &y);
        Ok((y, h))
    }
}

impl LSTM {
    pub fn new(config: RnnConfig) -> Result<LSTM> {
        with_default_generator(|g| LSTM::with_options(config, DType::F32, g))
    }
    pub fn with_options(config: RnnConfig, dtype: DType, g: &mut Generator) -> Result<LSTM> {
        Ok(LSTM(Recurrent::new(RnnMode::Lstm, config, dtype, g)?))
    }
    /// Returns `(output, (h_n, c_n))`; the initial states default to zeros.
    pub fn forward_with(
        &self,
        x: &Tensor,
        state: Option<(&Tensor, &Tensor)>,
    ) -> Result<(Tensor, (Tensor, Tensor))> {
        let (h0, c0) = match state {
            Some((h, c)) => (Some(h), Some(c)),
            None => (None, None),
        };
        let (y, h, c) = self.0.run(x, h0, c0)?;
        record(self, &y);
        Ok((y, (h, c.expect("an LSTM returns its cell state"))))
    }
}

/// `forward` gives the output sequence, as `model(x)[0]` in PyTorch.
impl Forward for RNN {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.forward_with(x, None)?.0)
    }
}

impl Forward for GRU {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.forward_with(x, None)?.0)
    }
}

impl Forward for LSTM {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.forward_with(x, None)?.0)
    }
}

/// A single recurrent step with its own weights (`nn.RNNCell` / `LSTMCell` / `GRUCell`).
pub struct Cell {
    mode: RnnMode,
    pub weight_ih: Tensor,
    pub weight_hh: Tensor,
    pub bias_ih: Option<Tensor>,
    pub bias_hh: Option<Tensor>,
}

impl Cell {
    fn new(
        mode: RnnMode,
        input_size: usize,
        hidden_size: usize,
        bias: bool,
        g: &mut Generator,
    ) -> Cell {
        let gh = mode.gates() * hidden_size;
        let bound = 1.0 / (hidden_size as f64).sqrt();
        let new = |shape: &[usize], g: &mut Generator| {
            let t = Tensor::zeros(shape);
            uniform_(&t, -bound, bound, g);
            t.requires_grad_(true)
        };
        let weight_ih = new(&[gh, input_size], g);
        let weight_hh = new(&[gh, hidden_size], g);
        let (bias_ih, bias_hh) = if bias {
            (Some(new(&[gh], g)), Some(new(&[gh], g)))
        } else {
            (None, None)
        };
        Cell {
            mode,
            weight_ih,
            weight_hh,
            bias_ih,
            bias_hh,
        }
    }

    /// `nn.RNNCell(input_size, hidden_size)` (tanh).
    pub fn rnn(input_size: usize, hidden_size: usize) -> Cell {
        with_default_generator(|g| Cell::new(RnnMode::Tanh, input_size, hidden_size, true, g))
    }
    /// `nn.LSTMCell(input_size, hidden_size)`.
    pub fn lstm(input_size: usize, hidden_size: usize) -> Cell {
        with_default_generator(|g| Cell::new(RnnMode::Lstm, input_size, hidden_size, true, g))
    }
    /// `nn.GRUCell(input_size, hidden_size)`.
    pub fn gru(input_size: usize, hidden_size: usize) -> Cell {
        with_default_generator(|g| Cell::new(RnnMode::Gru, input_size, hidden_size, true, g))
    }

    fn weights(&self) -> CellWeights<'_> {
        CellWeights::new(
            &self.weight_ih,
            &self.weight_hh,
            self.bias_ih.as_ref(),
            self.bias_hh.as_ref(),
        )
    }

    /// One step: for an LSTM cell pass `Some(c)` and get `(h', Some(c'))`.
    pub fn step(
        &self,
        x: &Tensor,
        h: &Tensor,
        c: Option<&Tensor>,
    ) -> Result<(Tensor, Option<Tensor>)> {
        match (self.mode, c) {
            (RnnMode::Lstm, Some(c)) => {
                let (h, c) = lstm_cell(x, h, c, self.weights())?;
                Ok((h, Some(c)))
            }
            (RnnMode::Lstm, None) => bail!(Invalid, "LSTMCell.step needs the cell state"),
            (RnnMode::Gru, _) => Ok((gru_cell(x, h, self.weights())?, None)),
            (m, _) => Ok((rnn_cell(x, h, self.weights(), m == RnnMode::Relu)?, None)),
        }
    }
}

impl Module for Cell {
    fn visit(&self, v: &mut dyn Visitor) {
        v.param("weight_ih", &self.weight_ih);
        v.param("weight_hh", &self.weight_hh);
        if let Some(b) = &self.bias_ih {
            v.param("bias_ih", b);
        }
        if let Some(b) = &self.bias_hh {
            v.param("bias_hh", b);
        }
    }
    fn type_name(&self) -> &'static str {
        match self.mode {
            RnnMode::Lstm => "LSTMCell",
            RnnMode::Gru => "GRUCell",
            _ => "RNNCell",
        }
    }
}
