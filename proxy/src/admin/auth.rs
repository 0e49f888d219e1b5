//! Admin API tokens and roles: who is calling, and whether they may touch a tenant.

use crate::config::{AdminRole, AdminTokenConfig};
use policy::{PolicyDoc, SecretHash};

/// An authenticated caller of the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's name, recorded as the actor in the audit log.
    pub name: String,
    pub role: AdminRole,
    /// `None` for a superadmin.
    pub tenant: Option<String>,
}

/// What an endpoint needs from its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Reading the usage log.
    AuditRead,
    /// Reading or changing policies.
    Policy,
    /// Revealing the user behind an insider-risk pseudonym.
    RevealIdentity,
}

impl Principal {
    /// Whether this caller may do `need` for `tenant`; a cross-tenant request is always refused.
    pub fn may(&self, need: Need, tenant: &str) -> bool {
        let role_ok = matches!(
            (self.role, need),
            (AdminRole::Superadmin, _)
                | (AdminRole::Admin, Need::Policy)
                | (AdminRole::Auditor, Need::AuditRead)
                | (
                    AdminRole::Investigator,
                    Need::AuditRead | Need::RevealIdentity
                )
        );
        role_ok && self.tenant.as_deref().is_none_or(|t| t == tenant)
    }
}

/// Why a tenant admin may not change which connections belong to its tenant: source CIDRs and
/// a trusted identity header are matched across all tenants (the most specific CIDR wins), so
/// a tenant admin who could set them would claim another tenant's users, or with
/// `0.0.0.0/0` every unidentified client, past `auth.required`. Credentials (`tokens`) stay
/// the tenant admin's to manage: a token identifies only whoever holds it.
pub const NETWORK_SOURCES_NEED_SUPERADMIN: &str = "identity.cidrs and identity.trusted_header decide which tenant a connection belongs to, across tenants; only a superadmin may add networks to them (a tenant admin may remove networks or change the users they map to)";

impl Principal {
    /// Whether this caller may put `next` in force in place of `current` (same tenant; the
    /// role check is [`Principal::may`]): a superadmin may change anything, a tenant admin
    /// anything that claims no network the tenant does not claim already. A narrower network
    /// inside a claimed one is a new claim too: the most specific CIDR wins, so it could take
    /// a user from another tenant's more specific range.
    pub fn may_replace(&self, current: &PolicyDoc, next: &PolicyDoc) -> bool {
        let nets =
            |list: &mut dyn Iterator<Item = &String>| -> Option<Vec<policy::identity::Cidr>> {
                list.map(|c| policy::identity::Cidr::parse(c).ok())
                    .collect()
            };
        let claims = |d: &PolicyDoc| {
            let cidrs = nets(&mut d.identity.cidrs.iter().map(|c| &c.cidr));
            let trusted = nets(&mut d.identity.trusted_header.iter().flat_map(|t| &t.from_cidrs));
            cidrs.zip(trusted)
        };
        let subset = |new: &[policy::identity::Cidr], old: &[policy::identity::Cidr]| {
            new.iter().all(|n| old.contains(n))
        };
        self.role == AdminRole::Superadmin
            || match (claims(current), claims(next)) {
                (Some((cur_c, cur_t)), Some((new_c, new_t))) => {
                    subset(&new_c, &cur_c) && subset(&new_t, &cur_t)
                }
                _ => false,
            }
    }
}

/// The configured tokens, hashed; built once at start.
pub struct AdminTokens {
    tokens: Vec<(SecretHash, Principal)>,
}

impl AdminTokens {
    /// Builds from the validated token list; a hash that does not parse (config validation
    /// rejects those) is logged and never matches.
    pub fn new(config: &[AdminTokenConfig]) -> Self {
        let tokens = config
            .iter()
            .filter_map(|t| match SecretHash::parse(&t.token_hash) {
                Ok(h) => Some((
                    h,
                    Principal {
                        name: t.name.clone(),
                        role: t.role,
                        tenant: t.tenant.clone(),
                    },
                )),
                Err(e) => {
                    tracing::error!(token = %t.name, error = %e, "admin token hash ignored");
                    None
                }
            })
            .collect();
        AdminTokens { tokens }
    }

