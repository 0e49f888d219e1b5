//! Audit log benchmark: durable, chained write throughput next to raw `INSERT` of the same rows
//! (the baseline, same run, same disk), then auditor query latency on a large database.
//!
//! ```sh
//! cargo run --release -p promptwall --example audit_bench -- [ROWS] [DIR]
//! ```
//! `ROWS` (default 10,000,000) is the size of the query database; it is built once in `DIR`
//! (default the system temp dir) and reused by later runs; `0` measures the writes only.

use promptwall::audit::samples;
use promptwall::audit::{AuditEvent, AuditStore, AuditWriter, Filter};
use std::time::{Duration, Instant};

const TENANTS: usize = 20;
const USERS: usize = 500;
const DAYS: usize = 90;

/// A realistic event: most allowed, some redacted PII, a few blocked secrets.
fn event(i: usize) -> AuditEvent {
    // Independent pseudo-random fields from one index (so tenants do not share a decision).
    let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 8;
    let pick = |shift: u32, n: u64| ((h >> shift) % n) as usize;
    let day = pick(8, DAYS as u64);
    let time = format!(
        "2026-{:02}-{:02}T{:02}:{:02}:00.000Z",
        8 + day / 30,
        1 + day % 30,
        pick(16, 24),
        pick(24, 60)
    );
    let mut e = samples::chat_request(i, format!("tenant{}", i % TENANTS), time);
    e.user = Some(format!("user{}", pick(32, USERS as u64)));
    e.provider = Some(["openai", "anthropic", "gemini"][pick(44, 3)].into());
    e.response_bytes = 2400;
    e.upstream_ms = 380;
    e.total_ms = 381;
    match pick(0, 20) {
        0 => {
            e.decision = "block".into();
            e.reasons = vec![samples::blocked_for_a_key()];
        }
        1 | 2 => {
            e.decision = "redact".into();
            e.reasons = vec![samples::redacted_email(2)];
        }
        _ => {}
    }
    e
}

/// The event the proxy would write at position `i` of a live run: the same fields, stamped
/// with the time it is written (a millisecond apart), as the proxy stamps each record with
/// the clock; the query database instead spreads its rows over 90 days.
fn live_event(i: usize) -> AuditEvent {
    let mut e = event(i);
    let ms = i % 1000;
    let s = i / 1000;
    e.time = format!(
        "2026-12-06T{:02}:{:02}:{:02}.{ms:03}Z",
        s / 3600 % 24,
        s / 60 % 60,
        s % 60
    );
    e
}

