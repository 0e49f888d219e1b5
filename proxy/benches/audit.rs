//! Where the audit writer's time per event goes, on the writer thread: serializing the
//! canonical body, the chain hash over it, the SQLite insert (512 events per transaction,
//! `synchronous=NORMAL` so that the disk's fsync latency stays out of a CPU measure), and the
//! merge that indexes users and tags after the commit. Baseline in
//! the same run: the same rows inserted pre-serialized into the same schema, unchained and
//! without tag rows, which is what SQLite alone costs (as `audit_bench`'s raw row, minus fsync).
//!
//! Run: `cargo bench -p promptwall --bench audit`

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use promptwall::audit::event::CoverageRow;
use promptwall::audit::{hash_of, samples, AuditEvent, AuditStore, Durability};

/// A request record as the proxy writes one for a chat turn: one redaction reason, and the
/// coverage of a five-message prompt.
fn event(i: usize) -> AuditEvent {
    let time = format!(
        "2026-12-06T{:02}:{:02}:{:02}.{:03}Z",
        i / 3_600_000 % 24,
        i / 60_000 % 60,
        i / 1000 % 60,
        i % 1000
    );
    let mut e = samples::chat_request(i, "acme".into(), time);
    e.decision = "redact".into();
    e.redactions = 1;
    e.reasons = vec![samples::redacted_email(1)];
    e.coverage = Some(CoverageRow {
        scanned: (0..5).map(|m| format!("/messages/{m}/content")).collect(),
        ..CoverageRow::default()
    });
    e
}

fn fresh_store(dir: &std::path::Path, name: &str) -> AuditStore {
    let path = dir.join(name);
    samples::remove_database(&path);
    AuditStore::open_with(&path, Durability::Normal).expect("audit store")
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("pw-audit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut group = c.benchmark_group("audit_event");
    group.throughput(Throughput::Elements(1));
    let e = event(7);
    group.bench_function("serialize", |b| {
        b.iter(|| serde_json::to_string(black_box(&e)).unwrap())
    });
    let prev = "ab".repeat(32);
    group.bench_function("serialize_and_chain_hash", |b| {
        b.iter(|| {
            let body = serde_json::to_string(black_box(&e)).unwrap();
            hash_of(&prev, body.as_bytes())
        })
    });
    group.finish();

    const BATCH: usize = 512;
    let mut group = c.benchmark_group("audit_insert");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    let mut next = 0usize;
    let mut batch = move || {
        next += BATCH;
        (next - BATCH..next).map(event).collect::<Vec<_>>()
    };
    // Baseline: the rows alone, serialized beforehand, one transaction per batch.
    let raw = fresh_store(dir.as_path(), "raw.db");
    drop(raw);
    let mut conn = rusqlite::Connection::open(dir.as_path().join("raw.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    group.bench_function("raw_rows_baseline", |b| {
        b.iter_batched(
            || {
                batch()
                    .into_iter()
                    .map(|e| {
                        let body = serde_json::to_string(&e).unwrap();
                        (e, body)
                    })
                    .collect::<Vec<_>>()
            },
            |rows| {
                let tx = conn.transaction().unwrap();
                {
                    let mut st = tx
                        .prepare_cached(
                            "INSERT INTO events (id, time, kind, tenant, user, provider, model, decision, categories, entities, rules, groups, body, prev_hash, hash)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ',pii,', ',email,', ',mask-pii,', ',eng,', ?9, '', '')",
                        )
                        .unwrap();
                    for (e, body) in &rows {
                        st.execute(rusqlite::params![
                            e.id, e.time, e.kind, e.tenant, e.user, e.provider, e.model, e.decision, body
                        ])
                        .unwrap();
                    }
                }
                tx.commit().unwrap();
            },
            BatchSize::LargeInput,
        )
    });
    // The commit path: serialize, chain, insert the row, commit (the user and tag indexes
    // follow out of the commit path).
    let mut store = fresh_store(dir.as_path(), "chained.db");
    group.bench_function("chained", |b| {
        b.iter_batched(
            &mut batch,
            |mut events| store.insert(&mut events).unwrap(),
            BatchSize::LargeInput,
        )
    });
    // All the writer's work per event: the same, then the merge that indexes the batch's users
    // and tags (the checkpoint thread's, here on the same thread).
    let mut merged = fresh_store(dir.as_path(), "merged.db");
    group.bench_function("chained_then_indexed", |b| {
        b.iter_batched(
            &mut batch,
            |mut events| {
                merged.insert(&mut events).unwrap();
                merged.index_derived().unwrap()
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
    drop(store);
    drop(merged);
    drop(conn);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
