//! Inspection and decision for one request: the pattern scan and the classifier run side by
//! side, the tenant's policy decides, and the outcome is either a reply that replaces
//! forwarding or what to send upstream ([`Go`]).

use super::log::{coverage_row, RequestLog};
use super::{AiHttpApp, Go};
use crate::inspect::{InspectError, Inspection};
use crate::providers::{ErrorKind, ErrorShape};
use crate::reply::Reply;
use crate::route::Target;
use crate::stream::guard::ResponsePolicy;
use bytes::Bytes;
use http::header;
use pingora_core::protocols::http::ServerSession;
use policy::{Action, Identity, LabelsOutcome};

impl AiHttpApp {
    /// What the answer's inspection needs, fixed when the request was decided: the tenant's
    /// policy and engine of that moment, who asked, and the provider's error shape.
    pub(super) fn response_policy(
        &self,
        provider: &str,
        target: &Target,
        identity: &Identity,
        inspection: &Inspection,
    ) -> ResponsePolicy {
        let inspector = &self.shared.inspector;
        let policy = inspector.store().get(&identity.tenant);
        ResponsePolicy {
            scan: policy.inspects_responses(),
            policy,
            engine: inspector.engine(),
            key: inspector.tenant_key(&identity.tenant),
            user: identity.user.clone(),
            groups: identity.groups.clone(),
            provider: provider.to_string(),
            model: inspection.prompt.model.clone(),
            endpoint: target.path_and_query.clone(),
            shape: ErrorShape::for_provider(provider),
            tool_classifier: provider
                .starts_with("mcp:")
                .then(|| inspector.classifier())
                .flatten()
                .map(|c| (c, inspector.classifier_deadline)),
        }
    }

