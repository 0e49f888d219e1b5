//! The forward-proxy front door: `CONNECT host:port` and absolute-form HTTP on one port.
//!
//! pingora's HTTP proxy rejects CONNECT, so this `ServerApp` reads the first request itself:
//! - `CONNECT` to an AI destination: answer 200, terminate TLS with a minted certificate, and
//!   hand the decrypted stream to the HTTP app (HTTP/1.1 or HTTP/2 by ALPN);
//! - `CONNECT` to anything else: connect upstream, answer 200, and copy bytes blind;
//! - anything else: an absolute-form HTTP request, handed whole to the HTTP app.

use crate::handler::{AiHttpApp, Shared};
use crate::identity::AuthFailure;
use crate::listener::first_flight::{self, FirstFlight};
use crate::listener::tunnel;
use crate::route::{parse_authority, ConnectInfo};
use async_trait::async_trait;
use pingora_core::apps::ServerApp;
use pingora_core::listeners::tls::Acceptor;
use pingora_core::listeners::TlsAccept;
use pingora_core::protocols::http::v1::server::HttpSession;
use pingora_core::protocols::l4::stream::Stream as L4Stream;
use pingora_core::protocols::tls::server::handshake_with_callback;
use pingora_core::protocols::tls::TlsRef;
use pingora_core::protocols::Stream;
use pingora_core::server::ShutdownWatch;
use policy::Unsanctioned;
use std::any::Any;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

/// The `ServerApp` behind the forward-proxy port.
pub struct FrontDoor {
    pub shared: Arc<Shared>,
    /// Serves requests inside intercepted TLS sessions.
    pub intercepted: Arc<AiHttpApp>,
    /// Serves absolute-form plain-HTTP requests.
    pub plain: Arc<AiHttpApp>,
}

/// Attaches the CONNECT target and identity to the TLS session, where the HTTP app finds them.
struct CarryConnectInfo(Arc<ConnectInfo>);

#[async_trait]
impl TlsAccept for CarryConnectInfo {
    async fn handshake_complete_callback(
        &self,
        _tls: &TlsRef,
    ) -> Option<Arc<dyn Any + Send + Sync>> {
        Some(self.0.clone())
    }
}

#[async_trait]
impl ServerApp for FrontDoor {
    async fn process_new(
        self: &Arc<Self>,
        stream: Stream,
        shutdown: &ShutdownWatch,
    ) -> Option<Stream> {
        let Ok(l4) = stream.into_any().downcast::<L4Stream>() else {
            tracing::error!("forward proxy listener got a non-TCP stream");
            return None;
        };
        let mut l4 = *l4;
        let read_timeout =
            crate::config::Config::ms(self.shared.config.limits.client_read_timeout_ms);
        let prefix = match timeout(read_timeout, read_prefix(&mut l4)).await {
            Ok(Ok(p)) if !p.is_empty() => p,
            _ => return None,
        };
        l4.rewind(&prefix);
        if !prefix.starts_with(b"CONNECT ") {
            return self.plain.process_new(Box::new(l4), shutdown).await;
        }
        self.connect(l4, shutdown).await;
        None
    }
}

/// Reads until 8 bytes, a newline or EOF: enough to tell CONNECT from any other method.
async fn read_prefix(s: &mut L4Stream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(8);
    let mut byte = [0u8; 8];
    while buf.len() < 8 && !buf.contains(&b'\n') {
        let n = s.read(&mut byte[..8 - buf.len()]).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&byte[..n]);
    }
    Ok(buf)
}

