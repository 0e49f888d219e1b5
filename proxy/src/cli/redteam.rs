//! `promptwall redteam`: every rule's own examples hidden by evasions, alone and chained, run
//! against the pattern engine in-process or against a running proxy over real HTTP (in each
//! provider's shape). Prints detection per evasion × family and the blind spots; writes JSON
//! and an HTML page; with `--baseline`, fails when robustness dropped below it.

use classifiers::redteam::{self, Report, Seed};
use std::path::PathBuf;
use std::process::ExitCode;

/// The shipped intent seeds for red-teaming the content classifier.
pub const INTENT_SEEDS: &str = include_str!("../../../rules/redteam/intent_seeds.jsonl");

/// What to run and where the results go.
pub struct Options {
    /// Intent seeds to use instead of the rules' examples: against `model` in-process, or
    /// through the proxy at `target`, whose classifier and policy decide.
    pub intent: Option<Vec<Seed>>,
    /// The content classifier, for an in-process run with `intent`.
    pub model: Option<std::sync::Arc<classifiers::onnx::ContentClassifier>>,
    pub seed: u64,
    /// A running proxy's gateway (`http://127.0.0.1:8081`); `None`: the engine in-process.
    pub target: Option<String>,
    pub providers: Vec<String>,
    /// Against a proxy: at most this many examples per rule (requests add up).
    pub per_rule: usize,
    /// Only these evasions (by name, chains as `a+b`); empty: all.
    pub only: Vec<String>,
    pub json: Option<PathBuf>,
    pub html: Option<PathBuf>,
    pub baseline: Option<PathBuf>,
    pub engine: classifiers::PatternEngine,
}

/// The request body a provider's chat endpoint takes, carrying `text` as the user's message
/// (or, where the evasion cut it, as consecutive user messages).
fn request(provider: &str, text: &str) -> (&'static str, serde_json::Value) {
    let parts: Vec<&str> = text.split(redteam::mutate::MESSAGE_BREAK).collect();
    match provider {
        "anthropic" => (
            "/anthropic/v1/messages",
            serde_json::json!({"model": "claude-sonnet-4", "max_tokens": 64,
                "messages": [{"role": "user", "content": parts.iter().map(|p| serde_json::json!({"type": "text", "text": p})).collect::<Vec<_>>()}]}),
        ),
        "gemini" => (
            "/gemini/v1beta/models/gemini-2.0-flash:generateContent",
            serde_json::json!({"contents": [{"role": "user", "parts": parts.iter().map(|p| serde_json::json!({"text": p})).collect::<Vec<_>>()}]}),
        ),
        _ => (
            "/openai/v1/chat/completions",
            serde_json::json!({"model": "gpt-4o-mini",
                "messages": parts.iter().map(|p| serde_json::json!({"role": "user", "content": p})).collect::<Vec<_>>()}),
        ),
    }
}

/// Runs the harness; the exit code says whether a baseline was kept.
pub fn run(o: Options) -> anyhow::Result<ExitCode> {
    let (mut seeds, benign) = match &o.intent {
        Some(intent) => (intent.clone(), redteam::intent_benign()),
        None => (redteam::seeds(&o.engine), redteam::benign(&o.engine)),
    };
    let mut evasions = redteam::plan();
    if !o.only.is_empty() {
        evasions.retain(|(name, _)| o.only.contains(name));
        anyhow::ensure!(!evasions.is_empty(), "--only names no known evasion");
    }
    let report = match (&o.model, &o.target) {
        (Some(model), None) => run_classifier(model, &seeds, o.seed, evasions),
        (None, None) => {
            let engine = &o.engine;
            redteam::run(
                &seeds,
                &benign,
                o.seed,
                evasions,
                |text, s| {
                    redteam::scan_messages(engine, text)
                        .iter()
                        .any(|f| f.category.as_str() == s.family)
                },
                |text| !redteam::scan_messages(engine, text).is_empty(),
            )
        }
        (_, Some(base)) => {
            // A sample per rule: every request is a real round trip.
            let mut per: std::collections::HashMap<String, usize> = Default::default();
            seeds.retain(|s: &Seed| {
                let n = per.entry(s.rule.clone()).or_default();
                *n += 1;
                *n <= o.per_rule
            });
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let http = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()?;
            let blocked = |text: &str| -> bool {
                o.providers.iter().all(|p| {
                    let (path, body) = request(p, text);
                    rt.block_on(async {
                        http.post(format!("{}{path}", base.trim_end_matches('/')))
                            .json(&body)
                            .send()
                            .await
                            .is_ok_and(|r| r.status() == reqwest::StatusCode::FORBIDDEN)
                    })
                })
            };
            redteam::run(
                &seeds,
                &benign,
                o.seed,
                evasions,
                |t, _| blocked(t),
                |t| blocked(t),
            )
        }
    };
    print!("{}", report.table());
    if let Some(p) = &o.json {
        std::fs::write(p, serde_json::to_string_pretty(&report)? + "\n")?;
    }
    if let Some(p) = &o.html {
        std::fs::write(p, report.html())?;
    }
    if let Some(p) = &o.baseline {
        let baseline: Report = serde_json::from_str(&std::fs::read_to_string(p)?)?;
        let regressions = report.regressions(&baseline);
        if !regressions.is_empty() {
            println!("\nrobustness dropped below {}:", p.display());
            for r in regressions {
                println!("  {r}");
            }
            return Ok(ExitCode::FAILURE);
        }
        println!("\nno regression against {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The content classifier as the target: a seed is caught when its mutated text gets the
/// seed's label (at the model's threshold); a benign text is flagged when it gets any intent
/// label. Messages are joined with newlines and windowed by message, as the proxy gives the
/// model a request's texts.
pub fn run_classifier(
    model: &classifiers::onnx::ContentClassifier,
    seeds: &[Seed],
    seed: u64,
    evasions: Vec<(String, Vec<classifiers::redteam::Mutation>)>,
) -> Report {
    const INTENT: [&str; 3] = ["prompt_injection", "jailbreak", "harmful"];
    let labels = |text: &str| -> Vec<String> {
        // Joined and windowed as the proxy does a request's messages (`classifier_text`).
        let joined =
            crate::inspect::ClassifierText::join(text.split(redteam::mutate::MESSAGE_BREAK));
        model
            .classify_segments_in(
                "",
                &joined.text,
                &joined.segments,
                std::time::Duration::from_secs(60),
            )
            .ok()
            .into_iter()
            .flat_map(|l| {
                l.scores
                    .into_iter()
                    .filter(|(k, v)| model.thresholds.get(k).is_some_and(|t| v >= t))
                    .map(|(k, _)| k)
            })
            .collect()
    };
    redteam::run(
        seeds,
        &redteam::intent_benign(),
        seed,
        evasions,
        |text, s| labels(text).contains(&s.family),
        |text| labels(text).iter().any(|l| INTENT.contains(&l.as_str())),
    )
}
