//! Scoring one day: each user's signals against their own baseline (the days before, of the
//! same kind, weekday or weekend) and against their peers (the users who share a group), with
//! robust statistics (median and MAD), so one past spike does not hide the next.

use super::rollup::DayRow;
use serde::Serialize;
use std::collections::BTreeMap;

/// How many robust standard deviations from the user's own baseline make a signal stand out.
pub const OWN_Z: f64 = 3.5;
/// ...and from the peers' values on the same day (when the user has peers).
pub const PEER_Z: f64 = 2.0;
/// How far a volume signal alone must stand out to alert: z against the own baseline, and a
/// multiple of the usual value.
pub const VOLUME_Z: f64 = 10.0;
pub const VOLUME_RATIO: f64 = 5.0;
/// The most probable a count may be, under the user's own rate, and still alert.
/// Each day tests about ten signals per user, so a fleet of thousands makes ~10^5 tests a
/// day: 1e-5 keeps chance alerts near one per day per 100,000 tests.
pub const P_MAX: f64 = 1e-5;
/// Baseline days a user needs before their own baseline counts; a newer user is compared with
/// their peers alone, at the stricter [`OWN_Z`].
pub const MIN_OWN_DAYS: usize = 5;

/// One signal for one user on the assessed day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    pub name: String,
    pub value: f64,
    /// The user's own baseline: median and MAD over the baseline days.
    pub baseline_median: f64,
    pub baseline_mad: f64,
    /// Robust z against the own baseline (`None`: too new to have one).
    pub z: Option<f64>,
    /// Median of the peers' values that day, and the robust z against them (`None`: no peers).
    pub peer_median: Option<f64>,
    pub peer_z: Option<f64>,
    /// Whether this signal, alone, raises an alert.
    pub alerting: bool,
}

/// A user's assessment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserRisk {
    pub tenant: String,
    /// The user's name, or their pseudonym where the deployment pseudonymizes users.
    pub user: String,
    /// Whether `user` is a pseudonym (an investigator may reveal it).
    pub pseudonymous: bool,
    pub groups: Vec<String>,
    /// The largest z of an alerting signal (0 when nothing alerts).
    pub score: f64,
    pub alert: bool,
    pub signals: Vec<Signal>,
    /// Why, in words, for the alert's reader.
    pub reasons: Vec<String>,
    /// Ids of the day's events behind the alert (sensitive, refused, retried, new places).
    pub events: Vec<String>,
}

