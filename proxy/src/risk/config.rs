//! The `risk:` section of the config: the analytics job's schedule, its baselines, alert
//! delivery and pseudonymization.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Insider-risk analytics and alert delivery.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {
    /// Seconds between runs of the job that updates the rollup, assesses today and sends new
    /// alerts; 0 turns the job off (the CLI and API still assess on demand).
    pub interval_secs: u64,
    /// Days of baseline before the assessed day.
    pub baseline_days: i64,
    /// After an alert for a user, further alerts for them go out within this many seconds only
    /// when they add a signal.
    pub cooldown_secs: u64,
    /// Show users as stable pseudonyms (`u-…`) in risk results and alerts; an investigator or
    /// superadmin can reveal one, and each reveal is audited.
    pub pseudonymize_users: bool,
    /// Days of rollup kept (baselines need `baseline_days` plus two weeks for trends).
    pub keep_days: u32,
    pub webhook: Option<WebhookConfig>,
    pub syslog: Option<SyslogConfig>,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            interval_secs: 300,
            baseline_days: 28,
            cooldown_secs: 6 * 3600,
            pseudonymize_users: false,
            keep_days: 400,
            webhook: None,
            syslog: None,
        }
    }
}

/// A signed webhook: `POST` of the alert as JSON with `x-promptwall-signature:
/// t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    /// A file holding the shared secret (mode 0600), or `secret_env`; never the secret here.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    #[serde(default)]
    pub secret_env: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

/// CEF over syslog (RFC 5424) to a SIEM's collector.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogConfig {
    pub address: SocketAddr,
    #[serde(default)]
    pub protocol: SyslogProtocol,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

/// UDP (one datagram per alert) or TCP (RFC 6587 octet counting).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogProtocol {
    #[default]
    Udp,
    Tcp,
}

fn default_timeout() -> u64 {
    5000
}

impl WebhookConfig {
    /// Reads the secret (at least 16 bytes).
    pub fn secret(&self) -> Result<Vec<u8>, String> {
        let secret = match (&self.secret_file, &self.secret_env) {
            (Some(path), None) => {
                let meta = std::fs::metadata(path)
                    .map_err(|e| format!("secret_file {}: {e}", path.display()))?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = meta.permissions().mode() & 0o777;
                    if mode & 0o077 != 0 {
                        return Err(format!(
                            "secret_file {} is readable by others (mode {mode:o}); chmod 600 it",
                            path.display()
                        ));
                    }
                }
                let _ = meta;
                std::fs::read_to_string(path)
                    .map_err(|e| format!("secret_file {}: {e}", path.display()))?
            }
            (None, Some(var)) => std::env::var(var)
                .map_err(|_| format!("secret_env: environment variable {var} is not set"))?,
            _ => return Err("give exactly one of `secret_file` and `secret_env`".into()),
        };
        let secret = secret.trim();
        if secret.len() < 16 {
            return Err("the secret must be at least 16 bytes".into());
        }
        Ok(secret.as_bytes().to_vec())
    }
}

impl RiskConfig {
    /// Checks what can be checked before start.
    pub fn validate(&self) -> Result<(), String> {
        if !(7..=365).contains(&self.baseline_days) {
            return Err("field `risk.baseline_days`: between 7 and 365".into());
        }
        if (self.keep_days as i64) < self.baseline_days + 14 {
            return Err(format!(
                "field `risk.keep_days`: at least baseline_days + 14 ({})",
                self.baseline_days + 14
            ));
        }
        if let Some(w) = &self.webhook {
            if !(w.url.starts_with("https://") || w.url.starts_with("http://"))
                || w.url.parse::<http::Uri>().is_err()
            {
                return Err(format!(
                    "field `risk.webhook.url`: {:?} is not an http(s) URL",
                    w.url
                ));
            }
            if w.secret_file.is_some() == w.secret_env.is_some() {
                return Err(
                    "field `risk.webhook`: give exactly one of `secret_file` and `secret_env`"
                        .into(),
                );
            }
            if w.timeout_ms == 0 {
                return Err("field `risk.webhook.timeout_ms`: must be greater than 0".into());
            }
        }
        if self.syslog.as_ref().is_some_and(|s| s.timeout_ms == 0) {
            return Err("field `risk.syslog.timeout_ms`: must be greater than 0".into());
        }
        Ok(())
    }
}
