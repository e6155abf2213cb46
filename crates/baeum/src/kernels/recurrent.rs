//! A whole recurrent sequence (one layer, one direction) in one pass, and its backward
//! through time. Per step: one `h·W_hhᵀ` product by `gemm`, then the gate math row by row.
//! A large batch is split into one range of rows per thread, each running the whole
//! sequence (the rows' recurrences are independent); otherwise the step's product and rows
//! use the threads. The backward reuses the activated gates the forward
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

    /// The batch split into one contiguous range of rows per thread, when the sequence is
    /// large enough to share out: the rows' recurrences are independent, so each range runs
    /// its whole sequence on one thread (one fork per sequence, not two per step). One range
    /// when it is not worth it.
    fn batch_parts(&self) -> Vec<std::ops::Range<usize>> {
        let threads = rayon::current_num_threads();
        let work = self.steps * self.batch * self.gh() * self.hidden;
        if threads < 2 || self.batch < 2 * threads || work < 1 << 20 {
            return std::iter::once(0..self.batch).collect();
        }
        let per = self.batch.div_ceil(threads);
        (0..self.batch)
            .step_by(per)
            .map(|b| b..(b + per).min(self.batch))
            .collect()
    }

    /// The plan of the rows `part` of the batch.
    fn rows(&self, part: &std::ops::Range<usize>) -> SequencePlan {
        SequencePlan {
            batch: part.len(),
            ..*self
        }
    }
}

/// Copies rows `part` of each of the `outer` blocks of `[outer, batch, width]` data into a
/// contiguous `[outer, part.len(), width]` buffer.
fn gather_rows<T: Float>(
    src: &[T],
    outer: usize,
    batch: usize,
    width: usize,
    part: &std::ops::Range<usize>,
) -> Vec<T> {
    let mut out = Vec::with_capacity(outer * part.len() * width);
    for o in 0..outer {
        out.extend_from_slice(
            &src[(o * batch + part.start) * width..(o * batch + part.end) * width],
        );
    }
    out
}

