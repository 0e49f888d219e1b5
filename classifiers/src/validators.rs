//! Checks that turn a regex match into a confirmed finding.
//!
//! Each validator is a pure function over the matched bytes, so it can be unit-tested with known
//! valid and invalid values, and it costs nothing unless a regex matched first. Separators
//! (spaces, dashes, dots) inside numbers are ignored where the format allows them.

use base64::Engine as _;
use serde::Deserialize;

/// The validators a rule may name in its pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validator {
    /// Luhn mod-10 over the digits.
    Luhn,
    /// Luhn plus the issuer (IIN) ranges and lengths of the major card networks.
    CreditCard,
    /// Canada Social Insurance Number: Luhn over 9 digits, valid first digit.
    CaSin,
    /// IBAN: known country, its exact length, and mod-97 = 1.
    Iban,
    /// US ABA routing number checksum and prefix ranges.
    AbaRouting,
    /// US SSN area, group and serial rules.
    UsSsn,
    /// India Aadhaar: 12 digits, Verhoeff checksum.
    Aadhaar,
    /// Brazil CPF check digits.
    BrCpf,
    /// Brazil CNPJ check digits.
    BrCnpj,
    /// Spain DNI or NIE control letter.
    EsDniNie,
    /// UK National Insurance number format (prefix and suffix rules).
    UkNino,
    /// France NIR (social security number) key.
    FrNir,
    /// Italy codice fiscale check character.
    ItCodiceFiscale,
    /// US DEA registration number checksum.
    Dea,
    /// US National Provider Identifier (Luhn with the 80840 prefix).
    Npi,
    /// JWT: three base64url parts, and a header that decodes to JSON with `alg`.
    Jwt,
    /// A PEM or OpenSSH private key block with a body of plausible length.
    PrivateKeyBlock,
}

impl Validator {
    /// The name reported in findings.
    pub fn name(self) -> &'static str {
        match self {
            Validator::Luhn => "luhn",
            Validator::CreditCard => "credit_card",
            Validator::CaSin => "ca_sin",
            Validator::Iban => "iban",
            Validator::AbaRouting => "aba_routing",
            Validator::UsSsn => "us_ssn",
            Validator::Aadhaar => "aadhaar",
            Validator::BrCpf => "br_cpf",
            Validator::BrCnpj => "br_cnpj",
            Validator::EsDniNie => "es_dni_nie",
            Validator::UkNino => "uk_nino",
            Validator::FrNir => "fr_nir",
            Validator::ItCodiceFiscale => "it_codice_fiscale",
            Validator::Dea => "dea",
            Validator::Npi => "npi",
            Validator::Jwt => "jwt",
            Validator::PrivateKeyBlock => "private_key_block",
        }
    }

    /// Whether `value` passes this validator.
    pub fn check(self, value: &[u8]) -> bool {
        match self {
            Validator::Luhn => digits(value).is_some_and(|d| luhn_digits(&d)),
            Validator::CreditCard => credit_card(value),
            Validator::CaSin => ca_sin(value),
            Validator::Iban => iban(value),
            Validator::AbaRouting => aba_routing(value),
            Validator::UsSsn => us_ssn(value),
            Validator::Aadhaar => aadhaar(value),
            Validator::BrCpf => br_cpf(value),
            Validator::BrCnpj => br_cnpj(value),
            Validator::EsDniNie => es_dni_nie(value),
            Validator::UkNino => uk_nino(value),
            Validator::FrNir => fr_nir(value),
            Validator::ItCodiceFiscale => it_codice_fiscale(value),
            Validator::Dea => dea(value),
            Validator::Npi => npi(value),
            Validator::Jwt => jwt(value),
            Validator::PrivateKeyBlock => private_key_block(value),
        }
    }
}

/// The digits of `value`, skipping spaces, dashes and dots; `None` if anything else appears.
fn digits(value: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(value.len());
    for &b in value {
        match b {
            b'0'..=b'9' => out.push(b - b'0'),
            b' ' | b'-' | b'.' | b'/' => {}
            _ => return None,
        }
    }
    Some(out)
}

