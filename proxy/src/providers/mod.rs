//! Provider adapters: where the texts are in each provider's request JSON, and what its errors
//! look like, so a blocked request shows up properly in the provider's own SDKs and chat UIs.

pub mod anthropic;
pub mod bedrock;
mod files;
pub mod gemini;
pub mod mcp;
pub mod openai;
pub mod usage;

mod errors;
mod walk;

pub use errors::{stream_error_event, ErrorKind, ErrorShape};
pub use files::{decode_file, encode_file, push_file};
use serde_json::Value;
use walk::cover_rest;
pub use walk::walk;

/// Who wrote a piece of text the model will see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
    /// A string found by the generic walker; its role is unknown.
    Unknown,
}

/// One text the model would see, and exactly where it sits in the request (a JSON pointer).
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub role: Role,
    pub pointer: String,
    pub text: String,
    /// What kind of place `pointer` names.
    pub place: Place,
}

/// Where in the request a segment's text sits, which decides how a redaction is written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The JSON string value at the pointer.
    Value,
    /// The JSON object key at the pointer.
    Key,
    /// A query parameter (`query:NAME`; the text is `NAME=VALUE`).
    Query,
    /// A request header (`header:NAME`; the text is `NAME: VALUE`).
    Header,
    /// A form field (`form:NAME`; the text is `NAME=VALUE`).
    Form,
    /// A whole text body (`body`).
    Text,
    /// A base64 file payload at the pointer (bare, or a `data:` URL); the text is its decoded
    /// contents, and a redaction is encoded back the same way.
    Base64,
    /// Text extracted from a document (a PDF page, a DOCX body, a file in an archive): the
    /// pointer names the file and, after `#`, the position. It cannot be written back.
    File,
    /// A plain field or a UTF-8 text file of a multipart body (`part:NAME[:FILENAME]`),
    /// written back in place (the body is re-encoded with its boundary).
    Part,
}

impl Place {
    /// Whether a redaction can be written back here (else the tenant's `redaction_fallback`).
    pub fn rewritable(self) -> bool {
        !matches!(self, Place::File)
    }
}

impl Segment {
    /// Whether the classifier reads this segment: what the model reads, as the adapter placed
    /// it, and what the walk found that reads as words (identifiers, enum values and ids carry
    /// no intent; the pattern scan still reads them). Never the URL or the headers, which the
    /// model does not see.
    pub fn for_classifier(&self) -> bool {
        match self.place {
            Place::Query | Place::Header => false,
            _ => self.role != Role::Unknown || self.text.bytes().any(|b| b.is_ascii_whitespace()),
        }
    }
}

/// Every text of one request, and what was deliberately not scanned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prompt {
    pub segments: Vec<Segment>,
    pub model: Option<String>,
    pub stream: bool,
    /// (pointer, why): binary parts, token ids. Recorded as coverage; never silently dropped.
    pub skipped: Vec<(String, &'static str)>,
    /// Why a file the model would read could not be read (the first such file): the tenant's
    /// `on_uninspectable` decides. Images and audio in chat parts are coverage, not this.
    pub unreadable: Option<&'static str>,
    /// The MCP tools the `tools/call`s name (a batch may call several), in order, each once:
    /// policy rules match any of them, and the audit record lists them.
    pub tools: Vec<String>,
    /// The JSON-RPC id of a single MCP request, so a block answers it by id.
    pub rpc_id: Option<Value>,
}

impl Prompt {
    /// An empty prompt with the body's `model` and `stream` fields.
    pub fn from_body(body: &Value) -> Self {
        Prompt {
            model: body
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_string),
            stream: body.get("stream").and_then(Value::as_bool).unwrap_or(false),
            ..Prompt::default()
        }
    }

    /// Records a part that holds no scannable text.
    pub fn skip(&mut self, pointer: String, why: &'static str) {
        self.skipped.push((pointer, why));
    }
}

/// Adds one text segment.
pub fn push(p: &mut Prompt, role: Role, pointer: String, text: &str) {
    p.segments.push(Segment {
        role,
        pointer,
        text: text.to_string(),
        place: Place::Value,
    });
}

