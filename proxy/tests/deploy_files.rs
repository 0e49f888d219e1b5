//! What can be checked of `deploy/` without Docker or Kubernetes: configs are valid PromptWall
//! configs, YAML parses, the image runs as non-root with a health check, the systemd unit
//! verifies, and the PAC file matches the catalog.

use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(rel)
}

fn yaml(rel: &str) -> serde_yaml::Value {
    let text = std::fs::read_to_string(deploy(rel)).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn image_and_demo_configs_are_valid_promptwall_configs() {
    for rel in [
        "container.yaml",
        "compose/promptwall.yaml",
        "fleet/promptwall.yaml",
    ] {
        promptwall::config::Config::load(&deploy(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    }
}

#[test]
fn the_fleet_compose_file_runs_every_store_and_mounts_what_exists() {
    let compose = yaml("fleet/docker-compose.yml");
    let services = compose["services"].as_mapping().unwrap();
    for name in [
        "init",
        "mock-llm",
        "postgres",
        "clickhouse",
        "redis",
        "node-a",
        "node-b",
        "lb",
    ] {
        assert!(services.contains_key(name), "fleet compose service {name}");
    }
    for svc in services.values() {
        for v in svc["volumes"].as_sequence().into_iter().flatten() {
            let src = v.as_str().unwrap().split(':').next().unwrap();
            if src.starts_with("./") {
                assert!(
                    deploy(&format!("fleet/{src}")).exists(),
                    "fleet compose mounts missing {src}"
                );
            }
        }
    }
    let config = promptwall::config::Config::load(&deploy("fleet/promptwall.yaml")).unwrap();
    assert!(
        config.fleet.postgres.is_some()
            && config.fleet.clickhouse.is_some()
            && config.fleet.redis.is_some()
    );
}

#[test]
fn compose_and_chart_metadata_parse_and_agree() {
    let compose = yaml("docker-compose.yml");
    let services = compose["services"].as_mapping().unwrap();
    for name in ["promptwall", "mock-llm", "otel-collector"] {
        assert!(services.contains_key(name), "compose service {name}");
    }
    // Every file the compose file mounts from the repository exists.
    for svc in services.values() {
        for v in svc["volumes"].as_sequence().into_iter().flatten() {
            let src = v.as_str().unwrap().split(':').next().unwrap();
            if src.starts_with("./") {
                assert!(deploy(src).exists(), "compose mounts missing {src}");
            }
        }
    }
    yaml("compose/otel-collector.yaml");
    let chart = yaml("helm/promptwall/Chart.yaml");
    assert_eq!(chart["apiVersion"], "v2");
    let values = yaml("helm/promptwall/values.yaml");
    for key in [
        "image",
        "autoscaling",
        "podDisruptionBudget",
        "ca",
        "policies",
        "otlp",
        "fleet",
    ] {
        assert!(!values[key].is_null(), "values.{key}");
    }
    // Every value the templates read is defined.
    for entry in std::fs::read_dir(deploy("helm/promptwall/templates")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for (i, _) in text.match_indices(".Values.") {
            let path: String = text[i + 8..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '.' || *c == '_')
                .collect();
            let mut v = &values;
            for part in path.split('.') {
                v = &v[part];
            }
            assert!(
                !v.is_null() || path.ends_with("existingSecret"),
                "values.{path} is not defined"
            );
        }
    }
}

#[test]
fn the_image_runs_as_non_root_with_a_health_check() {
    let text = std::fs::read_to_string(deploy("Dockerfile")).unwrap();
    assert!(text.contains("\nUSER 10001:10001\n"));
    assert!(text.contains("HEALTHCHECK") && text.contains("/readyz"));
    for line in text.lines().filter(|l| l.starts_with("COPY deploy/")) {
        let src = line.split_whitespace().nth(1).unwrap();
        assert!(deploy(src.trim_start_matches("deploy/")).exists(), "{line}");
    }
}

#[test]
fn the_systemd_unit_verifies() {
    let Ok(out) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze is not installed; unit not verified");
        return;
    };
    assert!(out.status.success());
    // Verify a copy that points at the binary just built (verify checks ExecStart exists).
    let unit = std::fs::read_to_string(deploy("promptwall.service"))
        .unwrap()
        .replace(
            "/usr/local/bin/promptwall",
            env!("CARGO_BIN_EXE_promptwall"),
        );
    let dir = tempfile::Builder::new()
        .prefix("pw-unit-")
        .tempdir()
        .unwrap();
    let path = dir.path().join("promptwall.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // Only complaints about this unit count (the host's own units may be imperfect).
    let ours: Vec<&str> = err.lines().filter(|l| l.contains("promptwall")).collect();
    assert!(out.status.success() || ours.is_empty(), "{err}");
    assert!(ours.is_empty(), "{}", ours.join("\n"));
}

#[test]
fn the_pac_file_matches_the_catalog() {
    let out = Command::new(env!("CARGO_BIN_EXE_promptwall"))
        .args(["pac", "--proxy", "proxy.corp.example:8080"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).unwrap();
    let committed = std::fs::read_to_string(deploy("proxy.pac")).unwrap();
    assert_eq!(
        committed, generated,
        "deploy/proxy.pac is stale: promptwall pac --proxy proxy.corp.example:8080 > deploy/proxy.pac"
    );
    // Where a JavaScript engine exists, run it the way browsers do (shExpMatch is a glob).
    let Ok(node) = Command::new("node").arg("--version").output() else {
        eprintln!("node is not installed; PAC not executed");
        return;
    };
    assert!(node.status.success());
    let script = format!(
        "function shExpMatch(s, p) {{ return new RegExp('^' + p.replace(/[.+?^${{}}()|[\\]\\\\]/g, '\\\\$&').replace(/\\*/g, '.*') + '$').test(s); }}\n{generated}\n\
         for (const h of process.argv.slice(1)) console.log(h + ' ' + FindProxyForURL('https://' + h + '/', h));"
    );
    let hosts = [
        ("api.openai.com", true),
        ("API.Anthropic.com", true),
        ("acme-eu.openai.azure.com", true),
        ("us-central1-aiplatform.googleapis.com", true),
        ("bedrock-runtime.us-east-1.amazonaws.com", true),
        ("www.example.com", false),
        ("openai.com.evil.example", false),
        ("s3.us-east-1.amazonaws.com", false),
    ];
    let out = Command::new("node")
        .arg("-e")
        .arg(&script)
        .args(hosts.iter().map(|(h, _)| *h))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for ((host, proxied), line) in hosts.iter().zip(text.lines()) {
        let want = if *proxied {
            "PROXY proxy.corp.example:8080"
        } else {
            "DIRECT"
        };
        assert_eq!(line, format!("{host} {want}"));
    }
}
