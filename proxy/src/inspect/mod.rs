//! Request inspection: provider JSON → texts → pattern findings → the tenant's decision →
//! (when redacting) the rewritten body.
//!
//! Pure and synchronous apart from reading the current engine and policy, so the same code
//! serves the proxy and the CLI. The engine and the policy store sit behind atomic pointers:
//! a reload swaps them, and an inspection in progress keeps the versions it started with.

use crate::extract::{self, Body};
use crate::providers::{self, Place, Prompt, Role, Segment};
use arc_swap::ArcSwap;
use bytes::Bytes;
use classifiers::onnx::ContentClassifier;
use classifiers::PatternEngine;
use policy::{
    Action, CompiledPolicy, Context, Decision, Direction, Identity, LabelsOutcome, Store,
    TenantKey, Vault,
};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod rewrite;
mod scan;

use rewrite::{rewrite, rewrite_envelope};
pub use scan::Scan;

/// Bytes of a turn's last text kept for the next turn of a server-side conversation.
pub const TURN_TAIL: usize = 256;

/// Everything inspection learned and decided about one request.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub prompt: Prompt,
    pub decision: Decision,
    /// The body to send upstream instead of the original, when values were redacted.
    pub rewritten: Option<Bytes>,
    /// (token, original) pairs to restore in the response.
    pub pseudonyms: policy::Pseudonyms,
    pub redaction_count: usize,
    /// `redact` could not rewrite this provider's body, and the fallback applied.
    pub redaction_fallback: bool,
    /// The content type to send with `rewritten`, when the body was transcoded to UTF-8.
    pub rewritten_content_type: Option<&'static str>,
    /// The path and query to send instead of the original, when a query value was redacted.
    pub rewritten_path: Option<String>,
    /// Header values to send instead of the originals (lower-case name, value), when redacted.
    pub rewritten_headers: Vec<(String, String)>,
    /// Classifier scores, when the model ran.
    pub labels: std::collections::BTreeMap<String, f64>,
    pub elapsed: Duration,
}

/// Why a body could not be inspected.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
}

/// The compiled rules, the tenants' policies, the content classifier and the keys for redaction.
pub struct Inspector {
    engine: ArcSwap<PatternEngine>,
    store: ArcSwap<Store>,
    master_key: Vec<u8>,
    classifier: Result<Arc<ContentClassifier>, String>,
    /// How long a request waits for labels before `on_classifier_error` applies.
    pub classifier_deadline: Duration,
    pub vault: Vault,
}

/// A read request body and its texts (and those of its URL and headers), ready to scan and
/// classify.
pub struct Prepared {
    body: Body,
    pub prompt: Prompt,
    started: Instant,
    /// Pseudonyms earlier turns of a server-side conversation issued (continued, not reset).
    prior: policy::Pseudonyms,
}

/// The last [`TURN_TAIL`] bytes of the last text a model reads in `prompt`: what a next
/// server-side turn is read against.
pub fn turn_tail(prompt: &Prompt) -> Option<String> {
    let text = &turn_texts(prompt).next_back()?.1.text;
    let mut start = text.len().saturating_sub(TURN_TAIL);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    Some(text[start..].to_string()).filter(|t| !t.is_empty())
}

/// Where this turn starts in `prompt`: its first text a model reads, (segment index, text).
pub fn turn_head(prompt: &Prompt) -> Option<(usize, &str)> {
    turn_texts(prompt).next().map(|(i, s)| (i, s.text.as_str()))
}

/// The texts a turn is made of: the user's (instructions and tool definitions, resent every
/// turn, come before and after them), or, where no text is marked as the user's, every text a
/// model reads.
fn turn_texts(
    prompt: &Prompt,
) -> impl DoubleEndedIterator<Item = (usize, &crate::providers::Segment)> {
    let user = prompt
        .segments
        .iter()
        .any(|s| s.role == crate::providers::Role::User);
    prompt.segments.iter().enumerate().filter(move |(_, s)| {
        s.for_classifier() && (!user || s.role == crate::providers::Role::User)
    })
}

