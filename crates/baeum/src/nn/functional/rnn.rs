//! Recurrent steps (COURSE §12): the RNN, LSTM and GRU cells and whole multi-layer,
//! bidirectional sequences, in PyTorch's weight layout and gate order (LSTM: i, f, g, o;
//! GRU: r, z, n). The cells are built from differentiable tensor ops.
//!
//! Each layer projects the whole input sequence through `W_ih` in one matrix product before
//! stepping through time, so the per-step work is one `h·W_hhᵀ` product and the gate math.
//! A whole sequence then runs as one recorded op, `recurrence` (kernel in
//! `kernels::recurrent`): one graph node per layer and direction instead of a dozen per step,
//! and a backward through time that reuses the activated gates. Under create_graph its
//! backward replays the cells as tensor ops, so higher derivatives still work.

use crate::autograd::{Grads, Saved, is_grad_enabled, record_op, replayed_grads};
use crate::error::{Result, bail};
pub use crate::kernels::recurrent::RnnMode;
use crate::kernels::recurrent::{SequencePlan, sequence_backward, sequence_forward};
use crate::tensor::Element;
use crate::{Generator, Tensor, with_float_dtype};

/// The weights of one layer in one direction: `w_ih` `[gates·H, I]`, `w_hh` `[gates·H, S]`,
/// biases `[gates·H]`, where the state size S is H, or P for an LSTM with a projection
/// `w_hr` `[P, H]` (PyTorch's `proj_size`: h = W_hr·(o ⊙ tanh c), so h has P features
/// while the cell state keeps H).
#[derive(Clone, Copy)]
pub struct CellWeights<'a> {
    pub w_ih: &'a Tensor,
    pub w_hh: &'a Tensor,
    pub b_ih: Option<&'a Tensor>,
    pub b_hh: Option<&'a Tensor>,
    pub w_hr: Option<&'a Tensor>,
}

impl<'a> CellWeights<'a> {
    /// Weights without a projection.
    pub fn new(
        w_ih: &'a Tensor,
        w_hh: &'a Tensor,
        b_ih: Option<&'a Tensor>,
        b_hh: Option<&'a Tensor>,
    ) -> Self {
        CellWeights {
            w_ih,
            w_hh,
            b_ih,
            b_hh,
            w_hr: None,
        }
    }
}

fn add_bias(x: Tensor, b: Option<&Tensor>) -> Tensor {
    match b {
        Some(b) => x + b,
        None => x,
    }
}

/// Checks a layer's weight shapes against each other: returns (hidden size H, state size S).
fn check_weights(op: &str, mode: RnnMode, w: &CellWeights) -> Result<(usize, usize)> {
    let g = mode.gates();
    let (wi, wh) = (w.w_ih.dims(), w.w_hh.dims());
    if wi.len() != 2 || wh.len() != 2 || wi[0] % g != 0 || wi[0] == 0 {
        bail!(
            Shape,
            "{op}: weights must be [{g}·hidden, input] and [{g}·hidden, hidden], got {wi:?} and {wh:?}"
        );
    }
    let hidden = wi[0] / g;
    let state = match w.w_hr {
        None => hidden,
        Some(_) if mode != RnnMode::Lstm => {
            bail!(Invalid, "{op}: only an LSTM has a projection (weight_hr)")
        }
        Some(hr) => {
            if hr.rank() != 2 || hr.dims()[1] != hidden || hr.dims()[0] == 0 {
                bail!(
                    Shape,
                    "{op}: weight_hr {:?} must be [proj_size, {hidden}]",
                    hr.dims()
                );
            }
            if hr.dims()[0] >= hidden {
                bail!(
                    Invalid,
                    "{op}: proj_size {} must be smaller than hidden_size {hidden}",
                    hr.dims()[0]
                );
            }
            hr.dims()[0]
        }
    };
    if wh != [g * hidden, state] {
        bail!(
            Shape,
            "{op}: weight_hh {wh:?} does not match weight_ih {wi:?} (must be [{}, {state}])",
            g * hidden
        );
    }
    Ok((hidden, state))
}

