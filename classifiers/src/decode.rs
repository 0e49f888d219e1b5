//! Bounded decoding of encoded runs (base64, base64url, hex, percent-encoding, `\uXXXX`/`\xXX`
//! escapes), so a secret wrapped in an encoding is still found.
//!
//! Only runs that decode to mostly printable UTF-8 are returned, and every scan has a budget of
//! decoded bytes, so hostile input (a 50 MB base64 line, deep nesting) costs bounded time.

use base64::Engine as _;
use regex_automata::meta::Regex;
use regex_automata::util::syntax;
use regex_automata::Input;

/// How a run was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Base64,
    Hex,
    Percent,
    Escapes,
    /// gzip, then base64 (a compressed payload pasted as text).
    GzipBase64,
    Base32,
    /// HTML numeric character references (`&#65;`, `&#x41;`).
    HtmlEntities,
    /// ROT13, where the text asks for it (see [`crate::rewrite`]).
    Rot13,
    /// Read backwards, where the text asks for it.
    Reversed,
    /// Quoted pieces joined, where the text asks for that.
    Joined,
}

impl Encoding {
    /// An encoding proper, not a rewrite the text asks for (ROT13, reversal, joined pieces).
    pub fn is_encoding(self) -> bool {
        !matches!(
            self,
            Encoding::Rot13 | Encoding::Reversed | Encoding::Joined
        )
    }

    /// The name reported in `Finding::decoded_from`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Hex => "hex",
            Encoding::Percent => "percent",
            Encoding::Escapes => "escapes",
            Encoding::GzipBase64 => "gzip+base64",
            Encoding::Base32 => "base32",
            Encoding::HtmlEntities => "html_entities",
            Encoding::Rot13 => "rot13",
            Encoding::Reversed => "reversed",
            Encoding::Joined => "joined",
        }
    }
}

/// A decoded run: where it sat in the scanned text, and what it decodes to.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub start: usize,
    pub end: usize,
    pub encoding: Encoding,
    pub text: String,
    /// How a finding in `text` maps back into the scanned text.
    pub offsets: Offsets,
}

/// How offsets in a decoded text map back to the text it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offsets {
    /// Anything found covers the whole run (`start..end`): an encoding scrambles positions.
    Run,
    /// Byte for byte, from `start` (ROT13).
    Same,
    /// Mirrored within `start..end` (ASCII read backwards).
    Mirrored,
    /// Only what overlaps `from..to` of the decoded text counts, and covers the run (joined
    /// pieces between their unchanged surroundings).
    Within { from: usize, to: usize },
}

impl Decoded {
    /// The span in the scanned text of a finding at `s..e` of the decoded text.
    /// `None`: the finding lies outside what this run changed (it is found where it stands).
    pub fn map_span(&self, s: usize, e: usize) -> Option<(usize, usize)> {
        match self.offsets {
            Offsets::Run => Some((self.start, self.end)),
            Offsets::Same => Some((self.start + s, self.start + e)),
            Offsets::Mirrored => Some((self.end - e, self.end - s)),
            Offsets::Within { from, to } => (s < to && from < e).then_some((self.start, self.end)),
        }
    }
}

/// ROT13 (its own inverse): a "cipher" that asks the reader to undo it.
pub fn rot13(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'a'..='z' => (((c as u8 - b'a') + 13) % 26 + b'a') as char,
            'A'..='Z' => (((c as u8 - b'A') + 13) % 26 + b'A') as char,
            c => c,
        })
        .collect()
}

/// Longest single run that is decoded; longer runs are skipped (and cost one regex pass).
pub const MAX_RUN: usize = 1 << 20;

