//! The catalog of AI destinations: the only hosts PromptWall decrypts.
//!
//! Every other host is tunnelled blind. Lookups are exact-host or `*.suffix` matches on the
//! lower-cased host name, answered from a hash map and a short suffix list.

use crate::config::DestinationsConfig;
use std::collections::HashMap;

/// The built-in catalog: `host` or `*.suffix`, and the provider family that handles it.
const BUILTIN: &[(&str, &str)] = &[
    ("api.openai.com", "openai"),
    ("chatgpt.com", "chatgpt_web"),
    ("chat.openai.com", "chatgpt_web"),
    ("*.openai.azure.com", "azure_openai"),
    ("*.services.ai.azure.com", "azure_openai"),
    ("api.anthropic.com", "anthropic"),
    ("claude.ai", "claude_web"),
    ("generativelanguage.googleapis.com", "gemini"),
    ("*-aiplatform.googleapis.com", "vertex"),
    ("aiplatform.googleapis.com", "vertex"),
    ("gemini.google.com", "gemini_web"),
    ("bedrock-runtime.*.amazonaws.com", "bedrock"),
    ("bedrock-runtime-fips.*.amazonaws.com", "bedrock"),
    ("api.mistral.ai", "mistral"),
    ("api.cohere.com", "cohere"),
    ("api.cohere.ai", "cohere"),
    ("api.groq.com", "groq"),
    ("api.deepseek.com", "deepseek"),
    ("api.x.ai", "xai"),
    ("openrouter.ai", "openrouter"),
    ("api.together.xyz", "together"),
    ("api.together.ai", "together"),
    ("api.perplexity.ai", "perplexity"),
];

/// A compiled catalog; cheap to query from every connection.
#[derive(Debug, Clone)]
pub struct Catalog {
    exact: HashMap<String, String>,
    /// (suffix after `*`, provider): `*.openai.azure.com` stores `.openai.azure.com`.
    suffixes: Vec<(String, String)>,
    /// Other globs, such as Bedrock's per-region hosts: (pattern, provider).
    globs: Vec<(String, String)>,
    never: Vec<String>,
}

impl Catalog {
    /// Builds the catalog from the built-in list plus the config's additions.
    pub fn new(cfg: &DestinationsConfig) -> Self {
        let mut c = Catalog {
            exact: HashMap::new(),
            suffixes: Vec::new(),
            globs: Vec::new(),
            never: cfg
                .never_intercept
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
        };
        let builtin = BUILTIN.iter().map(|(h, p)| (h.to_string(), p.to_string()));
        let extra = cfg.extra.iter().map(|(h, p)| (h.clone(), p.clone()));
        let all: Vec<(String, String)> = if cfg.builtin_catalog {
            builtin.chain(extra).collect()
        } else {
            extra.collect()
        };
        for (host, provider) in all {
            c.add(&host.to_ascii_lowercase(), &provider);
        }
        c
    }

    /// Adds the configured MCP servers' hosts (provider `mcp:<name>`).
    pub fn with_mcp(mut self, servers: &[(String, http::Uri)]) -> Self {
        for (name, uri) in servers {
            if let Some(host) = uri.host() {
                self.add(&host.to_ascii_lowercase(), &format!("mcp:{name}"));
            }
        }
        self
    }

    fn add(&mut self, pattern: &str, provider: &str) {
        match pattern.find('*') {
            None => {
                self.exact.insert(pattern.to_string(), provider.to_string());
            }
            Some(0) if pattern[1..].find('*').is_none() => {
                self.suffixes
                    .push((pattern[1..].to_string(), provider.to_string()));
            }
            Some(_) => self.globs.push((pattern.to_string(), provider.to_string())),
        }
    }

    /// The provider family for `host`, or `None` for a host to tunnel blind.
    pub fn lookup(&self, host: &str) -> Option<&str> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if self.never.contains(&host) {
            return None;
        }
        if let Some(p) = self.exact.get(&host) {
            return Some(p);
        }
        for (suffix, p) in &self.suffixes {
            if host.len() > suffix.len() && host.ends_with(suffix.as_str()) {
                return Some(p);
            }
        }
        self.globs
            .iter()
            .find(|(g, _)| glob_match(g, &host))
            .map(|(_, p)| p.as_str())
    }
}

impl Catalog {
    /// The hosts named exactly (not by a wildcard), which can be resolved to addresses.
    pub fn exact_hosts(&self) -> impl Iterator<Item = &str> {
        self.exact.keys().map(String::as_str)
    }
}

/// The addresses the catalog's exact hosts resolve to (and where the config pins them), so a
/// `CONNECT` to a bare address of an AI host is recognised. Resolved on first need and again
/// when older than [`AiAddresses::TTL`], each time within [`AiAddresses::BUDGET`].
#[derive(Debug, Default)]
pub struct AiAddresses {
    resolved: tokio::sync::Mutex<
        Option<(
            std::time::Instant,
            std::collections::HashSet<std::net::IpAddr>,
        )>,
    >,
}

impl AiAddresses {
    /// How long resolved addresses are trusted.
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(600);
    /// How long one refresh may take in all.
    pub const BUDGET: std::time::Duration = std::time::Duration::from_secs(2);

