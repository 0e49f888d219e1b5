//! Token counts from provider responses (whole JSON bodies and stream events), for the
//! `gen_ai.usage.*` span attributes, the token metric and the audit record. Only counts are
//! read; no content.

use serde::Deserialize;

/// Input and output tokens the provider reported, when it reported them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Usage {
    pub input: Option<u64>,
    pub output: Option<u64>,
    /// The id of an OpenAI Responses object (what a next turn names as `previous_response_id`).
    pub response_id: Option<String>,
}

/// The envelope fields that carry counts, across providers; everything else is skipped.
#[derive(Deserialize, Default)]
struct Envelope {
    /// OpenAI Chat/Completions/Responses, Anthropic (whole body and `message_delta`).
    usage: Option<Counts>,
    /// Gemini and Vertex.
    #[serde(rename = "usageMetadata")]
    usage_metadata: Option<GeminiCounts>,
    /// Anthropic `message_start`.
    message: Option<Box<Envelope>>,
    /// OpenAI Responses stream `response.created` / `response.completed`.
    response: Option<Box<Envelope>>,
    id: Option<String>,
    object: Option<String>,
}

#[derive(Deserialize, Default)]
struct Counts {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct GeminiCounts {
    prompt_token_count: Option<u64>,
    candidates_token_count: Option<u64>,
}

impl Usage {
    /// Reads counts from one JSON document (a response body, a stream event's data, or a
    /// Gemini stream's JSON array); later counts replace earlier ones (providers report
    /// cumulative totals). Bytes that are not JSON, or carry no counts, change nothing.
    pub fn observe(&mut self, json: &[u8]) {
        if !contains(json, b"sage") && !contains(json, b"\"response\"") {
            // Neither counts nor a Responses object: skip the parse.
            return;
        }
        if let Ok(e) = serde_json::from_slice::<Envelope>(json) {
            self.absorb(&e);
        } else if let Ok(all) = serde_json::from_slice::<Vec<Envelope>>(json) {
            for e in &all {
                self.absorb(e);
            }
        }
    }

    fn absorb(&mut self, e: &Envelope) {
        if e.object.as_deref() == Some("response") {
            if let Some(id) = &e.id {
                self.response_id = Some(id.clone());
            }
        }
        if let Some(c) = &e.usage {
            if let Some(n) = c.prompt_tokens.or(c.input_tokens) {
                self.input = Some(n);
            }
            if let Some(n) = c.completion_tokens.or(c.output_tokens) {
                self.output = Some(n);
            }
        }
        if let Some(g) = &e.usage_metadata {
            if g.prompt_token_count.is_some() {
                self.input = g.prompt_token_count;
            }
            if g.candidates_token_count.is_some() {
                self.output = g.candidates_token_count;
            }
        }
        for inner in [&e.message, &e.response].into_iter().flatten() {
            self.absorb(inner);
        }
    }
}

/// Largest body or event a tap keeps to read counts from; past it, counts are not read.
const MAX_TAP: usize = 1 << 20;

/// Reads counts from a response passed through untouched, as its chunks go by.
pub enum Tap {
    /// A JSON body, kept (bounded) until it ends.
    Json(Vec<u8>),
    /// An SSE stream: the unfinished event, kept until its blank line.
    Sse(Vec<u8>),
    Off,
}

impl Tap {
    /// The tap for a response of this content type (`Off` for anything else or for a
    /// compressed body).
    pub fn for_response(content_type: &str, compressed: bool) -> Tap {
        match content_type {
            _ if compressed => Tap::Off,
            ct if ct.starts_with("text/event-stream") => Tap::Sse(Vec::new()),
            ct if ct.contains("json") => Tap::Json(Vec::new()),
            _ => Tap::Off,
        }
    }

    /// Takes the next chunk of the response.
    pub fn push(&mut self, chunk: &[u8], usage: &mut Usage) {
        match self {
            Tap::Off => {}
            Tap::Json(buf) => {
                if buf.len() + chunk.len() > MAX_TAP {
                    *self = Tap::Off;
                } else {
                    buf.extend_from_slice(chunk);
                }
            }
            Tap::Sse(buf) => {
                buf.extend_from_slice(chunk);
                // Whole events are read in place and dropped at once; only the unfinished
                // tail stays.
                let mut at = 0;
                while let Some(len) = event_end(&buf[at..]) {
                    let event = &buf[at..at + len];
                    if contains(event, b"sage") || contains(event, b"\"response\"") {
                        usage.observe(&sse_data(event));
                    }
                    at += len;
                }
                buf.drain(..at);
                if buf.len() > MAX_TAP {
                    buf.clear();
                }
            }
        }
    }

