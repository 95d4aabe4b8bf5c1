//! Working days of the official Russian production calendar (производственный календарь):
//! public holidays (Трудовой кодекс РФ, ст. 112) and the transfers of days off set each year by
//! a government decree, for the years in `data/production_calendar.csv` (2023–2027; the file
//! names its sources and how sure each year is, see [`year_status`]).
//!
//! "В течение 5 рабочих дней с момента …" counts working days after the event: the event's day
//! is not counted, so the deadline is [`add_working_days`]`(event, 5)`. Outside the years the
//! file covers nothing is guessed: the functions return `None`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

const DATA: &str = include_str!("../data/production_calendar.csv");

/// How sure the calendar of a year is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CalendarStatus {
    /// Written from the government decree on transfers named in the file.
    Decree,
    /// The published calendar; the decree's number was not verified.
    Draft,
    /// Only the Labour Code rules: the decree on transfers was not known.
    Provisional,
}

/// A day the calendar marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DayMark {
    /// A public holiday on a weekday.
    Holiday,
    /// A weekday made a day off (moved holiday or transfer).
    DayOff,
    /// A Saturday or Sunday made a working day.
    WorkDay,
}

struct Calendar {
    years: BTreeMap<i32, (CalendarStatus, String)>,
    days: BTreeMap<NaiveDate, DayMark>,
}

static CALENDAR: LazyLock<Calendar> = LazyLock::new(|| parse(DATA));

fn parse(data: &str) -> Calendar {
    let mut years = BTreeMap::new();
    let mut days = BTreeMap::new();
    for line in data.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.splitn(4, ';').collect();
        match fields.as_slice() {
            ["year", y, status, source] => {
                let (Ok(y), Some(status)) = (y.parse::<i32>(), status_of(status)) else {
                    continue;
                };
                years.insert(y, (status, source.to_string()));
            }
            ["date", d, kind, _note] => {
                let (Ok(d), Some(mark)) = (NaiveDate::parse_from_str(d, "%Y-%m-%d"), mark_of(kind)) else {
                    continue;
                };
                days.insert(d, mark);
            }
            _ => {}
        }
    }
    Calendar { years, days }
}

fn status_of(s: &str) -> Option<CalendarStatus> {
    Some(match s {
        "decree" => CalendarStatus::Decree,
        "draft" => CalendarStatus::Draft,
        "provisional" => CalendarStatus::Provisional,
        _ => return None,
    })
}

fn mark_of(s: &str) -> Option<DayMark> {
    Some(match s {
        "holiday" => DayMark::Holiday,
        "dayoff" => DayMark::DayOff,
        "workday" => DayMark::WorkDay,
        _ => return None,
    })
}

/// The years the calendar covers, first and last.
pub fn covered_years() -> Option<(i32, i32)> {
    let c = &*CALENDAR;
    Some((*c.years.keys().next()?, *c.years.keys().next_back()?))
}

/// How sure the calendar of `year` is, and its source; `None` when the year is not covered.
pub fn year_status(year: i32) -> Option<(CalendarStatus, &'static str)> {
    CALENDAR.years.get(&year).map(|(s, src)| (*s, src.as_str()))
}

/// What the calendar says about `date`, when it marks it.
pub fn mark(date: NaiveDate) -> Option<DayMark> {
    CALENDAR.days.get(&date).copied()
}

/// Whether `date` is a working day; `None` outside the years covered.
pub fn is_working_day(date: NaiveDate) -> Option<bool> {
    year_status(date.year())?;
    Some(match mark(date) {
        Some(DayMark::WorkDay) => true,
        Some(DayMark::Holiday | DayMark::DayOff) => false,
        None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
    })
}

/// The `n`-th working day after `date` (`date` itself not counted); for `n == 0`, `date` when
/// it is a working day, else the next one. `None` when the count leaves the years covered.
pub fn add_working_days(date: NaiveDate, n: u32) -> Option<NaiveDate> {
    let mut d = date;
    if n == 0 {
        while !is_working_day(d)? {
            d = d.succ_opt()?;
        }
        return Some(d);
    }
    let mut left = n;
    while left > 0 {
        d = d.succ_opt()?;
        if is_working_day(d)? {
            left -= 1;
        }
    }
    Some(d)
}

