use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// The stable taxonomy shared by rules, policies, the audit log and the model (DESIGN.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Secret,
    Pii,
    Pci,
    Phi,
    Financial,
    SourceCode,
    Confidential,
    PromptInjection,
    Jailbreak,
    Harmful,
}

impl Category {
    /// The snake_case name used in YAML, JSON and audit rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Secret => "secret",
            Category::Pii => "pii",
            Category::Pci => "pci",
            Category::Phi => "phi",
            Category::Financial => "financial",
            Category::SourceCode => "source_code",
            Category::Confidential => "confidential",
            Category::PromptInjection => "prompt_injection",
            Category::Jailbreak => "jailbreak",
            Category::Harmful => "harmful",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a leak of this entity is; policies may key on it and reports sort by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// One detected value: what it is and where, never the value itself, so it can be logged safely.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule id from the pack, stable across releases (shared, so findings are cheap to copy).
    pub rule: Arc<str>,
    pub category: Category,
    /// The snake_case entity name (`aws_access_key`, `email`, ...).
    pub entity: Arc<str>,
    pub severity: Severity,
    /// Byte offset of the value in the scanned text.
    pub start: usize,
    /// Byte offset one past the value.
    pub end: usize,
    /// Confidence in [0, 1].
    pub score: f64,
    /// The validator that confirmed the value, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validator: Option<&'static str>,
    /// The encodings the value was wrapped in (`base64`, `hex>base64`, ...), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoded_from: Option<String>,
}
