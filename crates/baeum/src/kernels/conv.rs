//! Convolution kernels: im2col (a sliding window's elements laid out as columns, so that a
//! convolution becomes one matrix product) and its adjoint col2im, for 1-, 2- and 3-D inputs
//! with stride, dilation and zero padding that may differ before and after (PyTorch's
//! `padding="same"` with an even kernel pads one more on the right).

use rayon::prelude::*;

use super::matmul::product;
use crate::tensor::{Element, Float};

/// The geometry of a sliding window over `[channels, depth, height, width]` volumes. A 2-D
/// window is the same with depth 1 and a kernel of depth 1; a 1-D window has height 1 too.
/// `spatial` says how many of the three dimensions the tensors really have (the shapes the
/// window reports keep only those).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub channels: usize,
    /// The input's (depth, height, width).
    pub size: [usize; 3],
    pub kernel: [usize; 3],
    pub stride: [usize; 3],
    pub dilation: [usize; 3],
    /// Zeros added before each spatial dimension (front, top, left).
    pub pad_before: [usize; 3],
    /// Zeros added after each spatial dimension (back, bottom, right).
    pub pad_after: [usize; 3],
    /// Output positions along each spatial dimension.
    pub out: [usize; 3],
    /// 1, 2 or 3: the trailing dimensions of the three that are real.
    pub spatial: usize,
}

impl Window {
    /// Rows of the column matrix: channels · the kernel's elements.
    pub fn col_rows(&self) -> usize {
        self.channels * self.kernel.iter().product::<usize>()
    }

    /// Columns of the column matrix: one per output position.
    pub fn col_cols(&self) -> usize {
        self.out.iter().product()
    }

    /// Elements of one input image.
    pub fn image_len(&self) -> usize {
        self.channels * self.size.iter().product::<usize>()
    }

    /// The kernel's real dimensions (`spatial` of them).
    pub fn kernel_dims(&self) -> &[usize] {
        &self.kernel[3 - self.spatial..]
    }

    /// The output's real spatial dimensions.
    pub fn out_dims(&self) -> &[usize] {
        &self.out[3 - self.spatial..]
    }

    /// The input's real spatial dimensions.
    pub fn size_dims(&self) -> &[usize] {
        &self.size[3 - self.spatial..]
    }

    /// The output positions `lo..hi` along spatial dimension `d` whose input index at kernel
    /// offset `k` lies inside the input (every other one reads padding), and the input index
    /// of `lo`; later ones step by the stride.
    #[inline]
    fn inside(&self, d: usize, k: usize) -> (usize, usize, usize) {
        let (s, p, off) = (self.stride[d], self.pad_before[d], k * self.dilation[d]);
        let lo = p.saturating_sub(off).div_ceil(s);
        let hi = if self.size[d] + p > off {
            ((self.size[d] - 1 + p - off) / s + 1).min(self.out[d])
        } else {
            0
        };
        if hi <= lo {
            return (lo, lo, 0);
        }
        (lo, hi, lo * s + off - p)
    }
}

/// Images at least this large (elements per batch, input plus columns) go to rayon.
const PARALLEL_MIN: usize = 1 << 14;

/// `batch` contiguous `[C, D, H, W]` images to `batch` contiguous column matrices
/// `[C·kD·kH·kW, oD·oH·oW]` (row `(c, kd, kh, kw)`, column `(od, oh, ow)`); padding reads as
/// zero.
pub fn im2col<T: Element>(x: &[T], batch: usize, w: &Window) -> Vec<T> {
    let (img, cols) = (w.image_len(), w.col_rows() * w.col_cols());
    let mut out = vec![T::zero(); batch * cols];
    if cols == 0 {
        return out;
    }
    let one = |(src, dst): (&[T], &mut [T])| im2col_one(src, dst, w);
    if batch > 1 && batch * (img + cols) >= PARALLEL_MIN {
        x.par_chunks(img.max(1))
            .zip(out.par_chunks_mut(cols))
            .for_each(one);
    } else {
        x.chunks(img.max(1)).zip(out.chunks_mut(cols)).for_each(one);
    }
    out
}

