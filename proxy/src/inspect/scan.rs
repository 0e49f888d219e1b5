//! What the pattern scan found across a request's texts: findings located in each text, the
//! values split across two texts or across a conversation's turns, and the limit that left
//! part of the request unread.

use classifiers::PatternEngine;
use policy::Located;

/// Pattern findings in every text, and the limit that left part of the request unread, if
/// one did.
#[derive(Debug, Default)]
pub struct Scan {
    pub located: Vec<Located>,
    pub limit: Option<&'static str>,
}

impl Scan {
    /// Adds the values the boundary scan found split across texts. Parts come in pairs (the
    /// end of one text, the start of the next). A pair where a side already holds the same
    /// kind of value is that value run on into its neighbour (`owner` + `ana@x.com`), not a
    /// split one: dropped. A side's finding of another kind inside the pair (half a token read
    /// as something else) gives way to the whole value. `segment` maps a boundary text's index
    /// to this request's segment (`None`: a text this request does not carry).
    fn merge_boundaries(
        &mut self,
        pairs: Vec<(usize, classifiers::Finding)>,
        segment: impl Fn(usize) -> Option<usize>,
    ) {
        let overlapping = |seg: usize, f: &classifiers::Finding, l: &Located| {
            l.segment == seg && l.finding.start < f.end && f.start < l.finding.end
        };
        let pairs: Vec<(Option<usize>, classifiers::Finding)> =
            pairs.into_iter().map(|(i, f)| (segment(i), f)).collect();
        let mut extra: Vec<Located> = Vec::new();
        for pair in pairs.chunks(2) {
            let mine = || pair.iter().filter_map(|(seg, f)| seg.map(|s| (s, f)));
            let run_on = mine().any(|(seg, f)| {
                self.located
                    .iter()
                    .any(|l| overlapping(seg, f, l) && l.finding.entity == f.entity)
            });
            if run_on {
                continue;
            }
            self.located
                .retain(|l| !mine().any(|(seg, f)| overlapping(seg, f, l)));
            extra.extend(mine().map(|(segment, finding)| Located {
                segment,
                finding: finding.clone(),
            }));
        }
        if !extra.is_empty() {
            self.located.extend(extra);
            self.located
                .sort_by_key(|l| (l.segment, l.finding.start, l.finding.end));
        }
    }

    /// A value split across turns of a server-side conversation (an OpenAI Responses chain:
    /// the client sends only the new turn, the provider keeps the rest): `tail`, the end of the
    /// previous turn's last text, read against the start of this turn's first text `first`.
    pub fn across_turns(&mut self, engine: &PatternEngine, tail: &str, first: usize, text: &str) {
        // The tail's own findings stand in for the previous turn's: a value that merely runs
        // on from the tail into this turn ("ana@x.com" + "Thanks") is not a split one.
        const TAIL: usize = usize::MAX;
        let own = engine.scan(tail);
        self.located.extend(own.into_iter().map(|finding| Located {
            segment: TAIL,
            finding,
        }));
        let pairs = engine.scan_boundaries(&[tail, text]);
        self.merge_boundaries(pairs, |i| Some(if i == 1 { first } else { TAIL }));
        self.located.retain(|l| l.segment != TAIL);
    }

    /// Scans each of `texts` (findings located by its index), keeping the first limit hit.
    /// With a `scope` (the tenant), a text scanned before in that scope comes from the
    /// engine's memo: chat clients resend the system prompt and the history on every turn.
    pub fn of<'a>(
        engine: &PatternEngine,
        scope: Option<&str>,
        texts: impl Iterator<Item = &'a str>,
    ) -> Scan {
        let texts: Vec<&str> = texts.collect();
        let mut out = Scan::default();
        // A value split across two consecutive texts (messages, fields, turns) is found too,
        // where it does not overlap what each text showed on its own.
        let scanned = match scope {
            Some(scope) => engine.scan_texts_in(scope, &texts),
            None => engine.scan_texts(&texts),
        };
        for (i, (scanned, lookup)) in scanned.texts.into_iter().enumerate() {
            crate::metrics::METRICS.scan_memo(lookup);
            out.limit = out.limit.or(scanned.limit);
            out.located
                .extend(scanned.findings.into_iter().map(|finding| Located {
                    segment: i,
                    finding,
                }));
        }
        out.merge_boundaries(scanned.boundaries, Some);
        out
    }

    /// A classifier that left uncertain windows unread (over its per-text budget) is a limit
    /// too.
    pub fn note_model(&mut self, coverage: Option<&classifiers::onnx::Coverage>) {
        if coverage.is_some_and(|c| c.unread > 0) {
            self.limit = self.limit.or(Some(
                "more uncertain text than the classifier's window budget",
            ));
        }
    }
}
