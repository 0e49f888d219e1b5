//! Classifier quality on labelled texts: precision, recall and false-positive rate per label,
//! overall and per source, plus how often a benign text gets any intent label (what users
//! feel as false blocks), how many attacks get either label the default policy blocks, and how
//! the cascade split the work.

use super::Sample;
use crate::onnx::{CascadeStats, ContentClassifier};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The labels a policy blocks or logs as intent; a text with none of them is benign for the
/// `any_intent` row.
pub const INTENT: [&str; 3] = ["prompt_injection", "jailbreak", "harmful"];

/// The row that counts texts with any intent label, gold or predicted.
pub const ANY_INTENT: &str = "any_intent";

/// The labels the default policy blocks. An injection the model reads as a jailbreak (or the
/// reverse) is still blocked, so the "injection + jailbreak recall" is this row's.
pub const ATTACK_LABELS: [&str; 2] = ["prompt_injection", "jailbreak"];

/// The row that counts texts with either attack label, gold or predicted.
pub const ATTACK: &str = "attack";

/// Confusion counts for one label.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LabelCounts {
    /// Texts that should get the label.
    pub positives: usize,
    /// Of those, texts that got it.
    pub true_positives: usize,
    /// Texts that should not get it.
    pub negatives: usize,
    /// Of those, texts that got it anyway.
    pub false_positives: usize,
}

impl LabelCounts {
    /// Correct labels over all labels given (1.0 when none were given).
    pub fn precision(&self) -> f64 {
        let given = self.true_positives + self.false_positives;
        if given == 0 {
            1.0
        } else {
            self.true_positives as f64 / given as f64
        }
    }

    /// Positives found (1.0 when there were none).
    pub fn recall(&self) -> f64 {
        if self.positives == 0 {
            1.0
        } else {
            self.true_positives as f64 / self.positives as f64
        }
    }

    /// Negatives wrongly labelled.
    pub fn fpr(&self) -> f64 {
        if self.negatives == 0 {
            0.0
        } else {
            self.false_positives as f64 / self.negatives as f64
        }
    }

    fn add(&mut self, gold: bool, predicted: bool) {
        match (gold, predicted) {
            (true, p) => {
                self.positives += 1;
                self.true_positives += usize::from(p);
            }
            (false, p) => {
                self.negatives += 1;
                self.false_positives += usize::from(p);
            }
        }
    }
}

/// The label evaluation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LabelReport {
    /// Labelled texts scored.
    pub texts: usize,
    /// Texts whose classification failed (deadline or model error); counted as unlabelled.
    pub errors: usize,
    /// Per label, over all texts (and the `any_intent` row).
    pub by_label: BTreeMap<String, LabelCounts>,
    /// The same per `source` of the samples.
    pub by_source: BTreeMap<String, BTreeMap<String, LabelCounts>>,
    /// How the cascade and the cache split the windows during the run.
    pub cascade: CascadeStats,
}

/// Scores every sample that carries `labels` with `model` at its own thresholds, on
/// `threads` threads (the model's workers batch what they send).
pub fn evaluate(model: &ContentClassifier, samples: &[Sample], threads: usize) -> LabelReport {
    let labelled: Vec<&Sample> = samples.iter().filter(|s| s.labels.is_some()).collect();
    let before = model.cascade_stats();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let predicted: Vec<(usize, Option<BTreeSet<String>>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(s) = labelled.get(i) else { break };
                        let got = model
                            .classify(&s.text, Duration::from_secs(60))
                            .ok()
                            .map(|l| {
                                l.scores
                                    .into_iter()
                                    .filter(|(k, v)| {
                                        model.thresholds.get(k).is_some_and(|t| v >= t)
                                    })
                                    .map(|(k, _)| k)
                                    .collect()
                            });
                        out.push((i, got));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("evaluation thread"))
            .collect()
    });
    let mut report = LabelReport {
        texts: labelled.len(),
        ..LabelReport::default()
    };
    for (i, got) in predicted {
        let s = labelled[i];
        let gold: BTreeSet<&str> = s.labels.iter().flatten().map(String::as_str).collect();
        let got = got.unwrap_or_else(|| {
            report.errors += 1;
            BTreeSet::new()
        });
        let source = s.source.clone().unwrap_or_else(|| "-".into());
        let rows = model
            .labels
            .iter()
            .map(|l| (l.as_str(), gold.contains(l.as_str()), got.contains(l)))
            .chain(grouped(&gold, &got));
        for (label, g, p) in rows {
            report.by_label.entry(label.into()).or_default().add(g, p);
            report
                .by_source
                .entry(source.clone())
                .or_default()
                .entry(label.into())
                .or_default()
                .add(g, p);
        }
    }
    let after = model.cascade_stats();
    report.cascade = CascadeStats {
        texts: after.texts - before.texts,
        texts_encoded: after.texts_encoded - before.texts_encoded,
        windows: after.windows - before.windows,
        cached: after.cached - before.cached,
        settled: after.settled - before.settled,
        encoded: after.encoded - before.encoded,
        unread: after.unread - before.unread,
        failed: after.failed - before.failed,
    };
    report
}

