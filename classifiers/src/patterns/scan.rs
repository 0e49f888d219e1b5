//! Scan time: the open and gated pattern passes, locating, confirmation and overlap
//! resolution. Everything here takes `&self`; the engine is built in `mod.rs`.
//!
//! Gated rules (a keyword, or a required context word) run only where they can be confirmed:
//! in regions around their gate hits, as wide as the confirmation window plus the pattern's
//! longest match. Their shared overlapping pass covers only the union of those regions, so
//! text with no gate hits costs the open pass alone.

use super::pass::Located;
use super::{
    PatternEngine, Role, DECODE_BUDGET, KEYWORD_WINDOW, MAX_DECODE_DEPTH, MAX_HITS,
    MAX_MATCHES_PER_PATTERN, NORMALIZED_WINDOW, RETRY_SHORTER_THAN, SMALL_TEXT, WHITESPACE_REACH,
};
use crate::normalize::normalized_windows;
use crate::validators::{shannon_entropy, Validator};
use crate::Finding;
use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};
use std::collections::BTreeMap;

/// A confirmed match before overlap resolution.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    rule: u32,
    finding: Finding,
}

/// One keyword or context-word occurrence.
#[derive(Debug, Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
    word: u32,
    /// Starts a word. Context words count only there (`sin` is not in `using`, `message` is
    /// in `messages`); keywords are often inside tokens (`github_pat_`), so they count anywhere.
    word_start: bool,
}

impl Hit {
    /// Whether this occurrence can stand in `role` (a context word must start a word).
    fn counts_as(&self, role: Role) -> bool {
        role == Role::Keyword || self.word_start
    }
}

/// Keyword hits of one text, ordered by end offset.
struct Hits {
    list: Vec<Hit>,
    /// Too many hits to remember: treat every word as present everywhere.
    saturated: bool,
}

