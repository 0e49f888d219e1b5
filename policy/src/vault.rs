//! The pseudonym vault: each conversation's token → value mapping, kept for a while so the
//! proxy can restore original values in responses.

use crate::pseudonyms::Pseudonyms;
use dashmap::DashMap;
use std::time::{Duration, Instant};

/// Pseudonym mappings kept for a while, so responses can be restored.
#[derive(Debug, Default)]
pub struct Vault {
    entries: DashMap<String, (Pseudonyms, Instant)>,
}

impl Vault {
    /// Stores a request's mappings under `id` for `ttl`.
    pub fn put(&self, id: &str, mappings: Pseudonyms, ttl: Duration) {
        if mappings.is_empty() {
            return;
        }
        self.entries
            .insert(id.to_string(), (mappings, Instant::now() + ttl));
        if self.entries.len().is_multiple_of(1024) {
            self.sweep();
        }
        if self.entries.len() > Self::MAX_ENTRIES {
            self.evict_soonest(Self::MAX_ENTRIES / 10);
        }
    }

    /// Conversations held at most; past it the ones closest to expiry go first (their later
    /// replies then pass with tokens unrestored, never with a wrong value).
    pub const MAX_ENTRIES: usize = 200_000;

    /// Drops expired entries, then the `n` that would expire soonest.
    fn evict_soonest(&self, n: usize) {
        self.sweep();
        if self.entries.len() <= Self::MAX_ENTRIES {
            return;
        }
        let mut expiries: Vec<Instant> = self.entries.iter().map(|e| e.value().1).collect();
        expiries.sort_unstable();
        if let Some(&cut) = expiries.get(n.min(expiries.len() - 1)) {
            self.entries.retain(|_, v| v.1 > cut);
        }
    }

    /// The mappings stored under `id`, unless expired.
    pub fn get(&self, id: &str) -> Option<Pseudonyms> {
        let e = self.entries.get(id)?;
        (e.1 > Instant::now()).then(|| e.0.clone())
    }

    /// Drops expired entries.
    pub fn sweep(&self) {
        let now = Instant::now();
        self.entries.retain(|_, v| v.1 > now);
    }

    /// How many request mappings are held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the vault is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_expires_entries() {
        let v = Vault::default();
        v.put(
            "req",
            [("<EMAIL_1>", "a@b.co")].into_iter().collect(),
            Duration::from_secs(60),
        );
        assert!(v.get("req").is_some());
        v.put(
            "old",
            [("<EMAIL_1>", "x")].into_iter().collect(),
            Duration::ZERO,
        );
        assert!(v.get("old").is_none());
        v.sweep();
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn a_full_vault_evicts_the_soonest_to_expire_first() {
        let v = Vault::default();
        let one = || {
            [("<EMAIL_1>", "a@b.co")]
                .into_iter()
                .collect::<Pseudonyms>()
        };
        v.put("keep", one(), Duration::from_secs(3600));
        for i in 0..Vault::MAX_ENTRIES {
            v.put(
                &format!("c{i}"),
                one(),
                Duration::from_secs(60 + i as u64 % 600),
            );
        }
        assert!(v.len() <= Vault::MAX_ENTRIES, "{}", v.len());
        assert!(v.get("keep").is_some(), "the longest-lived entry stays");
    }
}
