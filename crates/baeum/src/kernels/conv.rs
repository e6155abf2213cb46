//! Convolution kernels: im2col (a sliding window's elements laid out as columns, so that a
//! convolution becomes one matrix product) and its adjoint col2im, for 2-D planes with
//! stride, dilation and zero padding that may differ before and after (PyTorch's
//! `padding="same"` with an even kernel pads one more on the right).

use rayon::prelude::*;

use crate::tensor::Element;

/// The geometry of a 2-D sliding window over `[channels, height, width]` planes. A 1-D
/// window is the same with height 1 and a kernel of height 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window2d {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub dilation: [usize; 2],
    /// Zeros added before each spatial dimension (top, left).
    pub pad_before: [usize; 2],
    /// Zeros added after each spatial dimension (bottom, right).
    pub pad_after: [usize; 2],
    /// Output positions along each spatial dimension.
    pub out: [usize; 2],
}

impl Window2d {
    /// Rows of the column matrix: channels · kernel height · kernel width.
    pub fn col_rows(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }

    /// Columns of the column matrix: one per output position.
    pub fn col_cols(&self) -> usize {
        self.out[0] * self.out[1]
    }

    /// Elements of one input image.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// The input index read by output position `o` at kernel offset `k` along spatial
    /// dimension `d`, or `None` where it falls in the padding.
    #[inline]
    fn source(&self, d: usize, o: usize, k: usize) -> Option<usize> {
        let size = if d == 0 { self.height } else { self.width };
        let i = (o * self.stride[d] + k * self.dilation[d]).checked_sub(self.pad_before[d])?;
        (i < size).then_some(i)
    }
}

/// Images at least this large (elements per batch, input plus columns) go to rayon.
const PARALLEL_MIN: usize = 1 << 14;

/// `batch` contiguous `[C, H, W]` images to `batch` contiguous column matrices
/// `[C·kH·kW, oH·oW]` (row `(c, kh, kw)`, column `(oh, ow)`); padding reads as zero.
pub fn im2col<T: Element>(x: &[T], batch: usize, w: &Window2d) -> Vec<T> {
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

fn im2col_one<T: Element>(src: &[T], dst: &mut [T], w: &Window2d) {
    let [kh, kw] = w.kernel;
    let [oh, ow] = w.out;
    let plane = w.height * w.width;
    let mut row = 0;
    for c in 0..w.channels {
        let src = &src[c * plane..(c + 1) * plane];
        for ki in 0..kh {
            for kj in 0..kw {
                let dst_row = &mut dst[row * oh * ow..(row + 1) * oh * ow];
                for oi in 0..oh {
                    let Some(i) = w.source(0, oi, ki) else {
                        continue; // the row stays zero
                    };
                    let src_row = &src[i * w.width..(i + 1) * w.width];
                    let dst = &mut dst_row[oi * ow..(oi + 1) * ow];
                    for (oj, d) in dst.iter_mut().enumerate() {
                        if let Some(j) = w.source(1, oj, kj) {
                            *d = src_row[j];
                        }
                    }
                }
                row += 1;
            }
        }
    }
}

/// The adjoint of [`im2col`]: `batch` column matrices summed back into `batch` `[C, H, W]`
/// images (overlapping windows accumulate; entries that fell in the padding are dropped).
pub fn col2im<T: Element + std::ops::Add<Output = T>>(
    cols: &[T],
    batch: usize,
    w: &Window2d,
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

fn col2im_one<T: Element + std::ops::Add<Output = T>>(src: &[T], dst: &mut [T], w: &Window2d) {
    let [kh, kw] = w.kernel;
    let [oh, ow] = w.out;
    let plane = w.height * w.width;
    let mut row = 0;
    for c in 0..w.channels {
        let dst = &mut dst[c * plane..(c + 1) * plane];
        for ki in 0..kh {
            for kj in 0..kw {
                let src_row = &src[row * oh * ow..(row + 1) * oh * ow];
                for oi in 0..oh {
                    let Some(i) = w.source(0, oi, ki) else {
                        continue;
                    };
                    let dst_row = &mut dst[i * w.width..(i + 1) * w.width];
                    for (oj, &v) in src_row[oi * ow..(oi + 1) * ow].iter().enumerate() {
                        if let Some(j) = w.source(1, oj, kj) {
                            dst_row[j] = dst_row[j] + v;
                        }
                    }
                }
                row += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(h: usize, w: usize, k: usize, s: usize, p: usize) -> Window2d {
        let o = |n: usize| (n + 2 * p - k) / s + 1;
        Window2d {
            channels: 1,
            height: h,
            width: w,
            kernel: [k, k],
            stride: [s, s],
            dilation: [1, 1],
            pad_before: [p, p],
            pad_after: [p, p],
            out: [o(h), o(w)],
        }
    }

    #[test]
    fn im2col_lays_each_window_out_as_a_column() {
        let x: Vec<f64> = (1..=9).map(f64::from).collect();
        let w = window(3, 3, 2, 1, 0);
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
    fn col2im_is_the_adjoint_of_im2col() {
        // <im2col(x), c> == <x, col2im(c)> for any x, c.
        let w = window(4, 5, 3, 2, 1);
        let x: Vec<f64> = (0..20).map(|i| (i as f64 * 0.37).sin()).collect();
        let c: Vec<f64> = (0..w.col_rows() * w.col_cols())
            .map(|i| (i as f64 * 0.71).cos())
            .collect();
        let lhs: f64 = im2col(&x, 1, &w).iter().zip(&c).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(col2im(&c, 1, &w)).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
    }
}
