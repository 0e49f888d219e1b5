//! Request inspection: provider JSON → texts → pattern findings → the tenant's decision →
//! (when redacting) the rewritten body.
//!
//! Pure and synchronous apart from reading the current engine and policy, so the same code
//! serves the proxy and the CLI. The engine and the policy store sit behind atomic pointers:
//! a reload swaps them, and an inspection in progress keeps the versions it started with.

use crate::providers::{self, Prompt};
use arc_swap::ArcSwap;
use bytes::Bytes;
use classifiers::PatternEngine;
use policy::{
    Action, CompiledPolicy, Context, Decision, Direction, Identity, LabelsOutcome, Located, Store,
    TenantKey, Vault,
};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything inspection learned and decided about one request.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub prompt: Prompt,
    pub decision: Decision,
    /// The body to send upstream instead of the original, when values were redacted.
    pub rewritten: Option<Bytes>,
    /// (token, original) pairs to restore in the response.
    pub pseudonyms: Vec<(String, String)>,
    pub redaction_count: usize,
    /// `redact` could not rewrite this provider's body, and the fallback applied.
    pub redaction_fallback: bool,
    pub elapsed: Duration,
}

/// Why a body could not be inspected.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
}

/// The compiled rules, the tenants' policies and the keys for redaction.
pub struct Inspector {
    engine: ArcSwap<PatternEngine>,
    store: ArcSwap<Store>,
    master_key: Vec<u8>,
    pub vault: Vault,
}

/// Providers whose request bodies are signed (AWS SigV4): they cannot be rewritten.
fn body_is_signed(provider: &str) -> bool {
    provider == "bedrock"
}

impl Inspector {
    /// An inspector over `engine` and `store`, keyed by the deployment's master secret.
    pub fn new(engine: Arc<PatternEngine>, store: Arc<Store>, master_key: Vec<u8>) -> Self {
        Inspector {
            engine: ArcSwap::new(engine),
            store: ArcSwap::new(store),
            master_key,
            vault: Vault::default(),
        }
    }

    /// The number of compiled pattern rules, for readiness reporting.
    pub fn rule_count(&self) -> usize {
        self.engine.load().rule_count()
    }

    /// The current pattern engine.
    pub fn engine(&self) -> Arc<PatternEngine> {
        self.engine.load_full()
    }

    /// The current policy store.
    pub fn store(&self) -> Arc<Store> {
        self.store.load_full()
    }

    /// Installs new rule packs; inspections already running finish on the old ones.
    pub fn swap_engine(&self, engine: Arc<PatternEngine>) {
        self.engine.store(engine);
    }

    /// Installs a reloaded policy store.
    pub fn swap_store(&self, store: Arc<Store>) {
        self.store.store(store);
    }

    /// The tenant's key for keyed hashes and pseudonyms.
    pub fn tenant_key(&self, tenant: &str) -> TenantKey {
        TenantKey::derive(&self.master_key, tenant)
    }

