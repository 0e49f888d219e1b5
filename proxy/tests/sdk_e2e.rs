//! The providers' own SDKs through PromptWall, as users' applications run them (issue 17):
//! the OpenAI Python SDK uploading files (`files.create`) and the MCP Python SDK running an
//! agent's tool session (streamable HTTP), both through the gateway. `make test` installs the
//! pinned SDKs into `.cache/sdk` (scripts/setup.sh).

mod common;

use common::*;
use load_tests::mock::MockConfig;

const SECRET: &str = "AKIAQWERTYUIOPASDFGH";

/// Runs a client script with the pinned SDKs; its stdout is one JSON object.
fn python(script: &str, args: &[&str]) -> serde_json::Value {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let sdk = root.join(".cache/sdk");
    assert!(
        sdk.join(".pinned").exists(),
        "the client SDKs are not installed: run scripts/setup.sh (make test does)"
    );
    let out = std::process::Command::new("python3")
        .arg(root.join("proxy/tests/clients").join(script))
        .args(args)
        .env("PYTHONPATH", &sdk)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{script}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{script}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_sdk_is_refused_secret_files_and_uploads_clean_ones_on_both_paths() {
    use promptwall::extract::samples::{docx_with, pdf_with};
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_d, yaml) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let proxy = Proxy::start(&yaml).await;
    let dir = TempDir::new("sdk-files");
    let write = |name: &str, bytes: Vec<u8>| {
        let p = dir.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    };
    let files = [
        write(
            "keys.yaml",
            format!("aws_access_key_id: {SECRET}\n").into_bytes(),
        ),
        write(
            "report.pdf",
            pdf_with(&["Quarterly report", &format!("deploy key {SECRET}")]),
        ),
        write(
            "notes.docx",
            docx_with(&["Notes", &format!("use {SECRET} for the bucket")]),
        ),
        write("readme.md", b"# Plan\nShip on Friday.\n".to_vec()),
    ];
    let ca = write("ca.pem", proxy.ca_pem.clone().into_bytes());
    let gateway = vec![format!("http://{}/openai/v1", proxy.gateway)];
    let connect = vec![
        "https://api.openai.com/v1".to_string(),
        "--proxy".into(),
        format!("http://{}", proxy.proxy),
        "--ca".into(),
        ca,
    ];
    for (path, mut args) in [("gateway", gateway), ("CONNECT", connect)] {
        args.extend(files.iter().cloned());
        let out = tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            python("openai_files.py", &refs)
        })
        .await
        .unwrap();
        // The SDK raises PermissionDeniedError with PromptWall's code and message.
        for name in ["keys.yaml", "report.pdf", "notes.docx"] {
            assert_eq!(out[name]["status"], 403, "{path}: {out}");
            assert_eq!(
                out[name]["code"], "promptwall_policy_block",
                "{path}: {out}"
            );
        }
        assert_eq!(out["readme.md"]["id"], "file-mock", "{path}: {out}");
    }
    let received = mock.received();
    assert_eq!(received.len(), 2, "only the clean uploads went up");
    for r in &received {
        assert!(!r.body.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()));
    }
}

/// The MCP SDK on both transports, and a server that answers streamable HTTP in SSE (the
/// SDKs' servers' default): tools listed, a clean call, a secret call refused with the policy
/// message (and the session goes on), a tool result carrying a secret refused, and a poisoned
/// tool list withheld. On the legacy transport the refusals arrive on the session's stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mcp_sdk_is_inspected_on_every_transport() {
    let host = "mcp.wiki.example";
    let (mock, pem) = tls_mock(&[host], MockConfig::default()).await;
    let (_d, upstream) = upstream_yaml(&pem, mock.addr, &[host]);
    let proxy = Proxy::start(&format!(
        "{upstream}mcp:\n  servers:\n    wiki: https://{host}/mcp\n    docs: https://{host}/mcp/stream\n    legacy: https://{host}/legacy\n"
    ))
    .await;
    let cases = [
        ("streamable, JSON answers", "wiki", "streamable"),
        ("streamable, SSE answers", "docs", "streamable"),
        ("legacy HTTP+SSE", "legacy/sse", "sse"),
    ];
    for (what, path, transport) in cases {
        let url = format!("http://{}/mcp/{path}", proxy.gateway);
        let out = tokio::task::spawn_blocking(move || {
            python("mcp_session.py", &[&url, SECRET, transport])
        })
        .await
        .unwrap();
        assert_eq!(
            out["tools"],
            serde_json::json!(["search_wiki", "delete_page", "fetch_page"]),
            "{what}: {out}"
        );
        assert_eq!(out["clean"], "3 pages match refund policy", "{what}: {out}");
        assert_eq!(out["after"], "3 pages match pricing", "{what}: {out}");
        for step in ["secret", "result", "poisoned"] {
            assert_eq!(out[step]["error"], "MCPError", "{what}: {step}: {out}");
        }
        assert!(
            out["result"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("Credentials must never be sent")),
            "{what}: {out}"
        );
        assert!(
            out["poisoned"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("tool description")),
            "{what}: {out}"
        );
        assert!(
            out["secret"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("Credentials must never be sent")),
            "{what}: {out}"
        );
        assert!(!out.to_string().contains(SECRET), "{what}: {out}");
    }
    assert!(!mock
        .received()
        .iter()
        .any(|r| r.body.windows(SECRET.len()).any(|w| w == SECRET.as_bytes())));
    let responses = proxy.audit_events(&["--kind", "ai_response"]);
    for server in ["mcp:wiki", "mcp:docs", "mcp:legacy"] {
        assert!(
            responses.iter().any(|e| e["provider"] == server
                && e["response_rules"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|x| x == "block-tool-poisoning"))),
            "{server}: {responses:?}"
        );
    }
}
