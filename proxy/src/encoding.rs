//! Content-Encoding: decoding compressed bodies (gzip, deflate, br, zstd, and stacks of them)
//! for inspection, with a hard cap on the decoded size so a compression bomb costs nothing.

use std::io::Read;
use thiserror::Error;

/// Why a body could not be decoded.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("unsupported content-encoding `{0}`")]
    Unsupported(String),
    #[error("body is not valid {0}")]
    Corrupt(&'static str),
    #[error("decoded body exceeds {0} bytes")]
    TooLarge(usize),
}

fn read_capped(mut r: impl Read, cap: usize, name: &'static str) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    let n = r
        .by_ref()
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| DecodeError::Corrupt(name))?;
    if n > cap {
        return Err(DecodeError::TooLarge(cap));
    }
    Ok(out)
}

/// The encodings a message's `Content-Encoding` lines list, all of them joined in order
/// (a second line counts as much as the first: recipients decode both), without `identity`;
/// `None` when nothing is left to undo.
pub fn content_encoding(headers: &http::HeaderMap) -> Option<String> {
    // Most messages have none: no allocation for them (this runs on every request and answer).
    headers.get(http::header::CONTENT_ENCODING)?;
    let joined = headers
        .get_all(http::header::CONTENT_ENCODING)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect::<Vec<_>>()
        .join(",");
    let layers: Vec<&str> = joined
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"))
        .collect();
    (!layers.is_empty()).then(|| layers.join(", "))
}

/// Decodes `body` as described by a `Content-Encoding` value (`gzip`, `br, gzip`, ...),
/// undoing the listed encodings in reverse order. `identity` and empty values change nothing.
pub fn decode(header: &str, body: &[u8], cap: usize) -> Result<Vec<u8>, DecodeError> {
    let mut data = body.to_vec();
    for enc in header
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .rev()
    {
        data = match enc.as_str() {
            "" | "identity" => data,
            "gzip" | "x-gzip" => {
                read_capped(flate2::read::MultiGzDecoder::new(&data[..]), cap, "gzip")?
            }
            "deflate" => {
                // RFC 9110 deflate is zlib-wrapped; some servers send raw deflate.
                read_capped(flate2::read::ZlibDecoder::new(&data[..]), cap, "deflate").or_else(
                    |_| read_capped(flate2::read::DeflateDecoder::new(&data[..]), cap, "deflate"),
                )?
            }
            "br" => read_capped(
                brotli_decompressor::Decompressor::new(&data[..], 4096),
                cap,
                "br",
            )?,
            "zstd" => {
                let d = ruzstd::decoding::StreamingDecoder::new(&data[..])
                    .map_err(|_| DecodeError::Corrupt("zstd"))?;
                read_capped(d, cap, "zstd")?
            }
            other => return Err(DecodeError::Unsupported(other.to_string())),
        };
    }
    Ok(data)
}

/// The most one compressed chunk of a stream may decode to. A real SSE chunk of at most a few
/// tens of KiB decodes to well under this; a compression bomb (a few bytes that declare megabytes
/// of one repeated symbol) stops here instead of filling memory.
pub const MAX_PUSH_OUTPUT: usize = 4 << 20;

/// Decodes a compressed stream (an SSE answer) chunk by chunk, so it can be inspected as it
/// flows: one `gzip`, `deflate` or `br` layer (`None` for anything else).
pub struct StreamDecoder {
    inner: Box<dyn std::io::Write + Send>,
    out: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    name: &'static str,
}

