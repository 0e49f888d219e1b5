//! The red-team gate: the pattern engine's robustness to every evasion, per detector family,
//! must not drop below the committed baseline (`rules/redteam/baseline.json`), and the same
//! evasions must not flag more benign text. Seeded, so the run is the same everywhere.
//!
//! After an intended change (a new rule, a fixed blind spot), refresh the baseline with
//! `REDTEAM_WRITE_BASELINE=1 cargo test -p classifiers --test redteam` and commit it.

use classifiers::redteam::{run_engine, Report};
use classifiers::{builtin_engine, PatternEngine};
use std::sync::OnceLock;

fn engine() -> &'static PatternEngine {
    static E: OnceLock<PatternEngine> = OnceLock::new();
    E.get_or_init(|| builtin_engine().expect("built-in packs compile"))
}

fn baseline_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/redteam/baseline.json")
}

#[test]
fn robustness_holds_against_the_committed_baseline() {
    let report = run_engine(engine(), 1);
    // Without an evasion every rule catches its own examples.
    for r in report.rows.iter().filter(|r| r.mutation == "none") {
        assert_eq!(r.detected, r.cases, "{r:?}");
    }
    if std::env::var_os("REDTEAM_WRITE_BASELINE").is_some() {
        std::fs::write(
            baseline_path(),
            serde_json::to_string_pretty(&report).unwrap() + "\n",
        )
        .unwrap();
        println!("{}", report.table());
        return;
    }
    let baseline: Report = serde_json::from_str(
        &std::fs::read_to_string(baseline_path()).expect("rules/redteam/baseline.json"),
    )
    .expect("the baseline parses");
    let regressions = report.regressions(&baseline);
    assert!(
        regressions.is_empty(),
        "robustness dropped below the baseline:\n{}\n\n{}",
        regressions.join("\n"),
        report.table()
    );
}

#[test]
fn the_run_is_deterministic() {
    assert_eq!(run_engine(engine(), 3), run_engine(engine(), 3));
}
