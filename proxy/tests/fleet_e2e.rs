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
//! - Two nodes ship their usage logs to one ClickHouse (Debian's 18.16): one query sees both,
//!   an outage during a burst loses and doubles nothing, a re-sent spool is seen once, and
//!   `audit verify --fleet` checks every node's chain and names an edit.

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
            Some(r) => req.header("x-mock-reply-mirror", reversed(r)),
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
        .header("x-mock-reply-mirror", reversed("fine"))
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

/// Polls a node's `/readyz` (for up to 10 s) until it says `degraded: want`; returns it.
async fn readyz_until(node: &Proxy, want: bool) -> Value {
    let url = format!("http://{}/readyz", node.admin);
    let mut r = Value::Null;
    for _ in 0..200 {
        r = reqwest::get(&url).await.unwrap().json().await.unwrap();
        if r["degraded"] == want {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("/readyz never said degraded={want}: {r}");
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
    readyz_until(&b, false).await;

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
    let r = readyz_until(&b, true).await;
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
        readyz_until(node, false).await;
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

/// A ClickHouse server of its own (Debian's 18.16), its data in a temp dir, HTTP on a loopback
/// port; killed on drop. `restart` keeps the data.
struct ClickHouseServer {
    child: Option<Child>,
    http: u16,
    dir: TempDir,
}

impl ClickHouseServer {
    async fn start() -> ClickHouseServer {
        let dir = TempDir::new("clickhouse");
        let (http, tcp) = (free_port(), free_port());
        let d = dir.0.display();
        std::fs::write(
            dir.0.join("config.xml"),
            format!(
                "<yandex><logger><level>warning</level><log>{d}/server.log</log><errorlog>{d}/error.log</errorlog><console>0</console></logger>\
                 <http_port>{http}</http_port><tcp_port>{tcp}</tcp_port><listen_host>127.0.0.1</listen_host>\
                 <path>{d}/data/</path><tmp_path>{d}/tmp/</tmp_path><user_files_path>{d}/user_files/</user_files_path>\
                 <format_schema_path>{d}/format_schemas/</format_schema_path><users_config>{d}/users.xml</users_config>\
                 <default_profile>default</default_profile><default_database>default</default_database>\
                 <mark_cache_size>268435456</mark_cache_size><max_concurrent_queries>50</max_concurrent_queries></yandex>"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.0.join("users.xml"),
            "<yandex><profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>\
             <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>\
             <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas></yandex>",
        )
        .unwrap();
        let mut s = ClickHouseServer {
            child: None,
            http,
            dir,
        };
        s.run().await;
        s
    }

    async fn run(&mut self) {
        let child = Command::new("clickhouse-server")
            .arg(format!("--config-file={}", self.dir.0.join("config.xml").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("clickhouse-server is missing: run scripts/setup.sh (make test does), which installs Debian's clickhouse-server");
        self.child = Some(child);
        for _ in 0..300 {
            if self.sql("SELECT 1").await.is_some() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!(
            "clickhouse-server did not start; see {}",
            self.dir.0.display()
        );
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    async fn sql(&self, q: &str) -> Option<String> {
        let r = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .post(format!("http://127.0.0.1:{}/", self.http))
            .body(q.to_string())
            .send()
            .await
            .ok()?;
        r.status().is_success().then_some(())?;
        r.text().await.ok()
    }
}

impl Drop for ClickHouseServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A count from ClickHouse (0 while it is down).
async fn count(ch: &ClickHouseServer, sql: &str) -> usize {
    ch.sql(sql)
        .await
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(0)
}

const REQUESTS: &str = "SELECT count() FROM pwtest.events FINAL WHERE kind = 'ai_request'";

/// Waits until ClickHouse sees `want` requests, each once.
async fn wait_for(ch: &ClickHouseServer, want: usize) {
    let mut got = 0;
    for _ in 0..300 {
        got = count(ch, REQUESTS).await;
        if got == want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("ClickHouse has {got} requests, want {want}");
}

/// Two nodes ship their usage logs to one ClickHouse: both are queryable in one `audit
/// query`; ClickHouse stopped during a burst and restarted loses nothing and doubles nothing;
/// a node killed mid-burst ships what it committed once it is back; a node restarted with its
/// cursor lost re-sends everything, and queries still see each event once; `audit verify
/// --fleet` checks each node's chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_nodes_usage_logs_land_in_clickhouse_exactly_once() {
    let mut ch = ClickHouseServer::start().await;
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_ca, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let config = |node: &str| {
        format!(
            "{upstream}fleet:\n  clickhouse:\n    url: http://127.0.0.1:{}\n    database: pwtest\n    node: {node}\n    batch: 16\n    interval_ms: 100\n    timeout_ms: 2000\n",
            ch.http
        )
    };
    let admin = format!(
        "  tokens:\n    - {{ name: audit, token_hash: \"{}\", role: superadmin }}\n",
        policy::SecretHash::create("tok")
    );
    let mut a = Proxy::start_with(&config("node-a"), "", &admin).await;
    let b = Proxy::start_with(&config("node-b"), "", &admin).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let burst = |node: &Proxy, n: usize| {
        let url = format!("http://{}/openai/v1/chat/completions", node.gateway);
        let http = http.clone();
        async move {
            for i in 0..n {
                let text = if i % 4 == 0 {
                    format!("key AKIAQWERTYUIOPASDFG{}", i % 10)
                } else {
                    format!("question {i}")
                };
                let r = http
                    .post(&url)
                    .json(&chat(&text, false))
                    .send()
                    .await
                    .unwrap();
                assert!(r.status() == 200 || r.status() == 403);
            }
        }
    };
    burst(&a, 12).await;
    burst(&b, 8).await;
    wait_for(&ch, 20).await;
    let out = a.cli(&[
        "audit",
        "query",
        "--kind",
        "ai_request",
        "--limit",
        "1000",
        "--format",
        "jsonl",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        20,
        "one query sees both nodes"
    );
    // The admin API (and the console) read the fleet's log too.
    let v: Value = http
        .get(format!(
            "http://{}/v1/audit/events?kind=ai_request&limit=1000&order=newest",
            b.admin
        ))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["events"].as_array().map(Vec::len), Some(20), "{v}");
    // Insider-risk analytics read the fleet's log too (a cursor per node): node A's rollup
    // counts node B's requests.
    let out = a.cli(&["risk", "users", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let risks: Value = serde_json::from_slice(&out.stdout).unwrap();
    let requests: f64 = risks
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|u| u["signals"].as_array().unwrap().iter())
        .filter(|s| s["name"] == "requests")
        .map(|s| s["value"].as_f64().unwrap())
        .sum();
    assert_eq!(requests, 20.0, "{risks}");
    let by_node = ch
        .sql("SELECT node, count() FROM pwtest.events FINAL WHERE kind = 'ai_request' GROUP BY node ORDER BY node FORMAT TSV")
        .await
        .unwrap();
    assert_eq!(by_node, "node-a\t12\nnode-b\t8\n");

    // ClickHouse goes away during a burst and comes back: everything arrives, once.
    ch.stop();
    burst(&a, 10).await;
    burst(&b, 5).await;
    // The lag shows while ClickHouse is away.
    let mut lag = 0.0;
    for _ in 0..100 {
        lag = a.metric("promptwall_ship_lag_events").await;
        if lag > 0.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(lag > 0.0, "no lag reported while ClickHouse is down");
    assert!(a.metric("promptwall_ship_failures_total").await > 0.0);
    ch.run().await;
    wait_for(&ch, 35).await;

    // Node A is killed (SIGKILL) in the middle of a burst: what it committed (and only that)
    // reaches ClickHouse once it is back, from its spool.
    let url = format!("http://{}/openai/v1/chat/completions", a.gateway);
    let sender = {
        let http = http.clone();
        tokio::spawn(async move {
            for i in 0..400 {
                let r = http
                    .post(&url)
                    .json(&chat(&format!("burst {i}"), false))
                    .send()
                    .await;
                if r.is_err() {
                    break;
                }
            }
        })
    };
    let local = |a: &Proxy| {
        promptwall::audit::AuditStore::open(&a.dir.0.join("state/audit.db"))
            .unwrap()
            .query(&promptwall::audit::Filter {
                kind: Some("ai_request".into()),
                limit: 10_000,
                ..Default::default()
            })
            .unwrap()
            .len()
    };
    // Kill it once the burst is well under way (some of it shipped, some not yet).
    for _ in 0..500 {
        if local(&a) >= 30 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let _ = a.child.kill();
    let _ = a.child.wait();
    let _ = sender.await;
    let committed = local(&a);
    assert!(committed >= 30, "the burst reached node A before the kill");
    a.restart().await;
    // Node B has 13 of its own.
    let want = committed + 13;
    wait_for(&ch, want).await;

    // Node A dies, and its cursor with it: on restart it sends its whole spool again.
    let _ = a.child.kill();
    let _ = a.child.wait();
    std::fs::write(a.dir.0.join("state/clickhouse.cursor"), "0\n").unwrap();
    a.restart().await;
    // Every row of its spool goes out again (ClickHouse's merges may already have folded
    // the copies, so count what was sent rather than what is stored).
    let spool = promptwall::audit::AuditStore::open(&a.dir.0.join("state/audit.db"))
        .unwrap()
        .last_row()
        .unwrap()
        .map_or(0, |(seq, _)| seq) as f64;
    let mut resent = false;
    for _ in 0..300 {
        if a.metric("promptwall_shipped_events_total").await >= spool {
            resent = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(resent, "node A re-sent its spool");
    assert_eq!(
        count(&ch, REQUESTS).await,
        want,
        "queries see each event once"
    );
    let out = a.cli(&["audit", "stats", "--by", "decision", "--kind", "ai_request"]);
    let stats = String::from_utf8_lossy(&out.stdout);
    let total: usize = stats
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse::<usize>().ok())
        .sum();
    assert_eq!(total, want, "{stats}");
    let out = a.cli(&["audit", "verify", "--fleet"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("node node-a") && text.contains("node node-b"),
        "{text}"
    );

    // An edited row is named (a newer row on the same key replaces it, as an edit would).
    let edited = ch
        .sql("INSERT INTO pwtest.events SELECT node, seq, id, time, kind, tenant, user, provider, model, decision, categories, entities, rules, groups, replaceAll(body, '\"decision\"', '\"decisi0n\"'), prev_hash, hash FROM pwtest.events FINAL WHERE node = 'node-b' AND seq = 3")
        .await;
    assert!(edited.is_some());
    let out = a.cli(&["audit", "verify", "--fleet"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && text.contains("node node-b: row 3 was edited"),
        "{text}"
    );
}
