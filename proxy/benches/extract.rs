//! File extraction throughput per format, in MB/s of file bytes: plain text, PDF, DOCX and a
//! zip of text files, each about 1 MB. Baseline in the same run: a plain read of the same
//! bytes (a checksum over them), which is what a proxy that does not look inside files pays.
//!
//! Run: `cargo bench -p promptwall --bench extract`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use promptwall::extract::files::{extract, Budget, FileLimits};
use promptwall::extract::samples::{docx_with, pdf_with, zip_of};

fn sentences(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "Line {i}: the quarterly plan covers hiring, budget and the roadmap for next year."
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let lines = sentences(12_000);
    let text = lines.join("\n").into_bytes();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    // One page per 40 lines, as a long report would be laid out.
    let pages: Vec<String> = lines.chunks(40).map(|c| c.join(" ")).collect();
    let page_refs: Vec<&str> = pages.iter().map(String::as_str).collect();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("text", text.clone()),
        ("pdf", pdf_with(&page_refs)),
        ("docx", docx_with(&refs)),
        (
            "zip",
            zip_of(
                &lines
                    .chunks(1_000)
                    .enumerate()
                    .map(|(i, c)| (i, c.join("\n")))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(|(i, t)| {
                        (
                            [
                                "a.txt", "b.txt", "c.txt", "d.txt", "e.txt", "f.txt", "g.txt",
                                "h.txt", "i.txt", "j.txt", "k.txt", "l.txt",
                            ][*i],
                            t.as_bytes(),
                        )
                    })
                    .collect::<Vec<_>>(),
            ),
        ),
    ];
    let limits = FileLimits::default();
    let mut g = c.benchmark_group("extract");
    g.sample_size(20);
    for (name, bytes) in &files {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(format!("baseline read/{name}"), |b| {
            b.iter(|| {
                black_box(
                    bytes
                        .iter()
                        .fold(0u64, |h, &x| h.wrapping_mul(31).wrapping_add(u64::from(x))),
                )
            })
        });
        g.bench_function(format!("extract/{name}"), |b| {
            b.iter(|| {
                let mut budget = Budget::new(&limits);
                let got = extract(name, black_box(bytes), &mut budget);
                assert!(got.unread.is_empty(), "{name}: {:?}", got.unread);
                black_box(got.pieces.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
