//! A small MCP server on both HTTP transports.
//!
//! Tools: `search_wiki` (its description is `x-mock-tool-description` when sent; its result
//! names the query), `delete_page`, and `fetch_page` (its text result is the `x-mock-reply*`
//! text when the request carries one, else an empty page).
//!
//! - Streamable HTTP at a path ending `/mcp` (JSON answers) or `/mcp/stream` (SSE answers,
//!   one `message` event per answer, as the official SDKs' servers send by default).
//! - Legacy HTTP+SSE (2024-11-05) at a path ending `/legacy/sse`: the stream's first event
//!   names the POST endpoint `.../legacy/messages?session_id=N`; a POST there is answered `202 Accepted`, and its
//!   result arrives on the stream.

use super::{full, tokio_stream_from, Body};
use bytes::Bytes;
use futures_util::StreamExt;
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tokio::sync::mpsc;

/// Per-request controls that shape the server's answers.
pub(super) struct Controls {
    pub reply: Option<String>,
    pub description: Option<String>,
}

/// Open legacy sessions: their streams, by session id.
#[derive(Default)]
pub(super) struct Legacy {
    streams: Mutex<HashMap<u64, mpsc::Sender<Bytes>>>,
    next: AtomicU64,
}

/// Which MCP route a request path is, if any.
pub(super) enum Route {
    Json,
    Sse,
    LegacyStream(String),
    LegacyPost(u64),
}

/// Recognizes the MCP routes by path (query included for the legacy POST).
pub(super) fn route(path: &str) -> Option<Route> {
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    if route.ends_with("/mcp") {
        return Some(Route::Json);
    }
    if route.ends_with("/mcp/stream") {
        return Some(Route::Sse);
    }
    if route.ends_with("/legacy/sse") {
        let base = route.trim_end_matches("/sse");
        return Some(Route::LegacyStream(base.to_string()));
    }
    if route.ends_with("/legacy/messages") {
        let id = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("session_id="))
            .and_then(|v| v.parse().ok())?;
        return Some(Route::LegacyPost(id));
    }
    None
}

/// Answers one request on `route`.
pub(super) fn serve(legacy: &Legacy, route: Route, request: &Value, c: Controls) -> Response<Body> {
    match route {
        Route::Json => match answer(request, c) {
            Some(v) => full(StatusCode::OK, &v),
            None => accepted(),
        },
        Route::Sse => match answer(request, c) {
            Some(v) => {
                let event = format!("event: message\ndata: {v}\n\n");
                Response::builder()
                    .status(StatusCode::OK)
                    .header("content-type", "text/event-stream")
                    .body(Full::new(Bytes::from(event)).boxed())
                    .expect("valid response")
            }
            None => accepted(),
        },
        Route::LegacyStream(base) => {
            let id = legacy.next.fetch_add(1, Ordering::SeqCst) + 1;
            let (tx, rx) = mpsc::channel::<Bytes>(16);
            let endpoint = format!("event: endpoint\ndata: {base}/messages?session_id={id}\n\n");
            let _ = tx.try_send(Bytes::from(endpoint));
            legacy.streams.lock().expect("mock lock").insert(id, tx);
            let body =
                StreamBody::new(tokio_stream_from(rx).map(|b| Ok::<_, Infallible>(Frame::data(b))));
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "text/event-stream")
                .header("cache-control", "no-cache")
                .body(BodyExt::boxed(body))
                .expect("valid response")
        }
        Route::LegacyPost(id) => {
            let tx = legacy.streams.lock().expect("mock lock").get(&id).cloned();
            let Some(tx) = tx else {
                return full(StatusCode::NOT_FOUND, &json!({"error": "no such session"}));
            };
            if let Some(v) = answer(request, c) {
                let _ = tx.try_send(Bytes::from(format!("event: message\ndata: {v}\n\n")));
            }
            accepted()
        }
    }
}

fn accepted() -> Response<Body> {
    Response::builder()
        .status(StatusCode::ACCEPTED)
        .body(Full::new(Bytes::from_static(b"Accepted")).boxed())
        .expect("valid response")
}

/// The JSON-RPC answer to one message (`None` for a notification).
fn answer(request: &Value, c: Controls) -> Option<Value> {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let result = match request.get("method").and_then(Value::as_str) {
        Some("initialize") => json!({
            "protocolVersion": request.pointer("/params/protocolVersion").cloned().unwrap_or(json!("2025-06-18")),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "mock-mcp", "version": "1.0"}
        }),
        Some(m) if m.starts_with("notifications/") => return None,
        Some("ping") => json!({}),
        Some("tools/list") => json!({"tools": [
            {"name": "search_wiki", "description": c.description.unwrap_or_else(|| "Searches the company wiki.".into()),
             "inputSchema": {"type": "object", "properties": {"query": {"type": "string"}}}},
            {"name": "delete_page", "description": "Deletes a wiki page.",
             "inputSchema": {"type": "object", "properties": {"page": {"type": "string"}}}},
            {"name": "fetch_page", "description": "Fetches a wiki page.",
             "inputSchema": {"type": "object", "properties": {"page": {"type": "string"}}}}
        ]}),
        Some("tools/call") => {
            let arg = |name: &str| {
                request
                    .pointer(&format!("/params/arguments/{name}"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let text = match request.pointer("/params/name").and_then(Value::as_str) {
                Some("fetch_page") => c
                    .reply
                    .unwrap_or_else(|| format!("{}: (empty)", arg("page"))),
                _ => format!("3 pages match {}", arg("query")),
            };
            json!({"content": [{"type": "text", "text": text}], "isError": false})
        }
        _ => {
            return Some(
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "method not found"}}),
            )
        }
    };
    Some(json!({"jsonrpc": "2.0", "id": id, "result": result}))
}
