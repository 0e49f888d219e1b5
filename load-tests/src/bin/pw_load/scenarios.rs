//! One scenario: a closed or open loop of requests through one client, counted per answer.

use super::mix::{Carries, Prompt};
use super::procs::Proxy;
use super::{Args, Outcome};
use hdrhistogram::Histogram;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One request's result: `Ok(blocked)` for a correct answer (200, or 403 for a prompt that
/// carries something), or the failure's kind.
async fn send(client: &reqwest::Client, url: &str, prompt: &Prompt) -> Result<bool, String> {
    let r = client
        .post(url)
        .header("content-type", "application/json")
        .body(prompt.body.clone())
        .send()
        .await;
    let r = match r {
        Ok(r) => r,
        Err(e) if e.is_connect() => return Err("connect".into()),
        Err(e) if e.is_timeout() => return Err("timeout".into()),
        Err(_) => return Err("transport".into()),
    };
    let status = r.status().as_u16();
    let blocked = match (status, prompt.carries) {
        (200, _) => false,
        (403, c) if c != Carries::Nothing => true,
        (s, _) => return Err(format!("http {s}")),
    };
    r.bytes().await.map_err(|_| "body".to_string())?;
    Ok(blocked)
}

/// Counts of one worker (or of the whole scenario once merged).
struct Tally {
    hist: Histogram<u64>,
    ok: usize,
    blocked: usize,
    errors: usize,
    kinds: std::collections::BTreeMap<String, usize>,
}

impl Tally {
    fn new() -> Self {
        Tally {
            hist: Histogram::new(3).expect("histogram"),
            ok: 0,
            blocked: 0,
            errors: 0,
            kinds: Default::default(),
        }
    }

    fn add(&mut self, result: Result<bool, String>, since: Instant) {
        match result {
            Ok(blocked) => {
                self.ok += 1;
                self.blocked += usize::from(blocked);
                let _ = self.hist.record(since.elapsed().as_micros() as u64);
            }
            Err(kind) => {
                self.errors += 1;
                *self.kinds.entry(kind).or_default() += 1;
            }
        }
    }

    fn merge(&mut self, other: Tally) {
        let _ = self.hist.add(&other.hist);
        self.ok += other.ok;
        self.blocked += other.blocked;
        self.errors += other.errors;
        for (k, n) in other.kinds {
            *self.kinds.entry(k).or_default() += n;
        }
    }
}

/// Runs one scenario to its request count (after warming the pool), and what it measured:
/// answers by kind, latency, and the proxy's CPU and memory where one is in the path.
pub(super) async fn scenario(
    name: &'static str,
    client: reqwest::Client,
    url: String,
    prompts: Arc<Vec<Prompt>>,
    args: &Args,
    proxy: Option<&Proxy>,
) -> Outcome {
    // Warm the connection pool so the table compares steady state, not handshakes.
    for i in 0..args.concurrency {
        let _ = send(&client, &url, &prompts[i % prompts.len()]).await;
    }
    let before = proxy.map(Proxy::usage);
    let deadline = Instant::now() + Duration::from_secs(args.deadline_secs);
    let started = Instant::now();
    let mut total = Tally::new();
    if args.rate > 0.0 {
        // Open loop: request i leaves at i / rate, whether or not earlier ones have answered.
        let mut tasks = Vec::with_capacity(args.requests);
        for i in 0..args.requests {
            let at = started + Duration::from_secs_f64(i as f64 / args.rate);
            if at > deadline {
                break;
            }
            let (client, url, prompts) = (client.clone(), url.clone(), prompts.clone());
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep_until(at.into()).await;
                let p = &prompts[i % prompts.len()];
                let left = deadline.saturating_duration_since(Instant::now());
                let r = tokio::time::timeout(left, send(&client, &url, p))
                    .await
                    .unwrap_or_else(|_| Err("timeout".into()));
                let mut t = Tally::new();
                t.add(r, at);
                t
            }));
        }
        for t in tasks {
            if let Ok(t) = t.await {
                total.merge(t);
            }
        }
    } else {
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..args.concurrency {
            let (client, url, prompts, next, count) = (
                client.clone(),
                url.clone(),
                prompts.clone(),
                next.clone(),
                args.requests,
            );
            tasks.push(tokio::spawn(async move {
                let mut t = Tally::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= count || Instant::now() >= deadline {
                        break;
                    }
                    let since = Instant::now();
                    t.add(
                        send(&client, &url, &prompts[i % prompts.len()]).await,
                        since,
                    );
                }
                t
            }));
        }
        for t in tasks {
            if let Ok(t) = t.await {
                total.merge(t);
            }
        }
    }
    let elapsed = started.elapsed();
    let (cpu, rss_kib) = match (proxy.map(Proxy::usage), before) {
        (Some((after, rss)), Some((before, _))) => (Some(after - before), rss),
        _ => (None, 0),
    };
    Outcome {
        name,
        ok: total.ok,
        blocked: total.blocked,
        errors: total.errors,
        error_kinds: total.kinds,
        elapsed,
        hist: total.hist,
        cpu,
        rss_kib,
    }
}
