//! Line charts: training curves, one polyline per series, with axes, ticks and a legend.

use crate::colour::PALETTE;
use crate::svg::{Anchor, Svg};

/// One named curve; `dashed` tells, e.g., validation from training apart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub dashed: bool,
}

impl Series {
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
            dashed: false,
        }
    }

    /// A series over x = 1, 2, 3, … (epochs).
    pub fn per_epoch(name: impl Into<String>, values: &[f64]) -> Series {
        let points = values
            .iter()
            .enumerate()
            .map(|(i, &v)| ((i + 1) as f64, v))
            .collect();
        Series::new(name, points)
    }

    pub fn dashed(mut self) -> Series {
        self.dashed = true;
        self
    }
}

/// A line chart. Non-finite points are skipped (a NaN loss leaves a gap, not a broken axis).
#[derive(Clone, Debug, Default)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// A logarithmic y axis (for losses spanning decades); non-positive values are skipped.
    pub log_y: bool,
    pub width: f64,
    pub height: f64,
}

/// "Nice" tick positions covering [lo, hi]: steps of 1, 2 or 5 × 10ᵏ, about `count` of them.
pub fn nice_ticks(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || count == 0 {
        return Vec::new();
    }
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, lo + 0.5)
    };
    let raw = (hi - lo) / count as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    // Round away the float noise of k·step (0.6000000000000001) at the step's decimals.
    let scale = 10f64.powi((-step.log10().floor()).max(0.0) as i32);
    (first..=last)
        .map(|k| (k as f64 * step * scale).round() / scale)
        .collect()
}

/// A tick label: integers without decimals, others with as few as tell them apart.
pub fn tick_label(v: f64) -> String {
    if v == v.round() && v.abs() < 1e6 {
        format!("{}", v as i64)
    } else if v.abs() >= 1e-3 && v.abs() < 1e6 {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.1e}")
    }
}

impl LineChart {
    /// An empty 640×360 chart.
    pub fn new(title: impl Into<String>) -> LineChart {
        LineChart {
            title: title.into(),
            width: 640.0,
            height: 360.0,
            ..LineChart::default()
        }
    }

    pub fn labels(mut self, x: impl Into<String>, y: impl Into<String>) -> LineChart {
        self.x_label = x.into();
        self.y_label = y.into();
        self
    }

    pub fn series(mut self, series: Series) -> LineChart {
        self.series.push(series);
        self
    }

    pub fn log_y(mut self, log_y: bool) -> LineChart {
        self.log_y = log_y;
        self
    }

    pub fn size(mut self, width: f64, height: f64) -> LineChart {
        self.width = width;
        self.height = height;
        self
    }

