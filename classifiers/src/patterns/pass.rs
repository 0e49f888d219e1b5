//! One overlapping multi-pattern pass that says where each pattern's matches end, so a pattern
//! is then located only just before those ends instead of across the whole text.
//!
//! The open rules' pass also carries every keyword and context word (as case-insensitive
//! literals), so one pass over the text replaces a separate keyword automaton pass.
//!
//! The lazy DFA reports every `(pattern, end)` pair. A match of pattern `p` ending at `e` starts
//! no earlier than `e - reach(p)`, so the windows `[e - reach, e]`, merged, hold every match of
//! `p`. If the lazy DFA gives up (it should not: no Unicode word boundaries) or the ends are too
//! many, the pass falls back to "which patterns match", located across the whole range.

use super::{syntax_config, EngineError, MAX_MATCHES_PER_PATTERN};
use regex_automata::hybrid::dfa::{Cache, OverlappingState, DFA};
use regex_automata::meta::Regex;
use regex_automata::util::pool::Pool;
use regex_automata::{Input, MatchKind, PatternSet};
use std::sync::Arc;

type CachePool = Pool<Cache, Box<dyn Fn() -> Cache + Send + Sync>>;

/// Most match ends one pass lists; past this (hostile input: a megabyte of digits) it falls
/// back to "which patterns match", and those are located across the whole range.
const MAX_ENDS: usize = 100_000;

/// The patterns of one group (open rules, gated rules, or all), compiled for the overlapping pass.
pub(super) struct Pass {
    dfa: Arc<DFA>,
    caches: CachePool,
    /// The fallback when the lazy DFA gives up: any engine the meta regex picks (patterns only).
    which: Option<Regex>,
    /// Group-local pattern id → engine pattern id; local ids past these are words.
    ids: Vec<u32>,
    /// Group-local pattern id → its longest match, `None` when unbounded (located anywhere).
    reach: Vec<Option<usize>>,
}

/// What one pass found.
pub(super) struct Found {
    pub located: Vec<Located>,
    /// `(word id, end)` of every word occurrence, in end order.
    pub words: Vec<(u32, usize)>,
}

impl std::fmt::Debug for Pass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pass")
            .field("patterns", &self.ids.len())
            .finish_non_exhaustive()
    }
}

/// Where to locate one pattern: spans of the text, sorted and disjoint; `None` for anywhere in
/// the ranges searched.
pub(super) struct Located {
    pub pid: usize,
    pub spans: Option<Vec<(usize, usize)>>,
}

impl Pass {
    /// Compiles `patterns` (engine ids `ids`, longest matches `reach`) and `words` (literals,
    /// ASCII case-insensitive, reported by word id), and, with `fallback`, the engine
    /// [`Pass::which`] uses; `None` for an empty group.
    pub fn new(
        patterns: &[&str],
        ids: Vec<u32>,
        reach: Vec<Option<usize>>,
        words: &[String],
        fallback: bool,
    ) -> Result<Option<Self>, EngineError> {
        if patterns.is_empty() && words.is_empty() {
            return Ok(None);
        }
        let literals: Vec<String> = words
            .iter()
            .map(|w| format!("(?i:{})", regex_syntax::escape(w)))
            .collect();
        let all: Vec<&str> = patterns
            .iter()
            .copied()
            .chain(literals.iter().map(String::as_str))
            .collect();
        let err = |reason: String| EngineError::Regex {
            file: "<all packs>".into(),
            rule: "<combined>".into(),
            index: 0,
            reason,
        };
        let dfa = DFA::builder()
            .syntax(syntax_config())
            .configure(
                DFA::config()
                    .match_kind(MatchKind::All)
                    .cache_capacity(64 << 20),
            )
            .build_many(&all)
            .map_err(|e| err(e.to_string()))?;
        let which = if patterns.is_empty() || !fallback {
            None
        } else {
            Some(
                Regex::builder()
                    .syntax(syntax_config())
                    .configure(Regex::config().match_kind(MatchKind::All))
                    .build_many(patterns)
                    .map_err(|e| err(e.to_string()))?,
            )
        };
        let dfa = Arc::new(dfa);
        let for_pool = dfa.clone();
        Ok(Some(Pass {
            dfa,
            caches: Pool::new(Box::new(move || for_pool.create_cache())),
            which,
            ids,
            reach,
        }))
    }

