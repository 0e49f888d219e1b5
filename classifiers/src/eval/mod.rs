//! Detection quality on a labelled set: precision, recall and F1 per entity and per category
//! (overlap span matching), and the false-positive rate per category on texts without it; and,
//! for samples that carry classifier labels, the same per label ([`labels`]).

pub mod labels;

use crate::PatternEngine;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A labelled value in a sample (UTF-8 byte offsets).
#[derive(Debug, Clone, Deserialize)]
pub struct GoldSpan {
    pub start: usize,
    pub end: usize,
    pub entity: String,
    pub category: String,
}

/// One labelled text.
#[derive(Debug, Clone, Deserialize)]
pub struct Sample {
    #[serde(default)]
    pub id: serde_json::Value,
    #[serde(default)]
    pub source: Option<String>,
    pub text: String,
    #[serde(default)]
    pub spans: Vec<GoldSpan>,
    /// The classifier labels the text should get (`[]`: benign); absent: not labelled.
    #[serde(default)]
    pub labels: Option<Vec<String>>,
}

/// Matched and unmatched counts for one entity or category.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Counts {
    pub gold: usize,
    pub predicted: usize,
    /// Gold spans overlapped by a prediction of the same label.
    pub gold_found: usize,
    /// Predictions overlapping a gold span of the same label.
    pub predicted_correct: usize,
}

impl Counts {
    /// Correct predictions over all predictions (1.0 when nothing was predicted).
    pub fn precision(&self) -> f64 {
        if self.predicted == 0 {
            1.0
        } else {
            self.predicted_correct as f64 / self.predicted as f64
        }
    }

    /// Gold spans found over all gold spans (1.0 when there were none).
    pub fn recall(&self) -> f64 {
        if self.gold == 0 {
            1.0
        } else {
            self.gold_found as f64 / self.gold as f64
        }
    }

    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// Texts without a category, and how many of them got a finding of it anyway.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct FalsePositiveRate {
    pub negative_texts: usize,
    pub flagged: usize,
}

impl FalsePositiveRate {
    /// Flagged over negative texts.
    pub fn rate(&self) -> f64 {
        if self.negative_texts == 0 {
            0.0
        } else {
            self.flagged as f64 / self.negative_texts as f64
        }
    }
}

/// The whole evaluation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub texts: usize,
    pub by_entity: BTreeMap<String, Counts>,
    pub by_category: BTreeMap<String, Counts>,
    pub false_positive_rate: BTreeMap<String, FalsePositiveRate>,
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// Scans every sample and compares with its labels.
pub fn evaluate(engine: &PatternEngine, samples: &[Sample]) -> Report {
    let mut report = Report {
        texts: samples.len(),
        ..Report::default()
    };
    let categories: BTreeSet<String> = samples
        .iter()
        .flat_map(|s| s.spans.iter().map(|g| g.category.clone()))
        .chain(
            engine
                .rules()
                .into_iter()
                .map(|r| r.category.as_str().to_string()),
        )
        .collect();
    for s in samples {
        let found = engine.scan(&s.text);
        let pred: Vec<(String, String, (usize, usize))> = found
            .iter()
            .map(|f| {
                (
                    f.entity.to_string(),
                    f.category.as_str().to_string(),
                    (f.start, f.end),
                )
            })
            .collect();
        for (label_of_gold, label_of_pred, table) in [
            (
                Box::new(|g: &GoldSpan| g.entity.clone()) as Box<dyn Fn(&GoldSpan) -> String>,
                0usize,
                &mut report.by_entity,
            ),
            (
                Box::new(|g: &GoldSpan| g.category.clone()),
                1,
                &mut report.by_category,
            ),
        ] {
            let plabel = |p: &(String, String, (usize, usize))| {
                if label_of_pred == 0 {
                    p.0.clone()
                } else {
                    p.1.clone()
                }
            };
            for g in &s.spans {
                let c = table.entry(label_of_gold(g)).or_default();
                c.gold += 1;
                if pred
                    .iter()
                    .any(|p| plabel(p) == label_of_gold(g) && overlaps(p.2, (g.start, g.end)))
                {
                    c.gold_found += 1;
                }
            }
            for p in &pred {
                let c = table.entry(plabel(p)).or_default();
                c.predicted += 1;
                if s.spans
                    .iter()
                    .any(|g| label_of_gold(g) == plabel(p) && overlaps(p.2, (g.start, g.end)))
                {
                    c.predicted_correct += 1;
                }
            }
        }
        for cat in &categories {
            if s.spans.iter().any(|g| &g.category == cat) {
                continue;
            }
            let fpr = report.false_positive_rate.entry(cat.clone()).or_default();
            fpr.negative_texts += 1;
            if pred.iter().any(|p| &p.1 == cat) {
                fpr.flagged += 1;
            }
        }
    }
    report
}

impl Report {
    /// A plain-text table, for terminals and notes.
    pub fn to_table(&self) -> String {
        let mut out = format!("{} texts\n\n", self.texts);
        for (title, table) in [("entity", &self.by_entity), ("category", &self.by_category)] {
            out.push_str(&format!(
                "{title:<22} {:>6} {:>6} {:>9} {:>7} {:>6}\n",
                "gold", "pred", "precision", "recall", "f1"
            ));
            for (k, c) in table {
                out.push_str(&format!(
                    "{k:<22} {:>6} {:>6} {:>9.3} {:>7.3} {:>6.3}\n",
                    c.gold,
                    c.predicted,
                    c.precision(),
                    c.recall(),
                    c.f1()
                ));
            }
            out.push('\n');
        }
        out.push_str(&format!(
            "{:<22} {:>9} {:>8} {:>6}\n",
            "false positives", "neg texts", "flagged", "FPR"
        ));
        for (k, f) in &self.false_positive_rate {
            out.push_str(&format!(
                "{k:<22} {:>9} {:>8} {:>6.4}\n",
                f.negative_texts,
                f.flagged,
                f.rate()
            ));
        }
        out
    }
}

/// Parses labelled JSONL; the error names the line.
pub fn parse_jsonl(text: &str) -> Result<Vec<Sample>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect()
}
