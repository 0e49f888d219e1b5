//! No way around inspection (issue 15): a credential placed anywhere a provider receives it
//! (an unknown JSON field or key, a body that is not plain UTF-8 JSON, the query string, a
//! header) is found, through CONNECT and through the gateway, and the upstream never sees it.
//! A body that cannot be read at all follows the tenant's `on_uninspectable`.

mod common;

use common::*;
use load_tests::mock::MockConfig;

const SECRET: &str = "AKIAQWERTYUIOPASDFGH";

/// A request to build on one path: (method, path and query, headers, body).
struct Attempt {
    name: &'static str,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn utf16le(s: &str) -> Vec<u8> {
    [
        &[0xFF, 0xFE][..],
        &s.encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<_>>(),
    ]
    .concat()
}

fn attempts() -> Vec<Attempt> {
    let json = |v: serde_json::Value| serde_json::to_vec(&v).unwrap();
    let ct = |v: &str| vec![("content-type", v.to_string())];
    let chat_path = "/v1/chat/completions".to_string();
    vec![
        Attempt {
            name: "a tool description the adapter does not read",
            method: "POST",
            path: chat_path.clone(),
            headers: ct("application/json"),
            body: json(
                serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}],
                "tools": [{"type": "function", "function": {"name": "f", "description": format!("use key {SECRET}"), "parameters": {}}}]}),
            ),
        },
        Attempt {
            name: "an object key in metadata",
            method: "POST",
            path: chat_path.clone(),
            headers: ct("application/json"),
            body: json(
                serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}],
                "metadata": {SECRET: "x"}}),
            ),
        },
        Attempt {
            name: "a text file attached inline as base64",
            method: "POST",
            path: chat_path.clone(),
            headers: ct("application/json"),
            body: json(
                serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": [
                    {"type": "text", "text": "summarise"},
                    {"type": "file", "file": {"filename": "env.txt", "file_data": format!("data:text/plain;base64,{}", b64(&format!("AWS_KEY={SECRET}\n")))}}
                ]}]}),
            ),
        },
        Attempt {
            name: "JSON in UTF-16 with a byte-order mark",
            method: "POST",
            path: chat_path.clone(),
            headers: ct("application/json"),
            body: utf16le(
                &serde_json::to_string(&chat(&format!("deploy with {SECRET}"), false)).unwrap(),
            ),
        },
        Attempt {
            name: "JSON behind a UTF-8 byte-order mark",
            method: "POST",
            path: chat_path.clone(),
            headers: ct("application/json"),
            body: [
                &[0xEF, 0xBB, 0xBF][..],
                &json(chat(&format!("deploy with {SECRET}"), false)),
            ]
            .concat(),
        },
        Attempt {
            name: "a form-encoded body",
            method: "POST",
            path: chat_path.clone(),
            headers: ct("application/x-www-form-urlencoded"),
            body: format!("prompt=deploy+with+{SECRET}&model=x").into_bytes(),
        },
        Attempt {
            name: "a text/plain body",
            method: "POST",
            path: chat_path.clone(),
            headers: ct("text/plain"),
            body: format!("deploy with {SECRET}").into_bytes(),
        },
        Attempt {
            name: "the query string",
            method: "POST",
            path: format!("{chat_path}?note=deploy%20with%20{SECRET}"),
            headers: ct("application/json"),
            body: json(chat("hello", false)),
        },
        Attempt {
            name: "a GET's query string",
            method: "GET",
            path: format!("/v1/models?q={SECRET}"),
            headers: vec![],
            body: vec![],
        },
        Attempt {
            name: "a free-form header",
            method: "POST",
            path: chat_path.clone(),
            headers: vec![
                ("content-type", "application/json".into()),
                ("x-note", format!("deploy with {SECRET}")),
            ],
            body: json(chat("hello", false)),
        },
        Attempt {
            name: "a flood of rejected look-alikes in front of the key",
            method: "POST",
            path: chat_path.clone(),
            headers: ct("application/json"),
            body: json(chat(
                &format!(
                    "{} deploy with {SECRET}",
                    "AKIAIOSFODNN7EXAMPLE ".repeat(12_000)
                ),
                false,
            )),
        },
        Attempt {
            name: "a binary body (on_uninspectable: block)",
            method: "POST",
            path: chat_path,
            headers: ct("application/octet-stream"),
            body: [
                &[0x89, b'P', b'N', b'G', 0, 0, 0, 0xff][..],
                SECRET.as_bytes(),
            ]
            .concat(),
        },
    ]
}

