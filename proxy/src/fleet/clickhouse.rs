//! The usage log in ClickHouse (fleet mode), over its HTTP interface with `JSONEachRow`.
//!
//! Each node keeps its SQLite log as the durable spool: a request's record is committed there
//! before the forward, as always. A shipper thread sends committed rows to ClickHouse in
//! batches, oldest first, and moves its cursor (a file in `state_dir`, replaced atomically)
//! only after ClickHouse acknowledged the batch: at least once. A batch sent twice (a crash
//! between the insert and the cursor, a retried timeout) lands on the same sorting key of a
//! `ReplacingMergeTree`, and every read uses `FINAL`, so queries see each event exactly once.
//! While ClickHouse is away the shipper retries with backoff and nothing is lost; its lag is
//! exported as metrics.
//!
//! Only features of both ClickHouse 18.16 (Debian's) and current releases are used: no query
//! parameters (literals are escaped here), no `DateTime64`, `LIMIT BY` and `FINAL` only.

use crate::audit::{AuditEvent, AuditStore, Filter, StoredRow};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why ClickHouse could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ChError {
    #[error("ClickHouse at {url}: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("ClickHouse answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("ClickHouse answered something unreadable: {0}")]
    Parse(String),
    #[error(transparent)]
    Local(#[from] crate::audit::StoreError),
}

/// The endpoint as errors may show it: a user and password in the URL stay out of the message,
/// which reaches logs and (as a 503) the auditors of every tenant.
fn without_credentials(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string().trim_end_matches('/').to_string()
        }
        Err(_) => "(the configured URL)".into(),
    }
}

/// A ClickHouse endpoint and the database the log lives in.
#[derive(Clone)]
pub struct ClickHouse {
    http: reqwest::Client,
    url: String,
    database: String,
}

/// A string literal for ClickHouse SQL (18.16 has no query parameters).
fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

impl ClickHouse {
    /// An endpoint (`http://host:8123`) and database name; every call is bounded by `timeout`.
    pub fn new(url: &str, database: &str, timeout: Duration) -> Self {
        ClickHouse {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .no_proxy()
                .build()
                .expect("a plain HTTP client builds"),
            url: url.trim_end_matches('/').to_string(),
            database: database.to_string(),
        }
    }

    async fn run(&self, sql: &str, body: Option<Vec<u8>>) -> Result<String, ChError> {
        let req = match body {
            None => self
                .http
                .post(format!("{}/", self.url))
                .body(sql.to_string()),
            Some(b) => self
                .http
                .post(format!("{}/", self.url))
                .query(&[("query", sql)])
                .body(b),
        };
        let failed = |source: reqwest::Error| ChError::Http {
            url: without_credentials(&self.url),
            source: source.without_url(),
        };
        let r = req.send().await.map_err(failed)?;
        let status = r.status().as_u16();
        let text = r.text().await.map_err(failed)?;
        if status != 200 {
            return Err(ChError::Status {
                status,
                body: text.chars().take(500).collect(),
            });
        }
        Ok(text)
    }