    /// The principal for an `Authorization: Bearer` value; every token is checked, so timing
    /// does not reveal which one nearly matched.
    pub fn authenticate(&self, authorization: Option<&str>) -> Option<Principal> {
        let token = authorization?.strip_prefix("Bearer ")?.trim();
        if token.is_empty() {
            return None;
        }
        let mut found = None;
        for (hash, p) in &self.tokens {
            if hash.verify(token) && found.is_none() {
                found = Some(p.clone());
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(role: AdminRole, tenant: Option<&str>) -> Principal {
        Principal {
            name: "t".into(),
            role,
            tenant: tenant.map(Into::into),
        }
    }

    #[test]
    fn roles_reach_only_their_tenant_and_their_job() {
        let (a, b) = ("acme", "globex");
        let su = p(AdminRole::Superadmin, None);
        assert!(su.may(Need::Policy, a) && su.may(Need::AuditRead, b));
        let admin = p(AdminRole::Admin, Some(a));
        assert!(admin.may(Need::Policy, a));
        assert!(!admin.may(Need::Policy, b));
        assert!(!admin.may(Need::AuditRead, a));
        let auditor = p(AdminRole::Auditor, Some(a));
        assert!(auditor.may(Need::AuditRead, a));
        assert!(!auditor.may(Need::AuditRead, b));
        assert!(!auditor.may(Need::Policy, a));
    }

    #[test]
    fn only_a_superadmin_changes_which_connections_belong_to_a_tenant() {
        let doc = |identity: &str| {
            policy::CompiledPolicy::from_yaml(
                "t.yaml",
                &format!("tenant: acme\nidentity:\n{identity}rules: []\n"),
            )
            .unwrap()
            .doc()
            .clone()
        };
        let current = doc("  cidrs: [{cidr: 10.1.0.0/16}]\n");
        let admin = p(AdminRole::Admin, Some("acme"));
        let su = p(AdminRole::Superadmin, None);
        // Credentials are the tenant admin's to manage, and so are removing networks and the
        // users they map to.
        for narrower in ["", "  cidrs: [{cidr: 10.1.0.0/16, user: ana}]\n"] {
            assert!(admin.may_replace(&current, &doc(narrower)), "{narrower}");
        }
        let token = format!(
            "  cidrs: [{{cidr: 10.1.0.0/16}}]\n  tokens: [{{user: ana, secret_hash: \"{}\"}}]\n",
            SecretHash::create("ana-token")
        );
        assert!(admin.may_replace(&current, &doc(&token)));
        for claim in [
            "  cidrs: [{cidr: 10.1.0.0/16}, {cidr: 10.2.0.7/32}]\n",
            "  cidrs: [{cidr: 0.0.0.0/0}]\n",
            "  cidrs: [{cidr: 10.1.2.3/32}]\n",
            "  cidrs: [{cidr: 10.1.0.0/16}]\n  trusted_header: {user_header: user-agent, from_cidrs: [0.0.0.0/0]}\n",
        ] {
            let next = doc(claim);
            assert!(!admin.may_replace(&current, &next), "{claim}");
            assert!(su.may_replace(&current, &next), "{claim}");
        }
    }

    #[test]
    fn only_a_configured_bearer_token_authenticates() {
        let tokens = AdminTokens::new(&[AdminTokenConfig {
            name: "ops".into(),
            token_hash: SecretHash::create("tok-1"),
            role: AdminRole::Auditor,
            tenant: Some("acme".into()),
        }]);
        assert_eq!(
            tokens.authenticate(Some("Bearer tok-1")).unwrap().name,
            "ops"
        );
        for bad in [None, Some("Bearer tok-2"), Some("tok-1"), Some("Bearer ")] {
            assert!(tokens.authenticate(bad).is_none(), "{bad:?}");
        }
    }
}
