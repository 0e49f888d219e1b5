//! Parsing, validation and compilation of a policy document into its immutable, ready-to-run form.

use crate::document::*;
use crate::identity::{Cidr, SecretHash};
use classifiers::rules::{Examples, Rule, RulePack};
use classifiers::{Category, PatternEngine};
use regex_automata::meta::Regex;
use std::fmt;
use thiserror::Error;

/// Why a policy document was rejected; always names the place to fix.
#[derive(Debug, Clone, Error, PartialEq)]
pub struct PolicyError {
    pub origin: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub field: String,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": field `{}`: {}", self.field, self.message)
    }
}

/// A validated, compiled policy: what the request path evaluates.
#[derive(Debug)]
pub struct CompiledPolicy {
    /// Read through [`CompiledPolicy::doc`]: what was compiled from it must not go stale.
    pub(crate) doc: PolicyDoc,
    /// The YAML it was compiled from, kept for history and diffs.
    pub source: String,
    /// Set by the store; 0 for the embedded default.
    pub version: u64,
    pub(crate) custom: Option<PatternEngine>,
    pub(crate) allow: Vec<(String, Option<String>, Option<Regex>)>,
    pub(crate) tokens: Vec<(TokenDoc, SecretHash)>,
    pub(crate) cidrs: Vec<(Cidr, CidrDoc)>,
    pub(crate) trusted_from: Vec<Cidr>,
    /// Whether any rule reads classifier labels (the proxy only classifies when one does).
    pub uses_labels: bool,
    /// Per rule (in document order), the categories it matches as a bit set: one test per
    /// finding instead of a walk of the rule's list.
    pub(crate) categories: Vec<CategorySet>,
}

/// A set of [`Category`] values, one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CategorySet(u32);

impl CategorySet {
    /// What a rule with no `category` condition matches.
    pub(crate) const ALL: CategorySet = CategorySet(u32::MAX);

    /// Each category's bit, spelled out so a new category must be given one (a shift past 31
    /// does not compile).
    fn bit(c: Category) -> u32 {
        match c {
            Category::Secret => 1 << 0,
            Category::Pii => 1 << 1,
            Category::Pci => 1 << 2,
            Category::Phi => 1 << 3,
            Category::Financial => 1 << 4,
            Category::SourceCode => 1 << 5,
            Category::Confidential => 1 << 6,
            Category::PromptInjection => 1 << 7,
            Category::Jailbreak => 1 << 8,
            Category::Harmful => 1 << 9,
        }
    }

    pub(crate) fn of(list: Option<&OneOrMany<Category>>) -> Self {
        let bit = |c: &Category| Self::bit(*c);
        match list {
            None => Self::ALL,
            Some(OneOrMany::One(c)) => CategorySet(bit(c)),
            Some(OneOrMany::Many(cs)) => CategorySet(cs.iter().map(bit).fold(0, |a, b| a | b)),
        }
    }

    pub(crate) fn contains(self, c: Category) -> bool {
        self.0 & Self::bit(c) != 0
    }
}

/// The line and column (1-based) of the first occurrence of `needle` in `text`.
fn locate(text: &str, needle: &str) -> (Option<usize>, Option<usize>) {
    if needle.is_empty() {
        return (None, None);
    }
    // A rule or detector is best found by its `id: x` line; plain values by themselves.
    let keyed = [
        format!("id: {needle}"),
        format!("id: \"{needle}\""),
        format!("id: '{needle}'"),
    ];
    let found = keyed
        .iter()
        .filter_map(|k| text.find(k.as_str()).map(|i| i + 4))
        .min()
        .or_else(|| text.find(needle));
    match found {
        Some(i) => {
            let line = text[..i].matches('\n').count() + 1;
            let col = i - text[..i].rfind('\n').map_or(0, |p| p + 1) + 1;
            (Some(line), Some(col))
        }
        None => (None, None),
    }
}

fn escape_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == ' ' || c == '_' {
            out.push(c);
        } else if c.is_ascii() {
            out.push('\\');
            out.push(c);
        } else {
            out.push(c);
        }
    }
    out
}

impl CompiledPolicy {
    /// Parses, validates and compiles; nothing about a bad document reaches the request path.
    pub fn from_yaml(origin: &str, text: &str) -> Result<Self, PolicyError> {
        let doc: PolicyDoc = crate::yaml::from_str(origin, text)?;
        Self::compile(origin, text, doc)
    }

