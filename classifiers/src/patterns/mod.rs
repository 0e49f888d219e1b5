//! The compiled pattern engine: two multi-pattern passes, then validation.
//!
//! Build once with [`PatternEngine::new`]; scanning takes `&self`, so one engine serves every
//! thread behind an `Arc`, and a reload swaps the `Arc`.
//!
//! How a scan works, and what it costs (`scan.rs`, `pass.rs`):
//! 1. the open pass: one lazy-DFA pass over the whole text finds every keyword and context word
//!    and every match end of the open rules' patterns (no keyword, no required context word);
//! 2. the gated pass: the same over only the regions around gate hits (a rule's keyword, or its
//!    required context word), for the gated rules' patterns, so text without gate words skips it;
//! 3. each pattern that matched is located only in short windows before its reported match ends
//!    (or, if its length is unbounded, across its rule's regions); keyword gates, stopwords,
//!    entropy, validators and context words confirm or drop each match;
//! 4. overlapping findings are resolved: higher severity wins, then specific rules over generic
//!    ones, then the longer span, then the earlier start, then pack order.
//!
//! Texts up to 16 KB take one pass of every pattern and word in place of steps 1 and 2. All of
//! it is linear in the text; benign text costs about one or two lazy-DFA passes.

mod locate;
mod memo;
mod pass;
mod scan;
pub use memo::{Lookup, MEMO_MIN_BYTES};
pub use scan::{Scanned, TextsScanned};

use crate::decode::Decoder;
use crate::rules::{RuleError, RulePack, Tier};
use crate::validators::Validator;
use crate::{Category, Severity};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind as AcMatchKind};
use pass::Pass;
use regex_automata::meta::Regex;
use regex_automata::util::syntax;
use regex_syntax::hir::Hir;
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
/// Candidate matches of one pattern in one scan past which a rejected short match is no longer
/// retried a byte later (which can cost up to a match length per byte on hostile input): the
/// search goes on after each match instead, linear to the end of the text. Never a stop: a
/// flood of rejected look-alikes cannot hide a real value behind it.
const MAX_MATCHES_PER_PATTERN: usize = 10_000;
/// Around each character normalization changed, this much normalized text is rescanned (a
/// finding longer than this that is split by an invisible character is still found where the
/// windows of its several changed characters merge).
const NORMALIZED_WINDOW: usize = 512;
/// Most keyword hits remembered per text. Past this (hostile input such as megabytes of `@`),
/// every keyword and context condition counts as met: the scan fails safe, towards findings.
const MAX_HITS: usize = 200_000;
/// Texts up to this many bytes are scanned in one pass of every pattern and word (see
/// `scan.rs`): measured on this repository's README, 13 us instead of 18 for the two passes at 4 KB.
const SMALL_TEXT: usize = 16 << 10;
/// How far a gated rule looks from its gate hit when a pattern's match length is unbounded
/// (`\s*`, `{20,}`): such a match is found if it starts within this many bytes of the hit.
const UNBOUNDED_REACH: usize = 4096;
/// How long an unbounded run of whitespace counts as, for the same purpose; a gate region grows
/// by how much longer the runs in it are (`scan.rs`, `gate_regions`).
const WHITESPACE_REACH: usize = 32;

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
    #[error("no system randomness for the scan memo's key")]
    NoRandomness,
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
    description: String,
    /// The longest match of any of its patterns (capped at [`UNBOUNDED_REACH`]).
    reach: usize,
    /// Whether `reach` counts a pattern's unbounded run of whitespace as [`WHITESPACE_REACH`]
    /// bytes: then its gate regions grow over longer runs.
    spaced: bool,
}

impl CompiledRule {
    /// What a match must be near to count, and how near: the keyword if the rule has one,
    /// else a required context word; `None` for open rules.
    fn gate(&self) -> Option<(Role, usize)> {
        if self.needs_keyword {
            Some((Role::Keyword, KEYWORD_WINDOW))
        } else {
            match self.context {
                Some((window, true, _)) => Some((Role::Context, window)),
                _ => None,
            }
        }
    }
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

/// A rule with what an admin browsing the packs reads: its description and examples.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleDetail {
    pub id: String,
    pub category: Category,
    pub entity: String,
    pub severity: Severity,
    pub description: String,
    pub source: String,
    /// Texts the rule must flag.
    pub positive: Vec<String>,
    /// The value each positive text must report, in the same order.
    pub positive_values: Vec<String>,
    /// Texts it must not.
    pub negative: Vec<String>,
}

