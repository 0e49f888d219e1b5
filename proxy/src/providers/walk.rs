//! The generic walk over a request's JSON: every string and key an adapter did not take, so a field an API adds is
//! scanned the day it ships.

use super::{pointer_push_index, pointer_push_key, Place, Prompt, Role, Segment};
use serde_json::Value;
use std::collections::HashSet;

/// Field names of the providers' request schemas: fixed words, so the walk does not scan them
/// as keys (their values are still scanned). Sorted for binary search.
pub(super) const SCHEMA_KEYS: &[&str] = &[
    "additional_instructions",
    "additional_messages",
    "arguments",
    "assistant_id",
    "cache_control",
    "candidate_count",
    "content",
    "contents",
    "data",
    "description",
    "detail",
    "document",
    "file_data",
    "file_id",
    "filename",
    "frequency_penalty",
    "function",
    "functionCall",
    "functionResponse",
    "function_call",
    "generationConfig",
    "generation_config",
    "id",
    "image",
    "image_url",
    "inlineData",
    "inline_data",
    "input",
    "inputText",
    "input_schema",
    "instructions",
    "items",
    "logit_bias",
    "maxOutputTokens",
    "max_completion_tokens",
    "max_output_tokens",
    "max_tokens",
    "media_type",
    "message",
    "messages",
    "metadata",
    "mimeType",
    "mime_type",
    "model",
    "n",
    "name",
    "output",
    "parallel_tool_calls",
    "parameters",
    "parts",
    "presence_penalty",
    "previous_response_id",
    "prompt",
    "properties",
    "reasoning",
    "required",
    "response_format",
    "role",
    "safetySettings",
    "seed",
    "source",
    "stop",
    "stop_sequences",
    "store",
    "stream",
    "stream_options",
    "suffix",
    "system",
    "systemInstruction",
    "system_instruction",
    "temperature",
    "text",
    "thread",
    "tool",
    "toolConfig",
    "tool_call_id",
    "tool_calls",
    "tool_choice",
    "tool_use_id",
    "tools",
    "topK",
    "topP",
    "top_k",
    "top_logprobs",
    "top_p",
    "type",
    "url",
    "user",
    "value",
];

/// Adds every string value and object key under `body` that `p` does not hold yet. Parts the
/// adapter recorded as skipped (images, binary documents) are entered only for their plain
/// strings (a URL the provider fetches can carry data out); their data URLs and base64
/// payloads stay skipped, as the coverage says.
pub(super) fn cover_rest(body: &Value, p: &mut Prompt) {
    // The sets borrow the adapter's pointers (no copy of each); what the walk finds is added
    // once they are dropped.
    let taken: HashSet<&str> = p.segments.iter().map(|s| s.pointer.as_str()).collect();
    let skipped: HashSet<&str> = p.skipped.iter().map(|s| s.0.as_str()).collect();
    let mut rest = Walk {
        taken: &taken,
        skipped: &skipped,
        keys: true,
        out: Vec::new(),
    };
    rest.visit(body, &mut String::new(), false);
    p.segments.extend(rest.out);
}

/// The generic walk: strings (and, with `keys`, object keys) not already taken, with their
/// pointers.
struct Walk<'a> {
    taken: &'a HashSet<&'a str>,
    skipped: &'a HashSet<&'a str>,
    keys: bool,
    out: Vec<Segment>,
}

impl Walk<'_> {
    fn visit(&mut self, v: &Value, pointer: &mut String, in_skipped: bool) {
        let in_skipped = in_skipped || self.skipped.contains(pointer.as_str());
        match v {
            Value::String(s)
                if !(self.taken.contains(pointer.as_str()) || in_skipped && is_payload(s)) =>
            {
                self.out.push(Segment {
                    role: Role::Unknown,
                    pointer: pointer.clone(),
                    text: s.clone(),
                    place: Place::Value,
                });
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = pointer.len();
                    pointer_push_index(pointer, i);
                    self.visit(item, pointer, in_skipped);
                    pointer.truncate(len);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    let len = pointer.len();
                    pointer_push_key(pointer, k);
                    if self.keys && SCHEMA_KEYS.binary_search(&k.as_str()).is_err() {
                        self.out.push(Segment {
                            role: Role::Unknown,
                            pointer: pointer.clone(),
                            text: k.clone(),
                            place: Place::Key,
                        });
                    }
                    self.visit(item, pointer, in_skipped);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }
}

/// A binary payload inside a skipped part: a `data:` URL or a long base64 run, which the
/// coverage already records as not read (file extraction reads documents).
pub(super) fn is_payload(s: &str) -> bool {
    let base64_run = |t: &str| {
        t.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_' | b'\n' | b'\r')
        })
    };
    match s.strip_prefix("data:").and_then(|r| r.split_once(',')) {
        // Only a base64 data URL is a payload; a percent-encoded one is text, and is read.
        Some((head, payload)) => head.ends_with(";base64") && base64_run(payload),
        None => s.len() >= 256 && base64_run(s),
    }
}

/// Collects every string value under `v`, with its JSON pointer.
pub fn walk(v: &Value, pointer: &mut String, out: &mut Vec<Segment>) {
    let none = HashSet::new();
    let mut all = Walk {
        taken: &none,
        skipped: &none,
        keys: false,
        out: std::mem::take(out),
    };
    all.visit(v, pointer, false);
    *out = all.out;
}
