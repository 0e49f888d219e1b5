//! Evaluation: `(context, texts, findings, labels) → Decision`. Pure: no I/O, no clock.
//!
//! Semantics, in order:
//! 1. the tenant's custom detectors scan the texts too, and allowlisted values are dropped;
//! 2. `allow` rules exempt the findings they match from every other rule (e.g. engineers may
//!    send source code);
//! 3. every other rule whose context conditions hold and whose findings (or label scores)
//!    match becomes a reason; the most severe action among enforced reasons wins;
//! 4. a classifier failure, when the policy reads labels, follows `on_classifier_error`;
//! 5. in `monitor` mode (tenant or rule) the decision is recorded as what it *would* do, and
//!    the traffic passes.

use crate::compile::{CategorySet, CompiledPolicy};
use crate::document::*;
use crate::plan::RedactionPlan;
use classifiers::{Category, Finding};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Who is sending what where, as far as rule conditions care.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    pub user: Option<&'a str>,
    pub groups: &'a [String],
    pub provider: Option<&'a str>,
    pub model: Option<&'a str>,
    /// The request path (rules match it by suffix).
    pub endpoint: Option<&'a str>,
    pub direction: Direction,
    /// The model's per-label thresholds, used by label rules that set no `min_score`.
    pub label_thresholds: Option<&'a BTreeMap<String, f64>>,
    /// Set when part of what the model would read could not be inspected at all (why); the
    /// policy's `on_uninspectable` decides.
    pub uninspectable: Option<&'a str>,
    /// Set when a scan limit left part of the text unread (why); the tenant's fail mode
    /// (`on_classifier_error`) decides, as for any failure of inspection.
    pub scan_limit: Option<&'a str>,
    /// The MCP tools the `tools/call`s of a message or batch name (a rule's `tool` matches
    /// when any of them is listed; exactly).
    pub tools: &'a [String],
}

/// A finding and the text (by index) it was found in.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub segment: usize,
    pub finding: Finding,
}

/// What the classifier said, if it ran.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum LabelsOutcome {
    #[default]
    NotRun,
    Scored(BTreeMap<String, f64>),
    /// Timed out or failed; the text says why.
    Failed(String),
}

/// Why a rule fired: safe to log and audit (ids, counts and scores; never values).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// Shared with the compiled rule.
    pub rule: Arc<str>,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// The entity, or the label for a label rule (shared with the finding it came from).
    pub entity: Arc<str>,
    pub count: usize,
    pub max_score: f64,
    /// Recorded only: the rule (or tenant) is in monitor mode.
    pub monitor: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Arc<str>>,
}

/// The outcome of evaluating a policy, with every reason behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// What happens to the traffic.
    pub action: Action,
    /// What enforcement would have done, when monitor mode held it back (`would_block`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would: Option<Action>,
    pub mode: Mode,
    pub tenant: Arc<str>,
    pub policy_version: u64,
    pub reasons: Vec<Reason>,
    /// The rewrites, when `action` is `redact`.
    #[serde(skip_serializing_if = "RedactionPlan::is_empty")]
    pub redactions: RedactionPlan,
    /// The message for the user when the request is blocked or coached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Set when the classifier failed; the reasons say what `on_classifier_error` did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classifier_error: Option<String>,
    /// Findings after custom detectors and the allowlist, when those changed the input's
    /// (read them through [`Decision::findings`]); `None` saves a copy per request.
    #[serde(skip)]
    pub adjusted_findings: Option<Vec<Located>>,
}

impl Decision {
    /// The findings the decision was made on: `input` (what was passed to `evaluate`), unless
    /// custom detectors or the allowlist changed it.
    pub fn findings<'a>(&'a self, input: &'a [Located]) -> &'a [Located] {
        self.adjusted_findings.as_deref().unwrap_or(input)
    }

    /// `allow`, `block`, ... or `would_block` in monitor mode, as audit rows show it.
    pub fn label(&self) -> String {
        match self.would {
            Some(w) => format!("would_{}", w.as_str()),
            None => self.action.as_str().to_string(),
        }
    }
}

