//! Normalization before matching, with a map back to the original offsets.
//!
//! Evasions this undoes: zero-width, bidi-control and tag characters inserted inside a secret;
//! full-width and other compatibility forms (NFKC); Cyrillic and Greek look-alikes of Latin
//! letters; characters spaced out one by one (`A K I A Q W ...`), joined up again. Each byte of the normalized text remembers the span of the original character it
//! came from, so a finding in normalized text maps back to exact original byte offsets.
//!
//! Cost: pure-ASCII text (the common case) is detected with one SIMD-friendly pass and not
//! copied at all; otherwise one pass and two `u32` per output byte.

use unicode_normalization::UnicodeNormalization;

/// Normalized text and the original span of every byte in it.
#[derive(Debug, Clone)]
pub struct Normalized {
    pub text: String,
    starts: Vec<u32>,
    ends: Vec<u32>,
}

impl Normalized {
    /// Maps a normalized byte range to the smallest original range covering it.
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        debug_assert!(start < end && end <= self.text.len());
        (self.starts[start] as usize, self.ends[end - 1] as usize)
    }
}

/// Characters that render as nothing and are used to split tokens.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{E0000}'..='\u{E007F}'
        | '\u{E0100}'..='\u{E01EF}')
}

/// Cyrillic and Greek letters that look like Latin ones (Unicode confusables, the common set).
fn confusable(c: char) -> Option<char> {
    Some(match c {
        'А' | 'Α' => 'A',
        'В' | 'Β' => 'B',
        'С' | 'Ϲ' => 'C',
        'Е' | 'Ε' => 'E',
        'Н' | 'Η' => 'H',
        'І' | 'Ι' => 'I',
        'Ј' => 'J',
        'К' | 'Κ' => 'K',
        'М' | 'Μ' => 'M',
        'Ν' => 'N',
        'О' | 'Ο' => 'O',
        'Р' | 'Ρ' => 'P',
        'Ѕ' => 'S',
        'Т' | 'Τ' => 'T',
        'Х' | 'Χ' => 'X',
        'У' | 'Υ' => 'Y',
        'Ζ' => 'Z',
        'а' | 'α' => 'a',
        'с' | 'ϲ' => 'c',
        'е' => 'e',
        'һ' => 'h',
        'і' | 'ι' => 'i',
        'ј' => 'j',
        'о' | 'ο' => 'o',
        'р' | 'ρ' => 'p',
        'ѕ' => 's',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        'ν' => 'v',
        'ԁ' => 'd',
        'ɡ' => 'g',
        'ӏ' => 'l',
        'ԛ' => 'q',
        'ԝ' => 'w',
        '‐' | '‑' | '‒' | '–' | '—' | '−' => '-',
        _ => return None,
    })
}

/// Whether normalization would drop or replace `c` (a non-ASCII character).
fn changes(c: char) -> bool {
    is_invisible(c) || confusable(c).is_some() || {
        let mut n = std::iter::once(c).nfkc();
        !(n.next() == Some(c) && n.next().is_none())
    }
}

/// Fewest characters a spaced-out run must have to be joined up (shorter ones are words).
const MIN_SPACED: usize = 8;

/// Spaced-out runs: `(start, end)` of each stretch of visible ASCII characters separated by
/// single spaces, at least [`MIN_SPACED`] characters long. Only the ends may touch other
/// text (`key=A K I A ... H,`); every character inside stands alone.
fn spaced_runs(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let g = |j: usize| j < b.len() && b[j].is_ascii_graphic();
    let mut out = Vec::new();
    if !may_hold_spaced_run(b) {
        return out;
    }
    let mut i = 0;
    while let Some(p) = memchr::memchr(b' ', &b[i..]) {
        let sp = i + p;
        i = sp + 1;
        if sp == 0 || !g(sp - 1) || !g(sp + 1) {
            continue;
        }
        // The first may follow punctuation (`key=A K ...`), not a word (`key: A K ...`).
        if sp >= 2 && b[sp - 2].is_ascii_alphanumeric() {
            continue;
        }
        let start = sp - 1;
        let mut end = sp + 2;
        let mut n = 2;
        // The character after each space must stand alone, except the run's last.
        while b.get(end) == Some(&b' ') && g(end + 1) && !g(end - 2) {
            end += 2;
            n += 1;
        }
        // The last one counted may be followed by punctuation, not by the rest of a word.
        if b.get(end).is_some_and(u8::is_ascii_alphanumeric) {
            end -= 2;
            n -= 1;
        }
        if n >= MIN_SPACED {
            out.push((start, end));
        }
        i = i.max(end);
    }
    out
}

