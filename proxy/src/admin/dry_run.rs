//! Trying things before they are in force: a policy draft validated as it is typed, a prompt
//! dry-run against the running policy or a draft (with each finding's span), and any text
//! tested against every rule. The text an admin pastes comes back only to that admin, in the
//! answer; it is never logged.

use super::api::AdminResponse;
use crate::handler::Shared;
use classifiers::Finding;
use policy::{CompiledPolicy, Identity};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Largest text a dry run or rule test reads (the admin body cap is 1 MiB).
const MAX_TEXT: usize = 256 * 1024;

/// The body of a dry run: a whole request as the proxy would see it, or just a prompt; and
/// optionally the draft policy to try instead of the running one.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DryRun {
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    body: Option<Value>,
    /// A prompt, sent as one user message of a chat completion.
    #[serde(default)]
    text: Option<String>,
    /// A draft policy (YAML) to decide with.
    #[serde(default)]
    policy: Option<String>,
}

/// Compiles a draft for `tenant`; `Err` is the 422 answer, with line and column.
pub(super) fn compile(
    tenant: &str,
    origin: &str,
    yaml: &str,
) -> Result<CompiledPolicy, AdminResponse> {
    match CompiledPolicy::from_yaml(origin, yaml) {
        Err(e) => Err(AdminResponse::invalid_policy(&e)),
        Ok(c) if c.tenant() != tenant => Err(AdminResponse::json(
            422,
            json!({
                "error": format!("field `tenant`: the policy names tenant `{}`, not `{tenant}`", c.tenant()),
                "errors": [{"line": 1, "column": 1, "field": "tenant",
                    "message": format!("the policy names tenant `{}`, not `{tenant}`", c.tenant())}],
            }),
        )),
        Ok(c) => Ok(c),
    }
}

/// `POST /v1/policies/{t}/validate`: the draft's errors (line, column, field), or `ok`.
pub fn validate(tenant: &str, body: &[u8]) -> AdminResponse {
    let Ok(text) = std::str::from_utf8(body) else {
        return AdminResponse::error(422, "the policy must be UTF-8 YAML");
    };
    match compile(tenant, "draft", text) {
        Ok(c) => AdminResponse::json(
            200,
            json!({"ok": true, "rules": c.doc().rules.len(), "errors": []}),
        ),
        Err(r) => r,
    }
}

/// `POST /v1/policies/{t}/dry-run`: the decision for a request (or a prompt), with every
/// reason, the classifier's labels, and for a prompt the text split at each finding.
pub async fn dry_run(shared: &Arc<Shared>, tenant: &str, body: &[u8]) -> AdminResponse {
    let dr: DryRun = match serde_json::from_slice(body) {
        Ok(d) => d,
        Err(e) => {
            return AdminResponse::error(
                400,
                format!(
                "expected {{provider, path, body}} or {{text}}, with user?, groups?, policy?: {e}"
            ),
            )
        }
    };
    let policy = match &dr.policy {
        Some(yaml) => match compile(tenant, "draft", yaml) {
            Ok(c) => Arc::new(c),
            Err(r) => return r,
        },
        None => shared.inspector.store().get(tenant),
    };
    let (provider, path, raw) = match (&dr.text, &dr.body) {
        (Some(text), None) if text.len() <= MAX_TEXT => (
            "openai".to_string(),
            "/v1/chat/completions".to_string(),
            serde_json::to_vec(
                &json!({"model": "dry-run", "messages": [{"role": "user", "content": text}]}),
            )
            .expect("JSON values serialize"),
        ),
        (Some(_), None) => return AdminResponse::error(413, "the text is over 256 KiB"),
        (None, Some(b)) => (
            dr.provider.clone().unwrap_or_else(|| "openai".into()),
            dr.path
                .clone()
                .unwrap_or_else(|| "/v1/chat/completions".into()),
            serde_json::to_vec(b).expect("JSON values serialize"),
        ),
        _ => return AdminResponse::error(400, "send either `text` or `body`"),
    };
    let identity = Identity {
        tenant: tenant.to_string(),
        user: dr.user,
        groups: dr.groups,
        method: "config",
    };
    let shared = shared.clone();
    let text = dr.text;
    let done = tokio::task::spawn_blocking(move || {
        let insp = shared
            .inspector
            .inspect_json_with(policy, &identity, &provider, &path, &raw)?;
        let runs = text.map(|t| runs(&t, &shared.inspector.engine().scan(&t)));
        Ok::<_, crate::inspect::InspectError>((insp, runs))
    })
    .await;
    match done {
        Ok(Ok((insp, runs))) => {
            let d = &insp.decision;
            AdminResponse::json(
                200,
                json!({
                    "action": d.action,
                    "would": d.would,
                    "mode": d.mode,
                    "policy_version": d.policy_version,
                    "reasons": d.reasons,
                    "message": d.message,
                    "redactions": insp.redaction_count,
                    "labels": insp.labels,
                    "runs": runs,
                }),
            )
        }
        Ok(Err(e)) => AdminResponse::error(400, e.to_string()),
        Err(e) => AdminResponse::error(500, format!("dry run failed: {e}")),
    }
}

