//! Where scan time goes on a corpus: `cargo run --release -p classifiers --example profile_scan -- FILE`.
fn main() {
    let path = std::env::args().nth(1).expect("file");
    let text = std::fs::read_to_string(path).expect("read");
    let engine = classifiers::builtin_engine().unwrap();
    engine.scan(&text);
    let t = std::time::Instant::now();
    let n = 20;
    let mut found = 0;
    for _ in 0..n {
        found = engine.scan(&text).len();
    }
    let per = t.elapsed() / n;
    println!(
        "{} bytes, {} findings, {:?} per scan, {:.1} MB/s",
        text.len(),
        found,
        per,
        text.len() as f64 / per.as_secs_f64() / 1e6
    );
    for (name, secs) in engine.profile(&text) {
        println!("{secs:>10.6}s {name}");
    }
}