    /// Inspects a JSON request body for `identity`.
    pub fn inspect_json(
        &self,
        identity: &Identity,
        provider: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Inspection, InspectError> {
        let started = Instant::now();
        let mut value: Value =
            serde_json::from_slice(body).map_err(|e| InspectError::MalformedJson(e.to_string()))?;
        let prompt = providers::extract(provider, path, &value);
        let policy: Arc<CompiledPolicy> = self.store.load().get(&identity.tenant);
        let texts: Vec<&str> = prompt.segments.iter().map(|s| s.text.as_str()).collect();
        let engine = self.engine.load();
        let findings: Vec<Located> = texts
            .iter()
            .enumerate()
            .flat_map(|(i, t)| {
                engine.scan(t).into_iter().map(move |finding| Located {
                    segment: i,
                    finding,
                })
            })
            .collect();
        let ctx = Context {
            user: identity.user.as_deref(),
            groups: &identity.groups,
            provider: Some(provider),
            model: prompt.model.as_deref(),
            endpoint: Some(path),
            direction: Direction::Request,
        };
        let mut decision = policy.evaluate(&ctx, &texts, &findings, &LabelsOutcome::NotRun);
        let mut out = Inspection {
            rewritten: None,
            pseudonyms: Vec::new(),
            redaction_count: 0,
            redaction_fallback: false,
            elapsed: Duration::ZERO,
            prompt: Prompt::default(),
            decision: decision.clone(),
        };
        if decision.action == Action::Redact {
            if body_is_signed(provider) {
                decision.action = policy.doc.redaction_fallback;
                if decision.action.blocks() {
                    decision.message = Some(format!(
                        "This request contains data the policy requires to be redacted ({}), and requests to this provider cannot be modified.",
                        decision.reasons.iter().map(|r| r.entity.as_str()).collect::<Vec<_>>().join(", ")
                    ));
                }
                out.redaction_fallback = true;
            } else {
                let key = self.tenant_key(&identity.tenant);
                let redacted = policy::redact::apply(&decision.redactions, &texts, &key);
                for (seg, new) in prompt.segments.iter().zip(&redacted.texts) {
                    if let (Some(new), Some(slot)) = (new, value.pointer_mut(&seg.pointer)) {
                        *slot = Value::String(new.clone());
                    }
                }
                out.rewritten = Some(Bytes::from(
                    serde_json::to_vec(&value).expect("JSON values serialize"),
                ));
                out.redaction_count = redacted.count;
                out.pseudonyms = redacted.pseudonyms;
            }
        }
        out.decision = decision;
        out.prompt = prompt;
        out.elapsed = started.elapsed();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspector() -> Inspector {
        Inspector::new(
            Arc::new(classifiers::builtin_engine().unwrap()),
            Arc::new(Store::in_memory()),
            b"test master key".to_vec(),
        )
    }

    fn who(tenant: &str) -> Identity {
        Identity {
            tenant: tenant.into(),
            user: Some("u".into()),
            groups: vec![],
            method: "default",
        }
    }

    #[test]
    fn a_key_in_a_tool_argument_blocks() {
        let body = br#"{"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":"{\"k\":\"AKIAQWERTYUIOPASDFGH\"}"}}]}]}"#;
        let i = inspector()
            .inspect_json(&who("t"), "openai", "/v1/chat/completions", body)
            .unwrap();
        assert_eq!(i.decision.action, Action::Block);
        assert_eq!(i.decision.findings[0].segment, 0);
    }

    #[test]
    fn pii_is_pseudonymized_in_the_rewritten_body() {
        let body = br#"{"model":"m","messages":[{"role":"user","content":"Email ana.ruiz@globex.com about card 4111 1111 1111 1111"}]}"#;
        let i = inspector()
            .inspect_json(&who("t"), "openai", "/v1/chat/completions", body)
            .unwrap();
        assert_eq!(i.decision.action, Action::Redact);
        let v: Value = serde_json::from_slice(i.rewritten.as_ref().unwrap()).unwrap();
        assert_eq!(
            v["messages"][0]["content"],
            "Email <EMAIL_1> about card <CREDIT_CARD_1>"
        );
        assert_eq!(i.pseudonyms.len(), 2);
    }

    #[test]
    fn signed_bodies_fall_back_instead_of_redacting() {
        let body =
            br#"{"messages":[{"role":"user","content":[{"text":"Email ana.ruiz@globex.com"}]}]}"#;
        let i = inspector()
            .inspect_json(&who("t"), "bedrock", "/model/x/converse", body)
            .unwrap();
        assert!(i.redaction_fallback && i.rewritten.is_none());
        assert_eq!(
            i.decision.action,
            Action::Block,
            "the default fallback is block"
        );
    }

    #[test]
    fn malformed_json_is_an_error_not_a_pass() {
        assert!(inspector()
            .inspect_json(
                &who("t"),
                "openai",
                "/v1/chat/completions",
                b"{\"messages\": ["
            )
            .is_err());
    }
}