/// Finds and decodes encoded runs; build once, share freely.
#[derive(Debug)]
pub struct Decoder {
    /// Percent-encoded and escaped runs; base64 and hex runs are found by a byte loop.
    finder: Regex,
    /// Rewrites the text asks for (ROT13, backwards, joined pieces).
    rewriter: crate::rewrite::Rewriter,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

/// A byte table: ASCII letters and digits, and `extra`.
const fn byte_class(extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

/// Bytes that may appear in a base64, base64url or hex run.
static RUN_CLASS: [bool; 256] = byte_class(b"+/_-");

/// Bytes the escape finder's patterns are made of: none of its matches crosses another byte.
static ESCAPE_CLASS: [bool; 256] = byte_class(b"._~+!*'()-% :=\\");

/// The stretches of [`ESCAPE_CLASS`] bytes that hold three `%` or three backslashes: the only
/// places the escape finder can match, so it never runs over plain text.
fn escape_regions(hay: &[u8]) -> Vec<(usize, usize)> {
    regions(
        hay,
        memchr::memchr2_iter(b'%', b'\\', hay),
        &ESCAPE_CLASS,
        |region| {
            memchr::memchr_iter(b'%', region).nth(2).is_some()
                || memchr::memchr_iter(b'\\', region).nth(2).is_some()
        },
    )
}

/// Bytes a run of HTML character references is made of (`&#65;&#x42; ...`).
static REFERENCE_CLASS: [bool; 256] = byte_class(b"&#; _.:=-");

/// The stretches that hold three `&#`: where character references can be decoded (`&` alone,
/// common in code, never starts one).
fn reference_regions(hay: &[u8]) -> Vec<(usize, usize)> {
    regions(
        hay,
        memchr::memmem::find_iter(hay, b"&#"),
        &REFERENCE_CLASS,
        |region| memchr::memmem::find_iter(region, b"&#").nth(2).is_some(),
    )
}

/// Around each trigger position, the stretch of `class` bytes, kept when `enough` says it can
/// hold a match.
fn regions(
    hay: &[u8],
    triggers: impl Iterator<Item = usize>,
    class: &[bool; 256],
    enough: impl Fn(&[u8]) -> bool,
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut scanned_to = 0;
    for p in triggers {
        if p < scanned_to {
            continue;
        }
        let mut start = p;
        while start > 0 && class[hay[start - 1] as usize] {
            start -= 1;
        }
        let mut end = p + 1;
        while end < hay.len() && class[hay[end] as usize] {
            end += 1;
        }
        scanned_to = end;
        if enough(&hay[start..end]) {
            out.push((start, end));
        }
    }
    out
}

/// Shortest base64 or hex run worth decoding.
const MIN_RUN: usize = 16;

/// The next run of at least [`MIN_RUN`] [`RUN_CLASS`] bytes at or after `from` (which must not
/// be inside a run that began before it).
fn next_long_run(hay: &[u8], from: usize) -> Option<(usize, usize)> {
    let class = |b: u8| RUN_CLASS[b as usize];
    // From here, the first long run starts within about a block (or the text ends sooner).
    let from = skip_blocks(hay, from);
    let mut start = from;
    for (i, &b) in hay.iter().enumerate().skip(from) {
        if !class(b) {
            start = i + 1;
        } else if i + 1 - start == MIN_RUN {
            let end = hay[i..]
                .iter()
                .position(|&b| !class(b))
                .map_or(hay.len(), |n| i + n);
            return Some((start, end));
        }
    }
    None
}

/// Bytes per block in [`skip_blocks`].
const BLOCK: usize = 64;

/// Skips whole 64-byte blocks that cannot hold the start of a long run: their class bits, and
/// the run reaching in from the block before, never show [`MIN_RUN`] class bytes in a row. Returns
/// a position at or after `from`, not inside a run that began before it, with no long run
/// starting in between.
fn skip_blocks(hay: &[u8], from: usize) -> usize {
    let mut block = from;
    // Class bytes in a row that end where `block` starts (from the block before).
    let mut carry = 0;
    while block + BLOCK <= hay.len() {
        let bits = hay[block..block + BLOCK]
            .iter()
            .enumerate()
            .fold(0u64, |m, (i, &b)| {
                m | (u64::from(RUN_CLASS[b as usize]) << i)
            });
        // Bit i of `in_a_row` is set when bytes i..i+16 of the block are all in the class.
        let two = bits & (bits >> 1);
        let four = two & (two >> 2);
        let eight = four & (four >> 4);
        let in_a_row = eight & (eight >> 8);
        if in_a_row != 0 || carry + bits.trailing_ones() as usize >= MIN_RUN {
            return block - carry;
        }
        carry = bits.leading_ones() as usize;
        block += BLOCK;
    }
    block - carry
}

impl Decoder {
    /// Compiles the run finder.
    pub fn new() -> Self {
        let finder = Regex::builder()
            .syntax(syntax::Config::new().unicode(false).utf8(false))
            .build_many(&[
                // percent-encoding: at least three escapes among URL characters.
                r"(?:[A-Za-z0-9._~+!*'()\-]*%[0-9A-Fa-f]{2}){3,}[A-Za-z0-9._~+!*'()\-]*",
                // \uXXXX and \xXX escapes: at least three.
                r"(?:[A-Za-z0-9 _.:=\-]*\\(?:u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2})){3,}[A-Za-z0-9 _.:=\-]*",
                // HTML numeric character references: at least three.
                r"(?:[A-Za-z0-9 _.:=\-]*&#(?:[0-9]{1,7}|[xX][0-9A-Fa-f]{1,6});){3,}[A-Za-z0-9 _.:=\-]*",
            ])
            .expect("decoder patterns compile");
        Decoder {
            finder,
            rewriter: crate::rewrite::Rewriter::new(),
        }
    }

    /// Decodable runs in `text`, spending at most `budget` decoded bytes (reduced as it goes).
    pub fn candidates(&self, text: &str, budget: &mut usize) -> Vec<Decoded> {
        self.candidates_checked(text, budget).0
    }

    /// [`Self::candidates`], and whether a run was left undecoded although it reads as text
    /// (too long, or over the budget): the caller must not call the text clean then.
    pub fn candidates_checked(&self, text: &str, budget: &mut usize) -> (Vec<Decoded>, bool) {
        let hay = text.as_bytes();
        let mut out = Vec::new();
        let mut skipped_text = false;
        let mut push =
            |start: usize, end: usize, decoded: Option<(Encoding, String)>, budget: &mut usize| {
                if let Some((encoding, text)) = decoded {
                    *budget = budget.saturating_sub(text.len());
                    out.push(Decoded {
                        start,
                        end,
                        encoding,
                        text,
                        offsets: Offsets::Run,
                    });
                }
            };
        // base64 / base64url / hex: one byte class, told apart when decoding.
        let mut i = 0;
        while *budget > 0 {
            let Some((start, run_end)) = next_long_run(hay, i) else {
                break;
            };
            i = run_end;
            let mut end = i;
            // Padding: up to two `=` for base64, up to six for base32.
            while end < hay.len() && end - i < 6 && hay[end] == b'=' {
                end += 1;
            }
            let len = end - start;
            // A run is at least MIN_RUN long; padding only adds to it.
            let run = &text[start..end];
            if len <= MAX_RUN && len <= budget.saturating_mul(2) {
                let decoded = decode_hex(run)
                    .map(|t| (Encoding::Hex, t))
                    .or_else(|| decode_base64(run).map(|t| (Encoding::Base64, t)))
                    .or_else(|| decode_gzip_base64(run).map(|t| (Encoding::GzipBase64, t)))
                    .or_else(|| decode_base32(run).map(|t| (Encoding::Base32, t)));
                push(start, end, decoded, budget);
            } else {
                skipped_text |= reads_as_text(run);
            }
            i = end;
        }
        // A budget spent before the end of the runs leaves the rest undecoded.
        if *budget == 0 {
            skipped_text |= next_long_run(hay, i).is_some_and(|(s, e)| reads_as_text(&text[s..e]));
        }
        for (from, to) in escape_regions(hay)
            .into_iter()
            .chain(reference_regions(hay))
        {
            for m in self.finder.find_iter(Input::new(hay).range(from..to)) {
                if *budget == 0 {
                    break;
                }
                let run = &text[m.start()..m.end()];
                if run.len() > MAX_RUN || run.len() > budget.saturating_mul(2) {
                    skipped_text = true;
                    continue;
                }
                let decoded = match m.pattern().as_usize() {
                    0 => decode_percent(run).map(|t| (Encoding::Percent, t)),
                    1 => decode_escapes(run).map(|t| (Encoding::Escapes, t)),
                    _ => decode_entities(run).map(|t| (Encoding::HtmlEntities, t)),
                };
                push(m.start(), m.end(), decoded, budget);
            }
        }
        let (rewrites, dropped) = self.rewriter.rewrites(text, budget);
        out.extend(rewrites);
        skipped_text |= dropped;
        out.sort_by_key(|d| d.start);
        (out, skipped_text)
    }
}

/// `&#65;` and `&#x41;` references (and the text between them), decoded.
fn decode_entities(run: &str) -> Option<String> {
    let mut out = String::with_capacity(run.len() / 4);
    let mut rest = run;
    while let Some(p) = rest.find("&#") {
        out.push_str(&rest[..p]);
        let after = &rest[p + 2..];
        let semi = after.find(';')?;
        let num = &after[..semi];
        let code = match num.strip_prefix(['x', 'X']) {
            Some(h) => u32::from_str_radix(h, 16).ok()?,
            None => num.parse().ok()?,
        };
        out.push(char::from_u32(code)?);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    printable(out.into_bytes())
}

/// Largest gzip payload inflated from one base64 run (a bomb stops here).
const MAX_INFLATE: u64 = 1 << 20;

/// A gzip stream (magic `1f 8b`) pasted as base64, inflated (bounded) to text.
fn decode_gzip_base64(run: &str) -> Option<String> {
    use std::io::Read as _;
    let trimmed = run.trim_end_matches('=');
    if !trimmed.starts_with("H4sI") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .ok()?;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .take(MAX_INFLATE)
        .read_to_end(&mut out)
        .ok()?;
    printable(out)
}

/// RFC 4648 base32 (upper case, `=` padded to a multiple of eight).
fn decode_base32(run: &str) -> Option<String> {
    if !run.len().is_multiple_of(8) {
        return None;
    }
    let body = run.trim_end_matches('=');
    let mut bits = 0u64;
    let mut n = 0u32;
    let mut out = Vec::with_capacity(body.len() * 5 / 8);
    for c in body.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        bits = (bits << 5) | u64::from(v);
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    if !plausible_head(&out[..out.len().min(12)]) {
        return None;
    }
    printable(out)
}

/// Whether a long encoded run would decode to text (judged on its first kilobyte, cut on a
/// 4-character boundary, which suits base64 and hex alike): a binary payload (an image, an
/// archive) is not text left unread.
fn reads_as_text(run: &str) -> bool {
    let head = &run[..run.len().min(1024) / 4 * 4];
    decode_hex(head).is_some() || decode_base64(head).is_some()
}

/// Accepts decoded bytes only if they are UTF-8 text: a long-enough, mostly printable string.
fn printable(bytes: Vec<u8>) -> Option<String> {
    if bytes.len() < 8 {
        return None;
    }
    let s = String::from_utf8(bytes).ok()?;
    let total = s.chars().count();
    let good = s
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .count();
    (good * 100 >= total * 97).then_some(s)
}

/// Cheap rejection before any allocation: do the first decoded bytes look like text? They must
/// be valid UTF-8 (a sequence cut off at the end aside), as [`printable`] will require of all.
fn plausible_head(head: &[u8]) -> bool {
    let utf8 = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    utf8 && head.iter().all(|&b| {
        b.is_ascii_graphic() || b == b' ' || b == b'\n' || b == b'\t' || b == b'\r' || b >= 0x80
    })
}

fn decode_hex(run: &str) -> Option<String> {
    let b = run.as_bytes();
    if !b.len().is_multiple_of(2) || !b.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let head: Vec<u8> = b[..16.min(b.len())]
        .chunks(2)
        .filter_map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect();
    if !plausible_head(&head) {
        return None;
    }
    let bytes = b
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    printable(bytes)
}

fn decode_base64(run: &str) -> Option<String> {
    let trimmed = run.trim_end_matches('=');
    let engine = if trimmed.contains(['-', '_']) {
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
    } else {
        &base64::engine::general_purpose::STANDARD_NO_PAD
    };
    let mut head = [0u8; 12];
    let n = engine
        .decode_slice(trimmed.as_bytes().get(..16)?, &mut head)
        .ok()?;
    if !plausible_head(&head[..n]) {
        return None;
    }
    printable(engine.decode(trimmed).ok()?)
}

fn hex_val(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

fn decode_percent(run: &str) -> Option<String> {
    let b = run.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let (h, l) = (hex_val(*b.get(i + 1)?)?, hex_val(*b.get(i + 2)?)?);
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    printable(out)
}

fn decode_escapes(run: &str) -> Option<String> {
    let b = run.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'u') {
            let v = (2..6).try_fold(0u32, |acc, k| Some(acc * 16 + hex_val(*b.get(i + k)?)?))?;
            out.push(char::from_u32(v)?);
            i += 6;
        } else if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') {
            let v = (2..4).try_fold(0u32, |acc, k| Some(acc * 16 + hex_val(*b.get(i + k)?)?))?;
            out.push(char::from_u32(v)?);
            i += 4;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    printable(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(text: &str) -> Vec<(Encoding, String)> {
        let mut budget = 1 << 20;
        Decoder::new()
            .candidates(text, &mut budget)
            .into_iter()
            .map(|d| (d.encoding, d.text))
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn the_skipping_run_finder_finds_exactly_the_long_runs(text in "[a-c0-9 =_./+%-]{0,120}|([a-c0-9]{1,30}[ .%]){0,40}") {
            let hay = text.as_bytes();
            let mut naive = Vec::new();
            let mut i = 0;
            while i < hay.len() {
                let start = i;
                while i < hay.len() && RUN_CLASS[hay[i] as usize] {
                    i += 1;
                }
                if i - start >= MIN_RUN {
                    naive.push((start, i));
                }
                i = i.max(start + 1);
            }
            let mut fast = Vec::new();
            let mut from = 0;
            while let Some((start, end)) = next_long_run(hay, from) {
                fast.push((start, end));
                from = end;
            }
            proptest::prop_assert_eq!(fast, naive);
        }

        #[test]
        fn escape_regions_hold_every_escape_finder_match(
            parts in proptest::collection::vec(
                proptest::prop_oneof!["%[0-9a-f]{2}", r"\\u[0-9a-f]{4}", r"\\x[0-9a-f]{2}", "[a-z =]{1,3}", "[,;\"]"],
                0..40,
            )
        ) {
            let text = parts.concat();
            let hay = text.as_bytes();
            let finder = &Decoder::new().finder;
            let whole: Vec<_> = finder.find_iter(Input::new(hay)).map(|m| m.range()).collect();
            let regional: Vec<_> = escape_regions(hay)
                .into_iter()
                .flat_map(|(from, to)| finder.find_iter(Input::new(hay).range(from..to)).map(|m| m.range()).collect::<Vec<_>>())
                .collect();
            proptest::prop_assert_eq!(regional, whole);
        }
    }

    #[test]
    fn decodes_each_encoding() {
        let b64 = base64::engine::general_purpose::STANDARD.encode("token AKIAQWERTYUIOPASDFGH");
        assert_eq!(
            decode_all(&format!("x {b64} y")),
            [(Encoding::Base64, "token AKIAQWERTYUIOPASDFGH".to_string())]
        );
        let hex: String = "secret=hunter2hunter2"
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            decode_all(&hex),
            [(Encoding::Hex, "secret=hunter2hunter2".to_string())]
        );
        assert_eq!(
            decode_all("q=AKIA%51WERTY%55IOP%41SDFGH"),
            [(Encoding::Percent, "AKIAQWERTYUIOPASDFGH".to_string())]
        );
        assert_eq!(
            decode_all(r"\u0041\u004b\u0049\u0041QWERTY"),
            [(Encoding::Escapes, "AKIAQWERTY".to_string())]
        );
    }

    #[test]
    fn binary_and_ordinary_words_are_not_decoded() {
        assert!(
            decode_all("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
                .is_empty()
        );
        assert!(decode_all("the getAuthenticationTokenForUser function").is_empty());
        assert!(decode_all("/usr/local/lib/python3/site-packages").is_empty());
    }

    #[test]
    fn budget_bounds_the_work() {
        let b64 =
            base64::engine::general_purpose::STANDARD.encode("some plain text that decodes fine");
        let text = format!("{b64} ").repeat(100);
        let mut budget = 100;
        let got = Decoder::new().candidates(&text, &mut budget);
        assert!(got.len() <= 4, "{}", got.len());
    }
}
