//! Restoring pseudonyms in responses: `<EMAIL_1>` back to the original value, in JSON bodies and
//! in SSE streams, where a token may be split across events.
//!
//! In a stream, each string field of an event (say `/choices/0/delta/content`) is restored on
//! its own; a tail that could be the start of a token (`<EMA`) is held back and put in front of
//! the same field in the next event. Nothing else is held. At the end of the stream anything
//! still held is sent in one more event shaped like the last one.

use crate::stream::sse::Event;
use policy::redact::restore;
use serde_json::Value;
use std::collections::BTreeMap;

/// Longest token we hold back for: `<` + entity + `_` + number + `>`.
const MAX_TOKEN: usize = 48;

/// The tail of `s` that could still become a token, as a byte offset.
fn partial_token_start(s: &str) -> Option<usize> {
    let i = s.rfind('<')?;
    let tail = &s[i + 1..];
    (s.len() - i <= MAX_TOKEN
        && tail
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
    .then_some(i)
}

/// Applies `f` to every string in `v`, with its JSON pointer.
fn walk_strings(v: &mut Value, ptr: &mut String, f: &mut dyn FnMut(&str, &mut String)) {
    match v {
        Value::String(s) => f(ptr, s),
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                let len = ptr.len();
                ptr.push('/');
                ptr.push_str(&i.to_string());
                walk_strings(x, ptr, f);
                ptr.truncate(len);
            }
        }
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                let len = ptr.len();
                ptr.push('/');
                ptr.push_str(&k.replace('~', "~0").replace('/', "~1"));
                walk_strings(x, ptr, f);
                ptr.truncate(len);
            }
        }
        _ => {}
    }
}

/// Restores tokens in a whole JSON body; `None` when nothing changed or it is not JSON.
pub fn restore_json(body: &[u8], pseudonyms: &[(String, String)]) -> Option<Vec<u8>> {
    let mut v: Value = serde_json::from_slice(body).ok()?;
    let mut changed = false;
    walk_strings(&mut v, &mut String::new(), &mut |_, s| {
        let r = restore(s, pseudonyms);
        if r != *s {
            *s = r;
            changed = true;
        }
    });
    changed.then(|| serde_json::to_vec(&v).expect("JSON values serialize"))
}

/// Per-stream restoration state.
#[derive(Debug)]
pub struct Rehydrator {
    pseudonyms: Vec<(String, String)>,
    held: BTreeMap<String, String>,
    /// The last event that carried JSON, as a template for the final flush.
    last: Option<(Option<String>, Value)>,
}

impl Rehydrator {
    /// A rehydrator for one response.
    pub fn new(pseudonyms: Vec<(String, String)>) -> Self {
        Rehydrator {
            pseudonyms,
            held: BTreeMap::new(),
            last: None,
        }
    }

    /// The bytes to send for `ev`: the original bytes when nothing changed.
    pub fn on_event(&mut self, ev: &Event) -> Vec<u8> {
        if ev.is_done() {
            let mut out = self.flush();
            out.extend_from_slice(&ev.raw);
            return out;
        }
        let Ok(mut v) = serde_json::from_str::<Value>(&ev.data) else {
            return ev.raw.to_vec();
        };
        let mut changed = false;
        let (held, pseudonyms) = (&mut self.held, &self.pseudonyms);
        walk_strings(&mut v, &mut String::new(), &mut |ptr, s| {
            let mut text = match held.remove(ptr) {
                Some(h) => {
                    changed = true;
                    h + s
                }
                None => s.clone(),
            };
            let restored = restore(&text, pseudonyms);
            if restored != text {
                changed = true;
                text = restored;
            }
            if let Some(i) = partial_token_start(&text) {
                held.insert(ptr.to_string(), text[i..].to_string());
                text.truncate(i);
                changed = true;
            }
            *s = text;
        });
        self.last = Some((ev.event.clone(), v.clone()));
        if !changed {
            return ev.raw.to_vec();
        }
        Event::encode(ev.event.as_deref(), ev.id.as_deref(), &v.to_string())
    }

