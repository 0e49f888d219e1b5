//! The SQLite side: schema, chained inserts, queries, statistics and chain verification.

use super::event::AuditEvent;
use ring::digest;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use std::path::Path;
use thiserror::Error;

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

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  time TEXT NOT NULL,
  kind TEXT NOT NULL,
  tenant TEXT NOT NULL,
  user TEXT,
  provider TEXT,
  model TEXT,
  decision TEXT NOT NULL,
  categories TEXT NOT NULL,
  entities TEXT NOT NULL,
  rules TEXT NOT NULL,
  groups TEXT NOT NULL,
  body TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_tenant_time ON events(tenant, time);
-- An exchange's records by id (the console's event page).
CREATE INDEX IF NOT EXISTS events_id ON events(id);
CREATE TABLE IF NOT EXISTS tombstones (
  seq INTEGER PRIMARY KEY,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  checkpoint INTEGER NOT NULL
);
-- Which events each user made, for the `user` filter. A (tenant, user, time) index on `events`
-- put every insert at a random place (one dirty 4 KB page per event once the index outgrew a
-- batch), which halved durable writes on a grown log. This table is filled out of the commit
-- path, in key order and many rows at a time (`merge_indexes`); rows after
-- `user_index_state.upto` are found by reading that tail of `events`. `verify` checks it.
CREATE TABLE IF NOT EXISTS user_index (
  tenant TEXT NOT NULL,
  user TEXT NOT NULL,
  time TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (tenant, user, time, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS user_index_state (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  upto INTEGER NOT NULL
);
-- One row per (event, category | entity | rule | group): the index behind those filters, so a
-- filtered query reads only matching rows. Derived from the chained rows; `verify` checks it.
-- Filled out of the commit path like `user_index`, up to the same `user_index_state.upto`
-- (the watermark of both derived indexes): four rows per event at four places in the B-tree
-- cost the commit about half its insert time and a dirty page per distinct tag.
CREATE TABLE IF NOT EXISTS event_tags (
  tag TEXT NOT NULL,
  tenant TEXT NOT NULL,
  time TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (tag, tenant, time, seq)
) WITHOUT ROWID;
";

/// Schema version in `PRAGMA user_version`; 1 added `event_tags`; 2 dropped the decision and
/// provider indexes. Those columns have a handful of values each, so a filter on them reads the
/// (tenant, time) range and keeps the matches (a 1-in-20 decision needs ~2,000 rows for a page
/// of 100), while every insert paid for two more B-trees. 3 replaced the (tenant, user, time)
/// index with `user_index`, filled out of the commit path. 4 fills `event_tags` out of the commit
/// path too, up to the same watermark.
const SCHEMA_VERSION: i64 = 4;

/// Indexes the users and tags of up to `max_rows` events after `user_index_state.upto`, each in
/// key order, in one short transaction; returns how many events (seq numbers) it covered. Run
/// off the commit path (the writer's checkpoint thread); until it runs, queries read the
/// unindexed tail instead.
pub(super) fn merge_indexes(conn: &Connection, max_rows: i64) -> Result<usize, rusqlite::Error> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        let upto: i64 = conn.query_row(
            "SELECT coalesce((SELECT upto FROM user_index_state WHERE id = 0), 0)",
            [],
            |r| r.get(0),
        )?;
        let last: i64 =
            conn.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))?;
        let to = last.min(upto.saturating_add(max_rows));
        if to <= upto {
            return Ok(0);
        }
        conn.execute(
            "INSERT OR IGNORE INTO user_index (tenant, user, time, seq)
             SELECT tenant, user, time, seq FROM events
             WHERE seq > ?1 AND seq <= ?2 AND user IS NOT NULL
             ORDER BY tenant, user, time, seq",
            params![upto, to],
        )?;
        write_tags(conn, upto, to)?;
        conn.execute(
            "INSERT INTO user_index_state (id, upto) VALUES (0, ?1)
             ON CONFLICT (id) DO UPDATE SET upto = excluded.upto",
            [to],
        )?;
        Ok((to - upto) as usize)
    })();
    match result {
        Ok(n) => conn.execute_batch("COMMIT").map(|()| n),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// The parts of a stored body the tag index comes from (the rest is skipped unparsed).
#[derive(serde::Deserialize)]
struct TagSource {
    #[serde(default)]
    reasons: Vec<super::event::ReasonRow>,
    #[serde(default)]
    groups: Vec<String>,
}

/// Writes the `event_tags` rows of the events in `(from, to]`, in key order (each B-tree page
/// dirtied once per call, not once per row). They come from each chained body, as `verify`
/// derives them, not from the list columns: an item holding a comma, or an empty one, reads
/// the same both ways. A body that does not parse gets no rows; `verify` reports that row.
fn write_tags(conn: &Connection, from: i64, to: i64) -> Result<(), rusqlite::Error> {
    let mut rows: Vec<(String, String, String, i64)> = Vec::new();
    {
        let mut read = conn.prepare_cached(
            "SELECT seq, tenant, time, body FROM events WHERE seq > ?1 AND seq <= ?2",
        )?;
        let mut found = read.query(params![from, to])?;
        while let Some(r) = found.next()? {
            let (seq, tenant, time): (i64, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let Ok(src) = serde_json::from_str::<TagSource>(r.get_ref(3)?.as_str()?) else {
                continue;
            };
            let (categories, entities, rules) = lists(&src.reasons);
            for t in tags(&categories, &entities, &rules, &src.groups) {
                rows.push((t, tenant.clone(), time.clone(), seq));
            }
        }
    }
    rows.sort_unstable();
    let mut write = conn.prepare_cached(
        "INSERT OR IGNORE INTO event_tags (tag, tenant, time, seq) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (tag, tenant, time, seq) in &rows {
        write.execute(params![tag, tenant, time, seq])?;
    }
    Ok(())
}

/// The `event_tags` rows of one event: `category:pii`, `entity:email`, `rule:no-keys`, `group:eng`.
fn tags(
    categories: &[String],
    entities: &[String],
    rules: &[String],
    groups: &[String],
) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for (kind, items) in [
        ("category", categories),
        ("entity", entities),
        ("rule", rules),
        ("group", groups),
    ] {
        for i in items {
            v.push(format!("{kind}:{i}"));
        }
    }
    v.sort();
    v.dedup();
    v
}

/// An event's categories, entities and rules, as the list columns and `event_tags` hold them.
fn lists(reasons: &[super::event::ReasonRow]) -> (Vec<String>, Vec<String>, Vec<String>) {
    (
        super::event::categories_of(reasons),
        reasons.iter().map(|r| r.entity.clone()).collect(),
        reasons.iter().map(|r| r.rule.clone()).collect(),
    )
}

/// An order-independent digest of `(seq, tag)` pairs: the sum of their truncated SHA-256.
fn tag_digest(sum: &mut u64, seq: i64, tag: &str) {
    let d = digest::digest(&digest::SHA256, format!("{seq}:{tag}").as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d.as_ref()[..8]);
    *sum = sum.wrapping_add(u64::from_le_bytes(b));
}

/// A `user_index` row as `verify` digests it: tenant and user prefixed by their byte lengths
/// (so no choice of names can make two rows digest alike), as the SQL side builds it.
fn user_entry(tenant: &str, user: &str, time: &str) -> String {
    format!("{}:{tenant}{}:{user}{time}", tenant.len(), user.len())
}

/// Splits a stored `,a,b,` list.
fn items(list: &str) -> Vec<String> {
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// One committed row as stored: its index columns and the exact bytes the chain hashes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredRow {
    pub seq: i64,
    pub id: String,
    pub time: String,
    pub kind: String,
    pub tenant: String,
    pub user: String,
    pub provider: String,
    pub model: String,
    pub decision: String,
    pub categories: Vec<String>,
    pub entities: Vec<String>,
    pub rules: Vec<String>,
    pub groups: Vec<String>,
    pub body: String,
    pub prev_hash: String,
    pub hash: String,
}

/// One AI request (or refused AI destination) as insider-risk analytics sees it: who, when,
/// where, what was decided and which categories were found; never the content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// The source's own order (a node's `seq`).
    pub seq: i64,
    pub id: String,
    /// RFC 3339, UTC.
    pub time: String,
    /// `ai_request` or `blocked_destination`.
    pub kind: String,
    pub tenant: String,
    /// `-` for requests without a user.
    pub user: String,
    pub groups: Vec<String>,
    pub decision: String,
    pub categories: Vec<String>,
    pub bytes: i64,
    pub host: String,
}