    /// Runs the pass over `ranges` (sorted, disjoint) of `hay` and says, per matching pattern,
    /// where to locate it: windows before its match ends, or anywhere when its matches are
    /// unbounded in length or too many to list. `Err` if the lazy DFA gave up or the matches
    /// are too many: then use [`Pass::which`] (and find words another way).
    pub fn run(&self, hay: &[u8], ranges: &[(usize, usize)]) -> Result<Found, ()> {
        let (mut ends, words) = self.ends(hay, ranges)?;
        ends.sort_unstable();
        let mut located = Vec::new();
        for group in ends.chunk_by(|a, b| a.0 == b.0) {
            let local = group[0].0 as usize;
            let pid = self.ids[local] as usize;
            let spans = match self.reach[local] {
                Some(r) if group.len() <= MAX_MATCHES_PER_PATTERN => {
                    Some(windows(group.iter().map(|&(_, end)| end), r, ranges))
                }
                _ => None,
            };
            located.push(Located { pid, spans });
        }
        Ok(Found { located, words })
    }

    /// The fallback: which patterns match anywhere in `ranges`, to be located everywhere.
    pub fn which(&self, hay: &[u8], ranges: &[(usize, usize)]) -> Vec<Located> {
        let Some(which) = &self.which else {
            return Vec::new();
        };
        let mut matched = PatternSet::new(which.pattern_len());
        for &(start, end) in ranges {
            which.which_overlapping_matches(&Input::new(hay).range(start..end), &mut matched);
        }
        matched
            .iter()
            .map(|local| Located {
                pid: self.ids[local.as_usize()] as usize,
                spans: None,
            })
            .collect()
    }

    /// Every pattern match end and word occurrence in `ranges`, apart (words by word id);
    /// `Err` if the lazy DFA gives up or there are more than [`MAX_ENDS`] in all.
    fn ends(&self, hay: &[u8], ranges: &[(usize, usize)]) -> Result<Ends, ()> {
        let patterns = self.ids.len() as u32;
        let mut cache = self.caches.get();
        let (mut ends, mut words) = (Vec::new(), Vec::new());
        for &(start, end) in ranges {
            let input = Input::new(hay).range(start..end);
            let mut state = OverlappingState::start();
            loop {
                self.dfa
                    .try_search_overlapping_fwd(&mut cache, &input, &mut state)
                    .map_err(|_| ())?;
                let Some(m) = state.get_match() else {
                    break;
                };
                if ends.len() + words.len() == MAX_ENDS {
                    return Err(());
                }
                match m.pattern().as_u32().checked_sub(patterns) {
                    Some(word) => words.push((word, m.offset())),
                    None => ends.push((m.pattern().as_u32(), m.offset())),
                }
            }
        }
        Ok((ends, words))
    }
}

/// `(group-local pattern, match end)` and `(word id, end)` lists, each in end order.
type Ends = (Vec<(u32, usize)>, Vec<(u32, usize)>);

/// `[end - reach, end]` for each end (ascending), merged and clipped to the range holding it.
fn windows(
    ends: impl Iterator<Item = usize>,
    reach: usize,
    ranges: &[(usize, usize)],
) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    // The range holding the current end: ends ascend, so it only moves forward.
    let mut range = 0;
    for end in ends {
        while range + 1 < ranges.len() && ranges[range + 1].0 <= end {
            range += 1;
        }
        let floor = ranges.get(range).map_or(0, |r| r.0);
        let start = end.saturating_sub(reach).max(floor);
        crate::spans::push_joined(&mut out, start, end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::windows;

    #[test]
    fn windows_merge_and_stay_inside_their_range() {
        let ranges = [(0, 100), (200, 300)];
        // 205 - 8 falls before its range: the window starts where the range does.
        let ends = [10, 15, 50, 205, 290];
        assert_eq!(
            windows(ends.into_iter(), 8, &ranges),
            [(2, 15), (42, 50), (200, 205), (282, 290)]
        );
    }
}
