//! The `promptwall serve` configuration: YAML, every field optional, unknown fields rejected.
//!
//! With no file at all, [`Config::default`] gives the embedded defaults from DESIGN.md §2.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

mod fleet;
mod load;

pub use fleet::{ClickHouseConfig, FleetConfig, PostgresConfig, RedisConfig};

/// Why a config file was rejected; the message names the file, line and field.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{path}: cannot read config: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// The YAML does not fit the config's shape (names the line, column and field).
    #[error(transparent)]
    Shape(#[from] policy::PolicyError),
}

/// Top-level configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The explicit forward proxy (CONNECT and absolute-form HTTP).
    pub listen: SocketAddr,
    pub gateway: GatewayConfig,
    pub admin: AdminConfig,
    /// Holds the generated CA, policy versions and the audit database.
    pub state_dir: PathBuf,
    pub ca: CaConfig,
    pub auth: AuthConfig,
    pub destinations: DestinationsConfig,
    pub upstream: UpstreamConfig,
    pub limits: LimitsConfig,
    pub rules: RulesConfig,
    pub policies: PoliciesConfig,
    pub classifier: ClassifierConfig,
    pub audit: AuditConfig,
    pub telemetry: TelemetryConfig,
    pub mcp: McpConfig,
    /// Shared stores for many nodes (fleet mode); each is optional, and without them a node
    /// keeps everything to itself.
    pub fleet: FleetConfig,
    /// Insider-risk analytics: the job, its alerts' delivery and pseudonymization.
    pub risk: crate::risk::RiskConfig,
    /// Worker threads per listener; 0 means one per CPU.
    pub threads: usize,
    /// Whether a listener's worker threads steal each other's tasks. Without stealing each
    /// connection's tasks (its request and its upstream connection) stay on one thread.
    pub work_stealing: bool,
    /// Seconds to let in-flight requests finish on shutdown.
    pub shutdown_grace_secs: u64,
}

/// Traces and metrics for the platform team's stack (Prometheus `/metrics` is always on).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// OTLP export; off when absent.
    pub otlp: Option<OtlpConfig>,
}

/// Where and how OTLP traces and metrics are sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpConfig {
    /// The collector's base URL, e.g. `http://otel-collector:4318` (`/v1/traces` and
    /// `/v1/metrics` are appended).
    pub endpoint: String,
    #[serde(default)]
    pub protocol: OtlpProtocol,
    /// How often spans and metrics are sent.
    #[serde(default = "default_export_interval")]
    pub export_interval_ms: u64,
    #[serde(default = "default_export_timeout")]
    pub timeout_ms: u64,
    #[serde(default = "default_service_name")]
    pub service_name: String,
    /// Extra request headers (collector credentials).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

fn default_export_interval() -> u64 {
    5000
}
fn default_export_timeout() -> u64 {
    10_000
}
fn default_service_name() -> String {
    "promptwall".into()
}

/// The OTLP/HTTP encoding.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
pub enum OtlpProtocol {
    #[default]
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
    #[serde(rename = "http/json")]
    HttpJson,
}

/// The usage log.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    pub enabled: bool,
    /// The SQLite file; default `<state_dir>/audit.db`.
    pub path: Option<PathBuf>,
    /// Events waiting for the writer; when full, requests wait (they are never dropped).
    pub queue: usize,
    /// `full` (default) fsyncs every commit; `normal` survives a crash of the process but not
    /// of the machine, and takes the fsync off the request path.
    pub durability: crate::audit::Durability,
    /// Days to keep events of tenants not listed below; `null` keeps them forever.
    pub retention_days: Option<u32>,
    /// Days to keep each listed tenant's events.
    pub tenant_retention_days: BTreeMap<String, u32>,
    /// Seconds between retention runs.
    pub retention_check_secs: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            enabled: true,
            path: None,
            queue: 10_000,
            durability: crate::audit::Durability::Full,
            retention_days: None,
            tenant_retention_days: BTreeMap::new(),
            retention_check_secs: 3600,
        }
    }
}

impl AuditConfig {
    /// The retention rules for the writer.
    pub fn retention(&self) -> crate::audit::RetentionPolicy {
        crate::audit::RetentionPolicy {
            default_days: self.retention_days,
            tenants: self
                .tenant_retention_days
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            shipped_through: None,
        }
    }

