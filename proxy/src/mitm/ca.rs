//! The interception CA: generated on first start (key file 0600) or loaded from enterprise files,
//! and the per-host leaf certificates it mints, cached until shortly before they expire.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use thiserror::Error;
use time::OffsetDateTime;

/// File names of the generated CA inside the state directory.
pub const CA_CERT_FILE: &str = "ca.pem";
pub const CA_KEY_FILE: &str = "ca-key.pem";

/// How long a minted leaf is valid; browsers cap leaf lifetimes well above this.
const LEAF_DAYS: i64 = 30;
/// Minted leaves kept (least recently used go first); far more AI hosts than any fleet uses.
pub const MAX_LEAVES: usize = 4096;
/// Leaves are re-minted when less than this remains.
const LEAF_RENEW_BEFORE: Duration = Duration::from_secs(2 * 24 * 3600);

/// Why the CA could not be created, loaded or used.
#[derive(Debug, Error)]
pub enum CaError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a usable {what}: {reason}")]
    Parse {
        path: PathBuf,
        what: &'static str,
        reason: String,
    },
    #[error(
        "{path}: the CA key is readable by group or others (mode {mode:o}); run `chmod 600 {path}`"
    )]
    KeyPermissions { path: PathBuf, mode: u32 },
    #[error("minting a certificate for `{host}`: {reason}")]
    Mint { host: String, reason: String },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CaError + '_ {
    move |source| CaError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The CA that signs interception certificates.
pub struct CertificateAuthority {
    issuer: rcgen::Certificate,
    key: KeyPair,
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    /// Bounded ([`MAX_LEAVES`]): a client choosing a new TLS name per connection (the gateway
    /// mints for what it is asked) must not grow it for as long as the process runs.
    leaves: quick_cache::sync::Cache<String, (Arc<CertifiedKey>, SystemTime)>,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// Loads the CA from the state dir, generating it first if it is not there.
    pub fn load_or_generate(state_dir: &Path) -> Result<Self, CaError> {
        let cert_path = state_dir.join(CA_CERT_FILE);
        let key_path = state_dir.join(CA_KEY_FILE);
        if !cert_path.exists() && !key_path.exists() {
            std::fs::create_dir_all(state_dir).map_err(io_err(state_dir))?;
            std::fs::set_permissions(state_dir, std::fs::Permissions::from_mode(0o700))
                .map_err(io_err(state_dir))?;
            Self::generate_files(&cert_path, &key_path)?;
            tracing::info!(cert = %cert_path.display(), "generated a new interception CA");
        }
        Self::load(&cert_path, &key_path)
    }

