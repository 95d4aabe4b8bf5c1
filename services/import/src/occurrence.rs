//! Dated occurrences of a structured schedule: the days a measure happens on, for reports
//! ("held / not held") and calendars.
//!
//! [`expand`] is a pure function of the parsed [`Schedule`] and the plan period. The rules:
//!
//! - **Recurrences** repeat within their own range (`within`, e.g. "октябрь 2023 г. – март
//!   2024 г.") or, when the text names none, within the plan period. Each repetition falls on the
//!   **first working day** of its period that lies inside the range, working days being those of
//!   the production calendar ([`crate::workdays`]): public holidays and the days off they move to
//!   are skipped (the week of Monday 6 November 2023 meets on Tuesday the 7th; the first week of
//!   January 2024 has none), a Saturday made a working day by a transfer counts (Saturday
//!   1 November 2025 is the first working day of its month). In a year the calendar does not
//!   cover, Monday–Friday stand in for working days and the year is listed in
//!   [`Expansion::uncovered_years`] (the lint's `working-days-uncovered`): never a silent guess.
//!   - daily: every working day;
//!   - weekly: each ISO week (Monday–Sunday), so the Monday of a full week;
//!   - monthly, quarterly (calendar quarters), yearly: the calendar month, quarter, year;
//!   - "1 раз в N месяцев": blocks of N months counted from the first month of the range;
//!   - "каждая N-я неделя месяца": the week starting on the N-th Monday of the month (no
//!     occurrence in a month without one); "последняя неделя": the last Monday;
//!   - "N раз в неделю / месяц / год": the period split into N equal parts, one occurrence each;
//!   - months named next to a recurrence restrict it ("Сентябрь – май, еженедельно": weeks of
//!     September to May only); for a yearly recurrence each run of consecutive named months is
//!     one period ("Ежегодно, декабрь, апрель": twice a year; "Ежегодно, ноябрь – апрель": once
//!     per season).
//! - **Dates and deadlines** ("15.11.2023", "до 15.09.2023") are one occurrence on that day;
//!   a **window** ("октябрь – декабрь 2023 г.") is one occurrence from its first to its last day;
//!   "с февраля 2024" is one occurrence on the first day.
//! - **A day named within each period** (`Recurrence::day`):
//!   - "до 25 числа каждого месяца": the 25th of every month of the range (a deadline when the
//!     text says "до"); a day beyond the month's end is its last day ("до 31 числа" in February);
//!   - "ежеквартально, до 5 числа месяца, следующего за отчетным": the 5th of the month after
//!     each quarter (also for months, half-years, years), for every quarter overlapping the
//!     range, so the report on the range's last quarter may fall after the range;
//!   - "ежегодно, до 1 сентября": 1 September of each year of the range;
//!   - "каждая вторая среда месяца": the second Wednesday of each month (the last with `n: 0`);
//!   - "по вторникам и четвергам": every such weekday of the range.
//!
//!   These dates are as written: a 25th falling on a Sunday stays the 25th.
//! - **No occurrences**, listed in [`Expansion::undated`] with the reason: continuous work
//!   ("постоянно", "в течение года"), dates set by another document ("по плану курсовой
//!   подготовки", "по графику ФЦТ"), a deadline relative to an event the plan does not date
//!   ("не позднее 10 дней после получения результатов ЕГЭ": [`relative_due`] gives the day once
//!   the event's date is known), on demand ("по мере необходимости"), school terms and
//!   holidays ("3 четверть", "по итогам каждой четверти": each school's calendar sets them),
//!   months whose year the plan period cannot decide, a recurrence with no range and no plan
//!   period, and text the parser did not understand. `Undated::reason` keeps its original five
//!   values for existing consumers (relative, on-demand and school-calendar items are
//!   `External`: their dates come from outside the plan); `Undated::cause` says precisely.
//!
//! **Bounds.** A recurrence repeats over at most [`MAX_RECURRENCE_YEARS`] years from the start
//! of its range, and only between the years 1000 and 9999: a longer or stranger range (a plan
//! "на 1000–9999 годы") is cut there and [`Expansion::truncated`] says so. So an expansion has at
//! most about 7,300 occurrences per recurrence written, whatever the text; every occurrence of a
//! recurrence lies inside its (bounded) range, except the days "of the month following" each
//! period, which fall at most a year and a month after it.
//!
//! Dated items are kept as written even outside the plan period (the lint reports those).
//! Two items falling on the same day are one occurrence: an occurrence is identified by its
//! measure and its date. School vacations are not known here: a weekly practicum in the autumn
//! holidays is an occurrence that is reported as not held.

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::schedule::{DateRange, Frequency, Offset, OffsetUnit, RecurrenceDay, Schedule, ScheduleItem, Term};

// Where an occurrence comes from. With the `graphql` feature, also the plans subgraph's GraphQL
// enum of the same name (plain comments: doc comments would become its API description).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum OccurrenceKind {
    /// One repetition of a recurrence ("еженедельно").
    Recurring,
    /// An exact date.
    Date,
    /// A deadline ("до 15.09.2023").
    Deadline,
    /// A window of several days ("октябрь – декабрь 2023 г."), from `date` to `endDate`.
    Window,
    /// A start ("с февраля 2024").
    Start,
}

/// One dated occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    pub date: NaiveDate,
    /// Last day, for windows.
    pub end: Option<NaiveDate>,
    pub kind: OccurrenceKind,
}

impl Occurrence {
    /// Last day the occurrence covers.
    pub fn last_day(&self) -> NaiveDate {
        self.end.unwrap_or(self.date)
    }
}

