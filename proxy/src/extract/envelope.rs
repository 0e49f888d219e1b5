//! What travels around the body: the query string and the request headers. The model does not
//! read them, but the provider receives them, so a credential there leaves all the same. The
//! provider's own credential headers, which must reach it, are not scanned.

use crate::providers::{Place, Role, Segment};

/// Headers whose values are the client's credentials for the provider (or its session with a
/// web app) and must pass as they are.
const CREDENTIALS: &[&str] = &[
    "api-key",
    "authorization",
    "cookie",
    "proxy-authorization",
    "x-amz-security-token",
    "x-api-key",
    "x-goog-api-key",
];

/// Protocol headers with a fixed syntax that carries no free text.
const PROTOCOL: &[&str] = &[
    "accept",
    "accept-encoding",
    "connection",
    "content-encoding",
    "content-length",
    "content-type",
    "host",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The query parameters that carry a provider's own credential: Gemini's API key travels as
/// `?key=` (browsers and the Live WebSocket cannot set a header), and must pass as it is.
pub fn credential_params(provider: &str) -> &'static [&'static str] {
    match provider {
        "gemini" => &["key"],
        _ => &[],
    }
}

/// One segment per query parameter (`query:NAME`, text `NAME=VALUE`) but the provider's
/// `credentials` ([`credential_params`]), and per header that is neither a credential nor a
/// protocol header (`header:NAME`, text `NAME: VALUE`).
pub fn segments<'a>(
    path_and_query: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    credentials: &[&str],
) -> Vec<Segment> {
    let mut out = Vec::new();
    if let Some((_, query)) = path_and_query.split_once('?') {
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            if credentials.contains(&k.as_ref()) {
                continue;
            }
            out.push(Segment {
                role: Role::Unknown,
                pointer: format!("query:{k}"),
                text: format!("{k}={v}"),
                place: Place::Query,
            });
        }
    }
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        if CREDENTIALS.contains(&lower.as_str()) || PROTOCOL.contains(&lower.as_str()) {
            continue;
        }
        out.push(Segment {
            role: Role::Unknown,
            pointer: format!("header:{lower}"),
            text: format!("{lower}: {}", String::from_utf8_lossy(value)),
            place: Place::Header,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_free_headers_are_segments_but_credentials_are_not() {
        let headers: Vec<(&str, &[u8])> = vec![
            ("Authorization", b"Bearer sk-live"),
            ("x-api-key", b"k"),
            ("Content-Type", b"application/json"),
            ("X-Note", b"deploy AKIAQWERTYUIOPASDFGH"),
            ("User-Agent", b"OpenAI/Python 1.0"),
        ];
        let s = segments("/v1/chat/completions?note=hello%20there&k=v", headers, &[]);
        let got: Vec<(&str, &str)> = s
            .iter()
            .map(|s| (s.pointer.as_str(), s.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("query:note", "note=hello there"),
                ("query:k", "k=v"),
                ("header:x-note", "x-note: deploy AKIAQWERTYUIOPASDFGH"),
                ("header:user-agent", "user-agent: OpenAI/Python 1.0"),
            ]
        );
        assert!(s.iter().all(|s| !s.for_classifier()));
    }
}