async fn send(client: &reqwest::Client, base: &str, a: &Attempt) -> u16 {
    let method = reqwest::Method::from_bytes(a.method.as_bytes()).unwrap();
    let mut req = client.request(method, format!("{base}{}", a.path));
    for (k, v) in &a.headers {
        req = req.header(*k, v);
    }
    req.body(a.body.clone())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_anywhere_the_provider_receives_it_is_blocked_on_both_paths() {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_d, yaml) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let proxy = Proxy::start(&yaml).await;
    let connect = proxy.client(&[&proxy.ca_pem]);
    let gateway = reqwest::Client::builder().no_proxy().build().unwrap();
    let gw = format!("http://{}/openai", proxy.gateway);
    for a in attempts() {
        for (path, client, base) in [
            ("CONNECT", &connect, "https://api.openai.com"),
            ("gateway", &gateway, gw.as_str()),
        ] {
            assert_eq!(send(client, base, &a).await, 403, "{}: {path}", a.name);
        }
    }
    let seen = mock.received();
    assert!(seen.is_empty(), "the upstream saw {} requests", seen.len());
    // The audit log names where each was found, and never the value.
    let events = proxy.audit_events(&["--kind", "ai_request"]);
    assert_eq!(events.len(), 2 * attempts().len());
    for e in &events {
        let rule = e["reasons"][0]["rule"].as_str().unwrap_or_default();
        assert!(
            e["decision"] == "block"
                && (rule == "block-credentials" || rule == "on_uninspectable:block"),
            "{e}"
        );
    }
    let raw = serde_json::to_string(&events).unwrap();
    assert!(!raw.contains(SECRET));
    assert!(raw.contains("on_uninspectable:block"));
}

/// Text encoded more layers deep than the scan decodes is not called clean: the tenant's fail
/// mode decides (the default policy fails open and logs it; a fail-closed tenant blocks).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_limit_follows_the_tenants_fail_mode() {
    use base64::Engine as _;
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_d, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let policies = TempDir::new("scan-limit");
    std::fs::write(
        policies.0.join("strict.yaml"),
        "tenant: strict\non_classifier_error: fail_closed\nrules:\n  - {id: keys, when: {category: secret}, action: block}\n",
    )
    .unwrap();
    let hash = policy::SecretHash::create("s");
    let proxy = Proxy::start(&format!(
        "{upstream}policies:\n  dir: {}\nauth:\n  credentials:\n    - {{ username: s, secret_hash: \"{hash}\", tenant: strict }}\n",
        policies.0.display()
    ))
    .await;
    let mut deep = format!("deploy with {SECRET}");
    for _ in 0..4 {
        deep = base64::engine::general_purpose::STANDARD.encode(&deep);
    }
    // No "decode this:" before it: the content classifier reads an instruction to decode an
    // opaque payload as a jailbreak (MODEL_CARD.md, red team), and this test is about the scan.
    let body = chat(&format!("The ticket attaches this blob: {deep}"), false);
    let url = "https://api.openai.com/v1/chat/completions";
    let open = proxy.client(&[&proxy.ca_pem]);
    let r = open.post(url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200, "the default policy fails open");
    let r = proxy
        .client_as("s", "s")
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a fail-closed tenant blocks");
    let events = proxy.audit_events(&["--kind", "ai_request"]);
    let rules: Vec<&str> = events
        .iter()
        .map(|e| e["reasons"][0]["rule"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        rules,
        ["scan_limit:fail_open", "scan_limit:fail_closed"],
        "{events:#?}"
    );
    // The same limit in a streamed answer: the fail-closed tenant's stream is cut before the
    // unread run is released.
    let r = proxy
        .client_as("s", "s")
        .post(url)
        .header(
            "x-mock-reply-mirror",
            reversed(&format!("here it is: {deep}")),
        )
        .json(&chat("hello", true))
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(text.contains("promptwall_policy_block"), "{text}");
    assert!(!text.contains(&deep[..24]), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_bodies_of_every_kind_pass_unchanged_and_a_tenant_may_allow_unreadable_ones() {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_d, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let (_p, policies) = policies_yaml(&[(
        "default",
        "tenant: default\non_uninspectable: log\nrules:\n  - {id: keys, when: {category: secret}, action: block}\n  - {id: pii, when: {category: pii}, action: redact, redact: pseudonym}\n",
    )]);
    let proxy = Proxy::start(&format!("{upstream}{policies}")).await;
    let c = proxy.client(&[&proxy.ca_pem]);
    let url = "https://api.openai.com/v1/chat/completions";
    let clean16 = utf16le(&serde_json::to_string(&chat("hello there", false)).unwrap());
    let r = c
        .post(url)
        .header("content-type", "application/json")
        .body(clean16.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        &mock.received()[0].body[..],
        &clean16[..],
        "forwarded byte for byte"
    );
    // PII in a UTF-16 body is pseudonymized, and the rewritten body goes up as UTF-8 JSON.
    let pii16 =
        utf16le(&serde_json::to_string(&chat("mail ana.ruiz@globex-corp.com", false)).unwrap());
    let r = c
        .post(url)
        .header("content-type", "application/json; charset=utf-16")
        .body(pii16)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let up = &mock.received()[1];
    let v: serde_json::Value = serde_json::from_slice(&up.body).unwrap();
    assert_eq!(v["messages"][1]["content"], "mail <EMAIL_1>");
    assert!(up
        .headers
        .iter()
        .any(|(k, v)| k == "content-type" && v == "application/json"));
    // A form field is rewritten in place.
    let r = c
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("model=x&prompt=mail+ana.ruiz%40globex-corp.com")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        String::from_utf8_lossy(&mock.received()[2].body),
        "model=x&prompt=mail+%3CEMAIL_1%3E"
    );
    // Personal data in the query string and in a header is pseudonymized there too.
    let r = c
        .post(format!("{url}?note=for%20ana.ruiz%40globex-corp.com&n=2"))
        .header("x-requested-for", "bo.lee@globex-corp.com")
        .json(&chat("hello", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let up = &mock.received()[3];
    assert!(
        up.path.ends_with("?note=for+%3CEMAIL_1%3E&n=2"),
        "{}",
        up.path
    );
    assert!(
        up.headers
            .iter()
            .any(|(k, v)| k == "x-requested-for" && v == "<EMAIL_2>"),
        "{:?}",
        up.headers
    );
    // PII inside an inline text file is pseudonymized in the file, which goes up re-encoded.
    let file = serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": [
        {"type": "file", "file": {"filename": "cc.txt", "file_data": format!("data:text/plain;base64,{}", b64("cc ana.ruiz@globex-corp.com\n"))}}
    ]}]});
    let r = c.post(url).json(&file).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let up: serde_json::Value = serde_json::from_slice(&mock.received()[4].body).unwrap();
    assert_eq!(
        up["messages"][0]["content"][0]["file"]["file_data"],
        format!("data:text/plain;base64,{}", b64("cc <EMAIL_1>\n"))
    );
    // This tenant lets an unreadable body through, logged.
    let r = c
        .post(url)
        .header("content-type", "application/octet-stream")
        .body(vec![0u8, 1, 2, 0xff, 0xfe])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let events = proxy.audit_events(&["--kind", "ai_request"]);
    let last = events.last().unwrap();
    assert_eq!(last["decision"], "log", "{last}");
    assert_eq!(last["reasons"][0]["rule"], "on_uninspectable:log");
}

