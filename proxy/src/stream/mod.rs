//! Response streams: an SSE parser on bytes, and the rewriters that run over its events.

pub mod guard;
pub mod mcp;
pub mod sse;
