//! Request inspection: provider JSON → texts → pattern findings → the tenant's decision.
//!
//! Pure and synchronous: no I/O happens here, so the same code serves the proxy and the CLI.

use crate::providers::{self, Prompt};
use classifiers::{Finding, PatternEngine};
use policy::{Decision, Policy};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A finding and the segment (JSON pointer) it was found in.
#[derive(Debug, Clone)]
pub struct Located {
    pub pointer: String,
    pub finding: Finding,
}

/// Everything inspection learned about one request.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub prompt: Prompt,
    pub findings: Vec<Located>,
    pub decision: Decision,
    pub elapsed: Duration,
}

/// Why a body could not be inspected.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
}

/// The compiled rules and the tenants' policies.
pub struct Inspector {
    engine: Arc<PatternEngine>,
    policies: HashMap<String, Arc<Policy>>,
}

impl Inspector {
    /// An inspector over `engine`, with the embedded default policy for every tenant not listed.
    pub fn new(engine: Arc<PatternEngine>, policies: Vec<Policy>) -> Self {
        Inspector {
            engine,
            policies: policies
                .into_iter()
                .map(|p| (p.tenant.clone(), Arc::new(p)))
                .collect(),
        }
    }

    /// The number of compiled pattern rules, for readiness reporting.
    pub fn rule_count(&self) -> usize {
        self.engine.rule_count()
    }

    fn policy_for(&self, tenant: &str) -> Arc<Policy> {
        self.policies
            .get(tenant)
            .cloned()
            .unwrap_or_else(|| Arc::new(Policy::default_for(tenant)))
    }

    /// Inspects a JSON request body for `tenant`.
    pub fn inspect_json(
        &self,
        tenant: &str,
        provider: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Inspection, InspectError> {
        let started = Instant::now();
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| InspectError::MalformedJson(e.to_string()))?;
        let prompt = providers::extract(provider, path, &value);
        let mut findings = Vec::new();
        for seg in &prompt.segments {
            for finding in self.engine.scan(&seg.text) {
                findings.push(Located {
                    pointer: seg.pointer.clone(),
                    finding,
                });
            }
        }
        let flat: Vec<Finding> = findings.iter().map(|l| l.finding.clone()).collect();
        let decision = self.policy_for(tenant).evaluate(&flat);
        Ok(Inspection {
            prompt,
            findings,
            decision,
            elapsed: started.elapsed(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy::Action;

    fn inspector() -> Inspector {
        Inspector::new(Arc::new(classifiers::builtin_engine().unwrap()), vec![])
    }

    #[test]
    fn a_key_in_a_tool_argument_blocks_and_names_its_pointer() {
        let body = br#"{"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":"{\"k\":\"AKIAQWERTYUIOPASDFGH\"}"}}]}]}"#;
        let i = inspector()
            .inspect_json("t", "openai", "/v1/chat/completions", body)
            .unwrap();
        assert_eq!(i.decision.action, Action::Block);
        assert_eq!(
            i.findings[0].pointer,
            "/messages/0/tool_calls/0/function/arguments"
        );
    }

    #[test]
    fn clean_prompt_is_allowed() {
        let body =
            br#"{"model":"m","messages":[{"role":"user","content":"Write a haiku about rust."}]}"#;
        let i = inspector()
            .inspect_json("t", "openai", "/v1/chat/completions", body)
            .unwrap();
        assert_eq!((i.decision.action, i.findings.len()), (Action::Allow, 0));
    }

    #[test]
    fn malformed_json_is_an_error_not_a_pass() {
        assert!(inspector()
            .inspect_json("t", "openai", "/v1/chat/completions", b"{\"messages\": [")
            .is_err());
    }
}
