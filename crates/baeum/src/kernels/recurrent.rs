//! A whole recurrent sequence (one layer, one direction) in one pass, and its backward
//! through time. Per step: one `h·W_hhᵀ` product by `gemm`, then the gate math row by row
//! (batch rows in parallel when large). The backward reuses the activated gates the forward
//! kept (the tape), and forms `∂W_hh` as one product over every step at the end.

use rayon::prelude::*;

use super::matmul::product;
use crate::tensor::Float;

/// Which recurrence (the cell run at every step). Gate order is PyTorch's (LSTM: i, f, g, o;
/// GRU: r, z, n). Re-exported as `nn::functional::RnnMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RnnMode {
    /// h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
    Tanh,
    /// h' = relu(W_ih x + b_ih + W_hh h + b_hh)
    Relu,
    Lstm,
    Gru,
}

impl RnnMode {
    /// Gate blocks stacked in `W_ih`: 1, 4 (LSTM) or 3 (GRU).
    pub fn gates(self) -> usize {
        match self {
            RnnMode::Tanh | RnnMode::Relu => 1,
            RnnMode::Lstm => 4,
            RnnMode::Gru => 3,
        }
    }

    /// PyTorch's (and ONNX's) name of the mode.
    pub fn name(self) -> &'static str {
        match self {
            RnnMode::Tanh => "RNN_TANH",
            RnnMode::Relu => "RNN_RELU",
            RnnMode::Lstm => "LSTM",
            RnnMode::Gru => "GRU",
        }
    }

    /// Extra values per hidden unit the tape keeps: an LSTM's cell state, a GRU's
    /// `W_hn·h + b_hn` (the part `r` scales).
    fn extra(self) -> usize {
        match self {
            RnnMode::Tanh | RnnMode::Relu => 0,
            RnnMode::Lstm | RnnMode::Gru => 1,
        }
    }

    /// Carried state per hidden unit: h, and an LSTM's c.
    fn state(self) -> usize {
        if self == RnnMode::Lstm { 2 } else { 1 }
    }
}

/// The sizes of one sequence run. `reverse` walks time from the last step to the first (the
/// backward direction of a bidirectional layer); outputs stay in time order.
#[derive(Clone, Copy, Debug)]
pub struct SequencePlan {
    pub kind: RnnMode,
    pub steps: usize,
    pub batch: usize,
    pub hidden: usize,
    pub reverse: bool,
}

impl SequencePlan {
    fn gh(&self) -> usize {
        self.kind.gates() * self.hidden
    }

    /// Width of one batch row of the tape: activated gates, then the extra values.
    fn tape_row(&self) -> usize {
        (self.kind.gates() + self.kind.extra()) * self.hidden
    }

    /// The time index of processing step `s`.
    fn time(&self, s: usize) -> usize {
        if self.reverse { self.steps - 1 - s } else { s }
    }

    /// Rows of the packed output: every step's h, then (LSTM) the final c.
    pub fn out_rows(&self) -> usize {
        self.steps + usize::from(self.kind == RnnMode::Lstm)
    }

    fn parallel(&self) -> bool {
        self.batch > 1 && self.batch * self.tape_row() >= 1 << 13
    }
}

/// The first `N` blocks of `h` values of `s`, each exactly `h` long (so loops to `h` over
/// them need no bounds checks).
fn blocks<const N: usize, T>(s: &[T], h: usize) -> [&[T]; N] {
    std::array::from_fn(|k| &s[k * h..(k + 1) * h])
}

/// [`blocks`], mutable.
fn blocks_mut<const N: usize, T>(s: &mut [T], h: usize) -> [&mut [T]; N] {
    let mut it = s.chunks_exact_mut(h.max(1));
    std::array::from_fn(|_| &mut it.next().expect("the row holds N blocks")[..h])
}

/// Runs `f(row, a_row, b_row)` over the rows of two buffers, in parallel when `parallel`.
fn rows_mut<T: Float>(
    a: &mut [T],
    a_width: usize,
    b: &mut [T],
    b_width: usize,
    parallel: bool,
    f: impl Fn(usize, &mut [T], &mut [T]) + Sync,
) {
    if parallel {
        a.par_chunks_mut(a_width)
            .zip(b.par_chunks_mut(b_width))
            .enumerate()
            .for_each(|(r, (x, y))| f(r, x, y));
    } else {
        a.chunks_mut(a_width)
            .zip(b.chunks_mut(b_width))
            .enumerate()
            .for_each(|(r, (x, y))| f(r, x, y));
    }
}