/// Where one gated rule may match: `(rule, start, end)`, merged per rule.
type Region = (u32, usize, usize);

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
    fn scan_plain(&self, text: &str) -> Vec<Candidate> {
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
    fn spans_for(
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

    /// A small text in one pass of every pattern and word (`None` if that pass gives up): there,
    /// two passes' fixed costs and the gated regions' overlap outweigh searching the whole text.
    fn small_pass(&self, hay: &[u8]) -> Option<(Hits, Vec<Located>)> {
        let found = self.all.as_ref()?.run(hay, &[(0, hay.len())]).ok()?;
        Some((self.hits_from(hay, &found.words), found.located))
    }

    /// Word hits from a pass's `(word, end)` list.
    fn hits_from(&self, hay: &[u8], words: &[(u32, usize)]) -> Hits {
        let list = words
            .iter()
            .map(|&(word, end)| {
                let start = end - self.word_len[word as usize];
                Hit {
                    start,
                    end,
                    word,
                    word_start: starts_word(hay, start),
                }
            })
            .collect();
        Hits {
            list,
            saturated: false,
        }
    }

    /// The keyword and context-word hits, and where the open rules' patterns matched: one pass
    /// of the open automaton, or (if it gives up) the keyword automaton and a "which patterns
    /// match" pass.
    fn open_pass(&self, hay: &[u8]) -> (Hits, Vec<Located>) {
        let whole = [(0, hay.len())];
        let Some(open) = &self.open else {
            return (self.keyword_hits(hay), Vec::new());
        };
        match open.run(hay, &whole) {
            Ok(found) => (self.hits_from(hay, &found.words), found.located),
            Err(()) => (self.keyword_hits(hay), open.which(hay, &whole)),
        }
    }

    /// Where the gated rules' patterns matched, searching only around their gate hits; also
    /// those gate regions, once computed.
    fn gated_pass(&self, hay: &[u8], hits: &Hits) -> (Vec<Located>, Option<Vec<Region>>) {
        let Some(gated) = &self.gated else {
            return (Vec::new(), None);
        };
        let regions = self.gate_regions(hits, hay);
        if regions.is_empty() {
            return (Vec::new(), Some(regions));
        }
        let zones = zones(&regions);
        let located = gated
            .run(hay, &zones)
            .map(|found| found.located)
            .unwrap_or_else(|()| gated.which(hay, &zones));
        (located, Some(regions))
    }

    /// `(rule, start, end)` of the plain pass's candidates, as scanned and (the reference the
    /// passes must agree with) with every pattern located across the whole text.
    #[cfg(test)]
    pub(super) fn plain_both_ways(&self, text: &str) -> [Vec<(u32, usize, usize)>; 2] {
        let spans = |cands: Vec<Candidate>| {
            let mut v: Vec<_> = cands
                .iter()
                .map(|c| (c.rule, c.finding.start, c.finding.end))
                .collect();
            v.sort_unstable();
            v
        };
        let hits = self.keyword_hits(text.as_bytes());
        let mut reference = Vec::new();
        for pid in 0..self.single.len() {
            self.locate(text, &hits, pid, &[(0, text.len())], false, &mut reference);
        }
        [spans(self.scan_plain(text)), spans(reference)]
    }

    /// `(start, end, word)` of each word hit: from the open pass, and from the keyword automaton.
    #[cfg(test)]
    pub(super) fn word_hits_both_ways(&self, text: &str) -> [Vec<(usize, usize, u32)>; 2] {
        let hay = text.as_bytes();
        let list = |h: Hits| {
            let mut v: Vec<_> = h.list.iter().map(|h| (h.start, h.end, h.word)).collect();
            v.sort_unstable();
            v
        };
        [list(self.open_pass(hay).0), list(self.keyword_hits(hay))]
    }

    /// One rule's regions out of `regions` (sorted by rule).
    fn rule_regions(&self, regions: &[Region], rule: u32) -> Vec<(usize, usize)> {
        let first = regions.partition_point(|r| r.0 < rule);
        let last = regions.partition_point(|r| r.0 <= rule);
        regions[first..last].iter().map(|r| (r.1, r.2)).collect()
    }

    /// Every keyword and context-word occurrence in `hay`, by the keyword automaton.
    fn keyword_hits(&self, hay: &[u8]) -> Hits {
        let mut hits = Hits {
            list: Vec::new(),
            saturated: false,
        };
        let Some(ac) = &self.words else {
            return hits;
        };
        for m in ac.find_overlapping_iter(hay) {
            if hits.list.len() == MAX_HITS {
                hits.saturated = true;
                break;
            }
            let (start, end) = (m.start(), m.end());
            hits.list.push(Hit {
                start,
                end,
                word: m.pattern().as_u32(),
                word_start: starts_word(hay, start),
            });
        }
        hits
    }

    /// The regions each gated rule may match in, sorted by rule then start: around each gate
    /// hit, the confirmation window plus the rule's longest match on either side. A `spaced`
    /// rule's reach counts an unbounded run of whitespace as [`WHITESPACE_REACH`] bytes, so its
    /// regions also grow by how much longer the whitespace runs in them are: padding a key and
    /// its value apart does not hide the value.
    fn gate_regions(&self, hits: &Hits, hay: &[u8]) -> Vec<Region> {
        let len = hay.len();
        let mut regions: Vec<Region> = Vec::new();
        if hits.saturated {
            for (idx, rule) in self.rules.iter().enumerate() {
                if rule.gate().is_some() {
                    regions.push((idx as u32, 0, len));
                }
            }
            return regions;
        }
        for h in &hits.list {
            for &(rule_idx, role) in &self.word_roles[h.word as usize] {
                let rule = &self.rules[rule_idx as usize];
                let Some((gate, window)) = rule.gate() else {
                    continue;
                };
                if gate != role || !h.counts_as(role) {
                    continue;
                }
                // A confirmed match starts at most `window` bytes after the hit starts, ends at
                // most `window` bytes before the hit ends, and is at most `reach` long.
                let start = h.end.saturating_sub(window + rule.reach);
                let end = (h.start + window + rule.reach).min(len);
                regions.push((rule_idx, start, end));
            }
        }
        merge_regions(&mut regions);
        let spaced = |r: &Region| self.rules[r.0 as usize].spaced;
        if regions.iter().any(spaced) {
            let runs = long_whitespace_runs(hay);
            if !runs.is_empty() {
                for r in regions.iter_mut().filter(|r| spaced(r)) {
                    (r.1, r.2) = widen_over(&runs, r.1, r.2, len);
                }
                merge_regions(&mut regions);
            }
        }
        regions
    }

    /// Finds pattern `pid`'s matches inside `spans` (sorted, disjoint) and confirms them; `cut`
    /// when a match may continue past a span's end.
    fn locate(
        &self,
        text: &str,
        hits: &Hits,
        pid: usize,
        spans: &[(usize, usize)],
        cut: bool,
        out: &mut Vec<Candidate>,
    ) {
        let hay = text.as_bytes();
        let (re, rule_idx) = (&self.single[pid], self.pattern_rule[pid]);
        let (mut at, mut seen) = (0, 0);
        for &(start, end) in spans {
            at = at.max(start);
            while at < end {
                let Some(mut m) = re.search(&Input::new(hay).range(at..end)) else {
                    break;
                };
                if cut && m.end() == end && end < hay.len() {
                    // Perhaps cut short by the region's end (a match longer than the rule's
                    // reach assumed): take the whole match from its start.
                    let rest = Input::new(hay).range(m.start()..).anchored(Anchored::Yes);
                    m = re.search(&rest).unwrap_or(m);
                }
                seen += 1;
                match self.confirm(text, hits, rule_idx, pid, m.start(), m.end()) {
                    Some(finding) => {
                        at = m.end().max(m.start() + 1);
                        out.push(Candidate {
                            rule: rule_idx,
                            finding,
                        });
                    }
                    None if m.len() < RETRY_SHORTER_THAN && seen < MAX_MATCHES_PER_PATTERN => {
                        at = m.start() + 1
                    }
                    None => at = m.end().max(m.start() + 1),
                }
            }
        }
    }

    /// Applies keyword, context, stopword, entropy and validator checks to one regex match.
    fn confirm(
        &self,
        text: &str,
        hits: &Hits,
        rule_idx: u32,
        pid: usize,
        start: usize,
        end: usize,
    ) -> Option<Finding> {
        let rule = &self.rules[rule_idx as usize];
        if rule.needs_keyword
            && !self.word_near(hits, rule_idx, Role::Keyword, start, end, KEYWORD_WINDOW)
        {
            return None;
        }
        let hay = text.as_bytes();
        let (start, end) = if self.whole_group[pid] {
            (start, end)
        } else {
            value_span(&self.single[pid], hay, start, end)
        };
        let value = &hay[start..end];
        if !rule.stopwords.is_empty() {
            let lower = value.to_ascii_lowercase();
            if rule
                .stopwords
                .iter()
                .any(|w| lower.windows(w.len()).any(|win| win == w.as_bytes()))
            {
                return None;
            }
        }
        if rule
            .min_entropy
            .is_some_and(|min| shannon_entropy(value) < min)
        {
            return None;
        }
        if rule.validator.is_some_and(|v| !v.check(value)) {
            return None;
        }
        let mut score = rule.confidence;
        if let Some((window, required, boost)) = rule.context {
            if self.word_near(hits, rule_idx, Role::Context, start, end, window) {
                score = (score + boost).min(1.0);
            } else if required {
                return None;
            }
        }
        let (start, end) = snap_to_chars(text, start, end);
        Some(Finding {
            rule: rule.id.clone(),
            category: rule.category,
            entity: rule.entity.clone(),
            severity: rule.severity,
            start,
            end,
            score,
            validator: rule.validator.map(Validator::name),
            decoded_from: None,
        })
    }

    fn word_near(
        &self,
        hits: &Hits,
        rule: u32,
        role: Role,
        start: usize,
        end: usize,
        window: usize,
    ) -> bool {
        if hits.saturated {
            return true;
        }
        let hits = &hits.list;
        let lo = start.saturating_sub(window);
        let hi = end + window;
        // `hits` is sorted by end offset (overlapping iteration reports matches as they end).
        let first = hits.partition_point(|h| h.end < lo);
        hits[first..].iter().take_while(|h| h.end <= hi).any(|h| {
            h.start >= lo
                && h.counts_as(role)
                && self.word_roles[h.word as usize].contains(&(rule, role))
        })
    }

    /// Time spent per stage and per pattern on `text`, slowest first (for tuning rule packs), as
    /// the two-pass path runs it (texts over 16 KB; smaller ones take one pass of everything).
    pub fn profile(&self, text: &str) -> Vec<(String, f64)> {
        let hay = text.as_bytes();
        let mut out = Vec::new();
        let clock = std::time::Instant::now;
        let t = clock();
        let (hits, open) = self.open_pass(hay);
        let label = format!(
            "open pass: {} word hits, {} patterns match",
            hits.list.len(),
            open.len()
        );
        out.push((label, t.elapsed().as_secs_f64()));
        let t = clock();
        let (gated, mut regions) = self.gated_pass(hay, &hits);
        let covered: usize = regions
            .as_deref()
            .map_or(0, |r| zones(r).iter().map(|z| z.1 - z.0).sum());
        let label = format!(
            "gated pass over {covered} bytes ({} patterns match)",
            gated.len()
        );
        out.push((label, t.elapsed().as_secs_f64()));
        let lists = open
            .into_iter()
            .map(|l| ("open", l))
            .chain(gated.into_iter().map(|l| ("gated", l)));
        for (group, l) in lists {
            let pid = l.pid;
            let (spans, cut) = self.spans_for(l, &hits, &mut regions, hay);
            let t = clock();
            let mut found = Vec::new();
            self.locate(text, &hits, pid, &spans, cut, &mut found);
            let rule = &self.rules[self.pattern_rule[pid] as usize].id;
            let bytes: usize = spans.iter().map(|s| s.1 - s.0).sum();
            let label = format!(
                "{group} pattern {pid} of {rule} over {bytes} bytes ({} confirmed)",
                found.len()
            );
            out.push((label, t.elapsed().as_secs_f64()));
        }
        let t = clock();
        let mut budget = DECODE_BUDGET;
        let k = self.decoder.candidates(text, &mut budget).len();
        out.push((format!("decoder ({k} runs)"), t.elapsed().as_secs_f64()));
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }
}

/// Whether each byte is whitespace as a pattern's `\s` sees it in ASCII.
const SPACE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i as u8).is_ascii_whitespace() || i == 0x0b;
        i += 1;
    }
    t
};

