//! The admin API: security admins manage their tenant's policies and auditors read their
//! tenant's usage log, with hashed bearer tokens and roles; every call is itself audited.

pub mod api;
pub mod auth;
