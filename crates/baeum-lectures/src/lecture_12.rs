//! COURSE §12: recurrent networks.
//!
//! Keras' `SimpleRNN(units=10)` on windows of 3 steps of 1 feature, as baeum's `RNN`: the
//! shapes of its output and hidden state and its parameter count. Then the notes' time series:
//! the next day's GOOG close from a 7-day window of (Open, High, Low, Volume, Close), with an
//! LSTM and a GRU and a linear layer on the last step, against the naive forecast
//! "tomorrow's close = today's".

use std::io::{self, Write};

use baeum::data::{MinMaxScaler, time_split, windows};
use baeum::metrics::rmse;
use baeum::nn::{Forward, GRU, LSTM, Linear, ModuleExt, RNN, RnnConfig};
use baeum::optim::{Adam, Optimizer};
use baeum::{DType, Generator, Tensor};

use crate::common::{STOCK_CSV, Table, heading, mse, or_io, title};

/// The window length (days) the prediction looks back.
pub const WINDOW: usize = 7;
/// The column of the close price in the CSV.
pub const CLOSE: usize = 4;
/// Hidden units of the LSTM and the GRU.
pub const HIDDEN: usize = 16;
/// Full-batch Adam steps.
pub const STEPS: usize = 300;
/// Adam's learning rate.
pub const LR: f64 = 0.01;

/// What the lecture computed.
#[derive(Clone, Debug)]
pub struct Report {
    /// SimpleRNN(units = 10) on a batch of 4 windows of 3 steps × 1 feature.
    pub simple_rnn_output: Vec<usize>,
    pub simple_rnn_hidden: Vec<usize>,
    /// baeum's (PyTorch's) count: W_ih + W_hh + b_ih + b_hh.
    pub simple_rnn_params: usize,
    /// The series: rows (days) and the windows made from it, split 70/30 by time.
    pub days: usize,
    pub train_windows: usize,
    pub test_windows: usize,
    /// "Tomorrow's close = today's" on the test windows, scaled and in dollars.
    pub naive: Rmse,
    pub lstm: Fit,
    pub gru: Fit,
}

/// A root mean squared error in scaled units (min-max, fitted on the training days) and in
/// the original price units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rmse {
    pub scaled: f64,
    pub price: f64,
}

/// How one recurrent model trained.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    /// The training MSE (scaled) at the last step.
    pub train_mse: f64,
    pub test: Rmse,
}

/// Which recurrent layer a model uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Lstm,
    Gru,
}

/// The stock series prepared for many-to-one prediction.
pub struct StockData {
    pub days: usize,
    pub x_train: Tensor,
    pub y_train: Tensor,
    pub x_test: Tensor,
    pub y_test: Tensor,
    pub scaler: MinMaxScaler,
}

/// Runs the lecture, printing to `out`.
pub fn run(out: &mut dyn Write) -> io::Result<Report> {
    title(out, 12, "Recurrent networks")?;

    heading(
        out,
        "Keras' SimpleRNN(units=10, input_shape=(3, 1)) on (4, 3, 1)",
    )?;
    writeln!(out, "  h_t = tanh(W_xh x_t + W_hh h_(t−1) + b)")?;
    let mut g = Generator::new(120);
    let rnn = or_io(RNN::with_options(
        RnnConfig::new(1, 10).batch_first(true),
        false,
        DType::F32,
        &mut g,
    ))?;
    let x = Tensor::from_vec((1..=12).map(|v| v as f32 / 12.0).collect(), [4, 3, 1]);
    let (y, h) = or_io(rnn.forward_with(&x, None))?;
    let simple_rnn_params = rnn.num_parameters(false);
    writeln!(
        out,
        "  input (batch, time, feature) = {:?} → output {:?} (every step), h_n {:?} (the last)",
        x.dims(),
        y.dims(),
        h.dims()
    )?;
    writeln!(
        out,
        "  parameters: W_xh 10·1 + W_hh 10·10 + b 10 = 120 in Keras; PyTorch and baeum keep two \
         biases (b_ih and b_hh, +10): {simple_rnn_params}"
    )?;

    heading(
        out,
        "Next day's close from a 7-day window (data-02-stock_daily.csv)",
    )?;
    let data = or_io(stock_data())?;
    writeln!(
        out,
        "  {} days oldest first, columns Open, High, Low, Volume, Close, min-max scaled per column \
         (fitted on the first 70% of the days)",
        data.days
    )?;
    let (train_windows, test_windows) = (data.x_train.dims()[0], data.x_test.dims()[0]);
    writeln!(
        out,
        "  {WINDOW}-day windows → next close: {train_windows} for training, the last \
         {test_windows} for testing (split by time)"
    )?;
    let naive = or_io(naive_rmse(&data))?;
    writeln!(
        out,
        "  naive forecast (tomorrow = today): test RMSE {:.5} scaled, {:.2} in price",
        naive.scaled, naive.price
    )?;
    writeln!(
        out,
        "  models: {HIDDEN} hidden units, one layer, batch_first, Linear({HIDDEN}, 1) on the last \
         step; Adam lr {LR}, {STEPS} full-batch steps"
    )?;
    let lstm = or_io(fit(&data, Kind::Lstm, 12, STEPS))?;
    writeln!(
        out,
        "  LSTM: train MSE {:.6}, test RMSE {:.5} scaled, {:.2} in price",
        lstm.train_mse, lstm.test.scaled, lstm.test.price
    )?;
    let gru = or_io(fit(&data, Kind::Gru, 12, STEPS))?;
    writeln!(
        out,
        "  GRU:  train MSE {:.6}, test RMSE {:.5} scaled, {:.2} in price",
        gru.train_mse, gru.test.scaled, gru.test.price
    )?;
    writeln!(
        out,
        "  A day-to-day price is hard to beat: today's close is already a very good guess."
    )?;

    Ok(Report {
        simple_rnn_output: y.dims().to_vec(),
        simple_rnn_hidden: h.dims().to_vec(),
        simple_rnn_params,
        days: data.days,
        train_windows,
        test_windows,
        naive,
        lstm,
        gru,
    })
}

