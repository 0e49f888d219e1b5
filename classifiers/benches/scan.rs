//! Pattern-inspection throughput on mixed prose and code, next to a baseline measured in the
//! same run: aho-corasick over all keywords alone (the least any keyword-gated scanner does).
//!
//! Run: `cargo bench -p classifiers --bench scan`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// Real mixed text: this project's README (prose) and sources (code) that hold no test
/// secrets, repeated to `size`. A handful of genuine findings (example keys in the README,
/// loopback addresses) keep it realistic.
fn corpus(size: usize) -> String {
    let parts = [
        include_str!("../../README.md"),
        include_str!("../../proxy/src/handler/mod.rs"),
        include_str!("../../proxy/src/listener/forward.rs"),
        include_str!("../../proxy/src/listener/tunnel.rs"),
        include_str!("../../proxy/src/mitm/ca.rs"),
        include_str!("../../proxy/src/config/mod.rs"),
        include_str!("../../proxy/src/config/load.rs"),
        include_str!("../../proxy/src/upstream.rs"),
        include_str!("../../proxy/src/route.rs"),
        include_str!("../../policy/src/lib.rs"),
        include_str!("../../load-tests/src/mock/mod.rs"),
    ];
    let mut s = String::with_capacity(size + 4096);
    let mut i = 0;
    while s.len() < size {
        s.push_str(parts[i % parts.len()]);
        i += 1;
    }
    let mut end = size;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s
}

fn bench(c: &mut Criterion) {
    let engine = classifiers::builtin_engine().expect("built-in packs");
    let ac = engine
        .keyword_automaton()
        .expect("packs have keywords")
        .clone();
    let mut group = c.benchmark_group("scan");
    for (name, size) in [("4KB", 4 * 1024), ("64KB", 64 * 1024), ("1MB", 1024 * 1024)] {
        let text = corpus(size);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("baseline_keywords_only", name),
            &text,
            |b, t| b.iter(|| black_box(ac.find_overlapping_iter(t.as_bytes()).count())),
        );
        group.bench_with_input(BenchmarkId::new("full_packs", name), &text, |b, t| {
            b.iter(|| black_box(engine.scan(t)))
        });
    }
    group.finish();

    // The classifier's views (undoing evasions before the model reads a text): what ordinary
    // text pays, against the pattern scan of the same text in the same run.
    let viewer = classifiers::onnx::view::Viewer::new();
    let mut group = c.benchmark_group("classifier_view");
    for (name, size) in [("4KB", 4 * 1024), ("64KB", 64 * 1024)] {
        let text = corpus(size);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("view", name), &text, |b, t| {
            b.iter(|| black_box(viewer.view(t)))
        });
    }
    group.finish();

    // One chat turn as a client sends it: a system prompt and two history messages resent
    // every turn, and a new last message (1 KB). Each text is scanned, then every boundary
    // between neighbours. Without the memo every text costs a scan; with it (tenant scope,
    // warmed by the first turn) only the new message and its boundary do, next to a keyed hash
    // of each resent text (a boundary's key comes from its neighbours' keys). A counter makes each turn's last message new.
    let memo = classifiers::builtin_engine()
        .expect("built-in packs")
        .with_memo(4096)
        .expect("memo key");
    let system = corpus(1100);
    let history = [
        corpus(2200)[1100..].to_string(),
        corpus(3300)[2200..].to_string(),
    ];
    let mut group = c.benchmark_group("chat_turn");
    let mut turn = 0u64;
    let mut texts = move || {
        turn += 1;
        let last = format!("turn {turn}: {}", &corpus(4400)[3300..]);
        [system.clone(), history[0].clone(), history[1].clone(), last]
    };
    for (name, memoized) in [("scan_every_text", false), ("scan_through_memo", true)] {
        group.bench_function(name, |b| {
            b.iter_batched(
                &mut texts,
                |t| {
                    let t: Vec<&str> = t.iter().map(String::as_str).collect();
                    if memoized {
                        let s = memo.scan_texts_in("acme", &t);
                        let found: usize = s.texts.iter().map(|(x, _)| x.findings.len()).sum();
                        return black_box(found + s.boundaries.len());
                    }
                    let found: usize = t
                        .iter()
                        .map(|x| engine.scan_checked(x).findings.len())
                        .sum();
                    black_box(found + engine.scan_boundaries(&t).len())
                },
                criterion::BatchSize::SmallInput,
            )
        });
    }
    group.finish();

    // The fixed cost of one scan call: answers carry many short strings (ids, roles, model
    // names), each scanned on its own.
    let mut group = c.benchmark_group("scan_short");
    for text in [
        "assistant",
        "chatcmpl-9f8e7d6c5b4a3210",
        "The meeting moved to Thursday at 10.",
    ] {
        group.bench_with_input(BenchmarkId::new("scan", text.len()), &text, |b, t| {
            b.iter(|| black_box(engine.scan_checked(t)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