    /// Inspects a request to an AI destination and decides: `Err` is the reply that replaces
    /// forwarding (block, coach, bad input); `Ok` says what to send.
    pub(super) async fn inspect(
        &self,
        session: &ServerSession,
        provider: &str,
        target: &Target,
        identity: &Identity,
        body: &Bytes,
        log: &mut RequestLog,
    ) -> Result<Go, Reply> {
        // A compressed body is inspected decoded (bounded like any body); if it is rewritten,
        // it goes upstream uncompressed.
        let encoding = crate::encoding::content_encoding(&session.req_header().headers);
        let encoding = encoding.as_deref();
        let decoded;
        let body: &Bytes = match encoding {
            None => body,
            Some(enc) => {
                let cap = self.shared.config.limits.max_body_bytes;
                decoded = Bytes::from(crate::encoding::decode(enc, body, cap).map_err(|e| {
                    let status = match e {
                        crate::encoding::DecodeError::Unsupported(_) => 415,
                        crate::encoding::DecodeError::TooLarge(_) => 413,
                        crate::encoding::DecodeError::Corrupt(_) => 400,
                    };
                    Reply::new(
                        status,
                        ErrorKind::InvalidRequest,
                        format!("PromptWall cannot inspect this body: {e}"),
                    )
                })?);
                &decoded
            }
        };
        let inspector = &self.shared.inspector;
        let path = target.path_and_query.as_str();
        let content_type = session
            .get_header(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let headers = session.req_header().headers.iter();
        let envelope = crate::extract::envelope::segments(
            path,
            headers.map(|(k, v)| (k.as_str(), v.as_bytes())),
            crate::extract::envelope::credential_params(provider),
        );
        let prepared = inspector
            .prepare_request(provider, path, content_type, body, envelope)
            .map_err(|InspectError::MalformedJson(e)| {
                Reply::new(
                    400,
                    ErrorKind::InvalidRequest,
                    format!("PromptWall could not parse the request: {e}"),
                )
            })?;
        if let Some(why) = prepared.unreadable() {
            tracing::warn!(request_id = %log.id, host = %target.host, why, "request body to an AI destination cannot be inspected; on_uninspectable decides");
        }
        // The cache and the first stage settle most windows right here, in microseconds; only
        // windows left uncertain go to the model, on the blocking pool, while the pattern scan
        // runs here.
        let classify = inspector
            .wants_labels(&identity.tenant)
            .then(|| self.start_classify(&identity.tenant, &prepared));
        let mut findings = inspector.scan(&identity.tenant, &prepared);
        let (labels, model_coverage) = match classify {
            Some(c) => c.wait().await,
            None => (LabelsOutcome::NotRun, None),
        };
        findings.note_model(model_coverage.as_ref());
        log.classifier = match &labels {
            LabelsOutcome::NotRun => "off".into(),
            LabelsOutcome::Scored(_) => "ok".into(),
            LabelsOutcome::Failed(e) => format!("error: {e}"),
        };
        // A server-side conversation continues its pseudonyms (same value, same token).
        // A read of a server-side conversation (no body) or a turn in one: its replies carry
        // the tokens earlier turns issued, so restore them.
        let conversation = crate::providers::conversation(path, prepared.json());
        let prior = match conversation.as_deref() {
            None => policy::Pseudonyms::default(),
            Some(c) => match self.shared.conversation_mapping(&identity.tenant, c).await {
                Ok(m) => m,
                Err(e) => {
                    crate::metrics::METRICS.vault_errors.inc();
                    let closed = inspector
                        .store()
                        .get(&identity.tenant)
                        .doc()
                        .on_classifier_error
                        == policy::OnError::FailClosed;
                    tracing::warn!(request_id = %log.id, tenant = %identity.tenant, error = %e, fail_closed = closed, "the conversation's pseudonym mapping could not be read");
                    if closed {
                        return Err(Reply::new(
                            503,
                            ErrorKind::Unavailable,
                            "PromptWall cannot reach its pseudonym store right now, and this conversation needs it; the request was not sent. Retry in a moment.",
                        ));
                    }
                    // Fail open: the turn goes on; tokens from earlier turns stay unrestored.
                    policy::Pseudonyms::default()
                }
            },
        };
        // A value split across turns of a server-side conversation: the end of the previous
        // turn (kept sealed in the vault, as pseudonyms are) against the start of this one.
        if let Some(c) = conversation
            .as_deref()
            .filter(|c| c.starts_with("response:"))
        {
            match self.shared.turn_tail(&identity.tenant, c).await {
                Ok(Some(tail)) => {
                    if let Some((first, text)) = crate::inspect::turn_head(&prepared.prompt) {
                        findings.across_turns(&inspector.engine(), &tail, first, text);
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    // Without it a split value may pass; the pattern scan of this turn stands.
                    crate::metrics::METRICS.vault_errors.inc();
                    tracing::warn!(request_id = %log.id, tenant = %identity.tenant, error = %e, "the previous turn's tail could not be read");
                }
            }
        }
        let prepared = prepared.continuing(prior.clone());
        let inspection: Inspection = tracing::info_span!(target: "promptwall::trace", "policy")
            .in_scope(|| inspector.decide(identity, provider, path, prepared, findings, labels));
        log.labels = inspection
            .labels
            .iter()
            .filter(|(k, v)| {
                inspector
                    .classifier()
                    .is_some_and(|c| c.thresholds.get(*k).is_some_and(|t| **v >= *t))
            })
            .map(|(k, v)| format!("{k}:{v:.2}"))
            .collect();
        let d = &inspection.decision;
        log.inspect_us = inspection.elapsed.as_micros();
        log.model = inspection.prompt.model.clone();
        log.tool = (!inspection.prompt.tools.is_empty()).then(|| inspection.prompt.tools.join(","));
        log.record_decision(d);
        log.redactions = inspection.redaction_count;
        log.stream = inspection.prompt.stream;
        log.segments = inspection.prompt.segments.len();
        log.skipped = inspection.prompt.skipped.len();
        log.coverage = Some(coverage_row(&inspection.prompt, model_coverage));
        if d.action.blocks() {
            let code = if d.action == Action::Coach {
                "coach"
            } else {
                "block"
            };
            let message = d
                .message
                .clone()
                .unwrap_or_else(|| "Request blocked by PromptWall policy.".into());
            return Err(Reply::new(403, ErrorKind::PolicyViolation, message)
                .with("x-promptwall-decision", code)
                .for_rpc(inspection.prompt.rpc_id.clone()));
        }
        let mut pseudonyms = inspection.pseudonyms.clone();
        if pseudonyms.is_empty() {
            // Nothing redacted this turn; earlier turns' tokens may still come back.
            pseudonyms = prior;
        }
        if let Some(c) = &conversation {
            if !pseudonyms.is_empty() {
                self.shared
                    .remember(&identity.tenant, c, pseudonyms.clone())
                    .await;
            }
        }
        let response = Some(self.response_policy(provider, target, identity, &inspection));
        Ok(Go {
            // Only a Responses call gets a response id for a next turn to name; nothing else
            // pays for keeping its tail.
            tail: path
                .split('?')
                .next()
                .is_some_and(|p| p.ends_with("/responses"))
                .then(|| crate::inspect::turn_tail(&inspection.prompt))
                .flatten(),
            drop_content_encoding: encoding.is_some() && inspection.rewritten.is_some(),
            content_type: inspection.rewritten_content_type,
            path_and_query: inspection.rewritten_path.clone(),
            headers: inspection.rewritten_headers.clone(),
            body: inspection.rewritten,
            pseudonyms,
            response,
        })
    }
}

/// Labels and what the model read, or why it could not.
type Classified = (LabelsOutcome, Option<classifiers::onnx::Coverage>);

/// A classification settled on the spot, or one waiting for the model.
pub(super) enum Classify {
    Done(Classified),
    Running(tokio::task::JoinHandle<Classified>),
}

impl Classify {
    /// The labels, once the model (if it was needed) has read the uncertain windows.
    pub(super) async fn wait(self) -> Classified {
        match self {
            Classify::Done(outcome) => outcome,
            Classify::Running(t) => t.await.unwrap_or_else(|e| {
                (
                    LabelsOutcome::Failed(format!("classifier task failed: {e}")),
                    None,
                )
            }),
        }
    }
}

impl AiHttpApp {
    /// Triage here (cache and first stage); the windows left uncertain go to the model on
    /// the blocking pool, so the request's pattern scan runs meanwhile.
    pub(super) fn start_classify(
        &self,
        tenant: &str,
        prepared: &crate::inspect::Prepared,
    ) -> Classify {
        let inspector = &self.shared.inspector;
        let text = prepared.classifier_text();
        if text.text.is_empty() {
            // Nothing the model would read (a body-less request: only its URL and headers).
            return Classify::Done((LabelsOutcome::NotRun, None));
        }
        let (model, triage) = match inspector.triage(tenant, &text) {
            Ok(t) => t,
            Err(outcome) => return Classify::Done((outcome, None)),
        };
        if !triage.needs_encoder() {
            return Classify::Done(inspector.finish_classify(&model, triage, &text.text));
        }
        let shared = self.shared.clone();
        let span = tracing::info_span!(target: "promptwall::trace", "classify");
        Classify::Running(tokio::task::spawn_blocking(move || {
            span.in_scope(|| shared.inspector.finish_classify(&model, triage, &text.text))
        }))
    }
}