/// Why a schedule item has no dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UndatedReason {
    /// "постоянно", "в течение года": ongoing work, not dated events.
    Continuous,
    /// Dates set by another document ("по плану курсовой подготовки").
    External,
    /// Months named without a year that the plan period cannot decide.
    NoYear,
    /// A recurrence with neither a range of its own nor a plan period.
    NoPeriod,
    /// Text the parser did not understand.
    Unparsed,
}

/// Why part of a schedule has no dated occurrences.
// Precisely: finer than [`UndatedReason`]. With the `graphql` feature, also the plans subgraph's
// GraphQL enum `UndatedReason`: one definition for the parser and the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum), graphql(name = "UndatedReason"))]
pub enum UndatedCause {
    /// Ongoing work ("постоянно", "в течение года"), not dated events.
    Continuous,
    /// Dates set by another document or body ("по плану курсовой подготовки", "по графику ФЦТ").
    External,
    /// A deadline relative to an event the plan does not date ("не позднее 10 дней после
    /// получения результатов ЕГЭ", "после утверждения плана").
    RelativeToEvent,
    /// "по мере необходимости", "по запросу".
    OnDemand,
    /// A school term or holidays ("в период осенних каникул", "3 четверть"): the school's
    /// calendar sets the dates.
    SchoolCalendar,
    /// Months named without a year that the plan period cannot decide.
    NoYear,
    /// A recurrence with neither a range of its own nor a plan period.
    NoPeriod,
    /// Text the parser did not understand.
    Unparsed,
    /// The measure was entered by hand: its schedule is text only.
    // Said by the hub, never by `expand`, which needs a parsed schedule.
    NotStructured,
}

impl UndatedCause {
    /// The coarse reason existing consumers know.
    pub fn reason(self) -> UndatedReason {
        match self {
            UndatedCause::Continuous => UndatedReason::Continuous,
            UndatedCause::External
            | UndatedCause::RelativeToEvent
            | UndatedCause::OnDemand
            | UndatedCause::SchoolCalendar => UndatedReason::External,
            UndatedCause::NoYear => UndatedReason::NoYear,
            UndatedCause::NoPeriod => UndatedReason::NoPeriod,
            UndatedCause::Unparsed | UndatedCause::NotStructured => UndatedReason::Unparsed,
        }
    }
}

/// A schedule item that yields no occurrence, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undated {
    pub reason: UndatedReason,
    /// The reference or text concerned, when there is one.
    pub detail: Option<String>,
    /// The precise cause; `reason` is `cause.reason()`.
    pub cause: UndatedCause,
}

fn undated(cause: UndatedCause, detail: Option<String>) -> Undated {
    Undated {
        reason: cause.reason(),
        detail,
        cause,
    }
}

/// The due day of a relative deadline ("не позднее 10 дней после …", "в течение 5 рабочих
/// дней с момента …") once the event's date is known; working days by the production
/// calendar ([`crate::workdays`]), `None` outside the years it covers or for other items.
pub fn relative_due(item: &ScheduleItem, event: NaiveDate) -> Option<NaiveDate> {
    let ScheduleItem::Relative { offset, before, .. } = item else {
        return None;
    };
    let Some(Offset { amount, unit }) = offset else {
        return Some(event);
    };
    let days = |n: u32| Days::new(u64::from(n));
    match (unit, before) {
        (OffsetUnit::Days, false) => event.checked_add_days(days(*amount)),
        (OffsetUnit::Days, true) => event.checked_sub_days(days(*amount)),
        (OffsetUnit::Weeks, false) => event.checked_add_days(days(amount.checked_mul(7)?)),
        (OffsetUnit::Weeks, true) => event.checked_sub_days(days(amount.checked_mul(7)?)),
        (OffsetUnit::Months, false) => event.checked_add_months(Months::new(*amount)),
        (OffsetUnit::Months, true) => event.checked_sub_months(Months::new(*amount)),
        (OffsetUnit::WorkingDays, false) => crate::workdays::add_working_days(event, *amount),
        (OffsetUnit::WorkingDays, true) => {
            let mut d = event;
            let mut left = *amount;
            while left > 0 {
                d = d.pred_opt()?;
                if crate::workdays::is_working_day(d)? {
                    left -= 1;
                }
            }
            Some(d)
        }
    }
}

/// The occurrences of a schedule, in date order, and the items without dates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expansion {
    pub occurrences: Vec<Occurrence>,
    pub undated: Vec<Undated>,
    /// Years in which repetitions were placed on working days the production calendar does not
    /// cover (Monday–Friday stood in), in order: doubtful dates, flagged for a person.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncovered_years: Vec<i32>,
    /// A recurrence's range was longer than [`MAX_RECURRENCE_YEARS`] or outside the years
    /// 1000–9999 and was cut (module docs, "Bounds").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// The longest a recurrence is expanded over, from the start of its range.
pub const MAX_RECURRENCE_YEARS: u32 = 20;

/// `range` cut to [`MAX_RECURRENCE_YEARS`] years within the years 1000–9999, and whether it was
/// cut; `None` when nothing of it is left.
pub fn bounded(range: DateRange) -> (Option<DateRange>, bool) {
    let (Some(first), Some(last)) = (ymd(1000, 1, 1), ymd(9999, 12, 31)) else {
        return (None, true);
    };
    let start = range.start.max(first);
    let limit = start
        .checked_add_months(Months::new(12 * MAX_RECURRENCE_YEARS))
        .and_then(|d| d.pred_opt())
        .unwrap_or(last)
        .min(last);
    let end = range.end.min(limit);
    let cut = start != range.start || end != range.end;
    (
        (start <= end).then_some(DateRange { start, end }),
        cut && range.start <= range.end,
    )
}

