//! The web console (issue 18) in a real browser: headless Chromium driven over WebDriver
//! (chromedriver, from Debian's packages; setup installs both) against a running proxy.
//!
//! Journeys: an auditor signs in, filters blocked events by category, opens one and reads its
//! reasons, and cannot reach the policy editor; an admin edits a policy with an error (shown at
//! its line), fixes it, dry-runs a prompt with a secret (the span highlighted), applies it,
//! sees it in history and rolls back; a cross-tenant URL, a CSRF-less POST and an expired
//! session are refused; XSS payloads in user names, models and rule messages stay text.
//! Screenshots of each main page land in `target/console-screenshots/`.

mod common;

use common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use load_tests::mock::MockConfig;
use serde_json::{json, Value};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SECRET: &str = "AKIAQWERTYUIOPASDFGH";
/// Would run if the console put traffic or policy text into the page as HTML.
const XSS: &str = "<img src=x onerror=\"window.__xss=1\">";

const ACME_POLICY: &str = "tenant: acme
identity:
  trusted_header: { user_header: X-User, from_cidrs: [127.0.0.0/8] }
destinations: { sanctioned: [openai] }
rules:
  - id: keys
    when: { category: secret }
    action: block
    message: \"Keys stay home <img src=x onerror=\\\"window.__xss=1\\\">\"
";

