//! Text to findings for PromptWall.
//!
//! The crate knows nothing of HTTP: it takes text and returns [`Finding`]s with byte offsets into
//! that text. Rule packs (YAML data in `rules/packs/`) are compiled once into a [`PatternEngine`],
//! which is immutable and searched with `&self`, so one engine is shared by every worker thread
//! behind an `Arc` and replaced wholesale when packs change.

pub mod decode;
mod finding;
pub mod normalize;
pub mod patterns;
pub mod rules;
pub mod validators;

pub use finding::{Category, Finding, Severity};
pub use patterns::{EngineError, PatternEngine};
pub use rules::{RuleError, RulePack};

/// The rule packs compiled into the binary, so `promptwall serve` works with no files at all.
pub const BUILTIN_PACKS: &[(&str, &str)] = &[
    (
        "secrets.yaml",
        include_str!("../../rules/packs/secrets.yaml"),
    ),
    ("pii.yaml", include_str!("../../rules/packs/pii.yaml")),
    ("pci.yaml", include_str!("../../rules/packs/pci.yaml")),
    (
        "financial.yaml",
        include_str!("../../rules/packs/financial.yaml"),
    ),
    ("phi.yaml", include_str!("../../rules/packs/phi.yaml")),
];

/// Parses and compiles the built-in packs; fails only if a shipped pack is broken.
pub fn builtin_engine() -> Result<PatternEngine, EngineError> {
    let packs = BUILTIN_PACKS
        .iter()
        .map(|(name, text)| RulePack::from_yaml(name, text))
        .collect::<Result<Vec<_>, _>>()?;
    PatternEngine::new(&packs)
}
