//! A Server-Sent Events parser that works on bytes as they arrive.
//!
//! Handles lines split across chunks, `\n`, `\r\n` and lone `\r` line ends (a `\r` at the end of
//! a chunk waits for the next byte), multi-line `data:`, comments, and `[DONE]`. Each event keeps
//! its original bytes, so an event nobody changes is passed on exactly as received.

use bytes::{Bytes, BytesMut};

/// Largest event kept in memory; a longer one is passed through unparsed (see [`Piece::Raw`]).
pub const MAX_EVENT_BYTES: usize = 16 << 20;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The exact bytes of the event, blank line included.
    pub raw: Bytes,
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    pub id: Option<String>,
}

/// What the parser hands back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Event(Event),
    /// Bytes passed on without parsing: an over-long event, or a truncated tail at the end.
    Raw(Bytes),
}

/// Incremental parser state.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the event being read (all its lines so far, and a partial line).
    pending: BytesMut,
    /// Where in `pending` the current (incomplete) line starts.
    line_start: usize,
    event: Option<String>,
    data: Option<String>,
    id: Option<String>,
    /// The event is too long: its bytes are streamed raw until its end.
    oversized: bool,
}

impl SseParser {
    /// Feeds a chunk; returns every event it completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Piece> {
        let mut out = Vec::new();
        for &b in chunk {
            self.pending.extend_from_slice(&[b]);
            let len = self.pending.len();
            // A line ends at `\n`, or at a `\r` not followed by `\n` (seen once the next byte comes).
            let line_end = if b == b'\n' {
                let crlf = len >= 2 && self.pending[len - 2] == b'\r' && len - 2 >= self.line_start;
                Some(if crlf { len - 2 } else { len - 1 })
            } else if len >= 2 && self.pending[len - 2] == b'\r' && len - 2 >= self.line_start {
                // `\r` then something else: the line ended at the `\r`, this byte starts the next.
                let end = len - 2;
                self.end_line(end, len - 1, &mut out);
                continue;
            } else {
                None
            };
            if let Some(end) = line_end {
                self.end_line(end, len, &mut out);
            } else if self.pending.len() > MAX_EVENT_BYTES {
                self.oversized = true;
                out.push(Piece::Raw(self.pending.split().freeze()));
                self.line_start = 0;
            }
        }
        out
    }

    /// Handles a line `pending[line_start..end]`; the next line starts at `next`.
    fn end_line(&mut self, end: usize, next: usize, out: &mut Vec<Piece>) {
        let line = self.pending[self.line_start..end].to_vec();
        self.line_start = next;
        if line.is_empty() {
            if self.oversized {
                out.push(Piece::Raw(self.pending.split().freeze()));
                self.oversized = false;
            } else {
                let raw = self.pending.split_to(next).freeze();
                out.push(Piece::Event(Event {
                    raw,
                    event: self.event.take(),
                    data: self.data.take().unwrap_or_default(),
                    id: self.id.take(),
                }));
            }
            self.line_start = 0;
            self.event = None;
            self.data = None;
            self.id = None;
            return;
        }
        if self.oversized || line[0] == b':' {
            return;
        }
        let text = String::from_utf8_lossy(&line);
        let (field, value) = match text.find(':') {
            Some(i) => (
                &text[..i],
                text[i + 1..].strip_prefix(' ').unwrap_or(&text[i + 1..]),
            ),
            None => (&text[..], ""),
        };
        match field {
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            "event" => self.event = Some(value.to_string()),
            "id" => self.id = Some(value.to_string()),
            _ => {}
        }
    }

    /// The stream ended: whatever is left is a truncated event, returned raw.
    pub fn finish(&mut self) -> Option<Bytes> {
        self.line_start = 0;
        self.event = None;
        self.data = None;
        self.id = None;
        self.oversized = false;
        (!self.pending.is_empty()).then(|| self.pending.split().freeze())
    }
}

/// What is left in `parser` when the stream ends, as pieces: an unterminated last event is
/// ended (`\n\n`) and parsed, so it goes through inspection like every other event.
pub fn finish_events(parser: &mut SseParser) -> Vec<Piece> {
    match parser.finish() {
        None => Vec::new(),
        Some(rest) => SseParser::default().push(&[&rest[..], b"\n\n"].concat()),
    }
}

impl Event {
    /// Whether this is OpenAI's end-of-stream marker.
    pub fn is_done(&self) -> bool {
        self.data.trim() == "[DONE]"
    }

    /// Serializes an event with new data, keeping its name and id.
    pub fn encode(event: Option<&str>, id: Option<&str>, data: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 32);
        if let Some(e) = event {
            out.extend_from_slice(format!("event: {e}\n").as_bytes());
        }
        if let Some(i) = id {
            out.extend_from_slice(format!("id: {i}\n").as_bytes());
        }
        for line in data.split('\n') {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn events(pieces: &[Piece]) -> Vec<(Option<String>, String)> {
        pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Event(e) => Some((e.event.clone(), e.data.clone())),
                Piece::Raw(_) => None,
            })
            .collect()
    }

    const STREAM: &[u8] = b": keep-alive\n\nevent: message_start\ndata: {\"a\":1}\n\ndata: line one\r\ndata: line two\r\n\r\nid: 7\ndata: {\"b\":2}\r\rdata: [DONE]\n\n";

    #[test]
    fn parses_names_multiline_data_crlf_cr_and_comments() {
        let mut p = SseParser::default();
        let got = events(&p.push(STREAM));
        assert_eq!(
            got,
            [
                (None, String::new()),
                (Some("message_start".into()), "{\"a\":1}".into()),
                (None, "line one\nline two".into()),
                (None, "{\"b\":2}".into()),
                (None, "[DONE]".into()),
            ]
        );
        assert!(p.finish().is_none());
    }

    #[test]
    fn raw_bytes_of_all_events_reassemble_the_stream() {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        for piece in p.push(STREAM) {
            match piece {
                Piece::Event(e) => out.extend_from_slice(&e.raw),
                Piece::Raw(b) => out.extend_from_slice(&b),
            }
        }
        assert_eq!(out, STREAM);
    }

    #[test]
    fn a_truncated_tail_comes_back_raw() {
        let mut p = SseParser::default();
        assert!(events(&p.push(b"data: {\"x\":1}\n\ndata: {\"tru")).len() == 1);
        assert_eq!(p.finish().as_deref(), Some(&b"data: {\"tru"[..]));
    }

    proptest! {
        #[test]
        fn random_chunking_gives_the_same_events(cuts in prop::collection::vec(0usize..STREAM.len(), 0..12)) {
            let mut whole = SseParser::default();
            let expected = events(&whole.push(STREAM));
            let mut cuts = cuts;
            cuts.sort_unstable();
            let mut p = SseParser::default();
            let mut got = Vec::new();
            let mut at = 0;
            for c in cuts.into_iter().chain([STREAM.len()]) {
                got.extend(events(&p.push(&STREAM[at..c.max(at)])));
                at = c.max(at);
            }
            prop_assert_eq!(got, expected);
        }
    }
}