impl Prepared {
    /// The parsed request body, when it is JSON.
    pub fn json(&self) -> Option<&Value> {
        match &self.body {
            Body::Json { value, .. } => Some(value),
            _ => None,
        }
    }

    /// Why the body could not be read at all, if so.
    pub fn unreadable(&self) -> Option<&'static str> {
        match self.body {
            Body::Unreadable(why) => Some(why),
            _ => self.prompt.unreadable,
        }
    }

    /// Continues a conversation whose earlier turns issued `prior` (token, original) pairs.
    pub fn continuing(mut self, prior: policy::Pseudonyms) -> Self {
        self.prior = prior;
        self
    }

    /// The texts the model will see, joined by newlines, for the classifier (identifiers the
    /// walk found are left to the pattern scan), with where each lies in the joined text.
    pub fn classifier_text(&self) -> ClassifierText {
        ClassifierText::join(
            self.prompt
                .segments
                .iter()
                .filter(|s| s.for_classifier())
                .map(|s| s.text.as_str()),
        )
    }
}

/// What the classifier reads of a request: its texts joined, and their byte ranges in the
/// join (windows start at long segments, so a new message is read without the history).
#[derive(Debug, Default, Clone)]
pub struct ClassifierText {
    pub text: String,
    pub segments: Vec<(usize, usize)>,
}

impl ClassifierText {
    /// `parts` joined by newlines, each one's range recorded.
    pub fn join<'a>(parts: impl Iterator<Item = &'a str>) -> Self {
        let mut out = ClassifierText::default();
        for part in parts {
            if !out.segments.is_empty() {
                out.text.push('\n');
            }
            let start = out.text.len();
            out.text.push_str(part);
            out.segments.push((start, out.text.len()));
        }
        out
    }
}

impl Inspector {
    /// An inspector over `engine` and `store`, keyed by the deployment's master secret; the
    /// classifier is optional (`Err` says why it is not there).
    pub fn new(engine: Arc<PatternEngine>, store: Arc<Store>, master_key: Vec<u8>) -> Self {
        Inspector {
            engine: ArcSwap::new(engine),
            store: ArcSwap::new(store),
            master_key,
            classifier: Err("no classifier configured".into()),
            classifier_deadline: Duration::from_millis(200),
            vault: Vault::default(),
        }
    }

    /// Attaches the content classifier (or the reason it could not be loaded).
    pub fn with_classifier(
        mut self,
        classifier: Result<Arc<ContentClassifier>, String>,
        deadline: Duration,
    ) -> Self {
        self.classifier = classifier;
        self.classifier_deadline = deadline;
        self
    }

    /// The classifier, if it loaded.
    pub fn classifier(&self) -> Option<Arc<ContentClassifier>> {
        self.classifier.as_ref().ok().cloned()
    }

    /// The number of compiled pattern rules, for readiness reporting.
    pub fn rule_count(&self) -> usize {
        self.engine.load().rule_count()
    }

    /// The current pattern engine.
    pub fn engine(&self) -> Arc<PatternEngine> {
        self.engine.load_full()
    }

    /// The current policy store.
    pub fn store(&self) -> Arc<Store> {
        self.store.load_full()
    }

    /// Installs new rule packs; inspections already running finish on the old ones.
    pub fn swap_engine(&self, engine: Arc<PatternEngine>) {
        self.engine.store(engine);
    }

    /// Installs a reloaded policy store.
    pub fn swap_store(&self, store: Arc<Store>) {
        self.store.store(store);
    }

    /// The tenant's key for keyed hashes and pseudonyms.
    pub fn tenant_key(&self, tenant: &str) -> TenantKey {
        TenantKey::derive(&self.master_key, tenant)
    }

