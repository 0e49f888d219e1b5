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
    /// The JSON-RPC id the reply answers (MCP).
    pub rpc_id: Option<Box<serde_json::Value>>,
}

impl Reply {
    /// A reply with no extra headers.
    pub fn new(status: u16, kind: ErrorKind, message: impl Into<String>) -> Self {
        Reply {
            status,
            kind,
            message: message.into(),
            extra: Vec::new(),
            rpc_id: None,
        }
    }

    /// Answers JSON-RPC request `id` (an MCP block is a JSON-RPC error for that request).
    pub fn for_rpc(mut self, id: Option<serde_json::Value>) -> Self {
        self.rpc_id = id.map(Box::new);
        self
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
    let (status, body) = match shape {
        // MCP clients resolve a JSON-RPC error with 200 as that request's failure; other
        // statuses end the session in some SDKs.
        ErrorShape::JsonRpc => (
            if reply.kind == crate::providers::ErrorKind::PolicyViolation {
                200
            } else {
                reply.status
            },
            ErrorShape::jsonrpc_body(reply.kind, &reply.message, reply.rpc_id.as_deref()),
        ),
        _ => (
            reply.status,
            shape.body(reply.status, reply.kind, &reply.message),
        ),
    };
    let Ok(mut head) = ResponseHeader::build(status, Some(4 + reply.extra.len())) else {
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
