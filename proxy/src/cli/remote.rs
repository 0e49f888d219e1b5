//! `policy apply|history|rollback --admin URL`: the same operations through a running server's
//! admin API (token from `PROMPTWALL_ADMIN_TOKEN`, never the command line), so admins manage
//! policies without touching the servers.

use anyhow::{bail, Context};
use serde_json::Value;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// The environment variable holding the admin bearer token.
pub const TOKEN_ENV: &str = "PROMPTWALL_ADMIN_TOKEN";

fn call(method: reqwest::Method, url: String, body: Option<String>) -> anyhow::Result<Value> {
    let token = std::env::var(TOKEN_ENV)
        .with_context(|| format!("set {TOKEN_ENV} to an admin API token"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        let mut req = client.request(method, &url).bearer_auth(token);
        if let Some(b) = body {
            req = req.header("content-type", "application/yaml").body(b);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("admin API at {url}"))?;
        let status = resp.status();
        let text = resp.text().await?;
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if !status.is_success() {
            let msg = v["error"]
                .as_str()
                .map(str::to_string)
                .unwrap_or(v.to_string());
            bail!("admin API answered {status}: {msg}");
        }
        Ok(v)
    })
}

fn base(admin: &str) -> &str {
    admin.trim_end_matches('/')
}

fn print_version(v: &Value) {
    println!(
        "tenant {} is at version {} ({} by {} at {})",
        v["tenant"].as_str().unwrap_or("?"),
        v["version"],
        v["action"].as_str().unwrap_or("?"),
        v["author"].as_str().unwrap_or("?"),
        v["time"].as_str().unwrap_or("?")
    );
    print!("{}", v["diff"].as_str().unwrap_or_default());
}

/// Validates locally (errors name file, line and field), then `PUT`s the policy.
pub fn apply(admin: &str, file: &Path) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let compiled = policy::CompiledPolicy::from_yaml(&file.display().to_string(), &text)?;
    let url = format!("{}/v1/policies/{}", base(admin), compiled.tenant());
    print_version(&call(reqwest::Method::PUT, url, Some(text))?);
    Ok(ExitCode::SUCCESS)
}

/// Lists a tenant's versions as the server has them.
pub fn history(admin: &str, tenant: &str) -> anyhow::Result<ExitCode> {
    let v = call(
        reqwest::Method::GET,
        format!("{}/v1/policies/{tenant}/history", base(admin)),
        None,
    )?;
    for e in v["versions"].as_array().into_iter().flatten() {
        let restored = e["restored"]
            .as_u64()
            .map(|r| format!(" (restores v{r})"))
            .unwrap_or_default();
        println!(
            "v{}\t{}\t{}\t{}{restored}",
            e["version"],
            e["time"].as_str().unwrap_or("?"),
            e["author"].as_str().unwrap_or("?"),
            e["action"].as_str().unwrap_or("?")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Makes an old version current again on the server.
pub fn rollback(admin: &str, tenant: &str, version: u64) -> anyhow::Result<ExitCode> {
    let v = call(
        reqwest::Method::POST,
        format!("{}/v1/policies/{tenant}/rollback/{version}", base(admin)),
        None,
    )?;
    print_version(&v);
    Ok(ExitCode::SUCCESS)
}
