//! Figures for reports, as self-contained SVG text, and the HTML page that holds them.
//!
//! - [`LineChart`]: training curves (loss and accuracy per epoch), one polyline per series.
//! - [`Heatmap`]: a matrix as coloured cells with labels, e.g. a confusion matrix.
//! - [`ImageGrid`]: small images with captions, optionally with a heat map laid over each
//!   (saliency, Grad-CAM).
//! - [`Page`]: an HTML report with headings, paragraphs, tables and figures inline, written
//!   atomically.
//!
//! The crate knows nothing of tensors: it takes plain numbers, so any part of baeum (the
//! lectures, the projects, the dashboard) can draw with it, and it builds in seconds.

pub mod chart;
pub mod colour;
pub mod grid;
pub mod heatmap;
pub mod page;
pub mod svg;

pub use chart::{LineChart, Series};
pub use colour::{Colormap, PALETTE};
pub use grid::{GridImage, ImageGrid};
pub use heatmap::Heatmap;
pub use page::Page;
pub use svg::{Anchor, Svg};
