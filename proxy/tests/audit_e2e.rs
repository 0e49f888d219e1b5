//! The usage log end to end: what auditors see after real traffic, tamper evidence, and
//! durability across `kill -9`.

mod common;

use common::*;
use load_tests::mock::MockConfig;
use std::collections::HashSet;

const URL: &str = "https://api.openai.com/v1/chat/completions";

async fn setup() -> (Proxy, TempDir, TempDir) {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (ca, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    std::mem::forget(mock);
    let policies = TempDir::new("audit-policies");
    std::fs::write(policies.0.join("acme.yaml"), "tenant: acme\nrules:\n  - {id: no-keys, when: {category: secret}, action: block}\n  - {id: mask-pii, when: {category: pii}, action: redact}\n").unwrap();
    let (a, g) = (
        policy::SecretHash::create("a"),
        policy::SecretHash::create("g"),
    );
    let proxy = Proxy::start(&format!(
        "{upstream}policies:\n  dir: {}\nauth:\n  credentials:\n    - {{ username: ann, secret_hash: \"{a}\", tenant: acme }}\n    - {{ username: gus, secret_hash: \"{g}\", tenant: globex }}\n",
        policies.0.display()
    ))
    .await;
    (proxy, ca, policies)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditors_see_exactly_what_happened_and_no_values() {
    let (proxy, _ca, _p) = setup().await;
    let (ann, gus) = (proxy.client_as("ann", "a"), proxy.client_as("gus", "g"));
    let ok = ann
        .post(URL)
        .json(&chat("plan the offsite agenda", false))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let ok_len = ok.bytes().await.unwrap().len() as u64;
    let red = ann
        .post(URL)
        .json(&chat("mail dana.ortiz@globex-corp.com the agenda", false))
        .send()
        .await
        .unwrap();
    assert_eq!(red.status(), 200);
    // The redacted request's answer has its pseudonyms restored: its own length.
    let red_len = red.bytes().await.unwrap().len() as u64;
    let blk = ann
        .post(URL)
        .json(&chat("use AKIAQWERTYUIOPASDFGH to deploy", false))
        .send()
        .await
        .unwrap();
    assert_eq!(blk.status(), 403);
    let g = gus
        .post(URL)
        .json(&chat("mail dana.ortiz@globex-corp.com the agenda", false))
        .send()
        .await
        .unwrap();
    assert_eq!(g.status(), 200);

    let acme = proxy.audit_events(&["--tenant", "acme", "--kind", "ai_request"]);
    let decisions: Vec<&str> = acme
        .iter()
        .map(|e| e["decision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["allow", "redact", "block"], "{acme:#?}");
    assert!(acme
        .iter()
        .all(|e| e["user"] == "ann" && e["provider"] == "openai" && e["model"] == "gpt-4o-mini"));
    assert_eq!(acme[1]["reasons"][0]["entity"], "email");
    // Coverage: exactly the texts the model sees were scanned.
    assert_eq!(
        acme[0]["coverage"]["scanned"],
        serde_json::json!(["/messages/0/content", "/messages/1/content"])
    );
    assert_eq!(acme[1]["redactions"], 1);
    assert_eq!(acme[2]["reasons"][0]["rule"], "no-keys");
    assert_eq!(acme[2]["status"], 403);
    let globex = proxy.audit_events(&["--tenant", "globex", "--kind", "ai_request"]);
    assert_eq!(globex.len(), 1);
    assert_eq!(
        globex[0]["decision"], "redact",
        "globex runs the default policy (pseudonymize)"
    );
    let blocked = proxy.audit_events(&["--action", "block", "--category", "secret"]);
    assert_eq!(blocked.len(), 1);
    // Response records are queued without holding up the client; they land shortly after.
    let responses =
        proxy.audit_events_eventually(&["--tenant", "acme", "--kind", "ai_response"], 2);
    assert_eq!(responses.len(), 2, "{responses:#?}");
    // The redacted request has a response record too (landed above), but reasons live on the
    // request record: a category filter counts the request once.
    let pii = proxy.audit_events(&["--tenant", "acme", "--category", "pii"]);
    assert_eq!(pii.len(), 1, "{pii:#?}");
    assert_eq!(pii[0]["kind"], "ai_request");
    assert!(responses
        .iter()
        .all(|e| e["status"] == 200 && e["upstream_ms"].is_u64()));
    // The provider's token counts (the mock answers 8 words), for usage questions.
    assert!(
        responses
            .iter()
            .all(|e| e["input_tokens"] == 1 && e["output_tokens"] == 8),
        "{responses:#?}"
    );
    // And the body bytes each client received, in order of the requests.
    let sent: Vec<u64> = responses
        .iter()
        .map(|e| e["response_bytes"].as_u64().unwrap())
        .collect();
    assert_eq!(sent, [ok_len, red_len], "{responses:#?}");
    assert!(ok_len > 0);

    let stats = proxy.cli(&[
        "audit",
        "stats",
        "--by",
        "decision",
        "--tenant",
        "acme",
        "--kind",
        "ai_request",
    ]);
    let stats = String::from_utf8(stats.stdout).unwrap();
    assert!(
        stats.contains("block") && stats.contains("redact") && stats.contains("allow"),
        "{stats}"
    );
    let cef = String::from_utf8(
        proxy
            .cli(&["audit", "export", "--format", "cef", "--action", "block"])
            .stdout,
    )
    .unwrap();
    assert!(
        cef.starts_with("CEF:0|PromptWall|PromptWall|") && cef.contains("cs3=no-keys"),
        "{cef}"
    );

    // The database holds no prompt text and no finding values.
    let mut raw = std::fs::read(proxy.dir.0.join("state/audit.db")).unwrap();
    raw.extend(std::fs::read(proxy.dir.0.join("state/audit.db-wal")).unwrap_or_default());
    let raw = String::from_utf8_lossy(&raw);
    for secret in ["AKIAQWERTYUIOPASDFGH", "dana.ortiz", "offsite agenda"] {
        assert!(
            !raw.contains(secret),
            "{secret} found in the audit database"
        );
    }
    let v = proxy.cli(&["audit", "verify"]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_was_not_scanned_is_recorded_without_content() {
    let (proxy, _ca, _p) = setup().await;
    let ann = proxy.client_as("ann", "a");
    let body = serde_json::json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "what is in this picture?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
        ]}],
        "metadata": {"customer AKIAQWERTYUIOPASDFGH": "x"}
    });
    let r = ann.post(URL).json(&body).send().await.unwrap();
    assert_eq!(
        r.status(),
        403,
        "a key outside the provider's fields is scanned too, object keys included"
    );
    let e = proxy.audit_events(&["--kind", "ai_request"]);
    let cov = &e[0]["coverage"];
    assert!(cov["scanned_other"].as_u64().unwrap() >= 3, "{cov}");
    assert_eq!(
        cov["scanned"],
        serde_json::json!(["/messages/0/content/0/text"])
    );
    assert_eq!(cov["skipped"][0]["pointer"], "/messages/0/content/1");
    assert_eq!(
        cov["skipped"][0]["why"],
        "binary part (image, audio or file)"
    );
    let raw = serde_json::to_string(&e).unwrap();
    assert!(
        !raw.contains("AKIAQWERTYUIOPASDFGH") && !raw.contains("picture"),
        "{raw}"
    );
    // A text body that is not JSON is scanned as text.
    let r = ann
        .post(URL)
        .header("content-type", "text/plain")
        .body("plain words, not JSON")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let e = proxy.audit_events(&["--kind", "ai_request"]);
    let last = e.last().unwrap();
    assert_eq!(
        last["coverage"]["scanned"],
        serde_json::json!(["body"]),
        "{last}"
    );
    // A body that cannot be read at all is refused (on_uninspectable: block by default), and
    // the record says why (the file extractors recognise an image and have no text for it).
    let r = ann
        .post(URL)
        .header("content-type", "application/octet-stream")
        .body(vec![0x89, b'P', b'N', b'G', 0, 0, 0xff, 0xfe, 0x00])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let e = proxy.audit_events(&["--kind", "ai_request"]);
    let last = e.last().unwrap();
    assert_eq!(last["coverage"]["skipped"][0]["pointer"], "body", "{last}");
    assert_eq!(
        last["coverage"]["skipped"][0]["why"], "image (no text extractor)",
        "{last}"
    );
    assert_eq!(
        last["reasons"][0]["rule"], "on_uninspectable:block",
        "{last}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_row_fails_verification_and_is_named() {
    let (proxy, _ca, _p) = setup().await;
    let ann = proxy.client_as("ann", "a");
    for _ in 0..3 {
        ann.post(URL)
            .json(&chat("use AKIAQWERTYUIOPASDFGH", false))
            .send()
            .await
            .unwrap();
    }
    let db = proxy.dir.0.join("state/audit.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    let n = c
        .execute("UPDATE events SET body = replace(body, '\"decision\":\"block\"', '\"decision\":\"allow\"') WHERE seq = 2", [])
        .unwrap();
    assert_eq!(n, 1);
    let out = proxy.cli(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("row 2") && text.contains("edited"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_request_survives_kill_9() {
    let (mut proxy, _ca, _p) = setup().await;
    let ann = proxy.client_as("ann", "a");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..120 {
        let c = ann.clone();
        let counter = done.clone();
        tasks.push(tokio::spawn(async move {
            let r = c
                .post(URL)
                .json(&chat(&format!("burst {i}"), false))
                .send()
                .await
                .ok()?;
            let id = r
                .headers()
                .get("x-promptwall-request-id")?
                .to_str()
                .ok()?
                .to_string();
            r.bytes().await.ok()?;
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Some(id)
        }));
        if i == 60 {
            // Kill mid-burst, once some requests have been answered and others are in flight.
            for _ in 0..500 {
                if done.load(std::sync::atomic::Ordering::SeqCst) >= 20 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            let pid = proxy.child.id().to_string();
            std::process::Command::new("kill")
                .args(["-9", &pid])
                .status()
                .unwrap();
        }
    }
    let mut answered = HashSet::new();
    for t in tasks {
        if let Some(id) = t.await.unwrap() {
            answered.insert(id);
        }
    }
    assert!(!answered.is_empty());
    proxy.restart().await;
    let logged: HashSet<String> = proxy
        .audit_events(&["--kind", "ai_request"])
        .into_iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    let missing: Vec<&String> = answered.difference(&logged).collect();
    assert!(missing.is_empty(), "answered but not audited: {missing:?}");
    let v = proxy.cli(&["audit", "verify"]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_commits_every_queued_response_record() {
    let (mut proxy, _ca, _p) = setup().await;
    let ann = proxy.client_as("ann", "a");
    let mut ids = HashSet::new();
    for i in 0..40 {
        let r = ann
            .post(URL)
            .json(&chat(&format!("question {i}"), false))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        ids.insert(
            r.headers()["x-promptwall-request-id"]
                .to_str()
                .unwrap()
                .to_string(),
        );
        r.bytes().await.unwrap();
    }
    // SIGTERM straight after the last answer: the writer must drain before the process exits.
    std::process::Command::new("kill")
        .args(["-TERM", &proxy.child.id().to_string()])
        .status()
        .unwrap();
    let mut exited = None;
    for _ in 0..300 {
        if let Some(s) = proxy.child.try_wait().unwrap() {
            exited = Some(s);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let status = exited.expect("promptwall did not exit within 30 s of SIGTERM");
    assert!(status.success(), "exit status {status}");
    let log = std::fs::read_to_string(proxy.dir.0.join("proxy.log")).unwrap();
    assert!(log.contains("audit log flushed"), "{log}");
    // Read the file directly: no proxy is running now.
    let responses: HashSet<String> = proxy
        .audit_events(&["--kind", "ai_response"])
        .into_iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    let missing: Vec<&String> = ids.difference(&responses).collect();
    assert!(
        missing.is_empty(),
        "responses without a record: {missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_audit_log_cannot_commit_nothing_is_forwarded_and_it_recovers() {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_ca, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let proxy = Proxy::start(&upstream).await;
    let client = proxy.client(&[&proxy.ca_pem]);
    let ok = client
        .post(URL)
        .json(&chat("first", false))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let sent_before = mock.received().len();
    // Another process holds the database's write lock past the writer's busy timeout.
    let db = rusqlite::Connection::open(proxy.dir.0.join("state/audit.db")).unwrap();
    db.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let r = client
        .post(URL)
        .json(&chat("second", false))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        503,
        "fail safe: an unaudited request is not sent"
    );
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("audit log"),
        "{v}"
    );
    assert_eq!(
        mock.received().len(),
        sent_before,
        "nothing reached the upstream"
    );
    db.execute_batch("ROLLBACK").unwrap();
    drop(db);
    assert!(proxy.metric("promptwall_audit_failures_total").await >= 1.0);
    // The lock is gone: requests flow and the chain still verifies.
    let again = client
        .post(URL)
        .json(&chat("third", false))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    let v = proxy.cli(&["audit", "verify"]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}