// im2col and col2im walk the column matrix the same way: row (c, kd, kh, kw), then each
// output line (od, oh) whose input line lies inside the image (lines in the padding stay
// zero / are dropped), then the line's positions ow. The inside ranges depend only on the
// kernel offset, so they are worked out once per offset, not per line. They are written out
// twice, as plain functions of their slices, which the compiler knows do not overlap the
// window, so the window's numbers stay in registers (one walk shared through a closure ran up
// to 2.5× slower).

fn im2col_one<T: Element>(src: &[T], dst: &mut [T], w: &Window) {
    let [kd, kh, kw] = w.kernel;
    let [od, oh, ow] = w.out;
    let [_, height, width] = w.size;
    let sw = w.stride[2];
    let plane = w.size.iter().product::<usize>();
    let line_len = od * oh * ow;
    let [sa, si, _] = w.stride;
    // A 2-D window at stride 1 whose output is as wide as the input ("same" padding): each
    // kernel offset's column row is the plane shifted, copied in one piece.
    let same_plane = w.size[0] == 1 && od == 1 && si == 1 && sw == 1 && ow == width;
    let mut row = 0;
    for c in 0..w.channels {
        let src = &src[c * plane..(c + 1) * plane];
        for ka in 0..kd {
            let (a_lo, a_hi, a0) = w.inside(0, ka);
            for ki in 0..kh {
                let (i_lo, i_hi, i0) = w.inside(1, ki);
                for kj in 0..kw {
                    let (lo, hi, j0) = w.inside(2, kj);
                    let dst_row = &mut dst[row * line_len..(row + 1) * line_len];
                    if same_plane {
                        shifted_plane(src, dst_row, ow, (i_lo, i_hi, i0), (lo, hi, j0));
                        row += 1;
                        continue;
                    }
                    for oa in a_lo..a_hi {
                        let a = a0 + (oa - a_lo) * sa;
                        for oi in i_lo..i_hi {
                            let i = i0 + (oi - i_lo) * si;
                            let at = (a * height + i) * width;
                            let src_row = &src[at..at + width];
                            let o = (oa * oh + oi) * ow;
                            let dst = &mut dst_row[o + lo..o + hi];
                            if sw == 1 {
                                dst.copy_from_slice(&src_row[j0..j0 + (hi - lo)]);
                            } else {
                                for (q, d) in dst.iter_mut().enumerate() {
                                    *d = src_row[j0 + q * sw];
                                }
                            }
                        }
                    }
                    row += 1;
                }
            }
        }
    }
}

/// One column row of a "same"-width, stride-1 2-D window: output position `(oi, oj)` reads
/// input `(i0 + oi − i_lo, j0 + oj − lo)` for `oi` in `i_lo..i_hi`, `oj` in `lo..hi`, and
/// zero elsewhere. With rows of equal width in and out, the valid rectangle is one run of
/// the plane, so it is copied whole; the columns outside `lo..hi` that the run covers (they
/// picked up the neighbouring rows' ends) are zeroed after.
fn shifted_plane<T: Element>(
    src: &[T],
    dst: &mut [T],
    width: usize,
    (i_lo, i_hi, i0): (usize, usize, usize),
    (lo, hi, j0): (usize, usize, usize),
) {
    if i_hi <= i_lo || hi <= lo {
        return;
    }
    let (start, end) = (i_lo * width + lo, (i_hi - 1) * width + hi);
    let from = i0 * width + j0;
    dst[start..end].copy_from_slice(&src[from..from + (end - start)]);
    for oi in i_lo..i_hi {
        let line = &mut dst[oi * width..(oi + 1) * width];
        line[..lo].fill(T::zero());
        line[hi..].fill(T::zero());
    }
}

/// The adjoint of [`im2col`]: `batch` column matrices summed back into `batch` `[C, D, H, W]`
/// images (overlapping windows accumulate; entries that fell in the padding are dropped).
pub fn col2im<T: Element + std::ops::Add<Output = T>>(
    cols: &[T],
    batch: usize,
    w: &Window,
) -> Vec<T> {
    let (img, len) = (w.image_len(), w.col_rows() * w.col_cols());
    let mut out = vec![T::zero(); batch * img];
    if img == 0 || len == 0 {
        return out;
    }
    let one = |(src, dst): (&[T], &mut [T])| col2im_one(src, dst, w);
    if batch > 1 && batch * (img + len) >= PARALLEL_MIN {
        cols.par_chunks(len)
            .zip(out.par_chunks_mut(img))
            .for_each(one);
    } else {
        cols.chunks(len).zip(out.chunks_mut(img)).for_each(one);
    }
    out
}

