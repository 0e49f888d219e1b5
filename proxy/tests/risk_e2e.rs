//! Insider-risk analytics end to end: alert quality on a generated log with planted insiders,
//! the rollup's incremental reads, and a running server that sends each alert once, signed, to
//! a webhook and a syslog collector, with users pseudonymized until an investigator reveals one.

mod common;

use common::{Proxy, TempDir};
use promptwall::audit::{AuditEvent, AuditStore};
use promptwall::risk::simulate::{self, Scenario};
use promptwall::risk::{days_before, RiskStore};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn planted_insiders_are_found_and_ordinary_users_rarely_alert() {
    // Seed 7 is the one the thresholds were developed on; this seed and size are held out.
    let scenario = Scenario {
        seed: 11,
        users: 300,
        ..Scenario::default()
    };
    let mut store = RiskStore::open(std::path::Path::new(":memory:")).unwrap();
    let e = simulate::evaluate(&scenario, &mut store).unwrap();
    eprintln!("{}", serde_json::to_string_pretty(&e).unwrap());
    assert!(e.planted >= 5, "{e:#?}");
    assert!(e.recall >= 0.85, "recall {} {e:#?}", e.recall);
    assert!(e.precision >= 0.7, "precision {} {e:#?}", e.precision);
    assert!(
        e.false_per_1000_user_days <= 1.0,
        "{} false alerts per 1,000 users per day",
        e.false_per_1000_user_days
    );
    // Every kind of insider is caught at least once at full strength.
    for plant in ["exfiltration", "retry_after_block", "shadow_ai"] {
        if let Some((caught, planted)) = e.recall_by_plant.get(plant) {
            assert!(*caught > 0 || *planted == 0, "{plant}: {caught}/{planted}");
        }
    }
}

fn load(store: &mut AuditStore, activities: &[promptwall::audit::store::Activity]) {
    let mut events: Vec<AuditEvent> = activities.iter().map(simulate::to_event).collect();
    for chunk in events.chunks_mut(2_000) {
        store.insert(chunk).unwrap();
    }
}

#[test]
fn the_rollup_reads_only_new_events_a_bounded_page_at_a_time() {
    let dir = TempDir::new("risk-rollup");
    let (activities, _) = simulate::generate(&Scenario {
        seed: 3,
        users: 25,
        history_days: 10,
        eval_days: 2,
        ..Scenario::default()
    });
    // The log holds all but the last day; the rest comes later.
    let last_day = activities.last().unwrap().time[..10].to_string();
    let split = activities
        .iter()
        .position(|a| a.time.starts_with(&last_day))
        .unwrap();
    let mut audit = AuditStore::open(&dir.0.join("audit.db")).unwrap();
    load(&mut audit, &activities[..split]);

    let mut risk = RiskStore::open(&dir.0.join("risk.db")).unwrap();
    let first = risk.catch_up_with(&audit, 500).unwrap();
    assert_eq!(first.events as usize, split);
    assert_eq!(first.pages as usize, split.div_ceil(500));
    assert!(first.max_page <= 500, "{first:?}");

    load(&mut audit, &activities[split..]);
    let second = risk.catch_up_with(&audit, 500).unwrap();
    assert_eq!(
        second.events as usize,
        activities.len() - split,
        "only the new events are read"
    );
    assert_eq!(risk.catch_up(&audit).unwrap().events, 0);

    // Page by page equals all at once, and a page read again (a crash between reading and
    // committing elsewhere) is not counted twice.
    let mut whole = RiskStore::open(std::path::Path::new(":memory:")).unwrap();
    let all = audit.activity_after(0, usize::MAX >> 1).unwrap();
    whole
        .ingest("local", &all, all.last().unwrap().seq)
        .unwrap();
    whole.ingest("local", &all[..100], all[99].seq).unwrap();
    let from = days_before(&last_day, 30);
    assert_eq!(
        risk.days(None, &from, &last_day).unwrap(),
        whole.days(None, &from, &last_day).unwrap()
    );
}

/// Receives webhook POSTs: (headers, body).
type Received = Arc<Mutex<Vec<(http::HeaderMap, Vec<u8>)>>>;

