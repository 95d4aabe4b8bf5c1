//! The phrase corpus: deadline phrases and responsible-party phrases in the forms Russian
//! regional, municipal and school roadmaps use, each with its expected structure.
//!
//! Every phrase is tagged `Seed(file)` (quoted exactly from that seed; the test checks the
//! seed contains it, whitespace aside) or `Composed`. The test asserts the parse exactly:
//! items *and* `leftover`. A phrase ends either fully structured (`leftover: None`, not
//! `Unparsed`) or flagged for a person (`Schedule::needs_review`); the expected structure of a
//! flagged phrase is asserted too, so nothing it keeps may contradict its words.

use chrono::NaiveDate;
use roadmap_import::model::{KnownCategory, PartyKind, Period, PeriodKind};
use roadmap_import::parties::{PartyFlag, party_flags};
use roadmap_import::{
    Abbreviation, AbbreviationSource, DateRange, Frequency, Offset, OffsetUnit, RecurrenceDay, ScheduleItem, Term,
    Weekday, parse_schedule, split_responsible,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Quoted from the seed whose file name starts with this prefix.
    Seed(&'static str),
    Composed,
}
use Source::{Composed, Seed};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cat {
    Quarter,
    HalfYear,
    SchoolTerm,
    Weekday,
    DayOfMonth,
    Relative,
    ApprovalDependent,
    RangeWithoutYear,
    Continuation,
    External,
    OnDemand,
    Recurrence,
    DateOrDeadline,
    MonthWindow,
    Continuous,
}
use Cat::*;

/// The plan period a phrase is read in.
#[derive(Debug, Clone, Copy)]
enum P {
    /// 2023/2024 school year (seeds 000, 003).
    S23,
    /// Calendar 2023 (seed 001).
    C23,
    /// Calendar 2024 (seed 004).
    C24,
    /// 2024–2026 (seed 002).
    C2426,
    None,
}

impl P {
    fn period(self) -> Option<Period> {
        let (s, e, kind) = match self {
            P::S23 => ((2023, 9, 1), (2024, 8, 31), PeriodKind::SchoolYears),
            P::C23 => ((2023, 1, 1), (2023, 12, 31), PeriodKind::CalendarYears),
            P::C24 => ((2024, 1, 1), (2024, 12, 31), PeriodKind::CalendarYears),
            P::C2426 => ((2024, 1, 1), (2026, 12, 31), PeriodKind::CalendarYears),
            P::None => return None,
        };
        Some(Period {
            start: NaiveDate::from_ymd_opt(s.0, s.1, s.2).unwrap(),
            end: NaiveDate::from_ymd_opt(e.0, e.1, e.2).unwrap(),
            kind,
            raw: String::new(),
            line: 1,
            inferred: false,
        })
    }
}

struct Case {
    phrase: &'static str,
    source: Source,
    cat: Cat,
    period: P,
    items: Vec<ScheduleItem>,
    /// `Some`: the phrase must end flagged, with exactly these unused words.
    leftover: Option<&'static str>,
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}
fn range(s: &str, e: &str) -> Option<DateRange> {
    Some(DateRange {
        start: date(s),
        end: date(e),
    })
}
fn w(s: &str, e: &str) -> ScheduleItem {
    ScheduleItem::Window {
        start: date(s),
        end: date(e),
        year_inferred: false,
    }
}
/// A window whose year came from the plan period.
fn wi(s: &str, e: &str) -> ScheduleItem {
    ScheduleItem::Window {
        start: date(s),
        end: date(e),
        year_inferred: true,
    }
}
fn on(s: &str) -> ScheduleItem {
    ScheduleItem::On { date: date(s) }
}
fn by(s: &str) -> ScheduleItem {
    ScheduleItem::Deadline { by: date(s) }
}
fn rec(every: Frequency, months: &[u32], within: Option<DateRange>, day: Option<RecurrenceDay>) -> ScheduleItem {
    ScheduleItem::Recurrence {
        every,
        months: months.to_vec(),
        within,
        day,
    }
}
fn every(f: Frequency) -> ScheduleItem {
    rec(f, &[], None, None)
}
fn dom(day: u32, by: bool, following: bool) -> Option<RecurrenceDay> {
    Some(RecurrenceDay::DayOfMonth { day, by, following })
}
fn nth(n: u32, weekday: Weekday) -> Option<RecurrenceDay> {
    Some(RecurrenceDay::NthWeekday { n, weekday })
}
fn wds(days: &[Weekday]) -> Option<RecurrenceDay> {
    Some(RecurrenceDay::Weekdays { days: days.to_vec() })
}
fn cont(within: Option<DateRange>) -> ScheduleItem {
    ScheduleItem::Continuous { within }
}
fn ext(reference: &str, owner: Option<&str>) -> ScheduleItem {
    ScheduleItem::External {
        reference: reference.into(),
        owner: owner.map(Into::into),
    }
}
fn rel(event: &str, offset: Option<(u32, OffsetUnit)>, before: bool) -> ScheduleItem {
    ScheduleItem::Relative {
        event: event.into(),
        offset: offset.map(|(amount, unit)| Offset { amount, unit }),
        before,
    }
}
fn od(text: &str) -> ScheduleItem {
    ScheduleItem::OnDemand { text: text.into() }
}
fn term(term: Term, school_year: Option<i32>) -> ScheduleItem {
    ScheduleItem::SchoolTerm { term, school_year }
}
fn months(ms: &[u32]) -> ScheduleItem {
    ScheduleItem::Months { months: ms.to_vec() }
}
fn unp(text: &str) -> ScheduleItem {
    ScheduleItem::Unparsed { text: text.into() }
}

fn c(phrase: &'static str, source: Source, cat: Cat, period: P, items: Vec<ScheduleItem>) -> Case {
    Case {
        phrase,
        source,
        cat,
        period,
        items,
        leftover: None,
    }
}
/// A phrase that must end flagged.
fn f(
    phrase: &'static str,
    source: Source,
    cat: Cat,
    period: P,
    items: Vec<ScheduleItem>,
    leftover: &'static str,
) -> Case {
    Case {
        phrase,
        source,
        cat,
        period,
        items,
        leftover: Some(leftover),
    }
}

fn deadline_cases() -> Vec<Case> {
    use Frequency::*;
    use OffsetUnit::*;
    use Weekday::*;
    vec![
        // ---- quarters, in every spelling ----
        c(
            "I квартал",
            Composed,
            Quarter,
            P::S23,
            vec![wi("2024-01-01", "2024-03-31")],
        ),
        c(
            "1 кв. 2024 г.",
            Composed,
            Quarter,
            P::None,
            vec![w("2024-01-01", "2024-03-31")],
        ),
        c(
            "IV квартал 2024 года",
            Composed,
            Quarter,
            P::None,
            vec![w("2024-10-01", "2024-12-31")],
        ),
        c(
            "2 квартал 2025 г.",
            Composed,
            Quarter,
            P::C2426,
            vec![w("2025-04-01", "2025-06-30")],
        ),
        c(
            "II-III квартал 2024 г.",
            Composed,
            Quarter,
            P::None,
            vec![w("2024-04-01", "2024-09-30")],
        ),
        c(
            "III – IV кварталы 2024 года",
            Composed,
            Quarter,
            P::None,
            vec![w("2024-07-01", "2024-12-31")],
        ),
        c(
            "до конца I квартала 2024 г.",
            Composed,
            Quarter,
            P::None,
            vec![by("2024-03-31")],
        ),
        c(
            "до II квартала 2024 года",
            Composed,
            Quarter,
            P::None,
            vec![by("2024-04-01")],
        ),
        c(
            "в течение I квартала 2024 года",
            Composed,
            Quarter,
            P::C2426,
            vec![cont(range("2024-01-01", "2024-03-31"))],
        ),
        c(
            "1-й квартал 2024 года",
            Composed,
            Quarter,
            P::None,
            vec![w("2024-01-01", "2024-03-31")],
        ),
        c(
            "первый квартал 2024 г.",
            Composed,
            Quarter,
            P::None,
            vec![w("2024-01-01", "2024-03-31")],
        ),
        c("4 кв.", Composed, Quarter, P::C24, vec![wi("2024-10-01", "2024-12-31")]),
        c("III квартал", Composed, Quarter, P::C2426, vec![months(&[7, 8, 9])]),
        c("Ежеквартально", Seed("002"), Quarter, P::C2426, vec![every(Quarterly)]),
        c("поквартально", Composed, Quarter, P::C24, vec![every(Quarterly)]),
        f("квартал", Composed, Quarter, P::C24, vec![unp("квартал")], "квартал"),
        // ---- half-years ----
        c(
            "в течение 1 полугодия",
            Composed,
            HalfYear,
            P::S23,
            vec![cont(range("2023-09-01", "2023-12-31"))],
        ),
        c(
            "II полугодие 2024 г.",
            Composed,
            HalfYear,
            P::None,
            vec![w("2024-07-01", "2024-12-31")],
        ),
        // In a school-year plan the halves are the school's: January–May 2024.
        c(
            "II полугодие 2024 г.",
            Composed,
            HalfYear,
            P::S23,
            vec![w("2024-01-01", "2024-05-31")],
        ),
        c(
            "1 полугодие 2024 года",
            Composed,
            HalfYear,
            P::None,
            vec![w("2024-01-01", "2024-06-30")],
        ),
        c(
            "первое полугодие",
            Composed,
            HalfYear,
            P::S23,
            vec![wi("2023-09-01", "2023-12-31")],
        ),
        c(
            "второе полугодие",
            Composed,
            HalfYear,
            P::C24,
            vec![wi("2024-07-01", "2024-12-31")],
        ),
        c(
            "1-е полугодие 2025 г.",
            Composed,
            HalfYear,
            P::C2426,
            vec![w("2025-01-01", "2025-06-30")],
        ),
        c(
            "I-II полугодие 2024 года",
            Composed,
            HalfYear,
            P::None,
            vec![w("2024-01-01", "2024-12-31")],
        ),
        c(
            "II полугодие 2023/2024 учебного года",
            Composed,
            HalfYear,
            P::None,
            vec![w("2024-01-01", "2024-05-31")],
        ),
        c(
            "до конца 1 полугодия 2024 г.",
            Composed,
            HalfYear,
            P::None,
            vec![by("2024-06-30")],
        ),
        c(
            "ежеполугодно",
            Composed,
            HalfYear,
            P::C2426,
            vec![every(EveryNMonths(6))],
        ),
        c(
            "1 раз в полугодие",
            Composed,
            HalfYear,
            P::C24,
            vec![every(EveryNMonths(6))],
        ),
        c(
            "1 раз в полгода (март 2024)",
            Seed("004"),
            HalfYear,
            P::C24,
            vec![every(EveryNMonths(6)), w("2024-03-01", "2024-03-31")],
        ),
        f(
            "в течение полугодия",
            Composed,
            HalfYear,
            P::S23,
            vec![unp("в течение полугодия")],
            "полугодие",
        ),
        // Which half, in a three-year calendar plan? Not the school's September–December.
        f(
            "в течение 1 полугодия",
            Composed,
            HalfYear,
            P::C2426,
            vec![cont(None)],
            "1 полугодие",
        ),
        // ---- school terms and holidays ----
        c(
            "3 четверть",
            Composed,
            SchoolTerm,
            P::S23,
            vec![term(Term::SchoolQuarter(3), Some(2023))],
        ),
        c(
            "II четверть",
            Composed,
            SchoolTerm,
            P::C24,
            vec![term(Term::SchoolQuarter(2), Some(2024))],
        ),
        c(
            "IV четверть",
            Composed,
            SchoolTerm,
            P::C24,
            vec![term(Term::SchoolQuarter(4), Some(2023))],
        ),
        c(
            "первая четверть",
            Composed,
            SchoolTerm,
            P::S23,
            vec![term(Term::SchoolQuarter(1), Some(2023))],
        ),
        c(
            "1 четверть 2024/2025 учебного года",
            Composed,
            SchoolTerm,
            P::C2426,
            vec![term(Term::SchoolQuarter(1), Some(2024))],
        ),
        c(
            "в период осенних каникул",
            Composed,
            SchoolTerm,
            P::S23,
            vec![term(Term::AutumnHolidays, Some(2023))],
        ),
        c(
            "во время зимних каникул",
            Composed,
            SchoolTerm,
            P::S23,
            vec![term(Term::WinterHolidays, Some(2023))],
        ),
        // Winter holidays of a calendar year belong to two school years.
        c(
            "зимние каникулы",
            Composed,
            SchoolTerm,
            P::C24,
            vec![term(Term::WinterHolidays, None)],
        ),
        c(
            "весенние каникулы",
            Composed,
            SchoolTerm,
            P::C24,
            vec![term(Term::SpringHolidays, Some(2023))],
        ),
        c(
            "летние каникулы 2024 года",
            Composed,
            SchoolTerm,
            P::C2426,
            vec![term(Term::SummerHolidays, Some(2023))],
        ),
        c(
            "в каникулы",
            Composed,
            SchoolTerm,
            P::S23,
            vec![term(Term::Holidays, Some(2023))],
        ),
        c(
            "по итогам каждой четверти",
            Composed,
            SchoolTerm,
            P::S23,
            vec![every(EveryTerm)],
        ),
        c("1 раз в четверть", Composed, SchoolTerm, P::S23, vec![every(EveryTerm)]),
        c("ежечетвертно", Composed, SchoolTerm, P::S23, vec![every(EveryTerm)]),
        c("по четвертям", Composed, SchoolTerm, P::S23, vec![every(EveryTerm)]),
        f(
            "в каникулярное время",
            Composed,
            SchoolTerm,
            P::S23,
            vec![unp("в каникулярное время")],
            "каникулярное время",
        ),
        f(
            "Январь, март 2024 года (в каникулярное время)",
            Seed("002"),
            SchoolTerm,
            P::C2426,
            vec![w("2024-01-01", "2024-01-31"), w("2024-03-01", "2024-03-31")],
            "каникулярное время",
        ),
        f(
            "2 раза в четверть",
            Composed,
            SchoolTerm,
            P::S23,
            vec![unp("2 раза в четверть")],
            "раза четверть 2",
        ),
        // ---- weekdays, with a recurrence ----
        c(
            "еженедельно по пятницам",
            Composed,
            Cat::Weekday,
            P::C24,
            vec![rec(Weekly, &[], None, wds(&[Friday]))],
        ),
        c(
            "по вторникам и четвергам",
            Composed,
            Cat::Weekday,
            P::C24,
            vec![rec(Weekly, &[], None, wds(&[Tuesday, Thursday]))],
        ),
        c(
            "каждый понедельник",
            Composed,
            Cat::Weekday,
            P::C24,
            vec![rec(Weekly, &[], None, wds(&[Monday]))],
        ),
        c(
            "каждую среду",
            Composed,
            Cat::Weekday,
            P::C24,
            vec![rec(Weekly, &[], None, wds(&[Wednesday]))],
        ),
        c(
            "еженедельно (среда)",
            Composed,
            Cat::Weekday,
            P::C24,
            vec![rec(Weekly, &[], None, wds(&[Wednesday]))],
        ),
        c(
            "по субботам",
            Composed,
            Cat::Weekday,
            P::C24,
            vec![rec(Weekly, &[], None, wds(&[Saturday]))],
        ),
        c(
            "каждая вторая среда месяца",
            Composed,
            Cat::Weekday,
            P::C24,
            vec![rec(Monthly, &[], None, nth(2, Wednesday))],
        ),
        c(
            "последняя пятница месяца",
            Composed,
            Cat::Weekday,
            P::C24,
            vec![rec(Monthly, &[], None, nth(0, Friday))],
        ),
        c(
            "в первый понедельник каждого месяца",
            Composed,
            Cat::Weekday,
            P::C24,
            vec![rec(Monthly, &[], None, nth(1, Monday))],
        ),
        c(
            "ежемесячно, в третий четверг",
            Composed,
            Cat::Weekday,
            P::C24,
            vec![rec(Monthly, &[], None, nth(3, Thursday))],
        ),
        c(
            "2-й вторник месяца",
            Composed,
            Cat::Weekday,
            P::C24,
            vec![rec(Monthly, &[], None, nth(2, Tuesday))],
        ),
        c(
            "ежегодно, в первую среду сентября",
            Composed,
            Cat::Weekday,
            P::C2426,
            vec![rec(Yearly, &[9], None, nth(1, Wednesday))],
        ),
        c(
            "октябрь 2023 г. – март 2024 г., по средам",
            Composed,
            Cat::Weekday,
            P::S23,
            vec![rec(Weekly, &[], range("2023-10-01", "2024-03-31"), wds(&[Wednesday]))],
        ),
        c(
            "октябрь 2023 г. – март 2024 г., вторая неделя",
            Seed("000"),
            Cat::Weekday,
            P::S23,
            vec![rec(NthWeekOfMonth(2), &[], range("2023-10-01", "2024-03-31"), None)],
        ),
        c(
            "октябрь 2023 г. – март 2024 г., ежемесячно (каждая третья неделя месяца)",
            Seed("000"),
            Cat::Weekday,
            P::S23,
            vec![rec(NthWeekOfMonth(3), &[], range("2023-10-01", "2024-03-31"), None)],
        ),
        // "По средам" does not say which Wednesday of the month.
        f(
            "ежемесячно по средам",
            Composed,
            Cat::Weekday,
            P::C24,
            vec![every(Monthly)],
            "средам по",
        ),
        // ---- days of the month, with a recurrence ----
        c(
            "до 25 числа каждого месяца",
            Composed,
            DayOfMonth,
            P::C24,
            vec![rec(Monthly, &[], None, dom(25, true, false))],
        ),
        c(
            "ежеквартально, до 5 числа месяца, следующего за отчетным",
            Composed,
            DayOfMonth,
            P::C24,
            vec![rec(Quarterly, &[], None, dom(5, true, true))],
        ),
        c(
            "до 5 числа месяца, следующего за отчетным кварталом",
            Composed,
            DayOfMonth,
            P::C24,
            vec![rec(Quarterly, &[], None, dom(5, true, true))],
        ),
        c(
            "ежемесячно до 3 числа месяца, следующего за отчетным",
            Composed,
            DayOfMonth,
            P::C24,
            vec![rec(Monthly, &[], None, dom(3, true, true))],
        ),
        c(
            "ежемесячно, до 10-го числа",
            Composed,
            DayOfMonth,
            P::C24,
            vec![rec(Monthly, &[], None, dom(10, true, false))],
        ),
        c(
            "ежемесячно, 15 числа",
            Composed,
            DayOfMonth,
            P::C24,
            vec![rec(Monthly, &[], None, dom(15, false, false))],
        ),
        c(
            "25 числа каждого месяца",
            Composed,
            DayOfMonth,
            P::C24,
            vec![rec(Monthly, &[], None, dom(25, false, false))],
        ),
        c(
            "ежемесячно, до 31 числа",
            Composed,
            DayOfMonth,
            P::C24,
            vec![rec(Monthly, &[], None, dom(31, true, false))],
        ),
        c(
            "ежегодно, до 1 сентября",
            Composed,
            DayOfMonth,
            P::C2426,
            vec![rec(Yearly, &[9], None, dom(1, true, false))],
        ),
        c(
            "ежегодно 25 мая",
            Composed,
            DayOfMonth,
            P::C2426,
            vec![rec(Yearly, &[5], None, dom(25, false, false))],
        ),
        c(
            "ежегодно, до 20 декабря",
            Composed,
            DayOfMonth,
            P::C2426,
            vec![rec(Yearly, &[12], None, dom(20, true, false))],
        ),
        c(
            "март 2024, до 25 числа",
            Composed,
            DayOfMonth,
            P::None,
            vec![by("2024-03-25")],
        ),
        f(
            "до 25 числа",
            Composed,
            DayOfMonth,
            P::C24,
            vec![unp("до 25 числа")],
            "до 25 числа",
        ),
        f(
            "до 5 числа месяца, следующего за отчетным",
            Composed,
            DayOfMonth,
            P::C24,
            vec![unp("до 5 числа месяца, следующего за отчетным")],
            "до 5 числа месяца, следующего за отчетным",
        ),
        // Which month of the quarter?
        f(
            "ежеквартально, до 25 числа",
            Composed,
            DayOfMonth,
            P::C24,
            vec![every(Quarterly)],
            "до 25 числа",
        ),
        // Two days of the year cannot be one yearly rule.
        f(
            "ежегодно, с 1 сентября по 25 мая",
            Composed,
            DayOfMonth,
            P::C2426,
            vec![rec(Yearly, &[9, 10, 11, 12, 1, 2, 3, 4, 5], None, None)],
            "1.09 – 25.05",
        ),
        // ---- deadlines relative to an event ----
        c(
            "не позднее 10 дней после получения результатов ЕГЭ",
            Composed,
            Relative,
            P::C24,
            vec![rel("получения результатов ЕГЭ", Some((10, Days)), false)],
        ),
        c(
            "в течение 5 рабочих дней с момента получения запроса",
            Composed,
            Relative,
            P::C24,
            vec![rel("получения запроса", Some((5, WorkingDays)), false)],
        ),
        c(
            "за 10 дней до начала ГИА",
            Composed,
            Relative,
            P::C24,
            vec![rel("начала ГИА", Some((10, Days)), true)],
        ),
        c(
            "через 2 недели после проведения диагностики",
            Composed,
            Relative,
            P::C24,
            vec![rel("проведения диагностики", Some((2, Weeks)), false)],
        ),
        c(
            "в течение 3 дней после проведения ВПР",
            Composed,
            Relative,
            P::C24,
            vec![rel("проведения ВПР", Some((3, Days)), false)],
        ),
        c(
            "не позднее 15 рабочих дней со дня получения результатов",
            Composed,
            Relative,
            P::C24,
            vec![rel("получения результатов", Some((15, WorkingDays)), false)],
        ),
        c(
            "в течение двух недель после окончания мониторинга",
            Composed,
            Relative,
            P::C24,
            vec![rel("окончания мониторинга", Some((2, Weeks)), false)],
        ),
        c(
            "за месяц до начала учебного года",
            Composed,
            Relative,
            P::C24,
            vec![rel("начала учебного года", Some((1, Months)), true)],
        ),
        c(
            "по итогам ГИА",
            Seed("001"),
            Relative,
            P::C23,
            vec![rel("ГИА", None, false)],
        ),
        c(
            "по итогам ЕГЭ",
            Seed("000"),
            Relative,
            P::S23,
            vec![rel("ЕГЭ", None, false)],
        ),
        c(
            "по результатам ВПР",
            Composed,
            Relative,
            P::C24,
            vec![rel("ВПР", None, false)],
        ),
        c(
            "после получения результатов ОГЭ",
            Composed,
            Relative,
            P::C24,
            vec![rel("получения результатов ОГЭ", None, false)],
        ),
        c(
            "в течение 10 календарных дней после проведения",
            Composed,
            Relative,
            P::C24,
            vec![rel("проведения", Some((10, Days)), false)],
        ),
        // No event: a time limit from nothing. Not continuous work, not a date: flagged.
        f(
            "в течение 5 рабочих дней с момента ...",
            Composed,
            Relative,
            P::C24,
            vec![unp("в течение 5 рабочих дней с момента ...")],
            "рабочих дней момента 5 с",
        ),
        f(
            "в течение месяца",
            Composed,
            Relative,
            P::C24,
            vec![unp("в течение месяца")],
            "месяца",
        ),
        // "После" a date is not an event; the day is kept only in the flag.
        f(
            "после 15 мая",
            Composed,
            Relative,
            P::C2426,
            vec![unp("после 15 мая")],
            "после 15.05",
        ),
        // ---- approval-dependent ----
        c(
            "после утверждения плана",
            Composed,
            ApprovalDependent,
            P::C24,
            vec![rel("утверждения плана", None, false)],
        ),
        c(
            "в течение месяца после утверждения дорожной карты",
            Composed,
            ApprovalDependent,
            P::C24,
            vec![rel("утверждения дорожной карты", Some((1, Months)), false)],
        ),
        c(
            "после утверждения приказа",
            Composed,
            ApprovalDependent,
            P::C24,
            vec![rel("утверждения приказа", None, false)],
        ),
        c(
            "в течение 10 дней с момента утверждения",
            Composed,
            ApprovalDependent,
            P::C24,
            vec![rel("утверждения", Some((10, Days)), false)],
        ),
        c(
            "с момента подписания приказа",
            Composed,
            ApprovalDependent,
            P::C24,
            vec![rel("подписания приказа", None, false)],
        ),
        c(
            "после согласования с Минобразования",
            Composed,
            ApprovalDependent,
            P::C24,
            vec![rel("согласования с Минобразования", None, false)],
        ),
        c(
            "не позднее 5 рабочих дней после утверждения дорожной карты",
            Composed,
            ApprovalDependent,
            P::C24,
            vec![rel("утверждения дорожной карты", Some((5, WorkingDays)), false)],
        ),
        c(
            "со дня вступления в силу приказа",
            Composed,
            ApprovalDependent,
            P::C24,
            vec![rel("вступления в силу приказа", None, false)],
        ),
        c(
            "после утверждения плана, далее ежегодно",
            Composed,
            ApprovalDependent,
            P::C2426,
            vec![every(Yearly), rel("утверждения плана", None, false)],
        ),
        c(
            "по согласованию с ИРО",
            Composed,
            ApprovalDependent,
            P::C24,
            vec![ext("по согласованию с ИРО", Some("ИРО"))],
        ),
        c(
            "в сроки, утвержденные приказом Минобразования",
            Composed,
            ApprovalDependent,
            P::C24,
            vec![ext(
                "в сроки, утвержденные приказом Минобразования",
                Some("Минобразования"),
            )],
        ),
        f(
            "по мере утверждения",
            Composed,
            ApprovalDependent,
            P::C24,
            vec![unp("по мере утверждения")],
            "мере утверждения по",
        ),
        f(
            "до утверждения плана",
            Composed,
            ApprovalDependent,
            P::C24,
            vec![unp("до утверждения плана")],
            "утверждения плана до",
        ),
        // ---- ranges without a year ----
        c(
            "август – сентябрь",
            Composed,
            RangeWithoutYear,
            P::C24,
            vec![wi("2024-08-01", "2024-09-30")],
        ),
        // A school-year plan: the August before its September (the lint reports it is
        // outside the plan period).
        c(
            "август – сентябрь",
            Composed,
            RangeWithoutYear,
            P::S23,
            vec![wi("2023-08-01", "2023-09-30")],
        ),
        c(
            "август – сентябрь",
            Composed,
            RangeWithoutYear,
            P::C2426,
            vec![months(&[8, 9])],
        ),
        c(
            "октябрь – декабрь",
            Composed,
            RangeWithoutYear,
            P::S23,
            vec![wi("2023-10-01", "2023-12-31")],
        ),
        c(
            "сентябрь – май",
            Composed,
            RangeWithoutYear,
            P::S23,
            vec![wi("2023-09-01", "2024-05-31")],
        ),
        c(
            "январь – март",
            Composed,
            RangeWithoutYear,
            P::C24,
            vec![wi("2024-01-01", "2024-03-31")],
        ),
        c(
            "ноябрь – апрель",
            Composed,
            RangeWithoutYear,
            P::C2426,
            vec![months(&[11, 12, 1, 2, 3, 4])],
        ),
        c(
            "с октября по май",
            Composed,
            RangeWithoutYear,
            P::S23,
            vec![wi("2023-10-01", "2024-05-31")],
        ),
        c(
            "февраль-март",
            Composed,
            RangeWithoutYear,
            P::C23,
            vec![wi("2023-02-01", "2023-03-31")],
        ),
        c(
            "Сентябрь – май, еженедельно",
            Seed("002"),
            RangeWithoutYear,
            P::C2426,
            vec![rec(Weekly, &[9, 10, 11, 12, 1, 2, 3, 4, 5], None, None)],
        ),
        c(
            "Сентябрь – декабрь, ежегодно",
            Seed("002"),
            RangeWithoutYear,
            P::C2426,
            vec![rec(Yearly, &[9, 10, 11, 12], None, None)],
        ),
        c(
            "Ежегодно, ноябрь – апрель",
            Seed("002"),
            RangeWithoutYear,
            P::C2426,
            vec![rec(Yearly, &[11, 12, 1, 2, 3, 4], None, None)],
        ),
        c(
            "Февраль, март",
            Seed("001"),
            RangeWithoutYear,
            P::C23,
            vec![wi("2023-02-01", "2023-02-28"), wi("2023-03-01", "2023-03-31")],
        ),
        f(
            "с сентября",
            Composed,
            RangeWithoutYear,
            P::C2426,
            vec![months(&[9])],
            "с сентябрь",
        ),
        f(
            "до октября",
            Composed,
            RangeWithoutYear,
            P::C2426,
            vec![months(&[10])],
            "до октябрь",
        ),
        // ---- "далее" continuations ----
        c(
            "сентябрь 2024, далее ежегодно",
            Composed,
            Continuation,
            P::C2426,
            vec![rec(Yearly, &[9], range("2024-09-01", "2026-12-31"), None)],
        ),
        c(
            "декабрь 2023, далее – ежеквартально",
            Composed,
            Continuation,
            P::S23,
            vec![rec(Quarterly, &[], range("2023-12-01", "2024-08-31"), None)],
        ),
        c(
            "март 2024 г., далее ежемесячно",
            Composed,
            Continuation,
            P::C24,
            vec![rec(Monthly, &[], range("2024-03-01", "2024-12-31"), None)],
        ),
        c(
            "октябрь 2024 года, далее – постоянно",
            Composed,
            Continuation,
            P::C2426,
            vec![cont(range("2024-10-01", "2026-12-31"))],
        ),
        c(
            "январь 2024, далее по мере необходимости",
            Composed,
            Continuation,
            P::C24,
            vec![w("2024-01-01", "2024-01-31"), od("по мере необходимости")],
        ),
        c(
            "15.09.2024, далее ежегодно",
            Composed,
            Continuation,
            P::C2426,
            vec![rec(
                Yearly,
                &[9],
                range("2024-09-15", "2026-12-31"),
                dom(15, false, false),
            )],
        ),
        c(
            "до 01.10.2024, далее ежегодно",
            Composed,
            Continuation,
            P::C2426,
            vec![rec(
                Yearly,
                &[10],
                range("2024-10-01", "2026-12-31"),
                dom(1, true, false),
            )],
        ),
        c(
            "2024 год, далее ежегодно",
            Composed,
            Continuation,
            P::C2426,
            vec![rec(Yearly, &[], range("2024-01-01", "2026-12-31"), None)],
        ),
        c(
            "ноябрь 2023 г., далее – 1 раз в квартал",
            Composed,
            Continuation,
            P::S23,
            vec![rec(Quarterly, &[], range("2023-11-01", "2024-08-31"), None)],
        ),
        c(
            "с января 2024 г., далее ежегодно",
            Composed,
            Continuation,
            P::C2426,
            vec![rec(Yearly, &[], range("2024-01-01", "2026-12-31"), None)],
        ),
        c(
            "апрель 2024, далее еженедельно по пятницам",
            Composed,
            Continuation,
            P::C24,
            vec![rec(Weekly, &[], range("2024-04-01", "2024-12-31"), wds(&[Friday]))],
        ),
        f(
            "сентябрь 2024, далее",
            Composed,
            Continuation,
            P::C2426,
            vec![w("2024-09-01", "2024-09-30")],
            "далее",
        ),
        // ---- dates set by another body's schedule ----
        c(
            "по графику ФЦТ",
            Composed,
            External,
            P::C24,
            vec![ext("по графику ФЦТ", Some("ФЦТ"))],
        ),
        c(
            "в соответствии с графиком Минпросвещения",
            Composed,
            External,
            P::C24,
            vec![ext("в соответствии с графиком Минпросвещения", Some("Минпросвещения"))],
        ),
        c(
            "по графику Минпросвещения России",
            Composed,
            External,
            P::C24,
            vec![ext("по графику Минпросвещения России", Some("Минпросвещения России"))],
        ),
        c(
            "согласно графику Рособрнадзора",
            Composed,
            External,
            P::C24,
            vec![ext("согласно графику Рособрнадзора", Some("Рособрнадзора"))],
        ),
        c(
            "по плану ФИОКО",
            Composed,
            External,
            P::C24,
            vec![ext("по плану ФИОКО", Some("ФИОКО"))],
        ),
        c(
            "в сроки, установленные Рособрнадзором",
            Composed,
            External,
            P::C24,
            vec![ext("в сроки, установленные Рособрнадзором", Some("Рособрнадзором"))],
        ),
        c(
            "по расписанию ГИА",
            Composed,
            External,
            P::C24,
            vec![ext("по расписанию ГИА", None)],
        ),
        c(
            "По плану курсовой подготовки",
            Seed("002"),
            External,
            P::C2426,
            vec![ext("По плану курсовой подготовки", None)],
        ),
        c(
            "По курсовой подготовке",
            Seed("002"),
            External,
            P::C2426,
            vec![ext("По курсовой подготовке", None)],
        ),
        c(
            "По федеральному графику проведения",
            Seed("002"),
            External,
            P::C2426,
            vec![ext("По федеральному графику проведения", None)],
        ),
        c(
            "По графику проведения контрольных, проверочных работ",
            Seed("002"),
            External,
            P::C2426,
            vec![ext("По графику проведения контрольных, проверочных работ", None)],
        ),
        c(
            "В назначенные сроки",
            Seed("001"),
            External,
            P::C23,
            vec![ext("В назначенные сроки", None)],
        ),
        c(
            "Январь-декабрь 2023 По плану ККИПК",
            Seed("001"),
            External,
            P::C23,
            vec![w("2023-01-01", "2023-12-31"), ext("По плану ККИПК", Some("ККИПК"))],
        ),
        c(
            "По отдельному графику в течение учебного года",
            Seed("003"),
            External,
            P::S23,
            vec![
                cont(range("2023-09-01", "2024-08-31")),
                ext("По отдельному графику", None),
            ],
        ),
        // ---- on demand ----
        c(
            "по мере необходимости",
            Composed,
            OnDemand,
            P::C24,
            vec![od("по мере необходимости")],
        ),
        c(
            "по мере поступления запросов",
            Composed,
            OnDemand,
            P::C24,
            vec![od("по мере поступления запросов")],
        ),
        c(
            "при необходимости",
            Composed,
            OnDemand,
            P::C24,
            vec![od("при необходимости")],
        ),
        c("по запросу", Composed, OnDemand, P::C24, vec![od("по запросу")]),
        c(
            "по запросу Минобразования",
            Composed,
            OnDemand,
            P::C24,
            vec![od("по запросу Минобразования")],
        ),
        c("по заявкам ОО", Composed, OnDemand, P::C24, vec![od("по заявкам ОО")]),
        c(
            "в случае необходимости",
            Composed,
            OnDemand,
            P::C24,
            vec![od("в случае необходимости")],
        ),
        c(
            "по необходимости",
            Composed,
            OnDemand,
            P::C24,
            vec![od("по необходимости")],
        ),
        c(
            "по запросам образовательных организаций",
            Composed,
            OnDemand,
            P::C24,
            vec![od("по запросам образовательных организаций")],
        ),
        c(
            "в течение года по мере необходимости",
            Composed,
            OnDemand,
            P::C23,
            vec![cont(range("2023-01-01", "2023-12-31")), od("по мере необходимости")],
        ),
        c("по требованию", Composed, OnDemand, P::C24, vec![od("по требованию")]),
        c(
            "по мере потребности",
            Composed,
            OnDemand,
            P::C24,
            vec![od("по мере потребности")],
        ),
        // ---- recurrences ----
        c(
            "Ежегодно, декабрь, апрель",
            Seed("002"),
            Recurrence,
            P::C2426,
            vec![rec(Yearly, &[12, 4], None, None)],
        ),
        c(
            "Декабрь, февраль, ежегодно",
            Seed("002"),
            Recurrence,
            P::C2426,
            vec![rec(Yearly, &[12, 2], None, None)],
        ),
        c(
            "Ежегодно, сентябрь",
            Seed("002"),
            Recurrence,
            P::C2426,
            vec![rec(Yearly, &[9], None, None)],
        ),
        c(
            "1 раз в 2 месяца",
            Seed("004"),
            Recurrence,
            P::C24,
            vec![every(EveryNMonths(2))],
        ),
        c(
            "Ежемесячно 2023",
            Seed("001"),
            Recurrence,
            P::C23,
            vec![rec(Monthly, &[], range("2023-01-01", "2023-12-31"), None)],
        ),
        c(
            "октябрь 2023 г. – март 2024 г. еженедельно",
            Seed("000"),
            Recurrence,
            P::S23,
            vec![rec(Weekly, &[], range("2023-10-01", "2024-03-31"), None)],
        ),
        c(
            "октябрь 2023 г. – март 2024 г. ежемесячно",
            Seed("000"),
            Recurrence,
            P::S23,
            vec![rec(Monthly, &[], range("2023-10-01", "2024-03-31"), None)],
        ),
        c(
            "С февраля 2024 С ежеквартальным отчётом",
            Seed("004"),
            Recurrence,
            P::C24,
            vec![rec(Quarterly, &[], range("2024-02-01", "2024-12-31"), None)],
        ),
        c(
            "не реже 1 раза в месяц",
            Composed,
            Recurrence,
            P::C24,
            vec![every(Monthly)],
        ),
        c(
            "не реже одного раза в квартал",
            Composed,
            Recurrence,
            P::C24,
            vec![every(Quarterly)],
        ),
        c(
            "2 раза в год",
            Composed,
            Recurrence,
            P::C24,
            vec![every(TimesPerYear(2))],
        ),
        c(
            "три раза в неделю",
            Composed,
            Recurrence,
            P::C24,
            vec![every(TimesPerWeek(3))],
        ),
        c("ежедневно", Composed, Recurrence, P::C24, vec![every(Daily)]),
        c(
            "С октября 2023 года по март 2024 года, еженедельно",
            Seed("002"),
            Recurrence,
            P::C2426,
            vec![rec(Weekly, &[], range("2023-10-01", "2024-03-31"), None)],
        ),
        // ---- exact dates and deadlines ----
        c(
            "до 15.09.2023",
            Seed("003"),
            DateOrDeadline,
            P::S23,
            vec![by("2023-09-15")],
        ),
        c(
            "15.11.2023",
            Seed("003"),
            DateOrDeadline,
            P::S23,
            vec![on("2023-11-15")],
        ),
        c(
            "До 05.12.2023",
            Seed("003"),
            DateOrDeadline,
            P::S23,
            vec![by("2023-12-05")],
        ),
        c(
            "01.09.2024",
            Seed("003"),
            DateOrDeadline,
            P::S23,
            vec![on("2024-09-01")],
        ),
        c(
            "30.10.2023 26.04.2024",
            Seed("003"),
            DateOrDeadline,
            P::S23,
            vec![on("2023-10-30"), on("2024-04-26")],
        ),
        c(
            "до 15.10.2023 до 25.08.2024",
            Seed("003"),
            DateOrDeadline,
            P::S23,
            vec![by("2023-10-15"), by("2024-08-25")],
        ),
        c(
            "30.11.2023 - 31.01.2024 01.03.2024 – 15.04.2024",
            Seed("003"),
            DateOrDeadline,
            P::S23,
            vec![w("2023-11-30", "2024-01-31"), w("2024-03-01", "2024-04-15")],
        ),
        c(
            "в срок до 15 октября 2023 года",
            Composed,
            DateOrDeadline,
            P::None,
            vec![by("2023-10-15")],
        ),
        c(
            "не позднее 01.12.2023",
            Composed,
            DateOrDeadline,
            P::S23,
            vec![by("2023-12-01")],
        ),
        c(
            "к 1 сентября 2024 г.",
            Composed,
            DateOrDeadline,
            P::C24,
            vec![by("2024-09-01")],
        ),
        c(
            "до 1 сентября",
            Composed,
            DateOrDeadline,
            P::C24,
            vec![by("2024-09-01")],
        ),
        c("25 мая", Composed, DateOrDeadline, P::C24, vec![on("2024-05-25")]),
        c(
            "с 01.09.2023 по 31.05.2024",
            Composed,
            DateOrDeadline,
            P::S23,
            vec![w("2023-09-01", "2024-05-31")],
        ),
        c(
            "до конца учебного года",
            Composed,
            DateOrDeadline,
            P::S23,
            vec![by("2024-08-31")],
        ),
        f("15.09", Composed, DateOrDeadline, P::C24, vec![unp("15.09")], "15.09"),
        f(
            "когда получится",
            Composed,
            DateOrDeadline,
            P::C24,
            vec![unp("когда получится")],
            "когда получится",
        ),
        // ---- months and windows as written ----
        c(
            "октябрь",
            Seed("000"),
            MonthWindow,
            P::S23,
            vec![wi("2023-10-01", "2023-10-31")],
        ),
        c(
            "декабрь 2023 г. -апрель 2024 г.",
            Seed("000"),
            MonthWindow,
            P::S23,
            vec![w("2023-12-01", "2024-04-30")],
        ),
        c(
            "ноябрь 2023 г. апрель 2024 г.",
            Seed("000"),
            MonthWindow,
            P::S23,
            vec![w("2023-11-01", "2023-11-30"), w("2024-04-01", "2024-04-30")],
        ),
        c(
            "Январь, февраль 2023 г",
            Seed("001"),
            MonthWindow,
            P::C23,
            vec![w("2023-01-01", "2023-01-31"), w("2023-02-01", "2023-02-28")],
        ),
        c(
            "Март – август, 2023 г",
            Seed("001"),
            MonthWindow,
            P::C23,
            vec![w("2023-03-01", "2023-08-31")],
        ),
        c(
            "С октября 2023 года по май 2024 года",
            Seed("002"),
            MonthWindow,
            P::C2426,
            vec![w("2023-10-01", "2024-05-31")],
        ),
        c(
            "Май-сентябрь 2024",
            Seed("004"),
            MonthWindow,
            P::C24,
            vec![w("2024-05-01", "2024-09-30")],
        ),
        c(
            "2024",
            Seed("004"),
            MonthWindow,
            P::C24,
            vec![w("2024-01-01", "2024-12-31")],
        ),
        c(
            "апрель, 2023 октябрь, 2023",
            Seed("001"),
            MonthWindow,
            P::C23,
            vec![w("2023-04-01", "2023-04-30"), w("2023-10-01", "2023-10-31")],
        ),
        c(
            "октябрь –\nноябрь 2023 г.\nянварь – февраль 2024 г.",
            Seed("000"),
            MonthWindow,
            P::S23,
            vec![w("2023-10-01", "2023-11-30"), w("2024-01-01", "2024-02-29")],
        ),
        c(
            "в 2023/2024 учебном году",
            Composed,
            MonthWindow,
            P::None,
            vec![w("2023-09-01", "2024-08-31")],
        ),
        // The wrong years are kept as written; the lint reports them outside the period.
        c(
            "ноябрь 2023 г., декабрь 2023 г., январь 2023 г., февраль 2023 г., март 2023 г.",
            Seed("000"),
            MonthWindow,
            P::S23,
            vec![
                w("2023-11-01", "2023-11-30"),
                w("2023-12-01", "2023-12-31"),
                w("2023-01-01", "2023-01-31"),
                w("2023-02-01", "2023-02-28"),
                w("2023-03-01", "2023-03-31"),
            ],
        ),
        // ---- continuous work ----
        c(
            "постоянно",
            Seed("000"),
            Continuous,
            P::S23,
            vec![cont(range("2023-09-01", "2024-08-31"))],
        ),
        c(
            "В течение года",
            Seed("001"),
            Continuous,
            P::C23,
            vec![cont(range("2023-01-01", "2023-12-31"))],
        ),
        c(
            "С февраля 2024 постоянно",
            Seed("004"),
            Continuous,
            P::C24,
            vec![cont(range("2024-02-01", "2024-12-31"))],
        ),
        c(
            "систематически",
            Composed,
            Continuous,
            P::C24,
            vec![cont(range("2024-01-01", "2024-12-31"))],
        ),
        c(
            "на постоянной основе",
            Composed,
            Continuous,
            P::C2426,
            vec![cont(range("2024-01-01", "2026-12-31"))],
        ),
        c(
            "в течение всего периода",
            Composed,
            Continuous,
            P::C2426,
            vec![cont(range("2024-01-01", "2026-12-31"))],
        ),
        c(
            "в течение 2024 года",
            Composed,
            Continuous,
            P::C2426,
            vec![cont(range("2024-01-01", "2024-12-31"))],
        ),
        c(
            "в течение 2023-2024 учебного года",
            Composed,
            Continuous,
            P::None,
            vec![cont(range("2023-09-01", "2024-08-31"))],
        ),
        c(
            "в течение учебного года",
            Composed,
            Continuous,
            P::S23,
            vec![cont(range("2023-09-01", "2024-08-31"))],
        ),
        // A three-year plan: which year is "the year"?
        c("в течение года", Composed, Continuous, P::C2426, vec![cont(None)]),
        f(
            "в течение учебного года, региональные и школьные мероприятия, по отдельному графику",
            Seed("003"),
            Continuous,
            P::S23,
            vec![
                cont(range("2023-09-01", "2024-08-31")),
                ext("по отдельному графику", None),
            ],
            "региональные школьные мероприятия",
        ),
    ]
}

fn seeds_text() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/roadmaps");
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("fixtures dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".txt"))
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(e.path()).expect("seed readable");
            (name, collapse(&text))
        })
        .collect();
    out.sort();
    out
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_deadline_phrase_ends_structured_as_its_words_say_or_flagged() {
    let cases = deadline_cases();
    let mut failures = Vec::new();
    for case in &cases {
        let period = case.period.period();
        let s = parse_schedule(case.phrase, period.as_ref());
        if s.items != case.items || s.leftover.as_deref() != case.leftover {
            failures.push(format!(
                "{:?} ({:?}, {:?})\n   expected {:?} leftover {:?}\n   got      {:?} leftover {:?}",
                case.phrase, case.cat, case.period, case.items, case.leftover, s.items, s.leftover
            ));
        }
        // Flagged exactly when a leftover is expected; otherwise fully structured.
        assert_eq!(s.needs_review(), case.leftover.is_some(), "{:?}", case.phrase);
        if case.leftover.is_none() {
            assert!(
                !s.items.iter().any(|i| matches!(i, ScheduleItem::Unparsed { .. })),
                "{:?}",
                case.phrase
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} phrases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_corpus_is_large_tagged_and_covers_every_category() {
    let cases = deadline_cases();
    assert!(cases.len() >= 150, "{} phrases", cases.len());
    let mut per_cat = std::collections::BTreeMap::new();
    for case in &cases {
        *per_cat.entry(case.cat).or_insert(0usize) += 1;
    }
    for (cat, n) in &per_cat {
        assert!(*n >= 10, "{cat:?}: only {n} phrases");
    }
    assert_eq!(per_cat.len(), 15, "{per_cat:?}");
    let flagged = cases.iter().filter(|c| c.leftover.is_some()).count();
    assert!(flagged >= 20, "{flagged} flagged phrases");
    // A phrase tagged as taken from a seed is in that seed, word for word.
    let seeds = seeds_text();
    let mut seed_phrases = 0;
    for case in &cases {
        if let Seed(prefix) = case.source {
            seed_phrases += 1;
            let (name, text) = seeds
                .iter()
                .find(|(n, _)| n.starts_with(prefix))
                .unwrap_or_else(|| panic!("no seed {prefix}"));
            assert!(
                text.contains(&collapse(case.phrase)),
                "{:?} is not in {name}",
                case.phrase
            );
        }
    }
    assert!(seed_phrases >= 40, "{seed_phrases} seed phrases");
}

// ---- responsible parties ----

struct PartyCase {
    phrase: &'static str,
    source: Source,
    /// (name, kind, reference key, flags) of each party, in order.
    parties: Vec<(&'static str, PartyKind, Option<&'static str>, Vec<PartyFlag>)>,
}

fn pc(
    phrase: &'static str,
    source: Source,
    parties: Vec<(&'static str, PartyKind, Option<&'static str>, Vec<PartyFlag>)>,
) -> PartyCase {
    PartyCase {
        phrase,
        source,
        parties,
    }
}

fn role(
    name: &'static str,
    key: Option<&'static str>,
) -> (&'static str, PartyKind, Option<&'static str>, Vec<PartyFlag>) {
    (name, PartyKind::Role, key, vec![])
}
fn org(
    name: &'static str,
    key: Option<&'static str>,
) -> (&'static str, PartyKind, Option<&'static str>, Vec<PartyFlag>) {
    (name, PartyKind::Organisation, key, vec![])
}
fn flagged(
    p: (&'static str, PartyKind, Option<&'static str>, Vec<PartyFlag>),
    flags: &[PartyFlag],
) -> (&'static str, PartyKind, Option<&'static str>, Vec<PartyFlag>) {
    (p.0, p.1, p.2, flags.to_vec())
}

const UVR: Option<&str> = Some("deputy-head-academic");
const VR: Option<&str> = Some("deputy-head-upbringing");
const AHCH: Option<&str> = Some("deputy-head-facilities");
const CLASS: Option<&str> = Some("class-teacher");
const SUBJ: Option<&str> = Some("subject-teacher");
const SHMO: Option<&str> = Some("school-method-association-head");
const MO: Option<&str> = Some("method-association-head");
const PSY: Option<&str> = Some("educational-psychologist");
const SOC: Option<&str> = Some("social-pedagogue");
const HEAD: Option<&str> = Some("head-teacher");

fn party_cases() -> Vec<PartyCase> {
    use PartyFlag::*;
    vec![
        pc(
            "Зам директора по УВР",
            Seed("004"),
            vec![role("Зам директора по УВР", UVR)],
        ),
        pc(
            "Зам директора по ВР",
            Seed("004"),
            vec![role("Зам директора по ВР", VR)],
        ),
        pc(
            "Зам директора по АХЧ",
            Seed("004"),
            vec![role("Зам директора по АХЧ", AHCH)],
        ),
        pc(
            "Зам директора по УВР Зам директора по ВР руководители МО",
            Seed("004"),
            vec![
                role("Зам директора по УВР", UVR),
                role("Зам директора по ВР", VR),
                role("руководители МО", MO),
            ],
        ),
        pc(
            // Seed 004 as its continuation row is merged; not a literal quote.
            "Зам директора по УВР\nКлассные руководители",
            Composed,
            vec![role("Зам директора по УВР", UVR), role("Классные руководители", CLASS)],
        ),
        pc(
            "Зам директора по УВР Руководители предметных МО",
            Seed("004"),
            vec![
                role("Зам директора по УВР", UVR),
                role("Руководители предметных МО", MO),
            ],
        ),
        pc(
            "Зам директора по УВР, руководителиМО",
            Seed("004"),
            vec![
                role("Зам директора по УВР", UVR),
                flagged(role("руководителиМО", MO), &[Glued]),
            ],
        ),
        pc(
            "Зам директора по Зам директора по УВР Руководители предметных МО",
            Seed("004"),
            vec![
                flagged(role("Зам директора по", None), &[Incomplete]),
                role("Зам директора по УВР", UVR),
                role("Руководители предметных МО", MO),
            ],
        ),
        pc(
            "Зам директора А.В. Классные руководители",
            Seed("004"),
            vec![
                flagged(role("Зам директора А.В.", None), &[DeputyWithoutPortfolio]),
                role("Классные руководители", CLASS),
            ],
        ),
        pc("Директор школы", Seed("004"), vec![role("Директор школы", HEAD)]),
        pc(
            "Инспектор по кадрам",
            Seed("004"),
            vec![role("Инспектор по кадрам", None)],
        ),
        pc(
            "Заместители по УВР, учителя-предметники, классные руководители 9, 11 классов",
            Seed("001"),
            vec![
                role("Заместители по УВР", UVR),
                role("учителя-предметники", SUBJ),
                role("классные руководители 9, 11 классов", CLASS),
            ],
        ),
        pc(
            "Муниципальный Координатор, заместители по УВР школ муниципалитета, старший методист МКУ РЦО",
            Seed("001"),
            vec![
                role("Муниципальный Координатор", None),
                role("заместители по УВР школ муниципалитета", UVR),
                role("старший методист МКУ РЦО", None),
            ],
        ),
        pc(
            "Директора ОУ, Начальник отдела образования",
            Seed("001"),
            vec![role("Директора ОУ", HEAD), role("Начальник отдела образования", None)],
        ),
        pc(
            "руководители предметных объединений, Муниципальный Координатор",
            Seed("001"),
            vec![
                role("руководители предметных объединений", MO),
                role("Муниципальный Координатор", None),
            ],
        ),
        pc(
            "Проектная команда по поддержке ШПРО и ШНСУ Муниципальный координатор",
            Seed("001"),
            vec![
                (
                    "Проектная команда по поддержке ШПРО и ШНСУ",
                    PartyKind::Team,
                    None,
                    vec![UnknownAbbreviation],
                ),
                role("Муниципальный координатор", None),
            ],
        ),
        pc(
            "учителя-предметники ОО",
            Seed("000"),
            vec![role("учителя-предметники ОО", SUBJ)],
        ),
        pc(
            "ФГБОУ ВО «ЗабИЖТ», Минобрнауки",
            Seed("002"),
            vec![
                org("ФГБОУ ВО «ЗабИЖТ»", None),
                flagged(org("Минобрнауки", None), &[Ambiguous]),
            ],
        ),
        // Composed: the posts in their usual spellings and abbreviations.
        pc(
            "заместитель директора по УВР",
            Composed,
            vec![role("заместитель директора по УВР", UVR)],
        ),
        pc(
            "заместитель директора по учебно-воспитательной работе",
            Composed,
            vec![role("заместитель директора по учебно-воспитательной работе", UVR)],
        ),
        pc(
            "зам. директора по УВР",
            Composed,
            vec![role("зам. директора по УВР", UVR)],
        ),
        pc("замдиректора по ВР", Composed, vec![role("замдиректора по ВР", VR)]),
        pc(
            "заместитель директора по воспитательной работе",
            Composed,
            vec![role("заместитель директора по воспитательной работе", VR)],
        ),
        pc(
            "зам. директора по УВР, зам. директора по ВР",
            Composed,
            vec![role("зам. директора по УВР", UVR), role("зам. директора по ВР", VR)],
        ),
        pc("кл. руководители", Composed, vec![role("кл. руководители", CLASS)]),
        pc(
            "классный руководитель",
            Composed,
            vec![role("классный руководитель", CLASS)],
        ),
        pc(
            "кл. рук. 9-х классов",
            Composed,
            vec![role("кл. рук. 9-х классов", CLASS)],
        ),
        pc("учителя предметники", Composed, vec![role("учителя предметники", SUBJ)]),
        pc("руководители ШМО", Composed, vec![role("руководители ШМО", SHMO)]),
        pc(
            "руководитель ШМО учителей математики",
            Composed,
            vec![role("руководитель ШМО учителей математики", SHMO)],
        ),
        pc(
            "руководители школьных методических объединений",
            Composed,
            vec![role("руководители школьных методических объединений", SHMO)],
        ),
        pc("рук. МО", Composed, vec![role("рук. МО", MO)]),
        pc("педагог-психолог", Composed, vec![role("педагог-психолог", PSY)]),
        pc("педагог – психолог", Composed, vec![role("педагог – психолог", PSY)]),
        pc("социальный педагог", Composed, vec![role("социальный педагог", SOC)]),
        pc("соц. педагог", Composed, vec![role("соц. педагог", SOC)]),
        pc(
            "педагог-психолог социальный педагог",
            Composed,
            vec![role("педагог-психолог", PSY), role("социальный педагог", SOC)],
        ),
        pc(
            "педагог-психолог, социальный педагог, классные руководители",
            Composed,
            vec![
                role("педагог-психолог", PSY),
                role("социальный педагог", SOC),
                role("классные руководители", CLASS),
            ],
        ),
        pc(
            "Зам. директора по УВР, руководители ШМО, учителя-предметники",
            Composed,
            vec![
                role("Зам. директора по УВР", UVR),
                role("руководители ШМО", SHMO),
                role("учителя-предметники", SUBJ),
            ],
        ),
        pc(
            "заместитель директора",
            Composed,
            vec![flagged(role("заместитель директора", None), &[DeputyWithoutPortfolio])],
        ),
        pc(
            "советник директора по воспитанию",
            Composed,
            vec![role("советник директора по воспитанию", Some("advisor-upbringing"))],
        ),
        pc(
            "учитель-логопед",
            Composed,
            vec![role("учитель-логопед", Some("speech-therapist"))],
        ),
        // Federal bodies from the reference list.
        pc(
            "Минпросвещения России",
            Composed,
            vec![org("Минпросвещения России", Some("minprosveshcheniya"))],
        ),
        pc(
            "Рособрнадзор",
            Composed,
            vec![org("Рособрнадзор", Some("rosobrnadzor"))],
        ),
        pc(
            "ФИОКО, ФЦТ",
            Composed,
            vec![org("ФИОКО", Some("fioko")), org("ФЦТ", Some("fct"))],
        ),
        pc(
            "Минобрнауки России",
            Composed,
            vec![org("Минобрнауки России", Some("minobrnauki"))],
        ),
        // No regional ministry of education and science in this document: the federal one.
        pc("Минобрнауки", Composed, vec![org("Минобрнауки", Some("minobrnauki"))]),
        pc(
            "Министерство просвещения Российской Федерации",
            Composed,
            vec![org(
                "Министерство просвещения Российской Федерации",
                Some("minprosveshcheniya"),
            )],
        ),
    ]
}

/// The abbreviations seed 002 defines: "Минобрнауки" there may be the krai's ministry.
fn abbreviations_for(case: &PartyCase) -> Vec<Abbreviation> {
    if case.source == Seed("002") {
        vec![Abbreviation {
            short: "Минобразования".into(),
            full: "Министерство образования и науки Забайкальского края".into(),
            line: 54,
            source: AbbreviationSource::Inline,
        }]
    } else {
        Vec::new()
    }
}

#[test]
fn every_party_phrase_resolves_as_written_or_is_flagged() {
    let cases = party_cases();
    assert!(cases.len() >= 40, "{} party phrases", cases.len());
    let seeds = seeds_text();
    let mut failures = Vec::new();
    for case in &cases {
        if let Seed(prefix) = case.source {
            let (name, text) = seeds.iter().find(|(n, _)| n.starts_with(prefix)).unwrap();
            assert!(
                text.contains(&collapse(case.phrase)),
                "{:?} is not in {name}",
                case.phrase
            );
        }
        let abbreviations = abbreviations_for(case);
        let parties = split_responsible(case.phrase, &abbreviations);
        let got: Vec<(&str, PartyKind, Option<&str>, Vec<PartyFlag>)> = parties
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.kind,
                    p.known.as_ref().map(|k| k.key.as_str()),
                    party_flags(p, &abbreviations),
                )
            })
            .collect();
        if got != case.parties {
            failures.push(format!(
                "{:?}\n   expected {:?}\n   got      {:?}",
                case.phrase, case.parties, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {}:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn federal_bodies_carry_their_full_names_and_kinds() {
    let p = split_responsible("Минпросвещения России, Рособрнадзор, ФЦТ", &[]);
    let got: Vec<(&str, KnownCategory)> = p
        .iter()
        .map(|p| {
            let k = p.known.as_ref().unwrap();
            (p.full_name.as_str(), k.category)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "Министерство просвещения Российской Федерации",
                KnownCategory::FederalMinistry
            ),
            (
                "Федеральная служба по надзору в сфере образования и науки",
                KnownCategory::FederalService
            ),
            (
                "Федеральное государственное бюджетное учреждение «Федеральный центр тестирования»",
                KnownCategory::FederalInstitution
            ),
        ]
    );
    let p = split_responsible("зам. директора по УВР", &[]);
    assert_eq!(
        p[0].known.as_ref().map(|k| k.canonical.as_str()),
        Some("заместитель директора по учебно-воспитательной работе")
    );
}
