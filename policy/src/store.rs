//! The policy store: one current, compiled policy per tenant, versioned on disk.
//!
//! A change is parsed, validated and compiled *before* it replaces anything, so a bad policy
//! never displaces a good one. The swap is one `Arc` replacement: requests in flight keep the
//! version they started with. Every change is a new version with its author, time and diff, and
//! a rollback is a new version whose text is an old one.
//!
//! Layout: `<root>/<tenant>/v000001.yaml` … and `<root>/<tenant>/history.jsonl`.

use crate::compile::{CompiledPolicy, PolicyError};
use crate::directory::Directory;
use crate::identity::{BadCredentials, Identity, IdentityInput};
use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// Why the store could not do what was asked.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error(transparent)]
    Invalid(#[from] PolicyError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: corrupt history line: {reason}")]
    Corrupt { path: String, reason: String },
    #[error("tenant `{tenant}` has no version {version}")]
    NoSuchVersion { tenant: String, version: u64 },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// One entry of a tenant's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub tenant: String,
    pub version: u64,
    pub author: String,
    /// RFC 3339, UTC.
    pub time: String,
    /// `apply` or `rollback`.
    pub action: String,
    /// For a rollback: the version whose text was restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored: Option<u64>,
    /// Unified diff from the previous version.
    pub diff: String,
}

/// The diff recorded with a version: from the previous version's text to this one's.
pub fn unified_diff(tenant: &str, from: u64, old: &str, to: u64, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .header(&format!("{tenant} v{from}"), &format!("{tenant} v{to}"))
        .to_string()
}

/// Current policies and their history; cheap to read from every request.
#[derive(Debug, Default)]
pub struct Store {
    root: Option<PathBuf>,
    current: DashMap<String, Arc<CompiledPolicy>>,
    defaults: DashMap<String, Arc<CompiledPolicy>>,
    history: DashMap<String, Vec<VersionInfo>>,
    /// Every tenant's identity sources, rebuilt by each writer after it swaps a policy in.
    directory: arc_swap::ArcSwap<Directory>,
    /// Serializes writers; readers never wait.
    write: std::sync::Mutex<()>,
}