fn check_cell(op: &str, mode: RnnMode, x: &Tensor, h: &Tensor, w: &CellWeights) -> Result<usize> {
    let g = mode.gates();
    let wi = w.w_ih.dims();
    let (hidden, state) = check_weights(op, mode, w)?;
    if x.rank() != 2 || x.dims()[1] != wi[1] {
        bail!(
            Shape,
            "{op}: input {:?} must be [batch, {}]",
            x.dims(),
            wi[1]
        );
    }
    if h.dims() != [x.dims()[0], state] {
        bail!(
            Shape,
            "{op}: hidden state {:?} must be [{}, {state}]",
            h.dims(),
            x.dims()[0]
        );
    }
    for (name, b) in [("bias_ih", w.b_ih), ("bias_hh", w.b_hh)] {
        if let Some(b) = b
            && b.dims() != [g * hidden]
        {
            bail!(
                Shape,
                "{op}: {name} {:?} must be [{}]",
                b.dims(),
                g * hidden
            );
        }
    }
    Ok(hidden)
}

/// One step given the input projection `xi = x·W_ihᵀ + b_ih` already computed.
fn step(
    mode: RnnMode,
    xi: &Tensor,
    h: &Tensor,
    c: Option<&Tensor>,
    w: &CellWeights,
    hidden: usize,
) -> (Tensor, Option<Tensor>) {
    let hh = add_bias(h.matmul(&w.w_hh.t()), w.b_hh);
    let part = |t: &Tensor, k: usize| t.narrow(1, k * hidden, hidden);
    match mode {
        RnnMode::Tanh => ((xi + &hh).tanh(), None),
        RnnMode::Relu => ((xi + &hh).relu(), None),
        RnnMode::Lstm => {
            let gates = xi + &hh;
            let i = part(&gates, 0).sigmoid();
            let f = part(&gates, 1).sigmoid();
            let g = part(&gates, 2).tanh();
            let o = part(&gates, 3).sigmoid();
            let c = c.expect("an LSTM step has a cell state");
            let c2 = f * c + i * g;
            let h2 = o * c2.tanh();
            let h2 = match w.w_hr {
                Some(hr) => h2.matmul(&hr.t()),
                None => h2,
            };
            (h2, Some(c2))
        }
        RnnMode::Gru => {
            let r = (part(xi, 0) + part(&hh, 0)).sigmoid();
            let z = (part(xi, 1) + part(&hh, 1)).sigmoid();
            let n = (part(xi, 2) + r * part(&hh, 2)).tanh();
            let h2 = &n + z * (h - &n);
            (h2, None)
        }
    }
}

/// One step of a tanh (or relu) RNN cell: x `[B, I]`, h `[B, H]` → h' `[B, H]`.
pub fn rnn_cell(x: &Tensor, h: &Tensor, w: CellWeights, relu: bool) -> Result<Tensor> {
    let mode = if relu { RnnMode::Relu } else { RnnMode::Tanh };
    let hidden = check_cell("rnn_cell", mode, x, h, &w)?;
    let xi = add_bias(x.matmul(&w.w_ih.t()), w.b_ih);
    Ok(step(mode, &xi, h, None, &w, hidden).0)
}

/// One LSTM step: returns (h', c').
pub fn lstm_cell(x: &Tensor, h: &Tensor, c: &Tensor, w: CellWeights) -> Result<(Tensor, Tensor)> {
    let hidden = check_cell("lstm_cell", RnnMode::Lstm, x, h, &w)?;
    if c.dims() != [x.dims()[0], hidden] {
        bail!(
            Shape,
            "lstm_cell: cell state {:?} must be [{}, {hidden}]",
            c.dims(),
            x.dims()[0]
        );
    }
    let xi = add_bias(x.matmul(&w.w_ih.t()), w.b_ih);
    let (h2, c2) = step(RnnMode::Lstm, &xi, h, Some(c), &w, hidden);
    Ok((h2, c2.expect("LSTM returns a cell state")))
}

