//! Scan time: the entry points (one text; many texts through the memo, with the boundaries
//! between them), the layers a text is read in (as written, decoded, normalized) and overlap
//! resolution. The passes themselves (keywords, gated regions, locating, confirmation) are in
//! `locate.rs`. Everything here takes `&self`; the engine is built in `mod.rs`.
//!
//! Gated rules (a keyword, or a required context word) run only where they can be confirmed:
//! in regions around their gate hits, as wide as the confirmation window plus the pattern's
//! longest match. Their shared overlapping pass covers only the union of those regions, so
//! text with no gate hits costs the open pass alone.

use super::locate::{Hits, Region};
use super::pass::Located;
use super::{PatternEngine, DECODE_BUDGET, MAX_DECODE_DEPTH, NORMALIZED_WINDOW, SMALL_TEXT};
use crate::normalize::normalized_windows;
use crate::Finding;
use std::collections::BTreeMap;

/// A confirmed match before overlap resolution.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub(super) rule: u32,
    pub(super) finding: Finding,
}

/// Findings, and the limit that left part of the text unread, if one did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scanned {
    pub findings: Vec<Finding>,
    /// Why part of the text was not read (see [`PatternEngine::scan_checked`]).
    pub limit: Option<&'static str>,
}

/// What [`PatternEngine::scan_texts_in`] found: each text's own scan with how its memo lookup
/// went, and the values split across neighbouring texts (`(index of the text, finding)`, as
/// [`PatternEngine::scan_boundaries`] gives them).
#[derive(Debug, Clone, Default)]
pub struct TextsScanned {
    pub texts: Vec<(Scanned, super::Lookup)>,
    pub boundaries: Vec<(usize, Finding)>,
}

/// Bytes read on each side of a boundary between consecutive texts (longer than any rule's
/// value, shorter than a message worth rescanning).
pub const JOIN_REACH: usize = 256;

