//! Tenant policies end to end: pseudonyms upstream and restored originals downstream (JSON and
//! SSE), per-tenant decisions, and policy changes under load.

mod common;

use common::*;
use load_tests::mock::MockConfig;
use std::time::Duration;

const ACME: &str = "tenant: acme
rules:
  - id: no-personal-data
    when: { category: [pii, pci] }
    action: block
    message: \"Acme forbids sending personal data ({entities}) to AI services.\"
";

const GLOBEX: &str = "tenant: globex
rules:
  - id: pseudonymize
    when: { category: [pii, pci] }
    action: redact
    redact: pseudonym
";

struct Env {
    proxy: Proxy,
    mock: load_tests::mock::MockServer,
    _ca: TempDir,
    policies: TempDir,
}

async fn setup() -> Env {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (ca, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let policies = TempDir::new("policies");
    std::fs::write(policies.0.join("acme.yaml"), ACME).unwrap();
    std::fs::write(policies.0.join("globex.yaml"), GLOBEX).unwrap();
    let alice = policy::SecretHash::create("alice-pw");
    let gina = policy::SecretHash::create("gina-pw");
    let extra = format!(
        "{upstream}policies:\n  dir: {}\nauth:\n  credentials:\n    - {{ username: alice, secret_hash: \"{alice}\", tenant: acme }}\n    - {{ username: gina, secret_hash: \"{gina}\", tenant: globex }}\n",
        policies.0.display()
    );
    let proxy = Proxy::start(&extra).await;
    Env {
        proxy,
        mock,
        _ca: ca,
        policies,
    }
}

/// Every request body the upstream received, parsed.
fn sent_bodies(mock: &load_tests::mock::MockServer) -> Vec<serde_json::Value> {
    mock.received()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

const PROMPT: &str = "Email ana.ruiz@globex-corp.com the refund for card 4111 1111 1111 1111 today";
const URL: &str = "https://api.openai.com/v1/chat/completions";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pii_is_pseudonymized_upstream_and_restored_for_the_client_in_json() {
    let env = setup().await;
    let r = env
        .proxy
        .client_as("gina", "gina-pw")
        .post(URL)
        .header("x-mock-echo", "1")
        .json(&chat(PROMPT, false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        v["choices"][0]["message"]["content"], PROMPT,
        "the client sees its own values"
    );
    let sent: serde_json::Value = serde_json::from_slice(&env.mock.received()[0].body).unwrap();
    assert_eq!(
        sent["messages"][1]["content"],
        "Email <EMAIL_1> the refund for card <CREDIT_CARD_1> today"
    );
    assert_eq!(
        sent["messages"][0]["content"], "You are helpful.",
        "other fields untouched"
    );
    let log = env.proxy.log_with("redactions=2").await;
    assert!(
        log.contains("decision=redact") && log.contains("redactions=2"),
        "{log}"
    );
    assert!(
        !log.contains("ana.ruiz") && !log.contains("4111 1111 1111 1111"),
        "no values in logs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pseudonyms_split_across_sse_events_are_restored() {
    let env = setup().await;
    let mut r = env
        .proxy
        .client_as("gina", "gina-pw")
        .post(URL)
        .header("x-mock-echo", "1")
        .header("x-mock-chunk-chars", "3")
        .json(&chat(PROMPT, true))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut raw = Vec::new();
    while let Some(c) = r.chunk().await.unwrap() {
        raw.extend_from_slice(&c);
    }
    let text = String::from_utf8(raw).unwrap();
    let content: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .filter_map(|v| {
            v.pointer("/choices/0/delta/content")
                .and_then(|c| c.as_str())
                .map(str::to_string)
        })
        .collect();
    assert_eq!(content, PROMPT);
    assert!(text.trim_end().ends_with("data: [DONE]"));
    assert!(
        !text.contains("<EMAIL_1>") && !text.contains("<CRE"),
        "no token fragments reach the client"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_get_different_decisions_for_the_same_prompt() {
    let env = setup().await;
    let r = env
        .proxy
        .client_as("alice", "alice-pw")
        .post(URL)
        .json(&chat(PROMPT, false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Acme forbids sending personal data"),
        "{v}"
    );
    assert!(env.mock.received().is_empty());
    let r = env
        .proxy
        .client_as("gina", "gina-pw")
        .post(URL)
        .json(&chat(PROMPT, false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(env.mock.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_applied_under_load_takes_effect_with_no_failed_request() {
    let env = setup().await;
    let client = env.proxy.client_as("alice", "alice-pw");
    let config = env.proxy.dir.0.join("promptwall.yaml");
    // Acme v2 allows personal data (logs it).
    let v2 = env.policies.0.join("acme-v2.yaml");
    std::fs::write(&v2, ACME.replace("action: block", "action: log")).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (client, stop) = (client.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && statuses.len() < 2000 {
                let r = client.post(URL).json(&chat(PROMPT, false)).send().await;
                statuses.push(r.map(|r| r.status().as_u16()).unwrap_or(0));
            }
            statuses
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_promptwall"))
        .args(["policy", "apply", "--author", "secops", "--config"])
        .arg(&config)
        .arg(&v2)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("version 2"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Wait (bounded) until the new version answers, then stop the load.
    let mut switched = false;
    for _ in 0..100 {
        if client
            .post(URL)
            .json(&chat(PROMPT, false))
            .send()
            .await
            .map(|r| r.status())
            .ok()
            == Some(reqwest::StatusCode::OK)
        {
            switched = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    assert!(switched, "v2 took effect; log:\n{}", env.proxy.log());
    assert!(
        all.iter().all(|s| *s == 403 || *s == 200),
        "every request got a decision: {:?}",
        all.iter()
            .filter(|s| **s != 403 && **s != 200)
            .collect::<Vec<_>>()
    );
    assert!(all.contains(&403) && all.len() > 10);

    // A broken policy is refused and the running one stays.
    let bad = env.policies.0.join("acme-bad.yaml");
    std::fs::write(
        &bad,
        "tenant: acme\nrules:\n  - id: x\n    when: { category: secrets }\n    action: block\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_promptwall"))
        .args(["policy", "apply", "--config"])
        .arg(&config)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("acme-bad.yaml:4") && err.contains("rules[0].when.category"),
        "{err}"
    );
    let r = client
        .post(URL)
        .json(&chat(PROMPT, false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "v2 still active");

    let hist = std::process::Command::new(env!("CARGO_BIN_EXE_promptwall"))
        .args(["policy", "history", "acme", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let hist = String::from_utf8_lossy(&hist.stdout);
    assert!(
        hist.contains("v1\t") && hist.contains("v2\t") && hist.contains("secops"),
        "{hist}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responses_chain_keeps_its_pseudonyms_across_turns() {
    let env = setup().await;
    let gina = env.proxy.client_as("gina", "gina-pw");
    let url = "https://api.openai.com/v1/responses";
    let turn = |body: serde_json::Value, reply: Option<&str>| {
        let mut req = gina.post(url).json(&body);
        req = match reply {
            Some(r) => req.header("x-mock-reply-mirror", reversed(r)),
            None => req.header("x-mock-echo", "1"),
        };
        req.send()
    };
    let r = turn(
        serde_json::json!({"model": "gpt-4o-mini", "input": "Email ana.ruiz@globex-corp.com the plan"}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    // Turn 2 names turn 1 and does not resend it: the old address keeps <EMAIL_1>.
    let r = turn(
        serde_json::json!({"model": "gpt-4o-mini", "previous_response_id": id, "input": "Also cc bo.lee@globex-corp.com and ana.ruiz@globex-corp.com"}),
        Some("Sent to <EMAIL_1> and <EMAIL_2>."),
    )
    .await
    .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        v["output"][0]["content"][0]["text"],
        "Sent to ana.ruiz@globex-corp.com and bo.lee@globex-corp.com.",
        "{v}"
    );
    let sent = sent_bodies(&env.mock);
    assert_eq!(sent[0]["input"], "Email <EMAIL_1> the plan");
    assert_eq!(sent[1]["input"], "Also cc <EMAIL_2> and <EMAIL_1>");
    // Turn 3 redacts nothing, yet the reply's earlier tokens are restored.
    let r = turn(
        serde_json::json!({"model": "gpt-4o-mini", "previous_response_id": id, "input": "Thanks!"}),
        Some("Remember <EMAIL_2>."),
    )
    .await
    .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        v["output"][0]["content"][0]["text"], "Remember bo.lee@globex-corp.com.",
        "{v}"
    );
    // Another tenant cannot reach this conversation's mapping.
    let alice = env.proxy.client_as("alice", "alice-pw");
    let r = alice
        .post(url)
        .header("x-mock-reply-mirror", reversed("Remember <EMAIL_2>."))
        .json(&serde_json::json!({"model": "gpt-4o-mini", "previous_response_id": id, "input": "Thanks!"}))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["output"][0]["content"][0]["text"], "Remember <EMAIL_2>.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assistants_thread_keeps_its_pseudonyms_and_reads_are_restored() {
    let env = setup().await;
    let gina = env.proxy.client_as("gina", "gina-pw");
    let url = "https://api.openai.com/v1/threads/thread_abc/messages";
    for text in [
        "Email ana.ruiz@globex-corp.com the plan",
        "Also cc bo.lee@globex-corp.com and ana.ruiz@globex-corp.com",
    ] {
        let r = gina
            .post(url)
            .json(&serde_json::json!({"role": "user", "content": text}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let sent = sent_bodies(&env.mock);
    assert_eq!(sent[0]["content"], "Email <EMAIL_1> the plan");
    assert_eq!(sent[1]["content"], "Also cc <EMAIL_2> and <EMAIL_1>");
    // Listing the thread (a GET, no body) returns the provider's stored text: restored.
    let r = gina
        .get(url)
        .header(
            "x-mock-reply-mirror",
            reversed("<EMAIL_1> wrote to <EMAIL_2>"),
        )
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        v["content"][0]["text"], "ana.ruiz@globex-corp.com wrote to bo.lee@globex-corp.com",
        "{v}"
    );
}

/// Two tenants that list the same source network: the proxy warns at start, and every request
/// from it goes to the tenant first in name order, whatever order the files were read in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_claiming_one_network_resolve_by_name_and_the_proxy_warns() {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_ca, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let policies = TempDir::new("policies");
    for t in ["zeta", "alpha"] {
        std::fs::write(
            policies.0.join(format!("{t}.yaml")),
            format!("tenant: {t}\nidentity:\n  cidrs: [{{cidr: \"127.0.0.0/8\"}}]\nrules: []\n"),
        )
        .unwrap();
    }
    let proxy = Proxy::start(&format!(
        "{upstream}policies:\n  dir: {}\n",
        policies.0.display()
    ))
    .await;
    let log = proxy
        .log_with("identity sources of two tenants overlap")
        .await;
    assert!(
        log.contains("tenants `alpha` and `zeta` both list source CIDR 127.0.0.0/8"),
        "{log}"
    );
    let client = proxy.client(&[&proxy.ca_pem]);
    for _ in 0..3 {
        let r = client
            .post(URL)
            .json(&chat("hello there", false))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let events = proxy.audit_events_eventually(&["--kind", "ai_request"], 3);
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(events.iter().all(|e| e["tenant"] == "alpha"), "{events:?}");
}