fn is_space(b: u8) -> bool {
    SPACE[b as usize]
}

/// The runs of whitespace longer than [`WHITESPACE_REACH`], in order. Such a run holds two
/// probes `WHITESPACE_REACH / 2` bytes apart, so ordinary text costs two table lookups per
/// probe, without branching on them.
pub(super) fn long_whitespace_runs(hay: &[u8]) -> Vec<(usize, usize)> {
    const STEP: usize = WHITESPACE_REACH / 2;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut p = 0;
    while p + STEP < hay.len() {
        // `&`, not `&&`: both lookups every time is cheaper than an unpredictable branch.
        if !(is_space(hay[p]) & is_space(hay[p + STEP]))
            || !hay[p..p + STEP].iter().all(|&b| is_space(b))
        {
            p += STEP;
            continue;
        }
        let start = hay[..p]
            .iter()
            .rposition(|&b| !is_space(b))
            .map_or(0, |q| q + 1);
        let end = hay[p..]
            .iter()
            .position(|&b| !is_space(b))
            .map_or(hay.len(), |q| p + q);
        if end - start > WHITESPACE_REACH {
            runs.push((start, end));
        }
        p = end + 1;
    }
    runs
}

/// `start..end` widened on both sides by the excess over [`WHITESPACE_REACH`] of every long
/// run (`runs`: sorted, disjoint) it overlaps, until that covers no further run. Each run is
/// counted once, so the cost is the number of runs the result covers.
fn widen_over(runs: &[(usize, usize)], start: usize, end: usize, len: usize) -> (usize, usize) {
    let excess = |r: &(usize, usize)| r.1 - r.0 - WHITESPACE_REACH;
    let (mut s, mut e) = (start, end);
    // Runs `lo..hi` overlap `s..e` and are counted in `total`.
    let mut lo = runs.partition_point(|r| r.1 <= start);
    let mut hi = lo;
    let mut total = 0;
    loop {
        let counted = (lo, hi);
        while hi < runs.len() && runs[hi].0 < e {
            total += excess(&runs[hi]);
            hi += 1;
        }
        while lo > 0 && runs[lo - 1].1 > s {
            lo -= 1;
            total += excess(&runs[lo]);
        }
        if (lo, hi) == counted {
            return (s, e);
        }
        (s, e) = (start.saturating_sub(total), (end + total).min(len));
    }
}

