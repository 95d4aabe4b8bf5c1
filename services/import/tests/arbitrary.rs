//! Arbitrary input never panics: 800 deterministic mutations of every fixture
//! (plain text and each format) go through `read_document` and `parse`. The same input space
//! as the `read_document` fuzz target, bounded so it runs in the normal test run.

use std::time::Instant;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/roadmaps");
    let mut out = Vec::new();
    for dir in [root.clone(), root.join("formats")] {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .expect("fixtures")
            .filter_map(Result::ok)
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_file() && !name.ends_with(".md") && !name.ends_with(".py") {
                out.push((name, std::fs::read(e.path()).expect("fixture")));
            }
        }
    }
    out
}

/// `deep`: a mutation that may leave the whole document readable (so it is read and parsed in
/// full, which is what costs time); otherwise one that cuts the file or replaces its body.
fn mutate(rng: &mut Rng, src: &[u8], deep: bool) -> Vec<u8> {
    let mut b = src.to_vec();
    let kind = if deep {
        1 + rng.below(3)
    } else {
        [0, 4, 5][rng.below(3)]
    };
    match kind {
        // Cut short (ZIP directories and PDF cross-references are at the end); within the
        // first 8 KB, so that a text prefix stays cheap to parse.
        0 => b.truncate(rng.below(b.len().min(8192) + 1)),
        // Flip a few bytes.
        1 => {
            for _ in 0..1 + rng.below(8) {
                if !b.is_empty() {
                    let i = rng.below(b.len());
                    b[i] ^= 1 << rng.below(8);
                }
            }
        }
        // Overwrite a run with random bytes.
        2 => {
            if !b.is_empty() {
                let start = rng.below(b.len());
                for x in b.iter_mut().skip(start).take(1 + rng.below(64)) {
                    *x = rng.next() as u8;
                }
            }
        }
        // Duplicate a slice in place.
        3 => {
            if !b.is_empty() {
                let start = rng.below(b.len());
                let len = rng.below((b.len() - start).min(512) + 1);
                let piece = b[start..start + len].to_vec();
                let at = rng.below(b.len() + 1);
                b.splice(at..at, piece);
            }
        }
        // Keep only the head (a magic number with nothing behind it).
        4 => b.truncate(rng.below(64.min(b.len() + 1))),
        // Random bytes behind the first 8 bytes of the file.
        _ => {
            b.truncate(8);
            let n = rng.below(2048);
            b.extend((0..n).map(|_| rng.next() as u8));
        }
    }
    b
}

#[test]
fn mutated_fixtures_never_panic() {
    const RUNS: usize = 800;
    let corpus = corpus();
    assert!(corpus.len() >= 30, "the fixtures are missing: {}", corpus.len());
    let mut rng = Rng(0x5EED_2024_0013);
    let started = Instant::now();
    let mut runs = 0;
    let (mut read_ok, mut parsed_ok) = (0, 0);
    // A fixed number of inputs (deterministic: the same inputs on every machine, however busy);
    // whole documents that still read are parsed, which is what bounds the time (seconds).
    while runs < RUNS {
        let (name, bytes) = &corpus[rng.below(corpus.len())];
        // One in sixteen keeps the document whole: those are read and parsed in full.
        let input = mutate(&mut rng, bytes, runs % 16 == 0);
        if let Ok(doc) = roadmap_import::read_document(name, &input) {
            read_ok += 1;
            if doc.parse().is_ok() {
                parsed_ok += 1;
            }
        }
        runs += 1;
    }
    eprintln!(
        "{runs} inputs in {:?}: {read_ok} read, {parsed_ok} parsed",
        started.elapsed()
    );
    // Some mutations keep a document readable, most do not: both paths were exercised.
    assert!(
        read_ok > 0 && parsed_ok > 0 && read_ok < runs,
        "{read_ok} read, {parsed_ok} parsed of {runs}"
    );
}

/// The input space of the `expand` fuzz target (`fuzz/expand_input.rs`: the same decoder and
/// checks), bounded: 3,000 deterministic byte strings, half of them schedule phrases with noise.
#[path = "../fuzz/expand_input.rs"]
mod expand_input;

#[test]
fn arbitrary_schedules_expand_within_bounds() {
    const RUNS: usize = 3000;
    const PHRASES: [&str; 12] = [
        "октябрь 2023 г. – март 2024 г., еженедельно",
        "ежедневно",
        "1 раз в 2 месяца",
        "ежеквартально, до 5 числа месяца, следующего за отчетным",
        "каждая вторая среда месяца",
        "по вторникам и четвергам",
        "Ежегодно, ноябрь – апрель",
        "3 раза в неделю",
        "до 25 числа каждого месяца",
        "в течение 5 рабочих дней с момента получения запроса",
        "последняя неделя месяца",
        "сентябрь 2024, далее ежегодно",
    ];
    let mut rng = Rng(0x0CC0_2026_0013);
    let started = Instant::now();
    let (mut dated, mut truncated, mut uncovered, mut structured) = (0, 0, 0, 0);
    for run in 0..RUNS {
        let mut input: Vec<u8> = (0..rng.below(40)).map(|_| rng.next() as u8).collect();
        if run % 2 == 0 {
            // Text with a plan period: mode 0, two dates, the phrase, maybe a flipped byte.
            let mut text = vec![0u8];
            text.extend((0..6).map(|_| rng.next() as u8));
            text.extend(PHRASES[rng.below(PHRASES.len())].as_bytes());
            if run % 6 == 0 && text.len() > 8 {
                let i = 7 + rng.below(text.len() - 7);
                text[i] ^= 1 << rng.below(8);
            }
            input = text;
        } else if input.first().is_some_and(|b| b & 1 == 1) {
            structured += 1;
        }
        let e = expand_input::check(&input);
        dated += usize::from(!e.occurrences.is_empty());
        truncated += usize::from(e.truncated);
        uncovered += usize::from(!e.uncovered_years.is_empty());
    }
    eprintln!(
        "{RUNS} schedules in {:?}: {dated} dated, {truncated} cut, {uncovered} beyond the calendar, {structured} built item by item",
        started.elapsed()
    );
    // Every kind of outcome was reached.
    assert!(dated > RUNS / 4 && truncated > 0 && uncovered > 0 && structured > RUNS / 8);
}