    fn compile(origin: &str, text: &str, doc: PolicyDoc) -> Result<Self, PolicyError> {
        let err = |field: String, needle: &str, message: String| {
            let (line, column) = locate(text, needle);
            PolicyError {
                origin: origin.to_string(),
                line,
                column,
                field,
                message,
            }
        };
        if doc.tenant.is_empty()
            || !doc
                .tenant
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(err(
                "tenant".into(),
                "tenant",
                "must be lower-case letters, digits, '-' or '_'".into(),
            ));
        }
        let mut ids = std::collections::HashSet::new();
        let mut uses_labels = false;
        for (i, r) in doc.rules.iter().enumerate() {
            let f = |name: &str| format!("rules[{i}].{name}");
            if r.id.is_empty() || !ids.insert(&*r.id) {
                return Err(err(
                    f("id"),
                    &r.id,
                    format!("rule id `{}` is empty or duplicated", r.id),
                ));
            }
            if let Some(s) = r.when.min_score {
                if !(0.0..=1.0).contains(&s) {
                    return Err(err(
                        f("when.min_score"),
                        &r.id,
                        format!("{s} is outside [0, 1]"),
                    ));
                }
            }
            if r.when.label.is_some() {
                uses_labels = true;
                if r.when.category.is_some()
                    || r.when.entity.is_some()
                    || r.when.min_count.is_some()
                {
                    return Err(err(
                        f("when.label"),
                        &r.id,
                        "a label rule cannot also name category, entity or min_count".into(),
                    ));
                }
            }
            if r.redact.is_some() && r.action != Action::Redact {
                return Err(err(
                    f("redact"),
                    &r.id,
                    "`redact` is only meaningful with `action: redact`".into(),
                ));
            }
            if r.keep_last.is_some() && r.redact != Some(Operator::Partial) {
                return Err(err(
                    f("keep_last"),
                    &r.id,
                    "`keep_last` needs `redact: partial`".into(),
                ));
            }
            if r.action == Action::Coach && r.message.is_none() {
                return Err(err(
                    f("message"),
                    &r.id,
                    "`coach` needs a message telling the user how to proceed".into(),
                ));
            }
        }
        let mut rules = Vec::new();
        for (i, d) in doc.custom_detectors.iter().enumerate() {
            if d.keywords.is_empty() && d.regexes.is_empty() {
                return Err(err(
                    format!("custom_detectors[{i}]"),
                    &d.id,
                    "needs `keywords` or `regexes`".into(),
                ));
            }
            let mut patterns = d.regexes.clone();
            if !d.keywords.is_empty() {
                let alts: Vec<String> = d.keywords.iter().map(|k| escape_literal(k)).collect();
                patterns.push(format!(r"(?i)\b(?:{})\b", alts.join("|")));
            }
            for (j, re) in d.regexes.iter().enumerate() {
                if let Err(e) = Regex::new(re) {
                    return Err(err(
                        format!("custom_detectors[{i}].regexes[{j}]"),
                        re,
                        format!("does not compile: {e}"),
                    ));
                }
            }
            rules.push(Rule {
                id: format!("custom:{}", d.id),
                category: d.category,
                entity: d.entity.clone().unwrap_or_else(|| d.id.replace('-', "_")),
                severity: classifiers::Severity::High,
                description: format!("custom detector {}", d.id),
                patterns,
                keywords: Vec::new(),
                validator: None,
                min_entropy: None,
                context: None,
                tier: Default::default(),
                stopwords: Vec::new(),
                confidence: d.confidence.unwrap_or(0.9),
                examples: Examples {
                    positive: Vec::new(),
                    negative: Vec::new(),
                },
            });
        }
        let custom =
            if rules.is_empty() {
                None
            } else {
                let pack = RulePack {
                    pack: format!("custom:{}", doc.tenant),
                    description: String::new(),
                    rules,
                    source: origin.to_string(),
                };
                Some(PatternEngine::new(&[pack]).map_err(|e| {
                    err("custom_detectors".into(), "custom_detectors", e.to_string())
                })?)
            };
        let mut allow = Vec::new();
        for (i, a) in doc.allowlist.iter().enumerate() {
            let regex = match (&a.value, &a.regex) {
                (Some(_), None) => None,
                (None, Some(re)) => Some(Regex::new(re).map_err(|e| {
                    err(
                        format!("allowlist[{i}].regex"),
                        re,
                        format!("does not compile: {e}"),
                    )
                })?),
                _ => {
                    return Err(err(
                        format!("allowlist[{i}]"),
                        &a.entity,
                        "give exactly one of `value` or `regex`".into(),
                    ))
                }
            };
            allow.push((a.entity.clone(), a.value.clone(), regex));
        }
        let mut tokens = Vec::new();
        for (i, t) in doc.identity.tokens.iter().enumerate() {
            let h = SecretHash::parse(&t.secret_hash).map_err(|e| {
                err(
                    format!("identity.tokens[{i}].secret_hash"),
                    &t.secret_hash,
                    e,
                )
            })?;
            tokens.push((t.clone(), h));
        }
        let mut cidrs = Vec::new();
        for (i, c) in doc.identity.cidrs.iter().enumerate() {
            let net = Cidr::parse(&c.cidr)
                .map_err(|e| err(format!("identity.cidrs[{i}].cidr"), &c.cidr, e))?;
            cidrs.push((net, c.clone()));
        }
        let mut trusted_from = Vec::new();
        if let Some(th) = &doc.identity.trusted_header {
            for (i, c) in th.from_cidrs.iter().enumerate() {
                trusted_from.push(
                    Cidr::parse(c).map_err(|e| {
                        err(format!("identity.trusted_header.from_cidrs[{i}]"), c, e)
                    })?,
                );
            }
            if th.from_cidrs.is_empty() {
                return Err(err(
                    "identity.trusted_header.from_cidrs".into(),
                    "trusted_header",
                    "a trusted header must be limited to the proxies that set it".into(),
                ));
            }
        }
        if doc.redaction_fallback == Action::Redact {
            return Err(err(
                "redaction_fallback".into(),
                "redaction_fallback",
                "the fallback for redaction cannot be redact".into(),
            ));
        }
        Ok(CompiledPolicy {
            categories: doc
                .rules
                .iter()
                .map(|r| CategorySet::of(r.when.category.as_ref()))
                .collect(),
            source: text.to_string(),
            version: 0,
            custom,
            allow,
            tokens,
            cidrs,
            trusted_from,
            uses_labels,
            doc,
        })
    }

    /// Whether any rule can act on responses (no `direction`, or `direction: response`).
    pub fn inspects_responses(&self) -> bool {
        self.doc.rules.iter().any(|r| {
            r.action != Action::Allow
                && r.when.label.is_none()
                && r.when.direction != Some(Direction::Request)
        })
    }

    /// The document this policy was compiled from.
    pub fn doc(&self) -> &PolicyDoc {
        &self.doc
    }

    /// The tenant this policy governs.
    pub fn tenant(&self) -> &str {
        &self.doc.tenant
    }

    /// What a tunnel whose TLS name and `CONNECT` target disagree gets.
    pub fn mismatch(&self) -> crate::Mismatch {
        self.doc.destinations.mismatch
    }

    /// `None` when `provider` is sanctioned (or the policy sanctions every provider); otherwise
    /// what to do with it.
    pub fn destination_verdict(&self, provider: &str) -> Option<Unsanctioned> {
        let sanctioned = &self.doc.destinations.sanctioned;
        (!sanctioned.is_empty() && !sanctioned.iter().any(|p| p == provider))
            .then_some(self.doc.destinations.unsanctioned_ai)
    }
}

/// The embedded default policy (DESIGN.md §3, issue 4): block secrets, pseudonymize personal
/// and card data, log the rest, block high-confidence prompt injection.
pub const DEFAULT_POLICY_YAML: &str = include_str!("default_policy.yaml");

impl CompiledPolicy {
    /// The built-in policy for a tenant that has none of its own.
    pub fn default_for(tenant: &str) -> Self {
        let text = DEFAULT_POLICY_YAML.replace("tenant: default", &format!("tenant: {tenant}"));
        CompiledPolicy::from_yaml("<embedded default policy>", &text)
            .or_else(|_| {
                CompiledPolicy::from_yaml("<embedded default policy>", DEFAULT_POLICY_YAML)
            })
            .expect("the embedded policy is valid")
    }
}