impl UserRisk {
    /// The names of the alerting signals, sorted: what de-duplication compares.
    pub fn alerting(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .signals
            .iter()
            .filter(|s| s.alerting)
            .map(|s| s.name.clone())
            .collect();
        if self
            .reasons
            .iter()
            .any(|r| r.starts_with("sensitive requests rising"))
        {
            v.push("sensitive_trend".into());
        }
        v.sort();
        v
    }
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
pub(crate) fn med_mad(values: &[f64]) -> (f64, f64) {
    let mut v = values.to_vec();
    let m = median(&mut v);
    let mut dev: Vec<f64> = values.iter().map(|x| (x - m).abs()).collect();
    (m, median(&mut dev))
}

/// Robust z, with a floor on the spread so a perfectly steady baseline (MAD 0) does not turn
/// every small change into an alert.
pub(crate) fn robust_z(x: f64, med: f64, mad: f64, floor: f64) -> f64 {
    (x - med) / (1.4826 * mad).max(floor)
}

/// Signals that speak of what was sent or where, not only how much: one of them alone makes
/// an alert. Volume signals (requests, bytes, off-hours) alone alert only when extreme
/// ([`VOLUME_Z`]: a bulk upload, not a deadline or a late night).
const EVIDENCE: &[&str] = &[
    "sensitive",
    "sensitive_share",
    "blocked",
    "retries_after_block",
    "new_destinations",
];

/// Each signal: its name, the least value that can alert, and the floor of its spread.
const SIGNALS: &[(&str, f64, f64)] = &[
    ("requests", 40.0, 4.0),
    ("bytes", 100_000.0, 10_000.0),
    ("sensitive", 4.0, 1.0),
    ("sensitive_share", 0.25, 0.08),
    ("blocked", 3.0, 1.0),
    ("retries_after_block", 2.0, 0.5),
    ("off_hours", 10.0, 2.0),
    ("new_destinations", 1.0, 0.25),
];

fn value(d: Option<&DayRow>, name: &str) -> f64 {
    let Some(d) = d else { return 0.0 };
    match name {
        "requests" => d.requests as f64,
        "bytes" => d.bytes as f64,
        "sensitive" => d.sensitive as f64,
        "sensitive_share" if d.requests > 0 => d.sensitive as f64 / d.requests as f64,
        "blocked" => d.blocked as f64,
        "retries_after_block" => d.retries as f64,
        "off_hours" => d.off_hours as f64,
        "new_destinations" => d.new_destinations as f64,
        _ => 0.0,
    }
}

fn date(day: &str) -> Option<time::Date> {
    time::Date::parse(
        day,
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// Whether `day` is a date, `YYYY-MM-DD`.
pub fn is_date(day: &str) -> bool {
    date(day).is_some()
}

/// The day `n` days before `day` (`YYYY-MM-DD`).
pub fn days_before(day: &str, n: i64) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    date(day)
        .map(|d| (d - time::Duration::days(n)).format(&f).unwrap_or_default())
        .unwrap_or_default()
}

/// Saturday or Sunday: weekend days get a baseline of their own.
pub fn is_weekend(day: &str) -> bool {
    date(day)
        .is_some_and(|d| matches!(d.weekday(), time::Weekday::Saturday | time::Weekday::Sunday))
}

/// Peers (active that day) a user needs before they are compared with them.
pub const MIN_PEERS: usize = 3;

/// Peer groups larger than this share one computation of their statistics.
const EXACT_PEERS: usize = 50;

type Key = (String, String);

/// A user's peers: everyone in the tenant sharing one of the user's groups (or the whole
/// tenant when the user has none), with their statistics per signal.
struct Peers<'a> {
    members: Vec<&'a Key>,
    stats: Vec<(f64, f64)>,
}

impl<'a> Peers<'a> {
    fn of(
        tenant: &str,
        groups: &[String],
        latest: &BTreeMap<&'a Key, Vec<String>>,
        active: &std::collections::BTreeSet<&'a Key>,
        today: &BTreeMap<&'a Key, Vec<f64>>,
    ) -> Self {
        // Peers active that day: someone on leave is not a peer's zero.
        let members: Vec<&Key> = latest
            .iter()
            .filter(|(k, g)| {
                k.0 == tenant
                    && active.contains(*k)
                    && (groups.is_empty() || g.iter().any(|x| groups.contains(x)))
            })
            .map(|(k, _)| *k)
            .collect();
        let stats = Self::stats_of(&members, today);
        Peers { members, stats }
    }

