#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use roadmap_import::{Period, PeriodKind};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = roadmap_import::parse_schedule(text, None);
    let (Some(start), Some(end)) = (
        NaiveDate::from_ymd_opt(2023, 9, 1),
        NaiveDate::from_ymd_opt(2024, 8, 31),
    ) else {
        return;
    };
    let period = Period {
        start,
        end,
        kind: PeriodKind::SchoolYears,
        raw: String::new(),
        line: 1,
        inferred: false,
    };
    let _ = roadmap_import::parse_schedule(text, Some(&period));
    let _ = roadmap_import::parse_targets(text);
    let _ = roadmap_import::split_responsible(text, &[]);
});
