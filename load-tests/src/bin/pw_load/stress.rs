//! `pw-load --stress`: bounded checks that PromptWall degrades well. Overload (503s, stays up),
//! slow clients and slow upstreams (others keep being served), many idle intercepted
//! connections (memory per connection), and an optional soak (RSS and descriptors sampled
//! every second, growth reported).

use crate::mix::{self, Prompt};
use crate::procs::Proxy;
use crate::Args;
use anyhow::Context;
use hdrhistogram::Histogram;
use load_tests::mock::MockServer;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const URL: &str = "https://api.openai.com/v1/chat/completions";

/// One line of the stress table.
struct Row {
    check: &'static str,
    pass: bool,
    detail: String,
}

/// Raises the open-file limit to the hard limit (idle connections need one each); children
/// (the proxy) inherit it.
fn raise_nofile() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed in.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        lim.rlim_cur = lim.rlim_max;
        let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur
    }
}

/// Open descriptors of `pid`.
fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// An HTTP/1.1 client through the proxy: each request in flight on its own connection, as
/// many users' requests would be (one HTTP/2 connection would model a single user).
fn client_through(p: &Proxy) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .http1_only()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(p.ca_pem.as_bytes())?)
        .proxy(reqwest::Proxy::all(format!(
            "http://127.0.0.1:{}",
            p.proxy
        ))?)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// The first prompt that carries nothing (the checks need answers, not blocks).
fn clean(prompts: &[Prompt]) -> Vec<u8> {
    prompts
        .iter()
        .find(|p| p.carries == crate::mix::Carries::Nothing)
        .map(|p| p.body.clone())
        .unwrap_or_else(|| {
            serde_json::to_vec(&serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Summarise the planning notes."}]}))
                .expect("json")
        })
}

/// Closed-loop normal traffic for `for_how_long`: (ok, errors, p99 ms).
async fn normal_traffic(
    client: &reqwest::Client,
    prompts: Arc<Vec<Prompt>>,
    clients: usize,
    for_how_long: Duration,
) -> (usize, usize, f64) {
    let end = Instant::now() + for_how_long;
    let body = clean(&prompts);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, body) = (client.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut h = Histogram::<u64>::new(3).expect("histogram");
            let (mut ok, mut err) = (0, 0);
            while Instant::now() < end {
                let t = Instant::now();
                let r = client
                    .post(URL)
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
                    let _ = h.record(t.elapsed().as_micros() as u64);
                } else {
                    err += 1;
                }
            }
            (h, ok, err)
        }));
    }
    let mut h = Histogram::<u64>::new(3).expect("histogram");
    let (mut ok, mut err) = (0, 0);
    for t in tasks {
        if let Ok((th, o, e)) = t.await {
            let _ = h.add(&th);
            ok += o;
            err += e;
        }
    }
    (ok, err, h.value_at_quantile(0.99) as f64 / 1000.0)
}

async fn alive(p: &Proxy) -> bool {
    let Ok(c) = client_through(p) else {
        return false;
    };
    c.post(URL)
        .json(&serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "still there?"}]}))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
}

