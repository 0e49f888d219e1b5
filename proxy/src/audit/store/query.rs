//! Reading the log back: filtered queries (the tag and user indexes plus their unmerged
//! tail), statistics, the fleet's export cursor and the destinations report.

use super::index::items;
use super::{AuditStore, StoreError};
use crate::audit::event::AuditEvent;
use rusqlite::{params, params_from_iter, OptionalExtension};

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

/// A `since`/`until` bound as the log stores times (UTC, milliseconds, `Z`), so that comparing
/// them as text compares instants: `2024-05-01T10:00:00Z` as given would sort after
/// `10:00:00.500Z` and an offset would be hours off. An RFC 3339 time or a date (midnight UTC).
pub fn log_time(given: &str) -> Result<String, String> {
    use time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(given.trim(), &Rfc3339)
        .or_else(|_| {
            let date = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(given.trim(), &date).map(|d| d.midnight().assume_utc())
        })
        .map_err(|_| format!("`{given}` is not an RFC 3339 time or a date (YYYY-MM-DD)"))?;
    let stored = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&stored)
        .map_err(|e| format!("`{given}`: {e}"))
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
    /// Bounds, inclusive / exclusive, in the stored form ([`log_time`]).
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

impl AuditStore {
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
                    categories: items(&r.get::<_, String>(9)?),
                    entities: items(&r.get::<_, String>(10)?),
                    rules: items(&r.get::<_, String>(11)?),
                    groups: items(&r.get::<_, String>(12)?),
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
}
