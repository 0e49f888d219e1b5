//! A labelled usage log for measuring the insider-risk alerts: ordinary users with their own
//! rhythms (volume, hours, weekends, the odd finding, the odd block, the odd new tool, the odd
//! busy day) and planted insiders (exfiltration bursts, retrying after blocks, a new shadow-AI
//! tool), at full strength or mild. `promptwall risk eval` and the tests score the alerts
//! against what was planted: precision, recall, and false alerts per 1,000 users per day.

use super::rollup::{RiskError, RiskStore};
use crate::audit::store::Activity;
use classifiers::redteam::Rng;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What an insider does on a planted day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Plant {
    /// Many uploads of sensitive files or code in a burst.
    Exfiltration,
    /// Blocked, then retrying with small changes, again and again.
    RetryAfterBlock,
    /// Sensitive work sent to a new, unsanctioned AI tool.
    ShadowAi,
}

const PLANTS: [Plant; 3] = [Plant::Exfiltration, Plant::RetryAfterBlock, Plant::ShadowAi];

/// The shape of the simulated organization.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub seed: u64,
    pub users: usize,
    /// Days of history before the evaluated window.
    pub history_days: i64,
    /// Days assessed at the end.
    pub eval_days: i64,
    /// Share of users who turn insider once in the window.
    pub insider_share: f64,
    /// Share of planted days that are mild (about half the strength).
    pub mild_share: f64,
    /// The first day of history, `YYYY-MM-DD`.
    pub start: String,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            seed: 7,
            users: 400,
            history_days: 35,
            eval_days: 14,
            insider_share: 0.03,
            mild_share: 0.5,
            start: "2026-09-07".into(),
        }
    }
}

/// One planted insider day.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Truth {
    pub user: String,
    pub day: String,
    pub plant: Plant,
    pub mild: bool,
}

struct Person {
    name: String,
    groups: Vec<String>,
    /// Median requests on a working day.
    volume: f64,
    /// Usual first hour (UTC) and length of the working day.
    start_hour: u32,
    hours: u32,
    works_weekends: bool,
    sensitive_rate: f64,
    hosts: Vec<&'static str>,
}

const GROUPS: [&str; 8] = [
    "eng",
    "sales",
    "support",
    "legal",
    "finance",
    "marketing",
    "hr",
    "research",
];
const SANCTIONED: [&str; 4] = [
    "api.openai.com",
    "api.anthropic.com",
    "generativelanguage.googleapis.com",
    "corp.openai.azure.com",
];
const SHADOW: [&str; 5] = [
    "api.mistral.ai",
    "api.deepseek.com",
    "api.groq.com",
    "api.perplexity.ai",
    "api.together.xyz",
];
const CATEGORIES: [&str; 4] = ["secret", "pii", "source_code", "financial"];

