//! Streamed responses through the proxy for each provider: a secret split across events is cut
//! with the provider's error event; a clean stream arrives event by event.

mod common;

use common::*;
use load_tests::mock::MockConfig;
use std::time::{Duration, Instant};

const HOSTS: &[&str] = &[
    "api.openai.com",
    "api.anthropic.com",
    "generativelanguage.googleapis.com",
];

struct Case {
    name: &'static str,
    url: &'static str,
    body: serde_json::Value,
    /// How the provider's error event is recognised.
    error_marker: &'static str,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "openai chat completions",
            url: "https://api.openai.com/v1/chat/completions",
            body: chat("tell me", true),
            error_marker: "\"type\":\"policy_violation\"",
        },
        Case {
            name: "openai responses",
            url: "https://api.openai.com/v1/responses",
            body: serde_json::json!({"model": "gpt-4.1", "input": "tell me", "stream": true}),
            error_marker: "\"type\":\"policy_violation\"",
        },
        Case {
            name: "anthropic messages",
            url: "https://api.anthropic.com/v1/messages",
            body: serde_json::json!({"model": "claude-x", "max_tokens": 50, "stream": true, "messages": [{"role": "user", "content": "tell me"}]}),
            error_marker: "event: error",
        },
        Case {
            name: "gemini streamGenerateContent",
            url: "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
            body: serde_json::json!({"contents": [{"role": "user", "parts": [{"text": "tell me"}]}]}),
            error_marker: "\"status\":\"PERMISSION_DENIED\"",
        },
    ]
}

async fn setup() -> (Proxy, TempDir) {
    let (mock, pem) = tls_mock(HOSTS, MockConfig::default()).await;
    let (dir, yaml) = upstream_yaml(&pem, mock.addr, HOSTS);
    std::mem::forget(mock);
    (Proxy::start(&yaml).await, dir)
}

async fn collect(r: reqwest::Response) -> (String, Vec<Duration>) {
    let mut r = r;
    let mut out = Vec::new();
    let mut arrivals = Vec::new();
    let start = Instant::now();
    while let Some(c) = r.chunk().await.unwrap() {
        arrivals.push(start.elapsed());
        out.extend_from_slice(&c);
    }
    (String::from_utf8(out).unwrap(), arrivals)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_split_across_events_is_cut_with_each_providers_error_event() {
    let (proxy, _d) = setup().await;
    let client = proxy.client(&[&proxy.ca_pem]);
    for c in cases() {
        let r = client
            .post(c.url)
            .header(
                "x-mock-reply-mirror",
                reversed("Sure, the deploy key is AKIAQWERTYUIOPASDFGH and it works"),
            )
            .header("x-mock-chunk-chars", "4")
            .json(&c.body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", c.name);
        let (text, _) = collect(r).await;
        assert!(
            !text.contains("AKIA") && !text.contains("ASDFGH"),
            "{}: leaked: {text}",
            c.name
        );
        assert!(
            text.contains(c.error_marker),
            "{}: no error event: {text}",
            c.name
        );
        assert!(
            text.contains("Sure,"),
            "{}: text before the secret was released: {text}",
            c.name
        );
    }
    proxy.log_with("response_decision=cut").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stream_arrives_event_by_event() {
    let (proxy, _d) = setup().await;
    let client = proxy.client(&[&proxy.ca_pem]);
    for c in cases() {
        let r = client
            .post(c.url)
            .header(
                "x-mock-reply",
                "The quarterly plan looks good to me and to the team",
            )
            .header("x-mock-chunk-chars", "6")
            .header("x-mock-delay-ms", "40")
            .json(&c.body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", c.name);
        let (text, arrivals) = collect(r).await;
        assert!(!text.contains("error"), "{}: {text}", c.name);
        assert!(
            arrivals.len() > 3,
            "{}: the stream arrived in {} pieces",
            c.name,
            arrivals.len()
        );
        // Reported, not asserted: the gap between pieces against the mock's 40 ms.
        let gaps: Vec<f64> = arrivals
            .windows(2)
            .map(|w| (w[1] - w[0]).as_secs_f64() * 1000.0)
            .collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len().max(1) as f64;
        println!(
            "{}: {} pieces, mean inter-piece gap {mean:.1} ms (mock sends every 40 ms)",
            c.name,
            arrivals.len()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_no_inspector_reads_is_refused_or_recorded_as_unread() {
    let (mock, pem) = tls_mock(HOSTS, MockConfig::default()).await;
    let (_d, yaml) = upstream_yaml(&pem, mock.addr, HOSTS);
    let url = "https://api.openai.com/v1/chat/completions";
    let ask = |proxy: &Proxy, ct: &'static str| {
        proxy
            .client(&[&proxy.ca_pem])
            .post(url)
            .header("x-mock-content-type", ct)
            .header(
                "x-mock-reply-mirror",
                reversed("the key is AKIAQWERTYUIOPASDFGH"),
            )
            .json(&chat("tell me", false))
            .send()
    };
    // Bedrock's event streams carry the model's text in binary frames PromptWall does not
    // decode: the default policy (on_uninspectable: block) refuses them.
    let strict = Proxy::start(&yaml).await;
    let r = ask(&strict, "application/vnd.amazon.eventstream")
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("AWS event stream") && !text.contains("AKIA"),
        "{text}"
    );
    // A tenant that lets unread content through gets it, and the usage log says it was unread;
    // so does an octet stream (recorded, never refused: it may be any file).
    let (_p, policies) = policies_yaml(&[(
        "default",
        "tenant: default\non_uninspectable: log\nrules:\n  - {id: keys, when: {category: secret}, action: block}\n",
    )]);
    let lax = Proxy::start(&format!("{yaml}{policies}")).await;
    for (ct, why) in [
        ("application/vnd.amazon.eventstream", "AWS event stream"),
        ("application/octet-stream", "does not read"),
    ] {
        let r = ask(&lax, ct).await.unwrap();
        assert_eq!(r.status(), 200, "{ct}");
        let events = lax.audit_events_eventually(&["--kind", "ai_response"], 1);
        let skipped = events
            .iter()
            .flat_map(|e| {
                e["coverage"]["skipped"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|s| s["why"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>();
        assert!(skipped.iter().any(|w| w.contains(why)), "{ct}: {skipped:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_breaks_off_inside_its_last_event_does_not_leak_it() {
    let (proxy, _d) = setup().await;
    let client = proxy.client(&[&proxy.ca_pem]);
    let r = client
        .post("https://api.openai.com/v1/chat/completions")
        .header(
            "x-mock-reply-mirror",
            reversed("the deploy key is AKIAQWERTYUIOPASDFGH"),
        )
        .header("x-mock-unterminated", "1")
        .json(&chat("tell me", true))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (text, _) = collect(r).await;
    assert!(!text.contains("AKIA"), "leaked: {text}");
    assert!(text.contains("policy_violation"), "no error event: {text}");
}