impl When {
    fn context_holds(&self, ctx: &Context<'_>) -> bool {
        let opt_in = |list: &Option<OneOrMany<String>>, v: Option<&str>| match list {
            None => true,
            Some(l) => v.is_some_and(|v| l.contains(&v.to_string())),
        };
        self.direction.is_none_or(|d| d == ctx.direction)
            && opt_in(&self.provider, ctx.provider)
            && self
                .tool
                .as_ref()
                .is_none_or(|l| ctx.tools.iter().any(|t| l.contains(t)))
            && opt_in(&self.users, ctx.user)
            && self.groups.as_ref().is_none_or(|g| g.any_of(ctx.groups))
            && self.model.as_ref().is_none_or(|m| {
                ctx.model.is_some_and(|model| match m {
                    OneOrMany::One(p) => model_matches(p, model),
                    OneOrMany::Many(ps) => ps.iter().any(|p| model_matches(p, model)),
                })
            })
            && self.endpoint.as_ref().is_none_or(|e| {
                ctx.endpoint.is_some_and(|path| {
                    let path = path.split('?').next().unwrap_or(path);
                    match e {
                        OneOrMany::One(s) => path.ends_with(s.as_str()),
                        OneOrMany::Many(ss) => ss.iter().any(|s| path.ends_with(s.as_str())),
                    }
                })
            })
    }

    fn reads_findings(&self) -> bool {
        self.category.is_some()
            || self.entity.is_some()
            || self.min_score.is_some()
            || self.min_count.is_some()
    }

    /// `categories` is the compiled form of `self.category`.
    fn finding_matches(&self, categories: CategorySet, f: &Finding) -> bool {
        categories.contains(f.category)
            && self
                .entity
                .as_ref()
                .is_none_or(|e| e.contains_str(&f.entity))
            && self.min_score.is_none_or(|s| f.score >= s)
    }
}

/// `gpt-4o*` matches by prefix; anything else must be equal.
pub fn model_matches(pattern: &str, model: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => model.starts_with(prefix),
        None => pattern == model,
    }
}

fn fill(
    template: &str,
    rule: &str,
    entities: &[&str],
    categories: &[&str],
    user: Option<&str>,
) -> String {
    template
        .replace("{rule}", rule)
        .replace("{entities}", &entities.join(", "))
        .replace("{categories}", &categories.join(", "))
        .replace("{user}", user.unwrap_or("you"))
}

impl CompiledPolicy {
    /// Decides on one request (or response). `texts` are every text the model sees (or sent),
    /// and `findings` index into them.
    pub fn evaluate(
        &self,
        ctx: &Context<'_>,
        texts: &[&str],
        findings: &[Located],
        labels: &LabelsOutcome,
    ) -> Decision {
        // Copied only when custom detectors add findings or the allowlist removes some.
        let findings: std::borrow::Cow<'_, [Located]> =
            if self.custom.is_none() && self.allow.is_empty() {
                std::borrow::Cow::Borrowed(findings)
            } else {
                let mut own: Vec<Located> = findings.to_vec();
                if let Some(engine) = &self.custom {
                    for (i, t) in texts.iter().enumerate() {
                        own.extend(engine.scan(t).into_iter().map(|finding| Located {
                            segment: i,
                            finding,
                        }));
                    }
                }
                own.retain(|l| !self.allowlisted(l, texts));
                std::borrow::Cow::Owned(own)
            };

        let tenant_monitor = self.doc.mode == Mode::Monitor;
        // Sized up front: growing these one push at a time cost several allocations a request.
        let mut reasons: Vec<Reason> = Vec::with_capacity(4);
        let mut redactions = RedactionPlan::with_capacity(findings.len());
        // Findings an `allow` rule exempted; allocated only when one does.
        let mut exempt: Vec<bool> = Vec::new();
        // One reason per (rule, entity). A rule's reasons share its id `Arc` and its findings
        // share one entity `Arc`, so most lookups compare addresses, not text.
        let add = |reasons: &mut Vec<Reason>,
                   rule: &RuleDoc,
                   category: Option<Category>,
                   entity: &Arc<str>,
                   score: f64| {
            let of_rule = |r: &Reason| Arc::ptr_eq(&r.rule, &rule.id);
            let at = match reasons
                .iter()
                .position(|r| of_rule(r) && Arc::ptr_eq(&r.entity, entity))
            {
                Some(at) => Some(at),
                None => reasons
                    .iter()
                    .position(|r| of_rule(r) && r.entity == *entity),
            };
            match at.map(|at| &mut reasons[at]) {
                Some(r) => {
                    r.count += 1;
                    r.max_score = r.max_score.max(score);
                }
                None => reasons.push(Reason {
                    rule: rule.id.clone(),
                    action: rule.action,
                    category,
                    entity: entity.clone(),
                    count: 1,
                    max_score: score,
                    monitor: tenant_monitor || rule.mode == Some(Mode::Monitor),
                    message: rule.message.clone(),
                }),
            }
        };

        // `self.categories[i]` is rule i's condition, compiled (`doc` cannot change after).
        for (i, rule) in self
            .doc
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.action == Action::Allow && r.when.label.is_none())
        {
            if !rule.when.context_holds(ctx) {
                continue;
            }
            for (k, l) in findings.iter().enumerate() {
                if rule.when.finding_matches(self.categories[i], &l.finding) {
                    if exempt.is_empty() {
                        exempt = vec![false; findings.len()];
                    }
                    exempt[k] = true;
                    add(
                        &mut reasons,
                        rule,
                        Some(l.finding.category),
                        &l.finding.entity,
                        l.finding.score,
                    );
                }
            }
        }
        let exempted = |k: usize| exempt.get(k).copied().unwrap_or(false);

