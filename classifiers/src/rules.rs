//! Rule packs: detectors kept as data that security admins can read, review and extend.
//!
//! A pack is one YAML file. Parsing checks the shape (unknown fields are errors); compiling in
//! [`crate::PatternEngine`] checks the regexes. Every error names the file, the rule and the reason.

use crate::validators::Validator;
use crate::{Category, Severity};
use serde::Deserialize;
use std::collections::HashSet;
use thiserror::Error;

/// Why a rule pack was rejected, with enough context to fix it.
#[derive(Debug, Error)]
pub enum RuleError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: rule `{rule}`: {reason}")]
    Invalid {
        file: String,
        rule: String,
        reason: String,
    },
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
}

/// One YAML file of rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulePack {
    /// The pack name, e.g. `secrets`.
    pub pack: String,
    #[serde(default)]
    pub description: String,
    pub rules: Vec<Rule>,
    /// The file this pack came from, for error messages.
    #[serde(skip)]
    pub source: String,
}

/// One detector and the examples that prove it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub category: Category,
    pub entity: String,
    pub severity: Severity,
    pub description: String,
    /// Regexes; the value is capture group 1 when the regex has one, else the whole match.
    pub patterns: Vec<String>,
    /// Literal words (ASCII case-insensitive) that must appear in or near a match.
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub validator: Option<Validator>,
    /// Minimum Shannon entropy (bits per byte) of the value.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    /// Words near the match that make it more likely (or, if `required`, are needed at all).
    #[serde(default)]
    pub context: Option<Context>,
    /// `generic` rules (password assignments, credential URLs) yield to `specific` ones of the
    /// same severity where their matches overlap.
    #[serde(default)]
    pub tier: Tier,
    /// Values containing any of these (ASCII case-insensitive) are placeholders, not secrets.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// The score of a confirmed match, in [0, 1].
    pub confidence: f64,
    pub examples: Examples,
}

/// Whether a rule describes a specific format or a generic shape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    #[default]
    Specific,
    Generic,
}

/// Context words for a rule: looked for within `window` bytes before or after the match, at the
/// start of a word (`sin` counts in `SIN:` and `sins`, not in `using`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    pub words: Vec<String>,
    #[serde(default = "default_window")]
    pub window: usize,
    /// Drop the match when no context word is near.
    #[serde(default)]
    pub required: bool,
    /// Added to the score when a context word is near.
    #[serde(default = "default_boost")]
    pub boost: f64,
}

fn default_window() -> usize {
    48
}

fn default_boost() -> f64 {
    0.1
}

/// Test cases that ship with a rule; `promptwall rules test` and CI run every one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    pub positive: Vec<PositiveExample>,
    pub negative: Vec<String>,
}

/// A text the rule must flag, and the exact value it must report.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositiveExample {
    pub text: String,
    #[serde(rename = "match")]
    pub value: String,
}

impl RulePack {
    /// Parses one pack and checks everything that does not need compiling.
    pub fn from_yaml(file: &str, text: &str) -> Result<Self, RuleError> {
        let mut pack: RulePack = serde_yaml::from_str(text).map_err(|e| RuleError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        pack.source = file.to_string();
        pack.check()?;
        Ok(pack)
    }

    /// Reads and parses a pack file from disk.
    pub fn from_file(path: &std::path::Path) -> Result<Self, RuleError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| RuleError::Io {
            file: file.clone(),
            source,
        })?;
        Self::from_yaml(&file, &text)
    }

    fn check(&self) -> Result<(), RuleError> {
        let mut seen = HashSet::new();
        for rule in &self.rules {
            let invalid = |reason: String| RuleError::Invalid {
                file: self.source.clone(),
                rule: rule.id.clone(),
                reason,
            };
            if rule.id.is_empty()
                || !rule
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(invalid(
                    "id must be non-empty ASCII letters, digits, '-' or '_'".into(),
                ));
            }
            if !seen.insert(rule.id.as_str()) {
                return Err(invalid("duplicate rule id".into()));
            }
            if rule.entity.is_empty()
                || !rule
                    .entity
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(invalid(format!(
                    "entity `{}` must be snake_case",
                    rule.entity
                )));
            }
            if rule.patterns.is_empty() {
                return Err(invalid("at least one pattern is required".into()));
            }
            if !(0.0..=1.0).contains(&rule.confidence) {
                return Err(invalid(format!(
                    "confidence {} is outside [0, 1]",
                    rule.confidence
                )));
            }
            if let Some(c) = &rule.context {
                if c.words.is_empty() || c.words.iter().any(|w| w.trim().is_empty()) {
                    return Err(invalid("context.words must be non-empty words".into()));
                }
                if c.window == 0 || c.window > 512 {
                    return Err(invalid(format!(
                        "context.window {} must be in 1..=512",
                        c.window
                    )));
                }
            }
            if rule.keywords.iter().any(|k| k.trim().is_empty()) {
                return Err(invalid("keywords must not be empty strings".into()));
            }
            if rule.examples.positive.is_empty() || rule.examples.negative.is_empty() {
                return Err(invalid(
                    "at least one positive and one negative example are required".into(),
                ));
            }
            for ex in &rule.examples.positive {
                if !ex.text.contains(&ex.value) {
                    return Err(invalid(format!(
                        "positive example's match `{}` does not occur in its text",
                        ex.value
                    )));
                }
            }
        }
        Ok(())
    }
}
