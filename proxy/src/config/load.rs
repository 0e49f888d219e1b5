//! Reading a config file: parse (errors name the file, line and field), then validate what
//! serde cannot check, up front.

use super::*;

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_yaml(&path.display().to_string(), &text)
    }

    /// Parses and validates config text; `origin` names it in errors.
    pub fn from_yaml(origin: &str, text: &str) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: origin.to_string(),
            message,
        };
        let config: Config = policy::yaml::from_str(origin, text)?;
        config.validate().map_err(invalid)?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        if self.limits.max_body_bytes == 0 {
            return Err("field `limits.max_body_bytes`: must be greater than 0".into());
        }
        if self.limits.max_inflight == 0 {
            return Err("field `limits.max_inflight`: must be greater than 0".into());
        }
        if self.limits.h2_max_concurrent_streams == 0 {
            return Err("field `limits.h2_max_concurrent_streams`: must be greater than 0".into());
        }
        self.mcp.endpoints()?;
        self.risk.validate()?;
        if let Some(c) = &self.fleet.clickhouse {
            if !(c.url.starts_with("http://") || c.url.starts_with("https://")) {
                return Err(format!(
                    "field `fleet.clickhouse.url`: {:?} must be the HTTP interface (http://host:8123)",
                    c.url
                ));
            }
            if c.database.is_empty()
                || !c
                    .database
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            {
                return Err(
                    "field `fleet.clickhouse.database`: letters, digits and '_' only".into(),
                );
            }
            if c.batch == 0 || c.interval_ms == 0 || c.timeout_ms == 0 {
                return Err("fields `fleet.clickhouse.batch`, `interval_ms` and `timeout_ms` must be greater than 0".into());
            }
        }
        if let Some(p) = &self.fleet.postgres {
            if let Err(e) = p.url.parse::<tokio_postgres::Config>() {
                return Err(format!("field `fleet.postgres.url`: {e}"));
            }
            if p.timeout_ms == 0 {
                return Err("field `fleet.postgres.timeout_ms`: must be greater than 0 (timeouts are always bounded)".into());
            }
        }
        if let Some(r) = &self.fleet.redis {
            if !(r.url.starts_with("redis://") || r.url.starts_with("rediss://")) {
                return Err(format!(
                    "field `fleet.redis.url`: {:?} must be a redis:// or rediss:// URL",
                    r.url
                ));
            }
            if r.timeout_ms == 0 {
                return Err("field `fleet.redis.timeout_ms`: must be greater than 0 (timeouts are always bounded)".into());
            }
            if r.key_file.is_some() == r.key_env.is_some() {
                return Err("fields `fleet.redis.key_file` / `fleet.redis.key_env`: give exactly one (the vault key itself never goes in this file)".into());
            }
        }
        let f = &self.limits.files;
        for (field, v) in [
            ("max_text_bytes", f.max_text_bytes),
            ("max_pdf_pages", f.max_pdf_pages),
            ("max_entries", f.max_entries),
            ("max_parts", f.max_parts),
            ("max_entry_bytes", f.max_entry_bytes as usize),
        ] {
            if v == 0 {
                return Err(format!(
                    "field `limits.files.{field}`: must be greater than 0"
                ));
            }
        }
        for (field, ms) in [
            (
                "upstream.connect_timeout_ms",
                self.upstream.connect_timeout_ms,
            ),
            (
                "upstream.header_timeout_ms",
                self.upstream.header_timeout_ms,
            ),
            ("upstream.idle_timeout_ms", self.upstream.idle_timeout_ms),
            (
                "limits.client_read_timeout_ms",
                self.limits.client_read_timeout_ms,
            ),
            ("admin.session_ttl_secs", self.admin.session_ttl_secs),
        ] {
            if ms == 0 {
                return Err(format!(
                    "field `{field}`: must be greater than 0 (timeouts are always bounded)"
                ));
            }
        }
        if self.classifier.sessions == 0
            || self.classifier.max_batch == 0
            || self.classifier.max_windows < 2
        {
            return Err("field `classifier`: sessions and max_batch must be at least 1, max_windows at least 2".into());
        }
        if self.ca.cert.is_some() != self.ca.key.is_some() {
            return Err("field `ca`: `cert` and `key` must be given together".into());
        }
        if self.auth.required && self.auth.credentials.is_empty() {
            return Err("field `auth.credentials`: `auth.required` is true but no credentials are configured".into());
        }
        for (i, c) in self.auth.credentials.iter().enumerate() {
            policy::SecretHash::parse(&c.secret_hash)
                .map_err(|e| format!("field `auth.credentials[{i}].secret_hash`: {e}"))?;
        }
        if self.audit.retention_days == Some(0)
            || self.audit.tenant_retention_days.values().any(|d| *d == 0)
            || self.audit.retention_check_secs == 0
        {
            return Err(
                "field `audit`: retention days and `retention_check_secs` must be at least 1"
                    .into(),
            );
        }
        for (i, t) in self.admin.tokens.iter().enumerate() {
            policy::SecretHash::parse(&t.token_hash)
                .map_err(|e| format!("field `admin.tokens[{i}].token_hash`: {e}"))?;
            match (t.role, &t.tenant) {
                (AdminRole::Superadmin, Some(_)) => {
                    return Err(format!(
                        "field `admin.tokens[{i}].tenant`: a superadmin acts for every tenant; remove `tenant`"
                    ))
                }
                (AdminRole::Admin | AdminRole::Auditor | AdminRole::Investigator, None) => {
                    return Err(format!(
                        "field `admin.tokens[{i}].tenant`: an admin, auditor or investigator token needs its tenant"
                    ))
                }
                _ => {}
            }
        }
        for key in self.upstream.resolve.keys() {
            if key.is_empty() || key.contains([':', '/', ' ']) {
                return Err(format!(
                    "field `upstream.resolve.{key}`: keys are host names"
                ));
            }
        }
        Ok(())
    }

    /// Milliseconds to a [`Duration`], for the timeouts above.
    pub fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_the_embedded_defaults() {
        let c = Config::from_yaml("c.yaml", "{}").unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.admin.listen.to_string(), "127.0.0.1:9090");
    }

    #[test]
    fn unknown_field_names_the_field_and_line() {
        let err = Config::from_yaml(
            "c.yaml",
            "listen: 127.0.0.1:1\nupstream:\n  conect_timeout_ms: 5\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with(
                "c.yaml:3:3: field `upstream.conect_timeout_ms`: unknown field `conect_timeout_ms`"
            ),
            "{err}"
        );
        assert!(!err.contains(" at line "), "{err}");
    }

    #[test]
    fn wrong_type_names_the_field_path() {
        let err = Config::from_yaml("c.yaml", "limits:\n  max_body_bytes: lots\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("limits.max_body_bytes"), "{err}");
    }

    #[test]
    fn mcp_servers_and_file_limits_are_checked_up_front() {
        let ok = Config::from_yaml(
            "c.yaml",
            "mcp:\n  servers:\n    wiki: https://mcp.corp.example/mcp\n",
        )
        .unwrap();
        assert_eq!(
            ok.mcp.endpoints().unwrap()[0].1.host(),
            Some("mcp.corp.example")
        );
        for (yaml, field) in [
            (
                "mcp:\n  servers:\n    wiki: not a url\n",
                "mcp.servers.wiki",
            ),
            (
                "mcp:\n  servers:\n    wiki: ftp://x/mcp\n",
                "mcp.servers.wiki",
            ),
            (
                "mcp:\n  servers:\n    \"a b\": https://x/mcp\n",
                "mcp.servers.a b",
            ),
            (
                "limits:\n  files:\n    max_parts: 0\n",
                "limits.files.max_parts",
            ),
        ] {
            let err = Config::from_yaml("c.yaml", yaml).unwrap_err().to_string();
            assert!(err.contains(field), "{yaml}: {err}");
        }
    }

    #[test]
    fn zero_timeout_is_rejected() {
        let err = Config::from_yaml("c.yaml", "upstream:\n  header_timeout_ms: 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("upstream.header_timeout_ms"), "{err}");
    }
}
