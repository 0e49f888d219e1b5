//! Tenant policies: what happens to a request, given what the classifiers found in it.
//!
//! A [`Policy`] is parsed and validated up front (unknown fields are errors, with line and field),
//! then evaluated purely: `findings → Decision`. No I/O, no HTTP, so `promptwall scan` and the
//! proxy share exactly the same logic.

use classifiers::{Category, Finding};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The embedded default policy: block credentials, record everything else.
pub const DEFAULT_POLICY_YAML: &str = include_str!("default_policy.yaml");

/// Why a policy document was rejected.
#[derive(Debug, Error)]
pub enum PolicyError {
    #[error("{origin}: field `{field}`: {message}")]
    Invalid {
        origin: String,
        field: String,
        message: String,
    },
}

/// What to do with a request. Ordered by severity: when several rules match, the most severe wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Allow,
    Log,
    Block,
}

impl Action {
    /// The snake_case name used in JSON and audit rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Log => "log",
            Action::Block => "block",
        }
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

/// A value or a list of values, so YAML can say `category: secret` or `category: [pii, pci]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: PartialEq> OneOrMany<T> {
    fn contains(&self, v: &T) -> bool {
        match self {
            OneOrMany::One(x) => x == v,
            OneOrMany::Many(xs) => xs.contains(v),
        }
    }
}

/// The conditions of a rule; all given conditions must hold for a finding to match.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    pub category: Option<OneOrMany<Category>>,
    pub entity: Option<OneOrMany<String>>,
    pub min_score: Option<f64>,
}

/// One policy rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRule {
    pub id: String,
    pub when: When,
    pub action: Action,
    /// Shown to the user when this rule blocks.
    pub message: Option<String>,
}

/// One tenant's policy document.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub tenant: String,
    #[serde(default)]
    pub mode: Mode,
    pub rules: Vec<PolicyRule>,
    /// Incremented by the store on every applied change.
    #[serde(skip)]
    pub version: u64,
}

/// Why a rule fired: safe to log and audit (no values, only ids, counts and scores).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    pub rule: String,
    pub action: Action,
    pub category: Category,
    pub entity: String,
    pub count: usize,
    pub max_score: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The outcome of evaluating a policy, with every reason behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The action the policy chose.
    pub action: Action,
    pub mode: Mode,
    pub tenant: String,
    pub policy_version: u64,
    pub reasons: Vec<Reason>,
}

impl Decision {
    /// The action to carry out: in monitor mode nothing is ever blocked.
    pub fn effective_action(&self) -> Action {
        match self.mode {
            Mode::Enforce => self.action,
            Mode::Monitor => self.action.min(Action::Log),
        }
    }

    /// The message for the user: the first blocking rule's message, else a generic one.
    pub fn user_message(&self) -> String {
        let blocking = self.reasons.iter().filter(|r| r.action == self.action);
        let entities: Vec<&str> = {
            let mut v: Vec<&str> = blocking.clone().map(|r| r.entity.as_str()).collect();
            v.dedup();
            v
        };
        match self
            .reasons
            .iter()
            .find(|r| r.action == self.action && r.message.is_some())
        {
            Some(r) => format!(
                "{} (detected: {})",
                r.message.as_deref().unwrap_or_default(),
                entities.join(", ")
            ),
            None => format!(
                "Request blocked by PromptWall policy (detected: {}).",
                entities.join(", ")
            ),
        }
    }
}

impl Policy {
    /// Parses and validates a policy; errors name the origin, the field path and the line.
    pub fn from_yaml(origin: &str, text: &str) -> Result<Self, PolicyError> {
        let de = serde_yaml::Deserializer::from_str(text);
        let policy: Policy =
            serde_path_to_error::deserialize(de).map_err(|e| PolicyError::Invalid {
                origin: origin.to_string(),
                field: e.path().to_string(),
                message: e.into_inner().to_string(),
            })?;
        policy.validate(origin)?;
        Ok(policy)
    }

    /// The built-in policy for `tenant`.
    pub fn default_for(tenant: &str) -> Self {
        let mut p = Self::from_yaml("<embedded default policy>", DEFAULT_POLICY_YAML)
            .expect("embedded policy is valid");
        p.tenant = tenant.to_string();
        p
    }

