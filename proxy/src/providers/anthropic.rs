//! Anthropic Messages (also the body of Bedrock InvokeModel for Claude models).

use super::{definitions_into, push, push_file, walk_into, Prompt, Role};
use serde_json::Value;

/// Extracts `/v1/messages` (and `count_tokens`); `None` for other endpoints.
pub fn extract(path: &str, body: &Value) -> Option<Prompt> {
    let path = path.split('?').next().unwrap_or(path);
    if !(path.ends_with("/messages")
        || path.ends_with("/messages/count_tokens")
        || path.ends_with("/invoke")
        || path.ends_with("/invoke-with-response-stream"))
    {
        return None;
    }
    Some(messages_body(body))
}

/// The Messages body shape, wherever it is posted.
pub fn messages_body(body: &Value) -> Prompt {
    let mut p = Prompt::from_body(body);
    match body.get("system") {
        Some(Value::String(s)) => push(&mut p, Role::System, "/system".into(), s),
        Some(Value::Array(blocks)) => blocks_into(&mut p, blocks, "/system", Role::System),
        _ => {}
    }
    if let Some(list) = body.get("messages").and_then(Value::as_array) {
        for (i, m) in list.iter().enumerate() {
            let role = if m.get("role").and_then(Value::as_str) == Some("assistant") {
                Role::Assistant
            } else {
                Role::User
            };
            match m.get("content") {
                Some(Value::String(s)) => push(&mut p, role, format!("/messages/{i}/content"), s),
                Some(Value::Array(blocks)) => {
                    blocks_into(&mut p, blocks, &format!("/messages/{i}/content"), role)
                }
                _ => {}
            }
        }
    }
    if let Some(tools) = body.get("tools") {
        definitions_into(&mut p, tools, "/tools");
    }
    // Remote MCP servers the provider connects to: their names and URLs are read; the rest
    // (tokens included) is left to the walk, which scans it too.
    if let Some(servers) = body.get("mcp_servers").and_then(Value::as_array) {
        for (i, s) in servers.iter().enumerate() {
            for key in ["name", "url"] {
                if let Some(v) = s.get(key).and_then(Value::as_str) {
                    push(&mut p, Role::System, format!("/mcp_servers/{i}/{key}"), v);
                }
            }
        }
    }
    p
}

fn blocks_into(p: &mut Prompt, blocks: &[Value], base: &str, role: Role) {
    for (j, b) in blocks.iter().enumerate() {
        let at = format!("{base}/{j}");
        match b.get("type").and_then(Value::as_str) {
            Some("text") => {
                if let Some(t) = b.get("text").and_then(Value::as_str) {
                    push(p, role, format!("{at}/text"), t);
                }
            }
            Some("tool_use") | Some("server_tool_use") => {
                if let Some(input) = b.get("input") {
                    walk_into(p, input, &format!("{at}/input"), Role::Assistant);
                }
            }
            Some("tool_result") => match b.get("content") {
                Some(Value::String(s)) => push(p, Role::Tool, format!("{at}/content"), s),
                Some(Value::Array(inner)) => {
                    blocks_into(p, inner, &format!("{at}/content"), Role::Tool)
                }
                _ => {}
            },
            Some("document") => {
                for key in ["title", "context"] {
                    if let Some(t) = b.get(key).and_then(Value::as_str) {
                        push(p, role, format!("{at}/{key}"), t);
                    }
                }
                match b.pointer("/source/type").and_then(Value::as_str) {
                    Some("text") => {
                        if let Some(d) = b.pointer("/source/data").and_then(Value::as_str) {
                            push(p, role, format!("{at}/source/data"), d);
                        }
                    }
                    Some("content") => {
                        if let Some(inner) = b.pointer("/source/content").and_then(Value::as_array)
                        {
                            blocks_into(p, inner, &format!("{at}/source/content"), role);
                        }
                    }
                    Some("base64") => {
                        let media = b.pointer("/source/media_type").and_then(Value::as_str);
                        if let Some(data) = b.pointer("/source/data").and_then(Value::as_str) {
                            push_file(p, role, format!("{at}/source/data"), data, media);
                        }
                    }
                    _ => p.skip(format!("{at}/source"), "document by URL or file id"),
                }
            }
            Some("search_result") => {
                for key in ["title", "source"] {
                    if let Some(t) = b.get(key).and_then(Value::as_str) {
                        push(p, Role::Tool, format!("{at}/{key}"), t);
                    }
                }
                if let Some(inner) = b.get("content").and_then(Value::as_array) {
                    blocks_into(p, inner, &format!("{at}/content"), Role::Tool);
                }
            }
            Some("redacted_thinking") => p.skip(format!("{at}/data"), "encrypted thinking"),
            Some("image") => p.skip(at, "image"),
            Some("thinking") => {
                if let Some(t) = b.get("thinking").and_then(Value::as_str) {
                    push(p, Role::Assistant, format!("{at}/thinking"), t);
                }
            }
            _ => walk_into(p, b, &at, role),
        }
    }
}
