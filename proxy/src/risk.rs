//! Insider-risk analytics over the usage log: each user's AI use on the day assessed, against
//! their own baseline (the days before) and against their peers (the users who share a group),
//! with robust statistics (median and MAD), so one past spike does not hide the next. An alert
//! explains itself: which signals, how far from the baseline and from the peers, and the ids of
//! the events behind it (never their content, which the log does not hold).

use crate::audit::store::UserDay;
use crate::audit::{AuditStore, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;

/// How many robust standard deviations from the user's own baseline make a signal stand out.
pub const OWN_Z: f64 = 3.5;
/// ...and from the peers' values on the same day (when the user has peers).
pub const PEER_Z: f64 = 2.0;
/// Minutes within which a new request after a refusal counts as a retry.
pub const RETRY_MINUTES: i64 = 10;

/// One signal for one user on the assessed day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    pub name: String,
    pub value: f64,
    /// The user's own baseline: median and MAD over the baseline days.
    pub baseline_median: f64,
    pub baseline_mad: f64,
    /// Robust z against the own baseline.
    pub z: f64,
    /// Median of the peers' values that day, and the robust z against them (`None`: no peers).
    pub peer_median: Option<f64>,
    pub peer_z: Option<f64>,
    /// Whether this signal, alone, raises an alert.
    pub alerting: bool,
}

/// A user's assessment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserRisk {
    pub user: String,
    pub groups: Vec<String>,
    /// The largest own-baseline z of an alerting signal (0 when nothing alerts).
    pub score: f64,
    pub alert: bool,
    pub signals: Vec<Signal>,
    /// Why, in words, for the alert's reader.
    pub reasons: Vec<String>,
    /// Ids of the day's events behind the alert (sensitive, refused, retried, new places).
    pub events: Vec<String>,
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Median and median absolute deviation.
fn med_mad(values: &[f64]) -> (f64, f64) {
    let mut v = values.to_vec();
    let m = median(&mut v);
    let mut dev: Vec<f64> = values.iter().map(|x| (x - m).abs()).collect();
    (m, median(&mut dev))
}

/// Robust z, with a floor on the spread so a perfectly steady baseline (MAD 0) does not turn
/// every small change into an alert.
fn robust_z(x: f64, med: f64, mad: f64, floor: f64) -> f64 {
    (x - med) / (1.4826 * mad).max(floor)
}

/// What each signal is, the least value that can alert, and the floor of its spread.
const SIGNALS: &[(&str, f64, f64)] = &[
    ("requests", 20.0, 3.0),
    ("bytes", 50_000.0, 5_000.0),
    ("sensitive", 3.0, 1.0),
    ("sensitive_share", 0.2, 0.05),
    ("blocked", 2.0, 1.0),
    ("retries_after_block", 1.0, 0.25),
    ("off_hours", 5.0, 1.0),
    ("new_destinations", 1.0, 0.25),
];

fn value(d: Option<&UserDay>, extra: &BTreeMap<&str, f64>, name: &str) -> f64 {
    let g = |f: fn(&UserDay) -> i64| d.map_or(0.0, |d| f(d) as f64);
    match name {
        "requests" => g(|d| d.requests),
        "bytes" => g(|d| d.bytes),
        "sensitive" => g(|d| d.sensitive),
        "sensitive_share" => d.map_or(0.0, |d| d.sensitive as f64 / d.requests.max(1) as f64),
        "blocked" => g(|d| d.blocked),
        "off_hours" => g(|d| d.off_hours),
        other => extra.get(other).copied().unwrap_or(0.0),
    }
}

/// The day before `day` (`YYYY-MM-DD`), `n` times.
fn days_before(day: &str, n: i64) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(day, &f)
        .map(|d| (d - time::Duration::days(n)).format(&f).unwrap_or_default())
        .unwrap_or_default()
}