/// One GRU step: returns h'.
pub fn gru_cell(x: &Tensor, h: &Tensor, w: CellWeights) -> Result<Tensor> {
    let hidden = check_cell("gru_cell", RnnMode::Gru, x, h, &w)?;
    let xi = add_bias(x.matmul(&w.w_ih.t()), w.b_ih);
    Ok(step(RnnMode::Gru, &xi, h, None, &w, hidden).0)
}

/// How a whole sequence is run.
#[derive(Clone, Copy, Debug)]
pub struct RecurrentOptions {
    pub mode: RnnMode,
    pub num_layers: usize,
    pub bidirectional: bool,
    /// Input and output are `[batch, time, feature]` instead of `[time, batch, feature]`.
    pub batch_first: bool,
    /// Dropout on the outputs of every layer but the last, in training.
    pub dropout: f64,
    pub training: bool,
}

/// What a sequence run returns: the last layer's outputs at every step, and the final hidden
/// (and, for an LSTM, cell) state of every layer and direction, `[layers·directions, B, H]`
/// (with a projection, `h_n` has P features and `c_n` keeps H).
pub struct RecurrentOutput {
    pub output: Tensor,
    pub h_n: Tensor,
    pub c_n: Option<Tensor>,
}

/// Runs a multi-layer, optionally bidirectional recurrence over a sequence. `weights` holds one
/// entry per layer and direction, layer-major (`l0`, `l0_reverse`, `l1`, …), as PyTorch orders
/// them. `h0`/`c0` are `[layers·directions, B, S]` and `[layers·directions, B, H]`, S being
/// H or an LSTM's projection size (zeros when `None`). Input `[T, B, I]`
/// (or `[B, T, I]` with `batch_first`, or unbatched `[T, I]`).
pub fn recurrent(
    input: &Tensor,
    h0: Option<&Tensor>,
    c0: Option<&Tensor>,
    weights: &[CellWeights],
    opts: RecurrentOptions,
    generator: &mut Generator,
) -> Result<RecurrentOutput> {
    let op = opts.mode.name();
    let dirs = if opts.bidirectional { 2 } else { 1 };
    if weights.len() != opts.num_layers * dirs || weights.is_empty() {
        bail!(
            Invalid,
            "{op}: expected {} weight sets ({} layers × {dirs} directions), got {}",
            opts.num_layers * dirs,
            opts.num_layers,
            weights.len()
        );
    }
    let unbatched = input.rank() == 2;
    if !unbatched && input.rank() != 3 {
        bail!(
            Shape,
            "{op}: input {:?} must be 3-D (or 2-D unbatched)",
            input.dims()
        );
    }
    let mut x = if unbatched {
        input.unsqueeze(1)
    } else if opts.batch_first {
        input.transpose(0, 1)
    } else {
        input.clone()
    };
    let (steps, batch) = (x.dims()[0], x.dims()[1]);
    if steps == 0 {
        bail!(
            Shape,
            "{op}: input {:?} has no time steps; a sequence needs at least one",
            input.dims()
        );
    }
    let g = opts.mode.gates();
    let (hidden, state) = check_weights(op, opts.mode, &weights[0])?;
    let dtype = weights[0].w_ih.dtype();
    if x.dtype() != dtype {
        x = x.to_dtype(dtype);
    }
    let load_state = |s: Option<&Tensor>, what: &str, size: usize| -> Result<Option<Tensor>> {
        let state_shape = [opts.num_layers * dirs, batch, size];
        match s {
            None => Ok(None),
            Some(s) => {
                let s = if unbatched { s.unsqueeze(1) } else { s.clone() };
                let s = if s.dtype() == dtype {
                    s
                } else {
                    s.to_dtype(dtype)
                };
                if s.dims() != state_shape {
                    bail!(
                        Shape,
                        "{op}: {what} {:?} must be {:?}",
                        s.dims(),
                        state_shape
                    );
                }
                Ok(Some(s))
            }
        }
    };
    let h0 = load_state(h0, "h0", state)?;
    let c0 = load_state(c0, "c0", hidden)?;
    let mut h_n = Vec::new();
    let mut c_n = Vec::new();
    for layer in 0..opts.num_layers {
        let mut outs = Vec::with_capacity(dirs);
        for dir in 0..dirs {
            let k = layer * dirs + dir;
            let w = &weights[k];
            let in_size = x.dims()[2];
            let fits = check_weights(op, opts.mode, w).ok() == Some((hidden, state));
            if !fits || w.w_ih.dims() != [g * hidden, in_size] {
                bail!(
                    Shape,
                    "{op}: layer {layer} weights {:?}/{:?} do not fit input size {in_size}, \
                     hidden size {hidden} and state size {state}",
                    w.w_ih.dims(),
                    w.w_hh.dims()
                );
            }
            // One product for the whole sequence: [T, B, I] · [I, gH] → [T, B, gH].
            let xi = add_bias(x.matmul(&w.w_ih.t()), w.b_ih);
            let h = h0.as_ref().map(|s| s.select(0, k as isize));
            let c = c0.as_ref().filter(|_| opts.mode == RnnMode::Lstm);
            let c = c.map(|s| s.select(0, k as isize));
            let run = Direction {
                mode: opts.mode,
                reverse: dir == 1,
            };
            let (seq, h, c) = if w.w_hr.is_none() {
                run.fused(&xi, w.w_hh, w.b_hh, h.as_ref(), c.as_ref())
            } else {
                run.composite(&xi, w, h.as_ref(), c.as_ref())
            };
            h_n.push(h);
            if let Some(c) = c {
                c_n.push(c);
            }
            outs.push(seq);
        }
        x = if dirs == 2 {
            Tensor::cat(&[&outs[0], &outs[1]], 2)
        } else {
            outs.pop().expect("one direction")
        };
        if opts.training && opts.dropout > 0.0 && layer + 1 < opts.num_layers {
            x = super::dropout::dropout(&x, opts.dropout, true, generator)?;
        }
    }
    let refs: Vec<&Tensor> = h_n.iter().collect();
    let mut h_n = Tensor::stack(&refs, 0);
    let mut c_n = (!c_n.is_empty()).then(|| {
        let refs: Vec<&Tensor> = c_n.iter().collect();
        Tensor::stack(&refs, 0)
    });
    let output = if unbatched {
        h_n = h_n.squeeze_dim(1);
        c_n = c_n.map(|c| c.squeeze_dim(1));
        x.squeeze_dim(1)
    } else if opts.batch_first {
        x.transpose(0, 1)
    } else {
        x
    };
    Ok(RecurrentOutput { output, h_n, c_n })
}

