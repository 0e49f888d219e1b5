//! The SQLite side of the audit log: the chained append and the connection (here), the
//! schema and its migrations (`schema`), the user and tag indexes derived out of the commit
//! path (`index`), queries and statistics (`query`), and chain verification (`verify`).

use super::event::AuditEvent;
use ring::digest;
use rusqlite::{Connection, OptionalExtension};
use std::path::Path;
use thiserror::Error;

mod index;
mod query;
mod schema;
#[cfg(test)]
pub(crate) mod tests;
mod verify;

use index::lists;
pub(super) use index::merge_indexes;
pub use query::{log_time, Activity, Destination, Filter, StoredRow};
use schema::{migrate, SCHEMA};

/// Why the audit database could not do something.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("audit database {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("audit row {seq}: {reason}")]
    Corrupt { seq: i64, reason: String },
}

/// How long a connection waits for another's lock (a merge step, a checkpoint restart)
/// before its statement fails with `SQLITE_BUSY`.
const BUSY_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);
/// Retries at [`BUSY_FINE_STEP`] before the steps grow to 1 ms.
const BUSY_FINE_RETRIES: i32 = 200;
const BUSY_FINE_STEP: std::time::Duration = std::time::Duration::from_micros(50);

/// SQLite's busy handler for the audit connections, in place of `busy_timeout`. Its built-in
/// one sleeps 1, 2, 5, 10, 15, 20, 25... ms between retries, so a writer behind a 3 ms hold
/// waited up to 18 ms, and every request waiting on that commit with it.
pub(super) fn busy_wait(retries: i32) -> bool {
    wait_step(busy_step(retries, BUSY_LIMIT))
}

/// A busy handler for a checkpoint restart, which holds every writer while it waits: it
/// gives up after [`RESTART_LIMIT`] (a reader still on the old WAL; the next run retries),
/// so a long audit query never stalls commits, and the requests waiting on them, for seconds.
pub(super) fn busy_wait_brief(retries: i32) -> bool {
    wait_step(busy_step(retries, RESTART_LIMIT))
}

/// How long a checkpoint restart waits for readers and the writer.
const RESTART_LIMIT: std::time::Duration = std::time::Duration::from_millis(20);

fn wait_step(step: Option<std::time::Duration>) -> bool {
    match step {
        Some(step) => {
            std::thread::sleep(step);
            true
        }
        None => false,
    }
}

/// The wait before retry `retries`, `None` once `limit` is spent. The locks here are held for
/// about a millisecond, so the first retries come every 50 us; after 10 ms they come every
/// millisecond. Counted by retries, so a sleep that overruns only lengthens the wait.
fn busy_step(retries: i32, limit: std::time::Duration) -> Option<std::time::Duration> {
    let retries = u32::try_from(retries).ok()?;
    let fine = BUSY_FINE_RETRIES as u32;
    let (waited, step) = if retries < fine {
        (BUSY_FINE_STEP * retries, BUSY_FINE_STEP)
    } else {
        let coarse = std::time::Duration::from_millis(1);
        (BUSY_FINE_STEP * fine + coarse * (retries - fine), coarse)
    };
    (waited < limit).then_some(step)
}

pub fn hash_of(prev: &str, canonical: &[u8]) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(prev.as_bytes());
    ctx.update(b"\n");
    ctx.update(canonical);
    policy::identity::hex_encode(ctx.finish().as_ref())
}

/// The columns of an event's row that queries, tenant scoping and retention read, derived
/// from the event (its hashed body): the insert writes them and `verify` checks them, so an
/// edited column (another tenant, an older time, `allow` for `block`) is caught like an
/// edited body. In the order of [`ROW_COLUMNS`].
pub(super) fn row_columns(e: &AuditEvent) -> Vec<Option<String>> {
    let wrap = |v: &[String]| Some(format!(",{},", v.join(",")));
    let (categories, entities, rules) = lists(&e.reasons);
    vec![
        Some(e.id.clone()),
        Some(e.time.clone()),
        Some(e.kind.clone()),
        Some(e.tenant.clone()),
        e.user.clone(),
        e.provider.clone(),
        e.model.clone(),
        Some(e.decision.clone()),
        wrap(&categories),
        wrap(&entities),
        wrap(&rules),
        wrap(&e.groups),
    ]
}

