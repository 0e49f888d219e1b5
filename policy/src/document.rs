//! The policy document: one YAML file per tenant (DESIGN.md §3), parsed strictly.
//!
//! Every field is checked up front: unknown fields, wrong types and bad values are errors that
//! name the file, the line and column, and the field path.

use classifiers::Category;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What to do with a request. Ordered by severity: when several rules match, the most severe
/// wins. `coach` blocks, with a message that tells the user how to proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Allow,
    Log,
    Redact,
    Coach,
    Block,
}

impl Action {
    /// The snake_case name used in JSON and audit rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Log => "log",
            Action::Redact => "redact",
            Action::Coach => "coach",
            Action::Block => "block",
        }
    }

    /// Whether the request is refused.
    pub fn blocks(self) -> bool {
        matches!(self, Action::Coach | Action::Block)
    }
}

/// Enforce acts on decisions; monitor records them and lets traffic pass (shadow rollout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Enforce,
    Monitor,
}

/// What a classifier timeout or error means for the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    FailOpen,
    #[default]
    FailClosed,
}

/// What a request whose body cannot be read at all (binary, an unknown encoding) gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Uninspectable {
    /// Forward it, recorded as not inspected.
    Allow,
    /// Forward it, and record the reason as a logged decision.
    Log,
    /// Refuse it: nothing unread reaches the provider.
    #[default]
    Block,
}

/// Which way the text flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Request,
    Response,
}

/// A value or a list of values, so YAML can say `category: secret` or `category: [pii, pci]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: PartialEq> OneOrMany<T> {
    /// Whether `v` is the value or one of the values.
    pub fn contains(&self, v: &T) -> bool {
        match self {
            OneOrMany::One(x) => x == v,
            OneOrMany::Many(xs) => xs.contains(v),
        }
    }
}

impl OneOrMany<String> {
    /// Whether `v` is listed.
    pub fn contains_str(&self, v: &str) -> bool {
        match self {
            OneOrMany::One(x) => x == v,
            OneOrMany::Many(xs) => xs.iter().any(|x| x == v),
        }
    }

    /// Whether any of `vs` is listed.
    pub fn any_of(&self, vs: &[String]) -> bool {
        vs.iter().any(|v| self.contains(v))
    }
}

/// How matched values are rewritten by a `redact` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// `[REDACTED:EMAIL]`
    #[default]
    Mask,
    /// Keep the last `keep_last` characters: `************1111`.
    Partial,
    /// A keyed HMAC, truncated: `[EMAIL:3f9a2c1b]`; the same value gives the same tag.
    Hash,
    /// A reversible token (`<EMAIL_1>`), restored in the response.
    Pseudonym,
}

/// The conditions of a rule; every condition given must hold.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    pub category: Option<OneOrMany<Category>>,
    pub entity: Option<OneOrMany<String>>,
    /// A classifier label (`prompt_injection`, `jailbreak`, ...) instead of pattern findings.
    pub label: Option<OneOrMany<String>>,
    /// Minimum finding score, or label score for `label` rules.
    pub min_score: Option<f64>,
    /// Minimum number of matching findings in the request.
    pub min_count: Option<usize>,
    pub direction: Option<Direction>,
    pub provider: Option<OneOrMany<String>>,
    pub model: Option<OneOrMany<String>>,
    /// Endpoint path suffixes, e.g. `/chat/completions`.
    pub endpoint: Option<OneOrMany<String>>,
    /// MCP tool names (`tools/call` to a server configured under `mcp.servers`).
    pub tool: Option<OneOrMany<String>>,
    pub groups: Option<OneOrMany<String>>,
    pub users: Option<OneOrMany<String>>,
}

/// One policy rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDoc {
    /// Shared with every reason the rule gives (no copy per decision).
    pub id: Arc<str>,
    #[serde(default)]
    pub when: When,
    pub action: Action,
    /// Operator for `redact` (default `mask`).
    pub redact: Option<Operator>,
    /// Characters kept by `partial`.
    pub keep_last: Option<usize>,
    /// Shown to the user when the rule blocks or coaches; `{entities}`, `{categories}`,
    /// `{rule}` and `{user}` are filled in.
    pub message: Option<Arc<str>>,
    /// `monitor` records what this rule would do without doing it.
    pub mode: Option<Mode>,
}