/// Now, as policy versions record it (RFC 3339, UTC).
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Store {
    /// An in-memory store (for `promptwall scan` and tests).
    pub fn in_memory() -> Self {
        Store::default()
    }

    /// Opens (or creates) the store under `root` and loads every tenant's latest version.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(root).map_err(io(root))?;
        let store = Store {
            root: Some(root.to_path_buf()),
            ..Store::default()
        };
        for entry in std::fs::read_dir(root).map_err(io(root))? {
            let dir = entry.map_err(io(root))?.path();
            if !dir.is_dir() {
                continue;
            }
            let hist_path = dir.join("history.jsonl");
            let Ok(text) = std::fs::read_to_string(&hist_path) else {
                continue;
            };
            let mut hist = Vec::new();
            for (n, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let v: VersionInfo =
                    serde_json::from_str(line).map_err(|e| StoreError::Corrupt {
                        path: format!("{}:{}", hist_path.display(), n + 1),
                        reason: e.to_string(),
                    })?;
                hist.push(v);
            }
            let Some(last) = hist.last() else { continue };
            let file = dir.join(format!("v{:06}.yaml", last.version));
            let src = std::fs::read_to_string(&file).map_err(io(&file))?;
            let mut p = CompiledPolicy::from_yaml(&file.display().to_string(), &src)?;
            p.version = last.version;
            store.current.insert(p.tenant().to_string(), Arc::new(p));
            store.history.insert(last.tenant.clone(), hist);
        }
        store.reindex();
        Ok(store)
    }

    /// The policy for `tenant`: its current version, or the embedded default.
    pub fn get(&self, tenant: &str) -> Arc<CompiledPolicy> {
        if let Some(p) = self.current.get(tenant) {
            return p.clone();
        }
        self.defaults
            .entry(tenant.to_string())
            .or_insert_with(|| Arc::new(CompiledPolicy::default_for(tenant)))
            .clone()
    }

    /// Tenants with a policy of their own.
    pub fn tenants(&self) -> Vec<String> {
        let mut t: Vec<String> = self.current.iter().map(|e| e.key().clone()).collect();
        t.sort();
        t
    }

    /// A tenant's versions, oldest first.
    pub fn history(&self, tenant: &str) -> Vec<VersionInfo> {
        self.history
            .get(tenant)
            .map(|h| h.clone())
            .unwrap_or_default()
    }

    /// Validates, compiles and (if it differs from the current one) installs a new version.
    /// Returns the version now current.
    pub fn apply(&self, origin: &str, text: &str, author: &str) -> Result<VersionInfo, StoreError> {
        self.install(origin, text, author, "apply", None)
    }

    /// Makes an old version current again, as a new version.
    pub fn rollback(
        &self,
        tenant: &str,
        version: u64,
        author: &str,
    ) -> Result<VersionInfo, StoreError> {
        let text = self.version_text(tenant, version)?;
        self.install(
            &format!("{tenant} v{version}"),
            &text,
            author,
            "rollback",
            Some(version),
        )
    }

    /// A unified diff between two stored versions of a tenant's policy.
    pub fn diff(&self, tenant: &str, from: u64, to: u64) -> Result<String, StoreError> {
        let (old, new) = (
            self.version_text(tenant, from)?,
            self.version_text(tenant, to)?,
        );
        Ok(similar::TextDiff::from_lines(&old, &new)
            .unified_diff()
            .header(&format!("{tenant} v{from}"), &format!("{tenant} v{to}"))
            .to_string())
    }

    /// A unified diff from the running version to `draft` (what applying it would change).
    pub fn diff_draft(&self, tenant: &str, draft: &str) -> String {
        let running = self.get(tenant);
        similar::TextDiff::from_lines(running.source.as_str(), draft)
            .unified_diff()
            .header(
                &format!("{tenant} v{} (running)", running.version),
                &format!("{tenant} draft"),
            )
            .to_string()
    }

    /// The YAML of one stored version.
    pub fn version_text(&self, tenant: &str, version: u64) -> Result<String, StoreError> {
        let missing = || StoreError::NoSuchVersion {
            tenant: tenant.to_string(),
            version,
        };
        if !self.history(tenant).iter().any(|v| v.version == version) {
            return Err(missing());
        }
        match &self.root {
            Some(root) => {
                let f = root.join(tenant).join(format!("v{version:06}.yaml"));
                std::fs::read_to_string(&f).map_err(io(&f))
            }
            None => match self.current.get(tenant) {
                Some(p) if p.version == version => Ok(p.source.clone()),
                _ => Err(missing()),
            },
        }
    }

    fn install(
        &self,
        origin: &str,
        text: &str,
        author: &str,
        action: &str,
        restored: Option<u64>,
    ) -> Result<VersionInfo, StoreError> {
        let mut compiled = CompiledPolicy::from_yaml(origin, text)?;
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let tenant = compiled.tenant().to_string();
        let previous = self.current.get(&tenant).map(|p| p.clone());
        if let Some(prev) = &previous {
            if prev.source == text {
                return Ok(self
                    .history(&tenant)
                    .last()
                    .cloned()
                    .expect("a current policy has history"));
            }
        }
        let prev_version = previous.as_ref().map_or(0, |p| p.version);
        let version = prev_version + 1;
        let old_text = previous.as_ref().map_or("", |p| p.source.as_str());
        let diff = unified_diff(&tenant, prev_version, old_text, version, text);
        let info = VersionInfo {
            tenant: tenant.clone(),
            version,
            author: author.to_string(),
            time: now_rfc3339(),
            action: action.to_string(),
            restored,
            diff,
        };
        self.persist(&info, text)?;
        compiled.version = version;
        self.current.insert(tenant.clone(), Arc::new(compiled));
        self.reindex();
        self.history.entry(tenant).or_default().push(info.clone());
        Ok(info)
    }

    /// Writes a version's text and history line (durably) under the store's root, if any.
    fn persist(&self, info: &VersionInfo, text: &str) -> Result<(), StoreError> {
        let Some(root) = &self.root else {
            return Ok(());
        };
        let dir = root.join(&info.tenant);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let file = dir.join(format!("v{:06}.yaml", info.version));
        let tmp = dir.join(format!(".v{:06}.yaml.tmp", info.version));
        std::fs::write(&tmp, text).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &file).map_err(io(&file))?;
        let hist = dir.join("history.jsonl");
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&hist)
            .map_err(io(&hist))?;
        let line = serde_json::to_string(info).expect("version info serializes");
        writeln!(f, "{line}").map_err(io(&hist))?;
        f.sync_all().map_err(io(&hist))
    }

    /// Installs a version exactly as a shared store (fleet mode) numbered it, when it is not
    /// the current one already: compiled first (a bad text never displaces a good policy),
    /// then cached on disk, then swapped in. Returns whether anything changed.
    pub fn install_version(&self, info: &VersionInfo, text: &str) -> Result<bool, StoreError> {
        let mut compiled =
            CompiledPolicy::from_yaml(&format!("{} v{}", info.tenant, info.version), text)?;
        if compiled.tenant() != info.tenant {
            return Err(StoreError::Corrupt {
                path: format!("{} v{}", info.tenant, info.version),
                reason: format!("the text names tenant `{}`", compiled.tenant()),
            });
        }
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cur) = self.current.get(&info.tenant) {
            if cur.version == info.version && cur.source == text {
                return Ok(false);
            }
        }
        self.persist(info, text)?;
        compiled.version = info.version;
        self.current.insert(info.tenant.clone(), Arc::new(compiled));
        self.reindex();
        let mut hist = self.history.entry(info.tenant.clone()).or_default();
        hist.retain(|v| v.version != info.version);
        hist.push(info.clone());
        Ok(true)
    }

    /// Applies every `*.yaml` in `dir` that differs from the stored version.
    pub fn seed_from_dir(&self, dir: &Path, author: &str) -> Result<Vec<VersionInfo>, StoreError> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        let mut out = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(io(&f))?;
            out.push(self.apply(&f.display().to_string(), &text, author)?);
        }
        Ok(out)
    }

    /// Rebuilds the identity index from the current policies; callers hold the write lock
    /// (or own the store, while opening it).
    fn reindex(&self) {
        let policies = self.current.iter().map(|e| e.value().clone());
        self.directory.store(Arc::new(Directory::build(policies)));
    }

    /// Recognises the requester from every tenant's identity sources: credentials first, then a
    /// trusted header from a trusted address, then the most specific source CIDR.
    /// `Ok(None)`: nothing matched (the caller may try its own credentials or a default).
    /// Reads an index built when policies change: a source address, a trusted header or a
    /// credential seen before costs the same whatever the number of tenants (a credential that
    /// matches nothing still costs a salted hash per candidate token), and the answer never
    /// depends on hash order (see [`Store::identity_overlaps`]).
    pub fn identify(&self, input: &IdentityInput<'_>) -> Result<Option<Identity>, BadCredentials> {
        self.directory.load().identify(input)
    }

    /// Identity sources of different tenants that match the same requests, where only the
    /// tie-break (tenant name order) decides who they are: worth a warning to the operator.
    pub fn identity_overlaps(&self) -> Vec<String> {
        self.directory.load().overlaps()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = "tenant: acme\nrules:\n  - {id: b, when: {category: secret}, action: block}\n";
    const V2: &str = "tenant: acme\nrules:\n  - {id: b, when: {category: secret}, action: log}\n";

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("pw-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn versions_persist_with_author_diff_and_rollback() {
        let root = tmp("persist");
        let s = Store::open(&root).unwrap();
        assert_eq!(s.apply("v1.yaml", V1, "alice").unwrap().version, 1);
        assert_eq!(
            s.apply("v1.yaml", V1, "alice").unwrap().version,
            1,
            "unchanged text is not a new version"
        );
        let v2 = s.apply("v2.yaml", V2, "bob").unwrap();
        assert_eq!((v2.version, v2.author.as_str()), (2, "bob"));
        assert!(
            v2.diff
                .contains("-  - {id: b, when: {category: secret}, action: block}"),
            "{}",
            v2.diff
        );
        let rb = s.rollback("acme", 1, "carol").unwrap();
        assert_eq!(
            (rb.version, rb.restored, rb.action.as_str()),
            (3, Some(1), "rollback")
        );
        drop(s);
        let reopened = Store::open(&root).unwrap();
        assert_eq!(reopened.get("acme").version, 3);
        assert_eq!(reopened.get("acme").source, V1);
        assert_eq!(reopened.history("acme").len(), 3);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_bad_policy_never_replaces_a_good_one() {
        let s = Store::in_memory();
        s.apply("v1", V1, "a").unwrap();
        let held = s.get("acme");
        for bad in [
            "tenant: acme\nrules: [ {id: x, when: {categry: secret}, action: block} ]\n",
            "tenant: acme\nrules:\n  - {id: x, when: {category: secrets}, action: block}\n",
            "tenant: acme\ncustom_detectors:\n  - {id: c, category: confidential, regexes: ['(unclosed']}\n",
            "tenant: acme\nallowlist: {entity: email}\n",
            "tenant: [acme\n",
        ] {
            let e = s.apply("bad.yaml", bad, "mallory").unwrap_err().to_string();
            assert!(e.starts_with("bad.yaml"), "{e}");
            assert_eq!(s.get("acme").version, 1, "still v1 after {bad:?}");
        }
        assert!(Arc::ptr_eq(&held, &s.get("acme")));
    }

    #[test]
    fn unknown_tenants_get_the_default_policy() {
        let s = Store::in_memory();
        assert_eq!(s.get("newco").tenant(), "newco");
        assert_eq!(s.get("newco").version, 0);
    }
}