/// A writer into a shared buffer, so the decoder's output can be taken after each write. It
/// refuses to hold more than [`MAX_PUSH_OUTPUT`] between takes.
struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let mut out = self
            .0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?;
        if out.len() + b.len() > MAX_PUSH_OUTPUT {
            return Err(std::io::Error::new(
                std::io::ErrorKind::OutOfMemory,
                "decoded chunk too large",
            ));
        }
        out.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl StreamDecoder {
    /// A decoder for a `Content-Encoding` value, if it is one stream-decodable layer.
    pub fn new(header: &str) -> Option<Self> {
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Shared(out.clone());
        let (inner, name): (Box<dyn std::io::Write + Send>, _) =
            match header.trim().to_ascii_lowercase().as_str() {
                "gzip" | "x-gzip" => (Box::new(flate2::write::MultiGzDecoder::new(sink)), "gzip"),
                "deflate" => (Box::new(flate2::write::ZlibDecoder::new(sink)), "deflate"),
                "br" => (
                    Box::new(brotli_decompressor::DecompressorWriter::new(sink, 4096)),
                    "br",
                ),
                _ => return None,
            };
        Some(StreamDecoder { inner, out, name })
    }

    /// Feeds compressed bytes; returns what they decoded to so far. A chunk that decodes to
    /// more than [`MAX_PUSH_OUTPUT`] is `TooLarge`, and the stream cannot go on.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<u8>, DecodeError> {
        let written = self
            .inner
            .write_all(chunk)
            .and_then(|()| self.inner.flush());
        let mut out = self
            .out
            .lock()
            .map_err(|_| DecodeError::Corrupt(self.name))?;
        match written {
            Ok(()) => Ok(std::mem::take(&mut *out)),
            Err(e) if e.kind() == std::io::ErrorKind::OutOfMemory => {
                out.clear();
                Err(DecodeError::TooLarge(MAX_PUSH_OUTPUT))
            }
            Err(_) => Err(DecodeError::Corrupt(self.name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_compressed_stream_decodes_piece_by_piece() {
        let text: Vec<u8> = (0..200)
            .flat_map(|i| format!("data: {{\"n\":{i}}}\n\n").into_bytes())
            .collect();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&text).unwrap();
        let mut b = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut b, 4096, 5, 22);
            w.write_all(&text).unwrap();
        }
        for (enc, body) in [
            ("gzip", gzip(&text)),
            ("deflate", z.finish().unwrap()),
            ("br", b),
        ] {
            let mut d = StreamDecoder::new(enc).unwrap();
            let mut got = Vec::new();
            for piece in body.chunks(7) {
                got.extend(d.push(piece).unwrap());
            }
            assert_eq!(got, text, "{enc}");
        }
        assert!(StreamDecoder::new("zstd").is_none() && StreamDecoder::new("gzip, br").is_none());
        assert!(StreamDecoder::new("gzip")
            .unwrap()
            .push(b"not gzip at all")
            .is_err());
    }

    #[test]
    fn a_compression_bomb_in_a_stream_stops_at_the_cap() {
        let bomb = gzip(&vec![b'a'; 64 << 20]);
        assert!(bomb.len() < 128 << 10, "{} bytes", bomb.len());
        let mut d = StreamDecoder::new("gzip").unwrap();
        assert_eq!(d.push(&bomb), Err(DecodeError::TooLarge(MAX_PUSH_OUTPUT)));
    }

    fn gzip(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn decodes_gzip_deflate_and_stacks() {
        let text = b"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        assert_eq!(decode("gzip", &gzip(text), 1 << 20).unwrap(), text);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(text).unwrap();
        assert_eq!(
            decode("deflate", &z.finish().unwrap(), 1 << 20).unwrap(),
            text
        );
        assert_eq!(
            decode("gzip, gzip", &gzip(&gzip(text)), 1 << 20).unwrap(),
            text
        );
        assert_eq!(decode("identity", text, 1 << 20).unwrap(), text);
    }

    #[test]
    fn a_compression_bomb_stops_at_the_cap() {
        let bomb = gzip(&vec![b'a'; 50 << 20]);
        assert!(bomb.len() < 200 << 10);
        assert_eq!(
            decode("gzip", &bomb, 1 << 20),
            Err(DecodeError::TooLarge(1 << 20))
        );
    }

    #[test]
    fn garbage_and_unknown_encodings_are_errors() {
        assert_eq!(
            decode("gzip", b"not gzip", 100),
            Err(DecodeError::Corrupt("gzip"))
        );
        assert_eq!(
            decode("compress", b"x", 100),
            Err(DecodeError::Unsupported("compress".into()))
        );
        assert!(decode("br", b"\xff\xff\xff", 100).is_err());
        assert!(decode("zstd", b"nope", 100).is_err());
    }
}
