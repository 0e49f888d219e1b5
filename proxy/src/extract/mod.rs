//! Request bodies as texts: JSON in any Unicode encoding, forms, other text bodies, and the
//! parts of a request around its body (query string, headers). What cannot be read at all is
//! said so, and the tenant's `on_uninspectable` decides; nothing unread is called clean.

pub mod envelope;
pub mod files;
pub mod form;
pub mod multipart;
mod office;
#[doc(hidden)]
pub mod samples;
pub mod text;

use serde_json::Value;

/// A request body, read.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// No body (a `GET`, a thread read).
    Empty,
    /// A JSON document; `transcoded` when it was not plain UTF-8 (a BOM, UTF-16 or UTF-32),
    /// so a rewritten body goes upstream as UTF-8.
    Json { value: Value, transcoded: bool },
    /// `application/x-www-form-urlencoded` fields, in order.
    Form(Vec<(String, String)>),
    /// Any other body that decodes as text, scanned whole.
    Text { text: String, transcoded: bool },
    /// A `multipart/form-data` body (file uploads): its parts, read by [`files`], and its
    /// boundary (a rewritten body keeps it, so the content type still holds).
    Multipart {
        boundary: String,
        parts: Vec<multipart::Part>,
    },
    /// A body that is not text: a file (PDF, Office, zip) for [`files`] to read.
    File(bytes::Bytes),
    /// A body that cannot be read (binary, an undeclared encoding): why.
    Unreadable(&'static str),
}

/// Why a body could not be taken as what it says it is.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReadError {
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
}

/// Reads `body` by its `content_type` (and its first bytes, when the type says nothing).
pub fn read(content_type: Option<&str>, body: &[u8]) -> Result<Body, ReadError> {
    if body.is_empty() {
        return Ok(Body::Empty);
    }
    let ct = content_type.unwrap_or_default().to_ascii_lowercase();
    if ct.starts_with("multipart/form-data") {
        let max = files::limits().max_parts;
        return Ok(read_multipart(content_type.unwrap_or_default(), body, max));
    }
    // JSON travels as UTF-8 (RFC 8259) and providers' parsers read its bytes whatever charset
    // the header claims, so a claimed charset must not make PromptWall read other text than
    // they do; UTF-16 and UTF-32 JSON are still told by their byte-order mark or zero bytes.
    let declared = if ct.contains("json") {
        ct.split(';').next().unwrap_or_default()
    } else {
        ct.as_str()
    };
    let Some((decoded, transcoded)) = text::decode(declared, body) else {
        // A raw file upload (Gemini's resumable upload, a PUT of a document): read by the
        // file extractors, which say what they cannot read.
        return Ok(Body::File(bytes::Bytes::copy_from_slice(body)));
    };
    let json = ct.contains("json") || decoded.trim_start().starts_with(['{', '[']);
    if json {
        let value =
            serde_json::from_str(&decoded).map_err(|e| ReadError::MalformedJson(e.to_string()))?;
        return Ok(Body::Json { value, transcoded });
    }
    if ct.starts_with("application/x-www-form-urlencoded") {
        return Ok(Body::Form(form::parse(&decoded)));
    }
    Ok(Body::Text {
        text: decoded.into_owned(),
        transcoded,
    })
}

/// A multipart body's parts, or why it cannot be read (which `on_uninspectable` decides).
pub fn read_multipart(content_type: &str, body: &[u8], max_parts: usize) -> Body {
    let boundary = multipart::boundary(content_type).unwrap_or_default();
    match multipart::parse(content_type, bytes::Bytes::copy_from_slice(body), max_parts) {
        Ok(parts) => Body::Multipart { boundary, parts },
        Err(multipart::MultipartError::TooManyParts(_)) => {
            Body::Unreadable("multipart body with more parts than the limit")
        }
        Err(_) => Body::Unreadable("multipart body that does not parse"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_read_as_what_they_are() {
        assert_eq!(read(None, b"").unwrap(), Body::Empty);
        assert!(matches!(
            read(Some("application/json"), b"{\"a\":1}").unwrap(),
            Body::Json {
                transcoded: false,
                ..
            }
        ));
        // JSON without a JSON content type is still JSON.
        assert!(matches!(
            read(Some("text/plain"), b"  [1]").unwrap(),
            Body::Json { .. }
        ));
        let bom = [&[0xEF, 0xBB, 0xBF][..], b"{\"a\":\"b\"}"].concat();
        assert!(matches!(
            read(Some("application/json"), &bom).unwrap(),
            Body::Json {
                transcoded: true,
                ..
            }
        ));
        assert_eq!(
            read(Some("application/x-www-form-urlencoded"), b"a=1&b=x+y").unwrap(),
            Body::Form(vec![("a".into(), "1".into()), ("b".into(), "x y".into())])
        );
        assert_eq!(
            read(Some("text/plain"), b"hello").unwrap(),
            Body::Text {
                text: "hello".into(),
                transcoded: false
            }
        );
        // A charset claim on JSON does not change what its bytes say: an odd-length UTF-8
        // body "declared" UTF-16 or Latin-1 is read as the UTF-8 providers parse.
        for claim in ["utf-16le", "latin1"] {
            let ct = format!("application/json; charset={claim}");
            let got = read(Some(&ct), "{\"t\":\"caf\u{e9} key\"} ".as_bytes()).unwrap();
            let Body::Json { value, .. } = got else {
                panic!("{claim}: not read as JSON: {got:?}")
            };
            assert_eq!(value["t"], "caf\u{e9} key", "{claim}");
        }
        // UTF-16 JSON is still told by its zero bytes.
        let wide: Vec<u8> = "{\"t\":\"x\"}"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert!(matches!(
            read(Some("application/json; charset=utf-16le"), &wide).unwrap(),
            Body::Json {
                transcoded: true,
                ..
            }
        ));
        // Binary: a file for the extractors (which report what they cannot read).
        assert!(matches!(
            read(Some("application/octet-stream"), &[0, 159, 146, 150, 0, 1]).unwrap(),
            Body::File(_)
        ));
        assert!(matches!(
            read(Some("multipart/form-data; boundary=b"), b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--\r\n").unwrap(),
            Body::Multipart { ref boundary, ref parts } if boundary == "b" && parts.len() == 1
        ));
        assert!(matches!(
            read(Some("application/json"), b"{\"a\":"),
            Err(ReadError::MalformedJson(_))
        ));
    }
}