/// Runs the sequence. `xi` is the input projection `x·W_ihᵀ + b_ih`, `[steps, batch, G·H]`;
/// `w_hh` is `[G·H, H]`; `b_hh` is `[G·H]`; `h0`/`c0` are `[batch, H]` (`c0` is read only by
/// an LSTM). Returns the packed output `[out_rows, batch, H]` and, when `keep_tape`, the tape
/// for [`sequence_backward`]: per step and batch row, the activated gates and the extra
/// values.
pub fn sequence_forward<T: Float>(
    p: &SequencePlan,
    xi: &[T],
    w_hh: &[T],
    b_hh: Option<&[T]>,
    h0: &[T],
    c0: &[T],
    keep_tape: bool,
) -> (Vec<T>, Option<Vec<T>>) {
    let (steps, batch, h) = (p.steps, p.batch, p.hidden);
    let (gh, row) = (p.gh(), p.tape_row());
    let sw = p.kind.state() * h;
    let mut out = vec![T::zero(); p.out_rows() * batch * h];
    let mut tape = vec![
        T::zero();
        if keep_tape {
            steps * batch * row
        } else {
            batch * row
        }
    ];
    if batch * h == 0 {
        return (out, keep_tape.then_some(tape));
    }
    // The carried state, one row per batch entry: h, then (LSTM) c.
    let mut state = vec![T::zero(); batch * sw];
    for b in 0..batch {
        state[b * sw..b * sw + h].copy_from_slice(&h0[b * h..(b + 1) * h]);
        if p.kind == RnnMode::Lstm {
            state[b * sw + h..(b + 1) * sw].copy_from_slice(&c0[b * h..(b + 1) * h]);
        }
    }
    let mut hh = vec![T::zero(); batch * gh];
    for s in 0..steps {
        let t = p.time(s);
        // hh = b_hh + h·W_hhᵀ.
        if let Some(bias) = b_hh {
            for r in hh.chunks_mut(gh) {
                r.copy_from_slice(bias);
            }
        }
        product(
            (batch, gh, h),
            &mut hh,
            b_hh.is_some(),
            &state,
            (sw, 1),
            w_hh,
            (1, h),
            false,
        );
        let xt = &xi[t * batch * gh..(t + 1) * batch * gh];
        let tape_t = if keep_tape {
            &mut tape[t * batch * row..(t + 1) * batch * row]
        } else {
            &mut tape[..]
        };
        let hh = &hh;
        rows_mut(&mut state, sw, tape_t, row, p.parallel(), |b, st, tp| {
            let (x, u) = (&xt[b * gh..(b + 1) * gh], &hh[b * gh..(b + 1) * gh]);
            match p.kind {
                RnnMode::Tanh | RnnMode::Relu => {
                    let (x, u, st, tp) = (&x[..h], &u[..h], &mut st[..h], &mut tp[..h]);
                    let relu = p.kind == RnnMode::Relu;
                    for j in 0..h {
                        let a = x[j] + u[j];
                        let v = if !relu {
                            a.tanh()
                        } else if a > T::zero() {
                            a
                        } else {
                            T::zero()
                        };
                        (st[j], tp[j]) = (v, v);
                    }
                }
                RnnMode::Lstm => {
                    let [xi_, xf, xg, xo] = blocks(x, h);
                    let [ui, uf, ug, uo] = blocks(u, h);
                    let [ti, tf, tg, to, tc] = blocks_mut(tp, h);
                    let (hs, cs) = st.split_at_mut(h);
                    let (hs, cs) = (&mut hs[..h], &mut cs[..h]);
                    for j in 0..h {
                        let i = (xi_[j] + ui[j]).sigmoid();
                        let f = (xf[j] + uf[j]).sigmoid();
                        let g = (xg[j] + ug[j]).tanh();
                        let o = (xo[j] + uo[j]).sigmoid();
                        let c = f * cs[j] + i * g;
                        (cs[j], hs[j]) = (c, o * c.tanh());
                        (ti[j], tf[j], tg[j], to[j], tc[j]) = (i, f, g, o, c);
                    }
                }
                RnnMode::Gru => {
                    let [xr, xz, xn] = blocks(x, h);
                    let [ur, uz, un] = blocks(u, h);
                    let [tr, tz, tn, tu] = blocks_mut(tp, h);
                    let st = &mut st[..h];
                    for j in 0..h {
                        let r = (xr[j] + ur[j]).sigmoid();
                        let z = (xz[j] + uz[j]).sigmoid();
                        let n = (xn[j] + r * un[j]).tanh();
                        st[j] = n + z * (st[j] - n);
                        (tr[j], tz[j], tn[j], tu[j]) = (r, z, n, un[j]);
                    }
                }
            }
        });
        for b in 0..batch {
            let o = (t * batch + b) * h;
            out[o..o + h].copy_from_slice(&state[b * sw..b * sw + h]);
        }
    }
    if p.kind == RnnMode::Lstm {
        for b in 0..batch {
            let o = (steps * batch + b) * h;
            out[o..o + h].copy_from_slice(&state[b * sw + h..(b + 1) * sw]);
        }
    }
    (out, keep_tape.then_some(tape))
}