    /// Parses a JSON body and finds its texts (tools and tests; the proxy uses
    /// [`Self::prepare_request`]).
    pub fn prepare(
        &self,
        provider: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Prepared, InspectError> {
        self.prepare_request(provider, path, Some("application/json"), body, Vec::new())
    }

    /// Reads a request body of any kind (JSON in any Unicode encoding, a form, other text)
    /// and finds its texts, then adds `envelope` (the query string's and headers' segments).
    /// A body that cannot be read at all is kept as such: [`Self::decide`] applies the
    /// tenant's `on_uninspectable`.
    pub fn prepare_request(
        &self,
        provider: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
        envelope: Vec<Segment>,
    ) -> Result<Prepared, InspectError> {
        let started = Instant::now();
        let body = extract::read(content_type, body)
            .map_err(|extract::ReadError::MalformedJson(e)| InspectError::MalformedJson(e))?;
        let mut prompt = match &body {
            Body::Json { value, .. } => providers::extract(provider, path, value),
            Body::Form(fields) => Prompt {
                segments: fields
                    .iter()
                    .map(|(k, v)| Segment {
                        role: Role::User,
                        pointer: format!("form:{k}"),
                        text: format!("{k}={v}"),
                        place: Place::Form,
                    })
                    .collect(),
                ..Prompt::default()
            },
            Body::Text { text, .. } => Prompt {
                segments: vec![Segment {
                    role: Role::User,
                    pointer: "body".into(),
                    text: text.clone(),
                    place: Place::Text,
                }],
                ..Prompt::default()
            },
            Body::Multipart { parts, .. } => multipart_prompt(parts),
            Body::File(bytes) => file_prompt(bytes),
            Body::Empty | Body::Unreadable(_) => Prompt::default(),
        };
        if let Body::Unreadable(why) = body {
            prompt.skip("body".into(), why);
        }
        prompt.segments.extend(envelope);
        Ok(Prepared {
            body,
            prompt,
            started,
            prior: policy::Pseudonyms::default(),
        })
    }

    /// Whether `tenant`'s policy reads classifier labels (only then is the model run).
    pub fn wants_labels(&self, tenant: &str) -> bool {
        self.store.load().get(tenant).uses_labels
    }

    /// Runs the classifier for `tenant` under the deadline (blocking: call it off the async
    /// workers); with the scores comes what the model read (its coverage). Cached window
    /// results are kept per tenant.
    pub fn classify(
        &self,
        tenant: &str,
        text: &ClassifierText,
    ) -> (LabelsOutcome, Option<classifiers::onnx::Coverage>) {
        match &self.classifier {
            Err(why) => (
                LabelsOutcome::Failed(format!("classifier unavailable: {why}")),
                None,
            ),
            Ok(c) => match c.classify_segments_in(
                tenant,
                &text.text,
                &text.segments,
                self.classifier_deadline,
            ) {
                Ok(l) => (LabelsOutcome::Scored(l.scores), Some(l.coverage)),
                Err(e) => (LabelsOutcome::Failed(e.to_string()), None),
            },
        }
    }

    /// The cheap part of classifying for `tenant` (cache and first stage, microseconds per
    /// window, fine on an async worker): `Err` is the outcome already, `Ok` what is left for
    /// [`Self::finish_classify`].
    pub fn triage(
        &self,
        tenant: &str,
        text: &ClassifierText,
    ) -> Result<(Arc<ContentClassifier>, classifiers::onnx::Triage), LabelsOutcome> {
        match &self.classifier {
            Err(why) => Err(LabelsOutcome::Failed(format!(
                "classifier unavailable: {why}"
            ))),
            Ok(c) => Ok((
                c.clone(),
                c.triage_segments(tenant, &text.text, &text.segments),
            )),
        }
    }

    /// Runs the encoder on what [`Self::triage`] left, under the deadline (blocking when
    /// `triage.needs_encoder()`: call it off the async workers then).
    pub fn finish_classify(
        &self,
        classifier: &ContentClassifier,
        triage: classifiers::onnx::Triage,
        text: &str,
    ) -> (LabelsOutcome, Option<classifiers::onnx::Coverage>) {
        match classifier.finish(triage, text, self.classifier_deadline) {
            Ok(l) => (LabelsOutcome::Scored(l.scores), Some(l.coverage)),
            Err(e) => (LabelsOutcome::Failed(e.to_string()), None),
        }
    }

    /// Pattern findings in every text; texts `tenant` sent before come from the memo.
    pub fn scan(&self, tenant: &str, prepared: &Prepared) -> Scan {
        let engine = self.engine.load();
        Scan::of(
            &engine,
            Some(tenant),
            prepared.prompt.segments.iter().map(|s| s.text.as_str()),
        )
    }

    /// Decides (a scan limit follows the tenant's fail mode), and rewrites the body when the
    /// decision redacts.
    pub fn decide(
        &self,
        identity: &Identity,
        provider: &str,
        path: &str,
        prepared: Prepared,
        scan: Scan,
        labels: LabelsOutcome,
    ) -> Inspection {
        let policy = self.store.load().get(&identity.tenant);
        self.decide_with(policy, identity, provider, path, prepared, scan, labels)
    }

    /// Decides under `policy` rather than the tenant's running one (a console dry run of a
    /// draft).
    #[allow(clippy::too_many_arguments)]
    pub fn decide_with(
        &self,
        policy: Arc<CompiledPolicy>,
        identity: &Identity,
        provider: &str,
        path: &str,
        prepared: Prepared,
        scan: Scan,
        labels: LabelsOutcome,
    ) -> Inspection {
        let Scan {
            located: findings,
            limit,
        } = scan;
        let Prepared {
            mut body,
            prompt,
            started,
            prior,
        } = prepared;
        let texts: Vec<&str> = prompt.segments.iter().map(|s| s.text.as_str()).collect();
        let thresholds = self.classifier.as_ref().ok().map(|c| &c.thresholds);
        let ctx = Context {
            user: identity.user.as_deref(),
            groups: &identity.groups,
            provider: Some(provider),
            model: prompt.model.as_deref(),
            endpoint: Some(path),
            direction: Direction::Request,
            label_thresholds: thresholds,
            uninspectable: match body {
                Body::Unreadable(why) => Some(why),
                _ => prompt.unreadable,
            },
            scan_limit: limit,
            tools: &prompt.tools,
        };
        let decision = policy.evaluate(&ctx, &texts, &findings, &labels);
        let mut out = Inspection {
            rewritten: None,
            pseudonyms: policy::Pseudonyms::default(),
            redaction_count: 0,
            redaction_fallback: false,
            rewritten_content_type: None,
            rewritten_path: None,
            rewritten_headers: Vec::new(),
            elapsed: Duration::ZERO,
            labels: match labels {
                LabelsOutcome::Scored(s) => s,
                _ => Default::default(),
            },
            prompt: Prompt::default(),
            decision,
        };
        let decision = &mut out.decision;
        if decision.action == Action::Redact {
            // A signed body cannot be rewritten (nor its signed URL and headers), nor can
            // text extracted from a document or an uploaded part.
            let fixed = |r: &policy::plan::Redaction| {
                prompt
                    .segments
                    .get(r.segment)
                    .is_some_and(|s| !s.place.rewritable())
            };
            let signed = providers::adapter_for(provider).body_is_signed();
            if signed || decision.redactions.spans.iter().any(fixed) {
                decision.action = policy.doc().redaction_fallback;
                if decision.action.blocks() {
                    let entities = decision
                        .reasons
                        .iter()
                        .map(|r| &*r.entity)
                        .collect::<Vec<_>>()
                        .join(", ");
                    let why = if signed {
                        "requests to this provider cannot be modified"
                    } else {
                        "text inside an uploaded or attached file cannot be modified"
                    };
                    decision.message = Some(format!("This request contains data the policy requires to be redacted ({entities}), and {why}."));
                }
                out.redaction_fallback = true;
            } else {
                let key = self.tenant_key(&identity.tenant);
                let redacted =
                    policy::redact::apply_continuing(&decision.redactions, &texts, &key, &prior);
                (out.rewritten_path, out.rewritten_headers) =
                    rewrite_envelope(path, &prompt.segments, &redacted.texts);
                // Only the query or a header changed: the body goes on as the client sent
                // it (a file or unreadable body has nothing to re-serialize from).
                let body_changed =
                    prompt.segments.iter().zip(&redacted.texts).any(|(s, t)| {
                        t.is_some() && !matches!(s.place, Place::Query | Place::Header)
                    });
                if body_changed {
                    out.rewritten = Some(rewrite(&mut body, &prompt.segments, redacted.texts));
                    out.rewritten_content_type = match body {
                        Body::Json {
                            transcoded: true, ..
                        } => Some("application/json"),
                        Body::Text {
                            transcoded: true, ..
                        } => Some("text/plain; charset=utf-8"),
                        _ => None,
                    };
                }
                out.redaction_count = redacted.count;
                out.pseudonyms = redacted.pseudonyms;
            }
        }
        out.prompt = prompt;
        out.elapsed = started.elapsed();
        out
    }

    /// Inspects a JSON request body for `identity`, classifying inline when the policy needs it
    /// (the proxy classifies concurrently instead; this is for tools and tests).
    pub fn inspect_json(
        &self,
        identity: &Identity,
        provider: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Inspection, InspectError> {
        let policy = self.store.load().get(&identity.tenant);
        self.inspect_json_with(policy, identity, provider, path, body)
    }

    /// [`Self::inspect_json`] under `policy` (a draft being tried).
    pub fn inspect_json_with(
        &self,
        policy: Arc<CompiledPolicy>,
        identity: &Identity,
        provider: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Inspection, InspectError> {
        let prepared = self.prepare(provider, path, body)?;
        let findings = self.scan(&identity.tenant, &prepared);
        let labels = if policy.uses_labels {
            self.classify(&identity.tenant, &prepared.classifier_text())
                .0
        } else {
            LabelsOutcome::NotRun
        };
        Ok(self.decide_with(policy, identity, provider, path, prepared, findings, labels))
    }
}

/// The texts of a body that is one file (`body#page 2`); what cannot be read of it is skipped
/// and makes the body uninspectable.
fn file_prompt(bytes: &[u8]) -> Prompt {
    let mut budget = extract::files::Budget::new(extract::files::limits());
    let got = extract::files::extract("body", bytes, &mut budget);
    let mut p = Prompt::default();
    p.add_extracted(got, Role::User, "body");
    p
}

/// Where a multipart part's text is reported: `part:NAME` or `part:NAME:FILENAME`.
fn part_pointer(part: &extract::multipart::Part) -> String {
    match &part.filename {
        Some(f) => format!("part:{}:{f}", part.name),
        None => format!("part:{}", part.name),
    }
}

/// A plain field, or a text file in UTF-8: scanned whole, and rewritable (one `Place::Part`
/// segment); any other part goes through the extractors.
fn plain_part(part: &extract::multipart::Part) -> Option<String> {
    match extract::text::decode("", &part.data) {
        Some((text, transcoded)) if part.filename.is_none() || !transcoded => Some(text)
            .filter(|t| extract::files::looks_like_text(t))
            .map(|t| t.into_owned()),
        _ => None,
    }
}

/// The texts of a multipart body: plain fields as they are, files through the extractors
/// (their position in the pointer: `part:file:report.pdf#page 2`). What an extractor cannot
/// read is recorded as skipped and makes the body uninspectable for the tenant's policy.
fn multipart_prompt(parts: &[extract::multipart::Part]) -> Prompt {
    let mut budget = extract::files::Budget::new(extract::files::limits());
    let mut p = Prompt::default();
    for part in parts {
        let base = part_pointer(part);
        if let Some(text) = plain_part(part) {
            p.segments.push(Segment {
                role: Role::User,
                pointer: base,
                text,
                place: Place::Part,
            });
            continue;
        }
        let name = part.filename.as_deref().unwrap_or(&part.name);
        let got = extract::files::extract(name, &part.data, &mut budget);
        p.add_extracted(got, Role::User, &base);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspector() -> Inspector {
        Inspector::new(
            Arc::new(classifiers::builtin_engine().unwrap()),
            Arc::new(Store::in_memory()),
            b"test master key".to_vec(),
        )
    }

    fn who(tenant: &str) -> Identity {
        Identity {
            tenant: tenant.into(),
            user: Some("u".into()),
            groups: vec![],
            method: "default",
        }
    }

    #[test]
    fn a_key_in_a_tool_argument_blocks() {
        let body = br#"{"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":"{\"k\":\"AKIAQWERTYUIOPASDFGH\"}"}}]}]}"#;
        let i = inspector()
            .inspect_json(&who("t"), "openai", "/v1/chat/completions", body)
            .unwrap();
        assert_eq!(i.decision.action, Action::Block);
        // The adapter's segment is the tool call's arguments; the walk adds the other
        // strings (model, role, function name) after it.
        assert_eq!(
            i.prompt.segments[0].pointer,
            "/messages/0/tool_calls/0/function/arguments"
        );
        assert!(i.prompt.segments[1..]
            .iter()
            .all(|s| s.role == providers::Role::Unknown));
        assert!(
            i.decision.adjusted_findings.is_none(),
            "no custom detectors: no copy"
        );
    }

    #[test]
    fn pii_is_pseudonymized_in_the_rewritten_body() {
        let body = br#"{"model":"m","messages":[{"role":"user","content":"Email ana.ruiz@globex.com about card 4111 1111 1111 1111"}]}"#;
        let i = inspector()
            .inspect_json(&who("t"), "openai", "/v1/chat/completions", body)
            .unwrap();
        assert_eq!(i.decision.action, Action::Redact);
        let v: Value = serde_json::from_slice(i.rewritten.as_ref().unwrap()).unwrap();
        assert_eq!(
            v["messages"][0]["content"],
            "Email <EMAIL_1> about card <CREDIT_CARD_1>"
        );
        assert_eq!(i.pseudonyms.len(), 2);
    }

    #[test]
    fn pii_in_an_unknown_field_and_in_a_key_is_pseudonymized_too() {
        let body = br#"{"model":"m","messages":[{"role":"user","content":"hi"}],"metadata":{"owner":"ana.ruiz@globex.com","ana.ruiz@globex.com":{"level":2}}}"#;
        let i = inspector()
            .inspect_json(&who("t"), "openai", "/v1/chat/completions", body)
            .unwrap();
        assert_eq!(i.decision.action, Action::Redact);
        let v: Value = serde_json::from_slice(i.rewritten.as_ref().unwrap()).unwrap();
        assert_eq!(v["metadata"]["owner"], "<EMAIL_1>");
        assert_eq!(v["metadata"]["<EMAIL_1>"]["level"], 2, "{v}");
        assert!(!String::from_utf8_lossy(i.rewritten.as_ref().unwrap()).contains("globex"));
    }

    #[test]
    fn signed_bodies_fall_back_instead_of_redacting() {
        let body =
            br#"{"messages":[{"role":"user","content":[{"text":"Email ana.ruiz@globex.com"}]}]}"#;
        let i = inspector()
            .inspect_json(&who("t"), "bedrock", "/model/x/converse", body)
            .unwrap();
        assert!(i.redaction_fallback && i.rewritten.is_none());
        assert_eq!(
            i.decision.action,
            Action::Block,
            "the default fallback is block"
        );
    }

    #[test]
    fn malformed_json_is_an_error_not_a_pass() {
        assert!(inspector()
            .inspect_json(
                &who("t"),
                "openai",
                "/v1/chat/completions",
                b"{\"messages\": ["
            )
            .is_err());
    }
}
