//! Import time per format for the five seeds: read (detect, unpack, render) and parse, N rounds,
//! each seed timed on its own. `cargo bench -p roadmap-import --bench formats -- [N]` (default
//! N = 20; release profile). Prints one row per format (txt, csv, xlsx, docx, odt, pdf): the
//! bytes of the five files, the milliseconds of each seed and of the five together.

use std::time::{Duration, Instant};

const SEEDS: [&str; 5] = ["000", "001", "002", "003", "004"];
const FORMATS: [&str; 6] = ["txt", "csv", "xlsx", "docx", "odt", "pdf"];

/// The fixture of `seed` in `ext`: the plain text under its full name, the others in `formats/`.
fn fixture(root: &std::path::Path, seed: &str, ext: &str) -> Vec<u8> {
    let path = if ext == "txt" {
        std::fs::read_dir(root)
            .expect("fixtures")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name().is_some_and(|f| f.to_string_lossy().starts_with(seed))
                    && p.extension().is_some_and(|x| x == "txt")
            })
            .expect("seed")
    } else {
        root.join("formats").join(format!("{seed}.{ext}"))
    };
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Mean time of one import of `bytes` over `n` rounds, after a warm-up that must succeed (lazily
/// compiled regexes are not charged to the first round, and a failing import is not timed).
fn time(name: &str, bytes: &[u8], n: u32) -> Duration {
    let (_, doc) = roadmap_import::import_document(name, bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(doc.measures().next().is_some(), "{name}: no measures");
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(roadmap_import::import_document(name, std::hint::black_box(bytes)).ok());
    }
    start.elapsed() / n
}

fn main() {
    let n: u32 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20)
        .max(1);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/roadmaps");
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    println!("import time per seed and format, mean of {n} rounds ({profile} profile), ms");
    print!("{:<6} {:>10}", "format", "bytes");
    for s in SEEDS {
        print!(" {s:>8}");
    }
    println!(" {:>10}", "5 seeds");
    for ext in FORMATS {
        let files: Vec<Vec<u8>> = SEEDS.iter().map(|s| fixture(&root, s, ext)).collect();
        let bytes: usize = files.iter().map(Vec::len).sum();
        print!("{ext:<6} {bytes:>10}");
        let mut total = Duration::ZERO;
        for (seed, f) in SEEDS.iter().zip(&files) {
            let t = time(&format!("{seed}.{ext}"), f, n);
            total += t;
            print!(" {:>8.2}", t.as_secs_f64() * 1e3);
        }
        println!(" {:>10.2}", total.as_secs_f64() * 1e3);
    }
}
