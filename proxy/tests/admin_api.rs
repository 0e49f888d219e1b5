//! The admin API against a running proxy: every role and tenant combination, bad tokens,
//! invalid policies, dry runs that match real traffic, and tenant isolation of the usage log.

mod common;

use common::*;
use load_tests::mock::MockConfig;
use serde_json::{json, Value};

const URL: &str = "https://api.openai.com/v1/chat/completions";
const ACME_POLICY: &str = "tenant: acme\nrules:\n  - {id: no-keys, when: {category: secret}, action: block}\n  - {id: mask-pii, when: {category: pii}, action: redact}\n";
const GLOBEX_POLICY: &str =
    "tenant: globex\nrules:\n  - {id: no-keys, when: {category: secret}, action: block}\n";

/// (token, role, tenant) for every configured admin token.
const TOKENS: &[(&str, &str, Option<&str>)] = &[
    ("tok-root", "superadmin", None),
    ("tok-acme-admin", "admin", Some("acme")),
    ("tok-acme-auditor", "auditor", Some("acme")),
    ("tok-globex-admin", "admin", Some("globex")),
    ("tok-globex-auditor", "auditor", Some("globex")),
];

struct Fixture {
    proxy: Proxy,
    http: reqwest::Client,
    _dirs: (TempDir, TempDir),
}

