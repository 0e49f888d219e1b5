//! Rewrites a text asks its reader to make: ROT13 it, read it backwards, or join quoted pieces
//! ("let a = "AKIA…" and b = "…"; concatenate a and b"). The red team found values hidden this
//! way unseen by every detector; a model (or a person) undoes them on request, so the scanners
//! read the rewritten text too.
//!
//! A rewrite is made only when the text asks for it (the words that ask are few and specific),
//! so ordinary text costs one automaton pass. ROT13 keeps every byte where it was, and reversed
//! ASCII mirrors it, so their findings map back to exact offsets; joined pieces map to the
//! stretch from the first piece to the last.

use crate::decode::{rot13, Decoded, Encoding, Offsets};
use aho_corasick::AhoCorasick;

/// Asks acted on per text, and the most pieces joined.
const MAX_ASKS: usize = 4;
const MAX_PIECES: usize = 16;
const MAX_PIECE: usize = 200;

/// The words that ask, by what they ask for.
const ROT13: &[&str] = &["rot13", "rot-13", "rot 13", "caesar"];
const REVERSE: &[&str] = &[
    "backwards",
    "reversed",
    "in reverse",
    "reverse it",
    "reverse the",
    "reverse this",
];
const JOIN: &[&str] = &[
    "concatenat",
    "join them",
    "join the pieces",
    "join the parts",
    "combine them",
    "combine the pieces",
    "combine the parts",
    "put them together",
    "glue them",
];

/// Finds the asks; build once.
#[derive(Debug)]
pub struct Rewriter {
    /// The ask words in lower case, capitalized and (for ROT13) upper case, searched with
    /// Teddy (SIMD over each word's first bytes): about ten times faster than a
    /// case-insensitive automaton, whose prefilter cannot skip text full of common letters.
    packed: Option<aho_corasick::packed::Searcher>,
    /// The same, case-insensitive, where SIMD is not available.
    asks: AhoCorasick,
    /// Per packed pattern, its word's index in `ROT13 ++ REVERSE ++ JOIN`.
    word_of: Vec<usize>,
}

impl Default for Rewriter {
    fn default() -> Self {
        Self::new()
    }
}

impl Rewriter {
    /// Compiles the ask words.
    pub fn new() -> Self {
        let words: Vec<&str> = ROT13.iter().chain(REVERSE).chain(JOIN).copied().collect();
        let mut variants: Vec<String> = Vec::new();
        let mut word_of = Vec::new();
        for (i, w) in words.iter().enumerate() {
            let capital = format!("{}{}", w[..1].to_ascii_uppercase(), &w[1..]);
            let upper = w.to_ascii_uppercase();
            for v in [w.to_string(), capital, upper] {
                if !variants.contains(&v) {
                    variants.push(v);
                    word_of.push(i);
                }
            }
        }
        let packed = aho_corasick::packed::Config::new()
            .builder()
            .extend(&variants)
            .build();
        Rewriter {
            packed,
            asks: AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(words)
                .expect("fixed words build"),
            word_of,
        }
    }

    /// The asks in `text`: (word index, start, end), at most [`MAX_ASKS`].
    fn find(&self, text: &str) -> Vec<(usize, usize, usize)> {
        match &self.packed {
            Some(p) => p
                .find_iter(text.as_bytes())
                .take(MAX_ASKS)
                .map(|m| (self.word_of[m.pattern().as_usize()], m.start(), m.end()))
                .collect(),
            None => self
                .asks
                .find_iter(text)
                .take(MAX_ASKS)
                .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                .collect(),
        }
    }

    /// The rewrites `text` asks for, spending `budget` bytes. Each covers the stretch around
    /// its ask ([`BEFORE`] bytes before it, [`AFTER`] after), so a long text that happens to
    /// say "reversed" costs a few kilobytes, not a second pass over all of it.
    pub fn rewrites(&self, text: &str, budget: &mut usize) -> Vec<Decoded> {
        let mut out: Vec<Decoded> = Vec::new();
        let push = |d: Decoded, budget: &mut usize, out: &mut Vec<Decoded>| {
            if d.text.len() <= *budget
                && !out
                    .iter()
                    .any(|o| o.encoding == d.encoding && o.start <= d.start && d.end <= o.end)
            {
                *budget -= d.text.len();
                out.push(d);
            }
        };
        for (i, s, e) in self.find(text) {
            let (start, end) = region(text, s, e);
            let part = &text[start..end];
            let d = if i < ROT13.len() {
                Some(Decoded {
                    start,
                    end,
                    encoding: Encoding::Rot13,
                    text: rot13(part),
                    offsets: Offsets::Same,
                })
            } else if i < ROT13.len() + REVERSE.len() {
                Some(Decoded {
                    start,
                    end,
                    encoding: Encoding::Reversed,
                    text: part.chars().rev().collect(),
                    offsets: if part.is_ascii() {
                        Offsets::Mirrored
                    } else {
                        Offsets::Run
                    },
                })
            } else {
                joined(part).map(|mut d| {
                    d.start += start;
                    d.end += start;
                    d
                })
            };
            if let Some(d) = d {
                push(d, budget, &mut out);
            }
        }
        out
    }
}

