//! The compiled pattern engine: one keyword pass, one multi-pattern pass, then validation.
//!
//! Build once with [`PatternEngine::new`]; scanning takes `&self`, so one engine serves every
//! thread behind an `Arc`, and a reload swaps the `Arc`.
//!
//! How a scan works, and what it costs:
//! 1. one aho-corasick pass finds every keyword and context word (linear);
//! 2. one overlapping multi-pattern pass over all rules' regexes tells which patterns match
//!    anywhere (linear; for benign text it usually finds none and the scan ends here);
//! 3. only those patterns run again to locate their matches; keyword gates, stopwords,
//!    entropy, validators and context words confirm or drop each one;
//! 4. overlapping findings are resolved: higher severity wins, then specific rules over generic
//!    ones, then the longer span, then the earlier start, then pack order.

use crate::decode::Decoder;
use crate::normalize::normalized_windows;
use crate::rules::{RuleError, RulePack, Tier};
use crate::validators::{shannon_entropy, Validator};
use crate::{Category, Finding, Severity};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind as AcMatchKind};
use regex_automata::meta::Regex;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind, PatternSet};
use std::collections::BTreeMap;
use std::sync::Arc;
use thiserror::Error;

/// How far (bytes) from a match a rule's keyword may appear and still enable the rule.
const KEYWORD_WINDOW: usize = 64;
/// Decoding layers: an encoded run inside an encoded run is decoded, up to this depth.
const MAX_DECODE_DEPTH: u8 = 3;
/// Decoded bytes one scan may produce in total.
const DECODE_BUDGET: usize = 4 << 20;
/// A rejected match shorter than this is retried one byte later, so a misaligned candidate
/// (say, a card number inside a longer digit run) is still found; longer ones resume after the
/// match, keeping every pattern's pass linear.
const RETRY_SHORTER_THAN: usize = 256;
/// Most candidate matches one pattern may produce in one scan; bounds hostile input.
const MAX_MATCHES_PER_PATTERN: usize = 10_000;
/// Around each character normalization changed, this much normalized text is rescanned (a
/// finding longer than this that is split by an invisible character is still found where the
/// windows of its several changed characters merge).
const NORMALIZED_WINDOW: usize = 512;
/// Most keyword hits remembered per text. Past this (hostile input such as megabytes of `@`),
/// every keyword and context condition counts as met: the scan fails safe, towards findings.
const MAX_HITS: usize = 200_000;

/// Why rule packs could not be compiled.
#[derive(Debug, Error)]
pub enum EngineError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("{file}: rule `{rule}`: pattern {index} does not compile: {reason}")]
    Regex {
        file: String,
        rule: String,
        index: usize,
        reason: String,
    },
    #[error("{file}: rule `{rule}` is defined twice (also in {other})")]
    DuplicateRule {
        file: String,
        rule: String,
        other: String,
    },
    #[error("keyword automaton: {0}")]
    Keywords(String),
}

/// What a word in the shared automaton does for a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Keyword,
    Context,
}

/// A rule as the engine needs it at scan time.
#[derive(Debug)]
struct CompiledRule {
    id: Arc<str>,
    category: Category,
    entity: Arc<str>,
    severity: Severity,
    tier: Tier,
    validator: Option<Validator>,
    min_entropy: Option<f64>,
    confidence: f64,
    needs_keyword: bool,
    context: Option<(usize, bool, f64)>,
    stopwords: Vec<String>,
    source: String,
}

/// A rule's public description, for `promptwall rules list`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleInfo {
    pub id: String,
    pub category: Category,
    pub entity: String,
    pub severity: Severity,
    pub source: String,
}

/// A rule example that did not behave as its pack says it should.
#[derive(Debug, Clone)]
pub struct ExampleFailure {
    pub rule: String,
    pub source: String,
    pub message: String,
}

/// A confirmed match before overlap resolution.
#[derive(Debug, Clone)]
struct Candidate {
    rule: u32,
    finding: Finding,
}

