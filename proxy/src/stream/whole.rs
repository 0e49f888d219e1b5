//! A whole answer read at once: a JSON document string by string (the provider's own metadata
//! aside), or any other text whole, scanned, decided, redacted and restored in place.

use super::guard::{redact_pieces, ResponseOutcome, ResponsePolicy};
use policy::redact::restore;
use policy::Action;
use serde_json::Value;

/// Keys whose string values the provider assigns (identifiers and enumerations) or the client
/// sent (a matched stop sequence): never model output, so a whole answer's scan skips them.
/// Unknown keys are scanned: a new provider field is read until it is known to be metadata.
const METADATA_KEYS: [&str; 10] = [
    "id",
    "object",
    "model",
    "role",
    "type",
    "finish_reason",
    "stop_reason",
    "stop_sequence",
    "system_fingerprint",
    "status",
];

/// Every string of `v` but provider metadata, for a whole body read at once (no field is
/// tracked across events).
fn texts_mut<'a>(v: &'a mut Value, out: &mut Vec<&'a mut String>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter_mut().for_each(|x| texts_mut(x, out)),
        Value::Object(m) => m
            .iter_mut()
            .filter(|(k, x)| !(x.is_string() && METADATA_KEYS.contains(&k.as_str())))
            .for_each(|(_, x)| texts_mut(x, out)),
        _ => {}
    }
}

/// Inspects and restores a whole answer: a JSON document field by field (after a BOM or in
/// UTF-16/32 too), or any other text whole. `Ok(Some(body))` when it changed, `Err(body)` with
/// the provider-shaped error when the policy blocks it. Bytes that are not text pass as they
/// are.
pub fn inspect_json(
    body: &[u8],
    policy: Option<&ResponsePolicy>,
    pseudonyms: &policy::Pseudonyms,
    outcome: &mut ResponseOutcome,
) -> Result<Option<Vec<u8>>, Vec<u8>> {
    // Most answers are UTF-8 JSON: decoding (a BOM, UTF-16/32) only when that parse fails.
    // Bytes that are no text PromptWall knows are read lossily, as clients that decode them
    // lossily (fetch) read them: one stray invalid byte must not switch inspection off.
    let mut text = None;
    let parsed = serde_json::from_slice::<Value>(body).ok().or_else(|| {
        let (t, _) = text
            .insert(
                crate::extract::text::decode("", body)
                    .or_else(|| Some((String::from_utf8_lossy(body), true))),
            )
            .as_ref()?;
        serde_json::from_str(t).ok()
    });
    match parsed {
        Some(mut v) => {
            let mut fields = Vec::new();
            texts_mut(&mut v, &mut fields);
            let changed = inspect_fields(&mut fields, policy, pseudonyms, outcome)?;
            Ok(changed.then(|| serde_json::to_vec(&v).expect("JSON values serialize")))
        }
        None => {
            let Some((t, _)) = text.flatten() else {
                return Ok(None);
            };
            let mut raw = t.into_owned();
            let mut fields = vec![&mut raw];
            let changed = inspect_fields(&mut fields, policy, pseudonyms, outcome)?;
            Ok(changed.then(|| raw.into_bytes()))
        }
    }
}