        let models = &self.doc.destinations.models;
        if let (false, Some(model)) = (models.is_empty(), ctx.model) {
            if !models.iter().any(|m| model_matches(m, model)) {
                reasons.push(Reason {
                    rule: "destinations.models".into(),
                    action: Action::Block,
                    category: None,
                    entity: "model".into(),
                    count: 1,
                    max_score: 1.0,
                    monitor: tenant_monitor,
                    message: Some(
                        format!(
                            "The model `{model}` is not approved for use by your organisation."
                        )
                        .into(),
                    ),
                });
            }
        }
        let mut classifier_error = None;
        for (i, rule) in self
            .doc
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.action != Action::Allow || r.when.label.is_some())
        {
            if !rule.when.context_holds(ctx) {
                continue;
            }
            if let Some(wanted) = &rule.when.label {
                match labels {
                    LabelsOutcome::Scored(scores) => {
                        for (name, &score) in scores {
                            let threshold = rule
                                .when
                                .min_score
                                .or_else(|| ctx.label_thresholds.and_then(|t| t.get(name).copied()))
                                .unwrap_or(0.5);
                            if wanted.contains(name) && score >= threshold {
                                let category =
                                    serde_json::from_value(serde_json::Value::String(name.clone()))
                                        .ok();
                                add(&mut reasons, rule, category, &name.as_str().into(), score);
                            }
                        }
                    }
                    LabelsOutcome::Failed(e) => classifier_error = Some(e.clone()),
                    LabelsOutcome::NotRun => {}
                }
                continue;
            }
            if !rule.when.reads_findings() {
                // A context-only rule (a user, group, model, endpoint or tool condition) fires on its own.
                add(&mut reasons, rule, None, &"request".into(), 1.0);
                continue;
            }
            let matches = |&(k, l): &(usize, &Located)| {
                !exempted(k) && rule.when.finding_matches(self.categories[i], &l.finding)
            };
            let min_count = rule.when.min_count.unwrap_or(1);
            if min_count > 1 && findings.iter().enumerate().filter(matches).count() < min_count {
                continue;
            }
            for (_, l) in findings.iter().enumerate().filter(matches) {
                let f = &l.finding;
                add(&mut reasons, rule, Some(f.category), &f.entity, f.score);
                if rule.action == Action::Redact && rule.mode != Some(Mode::Monitor) {
                    redactions.push(
                        l.segment,
                        f.start..f.end,
                        &f.entity,
                        rule.redact.unwrap_or_default(),
                        rule.keep_last.unwrap_or(4),
                    );
                }
            }
        }

        if let Some(e) = &classifier_error {
            let action = match self.doc.on_classifier_error {
                OnError::FailClosed => Action::Block,
                OnError::FailOpen => Action::Log,
            };
            reasons.push(Reason {
                rule: if action == Action::Block {
                    "on_classifier_error:fail_closed"
                } else {
                    "on_classifier_error:fail_open"
                }
                .into(),
                action,
                category: None,
                entity: "classifier_error".into(),
                count: 1,
                max_score: 0.0,
                monitor: tenant_monitor,
                message: Some(
                    format!(
                        "The content classifier was unavailable ({e}); the policy fails {}.",
                        if action == Action::Block {
                            "closed"
                        } else {
                            "open"
                        }
                    )
                    .into(),
                ),
            });
        }

        if let Some(why) = ctx.scan_limit {
            let (action, rule) = match self.doc.on_classifier_error {
                OnError::FailClosed => (Action::Block, "scan_limit:fail_closed"),
                OnError::FailOpen => (Action::Log, "scan_limit:fail_open"),
            };
            reasons.push(Reason {
                rule: rule.into(),
                action,
                category: None,
                entity: "scan_limit".into(),
                count: 1,
                max_score: 0.0,
                monitor: tenant_monitor,
                message: Some(
                    format!("PromptWall could not read all of this request ({why}); the policy fails closed.")
                        .into(),
                ),
            });
        }
        if let Some(why) = ctx.uninspectable {
            let (action, rule) = match self.doc.on_uninspectable {
                Uninspectable::Allow => (Action::Allow, "on_uninspectable:allow"),
                Uninspectable::Log => (Action::Log, "on_uninspectable:log"),
                Uninspectable::Block => (Action::Block, "on_uninspectable:block"),
            };
            reasons.push(Reason {
                rule: rule.into(),
                action,
                category: None,
                entity: "uninspectable".into(),
                count: 1,
                max_score: 0.0,
                monitor: tenant_monitor,
                message: Some(
                    format!("PromptWall could not inspect this request ({why}), and the policy does not let unread content through.")
                        .into(),
                ),
            });
        }

        let enforced = reasons
            .iter()
            .filter(|r| !r.monitor)
            .map(|r| r.action)
            .max()
            .unwrap_or(Action::Allow);
        let everything = reasons
            .iter()
            .map(|r| r.action)
            .max()
            .unwrap_or(Action::Allow);
        let action = if reasons.iter().any(|r| r.monitor)
            && enforced < Action::Log
            && everything > Action::Allow
        {
            Action::Log
        } else {
            enforced
        };
        let would = (everything > action).then_some(everything);
        if action != Action::Redact {
            redactions.clear();
        }
        let message = action.blocks().then(|| {
            let blocking: Vec<&Reason> = reasons
                .iter()
                .filter(|r| !r.monitor && r.action == action)
                .collect();
            let mut entities: Vec<&str> = blocking.iter().map(|r| &*r.entity).collect();
            entities.dedup();
            let mut categories: Vec<&str> = blocking
                .iter()
                .filter_map(|r| r.category.map(Category::as_str))
                .collect();
            categories.sort_unstable();
            categories.dedup();
            match blocking.iter().find(|r| r.message.is_some()) {
                Some(r) => fill(
                    r.message.as_deref().unwrap_or_default(),
                    &r.rule,
                    &entities,
                    &categories,
                    ctx.user,
                ),
                None => format!(
                    "Request blocked by PromptWall policy (detected: {}).",
                    entities.join(", ")
                ),
            }
        });
        Decision {
            action,
            would,
            mode: self.doc.mode,
            tenant: self.doc.tenant.clone(),
            policy_version: self.version,
            reasons,
            redactions,
            message,
            classifier_error,
            adjusted_findings: match findings {
                std::borrow::Cow::Owned(v) => Some(v),
                std::borrow::Cow::Borrowed(_) => None,
            },
        }
    }

    fn allowlisted(&self, l: &Located, texts: &[&str]) -> bool {
        let Some(value) = texts
            .get(l.segment)
            .and_then(|t| t.get(l.finding.start..l.finding.end))
        else {
            return false;
        };
        self.allow.iter().any(|(entity, exact, regex)| {
            **entity == *l.finding.entity
                && (exact.as_deref() == Some(value)
                    || regex.as_ref().is_some_and(|r| r.is_match(value)))
        })
    }
}
