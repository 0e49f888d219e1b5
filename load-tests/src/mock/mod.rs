//! A mock LLM server speaking the shapes of OpenAI (Chat Completions, Responses), Anthropic
//! Messages and Gemini generateContent, in JSON or SSE, over HTTP or TLS, HTTP/1.1 or HTTP/2.
//!
//! It records every request it receives, so tests can prove what reached the upstream.
//!
//! Per-request controls (headers): `x-mock-tokens` (tokens in the answer), `x-mock-delay-ms`
//! (between tokens), `x-mock-header-delay-ms` (before the response head), `x-mock-echo: 1`
//! (answer with the last user text instead of generated tokens), `x-mock-reply: TEXT` (answer
//! with TEXT), `x-mock-reply-mirror: TXET` (answer with TEXT: a reply that carries a secret or
//! a pseudonym token, since PromptWall scans request headers too; the name avoids the words
//! that make PromptWall read a text backwards, "reversed" among them), `x-mock-chunk-chars: N` (stream the echo or reply in N-character pieces),
//! `x-mock-gzip: 1` (gzip the answer: a JSON body, or a stream's events as one body),
//! `x-mock-unterminated: 1` (a stream that breaks off inside its last word's event),
//! `x-mock-content-type`, `x-mock-leading-encoding` and `x-mock-stall-after` (see [`answer`]).
//!
//! It also serves the Realtime API's WebSocket (`realtime`) and an MCP server on both MCP
//! transports (`mcp`).

use bytes::Bytes;
use futures_util::StreamExt;
use http::{Request, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

mod mcp;

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// `HTTP/1.1` or `HTTP/2.0`.
    pub version: String,
    pub path: String,
    pub host: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// Defaults for requests that carry no control headers.
#[derive(Debug, Clone)]
pub struct MockConfig {
    pub tokens: usize,
    pub delay: Duration,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            tokens: 8,
            delay: Duration::ZERO,
        }
    }
}

/// A running mock; dropping it does not stop the server (it lives as long as the runtime).
pub struct MockServer {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Recorded>>>,
    /// Streamed events written so far, across all requests (lets tests reason about order).
    pub events_sent: Arc<AtomicUsize>,
}

impl MockServer {
    /// Starts on `addr` (use port 0 for an ephemeral port), with TLS when `tls` is given.
    pub async fn start(
        addr: SocketAddr,
        tls: Option<Arc<rustls::ServerConfig>>,
        config: MockConfig,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let received = Arc::new(Mutex::new(Vec::new()));
        let events_sent = Arc::new(AtomicUsize::new(0));
        let state = Arc::new(State {
            received: received.clone(),
            events_sent: events_sent.clone(),
            config,
            legacy: Default::default(),
        });
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                let state = state.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| answer(state.clone(), req));
                    let mut builder = auto::Builder::new(TokioExecutor::new());
                    // Providers' edges accept far more than hyper's default of 200 streams.
                    builder.http2().max_concurrent_streams(10_000);
                    match acceptor {
                        Some(a) => {
                            if let Ok(stream) = a.accept(tcp).await {
                                let _ = builder
                                    .serve_connection_with_upgrades(TokioIo::new(stream), svc)
                                    .await;
                            }
                        }
                        None => {
                            let _ = builder
                                .serve_connection_with_upgrades(TokioIo::new(tcp), svc)
                                .await;
                        }
                    }
                });
            }
        });
        Ok(MockServer {
            addr,
            received,
            events_sent,
        })
    }

    /// A copy of everything received so far.
    pub fn received(&self) -> Vec<Recorded> {
        self.received.lock().expect("mock lock").clone()
    }
}

struct State {
    received: Arc<Mutex<Vec<Recorded>>>,
    events_sent: Arc<AtomicUsize>,
    config: MockConfig,
    legacy: mcp::Legacy,
}

type Body = BoxBody<Bytes, Infallible>;

fn full(status: StatusCode, v: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(v.to_string())).boxed())
        .expect("valid response")
}

fn header_num(req: &Request<Incoming>, name: &str) -> Option<u64> {
    req.headers().get(name)?.to_str().ok()?.parse().ok()
}

