//! The web target's tests, one binary: its operations against the supergraph and the manifest
//! (`operations`), each page rendered from a gateway answer (`pages`), and the router serving
//! the pages from a stand-in gateway that answers those same JSON files (`served`). The pages in
//! headless Chromium against a real hub are end-to-end tests (`tests/tests/e2e/web.rs`).

mod operations;
mod pages;
mod served;

use serde_json::Value;

/// A gateway answer (`{"data": ...}`) from `tests/web/fixtures/<name>.json`: shapes of the
/// demo data (the Zabaykalsky regional plan 002 and its chemistry targets).
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/web/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The day the fixtures are seen on.
pub fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2024, 9, 15).expect("date")
}
