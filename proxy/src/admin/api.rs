//! The admin API's routes: policies (get, put, dry-run, history, diff, rollback) for admins,
//! the usage log (query, stats) for auditors. Every call past authentication is audited.

use super::auth::{Need, Principal};
use crate::audit::{AuditEvent, AuditStore, Filter};
use crate::handler::Shared;
use policy::{Identity, StoreError};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// One admin request, already read off the wire.
pub struct AdminRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
    pub peer: Option<String>,
}

/// Status, content type and body.
pub struct AdminResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl AdminResponse {
    fn json(status: u16, v: Value) -> Self {
        let mut body = serde_json::to_vec_pretty(&v).expect("JSON values serialize");
        body.push(b'\n');
        AdminResponse {
            status,
            content_type: "application/json",
            body,
        }
    }

    fn error(status: u16, message: impl Into<String>) -> Self {
        Self::json(status, json!({ "error": message.into() }))
    }

    fn text(status: u16, content_type: &'static str, body: String) -> Self {
        AdminResponse {
            status,
            content_type,
            body: body.into_bytes(),
        }
    }
}

/// The API routes a request names: the part after `/v1/`.
enum Route<'a> {
    AuditEvents,
    AuditStats,
    Policy(&'a str),
    PolicyHistory(&'a str),
    PolicyDiff(&'a str),
    PolicyDryRun(&'a str),
    PolicyRollback(&'a str, &'a str),
}

fn route(path: &str) -> Option<Route<'_>> {
    let rest = path.strip_prefix("/v1/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    Some(match parts.as_slice() {
        ["audit", "events"] => Route::AuditEvents,
        ["audit", "stats"] => Route::AuditStats,
        ["policies", t] => Route::Policy(t),
        ["policies", t, "history"] => Route::PolicyHistory(t),
        ["policies", t, "diff"] => Route::PolicyDiff(t),
        ["policies", t, "dry-run"] => Route::PolicyDryRun(t),
        ["policies", t, "rollback", v] => Route::PolicyRollback(t, v),
        _ => return None,
    })
}

/// Whether `path` belongs to the token-protected API (the rest of the listener is public).
pub fn is_api(path: &str) -> bool {
    route(path).is_some()
}

/// Serves one API request: authenticate, authorize for the tenant it touches, act, audit.
pub async fn handle(shared: &Arc<Shared>, req: AdminRequest) -> AdminResponse {
    let Some(route) = route(&req.path) else {
        return AdminResponse::error(404, "no such endpoint");
    };
    let Some(principal) = shared
        .admin_tokens
        .authenticate(req.authorization.as_deref())
    else {
        audit(shared, &req, None, "-", 401).await;
        return AdminResponse::error(401, "a valid admin bearer token is required");
    };
    let params: HashMap<String, String> = req
        .query
        .as_deref()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    // The tenant this call touches: the path's for policies; for the audit log the `tenant`
    // parameter, or the caller's own tenant.
    let (need, tenant) = match &route {
        Route::AuditEvents | Route::AuditStats => (
            Need::AuditRead,
            params
                .get("tenant")
                .cloned()
                .or_else(|| principal.tenant.clone()),
        ),
        Route::Policy(t)
        | Route::PolicyHistory(t)
        | Route::PolicyDiff(t)
        | Route::PolicyDryRun(t)
        | Route::PolicyRollback(t, _) => (Need::Policy, Some(t.to_string())),
    };
    let allowed = match &tenant {
        Some(t) => principal.may(need, t),
        // Only a superadmin may read every tenant's log at once.
        None => principal.tenant.is_none() && principal.may(need, ""),
    };
    let tenant_label = tenant.clone().unwrap_or_else(|| "*".into());
    if !allowed {
        audit(shared, &req, Some(&principal), &tenant_label, 403).await;
        return AdminResponse::error(
            403,
            format!(
                "token `{}` ({:?}) may not do this for tenant `{tenant_label}`",
                principal.name, principal.role
            ),
        );
    }
    let resp = act(shared, &req, &principal, route, tenant, params).await;
    audit(shared, &req, Some(&principal), &tenant_label, resp.status).await;
    resp
}

async fn act(
    shared: &Arc<Shared>,
    req: &AdminRequest,
    principal: &Principal,
    route: Route<'_>,
    tenant: Option<String>,
    params: HashMap<String, String>,
) -> AdminResponse {
    let store = shared.inspector.store();
    let method = req.method.as_str();
    match (method, route) {
        ("GET", Route::AuditEvents) => {
            let filter = match filter_from(&params, tenant) {
                Ok(f) => f,
                Err(e) => return AdminResponse::error(400, e),
            };
            read_log(shared, move |db| {
                let events = db.query(&filter)?;
                let next = events.last().map(|e| e.seq);
                Ok(json!({ "events": events, "next_after": next }))
            })
            .await
        }
        ("GET", Route::AuditStats) => {
            let by = params.get("by").cloned().unwrap_or_else(|| "day".into());
            let filter = match filter_from(&params, tenant) {
                Ok(f) => f,
                Err(e) => return AdminResponse::error(400, e),
            };
            read_log(shared, move |db| {
                let rows = db.stats(&filter, &by)?;
                Ok(json!({ "by": by, "counts": rows.into_iter().map(|(k, n)| json!({"key": k, "count": n})).collect::<Vec<_>>() }))
            })
            .await
        }
        ("GET", Route::Policy(t)) => {
            let p = store.get(t);
            AdminResponse::json(
                200,
                json!({ "tenant": t, "version": p.version, "yaml": p.source }),
            )
        }
        ("PUT", Route::Policy(t)) => {
            let Ok(text) = std::str::from_utf8(&req.body) else {
                return AdminResponse::error(422, "the policy must be UTF-8 YAML");
            };
            let origin = format!("PUT /v1/policies/{t}");
            match policy::CompiledPolicy::from_yaml(&origin, text) {
                Err(e) => return AdminResponse::error(422, e.to_string()),
                Ok(c) if c.tenant() != t => {
                    return AdminResponse::error(
                        422,
                        format!(
                            "field `tenant`: the policy names tenant `{}` but was sent to `{t}`",
                            c.tenant()
                        ),
                    )
                }
                Ok(_) => {}
            }
            version_reply(store.apply(&origin, text, &principal.name), 200)
        }
        ("GET", Route::PolicyHistory(t)) => {
            let versions: Vec<Value> = store
                .history(t)
                .into_iter()
                .map(|v| json!({"version": v.version, "author": v.author, "time": v.time, "action": v.action, "restored": v.restored}))
                .collect();
            AdminResponse::json(200, json!({ "tenant": t, "versions": versions }))
        }
        ("GET", Route::PolicyDiff(t)) => {
            let num = |k: &str| params.get(k).and_then(|v| v.parse::<u64>().ok());
            let (Some(from), Some(to)) = (num("from"), num("to")) else {
                return AdminResponse::error(400, "`from` and `to` version numbers are required");
            };
            match store.diff(t, from, to) {
                Ok(d) => AdminResponse::text(200, "text/x-diff", d),
                Err(e @ StoreError::NoSuchVersion { .. }) => {
                    AdminResponse::error(404, e.to_string())
                }
                Err(e) => AdminResponse::error(500, e.to_string()),
            }
        }
        ("POST", Route::PolicyRollback(t, v)) => {
            let Ok(version) = v.trim_start_matches('v').parse::<u64>() else {
                return AdminResponse::error(400, format!("`{v}` is not a version number"));
            };
            version_reply(store.rollback(t, version, &principal.name), 200)
        }
        ("POST", Route::PolicyDryRun(t)) => dry_run(shared, t, &req.body).await,
        (_, _) => AdminResponse::error(405, format!("{method} is not allowed here")),
    }
}

fn version_reply(r: Result<policy::VersionInfo, StoreError>, ok: u16) -> AdminResponse {
    match r {
        Ok(v) => AdminResponse::json(ok, serde_json::to_value(v).expect("serializes")),
        Err(e @ StoreError::Invalid(_)) => AdminResponse::error(422, e.to_string()),
        Err(e @ StoreError::NoSuchVersion { .. }) => AdminResponse::error(404, e.to_string()),
        Err(e) => {
            tracing::error!(error = %e, "storing a policy version failed");
            AdminResponse::error(500, e.to_string())
        }
    }
}

/// The body of a dry run: the request as the proxy would see it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DryRun {
    provider: String,
    path: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    body: Value,
}

