//! A bounded cache of per-window results, so text a client resends (the system prompt and the
//! whole history, on every chat turn) costs the model nothing the second time.
//!
//! - Keys are a keyed hash (HMAC-SHA-256, truncated to 128 bits) of a scope (the tenant) and
//!   the window's text, under a key drawn at start and never stored: the cache holds no text,
//!   and nobody without the key can tell which texts it holds or make two texts collide.
//! - Values are what the window settled to: the first stage's scores, and the encoder's when
//!   it read the window. A window's text fully determines both, so an entry never goes stale;
//!   a reloaded model comes with a new cache.
//! - Bounded by entry count (S3-FIFO eviction from `quick_cache`); about 100 bytes per entry.

use crate::keyed::KeyedHash;
use std::sync::Arc;

/// What one window settled to.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The first stage's per-label scores.
    pub first: Box<[f32]>,
    /// The encoder's per-label scores; `None` when the first stage settled the window.
    pub model: Option<Box<[f32]>>,
}

/// The keyed, bounded window cache; share it behind the classifier's `&self`.
pub struct WindowCache {
    key: KeyedHash,
    map: Option<quick_cache::sync::Cache<u128, Arc<Entry>>>,
}

impl WindowCache {
    /// A cache of at most `entries` windows (0 turns it off) under a fresh random key.
    pub fn new(entries: usize) -> Result<Self, String> {
        let key = KeyedHash::generate()
            .ok_or_else(|| "no system randomness for the cache key".to_string())?;
        Ok(WindowCache {
            key,
            map: (entries > 0).then(|| quick_cache::sync::Cache::new(entries)),
        })
    }

    /// The keyed hash of `text` within `scope`; the scope is length-prefixed so that no
    /// (scope, text) pair can spell another.
    pub fn key(&self, scope: &str, text: &str) -> u128 {
        self.key.of(scope, text)
    }

    /// Whether the cache is on.
    pub fn enabled(&self) -> bool {
        self.map.is_some()
    }

    /// The entry for `key`, if held.
    pub fn get(&self, key: u128) -> Option<Arc<Entry>> {
        self.map.as_ref()?.get(&key)
    }

    /// Remembers what a window settled to.
    pub fn insert(&self, key: u128, entry: Entry) {
        if let Some(m) = &self.map {
            m.insert(key, Arc::new(entry));
        }
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.map.as_ref().map_or(0, |m| m.len())
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(v: f32) -> Entry {
        Entry {
            first: vec![v].into(),
            model: None,
        }
    }

    #[test]
    fn keys_depend_on_scope_text_and_the_secret_key() {
        let a = WindowCache::new(8).unwrap();
        let b = WindowCache::new(8).unwrap();
        assert_eq!(a.key("t", "hello"), a.key("t", "hello"));
        assert_ne!(a.key("t", "hello"), a.key("u", "hello"));
        assert_ne!(a.key("t", "hello"), a.key("t", "hellp"));
        // The scope is length-prefixed: ("ab", "c") and ("a", "bc") differ.
        assert_ne!(a.key("ab", "c"), a.key("a", "bc"));
        assert_ne!(
            a.key("t", "hello"),
            b.key("t", "hello"),
            "keys are per instance"
        );
    }

    #[test]
    fn the_cache_stays_bounded_and_can_be_off() {
        let c = WindowCache::new(64).unwrap();
        for i in 0..10_000u32 {
            c.insert(c.key("t", &i.to_string()), entry(i as f32));
        }
        assert!(c.len() <= 64 + 8, "{} entries", c.len());
        let k = c.key("t", "fresh");
        c.insert(k, entry(1.0));
        assert_eq!(c.get(k).unwrap().first[0], 1.0);
        let off = WindowCache::new(0).unwrap();
        off.insert(k, entry(1.0));
        assert!(!off.enabled() && off.get(k).is_none() && off.is_empty());
    }
}
