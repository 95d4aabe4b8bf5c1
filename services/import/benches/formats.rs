//! Import time per format for the five seeds: read (detect, unpack, render) and parse, N rounds.
//! `cargo bench -p roadmap-import --bench formats -- [N]` (default N = 20; release profile).

use std::time::{Duration, Instant};

fn main() {
    let n: u32 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(20);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/roadmaps");
    let seeds = ["000", "001", "002", "003", "004"];
    println!("{:<6} {:>10} {:>12} {:>12}", "format", "bytes", "ms/5 seeds", "ms/seed");
    for ext in ["txt", "csv", "xlsx", "docx", "odt", "pdf"] {
        let files: Vec<Vec<u8>> = seeds
            .iter()
            .map(|s| {
                let path = if ext == "txt" {
                    std::fs::read_dir(&root)
                        .expect("fixtures")
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .find(|p| {
                            p.file_name().is_some_and(|f| f.to_string_lossy().starts_with(s))
                                && p.extension().is_some_and(|x| x == "txt")
                        })
                        .expect("seed")
                } else {
                    root.join("formats").join(format!("{s}.{ext}"))
                };
                std::fs::read(path).expect("fixture")
            })
            .collect();
        // Warm-up: lazily compiled regexes are not charged to the first round.
        for f in &files {
            roadmap_import::import_document("bench", f).expect("fixture imports");
        }
        let start = Instant::now();
        for _ in 0..n {
            for f in &files {
                std::hint::black_box(roadmap_import::import_document("bench", std::hint::black_box(f)).ok());
            }
        }
        let per_round: Duration = start.elapsed() / n;
        let bytes: usize = files.iter().map(Vec::len).sum();
        println!(
            "{ext:<6} {bytes:>10} {:>12.2} {:>12.2}",
            per_round.as_secs_f64() * 1e3,
            per_round.as_secs_f64() * 1e3 / seeds.len() as f64
        );
    }
}
