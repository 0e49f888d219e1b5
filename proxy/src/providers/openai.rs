//! OpenAI Chat Completions (and every OpenAI-compatible server) request extraction.

use super::{Prompt, Role, Segment};
use serde_json::Value;

/// Extracts a Chat Completions body; `None` for other endpoints (the generic walker takes those).
pub fn extract(path: &str, body: &Value) -> Option<Prompt> {
    let path = path.split('?').next().unwrap_or(path);
    if !path.ends_with("/chat/completions") {
        return None;
    }
    let mut prompt = Prompt {
        model: body
            .get("model")
            .and_then(Value::as_str)
            .map(str::to_string),
        stream: body.get("stream").and_then(Value::as_bool).unwrap_or(false),
        segments: Vec::new(),
    };
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Some(prompt);
    };
    for (i, msg) in messages.iter().enumerate() {
        let role = match msg.get("role").and_then(Value::as_str) {
            Some("system") | Some("developer") => Role::System,
            Some("assistant") => Role::Assistant,
            Some("tool") | Some("function") => Role::Tool,
            _ => Role::User,
        };
        let base = format!("/messages/{i}");
        match msg.get("content") {
            Some(Value::String(s)) => push(&mut prompt, role, format!("{base}/content"), s),
            Some(Value::Array(parts)) => {
                for (j, part) in parts.iter().enumerate() {
                    if let Some(t) = part.get("text").and_then(Value::as_str) {
                        push(&mut prompt, role, format!("{base}/content/{j}/text"), t);
                    }
                }
            }
            _ => {}
        }
        if let Some(name) = msg.get("name").and_then(Value::as_str) {
            push(&mut prompt, role, format!("{base}/name"), name);
        }
        if let Some(calls) = msg.get("tool_calls").and_then(Value::as_array) {
            for (k, call) in calls.iter().enumerate() {
                if let Some(args) = call.pointer("/function/arguments").and_then(Value::as_str) {
                    push(
                        &mut prompt,
                        Role::Assistant,
                        format!("{base}/tool_calls/{k}/function/arguments"),
                        args,
                    );
                }
            }
        }
    }
    Some(prompt)
}

fn push(prompt: &mut Prompt, role: Role, pointer: String, text: &str) {
    prompt.segments.push(Segment {
        role,
        pointer,
        text: text.to_string(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_completions_texts_are_found_with_roles_and_pointers() {
        let body = serde_json::json!({
            "model": "gpt-4o",
            "stream": true,
            "messages": [
                {"role": "developer", "content": "be brief"},
                {"role": "user", "name": "alice", "content": [
                    {"type": "text", "text": "look at this"},
                    {"type": "image_url", "image_url": {"url": "https://x/y.png"}}
                ]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":\"x\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "c1", "content": "result text"}
            ]
        });
        let p = extract("/v1/chat/completions", &body).unwrap();
        assert_eq!(p.model.as_deref(), Some("gpt-4o"));
        assert!(p.stream);
        let got: Vec<(Role, &str)> = p
            .segments
            .iter()
            .map(|s| (s.role, s.pointer.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (Role::System, "/messages/0/content"),
                (Role::User, "/messages/1/content/0/text"),
                (Role::User, "/messages/1/name"),
                (
                    Role::Assistant,
                    "/messages/2/tool_calls/0/function/arguments"
                ),
                (Role::Tool, "/messages/3/content"),
            ]
        );
    }

    #[test]
    fn other_endpoints_are_left_to_the_generic_walker() {
        assert!(extract("/v1/embeddings", &serde_json::json!({"input": "x"})).is_none());
    }
}
