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

/// The most pieces joined.
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

/// Whether what comes before and after a reversal word (lower-cased) makes it part of another
/// term, not an ask: an identifier or a call (`__reversed__`, `reversed()`), a word that goes on
/// ("reverse therapy"), a compound ("backwards-compatible", "reversed-engineered"), "backwards
/// compatible / compatibility" across a line break, as in every changelog, or "in reverse order"
/// (a sort order, not a cipher). Read backwards, such prose is gibberish that the content
/// classifier scored as a jailbreak (4 of 966 held-out long documents, MODEL_CARD.md,
/// fourteenth pass).
fn names_something_else(before: &[u8], rest: &[u8]) -> bool {
    if before
        .last()
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        return true;
    }
    match rest.first() {
        Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'(') => return true,
        _ => {}
    }
    let next = rest
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(rest.len());
    let word = &rest[next..];
    [&b"compat"[..], b"incompat", b"order", b"chronolog"]
        .iter()
        .any(|w| word.starts_with(w))
}

/// Finds the asks; build once.
#[derive(Debug)]
pub struct Rewriter {
    /// The ask words, searched in an ASCII-lowercased copy of the text (any case matches,
    /// offsets stay) with Teddy (SIMD over each word's first bytes): about ten times faster
    /// than a case-insensitive automaton, whose prefilter cannot skip text full of common
    /// letters. `None` where SIMD is not available.
    packed: Option<aho_corasick::packed::Searcher>,
    /// The same words for that case.
    asks: AhoCorasick,
}

impl Default for Rewriter {
    fn default() -> Self {
        Self::new()
    }
}

/// What an ask asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    Rot13,
    Reverse,
    Join,
}

fn ask_of(word: usize) -> Ask {
    if word < ROT13.len() {
        Ask::Rot13
    } else if word < ROT13.len() + REVERSE.len() {
        Ask::Reverse
    } else {
        Ask::Join
    }
}

impl Rewriter {
    /// Compiles the ask words.
    pub fn new() -> Self {
        let words: Vec<&str> = ROT13.iter().chain(REVERSE).chain(JOIN).copied().collect();
        Rewriter {
            packed: aho_corasick::packed::Config::new()
                .builder()
                .extend(&words)
                .build(),
            asks: AhoCorasick::builder()
                .build(&words)
                .expect("fixed words build"),
        }
    }