/// [`handle`], with the answer's `Content-Type` replaced when the request names one in
/// `x-mock-content-type` (to stand in for answers of kinds the mock does not model);
/// `x-mock-leading-encoding` puts one more `Content-Encoding` line in front of the answer's own
/// (e.g. `identity` before `gzip`, as some servers send); `x-mock-stall-after: N` sends only
/// the first N bytes of the body, then hangs.
async fn answer(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let content_type = req.headers().get("x-mock-content-type").cloned();
    let leading = req.headers().get("x-mock-leading-encoding").cloned();
    let stall_after = header_num(&req, "x-mock-stall-after").map(|n| n as usize);
    let mut resp = handle(state, req).await?;
    if let Some(n) = stall_after {
        resp = stall(resp, n).await;
    }
    let headers = resp.headers_mut();
    if let Some(ct) = content_type {
        headers.insert(hyper::header::CONTENT_TYPE, ct);
    }
    if let Some(first) = leading {
        let own: Vec<_> = headers
            .get_all(hyper::header::CONTENT_ENCODING)
            .iter()
            .cloned()
            .collect();
        headers.remove(hyper::header::CONTENT_ENCODING);
        for v in std::iter::once(first).chain(own) {
            headers.append(hyper::header::CONTENT_ENCODING, v);
        }
    }
    Ok(resp)
}

/// The answer with its full length announced, but only its first `n` bytes sent: then it
/// goes quiet for a minute, as an upstream that hangs mid-answer does.
async fn stall(resp: Response<Body>, n: usize) -> Response<Body> {
    let (mut parts, body) = resp.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    parts.headers.insert(
        hyper::header::CONTENT_LENGTH,
        hyper::header::HeaderValue::from(bytes.len()),
    );
    let head = bytes.slice(..n.min(bytes.len()));
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(1);
    tokio::spawn(async move {
        if tx.send(head).await.is_ok() {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
    });
    let body = StreamBody::new(tokio_stream_from(rx).map(|b| Ok::<_, Infallible>(Frame::data(b))));
    Response::from_parts(parts, BodyExt::boxed(body))
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let tokens = header_num(&req, "x-mock-tokens")
        .map(|n| n as usize)
        .unwrap_or(state.config.tokens);
    let delay = header_num(&req, "x-mock-delay-ms")
        .map(Duration::from_millis)
        .unwrap_or(state.config.delay);
    let header_delay = header_num(&req, "x-mock-header-delay-ms").map(Duration::from_millis);
    let echo = req.headers().contains_key("x-mock-echo");
    let gzip = req.headers().contains_key("x-mock-gzip");
    let unterminated = req.headers().contains_key("x-mock-unterminated");
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let reply = header("x-mock-reply")
        .or_else(|| header("x-mock-reply-mirror").map(|r| r.chars().rev().collect()));
    let chunk_chars = header_num(&req, "x-mock-chunk-chars").map(|n| n.max(1) as usize);
    let tool_description = header("x-mock-tool-description");
    if req
        .headers()
        .get("upgrade")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
    {
        return Ok(realtime(state, req, reply));
    }
    let method = req.method().to_string();
    let version = format!("{:?}", req.version());
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(full(
                StatusCode::BAD_REQUEST,
                &json!({"error": "unreadable body"}),
            ))
        }
    };
    state.received.lock().expect("mock lock").push(Recorded {
        method: method.clone(),
        version: version.clone(),
        path: path.clone(),
        host,
        headers,
        body: body.clone(),
    });
    if let Some(d) = header_delay {
        tokio::time::sleep(d).await;
    }
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(r) = mcp::route(&path) {
        let controls = mcp::Controls {
            reply,
            description: tool_description,
        };
        return Ok(mcp::serve(&state.legacy, r, &parsed, controls));
    }
    let words: Vec<String> = if echo || reply.is_some() {
        let text = reply.clone().unwrap_or_else(|| last_user_text(&parsed));
        match chunk_chars {
            // Fixed-size pieces, so tokens get split across events.
            Some(n) => text
                .chars()
                .collect::<Vec<_>>()
                .chunks(n)
                .map(|c| c.iter().collect())
                .collect(),
            None => text.split_inclusive(' ').map(str::to_string).collect(),
        }
    } else {
        (0..tokens).map(|i| format!("tok{i} ")).collect()
    };
    let route = path.split('?').next().unwrap_or_default();
    let stream = parsed
        .get("stream")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || route.ends_with(":streamGenerateContent");
    let kind = if route.ends_with("/chat/completions") {
        Kind::Chat
    } else if route.ends_with("/responses") {
        Kind::Responses
    } else if route.ends_with("/messages") {
        Kind::Anthropic
    } else if route.ends_with(":generateContent") || route.ends_with(":streamGenerateContent") {
        Kind::Gemini
    } else if route.starts_with("/upload/") {
        // Gemini's media upload answers the file resource.
        return Ok(full(
            StatusCode::OK,
            &json!({"file": {"name": "files/mock", "sizeBytes": body.len().to_string(), "state": "ACTIVE"}}),
        ));
    } else if route.ends_with("/v1/files") || route.ends_with("/v1/uploads") {
        // The Files API answers a file object (the upload itself is only recorded).
        return Ok(full(
            StatusCode::OK,
            &json!({"id": "file-mock", "object": "file", "bytes": body.len(), "purpose": "assistants", "filename": "upload"}),
        ));
    } else if route.ends_with("/models") {
        return Ok(full(
            StatusCode::OK,
            &json!({"object": "list", "data": [{"id": "mock-model", "object": "model"}]}),
        ));
    } else {
        return Ok(full(
            StatusCode::NOT_FOUND,
            &json!({"error": {"message": format!("mock-llm: no route for {route}")}}),
        ));
    };
    if !stream {
        let mut resp = full(StatusCode::OK, &kind.complete(&words.concat()));
        if gzip {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            let _ = e.write_all(kind.complete(&words.concat()).to_string().as_bytes());
            let bytes = e.finish().unwrap_or_default();
            resp = Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .header("content-encoding", "gzip")
                .body(Full::new(Bytes::from(bytes)).boxed())
                .expect("valid response");
        }
        return Ok(resp);
    }
    let mut events = kind.events(&words);
    if unterminated {
        // The stream breaks off inside the event with the last word: no blank line after it,
        // and nothing after that.
        if let Some(last) = words.last() {
            let needle = serde_json::to_string(last).unwrap_or_default();
            let needle = needle.trim_matches('"');
            if let Some(i) = events.iter().rposition(|e| e.contains(needle)) {
                events.truncate(i + 1);
                events[i].pop();
            }
        }
    }
    if gzip {
        // A compressed stream: the events gzipped as one body.
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let _ = e.write_all(events.concat().as_bytes());
        let bytes = e.finish().unwrap_or_default();
        return Ok(Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "text/event-stream")
            .header("content-encoding", "gzip")
            .body(Full::new(Bytes::from(bytes)).boxed())
            .expect("valid response"));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let sent = state.events_sent.clone();
    tokio::spawn(async move {
        for (i, ev) in events.into_iter().enumerate() {
            if i > 0 && !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if tx.send(Bytes::from(ev)).await.is_err() {
                return;
            }
            sent.fetch_add(1, Ordering::SeqCst);
        }
    });
    let body = StreamBody::new(tokio_stream_from(rx).map(|b| Ok::<_, Infallible>(Frame::data(b))));
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(BodyExt::boxed(body))
        .expect("valid response"))
}

