//! Blind tunnels for everything that is not an AI destination: no TLS termination, no
//! decryption, just bytes, with bounded connect and idle timeouts.

use crate::config::Config;
use crate::handler::Shared;
use pingora_core::protocols::Stream;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

/// Connects to `host:port` and answers the CONNECT: `200` and the upstream connection, or a
/// `502`/`504` to the client and `None`.
pub async fn open(
    shared: &Shared,
    client: &mut Stream,
    host: &str,
    port: u16,
) -> Option<TcpStream> {
    let connect_timeout = Config::ms(shared.config.upstream.connect_timeout_ms);
    let upstream = match timeout(connect_timeout, connect(shared, host, port)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            reply(
                client,
                "502 Bad Gateway",
                &format!("PromptWall: cannot reach {host}:{port}: {e}\n"),
            )
            .await;
            return None;
        }
        Err(_) => {
            reply(
                client,
                "504 Gateway Timeout",
                &format!("PromptWall: connecting to {host}:{port} timed out\n"),
            )
            .await;
            return None;
        }
    };
    let _ = upstream.set_nodelay(true);
    if client
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await
        .is_err()
        || client.flush().await.is_err()
    {
        return None;
    }
    Some(upstream)
}

/// Copies bytes both ways until both sides finish or the tunnel is idle for the configured
/// time.
pub async fn run<C>(shared: &Shared, client: C, upstream: TcpStream, host: &str, port: u16)
where
    C: AsyncRead + AsyncWrite + Unpin + Send,
{
    let idle = Config::ms(shared.config.upstream.idle_timeout_ms);
    let (up, down) = splice(client, upstream, idle).await;
    tracing::debug!(
        host,
        port,
        bytes_up = up,
        bytes_down = down,
        "tunnel closed"
    );
}

async fn connect(shared: &Shared, host: &str, port: u16) -> std::io::Result<TcpStream> {
    if let Some(addr) = shared.config.upstream.resolve.get(host) {
        return TcpStream::connect(*addr).await;
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no addresses");
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

async fn reply(client: &mut Stream, status: &str, body: &str) {
    let msg = format!("HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
    let _ = client.write_all(msg.as_bytes()).await;
    let _ = client.flush().await;
}

/// Copies both directions; a direction that ends half-closes the other side. The tunnel ends
/// when both directions have ended, or when neither has moved a byte for `idle`.
pub async fn splice<A, B>(a: A, b: B, idle: Duration) -> (u64, u64)
where
    A: AsyncRead + AsyncWrite + Unpin + Send,
    B: AsyncRead + AsyncWrite + Unpin + Send,
{
    let epoch = Instant::now();
    let last = Arc::new(AtomicU64::new(0));
    let (mut ar, mut aw) = tokio::io::split(a);
    let (mut br, mut bw) = tokio::io::split(b);
    let up = pump(&mut ar, &mut bw, idle, epoch, last.clone());
    let down = pump(&mut br, &mut aw, idle, epoch, last);
    tokio::join!(up, down)
}

async fn pump<R, W>(
    r: &mut R,
    w: &mut W,
    idle: Duration,
    epoch: Instant,
    last: Arc<AtomicU64>,
) -> u64
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 16 * 1024];
    let mut total = 0u64;
    loop {
        match timeout(idle, r.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                // A peer that stops reading must not hold the tunnel (and its sockets) forever.
                let written = timeout(idle, async {
                    w.write_all(&buf[..n]).await?;
                    w.flush().await
                })
                .await;
                if !matches!(written, Ok(Ok(()))) {
                    break;
                }
                total += n as u64;
                last.store(epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
            }
            Err(_) => {
                // Idle in this direction; keep going while the other direction is active.
                let quiet = epoch.elapsed().as_millis() as u64 - last.load(Ordering::Relaxed);
                if quiet >= idle.as_millis() as u64 {
                    break;
                }
            }
        }
    }
    let _ = w.shutdown().await;
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_stops_reading_does_not_hold_the_tunnel_forever() {
        let (mut client, client_side) = tokio::io::duplex(1024);
        let (server_side, _server) = tokio::io::duplex(1024);
        // The client keeps sending; the server never reads a byte.
        tokio::spawn(async move {
            let chunk = vec![7u8; 4096];
            while client.write_all(&chunk).await.is_ok() {}
        });
        let spliced = splice(client_side, server_side, Duration::from_secs(5));
        let ended = tokio::time::timeout(Duration::from_secs(3600), spliced).await;
        assert!(ended.is_ok(), "the tunnel was still open after an hour");
    }
}
