//! The client side: pooled HTTP/1.1 (+ HTTP/2 when enabled) clients to the real providers, one
//! per worker thread, with every timeout bounded and redirects passed back to the client
//! rather than followed.

use crate::config::UpstreamConfig;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use thiserror::Error;

/// Headers that describe one hop and must not be forwarded (RFC 9110 §7.6.1), plus the
/// credentials meant for PromptWall itself.
pub const HOP_BY_HOP: &[&str] = &[
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// Why the upstream client could not be built.
#[derive(Debug, Error)]
pub enum UpstreamError {
    #[error("upstream.extra_ca_file {path}: {reason}")]
    Ca { path: String, reason: String },
    #[error("building the upstream client: {0}")]
    Build(String),
}

/// The upstream clients and their timeouts.
///
/// Each worker thread asks with its own pooled client ([`Upstream::client`]): a pooled
/// connection's I/O runs in a task on the thread that opened it, so one pool shared by all
/// threads would hand a request on one thread a connection driven by another, and every
/// exchange would cross threads twice.
pub struct Upstream {
    /// Tells this set of clients from another in the per-thread cache (tests run several).
    id: u64,
    cfg: UpstreamConfig,
    /// The extra CA's certificates, read once.
    roots: Vec<reqwest::Certificate>,
    /// HTTP/1.1 only: WebSocket upgrades (RFC 6455 needs an HTTP/1.1 hop to the provider).
    pub ws_client: reqwest::Client,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's client per [`Upstream`], built on first use.
    static CLIENTS: RefCell<Vec<(u64, reqwest::Client)>> = const { RefCell::new(Vec::new()) };
}

impl Upstream {
    /// Builds the clients: platform roots plus the configured extra CA, fixed resolutions.
    /// The first is built here, so a configuration a client cannot be built from fails now.
    pub fn new(cfg: &UpstreamConfig) -> Result<Self, UpstreamError> {
        let roots = match &cfg.extra_ca_file {
            Some(path) => read_roots(path)?,
            None => Vec::new(),
        };
        let up = Upstream {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            cfg: cfg.clone(),
            ws_client: build(builder(cfg, &roots).http1_only())?,
            roots,
            header_timeout: Duration::from_millis(cfg.header_timeout_ms),
            idle_timeout: Duration::from_millis(cfg.idle_timeout_ms),
        };
        let first = up.build_client()?;
        CLIENTS.with(|c| c.borrow_mut().push((up.id, first)));
        Ok(up)
    }

    /// This thread's pooled client (a handle: cheap to clone).
    pub fn client(&self) -> reqwest::Client {
        if let Some(c) = CLIENTS.with(|c| {
            c.borrow()
                .iter()
                .find(|(id, _)| *id == self.id)
                .map(|(_, c)| c.clone())
        }) {
            return c;
        }
        // The same settings built at start: this fails only where the process cannot build
        // any TLS client; the WebSocket client, built at start, serves then.
        let c = self.build_client().unwrap_or_else(|e| {
            tracing::error!(error = %e, "upstream client for this thread not built; sharing one");
            self.ws_client.clone()
        });
        CLIENTS.with(|cs| cs.borrow_mut().push((self.id, c.clone())));
        c
    }

    fn build_client(&self) -> Result<reqwest::Client, UpstreamError> {
        let b = builder(&self.cfg, &self.roots);
        build(if self.cfg.http2 { b } else { b.http1_only() })
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        // Other threads' entries go when those threads end; this one's goes now.
        let _ = CLIENTS.try_with(|c| c.borrow_mut().retain(|(id, _)| *id != self.id));
    }
}

fn build(b: reqwest::ClientBuilder) -> Result<reqwest::Client, UpstreamError> {
    b.build().map_err(|e| UpstreamError::Build(e.to_string()))
}

fn read_roots(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, UpstreamError> {
    let ca_err = |reason: String| UpstreamError::Ca {
        path: path.display().to_string(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| ca_err(e.to_string()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ca_err(e.to_string()))?;
    if certs.is_empty() {
        return Err(ca_err("no certificates in file".into()));
    }
    Ok(certs)
}

fn builder(cfg: &UpstreamConfig, roots: &[reqwest::Certificate]) -> reqwest::ClientBuilder {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_millis(cfg.connect_timeout_ms))
        .read_timeout(Duration::from_millis(cfg.idle_timeout_ms))
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true);
    for c in roots {
        b = b.add_root_certificate(c.clone());
    }
    for (host, addr) in &cfg.resolve {
        b = b.resolve(host, *addr);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(up: &Upstream) -> usize {
        CLIENTS.with(|c| c.borrow().iter().filter(|(id, _)| *id == up.id).count())
    }

    #[test]
    fn each_thread_builds_its_client_once_and_a_dropped_upstream_leaves_none() {
        let up = Upstream::new(&UpstreamConfig::default()).unwrap();
        assert_eq!(cached(&up), 1, "built at start, on this thread");
        let _ = up.client();
        assert_eq!(cached(&up), 1, "reused, not rebuilt");
        std::thread::scope(|s| {
            s.spawn(|| {
                assert_eq!(cached(&up), 0);
                let _ = (up.client(), up.client());
                assert_eq!(cached(&up), 1, "one per thread");
            });
        });
        let other = Upstream::new(&UpstreamConfig::default()).unwrap();
        assert_ne!(other.id, up.id);
        let id = up.id;
        drop(up);
        assert_eq!(
            CLIENTS.with(|c| c.borrow().iter().filter(|(i, _)| *i == id).count()),
            0
        );
        assert_eq!(cached(&other), 1);
    }

    #[test]
    fn an_unreadable_extra_ca_is_named() {
        let cfg = UpstreamConfig {
            extra_ca_file: Some("/nonexistent/ca.pem".into()),
            ..UpstreamConfig::default()
        };
        let e = Upstream::new(&cfg).err().expect("refused");
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }
}
