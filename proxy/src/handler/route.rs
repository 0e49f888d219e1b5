//! Intake: where a request goes (intercepted host, gateway route or absolute URI), who is
//! asking, and its body, read under the size cap and the client's read deadline.

use super::{AiHttpApp, Entry};
use crate::providers::{ErrorKind, ErrorShape};
use crate::reply::Reply;
use crate::route::{gateway_target, ConnectInfo, Target};
use bytes::{Bytes, BytesMut};
use http::header;
use pingora_core::protocols::http::ServerSession;
use policy::Identity;
use std::time::Duration;

impl AiHttpApp {
    /// Works out the upstream target and who is asking, or the error to answer with.
    pub(super) fn route_and_identify(
        &self,
        session: &ServerSession,
    ) -> Result<(Target, Identity), (Reply, ErrorShape)> {
        let req = session.req_header();
        let path_and_query = req
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .to_string();
        let openai = ErrorShape::OpenAi;
        match self.entry {
            Entry::Intercepted => {
                let info = session
                    .digest()
                    .and_then(|d| d.ssl_digest.as_ref())
                    .and_then(|s| s.extension.get::<ConnectInfo>())
                    .ok_or_else(|| {
                        (
                            Reply::new(
                                500,
                                ErrorKind::Unavailable,
                                "intercepted connection lost its CONNECT target",
                            ),
                            openai,
                        )
                    })?;
                Ok((
                    Target {
                        scheme: "https",
                        host: info.host.clone(),
                        port: info.port,
                        provider: Some(info.provider.clone()),
                        path_and_query,
                    },
                    info.identity.clone(),
                ))
            }
            Entry::Gateway => {
                let target = crate::route::mcp_gateway_target(&path_and_query, &self.shared.mcp)
                    .or_else(|| gateway_target(&path_and_query, self.shared.config.gateway.azure_resource.as_deref()))
                    .ok_or_else(|| {
                    (
                        Reply::new(404, ErrorKind::InvalidRequest, "PromptWall gateway: unknown provider prefix; use /openai/, /anthropic/, /gemini/, /azure/<resource>/ ..."),
                        openai,
                    )
                })?;
                let shape =
                    ErrorShape::for_provider(target.provider.as_deref().unwrap_or_default());
                let identity = self.identify(session, 401).map_err(|r| (r, shape))?;
                Ok((target, identity))
            }
            Entry::ForwardHttp => {
                let identity = self.identify(session, 407).map_err(|r| (r, openai))?;
                // pingora keeps only the path in `uri`; the absolute form is in the raw path.
                let uri: http::Uri = std::str::from_utf8(req.raw_path())
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_default();
                let path_and_query = uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/")
                    .to_string();
                let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) else {
                    return Err((
                        Reply::new(
                            400,
                            ErrorKind::InvalidRequest,
                            "PromptWall is a forward proxy: send absolute-form requests or CONNECT",
                        ),
                        openai,
                    ));
                };
                if scheme != "http" {
                    return Err((
                        Reply::new(
                            400,
                            ErrorKind::InvalidRequest,
                            "use CONNECT for https destinations",
                        ),
                        openai,
                    ));
                }
                let host = host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_ascii_lowercase();
                let provider = self.shared.catalog.lookup(&host).map(str::to_string);
                Ok((
                    Target {
                        scheme: "http",
                        port: uri.port_u16().unwrap_or(80),
                        host,
                        provider,
                        path_and_query,
                    },
                    identity,
                ))
            }
        }
    }

    /// For an MCP server: the legacy session registry, and through the gateway the route's
    /// prefix and the server's base path.
    pub(super) fn mcp_route(
        &self,
        target: &Target,
        tenant: &str,
    ) -> Option<crate::stream::mcp::Route> {
        let name = target.provider.as_deref()?.strip_prefix("mcp:")?;
        let gateway = (self.entry == Entry::Gateway)
            .then(|| self.shared.mcp.iter().find(|(n, _)| n == name))
            .flatten()
            .map(|(n, uri)| {
                (
                    format!("/mcp/{n}"),
                    uri.path().trim_end_matches('/').to_string(),
                )
            });
        Some(crate::stream::mcp::Route {
            sessions: self.shared.mcp_sessions.clone(),
            tenant: tenant.to_string(),
            gateway,
        })
    }

    /// Who is asking (credentials, trusted headers or address); on failure the challenge to
    /// answer with, as `407` to a proxy client or `401` through the gateway (`status`).
    pub(super) fn identify(&self, session: &ServerSession, status: u16) -> Result<Identity, Reply> {
        let auth = session
            .get_header(header::PROXY_AUTHORIZATION)
            .map(|v| v.as_bytes());
        let headers = |name: &str| {
            session
                .get_header(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let peer = session
            .client_addr()
            .and_then(|a| a.as_inet())
            .map(|a| a.ip());
        self.shared.identify(auth, &headers, peer).map_err(|f| {
            let challenge = "Basic realm=\"PromptWall\", Bearer realm=\"PromptWall\"";
            Reply::new(status, ErrorKind::PolicyViolation, f.to_string()).with(
                if status == 407 {
                    "proxy-authenticate"
                } else {
                    "www-authenticate"
                },
                challenge,
            )
        })
    }

    /// Reads the whole request body, refusing more than the configured cap.
    pub(super) async fn read_body(&self, session: &mut ServerSession) -> Result<Bytes, Reply> {
        let limits = &self.shared.config.limits;
        let cap = limits.max_body_bytes;
        let too_large = || {
            Reply::new(
                413,
                ErrorKind::TooLarge,
                format!("request body exceeds PromptWall's limit of {cap} bytes"),
            )
        };
        if let Some(len) = session
            .get_header(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
        {
            if len > cap {
                return Err(too_large());
            }
        }
        let deadline =
            tokio::time::Instant::now() + Duration::from_millis(limits.client_read_timeout_ms);
        let mut buf = BytesMut::new();
        loop {
            let chunk = tokio::time::timeout_at(deadline, session.read_request_body())
                .await
                .map_err(|_| {
                    Reply::new(
                        408,
                        ErrorKind::InvalidRequest,
                        "timed out reading the request body",
                    )
                })?
                .map_err(|e| {
                    tracing::warn!(error = %e, read = buf.len(), "request body could not be read");
                    Reply::new(
                        400,
                        ErrorKind::InvalidRequest,
                        format!("unreadable request body: {e}"),
                    )
                })?;
            match chunk {
                Some(c) => {
                    if buf.len() + c.len() > cap {
                        return Err(too_large());
                    }
                    buf.extend_from_slice(&c);
                }
                None => return Ok(buf.freeze()),
            }
        }
    }
}
