//! The HTTP side of PromptWall: every request on an intercepted connection, on the gateway, or
//! in absolute form on the forward proxy runs through the same phases:
//!
//! identify → route → read body (capped) → inspect and decide → act (block, rewrite or pass)
//! → forward and stream back → log.
//!
//! The request body is read in full and decided on *before* anything is sent upstream, so a
//! blocked prompt never leaves the building, not even its headers.

use crate::catalog::Catalog;
use crate::config::Config;
use crate::forward::{forward, Outbound};
use crate::identity::Authenticator;
use crate::inspect::Inspector;
use crate::mitm::ca::CertificateAuthority;
use crate::providers::{ErrorKind, ErrorShape};
use crate::reply::{self, Reply};
use crate::stream::guard::ResponsePolicy;
use crate::upstream::Upstream;
use async_trait::async_trait;
use bytes::Bytes;
use pingora_core::apps::{HttpPersistentSettings, HttpServerApp, ReusedHttpStream};
use pingora_core::protocols::http::ServerSession;
use pingora_core::server::ShutdownWatch;
use policy::Identity;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::time::timeout;
use tracing::Instrument;

mod decide;
mod log;
mod route;
mod websocket;

pub(crate) use log::request_id;
use log::{emit, RequestLog};

/// State shared by every listener, built once at start; reloadable parts sit behind `ArcSwap`s.
pub struct Shared {
    pub config: Config,
    /// The usage log writer (`None` when auditing is disabled in the config).
    pub audit: Option<crate::audit::AuditWriter>,
    pub catalog: Catalog,
    /// Configured MCP servers (name, URL): gateway routes `/mcp/<name>/`.
    pub mcp: Vec<(String, http::Uri)>,
    /// Addresses of the catalog's hosts, for `CONNECT`s to a bare address.
    pub ai_addrs: crate::catalog::AiAddresses,
    pub auth: Authenticator,
    pub inspector: Inspector,
    pub upstream: Upstream,
    pub ca: Arc<CertificateAuthority>,
    /// Interception TLS configs, one per host.
    pub tls_configs: crate::mitm::ServerConfigs,
    /// Hashed admin API tokens.
    pub admin_tokens: crate::admin::auth::AdminTokens,
    /// Web console sign-ins.
    pub ui_sessions: crate::admin::console::Sessions,
    /// Permits for AI requests in flight (`limits.max_inflight`): load shedding, not queueing.
    pub inflight: Arc<tokio::sync::Semaphore>,
    /// Pseudonym mappings of server-side conversations, by tenant and conversation: this
    /// node's own, or shared in Redis (fleet mode).
    pub vault: crate::fleet::vault::Vault,
    /// Legacy MCP (HTTP+SSE) sessions whose streams this node relays.
    pub mcp_sessions: Arc<crate::stream::mcp::Sessions>,
    /// Policies shared in PostgreSQL (fleet mode): changes go there, and this node follows.
    pub fleet_policies: Option<Arc<crate::fleet::policies::PgPolicies>>,
    /// The whole fleet's usage log in ClickHouse (fleet mode): what auditors read.
    pub fleet_log: Option<crate::fleet::clickhouse::ClickHouse>,
    /// Users' pseudonyms in insider-risk results (`risk.pseudonymize_users`).
    pub risk_pseudonyms: Option<crate::risk::Pseudonyms>,
}

impl Shared {
    /// The mapping a conversation has built so far (empty when new or expired); `Err` when
    /// the shared vault cannot answer.
    pub async fn conversation_mapping(
        &self,
        tenant: &str,
        conversation: &str,
    ) -> Result<policy::Pseudonyms, crate::fleet::vault::VaultError> {
        self.vault.get(tenant, conversation).await
    }

    /// Keeps `mapping` for the conversation, for `policies.pseudonym_ttl_secs`. A failure is
    /// logged and counted: the later turns of that conversation then pass their tokens
    /// unrestored (never with a wrong value).
    pub async fn remember(&self, tenant: &str, conversation: &str, mapping: policy::Pseudonyms) {
        let ttl = std::time::Duration::from_secs(self.config.policies.pseudonym_ttl_secs);
        if let Err(e) = self.vault.put(tenant, conversation, &mapping, ttl).await {
            crate::metrics::METRICS.vault_errors.inc();
            tracing::warn!(tenant, error = %e, "pseudonym mapping not stored in the shared vault");
        }
    }

