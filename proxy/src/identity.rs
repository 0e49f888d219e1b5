//! Who is sending the traffic: `Proxy-Authorization` (Basic or Bearer) mapped to tenant and user.
//!
//! Credentials are configured as salted SHA-256 hashes, never in plaintext, and compared in
//! constant time.

use crate::config::AuthConfig;
use base64::Engine as _;
use ring::digest;
use std::fmt;

/// The tenant and user a request is attributed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub tenant: String,
    pub user: Option<String>,
    /// Whether a credential proved this identity (false: the default tenant).
    pub authenticated: bool,
}

/// Why a request could not be attributed; both mean 407.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Invalid,
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthFailure::Missing => "proxy authentication required",
            AuthFailure::Invalid => "proxy credentials not accepted",
        })
    }
}

/// A salted SHA-256 hash: `sha256:<salt-hex>:<digest-hex>`, digest = SHA-256(salt ‖ secret).
#[derive(Debug, Clone)]
pub struct SecretHash {
    salt: Vec<u8>,
    digest: Vec<u8>,
}

impl SecretHash {
    /// Parses the stored form; the error says what is wrong with it.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut parts = s.split(':');
        let (Some("sha256"), Some(salt), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("expected `sha256:<salt-hex>:<digest-hex>`".into());
        };
        let salt = hex_decode(salt).ok_or("salt is not hex")?;
        let digest = hex_decode(d).ok_or("digest is not hex")?;
        if salt.len() < 8 {
            return Err("salt must be at least 8 bytes".into());
        }
        if digest.len() != 32 {
            return Err("digest must be 32 bytes".into());
        }
        Ok(SecretHash { salt, digest })
    }

    /// Hashes `secret` with a fresh random salt, for `promptwall auth hash`.
    pub fn create(secret: &str) -> String {
        let mut salt = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
            .expect("system RNG");
        let d = Self::compute(&salt, secret);
        format!("sha256:{}:{}", hex_encode(&salt), hex_encode(&d))
    }

    fn compute(salt: &[u8], secret: &str) -> Vec<u8> {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(salt);
        ctx.update(secret.as_bytes());
        ctx.finish().as_ref().to_vec()
    }

    /// Constant-time check of `secret` against the stored digest.
    pub fn verify(&self, secret: &str) -> bool {
        let d = Self::compute(&self.salt, secret);
        d.len() == self.digest.len()
            && d.iter()
                .zip(&self.digest)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

struct Credential {
    username: Option<String>,
    hash: SecretHash,
    tenant: String,
    user: Option<String>,
}

/// Maps `Proxy-Authorization` values to identities.
pub struct Authenticator {
    required: bool,
    default_tenant: String,
    credentials: Vec<Credential>,
}

impl Authenticator {
    /// Builds from validated config (hashes were checked at load).
    pub fn new(cfg: &AuthConfig) -> Self {
        Authenticator {
            required: cfg.required,
            default_tenant: cfg.default_tenant.clone(),
            credentials: cfg
                .credentials
                .iter()
                .filter_map(|c| {
                    Some(Credential {
                        username: c.username.clone(),
                        hash: SecretHash::parse(&c.secret_hash).ok()?,
                        tenant: c.tenant.clone(),
                        user: c.user.clone().or_else(|| c.username.clone()),
                    })
                })
                .collect(),
        }
    }

    /// Resolves the `Proxy-Authorization` header value (if any) to an identity.
    pub fn identify(&self, header: Option<&[u8]>) -> Result<Identity, AuthFailure> {
        let Some(raw) = header else {
            return if self.required {
                Err(AuthFailure::Missing)
            } else {
                Ok(self.anonymous())
            };
        };
        let value = std::str::from_utf8(raw)
            .map_err(|_| AuthFailure::Invalid)?
            .trim();
        let (scheme, rest) = value.split_once(' ').ok_or(AuthFailure::Invalid)?;
        let rest = rest.trim();
        let found = if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .map_err(|_| AuthFailure::Invalid)?;
            let decoded = String::from_utf8(decoded).map_err(|_| AuthFailure::Invalid)?;
            let (user, pass) = decoded.split_once(':').ok_or(AuthFailure::Invalid)?;
            self.credentials
                .iter()
                .find(|c| c.username.as_deref() == Some(user) && c.hash.verify(pass))
        } else if scheme.eq_ignore_ascii_case("bearer") {
            self.credentials
                .iter()
                .find(|c| c.username.is_none() && c.hash.verify(rest))
        } else {
            None
        };
        match found {
            Some(c) => Ok(Identity {
                tenant: c.tenant.clone(),
                user: c.user.clone(),
                authenticated: true,
            }),
            // Wrong credentials are refused even when auth is optional: a client that tried to
            // authenticate and failed should find out, not be silently re-attributed.
            None => Err(AuthFailure::Invalid),
        }
    }

    fn anonymous(&self) -> Identity {
        Identity {
            tenant: self.default_tenant.clone(),
            user: None,
            authenticated: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CredentialConfig;

    fn auth(required: bool) -> Authenticator {
        Authenticator::new(&AuthConfig {
            required,
            default_tenant: "default".into(),
            credentials: vec![
                CredentialConfig {
                    username: Some("alice".into()),
                    secret_hash: SecretHash::create("wonderland"),
                    tenant: "acme".into(),
                    user: None,
                },
                CredentialConfig {
                    username: None,
                    secret_hash: SecretHash::create("tok-123"),
                    tenant: "globex".into(),
                    user: Some("ci-bot".into()),
                },
            ],
        })
    }

    fn basic(u: &str, p: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
    }

    #[test]
    fn basic_credentials_map_to_tenant_and_user() {
        let id = auth(true)
            .identify(Some(basic("alice", "wonderland").as_bytes()))
            .unwrap();
        assert_eq!(
            (id.tenant.as_str(), id.user.as_deref()),
            ("acme", Some("alice"))
        );
    }

    #[test]
    fn bearer_token_maps_to_its_tenant() {
        let id = auth(true).identify(Some(b"Bearer tok-123")).unwrap();
        assert_eq!(
            (id.tenant.as_str(), id.user.as_deref()),
            ("globex", Some("ci-bot"))
        );
    }

    #[test]
    fn missing_credentials_fail_only_when_required() {
        assert_eq!(auth(true).identify(None), Err(AuthFailure::Missing));
        assert_eq!(auth(false).identify(None).unwrap().tenant, "default");
    }

    #[test]
    fn wrong_password_garbage_and_unknown_scheme_are_invalid() {
        let a = auth(false);
        for h in [
            basic("alice", "nope"),
            "Basic !!!".into(),
            "Digest x".into(),
            "Bearer other".into(),
            "junk".into(),
        ] {
            assert_eq!(
                a.identify(Some(h.as_bytes())),
                Err(AuthFailure::Invalid),
                "{h}"
            );
        }
    }

    #[test]
    fn malformed_hashes_are_rejected() {
        assert!(SecretHash::parse("md5:00:11").is_err());
        assert!(SecretHash::parse("sha256:zz:00").is_err());
        assert!(SecretHash::parse(&SecretHash::create("x")).is_ok());
    }
}
