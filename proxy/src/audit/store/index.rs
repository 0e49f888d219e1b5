//! The user and tag indexes, derived from the chained rows out of the commit path (by the
//! writer's checkpoint thread), and the entries `verify` digests them by.

use super::{AuditStore, StoreError};
use ring::digest;
use rusqlite::{params, Connection};

/// Indexes the users and tags of up to `max_rows` events after `user_index_state.upto`, each in
/// key order, in one short transaction; returns how many events (seq numbers) it covered. Run
/// off the commit path (the writer's checkpoint thread); until it runs, queries read the
/// unindexed tail instead.
pub(in crate::audit) fn merge_indexes(
    conn: &Connection,
    max_rows: i64,
) -> Result<usize, rusqlite::Error> {
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
    reasons: Vec<crate::audit::event::ReasonRow>,
    #[serde(default)]
    groups: Vec<String>,
}

/// Writes the `event_tags` rows of the events in `(from, to]`, in key order (each B-tree page
/// dirtied once per call, not once per row). They come from each chained body, as `verify`
/// derives them, not from the list columns: an item holding a comma, or an empty one, reads
/// the same both ways. A body that does not parse gets no rows; `verify` reports that row.
pub(super) fn write_tags(conn: &Connection, from: i64, to: i64) -> Result<(), rusqlite::Error> {
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
pub(super) fn tags(
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
pub(super) fn lists(
    reasons: &[crate::audit::event::ReasonRow],
) -> (Vec<String>, Vec<String>, Vec<String>) {
    (
        crate::audit::event::categories_of(reasons),
        reasons.iter().map(|r| r.entity.clone()).collect(),
        reasons.iter().map(|r| r.rule.clone()).collect(),
    )
}

/// An order-independent digest of `(seq, tag)` pairs: the sum of their truncated SHA-256.
pub(super) fn tag_digest(sum: &mut u64, seq: i64, tag: &str) {
    let d = digest::digest(&digest::SHA256, format!("{seq}:{tag}").as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d.as_ref()[..8]);
    *sum = sum.wrapping_add(u64::from_le_bytes(b));
}

/// A `user_index` row as `verify` digests it: tenant and user prefixed by their byte lengths
/// (so no choice of names can make two rows digest alike), as the SQL side builds it.
pub(super) fn user_entry(tenant: &str, user: &str, time: &str) -> String {
    format!("{}:{tenant}{}:{user}{time}", tenant.len(), user.len())
}

/// Splits a stored `,a,b,` list.
pub(super) fn items(list: &str) -> Vec<String> {
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl AuditStore {
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
}