    /// The end of the previous turn of server-side conversation `conversation`, if kept.
    pub async fn turn_tail(
        &self,
        tenant: &str,
        conversation: &str,
    ) -> Result<Option<String>, crate::fleet::vault::VaultError> {
        let kept = self
            .vault
            .get(tenant, &format!("tail:{conversation}"))
            .await?;
        Ok(kept.get(0).map(|(_, tail)| tail.to_string()))
    }

    /// Keeps the end of a turn for the conversation's next one, sealed in the vault like its
    /// pseudonyms and for as long (it is prompt text: never logged, never audited).
    pub async fn remember_turn_tail(&self, tenant: &str, conversation: &str, tail: String) {
        let mut kept = policy::Pseudonyms::default();
        kept.push("tail", &tail);
        self.remember(tenant, &format!("tail:{conversation}"), kept)
            .await;
    }

    /// Identifies a requester from its credentials, headers and address.
    pub fn identify(
        &self,
        proxy_authorization: Option<&[u8]>,
        header: &dyn Fn(&str) -> Option<String>,
        peer: Option<IpAddr>,
    ) -> Result<Identity, crate::identity::AuthFailure> {
        self.auth
            .identify(&self.inspector.store(), proxy_authorization, header, peer)
    }
}

/// How a request reached the HTTP app; decides where its target and identity come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Inside a TLS session PromptWall terminated after a CONNECT.
    Intercepted,
    /// On the gateway listener, routed by path prefix.
    Gateway,
    /// An absolute-form request (`GET http://host/...`) on the forward proxy port.
    ForwardHttp,
}

/// The pingora HTTP application for one entry point.
pub struct AiHttpApp {
    pub entry: Entry,
    pub shared: Arc<Shared>,
}

#[async_trait]
impl HttpServerApp for AiHttpApp {
    fn h2_options(&self) -> Option<pingora_core::protocols::http::v2::server::H2Options> {
        let mut o = pingora_core::protocols::http::v2::server::default_h2_options();
        o.max_concurrent_streams(self.shared.config.limits.h2_max_concurrent_streams);
        // h2's guard against floods of tiny DATA frames allows ~100 unread ones (25 KiB of
        // framing overhead) and then closes the whole connection. A client that streams a
        // body in small pieces (a multipart upload of many fields) sends them in one burst,
        // before the request task reads any: allow 4 MiB of overhead (~16,000 tiny frames)
        // per connection; the body itself stays bounded by `limits.max_body_bytes`.
        o.data_frame_budget(4 << 20);
        // WebSockets over HTTP/2 (RFC 8441): browsers use them once this is advertised.
        o.enable_connect_protocol();
        Some(o)
    }

    async fn process_new_http(
        self: &Arc<Self>,
        mut session: ServerSession,
        shutdown: &ShutdownWatch,
    ) -> Option<ReusedHttpStream> {
        let read_timeout = Config::ms(self.shared.config.limits.client_read_timeout_ms);
        match timeout(read_timeout, session.read_request()).await {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) | Err(_) => return None,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "unreadable request head");
                let _ = session
                    .respond_error_with_body(
                        400,
                        Bytes::from_static(b"PromptWall: malformed HTTP request\n"),
                    )
                    .await;
                return None;
            }
        }
        session.set_keepalive(if *shutdown.borrow() { None } else { Some(60) });
        if !self.handle(&mut session).await {
            session.shutdown().await;
            return None;
        }
        let settings = HttpPersistentSettings::for_session(&session);
        match session.finish().await {
            Ok(Some(stream)) => Some(ReusedHttpStream::from_reusable_stream(stream, settings)),
            Ok(None) => None,
            Err(e) => {
                tracing::debug!(error = %e, "finishing the downstream session");
                None
            }
        }
    }
}

/// What inspection decided for a request that goes ahead.
#[derive(Default)]
struct Go {
    body: Option<Bytes>,
    /// The rewritten body is plain, though the client's was compressed.
    drop_content_encoding: bool,
    /// The rewritten body's content type, when it differs from the client's (transcoded).
    content_type: Option<&'static str>,
    /// A redacted query string (the whole path and query).
    path_and_query: Option<String>,
    /// Redacted header values.
    headers: Vec<(String, String)>,
    pseudonyms: policy::Pseudonyms,
    response: Option<ResponsePolicy>,
    /// The end of this turn's last text, kept for the next turn if the provider keeps the
    /// conversation (see [`crate::inspect::Scan::across_turns`]).
    tail: Option<String>,
}