    fn validate(&self, origin: &str) -> Result<(), PolicyError> {
        let invalid = |field: String, message: String| PolicyError::Invalid {
            origin: origin.to_string(),
            field,
            message,
        };
        let mut ids = std::collections::HashSet::new();
        for (i, r) in self.rules.iter().enumerate() {
            if !ids.insert(r.id.as_str()) {
                return Err(invalid(
                    format!("rules[{i}].id"),
                    format!("duplicate rule id `{}`", r.id),
                ));
            }
            if let Some(s) = r.when.min_score {
                if !(0.0..=1.0).contains(&s) {
                    return Err(invalid(
                        format!("rules[{i}].when.min_score"),
                        format!("{s} is outside [0, 1]"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Decides on a request. Every matching rule becomes a reason (one per rule and entity);
    /// the most severe action wins; with no match the request is allowed.
    pub fn evaluate(&self, findings: &[Finding]) -> Decision {
        let mut reasons: Vec<Reason> = Vec::new();
        for rule in &self.rules {
            for f in findings.iter().filter(|f| rule.matches(f)) {
                match reasons
                    .iter_mut()
                    .find(|r| r.rule == rule.id && r.entity == f.entity)
                {
                    Some(r) => {
                        r.count += 1;
                        r.max_score = r.max_score.max(f.score);
                    }
                    None => reasons.push(Reason {
                        rule: rule.id.clone(),
                        action: rule.action,
                        category: f.category,
                        entity: f.entity.clone(),
                        count: 1,
                        max_score: f.score,
                        message: rule.message.clone(),
                    }),
                }
            }
        }
        Decision {
            action: reasons
                .iter()
                .map(|r| r.action)
                .max()
                .unwrap_or(Action::Allow),
            mode: self.mode,
            tenant: self.tenant.clone(),
            policy_version: self.version,
            reasons,
        }
    }
}

impl PolicyRule {
    fn matches(&self, f: &Finding) -> bool {
        self.when
            .category
            .as_ref()
            .is_none_or(|c| c.contains(&f.category))
            && self
                .when
                .entity
                .as_ref()
                .is_none_or(|e| e.contains(&f.entity))
            && self.when.min_score.is_none_or(|s| f.score >= s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use classifiers::Severity;

    fn finding(category: Category, entity: &str, score: f64) -> Finding {
        Finding {
            rule: format!("r-{entity}"),
            category,
            entity: entity.into(),
            severity: Severity::High,
            start: 0,
            end: 1,
            score,
            validator: None,
            decoded_from: None,
        }
    }

    #[test]
    fn default_policy_blocks_secrets_with_a_message() {
        let d = Policy::default_for("acme").evaluate(&[finding(
            Category::Secret,
            "aws_access_key",
            0.95,
        )]);
        assert_eq!(d.action, Action::Block);
        assert_eq!(d.reasons[0].rule, "block-credentials");
        assert!(
            d.user_message().contains("aws_access_key"),
            "{}",
            d.user_message()
        );
    }

    #[test]
    fn no_findings_means_allow_with_no_reasons() {
        let d = Policy::default_for("acme").evaluate(&[]);
        assert_eq!((d.action, d.reasons.len()), (Action::Allow, 0));
    }

    #[test]
    fn most_severe_action_wins_and_every_match_is_a_reason() {
        let p = Policy::from_yaml(
            "t",
            "tenant: t\nrules:\n  - {id: log-pii, when: {category: pii}, action: log}\n  - {id: block-keys, when: {category: [secret], min_score: 0.9}, action: block}\n",
        )
        .unwrap();
        let d = p.evaluate(&[
            finding(Category::Pii, "email", 0.9),
            finding(Category::Pii, "email", 0.8),
            finding(Category::Secret, "github_token", 0.95),
        ]);
        assert_eq!(d.action, Action::Block);
        assert_eq!(d.reasons.len(), 2);
        assert_eq!((d.reasons[0].count, d.reasons[0].max_score), (2, 0.9));
    }

    #[test]
    fn min_score_filters_weak_findings() {
        let p = Policy::from_yaml("t", "tenant: t\nrules:\n  - {id: b, when: {category: secret, min_score: 0.9}, action: block}\n").unwrap();
        assert_eq!(
            p.evaluate(&[finding(Category::Secret, "password", 0.5)])
                .action,
            Action::Allow
        );
    }

    #[test]
    fn monitor_mode_records_but_never_blocks() {
        let mut p = Policy::default_for("t");
        p.mode = Mode::Monitor;
        let d = p.evaluate(&[finding(Category::Secret, "private_key", 0.99)]);
        assert_eq!(
            (d.action, d.effective_action()),
            (Action::Block, Action::Log)
        );
    }

    #[test]
    fn invalid_documents_name_field_and_line() {
        for (yaml, want) in [
            (
                "tenant: t\nrules:\n  - {id: a, when: {categry: secret}, action: block}\n",
                "categry",
            ),
            (
                "tenant: t\nrules:\n  - {id: a, when: {category: secrets}, action: block}\n",
                "rules[0].when.category",
            ),
            (
                "tenant: t\nrules:\n  - {id: a, when: {}, action: explode}\n",
                "rules[0].action",
            ),
            (
                "tenant: t\nrules:\n  - {id: a, when: {min_score: 2}, action: log}\n",
                "min_score",
            ),
        ] {
            let err = Policy::from_yaml("p.yaml", yaml).unwrap_err().to_string();
            assert!(
                err.contains("p.yaml") && err.contains(want),
                "{yaml} -> {err}"
            );
        }
    }
}
