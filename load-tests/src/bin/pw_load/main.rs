//! `pw-load`: drives chat requests at the mock upstream directly and through PromptWall, in one
//! run on one machine, and prints throughput and latency side by side.
//!
//! It starts the mock (TLS) in-process and `promptwall serve` child processes (rules off; full
//! rules and policy; optionally the classifier) configured to send AI traffic to that mock, so
//! every scenario hits the same upstream: direct, blind tunnel, intercepted without and with
//! inspection, gateway. Ratios are against direct and against the blind tunnel. All traffic
//! stays on 127.0.0.1, and every loop is bounded by a request count and a deadline.

use anyhow::bail;
use clap::Parser;
use hdrhistogram::Histogram;
use load_tests::mock::{MockConfig, MockServer};
use load_tests::streams::{StreamOutcome, StreamSpec};
use std::path::PathBuf;

mod mix;
mod procs;
mod stress;
use mix::{Carries, Prompt};
use procs::Proxy;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Side-by-side load: direct to the mock vs through PromptWall")]
struct Args {
    /// The promptwall binary to start.
    #[arg(long, default_value = "target/release/promptwall")]
    promptwall: PathBuf,
    /// Requests per scenario.
    #[arg(long, default_value_t = 1000)]
    requests: usize,
    /// Concurrent clients (closed loop).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Prompt size in bytes (the smallest, with `--prompt-bytes-max`).
    #[arg(long, default_value_t = 256)]
    prompt_bytes: usize,
    /// Largest prompt: sizes are drawn log-uniformly between the two.
    #[arg(long)]
    prompt_bytes_max: Option<usize>,
    /// Share of prompts carrying a secret (an AWS key), 0..1.
    #[arg(long, default_value_t = 0.0)]
    secret_share: f64,
    /// Share of prompts carrying PII (an email address).
    #[arg(long, default_value_t = 0.0)]
    pii_share: f64,
    /// Share of prompts carrying a prompt injection.
    #[arg(long, default_value_t = 0.0)]
    injection_share: f64,
    /// Open loop: requests per second, each sent on schedule whatever the answers do
    /// (latency counts from the scheduled time). 0: closed loop with `--concurrency` clients.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Give up on a scenario after this many seconds.
    #[arg(long, default_value_t = 120)]
    deadline_secs: u64,
    /// Smoke mode: a few requests per scenario, and a non-zero exit on any error.
    #[arg(long)]
    smoke: bool,
    /// The proxies' audit commit durability: `full` (fsync per commit) or `normal`.
    #[arg(long, default_value = "full", value_parser = ["full", "normal"])]
    audit_durability: String,
    /// Concurrent SSE streams in the streaming scenarios (0 skips them).
    #[arg(long, default_value_t = 1000)]
    streams: usize,
    /// Tokens per streamed answer.
    #[arg(long, default_value_t = 100)]
    stream_tokens: usize,
    /// Milliseconds over which the streams start (keep it under one answer's length, so all
    /// of them are open at the peak).
    #[arg(long, default_value_t = 1000)]
    stream_ramp_ms: u64,
    /// Milliseconds the mock waits between streamed tokens.
    #[arg(long, default_value_t = 20)]
    token_delay_ms: u64,
    /// `mitmdump` to run as the peer (mitmproxy with an addon running the same rule-pack
    /// regexes over each request body); the scenario is skipped without it.
    #[arg(long)]
    mitmdump: Option<PathBuf>,
    /// Run the bounded stress checks instead of the side-by-side tables: overload, slow
    /// clients, slow upstream, idle connections (and a soak with `--soak-secs`).
    #[arg(long)]
    stress: bool,
    /// Idle intercepted connections to hold in the stress checks.
    #[arg(long, default_value_t = 10_000)]
    idle_connections: usize,
    /// Seconds of mixed traffic for the soak check (0 skips it; 600 for the full soak).
    #[arg(long, default_value_t = 0)]
    soak_secs: u64,
    /// Worker threads per PromptWall listener (0: one per core).
    #[arg(long, default_value_t = 0)]
    proxy_threads: usize,
    /// Also run with the content classifier (needs ORT_DYLIB_PATH and the model from setup):
    /// intercepted and through the gateway, with the classifier's cost against the same
    /// gateway without it, and how the cascade and the cache split the windows.
    #[arg(long)]
    with_model: bool,
    /// `nginx` to run as the pass-through peer (a TLS reverse proxy to the same mock, no
    /// inspection); default: `nginx` on PATH or /usr/sbin/nginx, skipped when absent.
    #[arg(long)]
    nginx: Option<PathBuf>,
    /// `fixed`: 64 one-message variants; `chat`: a repeated system prompt and history and a
    /// new last user message of `--prompt-bytes` on every request.
    #[arg(long, value_enum, default_value = "fixed")]
    body_mode: mix::BodyMode,
}

