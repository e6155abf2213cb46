//! The numbers a classification run reports: accuracy, per-class precision/recall/F1 and
//! the confusion matrix, as `metrics.json` and as a table for the terminal.

use baeum::metrics::{Average, ConfusionMatrix};
use serde_json::{Value, json};

/// A classifier's test results.
#[derive(Clone, Debug)]
pub struct ClassificationSummary {
    pub classes: Vec<String>,
    pub confusion: ConfusionMatrix,
}

impl ClassificationSummary {
    /// From true and predicted class indices (equal lengths; every index below
    /// `classes.len()`).
    pub fn from_labels(classes: Vec<String>, truth: &[i64], predicted: &[i64]) -> Self {
        let n = classes.len();
        let mut confusion = ConfusionMatrix::with_class_names(classes.clone());
        let to_tensor = |v: &[i64]| baeum::Tensor::from_vec(v.to_vec(), [v.len()]);
        // Predictions as one-hot-free class indices: the matrix accepts index targets and
        // index outputs of the same shape.
        confusion
            .update(&to_tensor(predicted), &to_tensor(truth))
            .unwrap_or_else(|e| panic!("confusion matrix over {n} classes: {e}"));
        ClassificationSummary { classes, confusion }
    }

    pub fn accuracy(&self) -> f64 {
        self.confusion.accuracy()
    }

    /// The unweighted mean of the per-class F1 scores.
    pub fn macro_f1(&self) -> f64 {
        self.confusion.precision_recall_f1(Average::Macro).f1[0]
    }

    /// `metrics.json`: `test_accuracy`, `macro_f1`, `per_class` (precision, recall, f1,
    /// support by class name), `confusion_matrix` (rows: true class), `classes`, plus `extra`.
    pub fn to_json(&self, extra: &[(&str, Value)]) -> Value {
        let per = self.confusion.precision_recall_f1(Average::PerClass);
        let macro_avg = self.confusion.precision_recall_f1(Average::Macro);
        let per_class: Vec<Value> = self
            .classes
            .iter()
            .enumerate()
            .map(|(i, name)| {
                json!({
                    "class": name,
                    "precision": per.precision[i],
                    "recall": per.recall[i],
                    "f1": per.f1[i],
                    "support": per.support[i],
                })
            })
            .collect();
        let mut v = json!({
            "test_accuracy": self.accuracy(),
            "macro_precision": macro_avg.precision[0],
            "macro_recall": macro_avg.recall[0],
            "macro_f1": macro_avg.f1[0],
            "test_examples": self.confusion.total(),
            "classes": self.classes,
            "per_class": per_class,
            "confusion_matrix": self.confusion.rows(),
        });
        for (k, x) in extra {
            v[*k] = x.clone();
        }
        v
    }

    /// The confusion matrix as aligned text, true classes down, predicted across.
    pub fn confusion_table(&self) -> String {
        let rows = self.confusion.rows();
        let short = |s: &str| s.chars().take(10).collect::<String>();
        let names: Vec<String> = self.classes.iter().map(|c| short(c)).collect();
        let width = rows
            .iter()
            .flatten()
            .map(|c| c.to_string().len())
            .chain(names.iter().map(|n| n.chars().count()))
            .max()
            .unwrap_or(1)
            .max(3);
        let label_w = names
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(4)
            .max(10);
        let mut s = format!("{:>label_w$} | predicted\n", "true");
        s += &format!("{:>label_w$} |", "");
        for n in &names {
            s += &format!(" {n:>width$}");
        }
        s.push('\n');
        s += &format!(
            "{}-+{}\n",
            "-".repeat(label_w),
            "-".repeat((width + 1) * names.len())
        );
        for (name, row) in names.iter().zip(&rows) {
            s += &format!("{name:>label_w$} |");
            for c in row {
                s += &format!(" {c:>width$}");
            }
            s.push('\n');
        }
        s
    }

    /// Per-class precision, recall, F1 and support as text.
    pub fn class_table(&self) -> String {
        let per = self.confusion.precision_recall_f1(Average::PerClass);
        let label_w = self
            .classes
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        let mut s = format!("{:>label_w$}  precision  recall     f1  support\n", "class");
        for (i, name) in self.classes.iter().enumerate() {
            s += &format!(
                "{name:>label_w$}  {:>9.4}  {:>6.4}  {:>5.4}  {:>7}\n",
                per.precision[i], per.recall[i], per.f1[i], per.support[i]
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> ClassificationSummary {
        let classes = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        // truth a a b b c c, predicted a b b b c a
        ClassificationSummary::from_labels(classes, &[0, 0, 1, 1, 2, 2], &[0, 1, 1, 1, 2, 0])
    }

    #[test]
    fn metrics_json_holds_scikit_learn_numbers() {
        let s = summary();
        let v = s.to_json(&[("model", json!("cnn"))]);
        assert!((v["test_accuracy"].as_f64().unwrap() - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(
            v["confusion_matrix"],
            json!([[1, 1, 0], [0, 2, 0], [1, 0, 1]])
        );
        // Class b: precision 2/3, recall 1, f1 0.8 (scikit-learn's numbers).
        let b = &v["per_class"][1];
        assert!((b["precision"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(b["recall"], json!(1.0));
        assert!((b["f1"].as_f64().unwrap() - 0.8).abs() < 1e-12);
        assert_eq!(b["support"], json!(2));
        // Macro F1: (0.5 + 0.8 + 2/3) / 3.
        let macro_f1 = (0.5 + 0.8 + 2.0 / 3.0) / 3.0;
        assert!((v["macro_f1"].as_f64().unwrap() - macro_f1).abs() < 1e-12);
        assert_eq!(v["model"], json!("cnn"));
    }

    #[test]
    fn terminal_tables_line_up() {
        let s = summary();
        let t = s.confusion_table();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 6);
        assert!(lines[3].ends_with("  1   1   0"), "{t}");
        assert!(lines[5].trim_start().starts_with("c |"), "{t}");
        assert!(
            s.class_table()
                .contains("    b     0.6667  1.0000  0.8000        2")
        );
    }
}