fn unit(r: &mut Rng) -> f64 {
    (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A count around `mean` (Poisson by inversion for small means, normal above).
fn count(r: &mut Rng, mean: f64) -> usize {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 30.0 {
        let (u1, u2) = (unit(r).max(1e-12), unit(r));
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        return (mean + z * mean.sqrt()).round().max(0.0) as usize;
    }
    let (l, mut k, mut p) = ((-mean).exp(), 0usize, 1.0);
    loop {
        p *= unit(r);
        if p <= l {
            return k;
        }
        k += 1;
    }
}

fn person(r: &mut Rng, i: usize) -> Person {
    let group = GROUPS[(i * 7 + r.below(3)) % GROUPS.len()];
    let mut groups = vec![group.to_string()];
    if r.below(10) == 0 {
        groups.push("managers".into());
    }
    // Log-normal volume: a median of 12 requests a day, from about 2 to 60.
    let z = (unit(r) + unit(r) + unit(r) - 1.5) * 2.0;
    let volume = (12.0 * (0.8 * z).exp()).clamp(1.5, 80.0);
    let (start_hour, hours) = match r.below(10) {
        // Night shift or another continent: most of the day is "off hours" for them.
        0 => (14 + r.below(6) as u32, 8),
        1 => (r.below(3) as u32, 8),
        _ => (7 + r.below(3) as u32, 8 + r.below(3) as u32),
    };
    let sensitive_rate = match group {
        "support" | "hr" | "legal" | "finance" => 0.04 + unit(r) * 0.12,
        "eng" => 0.01 + unit(r) * 0.06,
        _ => unit(r) * 0.03,
    };
    let mut hosts = vec![SANCTIONED[r.below(2)]];
    if r.below(3) == 0 {
        hosts.push(SANCTIONED[2 + r.below(2)]);
    }
    Person {
        name: format!("user{i:05}@corp.example"),
        groups,
        volume,
        start_hour,
        hours,
        works_weekends: r.below(8) == 0,
        sensitive_rate,
        hosts,
    }
}

struct Day<'a> {
    r: &'a mut Rng,
    p: &'a Person,
    day: &'a str,
    out: &'a mut Vec<Activity>,
    seq: &'a mut i64,
}

impl Day<'_> {
    fn event(
        &mut self,
        minute: u32,
        host: &str,
        category: Option<&str>,
        decision: &str,
        bytes: i64,
    ) {
        *self.seq += 1;
        let minute = minute.min(24 * 60 - 1);
        self.out.push(Activity {
            seq: *self.seq,
            id: format!("sim{:09}", *self.seq),
            time: format!(
                "{}T{:02}:{:02}:{:02}.000Z",
                self.day,
                minute / 60,
                minute % 60,
                self.r.below(60)
            ),
            kind: if decision == "blocked" {
                "blocked_destination"
            } else {
                "ai_request"
            }
            .into(),
            tenant: "corp".into(),
            user: self.p.name.clone(),
            groups: self.p.groups.clone(),
            decision: decision.into(),
            categories: category.map(str::to_string).into_iter().collect(),
            bytes,
            host: host.into(),
        });
    }

    fn working_minute(&mut self) -> u32 {
        let span = self.p.hours * 60;
        (self.p.start_hour * 60 + self.r.below(span as usize) as u32) % (24 * 60)
    }

    /// An ordinary day for this person.
    fn ordinary(&mut self, weekend: bool) {
        let mut mean = self.p.volume;
        if weekend {
            mean *= if self.p.works_weekends { 0.5 } else { 0.05 };
        }
        // The odd busy day (a deadline, a migration), and the odd quiet one.
        match self.r.below(40) {
            0 => mean *= 2.5,
            1 | 2 => mean *= 0.3,
            _ => {}
        }
        let n = count(self.r, mean);
        let mut minutes: Vec<u32> = (0..n).map(|_| self.working_minute()).collect();
        minutes.sort_unstable();
        // The odd new tool tried in good faith.
        let curious = self.r.below(120) == 0;
        for (k, m) in minutes.into_iter().enumerate() {
            let sensitive = unit(self.r) < self.p.sensitive_rate;
            let cat = CATEGORIES[self.r.below(CATEGORIES.len())];
            // Most findings are redacted; now and then one is blocked and retried cleanly.
            let decision = if sensitive && self.r.below(12) == 0 {
                "block"
            } else if sensitive {
                "redact"
            } else {
                "allow"
            };
            let host = if curious && k == 0 {
                SANCTIONED[2 + self.r.below(2)]
            } else {
                self.p.hosts[self.r.below(self.p.hosts.len())]
            };
            let bytes = 300 + self.r.below(4000) as i64;
            self.event(m, host, sensitive.then_some(cat), decision, bytes);
            if decision == "block" {
                // Fixed and resent a few minutes later.
                let later = m + 2 + self.r.below(5) as u32;
                self.event(later, host, None, "allow", bytes);
            }
        }
    }

    /// An insider's day: the ordinary one, plus what they do.
    fn planted(&mut self, plant: Plant, mild: bool, weekend: bool) {
        self.ordinary(weekend);
        let strength = if mild { 0.5 } else { 1.0 };
        let late = self.r.below(2) == 0;
        let base = if late {
            (self.p.start_hour + self.p.hours + 3) * 60 % (24 * 60)
        } else {
            self.working_minute()
        };
        let host = self.p.hosts[0];
        match plant {
            Plant::Exfiltration => {
                let n = (40.0 * strength) as usize + self.r.below((40.0 * strength) as usize);
                for k in 0..n {
                    let sensitive = self.r.below(10) < 6;
                    let cat = if self.r.below(2) == 0 {
                        "source_code"
                    } else {
                        CATEGORIES[self.r.below(CATEGORIES.len())]
                    };
                    let decision = if sensitive { "redact" } else { "allow" };
                    let bytes = 20_000 + self.r.below(80_000) as i64;
                    self.event(
                        base + k as u32,
                        host,
                        sensitive.then_some(cat),
                        decision,
                        bytes,
                    );
                }
            }
            Plant::RetryAfterBlock => {
                let rounds = (8.0 * strength) as usize + self.r.below(6);
                let mut m = base;
                for _ in 0..rounds {
                    self.event(m, host, Some("secret"), "block", 2_000);
                    m += 1 + self.r.below(4) as u32;
                    self.event(m, host, Some("secret"), "block", 2_100);
                    m += 1 + self.r.below(4) as u32;
                }
            }
            Plant::ShadowAi => {
                let tool = SHADOW[self.r.below(SHADOW.len())];
                let n = (12.0 * strength) as usize + self.r.below(10);
                for k in 0..n {
                    let sensitive = self.r.below(3) == 0;
                    // Unsanctioned: refused at CONNECT (a blocked destination) or, where the
                    // tenant lets it through for inspection, a sensitive request to it.
                    if self.r.below(2) == 0 {
                        self.event(base + 2 * k as u32, tool, None, "blocked", 0);
                    } else {
                        let bytes = 1_500 + self.r.below(6_000) as i64;
                        let decision = if sensitive { "redact" } else { "allow" };
                        self.event(
                            base + 2 * k as u32,
                            tool,
                            sensitive.then_some("pii"),
                            decision,
                            bytes,
                        );
                    }
                }
            }
        }
    }
}