/// The elements of `t` in row-major order, or `len` zeros when there is none (an initial
/// state left out).
fn values_or_zeros<T: Element>(t: Option<&Tensor>, len: usize) -> Vec<T> {
    t.map_or_else(|| vec![T::zero(); len], |t| t.to_vec::<T>())
}

/// One layer of a sequence run in one direction.
#[derive(Clone, Copy)]
struct Direction {
    mode: RnnMode,
    /// Walks time from the last step to the first; outputs stay in time order.
    reverse: bool,
}

impl Direction {
    /// The outputs `[T, B, S]` in time order, the last state h and (LSTM) the last cell state,
    /// stepping cell by cell through differentiable tensor ops. `xi` is `[T, B, G·H]`.
    fn composite(
        self,
        xi: &Tensor,
        w: &CellWeights,
        h0: Option<&Tensor>,
        c0: Option<&Tensor>,
    ) -> (Tensor, Tensor, Option<Tensor>) {
        let (steps, batch) = (xi.dims()[0], xi.dims()[1]);
        let hidden = w.w_hh.dims()[0] / self.mode.gates();
        let state = w.w_hh.dims()[1];
        let dtype = xi.dtype();
        let mut h = h0
            .cloned()
            .unwrap_or_else(|| Tensor::zeros_dtype([batch, state], dtype));
        let mut c = (self.mode == RnnMode::Lstm).then(|| {
            c0.cloned()
                .unwrap_or_else(|| Tensor::zeros_dtype([batch, hidden], dtype))
        });
        let mut seq: Vec<Tensor> = Vec::with_capacity(steps);
        for s in 0..steps {
            let t = if self.reverse { steps - 1 - s } else { s };
            let (h2, c2) = step(
                self.mode,
                &xi.select(0, t as isize),
                &h,
                c.as_ref(),
                w,
                hidden,
            );
            h = h2;
            c = c2;
            seq.push(h.clone());
        }
        if self.reverse {
            seq.reverse();
        }
        let refs: Vec<&Tensor> = seq.iter().collect();
        (Tensor::stack(&refs, 0), h, c)
    }

