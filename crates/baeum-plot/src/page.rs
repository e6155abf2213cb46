//! An HTML report: headings, paragraphs, key–value and plain tables, and inline SVG figures,
//! in one self-contained file (no scripts, no external assets), written atomically.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use crate::svg::escape;

/// A report page being assembled.
#[derive(Clone, Debug, Default)]
pub struct Page {
    title: String,
    body: String,
}

impl Page {
    pub fn new(title: impl Into<String>) -> Page {
        let title = title.into();
        let mut page = Page {
            title: title.clone(),
            body: String::new(),
        };
        let _ = writeln!(page.body, "<h1>{}</h1>", escape(&title));
        page
    }

    pub fn heading(&mut self, text: &str) -> &mut Page {
        let _ = writeln!(self.body, "<h2>{}</h2>", escape(text));
        self
    }

    pub fn paragraph(&mut self, text: &str) -> &mut Page {
        let _ = writeln!(self.body, "<p>{}</p>", escape(text));
        self
    }

    /// Preformatted text (a terminal table, a command line).
    pub fn code(&mut self, text: &str) -> &mut Page {
        let _ = writeln!(self.body, "<pre>{}</pre>", escape(text));
        self
    }

    /// A table with a header row; cells are escaped.
    pub fn table(&mut self, header: &[&str], rows: &[Vec<String>]) -> &mut Page {
        self.body.push_str("<table>\n<tr>");
        for h in header {
            let _ = write!(self.body, "<th>{}</th>", escape(h));
        }
        self.body.push_str("</tr>\n");
        for row in rows {
            self.body.push_str("<tr>");
            for c in row {
                let _ = write!(self.body, "<td>{}</td>", escape(c));
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</table>\n");
        self
    }

    /// An SVG figure (as made by this crate) with a caption.
    pub fn figure(&mut self, svg: &str, caption: &str) -> &mut Page {
        let _ = writeln!(
            self.body,
            "<figure>\n{svg}<figcaption>{}</figcaption>\n</figure>",
            escape(caption)
        );
        self
    }

    /// The whole document.
    pub fn to_html(&self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>{}</title>\n<style>\n\
             body {{ font-family: sans-serif; max-width: 1000px; margin: 2em auto; color: #222; }}\n\
             table {{ border-collapse: collapse; margin: 1em 0; }}\n\
             th, td {{ border: 1px solid #ccc; padding: 4px 10px; text-align: right; }}\n\
             th {{ background: #f3f3f3; }}\n\
             figure {{ margin: 1.5em 0; }} figcaption {{ color: #555; font-size: 0.9em; }}\n\
             pre {{ background: #f7f7f7; padding: 0.8em; overflow-x: auto; }}\n\
             </style>\n</head>\n<body>\n{}</body>\n</html>\n",
            escape(&self.title),
            self.body
        )
    }

    /// Writes the page to `path` through a temporary file and a rename, so a reader never
    /// sees half a report.
    pub fn write(&self, path: &Path) -> io::Result<()> {
        write_atomic(path, self.to_html().as_bytes())
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, synced, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let tmp = path.with_file_name(format!(".{}.tmp", name.to_string_lossy()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_holds_escaped_content_and_writes_atomically() {
        let mut page = Page::new("Run <1>");
        page.heading("Metrics")
            .table(&["class", "F1"], &[vec!["a&b".into(), "0.9".into()]])
            .figure("<svg></svg>\n", "curves")
            .paragraph("done");
        let html = page.to_html();
        assert!(html.contains("<h1>Run &lt;1&gt;</h1>"));
        assert!(html.contains("<td>a&amp;b</td><td>0.9</td>"));
        assert!(html.contains("<svg></svg>\n<figcaption>curves</figcaption>"));
        let dir = std::env::temp_dir().join(format!("baeum-plot-{}", std::process::id()));
        let path = dir.join("sub").join("report.html");
        page.write(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), html);
        assert!(!dir.join("sub").join(".report.html.tmp").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
