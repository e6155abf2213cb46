//! What every project of the studio shares: the run folder, the classification summary
//! (`metrics.json` and the terminal table), and the report's standard figures.

pub mod classification;
pub mod figures;
pub mod run_dir;

pub use classification::ClassificationSummary;
pub use run_dir::RunDir;
