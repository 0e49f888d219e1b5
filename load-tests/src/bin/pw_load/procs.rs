//! The processes a run starts: `promptwall serve` with a config variant, and the mitmproxy peer.

use crate::Args;
use anyhow::{bail, Context};
use load_tests::mock::MockServer;
use std::path::PathBuf;
use std::time::Duration;

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Resident memory of `pid` in KiB (from `/proc`; 0 when it cannot be read).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))?
                .split_whitespace()
                .nth(1)?
                .parse::<u64>()
                .ok()
        })
        .unwrap_or(0)
}

/// One `promptwall serve` child with its own config variant.
pub struct Proxy {
    pub child: std::process::Child,
    pub dir: PathBuf,
    pub proxy: u16,
    pub gateway: u16,
    /// The admin listener (0 for the mitmproxy peer).
    pub admin: u16,
    pub ca_pem: String,
}

impl Proxy {
    pub async fn start(
        args: &Args,
        name: &str,
        extra: &str,
        mock: &MockServer,
        mock_pem: &str,
    ) -> anyhow::Result<Proxy> {
        Self::start_as(args, name, extra, mock, mock_pem, false).await
    }

    /// As [`Proxy::start`], with the gateway serving TLS for `localhost` (a leaf minted from
    /// PromptWall's CA, which `ca_pem` holds) when `gateway_tls`.
    pub async fn start_as(
        args: &Args,
        name: &str,
        extra: &str,
        mock: &MockServer,
        mock_pem: &str,
        gateway_tls: bool,
    ) -> anyhow::Result<Proxy> {
        let dir = std::env::temp_dir().join(format!("pw-load-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("mock.pem"), mock_pem)?;
        let (p, g, a) = (free_port()?, free_port()?, free_port()?);
        let config = format!(
            "listen: 127.0.0.1:{p}\ngateway:\n  listen: 127.0.0.1:{g}\n{gw_tls}admin:\n  listen: 127.0.0.1:{a}\nstate_dir: {state}\nthreads: {threads}\nwork_stealing: {steal}\naudit:\n  durability: {durability}\nupstream:\n  extra_ca_file: {ca}\n  resolve:\n    api.openai.com: {mock}\n{extra}",
            durability = args.audit_durability,
            gw_tls = if gateway_tls {
                "  tls_names: [localhost]\n"
            } else {
                ""
            },
            threads = args.proxy_threads,
            steal = !args.no_work_stealing,
            state = dir.join("state").display(),
            ca = dir.join("mock.pem").display(),
            mock = mock.addr
        );
        std::fs::write(dir.join("promptwall.yaml"), config)?;
        let mut child = std::process::Command::new(&args.promptwall)
            .args(["serve", "--config"])
            .arg(dir.join("promptwall.yaml"))
            .stderr(std::fs::File::create(dir.join("promptwall.log"))?)
            .spawn()
            .with_context(|| format!("starting {}", args.promptwall.display()))?;
        let ready = format!("http://127.0.0.1:{a}/healthz");
        for _ in 0..400 {
            if reqwest::get(&ready).await.is_ok_and(|r| r.status() == 200) {
                let ca_pem = std::fs::read_to_string(dir.join("state/ca.pem"))?;
                return Ok(Proxy {
                    child,
                    dir,
                    proxy: p,
                    gateway: g,
                    admin: a,
                    ca_pem,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                bail!(
                    "promptwall ({name}) exited with {status}; log in {}",
                    dir.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        bail!(
            "promptwall ({name}) did not start; log in {}",
            dir.display()
        )
    }

    /// A gauge or counter from the admin listener's `/metrics` (`name` with its labels), 0
    /// when absent.
    pub async fn metric(&self, name: &str) -> f64 {
        let Ok(r) = reqwest::get(format!("http://127.0.0.1:{}/metrics", self.admin)).await else {
            return 0.0;
        };
        let page = r.text().await.unwrap_or_default();
        page.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    }

    /// CPU seconds used so far and resident memory (from /proc), for the table: the process
    /// and its direct children (nginx's workers do its work; its master only waits).
    pub fn usage(&self) -> (f64, u64) {
        let pid = self.child.id();
        let mut pids = vec![pid];
        pids.extend(children(pid));
        pids.iter().fold((0.0, 0), |(cpu, rss), p| {
            (cpu + cpu_secs(*p).unwrap_or(0.0), rss + rss_kib(*p))
        })
    }
}

/// User plus system CPU seconds of `pid` so far.
fn cpu_secs(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f: Vec<&str> = s.rsplit_once(')')?.1.split_whitespace().collect();
    Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
}

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit_once(')')?
                        .1
                        .split_whitespace()
                        .nth(1)?
                        .parse()
                        .ok()
                })
                == Some(pid)
        })
        .collect()
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // A graceful stop first: nginx's workers outlive a killed master.
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..40 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Proxy {
    /// The peer: `mitmdump` with `load-tests/mitm/regex_addon.py` (PromptWall's rule-pack
    /// regexes over every request body, or none), sending AI hosts to the same mock.
    pub async fn mitmdump(
        mitmdump: &std::path::Path,
        regexes: bool,
        mock: &MockServer,
        mock_pem: &str,
    ) -> anyhow::Result<Proxy> {
        let dir = std::env::temp_dir().join(format!(
            "pw-load-{}-mitmproxy-{regexes}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("mock.pem"), mock_pem)?;
        let port = free_port()?;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut child = std::process::Command::new(mitmdump)
            .args([
                "--listen-host",
                "127.0.0.1",
                "--listen-port",
                &port.to_string(),
                "-q",
            ])
            .arg("--set")
            .arg(format!("confdir={}", dir.display()))
            // Connect upstream only once the addon has pointed the request at the mock.
            .args(["--set", "connection_strategy=lazy"])
            .arg("--set")
            .arg(format!(
                "ssl_verify_upstream_trusted_ca={}",
                dir.join("mock.pem").display()
            ))
            .arg("-s")
            .arg(root.join("mitm/regex_addon.py"))
            .env("PW_MOCK_ADDR", mock.addr.to_string())
            .env("PW_RULES_DIR", root.join("../rules/packs"))
            .env("PW_REGEX_OFF", if regexes { "0" } else { "1" })
            .stdout(std::fs::File::create(dir.join("mitmdump.log"))?)
            .stderr(std::fs::File::create(dir.join("mitmdump.err"))?)
            .spawn()
            .with_context(|| format!("starting {}", mitmdump.display()))?;
        let ca = dir.join("mitmproxy-ca-cert.pem");
        for _ in 0..400 {
            if ca.exists() && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Proxy {
                    child,
                    ca_pem: std::fs::read_to_string(&ca)?,
                    dir,
                    proxy: port,
                    gateway: 0,
                    admin: 0,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                bail!("mitmdump exited with {status}; log in {}", dir.display());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        bail!("mitmdump did not start; log in {}", dir.display())
    }
}

impl Proxy {
    /// The pass-through a platform team would otherwise run: nginx (Debian's package) as a TLS
    /// reverse proxy to the same mock, no inspection, upstream keep-alive on. Its `gateway` port
    /// takes HTTPS; `ca_pem` is its certificate.
    pub async fn nginx(
        nginx: &std::path::Path,
        mock: &MockServer,
        mock_pem: &str,
    ) -> anyhow::Result<Proxy> {
        let dir = std::env::temp_dir().join(format!("pw-load-{}-nginx", std::process::id()));
        std::fs::create_dir_all(dir.join("tmp"))?;
        // Workers may run as an unprivileged user: let them spool large bodies here.
        std::fs::set_permissions(
            dir.join("tmp"),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )?;
        let ss = load_tests::tls::self_signed(&["127.0.0.1", "localhost"])?;
        std::fs::write(dir.join("cert.pem"), &ss.cert_pem)?;
        std::fs::write(dir.join("key.pem"), &ss.key_pem)?;
        std::fs::write(dir.join("mock.pem"), mock_pem)?;
        let port = free_port()?;
        let d = dir.display();
        let conf = format!(
            "worker_processes auto;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 8192; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/tmp/body;\n  proxy_temp_path {d}/tmp/proxy;\n\
               fastcgi_temp_path {d}/tmp/fcgi;\n  uwsgi_temp_path {d}/tmp/uwsgi;\n  scgi_temp_path {d}/tmp/scgi;\n\
               upstream mock {{ server {mock}; keepalive 128; }}\n\
               server {{\n    listen 127.0.0.1:{port} ssl;\n    ssl_certificate {d}/cert.pem;\n    ssl_certificate_key {d}/key.pem;\n\
                 client_max_body_size 64m;\n\
                 location / {{\n      proxy_pass https://mock;\n      proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n\
                   proxy_set_header Host api.openai.com;\n      proxy_ssl_server_name on;\n      proxy_ssl_name api.openai.com;\n\
                   proxy_ssl_verify on;\n      proxy_ssl_trusted_certificate {d}/mock.pem;\n      proxy_ssl_session_reuse on;\n\
                   proxy_buffering off;\n    }}\n  }}\n}}\n",
            mock = mock.addr
        );
        std::fs::write(dir.join("nginx.conf"), conf)?;
        let mut child = std::process::Command::new(nginx)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("nginx.err"))?)
            .spawn()
            .with_context(|| format!("starting {}", nginx.display()))?;
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Proxy {
                    child,
                    dir,
                    proxy: 0,
                    gateway: port,
                    admin: 0,
                    ca_pem: ss.cert_pem,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                bail!("nginx exited with {status}; log in {}", dir.display());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        bail!("nginx did not start; log in {}", dir.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_children_and_their_cpu_are_found() {
        // A shell whose child burns some CPU: the child is listed under the shell, and its CPU
        // is what usage() would add to the shell's.
        let mut sh = std::process::Command::new("sh")
            .args([
                "-c",
                "i=0; while [ $i -lt 500000 ]; do i=$((i+1)); done & wait",
            ])
            .spawn()
            .unwrap();
        let pid = sh.id();
        let mut kids = Vec::new();
        for _ in 0..100 {
            kids = children(pid);
            if !kids.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(kids.len(), 1, "{kids:?}");
        let mut burnt = 0.0;
        for _ in 0..500 {
            burnt = cpu_secs(kids[0]).unwrap_or(0.0);
            if burnt > 0.0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(burnt > 0.0);
        assert!(cpu_secs(pid).is_some());
        sh.wait().unwrap();
        assert!(children(pid).is_empty());
    }
}
