//! The HTTP side of PromptWall: every request on an intercepted connection, on the gateway, or
//! in absolute form on the forward proxy runs through the same phases:
//!
//! identify → route → read body (capped) → inspect → act (forward or block) → stream back → log.
//!
//! The request body is read in full and decided on *before* anything is sent upstream, so a
//! blocked prompt never leaves the building, not even its headers.

use crate::catalog::Catalog;
use crate::config::Config;
use crate::identity::{Authenticator, Identity};
use crate::inspect::{InspectError, Inspection, Inspector};
use crate::mitm::ca::CertificateAuthority;
use crate::providers::{ErrorKind, ErrorShape};
use crate::route::{gateway_target, ConnectInfo, Target};
use crate::upstream::{Upstream, HOP_BY_HOP};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use http::{header, Method, StatusCode};
use pingora_core::apps::{HttpPersistentSettings, HttpServerApp, ReusedHttpStream};
use pingora_core::protocols::http::ServerSession;
use pingora_core::server::ShutdownWatch;
use pingora_http::ResponseHeader;
use policy::Action;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::time::timeout;

/// State shared by every listener, built once at start and read-only afterwards.
pub struct Shared {
    pub config: Config,
    pub catalog: Catalog,
    pub auth: Authenticator,
    pub inspector: Inspector,
    pub upstream: Upstream,
    pub ca: Arc<CertificateAuthority>,
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

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(0);

fn request_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("{ms:x}-{:x}", REQUEST_SEQ.fetch_add(1, Ordering::Relaxed))
}

