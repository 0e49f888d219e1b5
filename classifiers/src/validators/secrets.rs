//! Secrets: token structure, key blocks and randomness.

use base64::Engine as _;

/// JWT: three base64url segments; the header decodes to a JSON object with `alg`.
pub fn jwt(value: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(value) else {
        return false;
    };
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 3 || parts[0].len() < 10 || parts[1].is_empty() {
        return false;
    }
    let Ok(header) =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[0].trim_end_matches('='))
    else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&header)
        .is_ok_and(|v| v.get("alg").is_some_and(|a| a.is_string()))
}

/// Shannon entropy in bits per byte, the classic signal for random-looking secrets.
pub fn shannon_entropy(value: &[u8]) -> f64 {
    if value.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in value {
        counts[b as usize] += 1;
    }
    let len = value.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// A private key block: BEGIN and END markers that agree, and a base64 body long enough to be a
/// key rather than a documentation snippet.
pub fn private_key_block(value: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(value) else {
        return false;
    };
    let Some(rest) = text.strip_prefix("-----BEGIN ") else {
        return false;
    };
    let Some(label_end) = rest.find("-----") else {
        return false;
    };
    let label = &rest[..label_end];
    if !label.ends_with("PRIVATE KEY") {
        return false;
    }
    let end_marker = format!("-----END {label}-----");
    let Some(body_end) = rest.find(&end_marker) else {
        return false;
    };
    let body = &rest[label_end + 5..body_end];
    let b64 = body
        .bytes()
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        .count();
    // Headers such as `Proc-Type:` may precede the body; the key material itself is long.
    b64 >= 64
}
