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
    ("bedrock", "/model/m/converse"),
    ("cohere", "/v2/chat"),
];

/// Every JSON document, in every provider's shape: each value segment is the string at its
/// pointer, and every string in the document is a segment or inside a skipped part.
#[test]
fn fuzz_provider_walk() {
    bolero::check!().for_each(|input: &[u8]| {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(input) else {
            return;
        };
        for (provider, path) in SHAPES {
            let p = provider_extract(provider, path, &v);
            for s in p.segments.iter().filter(|s| s.place == Place::Value) {
                assert_eq!(
                    v.pointer(&s.pointer).and_then(|x| x.as_str()),
                    Some(s.text.as_str())
                );
            }
        }
    });
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
        let _ = extract::envelope::segments(&String::from_utf8_lossy(input), [("x-note", input)]);
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
