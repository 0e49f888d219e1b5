//! What a run prints: the scenario table with ratios and CPU per request, the stream table,
//! and the classifier's counters read from a proxy's /metrics.

use super::procs::Proxy;
use super::{Args, Outcome};
use hdrhistogram::Histogram;
use load_tests::streams::StreamOutcome;
use std::fmt::Write as _;

/// The classifier's counters from a proxy's /metrics: how its windows were settled and how
/// many texts failed (a failed text is not in the window counts; on_classifier_error decided it).
#[derive(Default)]
pub(super) struct ClassifierSplit {
    /// cached, settled, encoded, unread
    windows: [f64; 4],
    /// reached the encoder, did not, failed
    texts: [f64; 3],
    /// tokens the encoder scored, and what its runs padded them to
    tokens: [f64; 2],
}

impl ClassifierSplit {
    const OUTCOMES: [&'static str; 4] = ["cached", "settled", "encoded", "unread"];
    const TEXTS: [&'static str; 3] = ["yes", "no", "failed"];

    pub(super) async fn read(p: &Proxy) -> Self {
        let mut s = ClassifierSplit::default();
        for (v, o) in s.windows.iter_mut().zip(Self::OUTCOMES) {
            *v = p
                .metric(&format!("promptwall_classifier_windows{{outcome=\"{o}\"}}"))
                .await;
        }
        for (v, k) in s.texts.iter_mut().zip(Self::TEXTS) {
            *v = p
                .metric(&format!("promptwall_classifier_texts{{encoder=\"{k}\"}}"))
                .await;
        }
        for (v, k) in s.tokens.iter_mut().zip(["scored", "padded"]) {
            *v = p
                .metric(&format!("promptwall_classifier_tokens{{kind=\"{k}\"}}"))
                .await;
        }
        s
    }

    pub(super) fn since(&self, before: &Self) -> Self {
        let mut d = ClassifierSplit::default();
        for i in 0..4 {
            d.windows[i] = self.windows[i] - before.windows[i];
        }
        for i in 0..3 {
            d.texts[i] = self.texts[i] - before.texts[i];
        }
        for i in 0..2 {
            d.tokens[i] = self.tokens[i] - before.tokens[i];
        }
        d
    }

    pub(super) fn print(&self, name: &str) {
        let total: f64 = self.windows.iter().sum();
        let mut split = String::new();
        for (o, n) in Self::OUTCOMES.iter().zip(&self.windows) {
            let _ = write!(split, "{o} {n:.0} ({:.1}%), ", 100.0 * n / total.max(1.0));
        }
        let [cached, settled, encoded, _] = self.windows;
        let [yes, no, failed] = self.texts;
        let [scored, padded] = self.tokens;
        println!(
            "classifier in \"{name}\" (warm-up included): windows {split}cache hit rate {:.1}%, encoder share of uncached windows {:.1}%; texts: {yes:.0} reached the encoder, {no:.0} did not, {failed:.0} failed (deadline or model error); tokens: {scored:.0} scored, {padded:.0} run ({:.1}% padding)",
            100.0 * cached / total.max(1.0),
            100.0 * encoded / (encoded + settled).max(1.0),
            100.0 * (padded - scored) / padded.max(1.0)
        );
    }
}

/// The proxy's CPU microseconds per answered request, where its CPU was measured.
fn cpu_per_request(o: &Outcome) -> Option<f64> {
    let n = o.ok + o.blocked + o.errors;
    o.cpu.filter(|_| n > 0).map(|c| c * 1e6 / n as f64)
}

/// The scenario table, with ratios against direct, the tunnel and nginx from the same run.
pub(super) fn print_table(args: &Args, outcomes: &[Outcome]) {
    println!(
        "requests={} {} prompt_bytes={}..{} secret_share={} pii_share={} injection_share={} (same run, same machine, same mock upstream)",
        args.requests,
        if args.rate > 0.0 {
            format!("open loop at {} req/s", args.rate)
        } else {
            format!("closed loop, concurrency={}", args.concurrency)
        },
        args.prompt_bytes,
        args.prompt_bytes_max.unwrap_or(args.prompt_bytes),
        args.secret_share,
        args.pii_share,
        args.injection_share
    );
    println!(
        "| scenario | ok | blocked | errors | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | req/s vs direct | req/s vs tunnel | p99 vs tunnel | proxy CPU s | proxy CPU µs/req | proxy RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let base = &outcomes[0];
    let tunnel = outcomes
        .iter()
        .find(|o| o.name.contains("tunnel"))
        .unwrap_or(base);
    let rps = |o: &Outcome| o.ok as f64 / o.elapsed.as_secs_f64();
    let p = |o: &Outcome, q: f64| o.hist.value_at_quantile(q) as f64 / 1000.0;
    for o in outcomes {
        println!(
            "| {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2}x | {:.2}x | {:.2}x | {} | {} | {} |",
            o.name,
            o.ok,
            o.blocked,
            o.errors,
            rps(o),
            p(o, 0.5),
            p(o, 0.9),
            p(o, 0.99),
            p(o, 0.999),
            rps(o) / rps(base),
            rps(o) / rps(tunnel),
            p(o, 0.99) / p(tunnel, 0.99),
            o.cpu.map_or("-".to_string(), |c| format!("{c:.2}")),
            cpu_per_request(o).map_or("-".to_string(), |c| format!("{c:.0}")),
            if o.rss_kib > 0 { format!("{:.0}", o.rss_kib as f64 / 1024.0) } else { "-".into() },
        );
    }
    for o in outcomes.iter().filter(|o| o.errors > 0) {
        let kinds: Vec<String> = o
            .error_kinds
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        println!("errors in \"{}\": {}", o.name, kinds.join(", "));
    }
    let find = |needle: &str| outcomes.iter().find(|o| o.name.contains(needle));
    if let Some(nginx) = find("nginx") {
        println!("\nAgainst the nginx TLS pass-through (same run, same client, same mock):");
        for o in outcomes.iter().filter(|o| !o.name.contains("nginx")) {
            // CPU per request does not depend on how the two cores are shared with the client
            // and the mock, so it compares the proxies' own cost.
            let cpu = match (cpu_per_request(o), cpu_per_request(nginx)) {
                (Some(a), Some(b)) => format!(", proxy CPU per request {:.2}x", a / b),
                _ => String::new(),
            };
            println!(
                "- {}: throughput {:.3}x, p99 {:+.2} ms{cpu}",
                o.name,
                rps(o) / rps(nginx),
                p(o, 0.99) - p(nginx, 0.99)
            );
        }
    }
    for on_name in [
        "gateway (TLS), full rules + classifier",
        "gateway (TLS), full rules + classifier, cascade on",
    ] {
        let (Some(off), Some(on)) = (find("gateway (TLS), full rules + policy"), find(on_name))
        else {
            continue;
        };
        println!(
            "\nClassifier cost through the gateway ({on_name:?} against classifier off; same run; in chat mode, new last messages): throughput {:.2}x of classifier off, p50 {:+.2} ms, p99 {:+.2} ms",
            rps(on) / rps(off),
            p(on, 0.5) - p(off, 0.5),
            p(on, 0.99) - p(off, 0.99),
        );
    }
    if let (Some(pw), Some(peer)) = (
        find("intercept, full rules"),
        find("mitmproxy + same regexes"),
    ) {
        println!(
            "\nPromptWall vs mitmproxy (both intercepting, same rule-pack regexes): throughput {:.2}x, p99 {:.2}x (PromptWall's p99 as a share of mitmproxy's)",
            rps(pw) / rps(peer),
            p(pw, 0.99) / p(peer, 0.99),
        );
    }
}

/// The concurrent-streams table.
pub(super) fn print_stream_table(args: &Args, outcomes: &[(&'static str, StreamOutcome)]) {
    println!(
        "\nstreams={} tokens={} token_delay_ms={} ramp_ms={} (concurrent SSE answers; same run, same mock)",
        args.streams, args.stream_tokens, args.token_delay_ms, args.stream_ramp_ms
    );
    println!(
        "| scenario | streams ok | errors | events/stream p50 | TTFT p50 ms | TTFT p99 ms | inter-token p50 ms | inter-token p99 ms | inter-token p99 added ms | wall s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let base = &outcomes[0].1;
    for (name, o) in outcomes {
        println!(
            "| {name} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:+.2} | {:.2} |",
            o.ok,
            o.errors,
            o.events.value_at_quantile(0.5),
            ms(&o.ttft, 0.5),
            ms(&o.ttft, 0.99),
            ms(&o.gap, 0.5),
            ms(&o.gap, 0.99),
            ms(&o.gap, 0.99) - ms(&base.gap, 0.99),
            o.elapsed.as_secs_f64(),
        );
    }
}