impl Fixture {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.proxy.admin)
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> (u16, String) {
        let mut rb = self.http.request(method.parse().unwrap(), self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.body(b);
        }
        let r = rb.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn json(&self, method: &str, path: &str, token: &str, body: Option<String>) -> Value {
        let (status, text) = self.call(method, path, Some(token), body).await;
        assert_eq!(status, 200, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap()
    }
}

async fn setup() -> Fixture {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (ca, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    std::mem::forget(mock);
    let policies = TempDir::new("admin-policies");
    std::fs::write(policies.0.join("acme.yaml"), ACME_POLICY).unwrap();
    std::fs::write(policies.0.join("globex.yaml"), GLOBEX_POLICY).unwrap();
    let mut admin = String::from("  tokens:\n");
    for (tok, role, tenant) in TOKENS {
        admin.push_str(&format!(
            "    - {{ name: {tok}, token_hash: \"{}\", role: {role}{} }}\n",
            policy::SecretHash::create(tok),
            tenant.map(|t| format!(", tenant: {t}")).unwrap_or_default()
        ));
    }
    let (a, g) = (
        policy::SecretHash::create("a"),
        policy::SecretHash::create("g"),
    );
    let proxy = Proxy::start_with(
        &format!(
            "{upstream}policies:\n  dir: {}\nauth:\n  credentials:\n    - {{ username: ann, secret_hash: \"{a}\", tenant: acme }}\n    - {{ username: gus, secret_hash: \"{g}\", tenant: globex }}\n",
            policies.0.display()
        ),
        "",
        &admin,
    )
    .await;
    Fixture {
        proxy,
        http: reqwest::Client::new(),
        _dirs: (ca, policies),
    }
}

fn dry_run_body(text: &str) -> String {
    json!({"provider": "openai", "path": "/v1/chat/completions", "user": "ann", "body": chat(text, false)})
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_and_tenant_combination_is_allowed_or_denied_as_designed() {
    let fx = setup().await;
    for tenant in ["acme", "globex"] {
        let policy_text = if tenant == "acme" {
            ACME_POLICY
        } else {
            GLOBEX_POLICY
        };
        // (method, path, body, needs): `audit` endpoints are for auditors, `policy` for admins.
        let calls: Vec<(&str, String, Option<String>, &str)> = vec![
            (
                "GET",
                format!("/v1/audit/events?tenant={tenant}"),
                None,
                "audit",
            ),
            (
                "GET",
                format!("/v1/audit/stats?tenant={tenant}&by=user"),
                None,
                "audit",
            ),
            ("GET", format!("/v1/policies/{tenant}"), None, "policy"),
            (
                "GET",
                format!("/v1/policies/{tenant}/history"),
                None,
                "policy",
            ),
            (
                "GET",
                format!("/v1/policies/{tenant}/diff?from=1&to=1"),
                None,
                "policy",
            ),
            (
                "PUT",
                format!("/v1/policies/{tenant}"),
                Some(policy_text.to_string()),
                "policy",
            ),
            (
                "POST",
                format!("/v1/policies/{tenant}/dry-run"),
                Some(dry_run_body("hello")),
                "policy",
            ),
            (
                "POST",
                format!("/v1/policies/{tenant}/rollback/1"),
                None,
                "policy",
            ),
        ];
        for (method, path, body, needs) in &calls {
            for (tok, role, tok_tenant) in TOKENS {
                let allowed = match *role {
                    "superadmin" => true,
                    "admin" => *needs == "policy" && *tok_tenant == Some(tenant),
                    _ => *needs == "audit" && *tok_tenant == Some(tenant),
                };
                let (status, text) = fx.call(method, path, Some(tok), body.clone()).await;
                let expect = if allowed { 200 } else { 403 };
                assert_eq!(status, expect, "{tok} {method} {path}: {text}");
            }
            for bad in [None, Some("tok-wrong"), Some("")] {
                let (status, _) = fx.call(method, path, bad, body.clone()).await;
                assert_eq!(status, 401, "{bad:?} {method} {path}");
            }
        }
    }
    // An auditor or admin cannot widen a query to every tenant by leaving the tenant out.
    let (status, _) = fx
        .call(
            "GET",
            "/v1/audit/events?tenant=",
            Some("tok-acme-admin"),
            None,
        )
        .await;
    assert_eq!(status, 403);
    // Every call past the token check is in the log, with its outcome; the superadmin sees it.
    let log = fx
        .json(
            "GET",
            "/v1/audit/events?kind=admin&limit=10000",
            "tok-root",
            None,
        )
        .await;
    let events = log["events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["user"] == "tok-acme-auditor"
        && e["decision"] == "denied"
        && e["tenant"] == "globex"
        && e["status"] == 403));
    assert!(events
        .iter()
        .any(|e| e["decision"] == "unauthenticated" && e["status"] == 401 && e["user"].is_null()));
    assert!(events.iter().any(|e| e["user"] == "tok-acme-admin"
        && e["endpoint"] == "PUT /v1/policies/acme"
        && e["decision"] == "allowed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_sees_only_their_tenant() {
    let fx = setup().await;
    let (ann, gus) = (
        fx.proxy.client_as("ann", "a"),
        fx.proxy.client_as("gus", "g"),
    );
    let mut ids = (Vec::new(), Vec::new());
    for i in 0..3 {
        for (client, out) in [(&ann, &mut ids.0), (&gus, &mut ids.1)] {
            let r = client
                .post(URL)
                .json(&chat(&format!("agenda item {i}"), false))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            out.push(
                r.headers()["x-promptwall-request-id"]
                    .to_str()
                    .unwrap()
                    .to_string(),
            );
        }
    }
    let mine = fx
        .json(
            "GET",
            "/v1/audit/events?kind=ai_request",
            "tok-acme-auditor",
            None,
        )
        .await;
    let seen: Vec<String> = mine["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["tenant"], "acme", "{e}");
            e["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(seen, ids.0);
    let stats = fx
        .json("GET", "/v1/audit/stats?by=tenant", "tok-acme-auditor", None)
        .await;
    assert!(stats["counts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["key"] == "acme"));
    let (status, _) = fx
        .call(
            "GET",
            "/v1/audit/events?tenant=globex",
            Some("tok-acme-auditor"),
            None,
        )
        .await;
    assert_eq!(status, 403);
    let all = fx
        .json("GET", "/v1/audit/events?kind=ai_request", "tok-root", None)
        .await;
    assert_eq!(all["events"].as_array().unwrap().len(), 6);
    // Paging: two at a time through acme's three.
    let page1 = fx
        .json(
            "GET",
            "/v1/audit/events?kind=ai_request&limit=2",
            "tok-acme-auditor",
            None,
        )
        .await;
    let after = page1["next_after"].as_i64().unwrap();
    let page2 = fx
        .json(
            "GET",
            &format!("/v1/audit/events?kind=ai_request&limit=2&after={after}"),
            "tok-acme-auditor",
            None,
        )
        .await;
    assert_eq!(page1["events"].as_array().unwrap().len(), 2);
    assert_eq!(page2["events"].as_array().unwrap().len(), 1);
    assert_eq!(page2["events"][0]["id"], ids.0[2].as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_policies_get_422_with_line_and_field_and_change_nothing() {
    let fx = setup().await;
    let before = fx
        .json("GET", "/v1/policies/acme", "tok-acme-admin", None)
        .await;
    let bad =
        "tenant: acme\nrules:\n  - {id: no-keys, when: {category: secret}, action: explode}\n";
    let (status, text) = fx
        .call(
            "PUT",
            "/v1/policies/acme",
            Some("tok-acme-admin"),
            Some(bad.into()),
        )
        .await;
    assert_eq!(status, 422, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["errors"][0]["line"], 3, "{text}");
    assert_eq!(v["errors"][0]["field"], "rules[0].action", "{text}");
    // A policy for another tenant cannot be smuggled in through this tenant's path.
    let (status, text) = fx
        .call(
            "PUT",
            "/v1/policies/acme",
            Some("tok-acme-admin"),
            Some(GLOBEX_POLICY.into()),
        )
        .await;
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("field `tenant`"), "{text}");
    let after = fx
        .json("GET", "/v1/policies/acme", "tok-acme-admin", None)
        .await;
    assert_eq!(before, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_superadmin_changes_which_addresses_belong_to_a_tenant() {
    let fx = setup().await;
    let put = |token: &'static str, yaml: String| {
        let fx = &fx;
        async move {
            fx.call("PUT", "/v1/policies/acme", Some(token), Some(yaml))
                .await
        }
    };
    let claim = |cidr: &str| format!("{ACME_POLICY}identity:\n  cidrs: [{{cidr: {cidr}}}]\n");
    let before = fx
        .json("GET", "/v1/policies/acme", "tok-acme-admin", None)
        .await;
    // A tenant admin claiming addresses (one of another tenant's users, or every client)
    // is refused and changes nothing.
    for cidr in ["127.0.0.1/32", "0.0.0.0/0"] {
        let (status, text) = put("tok-acme-admin", claim(cidr)).await;
        assert_eq!(status, 403, "{text}");
        assert!(text.contains("only a superadmin"), "{text}");
    }
    let trusted = format!(
        "{ACME_POLICY}identity:\n  trusted_header: {{user_header: user-agent, from_cidrs: [0.0.0.0/0]}}\n"
    );
    assert_eq!(put("tok-acme-admin", trusted).await.0, 403);
    assert_eq!(
        fx.json("GET", "/v1/policies/acme", "tok-acme-admin", None)
            .await,
        before
    );
    // A superadmin may; the tenant admin then edits rules around the sources kept as they are.
    let (status, text) = put("tok-root", claim("127.0.0.1/32")).await;
    assert_eq!(status, 200, "{text}");
    let edited = claim("127.0.0.1/32").replace("action: redact", "action: block");
    let (status, text) = put("tok-acme-admin", edited.clone()).await;
    assert_eq!(status, 200, "{text}");
    let claimed = fx
        .json("GET", "/v1/policies/acme", "tok-acme-admin", None)
        .await;
    // Giving a network up is the tenant admin's call; rolling back to the version that
    // claimed it is a claim again.
    let (status, text) = put("tok-acme-admin", ACME_POLICY.into()).await;
    assert_eq!(status, 200, "{text}");
    let rollback = format!("/v1/policies/acme/rollback/{}", claimed["version"]);
    let (status, text) = fx
        .call("POST", &rollback, Some("tok-acme-admin"), None)
        .await;
    assert_eq!(status, 403, "{text}");
    let now = fx
        .json("GET", "/v1/policies/acme", "tok-acme-admin", None)
        .await;
    assert_eq!(now["yaml"], ACME_POLICY);
    let (status, text) = fx.call("POST", &rollback, Some("tok-root"), None).await;
    assert_eq!(status, 200, "{text}");
    let now = fx
        .json("GET", "/v1/policies/acme", "tok-acme-admin", None)
        .await;
    assert_eq!(now["yaml"], edited.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_decides_as_a_real_request_would_and_put_takes_effect() {
    let fx = setup().await;
    let ann = fx.proxy.client_as("ann", "a");
    for text in [
        "plan the offsite agenda",
        "mail dana.ortiz@globex-corp.com the agenda",
        "use AKIAQWERTYUIOPASDFGH to deploy",
    ] {
        let dry = fx
            .json(
                "POST",
                "/v1/policies/acme/dry-run",
                "tok-acme-admin",
                Some(dry_run_body(text)),
            )
            .await;
        let real = ann.post(URL).json(&chat(text, false)).send().await.unwrap();
        let id = real.headers()["x-promptwall-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        let logged = fx
            .json(
                "GET",
                "/v1/audit/events?kind=ai_request&limit=10000",
                "tok-acme-auditor",
                None,
            )
            .await;
        let event = logged["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id.as_str())
            .cloned()
            .unwrap();
        assert_eq!(dry["action"], event["decision"], "{text}: {dry} vs {event}");
        let rules = |v: &Value| -> Vec<String> {
            v["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["rule"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(rules(&dry), rules(&event), "{text}");
    }
    // A new version through the API: recorded with its author, enforced at once, reversible.
    let relaxed =
        "tenant: acme\nrules:\n  - {id: no-keys, when: {category: secret}, action: log}\n";
    let v = fx
        .json(
            "PUT",
            "/v1/policies/acme",
            "tok-acme-admin",
            Some(relaxed.into()),
        )
        .await;
    assert_eq!(v["version"], 2);
    assert_eq!(v["author"], "tok-acme-admin");
    let r = ann
        .post(URL)
        .json(&chat("use AKIAQWERTYUIOPASDFGH to deploy", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, diff) = fx
        .call(
            "GET",
            "/v1/policies/acme/diff?from=1&to=2",
            Some("tok-acme-admin"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        diff.contains("-  - {id: no-keys, when: {category: secret}, action: block}"),
        "{diff}"
    );
    let back = fx
        .json(
            "POST",
            "/v1/policies/acme/rollback/1",
            "tok-acme-admin",
            None,
        )
        .await;
    assert_eq!(back["version"], 3);
    assert_eq!(back["restored"], 1);
    let r = ann
        .post(URL)
        .json(&chat("use AKIAQWERTYUIOPASDFGH to deploy", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let history = fx
        .json("GET", "/v1/policies/acme/history", "tok-acme-admin", None)
        .await;
    let actions: Vec<&str> = history["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["apply", "apply", "rollback"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_text_and_count_what_happened() {
    let fx = setup().await;
    let ann = fx.proxy.client_as("ann", "a");
    for text in [
        "plan the offsite agenda",
        "use AKIAQWERTYUIOPASDFGH to deploy",
    ] {
        ann.post(URL).json(&chat(text, false)).send().await.unwrap();
    }
    let (status, text) = fx.call("GET", "/metrics", None, None).await;
    assert_eq!(status, 200);
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => 0.0,
            })
            .sum()
    };
    let req = |action| {
        value(
            "promptwall_requests_total",
            &[
                ("tenant", "acme"),
                ("provider", "openai"),
                ("action", action),
            ],
        )
    };
    assert_eq!(req("allow"), 1.0, "{text}");
    assert_eq!(req("block"), 1.0, "{text}");
    // The allowed request's answer: 8 output tokens reported by the provider.
    assert_eq!(
        value(
            "promptwall_gen_ai_tokens_total",
            &[
                ("tenant", "acme"),
                ("provider", "openai"),
                ("type", "output")
            ],
        ),
        8.0,
        "{text}"
    );
    assert_eq!(
        value(
            "promptwall_findings_total",
            &[("tenant", "acme"), ("category", "secret")]
        ),
        1.0
    );
    assert!(scrape.samples.iter().any(
        |s| s.metric == "promptwall_stage_seconds" && s.labels.get("stage") == Some("inspect")
    ));
    assert!(scrape
        .samples
        .iter()
        .any(|s| s.metric == "promptwall_audit_write_seconds"));
    assert!(!text.contains("AKIA"), "no content in metrics");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resent_history_is_scanned_once_and_a_key_in_it_still_blocks() {
    let fx = setup().await;
    let ann = fx.proxy.client_as("ann", "a");
    let system = "You are the release assistant for the platform team. ".repeat(8);
    let history = format!(
        "{} The deploy key is AKIAQWERTYUIOPASDFGH.",
        "Yesterday we went through the rollout plan step by step. ".repeat(6)
    );
    let body = |last: &str| {
        serde_json::json!({"model": "gpt-4o-mini", "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": history},
            {"role": "user", "content": last},
        ]})
    };
    let memo = |outcome: &'static str| {
        let proxy = &fx.proxy;
        async move {
            proxy
                .metric(&format!(
                    "promptwall_scan_memo_total{{outcome=\"{outcome}\"}}"
                ))
                .await
        }
    };
    // Two turns of one chat: the second resends the system prompt and the history.
    for last in ["first question", "second question"] {
        let r = ann.post(URL).json(&body(last)).send().await.unwrap();
        assert_eq!(r.status(), 403, "the key in the history blocks every turn");
    }
    assert_eq!(memo("miss").await, 2.0, "each long text scanned once");
    assert_eq!(
        memo("hit").await,
        2.0,
        "and answered from the memo the second time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_cli_works_through_the_admin_api() {
    let fx = setup().await;
    let admin = format!("http://{}", fx.proxy.admin);
    let file = fx.proxy.dir.0.join("acme-relaxed.yaml");
    std::fs::write(
        &file,
        "tenant: acme\nrules:\n  - {id: no-keys, when: {category: secret}, action: log}\n",
    )
    .unwrap();
    let run = |args: &[&str], token: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_promptwall"))
            .args(args)
            .env("PROMPTWALL_ADMIN_TOKEN", token)
            .output()
            .unwrap()
    };
    let file_s = file.to_str().unwrap();
    let out = run(
        &["policy", "apply", file_s, "--admin", &admin],
        "tok-acme-admin",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("tenant acme is at version 2 (apply by tok-acme-admin"),
        "{stdout}"
    );
    // The running server enforces it at once.
    let ann = fx.proxy.client_as("ann", "a");
    let r = ann
        .post(URL)
        .json(&chat("use AKIAQWERTYUIOPASDFGH to deploy", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let out = run(
        &["policy", "rollback", "acme", "1", "--admin", &admin],
        "tok-acme-admin",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        &["policy", "history", "acme", "--admin", &admin],
        "tok-acme-auditor",
    );
    assert!(!out.status.success(), "an auditor may not read policies");
    assert!(String::from_utf8_lossy(&out.stderr).contains("403"));
    let out = run(
        &["policy", "history", "acme", "--admin", &admin],
        "tok-acme-admin",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .contains("rollback (restores v1)"),
        "{stdout}"
    );
    // Another tenant's admin is refused; a wrong token is 401; nothing changed.
    let out = run(
        &["policy", "apply", file_s, "--admin", &admin],
        "tok-globex-admin",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("403"));
    let out = run(&["policy", "apply", file_s, "--admin", &admin], "nope");
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));
    let r = ann
        .post(URL)
        .json(&chat("use AKIAQWERTYUIOPASDFGH to deploy", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}
