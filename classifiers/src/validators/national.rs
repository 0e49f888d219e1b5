//! National identity, tax and health-provider numbers: their check digits and reserved ranges.

use super::{compact_upper, digits, luhn_digits, prefix_num};

/// Canada SIN: 9 digits, Luhn, first digit not 0 or 8.
pub fn ca_sin(value: &[u8]) -> bool {
    digits(value).is_some_and(|d| d.len() == 9 && d[0] != 0 && d[0] != 8 && luhn_digits(&d))
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
    let s = compact_upper(value, b"- ");
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
    let s = compact_upper(value, b" ");
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
    let s = compact_upper(value, b" ");
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
    let s = value.to_ascii_uppercase();
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
    let s = value.to_ascii_uppercase();
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