    async fn rows(&self, sql: &str) -> Result<Vec<Value>, ChError> {
        let text = self.run(&format!("{sql} FORMAT JSONEachRow"), None).await?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| ChError::Parse(e.to_string())))
            .collect()
    }

    /// Creates the database and table if missing. Ordered for the auditors' queries (tenant,
    /// time); a re-sent row has the same key and is replaced, not doubled.
    pub async fn migrate(&self) -> Result<(), ChError> {
        let db = &self.database;
        self.run(&format!("CREATE DATABASE IF NOT EXISTS {db}"), None)
            .await?;
        self.run(
            &format!(
                "CREATE TABLE IF NOT EXISTS {db}.events (
                    node String, seq Int64, id String, time String, kind String, tenant String,
                    user String, provider String, model String, decision String,
                    categories Array(String), entities Array(String), rules Array(String),
                    groups Array(String), body String, prev_hash String, hash String
                ) ENGINE = ReplacingMergeTree
                PARTITION BY substring(time, 1, 7)
                ORDER BY (tenant, time, node, seq)"
            ),
            None,
        )
        .await?;
        Ok(())
    }

    /// Inserts one batch of a node's rows.
    pub async fn insert(&self, node: &str, rows: &[StoredRow]) -> Result<(), ChError> {
        let mut body = Vec::with_capacity(rows.len() * 1024);
        for r in rows {
            let mut v = serde_json::to_value(r).expect("rows serialize");
            v["node"] = Value::String(node.to_string());
            serde_json::to_writer(&mut body, &v).expect("rows serialize");
            body.push(b'\n');
        }
        let sql = format!("INSERT INTO {}.events FORMAT JSONEachRow", self.database);
        self.run(&sql, Some(body)).await.map(|_| ())
    }

    fn where_clause(f: &Filter) -> String {
        let mut w = String::from(" WHERE 1");
        let mut eq = |col: &str, v: &Option<String>| {
            if let Some(v) = v {
                w.push_str(&format!(" AND {col} = {}", lit(v)));
            }
        };
        eq("tenant", &f.tenant);
        eq("user", &f.user);
        eq("provider", &f.provider);
        eq("model", &f.model);
        eq("decision", &f.action);
        eq("kind", &f.kind);
        eq("id", &f.id);
        for (col, v) in [
            ("categories", &f.category),
            ("entities", &f.entity),
            ("rules", &f.rule),
            ("groups", &f.group),
        ] {
            if let Some(v) = v {
                w.push_str(&format!(" AND has({col}, {})", lit(v)));
            }
        }
        if let Some(s) = &f.since {
            w.push_str(&format!(" AND time >= {}", lit(s)));
        }
        if let Some(u) = &f.until {
            w.push_str(&format!(" AND time < {}", lit(u)));
        }
        w
    }

    /// Events matching `f` from every node, oldest first (or newest first), each once.
    /// Paging uses time (`since`/`until`), as `seq` is per node.
    pub async fn query(&self, f: &Filter) -> Result<Vec<AuditEvent>, ChError> {
        let limit = if f.limit == 0 {
            100
        } else {
            f.limit.min(10_000)
        };
        let order = if f.newest_first { "DESC" } else { "ASC" };
        let rows = self
            .rows(&format!(
                "SELECT node, seq, body, hash FROM {}.events FINAL{} ORDER BY time {order}, node {order}, seq {order} LIMIT {limit}",
                self.database,
                Self::where_clause(f)
            ))
            .await?;
        rows.into_iter()
            .map(|r| {
                let body = r["body"].as_str().unwrap_or_default();
                let mut e: AuditEvent =
                    serde_json::from_str(body).map_err(|e| ChError::Parse(e.to_string()))?;
                e.seq = num(&r["seq"]);
                e.hash = r["hash"].as_str().unwrap_or_default().to_string();
                Ok(e)
            })
            .collect()
    }

    /// Counts grouped by `by`, as [`AuditStore::stats`] does, over every node.
    pub async fn stats(&self, f: &Filter, by: &str) -> Result<Vec<(String, i64)>, ChError> {
        let key = match by {
            "category" => "arrayJoin(categories)",
            "entity" => "arrayJoin(entities)",
            "rule" => "arrayJoin(rules)",
            "group" => "arrayJoin(groups)",
            "day" => "substring(time, 1, 10)",
            "hour" => "substring(time, 1, 13)",
            "user" => "if(user = '', '-', user)",
            "provider" => "if(provider = '', '-', provider)",
            "model" => "if(model = '', '-', model)",
            "decision" | "action" => "decision",
            "tenant" => "tenant",
            "node" => "node",
            other => return Err(ChError::Parse(format!("cannot group by `{other}`"))),
        };
        let rows = self
            .rows(&format!(
                "SELECT {key} AS k, count() AS n FROM {}.events FINAL{} GROUP BY k ORDER BY n DESC, k",
                self.database,
                Self::where_clause(f)
            ))
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r["k"].as_str().unwrap_or_default().to_string(),
                    num(&r["n"]),
                )
            })
            .collect())
    }

    /// AI destinations seen across the fleet, as [`AuditStore::destinations`] reports them.
    pub async fn destinations(
        &self,
        f: &Filter,
    ) -> Result<Vec<crate::audit::store::Destination>, ChError> {
        let f = Filter {
            kind: None,
            ..f.clone()
        };
        let rows = self
            .rows(&format!(
                "SELECT visitParamExtractString(body, 'host') AS h, provider, kind, count() AS n, uniqExact(user) AS u
                 FROM {}.events FINAL{} AND provider != '' AND kind IN ('ai_request', 'tunnel', 'blocked_destination')
                 GROUP BY h, provider, kind ORDER BY n DESC, h LIMIT 500",
                self.database,
                Self::where_clause(&f)
            ))
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| crate::audit::store::Destination {
                host: r["h"].as_str().unwrap_or_default().to_string(),
                provider: r["provider"].as_str().unwrap_or_default().to_string(),
                status: match r["kind"].as_str() {
                    Some("ai_request") => "sanctioned",
                    Some("tunnel") => "tunnelled",
                    _ => "blocked",
                },
                events: num(&r["n"]),
                users: num(&r["u"]),
            })
            .collect())
    }

    /// The nodes whose rows are in ClickHouse.
    pub async fn nodes(&self) -> Result<Vec<String>, ChError> {
        let rows = self
            .rows(&format!(
                "SELECT DISTINCT node FROM {}.events ORDER BY node",
                self.database
            ))
            .await?;
        Ok(rows
            .iter()
            .map(|r| r["node"].as_str().unwrap_or_default().to_string())
            .collect())
    }

    /// One node's AI requests and refused AI destinations after `seq`, in its order, at most
    /// `limit`: what the insider-risk rollup reads in fleet mode (each node's `seq` is its own,
    /// and its rows arrive in that order, so a per-node cursor misses nothing).
    pub async fn activity_after(
        &self,
        node: &str,
        seq: i64,
        limit: usize,
    ) -> Result<Vec<crate::audit::store::Activity>, ChError> {
        let rows = self
            .rows(&format!(
                "SELECT seq, id, time, kind, tenant, user, groups, decision, categories,
                        visitParamExtractInt(body, 'request_bytes') AS bytes,
                        visitParamExtractString(body, 'host') AS host
                 FROM {}.events FINAL
                 WHERE node = {} AND seq > {seq} AND kind IN ('ai_request', 'blocked_destination')
                 ORDER BY seq LIMIT {limit}",
                self.database,
                lit(node)
            ))
            .await?;
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let list = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(rows
            .iter()
            .map(|r| crate::audit::store::Activity {
                seq: num(&r["seq"]),
                id: text(&r["id"]),
                time: text(&r["time"]),
                kind: text(&r["kind"]),
                tenant: text(&r["tenant"]),
                user: Some(text(&r["user"]))
                    .filter(|u| !u.is_empty())
                    .unwrap_or_else(|| "-".into()),
                groups: list(&r["groups"]),
                decision: text(&r["decision"]),
                categories: list(&r["categories"]),
                bytes: num(&r["bytes"]),
                host: text(&r["host"]),
            })
            .collect())
    }

    /// Checks every node's hash chain as stored in ClickHouse: each row's hash is its body
    /// chained to the row before, and each node's rows are contiguous. Names every gap and
    /// edit; `Ok` lists (node, rows verified).
    pub async fn verify(&self) -> Result<Vec<(String, u64)>, Vec<String>> {
        let nodes = self
            .rows(&format!(
                "SELECT DISTINCT node FROM {}.events",
                self.database
            ))
            .await
            .map_err(|e| vec![e.to_string()])?;
        let mut ok = Vec::new();
        let mut problems = Vec::new();
        for n in nodes {
            let node = n["node"].as_str().unwrap_or_default().to_string();
            let rows = self
                .rows(&format!(
                    "SELECT seq, body, prev_hash, hash FROM {}.events FINAL WHERE node = {} ORDER BY seq",
                    self.database,
                    lit(&node)
                ))
                .await
                .map_err(|e| vec![e.to_string()])?;
            let mut prev: Option<(i64, String)> = None;
            let mut count = 0u64;
            for r in rows {
                let seq = num(&r["seq"]);
                let body = r["body"].as_str().unwrap_or_default();
                let prev_hash = r["prev_hash"].as_str().unwrap_or_default();
                let hash = r["hash"].as_str().unwrap_or_default();
                if crate::audit::hash_of(prev_hash, body.as_bytes()) != hash {
                    problems.push(format!(
                        "node {node}: row {seq} was edited (its hash does not match its content)"
                    ));
                }
                if let Some((pseq, phash)) = &prev {
                    if seq != pseq + 1 || prev_hash != phash {
                        problems.push(format!(
                            "node {node}: gap between rows {pseq} and {seq} (rows missing or reordered)"
                        ));
                    }
                }
                prev = Some((seq, hash.to_string()));
                count += 1;
            }
            ok.push((node, count));
        }
        if problems.is_empty() {
            Ok(ok)
        } else {
            Err(problems)
        }
    }
}

