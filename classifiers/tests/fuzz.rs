//! Fuzz targets (bolero) for what reads untrusted text first: the normalizer, the decoder and
//! the whole pattern scan. Under `cargo test` each runs a short random smoke; for a long,
//! coverage-guided run: `cargo bolero test --package classifiers --test fuzz <target>`.

use classifiers::decode::Decoder;
use classifiers::normalize::{normalize, normalized_windows};
use classifiers::PatternEngine;
use std::sync::OnceLock;

fn engine() -> &'static PatternEngine {
    static E: OnceLock<PatternEngine> = OnceLock::new();
    E.get_or_init(|| classifiers::builtin_engine().unwrap())
}

/// Normalization maps every byte of its output back inside the input, on char boundaries.
#[test]
fn fuzz_normalize() {
    bolero::check!().for_each(|input: &[u8]| {
        let text = String::from_utf8_lossy(input);
        if let Some(n) = normalize(&text) {
            for (start, c) in n.text.char_indices() {
                let (s, e) = n.original_span(start, start + c.len_utf8());
                assert!(s <= e && e <= text.len());
                assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
            }
        }
        for (base, w) in normalized_windows(&text, 64) {
            for (start, c) in w.text.char_indices() {
                let (s, e) = w.original_span(start, start + c.len_utf8());
                assert!(s <= e && base + e <= text.len());
            }
        }
    });
}

/// Decoded runs lie inside the text, and the budget bounds what is produced.
#[test]
fn fuzz_decoder() {
    let decoder = Decoder::new();
    bolero::check!().for_each(|input: &[u8]| {
        let text = String::from_utf8_lossy(input);
        let mut budget = 1 << 16;
        let (runs, _) = decoder.candidates_checked(&text, &mut budget);
        let produced: usize = runs.iter().map(|d| d.text.len()).sum();
        assert!(produced <= (1 << 16) + 4 * text.len());
        for d in runs {
            assert!(d.start < d.end && d.end <= text.len());
        }
    });
}

/// The full scan: spans are ordered, disjoint, inside the text and on char boundaries.
#[test]
fn fuzz_scan() {
    bolero::check!().for_each(|input: &[u8]| {
        let text = String::from_utf8_lossy(input);
        let found = engine().scan_checked(&text).findings;
        let mut last = 0;
        for f in found {
            assert!(f.start < f.end && f.end <= text.len());
            assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
            assert!(f.start >= last, "overlapping findings");
            last = f.end;
        }
    });
}