struct Outcome {
    name: &'static str,
    ok: usize,
    /// Correct 403s: prompts carrying a secret, PII or an injection that the policy blocked.
    blocked: usize,
    errors: usize,
    /// Failures by kind: `http 503`, `connect`, `timeout`, `transport`, `body`.
    error_kinds: std::collections::BTreeMap<String, usize>,
    elapsed: Duration,
    hist: Histogram<u64>,
    /// The proxy's CPU seconds during the scenario, when one was in the path.
    cpu: Option<f64>,
    rss_kib: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.smoke {
        args.requests = args.requests.min(20);
        args.concurrency = args.concurrency.min(4);
        args.streams = args.streams.min(8);
        args.stream_tokens = args.stream_tokens.min(5);
        args.token_delay_ms = args.token_delay_ms.min(5);
        args.stream_ramp_ms = args.stream_ramp_ms.min(10);
    }
    let ss = load_tests::tls::self_signed(&["api.openai.com", "127.0.0.1"])?;
    let mock = MockServer::start(
        "127.0.0.1:0".parse()?,
        Some(ss.server_config.clone()),
        MockConfig::default(),
    )
    .await?;
    if args.stress {
        return stress::run(&args, &mock, &ss.cert_pem).await;
    }
    // The blind tunnel's far end: the same mock program and certificate on another address,
    // which no AI host resolves to (PromptWall blocks a nameless tunnel to an AI host's address).
    let plain_site = MockServer::start(
        "127.0.0.1:0".parse()?,
        Some(ss.server_config.clone()),
        MockConfig::default(),
    )
    .await?;
    let outcomes = run(&args, &mock, &plain_site, &ss.cert_pem).await?;
    print_table(&args, &outcomes);
    let streams = if args.streams > 0 {
        let s = run_streams(&args, &mock, &ss.cert_pem).await?;
        print_stream_table(&args, &s);
        s
    } else {
        Vec::new()
    };
    if outcomes
        .iter()
        .any(|o| o.errors > 0 || o.ok != args.requests)
    {
        bail!("some requests failed");
    }
    if streams
        .iter()
        .any(|(_, o)| o.errors > 0 || o.ok != args.streams)
    {
        bail!("some streams failed");
    }
    Ok(())
}

/// Streaming: `--streams` concurrent SSE answers, direct and through PromptWall (intercepted
/// and gateway, full rules and policy, response inspection on).
async fn run_streams(
    args: &Args,
    mock: &MockServer,
    mock_pem: &str,
) -> anyhow::Result<Vec<(&'static str, StreamOutcome)>> {
    let root = |pem: &str| reqwest::Certificate::from_pem(pem.as_bytes());
    let body = serde_json::to_vec(&serde_json::json!({
        "model": "gpt-4o-mini",
        "stream": true,
        "messages": [{"role": "user", "content": "Write a short poem about the sea."}]
    }))?;
    let url = "https://api.openai.com/v1/chat/completions".to_string();
    let proxy = Proxy::start(
        args,
        "stream",
        "classifier:\n  enabled: false\n",
        mock,
        mock_pem,
    )
    .await?;
    // HTTP/1.1 clients, one connection per open stream, as a crowd of users would have.
    let direct = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(root(mock_pem)?)
        .resolve("api.openai.com", mock.addr)
        .no_proxy()
        .http1_only()
        .build()?;
    let intercept = reqwest::Client::builder()
        .http1_only()
        .tls_built_in_root_certs(false)
        .add_root_certificate(root(&proxy.ca_pem)?)
        .proxy(reqwest::Proxy::all(format!(
            "http://127.0.0.1:{}",
            proxy.proxy
        ))?)
        .build()?;
    let gateway = reqwest::Client::builder().no_proxy().http1_only().build()?;
    let gw_url = format!(
        "http://127.0.0.1:{}/openai/v1/chat/completions",
        proxy.gateway
    );
    let deadline = Duration::from_secs(args.deadline_secs);
    let mut out = Vec::new();
    for (name, client, url) in [
        ("direct to mock", direct, url.clone()),
        ("intercept, full rules + policy", intercept, url),
        ("gateway, full rules + policy", gateway, gw_url),
    ] {
        let spec = StreamSpec {
            url,
            body: body.clone(),
            tokens: args.stream_tokens,
            delay_ms: args.token_delay_ms,
        };
        // Warm-up: open every connection once (handshakes are not what this measures).
        let warm = StreamSpec {
            tokens: 1,
            delay_ms: 0,
            ..spec.clone()
        };
        let ramp = Duration::from_millis(args.stream_ramp_ms);
        load_tests::streams::run(&client, &warm, args.streams, ramp, deadline).await;
        out.push((
            name,
            load_tests::streams::run(&client, &spec, args.streams, ramp, deadline).await,
        ));
    }
    Ok(out)
}

