//! Parses the five seed roadmaps N times and prints per-document and total time.
//! `cargo bench -p roadmap-import --bench parse -- [N]` (default N = 200).

use std::time::{Duration, Instant};

fn main() {
    let n: u32 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(200);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/roadmaps");
    let mut seeds: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("fixtures dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".txt"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).expect("readable seed"),
            )
        })
        .collect();
    seeds.sort();
    let mut total = Duration::ZERO;
    let mut bytes = 0usize;
    for (name, text) in &seeds {
        // One warm-up parse so lazily compiled regexes are not charged to the first document.
        let doc = roadmap_import::parse_document(text).expect("seed parses");
        let start = Instant::now();
        for _ in 0..n {
            std::hint::black_box(roadmap_import::parse_document(std::hint::black_box(text)).ok());
        }
        let spent = start.elapsed();
        total += spent;
        bytes += text.len();
        println!(
            "{name}: {:>5} bytes, {:>3} measures, {:>8.1} µs/parse",
            text.len(),
            doc.stats.measures + doc.stats.milestones,
            spent.as_secs_f64() * 1e6 / f64::from(n)
        );
    }
    let per_round = total.as_secs_f64() / f64::from(n);
    println!(
        "total: {n} rounds of {} documents in {:.3} s; {:.2} ms per round; {:.1} MB/s",
        seeds.len(),
        total.as_secs_f64(),
        per_round * 1e3,
        bytes as f64 / per_round / 1e6
    );
}
