//! `promptwall rules list|test`.

use std::path::Path;
use std::process::ExitCode;

/// Lists every rule: id, category, entity, severity, pack.
pub fn list(builtin: bool, dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let engine = classifiers::load_engine(builtin, dir)?;
    for r in engine.rules() {
        println!(
            "{}\t{}\t{}\t{:?}\t{}",
            r.id, r.category, r.entity, r.severity, r.source
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs every rule's positive and negative examples; fails on any mismatch.
pub fn test(builtin: bool, dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let engine = classifiers::load_engine(builtin, dir)?;
    let failures = engine.test_examples();
    for f in &failures {
        println!("FAIL {} ({}): {}", f.rule, f.source, f.message);
    }
    println!("{} rules, {} failures", engine.rule_count(), failures.len());
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
