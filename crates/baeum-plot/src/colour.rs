//! Colours: a palette for series and colour maps for heat maps.

/// Distinct colours for up to ten series (Tableau 10), cycled beyond.
pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// Maps a value in [0, 1] to a colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colormap {
    /// Perceptually uniform dark purple → green → yellow (matplotlib's default).
    Viridis,
    /// White → dark blue: counts, where zero should read as empty.
    Blues,
    /// Blue → green → yellow → red: heat laid over an image (Grad-CAM's usual look).
    Jet,
    /// Black → white.
    Gray,
}

/// Anchor colours of each map at evenly spaced positions, interpolated linearly between.
fn stops(map: Colormap) -> &'static [[u8; 3]] {
    match map {
        Colormap::Viridis => &[
            [68, 1, 84],
            [59, 82, 139],
            [33, 145, 140],
            [94, 201, 98],
            [253, 231, 37],
        ],
        Colormap::Blues => &[
            [247, 251, 255],
            [158, 202, 225],
            [49, 130, 189],
            [8, 48, 107],
        ],
        Colormap::Jet => &[
            [0, 0, 143],
            [0, 0, 255],
            [0, 255, 255],
            [255, 255, 0],
            [255, 0, 0],
            [128, 0, 0],
        ],
        Colormap::Gray => &[[0, 0, 0], [255, 255, 255]],
    }
}

impl Colormap {
    /// The colour of `t` (clamped to [0, 1]; NaN reads as 0) as `[r, g, b]`.
    pub fn rgb(self, t: f64) -> [u8; 3] {
        let s = stops(self);
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let pos = t * (s.len() - 1) as f64;
        let i = (pos.floor() as usize).min(s.len() - 2);
        let f = pos - i as f64;
        let mut out = [0u8; 3];
        for (k, o) in out.iter_mut().enumerate() {
            let (a, b) = (s[i][k] as f64, s[i + 1][k] as f64);
            *o = (a + (b - a) * f).round() as u8;
        }
        out
    }

    /// The colour of `t` as `#rrggbb`.
    pub fn hex(self, t: f64) -> String {
        let [r, g, b] = self.rgb(t);
        format!("#{r:02x}{g:02x}{b:02x}")
    }

    /// Black or white, whichever reads better on `t`'s colour.
    pub fn text_colour(self, t: f64) -> &'static str {
        let [r, g, b] = self.rgb(t);
        let luma = 0.299 * r as f64 + 0.587 * g as f64 + 0.114 * b as f64;
        if luma > 140.0 { "black" } else { "white" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_midpoints_interpolate() {
        assert_eq!(Colormap::Gray.rgb(0.0), [0, 0, 0]);
        assert_eq!(Colormap::Gray.rgb(1.0), [255, 255, 255]);
        assert_eq!(Colormap::Gray.rgb(0.5), [128, 128, 128]);
        assert_eq!(Colormap::Viridis.hex(0.0), "#440154");
        assert_eq!(Colormap::Viridis.hex(1.0), "#fde725");
        assert_eq!(Colormap::Viridis.rgb(0.25), [59, 82, 139]);
        assert_eq!(Colormap::Blues.rgb(2.0), [8, 48, 107], "clamped");
        assert_eq!(Colormap::Jet.rgb(f64::NAN), [0, 0, 143]);
        assert_eq!(Colormap::Blues.text_colour(0.0), "black");
        assert_eq!(Colormap::Blues.text_colour(1.0), "white");
    }
}
