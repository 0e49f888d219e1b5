//! Fuzz targets (bolero) for the parsers in front of inspection: the provider walk, the SSE
//! parser, body reading (encodings, forms) and the stream decoder. Under `cargo test` each runs
//! a short random smoke; for a long, coverage-guided run:
//! `cargo bolero test --package promptwall --test fuzz <target>`.

use promptwall::extract::{self, Body};
use promptwall::providers::{extract as provider_extract, Place};
use promptwall::stream::sse::{Piece, SseParser};

const SHAPES: &[(&str, &str)] = &[
    ("openai", "/v1/chat/completions"),
    ("openai", "/v1/responses"),
    ("openai", "/v1/threads/runs"),
    ("anthropic", "/v1/messages"),
    ("gemini", "/v1beta/models/g:generateContent"),
    ("gemini", "/v1beta/models/g:countTokens"),
    ("bedrock", "/model/m/converse"),
    ("cohere", "/v2/chat"),
];

/// Field names of the providers' request shapes, so generated documents reach the adapters'
/// branches (and not only the generic walk).
const KEYS: &[&str] = &[
    "messages",
    "content",
    "role",
    "type",
    "text",
    "tools",
    "function",
    "description",
    "parameters",
    "properties",
    "input",
    "output",
    "prompt",
    "variables",
    "file",
    "file_data",
    "inline_data",
    "inlineData",
    "mime_type",
    "mimeType",
    "data",
    "system",
    "system_instruction",
    "systemInstruction",
    "contents",
    "parts",
    "functionCall",
    "function_call",
    "args",
    "functionResponse",
    "response",
    "document",
    "source",
    "media_type",
    "title",
    "context",
    "generateContentRequest",
    "toolConfig",
    "toolSpec",
    "summary",
    "mcp_servers",
    "url",
    "name",
    "arguments",
    "instructions",
    "tool_calls",
    "thread",
    "bytes",
    "format",
    "metadata",
];

/// String values that steer the adapters (roles, part types, media types), plus base64 text.
const WORDS: &[&str] = &[
    "user",
    "assistant",
    "system",
    "developer",
    "tool",
    "model",
    "text",
    "file",
    "input_file",
    "input_text",
    "document",
    "base64",
    "text/plain",
    "image/png",
    "function_call_output",
    "function_call",
    "tool_result",
    "tool_use",
    "message",
    "reasoning",
    "search_result",
    "txt",
    "content",
    "data:text/plain;base64,aGVsbG8gd29ybGQ=",
    "aGVsbG8gd29ybGQ=",
    "~/",
    "data:text/plain,hello%20AKIA",
    "data:image/png,raw",
];

/// A JSON document built from the providers' vocabulary (bolero keeps the nesting bounded).
#[derive(Debug, bolero::TypeGenerator)]
enum Doc {
    Null,
    Bool(bool),
    Num(i16),
    Word(u8),
    Str(String),
    Arr(Vec<Doc>),
    Obj(Vec<(u8, Doc)>),
    Named(Vec<(String, Doc)>),
}

impl Doc {
    fn json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Doc::Null => Value::Null,
            Doc::Bool(b) => Value::Bool(*b),
            Doc::Num(n) => Value::from(*n),
            Doc::Word(w) => Value::from(WORDS[usize::from(*w) % WORDS.len()]),
            Doc::Str(s) => Value::from(s.as_str()),
            Doc::Arr(items) => Value::Array(items.iter().map(Doc::json).collect()),
            Doc::Obj(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (KEYS[usize::from(*k) % KEYS.len()].to_string(), v.json()))
                    .collect(),
            ),
            Doc::Named(fields) => {
                Value::Object(fields.iter().map(|(k, v)| (k.clone(), v.json())).collect())
            }
        }
    }
}

