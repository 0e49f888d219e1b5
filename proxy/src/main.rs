//! `promptwall`: a thin binary over the PromptWall library crates.

use anyhow::Context;
use clap::Parser;
use promptwall::cli;
use promptwall::cli::args::{
    AuditCommand, AuthCommand, CaCommand, Cli, Command, PolicyCommand, Remote, RiskCommand,
    RulesCommand,
};
use promptwall::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc instead of glibc malloc: a request allocates and frees many small buffers across
/// worker threads, where glibc's arenas showed ~10% of the proxy's CPU in `perf`.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn load_config(path: Option<&PathBuf>) -> anyhow::Result<Config> {
    match path {
        Some(p) => Ok(Config::load(p)?),
        None => Ok(Config::default()),
    }
}

fn author(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve { .. }) {
        promptwall::telemetry::init_logging();
    }
    match run(cli) {
        Ok(code) => {
            promptwall::telemetry::flush_logs();
            code
        }
        Err(e) => {
            promptwall::telemetry::flush_logs();
            eprintln!("promptwall: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { config } => {
            let config = load_config(config.as_ref())?;
            promptwall::telemetry::init(config.telemetry.otlp.as_ref())?;
            promptwall::serve::run(config)?;
            promptwall::telemetry::shutdown();
            Ok(ExitCode::SUCCESS)
        }
        Command::Ca { command } => {
            let (CaCommand::Export { config } | CaCommand::Init { config }) = &command;
            let cfg = load_config(config.as_ref())?;
            let ca = promptwall::serve::load_ca(&cfg)?;
            match command {
                CaCommand::Export { .. } => print!("{}", ca.cert_pem()),
                CaCommand::Init { .. } => eprintln!("CA ready in {}", cfg.state_dir.display()),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Scan {
            tenant,
            policy,
            rules,
            config,
            no_model,
            input,
        } => {
            let mut cfg = load_config(config.as_ref())?;
            cfg.classifier.enabled &= !no_model;
            let classifier = promptwall::serve::load_classifier(&cfg).ok();
            cli::scan::run(&cli::scan::ScanArgs {
                classifier,
                classifier_deadline: std::time::Duration::from_secs(10),
                input: &input,
                tenant: &tenant,
                policy: policy.as_deref(),
                rules_dir: rules.as_deref().or(cfg.rules.dir.as_deref()),
                state_dir: &cfg.state_dir,
            })
        }
        Command::Eval {
            file,
            rules,
            config,
            no_model,
            threads,
            json,
        } => {
            let mut cfg = load_config(config.as_ref())?;
            cfg.classifier.enabled &= !no_model;
            cli::eval::run(&cli::eval::EvalArgs {
                file: &file,
                rules: rules.as_deref(),
                config: &cfg,
                threads,
                json,
            })
        }
        Command::Rules { command } => match command {
            RulesCommand::List { dir, no_builtin } => cli::rules::list(!no_builtin, dir.as_deref()),
            RulesCommand::Test { dir, no_builtin } => {
                cli::rules::test(!(no_builtin && dir.is_some()), dir.as_deref())
            }
        },
        Command::Policy { command } => match command {
            PolicyCommand::Validate { files } => cli::policy::validate(&files),
            PolicyCommand::Test { file, cases } => cli::policy::test(&file, &cases),
            PolicyCommand::Diff { old, new, replay } => cli::policy::diff(&old, &new, &replay),
            PolicyCommand::Apply {
                file,
                remote: Remote { admin: Some(admin) },
                ..
            } => cli::remote::apply(&admin, &file),
            PolicyCommand::History {
                tenant,
                remote: Remote { admin: Some(admin) },
                ..
            } => cli::remote::history(&admin, &tenant),
            PolicyCommand::Rollback {
                tenant,
                version,
                remote: Remote { admin: Some(admin) },
                ..
            } => cli::remote::rollback(&admin, &tenant, version),
            PolicyCommand::Apply {
                file,
                remote: Remote { admin: None },
                author: a,
                config,
                no_reload,
            } => {
                let cfg = load_config(config.as_ref())?;
                match &cfg.fleet.postgres {
                    Some(pg) => cli::policy::fleet_apply(pg, &file, &author(a)),
                    None => cli::policy::apply(&cfg.state_dir, &file, &author(a), !no_reload),
                }
            }
            PolicyCommand::History {
                tenant,
                config,
                remote: Remote { admin: None },
            } => {
                let cfg = load_config(config.as_ref())?;
                match &cfg.fleet.postgres {
                    Some(pg) => cli::policy::fleet_history(pg, &tenant),
                    None => cli::policy::history(&cfg.state_dir, &tenant),
                }
            }
            PolicyCommand::Rollback {
                tenant,
                version,
                remote: Remote { admin: None },
                author: a,
                config,
                no_reload,
            } => {
                let cfg = load_config(config.as_ref())?;
                match &cfg.fleet.postgres {
                    Some(pg) => cli::policy::fleet_rollback(pg, &tenant, version, &author(a)),
                    None => cli::policy::rollback(
                        &cfg.state_dir,
                        &tenant,
                        version,
                        &author(a),
                        !no_reload,
                    ),
                }
            }
        },
        Command::Audit { command, config } => {
            let cfg = load_config(config.as_ref())?;
            let db = cfg.audit.path(&cfg.state_dir);
            // Fleet mode reads the whole fleet's log from ClickHouse.
            let fleet = cfg.fleet.clickhouse.as_ref().map(|c| {
                promptwall::fleet::clickhouse::ClickHouse::new(
                    &c.url,
                    &c.database,
                    std::time::Duration::from_millis(c.timeout_ms),
                )
            });
            if let AuditCommand::Verify { fleet: true } = *command {
                let ch =
                    fleet.context("`audit verify --fleet` needs fleet.clickhouse in the config")?;
                return cli::audit::verify_fleet(&ch);
            }
            let source = match fleet {
                Some(ch) if !matches!(*command, AuditCommand::Verify { .. }) => {
                    cli::audit::Source::Fleet(ch)
                }
                _ => cli::audit::Source::Local(db.clone()),
            };
            anyhow::ensure!(
                matches!(source, cli::audit::Source::Fleet(_)) || db.exists(),
                "no audit log at {} (has the server run with this config?)",
                db.display()
            );
            match *command {
                AuditCommand::Query { filter, format } => {
                    cli::audit::query(&source, &filter.filter(), format)
                }
                AuditCommand::Stats { filter, by } => {
                    cli::audit::stats(&source, &filter.filter(), &by)
                }
                AuditCommand::Verify { .. } => cli::audit::verify(&db),
                AuditCommand::Export { filter, format } => {
                    cli::audit::export(&source, &filter.filter(), format)
                }
            }
        }
        Command::Redteam {
            seed,
            target,
            provider,
            per_rule,
            only,
            json,
            html,
            baseline,
            config,
            classifier,
            intent_seeds,
        } => {
            let cfg = load_config(config.as_ref())?;
            let engine = promptwall::serve::load_rules(&cfg)?;
            let intent = if classifier || intent_seeds.is_some() {
                let text = match &intent_seeds {
                    Some(p) => std::fs::read_to_string(p)
                        .with_context(|| format!("reading {}", p.display()))?,
                    None => cli::redteam::INTENT_SEEDS.to_string(),
                };
                Some(
                    classifiers::redteam::intent_seeds(&text)
                        .map_err(|e| anyhow::anyhow!("intent seeds: {e}"))?,
                )
            } else {
                None
            };
            // In-process, the model is loaded here; through a proxy, the proxy's decides.
            let model = match (&intent, &target) {
                (Some(_), None) => Some(
                    promptwall::serve::load_classifier(&cfg)
                        .map_err(|e| anyhow::anyhow!("the classifier could not load: {e}"))?,
                ),
                _ => None,
            };
            cli::redteam::run(cli::redteam::Options {
                intent,
                model,
                seed,
                target,
                providers: provider,
                per_rule,
                only,
                json,
                html,
                baseline,
                engine,
            })
        }
        Command::Risk {
            command,
            config,
            tenant,
            day,
            baseline,
            json,
        } => {
            let cfg = load_config(config.as_ref())?;
            let day = day.unwrap_or_else(|| {
                promptwall::audit::event::now()
                    .get(..10)
                    .unwrap_or_default()
                    .to_string()
            });
            let baseline = baseline.unwrap_or(cfg.risk.baseline_days);
            let show = match command {
                RiskCommand::Users => cli::risk::Show::Users,
                RiskCommand::User { name } => cli::risk::Show::User(name),
                RiskCommand::Alerts => cli::risk::Show::Alerts,
                RiskCommand::Run => return cli::risk::run_job(&cfg),
                RiskCommand::Eval { seed, users, days } => {
                    return cli::risk::eval(seed, users, days, json)
                }
            };
            cli::risk::show(&cfg, show, tenant.as_deref(), &day, baseline, json)
        }
        Command::Pac { proxy, config } => {
            let cfg = load_config(config.as_ref())?;
            anyhow::ensure!(
                promptwall::route::parse_authority(&proxy).is_some(),
                "--proxy must be host:port, got `{proxy}`"
            );
            print!(
                "{}",
                promptwall::catalog::Catalog::new(&cfg.destinations).pac(&proxy)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Auth {
            command: AuthCommand::Hash,
        } => {
            let mut secret = String::new();
            std::io::stdin()
                .read_line(&mut secret)
                .context("reading the secret from stdin")?;
            let secret = secret.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(!secret.is_empty(), "empty secret on stdin");
            println!("{}", policy::SecretHash::create(secret));
            Ok(ExitCode::SUCCESS)
        }
    }
}