    /// Whether `ip:port` is an address of an AI host: pinned by `upstream.resolve` (address
    /// and port), or resolved (address).
    pub async fn contains(
        &self,
        ip: std::net::IpAddr,
        port: u16,
        catalog: &Catalog,
        pinned: &std::collections::BTreeMap<String, std::net::SocketAddr>,
    ) -> bool {
        if pinned.iter().any(|(host, addr)| {
            addr.ip() == ip && addr.port() == port && catalog.lookup(host).is_some()
        }) {
            return true;
        }
        let mut state = self.resolved.lock().await;
        let fresh = state
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() < Self::TTL);
        if !fresh {
            let hosts: Vec<String> = catalog.exact_hosts().map(str::to_string).collect();
            let lookups = hosts
                .iter()
                .map(|h| tokio::net::lookup_host((h.as_str(), 443)));
            let found = tokio::time::timeout(Self::BUDGET, futures_util::future::join_all(lookups))
                .await
                .unwrap_or_default();
            let set = found
                .into_iter()
                .flatten()
                .flatten()
                .map(|a| a.ip())
                .collect();
            *state = Some((std::time::Instant::now(), set));
        }
        state.as_ref().is_some_and(|(_, set)| set.contains(&ip))
    }
}

impl Catalog {
    /// A PAC file that sends exactly the catalog's hosts through `proxy` (`host:port`) and
    /// everything else direct, so employees' other traffic never touches the proxy.
    pub fn pac(&self, proxy: &str) -> String {
        let mut exact: Vec<&String> = self.exact.keys().collect();
        exact.sort();
        let mut out = String::from(
            "// PromptWall: only AI destinations go through the proxy; everything else is direct.\n// Generated by `promptwall pac`; regenerate after changing `destinations` in the config.\nfunction FindProxyForURL(url, host) {\n  host = host.toLowerCase();\n",
        );
        for h in &self.never {
            out.push_str(&format!("  if (host == \"{h}\") return \"DIRECT\";\n"));
        }
        out.push_str("  var exact = [\n");
        for h in exact {
            out.push_str(&format!("    \"{h}\",\n"));
        }
        out.push_str("  ];\n  for (var i = 0; i < exact.length; i++) {\n    if (host == exact[i]) return \"PROXY ");
        out.push_str(proxy);
        out.push_str("\";\n  }\n  var patterns = [\n");
        for (suffix, _) in &self.suffixes {
            out.push_str(&format!("    \"*{suffix}\",\n"));
        }
        for (glob, _) in &self.globs {
            out.push_str(&format!("    \"{glob}\",\n"));
        }
        out.push_str("  ];\n  for (var j = 0; j < patterns.length; j++) {\n    if (shExpMatch(host, patterns[j])) return \"PROXY ");
        out.push_str(proxy);
        out.push_str("\";\n  }\n  return \"DIRECT\";\n}\n");
        out
    }
}

/// Matches `host` against a pattern where each `*` stands for one or more characters.
fn glob_match(pattern: &str, host: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !host.starts_with(first) || !host.ends_with(last) || host.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &host[first.len()..host.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        // At least one character for the `*` before `mid`.
        match rest.get(1..).and_then(|r| r.find(mid)) {
            Some(i) => rest = &rest[1 + i + mid.len()..],
            None => return false,
        }
    }
    !rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::new(&DestinationsConfig::default())
    }

    #[test]
    fn recognizes_the_major_providers_and_consumer_apps() {
        let c = catalog();
        for (host, provider) in [
            ("api.openai.com", "openai"),
            ("API.OpenAI.com.", "openai"),
            ("acme-eu.openai.azure.com", "azure_openai"),
            ("api.anthropic.com", "anthropic"),
            ("generativelanguage.googleapis.com", "gemini"),
            ("us-central1-aiplatform.googleapis.com", "vertex"),
            ("bedrock-runtime.us-east-1.amazonaws.com", "bedrock"),
            ("chatgpt.com", "chatgpt_web"),
            ("claude.ai", "claude_web"),
            ("gemini.google.com", "gemini_web"),
            ("api.mistral.ai", "mistral"),
            ("api.groq.com", "groq"),
            ("openrouter.ai", "openrouter"),
        ] {
            assert_eq!(c.lookup(host), Some(provider), "{host}");
        }
    }

    #[test]
    fn other_hosts_are_not_intercepted() {
        let c = catalog();
        for host in [
            "example.com",
            "openai.com.evil.test",
            "s3.us-east-1.amazonaws.com",
            "azure.com",
            "www.google.com",
        ] {
            assert_eq!(c.lookup(host), None, "{host}");
        }
    }

    #[test]
    fn config_can_add_and_exclude_hosts() {
        let mut cfg = DestinationsConfig::default();
        cfg.extra
            .insert("llm.internal.acme".into(), "openai".into());
        cfg.never_intercept.push("claude.ai".into());
        let c = Catalog::new(&cfg);
        assert_eq!(c.lookup("llm.internal.acme"), Some("openai"));
        assert_eq!(c.lookup("claude.ai"), None);
    }
}