    /// Generates a CA and writes it; the key file is created 0600 and never overwritten.
    pub fn generate_files(cert_path: &Path, key_path: &Path) -> Result<(), CaError> {
        let key = KeyPair::generate().map_err(|e| CaError::Mint {
            host: "CA".into(),
            reason: e.to_string(),
        })?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "PromptWall Interception CA");
        dn.push(DnType::OrganizationName, "PromptWall");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(3650);
        let cert = params.self_signed(&key).map_err(|e| CaError::Mint {
            host: "CA".into(),
            reason: e.to_string(),
        })?;
        let mut kf = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(key_path)
            .map_err(io_err(key_path))?;
        kf.write_all(key.serialize_pem().as_bytes())
            .map_err(io_err(key_path))?;
        std::fs::write(cert_path, cert.pem()).map_err(io_err(cert_path))?;
        Ok(())
    }

    /// Loads a CA certificate and key (PEM); refuses a key file that others can read.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Self, CaError> {
        let mode = std::fs::metadata(key_path)
            .map_err(io_err(key_path))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(CaError::KeyPermissions {
                path: key_path.to_path_buf(),
                mode,
            });
        }
        let cert_pem = std::fs::read_to_string(cert_path).map_err(io_err(cert_path))?;
        let key_pem = std::fs::read_to_string(key_path).map_err(io_err(key_path))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| CaError::Parse {
            path: key_path.to_path_buf(),
            what: "private key",
            reason: e.to_string(),
        })?;
        let parse_err = |reason: String| CaError::Parse {
            path: cert_path.to_path_buf(),
            what: "CA certificate",
            reason,
        };
        let params =
            CertificateParams::from_ca_cert_pem(&cert_pem).map_err(|e| parse_err(e.to_string()))?;
        if !matches!(params.is_ca, IsCa::Ca(_)) {
            return Err(parse_err(
                "basicConstraints does not mark it as a CA".into(),
            ));
        }
        let cert_der = rustls_pemfile::certs(&mut cert_pem.as_bytes())
            .next()
            .ok_or_else(|| parse_err("no CERTIFICATE block".into()))?
            .map_err(|e| parse_err(e.to_string()))?;
        // rcgen signs leaves with an issuer object; rebuilding it from the parsed params keeps
        // the issuer name and key identifier identical to the certificate clients trust.
        let issuer = params
            .self_signed(&key)
            .map_err(|e| parse_err(e.to_string()))?;
        // Clients find a leaf's issuer by comparing names byte for byte. rcgen keeps one value
        // per attribute type and one attribute per RDN, so a subject such as
        // `DC=com, DC=example, CN=Corp CA` (common for Active Directory CAs) would come out
        // different in every leaf, and every intercepted handshake would fail later, one by one.
        let subject = |der: &[u8]| {
            x509_parser::parse_x509_certificate(der)
                .map(|(_, c)| (c.subject().as_raw().to_vec(), c.subject().to_string()))
                .map_err(|e| parse_err(e.to_string()))
        };
        // A key that is not the certificate's would sign leaves no client can verify.
        let (_, parsed) =
            x509_parser::parse_x509_certificate(&cert_der).map_err(|e| parse_err(e.to_string()))?;
        if parsed.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
            return Err(CaError::Parse {
                path: key_path.to_path_buf(),
                what: "private key",
                reason: format!(
                    "it is not the key of the CA certificate {}",
                    cert_path.display()
                ),
            });
        }
        let ((theirs, name), (ours, _)) = (subject(&cert_der)?, subject(issuer.der())?);
        if theirs != ours {
            return Err(parse_err(format!(
                "its subject name ({name}) has a repeated or multi-valued attribute, which the \
                 leaves PromptWall mints cannot name as their issuer exactly, so clients would \
                 reject every intercepted connection; issue PromptWall a subordinate CA whose \
                 subject has one value per attribute (for example CN=PromptWall Inspection CA, \
                 O=<your company>) and configure that"
            )));
        }
        Ok(CertificateAuthority {
            issuer,
            key,
            cert_pem,
            cert_der,
            leaves: quick_cache::sync::Cache::new(MAX_LEAVES),
        })
    }

    /// The CA certificate in PEM, for `promptwall ca export` and client trust stores.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate in DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// A leaf certificate and key for `host`, minted on first use and cached.
    pub fn leaf_for(&self, host: &str) -> Result<Arc<CertifiedKey>, CaError> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let now = SystemTime::now();
        if let Some(entry) = self.leaves.get(&host) {
            if entry.1 > now + LEAF_RENEW_BEFORE {
                return Ok(entry.0.clone());
            }
        }
        let (ck, expires) = self.mint(&host)?;
        self.leaves.insert(host, (ck.clone(), expires));
        Ok(ck)
    }

    fn mint(&self, host: &str) -> Result<(Arc<CertifiedKey>, SystemTime), CaError> {
        let mint_err = |reason: String| CaError::Mint {
            host: host.to_string(),
            reason,
        };
        let key = KeyPair::generate().map_err(|e| mint_err(e.to_string()))?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, host);
        params.distinguished_name = dn;
        params.subject_alt_names = vec![match host.parse::<std::net::IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(
                host.try_into()
                    .map_err(|e: rcgen::Error| mint_err(e.to_string()))?,
            ),
        }];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + time::Duration::days(LEAF_DAYS);
        let cert = params
            .signed_by(&key, &self.issuer, &self.key)
            .map_err(|e| mint_err(e.to_string()))?;
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signing = rustls::crypto::ring::sign::any_supported_type(&key_der)
            .map_err(|e| mint_err(e.to_string()))?;
        let chain = vec![cert.der().clone(), self.cert_der.clone()];
        let expires = SystemTime::now() + Duration::from_secs(LEAF_DAYS as u64 * 24 * 3600);
        Ok((Arc::new(CertifiedKey::new(chain, signing)), expires))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("pw-ca-{}-{}", name, std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn generated_key_is_private_and_reloads() {
        let dir = tmpdir("gen");
        let ca = CertificateAuthority::load_or_generate(&dir).unwrap();
        let mode = std::fs::metadata(dir.join(CA_KEY_FILE))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        let again = CertificateAuthority::load_or_generate(&dir).unwrap();
        assert_eq!(
            ca.cert_pem(),
            again.cert_pem(),
            "second start reuses the CA"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn world_readable_key_is_refused() {
        let dir = tmpdir("perm");
        CertificateAuthority::load_or_generate(&dir).unwrap();
        let key = dir.join(CA_KEY_FILE);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = CertificateAuthority::load_or_generate(&dir)
            .unwrap_err()
            .to_string();
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn leaves_are_cached_per_host() {
        let dir = tmpdir("leaf");
        let ca = CertificateAuthority::load_or_generate(&dir).unwrap();
        let a = ca.leaf_for("api.openai.com").unwrap();
        let b = ca.leaf_for("API.openai.com.").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let c = ca.leaf_for("api.anthropic.com").unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        assert!(ca.leaf_for("127.0.0.1").is_ok());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_leaf_cache_stays_bounded_whatever_names_clients_send() {
        let ca = CertificateAuthority::load_or_generate(&tmpdir("bounded")).unwrap();
        for i in 0..MAX_LEAVES + 200 {
            ca.leaf_for(&format!("h{i}.example")).unwrap();
        }
        assert!(ca.leaves.len() <= MAX_LEAVES, "{}", ca.leaves.len());
    }

    /// An enterprise CA made by another tool (openssl here): `name` under `testdata/`, copied
    /// with its key made private as `load` requires.
    fn foreign(name: &str) -> Result<CertificateAuthority, CaError> {
        foreign_pair(name, name)
    }

    /// The certificate of one test CA with the key of another (or its own).
    fn foreign_pair(cert_of: &str, key_of: &str) -> Result<CertificateAuthority, CaError> {
        let dir = tmpdir(&format!("{cert_of}-{key_of}"));
        std::fs::create_dir_all(&dir).unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/mitm/testdata");
        let (cert, key) = (dir.join("ca.pem"), dir.join("ca.key"));
        std::fs::copy(src.join(format!("{cert_of}.pem")), &cert).unwrap();
        std::fs::copy(src.join(format!("{key_of}.key")), &key).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        CertificateAuthority::load(&cert, &key)
    }

    /// Whether a TLS client that trusts only `ca` accepts the leaf minted for `host`.
    fn client_accepts(ca: &CertificateAuthority, host: &str) -> Result<(), rustls::Error> {
        use rustls::client::danger::ServerCertVerifier;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.cert_der().clone()).unwrap();
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .unwrap();
        let leaf = ca.leaf_for(host).unwrap();
        verifier
            .verify_server_cert(
                &leaf.cert[0],
                &leaf.cert[1..],
                &rustls::pki_types::ServerName::try_from(host.to_string()).unwrap(),
                &[],
                rustls::pki_types::UnixTime::now(),
            )
            .map(|_| ())
    }

    #[test]
    fn an_enterprise_ca_made_elsewhere_mints_leaves_clients_accept() {
        let ca = foreign("openssl-ca").unwrap();
        client_accepts(&ca, "api.openai.com").unwrap();
        let own = CertificateAuthority::load_or_generate(&tmpdir("own")).unwrap();
        client_accepts(&own, "api.anthropic.com").unwrap();
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused_at_load() {
        let e = foreign_pair("openssl-ca", "dc-ca")
            .expect_err("refused")
            .to_string();
        assert!(e.contains("not the key of the CA certificate"), "{e}");
    }

    #[test]
    fn a_ca_whose_name_leaves_cannot_repeat_is_refused_at_load_not_per_handshake() {
        // `DC=com, DC=example, CN=Corp Root CA`, as Active Directory names its CAs.
        let e = foreign("dc-ca").expect_err("refused").to_string();
        assert!(
            e.contains("DC=com") && e.contains("subordinate CA"),
            "the error names the subject and the way out: {e}"
        );
    }
}