/// Assesses every user of `tenant` (every tenant: `None`) on `day`, against the `baseline`
/// days before it. Users with an alert come first, highest score first.
pub fn assess(
    store: &AuditStore,
    tenant: Option<&str>,
    day: &str,
    baseline: i64,
) -> Result<Vec<UserRisk>, StoreError> {
    let start = days_before(day, baseline);
    let next = days_before(day, -1);
    let rows: Vec<UserDay> = store
        .user_days(tenant, &start)?
        .into_iter()
        .filter(|d| d.day.as_str() < next.as_str())
        .collect();
    let mut by_user: BTreeMap<String, Vec<UserDay>> = BTreeMap::new();
    for d in rows {
        by_user.entry(d.user.clone()).or_default().push(d);
    }
    let baseline_days: Vec<String> = (1..=baseline).rev().map(|n| days_before(day, n)).collect();
    // Per user: the day's extra signals (from the trail) and the events behind them.
    let mut extras: BTreeMap<String, (BTreeMap<&str, f64>, Vec<String>)> = BTreeMap::new();
    for user in by_user.keys() {
        let trail = store.user_trail(tenant, user, &start)?;
        let mut seen_hosts = std::collections::HashSet::new();
        let mut new_hosts = 0.0;
        let mut retries = 0.0;
        let mut ids = Vec::new();
        let mut last_refusal: Option<time::OffsetDateTime> = None;
        for (id, t, decision, sensitive, host) in &trail {
            let today = t.starts_with(day);
            let at =
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok();
            if today {
                if let (Some(prev), Some(now)) = (last_refusal, at) {
                    if (now - prev).whole_minutes() <= RETRY_MINUTES {
                        retries += 1.0;
                        ids.push(id.clone());
                    }
                }
                if !host.is_empty() && !seen_hosts.contains(host) {
                    new_hosts += 1.0;
                    ids.push(id.clone());
                }
                if *sensitive || matches!(decision.as_str(), "block" | "coach" | "blocked") {
                    ids.push(id.clone());
                }
            }
            if !host.is_empty() {
                seen_hosts.insert(host.clone());
            }
            last_refusal = if matches!(decision.as_str(), "block" | "coach" | "blocked") {
                at
            } else {
                None
            };
        }
        ids.dedup();
        ids.truncate(50);
        let mut m = BTreeMap::new();
        m.insert("retries_after_block", retries);
        // On the first day a user appears every destination is new: not a signal.
        if trail.iter().any(|(_, t, ..)| !t.starts_with(day)) {
            m.insert("new_destinations", new_hosts);
        }
        extras.insert(user.clone(), (m, ids));
    }
    // Peers: everyone sharing a group (or the whole tenant when groups are absent).
    let today_value = |user: &str, name: &str| {
        let d = by_user[user].iter().find(|d| d.day == day);
        value(d, &extras[user].0, name)
    };
    let mut out = Vec::new();
    for (user, days) in &by_user {
        let groups = days.last().map(|d| d.groups.clone()).unwrap_or_default();
        let peers: Vec<&String> = by_user
            .iter()
            .filter(|(u, ds)| {
                *u != user
                    && (groups.is_empty()
                        || ds
                            .last()
                            .is_some_and(|d| d.groups.iter().any(|g| groups.contains(g))))
            })
            .map(|(u, _)| u)
            .collect();
        let mut signals = Vec::new();
        let mut reasons = Vec::new();
        let mut score: f64 = 0.0;
        let empty = BTreeMap::new();
        for &(name, min, floor) in SIGNALS {
            let series: Vec<f64> = baseline_days
                .iter()
                .map(|bd| value(days.iter().find(|d| &d.day == bd), &empty, name))
                .collect();
            // Trail signals have no daily history here: their baseline is zero.
            let series = if matches!(name, "retries_after_block" | "new_destinations") {
                vec![0.0; series.len()]
            } else {
                series
            };
            let x = today_value(user, name);
            let (med, mad) = med_mad(&series);
            let z = robust_z(x, med, mad, floor);
            let (peer_median, peer_z) = if peers.len() >= 2 {
                let pv: Vec<f64> = peers.iter().map(|p| today_value(p, name)).collect();
                let (pm, pmad) = med_mad(&pv);
                (Some(pm), Some(robust_z(x, pm, pmad, floor)))
            } else {
                (None, None)
            };
            let alerting = x >= min && z >= OWN_Z && peer_z.is_none_or(|p| p >= PEER_Z);
            if alerting {
                score = score.max(z);
                reasons.push(match peer_median {
                    Some(pm) => format!(
                        "{name}: {} today, against a usual {} (z {:.1}) and peers' {} (z {:.1})",
                        fmt(x),
                        fmt(med),
                        z,
                        fmt(pm),
                        peer_z.unwrap_or_default()
                    ),
                    None => format!(
                        "{name}: {} today, against a usual {} (z {:.1})",
                        fmt(x),
                        fmt(med),
                        z
                    ),
                });
            }
            signals.push(Signal {
                name: name.to_string(),
                value: x,
                baseline_median: med,
                baseline_mad: mad,
                z,
                peer_median,
                peer_z,
                alerting,
            });
        }
        // A rising trend: sensitive requests over the last week well above the week before.
        let week = |from: i64| -> f64 {
            (from..from + 7)
                .map(|n| {
                    let d = days_before(day, n);
                    days.iter().find(|x| x.day == d).map_or(0, |x| x.sensitive) as f64
                })
                .sum()
        };
        let (recent, before) = (week(0), week(7));
        if recent >= 10.0 && recent >= 3.0 * before.max(1.0) {
            reasons.push(format!(
                "sensitive requests rising: {} in the last 7 days, {} in the 7 before",
                fmt(recent),
                fmt(before)
            ));
            score = score.max(OWN_Z);
        }
        let alert = !reasons.is_empty();
        out.push(UserRisk {
            user: user.clone(),
            groups,
            score,
            alert,
            signals,
            reasons,
            events: if alert {
                extras[user].1.clone()
            } else {
                Vec::new()
            },
        });
    }
    out.sort_by(|a, b| {
        b.alert
            .cmp(&a.alert)
            .then(b.score.total_cmp(&a.score))
            .then(a.user.cmp(&b.user))
    });
    Ok(out)
}

