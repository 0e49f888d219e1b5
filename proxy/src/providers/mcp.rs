//! MCP (Model Context Protocol) over streamable HTTP or HTTP+SSE: JSON-RPC messages, one or
//! a batch, from a client (an agent) to a configured MCP server. Tool calls, sampling
//! requests, prompt arguments and resource reads are what the server (and often a model
//! behind it) will read; results the client sends back to server requests are read too.

use super::{push, walk_into, Prompt, Role};
use serde_json::Value;

/// Every text of a JSON-RPC message or batch.
pub fn extract(body: &Value) -> Prompt {
    let mut p = Prompt::default();
    match body {
        Value::Array(batch) => {
            for (i, m) in batch.iter().enumerate() {
                message(&mut p, m, &format!("/{i}"));
            }
        }
        m => {
            p.rpc_id = m.get("id").cloned();
            message(&mut p, m, "");
        }
    }
    p
}

fn message(p: &mut Prompt, m: &Value, base: &str) {
    let params = m.get("params");
    let at = |rest: &str| format!("{base}/params/{rest}");
    match m.get("method").and_then(Value::as_str) {
        Some("tools/call") => {
            if let Some(name) = params.and_then(|x| x.get("name")).and_then(Value::as_str) {
                if !p.tools.iter().any(|t| t == name) {
                    p.tools.push(name.to_string());
                }
                push(p, Role::Assistant, at("name"), name);
            }
            if let Some(args) = params.and_then(|x| x.get("arguments")) {
                walk_into(p, args, &at("arguments"), Role::Assistant);
            }
        }
        Some("sampling/createMessage") => {
            if let Some(s) = params
                .and_then(|x| x.get("systemPrompt"))
                .and_then(Value::as_str)
            {
                push(p, Role::System, at("systemPrompt"), s);
            }
            let messages = params
                .and_then(|x| x.get("messages"))
                .and_then(Value::as_array);
            for (i, msg) in messages.into_iter().flatten().enumerate() {
                let role = match msg.get("role").and_then(Value::as_str) {
                    Some("assistant") => Role::Assistant,
                    _ => Role::User,
                };
                if let Some(c) = msg.get("content") {
                    walk_into(p, c, &at(&format!("messages/{i}/content")), role);
                }
            }
        }
        Some("prompts/get") => {
            if let Some(args) = params.and_then(|x| x.get("arguments")) {
                walk_into(p, args, &at("arguments"), Role::User);
            }
        }
        Some("resources/read") => {
            if let Some(uri) = params.and_then(|x| x.get("uri")).and_then(Value::as_str) {
                push(p, Role::User, at("uri"), uri);
            }
        }
        Some("completion/complete") => {
            if let Some(v) = params.and_then(|x| x.pointer("/argument/value")) {
                walk_into(p, v, &at("argument/value"), Role::User);
            }
        }
        _ => {}
    }
    // A client's answer to a server request (a sampling result, an elicitation) is text the
    // server's side reads.
    if let Some(result) = m.get("result") {
        walk_into(p, result, &format!("{base}/result"), Role::Assistant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_calls_sampling_and_batches_are_read_with_their_tool() {
        let call = serde_json::json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": "search_wiki", "arguments": {"query": "refund policy", "limit": 3}}});
        let p = extract(&call);
        assert_eq!(p.tools, ["search_wiki"]);
        assert_eq!(p.rpc_id, Some(serde_json::json!(7)));
        let ptrs: Vec<&str> = p.segments.iter().map(|s| s.pointer.as_str()).collect();
        assert_eq!(ptrs, ["/params/name", "/params/arguments/query"]);
        let batch = serde_json::json!([
            {"jsonrpc": "2.0", "id": 1, "method": "sampling/createMessage", "params": {
                "systemPrompt": "Be brief.",
                "messages": [{"role": "user", "content": {"type": "text", "text": "Summarise it."}}]}},
            {"jsonrpc": "2.0", "id": 2, "result": {"content": [{"type": "text", "text": "done"}]}}
        ]);
        let p = extract(&batch);
        let ptrs: Vec<&str> = p.segments.iter().map(|s| s.pointer.as_str()).collect();
        assert_eq!(
            ptrs,
            [
                "/0/params/systemPrompt",
                "/0/params/messages/0/content/type",
                "/0/params/messages/0/content/text",
                "/1/result/content/0/type",
                "/1/result/content/0/text"
            ]
        );
        assert_eq!(p.rpc_id, None);
    }
}
