//! What scanning a text found, remembered, so that text a client resends (the system prompt and
//! the whole history, on every chat turn) is scanned once and only new text costs a scan.
//!
//! - A scan is a pure function of the engine and the text, so an entry never goes stale; the
//!   memo belongs to one engine, and a reloaded engine comes with an empty one.
//! - Keys are a keyed hash (HMAC-SHA-256, truncated to 128 bits) of a scope (the tenant) and the
//!   text, under a key drawn at start and never stored. The memo holds no text (findings hold
//!   offsets, never values); without the key nobody can tell which texts it holds or make two
//!   texts collide. The scope keeps one tenant from timing another's texts.
//! - Short texts are scanned, not looked up: hashing them costs about what scanning does.
//! - Bounded by weight (S3-FIFO eviction from `quick_cache`): an entry weighs one plus its
//!   findings, so a flood of texts full of findings cannot grow it past its budget, and a
//!   result with many findings is not kept at all.

use super::Scanned;
use crate::keyed::KeyedHash;
use std::sync::Arc;

/// Texts shorter than this are scanned every time.
pub const MEMO_MIN_BYTES: usize = 256;
/// Results with more findings than this are not kept.
const MEMO_MAX_FINDINGS: usize = 64;

/// How a scan went through the memo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Answered from the memo.
    Hit,
    /// Scanned, and remembered when small enough.
    Miss,
    /// Scanned without a lookup: the memo is off or the text is short.
    Skipped,
}

/// An entry's weight: one, plus one per finding (each about the size of an empty entry).
#[derive(Debug, Clone, Copy)]
struct ByFindings;

impl quick_cache::Weighter<u128, Arc<Scanned>> for ByFindings {
    fn weight(&self, _key: &u128, scanned: &Arc<Scanned>) -> u64 {
        1 + scanned.findings.len() as u64
    }
}

/// The keyed, bounded memo of scan results.
pub(super) struct ScanMemo {
    key: KeyedHash,
    map: quick_cache::sync::Cache<u128, Arc<Scanned>, ByFindings>,
}

impl std::fmt::Debug for ScanMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanMemo")
            .field("entries", &self.map.len())
            .finish_non_exhaustive()
    }
}

impl ScanMemo {
    /// A memo of at most `entries` units of weight (results without findings) under a fresh
    /// random key; `None` when the system has no randomness to draw the key from.
    pub fn new(entries: usize) -> Option<Self> {
        let entries = entries.max(1);
        Some(ScanMemo {
            key: KeyedHash::generate()?,
            map: quick_cache::sync::Cache::with_weighter(entries, entries as u64, ByFindings),
        })
    }

    /// The remembered result for `text`, or `scan(text)`, remembered.
    pub fn get_or_scan(
        &self,
        scope: &str,
        text: &str,
        scan: impl FnOnce(&str) -> Scanned,
    ) -> (Scanned, Lookup) {
        self.get_or_scan_keyed(self.key(scope, text), text, scan)
    }

    /// `text`'s key within `scope`; `None` for a text too short to look up.
    pub fn key(&self, scope: &str, text: &str) -> Option<u128> {
        (text.len() >= MEMO_MIN_BYTES).then(|| self.key.of(scope, text))
    }

    /// The key of the boundary between two texts with keys `a` and `b` (what is read across
    /// it is a function of the two texts).
    pub fn pair_key(&self, scope: &str, a: u128, b: u128) -> u128 {
        self.key.of_pair(scope, a, b)
    }

    /// The result remembered under `key`, or `scan(text)`, remembered under it; no key scans.
    pub fn get_or_scan_keyed(
        &self,
        key: Option<u128>,
        text: &str,
        scan: impl FnOnce(&str) -> Scanned,
    ) -> (Scanned, Lookup) {
        let Some(key) = key else {
            return (scan(text), Lookup::Skipped);
        };
        if let Some(hit) = self.map.get(&key) {
            return (Scanned::clone(&hit), Lookup::Hit);
        }
        let scanned = scan(text);
        if scanned.findings.len() <= MEMO_MAX_FINDINGS {
            self.map.insert(key, Arc::new(scanned.clone()));
        }
        (scanned, Lookup::Miss)
    }