impl Expansion {
    /// The occurrence on `date`, if any.
    pub fn on(&self, date: NaiveDate) -> Option<&Occurrence> {
        self.occurrences
            .binary_search_by_key(&date, |o| o.date)
            .ok()
            .map(|i| &self.occurrences[i])
    }

    /// Occurrences overlapping `from..=to` (either bound open).
    pub fn between(&self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> impl Iterator<Item = &Occurrence> {
        self.occurrences
            .iter()
            .filter(move |o| from.is_none_or(|f| o.last_day() >= f) && to.is_none_or(|t| o.date <= t))
    }
}

/// Expands `schedule` into dated occurrences (rules in the module docs); `period` is the plan
/// period, the range of recurrences that name none.
pub fn expand(schedule: &Schedule, period: Option<DateRange>) -> Expansion {
    let mut out = Expansion::default();
    for item in &schedule.items {
        match item {
            ScheduleItem::Recurrence {
                every: Frequency::EveryTerm,
                ..
            } => out
                .undated
                .push(undated(UndatedCause::SchoolCalendar, Some("1 раз в четверть".into()))),
            ScheduleItem::Recurrence {
                every,
                months,
                within,
                day,
            } => match within.or(period).map(bounded) {
                Some((range, cut)) => {
                    out.truncated |= cut;
                    let Some(range) = range else { continue };
                    match day {
                        Some(day) => out.occurrences.extend(on_days(*every, months, day, range)),
                        None => {
                            let placed = recurrence(*every, months, range);
                            out.uncovered_years.extend(
                                placed
                                    .iter()
                                    .map(|o| o.date.year())
                                    .filter(|y| crate::workdays::year_status(*y).is_none()),
                            );
                            out.occurrences.extend(placed);
                        }
                    }
                }
                None => out.undated.push(undated(UndatedCause::NoPeriod, None)),
            },
            ScheduleItem::On { date } => out.occurrences.push(single(*date, None, OccurrenceKind::Date)),
            ScheduleItem::Deadline { by } => out.occurrences.push(single(*by, None, OccurrenceKind::Deadline)),
            ScheduleItem::Window { start, end, .. } => {
                let end = (end > start).then_some(*end);
                out.occurrences.push(single(*start, end, OccurrenceKind::Window));
            }
            ScheduleItem::Starting { from } => out.occurrences.push(single(*from, None, OccurrenceKind::Start)),
            ScheduleItem::Continuous { .. } => out.undated.push(undated(UndatedCause::Continuous, None)),
            ScheduleItem::External { reference, .. } => out
                .undated
                .push(undated(UndatedCause::External, Some(reference.clone()))),
            ScheduleItem::Relative { event, .. } => out
                .undated
                .push(undated(UndatedCause::RelativeToEvent, Some(event.clone()))),
            ScheduleItem::OnDemand { text } => out.undated.push(undated(UndatedCause::OnDemand, Some(text.clone()))),
            ScheduleItem::SchoolTerm { term, school_year } => out.undated.push(undated(
                UndatedCause::SchoolCalendar,
                Some(describe_term(*term, *school_year)),
            )),
            ScheduleItem::Months { months } => out.undated.push(undated(
                UndatedCause::NoYear,
                Some(months.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")),
            )),
            ScheduleItem::Unparsed { text } => out.undated.push(undated(UndatedCause::Unparsed, Some(text.clone()))),
        }
    }
    // Stable: of two items on one day, the first written wins.
    out.occurrences.sort_by_key(|o| o.date);
    out.occurrences.dedup_by_key(|o| o.date);
    out.uncovered_years.sort_unstable();
    out.uncovered_years.dedup();
    out
}

fn describe_term(term: Term, school_year: Option<i32>) -> String {
    let t = match term {
        Term::SchoolQuarter(n) => format!("{n} четверть"),
        Term::AutumnHolidays => "осенние каникулы".into(),
        Term::WinterHolidays => "зимние каникулы".into(),
        Term::SpringHolidays => "весенние каникулы".into(),
        Term::SummerHolidays => "летние каникулы".into(),
        Term::Holidays => "каникулы".into(),
    };
    match school_year {
        Some(y) => format!("{t} {y}/{} учебного года", y + 1),
        None => t,
    }
}

/// Last day of the month of `d`.
fn last_of_month(d: NaiveDate) -> NaiveDate {
    months_end(month_start(d), 1)
}

/// `day` of the month starting at `first`, or the month's last day when it has fewer days.
fn day_in_month(first: NaiveDate, day: u32) -> NaiveDate {
    first.with_day(day).unwrap_or_else(|| last_of_month(first))
}

/// Occurrences of a recurrence on the days its text names (rules in the module docs).
fn on_days(every: Frequency, months: &[u32], day: &RecurrenceDay, range: DateRange) -> Vec<Occurrence> {
    let in_months = |d: NaiveDate| months.is_empty() || months.contains(&d.month());
    let in_range = |d: NaiveDate| d >= range.start && d <= range.end;
    let mut out = Vec::new();
    match day {
        RecurrenceDay::DayOfMonth { day, by, following } => {
            let kind = if *by {
                OccurrenceKind::Deadline
            } else {
                OccurrenceKind::Recurring
            };
            let year_start = ymd(range.start.year(), 1, 1).unwrap_or(range.start);
            let quarter_start = ymd(range.start.year(), (range.start.month0() / 3) * 3 + 1, 1).unwrap_or(range.start);
            let blocks = match every {
                Frequency::Quarterly => month_blocks(range, quarter_start, 3),
                Frequency::EveryNMonths(n) => month_blocks(range, range.start, n.max(1)),
                Frequency::Yearly if !following => month_runs(range, months),
                Frequency::Yearly => month_blocks(range, year_start, 12),
                _ => month_blocks(range, range.start, 1),
            };
            for (start, end) in blocks {
                if *following {
                    // The reporting period is `start..=end`; the day falls in the month after it.
                    let Some(next) = end.succ_opt() else { continue };
                    if every == Frequency::Monthly && !in_months(start) {
                        continue;
                    }
                    out.push(single(day_in_month(next, *day), None, kind));
                } else {
                    let d = day_in_month(start, *day);
                    if in_range(d) && in_months(d) {
                        out.push(single(d, None, kind));
                    }
                }
            }
        }
        RecurrenceDay::NthWeekday { n, weekday } => {
            let wd = weekday.to_chrono();
            for (first, last) in month_blocks(range, range.start, 1) {
                let d = if *n == 0 {
                    let back = (7 + last.weekday().num_days_from_monday() - wd.num_days_from_monday()) % 7;
                    Some(last - Days::new(u64::from(back)))
                } else {
                    let fwd = (7 + wd.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
                    let d = first.checked_add_days(Days::new(u64::from(fwd) + 7 * u64::from(n - 1)));
                    d.filter(|d| *d <= last)
                };
                if let Some(d) = d.filter(|d| in_range(*d) && in_months(*d)) {
                    out.push(single(d, None, OccurrenceKind::Recurring));
                }
            }
        }
        RecurrenceDay::Weekdays { days } => {
            let wanted: Vec<Weekday> = days.iter().map(|d| d.to_chrono()).collect();
            for d in range.start.iter_days().take_while(|d| *d <= range.end) {
                if wanted.contains(&d.weekday()) && in_months(d) {
                    out.push(single(d, None, OccurrenceKind::Recurring));
                }
            }
        }
    }
    out
}

fn single(date: NaiveDate, end: Option<NaiveDate>, kind: OccurrenceKind) -> Occurrence {
    Occurrence { date, end, kind }
}

/// A working day of the production calendar; Monday–Friday in years it does not cover (`expand`
/// lists those years).
fn is_working_day(d: NaiveDate) -> bool {
    crate::workdays::is_working_day(d).unwrap_or_else(|| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
}

fn ymd(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// Last day of the `n`-month block starting at `start` (a first of month).
fn months_end(start: NaiveDate, n: u32) -> NaiveDate {
    start
        .checked_add_months(Months::new(n))
        .and_then(|d| d.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

/// Periods (first day, last day) tiling the calendar from the one containing `range.start` to
/// the one containing `range.end`: months of `n` starting at `anchor`.
fn month_blocks(range: DateRange, anchor: NaiveDate, n: u32) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let mut start = month_start(anchor);
    while start <= range.end {
        let end = months_end(start, n);
        if end >= range.start {
            out.push((start, end));
        }
        match start.checked_add_months(Months::new(n)) {
            Some(next) => start = next,
            None => break,
        }
    }
    out
}

fn weeks(range: DateRange) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let mut monday = range.start - Days::new(u64::from(range.start.weekday().num_days_from_monday()));
    while monday <= range.end {
        let sunday = monday + Days::new(6);
        out.push((monday, sunday));
        monday = sunday + Days::new(1);
    }
    out
}

/// The week starting on the `n`-th Monday (0: the last) of each month of `range`.
fn nth_weeks(range: DateRange, n: u32) -> Vec<(NaiveDate, NaiveDate)> {
    month_blocks(range, range.start, 1)
        .into_iter()
        .filter_map(|(first, last)| {
            let first_monday = first + Days::new(u64::from((7 - first.weekday().num_days_from_monday()) % 7));
            let monday = if n == 0 {
                last - Days::new(u64::from(last.weekday().num_days_from_monday()))
            } else {
                first_monday.checked_add_days(Days::new(7 * u64::from(n - 1)))?
            };
            (monday <= last).then(|| (monday, monday + Days::new(6)))
        })
        .collect()
}

/// Runs of consecutive `months` (calendar order, across year ends) within `range`.
fn month_runs(range: DateRange, months: &[u32]) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    let mut open = false;
    for (start, end) in month_blocks(range, range.start, 1) {
        if months.contains(&start.month()) {
            match (open, out.last_mut()) {
                (true, Some(last)) => last.1 = end,
                _ => out.push((start, end)),
            }
            open = true;
        } else {
            open = false;
        }
    }
    out
}

fn recurrence(every: Frequency, months: &[u32], range: DateRange) -> Vec<Occurrence> {
    let year_start = |d: NaiveDate| ymd(d.year(), 1, 1).unwrap_or(d);
    let quarter_start = |d: NaiveDate| ymd(d.year(), (d.month0() / 3) * 3 + 1, 1).unwrap_or(d);
    let (periods, parts) = match every {
        Frequency::Daily => {
            let days = range.start.iter_days().take_while(|d| *d <= range.end);
            (days.map(|d| (d, d)).collect(), 1)
        }
        Frequency::Weekly => (weeks(range), 1),
        Frequency::TimesPerWeek(n) => (weeks(range), n),
        Frequency::Monthly => (month_blocks(range, range.start, 1), 1),
        Frequency::TimesPerMonth(n) => (month_blocks(range, range.start, 1), n),
        Frequency::Quarterly => (month_blocks(range, quarter_start(range.start), 3), 1),
        Frequency::EveryNMonths(n) => (month_blocks(range, range.start, n.max(1)), 1),
        Frequency::NthWeekOfMonth(n) => (nth_weeks(range, n.max(1)), 1),
        Frequency::LastWeekOfMonth => (nth_weeks(range, 0), 1),
        Frequency::Yearly if !months.is_empty() => (month_runs(range, months), 1),
        Frequency::Yearly => (month_blocks(range, year_start(range.start), 12), 1),
        Frequency::TimesPerYear(n) => (month_blocks(range, year_start(range.start), 12), n),
        // School terms have no calendar dates: `expand` lists them as undated.
        Frequency::EveryTerm => (Vec::new(), 1),
    };
    // A yearly recurrence's months made its periods; for the others they filter days.
    let allowed = |d: NaiveDate| months.is_empty() || matches!(every, Frequency::Yearly) || months.contains(&d.month());
    let mut out = Vec::new();
    for (start, end) in periods {
        let days = (end - start).num_days() + 1;
        // More parts than days: one day each, the same as one part per day.
        let parts = i64::from(parts.max(1)).min(days.max(1));
        for part in 0..parts {
            let slot_start = start + chrono::Duration::days(days * part / parts);
            let slot_end = start + chrono::Duration::days(days * (part + 1) / parts - 1);
            let first = slot_start
                .max(range.start)
                .iter_days()
                .take_while(|d| *d <= slot_end.min(range.end))
                .find(|d| is_working_day(*d) && allowed(*d));
            if let Some(date) = first {
                out.push(single(date, None, OccurrenceKind::Recurring));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Period, PeriodKind};
    use crate::schedule::parse_schedule;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn period(start: NaiveDate, end: NaiveDate, kind: PeriodKind) -> Period {
        Period {
            start,
            end,
            kind,
            raw: String::new(),
            line: 1,
            inferred: false,
        }
    }

    fn school_2023() -> Period {
        period(d(2023, 9, 1), d(2024, 8, 31), PeriodKind::SchoolYears)
    }

    fn calendar(y1: i32, y2: i32) -> Period {
        period(d(y1, 1, 1), d(y2, 12, 31), PeriodKind::CalendarYears)
    }

    /// Parses `text` as the importer does and expands it within the same period.
    fn expand_text(text: &str, p: &Period) -> Expansion {
        let schedule = parse_schedule(text, Some(p));
        expand(
            &schedule,
            Some(DateRange {
                start: p.start,
                end: p.end,
            }),
        )
    }

    /// Dates written "2024-01-09 2024-03-01 …".
    fn ds(list: &str) -> Vec<NaiveDate> {
        list.split_whitespace().map(|t| t.parse().unwrap()).collect()
    }

    fn dates(e: &Expansion) -> Vec<NaiveDate> {
        e.occurrences.iter().map(|o| o.date).collect()
    }

    #[test]
    fn weekly_practicums_of_000_iii_1_fall_on_the_first_working_day_of_each_week() {
        // 000 III.1, as the cell is extracted (line break included).
        let e = expand_text("октябрь 2023 г. – март 2024 г.,\nеженедельно", &school_2023());
        // The Mondays of the range, but: Monday 6 November 2023 was a day off (4 November fell
        // on a Saturday), so that week meets on Tuesday 7th; 1–8 January 2024 were the New Year
        // holidays, so the week of 1 January has no working day and that of 8 January meets on
        // Tuesday 9th (Постановление Правительства РФ № 1505 of 2022 and № 1314 of 2023).
        let mondays: Vec<NaiveDate> = d(2023, 10, 2)
            .iter_weeks()
            .take_while(|w| *w <= d(2024, 3, 31))
            .collect();
        assert_eq!(mondays.len(), 26);
        let mut expected: Vec<NaiveDate> = mondays
            .into_iter()
            .filter(|m| ![d(2023, 11, 6), d(2024, 1, 1), d(2024, 1, 8)].contains(m))
            .chain([d(2023, 11, 7), d(2024, 1, 9)])
            .collect();
        expected.sort();
        assert_eq!(expected.len(), 25);
        assert_eq!(dates(&e), expected);
        assert!(
            e.occurrences
                .iter()
                .all(|o| o.kind == OccurrenceKind::Recurring && o.end.is_none())
        );
        assert_eq!(
            e.occurrences
                .iter()
                .filter(|o| o.date.weekday() != Weekday::Mon)
                .count(),
            2
        );
        assert!(e.uncovered_years.is_empty());
        // October 1st 2023 is a Sunday: the week it ends has no working day in the range.
        assert_eq!(e.occurrences[0].date, d(2023, 10, 2));
        assert_eq!(e.occurrences[24].date, d(2024, 3, 25));
        assert!(e.undated.is_empty());
        // 002 3.7, the same measure at the regional level, written differently.
        let e = expand_text(
            "С октября 2023 года по март 2024 года, еженедельно",
            &calendar(2024, 2026),
        );
        assert_eq!(dates(&e), expected);
    }

    #[test]
    fn a_range_starting_mid_week_starts_on_its_first_working_day() {
        let e = expand_text("15.11.2023 - 30.11.2023 еженедельно", &school_2023());
        // Wednesday 15th, then the Mondays 20th and 27th.
        assert_eq!(dates(&e), ds("2023-11-15 2023-11-20 2023-11-27"));
    }

    #[test]
    fn every_third_week_of_the_month_is_the_third_monday() {
        // 000 III.2.
        let e = expand_text(
            "октябрь 2023 г. – март 2024 г., ежемесячно (каждая третья неделя месяца)",
            &school_2023(),
        );
        assert_eq!(
            dates(&e),
            ds("2023-10-16 2023-11-20 2023-12-18 2024-01-15 2024-02-19 2024-03-18")
        );
        // 000 III.3: "каждая четвертая неделя".
        let e = expand_text(
            "октябрь 2023 г. –март 2024 г.,\nежемесячно (каждая четвертая неделя \nмесяца)",
            &school_2023(),
        );
        assert_eq!(dates(&e)[0], d(2023, 10, 23));
        assert_eq!(dates(&e).len(), 6);
        // 000 II.8: "вторая неделя".
        let e = expand_text("октябрь 2023 г. – март 2024 г.,          вторая неделя", &school_2023());
        assert_eq!(dates(&e)[..2], [d(2023, 10, 9), d(2023, 11, 13)]);
    }

    #[test]
    fn monthly_falls_on_the_first_working_day_of_each_month() {
        // 000 II.7.
        let e = expand_text("октябрь 2023 г. – март 2024 г. ежемесячно", &school_2023());
        assert_eq!(
            dates(&e),
            // 2 October: the 1st is a Sunday; 9 January: 1–8 January are the New Year holidays.
            ds("2023-10-02 2023-11-01 2023-12-01 2024-01-09 2024-02-01 2024-03-01")
        );
    }

    #[test]
    fn every_two_months_and_quarterly_within_the_plan_period() {
        // 004: "1 раз в 2 месяца" in a calendar-2024 plan.
        let e = expand_text("1 раз в 2 месяца", &calendar(2024, 2024));
        assert_eq!(
            dates(&e),
            // 9 January after the New Year holidays, 2 May after 1 May (Праздник Весны и Труда).
            ds("2024-01-09 2024-03-01 2024-05-02 2024-07-01 2024-09-02 2024-11-01")
        );
        // 004 point 6: quarterly from February; the first quarter is already under way.
        let e = expand_text("С февраля 2024 С ежеквартальным отчётом", &calendar(2024, 2024));
        assert_eq!(dates(&e), ds("2024-02-01 2024-04-01 2024-07-01 2024-10-01"));
    }

    #[test]
    fn yearly_with_named_months_is_once_per_run_of_months() {
        let p = calendar(2024, 2026);
        // 002: "Ежегодно, декабрь, апрель": twice a year.
        let e = expand_text("Ежегодно, декабрь, апрель", &p);
        assert_eq!(
            dates(&e),
            ds("2024-04-01 2024-12-02 2025-04-01 2025-12-01 2026-04-01 2026-12-01")
        );
        // Once per season from November to April: 9 January 2024 after the New Year holidays;
        // Saturday 1 November 2025 was a working day (transfer to 3 November), so it counts.
        let e = expand_text("Ежегодно, ноябрь – апрель", &p);
        assert_eq!(dates(&e), ds("2024-01-09 2024-11-01 2025-11-01 2026-11-02"));
        assert_eq!(e.occurrences[2].date.weekday(), Weekday::Sat);
        // Named months restrict a weekly recurrence: no weeks in summer.
        let e = expand_text("Сентябрь – май, еженедельно", &p);
        assert!(dates(&e).iter().all(|d| !(6..=8).contains(&d.month())));
        assert_eq!(dates(&e).first(), Some(&d(2024, 1, 9)), "after the New Year holidays");
        assert!(dates(&e).contains(&d(2024, 9, 2)));
    }

    #[test]
    fn times_per_period_split_the_period() {
        // Two weeks without holidays.
        let range = DateRange {
            start: d(2024, 2, 5),
            end: d(2024, 2, 18),
        };
        let got: Vec<NaiveDate> = recurrence(Frequency::TimesPerWeek(2), &[], range)
            .iter()
            .map(|o| o.date)
            .collect();
        // Monday–Wednesday and Thursday–Sunday halves of each week.
        assert_eq!(got, ds("2024-02-05 2024-02-08 2024-02-12 2024-02-15"));
        let daily = recurrence(Frequency::Daily, &[], range);
        assert_eq!(daily.len(), 10, "working days only");
        let last = recurrence(
            Frequency::LastWeekOfMonth,
            &[],
            DateRange {
                start: d(2024, 1, 1),
                end: d(2024, 3, 31),
            },
        );
        let got: Vec<NaiveDate> = last.iter().map(|o| o.date).collect();
        assert_eq!(got, ds("2024-01-29 2024-02-26 2024-03-25"));
    }

    #[test]
    fn working_days_are_those_of_the_production_calendar() {
        let p = calendar(2024, 2024);
        // Daily over the May holidays of 2024: Saturday 27 April was worked, 29 April – 1 May
        // were off.
        let e = expand_text("22.04.2024 – 03.05.2024, ежедневно", &p);
        assert_eq!(
            dates(&e),
            ds("2024-04-22 2024-04-23 2024-04-24 2024-04-25 2024-04-26 2024-04-27 2024-05-02 2024-05-03")
        );
        // Weekly: Monday 4 November 2024 (Day of National Unity) is skipped, the week meets on
        // Tuesday; a fortnight later, Monday again.
        let e = expand_text("04.11.2024 – 17.11.2024, еженедельно", &p);
        assert_eq!(dates(&e), vec![d(2024, 11, 5), d(2024, 11, 11)]);
        assert!(e.uncovered_years.is_empty());
    }

    #[test]
    fn years_the_calendar_does_not_cover_are_flagged_not_guessed_silently() {
        // 2028 is beyond the committed calendar: Monday–Friday stand in, and the year is listed.
        let e = expand_text("03.01.2028 – 31.01.2028, еженедельно", &calendar(2028, 2028));
        assert_eq!(dates(&e), ds("2028-01-03 2028-01-10 2028-01-17 2028-01-24 2028-01-31"));
        assert_eq!(e.uncovered_years, vec![2028]);
        // A range across the edge lists only the uncovered year.
        let e = expand_text("декабрь 2027 г. – январь 2028 г., ежемесячно", &calendar(2027, 2028));
        assert_eq!(dates(&e), vec![d(2027, 12, 1), d(2028, 1, 3)]);
        assert_eq!(e.uncovered_years, vec![2028]);
        // Dates as written need no calendar.
        let e = expand_text("до 25 числа каждого месяца", &calendar(2030, 2030));
        assert_eq!(e.occurrences.len(), 12);
        assert!(e.uncovered_years.is_empty());
    }

    #[test]
    fn deadlines_dates_windows_and_starts_are_single_occurrences() {
        let p = school_2023();
        let e = expand_text("до 15.09.2023", &p);
        assert_eq!(
            e.occurrences,
            vec![Occurrence {
                date: d(2023, 9, 15),
                end: None,
                kind: OccurrenceKind::Deadline
            }]
        );
        let e = expand_text("30.10.2023 26.04.2024", &p);
        assert_eq!(dates(&e), vec![d(2023, 10, 30), d(2024, 4, 26)]);
        assert!(e.occurrences.iter().all(|o| o.kind == OccurrenceKind::Date));
        let e = expand_text("30.11.2023 - 31.01.2024 01.03.2024 – 15.04.2024", &p);
        assert_eq!(
            e.occurrences,
            vec![
                Occurrence {
                    date: d(2023, 11, 30),
                    end: Some(d(2024, 1, 31)),
                    kind: OccurrenceKind::Window
                },
                Occurrence {
                    date: d(2024, 3, 1),
                    end: Some(d(2024, 4, 15)),
                    kind: OccurrenceKind::Window
                },
            ]
        );
        let e = expand_text("С февраля 2024", &calendar(2024, 2024));
        assert_eq!(e.occurrences[0].kind, OccurrenceKind::Start);
        assert_eq!(e.occurrences[0].date, d(2024, 2, 1));
        // Two items on one day are one occurrence.
        let both = Schedule {
            raw: String::new(),
            items: vec![
                ScheduleItem::On { date: d(2023, 11, 15) },
                ScheduleItem::Deadline { by: d(2023, 11, 15) },
            ],
            kind: crate::schedule::ScheduleKind::Mixed,
            leftover: None,
        };
        let e = expand(&both, None);
        assert_eq!(e.occurrences.len(), 1);
        assert_eq!(e.occurrences[0].kind, OccurrenceKind::Date);
    }

    #[test]
    fn continuous_external_and_undecidable_items_yield_none_and_say_why() {
        let p = school_2023();
        let e = expand_text("постоянно", &p);
        assert!(e.occurrences.is_empty());
        assert_eq!(e.undated[0].reason, UndatedReason::Continuous);
        let e = expand_text("По плану курсовой подготовки", &p);
        assert!(e.occurrences.is_empty());
        assert_eq!(
            e.undated,
            vec![Undated {
                reason: UndatedReason::External,
                detail: Some("По плану курсовой подготовки".into()),
                cause: UndatedCause::External,
            }]
        );
        let e = expand_text("Январь-декабрь 2023 По плану ККИПК", &calendar(2023, 2023));
        assert_eq!(e.occurrences.len(), 1);
        assert_eq!(e.undated[0].reason, UndatedReason::External);
        let e = expand_text("Февраль", &calendar(2024, 2026));
        assert_eq!(e.undated[0].reason, UndatedReason::NoYear);
        let e = expand_text("когда получится", &p);
        assert_eq!(e.undated[0].reason, UndatedReason::Unparsed);
        let e = expand(&parse_schedule("еженедельно", None), None);
        assert_eq!(e.undated[0].reason, UndatedReason::NoPeriod);
        assert!(e.occurrences.is_empty());
    }

    #[test]
    fn lookups_by_day_and_range() {
        let e = expand_text("октябрь 2023 г. – март 2024 г. еженедельно", &school_2023());
        assert!(e.on(d(2023, 10, 9)).is_some());
        assert!(e.on(d(2023, 10, 10)).is_none());
        let got: Vec<NaiveDate> = e
            .between(Some(d(2023, 10, 3)), Some(d(2023, 10, 23)))
            .map(|o| o.date)
            .collect();
        assert_eq!(got, ds("2023-10-09 2023-10-16 2023-10-23"));
        let windows = expand_text("октябрь – \nдекабрь 2023 г.", &school_2023());
        // A window overlapping the range counts even though it starts before it.
        assert_eq!(windows.between(Some(d(2023, 11, 1)), None).count(), 1);
    }

    #[test]
    fn days_of_the_month_named_by_the_text() {
        let p = calendar(2024, 2024);
        // "до 25 числа каждого месяца": a deadline on every 25th, weekends included.
        let e = expand_text("до 25 числа каждого месяца", &p);
        assert_eq!(e.occurrences.len(), 12);
        assert_eq!(e.occurrences[0], single(d(2024, 1, 25), None, OccurrenceKind::Deadline));
        assert_eq!(e.occurrences[1].date, d(2024, 2, 25), "a Sunday stays the 25th");
        // "до 31 числа": the last day of shorter months.
        let e = expand_text("ежемесячно, до 31 числа", &p);
        assert_eq!(
            dates(&e)[..4],
            [d(2024, 1, 31), d(2024, 2, 29), d(2024, 3, 31), d(2024, 4, 30)]
        );
        // Quarterly, the 5th of the month after each quarter: the fourth report falls in 2025.
        let e = expand_text("ежеквартально, до 5 числа месяца, следующего за отчетным", &p);
        assert_eq!(dates(&e), ds("2024-04-05 2024-07-05 2024-10-05 2025-01-05"));
        assert!(e.occurrences.iter().all(|o| o.kind == OccurrenceKind::Deadline));
        // Yearly, by 1 September, in a three-year plan.
        let e = expand_text("ежегодно, до 1 сентября", &calendar(2024, 2026));
        assert_eq!(dates(&e), ds("2024-09-01 2025-09-01 2026-09-01"));
        // "сентябрь 2024, далее ежегодно": each September from 2024.
        let e = expand_text("сентябрь 2024, далее ежегодно", &calendar(2024, 2026));
        assert_eq!(dates(&e), ds("2024-09-02 2025-09-01 2026-09-01"));
        // "август – сентябрь" takes its year from the plan period: one window.
        let e = expand_text("август – сентябрь", &p);
        assert_eq!(
            e.occurrences,
            vec![single(d(2024, 8, 1), Some(d(2024, 9, 30)), OccurrenceKind::Window)]
        );
    }

    #[test]
    fn weekdays_named_by_the_text() {
        let p = calendar(2024, 2024);
        // "каждая вторая среда месяца".
        let e = expand_text("каждая вторая среда месяца", &p);
        assert_eq!(dates(&e)[..3], [d(2024, 1, 10), d(2024, 2, 14), d(2024, 3, 13)]);
        assert_eq!(e.occurrences.len(), 12);
        assert!(e.occurrences.iter().all(|o| o.date.weekday() == Weekday::Wed));
        // "последняя пятница месяца".
        let e = expand_text("последняя пятница месяца", &p);
        assert_eq!(dates(&e)[..2], [d(2024, 1, 26), d(2024, 2, 23)]);
        // "по вторникам и четвергам" within a range of its own.
        let e = expand_text("01.04.2024 – 14.04.2024, по вторникам и четвергам", &p);
        assert_eq!(dates(&e), ds("2024-04-02 2024-04-04 2024-04-09 2024-04-11"));
    }

    #[test]
    fn relative_external_on_demand_and_terms_are_undated_with_their_cause() {
        let p = calendar(2024, 2024);
        let cause = |text: &str| {
            let e = expand_text(text, &p);
            assert!(e.occurrences.is_empty(), "{text}");
            e.undated
                .iter()
                .map(|u| (u.cause, u.reason, u.detail.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            cause("не позднее 10 дней после получения результатов ЕГЭ"),
            vec![(
                UndatedCause::RelativeToEvent,
                UndatedReason::External,
                Some("получения результатов ЕГЭ".into())
            )]
        );
        assert_eq!(
            cause("по графику ФЦТ"),
            vec![(
                UndatedCause::External,
                UndatedReason::External,
                Some("по графику ФЦТ".into())
            )]
        );
        assert_eq!(
            cause("в соответствии с графиком Минпросвещения")[0].0,
            UndatedCause::External
        );
        assert_eq!(
            cause("по мере необходимости"),
            vec![(
                UndatedCause::OnDemand,
                UndatedReason::External,
                Some("по мере необходимости".into())
            )]
        );
        assert_eq!(
            cause("3 четверть"),
            vec![(
                UndatedCause::SchoolCalendar,
                UndatedReason::External,
                Some("3 четверть 2023/2024 учебного года".into())
            )]
        );
        assert_eq!(cause("по итогам каждой четверти")[0].0, UndatedCause::SchoolCalendar);
    }

    #[test]
    fn relative_deadlines_fall_due_once_the_event_is_dated() {
        let p = calendar(2024, 2024);
        let item = |text: &str| parse_schedule(text, Some(&p)).items.remove(0);
        // 10 calendar days after results published on Friday 26 April 2024.
        let ege = item("не позднее 10 дней после получения результатов ЕГЭ");
        assert_eq!(relative_due(&ege, d(2024, 4, 26)), Some(d(2024, 5, 6)));
        // 5 working days from Friday 26 April 2024: Saturday 27 April was worked, 29 April –
        // 1 May were off: 27.04, 2.05, 3.05, 6.05, 7.05.
        let five = item("в течение 5 рабочих дней с момента получения запроса");
        assert_eq!(relative_due(&five, d(2024, 4, 26)), Some(d(2024, 5, 7)));
        // 10 days before the start of the exams.
        let before = item("за 10 дней до начала ГИА");
        assert_eq!(relative_due(&before, d(2024, 5, 23)), Some(d(2024, 5, 13)));
        let approval = item("после утверждения плана");
        assert_eq!(relative_due(&approval, d(2024, 3, 21)), Some(d(2024, 3, 21)));
        assert_eq!(
            relative_due(&ScheduleItem::On { date: d(2024, 1, 9) }, d(2024, 1, 1)),
            None
        );
    }
}