/// The inverse of [`gather_rows`]: writes `src` `[outer, part.len(), width]` into rows `part`
/// of `dst` `[outer, batch, width]`.
fn scatter_rows<T: Float>(
    src: &[T],
    dst: &mut [T],
    outer: usize,
    batch: usize,
    width: usize,
    part: &std::ops::Range<usize>,
) {
    let n = part.len() * width;
    for o in 0..outer {
        let at = (o * batch + part.start) * width;
        dst[at..at + n].copy_from_slice(&src[o * n..(o + 1) * n]);
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
    let parts = p.batch_parts();
    if parts.len() == 1 {
        return forward_rows(p, xi, w_hh, b_hh, h0, c0, keep_tape, true);
    }
    let (h, gh, row) = (p.hidden, p.gh(), p.tape_row());
    let lstm = p.kind == RnnMode::Lstm;
    let runs: Vec<(Vec<T>, Option<Vec<T>>)> = parts
        .par_iter()
        .map(|part| {
            let q = p.rows(part);
            let xi = gather_rows(xi, p.steps, p.batch, gh, part);
            let (h0, c0) = (
                &h0[part.start * h..part.end * h],
                if lstm {
                    &c0[part.start * h..part.end * h]
                } else {
                    c0
                },
            );
            forward_rows(&q, &xi, w_hh, b_hh, h0, c0, keep_tape, false)
        })
        .collect();
    let mut out = vec![T::zero(); p.out_rows() * p.batch * h];
    let mut tape = keep_tape.then(|| vec![T::zero(); p.steps * p.batch * row]);
    for (part, (o, t)) in parts.iter().zip(&runs) {
        scatter_rows(o, &mut out, p.out_rows(), p.batch, h, part);
        if let (Some(tape), Some(t)) = (tape.as_mut(), t) {
            scatter_rows(t, tape, p.steps, p.batch, row, part);
        }
    }
    (out, tape)
}

/// [`sequence_forward`] of a whole batch on the calling thread's terms: `threads` lets the
/// step's product and gate rows use rayon (false when the caller already runs one range of
/// the batch per thread).
#[allow(clippy::too_many_arguments)]
fn forward_rows<T: Float>(
    p: &SequencePlan,
    xi: &[T],
    w_hh: &[T],
    b_hh: Option<&[T]>,
    h0: &[T],
    c0: &[T],
    keep_tape: bool,
    threads: bool,
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
    let cell = forward_cell::<T>();
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
            !threads,
        );
        let xt = &xi[t * batch * gh..(t + 1) * batch * gh];
        let tape_t = if keep_tape {
            &mut tape[t * batch * row..(t + 1) * batch * row]
        } else {
            &mut tape[..]
        };
        let hh = &hh;
        rows_mut(
            &mut state,
            sw,
            tape_t,
            row,
            threads && p.parallel(),
            |b, st, tp| {
                let (x, u) = (&xt[b * gh..(b + 1) * gh], &hh[b * gh..(b + 1) * gh]);
                cell(p.kind, h, x, u, st, tp);
            },
        );
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

/// One step of the cell for one batch row: `x` the row's input projection and `u` its
/// `h·W_hhᵀ + b_hh` (`G·H` each); `st` the carried state (h, then an LSTM's c), updated in
/// place; `tp` receives the row's tape.
#[inline(always)]
fn forward_cell_body<T: Float>(
    kind: RnnMode,
    h: usize,
    x: &[T],
    u: &[T],
    st: &mut [T],
    tp: &mut [T],
) {
    match kind {
        RnnMode::Tanh | RnnMode::Relu => {
            let (x, u, st, tp) = (&x[..h], &u[..h], &mut st[..h], &mut tp[..h]);
            let relu = kind == RnnMode::Relu;
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
}

/// One step back through the cell for one batch row: `tp` the row's tape, `gr` the output's
/// gradient, `prev` the previous cell state (LSTM) or h (GRU); `cr` the carried gradient (∂h,
/// then an LSTM's ∂c), updated in place; `dx` receives the gradient of the gate inputs.
#[inline(always)]
fn backward_cell_body<T: Float>(
    kind: RnnMode,
    h: usize,
    tp: &[T],
    gr: &[T],
    prev: &[T],
    cr: &mut [T],
    dx: &mut [T],
) {
    match kind {
        RnnMode::Tanh | RnnMode::Relu => {
            let (tp, dx, cr) = (&tp[..h], &mut dx[..h], &mut cr[..h]);
            let relu = kind == RnnMode::Relu;
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
            let c_prev = &prev[..h];
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
            let hp = &prev[..h];
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
}

type ForwardCell<T> = fn(RnnMode, usize, &[T], &[T], &mut [T], &mut [T]);
type BackwardCell<T> = fn(RnnMode, usize, &[T], &[T], &[T], &mut [T], &mut [T]);

// The cell loops are mostly sigmoid and tanh, which vectorise; the build targets baseline
// x86-64 (2-wide f64), so a copy compiled for AVX2 and FMA is chosen at run time where the CPU
// has them. Rust never fuses a multiply and add on its own, so both copies round alike.

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn forward_cell_avx2<T: Float>(
    kind: RnnMode,
    h: usize,
    x: &[T],
    u: &[T],
    st: &mut [T],
    tp: &mut [T],
) {
    forward_cell_body(kind, h, x, u, st, tp)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn backward_cell_avx2<T: Float>(
    kind: RnnMode,
    h: usize,
    tp: &[T],
    gr: &[T],
    prev: &[T],
    cr: &mut [T],
    dx: &mut [T],
) {
    backward_cell_body(kind, h, tp, gr, prev, cr, dx)
}

/// Whether this CPU runs the AVX2 + FMA copies.
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The forward cell for this CPU.
fn forward_cell<T: Float>() -> ForwardCell<T> {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        return |k, h, x, u, st, tp| unsafe { forward_cell_avx2(k, h, x, u, st, tp) };
    }
    forward_cell_body::<T>
}

/// The backward cell for this CPU.
fn backward_cell<T: Float>() -> BackwardCell<T> {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        return |k, h, tp, gr, prev, cr, dx| unsafe {
            backward_cell_avx2(k, h, tp, gr, prev, cr, dx)
        };
    }
    backward_cell_body::<T>
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
    let parts = p.batch_parts();
    if parts.len() == 1 {
        return backward_rows(p, w_hh, h0, c0, out, tape, g, true);
    }
    let (h, gh, row) = (p.hidden, p.gh(), p.tape_row());
    let lstm = p.kind == RnnMode::Lstm;
    let runs: Vec<SequenceGrads<T>> = parts
        .par_iter()
        .map(|part| {
            let q = p.rows(part);
            let rows =
                |s: &[T], outer: usize, width: usize| gather_rows(s, outer, p.batch, width, part);
            let (h0, c0) = (
                &h0[part.start * h..part.end * h],
                if lstm {
                    &c0[part.start * h..part.end * h]
                } else {
                    c0
                },
            );
            let (out, tape, g) = (
                rows(out, p.out_rows(), h),
                rows(tape, p.steps, row),
                rows(g, p.out_rows(), h),
            );
            backward_rows(&q, w_hh, h0, c0, &out, &tape, &g, false)
        })
        .collect();
    // Each range's partial ∂W_hh and ∂b_hh, summed in range order (a fixed order, so the
    // result does not depend on scheduling); the per-row gradients scattered back.
    let mut d = SequenceGrads {
        xi: vec![T::zero(); p.steps * p.batch * gh],
        w_hh: vec![T::zero(); gh * h],
        b_hh: vec![T::zero(); gh],
        h0: vec![T::zero(); p.batch * h],
        c0: vec![T::zero(); if lstm { p.batch * h } else { 0 }],
    };
    for (part, r) in parts.iter().zip(&runs) {
        scatter_rows(&r.xi, &mut d.xi, p.steps, p.batch, gh, part);
        scatter_rows(&r.h0, &mut d.h0, 1, p.batch, h, part);
        if lstm {
            scatter_rows(&r.c0, &mut d.c0, 1, p.batch, h, part);
        }
        d.w_hh
            .iter_mut()
            .zip(&r.w_hh)
            .for_each(|(a, &v)| *a = *a + v);
        d.b_hh
            .iter_mut()
            .zip(&r.b_hh)
            .for_each(|(a, &v)| *a = *a + v);
    }
    d
}

/// [`sequence_backward`] of a whole batch; `threads` as in [`forward_rows`].
#[allow(clippy::too_many_arguments)]
fn backward_rows<T: Float>(
    p: &SequencePlan,
    w_hh: &[T],
    h0: &[T],
    c0: &[T],
    out: &[T],
    tape: &[T],
    g: &[T],
    threads: bool,
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
    let cell = backward_cell::<T>();
    for s in (0..steps).rev() {
        let t = p.time(s);
        let gt = &g[t * batch * h..(t + 1) * batch * h];
        let tape_t = &tape[t * batch * row..(t + 1) * batch * row];
        let prev_tape = prev_time(s).map(|tp| &tape[tp * batch * row..(tp + 1) * batch * row]);
        let dx_t = &mut dxi[t * batch * gh..(t + 1) * batch * gh];
        rows_mut(
            &mut carry,
            sw,
            dx_t,
            gh,
            threads && p.parallel(),
            |b, cr, dx| {
                let tp = &tape_t[b * row..(b + 1) * row];
                let gr = &gt[b * h..(b + 1) * h];
                let prev: &[T] = match p.kind {
                    RnnMode::Lstm => match prev_tape {
                        Some(pt) => &pt[b * row + 4 * h..(b + 1) * row],
                        None => &c0[b * h..(b + 1) * h],
                    },
                    RnnMode::Gru => h_prev_row(s, b),
                    RnnMode::Tanh | RnnMode::Relu => &[],
                };
                cell(p.kind, h, tp, gr, prev, cr, dx);
            },
        );
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
            !threads,
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
        !threads,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in (−0.5, 0.5).
    fn values(n: usize, seed: f64) -> Vec<f64> {
        (0..n)
            .map(|i| ((i as f64 + seed) * 0.618).sin() * 0.5)
            .collect()
    }

    #[test]
    fn a_batch_split_across_threads_gives_the_whole_batch_result() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        for kind in [RnnMode::Lstm, RnnMode::Gru, RnnMode::Tanh] {
            let p = SequencePlan {
                kind,
                steps: 33,
                batch: 8,
                hidden: 64,
                reverse: kind == RnnMode::Gru,
            };
            let (gh, h, b) = (p.gh(), p.hidden, p.batch);
            // Large enough to split: steps · batch · G·H · H ≥ 2²⁰ for every mode here.
            assert_eq!(pool.install(|| p.batch_parts()), vec![0..4, 4..8]);
            let xi = values(p.steps * b * gh, 1.0);
            let w = values(gh * h, 2.0);
            let bias = values(gh, 3.0);
            let (h0, c0) = (values(b * h, 4.0), values(b * h, 5.0));
            let g = values(p.out_rows() * b * h, 6.0);
            let close = |a: &[f64], b: &[f64], what: &str| {
                assert_eq!(a.len(), b.len(), "{kind:?} {what}");
                for (x, y) in a.iter().zip(b) {
                    assert!(
                        (x - y).abs() <= 1e-12 * (1.0 + x.abs()),
                        "{kind:?} {what}: {x} vs {y}"
                    );
                }
            };
            // Not bit for bit: gemm may tile a 4-row product differently from an 8-row one,
            // and ∂W_hh, ∂b_hh are summed per range.
            let whole = forward_rows(&p, &xi, &w, Some(&bias), &h0, &c0, true, false);
            let split = pool.install(|| sequence_forward(&p, &xi, &w, Some(&bias), &h0, &c0, true));
            close(&whole.0, &split.0, "output");
            let (out, tape) = (whole.0, whole.1.unwrap());
            close(&tape, &split.1.unwrap(), "tape");
            let dw = backward_rows(&p, &w, &h0, &c0, &out, &tape, &g, false);
            let ds = pool.install(|| sequence_backward(&p, &w, &h0, &c0, &out, &tape, &g));
            for (a, b, what) in [
                (&dw.xi, &ds.xi, "∂xi"),
                (&dw.w_hh, &ds.w_hh, "∂W_hh"),
                (&dw.b_hh, &ds.b_hh, "∂b_hh"),
                (&dw.h0, &ds.h0, "∂h0"),
                (&dw.c0, &ds.c0, "∂c0"),
            ] {
                close(a, b, what);
            }
        }
    }
}
