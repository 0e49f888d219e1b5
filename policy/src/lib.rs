//! Tenant policies: what happens to a request, given what the classifiers found in it.
//!
//! A policy is parsed, validated and compiled up front ([`CompiledPolicy::from_yaml`]); errors
//! name the file, line, column and field. Evaluation is pure (`findings → Decision`), so
//! `promptwall scan` and the proxy share exactly the same logic, and knows nothing of HTTP.
//! The [`Store`] versions policies and swaps them atomically.

mod compile;
mod directory;
pub mod document;
mod evaluate;
pub mod identity;
pub mod plan;
mod pseudonyms;
pub mod redact;
mod store;
mod vault;
pub mod yaml;

pub use compile::{CompiledPolicy, PolicyError, DEFAULT_POLICY_YAML};
pub use document::{
    Action, Direction, Mismatch, Mode, OnError, Operator, PolicyDoc, Uninspectable, Unsanctioned,
};
pub use evaluate::{model_matches, Context, Decision, LabelsOutcome, Located, Reason};
pub use identity::{BadCredentials, Identity, IdentityInput, SecretHash};
pub use plan::{Redaction, RedactionPlan};
pub use pseudonyms::Pseudonyms;
pub use redact::{Redacted, TenantKey};
pub use store::{now_rfc3339, unified_diff, Store, StoreError, VersionInfo};
pub use vault::Vault;
