//! Hostile input returns, in bounded work, without panicking, and findings always point at
//! valid, non-overlapping spans of the original text.

use base64::Engine as _;
use classifiers::{builtin_engine, PatternEngine};
use proptest::prelude::*;
use std::sync::OnceLock;

fn engine() -> &'static PatternEngine {
    static E: OnceLock<PatternEngine> = OnceLock::new();
    E.get_or_init(|| builtin_engine().expect("built-in packs compile"))
}

fn check_spans(text: &str) {
    let found = engine().scan(text);
    let mut last_end = 0;
    for f in &found {
        assert!(f.start < f.end && f.end <= text.len(), "{f:?}");
        assert!(
            text.is_char_boundary(f.start) && text.is_char_boundary(f.end),
            "{f:?}"
        );
        assert!(f.start >= last_end, "findings overlap: {found:?}");
        last_end = f.end;
    }
}

#[test]
fn a_50_mb_single_line_completes() {
    let line = "word AKIA 4111 ghp_ @ x=1; ".repeat(50 * 1024 * 1024 / 26);
    check_spans(&line);
}

#[test]
fn a_50_mb_base64_like_run_is_skipped_not_decoded() {
    let run = "QUtJQVFXRVJUWVVJT1BBU0RGR0g".repeat(2 * 1024 * 1024);
    check_spans(&run);
}

#[test]
fn deeply_nested_base64_stops_at_the_depth_limit() {
    let mut s = "aws key AKIAQWERTYUIOPASDFGH".to_string();
    for _ in 0..12 {
        s = base64::engine::general_purpose::STANDARD.encode(&s);
    }
    check_spans(&s);
    // Stopping there is not "clean": the scan says a limit left it unread.
    assert!(engine().scan_checked(&s).limit.is_some());
}

#[test]
fn what_the_decoder_cannot_reach_is_reported_as_a_scan_limit() {
    let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
    // Three layers are decoded and found; a fourth is a limit, not silence.
    let mut three = "aws key AKIAQWERTYUIOPASDFGH".to_string();
    for _ in 0..3 {
        three = b64(&three);
    }
    let s = engine().scan_checked(&three);
    assert_eq!(s.findings.len(), 1, "{s:?}");
    assert!(s.limit.is_none());
    let four = b64(&three);
    assert!(engine().scan_checked(&four).limit.is_some());
    // A 2 MB base64 run of text is too long to decode: a limit. Of binary bytes: not text.
    let long_text = b64(&format!(
        "{} AKIAQWERTYUIOPASDFGH",
        "lorem ipsum dolor ".repeat(90_000)
    ));
    assert!(long_text.len() > 1 << 20);
    assert!(engine().scan_checked(&long_text).limit.is_some());
    let binary: Vec<u8> = (0..1_600_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let long_binary = base64::engine::general_purpose::STANDARD.encode(binary);
    assert!(engine().scan_checked(&long_binary).limit.is_none());
    // Plain text stays unlimited.
    assert!(engine()
        .scan_checked("deploy with AKIAQWERTYUIOPASDFGH today")
        .limit
        .is_none());
}

#[test]
fn pathological_regex_shaped_input_completes() {
    for text in [
        "((((((((((a*)*)*)*)*)*)*)*)*)*)*".repeat(10_000),
        "@".repeat(2_000_000),
        "1".repeat(1_000_000),
        "sk-".repeat(300_000),
        "-----BEGIN PRIVATE KEY-----".repeat(20_000),
        "password=".repeat(200_000),
        // Keys padded far apart from their values: regions widen over the runs.
        format!("password{}", " ".repeat(1_000)).repeat(2_000),
        format!("secret{}x", " ".repeat(40)).repeat(40_000),
        format!("token {}", "\n".repeat(5_000_000)),
    ] {
        check_spans(&text);
    }
}

#[test]
fn past_the_pass_limits_the_scan_falls_back_and_still_finds_secrets() {
    // 300,000 keyword hits (`@`) or IPv4 addresses overflow the position-reporting passes;
    // the keyword automaton and "which patterns match" take over.
    for flood in ["@ ".repeat(300_000), "10.0.0.1 ".repeat(300_000)] {
        let text = format!("{flood}\nkey AKIAQWERTYUIOPASDFGH and mail ann.lee@example.org\n");
        let found = engine().scan(&text);
        let values: Vec<&str> = found.iter().map(|f| &text[f.start..f.end]).collect();
        assert!(values.contains(&"AKIAQWERTYUIOPASDFGH"), "{values:?}");
        assert!(values.contains(&"ann.lee@example.org"), "{values:?}");
    }
}

#[test]
fn invalid_utf8_is_scanned_after_lossy_decoding() {
    let bytes = b"key \xff\xfe AKIAQWERTYUIOPASDFGH \xc3";
    let text = String::from_utf8_lossy(bytes);
    let found = engine().scan(&text);
    assert_eq!(found.len(), 1);
    assert_eq!(&text[found[0].start..found[0].end], "AKIAQWERTYUIOPASDFGH");
}

fn invisible() -> impl Strategy<Value = char> {
    prop::sample::select(vec![
        '\u{200B}',
        '\u{200C}',
        '\u{200D}',
        '\u{2060}',
        '\u{FEFF}',
        '\u{202E}',
        '\u{E0041}',
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_text_yields_valid_spans(text in "\\PC{0,400}") {
        check_spans(&text);
    }

    #[test]
    fn a_secret_with_random_invisible_chars_maps_back_to_a_span_containing_it(
        prefix in "[a-z ]{0,40}",
        suffix in "[a-z ]{0,40}",
        cuts in prop::collection::vec((0usize..20, invisible()), 0..6),
    ) {
        let secret = "AKIAQWERTYUIOPASDFGH";
        let mut hidden: Vec<char> = secret.chars().collect();
        for (at, c) in cuts {
            hidden.insert(at.min(hidden.len()), c);
        }
        let hidden: String = hidden.into_iter().collect();
        let text = format!("{prefix} {hidden} {suffix}");
        let found = engine().scan(&text);
        let f = found.iter().find(|f| &*f.entity == "aws_access_key").expect("found");
        let span: String = text[f.start..f.end].chars().filter(|c| c.is_ascii()).collect();
        prop_assert_eq!(span, secret);
    }
}

/// A flood of rejected look-alikes (a documented example key, a low-entropy one) in front of
/// a real key must not use up the pattern's budget: past it, the scan goes on linearly.
#[test]
fn a_flood_of_rejected_look_alikes_does_not_hide_a_real_key() {
    for decoy in ["AKIAIOSFODNN7EXAMPLE", "AKIAAAAAAAAAAAAAAAAA"] {
        assert!(
            engine().scan(decoy).is_empty(),
            "{decoy} is meant to be rejected"
        );
        for n in [9_999, 10_000, 25_000] {
            let text = format!(
                "{} deploy with AKIAQWERTYUIOPASDFGH",
                format!("{decoy} ").repeat(n)
            );
            let found = engine().scan(&text);
            assert!(
                found.iter().any(|f| &*f.entity == "aws_access_key"),
                "{n} x {decoy}: the real key was not found"
            );
        }
    }
}
