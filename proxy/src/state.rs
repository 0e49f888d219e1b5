//! Things kept in the state directory besides the CA: the master secret and the policy store.

use anyhow::Context;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The file holding the deployment's master secret (keyed hashes, pseudonyms).
pub const MASTER_KEY_FILE: &str = "master.key";

/// Where the versioned policy store lives.
pub fn policy_root(state_dir: &Path) -> PathBuf {
    state_dir.join("policies")
}

/// Reads the master secret, creating it (32 random bytes, mode 0600) on first start.
pub fn load_or_create_master_key(state_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = state_dir.join(MASTER_KEY_FILE);
    if !path.exists() {
        std::fs::create_dir_all(state_dir)
            .with_context(|| format!("creating {}", state_dir.display()))?;
        let mut key = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
            .map_err(|_| anyhow::anyhow!("system RNG failed"))?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        f.write_all(policy::identity::hex_encode(&key).as_bytes())?;
    }
    let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
    anyhow::ensure!(
        mode & 0o077 == 0,
        "{}: readable by group or others (mode {mode:o}); run `chmod 600 {}`",
        path.display(),
        path.display()
    );
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let text = text.trim();
    anyhow::ensure!(
        text.len() >= 32,
        "{}: too short to be a master key",
        path.display()
    );
    Ok(text.as_bytes().to_vec())
}
