//! AWS Bedrock runtime: Converse / ConverseStream, and InvokeModel with an Anthropic body.
//!
//! Requests are SigV4-signed over the body, so PromptWall cannot rewrite them: it can allow,
//! block or log, and `redact` falls back to the tenant's `redaction_fallback`.

use super::{anthropic, definitions_into, push, push_file, walk_into, Prompt, Role};
use serde_json::Value;

/// Extracts a Bedrock runtime request.
pub fn extract(path: &str, body: &Value) -> Option<Prompt> {
    let path = path.split('?').next().unwrap_or(path);
    let model = path
        .strip_prefix("/model/")
        .and_then(|r| r.split('/').next())
        .map(|m| m.replace("%3A", ":"));
    let mut p = if path.ends_with("/converse") || path.ends_with("/converse-stream") {
        converse(body)
    } else if path.ends_with("/invoke") || path.ends_with("/invoke-with-response-stream") {
        anthropic::messages_body(body)
    } else {
        return None;
    };
    p.model = p.model.or(model);
    p.stream = path.ends_with("-stream");
    Some(p)
}

fn converse(body: &Value) -> Prompt {
    let mut p = Prompt::from_body(body);
    if let Some(system) = body.get("system").and_then(Value::as_array) {
        for (i, s) in system.iter().enumerate() {
            if let Some(t) = s.get("text").and_then(Value::as_str) {
                push(&mut p, Role::System, format!("/system/{i}/text"), t);
            }
        }
    }
    if let Some(list) = body.get("messages").and_then(Value::as_array) {
        for (i, m) in list.iter().enumerate() {
            let role = if m.get("role").and_then(Value::as_str) == Some("assistant") {
                Role::Assistant
            } else {
                Role::User
            };
            let Some(blocks) = m.get("content").and_then(Value::as_array) else {
                continue;
            };
            for (j, b) in blocks.iter().enumerate() {
                let at = format!("/messages/{i}/content/{j}");
                if let Some(t) = b.get("text").and_then(Value::as_str) {
                    push(&mut p, role, format!("{at}/text"), t);
                } else if let Some(input) = b.pointer("/toolUse/input") {
                    walk_into(
                        &mut p,
                        input,
                        &format!("{at}/toolUse/input"),
                        Role::Assistant,
                    );
                } else if let Some(inner) =
                    b.pointer("/toolResult/content").and_then(Value::as_array)
                {
                    for (k, c) in inner.iter().enumerate() {
                        if let Some(t) = c.get("text").and_then(Value::as_str) {
                            push(
                                &mut p,
                                Role::Tool,
                                format!("{at}/toolResult/content/{k}/text"),
                                t,
                            );
                        } else if let Some(j) = c.get("json") {
                            walk_into(
                                &mut p,
                                j,
                                &format!("{at}/toolResult/content/{k}/json"),
                                Role::Tool,
                            );
                        }
                    }
                } else if let Some(doc) = b.get("document") {
                    // Text formats are read as text; PDF and Office documents through their
                    // extractors, like the other providers' inline files (what cannot be read
                    // follows `on_uninspectable`).
                    let media = doc.get("format").and_then(Value::as_str).map(|f| match f {
                        "txt" | "csv" | "md" | "html" => "text/plain",
                        "pdf" => "application/pdf",
                        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        _ => "application/octet-stream",
                    });
                    match doc.pointer("/source/bytes").and_then(Value::as_str) {
                        Some(bytes) => push_file(
                            &mut p,
                            role,
                            format!("{at}/document/source/bytes"),
                            bytes,
                            media,
                        ),
                        // An S3 location: the model reads what PromptWall cannot.
                        None => p.skip(at, "document not sent inline"),
                    }
                } else if let Some(t) = b
                    .pointer("/reasoningContent/reasoningText/text")
                    .and_then(Value::as_str)
                {
                    push(
                        &mut p,
                        Role::Assistant,
                        format!("{at}/reasoningContent/reasoningText/text"),
                        t,
                    );
                } else if let Some(t) = b.pointer("/guardContent/text/text").and_then(Value::as_str)
                {
                    push(&mut p, role, format!("{at}/guardContent/text/text"), t);
                } else if b.get("image").is_some() || b.get("video").is_some() {
                    p.skip(at, "binary content block");
                }
            }
        }
    }
    if let Some(tools) = body.pointer("/toolConfig/tools") {
        definitions_into(&mut p, tools, "/toolConfig/tools");
    }
    p
}
