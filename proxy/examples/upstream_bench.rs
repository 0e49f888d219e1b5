//! What the upstream client costs per request: the proxy's reqwest client (built by
//! `Upstream::new`, as the proxy uses it: pooled HTTP/1.1 over rustls) against hyper's own
//! HTTP/1.1 connection API over the same rustls config, one connection per in-flight request
//! (the least a client can do: no pool, no redirect or timeout layers), and pingora's own
//! connector (pooled, driven in the request's task: no connection task). Same run, same mock
//! upstream (TLS, its own process), the same 4 KB chat body, 16 requests in flight; the runs
//! alternate. Prints req/s and this process's CPU per request (the mock's is not counted).
//!
//! ```sh
//! cargo build --release -p load-tests --bin mock-llm
//! cargo run --release -p promptwall --example upstream_bench -- [REQUESTS] [ROUNDS]
//! ```

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use promptwall::config::UpstreamConfig;
use promptwall::upstream::Upstream;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

const IN_FLIGHT: usize = 16;
const HOST: &str = "api.openai.com";

/// This process's user + system CPU seconds (from /proc).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, a)| a);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn body() -> Bytes {
    let text = "Summarize the vendor review notes and list the open actions. ".repeat(64);
    Bytes::from(
        serde_json::json!({
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": text}],
        })
        .to_string(),
    )
}

/// Sends `n` requests with `IN_FLIGHT` tasks, each running `one` in a loop; (req/s, CPU µs per
/// request).
async fn run<F, Fut>(n: usize, one: F) -> (f64, f64)
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let (c0, t0) = (cpu_seconds(), Instant::now());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..IN_FLIGHT)
        .map(|worker| {
            let (next, one) = (next.clone(), one.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < n {
                    one(worker).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("client task");
    }
    let secs = t0.elapsed().as_secs_f64();
    (n as f64 / secs, (cpu_seconds() - c0) * 1e6 / n as f64)
}

/// One hyper HTTP/1.1 connection over rustls to the mock.
async fn hyper_connection(
    addr: SocketAddr,
    tls: tokio_rustls::TlsConnector,
) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let name = rustls::pki_types::ServerName::try_from(HOST).expect("name");
    let stream = tls.connect(name, tcp).await.expect("TLS");
    let (send, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    send
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let rounds: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(3);
    let dir = std::env::temp_dir().join(format!("pw-upstream-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
    let pem_path = dir.join("mock.pem");
    let mock_bin =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/mock-llm");
    let mut mock = std::process::Command::new(&mock_bin)
        .args([
            "--listen",
            &addr.to_string(),
            "--tls-names",
            HOST,
            "--cert-out",
        ])
        .arg(&pem_path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e} (build it first)", mock_bin.display()));
    let started = Instant::now();
    while std::fs::metadata(&pem_path).map_or(true, |m| m.len() == 0) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the mock did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let cfg = UpstreamConfig {
        extra_ca_file: Some(pem_path.clone()),
        resolve: [(HOST.to_string(), addr)].into(),
        ..UpstreamConfig::default()
    };
    let reqwest = Upstream::new(&cfg).expect("upstream client").client();
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(&pem_path).expect("mock certificate");
    for c in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(c.expect("PEM")).expect("root");
    }
    let tls = tokio_rustls::TlsConnector::from(Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth(),
    ));
    let mut conns = Vec::new();
    for _ in 0..IN_FLIGHT {
        conns.push(tokio::sync::Mutex::new(
            hyper_connection(addr, tls.clone()).await,
        ));
    }
    let conns = Arc::new(conns);
    let mut options = pingora_core::connectors::ConnectorOptions::new(IN_FLIGHT * 2);
    options.ca_file = Some(pem_path.display().to_string());
    let pingora = Arc::new(pingora_core::connectors::http::Connector::new(Some(
        options,
    )));
    let mut peer = pingora_core::upstreams::peer::HttpPeer::new(addr, true, HOST.to_string());
    peer.options.alpn = pingora_core::protocols::ALPN::H1;
    let peer = Arc::new(peer);
    let body = body();
    let url = format!("https://{HOST}/v1/chat/completions");

    println!(
        "upstream client, {n} requests of {} bytes, {IN_FLIGHT} in flight, TLS mock in its own process",
        body.len()
    );
    println!("| round | client | req/s | client CPU µs/request |");
    println!("|---|---|---|---|");
    for round in 1..=rounds {
        let (client, b, u) = (reqwest.clone(), body.clone(), url.clone());
        let (rps, cpu) = run(n, move |_| {
            let (client, b, u) = (client.clone(), b.clone(), u.clone());
            async move {
                let r = client
                    .post(&u)
                    .header("content-type", "application/json")
                    .body(b)
                    .send()
                    .await
                    .expect("reqwest");
                assert!(r.status().is_success(), "{}", r.status());
                r.bytes().await.expect("answer");
            }
        })
        .await;
        println!("| {round} | reqwest (the proxy's) | {rps:.0} | {cpu:.1} |");

        let (c, b) = (conns.clone(), body.clone());
        let (rps, cpu) = run(n, move |worker| {
            let (c, b) = (c.clone(), b.clone());
            async move {
                let mut send = c[worker].lock().await;
                let req = http::Request::post("/v1/chat/completions")
                    .header("host", HOST)
                    .header("content-type", "application/json")
                    .body(Full::new(b))
                    .expect("request");
                let r = send.send_request(req).await.expect("hyper");
                assert!(r.status().is_success(), "{}", r.status());
                r.into_body().collect().await.expect("answer");
            }
        })
        .await;
        println!("| {round} | hyper connection per task | {rps:.0} | {cpu:.1} |");

        let (c, p, b) = (pingora.clone(), peer.clone(), body.clone());
        let (rps, cpu) = run(n, move |_| {
            let (c, p, b) = (c.clone(), p.clone(), b.clone());
            async move {
                let (mut s, _reused) = c.get_http_session(&*p).await.expect("pingora connect");
                let mut req =
                    pingora_http::RequestHeader::build("POST", b"/v1/chat/completions", Some(3))
                        .expect("request");
                req.insert_header("host", HOST).expect("host");
                req.insert_header("content-type", "application/json")
                    .expect("content-type");
                req.insert_header("content-length", b.len().to_string())
                    .expect("length");
                s.write_request_header(Box::new(req)).await.expect("head");
                s.write_request_body(b, true).await.expect("body");
                s.finish_request_body().await.expect("finish");
                s.read_response_header().await.expect("answer head");
                let status = s.response_header().expect("head").status;
                assert!(status.is_success(), "{status}");
                while s.read_response_body().await.expect("answer").is_some() {}
                c.release_http_session(s, &*p, None).await;
            }
        })
        .await;
        println!("| {round} | pingora connector, pooled | {rps:.0} | {cpu:.1} |");
    }
    let _ = mock.kill();
    let _ = mock.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