/// A rule example that did not behave as its pack says it should.
#[derive(Debug, Clone)]
pub struct ExampleFailure {
    pub rule: String,
    pub source: String,
    pub message: String,
}

/// All rule packs compiled into one immutable searcher.
#[derive(Debug)]
pub struct PatternEngine {
    /// The patterns of open rules (no keyword, no required context word), for one overlapping
    /// "where do matches end" pass over the whole text.
    open: Option<Pass>,
    /// The patterns of gated rules, for the same pass over the regions around gate hits.
    gated: Option<Pass>,
    /// Every pattern and word in one pass, for texts up to [`SMALL_TEXT`] bytes.
    all: Option<Pass>,
    /// Each pattern alone, to locate its matches and pull capture group 1.
    single: Vec<Regex>,
    /// Per pattern: its capture group 1 always spans the whole match (the rest is `\b`-like
    /// assertions), so the value needs no capture search.
    whole_group: Vec<bool>,
    pattern_rule: Vec<u32>,
    rules: Vec<CompiledRule>,
    /// Keywords and context words of every rule, in one automaton: the keyword pass when the
    /// open pass falls back, and the benchmark's baseline.
    words: Option<AhoCorasick>,
    /// word id → its length in bytes (the open pass reports where words end).
    word_len: Vec<usize>,
    /// word id → the rules it serves, and how.
    word_roles: Vec<Vec<(u32, Role)>>,
    decoder: Decoder,
    examples: Vec<(u32, crate::rules::Examples)>,
    /// Results of texts scanned before, when on ([`PatternEngine::with_memo`]).
    memo: Option<memo::ScanMemo>,
}

fn syntax_config() -> syntax::Config {
    // ASCII semantics: `\b`, `\w` and `\d` stay byte-oriented, which keeps the lazy DFA on its
    // fast path for any input. Secrets and identifiers are ASCII; Unicode look-alikes are folded
    // to ASCII by normalization before matching.
    syntax::Config::new().unicode(false).utf8(false)
}

impl PatternEngine {
    /// Compiles every rule of every pack; fails on the first bad regex or duplicate rule id.
    pub fn new(packs: &[RulePack]) -> Result<Self, EngineError> {
        // (pattern, gated) per pattern id.
        let mut patterns: Vec<(&str, bool)> = Vec::new();
        let mut single = Vec::new();
        let mut whole_group = Vec::new();
        let mut pattern_rule = Vec::new();
        // Per pattern: its longest possible match, if bounded; a pattern is then located only
        // in windows this long before the match ends its pass reports.
        let mut pattern_reach = Vec::new();
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
                let gated =
                    !rule.keywords.is_empty() || rule.context.as_ref().is_some_and(|c| c.required);
                let (mut reach, mut spaced) = (0, false);
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
                    let hir = syntax::parse_with(pat, &syntax_config())
                        .map_err(|e| regex_err(e.to_string()))?;
                    whole_group.push(group_is_whole_match(&hir));
                    let (exact, sized) = (exact_max_len(&hir), max_match_len(&hir));
                    // Bounded only by counting whitespace runs as `WHITESPACE_REACH` bytes.
                    spaced |= exact.is_none() && sized.is_some();
                    reach = reach.max(sized.unwrap_or(UNBOUNDED_REACH));
                    pattern_reach.push(exact);
                    single.push(re);
                    patterns.push((pat, gated));
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
                    description: rule.description.clone(),
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
                    reach,
                    spaced,
                });
            }
        }
        let pick = |group: Option<bool>, words: &[String]| {
            let ids: Vec<u32> = (0..patterns.len() as u32)
                .filter(|&i| group.is_none_or(|gated| patterns[i as usize].1 == gated))
                .collect();
            let pats: Vec<&str> = ids.iter().map(|&i| patterns[i as usize].0).collect();
            let reach = ids.iter().map(|&i| pattern_reach[i as usize]).collect();
            // The single small-text pass falls back to the two passes, not to an engine of its own.
            Pass::new(&pats, ids, reach, words, group.is_some())
        };
        // The open pass carries the words too: one pass finds keywords and open matches.
        let open = pick(Some(false), &word_list)?;
        let gated = pick(Some(true), &[])?;
        let all = pick(None, &word_list)?;
        let word_len = word_list.iter().map(String::len).collect();
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
            open,
            gated,
            all,
            single,
            whole_group,
            pattern_rule,
            rules,
            words,
            word_len,
            word_roles,
            decoder: Decoder::new(),
            examples,
            memo: None,
        })
    }

    /// Remembers up to `entries` scan results (0: none), so a text scanned again through
    /// [`Self::scan_in`] costs a keyed hash instead of a scan.
    pub fn with_memo(mut self, entries: usize) -> Result<Self, EngineError> {
        self.memo = match entries {
            0 => None,
            n => Some(memo::ScanMemo::new(n).ok_or(EngineError::NoRandomness)?),
        };
        Ok(self)
    }

    /// Results the memo holds now; `None` when it is off.
    pub fn memo_len(&self) -> Option<usize> {
        self.memo.as_ref().map(memo::ScanMemo::len)
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

    /// Describes every compiled rule with its description and shipped examples.
    pub fn rule_details(&self) -> Vec<RuleDetail> {
        self.rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let ex = self.examples.iter().find(|(idx, _)| *idx as usize == i);
                RuleDetail {
                    id: r.id.to_string(),
                    category: r.category,
                    entity: r.entity.to_string(),
                    severity: r.severity,
                    description: r.description.clone(),
                    source: r.source.clone(),
                    positive: ex
                        .map(|(_, e)| e.positive.iter().map(|p| p.text.clone()).collect())
                        .unwrap_or_default(),
                    positive_values: ex
                        .map(|(_, e)| e.positive.iter().map(|p| p.value.clone()).collect())
                        .unwrap_or_default(),
                    negative: ex.map(|(_, e)| e.negative.clone()).unwrap_or_default(),
                }
            })
            .collect()
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