/// All rule packs compiled into one immutable searcher.
#[derive(Debug)]
pub struct PatternEngine {
    /// Every pattern of every rule, for the overlapping "which patterns match" pass.
    set: Option<Regex>,
    /// Each pattern alone, to locate its matches and pull capture group 1.
    single: Vec<Regex>,
    /// Per pattern: its capture group 1 always spans the whole match (the rest is `\b`-like
    /// assertions), so the value needs no capture search.
    whole_group: Vec<bool>,
    pattern_rule: Vec<u32>,
    rules: Vec<CompiledRule>,
    /// Keywords and context words of every rule, in one automaton.
    words: Option<AhoCorasick>,
    /// word id → the rules it serves, and how.
    word_roles: Vec<Vec<(u32, Role)>>,
    /// Some rule needs neither a keyword nor a context word, so every text gets the set pass.
    always_active: bool,
    decoder: Decoder,
    examples: Vec<(u32, crate::rules::Examples)>,
}

fn syntax_config() -> syntax::Config {
    // ASCII semantics: `\b`, `\w` and `\d` stay byte-oriented, which keeps the lazy DFA on its
    // fast path for any input. Secrets and identifiers are ASCII; Unicode look-alikes are folded
    // to ASCII by normalization before matching.
    syntax::Config::new().unicode(false).utf8(false)
}

/// Keyword hits of one text: (start, end, word id), ordered by end offset.
struct Hits {
    list: Vec<(usize, usize, u32)>,
    /// Too many hits to remember: treat every word as present everywhere.
    saturated: bool,
}