async fn webhook_receiver() -> (std::net::SocketAddr, Received) {
    use http_body_util::BodyExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let got: Received = Default::default();
    let g = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let g = g.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let g = g.clone();
                        async move {
                            let headers = req.headers().clone();
                            let body = req.into_body().collect().await?.to_bytes().to_vec();
                            g.lock().unwrap().push((headers, body));
                            Ok::<_, hyper::Error>(hyper::Response::new(http_body_util::Full::new(
                                bytes::Bytes::from_static(b"ok"),
                            )))
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, got)
}

/// 21 ordinary days for five users of `acme`, then a day on which eve pastes keys late at
/// night, is blocked, retries and tries a new AI service.
fn history(today: &str) -> Vec<AuditEvent> {
    let mut events = Vec::new();
    let mut i = 0;
    let mut ev = |user: &str, time: String, secret: bool, blocked: bool, host: &str| {
        i += 1;
        let mut e = simulate::to_event(&promptwall::audit::store::Activity {
            seq: 0,
            id: format!("h{i}"),
            time,
            kind: "ai_request".into(),
            tenant: "acme".into(),
            user: format!("{user}@acme.example"),
            groups: vec!["eng".into()],
            decision: if blocked { "block" } else { "allow" }.into(),
            categories: if secret {
                vec!["secret".into()]
            } else {
                vec![]
            },
            bytes: 2000,
            host: host.into(),
        });
        e.provider = Some("openai".into());
        events.push(e);
    };
    for n in (1..=21).rev() {
        let day = days_before(today, n);
        for (u, user) in ["ann", "bob", "cat", "dan", "eve"].iter().enumerate() {
            for r in 0..(8 + (n as usize + u) % 5) {
                let t = format!("{day}T{:02}:{:02}:00Z", 9 + r % 8, (r * 7) % 60);
                ev(
                    user,
                    t,
                    (n as usize + r + u).is_multiple_of(23),
                    false,
                    "api.openai.com",
                );
            }
        }
    }
    for (u, user) in ["ann", "bob", "cat", "dan"].iter().enumerate() {
        for r in 0..(9 + u) {
            let t = format!("{today}T{:02}:10:00Z", 9 + r % 8);
            ev(user, t, false, false, "api.openai.com");
        }
    }
    for r in 0..12 {
        let t = format!("{today}T23:{:02}:00Z", r * 3);
        ev("eve", t, true, r % 2 == 0, "api.openai.com");
    }
    ev(
        "eve",
        format!("{today}T23:50:00Z"),
        false,
        false,
        "api.mistral.ai",
    );
    events
}

