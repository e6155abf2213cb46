//! Metrics: accuracy, top-k, precision/recall/F1, confusion matrix, regression errors.
//!
//! The functions take a model's output and the targets as tensors and return `f64`s with
//! scikit-learn's definitions (and its `zero_division=0` convention); the [`Metric`] types
//! accumulate the same numbers over the batches of an epoch, with Keras' names for the history.

mod classification;
mod confusion;
mod regression;
mod streaming;

pub use classification::{
    Average, PrecisionRecallF1, accuracy, class_predictions, class_targets, precision_recall_f1,
    top_k_accuracy,
};
pub use confusion::{ConfusionMatrix, Normalization};
pub use regression::{mae, mse, r2_score, rmse};
pub use streaming::{
    Accuracy, MeanAbsoluteError, MeanSquaredError, Metric, R2Score, RootMeanSquaredError,
    TopKAccuracy,
};