impl AiHttpApp {
    /// Commits an audit event; `false` means it could not be written (the caller fails safe).
    async fn audit(&self, log: &RequestLog, kind: &str, started: Instant) -> bool {
        let Some(w) = &self.shared.audit else {
            return true;
        };
        match w.record(log.audit_event(kind, started)).await {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(request_id = %log.id, error = %e, "audit event not written");
                false
            }
        }
    }

    /// Queues an event that need not precede anything (the response record): the caller waits
    /// only for room in the queue, never for the disk. A failed commit is logged (with the
    /// event ids) and counted by the writer; shutdown drains the queue.
    async fn audit_after(&self, log: &RequestLog, kind: &str, started: Instant) {
        let Some(w) = &self.shared.audit else {
            return;
        };
        if let Err(e) = w.enqueue(log.audit_event(kind, started)).await {
            tracing::error!(request_id = %log.id, error = %e, "audit event not written");
        }
    }

    /// Runs one request inside its trace span; returns whether the connection may be reused.
    async fn handle(&self, session: &mut ServerSession) -> bool {
        use tracing::field::Empty;
        let span = tracing::info_span!(
            target: "promptwall::trace",
            "promptwall.request",
            otel.name = "promptwall.request",
            otel.kind = "server",
            promptwall.request_id = Empty,
            promptwall.tenant = Empty,
            promptwall.decision = Empty,
            gen_ai.system = Empty,
            gen_ai.operation.name = Empty,
            gen_ai.request.model = Empty,
            gen_ai.usage.input_tokens = Empty,
            gen_ai.usage.output_tokens = Empty,
            server.address = Empty,
            http.response.status_code = Empty,
        );
        self.handle_in_span(session).instrument(span).await
    }

    async fn handle_in_span(&self, session: &mut ServerSession) -> bool {
        let started = Instant::now();
        let mut log = RequestLog {
            id: request_id(),
            method: session.req_header().method.to_string(),
            client_addr: session
                .client_addr()
                .and_then(|a| a.as_inet())
                .map(|a| a.to_string()),
            ..RequestLog::default()
        };
        let (target, identity) = match self.route_and_identify(session) {
            Ok(v) => v,
            Err((reply, shape)) => {
                log.status = reply.status;
                let ok = reply::write(session, shape, reply, &log.id).await;
                self.audit(&log, "refused", started).await;
                emit(&log, started);
                return ok;
            }
        };
        log.tenant = identity.tenant.clone();
        log.user = identity.user.clone();
        log.groups = identity.groups.clone();
        log.provider = target.provider.clone();
        log.host = target.host.clone();
        log.path = target
            .path_and_query
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        let shape = ErrorShape::for_provider(target.provider.as_deref().unwrap_or("openai"));
        // Over capacity: answer at once (before reading the body) rather than queue without
        // bound; the permit is held until the response, stream included, has been sent.
        let Ok(_permit) = self.shared.inflight.clone().try_acquire_owned() else {
            log.status = 503;
            crate::metrics::METRICS.shed.inc();
            let reply = Reply {
                extra: vec![("retry-after", "1".into())],
                ..Reply::new(
                    503,
                    ErrorKind::Unavailable,
                    "PromptWall is at capacity; retry in a moment. The request was not sent.",
                )
            };
            reply::write(session, shape, reply, &log.id).await;
            emit(&log, started);
            // The body was not read: the connection cannot be reused.
            return false;
        };

        // An HTTP/2 WebSocket's request stream is the socket itself: no body to read first.
        let body = match if crate::ws::is_h2_websocket(session) {
            Ok(Bytes::new())
        } else {
            self.read_body(session).await
        } {
            Ok(b) => b,
            Err(reply) => {
                log.status = reply.status;
                // The rest of an oversized or stalled body is unread: do not reuse the connection.
                reply::write(session, shape, reply, &log.id).await;
                self.audit(&log, "refused", started).await;
                emit(&log, started);
                return false;
            }
        };
        log.request_bytes = body.len() as u64;

        let mut go = Go::default();
        let kind = if target.provider.is_some() {
            "ai_request"
        } else {
            "passthrough"
        };
        if let Some(provider) = target.provider.as_deref() {
            match self
                .inspect(session, provider, &target, &identity, &body, &mut log)
                .instrument(tracing::info_span!(target: "promptwall::trace", "inspect"))
                .await
            {
                Ok(g) => go = g,
                Err(reply) => {
                    log.status = reply.status;
                    // The decision is committed before the client hears of it.
                    let reply = if self.audit(&log, kind, started).await {
                        reply
                    } else {
                        audit_unavailable()
                    };
                    let sessions = &self.shared.mcp_sessions;
                    let ok = match crate::stream::mcp::answer_legacy(
                        sessions,
                        session,
                        &target,
                        &identity.tenant,
                        &reply,
                        &log.id,
                    )
                    .await
                    {
                        Some(ok) => {
                            log.status = 202;
                            ok
                        }
                        None => reply::write(session, shape, reply, &log.id).await,
                    };
                    emit(&log, started);
                    return ok;
                }
            }
        }
        // Committed before anything goes upstream: a request is never forwarded unaudited.
        if !self.audit(&log, kind, started).await {
            log.status = 503;
            let ok = reply::write(session, shape, audit_unavailable(), &log.id).await;
            emit(&log, started);
            return ok;
        }
        let turn_tail = go.tail;
        let body = go.body.unwrap_or(body);
        let mut target = target;
        if let Some(p) = go.path_and_query {
            target.path_and_query = p;
        }
        // Only a turn with something to leave its next one costs a handle.
        let keep =
            (!go.pseudonyms.is_empty() || turn_tail.is_some()).then(|| crate::forward::KeepTurn {
                shared: self.shared.clone(),
                tenant: identity.tenant.to_string(),
                tail: turn_tail,
            });
        let outbound = Outbound {
            body,
            drop_content_encoding: go.drop_content_encoding,
            content_type: go.content_type,
            headers: go.headers,
            pseudonyms: go.pseudonyms,
            response_policy: go.response,
            shape,
            mcp: self.mcp_route(&target, &identity.tenant),
            keep,
        };
        let f = match target.provider.as_deref() {
            Some(provider) if crate::ws::is_upgrade(session) => {
                self.relay_websocket(session, provider, &target, &identity, outbound, &log)
                    .await
            }
            _ => forward(session, &self.shared.upstream, &target, outbound, &log.id).await,
        };
        log.status = f.status;
        log.upstream_ms = f.upstream_ms;
        log.response_bytes = session.body_bytes_sent() as u64;
        log.response_decision = f.response.action.map(|a| {
            if f.response.cut {
                "cut".to_string()
            } else {
                a.as_str().to_string()
            }
        });
        log.response_rules = f.response.rules;
        log.response_uninspected = f.response.uninspected;
        log.usage = f.usage;
        // The request record was committed before forwarding; the response record is queued
        // (never dropped) so the client does not wait for a second disk commit.
        self.audit_after(
            &log,
            if kind == "ai_request" {
                "ai_response"
            } else {
                "passthrough_response"
            },
            started,
        )
        .await;
        emit(&log, started);
        f.reusable
    }
}

