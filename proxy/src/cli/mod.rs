//! The user-facing commands besides `serve`: each composes library calls, prints human or JSON
//! output, and returns an exit code.

pub mod args;
pub mod audit;
pub mod eval;
pub mod policy;
pub mod redteam;
pub mod remote;
pub mod risk;
pub mod rules;
pub mod scan;