fn luhn_digits(d: &[u8]) -> bool {
    if d.len() < 2 {
        return false;
    }
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let mut v = u32::from(x);
            if i % 2 == 1 {
                v *= 2;
                if v > 9 {
                    v -= 9;
                }
            }
            v
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Luhn mod-10 over the digits of `value`; separators are skipped, anything else fails.
pub fn luhn(value: &[u8]) -> bool {
    digits(value).is_some_and(|d| luhn_digits(&d))
}

fn prefix_num(d: &[u8], n: usize) -> u32 {
    d.iter().take(n).fold(0, |acc, &x| acc * 10 + u32::from(x))
}

/// Payment card: Luhn, and an issuer range whose lengths include this one.
pub fn credit_card(value: &[u8]) -> bool {
    let Some(d) = digits(value) else { return false };
    let len = d.len();
    if !(12..=19).contains(&len) || !luhn_digits(&d) || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let (p1, p2, p3, p4, p6) = (
        prefix_num(&d, 1),
        prefix_num(&d, 2),
        prefix_num(&d, 3),
        prefix_num(&d, 4),
        prefix_num(&d, 6),
    );
    let visa = p1 == 4 && matches!(len, 13 | 16 | 19);
    let mastercard = ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && len == 16;
    let amex = (p2 == 34 || p2 == 37) && len == 15;
    let discover =
        (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622126..=622925).contains(&p6))
            && (16..=19).contains(&len);
    // JCB: 3528–3589 today; the whole 35 block and legacy 15-digit 1800/2131 are still seen.
    let jcb = (p2 == 35 && (16..=19).contains(&len)) || ((p4 == 1800 || p4 == 2131) && len == 15);
    let diners =
        ((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39) && (14..=19).contains(&len);
    let unionpay = p2 == 62 && (16..=19).contains(&len);
    let maestro = matches!(
        p4,
        5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761 | 6762 | 6763
    ) && (12..=19).contains(&len);
    visa || mastercard || amex || discover || jcb || diners || unionpay || maestro
}

/// Canada SIN: 9 digits, Luhn, first digit not 0 or 8.
pub fn ca_sin(value: &[u8]) -> bool {
    digits(value).is_some_and(|d| d.len() == 9 && d[0] != 0 && d[0] != 8 && luhn_digits(&d))
}

/// IBAN lengths by country (ISO 13616 registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

/// IBAN: known country and length, and the mod-97 check (ISO 7064).
pub fn iban(value: &[u8]) -> bool {
    let s: Vec<u8> = value
        .iter()
        .copied()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if s.len() < 15 || !s.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let country = std::str::from_utf8(&s[..2]).unwrap_or_default();
    if !IBAN_LENGTHS
        .iter()
        .any(|(c, l)| *c == country && *l == s.len())
        || !s[2..4].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let mut rem: u32 = 0;
    for &b in s[4..].iter().chain(&s[..4]) {
        if b.is_ascii_digit() {
            rem = (rem * 10 + u32::from(b - b'0')) % 97;
        } else {
            rem = (rem * 100 + u32::from(b - b'A' + 10)) % 97;
        }
    }
    rem == 1
}

/// US ABA routing number: weights 3-7-1 and a Federal Reserve prefix range.
pub fn aba_routing(value: &[u8]) -> bool {
    let Some(d) = digits(value) else { return false };
    if d.len() != 9 {
        return false;
    }
    let prefix = prefix_num(&d, 2);
    if !matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80) || d.iter().all(|&x| x == 0) {
        return false;
    }
    let w = [3u32, 7, 1];
    d.iter()
        .enumerate()
        .map(|(i, &x)| u32::from(x) * w[i % 3])
        .sum::<u32>()
        .is_multiple_of(10)
}

/// US SSN: area not 000, 666 or 9xx; group not 00; serial not 0000; not a famous sample number.
pub fn us_ssn(value: &[u8]) -> bool {
    let Some(d) = digits(value) else { return false };
    if d.len() != 9 {
        return false;
    }
    let (area, group, serial) = (
        prefix_num(&d, 3),
        prefix_num(&d[3..], 2),
        prefix_num(&d[5..], 4),
    );
    let n = prefix_num(&d, 9);
    area != 0
        && area != 666
        && area < 900
        && group != 0
        && serial != 0
        && !matches!(n, 78_051_120 | 219_099_999 | 123_456_789)
}

const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Verhoeff checksum (dihedral group D5) over a digit string, check digit included.
pub fn verhoeff(d: &[u8]) -> bool {
    let mut c = 0u8;
    for (i, &x) in d.iter().rev().enumerate() {
        c = VERHOEFF_D[c as usize][VERHOEFF_P[i % 8][x as usize] as usize];
    }
    c == 0
}

/// India Aadhaar: 12 digits, not starting with 0 or 1, Verhoeff-valid.
pub fn aadhaar(value: &[u8]) -> bool {
    digits(value).is_some_and(|d| d.len() == 12 && d[0] >= 2 && verhoeff(&d))
}

fn mod11_digit(d: &[u8], weights: &[u32]) -> u8 {
    let s: u32 = d.iter().zip(weights).map(|(&x, &w)| u32::from(x) * w).sum();
    let r = s % 11;
    if r < 2 {
        0
    } else {
        (11 - r) as u8
    }
}

/// Brazil CPF: 11 digits, not all equal, two mod-11 check digits.
pub fn br_cpf(value: &[u8]) -> bool {
    let Some(d) = digits(value) else { return false };
    if d.len() != 11 || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    mod11_digit(&d[..9], &[10, 9, 8, 7, 6, 5, 4, 3, 2]) == d[9]
        && mod11_digit(&d[..10], &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2]) == d[10]
}