/// Raw `INSERT`s of pre-serialized rows into the same schema, no chaining, one transaction
/// per `batch` rows: what SQLite alone costs.
fn raw_insert(path: &std::path::Path, events: &[AuditEvent], batch: usize) -> f64 {
    samples::remove_database(path);
    drop(AuditStore::open(path).unwrap());
    let mut c = rusqlite::Connection::open(path).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    c.pragma_update(None, "synchronous", "FULL").unwrap();
    let rows: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.id.clone(), serde_json::to_string(e).unwrap()))
        .collect();
    let t = Instant::now();
    for chunk in events.iter().zip(&rows).collect::<Vec<_>>().chunks(batch) {
        let tx = c.transaction().unwrap();
        {
            let mut st = tx.prepare_cached("INSERT INTO events (id, time, kind, tenant, user, provider, model, decision, categories, entities, rules, groups, body, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, '', '')").unwrap();
            for (e, (id, body)) in chunk {
                st.execute(rusqlite::params![
                    id,
                    e.time,
                    e.kind,
                    e.tenant,
                    e.user,
                    e.provider,
                    e.model,
                    e.decision,
                    ",secret,",
                    ",aws_access_key,",
                    ",no-credentials,",
                    ",eng,",
                    body
                ])
                .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    events.len() as f64 / t.elapsed().as_secs_f64()
}

/// The proxy's path: concurrent requests each wait for their event's commit.
fn writer_throughput(path: &std::path::Path, n: usize, producers: usize) -> f64 {
    samples::remove_database(path);
    writer_run(path, n, producers)
}

/// The same on a log that already holds `rows` chained events (written through the store in
/// large transactions first): the indexes' B-trees are then larger than a batch, as in a log
/// that has run for a while, and each insert dirties pages of its own.
fn writer_throughput_on(path: &std::path::Path, rows: usize, n: usize, producers: usize) -> f64 {
    samples::remove_database(path);
    let mut store = AuditStore::open(path).unwrap();
    for start in (0..rows).step_by(4096) {
        let mut chunk: Vec<AuditEvent> = (start..(start + 4096).min(rows))
            .map(|i| live_event(n + i))
            .collect();
        store.insert(&mut chunk).unwrap();
    }
    // As a log that has run for a while: its users indexed (the writer keeps up from here).
    store.index_derived().unwrap();
    drop(store);
    writer_run(path, n, producers)
}

fn writer_run(path: &std::path::Path, n: usize, producers: usize) -> f64 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let w = AuditWriter::start(path, 10_000, promptwall::audit::Durability::Full).unwrap();
        let t = Instant::now();
        let mut tasks = Vec::new();
        for p in 0..producers {
            let w = w.clone();
            tasks.push(tokio::spawn(async move {
                let mut i = p;
                while i < n {
                    w.record(live_event(i)).await.unwrap();
                    i += producers;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        n as f64 / t.elapsed().as_secs_f64()
    })
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rows: usize = args.get(1).map_or(10_000_000, |a| a.parse().expect("ROWS"));
    let dir = args
        .get(2)
        .map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("audit_bench: cannot create {}: {e}", dir.display());
        std::process::exit(2);
    }

    // Writes: the same 50,000 events both ways.
    let n = 50_000;
    let events: Vec<AuditEvent> = (0..n).map(live_event).collect();
    let wpath = dir.join("pw-audit-bench-write.db");
    let raw_each = raw_insert(&wpath, &events, 1);
    let raw_batched = raw_insert(&wpath, &events, 512);
    let commits = || {
        let h = &promptwall::metrics::METRICS.audit_write_seconds;
        (h.get_sample_count(), h.get_sample_sum())
    };
    let c0 = commits();
    let w64 = writer_throughput(&wpath, n, 64);
    let c1 = commits();
    let w512 = writer_throughput(&wpath, n, 512);
    let c2 = commits();
    let prefill = 300_000;
    let w512_on = writer_throughput_on(&wpath, prefill, n, 512);
    let c3 = commits();
    // Per phase: how many transactions the writer made and how long each took (insert + commit).
    let batches = |a: (u64, f64), b: (u64, f64)| {
        let k = (b.0 - a.0).max(1);
        format!(
            "{k} transactions, {:.0} events each, {:.2} ms each",
            n as f64 / k as f64,
            1e3 * (b.1 - a.1) / k as f64
        )
    };
    println!("write throughput, {n} events, synchronous=FULL (durable):");
    println!("  baseline raw INSERT, one commit per row    {raw_each:>10.0} rows/s");
    println!("  baseline raw INSERT, 512 rows per commit   {raw_batched:>10.0} rows/s");
    println!("  AuditWriter, 64 concurrent requests        {w64:>10.0} events/s (chained, acked after commit; {})", batches(c0, c1));
    println!(
        "  AuditWriter, 512 concurrent requests       {w512:>10.0} events/s ({})",
        batches(c1, c2)
    );
    println!(
        "  the same on a log of {prefill} events        {w512_on:>10.0} events/s ({})",
        batches(c2, c3)
    );
    samples::remove_database(&wpath);
    if rows == 0 {
        return;
    }

    // Queries on a large log (built once).
    let qpath = dir.join(format!("pw-audit-bench-{rows}.db"));
    let mut store = AuditStore::open(&qpath).unwrap();
    let have = store
        .stats(&Filter::default(), "tenant")
        .unwrap()
        .iter()
        .map(|(_, n)| *n as usize)
        .sum::<usize>();
    if have < rows {
        let t = Instant::now();
        let mut i = have;
        while i < rows {
            let end = (i + 50_000).min(rows);
            let mut batch: Vec<AuditEvent> = (i..end).map(event).collect();
            store.insert(&mut batch).unwrap();
            i = end;
            if i % 1_000_000 == 0 {
                eprintln!("  built {i} rows ({:.0}s)", t.elapsed().as_secs_f64());
            }
        }
        eprintln!("built {rows} rows in {:.0}s", t.elapsed().as_secs_f64());
    }
    // As the writer's checkpoint thread would have done while the log grew.
    store.index_derived().unwrap();
    let size = std::fs::metadata(&qpath).map(|m| m.len()).unwrap_or(0);
    println!(
        "\nqueries on {rows} rows ({:.1} GB), median of 5 after a warm-up:",
        size as f64 / 1e9
    );
    let base = Filter {
        tenant: Some("tenant3".into()),
        limit: 100,
        ..Filter::default()
    };
    let cases: Vec<(&str, Filter, Option<&str>)> = vec![
        (
            "tenant + category=secret + since (100 rows)",
            Filter {
                category: Some("secret".into()),
                since: Some("2026-10-01".into()),
                ..base.clone()
            },
            None,
        ),
        (
            "tenant + user (100 rows)",
            Filter {
                user: Some("user42".into()),
                ..base.clone()
            },
            None,
        ),
        (
            "tenant + action=block + one day",
            Filter {
                action: Some("block".into()),
                since: Some("2026-09-10".into()),
                until: Some("2026-09-11".into()),
                ..base.clone()
            },
            None,
        ),
        (
            "tenant + rule, last page (after seq)",
            Filter {
                rule: Some("no-credentials".into()),
                after: Some(rows as i64 - 20_000),
                ..base.clone()
            },
            None,
        ),
        (
            "stats by day, tenant, one week",
            Filter {
                since: Some("2026-10-01".into()),
                until: Some("2026-10-08".into()),
                ..base.clone()
            },
            Some("day"),
        ),
        (
            "stats by decision, tenant, one day",
            Filter {
                since: Some("2026-09-10".into()),
                until: Some("2026-09-11".into()),
                ..base.clone()
            },
            Some("decision"),
        ),
        // What the web console asks for: pages newest first, the overview's groupings.
        (
            "console: newest first, tenant (50 rows)",
            Filter {
                newest_first: true,
                limit: 50,
                ..base.clone()
            },
            None,
        ),
        (
            "console: newest first, category=secret + block",
            Filter {
                newest_first: true,
                limit: 50,
                category: Some("secret".into()),
                action: Some("block".into()),
                ..base.clone()
            },
            None,
        ),
        (
            "console: stats by category, tenant, one week",
            Filter {
                since: Some("2026-10-01".into()),
                until: Some("2026-10-08".into()),
                ..base.clone()
            },
            Some("category"),
        ),
        (
            "console: stats by hour, tenant, one day",
            Filter {
                since: Some("2026-09-10".into()),
                until: Some("2026-09-11".into()),
                ..base.clone()
            },
            Some("hour"),
        ),
        (
            "console: destinations, tenant, one week",
            Filter {
                since: Some("2026-10-01".into()),
                until: Some("2026-10-08".into()),
                ..base.clone()
            },
            Some("destinations"),
        ),
    ];
    for (name, f, by) in cases {
        let run = || {
            let t = Instant::now();
            let n = match by {
                Some("destinations") => store.destinations(&f).unwrap().len(),
                Some(by) => store.stats(&f, by).unwrap().len(),
                None => store.query(&f).unwrap().len(),
            };
            (t.elapsed(), n)
        };
        let (_, n) = run();
        let d = median((0..5).map(|_| run().0).collect());
        println!(
            "  {name:<45} {:>9.2} ms  ({n} results)",
            d.as_secs_f64() * 1e3
        );
    }
}
