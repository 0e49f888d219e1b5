//! `promptwall audit query|stats|verify|export`: the usage log for auditors.

use crate::audit::{AuditEvent, AuditStore, Filter};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Output formats of `audit query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Jsonl,
    Csv,
}

/// Formats of `audit export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Cef,
}

/// A CSV field, quoted when it holds a separator, a quote or a line break (RFC 4180).
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn summary(e: &AuditEvent) -> [String; 10] {
    let reasons: Vec<String> = e
        .reasons
        .iter()
        .map(|r| format!("{}:{}x{}", r.rule, r.entity, r.count))
        .collect();
    [
        e.seq.to_string(),
        e.time.clone(),
        e.kind.clone(),
        e.tenant.clone(),
        e.user.clone().unwrap_or_else(|| "-".into()),
        e.provider.clone().unwrap_or_else(|| "-".into()),
        e.model.clone().unwrap_or_else(|| "-".into()),
        e.decision.clone(),
        // A request record is written before the upstream answers; its status is in the
        // response record that follows it.
        match e.status {
            0 => "-".into(),
            s => s.to_string(),
        },
        reasons.join(" "),
    ]
}

/// Prints the events matching `filter`.
/// Where the log is read: this node's SQLite file, or the fleet's ClickHouse.
pub enum Source {
    Local(std::path::PathBuf),
    Fleet(crate::fleet::clickhouse::ClickHouse),
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> anyhow::Result<T> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f))
}

impl Source {
    fn query(&self, filter: &Filter) -> anyhow::Result<Vec<crate::audit::AuditEvent>> {
        match self {
            Source::Local(db) => Ok(AuditStore::open(db)?.query(filter)?),
            Source::Fleet(ch) => Ok(block_on(ch.query(filter))??),
        }
    }

    fn stats(&self, filter: &Filter, by: &str) -> anyhow::Result<Vec<(String, i64)>> {
        match self {
            Source::Local(db) => Ok(AuditStore::open(db)?.stats(filter, by)?),
            Source::Fleet(ch) => Ok(block_on(ch.stats(filter, by))??),
        }
    }
}

/// `audit verify --fleet`: every node's chain as stored in ClickHouse.
pub fn verify_fleet(ch: &crate::fleet::clickhouse::ClickHouse) -> anyhow::Result<ExitCode> {
    match block_on(ch.verify())? {
        Ok(nodes) => {
            for (node, n) in nodes {
                println!("ok: node {node}: {n} events, chain intact");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            for p in problems {
                println!("FAILED: {p}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

pub fn query(source: &Source, filter: &Filter, format: Format) -> anyhow::Result<ExitCode> {
    let events = source.query(filter)?;
    let mut out = std::io::stdout().lock();
    match format {
        Format::Jsonl => {
            for e in &events {
                writeln!(out, "{}", serde_json::to_string(e)?)?;
            }
        }
        Format::Csv => {
            writeln!(
                out,
                "seq,time,kind,tenant,user,provider,model,decision,status,reasons"
            )?;
            for e in &events {
                writeln!(
                    out,
                    "{}",
                    summary(e)
                        .iter()
                        .map(|f| csv_field(f))
                        .collect::<Vec<_>>()
                        .join(",")
                )?;
            }
        }
        Format::Table => {
            writeln!(
                out,
                "{:>6}  {:<24} {:<12} {:<10} {:<10} {:<10} {:<14} {:<12} {:>6}  reasons",
                "seq", "time", "kind", "tenant", "user", "provider", "model", "decision", "status"
            )?;
            for e in &events {
                let f = summary(e);
                writeln!(
                    out,
                    "{:>6}  {:<24} {:<12} {:<10} {:<10} {:<10} {:<14} {:<12} {:>6}  {}",
                    f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9]
                )?;
            }
        }
    }
    if let (Some(last), true) = (events.last(), events.len() == filter.limit.max(1)) {
        eprintln!("more may follow: --after {}", last.seq);
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints counts grouped by `by`.
pub fn stats(source: &Source, filter: &Filter, by: &str) -> anyhow::Result<ExitCode> {
    for (k, n) in source.stats(filter, by)? {
        println!("{n:>8}  {k}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks the hash chain; a failure names the first bad row.
pub fn verify(db: &Path) -> anyhow::Result<ExitCode> {
    let store = AuditStore::open(db)?;
    match store.verify() {
        Ok(n) => {
            println!("ok: {n} events, chain intact");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("FAILED: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Escapes a CEF extension value (`\\`, `=`, and line breaks, which end a record).
pub fn cef_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('=', "\\=")
        .replace(['\n', '\r'], " ")
}

/// Writes matching events for a SIEM, as JSON lines or CEF.
pub fn export(source: &Source, filter: &Filter, format: ExportFormat) -> anyhow::Result<ExitCode> {
    let mut f = filter.clone();
    f.limit = if f.limit == 0 { 10_000 } else { f.limit };
    let mut out = std::io::stdout().lock();
    // The fleet's log pages by time (each node numbers its own rows): the events already
    // written at the page's last instant are skipped on the next page.
    let mut boundary: std::collections::HashSet<String> = Default::default();
    loop {
        let events = source.query(&f)?;
        for e in events.iter().filter(|e| !boundary.contains(&e.hash)) {
            match format {
                ExportFormat::Jsonl => writeln!(out, "{}", serde_json::to_string(e)?)?,
                ExportFormat::Cef => {
                    let severity = match e.decision.as_str() {
                        "block" | "coach" => 7,
                        "redact" => 5,
                        d if d.starts_with("would_") => 4,
                        _ => 2,
                    };
                    let rules: Vec<&str> = e.reasons.iter().map(|r| r.rule.as_str()).collect();
                    writeln!(
                        out,
                        "CEF:0|PromptWall|PromptWall|{}|{}|{}|{severity}|rt={} suser={} cs1Label=tenant cs1={} cs2Label=provider cs2={} cs3Label=rules cs3={} request={} outcome={} externalId={}",
                        env!("CARGO_PKG_VERSION"),
                        e.kind,
                        e.decision,
                        cef_escape(&e.time),
                        cef_escape(e.user.as_deref().unwrap_or("-")),
                        cef_escape(&e.tenant),
                        cef_escape(e.provider.as_deref().unwrap_or("-")),
                        cef_escape(&rules.join(",")),
                        cef_escape(&format!("{}{}", e.host, e.endpoint.as_deref().unwrap_or(""))),
                        e.status,
                        cef_escape(&e.id),
                    )?;
                }
            }
        }
        let Some(last) = events.last().filter(|_| events.len() == f.limit) else {
            break;
        };
        match source {
            Source::Local(_) => f.after = Some(last.seq),
            Source::Fleet(_) => {
                let t = last.time.clone();
                let at_t: std::collections::HashSet<String> = events
                    .iter()
                    .filter(|e| e.time == t)
                    .map(|e| e.hash.clone())
                    .collect();
                if at_t.len() == events.len() && f.since.as_deref() == Some(t.as_str()) {
                    anyhow::bail!("more than {} events at {t}: raise --limit", f.limit);
                }
                boundary = at_t;
                f.since = Some(t);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_record_not_yet_answered_shows_no_status() {
        let mut e = AuditEvent {
            kind: "ai_request".into(),
            ..Default::default()
        };
        assert_eq!(summary(&e)[8], "-");
        e.status = 403;
        assert_eq!(summary(&e)[8], "403");
    }
}
