//! Self-signed TLS identities for the mock upstream.

use rcgen::{CertificateParams, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;

/// A self-signed certificate for `names`, its PEM (for clients to trust) and a server config.
pub struct SelfSigned {
    pub cert_pem: String,
    /// The private key (PKCS#8 PEM), for servers configured by file (the nginx peer).
    pub key_pem: String,
    pub server_config: Arc<rustls::ServerConfig>,
}

/// Makes a self-signed certificate valid for every name (DNS names or IP addresses).
pub fn self_signed(names: &[&str]) -> anyhow::Result<SelfSigned> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    params.subject_alt_names = names
        .iter()
        .map(|n| match n.parse::<std::net::IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => Ok(SanType::DnsName((*n).try_into()?)),
        })
        .collect::<Result<_, rcgen::Error>>()?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "mock-llm");
    let cert = params.self_signed(&key)?;
    let der = CertificateDer::from(cert.der().to_vec());
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(vec![der], key_der)?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(SelfSigned {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        server_config: Arc::new(cfg),
    })
}
