//! WebSockets to AI hosts (the OpenAI Realtime API and the like), through CONNECT and the
//! gateway. The upgrade is relayed to the upstream (without extensions, so no frame arrives
//! compressed and unreadable); then every frame passes through here. Each text message from
//! the client is inspected whole before any of its frames is forwarded: a block answers the
//! client with a Realtime `error` event and the message never reaches the upstream; a
//! redaction forwards the rewritten message. Text from the server goes through the same
//! stream guard as SSE answers, so a secret split across deltas is still cut. Binary frames
//! (audio) pass unread and are counted as such.

pub mod frames;

use crate::forward::Forwarded;
use crate::providers::{ErrorKind, ErrorShape};
use crate::reply::{self, Reply};
use crate::route::Target;
use crate::stream::guard::StreamGuard;
use crate::stream::sse::{Event, Piece, SseParser};
use crate::upstream::{Upstream, HOP_BY_HOP};
use bytes::Bytes;
use frames::{FrameReader, Item};
use http::header;
use pingora_core::protocols::http::ServerSession;
use pingora_http::ResponseHeader;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What to do with one text message from the client.
pub enum Verdict {
    Pass,
    /// Forward this text instead (a redaction).
    Replace(String),
    /// Do not forward; tell the client why (the rule ids go to the log).
    Block {
        message: String,
        rules: Vec<String>,
    },
}

/// Whether a request asks to become a WebSocket: an HTTP/1.1 `Upgrade`, or an HTTP/2
/// extended CONNECT with `:protocol websocket` (RFC 8441).
pub fn is_upgrade(session: &ServerSession) -> bool {
    is_h2_websocket(session)
        || session
            .req_header()
            .headers
            .get(header::UPGRADE)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

/// An RFC 8441 WebSocket: its stream never ends, so it has no body to read up front, and it
/// is accepted with `200`, not `101`.
pub fn is_h2_websocket(session: &ServerSession) -> bool {
    let req = session.req_header();
    req.method == http::Method::CONNECT
        && req
            .extensions
            .get::<h2::ext::Protocol>()
            .is_some_and(|p| p.as_str().eq_ignore_ascii_case("websocket"))
}

/// A fresh `Sec-WebSocket-Key` for the HTTP/1.1 upgrade PromptWall makes upstream on behalf
/// of an HTTP/2 client (which sends none).
fn websocket_key() -> http::HeaderValue {
    use base64::Engine;
    let mut key = [0u8; 16];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key);
    let key = base64::engine::general_purpose::STANDARD.encode(key);
    http::HeaderValue::from_str(&key).expect("base64 is a valid header value")
}

/// A Realtime `error` event, which the SDKs surface to the application.
fn error_event(message: &str) -> String {
    serde_json::json!({
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "code": "promptwall_policy_block",
            "message": message,
            "param": null,
        }
    })
    .to_string()
}

/// Where a WebSocket goes and its bounds.
pub struct Route<'a> {
    pub upstream: &'a Upstream,
    pub target: &'a Target,
    /// The provider's error shape, for a refused upgrade.
    pub shape: ErrorShape,
    /// Largest message reassembled for inspection; a larger one closes the socket.
    pub max_message: usize,
    pub request_id: &'a str,
}

