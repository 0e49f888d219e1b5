//! Evasion resistance: secrets and personal data hidden by zero-width characters, full-width
//! forms, look-alike letters, base64 and hex must still be found, at the right offsets.

use base64::Engine as _;
use classifiers::{builtin_engine, PatternEngine};
use std::sync::OnceLock;

fn engine() -> &'static PatternEngine {
    static E: OnceLock<PatternEngine> = OnceLock::new();
    E.get_or_init(|| builtin_engine().expect("built-in packs compile"))
}

/// (entity, context before the value, value): 11 secret formats and 6 kinds of personal data.
const CASES: &[(&str, &str, &str)] = &[
    ("aws_access_key", "aws key ", "AKIAQWERTYUIOPASDFGH"),
    ("github_token", "token ", "ghp_U8JZpDE0iGXlD6gNCFbaEPFjbD0kH8Oool8D"),
    ("openai_api_key", "key ", "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"),
    ("slack_token", "slack ", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
    ("stripe_key", "stripe ", "sk_live_4eC39HqLyjWDarjtT1zdp7dcTfw9XyZ2"),
    ("gitlab_token", "gitlab ", "glpat-x9Yz3Qw8Er7Ty6Ui5OpA"),
    ("anthropic_api_key", "anthropic ", "sk-ant-api03-Zx8Qw2Er4Ty6Ui8Op0As2Df4Gh6Jk8Lz0Xc2Vb4Nm6Qw8Er0Ty2Ui4Op6As8Df0Gh2Jk4Lz6Xc8Vb0Nm2Qw4Er6Ty8Ui0Op2AA"),
    ("huggingface_token", "hf ", "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"),
    ("sendgrid_api_key", "mail ", "SG.Zx8Qw2Er4Ty6Ui8Op0As2D.f4Gh6Jk8Lz0Xc2Vb4Nm6Qw8Er0Ty2Ui4Op6As8Df0Gh"),
    ("npm_token", "npm ", "npm_Zx8Qw2Er4Ty6Ui8Op0As2Df4Gh6Jk8Lz0Xc2"),
    ("gcp_api_key", "google ", "AIzaSyDx8Qw2Er4Ty6Ui8Op0As2Df4Gh6Jk8Lz0"),
    ("email", "mail ", "maria.lopez@globex-corp.com"),
    ("credit_card", "card ", "4111 1111 1111 1111"),
    ("iban", "iban ", "GB82 WEST 1234 5698 7654 32"),
    ("us_ssn", "ssn ", "536-90-4399"),
    ("uk_nino", "nino ", "AB123456C"),
    ("phone", "phone ", "+44 20 7946 0958"),
];

fn zero_width(v: &str) -> String {
    v.chars()
        .enumerate()
        .flat_map(|(i, c)| {
            let zw = if i % 3 == 2 {
                Some('\u{200B}')
            } else if i % 5 == 4 {
                Some('\u{2060}')
            } else {
                None
            };
            std::iter::once(c).chain(zw)
        })
        .collect()
}

fn full_width(v: &str) -> String {
    v.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap(),
            ' ' => '\u{3000}',
            c => c,
        })
        .collect()
}

fn homoglyph(v: &str) -> String {
    v.chars()
        .map(|c| match c {
            'A' => 'А',
            'E' => 'Е',
            'O' => 'О',
            'P' => 'Р',
            'C' => 'С',
            'T' => 'Т',
            'K' => 'К',
            'X' => 'Х',
            'a' => 'а',
            'e' => 'е',
            'o' => 'о',
            'p' => 'р',
            'c' => 'с',
            'x' => 'х',
            c => c,
        })
        .collect()
}

fn strip_invisible(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '\u{200B}' | '\u{2060}'))
        .collect()
}

/// The original-text span of a finding for `entity`, or a failure message.
fn find(text: &str, entity: &str) -> Result<(usize, usize, Option<String>), String> {
    let found = engine().scan(text);
    found
        .iter()
        .find(|f| &*f.entity == entity)
        .map(|f| (f.start, f.end, f.decoded_from.clone()))
        .ok_or_else(|| {
            format!(
                "{entity} not found in {text:?}; found {:?}",
                found.iter().map(|f| &f.entity).collect::<Vec<_>>()
            )
        })
}

#[test]
fn plain_values_are_found() {
    for (entity, ctx, v) in CASES {
        let text = format!("note: {ctx}{v} end");
        let (s, e, _) = find(&text, entity).unwrap();
        assert_eq!(&text[s..e], *v);
    }
}

#[test]
fn zero_width_split_values_are_found_with_original_offsets() {
    for (entity, ctx, v) in CASES {
        let hidden = zero_width(v);
        let text = format!("note: {ctx}{hidden} end");
        let (s, e, _) = find(&text, entity).unwrap();
        assert_eq!(strip_invisible(&text[s..e]), *v, "{entity}");
    }
}

