//! Files inline in a request's JSON (`file_data`, `inlineData`, base64 document sources,
//! `data:` URLs): text files are decoded, scanned and encoded back after a redaction;
//! documents are read through the file extractors; images, audio and video are coverage.

use super::{Place, Prompt, Role, Segment};

/// Adds an inline file: a text file (by its media type, or by decoding to UTF-8 text when no
/// type is given) is decoded and scanned like any other text; anything else is recorded as
/// skipped, for file extraction to read.
pub fn push_file(p: &mut Prompt, role: Role, pointer: String, data: &str, media: Option<&str>) {
    let media = match data.strip_prefix("data:").and_then(|r| r.split_once(',')) {
        Some((head, _)) if head.ends_with(";base64") => Some(head.trim_end_matches(";base64")),
        _ => media,
    };
    let decoded = media
        .is_none_or(is_text_media)
        .then(|| decode_file(data))
        .flatten();
    if let Some(text) = decoded {
        return p.segments.push(Segment {
            role,
            pointer,
            text,
            place: Place::Base64,
        });
    }
    let media_kind = media.map(|m| m.split('/').next().unwrap_or("").to_ascii_lowercase());
    if matches!(media_kind.as_deref(), Some("image" | "audio" | "video")) {
        return p.skip(pointer, "image, audio or video");
    }
    // A document: its text is extracted (PDF, Office, archives) and scanned, not rewritten.
    let payload = match data.strip_prefix("data:").and_then(|r| r.split_once(',')) {
        Some((_, payload)) => payload,
        None => data,
    };
    let Some(bytes) = decode_base64(payload) else {
        p.skip(pointer, "inline file that is not base64");
        p.unreadable.get_or_insert("inline file that is not base64");
        return;
    };
    let mut budget = crate::extract::files::Budget::new(crate::extract::files::limits());
    let got = crate::extract::files::extract("inline file", &bytes, &mut budget);
    if !p.add_extracted(got, role, &pointer) {
        // The payload itself is read through its text; the walk leaves it alone.
        p.skip(pointer, "document read by its text");
    }
}

impl Prompt {
    /// Adds what the file extractors found in the file at `pointer`: each piece as a segment
    /// (`pointer#position`), each unread part as skipped, which makes the prompt uninspectable.
    /// Returns whether the file as a whole could not be read.
    pub fn add_extracted(
        &mut self,
        got: crate::extract::files::Extracted,
        role: Role,
        pointer: &str,
    ) -> bool {
        let at = |inner: &str| {
            if inner.is_empty() {
                pointer.to_string()
            } else {
                format!("{pointer}#{inner}")
            }
        };
        for piece in got.pieces {
            self.segments.push(Segment {
                role,
                pointer: at(&piece.at),
                text: piece.text,
                place: Place::File,
            });
        }
        let mut whole_unread = false;
        for (inner, why) in got.unread {
            whole_unread |= inner.is_empty();
            self.skip(at(&inner), why);
            self.unreadable.get_or_insert(why);
        }
        whole_unread
    }
}

/// Whether a media type names text that can be scanned as it is.
fn is_text_media(media: &str) -> bool {
    let m = media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    m.starts_with("text/")
        || matches!(
            m.as_str(),
            "application/json"
                | "application/xml"
                | "application/yaml"
                | "application/x-yaml"
                | "application/javascript"
                | "application/x-sh"
                | "application/sql"
                | "application/x-ndjson"
                | "application/csv"
        )
        || m.ends_with("+json")
        || m.ends_with("+xml")
}

/// The text of a base64 file payload (bare, or a `data:` URL): `None` unless it decodes to
/// UTF-8 text without NUL bytes.
pub fn decode_file(data: &str) -> Option<String> {
    let bytes = match data.strip_prefix("data:").and_then(|r| r.split_once(',')) {
        Some((head, payload)) if head.ends_with(";base64") => decode_base64(payload)?,
        // A data URL without `;base64` carries percent-encoded text.
        Some((_, payload)) => percent_encoding::percent_decode_str(payload).collect(),
        None => decode_base64(data)?,
    };
    String::from_utf8(bytes).ok().filter(|t| !t.contains('\0'))
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(&compact))
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&compact))
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&compact))
        .ok()
}

/// Encodes a redacted file text back into the form `original` had (a `data:` URL keeps its
/// header).
pub fn encode_file(original: &str, text: &str) -> String {
    use base64::Engine as _;
    let encoded = || base64::engine::general_purpose::STANDARD.encode(text);
    match original
        .strip_prefix("data:")
        .and_then(|r| r.split_once(','))
    {
        Some((head, _)) if head.ends_with(";base64") => format!("data:{head},{}", encoded()),
        Some((head, _)) => format!(
            "data:{head},{}",
            percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC)
        ),
        None => encoded(),
    }
}
