//! `mock-llm`: the mock provider upstream for demos and load tests.

use clap::Parser;
use load_tests::mock::{MockConfig, MockServer};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Parser)]
#[command(about = "Mock OpenAI / Anthropic / Gemini upstream for PromptWall tests and load runs")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9443")]
    listen: SocketAddr,
    /// Serve TLS with a self-signed certificate for these names (comma-separated); plain HTTP if absent.
    #[arg(long, value_delimiter = ',')]
    tls_names: Vec<String>,
    /// Write the certificate (PEM) here, for clients (or PromptWall's `upstream.extra_ca_file`) to trust.
    #[arg(long)]
    cert_out: Option<std::path::PathBuf>,
    /// Tokens per answer when the request does not say.
    #[arg(long, default_value_t = 8)]
    tokens: usize,
    /// Delay between streamed tokens, in milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let tls = if args.tls_names.is_empty() {
        None
    } else {
        let names: Vec<&str> = args.tls_names.iter().map(String::as_str).collect();
        let ss = load_tests::tls::self_signed(&names)?;
        if let Some(path) = &args.cert_out {
            std::fs::write(path, &ss.cert_pem)?;
        }
        Some(ss.server_config)
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let server = MockServer::start(
        args.listen,
        tls,
        MockConfig {
            tokens: args.tokens,
            delay: Duration::from_millis(args.delay_ms),
        },
    )
    .await?;
    eprintln!("mock-llm listening on {scheme}://{}", server.addr);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
