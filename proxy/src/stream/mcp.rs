//! MCP answers: JSON-RPC messages, whole, in a JSON body or one per SSE event.
//!
//! Unlike a model's token stream, each event of an MCP stream is a complete message (a tool
//! result, a tool list, a server's request), so each is inspected whole, and a refused one is
//! replaced by a JSON-RPC error for its id while the session goes on.
//!
//! The legacy HTTP+SSE transport (MCP 2024-11-05) answers a client's POST with `202 Accepted`
//! and delivers the result on a long-lived SSE stream that the client opened first; that
//! stream's `endpoint` event names where the POSTs go. PromptWall registers each such stream
//! under its endpoint, so a POST it refuses is answered the way the transport expects: `202`,
//! and the JSON-RPC error on the session's stream. Without this a legacy client would wait
//! for an answer that never comes.

use crate::forward::Forwarded;
use crate::providers::{ErrorKind, ErrorShape};
use crate::reply::Reply;
use crate::route::Target;
use crate::stream::guard::{ResponseOutcome, ResponsePolicy};
use crate::stream::sse::{Event, Piece, SseParser};
use crate::stream::whole::inspect_json;
use bytes::Bytes;
use dashmap::DashMap;
use pingora_core::protocols::http::ServerSession;
use pingora_http::ResponseHeader;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::timeout;

/// Events waiting for a legacy session's stream; a client that stops reading loses its
/// session rather than growing this without bound.
const QUEUE: usize = 64;

/// Open legacy SSE sessions, by the upstream URL their POSTs go to: the tenant whose client
/// opened the stream, and the way onto it.
#[derive(Default)]
pub struct Sessions {
    streams: DashMap<String, (String, mpsc::Sender<Bytes>)>,
}

impl Sessions {
    /// Whether `target` is the POST endpoint of a legacy session this node relays for
    /// `tenant` (another tenant's POST never reaches that stream).
    pub fn is_legacy(&self, target: &Target, tenant: &str) -> bool {
        self.streams
            .get(&key(target))
            .is_some_and(|s| s.0 == tenant)
    }

    /// Puts `event` (SSE bytes) on `tenant`'s session stream; `false` when the session is
    /// gone, is another tenant's, or its client has stopped reading.
    pub fn deliver(&self, target: &Target, tenant: &str, event: Bytes) -> bool {
        self.streams
            .get(&key(target))
            .is_some_and(|s| s.0 == tenant && s.1.try_send(event).is_ok())
    }

    fn register(
        self: &Arc<Self>,
        key: String,
        tenant: &str,
    ) -> (Registration, mpsc::Receiver<Bytes>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        self.streams.insert(key.clone(), (tenant.to_string(), tx));
        (
            Registration {
                sessions: self.clone(),
                key,
            },
            rx,
        )
    }
}

/// Removes a session when its stream ends.
struct Registration {
    sessions: Arc<Sessions>,
    key: String,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.sessions.streams.remove(&self.key);
    }
}

/// How an MCP server is reached: the session registry, the requester's tenant, and for a
/// gateway route the client's prefix and the server's base path (`/mcp/wiki`, `/legacy`), to
/// map endpoints between them.
#[derive(Clone)]
pub struct Route {
    pub sessions: Arc<Sessions>,
    pub tenant: String,
    pub gateway: Option<(String, String)>,
}

fn key(t: &Target) -> String {
    format!(
        "{}://{}:{}{}",
        t.scheme,
        t.host.to_ascii_lowercase(),
        t.port,
        t.path_and_query
    )
}

