//! The binary as a new user meets it: defaults with no config, CA export, and clear errors for
//! bad config files.

mod common;

use common::TempDir;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

fn promptwall() -> Command {
    Command::new(env!("CARGO_BIN_EXE_promptwall"))
}

#[tokio::test]
async fn serve_with_no_config_uses_defaults_and_creates_the_ca_and_state_dir() {
    let dir = TempDir::new("defaults");
    let state = dir.0.join("state");
    let mut child = promptwall()
        .arg("serve")
        .env("PROMPTWALL_STATE_DIR", &state)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(r) = reqwest::get("http://127.0.0.1:9090/healthz").await {
            ready = r.status() == 200;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pem_over_api = reqwest::get("http://127.0.0.1:9090/v1/ca.pem").await;
    let proxy_up = std::net::TcpStream::connect("127.0.0.1:8080").is_ok();
    let gateway_up = std::net::TcpStream::connect("127.0.0.1:8081").is_ok();
    let _ = child.kill();
    let _ = child.wait();
    assert!(ready, "admin /healthz on the default port 127.0.0.1:9090");
    assert!(
        proxy_up && gateway_up,
        "proxy on :8080 and gateway on :8081"
    );
    let key_mode = std::fs::metadata(state.join("ca-key.pem"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(key_mode, 0o600);
    let pem = std::fs::read_to_string(state.join("ca.pem")).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(pem_over_api.unwrap().text().await.unwrap(), pem);

    let out = promptwall()
        .args(["ca", "export"])
        .env("PROMPTWALL_STATE_DIR", &state)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        pem,
        "export prints the CA clients must trust"
    );
}

#[test]
fn invalid_config_is_a_clear_error_with_file_line_and_field() {
    let dir = TempDir::new("badcfg");
    let path = dir.0.join("bad.yaml");
    std::fs::write(&path, "listen: 127.0.0.1:1\nlimits:\n  max_body_byte: 10\n").unwrap();
    let out = promptwall()
        .args(["serve", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("bad.yaml") && err.contains("max_body_byte") && err.contains("line 3"),
        "{err}"
    );
}

#[test]
fn missing_config_file_is_a_clear_error() {
    let out = promptwall()
        .args(["serve", "--config", "/nonexistent/promptwall.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("/nonexistent/promptwall.yaml") && err.contains("cannot read config"),
        "{err}"
    );
}

#[test]
fn scan_reads_jsonl_and_prints_a_decision_per_line() {
    use std::io::Write;
    let mut child = promptwall()
        .arg("scan")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            b"{\"id\":\"a\",\"text\":\"key AKIAQWERTYUIOPASDFGH\"}\nplain text with nothing\n",
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (lines[0]["id"].as_str(), lines[0]["decision"].as_str()),
        (Some("a"), Some("block"))
    );
    assert_eq!(
        (
            lines[0]["findings"][0]["start"].as_u64(),
            lines[0]["findings"][0]["end"].as_u64()
        ),
        (Some(4), Some(24))
    );
    assert_eq!(lines[1]["decision"], "allow");
}
