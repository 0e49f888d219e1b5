//! The admin API and web console: security admins manage their tenant's policies and
//! auditors read their tenant's usage log, with hashed bearer tokens (or a console session)
//! and roles; every call is itself audited.

pub mod api;
pub mod auth;
pub mod console;
pub mod dry_run;
mod usage_log;
