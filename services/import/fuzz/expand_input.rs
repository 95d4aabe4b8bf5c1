//! The input space of `occurrence::expand`: bytes decoded into a schedule and a plan period.
//! Shared by the `expand` fuzz target and its bounded run in the normal tests
//! (`tests/arbitrary.rs`), so both explore the same inputs.
//!
//! The first byte chooses how the rest is read: as text put through `parse_schedule` (what an
//! import does), or as a schedule built item by item from the bytes, with any frequency, month,
//! day or range, the extreme dates included (what a stored schedule could hold).

use chrono::{Datelike, NaiveDate};
use roadmap_import::occurrence::{Expansion, expand};
use roadmap_import::schedule::{
    DateRange, Frequency, Offset, OffsetUnit, RecurrenceDay, Schedule, ScheduleItem, ScheduleKind, Term, Weekday,
};
use roadmap_import::{Period, PeriodKind, parse_schedule};

/// Reads the bytes front to back; zeros once they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    fn u32(&mut self) -> u32 {
        // Small numbers mostly, the extremes sometimes.
        match self.u8() {
            250 => 0,
            251 => u32::MAX,
            252 => u32::MAX / 2,
            253 => 1000,
            254 => 13,
            255 => 366,
            b => u32::from(b % 40),
        }
    }

    fn date(&mut self) -> NaiveDate {
        let year = match self.u8() % 16 {
            0 => return NaiveDate::MIN,
            1 => return NaiveDate::MAX,
            2 => -1,
            3 => 999,
            4 => 1000,
            5 => 9999,
            6 => 10000,
            7 => 1,
            n => 2016 + i32::from(n),
        };
        let month = 1 + u32::from(self.u8() % 12);
        let day = 1 + u32::from(self.u8() % 31);
        NaiveDate::from_ymd_opt(year, month, day)
            .or_else(|| NaiveDate::from_ymd_opt(year, month, 1))
            .unwrap_or(NaiveDate::MIN)
    }

    fn range(&mut self) -> DateRange {
        DateRange {
            start: self.date(),
            end: self.date(),
        }
    }

    fn weekday(&mut self) -> Weekday {
        use Weekday::*;
        [Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday][usize::from(self.u8() % 7)]
    }

    fn months(&mut self) -> Vec<u32> {
        (0..self.u8() % 5).map(|_| self.u32()).collect()
    }

    fn frequency(&mut self) -> Frequency {
        match self.u8() % 13 {
            0 => Frequency::Daily,
            1 => Frequency::Weekly,
            2 => Frequency::Monthly,
            3 => Frequency::Quarterly,
            4 => Frequency::Yearly,
            5 => Frequency::EveryNMonths(self.u32()),
            6 => Frequency::NthWeekOfMonth(self.u32()),
            7 => Frequency::LastWeekOfMonth,
            8 => Frequency::TimesPerWeek(self.u32()),
            9 => Frequency::TimesPerMonth(self.u32()),
            10 => Frequency::TimesPerYear(self.u32()),
            11 => Frequency::EveryTerm,
            _ => Frequency::Weekly,
        }
    }

    fn day(&mut self) -> Option<RecurrenceDay> {
        Some(match self.u8() % 4 {
            0 => return None,
            1 => RecurrenceDay::DayOfMonth {
                day: self.u32(),
                by: self.u8() & 1 == 0,
                following: self.u8() & 1 == 0,
            },
            2 => RecurrenceDay::NthWeekday {
                n: self.u32(),
                weekday: self.weekday(),
            },
            _ => RecurrenceDay::Weekdays {
                days: (0..self.u8() % 4).map(|_| self.weekday()).collect(),
            },
        })
    }

    fn item(&mut self) -> ScheduleItem {
        match self.u8() % 12 {
            0 => {
                let r = self.range();
                ScheduleItem::Window {
                    start: r.start,
                    end: r.end,
                    year_inferred: false,
                }
            }
            1 => ScheduleItem::On { date: self.date() },
            2 => ScheduleItem::Deadline { by: self.date() },
            3 => ScheduleItem::Starting { from: self.date() },
            4 => ScheduleItem::Months { months: self.months() },
            5 | 6 => ScheduleItem::Recurrence {
                every: self.frequency(),
                months: self.months(),
                within: (self.u8() & 1 == 0).then(|| self.range()),
                day: self.day(),
            },
            7 => ScheduleItem::Continuous {
                within: (self.u8() & 1 == 0).then(|| self.range()),
            },
            8 => ScheduleItem::External {
                reference: "по графику ФЦТ".into(),
                owner: None,
            },
            9 => ScheduleItem::Relative {
                event: "утверждения плана".into(),
                offset: Some(Offset {
                    amount: self.u32(),
                    unit: OffsetUnit::WorkingDays,
                }),
                before: self.u8() & 1 == 0,
            },
            10 => ScheduleItem::SchoolTerm {
                term: Term::SchoolQuarter(self.u32()),
                school_year: Some(self.date().year()),
            },
            _ => ScheduleItem::OnDemand {
                text: "по мере необходимости".into(),
            },
        }
    }
}

