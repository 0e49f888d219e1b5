//! Sample audit records and scratch databases: for the audit, shipping and query benchmarks.

use super::event::ReasonRow;
use super::AuditEvent;

/// A chat request record as the proxy writes one (`tenant`, user `user{i % 500}` in group
/// `eng`, OpenAI chat completions), allowed; callers set the decision and reasons they need.
pub fn chat_request(i: usize, tenant: String, time: String) -> AuditEvent {
    AuditEvent {
        id: format!("{i:x}-bench"),
        time,
        kind: "ai_request".into(),
        tenant,
        user: Some(format!("user{}", i % 500)),
        groups: vec!["eng".into()],
        client_addr: Some("10.1.2.3".into()),
        provider: Some("openai".into()),
        host: "api.openai.com".into(),
        endpoint: Some("/v1/chat/completions".into()),
        model: Some("gpt-4o-mini".into()),
        request_bytes: 1800,
        decision: "allow".into(),
        mode: "enforce".into(),
        policy_version: 3,
        classifier: "ok".into(),
        segments: 3,
        inspect_us: 42,
        status: 200,
        ..AuditEvent::default()
    }
}

/// The reason of a request blocked for an AWS key.
pub fn blocked_for_a_key() -> ReasonRow {
    ReasonRow {
        rule: "no-credentials".into(),
        action: "block".into(),
        category: Some("secret".into()),
        entity: "aws_access_key".into(),
        count: 1,
        max_score: 0.99,
    }
}

/// The reason of a request whose `count` email addresses were masked.
pub fn redacted_email(count: usize) -> ReasonRow {
    ReasonRow {
        rule: "mask-pii".into(),
        action: "redact".into(),
        category: Some("pii".into()),
        entity: "email".into(),
        count,
        max_score: 0.9,
    }
}

/// Removes the SQLite database at `path` with its WAL and shared-memory files, if present.
pub fn remove_database(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