/// The names of [`row_columns`], as SQL.
pub(super) const ROW_COLUMNS: &str =
    "id, time, kind, tenant, user, provider, model, decision, categories, entities, rules, groups";

/// Appends `events` inside `tx`, each chained to `prev` (which it advances).
pub(super) fn insert_chained(
    tx: &rusqlite::Transaction<'_>,
    prev: &mut String,
    events: &mut [AuditEvent],
) -> Result<(), rusqlite::Error> {
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT INTO events ({ROW_COLUMNS}, body, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
    ))?;
    for e in events.iter_mut() {
        e.prev_hash = prev.clone();
        // The stored body is the canonical form itself (no `seq`, empty `hash`): one
        // serialization serves both the chain and the row.
        e.seq = 0;
        e.hash.clear();
        let body = serde_json::to_string(&e).expect("audit events serialize");
        e.hash = hash_of(prev, body.as_bytes());
        let mut values = row_columns(e);
        values.extend([Some(body), Some(e.prev_hash.clone()), Some(e.hash.clone())]);
        stmt.execute(rusqlite::params_from_iter(values))?;
        e.seq = tx.last_insert_rowid();
        *prev = e.hash.clone();
    }
    Ok(())
}

/// Names the database in a SQLite error (owned by the caller, so a method can hold it while
/// it borrows the connection mutably).
pub(super) fn sqlite_err(path: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Sqlite {
        path: path.to_string(),
        source,
    }
}

/// One open database.
pub struct AuditStore {
    pub(super) conn: Connection,
    pub(super) path: String,
    pub(super) last_hash: String,
}

/// How hard a commit tries to reach the disk; the platform team trades safety for throughput.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// `synchronous=FULL`: every commit is fsynced; it survives `kill -9` and power loss.
    #[default]
    Full,
    /// `synchronous=NORMAL` (WAL): a commit survives `kill -9` but the last commits before a
    /// power loss or kernel crash may be lost; no fsync on the request path.
    Normal,
}

impl Durability {
    pub(super) fn pragma(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }
}

impl AuditStore {
    /// Opens (or creates) the database in WAL mode with `synchronous=FULL`: a committed event
    /// survives `kill -9` and power loss.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, Durability::Full)
    }

    /// Opens (or creates) the database in WAL mode with the given commit durability.
    pub fn open_with(path: &Path, durability: Durability) -> Result<Self, StoreError> {
        let p = path.display().to_string();
        let err = sqlite_err(&p);
        let conn = Connection::open(path).map_err(&err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(&err)?;
        conn.pragma_update(None, "synchronous", durability.pragma())
            .map_err(&err)?;
        conn.busy_handler(Some(busy_wait)).map_err(&err)?;
        // 64 MiB of page cache: the index pages that inserts and queries touch stay in memory
        // (SQLite's default is 2 MiB, which a multi-million-row log outgrows).
        conn.pragma_update(None, "cache_size", -65_536)
            .map_err(&err)?;
        // Checkpoint every ~40 MiB of WAL instead of every 4 MiB: a page that many commits
        // change is copied into the database once per checkpoint, not once per few commits.
        conn.pragma_update(None, "wal_autocheckpoint", 10_000)
            .map_err(&err)?;
        conn.execute_batch(SCHEMA).map_err(&err)?;
        migrate(&conn).map_err(&err)?;
        let last_hash: String = conn
            .query_row(
                "SELECT hash FROM events ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(&err)?
            .unwrap_or_default();
        drop(err);
        Ok(AuditStore {
            conn,
            path: p,
            last_hash,
        })
    }

    pub(super) fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        sqlite_err(&self.path)
    }

    /// Inserts `events` in one transaction, chaining each to the one before; fills their
    /// `seq`, `prev_hash` and `hash`.
    pub fn insert(&mut self, events: &mut [AuditEvent]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = sqlite_err(&path);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(&err)?;
        let mut prev = self.last_hash.clone();
        insert_chained(&tx, &mut prev, events).map_err(&err)?;
        tx.commit().map_err(&err)?;
        self.last_hash = prev;
        Ok(())
    }
}
