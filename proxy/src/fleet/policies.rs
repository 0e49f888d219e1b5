//! Policies in PostgreSQL (fleet mode): every version, with its author, time and diff, lives
//! in one table that all nodes read. A change (API, console or CLI) is a transaction that
//! numbers the new version under a per-tenant lock and then `NOTIFY`s; every node `LISTEN`s,
//! installs the new version into its local store (which is also its on-disk cache) and swaps
//! it in atomically, as a local apply does. A node that loses PostgreSQL keeps enforcing its
//! last good versions, reports `degraded` on `/readyz` with the reason, and catches up with a
//! full sync when the database is back. Schema migrations are versioned and run on start.

use futures_util::StreamExt;
use policy::{Store, VersionInfo};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_postgres::{AsyncMessage, Client, NoTls};

/// The channel changes are announced on (payload: the tenant).
const CHANNEL: &str = "promptwall_policies";

/// Migrations, in order; each runs once, recorded in `promptwall_migrations`.
const MIGRATIONS: &[(i32, &str)] = &[(
    1,
    "CREATE TABLE policy_versions (
        tenant TEXT NOT NULL,
        version BIGINT NOT NULL,
        yaml TEXT NOT NULL,
        author TEXT NOT NULL,
        time TEXT NOT NULL,
        action TEXT NOT NULL,
        restored BIGINT,
        diff TEXT NOT NULL,
        PRIMARY KEY (tenant, version)
    )",
)];

