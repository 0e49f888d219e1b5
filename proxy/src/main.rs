//! `promptwall`: a thin binary over the PromptWall library crates.

use anyhow::Context;
use clap::{Parser, Subcommand};
use promptwall::config::Config;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Inspect text from a file or stdin (JSONL `{"id":..,"text":..}` or plain text) and print decisions.
    Scan {
        /// Tenant whose policy decides.
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Input file, or `-` for stdin.
        #[arg(default_value = "-")]
        input: String,
    },
    /// Rule packs.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
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
    /// List the built-in rules.
    List,
    /// Run every rule's positive and negative examples.
    Test,
}

#[derive(Subcommand)]
enum AuthCommand {
    /// Hash a password or token for `auth.credentials[].secret_hash` (reads it from stdin).
    Hash,
}

fn load_config(path: Option<&PathBuf>) -> anyhow::Result<Config> {
    match path {
        Some(p) => Ok(Config::load(p)?),
        None => Ok(Config::default()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    promptwall::telemetry::init_logging();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("promptwall: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { config } => {
            let config = load_config(config.as_ref())?;
            promptwall::serve::run(config)?;
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
        Command::Scan { tenant, input } => scan(&tenant, &input),
        Command::Rules { command } => {
            let engine = classifiers::builtin_engine()?;
            match command {
                RulesCommand::List => {
                    for r in engine.rules() {
                        println!(
                            "{}\t{}\t{}\t{:?}\t{}",
                            r.id, r.category, r.entity, r.severity, r.source
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                RulesCommand::Test => {
                    let failures = engine.test_examples();
                    for f in &failures {
                        println!("FAIL {} ({}): {}", f.rule, f.source, f.message);
                    }
                    println!("{} rules, {} failures", engine.rule_count(), failures.len());
                    Ok(if failures.is_empty() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    })
                }
            }
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
            println!("{}", promptwall::identity::SecretHash::create(secret));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn scan(tenant: &str, input: &str) -> anyhow::Result<ExitCode> {
    let engine = classifiers::builtin_engine()?;
    let policy = policy::Policy::default_for(tenant);
    let reader: Box<dyn BufRead> = if input == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(input).with_context(|| format!("opening {input}"))?,
        ))
    };
    let mut out = std::io::stdout().lock();
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("{input}: line {}", n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let (id, text) = match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(v) if v.get("text").is_some_and(|t| t.is_string()) => (
                v.get("id").cloned().unwrap_or(serde_json::json!(n + 1)),
                v["text"].as_str().unwrap_or_default().to_string(),
            ),
            _ => (serde_json::json!(n + 1), line),
        };
        let findings = engine.scan(&text);
        let decision = policy.evaluate(&findings);
        let record = serde_json::json!({
            "id": id,
            "decision": decision.action.as_str(),
            "findings": findings,
            "reasons": decision.reasons,
        });
        writeln!(out, "{record}")?;
    }
    Ok(ExitCode::SUCCESS)
}