fn num(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or_default(),
        Value::String(s) => s.parse().unwrap_or_default(),
        _ => 0,
    }
}

/// Ships one node's committed rows to ClickHouse, for as long as the process runs.
pub struct Shipper {
    pub ch: ClickHouse,
    pub node: String,
    pub audit_db: PathBuf,
    /// The last `seq` ClickHouse acknowledged, kept across restarts.
    pub cursor: PathBuf,
    pub batch: usize,
    pub interval: Duration,
}

fn read_cursor(path: &Path) -> i64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

fn write_cursor(path: &Path, seq: i64) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{seq}\n"))?;
    std::fs::rename(&tmp, path)
}

impl Shipper {
    /// The last acknowledged `seq` (0 before the first batch).
    pub fn acknowledged(&self) -> i64 {
        read_cursor(&self.cursor)
    }

    /// Runs forever: migrate, then batches as fast as ClickHouse takes them, waiting
    /// `interval` when caught up, backing off (to 30 s) while ClickHouse fails.
    pub async fn run(self) {
        let mut backoff = Duration::from_millis(200);
        let mut migrated = false;
        let mut store: Option<AuditStore> = None;
        loop {
            let step = async {
                if !migrated {
                    self.ch.migrate().await?;
                    migrated = true;
                }
                if store.is_none() {
                    store = Some(AuditStore::open(&self.audit_db)?);
                }
                let db = store.as_ref().expect("opened above");
                let from = read_cursor(&self.cursor);
                let rows = db.rows_after(from, self.batch)?;
                self.report_lag(db, from, rows.first());
                let Some(last) = rows.last().map(|r| r.seq) else {
                    return Ok::<usize, ChError>(0);
                };
                self.ch.insert(&self.node, &rows).await?;
                write_cursor(&self.cursor, last).map_err(|e| {
                    ChError::Local(crate::audit::StoreError::Corrupt {
                        seq: last,
                        reason: format!("shipper cursor {}: {e}", self.cursor.display()),
                    })
                })?;
                crate::metrics::METRICS.shipped.inc_by(rows.len() as u64);
                Ok(rows.len())
            };
            match step.await {
                Ok(n) => {
                    backoff = Duration::from_millis(200);
                    if n < self.batch {
                        tokio::time::sleep(self.interval).await;
                    }
                }
                Err(e) => {
                    crate::metrics::METRICS.ship_failures.inc();
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "usage log not shipped to ClickHouse yet; the local log keeps it");
                    if matches!(e, ChError::Local(_)) {
                        store = None;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    fn report_lag(&self, db: &AuditStore, from: i64, oldest: Option<&StoredRow>) {
        let last = db.last_row().ok().flatten();
        let events = last.as_ref().map_or(0, |(seq, _)| (seq - from).max(0));
        let seconds = oldest
            .and_then(|r| {
                time::OffsetDateTime::parse(&r.time, &time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .map_or(0.0, |t| {
                (time::OffsetDateTime::now_utc() - t)
                    .as_seconds_f64()
                    .max(0.0)
            });
        crate::metrics::METRICS.ship_lag_events.set(events);
        crate::metrics::METRICS.ship_lag_seconds.set(seconds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unreachable_endpoint_is_named_without_its_credentials() {
        // A closed port on loopback: the request fails, and the error is what a 503 shows.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let ch = ClickHouse::new(
            &format!("http://audit:s3cret-pw@127.0.0.1:{port}"),
            "pw",
            Duration::from_secs(2),
        );
        let e = ch.run("SELECT 1", None).await.unwrap_err().to_string();
        assert!(e.contains("127.0.0.1"), "{e}");
        assert!(!e.contains("s3cret") && !e.contains("audit:"), "{e}");
    }

    #[test]
    fn literals_cannot_break_out_of_their_quotes() {
        assert_eq!(lit("a'b"), "'a\\'b'");
        assert_eq!(lit("a\\'"), "'a\\\\\\''");
        let f = Filter {
            tenant: Some("x' OR 1=1 --".into()),
            category: Some("secret')".into()),
            ..Filter::default()
        };
        let w = ClickHouse::where_clause(&f);
        assert_eq!(
            w,
            " WHERE 1 AND tenant = 'x\\' OR 1=1 --' AND has(categories, 'secret\\')')"
        );
    }
}
