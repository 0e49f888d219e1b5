//! The keyed hash behind the result caches: a text's identity without the text.

use ring::hmac;

/// HMAC-SHA-256 under a key drawn at start and never stored, truncated to 128 bits: nobody
/// without the key can tell which texts a cache keyed by it holds, or make two texts collide.
pub struct KeyedHash(hmac::Key);

impl KeyedHash {
    /// A fresh random key; `None` when the system has no randomness.
    pub fn generate() -> Option<Self> {
        let rng = ring::rand::SystemRandom::new();
        hmac::Key::generate(hmac::HMAC_SHA256, &rng)
            .ok()
            .map(KeyedHash)
    }

    /// The hash of `text` within `scope`; the scope is length-prefixed so that no
    /// (scope, text) pair can spell another.
    pub fn of(&self, scope: &str, text: &str) -> u128 {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(&(scope.len() as u64).to_le_bytes());
        ctx.update(scope.as_bytes());
        ctx.update(text.as_bytes());
        truncate(&ctx.sign())
    }

    /// The hash of two earlier hashes within `scope` (the boundary between two texts, known by
    /// its neighbours). Its length prefix has the top bit set, which no text's has, so a pair
    /// never hashes like a text.
    pub fn of_pair(&self, scope: &str, a: u128, b: u128) -> u128 {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(&((scope.len() as u64) | 1 << 63).to_le_bytes());
        ctx.update(scope.as_bytes());
        ctx.update(&a.to_le_bytes());
        ctx.update(&b.to_le_bytes());
        truncate(&ctx.sign())
    }
}

fn truncate(tag: &hmac::Tag) -> u128 {
    let mut k = [0u8; 16];
    k.copy_from_slice(&tag.as_ref()[..16]);
    u128::from_le_bytes(k)
}
