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

/// Loads the content classifier, or says why not (never fatal: label rules then follow each
/// tenant's `on_classifier_error`).
pub fn load_classifier(
    config: &Config,
) -> Result<Arc<classifiers::onnx::ContentClassifier>, String> {
    let c = &config.classifier;
    if !c.enabled {
        return Err("disabled in the config".into());
    }
    let cfg = classifiers::onnx::ModelConfig {
        library: c.library.clone(),
        model: c.model.clone(),
        sessions: c.sessions,
        max_batch: c.max_batch,
        max_wait: Config::ms(c.max_wait_ms),
        max_windows: c.max_windows,
        cascade: c.cascade,
        cache_entries: c.cache_entries,
        ..Default::default()
    };
    match classifiers::onnx::ContentClassifier::load(cfg) {
        Ok(m) => {
            tracing::info!(labels = %m.labels.join(","), provider = %m.provider, sessions = c.sessions, "content classifier loaded");
            Ok(Arc::new(m))
        }
        Err(e) => {
            tracing::warn!(error = %e, "content classifier unavailable; label rules follow each tenant's on_classifier_error");
            Err(e.to_string())
        }
    }
}

/// Compiles the configured rule packs (built-in and `rules.dir`).
pub fn load_rules(config: &Config) -> anyhow::Result<classifiers::PatternEngine> {
    classifiers::load_engine(config.rules.builtin, config.rules.dir.as_deref())
        .and_then(|e| e.with_memo(config.rules.scan_memo_entries))
        .context("rule packs")
}

/// What the policy directory held when it was last applied, so a reload applies only the
/// files that changed there and never undoes a version applied through the CLI since.
pub type Seeded = std::collections::HashMap<std::path::PathBuf, String>;

/// Opens the policy store and applies the policy directory's new or changed files to it.
pub fn load_policies(config: &Config, seeded: &mut Seeded) -> anyhow::Result<policy::Store> {
    let root = crate::state::policy_root(&config.state_dir);
    let store =
        policy::Store::open(&root).with_context(|| format!("policy store {}", root.display()))?;
    if let Some(dir) = &config.policies.dir {
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("policies dir {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        for f in files {
            let text =
                std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
            if seeded.get(&f) == Some(&text) {
                continue;
            }
            let v = store.apply(&f.display().to_string(), &text, "config")?;
            tracing::info!(tenant = %v.tenant, version = v.version, file = %f.display(), "policy loaded");
            seeded.insert(f, text);
        }
    }
    warn_identity_overlaps(&store);
    Ok(store)
}

/// Two tenants that claim the same requesters are decided by tenant name order alone: say so.
pub fn warn_identity_overlaps(store: &policy::Store) {
    for overlap in store.identity_overlaps() {
        tracing::warn!(%overlap, "identity sources of two tenants overlap");
    }
}

/// On SIGHUP: recompile rule packs and reload policies; a failure keeps what is running.
fn reload_on_sighup(config: Config, shared: Arc<crate::handler::Shared>, seeded: Seeded) {
    std::thread::Builder::new()
        .name("promptwall-reload".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => return tracing::error!(error = %e, "no reload runtime; SIGHUP will not reload"),
            };
            let mut seeded = seeded;
            rt.block_on(async move {
                let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
                    return tracing::error!("cannot listen for SIGHUP");
                };
                while hup.recv().await.is_some() {
                    match load_rules(&config) {
                        Ok(e) => {
                            tracing::info!(rules = e.rule_count(), "rule packs reloaded");
                            shared.inspector.swap_engine(Arc::new(e));
                        }
                        Err(e) => tracing::error!(error = %format!("{e:#}"), "rule reload failed; keeping the running packs"),
                    }
                    match load_policies(&config, &mut seeded) {
                        Ok(s) => {
                            tracing::info!(tenants = s.tenants().len(), "policies reloaded");
                            shared.inspector.swap_store(Arc::new(s));
                        }
                        Err(e) => tracing::error!(error = %format!("{e:#}"), "policy reload failed; keeping the running policies"),
                    }
                }
            });
        })
        .expect("spawning the reload thread");
}

/// Starts every listener and blocks until shutdown (SIGTERM or SIGINT: graceful).
/// Fleet mode: before serving, bring the local policies to PostgreSQL's (and record the
/// configured files there). A database that cannot be reached does not stop the node: it
/// enforces its last good versions and reports `degraded` until the follower catches up.
fn follow_policies(
    config: &Config,
    policies: Arc<crate::fleet::policies::PgPolicies>,
    store: Arc<policy::Store>,
) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match rt.block_on(policies.start(&store, config.policies.dir.as_deref())) {
        Ok(()) => tracing::info!("policies in step with PostgreSQL"),
        Err(crate::fleet::policies::PgError::Policy(e)) => {
            anyhow::bail!("policies.dir: {e}")
        }
        Err(e) => {
            tracing::warn!(error = %e, "policy store (PostgreSQL) unreachable at start; enforcing the cached versions")
        }
    }
    Ok(())
}