/// The log in day order, and what was planted in the evaluated window.
pub fn generate(s: &Scenario) -> (Vec<Activity>, Vec<Truth>) {
    let mut r = Rng::new(s.seed);
    let people: Vec<Person> = (0..s.users).map(|i| person(&mut r, i)).collect();
    let total = s.history_days + s.eval_days;
    let last = super::score::days_before(&s.start, -(total - 1));
    let mut plants: BTreeMap<(usize, String), (Plant, bool)> = BTreeMap::new();
    for i in 0..s.users {
        if unit(&mut r) < s.insider_share {
            let day = super::score::days_before(&last, r.below(s.eval_days as usize) as i64);
            let plant = PLANTS[r.below(PLANTS.len())];
            plants.insert((i, day), (plant, unit(&mut r) < s.mild_share));
        }
    }
    let mut out = Vec::new();
    let mut seq = 0;
    for d in 0..total {
        let day = super::score::days_before(&s.start, -d);
        let weekend = super::score::is_weekend(&day);
        let mut today = Vec::new();
        for (i, p) in people.iter().enumerate() {
            let mut dd = Day {
                r: &mut r,
                p,
                day: &day,
                out: &mut today,
                seq: &mut seq,
            };
            match plants.get(&(i, day.clone())) {
                Some(&(plant, mild)) => dd.planted(plant, mild, weekend),
                None => dd.ordinary(weekend),
            }
        }
        // The log's order is time order.
        today.sort_by(|a, b| a.time.cmp(&b.time));
        out.extend(today);
    }
    for (k, e) in out.iter_mut().enumerate() {
        e.seq = k as i64 + 1;
    }
    let truth = plants
        .into_iter()
        .map(|((i, day), (plant, mild))| Truth {
            user: people[i].name.clone(),
            day,
            plant,
            mild,
        })
        .collect();
    (out, truth)
}