/// A TLS client reached through a raw `CONNECT target` whose ClientHello names `sni` (no name
/// when `sni` is an IP address), trusting `ca_pem`. Returns the TLS stream, or the handshake
/// error.
async fn connect_with_sni(
    proxy: std::net::SocketAddr,
    target: &str,
    sni: &str,
    ca_pem: &str,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    connect_through(proxy, target, sni, client_config(ca_pem)).await
}

/// A rustls client config trusting `ca_pem`, with rustls's default in-memory session cache.
fn client_config(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

/// [`connect_with_sni`] with a given client config (and so its session cache).
async fn connect_through(
    proxy: std::net::SocketAddr,
    target: &str,
    sni: &str,
    config: Arc<rustls::ClientConfig>,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let tcp = connect_raw(proxy, target).await;
    let name = rustls::pki_types::ServerName::try_from(sni.to_string()).unwrap();
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
}

use std::sync::Arc;

/// One HTTP/1.1 request over an established TLS stream; the status code.
async fn post_over(
    tls: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    host: &str,
    body: &str,
) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let req = format!("POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
    tls.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// A CONNECT to an address outside the catalog whose TLS ClientHello names an AI host is not
/// tunnelled blind: blocked by default (and recorded), or intercepted and inspected as that
/// host when the tenant says so. No name at all, to an address of an AI host, is blocked too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_name_that_disagrees_with_the_connect_target_is_not_tunnelled_blind() {
    let (mock, pem) = tls_mock(&["api.openai.com", "127.0.0.1"], MockConfig::default()).await;
    let (_d, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let target = mock.addr.to_string();
    let proxy = Proxy::start(&upstream).await;
    // Blocked: the handshake never completes and the mock sees no connection's request.
    let r = connect_with_sni(proxy.proxy, &target, "api.openai.com", &pem).await;
    assert!(r.is_err(), "the disguised tunnel was closed");
    // No name, to the AI host's (pinned) address: blocked too, in any spelling of it.
    let r = connect_with_sni(proxy.proxy, &target, "127.0.0.1", &pem).await;
    assert!(r.is_err(), "a nameless hello to an AI address was closed");
    let mapped = format!("[::ffff:127.0.0.1]:{}", mock.addr.port());
    let r = connect_with_sni(proxy.proxy, &mapped, "127.0.0.1", &pem).await;
    assert!(
        r.is_err(),
        "a nameless hello to an AI address, IPv4-mapped, was closed"
    );
    assert!(mock.received().is_empty());
    let events = proxy.audit_events(&["--kind", "blocked_destination"]);
    assert_eq!(events.len(), 3, "{events:#?}");
    assert_eq!(events[0]["sni"], "api.openai.com");
    assert_eq!(
        events[0]["reasons"][0]["rule"],
        "destinations.mismatch:block"
    );
    assert_eq!(events[1]["reasons"][0]["entity"], "no_sni_to_ai_address");

    // A tenant that intercepts instead: the client gets a PromptWall certificate for the name
    // it asked for, and its requests are inspected like any other.
    let policies = TempDir::new("mismatch");
    std::fs::write(
        policies.0.join("default.yaml"),
        "tenant: default\ndestinations: {mismatch: intercept}\nrules:\n  - {id: keys, when: {category: secret}, action: block}\n",
    )
    .unwrap();
    let proxy = Proxy::start(&format!(
        "{upstream}policies:\n  dir: {}\n",
        policies.0.display()
    ))
    .await;
    let mut tls = connect_with_sni(proxy.proxy, &target, "api.openai.com", &proxy.ca_pem)
        .await
        .expect("intercepted with the PromptWall CA");
    let secret = serde_json::to_string(&chat(&format!("deploy {SECRET}"), false)).unwrap();
    assert_eq!(post_over(&mut tls, "api.openai.com", &secret).await, 403);
    let mut tls = connect_with_sni(proxy.proxy, &target, "api.openai.com", &proxy.ca_pem)
        .await
        .unwrap();
    let clean = serde_json::to_string(&chat("hello", false)).unwrap();
    assert_eq!(post_over(&mut tls, "api.openai.com", &clean).await, 200);
    assert_eq!(mock.received().len(), 1, "only the clean request went up");
}

/// A TLS hello PromptWall cannot read names nothing it can check (a server, a shared front
/// among them, may still read it): the tenant's `destinations.mismatch` decides, block by
/// default, instead of a blind tunnel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_tls_hello_is_not_tunnelled_blind() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_d, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let proxy = Proxy::start(&upstream).await;
    // A plain listener that is no AI host, counting what reaches it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let got = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut all = Vec::new();
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut all)).await;
        all
    });
    let mut tcp = connect_raw(proxy.proxy, &target).await;
    // A handshake record holding a ClientHello too short to parse.
    let hello = [
        0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x00, 0x00, 0x04, 0x03, 0x03, 0xff, 0xff,
    ];
    tcp.write_all(&hello).await.unwrap();
    let mut rest = Vec::new();
    let _ = tcp.read_to_end(&mut rest).await;
    assert!(got.await.unwrap().is_empty(), "the hello was relayed");
    let blocked = proxy.audit_events(&["--kind", "blocked_destination"]);
    assert_eq!(
        blocked[0]["reasons"][0]["entity"], "unreadable_client_hello",
        "{blocked:#?}"
    );
}

