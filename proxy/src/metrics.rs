//! Prometheus metrics for platform teams: traffic by tenant, provider and decision, findings by
//! category, latency per stage, and the depth of the audit and classifier queues.
//!
//! Labels are names and categories only, never content. Served as text at the admin
//! listener's `/metrics`.

use opentelemetry::metrics::{Counter, Gauge, Histogram as OtelHistogram, Meter};
use opentelemetry::KeyValue;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::{LazyLock, OnceLock};

/// The same measurements, as OpenTelemetry instruments (only when OTLP export is configured).
struct Otel {
    requests: Counter<u64>,
    tokens: OtelHistogram<u64>,
    findings: Counter<u64>,
    stage: OtelHistogram<f64>,
    connections: Counter<u64>,
    audit_write: OtelHistogram<f64>,
    audit_queue: Gauge<u64>,
    _classifier: [opentelemetry::metrics::ObservableGauge<u64>; 3],
}

/// Reads the classifier's batch counters when metrics are collected.
type StatsSource = Box<dyn Fn() -> Option<ClassifierStats> + Send + Sync>;

/// The classifier's batch and cascade counters, read together.
pub type ClassifierStats = (
    classifiers::onnx::BatchStats,
    classifiers::onnx::CascadeStats,
);

/// Every metric the proxy exports, registered once.
pub struct Metrics {
    registry: Registry,
    /// AI requests by tenant, provider and decision.
    pub requests: IntCounterVec,
    /// Tokens the providers reported, by tenant, provider and `input` / `output`.
    pub tokens: IntCounterVec,
    /// Rule matches by category (each reason counts once per request).
    pub findings: IntCounterVec,
    /// Seconds per stage: `inspect`, `upstream`, `total`.
    pub stage_seconds: HistogramVec,
    /// Events waiting for the audit writer.
    pub audit_queue: IntGauge,
    /// Seconds per committed audit batch.
    pub audit_write_seconds: Histogram,
    /// Times a request waited because the audit queue was full.
    pub audit_queue_waits: IntCounter,
    /// AI requests answered 503 because `limits.max_inflight` were already in flight.
    pub shed: IntCounter,
    /// Reads or writes of the shared pseudonym vault (Redis) that failed or timed out.
    pub vault_errors: IntCounter,
    /// Usage-log rows ClickHouse acknowledged (fleet mode).
    pub shipped: IntCounter,
    /// Shipping attempts that failed (each is retried; nothing is dropped).
    pub ship_failures: IntCounter,
    /// Committed rows not yet in ClickHouse.
    pub ship_lag_events: IntGauge,
    /// Age of the oldest row not yet in ClickHouse, in seconds.
    pub ship_lag_seconds: prometheus::Gauge,
    /// Audit events that could not be committed (each is also logged with its request id).
    pub audit_failures: IntCounter,
    /// Blind tunnels and refused destinations by kind.
    pub connections: IntCounterVec,
    /// Insider-risk alert deliveries by sink and outcome (sent, failed, suppressed).
    pub risk_alerts: IntCounterVec,
    /// Request texts whose pattern scan came from the memo (hit) or ran (miss).
    scan_memo: IntCounterVec,
    scan_memo_hit: IntCounter,
    scan_memo_miss: IntCounter,
    classifier_batches: IntGauge,
    classifier_rows: IntGauge,
    classifier_queue: IntGauge,
    classifier_shed: IntGauge,
    classifier_windows: IntGaugeVec,
    classifier_texts: IntGaugeVec,
    classifier_tokens: IntGaugeVec,
    otel: OnceLock<Otel>,
    classifier_source: OnceLock<StatsSource>,
}

