//! Checks that turn a regex match into a confirmed finding.
//!
//! Each validator is a pure function over the matched bytes, so it can be unit-tested with known
//! valid and invalid values, and it costs nothing unless a regex matched first. Separators
//! (spaces, dashes, dots) inside numbers are ignored where the format allows them.

mod national;
mod secrets;

pub use national::{
    aadhaar, br_cnpj, br_cpf, ca_sin, dea, es_dni_nie, fr_nir, it_codice_fiscale, npi, uk_nino,
    us_ssn, verhoeff,
};
pub use secrets::{jwt, private_key_block, shannon_entropy};
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

/// `value` upper-cased, without the separator bytes its format allows.
pub(super) fn compact_upper(value: &[u8], separators: &[u8]) -> Vec<u8> {
    value
        .iter()
        .filter(|b| !separators.contains(b))
        .map(u8::to_ascii_uppercase)
        .collect()
}

/// The digits of `value`, skipping spaces, dashes and dots; `None` if anything else appears.
pub(super) fn digits(value: &[u8]) -> Option<Vec<u8>> {
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

pub(super) fn luhn_digits(d: &[u8]) -> bool {
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

pub(super) fn prefix_num(d: &[u8], n: usize) -> u32 {
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
    let s = compact_upper(value, b" ");
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

#[cfg(test)]
mod tests;
