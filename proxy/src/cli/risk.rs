//! `promptwall risk`: insider-risk results for a day, and the job run once (for cron, or to
//! test delivery).

use crate::config::Config;
use crate::risk::{self, Source};
use std::process::ExitCode;

/// What `promptwall risk` shows.
#[derive(Debug, Clone)]
pub enum Show {
    /// Every user, riskiest first.
    Users,
    /// One user's signals, baselines and peers (a name, or a pseudonym where users are
    /// pseudonymized).
    User(String),
    /// Only users with an alert.
    Alerts,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn check_log(cfg: &Config) -> anyhow::Result<()> {
    let db = cfg.audit.path(&cfg.state_dir);
    anyhow::ensure!(
        cfg.fleet.clickhouse.is_some() || db.exists(),
        "no audit log at {} (has the server run with this config?)",
        db.display()
    );
    Ok(())
}

/// Pseudonyms, where the config asks for them (keyed by the deployment's master secret).
fn pseudonyms(cfg: &Config) -> anyhow::Result<Option<risk::Pseudonyms>> {
    Ok(cfg
        .risk
        .pseudonymize_users
        .then(|| crate::state::load_or_create_master_key(&cfg.state_dir))
        .transpose()?
        .map(|k| risk::Pseudonyms::new(&k)))
}

/// Updates the rollup from the log (or ClickHouse), assesses `day` and prints.
pub fn show(
    cfg: &Config,
    what: Show,
    tenant: Option<&str>,
    day: &str,
    baseline: i64,
    json: bool,
) -> anyhow::Result<ExitCode> {
    check_log(cfg)?;
    let risk_path = risk::rollup_path(&cfg.state_dir);
    runtime()?.block_on(risk::catch_up(&Source::of(cfg, None), &risk_path))?;
    let pseudonyms = pseudonyms(cfg)?;
    let store = risk::RiskStore::open(&risk_path)?;
    let mut risks = risk::assess(&store, tenant, day, baseline, pseudonyms.as_ref())?;
    match &what {
        Show::Users => {}
        Show::User(name) => risks.retain(|r| &r.user == name),
        Show::Alerts => risks.retain(|r| r.alert),
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&risks)?);
        return Ok(ExitCode::SUCCESS);
    }
    if risks.is_empty() {
        println!("nothing to report for {day}");
    }
    for r in &risks {
        println!(
            "{}\t{}\t{}\tscore {:.1}{}",
            r.tenant,
            r.user,
            r.groups.join(","),
            r.score,
            if r.alert { "\tALERT" } else { "" }
        );
        for why in &r.reasons {
            println!("    {why}");
        }
        if let Show::User(_) = &what {
            for s in &r.signals {
                println!(
                    "    {:<20} {:>10.2}  baseline {:>8.2} ± {:<6.2} z {:>6}{}",
                    s.name,
                    s.value,
                    s.baseline_median,
                    s.baseline_mad,
                    s.z.map_or("-".into(), |z| format!("{z:.1}")),
                    s.peer_z
                        .map(|p| format!("  peers z {p:.1}"))
                        .unwrap_or_default()
                );
            }
        }
        if r.alert {
            println!("    events: {}", r.events.join(" "));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the job once: update, assess yesterday and today, queue new alerts, deliver.
pub fn run_job(cfg: &Config) -> anyhow::Result<ExitCode> {
    check_log(cfg)?;
    let pseudonyms = pseudonyms(cfg)?;
    let job = risk::Job {
        config: cfg.risk.clone(),
        source: Source::of(cfg, None),
        risk_path: risk::rollup_path(&cfg.state_dir),
        pseudonyms,
        sinks: risk::deliver::Sinks::new(&cfg.risk)?,
    };
    let report = runtime()?.block_on(job.run_once(time::OffsetDateTime::now_utc()))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if report.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `promptwall risk eval`: alert quality on a generated log with planted insiders.
pub fn eval(seed: u64, users: usize, days: i64, json: bool) -> anyhow::Result<ExitCode> {
    let scenario = risk::simulate::Scenario {
        seed,
        users,
        eval_days: days,
        ..Default::default()
    };
    let mut store = risk::RiskStore::open(std::path::Path::new(":memory:"))?;
    let e = risk::simulate::evaluate(&scenario, &mut store)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&e)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} users, {} days assessed, {} events, {} insider days planted",
        e.users, e.eval_days, e.events, e.planted
    );
    println!(
        "alerts {}  true {}  precision {:.3}  recall {:.3}  false alerts per 1,000 users per day {:.2}",
        e.alerts, e.true_alerts, e.precision, e.recall, e.false_per_1000_user_days
    );
    for (plant, (caught, planted)) in &e.recall_by_plant {
        println!("  {plant:<28} {caught}/{planted}");
    }
    if !e.false_alert_signals.is_empty() {
        println!("false alerts by signal:");
        for (sig, n) in &e.false_alert_signals {
            println!("  {sig:<28} {n}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