/// The schedule and plan period `data` stands for.
pub fn decode(data: &[u8]) -> (Schedule, Option<DateRange>) {
    let mut b = Bytes(data);
    let mode = b.u8();
    let period = (mode & 2 == 0).then(|| b.range());
    if mode & 1 == 0 {
        let text = String::from_utf8_lossy(b.0);
        let plan = period.map(|r| Period {
            start: r.start.min(r.end),
            end: r.end.max(r.start),
            kind: PeriodKind::CalendarYears,
            raw: String::new(),
            line: 1,
            inferred: false,
        });
        return (parse_schedule(&text, plan.as_ref()), period);
    }
    let items = (0..b.u8() % 6).map(|_| b.item()).collect();
    let schedule = Schedule {
        raw: String::new(),
        items,
        kind: ScheduleKind::Mixed,
        leftover: None,
    };
    (schedule, period)
}

/// Most occurrences one recurrence may give: a working day per day of its bounded range.
pub const MAX_PER_RECURRENCE: usize = 366 * roadmap_import::occurrence::MAX_RECURRENCE_YEARS as usize + 1;

/// Expands `data`'s schedule and checks what must hold for any input: the output is bounded, in
/// date order without two occurrences on one day, and every occurrence of a recurrence lies in
/// its bounded range (the days "of the following month" at most 13 months after it); every
/// dated item gives its own day. Panics (the fuzzer's finding) otherwise.
pub fn check(data: &[u8]) -> Expansion {
    let (schedule, period) = decode(data);
    let all = expand(&schedule, period);
    let bound: usize = schedule
        .items
        .iter()
        .map(|i| match i {
            ScheduleItem::Recurrence { .. } => MAX_PER_RECURRENCE,
            _ => 1,
        })
        .sum();
    assert!(
        all.occurrences.len() <= bound,
        "{} occurrences > {bound}",
        all.occurrences.len()
    );
    assert!(all.undated.len() <= schedule.items.len());
    assert!(all.occurrences.windows(2).all(|w| w[0].date < w[1].date), "order");
    for item in &schedule.items {
        let one = expand(
            &Schedule {
                items: vec![item.clone()],
                ..schedule.clone()
            },
            period,
        );
        match item {
            ScheduleItem::Recurrence { within, day, .. } => {
                let Some((Some(range), _)) = within.or(period).map(roadmap_import::occurrence::bounded) else {
                    assert!(one.occurrences.is_empty(), "{item:?}: no range, no dates");
                    continue;
                };
                let following = matches!(day, Some(RecurrenceDay::DayOfMonth { following: true, .. }));
                let last = if following {
                    range
                        .end
                        .checked_add_months(chrono::Months::new(13))
                        .unwrap_or(NaiveDate::MAX)
                } else {
                    range.end
                };
                for o in &one.occurrences {
                    let inside = (o.date >= range.start || following) && o.date <= last;
                    assert!(inside, "{item:?}: {} outside {}..{last}", o.date, range.start);
                }
            }
            ScheduleItem::On { date: d } | ScheduleItem::Deadline { by: d } | ScheduleItem::Starting { from: d } => {
                assert_eq!(one.occurrences.iter().map(|o| o.date).collect::<Vec<_>>(), vec![*d]);
            }
            ScheduleItem::Window { start, .. } => {
                assert_eq!(one.occurrences.len(), 1);
                assert_eq!(one.occurrences[0].date, *start);
            }
            _ => assert!(one.occurrences.is_empty(), "{item:?} is undated"),
        }
    }
    all
}
