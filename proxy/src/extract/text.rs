//! Bytes to text: UTF-8 (with or without a BOM), UTF-16 and UTF-32 (by BOM, by a declared
//! charset, or for JSON by the RFC 4627 pattern of zero bytes), and Latin-1 when declared.
//! A body in none of these is not text; the caller says so instead of guessing.

use std::borrow::Cow;

/// The text of `body` and whether it had to be transcoded; `None` when it is not text.
/// `content_type` is lower-cased.
pub fn decode<'a>(content_type: &str, body: &'a [u8]) -> Option<(Cow<'a, str>, bool)> {
    let charset = content_type
        .split(';')
        .skip(1)
        .filter_map(|p| p.trim().strip_prefix("charset="))
        .map(|c| c.trim_matches('"'))
        .next()
        .unwrap_or_default();
    // A byte-order mark says it all.
    if let Some(rest) = body.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return std::str::from_utf8(rest)
            .ok()
            .map(|s| (Cow::Borrowed(s), true));
    }
    if let Some(rest) = body.strip_prefix(&[0xFF, 0xFE, 0, 0]) {
        return utf32(rest, false).map(|s| (Cow::Owned(s), true));
    }
    if let Some(rest) = body.strip_prefix(&[0, 0, 0xFE, 0xFF]) {
        return utf32(rest, true).map(|s| (Cow::Owned(s), true));
    }
    if let Some(rest) = body.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, false).map(|s| (Cow::Owned(s), true));
    }
    if let Some(rest) = body.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, true).map(|s| (Cow::Owned(s), true));
    }
    let owned = |s: Option<String>| s.map(|s| (Cow::Owned(s), true));
    match charset {
        "utf-16le" => return owned(utf16(body, false)),
        "utf-16be" | "utf-16" => return owned(utf16(body, true)),
        "utf-32le" => return owned(utf32(body, false)),
        "utf-32be" | "utf-32" => return owned(utf32(body, true)),
        "iso-8859-1" | "latin1" | "latin-1" | "us-ascii" => {
            return Some((
                Cow::Owned(body.iter().map(|&b| char::from(b)).collect()),
                true,
            ))
        }
        _ => {}
    }
    // JSON's first two characters are ASCII, so zero bytes among the first four tell UTF-16
    // and UTF-32 apart from UTF-8 (RFC 4627, section 3).
    if body.len() >= 4 {
        let z: Vec<bool> = body[..4].iter().map(|&b| b == 0).collect();
        match z.as_slice() {
            [true, true, true, false] => return owned(utf32(body, true)),
            [false, true, true, true] => return owned(utf32(body, false)),
            [true, false, true, false] => return owned(utf16(body, true)),
            [false, true, false, true] => return owned(utf16(body, false)),
            _ => {}
        }
    }
    std::str::from_utf8(body)
        .ok()
        .filter(|s| !s.contains('\0'))
        .map(|s| (Cow::Borrowed(s), false))
}

fn utf16(b: &[u8], big_endian: bool) -> Option<String> {
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let units = b.chunks_exact(2).map(|c| {
        if big_endian {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_le_bytes([c[0], c[1]])
        }
    });
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

fn utf32(b: &[u8], big_endian: bool) -> Option<String> {
    if !b.len().is_multiple_of(4) {
        return None;
    }
    b.chunks_exact(4)
        .map(|c| {
            let n = if big_endian {
                u32::from_be_bytes([c[0], c[1], c[2], c[3]])
            } else {
                u32::from_le_bytes([c[0], c[1], c[2], c[3]])
            };
            char::from_u32(n)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encodings(s: &str) -> Vec<(&'static str, Vec<u8>, &'static str)> {
        let le16: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be16: Vec<u8> = s.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let le32: Vec<u8> = s.chars().flat_map(|c| (c as u32).to_le_bytes()).collect();
        let be32: Vec<u8> = s.chars().flat_map(|c| (c as u32).to_be_bytes()).collect();
        vec![
            (
                "utf-8 bom",
                [&[0xEF, 0xBB, 0xBF][..], s.as_bytes()].concat(),
                "",
            ),
            ("utf-16le bom", [&[0xFF, 0xFE][..], &le16].concat(), ""),
            ("utf-16be bom", [&[0xFE, 0xFF][..], &be16].concat(), ""),
            (
                "utf-32le bom",
                [&[0xFF, 0xFE, 0, 0][..], &le32].concat(),
                "",
            ),
            (
                "utf-32be bom",
                [&[0, 0, 0xFE, 0xFF][..], &be32].concat(),
                "",
            ),
            ("utf-16le sniffed", le16.clone(), ""),
            ("utf-16be sniffed", be16.clone(), ""),
            ("utf-32le sniffed", le32.clone(), ""),
            ("utf-32be sniffed", be32, ""),
            ("utf-16le declared", le16, "text/plain; charset=utf-16le"),
        ]
    }

    #[test]
    fn json_in_every_unicode_encoding_decodes_to_the_same_text() {
        let json = r#"{"messages":[{"role":"user","content":"key AKIAQWERTYUIOPASDFGH ünï"}]}"#;
        for (name, bytes, ct) in encodings(json) {
            let (text, transcoded) = decode(ct, &bytes).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(text, json, "{name}");
            assert!(transcoded, "{name}");
        }
        assert_eq!(
            decode("", json.as_bytes()).unwrap(),
            (Cow::Borrowed(json), false)
        );
    }

    #[test]
    fn binary_is_not_text() {
        assert!(decode("", &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]).is_none());
        assert!(decode("", b"abc\0def").is_none(), "a NUL is not text");
        assert!(
            decode("text/plain; charset=utf-16le", &[0x41]).is_none(),
            "odd length"
        );
        assert_eq!(
            decode("text/plain; charset=iso-8859-1", &[0x63, 0x61, 0x66, 0xE9])
                .unwrap()
                .0,
            "café"
        );
    }
}
