//! Policy evaluation plus redaction for a 4 KB prompt with 20 findings, next to the pattern scan
//! alone in the same run (the budget: the policy adds under 10% to the scan).
//!
//! Run: `cargo bench -p policy --bench evaluate`
//!
//! Rows: `baseline_scan_only` (the scan as the proxy runs it), `evaluate_redact_only` (the
//! policy step on that scan's findings: the budget row) and `scan_evaluate_redact` (both, in one
//! loop). After the rows, an interleaved comparison prints what the policy adds in place: the
//! scan alone and the scan plus policy run in alternating rounds, so the VM's drift between
//! criterion's rows (a few percent) hits both sides alike.

use criterion::{black_box, Criterion};
use policy::{CompiledPolicy, Context, Direction, LabelsOutcome, Located, TenantKey};
use std::time::Instant;

fn prompt() -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < 4096 {
        let v = match i % 4 {
            0 => format!("contact person{i}.lastname@globex-corp.com about the renewal. "),
            1 => "charge 4111 1111 1111 1111 for the order. ".to_string(),
            2 => format!("call +44 20 7946 0{:03} tomorrow. ", i),
            _ => {
                "The quarterly plan covers hiring, budget and the roadmap for next year. ".repeat(3)
            }
        };
        if i < 27 || i % 4 == 3 {
            s.push_str(&v);
        }
        i += 1;
    }
    s.truncate(4096);
    s
}

struct Setup {
    engine: classifiers::PatternEngine,
    policy: CompiledPolicy,
    key: TenantKey,
    text: String,
}

impl Setup {
    fn new() -> Self {
        Setup {
            engine: classifiers::builtin_engine().unwrap(),
            policy: CompiledPolicy::default_for("acme"),
            key: TenantKey::derive(b"bench master key", "acme"),
            text: prompt(),
        }
    }

    /// The scan as the proxy runs it: findings tagged with their text segment.
    fn scan(&self) -> Vec<Located> {
        self.engine
            .scan(&self.text)
            .into_iter()
            .map(|finding| Located {
                segment: 0,
                finding,
            })
            .collect()
    }

    /// The policy step: decide, then rewrite the text.
    fn policy(&self, findings: &[Located]) -> policy::Redacted {
        let ctx = Context {
            direction: Direction::Request,
            ..Context::default()
        };
        let texts = [self.text.as_str()];
        let d = self
            .policy
            .evaluate(&ctx, &texts, findings, &LabelsOutcome::NotRun);
        policy::redact::apply(&d.redactions, &texts, &self.key)
    }
}

fn rows(c: &mut Criterion, s: &Setup) {
    let findings = s.scan();
    eprintln!("prompt {} bytes, {} findings", s.text.len(), findings.len());
    let mut g = c.benchmark_group("policy_4KB");
    g.bench_function("baseline_scan_only", |b| b.iter(|| black_box(s.scan())));
    g.bench_function("evaluate_redact_only", |b| {
        b.iter(|| black_box(s.policy(&findings)))
    });
    g.bench_function("scan_evaluate_redact", |b| {
        b.iter(|| black_box(s.policy(&s.scan())))
    });
    g.finish();
}

/// Median nanoseconds per iteration of `f`, over `rounds` rounds of `n`, one round of each
/// function in turn.
fn interleaved<const K: usize>(fs: [&dyn Fn(); K], rounds: usize, n: u32) -> [f64; K] {
    let mut times: [Vec<f64>; K] = std::array::from_fn(|_| Vec::with_capacity(rounds));
    for _ in 0..rounds {
        for (f, t) in fs.iter().zip(&mut times) {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            t.push(start.elapsed().as_nanos() as f64 / f64::from(n));
        }
    }
    times.map(|mut t| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    })
}

fn main() {
    let s = Setup::new();
    let mut c = Criterion::default()
        .sample_size(50)
        .measurement_time(std::time::Duration::from_secs(3))
        .configure_from_args();
    rows(&mut c, &s);
    c.final_summary();
    // Only a plain `cargo bench` run compares in place: not a filtered run, `--list`, or the
    // smoke run `cargo test --benches` makes (no `--bench`).
    if std::env::args().skip(1).ne(["--bench".to_string()]) {
        return;
    }
    let findings = s.scan();
    let [scan, both, policy] = interleaved(
        [
            &|| drop(black_box(s.scan())),
            &|| drop(black_box(s.policy(&s.scan()))),
            &|| drop(black_box(s.policy(&findings))),
        ],
        40,
        1000,
    );
    println!(
        "interleaved (median of 40 rounds): scan {:.2} µs, scan+policy {:.2} µs (+{:.1}%), \
         policy alone {:.2} µs ({:.1}% of the scan)",
        scan / 1e3,
        both / 1e3,
        (both / scan - 1.0) * 100.0,
        policy / 1e3,
        policy / scan * 100.0
    );
}
