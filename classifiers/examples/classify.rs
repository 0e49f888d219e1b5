//! Prints label scores for each line of stdin: `cargo run -p classifiers --example classify`.
use std::io::BufRead;
fn main() {
    let m = classifiers::onnx::ContentClassifier::load(Default::default())
        .unwrap_or_else(|e| panic!("{e}"));
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let l = m
            .classify(&line, std::time::Duration::from_secs(30))
            .unwrap();
        let s: Vec<String> = l
            .scores
            .iter()
            .map(|(k, v)| format!("{k}={v:.2}{}", if *v >= m.thresholds[k] { "*" } else { "" }))
            .collect();
        println!("{} | {}", s.join(" "), &line[..line.len().min(70)]);
    }
}
