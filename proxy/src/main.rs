//! `promptwall`: a thin binary over the PromptWall library crates.

use anyhow::Context;
use clap::{Parser, Subcommand};
use promptwall::cli;
use promptwall::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc instead of glibc malloc: a request allocates and frees many small buffers across
/// worker threads, where glibc's arenas showed ~10% of the proxy's CPU in `perf`.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "promptwall", version, about = "The GenAI-usage security proxy")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the proxy, the gateway and the admin listener.
    Serve {
        /// YAML config; without it the embedded defaults apply.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// The interception CA.
    Ca {
        #[command(subcommand)]
        command: CaCommand,
    },
    /// Inspect text (JSONL `{"id":..,"text":..}` or plain lines) and print one decision per line.
    Scan {
        /// Tenant whose default policy decides (ignored with --policy).
        #[arg(long, default_value = "default")]
        tenant: String,
        /// A policy file to decide with instead of the default policy.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Extra rule packs, compiled with the built-in ones.
        #[arg(long)]
        rules: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
        /// Skip the content classifier (labels stay empty).
        #[arg(long)]
        no_model: bool,
        /// Input file, or `-` for stdin.
        #[arg(default_value = "-")]
        input: String,
    },
    /// Precision, recall and F1 per entity and category on a labelled JSONL set; and, for
    /// samples with `labels`, precision, recall and FPR per classifier label and source.
    Eval {
        /// Labelled JSONL: `{"text":..,"spans":[{"start","end","entity","category"}],"labels":[..],"source":..}`.
        file: PathBuf,
        /// Extra rule packs, compiled with the built-in ones.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Config whose `classifier` section loads the model.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Skip the classifier (pattern rows only).
        #[arg(long)]
        no_model: bool,
        /// Threads sending texts to the classifier.
        #[arg(long, default_value_t = 4)]
        threads: usize,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rule packs.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Tenant policies.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// The usage log: query, statistics, chain verification, SIEM export.
    Audit {
        #[command(subcommand)]
        command: Box<AuditCommand>,
        #[arg(long, global = true)]
        config: Option<PathBuf>,
    },
    /// Red-team the detectors: every rule's examples hidden by evasions (alone and chained),
    /// against the engine in-process or a running proxy; detection per evasion and family,
    /// blind spots, JSON and HTML reports, and a baseline gate.
    Redteam {
        /// Seed of the evasions' random choices (the run is deterministic).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// A running proxy's gateway base URL (`http://127.0.0.1:8081`); without it the
        /// pattern engine runs in-process.
        #[arg(long)]
        target: Option<String>,
        /// Provider shapes to send through the proxy (a case counts as caught when every
        /// one is refused).
        #[arg(long, value_delimiter = ',', default_value = "openai,anthropic,gemini")]
        provider: Vec<String>,
        /// Against a proxy: at most this many examples per rule.
        #[arg(long, default_value_t = 1)]
        per_rule: usize,
        /// Only these evasions (comma-separated; chains as `a+b`).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        #[arg(long)]
        json: Option<PathBuf>,
        #[arg(long)]
        html: Option<PathBuf>,
        /// Fail (exit 1) when any evasion × family is caught less often than in this report.
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// Rule packs from this config (`rules.dir`); without it the built-in packs. With
        /// `--classifier`, the model from its `classifier` section.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Red-team the content classifier instead: injection, jailbreak and harmful seeds (the
        /// shipped `rules/redteam/intent_seeds.jsonl`, or `--intent-seeds`), caught in-process
        /// when the model gives the seed's label, or with `--target` when the proxy refuses it.
        #[arg(long)]
        classifier: bool,
        /// JSON lines `{"label", "text"}` to use as intent seeds.
        #[arg(long)]
        intent_seeds: Option<PathBuf>,
    },
    /// Insider-risk analytics over the usage log: each user's day against their own baseline
    /// and their peers (median and MAD), with alerts that explain themselves.
    Risk {
        #[command(subcommand)]
        command: RiskCommand,
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        /// One tenant (default: all).
        #[arg(long, global = true)]
        tenant: Option<String>,
        /// The day assessed, YYYY-MM-DD (UTC; default today).
        #[arg(long, global = true)]
        day: Option<String>,
        /// Days of baseline before it (default: `risk.baseline_days`, 28).
        #[arg(long, global = true)]
        baseline: Option<i64>,
        /// JSON instead of text.
        #[arg(long, global = true)]
        json: bool,
    },
    /// Print a PAC file that sends only the AI catalog through the proxy.
    Pac {
        /// The proxy clients should use, `host:port`.
        #[arg(long)]
        proxy: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Proxy credentials.
    Auth {
        #[command(subcommand)]
        command: AuthCommand,
    },
}

#[derive(Subcommand)]
enum CaCommand {
    /// Print the CA certificate (PEM) that clients must trust; creates the CA if needed.
    Export {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Create the CA in the state dir now (no-op if it exists).
    Init {
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// List the rules.
    List {
        /// Extra packs directory.
        dir: Option<PathBuf>,
        /// Leave out the built-in packs.
        #[arg(long)]
        no_builtin: bool,
    },
    /// Run every rule's positive and negative examples.
    Test {
        /// A packs directory (default: the built-in packs).
        dir: Option<PathBuf>,
        /// Leave out the built-in packs when DIR is given.
        #[arg(long)]
        no_builtin: bool,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Check policy files; every error names the file, line and field.
    Validate { files: Vec<PathBuf> },
    /// Run test cases (prompt, identity, expected action and rules) against a policy.
    Test {
        file: PathBuf,
        #[arg(long)]
        cases: PathBuf,
    },
    /// Show how decisions would change between two policies on a set of samples.
    Diff {
        old: PathBuf,
        new: PathBuf,
        #[arg(long)]
        replay: PathBuf,
    },
    /// Validate and apply a policy as a new version, and tell the running server to reload.
    Apply {
        file: PathBuf,
        #[command(flatten)]
        remote: Remote,
        #[arg(long)]
        author: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        no_reload: bool,
    },
    /// List a tenant's policy versions.
    History {
        tenant: String,
        #[command(flatten)]
        remote: Remote,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Make an old version current again.
    Rollback {
        tenant: String,
        version: u64,
        #[command(flatten)]
        remote: Remote,
        #[arg(long)]
        author: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        no_reload: bool,
    },
}

/// Where `policy apply|history|rollback` act: the local state directory, or a server.
#[derive(clap::Args, Debug)]
struct Remote {
    /// Act through this server's admin API (token in `PROMPTWALL_ADMIN_TOKEN`) instead of the
    /// local state directory; changes are authored by the token's name.
    #[arg(long)]
    admin: Option<String>,
}

/// Filters shared by the audit commands.
#[derive(clap::Args, Debug, Default)]
struct AuditFilter {
    #[arg(long)]
    tenant: Option<String>,
    #[arg(long)]
    user: Option<String>,
    #[arg(long)]
    group: Option<String>,
    #[arg(long)]
    provider: Option<String>,
    #[arg(long)]
    model: Option<String>,
    /// The decision: allow, log, redact, coach, block, would_block, ...
    #[arg(long)]
    action: Option<String>,
    #[arg(long)]
    category: Option<String>,
    #[arg(long)]
    entity: Option<String>,
    #[arg(long)]
    rule: Option<String>,
    /// ai_request, ai_response, tunnel, blocked_destination, refused, passthrough
    #[arg(long)]
    kind: Option<String>,
    /// RFC 3339 (or a date): from this time on.
    #[arg(long)]
    since: Option<String>,
    /// RFC 3339 (or a date): before this time.
    #[arg(long)]
    until: Option<String>,
    #[arg(long, default_value_t = 100)]
    limit: usize,
    /// Page: events after this sequence number.
    #[arg(long)]
    after: Option<i64>,
}

impl AuditFilter {
    fn filter(self) -> promptwall::audit::Filter {
        promptwall::audit::Filter {
            tenant: self.tenant,
            user: self.user,
            group: self.group,
            provider: self.provider,
            model: self.model,
            action: self.action,
            category: self.category,
            entity: self.entity,
            rule: self.rule,
            kind: self.kind,
            since: self.since,
            until: self.until,
            limit: self.limit,
            after: self.after,
            ..Default::default()
        }
    }
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Events matching the filters.
    Query {
        #[command(flatten)]
        filter: AuditFilter,
        #[arg(long, value_enum, default_value = "table")]
        format: cli::audit::Format,
    },
    /// Counts grouped by day, user, provider, decision, tenant, model, category, entity or rule.
    Stats {
        #[command(flatten)]
        filter: AuditFilter,
        #[arg(long, default_value = "day")]
        by: String,
    },
    /// Check the hash chain; names the first row that does not verify. With `--fleet`, every
    /// node's chain as stored in ClickHouse, naming gaps and edits.
    Verify {
        #[arg(long)]
        fleet: bool,
    },
    /// Write events as JSON lines or CEF for a SIEM.
    Export {
        #[command(flatten)]
        filter: AuditFilter,
        #[arg(long, value_enum, default_value = "jsonl")]
        format: cli::audit::ExportFormat,
    },
}

#[derive(Subcommand)]
enum RiskCommand {
    /// Every user, riskiest first, with their score.
    Users,
    /// One user's signals, baselines and peers.
    User { name: String },
    /// The users with an alert, and why.
    Alerts,
    /// Run the job once, as the server does every `risk.interval_secs`: update the rollup,
    /// assess yesterday and today, queue new alerts and deliver them (exit 1 if a delivery
    /// failed; it is retried on the next run).
    Run,
    /// Measure the alerts on a generated usage log with planted insiders: precision, recall
    /// and false alerts per 1,000 users per day.
    Eval {
        #[arg(long, default_value_t = 7)]
        seed: u64,
        #[arg(long, default_value_t = 400)]
        users: usize,
        /// Days assessed (after 35 days of history).
        #[arg(long, default_value_t = 14)]
        days: i64,
    },
}

#[derive(Subcommand)]
enum AuthCommand {
    /// Hash a password or token for `secret_hash` fields (reads it from stdin).
    Hash,
}

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