    /// The asks in `text`, in order: (what is asked, start, end). The lower-cased copy is
    /// made in a buffer each thread keeps, so the scan allocates nothing for a text that asks
    /// for nothing.
    fn find(&self, text: &str) -> Vec<(Ask, usize, usize)> {
        thread_local! {
            static LOWER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        LOWER.with_borrow_mut(|lower| {
            lower.clear();
            lower.extend(text.bytes().map(|b| b.to_ascii_lowercase()));
            let text = lower.as_slice();
            let to_ask =
                |m: aho_corasick::Match| (ask_of(m.pattern().as_usize()), m.start(), m.end());
            let keep = |&(ask, s, e): &(Ask, usize, usize)| {
                ask != Ask::Reverse || !names_something_else(&text[..s], &text[e..])
            };
            let found = match &self.packed {
                Some(p) => p.find_iter(text).map(to_ask).filter(keep).collect(),
                None => self.asks.find_iter(text).map(to_ask).filter(keep).collect(),
            };
            // A megabyte text once should not pin a megabyte per thread.
            if lower.capacity() > 1 << 20 {
                *lower = Vec::new();
            }
            found
        })
    }

    /// The rewrites `text` asks for, spending `budget` bytes, and whether an ask was left
    /// unread because the budget ran out (the caller must not call the text clean then). Each
    /// rewrite covers the stretch around its ask ([`BEFORE`] bytes before it, [`AFTER`] after);
    /// asks inside a stretch already rewritten the same way add nothing, so decoy words cost
    /// no more than one.
    pub fn rewrites(&self, text: &str, budget: &mut usize) -> (Vec<Decoded>, bool) {
        let mut out: Vec<Decoded> = Vec::new();
        let mut covered: Vec<(Ask, usize, usize)> = Vec::new();
        let mut dropped = false;
        for (ask, s, e) in self.find(text) {
            if covered
                .iter()
                .any(|&(a, from, to)| a == ask && from <= s && e <= to)
            {
                continue;
            }
            let (start, end) = region(text, s, e);
            covered.push((ask, start, end));
            let part = &text[start..end];
            let d = match ask {
                Ask::Rot13 => Some(Decoded {
                    start,
                    end,
                    encoding: Encoding::Rot13,
                    text: rot13(part),
                    offsets: Offsets::Same,
                }),
                Ask::Reverse => Some(Decoded {
                    start,
                    end,
                    encoding: Encoding::Reversed,
                    text: part.chars().rev().collect(),
                    offsets: if part.is_ascii() {
                        Offsets::Mirrored
                    } else {
                        Offsets::Run
                    },
                }),
                Ask::Join => joined(part, start == 0).map(|mut d| {
                    d.start += start;
                    d.end += start;
                    d
                }),
            };
            let Some(d) = d else { continue };
            if d.text.len() > *budget {
                dropped = true;
                continue;
            }
            *budget -= d.text.len();
            out.push(d);
        }
        (out, dropped)
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
fn joined(text: &str, at_start: bool) -> Option<Decoded> {
    let b = text.as_bytes();
    let mut pieces: Vec<(usize, usize)> = Vec::new();
    // From a line start: a stretch cut out of a longer text may begin inside a quoted string.
    let mut i = if at_start {
        0
    } else {
        b.iter().position(|&c| c == b'\n').map_or(0, |p| p + 1)
    };
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
    // The joined value keeps the words around it (a rule may need "IBAN" or "BIC" nearby);
    // only what overlaps the joined value itself counts (the rest is found where it stands).
    let (first, last) = (pieces[0].0, pieces[pieces.len() - 1].1);
    let mut text_out = String::with_capacity(text.len());
    text_out.push_str(&text[..first]);
    for &(s, e) in &pieces {
        text_out.push_str(&text[s..e]);
    }
    let to = text_out.len();
    text_out.push_str(&text[last..]);
    Some(Decoded {
        start: first,
        end: last,
        encoding: Encoding::Joined,
        text: text_out,
        offsets: Offsets::Within { from: first, to },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(text: &str) -> Vec<Decoded> {
        Rewriter::new().rewrites(text, &mut 1_000_000).0
    }

    #[test]
    fn only_what_is_asked_for_is_rewritten() {
        assert!(
            rewrite("Please reverse-proxy this through nginx; call reverse() on the list.")
                .is_empty()
        );
        assert!(rewrite("Summarise the meeting notes.").is_empty());
        // Terms that contain a reversal word ask for nothing.
        for prose in [
            "This method is kept backwards-compatible with loader.exec_module().",
            "Breaking changes: none, the API stays backwards\n    compatible.",
            "We care about backwards compatibility and reverse therapy; the reversed-engineered format.",
            "Called by the reversed() built-in; object.__reversed__(self) implements reverse iteration.",
            "Iterates over the objects in the container in reverse order; list them in reverse\nchronological order.",
        ] {
            assert!(rewrite(prose).is_empty(), "{prose}");
        }
        assert_eq!(rewrite("Read it backwards - HGFDSAPOIUYTREWQAIKA").len(), 1);
        assert_eq!(rewrite("It is reversed:\nHGFDSAPOIUYTREWQAIKA").len(), 1);
        assert_eq!(rewrite("ROT13 this: NXVNDJREGLHVBCNFQSTU").len(), 1);
        assert_eq!(rewrite("Backwards: HGFDSAPOIUYTREWQAIKA").len(), 1);
        assert_eq!(rewrite("ReAd It BaCkWaRdS: HGFDSAPOIUYTREWQAIKA").len(), 1);
        // Decoys: many asks close together are one rewrite.
        assert_eq!(rewrite(&"rot13 ".repeat(50)).len(), 1);
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
        let (none, dropped) =
            Rewriter::new().rewrites("rot13 of a text longer than the budget", &mut small);
        assert!(none.is_empty() && dropped, "an ask left unread is reported");
    }
}
