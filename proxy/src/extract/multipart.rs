//! `multipart/form-data` bodies (file uploads), parsed with `multer`. The whole body is
//! already buffered (inspection reads bodies in full, up to `limits.max_body_bytes`), so the
//! parser's futures complete without waiting; they are polled once each.

use bytes::Bytes;
use std::future::Future;
use std::task::{Context, Poll, Waker};

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The form field name (`file`, `purpose`, ...).
    pub name: String,
    /// The file name, for file parts.
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// Why a multipart body could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MultipartError {
    #[error("multipart body without a boundary")]
    NoBoundary,
    #[error("malformed multipart body: {0}")]
    Malformed(String),
    #[error("multipart body with more than {0} parts")]
    TooManyParts(usize),
}

/// Polls a future that cannot wait (its input is all in memory).
fn now<F: Future>(f: F) -> Result<F::Output, MultipartError> {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Ok(v),
        Poll::Pending => Err(MultipartError::Malformed("incomplete body".into())),
    }
}

/// Parses a buffered `multipart/form-data` body, at most `max_parts` parts.
pub fn parse(
    content_type: &str,
    body: Bytes,
    max_parts: usize,
) -> Result<Vec<Part>, MultipartError> {
    let boundary = multer::parse_boundary(content_type).map_err(|_| MultipartError::NoBoundary)?;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    loop {
        let field = now(mp.next_field())?.map_err(|e| MultipartError::Malformed(e.to_string()))?;
        let Some(field) = field else { break };
        if parts.len() == max_parts {
            return Err(MultipartError::TooManyParts(max_parts));
        }
        let name = field.name().unwrap_or_default().to_string();
        let filename = field.file_name().map(str::to_string);
        let content_type = field.content_type().map(|m| m.to_string());
        let data = now(field.bytes())?.map_err(|e| MultipartError::Malformed(e.to_string()))?;
        parts.push(Part {
            name,
            filename,
            content_type,
            data,
        });
    }
    Ok(parts)
}

/// The boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    multer::parse_boundary(content_type).ok()
}

/// Serializes `parts` with `boundary` (after a redaction rewrote some of them): each part with
/// its name, file name and content type, as browsers and SDKs write them.
pub fn encode(boundary: &str, parts: &[Part]) -> Vec<u8> {
    // Quotes and line breaks in names are percent-encoded, as the HTML standard does.
    let quoted = |s: &str| {
        s.replace('"', "%22")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut disposition = format!(
            "Content-Disposition: form-data; name=\"{}\"",
            quoted(&part.name)
        );
        if let Some(f) = &part.filename {
            disposition.push_str(&format!("; filename=\"{}\"", quoted(f)));
        }
        out.extend_from_slice(disposition.as_bytes());
        out.extend_from_slice(b"\r\n");
        if let Some(ct) = &part.content_type {
            out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&part.data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: &[(&str, Option<&str>, &[u8])]) -> Bytes {
        let mut b = Vec::new();
        for (name, file, data) in parts {
            b.extend_from_slice(b"--XyZ\r\n");
            match file {
                Some(f) => b.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
                ),
                None => b.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            b.extend_from_slice(data);
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(b"--XyZ--\r\n");
        Bytes::from(b)
    }

    #[test]
    fn parts_come_back_with_names_files_and_bytes() {
        let b = body(&[
            ("purpose", None, b"assistants"),
            ("file", Some("a.yaml"), b"k: v\n"),
        ]);
        let parts = parse("multipart/form-data; boundary=XyZ", b, 10).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            (parts[0].name.as_str(), &parts[0].data[..]),
            ("purpose", &b"assistants"[..])
        );
        assert_eq!(parts[1].filename.as_deref(), Some("a.yaml"));
        assert_eq!(&parts[1].data[..], b"k: v\n");
    }

    #[test]
    fn encoded_parts_parse_back_the_same() {
        let b = body(&[
            ("purpose", None, b"assistants"),
            ("file", Some("a \"q\".txt"), b"k: v\n"),
        ]);
        let parts = parse("multipart/form-data; boundary=XyZ", b, 10).unwrap();
        let again = encode("XyZ", &parts);
        let back = parse("multipart/form-data; boundary=XyZ", Bytes::from(again), 10).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].data, parts[1].data);
        assert_eq!(back[0].name, "purpose");
    }

    #[test]
    fn bad_and_oversized_bodies_are_refused_clearly() {
        assert_eq!(
            parse("multipart/form-data", Bytes::from_static(b"x"), 10),
            Err(MultipartError::NoBoundary)
        );
        assert!(matches!(
            parse(
                "multipart/form-data; boundary=XyZ",
                Bytes::from_static(b"--XyZ\r\nnot a header"),
                10
            ),
            Err(MultipartError::Malformed(_))
        ));
        let many: Vec<(String, Option<&str>, &[u8])> = (0..20)
            .map(|i| (format!("f{i}"), None, &b"x"[..]))
            .collect();
        let refs: Vec<(&str, Option<&str>, &[u8])> =
            many.iter().map(|(n, f, d)| (n.as_str(), *f, *d)).collect();
        assert_eq!(
            parse("multipart/form-data; boundary=XyZ", body(&refs), 10),
            Err(MultipartError::TooManyParts(10))
        );
    }
}