impl PatternEngine {
    /// Compiles every rule of every pack; fails on the first bad regex or duplicate rule id.
    pub fn new(packs: &[RulePack]) -> Result<Self, EngineError> {
        let mut patterns: Vec<&str> = Vec::new();
        let mut single = Vec::new();
        let mut whole_group = Vec::new();
        let mut pattern_rule = Vec::new();
        let mut rules: Vec<CompiledRule> = Vec::new();
        let mut word_list: Vec<String> = Vec::new();
        let mut word_roles: Vec<Vec<(u32, Role)>> = Vec::new();
        let mut examples = Vec::new();
        let mut add_word = |w: &str, rule: u32, role: Role| {
            let lower = w.to_ascii_lowercase();
            match word_list.iter().position(|k| *k == lower) {
                Some(i) => word_roles[i].push((rule, role)),
                None => {
                    word_list.push(lower);
                    word_roles.push(vec![(rule, role)]);
                }
            }
        };
        for pack in packs {
            for rule in &pack.rules {
                if let Some(other) = rules.iter().find(|r| *r.id == *rule.id) {
                    return Err(EngineError::DuplicateRule {
                        file: pack.source.clone(),
                        rule: rule.id.clone(),
                        other: other.source.clone(),
                    });
                }
                let rule_idx = rules.len() as u32;
                for (index, pat) in rule.patterns.iter().enumerate() {
                    let regex_err = |reason: String| EngineError::Regex {
                        file: pack.source.clone(),
                        rule: rule.id.clone(),
                        index,
                        reason,
                    };
                    let re = Regex::builder()
                        .syntax(syntax_config())
                        .build(pat)
                        .map_err(|e| regex_err(e.to_string()))?;
                    if re.is_match("") {
                        return Err(regex_err("pattern matches the empty string".into()));
                    }
                    whole_group.push(group_is_whole_match(pat));
                    single.push(re);
                    patterns.push(pat);
                    pattern_rule.push(rule_idx);
                }
                for kw in &rule.keywords {
                    add_word(kw, rule_idx, Role::Keyword);
                }
                if let Some(c) = &rule.context {
                    for w in &c.words {
                        add_word(w, rule_idx, Role::Context);
                    }
                }
                examples.push((rule_idx, rule.examples.clone()));
                rules.push(CompiledRule {
                    id: rule.id.as_str().into(),
                    category: rule.category,
                    entity: rule.entity.as_str().into(),
                    severity: rule.severity,
                    tier: rule.tier,
                    validator: rule.validator,
                    min_entropy: rule.min_entropy,
                    confidence: rule.confidence,
                    needs_keyword: !rule.keywords.is_empty(),
                    context: rule
                        .context
                        .as_ref()
                        .map(|c| (c.window, c.required, c.boost)),
                    stopwords: rule
                        .stopwords
                        .iter()
                        .map(|w| w.to_ascii_lowercase())
                        .collect(),
                    source: pack.source.clone(),
                });
            }
        }
        let set = if patterns.is_empty() {
            None
        } else {
            Some(
                Regex::builder()
                    .syntax(syntax_config())
                    .configure(
                        Regex::config()
                            .match_kind(MatchKind::All)
                            .hybrid_cache_capacity(64 << 20),
                    )
                    .build_many(&patterns)
                    .map_err(|e| EngineError::Regex {
                        file: "<all packs>".into(),
                        rule: "<combined>".into(),
                        index: 0,
                        reason: e.to_string(),
                    })?,
            )
        };
        let words = if word_list.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(AcMatchKind::Standard)
                    // A full DFA: more memory at build time, the fastest overlapping search.
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&word_list)
                    .map_err(|e| EngineError::Keywords(e.to_string()))?,
            )
        };
        Ok(PatternEngine {
            set,
            single,
            whole_group,
            pattern_rule,
            always_active: rules
                .iter()
                .any(|r| !r.needs_keyword && !r.context.is_some_and(|c| c.1)),
            rules,
            words,
            word_roles,
            decoder: Decoder::new(),
            examples,
        })
    }

    /// The number of compiled rules.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Every keyword and context word, for baselines and diagnostics.
    pub fn keyword_automaton(&self) -> Option<&AhoCorasick> {
        self.words.as_ref()
    }

    /// Describes every compiled rule.
    pub fn rules(&self) -> Vec<RuleInfo> {
        self.rules
            .iter()
            .map(|r| RuleInfo {
                id: r.id.to_string(),
                category: r.category,
                entity: r.entity.to_string(),
                severity: r.severity,
                source: r.source.clone(),
            })
            .collect()
    }

    /// Finds every confirmed value in `text`, with byte offsets into `text`, ordered by start.
    ///
    /// The text is scanned as is, then normalized (invisible characters removed, compatibility
    /// forms and look-alikes folded) when that changes it, then encoded runs are decoded and
    /// scanned, up to three layers deep. A finding inside decoded content spans the whole
    /// encoded run in `text` and says which encodings it came through. Findings never overlap.
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        let mut budget = DECODE_BUDGET;
        self.scan_layers(text, 0, &mut budget)
            .into_iter()
            .map(|c| c.finding)
            .collect()
    }

    fn scan_layers(&self, text: &str, depth: u8, budget: &mut usize) -> Vec<Candidate> {
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
            for d in self.decoder.candidates(text, budget) {
                for mut c in self.scan_layers(&d.text, depth + 1, budget) {
                    c.finding.start = d.start;
                    c.finding.end = d.end;
                    c.finding.decoded_from = Some(match c.finding.decoded_from {
                        Some(inner) => format!("{}>{inner}", d.encoding.name()),
                        None => d.encoding.name().to_string(),
                    });
                    pool.push(c);
                }
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
        let Some(set) = &self.set else {
            return Vec::new();
        };
        let hay = text.as_bytes();
        let mut hits = Hits {
            list: Vec::new(),
            saturated: false,
        };
        // Rules whose keyword (or required context word) occurs somewhere in the text.
        let mut present: Vec<(u32, Role)> = Vec::new();
        if let Some(ac) = &self.words {
            for m in ac.find_overlapping_iter(hay) {
                if hits.list.len() == MAX_HITS {
                    hits.saturated = true;
                    break;
                }
                let w = m.pattern().as_u32();
                hits.list.push((m.start(), m.end(), w));
                for role in &self.word_roles[w as usize] {
                    if !present.contains(role) {
                        present.push(*role);
                    }
                }
            }
        }
        let active = |rule_idx: u32| {
            let r = &self.rules[rule_idx as usize];
            hits.saturated
                || ((!r.needs_keyword || present.contains(&(rule_idx, Role::Keyword)))
                    && (!r.context.is_some_and(|c| c.1)
                        || present.contains(&(rule_idx, Role::Context))))
        };
        if !self.always_active && !present.iter().any(|&(r, _)| active(r)) {
            return Vec::new();
        }
        let mut matched = PatternSet::new(set.pattern_len());
        set.which_overlapping_matches(&Input::new(hay), &mut matched);
        let mut out = Vec::new();
        for pid in matched.iter() {
            let pid = pid.as_usize();
            let rule_idx = self.pattern_rule[pid];
            if !active(rule_idx) {
                continue;
            }
            let re = &self.single[pid];
            let (mut at, mut seen) = (0, 0);
            while at < hay.len() && seen < MAX_MATCHES_PER_PATTERN {
                let Some(m) = re.search(&Input::new(hay).range(at..)) else {
                    break;
                };
                seen += 1;
                match self.confirm(text, &hits, rule_idx, pid, m.start(), m.end()) {
                    Some(finding) => {
                        at = m.end().max(m.start() + 1);
                        out.push(Candidate {
                            rule: rule_idx,
                            finding,
                        });
                    }
                    None if m.len() < RETRY_SHORTER_THAN => at = m.start() + 1,
                    None => at = m.end().max(m.start() + 1),
                }
            }
        }
        out
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
        let first = hits.partition_point(|h| h.1 < lo);
        hits[first..]
            .iter()
            .take_while(|h| h.1 <= hi)
            .any(|h| h.0 >= lo && self.word_roles[h.2 as usize].contains(&(rule, role)))
    }

    /// Time spent per stage and per pattern on `text`, slowest first (for tuning rule packs).
    pub fn profile(&self, text: &str) -> Vec<(String, f64)> {
        let hay = text.as_bytes();
        let mut out = Vec::new();
        let t = std::time::Instant::now();
        let n = self
            .words
            .as_ref()
            .map_or(0, |ac| ac.find_overlapping_iter(hay).count());
        out.push((format!("keywords ({n} hits)"), t.elapsed().as_secs_f64()));
        if let Some(set) = &self.set {
            let t = std::time::Instant::now();
            let mut matched = PatternSet::new(set.pattern_len());
            set.which_overlapping_matches(&Input::new(hay), &mut matched);
            out.push((
                format!("pattern set ({} patterns match)", matched.len()),
                t.elapsed().as_secs_f64(),
            ));
            let hits = Hits {
                list: self
                    .words
                    .as_ref()
                    .map(|ac| {
                        ac.find_overlapping_iter(hay)
                            .map(|m| (m.start(), m.end(), m.pattern().as_u32()))
                            .collect()
                    })
                    .unwrap_or_default(),
                saturated: false,
            };
            for pid in matched.iter() {
                let t = std::time::Instant::now();
                let re = &self.single[pid.as_usize()];
                let rule_idx = self.pattern_rule[pid.as_usize()];
                let (mut at, mut k) = (0, 0);
                while let Some(m) = re.search(&Input::new(hay).range(at..)) {
                    k += 1;
                    at = match self.confirm(
                        text,
                        &hits,
                        rule_idx,
                        pid.as_usize(),
                        m.start(),
                        m.end(),
                    ) {
                        Some(_) => m.end().max(m.start() + 1),
                        None if m.len() < RETRY_SHORTER_THAN => m.start() + 1,
                        None => m.end().max(m.start() + 1),
                    };
                }
                let rule = &self.rules[self.pattern_rule[pid.as_usize()] as usize].id;
                out.push((
                    format!("pattern {} of {rule} ({k} matches)", pid.as_usize()),
                    t.elapsed().as_secs_f64(),
                ));
            }
        }
        let t = std::time::Instant::now();
        let mut budget = DECODE_BUDGET;
        let k = self.decoder.candidates(text, &mut budget).len();
        out.push((format!("decoder ({k} runs)"), t.elapsed().as_secs_f64()));
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }

    /// Runs every rule's shipped examples and reports each mismatch by rule id.
    pub fn test_examples(&self) -> Vec<ExampleFailure> {
        let mut failures = Vec::new();
        for (rule_idx, ex) in &self.examples {
            let rule = &self.rules[*rule_idx as usize];
            let fail = |message: String| ExampleFailure {
                rule: rule.id.to_string(),
                source: rule.source.clone(),
                message,
            };
            for pos in &ex.positive {
                let found = self.scan(&pos.text);
                let ok = found
                    .iter()
                    .any(|f| f.rule == rule.id && pos.text[f.start..f.end] == pos.value);
                if !ok {
                    let got: Vec<String> = found
                        .iter()
                        .map(|f| format!("{}={:?}", f.rule, &pos.text[f.start..f.end]))
                        .collect();
                    failures.push(fail(format!(
                        "positive example {:?}: expected {:?}, found [{}]",
                        pos.text,
                        pos.value,
                        got.join(", ")
                    )));
                }
            }
            for neg in &ex.negative {
                if self.scan(neg).iter().any(|f| f.rule == rule.id) {
                    failures.push(fail(format!("negative example {neg:?} was flagged")));
                }
            }
        }
        failures
    }
}

