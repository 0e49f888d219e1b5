//! Locating matches: the keyword and open passes, the gated regions around keyword hits,
//! confirmation of a candidate by its validator, context words and entropy, and the byte-level
//! helpers they share. `scan.rs` drives these passes and resolves what they find.

use super::pass::Located;
use super::scan::Candidate;
use super::*;
use crate::validators::{shannon_entropy, Validator};
use crate::Finding;
use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};

/// One keyword or context-word occurrence.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hit {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) word: u32,
    /// Starts a word. Context words count only there (`sin` is not in `using`, `message` is
    /// in `messages`); keywords are often inside tokens (`github_pat_`), so they count anywhere.
    pub(super) word_start: bool,
}

impl Hit {
    /// Whether this occurrence can stand in `role` (a context word must start a word).
    pub(super) fn counts_as(&self, role: Role) -> bool {
        role == Role::Keyword || self.word_start
    }
}

/// Keyword hits of one text, ordered by end offset.
pub(super) struct Hits {
    pub(super) list: Vec<Hit>,
    /// Too many hits to remember: treat every word as present everywhere.
    pub(super) saturated: bool,
}

/// Where one gated rule may match: `(rule, start, end)`, merged per rule.
pub(super) type Region = (u32, usize, usize);

impl PatternEngine {
    /// A small text in one pass of every pattern and word (`None` if that pass gives up): there,
    /// two passes' fixed costs and the gated regions' overlap outweigh searching the whole text.
    pub(super) fn small_pass(&self, hay: &[u8]) -> Option<(Hits, Vec<Located>)> {
        let found = self.all.as_ref()?.run(hay, &[(0, hay.len())]).ok()?;
        Some((self.hits_from(hay, &found.words), found.located))
    }

    /// Word hits from a pass's `(word, end)` list.
    pub(super) fn hits_from(&self, hay: &[u8], words: &[(u32, usize)]) -> Hits {
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
    pub(super) fn open_pass(&self, hay: &[u8]) -> (Hits, Vec<Located>) {
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
    pub(super) fn gated_pass(
        &self,
        hay: &[u8],
        hits: &Hits,
    ) -> (Vec<Located>, Option<Vec<Region>>) {
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
    pub(super) fn rule_regions(&self, regions: &[Region], rule: u32) -> Vec<(usize, usize)> {
        let first = regions.partition_point(|r| r.0 < rule);
        let last = regions.partition_point(|r| r.0 <= rule);
        regions[first..last].iter().map(|r| (r.1, r.2)).collect()
    }

    /// Every keyword and context-word occurrence in `hay`, by the keyword automaton.
    pub(super) fn keyword_hits(&self, hay: &[u8]) -> Hits {
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
    pub(super) fn gate_regions(&self, hits: &Hits, hay: &[u8]) -> Vec<Region> {
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
    pub(super) fn locate(
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
    pub(super) fn confirm(
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

    pub(super) fn word_near(
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

pub(super) fn is_space(b: u8) -> bool {
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
pub(super) fn widen_over(
    runs: &[(usize, usize)],
    start: usize,
    end: usize,
    len: usize,
) -> (usize, usize) {
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
pub(super) fn merge_regions(regions: &mut Vec<Region>) {
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
pub(super) fn starts_word(hay: &[u8], at: usize) -> bool {
    match at.checked_sub(1).map(|i| hay[i]) {
        None => true,
        Some(b'n' | b'r' | b't') if at >= 2 && hay[at - 2] == b'\\' => true,
        Some(b) => !b.is_ascii_alphanumeric(),
    }
}

/// The union of all rules' regions, in order: where the gated pattern pass runs.
pub(super) fn zones(regions: &[Region]) -> Vec<(usize, usize)> {
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
pub(super) fn value_span(re: &Regex, hay: &[u8], start: usize, end: usize) -> (usize, usize) {
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

pub(super) fn snap_to_chars(text: &str, mut start: usize, mut end: usize) -> (usize, usize) {
    while start > 0 && !text.is_char_boundary(start) {
        start -= 1;
    }
    while end < text.len() && !text.is_char_boundary(end) {
        end += 1;
    }
    (start, end)
}
