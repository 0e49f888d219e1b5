//! Recognising the requester (`Store::identify`) with one tenant and with 300, by each kind of
//! identity source: its cost should not grow with the number of tenants.
//!
//! Run: `cargo bench -p policy --bench identify`

use criterion::{black_box, BenchmarkId, Criterion};
use policy::{IdentityInput, SecretHash, Store};
use std::net::IpAddr;

/// `n` tenants; tenant `i` has a bearer token `secret-i`, source CIDR 10.(i/256).(i%256).0/24 and a
/// trusted header from 192.168.(i/256).(i%256)/32.
fn store(n: usize) -> Store {
    let s = Store::in_memory();
    for i in 0..n {
        let (hi, lo) = (i / 256, i % 256);
        let yaml = format!(
            "tenant: t{i:04}\nidentity:\n  tokens: [{{user: u{i}, secret_hash: \"{}\"}}]\n  \
             trusted_header: {{user_header: X-User, from_cidrs: [192.168.{hi}.{lo}/32]}}\n  \
             cidrs: [{{cidr: \"10.{hi}.{lo}.0/24\"}}]\nrules: []\n",
            SecretHash::create(&format!("secret-{i}"))
        );
        s.apply(&format!("t{i}"), &yaml, "bench").unwrap();
    }
    s
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(30)
        .measurement_time(std::time::Duration::from_secs(2))
        .configure_from_args();
    let no_headers = |_: &str| None;
    let user_header = |name: &str| (name == "x-user").then(|| "ana".to_string());
    let mut g = c.benchmark_group("identify");
    for n in [1usize, 300] {
        let s = store(n);
        let last = n - 1;
        let (hi, lo) = (last / 256, last % 256);
        let cidr_peer: IpAddr = format!("10.{hi}.{lo}.7").parse().unwrap();
        let header_peer: IpAddr = format!("192.168.{hi}.{lo}").parse().unwrap();
        let bearer = format!("Bearer secret-{last}");
        // A revoked or mistyped token, retried: it matches no tenant's.
        let stale = "Bearer revoked-token".to_string();
        type Header<'a> = &'a dyn Fn(&str) -> Option<String>;
        let cases: [(&str, Option<&[u8]>, Header, IpAddr); 4] = [
            ("source_cidr", None, &no_headers, cidr_peer),
            ("trusted_header", None, &user_header, header_peer),
            (
                "bearer_token",
                Some(bearer.as_bytes()),
                &no_headers,
                cidr_peer,
            ),
            (
                "refused_token_retried",
                Some(stale.as_bytes()),
                &no_headers,
                cidr_peer,
            ),
        ];
        for (name, auth, header, peer) in cases {
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    black_box(s.identify(&IdentityInput {
                        proxy_authorization: auth,
                        header,
                        peer: Some(peer),
                    }))
                })
            });
        }
    }
    g.finish();
    c.final_summary();
}