/// A response PromptWall writes itself (errors and blocks).
struct Reply {
    status: u16,
    kind: ErrorKind,
    message: String,
    extra: Vec<(&'static str, String)>,
}

impl Reply {
    fn new(status: u16, kind: ErrorKind, message: impl Into<String>) -> Self {
        Reply {
            status,
            kind,
            message: message.into(),
            extra: Vec::new(),
        }
    }
}

/// What the log line for a request says; never holds prompt text or finding values.
#[derive(Default)]
struct RequestLog {
    id: String,
    tenant: String,
    user: Option<String>,
    provider: Option<String>,
    host: String,
    method: String,
    path: String,
    model: Option<String>,
    decision: Option<&'static str>,
    rules: Vec<String>,
    status: u16,
    inspect_us: u128,
    upstream_ms: u128,
}

#[async_trait]
impl HttpServerApp for AiHttpApp {
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
        if *shutdown.borrow() {
            session.set_keepalive(None);
        } else {
            session.set_keepalive(Some(60));
        }
        let reusable = self.handle(&mut session).await;
        if !reusable {
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

impl AiHttpApp {
    /// Runs one request; returns whether the connection may be reused.
    async fn handle(&self, session: &mut ServerSession) -> bool {
        let started = Instant::now();
        let mut log = RequestLog {
            id: request_id(),
            method: session.req_header().method.to_string(),
            ..RequestLog::default()
        };
        let (target, identity) = match self.route_and_identify(session) {
            Ok(v) => v,
            Err((reply, shape)) => {
                log.status = reply.status;
                let ok = write_reply(session, shape, reply, &log.id).await;
                emit(&log, started);
                return ok;
            }
        };
        log.tenant = identity.tenant.clone();
        log.user = identity.user.clone();
        log.provider = target.provider.clone();
        log.host = target.host.clone();
        log.path = target
            .path_and_query
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        let shape = ErrorShape::for_provider(target.provider.as_deref().unwrap_or("openai"));

        let body = match self.read_body(session).await {
            Ok(b) => b,
            Err(reply) => {
                log.status = reply.status;
                // The rest of an oversized or stalled body is unread: do not reuse the connection.
                write_reply(session, shape, reply, &log.id).await;
                emit(&log, started);
                return false;
            }
        };

        if let Some(provider) = target.provider.as_deref() {
            if let Some(reply) =
                self.inspect(session, provider, &target, &identity, &body, &mut log)
            {
                log.status = reply.status;
                let ok = write_reply(session, shape, reply, &log.id).await;
                emit(&log, started);
                return ok;
            }
        }

        let ok = self.forward(session, &target, body, shape, &mut log).await;
        emit(&log, started);
        ok
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
                let target = gateway_target(&path_and_query, self.shared.config.gateway.azure_resource.as_deref())
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

    fn identify(&self, session: &ServerSession, status: u16) -> Result<Identity, Reply> {
        let header = session
            .get_header(header::PROXY_AUTHORIZATION)
            .map(|v| v.as_bytes());
        self.shared.auth.identify(header).map_err(|f| {
            let mut r = Reply::new(status, ErrorKind::PolicyViolation, f.to_string());
            let challenge = "Basic realm=\"PromptWall\", Bearer realm=\"PromptWall\"";
            r.extra.push((
                if status == 407 {
                    "proxy-authenticate"
                } else {
                    "www-authenticate"
                },
                challenge.into(),
            ));
            r
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
        let deadline = tokio::time::Instant::now() + Config::ms(limits.client_read_timeout_ms);
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

    /// Inspects a request to an AI destination; `Some` is the reply that replaces forwarding.
    fn inspect(
        &self,
        session: &ServerSession,
        provider: &str,
        target: &Target,
        identity: &Identity,
        body: &Bytes,
        log: &mut RequestLog,
    ) -> Option<Reply> {
        if body.is_empty() {
            return None;
        }
        let is_json = session
            .get_header(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| ct.to_ascii_lowercase().contains("json"))
            .unwrap_or(false)
            || body
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .is_some_and(|b| matches!(b, b'{' | b'['));
        if !is_json {
            tracing::warn!(request_id = %log.id, host = %target.host, "non-JSON body to an AI destination forwarded without inspection");
            return None;
        }
        let inspection: Inspection = match self.shared.inspector.inspect_json(
            &identity.tenant,
            provider,
            &target.path_and_query,
            body,
        ) {
            Ok(i) => i,
            Err(InspectError::MalformedJson(e)) => {
                return Some(Reply::new(
                    400,
                    ErrorKind::InvalidRequest,
                    format!("PromptWall could not parse the request: {e}"),
                ));
            }
        };
        log.inspect_us = inspection.elapsed.as_micros();
        log.model = inspection.prompt.model.clone();
        log.rules = inspection
            .decision
            .reasons
            .iter()
            .map(|r| r.rule.clone())
            .collect();
        let decision = &inspection.decision;
        log.decision = Some(decision.action.as_str());
        match decision.effective_action() {
            Action::Block => {
                let mut r = Reply::new(403, ErrorKind::PolicyViolation, decision.user_message());
                r.extra.push(("x-promptwall-decision", "block".into()));
                Some(r)
            }
            Action::Allow | Action::Log => None,
        }
    }

    /// Sends the request upstream and streams the response back chunk by chunk.
    async fn forward(
        &self,
        session: &mut ServerSession,
        target: &Target,
        body: Bytes,
        shape: ErrorShape,
        log: &mut RequestLog,
    ) -> bool {
        let req = session.req_header();
        let method = Method::from_bytes(req.method.as_str().as_bytes()).unwrap_or(Method::GET);
        let mut headers = http::HeaderMap::with_capacity(req.headers.len());
        for (name, value) in req.headers.iter() {
            if !HOP_BY_HOP.contains(&name.as_str()) {
                headers.append(name.clone(), value.clone());
            }
        }
        let is_head = method == Method::HEAD;
        let upstream = &self.shared.upstream;
        let sent = Instant::now();
        let request = upstream
            .client
            .request(method, target.url())
            .headers(headers)
            .body(body);
        let response = match timeout(upstream.header_timeout, request.send()).await {
            Err(_) => {
                log.status = 504;
                let msg = format!(
                    "upstream {} did not answer within {} ms",
                    target.host,
                    upstream.header_timeout.as_millis()
                );
                return write_reply(
                    session,
                    shape,
                    Reply::new(504, ErrorKind::Timeout, msg),
                    &log.id,
                )
                .await;
            }
            Ok(Err(e)) => {
                log.status = if e.is_timeout() { 504 } else { 502 };
                let kind = if e.is_timeout() {
                    ErrorKind::Timeout
                } else {
                    ErrorKind::Upstream
                };
                let msg = format!("upstream {} failed: {}", target.host, error_chain(&e));
                return write_reply(session, shape, Reply::new(log.status, kind, msg), &log.id)
                    .await;
            }
            Ok(Ok(r)) => r,
        };
        log.upstream_ms = sent.elapsed().as_millis();
        log.status = response.status().as_u16();
        let mut head =
            match ResponseHeader::build(response.status(), Some(response.headers().len() + 2)) {
                Ok(h) => h,
                Err(_) => return false,
            };
        let has_length = response.headers().contains_key(header::CONTENT_LENGTH);
        for (name, value) in response.headers() {
            if name != header::CONTENT_LENGTH && HOP_BY_HOP.contains(&name.as_str()) {
                continue;
            }
            let _ = head.append_header(name.clone(), value.clone());
        }
        if !has_length && !session.is_http2() && !is_head && !no_body_status(response.status()) {
            let _ = head.insert_header(header::TRANSFER_ENCODING, "chunked");
        }
        let _ = head.insert_header("x-promptwall-request-id", log.id.as_str());
        if session.write_response_header(Box::new(head)).await.is_err() {
            return false;
        }
        if is_head || no_body_status(response.status()) {
            return session.finish_body().await.is_ok();
        }
        let mut response = response;
        loop {
            match timeout(upstream.idle_timeout, response.chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    if session.write_response_body(chunk, false).await.is_err() {
                        return false;
                    }
                }
                Ok(Ok(None)) => return session.finish_body().await.is_ok(),
                Ok(Err(e)) => {
                    tracing::warn!(request_id = %log.id, error = %error_chain(&e), "upstream body failed mid-response");
                    return false;
                }
                Err(_) => {
                    tracing::warn!(request_id = %log.id, "upstream body idle for too long; closing");
                    return false;
                }
            }
        }
    }
}

fn no_body_status(s: StatusCode) -> bool {
    s.is_informational() || s == StatusCode::NO_CONTENT || s == StatusCode::NOT_MODIFIED
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// Writes a PromptWall-generated JSON reply; returns whether the connection is reusable.
async fn write_reply(
    session: &mut ServerSession,
    shape: ErrorShape,
    reply: Reply,
    id: &str,
) -> bool {
    let body = shape.body(reply.status, reply.kind, &reply.message);
    let Ok(mut head) = ResponseHeader::build(reply.status, Some(4 + reply.extra.len())) else {
        return false;
    };
    let _ = head.insert_header(header::CONTENT_TYPE, "application/json");
    let _ = head.insert_header(header::CONTENT_LENGTH, body.len().to_string());
    let _ = head.insert_header("x-promptwall-request-id", id);
    for (name, value) in reply.extra {
        let _ = head.insert_header(name, value);
    }
    if session.write_response_header(Box::new(head)).await.is_err() {
        return false;
    }
    session
        .write_response_body(Bytes::from(body), true)
        .await
        .is_ok()
}

fn emit(log: &RequestLog, started: Instant) {
    tracing::info!(
        target: "promptwall::request",
        request_id = %log.id,
        tenant = %log.tenant,
        user = log.user.as_deref().unwrap_or("-"),
        provider = log.provider.as_deref().unwrap_or("-"),
        host = %log.host,
        method = %log.method,
        path = %log.path,
        model = log.model.as_deref().unwrap_or("-"),
        decision = log.decision.unwrap_or("-"),
        rules = %log.rules.join(","),
        status = log.status,
        inspect_us = log.inspect_us as u64,
        upstream_ms = log.upstream_ms as u64,
        total_ms = started.elapsed().as_millis() as u64,
        "request"
    );
}

/// The minimal dependencies `Shared` needs; kept here so tests can build one.
pub fn shared(
    config: Config,
    ca: Arc<CertificateAuthority>,
    inspector: Inspector,
) -> Result<Arc<Shared>, crate::upstream::UpstreamError> {
    Ok(Arc::new(Shared {
        catalog: Catalog::new(&config.destinations),
        auth: Authenticator::new(&config.auth),
        upstream: Upstream::new(&config.upstream)?,
        inspector,
        ca,
        config,
    }))
}
