//! The audit database's tables, and the migrations that bring an older file up to them.

use super::index::write_tags;
use rusqlite::Connection;

pub(super) const SCHEMA: &str = "
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
pub(super) const SCHEMA_VERSION: i64 = 4;

/// Brings a file written by an older version up to [`SCHEMA_VERSION`].
pub(super) fn migrate(conn: &Connection) -> Result<(), rusqlite::Error> {
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
