//! Google Gemini and Vertex AI: `generateContent` and `streamGenerateContent`.

use super::{definitions_into, push, push_file, walk_into, Prompt, Role};
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
    request_into(&mut p, body, "");
    // countTokens may wrap a whole request: {"generateContentRequest": {...}}.
    for key in ["generateContentRequest", "generate_content_request"] {
        if let Some(inner) = body.get(key) {
            request_into(&mut p, inner, &format!("/{key}"));
        }
    }
    Some(p)
}

fn request_into(p: &mut Prompt, body: &Value, base: &str) {
    for key in ["systemInstruction", "system_instruction"] {
        if let Some(parts) = body
            .pointer(&format!("/{key}/parts"))
            .and_then(Value::as_array)
        {
            parts_into(p, parts, &format!("{base}/{key}/parts"), Role::System);
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
                parts_into(p, parts, &format!("{base}/contents/{i}/parts"), role);
            }
        }
    }
    if let Some(tools) = body.get("tools") {
        definitions_into(p, tools, &format!("{base}/tools"));
    }
}

fn parts_into(p: &mut Prompt, parts: &[Value], base: &str, role: Role) {
    for (j, part) in parts.iter().enumerate() {
        let at = format!("{base}/{j}");
        let either = |camel: &'static str, snake: &'static str| {
            part.get(camel)
                .map(|v| (v, camel))
                .or_else(|| part.get(snake).map(|v| (v, snake)))
        };
        if let Some(t) = part.get("text").and_then(Value::as_str) {
            push(p, role, format!("{at}/text"), t);
        } else if let Some((call, key)) = either("functionCall", "function_call") {
            if let Some(args) = call.get("args") {
                walk_into(p, args, &format!("{at}/{key}/args"), Role::Assistant);
            }
        } else if let Some((resp, key)) = either("functionResponse", "function_response") {
            if let Some(r) = resp.get("response") {
                walk_into(p, r, &format!("{at}/{key}/response"), Role::Tool);
            }
        } else if let Some((code, key)) = either("executableCode", "executable_code") {
            if let Some(c) = code.get("code").and_then(Value::as_str) {
                push(p, Role::Assistant, format!("{at}/{key}/code"), c);
            }
        } else if let Some((out, key)) = either("codeExecutionResult", "code_execution_result") {
            if let Some(o) = out.get("output").and_then(Value::as_str) {
                push(p, Role::Tool, format!("{at}/{key}/output"), o);
            }
        } else if let Some((inline, key)) = either("inlineData", "inline_data") {
            let media = inline
                .get("mimeType")
                .or_else(|| inline.get("mime_type"))
                .and_then(Value::as_str);
            match inline.get("data").and_then(Value::as_str) {
                Some(data) if media.is_some() => {
                    push_file(p, role, format!("{at}/{key}/data"), data, media)
                }
                _ => p.skip(at, "inline data without a media type"),
            }
        } else if part.get("fileData").is_some() || part.get("file_data").is_some() {
            p.skip(at, "file by URI");
        }
    }
}