    /// Where the database lives.
    pub fn path(&self, state_dir: &Path) -> PathBuf {
        self.path
            .clone()
            .unwrap_or_else(|| state_dir.join("audit.db"))
    }
}

/// The ONNX content classifier (labels such as `prompt_injection`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifierConfig {
    /// Load the model at start (a failure is logged; label rules then follow each tenant's
    /// `on_classifier_error`).
    pub enabled: bool,
    /// `libonnxruntime`; default: `ORT_DYLIB_PATH`, then the project's `.cache/onnxruntime/`.
    pub library: Option<PathBuf>,
    /// The fused model; default: `PROMPTWALL_MODEL`, then `.cache/model/model.onnx`
    /// (`model-cuda.onnx` in a `cuda` build).
    pub model: Option<PathBuf>,
    /// Inference threads, one session (one intra-op thread) each.
    pub sessions: usize,
    /// Most windows per model run; default 4 on the CPU, 32 in a `cuda` build.
    pub max_batch: usize,
    pub max_wait_ms: u64,
    /// How long a request waits for labels.
    pub deadline_ms: u64,
    /// The most 256-token windows the encoder reads per request (windows the cache or the
    /// first stage answers do not count).
    pub max_windows: usize,
    /// Let the first stage's gate (distilled from the encoder) settle the windows it predicts
    /// the encoder would not flag, so the encoder reads only the uncertain ones. Off by
    /// default: on held-out sources the shipped gate settles 22-78% of benign windows, but it
    /// loses 13% of the injections and 5% of the harmful requests the encoder alone catches
    /// (MODEL_CARD.md, "Cascade").
    pub cascade: bool,
    /// Windows whose results are remembered, keyed by a keyed hash of tenant and text (0: no
    /// cache). Chat clients resend the system prompt and history each turn.
    pub cache_entries: usize,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        ClassifierConfig {
            enabled: true,
            library: None,
            model: None,
            sessions: 1,
            max_batch: classifiers::onnx::DEFAULT_MAX_BATCH,
            max_wait_ms: 2,
            deadline_ms: 250,
            max_windows: 4,
            cascade: false,
            cache_entries: 65_536,
        }
    }
}

/// Which rule packs to compile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// The packs shipped in the binary (`rules/packs/`).
    pub builtin: bool,
    /// Extra packs: every `*.yaml` in this directory, compiled with the built-in ones.
    pub dir: Option<PathBuf>,
    /// The pattern-scan memo's size, in results without findings (each finding a result holds
    /// counts as one more): keyed by a hash of tenant and text, no text stored, so a resent
    /// system prompt or history is not scanned again; 0 turns the memo off.
    pub scan_memo_entries: usize,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            builtin: true,
            dir: None,
            scan_memo_entries: 16_384,
        }
    }
}

/// Where tenant policies come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoliciesConfig {
    /// Tenant policy documents (`*.yaml`, one per tenant) applied at start when they differ from
    /// the stored version. The versioned store itself lives in `<state_dir>/policies`.
    pub dir: Option<PathBuf>,
    /// How long a server-side conversation (OpenAI Responses chain, Assistants thread) keeps
    /// its pseudonym mapping in memory, so later turns reuse tokens and replies are restored.
    pub pseudonym_ttl_secs: u64,
}

impl Default for PoliciesConfig {
    fn default() -> Self {
        PoliciesConfig {
            dir: None,
            pseudonym_ttl_secs: 24 * 3600,
        }
    }
}

/// The API-gateway listener, reached through a base URL such as `http://host:8081/openai/v1`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    pub enabled: bool,
    pub listen: SocketAddr,
    /// Serve TLS with a certificate minted from the CA for these names (empty: plain HTTP).
    pub tls_names: Vec<String>,
    /// Azure OpenAI resource used when a gateway path names none.
    pub azure_resource: Option<String>,
}

