//! Fleet shipper benchmark: events/s from a node's SQLite spool into ClickHouse, next to a raw
//! batched `INSERT` of the same rows (the baseline, same run, same server), then the
//! end-to-end lag (commit → queryable in ClickHouse) while events are written at a steady
//! rate.
//!
//! ```sh
//! cargo run --release -p promptwall --example ship_bench -- http://127.0.0.1:8123 [ROWS] [RATE]
//! ```
//! `ROWS` (default 200,000) for the throughput runs; `RATE` events/s (default 5,000) for ten
//! seconds for the lag run. Uses databases `ship_bench_*` on that server (dropped first).

use promptwall::audit::samples;
use promptwall::audit::{AuditEvent, AuditStore, AuditWriter, Durability};
use promptwall::fleet::clickhouse::{ClickHouse, Shipper};
use std::time::{Duration, Instant};

fn event(i: usize) -> AuditEvent {
    let mut e = samples::chat_request(
        i,
        format!("tenant{}", i % 20),
        promptwall::audit::event::now(),
    );
    if i.is_multiple_of(20) {
        e.decision = "block".into();
        e.reasons = vec![samples::blocked_for_a_key()];
    }
    e
}

async fn sql(url: &str, q: &str) -> String {
    reqwest::Client::new()
        .post(format!("{url}/"))
        .body(q.to_string())
        .send()
        .await
        .expect("ClickHouse answers")
        .text()
        .await
        .unwrap_or_default()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:8123".into());
    let rows: usize = args.get(2).map_or(200_000, |a| a.parse().expect("ROWS"));
    let rate: usize = args.get(3).map_or(5_000, |a| a.parse().expect("RATE"));
    let dir = std::env::temp_dir().join("pw-ship-bench");
    std::fs::create_dir_all(&dir).unwrap();
    for db in ["ship_bench_raw", "ship_bench_ship", "ship_bench_lag"] {
        sql(&url, &format!("DROP DATABASE IF EXISTS {db}")).await;
    }
    println!("ClickHouse {}", sql(&url, "SELECT version()").await.trim());

    // The spool: ROWS committed, chained events.
    let spool = dir.join("spool.db");
    samples::remove_database(&spool);
    let mut store = AuditStore::open_with(&spool, Durability::Normal).unwrap();
    for chunk in (0..rows).collect::<Vec<_>>().chunks(5000) {
        let mut batch: Vec<AuditEvent> = chunk.iter().map(|&i| event(i)).collect();
        store.insert(&mut batch).unwrap();
    }
    let all = store.rows_after(0, rows).unwrap();

    // Baseline: the same rows, already in memory, posted in 5,000-row JSONEachRow batches.
    let raw = ClickHouse::new(&url, "ship_bench_raw", Duration::from_secs(60));
    raw.migrate().await.unwrap();
    let t = Instant::now();
    for chunk in all.chunks(5000) {
        raw.insert("bench", chunk).await.unwrap();
    }
    let raw_rate = rows as f64 / t.elapsed().as_secs_f64();

    // The shipper: read from SQLite, insert, move the durable cursor; batch 5,000.
    let ch = ClickHouse::new(&url, "ship_bench_ship", Duration::from_secs(60));
    let cursor = dir.join("ship.cursor");
    let _ = std::fs::remove_file(&cursor);
    let shipper = Shipper {
        ch: ch.clone(),
        node: "bench".into(),
        audit_db: spool.clone(),
        cursor: cursor.clone(),
        batch: 5000,
        interval: Duration::from_millis(50),
    };
    let t = Instant::now();
    let handle = tokio::spawn(shipper.run());
    loop {
        let acked: i64 = std::fs::read_to_string(&cursor)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        if acked >= rows as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ship_rate = rows as f64 / t.elapsed().as_secs_f64();
    handle.abort();
    println!("throughput, {rows} events (same server, same run):");
    println!("  baseline raw batched INSERT (5,000 rows, rows in memory)  {raw_rate:>10.0} rows/s");
    println!(
        "  shipper (SQLite spool -> ClickHouse, durable cursor)     {ship_rate:>10.0} events/s"
    );

    // Lag: RATE events/s through the real writer for ten seconds while the shipper runs.
    let live = dir.join("live.db");
    samples::remove_database(&live);
    let writer = AuditWriter::start(&live, 65_536, Durability::Normal).unwrap();
    let lag_cursor = dir.join("lag.cursor");
    let _ = std::fs::remove_file(&lag_cursor);
    let lag_ch = ClickHouse::new(&url, "ship_bench_lag", Duration::from_secs(10));
    let shipper = Shipper {
        ch: lag_ch,
        node: "bench".into(),
        audit_db: live.clone(),
        cursor: lag_cursor.clone(),
        batch: 5000,
        interval: Duration::from_millis(100),
    };
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(shipper.run())
    });
    let total = rate * 10;
    let mut lags = Vec::new();
    let start = Instant::now();
    let tick = Duration::from_millis(10);
    let per_tick = (rate / 100).max(1);
    let mut sent = 0usize;
    while sent < total {
        let due = start + tick * (sent / per_tick) as u32;
        tokio::time::sleep_until(due.into()).await;
        let mut waits = Vec::with_capacity(per_tick);
        for i in sent..(sent + per_tick).min(total) {
            waits.push(writer.enqueue(event(i)).await.unwrap());
        }
        for w in waits {
            w.committed().await.unwrap();
        }
        sent += per_tick;
        if sent % rate < per_tick {
            lags.push(promptwall::metrics::METRICS.ship_lag_seconds.get());
        }
    }
    let written = Instant::now();
    loop {
        let acked: i64 = std::fs::read_to_string(&lag_cursor)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        if acked >= total as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let drain = written.elapsed();
    lags.sort_by(|a, b| a.total_cmp(b));
    let max = lags.last().copied().unwrap_or(0.0);
    let med = lags.get(lags.len() / 2).copied().unwrap_or(0.0);
    println!(
        "lag at {rate} events/s for 10 s ({} samples of the oldest unshipped row's age): median {med:.2} s, max {max:.2} s; the last row was in ClickHouse {:.0} ms after the writer's last commit",
        lags.len(),
        drain.as_secs_f64() * 1e3
    );
}