/// The rows that count a text once for a group of labels: `any_intent` and `attack`.
fn grouped(gold: &BTreeSet<&str>, got: &BTreeSet<String>) -> [(&'static str, bool, bool); 2] {
    let any = |group: &[&str], set: &dyn Fn(&str) -> bool| group.iter().any(|l| set(l));
    let in_gold = |l: &str| gold.contains(l);
    let in_got = |l: &str| got.contains(l);
    [
        (ANY_INTENT, any(&INTENT, &in_gold), any(&INTENT, &in_got)),
        (
            ATTACK,
            any(&ATTACK_LABELS, &in_gold),
            any(&ATTACK_LABELS, &in_got),
        ),
    ]
}

impl LabelReport {
    /// A plain-text table, for terminals and notes.
    pub fn to_table(&self) -> String {
        let mut out = format!(
            "{} labelled texts ({} failed to classify)\n\n",
            self.texts, self.errors
        );
        let table = |out: &mut String, rows: &BTreeMap<String, LabelCounts>| {
            out.push_str(&format!(
                "{:<18} {:>6} {:>9} {:>7} {:>9} {:>7}\n",
                "label", "pos", "precision", "recall", "negatives", "FPR"
            ));
            for (k, c) in rows {
                out.push_str(&format!(
                    "{k:<18} {:>6} {:>9.3} {:>7.3} {:>9} {:>7.4}\n",
                    c.positives,
                    c.precision(),
                    c.recall(),
                    c.negatives,
                    c.fpr()
                ));
            }
        };
        table(&mut out, &self.by_label);
        if self.by_source.len() > 1 {
            for (source, rows) in &self.by_source {
                out.push_str(&format!("\nsource {source}\n"));
                table(&mut out, rows);
            }
        }
        let c = &self.cascade;
        out.push_str(&format!(
            "\ncascade: {} windows, {:.1}% cached, {:.1}% of the rest read by the encoder; {} of {} texts reached the encoder; {} windows unread over budget\n",
            c.windows,
            100.0 * c.cache_hit_rate(),
            100.0 * c.encoder_share(),
            c.texts_encoded,
            c.texts,
            c.unread
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attack_read_as_the_other_attack_label_counts_as_caught() {
        let set = |xs: &[&str]| {
            xs.iter()
                .map(|x| x.to_string())
                .collect::<BTreeSet<String>>()
        };
        let gold_pi: BTreeSet<&str> = ["prompt_injection"].into();
        // Injection read as a jailbreak: wrong label, but blocked all the same.
        let rows = grouped(&gold_pi, &set(&["jailbreak"]));
        assert_eq!(rows[0], (ANY_INTENT, true, true));
        assert_eq!(rows[1], (ATTACK, true, true));
        // Harmful is intent but not an attack: it is logged, not blocked.
        let rows = grouped(&gold_pi, &set(&["harmful"]));
        assert_eq!(rows[1], (ATTACK, true, false));
        let gold_harmful: BTreeSet<&str> = ["harmful"].into();
        let rows = grouped(&gold_harmful, &set(&["harmful"]));
        assert_eq!(rows[0], (ANY_INTENT, true, true));
        assert_eq!(rows[1], (ATTACK, false, false));
        // A benign text given a jailbreak label is an attack false positive.
        let rows = grouped(&BTreeSet::new(), &set(&["jailbreak", "source_code"]));
        assert_eq!(rows[1], (ATTACK, false, true));
        assert_eq!(
            grouped(&BTreeSet::new(), &set(&["source_code"]))[1],
            (ATTACK, false, false)
        );
    }

    #[test]
    fn counts_give_precision_recall_and_fpr() {
        let mut c = LabelCounts::default();
        for (g, p) in [
            (true, true),
            (true, false),
            (false, true),
            (false, false),
            (false, false),
        ] {
            c.add(g, p);
        }
        assert_eq!(
            (
                c.positives,
                c.true_positives,
                c.negatives,
                c.false_positives
            ),
            (2, 1, 3, 1)
        );
        assert!((c.precision() - 0.5).abs() < 1e-9);
        assert!((c.recall() - 0.5).abs() < 1e-9);
        assert!((c.fpr() - 1.0 / 3.0).abs() < 1e-9);
        let empty = LabelCounts::default();
        assert_eq!(
            (empty.precision(), empty.recall(), empty.fpr()),
            (1.0, 1.0, 0.0)
        );
    }
}
