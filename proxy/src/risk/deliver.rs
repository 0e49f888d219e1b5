//! Sending insider-risk alerts out: a signed webhook (HMAC-SHA256 over the timestamp and the
//! body) and CEF over syslog (RFC 5424, UDP or TCP with octet counting) for a SIEM.
//!
//! An alert is queued in the rollup's `outbox` in the same transaction that records it as sent,
//! so a crash neither loses nor doubles it; a failed delivery is retried with backoff for a
//! week. De-duplication and a cool-down keep a SIEM quiet: within `cooldown_secs` of a user's
//! last alert, a new one goes out only when it adds a signal.

use super::config::{RiskConfig, SyslogProtocol};
use super::score::UserRisk;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::net::SocketAddr;
use std::time::Duration;

/// Give up on a delivery after this long (it stays in the API and console).
pub const GIVE_UP_SECS: i64 = 7 * 24 * 3600;

pub(super) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS sent (
           tenant TEXT NOT NULL,
           user TEXT NOT NULL,
           day TEXT NOT NULL,
           signals TEXT NOT NULL,
           alert_id TEXT NOT NULL,
           sent_at INTEGER NOT NULL,
           PRIMARY KEY (tenant, user, sent_at, alert_id)
         ) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS outbox (
           id INTEGER PRIMARY KEY,
           sink TEXT NOT NULL,
           alert_id TEXT NOT NULL,
           payload TEXT NOT NULL,
           created INTEGER NOT NULL,
           attempts INTEGER NOT NULL DEFAULT 0,
           next_at INTEGER NOT NULL,
           last_error TEXT
         );",
    )
}

/// What a sink receives: the alert with its evidence by id, never prompt text or values.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct AlertMessage {
    /// Stable per tenant, user, day and signal set (a receiver can de-duplicate on it).
    pub id: String,
    pub time: String,
    pub tenant: String,
    /// The user, or their pseudonym.
    pub user: String,
    pub pseudonymous: bool,
    pub groups: Vec<String>,
    pub day: String,
    pub score: f64,
    pub signals: Vec<String>,
    pub reasons: Vec<String>,
    pub events: Vec<String>,
}

impl AlertMessage {
    /// The message for `r` (already pseudonymized where the deployment says so).
    pub fn new(r: &UserRisk, day: &str, now: &str) -> Self {
        let signals = r.alerting();
        let digest = ring::digest::digest(
            &ring::digest::SHA256,
            format!("{}\0{}\0{day}\0{}", r.tenant, r.user, signals.join(",")).as_bytes(),
        );
        AlertMessage {
            id: format!(
                "risk-{}",
                policy::identity::hex_encode(&digest.as_ref()[..8])
            ),
            time: now.to_string(),
            tenant: r.tenant.clone(),
            user: r.user.clone(),
            pseudonymous: r.pseudonymous,
            groups: r.groups.clone(),
            day: day.to_string(),
            score: (r.score * 10.0).round() / 10.0,
            signals,
            reasons: r.reasons.clone(),
            events: r.events.clone(),
        }
    }

    /// One CEF record.
    pub fn cef(&self) -> String {
        use crate::cli::audit::cef_escape;
        let severity = (5.0 + self.score / 3.0).clamp(5.0, 10.0) as u8;
        format!(
            "CEF:0|PromptWall|PromptWall|{}|risk_alert|Insider risk alert|{severity}|rt={} suser={} cs1Label=tenant cs1={} cs2Label=signals cs2={} cs3Label=events cs3={} cs4Label=groups cs4={} cfp1Label=score cfp1={} externalId={} msg={}",
            env!("CARGO_PKG_VERSION"),
            cef_escape(&self.time),
            cef_escape(&self.user),
            cef_escape(&self.tenant),
            cef_escape(&self.signals.join(",")),
            cef_escape(&self.events.join(",")),
            cef_escape(&self.groups.join(",")),
            self.score,
            cef_escape(&self.id),
            cef_escape(&self.reasons.join("; ")),
        )
    }
}

/// Where alerts go, built once from the config.
pub struct Sinks {
    webhook: Option<(String, Vec<u8>, reqwest::Client)>,
    syslog: Option<(SocketAddr, SyslogProtocol, Duration)>,
}

/// Why a sink could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("field `risk.webhook`: {0}")]
    Secret(String),
}