/// The upstream target an `endpoint` event names, resolved against the stream's own URL.
fn resolve(stream: &Target, data: &str) -> Option<Target> {
    let data = data.trim();
    if data.starts_with("http://") || data.starts_with("https://") {
        let uri: http::Uri = data.parse().ok()?;
        let https = uri.scheme_str() == Some("https");
        return Some(Target {
            scheme: if https { "https" } else { "http" },
            host: uri.host()?.trim_matches(['[', ']']).to_ascii_lowercase(),
            port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
            provider: stream.provider.clone(),
            path_and_query: uri.path_and_query().map_or("/", |p| p.as_str()).to_string(),
        });
    }
    let path_and_query = if data.starts_with('/') {
        data.to_string()
    } else {
        // Relative to the stream's directory.
        let path = stream.path_and_query.split('?').next().unwrap_or("/");
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        format!("{dir}{data}")
    };
    Some(Target {
        path_and_query,
        ..stream.clone()
    })
}

/// The endpoint as the client must see it: through the gateway, the server's path under the
/// route's prefix; through CONNECT, unchanged.
fn client_endpoint(route: &Route, stream: &Target, endpoint: &Target, data: &str) -> String {
    let Some((prefix, base)) = &route.gateway else {
        return data.to_string();
    };
    let same_origin = endpoint.scheme == stream.scheme
        && endpoint.host == stream.host.to_ascii_lowercase()
        && endpoint.port == stream.port;
    let p = endpoint.path_and_query.as_str();
    let under_base = base.is_empty()
        || p == base.as_str()
        || p.strip_prefix(base.as_str())
            .is_some_and(|r| r.starts_with('/') || r.starts_with('?'));
    if same_origin && under_base {
        format!("{prefix}{}", &p[base.len()..])
    } else {
        tracing::warn!(
            endpoint = %endpoint.host,
            "an MCP server named a POST endpoint outside its gateway route; the client cannot reach it through the gateway"
        );
        data.to_string()
    }
}

/// A JSON-RPC error answering the message in `plain` (its id), carrying the message of a
/// provider-shaped refusal.
pub fn rpc_refusal(plain: &[u8], refusal: &[u8]) -> Vec<u8> {
    let id = serde_json::from_slice::<Value>(plain)
        .ok()
        .and_then(|v| v.get("id").cloned());
    let message = serde_json::from_slice::<Value>(refusal)
        .ok()
        .and_then(|v| v.pointer("/error/message")?.as_str().map(str::to_string))
        .unwrap_or_else(|| "PromptWall withheld this result.".into());
    ErrorShape::jsonrpc_body(ErrorKind::PolicyViolation, &message, id.as_ref())
}

/// An MCP `tools/list` answer: the classifier reads each tool's description (off the async
/// workers, under the deadline), and the tenant's label rules decide, as for a response. A
/// description that hides instructions (prompt injection) is how an MCP server poisons an
/// agent. `Some`: the error body that replaces the answer.
pub async fn tool_poisoning(
    body: &[u8],
    rp: &ResponsePolicy,
    outcome: &mut ResponseOutcome,
) -> Option<Vec<u8>> {
    let (classifier, deadline) = rp.tool_classifier.clone()?;
    // Read lossily if need be: an invalid byte in a description must not hide the rest of it
    // (the agent's SDK decodes it lossily and reads it all).
    let v: Value = serde_json::from_slice(body)
        .ok()
        .or_else(|| serde_json::from_str(&String::from_utf8_lossy(body)).ok())?;
    let descriptions: Vec<String> = v
        .pointer("/result/tools")?
        .as_array()?
        .iter()
        .filter_map(|t| t.get("description")?.as_str().map(str::to_string))
        .collect();
    if descriptions.is_empty() {
        return None;
    }
    let tenant = rp.key_scope().to_string();
    let texts = descriptions.clone();
    let scored = tokio::task::spawn_blocking(move || {
        let mut max: std::collections::BTreeMap<String, f64> = Default::default();
        for t in &texts {
            let labels = classifier.classify_in(&tenant, t, deadline).ok()?;
            for (label, score) in labels.scores {
                let m = max.entry(label).or_insert(0.0);
                *m = m.max(score);
            }
        }
        Some(max)
    })
    .await
    .ok()
    .flatten();
    let labels = match scored {
        Some(s) => policy::LabelsOutcome::Scored(s),
        None => policy::LabelsOutcome::Failed(
            "classifier deadline or error on tool descriptions".into(),
        ),
    };
    let refs: Vec<&str> = descriptions.iter().map(String::as_str).collect();
    let d = rp.decide_labels(&refs, &labels);
    if d.reasons.is_empty() {
        return None;
    }
    outcome.action = Some(outcome.action.map_or(d.action, |a| a.max(d.action)));
    for r in &d.reasons {
        if !outcome.rules.iter().any(|x| **x == *r.rule) {
            outcome.rules.push(r.rule.to_string());
        }
    }
    if !d.action.blocks() {
        return None;
    }
    let message = d.message.clone().unwrap_or_else(|| {
        "PromptWall withheld this tool list: a tool description carries instructions the policy does not allow.".into()
    });
    Some(rp.shape.body(403, ErrorKind::PolicyViolation, &message))
}