/// Gradients of a sequence run with respect to its inputs.
pub struct SequenceGrads<T> {
    /// `[steps, batch, G·H]`
    pub xi: Vec<T>,
    /// `[G·H, H]`
    pub w_hh: Vec<T>,
    /// `[G·H]`
    pub b_hh: Vec<T>,
    /// `[batch, H]`
    pub h0: Vec<T>,
    /// `[batch, H]` (LSTM; empty otherwise)
    pub c0: Vec<T>,
}

/// Backpropagation through time: `g` is the gradient of the packed output of
/// [`sequence_forward`], `out` that output itself, and `tape` what the forward kept.
pub fn sequence_backward<T: Float>(
    p: &SequencePlan,
    w_hh: &[T],
    h0: &[T],
    c0: &[T],
    out: &[T],
    tape: &[T],
    g: &[T],
) -> SequenceGrads<T> {
    let (steps, batch, h) = (p.steps, p.batch, p.hidden);
    let (gh, row) = (p.gh(), p.tape_row());
    let lstm = p.kind == RnnMode::Lstm;
    let sw = p.kind.state() * h;
    if batch * h == 0 {
        return SequenceGrads {
            xi: vec![T::zero(); steps * batch * gh],
            w_hh: vec![T::zero(); gh * h],
            b_hh: vec![T::zero(); gh],
            h0: Vec::new(),
            c0: Vec::new(),
        };
    }
    let mut dxi = vec![T::zero(); steps * batch * gh];
    // The GRU's gradient into `h·W_hhᵀ` differs from its gradient into `xi` in the n block
    // (scaled by r); the other cells share one buffer.
    let mut dhh_gru = if p.kind == RnnMode::Gru {
        vec![T::zero(); steps * batch * gh]
    } else {
        Vec::new()
    };
    // The gradient carried to the previous step: ∂h, then (LSTM) ∂c, one row per batch entry.
    let mut carry = vec![T::zero(); batch * sw];
    if lstm {
        for b in 0..batch {
            let o = (steps * batch + b) * h;
            carry[b * sw + h..(b + 1) * sw].copy_from_slice(&g[o..o + h]);
        }
    }
    // h at the step before time t, or h0.
    let prev_time = |s: usize| (s > 0).then(|| p.time(s - 1));
    let h_prev_row = |s: usize, b: usize| -> &[T] {
        match prev_time(s) {
            Some(tp) => &out[(tp * batch + b) * h..(tp * batch + b + 1) * h],
            None => &h0[b * h..(b + 1) * h],
        }
    };
    // ∂hh · W_hh of one step, before it joins the carry.
    let mut dh_prev = vec![T::zero(); batch * h];
    for s in (0..steps).rev() {
        let t = p.time(s);
        let gt = &g[t * batch * h..(t + 1) * batch * h];
        let tape_t = &tape[t * batch * row..(t + 1) * batch * row];
        let prev_tape = prev_time(s).map(|tp| &tape[tp * batch * row..(tp + 1) * batch * row]);
        let dx_t = &mut dxi[t * batch * gh..(t + 1) * batch * gh];
        rows_mut(&mut carry, sw, dx_t, gh, p.parallel(), |b, cr, dx| {
            let tp = &tape_t[b * row..(b + 1) * row];
            let gr = &gt[b * h..(b + 1) * h];
            match p.kind {
                RnnMode::Tanh | RnnMode::Relu => {
                    let (tp, dx, cr) = (&tp[..h], &mut dx[..h], &mut cr[..h]);
                    let relu = p.kind == RnnMode::Relu;
                    for j in 0..h {
                        let (v, dh) = (tp[j], gr[j] + cr[j]);
                        dx[j] = if !relu {
                            dh * (T::one() - v * v)
                        } else if v > T::zero() {
                            dh
                        } else {
                            dh * T::zero()
                        };
                    }
                }
                RnnMode::Lstm => {
                    let [i, f, g, o, c] = blocks(tp, h);
                    let c_prev = match prev_tape {
                        Some(pt) => &pt[b * row + 4 * h..(b + 1) * row],
                        None => &c0[b * h..(b + 1) * h],
                    };
                    let c_prev = &c_prev[..h];
                    let [dxi_, dxf, dxg, dxo] = blocks_mut(dx, h);
                    let (dhs, dcs) = cr.split_at_mut(h);
                    let (dhs, dcs) = (&dhs[..h], &mut dcs[..h]);
                    for j in 0..h {
                        let dh = gr[j] + dhs[j];
                        let tc = c[j].tanh();
                        let dc = dcs[j] + dh * o[j] * (T::one() - tc * tc);
                        dxi_[j] = dc * g[j] * i[j] * (T::one() - i[j]);
                        dxf[j] = dc * c_prev[j] * f[j] * (T::one() - f[j]);
                        dxg[j] = dc * i[j] * (T::one() - g[j] * g[j]);
                        dxo[j] = dh * tc * o[j] * (T::one() - o[j]);
                        dcs[j] = dc * f[j];
                    }
                }
                RnnMode::Gru => {
                    let hp = &h_prev_row(s, b)[..h];
                    let [r, z, n, un] = blocks(tp, h);
                    let [dxr, dxz, dxn] = blocks_mut(dx, h);
                    let cr = &mut cr[..h];
                    for j in 0..h {
                        let dh = gr[j] + cr[j];
                        let dn = dh * (T::one() - z[j]) * (T::one() - n[j] * n[j]);
                        dxr[j] = dn * un[j] * r[j] * (T::one() - r[j]);
                        dxz[j] = dh * (hp[j] - n[j]) * z[j] * (T::one() - z[j]);
                        dxn[j] = dn;
                        // The direct path h' = … + z·h; the product below adds W_hh's.
                        cr[j] = dh * z[j];
                    }
                }
            }
        });
        let dhh_t: &[T] = if p.kind == RnnMode::Gru {
            let d = &mut dhh_gru[t * batch * gh..(t + 1) * batch * gh];
            d.copy_from_slice(&dxi[t * batch * gh..(t + 1) * batch * gh]);
            for b in 0..batch {
                for j in 0..h {
                    d[b * gh + 2 * h + j] = d[b * gh + 2 * h + j] * tape_t[b * row + j];
                }
            }
            d
        } else {
            &dxi[t * batch * gh..(t + 1) * batch * gh]
        };
        // ∂h_prev (+)= ∂hh · W_hh, written into the h part of each carry row.
        product(
            (batch, h, gh),
            &mut dh_prev,
            false,
            dhh_t,
            (gh, 1),
            w_hh,
            (h, 1),
            false,
        );
        for b in 0..batch {
            let cr = &mut carry[b * sw..b * sw + h];
            let d = &dh_prev[b * h..(b + 1) * h];
            if p.kind == RnnMode::Gru {
                cr.iter_mut().zip(d).for_each(|(c, &v)| *c = *c + v);
            } else {
                cr.copy_from_slice(d);
            }
        }
    }
    let dhh: &[T] = if p.kind == RnnMode::Gru {
        &dhh_gru
    } else {
        &dxi
    };
    // ∂W_hh = Σ_t ∂hh_tᵀ · h_prev_t, one product over every (step, batch) row.
    let mut h_prev = vec![T::zero(); steps * batch * h];
    for s in 0..steps {
        let t = p.time(s);
        for b in 0..batch {
            let o = (t * batch + b) * h;
            h_prev[o..o + h].copy_from_slice(h_prev_row(s, b));
        }
    }
    let mut dw = vec![T::zero(); gh * h];
    product(
        (gh, h, steps * batch),
        &mut dw,
        false,
        dhh,
        (1, gh),
        &h_prev,
        (h, 1),
        false,
    );
    let mut db = vec![T::zero(); gh];
    for r in dhh.chunks(gh.max(1)) {
        db.iter_mut().zip(r).for_each(|(a, &v)| *a = *a + v);
    }
    let mut dh0 = vec![T::zero(); batch * h];
    let mut dc0 = vec![T::zero(); if lstm { batch * h } else { 0 }];
    for b in 0..batch {
        dh0[b * h..(b + 1) * h].copy_from_slice(&carry[b * sw..b * sw + h]);
        if lstm {
            dc0[b * h..(b + 1) * h].copy_from_slice(&carry[b * sw + h..(b + 1) * sw]);
        }
    }
    SequenceGrads {
        xi: dxi,
        w_hh: dw,
        b_hh: db,
        h0: dh0,
        c0: dc0,
    }
}