    /// The points that are drawn, with y mapped to log10 on a log axis.
    fn drawable(&self, s: &Series) -> Vec<(f64, f64)> {
        s.points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite() && (!self.log_y || *y > 0.0))
            .map(|&(x, y)| (x, if self.log_y { y.log10() } else { y }))
            .collect()
    }

    /// The data range over all series: (x_lo, x_hi, y_lo, y_hi), or None when nothing is drawable.
    pub fn bounds(&self) -> Option<(f64, f64, f64, f64)> {
        let pts: Vec<(f64, f64)> = self.series.iter().flat_map(|s| self.drawable(s)).collect();
        if pts.is_empty() {
            return None;
        }
        let fold = |f: fn(f64, f64) -> f64, init: f64, pick: fn(&(f64, f64)) -> f64| {
            pts.iter().map(pick).fold(init, f)
        };
        Some((
            fold(f64::min, f64::INFINITY, |p| p.0),
            fold(f64::max, f64::NEG_INFINITY, |p| p.0),
            fold(f64::min, f64::INFINITY, |p| p.1),
            fold(f64::max, f64::NEG_INFINITY, |p| p.1),
        ))
    }

    pub fn to_svg(&self) -> String {
        let (w, h) = (self.width, self.height);
        let (left, right, top, bottom) = (64.0, 150.0, 32.0, 44.0);
        let (pw, ph) = (w - left - right, h - top - bottom);
        let mut svg = Svg::new(w, h);
        svg.text(
            left + pw / 2.0,
            20.0,
            &self.title,
            Anchor::Middle,
            14.0,
            "black",
        );
        let Some((x0, x1, y0, y1)) = self.bounds() else {
            svg.text(
                left + pw / 2.0,
                top + ph / 2.0,
                "no data",
                Anchor::Middle,
                12.0,
                "gray",
            );
            return svg.finish();
        };
        // Pad the y range a little so curves don't sit on the frame.
        let pad = if y1 > y0 { (y1 - y0) * 0.05 } else { 0.5 };
        let (y0, y1) = (y0 - pad, y1 + pad);
        let (x0, x1) = if x1 > x0 {
            (x0, x1)
        } else {
            (x0 - 0.5, x0 + 0.5)
        };
        let px = |x: f64| left + (x - x0) / (x1 - x0) * pw;
        let py = |y: f64| top + (y1 - y) / (y1 - y0) * ph;
        for t in nice_ticks(y0, y1, 5) {
            let y = py(t);
            svg.line(left, y, left + pw, y, "#e6e6e6", 1.0);
            let label = if self.log_y {
                tick_label(10f64.powf(t))
            } else {
                tick_label(t)
            };
            svg.text(left - 6.0, y + 4.0, &label, Anchor::End, 11.0, "#333");
        }
        for t in nice_ticks(x0, x1, 8) {
            let x = px(t);
            svg.line(x, top + ph, x, top + ph + 4.0, "#333", 1.0);
            svg.text(
                x,
                top + ph + 17.0,
                &tick_label(t),
                Anchor::Middle,
                11.0,
                "#333",
            );
        }
        svg.frame(left, top, pw, ph, "#333");
        svg.text(
            left + pw / 2.0,
            h - 8.0,
            &self.x_label,
            Anchor::Middle,
            12.0,
            "black",
        );
        svg.vertical_text(16.0, top + ph / 2.0, &self.y_label, 12.0);
        for (i, s) in self.series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let pts: Vec<(f64, f64)> = self
                .drawable(s)
                .into_iter()
                .map(|(x, y)| (px(x), py(y)))
                .collect();
            if pts.len() == 1 {
                svg.circle(pts[0].0, pts[0].1, 3.0, colour);
            } else {
                svg.polyline(&pts, colour, 2.0, s.dashed);
            }
        }
        let legend: Vec<(&str, &str, bool)> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), PALETTE[i % PALETTE.len()], s.dashed))
            .collect();
        svg.legend(left + pw + 12.0, top + 14.0, &legend);
        svg.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers_inside_the_range() {
        assert_eq!(nice_ticks(0.0, 1.0, 5), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(nice_ticks(1.0, 10.0, 8), vec![2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(nice_ticks(0.13, 0.31, 4), vec![0.15, 0.2, 0.25, 0.3]);
        assert_eq!(nice_ticks(3.0, 3.0, 4), vec![2.5, 3.0, 3.5]);
        assert!(nice_ticks(f64::NAN, 1.0, 4).is_empty());
        assert_eq!(tick_label(0.30000000000000004), "0.3");
        assert_eq!(tick_label(12.0), "12");
        assert_eq!(tick_label(1.5e-5), "1.5e-5");
    }

    #[test]
    fn draws_one_polyline_per_series_and_skips_non_finite_points() {
        let chart = LineChart::new("loss")
            .labels("epoch", "loss")
            .series(Series::per_epoch("train", &[1.0, 0.5, f64::NAN, 0.25]))
            .series(Series::per_epoch("val", &[1.2, 0.9, 0.8, 0.85]).dashed());
        assert_eq!(chart.bounds(), Some((1.0, 4.0, 0.25, 1.2)));
        let svg = chart.to_svg();
        // Two curves and two legend swatches.
        assert_eq!(svg.matches("<polyline").count(), 4);
        assert_eq!(svg.matches("stroke-dasharray").count(), 2);
        assert!(svg.contains(">train</text>") && svg.contains(">val</text>"));
        // The NaN point is dropped: the train curve has three points.
        let train = svg.lines().find(|l| l.contains("<polyline")).unwrap();
        assert_eq!(
            train.split("points=\"").nth(1).unwrap().split(' ').count(),
            3
        );
    }

    #[test]
    fn log_axis_and_empty_chart() {
        let chart = LineChart::new("l")
            .log_y(true)
            .series(Series::per_epoch("a", &[100.0, 1.0, 0.0]));
        assert_eq!(chart.bounds(), Some((1.0, 2.0, 0.0, 2.0)));
        assert!(LineChart::new("empty").to_svg().contains("no data"));
    }
}