async fn write_raw(stream: &mut Stream, status_line: &str, extra: &str, body: &str) {
    let msg = format!(
        "HTTP/1.1 {status_line}\r\n{extra}content-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(msg.as_bytes()).await;
    let _ = stream.flush().await;
}

impl FrontDoor {
    /// Records a CONNECT that is not intercepted (blind tunnel or refused destination), so the
    /// log shows which services are used, by whom and how often (shadow-AI discovery). Whether
    /// the record was written (or the log is off); a failure is logged and counted either way.
    async fn audit_connect(
        &self,
        kind: &str,
        who: Who<'_>,
        host: &str,
        port: u16,
        provider: Option<&str>,
        mismatch: Option<(Option<String>, crate::audit::event::ReasonRow)>,
    ) -> bool {
        let Who(identity, peer) = who;
        crate::metrics::METRICS.connection(kind);
        let (sni, reasons) = match mismatch {
            Some((sni, reason)) => (sni, vec![reason]),
            None => (None, Vec::new()),
        };
        let Some(w) = &self.shared.audit else {
            return true;
        };
        let event = crate::audit::AuditEvent {
            id: format!("connect-{}", crate::handler::request_id()),
            time: crate::audit::event::now(),
            kind: kind.into(),
            tenant: identity.tenant.clone(),
            user: identity.user.clone(),
            groups: identity.groups.clone(),
            client_addr: peer.map(|p| p.to_string()),
            provider: provider.map(str::to_string),
            host: format!("{host}:{port}"),
            decision: if kind == "blocked_destination" {
                "block".into()
            } else {
                "tunnel".into()
            },
            classifier: "off".into(),
            sni,
            reasons,
            ..Default::default()
        };
        match w.record(event).await {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(host, error = %e, "audit event for a CONNECT not written");
                false
            }
        }
    }

    async fn connect(&self, l4: L4Stream, shutdown: &ShutdownWatch) {
        let shared = &self.shared;
        let read_timeout = crate::config::Config::ms(shared.config.limits.client_read_timeout_ms);
        let mut http = HttpSession::new(Box::new(l4));
        let parsed = timeout(read_timeout, http.read_request()).await;
        let target = match parsed {
            Ok(Ok(Some(_))) => {
                parse_authority(&String::from_utf8_lossy(http.req_header().raw_path()))
            }
            Ok(Ok(None)) | Err(_) => return,
            Ok(Err(_)) => None,
        };
        let auth_header = http
            .get_header("proxy-authorization")
            .map(|v| v.as_bytes().to_vec());
        let connect_headers: Vec<(String, String)> = http
            .req_header()
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let peer = http.client_addr().and_then(|a| a.as_inet()).map(|a| a.ip());
        let mut stream = http.into_inner();
        let Some((host, port)) = target else {
            write_raw(
                &mut stream,
                "400 Bad Request",
                "",
                "PromptWall: malformed CONNECT request; expected `CONNECT host:port HTTP/1.1`\n",
            )
            .await;
            return;
        };
        let lookup = |name: &str| {
            connect_headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let identity = match shared.identify(auth_header.as_deref(), &lookup, peer) {
            Ok(id) => id,
            Err(f) => {
                tracing::info!(target: "promptwall::connect", host = %host, reason = %f, "proxy authentication failed");
                let body = match f {
                    AuthFailure::Missing => "PromptWall: proxy authentication required\n",
                    AuthFailure::Invalid => "PromptWall: proxy credentials not accepted\n",
                };
                write_raw(
                    &mut stream,
                    "407 Proxy Authentication Required",
                    "proxy-authenticate: Basic realm=\"PromptWall\"\r\nproxy-authenticate: Bearer realm=\"PromptWall\"\r\n",
                    body,
                )
                .await;
                return;
            }
        };
        let provider = shared.catalog.lookup(&host).map(str::to_string);
        let verdict = provider.as_deref().map(|p| {
            shared
                .inspector
                .store()
                .get(&identity.tenant)
                .destination_verdict(p)
        });
        let provider = match verdict {
            Some(Some(Unsanctioned::Block)) => {
                tracing::info!(target: "promptwall::connect", tenant = %identity.tenant, user = %identity.user.as_deref().unwrap_or("-"), host = %host, port, provider = %provider.as_deref().unwrap_or("-"), mode = %"blocked_unsanctioned", "connect");
                self.audit_connect(
                    "blocked_destination",
                    Who(&identity, peer),
                    &host,
                    port,
                    provider.as_deref(),
                    None,
                )
                .await;
                let msg = format!(
                    "PromptWall: {host} is not a sanctioned AI service for your organisation\n"
                );
                write_raw(&mut stream, "403 Forbidden", "", &msg).await;
                return;
            }
            Some(Some(Unsanctioned::Tunnel)) => None,
            _ => provider,
        };
        match provider {
            None => {
                let deliberate = verdict.is_some();
                self.tunnel(stream, host, port, identity, peer, deliberate, shutdown)
                    .await;
            }
            Some(provider) => {
                tracing::info!(target: "promptwall::connect", tenant = %identity.tenant, user = %identity.user.as_deref().unwrap_or("-"), host = %host, port, provider = %provider, mode = %"intercept", "connect");
                let _ = stream
                    .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                    .await;
                if stream.flush().await.is_err() {
                    return;
                }
                let info = ConnectInfo {
                    host,
                    port,
                    provider,
                    identity,
                };
                let Ok(l4) = stream.into_any().downcast::<L4Stream>() else {
                    return;
                };
                self.intercept(*l4, info, shutdown).await;
            }
        }
    }

    /// A `CONNECT` to a host outside the catalog: connect, answer, then read the client's
    /// first flight before any byte moves. A TLS ClientHello naming an AI host (or none, to an
    /// address of one) disagrees with the target: the tenant's `destinations.mismatch` decides
    /// (block by default), and the log records it. Anything else is tunnelled blind.
    /// `deliberate`: the target is an AI host the policy tunnels (unsanctioned, `tunnel`).
    #[allow(clippy::too_many_arguments)]
    async fn tunnel(
        &self,
        mut stream: Stream,
        host: String,
        port: u16,
        identity: policy::Identity,
        peer: Option<std::net::IpAddr>,
        deliberate: bool,
        shutdown: &ShutdownWatch,
    ) {
        let shared = &self.shared;
        let Some(upstream) = tunnel::open(shared, &mut stream, &host, port).await else {
            return;
        };
        let Ok(l4) = stream.into_any().downcast::<L4Stream>() else {
            return;
        };
        let mut l4 = *l4;
        let wait = crate::config::Config::ms(shared.config.limits.client_read_timeout_ms);
        let (flight, bytes) = first_flight::read(&mut l4, &upstream, wait).await;
        l4.rewind(&bytes);
        let named = match &flight {
            FirstFlight::Tls { sni: Some(sni) } if !sni.eq_ignore_ascii_case(&host) => shared
                .catalog
                .lookup(sni)
                // A tunnel the policy allows to one AI service does not carry another: on a
                // shared front, the name in the hello picks the service.
                .filter(|p| !deliberate || shared.catalog.lookup(&host) != Some(*p))
                .map(|p| (sni.clone(), p.to_string())),
            _ => None,
        };
        // The address actually connected, whatever form the target took: an IPv4-mapped IPv6
        // literal, a decimal integer, a name that resolves to an AI host's address.
        let connected = upstream.peer_addr().ok().map(|a| a.ip().to_canonical());
        // A hello PromptWall cannot read names nothing it can check: treated as a name that
        // disagrees (the tenant's `destinations.mismatch`), never tunnelled unread by default.
        let unreadable = flight == FirstFlight::Unreadable;
        let bare_ai_address = matches!(flight, FirstFlight::Tls { sni: None })
            && !deliberate
            && match connected {
                Some(ip) => {
                    shared
                        .ai_addrs
                        .contains(ip, port, &shared.catalog, &shared.config.upstream.resolve)
                        .await
                }
                None => false,
            };
        if named.is_none() && !bare_ai_address && !unreadable {
            if flight == FirstFlight::Gone {
                return;
            }
            tracing::info!(target: "promptwall::connect", tenant = %identity.tenant, user = %identity.user.as_deref().unwrap_or("-"), host = %host, port, mode = %"tunnel", "connect");
            self.audit_connect(
                "tunnel",
                Who(&identity, peer),
                &host,
                port,
                shared.catalog.lookup(&host),
                None,
            )
            .await;
            tunnel::run(shared, l4, upstream, &host, port).await;
            return;
        }
        let mismatch = shared.inspector.store().get(&identity.tenant).mismatch();
        let sni = named.as_ref().map(|(s, _)| s.clone());
        let provider = named.as_ref().map(|(_, p)| p.clone());
        tracing::warn!(target: "promptwall::connect", tenant = %identity.tenant, user = %identity.user.as_deref().unwrap_or("-"), host = %host, port, sni = %sni.as_deref().unwrap_or("-"), action = ?mismatch, "the TLS name and the CONNECT target disagree");
        let reason = crate::audit::event::ReasonRow {
            rule: format!("destinations.mismatch:{}", mismatch_name(mismatch)),
            action: match mismatch {
                policy::Mismatch::Block => "block",
                policy::Mismatch::Intercept => "allow",
                policy::Mismatch::Tunnel => "log",
            }
            .into(),
            category: None,
            entity: if sni.is_some() {
                "sni_mismatch"
            } else if unreadable {
                "unreadable_client_hello"
            } else {
                "no_sni_to_ai_address"
            }
            .into(),
            count: 1,
            max_score: 0.0,
        };
        match mismatch {
            policy::Mismatch::Block | policy::Mismatch::Tunnel => {
                let tunnelled = mismatch == policy::Mismatch::Tunnel;
                let kind = if tunnelled {
                    "tunnel"
                } else {
                    "blocked_destination"
                };
                let recorded = self
                    .audit_connect(
                        kind,
                        Who(&identity, peer),
                        &host,
                        port,
                        provider.as_deref(),
                        Some((sni, reason)),
                    )
                    .await;
                // A tunnel past a TLS name that disagrees is what an evasion looks like: it
                // opens only once its record is written (ordinary tunnels go on, logged).
                if tunnelled && recorded {
                    tunnel::run(shared, l4, upstream, &host, port).await;
                }
            }
            policy::Mismatch::Intercept => {
                let Some((sni, provider)) = named else {
                    // No name to mint a certificate for: nothing to intercept as.
                    self.audit_connect(
                        "blocked_destination",
                        Who(&identity, peer),
                        &host,
                        port,
                        None,
                        Some((None, reason)),
                    )
                    .await;
                    return;
                };
                drop(upstream);
                let info = ConnectInfo {
                    host: sni,
                    port,
                    provider,
                    identity,
                };
                self.intercept(l4, info, shutdown).await;
            }
        }
    }

    async fn intercept(&self, l4: L4Stream, info: ConnectInfo, shutdown: &ShutdownWatch) {
        let host = info.host.clone();
        let acceptor = Acceptor::from_server_config(self.shared.tls_configs.for_host(&host));
        let carry = CarryConnectInfo(Arc::new(info));
        let read_timeout =
            crate::config::Config::ms(self.shared.config.limits.client_read_timeout_ms);
        let tls = match timeout(read_timeout, handshake_with_callback(&acceptor, l4, &carry)).await
        {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => {
                tracing::info!(target: "promptwall::connect", host = %host, error = %e, "client TLS handshake failed (does the client trust the PromptWall CA?)");
                return;
            }
            Err(_) => {
                tracing::info!(target: "promptwall::connect", host = %host, "client TLS handshake timed out");
                return;
            }
        };
        self.intercepted.process_new(Box::new(tls), shutdown).await;
    }
}

fn mismatch_name(m: policy::Mismatch) -> &'static str {
    match m {
        policy::Mismatch::Block => "block",
        policy::Mismatch::Intercept => "intercept",
        policy::Mismatch::Tunnel => "tunnel",
    }
}

/// Who made a `CONNECT` and from where, for its audit record.
#[derive(Clone, Copy)]
struct Who<'a>(&'a policy::Identity, Option<std::net::IpAddr>);