/// Whether a spaced-out run may be present: a run of eight characters spans 15 bytes, so it
/// covers a whole 8-byte word whose bytes alternate space / not space. Checked a word at a
/// time (SWAR), so ordinary text costs a few operations per 8 bytes.
fn may_hold_spaced_run(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    b.chunks_exact(8).any(|c| {
        let x = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        let t = x ^ (ONES * u64::from(b' '));
        // The high bit of every byte that is a space (exact: no carries between bytes).
        let spaces = !(((t & LOW7) + LOW7) | t) & HIGH;
        spaces == 0x0080_0080_0080_0080 || spaces == 0x8000_8000_8000_8000
    })
}

/// Whether `text` shows a character-level evasion: an invisible or bidi character, a
/// compatibility form (full-width letters), a spaced-out run, or a word that mixes Latin with
/// Cyrillic or Greek look-alikes. Prose wholly in Cyrillic or Greek is not one, though
/// [`normalize`] would fold its look-alike letters too.
pub fn shows_evasion(text: &str) -> bool {
    if !spaced_runs(text).is_empty() {
        return true;
    }
    if text.is_ascii() {
        return false;
    }
    // Compatibility forms used to disguise letters (full-width, mathematical, enclosed), not
    // the typographic ones ordinary text is full of (…, ½, ™, a no-break space).
    let compat = text.chars().any(|c| {
        !c.is_ascii()
            && (is_invisible(c)
                || matches!(c,
                    '\u{FF01}'..='\u{FF5E}'
                    | '\u{1D400}'..='\u{1D7FF}'
                    | '\u{2460}'..='\u{24FF}'
                    | '\u{1F100}'..='\u{1F1FF}'))
    });
    // Cyrillic and Greek letters are two-byte sequences led by 0xCD..=0xD3: without one, no
    // word can mix scripts.
    compat
        || text.bytes().any(|b| (0xCD..=0xD3).contains(&b))
            && text.split(|c: char| !c.is_alphanumeric()).any(|w| {
                w.chars().any(|c| c.is_ascii_alphabetic())
                    && w.chars().any(|c| confusable(c).is_some())
            })
}

/// Normalizes `text`; `None` when nothing would change (pure ASCII), so callers scan it as is.
pub fn normalize(text: &str) -> Option<Normalized> {
    let runs = spaced_runs(text);
    if runs.is_empty() && (text.is_ascii() || !text.chars().any(|c| !c.is_ascii() && changes(c))) {
        return None;
    }
    // The spaces inside spaced-out runs go, like invisible characters.
    let in_run = |i: usize| runs.iter().any(|&(s, e)| i > s && i < e);
    let mut out = Normalized {
        text: String::with_capacity(text.len()),
        starts: Vec::with_capacity(text.len()),
        ends: Vec::with_capacity(text.len()),
    };
    let mut changed = false;
    let mut buf = [0u8; 4];
    for (i, c) in text.char_indices() {
        let end = (i + c.len_utf8()) as u32;
        let mut push = |ch: char, out: &mut Normalized| {
            let s = ch.encode_utf8(&mut buf);
            out.text.push_str(s);
            for _ in 0..s.len() {
                out.starts.push(i as u32);
                out.ends.push(end);
            }
        };
        if c == ' ' && in_run(i) {
            changed = true;
        } else if c.is_ascii() {
            push(c, &mut out);
        } else if is_invisible(c) {
            changed = true;
        } else if let Some(a) = confusable(c) {
            changed = true;
            push(a, &mut out);
        } else {
            let mut n = 0;
            let mut same = true;
            for d in std::iter::once(c).nfkc() {
                n += 1;
                same &= d == c;
                // NFKC may produce look-alikes too (e.g. mathematical letters → Greek).
                push(confusable(d).unwrap_or(d), &mut out);
            }
            if !same || n != 1 {
                changed = true;
            }
        }
    }
    changed.then_some(out)
}

/// The first byte of `bytes` at or above 0x80, checking 64 bytes at a time (`is_ascii` reads a
/// word at a time) so ASCII text costs little.
fn first_non_ascii(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    for chunk in bytes.chunks(64) {
        if !chunk.is_ascii() {
            return chunk.iter().position(|&b| b >= 0x80).map(|p| at + p);
        }
        at += chunk.len();
    }
    None
}

