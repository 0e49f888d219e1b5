//! `promptwall eval`: detection quality on a labelled JSONL set, for the pattern rules (spans)
//! and, when samples carry `labels`, for the content classifier.

use crate::config::Config;
use anyhow::Context;
use std::path::Path;
use std::process::ExitCode;

/// What `promptwall eval` was asked.
pub struct EvalArgs<'a> {
    pub file: &'a Path,
    pub rules: Option<&'a Path>,
    /// Its `classifier` section loads the model (disabled: no label rows).
    pub config: &'a Config,
    pub threads: usize,
    pub json: bool,
}

/// Runs both evaluations and prints them; a labelled set without a loadable model is an error
/// (exit 2), not a silent pattern-only report.
pub fn run(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let samples = classifiers::eval::parse_jsonl(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let engine = classifiers::load_engine(true, args.rules)?;
    let patterns = classifiers::eval::evaluate(&engine, &samples);
    let wants_labels = samples.iter().any(|s| s.labels.is_some());
    let labels = if wants_labels && args.config.classifier.enabled {
        let model = crate::serve::load_classifier(args.config).map_err(|e| {
            anyhow::anyhow!("the samples carry labels but the classifier could not load: {e} (use --no-model to skip them)")
        })?;
        Some(classifiers::eval::labels::evaluate(
            &model,
            &samples,
            args.threads,
        ))
    } else {
        None
    };
    if args.json {
        let mut v = serde_json::to_value(&patterns)?;
        if let Some(l) = &labels {
            v["labels"] = serde_json::to_value(l)?;
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", patterns.to_table());
        if let Some(l) = &labels {
            println!();
            print!("{}", l.to_table());
        }
    }
    Ok(ExitCode::SUCCESS)
}