/// A headless Chromium session; the driver is killed on drop, then its scratch dir removed.
struct Browser {
    driver: Child,
    client: Client,
    /// Chromium's profile and scoped dirs (its TMPDIR), which a killed browser leaves behind.
    _tmp: TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The driver leads its own process group, and Chromium's processes stay in it: killing
        // the group leaves no browser running after a test that failed before `quit`.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

async fn browser() -> Browser {
    for bin in ["chromedriver", "chromium"] {
        assert!(
            Command::new(bin).arg("--version").output().is_ok(),
            "`{bin}` is missing: run scripts/setup.sh (make test does), which installs Debian's chromium and chromium-driver"
        );
    }
    let port = free_port();
    let tmp = TempDir::new("chromium");
    let driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .env("TMPDIR", &tmp.0)
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    let caps = json!({"goog:chromeOptions": {"args": [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--window-size=1366,900", "--no-proxy-server"
    ]}});
    let caps = caps.as_object().unwrap().clone();
    let mut last = None;
    for _ in 0..100 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => {
                return Browser {
                    driver,
                    client,
                    _tmp: tmp,
                }
            }
            Err(e) => {
                last = Some(e.to_string());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    panic!("no WebDriver session: {last:?}");
}

impl Browser {
    /// Ends the WebDriver session, so that Chromium exits and cleans up before the driver goes.
    async fn quit(self) {
        self.client
            .clone()
            .close()
            .await
            .expect("the browser session closes");
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("`{css}` never appeared: {e}"))
    }

    /// Waits until `css`'s text contains `needle`; returns the text.
    async fn text_of(&self, css: &str, needle: &str) -> String {
        let mut text = String::new();
        for _ in 0..150 {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                text = e.text().await.unwrap_or_default();
                if text.contains(needle) {
                    return text;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let page = match self.client.find(Locator::Css("main")).await {
            Ok(m) => m.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        panic!("`{css}` never contained {needle:?}; it says {text:?}; the page says {page:?}");
    }

    async fn absent(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_err()
    }

    async fn sign_in(&self, admin: std::net::SocketAddr, token: &str) {
        self.client
            .goto(&format!("http://{admin}/ui/"))
            .await
            .unwrap();
        self.find("#token").await.send_keys(token).await.unwrap();
        self.find("#signin").await.click().await.unwrap();
        self.find("#signout").await;
    }

    async fn go(&self, admin: std::net::SocketAddr, hash: &str) {
        self.client
            .goto(&format!("http://{admin}/ui/{hash}"))
            .await
            .unwrap();
    }

    /// Runs `fetch` in the page (same origin, with the session cookie); returns the status.
    async fn fetch_status(&self, path: &str, init: &str) -> u64 {
        let script = format!(
            "const done = arguments[0]; fetch({path:?}, {init}).then(r => done(r.status), e => done(String(e)));"
        );
        let v = self.client.execute_async(&script, vec![]).await.unwrap();
        v.as_u64().unwrap_or_else(|| panic!("{v}"))
    }

    async fn screenshot(&self, name: &str) {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/console-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    async fn no_xss(&self) {
        let ran = self
            .client
            .execute(
                "return window.__xss === 1 || document.querySelector('img[src=x]') !== null",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(ran, Value::Bool(false), "an XSS payload became markup");
    }
}

struct Fixture {
    proxy: Proxy,
    _dirs: (TempDir, TempDir),
    _mock: load_tests::mock::MockServer,
}

fn token_yaml(tokens: &[(&str, &str, Option<&str>)]) -> String {
    let mut admin = String::from("  tokens:\n");
    for (tok, role, tenant) in tokens {
        admin.push_str(&format!(
            "    - {{ name: {tok}, token_hash: \"{}\", role: {role}{} }}\n",
            policy::SecretHash::create(tok),
            tenant.map(|t| format!(", tenant: {t}")).unwrap_or_default()
        ));
    }
    admin
}

/// A proxy with acme (with the XSS-carrying rule message) and globex, some traffic of each,
/// and the given admin block.
async fn setup(admin: &str) -> Fixture {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (ca, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let policies = TempDir::new("console-policies");
    std::fs::write(policies.0.join("acme.yaml"), ACME_POLICY).unwrap();
    std::fs::write(
        policies.0.join("globex.yaml"),
        "tenant: globex\nidentity:\n  trusted_header: { user_header: X-Globex-User, from_cidrs: [127.0.0.0/8] }\nrules:\n  - { id: keys, when: { category: secret }, action: block }\n",
    )
    .unwrap();
    let proxy = Proxy::start_with(
        &format!("{upstream}policies:\n  dir: {}\n", policies.0.display()),
        "",
        admin,
    )
    .await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!("http://{}/openai/v1/chat/completions", proxy.gateway);
    for (header, user, model, text) in [
        (
            "x-user",
            "ann",
            "gpt-4o",
            "What is our refund policy?".to_string(),
        ),
        ("x-user", XSS, XSS, format!("deploy with {SECRET}")),
        ("x-user", "bob", "gpt-4o-mini", format!("my key {SECRET}")),
        (
            "x-globex-user",
            "gus",
            "gpt-4o",
            format!("globex key {SECRET}"),
        ),
    ] {
        let mut body = chat(&text, false);
        body["model"] = json!(model);
        let r = http
            .post(&url)
            .header(header, user)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success() || r.status() == 403,
            "{}",
            r.status()
        );
    }
    // Shadow AI: a CONNECT to an AI service acme has not sanctioned is refused and recorded.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = tokio::net::TcpStream::connect(proxy.proxy).await.unwrap();
        tcp.write_all(b"CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\nX-User: carol\r\n\r\n")
            .await
            .unwrap();
        let mut head = [0u8; 12];
        tcp.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 403", "{}", String::from_utf8_lossy(&head));
    }
    proxy.audit_events_eventually(&["--kind", "ai_response"], 2);
    Fixture {
        proxy,
        _dirs: (ca, policies),
        _mock: mock,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_reads_the_log_and_cannot_reach_policies() {
    let fx = setup(&token_yaml(&[("tok-auditor", "auditor", Some("acme"))])).await;
    let admin = fx.proxy.admin;
    let globex_event = fx
        .proxy
        .audit_events(&["--tenant", "globex", "--kind", "ai_request"])
        .first()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .unwrap();
    let b = browser().await;

    // Every answer carries the console's security headers.
    let r = reqwest::get(format!("http://{admin}/ui/")).await.unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert_eq!(r.headers()["x-frame-options"], "DENY");

    b.sign_in(admin, "tok-auditor").await;
    b.text_of("#tile-blocks", "2").await;
    let dests = b.text_of("#destinations", "api.anthropic.com").await;
    assert!(
        dests.contains("blocked") && dests.contains("sanctioned"),
        "{dests}"
    );
    b.screenshot("overview").await;
    // The menu has no policy editor for an auditor; the page and the API refuse it.
    assert!(b.absent("#nav-policies").await);
    b.find("#nav-log").await;
    b.go(admin, "#/policies").await;
    b.find("#denied").await;
    assert_eq!(b.fetch_status("/v1/policies/acme", "{}").await, 403);

    // Filter blocked events by category, open one, read its reasons.
    b.go(admin, "#/log").await;
    b.find("#log-rows tr").await;
    b.find("#f-category")
        .await
        .send_keys("secret")
        .await
        .unwrap();
    b.find("#f-action option[value=block]")
        .await
        .click()
        .await
        .unwrap();
    b.find("#search").await.click().await.unwrap();
    b.text_of("#log-status", "2 events shown").await;
    let rows = b.find("#log-rows").await.text().await.unwrap();
    assert!(rows.contains(XSS), "the payload is shown as text: {rows}");
    b.screenshot("usage-log").await;
    // The export is the filtered log, as CSV.
    let csv = b
        .client
        .execute_async(
            "const done = arguments[0]; fetch(document.getElementById('export-csv').href).then(r => r.text()).then(done);",
            vec![],
        )
        .await
        .unwrap();
    let csv = csv.as_str().unwrap();
    assert!(
        csv.starts_with("seq,id,time") && csv.contains("keys"),
        "{csv}"
    );
    assert!(!csv.contains(SECRET));

    b.no_xss().await;
    b.find("#log-rows tr a").await.click().await.unwrap();
    let reasons = b.text_of("#reasons", "keys").await;
    assert!(
        reasons.contains("secret") && reasons.contains("aws_access_key"),
        "{reasons}"
    );
    b.find("#response").await;
    b.find("#verify").await.click().await.unwrap();
    b.text_of("#verify-status", "verifies").await;
    b.screenshot("event").await;
    b.no_xss().await;

    // Insider risk: every user's day against their baseline and peers.
    b.go(admin, "#/risk").await;
    b.find("#risk-all").await.click().await.unwrap();
    b.find("#risk-go").await.click().await.unwrap();
    let risk = b.text_of("#risk-result", "bob").await;
    assert!(
        risk.contains("sensitive") && risk.contains("Peers"),
        "{risk}"
    );
    b.screenshot("risk").await;
    b.no_xss().await;
    let out = fx.proxy.cli(&["risk", "users", "--tenant", "acme"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("bob"), "{text}");

    // Another tenant's event, and another tenant's log, are refused.
    b.go(admin, &format!("#/event/{globex_event}")).await;
    b.text_of("#event-error", "no such event").await;
    assert_eq!(
        b.fetch_status("/v1/audit/events?tenant=globex", "{}").await,
        403
    );
    // A state change without the session's CSRF token is refused.
    assert_eq!(
        b.fetch_status("/v1/audit/verify", "{method: 'POST'}").await,
        403
    );
    // The console's own calls are in the audit log, under the auditor's name.
    let admin_events = fx.proxy.audit_events(&["--kind", "admin"]);
    assert!(
        admin_events
            .iter()
            .any(|e| e["user"] == "tok-auditor" && e["endpoint"] == "POST /ui/login"),
        "{admin_events:?}"
    );
    assert!(admin_events
        .iter()
        .any(|e| e["endpoint"] == "POST /v1/audit/verify" && e["decision"] == "denied"));
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_edits_dry_runs_applies_and_rolls_back_a_policy() {
    let fx = setup(&token_yaml(&[("tok-admin", "admin", Some("acme"))])).await;
    let admin = fx.proxy.admin;
    let b = browser().await;
    b.sign_in(admin, "tok-admin").await;
    assert!(b.absent("#nav-log").await && b.absent("#nav-overview").await);
    b.go(admin, "#/policies").await;
    b.find(".CodeMirror").await;
    b.text_of("#policy-status", "Valid").await;
    // The running policy's message (carrying markup) shows as text in a dry run.
    b.find("#dry-text")
        .await
        .send_keys(&format!("please deploy with {SECRET} today"))
        .await
        .unwrap();
    b.find("#dry-run").await.click().await.unwrap();
    b.text_of("#dry-action", "Keys stay home <img").await;
    b.no_xss().await;
    let set = |yaml: &str| {
        format!(
            "document.querySelector('.CodeMirror').CodeMirror.setValue({});",
            serde_json::to_string(yaml).unwrap()
        )
    };
    // An error shows at its line.
    let broken =
        "tenant: acme\nrules:\n  - id: keys\n    when: { category: secret }\n    action: explode\n";
    b.client.execute(&set(broken), vec![]).await.unwrap();
    let errors = b.text_of("#policy-errors", "Line 5").await;
    assert!(errors.contains("action"), "{errors}");
    b.find(".cm-error-line").await;
    // Fixed: a stricter draft that also redacts email addresses (keeping the tenant's
    // trusted header, which only a superadmin could add back).
    let fixed = "tenant: acme\nidentity:\n  trusted_header: { user_header: X-User, from_cidrs: [127.0.0.0/8] }\nrules:\n  - id: keys\n    when: { category: secret }\n    action: block\n    message: \"No keys, please.\"\n  - id: emails\n    when: { entity: email }\n    action: redact\n";
    b.client.execute(&set(fixed), vec![]).await.unwrap();
    b.text_of("#policy-status", "Valid: 2 rules").await;
    b.find("#show-diff").await.click().await.unwrap();
    b.text_of("#policy-diff", "+  - id: emails").await;
    // Dry run against the draft: the secret's span is highlighted, with its rule.
    b.find("#dry-run").await.click().await.unwrap();
    b.text_of("#dry-action", "No keys, please.").await;
    let mark = b.find("#dry-runs mark").await;
    assert_eq!(mark.text().await.unwrap(), SECRET);
    assert_eq!(
        mark.attr("data-rule").await.unwrap().as_deref(),
        Some("aws-access-key-id")
    );
    b.text_of("#dry-reasons", "keys").await;
    b.screenshot("policy-dry-run").await;
    // Apply, see it in history, roll back with a confirmation.
    b.find("#apply").await.click().await.unwrap();
    b.text_of("#policy-status", "Applied as version").await;
    let history = b.text_of("#history-table", "tok-admin").await;
    assert!(history.contains("running"), "{history}");
    let running = || async {
        let v: Value = reqwest::Client::new()
            .get(format!("http://{admin}/v1/policies/acme"))
            .bearer_auth("tok-admin")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["yaml"].as_str().unwrap().to_string()
    };
    assert!(running().await.contains("id: emails"));
    let first = b.find("#history-table button").await;
    first.click().await.unwrap();
    b.find("#confirm[open]").await;
    b.find("#confirm-ok").await.click().await.unwrap();
    b.text_of("#policy-status", "Rolled back").await;
    assert!(!running().await.contains("id: emails"));
    b.screenshot("policies").await;
    b.no_xss().await;

    // Rules: search, read a rule's examples, test a text.
    b.go(admin, "#/rules").await;
    b.find("#rule-q").await.send_keys("aws").await.unwrap();
    b.text_of("#rule-list", "aws-access-key-id").await;
    b.find("#rule-list button").await.click().await.unwrap();
    b.text_of("#rule-detail", "Flags").await;
    b.find("#rule-text")
        .await
        .send_keys(&format!("key {SECRET}"))
        .await
        .unwrap();
    b.find("#rule-test").await.click().await.unwrap();
    b.text_of("#rule-runs mark", SECRET).await;
    b.screenshot("rules").await;
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_session_expires_and_the_cookie_is_locked_down() {
    let mut admin = token_yaml(&[("tok-auditor", "auditor", Some("acme"))]);
    admin.push_str("  session_ttl_secs: 2\n");
    let fx = setup(&admin).await;
    let addr = fx.proxy.admin;
    // The cookie: HttpOnly, SameSite=Strict, expiring; a form post cannot sign in.
    let http = reqwest::Client::new();
    let r = http
        .post(format!("http://{addr}/ui/login"))
        .json(&json!({"token": "tok-auditor"}))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Max-Age=2"),
        "{cookie}"
    );
    let form = http
        .post(format!("http://{addr}/ui/login"))
        .form(&[("token", "tok-auditor")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    let b = browser().await;
    b.sign_in(addr, "tok-auditor").await;
    assert_eq!(
        b.client
            .execute("return document.cookie", vec![])
            .await
            .unwrap(),
        Value::String(String::new()),
        "the session cookie is not readable from scripts"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    b.find("#nav-log").await.click().await.unwrap();
    b.text_of("#login-status", "expired").await;
    assert_eq!(b.fetch_status("/v1/session", "{}").await, 401);
    b.quit().await;
}
