//! Structured logs (`tracing`), JSON when `PROMPTWALL_LOG_FORMAT=json`, filtered by `RUST_LOG`;
//! and, when configured, OpenTelemetry traces and metrics exported over OTLP/HTTP.
//!
//! Spans carry names, ids and the GenAI semantic-convention attributes, never content. Only
//! PromptWall's own spans (target `promptwall::trace`) are exported.

use crate::config::{OtlpConfig, OtlpProtocol};
use async_trait::async_trait;
use bytes::Bytes;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use std::sync::OnceLock;
use std::time::Duration;
use tracing_subscriber::filter::FilterExt;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The target of spans that are exported as traces.
pub const TRACE_TARGET: &str = "promptwall::trace";

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    #[error("OTLP export runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// Installs logging only (CLI commands).
pub fn init_logging() {
    let _ = init(None);
}

/// Installs logging and, with `otlp`, trace and metric export. Logs go to stderr so stdout
/// stays machine-readable.
pub fn init(otlp: Option<&OtlpConfig>) -> Result<(), TelemetryError> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,pingora_core=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // Lines are formatted on the request's thread but written by a logging thread, so a
    // worker never waits on a write(2) to a file or a pipe. Lossless: when the logging thread
    // falls behind, callers wait for room instead of dropping lines.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("promptwall-log")
        .finish(std::io::stderr());
    if let Ok(mut g) = LOG_GUARD.lock() {
        *g = Some(guard);
    }
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(ansi);
    // The trace spans are for export only: their fields repeat what the request line carries,
    // and formatting them for the log on every request (and again on every `record`) cost more
    // than writing the line itself.
    let filter = filter.and(tracing_subscriber::filter::filter_fn(|m| {
        !(m.is_span() && m.target() == TRACE_TARGET)
    }));
    let fmt = if std::env::var("PROMPTWALL_LOG_FORMAT").as_deref() == Ok("json") {
        fmt.json().with_filter(filter).boxed()
    } else {
        fmt.with_filter(filter).boxed()
    };
    let otel = match otlp {
        Some(cfg) => Some(start_otlp(cfg)?),
        None => None,
    };
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .try_init();
    Ok(())
}

fn start_otlp<S>(cfg: &OtlpConfig) -> Result<Box<dyn Layer<S> + Send + Sync>, TelemetryError>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a> + Send + Sync,
{
    let protocol = match cfg.protocol {
        OtlpProtocol::HttpProtobuf => opentelemetry_otlp::Protocol::HttpBinary,
        OtlpProtocol::HttpJson => opentelemetry_otlp::Protocol::HttpJson,
    };
    let timeout = Duration::from_millis(cfg.timeout_ms);
    let client = ExportClient::new(timeout)?;
    let base = cfg.endpoint.trim_end_matches('/');
    let resource = Resource::builder()
        .with_service_name(cfg.service_name.clone())
        .build();
    let spans = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(client.clone())
        .with_protocol(protocol)
        .with_endpoint(format!("{base}/v1/traces"))
        .with_timeout(timeout)
        .with_headers(cfg.headers.clone().into_iter().collect())
        .build()?;
    let batch = opentelemetry_sdk::trace::BatchSpanProcessor::builder(spans)
        .with_batch_config(
            opentelemetry_sdk::trace::BatchConfigBuilder::default()
                .with_scheduled_delay(Duration::from_millis(cfg.export_interval_ms))
                .build(),
        )
        .build();
    let tracer_provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_span_processor(batch)
        .with_resource(resource.clone())
        .build();
    let tracer = tracer_provider.tracer("promptwall");
    let metrics = opentelemetry_otlp::MetricExporter::builder()
        .with_http()
        .with_http_client(client)
        .with_protocol(protocol)
        .with_endpoint(format!("{base}/v1/metrics"))
        .with_timeout(timeout)
        .with_headers(cfg.headers.clone().into_iter().collect())
        .build()?;
    let reader = opentelemetry_sdk::metrics::PeriodicReader::builder(metrics)
        .with_interval(Duration::from_millis(cfg.export_interval_ms))
        .build();
    let meter_provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        .with_reader(reader)
        .with_resource(resource)
        .build();
    crate::metrics::METRICS.install_otel(&opentelemetry::metrics::MeterProvider::meter(
        &meter_provider,
        "promptwall",
    ));
    let _ = PROVIDERS.set((tracer_provider, meter_provider));
    let only_ours = Targets::new().with_target(TRACE_TARGET, tracing::Level::INFO);
    Ok(tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(only_ours)
        .boxed())
}

/// Kept for the life of the process; flushed by [`shutdown`].
static PROVIDERS: OnceLock<(
    opentelemetry_sdk::trace::SdkTracerProvider,
    opentelemetry_sdk::metrics::SdkMeterProvider,
)> = OnceLock::new();

/// Whether OTLP export is on (so work done only for spans can be skipped otherwise).
pub fn exporting() -> bool {
    PROVIDERS.get().is_some()
}

/// Flushes and stops the exporters (on shutdown).
pub fn shutdown() {
    if let Some((t, m)) = PROVIDERS.get() {
        let _ = t.shutdown();
        let _ = m.shutdown();
    }
    flush_logs();
}

/// The logging thread's guard: dropping it writes every line still queued.
static LOG_GUARD: std::sync::Mutex<Option<tracing_appender::non_blocking::WorkerGuard>> =
    std::sync::Mutex::new(None);

/// Writes every queued log line before the process exits (later lines go nowhere).
pub fn flush_logs() {
    if let Ok(mut g) = LOG_GUARD.lock() {
        g.take();
    }
}

/// The HTTP client the exporters use: the proxy's own reqwest/rustls stack on a small runtime
/// of its own, since the SDK exports from its own threads.
#[derive(Debug, Clone)]
struct ExportClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
    timeout: Duration,
}

static EXPORT_RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

impl ExportClient {
    fn new(timeout: Duration) -> Result<Self, std::io::Error> {
        let runtime = match EXPORT_RUNTIME.get() {
            Some(rt) => rt,
            None => {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("promptwall-otlp")
                    .enable_all()
                    .build()?;
                EXPORT_RUNTIME.get_or_init(|| rt)
            }
        };
        // The collector is reached directly (it is infrastructure, not traffic to inspect).
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(timeout)
            .build()
            .map_err(std::io::Error::other)?;
        Ok(ExportClient {
            client,
            runtime: runtime.handle().clone(),
            timeout,
        })
    }
}

/// Largest collector response read back.
const MAX_RESPONSE: usize = 1 << 20;

#[async_trait]
impl opentelemetry_http::HttpClient for ExportClient {
    async fn send_bytes(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, opentelemetry_http::HttpError> {
        let (parts, body) = request.into_parts();
        let client = self.client.clone();
        let timeout = self.timeout;
        let task = self.runtime.spawn(async move {
            let mut resp = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .timeout(timeout)
                .send()
                .await?;
            let (status, headers) = (resp.status(), resp.headers().clone());
            let mut buf = Vec::new();
            while let Some(chunk) = resp.chunk().await? {
                if buf.len() + chunk.len() <= MAX_RESPONSE {
                    buf.extend_from_slice(&chunk);
                }
            }
            Ok::<_, reqwest::Error>((status, headers, buf))
        });
        let (status, headers, buf) = task.await??;
        let mut response = http::Response::new(Bytes::from(buf));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Ok(response)
    }
}