/// One AI destination as the usage log saw it (see [`AuditStore::destinations`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Destination {
    pub host: String,
    pub provider: String,
    /// `sanctioned` (inspected), `tunnelled` (passed blind by policy) or `blocked`.
    pub status: &'static str,
    pub events: i64,
    pub users: i64,
}

/// Filters for queries and statistics; empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub tenant: Option<String>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    /// The decision (`block`, `redact`, `would_block`, ...).
    pub action: Option<String>,
    pub category: Option<String>,
    pub entity: Option<String>,
    pub rule: Option<String>,
    /// RFC 3339 bounds, inclusive / exclusive.
    pub since: Option<String>,
    pub until: Option<String>,
    pub kind: Option<String>,
    pub limit: usize,
    /// Resume after this `seq` (paging, oldest first).
    pub after: Option<i64>,
    /// Resume before this `seq` (paging, newest first).
    pub before: Option<i64>,
    /// Newest first (the console's order) rather than oldest first.
    pub newest_first: bool,
    /// One event id: an exchange's request and response records share it.
    pub id: Option<String>,
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

/// Appends `events` inside `tx`, each chained to `prev` (which it advances).
pub(super) fn insert_chained(
    tx: &rusqlite::Transaction<'_>,
    prev: &mut String,
    events: &mut [AuditEvent],
) -> Result<(), rusqlite::Error> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO events (id, time, kind, tenant, user, provider, model, decision, categories, entities, rules, groups, body, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?;
    for e in events.iter_mut() {
        e.prev_hash = prev.clone();
        // The stored body is the canonical form itself (no `seq`, empty `hash`): one
        // serialization serves both the chain and the row.
        e.seq = 0;
        e.hash.clear();
        let body = serde_json::to_string(&e).expect("audit events serialize");
        e.hash = hash_of(prev, body.as_bytes());
        let wrap = |v: &[String]| format!(",{},", v.join(","));
        let (categories, entities, rules) = lists(&e.reasons);
        stmt.execute(params![
            e.id,
            e.time,
            e.kind,
            e.tenant,
            e.user,
            e.provider,
            e.model,
            e.decision,
            wrap(&categories),
            wrap(&entities),
            wrap(&rules),
            wrap(&e.groups),
            body,
            e.prev_hash,
            e.hash,
        ])?;
        e.seq = tx.last_insert_rowid();
        *prev = e.hash.clone();
    }
    Ok(())
}

