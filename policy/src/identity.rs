//! Who is asking: `Proxy-Authorization` credentials, a trusted header from an authenticating
//! proxy, or the source address, mapped to a tenant, user and groups.
//!
//! Credentials are stored as salted SHA-256 hashes and compared in constant time; a trusted
//! header is believed only from the addresses its tenant lists.

use ring::digest;
use std::net::IpAddr;

/// A salted SHA-256 hash: `sha256:<salt-hex>:<digest-hex>`, digest = SHA-256(salt ‖ secret).
#[derive(Debug, Clone)]
pub struct SecretHash {
    salt: Vec<u8>,
    digest: Vec<u8>,
}

impl SecretHash {
    /// Parses the stored form; the error says what is wrong with it.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut parts = s.split(':');
        let (Some("sha256"), Some(salt), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("expected `sha256:<salt-hex>:<digest-hex>`".into());
        };
        let salt = hex_decode(salt).ok_or("salt is not hex")?;
        let digest = hex_decode(d).ok_or("digest is not hex")?;
        if salt.len() < 8 {
            return Err("salt must be at least 8 bytes".into());
        }
        if digest.len() != 32 {
            return Err("digest must be 32 bytes".into());
        }
        Ok(SecretHash { salt, digest })
    }

    /// Hashes `secret` with a fresh random salt, for `promptwall auth hash`.
    pub fn create(secret: &str) -> String {
        let mut salt = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
            .expect("system RNG");
        let d = Self::compute(&salt, secret);
        format!("sha256:{}:{}", hex_encode(&salt), hex_encode(&d))
    }

    fn compute(salt: &[u8], secret: &str) -> Vec<u8> {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(salt);
        ctx.update(secret.as_bytes());
        ctx.finish().as_ref().to_vec()
    }

    /// Constant-time check of `secret` against the stored digest.
    pub fn verify(&self, secret: &str) -> bool {
        let d = Self::compute(&self.salt, secret);
        d.len() == self.digest.len()
            && d.iter()
                .zip(&self.digest)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Lower-case hex, for hashes and tags.
pub fn hex_encode(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(DIGITS[usize::from(x >> 4)] as char);
        s.push(DIGITS[usize::from(x & 15)] as char);
    }
    s
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr(ipnet::IpNet);

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128).
    pub fn parse(s: &str) -> Result<Self, String> {
        if let Ok(n) = s.parse::<ipnet::IpNet>() {
            return Ok(Cidr(n.trunc()));
        }
        s.parse::<IpAddr>()
            .map(|a| Cidr(ipnet::IpNet::from(a)))
            .map_err(|_| format!("`{s}` is not a CIDR such as 10.0.0.0/8"))
    }

    /// Whether `ip` is inside (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&canonical(ip))
    }

    /// The network, truncated to its prefix.
    pub(crate) fn net(&self) -> ipnet::IpNet {
        self.0
    }

    /// Prefix length: longer is more specific.
    pub fn prefix_len(&self) -> u8 {
        self.0.prefix_len()
    }

    /// Whether some address is in both (one network holds the other).
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.0.contains(&other.0) || other.0.contains(&self.0)
    }
}

/// The address as networks are matched against it: an IPv4-mapped IPv6 address as IPv4.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// What the proxy knows about a request when it asks who sent it.
pub struct IdentityInput<'a> {
    /// The raw `Proxy-Authorization` value.
    pub proxy_authorization: Option<&'a [u8]>,
    /// Looks up a request header by lower-case name.
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub peer: Option<IpAddr>,
}

/// A recognised requester.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub tenant: String,
    pub user: Option<String>,
    pub groups: Vec<String>,
    /// How it was recognised: `token`, `header`, `cidr`, `config` or `default`.
    pub method: &'static str,
}

/// Credentials were presented but match no tenant: refuse, never fall back silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadCredentials;

/// Decodes `Basic`/`Bearer` into (username, secret); `None` for anything else.
pub fn parse_authorization(raw: &[u8]) -> Option<(Option<String>, String)> {
    use base64::Engine as _;
    let value = std::str::from_utf8(raw).ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()?,
        )
        .ok()?;
        let (u, p) = decoded.split_once(':')?;
        Some((Some(u.to_string()), p.to_string()))
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Some((None, rest.to_string()))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_reject() {
        let h = SecretHash::parse(&SecretHash::create("s3cret")).unwrap();
        assert!(h.verify("s3cret"));
        assert!(!h.verify("s3cret "));
        assert!(SecretHash::parse("md5:00:11").is_err());
        assert!(SecretHash::parse("sha256:zz:00").is_err());
    }

    #[test]
    fn hex_is_lower_case_two_digits_per_byte_and_round_trips() {
        assert_eq!(hex_encode(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(hex_encode(&[]), "");
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(hex_decode(&hex_encode(&all)), Some(all));
    }

    #[test]
    fn cidrs_match_v4_v6_and_mapped_addresses() {
        let c = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(c.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!c.contains("10.2.0.1".parse().unwrap()));
        assert!(Cidr::parse("2001:db8::/32")
            .unwrap()
            .contains("2001:db8::1".parse().unwrap()));
        assert_eq!(Cidr::parse("192.0.2.7").unwrap().prefix_len(), 32);
        assert!(Cidr::parse("10.0.0.0/33").is_err());
    }

    #[test]
    fn authorization_headers_parse() {
        assert_eq!(
            parse_authorization(b"Basic YWxpY2U6cHc="),
            Some((Some("alice".into()), "pw".into()))
        );
        assert_eq!(
            parse_authorization(b"Bearer tok"),
            Some((None, "tok".into()))
        );
        assert_eq!(parse_authorization(b"Digest x"), None);
        assert_eq!(parse_authorization(b"Basic !!"), None);
    }
}