/// MCP (Model Context Protocol) servers whose traffic is inspected like a provider's: tool
/// calls and their results, resources, prompts and sampling requests.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct McpConfig {
    /// Name → endpoint URL (`https://mcp.corp.example/mcp`). Its host is intercepted through
    /// CONNECT (provider `mcp:<name>`), and the gateway serves it at `/mcp/<name>/`.
    pub servers: BTreeMap<String, String>,
}

impl McpConfig {
    /// The servers' (name, scheme, host, port, base path), validated.
    pub fn endpoints(&self) -> Result<Vec<(String, http::Uri)>, String> {
        let mut out = Vec::new();
        for (name, url) in &self.servers {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(format!(
                    "field `mcp.servers.{name}`: a name is letters, digits, '-' and '_'"
                ));
            }
            let uri: http::Uri = url
                .parse()
                .map_err(|e| format!("field `mcp.servers.{name}`: {url:?} is not a URL: {e}"))?;
            if !matches!(uri.scheme_str(), Some("https" | "http")) || uri.host().is_none() {
                return Err(format!(
                    "field `mcp.servers.{name}`: {url:?} must be an http(s) URL with a host"
                ));
            }
            out.push((name.clone(), uri));
        }
        Ok(out)
    }
}

/// The admin listener: health, the CA, and the token-protected policy and audit API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    pub enabled: bool,
    pub listen: SocketAddr,
    /// Bearer tokens for the API; without any, only the health and CA endpoints answer.
    pub tokens: Vec<AdminTokenConfig>,
    /// How long a web console sign-in lasts (seconds); then the admin signs in again.
    pub session_ttl_secs: u64,
}

/// One admin API token, stored hashed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminTokenConfig {
    /// Recorded as the actor of every admin action in the audit log.
    pub name: String,
    /// `sha256:<salt-hex>:<digest-hex>` from `promptwall auth hash`.
    pub token_hash: String,
    pub role: AdminRole,
    /// The tenant an `admin` or `auditor` acts for; a `superadmin` has none.
    pub tenant: Option<String>,
}

/// What an admin token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AdminRole {
    /// Every tenant's policies and audit log.
    Superadmin,
    /// Its tenant's policies.
    Admin,
    /// Its tenant's audit log, read-only.
    Auditor,
    /// An auditor who may also reveal the user behind an insider-risk pseudonym (each reveal
    /// is audited): the role a works council agrees to.
    Investigator,
}

/// Where the interception CA comes from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaConfig {
    /// An enterprise CA certificate (PEM). With `key`, replaces the generated CA.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// Proxy authentication: who is sending the traffic.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Answer 407 to requests without valid `Proxy-Authorization`.
    pub required: bool,
    /// Tenant for unauthenticated traffic when `required` is false.
    pub default_tenant: String,
    /// Credentials, stored as salted SHA-256 hashes (see `promptwall auth hash`).
    pub credentials: Vec<CredentialConfig>,
}

/// One accepted credential: a Basic username/password or a Bearer token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialConfig {
    /// For Basic auth; absent for Bearer tokens.
    pub username: Option<String>,
    /// `sha256:<salt-hex>:<digest-hex>` of the password or token.
    pub secret_hash: String,
    pub tenant: String,
    /// The user name recorded; defaults to `username`.
    pub user: Option<String>,
}

/// Which hosts are AI destinations (intercepted) and which are tunnelled blind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DestinationsConfig {
    /// Start from the built-in catalog.
    pub builtin_catalog: bool,
    /// Extra AI hosts: `host` exact or `*.suffix`, mapped to a provider name.
    pub extra: BTreeMap<String, String>,
    /// Hosts never intercepted even if the catalog lists them.
    pub never_intercept: Vec<String>,
}

/// How PromptWall talks to the real providers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    pub connect_timeout_ms: u64,
    /// Time allowed for the upstream's response headers.
    pub header_timeout_ms: u64,
    /// Longest silence allowed between response body chunks (streams included).
    pub idle_timeout_ms: u64,
    /// An extra CA bundle (PEM) trusted for upstream TLS, besides the platform roots.
    pub extra_ca_file: Option<PathBuf>,
    /// Fixed addresses for host names (the address's port replaces the requested one), for
    /// private endpoints and tests. Applies to intercepted, gateway and tunnelled traffic.
    pub resolve: BTreeMap<String, SocketAddr>,
    /// Use HTTP/2 to providers that offer it. Off by default: one HTTP/2 connection per host
    /// would carry every user's requests, so a provider's per-connection stream limit (often
    /// 100–256) would queue them; HTTP/1.1 gives each in-flight request its own pooled
    /// connection.
    pub http2: bool,
}