/// One whole JSON-RPC message from a server: tool poisoning first, then the response policy
/// and pseudonym restoring, as for any answer. `Ok(None)`: pass it unchanged; `Err`: the
/// provider-shaped refusal that replaces it.
pub async fn inspect_message(
    plain: &[u8],
    rp: Option<&ResponsePolicy>,
    pseudonyms: &policy::Pseudonyms,
    outcome: &mut ResponseOutcome,
) -> Result<Option<Vec<u8>>, Vec<u8>> {
    if let Some(rp) = rp {
        if let Some(refusal) = tool_poisoning(plain, rp, outcome).await {
            return Err(refusal);
        }
    }
    inspect_json(plain, rp, pseudonyms, outcome)
}

/// What woke the relay.
enum Step {
    Chunk(Result<reqwest::Result<Option<Bytes>>, tokio::time::error::Elapsed>),
    Inject(Bytes),
    /// The client side ended (`true`) or sent something unexpected (stop watching it).
    Client(bool),
}

/// An MCP SSE answer in flight: a streamable-HTTP reply, or a legacy session's stream.
pub struct McpStream {
    pub parser: SseParser,
    pub decoder: Option<crate::encoding::StreamDecoder>,
    pub route: Route,
    /// The stream's own upstream URL (endpoints resolve against it).
    pub target: Target,
}