/// Alert quality over the evaluated window.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub users: usize,
    pub eval_days: i64,
    pub events: usize,
    pub planted: usize,
    pub alerts: usize,
    pub true_alerts: usize,
    pub precision: f64,
    pub recall: f64,
    /// False alerts per 1,000 users per day.
    pub false_per_1000_user_days: f64,
    /// Recall per plant and strength: (caught, planted).
    pub recall_by_plant: BTreeMap<String, (usize, usize)>,
    /// The signals of the false alerts, and how often.
    pub false_alert_signals: BTreeMap<String, usize>,
    /// Up to 20 false alerts: (user, day, reasons), to see their shape.
    pub false_alert_examples: Vec<(String, String, Vec<String>)>,
}

/// Generates `s`, rolls it up in `store` and scores every day of the window.
pub fn evaluate(s: &Scenario, store: &mut RiskStore) -> Result<Evaluation, RiskError> {
    let (events, truth) = generate(s);
    for page in events.chunks(super::rollup::PAGE) {
        let end = page.last().map_or(0, |e| e.seq);
        store.ingest("simulation", page, end)?;
    }
    let last = super::score::days_before(&s.start, -(s.history_days + s.eval_days - 1));
    let planted: BTreeSet<(String, String)> = truth
        .iter()
        .map(|t| (t.user.clone(), t.day.clone()))
        .collect();
    let mut alerts = 0;
    let mut true_alerts = 0;
    let mut caught: BTreeSet<(String, String)> = BTreeSet::new();
    let mut false_alert_signals: BTreeMap<String, usize> = BTreeMap::new();
    let mut false_alert_examples = Vec::new();
    for n in (0..s.eval_days).rev() {
        let day = super::score::days_before(&last, n);
        let baseline = super::RiskConfig::default().baseline_days;
        for r in super::assess(store, Some("corp"), &day, baseline, None)? {
            if !r.alert {
                continue;
            }
            alerts += 1;
            let key = (r.user.clone(), day.clone());
            if planted.contains(&key) {
                true_alerts += 1;
                caught.insert(key);
            } else {
                for sig in r.alerting() {
                    *false_alert_signals.entry(sig).or_default() += 1;
                }
                if false_alert_examples.len() < 20 {
                    false_alert_examples.push((r.user.clone(), day.clone(), r.reasons.clone()));
                }
            }
        }
    }
    let mut recall_by_plant: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for t in &truth {
        let name = format!(
            "{}{}",
            serde_json::to_value(t.plant)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            if t.mild { " (mild)" } else { "" }
        );
        let e = recall_by_plant.entry(name).or_default();
        e.1 += 1;
        if caught.contains(&(t.user.clone(), t.day.clone())) {
            e.0 += 1;
        }
    }
    let user_days = (s.users as i64 * s.eval_days) as f64;
    Ok(Evaluation {
        users: s.users,
        eval_days: s.eval_days,
        events: events.len(),
        planted: truth.len(),
        alerts,
        true_alerts,
        precision: if alerts == 0 {
            0.0
        } else {
            true_alerts as f64 / alerts as f64
        },
        recall: if truth.is_empty() {
            0.0
        } else {
            caught.len() as f64 / truth.len() as f64
        },
        false_per_1000_user_days: (alerts - true_alerts) as f64 / user_days * 1000.0,
        recall_by_plant,
        false_alert_signals,
        false_alert_examples,
    })
}

/// The usage-log record of a simulated activity (what the proxy would have written), for
/// loading a generated log into a real audit database.
pub fn to_event(a: &Activity) -> crate::audit::AuditEvent {
    crate::audit::AuditEvent {
        id: a.id.clone(),
        time: a.time.clone(),
        kind: a.kind.clone(),
        tenant: a.tenant.clone(),
        user: (a.user != "-").then(|| a.user.clone()),
        groups: a.groups.clone(),
        provider: Some("openai".into()),
        host: a.host.clone(),
        request_bytes: a.bytes.max(0) as u64,
        decision: a.decision.clone(),
        reasons: a
            .categories
            .iter()
            .map(|c| crate::audit::event::ReasonRow {
                rule: format!("no-{c}"),
                action: a.decision.clone(),
                category: Some(c.clone()),
                entity: c.clone(),
                count: 1,
                max_score: 1.0,
            })
            .collect(),
        status: if a.decision == "block" { 403 } else { 200 },
        ..Default::default()
    }
}
