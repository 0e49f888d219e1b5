//! The audit record (DESIGN.md §4).

use serde::{Deserialize, Serialize};

/// Why a rule fired, as stored: no values, only names, counts and scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonRow {
    pub rule: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub entity: String,
    pub count: usize,
    pub max_score: f64,
}

/// What inspection read of a request, so an auditor can tell what was and was not checked.
/// Pointers name JSON locations only; a key that does not look like a field name is shown as
/// `~`, so no user-written text reaches the log through a pointer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoverageRow {
    /// JSON pointers of the texts scanned (at most [`CoverageRow::MAX_POINTERS`]).
    pub scanned: Vec<String>,
    /// Scanned texts beyond the listed ones.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub scanned_more: usize,
    /// Other places scanned, counted: JSON strings and keys outside the provider's known
    /// fields, form fields, query parameters and headers.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub scanned_other: usize,
    /// Parts not scanned, and why (images, binary documents, token ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedRow>,
    /// What the model read, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classifier: Option<ClassifierCoverage>,
}

impl CoverageRow {
    /// Nothing of the body was inspected, and why (the pointer `""` is the whole body).
    pub fn whole_body_skipped(why: &str) -> Self {
        CoverageRow {
            skipped: vec![SkippedRow {
                pointer: String::new(),
                why: why.to_string(),
            }],
            ..Default::default()
        }
    }

    /// Pointers listed per event; the rest are counted.
    pub const MAX_POINTERS: usize = 64;
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One part inspection did not read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedRow {
    pub pointer: String,
    pub why: String,
}

/// The encoder's windows over the joined prompt text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierCoverage {
    pub text_bytes: usize,
    /// Byte ranges read by the encoder.
    pub windows: Vec<(usize, usize)>,
    /// Windows the text has in all: those in `windows`, plus those settled as clearly benign
    /// by the first stage, plus those left unread over the budget.
    pub windows_total: usize,
    /// Windows the first stage settled (the cascade), now or on an earlier request.
    #[serde(default)]
    pub settled: usize,
    /// Windows answered from the cache (text resent from an earlier request).
    #[serde(default)]
    pub cached: usize,
    /// Uncertain windows the per-text budget left unread.
    #[serde(default)]
    pub unread: usize,
}

/// A JSON pointer safe to log: numeric and field-name-shaped segments kept, others `~`.
pub fn safe_pointer(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for (i, seg) in pointer.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let field = seg.len() <= 40
            && seg.bytes().all(|b| {
                b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.' || b == b':'
            });
        out.push_str(if field { seg } else { "~" });
    }
    out
}

/// One audited request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Row number, assigned on insert.
    #[serde(default)]
    pub seq: i64,
    pub id: String,
    /// RFC 3339, UTC.
    pub time: String,
    /// `ai_request`, `tunnel` or `blocked_destination`.
    pub kind: String,
    pub tenant: String,
    pub user: Option<String>,
    pub groups: Vec<String>,
    pub client_addr: Option<String>,
    pub provider: Option<String>,
    pub host: String,
    /// The name a tunnelled client's TLS ClientHello asked for, when it disagreed with the
    /// `CONNECT` target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    pub endpoint: Option<String>,
    pub model: Option<String>,
    /// The MCP tool a `tools/call` named (never its arguments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    pub stream: bool,
    pub request_bytes: u64,
    pub response_bytes: u64,
    /// `allow`, `log`, `redact`, `coach`, `block`, or `would_<action>` in monitor mode.
    pub decision: String,
    pub mode: String,
    pub policy_version: u64,
    pub reasons: Vec<ReasonRow>,
    pub redactions: usize,
    pub response_decision: Option<String>,
    pub response_rules: Vec<String>,
    /// `off`, `ok`, or the classifier's error.
    pub classifier: String,
    pub labels: Vec<String>,
    /// Scanned text segments, and parts skipped as unscannable.
    pub segments: usize,
    pub skipped: usize,
    pub inspect_us: u64,
    pub upstream_ms: u64,
    pub total_ms: u64,
    pub status: u16,
    /// Tokens the provider reported (response events), for usage and cost questions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    /// What was scanned and what was not (request events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<CoverageRow>,
    /// Only on a `retention` event: what it removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
    #[serde(default)]
    pub prev_hash: String,
    #[serde(default)]
    pub hash: String,
}

/// What a retention run removed from one tenant's log, so the chain still verifies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Events older than this (RFC 3339) were removed.
    pub before: String,
    pub rows: u64,
    pub first_seq: i64,
    pub last_seq: i64,
    /// SHA-256 over the removed rows' `seq:hash` lines, in order.
    pub digest: String,
}

impl AuditEvent {
    /// The canonical bytes the chain hashes: every field but `seq` and `hash`.
    pub fn canonical(&self) -> Vec<u8> {
        let mut c = self.clone();
        c.seq = 0;
        c.hash = String::new();
        serde_json::to_vec(&c).expect("audit events serialize")
    }

    /// The category names of the reasons, for filtering.
    pub fn categories(&self) -> Vec<String> {
        categories_of(&self.reasons)
    }
}

/// The distinct categories of `reasons`, sorted: what the `categories` column and the tag
/// index hold for an event.
pub fn categories_of(reasons: &[ReasonRow]) -> Vec<String> {
    let mut v: Vec<String> = reasons.iter().filter_map(|r| r.category.clone()).collect();
    v.sort();
    v.dedup();
    v
}

/// Now, RFC 3339 in UTC with milliseconds (sorts as text).
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_keep_structure_and_hide_free_text_keys() {
        assert_eq!(
            safe_pointer("/messages/0/content/1/text"),
            "/messages/0/content/1/text"
        );
        assert_eq!(
            safe_pointer("/metadata/my secret AKIAQWERTYUIOPASDFGH/x"),
            "/metadata/~/x"
        );
        assert_eq!(safe_pointer(&format!("/{}", "k".repeat(41))), "/~");
        assert_eq!(safe_pointer(""), "");
    }
}
