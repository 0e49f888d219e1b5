//! OpenAI (and every OpenAI-compatible server, and Azure OpenAI's deployment paths): Chat
//! Completions, the Responses API, legacy Completions, Embeddings and the Assistants API.

use super::{definitions_into, push, push_file, walk_into, Prompt, Role};
use serde_json::Value;

/// Extracts a known OpenAI endpoint's texts; `None` for other endpoints.
pub fn extract(path: &str, body: &Value) -> Option<Prompt> {
    let path = path.split('?').next().unwrap_or(path).trim_end_matches('/');
    let mut p = Prompt::from_body(body);
    if path.ends_with("/chat/completions") {
        chat_messages(&mut p, body.get("messages"), "/messages");
        content(
            &mut p,
            body.pointer("/prediction/content"),
            "/prediction/content",
            Role::Assistant,
        );
        for key in ["tools", "functions"] {
            if let Some(tools) = body.get(key) {
                definitions_into(&mut p, tools, &format!("/{key}"));
            }
        }
    } else if path.ends_with("/responses") {
        responses(&mut p, body);
    } else if path.ends_with("/completions") {
        strings_or_list(&mut p, body.get("prompt"), "/prompt", Role::User);
        push_str(&mut p, body.get("suffix"), "/suffix", Role::User);
    } else if path.ends_with("/embeddings") {
        strings_or_list(&mut p, body.get("input"), "/input", Role::User);
    } else if is_thread_messages(path) {
        content(&mut p, body.get("content"), "/content", role_of(body));
    } else if path.ends_with("/threads")
        || path.ends_with("/threads/runs")
        || path.ends_with("/runs")
    {
        let thread = if path.ends_with("/threads/runs") {
            "/thread"
        } else {
            ""
        };
        let messages = body.pointer(&format!("{thread}/messages"));
        if let Some(list) = messages.and_then(Value::as_array) {
            for (i, m) in list.iter().enumerate() {
                content(
                    &mut p,
                    m.get("content"),
                    &format!("{thread}/messages/{i}/content"),
                    role_of(m),
                );
            }
        }
        push_str(
            &mut p,
            body.get("instructions"),
            "/instructions",
            Role::System,
        );
        push_str(
            &mut p,
            body.get("additional_instructions"),
            "/additional_instructions",
            Role::System,
        );
        if let Some(list) = body.get("additional_messages").and_then(Value::as_array) {
            for (i, m) in list.iter().enumerate() {
                content(
                    &mut p,
                    m.get("content"),
                    &format!("/additional_messages/{i}/content"),
                    role_of(m),
                );
            }
        }
    } else {
        return None;
    }
    Some(p)
}

fn is_thread_messages(path: &str) -> bool {
    path.ends_with("/messages") && path.contains("/threads/")
}

fn role_of(m: &Value) -> Role {
    match m.get("role").and_then(Value::as_str) {
        Some("system") | Some("developer") => Role::System,
        Some("assistant") => Role::Assistant,
        Some("tool") | Some("function") => Role::Tool,
        _ => Role::User,
    }
}

fn push_str(p: &mut Prompt, v: Option<&Value>, pointer: &str, role: Role) {
    if let Some(s) = v.and_then(Value::as_str) {
        push(p, role, pointer.to_string(), s);
    }
}

/// A string, or an array of strings (arrays of token ids are recorded as skipped).
fn strings_or_list(p: &mut Prompt, v: Option<&Value>, pointer: &str, role: Role) {
    match v {
        Some(Value::String(s)) => push(p, role, pointer.to_string(), s),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => push(p, role, format!("{pointer}/{i}"), s),
                    _ => p.skip(format!("{pointer}/{i}"), "token ids, not text"),
                }
            }
        }
        _ => {}
    }
}

/// Message content: a string, or a list of parts.
fn content(p: &mut Prompt, v: Option<&Value>, pointer: &str, role: Role) {
    match v {
        Some(Value::String(s)) => push(p, role, pointer.to_string(), s),
        Some(Value::Array(parts)) => {
            for (j, part) in parts.iter().enumerate() {
                content_part(p, part, &format!("{pointer}/{j}"), role);
            }
        }
        _ => {}
    }
}