fn col2im_one<T: Element + std::ops::Add<Output = T>>(src: &[T], dst: &mut [T], w: &Window) {
    let [kd, kh, kw] = w.kernel;
    let [od, oh, ow] = w.out;
    let [_, height, width] = w.size;
    let sw = w.stride[2];
    let plane = w.size.iter().product::<usize>();
    let line_len = od * oh * ow;
    let [sa, si, _] = w.stride;
    let mut row = 0;
    for c in 0..w.channels {
        let dst = &mut dst[c * plane..(c + 1) * plane];
        for ka in 0..kd {
            let (a_lo, a_hi, a0) = w.inside(0, ka);
            for ki in 0..kh {
                let (i_lo, i_hi, i0) = w.inside(1, ki);
                for kj in 0..kw {
                    let (lo, hi, j0) = w.inside(2, kj);
                    let src_row = &src[row * line_len..(row + 1) * line_len];
                    for oa in a_lo..a_hi {
                        let a = a0 + (oa - a_lo) * sa;
                        for oi in i_lo..i_hi {
                            let i = i0 + (oi - i_lo) * si;
                            let at = (a * height + i) * width;
                            let dst_row = &mut dst[at..at + width];
                            let o = (oa * oh + oi) * ow;
                            let src = &src_row[o + lo..o + hi];
                            if sw == 1 {
                                let dst = &mut dst_row[j0..j0 + (hi - lo)];
                                dst.iter_mut().zip(src).for_each(|(d, &v)| *d = *d + v);
                            } else {
                                for (q, &v) in src.iter().enumerate() {
                                    let j = j0 + q * sw;
                                    dst_row[j] = dst_row[j] + v;
                                }
                            }
                        }
                    }
                    row += 1;
                }
            }
        }
    }
}

/// A grouped convolution's sizes for the per-image kernels below: `win` slides over the
/// whole input (all `C_in` channels), so the column rows of group `g` are one contiguous block.
#[derive(Clone, Copy, Debug)]
pub struct ConvShape {
    pub win: Window,
    pub groups: usize,
    pub batch: usize,
    pub c_out: usize,
}

impl ConvShape {
    /// (column rows per group, output channels per group, output positions).
    fn per_group(&self) -> (usize, usize, usize) {
        let g = self.groups;
        (self.win.col_rows() / g, self.c_out / g, self.win.col_cols())
    }

    /// Images run one per thread when there are enough to share out; otherwise one after
    /// another, each product using every thread.
    fn per_image_threads(&self) -> bool {
        self.batch >= rayon::current_num_threads().max(2)
    }

    /// Runs `f(image, scratch)` over the images, with one column scratch per task (reused
    /// across that task's images: the padding entries im2col never writes stay zero).
    fn each_image<A: Element, B: Sync>(
        &self,
        outs: &mut [A],
        out_len: usize,
        ins: &[B],
        in_len: usize,
        scratch: usize,
        f: impl Fn(&mut [A], &[B], &mut Vec<A>) + Sync + Send,
    ) {
        if outs.is_empty() || out_len == 0 {
            return;
        }
        let new = || vec![A::zero(); scratch];
        if self.per_image_threads() {
            outs.par_chunks_mut(out_len)
                .zip(ins.par_chunks(in_len.max(1)))
                .for_each_init(new, |cols, (o, i)| f(o, i, cols));
        } else {
            let mut cols = new();
            for (o, i) in outs.chunks_mut(out_len).zip(ins.chunks(in_len.max(1))) {
                f(o, i, &mut cols);
            }
        }
    }
}

