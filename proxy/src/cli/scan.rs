//! `promptwall scan`: JSONL (`{"id":..,"text":..}`) or plain text in, one decision per line out,
//! with the same engine and policy logic as the proxy.

use anyhow::Context as _;
use policy::{CompiledPolicy, Context, Direction, LabelsOutcome, Located, TenantKey};
use serde_json::json;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;

/// Options of one scan run.
pub struct ScanArgs<'a> {
    pub input: &'a str,
    pub tenant: &'a str,
    pub policy: Option<&'a Path>,
    pub rules_dir: Option<&'a Path>,
    pub state_dir: &'a Path,
    /// The content classifier, when it loaded (labels are empty otherwise).
    pub classifier: Option<std::sync::Arc<classifiers::onnx::ContentClassifier>>,
    pub classifier_deadline: std::time::Duration,
}

/// Scans every line of the input and writes one JSON line per input line.
pub fn run(args: &ScanArgs<'_>) -> anyhow::Result<ExitCode> {
    let engine = classifiers::load_engine(true, args.rules_dir)?;
    let policy = match args.policy {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            CompiledPolicy::from_yaml(&p.display().to_string(), &text)?
        }
        None => CompiledPolicy::default_for(args.tenant),
    };
    // Keyed hashes match the proxy's when the state dir holds its master key.
    let master =
        std::fs::read(args.state_dir.join(crate::state::MASTER_KEY_FILE)).unwrap_or_else(|_| {
            let mut k = vec![0u8; 32];
            let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut k);
            k
        });
    let key = TenantKey::derive(&master, policy.tenant());
    let reader: Box<dyn BufRead> = if args.input == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(args.input).with_context(|| format!("opening {}", args.input))?,
        ))
    };
    let mut out = std::io::stdout().lock();
    let mut buf = Vec::new();
    let mut reader = reader;
    let mut n = 0usize;
    loop {
        buf.clear();
        if reader
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("{}: line {}", args.input, n + 1))?
            == 0
        {
            break;
        }
        n += 1;
        // Invalid UTF-8 is scanned after lossy decoding rather than rejected.
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        let (id, text) = match serde_json::from_str::<serde_json::Value>(line) {
            Ok(v) if v.get("text").is_some_and(|t| t.is_string()) => (
                v.get("id").cloned().unwrap_or(json!(n)),
                v["text"].as_str().unwrap_or_default().to_string(),
            ),
            _ => (json!(n), line.to_string()),
        };
        let findings: Vec<Located> = engine
            .scan(&text)
            .into_iter()
            .map(|finding| Located {
                segment: 0,
                finding,
            })
            .collect();
        let labels = match &args.classifier {
            None => LabelsOutcome::NotRun,
            Some(c) => match c.classify(&text, args.classifier_deadline) {
                Ok(l) => LabelsOutcome::Scored(l.scores),
                Err(e) => LabelsOutcome::Failed(e.to_string()),
            },
        };
        let ctx = Context {
            direction: Direction::Request,
            label_thresholds: args.classifier.as_ref().map(|c| &c.thresholds),
            ..Context::default()
        };
        let decision = policy.evaluate(&ctx, &[&text], &findings, &labels);
        // `redacted` never echoes a finding: the policy's rewrite, else every finding masked.
        let plan = if decision.redactions.is_empty() {
            let mut plan = policy::RedactionPlan::default();
            for l in decision.findings(&findings) {
                let f = &l.finding;
                plan.push(0, f.start..f.end, &f.entity, policy::Operator::Mask, 0);
            }
            plan
        } else {
            decision.redactions.clone()
        };
        let redacted = policy::redact::apply(&plan, &[&text], &key)
            .texts
            .into_iter()
            .next()
            .flatten();
        let record = json!({
            "id": id,
            "decision": decision.action.as_str(),
            "would": decision.would.map(|w| w.as_str()),
            "findings": decision.findings(&findings).iter().map(|l| &l.finding).collect::<Vec<_>>(),
            "labels": match &labels {
                LabelsOutcome::Scored(s) => json!(s.iter().map(|(k, v)| (k.clone(), (v * 1000.0).round() / 1000.0)).collect::<std::collections::BTreeMap<_, _>>()),
                _ => json!({}),
            },
            "reasons": decision.reasons,
            "redacted": redacted.unwrap_or(text),
        });
        writeln!(out, "{record}")?;
    }
    Ok(ExitCode::SUCCESS)
}