/// The Realtime API's WebSocket: every client text event is recorded (as a `WS` request with
/// the event as its body); each `response.create` is answered with `response.text.delta`
/// events of four characters (the `x-mock-reply*` text of the handshake, else "ok then"),
/// then `response.done`.
fn realtime(
    state: Arc<State>,
    mut req: Request<Incoming>,
    reply: Option<String>,
) -> Response<Body> {
    use tokio_tungstenite::tungstenite::{handshake::derive_accept_key, protocol::Role, Message};
    let key = req
        .headers()
        .get("sec-websocket-key")
        .map(|k| derive_accept_key(k.as_bytes()))
        .unwrap_or_default();
    let path = req.uri().path().to_string();
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let mut ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            Role::Server,
            None,
        )
        .await;
        let reply = reply.unwrap_or_else(|| "ok then".into());
        while let Some(Ok(msg)) = ws.next().await {
            let text = match msg {
                Message::Text(t) => t.to_string(),
                Message::Close(_) => break,
                _ => continue,
            };
            state.received.lock().expect("mock lock").push(Recorded {
                method: "WS".into(),
                version: "websocket".into(),
                path: path.clone(),
                host: None,
                headers: Vec::new(),
                body: Bytes::from(text.clone()),
            });
            let event: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if event["type"] != "response.create" {
                continue;
            }
            let chars: Vec<char> = reply.chars().collect();
            for piece in chars.chunks(4) {
                let delta = json!({"type": "response.text.delta", "delta": piece.iter().collect::<String>()});
                if futures_util::SinkExt::send(&mut ws, Message::text(delta.to_string()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            let done = json!({"type": "response.done"}).to_string();
            if futures_util::SinkExt::send(&mut ws, Message::text(done))
                .await
                .is_err()
            {
                return;
            }
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-accept", key)
        .body(Full::new(Bytes::new()).boxed())
        .expect("valid response")
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Bytes>,
) -> impl futures_util::Stream<Item = Bytes> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// The last user-visible text of a request, for echo mode.
fn last_user_text(v: &Value) -> String {
    if let Some(msgs) = v.get("messages").and_then(Value::as_array) {
        if let Some(m) = msgs
            .iter()
            .rev()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        {
            return match m.get("content") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(parts)) => parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => String::new(),
            };
        }
    }
    if let Some(s) = v.get("input").and_then(Value::as_str) {
        return s.to_string();
    }
    if let Some(contents) = v.get("contents").and_then(Value::as_array) {
        if let Some(t) = contents
            .last()
            .and_then(|c| c.pointer("/parts/0/text"))
            .and_then(Value::as_str)
        {
            return t.to_string();
        }
    }
    String::new()
}

#[derive(Clone, Copy)]
enum Kind {
    Chat,
    Responses,
    Anthropic,
    Gemini,
}

impl Kind {
    fn complete(self, text: &str) -> Value {
        // Counted as a provider would report them: one token per word of the answer.
        let n = text.split_whitespace().count();
        match self {
            Kind::Chat => json!({
                "id": "chatcmpl-mock", "object": "chat.completion", "created": 0, "model": "mock-model",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": n, "total_tokens": n + 1}
            }),
            Kind::Responses => json!({
                "id": "resp_mock", "object": "response", "status": "completed", "model": "mock-model",
                "output": [{"type": "message", "id": "msg_mock", "role": "assistant", "status": "completed",
                            "content": [{"type": "output_text", "text": text, "annotations": []}]}]
            }),
            Kind::Anthropic => json!({
                "id": "msg_mock", "type": "message", "role": "assistant", "model": "mock-model",
                "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                "usage": {"input_tokens": 1, "output_tokens": n}
            }),
            Kind::Gemini => json!({
                "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": n, "totalTokenCount": n + 1},
                "modelVersion": "mock-model"
            }),
        }
    }

    fn events(self, words: &[String]) -> Vec<String> {
        let data = |v: Value| format!("data: {v}\n\n");
        let named = |name: &str, v: Value| format!("event: {name}\ndata: {v}\n\n");
        let mut out = Vec::new();
        match self {
            Kind::Chat => {
                out.push(data(json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})));
                for w in words {
                    out.push(data(json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": w}}]})));
                }
                out.push(data(json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})));
                out.push("data: [DONE]\n\n".into());
            }
            Kind::Responses => {
                out.push(named("response.created", json!({"type": "response.created", "response": {"id": "resp_mock", "status": "in_progress"}})));
                for w in words {
                    out.push(named("response.output_text.delta", json!({"type": "response.output_text.delta", "item_id": "msg_mock", "output_index": 0, "content_index": 0, "delta": w})));
                }
                out.push(named("response.completed", json!({"type": "response.completed", "response": {"id": "resp_mock", "status": "completed"}})));
            }
            Kind::Anthropic => {
                out.push(named("message_start", json!({"type": "message_start", "message": {"id": "msg_mock", "type": "message", "role": "assistant", "content": [], "model": "mock-model"}})));
                out.push(named("content_block_start", json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})));
                for w in words {
                    out.push(named("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}})));
                }
                out.push(named(
                    "content_block_stop",
                    json!({"type": "content_block_stop", "index": 0}),
                ));
                out.push(named("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": words.len()}})));
                out.push(named("message_stop", json!({"type": "message_stop"})));
            }
            Kind::Gemini => {
                for w in words {
                    out.push(data(json!({"candidates": [{"content": {"role": "model", "parts": [{"text": w}]}, "index": 0}]})));
                }
            }
        }
        out
    }
}
