//! The insider-risk rollup: per tenant, user and day, the counts that baselines are built from,
//! kept in their own SQLite file and brought up to date incrementally. Each run reads only the
//! events after its cursor, a bounded page at a time, and commits each page's counts with the
//! cursor in one transaction, so a crash repeats nothing and a 10-million-event log costs no
//! more memory than one page.

use crate::audit::store::Activity;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// Minutes within which a new request after a refusal counts as a retry.
pub const RETRY_MINUTES: i64 = 10;
/// Event ids kept per user and day: the evidence an alert points to.
pub const EVENTS_PER_DAY: usize = 50;
/// A destination used by at least this many other users of the tenant is no longer shadow AI.
pub const RARE_HOST_USERS: i64 = 3;
/// Events read per page (and per transaction) when catching up.
pub const PAGE: usize = 20_000;

/// Why the rollup could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    #[error("risk rollup {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Audit(#[from] crate::audit::StoreError),
    #[error("{0}")]
    Source(String),
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS days (
  tenant TEXT NOT NULL,
  user TEXT NOT NULL,
  day TEXT NOT NULL,
  groups TEXT NOT NULL,
  requests INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  sensitive INTEGER NOT NULL,
  categories TEXT NOT NULL,
  blocked INTEGER NOT NULL,
  off_hours INTEGER NOT NULL,
  retries INTEGER NOT NULL,
  new_destinations INTEGER NOT NULL,
  events TEXT NOT NULL,
  PRIMARY KEY (tenant, day, user)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS users (
  tenant TEXT NOT NULL,
  user TEXT NOT NULL,
  first_day TEXT NOT NULL,
  last_refusal TEXT,
  PRIMARY KEY (tenant, user)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hosts (
  tenant TEXT NOT NULL,
  user TEXT NOT NULL,
  host TEXT NOT NULL,
  first_seen TEXT NOT NULL,
  PRIMARY KEY (tenant, user, host)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS hosts_by_host ON hosts(tenant, host);
CREATE TABLE IF NOT EXISTS cursors (
  source TEXT PRIMARY KEY,
  position INTEGER NOT NULL
);
";

/// One user's AI use on one day.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DayRow {
    pub tenant: String,
    pub user: String,
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// The groups of the user's latest request that day.
    pub groups: Vec<String>,
    pub requests: i64,
    pub bytes: i64,
    /// Requests with at least one sensitive finding, and per category.
    pub sensitive: i64,
    pub categories: BTreeMap<String, i64>,
    /// Blocked or coached requests, and refused AI destinations.
    pub blocked: i64,
    /// Requests before 07:00 or from 20:00 UTC.
    pub off_hours: i64,
    /// Sensitive or refused requests within [`RETRY_MINUTES`] of a refusal.
    pub retries: i64,
    /// AI hosts the user had never used before that are refused or rare in the tenant (not
    /// counted on the user's first day).
    pub new_destinations: i64,
    /// Ids of the day's notable events (sensitive, refused, retried, new places).
    pub events: Vec<String>,
}

/// What one catch-up did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CatchUp {
    pub events: u64,
    pub pages: u64,
    /// The most events held in memory at once (one page).
    pub max_page: usize,
    pub position: i64,
}

#[derive(Default)]
struct UserState {
    first_day: String,
    last_refusal: Option<String>,
    dirty: bool,
}

/// The rollup database (`<state_dir>/risk.db`).
pub struct RiskStore {
    conn: Connection,
    path: String,
}

fn parse_time(t: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
}

impl RiskStore {
    /// Opens (or creates) the rollup.
    pub fn open(path: &Path) -> Result<Self, RiskError> {
        let p = path.display().to_string();
        let err = |source| RiskError::Sqlite {
            path: p.clone(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        crate::risk::deliver::migrate(&conn).map_err(err)?;
        Ok(RiskStore { conn, path: p })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> RiskError + '_ {
        move |source| RiskError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    pub(super) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Queues the alerts that pass de-duplication and the cool-down (see
    /// [`crate::risk::deliver::enqueue`]); returns (queued, suppressed).
    pub fn enqueue(
        &mut self,
        alerts: &[(String, crate::risk::deliver::AlertMessage)],
        sinks: &[&str],
        now: i64,
        cooldown_secs: i64,
    ) -> Result<(usize, usize), RiskError> {
        let path = self.path.clone();
        crate::risk::deliver::enqueue(&mut self.conn, alerts, sinks, now, cooldown_secs)
            .map_err(|source| RiskError::Sqlite { path, source })
    }

    /// Deliveries due at `now`.
    pub fn due(
        &self,
        now: i64,
        limit: usize,
    ) -> Result<Vec<crate::risk::deliver::Pending>, RiskError> {
        crate::risk::deliver::due(&self.conn, now, limit).map_err(self.err())
    }

    /// How far `source` has been read (0: not yet).
    pub fn position(&self, source: &str) -> Result<i64, RiskError> {
        self.conn
            .query_row(
                "SELECT position FROM cursors WHERE source = ?1",
                [source],
                |r| r.get(0),
            )
            .optional()
            .map(|p| p.unwrap_or(0))
            .map_err(self.err())
    }

    /// Reads the local usage log from the cursor to its end, a page at a time.
    pub fn catch_up(&mut self, audit: &crate::audit::AuditStore) -> Result<CatchUp, RiskError> {
        self.catch_up_with(audit, PAGE)
    }

    /// [`Self::catch_up`] with a given page size.
    pub fn catch_up_with(
        &mut self,
        audit: &crate::audit::AuditStore,
        page: usize,
    ) -> Result<CatchUp, RiskError> {
        let mut position = self.position("local")?;
        let last = audit.last_row()?.map_or(0, |(seq, _)| seq);
        if last < position {
            // A new log file (its numbering restarted): read it from the start, and say so in
            // the cursor too (ingest skips what the cursor says is counted).
            tracing::warn!(
                position,
                last,
                "the usage log is behind the risk rollup's cursor; reading it from the start"
            );
            self.conn
                .execute("UPDATE cursors SET position = 0 WHERE source = 'local'", [])
                .map_err(self.err())?;
            position = 0;
        }
        let mut out = CatchUp {
            position,
            ..CatchUp::default()
        };
        loop {
            let events = audit.activity_after(position, page)?;
            let Some(end) = events.last().map(|e| e.seq) else {
                break;
            };
            self.ingest("local", &events, end)?;
            out.events += events.len() as u64;
            out.pages += 1;
            out.max_page = out.max_page.max(events.len());
            position = end;
            out.position = end;
            if events.len() < page {
                break;
            }
        }
        Ok(out)
    }

    /// Adds one page of `source`'s events (in its order) and moves its cursor to `position`, in
    /// one transaction. Another process ingesting the same source waits on the write lock and
    /// then skips what is already counted.
    pub fn ingest(
        &mut self,
        source: &str,
        events: &[Activity],
        position: i64,
    ) -> Result<(), RiskError> {
        let path = self.path.clone();
        let err = move |source| RiskError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(&err)?;
        let done: i64 = tx
            .query_row(
                "SELECT coalesce((SELECT position FROM cursors WHERE source = ?1), 0)",
                [source],
                |r| r.get(0),
            )
            .map_err(&err)?;
        let mut days: HashMap<(String, String, String), DayRow> = HashMap::new();
        let mut users: HashMap<(String, String), UserState> = HashMap::new();
        let mut hosts: HashSet<(String, String, String)> = HashSet::new();
        for e in events.iter().filter(|e| e.seq > done) {
            let day = e.time.get(..10).unwrap_or_default().to_string();
            let ukey = (e.tenant.clone(), e.user.clone());
            if !users.contains_key(&ukey) {
                let found = tx
                    .query_row(
                        "SELECT first_day, last_refusal FROM users WHERE tenant = ?1 AND user = ?2",
                        params![e.tenant, e.user],
                        |r| {
                            Ok(UserState {
                                first_day: r.get(0)?,
                                last_refusal: r.get(1)?,
                                dirty: false,
                            })
                        },
                    )
                    .optional()
                    .map_err(&err)?;
                users.insert(
                    ukey.clone(),
                    found.unwrap_or(UserState {
                        first_day: day.clone(),
                        last_refusal: None,
                        dirty: true,
                    }),
                );
            }
            let dkey = (e.tenant.clone(), day.clone(), e.user.clone());
            if !days.contains_key(&dkey) {
                let found = load_day(&tx, &e.tenant, &day, &e.user).map_err(&err)?;
                days.insert(
                    dkey.clone(),
                    found.unwrap_or_else(|| DayRow {
                        tenant: e.tenant.clone(),
                        user: e.user.clone(),
                        day: day.clone(),
                        ..DayRow::default()
                    }),
                );
            }
            // A destination new to the user counts when it is refused (unsanctioned) or rare in
            // the tenant (fewer than RARE_HOST_USERS others use it): shadow AI, not the tool
            // everyone is adopting.
            let new_host = !e.host.is_empty()
                && {
                    let hkey = (e.tenant.clone(), e.user.clone(), e.host.clone());
                    if hosts.contains(&hkey) {
                        false
                    } else {
                        let others: i64 = tx
                        .query_row(
                            "SELECT count(*) FROM (SELECT 1 FROM hosts WHERE tenant = ?1 AND host = ?2 LIMIT ?3)",
                            params![e.tenant, e.host, RARE_HOST_USERS],
                            |r| r.get(0),
                        )
                        .map_err(&err)?;
                        let inserted = tx
                        .execute(
                            "INSERT OR IGNORE INTO hosts (tenant, user, host, first_seen) VALUES (?1, ?2, ?3, ?4)",
                            params![e.tenant, e.user, e.host, e.time],
                        )
                        .map_err(&err)?;
                        hosts.insert(hkey);
                        inserted == 1
                            && (e.kind == "blocked_destination" || others < RARE_HOST_USERS)
                    }
                };
            let u = users.get_mut(&ukey).expect("inserted above");
            let d = days.get_mut(&dkey).expect("inserted above");
            let mut notable = false;
            if e.kind == "ai_request" {
                d.requests += 1;
                d.bytes += e.bytes;
                if !e.categories.is_empty() {
                    d.sensitive += 1;
                    notable = true;
                    for c in &e.categories {
                        *d.categories.entry(c.clone()).or_default() += 1;
                    }
                }
                let hour: u32 = e
                    .time
                    .get(11..13)
                    .and_then(|h| h.parse().ok())
                    .unwrap_or(12);
                if !(7..20).contains(&hour) {
                    d.off_hours += 1;
                }
            }
            let refused = e.kind == "blocked_destination"
                || matches!(e.decision.as_str(), "block" | "coach" | "blocked");
            if refused {
                d.blocked += 1;
                notable = true;
            }
            // A retry is a request soon after a refusal (not the refusal itself) that is
            // itself sensitive or refused: trying to get the same thing through. A clean
            // resend is compliance, not a sign.
            if (refused || !e.categories.is_empty())
                && u.last_refusal.as_deref() != Some(e.time.as_str())
            {
                if let (Some(prev), Some(now)) = (
                    u.last_refusal.as_deref().and_then(parse_time),
                    parse_time(&e.time),
                ) {
                    let gap = now - prev;
                    if !gap.is_negative() && gap.whole_minutes() <= RETRY_MINUTES {
                        d.retries += 1;
                        notable = true;
                    }
                }
            }
            if new_host && day != u.first_day {
                d.new_destinations += 1;
                notable = true;
            }
            if notable && d.events.len() < EVENTS_PER_DAY && !d.events.contains(&e.id) {
                d.events.push(e.id.clone());
            }
            if !e.groups.is_empty() {
                d.groups = e.groups.clone();
            }
            // The latest refusal stays the reference for [`RETRY_MINUTES`], whatever comes
            // between (a clean request in between does not excuse the next attempt). Sources
            // read one node at a time may go back in time: keep the latest.
            if refused
                && u.last_refusal
                    .as_deref()
                    .is_none_or(|t| t < e.time.as_str())
            {
                u.last_refusal = Some(e.time.clone());
                u.dirty = true;
            }
        }
        for ((tenant, user), u) in users.iter().filter(|(_, u)| u.dirty) {
            tx.execute(
                "INSERT INTO users (tenant, user, first_day, last_refusal) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (tenant, user) DO UPDATE SET last_refusal = excluded.last_refusal",
                params![tenant, user, u.first_day, u.last_refusal],
            )
            .map_err(&err)?;
        }
        for d in days.values() {
            tx.execute(
                "INSERT OR REPLACE INTO days (tenant, user, day, groups, requests, bytes, sensitive,
                   categories, blocked, off_hours, retries, new_destinations, events)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    d.tenant,
                    d.user,
                    d.day,
                    d.groups.join(","),
                    d.requests,
                    d.bytes,
                    d.sensitive,
                    serde_json::to_string(&d.categories).expect("a map serializes"),
                    d.blocked,
                    d.off_hours,
                    d.retries,
                    d.new_destinations,
                    serde_json::to_string(&d.events).expect("a list serializes"),
                ],
            )
            .map_err(&err)?;
        }
        tx.execute(
            "INSERT INTO cursors (source, position) VALUES (?1, ?2)
             ON CONFLICT (source) DO UPDATE SET position = max(position, excluded.position)",
            params![source, position],
        )
        .map_err(&err)?;
        tx.commit().map_err(&err)
    }

    /// Every user's days of `tenant` (every tenant: `None`) from `from` to `to`, inclusive.
    pub fn days(
        &self,
        tenant: Option<&str>,
        from: &str,
        to: &str,
    ) -> Result<Vec<DayRow>, RiskError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT tenant, user, day, groups, requests, bytes, sensitive, categories, blocked,
                        off_hours, retries, new_destinations, events
                 FROM days WHERE (?1 IS NULL OR tenant = ?1) AND day >= ?2 AND day <= ?3",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map(params![tenant, from, to], day_row)
            .map_err(self.err())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.err())
    }

    /// Every (tenant, user) the rollup knows, for `tenant` (every tenant: `None`).
    pub fn users(&self, tenant: Option<&str>) -> Result<Vec<(String, String)>, RiskError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT tenant, user FROM users WHERE (?1 IS NULL OR tenant = ?1)")
            .map_err(self.err())?;
        let rows = stmt
            .query_map(params![tenant], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.err())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.err())
    }

    /// The tenants the rollup knows.
    pub fn tenants(&self) -> Result<Vec<String>, RiskError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT tenant FROM users ORDER BY tenant")
            .map_err(self.err())?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(self.err())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.err())
    }

    /// Forgets days before `day` (the rollup's retention; baselines need a few weeks).
    pub fn prune(&self, day: &str) -> Result<usize, RiskError> {
        self.conn
            .execute("DELETE FROM days WHERE day < ?1", [day])
            .map_err(self.err())
    }
}

fn day_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DayRow> {
    let groups: String = r.get(3)?;
    let categories: String = r.get(7)?;
    let events: String = r.get(12)?;
    Ok(DayRow {
        tenant: r.get(0)?,
        user: r.get(1)?,
        day: r.get(2)?,
        groups: groups
            .split(',')
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .collect(),
        requests: r.get(4)?,
        bytes: r.get(5)?,
        sensitive: r.get(6)?,
        categories: serde_json::from_str(&categories).unwrap_or_default(),
        blocked: r.get(8)?,
        off_hours: r.get(9)?,
        retries: r.get(10)?,
        new_destinations: r.get(11)?,
        events: serde_json::from_str(&events).unwrap_or_default(),
    })
}

fn load_day(
    conn: &Connection,
    tenant: &str,
    day: &str,
    user: &str,
) -> rusqlite::Result<Option<DayRow>> {
    conn.query_row(
        "SELECT tenant, user, day, groups, requests, bytes, sensitive, categories, blocked,
                off_hours, retries, new_destinations, events
         FROM days WHERE tenant = ?1 AND day = ?2 AND user = ?3",
        params![tenant, day, user],
        day_row,
    )
    .optional()
}
