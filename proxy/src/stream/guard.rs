//! Response inspection as the response flows: the response policy, and SSE streams event by
//! event (a whole answer is read in `whole.rs`).
//!
//! In a stream, every text field of an event (`content`, `text`, `arguments`, `partial_json`,
//! ...) is tracked per JSON pointer. Only a bounded tail that could still be part of a value is
//! held back: the unfinished run of non-space characters (a key, a token, a pseudonym), or an
//! unterminated `-----BEGIN` block; everything before it is released at once. Released text is
//! scanned (with a little already-released context), then the response policy decides: a
//! `block` cuts the stream with the provider's error event, a `redact` masks the value inside
//! the event JSON, and pseudonyms are restored last, so a restored value is never re-flagged.

use crate::providers::{stream_error_event, ErrorShape};
use crate::stream::sse::Event;
use classifiers::PatternEngine;
use policy::redact::restore;
use policy::{
    Action, CompiledPolicy, Context, Decision, Direction, LabelsOutcome, Located, Operator,
    Redaction, RedactionPlan, TenantKey,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Longest tail held back for one field; past it the text is released (and scanned) anyway.
pub const MAX_HOLD: usize = 16 * 1024;
/// Released text kept as context for the next scan of the same field.
const CONTEXT: usize = 128;

/// Everything the response side needs to decide, fixed when the request was decided.
#[derive(Clone)]
pub struct ResponsePolicy {
    pub policy: Arc<CompiledPolicy>,
    pub engine: Arc<PatternEngine>,
    pub key: TenantKey,
    pub user: Option<String>,
    pub groups: Vec<String>,
    pub provider: String,
    pub model: Option<String>,
    pub endpoint: String,
    pub shape: ErrorShape,
    /// Whether the policy has rules for responses (else only pseudonyms are restored).
    pub scan: bool,
    /// For MCP servers: the classifier that reads the tool descriptions a `tools/list`
    /// returns (instructions hidden there poison the agent), with its deadline.
    pub tool_classifier: Option<(
        Arc<classifiers::onnx::ContentClassifier>,
        std::time::Duration,
    )>,
}

impl ResponsePolicy {
    /// Decides on what a scan of `texts` found (a scan limit follows the tenant's fail mode);
    /// pseudonyms cannot be restored downstream, so they mask here.
    pub fn decide(&self, texts: &[&str], scan: crate::inspect::Scan) -> Decision {
        let ctx = Context {
            scan_limit: scan.limit,
            ..self.context()
        };
        let mut d = self
            .policy
            .evaluate(&ctx, texts, &scan.located, &LabelsOutcome::NotRun);
        for r in &mut d.redactions.spans {
            if r.operator == Operator::Pseudonym {
                r.operator = Operator::Mask;
            }
        }
        d
    }

    /// The tenant whose classifier cache entries this response may use.
    pub fn key_scope(&self) -> &str {
        &self.policy.doc().tenant
    }

    /// Decides on classifier labels for `texts` (tool descriptions), as a response.
    pub fn decide_labels(&self, texts: &[&str], labels: &LabelsOutcome) -> Decision {
        let ctx = Context {
            label_thresholds: self.tool_classifier.as_ref().map(|(c, _)| &c.thresholds),
            ..self.context()
        };
        self.policy.evaluate(&ctx, texts, &[], labels)
    }

    /// Who, where and which direction, as rule conditions see this response.
    fn context(&self) -> Context<'_> {
        Context {
            user: self.user.as_deref(),
            groups: &self.groups,
            provider: Some(&self.provider),
            model: self.model.as_deref(),
            endpoint: Some(&self.endpoint),
            direction: Direction::Response,
            ..Context::default()
        }
    }

    /// Scans every text, and says whether a limit left part of one unread.
    pub fn scan(&self, texts: &[&str]) -> crate::inspect::Scan {
        if !self.scan {
            return crate::inspect::Scan::default();
        }
        // Answers are new text: nothing to remember.
        crate::inspect::Scan::of(&self.engine, None, texts.iter().copied())
    }
}

