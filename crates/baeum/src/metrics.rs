//! Metrics: accuracy, top-k, precision/recall/F1, confusion matrix, regression errors.