    /// The response ended.
    pub fn finish(self, usage: &mut Usage) {
        if let Tap::Json(buf) = self {
            usage.observe(&buf);
        }
    }
}

/// Index just past the first blank line (`\n\n` or `\r\n\r\n`).
fn event_end(buf: &[u8]) -> Option<usize> {
    let lf = memchr::memmem::find(buf, b"\n\n").map(|i| i + 2);
    let crlf = memchr::memmem::find(buf, b"\r\n\r\n").map(|i| i + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// An event's `data:` lines joined with `\n`.
fn sse_data(event: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in event.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(d) = line.strip_prefix(b"data:") {
            if !out.is_empty() {
                out.push(b'\n');
            }
            out.extend_from_slice(d.strip_prefix(b" ").unwrap_or(d));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(docs: &[&str]) -> Usage {
        let mut u = Usage::default();
        for d in docs {
            u.observe(d.as_bytes());
        }
        u
    }

    #[test]
    fn each_providers_counts_are_read() {
        let both = |i, o| Usage {
            input: Some(i),
            output: Some(o),
            response_id: None,
        };
        // OpenAI Chat Completions, whole body and the final stream chunk (include_usage).
        assert_eq!(
            read(&[
                r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}"#
            ]),
            both(12, 5)
        );
        assert_eq!(
            read(&[
                r#"{"choices":[{"delta":{"content":"hi"}}]}"#,
                r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9}}"#,
            ]),
            both(3, 9)
        );
        // OpenAI Responses: body, and the `response.completed` event.
        assert_eq!(
            read(&[
                r#"{"type":"response.completed","response":{"usage":{"input_tokens":7,"output_tokens":2}}}"#
            ]),
            both(7, 2)
        );
        // Anthropic: message_start carries the input, message_delta the cumulative output.
        assert_eq!(
            read(&[
                r#"{"type":"message_start","message":{"usage":{"input_tokens":25,"output_tokens":1}}}"#,
                r#"{"type":"content_block_delta","delta":{"text":"x"}}"#,
                r#"{"type":"message_delta","usage":{"output_tokens":15}}"#,
            ]),
            both(25, 15)
        );
        // Gemini: a body, and a streamed JSON array.
        assert_eq!(
            read(&[
                r#"{"candidates":[],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":8,"totalTokenCount":12}}"#
            ]),
            both(4, 8)
        );
        assert_eq!(
            read(&[
                r#"[{"candidates":[]},{"candidates":[],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":30}}]"#
            ]),
            both(4, 30)
        );
    }

    #[test]
    fn taps_read_counts_from_passing_chunks_split_anywhere() {
        let stream = "event: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":25}}}\r\n\r\ndata: {\"type\":\"content_block_delta\"}\n\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":15}}\n\n";
        for size in [1, 3, 7, stream.len()] {
            let (mut tap, mut u) = (
                Tap::for_response("text/event-stream; charset=utf-8", false),
                Usage::default(),
            );
            for c in stream.as_bytes().chunks(size) {
                tap.push(c, &mut u);
            }
            tap.finish(&mut u);
            assert_eq!(
                (u.input, u.output),
                (Some(25), Some(15)),
                "chunks of {size}"
            );
        }
        let body = r#"{"usage":{"prompt_tokens":1,"completion_tokens":2}}"#;
        let (mut tap, mut u) = (
            Tap::for_response("application/json", false),
            Usage::default(),
        );
        for c in body.as_bytes().chunks(5) {
            tap.push(c, &mut u);
        }
        tap.finish(&mut u);
        assert_eq!((u.input, u.output), (Some(1), Some(2)));
        // Compressed or other types are not read.
        assert!(matches!(
            Tap::for_response("application/json", true),
            Tap::Off
        ));
        assert!(matches!(Tap::for_response("text/plain", false), Tap::Off));
    }

    #[test]
    fn no_counts_or_no_json_changes_nothing() {
        assert_eq!(read(&[r#"{"choices":[]}"#]), Usage::default());
        assert_eq!(
            read(&["[DONE]", "not json but says usage"]),
            Usage::default()
        );
        assert_eq!(read(&[r#"{"usage":"free text"}"#]), Usage::default());
    }
}