/// Appends `/key` to a JSON Pointer (RFC 6901 escaping), copying nothing for a plain key.
pub fn pointer_push_key(pointer: &mut String, key: &str) {
    pointer.push('/');
    if key.contains(['~', '/']) {
        pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
    } else {
        pointer.push_str(key);
    }
}

/// Appends `/index` to a JSON Pointer.
pub fn pointer_push_index(pointer: &mut String, index: usize) {
    use std::fmt::Write as _;
    let _ = write!(pointer, "/{index}");
}

/// Adds the words of tool and function definitions (`description` and `title`, at any depth
/// of the definition and its parameter schema) as system text: the model reads them as
/// instructions, which makes them a place for injections. Names, types and enums are left to
/// the walk.
pub fn definitions_into(p: &mut Prompt, v: &Value, base: &str) {
    fn visit(p: &mut Prompt, v: &Value, at: &mut String) {
        match v {
            Value::Object(map) => {
                for (k, item) in map {
                    let len = at.len();
                    pointer_push_key(at, k);
                    match item {
                        Value::String(s) if k == "description" || k == "title" => {
                            push(p, Role::System, at.clone(), s)
                        }
                        _ => visit(p, item, at),
                    }
                    at.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = at.len();
                    pointer_push_index(at, i);
                    visit(p, item, at);
                    at.truncate(len);
                }
            }
            _ => {}
        }
    }
    visit(p, v, &mut base.to_string());
}

/// Adds every string under `v` (tool inputs and outputs are arbitrary JSON).
pub fn walk_into(p: &mut Prompt, v: &Value, base: &str, role: Role) {
    let start = p.segments.len();
    walk(v, &mut base.to_string(), &mut p.segments);
    for s in &mut p.segments[start..] {
        s.role = role;
    }
}

/// One provider family: where its texts are, what its errors look like, and whether its bodies
/// may be rewritten. Streams are read by the shared SSE guard, which finds each family's text
/// fields (`content`, `text`, `delta`, `arguments`, `partial_json`, ...) by name.
pub trait Adapter: Sync {
    /// The family name used in logs.
    fn family(&self) -> &'static str;
    /// Whether this adapter knows the endpoint (`POST` of a known path).
    fn recognizes(&self, method: &str, path: &str) -> bool {
        method.eq_ignore_ascii_case("POST") && self.extract(path, &Value::Null).is_some()
    }
    /// Every text of a known endpoint's body; `None` for endpoints it does not know.
    fn extract(&self, path: &str, body: &Value) -> Option<Prompt>;
    /// The provider's error shape.
    fn error_shape(&self) -> ErrorShape;
    /// A blocked request's response body.
    fn block_response(&self, status: u16, message: &str) -> Vec<u8> {
        self.error_shape()
            .body(status, ErrorKind::PolicyViolation, message)
    }
    /// The event that ends a cut stream.
    fn stream_block_event(&self, message: &str) -> Vec<u8> {
        stream_error_event(self.error_shape(), message)
    }
    /// Signed bodies (AWS SigV4) cannot be rewritten: `redact` falls back.
    fn body_is_signed(&self) -> bool {
        false
    }
}

struct OpenAi;
struct Mcp;
struct Anthropic;
struct Gemini;
struct Bedrock;

impl Adapter for OpenAi {
    fn family(&self) -> &'static str {
        "openai"
    }
    fn extract(&self, path: &str, body: &Value) -> Option<Prompt> {
        openai::extract(path, body)
    }
    fn error_shape(&self) -> ErrorShape {
        ErrorShape::OpenAi
    }
}

impl Adapter for Mcp {
    fn family(&self) -> &'static str {
        "mcp"
    }
    fn extract(&self, _path: &str, body: &Value) -> Option<Prompt> {
        Some(mcp::extract(body))
    }
    fn error_shape(&self) -> ErrorShape {
        ErrorShape::JsonRpc
    }
}

impl Adapter for Anthropic {
    fn family(&self) -> &'static str {
        "anthropic"
    }
    fn extract(&self, path: &str, body: &Value) -> Option<Prompt> {
        anthropic::extract(path, body)
    }
    fn error_shape(&self) -> ErrorShape {
        ErrorShape::Anthropic
    }
}

