//! Test and load tooling for PromptWall: a mock LLM upstream and a load client.
//!
//! The mock stands in for the providers, which this machine cannot reach. Tests, demos and load
//! runs all use it, in-process (as a library) or as the `mock-llm` binary.

pub mod mock;
pub mod streams;
pub mod tls;
