//! Heat maps: a matrix as coloured cells, with row and column labels and, optionally, the
//! value written in each cell (a confusion matrix: rows are true classes, columns predicted).

use crate::colour::Colormap;
use crate::svg::{Anchor, Svg};

#[derive(Clone, Debug)]
pub struct Heatmap {
    pub title: String,
    /// Rows of equal length.
    pub values: Vec<Vec<f64>>,
    pub row_labels: Vec<String>,
    pub col_labels: Vec<String>,
    pub x_label: String,
    pub y_label: String,
    pub colormap: Colormap,
    /// Write each value in its cell (integers without decimals).
    pub annotate: bool,
    /// Colour each row by its share of the row's total (a confusion matrix's recall view),
    /// so rare classes are as readable as common ones; the written values stay raw.
    pub normalize_rows: bool,
    /// The side of a cell in pixels.
    pub cell: f64,
}

impl Heatmap {
    pub fn new(title: impl Into<String>, values: Vec<Vec<f64>>) -> Heatmap {
        Heatmap {
            title: title.into(),
            values,
            row_labels: Vec::new(),
            col_labels: Vec::new(),
            x_label: String::new(),
            y_label: String::new(),
            colormap: Colormap::Blues,
            annotate: true,
            normalize_rows: false,
            cell: 36.0,
        }
    }

    /// A confusion matrix `counts[true][predicted]` with the class names on both axes.
    pub fn confusion(title: impl Into<String>, counts: &[Vec<u64>], classes: &[String]) -> Heatmap {
        let values = counts
            .iter()
            .map(|r| r.iter().map(|&c| c as f64).collect())
            .collect();
        let mut h = Heatmap::new(title, values);
        h.row_labels = classes.to_vec();
        h.col_labels = classes.to_vec();
        h.x_label = "predicted".into();
        h.y_label = "true".into();
        h.normalize_rows = true;
        h
    }

    pub fn labels(mut self, rows: Vec<String>, cols: Vec<String>) -> Heatmap {
        self.row_labels = rows;
        self.col_labels = cols;
        self
    }

    pub fn axes(mut self, x: impl Into<String>, y: impl Into<String>) -> Heatmap {
        self.x_label = x.into();
        self.y_label = y.into();
        self
    }

    pub fn colormap(mut self, map: Colormap) -> Heatmap {
        self.colormap = map;
        self
    }

    /// Each cell's position on the colour scale, in [0, 1].
    pub fn shades(&self) -> Vec<Vec<f64>> {
        let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
        if self.normalize_rows {
            return self
                .values
                .iter()
                .map(|r| {
                    let total: f64 = r.iter().map(|&v| finite(v)).sum();
                    r.iter()
                        .map(|&v| if total > 0.0 { finite(v) / total } else { 0.0 })
                        .collect()
                })
                .collect();
        }
        let all = self
            .values
            .iter()
            .flatten()
            .copied()
            .filter(|v| v.is_finite());
        let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        self.values
            .iter()
            .map(|r| {
                r.iter()
                    .map(|&v| {
                        if !v.is_finite() || hi <= lo {
                            0.0
                        } else {
                            (v - lo) / (hi - lo)
                        }
                    })
                    .collect()
            })
            .collect()
    }

    pub fn to_svg(&self) -> String {
        let rows = self.values.len();
        let cols = self.values.iter().map(Vec::len).max().unwrap_or(0);
        let longest =
            |labels: &[String]| labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        let left = 40.0 + 7.0 * longest(&self.row_labels) as f64;
        let top = 40.0;
        let bottom = 40.0 + 6.0 * longest(&self.col_labels).min(16) as f64;
        let c = self.cell;
        let (w, h) = (
            left + c * cols as f64 + 20.0,
            top + c * rows as f64 + bottom,
        );
        let mut svg = Svg::new(w.max(200.0), h);
        svg.text(
            left + c * cols as f64 / 2.0,
            22.0,
            &self.title,
            Anchor::Middle,
            14.0,
            "black",
        );
        let shades = self.shades();
        for (i, row) in self.values.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let (x, y) = (left + c * j as f64, top + c * i as f64);
                let t = shades[i][j];
                svg.rect(x, y, c, c, &self.colormap.hex(t), 1.0);
                if self.annotate {
                    let text = if v == v.round() && v.abs() < 1e9 {
                        format!("{}", v as i64)
                    } else {
                        format!("{v:.2}")
                    };
                    let size = (c * 0.33).min(12.0);
                    svg.text(
                        x + c / 2.0,
                        y + c / 2.0 + size / 3.0,
                        &text,
                        Anchor::Middle,
                        size,
                        self.colormap.text_colour(t),
                    );
                }
            }
        }
        svg.frame(left, top, c * cols as f64, c * rows as f64, "#333");
        for (i, l) in self.row_labels.iter().enumerate() {
            let y = top + c * i as f64 + c / 2.0 + 4.0;
            svg.text(left - 6.0, y, l, Anchor::End, 11.0, "#333");
        }
        for (j, l) in self.col_labels.iter().enumerate() {
            let x = left + c * j as f64 + c / 2.0;
            let short: String = l.chars().take(16).collect();
            svg.text(
                x,
                top + c * rows as f64 + 14.0,
                &short,
                Anchor::Middle,
                10.0,
                "#333",
            );
        }
        svg.text(
            left + c * cols as f64 / 2.0,
            h - 8.0,
            &self.x_label,
            Anchor::Middle,
            12.0,
            "black",
        );
        svg.vertical_text(14.0, top + c * rows as f64 / 2.0, &self.y_label, 12.0);
        svg.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_matrix_shades_by_row_share_and_writes_counts() {
        let classes = vec!["cat".to_string(), "dog".to_string()];
        let h = Heatmap::confusion("confusion", &[vec![8, 2], vec![0, 90]], &classes);
        assert_eq!(h.shades(), vec![vec![0.8, 0.2], vec![0.0, 1.0]]);
        let svg = h.to_svg();
        let cells = svg
            .lines()
            .filter(|l| l.starts_with("<rect x=") && !l.contains("fill=\"none\""))
            .count();
        assert_eq!(cells, 4, "one cell per entry");
        for n in ["8", "2", "0", "90"] {
            assert!(svg.contains(&format!(">{n}</text>")), "{n}");
        }
        assert!(svg.contains(">predicted</text>") && svg.contains(">true</text>"));
        // The 90 sits on the darkest blue, written in white.
        assert!(svg.contains("fill=\"#08306b\""));
        assert!(svg.contains("fill=\"white\">90</text>"));
    }

    #[test]
    fn plain_values_scale_between_min_and_max() {
        let h = Heatmap::new("m", vec![vec![1.0, 3.0], vec![f64::NAN, 2.0]]);
        assert_eq!(h.shades(), vec![vec![0.0, 1.0], vec![0.0, 0.5]]);
    }
}