/// One content part: text (`text`, `text.value`, `refusal`); a file, whose text is decoded
/// when it is a text file; images, audio and other files are recorded as skipped.
fn content_part(p: &mut Prompt, part: &Value, at: &str, role: Role) {
    let kind = part.get("type").and_then(Value::as_str);
    if let Some(t) = part.get("text").and_then(Value::as_str) {
        push(p, role, format!("{at}/text"), t);
    } else if let Some(t) = part.pointer("/text/value").and_then(Value::as_str) {
        push(p, role, format!("{at}/text/value"), t);
    } else if let Some(t) = part.get("refusal").and_then(Value::as_str) {
        push(p, role, format!("{at}/refusal"), t);
    } else if kind == Some("file") {
        // Chat Completions: {"type": "file", "file": {"file_data" | "file_id", "filename"}}.
        if let Some(data) = part.pointer("/file/file_data").and_then(Value::as_str) {
            push_file(p, role, format!("{at}/file/file_data"), data, None);
        }
    } else if kind == Some("input_file") {
        // Responses: {"type": "input_file", "file_data" | "file_url" | "file_id", "filename"}.
        if let Some(data) = part.get("file_data").and_then(Value::as_str) {
            push_file(p, role, format!("{at}/file_data"), data, None);
        }
    } else if kind.is_some_and(|t| !matches!(t, "text" | "input_text" | "output_text")) {
        p.skip(at.to_string(), "binary part (image, audio or file)");
    }
}

fn chat_messages(p: &mut Prompt, messages: Option<&Value>, base: &str) {
    let Some(list) = messages.and_then(Value::as_array) else {
        return;
    };
    for (i, m) in list.iter().enumerate() {
        let role = role_of(m);
        let at = format!("{base}/{i}");
        content(p, m.get("content"), &format!("{at}/content"), role);
        push_str(p, m.get("name"), &format!("{at}/name"), role);
        push_str(
            p,
            m.get("refusal"),
            &format!("{at}/refusal"),
            Role::Assistant,
        );
        if let Some(calls) = m.get("tool_calls").and_then(Value::as_array) {
            for (k, call) in calls.iter().enumerate() {
                push_str(
                    p,
                    call.pointer("/function/arguments"),
                    &format!("{at}/tool_calls/{k}/function/arguments"),
                    Role::Assistant,
                );
            }
        }
        push_str(
            p,
            m.pointer("/function_call/arguments"),
            &format!("{at}/function_call/arguments"),
            Role::Assistant,
        );
    }
}

fn responses(p: &mut Prompt, body: &Value) {
    match body.get("instructions") {
        Some(Value::String(s)) => push(p, Role::System, "/instructions".into(), s),
        Some(Value::Array(items)) => response_items(p, items, "/instructions"),
        _ => {}
    }
    // A stored prompt template's variables: strings, or input parts (text, image, file).
    if let Some(vars) = body.pointer("/prompt/variables").and_then(Value::as_object) {
        for (name, v) in vars {
            let mut at = String::from("/prompt/variables");
            super::pointer_push_key(&mut at, name);
            match v {
                Value::String(s) => push(p, Role::User, at, s),
                part => content_part(p, part, &at, Role::User),
            }
        }
    }
    match body.get("input") {
        Some(Value::String(s)) => push(p, Role::User, "/input".into(), s),
        Some(Value::Array(items)) => response_items(p, items, "/input"),
        _ => {}
    }
    if let Some(tools) = body.get("tools") {
        definitions_into(p, tools, "/tools");
    }
}

/// Responses API input items: messages, tool calls and their outputs, reasoning.
fn response_items(p: &mut Prompt, items: &[Value], base: &str) {
    for (i, item) in items.iter().enumerate() {
        let at = format!("{base}/{i}");
        match item.get("type").and_then(Value::as_str) {
            Some("function_call") | Some("mcp_call") => {
                push_str(
                    p,
                    item.get("arguments"),
                    &format!("{at}/arguments"),
                    Role::Assistant,
                );
                push_str(p, item.get("output"), &format!("{at}/output"), Role::Tool);
            }
            Some("custom_tool_call") => push_str(
                p,
                item.get("input"),
                &format!("{at}/input"),
                Role::Assistant,
            ),
            Some("function_call_output") | Some("custom_tool_call_output") => {
                // A string, or a list of input parts (text, image, file).
                content(p, item.get("output"), &format!("{at}/output"), Role::Tool)
            }
            Some("reasoning") => {
                for key in ["summary", "content"] {
                    content(p, item.get(key), &format!("{at}/{key}"), Role::Assistant);
                }
            }
            Some("message") | None => content(
                p,
                item.get("content"),
                &format!("{at}/content"),
                role_of(item),
            ),
            Some(_) => walk_into(p, item, &at, Role::Unknown),
        }
    }
}
