//! Image grids: small images (grey or RGB, values in [0, 1]) with captions, each optionally
//! under a heat map (saliency, Grad-CAM), drawn as SVG cells so the figure stays one file.

use crate::colour::Colormap;
use crate::svg::{Anchor, Svg};

/// One image, `channels × height × width` values in [0, 1], channel-major (PyTorch's layout).
#[derive(Clone, Debug, PartialEq)]
pub struct GridImage {
    pub pixels: Vec<f32>,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    /// Lines under the image (e.g. "true: 3", "7 0.81").
    pub caption: Vec<String>,
    /// A `height × width` map in [0, 1] drawn over the image in the jet colours.
    pub overlay: Option<Vec<f32>>,
    /// Frame the image in red (a wrong prediction).
    pub highlight: bool,
}

impl GridImage {
    /// Panics unless `pixels` holds `channels·height·width` values and `channels` is 1 or 3.
    pub fn new(pixels: Vec<f32>, channels: usize, height: usize, width: usize) -> GridImage {
        assert!(
            channels == 1 || channels == 3,
            "GridImage: {channels} channels, expected 1 (grey) or 3 (RGB)"
        );
        assert_eq!(
            pixels.len(),
            channels * height * width,
            "GridImage: {} values for a {channels}×{height}×{width} image",
            pixels.len()
        );
        GridImage {
            pixels,
            channels,
            height,
            width,
            caption: Vec::new(),
            overlay: None,
            highlight: false,
        }
    }

    pub fn caption(mut self, line: impl Into<String>) -> GridImage {
        self.caption.push(line.into());
        self
    }

    /// Panics unless the map has `height × width` values.
    pub fn overlay(mut self, map: Vec<f32>) -> GridImage {
        assert_eq!(
            map.len(),
            self.height * self.width,
            "GridImage: overlay of {} values for a {}×{} image",
            map.len(),
            self.height,
            self.width
        );
        self.overlay = Some(map);
        self
    }

    pub fn highlight(mut self, on: bool) -> GridImage {
        self.highlight = on;
        self
    }

    /// The colour of pixel (y, x) as `#rrggbb` (values clamped to [0, 1]).
    pub fn pixel_hex(&self, y: usize, x: usize) -> String {
        let plane = self.height * self.width;
        let at = |c: usize| {
            let v = self.pixels[c * plane + y * self.width + x];
            let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
            (v * 255.0).round() as u8
        };
        let (r, g, b) = if self.channels == 1 {
            (at(0), at(0), at(0))
        } else {
            (at(0), at(1), at(2))
        };
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

/// Images in rows of `columns`, each drawn `scale` pixels per image pixel.
#[derive(Clone, Debug)]
pub struct ImageGrid {
    pub title: String,
    pub images: Vec<GridImage>,
    pub columns: usize,
    pub scale: f64,
    /// How opaque the overlay is (0.5 lets the image show through).
    pub overlay_opacity: f64,
}

impl ImageGrid {
    pub fn new(title: impl Into<String>, images: Vec<GridImage>) -> ImageGrid {
        ImageGrid {
            title: title.into(),
            images,
            columns: 8,
            scale: 3.0,
            overlay_opacity: 0.5,
        }
    }

    pub fn columns(mut self, columns: usize) -> ImageGrid {
        self.columns = columns.max(1);
        self
    }

    pub fn scale(mut self, scale: f64) -> ImageGrid {
        self.scale = scale;
        self
    }

    pub fn to_svg(&self) -> String {
        let cell_w = self
            .images
            .iter()
            .map(|i| i.width as f64 * self.scale)
            .fold(60.0, f64::max);
        let img_h = self
            .images
            .iter()
            .map(|i| i.height as f64 * self.scale)
            .fold(0.0, f64::max);
        let lines = self
            .images
            .iter()
            .map(|i| i.caption.len())
            .max()
            .unwrap_or(0);
        let cell_h = img_h + 14.0 * lines as f64 + 12.0;
        let cols = self.columns.min(self.images.len()).max(1);
        let rows = self.images.len().div_ceil(cols);
        let pad = 10.0;
        let top = 34.0;
        let w = pad + cols as f64 * (cell_w + pad);
        let h = top + rows as f64 * cell_h + pad;
        let mut svg = Svg::new(w.max(200.0), h);
        svg.text(w / 2.0, 22.0, &self.title, Anchor::Middle, 14.0, "black");
        for (k, img) in self.images.iter().enumerate() {
            let x0 = pad + (k % cols) as f64 * (cell_w + pad);
            let y0 = top + (k / cols) as f64 * cell_h;
            let s = self.scale;
            for y in 0..img.height {
                for x in 0..img.width {
                    let (px, py) = (x0 + x as f64 * s, y0 + y as f64 * s);
                    svg.rect(px, py, s, s, &img.pixel_hex(y, x), 1.0);
                    if let Some(map) = &img.overlay {
                        let t = map[y * img.width + x] as f64;
                        svg.rect(px, py, s, s, &Colormap::Jet.hex(t), self.overlay_opacity);
                    }
                }
            }
            let (iw, ih) = (img.width as f64 * s, img.height as f64 * s);
            if img.highlight {
                svg.frame(x0 - 1.0, y0 - 1.0, iw + 2.0, ih + 2.0, "#d62728");
            }
            for (l, line) in img.caption.iter().enumerate() {
                let ty = y0 + ih + 13.0 + 14.0 * l as f64;
                svg.text(x0, ty, line, Anchor::Start, 11.0, "black");
            }
        }
        svg.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_and_rgb_pixels_and_overlays() {
        let grey = GridImage::new(vec![0.0, 1.0, 0.5, 2.0], 1, 2, 2).caption("true 3");
        assert_eq!(grey.pixel_hex(0, 1), "#ffffff");
        assert_eq!(grey.pixel_hex(1, 0), "#808080");
        assert_eq!(grey.pixel_hex(1, 1), "#ffffff", "clamped");
        let rgb = GridImage::new(vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0], 3, 1, 2);
        assert_eq!(rgb.pixel_hex(0, 0), "#ff0000");
        assert_eq!(rgb.pixel_hex(0, 1), "#00ff00");
        let heat = grey
            .clone()
            .overlay(vec![0.0, 0.0, 0.0, 1.0])
            .highlight(true);
        let svg = ImageGrid::new("grid", vec![grey, rgb, heat])
            .columns(2)
            .to_svg();
        // 4 + 2 + 4 pixels, 4 overlay cells, and one red frame.
        assert_eq!(svg.matches("<rect x=").count(), 14 + 1);
        assert_eq!(svg.matches("fill-opacity").count(), 4);
        assert!(svg.contains("stroke=\"#d62728\""));
        assert_eq!(svg.matches(">true 3</text>").count(), 2);
    }

    #[test]
    #[should_panic(expected = "5 values for a 1×2×2 image")]
    fn wrong_pixel_count_is_refused() {
        GridImage::new(vec![0.0; 5], 1, 2, 2);
    }
}