/// The convolution `[N, C_in, *size]` ⊛ `w` `[C_out, C_in/g, *k]` → `[N, C_out, *out]`: per
/// image, im2col into a scratch matrix and one product per group, never materialising the
/// whole batch's columns.
pub fn conv_forward<T: Float>(x: &[T], w: &[T], s: &ConvShape) -> Vec<T> {
    let (rg, og, l) = s.per_group();
    let single = s.per_image_threads();
    let mut out = vec![T::zero(); s.batch * s.c_out * l];
    let scratch = s.win.col_rows() * l;
    s.each_image(
        &mut out,
        s.c_out * l,
        x,
        s.win.image_len(),
        scratch,
        |o, xi, cols| {
            im2col_one(xi, cols, &s.win);
            for g in 0..s.groups {
                product(
                    (og, l, rg),
                    &mut o[g * og * l..(g + 1) * og * l],
                    false,
                    &w[g * og * rg..],
                    (rg, 1),
                    &cols[g * rg * l..],
                    (l, 1),
                    single,
                );
            }
        },
    );
    out
}

/// ∂L/∂x of [`conv_forward`] from `g` `[N, C_out, *out]`: per image, `w_gᵀ·g` into the
/// scratch, then col2im.
pub fn conv_grad_input<T: Float>(g: &[T], w: &[T], s: &ConvShape) -> Vec<T> {
    let (rg, og, l) = s.per_group();
    let single = s.per_image_threads();
    let img = s.win.image_len();
    let mut dx = vec![T::zero(); s.batch * img];
    let scratch = s.win.col_rows() * l;
    s.each_image(&mut dx, img, g, s.c_out * l, scratch, |dxi, gi, cols| {
        for grp in 0..s.groups {
            product(
                (rg, l, og),
                &mut cols[grp * rg * l..(grp + 1) * rg * l],
                false,
                &w[grp * og * rg..],
                (1, rg),
                &gi[grp * og * l..],
                (l, 1),
                single,
            );
        }
        col2im_one(cols, dxi, &s.win);
    });
    dx
}

/// Images per partial sum of [`conv_grad_weight`]: the batch is cut into fixed blocks (not
/// per thread), and their sums added in order, so the result does not depend on scheduling.
const WEIGHT_BLOCKS: usize = 8;

