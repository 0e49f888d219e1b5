//! Fleet mode's settings: what many nodes share (PostgreSQL, ClickHouse, Redis).

use super::Config;
use serde::Deserialize;
use std::path::PathBuf;

/// Fleet mode: what many nodes share.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FleetConfig {
    /// The pseudonym vault in Redis, so any node restores any conversation.
    pub redis: Option<RedisConfig>,
    /// Policies in PostgreSQL, so a change reaches every node.
    pub postgres: Option<PostgresConfig>,
    /// The usage log shipped to ClickHouse, so auditors see the whole fleet.
    pub clickhouse: Option<ClickHouseConfig>,
}

/// Where every node's usage log is gathered.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClickHouseConfig {
    /// The HTTP interface, `http://host:8123`.
    pub url: String,
    #[serde(default = "default_ch_database")]
    pub database: String,
    /// This node's name in the shared log (each node's chain is kept apart by it); by
    /// default the host name and the proxy port.
    #[serde(default)]
    pub node: Option<String>,
    /// Rows per insert.
    #[serde(default = "default_ch_batch")]
    pub batch: usize,
    /// How often a caught-up shipper looks for new rows.
    #[serde(default = "default_ch_interval")]
    pub interval_ms: u64,
    /// Bound on each call.
    #[serde(default = "default_ch_timeout")]
    pub timeout_ms: u64,
}

fn default_ch_database() -> String {
    "promptwall".into()
}
fn default_ch_batch() -> usize {
    5000
}
fn default_ch_interval() -> u64 {
    500
}
fn default_ch_timeout() -> u64 {
    10_000
}

impl Config {
    /// This node's name in the shared usage log.
    pub fn node_name(&self) -> String {
        if let Some(n) = self.fleet.clickhouse.as_ref().and_then(|c| c.node.clone()) {
            return n;
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "node".into());
        format!("{host}:{}", self.listen.port())
    }
}

/// Where policy versions live when nodes share them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    /// `host=... port=... user=... dbname=...` or `postgres://user@host:port/db`.
    pub url: String,
    /// Bound on connecting and on each statement.
    #[serde(default = "default_pg_timeout")]
    pub timeout_ms: u64,
}

fn default_pg_timeout() -> u64 {
    2000
}

/// Where conversations' pseudonym mappings live when nodes share them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://host:port/db` (or `rediss://` for TLS).
    pub url: String,
    /// A file holding the 32-byte master vault key as 64 hex digits (mode 0600), the same on
    /// every node: mappings hold original values, so they are stored encrypted (AES-256-GCM,
    /// a key per tenant derived from this one). Or `key_env`; never the key itself here.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The name of an environment variable holding the master key (64 hex digits).
    #[serde(default)]
    pub key_env: Option<String>,
    /// Bound on each Redis call; past it the tenant's fail mode decides.
    #[serde(default = "default_redis_timeout")]
    pub timeout_ms: u64,
}

fn default_redis_timeout() -> u64 {
    500
}