/// Brazil CNPJ: 14 digits, not all equal, two mod-11 check digits.
pub fn br_cnpj(value: &[u8]) -> bool {
    let Some(d) = digits(value) else { return false };
    if d.len() != 14 || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    mod11_digit(&d[..12], &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]) == d[12]
        && mod11_digit(&d[..13], &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]) == d[13]
}

/// Spain DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter).
pub fn es_dni_nie(value: &[u8]) -> bool {
    const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let s: Vec<u8> = value
        .iter()
        .copied()
        .filter(|b| *b != b'-' && *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if s.len() != 9 {
        return false;
    }
    let lead = match s[0] {
        b'X' => 0,
        b'Y' => 1,
        b'Z' => 2,
        b'0'..=b'9' => u32::from(s[0] - b'0'),
        _ => return false,
    };
    if !s[1..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n = s[1..8]
        .iter()
        .fold(lead, |acc, &b| acc * 10 + u32::from(b - b'0'));
    LETTERS[(n % 23) as usize] == s[8]
}

/// UK National Insurance number: two prefix letters (with the excluded letters and pairs),
/// six digits, suffix A–D.
pub fn uk_nino(value: &[u8]) -> bool {
    let s: Vec<u8> = value
        .iter()
        .copied()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if s.len() != 9 || !s[2..8].iter().all(u8::is_ascii_digit) || !(b'A'..=b'D').contains(&s[8]) {
        return false;
    }
    let (a, b) = (s[0], s[1]);
    if !a.is_ascii_uppercase()
        || !b.is_ascii_uppercase()
        || b"DFIQUV".contains(&a)
        || b"DFIOQUV".contains(&b)
    {
        return false;
    }
    !matches!(
        &s[..2],
        b"BG" | b"GB" | b"KN" | b"NK" | b"NT" | b"TN" | b"ZZ"
    )
}

/// France NIR: 13 characters (Corsica 2A/2B allowed) and a key of 97 - (number mod 97).
pub fn fr_nir(value: &[u8]) -> bool {
    let s: Vec<u8> = value
        .iter()
        .copied()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if s.len() != 15 || !matches!(s[0], b'1' | b'2' | b'7' | b'8') {
        return false;
    }
    let mut body = s[..13].to_vec();
    let corsica = match &body[5..7] {
        b"2A" => Some(19),
        b"2B" => Some(18),
        _ => None,
    };
    if let Some(code) = corsica {
        body[5] = b'0' + code / 10;
        body[6] = b'0' + code % 10;
    }
    if !body.iter().all(u8::is_ascii_digit) || !s[13..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n = body
        .iter()
        .fold(0u64, |acc, &b| acc * 10 + u64::from(b - b'0'));
    let key = u64::from(s[13] - b'0') * 10 + u64::from(s[14] - b'0');
    key == 97 - (n % 97)
}

/// Italy codice fiscale: 16 characters with the odd/even-position check character.
pub fn it_codice_fiscale(value: &[u8]) -> bool {
    const ODD: [u32; 36] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // 0-9
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23, // A-Z
    ];
    let s: Vec<u8> = value.iter().map(|b| b.to_ascii_uppercase()).collect();
    if s.len() != 16 || !s.iter().all(u8::is_ascii_alphanumeric) || !s[15].is_ascii_uppercase() {
        return false;
    }
    let idx = |b: u8| {
        if b.is_ascii_digit() {
            (b - b'0') as usize
        } else {
            (b - b'A') as usize + 10
        }
    };
    let sum: u32 = s[..15]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if i % 2 == 0 {
                ODD[idx(b)]
            } else if b.is_ascii_digit() {
                u32::from(b - b'0')
            } else {
                u32::from(b - b'A')
            }
        })
        .sum();
    s[15] == b'A' + (sum % 26) as u8
}

/// US DEA number: two letters, seven digits, (d1+d3+d5) + 2(d2+d4+d6) ends in d7.
pub fn dea(value: &[u8]) -> bool {
    let s: Vec<u8> = value.iter().map(|b| b.to_ascii_uppercase()).collect();
    if s.len() != 9
        || !b"ABCDEFGHJKLMPRSTUX".contains(&s[0])
        || !s[1].is_ascii_alphabetic()
        || !s[2..].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let d: Vec<u32> = s[2..].iter().map(|b| u32::from(b - b'0')).collect();
    (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]
}