/// The longest match a pattern can have, exactly; `None` if unbounded or over
/// [`UNBOUNDED_REACH`].
fn exact_max_len(hir: &Hir) -> Option<usize> {
    hir.properties()
        .maximum_len()
        .filter(|&n| n < UNBOUNDED_REACH)
}

/// The longest match `pattern` can have for sizing gate regions; `None` if unbounded or over
/// [`UNBOUNDED_REACH`]. A run of whitespace of unbounded length (`\s*` between a key and its
/// value) counts as [`WHITESPACE_REACH`] bytes; regions grow over longer runs.
fn max_match_len(hir: &Hir) -> Option<usize> {
    use regex_syntax::hir::{Class, HirKind};
    fn whitespace_only(h: &Hir) -> bool {
        match h.kind() {
            HirKind::Class(Class::Bytes(c)) => c
                .iter()
                .all(|r| (r.start()..=r.end()).all(|b| b.is_ascii_whitespace() || b == b'\x0b')),
            HirKind::Class(Class::Unicode(c)) => c
                .iter()
                .all(|r| (r.start()..=r.end()).all(char::is_whitespace)),
            HirKind::Literal(l) => l.0.iter().all(u8::is_ascii_whitespace),
            _ => false,
        }
    }
    fn len(h: &Hir) -> usize {
        match h.kind() {
            HirKind::Empty | HirKind::Look(_) => 0,
            HirKind::Literal(l) => l.0.len(),
            HirKind::Class(c) => c.maximum_len().unwrap_or(4),
            HirKind::Capture(c) => len(&c.sub),
            HirKind::Concat(parts) => parts.iter().fold(0, |n, p| n.saturating_add(len(p))),
            HirKind::Alternation(parts) => parts.iter().map(len).max().unwrap_or(0),
            HirKind::Repetition(r) => {
                let one = len(&r.sub);
                match r.max {
                    Some(max) => one.saturating_mul(max as usize),
                    None if whitespace_only(&r.sub) => {
                        one.saturating_mul(r.min as usize) + WHITESPACE_REACH
                    }
                    None => UNBOUNDED_REACH,
                }
            }
        }
    }
    Some(len(hir)).filter(|&n| n < UNBOUNDED_REACH)
}

/// Whether `pattern` is group 1 with only zero-width assertions around it (`\b(...)\b`), so
/// the group's span is always the match's span.
fn group_is_whole_match(hir: &Hir) -> bool {
    use regex_syntax::hir::HirKind;
    let is_group_1 = |h: &Hir| matches!(h.kind(), HirKind::Capture(c) if c.index == 1);
    match hir.kind() {
        HirKind::Capture(_) => is_group_1(hir),
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

#[cfg(test)]
mod tests;
