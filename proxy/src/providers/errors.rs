//! Each provider family's error bodies, so a blocked request reads as that provider's own error in its SDKs and chat UIs.

use serde_json::Value;

/// The error body conventions of each provider family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorShape {
    OpenAi,
    Anthropic,
    Gemini,
    /// A JSON-RPC 2.0 error (MCP servers).
    JsonRpc,
}

impl ErrorShape {
    /// The shape a provider family's clients understand.
    pub fn for_provider(provider: &str) -> Self {
        match provider {
            "anthropic" | "claude_web" | "bedrock" => ErrorShape::Anthropic,
            "gemini" | "vertex" | "gemini_web" => ErrorShape::Gemini,
            p if p.starts_with("mcp:") => ErrorShape::JsonRpc,
            _ => ErrorShape::OpenAi,
        }
    }

    /// A JSON-RPC error answering request `id` (MCP). Policy blocks use code -32001 (a
    /// server-defined error), with PromptWall's code in `data`.
    pub fn jsonrpc_body(kind: ErrorKind, message: &str, id: Option<&Value>) -> Vec<u8> {
        let code = match kind {
            ErrorKind::PolicyViolation => -32001,
            ErrorKind::InvalidRequest | ErrorKind::TooLarge => -32600,
            _ => -32603,
        };
        let v = serde_json::json!({
            "jsonrpc": "2.0",
            "id": id.cloned().unwrap_or(Value::Null),
            "error": { "code": code, "message": message, "data": { "code": kind.code() } }
        });
        serde_json::to_vec(&v).expect("JSON values serialize")
    }

    /// A JSON error body for `status`, in this provider's shape.
    pub fn body(self, status: u16, kind: ErrorKind, message: &str) -> Vec<u8> {
        let v = match self {
            ErrorShape::OpenAi => serde_json::json!({
                "error": { "message": message, "type": kind.openai_type(), "param": null, "code": kind.code() }
            }),
            ErrorShape::Anthropic => serde_json::json!({
                "type": "error",
                "error": { "type": kind.anthropic_type(), "message": message }
            }),
            ErrorShape::Gemini => serde_json::json!({
                "error": { "code": status, "message": message, "status": kind.google_status() }
            }),
            ErrorShape::JsonRpc => return Self::jsonrpc_body(kind, message, None),
        };
        serde_json::to_vec(&v).expect("JSON values serialize")
    }
}

/// What went wrong, in terms every provider shape can express.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    PolicyViolation,
    InvalidRequest,
    TooLarge,
    Upstream,
    Timeout,
    Unavailable,
}

impl ErrorKind {
    fn code(self) -> &'static str {
        match self {
            ErrorKind::PolicyViolation => "promptwall_policy_block",
            ErrorKind::InvalidRequest => "promptwall_invalid_request",
            ErrorKind::TooLarge => "promptwall_body_too_large",
            ErrorKind::Upstream => "promptwall_upstream_error",
            ErrorKind::Timeout => "promptwall_upstream_timeout",
            ErrorKind::Unavailable => "promptwall_unavailable",
        }
    }
    fn openai_type(self) -> &'static str {
        match self {
            ErrorKind::PolicyViolation => "policy_violation",
            ErrorKind::InvalidRequest | ErrorKind::TooLarge => "invalid_request_error",
            _ => "server_error",
        }
    }
    fn anthropic_type(self) -> &'static str {
        match self {
            ErrorKind::PolicyViolation => "permission_error",
            ErrorKind::InvalidRequest => "invalid_request_error",
            ErrorKind::TooLarge => "request_too_large",
            ErrorKind::Timeout | ErrorKind::Upstream => "api_error",
            ErrorKind::Unavailable => "overloaded_error",
        }
    }
    fn google_status(self) -> &'static str {
        match self {
            ErrorKind::PolicyViolation => "PERMISSION_DENIED",
            ErrorKind::InvalidRequest | ErrorKind::TooLarge => "INVALID_ARGUMENT",
            ErrorKind::Timeout => "DEADLINE_EXCEEDED",
            ErrorKind::Upstream => "INTERNAL",
            ErrorKind::Unavailable => "UNAVAILABLE",
        }
    }
}

/// A stream error event in the provider's shape, sent before closing a cut stream.
pub fn stream_error_event(shape: ErrorShape, message: &str) -> Vec<u8> {
    let body = String::from_utf8(shape.body(403, ErrorKind::PolicyViolation, message))
        .expect("JSON is UTF-8");
    match shape {
        ErrorShape::Anthropic => format!("event: error\ndata: {body}\n\n").into_bytes(),
        ErrorShape::OpenAi | ErrorShape::Gemini | ErrorShape::JsonRpc => {
            format!("data: {body}\n\n").into_bytes()
        }
    }
}
