//! Every tenant's identity sources, indexed once per policy change: recognising a requester
//! reads only the sources that can match, and the answer never depends on hash-map order.
//!
//! Order, when sources of two tenants could both match: a trusted header from the tenant
//! first in name order; for source addresses, the most specific CIDR, then the tenant first
//! in name order. [`Directory::overlaps`] names those pairs so that an operator can fix them.

use crate::compile::CompiledPolicy;
use crate::identity::{
    canonical, parse_authorization, BadCredentials, Cidr, Identity, IdentityInput,
};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// Networks grouped by family and prefix length, most specific first: a lookup masks the
/// address once per distinct length present, instead of testing every network of every tenant.
struct PrefixMap<T> {
    /// (IPv4?, prefix length, network → entries in insertion order), longest prefix first.
    levels: Vec<(bool, u8, HashMap<ipnet::IpNet, Vec<T>>)>,
}

impl<T> PrefixMap<T> {
    fn build(entries: impl IntoIterator<Item = (Cidr, T)>) -> Self {
        let mut levels: Vec<(bool, u8, HashMap<ipnet::IpNet, Vec<T>>)> = Vec::new();
        for (cidr, value) in entries {
            let net = cidr.net();
            let key = (matches!(net, ipnet::IpNet::V4(_)), net.prefix_len());
            let level = match levels.iter().position(|(v4, len, _)| (*v4, *len) == key) {
                Some(i) => i,
                None => {
                    levels.push((key.0, key.1, HashMap::new()));
                    levels.len() - 1
                }
            };
            levels[level].2.entry(net).or_default().push(value);
        }
        levels.sort_by_key(|(_, len, _)| std::cmp::Reverse(*len));
        PrefixMap { levels }
    }

    /// Entries of every network holding `ip`, most specific network first.
    fn matches(&self, ip: IpAddr) -> impl Iterator<Item = &T> {
        let ip = canonical(ip);
        self.levels
            .iter()
            .filter(move |(v4, _, _)| *v4 == ip.is_ipv4())
            .filter_map(move |(_, len, nets)| {
                let net = ipnet::IpNet::new(ip, *len).ok()?.trunc();
                nets.get(&net)
            })
            .flatten()
    }

    /// Every network with its entries.
    fn networks(&self) -> impl Iterator<Item = (&ipnet::IpNet, &Vec<T>)> {
        self.levels.iter().flat_map(|(_, _, nets)| nets.iter())
    }
}

/// One tenant's trusted header, with the header names lower-cased once.
struct HeaderSource {
    policy: Arc<CompiledPolicy>,
    user_header: String,
    groups_header: Option<String>,
}

/// The identity sources of all tenants; rebuilt whole whenever a policy changes.
pub(crate) struct Directory {
    /// Token entries (policy, index into its `tokens`) by Basic username; `None` holds Bearer
    /// tokens. Tenants in name order.
    tokens: HashMap<Option<String>, Vec<(Arc<CompiledPolicy>, usize)>>,
    /// Tenants that trust a header, in name order.
    headers: Vec<HeaderSource>,
    /// The addresses each header is trusted from → index into `headers`.
    header_from: PrefixMap<usize>,
    /// Source CIDRs → (policy, index into its `cidrs`), tenants in name order per network.
    cidrs: PrefixMap<(Arc<CompiledPolicy>, usize)>,
    /// Credentials already verified, under a keyed hash of (username, secret), never the secret
    /// itself → index into their `tokens` list. A resent credential costs one HMAC instead of a
    /// salted hash per candidate token (every tenant's Bearer tokens share one list). It lives
    /// and dies with this index, so a policy change (a revoked token) empties it; failures are
    /// not remembered here, so junk credentials cannot crowd out good ones.
    verified: dashmap::DashMap<[u8; 32], usize>,
    /// Credentials that matched no token, under the same keyed hash: a client retrying with a
    /// revoked or mistyped token costs one HMAC per retry instead of a salted hash per
    /// candidate (at 300 tenants, about 20 µs). Bounded apart from `verified`; fresh junk
    /// still costs the full check, so this caps repetition, not an attacker's rotation. A
    /// policy change drops it with the index, so a token added later is checked afresh.
    rejected: dashmap::DashSet<[u8; 32]>,
    /// A fresh random key per index.
    verified_key: ring::hmac::Key,
}

/// Verified credentials remembered per index; past this the memory starts over.
const VERIFIED_MAX: usize = 16_384;
/// Rejected credentials remembered per index; past this that memory starts over.
const REJECTED_MAX: usize = 4_096;

