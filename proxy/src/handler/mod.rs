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
use crate::inspect::{InspectError, Inspection, Inspector};
use crate::mitm::ca::CertificateAuthority;
use crate::providers::{ErrorKind, ErrorShape};
use crate::reply::{self, Reply};
use crate::route::{gateway_target, ConnectInfo, Target};
use crate::stream::guard::ResponsePolicy;
use crate::upstream::Upstream;
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use http::header;
use pingora_core::apps::{HttpPersistentSettings, HttpServerApp, ReusedHttpStream};
use pingora_core::protocols::http::ServerSession;
use pingora_core::server::ShutdownWatch;
use policy::{Action, Identity, LabelsOutcome};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::time::timeout;
use tracing::Instrument;

mod log;
mod websocket;

pub(crate) use log::request_id;
use log::{coverage_row, emit, RequestLog};

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

    /// Works out the upstream target and who is asking, or the error to answer with.
    fn route_and_identify(
        &self,
        session: &ServerSession,
    ) -> Result<(Target, Identity), (Reply, ErrorShape)> {
        let req = session.req_header();
        let path_and_query = req
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .to_string();
        let openai = ErrorShape::OpenAi;
        match self.entry {
            Entry::Intercepted => {
                let info = session
                    .digest()
                    .and_then(|d| d.ssl_digest.as_ref())
                    .and_then(|s| s.extension.get::<ConnectInfo>())
                    .ok_or_else(|| {
                        (
                            Reply::new(
                                500,
                                ErrorKind::Unavailable,
                                "intercepted connection lost its CONNECT target",
                            ),
                            openai,
                        )
                    })?;
                Ok((
                    Target {
                        scheme: "https",
                        host: info.host.clone(),
                        port: info.port,
                        provider: Some(info.provider.clone()),
                        path_and_query,
                    },
                    info.identity.clone(),
                ))
            }
            Entry::Gateway => {
                let target = crate::route::mcp_gateway_target(&path_and_query, &self.shared.mcp)
                    .or_else(|| gateway_target(&path_and_query, self.shared.config.gateway.azure_resource.as_deref()))
                    .ok_or_else(|| {
                    (
                        Reply::new(404, ErrorKind::InvalidRequest, "PromptWall gateway: unknown provider prefix; use /openai/, /anthropic/, /gemini/, /azure/<resource>/ ..."),
                        openai,
                    )
                })?;
                let shape =
                    ErrorShape::for_provider(target.provider.as_deref().unwrap_or_default());
                let identity = self.identify(session, 401).map_err(|r| (r, shape))?;
                Ok((target, identity))
            }
            Entry::ForwardHttp => {
                let identity = self.identify(session, 407).map_err(|r| (r, openai))?;
                // pingora keeps only the path in `uri`; the absolute form is in the raw path.
                let uri: http::Uri = std::str::from_utf8(req.raw_path())
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_default();
                let path_and_query = uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/")
                    .to_string();
                let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) else {
                    return Err((
                        Reply::new(
                            400,
                            ErrorKind::InvalidRequest,
                            "PromptWall is a forward proxy: send absolute-form requests or CONNECT",
                        ),
                        openai,
                    ));
                };
                if scheme != "http" {
                    return Err((
                        Reply::new(
                            400,
                            ErrorKind::InvalidRequest,
                            "use CONNECT for https destinations",
                        ),
                        openai,
                    ));
                }
                let host = host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_ascii_lowercase();
                let provider = self.shared.catalog.lookup(&host).map(str::to_string);
                Ok((
                    Target {
                        scheme: "http",
                        port: uri.port_u16().unwrap_or(80),
                        host,
                        provider,
                        path_and_query,
                    },
                    identity,
                ))
            }
        }
    }

    fn response_policy(
        &self,
        provider: &str,
        target: &Target,
        identity: &Identity,
        inspection: &Inspection,
    ) -> ResponsePolicy {
        let inspector = &self.shared.inspector;
        let policy = inspector.store().get(&identity.tenant);
        ResponsePolicy {
            scan: policy.inspects_responses(),
            policy,
            engine: inspector.engine(),
            key: inspector.tenant_key(&identity.tenant),
            user: identity.user.clone(),
            groups: identity.groups.clone(),
            provider: provider.to_string(),
            model: inspection.prompt.model.clone(),
            endpoint: target.path_and_query.clone(),
            shape: ErrorShape::for_provider(provider),
            tool_classifier: provider
                .starts_with("mcp:")
                .then(|| inspector.classifier())
                .flatten()
                .map(|c| (c, inspector.classifier_deadline)),
        }
    }

    /// For an MCP server: the legacy session registry, and through the gateway the route's
    /// prefix and the server's base path.
    fn mcp_route(&self, target: &Target, tenant: &str) -> Option<crate::stream::mcp::Route> {
        let name = target.provider.as_deref()?.strip_prefix("mcp:")?;
        let gateway = (self.entry == Entry::Gateway)
            .then(|| self.shared.mcp.iter().find(|(n, _)| n == name))
            .flatten()
            .map(|(n, uri)| {
                (
                    format!("/mcp/{n}"),
                    uri.path().trim_end_matches('/').to_string(),
                )
            });
        Some(crate::stream::mcp::Route {
            sessions: self.shared.mcp_sessions.clone(),
            tenant: tenant.to_string(),
            gateway,
        })
    }

    fn identify(&self, session: &ServerSession, status: u16) -> Result<Identity, Reply> {
        let auth = session
            .get_header(header::PROXY_AUTHORIZATION)
            .map(|v| v.as_bytes());
        let headers = |name: &str| {
            session
                .get_header(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let peer = session
            .client_addr()
            .and_then(|a| a.as_inet())
            .map(|a| a.ip());
        self.shared.identify(auth, &headers, peer).map_err(|f| {
            let challenge = "Basic realm=\"PromptWall\", Bearer realm=\"PromptWall\"";
            Reply::new(status, ErrorKind::PolicyViolation, f.to_string()).with(
                if status == 407 {
                    "proxy-authenticate"
                } else {
                    "www-authenticate"
                },
                challenge,
            )
        })
    }

    /// Reads the whole request body, refusing more than the configured cap.
    async fn read_body(&self, session: &mut ServerSession) -> Result<Bytes, Reply> {
        let limits = &self.shared.config.limits;
        let cap = limits.max_body_bytes;
        let too_large = || {
            Reply::new(
                413,
                ErrorKind::TooLarge,
                format!("request body exceeds PromptWall's limit of {cap} bytes"),
            )
        };
        if let Some(len) = session
            .get_header(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
        {
            if len > cap {
                return Err(too_large());
            }
        }
        let deadline =
            tokio::time::Instant::now() + Duration::from_millis(limits.client_read_timeout_ms);
        let mut buf = BytesMut::new();
        loop {
            let chunk = tokio::time::timeout_at(deadline, session.read_request_body())
                .await
                .map_err(|_| {
                    Reply::new(
                        408,
                        ErrorKind::InvalidRequest,
                        "timed out reading the request body",
                    )
                })?
                .map_err(|e| {
                    tracing::warn!(error = %e, read = buf.len(), "request body could not be read");
                    Reply::new(
                        400,
                        ErrorKind::InvalidRequest,
                        format!("unreadable request body: {e}"),
                    )
                })?;
            match chunk {
                Some(c) => {
                    if buf.len() + c.len() > cap {
                        return Err(too_large());
                    }
                    buf.extend_from_slice(&c);
                }
                None => return Ok(buf.freeze()),
            }
        }
    }

    /// Inspects a request to an AI destination and decides: `Err` is the reply that replaces
    /// forwarding (block, coach, bad input); `Ok` says what to send.
    async fn inspect(
        &self,
        session: &ServerSession,
        provider: &str,
        target: &Target,
        identity: &Identity,
        body: &Bytes,
        log: &mut RequestLog,
    ) -> Result<Go, Reply> {
        // A compressed body is inspected decoded (bounded like any body); if it is rewritten,
        // it goes upstream uncompressed.
        let encoding = session
            .get_header(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .filter(|e| !e.trim().is_empty() && !e.eq_ignore_ascii_case("identity"));
        let decoded;
        let body: &Bytes = match encoding {
            None => body,
            Some(enc) => {
                let cap = self.shared.config.limits.max_body_bytes;
                decoded = Bytes::from(crate::encoding::decode(enc, body, cap).map_err(|e| {
                    let status = match e {
                        crate::encoding::DecodeError::Unsupported(_) => 415,
                        crate::encoding::DecodeError::TooLarge(_) => 413,
                        crate::encoding::DecodeError::Corrupt(_) => 400,
                    };
                    Reply::new(
                        status,
                        ErrorKind::InvalidRequest,
                        format!("PromptWall cannot inspect this body: {e}"),
                    )
                })?);
                &decoded
            }
        };
        let inspector = &self.shared.inspector;
        let path = target.path_and_query.as_str();
        let content_type = session
            .get_header(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let headers = session.req_header().headers.iter();
        let envelope = crate::extract::envelope::segments(
            path,
            headers.map(|(k, v)| (k.as_str(), v.as_bytes())),
        );
        let prepared = inspector
            .prepare_request(provider, path, content_type, body, envelope)
            .map_err(|InspectError::MalformedJson(e)| {
                Reply::new(
                    400,
                    ErrorKind::InvalidRequest,
                    format!("PromptWall could not parse the request: {e}"),
                )
            })?;
        if let Some(why) = prepared.unreadable() {
            tracing::warn!(request_id = %log.id, host = %target.host, why, "request body to an AI destination cannot be inspected; on_uninspectable decides");
        }
        // The cache and the first stage settle most windows right here, in microseconds; only
        // windows left uncertain go to the model, on the blocking pool, while the pattern scan
        // runs here.
        let classify = inspector
            .wants_labels(&identity.tenant)
            .then(|| self.start_classify(&identity.tenant, &prepared));
        let mut findings = inspector.scan(&identity.tenant, &prepared);
        let (labels, model_coverage) = match classify {
            Some(c) => c.wait().await,
            None => (LabelsOutcome::NotRun, None),
        };
        findings.note_model(model_coverage.as_ref());
        log.classifier = match &labels {
            LabelsOutcome::NotRun => "off".into(),
            LabelsOutcome::Scored(_) => "ok".into(),
            LabelsOutcome::Failed(e) => format!("error: {e}"),
        };
        // A server-side conversation continues its pseudonyms (same value, same token).
        // A read of a server-side conversation (no body) or a turn in one: its replies carry
        // the tokens earlier turns issued, so restore them.
        let conversation = crate::providers::conversation(path, prepared.json());
        let prior = match conversation.as_deref() {
            None => policy::Pseudonyms::default(),
            Some(c) => match self.shared.conversation_mapping(&identity.tenant, c).await {
                Ok(m) => m,
                Err(e) => {
                    crate::metrics::METRICS.vault_errors.inc();
                    let closed = inspector
                        .store()
                        .get(&identity.tenant)
                        .doc()
                        .on_classifier_error
                        == policy::OnError::FailClosed;
                    tracing::warn!(request_id = %log.id, tenant = %identity.tenant, error = %e, fail_closed = closed, "the conversation's pseudonym mapping could not be read");
                    if closed {
                        return Err(Reply::new(
                            503,
                            ErrorKind::Unavailable,
                            "PromptWall cannot reach its pseudonym store right now, and this conversation needs it; the request was not sent. Retry in a moment.",
                        ));
                    }
                    // Fail open: the turn goes on; tokens from earlier turns stay unrestored.
                    policy::Pseudonyms::default()
                }
            },
        };
        // A value split across turns of a server-side conversation: the end of the previous
        // turn (kept sealed in the vault, as pseudonyms are) against the start of this one.
        if let Some(c) = conversation
            .as_deref()
            .filter(|c| c.starts_with("response:"))
        {
            match self.shared.turn_tail(&identity.tenant, c).await {
                Ok(Some(tail)) => {
                    if let Some((first, text)) = crate::inspect::turn_head(&prepared.prompt) {
                        findings.across_turns(&inspector.engine(), &tail, first, text);
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    // Without it a split value may pass; the pattern scan of this turn stands.
                    crate::metrics::METRICS.vault_errors.inc();
                    tracing::warn!(request_id = %log.id, tenant = %identity.tenant, error = %e, "the previous turn's tail could not be read");
                }
            }
        }
        let prepared = prepared.continuing(prior.clone());
        let inspection: Inspection = tracing::info_span!(target: "promptwall::trace", "policy")
            .in_scope(|| inspector.decide(identity, provider, path, prepared, findings, labels));
        log.labels = inspection
            .labels
            .iter()
            .filter(|(k, v)| {
                inspector
                    .classifier()
                    .is_some_and(|c| c.thresholds.get(*k).is_some_and(|t| **v >= *t))
            })
            .map(|(k, v)| format!("{k}:{v:.2}"))
            .collect();
        let d = &inspection.decision;
        log.inspect_us = inspection.elapsed.as_micros();
        log.model = inspection.prompt.model.clone();
        log.tool = inspection.prompt.tool.clone();
        log.record_decision(d);
        log.redactions = inspection.redaction_count;
        log.stream = inspection.prompt.stream;
        log.segments = inspection.prompt.segments.len();
        log.skipped = inspection.prompt.skipped.len();
        log.coverage = Some(coverage_row(&inspection.prompt, model_coverage));
        if d.action.blocks() {
            let code = if d.action == Action::Coach {
                "coach"
            } else {
                "block"
            };
            let message = d
                .message
                .clone()
                .unwrap_or_else(|| "Request blocked by PromptWall policy.".into());
            return Err(Reply::new(403, ErrorKind::PolicyViolation, message)
                .with("x-promptwall-decision", code)
                .for_rpc(inspection.prompt.rpc_id.clone()));
        }
        let mut pseudonyms = inspection.pseudonyms.clone();
        if pseudonyms.is_empty() {
            // Nothing redacted this turn; earlier turns' tokens may still come back.
            pseudonyms = prior;
        }
        if let Some(c) = &conversation {
            if !pseudonyms.is_empty() {
                self.shared
                    .remember(&identity.tenant, c, pseudonyms.clone())
                    .await;
            }
        }
        let response = Some(self.response_policy(provider, target, identity, &inspection));
        Ok(Go {
            // Only a Responses call gets a response id for a next turn to name; nothing else
            // pays for keeping its tail.
            tail: path
                .split('?')
                .next()
                .is_some_and(|p| p.ends_with("/responses"))
                .then(|| crate::inspect::turn_tail(&inspection.prompt))
                .flatten(),
            drop_content_encoding: encoding.is_some() && inspection.rewritten.is_some(),
            content_type: inspection.rewritten_content_type,
            path_and_query: inspection.rewritten_path.clone(),
            headers: inspection.rewritten_headers.clone(),
            body: inspection.rewritten,
            pseudonyms,
            response,
        })
    }
}

/// Labels and what the model read, or why it could not.
type Classified = (LabelsOutcome, Option<classifiers::onnx::Coverage>);

/// A classification settled on the spot, or one waiting for the model.
enum Classify {
    Done(Classified),
    Running(tokio::task::JoinHandle<Classified>),
}

impl Classify {
    /// The labels, once the model (if it was needed) has read the uncertain windows.
    async fn wait(self) -> Classified {
        match self {
            Classify::Done(outcome) => outcome,
            Classify::Running(t) => t.await.unwrap_or_else(|e| {
                (
                    LabelsOutcome::Failed(format!("classifier task failed: {e}")),
                    None,
                )
            }),
        }
    }
}

impl AiHttpApp {
    /// Triage here (cache and first stage); the windows left uncertain go to the model on
    /// the blocking pool, so the request's pattern scan runs meanwhile.
    fn start_classify(&self, tenant: &str, prepared: &crate::inspect::Prepared) -> Classify {
        let inspector = &self.shared.inspector;
        let text = prepared.classifier_text();
        if text.text.is_empty() {
            // Nothing the model would read (a body-less request: only its URL and headers).
            return Classify::Done((LabelsOutcome::NotRun, None));
        }
        let (model, triage) = match inspector.triage(tenant, &text) {
            Ok(t) => t,
            Err(outcome) => return Classify::Done((outcome, None)),
        };
        if !triage.needs_encoder() {
            return Classify::Done(inspector.finish_classify(&model, triage, &text.text));
        }
        let shared = self.shared.clone();
        let span = tracing::info_span!(target: "promptwall::trace", "classify");
        Classify::Running(tokio::task::spawn_blocking(move || {
            span.in_scope(|| shared.inspector.finish_classify(&model, triage, &text.text))
        }))
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