impl Adapter for Gemini {
    fn family(&self) -> &'static str {
        "gemini"
    }
    fn extract(&self, path: &str, body: &Value) -> Option<Prompt> {
        gemini::extract(path, body)
    }
    fn error_shape(&self) -> ErrorShape {
        ErrorShape::Gemini
    }
}

impl Adapter for Bedrock {
    fn family(&self) -> &'static str {
        "bedrock"
    }
    fn extract(&self, path: &str, body: &Value) -> Option<Prompt> {
        bedrock::extract(path, body)
    }
    fn error_shape(&self) -> ErrorShape {
        ErrorShape::Anthropic
    }
    fn body_is_signed(&self) -> bool {
        true
    }
}

/// The `gen_ai.system` value of the OpenTelemetry GenAI conventions for a provider.
pub fn genai_system(provider: &str) -> &'static str {
    match provider {
        "openai" => "openai",
        "azure_openai" | "azure" => "az.ai.openai",
        "anthropic" => "anthropic",
        "gemini" => "gcp.gemini",
        "vertex" => "gcp.vertex_ai",
        "bedrock" => "aws.bedrock",
        "mistral" => "mistral_ai",
        "cohere" => "cohere",
        "groq" => "groq",
        _ => "_OTHER",
    }
}

/// The server-side conversation a request continues, when the provider keeps one: an OpenAI
/// Responses chain (`previous_response_id`), a Responses `conversation`, or an Assistants
/// thread (`/threads/{id}/...`). Later turns there do not resend earlier text, so pseudonyms
/// must be carried over by PromptWall (see `policy::redact::apply_continuing`).
pub fn conversation(path: &str, body: Option<&Value>) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    if let Some(rest) = path.split("/threads/").nth(1) {
        let id = rest.split('/').next().unwrap_or_default();
        if !id.is_empty() && id != "runs" {
            return Some(format!("thread:{id}"));
        }
    }
    let body = body?;
    if let Some(id) = body.get("previous_response_id").and_then(Value::as_str) {
        return Some(format!("response:{id}"));
    }
    match body.get("conversation") {
        Some(Value::String(id)) => Some(format!("conversation:{id}")),
        Some(Value::Object(o)) => o
            .get("id")
            .and_then(Value::as_str)
            .map(|id| format!("conversation:{id}")),
        _ => None,
    }
}

/// The adapter for a catalog provider name (OpenAI-compatible servers use OpenAI's).
pub fn adapter_for(provider: &str) -> &'static dyn Adapter {
    match provider {
        "anthropic" | "claude_web" => &Anthropic,
        "gemini" | "vertex" | "gemini_web" => &Gemini,
        "bedrock" => &Bedrock,
        p if p.starts_with("mcp:") => &Mcp,
        _ => &OpenAi,
    }
}

/// Extracts the texts of a request to an AI destination.
///
/// Known endpoints use their provider's adapter, which knows each field's role; then the rest
/// of the document is walked: every string value and object key the adapter did not take is
/// scanned too (role `Unknown`), so a field an API adds is covered the day it ships. Any other
/// JSON is walked whole.
pub fn extract(provider: &str, path: &str, body: &Value) -> Prompt {
    let mut p = adapter_for(provider)
        .extract(path, body)
        .unwrap_or_else(|| Prompt::from_body(body));
    cover_rest(body, &mut p);
    p
}

#[cfg(test)]
mod tests {
    use super::walk::{is_payload, SCHEMA_KEYS};
    use super::*;

    #[test]
    fn error_bodies_parse_as_each_providers_shape() {
        let o: Value =
            serde_json::from_slice(&ErrorShape::OpenAi.body(403, ErrorKind::PolicyViolation, "no"))
                .unwrap();
        assert_eq!(o["error"]["type"], "policy_violation");
        assert_eq!(o["error"]["message"], "no");
        let a: Value = serde_json::from_slice(&ErrorShape::Anthropic.body(
            403,
            ErrorKind::PolicyViolation,
            "no",
        ))
        .unwrap();
        assert_eq!(
            (a["type"].as_str(), a["error"]["type"].as_str()),
            (Some("error"), Some("permission_error"))
        );
        let g: Value =
            serde_json::from_slice(&ErrorShape::Gemini.body(403, ErrorKind::PolicyViolation, "no"))
                .unwrap();
        assert_eq!(
            (g["error"]["code"].as_u64(), g["error"]["status"].as_str()),
            (Some(403), Some("PERMISSION_DENIED"))
        );
    }