fn verify_signature(secret: &[u8], header: &str, body: &[u8]) -> bool {
    let Some((t, v1)) = header
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mut msg = format!("{t}.").into_bytes();
    msg.extend_from_slice(body);
    let tag: Vec<u8> = (0..v1.len() / 2)
        .map(|i| u8::from_str_radix(&v1[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect();
    ring::hmac::verify(&key, &msg, &tag).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_server_sends_each_alert_once_signed_and_pseudonymized() {
    let (hook, received) = webhook_receiver().await;
    let syslog = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let secrets = TempDir::new("risk-secret");
    let secret_file = secrets.0.join("webhook.secret");
    std::fs::write(&secret_file, "a-shared-webhook-secret-of-some-length\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut admin = String::from("  tokens:\n");
    for (tok, role) in [("aud", "auditor"), ("inv", "investigator")] {
        admin.push_str(&format!(
            "    - {{ name: {tok}, token_hash: \"{}\", role: {role}, tenant: acme }}\n",
            policy::SecretHash::create(tok),
        ));
    }
    let config = format!(
        "risk:\n  interval_secs: 1\n  pseudonymize_users: true\n  webhook:\n    url: http://{hook}/hooks/promptwall\n    secret_file: {}\n    timeout_ms: 2000\n  syslog:\n    address: {}\n    protocol: udp\n",
        secret_file.display(),
        syslog.local_addr().unwrap()
    );
    let mut proxy = Proxy::start_with(&config, "", &admin).await;
    // The history goes into the log while the server is down (its writer owns the chain).
    let _ = proxy.child.kill();
    let _ = proxy.child.wait();
    let today = promptwall::audit::event::now()[..10].to_string();
    {
        let mut store = AuditStore::open(&proxy.dir.0.join("state/audit.db")).unwrap();
        let mut events = history(&today);
        store.insert(&mut events).unwrap();
    }
    proxy.restart().await;

    // The job runs every second: eve's alert arrives at both sinks.
    let mut buf = vec![0u8; 65_536];
    let (n, _) = tokio::time::timeout(Duration::from_secs(30), syslog.recv_from(&mut buf))
        .await
        .expect("a syslog message within 30 s")
        .unwrap();
    let line = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(line.starts_with("<84>1 "), "{line}");
    assert!(
        line.contains("CEF:0|PromptWall|PromptWall|") && line.contains("|risk_alert|"),
        "{line}"
    );
    for _ in 0..100 {
        if !received.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (headers, body) = received.lock().unwrap()[0].clone();
    let sig = headers["x-promptwall-signature"].to_str().unwrap();
    assert!(
        verify_signature(b"a-shared-webhook-secret-of-some-length", sig, &body),
        "{sig}"
    );
    assert!(!verify_signature(b"another secret entirely!", sig, &body));
    let alert: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let pseudonym = alert["user"].as_str().unwrap().to_string();
    assert!(
        pseudonym.starts_with("u-") && alert["pseudonymous"] == true,
        "{alert}"
    );
    assert_eq!(headers["idempotency-key"], alert["id"].as_str().unwrap());
    let signals: Vec<&str> = alert["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    for s in ["blocked", "retries_after_block", "sensitive"] {
        assert!(signals.contains(&s), "{s} in {signals:?}");
    }
    // The alert names events by id and holds no names or content.
    let text = String::from_utf8_lossy(&body);
    assert!(!text.contains("eve@") && !line.contains("eve@"), "{text}");
    // Pseudonymous alerts carry no event ids: the usage log would name the user.
    assert_eq!(alert["events"].as_array().map(Vec::len), Some(0), "{alert}");
    assert!(line.contains(&format!("suser={pseudonym}")), "{line}");

    // Later runs send nothing new: de-duplicated.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(received.lock().unwrap().len(), 1);

    // The API shows the pseudonym to an auditor, refuses them a reveal, and lets the
    // investigator reveal it, on the record.
    let http = reqwest::Client::new();
    let base = format!("http://{}", proxy.admin);
    let r: serde_json::Value = http
        .get(format!("{base}/v1/risk/alerts?day={today}"))
        .bearer_auth("aud")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["users"][0]["user"], pseudonym.as_str(), "{r}");
    assert!(!r.to_string().contains("eve@"));
    let reveal_as = |tok: &'static str, who: &str| {
        http.post(format!("{base}/v1/risk/reveal"))
            .bearer_auth(tok)
            .json(&serde_json::json!({ "pseudonym": who }))
            .send()
    };
    let reveal = |tok: &'static str| reveal_as(tok, &pseudonym);
    assert_eq!(reveal("aud").await.unwrap().status(), 403);
    // Bad input is refused with a reason, not guessed at.
    let bad_day = http
        .get(format!("{base}/v1/risk/alerts?day=yesterday"))
        .bearer_auth("aud")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_day.status(), 400);
    let bad_pseudonym = reveal_as("inv", "eve@acme.example").await.unwrap();
    assert_eq!(bad_pseudonym.status(), 400);
    let r = reveal("inv").await.unwrap();
    assert_eq!(r.status(), 200);
    let r: serde_json::Value = r.json().await.unwrap();
    assert_eq!(r["user"], "eve@acme.example");
    let unknown = reveal_as("inv", "u-0000000000000000").await.unwrap();
    assert_eq!(unknown.status(), 404);
    let reveals = proxy.audit_events_eventually(&["--kind", "admin"], 1);
    let revealed: Vec<&serde_json::Value> = reveals
        .iter()
        .filter(|e| e["endpoint"] == format!("risk.reveal {pseudonym}").as_str())
        .collect();
    assert!(
        revealed
            .iter()
            .any(|e| e["user"] == "inv" && e["decision"] == "revealed"),
        "{reveals:#?}"
    );
}
