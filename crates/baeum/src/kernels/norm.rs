//! Batch normalisation over contiguous `[N, C, S]` data (S: the spatial positions, 1 for
//! `[N, C]` input): per-channel statistics, the normalising affine map, and its backward,
//! each one pass (or two) over memory instead of a chain of broadcast tensor ops. Sums are
//! kept in f64; the per-element arithmetic is PyTorch's CPU kernel's.

use rayon::prelude::*;

use super::PARALLEL_THRESHOLD;
use crate::tensor::Float;

/// The sizes of `[N, C, S]` data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelShape {
    pub batch: usize,
    pub channels: usize,
    pub spatial: usize,
}

impl ChannelShape {
    /// Values per channel.
    pub fn count(&self) -> usize {
        self.batch * self.spatial
    }

    fn parallel(&self) -> bool {
        self.batch * self.channels * self.spatial >= PARALLEL_THRESHOLD
    }

    /// Runs `f(c)` for every channel, in parallel when the data is large.
    fn per_channel<R: Send>(&self, f: impl Fn(usize) -> R + Sync + Send) -> Vec<R> {
        if self.parallel() && self.channels > 1 {
            (0..self.channels).into_par_iter().map(f).collect()
        } else {
            (0..self.channels).map(f).collect()
        }
    }

    /// Channel `c`'s values: one run of `spatial` elements per sample.
    fn runs<'a, T>(&self, data: &'a [T], c: usize) -> impl Iterator<Item = &'a [T]> + use<'a, T> {
        let (plane, row) = (self.spatial, self.channels * self.spatial);
        (0..self.batch).map(move |n| &data[n * row + c * plane..n * row + (c + 1) * plane])
    }

    /// Fills `out` (`[N, C, S]`) run by run: `f(n, c, dst)` writes sample `n`'s run of channel
    /// `c`. Samples run in parallel when the data is large.
    fn each_run<T: Float>(&self, out: &mut [T], f: impl Fn(usize, usize, &mut [T]) + Sync + Send) {
        let row = self.channels * self.spatial;
        if row == 0 {
            return;
        }
        let one = |(n, dst): (usize, &mut [T])| {
            for (c, run) in dst.chunks_mut(self.spatial.max(1)).enumerate() {
                f(n, c, run);
            }
        };
        if self.parallel() && self.batch > 1 {
            out.par_chunks_mut(row).enumerate().for_each(one);
        } else {
            out.chunks_mut(row).enumerate().for_each(one);
        }
    }
}

/// Independent partial sums per reduction: a single f64 accumulator would wait on each
/// add's latency; eight lanes keep the adder busy and vectorise. The lanes are combined in
/// a fixed order, so the result is deterministic.
const LANES: usize = 8;

/// `Σ f(i)` over `0..n` in [`LANES`] interleaved partial sums.
#[inline(always)]
fn lane_sum(n: usize, f: impl Fn(usize) -> f64) -> f64 {
    let mut acc = [0.0f64; LANES];
    let whole = n / LANES * LANES;
    for i in (0..whole).step_by(LANES) {
        for (l, a) in acc.iter_mut().enumerate() {
            *a += f(i + l);
        }
    }
    for i in whole..n {
        acc[i - whole] += f(i);
    }
    acc.iter().sum()
}

/// Each channel's mean and biased variance (two passes, in f64).
pub fn channel_moments<T: Float>(x: &[T], sh: ChannelShape) -> (Vec<f64>, Vec<f64>) {
    let m = sh.count() as f64;
    sh.per_channel(|c| {
        let sum: f64 = sh
            .runs(x, c)
            .map(|r| lane_sum(r.len(), |i| r[i].to_f64()))
            .sum();
        let mean = sum / m;
        let sq: f64 = sh
            .runs(x, c)
            .map(|r| {
                lane_sum(r.len(), |i| {
                    let d = r[i].to_f64() - mean;
                    d * d
                })
            })
            .sum();
        (mean, sq / m)
    })
    .into_iter()
    .unzip()
}