/// US NPI: 10 digits starting with 1 or 2, Luhn-valid with the 80840 prefix.
pub fn npi(value: &[u8]) -> bool {
    let Some(d) = digits(value) else { return false };
    if d.len() != 10 || !(d[0] == 1 || d[0] == 2) {
        return false;
    }
    let mut full = vec![8, 0, 8, 4, 0];
    full.extend_from_slice(&d);
    luhn_digits(&full)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn table(v: Validator, good: &[&str], bad: &[&str]) {
        for g in good {
            assert!(v.check(g.as_bytes()), "{} should accept {g}", v.name());
        }
        for b in bad {
            assert!(!v.check(b.as_bytes()), "{} should reject {b}", v.name());
        }
    }

    #[test]
    fn luhn_accepts_valid_and_rejects_a_changed_digit() {
        table(
            Validator::Luhn,
            &["4111111111111111", "79927398713"],
            &["4111111111111112", "79927398710", "0", "12a4"],
        );
    }

    #[test]
    fn credit_cards_need_luhn_and_a_known_issuer_range() {
        table(
            Validator::CreditCard,
            &[
                "4111 1111 1111 1111",
                "5500-0000-0000-0004",
                "2223000048400011",
                "378282246310005",
                "6011111111111117",
                "3530111333300000",
                "36227206271667",
                "6200000000000005",
            ],
            &[
                "4111111111111112",
                "1234567812345670",
                "9111111111111111",
                "0000000000000000",
                "37828224631000",
            ],
        );
    }

    #[test]
    fn canada_sin() {
        table(
            Validator::CaSin,
            &["271 828 188", "130-692-544"],
            &["271828189", "046454286", "846454286", "12345678"],
        );
    }

    #[test]
    fn iban_mod97_and_country_length() {
        table(
            Validator::Iban,
            &[
                "GB82 WEST 1234 5698 7654 32",
                "DE89370400440532013000",
                "FR1420041010050500013M02606",
                "NL91ABNA0417164300",
            ],
            &[
                "GB82 WEST 1234 5698 7654 33",
                "DE8937040044053201300",
                "XX89370400440532013000",
                "NL91ABNA041716430",
            ],
        );
    }

    #[test]
    fn aba_routing() {
        table(
            Validator::AbaRouting,
            &["011000015", "021000021", "121000358"],
            &["011000016", "991000015", "000000000"],
        );
    }

    #[test]
    fn us_ssn_area_group_serial() {
        table(
            Validator::UsSsn,
            &["536-90-4399", "123-45-6780"],
            &[
                "000-12-3456",
                "666-12-3456",
                "912-12-3456",
                "123-00-4567",
                "123-45-0000",
                "078-05-1120",
                "123-45-6789",
            ],
        );
    }

    #[test]
    fn aadhaar_verhoeff() {
        table(
            Validator::Aadhaar,
            &["2345 6789 0124", "4991 1866 5246"],
            &["2345 6789 0123", "1234 5678 9012", "23456789012"],
        );
    }

    #[test]
    fn brazil_cpf_and_cnpj() {
        table(
            Validator::BrCpf,
            &["529.982.247-25", "11144477735"],
            &["529.982.247-26", "111.111.111-11", "1234567890"],
        );
        table(
            Validator::BrCnpj,
            &["11.222.333/0001-81", "11444777000161"],
            &["11.222.333/0001-82", "00000000000000"],
        );
    }

    #[test]
    fn spain_dni_and_nie() {
        table(
            Validator::EsDniNie,
            &["12345678Z", "X1234567L", "Y0000000Z"],
            &["12345678A", "X1234567A", "W1234567L", "1234567Z"],
        );
    }

    #[test]
    fn uk_nino_format() {
        table(
            Validator::UkNino,
            &["AB123456C", "ab 12 34 56 c", "JG103759A"],
            &[
                "BG123456C",
                "DA123456C",
                "AO123456C",
                "AB123456E",
                "AB12345C",
            ],
        );
    }

    #[test]
    fn france_nir_key() {
        table(
            Validator::FrNir,
            &["2 55 08 14 168 025 38", "1 78 03 2A 123 456 53"],
            &["2 55 08 14 168 025 39", "3 55 08 14 168 025 38"],
        );
    }

    #[test]
    fn italy_codice_fiscale() {
        table(
            Validator::ItCodiceFiscale,
            &["RSSMRA85T10A562S", "MRTMTT91D08F205J"],
            &["RSSMRA85T10A562T", "RSSMRA85T10A56", "RSSMRA85T10A5621"],
        );
    }

    #[test]
    fn dea_and_npi() {
        table(
            Validator::Dea,
            &["AB1234563", "BJ6125341"],
            &["AB1234564", "IB1234563", "AB123456"],
        );
        table(
            Validator::Npi,
            &["1234567893", "1245319599"],
            &["1234567890", "3234567893", "123456789"],
        );
    }

    #[test]
    fn jwt_structure() {
        table(
            Validator::Jwt,
            &["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"],
            &["eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.sig", "abc.def.ghi", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0"],
        );
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