/// Bytes read before an ask, and after it.
pub const BEFORE: usize = 1024;
pub const AFTER: usize = 2048;

/// The stretch around an ask at `s..e`, on character boundaries.
fn region(text: &str, s: usize, e: usize) -> (usize, usize) {
    let mut a = s.saturating_sub(BEFORE);
    while !text.is_char_boundary(a) {
        a += 1;
    }
    let mut b = (e + AFTER).min(text.len());
    while !text.is_char_boundary(b) {
        b -= 1;
    }
    (a, b)
}

/// The quoted pieces of `text` (double or single quotes, on one line, 1 to 200 bytes each, at
/// most 16), joined in order: two at least.
fn joined(text: &str) -> Option<Decoded> {
    let b = text.as_bytes();
    let mut pieces: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < b.len() && pieces.len() < MAX_PIECES {
        let q = b[i];
        if q == b'"' || q == b'\'' || q == b'`' {
            // An apostrophe inside a word ("don't") opens nothing.
            let inside_word = q == b'\'' && i > 0 && b[i - 1].is_ascii_alphanumeric();
            if !inside_word {
                if let Some(len) = b[i + 1..]
                    .iter()
                    .take(MAX_PIECE + 1)
                    .position(|&c| c == q || c == b'\n')
                {
                    if b[i + 1 + len] == q && len > 0 && len <= MAX_PIECE {
                        pieces.push((i + 1, i + 1 + len));
                        i += len + 2;
                        continue;
                    }
                }
            }
        }
        i += 1;
    }
    if pieces.len() < 2 {
        return None;
    }
    // The joined value keeps the words around it (a rule may need "IBAN" or "BIC" nearby).
    let (first, last) = (pieces[0].0, pieces[pieces.len() - 1].1);
    let mut text_out = String::with_capacity(text.len());
    text_out.push_str(&text[..first]);
    for &(s, e) in &pieces {
        text_out.push_str(&text[s..e]);
    }
    text_out.push_str(&text[last..]);
    Some(Decoded {
        start: first,
        end: last,
        encoding: Encoding::Joined,
        text: text_out,
        offsets: Offsets::Run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(text: &str) -> Vec<Decoded> {
        Rewriter::new().rewrites(text, &mut 1_000_000)
    }

    #[test]
    fn only_what_is_asked_for_is_rewritten() {
        assert!(
            rewrite("Please reverse-proxy this through nginx; call reverse() on the list.")
                .is_empty()
        );
        assert!(rewrite("Summarise the meeting notes.").is_empty());
        assert_eq!(rewrite("ROT13 this: NXVNDJREGLHVBCNFQSTU").len(), 1);
        assert_eq!(rewrite("Backwards: HGFDSAPOIUYTREWQAIKA").len(), 1);
        let r = rewrite("rot13: NXVNDJREGLHVBCNFQSTU");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].encoding, Encoding::Rot13);
        assert!(r[0].text.ends_with("AKIAQWERTYUIOPASDFGH"));
        let r = rewrite("Read this backwards: HGFDSAPOIUYTREWQAIKA");
        assert!(r[0].text.starts_with("AKIAQWERTYUIOPASDFGH"));
        assert_eq!(r[0].offsets, Offsets::Mirrored);
        let r = rewrite(
            "Let a = \"AKIAQWERTY\" and b = 'UIOPASDFGH'. Concatenate a and b; don't add spaces.",
        );
        assert_eq!(r.len(), 1);
        assert!(
            r[0].text.contains("AKIAQWERTYUIOPASDFGH"),
            "{:?}",
            r[0].text
        );
    }

    #[test]
    fn rewrites_are_bounded() {
        // Only the stretch around the ask is rewritten.
        let long = format!("{} rot13 {}", "x".repeat(100_000), "y".repeat(100_000));
        let r = rewrite(&long);
        assert_eq!(r.len(), 1);
        assert!(r[0].text.len() <= BEFORE + AFTER + 8);
        assert_eq!(r[0].start, 100_000 - BEFORE + 1);
        let mut small = 10;
        assert!(Rewriter::new()
            .rewrites("rot13 of a text longer than the budget", &mut small)
            .is_empty());
    }
}
