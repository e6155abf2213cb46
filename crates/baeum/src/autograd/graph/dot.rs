//! The picture as Graphviz DOT text.

use std::fmt::Write;

use super::{BoxKind, LineKind, Scene};

/// Colours shared with the SVG: (fill, border) per kind of box, and the gradients' red.
pub(super) fn colours(kind: BoxKind) -> (&'static str, &'static str) {
    match kind {
        BoxKind::Leaf => ("#dbeafe", "#2563eb"),
        BoxKind::Op => ("#fef3c7", "#b45309"),
        BoxKind::Output => ("#dcfce7", "#15803d"),
        BoxKind::Const => ("#f3f4f6", "#9ca3af"),
    }
}
pub(super) const GRAD_RED: &str = "#b91c1c";
pub(super) const SHAPE_GREY: &str = "#6b7280";

/// Text for an HTML-like label (or for XML): `&`, `<`, `>` and quotes as entities.
pub(super) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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

/// A DOT quoted string's contents: backslashes and quotes escaped, line breaks as `\n`.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

pub(super) fn render(scene: &Scene) -> String {
    let mut s = String::new();
    s.push_str("digraph baeum {\n");
    s.push_str("  graph [rankdir=LR, nodesep=0.25, ranksep=0.45, fontname=\"monospace\"");
    if let Some(title) = &scene.title {
        let _ = write!(s, ", label=\"{}\", labelloc=t", escape(title));
    }
    s.push_str("];\n");
    s.push_str(
        "  node [shape=box, style=\"rounded,filled\", fontname=\"monospace\", fontsize=11];\n",
    );
    s.push_str("  edge [fontname=\"monospace\", fontsize=9, arrowsize=0.7];\n");
    for (i, b) in scene.boxes.iter().enumerate() {
        // An HTML-like label, so the title can be bold and the gradient red as in the course.
        let lines: Vec<String> = b
            .lines
            .iter()
            .map(|l| {
                let text = escape_html(&l.text);
                match l.kind {
                    LineKind::Title => format!("<b>{text}</b>"),
                    LineKind::Shape => {
                        format!("<font color=\"{SHAPE_GREY}\" point-size=\"9\">{text}</font>")
                    }
                    LineKind::Value => text,
                    LineKind::Grad => format!("<font color=\"{GRAD_RED}\">{text}</font>"),
                }
            })
            .collect();
        let (fill, border) = colours(b.kind);
        let _ = write!(
            s,
            "  n{i} [label=<{}>, fillcolor=\"{fill}\", color=\"{border}\"",
            lines.join("<br/>")
        );
        match b.kind {
            BoxKind::Const => s.push_str(", style=\"rounded,filled,dashed\", fontsize=9"),
            BoxKind::Output => s.push_str(", penwidth=2"),
            _ => {}
        }
        s.push_str("];\n");
    }
    for a in &scene.arrows {
        let _ = write!(s, "  n{} -> n{}", a.src, a.dst);
        if let Some(label) = &a.label {
            let _ = write!(
                s,
                " [label=\"{}\", fontcolor=\"{GRAD_RED}\"]",
                escape(label)
            );
        }
        s.push_str(";\n");
    }
    s.push_str("}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::{escape, escape_html};

    #[test]
    fn labels_are_escaped() {
        assert_eq!(escape(r#"a "b" \c"#), r#"a \"b\" \\c"#);
        assert_eq!(escape("two\nlines"), "two\\nlines");
        assert_eq!(escape_html("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