fn print_stream_table(args: &Args, outcomes: &[(&'static str, StreamOutcome)]) {
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

async fn run(
    args: &Args,
    mock: &MockServer,
    plain_site: &MockServer,
    mock_pem: &str,
) -> anyhow::Result<Vec<Outcome>> {
    let root = |pem: &str| reqwest::Certificate::from_pem(pem.as_bytes());
    let body = Arc::new(mix::prompts(args));
    let url = "https://api.openai.com/v1/chat/completions".to_string();
    let mut out = Vec::new();

    let direct = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(root(mock_pem)?)
        .resolve("api.openai.com", mock.addr)
        .no_proxy()
        .build()?;
    out.push(
        scenario(
            "direct to mock",
            direct,
            url.clone(),
            body.clone(),
            args,
            None,
        )
        .await,
    );

    // Profiles: the same binary with rules off, with the full packs and policy, and (when the
    // model is available) with the classifier too.
    let bare = Proxy::start(
        args,
        "bare",
        "rules:\n  builtin: false\nclassifier:\n  enabled: false\n",
        mock,
        mock_pem,
    )
    .await?;
    let full = Proxy::start_as(
        args,
        "full",
        "classifier:\n  enabled: false\n",
        mock,
        mock_pem,
        true,
    )
    .await?;
    let through = |p: &Proxy, pem: &str| -> anyhow::Result<reqwest::Client> {
        Ok(reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(root(pem)?)
            .proxy(reqwest::Proxy::all(format!(
                "http://127.0.0.1:{}",
                p.proxy
            ))?)
            .build()?)
    };
    // A blind tunnel: CONNECT to an address outside the AI catalog, TLS end to end with the mock.
    let tunnel_url = format!(
        "https://127.0.0.1:{}/v1/chat/completions",
        plain_site.addr.port()
    );
    out.push(
        scenario(
            "PromptWall blind tunnel",
            through(&full, mock_pem)?,
            tunnel_url,
            body.clone(),
            args,
            Some(&full),
        )
        .await,
    );
    out.push(
        scenario(
            "intercept, no rules",
            through(&bare, &bare.ca_pem)?,
            url.clone(),
            body.clone(),
            args,
            Some(&bare),
        )
        .await,
    );
    out.push(
        scenario(
            "intercept, full rules + policy",
            through(&full, &full.ca_pem)?,
            url.clone(),
            body.clone(),
            args,
            Some(&full),
        )
        .await,
    );
    // Over TLS, as the nginx peer is: the same client, handshake and body.
    let (gateway, gw_url) = gateway_client(&full)?;
    out.push(
        scenario(
            "gateway (TLS), full rules + policy",
            gateway,
            gw_url,
            body.clone(),
            args,
            Some(&full),
        )
        .await,
    );
    drop((bare, full));
    let nginx = args.nginx.clone().or_else(|| {
        ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    });
    if let Some(path) = nginx {
        let peer = Proxy::nginx(&path, mock, mock_pem).await?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .tls_built_in_root_certs(false)
            .add_root_certificate(root(&peer.ca_pem)?)
            .build()?;
        out.push(
            scenario(
                "nginx TLS pass-through (peer)",
                client,
                format!("https://127.0.0.1:{}/v1/chat/completions", peer.gateway),
                body.clone(),
                args,
                Some(&peer),
            )
            .await,
        );
    }
    if let Some(path) = &args.mitmdump {
        for (name, regexes) in [
            ("mitmproxy, no addon work (peer)", false),
            ("mitmproxy + same regexes (peer)", true),
        ] {
            let peer = Proxy::mitmdump(path, regexes, mock, mock_pem).await?;
            out.push(
                scenario(
                    name,
                    through(&peer, &peer.ca_pem)?,
                    url.clone(),
                    body.clone(),
                    args,
                    Some(&peer),
                )
                .await,
            );
        }
    }
    if args.with_model {
        let model = Proxy::start_as(
            args,
            "model",
            "classifier:\n  enabled: true\n",
            mock,
            mock_pem,
            true,
        )
        .await?;
        let (gateway, gw_url) = gateway_client(&model)?;
        // Each classifier run sends last messages of its own (in chat mode), so the second
        // does not find the first one's windows in the cache.
        let runs = [
            (
                "intercept, full rules + classifier",
                through(&model, &model.ca_pem)?,
                url,
                1,
            ),
            ("gateway (TLS), full rules + classifier", gateway, gw_url, 2),
        ];
        for (name, client, url, salt) in runs {
            let before = ClassifierSplit::read(&model).await;
            let prompts = if args.body_mode == mix::BodyMode::Chat {
                Arc::new(mix::prompts_salted(args, salt))
            } else {
                body.clone()
            };
            out.push(scenario(name, client, url, prompts, args, Some(&model)).await);
            ClassifierSplit::read(&model)
                .await
                .since(&before)
                .print(name);
        }
        drop(model);
        // The cascade is opt-in (it loses some recall on unseen sources): measured beside.
        let cascade = Proxy::start_as(
            args,
            "cascade",
            "classifier:\n  enabled: true\n  cascade: true\n",
            mock,
            mock_pem,
            true,
        )
        .await?;
        let name = "gateway (TLS), full rules + classifier, cascade on";
        let (client, url) = gateway_client(&cascade)?;
        let prompts = if args.body_mode == mix::BodyMode::Chat {
            Arc::new(mix::prompts_salted(args, 3))
        } else {
            body.clone()
        };
        let before = ClassifierSplit::read(&cascade).await;
        out.push(scenario(name, client, url, prompts, args, Some(&cascade)).await);
        ClassifierSplit::read(&cascade)
            .await
            .since(&before)
            .print(name);
    }
    Ok(out)
}

/// A client for a proxy's TLS gateway (its CA trusted, `localhost` pinned to loopback) and the
/// chat-completions URL there.
fn gateway_client(p: &Proxy) -> anyhow::Result<(reqwest::Client, String)> {
    let client = reqwest::Client::builder()
        .no_proxy()
        // HTTP/1.1 like the nginx peer (which offers no h2) and most provider SDKs: over h2
        // all 16 clients would share one connection, and the rows would compare protocols.
        .http1_only()
        .resolve("localhost", ([127, 0, 0, 1], p.gateway).into())
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(p.ca_pem.as_bytes())?)
        .build()?;
    let url = format!("https://localhost:{}/openai/v1/chat/completions", p.gateway);
    Ok((client, url))
}

/// The classifier's counters from a proxy's /metrics: how its windows were settled and how
/// many texts failed (a failed text is not in the window counts; on_classifier_error decided it).
#[derive(Default)]
struct ClassifierSplit {
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

    async fn read(p: &Proxy) -> Self {
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

    fn since(&self, before: &Self) -> Self {
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

    fn print(&self, name: &str) {
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

async fn scenario(
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

/// The proxy's CPU microseconds per answered request, where its CPU was measured.
fn cpu_per_request(o: &Outcome) -> Option<f64> {
    let n = o.ok + o.blocked + o.errors;
    o.cpu.filter(|_| n > 0).map(|c| c * 1e6 / n as f64)
}

fn print_table(args: &Args, outcomes: &[Outcome]) {
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
