//! Policy evaluation plus redaction for a 4 KB prompt with 20 findings, next to the pattern scan
//! alone in the same run (the budget: the policy adds under 10% to the scan).
//!
//! Run: `cargo bench -p policy --bench evaluate`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use policy::{CompiledPolicy, Context, Direction, LabelsOutcome, Located, TenantKey};

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

fn bench(c: &mut Criterion) {
    let engine = classifiers::builtin_engine().unwrap();
    let policy = CompiledPolicy::default_for("acme");
    let key = TenantKey::derive(b"bench master key", "acme");
    let text = prompt();
    let findings: Vec<Located> = engine
        .scan(&text)
        .into_iter()
        .map(|finding| Located {
            segment: 0,
            finding,
        })
        .collect();
    eprintln!("prompt {} bytes, {} findings", text.len(), findings.len());
    let mut g = c.benchmark_group("policy_4KB");
    // The scan as the proxy runs it: findings tagged with their text segment.
    let scan = |text: &str| -> Vec<Located> {
        engine
            .scan(text)
            .into_iter()
            .map(|finding| Located {
                segment: 0,
                finding,
            })
            .collect()
    };
    g.bench_function("baseline_scan_only", |b| b.iter(|| black_box(scan(&text))));
    g.bench_function("scan_evaluate_redact", |b| {
        b.iter(|| {
            let findings = scan(&text);
            let d = policy.evaluate(
                &Context {
                    direction: Direction::Request,
                    ..Context::default()
                },
                &[&text],
                &findings,
                &LabelsOutcome::NotRun,
            );
            black_box(policy::redact::apply(&d.redactions, &[&text], &key))
        })
    });
    g.bench_function("evaluate_redact_only", |b| {
        b.iter(|| {
            let d = policy.evaluate(
                &Context::default(),
                &[&text],
                &findings,
                &LabelsOutcome::NotRun,
            );
            black_box(policy::redact::apply(&d.redactions, &[&text], &key))
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
