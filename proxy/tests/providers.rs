//! Golden fixtures per provider and endpoint, written from the public API references: the
//! adapter finds every text (an exact list of pointers), rewriting those texts keeps the JSON
//! valid and of the same shape, and the block response parses as that provider's error.

use promptwall::providers::{extract, stream_error_event, ErrorKind, ErrorShape, Place, Role};
use serde_json::{json, Value};

struct Fixture {
    name: &'static str,
    provider: &'static str,
    path: &'static str,
    body: Value,
    pointers: &'static [&'static str],
    skipped: &'static [&'static str],
}

fn fixtures() -> Vec<Fixture> {
    vec![
        Fixture {
            name: "openai chat completions with parts, names, tools and tool results",
            provider: "openai",
            path: "/v1/chat/completions",
            body: json!({
                "model": "gpt-4o", "stream": true,
                "messages": [
                    {"role": "developer", "content": "Be terse."},
                    {"role": "system", "content": [{"type": "text", "text": "You help with billing."}]},
                    {"role": "user", "name": "dana", "content": [
                        {"type": "text", "text": "What is in this receipt?"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
                    ]},
                    {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": "{\"order\":\"A-1\"}"}}
                    ]},
                    {"role": "tool", "tool_call_id": "call_1", "content": "Order A-1: 2 items"}
                ],
                "tools": [{"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object"}}}]
            }),
            pointers: &["/messages/0/content", "/messages/1/content/0/text", "/messages/2/content/0/text", "/messages/2/name", "/messages/3/tool_calls/0/function/arguments", "/messages/4/content"],
            skipped: &["/messages/2/content/1"],
        },
        Fixture {
            name: "openai responses api with instructions and an item list",
            provider: "openai",
            path: "/v1/responses",
            body: json!({
                "model": "gpt-4.1", "instructions": "Answer in French.",
                "input": [
                    {"role": "user", "content": [{"type": "input_text", "text": "Summarise the memo."}, {"type": "input_image", "image_url": "https://x/y.png"}]},
                    {"type": "function_call", "call_id": "c1", "name": "get_memo", "arguments": "{\"id\":7}"},
                    {"type": "function_call_output", "call_id": "c1", "output": "Memo 7: revenue grew."},
                    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Voici le résumé."}]}
                ]
            }),
            pointers: &["/instructions", "/input/0/content/0/text", "/input/1/arguments", "/input/2/output", "/input/3/content/0/text"],
            skipped: &["/input/0/content/1"],
        },
        Fixture {
            name: "openai responses api with a plain string input",
            provider: "openai",
            path: "/v1/responses",
            body: json!({"model": "gpt-4.1", "input": "Tell me a joke."}),
            pointers: &["/input"],
            skipped: &[],
        },
        Fixture {
            name: "openai legacy completions with a prompt list",
            provider: "openai",
            path: "/v1/completions",
            body: json!({"model": "gpt-3.5-turbo-instruct", "prompt": ["Once upon", [1, 2, 3]], "suffix": "The end."}),
            pointers: &["/prompt/0", "/suffix"],
            skipped: &["/prompt/1"],
        },
        Fixture {
            name: "openai embeddings with an input list",
            provider: "openai",
            path: "/v1/embeddings",
            body: json!({"model": "text-embedding-3-small", "input": ["first doc", "second doc"]}),
            pointers: &["/input/0", "/input/1"],
            skipped: &[],
        },
        Fixture {
            name: "openai assistants: a message on a thread",
            provider: "openai",
            path: "/v1/threads/thread_abc/messages",
            body: json!({"role": "user", "content": [{"type": "text", "text": "Please review the contract."}]}),
            pointers: &["/content/0/text"],
            skipped: &[],
        },
        Fixture {
            name: "azure openai deployment path with api-version",
            provider: "azure_openai",
            path: "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21",
            body: json!({"messages": [{"role": "user", "content": "hello"}]}),
            pointers: &["/messages/0/content"],
            skipped: &[],
        },
        Fixture {
            name: "openai-compatible server (groq) through the openai adapter",
            provider: "groq",
            path: "/openai/v1/chat/completions",
            body: json!({"model": "llama-3.3-70b", "messages": [{"role": "user", "content": "hi"}]}),
            pointers: &["/messages/0/content"],
            skipped: &[],
        },
        Fixture {
            name: "anthropic messages with system blocks, tool use, tool results and a text document",
            provider: "anthropic",
            path: "/v1/messages",
            body: json!({
                "model": "claude-sonnet-4", "max_tokens": 1024,
                "system": [{"type": "text", "text": "You are a paralegal.", "cache_control": {"type": "ephemeral"}}],
                "messages": [
                    {"role": "user", "content": [
                        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "CONTRACT TEXT"}, "title": "NDA"},
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                        {"type": "text", "text": "Find the term."}
                    ]},
                    {"role": "assistant", "content": [{"type": "tool_use", "id": "tu_1", "name": "search", "input": {"query": "term clause", "limit": 3}}]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": [{"type": "text", "text": "Clause 9: two years"}]}]},
                    {"role": "assistant", "content": "The term is two years."}
                ]
            }),
            pointers: &["/system/0/text", "/messages/0/content/0/title", "/messages/0/content/0/source/data", "/messages/0/content/2/text", "/messages/1/content/0/input/query", "/messages/2/content/0/content/0/text", "/messages/3/content"],
            skipped: &["/messages/0/content/1"],
        },
        Fixture {
            name: "anthropic messages with a string system prompt",
            provider: "anthropic",
            path: "/v1/messages",
            body: json!({"model": "claude-3-5-haiku", "system": "Be brief.", "messages": [{"role": "user", "content": "hi"}]}),
            pointers: &["/system", "/messages/0/content"],
            skipped: &[],
        },
        Fixture {
            name: "gemini generateContent with system instruction and function response",
            provider: "gemini",
            path: "/v1beta/models/gemini-2.0-flash:generateContent",
            body: json!({
                "systemInstruction": {"parts": [{"text": "Answer kindly."}]},
                "contents": [
                    {"role": "user", "parts": [{"text": "What is the weather?"}, {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}]},
                    {"role": "model", "parts": [{"functionCall": {"name": "weather", "args": {"city": "Paris"}}}]},
                    {"role": "user", "parts": [{"functionResponse": {"name": "weather", "response": {"forecast": "sunny"}}}]}
                ]
            }),
            pointers: &["/systemInstruction/parts/0/text", "/contents/0/parts/0/text", "/contents/1/parts/0/functionCall/args/city", "/contents/2/parts/0/functionResponse/response/forecast"],
            skipped: &["/contents/0/parts/1/inlineData/data"],
        },
        Fixture {
            name: "vertex streamGenerateContent",
            provider: "vertex",
            path: "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:streamGenerateContent",
            body: json!({"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}),
            pointers: &["/contents/0/parts/0/text"],
            skipped: &[],
        },
        Fixture {
            name: "bedrock converse with system, tool use and tool result",
            provider: "bedrock",
            path: "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse",
            body: json!({
                "system": [{"text": "You are concise."}],
                "messages": [
                    {"role": "user", "content": [{"text": "Look up order A-1"}]},
                    {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "orders", "input": {"id": "A-1"}}}]},
                    {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "shipped"}, {"json": {"eta": "Friday"}}]}}]}
                ]
            }),
            pointers: &["/system/0/text", "/messages/0/content/0/text", "/messages/1/content/0/toolUse/input/id", "/messages/2/content/0/toolResult/content/0/text", "/messages/2/content/0/toolResult/content/1/json/eta"],
            skipped: &[],
        },
        Fixture {
            name: "bedrock invoke with an anthropic body",
            provider: "bedrock",
            path: "/model/anthropic.claude-3-haiku-20240307-v1:0/invoke",
            body: json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100, "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}),
            pointers: &["/messages/0/content/0/text"],
            skipped: &[],
        },
        Fixture {
            name: "openai chat with tool descriptions, a predicted output, a refusal and text and pdf files",
            provider: "openai",
            path: "/v1/chat/completions",
            body: json!({
                "model": "gpt-4o",
                "messages": [
                    {"role": "user", "content": [
                        {"type": "text", "text": "Summarise both files."},
                        {"type": "file", "file": {"filename": "notes.txt", "file_data": "data:text/plain;base64,UXVhcnRlcmx5IG5vdGVzOiBzaGlwIHYyIG9uIEZyaWRheS4K"}},
                        {"type": "file", "file": {"filename": "deck.pdf", "file_data": "data:application/pdf;base64,JVBERi0xLjcgYmluYXJ5AAEC"}}
                    ]},
                    {"role": "assistant", "content": null, "refusal": "I can't open the deck."}
                ],
                "prediction": {"type": "content", "content": "The notes say"},
                "tools": [{"type": "function", "function": {"name": "search", "description": "Searches the wiki.", "parameters": {"type": "object", "properties": {"q": {"type": "string", "description": "What to look for"}}}}}],
                "functions": [{"name": "legacy", "description": "An old-style function."}]
            }),
            pointers: &["/messages/0/content/0/text", "/messages/0/content/1/file/file_data", "/messages/1/refusal", "/prediction/content", "/tools/0/function/description", "/tools/0/function/parameters/properties/q/description", "/functions/0/description"],
            skipped: &["/messages/0/content/2/file/file_data"],
        },
        Fixture {
            name: "openai responses with prompt variables, array tool outputs, input files, reasoning and tools",
            provider: "openai",
            path: "/v1/responses",
            body: json!({
                "model": "gpt-5",
                "prompt": {"id": "pmpt_1", "version": "2", "variables": {
                    "customer": "Ada Lovelace",
                    "brief": {"type": "input_text", "text": "Renewal is due."},
                    "sheet": {"type": "input_file", "filename": "t.csv", "file_data": "data:text/csv;base64,bmFtZSx0ZWFtCkFkYSxwbGF0Zm9ybQo="}
                }},
                "input": [
                    {"role": "user", "content": [{"type": "input_file", "filename": "runbook.txt", "file_data": "UnVuYm9vazogcmVzdGFydCB0aGUgYXBpIHBvZHMuCg=="}]},
                    {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Checking the runbook."}]},
                    {"type": "function_call_output", "call_id": "c1", "output": [
                        {"type": "input_text", "text": "Found 3 pods."},
                        {"type": "input_image", "image_url": "https://x/y.png"}
                    ]},
                    {"type": "custom_tool_call", "call_id": "c2", "name": "sh", "input": "kubectl get pods"}
                ],
                "tools": [{"type": "function", "name": "restart", "description": "Restarts a pod.", "parameters": {"type": "object"}}]
            }),
            pointers: &["/prompt/variables/customer", "/prompt/variables/brief/text", "/prompt/variables/sheet/file_data", "/input/0/content/0/file_data", "/input/1/summary/0/text", "/input/2/output/0/text", "/input/3/input", "/tools/0/description"],
            skipped: &["/input/2/output/1"],
        },
        Fixture {
            name: "anthropic documents with title and context, a base64 text file, search results, tools and mcp servers",
            provider: "anthropic",
            path: "/v1/messages",
            body: json!({
                "model": "claude-sonnet-4-5", "max_tokens": 512,
                "messages": [{"role": "user", "content": [
                    {"type": "document", "title": "Q3 plan", "context": "Internal only", "source": {"type": "base64", "media_type": "text/plain", "data": "UXVhcnRlcmx5IG5vdGVzOiBzaGlwIHYyIG9uIEZyaWRheS4K"}},
                    {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0xLjcgYmluYXJ5AAEC"}},
                    {"type": "search_result", "source": "https://wiki/x", "title": "Pods", "content": [{"type": "text", "text": "Restart with care."}]},
                    {"type": "text", "text": "What changed?"}
                ]}],
                "tools": [{"name": "get_doc", "description": "Fetches a document.", "input_schema": {"type": "object", "properties": {"id": {"type": "string", "description": "Document id"}}}}],
                "mcp_servers": [{"type": "url", "name": "wiki", "url": "https://mcp.example/sse", "authorization_token": "opaque"}]
            }),
            pointers: &["/messages/0/content/0/title", "/messages/0/content/0/context", "/messages/0/content/0/source/data", "/messages/0/content/2/title", "/messages/0/content/2/source", "/messages/0/content/2/content/0/text", "/messages/0/content/3/text", "/tools/0/description", "/tools/0/input_schema/properties/id/description", "/mcp_servers/0/name", "/mcp_servers/0/url"],
            skipped: &["/messages/0/content/1/source/data"],
        },
        Fixture {
            name: "gemini in snake_case with a text file, code execution and function declarations",
            provider: "gemini",
            path: "/v1beta/models/gemini-2.5-pro:generateContent",
            body: json!({
                "system_instruction": {"parts": [{"text": "Be brief."}]},
                "contents": [
                    {"role": "user", "parts": [
                        {"text": "Read the sheet."},
                        {"inline_data": {"mime_type": "text/csv", "data": "bmFtZSx0ZWFtCkFkYSxwbGF0Zm9ybQo="}},
                        {"inline_data": {"mime_type": "image/png", "data": "iVBORw0KGgo="}}
                    ]},
                    {"role": "model", "parts": [
                        {"function_call": {"name": "lookup", "args": {"who": "Ada"}}},
                        {"executable_code": {"language": "PYTHON", "code": "print(1)"}}
                    ]},
                    {"role": "user", "parts": [
                        {"function_response": {"name": "lookup", "response": {"team": "platform"}}},
                        {"code_execution_result": {"outcome": "OUTCOME_OK", "output": "1"}}
                    ]}
                ],
                "tools": [{"function_declarations": [{"name": "lookup", "description": "Finds a person.", "parameters": {"type": "OBJECT", "properties": {"who": {"type": "STRING", "description": "Their name"}}}}]}]
            }),
            pointers: &["/system_instruction/parts/0/text", "/contents/0/parts/0/text", "/contents/0/parts/1/inline_data/data", "/contents/1/parts/0/function_call/args/who", "/contents/1/parts/1/executable_code/code", "/contents/2/parts/0/function_response/response/team", "/contents/2/parts/1/code_execution_result/output", "/tools/0/function_declarations/0/description", "/tools/0/function_declarations/0/parameters/properties/who/description"],
            skipped: &["/contents/0/parts/2/inline_data/data"],
        },
        Fixture {
            name: "gemini countTokens wrapping a whole request",
            provider: "gemini",
            path: "/v1beta/models/gemini-2.5-flash:countTokens",
            body: json!({"generateContentRequest": {
                "model": "models/gemini-2.5-flash",
                "systemInstruction": {"parts": [{"text": "Count these."}]},
                "contents": [{"role": "user", "parts": [{"text": "How many tokens is this?"}]}]
            }}),
            pointers: &["/generateContentRequest/systemInstruction/parts/0/text", "/generateContentRequest/contents/0/parts/0/text"],
            skipped: &[],
        },
        Fixture {
            name: "bedrock converse with a text document, reasoning and tool specs",
            provider: "bedrock",
            path: "/model/anthropic.claude-3-5-sonnet/converse",
            body: json!({
                "messages": [
                    {"role": "user", "content": [
                        {"text": "Check the runbook."},
                        {"document": {"format": "txt", "name": "runbook", "source": {"bytes": "UnVuYm9vazogcmVzdGFydCB0aGUgYXBpIHBvZHMuCg=="}}},
                        {"document": {"format": "pdf", "name": "deck", "source": {"bytes": "JVBERi0xLjcgYmluYXJ5AAEC"}}}
                    ]},
                    {"role": "assistant", "content": [{"reasoningContent": {"reasoningText": {"text": "The runbook says restart.", "signature": "sig"}}}]}
                ],
                "toolConfig": {"tools": [{"toolSpec": {"name": "restart", "description": "Restarts pods.", "inputSchema": {"json": {"type": "object"}}}}]}
            }),
            pointers: &["/messages/0/content/0/text", "/messages/0/content/1/document/source/bytes", "/messages/1/content/0/reasoningContent/reasoningText/text", "/toolConfig/tools/0/toolSpec/description"],
            // The PDF (not a real one) is read through the extractor, which finds no text.
            skipped: &["/messages/0/content/2/document/source/bytes"],
        },
        Fixture {
            name: "mcp tools/call with nested arguments",
            provider: "mcp:wiki",
            path: "/mcp",
            body: json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {
                "name": "search_wiki", "arguments": {"query": "refund policy", "filters": {"space": "HR"}}}}),
            pointers: &["/params/name", "/params/arguments/query", "/params/arguments/filters/space"],
            skipped: &[],
        },
        Fixture {
            name: "unknown json to an ai host is walked whole",
            provider: "cohere",
            path: "/v2/rerank",
            body: json!({"query": "best plan", "documents": ["plan a", {"text": "plan b"}], "top_n": 1}),
            pointers: &["/query", "/documents/0", "/documents/1/text"],
            skipped: &[],
        },
    ]
}

