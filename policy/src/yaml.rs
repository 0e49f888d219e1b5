//! Reading YAML documents with serde so that an error names the file, line, column and field
//! once: serde_yaml's own message repeats the path and the location.

use crate::PolicyError;
use serde::de::DeserializeOwned;

/// Parses `text` (named `origin` in errors) as a `T`; policies, the server config and policy
/// test cases go through here so that they report a mistake the same way (rule packs, read
/// by `classifiers`, keep their own reader).
pub fn from_str<T: DeserializeOwned>(origin: &str, text: &str) -> Result<T, PolicyError> {
    let de = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let loc = inner.location();
        let mut message = inner.to_string();
        if let Some(l) = &loc {
            let tail = format!(" at line {} column {}", l.line(), l.column());
            if let Some(m) = message.strip_suffix(&tail) {
                message = m.to_string();
            }
        }
        // "rules[0]: unknown field ..." names (a prefix of) the path the error already shows.
        if let Some((path, m)) = message.split_once(": ") {
            if !path.is_empty() && field.starts_with(path) {
                message = m.to_string();
            }
        }
        PolicyError {
            origin: origin.to_string(),
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            field,
            message,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        items: Vec<Item>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        name: String,
    }

    #[test]
    fn the_place_is_said_once() {
        let e = from_str::<Doc>("d.yaml", "items:\n  - name: a\n  - nme: b\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(3), Some(5)));
        assert_eq!(e.field, "items[1].nme");
        assert_eq!(
            e.to_string(),
            "d.yaml:3:5: field `items[1].nme`: unknown field `nme`, expected `name`"
        );
        let e = from_str::<Doc>("d.yaml", "items: 5\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "d.yaml:1:8: field `items`: invalid type: integer `5`, expected a sequence"
        );
    }
}
