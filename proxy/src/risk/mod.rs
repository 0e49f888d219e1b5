//! Insider-risk analytics over the usage log: each user's AI use on a day against their own
//! baseline and their peers', with alerts that explain themselves (which signals, how far, and
//! the ids of the events behind them, never content), delivered to a SIEM and a webhook.
//!
//! - [`rollup`]: per user and day counts, updated incrementally from the log (or ClickHouse);
//! - [`score`]: robust, seasonal, peer-relative scoring of one day;
//! - [`deliver`]: de-duplicated, cooled-down, signed delivery with an outbox;
//! - [`pseudonym`]: stable pseudonyms for works-council rules, revealed only by a role that may.

pub mod config;
pub mod deliver;
pub mod pseudonym;
pub mod rollup;
pub mod score;
pub mod simulate;

pub use config::RiskConfig;
pub use pseudonym::Pseudonyms;
pub use rollup::{RiskError, RiskStore};
pub use score::{days_before, Signal, UserRisk};

use crate::audit::AuditStore;
use deliver::{AlertMessage, Sinks};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the rollup lives: beside the usage log, in the state directory.
pub fn rollup_path(state_dir: &Path) -> PathBuf {
    state_dir.join("risk.db")
}

/// Assesses every user of `tenant` (every tenant: `None`) on `day` against the `baseline` days
/// before it, from the rollup as it stands. Where `pseudonyms` is given, users are shown by
/// pseudonym.
pub fn assess(
    risk: &RiskStore,
    tenant: Option<&str>,
    day: &str,
    baseline: i64,
    pseudonyms: Option<&Pseudonyms>,
) -> Result<Vec<UserRisk>, RiskError> {
    // Two weeks at least, for the trend signal.
    let from = days_before(day, baseline.max(14));
    let rows = risk.days(tenant, &from, day)?;
    let mut out = score::assess_rows(rows, day, baseline);
    if let Some(p) = pseudonyms {
        for r in &mut out {
            pseudonymize(p, r);
        }
    }
    Ok(out)
}

/// Shows `r` by pseudonym. Its event ids go too: the usage log names the user of each event,
/// so an id would undo the pseudonym for anyone who may read the log. An investigator reveals
/// the user (audited) and then finds the events by user.
pub fn pseudonymize(p: &Pseudonyms, r: &mut UserRisk) {
    r.user = p.of(&r.tenant, &r.user);
    r.pseudonymous = true;
    r.events.clear();
}

/// Brings the rollup at `risk_path` up to date from the local log at `audit_path`, then
/// assesses `day`: what the CLI and the API do on demand.
pub fn refresh_and_assess(
    audit_path: &Path,
    risk_path: &Path,
    tenant: Option<&str>,
    day: &str,
    baseline: i64,
    pseudonyms: Option<&Pseudonyms>,
) -> Result<Vec<UserRisk>, RiskError> {
    let mut risk = RiskStore::open(risk_path)?;
    let audit = AuditStore::open(audit_path)?;
    risk.catch_up(&audit)?;
    assess(&risk, tenant, day, baseline, pseudonyms)
}

/// Where the job reads events from.
pub enum Source {
    /// The node's own usage log.
    Local(PathBuf),
    /// Every node's rows in ClickHouse (fleet mode), read per node in each node's order.
    ClickHouse(Arc<crate::fleet::clickhouse::ClickHouse>),
}

impl Source {
    /// Where `config` keeps the usage log risk reads: the fleet's ClickHouse (the running
    /// node's client `fleet_log`, else one built from the config), or the node's own file.
    pub fn of(
        config: &crate::config::Config,
        fleet_log: Option<&crate::fleet::clickhouse::ClickHouse>,
    ) -> Source {
        match (fleet_log, &config.fleet.clickhouse) {
            (Some(ch), _) => Source::ClickHouse(Arc::new(ch.clone())),
            (None, Some(c)) => {
                Source::ClickHouse(Arc::new(crate::fleet::clickhouse::ClickHouse::new(
                    &c.url,
                    &c.database,
                    crate::config::Config::ms(c.timeout_ms),
                )))
            }
            (None, None) => Source::Local(config.audit.path(&config.state_dir)),
        }
    }
}

/// What one run of the job did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct JobReport {
    pub events: u64,
    pub alerts: usize,
    pub queued: usize,
    pub suppressed: usize,
    pub delivered: usize,
    pub failed: usize,
}

/// The periodic job: update the rollup, assess yesterday and today, queue new alerts, deliver
/// what is due.
pub struct Job {
    pub config: RiskConfig,
    pub source: Source,
    pub risk_path: PathBuf,
    pub pseudonyms: Option<Pseudonyms>,
    pub sinks: Sinks,
}

