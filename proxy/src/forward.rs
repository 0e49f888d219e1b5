//! Forwarding: the request goes upstream (original or rewritten body), and the response
//! streams back chunk by chunk, through the restorers when pseudonyms were issued.

use crate::encoding::StreamDecoder;
use crate::providers::{ErrorKind, ErrorShape};
use crate::reply::{self, Reply};
use crate::route::Target;
use crate::stream::guard::{ResponseOutcome, ResponsePolicy, StreamGuard};
use crate::stream::mcp::{inspect_message, rpc_refusal, McpStream};
use crate::stream::sse::{Piece, SseParser};
use crate::stream::whole::inspect_json;
use crate::upstream::{Upstream, HOP_BY_HOP};
use bytes::{Bytes, BytesMut};
use http::{header, Method, StatusCode};
use pingora_core::protocols::http::{HttpTask, ServerSession};
use pingora_http::ResponseHeader;
use std::time::Instant;
use tokio::time::timeout;

/// Largest JSON response buffered to restore pseudonyms; larger ones pass through unrestored.
const MAX_RESTORE_BODY: usize = 32 << 20;

/// What forwarding reports back for the request log.
#[derive(Debug, Default)]
pub struct Forwarded {
    pub status: u16,
    pub upstream_ms: u128,
    /// Whether the downstream connection may be reused.
    pub reusable: bool,
    /// What the response policy did.
    pub response: ResponseOutcome,
    /// Token counts the provider reported in its response.
    pub usage: crate::providers::usage::Usage,
    /// The request's pseudonyms, which the answer's tokens are restored from (and which
    /// [`KeepTurn`] keeps for the next turn).
    pub pseudonyms: policy::Pseudonyms,
}

/// What a Responses turn leaves for its next one (on any node): its pseudonyms, so the same
/// tokens are restored, and the end of its text, so a secret split across the turns is seen.
/// Kept as soon as the answer names its id and before that answer reaches the client, who may
/// send the next turn at once.
pub struct KeepTurn {
    pub shared: std::sync::Arc<crate::handler::Shared>,
    pub tenant: String,
    pub tail: Option<String>,
}

/// Keeps the turn (at most once) when the answer's id is known.
async fn keep_turn(keep: &mut Option<KeepTurn>, out: &Forwarded) {
    let Some(id) = out.usage.response_id.as_ref() else {
        return;
    };
    let Some(k) = keep.take() else {
        return;
    };
    let conversation = format!("response:{id}");
    if !out.pseudonyms.is_empty() {
        k.shared
            .remember(&k.tenant, &conversation, out.pseudonyms.clone())
            .await;
    }
    if let Some(tail) = k.tail {
        k.shared
            .remember_turn_tail(&k.tenant, &conversation, tail)
            .await;
    }
}

fn no_body_status(s: StatusCode) -> bool {
    s.is_informational() || s == StatusCode::NO_CONTENT || s == StatusCode::NOT_MODIFIED
}

/// The error and its causes on one line, for messages that say what went wrong.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// How the response body is passed on.
enum Transform {
    None,
    /// An SSE answer, decompressed on the fly when it comes compressed.
    Sse(Box<(SseParser, StreamGuard, Option<StreamDecoder>)>),
    /// A JSON (or other text) answer, read whole.
    Json(BytesMut),
    /// An MCP server's SSE answer or legacy session stream: whole JSON-RPC messages.
    Mcp(Box<McpStream>),
}

/// What goes upstream, and what the response side must do.
pub struct Outbound {
    pub body: Bytes,
    /// Send without the client's `Content-Encoding` (the body was decoded and rewritten).
    pub drop_content_encoding: bool,
    /// Replaces the client's `Content-Type` (a body transcoded to UTF-8 and rewritten).
    pub content_type: Option<&'static str>,
    /// Header values that replace the client's (redacted), by lower-case name.
    pub headers: Vec<(String, String)>,
    /// (token, original) pairs to restore in the response.
    pub pseudonyms: policy::Pseudonyms,
    pub response_policy: Option<ResponsePolicy>,
    pub shape: ErrorShape,
    /// For an MCP server: its session registry and gateway mapping.
    pub mcp: Option<crate::stream::mcp::Route>,
    /// Where to keep the pseudonyms of a server-side conversation's turn.
    pub keep: Option<KeepTurn>,
}

