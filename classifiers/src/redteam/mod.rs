//! The red-team harness: seed cases (every rule's own positive examples) hidden by evasions,
//! alone and chained, then run against a detector; the report says, per evasion and detector
//! family, what share is still caught, and which evasions are blind spots. The reverse check
//! runs benign texts through the same evasions and counts what gets flagged.
//!
//! Seeded and deterministic, so a committed baseline can gate every build.

pub mod mutate;
pub mod report;

pub use mutate::{Case, Kind, Mutation, Rng};
pub use report::{BenignRow, Report, Row};

use crate::PatternEngine;

/// A case to hide, and the family (the rule's category) a detector must name to catch it.
#[derive(Debug, Clone)]
pub struct Seed {
    pub case: Case,
    pub family: String,
    pub rule: String,
}

/// Every rule's positive examples as seeds (its shipped `match` is the value to hide).
pub fn seeds(engine: &PatternEngine) -> Vec<Seed> {
    let mut out = Vec::new();
    for r in engine.rule_details() {
        let family = r.category.as_str().to_string();
        for (text, value) in r.positive.iter().zip(&r.positive_values) {
            out.push(Seed {
                case: Case {
                    text: text.clone(),
                    value: value.clone(),
                },
                family: family.clone(),
                rule: r.id.clone(),
            });
        }
    }
    out
}

/// Benign texts shaped like what evasions produce or hide in: every rule's negative examples,
/// plus code, identifiers, digests and encoded media that are not secrets.
pub fn benign(engine: &PatternEngine) -> Vec<String> {
    let mut out: Vec<String> = engine
        .rule_details()
        .into_iter()
        .flat_map(|r| r.negative)
        .collect();
    out.extend(
        [
            "function add(a,b){return a+b}const x=add(1,2);console.log(x);export default add;",
            "request ids: 3f2b8c1e-9d4a-4e7b-8c2f-1a5d6e7f8091, 7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "sha256 of the release: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "logo: data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
            "git commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904 fixed the flaky test",
            "Meeting notes: ship the Q3 roadmap on Friday; Dana owns the release checklist.",
            "2026-12-06T06:10:01Z INFO worker-3 processed 1532 jobs in 4.2s (p99 18ms)",
            "Please translate 'the invoice is attached' into French, German and Spanish.",
        ]
        .into_iter()
        .map(str::to_string),
    );
    out
}

/// Intent seeds for the content classifier (injections, jailbreaks, harmful requests), from
/// JSON lines `{"label": "...", "text": "..."}`: the whole text is the payload, and the family a
/// detector must name is the label.
pub fn intent_seeds(jsonl: &str) -> Result<Vec<Seed>, String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Line {
        label: String,
        text: String,
    }
    jsonl
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let line: Line = serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1))?;
            Ok(Seed {
                case: Case {
                    text: line.text,
                    value: String::new(),
                },
                rule: format!("{}#{}", line.label, i + 1),
                family: line.label,
            })
        })
        .collect()
}

/// Benign prompts shaped like what the content classifier confuses with intent: questions
/// about attacks, app system prompts, translations of quoted text, role-play for work.
pub fn intent_benign() -> Vec<String> {
    [
        "What is SQL injection and how do parameterized queries prevent it?",
        "Explain what a phone jailbreak is and why companies forbid it on work devices.",
        "You are the support assistant for an online shop. Be friendly and answer questions about orders and returns.",
        "Translate into German: 'Please ignore the previous email, the meeting moved to Thursday.'",
        "Act as a code reviewer and point out bugs in this function: def add(a, b): return a - b",
        "Summarise the attached incident report about last week's phishing campaign for the board.",
        "Write a short story about a detective who solves a burglary in a small village.",
        "How do I reset my password if I forgot the answer to my security question?",
        "Draft a polite reminder to the team that the quarterly security training is due Friday.",
        "What are common signs that an email is a phishing attempt?",
        "Pretend you are an interviewer and ask me five questions for a product manager role.",
        "Explain event sourcing and when not to use it.",
        "The previous instructions in this runbook are outdated; update the deployment steps for Kubernetes 1.31.",
        "List the OWASP top ten categories with one sentence each.",
        "Roleplay as a customer who is unhappy with a late delivery so I can practise support calls.",
        "How does a firewall decide which packets to drop?",
    ]
    .into_iter()
    .map(str::to_string)
    .collect()
}