    /// Median and MAD of each signal's value that day over `members`.
    fn stats_of(members: &[&Key], today: &BTreeMap<&'a Key, Vec<f64>>) -> Vec<(f64, f64)> {
        (0..SIGNALS.len())
            .map(|i| {
                let v: Vec<f64> = members.iter().map(|m| today[*m][i]).collect();
                med_mad(&v)
            })
            .collect()
    }
}

/// Assesses every user in `rows` (the rollup from `baseline` days before `day` through `day`)
/// on `day`. Users with an alert come first, highest score first.
pub fn assess_rows(rows: Vec<DayRow>, day: &str, baseline: i64) -> Vec<UserRisk> {
    let mut by_user: BTreeMap<(String, String), BTreeMap<String, DayRow>> = BTreeMap::new();
    for d in rows {
        by_user
            .entry((d.tenant.clone(), d.user.clone()))
            .or_default()
            .insert(d.day.clone(), d);
    }
    let baseline_days: Vec<String> = (1..=baseline).rev().map(|n| days_before(day, n)).collect();
    // Seasonal baselines: a weekday against weekdays, a weekend day against weekend days.
    let season = is_weekend(day);
    let same_kind: Vec<&String> = baseline_days
        .iter()
        .filter(|d| is_weekend(d) == season)
        .collect();
    let today = |key: &(String, String)| by_user[key].get(day);
    // Per user, once: their latest groups and the day's value of each signal.
    let latest_groups: BTreeMap<&(String, String), Vec<String>> = by_user
        .iter()
        .map(|(k, days)| {
            let g = days
                .values()
                .rev()
                .find(|d| !d.groups.is_empty())
                .map(|d| d.groups.clone())
                .unwrap_or_default();
            (k, g)
        })
        .collect();
    let today_vals: BTreeMap<&(String, String), Vec<f64>> = by_user
        .keys()
        .map(|k| {
            let d = today(k);
            (k, SIGNALS.iter().map(|(n, ..)| value(d, n)).collect())
        })
        .collect();
    let active: std::collections::BTreeSet<&Key> =
        by_user.keys().filter(|k| today(k).is_some()).collect();
    let mut peer_stats: std::collections::HashMap<(String, Vec<String>), Peers<'_>> =
        Default::default();
    let mut out = Vec::new();
    for (key, days) in &by_user {
        let Some(first) = days.keys().next() else {
            continue;
        };
        let groups = latest_groups[key].clone();
        // Only the days since the user first appeared are their baseline.
        let own: Vec<&String> = {
            let seasonal: Vec<&String> = same_kind
                .iter()
                .copied()
                .filter(|d| d.as_str() >= first.as_str())
                .collect();
            if seasonal.len() >= MIN_OWN_DAYS {
                seasonal
            } else {
                baseline_days
                    .iter()
                    .filter(|d| d.as_str() >= first.as_str())
                    .collect()
            }
        };
        let peers = peer_stats
            .entry((key.0.clone(), groups.clone()))
            .or_insert_with(|| Peers::of(&key.0, &groups, &latest_groups, &active, &today_vals));
        let others: Vec<&Key> = peers
            .members
            .iter()
            .copied()
            .filter(|m| *m != key)
            .collect();
        // A large peer group shares one computation of its statistics (with the user among
        // many, which moves a median by nothing that matters); a small one is exact.
        let exact;
        let peer_stats_now: &Vec<(f64, f64)> = if others.len() > EXACT_PEERS {
            &peers.stats
        } else {
            exact = Peers::stats_of(&others, &today_vals);
            &exact
        };
        let peer_count = others.len();
        let mut signals = Vec::new();
        let mut reasons = Vec::new();
        let mut score: f64 = 0.0;
        for (signal, &(name, min, floor)) in SIGNALS.iter().enumerate() {
            let x = value(today(key), name);
            // A share means nothing on a day without requests: those days are left out.
            let series: Vec<f64> = own
                .iter()
                .filter_map(|bd| {
                    let d = days.get(*bd);
                    (name != "sensitive_share" || d.is_some_and(|d| d.requests > 0))
                        .then(|| value(d, name))
                })
                .collect();
            let (med, mad) = med_mad(&series);
            let z = (series.len() >= MIN_OWN_DAYS).then(|| robust_z(x, med, mad, floor));
            let (peer_median, peer_z) = if peer_count >= MIN_PEERS {
                let (pm, pmad) = peer_stats_now[signal];
                (Some(pm), Some(robust_z(x, pm, pmad, floor)))
            } else {
                (None, None)
            };
            let stands_out = x >= min
                && match (z, peer_z) {
                    (Some(z), p) => z >= OWN_Z && p.is_none_or(|p| p >= PEER_Z),
                    // Too new for a baseline: stand out from the peers as far.
                    (None, Some(p)) => p >= OWN_Z,
                    (None, None) => false,
                };
            // Counts are noisy at small numbers: a count must also be improbable under the
            // user's own mean rate (Poisson), and a share under their own share (binomial).
            // Checked last, only for what already stands out.
            let improbable = || match name {
                // Bytes are not a count of events; a new refused or rare AI tool is evidence
                // in itself (it is rare in the tenant by construction).
                "bytes" | "new_destinations" => true,
                // The user's own share over the baseline, pooled; a share needs some weight
                // (10 requests, 5 of them sensitive) before it means anything.
                "sensitive_share" => today(key).is_some_and(|d| {
                    let (sens, reqs) = own
                        .iter()
                        .filter_map(|bd| days.get(*bd))
                        .fold((0, 0), |(s, r), x| (s + x.sensitive, r + x.requests));
                    let p0 = (sens as f64 + 0.5) / (reqs as f64 + 10.0);
                    d.requests >= 10
                        && d.sensitive >= 5
                        && binomial_tail(d.sensitive, d.requests, p0.max(0.01)) < P_MAX
                }),
                _ => {
                    let mean = series.iter().sum::<f64>() / series.len().max(1) as f64;
                    poisson_tail(x, mean.max(0.25)) < P_MAX
                }
            };
            let alerting = stands_out && improbable();
            if alerting {
                score = score.max(z.unwrap_or_default().max(peer_z.unwrap_or_default()));
                let own_part = match z {
                    Some(z) => format!("against a usual {} (z {z:.1})", fmt(med)),
                    None => "with no baseline yet".to_string(),
                };
                reasons.push(match peer_median {
                    Some(pm) => format!(
                        "{name}: {} today, {own_part} and peers' {} (z {:.1})",
                        fmt(x),
                        fmt(pm),
                        peer_z.unwrap_or_default()
                    ),
                    None => format!("{name}: {} today, {own_part}", fmt(x)),
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
        // A rising trend: the typical day of the last week has several times the sensitive
        // requests of the user's earlier baseline (medians, so one burst day is not a trend),
        // and the week's total is improbable at the earlier mean rate.
        let last_week: Vec<f64> = (0..7)
            .map(|n| days.get(&days_before(day, n)).map_or(0, |x| x.sensitive) as f64)
            .collect();
        // Every earlier baseline day since the user appeared (weekdays and weekends, as the
        // last week has both).
        let cut = days_before(day, 6);
        let earlier: Vec<f64> = baseline_days
            .iter()
            .filter(|d| d.as_str() < cut.as_str() && d.as_str() >= first.as_str())
            .map(|d| days.get(d).map_or(0, |x| x.sensitive) as f64)
            .collect();
        let recent = med_mad(&last_week).0;
        let before = med_mad(&earlier).0;
        let rate = earlier.iter().sum::<f64>() / earlier.len().max(1) as f64;
        if earlier.len() >= 14
            && recent >= 3.0
            && recent >= 3.0 * before.max(1.0)
            && poisson_tail(last_week.iter().sum(), 7.0 * rate.max(0.25)) < P_MAX
        {
            reasons.push(format!(
                "sensitive requests rising: {} on a typical day of the last week, {} before",
                fmt(recent),
                fmt(before)
            ));
            score = score.max(OWN_Z);
        }
        let alerting: Vec<&Signal> = signals.iter().filter(|s| s.alerting).collect();
        let trend = reasons.len() > alerting.len();
        let alert = trend
            || alerting.iter().any(|s| {
                EVIDENCE.contains(&s.name.as_str())
                    || (s.z.is_some_and(|z| z >= VOLUME_Z)
                        && s.value >= VOLUME_RATIO * s.baseline_median.max(1.0))
            });
        if !alert {
            score = 0.0;
        }
        out.push(UserRisk {
            tenant: key.0.clone(),
            user: key.1.clone(),
            pseudonymous: false,
            groups,
            score,
            alert,
            signals,
            reasons,
            events: if alert {
                today(key).map(|d| d.events.clone()).unwrap_or_default()
            } else {
                Vec::new()
            },
        });
    }
    out.sort_by(|a, b| {
        b.alert
            .cmp(&a.alert)
            .then(b.score.total_cmp(&a.score))
            .then(a.tenant.cmp(&b.tenant))
            .then(a.user.cmp(&b.user))
    });
    out
}

/// P(X ≥ x) for X ~ Poisson(λ).
pub(crate) fn poisson_tail(x: f64, lambda: f64) -> f64 {
    let x = x.ceil().max(0.0) as u64;
    if x == 0 {
        return 1.0;
    }
    // 1 − P(X < x), summed in log space (λ can be large).
    let mut log_term = -lambda;
    let mut below = 0.0;
    for k in 0..x {
        if k > 0 {
            log_term += lambda.ln() - (k as f64).ln();
        }
        below += log_term.exp();
    }
    (1.0 - below).max(0.0)
}

/// P(X ≥ k) for X ~ Binomial(n, p): the terms from `k` up, each from the one before, until
/// they no longer count (linear in the terms summed, however large `n` is).
pub(crate) fn binomial_tail(k: i64, n: i64, p: f64) -> f64 {
    if k <= 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    // ln C(n, k) by log-gamma-free summation over the smaller side.
    let j = k.min(n - k);
    let ln_choose: f64 = (1..=j)
        .map(|i| ((n - j + i) as f64).ln() - (i as f64).ln())
        .sum();
    let mut term = (ln_choose + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln()).exp();
    let ratio = p / (1.0 - p);
    let mut sum = 0.0;
    let mut i = k;
    while i <= n {
        sum += term;
        if term < sum * 1e-12 || (term == 0.0 && sum > 0.0) {
            break;
        }
        term *= (n - i) as f64 / (i + 1) as f64 * ratio;
        i += 1;
    }
    sum.min(1.0)
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

    #[test]
    fn robust_statistics_shrug_off_a_single_past_spike() {
        let mut series = vec![10.0; 20];
        series[3] = 500.0;
        let (m, mad) = med_mad(&series);
        assert_eq!((m, mad), (10.0, 0.0));
        assert!(robust_z(12.0, m, mad, 3.0) < OWN_Z);
        assert!(robust_z(40.0, m, mad, 3.0) > OWN_Z);
    }

    #[test]
    fn tails_match_known_values() {
        // P(X >= 4 | λ = 0.5) = 1 − e^−0.5 (1 + 0.5 + 0.125 + 0.0208…) = 0.001752
        assert!((poisson_tail(4.0, 0.5) - 0.001752).abs() < 1e-5);
        assert_eq!(poisson_tail(0.0, 3.0), 1.0);
        assert!(poisson_tail(200.0, 20.0) < 1e-12);
        // P(X >= 3 | n = 10, p = 0.02) = 0.000864
        assert!((binomial_tail(3, 10, 0.02) - 0.000864).abs() < 1e-5);
        assert!((binomial_tail(1, 1, 0.5) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn weekends_are_compared_with_weekends() {
        // Busy weekdays, quiet weekends: a usual Saturday is no anomaly, though it is far
        // below the weekday median, and a weekday-sized Saturday is only judged by weekends.
        let mut rows = Vec::new();
        for n in 1..=28 {
            let day = days_before("2026-11-28", n);
            let requests = if is_weekend(&day) { 2 } else { 60 };
            rows.push(DayRow {
                tenant: "t".into(),
                user: "ann".into(),
                day,
                requests,
                ..DayRow::default()
            });
        }
        assert!(is_weekend("2026-11-28"));
        let mut quiet = rows.clone();
        quiet.push(DayRow {
            tenant: "t".into(),
            user: "ann".into(),
            day: "2026-11-28".into(),
            requests: 3,
            ..DayRow::default()
        });
        let r = &assess_rows(quiet, "2026-11-28", 28)[0];
        assert!(!r.alert, "{r:#?}");
        let mut busy = rows;
        busy.push(DayRow {
            tenant: "t".into(),
            user: "ann".into(),
            day: "2026-11-28".into(),
            requests: 60,
            ..DayRow::default()
        });
        let r = &assess_rows(busy, "2026-11-28", 28)[0];
        assert!(r.alert && r.alerting() == ["requests"], "{r:#?}");
    }
}
