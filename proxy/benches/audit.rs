//! Where the audit writer's time per event goes, on the writer thread: serializing the
//! canonical body, the chain hash over it, and the SQLite insert (512 events per transaction,
//! `synchronous=NORMAL` so that the disk's fsync latency stays out of a CPU measure). Baseline in
//! the same run: the same rows inserted pre-serialized into the same schema, unchained and
//! without tag rows, which is what SQLite alone costs (as `audit_bench`'s raw row, minus fsync).
//!
//! Run: `cargo bench -p promptwall --bench audit`

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use promptwall::audit::event::{CoverageRow, ReasonRow};
use promptwall::audit::{hash_of, AuditEvent, AuditStore, Durability};

/// A request record as the proxy writes one for a chat turn: a user in a group, one redaction
/// reason, and the coverage of a five-message prompt.
fn event(i: usize) -> AuditEvent {
    AuditEvent {
        id: format!("19b0c2d3e4f-{i:x}"),
        time: format!(
            "2026-12-06T{:02}:{:02}:{:02}.{:03}Z",
            i / 3_600_000 % 24,
            i / 60_000 % 60,
            i / 1000 % 60,
            i % 1000
        ),
        kind: "ai_request".into(),
        tenant: "acme".into(),
        user: Some(format!("user{}@acme.example", i % 500)),
        groups: vec!["eng".into()],
        client_addr: Some("10.1.2.3".into()),
        provider: Some("openai".into()),
        host: "api.openai.com".into(),
        endpoint: Some("/v1/chat/completions".into()),
        model: Some("gpt-4o-mini".into()),
        request_bytes: 4600,
        decision: "redact".into(),
        mode: "enforce".into(),
        policy_version: 3,
        reasons: vec![ReasonRow {
            rule: "mask-pii".into(),
            action: "redact".into(),
            category: Some("pii".into()),
            entity: "email".into(),
            count: 1,
            max_score: 0.9,
        }],
        redactions: 1,
        classifier: "off".into(),
        segments: 5,
        inspect_us: 41,
        status: 200,
        coverage: Some(CoverageRow {
            scanned: (0..5).map(|m| format!("/messages/{m}/content")).collect(),
            ..CoverageRow::default()
        }),
        ..AuditEvent::default()
    }
}

fn fresh_store(dir: &std::path::Path, name: &str) -> AuditStore {
    let path = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
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
    // The writer's path: serialize, chain, insert the row and its tag rows, commit.
    let mut store = fresh_store(dir.as_path(), "chained.db");
    group.bench_function("chained_with_tags", |b| {
        b.iter_batched(
            &mut batch,
            |mut events| store.insert(&mut events).unwrap(),
            BatchSize::LargeInput,
        )
    });
    group.finish();
    drop(store);
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
