//! Insider-risk job on a large usage log: the first catch-up over every event, an incremental
//! one after new events arrive, and a day's assessment, with the process's peak memory.
//!
//! `cargo run --release -p promptwall --example risk_bench -- 10000000 /tmp/rb`
//! builds (once) a log of simulated users (`risk::simulate`, cohorts of 1,000 users over 49
//! days) with that many events, then measures. Baseline in the same run: a plain scan of the
//! same rows (`SELECT` of the columns the rollup reads), the floor any rollup pays.

use promptwall::audit::AuditStore;
use promptwall::risk::simulate::{self, Scenario};
use promptwall::risk::RiskStore;
use std::time::Instant;

fn status(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rows: usize = args.get(1).map_or(10_000_000, |a| a.parse().expect("ROWS"));
    let dir = args
        .get(2)
        .map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    let audit_path = dir.join(format!("pw-risk-bench-{rows}.db"));
    let mut audit = AuditStore::open(&audit_path).unwrap();
    let mut have = audit.last_row().unwrap().map_or(0, |(seq, _)| seq) as usize;
    let t = Instant::now();
    let mut cohort = 0u64;
    while have < rows {
        // One cohort at a time, so building stays bounded in memory too.
        let (activities, _) = simulate::generate(&Scenario {
            seed: 1000 + cohort,
            users: 1000,
            history_days: 35,
            eval_days: 14,
            ..Scenario::default()
        });
        let mut events: Vec<_> = activities
            .iter()
            .take(rows - have)
            .map(|a| {
                let mut e = simulate::to_event(a);
                e.tenant = format!("tenant{cohort}");
                e
            })
            .collect();
        for chunk in events.chunks_mut(50_000) {
            audit.insert(chunk).unwrap();
        }
        have += events.len();
        cohort += 1;
        eprintln!("  built {have} rows ({:.0}s)", t.elapsed().as_secs_f64());
    }
    let size = std::fs::metadata(&audit_path).map(|m| m.len()).unwrap_or(0);
    println!(
        "usage log: {have} events ({:.1} GB), {}",
        size as f64 / 1e9,
        audit_path.display()
    );

    // Baseline: reading the same rows and nothing else.
    let rss0 = status("VmRSS:");
    let t = Instant::now();
    let mut scanned = 0usize;
    let mut at = 0;
    loop {
        let page = audit.activity_after(at, 20_000).unwrap();
        let Some(last) = page.last() else { break };
        at = last.seq;
        scanned += page.len();
    }
    let scan_s = t.elapsed().as_secs_f64();
    println!(
        "baseline: scan of the rows the rollup reads  {scanned} in {scan_s:.1} s ({:.0} events/s)",
        scanned as f64 / scan_s
    );

    let risk_path = dir.join(format!("pw-risk-bench-{rows}.risk.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", risk_path.display()));
    }
    let mut risk = RiskStore::open(&risk_path).unwrap();
    let t = Instant::now();
    let first = risk.catch_up(&audit).unwrap();
    let first_s = t.elapsed().as_secs_f64();
    println!(
        "first catch-up: {} events in {} pages of at most {} in {first_s:.1} s ({:.0} events/s)",
        first.events,
        first.pages,
        first.max_page,
        first.events as f64 / first_s
    );
    println!(
        "  memory: resident {} MiB before, peak {} MiB",
        rss0 / 1024,
        status("VmHWM:") / 1024
    );

    // New traffic: 100,000 more events (generating them costs memory of its own), then the
    // incremental run.
    let (more, _) = simulate::generate(&Scenario {
        seed: 99_999,
        users: 300,
        history_days: 14,
        eval_days: 14,
        ..Scenario::default()
    });
    let mut events: Vec<_> = more.iter().take(100_000).map(simulate::to_event).collect();
    for chunk in events.chunks_mut(50_000) {
        audit.insert(chunk).unwrap();
    }
    let t = Instant::now();
    let next = risk.catch_up(&audit).unwrap();
    println!(
        "incremental catch-up: {} new events in {:.2} s",
        next.events,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let none = risk.catch_up(&audit).unwrap();
    println!(
        "catch-up with nothing new: {} events in {:.3} s",
        none.events,
        t.elapsed().as_secs_f64()
    );

    // A day's assessment of one tenant (1,000 users) and of all of them.
    let day = "2026-10-20";
    let t = Instant::now();
    let one = promptwall::risk::assess(&risk, Some("tenant0"), day, 28, None).unwrap();
    println!(
        "assess one tenant ({} users) on {day}: {:.3} s, {} alerts",
        one.len(),
        t.elapsed().as_secs_f64(),
        one.iter().filter(|r| r.alert).count()
    );
    let t = Instant::now();
    let (mut users, mut alerts) = (0, 0);
    for tenant in risk.tenants().unwrap() {
        let r = promptwall::risk::assess(&risk, Some(&tenant), day, 28, None).unwrap();
        users += r.len();
        alerts += r.iter().filter(|r| r.alert).count();
    }
    println!(
        "assess every tenant, one at a time as the job does ({users} users) on {day}: {:.3} s, {alerts} alerts",
        t.elapsed().as_secs_f64(),
    );
    println!(
        "peak resident memory of the whole run: {} MiB",
        status("VmHWM:") / 1024
    );
}