/// Working days in `from..=to`; `None` when the range leaves the years covered.
pub fn working_days_between(from: NaiveDate, to: NaiveDate) -> Option<u32> {
    let mut count = 0;
    for d in from.iter_days().take_while(|d| *d <= to) {
        if is_working_day(d)? {
            count += 1;
        }
    }
    Some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn yearly_totals_match_the_published_calendars() {
        let total = |y| working_days_between(d(y, 1, 1), d(y, 12, 31)).unwrap();
        assert_eq!(total(2023), 247);
        assert_eq!(total(2024), 248);
        assert_eq!(total(2025), 247);
        assert_eq!(total(2026), 247);
        assert_eq!(covered_years(), Some((2023, 2027)));
        assert_eq!(year_status(2024).map(|s| s.0), Some(CalendarStatus::Decree));
        assert_eq!(year_status(2027).map(|s| s.0), Some(CalendarStatus::Provisional));
        assert!(year_status(2024).unwrap().1.contains("№ 1314"));
        assert_eq!(is_working_day(d(2022, 12, 30)), None);
        assert_eq!(is_working_day(d(2028, 1, 10)), None);
    }

    #[test]
    fn transfers_of_2024() {
        // Saturday 27 April 2024 was worked; Monday 29 and Tuesday 30 April were days off.
        assert_eq!(is_working_day(d(2024, 4, 27)), Some(true));
        assert_eq!(is_working_day(d(2024, 4, 29)), Some(false));
        assert_eq!(is_working_day(d(2024, 4, 30)), Some(false));
        assert_eq!(is_working_day(d(2024, 5, 1)), Some(false));
        assert_eq!(is_working_day(d(2024, 5, 2)), Some(true));
        // Friday 26 April + 1 working day is Saturday 27; + 2 is Thursday 2 May.
        assert_eq!(add_working_days(d(2024, 4, 26), 1), Some(d(2024, 4, 27)));
        assert_eq!(add_working_days(d(2024, 4, 26), 2), Some(d(2024, 5, 2)));
        // 10 May (transfer from 6 January) and 30–31 December were off, 28 December worked.
        assert_eq!(add_working_days(d(2024, 5, 8), 1), Some(d(2024, 5, 13)));
        assert_eq!(is_working_day(d(2024, 12, 28)), Some(true));
        assert_eq!(add_working_days(d(2024, 12, 27), 1), Some(d(2024, 12, 28)));
        assert_eq!(add_working_days(d(2024, 12, 28), 1), Some(d(2025, 1, 9)));
    }

    #[test]
    fn new_year_holidays_of_2025() {
        // 1–8 January off; the first working day is Thursday 9 January.
        for day in 1..=8 {
            assert_eq!(is_working_day(d(2025, 1, day)), Some(false), "2025-01-{day}");
        }
        assert_eq!(add_working_days(d(2024, 12, 27), 2), Some(d(2025, 1, 9)));
        assert_eq!(add_working_days(d(2025, 1, 1), 0), Some(d(2025, 1, 9)));
        // "в течение 5 рабочих дней" from Friday 27 December 2024: 28.12 (worked Saturday),
        // then 9, 10, 13, 14 January.
        assert_eq!(add_working_days(d(2024, 12, 27), 5), Some(d(2025, 1, 14)));
        // 2 May 2025 (from 4 January) off; Saturday 1 November worked, 3–4 November off.
        assert_eq!(is_working_day(d(2025, 5, 2)), Some(false));
        assert_eq!(is_working_day(d(2025, 11, 1)), Some(true));
        assert_eq!(add_working_days(d(2025, 10, 31), 2), Some(d(2025, 11, 5)));
        // Weekend holidays move to Monday: 24 February and 10 March 2025.
        assert_eq!(is_working_day(d(2025, 2, 24)), Some(false));
        assert_eq!(is_working_day(d(2025, 3, 10)), Some(false));
    }

    #[test]
    fn transfers_of_2023_and_counting_off_the_end() {
        assert_eq!(is_working_day(d(2023, 2, 24)), Some(false));
        assert_eq!(is_working_day(d(2023, 5, 8)), Some(false));
        assert_eq!(is_working_day(d(2023, 11, 6)), Some(false));
        assert_eq!(add_working_days(d(2023, 11, 3), 1), Some(d(2023, 11, 7)));
        assert_eq!(add_working_days(d(2027, 12, 30), 5), None);
    }
}
