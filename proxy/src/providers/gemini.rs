//! Google Gemini and Vertex AI: `generateContent` and `streamGenerateContent`.

use super::{push, walk_into, Prompt, Role};
use serde_json::Value;

/// Extracts a `:generateContent`, `:streamGenerateContent` or `:countTokens` body.
pub fn extract(path: &str, body: &Value) -> Option<Prompt> {
    let path = path.split('?').next().unwrap_or(path);
    if !(path.ends_with(":generateContent")
        || path.ends_with(":streamGenerateContent")
        || path.ends_with(":countTokens"))
    {
        return None;
    }
    let mut p = Prompt::from_body(body);
    p.stream = path.ends_with(":streamGenerateContent");
    if p.model.is_none() {
        p.model = path
            .rsplit('/')
            .next()
            .and_then(|m| m.split(':').next())
            .map(str::to_string);
    }
    for key in ["systemInstruction", "system_instruction"] {
        if let Some(parts) = body
            .pointer(&format!("/{key}/parts"))
            .and_then(Value::as_array)
        {
            parts_into(&mut p, parts, &format!("/{key}/parts"), Role::System);
        }
    }
    if let Some(contents) = body.get("contents").and_then(Value::as_array) {
        for (i, c) in contents.iter().enumerate() {
            let role = match c.get("role").and_then(Value::as_str) {
                Some("model") => Role::Assistant,
                Some("function") => Role::Tool,
                _ => Role::User,
            };
            if let Some(parts) = c.get("parts").and_then(Value::as_array) {
                parts_into(&mut p, parts, &format!("/contents/{i}/parts"), role);
            }
        }
    }
    Some(p)
}

fn parts_into(p: &mut Prompt, parts: &[Value], base: &str, role: Role) {
    for (j, part) in parts.iter().enumerate() {
        let at = format!("{base}/{j}");
        if let Some(t) = part.get("text").and_then(Value::as_str) {
            push(p, role, format!("{at}/text"), t);
        } else if let Some(args) = part.pointer("/functionCall/args") {
            walk_into(p, args, &format!("{at}/functionCall/args"), Role::Assistant);
        } else if let Some(resp) = part.pointer("/functionResponse/response") {
            walk_into(
                p,
                resp,
                &format!("{at}/functionResponse/response"),
                Role::Tool,
            );
        } else if part.get("inlineData").is_some() || part.get("fileData").is_some() {
            p.skip(at, "binary part (inline or file data)");
        }
    }
}