/// `y = x·alpha[c] + beta[c]`: normalisation and the affine parameters folded into one
/// scale and shift per channel.
pub fn channel_affine<T: Float>(x: &[T], sh: ChannelShape, alpha: &[T], beta: &[T]) -> Vec<T> {
    let mut y = vec![T::zero(); x.len()];
    let (plane, row) = (sh.spatial, sh.channels * sh.spatial);
    sh.each_run(&mut y, |n, c, dst| {
        let src = &x[n * row + c * plane..n * row + (c + 1) * plane];
        let (a, b) = (alpha[c], beta[c]);
        for (d, &v) in dst.iter_mut().zip(src) {
            *d = v * a + b;
        }
    });
    y
}

/// Per channel, `Σ g` and `Σ g·(x − mean)`: the two sums the backward needs (and the bias's
/// and, over the inverse deviation, the weight's gradient).
pub fn channel_grad_sums<T: Float>(
    g: &[T],
    x: &[T],
    mean: &[f64],
    sh: ChannelShape,
) -> (Vec<f64>, Vec<f64>) {
    sh.per_channel(|c| {
        let m = mean[c];
        sh.runs(g, c)
            .zip(sh.runs(x, c))
            .fold((0.0, 0.0), |(s, sx), (gr, xr)| {
                let xr = &xr[..gr.len()];
                let a = lane_sum(gr.len(), |i| gr[i].to_f64());
                let b = lane_sum(gr.len(), |i| gr[i].to_f64() * (xr[i].to_f64() - m));
                (s + a, sx + b)
            })
    })
    .into_iter()
    .unzip()
}

/// ∂L/∂x of training-mode batch norm, per element
/// `((g − mean_g[c]) − (x − mean[c])·k[c]) · scale[c]`, where `mean_g = Σg / M`,
/// `k = Σg(x−mean) / M · invstd²` and `scale = invstd · weight`.
pub fn batch_norm_grad_input<T: Float>(
    g: &[T],
    x: &[T],
    sh: ChannelShape,
    mean: &[f64],
    mean_g: &[f64],
    k: &[f64],
    scale: &[f64],
) -> Vec<T> {
    let mut dx = vec![T::zero(); x.len()];
    let (plane, row) = (sh.spatial, sh.channels * sh.spatial);
    sh.each_run(&mut dx, |n, c, dst| {
        let at = n * row + c * plane;
        let (gs, xs) = (&g[at..at + plane], &x[at..at + plane]);
        let (m, gm, kc, s) = (
            T::from_f64(mean[c]),
            T::from_f64(mean_g[c]),
            T::from_f64(k[c]),
            T::from_f64(scale[c]),
        );
        for ((d, &gv), &xv) in dst.iter_mut().zip(gs).zip(xs) {
            *d = ((gv - gm) - (xv - m) * kc) * s;
        }
    });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_per_channel_over_samples_and_positions() {
        // [2, 2, 3]: channel 0 holds 1..3 and 7..9, channel 1 holds 4..6 and 10..12.
        let x: Vec<f64> = (1..=12).map(f64::from).collect();
        let sh = ChannelShape {
            batch: 2,
            channels: 2,
            spatial: 3,
        };
        let (mean, var) = channel_moments(&x, sh);
        assert_eq!(mean, vec![5.0, 8.0]);
        // Deviations ±1, 0, ±2, ±3 (twice each over the two samples): (4+1+0+4+9+16)/6.
        let want = [(-4.0f64), -3.0, -2.0, 2.0, 3.0, 4.0]
            .iter()
            .map(|d| d * d)
            .sum::<f64>()
            / 6.0;
        assert_eq!(var, vec![want, want]);
        let y = channel_affine(&x, sh, &[1.0, 2.0], &[0.0, -1.0]);
        assert_eq!(&y[..6], &[1.0, 2.0, 3.0, 7.0, 9.0, 11.0]);
        let (s, sx) = channel_grad_sums(&[1.0; 12], &x, &mean, sh);
        assert_eq!(s, vec![6.0, 6.0]);
        assert_eq!(sx, vec![0.0, 0.0]);
    }
}
