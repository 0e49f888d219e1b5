//! Pseudonymous user ids for works-council rules (GDPR): analysts see a stable pseudonym per
//! tenant and user, and only an investigator (or a superadmin) can reveal the name, which the
//! usage log records. The pseudonym is a keyed hash under a key derived from the deployment's
//! master secret, so it is the same on every run and every surface, and cannot be reversed
//! without the key; revealing one looks it up among the users the rollup knows.

use ring::hmac;

/// Derives pseudonyms; built once from the master secret.
#[derive(Clone)]
pub struct Pseudonyms {
    key: hmac::Key,
}

impl std::fmt::Debug for Pseudonyms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonyms(..)")
    }
}

impl Pseudonyms {
    /// A key of its own, derived from the master secret (so a pseudonym never equals any other
    /// keyed hash the deployment publishes).
    pub fn new(master: &[u8]) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, master);
        let derived = hmac::sign(&root, b"promptwall/risk/pseudonym/v1");
        Pseudonyms {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    /// `u-` and 16 hex digits (64 bits): stable per tenant and user.
    pub fn of(&self, tenant: &str, user: &str) -> String {
        let mut msg = Vec::with_capacity(tenant.len() + user.len() + 1);
        msg.extend_from_slice(tenant.as_bytes());
        msg.push(0);
        msg.extend_from_slice(user.as_bytes());
        let tag = hmac::sign(&self.key, &msg);
        format!("u-{}", policy::identity::hex_encode(&tag.as_ref()[..8]))
    }

    /// The user behind `pseudonym` among `users` of `tenant`.
    pub fn reveal<'a>(
        &self,
        tenant: &str,
        pseudonym: &str,
        users: impl IntoIterator<Item = &'a str>,
    ) -> Option<&'a str> {
        users.into_iter().find(|u| self.of(tenant, u) == pseudonym)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pseudonym_is_stable_per_tenant_and_key_and_reveals_only_its_user() {
        let p = Pseudonyms::new(b"0123456789abcdef0123456789abcdef");
        let a = p.of("acme", "ann@acme.example");
        assert_eq!(a, p.of("acme", "ann@acme.example"));
        assert_eq!(a.len(), 18);
        assert_ne!(a, p.of("globex", "ann@acme.example"));
        assert_ne!(
            a,
            Pseudonyms::new(b"another master key, 32 bytes!!!!").of("acme", "ann@acme.example")
        );
        let users = ["bob@acme.example", "ann@acme.example"];
        assert_eq!(p.reveal("acme", &a, users), Some("ann@acme.example"));
        assert_eq!(p.reveal("globex", &a, users), None);
    }
}