/// Brings a file written by an older version up to [`SCHEMA_VERSION`].
fn migrate(conn: &Connection) -> Result<(), rusqlite::Error> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version >= SCHEMA_VERSION {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        conn.execute_batch(
            "DROP INDEX IF EXISTS events_tenant_decision_time;
             DROP INDEX IF EXISTS events_tenant_provider_time;",
        )?;
        if version < 3 {
            // The whole log at once, read in the old index's order (while it still exists).
            conn.execute_batch(
                "INSERT OR IGNORE INTO user_index_state (id, upto) VALUES (0, 0);
                 INSERT OR IGNORE INTO user_index (tenant, user, time, seq)
                   SELECT tenant, user, time, seq FROM events WHERE user IS NOT NULL
                   ORDER BY tenant, user, time, seq;
                 UPDATE user_index_state SET upto = (SELECT coalesce(max(seq), 0) FROM events)
                   WHERE id = 0;
                 DROP INDEX IF EXISTS events_tenant_user_time;",
            )?;
        }
        if version >= 1 {
            // Up to 3 the commit wrote every event's tags; from 4 they follow the watermark, so
            // rows past it go (the next merge writes them again).
            conn.execute(
                "DELETE FROM event_tags WHERE seq > coalesce((SELECT upto FROM user_index_state WHERE id = 0), 0)",
                [],
            )?;
            return conn.pragma_update(None, "user_version", SCHEMA_VERSION);
        }
        // Version 0 had no `event_tags`: derive them up to the watermark set above.
        write_tags(conn, 0, i64::MAX)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
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
        let err = |source| StoreError::Sqlite {
            path: p.clone(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", durability.pragma())
            .map_err(err)?;
        conn.busy_handler(Some(busy_wait)).map_err(err)?;
        // 64 MiB of page cache: the index pages that inserts and queries touch stay in memory
        // (SQLite's default is 2 MiB, which a multi-million-row log outgrows).
        conn.pragma_update(None, "cache_size", -65_536)
            .map_err(err)?;
        // Checkpoint every ~40 MiB of WAL instead of every 4 MiB: a page that many commits
        // change is copied into the database once per checkpoint, not once per few commits.
        conn.pragma_update(None, "wal_autocheckpoint", 10_000)
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        migrate(&conn).map_err(err)?;
        let last_hash: String = conn
            .query_row(
                "SELECT hash FROM events ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?
            .unwrap_or_default();
        Ok(AuditStore {
            conn,
            path: p,
            last_hash,
        })
    }

    /// The digest and row count of a derived index, from `sql` giving (seq, entry) rows.
    fn index_digest(&self, sql: &str) -> Result<(u64, u64), StoreError> {
        let (mut sum, mut n) = (0u64, 0u64);
        let mut stmt = self.conn.prepare(sql).map_err(self.err())?;
        let mut rows = stmt.query([]).map_err(self.err())?;
        while let Some(r) = rows.next().map_err(self.err())? {
            let (seq, entry): (i64, String) =
                (r.get(0).map_err(self.err())?, r.get(1).map_err(self.err())?);
            tag_digest(&mut sum, seq, &entry);
            n += 1;
        }
        Ok((sum, n))
    }

    /// Indexes the users and tags of every event not yet indexed (what the writer's checkpoint
    /// thread does a step at a time); returns how many events it covered.
    pub fn index_derived(&self) -> Result<u64, StoreError> {
        let mut total = 0u64;
        loop {
            let n = merge_indexes(&self.conn, 100_000).map_err(self.err())?;
            if n == 0 {
                return Ok(total);
            }
            total += n as u64;
        }
    }

    pub(super) fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Inserts `events` in one transaction, chaining each to the one before; fills their
    /// `seq`, `prev_hash` and `hash`.
    pub fn insert(&mut self, events: &mut [AuditEvent]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = move |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
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

    fn where_clause(f: &Filter) -> (String, Vec<String>) {
        let mut sql = String::from(" WHERE 1=1");
        let mut args: Vec<String> = Vec::new();
        let mut eq = |col: &str, v: &Option<String>| {
            if let Some(v) = v {
                args.push(v.clone());
                sql.push_str(&format!(" AND {col} = ?{}", args.len()));
            }
        };
        eq("tenant", &f.tenant);
        eq("provider", &f.provider);
        eq("model", &f.model);
        eq("decision", &f.action);
        eq("kind", &f.kind);
        eq("id", &f.id);
        if let Some(user) = &f.user {
            // The merged index, plus the tail it has not reached yet.
            args.push(user.clone());
            let u = args.len();
            let mut merged = format!("SELECT seq FROM user_index WHERE user = ?{u}");
            if f.tenant.is_some() {
                // The tenant is always the first argument.
                merged.push_str(" AND tenant = ?1");
            }
            // The time range inside the lookup too (the outer query applies it as well), so a
            // busy user's other days are not read.
            for (v, op) in [(&f.since, ">="), (&f.until, "<")] {
                if let Some(v) = v {
                    args.push(v.clone());
                    merged.push_str(&format!(" AND time {op} ?{}", args.len()));
                }
            }
            sql.push_str(&format!(
                " AND seq IN ({merged} UNION ALL SELECT seq FROM events WHERE seq > coalesce((SELECT upto FROM user_index_state WHERE id = 0), 0) AND user = ?{u})"
            ));
        }
        for (kind, column, v) in [
            ("category", "categories", &f.category),
            ("entity", "entities", &f.entity),
            ("rule", "rules", &f.rule),
            ("group", "groups", &f.group),
        ] {
            // An empty value is no filter (as the API treats it): an empty list column reads
            // `,,`, which an empty item would match.
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                // Through the tag index: an exact item, read in `seq` order from the matches
                // of (tag, tenant, time range) only; plus the tail the index has not reached
                // yet, an exact item of the list column (stored as `,a,b,`).
                args.push(format!(",{v},"));
                let tail = format!(
                    " UNION ALL SELECT seq FROM events WHERE seq > coalesce((SELECT upto FROM user_index_state WHERE id = 0), 0) AND instr({column}, ?{}) > 0",
                    args.len()
                );
                args.push(format!("{kind}:{v}"));
                let mut sub = format!(
                    " AND seq IN (SELECT seq FROM event_tags WHERE tag = ?{}",
                    args.len()
                );
                if let Some(t) = &f.tenant {
                    args.push(t.clone());
                    sub.push_str(&format!(" AND tenant = ?{}", args.len()));
                }
                if let Some(since) = &f.since {
                    args.push(since.clone());
                    sub.push_str(&format!(" AND time >= ?{}", args.len()));
                }
                if let Some(until) = &f.until {
                    args.push(until.clone());
                    sub.push_str(&format!(" AND time < ?{}", args.len()));
                }
                sub.push_str(&tail);
                sub.push(')');
                sql.push_str(&sub);
            }
        }
        if let Some(s) = &f.since {
            args.push(s.clone());
            sql.push_str(&format!(" AND time >= ?{}", args.len()));
        }
        if let Some(u) = &f.until {
            args.push(u.clone());
            sql.push_str(&format!(" AND time < ?{}", args.len()));
        }
        if let Some(a) = f.after {
            args.push(a.to_string());
            sql.push_str(&format!(" AND seq > CAST(?{} AS INTEGER)", args.len()));
        }
        if let Some(b) = f.before {
            args.push(b.to_string());
            sql.push_str(&format!(" AND seq < CAST(?{} AS INTEGER)", args.len()));
        }
        (sql, args)
    }

    /// Events matching `f`, oldest first (or newest first), at most `f.limit` (default 100).
    pub fn query(&self, f: &Filter) -> Result<Vec<AuditEvent>, StoreError> {
        let (w, args) = Self::where_clause(f);
        let limit = if f.limit == 0 { 100 } else { f.limit };
        let order = if f.newest_first { "DESC" } else { "ASC" };
        let sql =
            format!("SELECT seq, body, hash FROM events{w} ORDER BY seq {order} LIMIT {limit}");
        let mut stmt = self.conn.prepare(&sql).map_err(self.err())?;
        let rows = stmt
            .query_map(params_from_iter(args.iter()), |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(self.err())?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, body, hash) = row.map_err(self.err())?;
            let mut e: AuditEvent =
                serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                    seq,
                    reason: e.to_string(),
                })?;
            e.seq = seq;
            e.hash = hash;
            out.push(e);
        }
        Ok(out)
    }

    /// Counts grouped by `by` (`hour`, `day`, `user`, `provider`, `decision`, `tenant`, `model`,
    /// `category`, `entity`, `rule`).
    pub fn stats(&self, f: &Filter, by: &str) -> Result<Vec<(String, i64)>, StoreError> {
        // Multi-valued columns (`,a,b,`) are counted per value: an event with two categories
        // counts once under each.
        if let Some(col) = match by {
            "category" => Some("categories"),
            "entity" => Some("entities"),
            "rule" => Some("rules"),
            _ => None,
        } {
            let (w, args) = Self::where_clause(f);
            let sql = format!("SELECT {col} FROM events{w}");
            let mut stmt = self.conn.prepare(&sql).map_err(self.err())?;
            let mut rows = stmt
                .query(params_from_iter(args.iter()))
                .map_err(self.err())?;
            let mut counts: std::collections::HashMap<String, i64> = Default::default();
            while let Some(r) = rows.next().map_err(self.err())? {
                let v: String = r.get(0).map_err(self.err())?;
                for item in v.split(',').filter(|s| !s.is_empty()) {
                    *counts.entry(item.to_string()).or_default() += 1;
                }
            }
            let mut out: Vec<(String, i64)> = counts.into_iter().collect();
            out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            return Ok(out);
        }
        let col = match by {
            "day" => "substr(time, 1, 10)",
            "hour" => "substr(time, 1, 13)",
            "host" => "json_extract(body, '$.host')",
            "user" => "coalesce(user, '-')",
            "provider" => "coalesce(provider, '-')",
            "decision" | "action" => "decision",
            "tenant" => "tenant",
            "model" => "coalesce(model, '-')",
            other => {
                return Err(StoreError::Corrupt {
                    seq: 0,
                    reason: format!("cannot group by `{other}`"),
                })
            }
        };
        let (w, args) = Self::where_clause(f);
        let sql = format!(
            "SELECT {col} AS k, count(*) FROM events{w} GROUP BY k ORDER BY count(*) DESC, k"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(self.err())?;
        let rows = stmt
            .query_map(params_from_iter(args.iter()), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .map_err(self.err())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.err())
    }

    /// Committed rows after `after`, as stored (the chain's exact bytes), oldest first: what
    /// the fleet shipper sends to ClickHouse.
    pub fn rows_after(&self, after: i64, limit: usize) -> Result<Vec<StoredRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, id, time, kind, tenant, coalesce(user, ''), coalesce(provider, ''), coalesce(model, ''), decision, categories, entities, rules, groups, body, prev_hash, hash
                 FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(self.err())?;
        let split = |s: String| -> Vec<String> {
            s.split(',')
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        let rows = stmt
            .query_map(params![after, limit as i64], |r| {
                Ok(StoredRow {
                    seq: r.get(0)?,
                    id: r.get(1)?,
                    time: r.get(2)?,
                    kind: r.get(3)?,
                    tenant: r.get(4)?,
                    user: r.get(5)?,
                    provider: r.get(6)?,
                    model: r.get(7)?,
                    decision: r.get(8)?,
                    categories: split(r.get(9)?),
                    entities: split(r.get(10)?),
                    rules: split(r.get(11)?),
                    groups: split(r.get(12)?),
                    body: r.get(13)?,
                    prev_hash: r.get(14)?,
                    hash: r.get(15)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.err())
    }

    /// The last committed `seq` and its time (`None` when empty).
    pub fn last_row(&self) -> Result<Option<(i64, String)>, StoreError> {
        self.conn
            .query_row(
                "SELECT seq, time FROM events ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.err())
    }

    /// Up to `limit` AI requests and refused AI destinations after `seq`, in log order: what
    /// the insider-risk rollup reads, a bounded page at a time, so it never holds the log.
    pub fn activity_after(&self, seq: i64, limit: usize) -> Result<Vec<Activity>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, id, time, kind, tenant, coalesce(user, '-'), groups, decision, categories,
                        coalesce(json_extract(body, '$.request_bytes'), 0), coalesce(json_extract(body, '$.host'), '')
                 FROM events WHERE seq > ?1 AND kind IN ('ai_request', 'blocked_destination')
                 ORDER BY seq LIMIT ?2",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map(params![seq, limit as i64], |r| {
                Ok(Activity {
                    seq: r.get(0)?,
                    id: r.get(1)?,
                    time: r.get(2)?,
                    kind: r.get(3)?,
                    tenant: r.get(4)?,
                    user: r.get(5)?,
                    groups: items(&r.get::<_, String>(6)?),
                    decision: r.get(7)?,
                    categories: items(&r.get::<_, String>(8)?),
                    bytes: r.get(9)?,
                    host: r.get(10)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.err())
    }

    /// AI destinations seen (shadow AI): per host and provider, whether traffic was inspected
    /// (`sanctioned`), passed blind (`tunnelled`) or refused (`blocked`), with how many events
    /// and distinct users. The `kind` of `f` is ignored.
    pub fn destinations(&self, f: &Filter) -> Result<Vec<Destination>, StoreError> {
        let f = Filter {
            kind: None,
            ..f.clone()
        };
        let (w, args) = Self::where_clause(&f);
        let sql = format!(
            "SELECT json_extract(body, '$.host') AS h, provider, kind, count(*), count(DISTINCT user)
             FROM events{w} AND provider IS NOT NULL AND kind IN ('ai_request', 'tunnel', 'blocked_destination')
             GROUP BY h, provider, kind ORDER BY count(*) DESC, h LIMIT 500"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(self.err())?;
        let rows = stmt
            .query_map(params_from_iter(args.iter()), |r| {
                let kind: String = r.get(2)?;
                Ok(Destination {
                    host: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    provider: r.get(1)?,
                    status: match kind.as_str() {
                        "ai_request" => "sanctioned",
                        "tunnel" => "tunnelled",
                        _ => "blocked",
                    },
                    events: r.get(3)?,
                    users: r.get(4)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.err())
    }

    /// Recomputes the whole chain; `Err` names the first row that does not verify. Rows removed
    /// by retention are checked through their tombstones and the checkpoint that records them.
    pub fn verify(&self) -> Result<u64, StoreError> {
        // One read snapshot: a writer or the user-index merge running meanwhile does not make
        // the derived indexes look out of step with the rows.
        let own = self.conn.is_autocommit();
        if own {
            self.conn.execute_batch("BEGIN").map_err(self.err())?;
        }
        let result = self.verify_in_snapshot();
        if own {
            let _ = self.conn.execute_batch("COMMIT");
        }
        result
    }

    fn verify_in_snapshot(&self) -> Result<u64, StoreError> {
        let upto: i64 = self
            .conn
            .query_row(
                "SELECT coalesce((SELECT upto FROM user_index_state WHERE id = 0), 0)",
                [],
                |r| r.get(0),
            )
            .map_err(self.err())?;
        let (mut want_users, mut want_user_rows) = (0u64, 0u64);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, body, prev_hash, hash, 0 FROM events
                 UNION ALL SELECT seq, NULL, prev_hash, hash, checkpoint FROM tombstones
                 ORDER BY seq",
            )
            .map_err(self.err())?;
        let mut rows = stmt.query([]).map_err(self.err())?;
        let mut prev = String::new();
        let mut n = 0u64;
        // Tombstones seen, by the checkpoint that claims them.
        let mut pending: std::collections::BTreeMap<i64, Vec<(i64, String)>> = Default::default();
        let (mut want_tags, mut want_tag_rows) = (0u64, 0u64);
        while let Some(r) = rows.next().map_err(self.err())? {
            let (seq, body, prev_hash, hash, checkpoint): (
                i64,
                Option<String>,
                String,
                String,
                i64,
            ) = (
                r.get(0).map_err(self.err())?,
                r.get(1).map_err(self.err())?,
                r.get(2).map_err(self.err())?,
                r.get(3).map_err(self.err())?,
                r.get(4).map_err(self.err())?,
            );
            if prev_hash != prev {
                return Err(StoreError::Corrupt {
                    seq,
                    reason:
                        "prev_hash does not match the row before (a row was removed or reordered)"
                            .into(),
                });
            }
            let Some(body) = body else {
                pending
                    .entry(checkpoint)
                    .or_default()
                    .push((seq, hash.clone()));
                prev = hash;
                continue;
            };
            let e: AuditEvent = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                seq,
                reason: format!("unreadable body: {e}"),
            })?;
            let want = hash_of(&prev, &e.canonical());
            // Rows written since schema 1 store the canonical form (empty `hash` in the body).
            let body_hash_ok = e.hash.is_empty() || e.hash == hash;
            if want != hash || !body_hash_ok || e.prev_hash != prev_hash {
                return Err(StoreError::Corrupt {
                    seq,
                    reason: "hash does not match the row's contents (the row was edited)".into(),
                });
            }
            if let Some(cp) = &e.checkpoint {
                let removed = pending.remove(&seq).unwrap_or_default();
                if removed.len() as u64 != cp.rows
                    || super::retention::digest(&removed) != cp.digest
                {
                    return Err(StoreError::Corrupt {
                        seq,
                        reason: format!(
                            "retention checkpoint records {} removed rows but {} tombstones match it",
                            cp.rows,
                            removed.len()
                        ),
                    });
                }
            }
            if seq <= upto {
                let (categories, entities, rules) = lists(&e.reasons);
                for t in tags(&categories, &entities, &rules, &e.groups) {
                    tag_digest(&mut want_tags, seq, &t);
                    want_tag_rows += 1;
                }
            }
            if let (Some(user), true) = (&e.user, seq <= upto) {
                tag_digest(&mut want_users, seq, &user_entry(&e.tenant, user, &e.time));
                want_user_rows += 1;
            }
            prev = hash;
            n += 1;
        }
        if let Some((_, rows)) = pending.into_iter().next() {
            return Err(StoreError::Corrupt {
                seq: rows[0].0,
                reason: "removed without a retention checkpoint".into(),
            });
        }
        // The tag index is derived, not chained: it must match the rows exactly, or filtered
        // queries could hide (or invent) events.
        let (have_tags, have_tag_rows) = self.index_digest("SELECT seq, tag FROM event_tags")?;
        if (have_tags, have_tag_rows) != (want_tags, want_tag_rows) {
            return Err(StoreError::Corrupt {
                seq: 0,
                reason: format!(
                    "the filter index (event_tags, {have_tag_rows} rows) does not match the events up to {upto} ({want_tag_rows} expected); filtered queries may be wrong"
                ),
            });
        }
        let (have_users, have_user_rows) = self.index_digest(
            "SELECT seq, length(CAST(tenant AS BLOB)) || ':' || tenant || length(CAST(user AS BLOB)) || ':' || user || time FROM user_index",
        )?;
        if (have_users, have_user_rows) != (want_users, want_user_rows) {
            return Err(StoreError::Corrupt {
                seq: 0,
                reason: format!(
                    "the user index (user_index, {have_user_rows} rows) does not match the events up to {upto} ({want_user_rows} expected); user queries may be wrong"
                ),
            });
        }
        Ok(n)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::audit::event::ReasonRow;

    fn ev(i: usize, tenant: &str, decision: &str) -> AuditEvent {
        AuditEvent {
            id: format!("r{i}"),
            time: format!("2026-11-{:02}T10:00:00Z", 1 + i % 20),
            kind: "ai_request".into(),
            tenant: tenant.into(),
            user: Some(format!("u{}", i % 3)),
            groups: vec!["eng".into()],
            host: "api.openai.com".into(),
            provider: Some("openai".into()),
            decision: decision.into(),
            reasons: vec![ReasonRow {
                rule: "no-credentials".into(),
                action: decision.into(),
                category: Some("secret".into()),
                entity: "aws_access_key".into(),
                count: 1,
                max_score: 0.95,
            }],
            ..AuditEvent::default()
        }
    }

    /// A fresh database path in the temp dir (any earlier file and its WAL removed).
    pub(crate) fn tmp(name: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("pw-audit-{name}-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
        }
        p
    }

    #[test]
    fn inserts_chain_query_and_verify() {
        let p = tmp("chain");
        let mut s = AuditStore::open(&p).unwrap();
        let mut batch: Vec<AuditEvent> = (0..30)
            .map(|i| {
                ev(
                    i,
                    if i % 2 == 0 { "acme" } else { "globex" },
                    if i % 5 == 0 { "block" } else { "allow" },
                )
            })
            .collect();
        s.insert(&mut batch).unwrap();
        assert_eq!(s.verify().unwrap(), 30);
        let acme = s
            .query(&Filter {
                tenant: Some("acme".into()),
                limit: 1000,
                ..Filter::default()
            })
            .unwrap();
        assert_eq!(acme.len(), 15);
        let blocked = s
            .query(&Filter {
                tenant: Some("acme".into()),
                action: Some("block".into()),
                category: Some("secret".into()),
                ..Filter::default()
            })
            .unwrap();
        assert!(blocked
            .iter()
            .all(|e| e.decision == "block" && e.tenant == "acme"));
        let page1 = s
            .query(&Filter {
                limit: 10,
                ..Filter::default()
            })
            .unwrap();
        let page2 = s
            .query(&Filter {
                limit: 10,
                after: Some(page1.last().unwrap().seq),
                ..Filter::default()
            })
            .unwrap();
        assert_eq!(page2[0].seq, page1.last().unwrap().seq + 1);
        let by = s.stats(&Filter::default(), "decision").unwrap();
        assert_eq!(by.iter().map(|(_, n)| n).sum::<i64>(), 30);
        let by = s
            .stats(
                &Filter {
                    tenant: Some("acme".into()),
                    ..Filter::default()
                },
                "category",
            )
            .unwrap();
        assert_eq!(by, [("secret".to_string(), 15)]);
        let entity = |e: &str| {
            s.query(&Filter {
                entity: Some(e.into()),
                limit: 1000,
                ..Filter::default()
            })
            .unwrap()
            .len()
        };
        assert_eq!(entity("aws_access_key"), 30);
        assert_eq!(entity("aws%"), 0, "filter values are literal");
        assert_eq!(entity("aws_access_ke_"), 0);
        // Reopening continues the chain.
        drop(s);
        let mut s = AuditStore::open(&p).unwrap();
        s.insert(&mut [ev(99, "acme", "allow")]).unwrap();
        assert_eq!(s.verify().unwrap(), 31);
    }

    #[test]
    fn an_edited_row_is_named_by_verify() {
        let p = tmp("tamper");
        let mut s = AuditStore::open(&p).unwrap();
        let mut batch: Vec<AuditEvent> = (0..5).map(|i| ev(i, "acme", "block")).collect();
        s.insert(&mut batch).unwrap();
        let c = Connection::open(&p).unwrap();
        c.execute("UPDATE events SET body = replace(body, '\"decision\":\"block\"', '\"decision\":\"allow\"') WHERE seq = 3", []).unwrap();
        let e = s.verify().unwrap_err().to_string();
        assert!(e.contains("row 3") && e.contains("edited"), "{e}");
    }

    #[test]
    fn filters_use_the_tag_index_and_a_file_without_it_is_migrated() {
        let p = tmp("tags");
        let mut s = AuditStore::open(&p).unwrap();
        let mut batch: Vec<AuditEvent> = (0..10).map(|i| ev(i, "acme", "block")).collect();
        batch[3].reasons[0].category = Some("pii".into());
        batch[3].reasons[0].entity = "email".into();
        s.insert(&mut batch).unwrap();
        let pii = Filter {
            tenant: Some("acme".into()),
            category: Some("pii".into()),
            since: Some("2026-11-01T00:00:00Z".into()),
            ..Filter::default()
        };
        let got = s.query(&pii).unwrap();
        assert_eq!(
            got.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
            ["r3"]
        );
        assert_eq!(got[0].hash.len(), 64, "the hash comes back with the row");
        // The planner reads the tag index, not every event.
        let plan = query_plan(&s, "SELECT seq FROM events WHERE tenant = 'acme' AND seq IN (SELECT seq FROM event_tags WHERE tag = 'category:pii' AND tenant = 'acme' AND time >= '2026') ORDER BY seq LIMIT 100");
        assert!(
            plan.iter()
                .any(|l| l.contains("event_tags") && l.contains("PRIMARY KEY")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|l| l.starts_with("SCAN events")),
            "{plan:?}"
        );
        drop(s);
        // An older file: no tags, schema version 0. Opening it derives them.
        let c = Connection::open(&p).unwrap();
        c.execute_batch("DELETE FROM event_tags; PRAGMA user_version = 0;")
            .unwrap();
        drop(c);
        let s = AuditStore::open(&p).unwrap();
        assert_eq!(s.query(&pii).unwrap().len(), 1);
        assert_eq!(s.verify().unwrap(), 10);
    }

    #[test]
    fn an_edited_tag_index_fails_verification() {
        let p = tmp("tag-tamper");
        let mut s = AuditStore::open(&p).unwrap();
        let mut batch: Vec<AuditEvent> = (0..5).map(|i| ev(i, "acme", "block")).collect();
        s.insert(&mut batch).unwrap();
        assert_eq!(s.index_derived().unwrap(), 5);
        assert_eq!(s.verify().unwrap(), 5);
        // Hiding one event from category queries, without touching the chained rows.
        s.conn
            .execute(
                "DELETE FROM event_tags WHERE seq = 2 AND tag = 'category:secret'",
                [],
            )
            .unwrap();
        let e = s.verify().unwrap_err().to_string();
        assert!(e.contains("filter index"), "{e}");
    }

    #[test]
    fn tag_filters_find_the_unmerged_tail_and_the_merge_writes_each_tag_once() {
        let p = tmp("tag-tail");
        let mut s = AuditStore::open(&p).unwrap();
        let mut batch: Vec<AuditEvent> = (0..12).map(|i| ev(i, "acme", "block")).collect();
        for i in [2, 7, 11] {
            batch[i].reasons[0].category = Some("pii".into());
            batch[i].reasons[0].entity = "email".into();
            batch[i].reasons[0].rule = "pii-email".into();
        }
        batch[5].groups = vec!["eng".into(), "sales".into()];
        // Items the list columns cannot hold exactly: a comma inside one, an empty one. The
        // index comes from the chained body, as `verify` reads it.
        batch[9].reasons[0].rule = "legacy,rule".into();
        batch[9].reasons[0].entity = String::new();
        s.insert(&mut batch).unwrap();
        let tag_rows = |s: &AuditStore| -> i64 {
            s.conn
                .query_row("SELECT count(*) FROM event_tags", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(tag_rows(&s), 0, "the commit writes no tag rows");
        let ids = |s: &AuditStore, f: Filter| -> Vec<String> {
            s.query(&f).unwrap().into_iter().map(|e| e.id).collect()
        };
        let check = |s: &AuditStore, stage: &str| {
            let f = |tweak: fn(&mut Filter)| {
                let mut f = Filter {
                    tenant: Some("acme".into()),
                    ..Filter::default()
                };
                tweak(&mut f);
                f
            };
            let mut pii = ids(s, f(|f| f.category = Some("pii".into())));
            pii.sort();
            assert_eq!(pii, ["r11", "r2", "r7"], "{stage}");
            assert_eq!(
                ids(s, f(|f| f.rule = Some("pii-email".into()))).len(),
                3,
                "{stage}"
            );
            assert_eq!(
                ids(s, f(|f| f.entity = Some("email".into()))).len(),
                3,
                "{stage}"
            );
            assert_eq!(
                ids(s, f(|f| f.group = Some("sales".into()))),
                ["r5"],
                "{stage}"
            );
            assert_eq!(
                ids(s, f(|f| f.group = Some("eng".into()))).len(),
                12,
                "{stage}"
            );
            assert_eq!(
                ids(s, f(|f| f.rule = Some("legacy,rule".into()))),
                ["r9"],
                "{stage}"
            );
            // An empty value is no filter, before the merge and after.
            assert_eq!(
                ids(s, f(|f| f.entity = Some(String::new()))).len(),
                12,
                "{stage}"
            );
            // An exact item, not a substring of one.
            assert!(
                ids(s, f(|f| f.group = Some("sal".into()))).is_empty(),
                "{stage}"
            );
            assert!(
                ids(s, f(|f| f.category = Some("pi".into()))).is_empty(),
                "{stage}"
            );
            assert_eq!(s.verify().unwrap(), 12, "{stage}");
        };
        check(&s, "nothing merged");
        assert_eq!(merge_indexes(&s.conn, 6).unwrap(), 6);
        check(&s, "half merged");
        assert_eq!(s.index_derived().unwrap(), 6);
        check(&s, "all merged");
        // Each event's tags once: category, entity, rule and one row per group.
        assert_eq!(tag_rows(&s), 12 * 4 + 1);
        // A version-3 file wrote every event's tags at commit, past the watermark too: opening
        // it drops those, and the next merge writes them again.
        s.conn
            .execute_batch(
                "UPDATE user_index_state SET upto = 4;
                 DELETE FROM user_index WHERE seq > 4;
                 PRAGMA user_version = 3;",
            )
            .unwrap();
        drop(s);
        let s = AuditStore::open(&p).unwrap();
        let past: i64 = s
            .conn
            .query_row("SELECT count(*) FROM event_tags WHERE seq > 4", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(past, 0);
        check(&s, "migrated from 3");
        s.index_derived().unwrap();
        check(&s, "merged again");
        assert_eq!(tag_rows(&s), 12 * 4 + 1);
    }

    /// SQLite's plan for `sql`, one line per step.
    fn query_plan(s: &AuditStore, sql: &str) -> Vec<String> {
        s.conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// The ids a user query returns, oldest first and newest first.
    fn user_ids(s: &AuditStore, tenant: Option<&str>, user: &str) -> (Vec<String>, Vec<String>) {
        let f = Filter {
            tenant: tenant.map(str::to_string),
            user: Some(user.into()),
            limit: 1000,
            ..Filter::default()
        };
        let ids =
            |f: &Filter| -> Vec<String> { s.query(f).unwrap().into_iter().map(|e| e.id).collect() };
        let newest = Filter {
            newest_first: true,
            ..f.clone()
        };
        (ids(&f), ids(&newest))
    }

    #[test]
    fn a_user_query_reads_the_merged_index_and_the_tail_it_has_not_reached() {
        let p = tmp("user-index");
        let mut s = AuditStore::open(&p).unwrap();
        let mut batch: Vec<AuditEvent> = (0..30)
            .map(|i| ev(i, if i % 2 == 0 { "acme" } else { "globex" }, "allow"))
            .collect();
        batch[7].user = None;
        s.insert(&mut batch).unwrap();
        // What a scan of the events says: the expected answer at every stage.
        let expect = |tenant: Option<&str>, user: &str| -> Vec<String> {
            batch
                .iter()
                .filter(|e| e.user.as_deref() == Some(user) && tenant.is_none_or(|t| e.tenant == t))
                .map(|e| e.id.clone())
                .collect()
        };
        let check = |s: &AuditStore, stage: &str| {
            for tenant in [Some("acme"), Some("globex"), None] {
                for user in ["u0", "u1", "u2"] {
                    let (oldest, newest) = user_ids(s, tenant, user);
                    let want = expect(tenant, user);
                    assert!(!want.is_empty());
                    assert_eq!(oldest, want, "{stage}: {tenant:?} {user}");
                    let mut rev = want.clone();
                    rev.reverse();
                    assert_eq!(newest, rev, "{stage}: {tenant:?} {user}, newest first");
                }
            }
        };
        check(&s, "nothing merged");
        assert_eq!(merge_indexes(&s.conn, 12).unwrap(), 12);
        check(&s, "12 merged");
        assert_eq!(s.verify().unwrap(), 30);
        assert_eq!(merge_indexes(&s.conn, 1000).unwrap(), 18);
        assert_eq!(merge_indexes(&s.conn, 1000).unwrap(), 0, "nothing left");
        check(&s, "all merged");
        // A time range narrows the lookup and the tail alike.
        let since = Filter {
            tenant: Some("acme".into()),
            user: Some("u0".into()),
            since: Some("2026-11-10T00:00:00Z".into()),
            until: Some("2026-11-15T00:00:00Z".into()),
            ..Filter::default()
        };
        let want: Vec<String> = batch
            .iter()
            .filter(|e| {
                e.tenant == "acme"
                    && e.user.as_deref() == Some("u0")
                    && e.time.as_str() >= "2026-11-10T00:00:00Z"
                    && e.time.as_str() < "2026-11-15T00:00:00Z"
            })
            .map(|e| e.id.clone())
            .collect();
        assert!(!want.is_empty());
        let got: Vec<String> = s.query(&since).unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(got, want);
        let merged: i64 = s
            .conn
            .query_row("SELECT count(*) FROM user_index", [], |r| r.get(0))
            .unwrap();
        assert_eq!(merged, 29, "one entry per event with a user");
        assert_eq!(s.verify().unwrap(), 30);
        // The planner reads the user index, not the tenant's events.
        let plan = query_plan(&s, "SELECT seq FROM events WHERE tenant = 'acme' AND seq IN (SELECT seq FROM user_index WHERE user = 'u1' AND tenant = 'acme' UNION ALL SELECT seq FROM events WHERE seq > coalesce((SELECT upto FROM user_index_state WHERE id = 0), 0) AND user = 'u1') ORDER BY seq LIMIT 100");
        assert!(
            plan.iter()
                .any(|l| l.contains("user_index") && l.contains("PRIMARY KEY")),
            "{plan:?}"
        );
    }

    #[test]
    fn an_edited_user_index_fails_verification_and_an_old_file_gets_one() {
        let p = tmp("user-tamper");
        let mut s = AuditStore::open(&p).unwrap();
        let mut batch: Vec<AuditEvent> = (0..6).map(|i| ev(i, "acme", "allow")).collect();
        s.insert(&mut batch).unwrap();
        merge_indexes(&s.conn, 100).unwrap();
        assert_eq!(s.verify().unwrap(), 6);
        // Hiding an event from user queries, without touching the chained rows.
        s.conn
            .execute("DELETE FROM user_index WHERE seq = 2", [])
            .unwrap();
        let e = s.verify().unwrap_err().to_string();
        assert!(e.contains("user index"), "{e}");
        // Or pointing a user's query at another user's event.
        s.conn
            .execute(
                "INSERT INTO user_index (tenant, user, time, seq) SELECT tenant, 'u9', time, seq FROM events WHERE seq = 2",
                [],
            )
            .unwrap();
        assert!(s.verify().is_err());
        drop(s);
        // A version-2 file: the (tenant, user, time) index and no user_index. Opening it
        // indexes the whole log and drops the old index.
        let c = Connection::open(&p).unwrap();
        c.execute_batch(
            "DELETE FROM user_index; UPDATE user_index_state SET upto = 0;
             CREATE INDEX events_tenant_user_time ON events(tenant, user, time);
             PRAGMA user_version = 2;",
        )
        .unwrap();
        drop(c);
        let s = AuditStore::open(&p).unwrap();
        assert_eq!(s.verify().unwrap(), 6);
        let upto: i64 = s
            .conn
            .query_row("SELECT upto FROM user_index_state", [], |r| r.get(0))
            .unwrap();
        assert_eq!(upto, 6);
        let old: i64 = s
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'events_tenant_user_time'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(old, 0);
        assert_eq!(user_ids(&s, Some("acme"), "u1").0, ["r1", "r4"]);
    }

    #[test]
    fn the_busy_wait_retries_finely_then_gives_up_after_its_limit() {
        use std::time::Duration;
        let step = |n| busy_step(n, BUSY_LIMIT);
        assert_eq!(step(0), Some(Duration::from_micros(50)));
        assert_eq!(step(199), Some(Duration::from_micros(50)));
        assert_eq!(step(200), Some(Duration::from_millis(1)));
        assert_eq!(step(-1), None);
        for limit in [BUSY_LIMIT, RESTART_LIMIT] {
            let total: Duration = (0..).map_while(|n| busy_step(n, limit)).sum();
            assert!(total >= limit, "{total:?}");
            assert!(total < limit + Duration::from_millis(2), "{total:?}");
        }
    }
}
