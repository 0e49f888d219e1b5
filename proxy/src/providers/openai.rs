//! OpenAI (and every OpenAI-compatible server, and Azure OpenAI's deployment paths): Chat
//! Completions, the Responses API, legacy Completions, Embeddings and the Assistants API.

use super::{push, walk_into, Prompt, Role};
use serde_json::Value;

/// Extracts a known OpenAI endpoint's texts; `None` for other endpoints.
pub fn extract(path: &str, body: &Value) -> Option<Prompt> {
    let path = path.split('?').next().unwrap_or(path).trim_end_matches('/');
    let mut p = Prompt::from_body(body);
    if path.ends_with("/chat/completions") {
        chat_messages(&mut p, body.get("messages"), "/messages");
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

/// Message content: a string, or parts with `text` (images and audio are recorded as skipped).
fn content(p: &mut Prompt, v: Option<&Value>, pointer: &str, role: Role) {
    match v {
        Some(Value::String(s)) => push(p, role, pointer.to_string(), s),
        Some(Value::Array(parts)) => {
            for (j, part) in parts.iter().enumerate() {
                if let Some(t) = part.get("text").and_then(Value::as_str) {
                    push(p, role, format!("{pointer}/{j}/text"), t);
                } else if let Some(t) = part.pointer("/text/value").and_then(Value::as_str) {
                    push(p, role, format!("{pointer}/{j}/text/value"), t);
                } else if part
                    .get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t != "text" && t != "input_text")
                {
                    p.skip(
                        format!("{pointer}/{j}"),
                        "binary part (image, audio or file)",
                    );
                }
            }
        }
        _ => {}
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
    push_str(p, body.get("instructions"), "/instructions", Role::System);
    match body.get("input") {
        Some(Value::String(s)) => push(p, Role::User, "/input".into(), s),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let at = format!("/input/{i}");
                match item.get("type").and_then(Value::as_str) {
                    Some("function_call") => push_str(
                        p,
                        item.get("arguments"),
                        &format!("{at}/arguments"),
                        Role::Assistant,
                    ),
                    Some("function_call_output") | Some("custom_tool_call_output") => {
                        push_str(p, item.get("output"), &format!("{at}/output"), Role::Tool)
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
        _ => {}
    }
}
