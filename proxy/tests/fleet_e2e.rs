//! Fleet mode (issue 19) on real servers: Redis and PostgreSQL from Debian's packages (setup
//! installs them), started here in temp dirs on loopback ports.
//!
//! - Two nodes share the pseudonym vault: a Responses conversation whose turns alternate
//!   between them keeps its pseudonyms, Redis holds no original value in the clear, and with
//!   Redis down a fail-closed tenant's conversation is refused with a clear error while a
//!   fail-open one goes on.
//! - Two nodes share policies: one applied through node A is enforced by node B within 1 s;
//!   with PostgreSQL down both keep enforcing and B reports `degraded`; when it is back B
//!   catches up.

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

/// A PostgreSQL cluster of its own (initdb in a temp dir, trust auth, loopback port); stopped
/// on drop. As root, the server runs as the `postgres` user, since it refuses root.
struct Postgres {
    bin: std::path::PathBuf,
    data: std::path::PathBuf,
    port: u16,
    _dir: TempDir,
}

fn as_postgres(cmd: &std::path::Path) -> Command {
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(cmd);
        c
    } else {
        Command::new(cmd)
    }
}

impl Postgres {
    async fn start() -> Postgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is missing: run scripts/setup.sh (make test does), which installs Debian's postgresql")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .max()
            .expect("no PostgreSQL server binaries under /usr/lib/postgresql");
        let dir = TempDir::new("postgres");
        let data = dir.0.join("data");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        let out = as_postgres(&bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pg = Postgres {
            bin,
            data,
            port: free_port(),
            _dir: dir,
        };
        pg.run();
        pg
    }

    /// Starts (or restarts) the server and waits until it accepts connections.
    fn run(&self) {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off",
            self.port
        );
        let out = as_postgres(&self.bin.join("pg_ctl"))
            .args(["-w", "-t", "30", "-D"])
            .arg(&self.data)
            .args(["-o", &opts, "-l"])
            .arg(self.data.join("../pg.log"))
            .arg("start")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn stop(&self) {
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .args(["-w", "-m", "immediate", "-D"])
            .arg(&self.data)
            .arg("stop")
            .output();
    }

    fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_applied_on_one_node_is_enforced_on_the_other() {
    let pg = Postgres::start().await;
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_ca, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let dir = TempDir::new("fleet-policies");
    std::fs::write(dir.0.join("acme.yaml"), POLICY).unwrap();
    let admin = format!(
        "  tokens:\n    - {{ name: secops, token_hash: \"{}\", role: admin, tenant: acme }}\n",
        policy::SecretHash::create("tok")
    );
    let config = format!(
        "{upstream}policies:\n  dir: {}\nfleet:\n  postgres:\n    url: \"{}\"\n    timeout_ms: 1000\n",
        dir.0.display(),
        pg.url()
    );
    let a = Proxy::start_with(&config, "", &admin).await;
    let b = Proxy::start_with(&config, "", &admin).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let ask = |node: &Proxy| {
        http.post(format!(
            "http://{}/openai/v1/chat/completions",
            node.gateway
        ))
        .header("x-user", "ann")
        .json(&chat("Where is the Q3 roadmap for Project Falcon?", false))
        .send()
    };
    assert_eq!(ask(&b).await.unwrap().status(), 200);
    let readyz = |node: &Proxy| {
        let url = format!("http://{}/readyz", node.admin);
        async move {
            reqwest::get(url)
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(readyz(&b).await["degraded"], false, "{}", readyz(&b).await);

    // Node A takes a change; node B enforces it within a second.
    let stricter = format!("{POLICY}  - {{ id: pause-ann, when: {{ users: [ann] }}, action: block, message: \"Your AI access is paused.\" }}\n");
    let put = http
        .put(format!("http://{}/v1/policies/acme", a.admin))
        .bearer_auth("tok")
        .body(stricter.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());
    let applied = std::time::Instant::now();
    loop {
        if ask(&b).await.unwrap().status() == 403 {
            break;
        }
        assert!(
            applied.elapsed() < std::time::Duration::from_secs(1),
            "node B did not enforce node A's change within 1 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let h: Value = http
        .get(format!("http://{}/v1/policies/acme/history", b.admin))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let versions = h["versions"].as_array().unwrap();
    assert_eq!(versions.last().unwrap()["author"], "secops", "{h}");
    let diff = http
        .get(format!(
            "http://{}/v1/policies/acme/diff?from=1&to=2",
            b.admin
        ))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(diff.contains("+  - { id: pause-ann"), "{diff}");

    // PostgreSQL down: both nodes keep enforcing; B says it is degraded, and why; a change
    // is refused rather than applied on one node only.
    pg.stop();
    assert_eq!(ask(&b).await.unwrap().status(), 403);
    let mut r = readyz(&b).await;
    for _ in 0..100 {
        if r["degraded"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        r = readyz(&b).await;
    }
    assert_eq!(r["degraded"], true, "{r}");
    assert!(
        r["reasons"][0]
            .as_str()
            .is_some_and(|m| m.contains("PostgreSQL")),
        "{r}"
    );
    let put = http
        .put(format!("http://{}/v1/policies/acme", a.admin))
        .bearer_auth("tok")
        .body(POLICY)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 503);
    assert_eq!(ask(&a).await.unwrap().status(), 403);

    // Back: B catches up, and a rollback made from the CLI (straight into PostgreSQL)
    // reaches both nodes.
    pg.run();
    for node in [&a, &b] {
        let mut r = readyz(node).await;
        for _ in 0..200 {
            if r["degraded"] == false {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            r = readyz(node).await;
        }
        assert_eq!(r["degraded"], false, "{r}");
    }
    let first = versions.first().unwrap()["version"].as_u64().unwrap();
    let out = a.cli(&[
        "policy",
        "rollback",
        "acme",
        &first.to_string(),
        "--author",
        "oncall",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for node in [&a, &b] {
        let mut ok = false;
        for _ in 0..50 {
            if ask(node).await.unwrap().status() == 200 {
                ok = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(
            ok,
            "the rollback did not reach a node within 1 s: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            node.log()
        );
    }
}
