//! Fleet mode: what many PromptWall nodes share through stores platform teams already run.
//! Each store is optional; a node without them keeps everything to itself.

pub mod clickhouse;
pub mod policies;
pub mod vault;