async fn dry_run(shared: &Arc<Shared>, tenant: &str, body: &[u8]) -> AdminResponse {
    let dr: DryRun = match serde_json::from_slice(body) {
        Ok(d) => d,
        Err(e) => {
            return AdminResponse::error(
                400,
                format!("expected {{provider, path, user?, groups?, body}}: {e}"),
            )
        }
    };
    let identity = Identity {
        tenant: tenant.to_string(),
        user: dr.user,
        groups: dr.groups,
        method: "config",
    };
    let shared = shared.clone();
    let raw = serde_json::to_vec(&dr.body).expect("JSON values serialize");
    let done = tokio::task::spawn_blocking(move || {
        shared
            .inspector
            .inspect_json(&identity, &dr.provider, &dr.path, &raw)
    })
    .await;
    match done {
        Ok(Ok(insp)) => {
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
                }),
            )
        }
        Ok(Err(e)) => AdminResponse::error(400, e.to_string()),
        Err(e) => AdminResponse::error(500, format!("dry run failed: {e}")),
    }
}

fn filter_from(params: &HashMap<String, String>, tenant: Option<String>) -> Result<Filter, String> {
    let get = |k: &str| params.get(k).filter(|v| !v.is_empty()).cloned();
    let limit = match get("limit") {
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or("`limit` must be between 1 and 10000")?,
        None => 100,
    };
    let after = match get("after") {
        Some(a) => Some(a.parse::<i64>().map_err(|_| "`after` must be a number")?),
        None => None,
    };
    Ok(Filter {
        tenant,
        user: get("user"),
        group: get("group"),
        provider: get("provider"),
        model: get("model"),
        action: get("action"),
        category: get("category"),
        entity: get("entity"),
        rule: get("rule"),
        kind: get("kind"),
        since: get("since"),
        until: get("until"),
        limit,
        after,
    })
}