/// The same JSON with every string emptied: two bodies of the same shape compare equal.
fn shape(v: &Value) -> Value {
    match v {
        Value::String(_) => Value::String(String::new()),
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        other => other.clone(),
    }
}

/// Every string value's pointer in `v`.
fn strings(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::String(_) => out.push(at),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                strings(x, format!("{at}/{i}"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                strings(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        _ => {}
    }
}

#[test]
fn every_text_is_found_with_its_role_and_the_walk_covers_the_rest() {
    for f in fixtures() {
        let p = extract(f.provider, f.path, &f.body);
        // What the adapter placed (a role it knows), in order.
        let placed: Vec<&str> = p
            .segments
            .iter()
            .filter(|s| s.role != Role::Unknown || f.provider == "cohere")
            .filter(|s| matches!(s.place, Place::Value | Place::Base64))
            .map(|s| s.pointer.as_str())
            .collect();
        assert_eq!(placed, f.pointers, "{}", f.name);
        let skipped: Vec<&str> = p.skipped.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(skipped, f.skipped, "{}", f.name);
        for s in &p.segments {
            if s.place == Place::Key {
                let last = s.pointer.rsplit('/').next().unwrap();
                assert_eq!(
                    last.replace("~1", "/").replace("~0", "~"),
                    s.text,
                    "{}",
                    f.name
                );
            } else if s.place == Place::Base64 {
                let raw = f.body.pointer(&s.pointer).and_then(Value::as_str).unwrap();
                assert_eq!(
                    promptwall::providers::encode_file(raw, &s.text),
                    raw,
                    "{}: {} decodes to its text",
                    f.name,
                    s.pointer
                );
            } else {
                assert_eq!(
                    f.body.pointer(&s.pointer).and_then(Value::as_str),
                    Some(s.text.as_str()),
                    "{}: {}",
                    f.name,
                    s.pointer
                );
            }
        }
        // No string is left out: each is a segment or inside a part recorded as skipped.
        let mut all = Vec::new();
        strings(&f.body, String::new(), &mut all);
        for ptr in all {
            let covered = p
                .segments
                .iter()
                .any(|s| matches!(s.place, Place::Value | Place::Base64) && s.pointer == ptr)
                || p.skipped.iter().any(|(sk, _)| ptr.starts_with(sk.as_str()));
            assert!(covered, "{}: {ptr} is neither scanned nor skipped", f.name);
        }
    }
}

#[test]
fn rewriting_every_text_keeps_valid_json_of_the_same_shape() {
    for f in fixtures() {
        let p = extract(f.provider, f.path, &f.body);
        let mut v = f.body.clone();
        for s in p.segments.iter().filter(|s| s.place == Place::Value) {
            *v.pointer_mut(&s.pointer).unwrap() =
                Value::String(format!("[REDACTED:{}]", s.text.len()));
        }
        let reparsed: Value = serde_json::from_slice(&serde_json::to_vec(&v).unwrap()).unwrap();
        assert_eq!(shape(&reparsed), shape(&f.body), "{}", f.name);
        assert_ne!(reparsed, f.body, "{}", f.name);
    }
}

#[test]
fn block_responses_parse_as_each_providers_error() {
    for f in fixtures() {
        let shape = ErrorShape::for_provider(f.provider);
        let v: Value =
            serde_json::from_slice(&shape.body(403, ErrorKind::PolicyViolation, "blocked: secret"))
                .unwrap();
        match shape {
            ErrorShape::OpenAi => {
                assert_eq!(v["error"]["message"], "blocked: secret", "{}", f.name)
            }
            ErrorShape::Anthropic => assert_eq!(
                (v["type"].as_str(), v["error"]["message"].as_str()),
                (Some("error"), Some("blocked: secret"))
            ),
            ErrorShape::Gemini => assert_eq!(v["error"]["status"], "PERMISSION_DENIED"),
            ErrorShape::JsonRpc => assert_eq!(
                (v["jsonrpc"].as_str(), v["error"]["code"].as_i64()),
                (Some("2.0"), Some(-32001))
            ),
        }
        let ev = String::from_utf8(stream_error_event(shape, "cut")).unwrap();
        let data = ev.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
        let parsed: Value = serde_json::from_str(data).unwrap();
        assert!(parsed.get("error").is_some(), "{ev}");
        assert!(ev.ends_with("\n\n"));
    }
}

#[test]
fn adapters_recognise_their_endpoints_and_know_their_limits() {
    use promptwall::providers::adapter_for;
    assert!(adapter_for("openai").recognizes("POST", "/v1/chat/completions"));
    assert!(adapter_for("openai").recognizes("POST", "/v1/responses"));
    assert!(!adapter_for("openai").recognizes("GET", "/v1/models"));
    assert!(adapter_for("anthropic").recognizes("POST", "/v1/messages"));
    assert!(adapter_for("gemini").recognizes("POST", "/v1beta/models/g:generateContent"));
    assert!(adapter_for("bedrock").recognizes("POST", "/model/m/converse"));
    assert!(adapter_for("bedrock").body_is_signed() && !adapter_for("openai").body_is_signed());
    assert_eq!(adapter_for("groq").family(), "openai");
    let v: Value =
        serde_json::from_slice(&adapter_for("anthropic").block_response(403, "no")).unwrap();
    assert_eq!(v["error"]["type"], "permission_error");
    assert!(
        String::from_utf8(adapter_for("anthropic").stream_block_event("no"))
            .unwrap()
            .starts_with("event: error")
    );
}

/// Every object's pointer in `v` (where a key can be added).
fn objects(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                objects(x, format!("{at}/{i}"), out);
            }
        }
        Value::Object(m) => {
            out.push(at.clone());
            for (k, x) in m {
                objects(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        _ => {}
    }
}

mod secret_anywhere {
    use super::*;
    use proptest::prelude::*;
    use std::sync::{Arc, OnceLock};

    fn inspector() -> &'static promptwall::inspect::Inspector {
        static I: OnceLock<promptwall::inspect::Inspector> = OnceLock::new();
        I.get_or_init(|| {
            promptwall::inspect::Inspector::new(
                Arc::new(classifiers::builtin_engine().unwrap()),
                Arc::new(policy::Store::in_memory()),
                b"prop test key".to_vec(),
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// A credential placed anywhere in any provider's request (a string value, inside
        /// one, or as a new object key) is found and the request is blocked.
        #[test]
        fn a_secret_at_any_path_of_any_provider_shape_is_blocked(
            which in any::<prop::sample::Index>(),
            place in any::<prop::sample::Index>(),
            as_key in any::<bool>(),
            prefix in "([a-z]{1,8} ){0,3}",
        ) {
            let fixtures = fixtures();
            let f = which.get(&fixtures);
            let secret = format!("{prefix}AKIAQWERTYUIOPASDFGH");
            let mut body = f.body.clone();
            let mut strs = Vec::new();
            strings(&body, String::new(), &mut strs);
            let mut objs = Vec::new();
            objects(&body, String::new(), &mut objs);
            let where_ = if as_key || strs.is_empty() {
                let at = place.get(&objs).clone();
                body.pointer_mut(&at).unwrap().as_object_mut().unwrap()
                    .insert(secret.clone(), json!(1));
                format!("key in {at:?}")
            } else {
                let at = place.get(&strs).clone();
                *body.pointer_mut(&at).unwrap() = Value::String(secret.clone());
                format!("value at {at:?}")
            };
            let identity = policy::Identity {
                tenant: "t".into(),
                user: None,
                groups: vec![],
                method: "default",
            };
            let raw = serde_json::to_vec(&body).unwrap();
            let i = inspector().inspect_json(&identity, f.provider, f.path, &raw).unwrap();
            prop_assert_eq!(i.decision.action, policy::Action::Block, "{}: {}", f.name, where_);
        }
    }
}
