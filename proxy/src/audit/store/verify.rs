//! Chain verification: every row's hash, the tombstones retention left, and the derived
//! indexes up to their watermark.

use super::index::{lists, tag_digest, tags, user_entry};
use super::{hash_of, row_columns, AuditStore, StoreError, ROW_COLUMNS};
use crate::audit::event::AuditEvent;

impl AuditStore {
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
            .prepare(&format!(
                "SELECT seq, body, prev_hash, hash, 0, {ROW_COLUMNS} FROM events
                 UNION ALL SELECT seq, NULL, prev_hash, hash, checkpoint{} FROM tombstones
                 ORDER BY seq",
                ", NULL".repeat(ROW_COLUMNS.split(',').count())
            ))
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
            let columns = (5..5 + ROW_COLUMNS.split(',').count())
                .map(|i| r.get::<_, Option<String>>(i))
                .collect::<Result<Vec<_>, _>>()
                .map_err(self.err())?;
            if columns != row_columns(&e) {
                return Err(StoreError::Corrupt {
                    seq,
                    reason: "a column does not match the row's hashed body (the row was edited)"
                        .into(),
                });
            }
            if let Some(cp) = &e.checkpoint {
                let removed = pending.remove(&seq).unwrap_or_default();
                if removed.len() as u64 != cp.rows
                    || crate::audit::retention::digest(&removed) != cp.digest
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
