//! End-to-end tests of the proxy core: real `promptwall` process, real TLS, real HTTP/1.1 and
//! HTTP/2 clients, and the mock upstream, all on 127.0.0.1.

mod common;

use common::*;
use load_tests::mock::MockConfig;
use std::io::{Read, Write};
use std::sync::atomic::Ordering;
use std::time::Duration;

const AI_HOSTS: &[&str] = &[
    "api.openai.com",
    "api.anthropic.com",
    "generativelanguage.googleapis.com",
];

async fn setup(extra: &str) -> (Proxy, load_tests::mock::MockServer, String, TempDir) {
    let (mock, mock_pem) = tls_mock(
        &[
            "api.openai.com",
            "api.anthropic.com",
            "generativelanguage.googleapis.com",
            "tunnel.test",
        ],
        MockConfig::default(),
    )
    .await;
    let mut hosts = AI_HOSTS.to_vec();
    hosts.push("tunnel.test");
    let (dir, yaml) = upstream_yaml(&mock_pem, mock.addr, &hosts);
    let proxy = Proxy::start(&format!("{yaml}{extra}")).await;
    (proxy, mock, mock_pem, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_ai_connect_is_a_blind_tunnel_showing_the_upstreams_own_certificate() {
    let (proxy, mock, mock_pem, _d) = setup("").await;
    // Trusting only the upstream's self-signed certificate works: nothing re-signed the traffic.
    let url = format!("https://tunnel.test:{}/v1/models", mock.addr.port());
    let r = proxy.client(&[&mock_pem]).get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // Trusting only the PromptWall CA fails: the proxy did not terminate TLS.
    assert!(proxy
        .client(&[&proxy.ca_pem])
        .get(&url)
        .send()
        .await
        .is_err());
    proxy.log_with("mode=tunnel").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ai_connect_is_intercepted_with_a_minted_certificate_and_forwarded_byte_for_byte() {
    let (proxy, mock, mock_pem, _d) = setup("").await;
    // The client trusts only the PromptWall CA and checks the host name: the handshake proves
    // the certificate was minted by that CA for api.openai.com.
    let client = proxy.client(&[&proxy.ca_pem]);
    let body = br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Summarize   the  plan\u00e9 "}],"temperature":0.2}"#;
    let r = client
        .post("https://api.openai.com/v1/chat/completions")
        .header("content-type", "application/json")
        .header("authorization", "Bearer sk-test")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-promptwall-request-id"));
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["object"], "chat.completion");
    let got = mock.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        &got[0].body[..],
        &body[..],
        "the body reached the upstream unchanged"
    );
    assert_eq!(got[0].path, "/v1/chat/completions");
    assert!(got[0]
        .headers
        .iter()
        .any(|(k, v)| k == "authorization" && v == "Bearer sk-test"));
    // The upstream's own certificate is not what the client saw.
    assert!(proxy
        .client(&[&mock_pem])
        .get("https://api.openai.com/v1/models")
        .send()
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompt_with_aws_key_is_blocked_with_openai_error_and_never_reaches_upstream() {
    let (proxy, mock, _pem, _d) = setup("").await;
    let client = proxy.client(&[&proxy.ca_pem]);
    let r = client
        .post("https://api.openai.com/v1/chat/completions")
        .json(&chat("deploy with AKIAQWERTYUIOPASDFGH please", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "policy_violation");
    assert_eq!(v["error"]["code"], "promptwall_policy_block");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("aws_access_key"));
    assert!(
        !v.to_string().contains("AKIAQWERTYUIOPASDFGH"),
        "the secret is not echoed back"
    );
    assert!(mock.received().is_empty(), "the upstream saw nothing");
    let log = proxy.log_with("rules=block-credentials").await;
    assert!(
        !log.contains("AKIAQWERTYUIOPASDFGH"),
        "the secret is not logged"
    );
    // The same connection keeps working for a clean prompt.
    let ok = client
        .post("https://api.openai.com/v1/chat/completions")
        .json(&chat("hello", false))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_response_streams_through_incrementally() {
    let (proxy, mock, _pem, _d) = setup("").await;
    let client = proxy.client(&[&proxy.ca_pem]);
    let mut r = client
        .post("https://api.openai.com/v1/chat/completions")
        .header("x-mock-tokens", "4")
        .header("x-mock-delay-ms", "300")
        .json(&chat("stream please", true))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let first = r.chunk().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: "), "{first:?}");
    // 7 events are sent 300 ms apart: the first reached us while most were still unsent.
    let sent_when_first_arrived = mock.events_sent.load(Ordering::SeqCst);
    assert!(
        sent_when_first_arrived < 4,
        "proxy buffered the stream: {sent_when_first_arrived} events sent before the first arrived"
    );
    let mut all = first.to_vec();
    while let Some(c) = r.chunk().await.unwrap() {
        all.extend_from_slice(&c);
    }
    let text = String::from_utf8(all).unwrap();
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    assert_eq!(text.matches("data: ").count(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_from_the_client_works_on_an_intercepted_connection() {
    let (proxy, mock, _pem, _d) = setup("").await;
    let client = proxy
        .client_builder(&[&proxy.ca_pem])
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let r = client
        .post("https://api.anthropic.com/v1/messages")
        .json(&serde_json::json!({"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["type"], "message");
    assert_eq!(mock.received()[0].path, "/v1/messages");
    // HTTP/2 from the client, HTTP/1.1 upstream (each in-flight request its own connection).
    assert_eq!(mock.received()[0].version, "HTTP/1.1");
    // A blocked request over HTTP/2 gets Anthropic's error shape.
    let r = client
        .post("https://api.anthropic.com/v1/messages")
        .json(&serde_json::json!({"model": "claude-x", "messages": [{"role": "user", "content": "key ghp_U8JZpDE0iGXlD6gNCFbaEPFjbD0kH8Oool8D"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (v["type"].as_str(), v["error"]["type"].as_str()),
        (Some("error"), Some("permission_error"))
    );
    assert_eq!(mock.received().len(), 1);
}

/// Frame by frame over HTTP/2: an inspected answer's body ends on its own DATA frame
/// (END_STREAM set), not on a trailing empty frame that costs the client a TLS record of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_answer_ends_on_its_last_data_frame() {
    let (proxy, mock, _pem, _d) = setup("").await;
    let tls = proxy.connect_tls(&[b"h2"]).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut send, conn) = h2::client::handshake(tls).await.unwrap();
    tokio::spawn(conn);
    for _ in 0..3 {
        let body = serde_json::to_vec(&chat("hello over h2", false)).unwrap();
        let req = http::Request::post("https://api.openai.com/v1/chat/completions")
            .header("content-type", "application/json")
            .body(())
            .unwrap();
        let (answer, mut out) = send.send_request(req, false).unwrap();
        out.send_data(body.into(), true).unwrap();
        let answer = answer.await.unwrap();
        assert_eq!(answer.status(), 200);
        let mut body = answer.into_body();
        let mut got = Vec::new();
        let mut ended_with_data = false;
        while let Some(chunk) = body.data().await {
            let chunk = chunk.unwrap();
            let _ = body.flow_control().release_capacity(chunk.len());
            got.extend_from_slice(&chunk);
            // Set while the last chunk is in hand only when END_STREAM came on its frame.
            ended_with_data = !chunk.is_empty() && body.is_end_stream();
        }
        assert!(
            ended_with_data,
            "the answer ended on a separate empty frame"
        );
        let v: serde_json::Value = serde_json::from_slice(&got).unwrap();
        assert_eq!(v["object"], "chat.completion");
    }
    assert_eq!(mock.received().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_hangs_mid_answer_gets_the_client_a_504_in_its_providers_shape() {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_d, yaml) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let yaml = yaml.replacen("upstream:\n", "upstream:\n  idle_timeout_ms: 300\n", 1);
    let proxy = Proxy::start(&yaml).await;
    let r = proxy
        .client(&[&proxy.ca_pem])
        .post("https://api.openai.com/v1/chat/completions")
        .header("x-mock-stall-after", "20")
        .json(&chat("hello", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 504);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("stopped sending its answer")),
        "{v}"
    );
    let events = proxy.audit_events_eventually(&["--kind", "ai_response"], 1);
    assert_eq!(events[0]["status"], 504, "{}", events[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn geminis_key_in_the_query_is_its_credential_not_a_leak() {
    let (proxy, mock, _pem, _d) = setup("").await;
    let client = proxy.client(&[&proxy.ca_pem]);
    // Gemini's documented way to pass the API key (browsers and the Live API cannot set a
    // header); the Google API key pattern must not block it.
    let key = "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW";
    let body = serde_json::json!({"contents": [{"role": "user", "parts": [{"text": "hello"}]}]});
    let base =
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent";
    let ask = |query: String| client.post(format!("{base}?{query}")).json(&body).send();
    let r = ask(format!("key={key}")).await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert!(mock.received()[0].path.ends_with(&format!("?key={key}")));
    // The same key anywhere else in the query is still a credential leaving.
    let r = ask(format!("key={key}&note=mine%20is%20{key}"))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(mock.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_answer_keeps_the_upstreams_length_and_ends_on_its_header() {
    let (proxy, mock, _pem, _d) = setup("").await;
    let url = "https://api.openai.com/v1/models";
    // What the upstream says a GET's body is: a HEAD answer carries that length, no body.
    let client = proxy.client(&[&proxy.ca_pem]);
    let get = client.get(url).send().await.unwrap();
    assert_eq!(get.status(), 200);
    let length = get.bytes().await.unwrap().len();
    assert!(length > 0);
    // HTTP/1.1: the answer is read whole (JSON), yet a HEAD's length is not rewritten to the
    // empty body read, and the connection stays usable.
    for _ in 0..2 {
        let head = client.head(url).send().await.unwrap();
        assert_eq!(head.status(), 200);
        assert_eq!(
            head.headers()["content-length"].to_str().unwrap(),
            length.to_string()
        );
        assert!(head.bytes().await.unwrap().is_empty());
    }
    // HTTP/2: one HEADERS frame that ends the stream, not a header and then an empty DATA
    // frame.
    let tls = proxy.connect_tls(&[b"h2"]).await;
    let (mut send, conn) = h2::client::handshake(tls).await.unwrap();
    tokio::spawn(conn);
    for _ in 0..3 {
        let req = http::Request::head(url).body(()).unwrap();
        let (answer, _) = send.send_request(req, true).unwrap();
        let answer = answer.await.unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(
            answer.headers()["content-length"].to_str().unwrap(),
            length.to_string()
        );
        assert!(
            answer.body().is_end_stream(),
            "the answer's end came on a separate frame"
        );
    }
    assert_eq!(
        mock.received()
            .iter()
            .filter(|r| r.method == "HEAD")
            .count(),
        5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_capacity_requests_get_a_prompt_503_and_the_proxy_recovers() {
    let (proxy, mock, _pem, _d) = setup("limits:\n  max_inflight: 2\n").await;
    let client = proxy.client(&[&proxy.ca_pem]);
    let url = "https://api.openai.com/v1/chat/completions";
    // Two slow streams hold both permits until they are read to the end.
    let mut open = Vec::new();
    for _ in 0..2 {
        let r = client
            .post(url)
            .header("x-mock-tokens", "3")
            .header("x-mock-delay-ms", "400")
            .json(&chat("stream please", true))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        open.push(r);
    }
    let r = client
        .post(url)
        .json(&chat("hello", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"].as_str().unwrap().contains("capacity"),
        "{v}"
    );
    assert_eq!(mock.received().len(), 2, "the shed request was not sent");
    for r in open {
        r.bytes().await.unwrap();
    }
    // Capacity is back once the streams end.
    let r = client
        .post(url)
        .json(&chat("hello", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(proxy.metric("promptwall_shed_total").await, 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_http2_is_used_when_configured() {
    // `setup` ends inside the `upstream:` block, so this key joins it.
    let (proxy, mock, _pem, _d) = setup("  http2: true\n").await;
    let client = proxy.client(&[&proxy.ca_pem]);
    for _ in 0..2 {
        let r = client
            .post("https://api.openai.com/v1/chat/completions")
            .json(&chat("hello", false))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let seen: Vec<String> = mock.received().into_iter().map(|r| r.version).collect();
    assert_eq!(seen, ["HTTP/2.0", "HTTP/2.0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_routes_provider_prefixes_to_the_upstream() {
    let (proxy, mock, _pem, _d) = setup("").await;
    let client = reqwest::Client::new();
    let r = client
        .post(format!(
            "http://{}/openai/v1/chat/completions",
            proxy.gateway
        ))
        .json(&chat("hello via gateway", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let got = mock.received();
    assert_eq!(got[0].path, "/v1/chat/completions");
    assert_eq!(got[0].host.as_deref(), Some("api.openai.com"));
    let r = client
        .post(format!("http://{}/gemini/v1beta/models/gemini-2.0-flash:generateContent", proxy.gateway))
        .json(&serde_json::json!({"contents": [{"role": "user", "parts": [{"text": "AKIAQWERTYUIOPASDFGH"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        403,
        "the generic walker scans Gemini bodies too"
    );
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["status"], "PERMISSION_DENIED");
    let r = client
        .get(format!("http://{}/nope/v1/x", proxy.gateway))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_clear_errors_and_the_proxy_keeps_serving() {
    let (proxy, mock, _pem, _d) = setup("limits:\n  max_body_bytes: 65536\n").await;
    let client = proxy.client(&[&proxy.ca_pem]);
    let url = "https://api.openai.com/v1/chat/completions";

    let big = chat(&"a".repeat(100_000), false);
    let r = client.post(url).json(&big).send().await.unwrap();
    assert_eq!(r.status(), 413);

    let r = client
        .post(url)
        .header("content-type", "application/json")
        .body("{\"messages\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("could not parse"),
        "{v}"
    );
    assert!(
        mock.received().is_empty(),
        "neither bad request was forwarded"
    );

    // header_timeout_ms is 2000 in the test config; the mock waits 30 s before answering.
    let r = client
        .post(url)
        .header("x-mock-header-delay-ms", "30000")
        .json(&chat("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 504);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "promptwall_upstream_timeout");

    for garbage in [
        "CONNECT not-a-host-port HTTP/1.1\r\n\r\n",
        "CONNECT \u{1}\u{2} HTTP/1.1\r\n\r\n",
        "CONNECT :0 HTTP/1.1\r\n\r\n",
    ] {
        let mut s = std::net::TcpStream::connect(proxy.proxy).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(garbage.as_bytes()).unwrap();
        let mut resp = String::new();
        let _ = s.read_to_string(&mut resp);
        assert!(resp.starts_with("HTTP/1.1 400"), "{garbage:?} -> {resp:?}");
    }

    let r = client
        .post(url)
        .json(&chat("still there?", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_authentication_maps_credentials_and_answers_407_without_them() {
    let hash = policy::SecretHash::create("s3cret");
    let extra = format!("auth:\n  required: true\n  credentials:\n    - {{ username: alice, secret_hash: \"{hash}\", tenant: acme }}\n");
    let (proxy, _mock, _pem, _d) = setup(&extra).await;
    let no_auth = proxy.client(&[&proxy.ca_pem]);
    let err = no_auth.get("https://api.openai.com/v1/models").send().await;
    assert!(err.is_err(), "CONNECT without credentials is refused");
    let mut s = std::net::TcpStream::connect(proxy.proxy).unwrap();
    s.write_all(b"CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    assert!(
        resp.starts_with("HTTP/1.1 407") && resp.contains("proxy-authenticate: Basic"),
        "{resp}"
    );

    let proxied = reqwest::Proxy::all(format!("http://{}", proxy.proxy))
        .unwrap()
        .basic_auth("alice", "s3cret");
    let client = reqwest::Client::builder()
        .proxy(proxied)
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(proxy.ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let r = client
        .post("https://api.openai.com/v1/chat/completions")
        .json(&chat("hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    proxy.log_with("tenant=acme").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absolute_form_plain_http_is_proxied() {
    let plain = load_tests::mock::MockServer::start(
        "127.0.0.1:0".parse().unwrap(),
        None,
        MockConfig::default(),
    )
    .await
    .unwrap();
    let proxy = Proxy::start("").await;
    let client = reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(format!("http://{}", proxy.proxy)).unwrap())
        .build()
        .unwrap();
    let r = client
        .get(format!("http://{}/v1/models", plain.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", proxy.log());
    assert_eq!(plain.received()[0].path, "/v1/models");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_certificates_are_verified() {
    // The mock's self-signed certificate is not trusted when no extra CA is configured.
    let (mock, _pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let proxy = Proxy::start(&format!(
        "upstream:\n  resolve:\n    api.openai.com: {}\n",
        mock.addr
    ))
    .await;
    let r = proxy
        .client(&[&proxy.ca_pem])
        .post("https://api.openai.com/v1/chat/completions")
        .json(&chat("hello", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let v: serde_json::Value = r.json().await.unwrap();
    let msg = v["error"]["message"].as_str().unwrap().to_ascii_lowercase();
    assert!(
        msg.contains("api.openai.com") && msg.contains("certificate"),
        "{msg}"
    );
    assert!(mock.received().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_shuts_down_gracefully() {
    let mut proxy = Proxy::start("").await;
    let status = std::process::Command::new("kill")
        .args(["-TERM", &proxy.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // Bounded wait (a hang guard, not a timing assertion): grace is 1 s in the test config.
    for _ in 0..300 {
        if let Some(s) = proxy.child.try_wait().unwrap() {
            assert!(
                s.success() || s.code().is_none() || s.code() == Some(0),
                "{s}"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "promptwall did not exit after SIGTERM; log:\n{}",
        proxy.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_serves_tls_with_a_certificate_from_the_ca() {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_d, yaml) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let proxy = Proxy::start_with_gateway(&yaml, "  tls_names: [promptwall.test]\n").await;
    // A client trusting only the CA, reaching the gateway by `name`.
    let by_name = |name: &str| {
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(proxy.ca_pem.as_bytes()).unwrap())
            .resolve(name, proxy.gateway)
            .no_proxy()
            .build()
            .unwrap()
    };
    let r = by_name("promptwall.test")
        .post(format!(
            "https://promptwall.test:{}/openai/v1/chat/completions",
            proxy.gateway.port()
        ))
        .json(&chat("hello over the TLS gateway", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(mock.received()[0].path, "/v1/chat/completions");
    // Only its configured names are minted: a made-up TLS name gets the first name's leaf
    // (which the client rejects for that name), not a key of its own.
    let e = by_name("made-up.example")
        .get(format!(
            "https://made-up.example:{}/healthz",
            proxy.gateway.port()
        ))
        .send()
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("NotValidForName"), "{e:?}");
}

/// A body streamed in thousands of tiny HTTP/2 DATA frames (as a multipart upload of many
/// fields is sent) is read whole, not refused by h2's small-frame flood guard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_streamed_in_many_small_frames_is_read_whole() {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_d, yaml) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let proxy = Proxy::start(&yaml).await;
    let c = proxy.client(&[&proxy.ca_pem]);
    let body = serde_json::to_vec(&chat(&"hello ".repeat(3_000), false)).unwrap();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(4).map(|c| Ok(c.to_vec())).collect();
    let r = c
        .post("https://api.openai.com/v1/chat/completions")
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(r.status(), 200);
    assert_eq!(&mock.received()[0].body[..], &body[..]);
}
