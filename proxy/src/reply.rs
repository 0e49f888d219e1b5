//! Responses PromptWall writes itself: errors and blocks, in the provider's own error shape.

use crate::providers::{ErrorKind, ErrorShape};
use bytes::Bytes;
use http::header;
use pingora_core::protocols::http::ServerSession;
use pingora_http::ResponseHeader;

/// A reply that replaces forwarding.
pub struct Reply {
    pub status: u16,
    pub kind: ErrorKind,
    pub message: String,
    pub extra: Vec<(&'static str, String)>,
}

impl Reply {
    /// A reply with no extra headers.
    pub fn new(status: u16, kind: ErrorKind, message: impl Into<String>) -> Self {
        Reply {
            status,
            kind,
            message: message.into(),
            extra: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((name, value.into()));
        self
    }
}

/// Writes `reply` as JSON in `shape`; returns whether the connection is reusable.
pub async fn write(
    session: &mut ServerSession,
    shape: ErrorShape,
    reply: Reply,
    request_id: &str,
) -> bool {
    let body = shape.body(reply.status, reply.kind, &reply.message);
    let Ok(mut head) = ResponseHeader::build(reply.status, Some(4 + reply.extra.len())) else {
        return false;
    };
    let _ = head.insert_header(header::CONTENT_TYPE, "application/json");
    let _ = head.insert_header(header::CONTENT_LENGTH, body.len().to_string());
    let _ = head.insert_header("x-promptwall-request-id", request_id);
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