/// Far more offered load than `max_inflight` allows: only 200s and fast 503s, and up after.
async fn overload(args: &Args, mock: &MockServer, mock_pem: &str) -> anyhow::Result<Row> {
    let p = Proxy::start(
        args,
        "overload",
        "classifier:\n  enabled: false\nlimits:\n  max_inflight: 32\n",
        mock,
        mock_pem,
    )
    .await?;
    let client = client_through(&p)?;
    let body = clean(&mix::prompts(args));
    // Each answer takes 100 ms upstream, so 32 permits serve about 320 req/s; offer 1,500.
    let (rate, secs) = (1500.0, 3.0);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..(rate * secs) as usize {
        let at = started + Duration::from_secs_f64(i as f64 / rate);
        let (client, body) = (client.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            let t = Instant::now();
            let r = client
                .post(URL)
                .header("content-type", "application/json")
                .header("x-mock-header-delay-ms", "100")
                .body(body)
                .send()
                .await;
            let status = match r {
                Ok(r) => {
                    let s = r.status().as_u16();
                    let retry = r.headers().contains_key("retry-after");
                    match r.bytes().await {
                        Ok(_) if s == 503 && !retry => 0,
                        Ok(_) => s,
                        Err(_) => 0,
                    }
                }
                Err(_) => 0,
            };
            (status, t.elapsed())
        }));
    }
    let (mut ok, mut shed, mut other) = (0, 0, 0);
    let mut shed_lat = Histogram::<u64>::new(3).expect("histogram");
    for t in tasks {
        match t.await {
            Ok((200, _)) => ok += 1,
            Ok((503, d)) => {
                shed += 1;
                let _ = shed_lat.record(d.as_micros() as u64);
            }
            _ => other += 1,
        }
    }
    let up = alive(&p).await;
    Ok(Row {
        check: "overload: 1,500 req/s offered, capacity ~320 req/s (max_inflight 32, 100 ms upstream)",
        pass: other == 0 && ok > 0 && shed > 0 && up,
        detail: format!(
            "200: {ok}, 503 with Retry-After: {shed} (p99 {:.1} ms), other: {other}; serving afterwards: {up}",
            shed_lat.value_at_quantile(0.99) as f64 / 1000.0
        ),
    })
}

