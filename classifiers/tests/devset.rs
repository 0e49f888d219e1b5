//! Detection quality on the development set (classifiers/eval/devset.jsonl, built by
//! gen_devset.py). Floors guard against regressions; the full table is printed by
//! `promptwall eval classifiers/eval/devset.jsonl`.

use classifiers::eval::{evaluate, parse_jsonl};

#[test]
fn development_set_quality_stays_above_its_floors() {
    let samples = parse_jsonl(include_str!("../eval/devset.jsonl")).unwrap();
    let engine = classifiers::builtin_engine().unwrap();
    let report = evaluate(&engine, &samples);
    println!("{}", report.to_table());
    let cat = |c: &str| report.by_category.get(c).cloned().unwrap_or_default();
    let secret = cat("secret");
    assert!(
        secret.precision() >= 0.98 && secret.recall() >= 0.98,
        "secret {secret:?}"
    );
    let pci = cat("pci");
    assert!(
        pci.precision() >= 0.97 && pci.recall() >= 0.95,
        "pci {pci:?}"
    );
    let pii = cat("pii");
    assert!(
        pii.precision() >= 0.97 && pii.recall() >= 0.85,
        "pii {pii:?}"
    );
    for c in ["secret", "pci", "pii", "financial"] {
        let fpr = report
            .false_positive_rate
            .get(c)
            .map(|f| f.rate())
            .unwrap_or(0.0);
        assert!(fpr <= 0.01, "{c} FPR {fpr}");
    }
}
