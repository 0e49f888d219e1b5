//! Per-tenant retention: old events are removed, and the removal is itself an audited,
//! chained `retention` event whose checkpoint (count and digest of the removed rows' hashes)
//! lets `audit verify` still check the whole chain through the rows' tombstones.

use super::event::{AuditEvent, Checkpoint};
use super::store::{insert_chained, sqlite_err, AuditStore, StoreError};
use ring::digest;
use rusqlite::params;
use std::collections::HashMap;

/// How long each tenant's events are kept.
#[derive(Debug, Clone, Default)]
pub struct RetentionPolicy {
    /// Days for tenants not listed; `None` keeps them forever.
    pub default_days: Option<u32>,
    pub tenants: HashMap<String, u32>,
    /// Fleet mode: the shipper's cursor file. Only rows ClickHouse has acknowledged (at or
    /// before the cursor) may be removed; a missing cursor removes nothing.
    pub shipped_through: Option<std::path::PathBuf>,
}

impl RetentionPolicy {
    /// The retention for `tenant`, if any.
    pub fn days(&self, tenant: &str) -> Option<u32> {
        self.tenants.get(tenant).copied().or(self.default_days)
    }

    /// Whether anything is ever removed.
    pub fn is_forever(&self) -> bool {
        self.default_days.is_none() && self.tenants.is_empty()
    }
}

/// SHA-256 over `seq:hash` lines: binds a checkpoint to exactly the rows it removed.
pub fn digest(rows: &[(i64, String)]) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for (seq, hash) in rows {
        ctx.update(format!("{seq}:{hash}\n").as_bytes());
    }
    policy::identity::hex_encode(ctx.finish().as_ref())
}

/// RFC 3339 time `days` ago.
pub fn cutoff(days: u32) -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::days(i64::from(days));
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f).unwrap_or_default()
}

impl AuditStore {
    /// Removes `tenant`'s events older than `before` (checkpoints stay), leaving tombstones and
    /// appending the checkpoint event, in one transaction. Returns the checkpoint, if any row went.
    pub fn purge(&mut self, tenant: &str, before: &str) -> Result<Option<AuditEvent>, StoreError> {
        self.purge_through(tenant, before, i64::MAX)
    }