fn fmt(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::event::ReasonRow;
    use crate::audit::AuditEvent;

    fn ev(
        i: usize,
        user: &str,
        time: String,
        secret: bool,
        blocked: bool,
        host: &str,
    ) -> AuditEvent {
        AuditEvent {
            id: format!("e{i}"),
            time,
            kind: "ai_request".into(),
            tenant: "acme".into(),
            user: Some(user.into()),
            groups: vec!["eng".into()],
            provider: Some("openai".into()),
            host: host.into(),
            request_bytes: 2000,
            decision: if blocked { "block" } else { "allow" }.into(),
            reasons: if secret {
                vec![ReasonRow {
                    rule: "keys".into(),
                    action: "block".into(),
                    category: Some("secret".into()),
                    entity: "aws_access_key".into(),
                    count: 1,
                    max_score: 1.0,
                }]
            } else {
                vec![]
            },
            ..AuditEvent::default()
        }
    }

    #[test]
    fn a_user_who_retries_secrets_after_blocks_stands_out_and_the_rest_do_not() {
        let p = std::env::temp_dir().join(format!("pw-risk-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
        }
        let mut store = AuditStore::open(&p).unwrap();
        let mut events = Vec::new();
        let mut i = 0;
        // 21 ordinary working days for five users: 8-12 requests, the odd finding.
        for day in 1..=21 {
            for (u, user) in ["ann", "bob", "cat", "dan", "eve"].iter().enumerate() {
                for r in 0..(8 + (day + u) % 5) {
                    i += 1;
                    let t = format!("2026-11-{day:02}T{:02}:{:02}:00Z", 9 + r % 8, (r * 7) % 60);
                    events.push(ev(
                        i,
                        user,
                        t,
                        (day + r + u) % 23 == 0,
                        false,
                        "api.openai.com",
                    ));
                }
            }
        }
        // Day 22: eve pastes keys, is blocked, retries within minutes, late at night, and
        // tries a new AI service; the others carry on as usual.
        for (u, user) in ["ann", "bob", "cat", "dan"].iter().enumerate() {
            for r in 0..(9 + u) {
                i += 1;
                events.push(ev(
                    i,
                    user,
                    format!("2026-11-22T{:02}:10:00Z", 9 + r % 8),
                    false,
                    false,
                    "api.openai.com",
                ));
            }
        }
        for r in 0..12 {
            i += 1;
            let blocked = r % 2 == 0;
            events.push(ev(
                i,
                "eve",
                format!("2026-11-22T23:{:02}:00Z", r * 3),
                true,
                blocked,
                "api.openai.com",
            ));
        }
        i += 1;
        events.push(ev(
            i,
            "eve",
            "2026-11-22T23:50:00Z".into(),
            false,
            false,
            "api.mistral.ai",
        ));
        store.insert(&mut events).unwrap();

        let risks = assess(&store, Some("acme"), "2026-11-22", 21).unwrap();
        let eve = &risks[0];
        assert_eq!(eve.user, "eve");
        assert!(eve.alert, "{eve:#?}");
        let alerting: Vec<&str> = eve
            .signals
            .iter()
            .filter(|s| s.alerting)
            .map(|s| s.name.as_str())
            .collect();
        for s in [
            "sensitive",
            "blocked",
            "retries_after_block",
            "off_hours",
            "new_destinations",
        ] {
            assert!(alerting.contains(&s), "{s} in {alerting:?}");
        }
        assert!(eve
            .reasons
            .iter()
            .any(|r| r.contains("retries_after_block")));
        assert!(!eve.events.is_empty() && eve.events.iter().all(|e| e.starts_with('e')));
        for r in &risks[1..] {
            assert!(!r.alert, "{r:#?}");
        }
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn robust_statistics_shrug_off_a_single_past_spike() {
        let mut series = vec![10.0; 20];
        series[3] = 500.0;
        let (m, mad) = med_mad(&series);
        assert_eq!((m, mad), (10.0, 0.0));
        assert!(robust_z(12.0, m, mad, 3.0) < OWN_Z);
        assert!(robust_z(40.0, m, mad, 3.0) > OWN_Z);
    }
}
