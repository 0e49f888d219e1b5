//! The admin API's routes: policies (get, put, validate, dry-run, history, diff, rollback) for
//! admins, the usage log (query, export, one exchange, stats, verify) for auditors, and the
//! rule packs (browse, test) for anyone signed in. Callers present a bearer token, or the web
//! console's session cookie plus its CSRF token on every state change. Every call past
//! authentication is audited.

use super::auth::{Need, Principal, NETWORK_SOURCES_NEED_SUPERADMIN};
use super::usage_log::{export, filter_from, read_log};
use crate::audit::{AuditEvent, Filter};
use crate::config::AdminRole;
use crate::handler::Shared;
use policy::StoreError;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// One admin request, already read off the wire.
pub struct AdminRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
    /// The `Cookie` header (a console session).
    pub cookie: Option<String>,
    /// The `x-csrf-token` header.
    pub csrf: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub peer: Option<String>,
}

/// Status, content type, extra headers and body.
pub struct AdminResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl AdminResponse {
    /// A JSON answer.
    pub fn json(status: u16, v: Value) -> Self {
        let mut body = serde_json::to_vec_pretty(&v).expect("JSON values serialize");
        body.push(b'\n');
        AdminResponse {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body,
        }
    }

    /// A JSON `{"error": message}`.
    pub fn error(status: u16, message: impl Into<String>) -> Self {
        Self::json(status, json!({ "error": message.into() }))
    }

    /// A 422 for a policy that does not compile: the message, and where to fix it as data
    /// (the console marks the line).
    pub fn invalid_policy(e: &policy::PolicyError) -> Self {
        Self::json(
            422,
            json!({
                "error": e.to_string(),
                "errors": [{"line": e.line, "column": e.column, "field": e.field, "message": e.message}],
            }),
        )
    }

