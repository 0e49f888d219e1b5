//! The pseudonym vault: each conversation's token → original-value mapping, kept for
//! `policies.pseudonym_ttl_secs` so a later turn (or its reply) is restored. One node keeps
//! it in memory; a fleet keeps it in Redis, so a conversation whose turns land on different
//! nodes keeps its pseudonyms.
//!
//! Mappings hold original values (an email, a card number), so in Redis they are stored
//! sealed: AES-256-GCM under a per-tenant key derived (HKDF-SHA256) from a master key every
//! node reads from a file or an environment variable (never from the config file itself),
//! with the record's Redis key as associated data (a record moved to another key does not
//! open), under a key name that is itself a hash of the tenant and conversation. Every call is bounded by
//! `fleet.redis.timeout_ms`; a failure is an error the caller decides on with the tenant's
//! fail mode.

use policy::Pseudonyms;
use redis::AsyncCommands;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use std::path::Path;
use std::time::Duration;
use tokio::sync::Mutex;

/// Why the shared vault could not answer.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("Redis did not answer within {0} ms")]
    Timeout(u64),
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error(
        "a stored mapping does not open with this node's vault key (another key, or tampered)"
    )]
    Sealed,
}

/// Why the vault could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum VaultSetupError {
    #[error("fleet.redis.key_file {path}: {why}")]
    Key { path: String, why: String },
    #[error("fleet.redis.url: {0}")]
    Url(redis::RedisError),
}

/// Where mappings live.
pub enum Vault {
    Local(policy::Vault),
    Redis(Box<RedisVault>),
}

impl Vault {
    /// The mapping stored for `tenant`'s `conversation` (empty when new or expired).
    pub async fn get(&self, tenant: &str, conversation: &str) -> Result<Pseudonyms, VaultError> {
        match self {
            Vault::Local(v) => Ok(v.get(&local_key(tenant, conversation)).unwrap_or_default()),
            Vault::Redis(r) => r.get(tenant, conversation).await,
        }
    }

    /// Keeps `mapping` for `ttl`.
    pub async fn put(
        &self,
        tenant: &str,
        conversation: &str,
        mapping: &Pseudonyms,
        ttl: Duration,
    ) -> Result<(), VaultError> {
        if mapping.is_empty() {
            return Ok(());
        }
        match self {
            Vault::Local(v) => {
                v.put(&local_key(tenant, conversation), mapping.clone(), ttl);
                Ok(())
            }
            Vault::Redis(r) => r.put(tenant, conversation, mapping, ttl).await,
        }
    }

    /// Whether mappings are shared (Redis) rather than this node's own.
    pub fn is_shared(&self) -> bool {
        matches!(self, Vault::Redis(_))
    }
}

fn local_key(tenant: &str, conversation: &str) -> String {
    format!("{tenant}\u{0}{conversation}")
}

/// Mappings in Redis, sealed.
pub struct RedisVault {
    client: redis::Client,
    /// One multiplexed connection, made on first use and remade after a failure.
    conn: Mutex<Option<redis::aio::MultiplexedConnection>>,
    master: ring::hkdf::Prk,
    timeout: Duration,
}

/// Where the master key comes from.
pub enum KeySource<'a> {
    File(&'a Path),
    Env(&'a str),
}

impl RedisVault {
    /// A vault at `url` sealed with the key in `key_file`; nothing is contacted yet, so a
    /// node starts while Redis is down (requests then follow their tenant's fail mode).
    pub fn new(url: &str, key: KeySource<'_>, timeout: Duration) -> Result<Self, VaultSetupError> {
        let master = match key {
            KeySource::File(path) => read_key(path)?,
            KeySource::Env(var) => {
                let hex = std::env::var(var).map_err(|_| VaultSetupError::Key {
                    path: format!("${var}"),
                    why: "is not set".into(),
                })?;
                parse_key(&hex).map_err(|why| VaultSetupError::Key {
                    path: format!("${var}"),
                    why,
                })?
            }
        };
        Ok(RedisVault {
            client: redis::Client::open(url).map_err(VaultSetupError::Url)?,
            conn: Mutex::new(None),
            master: ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"promptwall vault v1")
                .extract(&master),
            timeout,
        })
    }

    /// The tenant's own sealing key: one tenant's key opens nothing of another's.
    fn tenant_key(&self, tenant: &str) -> LessSafeKey {
        let info = [tenant.as_bytes()];
        let okm = self
            .master
            .expand(&info, &AES_256_GCM)
            .expect("HKDF yields one AES-256 key");
        LessSafeKey::new(UnboundKey::from(okm))
    }

    fn redis_key(tenant: &str, conversation: &str) -> String {
        let d = ring::digest::digest(
            &ring::digest::SHA256,
            local_key(tenant, conversation).as_bytes(),
        );
        format!(
            "promptwall:vault:v1:{}",
            policy::identity::hex_encode(d.as_ref())
        )
    }

    async fn bounded<T>(
        &self,
        op: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, VaultError> {
        match tokio::time::timeout(self.timeout, op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                // The connection may be broken: make a new one next time.
                *self.conn.lock().await = None;
                Err(e.into())
            }
            Err(_) => {
                *self.conn.lock().await = None;
                Err(VaultError::Timeout(self.timeout.as_millis() as u64))
            }
        }
    }

    async fn connection(&self) -> Result<redis::aio::MultiplexedConnection, VaultError> {
        if let Some(c) = self.conn.lock().await.as_ref() {
            return Ok(c.clone());
        }
        let c = self
            .bounded(self.client.get_multiplexed_async_connection())
            .await?;
        *self.conn.lock().await = Some(c.clone());
        Ok(c)
    }

    async fn get(&self, tenant: &str, conversation: &str) -> Result<Pseudonyms, VaultError> {
        let key = Self::redis_key(tenant, conversation);
        let mut c = self.connection().await?;
        let sealed: Option<Vec<u8>> = self.bounded(c.get(&key)).await?;
        match sealed {
            None => Ok(Pseudonyms::default()),
            Some(s) => open(&self.tenant_key(tenant), &key, s),
        }
    }

    async fn put(
        &self,
        tenant: &str,
        conversation: &str,
        mapping: &Pseudonyms,
        ttl: Duration,
    ) -> Result<(), VaultError> {
        let key = Self::redis_key(tenant, conversation);
        let sealed = seal(&self.tenant_key(tenant), &key, mapping);
        let mut c = self.connection().await?;
        let ms = ttl.as_millis().max(1) as u64;
        self.bounded(c.pset_ex::<_, _, ()>(&key, sealed, ms)).await
    }
}

