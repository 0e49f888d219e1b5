//! Redaction's last step: the redacted texts written back into the body the client sent
//! (JSON values and keys in place, form fields, plain text), so only the values change.

use super::{part_pointer, plain_part};
use crate::extract::{self, Body};
use crate::providers::{self, Place, Segment};
use bytes::Bytes;
use serde_json::Value;

/// Writes redacted texts back into the body and serializes it: JSON values in place first,
/// then keys, deepest first (renaming a key changes the pointers below it); form fields; a
/// text body. A transcoded body goes out as UTF-8.
pub(super) fn rewrite(body: &mut Body, segments: &[Segment], texts: Vec<Option<String>>) -> Bytes {
    let all = segments.iter().zip(texts);
    // Form fields and multipart parts may share a name: they are matched by their order, every
    // segment of their kind (changed or not) taking the next field or part it names.
    let ordered = |place| all.clone().filter(move |(s, _)| s.place == place);
    let changed = all.clone().filter_map(|(seg, new)| new.map(|n| (seg, n)));
    match body {
        Body::Json { value, .. } => {
            let mut keys = Vec::new();
            for (seg, new) in changed {
                match seg.place {
                    Place::Key => keys.push((seg.pointer.as_str(), new)),
                    Place::Value => {
                        if let Some(slot) = value.pointer_mut(&seg.pointer) {
                            *slot = Value::String(new);
                        }
                    }
                    Place::Base64 => {
                        if let Some(slot) = value.pointer_mut(&seg.pointer) {
                            let encoded = providers::encode_file(slot.as_str().unwrap_or(""), &new);
                            *slot = Value::String(encoded);
                        }
                    }
                    _ => {}
                }
            }
            keys.sort_by_key(|(p, _)| std::cmp::Reverse(p.matches('/').count()));
            for (pointer, new) in keys {
                rename_key(value, pointer, new);
            }
            Bytes::from(serde_json::to_vec(value).expect("JSON values serialize"))
        }
        Body::Form(fields) => {
            // One segment per field, in field order.
            for ((_, new), field) in ordered(Place::Form).zip(fields.iter_mut()) {
                if let Some(new) = new {
                    let (k, v) = new.split_once('=').unwrap_or((new.as_str(), ""));
                    *field = (k.to_string(), v.to_string());
                }
            }
            Bytes::from(extract::form::encode(fields))
        }
        Body::Text { text, .. } => {
            if let Some((_, new)) = changed.into_iter().find(|(s, _)| s.place == Place::Text) {
                *text = new;
            }
            Bytes::from(text.clone().into_bytes())
        }
        Body::Multipart { boundary, parts } => {
            // Part segments come in part order (one per plain part; files read through an
            // extractor have none); each takes the next part with its pointer.
            let mut at = 0;
            for (seg, new) in ordered(Place::Part) {
                while at < parts.len()
                    && (seg.pointer != part_pointer(&parts[at]) || plain_part(&parts[at]).is_none())
                {
                    at += 1;
                }
                if let (Some(new), Some(part)) = (new, parts.get_mut(at)) {
                    part.data = Bytes::from(new.into_bytes());
                }
                at += 1;
            }
            Bytes::from(extract::multipart::encode(boundary, parts))
        }
        // Text extracted from a document cannot be written back (see `decide`).
        Body::File(_) | Body::Empty | Body::Unreadable(_) => Bytes::new(),
    }
}

/// The query string and header values after redaction: a new path and query when a query
/// value changed (every parameter re-encoded, in order), and each changed header's new value.
pub(super) fn rewrite_envelope(
    path_and_query: &str,
    segments: &[Segment],
    texts: &[Option<String>],
) -> (Option<String>, Vec<(String, String)>) {
    let changed = |place| {
        segments
            .iter()
            .zip(texts)
            .any(|(s, t)| s.place == place && t.is_some())
    };
    let path = changed(Place::Query).then(|| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (seg, new) in segments.iter().zip(texts) {
            if seg.place == Place::Query {
                let text = new.as_deref().unwrap_or(&seg.text);
                let (k, v) = text.split_once('=').unwrap_or((text, ""));
                q.append_pair(k, v);
            }
        }
        let base = path_and_query.split('?').next().unwrap_or(path_and_query);
        format!("{base}?{}", q.finish())
    });
    let headers = segments
        .iter()
        .zip(texts)
        .filter(|(s, _)| s.place == Place::Header)
        .filter_map(|(seg, new)| {
            let name = seg.pointer.strip_prefix("header:")?;
            let value = new.as_deref()?.split_once(": ").map_or("", |(_, v)| v);
            Some((name.to_string(), value.to_string()))
        })
        .collect();
    (path, headers)
}

/// Renames the object key at `pointer` to `new` in place, keeping the field order; a name
/// already taken gets a numbered suffix, so no field is lost.
pub(super) fn rename_key(value: &mut Value, pointer: &str, new: String) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let old = last.replace("~1", "/").replace("~0", "~");
    let Some(Value::Object(map)) = value.pointer_mut(parent) else {
        return;
    };
    if !map.contains_key(&old) {
        return;
    }
    let mut name = new.clone();
    let mut n = 2;
    while map.contains_key(&name) {
        name = format!("{new}_{n}");
        n += 1;
    }
    let fields = std::mem::take(map);
    for (k, v) in fields {
        if k == old {
            map.insert(name.clone(), v);
        } else {
            map.insert(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renaming_keys_keeps_order_and_never_overwrites() {
        let mut v: Value = serde_json::json!({"a": 1, "x": {"b": 2}, "B": 3});
        rename_key(&mut v, "/x/b", "B".into());
        rename_key(&mut v, "/a", "B".into());
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"B_2":1,"x":{"B":2},"B":3}"#
        );
    }
}
