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

/// The file naming the running server's pid, for `promptwall policy apply` to signal a reload.
pub const PID_FILE: &str = "promptwall.pid";

/// Records this process as the running server.
pub fn write_pid_file(state_dir: &Path) -> anyhow::Result<()> {
    let path = state_dir.join(PID_FILE);
    std::fs::write(&path, format!("{}\n", std::process::id()))
        .with_context(|| format!("writing {}", path.display()))
}

/// The pid of the running server, if the pid file names a live `promptwall` process.
pub fn running_server(state_dir: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(state_dir.join(PID_FILE))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    // A stale file may name a recycled pid: only signal a process that is PromptWall.
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let argv0 = cmdline.split(|b| *b == 0).next()?;
    String::from_utf8_lossy(argv0)
        .ends_with("promptwall")
        .then_some(pid)
}
