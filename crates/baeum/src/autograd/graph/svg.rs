//! The picture as a standalone SVG document, laid out by [`super::layout`].

use std::fmt::Write;

use super::dot::{GRAD_RED, SHAPE_GREY, colours, escape_html};
use super::layout::{EdgeSpec, Size, layout};
use super::{BoxKind, BoxSpec, LineKind, Scene};

const FONT: &str = "DejaVu Sans Mono, Menlo, Consolas, monospace";
const EDGE_GREY: &str = "#4b5563";
const PAD_X: f64 = 10.0;
const PAD_Y: f64 = 6.0;
const MARGIN: f64 = 16.0;
const TITLE_SIZE: f64 = 15.0;
const EDGE_LABEL_SIZE: f64 = 10.0;

fn font_size(kind: LineKind, boxed: BoxKind) -> f64 {
    match (kind, boxed) {
        (_, BoxKind::Const) => 10.0,
        (LineKind::Title, _) => 13.0,
        (LineKind::Shape, _) => 10.0,
        (LineKind::Value | LineKind::Grad, _) => 12.0,
    }
}

fn line_height(size: f64) -> f64 {
    size + 5.0
}

/// Width of `text` in a monospace font of `size`: Hangul, CJK and full-width characters take
/// a whole em, others most fonts draw at 0.6 em.
fn text_width(text: &str, size: f64) -> f64 {
    let ems: f64 = text
        .chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA960..=0xA97F
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6 => 1.0,
            _ => 0.6,
        })
        .sum();
    ems * size
}

fn box_size(b: &BoxSpec) -> Size {
    let w = b
        .lines
        .iter()
        .map(|l| text_width(&l.text, font_size(l.kind, b.kind)))
        .fold(0.0, f64::max);
    let h: f64 = b
        .lines
        .iter()
        .map(|l| line_height(font_size(l.kind, b.kind)))
        .sum();
    let min_w = if b.kind == BoxKind::Const { 36.0 } else { 48.0 };
    // Room for the input ports, one every 16 pixels.
    let min_h = 16.0 * b.inputs.saturating_sub(1) as f64 + 8.0;
    Size {
        w: (w + 2.0 * PAD_X).max(min_w).ceil(),
        h: (h + 2.0 * PAD_Y).max(min_h).ceil(),
    }
}

/// A coordinate with one decimal, without a trailing `.0`.
fn num(v: f64) -> String {
    let s = format!("{v:.1}");
    match s.strip_suffix(".0") {
        Some(whole) if whole != "-0" => whole.to_string(),
        Some(_) => "0".to_string(),
        None => s,
    }
}