    /// A plain answer of `content_type`.
    pub fn text(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        AdminResponse {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// The API routes a request names: the part after `/v1/`.
enum Route<'a> {
    Session,
    AuditEvents,
    AuditEvent(&'a str),
    AuditStats,
    AuditDestinations,
    AuditVerify,
    /// Insider risk: every user (`false`) or only alerts (`true`).
    Risk(bool),
    /// Insider risk: the user behind a pseudonym (investigators and superadmins, audited).
    RiskReveal,
    Rules,
    RulesTest,
    PolicyValidate(&'a str),
    PolicyDraftDiff(&'a str),
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
        ["session"] => Route::Session,
        ["audit", "events"] => Route::AuditEvents,
        ["audit", "events", id] => Route::AuditEvent(id),
        ["audit", "stats"] => Route::AuditStats,
        ["audit", "verify"] => Route::AuditVerify,
        ["audit", "destinations"] => Route::AuditDestinations,
        ["risk", "users"] => Route::Risk(false),
        ["risk", "alerts"] => Route::Risk(true),
        ["risk", "reveal"] => Route::RiskReveal,
        ["rules"] => Route::Rules,
        ["rules", "test"] => Route::RulesTest,
        ["policies", t, "validate"] => Route::PolicyValidate(t),
        ["policies", t, "draft-diff"] => Route::PolicyDraftDiff(t),
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
    let principal = match authenticate(shared, &req) {
        Ok(p) => p,
        Err((status, message)) => {
            audit(shared, &req, None, "-", status).await;
            return AdminResponse::error(status, message);
        }
    };
    let params: HashMap<String, String> = req
        .query
        .as_deref()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    // The tenant this call touches: the path's for policies; for the audit log the `tenant`
    // parameter, or the caller's own tenant.
    let (need, tenant) = match &route {
        Route::AuditEvents
        | Route::AuditEvent(_)
        | Route::AuditStats
        | Route::AuditDestinations
        | Route::Risk(_)
        | Route::AuditVerify => (
            Some(Need::AuditRead),
            params
                .get("tenant")
                .cloned()
                .or_else(|| principal.tenant.clone()),
        ),
        Route::Policy(t)
        | Route::PolicyHistory(t)
        | Route::PolicyDiff(t)
        | Route::PolicyDryRun(t)
        | Route::PolicyValidate(t)
        | Route::PolicyDraftDiff(t)
        | Route::PolicyRollback(t, _) => (Some(Need::Policy), Some(t.to_string())),
        // Who the caller is, and the shipped rule packs: no tenant's data.
        Route::RiskReveal => (
            Some(Need::RevealIdentity),
            params
                .get("tenant")
                .cloned()
                .or_else(|| principal.tenant.clone()),
        ),
        Route::Session | Route::Rules | Route::RulesTest => (None, principal.tenant.clone()),
    };
    let allowed = match (need, &tenant) {
        (None, _) => true,
        (Some(need), Some(t)) => principal.may(need, t),
        // Only a superadmin may read every tenant's log at once.
        (Some(need), None) => principal.tenant.is_none() && principal.may(need, ""),
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

/// The caller: a bearer token, else a console session, whose state changes must carry its
/// CSRF token. `Err`: the status and why.
fn authenticate(shared: &Shared, req: &AdminRequest) -> Result<Principal, (u16, &'static str)> {
    if req.authorization.is_some() {
        return shared
            .admin_tokens
            .authenticate(req.authorization.as_deref())
            .ok_or((401, "a valid admin bearer token is required"));
    }
    let session = shared
        .ui_sessions
        .find(req.cookie.as_deref())
        .ok_or((401, "sign in (or send an admin bearer token)"))?;
    let safe = matches!(req.method.as_str(), "GET" | "HEAD");
    if !safe && !super::console::csrf_ok(&session, req.csrf.as_deref()) {
        return Err((403, "this change needs the session's CSRF token"));
    }
    Ok(session.principal)
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
        ("GET", Route::Session) => {
            let session = shared.ui_sessions.find(req.cookie.as_deref());
            AdminResponse::json(
                200,
                super::console::whoami(principal, session.map(|s| s.csrf)),
            )
        }
        ("GET", Route::AuditEvents) => {
            let filter = match filter_from(&params, tenant) {
                Ok(f) => f,
                Err(e) => return AdminResponse::error(400, e),
            };
            if let (Some(ch), None | Some("json")) =
                (&shared.fleet_log, params.get("format").map(String::as_str))
            {
                // The whole fleet's log; pages by time, since each node numbers its own rows.
                return match ch.query(&filter).await {
                    Ok(events) => {
                        let next = events.last().map(|e| e.time.clone());
                        AdminResponse::json(200, json!({ "events": events, "next_time": next }))
                    }
                    Err(e) => AdminResponse::error(503, e.to_string()),
                };
            }
            match params.get("format").map(String::as_str) {
                None | Some("json") => {
                    read_log(shared, move |db| {
                        let events = db.query(&filter)?;
                        let next = events.last().map(|e| e.seq);
                        let key = if filter.newest_first {
                            "next_before"
                        } else {
                            "next_after"
                        };
                        Ok(json!({ "events": events, key: next }))
                    })
                    .await
                }
                Some(format @ ("csv" | "jsonl")) => export(shared, filter, format).await,
                Some(other) => AdminResponse::error(
                    400,
                    format!("`format` is json, csv or jsonl, not `{other}`"),
                ),
            }
        }
        ("GET", Route::AuditEvent(id)) => {
            let filter = Filter {
                tenant,
                id: Some(id.to_string()),
                limit: 16,
                ..Filter::default()
            };
            if let Some(ch) = &shared.fleet_log {
                return match ch.query(&filter).await {
                    Ok(events) if events.is_empty() => {
                        AdminResponse::error(404, "no such event for this tenant")
                    }
                    Ok(events) => AdminResponse::json(200, json!({ "id": id, "events": events })),
                    Err(e) => AdminResponse::error(503, e.to_string()),
                };
            }
            let id = id.to_string();
            let r = read_log(shared, move |db| {
                let events = db.query(&filter)?;
                Ok(json!({ "id": id, "events": events }))
            })
            .await;
            // Another tenant's event is as absent as one that never was.
            if r.status == 200 && r.body.starts_with(b"{") {
                let v: Value = serde_json::from_slice(&r.body).unwrap_or_default();
                if v["events"].as_array().is_some_and(Vec::is_empty) {
                    return AdminResponse::error(404, "no such event for this tenant");
                }
            }
            r
        }
        ("GET", Route::Risk(alerts_only)) => {
            let day = match params.get("day") {
                None => crate::audit::event::now()[..10].to_string(),
                Some(d) if crate::risk::score::is_date(d) => d.clone(),
                Some(d) => {
                    return AdminResponse::error(
                        400,
                        format!("`day` must be YYYY-MM-DD, got {d:?}"),
                    )
                }
            };
            let baseline = match params.get("baseline").map(|b| b.parse::<i64>()) {
                None => shared.config.risk.baseline_days,
                Some(Ok(b)) if (7..=365).contains(&b) => b,
                Some(_) => {
                    return AdminResponse::error(400, "`baseline` is a number of days, 7 to 365")
                }
            };
            if shared.audit.is_none() {
                return AdminResponse::error(404, "the audit log is disabled in this deployment");
            }
            let risk_path = match refresh_rollup(shared).await {
                Ok(p) => p,
                Err(r) => return r,
            };
            let pseudonyms = shared.risk_pseudonyms.clone();
            let r = crate::risk::blocking(move || {
                let store = crate::risk::RiskStore::open(&risk_path)?;
                let mut risks = crate::risk::assess(
                    &store,
                    tenant.as_deref(),
                    &day,
                    baseline,
                    pseudonyms.as_ref(),
                )?;
                if alerts_only {
                    risks.retain(|r| r.alert);
                }
                Ok(json!({ "day": day, "baseline_days": baseline, "users": risks }))
            })
            .await;
            match r {
                Ok(v) => AdminResponse::json(200, v),
                Err(e) => AdminResponse::error(500, e.to_string()),
            }
        }
        ("POST", Route::RiskReveal) => {
            let Some(p) = shared.risk_pseudonyms.clone() else {
                return AdminResponse::error(
                    404,
                    "users are not pseudonymized in this deployment (risk.pseudonymize_users)",
                );
            };
            let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
                return AdminResponse::error(400, "expected JSON {\"pseudonym\": \"u-…\"}");
            };
            let Some(pseudonym) = body["pseudonym"]
                .as_str()
                .filter(|p| {
                    p.len() == 18
                        && p.starts_with("u-")
                        && p[2..]
                            .bytes()
                            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                })
                .map(str::to_string)
            else {
                return AdminResponse::error(
                    400,
                    "field `pseudonym`: expected u- and 16 hex digits",
                );
            };
            let Some(tenant) = tenant else {
                return AdminResponse::error(400, "name the pseudonym's `tenant`");
            };
            // Users seen since the last run are known too.
            let risk_path = match refresh_rollup(shared).await {
                Ok(p) => p,
                Err(r) => return r,
            };
            let (t, ps) = (tenant.clone(), pseudonym.clone());
            let found = crate::risk::blocking(move || {
                let users = crate::risk::RiskStore::open(&risk_path)?.users(Some(&t))?;
                Ok(p.reveal(&t, &ps, users.iter().map(|(_, u)| u.as_str()))
                    .map(str::to_string))
            })
            .await;
            // Who revealed whom is itself on the record.
            let on_record = reveal_audit(
                shared,
                req,
                principal,
                &tenant,
                &pseudonym,
                match &found {
                    Ok(Some(_)) => ("revealed", 200),
                    Ok(None) => ("not_found", 404),
                    Err(_) => ("error", 500),
                },
            )
            .await;
            if !on_record {
                return AdminResponse::error(
                    503,
                    "the reveal could not be recorded in the audit log, so it was not made",
                );
            }
            match found {
                Ok(Some(user)) => AdminResponse::json(
                    200,
                    json!({ "tenant": tenant, "pseudonym": pseudonym, "user": user }),
                ),
                Ok(None) => AdminResponse::error(404, "no user of this tenant has that pseudonym"),
                Err(e) => AdminResponse::error(500, e.to_string()),
            }
        }
        ("GET", Route::AuditDestinations) => {
            let filter = match filter_from(&params, tenant) {
                Ok(f) => f,
                Err(e) => return AdminResponse::error(400, e),
            };
            if let Some(ch) = &shared.fleet_log {
                return match ch.destinations(&filter).await {
                    Ok(d) => AdminResponse::json(200, json!({ "destinations": d })),
                    Err(e) => AdminResponse::error(503, e.to_string()),
                };
            }
            read_log(shared, move |db| {
                Ok(json!({ "destinations": db.destinations(&filter)? }))
            })
            .await
        }
        ("POST", Route::AuditVerify) if shared.fleet_log.is_some() => {
            let ch = shared.fleet_log.as_ref().expect("checked");
            match ch.verify().await {
                Ok(nodes) => {
                    let rows: u64 = nodes.iter().map(|(_, n)| n).sum();
                    AdminResponse::json(200, json!({ "ok": true, "rows": rows, "nodes": nodes }))
                }
                Err(problems) => AdminResponse::json(
                    409,
                    json!({ "ok": false, "error": problems.join("; "), "problems": problems }),
                ),
            }
        }
        ("POST", Route::AuditVerify) => {
            read_log(shared, |db| {
                let rows = db.verify()?;
                Ok(json!({ "ok": true, "rows": rows }))
            })
            .await
        }
        ("GET", Route::Rules) => super::dry_run::rules(shared, &params),
        ("POST", Route::RulesTest) => super::dry_run::test_rules(shared, &req.body),
        ("POST", Route::PolicyValidate(t)) => super::dry_run::validate(t, &req.body),
        ("POST", Route::PolicyDraftDiff(t)) => {
            let Ok(draft) = std::str::from_utf8(&req.body) else {
                return AdminResponse::error(422, "the policy must be UTF-8 YAML");
            };
            AdminResponse::text(200, "text/x-diff", store.diff_draft(t, draft))
        }
        ("GET", Route::AuditStats) => {
            let by = params.get("by").cloned().unwrap_or_else(|| "day".into());
            let filter = match filter_from(&params, tenant) {
                Ok(f) => f,
                Err(e) => return AdminResponse::error(400, e),
            };
            if let Some(ch) = &shared.fleet_log {
                return match ch.stats(&filter, &by).await {
                    Ok(rows) => AdminResponse::json(
                        200,
                        json!({ "by": by, "counts": rows.into_iter().map(|(k, n)| json!({"key": k, "count": n})).collect::<Vec<_>>() }),
                    ),
                    Err(e) => AdminResponse::error(503, e.to_string()),
                };
            }
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
            let draft = match super::dry_run::compile(t, &origin, text) {
                Ok(draft) => draft,
                Err(reply) => return reply,
            };
            if !principal.may_replace(store.get(t).doc(), draft.doc()) {
                return AdminResponse::error(403, NETWORK_SOURCES_NEED_SUPERADMIN);
            }
            match &shared.fleet_policies {
                Some(pg) => fleet_reply(&store, pg.apply(text, &principal.name).await),
                None => {
                    let applied = store.apply(&origin, text, &principal.name);
                    if applied.is_ok() {
                        crate::serve::warn_identity_overlaps(&store);
                    }
                    version_reply(applied, 200)
                }
            }
        }
        ("GET", Route::PolicyHistory(t)) => {
            let history = match &shared.fleet_policies {
                Some(pg) => match pg.history(t).await {
                    Ok(h) => h,
                    Err(e) => return fleet_error(e),
                },
                None => store.history(t),
            };
            let versions: Vec<Value> = history
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
            if let Some(pg) = &shared.fleet_policies {
                let texts = async {
                    Ok::<_, crate::fleet::policies::PgError>((
                        pg.version_text(t, from).await?,
                        pg.version_text(t, to).await?,
                    ))
                };
                return match texts.await {
                    Ok((old, new)) => AdminResponse::text(
                        200,
                        "text/x-diff",
                        policy::unified_diff(t, from, &old, to, &new),
                    ),
                    Err(e) => fleet_error(e),
                };
            }
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
            if principal.role != AdminRole::Superadmin {
                // The version brought back must keep today's network sources too.
                let text = match &shared.fleet_policies {
                    Some(pg) => pg.version_text(t, version).await.map_err(fleet_error),
                    None => store
                        .version_text(t, version)
                        .map_err(|e| version_reply(Err(e), 200)),
                };
                let old = match text {
                    Ok(text) => {
                        policy::CompiledPolicy::from_yaml(&format!("{t} v{version}"), &text)
                    }
                    Err(reply) => return reply,
                };
                if old.is_ok_and(|old| !principal.may_replace(store.get(t).doc(), old.doc())) {
                    return AdminResponse::error(403, NETWORK_SOURCES_NEED_SUPERADMIN);
                }
            }
            match &shared.fleet_policies {
                Some(pg) => fleet_reply(&store, pg.rollback(t, version, &principal.name).await),
                None => version_reply(store.rollback(t, version, &principal.name), 200),
            }
        }
        ("POST", Route::PolicyDryRun(t)) => super::dry_run::dry_run(shared, t, &req.body).await,
        (_, _) => AdminResponse::error(405, format!("{method} is not allowed here")),
    }
}

/// A change made in PostgreSQL (fleet mode), installed here at once (the other nodes follow
/// its announcement).
fn fleet_reply(
    store: &policy::Store,
    r: Result<(policy::VersionInfo, String), crate::fleet::policies::PgError>,
) -> AdminResponse {
    match r {
        Ok((info, text)) => {
            if let Err(e) = store.install_version(&info, &text) {
                tracing::error!(error = %e, "a version stored in PostgreSQL did not install here");
            }
            version_reply(Ok(info), 200)
        }
        Err(e) => fleet_error(e),
    }
}

fn fleet_error(e: crate::fleet::policies::PgError) -> AdminResponse {
    use crate::fleet::policies::PgError;
    match e {
        PgError::Policy(e) => version_reply(Err(e), 200),
        e => AdminResponse::error(
            503,
            format!("the shared policy store is unreachable, so nothing was changed: {e}"),
        ),
    }
}

fn version_reply(r: Result<policy::VersionInfo, StoreError>, ok: u16) -> AdminResponse {
    match r {
        Ok(v) => AdminResponse::json(ok, serde_json::to_value(v).expect("serializes")),
        Err(StoreError::Invalid(e)) => AdminResponse::invalid_policy(&e),
        Err(e @ StoreError::NoSuchVersion { .. }) => AdminResponse::error(404, e.to_string()),
        Err(e) => {
            tracing::error!(error = %e, "storing a policy version failed");
            AdminResponse::error(500, e.to_string())
        }
    }
}

/// Brings the insider-risk rollup up to date from the usage log; its path, or the answer to
/// give when the log cannot be read.
async fn refresh_rollup(shared: &Arc<Shared>) -> Result<std::path::PathBuf, AdminResponse> {
    let cfg = &shared.config;
    let source = crate::risk::Source::of(cfg, shared.fleet_log.as_ref());
    let risk_path = crate::risk::rollup_path(&cfg.state_dir);
    crate::risk::catch_up(&source, &risk_path)
        .await
        .map(|_| risk_path)
        .map_err(|e| AdminResponse::error(503, e.to_string()))
}

/// Records a pseudonym reveal: who asked, for which pseudonym, and whether it named someone.
async fn reveal_audit(
    shared: &Arc<Shared>,
    req: &AdminRequest,
    who: &Principal,
    tenant: &str,
    pseudonym: &str,
    (decision, status): (&str, u16),
) -> bool {
    let Some(w) = &shared.audit else {
        return false;
    };
    let event = AuditEvent {
        id: crate::handler::request_id(),
        time: crate::audit::event::now(),
        kind: "admin".into(),
        tenant: tenant.into(),
        user: Some(who.name.clone()),
        client_addr: req.peer.clone(),
        host: "admin".into(),
        endpoint: Some(format!("risk.reveal {pseudonym}")),
        decision: decision.into(),
        status,
        ..Default::default()
    };
    match w.record(event).await {
        Ok(_) => true,
        Err(e) => {
            tracing::error!(error = %e, "could not audit a pseudonym reveal");
            false
        }
    }
}

/// Records an admin call (who, what, for which tenant, and the outcome).
pub(super) async fn audit(
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
