//! Responses: an SSE parser on bytes, the guard that runs over its events, and whole answers.

pub mod guard;
pub mod mcp;
pub mod sse;
pub mod whole;