    /// [`Self::purge`], removing no row after `through` (fleet mode: what ClickHouse has not
    /// acknowledged stays).
    pub fn purge_through(
        &mut self,
        tenant: &str,
        before: &str,
        through: i64,
    ) -> Result<Option<AuditEvent>, StoreError> {
        let path = self.path.clone();
        let err = sqlite_err(&path);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(&err)?;
        let rows: Vec<(i64, String, String)> = {
            let mut stmt = tx
                .prepare(
                    "SELECT seq, prev_hash, hash FROM events
                     WHERE tenant = ?1 AND time < ?2 AND kind != 'retention' AND seq <= ?3 ORDER BY seq",
                )
                .map_err(&err)?;
            let it = stmt
                .query_map(params![tenant, before, through], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .map_err(&err)?;
            it.collect::<Result<_, _>>().map_err(&err)?
        };
        if rows.is_empty() {
            return Ok(None);
        }
        let removed: Vec<(i64, String)> = rows.iter().map(|(s, _, h)| (*s, h.clone())).collect();
        let mut checkpoint = AuditEvent {
            id: format!("retention-{}-{}", tenant, rows[rows.len() - 1].0),
            time: super::event::now(),
            kind: "retention".into(),
            tenant: tenant.into(),
            host: "audit".into(),
            decision: "purged".into(),
            checkpoint: Some(Checkpoint {
                before: before.into(),
                rows: rows.len() as u64,
                first_seq: rows[0].0,
                last_seq: rows[rows.len() - 1].0,
                digest: digest(&removed),
            }),
            ..AuditEvent::default()
        };
        let mut prev = self.last_hash.clone();
        insert_chained(&tx, &mut prev, std::slice::from_mut(&mut checkpoint)).map_err(&err)?;
        {
            let mut tomb = tx
                .prepare("INSERT INTO tombstones (seq, prev_hash, hash, checkpoint) VALUES (?1, ?2, ?3, ?4)")
                .map_err(&err)?;
            let mut del = tx
                .prepare("DELETE FROM events WHERE seq = ?1")
                .map_err(&err)?;
            for (seq, prev_hash, hash) in &rows {
                tomb.execute(params![seq, prev_hash, hash, checkpoint.seq])
                    .map_err(&err)?;
                del.execute(params![seq]).map_err(&err)?;
            }
        }
        // Checkpoints carry no tags, so this removes exactly the purged rows' tags.
        tx.execute(
            "DELETE FROM event_tags WHERE tenant = ?1 AND time < ?2 AND seq <= ?3",
            params![tenant, before, through],
        )
        .map_err(&err)?;
        tx.execute(
            "DELETE FROM user_index WHERE tenant = ?1 AND time < ?2 AND seq <= ?3",
            params![tenant, before, through],
        )
        .map_err(&err)?;
        tx.commit().map_err(&err)?;
        self.last_hash = prev;
        Ok(Some(checkpoint))
    }

    /// Applies `policy` to every tenant in the log; returns (tenant, rows removed).
    pub fn apply_retention(
        &mut self,
        policy: &RetentionPolicy,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let tenants: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT DISTINCT tenant FROM events")
                .map_err(self.err())?;
            let it = stmt.query_map([], |r| r.get(0)).map_err(self.err())?;
            it.collect::<Result<_, _>>().map_err(self.err())?
        };
        let through = match &policy.shipped_through {
            None => i64::MAX,
            Some(cursor) => std::fs::read_to_string(cursor)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0),
        };
        let mut out = Vec::new();
        for t in tenants {
            if let Some(days) = policy.days(&t) {
                if let Some(cp) = self.purge_through(&t, &cutoff(days), through)? {
                    out.push((t, cp.checkpoint.map_or(0, |c| c.rows)));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Filter;
    use rusqlite::Connection;

    fn ev(i: usize, tenant: &str, time: &str) -> AuditEvent {
        AuditEvent {
            id: format!("r{i}"),
            time: time.into(),
            kind: "ai_request".into(),
            tenant: tenant.into(),
            host: "api.openai.com".into(),
            decision: "log".into(),
            reasons: vec![crate::audit::event::ReasonRow {
                rule: "log-pii".into(),
                action: "log".into(),
                category: Some("pii".into()),
                entity: "email".into(),
                count: 1,
                max_score: 0.9,
            }],
            ..AuditEvent::default()
        }
    }

    fn store(name: &str) -> (AuditStore, crate::audit::store::tests::TempDb) {
        let p = crate::audit::store::tests::tmp(&format!("retention-{name}"));
        let mut s = AuditStore::open(&p).unwrap();
        // Old and new events interleaved across two tenants.
        let mut batch: Vec<AuditEvent> = (0..20)
            .map(|i| {
                let tenant = if i % 2 == 0 { "acme" } else { "globex" };
                let time = if i < 12 {
                    "2020-01-01T00:00:00.000Z"
                } else {
                    "2099-01-01T00:00:00.000Z"
                };
                ev(i, tenant, time)
            })
            .collect();
        s.insert(&mut batch).unwrap();
        (s, p)
    }

    fn count(s: &AuditStore, tenant: &str) -> usize {
        s.query(&Filter {
            tenant: Some(tenant.into()),
            kind: Some("ai_request".into()),
            limit: 1000,
            ..Filter::default()
        })
        .unwrap()
        .len()
    }

    #[test]
    fn in_fleet_mode_only_rows_clickhouse_acknowledged_are_removed() {
        let (mut s, p) = store("fleet");
        let cursor = p.with_extension("cursor");
        let _ = std::fs::remove_file(&cursor);
        let mut policy = RetentionPolicy {
            default_days: None,
            tenants: [("acme".to_string(), 30)].into(),
            shipped_through: Some(cursor.clone()),
        };
        // Nothing acknowledged yet: nothing goes.
        assert_eq!(s.apply_retention(&policy).unwrap(), []);
        // Rows 1..=4 acknowledged: acme's old rows 1 and 3 go; 5, 7, 9, 11 wait.
        std::fs::write(&cursor, "4\n").unwrap();
        assert_eq!(
            s.apply_retention(&policy).unwrap(),
            [("acme".to_string(), 2)]
        );
        assert_eq!(count(&s, "acme"), 8);
        policy.shipped_through = None;
        assert_eq!(
            s.apply_retention(&policy).unwrap(),
            [("acme".to_string(), 4)]
        );
        assert!(s.verify().is_ok());
        let _ = std::fs::remove_file(&cursor);
    }

    #[test]
    fn retention_removes_one_tenants_old_rows_and_the_chain_still_verifies() {
        let (mut s, _p) = store("ok");
        let policy = RetentionPolicy {
            default_days: None,
            tenants: [("acme".to_string(), 30)].into(),
            shipped_through: None,
        };
        assert_eq!(
            s.apply_retention(&policy).unwrap(),
            [("acme".to_string(), 6)]
        );
        assert_eq!(count(&s, "acme"), 4);
        assert_eq!(
            count(&s, "globex"),
            10,
            "another tenant's retention is its own"
        );
        // 14 remaining events plus the checkpoint; the purged rows' tags went with them.
        assert_eq!(s.verify().unwrap(), 15);
        let pii = |tenant: &str| {
            s.query(&Filter {
                tenant: Some(tenant.into()),
                category: Some("pii".into()),
                limit: 1000,
                ..Filter::default()
            })
            .unwrap()
            .len()
        };
        assert_eq!((pii("acme"), pii("globex")), (4, 10));
        let cp = s
            .query(&Filter {
                kind: Some("retention".into()),
                ..Filter::default()
            })
            .unwrap();
        assert_eq!(cp.len(), 1);
        assert_eq!(cp[0].checkpoint.as_ref().unwrap().rows, 6);
        // New events chain on after the checkpoint, and a second run removes nothing.
        s.insert(&mut [ev(50, "acme", "2099-01-02T00:00:00.000Z")])
            .unwrap();
        assert!(s.apply_retention(&policy).unwrap().is_empty());
        assert_eq!(s.verify().unwrap(), 16);
    }

    #[test]
    fn removal_outside_retention_is_caught() {
        let (mut s, p) = store("tamper");
        s.purge("acme", "2021-01-01T00:00:00Z").unwrap().unwrap();
        let c = Connection::open(&p).unwrap();
        // Hiding one more row behind a forged tombstone does not match the checkpoint.
        c.execute("INSERT INTO tombstones SELECT seq, prev_hash, hash, (SELECT checkpoint FROM tombstones LIMIT 1) FROM events WHERE seq = 2", []).unwrap();
        c.execute("DELETE FROM events WHERE seq = 2", []).unwrap();
        let e = s.verify().unwrap_err().to_string();
        assert!(e.contains("retention checkpoint"), "{e}");
        // A row removed with no tombstone at all breaks the chain at the next row.
        let (s2, p2) = store("gap");
        let c2 = Connection::open(&p2).unwrap();
        c2.execute("DELETE FROM events WHERE seq = 5", []).unwrap();
        let e = s2.verify().unwrap_err().to_string();
        assert!(e.contains("row 6") && e.contains("removed"), "{e}");
    }
}