/// Relays the upgrade to `route.target`, then the frames in both directions until either
/// side closes or goes idle past `upstream.idle_timeout`. `inspect` judges each client text
/// message; `guard` reads the server's.
pub async fn relay<F: std::future::Future<Output = Verdict>>(
    session: &mut ServerSession,
    route: Route<'_>,
    inspect: impl Fn(String) -> F,
    mut guard: StreamGuard,
) -> Forwarded {
    let Route {
        upstream,
        target,
        shape,
        max_message,
        request_id,
    } = route;
    let mut out = Forwarded::default();
    let req = session.req_header();
    let mut headers = http::HeaderMap::new();
    for (name, value) in req.headers.iter() {
        // Extensions (permessage-deflate) would make frames unreadable here: not offered.
        if HOP_BY_HOP.contains(&name.as_str()) || name == "sec-websocket-extensions" {
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    headers.insert(
        header::CONNECTION,
        http::HeaderValue::from_static("Upgrade"),
    );
    headers.insert(header::UPGRADE, http::HeaderValue::from_static("websocket"));
    let h2 = is_h2_websocket(session);
    if h2 {
        headers.insert("sec-websocket-key", websocket_key());
        headers
            .entry("sec-websocket-version")
            .or_insert(http::HeaderValue::from_static("13"));
    }
    let sent = std::time::Instant::now();
    let sent_upgrade = tokio::time::timeout(
        upstream.header_timeout,
        upstream.ws_client.get(target.url()).headers(headers).send(),
    )
    .await;
    let response = match sent_upgrade {
        Ok(Ok(r)) => r,
        failed => {
            let (status, kind, msg) = match failed {
                Ok(Err(e)) => (
                    502,
                    ErrorKind::Upstream,
                    format!("upstream {} failed the WebSocket upgrade: {e}", target.host),
                ),
                _ => (
                    504,
                    ErrorKind::Timeout,
                    format!("upstream {} did not answer the upgrade", target.host),
                ),
            };
            out.status = status;
            reply::write(session, shape, Reply::new(status, kind, msg), request_id).await;
            return out;
        }
    };
    out.upstream_ms = sent.elapsed().as_millis();
    out.status = response.status().as_u16();
    let switching = response.status() == http::StatusCode::SWITCHING_PROTOCOLS;
    // Over HTTP/2 an accepted WebSocket is a `200` with none of HTTP/1.1's upgrade headers.
    let status = if h2 && switching {
        200
    } else {
        response.status().as_u16()
    };
    let mut head = match ResponseHeader::build(status, None) {
        Ok(h) => h,
        Err(_) => return out,
    };
    for (name, value) in response.headers() {
        let h1_only = HOP_BY_HOP.contains(&name.as_str()) || name == "sec-websocket-accept";
        if name != header::TRANSFER_ENCODING
            && name != "sec-websocket-extensions"
            && !(h2 && h1_only)
        {
            let _ = head.append_header(name.clone(), value.clone());
        }
    }
    if !switching {
        // Refused (401, 404, ...): the client hears the upstream's answer as it is.
        let body = response.bytes().await.unwrap_or_default();
        let _ = head.insert_header(header::CONTENT_LENGTH, body.len().to_string());
        let _ = session.write_response_header(Box::new(head)).await;
        let _ = session.write_response_body(body, true).await;
        return out;
    }
    let upgraded = match response.upgrade().await {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(request_id, error = %e, "upstream WebSocket upgrade failed");
            out.status = 502;
            return out;
        }
    };
    if session.write_response_header(Box::new(head)).await.is_err() {
        return out;
    }
    let (mut up_read, mut up_write) = tokio::io::split(upgraded);
    // The upstream is read by its own task, so the loop below waits on both sides at once
    // without holding two borrows of the client session.
    let (tx, mut from_upstream) = tokio::sync::mpsc::channel::<Bytes>(16);
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n) = up_read.read(&mut buf).await {
            if n == 0 || tx.send(Bytes::copy_from_slice(&buf[..n])).await.is_err() {
                break;
            }
        }
    });
    let mut from_client = FrameReader::new(max_message);
    let mut from_server = FrameReader::new(max_message);
    let idle = upstream.idle_timeout;
    let mut binary_frames = 0u64;
    loop {
        tokio::select! {
            chunk = tokio::time::timeout(idle, session.read_request_body()) => {
                let data = match chunk {
                    Ok(Ok(Some(d))) => d,
                    // Closed, failed or idle: end both sides.
                    _ => break,
                };
                let items = match from_client.push(&data) {
                    Ok(items) => items,
                    Err(e) => {
                        tracing::warn!(request_id, error = %e, "client WebSocket frames refused");
                        let _ = session.write_response_body(frames::close_frame(false, &e.to_string()), false).await;
                        let _ = up_write.write_all(&frames::close_frame(true, "client protocol error")).await;
                        break;
                    }
                };
                for item in items {
                    let forward = match item {
                        Item::Pass { raw, binary } => {
                            binary_frames += u64::from(binary);
                            raw
                        }
                        Item::Text { raw, text } => match inspect(text).await {
                            Verdict::Pass => raw,
                            Verdict::Replace(new) => frames::text_frame(&new, true),
                            Verdict::Block { message, rules } => {
                                out.response.action = Some(policy::Action::Block);
                                for r in rules {
                                    if !out.response.rules.contains(&r) {
                                        out.response.rules.push(r);
                                    }
                                }
                                let event = frames::text_frame(&error_event(&message), false);
                                if session.write_response_body(event, false).await.is_err() {
                                    break;
                                }
                                continue;
                            }
                        },
                    };
                    if up_write.write_all(&forward).await.is_err() {
                        break;
                    }
                }
            }
            data = from_upstream.recv() => {
                let Some(data) = data else { break };
                let items = match from_server.push(&data) {
                    Ok(items) => items,
                    Err(e) => {
                        tracing::warn!(request_id, error = %e, "upstream WebSocket frames refused");
                        let _ = session.write_response_body(frames::close_frame(false, "upstream protocol error"), false).await;
                        break;
                    }
                };
                let mut send = Vec::new();
                for item in items {
                    match item {
                        Item::Pass { raw, binary } => {
                            binary_frames += u64::from(binary);
                            send.push(raw);
                        }
                        Item::Text { raw, text } => {
                            // Through the SSE guard: one event per message.
                            let ev = Event {
                                raw: Bytes::from(Event::encode(None, None, &text)),
                                event: None,
                                data: text,
                                id: None,
                            };
                            let guarded = guard.on_event(&ev);
                            if guard.is_cut() {
                                out.response.cut = true;
                                let msg = guard.outcome.rules.join(", ");
                                let event = error_event(&format!("PromptWall stopped this answer: it contained data the policy does not allow ({msg})."));
                                send.push(frames::text_frame(&event, false));
                                send.push(frames::close_frame(false, "policy violation"));
                                break;
                            }
                            if guarded == ev.raw {
                                // Unchanged: the frames go on as the server sent them.
                                send.push(raw);
                                continue;
                            }
                            let mut parser = SseParser::default();
                            for piece in parser.push(&guarded) {
                                if let Piece::Event(e) = piece {
                                    send.push(frames::text_frame(&e.data, false));
                                }
                            }
                        }
                    }
                }
                for frame in send {
                    if session.write_response_body(frame, false).await.is_err() {
                        out.response.cut |= guard.is_cut();
                        break;
                    }
                }
                if guard.is_cut() {
                    let _ = up_write.write_all(&frames::close_frame(true, "policy violation")).await;
                    break;
                }
            }
        }
    }
    reader.abort();
    let _ = up_write.shutdown().await;
    let _ = session.write_response_body(Bytes::new(), true).await;
    let outcome = guard.outcome.clone();
    if out.response.action.is_none() {
        out.response.action = outcome.action;
    }
    for r in outcome.rules {
        if !out.response.rules.contains(&r) {
            out.response.rules.push(r);
        }
    }
    if binary_frames > 0 {
        out.response.uninspected = Some("binary WebSocket frames (audio)");
    }
    out.reusable = false;
    out
}
