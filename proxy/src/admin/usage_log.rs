//! The usage log's reads behind the admin API: query filters from URL parameters, exports
//! (CSV an auditor opens in a spreadsheet, or JSON lines), and reads on their own connection.

use super::api::AdminResponse;
use crate::audit::{log_time, AuditStore, Filter};
use crate::handler::Shared;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// The filter an auditor's URL parameters ask for, within the caller's tenant.
pub(super) fn filter_from(
    params: &HashMap<String, String>,
    tenant: Option<String>,
) -> Result<Filter, String> {
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
        since: get("since").map(|t| log_time(&t)).transpose()?,
        until: get("until").map(|t| log_time(&t)).transpose()?,
        limit,
        after,
        before: match get("before") {
            Some(b) => Some(b.parse::<i64>().map_err(|_| "`before` must be a number")?),
            None => None,
        },
        newest_first: get("order").as_deref() == Some("newest"),
        id: None,
    })
}

/// The events of `filter` as CSV or JSON lines, for download (up to `limit`, 10,000).
pub(super) async fn export(shared: &Arc<Shared>, filter: Filter, format: &str) -> AdminResponse {
    let csv = format == "csv";
    let r = read_log(shared, move |db| {
        let events = db.query(&filter)?;
        Ok(Value::Array(
            events
                .into_iter()
                .map(|e| serde_json::to_value(e).expect("events serialize"))
                .collect(),
        ))
    })
    .await;
    if r.status != 200 {
        return r;
    }
    let events: Vec<Value> = serde_json::from_slice(&r.body).unwrap_or_default();
    let body = if csv {
        csv_of(&events)
    } else {
        events.iter().map(|e| format!("{e}\n")).collect::<String>()
    };
    let (ct, ext) = if csv {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/x-ndjson", "jsonl")
    };
    AdminResponse::text(200, ct, body).with(
        "content-disposition",
        format!("attachment; filename=\"promptwall-events.{ext}\""),
    )
}

/// Columns an auditor reads in a spreadsheet; list fields are joined with `;`.
const CSV_COLUMNS: &[&str] = &[
    "seq",
    "id",
    "time",
    "kind",
    "tenant",
    "user",
    "provider",
    "host",
    "endpoint",
    "model",
    "tool",
    "decision",
    "status",
    "rules",
    "categories",
    "redactions",
    "response_decision",
    "total_ms",
];

pub(super) fn csv_of(events: &[Value]) -> String {
    // A leading `=`, `+`, `-` or `@` would run as a formula in a spreadsheet: quote it inert.
    let cell = |s: String| {
        if s.starts_with(['=', '+', '-', '@']) {
            crate::cli::audit::csv_field(&format!("'{s}"))
        } else {
            crate::cli::audit::csv_field(&s)
        }
    };
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for e in events {
        let reasons = e["reasons"].as_array().cloned().unwrap_or_default();
        let pick = |k: &str| -> String {
            let mut v: Vec<String> = reasons
                .iter()
                .filter_map(|r| r[k].as_str().map(str::to_string))
                .collect();
            v.dedup();
            v.join(";")
        };
        let row: Vec<String> = CSV_COLUMNS
            .iter()
            .map(|c| match *c {
                "rules" => pick("rule"),
                "categories" => pick("category"),
                c => match &e[c] {
                    Value::Null => String::new(),
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                },
            })
            .map(cell)
            .collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Runs a read on its own connection off the async workers (WAL lets it run beside the writer).
pub(super) async fn read_log<F>(shared: &Arc<Shared>, f: F) -> AdminResponse
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