impl McpStream {
    /// Relays the stream event by event until it ends, with refusals delivered for the
    /// session's POSTs in between; the response head is already written.
    pub async fn relay(
        mut self,
        session: &mut ServerSession,
        mut response: reqwest::Response,
        rp: Option<&ResponsePolicy>,
        out: &mut Forwarded,
        idle: Duration,
        request_id: &str,
    ) {
        let mut injected: Option<(Registration, mpsc::Receiver<Bytes>)> = None;
        // A legacy stream lives as long as its client: notice when the client goes, rather
        // than when the next write fails (a quiet session may not write for minutes).
        let mut watch_client = true;
        loop {
            let next = async {
                match injected.as_mut() {
                    Some((_, rx)) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            let step = tokio::select! {
                c = timeout(idle, response.chunk()) => Step::Chunk(c),
                Some(event) = next => Step::Inject(event),
                gone = session.read_body_or_idle(true), if watch_client => Step::Client(gone.is_err()),
            };
            let chunk = match step {
                Step::Inject(event) => {
                    if session.write_response_body(event, false).await.is_err() {
                        return;
                    }
                    continue;
                }
                Step::Client(true) => {
                    tracing::debug!(request_id, "MCP client closed its stream");
                    return;
                }
                Step::Client(false) => {
                    watch_client = false;
                    continue;
                }
                Step::Chunk(c) => c,
            };
            let chunk = match chunk {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => {
                    tracing::warn!(request_id, error = %crate::forward::error_chain(&e), "MCP stream failed mid-response");
                    return;
                }
                Err(_) => {
                    tracing::warn!(request_id, "MCP stream idle for too long; closing");
                    return;
                }
            };
            let ended = chunk.is_none();
            let pieces = match chunk {
                // An unterminated last message is inspected like the others, not passed raw.
                None => crate::stream::sse::finish_events(&mut self.parser),
                Some(chunk) => match self.decoder.as_mut() {
                    None => self.parser.push(&chunk),
                    Some(d) => match d.push(&chunk) {
                        Ok(plain) => self.parser.push(&plain),
                        Err(e) => {
                            tracing::warn!(request_id, error = %e, "compressed MCP stream failed to decode; ending it");
                            out.response.uninspected =
                                Some("compressed stream that failed to decode");
                            return;
                        }
                    },
                },
            };
            let mut buf = Vec::new();
            for piece in pieces {
                match piece {
                    Piece::Event(e) if e.event.as_deref() == Some("endpoint") => {
                        if let Some(endpoint) = resolve(&self.target, &e.data) {
                            let data =
                                client_endpoint(&self.route, &self.target, &endpoint, &e.data);
                            injected = Some(
                                self.route
                                    .sessions
                                    .register(key(&endpoint), &self.route.tenant),
                            );
                            buf.extend(Event::encode(Some("endpoint"), e.id.as_deref(), &data));
                        } else {
                            buf.extend_from_slice(&e.raw);
                        }
                    }
                    Piece::Event(e) => {
                        buf.extend(message(&e, rp, out).await);
                    }
                    Piece::Raw(b) => buf.extend_from_slice(&b),
                }
            }
            if !buf.is_empty()
                && session
                    .write_response_body(Bytes::from(buf), false)
                    .await
                    .is_err()
            {
                return;
            }
            if ended {
                break;
            }
        }
        out.reusable = session.finish_body().await.is_ok();
    }
}

/// The bytes to send for one event: as received, rewritten, or a JSON-RPC error.
async fn message(e: &Event, rp: Option<&ResponsePolicy>, out: &mut Forwarded) -> Vec<u8> {
    let plain = e.data.as_bytes();
    if serde_json::from_slice::<serde::de::IgnoredAny>(plain).is_err() {
        return e.raw.to_vec();
    }
    out.usage.observe(plain);
    match inspect_message(plain, rp, &out.pseudonyms, &mut out.response).await {
        Ok(None) => e.raw.to_vec(),
        Ok(Some(new)) => Event::encode(
            e.event.as_deref(),
            e.id.as_deref(),
            &String::from_utf8_lossy(&new),
        ),
        Err(refusal) => {
            let error = rpc_refusal(plain, &refusal);
            Event::encode(
                Some(e.event.as_deref().unwrap_or("message")),
                e.id.as_deref(),
                &String::from_utf8_lossy(&error),
            )
        }
    }
}

/// Answers a refused POST of a legacy session as its transport expects: `202 Accepted` here,
/// and the JSON-RPC error (for a request; a notification gets none) on the session's stream.
/// `None` when `target` is not a legacy session's endpoint: the caller answers as usual.
pub async fn answer_legacy(
    sessions: &Sessions,
    session: &mut ServerSession,
    target: &Target,
    tenant: &str,
    reply: &Reply,
    request_id: &str,
) -> Option<bool> {
    if !sessions.is_legacy(target, tenant) {
        return None;
    }
    if let Some(id) = reply.rpc_id.as_deref() {
        let body = ErrorShape::jsonrpc_body(reply.kind, &reply.message, Some(id));
        let event = Event::encode(Some("message"), None, &String::from_utf8_lossy(&body));
        if !sessions.deliver(target, tenant, Bytes::from(event)) {
            // The stream is gone or not reading: answer on the POST itself, as a last resort.
            return None;
        }
    }
    let mut head = ResponseHeader::build(202, Some(4)).ok()?;
    let _ = head.insert_header(http::header::CONTENT_LENGTH, "8");
    let _ = head.insert_header(http::header::CONTENT_TYPE, "text/plain");
    let _ = head.insert_header("x-promptwall-request-id", request_id);
    for (name, value) in &reply.extra {
        let _ = head.insert_header(*name, value.as_str());
    }
    if session.write_response_header(Box::new(head)).await.is_err() {
        return Some(false);
    }
    Some(
        session
            .write_response_body(Bytes::from_static(b"Accepted"), true)
            .await
            .is_ok(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(path: &str) -> Target {
        Target {
            scheme: "https",
            host: "mcp.example".into(),
            port: 443,
            provider: Some("mcp:wiki".into()),
            path_and_query: path.into(),
        }
    }

    #[test]
    fn endpoints_resolve_against_the_stream_and_map_under_the_gateway_prefix() {
        let stream = target("/legacy/sse");
        let e = resolve(&stream, "/legacy/messages?session_id=7").unwrap();
        assert_eq!(e.path_and_query, "/legacy/messages?session_id=7");
        let e2 = resolve(&stream, "messages?session_id=7").unwrap();
        assert_eq!(e2, e);
        let e3 = resolve(&stream, "https://MCP.example/legacy/messages?session_id=7").unwrap();
        assert_eq!(key(&e3), key(&e));
        let route = Route {
            sessions: Default::default(),
            tenant: "acme".into(),
            gateway: Some(("/mcp/wiki".into(), "/legacy".into())),
        };
        assert_eq!(
            client_endpoint(&route, &stream, &e, "/legacy/messages?session_id=7"),
            "/mcp/wiki/messages?session_id=7"
        );
        // Outside the route's base path (or another origin): left as the server sent it.
        let outside = resolve(&stream, "/other/messages").unwrap();
        assert_eq!(
            client_endpoint(&route, &stream, &outside, "/other/messages"),
            "/other/messages"
        );
        let root = Route {
            gateway: Some(("/mcp/wiki".into(), String::new())),
            ..route.clone()
        };
        assert_eq!(
            client_endpoint(&root, &stream, &outside, "/other/messages"),
            "/mcp/wiki/other/messages"
        );
        // Through CONNECT the client talks to the server's own origin.
        let connect = Route {
            gateway: None,
            ..route
        };
        assert_eq!(client_endpoint(&connect, &stream, &e, "x"), "x");
    }

    #[test]
    fn a_session_is_registered_while_its_stream_lives() {
        let sessions = Arc::new(Sessions::default());
        let endpoint = target("/legacy/messages?session_id=1");
        let (reg, mut rx) = sessions.register(key(&endpoint), "acme");
        assert!(sessions.is_legacy(&endpoint, "acme"));
        assert!(sessions.deliver(&endpoint, "acme", Bytes::from_static(b"x")));
        assert_eq!(rx.try_recv().unwrap(), Bytes::from_static(b"x"));
        // Another tenant cannot reach the stream, nor another session id.
        assert!(!sessions.is_legacy(&endpoint, "globex"));
        assert!(!sessions.deliver(&endpoint, "globex", Bytes::from_static(b"y")));
        assert!(rx.try_recv().is_err());
        assert!(!sessions.is_legacy(&target("/legacy/messages?session_id=2"), "acme"));
        drop(reg);
        assert!(!sessions.is_legacy(&endpoint, "acme"));
        assert!(!sessions.deliver(&endpoint, "acme", Bytes::from_static(b"x")));
    }

    #[test]
    fn a_refusal_answers_the_message_id() {
        let v: Value = serde_json::from_slice(&rpc_refusal(
            br#"{"jsonrpc":"2.0","id":"a-1","result":{}}"#,
            br#"{"error":{"message":"no secrets"}}"#,
        ))
        .unwrap();
        assert_eq!(v["id"], "a-1");
        assert_eq!(v["error"]["code"], -32001);
        assert_eq!(v["error"]["message"], "no secrets");
    }
}
