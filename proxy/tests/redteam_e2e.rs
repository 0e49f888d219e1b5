//! `promptwall redteam` (issue 20) as a user runs it: in-process against the committed
//! baseline, and against a running proxy over real HTTP, writing its JSON and HTML reports.

mod common;

use common::*;
use load_tests::mock::MockConfig;

fn baseline() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/redteam/baseline.json")
}

#[test]
fn the_engine_holds_its_baseline_and_reports_its_blind_spots() {
    let dir = TempDir::new("redteam");
    let (json, html) = (dir.0.join("r.json"), dir.0.join("r.html"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_promptwall"))
        .args(["redteam", "--baseline"])
        .arg(baseline())
        .arg("--json")
        .arg(&json)
        .arg("--html")
        .arg(&html)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("no regression") && text.contains("blind spots"),
        "{text}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(report["rows"].as_array().is_some_and(|r| r.len() > 100));
    assert!(std::fs::read_to_string(&html).unwrap().contains("<svg"));
}

#[test]
fn the_classifier_holds_its_robustness_baseline() {
    // Injection, jailbreak and harmful seeds under every evasion, through the model with the
    // views that undo them; deterministic (int8, static ranges), so any drop is a regression.
    let baseline = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../rules/redteam/classifier_baseline.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_promptwall"))
        .args(["redteam", "--classifier", "--baseline"])
        .arg(&baseline)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("no regression"), "{text}");
    // The character and encoding evasions the model was blind to stay covered.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    for evasion in [
        "zero_width",
        "homoglyph",
        "base64",
        "hex",
        "rot13",
        "leetspeak",
    ] {
        let (caught, cases) = report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["mutation"] == evasion && r["family"] == "prompt_injection")
            .fold((0, 0), |(c, n), r| {
                (
                    c + r["detected"].as_u64().unwrap(),
                    n + r["cases"].as_u64().unwrap(),
                )
            });
        assert!(caught * 10 >= cases * 7, "{evasion}: {caught}/{cases}");
    }
}

/// Runs `promptwall redteam --target GATEWAY ARGS --json JSON` off the async workers and
/// returns its report.
async fn redteam_through(
    gateway: &str,
    args: &[&str],
    json: &std::path::Path,
) -> serde_json::Value {
    let mut all: Vec<String> = vec!["redteam".into(), "--target".into(), gateway.into()];
    all.extend(args.iter().map(|a| a.to_string()));
    all.extend(["--json".into(), json.display().to_string()]);
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_promptwall"))
            .args(&all)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_proxy_is_red_teamed_through_its_gateway() {
    let (_mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_d, yaml) = upstream_yaml(&pem, _mock.addr, &["api.openai.com"]);
    let proxy = Proxy::start(&yaml).await;
    let dir = TempDir::new("redteam-proxy");
    let json = dir.0.join("r.json");
    let gateway = format!("http://{}", proxy.gateway);
    let report = redteam_through(
        &gateway,
        &[
            "--provider",
            "openai",
            "--only",
            "none,base64,homoglyph,split_messages",
        ],
        &json,
    )
    .await;
    // The default policy blocks every credential, however it is hidden among these: cut in
    // two across consecutive messages too.
    for row in report["rows"].as_array().unwrap() {
        if row["family"] == "secret" {
            assert_eq!(row["detected"], row["cases"], "{row}");
        }
    }
    let benign = report["benign"].as_array().unwrap();
    assert_eq!(benign.len(), 4);
    assert!(report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["mutation"] == "split_messages" && r["family"] == "secret"));

    // The intent seeds through the same proxy: its classifier and default policy decide
    // (injections and jailbreaks are blocked, harmful requests only logged).
    let report = redteam_through(
        &gateway,
        &[
            "--classifier",
            "--provider",
            "openai",
            "--only",
            "none,base64",
        ],
        &json,
    )
    .await;
    let rate = |mutation: &str, family: &str| {
        let r = report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["mutation"] == mutation && r["family"] == family)
            .unwrap();
        r["detected"].as_f64().unwrap() / r["cases"].as_f64().unwrap()
    };
    for family in ["prompt_injection", "jailbreak"] {
        for mutation in ["none", "base64"] {
            assert!(
                rate(mutation, family) >= 0.7,
                "{mutation}/{family}: {report}"
            );
        }
    }
    assert_eq!(
        rate("none", "harmful"),
        0.0,
        "harmful requests are logged, not blocked"
    );
}
