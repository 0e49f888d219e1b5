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
mod report;
mod scenarios;
mod stress;
use procs::Proxy;
use report::{print_stream_table, print_table, ClassifierSplit};
use scenarios::scenario;
use std::sync::Arc;
use std::time::Duration;

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
    /// Keep each connection's tasks on the thread that accepted it (PromptWall's
    /// `work_stealing: false`).
    #[arg(long)]
    no_work_stealing: bool,
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
    let through_as = |p: &Proxy, pem: &str, h1: bool| -> anyhow::Result<reqwest::Client> {
        let b = reqwest::Client::builder();
        // The minted leaf offers h2, which reqwest prefers (one connection for all clients);
        // `h1` pins HTTP/1.1, one connection per client, as the gateway and nginx rows run.
        let b = if h1 { b.http1_only() } else { b };
        Ok(b.tls_built_in_root_certs(false)
            .add_root_certificate(root(pem)?)
            .proxy(reqwest::Proxy::all(format!(
                "http://127.0.0.1:{}",
                p.proxy
            ))?)
            .build()?)
    };
    let through = |p: &Proxy, pem: &str| through_as(p, pem, false);
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
    out.push(
        scenario(
            "intercept, full rules + policy, HTTP/1.1",
            through_as(&full, &full.ca_pem, true)?,
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