pub fn run(config: Config) -> anyhow::Result<()> {
    check_bindable("forward proxy", config.listen)?;
    crate::extract::files::configure(config.limits.files.clone());
    if config.gateway.enabled {
        check_bindable("gateway", config.gateway.listen)?;
    }
    if config.admin.enabled {
        check_bindable("admin API", config.admin.listen)?;
    }
    std::fs::create_dir_all(&config.state_dir)
        .with_context(|| format!("cannot create state dir {}", config.state_dir.display()))?;
    let ca = Arc::new(load_ca(&config)?);
    let engine = Arc::new(load_rules(&config)?);
    let mut seeded = Seeded::new();
    let store = Arc::new(load_policies(&config, &mut seeded)?);
    let master = crate::state::load_or_create_master_key(&config.state_dir)?;
    let pseudonyms = crate::risk::Pseudonyms::new(&master);
    let inspector = Inspector::new(engine, store, master).with_classifier(
        load_classifier(&config),
        Config::ms(config.classifier.deadline_ms),
    );
    let threads = if config.threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    } else {
        config.threads
    };
    let mut shared = crate::handler::shared(config.clone(), ca.clone(), inspector)?;
    if let Some(r) = &config.fleet.redis {
        let key = match (&r.key_file, &r.key_env) {
            (Some(f), _) => crate::fleet::vault::KeySource::File(f),
            (None, Some(v)) => crate::fleet::vault::KeySource::Env(v),
            (None, None) => anyhow::bail!("fleet.redis needs key_file or key_env"),
        };
        let vault = crate::fleet::vault::RedisVault::new(&r.url, key, Config::ms(r.timeout_ms))?;
        tracing::info!(url = %r.url, "pseudonym vault shared in Redis");
        Arc::get_mut(&mut shared).expect("not yet shared").vault =
            crate::fleet::vault::Vault::Redis(Box::new(vault));
    }
    if let Some(pg) = &config.fleet.postgres {
        let policies = Arc::new(crate::fleet::policies::PgPolicies::new(
            &pg.url,
            Config::ms(pg.timeout_ms),
        )?);
        follow_policies(&config, policies.clone(), shared.inspector.store())?;
        Arc::get_mut(&mut shared)
            .expect("not yet shared")
            .fleet_policies = Some(policies);
    }
    if config.audit.enabled {
        let path = config.audit.path(&config.state_dir);
        let writer =
            crate::audit::AuditWriter::start(&path, config.audit.queue, config.audit.durability)
                .with_context(|| format!("audit log {}", path.display()))?;
        let mut retention = config.audit.retention();
        if config.fleet.clickhouse.is_some() {
            // Local rows go only once ClickHouse has them.
            retention.shipped_through = Some(config.state_dir.join("clickhouse.cursor"));
        }
        writer.schedule_retention(
            retention,
            std::time::Duration::from_secs(config.audit.retention_check_secs),
        );
        Arc::get_mut(&mut shared).expect("not yet shared").audit = Some(writer);
        tracing::info!(path = %path.display(), "audit log open");
        if let Some(c) = &config.fleet.clickhouse {
            let ch = crate::fleet::clickhouse::ClickHouse::new(
                &c.url,
                &c.database,
                Config::ms(c.timeout_ms),
            );
            let shipper = crate::fleet::clickhouse::Shipper {
                ch: ch.clone(),
                node: config.node_name(),
                audit_db: path.clone(),
                cursor: config.state_dir.join("clickhouse.cursor"),
                batch: c.batch,
                interval: Config::ms(c.interval_ms),
            };
            tracing::info!(url = %c.url, node = %shipper.node, "usage log shipped to ClickHouse");
            std::thread::Builder::new()
                .name("clickhouse-shipper".into())
                .spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime for the shipper")
                        .block_on(shipper.run());
                })?;
            Arc::get_mut(&mut shared).expect("not yet shared").fleet_log = Some(ch);
        }
    }
    if config.risk.pseudonymize_users {
        Arc::get_mut(&mut shared)
            .expect("not yet shared")
            .risk_pseudonyms = Some(pseudonyms);
    }
    if config.audit.enabled && config.risk.interval_secs > 0 {
        let job = crate::risk::Job {
            config: config.risk.clone(),
            source: crate::risk::Source::of(&config, shared.fleet_log.as_ref()),
            risk_path: crate::risk::rollup_path(&config.state_dir),
            pseudonyms: shared.risk_pseudonyms.clone(),
            sinks: crate::risk::deliver::Sinks::new(&config.risk)?,
        };
        std::thread::Builder::new()
            .name("risk-job".into())
            .spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the risk job")
                    .block_on(async move {
                        job.spawn();
                        std::future::pending::<()>().await
                    });
            })?;
    }
    let shared = shared;
    {
        let s = shared.clone();
        crate::metrics::METRICS.set_classifier_source(move || {
            s.inspector
                .classifier()
                .map(|c| (c.batch_stats(), c.cascade_stats()))
        });
    }
    if let Some(p) = shared.fleet_policies.clone() {
        let s = shared.clone();
        std::thread::Builder::new()
            .name("policy-follower".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the policy follower");
                rt.block_on(p.follow(move || s.inspector.store()));
            })?;
    }
    reload_on_sighup(config.clone(), shared.clone(), seeded);
    crate::state::write_pid_file(&config.state_dir)?;

    let conf = ServerConf {
        threads,
        work_stealing: config.work_stealing,
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
            Some(_) => {
                let mut tls = TlsSettings::with_callbacks(Box::new(crate::mitm::NoCallbacks))
                    .map_err(|e| anyhow::anyhow!("gateway TLS settings: {e}"))?;
                tls.set_cert_resolver(crate::mitm::resolver(ca.clone(), &config.gateway.tls_names));
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
    server.run(pingora_core::server::RunArgs::default());
    // Listeners have stopped; events queued without waiting (responses) must still land.
    if let Some(w) = &shared.audit {
        match w.flush(std::time::Duration::from_secs(30)) {
            Ok(()) => tracing::info!("audit log flushed"),
            Err(e) => anyhow::bail!("on shutdown: {e}"),
        }
    }
    tracing::info!("PromptWall stopped");
    Ok(())
}