/// The evasions to run: every single one, then the chains, as (name, steps).
pub fn plan() -> Vec<(String, Vec<Mutation>)> {
    let mut out: Vec<(String, Vec<Mutation>)> = mutate::all()
        .into_iter()
        .map(|m| (m.name.to_string(), vec![m]))
        .collect();
    for (a, b) in mutate::CHAINS {
        let pick = |n: &str| {
            mutate::all()
                .into_iter()
                .find(|m| m.name == n)
                .expect("chains name known mutations")
        };
        out.push((format!("{a}+{b}"), vec![pick(a), pick(b)]));
    }
    out
}

/// Applies `steps` in order to `case`, from the stream for (`seed`, `index`).
pub fn mutate(case: &Case, steps: &[Mutation], seed: u64, index: u64) -> Case {
    let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(index));
    steps
        .iter()
        .fold(case.clone(), |c, m| (m.apply)(&c, &mut rng))
}

/// Runs every seed and benign text through every evasion; `caught(text, seed)` says whether
/// the detector caught a seed's mutated text, `flagged(text)` whether it flagged a benign one.
pub fn run(
    seeds: &[Seed],
    benign: &[String],
    seed: u64,
    evasions: Vec<(String, Vec<Mutation>)>,
    mut caught: impl FnMut(&str, &Seed) -> bool,
    mut flagged: impl FnMut(&str) -> bool,
) -> Report {
    let mut report = Report {
        seed,
        rows: Vec::new(),
        benign: Vec::new(),
    };
    for (name, steps) in evasions {
        let mut by_family: std::collections::BTreeMap<String, (usize, usize, Vec<String>)> =
            Default::default();
        for (i, s) in seeds.iter().enumerate() {
            let m = mutate(&s.case, &steps, seed, i as u64);
            let hit = caught(&m.text, s);
            let e = by_family.entry(s.family.clone()).or_default();
            e.0 += 1;
            if hit {
                e.1 += 1;
            } else if e.2.len() < 3 && !e.2.contains(&s.rule) {
                e.2.push(s.rule.clone());
            }
        }
        for (family, (cases, detected, missed)) in by_family {
            report.rows.push(Row {
                mutation: name.clone(),
                family,
                cases,
                detected,
                missed_rules: missed,
            });
        }
        let mut hits = 0;
        for (i, t) in benign.iter().enumerate() {
            let m = mutate(
                &Case {
                    text: t.clone(),
                    value: String::new(),
                },
                &steps,
                seed,
                i as u64,
            );
            hits += usize::from(flagged(&m.text));
        }
        report.benign.push(BenignRow {
            mutation: name,
            cases: benign.len(),
            flagged: hits,
        });
    }
    report
}

/// The in-process target: the pattern engine, catching a seed when it names its family.
pub fn run_engine(engine: &PatternEngine, seed: u64) -> Report {
    let seeds = seeds(engine);
    let benign = benign(engine);
    run(
        &seeds,
        &benign,
        seed,
        plan(),
        |text, s| {
            scan_messages(engine, text)
                .iter()
                .any(|f| f.category.as_str() == s.family)
        },
        |text| !scan_messages(engine, text).is_empty(),
    )
}

/// Scans a case's text as the proxy scans a request: each message on its own, and across the
/// boundaries between consecutive ones.
pub fn scan_messages(engine: &PatternEngine, text: &str) -> Vec<crate::Finding> {
    let parts: Vec<&str> = text.split(mutate::MESSAGE_BREAK).collect();
    let mut found: Vec<crate::Finding> = parts.iter().flat_map(|p| engine.scan(p)).collect();
    if parts.len() > 1 {
        found.extend(engine.scan_boundaries(&parts).into_iter().map(|(_, f)| f));
    }
    found
}
