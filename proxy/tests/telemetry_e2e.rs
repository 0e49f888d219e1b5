//! OpenTelemetry export end to end: the proxy sends OTLP/HTTP (JSON) to an in-process receiver
//! on 127.0.0.1, and the spans and metrics arrive with the expected names, attributes and
//! parent links, and no content.

mod common;

use common::*;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use load_tests::mock::MockConfig;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const URL: &str = "https://api.openai.com/v1/chat/completions";

/// Collected request bodies by path.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

async fn otlp_receiver() -> (std::net::SocketAddr, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let got: Received = Arc::default();
    let sink = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let sink = sink.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let sink = sink.clone();
                    async move {
                        let path = req.uri().path().to_string();
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        sink.lock().unwrap().push((path, body.to_vec()));
                        Ok::<_, hyper::Error>(
                            hyper::Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(bytes::Bytes::from_static(b"{}")))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, got)
}

fn blocked_root_of<'a>(roots: &[&'a Value]) -> &'a Value {
    roots
        .iter()
        .find(|r| attr(r, "promptwall.decision").unwrap()["stringValue"] == "block")
        .unwrap()
}

fn attr<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["value"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_and_metrics_reach_an_otlp_receiver() {
    let (otlp, got) = otlp_receiver().await;
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_ca, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let proxy = Proxy::start(&format!(
        "{upstream}telemetry:\n  otlp:\n    endpoint: http://{otlp}\n    protocol: http/json\n    export_interval_ms: 200\n"
    ))
    .await;
    let client = proxy.client(&[&proxy.ca_pem]);
    let ok = client
        .post(URL)
        .json(&chat("plan the offsite agenda", false))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let blocked = client
        .post(URL)
        .json(&chat("use AKIAQWERTYUIOPASDFGH to deploy", false))
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status(), 403);

    // Wait (bounded) for both requests' spans and a metrics export.
    let mut spans: Vec<Value> = Vec::new();
    let mut metrics = String::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let bodies = got.lock().unwrap().clone();
        spans = bodies
            .iter()
            .filter(|(p, _)| p == "/v1/traces")
            .flat_map(|(_, b)| {
                let v: Value = serde_json::from_slice(b).unwrap();
                v["resourceSpans"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|rs| rs["scopeSpans"].as_array().unwrap().clone())
                    .flat_map(|ss| ss["spans"].as_array().unwrap().clone())
                    .collect::<Vec<_>>()
            })
            .collect();
        metrics = bodies
            .iter()
            .filter(|(p, _)| p == "/v1/metrics")
            .map(|(_, b)| String::from_utf8_lossy(b).to_string())
            .collect();
        let roots = spans
            .iter()
            .filter(|s| attr(s, "gen_ai.request.model").is_some())
            .count();
        if roots >= 2
            && metrics.contains("promptwall.requests")
            && metrics.contains("gen_ai.client.token.usage")
        {
            break;
        }
    }
    let roots: Vec<&Value> = spans
        .iter()
        .filter(|s| attr(s, "gen_ai.request.model").is_some())
        .collect();
    assert_eq!(roots.len(), 2, "{spans:#?}");
    for root in &roots {
        assert_eq!(root["name"], "chat gpt-4o-mini");
        assert_eq!(
            attr(root, "gen_ai.system").unwrap()["stringValue"],
            "openai"
        );
        assert_eq!(
            attr(root, "gen_ai.operation.name").unwrap()["stringValue"],
            "chat"
        );
        assert_eq!(
            attr(root, "promptwall.tenant").unwrap()["stringValue"],
            "default"
        );
    }
    let decision = |r: &Value| attr(r, "promptwall.decision").unwrap()["stringValue"].clone();
    let mut decisions: Vec<String> = roots
        .iter()
        .map(|r| decision(r).as_str().unwrap().to_string())
        .collect();
    decisions.sort();
    assert_eq!(decisions, ["allow", "block"]);
    // Stage spans are children of their request's span.
    let children = |root: &Value| -> Vec<String> {
        let mut names: Vec<String> = spans
            .iter()
            .filter(|s| s["traceId"] == root["traceId"] && s["parentSpanId"] == root["spanId"])
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    let allowed = roots.iter().find(|r| decision(r) == "allow").unwrap();
    assert_eq!(children(allowed), ["inspect", "stream", "upstream"]);
    // Token counts from the provider's `usage` (the mock answers 8 words, 1 prompt token).
    let tokens = |r: &Value, k: &str| attr(r, k).map(|v| v["intValue"].clone());
    assert_eq!(
        (
            tokens(allowed, "gen_ai.usage.input_tokens"),
            tokens(allowed, "gen_ai.usage.output_tokens")
        ),
        (Some("1".into()), Some("8".into())),
        "{allowed:#?}"
    );
    assert!(tokens(blocked_root_of(&roots), "gen_ai.usage.output_tokens").is_none());
    let inspect = spans
        .iter()
        .find(|s| s["traceId"] == allowed["traceId"] && s["name"] == "inspect")
        .unwrap();
    let grandchildren: Vec<&str> = spans
        .iter()
        .filter(|s| s["parentSpanId"] == inspect["spanId"])
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(grandchildren.contains(&"policy"), "{grandchildren:?}");
    let blocked_root = roots.iter().find(|r| decision(r) == "block").unwrap();
    assert_eq!(
        children(blocked_root),
        ["inspect"],
        "a blocked request never goes upstream"
    );
    // Metrics arrive too; nothing carries content.
    assert!(metrics.contains("promptwall.stage.duration"), "{metrics}");
    assert!(metrics.contains("gen_ai.client.token.usage"), "{metrics}");
    assert!(
        metrics.contains("promptwall.audit.write.duration"),
        "{metrics}"
    );
    for (_, body) in got.lock().unwrap().iter() {
        let text = String::from_utf8_lossy(body);
        assert!(!text.contains("AKIA") && !text.contains("offsite agenda"));
    }
}