/// The process-wide metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new();
        let latency = vec![
            0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            2.5, 5.0, 10.0, 30.0, 60.0,
        ];
        let scan_memo = IntCounterVec::new(
            Opts::new(
                "promptwall_scan_memo_total",
                "Request texts (256 bytes and longer) whose pattern scan came from the memo because the tenant sent the same text before (hit), or ran (miss)",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let m = Metrics {
            registry,
            otel: OnceLock::new(),
            classifier_source: OnceLock::new(),
            requests: IntCounterVec::new(
                Opts::new("promptwall_requests_total", "AI requests by decision"),
                &["tenant", "provider", "action"],
            )
            .expect("valid metric"),
            tokens: IntCounterVec::new(
                Opts::new(
                    "promptwall_gen_ai_tokens_total",
                    "Tokens reported by providers, by type (input, output)",
                ),
                &["tenant", "provider", "type"],
            )
            .expect("valid metric"),
            findings: IntCounterVec::new(
                Opts::new(
                    "promptwall_findings_total",
                    "Matched policy reasons by category",
                ),
                &["tenant", "category"],
            )
            .expect("valid metric"),
            stage_seconds: HistogramVec::new(
                HistogramOpts::new("promptwall_stage_seconds", "Latency per request stage")
                    .buckets(latency.clone()),
                &["stage"],
            )
            .expect("valid metric"),
            audit_queue: IntGauge::new(
                "promptwall_audit_queue_depth",
                "Events waiting for the audit writer",
            )
            .expect("valid metric"),
            audit_write_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "promptwall_audit_write_seconds",
                    "Seconds per committed audit batch",
                )
                .buckets(latency),
            )
            .expect("valid metric"),
            audit_queue_waits: IntCounter::new(
                "promptwall_audit_queue_waits_total",
                "Requests that waited for room in the audit queue",
            )
            .expect("valid metric"),
            shed: IntCounter::new(
                "promptwall_shed_total",
                "AI requests refused with 503 because the proxy was at capacity",
            )
            .expect("valid metric"),
            vault_errors: IntCounter::new(
                "promptwall_vault_errors_total",
                "Shared pseudonym vault (Redis) calls that failed or timed out",
            )
            .expect("valid metric"),
            shipped: IntCounter::new(
                "promptwall_shipped_events_total",
                "Usage-log rows acknowledged by ClickHouse",
            )
            .expect("valid metric"),
            ship_failures: IntCounter::new(
                "promptwall_ship_failures_total",
                "Attempts to ship usage-log rows to ClickHouse that failed (retried)",
            )
            .expect("valid metric"),
            ship_lag_events: IntGauge::new(
                "promptwall_ship_lag_events",
                "Committed usage-log rows not yet in ClickHouse",
            )
            .expect("valid metric"),
            ship_lag_seconds: prometheus::Gauge::new(
                "promptwall_ship_lag_seconds",
                "Age of the oldest usage-log row not yet in ClickHouse",
            )
            .expect("valid metric"),
            audit_failures: IntCounter::new(
                "promptwall_audit_failures_total",
                "Audit events that could not be committed",
            )
            .expect("valid metric"),
            connections: IntCounterVec::new(
                Opts::new(
                    "promptwall_connections_total",
                    "Non-inspected connections by kind (tunnel, blocked_destination)",
                ),
                &["kind"],
            )
            .expect("valid metric"),
            risk_alerts: IntCounterVec::new(
                Opts::new(
                    "promptwall_risk_alerts_total",
                    "Insider-risk alert deliveries by sink (webhook, syslog) and outcome (sent, failed: retried later, suppressed: de-duplicated or cooling down, expired: given up after a week)",
                ),
                &["sink", "outcome"],
            )
            .expect("valid metric"),
            scan_memo: scan_memo.clone(),
            scan_memo_hit: scan_memo.with_label_values(&["hit"]),
            scan_memo_miss: scan_memo.with_label_values(&["miss"]),
            classifier_batches: IntGauge::new(
                "promptwall_classifier_batches",
                "Model runs since start",
            )
            .expect("valid metric"),
            classifier_rows: IntGauge::new(
                "promptwall_classifier_batched_windows",
                "Windows scored since start (divide by batches for the mean batch size)",
            )
            .expect("valid metric"),
            classifier_queue: IntGauge::new(
                "promptwall_classifier_queue_depth",
                "Windows waiting for a model worker",
            )
            .expect("valid metric"),
            classifier_shed: IntGauge::new(
                "promptwall_classifier_shed_windows",
                "Windows refused or dropped since start because the model could not score them before their deadline (the request's on_classifier_error decided)",
            )
            .expect("valid metric"),
            classifier_windows: IntGaugeVec::new(
                Opts::new(
                    "promptwall_classifier_windows",
                    "Text windows since start by how they were settled: cached (resent text), settled (first stage, clearly benign), encoded (the encoder read it), unread (over the per-text budget)",
                ),
                &["outcome"],
            )
            .expect("valid metric"),
            classifier_tokens: IntGaugeVec::new(
                Opts::new(
                    "promptwall_classifier_tokens",
                    "Tokens the encoder ran since start: scored (the windows' own) and padded (what the runs padded them to; the difference is time spent on padding)",
                ),
                &["kind"],
            )
            .expect("valid metric"),
            classifier_texts: IntGaugeVec::new(
                Opts::new(
                    "promptwall_classifier_texts",
                    "Texts classified since start, by whether the encoder read any of their windows (yes, no), or failed (deadline or model error, decided by on_classifier_error)",
                ),
                &["encoder"],
            )
            .expect("valid metric"),
        };
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(m.requests.clone()),
            Box::new(m.tokens.clone()),
            Box::new(m.findings.clone()),
            Box::new(m.stage_seconds.clone()),
            Box::new(m.audit_queue.clone()),
            Box::new(m.audit_write_seconds.clone()),
            Box::new(m.audit_queue_waits.clone()),
            Box::new(m.audit_failures.clone()),
            Box::new(m.shed.clone()),
            Box::new(m.vault_errors.clone()),
            Box::new(m.shipped.clone()),
            Box::new(m.ship_failures.clone()),
            Box::new(m.ship_lag_events.clone()),
            Box::new(m.ship_lag_seconds.clone()),
            Box::new(m.connections.clone()),
            Box::new(m.risk_alerts.clone()),
            Box::new(m.scan_memo.clone()),
            Box::new(m.classifier_batches.clone()),
            Box::new(m.classifier_rows.clone()),
            Box::new(m.classifier_queue.clone()),
            Box::new(m.classifier_shed.clone()),
            Box::new(m.classifier_windows.clone()),
            Box::new(m.classifier_texts.clone()),
            Box::new(m.classifier_tokens.clone()),
        ];
        for c in collectors {
            m.registry.register(c).expect("metric names are unique");
        }
        m
    }

    /// Where the classifier's batch counters come from (set once the model is loaded).
    pub fn set_classifier_source(
        &self,
        f: impl Fn() -> Option<ClassifierStats> + Send + Sync + 'static,
    ) {
        let _ = self.classifier_source.set(Box::new(f));
    }

    fn classifier_now(&self) -> Option<classifiers::onnx::BatchStats> {
        self.classifier_source.get().and_then(|f| f()).map(|s| s.0)
    }

    /// Mirrors every later measurement into OpenTelemetry instruments from `meter`.
    pub fn install_otel(&self, meter: &Meter) {
        let gauge = |name: &'static str,
                     what: &'static str,
                     pick: fn(&classifiers::onnx::BatchStats) -> u64| {
            meter
                .u64_observable_gauge(name)
                .with_description(what)
                .with_callback(move |obs| {
                    if let Some(s) = METRICS.classifier_now() {
                        obs.observe(pick(&s), &[]);
                    }
                })
                .build()
        };
        let _ = self.otel.set(Otel {
            _classifier: [
                gauge(
                    "promptwall.classifier.batches",
                    "Model runs since start",
                    |s| s.batches,
                ),
                gauge(
                    "promptwall.classifier.batched_windows",
                    "Windows scored since start (divide by batches for the mean batch size)",
                    |s| s.rows,
                ),
                gauge(
                    "promptwall.classifier.queue.depth",
                    "Windows waiting for a model worker",
                    |s| s.queued,
                ),
            ],
            requests: meter
                .u64_counter("promptwall.requests")
                .with_description("AI requests by decision")
                .build(),
            // The GenAI semantic-convention metric: tokens per request, by `gen_ai.token.type`.
            tokens: meter
                .u64_histogram("gen_ai.client.token.usage")
                .with_unit("{token}")
                .with_description("Tokens per request as reported by the provider")
                .build(),
            findings: meter
                .u64_counter("promptwall.findings")
                .with_description("Matched policy reasons by category")
                .build(),
            stage: meter
                .f64_histogram("promptwall.stage.duration")
                .with_unit("s")
                .with_description("Latency per request stage")
                .build(),
            connections: meter
                .u64_counter("promptwall.connections")
                .with_description("Non-inspected connections by kind")
                .build(),
            audit_write: meter
                .f64_histogram("promptwall.audit.write.duration")
                .with_unit("s")
                .with_description("Seconds per committed audit batch")
                .build(),
            audit_queue: meter
                .u64_gauge("promptwall.audit.queue.depth")
                .with_description("Events waiting for the audit writer")
                .build(),
        });
    }

    /// One AI request's decision.
    pub fn request(&self, tenant: &str, provider: &str, action: &str) {
        self.requests
            .with_label_values(&[tenant, provider, action])
            .inc();
        if let Some(o) = self.otel.get() {
            o.requests.add(
                1,
                &[
                    KeyValue::new("tenant", tenant.to_string()),
                    KeyValue::new("gen_ai.system", provider.to_string()),
                    KeyValue::new("action", action.to_string()),
                ],
            );
        }
    }

    /// Tokens one response reported; `kind` is `input` or `output`.
    pub fn tokens(&self, tenant: &str, provider: &str, kind: &'static str, n: u64) {
        self.tokens
            .with_label_values(&[tenant, provider, kind])
            .inc_by(n);
        if let Some(o) = self.otel.get() {
            o.tokens.record(
                n,
                &[
                    KeyValue::new("tenant", tenant.to_string()),
                    KeyValue::new("gen_ai.system", provider.to_string()),
                    KeyValue::new("gen_ai.token.type", kind),
                ],
            );
        }
    }

    /// One matched reason of `category`.
    pub fn finding(&self, tenant: &str, category: &str) {
        self.findings.with_label_values(&[tenant, category]).inc();
        if let Some(o) = self.otel.get() {
            o.findings.add(
                1,
                &[
                    KeyValue::new("tenant", tenant.to_string()),
                    KeyValue::new("category", category.to_string()),
                ],
            );
        }
    }

    /// Time spent in one stage of a request.
    pub fn stage(&self, stage: &'static str, seconds: f64) {
        self.stage_seconds
            .with_label_values(&[stage])
            .observe(seconds);
        if let Some(o) = self.otel.get() {
            o.stage.record(seconds, &[KeyValue::new("stage", stage)]);
        }
    }

    /// A blind tunnel or refused destination.
    pub fn connection(&self, kind: &str) {
        self.connections.with_label_values(&[kind]).inc();
        if let Some(o) = self.otel.get() {
            o.connections
                .add(1, &[KeyValue::new("kind", kind.to_string())]);
        }
    }

    /// How one request text's pattern scan went through the engine's memo.
    pub fn scan_memo(&self, lookup: classifiers::patterns::Lookup) {
        match lookup {
            classifiers::patterns::Lookup::Hit => self.scan_memo_hit.inc(),
            classifiers::patterns::Lookup::Miss => self.scan_memo_miss.inc(),
            classifiers::patterns::Lookup::Skipped => {}
        }
    }

    /// One committed audit batch.
    pub fn audit_write(&self, seconds: f64) {
        self.audit_write_seconds.observe(seconds);
        if let Some(o) = self.otel.get() {
            o.audit_write.record(seconds, &[]);
        }
    }

    /// The audit queue's depth now.
    pub fn audit_depth(&self, depth: usize) {
        self.audit_queue.set(depth as i64);
        if let Some(o) = self.otel.get() {
            o.audit_queue.record(depth as u64, &[]);
        }
    }

    /// The Prometheus text exposition, with the classifier's counters read now.
    pub fn render(&self) -> String {
        if let Some((s, c)) = self.classifier_source.get().and_then(|f| f()) {
            self.classifier_batches.set(s.batches as i64);
            self.classifier_rows.set(s.rows as i64);
            self.classifier_queue.set(s.queued as i64);
            self.classifier_shed.set(s.shed as i64);
            for (kind, n) in [("scored", s.tokens), ("padded", s.padded_tokens)] {
                self.classifier_tokens
                    .with_label_values(&[kind])
                    .set(n as i64);
            }
            for (outcome, n) in [
                ("cached", c.cached),
                ("settled", c.settled),
                ("encoded", c.encoded),
                ("unread", c.unread),
            ] {
                self.classifier_windows
                    .with_label_values(&[outcome])
                    .set(n as i64);
            }
            let texts = &self.classifier_texts;
            texts
                .with_label_values(&["yes"])
                .set(c.texts_encoded as i64);
            texts
                .with_label_values(&["no"])
                .set((c.texts - c.texts_encoded) as i64);
            texts.with_label_values(&["failed"]).set(c.failed as i64);
        }
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding into memory cannot fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}