/// Why the shared policy store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("PostgreSQL did not answer within {0} ms")]
    Timeout(u64),
    #[error("PostgreSQL: {0}")]
    Db(#[from] tokio_postgres::Error),
    #[error(transparent)]
    Policy(#[from] policy::StoreError),
}

/// The shared policy store, and whether this node is in step with it.
pub struct PgPolicies {
    config: tokio_postgres::Config,
    timeout: Duration,
    /// Why this node is not following PostgreSQL right now (`None`: in step).
    degraded: Mutex<Option<String>>,
}

impl PgPolicies {
    /// From a connection string (`host=... user=... dbname=...` or a `postgres://` URL);
    /// nothing is contacted yet.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, tokio_postgres::Error> {
        let mut config: tokio_postgres::Config = url.parse()?;
        config.connect_timeout(timeout);
        Ok(PgPolicies {
            config,
            timeout,
            degraded: Mutex::new(Some("not yet connected to PostgreSQL".into())),
        })
    }

    /// Why this node is degraded, if it is.
    pub fn degraded(&self) -> Option<String> {
        self.degraded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_degraded(&self, why: Option<String>) {
        *self.degraded.lock().unwrap_or_else(|e| e.into_inner()) = why;
    }

    async fn bounded<T, E: Into<PgError>>(
        &self,
        op: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, PgError> {
        tokio::time::timeout(self.timeout, op)
            .await
            .map_err(|_| PgError::Timeout(self.timeout.as_millis() as u64))?
            .map_err(Into::into)
    }

    /// A connection for one operation (changes are rare); its driver runs on its own task.
    async fn connect(&self) -> Result<Client, PgError> {
        let (client, connection) = self.bounded(self.config.connect(NoTls)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }

    /// Runs the migrations not yet recorded (under a lock, so nodes starting together agree).
    async fn migrate(&self, client: &mut Client) -> Result<(), PgError> {
        let tx = self.bounded(client.transaction()).await?;
        self.bounded(tx.batch_execute(
            "SET LOCAL client_min_messages = warning;
             SELECT pg_advisory_xact_lock(4242001);
             CREATE TABLE IF NOT EXISTS promptwall_migrations (version INT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());",
        ))
        .await?;
        for (version, sql) in MIGRATIONS {
            let done = self
                .bounded(tx.query_opt(
                    "SELECT 1 FROM promptwall_migrations WHERE version = $1",
                    &[version],
                ))
                .await?;
            if done.is_none() {
                self.bounded(tx.batch_execute(sql)).await?;
                self.bounded(tx.execute(
                    "INSERT INTO promptwall_migrations (version) VALUES ($1)",
                    &[version],
                ))
                .await?;
            }
        }
        self.bounded(tx.commit()).await
    }

    /// Appends a version of `text` (its tenant named inside) unless it is the current text;
    /// announces it; returns the version now current.
    pub async fn apply(&self, text: &str, author: &str) -> Result<(VersionInfo, String), PgError> {
        let compiled =
            policy::CompiledPolicy::from_yaml("policy", text).map_err(policy::StoreError::from)?;
        self.append(compiled.tenant(), text, author, "apply", None)
            .await
    }

    /// Makes `version`'s text current again, as a new version.
    pub async fn rollback(
        &self,
        tenant: &str,
        version: u64,
        author: &str,
    ) -> Result<(VersionInfo, String), PgError> {
        let text = self.version_text(tenant, version).await?;
        self.append(tenant, &text, author, "rollback", Some(version))
            .await
    }

    async fn append(
        &self,
        tenant: &str,
        text: &str,
        author: &str,
        action: &str,
        restored: Option<u64>,
    ) -> Result<(VersionInfo, String), PgError> {
        let mut client = self.connect().await?;
        self.migrate(&mut client).await?;
        let tx = self.bounded(client.transaction()).await?;
        self.bounded(tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&tenant]))
            .await?;
        let prev = self
            .bounded(tx.query_opt(
                "SELECT version, yaml, author, time, action, restored, diff FROM policy_versions WHERE tenant = $1 ORDER BY version DESC LIMIT 1",
                &[&tenant],
            ))
            .await?;
        let (prev_version, prev_text) = match &prev {
            Some(r) => (r.get::<_, i64>(0) as u64, r.get::<_, String>(1)),
            None => (0, String::new()),
        };
        if let Some(row) = prev.as_ref().filter(|_| prev_text == text) {
            return Ok((info_of(tenant, row), prev_text));
        }
        let version = prev_version + 1;
        let info = VersionInfo {
            tenant: tenant.to_string(),
            version,
            author: author.to_string(),
            time: policy::now_rfc3339(),
            action: action.to_string(),
            restored,
            diff: policy::unified_diff(tenant, prev_version, &prev_text, version, text),
        };
        self.bounded(tx.execute(
            "INSERT INTO policy_versions (tenant, version, yaml, author, time, action, restored, diff) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &info.tenant,
                &(version as i64),
                &text,
                &info.author,
                &info.time,
                &info.action,
                &restored.map(|v| v as i64),
                &info.diff,
            ],
        ))
        .await?;
        self.bounded(tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &tenant]))
            .await?;
        self.bounded(tx.commit()).await?;
        Ok((info, text.to_string()))
    }

    /// A tenant's versions, oldest first.
    pub async fn history(&self, tenant: &str) -> Result<Vec<VersionInfo>, PgError> {
        let mut client = self.connect().await?;
        self.migrate(&mut client).await?;
        let rows = self
            .bounded(client.query(
                "SELECT version, yaml, author, time, action, restored, diff FROM policy_versions WHERE tenant = $1 ORDER BY version",
                &[&tenant],
            ))
            .await?;
        Ok(rows.iter().map(|r| info_of(tenant, r)).collect())
    }

    /// The text of one version.
    pub async fn version_text(&self, tenant: &str, version: u64) -> Result<String, PgError> {
        let client = self.connect().await?;
        let row = self
            .bounded(client.query_opt(
                "SELECT yaml FROM policy_versions WHERE tenant = $1 AND version = $2",
                &[&tenant, &(version as i64)],
            ))
            .await?;
        row.map(|r| r.get(0)).ok_or_else(|| {
            PgError::Policy(policy::StoreError::NoSuchVersion {
                tenant: tenant.to_string(),
                version,
            })
        })
    }

    /// Brings `store` to every tenant's latest version (all tenants, or one).
    async fn sync(
        &self,
        client: &Client,
        store: &Store,
        tenant: Option<&str>,
    ) -> Result<usize, PgError> {
        let rows = match tenant {
            Some(t) => self
                .bounded(client.query(
                    "SELECT version, yaml, author, time, action, restored, diff, tenant FROM policy_versions WHERE tenant = $1 ORDER BY version DESC LIMIT 1",
                    &[&t],
                ))
                .await?,
            None => self
                .bounded(client.query(
                    "SELECT DISTINCT ON (tenant) version, yaml, author, time, action, restored, diff, tenant FROM policy_versions ORDER BY tenant, version DESC",
                    &[],
                ))
                .await?,
        };
        let mut changed = 0;
        for r in &rows {
            let tenant: String = r.get(7);
            let info = info_of(&tenant, r);
            let text: String = r.get(1);
            match store.install_version(&info, &text) {
                Ok(true) => {
                    changed += 1;
                    tracing::info!(tenant = %tenant, version = info.version, author = %info.author, "policy version installed from PostgreSQL");
                }
                Ok(false) => {}
                // A version this node cannot compile (a newer release's syntax) is not
                // installed: the last good one stays in force, and the node says why.
                Err(e) => {
                    tracing::error!(tenant = %tenant, version = info.version, error = %e, "policy version from PostgreSQL not installed");
                    self.set_degraded(Some(format!(
                        "policy {tenant} v{} from PostgreSQL does not compile here: {e}",
                        info.version
                    )));
                }
            }
        }
        Ok(changed)
    }

    /// On start: brings `store` to PostgreSQL's versions, then offers every policy file of
    /// `dir` (`policies.dir`) whose text differs from the one in force as a new version (so
    /// nodes started from the same files agree, and the first one records them).
    pub async fn start(&self, store: &Store, dir: Option<&std::path::Path>) -> Result<(), PgError> {
        let mut client = self.connect().await?;
        self.migrate(&mut client).await?;
        self.sync(&client, store, None).await?;
        let Some(dir) = dir else { return Ok(()) };
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| policy::StoreError::Io {
                path: dir.display().to_string(),
                source: e,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|e| policy::StoreError::Io {
                path: f.display().to_string(),
                source: e,
            })?;
            let compiled = policy::CompiledPolicy::from_yaml(&f.display().to_string(), &text)
                .map_err(policy::StoreError::from)?;
            // Against PostgreSQL's current text (the local store has seeded the file already).
            let current = self
                .bounded(client.query_opt(
                    "SELECT yaml FROM policy_versions WHERE tenant = $1 ORDER BY version DESC LIMIT 1",
                    &[&compiled.tenant()],
                ))
                .await?
                .map(|r| r.get::<_, String>(0));
            if current.as_deref() != Some(text.as_str()) {
                let (info, text) = self.apply(&text, "config").await?;
                store.install_version(&info, &text)?;
            }
        }
        Ok(())
    }

    /// Follows PostgreSQL for as long as the process runs: `LISTEN`, a full sync on every
    /// (re)connection, one tenant's sync per notification; `degraded` while disconnected.
    /// `store` returns the store in force (it may be replaced by a reload).
    pub async fn follow(self: Arc<Self>, store: impl Fn() -> Arc<Store> + Send + 'static) {
        let mut backoff = Duration::from_millis(200);
        loop {
            match self.listen_once(&store).await {
                Ok(()) => {
                    self.set_degraded(Some("connection to PostgreSQL lost".into()));
                    backoff = Duration::from_millis(200);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "policy store (PostgreSQL) unreachable; enforcing the last good versions");
                    self.set_degraded(Some(format!("policy store unreachable: {e}")));
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    async fn listen_once(
        &self,
        store: &(impl Fn() -> Arc<Store> + Send + 'static),
    ) -> Result<(), PgError> {
        let (mut client, mut connection) = self.bounded(self.config.connect(NoTls)).await?;
        let (tx, mut notes) = tokio::sync::mpsc::unbounded_channel::<String>();
        let driver = tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(m) = messages.next().await {
                match m {
                    Ok(AsyncMessage::Notification(n)) => {
                        if tx.send(n.payload().to_string()).is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        });
        self.migrate(&mut client).await?;
        self.bounded(client.batch_execute(&format!("LISTEN {CHANNEL}")))
            .await?;
        let n = self.sync(&client, &store(), None).await?;
        tracing::info!(installed = n, "in step with the policy store (PostgreSQL)");
        self.set_degraded(None);
        while let Some(tenant) = notes.recv().await {
            if let Err(e) = self.sync(&client, &store(), Some(&tenant)).await {
                tracing::warn!(tenant = %tenant, error = %e, "policy change announced but not fetched");
                break;
            }
        }
        driver.abort();
        Ok(())
    }
}

fn info_of(tenant: &str, r: &tokio_postgres::Row) -> VersionInfo {
    VersionInfo {
        tenant: tenant.to_string(),
        version: r.get::<_, i64>(0) as u64,
        author: r.get(2),
        time: r.get(3),
        action: r.get(4),
        restored: r.get::<_, Option<i64>>(5).map(|v| v as u64),
        diff: r.get(6),
    }
}