/// What the response side did, for the request log.
#[derive(Debug, Default, Clone)]
pub struct ResponseOutcome {
    /// The most severe response decision (`None`: nothing found).
    pub action: Option<Action>,
    pub rules: Vec<String>,
    pub redactions: usize,
    /// The stream was cut with an error event.
    pub cut: bool,
    /// Why the response passed without inspection, when it did (recorded as coverage).
    pub uninspected: Option<&'static str>,
}

impl ResponseOutcome {
    pub(super) fn absorb(&mut self, d: &Decision, redactions: usize) {
        if !d.reasons.is_empty() {
            self.action = Some(self.action.map_or(d.action, |a| a.max(d.action)));
            for r in &d.reasons {
                if !self.rules.iter().any(|x| **x == *r.rule) {
                    self.rules.push(r.rule.to_string());
                }
            }
        }
        self.redactions += redactions;
    }
}

/// Whether a JSON field holds generated text (rather than an id, a type or a role).
fn is_text_field(pointer: &str) -> bool {
    matches!(
        pointer.rsplit('/').next().unwrap_or_default(),
        "content"
            | "text"
            | "arguments"
            | "partial_json"
            | "delta"
            | "thinking"
            | "reasoning_content"
            | "refusal"
            | "output"
            | "data"
            // Tool names, reasoning summaries and transcripts are model output too.
            | "name"
            | "summary"
            | "reasoning"
            | "transcript"
            | "result"
    )
}

/// Where a tail that may still grow into a value starts, if anywhere.
fn hold_from(s: &str) -> Option<usize> {
    let mut from = s.len();
    if let Some(b) = s.rfind("-----BEGIN") {
        if !s[b..].contains("-----END") {
            from = b;
        }
    }
    let word = s
        .rfind(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '`')
        .map_or(0, |i| i + 1);
    from = from.min(word);
    if s.len() - from > MAX_HOLD {
        // Bounded: release all but the last MAX_HOLD bytes.
        from = s.len() - MAX_HOLD;
        while !s.is_char_boundary(from) {
            from += 1;
        }
    }
    (from < s.len()).then_some(from)
}

fn strings_mut<'a>(v: &'a mut Value, ptr: &mut String, out: &mut Vec<(String, &'a mut String)>) {
    match v {
        Value::String(s) => out.push((ptr.clone(), s)),
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                let len = ptr.len();
                crate::providers::pointer_push_index(ptr, i);
                strings_mut(x, ptr, out);
                ptr.truncate(len);
            }
        }
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                let len = ptr.len();
                crate::providers::pointer_push_key(ptr, k);
                strings_mut(x, ptr, out);
                ptr.truncate(len);
            }
        }
        _ => {}
    }
}

/// Applies a response decision's redactions to released pieces; returns how many were made.
pub(super) fn redact_pieces(
    d: &Decision,
    pieces: &mut [String],
    offsets: &[usize],
    key: &TenantKey,
) -> usize {
    if d.action != Action::Redact {
        return 0;
    }
    // One plan over every piece: each span moved from its text's offsets to its piece's.
    let plan = RedactionPlan {
        entities: d.redactions.entities.clone(),
        spans: d
            .redactions
            .spans
            .iter()
            .filter_map(|r| {
                let at = *offsets.get(r.segment)?;
                let (s, e) = (r.start.max(at) - at, r.end.saturating_sub(at));
                (s < e).then_some(Redaction {
                    start: s,
                    end: e,
                    ..*r
                })
            })
            .collect(),
    };
    if plan.is_empty() {
        return 0;
    }
    let texts: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let out = policy::redact::apply(&plan, &texts, key);
    for (piece, new) in pieces.iter_mut().zip(out.texts) {
        if let Some(new) = new {
            *piece = new;
        }
    }
    out.count
}

/// Per-stream state.
pub struct StreamGuard {
    policy: Option<ResponsePolicy>,
    pseudonyms: policy::Pseudonyms,
    /// Per text field: the held-back tail, and recently released text for context.
    held: BTreeMap<String, String>,
    context: BTreeMap<String, String>,
    /// Per text field, the last event that carried it: the template for flushing its tail.
    templates: BTreeMap<String, (Option<String>, Value)>,
    pub outcome: ResponseOutcome,
    cut: bool,
    cut_message: Option<String>,
}

