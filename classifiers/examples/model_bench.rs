//! Latency and throughput of the classifier, next to a raw session run in the same process:
//! `cargo run --release -p classifiers --example model_bench`.
//!
//! Batch-1 p50/p99 at 32, 128 and 256 tokens through the batching worker vs `run_direct` (the
//! baseline: one `Session::run` on the same input), then throughput at concurrency 1, 8, 32,
//! then chat turns: distinct ~1.3 KB texts (a full window and a tail each) from 8 threads, with
//! the share of the encoder's tokens that were padding.
//! `SESSIONS` and `MAX_BATCH` override the pool size (1) and the batch limit (the default).

use classifiers::onnx::{ContentClassifier, ModelConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

fn text_of_tokens(n: usize) -> String {
    // About one token per short word.
    let words = [
        "plan", "team", "budget", "review", "launch", "notes", "meeting", "risk",
    ];
    (0..n.saturating_sub(2))
        .map(|i| words[i % words.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() {
    let sessions: usize = std::env::var("SESSIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let max_batch: usize = std::env::var("MAX_BATCH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(classifiers::onnx::DEFAULT_MAX_BATCH);
    let m = Arc::new(
        ContentClassifier::load(ModelConfig {
            sessions,
            max_batch,
            // Every section times the model: a resent text would be answered by the cache.
            cache_entries: 0,
            window_bytes: std::env::var("WINDOW_BYTES")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(4000),
            ..ModelConfig::default()
        })
        .unwrap_or_else(|e| panic!("{e}")),
    );
    println!(
        "provider: {}, sessions: {sessions}, max batch: {max_batch}",
        m.provider
    );
    println!("| tokens | raw run p50 ms | raw run p99 ms | via worker p50 ms | via worker p99 ms | overhead p50 |");
    println!("|---|---|---|---|---|---|");
    for tokens in [32, 128, 256] {
        let text = text_of_tokens(tokens);
        for _ in 0..5 {
            m.run_direct(&[&text]).unwrap();
        }
        let (mut raw, mut via) = (Vec::new(), Vec::new());
        for _ in 0..60 {
            let t = Instant::now();
            m.run_direct(&[&text]).unwrap();
            raw.push(t.elapsed());
            let t = Instant::now();
            m.classify(&text, Duration::from_secs(10)).unwrap();
            via.push(t.elapsed());
        }
        let (r50, r99, v50, v99) = (
            pct(&mut raw, 0.5),
            pct(&mut raw, 0.99),
            pct(&mut via, 0.5),
            pct(&mut via, 0.99),
        );
        println!(
            "| {tokens} | {r50:.2} | {r99:.2} | {v50:.2} | {v99:.2} | {:+.1}% |",
            (v50 / r50 - 1.0) * 100.0
        );
    }
    println!();
    println!("| concurrency | requests/s (128 tokens) | p50 ms | p99 ms |");
    println!("|---|---|---|---|");
    let text = Arc::new(text_of_tokens(128));
    for conc in [1usize, 8, 32] {
        let per = 240 / conc.max(1);
        let text = text.clone();
        let (mut all, secs) = concurrently(&m, conc, per, move |m, _, _| {
            m.classify(&text, Duration::from_secs(30)).unwrap();
        });
        println!(
            "| {conc} | {:.0} | {:.2} | {:.2} |",
            all.len() as f64 / secs,
            pct(&mut all, 0.5),
            pct(&mut all, 0.99)
        );
    }
    chat_turns(&m);
}

/// Distinct texts of a full 1,000-byte window plus a tail (a new chat message rarely ends on a
/// window edge), none cached: texts per second, and how much of the encoder's work was padding.
fn chat_turns(m: &Arc<ContentClassifier>) {
    let before = m.batch_stats();
    let (threads, per) = (8usize, 12usize);
    let (mut all, secs) = concurrently(m, threads, per, move |m, t, i| {
        let text = format!(
            "turn {t}-{i}: please review the plan. {}",
            text_of_tokens(230 + 17 * ((t * per + i) % 5))
        );
        m.classify_in("bench", &text, Duration::from_secs(60))
            .unwrap();
    });
    let after = m.batch_stats();
    let (runs, rows) = (after.batches - before.batches, after.rows - before.rows);
    let (scored, padded) = (
        after.tokens - before.tokens,
        after.padded_tokens - before.padded_tokens,
    );
    println!();
    println!("| chat turns (8 threads) | texts/s | p50 ms | p99 ms | windows per run | padding |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} texts of ~1.3 KB | {:.1} | {:.0} | {:.0} | {:.2} | {:.1}% of {padded} tokens |",
        all.len(),
        all.len() as f64 / secs,
        pct(&mut all, 0.5),
        pct(&mut all, 0.99),
        rows as f64 / runs.max(1) as f64,
        100.0 * (padded - scored) as f64 / padded.max(1) as f64
    );
}

/// Runs `call(model, thread, i)` `per` times on each of `threads` threads; each call's latency,
/// and the seconds the whole took.
fn concurrently(
    m: &Arc<ContentClassifier>,
    threads: usize,
    per: usize,
    call: impl Fn(&ContentClassifier, usize, usize) + Send + Sync + 'static,
) -> (Vec<Duration>, f64) {
    let call = Arc::new(call);
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (m, call) = (m.clone(), call.clone());
            std::thread::spawn(move || {
                (0..per)
                    .map(|i| {
                        let started = Instant::now();
                        call(&m, t, i);
                        started.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let all = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    (all, start.elapsed().as_secs_f64())
}
