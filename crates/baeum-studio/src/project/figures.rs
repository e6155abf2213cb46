//! The figures every training report has: loss and metric curves from the history, and the
//! confusion matrix as a heat map.

use baeum::train::History;
use baeum_plot::{Heatmap, LineChart, Series};

use super::ClassificationSummary;

/// One chart per quantity in the history (`loss`, `accuracy`, …), training solid and
/// validation dashed: the pairs `name` / `val_name`. `lr` gets its own chart when it changes.
pub fn history_charts(history: &History) -> Vec<(String, String)> {
    let keys = history.keys();
    let mut charts = Vec::new();
    for key in keys
        .iter()
        .filter(|k| !k.starts_with("val_") && k.as_str() != "lr")
    {
        let mut chart = LineChart::new(key.as_str())
            .labels("epoch", key.as_str())
            .series(Series::per_epoch(key.as_str(), &history.get(key)));
        let val = format!("val_{key}");
        if keys.contains(&val) {
            chart = chart.series(Series::per_epoch(val.as_str(), &history.get(&val)).dashed());
        }
        charts.push((key.clone(), chart.to_svg()));
    }
    let lr = history.get("lr");
    if lr.iter().any(|v| v.is_finite()) && lr.windows(2).any(|w| w[0] != w[1]) {
        let chart = LineChart::new("learning rate")
            .labels("epoch", "lr")
            .series(Series::per_epoch("lr", &lr));
        charts.push(("lr".into(), chart.to_svg()));
    }
    charts
}

/// The confusion matrix heat map, rows shaded by recall.
pub fn confusion_heatmap(summary: &ClassificationSummary, title: &str) -> String {
    Heatmap::confusion(title, &summary.confusion.rows(), &summary.classes).to_svg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_chart_per_quantity_with_validation_beside_training() {
        let mut h = History::default();
        for (l, vl, a) in [(1.0, 1.1, 0.5), (0.5, 0.7, 0.8)] {
            let mut logs = BTreeMap::new();
            logs.insert("loss".to_string(), l);
            logs.insert("val_loss".to_string(), vl);
            logs.insert("accuracy".to_string(), a);
            logs.insert("lr".to_string(), 0.1);
            h.epochs.push(logs);
        }
        let charts = history_charts(&h);
        let names: Vec<&str> = charts.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["accuracy", "loss"], "constant lr is not drawn");
        assert!(charts[1].1.contains(">val_loss</text>"));
        assert!(!charts[0].1.contains("val_"));
    }
}