/// Slow clients (headers and bodies trickled) and slow upstream answers, while 8 normal
/// clients keep going: their success and p99 next to a quiet baseline from the same proxy.
async fn slow_peers(p: &Proxy, prompts: Arc<Vec<Prompt>>) -> anyhow::Result<Vec<Row>> {
    let client = client_through(p)?;
    let window = Duration::from_secs(5);
    let (base_ok, base_err, base_p99) = normal_traffic(&client, prompts.clone(), 8, window).await;
    let mut rows = Vec::new();

    // Slowloris: 500 connections trickling header bytes, 500 trickling a declared body.
    let gateway = format!("127.0.0.1:{}", p.gateway);
    let stop = Instant::now() + window + Duration::from_secs(1);
    let mut slow = Vec::new();
    for i in 0..1000 {
        let gateway = gateway.clone();
        slow.push(tokio::spawn(async move {
            let Ok(mut s) = TcpStream::connect(&gateway).await else {
                return false;
            };
            let head: &[u8] = if i % 2 == 0 {
                b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: "
            } else {
                b"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{\"messages\":\""
            };
            if s.write_all(head).await.is_err() {
                return false;
            }
            while Instant::now() < stop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                if s.write_all(b"a").await.is_err() {
                    // Closed by the proxy: fine, it is protecting itself.
                    return true;
                }
            }
            true
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (ok, err, p99) = normal_traffic(&client, prompts.clone(), 8, window).await;
    for s in slow {
        let _ = s.await;
    }
    rows.push(Row {
        check: "slow clients: 1,000 connections trickling headers or bodies",
        pass: err == 0 && ok > base_ok / 4,
        detail: format!(
            "normal clients: {ok} ok, {err} errors, p99 {p99:.2} ms (quiet baseline: {base_ok} ok, {base_err} errors, p99 {base_p99:.2} ms)"
        ),
    });

    // Slow upstream: 500 requests whose answers take 8 s, started before the measured window.
    let mut held = Vec::new();
    for _ in 0..500 {
        let (client, body) = (client.clone(), clean(&prompts));
        held.push(tokio::spawn(async move {
            client
                .post(URL)
                .header("content-type", "application/json")
                .header("x-mock-header-delay-ms", "8000")
                .body(body)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (ok, err, p99) = normal_traffic(&client, prompts, 8, window).await;
    let mut slow_ok = 0;
    for h in held {
        slow_ok += usize::from(h.await.unwrap_or(false));
    }
    rows.push(Row {
        check: "slow upstream: 500 answers taking 8 s each",
        pass: err == 0 && ok > base_ok / 4 && slow_ok == 500,
        detail: format!(
            "normal clients: {ok} ok, {err} errors, p99 {p99:.2} ms; slow answers completed: {slow_ok}/500"
        ),
    });
    Ok(rows)
}

/// `n` intercepted connections (CONNECT, then TLS with the PromptWall CA), held idle: the
/// proxy's memory and descriptors per connection.
async fn idle_connections(p: &Proxy, n: usize) -> anyhow::Result<Row> {
    let pid = p.child.id();
    let (_, rss_before) = p.usage();
    let fds_before = fds(pid);
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut p.ca_pem.as_bytes()) {
        roots.add(c?)?;
    }
    let tls = Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    let connector = tokio_rustls::TlsConnector::from(tls);
    let addr = format!("127.0.0.1:{}", p.proxy);
    let mut held = Vec::with_capacity(n);
    let mut failed = 0;
    let started = Instant::now();
    // In waves, so handshakes do not all compete at once.
    for wave in (0..n).collect::<Vec<_>>().chunks(250) {
        let mut tasks = Vec::new();
        for _ in wave {
            let (addr, connector) = (addr.clone(), connector.clone());
            tasks.push(tokio::spawn(async move {
                let mut s = TcpStream::connect(&addr).await.ok()?;
                s.write_all(
                    b"CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n",
                )
                .await
                .ok()?;
                let mut buf = [0u8; 256];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    let k = s.read(&mut buf).await.ok()?;
                    if k == 0 {
                        return None;
                    }
                    got.extend_from_slice(&buf[..k]);
                }
                if !got.starts_with(b"HTTP/1.1 200") {
                    return None;
                }
                let name = rustls::pki_types::ServerName::try_from("api.openai.com").ok()?;
                connector.connect(name, s).await.ok()
            }));
        }
        for t in tasks {
            match t.await.ok().flatten() {
                Some(s) => held.push(s),
                None => failed += 1,
            }
        }
    }
    let opened_in = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, rss_after) = p.usage();
    let fds_after = fds(pid);
    let up = alive(p).await;
    let per_conn = (rss_after.saturating_sub(rss_before)) as f64 / held.len().max(1) as f64;
    let row = Row {
        check: "idle intercepted connections (CONNECT + TLS, then silence)",
        pass: failed == 0 && up,
        detail: format!(
            "{} held ({failed} failed) in {:.1} s; proxy RSS {:.0} → {:.0} MiB = {per_conn:.1} KiB per connection; descriptors {fds_before} → {fds_after}; serving others: {up}",
            held.len(),
            opened_in.as_secs_f64(),
            rss_before as f64 / 1024.0,
            rss_after as f64 / 1024.0,
        ),
    };
    drop(held);
    Ok(row)
}

/// Mixed traffic at a fixed rate for `secs`, sampling RSS and descriptors every second.
async fn soak(args: &Args, p: &Proxy, secs: u64) -> anyhow::Result<Row> {
    let client = client_through(p)?;
    let prompts = Arc::new(mix::prompts(args));
    let pid = p.child.id();
    let rate = if args.rate > 0.0 { args.rate } else { 200.0 };
    let end = Instant::now() + Duration::from_secs(secs);
    let sampler = tokio::spawn(async move {
        let mut samples = Vec::new();
        while Instant::now() < end {
            samples.push((crate::procs::rss_kib(pid), fds(pid)));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        samples
    });
    let started = Instant::now();
    let (mut sent, mut errors) = (0usize, Arc::new(std::sync::atomic::AtomicUsize::new(0)));
    let mut tasks = tokio::task::JoinSet::new();
    while Instant::now() < end {
        let at = started + Duration::from_secs_f64(sent as f64 / rate);
        tokio::time::sleep_until(at.into()).await;
        let (client, prompts, errs) = (client.clone(), prompts.clone(), errors.clone());
        let i = sent;
        tasks.spawn(async move {
            let p = &prompts[i % prompts.len()];
            let stream = i % 10 == 0;
            let mut body: serde_json::Value = serde_json::from_slice(&p.body).expect("json");
            body["stream"] = serde_json::json!(stream);
            let r = client.post(URL).json(&body).send().await;
            let good = match r {
                Ok(r) if r.status() == 200 || r.status() == 403 => r.bytes().await.is_ok(),
                _ => false,
            };
            if !good {
                errs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
        sent += 1;
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let samples = sampler.await.context("sampler")?;
    let errors = Arc::get_mut(&mut errors)
        .map(|e| *e.get_mut())
        .unwrap_or_default();
    // Growth: the mean of the last minute against the mean of the first minute after warm-up.
    let minute = (samples.len() / 4).clamp(1, 60);
    let mean = |s: &[(u64, usize)]| {
        let n = s.len().max(1) as f64;
        (
            s.iter().map(|x| x.0 as f64).sum::<f64>() / n,
            s.iter().map(|x| x.1 as f64).sum::<f64>() / n,
        )
    };
    let warm = samples.len().min(10);
    let first = mean(&samples[warm..(warm + minute).min(samples.len())]);
    let last = mean(&samples[samples.len().saturating_sub(minute)..]);
    let growth = (last.0 - first.0) / first.0.max(1.0);
    // The trend that matters is after warm-up (bounded caches, such as SQLite's page cache,
    // fill first): the minute at the half-way mark against the last minute.
    let half = samples.len() / 2;
    let middle = mean(
        &samples
            [half.saturating_sub(minute / 2)..(half + minute / 2).max(half + 1).min(samples.len())],
    );
    let late_growth = (last.0 - middle.0) / middle.0.max(1.0);
    // RSS at each minute mark, to tell a plateau (caches filling) from a steady climb.
    let marks: Vec<String> = samples
        .iter()
        .step_by(60)
        .map(|(rss, _)| format!("{:.0}", *rss as f64 / 1024.0))
        .collect();
    Ok(Row {
        check: "soak: mixed traffic (10% streamed, the --*-share mix), RSS and descriptors each second",
        pass: errors == 0 && late_growth < 0.05 && last.1 <= middle.1 * 1.10 + 16.0,
        detail: format!(
            "{secs} s at {rate:.0} req/s, {sent} requests, {errors} errors; RSS {:.1} → {:.1} MiB ({:+.1}%; second half {:+.1}%; per minute: {} MiB), descriptors {:.0} → {:.0} ({} samples)",
            first.0 / 1024.0,
            last.0 / 1024.0,
            growth * 100.0,
            late_growth * 100.0,
            marks.join(", "),
            first.1,
            last.1,
            samples.len()
        ),
    })
}

/// Runs the checks and prints their table; `Err` when one fails.
pub async fn run(args: &Args, mock: &MockServer, mock_pem: &str) -> anyhow::Result<()> {
    let limit = raise_nofile();
    let idle = args
        .idle_connections
        .min((limit as usize).saturating_sub(2_000));
    let mut rows = vec![overload(args, mock, mock_pem).await?];
    let p = Proxy::start(
        args,
        "stress",
        "classifier:\n  enabled: false\n",
        mock,
        mock_pem,
    )
    .await?;
    let prompts = Arc::new(mix::prompts(args));
    rows.extend(slow_peers(&p, prompts).await?);
    rows.push(idle_connections(&p, idle).await?);
    drop(p);
    if args.soak_secs > 0 {
        // A fresh process, so growth is measured from a clean start.
        let p = Proxy::start(
            args,
            "soak",
            "classifier:\n  enabled: false\n",
            mock,
            mock_pem,
        )
        .await?;
        rows.push(soak(args, &p, args.soak_secs).await?);
    }
    println!("\nstress (bounded; open-file limit {limit})");
    println!("| check | pass | detail |");
    println!("|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} |",
            r.check,
            if r.pass { "yes" } else { "NO" },
            r.detail
        );
    }
    if rows.iter().any(|r| !r.pass) {
        anyhow::bail!("a stress check failed");
    }
    Ok(())
}