impl StreamGuard {
    /// A guard for one streamed response.
    pub fn new(policy: Option<ResponsePolicy>, pseudonyms: policy::Pseudonyms) -> Self {
        StreamGuard {
            policy,
            pseudonyms,
            held: BTreeMap::new(),
            context: BTreeMap::new(),
            templates: BTreeMap::new(),
            outcome: ResponseOutcome::default(),
            cut: false,
            cut_message: None,
        }
    }

    /// Whether the stream was cut; nothing more may be sent.
    pub fn is_cut(&self) -> bool {
        self.cut
    }

    /// The bytes to send for `ev` (the original bytes when nothing changed).
    pub fn on_event(&mut self, ev: &Event) -> Vec<u8> {
        if self.cut {
            return Vec::new();
        }
        if ev.is_done() {
            let mut out = self.flush();
            if !self.cut {
                out.extend_from_slice(&ev.raw);
            }
            return out;
        }
        let Ok(mut v) = serde_json::from_str::<Value>(&ev.data) else {
            return self.on_text_event(ev);
        };
        let mut fields = Vec::new();
        strings_mut(&mut v, &mut String::new(), &mut fields);
        let text_fields: Vec<String> = fields
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| is_text_field(p))
            .collect();
        if text_fields.is_empty() {
            // A finish or stop event: whatever is held goes out before it.
            let mut out = self.flush();
            if !self.cut {
                out.extend_from_slice(&ev.raw);
            }
            return out;
        }
        for p in text_fields {
            self.templates.insert(p, (ev.event.clone(), v.clone()));
        }
        let changed = match self.process(&mut v, false) {
            Some(c) => c,
            None => return self.cut_bytes(),
        };
        if !changed {
            return ev.raw.to_vec();
        }
        Event::encode(ev.event.as_deref(), ev.id.as_deref(), &v.to_string())
    }

    /// An event whose data is not JSON (no provider sends model text that way, but an upstream
    /// may): read whole as one text, and a block cuts the stream before it; otherwise it goes
    /// on as it came.
    fn on_text_event(&mut self, ev: &Event) -> Vec<u8> {
        if let Some(rp) = self.policy.as_ref().filter(|p| p.scan) {
            let texts = [ev.data.as_str()];
            let scan = rp.scan(&texts);
            if !scan.located.is_empty() || scan.limit.is_some() {
                let d = rp.decide(&texts, scan);
                self.outcome.absorb(&d, 0);
                if d.action.blocks() {
                    let mut out = self.flush();
                    if !self.cut {
                        self.cut = true;
                        self.outcome.cut = true;
                        self.cut_message = d.message.clone();
                        out.extend(self.cut_bytes());
                    }
                    return out;
                }
            }
        }
        ev.raw.to_vec()
    }

    /// Releases, scans and restores the text fields of one event (or, with `flush`, of the
    /// held tails put into a template). `None`: the stream must be cut.
    fn process(&mut self, v: &mut Value, flush: bool) -> Option<bool> {
        let mut fields = Vec::new();
        strings_mut(v, &mut String::new(), &mut fields);
        let mut changed = false;
        let mut ptrs = Vec::new();
        let mut pieces = Vec::new();
        for (ptr, s) in fields.iter_mut().filter(|(p, _)| is_text_field(p)) {
            let mut text = self.held.remove(ptr.as_str()).unwrap_or_default();
            text.push_str(s);
            if !flush {
                if let Some(from) = hold_from(&text) {
                    self.held.insert(ptr.clone(), text[from..].to_string());
                    text.truncate(from);
                }
            }
            if text != **s {
                changed = true;
            }
            ptrs.push(ptr.clone());
            pieces.push(text);
        }
        if let Some(rp) = self.policy.as_ref().filter(|p| p.scan) {
            // Scan each released piece behind a little released context.
            let ctx: Vec<String> = ptrs
                .iter()
                .map(|p| self.context.get(p).cloned().unwrap_or_default())
                .collect();
            let joined: Vec<String> = ctx
                .iter()
                .zip(&pieces)
                .map(|(c, p)| format!("{c}{p}"))
                .collect();
            let texts: Vec<&str> = joined.iter().map(String::as_str).collect();
            let offsets: Vec<usize> = ctx.iter().map(String::len).collect();
            // Pieces are bounded (MAX_HOLD), so the decoder's length and budget limits cannot
            // bite here; a run encoded past the decoding depth is a scan limit, which follows
            // the tenant's fail mode like any other.
            let scan = rp.scan(&texts);
            let limit = scan.limit;
            let located: Vec<Located> = scan
                .located
                .into_iter()
                .filter(|l| l.finding.end > offsets[l.segment])
                .collect();
            if !located.is_empty() || limit.is_some() {
                let scan = crate::inspect::Scan { located, limit };
                let d = rp.decide(&texts, scan);
                if d.action.blocks() {
                    self.outcome.absorb(&d, 0);
                    self.cut = true;
                    self.outcome.cut = true;
                    self.cut_message = d.message.clone();
                    return None;
                }
                // Offsets are into context+piece; the context was sent already, so only the
                // piece is rewritten (a value straddling the two is masked from the boundary).
                let n = redact_pieces(&d, &mut pieces, &offsets, &rp.key);
                self.outcome.absorb(&d, n);
                changed |= n > 0;
            }
            for (ptr, j) in ptrs.iter().zip(&joined) {
                let start = j.len().saturating_sub(CONTEXT);
                let start = (start..=j.len())
                    .find(|&i| j.is_char_boundary(i))
                    .unwrap_or(j.len());
                self.context.insert(ptr.clone(), j[start..].to_string());
            }
        }
        let mut i = 0;
        for (ptr, s) in fields.iter_mut() {
            if !is_text_field(ptr) {
                continue;
            }
            **s = match restore(&pieces[i], &self.pseudonyms) {
                std::borrow::Cow::Owned(restored) => {
                    changed = true;
                    restored
                }
                std::borrow::Cow::Borrowed(_) => std::mem::take(&mut pieces[i]),
            };
            i += 1;
        }
        Some(changed)
    }

    fn cut_bytes(&self) -> Vec<u8> {
        let shape = self.policy.as_ref().map_or(ErrorShape::OpenAi, |p| p.shape);
        let msg = self
            .cut_message
            .clone()
            .unwrap_or_else(|| "The response was stopped by PromptWall policy.".into());
        stream_error_event(shape, &msg)
    }

    /// Sends what is still held, scanned, each field in an event shaped like the last one that
    /// carried it (or the error event, if the stream must be cut).
    pub fn flush(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let held: Vec<String> = self.held.keys().cloned().collect();
        for ptr in held {
            if self.cut {
                break;
            }
            let Some((name, mut template)) = self.templates.get(&ptr).cloned() else {
                self.held.remove(&ptr);
                continue;
            };
            // Empty every text field of the template; the held one is filled back in.
            let mut fields = Vec::new();
            strings_mut(&mut template, &mut String::new(), &mut fields);
            for (p, s) in fields {
                if is_text_field(&p) {
                    s.clear();
                }
            }
            let others: Vec<(String, String)> = self
                .held
                .iter()
                .filter(|(p, _)| **p != ptr)
                .map(|(p, t)| (p.clone(), t.clone()))
                .collect();
            for (p, _) in &others {
                self.held.remove(p);
            }
            match self.process(&mut template, true) {
                Some(_) => out.extend(Event::encode(name.as_deref(), None, &template.to_string())),
                None => return self.cut_bytes(),
            }
            self.held.extend(others);
        }
        out
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::stream::sse::{Piece, SseParser};

    pub(crate) fn policy(yaml: Option<&str>) -> ResponsePolicy {
        let policy = Arc::new(match yaml {
            Some(y) => CompiledPolicy::from_yaml("test", y).unwrap(),
            None => CompiledPolicy::default_for("t"),
        });
        ResponsePolicy {
            tool_classifier: None,
            scan: policy.inspects_responses(),
            policy,
            engine: Arc::new(classifiers::builtin_engine().unwrap()),
            key: TenantKey::derive(b"k", "t"),
            user: None,
            groups: vec![],
            provider: "openai".into(),
            model: None,
            endpoint: "/v1/chat/completions".into(),
            shape: ErrorShape::OpenAi,
        }
    }

    fn run(
        stream: &str,
        chunk: usize,
        p: Option<ResponsePolicy>,
        pseudonyms: &[(&str, &str)],
    ) -> (String, ResponseOutcome) {
        let mut parser = SseParser::default();
        let mut g = StreamGuard::new(
            p,
            pseudonyms
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        );
        let mut out = Vec::new();
        for c in stream.as_bytes().chunks(chunk) {
            for piece in parser.push(c) {
                match piece {
                    Piece::Event(e) => out.extend(g.on_event(&e)),
                    Piece::Raw(b) => out.extend_from_slice(&b),
                }
            }
        }
        out.extend(g.flush());
        if let Some(rest) = parser.finish() {
            out.extend_from_slice(&rest);
        }
        (String::from_utf8(out).unwrap(), g.outcome)
    }

    fn sse(events: &[serde_json::Value]) -> String {
        events
            .iter()
            .map(|e| format!("data: {e}\n\n"))
            .chain(["data: [DONE]\n\n".to_string()])
            .collect()
    }

    fn openai(deltas: &[&str]) -> String {
        sse(&deltas
            .iter()
            .map(|d| serde_json::json!({"choices": [{"index": 0, "delta": {"content": d}}]}))
            .collect::<Vec<_>>())
    }

    fn text_of(out: &str, pointer: &str) -> String {
        out.lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .filter_map(|v| {
                v.pointer(pointer)
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect()
    }

    #[test]
    fn a_secret_split_across_2_3_or_10_events_never_leaves_and_the_stream_is_cut() {
        let key = "AKIAQWERTYUIOPASDFGH";
        for parts in [2usize, 3, 10] {
            let size = key.len().div_ceil(parts);
            let mut deltas = vec!["Here is the key: "];
            let pieces: Vec<String> = key
                .as_bytes()
                .chunks(size)
                .map(|c| String::from_utf8(c.to_vec()).unwrap())
                .collect();
            deltas.extend(pieces.iter().map(String::as_str));
            deltas.push(" enjoy");
            let (out, outcome) = run(&openai(&deltas), 7, Some(policy(None)), &[]);
            assert!(
                !out.contains("AKIA") && !out.contains("OPASDFGH"),
                "{parts}: {out}"
            );
            assert!(
                outcome.cut && outcome.rules.contains(&"block-credentials".to_string()),
                "{parts}"
            );
            let err = out
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .next_back()
                .unwrap();
            let v: Value = serde_json::from_str(err).unwrap();
            assert_eq!(v["error"]["type"], "policy_violation", "{out}");
            assert!(
                !out.contains("[DONE]"),
                "a cut stream ends with the error event"
            );
        }
    }

    #[test]
    fn a_clean_stream_passes_event_by_event_with_its_text_intact() {
        let deltas = ["The ", "quarterly ", "plan ", "looks ", "good."];
        let (out, outcome) = run(&openai(&deltas), 5, Some(policy(None)), &[]);
        assert_eq!(text_of(&out, "/choices/0/delta/content"), deltas.concat());
        // Each event goes out as it comes; only the unfinished last word waits for the end.
        assert_eq!(out.matches("data: ").count(), deltas.len() + 2);
        assert!(outcome.action.is_none());
    }

    #[test]
    fn redact_rules_mask_inside_the_event_json() {
        let p = policy(Some("tenant: t\nrules:\n  - {id: mask-mail, when: {entity: email, direction: response}, action: redact}\n"));
        let (out, outcome) = run(
            &openai(&["Write to ", "ana.ru", "iz@globex.com", " today"]),
            3,
            Some(p),
            &[],
        );
        assert_eq!(
            text_of(&out, "/choices/0/delta/content"),
            "Write to [REDACTED:EMAIL] today"
        );
        assert_eq!(outcome.redactions, 1);
    }

    #[test]
    fn each_providers_stream_shape_is_guarded() {
        let key = "ghp_U8JZpDE0iGXlD6gNCFbaEPFjbD0kH8Oool8D";
        let (a, b) = key.split_at(17);
        let streams = [
            // Responses API
            format!(
                "event: response.output_text.delta\ndata: {}\n\nevent: response.output_text.delta\ndata: {}\n\n",
                serde_json::json!({"type": "response.output_text.delta", "delta": a}),
                serde_json::json!({"type": "response.output_text.delta", "delta": format!("{b} ok")})
            ),
            // Anthropic
            format!(
                "event: content_block_delta\ndata: {}\n\nevent: content_block_delta\ndata: {}\n\n",
                serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": a}}),
                serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": format!("{b} ok")}})
            ),
            // Anthropic tool input JSON
            format!(
                "event: content_block_delta\ndata: {}\n\ndata: {}\n\n",
                serde_json::json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": format!("{{\"token\": \"{a}")}}),
                serde_json::json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": format!("{b}\"}}")}})
            ),
            // Gemini
            format!(
                "data: {}\n\ndata: {}\n\n",
                serde_json::json!({"candidates": [{"content": {"role": "model", "parts": [{"text": a}]}}]}),
                serde_json::json!({"candidates": [{"content": {"role": "model", "parts": [{"text": format!("{b} ok")}]}}]})
            ),
            // OpenAI tool-call argument deltas
            format!(
                "data: {}\n\ndata: {}\n\n",
                serde_json::json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": format!("{{\"t\":\"{a}")}}]}}]}),
                serde_json::json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": format!("{b}\"}}")}}]}}]})
            ),
        ];
        for s in streams {
            let (out, outcome) = run(&s, 4, Some(policy(None)), &[]);
            assert!(outcome.cut, "{s}\n=> {out}");
            assert!(!out.contains("ghp_U8JZ"), "{out}");
        }
    }

    #[test]
    fn pseudonyms_split_across_events_are_restored() {
        let deltas = [
            "Hi ",
            "<EM",
            "AIL",
            "_1",
            "> and <CREDIT",
            "_CARD_1> bye <x",
        ];
        for chunk in [1, 3, 7, 1000] {
            let (out, _) = run(
                &openai(&deltas),
                chunk,
                Some(policy(None)),
                &[
                    ("<EMAIL_1>", "ana@x.io"),
                    ("<CREDIT_CARD_1>", "4111 1111 1111 1111"),
                ],
            );
            assert_eq!(
                text_of(&out, "/choices/0/delta/content"),
                "Hi ana@x.io and 4111 1111 1111 1111 bye <x",
                "chunk {chunk}"
            );
            assert!(out.trim_end().ends_with("data: [DONE]"));
        }
    }

    #[test]
    fn hostile_streams_are_bounded() {
        // One 10 MB event without a space: held up to MAX_HOLD, then released in bounded pieces.
        let big = "a".repeat(10 << 20);
        let (out, _) = run(&openai(&[&big]), 1 << 16, Some(policy(None)), &[]);
        assert_eq!(text_of(&out, "/choices/0/delta/content").len(), big.len());
        // Truncated, invalid and unknown events pass through as they are.
        let weird = "data: {\"choices\":[{\"delta\":{\"content\":\"ok \"}}]}\n\ndata: {not json}\n\nevent: mystery\ndata: {\"x\":1}\n\ndata: {\"trunc";
        let (out, _) = run(weird, 3, Some(policy(None)), &[]);
        assert!(
            out.contains("data: {not json}")
                && out.contains("event: mystery")
                && out.ends_with("data: {\"trunc"),
            "{out}"
        );
        // Text that is not JSON is still read: a key in it cuts the stream there.
        let plain = "data: {\"choices\":[{\"delta\":{\"content\":\"ok \"}}]}\n\ndata: the key is AKIAQWERTYUIOPASDFGH\n\n";
        let (out, _) = run(plain, 7, Some(policy(None)), &[]);
        assert!(!out.contains("AKIA"), "{out}");
        assert!(out.contains("policy_violation"), "{out}");
    }
}