impl Job {
    /// One run at wall-clock `now`.
    pub async fn run_once(&self, now: time::OffsetDateTime) -> Result<JobReport, RiskError> {
        let mut report = JobReport {
            events: self.catch_up().await?,
            ..JobReport::default()
        };
        let path = self.risk_path.clone();
        let config = self.config.clone();
        let pseudonyms = self.pseudonyms.clone();
        let sinks: Vec<&'static str> = self.sinks.names();
        let stamp = crate::audit::event::now();
        let unix = now.unix_timestamp();
        let today = score::days_before(&stamp[..10], 0);
        let (alerts, queued, suppressed, due) = blocking(move || {
            let mut risk = RiskStore::open(&path)?;
            risk.prune(&days_before(&today, config.keep_days as i64))?;
            let mut messages = Vec::new();
            // A tenant at a time, so memory follows the largest tenant, not the fleet.
            for (tenant, day) in risk.tenants()?.into_iter().flat_map(|t| {
                [days_before(&today, 1), today.clone()]
                    .into_iter()
                    .map(move |d| (t.clone(), d))
            }) {
                for r in assess(&risk, Some(&tenant), &day, config.baseline_days, None)? {
                    if !r.alert {
                        continue;
                    }
                    let user = r.user.clone();
                    let mut shown = r;
                    if let Some(p) = &pseudonyms {
                        pseudonymize(p, &mut shown);
                    }
                    messages.push((user, AlertMessage::new(&shown, &day, &stamp)));
                }
            }
            let (queued, suppressed) = if sinks.is_empty() {
                (0, messages.len())
            } else {
                risk.enqueue(&messages, &sinks, unix, config.cooldown_secs as i64)?
            };
            let due = risk.due(unix, 500)?;
            Ok((messages.len(), queued, suppressed, due))
        })
        .await?;
        report.alerts = alerts;
        report.queued = queued;
        report.suppressed = suppressed;
        let mut outcomes = Vec::with_capacity(due.len());
        for p in due {
            let r = self.sinks.send(&p.sink, &p.message).await;
            if r.is_ok() {
                report.delivered += 1;
            } else {
                report.failed += 1;
            }
            outcomes.push((p, r));
        }
        let path = self.risk_path.clone();
        blocking(move || {
            let risk = RiskStore::open(&path)?;
            for (p, r) in outcomes {
                deliver::settle(risk.conn(), &p, r, unix);
            }
            Ok(())
        })
        .await?;
        Ok(report)
    }

    async fn catch_up(&self) -> Result<u64, RiskError> {
        catch_up(&self.source, &self.risk_path).await
    }

    /// Runs every `interval_secs` until the process ends; errors are logged and retried at the
    /// next tick.
    pub fn spawn(self) {
        let every = std::time::Duration::from_secs(self.config.interval_secs.max(1));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match self.run_once(time::OffsetDateTime::now_utc()).await {
                    Ok(r) => tracing::info!(
                        events = r.events,
                        alerts = r.alerts,
                        queued = r.queued,
                        delivered = r.delivered,
                        failed = r.failed,
                        "insider-risk job ran"
                    ),
                    Err(e) => {
                        tracing::error!(error = %e, "insider-risk job failed; retrying at the next run")
                    }
                }
            }
        });
    }
}

/// Brings the rollup at `risk_path` up to date from `source`; returns the events read.
pub async fn catch_up(source: &Source, risk_path: &Path) -> Result<u64, RiskError> {
    match source {
        Source::Local(audit_path) => {
            let (audit_path, risk_path) = (audit_path.clone(), risk_path.to_path_buf());
            blocking(move || {
                let mut risk = RiskStore::open(&risk_path)?;
                let audit = AuditStore::open(&audit_path)?;
                Ok(risk.catch_up(&audit)?.events)
            })
            .await
        }
        Source::ClickHouse(ch) => {
            let mut total = 0;
            let nodes = ch
                .nodes()
                .await
                .map_err(|e| RiskError::Source(e.to_string()))?;
            for node in nodes {
                let key = format!("clickhouse:{node}");
                loop {
                    let (path, k) = (risk_path.to_path_buf(), key.clone());
                    let at = blocking(move || RiskStore::open(&path)?.position(&k)).await?;
                    let page = ch
                        .activity_after(&node, at, rollup::PAGE)
                        .await
                        .map_err(|e| RiskError::Source(e.to_string()))?;
                    let Some(end) = page.last().map(|e| e.seq) else {
                        break;
                    };
                    let n = page.len();
                    total += n as u64;
                    let (path, k) = (risk_path.to_path_buf(), key.clone());
                    blocking(move || RiskStore::open(&path)?.ingest(&k, &page, end)).await?;
                    if n < rollup::PAGE {
                        break;
                    }
                }
            }
            Ok(total)
        }
    }
}

/// Runs `f` on the blocking pool (SQLite calls stay off async workers).
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RiskError> + Send + 'static,
) -> Result<T, RiskError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RiskError::Source(format!("risk job task failed: {e}")))?
}