pub(super) fn render(scene: &Scene) -> String {
    let sizes: Vec<Size> = scene.boxes.iter().map(box_size).collect();
    let edges: Vec<EdgeSpec> = scene
        .arrows
        .iter()
        .map(|a| EdgeSpec {
            src: a.src,
            dst: a.dst,
            port: a.port,
            ports: scene.boxes[a.dst].inputs,
            label_w: a
                .label
                .as_ref()
                .map_or(0.0, |l| text_width(l, EDGE_LABEL_SIZE)),
        })
        .collect();
    let top = if scene.title.is_some() {
        TITLE_SIZE + 12.0
    } else {
        0.0
    };
    let placed = layout(&sizes, &edges, MARGIN, top);
    let title_w = scene
        .title
        .as_ref()
        .map_or(0.0, |t| text_width(t, TITLE_SIZE) + 2.0 * MARGIN);
    let (w, h) = (placed.width.max(title_w).ceil(), placed.height.ceil());

    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" font-family=\"{FONT}\">"
    );
    let _ = writeln!(
        s,
        "<defs><marker id=\"baeum-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><polygon points=\"0,0 10,5 0,10\" \
         fill=\"{EDGE_GREY}\"/></marker></defs>"
    );
    let _ = writeln!(
        s,
        "<rect class=\"background\" width=\"{w}\" height=\"{h}\" fill=\"white\"/>"
    );
    if let Some(title) = &scene.title {
        let _ = writeln!(
            s,
            "<text class=\"title\" x=\"{}\" y=\"{}\" font-size=\"{TITLE_SIZE}\" \
             font-weight=\"bold\">{}</text>",
            num(MARGIN),
            num(MARGIN + TITLE_SIZE),
            escape_html(title)
        );
    }

    // Edges first, so boxes cover their ends.
    s.push_str("<g class=\"edges\">\n");
    for (a, route) in scene.arrows.iter().zip(&placed.routes) {
        let mut d = format!("M{},{}", num(route[0].0), num(route[0].1));
        for pair in route.windows(2) {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            if y0 == y1 {
                let _ = write!(d, " L{},{}", num(x1), num(y1));
            } else {
                // Leave and arrive level, as a spline would.
                let mx = (x0 + x1) / 2.0;
                let _ = write!(
                    d,
                    " C{},{} {},{} {},{}",
                    num(mx),
                    num(y0),
                    num(mx),
                    num(y1),
                    num(x1),
                    num(y1)
                );
            }
        }
        let _ = writeln!(
            s,
            "<path class=\"edge\" d=\"{d}\" fill=\"none\" stroke=\"{EDGE_GREY}\" \
             stroke-width=\"1.3\" marker-end=\"url(#baeum-arrow)\"/>"
        );
        if let Some(label) = &a.label {
            let (x, y) = route[route.len() - 1];
            let _ = writeln!(
                s,
                "<text class=\"edge-label\" x=\"{}\" y=\"{}\" font-size=\"{EDGE_LABEL_SIZE}\" \
                 text-anchor=\"end\" fill=\"{GRAD_RED}\" stroke=\"white\" stroke-width=\"3\" \
                 paint-order=\"stroke\">{}</text>",
                num(x - super::layout::LABEL_RUN + 4.0),
                num(y - 4.0),
                escape_html(label)
            );
        }
    }
    s.push_str("</g>\n<g class=\"nodes\">\n");
    for (i, (b, size)) in scene.boxes.iter().zip(&sizes).enumerate() {
        let (cx, cy) = placed.centers[i];
        let (x, y) = (cx - size.w / 2.0, cy - size.h / 2.0);
        let (fill, border) = colours(b.kind);
        let class = match b.kind {
            BoxKind::Leaf => "leaf",
            BoxKind::Op => "op",
            BoxKind::Output => "output",
            BoxKind::Const => "const",
        };
        let tooltip: Vec<String> = b.lines.iter().map(|l| escape_html(&l.text)).collect();
        let _ = writeln!(
            s,
            "<g class=\"node {class}\" id=\"n{i}\"><title>{}</title>",
            tooltip.join("&#10;")
        );
        let (radius, width, dash) = match b.kind {
            BoxKind::Leaf => (10.0, 1.3, ""),
            BoxKind::Op => (4.0, 1.3, ""),
            BoxKind::Output => (4.0, 2.5, ""),
            BoxKind::Const => (4.0, 1.0, " stroke-dasharray=\"3,2\""),
        };
        let _ = writeln!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{radius}\" fill=\"{fill}\" \
             stroke=\"{border}\" stroke-width=\"{width}\"{dash}/>",
            num(x),
            num(y),
            num(size.w),
            num(size.h)
        );
        // Lines centred in the box, the block of them centred vertically.
        let text_h: f64 = b
            .lines
            .iter()
            .map(|l| line_height(font_size(l.kind, b.kind)))
            .sum();
        let mut line_top = cy - text_h / 2.0;
        for l in &b.lines {
            let size = font_size(l.kind, b.kind);
            let baseline = line_top + (line_height(size) + size * 0.7) / 2.0;
            let style = match (l.kind, b.kind) {
                (_, BoxKind::Const) => format!(" fill=\"{SHAPE_GREY}\""),
                (LineKind::Title, _) => " font-weight=\"bold\"".to_string(),
                (LineKind::Shape, _) => format!(" fill=\"{SHAPE_GREY}\""),
                (LineKind::Value, _) => String::new(),
                (LineKind::Grad, _) => format!(" fill=\"{GRAD_RED}\""),
            };
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{}\" font-size=\"{size}\" text-anchor=\"middle\"{style}>{}</text>",
                num(cx),
                num(baseline),
                escape_html(&l.text)
            );
            line_top += line_height(size);
        }
        s.push_str("</g>\n");
    }
    s.push_str("</g>\n</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_wide_characters_double() {
        assert_eq!(text_width("ab", 10.0), 12.0);
        assert_eq!(text_width("사과", 10.0), 20.0);
    }

    #[test]
    fn coordinates_are_short() {
        assert_eq!(num(3.0), "3");
        assert_eq!(num(-0.04), "0");
        assert_eq!(num(2.26), "2.3");
        assert_eq!(num(-7.5), "-7.5");
    }
}