/// Reads the embedded CSV (newest day first), reverses it, scales it with a scaler fitted on
/// the first 70% of the days and cuts it into windows split 70/30 by time.
pub fn stock_data() -> baeum::Result<StockData> {
    let table = Table::embedded(STOCK_CSV);
    let (days, cols) = (table.rows, table.cols);
    let oldest_first: Vec<f32> = table.values.chunks(cols).rev().flatten().copied().collect();
    let series = Tensor::from_vec(oldest_first, [days, cols]);
    let (train_days, _) = time_split(days, 0.7)?;
    let scaler = MinMaxScaler::fit(&series.narrow(0, 0, train_days.len()))?;
    let scaled = scaler.transform(&series)?.to_dtype(DType::F32);
    let (x, y) = windows(&scaled, WINDOW, CLOSE, 1)?;
    let (train, test) = time_split(x.dims()[0], 0.7)?;
    let (n_train, n_test) = (train.len(), test.len());
    Ok(StockData {
        days,
        x_train: x.narrow(0, 0, n_train),
        y_train: y.narrow(0, 0, n_train),
        x_test: x.narrow(0, n_train, n_test),
        y_test: y.narrow(0, n_train, n_test),
        scaler,
    })
}

/// The test RMSE of predicting each window's last close as the next one.
pub fn naive_rmse(data: &StockData) -> baeum::Result<Rmse> {
    let n = data.x_test.dims()[0];
    let last_close = data
        .x_test
        .select(1, (WINDOW - 1) as isize)
        .select(1, CLOSE as isize)
        .reshape(&[n as isize, 1]);
    rmse_both(data, &last_close)
}

fn rmse_both(data: &StockData, prediction: &Tensor) -> baeum::Result<Rmse> {
    let scaled = rmse(prediction, &data.y_test)?;
    let price = rmse(
        &data.scaler.inverse_transform_feature(prediction, CLOSE)?,
        &data.scaler.inverse_transform_feature(&data.y_test, CLOSE)?,
    )?;
    Ok(Rmse { scaled, price })
}

enum Recurrent {
    Lstm(LSTM),
    Gru(GRU),
}

/// A recurrent layer and a linear layer on its last step's output.
struct Model {
    recurrent: Recurrent,
    head: Linear,
}

impl Model {
    fn new(kind: Kind, seed: u64) -> baeum::Result<Model> {
        let mut g = Generator::new(seed);
        let config = RnnConfig::new(5, HIDDEN).batch_first(true);
        let recurrent = match kind {
            Kind::Lstm => Recurrent::Lstm(LSTM::with_options(config, DType::F32, &mut g)?),
            Kind::Gru => Recurrent::Gru(GRU::with_options(config, DType::F32, &mut g)?),
        };
        let head = Linear::with_options(HIDDEN, 1, true, DType::F32, &mut g);
        Ok(Model { recurrent, head })
    }

    fn parameters(&self) -> Vec<Tensor> {
        let mut p = match &self.recurrent {
            Recurrent::Lstm(m) => m.parameters(),
            Recurrent::Gru(m) => m.parameters(),
        };
        p.extend(self.head.parameters());
        p
    }

    /// `x [B, WINDOW, 5]` → the next close `[B, 1]`.
    fn predict(&self, x: &Tensor) -> baeum::Result<Tensor> {
        let steps = match &self.recurrent {
            Recurrent::Lstm(m) => m.forward_with(x, None)?.0,
            Recurrent::Gru(m) => m.forward_with(x, None)?.0,
        };
        self.head.forward(&steps.select(1, (WINDOW - 1) as isize))
    }
}

/// Trains a model of `kind` initialised from `seed` with `steps` full-batch Adam steps and
/// measures it on the test windows.
pub fn fit(data: &StockData, kind: Kind, seed: u64, steps: usize) -> baeum::Result<Fit> {
    let model = Model::new(kind, seed)?;
    let mut opt = Adam::new(model.parameters(), LR);
    let mut train_mse = f64::NAN;
    for _ in 0..steps {
        opt.zero_grad();
        let loss = mse(&model.predict(&data.x_train)?, &data.y_train);
        train_mse = loss.item_f64();
        loss.backward();
        opt.step()?;
    }
    let prediction = baeum::autograd::no_grad(|| model.predict(&data.x_test))?;
    Ok(Fit {
        train_mse,
        test: rmse_both(data, &prediction)?,
    })
}
