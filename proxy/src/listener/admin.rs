//! The admin listener: liveness, readiness, Prometheus `/metrics`, the CA certificate for client
//! trust stores, the token-protected admin API (`crate::admin`), and the web console (`/ui/`).

use crate::admin::api::{self, AdminRequest, AdminResponse};
use crate::handler::Shared;
use async_trait::async_trait;
use http::Response;
use pingora_core::apps::http_app::ServeHttp;
use pingora_core::protocols::http::ServerSession;
use std::sync::Arc;
use std::time::Duration;

/// The largest admin request body (a policy or a dry-run request).
const MAX_ADMIN_BODY: usize = 1 << 20;

/// Answers `/healthz`, `/readyz`, `/metrics`, `/v1/ca.pem` and the admin API.
pub struct AdminApp {
    pub shared: Arc<Shared>,
}

impl AdminApp {
    async fn serve(&self, session: &mut ServerSession) -> AdminResponse {
        let path = session.req_header().uri.path().to_string();
        let plain =
            |status, content_type, body: Vec<u8>| AdminResponse::text(status, content_type, body);
        match path.as_str() {
            "/healthz" => return plain(200, "text/plain", b"ok\n".to_vec()),
            "/readyz" => {
                // Degraded still serves (the last good policies are enforced), so it stays
                // ready; the body says what is wrong.
                let rules = self.shared.inspector.rule_count();
                let degraded: Vec<String> = self
                    .shared
                    .fleet_policies
                    .as_ref()
                    .and_then(|p| p.degraded())
                    .into_iter()
                    .collect();
                let body = serde_json::json!({
                    "ready": true,
                    "rules": rules,
                    "degraded": !degraded.is_empty(),
                    "reasons": degraded,
                });
                return plain(200, "application/json", format!("{body}\n").into_bytes());
            }
            "/v1/ca.pem" => {
                return plain(
                    200,
                    "application/x-pem-file",
                    self.shared.ca.cert_pem().as_bytes().to_vec(),
                )
            }
            "/metrics" => {
                return plain(
                    200,
                    "text/plain; version=0.0.4",
                    crate::metrics::METRICS.render().into_bytes(),
                );
            }
            "/ui" => {
                return plain(308, "text/plain", Vec::new()).with("location", "/ui/");
            }
            p if p.starts_with("/ui/") && session.req_header().method == http::Method::GET => {
                return match crate::admin::console::asset(&p[4..]) {
                    Some((ct, body)) => plain(200, ct, body.to_vec()),
                    None => plain(404, "text/plain", b"not found\n".to_vec()),
                };
            }
            "/ui/login" | "/ui/logout" => {}
            p if !api::is_api(p) => return plain(404, "text/plain", b"not found\n".to_vec()),
            _ => {}
        }
        let body = match read_body(session).await {
            Ok(b) => b,
            Err((status, msg)) => return plain(status, "text/plain", msg.into_bytes()),
        };
        let header = |name: &str| {
            session
                .get_header(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let req = AdminRequest {
            method: session.req_header().method.as_str().to_string(),
            query: session.req_header().uri.query().map(str::to_string),
            authorization: header("authorization"),
            cookie: header("cookie"),
            csrf: header("x-csrf-token"),
            content_type: header("content-type"),
            peer: session
                .client_addr()
                .and_then(|a| a.as_inet())
                .map(|a| a.ip().to_string()),
            path,
            body,
        };
        match req.path.as_str() {
            "/ui/login" => crate::admin::console::login(&self.shared, req).await,
            "/ui/logout" => crate::admin::console::logout(&self.shared, req).await,
            _ => api::handle(&self.shared, req).await,
        }
    }
}

/// Reads the request body, bounded in size and time.
async fn read_body(session: &mut ServerSession) -> Result<Vec<u8>, (u16, String)> {
    let mut body = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, session.read_request_body()).await {
            Err(_) => return Err((408, "request body timed out\n".into())),
            Ok(Err(e)) => return Err((400, format!("bad request body: {e}\n"))),
            Ok(Ok(None)) => return Ok(body),
            Ok(Ok(Some(chunk))) => {
                if body.len() + chunk.len() > MAX_ADMIN_BODY {
                    return Err((413, "admin request body over 1 MiB\n".into()));
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
}

#[async_trait]
impl ServeHttp for AdminApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let r = self.serve(session).await;
        let mut b = Response::builder()
            .status(r.status)
            .header("content-type", r.content_type)
            .header("content-length", r.body.len())
            .header("cache-control", "no-store");
        for (name, value) in crate::admin::console::SECURITY_HEADERS {
            b = b.header(*name, *value);
        }
        for (name, value) in r.headers {
            b = b.header(name, value);
        }
        b.body(r.body).unwrap_or_else(|_| {
            Response::builder()
                .status(500)
                .body(b"invalid response header\n".to_vec())
                .expect("static response parts are valid")
        })
    }
}
