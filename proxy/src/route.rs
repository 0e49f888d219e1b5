//! Where a request goes: the CONNECT target, a gateway path prefix, or an absolute-form URI.

use policy::Identity;

/// The destination of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scheme: &'static str,
    pub host: String,
    pub port: u16,
    /// The provider family when the host is an AI destination.
    pub provider: Option<String>,
    /// Path and query to send upstream.
    pub path_and_query: String,
}

impl Target {
    /// The upstream URL.
    pub fn url(&self) -> String {
        let default_port = if self.scheme == "https" { 443 } else { 80 };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default_port {
            format!("{}://{}{}", self.scheme, host, self.path_and_query)
        } else {
            format!(
                "{}://{}:{}{}",
                self.scheme, host, self.port, self.path_and_query
            )
        }
    }
}

/// What a CONNECT established, carried to every request on the intercepted connection.
#[derive(Debug, Clone)]
pub struct ConnectInfo {
    pub host: String,
    pub port: u16,
    pub provider: String,
    pub identity: Identity,
}

/// Splits `host:port` (with `[v6]:port`) as sent in a CONNECT request line.
pub fn parse_authority(s: &str) -> Option<(String, u16)> {
    let auth: http::uri::Authority = s.parse().ok()?;
    let port = auth.port_u16()?;
    let host = auth.host().trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || port == 0 {
        return None;
    }
    Some((host.to_ascii_lowercase(), port))
}

/// Gateway prefixes: `/openai/v1/...` → `https://api.openai.com/v1/...`, and so on.
const GATEWAY_HOSTS: &[(&str, &str)] = &[
    ("openai", "api.openai.com"),
    ("anthropic", "api.anthropic.com"),
    ("gemini", "generativelanguage.googleapis.com"),
    ("mistral", "api.mistral.ai"),
    ("cohere", "api.cohere.com"),
    ("groq", "api.groq.com"),
    ("deepseek", "api.deepseek.com"),
    ("xai", "api.x.ai"),
    ("openrouter", "openrouter.ai"),
    ("together", "api.together.xyz"),
    ("perplexity", "api.perplexity.ai"),
];

/// Maps a gateway request path to its upstream target.
///
/// Azure OpenAI names its resource in the host, so its prefix carries it:
/// `/azure/<resource>/openai/deployments/...`, or `/azure/openai/...` with a configured default.
pub fn gateway_target(path_and_query: &str, azure_default: Option<&str>) -> Option<Target> {
    let rest = path_and_query.strip_prefix('/')?;
    let (prefix, remainder) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let remainder = if remainder.starts_with('/') {
        remainder.to_string()
    } else {
        format!("/{remainder}")
    };
    if prefix == "azure" {
        let after = remainder.strip_prefix('/')?;
        let (resource, tail) = match after.split_once('/') {
            Some((r, t)) if r != "openai" => (r.to_string(), format!("/{t}")),
            _ => (azure_default?.to_string(), remainder.clone()),
        };
        if resource.is_empty()
            || !resource
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return None;
        }
        return Some(Target {
            scheme: "https",
            host: format!("{resource}.openai.azure.com"),
            port: 443,
            provider: Some("azure_openai".into()),
            path_and_query: tail,
        });
    }
    let (provider, host) = GATEWAY_HOSTS.iter().find(|(p, _)| *p == prefix)?;
    Some(Target {
        scheme: "https",
        host: host.to_string(),
        port: 443,
        provider: Some(provider.to_string()),
        path_and_query: remainder,
    })
}

/// Maps a gateway path `/mcp/<name>/<rest>` to the configured MCP server `name` (its URL's
/// path, then `<rest>`).
pub fn mcp_gateway_target(path_and_query: &str, servers: &[(String, http::Uri)]) -> Option<Target> {
    let rest = path_and_query.strip_prefix("/mcp/")?;
    let (name, tail) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (_, uri) = servers.iter().find(|(n, _)| n == name)?;
    let https = uri.scheme_str() == Some("https");
    let base = uri.path().trim_end_matches('/');
    let tail = tail.strip_prefix('/').unwrap_or(tail);
    let path_and_query = match (base, tail) {
        ("", "") => "/".to_string(),
        (b, "") => b.to_string(),
        (b, t) if t.starts_with('?') => format!("{b}{t}"),
        (b, t) => format!("{b}/{t}"),
    };
    Some(Target {
        scheme: if https { "https" } else { "http" },
        host: uri.host()?.to_ascii_lowercase(),
        port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
        provider: Some(format!("mcp:{name}")),
        path_and_query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_authorities_parse_and_reject_garbage() {
        assert_eq!(
            parse_authority("api.openai.com:443"),
            Some(("api.openai.com".into(), 443))
        );
        assert_eq!(parse_authority("[::1]:8443"), Some(("::1".into(), 8443)));
        for bad in [
            "api.openai.com",
            "host:0",
            ":443",
            "a b:1",
            "host:99999",
            "",
        ] {
            assert_eq!(parse_authority(bad), None, "{bad}");
        }
    }

    #[test]
    fn gateway_prefixes_route_to_providers() {
        let t = gateway_target("/openai/v1/chat/completions?x=1", None).unwrap();
        assert_eq!(t.url(), "https://api.openai.com/v1/chat/completions?x=1");
        let t = gateway_target("/anthropic/v1/messages", None).unwrap();
        assert_eq!(
            (t.host.as_str(), t.provider.as_deref()),
            ("api.anthropic.com", Some("anthropic"))
        );
        let t = gateway_target(
            "/gemini/v1beta/models/gemini-2.0-flash:generateContent",
            None,
        )
        .unwrap();
        assert_eq!(
            t.path_and_query,
            "/v1beta/models/gemini-2.0-flash:generateContent"
        );
        let t = gateway_target(
            "/azure/acme-eu/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21",
            None,
        )
        .unwrap();
        assert_eq!(t.url(), "https://acme-eu.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21");
        let t =
            gateway_target("/azure/openai/deployments/d/chat/completions", Some("corp")).unwrap();
        assert_eq!(t.host, "corp.openai.azure.com");
    }

    #[test]
    fn mcp_servers_have_gateway_routes_under_their_names() {
        let servers = vec![(
            "wiki".to_string(),
            "https://mcp.corp.example/mcp".parse().unwrap(),
        )];
        let t = mcp_gateway_target("/mcp/wiki", &servers).unwrap();
        assert_eq!(t.url(), "https://mcp.corp.example/mcp");
        assert_eq!(t.provider.as_deref(), Some("mcp:wiki"));
        let t = mcp_gateway_target("/mcp/wiki/sse?x=1", &servers).unwrap();
        assert_eq!(t.url(), "https://mcp.corp.example/mcp/sse?x=1");
        assert_eq!(mcp_gateway_target("/mcp/other/x", &servers), None);
    }

    #[test]
    fn unknown_or_unsafe_gateway_paths_have_no_route() {
        for p in [
            "/",
            "/nope/v1/x",
            "/azure/openai/deployments",
            "/azure/evil.com%2f/x/y",
        ] {
            assert_eq!(gateway_target(p, None), None, "{p}");
        }
    }
}
