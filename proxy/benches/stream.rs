//! The response stream path per 1 MB of SSE: parse, decode the event JSON, hold back, scan with
//! the full packs and the default policy, re-encode. Baseline in the same run: a plain copy of
//! the same bytes in the same chunks.
//!
//! Run: `cargo bench -p promptwall --bench stream`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use promptwall::providers::ErrorShape;
use promptwall::stream::guard::{ResponsePolicy, StreamGuard};
use promptwall::stream::sse::{Piece, SseParser};
use std::sync::Arc;

fn stream_bytes() -> Vec<u8> {
    let words = [
        "The ",
        "quarterly ",
        "plan ",
        "covers ",
        "hiring, ",
        "budget ",
        "and ",
        "the ",
        "roadmap ",
        "for ",
        "next ",
        "year. ",
    ];
    let mut out = Vec::new();
    let mut i = 0;
    while out.len() < 1 << 20 {
        let ev = serde_json::json!({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": words[i % words.len()]}}]});
        out.extend_from_slice(format!("data: {ev}\n\n").as_bytes());
        i += 1;
    }
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}

fn bench(c: &mut Criterion) {
    let data = stream_bytes();
    let chunks: Vec<&[u8]> = data.chunks(1400).collect();
    let policy = Arc::new(policy::CompiledPolicy::default_for("bench"));
    let rp = ResponsePolicy {
        tool_classifier: None,
        scan: policy.inspects_responses(),
        policy,
        engine: Arc::new(classifiers::builtin_engine().unwrap()),
        key: policy::TenantKey::derive(b"bench", "bench"),
        user: None,
        groups: vec![],
        provider: "openai".into(),
        model: None,
        endpoint: "/v1/chat/completions".into(),
        shape: ErrorShape::OpenAi,
    };
    let mut g = c.benchmark_group("sse_1MB");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("baseline_copy", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(data.len());
            for c in &chunks {
                out.extend_from_slice(black_box(c));
            }
            black_box(out)
        })
    });
    g.bench_function("parse_scan_reencode", |b| {
        b.iter(|| {
            let mut parser = SseParser::default();
            let mut guard = StreamGuard::new(Some(rp.clone()), Default::default());
            let mut out = Vec::with_capacity(data.len());
            for c in &chunks {
                for piece in parser.push(c) {
                    match piece {
                        Piece::Event(e) => out.extend(guard.on_event(&e)),
                        Piece::Raw(r) => out.extend_from_slice(&r),
                    }
                }
            }
            out.extend(guard.flush());
            black_box(out)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
