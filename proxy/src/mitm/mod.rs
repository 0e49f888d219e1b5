//! TLS interception: the CA, and the rustls server configs that present minted certificates.

pub mod ca;

use ca::CertificateAuthority;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use std::sync::Arc;

/// Picks the leaf for a handshake: the client's SNI, else the host the client asked for.
#[derive(Debug)]
pub struct MintingResolver {
    ca: Arc<CertificateAuthority>,
    fallback_host: String,
}

impl ResolvesServerCert for MintingResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let host = hello.server_name().unwrap_or(&self.fallback_host);
        match self.ca.leaf_for(host) {
            Ok(ck) => Some(ck),
            Err(e) => {
                tracing::warn!(error = %e, "cannot mint a certificate; aborting the handshake");
                None
            }
        }
    }
}

/// A server config that mints for SNI (or `fallback_host`) and offers HTTP/2 and HTTP/1.1.
pub fn server_config(ca: Arc<CertificateAuthority>, fallback_host: &str) -> Arc<ServerConfig> {
    let mut cfg =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .expect("ring supports TLS 1.2 and 1.3")
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(MintingResolver {
                ca,
                fallback_host: fallback_host.to_string(),
            }));
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(cfg)
}

/// A resolver for listeners with fixed names (the TLS gateway).
pub fn resolver(ca: Arc<CertificateAuthority>, fallback_host: &str) -> Arc<dyn ResolvesServerCert> {
    Arc::new(MintingResolver {
        ca,
        fallback_host: fallback_host.to_string(),
    })
}

/// TLS accept callbacks that do nothing; pingora's rustls settings need a value.
pub struct NoCallbacks;

#[async_trait::async_trait]
impl pingora_core::listeners::TlsAccept for NoCallbacks {}
