//! `promptwall policy validate|test|diff|apply|history|rollback`.

use anyhow::{bail, Context as _};
use policy::{Action, CompiledPolicy, Context, Direction, LabelsOutcome, Located, Store};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn compile(path: &Path) -> anyhow::Result<CompiledPolicy> {
    Ok(CompiledPolicy::from_yaml(
        &path.display().to_string(),
        &read(path)?,
    )?)
}

/// Validates each file; prints every error with file, line and field.
pub fn validate(files: &[std::path::PathBuf]) -> anyhow::Result<ExitCode> {
    let mut ok = true;
    for f in files {
        match read(f).and_then(|t| {
            CompiledPolicy::from_yaml(&f.display().to_string(), &t).map_err(Into::into)
        }) {
            Ok(p) => println!(
                "{}: ok (tenant {}, {} rules)",
                f.display(),
                p.tenant(),
                p.doc().rules.len()
            ),
            Err(e) => {
                ok = false;
                println!("{e:#}");
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One sample request for `test` and `diff`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sample {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(alias = "text")]
    prompt: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, f64>>,
    #[serde(default)]
    expect: Option<Expect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    action: Action,
    #[serde(default)]
    rules: Option<Vec<String>>,
}

fn decide(engine: &classifiers::PatternEngine, p: &CompiledPolicy, s: &Sample) -> policy::Decision {
    let findings: Vec<Located> = engine
        .scan(&s.prompt)
        .into_iter()
        .map(|finding| Located {
            segment: 0,
            finding,
        })
        .collect();
    let ctx = Context {
        user: s.user.as_deref(),
        groups: &s.groups,
        provider: s.provider.as_deref(),
        model: s.model.as_deref(),
        endpoint: s.endpoint.as_deref(),
        direction: Direction::Request,
        label_thresholds: None,
        uninspectable: None,
        scan_limit: None,
        tools: &[],
    };
    let labels = s
        .labels
        .clone()
        .map(LabelsOutcome::Scored)
        .unwrap_or_default();
    p.evaluate(&ctx, &[&s.prompt], &findings, &labels)
}

fn rules_of(d: &policy::Decision) -> Vec<String> {
    let mut r: Vec<String> = d.reasons.iter().map(|r| r.rule.to_string()).collect();
    r.dedup();
    r
}

/// Runs the cases of `cases` against the policy in `file`; prints a diff for each mismatch.
pub fn test(file: &Path, cases: &Path) -> anyhow::Result<ExitCode> {
    let p = compile(file)?;
    let engine = classifiers::builtin_engine()?;
    let text = read(cases)?;
    let samples: Vec<Sample> = policy::yaml::from_str(&cases.display().to_string(), &text)?;
    let (mut pass, mut fail) = (0, 0);
    for (i, s) in samples.iter().enumerate() {
        let name = s.name.clone().unwrap_or_else(|| format!("case {}", i + 1));
        let Some(expect) = &s.expect else {
            bail!("{}: {name} has no `expect`", cases.display())
        };
        let d = decide(&engine, &p, s);
        let got_rules = rules_of(&d);
        let rules_ok = expect.rules.as_ref().is_none_or(|r| *r == got_rules);
        if d.action == expect.action && rules_ok {
            pass += 1;
            println!("PASS {name}");
        } else {
            fail += 1;
            println!("FAIL {name}");
            println!(
                "  - expected: action {}{}",
                expect.action.as_str(),
                expect
                    .rules
                    .as_ref()
                    .map(|r| format!(", rules {r:?}"))
                    .unwrap_or_default()
            );
            println!(
                "  + got:      action {}, rules {got_rules:?}",
                d.action.as_str()
            );
        }
    }
    println!("{pass} passed, {fail} failed");
    Ok(if fail == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Replays samples through two policies and reports every decision that changes.
pub fn diff(old: &Path, new: &Path, replay: &Path) -> anyhow::Result<ExitCode> {
    let (a, b) = (compile(old)?, compile(new)?);
    let engine = classifiers::builtin_engine()?;
    let text = read(replay)?;
    let mut changes: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut total = 0;
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let s: Sample = serde_json::from_str(line)
            .with_context(|| format!("{}: line {}", replay.display(), n + 1))?;
        total += 1;
        let (da, db) = (decide(&engine, &a, &s), decide(&engine, &b, &s));
        if da.action != db.action || rules_of(&da) != rules_of(&db) {
            let id =
                s.id.clone()
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| (n + 1).to_string());
            println!(
                "{id}: {} {:?} -> {} {:?}",
                da.action.as_str(),
                rules_of(&da),
                db.action.as_str(),
                rules_of(&db)
            );
            *changes
                .entry((da.action.as_str().into(), db.action.as_str().into()))
                .or_default() += 1;
        }
    }
    println!(
        "{} of {total} samples change:",
        changes.values().sum::<usize>()
    );
    for ((from, to), n) in changes {
        println!("  {from} -> {to}: {n}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Tells a running server to reload (SIGHUP), if one runs on this state dir.
fn signal_reload(state_dir: &Path) {
    let Some(pid) = crate::state::running_server(state_dir) else {
        eprintln!(
            "no running server found for {}; it will load the new version at start",
            state_dir.display()
        );
        return;
    };
    match std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
    {
        Ok(s) if s.success() => eprintln!("asked the running server (pid {pid}) to reload"),
        _ => eprintln!("could not signal pid {pid}; restart the server or send SIGHUP to reload"),
    }
}

/// Validates and applies a policy as a new version, then asks the server to reload.
pub fn apply(
    state_dir: &Path,
    file: &Path,
    author: &str,
    reload: bool,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(&crate::state::policy_root(state_dir))?;
    let v = store.apply(&file.display().to_string(), &read(file)?, author)?;
    println!(
        "tenant {} is at version {} ({} by {} at {})",
        v.tenant, v.version, v.action, v.author, v.time
    );
    print!("{}", v.diff);
    if reload {
        signal_reload(state_dir);
    }
    Ok(ExitCode::SUCCESS)
}

/// Lists a tenant's versions.
pub fn history(state_dir: &Path, tenant: &str) -> anyhow::Result<ExitCode> {
    let store = Store::open(&crate::state::policy_root(state_dir))?;
    print_history(tenant, store.history(tenant));
    Ok(ExitCode::SUCCESS)
}

fn print_history(tenant: &str, h: Vec<policy::VersionInfo>) {
    if h.is_empty() {
        println!("tenant {tenant} has no stored policy (the embedded default applies)");
    }
    for v in h {
        let restored = v
            .restored
            .map(|r| format!(" (restores v{r})"))
            .unwrap_or_default();
        println!(
            "v{}\t{}\t{}\t{}{restored}",
            v.version, v.time, v.author, v.action
        );
    }
}

/// Makes an old version current again (as a new version).
pub fn rollback(
    state_dir: &Path,
    tenant: &str,
    version: u64,
    author: &str,
    reload: bool,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(&crate::state::policy_root(state_dir))?;
    let v = store.rollback(tenant, version, author)?;
    println!(
        "tenant {} is at version {} (restores v{version})",
        v.tenant, v.version
    );
    print!("{}", v.diff);
    if reload {
        signal_reload(state_dir);
    }
    Ok(ExitCode::SUCCESS)
}

/// Fleet mode: a one-off runtime and the shared policy store for one CLI command.
fn with_fleet<T>(
    pg: &crate::config::PostgresConfig,
    f: impl AsyncFnOnce(
        &crate::fleet::policies::PgPolicies,
    ) -> Result<T, crate::fleet::policies::PgError>,
) -> anyhow::Result<T> {
    let store = crate::fleet::policies::PgPolicies::new(
        &pg.url,
        std::time::Duration::from_millis(pg.timeout_ms),
    )?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(f(&store))?)
}

fn print_version(v: &policy::VersionInfo) {
    println!(
        "tenant {} is at version {} ({} by {} at {}); every node follows within a second",
        v.tenant, v.version, v.action, v.author, v.time
    );
    print!("{}", v.diff);
}

/// `policy apply` in fleet mode: a new version in PostgreSQL, which every node follows.
pub fn fleet_apply(
    pg: &crate::config::PostgresConfig,
    file: &Path,
    author: &str,
) -> anyhow::Result<ExitCode> {
    let text = read(file)?;
    let (v, _) = with_fleet(pg, async |s| s.apply(&text, author).await)?;
    print_version(&v);
    Ok(ExitCode::SUCCESS)
}

/// `policy rollback` in fleet mode.
pub fn fleet_rollback(
    pg: &crate::config::PostgresConfig,
    tenant: &str,
    version: u64,
    author: &str,
) -> anyhow::Result<ExitCode> {
    let (v, _) = with_fleet(pg, async |s| s.rollback(tenant, version, author).await)?;
    print_version(&v);
    Ok(ExitCode::SUCCESS)
}

/// `policy history` in fleet mode.
pub fn fleet_history(pg: &crate::config::PostgresConfig, tenant: &str) -> anyhow::Result<ExitCode> {
    print_history(tenant, with_fleet(pg, async |s| s.history(tenant).await)?);
    Ok(ExitCode::SUCCESS)
}