/// `text` cut at its findings: `[{text}, {text, rule, category, entity}, ...]`, so a page can
/// highlight each span without doing offset arithmetic (overlapping findings: the first wins).
fn runs(text: &str, findings: &[Finding]) -> Vec<Value> {
    let mut sorted: Vec<&Finding> = findings
        .iter()
        .filter(|f| {
            f.start < f.end
                && f.end <= text.len()
                && text.is_char_boundary(f.start)
                && text.is_char_boundary(f.end)
        })
        .collect();
    sorted.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
    let mut out = Vec::new();
    let mut at = 0;
    for f in sorted {
        if f.start < at {
            continue;
        }
        if f.start > at {
            out.push(json!({"text": &text[at..f.start]}));
        }
        out.push(json!({
            "text": &text[f.start..f.end],
            "rule": &*f.rule,
            "category": f.category,
            "entity": &*f.entity,
        }));
        at = f.end;
    }
    if at < text.len() {
        out.push(json!({"text": &text[at..]}));
    }
    out
}

/// `GET /v1/rules?q=&category=`: every rule, with its shipped examples, filtered.
pub fn rules(shared: &Arc<Shared>, params: &HashMap<String, String>) -> AdminResponse {
    let q = params
        .get("q")
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    let category = params.get("category").filter(|c| !c.is_empty());
    let engine = shared.inspector.engine();
    let rules: Vec<Value> = engine
        .rule_details()
        .into_iter()
        .filter(|r| {
            let cat = serde_json::to_value(r.category).unwrap_or_default();
            category.is_none_or(|c| cat.as_str() == Some(c.as_str()))
                && (q.is_empty()
                    || r.id.to_ascii_lowercase().contains(&q)
                    || r.entity.to_ascii_lowercase().contains(&q)
                    || r.description.to_ascii_lowercase().contains(&q))
        })
        .map(|r| serde_json::to_value(r).expect("rules serialize"))
        .collect();
    AdminResponse::json(200, json!({"count": rules.len(), "rules": rules}))
}

/// `POST /v1/rules/test` with `{text}`: what every rule finds in it, as highlighted runs.
pub fn test_rules(shared: &Arc<Shared>, body: &[u8]) -> AdminResponse {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Test {
        text: String,
    }
    let t: Test = match serde_json::from_slice(body) {
        Ok(t) => t,
        Err(e) => return AdminResponse::error(400, format!("expected {{text}}: {e}")),
    };
    if t.text.len() > MAX_TEXT {
        return AdminResponse::error(413, "the text is over 256 KiB");
    }
    let findings = shared.inspector.engine().scan(&t.text);
    AdminResponse::json(
        200,
        json!({"findings": findings.len(), "runs": runs(&t.text, &findings)}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn finding(start: usize, end: usize) -> Finding {
        Finding {
            rule: Arc::from("r"),
            category: classifiers::Category::Secret,
            entity: Arc::from("e"),
            severity: classifiers::Severity::High,
            start,
            end,
            score: 1.0,
            validator: None,
            decoded_from: None,
        }
    }

    #[test]
    fn runs_cover_the_text_once_with_each_finding_marked() {
        let text = "key AKIA1234 and é tail";
        let r = runs(text, &[finding(4, 12), finding(6, 8), finding(17, 18)]);
        let joined: String = r.iter().map(|x| x["text"].as_str().unwrap()).collect();
        assert_eq!(joined, text);
        let marked: Vec<&str> = r
            .iter()
            .filter(|x| x.get("rule").is_some())
            .map(|x| x["text"].as_str().unwrap())
            .collect();
        // The overlapping finding and one off a char boundary are dropped.
        assert_eq!(marked, ["AKIA1234"]);
    }
}
