//! The admin listener: liveness, readiness and the CA certificate for client trust stores.

use crate::handler::Shared;
use async_trait::async_trait;
use http::Response;
use pingora_core::apps::http_app::ServeHttp;
use pingora_core::protocols::http::ServerSession;
use std::sync::Arc;

/// Answers `/healthz`, `/readyz` and `/v1/ca.pem`.
pub struct AdminApp {
    pub shared: Arc<Shared>,
}

#[async_trait]
impl ServeHttp for AdminApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let path = session.req_header().uri.path().to_string();
        let (status, ctype, body) = match path.as_str() {
            "/healthz" => (200, "text/plain", b"ok\n".to_vec()),
            "/readyz" => {
                let rules = self.shared.inspector.rule_count();
                (
                    200,
                    "application/json",
                    format!("{{\"ready\":true,\"rules\":{rules}}}\n").into_bytes(),
                )
            }
            "/v1/ca.pem" => (
                200,
                "application/x-pem-file",
                self.shared.ca.cert_pem().as_bytes().to_vec(),
            ),
            _ => (404, "text/plain", b"not found\n".to_vec()),
        };
        Response::builder()
            .status(status)
            .header("content-type", ctype)
            .header("content-length", body.len())
            .body(body)
            .expect("static response parts are valid")
    }
}
