//! Test harness: a real `promptwall` process and a real mock upstream, on 127.0.0.1.
#![allow(dead_code)]

use load_tests::mock::{MockConfig, MockServer};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A free loopback port (bound then released; the kernel does not hand it out again at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A unique scratch directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("pw-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A mock upstream with TLS for the given names, and its certificate PEM.
pub async fn tls_mock(names: &[&str], config: MockConfig) -> (MockServer, String) {
    let ss = load_tests::tls::self_signed(names).unwrap();
    let mock = MockServer::start(
        "127.0.0.1:0".parse().unwrap(),
        Some(ss.server_config),
        config,
    )
    .await
    .unwrap();
    (mock, ss.cert_pem)
}

/// A running `promptwall serve`, killed on drop.
pub struct Proxy {
    pub child: Child,
    pub proxy: SocketAddr,
    pub gateway: SocketAddr,
    pub admin: SocketAddr,
    pub dir: TempDir,
    pub ca_pem: String,
}

impl Proxy {
    /// Starts the proxy with `extra` YAML appended to a config that sets ports and the state dir.
    pub async fn start(extra: &str) -> Proxy {
        Self::start_with_gateway(extra, "").await
    }

    /// Like `start`, with extra lines inside the `gateway:` block (indented two spaces).
    pub async fn start_with_gateway(extra: &str, gateway: &str) -> Proxy {
        Self::start_with(extra, gateway, "").await
    }

    /// Like `start_with_gateway`, with extra lines inside the `admin:` block too.
    pub async fn start_with(extra: &str, gateway: &str, admin: &str) -> Proxy {
        let dir = TempDir::new("proxy");
        let (p, g, a) = (free_port(), free_port(), free_port());
        let config = format!(
            "listen: 127.0.0.1:{p}\ngateway:\n  listen: 127.0.0.1:{g}\n{gateway}admin:\n  listen: 127.0.0.1:{a}\n{admin}state_dir: {}\nthreads: 2\nshutdown_grace_secs: 1\n{extra}",
            dir.0.join("state").display()
        );
        let path = dir.0.join("promptwall.yaml");
        std::fs::write(&path, config).unwrap();
        let log = std::fs::File::create(dir.0.join("proxy.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_promptwall"))
            .args(["serve", "--config"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut proxy = Proxy {
            child,
            proxy: format!("127.0.0.1:{p}").parse().unwrap(),
            gateway: format!("127.0.0.1:{g}").parse().unwrap(),
            admin: format!("127.0.0.1:{a}").parse().unwrap(),
            dir,
            ca_pem: String::new(),
        };
        proxy.wait_ready().await;
        proxy.ca_pem = std::fs::read_to_string(proxy.dir.0.join("state/ca.pem")).unwrap();
        proxy
    }

    /// Starts the same configuration again (after a crash or kill).
    pub async fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.0.join("proxy.log"))
            .unwrap();
        self.child = Command::new(env!("CARGO_BIN_EXE_promptwall"))
            .args(["serve", "--config"])
            .arg(self.dir.0.join("promptwall.yaml"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.wait_ready().await;
    }

    /// Runs `promptwall ARGS --config <this proxy's config>`.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_promptwall"))
            .args(args)
            .arg("--config")
            .arg(self.dir.0.join("promptwall.yaml"))
            .output()
            .unwrap()
    }

    async fn wait_ready(&mut self) {
        let url = format!("http://{}/healthz", self.admin);
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("promptwall exited early ({status}); log:\n{}", self.log());
            }
            if let Ok(r) = reqwest::get(&url).await {
                // Every listener, not only the first two: the gateway's may come up a moment
                // after them, and a test that asks it at once would be refused.
                let listening = |addr| std::net::TcpStream::connect(addr).is_ok();
                if r.status() == 200 && listening(self.proxy) && listening(self.gateway) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("promptwall did not become ready; log:\n{}", self.log());
    }

    /// The log once it contains `needle` (request lines are written as responses finish, so a
    /// test may need to wait a moment); panics with the log after a bounded wait.
    pub async fn log_with(&self, needle: &str) -> String {
        for _ in 0..100 {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("log never contained {needle:?}:\n{}", self.log());
    }

    /// The value of an unlabelled metric on the admin listener's `/metrics`; panics with the
    /// whole page when it is missing.
    pub async fn metric(&self, name: &str) -> f64 {
        let page = reqwest::get(format!("http://{}/metrics", self.admin))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        page.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {name} in:\n{page}"))
            .trim()
            .parse()
            .unwrap()
    }

    /// Audit events matching `args` (`promptwall audit query` filters), as JSON.
    pub fn audit_events(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let mut all = vec!["audit", "query", "--format", "jsonl", "--limit", "1000"];
        all.extend_from_slice(args);
        let out = self.cli(&all);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Like [`Proxy::audit_events`], polling (bounded: 10 s) until at least `n` match: response
    /// records are queued and land shortly after the client has its answer.
    pub fn audit_events_eventually(&self, args: &[&str], n: usize) -> Vec<serde_json::Value> {
        for _ in 0..100 {
            let got = self.audit_events(args);
            if got.len() >= n {
                return got;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.audit_events(args)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("proxy.log")).unwrap_or_default()
    }

    /// A client that sends everything through the proxy and trusts only `roots`.
    pub fn client(&self, roots: &[&str]) -> reqwest::Client {
        self.client_builder(roots).build().unwrap()
    }

    /// A client that authenticates to the proxy (Basic) and trusts only the PromptWall CA.
    pub fn client_as(&self, user: &str, pass: &str) -> reqwest::Client {
        let p = reqwest::Proxy::all(format!("http://{}", self.proxy))
            .unwrap()
            .basic_auth(user, pass);
        reqwest::Client::builder()
            .proxy(p)
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).unwrap())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
    }

    pub fn client_builder(&self, roots: &[&str]) -> reqwest::ClientBuilder {
        let mut b = reqwest::Client::builder()
            .proxy(reqwest::Proxy::all(format!("http://{}", self.proxy)).unwrap())
            .tls_built_in_root_certs(false)
            .timeout(Duration::from_secs(20));
        for pem in roots {
            b = b.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap());
        }
        b
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A policies directory holding `files` (tenant, YAML), and the config lines that load it.
/// Keep the `TempDir` alive while the proxy runs.
pub fn policies_yaml(files: &[(&str, &str)]) -> (TempDir, String) {
    let dir = TempDir::new("policies");
    for (tenant, yaml) in files {
        std::fs::write(dir.0.join(format!("{tenant}.yaml")), yaml).unwrap();
    }
    let lines = format!("policies:\n  dir: {}\n", dir.0.display());
    (dir, lines)
}

/// Writes `pem` to a scratch file and returns it with the YAML that trusts it upstream and
/// routes `hosts` to `addr`. Keep the `TempDir` alive while the proxy runs.
pub fn upstream_yaml(pem: &str, addr: SocketAddr, hosts: &[&str]) -> (TempDir, String) {
    let dir = TempDir::new("upstream-ca");
    let ca = dir.0.join("upstream-ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let mut y = format!(
        "upstream:\n  extra_ca_file: {}\n  header_timeout_ms: 2000\n  resolve:\n",
        ca.display()
    );
    for h in hosts {
        y.push_str(&format!("    {h}: {addr}\n"));
    }
    (dir, y)
}

/// A chat-completions body with one user message.
/// `s` reversed, for the mock's `x-mock-reply-mirror`: a reply carrying a secret or a token
/// must not travel in a request header, which PromptWall scans.
pub fn reversed(s: &str) -> String {
    s.chars().rev().collect()
}

pub fn chat(text: &str, stream: bool) -> serde_json::Value {
    serde_json::json!({
        "model": "gpt-4o-mini",
        "stream": stream,
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": text}
        ]
    })
}

/// A raw `CONNECT target` through the proxy at `proxy`, its `200` answer read and checked: the
/// stream is then the tunnel (or the interception) to `target`.
pub async fn connect_raw(proxy: SocketAddr, target: &str) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(proxy).await.unwrap();
    tcp.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        tcp.read_exact(&mut b).await.unwrap();
        head.push(b[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

impl Proxy {
    /// CONNECT to `api.openai.com`, then TLS to the minted leaf (offering `alpn`).
    pub async fn connect_tls(
        &self,
        alpn: &[&[u8]],
    ) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
        let tcp = connect_raw(self.proxy, "api.openai.com:443").await;
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls_pemfile::certs(&mut self.ca_pem.as_bytes()) {
            roots.add(c.unwrap()).unwrap();
        }
        let mut tls = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(tls))
            .connect("api.openai.com".try_into().unwrap(), tcp)
            .await
            .unwrap()
    }
}
