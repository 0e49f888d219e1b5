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
    /// The only names minted (the gateway's `tls_names`; any other name gets the fallback's
    /// leaf); `None` mints whatever the client names (an intercepted host, already checked).
    names: Option<Vec<String>>,
}

impl ResolvesServerCert for MintingResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let host = hello
            .server_name()
            .filter(|sni| {
                self.names.as_ref().is_none_or(|names| {
                    names
                        .iter()
                        .any(|n| n.eq_ignore_ascii_case(sni.trim_end_matches('.')))
                })
            })
            .unwrap_or(&self.fallback_host);
        match self.ca.leaf_for(host) {
            Ok(ck) => Some(ck),
            Err(e) => {
                tracing::warn!(error = %e, "cannot mint a certificate; aborting the handshake");
                None
            }
        }
    }
}

/// A server config that mints for SNI (or `fallback_host`), offers HTTP/2 and HTTP/1.1, and
/// issues session tickets from `ticketer`, so a client's next connection resumes instead of
/// paying for a full handshake (and the proxy for a signature).
fn server_config(
    ca: Arc<CertificateAuthority>,
    fallback_host: &str,
    ticketer: Arc<dyn rustls::server::ProducesTickets>,
) -> Arc<ServerConfig> {
    let mut cfg =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .expect("ring supports TLS 1.2 and 1.3")
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(MintingResolver {
                ca,
                fallback_host: fallback_host.to_string(),
                names: None,
            }));
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // Stateless tickets in place of the per-config session cache: that cache held 256
    // sessions per host, so past 256 clients of one provider most handshakes were full again.
    cfg.ticketer = ticketer;
    cfg.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    Arc::new(cfg)
}

/// One server config per intercepted host, built once and shared by that host's connections:
/// a config (with its TLS session cache) per connection would cost each idle connection about
/// 20 KiB and every handshake a rebuild, and no client could resume a session.
pub struct ServerConfigs {
    ca: Arc<CertificateAuthority>,
    by_host: dashmap::DashMap<String, Arc<ServerConfig>>,
    /// One ticket key for every host: rustls's rotator, in memory only (a new key every six
    /// hours, the last one still accepted). A ticket resumes only the name it was issued for.
    ticketer: Arc<dyn rustls::server::ProducesTickets>,
}

impl ServerConfigs {
    /// Distinct hosts kept; past it the map starts over (hosts are the AI catalog's, so this
    /// only bounds a client inventing names under a wildcard).
    const MAX_HOSTS: usize = 4096;

    /// Configs minted from `ca`; fails only when the system has no randomness for the ticket
    /// key.
    pub fn new(ca: Arc<CertificateAuthority>) -> Result<Self, rustls::Error> {
        Ok(ServerConfigs {
            ca,
            by_host: dashmap::DashMap::new(),
            ticketer: rustls::crypto::ring::Ticketer::new()?,
        })
    }

    /// The config for connections that asked for `host` (CONNECT's host, the fallback when the
    /// client sends no SNI).
    pub fn for_host(&self, host: &str) -> Arc<ServerConfig> {
        // Hosts arrive lower-cased from the CONNECT parser; copy only one that is not.
        let lower: std::borrow::Cow<'_, str> = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            host.to_ascii_lowercase().into()
        } else {
            host.into()
        };
        if let Some(c) = self.by_host.get(&*lower) {
            return c.clone();
        }
        if self.by_host.len() >= Self::MAX_HOSTS {
            self.by_host.clear();
        }
        let c = server_config(self.ca.clone(), &lower, self.ticketer.clone());
        self.by_host.insert(lower.into_owned(), c.clone());
        c
    }
}

/// A resolver for listeners with fixed names (the TLS gateway): it mints for those names only,
/// and answers any other (or no) TLS name with the first one's leaf, so a client cannot make it
/// mint a key per made-up name before it has even authenticated.
pub fn resolver(ca: Arc<CertificateAuthority>, names: &[String]) -> Arc<dyn ResolvesServerCert> {
    Arc::new(MintingResolver {
        ca,
        fallback_host: names.first().cloned().unwrap_or_default(),
        names: Some(names.to_vec()),
    })
}

/// TLS accept callbacks that do nothing; pingora's rustls settings need a value.
pub struct NoCallbacks;

#[async_trait::async_trait]
impl pingora_core::listeners::TlsAccept for NoCallbacks {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_to_one_host_share_one_config() {
        let dir = std::env::temp_dir().join(format!("pw-mitm-configs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ca = Arc::new(CertificateAuthority::load_or_generate(&dir).unwrap());
        let configs = ServerConfigs::new(ca).unwrap();
        let a = configs.for_host("api.openai.com");
        assert!(Arc::ptr_eq(&a, &configs.for_host("API.OpenAI.com")));
        assert!(!Arc::ptr_eq(&a, &configs.for_host("api.anthropic.com")));
        assert_eq!(a.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
