//! The command line: every subcommand and flag (clap), parsed by the `promptwall` binary and
//! carried out by the rest of this module.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// The whole command line.
#[derive(Parser)]
#[command(name = "promptwall", version, about = "The GenAI-usage security proxy")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What `promptwall` is asked to do.
#[derive(Subcommand)]
pub enum Command {
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

/// `promptwall ca ...`: the interception CA.
#[derive(Subcommand)]
pub enum CaCommand {
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

/// `promptwall rules ...`: rule packs.
#[derive(Subcommand)]
pub enum RulesCommand {
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

/// `promptwall policy ...`: tenant policies and their versions.
#[derive(Subcommand)]
pub enum PolicyCommand {
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
pub struct Remote {
    /// Act through this server's admin API (token in `PROMPTWALL_ADMIN_TOKEN`) instead of the
    /// local state directory; changes are authored by the token's name.
    #[arg(long)]
    pub admin: Option<String>,
}

/// Filters shared by the audit commands.
#[derive(clap::Args, Debug, Default)]
pub struct AuditFilter {
    #[arg(long)]
    pub tenant: Option<String>,
    #[arg(long)]
    pub user: Option<String>,
    #[arg(long)]
    pub group: Option<String>,
    #[arg(long)]
    pub provider: Option<String>,
    #[arg(long)]
    pub model: Option<String>,
    /// The decision: allow, log, redact, coach, block, would_block, ...
    #[arg(long)]
    pub action: Option<String>,
    #[arg(long)]
    pub category: Option<String>,
    #[arg(long)]
    pub entity: Option<String>,
    #[arg(long)]
    pub rule: Option<String>,
    /// ai_request, ai_response, tunnel, blocked_destination, refused, passthrough
    #[arg(long)]
    pub kind: Option<String>,
    /// RFC 3339 (or a date): from this time on.
    #[arg(long, value_parser = crate::audit::log_time)]
    pub since: Option<String>,
    /// RFC 3339 (or a date): before this time.
    #[arg(long, value_parser = crate::audit::log_time)]
    pub until: Option<String>,
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Page: events after this sequence number.
    #[arg(long)]
    pub after: Option<i64>,
}

impl AuditFilter {
    pub fn filter(self) -> crate::audit::Filter {
        crate::audit::Filter {
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

/// `promptwall audit ...`: the usage log.
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Events matching the filters.
    Query {
        #[command(flatten)]
        filter: AuditFilter,
        #[arg(long, value_enum, default_value = "table")]
        format: crate::cli::audit::Format,
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
        format: crate::cli::audit::ExportFormat,
    },
}

/// `promptwall risk ...`: insider-risk analytics.
#[derive(Subcommand)]
pub enum RiskCommand {
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

/// `promptwall auth ...`: credentials.
#[derive(Subcommand)]
pub enum AuthCommand {
    /// Hash a password or token for `secret_hash` fields (reads it from stdin).
    Hash,
}
