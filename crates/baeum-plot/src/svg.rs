//! A minimal SVG writer: shapes and text appended to a string, with escaping.

use std::fmt::Write;

/// An SVG document being drawn; [`Svg::finish`] closes it.
pub struct Svg {
    body: String,
    width: f64,
    height: f64,
}

/// Escapes text for SVG/HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How text is anchored at its position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn name(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

impl Svg {
    /// A white canvas of `width × height` pixels.
    pub fn new(width: f64, height: f64) -> Svg {
        let mut body = String::new();
        let _ = write!(
            body,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
             viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        );
        Svg {
            body,
            width,
            height,
        }
    }

    pub fn width(&self) -> f64 {
        self.width
    }

    pub fn height(&self) -> f64 {
        self.height
    }

    /// A filled rectangle; `opacity` below 1 lets what is under it show.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, opacity: f64) {
        let _ = write!(
            self.body,
            "<rect x=\"{x:.2}\" y=\"{y:.2}\" width=\"{w:.2}\" height=\"{h:.2}\" fill=\"{fill}\""
        );
        if opacity < 1.0 {
            let _ = write!(self.body, " fill-opacity=\"{opacity:.3}\"");
        }
        self.body.push_str("/>\n");
    }

    /// An unfilled rectangle outline.
    pub fn frame(&mut self, x: f64, y: f64, w: f64, h: f64, stroke: &str) {
        let _ = writeln!(
            self.body,
            "<rect x=\"{x:.2}\" y=\"{y:.2}\" width=\"{w:.2}\" height=\"{h:.2}\" fill=\"none\" \
             stroke=\"{stroke}\"/>"
        );
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64) {
        let _ = writeln!(
            self.body,
            "<line x1=\"{x1:.2}\" y1=\"{y1:.2}\" x2=\"{x2:.2}\" y2=\"{y2:.2}\" \
             stroke=\"{stroke}\" stroke-width=\"{width}\"/>"
        );
    }

    /// A polyline through `points`; `dashed` draws it in dashes.
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, width: f64, dashed: bool) {
        let pts: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{x:.2},{y:.2}"))
            .collect();
        let dash = if dashed {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let _ = writeln!(
            self.body,
            "<polyline fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{width}\"{dash} \
             points=\"{}\"/>",
            pts.join(" ")
        );
    }

    pub fn circle(&mut self, x: f64, y: f64, r: f64, fill: &str) {
        let _ = writeln!(
            self.body,
            "<circle cx=\"{x:.2}\" cy=\"{y:.2}\" r=\"{r}\" fill=\"{fill}\"/>"
        );
    }

    /// A circle's outline only.
    pub fn ring(&mut self, x: f64, y: f64, r: f64, stroke: &str) {
        let _ = writeln!(
            self.body,
            "<circle cx=\"{x:.2}\" cy=\"{y:.2}\" r=\"{r}\" fill=\"none\" stroke=\"{stroke}\"/>"
        );
    }

    /// A legend from (x, y) down, 18 px a row: a short line in each entry's colour (dashed or
    /// solid), then its label. Entries are (label, colour, dashed).
    pub fn legend(&mut self, x: f64, y: f64, entries: &[(&str, &str, bool)]) {
        for (i, (label, colour, dashed)) in entries.iter().enumerate() {
            let ly = y + 18.0 * i as f64;
            self.polyline(&[(x, ly - 4.0), (x + 22.0, ly - 4.0)], colour, 3.0, *dashed);
            self.text(x + 28.0, ly, label, Anchor::Start, 12.0, "black");
        }
    }

    /// Text at (x, y) (the baseline), escaped.
    pub fn text(&mut self, x: f64, y: f64, text: &str, anchor: Anchor, size: f64, fill: &str) {
        let _ = writeln!(
            self.body,
            "<text x=\"{x:.2}\" y=\"{y:.2}\" text-anchor=\"{}\" font-size=\"{size}\" \
             fill=\"{fill}\">{}</text>",
            anchor.name(),
            escape(text)
        );
    }

    /// Text turned 90° counter-clockwise about (x, y): a y-axis label.
    pub fn vertical_text(&mut self, x: f64, y: f64, text: &str, size: f64) {
        let _ = writeln!(
            self.body,
            "<text x=\"{x:.2}\" y=\"{y:.2}\" text-anchor=\"middle\" font-size=\"{size}\" \
             transform=\"rotate(-90 {x:.2} {y:.2})\">{}</text>",
            escape(text)
        );
    }

    /// The finished document.
    pub fn finish(mut self) -> String {
        self.body.push_str("</svg>\n");
        self.body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_the_document_closed() {
        let mut s = Svg::new(10.0, 20.0);
        s.text(1.0, 2.0, "a<b & \"c\"", Anchor::Start, 12.0, "black");
        let out = s.finish();
        assert!(out.contains("a&lt;b &amp; &quot;c&quot;"));
        assert!(out.starts_with("<svg") && out.ends_with("</svg>\n"));
        assert!(out.contains("width=\"10\" height=\"20\""));
    }
}