    /// [`Direction::composite`] without a projection, as one `recurrence` op.
    fn fused(
        self,
        xi: &Tensor,
        w_hh: &Tensor,
        b_hh: Option<&Tensor>,
        h0: Option<&Tensor>,
        c0: Option<&Tensor>,
    ) -> (Tensor, Tensor, Option<Tensor>) {
        let steps = xi.dims()[0];
        let packed = self.recurrence(xi, w_hh, b_hh, h0, c0);
        let last = if self.reverse { 0 } else { steps - 1 };
        let c = (self.mode == RnnMode::Lstm).then(|| packed.select(0, steps as isize));
        (
            packed.narrow(0, 0, steps),
            packed.select(0, last as isize),
            c,
        )
    }

    /// The packed output of a whole sequence: every step's h `[T, B, H]`, then (LSTM) the last
    /// cell state, as `[T (+1), B, H]`. One recorded node; `h0`/`c0` default to zeros.
    fn recurrence(
        self,
        xi: &Tensor,
        w_hh: &Tensor,
        b_hh: Option<&Tensor>,
        h0: Option<&Tensor>,
        c0: Option<&Tensor>,
    ) -> Tensor {
        let [steps, batch, _] = xi.dims() else {
            unreachable!("recurrence: the caller passes [T, B, G·H]")
        };
        let plan = SequencePlan {
            kind: self.mode,
            steps: *steps,
            batch: *batch,
            hidden: w_hh.dims()[1],
            reverse: self.reverse,
        };
        let c0 = c0.filter(|_| self.mode == RnnMode::Lstm);
        // The inputs in a fixed order, absent ones skipped: xi, W_hh, b_hh, h0, c0.
        let optional = [b_hh, h0, c0];
        let mut inputs: Vec<&Tensor> = vec![xi, w_hh];
        inputs.extend(optional.iter().flatten().copied());
        let present = optional.map(|t| t.is_some());
        let keep_tape = is_grad_enabled() && inputs.iter().any(|t| t.requires_grad());
        let dtype = xi.dtype();
        let state_len = plan.batch * plan.hidden;
        let (packed, tape) = with_float_dtype!(dtype, T => {
            let (w, b) = (w_hh.to_vec::<T>(), b_hh.map(|b| b.to_vec::<T>()));
            let (h, c) = (values_or_zeros::<T>(h0, state_len), values_or_zeros::<T>(c0, state_len));
            let xc = xi.contiguous();
            let (out, tape) = xc.with_slice::<T, _>(|d, l| {
                let xs = &d[l.offset..l.offset + l.numel()];
                sequence_forward(&plan, xs, &w, b.as_deref(), &h, &c, keep_tape)
            });
            let rows = plan.out_rows();
            (
                Tensor::from_vec(out, [rows, plan.batch, plan.hidden]),
                tape.map(|t| {
                    let n = t.len();
                    Tensor::from_vec(t, [n])
                }),
            )
        }, unreachable!("recurrence: weights are float"));
        let saved: Vec<Saved> = inputs.iter().map(|t| Saved::new("recurrence", t)).collect();
        let forward = move || packed;
        record_op("recurrence", &inputs, forward, move |out, needs| {
            let out = Saved::output("recurrence", out);
            let needs = needs.to_vec();
            let tape = tape.expect("a recorded recurrence keeps its tape");
            move |g: &Tensor| {
                let inputs: Vec<&Tensor> = saved.iter().map(|s| s.get()).collect();
                if is_grad_enabled() {
                    return self.replayed_backward(&inputs, present, &needs, g);
                }
                let at = |k: usize| (0..k).map(|i| usize::from(present[i])).sum::<usize>() + 2;
                let opt = |k: usize| present[k].then(|| inputs[at(k)]);
                let (h0, c0) = (opt(1), opt(2));
                with_float_dtype!(dtype, T => {
                    let w = inputs[1].to_vec::<T>();
                    let (h, c) =
                        (values_or_zeros::<T>(h0, state_len), values_or_zeros::<T>(c0, state_len));
                    let gc = g.contiguous();
                    let d = tape.with_slice::<T, _>(|tp, _| {
                        out.get().with_slice::<T, _>(|o, _| {
                            gc.with_slice::<T, _>(|gs, gl| {
                                let gs = &gs[gl.offset..gl.offset + gl.numel()];
                                sequence_backward(&plan, &w, &h, &c, o, tp, gs)
                            })
                        })
                    });
                    let (gh, hid) = (plan.kind.gates() * plan.hidden, plan.hidden);
                    let mut out: Grads = Grads::new();
                    let mut give = |need: bool, v: Vec<T>, shape: Vec<usize>| {
                        out.push(need.then(|| Tensor::from_vec(v, shape)));
                    };
                    give(needs[0], d.xi, vec![plan.steps, plan.batch, gh]);
                    give(needs[1], d.w_hh, vec![gh, hid]);
                    let mut k = 2;
                    let rest = [
                        (d.b_hh, vec![gh]),
                        (d.h0, vec![plan.batch, hid]),
                        (d.c0, vec![plan.batch, hid]),
                    ];
                    for (i, (v, shape)) in rest.into_iter().enumerate() {
                        if present[i] {
                            give(needs[k], v, shape);
                            k += 1;
                        }
                    }
                    out
                }, unreachable!("recurrence: weights are float"))
            }
        })
    }

    /// The backward of [`Direction::recurrence`] under create_graph: the cells replayed as
    /// tensor ops from the saved inputs, and differentiated, so the gradient is itself
    /// differentiable.
    fn replayed_backward(
        self,
        inputs: &[&Tensor],
        present: [bool; 3],
        needs: &[bool],
        g: &Tensor,
    ) -> Grads {
        let mut rest = inputs[2..].iter().copied();
        let mut next = |p: bool| if p { rest.next() } else { None };
        let (b_hh, h0, c0) = (next(present[0]), next(present[1]), next(present[2]));
        let (xi, w_hh) = (inputs[0], inputs[1]);
        let gh = w_hh.dims()[0];
        let w_ih = Tensor::zeros_dtype([gh, 0], xi.dtype());
        let w = CellWeights::new(&w_ih, w_hh, None, b_hh);
        let (seq, _, c) = self.composite(xi, &w, h0, c0);
        let packed = match c {
            Some(c) => Tensor::cat(&[&seq, &c.unsqueeze(0)], 0),
            None => seq,
        };
        replayed_grads("recurrence", &packed, inputs, needs, g)
    }
}
