//! The first bytes a client sends into a fresh tunnel, read without consuming them: the TLS
//! ClientHello's server name tells an AI host tunnelled under another name (or an address)
//! apart from traffic that really is not for one.

use pingora_core::protocols::l4::stream::Stream as L4Stream;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// A ClientHello, whole, fits in this many bytes (one TLS record is at most 16 KiB; a hello
/// split over several records stays well under this).
const MAX_HELLO: usize = 64 * 1024;

/// What the client's first flight was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstFlight {
    /// A TLS ClientHello, and the name it asks for (SNI), if any.
    Tls { sni: Option<String> },
    /// Bytes that are not TLS (plain HTTP, SSH, ...).
    NotTls,
    /// A TLS handshake record whose ClientHello cannot be read: its name is unknown, and a
    /// server (a shared front among them) may read it all the same.
    Unreadable,
    /// The server spoke first (SMTP, SSH banners): not a TLS client's tunnel.
    ServerFirst,
    /// The client closed, or sent nothing within the wait: nothing to tunnel.
    Gone,
}

/// Reads the client's first flight (up to a whole ClientHello) and returns it with the bytes
/// read, which the caller puts back (`L4Stream::rewind`) before tunnelling or terminating TLS.
/// Waits at most `wait`, unless `upstream` speaks first.
pub async fn read(
    client: &mut L4Stream,
    upstream: &TcpStream,
    wait: Duration,
) -> (FirstFlight, Vec<u8>) {
    let deadline = tokio::time::Instant::now() + wait;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 8 * 1024];
    loop {
        tokio::select! {
            r = client.read(&mut chunk) => match r {
                Ok(0) | Err(_) => return (FirstFlight::Gone, buf),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            },
            _ = upstream.readable(), if buf.is_empty() => return (FirstFlight::ServerFirst, buf),
            // Nothing, or a hello that never completes (a client stalling to slip past the
            // check): nothing is tunnelled.
            _ = tokio::time::sleep_until(deadline) => return (FirstFlight::Gone, buf),
        }
        // A TLS handshake record starts with 0x16, then version 3.x.
        if buf[0] != 0x16 || (buf.len() > 1 && buf[1] != 3) {
            return (FirstFlight::NotTls, buf);
        }
        // Feed everything read so far to a fresh acceptor: it says when the hello is whole.
        let mut acceptor = rustls::server::Acceptor::default();
        let mut all = buf.as_slice();
        while !all.is_empty() {
            match acceptor.read_tls(&mut all) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        match acceptor.accept() {
            Ok(Some(accepted)) => {
                let sni = accepted
                    .client_hello()
                    .server_name()
                    .map(|s| s.to_ascii_lowercase());
                return (FirstFlight::Tls { sni }, buf);
            }
            Ok(None) if buf.len() < MAX_HELLO => continue,
            Ok(None) | Err(_) => return (FirstFlight::Unreadable, buf),
        }
    }
}