    /// Sends whatever is still held, in an event shaped like the last one.
    pub fn flush(&mut self) -> Vec<u8> {
        if self.held.is_empty() {
            return Vec::new();
        }
        let Some((name, mut template)) = self.last.clone() else {
            self.held.clear();
            return Vec::new();
        };
        let held = std::mem::take(&mut self.held);
        let pseudonyms = &self.pseudonyms;
        walk_strings(&mut template, &mut String::new(), &mut |ptr, s| {
            *s = match held.get(ptr) {
                Some(h) => restore(h, pseudonyms),
                None if ptr.ends_with("/content")
                    || ptr.ends_with("/text")
                    || ptr.ends_with("/delta")
                    || ptr.ends_with("/arguments") =>
                {
                    String::new()
                }
                None => std::mem::take(s),
            };
        });
        Event::encode(name.as_deref(), None, &template.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::sse::{Piece, SseParser};

    fn run(stream: &str, chunk: usize, pseudonyms: &[(&str, &str)]) -> String {
        let mut p = SseParser::default();
        let mut r = Rehydrator::new(
            pseudonyms
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        );
        let mut out = Vec::new();
        for c in stream.as_bytes().chunks(chunk) {
            for piece in p.push(c) {
                match piece {
                    Piece::Event(e) => out.extend(r.on_event(&e)),
                    Piece::Raw(b) => out.extend_from_slice(&b),
                }
            }
        }
        out.extend(r.flush());
        String::from_utf8(out).unwrap()
    }

    fn content(out: &str) -> String {
        out.lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .filter_map(|v| {
                v.pointer("/choices/0/delta/content")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect()
    }

    #[test]
    fn a_token_split_across_events_is_restored() {
        let deltas = [
            "Hi ",
            "<EM",
            "AIL",
            "_1",
            "> and <CREDIT",
            "_CARD_1> bye <x",
        ];
        let stream: String = deltas
            .iter()
            .map(|d| {
                format!(
                    "data: {}\n\n",
                    serde_json::json!({"choices": [{"index": 0, "delta": {"content": d}}]})
                )
            })
            .chain(["data: [DONE]\n\n".to_string()])
            .collect();
        for chunk in [1, 3, 7, 1000] {
            let out = run(
                &stream,
                chunk,
                &[
                    ("<EMAIL_1>", "ana@x.io"),
                    ("<CREDIT_CARD_1>", "4111 1111 1111 1111"),
                ],
            );
            assert_eq!(
                content(&out),
                "Hi ana@x.io and 4111 1111 1111 1111 bye <x",
                "chunk {chunk}"
            );
            assert!(out.trim_end().ends_with("data: [DONE]"));
        }
    }

    #[test]
    fn events_without_tokens_pass_byte_for_byte() {
        let stream = "event: ping\ndata: {\"type\":\"ping\"}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"plain\"}}]}\n\n";
        assert_eq!(run(stream, 5, &[("<EMAIL_1>", "a@b.c")]), stream);
    }

    #[test]
    fn json_bodies_are_restored_in_every_string() {
        let body = br#"{"choices":[{"message":{"content":"mail <EMAIL_1> now","tool_calls":[{"function":{"arguments":"{\"to\":\"<EMAIL_1>\"}"}}]}}]}"#;
        let out = restore_json(body, &[("<EMAIL_1>".into(), "ab@c.io".into())]).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v.pointer("/choices/0/message/content").unwrap(),
            "mail ab@c.io now"
        );
        assert_eq!(
            v.pointer("/choices/0/message/tool_calls/0/function/arguments")
                .unwrap(),
            "{\"to\":\"ab@c.io\"}"
        );
        assert!(
            restore_json(b"{\"x\":\"nothing\"}", &[("<EMAIL_1>".into(), "v".into())]).is_none()
        );
    }
}