/// A tenant's own detector, compiled with the same engine as the rule packs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomDetector {
    pub id: String,
    pub category: Category,
    #[serde(default)]
    pub entity: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub regexes: Vec<String>,
    #[serde(default)]
    pub confidence: Option<f64>,
}

/// Values that are never findings (the company's own domain, test card numbers, ...).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowEntry {
    pub entity: String,
    /// An exact value.
    pub value: Option<String>,
    /// A regex the value must match (searched, so anchor it with `^`/`$` as needed).
    pub regex: Option<String>,
}

/// What to do with AI destinations outside the sanctioned list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unsanctioned {
    #[default]
    Block,
    /// Pass through without decryption (recorded as shadow AI).
    Tunnel,
    /// Intercept and inspect like a sanctioned one, and record it.
    Intercept,
}

/// Sanctioned providers and models, and what happens to the rest.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destinations {
    /// Provider families allowed (`openai`, `anthropic`, ...); empty means all are sanctioned.
    #[serde(default)]
    pub sanctioned: Vec<String>,
    #[serde(default)]
    pub unsanctioned_ai: Unsanctioned,
    /// Models allowed (exact names or `prefix*`); empty means any model.
    #[serde(default)]
    pub models: Vec<String>,
    /// A tunnel whose TLS ClientHello names an AI host although its `CONNECT` target is not
    /// one (or that sends no name to an address of an AI host).
    #[serde(default)]
    pub mismatch: Mismatch,
}

/// What a CONNECT whose TLS name and target disagree gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mismatch {
    /// Terminate TLS for the name the client gave and inspect, as for that host.
    Intercept,
    /// Close the tunnel.
    #[default]
    Block,
    /// Tunnel it blind anyway (recorded).
    Tunnel,
}

/// One credential of a tenant: a Basic username/password or a Bearer token, stored hashed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenDoc {
    pub user: String,
    /// For Basic auth; absent for Bearer tokens.
    pub username: Option<String>,
    /// `sha256:<salt-hex>:<digest-hex>`
    pub secret_hash: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// A header set by an upstream authenticating proxy, trusted only from listed addresses.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedHeader {
    pub user_header: String,
    pub groups_header: Option<String>,
    pub from_cidrs: Vec<String>,
}

/// Source addresses that identify this tenant (and optionally a user and groups).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CidrDoc {
    pub cidr: String,
    pub user: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// How this tenant's users and groups are recognised.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityDoc {
    #[serde(default)]
    pub tokens: Vec<TokenDoc>,
    pub trusted_header: Option<TrustedHeader>,
    #[serde(default)]
    pub cidrs: Vec<CidrDoc>,
}

/// One tenant's policy document.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDoc {
    pub tenant: Arc<str>,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default)]
    pub on_classifier_error: OnError,
    /// What a body that cannot be read at all gets (default: block).
    #[serde(default)]
    pub on_uninspectable: Uninspectable,
    #[serde(default)]
    pub identity: IdentityDoc,
    #[serde(default)]
    pub destinations: Destinations,
    #[serde(default)]
    pub rules: Vec<RuleDoc>,
    #[serde(default)]
    pub custom_detectors: Vec<CustomDetector>,
    #[serde(default)]
    pub allowlist: Vec<AllowEntry>,
    /// What `redact` becomes where a body cannot be rewritten (signed requests such as Bedrock).
    #[serde(default = "default_fallback")]
    pub redaction_fallback: Action,
    /// How long pseudonym mappings are kept for restoring responses.
    #[serde(default = "default_ttl")]
    pub pseudonym_ttl_secs: u64,
}

fn default_fallback() -> Action {
    Action::Block
}

fn default_ttl() -> u64 {
    3600
}
