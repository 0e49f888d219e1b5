//! PromptWall's proxy: listeners, TLS interception, provider adapters and the request pipeline.
//!
//! The binary (`main.rs`) is a thin CLI over this library, so integration tests and tools can
//! drive the same code.

pub mod admin;
pub mod audit;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod encoding;
pub mod extract;
pub mod fleet;
pub mod forward;
pub mod handler;
pub mod identity;
pub mod inspect;
pub mod listener;
pub mod metrics;
pub mod mitm;
pub mod providers;
pub mod reply;
pub mod risk;
pub mod route;
pub mod serve;
pub mod state;
pub mod stream;
pub mod telemetry;
pub mod upstream;
pub mod ws;