/// The parts of `text` normalization would change, each widened by `radius` bytes, merged,
/// and normalized on its own: (start of the window in `text`, the normalized window). Only
/// these can hold a finding the plain pass missed, so a large text with a few look-alikes is
/// not copied whole.
pub fn normalized_windows(text: &str, radius: usize) -> Vec<(usize, Normalized)> {
    let bytes = text.as_bytes();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while let Some(off) = first_non_ascii(&bytes[i..]) {
        let at = i + off;
        let c = text[at..].chars().next().expect("a character starts here");
        i = at + c.len_utf8();
        if !changes(c) {
            continue;
        }
        let mut s = at.saturating_sub(radius);
        let mut e = (i + radius).min(text.len());
        while !text.is_char_boundary(s) {
            s -= 1;
        }
        while !text.is_char_boundary(e) {
            e += 1;
        }
        crate::spans::push_joined(&mut spans, s, e);
    }
    let runs = spaced_runs(text);
    if !runs.is_empty() {
        // Spaced-out runs need their window too (with context), merged in order.
        let mut all = std::mem::take(&mut spans);
        for (rs, re) in runs {
            let mut s = rs.saturating_sub(radius);
            let mut e = (re + radius).min(text.len());
            while !text.is_char_boundary(s) {
                s -= 1;
            }
            while !text.is_char_boundary(e) {
                e += 1;
            }
            all.push((s, e));
        }
        all.sort_unstable();
        for (s, e) in all {
            crate::spans::push_joined(&mut spans, s, e);
        }
    }
    spans
        .into_iter()
        .filter_map(|(s, e)| normalize(&text[s..e]).map(|n| (s, n)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_is_left_alone() {
        assert!(normalize("plain ASCII text 123").is_none());
        assert!(
            normalize("café").is_none(),
            "non-ASCII that needs no change is not copied"
        );
    }

    #[test]
    fn spaced_out_characters_are_joined_and_offsets_map_back() {
        let text = "aws key: A K I A Q W E R T Y U I O P A S D F G H please";
        let n = normalize(text).unwrap();
        assert_eq!(n.text, "aws key: AKIAQWERTYUIOPASDFGH please");
        let s = n.text.find("AKIA").unwrap();
        let (os, oe) = n.original_span(s, s + 20);
        assert_eq!(&text[os..oe], "A K I A Q W E R T Y U I O P A S D F G H");
        // Ordinary prose with a few one-letter words stays as it is.
        assert!(normalize("I think a b test is a good idea, x y z").is_none());
        let w = normalized_windows(text, 16);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn zero_width_characters_are_removed_and_offsets_map_back() {
        let text = "key AKIA\u{200B}QWERTY\u{2060}UIOP end";
        let n = normalize(text).unwrap();
        assert_eq!(n.text, "key AKIAQWERTYUIOP end");
        let s = n.text.find("AKIA").unwrap();
        let e = n.text.find(" end").unwrap();
        let (os, oe) = n.original_span(s, e);
        assert_eq!(&text[os..oe], "AKIA\u{200B}QWERTY\u{2060}UIOP");
    }

    #[test]
    fn only_windows_around_changes_are_normalized() {
        let filler = "plain text ".repeat(200);
        let text = format!("{filler}key AKIA\u{200B}QWERTYUIOPASDFGH{filler}ｘ{filler}");
        let w = normalized_windows(&text, 64);
        assert_eq!(w.len(), 2, "two separate changes, two windows");
        let (base, n) = &w[0];
        let s = n.text.find("AKIA").unwrap();
        let (os, oe) = n.original_span(s, s + 20);
        assert_eq!(&text[base + os..base + oe], "AKIA\u{200B}QWERTYUIOPASDFGH");
        assert!(w.iter().all(|(_, n)| n.text.len() < 200));
        assert!(normalized_windows(&filler, 64).is_empty());
        assert!(normalized_windows("café au lait", 64).is_empty());
    }

    #[test]
    fn full_width_and_homoglyphs_fold_to_ascii() {
        let n = normalize("ＡＫＩＡ１２３ and АКІА").unwrap();
        assert_eq!(n.text, "AKIA123 and AKIA");
        let n = normalize("𝟒𝟏𝟏𝟏").unwrap();
        assert_eq!(n.text, "4111");
    }
}
