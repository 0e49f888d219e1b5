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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

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