    #[test]
    fn inline_files_decode_and_encode_back_in_their_own_form() {
        for (raw, text) in [
            ("aGVsbG8gd29ybGQ=", "hello world"),
            ("data:text/plain;base64,aGVsbG8gd29ybGQ=", "hello world"),
            ("data:text/plain,hello%20world", "hello world"),
        ] {
            assert_eq!(decode_file(raw).as_deref(), Some(text), "{raw}");
            assert_eq!(encode_file(raw, text), raw);
        }
        assert_eq!(decode_file("AAEC"), None, "binary is not text");
        // A percent-encoded data URL is text to scan, even in a skipped part.
        assert!(!is_payload("data:image/png,AKIAQWERTYUIOPASDFGH"));
        assert!(is_payload("data:image/png;base64,iVBORw0KGgo="));
    }

    #[test]
    fn schema_keys_are_sorted_for_binary_search() {
        assert!(SCHEMA_KEYS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn generic_walker_finds_every_string_with_escaped_pointers() {
        let v = serde_json::json!({"a/b": ["x", {"c~": "y"}], "count": 1});
        let p = extract("anthropic", "/v1/unknown", &v);
        let ptrs: Vec<(&str, bool)> = p
            .segments
            .iter()
            .map(|s| (s.pointer.as_str(), s.place == Place::Key))
            .collect();
        assert_eq!(
            ptrs,
            [
                ("/a~1b", true),
                ("/a~1b/0", false),
                ("/a~1b/1/c~0", true),
                ("/a~1b/1/c~0", false),
                ("/count", true)
            ]
        );
    }

    #[test]
    fn fields_an_adapter_does_not_know_are_walked_after_it() {
        let v = serde_json::json!({
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"type": "function", "function": {"name": "lookup", "description": "Looks up an order", "parameters": {"type": "object", "properties": {"order_AKIAQWERTYUIOPASDFGH": {"type": "string"}}}}}],
            "metadata": {"note": "from the CRM"},
            "stop": ["END"],
            "messages_extra": {"nested": {"deep": "words here"}}
        });
        let p = extract("openai", "/v1/chat/completions", &v);
        let seg = |ptr: &str, key: bool| {
            p.segments
                .iter()
                .find(|s| s.pointer == ptr && (s.place == Place::Key) == key)
                .unwrap_or_else(|| panic!("{ptr} (key: {key}) in {:#?}", p.segments))
        };
        assert_eq!(seg("/messages/0/content", false).role, Role::User);
        assert_eq!(
            seg("/tools/0/function/description", false).role,
            Role::System
        );
        seg(
            "/tools/0/function/parameters/properties/order_AKIAQWERTYUIOPASDFGH",
            true,
        );
        seg("/metadata/note", true);
        seg("/metadata/note", false);
        seg("/stop/0", false);
        seg("/messages_extra/nested/deep", false);
        // Each place is scanned once, and schema words are not keys to scan.
        assert_eq!(
            p.segments
                .iter()
                .filter(|s| s.pointer == "/messages/0/content")
                .count(),
            1
        );
        assert!(!p
            .segments
            .iter()
            .any(|s| s.place == Place::Key && s.text == "messages"));
        // Identifiers are not classifier text; sentences are.
        assert!(!seg("/model", false).for_classifier());
        assert!(seg("/tools/0/function/description", false).for_classifier());
    }

    #[test]
    fn skipped_parts_keep_their_payload_skipped_but_their_urls_are_read() {
        let v = serde_json::json!({
            "model": "claude",
            "messages": [{"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo".repeat(40)}},
                {"type": "image", "source": {"type": "url", "url": "https://cdn.example/x.png?k=AKIAQWERTYUIOPASDFGH"}}
            ]}]
        });
        let p = extract("anthropic", "/v1/messages", &v);
        assert!(p.segments.iter().any(|s| s.text.contains("AKIA")));
        assert!(!p.segments.iter().any(|s| s.text.starts_with("iVBOR")));
        assert!(!p.skipped.is_empty());
    }
}
