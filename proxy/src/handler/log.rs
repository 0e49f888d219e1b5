//! The request record: what the log line and the audit log say about one request (never
//! prompt text or finding values), and the request ids.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(0);

/// A process-unique, time-ordered id for one request, shared by its log line, audit record and
/// `x-promptwall-request-id` header.
pub(crate) fn request_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("{ms:x}-{:x}", REQUEST_SEQ.fetch_add(1, Ordering::Relaxed))
}

/// What the log line for a request says; never holds prompt text or finding values.
#[derive(Default, Clone)]
pub(super) struct RequestLog {
    pub(super) id: String,
    pub(super) tenant: String,
    pub(super) user: Option<String>,
    pub(super) provider: Option<String>,
    pub(super) host: String,
    pub(super) method: String,
    pub(super) path: String,
    pub(super) model: Option<String>,
    pub(super) tool: Option<String>,
    pub(super) decision: Option<String>,
    pub(super) policy_version: u64,
    pub(super) rules: Vec<String>,
    pub(super) redactions: usize,
    /// Parts of the body that hold no scannable text (images, token ids): coverage.
    pub(super) skipped: usize,
    /// `off`, `ok`, or the classifier's error.
    pub(super) classifier: String,
    /// Labels at or above their thresholds.
    pub(super) labels: Vec<String>,
    pub(super) status: u16,
    pub(super) inspect_us: u128,
    pub(super) upstream_ms: u128,
    pub(super) response_decision: Option<String>,
    pub(super) response_rules: Vec<String>,
    pub(super) groups: Vec<String>,
    pub(super) client_addr: Option<String>,
    pub(super) reasons: Vec<crate::audit::event::ReasonRow>,
    pub(super) mode: String,
    pub(super) stream: bool,
    pub(super) request_bytes: u64,
    /// Body bytes the client was sent (after restoring and decoding), for usage questions.
    pub(super) response_bytes: u64,
    pub(super) segments: usize,
    pub(super) usage: crate::providers::usage::Usage,
    pub(super) coverage: Option<crate::audit::event::CoverageRow>,
    /// Why the response passed uninspected, if it did.
    pub(super) response_uninspected: Option<&'static str>,
}

impl RequestLog {
    /// Takes a policy decision's outcome: its label, rules and reasons (ids, never values).
    pub(super) fn record_decision(&mut self, d: &policy::Decision) {
        self.rules = d.reasons.iter().map(|r| r.rule.to_string()).collect();
        self.rules.dedup();
        self.decision = Some(d.label());
        self.policy_version = d.policy_version;
        self.mode = format!("{:?}", d.mode).to_ascii_lowercase();
        self.reasons = d
            .reasons
            .iter()
            .map(|r| crate::audit::event::ReasonRow {
                rule: r.rule.to_string(),
                action: r.action.as_str().to_string(),
                category: r.category.map(|c| c.as_str().to_string()),
                entity: r.entity.to_string(),
                count: r.count,
                max_score: r.max_score,
            })
            .collect();
    }

    pub(super) fn audit_event(&self, kind: &str, started: Instant) -> crate::audit::AuditEvent {
        // The response record says how the exchange ended; why the request was decided as it
        // was (reasons, labels, coverage) lives on the request record, once, so filters by
        // category or rule count each request once and response rows stay small.
        let response = kind.ends_with("_response");
        crate::audit::AuditEvent {
            id: self.id.clone(),
            time: crate::audit::event::now(),
            kind: kind.into(),
            tenant: self.tenant.clone(),
            user: self.user.clone(),
            groups: self.groups.clone(),
            client_addr: self.client_addr.clone(),
            provider: self.provider.clone(),
            host: self.host.clone(),
            endpoint: Some(self.path.clone()),
            model: self.model.clone(),
            tool: self.tool.clone(),
            stream: self.stream,
            request_bytes: self.request_bytes,
            response_bytes: self.response_bytes,
            decision: self.decision.clone().unwrap_or_else(|| {
                if self.status >= 400 {
                    "error".into()
                } else {
                    "pass".into()
                }
            }),
            mode: self.mode.clone(),
            policy_version: self.policy_version,
            reasons: if response {
                Vec::new()
            } else {
                self.reasons.clone()
            },
            redactions: self.redactions,
            response_decision: self.response_decision.clone(),
            response_rules: self.response_rules.clone(),
            classifier: if self.classifier.is_empty() {
                "off".into()
            } else {
                self.classifier.clone()
            },
            labels: if response {
                Vec::new()
            } else {
                self.labels.clone()
            },
            segments: self.segments,
            skipped: self.skipped,
            inspect_us: self.inspect_us as u64,
            upstream_ms: self.upstream_ms as u64,
            total_ms: started.elapsed().as_millis() as u64,
            status: self.status,
            input_tokens: self.usage.input,
            output_tokens: self.usage.output,
            coverage: if response {
                self.response_uninspected
                    .map(crate::audit::event::CoverageRow::whole_body_skipped)
            } else {
                self.coverage.clone()
            },
            ..Default::default()
        }
    }
}