fn read_key(path: &Path) -> Result<Vec<u8>, VaultSetupError> {
    let err = |why: String| VaultSetupError::Key {
        path: path.display().to_string(),
        why,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| err(e.to_string()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(err(format!(
                "is readable by others (mode {:o}); chmod 600 it",
                mode & 0o777
            )));
        }
    }
    parse_key(&text).map_err(err)
}

/// 64 hex digits → the 32-byte master key.
fn parse_key(text: &str) -> Result<Vec<u8>, String> {
    let hex = text.trim();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("must hold 64 hex digits (32 bytes), e.g. from `openssl rand -hex 32`".into());
    }
    Ok((0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("checked hex"))
        .collect())
}

/// `nonce || ciphertext+tag` of the mapping's pairs (JSON), bound to `key_name`.
fn seal(key: &LessSafeKey, key_name: &str, mapping: &Pseudonyms) -> Vec<u8> {
    let pairs: Vec<(&str, &str)> = mapping.iter().collect();
    let mut data = serde_json::to_vec(&pairs).expect("pairs serialize");
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .expect("the system RNG works");
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(key_name.as_bytes()),
        &mut data,
    )
    .expect("sealing a bounded buffer works");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&data);
    out
}

fn open(key: &LessSafeKey, key_name: &str, mut sealed: Vec<u8>) -> Result<Pseudonyms, VaultError> {
    if sealed.len() < NONCE_LEN {
        return Err(VaultError::Sealed);
    }
    let mut body = sealed.split_off(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(&sealed).map_err(|_| VaultError::Sealed)?;
    let plain = key
        .open_in_place(nonce, Aad::from(key_name.as_bytes()), &mut body)
        .map_err(|_| VaultError::Sealed)?;
    let pairs: Vec<(String, String)> =
        serde_json::from_slice(plain).map_err(|_| VaultError::Sealed)?;
    Ok(pairs.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[byte; 32]).unwrap())
    }

    #[test]
    fn a_sealed_mapping_opens_only_with_its_key_and_under_its_name() {
        let m: Pseudonyms = [("<EMAIL_1>", "ana@globex.example")].into_iter().collect();
        let sealed = seal(&key(1), "k1", &m);
        assert!(!sealed.windows(5).any(|w| w == b"globe"), "no plaintext");
        assert_eq!(open(&key(1), "k1", sealed.clone()).unwrap(), m);
        assert!(matches!(
            open(&key(2), "k1", sealed.clone()),
            Err(VaultError::Sealed)
        ));
        assert!(matches!(
            open(&key(1), "k2", sealed),
            Err(VaultError::Sealed)
        ));
        assert!(matches!(
            open(&key(1), "k1", vec![1, 2]),
            Err(VaultError::Sealed)
        ));
    }

    #[test]
    fn each_tenant_seals_with_its_own_key() {
        let v = RedisVault {
            client: redis::Client::open("redis://127.0.0.1:1/").unwrap(),
            conn: Mutex::new(None),
            master: ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"promptwall vault v1")
                .extract(&[7u8; 32]),
            timeout: Duration::from_millis(10),
        };
        let m: Pseudonyms = [("<EMAIL_1>", "ana@globex.example")].into_iter().collect();
        let sealed = seal(&v.tenant_key("acme"), "k", &m);
        assert_eq!(open(&v.tenant_key("acme"), "k", sealed.clone()).unwrap(), m);
        assert!(open(&v.tenant_key("globex"), "k", sealed).is_err());
    }

    #[test]
    fn the_key_file_must_be_private_and_well_formed() {
        let dir = std::env::temp_dir().join(format!("pw-vault-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("key");
        std::fs::write(&p, "ab".repeat(32)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = read_key(&p).err().unwrap().to_string();
            assert!(e.contains("chmod 600"), "{e}");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert_eq!(read_key(&p).unwrap(), vec![0xab; 32]);
        std::fs::write(&p, "not hex").unwrap();
        assert!(read_key(&p)
            .err()
            .unwrap()
            .to_string()
            .contains("64 hex digits"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