#[test]
fn full_width_values_are_found() {
    for (entity, ctx, v) in CASES {
        let wide = full_width(v);
        let text = format!("note: {ctx}{wide} end");
        let (s, e, _) = find(&text, entity).unwrap();
        assert_eq!(&text[s..e], wide, "{entity}");
    }
}

#[test]
fn homoglyph_values_are_found() {
    for (entity, ctx, v) in CASES {
        let look_alike = homoglyph(v);
        let text = format!("note: {ctx}{look_alike} end");
        let (s, e, _) = find(&text, entity).unwrap();
        assert_eq!(&text[s..e], look_alike, "{entity}");
    }
}

#[test]
fn base64_and_hex_wrapped_values_are_found_and_say_so() {
    for (entity, ctx, v) in CASES {
        let inner = format!("{ctx}{v}");
        let b64 = base64::engine::general_purpose::STANDARD.encode(&inner);
        let text = format!("decode this: {b64} please");
        let (s, e, from) = find(&text, entity).unwrap();
        assert_eq!(
            (&text[s..e], from.as_deref()),
            (b64.as_str(), Some("base64")),
            "{entity}"
        );

        let hex: String = inner.bytes().map(|b| format!("{b:02x}")).collect();
        let text = format!("payload={hex};");
        let (s, e, from) = find(&text, entity).unwrap();
        assert_eq!(
            (&text[s..e], from.as_deref()),
            (hex.as_str(), Some("hex")),
            "{entity}"
        );
    }
}

#[test]
fn nested_encodings_are_unwrapped_to_the_depth_limit() {
    let once = base64::engine::general_purpose::STANDARD.encode("aws key AKIAQWERTYUIOPASDFGH");
    let twice: String = once.bytes().map(|b| format!("{b:02x}")).collect();
    let (_, _, from) = find(&format!("blob {twice}"), "aws_access_key").unwrap();
    assert_eq!(from.as_deref(), Some("hex>base64"));
}

/// Blind spots the red-team harness (`classifiers::redteam`) found, each fixed in the engine:
/// base32, HTML character references and gzip+base64 are decoded; characters spaced out one
/// by one are joined up, with their context.
#[test]
fn base32_html_entities_gzip_and_spaced_out_values_are_found() {
    use classifiers::redteam::{mutate, Case};
    let by_name = |n: &str| {
        mutate::all()
            .into_iter()
            .find(|m| m.name == n)
            .expect("a known evasion")
    };
    for (entity, ctx, v) in CASES {
        let case = Case {
            text: format!("note: {ctx}{v} end"),
            value: v.to_string(),
        };
        for (evasion, decoded_from) in [
            ("base32", Some("base32")),
            ("html_entities", Some("html_entities")),
            ("gzip_base64", Some("gzip+base64")),
        ] {
            let hidden = (by_name(evasion).apply)(&case, &mut mutate::Rng::new(1));
            let (_, _, how) =
                find(&hidden.text, entity).unwrap_or_else(|e| panic!("{evasion}: {e}"));
            assert_eq!(how.as_deref(), decoded_from, "{evasion} {entity}");
        }
        // Spaced out: values without spaces of their own (a card number's groups are
        // already spaced, which the evasion then triples).
        if !v.contains(' ') {
            let spaced = (by_name("spaced").apply)(&case, &mut mutate::Rng::new(1));
            let (s, e, _) = find(&spaced.text, entity).unwrap_or_else(|e| panic!("spaced: {e}"));
            assert_eq!(spaced.text[s..e].replace(' ', ""), *v, "spaced {entity}");
        }
    }
}

/// A value cut in two across consecutive messages: neither message holds it, the boundary
/// does, and each message gets its own part (so a redaction masks both).
#[test]
fn values_split_across_consecutive_messages_are_found_in_both() {
    for (entity, ctx, v) in CASES {
        let cut = v.len() / 2;
        let (a, b) = (
            format!("note: {ctx}{}", &v[..cut]),
            format!("{} end", &v[cut..]),
        );
        let e = engine();
        assert!(
            !e.scan(&a)
                .iter()
                .chain(e.scan(&b).iter())
                .any(|f| &*f.entity == *entity),
            "{entity}: a half alone is not the value"
        );
        let found = e.scan_boundaries(&[&a, &b]);
        let parts: Vec<(usize, String)> = found
            .iter()
            .filter(|(_, f)| &*f.entity == *entity)
            .map(|(i, f)| {
                (
                    *i,
                    if *i == 0 {
                        a[f.start..f.end].to_string()
                    } else {
                        b[f.start..f.end].to_string()
                    },
                )
            })
            .collect();
        assert_eq!(
            parts,
            [(0, v[..cut].to_string()), (1, v[cut..].to_string())],
            "{entity}"
        );
    }
}
