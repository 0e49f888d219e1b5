//! Who is sending the traffic. Tenant policies name their own identity sources (tokens, a
//! trusted header, source CIDRs); the config's `auth.credentials` add proxy-wide credentials.
//! Credentials are salted hashes, never plaintext, compared in constant time.

use crate::config::AuthConfig;
use policy::{Identity, IdentityInput, SecretHash, Store};
use std::fmt;
use std::net::IpAddr;

/// Why a request could not be attributed; both mean 407 (or 401 on the gateway).
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

struct Credential {
    username: Option<String>,
    hash: SecretHash,
    tenant: String,
    user: Option<String>,
}

/// Maps requests to identities: tenant policies first, then the config's credentials.
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

    /// Resolves the requester. `header` looks up request headers by lower-case name.
    pub fn identify(
        &self,
        store: &Store,
        proxy_authorization: Option<&[u8]>,
        header: &dyn Fn(&str) -> Option<String>,
        peer: Option<IpAddr>,
    ) -> Result<Identity, AuthFailure> {
        let input = IdentityInput {
            proxy_authorization,
            header,
            peer,
        };
        match store.identify(&input) {
            Ok(Some(id)) => return Ok(id),
            Err(_) => return Err(AuthFailure::Invalid),
            Ok(None) => {}
        }
        if let Some(raw) = proxy_authorization {
            // Wrong credentials are refused even when auth is optional: a client that tried to
            // authenticate and failed should find out, not be silently re-attributed.
            let (username, secret) =
                policy::identity::parse_authorization(raw).ok_or(AuthFailure::Invalid)?;
            return self
                .credentials
                .iter()
                .find(|c| c.username == username && c.hash.verify(&secret))
                .map(|c| Identity {
                    tenant: c.tenant.clone(),
                    user: c.user.clone(),
                    groups: Vec::new(),
                    method: "config",
                })
                .ok_or(AuthFailure::Invalid);
        }
        if self.required {
            return Err(AuthFailure::Missing);
        }
        Ok(Identity {
            tenant: self.default_tenant.clone(),
            user: None,
            groups: Vec::new(),
            method: "default",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CredentialConfig;
    use base64::Engine as _;

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

    fn id(
        a: &Authenticator,
        store: &Store,
        h: Option<&str>,
        peer: Option<&str>,
    ) -> Result<Identity, AuthFailure> {
        a.identify(
            store,
            h.map(str::as_bytes),
            &|name| (name == "x-user").then(|| "sam".to_string()),
            peer.map(|p| p.parse().unwrap()),
        )
    }

    #[test]
    fn config_credentials_map_to_tenant_and_user() {
        let s = Store::in_memory();
        let i = id(&auth(true), &s, Some(&basic("alice", "wonderland")), None).unwrap();
        assert_eq!(
            (i.tenant.as_str(), i.user.as_deref()),
            ("acme", Some("alice"))
        );
        let i = id(&auth(true), &s, Some("Bearer tok-123"), None).unwrap();
        assert_eq!(
            (i.tenant.as_str(), i.user.as_deref()),
            ("globex", Some("ci-bot"))
        );
    }

    #[test]
    fn missing_credentials_fail_only_when_required_and_bad_ones_always_fail() {
        let s = Store::in_memory();
        assert_eq!(id(&auth(true), &s, None, None), Err(AuthFailure::Missing));
        assert_eq!(id(&auth(false), &s, None, None).unwrap().tenant, "default");
        for h in [
            basic("alice", "nope"),
            "Basic !!!".into(),
            "Digest x".into(),
            "Bearer other".into(),
        ] {
            assert_eq!(
                id(&auth(false), &s, Some(&h), None),
                Err(AuthFailure::Invalid),
                "{h}"
            );
        }
    }

    #[test]
    fn tenant_policies_identify_by_token_header_and_cidr() {
        let s = Store::in_memory();
        let token = SecretHash::create("bob-pass");
        s.apply(
            "t.yaml",
            &format!(
                "tenant: initech\nidentity:\n  tokens:\n    - {{user: bob, username: bob, secret_hash: \"{token}\", groups: [engineering]}}\n  trusted_header: {{user_header: X-User, from_cidrs: [10.9.0.0/16]}}\n  cidrs:\n    - {{cidr: 10.0.0.0/8, groups: [staff]}}\n    - {{cidr: 10.1.2.0/24, user: kiosk}}\n"
            ),
            "test",
        )
        .unwrap();
        let a = auth(false);
        let i = id(&a, &s, Some(&basic("bob", "bob-pass")), None).unwrap();
        assert_eq!(
            (i.tenant.as_str(), i.groups.as_slice(), i.method),
            ("initech", &["engineering".to_string()][..], "token")
        );
        let i = id(&a, &s, None, Some("10.9.1.1")).unwrap();
        assert_eq!((i.user.as_deref(), i.method), (Some("sam"), "header"));
        let i = id(&a, &s, None, Some("10.1.2.3")).unwrap();
        assert_eq!(
            (i.user.as_deref(), i.method),
            (Some("kiosk"), "cidr"),
            "the most specific CIDR wins"
        );
        let i = id(&a, &s, None, Some("10.200.0.1")).unwrap();
        assert_eq!(
            (i.tenant.as_str(), i.groups.as_slice()),
            ("initech", &["staff".to_string()][..])
        );
        assert_eq!(
            id(&a, &s, None, Some("192.0.2.1")).unwrap().tenant,
            "default"
        );
    }
}