/// Runs a read on its own connection off the async workers (WAL lets it run beside the writer).
async fn read_log<F>(shared: &Arc<Shared>, f: F) -> AdminResponse
where
    F: FnOnce(&AuditStore) -> Result<Value, crate::audit::StoreError> + Send + 'static,
{
    if shared.audit.is_none() {
        return AdminResponse::error(404, "the audit log is disabled in this deployment");
    }
    let path = shared.config.audit.path(&shared.config.state_dir);
    let r =
        tokio::task::spawn_blocking(move || AuditStore::open(&path).and_then(|db| f(&db))).await;
    match r {
        Ok(Ok(v)) => AdminResponse::json(200, v),
        Ok(Err(e)) => AdminResponse::error(400, e.to_string()),
        Err(e) => AdminResponse::error(500, format!("audit read failed: {e}")),
    }
}

/// Records an admin call (who, what, for which tenant, and the outcome).
async fn audit(
    shared: &Arc<Shared>,
    req: &AdminRequest,
    who: Option<&Principal>,
    tenant: &str,
    status: u16,
) {
    let Some(w) = &shared.audit else { return };
    let event = AuditEvent {
        id: crate::handler::request_id(),
        time: crate::audit::event::now(),
        kind: "admin".into(),
        tenant: tenant.into(),
        user: who.map(|p| p.name.clone()),
        client_addr: req.peer.clone(),
        host: "admin".into(),
        endpoint: Some(format!("{} {}", req.method, req.path)),
        request_bytes: req.body.len() as u64,
        decision: match status {
            401 => "unauthenticated",
            403 => "denied",
            s if s < 400 => "allowed",
            _ => "error",
        }
        .into(),
        status,
        ..Default::default()
    };
    if let Err(e) = w.record(event).await {
        tracing::error!(error = %e, path = %req.path, "could not audit an admin call");
    }
}