/// Sends the request to `target` and streams the response to the client.
pub async fn forward(
    session: &mut ServerSession,
    upstream: &Upstream,
    target: &Target,
    outbound: Outbound,
    request_id: &str,
) -> Forwarded {
    let Outbound {
        body,
        drop_content_encoding,
        content_type,
        headers: redacted_headers,
        pseudonyms,
        response_policy,
        shape,
        mcp,
        mut keep,
    } = outbound;
    let req = session.req_header();
    let method = Method::from_bytes(req.method.as_str().as_bytes()).unwrap_or(Method::GET);
    // An MCP server's answers are read whole whenever a classifier can check its tool list for
    // poisoning, even where no pattern rule reads responses (a tenant with label rules only).
    let restoring = !pseudonyms.is_empty()
        || response_policy
            .as_ref()
            .is_some_and(|p| p.scan || (mcp.is_some() && p.tool_classifier.is_some()));
    let mut headers = http::HeaderMap::with_capacity(req.headers.len());
    for (name, value) in req.headers.iter() {
        // Restoring needs a readable body: ask for it uncompressed.
        if HOP_BY_HOP.contains(&name.as_str())
            || (restoring && name == header::ACCEPT_ENCODING)
            || (drop_content_encoding && name == header::CONTENT_ENCODING)
            || (content_type.is_some() && name == header::CONTENT_TYPE)
        {
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    if let Some(ct) = content_type {
        headers.insert(header::CONTENT_TYPE, http::HeaderValue::from_static(ct));
    }
    for (name, value) in redacted_headers {
        let Ok(n) = http::HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        // A redacted value that cannot be a header value drops the header: never the original.
        match http::HeaderValue::from_str(&value) {
            Ok(v) => {
                headers.insert(n, v);
            }
            Err(_) => {
                headers.remove(n);
            }
        }
    }
    let is_head = method == Method::HEAD;
    let sent = Instant::now();
    // Spans live as long as their stage: `upstream` until the response head, then `stream`.
    let upstream_span =
        tracing::info_span!(target: "promptwall::trace", "upstream", server.address = %target.host);
    let request = upstream
        .client()
        .request(method, target.url())
        .headers(headers)
        .body(body);
    let mut out = Forwarded {
        pseudonyms,
        ..Forwarded::default()
    };
    let response = match timeout(upstream.header_timeout, request.send()).await {
        Err(_) => {
            out.status = 504;
            let msg = format!(
                "upstream {} did not answer within {} ms",
                target.host,
                upstream.header_timeout.as_millis()
            );
            out.reusable = reply::write(
                session,
                shape,
                Reply::new(504, ErrorKind::Timeout, msg),
                request_id,
            )
            .await;
            return out;
        }
        Ok(Err(e)) => {
            let timed_out = e.is_timeout();
            out.status = if timed_out { 504 } else { 502 };
            let kind = if timed_out {
                ErrorKind::Timeout
            } else {
                ErrorKind::Upstream
            };
            let msg = format!("upstream {} failed: {}", target.host, error_chain(&e));
            out.reusable = reply::write(
                session,
                shape,
                Reply::new(out.status, kind, msg),
                request_id,
            )
            .await;
            return out;
        }
        Ok(Ok(r)) => r,
    };
    out.upstream_ms = sent.elapsed().as_millis();
    out.status = response.status().as_u16();
    drop(upstream_span);
    let _stream_span = tracing::info_span!(target: "promptwall::trace", "stream");
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let encoding = crate::encoding::content_encoding(response.headers());
    let stream_decoder = encoding.as_deref().and_then(StreamDecoder::new);
    let decompressing = stream_decoder.is_some();
    // A HEAD answer, a 204 or a 304 has no body to inspect, and its Content-Length (a HEAD's
    // describes the GET's body) must go on as it came: no transform reads or rewrites it.
    let bodyless = is_head || no_body_status(response.status());
    let mut transform = match (restoring, content_type.as_str()) {
        _ if bodyless => Transform::None,
        // Always relayed message by message: a legacy session's endpoint must be mapped and
        // registered whatever the policy inspects.
        (_, ct)
            if ct.starts_with("text/event-stream")
                && mcp.is_some()
                && (encoding.is_none() || decompressing) =>
        {
            Transform::Mcp(Box::new(McpStream {
                parser: SseParser::default(),
                decoder: stream_decoder,
                route: mcp.clone().expect("checked"),
                target: target.clone(),
            }))
        }
        (true, ct)
            if ct.starts_with("text/event-stream") && (encoding.is_none() || decompressing) =>
        {
            Transform::Sse(Box::new((
                SseParser::default(),
                StreamGuard::new(response_policy.clone(), out.pseudonyms.clone()),
                stream_decoder,
            )))
        }
        // JSON and other text is read whole, so a compressed one is decoded (bounded) and
        // sent plain; what does not parse as JSON is scanned as text.
        (true, ct) if ct.contains("json") || ct.starts_with("text/") || ct.contains("xml") => {
            Transform::Json(BytesMut::new())
        }
        // A compressed stream PromptWall cannot decode as it flows, or Bedrock's AWS
        // event-stream frames (binary, JSON inside), which it does not decode: the model's
        // text would pass unread, so the tenant's `on_uninspectable` decides.
        (true, ct)
            if encoding.is_some() || ct.starts_with("application/vnd.amazon.eventstream") =>
        {
            let why = if encoding.is_some() {
                "compressed stream in an encoding PromptWall cannot decode as it flows"
            } else {
                "an AWS event stream, which PromptWall does not decode"
            };
            if let Some(refusal) = refuse_uninspected(response_policy.as_ref(), why) {
                out.response.uninspected = Some(why);
                return refused(session, out, refusal, request_id).await;
            }
            tracing::warn!(request_id, why, "passing the response through uninspected");
            out.response.uninspected = Some(why);
            Transform::None
        }
        // Anything else no transform reads (octet streams, no content type) goes on as it
        // came, recorded as unread; media (audio, images, video) is not text to read.
        (true, ct)
            if !(ct.starts_with("audio/")
                || ct.starts_with("image/")
                || ct.starts_with("video/")) =>
        {
            out.response.uninspected = Some("a content type PromptWall does not read");
            Transform::None
        }
        _ => Transform::None,
    };
    // Token counts from a response passed through untouched (the transforms read their own).
    let mut tap = if matches!(transform, Transform::None) {
        crate::providers::usage::Tap::for_response(&content_type, encoding.is_some())
    } else {
        crate::providers::usage::Tap::Off
    };
    let Ok(mut head) = ResponseHeader::build(response.status(), Some(response.headers().len() + 2))
    else {
        return out;
    };
    let keep_length = matches!(transform, Transform::None)
        && response.headers().contains_key(header::CONTENT_LENGTH);
    for (name, value) in response.headers() {
        if name == header::CONTENT_LENGTH && !keep_length {
            continue;
        }
        if name != header::CONTENT_LENGTH && HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        let _ = head.append_header(name.clone(), value.clone());
    }
    let _ = head.insert_header("x-promptwall-request-id", request_id);
    if decompressing && matches!(transform, Transform::Sse(_) | Transform::Mcp(_)) {
        // The stream goes on decoded.
        let _ = head.remove_header(&header::CONTENT_ENCODING);
    }
    let mut response = response;
    if let Transform::Json(buf) = &mut transform {
        // Read it all, inspect and restore, then send with an exact length.
        let read = loop {
            match timeout(upstream.idle_timeout, response.chunk()).await {
                Ok(Ok(Some(c))) if buf.len() + c.len() <= MAX_RESTORE_BODY => {
                    buf.extend_from_slice(&c)
                }
                Ok(Ok(Some(c))) => {
                    buf.extend_from_slice(&c);
                    break Ok(false);
                }
                Ok(Ok(None)) => break Ok(true),
                Ok(Err(e)) if !e.is_timeout() => {
                    let what = format!("broke off its answer: {}", error_chain(&e));
                    break Err((502, ErrorKind::Upstream, what));
                }
                Ok(Err(_)) | Err(_) => {
                    let ms = upstream.idle_timeout.as_millis();
                    let what = format!("stopped sending its answer for {ms} ms");
                    break Err((504, ErrorKind::Timeout, what));
                }
            }
        };
        let complete = match read {
            Ok(complete) => complete,
            // Nothing was sent to the client yet: it gets an answer in its provider's shape,
            // not an empty reply, and the log records that status.
            Err((status, kind, what)) => {
                out.status = status;
                let msg = format!("upstream {} {what}", target.host);
                out.reusable =
                    reply::write(session, shape, Reply::new(status, kind, msg), request_id).await;
                return out;
            }
        };
        // Why a complete, compressed body could not be decoded (logged below, once).
        let mut decode_error = None;
        let decoded = match (&encoding, complete) {
            (Some(enc), true) => match crate::encoding::decode(enc, buf, MAX_RESTORE_BODY) {
                Ok(plain) => {
                    let _ = head.remove_header(&header::CONTENT_ENCODING);
                    Some(plain)
                }
                Err(e) => {
                    decode_error = Some(e.to_string());
                    None
                }
            },
            _ => None,
        };
        let inspectable = encoding.is_none() || decoded.is_some();
        let plain: &[u8] = decoded.as_deref().unwrap_or(buf);
        if complete && inspectable {
            out.usage.observe(plain);
            keep_turn(&mut keep, &out).await;
        }
        let body = if complete && inspectable {
            let verdict = match &mcp {
                Some(_) => {
                    inspect_message(
                        plain,
                        response_policy.as_ref(),
                        &out.pseudonyms,
                        &mut out.response,
                    )
                    .await
                }
                None => inspect_json(
                    plain,
                    response_policy.as_ref(),
                    &out.pseudonyms,
                    &mut out.response,
                ),
            };
            match verdict {
                Ok(Some(new)) => Bytes::from(new),
                Ok(None) => match decoded {
                    Some(d) => Bytes::from(d),
                    None => buf.split().freeze(),
                },
                Err(error_body) => {
                    // The response itself was blocked: the client gets the provider's error.
                    // An MCP client gets a JSON-RPC error for the id it asked with, as 200.
                    let (status, error_body) = match shape {
                        ErrorShape::JsonRpc => (200, rpc_refusal(plain, &error_body)),
                        _ => (403, error_body),
                    };
                    out.status = status;
                    let Ok(mut h) = ResponseHeader::build(status, Some(3)) else {
                        return out;
                    };
                    let _ = h.insert_header(header::CONTENT_TYPE, "application/json");
                    let _ = h.insert_header(header::CONTENT_LENGTH, error_body.len().to_string());
                    let _ = h.insert_header("x-promptwall-request-id", request_id);
                    let _ = h.insert_header("x-promptwall-decision", "block-response");
                    if session.write_response_header(Box::new(h)).await.is_err() {
                        return out;
                    }
                    out.reusable = session
                        .write_response_body(Bytes::from(error_body), true)
                        .await
                        .is_ok();
                    return out;
                }
            }
        } else {
            let why = if complete {
                "compressed response that could not be decoded"
            } else {
                "response larger than the inspection limit"
            };
            // Undecodable: the tenant's on_uninspectable; too large: a limit, so the tenant's
            // fail mode. Either may refuse the answer rather than pass it unread.
            let refusal = if complete {
                refuse_uninspected(response_policy.as_ref(), why)
            } else {
                refuse_over_limit(response_policy.as_ref(), why)
            };
            if let Some(refusal) = refusal {
                out.response.uninspected = Some(why);
                return refused(session, out, refusal, request_id).await;
            }
            tracing::warn!(
                request_id,
                reason = why,
                error = decode_error.as_deref().unwrap_or("-"),
                "passing the response through uninspected"
            );
            out.response.uninspected = Some(why);
            buf.split().freeze()
        };
        if complete {
            let _ = head.insert_header(header::CONTENT_LENGTH, body.len().to_string());
        } else if !session.is_http2() {
            let _ = head.insert_header(header::TRANSFER_ENCODING, "chunked");
        }
        if session.write_response_header(Box::new(head)).await.is_err() {
            return out;
        }
        if complete {
            // The end rides on the body: over HTTP/2 a separate `finish_body` is an empty
            // END_STREAM frame that the connection task often flushes on its own (one more TLS
            // record and send per answer). Over HTTP/1.1 this is `write_body` + `finish_body`.
            out.reusable = session.write_response_body(body, true).await.is_ok();
            return out;
        }
        if session.write_response_body(body, false).await.is_err() {
            return out;
        }
        transform = Transform::None;
    } else {
        if !keep_length && !session.is_http2() && !bodyless {
            let _ = head.insert_header(header::TRANSFER_ENCODING, "chunked");
        }
        if bodyless {
            // The end rides on the header: over HTTP/2 one HEADERS frame with END_STREAM, not
            // a header and then a separate empty DATA frame.
            out.reusable = session
                .response_duplex_vec(vec![HttpTask::Header(Box::new(head), true)])
                .await
                .is_ok();
            return out;
        }
        if session.write_response_header(Box::new(head)).await.is_err() {
            return out;
        }
    }
    if let Transform::Mcp(stream) = transform {
        stream
            .relay(
                session,
                response,
                response_policy.as_ref(),
                &mut out,
                upstream.idle_timeout,
                request_id,
            )
            .await;
        return out;
    }
    loop {
        match timeout(upstream.idle_timeout, response.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                let bytes = match &mut transform {
                    Transform::Sse(state) => {
                        let (parser, guard, decoder) = &mut **state;
                        let plain = match decoder {
                            None => chunk,
                            Some(d) => match d.push(&chunk) {
                                Ok(p) => Bytes::from(p),
                                Err(e) => {
                                    // Nothing undecoded is passed on: end the stream here.
                                    tracing::warn!(request_id, error = %e, "compressed stream failed to decode; ending it");
                                    out.response = guard.outcome.clone();
                                    out.response.uninspected =
                                        Some("compressed stream that failed to decode");
                                    return out;
                                }
                            },
                        };
                        let mut buf = Vec::with_capacity(plain.len() + 64);
                        for piece in parser.push(&plain) {
                            match piece {
                                Piece::Event(e) => {
                                    out.usage.observe(e.data.as_bytes());
                                    keep_turn(&mut keep, &out).await;
                                    buf.extend(guard.on_event(&e))
                                }
                                Piece::Raw(b) if !guard.is_cut() => buf.extend_from_slice(&b),
                                Piece::Raw(_) => {}
                            }
                            if guard.is_cut() {
                                break;
                            }
                        }
                        Bytes::from(buf)
                    }
                    _ => {
                        tap.push(&chunk, &mut out.usage);
                        keep_turn(&mut keep, &out).await;
                        chunk
                    }
                };
                if !bytes.is_empty() && session.write_response_body(bytes, false).await.is_err() {
                    return out;
                }
                if let Transform::Sse(state) = &transform {
                    if state.1.is_cut() {
                        // The error event is out: end the response cleanly and drop the upstream.
                        out.response = state.1.outcome.clone();
                        out.reusable = session.finish_body().await.is_ok();
                        return out;
                    }
                }
            }
            Ok(Ok(None)) => {
                std::mem::replace(&mut tap, crate::providers::usage::Tap::Off)
                    .finish(&mut out.usage);
                if let Transform::Sse(state) = &mut transform {
                    let (parser, guard, _) = &mut **state;
                    // An unterminated last event is read as if it had ended: clients that act
                    // on `data:` lines as they arrive would otherwise get it unread.
                    let mut tail = Vec::new();
                    for piece in crate::stream::sse::finish_events(parser) {
                        match piece {
                            Piece::Event(e) => tail.extend(guard.on_event(&e)),
                            Piece::Raw(b) if !guard.is_cut() => tail.extend_from_slice(&b),
                            Piece::Raw(_) => {}
                        }
                    }
                    tail.extend(guard.flush());
                    out.response = guard.outcome.clone();
                    if !tail.is_empty()
                        && session
                            .write_response_body(Bytes::from(tail), false)
                            .await
                            .is_err()
                    {
                        return out;
                    }
                }
                out.reusable = session.finish_body().await.is_ok();
                return out;
            }
            Ok(Err(e)) => {
                tracing::warn!(request_id, error = %error_chain(&e), "upstream body failed mid-response");
                return out;
            }
            Err(_) => {
                tracing::warn!(request_id, "upstream body idle for too long; closing");
                return out;
            }
        }
    }
}

/// The error a tenant's `on_uninspectable: block` sends instead of an answer PromptWall could
/// not read (provider-shaped), or `None` when the tenant lets it pass.
fn refuse_uninspected(policy: Option<&ResponsePolicy>, why: &str) -> Option<Vec<u8>> {
    let rp = policy?;
    (rp.policy.doc().on_uninspectable == policy::Uninspectable::Block).then(|| {
        rp.shape.body(
            403,
            ErrorKind::PolicyViolation,
            &format!("PromptWall could not inspect the response ({why}), and the policy does not let unread content through."),
        )
    })
}

/// The error a fail-closed tenant sends instead of an answer too large to inspect.
fn refuse_over_limit(policy: Option<&ResponsePolicy>, why: &str) -> Option<Vec<u8>> {
    let rp = policy?;
    (rp.policy.doc().on_classifier_error == policy::OnError::FailClosed).then(|| {
        rp.shape.body(
            403,
            ErrorKind::PolicyViolation,
            &format!("PromptWall could not inspect all of the response ({why}); the policy fails closed."),
        )
    })
}

/// Sends a refusal in place of the upstream's answer.
async fn refused(
    session: &mut ServerSession,
    mut out: Forwarded,
    body: Vec<u8>,
    request_id: &str,
) -> Forwarded {
    out.status = 403;
    out.response.action = Some(policy::Action::Block);
    let Ok(mut h) = ResponseHeader::build(403, Some(4)) else {
        return out;
    };
    let _ = h.insert_header(header::CONTENT_TYPE, "application/json");
    let _ = h.insert_header(header::CONTENT_LENGTH, body.len().to_string());
    let _ = h.insert_header("x-promptwall-request-id", request_id);
    let _ = h.insert_header("x-promptwall-decision", "block-response");
    if session.write_response_header(Box::new(h)).await.is_ok() {
        out.reusable = session
            .write_response_body(Bytes::from(body), true)
            .await
            .is_ok();
    }
    out
}