/// Every JSON document, in every provider's shape: each segment is the string at its pointer
/// (a file segment decodes from it), each key segment is the key its pointer ends in, and every
/// string in the document is a segment or inside a part recorded as skipped.
#[test]
fn fuzz_provider_walk() {
    bolero::check!().with_type::<Doc>().for_each(|doc| {
        let v = doc.json();
        for (provider, path) in SHAPES {
            let p = provider_extract(provider, path, &v);
            for s in &p.segments {
                let at = v.pointer(&s.pointer);
                match s.place {
                    Place::Value => assert_eq!(at.and_then(|x| x.as_str()), Some(s.text.as_str())),
                    Place::Base64 => {
                        let raw = at
                            .and_then(|x| x.as_str())
                            .expect("a file segment is a string");
                        assert!(
                            promptwall::providers::decode_file(raw).as_deref()
                                == Some(s.text.as_str())
                        );
                    }
                    Place::Key => assert!(at.is_some(), "{}", s.pointer),
                    Place::File => {
                        let file = s.pointer.split('#').next().unwrap_or_default();
                        assert!(
                            v.pointer(file).is_some_and(|x| x.is_string()),
                            "{}",
                            s.pointer
                        );
                    }
                    _ => unreachable!("JSON bodies have values and keys"),
                }
            }
            let mut strings = Vec::new();
            every_string(&v, String::new(), &mut strings);
            for ptr in strings {
                let covered = p
                    .segments
                    .iter()
                    .any(|s| s.place != Place::Key && s.pointer == ptr)
                    || p.skipped.iter().any(|(sk, _)| ptr.starts_with(sk.as_str()));
                assert!(
                    covered,
                    "{provider} {path}: {ptr} is neither scanned nor skipped in {v}"
                );
            }
        }
    });
}

fn every_string(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(_) => out.push(at),
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                every_string(x, format!("{at}/{i}"), out);
            }
        }
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                every_string(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        _ => {}
    }
}

/// The SSE parser never loses or invents bytes: what it hands back, re-serialized, carries
/// every data line, however the input is cut.
#[test]
fn fuzz_sse_parser() {
    bolero::check!().for_each(|input: &[u8]| {
        let cut = input.first().map_or(1, |b| usize::from(*b % 31) + 1);
        let mut parser = SseParser::default();
        let mut events = 0;
        let mut raw = 0;
        for chunk in input.chunks(cut) {
            for piece in parser.push(chunk) {
                match piece {
                    Piece::Event(_) => events += 1,
                    Piece::Raw(b) => raw += b.len(),
                }
            }
        }
        raw += parser.finish().map_or(0, |b| b.len());
        assert!(raw <= input.len());
        assert!(events <= input.len());
    });
}

/// Body reading: any bytes under any content type are read or refused, never a panic; forms
/// survive encoding.
#[test]
fn fuzz_body_reading() {
    const TYPES: &[&str] = &[
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain; charset=utf-16le",
        "text/plain; charset=iso-8859-1",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
    ];
    bolero::check!().for_each(|input: &[u8]| {
        let ct = TYPES[input.first().map_or(0, |b| usize::from(*b)) % TYPES.len()];
        if let Ok(Body::Form(fields)) = extract::read(Some(ct), input) {
            assert_eq!(
                extract::form::parse(&extract::form::encode(&fields)),
                fields
            );
        }
        let _ = extract::text::decode(ct, input);
        let _ = extract::envelope::segments(
            &String::from_utf8_lossy(input),
            [("x-note", input)],
            &["key"],
        );
    });
}

/// The incremental decoder never panics on garbage and bounds nothing it should not.
#[test]
fn fuzz_stream_decoder() {
    bolero::check!().for_each(|input: &[u8]| {
        for enc in ["gzip", "deflate", "br"] {
            let mut d = promptwall::encoding::StreamDecoder::new(enc).unwrap();
            for chunk in input.chunks(5) {
                if d.push(chunk).is_err() {
                    break;
                }
            }
        }
    });
}

/// Multipart bodies: any bytes under a boundary are parsed or refused, never a panic.
#[test]
fn fuzz_multipart() {
    bolero::check!().for_each(|input: &[u8]| {
        let body = [
            &b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n"[..],
            input,
        ]
        .concat();
        let _ = extract::multipart::parse(
            "multipart/form-data; boundary=XyZ",
            bytes::Bytes::from(body),
            50,
        );
        let _ = extract::multipart::parse(
            "multipart/form-data; boundary=XyZ",
            bytes::Bytes::copy_from_slice(input),
            50,
        );
    });
}

/// File extraction: bytes that start like a PDF, a zip or text are read or reported as not
/// read, within the text budget, never a panic.
#[test]
fn fuzz_file_extraction() {
    let limits = extract::files::FileLimits {
        max_text_bytes: 1 << 16,
        ..Default::default()
    };
    bolero::check!().for_each(|input: &[u8]| {
        for magic in [&b"%PDF-1.4\n"[..], b"PK\x03\x04", b""] {
            let mut budget = extract::files::Budget::new(&limits);
            let got = extract::files::extract("f", &[magic, input].concat(), &mut budget);
            let text: usize = got.pieces.iter().map(|p| p.text.len()).sum();
            assert!(text <= limits.max_text_bytes);
        }
    });
}
