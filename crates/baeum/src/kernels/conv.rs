//! Convolution kernels: im2col (a sliding window's elements laid out as columns, so that a
//! convolution becomes one matrix product) and its adjoint col2im, for 1-, 2- and 3-D inputs
//! with stride, dilation and zero padding that may differ before and after (PyTorch's
//! `padding="same"` with an even kernel pads one more on the right).

use rayon::prelude::*;

use crate::tensor::Element;

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

    /// The input index read by output position `o` at kernel offset `k` along spatial
    /// dimension `d`, or `None` where it falls in the padding.
    #[inline]
    fn source(&self, d: usize, o: usize, k: usize) -> Option<usize> {
        let i = (o * self.stride[d] + k * self.dilation[d]).checked_sub(self.pad_before[d])?;
        (i < self.size[d]).then_some(i)
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
// zero / are dropped), then the line's positions ow. They are written out twice, as plain
// functions of their slices, which the compiler knows do not overlap the window, so the
// window's numbers stay in registers (one walk shared through a closure ran up to 2.5× slower).

fn im2col_one<T: Element>(src: &[T], dst: &mut [T], w: &Window) {
    let [kd, kh, kw] = w.kernel;
    let [od, oh, ow] = w.out;
    let [_, height, width] = w.size;
    let plane = w.size.iter().product::<usize>();
    let line_len = od * oh * ow;
    let mut row = 0;
    for c in 0..w.channels {
        let src = &src[c * plane..(c + 1) * plane];
        for ka in 0..kd {
            for ki in 0..kh {
                for kj in 0..kw {
                    let dst_row = &mut dst[row * line_len..(row + 1) * line_len];
                    for oa in 0..od {
                        let Some(a) = w.source(0, oa, ka) else {
                            continue;
                        };
                        for oi in 0..oh {
                            let Some(i) = w.source(1, oi, ki) else {
                                continue;
                            };
                            let at = (a * height + i) * width;
                            let src_row = &src[at..at + width];
                            let o = (oa * oh + oi) * ow;
                            for (oj, d) in dst_row[o..o + ow].iter_mut().enumerate() {
                                if let Some(j) = w.source(2, oj, kj) {
                                    *d = src_row[j];
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
    let plane = w.size.iter().product::<usize>();
    let line_len = od * oh * ow;
    let mut row = 0;
    for c in 0..w.channels {
        let dst = &mut dst[c * plane..(c + 1) * plane];
        for ka in 0..kd {
            for ki in 0..kh {
                for kj in 0..kw {
                    let src_row = &src[row * line_len..(row + 1) * line_len];
                    for oa in 0..od {
                        let Some(a) = w.source(0, oa, ka) else {
                            continue;
                        };
                        for oi in 0..oh {
                            let Some(i) = w.source(1, oi, ki) else {
                                continue;
                            };
                            let at = (a * height + i) * width;
                            let dst_row = &mut dst[at..at + width];
                            let o = (oa * oh + oi) * ow;
                            for (oj, &v) in src_row[o..o + ow].iter().enumerate() {
                                if let Some(j) = w.source(2, oj, kj) {
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
