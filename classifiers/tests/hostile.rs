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