/// Sorts regions and joins those of one rule that overlap or touch.
fn merge_regions(regions: &mut Vec<Region>) {
    regions.sort_unstable();
    regions.dedup_by(|next, kept| {
        let joins = next.0 == kept.0 && next.1 <= kept.2;
        if joins {
            kept.2 = kept.2.max(next.2);
        }
        joins
    });
}

/// Whether a word starts at `at`: after a non-alphanumeric byte, or after a literal `\n`, `\r`
/// or `\t` escape (text copied out of JSON or logs).
fn starts_word(hay: &[u8], at: usize) -> bool {
    match at.checked_sub(1).map(|i| hay[i]) {
        None => true,
        Some(b'n' | b'r' | b't') if at >= 2 && hay[at - 2] == b'\\' => true,
        Some(b) => !b.is_ascii_alphanumeric(),
    }
}

/// The union of all rules' regions, in order: where the gated pattern pass runs.
fn zones(regions: &[Region]) -> Vec<(usize, usize)> {
    let mut starts: Vec<(usize, usize)> = regions.iter().map(|r| (r.1, r.2)).collect();
    starts.sort_unstable();
    let mut spans = Vec::with_capacity(starts.len());
    for (s, e) in starts {
        crate::spans::push_joined(&mut spans, s, e);
    }
    spans
}

/// The span of capture group 1 if the pattern has one and it took part, else the match.
/// Runs only on regex matches, so its one allocation stays off the common path.
fn value_span(re: &Regex, hay: &[u8], start: usize, end: usize) -> (usize, usize) {
    if re.captures_len() < 2 {
        return (start, end);
    }
    let mut caps = re.create_captures();
    let input = Input::new(hay).range(start..end).anchored(Anchored::Yes);
    re.search_captures(&input, &mut caps);
    match caps.get_group(1) {
        Some(span) if !span.is_empty() => (span.start, span.end),
        _ => (start, end),
    }
}

fn snap_to_chars(text: &str, mut start: usize, mut end: usize) -> (usize, usize) {
    while start > 0 && !text.is_char_boundary(start) {
        start -= 1;
    }
    while end < text.len() && !text.is_char_boundary(end) {
        end += 1;
    }
    (start, end)
}
