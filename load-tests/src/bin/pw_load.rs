//! `pw-load`: drives chat requests at the mock upstream directly and through PromptWall, in one
//! run on one machine, and prints throughput and latency side by side.
//!
//! It starts the mock (TLS) in-process and a `promptwall serve` child process configured to send
//! AI traffic to that mock, so every scenario hits the same upstream. All traffic stays on
//! 127.0.0.1, and every loop is bounded by a request count and a deadline.

use anyhow::{bail, Context};
use clap::Parser;
use hdrhistogram::Histogram;
use load_tests::mock::{MockConfig, MockServer};
use std::path::PathBuf;
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
    /// Prompt size in bytes.
    #[arg(long, default_value_t = 256)]
    prompt_bytes: usize,
    /// Give up on a scenario after this many seconds.
    #[arg(long, default_value_t = 120)]
    deadline_secs: u64,
    /// Smoke mode: a few requests per scenario, and a non-zero exit on any error.
    #[arg(long)]
    smoke: bool,
}

struct Outcome {
    name: &'static str,
    ok: usize,
    errors: usize,
    elapsed: Duration,
    hist: Histogram<u64>,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.smoke {
        args.requests = args.requests.min(20);
        args.concurrency = args.concurrency.min(4);
    }
    let ss = load_tests::tls::self_signed(&["api.openai.com"])?;
    let mock = MockServer::start(
        "127.0.0.1:0".parse()?,
        Some(ss.server_config),
        MockConfig::default(),
    )
    .await?;
    let dir = std::env::temp_dir().join(format!("pw-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("mock.pem"), &ss.cert_pem)?;
    let (p, g, a) = (free_port()?, free_port()?, free_port()?);
    let config = format!(
        "listen: 127.0.0.1:{p}\ngateway:\n  listen: 127.0.0.1:{g}\nadmin:\n  listen: 127.0.0.1:{a}\nstate_dir: {state}\nupstream:\n  extra_ca_file: {ca}\n  resolve:\n    api.openai.com: {mock}\n",
        state = dir.join("state").display(),
        ca = dir.join("mock.pem").display(),
        mock = mock.addr
    );
    std::fs::write(dir.join("promptwall.yaml"), config)?;
    let mut child = std::process::Command::new(&args.promptwall)
        .args(["serve", "--config"])
        .arg(dir.join("promptwall.yaml"))
        .stderr(std::fs::File::create(dir.join("promptwall.log"))?)
        .spawn()
        .with_context(|| format!("starting {}", args.promptwall.display()))?;
    let result = run(&args, &mock, &ss.cert_pem, &dir, p, g, a).await;
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let outcomes = result?;
    print_table(&args, &outcomes);
    if outcomes
        .iter()
        .any(|o| o.errors > 0 || o.ok != args.requests)
    {
        bail!("some requests failed");
    }
    Ok(())
}

async fn run(
    args: &Args,
    mock: &MockServer,
    mock_pem: &str,
    dir: &std::path::Path,
    p: u16,
    g: u16,
    a: u16,
) -> anyhow::Result<Vec<Outcome>> {
    let ready = format!("http://127.0.0.1:{a}/healthz");
    let mut up = false;
    for _ in 0..200 {
        if reqwest::get(&ready).await.is_ok_and(|r| r.status() == 200) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !up {
        bail!("promptwall did not start; see its log in {}", dir.display());
    }
    let pw_ca = std::fs::read_to_string(dir.join("state/ca.pem"))?;
    let root = |pem: &str| reqwest::Certificate::from_pem(pem.as_bytes());
    let direct = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(root(mock_pem)?)
        .resolve("api.openai.com", mock.addr)
        .no_proxy()
        .build()?;
    let intercepted = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(root(&pw_ca)?)
        .proxy(reqwest::Proxy::all(format!("http://127.0.0.1:{p}"))?)
        .build()?;
    let gateway = reqwest::Client::builder().no_proxy().build()?;
    let text = "Please summarise the quarterly planning notes for the team. "
        .repeat(args.prompt_bytes / 60 + 1);
    let body = serde_json::to_vec(&serde_json::json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": &text[..args.prompt_bytes.min(text.len())]}]
    }))?;
    let url = "https://api.openai.com/v1/chat/completions".to_string();
    let gw_url = format!("http://127.0.0.1:{g}/openai/v1/chat/completions");
    let mut out = Vec::new();
    out.push(scenario("direct to mock", direct, url.clone(), body.clone(), args).await);
    out.push(
        scenario(
            "PromptWall intercept (CONNECT+TLS)",
            intercepted,
            url,
            body.clone(),
            args,
        )
        .await,
    );
    out.push(
        scenario(
            "PromptWall gateway (plain HTTP)",
            gateway,
            gw_url,
            body,
            args,
        )
        .await,
    );
    Ok(out)
}

async fn scenario(
    name: &'static str,
    client: reqwest::Client,
    url: String,
    body: Vec<u8>,
    args: &Args,
) -> Outcome {
    // Warm the connection pool so the table compares steady state, not handshakes.
    for _ in 0..args.concurrency {
        let _ = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
    }
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.deadline_secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (client, url, body, next, total) = (
            client.clone(),
            url.clone(),
            body.clone(),
            next.clone(),
            args.requests,
        );
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new(3).expect("histogram");
            let (mut ok, mut errors) = (0, 0);
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < total
                && Instant::now() < deadline
            {
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let good = match r {
                    Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if good {
                    ok += 1;
                    let _ = hist.record(t.elapsed().as_micros() as u64);
                } else {
                    errors += 1;
                }
            }
            (hist, ok, errors)
        }));
    }
    let mut hist = Histogram::<u64>::new(3).expect("histogram");
    let (mut ok, mut errors) = (0, 0);
    for t in tasks {
        if let Ok((h, o, e)) = t.await {
            let _ = hist.add(&h);
            ok += o;
            errors += e;
        }
    }
    Outcome {
        name,
        ok,
        errors,
        elapsed: started.elapsed(),
        hist,
    }
}

fn print_table(args: &Args, outcomes: &[Outcome]) {
    println!(
        "requests={} concurrency={} prompt_bytes={} (same run, same machine, same mock upstream)",
        args.requests, args.concurrency, args.prompt_bytes
    );
    println!(
        "| scenario | ok | errors | req/s | p50 ms | p99 ms | req/s vs direct | p99 vs direct |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let base = &outcomes[0];
    let rps = |o: &Outcome| o.ok as f64 / o.elapsed.as_secs_f64();
    let p = |o: &Outcome, q: f64| o.hist.value_at_quantile(q) as f64 / 1000.0;
    for o in outcomes {
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2}x | {:.2}x |",
            o.name,
            o.ok,
            o.errors,
            rps(o),
            p(o, 0.5),
            p(o, 0.99),
            rps(o) / rps(base),
            p(o, 0.99) / p(base, 0.99)
        );
    }
}
