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
    let good = format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----");
    assert!(private_key_block(good.as_bytes()));
    let mismatched =
        format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END EC PRIVATE KEY-----");
    assert!(!private_key_block(mismatched.as_bytes()));
    let short = "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----";
    assert!(!private_key_block(short.as_bytes()));
    let public = format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----");
    assert!(!private_key_block(public.as_bytes()));
}
