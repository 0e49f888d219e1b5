//! Checks that turn a regex match into a confirmed finding.
//!
//! Each validator is a pure function over the matched bytes, so it can be unit-tested with known
//! valid and invalid values and costs nothing unless a regex matched first.

use serde::Deserialize;

/// The validators a rule may name in its pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validator {
    /// Luhn mod-10 checksum over the digits (cards).
    Luhn,
    /// A PEM or OpenSSH private key block with a body of plausible length.
    PrivateKeyBlock,
}

impl Validator {
    /// The name reported in findings.
    pub fn name(self) -> &'static str {
        match self {
            Validator::Luhn => "luhn",
            Validator::PrivateKeyBlock => "private_key_block",
        }
    }

    /// Whether `value` passes this validator.
    pub fn check(self, value: &[u8]) -> bool {
        match self {
            Validator::Luhn => luhn(value),
            Validator::PrivateKeyBlock => private_key_block(value),
        }
    }
}

/// Luhn mod-10 over the ASCII digits of `value`; separators are skipped, anything else fails.
pub fn luhn(value: &[u8]) -> bool {
    let mut sum = 0u32;
    let mut count = 0usize;
    for &b in value.iter().rev() {
        match b {
            b'0'..=b'9' => {
                let mut d = u32::from(b - b'0');
                if count % 2 == 1 {
                    d *= 2;
                    if d > 9 {
                        d -= 9;
                    }
                }
                sum += d;
                count += 1;
            }
            b' ' | b'-' => {}
            _ => return false,
        }
    }
    count >= 2 && sum.is_multiple_of(10)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_known_valid_card_numbers() {
        for n in [
            "4111111111111111",
            "5500 0000 0000 0004",
            "3782-822463-10005",
            "6011111111111117",
        ] {
            assert!(luhn(n.as_bytes()), "{n}");
        }
    }

    #[test]
    fn luhn_rejects_a_changed_digit_and_garbage() {
        for n in [
            "4111111111111112",
            "1234567812345678",
            "41111x1111111111",
            "0",
        ] {
            assert!(!luhn(n.as_bytes()), "{n}");
        }
    }

    #[test]
    fn entropy_separates_random_from_repetitive() {
        assert!(shannon_entropy(b"aaaaaaaaaaaaaaaa") < 0.01);
        assert!(shannon_entropy(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY") > 4.0);
    }

    #[test]
    fn private_key_block_needs_matching_markers_and_a_body() {
        let body = "MIIEowIBAAKCAQEA".repeat(8);
        let good =
            format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----");
        assert!(private_key_block(good.as_bytes()));
        let mismatched =
            format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END EC PRIVATE KEY-----");
        assert!(!private_key_block(mismatched.as_bytes()));
        let short = "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----";
        assert!(!private_key_block(short.as_bytes()));
        let public = format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----");
        assert!(!private_key_block(public.as_bytes()));
    }
}
