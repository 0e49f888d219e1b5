//! The client side: one pooled HTTP/1.1 + HTTP/2 client to the real providers, with every
//! timeout bounded and redirects passed back to the client rather than followed.

use crate::config::UpstreamConfig;
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

/// The shared upstream client and its timeouts.
pub struct Upstream {
    pub client: reqwest::Client,
    /// HTTP/1.1 only: WebSocket upgrades (RFC 6455 needs an HTTP/1.1 hop to the provider).
    pub ws_client: reqwest::Client,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
}

impl Upstream {
    /// Builds the clients: platform roots plus the configured extra CA, fixed resolutions.
    pub fn new(cfg: &UpstreamConfig) -> Result<Self, UpstreamError> {
        let mut b = Self::builder(cfg)?;
        if !cfg.http2 {
            b = b.http1_only();
        }
        let build =
            |b: reqwest::ClientBuilder| b.build().map_err(|e| UpstreamError::Build(e.to_string()));
        Ok(Upstream {
            client: build(b)?,
            ws_client: build(Self::builder(cfg)?.http1_only())?,
            header_timeout: Duration::from_millis(cfg.header_timeout_ms),
            idle_timeout: Duration::from_millis(cfg.idle_timeout_ms),
        })
    }

    fn builder(cfg: &UpstreamConfig) -> Result<reqwest::ClientBuilder, UpstreamError> {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_millis(cfg.connect_timeout_ms))
            .read_timeout(Duration::from_millis(cfg.idle_timeout_ms))
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true);
        if let Some(path) = &cfg.extra_ca_file {
            let ca_err = |reason: String| UpstreamError::Ca {
                path: path.display().to_string(),
                reason,
            };
            let pem = std::fs::read(path).map_err(|e| ca_err(e.to_string()))?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ca_err(e.to_string()))?;
            if certs.is_empty() {
                return Err(ca_err("no certificates in file".into()));
            }
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        for (host, addr) in &cfg.resolve {
            b = b.resolve(host, *addr);
        }
        Ok(b)
    }
}