/// Bounds on what a client may send.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest request body buffered for inspection; larger gets 413.
    pub max_body_bytes: usize,
    /// Time allowed for a client to send its request head and body.
    pub client_read_timeout_ms: u64,
    /// Requests to AI hosts handled at once (streams count until they end); past it a request
    /// gets a provider-shaped 503 with `Retry-After` at once instead of queueing without bound.
    pub max_inflight: usize,
    /// Concurrent requests one client may have on one HTTP/2 connection (pingora's default is
    /// 100); more wait in the client for a free stream.
    pub h2_max_concurrent_streams: u32,
    /// Bounds on reading uploaded and attached files (text out, PDF pages, archive entries and
    /// depth, multipart parts).
    pub files: crate::extract::files::FileLimits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".parse().expect("literal address"),
            gateway: GatewayConfig::default(),
            admin: AdminConfig::default(),
            state_dir: default_state_dir(),
            ca: CaConfig::default(),
            auth: AuthConfig::default(),
            destinations: DestinationsConfig::default(),
            upstream: UpstreamConfig::default(),
            limits: LimitsConfig::default(),
            rules: RulesConfig::default(),
            policies: PoliciesConfig::default(),
            classifier: ClassifierConfig::default(),
            audit: AuditConfig::default(),
            telemetry: TelemetryConfig::default(),
            mcp: McpConfig::default(),
            fleet: FleetConfig::default(),
            risk: crate::risk::RiskConfig::default(),
            threads: 0,
            work_stealing: true,
            shutdown_grace_secs: 5,
        }
    }
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            enabled: true,
            listen: "127.0.0.1:8081".parse().expect("literal address"),
            tls_names: Vec::new(),
            azure_resource: None,
        }
    }
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            enabled: true,
            listen: "127.0.0.1:9090".parse().expect("literal address"),
            tokens: Vec::new(),
            session_ttl_secs: 8 * 3600,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            required: false,
            default_tenant: "default".into(),
            credentials: Vec::new(),
        }
    }
}

impl Default for DestinationsConfig {
    fn default() -> Self {
        DestinationsConfig {
            builtin_catalog: true,
            extra: BTreeMap::new(),
            never_intercept: Vec::new(),
        }
    }
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            connect_timeout_ms: 5_000,
            header_timeout_ms: 60_000,
            idle_timeout_ms: 120_000,
            extra_ca_file: None,
            resolve: BTreeMap::new(),
            http2: false,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_body_bytes: 8 * 1024 * 1024,
            client_read_timeout_ms: 30_000,
            max_inflight: 4096,
            h2_max_concurrent_streams: 256,
            files: crate::extract::files::FileLimits::default(),
        }
    }
}

/// `$PROMPTWALL_STATE_DIR`, else `$XDG_STATE_HOME/promptwall`, else `~/.local/state/promptwall`.
fn default_state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PROMPTWALL_STATE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME") {
        return PathBuf::from(dir).join("promptwall");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".local/state/promptwall"),
        None => PathBuf::from("promptwall-state"),
    }
}

#[cfg(test)]
mod deploy_example {
    #[test]
    fn the_shipped_example_config_is_valid() {
        let text = include_str!("../../../deploy/promptwall.example.yaml");
        let c = super::Config::from_yaml("deploy/promptwall.example.yaml", text).unwrap();
        assert!(c.auth.required && c.auth.credentials.len() == 2);
        assert_eq!(c.gateway.tls_names, ["promptwall.corp.example"]);
    }
}

#[cfg(test)]
mod deploy_policy_example {
    #[test]
    fn the_shipped_example_policy_is_valid() {
        let text = include_str!("../../../deploy/policies/acme.yaml");
        let p = policy::CompiledPolicy::from_yaml("deploy/policies/acme.yaml", text)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.tenant(), "acme");
        assert!(p.uses_labels);
    }
}
