//! Text to findings for PromptWall.
//!
//! The crate knows nothing of HTTP: it takes text and returns [`Finding`]s with byte offsets into
//! that text. Rule packs (YAML data in `rules/packs/`) are compiled once into a [`PatternEngine`],
//! which is immutable and searched with `&self`, so one engine is shared by every worker thread
//! behind an `Arc` and replaced wholesale when packs change.

pub mod decode;
pub mod eval;
mod finding;
mod keyed;
pub mod normalize;
pub mod onnx;
pub mod patterns;
pub mod redteam;
pub mod rewrite;
pub mod rules;
mod spans;
pub mod validators;

pub use finding::{Category, Finding, Severity};
pub use patterns::{EngineError, PatternEngine, Scanned, TextsScanned};
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
    load_engine(true, None)
}

/// The built-in packs (when `builtin`), then every `*.yaml` pack in `dir` in name order.
pub fn load_packs(
    builtin: bool,
    dir: Option<&std::path::Path>,
) -> Result<Vec<RulePack>, RuleError> {
    let mut packs = Vec::new();
    if builtin {
        for (name, text) in BUILTIN_PACKS {
            packs.push(RulePack::from_yaml(name, text)?);
        }
    }
    if let Some(dir) = dir {
        let io = |source| RuleError::Io {
            file: dir.display().to_string(),
            source,
        };
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        for f in files {
            packs.push(RulePack::from_file(&f)?);
        }
    }
    Ok(packs)
}

/// Loads packs as [`load_packs`] does and compiles them into one engine.
pub fn load_engine(
    builtin: bool,
    dir: Option<&std::path::Path>,
) -> Result<PatternEngine, EngineError> {
    PatternEngine::new(&load_packs(builtin, dir)?)
}