impl PatternEngine {
    /// Finds every confirmed value in `text`, with byte offsets into `text`, ordered by start.
    ///
    /// The text is scanned as is, then normalized (invisible characters removed, compatibility
    /// forms and look-alikes folded) when that changes it, then encoded runs are decoded and
    /// scanned, up to three layers deep. A finding inside decoded content spans the whole
    /// encoded run in `text` and says which encodings it came through. Findings never overlap.
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        self.scan_checked(text).findings
    }

    /// Findings that exist only across the boundary between consecutive texts: a value split
    /// over two messages, fields or turns. Each side is read up to [`JOIN_REACH`] bytes from
    /// the boundary; a value found across it is reported in both texts, each with its own
    /// part (so a redaction masks both): `(index of the text, finding in its offsets)`.
    pub fn scan_boundaries(&self, texts: &[&str]) -> Vec<(usize, Finding)> {
        self.boundaries(texts, |_, t| self.scan(t))
    }

    /// [`Self::scan_checked`] through the memo (when on) within `scope`: a text scanned
    /// before in the same scope is answered without a scan. Says how the lookup went.
    pub fn scan_in(&self, scope: &str, text: &str) -> (Scanned, super::Lookup) {
        match &self.memo {
            Some(memo) => memo.get_or_scan(scope, text, |t| self.scan_checked(t)),
            None => (self.scan_checked(text), super::Lookup::Skipped),
        }
    }

    /// [`Self::scan_checked`] of each text and [`Self::scan_boundaries`] of the sequence, with
    /// no memo (each lookup `Skipped`).
    pub fn scan_texts(&self, texts: &[&str]) -> TextsScanned {
        TextsScanned {
            texts: texts
                .iter()
                .map(|t| (self.scan_checked(t), super::Lookup::Skipped))
                .collect(),
            boundaries: self.scan_boundaries(texts),
        }
    }

    /// [`Self::scan_in`] of each text and [`Self::scan_boundaries`] of the sequence, through
    /// the memo (when on): each text is hashed once, and a boundary is remembered under the
    /// pair of its neighbours' keys, so a resent history costs one pass of hashing, not two.
    pub fn scan_texts_in(&self, scope: &str, texts: &[&str]) -> TextsScanned {
        let Some(memo) = &self.memo else {
            return self.scan_texts(texts);
        };
        let keys: Vec<Option<u128>> = texts.iter().map(|t| memo.key(scope, t)).collect();
        let scanned = texts
            .iter()
            .zip(&keys)
            .map(|(t, k)| memo.get_or_scan_keyed(*k, t, |t| self.scan_checked(t)))
            .collect();
        let boundaries = self.boundaries(texts, |i, joined| {
            let key = match (keys[i], keys[i + 1]) {
                (Some(a), Some(b)) => Some(memo.pair_key(scope, a, b)),
                _ => memo.key(scope, joined),
            };
            memo.get_or_scan_keyed(key, joined, |t| self.scan_checked(t))
                .0
                .findings
        });
        TextsScanned {
            texts: scanned,
            boundaries,
        }
    }

    fn boundaries(
        &self,
        texts: &[&str],
        scan: impl Fn(usize, &str) -> Vec<Finding>,
    ) -> Vec<(usize, Finding)> {
        let mut out = Vec::new();
        let mut joined = String::new();
        for (i, pair) in texts.windows(2).enumerate() {
            let (a, b) = (pair[0], pair[1]);
            if a.is_empty() || b.is_empty() {
                continue;
            }
            let mut from = a.len().saturating_sub(JOIN_REACH);
            while !a.is_char_boundary(from) {
                from += 1;
            }
            let mut to = b.len().min(JOIN_REACH);
            while !b.is_char_boundary(to) {
                to -= 1;
            }
            let cut = a.len() - from;
            joined.clear();
            joined.push_str(&a[from..]);
            joined.push_str(&b[..to]);
            for f in scan(i, &joined) {
                if f.start < cut && f.end > cut {
                    out.push((
                        i,
                        Finding {
                            start: from + f.start,
                            end: a.len(),
                            ..f.clone()
                        },
                    ));
                    out.push((
                        i + 1,
                        Finding {
                            start: 0,
                            end: f.end - cut,
                            ..f
                        },
                    ));
                }
            }
        }
        out
    }

    /// [`Self::scan`], and whether a limit left part of the text unread: an encoded run that
    /// reads as text but is too long to decode, or past the decoding budget. Callers treat
    /// such a text as not clean (`scan_limit`), whatever was found.
    pub fn scan_checked(&self, text: &str) -> Scanned {
        let mut budget = DECODE_BUDGET;
        let mut limit = None;
        let findings = self
            .scan_layers(text, 0, &mut budget, &mut limit)
            .into_iter()
            .map(|c| c.finding)
            .collect();
        Scanned { findings, limit }
    }

    fn scan_layers(
        &self,
        text: &str,
        depth: u8,
        budget: &mut usize,
        limit: &mut Option<&'static str>,
    ) -> Vec<Candidate> {
        let mut pool = self.scan_plain(text);
        // Only text near a changed character can hold a finding the plain pass missed.
        for (base, n) in normalized_windows(text, NORMALIZED_WINDOW) {
            for mut c in self.scan_plain(&n.text) {
                let (s, e) = n.original_span(c.finding.start, c.finding.end);
                (c.finding.start, c.finding.end) = (base + s, base + e);
                pool.push(c);
            }
        }
        if depth < MAX_DECODE_DEPTH && *budget > 0 {
            let (runs, skipped) = self.decoder.candidates_checked(text, budget);
            if skipped {
                *limit = Some("an encoded run too long or past the decoding budget");
            }
            for d in runs {
                for mut c in self.scan_layers(&d.text, depth + 1, budget, limit) {
                    let Some(span) = d.map_span(c.finding.start, c.finding.end) else {
                        continue;
                    };
                    (c.finding.start, c.finding.end) = span;
                    c.finding.decoded_from = Some(match c.finding.decoded_from {
                        Some(inner) => format!("{}>{inner}", d.encoding.name()),
                        None => d.encoding.name().to_string(),
                    });
                    pool.push(c);
                }
            }
        } else if depth == MAX_DECODE_DEPTH {
            // One layer too deep to decode: if something here would still decode to text,
            // this text was not read to the bottom.
            let mut probe = (*budget).min(1 << 16);
            if !self.decoder.candidates(text, &mut probe).is_empty() {
                *limit = Some("encoded more layers deep than are decoded");
            }
        }
        self.resolve(pool)
    }

    /// Keeps a non-overlapping subset: severity, then specific over generic, then the longer
    /// span, then the earlier start, then pack order. `O(n log n)`.
    fn resolve(&self, mut pool: Vec<Candidate>) -> Vec<Candidate> {
        if pool.len() > 1 {
            pool.sort_by(|a, b| {
                let (ra, rb) = (&self.rules[a.rule as usize], &self.rules[b.rule as usize]);
                let (fa, fb) = (&a.finding, &b.finding);
                rb.severity
                    .cmp(&ra.severity)
                    .then(ra.tier.cmp(&rb.tier))
                    .then((fb.end - fb.start).cmp(&(fa.end - fa.start)))
                    .then(fa.start.cmp(&fb.start))
                    .then(a.rule.cmp(&b.rule))
            });
        }
        let mut kept: BTreeMap<usize, Candidate> = BTreeMap::new();
        for c in pool {
            let (s, e) = (c.finding.start, c.finding.end);
            let before = kept
                .range(..e)
                .next_back()
                .is_some_and(|(_, k)| k.finding.end > s);
            if !before {
                kept.insert(s, c);
            }
        }
        kept.into_values().collect()
    }

    /// The pattern passes over `text` exactly as given.
    pub(super) fn scan_plain(&self, text: &str) -> Vec<Candidate> {
        let hay = text.as_bytes();
        let mut regions = None;
        let small = (hay.len() <= SMALL_TEXT)
            .then(|| self.small_pass(hay))
            .flatten();
        let (hits, listed) = match small {
            Some(found) => found,
            None => {
                let (hits, mut listed) = self.open_pass(hay);
                let (gated, gate_regions) = self.gated_pass(hay, &hits);
                listed.extend(gated);
                regions = gate_regions;
                (hits, listed)
            }
        };
        let mut out = Vec::new();
        for l in listed {
            let pid = l.pid;
            let (spans, cut) = self.spans_for(l, &hits, &mut regions, hay);
            self.locate(text, &hits, pid, &spans, cut, &mut out);
        }
        out
    }

    /// Where to locate a listed pattern: its windows, else (its matches being unbounded in
    /// length) its rule's gate regions for a gated rule or the whole text for an open one; and
    /// whether the spans are gate regions, which a match may run past (windows end at the ends
    /// the pass saw, inside regions sized for the pattern). `regions` caches the gate regions
    /// of `hits`.
    pub(super) fn spans_for(
        &self,
        l: Located,
        hits: &Hits,
        regions: &mut Option<Vec<Region>>,
        hay: &[u8],
    ) -> (Vec<(usize, usize)>, bool) {
        let rule = self.pattern_rule[l.pid];
        match l.spans {
            Some(spans) => (spans, false),
            None if self.rules[rule as usize].gate().is_some() => {
                let regions = regions.get_or_insert_with(|| self.gate_regions(hits, hay));
                (self.rule_regions(regions, rule), true)
            }
            None => (vec![(0, hay.len())], false),
        }
    }
}
