//! `promptwall serve`: builds the shared state and runs the pingora server.

use crate::config::Config;
use crate::handler::{AiHttpApp, Entry};
use crate::inspect::Inspector;
use crate::listener::admin::AdminApp;
use crate::listener::forward::FrontDoor;
use crate::mitm::ca::CertificateAuthority;
use anyhow::Context;
use pingora_core::apps::http_app::HttpServer;
use pingora_core::listeners::tls::TlsSettings;
use pingora_core::server::configuration::ServerConf;
use pingora_core::server::Server;
use pingora_core::services::listening::Service;
use std::net::SocketAddr;
use std::sync::Arc;

/// Loads the CA the config names, or the one in the state dir (generated on first start).
pub fn load_ca(config: &Config) -> anyhow::Result<CertificateAuthority> {
    Ok(match (&config.ca.cert, &config.ca.key) {
        (Some(cert), Some(key)) => CertificateAuthority::load(cert, key)?,
        _ => CertificateAuthority::load_or_generate(&config.state_dir)?,
    })
}

fn check_bindable(what: &str, addr: SocketAddr) -> anyhow::Result<()> {
    // pingora binds later, inside its runtime, where a failure is a panic; check first so a
    // busy port is a clear error and exit code instead.
    std::net::TcpListener::bind(addr)
        .map(drop)
        .with_context(|| format!("cannot listen on {addr} for the {what}"))
}

/// Starts every listener and blocks until shutdown (SIGTERM or SIGINT: graceful).
pub fn run(config: Config) -> anyhow::Result<()> {
    check_bindable("forward proxy", config.listen)?;
    if config.gateway.enabled {
        check_bindable("gateway", config.gateway.listen)?;
    }
    if config.admin.enabled {
        check_bindable("admin API", config.admin.listen)?;
    }
    std::fs::create_dir_all(&config.state_dir)
        .with_context(|| format!("cannot create state dir {}", config.state_dir.display()))?;
    let ca = Arc::new(load_ca(&config)?);
    let engine = Arc::new(classifiers::builtin_engine().context("built-in rule packs")?);
    let inspector = Inspector::new(engine, Vec::new());
    let threads = if config.threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    } else {
        config.threads
    };
    let shared = crate::handler::shared(config.clone(), ca.clone(), inspector)?;

    let conf = ServerConf {
        threads,
        grace_period_seconds: Some(config.shutdown_grace_secs),
        graceful_shutdown_timeout_seconds: Some(config.shutdown_grace_secs),
        pid_file: config
            .state_dir
            .join("promptwall.pid")
            .display()
            .to_string(),
        upgrade_sock: config
            .state_dir
            .join("promptwall-upgrade.sock")
            .display()
            .to_string(),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();

    let intercepted = Arc::new(AiHttpApp {
        entry: Entry::Intercepted,
        shared: shared.clone(),
    });
    let plain = Arc::new(AiHttpApp {
        entry: Entry::ForwardHttp,
        shared: shared.clone(),
    });
    let mut front = Service::new(
        "forward proxy".into(),
        FrontDoor {
            shared: shared.clone(),
            intercepted,
            plain,
        },
    );
    front.add_tcp(&config.listen.to_string());
    server.add_service(front);

    if config.gateway.enabled {
        let mut gw = Service::new(
            "gateway".into(),
            AiHttpApp {
                entry: Entry::Gateway,
                shared: shared.clone(),
            },
        );
        let addr = config.gateway.listen.to_string();
        match config.gateway.tls_names.first() {
            None => gw.add_tcp(&addr),
            Some(name) => {
                let mut tls = TlsSettings::with_callbacks(Box::new(crate::mitm::NoCallbacks))
                    .map_err(|e| anyhow::anyhow!("gateway TLS settings: {e}"))?;
                tls.set_cert_resolver(crate::mitm::resolver(ca.clone(), name));
                tls.enable_h2();
                gw.add_tls_with_settings(&addr, None, tls);
            }
        }
        server.add_service(gw);
    }
    if config.admin.enabled {
        let mut admin = Service::new(
            "admin".into(),
            HttpServer::new_app(AdminApp {
                shared: shared.clone(),
            }),
        );
        admin.add_tcp(&config.admin.listen.to_string());
        server.add_service(admin);
    }
    tracing::info!(
        proxy = %config.listen,
        gateway = %config.gateway.listen,
        admin = %config.admin.listen,
        state_dir = %config.state_dir.display(),
        rules = shared.inspector.rule_count(),
        "PromptWall is serving"
    );
    server.run_forever()
}