    /// Results held now.
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PatternEngine, TextsScanned};

    fn engine(entries: usize) -> PatternEngine {
        crate::builtin_engine()
            .expect("built-in packs compile")
            .with_memo(entries)
            .expect("memo key")
    }

    /// A text over the memo's minimum with a key at a known place.
    fn text_with_key(filler: usize) -> String {
        format!(
            "{} my key is AKIAQWERTYUIOPASDFGH, keep it safe",
            "Notes from the planning meeting. ".repeat(filler)
        )
    }

    #[test]
    fn a_resent_text_comes_from_the_memo_with_the_same_findings() {
        let e = engine(64);
        let text = text_with_key(10);
        let plain = e.scan_checked(&text);
        assert_eq!(plain.findings.len(), 1, "{plain:?}");
        let (first, how) = e.scan_in("acme", &text);
        assert_eq!(how, Lookup::Miss);
        let (again, how) = e.scan_in("acme", &text);
        assert_eq!(how, Lookup::Hit);
        assert_eq!(first, plain);
        assert_eq!(again, plain);
        assert_eq!(e.memo_len(), Some(1));
    }

    #[test]
    fn scopes_and_texts_are_apart_and_short_texts_are_not_looked_up() {
        let e = engine(64);
        let text = text_with_key(10);
        e.scan_in("acme", &text);
        // Another tenant's identical text is not answered from acme's entry.
        assert_eq!(e.scan_in("globex", &text).1, Lookup::Miss);
        // One changed byte is another text, with its own findings.
        let changed = text.replace("AKIAQWERTYUIOPASDFGH", "AKIAQWERTYUIOPASDFGX");
        let (found, how) = e.scan_in("acme", &changed);
        assert_eq!(how, Lookup::Miss);
        assert_eq!(found, e.scan_checked(&changed));
        let short = "my key is AKIAQWERTYUIOPASDFGH";
        assert!(short.len() < MEMO_MIN_BYTES);
        let (found, how) = e.scan_in("acme", short);
        assert_eq!(how, Lookup::Skipped);
        assert_eq!(found.findings.len(), 1);
    }

    #[test]
    fn texts_full_of_findings_weigh_more_and_the_memo_stays_within_its_weight() {
        let e = engine(64);
        // Each text holds 20 keys (weight 21), so about three fit in 64 units.
        for i in 0..200 {
            let mails: String = (0..20)
                .map(|k| format!(" write to ana.{k}@team{i}.example.com, "))
                .collect();
            let (found, _) = e.scan_in("acme", &format!("{i} {}{mails}", text_with_key(8)));
            assert!(found.findings.len() >= 20, "{found:?}");
        }
        let held = e.memo_len().expect("memo on");
        assert!(held <= 6, "{held} entries of weight 22");
    }

    #[test]
    fn the_memo_stays_bounded_and_can_be_off() {
        let e = engine(32);
        for i in 0..2_000 {
            e.scan_in("acme", &format!("{i} {}", text_with_key(10)));
        }
        let held = e.memo_len().expect("memo on");
        assert!(held <= 32 + 8, "{held} entries");
        let off = engine(0);
        assert_eq!(off.memo_len(), None);
        assert_eq!(off.scan_in("acme", &text_with_key(10)).1, Lookup::Skipped);
    }

    #[test]
    fn a_value_split_across_a_remembered_text_and_a_new_one_is_still_found() {
        let e = engine(64);
        let head = format!(
            "{} and the key is AKIAQWERTYUI",
            "Notes from the planning meeting. ".repeat(10)
        );
        // The first turn ends with half a key; the scan remembers it as clean.
        let (alone, _) = e.scan_in("acme", &head);
        assert!(alone.findings.is_empty(), "{alone:?}");
        // The next turn resends it (a hit) and adds the other half: the boundary scan, also
        // through the memo, still reports the value in both parts.
        let tail = "OPASDFGH, thanks";
        assert_eq!(e.scan_in("acme", &head).1, Lookup::Hit);
        let pairs = e.scan_texts_in("acme", &[&head, tail]).boundaries;
        assert_eq!(pairs, e.scan_boundaries(&[&head, tail]));
        assert_eq!(pairs.len(), 2, "{pairs:?}");
        assert_eq!(&head[pairs[0].1.start..pairs[0].1.end], "AKIAQWERTYUI");
        assert_eq!(&tail[pairs[1].1.start..pairs[1].1.end], "OPASDFGH");
    }

    #[test]
    fn a_boundary_between_remembered_texts_is_remembered_by_its_neighbours_keys() {
        let e = engine(256);
        let notes = "Notes from the planning meeting. ".repeat(10);
        let head = format!("{notes} and the key is AKIAQWERTYUI");
        let tail = format!("OPASDFGH, thanks. {notes}");
        let other = format!("OPASDFGX, thanks. {notes}");
        let texts = [notes.as_str(), head.as_str(), tail.as_str(), notes.as_str()];
        let first = e.scan_texts_in("acme", &texts);
        // Each text on its own (the repeated notes from the memo), and the split key across
        // head | tail, as without the memo.
        let lookups = |s: &TextsScanned| s.texts.iter().map(|(_, l)| *l).collect::<Vec<_>>();
        let (miss, hit) = (Lookup::Miss, Lookup::Hit);
        assert_eq!(lookups(&first), [miss, miss, miss, hit]);
        assert_eq!(first.boundaries, e.scan_boundaries(&texts));
        assert_eq!(first.boundaries.len(), 2, "{:?}", first.boundaries);
        let held = e.memo_len().expect("memo on");
        // The same sequence again: every text and every boundary from the memo, same answer.
        let again = e.scan_texts_in("acme", &texts);
        assert_eq!(lookups(&again), [hit; 4]);
        assert_eq!(again.boundaries, first.boundaries);
        assert_eq!(e.memo_len(), Some(held));
        // A changed neighbour makes a new pair: its boundaries are read again.
        let changed = [
            notes.as_str(),
            head.as_str(),
            other.as_str(),
            notes.as_str(),
        ];
        assert_eq!(
            e.scan_texts_in("acme", &changed).boundaries,
            e.scan_boundaries(&changed)
        );
        // Another scope shares nothing.
        let elsewhere = e.scan_texts_in("globex", &texts);
        assert_eq!(lookups(&elsewhere), [miss, miss, miss, hit]);
        assert_eq!(elsewhere.boundaries, first.boundaries);
    }
}