/// Scans, decides, redacts and restores `fields` in place; whether any changed.
fn inspect_fields(
    fields: &mut [&mut String],
    policy: Option<&ResponsePolicy>,
    pseudonyms: &policy::Pseudonyms,
    outcome: &mut ResponseOutcome,
) -> Result<bool, Vec<u8>> {
    let mut changed = false;
    if let Some(rp) = policy.filter(|p| p.scan) {
        let texts: Vec<&str> = fields.iter().map(|s| s.as_str()).collect();
        let d = rp.decide(&texts, rp.scan(&texts));
        if d.action.blocks() {
            outcome.absorb(&d, 0);
            let msg = d
                .message
                .clone()
                .unwrap_or_else(|| "The response was blocked by PromptWall policy.".into());
            return Err(rp
                .shape
                .body(403, crate::providers::ErrorKind::PolicyViolation, &msg));
        }
        // Copies to redact in only when the decision redacts.
        let n = if d.action == Action::Redact {
            let mut pieces: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
            let offsets = vec![0; pieces.len()];
            let n = redact_pieces(&d, &mut pieces, &offsets, &rp.key);
            if n > 0 {
                changed = true;
                for (s, p) in fields.iter_mut().zip(pieces) {
                    **s = p;
                }
            }
            n
        } else {
            0
        };
        outcome.absorb(&d, n);
    }
    if !pseudonyms.is_empty() {
        for s in fields.iter_mut() {
            if let std::borrow::Cow::Owned(r) = restore(s, pseudonyms) {
                **s = r;
                changed = true;
            }
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::guard::tests::policy;

    #[test]
    fn json_bodies_are_inspected_restored_or_blocked() {
        let body = br#"{"choices":[{"message":{"content":"mail <EMAIL_1> now","tool_calls":[{"function":{"arguments":"{\"to\":\"<EMAIL_1>\"}"}}]}}]}"#;
        let mut o = ResponseOutcome::default();
        let out = inspect_json(
            body,
            Some(&policy(None)),
            &[("<EMAIL_1>", "ab@c.io")].into_iter().collect(),
            &mut o,
        )
        .unwrap()
        .unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v.pointer("/choices/0/message/content").unwrap(),
            "mail ab@c.io now"
        );
        assert_eq!(
            v.pointer("/choices/0/message/tool_calls/0/function/arguments")
                .unwrap(),
            "{\"to\":\"ab@c.io\"}"
        );
        let leak = br#"{"choices":[{"message":{"content":"use AKIAQWERTYUIOPASDFGH"}}]}"#;
        let err = inspect_json(leak, Some(&policy(None)), &Default::default(), &mut o).unwrap_err();
        let v: Value = serde_json::from_slice(&err).unwrap();
        assert_eq!(v["error"]["type"], "policy_violation");
        // One invalid byte does not switch inspection off: the rest is read lossily.
        let broken = [&leak[..], b"\xff"].concat();
        assert!(inspect_json(&broken, Some(&policy(None)), &Default::default(), &mut o).is_err());
        let broken = [
            &br#"{"choices":[{"message":{"content":"use AKIAQWERTYUIOPASDFGH "#[..],
            b"\xff",
            br#""}}]}"#,
        ]
        .concat();
        assert!(inspect_json(&broken, Some(&policy(None)), &Default::default(), &mut o).is_err());
        assert!(inspect_json(
            b"{\"x\":\"nothing\"}",
            Some(&policy(None)),
            &Default::default(),
            &mut o
        )
        .unwrap()
        .is_none());
    }

    #[test]
    fn provider_metadata_is_not_read_as_model_output_but_unknown_fields_are() {
        let mut o = ResponseOutcome::default();
        // Identifiers and enumerations the provider assigns are skipped, even when they look
        // like a key (the scan of a whole answer reads what the model wrote).
        let meta = br#"{"id":"AKIAQWERTYUIOPASDFGH","object":"chat.completion","model":"m","choices":[{"message":{"role":"assistant","content":"fine"},"finish_reason":"stop"}]}"#;
        assert!(
            inspect_json(meta, Some(&policy(None)), &Default::default(), &mut o)
                .unwrap()
                .is_none()
        );
        // A key the list does not name is read, and so is a metadata key holding an object.
        for leak in [
            &br#"{"id":"x","note":"AKIAQWERTYUIOPASDFGH"}"#[..],
            br#"{"status":{"detail":"AKIAQWERTYUIOPASDFGH"}}"#,
        ] {
            assert!(
                inspect_json(leak, Some(&policy(None)), &Default::default(), &mut o).is_err(),
                "{}",
                String::from_utf8_lossy(leak)
            );
        }
    }

    #[test]
    fn answers_that_are_not_plain_json_are_still_inspected() {
        let mut o = ResponseOutcome::default();
        let leak = r#"{"choices":[{"message":{"content":"use AKIAQWERTYUIOPASDFGH"}}]}"#;
        // A byte-order mark, trailing bytes, UTF-16, and plain text: each is read.
        let bom = [&[0xEF, 0xBB, 0xBF][..], leak.as_bytes()].concat();
        let trailing = format!("{leak}\n\ngarbage");
        let utf16: Vec<u8> = [
            &[0xFF, 0xFE][..],
            &leak
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<_>>(),
        ]
        .concat();
        for body in [
            bom,
            trailing.into_bytes(),
            utf16,
            b"plain: AKIAQWERTYUIOPASDFGH".to_vec(),
        ] {
            assert!(
                inspect_json(&body, Some(&policy(None)), &Default::default(), &mut o).is_err(),
                "{}",
                String::from_utf8_lossy(&body)
            );
        }
        // Pseudonyms come back in a text answer too.
        let mut p = policy::Pseudonyms::default();
        p.push("<EMAIL_1>", "ab@c.io");
        let out = inspect_json(b"Sent to <EMAIL_1>.", None, &p, &mut o)
            .unwrap()
            .unwrap();
        assert_eq!(out, b"Sent to ab@c.io.");
        // Bytes that are not text pass as they are.
        assert!(inspect_json(
            &[0u8, 159, 146, 150],
            Some(&policy(None)),
            &Default::default(),
            &mut o
        )
        .unwrap()
        .is_none());
    }
}
