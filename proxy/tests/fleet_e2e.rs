//! Fleet mode (issue 19) on real servers: Redis from Debian's packages (setup installs it),
//! started here in a temp dir on a loopback port. Two PromptWall nodes share the pseudonym
//! vault: a Responses conversation whose turns alternate between them keeps its pseudonyms,
//! Redis holds no original value in the clear, and with Redis down a fail-closed tenant's
//! conversation is refused with a clear error while a fail-open one goes on.

mod common;

use common::*;
use load_tests::mock::MockConfig;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};

const POLICY: &str = "tenant: acme
on_classifier_error: fail_closed
identity:
  trusted_header: { user_header: X-User, from_cidrs: [127.0.0.0/8] }
rules:
  - { id: pii, when: { category: pii }, action: redact, redact: pseudonym }
";

const OPEN_POLICY: &str = "tenant: globex
on_classifier_error: fail_open
identity:
  trusted_header: { user_header: X-Globex-User, from_cidrs: [127.0.0.0/8] }
rules:
  - { id: pii, when: { category: pii }, action: redact, redact: pseudonym }
";

/// A `redis-server` of its own, on a loopback port, persisting nothing; killed on drop.
struct Redis {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Redis {
    async fn start() -> Redis {
        let dir = TempDir::new("redis");
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(&dir.0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is missing: run scripts/setup.sh (make test does), which installs Debian's redis-server");
        let r = Redis {
            child,
            port,
            _dir: dir,
        };
        for _ in 0..100 {
            if r.client().get_multiplexed_async_connection().await.is_ok() {
                return r;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("redis-server did not start on port {port}");
    }

    fn client(&self) -> redis::Client {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).unwrap()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_a_conversations_pseudonyms_through_redis() {
    let mut redis = Redis::start().await;
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_ca, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let dir = TempDir::new("fleet");
    std::fs::write(dir.0.join("acme.yaml"), POLICY).unwrap();
    std::fs::write(dir.0.join("globex.yaml"), OPEN_POLICY).unwrap();
    let key = dir.0.join("vault.key");
    std::fs::write(&key, "5a".repeat(32)).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let config = format!(
        "{upstream}policies:\n  dir: {}\nfleet:\n  redis:\n    url: redis://127.0.0.1:{}/\n    key_file: {}\n    timeout_ms: 300\n",
        dir.0.display(),
        redis.port,
        key.display()
    );
    let (a, b) = (Proxy::start(&config).await, Proxy::start(&config).await);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let turn = |node: &Proxy, body: Value, reply: Option<&str>| {
        let mut req = http
            .post(format!("http://{}/openai/v1/responses", node.gateway))
            .header("x-user", "ann")
            .json(&body);
        req = match reply {
            Some(r) => req.header("x-mock-reply-reversed", reversed(r)),
            None => req.header("x-mock-echo", "1"),
        };
        req.send()
    };
    // Turn 1 on node A: the address leaves as <EMAIL_1>.
    let r = turn(
        &a,
        json!({"model": "gpt-4o-mini", "input": "Email ana.ruiz@globex-corp.com the plan"}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    // Turn 2 on node B continues the numbering and restores both tokens.
    let r = turn(
        &b,
        json!({"model": "gpt-4o-mini", "previous_response_id": id, "input": "Also cc bo.lee@globex-corp.com"}),
        Some("Sent to <EMAIL_1> and <EMAIL_2>."),
    )
    .await
    .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["output"][0]["content"][0]["text"],
        "Sent to ana.ruiz@globex-corp.com and bo.lee@globex-corp.com.",
        "{v}"
    );
    // Turn 3 back on node A: nothing redacted, yet turn 2's token is restored.
    let r = turn(
        &a,
        json!({"model": "gpt-4o-mini", "previous_response_id": id, "input": "Thanks!"}),
        Some("Remember <EMAIL_2>."),
    )
    .await
    .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["output"][0]["content"][0]["text"], "Remember bo.lee@globex-corp.com.",
        "{v}"
    );
    let sent: Vec<Value> = mock
        .received()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(sent[1]["input"], "Also cc <EMAIL_2>", "{sent:?}");

    // Redis holds the mappings sealed: no original value, no conversation id in clear.
    let mut conn = redis
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("promptwall:vault:*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    for k in &keys {
        assert!(!k.contains(&id), "{k}");
        let v: Vec<u8> = redis::cmd("GET")
            .arg(k)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(!v.windows(7).any(|w| w == b"globex-"), "a value in clear");
        let ttl: i64 = redis::cmd("PTTL")
            .arg(k)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(ttl > 0, "every mapping expires");
    }

    // Redis down: a fail-closed tenant's conversation is refused, clearly; a fail-open
    // tenant's goes on (its earlier tokens then stay unrestored).
    redis.stop();
    let r = turn(
        &b,
        json!({"model": "gpt-4o-mini", "previous_response_id": id, "input": "One more"}),
        Some("ok"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 503);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("pseudonym store")),
        "{v}"
    );
    let r = http
        .post(format!("http://{}/openai/v1/responses", a.gateway))
        .header("x-globex-user", "gus")
        .header("x-mock-reply-reversed", reversed("fine"))
        .json(&json!({"model": "gpt-4o-mini", "previous_response_id": "resp_x", "input": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A fresh chat (no stored conversation needed) is not held up either.
    let r = http
        .post(format!("http://{}/openai/v1/chat/completions", a.gateway))
        .header("x-user", "ann")
        .json(&chat("hello", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(a.metric("promptwall_vault_errors_total").await >= 1.0);
}