/// The span of capture group 1 if the pattern has one and it took part, else the match.
/// Runs only on regex matches, so its one allocation stays off the common path.
/// Whether `pattern` is group 1 with only zero-width assertions around it (`\b(...)\b`), so
/// the group's span is always the match's span.
fn group_is_whole_match(pattern: &str) -> bool {
    use regex_syntax::hir::{Hir, HirKind};
    let Ok(hir) = regex_automata::util::syntax::parse_with(pattern, &syntax_config()) else {
        return false;
    };
    let is_group_1 = |h: &Hir| matches!(h.kind(), HirKind::Capture(c) if c.index == 1);
    match hir.kind() {
        HirKind::Capture(_) => is_group_1(&hir),
        HirKind::Concat(parts) => {
            let mut wide = parts
                .iter()
                .filter(|p| p.properties().maximum_len() != Some(0));
            matches!((wide.next(), wide.next()), (Some(g), None) if is_group_1(g))
                && hir.properties().explicit_captures_len() == 1
        }
        _ => false,
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> PatternEngine {
        crate::builtin_engine().expect("built-in packs compile")
    }

    #[test]
    fn whole_match_groups_are_recognized_and_others_are_not() {
        for p in [
            r"\b(AKIA[0-9A-Z]{16})\b",
            r"(ghp_[A-Za-z0-9]{36})",
            r"\b(\d{3})(?:\b|$)",
        ] {
            assert!(group_is_whole_match(p), "{p}");
        }
        for p in [
            r"key=(\w+)",
            r"\b(\d{3})-(\d{2})\b",
            r"AKIA[0-9A-Z]{16}",
            r"(a)|(b)",
            r"\b(x)y\b",
        ] {
            assert!(!group_is_whole_match(p), "{p}");
        }
    }

    #[test]
    fn every_builtin_rule_example_passes() {
        let failures = engine().test_examples();
        let report: Vec<String> = failures
            .iter()
            .map(|f| format!("{} ({}): {}", f.rule, f.source, f.message))
            .collect();
        assert!(report.is_empty(), "{}", report.join("\n"));
    }

    #[test]
    fn finds_aws_key_with_offsets_into_the_original_text() {
        let text = "héllo, my key is AKIAQWERTYUIOPASDFGH ok";
        let f = engine().scan(text);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(&text[f[0].start..f[0].end], "AKIAQWERTYUIOPASDFGH");
        assert_eq!(f[0].category, Category::Secret);
        assert_eq!(&*f[0].entity, "aws_access_key");
    }

    #[test]
    fn benign_prose_and_code_have_no_findings() {
        let text = "fn main() { let key = get_key(); println!(\"{}\", key); } // AKIA prefix docs";
        assert!(engine().scan(text).is_empty());
    }

    #[test]
    fn a_pattern_that_does_not_compile_names_file_rule_and_reason() {
        let yaml = r#"
pack: broken
rules:
  - id: bad-one
    category: secret
    entity: thing
    severity: high
    description: broken
    patterns: ['(unclosed']
    confidence: 0.9
    examples: { positive: [{ text: "x(unclosed", match: "(unclosed" }], negative: ["y"] }
"#;
        let pack = RulePack::from_yaml("broken.yaml", yaml).unwrap();
        let err = PatternEngine::new(&[pack]).unwrap_err().to_string();
        assert!(
            err.contains("broken.yaml") && err.contains("bad-one") && err.contains("pattern 0"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_field_is_rejected_with_its_line() {
        let yaml = "pack: p\nrules:\n  - id: a\n    categry: secret\n";
        let err = RulePack::from_yaml("p.yaml", yaml).unwrap_err().to_string();
        assert!(
            err.contains("p.yaml") && err.contains("categry") && err.contains("line 4"),
            "{err}"
        );
    }

    #[test]
    fn engine_is_shareable_across_threads() {
        fn assert_sync<T: Send + Sync>() {}
        assert_sync::<PatternEngine>();
    }
}