/// A tunnel the policy allows to an unsanctioned AI service cannot carry a hello for a
/// sanctioned one (on a shared front, the TLS name picks the service); its own name passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_tunnel_to_one_ai_service_cannot_carry_another() {
    let hosts = ["api.openai.com", "api.mistral.ai"];
    let (mock, pem) = tls_mock(&hosts, MockConfig::default()).await;
    let (_d, upstream) = upstream_yaml(&pem, mock.addr, &hosts);
    let (_p, policies) = policies_yaml(&[(
        "default",
        "tenant: default\ndestinations: {sanctioned: [openai], unsanctioned_ai: tunnel}\nrules: []\n",
    )]);
    let proxy = Proxy::start(&format!("{upstream}{policies}")).await;
    connect_with_sni(proxy.proxy, "api.mistral.ai:443", "api.mistral.ai", &pem)
        .await
        .expect("the unsanctioned service itself is tunnelled");
    let r = connect_with_sni(proxy.proxy, "api.mistral.ai:443", "api.openai.com", &pem).await;
    assert!(r.is_err(), "OpenAI reached through Mistral's tunnel");
    let blocked = proxy.audit_events(&["--kind", "blocked_destination"]);
    assert_eq!(blocked.len(), 1, "{blocked:#?}");
    assert_eq!(blocked[0]["sni"], "api.openai.com");
}