impl Sinks {
    /// The configured sinks; the webhook secret is read now, so a bad one stops the start.
    pub fn new(c: &RiskConfig) -> Result<Self, SinkError> {
        let webhook = match &c.webhook {
            None => None,
            Some(w) => {
                let secret = w.secret().map_err(SinkError::Secret)?;
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_millis(w.timeout_ms))
                    .connect_timeout(Duration::from_millis(w.timeout_ms))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| SinkError::Secret(e.to_string()))?;
                Some((w.url.clone(), secret, client))
            }
        };
        let syslog = c
            .syslog
            .as_ref()
            .map(|s| (s.address, s.protocol, Duration::from_millis(s.timeout_ms)));
        Ok(Sinks { webhook, syslog })
    }

    /// The sink names an alert is queued for.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.webhook.is_some() {
            v.push("webhook");
        }
        if self.syslog.is_some() {
            v.push("syslog");
        }
        v
    }

    /// Sends one payload to one sink.
    pub async fn send(&self, sink: &str, msg: &AlertMessage) -> Result<(), String> {
        match sink {
            "webhook" => {
                let (url, secret, client) = self.webhook.as_ref().ok_or("no webhook")?;
                let body = serde_json::to_vec(msg).map_err(|e| e.to_string())?;
                let t = time::OffsetDateTime::now_utc().unix_timestamp();
                let r = client
                    .post(url)
                    .header("content-type", "application/json")
                    .header("x-promptwall-event", "risk.alert")
                    .header("idempotency-key", &msg.id)
                    .header("x-promptwall-signature", signature(secret, t, &body))
                    .body(body)
                    .send()
                    .await
                    // Without the URL: a webhook URL may carry a token.
                    .map_err(|e| format!("webhook: {}", e.without_url()))?;
                if r.status().is_success() {
                    Ok(())
                } else {
                    Err(format!("webhook answered {}", r.status()))
                }
            }
            "syslog" => {
                let (addr, protocol, timeout) = self.syslog.as_ref().ok_or("no syslog")?;
                let line = syslog_line(msg);
                let sent = tokio::time::timeout(*timeout, async {
                    match protocol {
                        SyslogProtocol::Udp => {
                            let bind: SocketAddr = if addr.is_ipv4() {
                                "0.0.0.0:0".parse().expect("an address")
                            } else {
                                "[::]:0".parse().expect("an address")
                            };
                            let s = tokio::net::UdpSocket::bind(bind).await?;
                            s.send_to(line.as_bytes(), addr).await.map(|_| ())
                        }
                        SyslogProtocol::Tcp => {
                            use tokio::io::AsyncWriteExt;
                            let mut s = tokio::net::TcpStream::connect(addr).await?;
                            // RFC 6587 octet counting: the length, a space, the message.
                            s.write_all(format!("{} {line}", line.len()).as_bytes())
                                .await?;
                            s.shutdown().await
                        }
                    }
                })
                .await;
                match sent {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(format!("syslog {addr}: {e}")),
                    Err(_) => Err(format!("syslog {addr}: timed out")),
                }
            }
            other => Err(format!("unknown sink {other}")),
        }
    }
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`: the receiver recomputes it
/// and rejects an old `t`, so a captured request cannot be replayed later.
pub fn signature(secret: &[u8], t: i64, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(format!("{t}.").as_bytes());
    ctx.update(body);
    format!(
        "t={t},v1={}",
        policy::identity::hex_encode(ctx.sign().as_ref())
    )
}

/// An RFC 5424 line: facility security/authorization (10), severity warning (4).
fn syslog_line(msg: &AlertMessage) -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty() && h.is_ascii() && !h.contains(' '))
        .unwrap_or_else(|| "-".into());
    format!(
        "<84>1 {} {host} promptwall {} risk_alert - {}",
        msg.time,
        std::process::id(),
        msg.cef()
    )
}

/// Records the alerts that pass de-duplication and the cool-down, and queues them for every
/// sink, in one transaction. `key` maps an alert to the user's real identity (what the
/// cool-down is kept by, so a pseudonym change of key does not reset it). Returns how many
/// were queued and how many suppressed.
pub fn enqueue(
    conn: &mut Connection,
    alerts: &[(String, AlertMessage)],
    sinks: &[&str],
    now: i64,
    cooldown_secs: i64,
) -> rusqlite::Result<(usize, usize)> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (mut queued, mut suppressed) = (0, 0);
    for (user, a) in alerts {
        let already: bool = tx
            .query_row(
                "SELECT 1 FROM sent WHERE tenant = ?1 AND user = ?2 AND alert_id = ?3",
                params![a.tenant, user, a.id],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        // Signals already reported for this user within the cool-down.
        let mut recent: Vec<String> = Vec::new();
        {
            let mut stmt = tx.prepare_cached(
                "SELECT signals FROM sent WHERE tenant = ?1 AND user = ?2 AND sent_at > ?3",
            )?;
            let rows = stmt.query_map(params![a.tenant, user, now - cooldown_secs], |r| {
                r.get::<_, String>(0)
            })?;
            for s in rows {
                recent.extend(s?.split(',').map(str::to_string));
            }
        }
        let adds_a_signal = a.signals.iter().any(|s| !recent.contains(s));
        if already || !adds_a_signal {
            suppressed += 1;
            for sink in sinks {
                crate::metrics::METRICS
                    .risk_alerts
                    .with_label_values(&[sink, "suppressed"])
                    .inc();
            }
            continue;
        }
        tx.execute(
            "INSERT OR IGNORE INTO sent (tenant, user, day, signals, alert_id, sent_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![a.tenant, user, a.day, a.signals.join(","), a.id, now],
        )?;
        let payload = serde_json::to_string(a).expect("an alert serializes");
        for sink in sinks {
            tx.execute(
                "INSERT INTO outbox (sink, alert_id, payload, created, next_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![sink, a.id, payload, now],
            )?;
        }
        queued += 1;
    }
    tx.commit()?;
    Ok((queued, suppressed))
}

/// One queued delivery.
#[derive(Debug, Clone)]
pub struct Pending {
    pub row: i64,
    pub sink: String,
    pub message: AlertMessage,
    pub attempts: i64,
    pub created: i64,
}

/// Seconds a claimed delivery is left to its sender before another run may take it.
pub const LEASE_SECS: i64 = 300;

/// Deliveries due at `now`, oldest first, claimed for [`LEASE_SECS`] in the same statement, so
/// the server's job and a `promptwall risk run` from cron never send the same row at once.
pub fn due(conn: &Connection, now: i64, limit: usize) -> rusqlite::Result<Vec<Pending>> {
    let mut stmt = conn.prepare_cached(
        "UPDATE outbox SET next_at = ?1 + ?3
         WHERE id IN (SELECT id FROM outbox WHERE next_at <= ?1 ORDER BY id LIMIT ?2)
         RETURNING id, sink, payload, attempts, created",
    )?;
    let rows = stmt.query_map(params![now, limit as i64, LEASE_SECS], |r| {
        let payload: String = r.get(2)?;
        Ok(Pending {
            row: r.get(0)?,
            sink: r.get(1)?,
            message: serde_json::from_str(&payload).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into())
            })?,
            attempts: r.get(3)?,
            created: r.get(4)?,
        })
    })?;
    let mut out: Vec<Pending> = rows.collect::<rusqlite::Result<_>>()?;
    out.sort_by_key(|p| p.row);
    Ok(out)
}

/// Records a delivery's outcome: done, retried later (backoff doubling from 30 s up to an
/// hour), or given up after [`GIVE_UP_SECS`] (logged as an error; the alert stays in the API).
pub fn settle(conn: &Connection, p: &Pending, outcome: Result<(), String>, now: i64) {
    let m = &crate::metrics::METRICS.risk_alerts;
    let r = match outcome {
        Ok(()) => {
            m.with_label_values(&[&p.sink, "sent"]).inc();
            conn.execute("DELETE FROM outbox WHERE id = ?1", [p.row])
        }
        Err(e) if now - p.created >= GIVE_UP_SECS => {
            m.with_label_values(&[&p.sink, "expired"]).inc();
            tracing::error!(alert = %p.message.id, sink = %p.sink, error = %e, attempts = p.attempts + 1,
                "gave up delivering an insider-risk alert after a week; it is still in the risk API");
            conn.execute("DELETE FROM outbox WHERE id = ?1", [p.row])
        }
        Err(e) => {
            m.with_label_values(&[&p.sink, "failed"]).inc();
            let backoff = (30i64 << p.attempts.min(7)).min(3600);
            tracing::warn!(alert = %p.message.id, sink = %p.sink, error = %e, retry_in_secs = backoff,
                "could not deliver an insider-risk alert; will retry");
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_at = ?2, last_error = ?3 WHERE id = ?1",
                params![p.row, now + backoff, e],
            )
        }
    };
    if let Err(e) = r {
        tracing::error!(error = %e, "could not record an alert delivery");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(user: &str, signals: &[&str]) -> (String, AlertMessage) {
        (
            user.to_string(),
            AlertMessage {
                id: format!("risk-{user}-{}", signals.join("+")),
                time: "2026-12-01T10:00:00.000Z".into(),
                tenant: "acme".into(),
                user: user.into(),
                pseudonymous: false,
                groups: vec![],
                day: "2026-12-01".into(),
                score: 5.0,
                signals: signals.iter().map(|s| s.to_string()).collect(),
                reasons: vec![],
                events: vec![],
            },
        )
    }

    #[test]
    fn the_cool_down_lets_through_only_new_signals_and_duplicates_never() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&conn).unwrap();
        let sinks = ["webhook", "syslog"];
        let hour = 3600;
        // (queued, suppressed) for an alert of eve's with `signals` at `at`, 6-hour cool-down.
        let mut send = |signals: &[&str], at: i64| {
            enqueue(&mut conn, &[alert("eve", signals)], &sinks, at, 6 * hour).unwrap()
        };
        assert_eq!(send(&["blocked"], 0), (1, 0));
        // The same alert again, and a weaker one, within the cool-down: quiet.
        assert_eq!(send(&["blocked"], hour), (0, 1));
        // A new signal escalates through the cool-down.
        assert_eq!(send(&["blocked", "sensitive"], 2 * hour), (1, 0));
        // After the cool-down a repeat of a known signal set goes out again, but never the
        // very same alert id twice.
        assert_eq!(send(&["sensitive"], 9 * hour), (1, 0));
        assert_eq!(send(&["blocked"], 30 * hour), (0, 1));
        // Each queued alert waits once per sink.
        assert_eq!(due(&conn, 30 * hour, 100).unwrap().len(), 6);
    }

    #[test]
    fn a_failed_delivery_backs_off_and_a_success_clears_it() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&conn).unwrap();
        enqueue(
            &mut conn,
            &[alert("eve", &["blocked"])],
            &["webhook"],
            0,
            60,
        )
        .unwrap();
        let p = due(&conn, 0, 10).unwrap().remove(0);
        // Claimed: another run does not take it while its sender is at it.
        assert!(due(&conn, 0, 10).unwrap().is_empty());
        settle(&conn, &p, Err("down".into()), 0);
        assert!(due(&conn, 29, 10).unwrap().is_empty());
        let p = due(&conn, 30, 10).unwrap().remove(0);
        assert_eq!(p.attempts, 1);
        settle(&conn, &p, Err("down".into()), 30);
        assert!(due(&conn, 89, 10).unwrap().is_empty());
        let p = due(&conn, 90, 10).unwrap().remove(0);
        settle(&conn, &p, Ok(()), 90);
        assert!(due(&conn, i64::MAX / 2, 10).unwrap().is_empty());
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_time_and_body_and_cef_is_escaped() {
        // RFC 4231 test case 2 key and data, split as "<t>." + body.
        let sig = signature(b"Jefe", 0, b"what do ya want for nothing?");
        assert!(sig.starts_with("t=0,v1="));
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"Jefe");
        assert!(ring::hmac::verify(
            &key,
            b"0.what do ya want for nothing?",
            &(0..32)
                .map(|i| u8::from_str_radix(&sig[7 + 2 * i..9 + 2 * i], 16).unwrap())
                .collect::<Vec<u8>>()
        )
        .is_ok());
        let (_, mut a) = alert("eve=x\nadmin", &["blocked"]);
        a.reasons = vec!["blocked: 3 today".into()];
        let cef = a.cef();
        assert!(cef.contains("suser=eve\\=x admin "), "{cef}");
        assert!(!cef.contains('\n'));
    }

    #[tokio::test]
    async fn syslog_over_tcp_is_octet_counted_rfc5424_cef() {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = RiskConfig {
            syslog: Some(super::super::config::SyslogConfig {
                address: listener.local_addr().unwrap(),
                protocol: SyslogProtocol::Tcp,
                timeout_ms: 2000,
            }),
            ..RiskConfig::default()
        };
        let sinks = Sinks::new(&config).unwrap();
        assert_eq!(sinks.names(), ["syslog"]);
        let (_, msg) = alert("eve", &["blocked", "sensitive"]);
        let (sent, got) = tokio::join!(sinks.send("syslog", &msg), async {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = String::new();
            s.read_to_string(&mut buf).await.unwrap();
            buf
        });
        sent.unwrap();
        let (len, line) = got.split_once(' ').unwrap();
        assert_eq!(len.parse::<usize>().unwrap(), line.len());
        assert!(
            line.starts_with("<84>1 2026-12-01T10:00:00.000Z "),
            "{line}"
        );
        assert!(line.contains("|risk_alert|Insider risk alert|"), "{line}");
        assert!(line.contains("cs2=blocked,sensitive"), "{line}");
        // A collector that is down is an error to retry, within the timeout.
        drop(listener);
        assert!(sinks.send("syslog", &msg).await.is_err());
    }

    #[test]
    fn a_webhook_needs_exactly_one_readable_private_secret() {
        let mut c = RiskConfig {
            webhook: Some(super::super::config::WebhookConfig {
                url: "https://siem.example/hook".into(),
                secret_file: None,
                secret_env: None,
                timeout_ms: 1000,
            }),
            ..RiskConfig::default()
        };
        assert!(c.validate().unwrap_err().contains("exactly one"));
        let dir = std::env::temp_dir().join(format!("pw-hook-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("secret");
        std::fs::write(&f, "sixteen-bytes-or-more-here").unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        c.webhook.as_mut().unwrap().secret_file = Some(f.clone());
        c.validate().unwrap();
        let e = Sinks::new(&c).err().unwrap().to_string();
        assert!(e.contains("readable by others"), "{e}");
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert_eq!(Sinks::new(&c).unwrap().names(), ["webhook"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