/// ∂L/∂w of [`conv_forward`], `[C_out, C_in/g·k]`: Σ over images of `g·colsᵀ`, each block
/// of images accumulating into its own buffer, the blocks summed in order.
pub fn conv_grad_weight<T: Float>(g: &[T], x: &[T], s: &ConvShape) -> Vec<T> {
    let (rg, og, l) = s.per_group();
    let img = s.win.image_len();
    let size = s.c_out * rg;
    if s.batch == 0 || size == 0 {
        return vec![T::zero(); size];
    }
    let per_block = s.batch.div_ceil(WEIGHT_BLOCKS);
    let blocks: Vec<usize> = (0..s.batch.div_ceil(per_block)).collect();
    let block = |&b: &usize| {
        let mut acc = vec![T::zero(); size];
        let mut cols = vec![T::zero(); s.win.col_rows() * l];
        for n in b * per_block..((b + 1) * per_block).min(s.batch) {
            let (xi, gi) = (
                &x[n * img..(n + 1) * img],
                &g[n * s.c_out * l..(n + 1) * s.c_out * l],
            );
            im2col_one(xi, &mut cols, &s.win);
            for grp in 0..s.groups {
                product(
                    (og, rg, l),
                    &mut acc[grp * og * rg..(grp + 1) * og * rg],
                    true,
                    &gi[grp * og * l..],
                    (l, 1),
                    &cols[grp * rg * l..],
                    (1, l),
                    blocks.len() > 1,
                );
            }
        }
        acc
    };
    let partials: Vec<Vec<T>> = if blocks.len() > 1 {
        blocks.par_iter().map(block).collect()
    } else {
        blocks.iter().map(block).collect()
    };
    let mut parts = partials.into_iter();
    let mut dw = parts.next().expect("at least one block");
    for p in parts {
        dw.iter_mut().zip(&p).for_each(|(a, &b)| *a = *a + b);
    }
    dw
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(size: [usize; 3], k: usize, s: usize, p: usize, spatial: usize) -> Window {
        let mut kernel = [1; 3];
        let mut pads = [0; 3];
        let mut stride = [1; 3];
        for d in 3 - spatial..3 {
            (kernel[d], pads[d], stride[d]) = (k, p, s);
        }
        let out = [0, 1, 2].map(|d| (size[d] + 2 * pads[d] - kernel[d]) / stride[d] + 1);
        Window {
            channels: 1,
            size,
            kernel,
            stride,
            dilation: [1; 3],
            pad_before: pads,
            pad_after: pads,
            out,
            spatial,
        }
    }

    #[test]
    fn im2col_lays_each_window_out_as_a_column() {
        let x: Vec<f64> = (1..=9).map(f64::from).collect();
        let w = window([1, 3, 3], 2, 1, 0, 2);
        let cols = im2col(&x, 1, &w);
        // Rows: kernel offsets (0,0), (0,1), (1,0), (1,1); columns: the four windows.
        assert_eq!(
            cols,
            vec![
                1., 2., 4., 5., 2., 3., 5., 6., 4., 5., 7., 8., 5., 6., 8., 9.
            ]
        );
    }

    #[test]
    fn im2col_of_a_volume() {
        // A 2×2×2 volume holding 1..8 and a 2×2×2 kernel: one window, every element once,
        // in (d, h, w) order.
        let x: Vec<f64> = (1..=8).map(f64::from).collect();
        let w = window([2, 2, 2], 2, 1, 0, 3);
        assert_eq!(im2col(&x, 1, &w), x);
        // Padding 1, stride 2: a 2×2×2 output; the first window (kernel offsets 0..2 from −1)
        // sees only the element 1, at its last offset.
        let w = window([2, 2, 2], 2, 2, 1, 3);
        assert_eq!(w.out, [2, 2, 2]);
        let cols = im2col(&x, 1, &w);
        let first: Vec<f64> = (0..8).map(|r| cols[r * 8]).collect();
        assert_eq!(first, vec![0., 0., 0., 0., 0., 0., 0., 1.]);
    }

    #[test]
    fn im2col_matches_the_definition_with_same_padding() {
        // Stride 1 with the output as wide as the input takes the shifted-plane copy; the
        // scratch is filled twice (from two different images), as conv_forward reuses it.
        for (k, before, after, dilation) in [(3, 1, 1, 1), (2, 0, 1, 1), (5, 2, 2, 1), (3, 2, 2, 2)]
        {
            let (c, h, wd) = (2, 5, 6);
            let out_h = h + before + after - dilation * (k - 1);
            let win = Window {
                channels: c,
                size: [1, h, wd],
                kernel: [1, k, k],
                stride: [1; 3],
                dilation: [1, dilation, dilation],
                pad_before: [0, before, before],
                pad_after: [0, after, after],
                out: [1, out_h, wd],
                spatial: 2,
            };
            let mut cols = vec![0.0; win.col_rows() * win.col_cols()];
            for seed in [0.3, 0.7] {
                let x: Vec<f64> = (0..c * h * wd).map(|i| (i as f64 * seed).sin()).collect();
                im2col_one(&x, &mut cols, &win);
                for (r, line) in cols.chunks(win.col_cols()).enumerate() {
                    let (ch, ki, kj) = (r / (k * k), r / k % k, r % k);
                    for (q, &got) in line.iter().enumerate() {
                        let (oi, oj) = (q / wd, q % wd);
                        let i = (oi + ki * dilation).checked_sub(before).filter(|&i| i < h);
                        let j = (oj + kj * dilation).checked_sub(before).filter(|&j| j < wd);
                        let want = match (i, j) {
                            (Some(i), Some(j)) => x[(ch * h + i) * wd + j],
                            _ => 0.0,
                        };
                        assert_eq!(
                            got, want,
                            "k {k} pads {before},{after}: row {r}, column {q}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        // <im2col(x), c> == <x, col2im(c)> for any x, c.
        for (size, spatial) in [([1, 4, 5], 2), ([3, 4, 5], 3), ([1, 1, 7], 1)] {
            let w = window(size, 3, 2, 1, spatial);
            let n: usize = size.iter().product();
            let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
            let c: Vec<f64> = (0..w.col_rows() * w.col_cols())
                .map(|i| (i as f64 * 0.71).cos())
                .collect();
            let lhs: f64 = im2col(&x, 1, &w).iter().zip(&c).map(|(a, b)| a * b).sum();
            let rhs: f64 = x.iter().zip(col2im(&c, 1, &w)).map(|(a, b)| a * b).sum();
            assert!((lhs - rhs).abs() < 1e-12, "{size:?}: {lhs} vs {rhs}");
        }
    }
}