impl Default for Directory {
    fn default() -> Self {
        Directory::build([])
    }
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("token_usernames", &self.tokens.len())
            .field("header_tenants", &self.headers.len())
            .field("cidr_networks", &self.cidrs.networks().count())
            .finish()
    }
}

impl Directory {
    /// Indexes the given current policies (any order).
    pub(crate) fn build(policies: impl IntoIterator<Item = Arc<CompiledPolicy>>) -> Self {
        let mut policies: Vec<Arc<CompiledPolicy>> = policies.into_iter().collect();
        policies.sort_by(|a, b| a.tenant().cmp(b.tenant()));
        let mut tokens: HashMap<_, Vec<_>> = HashMap::new();
        let mut headers = Vec::new();
        for p in &policies {
            for (i, (t, _)) in p.tokens.iter().enumerate() {
                tokens
                    .entry(t.username.clone())
                    .or_default()
                    .push((p.clone(), i));
            }
            if let Some(th) = &p.doc.identity.trusted_header {
                headers.push(HeaderSource {
                    policy: p.clone(),
                    user_header: th.user_header.to_ascii_lowercase(),
                    groups_header: th.groups_header.as_ref().map(|h| h.to_ascii_lowercase()),
                });
            }
        }
        let header_from = PrefixMap::build(
            headers
                .iter()
                .enumerate()
                .flat_map(|(i, h)| h.policy.trusted_from.iter().map(move |c| (*c, i))),
        );
        let cidrs = PrefixMap::build(
            policies
                .iter()
                .flat_map(|p| (0..p.cidrs.len()).map(move |i| (p.cidrs[i].0, (p.clone(), i)))),
        );
        let rng = ring::rand::SystemRandom::new();
        Directory {
            tokens,
            headers,
            header_from,
            cidrs,
            verified: dashmap::DashMap::new(),
            rejected: dashmap::DashSet::new(),
            verified_key: ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &rng)
                .expect("system RNG"),
        }
    }

    /// Recognises the requester: credentials first, then a trusted header from a trusted
    /// address, then the most specific source CIDR. `Ok(None)`: nothing matched.
    pub(crate) fn identify(
        &self,
        input: &IdentityInput<'_>,
    ) -> Result<Option<Identity>, BadCredentials> {
        if let Some(raw) = input.proxy_authorization {
            let Some((username, secret)) = parse_authorization(raw) else {
                return Err(BadCredentials);
            };
            let candidates = self.tokens.get(&username).map_or(&[][..], Vec::as_slice);
            let verify = || {
                candidates
                    .iter()
                    .position(|(p, i)| p.tokens[*i].1.verify(&secret))
            };
            // One or two salted hashes cost less than the HMAC that looks up the memory.
            let found = if candidates.len() <= 2 {
                verify()
            } else {
                let key = self.credential_key(username.as_deref(), &secret);
                if self.rejected.contains(&key) {
                    return Ok(None);
                }
                let known = self.verified.get(&key).map(|i| *i);
                known.or_else(|| {
                    let Some(i) = verify() else {
                        if self.rejected.len() >= REJECTED_MAX {
                            self.rejected.clear();
                        }
                        self.rejected.insert(key);
                        return None;
                    };
                    if self.verified.len() >= VERIFIED_MAX {
                        self.verified.clear();
                    }
                    self.verified.insert(key, i);
                    Some(i)
                })
            };
            return Ok(found.map(|n| {
                let (p, i) = &candidates[n];
                let t = &p.tokens[*i].0;
                Identity {
                    tenant: p.tenant().to_string(),
                    user: Some(t.user.clone()),
                    groups: t.groups.clone(),
                    method: "token",
                }
            }));
        }
        let Some(peer) = input.peer else {
            return Ok(None);
        };
        // Tenants that trust a header from this address, in name order (smallest index first;
        // a tenant may match through several of its networks), without collecting them.
        let mut tried: Option<usize> = None;
        while let Some(i) = self
            .header_from
            .matches(peer)
            .copied()
            .filter(|&i| tried.is_none_or(|t| i > t))
            .min()
        {
            tried = Some(i);
            let h = &self.headers[i];
            if let Some(user) = (input.header)(&h.user_header) {
                let groups = h
                    .groups_header
                    .as_deref()
                    .and_then(|name| (input.header)(name))
                    .map(|g| {
                        g.split(',')
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty())
                            .collect()
                    })
                    .unwrap_or_default();
                return Ok(Some(Identity {
                    tenant: h.policy.tenant().to_string(),
                    user: Some(user),
                    groups,
                    method: "header",
                }));
            }
        }
        Ok(self.cidrs.matches(peer).next().map(|(p, i)| {
            let d = &p.cidrs[*i].1;
            Identity {
                tenant: p.tenant().to_string(),
                user: d.user.clone(),
                groups: d.groups.clone(),
                method: "cidr",
            }
        }))
    }

    /// The keyed hash a verified credential is remembered under; the username is
    /// length-prefixed so that no (username, secret) pair hashes like another.
    fn credential_key(&self, username: Option<&str>, secret: &str) -> [u8; 32] {
        let mut ctx = ring::hmac::Context::with_key(&self.verified_key);
        match username {
            Some(u) => {
                ctx.update(&[1]);
                ctx.update(&(u.len() as u64).to_le_bytes());
                ctx.update(u.as_bytes());
            }
            None => ctx.update(&[0]),
        }
        ctx.update(secret.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// Pairs of tenants whose sources both match some requests, where only the tie-break
    /// (tenant name order) decides: the same source CIDR, or overlapping trusted-header ranges.
    pub(crate) fn overlaps(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut shared: Vec<_> = self
            .cidrs
            .networks()
            .filter_map(|(net, entries)| {
                let first = entries[0].0.tenant();
                let other = entries.iter().find(|(p, _)| p.tenant() != first)?;
                Some((first, other.0.tenant(), *net))
            })
            .collect();
        shared.sort();
        for (a, b, net) in shared {
            out.push(format!(
                "tenants `{a}` and `{b}` both list source CIDR {net}; `{a}` wins"
            ));
        }
        for (n, a) in self.headers.iter().enumerate() {
            for b in &self.headers[n + 1..] {
                let shared = a
                    .policy
                    .trusted_from
                    .iter()
                    .find(|x| b.policy.trusted_from.iter().any(|y| x.overlaps(y)));
                if let Some(net) = shared {
                    out.push(format!(
                        "tenants `{}` and `{}` both trust an identity header from {net}; `{}` wins when its header is present",
                        a.policy.tenant(),
                        b.policy.tenant(),
                        a.policy.tenant()
                    ));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{Directory, PrefixMap, REJECTED_MAX};
    use crate::identity::{Cidr, Identity, IdentityInput, SecretHash};
    use crate::Store;
    use std::net::IpAddr;

    fn policy(tenant: &str, identity: &str) -> String {
        format!("tenant: {tenant}\nidentity:\n{identity}rules: []\n")
    }

    /// A store with these tenants, applied in the given order.
    fn store(tenants: &[(&str, String)]) -> Store {
        let s = Store::in_memory();
        for (t, identity) in tenants {
            s.apply(t, &policy(t, identity), "test").unwrap();
        }
        s
    }

    fn who(
        s: &Store,
        auth: Option<&str>,
        headers: &[(&str, &str)],
        peer: &str,
    ) -> Result<Option<Identity>, crate::BadCredentials> {
        let lookup = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        s.identify(&IdentityInput {
            proxy_authorization: auth.map(str::as_bytes),
            header: &lookup,
            peer: Some(peer.parse::<IpAddr>().unwrap()),
        })
    }

    fn tenant(r: Result<Option<Identity>, crate::BadCredentials>) -> Option<String> {
        r.unwrap().map(|i| i.tenant)
    }

    #[test]
    fn the_same_sources_resolve_the_same_way_whatever_order_the_tenants_arrived_in() {
        let cidr = |c: &str| format!("  cidrs: [{{cidr: \"{c}\"}}]\n");
        let header = "  trusted_header: {user_header: X-User, from_cidrs: [10.0.0.0/8]}\n";
        let tenants = [
            ("zeta", cidr("10.1.0.0/16") + header),
            ("alpha", cidr("10.1.0.0/16") + header),
            ("mid", cidr("10.1.2.0/24")),
        ];
        let mut reversed = tenants.clone();
        reversed.reverse();
        for order in [&tenants, &reversed] {
            let s = store(order);
            // The most specific network wins across tenants.
            assert_eq!(
                tenant(who(&s, None, &[], "10.1.2.3")).as_deref(),
                Some("mid")
            );
            // The same network in two tenants: the first in name order, every time.
            assert_eq!(
                tenant(who(&s, None, &[], "10.1.9.9")).as_deref(),
                Some("alpha")
            );
            // A trusted header beats an address, with the same tie-break.
            let i = who(&s, None, &[("x-user", "ana")], "10.1.2.3")
                .unwrap()
                .unwrap();
            assert_eq!((i.tenant.as_str(), i.method), ("alpha", "header"));
            assert_eq!(i.user.as_deref(), Some("ana"));
            // No source matches.
            assert_eq!(tenant(who(&s, None, &[], "192.0.2.1")), None);
            let overlaps = s.identity_overlaps();
            assert_eq!(overlaps.len(), 2, "{overlaps:?}");
            assert!(overlaps[0].contains("`alpha` and `zeta` both list source CIDR 10.1.0.0/16"));
            assert!(overlaps[1].contains("both trust an identity header from 10.0.0.0/8"));
        }
    }

    #[test]
    fn a_trusted_header_falls_through_to_the_next_tenant_that_trusts_the_address() {
        // alpha trusts the address twice over and reads another header; beta's is present.
        let s = store(&[
            (
                "alpha",
                "  trusted_header: {user_header: X-Alpha-User, from_cidrs: [10.0.0.0/8, 10.1.0.0/16]}\n"
                    .into(),
            ),
            (
                "beta",
                "  trusted_header: {user_header: X-User, from_cidrs: [10.1.2.0/24]}\n".into(),
            ),
        ]);
        let i = who(&s, None, &[("x-user", "bo")], "10.1.2.3")
            .unwrap()
            .unwrap();
        assert_eq!((i.tenant.as_str(), i.user.as_deref()), ("beta", Some("bo")));
        let i = who(
            &s,
            None,
            &[("x-alpha-user", "al"), ("x-user", "bo")],
            "10.1.2.3",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (i.tenant.as_str(), i.user.as_deref()),
            ("alpha", Some("al"))
        );
        assert_eq!(tenant(who(&s, None, &[("x-user", "bo")], "10.9.9.9")), None);
    }

    #[test]
    fn tokens_are_matched_by_username_and_secret_across_tenants() {
        let token = |user: &str, username: Option<&str>, secret: &str| {
            let username = username.map_or(String::new(), |u| format!(", username: {u}"));
            format!(
                "  tokens: [{{user: {user}{username}, secret_hash: \"{}\", groups: [eng]}}]\n",
                SecretHash::create(secret)
            )
        };
        // Three tenants' Bearer tokens: enough candidates that a verified one is remembered.
        let s = store(&[
            ("acme", token("ana", None, "acme-secret")),
            ("globex", token("bo", Some("bo"), "globex-secret")),
            ("initech", token("cy", None, "initech-secret")),
            ("umbrella", token("di", None, "umbrella-secret")),
        ]);
        let i = who(&s, Some("Bearer acme-secret"), &[], "192.0.2.1")
            .unwrap()
            .unwrap();
        assert_eq!(
            (i.tenant.as_str(), i.user.as_deref(), i.method),
            ("acme", Some("ana"), "token")
        );
        assert_eq!(i.groups, ["eng"]);
        use base64::Engine as _;
        let basic = |u: &str, p: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        };
        let basic_bo = basic("bo", "globex-secret");
        assert_eq!(
            tenant(who(&s, Some(&basic_bo), &[], "192.0.2.1")).as_deref(),
            Some("globex")
        );
        // The right secret under another username, or a Bearer token that is a Basic one's
        // secret, matches nothing; a malformed header is refused.
        let basic_wrong = basic("ana", "acme-secret");
        assert_eq!(tenant(who(&s, Some(&basic_wrong), &[], "192.0.2.1")), None);
        assert_eq!(
            tenant(who(&s, Some("Bearer globex-secret"), &[], "192.0.2.1")),
            None
        );
        assert!(who(&s, Some("Digest x"), &[], "192.0.2.1").is_err());
        // A resent credential is answered from the verified memory, the same way.
        for _ in 0..3 {
            let again = who(&s, Some("Bearer acme-secret"), &[], "192.0.2.1");
            assert_eq!(again.unwrap(), Some(i.clone()));
        }
        // Revoking the token (a new version without it) ends it at once, remembered or not.
        s.apply(
            "acme",
            &policy("acme", &token("ana", None, "new-secret")),
            "t",
        )
        .unwrap();
        assert_eq!(
            tenant(who(&s, Some("Bearer acme-secret"), &[], "192.0.2.1")),
            None
        );
        assert_eq!(
            tenant(who(&s, Some("Bearer new-secret"), &[], "192.0.2.1")).as_deref(),
            Some("acme")
        );
        // The revoked token, retried, stays refused (now from the rejected memory); a policy
        // that grants it again is a new index, so it is checked afresh and accepted.
        for _ in 0..3 {
            assert_eq!(
                tenant(who(&s, Some("Bearer acme-secret"), &[], "192.0.2.1")),
                None
            );
        }
        s.apply(
            "acme",
            &policy("acme", &token("ana", None, "acme-secret")),
            "t",
        )
        .unwrap();
        assert_eq!(
            tenant(who(&s, Some("Bearer acme-secret"), &[], "192.0.2.1")).as_deref(),
            Some("acme")
        );
    }

    #[test]
    fn a_refused_credential_is_remembered_within_a_bound_and_never_shadows_a_good_one() {
        let token = |secret: &str| {
            format!(
                "  tokens: [{{user: u, secret_hash: \"{}\"}}]\n",
                SecretHash::create(secret)
            )
        };
        let s = store(&[
            ("a", token("a-secret")),
            ("b", token("b-secret")),
            ("c", token("c-secret")),
        ]);
        let d = Directory::build(["a", "b", "c"].map(|t| s.get(t)));
        let ask = |auth: &str| {
            let none = |_: &str| None;
            let input = IdentityInput {
                proxy_authorization: Some(auth.as_bytes()),
                header: &none,
                peer: None,
            };
            d.identify(&input).unwrap().map(|i| i.tenant)
        };
        assert_eq!(ask("Bearer stale"), None);
        assert_eq!(ask("Bearer stale"), None);
        assert_eq!((d.rejected.len(), d.verified.len()), (1, 0));
        assert_eq!(ask("Bearer b-secret").as_deref(), Some("b"));
        assert_eq!((d.rejected.len(), d.verified.len()), (1, 1));
        // Junk past the bound starts the memory over; it never grows past it, and good
        // credentials still verify.
        for n in 0..REJECTED_MAX + 10 {
            assert_eq!(ask(&format!("Bearer junk-{n}")), None);
        }
        assert!(d.rejected.len() <= REJECTED_MAX);
        assert_eq!(ask("Bearer c-secret").as_deref(), Some("c"));
    }

    proptest::proptest! {
        /// The prefix map answers as a scan of every network would: most specific first, then
        /// insertion order; IPv4-mapped IPv6 peers match IPv4 networks.
        #[test]
        fn the_prefix_map_agrees_with_a_linear_scan(
            nets in proptest::collection::vec((proptest::prelude::any::<u32>(), 0u8..=32), 1..40),
            // Near some network's address (a few low bits flipped), so that most peers match.
            peers in proptest::collection::vec((0usize..40, proptest::prelude::any::<u32>(), 0u32..32), 1..40),
            mapped in proptest::prelude::any::<bool>(),
        ) {
            let cidrs: Vec<Cidr> = nets
                .iter()
                .map(|(a, len)| Cidr::parse(&format!("{}/{len}", std::net::Ipv4Addr::from(*a))).unwrap())
                .collect();
            let map = PrefixMap::build(cidrs.iter().copied().zip(0..));
            for (k, bits, shift) in peers {
                let v4 = std::net::Ipv4Addr::from(nets[k % nets.len()].0 ^ (bits >> shift));
                let ip = if mapped { IpAddr::V6(v4.to_ipv6_mapped()) } else { IpAddr::V4(v4) };
                let got: Vec<usize> = map.matches(ip).copied().collect();
                let mut want: Vec<usize> = (0..cidrs.len()).filter(|&i| cidrs[i].contains(ip)).collect();
                want.sort_by_key(|&i| std::cmp::Reverse(cidrs[i].prefix_len()));
                proptest::prop_assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn a_new_version_replaces_the_tenants_sources() {
        let s = store(&[("acme", "  cidrs: [{cidr: \"10.0.0.0/8\"}]\n".into())]);
        assert_eq!(
            tenant(who(&s, None, &[], "10.2.3.4")).as_deref(),
            Some("acme")
        );
        s.apply(
            "acme",
            &policy("acme", "  cidrs: [{cidr: \"172.16.0.0/12\"}]\n"),
            "t",
        )
        .unwrap();
        assert_eq!(tenant(who(&s, None, &[], "10.2.3.4")), None);
        assert_eq!(
            tenant(who(&s, None, &[], "172.16.0.9")).as_deref(),
            Some("acme")
        );
    }
}