/// The audit coverage record of an inspected prompt (pointers made safe to log).
pub(super) fn coverage_row(
    prompt: &crate::providers::Prompt,
    model: Option<classifiers::onnx::Coverage>,
) -> crate::audit::event::CoverageRow {
    use crate::audit::event::{safe_pointer, ClassifierCoverage, CoverageRow, SkippedRow};
    let max = CoverageRow::MAX_POINTERS;
    let placed = |s: &&crate::providers::Segment| s.role != crate::providers::Role::Unknown;
    let listed = prompt.segments.iter().filter(placed).count();
    CoverageRow {
        scanned: prompt
            .segments
            .iter()
            .filter(placed)
            .take(max)
            .map(|s| safe_pointer(&s.pointer))
            .collect(),
        scanned_more: listed.saturating_sub(max),
        scanned_other: prompt.segments.len() - listed,
        skipped: prompt
            .skipped
            .iter()
            .take(max)
            .map(|(p, why)| SkippedRow {
                pointer: safe_pointer(p),
                why: (*why).to_string(),
            })
            .collect(),
        classifier: model.map(|c| ClassifierCoverage {
            text_bytes: c.text_bytes,
            windows: c.windows,
            windows_total: c.windows_total,
            settled: c.settled,
            cached: c.cached,
            unread: c.unread,
        }),
    }
}

pub(super) fn emit(log: &RequestLog, started: Instant) {
    let span = tracing::Span::current();
    span.record("promptwall.request_id", log.id.as_str());
    span.record("promptwall.tenant", log.tenant.as_str());
    span.record("server.address", log.host.as_str());
    span.record("http.response.status_code", log.status);
    if let Some(d) = &log.decision {
        span.record("promptwall.decision", d.as_str());
    }
    if let Some(p) = &log.provider {
        span.record("gen_ai.system", crate::providers::genai_system(p));
        span.record("gen_ai.operation.name", "chat");
        if let Some(m) = &log.model {
            span.record("gen_ai.request.model", m.as_str());
            // GenAI naming: "{operation} {model}" (the model is known only now); the name
            // is built only when traces are exported, keeping the request path allocation-light.
            if crate::telemetry::exporting() {
                opentelemetry::trace::TraceContextExt::span(
                    &tracing_opentelemetry::OpenTelemetrySpanExt::context(&span),
                )
                .update_name(format!("chat {m}"));
            }
        }
    }
    // As i64: the OTel bridge exports u64 as a string, and the conventions want an int.
    let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    if let Some(n) = log.usage.input {
        span.record("gen_ai.usage.input_tokens", int(n));
    }
    if let Some(n) = log.usage.output {
        span.record("gen_ai.usage.output_tokens", int(n));
    }
    let m = &crate::metrics::METRICS;
    if let Some(provider) = &log.provider {
        for (kind, n) in [("input", log.usage.input), ("output", log.usage.output)] {
            if let Some(n) = n {
                m.tokens(&log.tenant, provider, kind, n);
            }
        }
        m.request(
            &log.tenant,
            provider,
            log.decision.as_deref().unwrap_or("error"),
        );
        for r in &log.reasons {
            if let Some(c) = &r.category {
                m.finding(&log.tenant, c);
            }
        }
        m.stage("inspect", log.inspect_us as f64 / 1e6);
        if log.upstream_ms > 0 {
            m.stage("upstream", log.upstream_ms as f64 / 1e3);
        }
    }
    m.stage("total", started.elapsed().as_secs_f64());
    tracing::info!(
        target: "promptwall::request",
        request_id = %log.id,
        tenant = %log.tenant,
        user = %log.user.as_deref().unwrap_or("-"),
        provider = %log.provider.as_deref().unwrap_or("-"),
        host = %log.host,
        method = %log.method,
        path = %log.path,
        model = %log.model.as_deref().unwrap_or("-"),
        decision = %log.decision.as_deref().unwrap_or("-"),
        policy_version = log.policy_version,
        rules = %log.rules.join(","),
        redactions = log.redactions,
        skipped = log.skipped,
        classifier = %if log.classifier.is_empty() { "off" } else { log.classifier.as_str() },
        labels = %log.labels.join(","),
        response_decision = %log.response_decision.as_deref().unwrap_or("-"),
        response_rules = %log.response_rules.join(","),
        status = log.status,
        inspect_us = log.inspect_us as u64,
        upstream_ms = log.upstream_ms as u64,
        total_ms = started.elapsed().as_millis() as u64,
        "request"
    );
}
