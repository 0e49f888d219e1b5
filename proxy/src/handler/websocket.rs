//! A WebSocket to an AI host, from the app's side: per-message inspection and the records of
//! the messages a rule acted on; the frames themselves are relayed by `crate::ws`.

use super::log::{emit, request_id, RequestLog};
use super::AiHttpApp;
use crate::forward::Outbound;
use crate::route::Target;
use pingora_core::protocols::http::ServerSession;
use policy::Identity;
use std::time::Instant;

impl AiHttpApp {
    /// A WebSocket to an AI host: each client text message is inspected like a request body
    /// (patterns, classifier and policy), and the server's text goes through the response
    /// guard.
    pub(super) async fn relay_websocket(
        &self,
        session: &mut ServerSession,
        provider: &str,
        target: &Target,
        identity: &Identity,
        outbound: Outbound,
        session_log: &RequestLog,
    ) -> crate::forward::Forwarded {
        let inspector = &self.shared.inspector;
        let path = target.path_and_query.split('?').next().unwrap_or("/");
        // Every message a rule acted on gets its own request record, committed before the
        // message goes on (as a request's is before it is forwarded); clean messages are
        // covered by the session's.
        let app = self;
        let inspect = move |text: String| {
            async move {
                let prepared = match inspector.prepare_request(
                    provider,
                    path,
                    None,
                    text.as_bytes(),
                    Vec::new(),
                ) {
                    Ok(p) => p,
                    Err(_) => inspector
                        .prepare_request(
                            provider,
                            path,
                            Some("text/plain"),
                            text.as_bytes(),
                            Vec::new(),
                        )
                        .expect("text bodies always read"),
                };
                // The classifier reads each message as it would a request body: triage here,
                // the uncertain windows on the blocking pool while the patterns scan.
                let classify = inspector
                    .wants_labels(&identity.tenant)
                    .then(|| app.start_classify(&identity.tenant, &prepared));
                let mut scan = inspector.scan(&identity.tenant, &prepared);
                let (labels, coverage) = match classify {
                    Some(c) => c.wait().await,
                    None => (policy::LabelsOutcome::NotRun, None),
                };
                scan.note_model(coverage.as_ref());
                let i = inspector.decide(identity, provider, path, prepared, scan, labels);
                let rules = || {
                    i.decision
                        .reasons
                        .iter()
                        .map(|r| r.rule.to_string())
                        .collect::<Vec<_>>()
                };
                if !i.decision.reasons.is_empty() {
                    let mut record = session_log.clone();
                    record.id = request_id();
                    record.method = "WEBSOCKET".into();
                    record.record_decision(&i.decision);
                    record.redactions = i.redaction_count;
                    record.inspect_us = i.elapsed.as_micros();
                    record.request_bytes = text.len() as u64;
                    record.segments = i.prompt.segments.len();
                    record.status = if i.decision.action.blocks() { 403 } else { 101 };
                    if !app.audit(&record, "ai_request", Instant::now()).await {
                        return crate::ws::Verdict::Block {
                            message: "PromptWall could not write this message's audit record, so it was not sent.".into(),
                            rules: rules(),
                        };
                    }
                    emit(&record, Instant::now());
                }
                if i.decision.action.blocks() {
                    crate::ws::Verdict::Block {
                        message: i.decision.message.clone().unwrap_or_else(|| {
                            "PromptWall blocked this message: it contains data the policy does not allow.".into()
                        }),
                        rules: rules(),
                    }
                } else if let Some(body) = &i.rewritten {
                    crate::ws::Verdict::Replace(String::from_utf8_lossy(body).into_owned())
                } else {
                    crate::ws::Verdict::Pass
                }
            }
        };
        let shape = outbound.shape;
        let guard =
            crate::stream::guard::StreamGuard::new(outbound.response_policy, outbound.pseudonyms);
        let route = crate::ws::Route {
            upstream: &self.shared.upstream,
            target,
            shape,
            max_message: self.shared.config.limits.max_body_bytes,
            request_id: &session_log.id,
        };
        crate::ws::relay(session, route, inspect, guard).await
    }
}