fn audit_unavailable() -> Reply {
    Reply::new(
        503,
        ErrorKind::Unavailable,
        "PromptWall cannot record this request in its audit log right now; it was not sent.",
    )
}

/// Why the shared state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    #[error(transparent)]
    Upstream(#[from] crate::upstream::UpstreamError),
    #[error("TLS session ticket key: {0}")]
    Tickets(#[from] rustls::Error),
}

/// Builds the shared state from its parts.
pub fn shared(
    config: Config,
    ca: Arc<CertificateAuthority>,
    inspector: Inspector,
) -> Result<Arc<Shared>, SharedError> {
    Ok(Arc::new(Shared {
        catalog: Catalog::new(&config.destinations)
            .with_mcp(&config.mcp.endpoints().unwrap_or_default()),
        mcp: config.mcp.endpoints().unwrap_or_default(),
        ai_addrs: Default::default(),
        auth: Authenticator::new(&config.auth),
        upstream: Upstream::new(&config.upstream)?,
        inspector,
        tls_configs: crate::mitm::ServerConfigs::new(ca.clone())?,
        ca,
        audit: None,
        admin_tokens: crate::admin::auth::AdminTokens::new(&config.admin.tokens),
        ui_sessions: crate::admin::console::Sessions::new(Duration::from_secs(
            config.admin.session_ttl_secs,
        )),
        inflight: Arc::new(tokio::sync::Semaphore::new(config.limits.max_inflight)),
        vault: crate::fleet::vault::Vault::Local(policy::Vault::default()),
        mcp_sessions: Default::default(),
        fleet_policies: None,
        fleet_log: None,
        risk_pseudonyms: None,
        config,
    }))
}