/// A tenant that tunnels a disagreeing TLS name (an evasion signal) gets the tunnel only once
/// its record is written: with the usage log unable to commit, the connection is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mismatch_tunnel_opens_only_once_it_is_recorded() {
    let (mock, pem) = tls_mock(&["api.openai.com", "127.0.0.1"], MockConfig::default()).await;
    let (_d, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let target = mock.addr.to_string();
    let (_p, policies) = policies_yaml(&[(
        "default",
        "tenant: default\ndestinations: {mismatch: tunnel}\nrules: []\n",
    )]);
    let proxy = Proxy::start(&format!("{upstream}{policies}")).await;
    // Tunnelled blind: the client reaches the upstream's own certificate.
    connect_with_sni(proxy.proxy, &target, "api.openai.com", &pem)
        .await
        .expect("tunnelled while the log works");
    let db = rusqlite::Connection::open(proxy.dir.0.join("state/audit.db")).unwrap();
    db.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let r = connect_with_sni(proxy.proxy, &target, "api.openai.com", &pem).await;
    assert!(r.is_err(), "an unrecorded mismatch tunnel was opened");
    db.execute_batch("ROLLBACK").unwrap();
    drop(db);
    connect_with_sni(proxy.proxy, &target, "api.openai.com", &pem)
        .await
        .expect("tunnelled again once the log commits");
    let tunnels = proxy.audit_events(&["--kind", "tunnel"]);
    assert_eq!(tunnels.len(), 2, "{tunnels:#?}");
}

/// A key cut in two across the turns of an OpenAI Responses chain: the client sends only the
/// new turn (the provider keeps the rest), so PromptWall keeps the end of each turn, sealed,
/// and reads the next turn's start against it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_split_across_turns_of_a_responses_chain_is_blocked() {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_d, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let proxy = Proxy::start(&upstream).await;
    let c = proxy.client(&[&proxy.ca_pem]);
    let url = "https://api.openai.com/v1/responses";
    let (head, rest) = SECRET.split_at(10);
    let first = |text: String| {
        let c = c.clone();
        async move {
            let r = c
                .post(url)
                .json(&serde_json::json!({"model": "gpt-4o-mini", "input": text}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "half a key alone is nothing");
            let v: serde_json::Value = r.json().await.unwrap();
            v["id"].as_str().unwrap().to_string()
        }
    };
    let next = |id: String, text: String| {
        c.post(url)
            .json(&serde_json::json!({"model": "gpt-4o-mini", "previous_response_id": id, "input": text}))
            .send()
    };
    let id = first(format!("Keep this for me, the key starts {head}")).await;
    let r = next(id, format!("{rest} and then deploy with it"))
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "the two halves make a key");
    let events = proxy.audit_events(&["--kind", "ai_request"]);
    let last = events.last().unwrap();
    assert!(last["reasons"][0]["entity"] == "aws_access_key", "{last}");
    assert!(!serde_json::to_string(&events).unwrap().contains(rest));
    // An unrelated next turn passes.
    let id = first(format!("Keep this for me, the key starts {head}")).await;
    let r = next(id, "thanks, that is all".into()).await.unwrap();
    assert_eq!(r.status(), 200);
}

/// A TLS client of PromptWall's minted leaves resumes its session on its next connection
/// (a session ticket), instead of a full handshake each time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intercepted_client_resumes_its_tls_session_on_the_next_connection() {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_d, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let proxy = Proxy::start(&upstream).await;
    // One client config, so its session cache spans both connections.
    let config = client_config(&proxy.ca_pem);
    let mut kinds = Vec::new();
    for _ in 0..2 {
        let target = "api.openai.com:443";
        let mut tls = connect_through(proxy.proxy, target, "api.openai.com", config.clone())
            .await
            .unwrap();
        kinds.push(tls.get_ref().1.handshake_kind());
        // A request and its whole answer: the tickets arrive after the handshake.
        let body = chat("plan the offsite agenda", false).to_string();
        assert_eq!(post_over(&mut tls, "api.openai.com", &body).await, 200);
    }
    assert_eq!(
        kinds,
        [
            Some(rustls::HandshakeKind::Full),
            Some(rustls::HandshakeKind::Resumed)
        ]
    );
}
