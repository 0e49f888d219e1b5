//! CI smoke run of the load tool: a few requests per scenario, every one must succeed.

#[test]
fn pw_load_smoke_mode_completes_without_errors() {
    let promptwall =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/promptwall");
    if !promptwall.exists() {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "-p", "promptwall"])
            .status()
            .unwrap();
        assert!(status.success());
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pw-load"))
        .args(["--smoke", "--promptwall"])
        .arg(&promptwall)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for scenario in [
        "direct to mock",
        "PromptWall blind tunnel",
        "intercept, no rules",
        "intercept, full rules + policy",
        "gateway (TLS), full rules + policy",
    ] {
        assert!(
            stdout.contains(&format!("| {scenario} | 20 | 0 | 0 |")),
            "{scenario}: {stdout}"
        );
    }
    // The streaming table: 8 concurrent streams per scenario, all complete.
    let streams = stdout.split("streams=").nth(1).expect("a streaming table");
    for scenario in [
        "direct to mock",
        "intercept, full rules + policy",
        "gateway, full rules + policy",
    ] {
        assert!(
            streams.contains(&format!("| {scenario} | 8 | 0 |")),
            "{scenario}: {streams}"
        );
    }
}
