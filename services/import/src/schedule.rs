//! Deadlines and schedules written as Russian free text ("октябрь 2023 г. – март 2024 г.
//! еженедельно", "до 15.09.2023", "Ежегодно, декабрь, апрель", "по плану курсовой подготовки").
//!
//! The text is read in passes, each masking what it recognised so later passes do not see it
//! again: recurrence words with the weekday they fall on ("каждая вторая среда месяца", "по
//! пятницам"), deadlines relative to an event ("не позднее 10 дней после …"), school terms and
//! holidays, on-demand phrases, "далее" continuations, days of the month ("до 25 числа каждого
//! месяца"), "continuous" phrases, references to external plans (with whose), and finally dates,
//! months, quarters, half-years and years, which are combined into ranges ("октябрь – декабрь
//! 2023 г.", "с октября 2023 года по май 2024 года"), deadlines ("до", "не позднее", "к", "до
//! конца") and start dates ("с февраля 2024"). Every word no pass used is kept in `leftover`
//! (the lint's `schedule-leftover`): a parse is either fully structured or flagged.
//!
//! A month written without a year takes its year from the plan period: in a school year
//! September–December fall in the first year and January–August in the second; in a single
//! calendar year that year. When the period cannot decide (no period, or several calendar
//! years) the month is kept year-less (`ScheduleItem::Months`, or `Recurrence::months` when a
//! recurrence word is present, e.g. "Ежегодно, ноябрь").

use std::sync::LazyLock;

use chrono::{Datelike, Duration, NaiveDate};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::model::{Period, PeriodKind};
use crate::text::{self, fold, is_dash, month_from_word};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frequency {
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    Yearly,
    /// "1 раз в 2 месяца", "1 раз в полгода" (6).
    EveryNMonths(u32),
    /// "каждая третья неделя месяца", "вторая неделя".
    NthWeekOfMonth(u32),
    LastWeekOfMonth,
    TimesPerWeek(u32),
    TimesPerMonth(u32),
    TimesPerYear(u32),
    /// Once per school term ("1 раз в четверть", "по итогам каждой четверти", "ежечетвертно"):
    /// the dates of the terms are set by each school's calendar, not by the calendar quarters.
    EveryTerm,
}

/// A day of the week, Monday first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub fn to_chrono(self) -> chrono::Weekday {
        match self {
            Weekday::Monday => chrono::Weekday::Mon,
            Weekday::Tuesday => chrono::Weekday::Tue,
            Weekday::Wednesday => chrono::Weekday::Wed,
            Weekday::Thursday => chrono::Weekday::Thu,
            Weekday::Friday => chrono::Weekday::Fri,
            Weekday::Saturday => chrono::Weekday::Sat,
            Weekday::Sunday => chrono::Weekday::Sun,
        }
    }

    /// "среда", "среду", "средам", "по пятницам", "четверг" ...
    pub fn from_word(word: &str) -> Option<Weekday> {
        let w = fold(word);
        Some(if w.starts_with("понедельник") {
            Weekday::Monday
        } else if w.starts_with("вторник") {
            Weekday::Tuesday
        } else if matches!(
            w.as_str(),
            "среда" | "среду" | "среды" | "среде" | "средам" | "средами" | "средах"
        ) {
            Weekday::Wednesday
        } else if w.starts_with("четверг") {
            Weekday::Thursday
        } else if w.starts_with("пятниц") {
            Weekday::Friday
        } else if w.starts_with("суббот") {
            Weekday::Saturday
        } else if w.starts_with("воскресень") {
            Weekday::Sunday
        } else {
            return None;
        })
    }
}

/// On which day of each period a recurrence falls, when the text says
/// (`ScheduleItem::Recurrence::day`; absent from the JSON when the text does not say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule")]
pub enum RecurrenceDay {
    /// "25 числа каждого месяца" (`by: false`), "до 25 числа каждого месяца" (`by: true`: a
    /// deadline), "ежегодно, до 1 сентября" (the month in `Recurrence::months`);
    /// `following`: "до 5 числа месяца, следующего за отчетным": the day falls in the month
    /// after each period of the recurrence.
    DayOfMonth { day: u32, by: bool, following: bool },
    /// "каждая вторая среда месяца" (`n: 2`); `n: 0` is the last ("последняя пятница месяца").
    NthWeekday { n: u32, weekday: Weekday },
    /// "каждый понедельник", "по вторникам и четвергам".
    Weekdays { days: Vec<Weekday> },
}

/// How far from an event a relative deadline lies ("10 дней", "5 рабочих дней", "месяц").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offset {
    pub amount: u32,
    pub unit: OffsetUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OffsetUnit {
    /// Calendar days ("10 дней", "10 календарных дней").
    Days,
    /// Working days of the production calendar ("5 рабочих дней"), see [`crate::workdays`].
    WorkingDays,
    Weeks,
    Months,
}

/// A school term or holiday, whose dates each school's calendar sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Term {
    /// "3 четверть", "II четверть" (1–4).
    SchoolQuarter(u32),
    AutumnHolidays,
    WinterHolidays,
    SpringHolidays,
    SummerHolidays,
    /// "в каникулы": the holidays, unspecified.
    Holidays,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ScheduleItem {
    /// A period of time: a month, a month range, a date range, a quarter, a year.
    Window {
        start: NaiveDate,
        end: NaiveDate,
        /// The year was not written and was taken from the plan period.
        year_inferred: bool,
    },
    /// A single exact date ("15.11.2023").
    On {
        date: NaiveDate,
    },
    /// "до 15.09.2023", "не позднее ...", "к ...".
    Deadline {
        by: NaiveDate,
    },
    /// "С февраля 2024" with no end.
    Starting {
        from: NaiveDate,
    },
    /// Months whose year cannot be determined.
    Months {
        months: Vec<u32>,
    },
    Recurrence {
        every: Frequency,
        /// Months named without a year ("Ежегодно, декабрь, апрель" → [12, 4]).
        months: Vec<u32>,
        within: Option<DateRange>,
        /// The day of each period, when the text names one ("до 25 числа каждого месяца",
        /// "каждая вторая среда месяца"); absent otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        day: Option<RecurrenceDay>,
    },
    /// "постоянно", "в течение года", "в течение учебного года", "систематически".
    Continuous {
        within: Option<DateRange>,
    },
    /// Dates set by another document: "по плану курсовой подготовки", "по отдельному графику".
    External {
        reference: String,
        /// Whose schedule or plan it is, as written ("ФЦТ", "Минпросвещения", "ККИПК"), when
        /// the reference names a body; see [`crate::abbreviations::federal_body`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<String>,
    },
    /// A deadline counted from an event the text names and the plan does not date: "не
    /// позднее 10 дней после получения результатов ЕГЭ", "в течение 5 рабочих дней с момента
    /// …", "после утверждения плана", "за 10 дней до начала ГИА" (`before`).
    Relative {
        /// The event as written ("получения результатов ЕГЭ", "утверждения плана").
        event: String,
        /// How far from the event; `None` when the text names no amount ("после …").
        offset: Option<Offset>,
        /// The offset counts back from the event ("за 10 дней до …").
        before: bool,
    },
    /// "по мере необходимости", "по запросу": held when needed, never dated.
    OnDemand {
        text: String,
    },
    /// "3 четверть", "в период осенних каникул": dates set by the school's calendar.
    SchoolTerm {
        term: Term,
        /// The school year (its first calendar year) written or taken from the plan period.
        school_year: Option<i32>,
    },
    Unparsed {
        text: String,
    },
}

impl ScheduleItem {
    /// The dated span the item covers, when it has one.
    pub fn span(&self) -> Option<DateRange> {
        match self {
            ScheduleItem::Window { start, end, .. } => Some(DateRange {
                start: *start,
                end: *end,
            }),
            ScheduleItem::On { date } => Some(DateRange {
                start: *date,
                end: *date,
            }),
            ScheduleItem::Deadline { by } => Some(DateRange { start: *by, end: *by }),
            ScheduleItem::Starting { from } => Some(DateRange {
                start: *from,
                end: *from,
            }),
            ScheduleItem::Recurrence { within, .. } | ScheduleItem::Continuous { within } => *within,
            _ => None,
        }
    }

    fn kind(&self) -> ScheduleKind {
        match self {
            ScheduleItem::Window { .. } => ScheduleKind::Window,
            ScheduleItem::On { .. } => ScheduleKind::Date,
            ScheduleItem::Deadline { .. } => ScheduleKind::Deadline,
            ScheduleItem::Starting { .. } => ScheduleKind::Starting,
            ScheduleItem::Months { .. } => ScheduleKind::Months,
            ScheduleItem::Recurrence { .. } => ScheduleKind::Recurrence,
            ScheduleItem::Continuous { .. } => ScheduleKind::Continuous,
            ScheduleItem::External { .. } => ScheduleKind::External,
            ScheduleItem::Relative { .. } => ScheduleKind::Relative,
            ScheduleItem::OnDemand { .. } => ScheduleKind::OnDemand,
            ScheduleItem::SchoolTerm { .. } => ScheduleKind::SchoolTerm,
            ScheduleItem::Unparsed { .. } => ScheduleKind::Unparsed,
        }
    }
}

/// One-word summary of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScheduleKind {
    /// The cell is empty.
    Missing,
    Window,
    Date,
    Deadline,
    Starting,
    Months,
    /// Any item is a recurrence.
    Recurrence,
    /// No recurrence, but a continuous item.
    Continuous,
    External,
    /// A deadline relative to an event ("не позднее 10 дней после …").
    Relative,
    /// "по мере необходимости".
    OnDemand,
    /// A school term or holidays ("3 четверть", "осенние каникулы").
    SchoolTerm,
    /// Dated items of different kinds, or dated items plus an external reference.
    Mixed,
    Unparsed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub raw: String,
    pub items: Vec<ScheduleItem>,
    pub kind: ScheduleKind,
    /// Words that were not understood but did not prevent parsing ("каникулярное время").
    pub leftover: Option<String>,
}

static NTH_WEEK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:кажд\w*\s+)?(перв|втор|трет|четв[её]рт|пят|последн)\w*\s+недел\w*(?:\s+месяц\w*)?")
        .expect("static regex")
});
/// "каждая вторая среда месяца", "в последнюю пятницу месяца", "2-й вторник".
static NTH_WEEKDAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\b(?:кажд\w*|во|в)\s+)?(?:\b(перв|втор|трет|четв[её]рт|пят|последн)(?:ый|ой|ий|ая|яя|ую|юю|ое|ее|ом|ей|ий)|\b([1-5])\s*-?\s*(?:я|й|ий|ый|ая|ую|ой)?)\s+(понедельник\w*|вторник\w*|сред[ауые]\b|четверг\w*|пятниц\w*|суббот\w*|воскресень\w*)(?:\s+(?:каждого\s+)?месяц\w*)?")
        .expect("static regex")
});
/// "каждый понедельник", "по средам", "по вторникам и четвергам", "(среда)".
static WEEKDAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\b(?:кажд\w*|по|во|в)\s+)?\b(понедельник\w*|вторник\w*|сред(?:а|у|ы|е|ам|ами|ах)\b|четверг\w*|пятниц\w*|суббот\w*|воскресень\w*)")
        .expect("static regex")
});
static TIMES_PER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\bне\s+реже\s+)?(?:(\d{1,2}|одного|один|двух|два|тр[её]х|три|четыр[её]х|четыре)\s*)?\bраз[а]?\s+в\s+(?:(\d{1,2})\s*)?(недел\w*|месяц\w*|квартал\w*|четверт\w*|полугоди\w*|полгода|год\w*)")
        .expect("static regex")
});
static FREQ_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(ежедневн\w*|еженедельн\w*|ежемесячн\w*|ежеквартальн\w*|поквартальн\w*|ежегодн\w*|ежеполугодн\w*|каждую\s+неделю|кажд(?:ый|ого)\s+месяц[а]?|кажд(?:ый|ого)\s+квартал[а]?|кажд(?:ый|ого)\s+год[а]?)")
        .expect("static regex")
});
/// Once per school term, and "по итогам каждого квартала" style recurrences.
static TERM_FREQ: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:ежечетвертн\w*|по\s+четвертям|(?:по\s+итогам|по\s+окончании|в\s+конце)\s+(?:каждой\s+)?четверти|каждую\s+четверть|(?:по\s+итогам|по\s+окончании|в\s+конце)\s+каждого\s+(месяца|квартала|полугодия|года))")
        .expect("static regex")
});
static CONTINUOUS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:постоянн\w*|систематическ\w*|регулярн\w*|на\s+постоянной\s+основе|весь\s+период|в\s+течени[еи](?:\s+всего)?(?:\s+(учебного|календарного))?(?:\s+(года|периода)\b)?)")
        .expect("static regex")
});
static EXTERNAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:(?:по|согласно|в\s+соответствии\s+с)\s+(?:отдельному\s+|отдельным\s+|федеральному\s+|региональному\s+|утвержд[её]нному\s+|установленному\s+|единому\s+)?(?:план\w*|график\w*|курсов\w*|согласовани\w*|срок\w*|расписани\w*|календар\w*|распоряжени\w*|приказ\w*|регламент\w*|положени\w*)|в\s+(?:назначенные|установленные|утвержденные|утверждённые)\s+сроки|в\s+сроки,?\s+(?:установленн|определ|утвержд|назнач)\w*)[^;\d()]*")
        .expect("static regex")
});
/// "по мере необходимости", "по запросу", "при необходимости".
static ON_DEMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:по\s+мере\s+(?:необходимости|потребности|поступлени\w*|готовности|выявлени\w*)|(?:при|по|в\s+случае)\s+необходимости|по\s+запрос\w*|по\s+заявк\w*|по\s+требованию|по\s+потребности)[^;\d()]*")
        .expect("static regex")
});
const NUMBER_WORDS: &str = r"\d{1,3}|один|одного|одной|одну|два|две|двух|три|тр[её]х|четыре|четыр[её]х|пять|пяти|шесть|шести|семь|семи|десять|десяти|четырнадцати|пятнадцать|пятнадцати|двадцать|двадцати|тридцать|тридцати";
/// "не позднее 10 дней после …", "в течение 5 рабочих дней с момента …", "за 10 дней до …".
static RELATIVE_AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b(?:(не\s+позднее|не\s+позже|в\s+течени[еи]|в\s+срок\s+не\s+(?:позднее|более)|через|по\s+истечении|за)\s+)(?:({NUMBER_WORDS})\s+)?(?:(календарн\w*|рабоч\w*)\s+)?(дн\w*|день|недел\w*|месяц\w*)\s+(после|с\s+момента|со\s+дня|с\s+даты|от\s+даты|с\s+начала|по\s+окончании|по\s+завершении|до)\s+([^,;()]+)"
    ))
    .expect("static regex")
});
/// "после утверждения плана", "по итогам ГИА", "с момента …".
static RELATIVE_BARE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:после|по\s+окончании|по\s+завершении|по\s+итогам|по\s+результатам|с\s+момента|со\s+дня)\s+([^,;()]+)")
        .expect("static regex")
});
/// "до 25 числа каждого месяца", "до 5 числа месяца, следующего за отчетным".
static DAY_OF_MONTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\b(до|не\s+позднее|не\s+позже|к)\s+)?\b(\d{1,2})\s*(?:-?\s*(?:го|е|ое)\b)?\s*числ[аеоу]\b(?:\s+(?:каждого\s+)?месяц[аеу]?\b)?(\s*,?\s*следующ\w*\s+за\s+отч[её]тн\w*(?:\s+(месяц\w*|квартал\w*|период\w*|полугоди\w*|год\w*))?)?")
        .expect("static regex")
});
/// "3 четверть", "II четверти", "первая четверть".
static TERM_QUARTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\b([1-4])\s*-?\s*(?:я|й|ая|ей|ой)?|\b(IV|I{1,3}|І{1,3})|\b(перв|втор|трет|четв[её]рт)(?:ая|ой|ую|ей|ом))\s+четверт[ьиеюя]\b")
        .expect("static regex")
});
/// "в период осенних каникул", "во время зимних каникул", "летние каникулы", "в каникулы".
static HOLIDAYS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\b(?:в|во)\s+(?:период|время|дни)\s+|\b(?:в|во|на)\s+)?(?:\b(осенн|зимн|весенн|летн)\w*\s+)?\bканикул(?:ы|ах|ам|)\b")
        .expect("static regex")
});
/// Right after "в течение": an amount of days, weeks or months.
static AMOUNT_AHEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^\s*(?:(?:{NUMBER_WORDS})\s+(?:(?:календарн|рабоч)\w*\s+)?(?:дн|день|недел|месяц)|(?:(?:календарн|рабоч)\w*\s+)?(?:дн|день|недел|месяц|полугоди|четверт|квартал))"
    ))
    .expect("static regex")
});
/// "сентябрь 2024, далее ежегодно".
static CONTINUATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)[,;.]?\s*\bдалее\b\s*[-–—:]?").expect("static regex"));

/// Parses a schedule cell. Never fails: what cannot be understood ends up in
/// `ScheduleItem::Unparsed` (whole text) or `Schedule::leftover` (stray words, which the lint
/// reports as `schedule-leftover`).
pub fn parse_schedule(raw: &str, period: Option<&Period>) -> Schedule {
    let (clean, _) = text::strip_noise(raw);
    let clean = text::collapse_spaces(&clean);
    if clean.is_empty() {
        return Schedule {
            raw: raw.to_string(),
            items: Vec::new(),
            kind: ScheduleKind::Missing,
            leftover: None,
        };
    }
    let mut work = clean.clone();
    let mut leftover_words: Vec<String> = Vec::new();

    let (mut frequency, weekday_day) = take_frequency(&mut work);
    let relatives = take_relative(&mut work);
    let terms = take_terms(&mut work);
    let on_demand = take_on_demand(&mut work);
    let continuation = take_continuation(&mut work);
    let day_phrase = take_day_of_month(&mut work);
    let continuous = take_continuous(&mut work);
    let external = take_external(&mut work);

    let (tokens, words) = tokenize(&work);
    leftover_words.extend(words);
    let units = build_units(tokens, &mut leftover_words);
    let pieces = combine(units, &mut leftover_words);

    // A day of the month without a recurrence word may still imply one ("до 5 числа месяца,
    // следующего за отчетным кварталом").
    if frequency.is_none()
        && let Some(dp) = &day_phrase
    {
        frequency = dp.hint;
    }

    let mut dated: Vec<(ScheduleItem, bool)> = Vec::new(); // (item, range-like)
    let mut bare_months: Vec<u32> = Vec::new();
    let mut day_months: Vec<(u32, u32, bool)> = Vec::new(); // (day, month, by)
    for piece in pieces {
        resolve_piece(
            piece,
            period,
            frequency.is_some(),
            &mut dated,
            &mut bare_months,
            &mut day_months,
            &mut leftover_words,
        );
    }

    let period_range = period.map(|p| DateRange {
        start: p.start,
        end: p.end,
    });

    // School terms: a school year written next to them is theirs.
    let mut term_items = Vec::new();
    if !terms.is_empty() {
        let mut written_year = None;
        if let [(item, _)] = dated.as_slice() {
            written_year = school_or_calendar_year(item);
            if written_year.is_some() {
                dated.clear();
            }
        }
        for term in terms {
            let school_year = match written_year {
                Some(YearOf::School(y)) => Some(y),
                Some(YearOf::Calendar(y)) => term_school_year(term, y),
                None => period.and_then(|p| period_school_year(term, p)),
            };
            term_items.push(ScheduleItem::SchoolTerm { term, school_year });
        }
    }

    // The day a recurrence falls on.
    let mut recurrence_day = weekday_day;
    if let Some(dp) = day_phrase {
        match frequency {
            // "ежеквартально, до 25 числа" does not say which month of the quarter: only a
            // monthly or yearly day stands alone, the others need "следующего за отчетным".
            Some(Frequency::Monthly | Frequency::Yearly) if recurrence_day.is_none() => {
                recurrence_day = Some(RecurrenceDay::DayOfMonth {
                    day: dp.day,
                    by: dp.by,
                    following: dp.following,
                });
            }
            Some(Frequency::Quarterly | Frequency::EveryNMonths(_)) if recurrence_day.is_none() && dp.following => {
                recurrence_day = Some(RecurrenceDay::DayOfMonth {
                    day: dp.day,
                    by: dp.by,
                    following: dp.following,
                });
            }
            None if !dp.following => {
                // "март 2024, до 25 числа": the day of the one month named.
                match single_month(&dated) {
                    Some((i, y, m)) => match NaiveDate::from_ymd_opt(y, m, dp.day) {
                        Some(date) => {
                            dated[i] = (
                                if dp.by {
                                    ScheduleItem::Deadline { by: date }
                                } else {
                                    ScheduleItem::On { date }
                                },
                                false,
                            );
                        }
                        None => leftover_words.push(dp.text),
                    },
                    None => leftover_words.push(dp.text),
                }
            }
            _ => leftover_words.push(dp.text),
        }
    }
    if frequency.is_some() && !day_months.is_empty() {
        if let ([(day, month, by)], None) = (day_months.as_slice(), &recurrence_day) {
            recurrence_day = Some(RecurrenceDay::DayOfMonth {
                day: *day,
                by: *by,
                following: false,
            });
            if !bare_months.contains(month) {
                bare_months.push(*month);
            }
        } else {
            // Several days under one recurrence cannot be kept as one rule: a person decides.
            for (day, month, _) in &day_months {
                leftover_words.push(format!("{day}.{month:02}"));
                if !bare_months.contains(month) {
                    bare_months.push(*month);
                }
            }
        }
    }
    // A yearly day of the month needs its month ("ежегодно, 25 числа" names none).
    if matches!(frequency, Some(Frequency::Yearly))
        && matches!(
            recurrence_day,
            Some(RecurrenceDay::DayOfMonth { following: false, .. }) | Some(RecurrenceDay::NthWeekday { .. })
        )
        && bare_months.is_empty()
    {
        leftover_words.push("день без месяца".to_string());
        recurrence_day = None;
    }

    let mut items = Vec::new();
    let has_after = frequency.is_some() || continuous.is_some();
    if continuation && !has_after && on_demand.is_empty() && external.is_empty() && relatives.is_empty() {
        leftover_words.push("далее".to_string());
    }
    if has_after {
        let mut within = None;
        if continuation && dated.len() == 1 {
            // "сентябрь 2024, далее ежегодно": from the dated item to the end of the plan.
            let (item, range_like) = dated.remove(0);
            match (item.span(), period_range) {
                (Some(span), Some(p)) if p.end >= span.start => {
                    within = Some(DateRange {
                        start: span.start,
                        end: p.end,
                    });
                    let yearly = matches!(frequency, Some(Frequency::Yearly));
                    match item {
                        // "сентябрь 2024, далее ежегодно": each September.
                        ScheduleItem::Window { start, end, .. }
                            if yearly
                                && bare_months.is_empty()
                                && start.day() == 1
                                && start.year() == end.year()
                                && end.month() - start.month() < 11
                                && month_end(end.year(), end.month()) == Some(end) =>
                        {
                            bare_months = month_cycle(start.month(), end.month());
                        }
                        // "15.09.2024, далее ежегодно": each 15 September (monthly: each 15th).
                        ScheduleItem::On { date } | ScheduleItem::Deadline { by: date }
                            if recurrence_day.is_none()
                                && matches!(frequency, Some(Frequency::Yearly | Frequency::Monthly)) =>
                        {
                            if yearly {
                                bare_months = vec![date.month()];
                            }
                            recurrence_day = Some(RecurrenceDay::DayOfMonth {
                                day: date.day(),
                                by: matches!(item, ScheduleItem::Deadline { .. }),
                                following: false,
                            });
                        }
                        _ => {}
                    }
                }
                _ => dated.insert(0, (item, range_like)),
            }
        } else {
            let candidates: Vec<usize> = dated
                .iter()
                .enumerate()
                .filter(|(_, (item, r))| {
                    // With a recurrence, only a range says where it recurs ("1 раз в полгода
                    // (март 2024)" names one of the occurrences); continuous work lies within
                    // any window ("в течение I квартала 2024 года").
                    if frequency.is_some() {
                        *r
                    } else {
                        *r || matches!(item, ScheduleItem::Window { .. })
                    }
                })
                .map(|(i, _)| i)
                .collect();
            if let [only] = candidates.as_slice() {
                let (item, _) = dated.remove(*only);
                within = match item {
                    ScheduleItem::Starting { from } => match period_range {
                        Some(p) if p.end >= from => Some(DateRange {
                            start: from,
                            end: p.end,
                        }),
                        _ => {
                            dated.insert(0, (item, true));
                            None
                        }
                    },
                    other => other.span(),
                };
            }
        }
        if let Some(every) = frequency {
            items.push(ScheduleItem::Recurrence {
                every,
                months: std::mem::take(&mut bare_months),
                within,
                day: recurrence_day.take(),
            });
            if continuous.is_some() {
                items.push(ScheduleItem::Continuous { within: None });
            }
        } else if let Some(scope) = continuous {
            let within = within.or_else(|| scope_range(scope, period));
            items.push(ScheduleItem::Continuous { within });
        }
    }
    if let Some(day) = recurrence_day {
        // A day rule without a recurrence to carry it ("по средам" next to "ежегодно").
        leftover_words.push(describe_day(&day));
    }
    items.extend(dated.into_iter().map(|(i, _)| i));
    if !bare_months.is_empty() {
        items.push(ScheduleItem::Months { months: bare_months });
    }
    items.extend(term_items);
    items.extend(
        relatives
            .into_iter()
            .map(|(event, offset, before)| ScheduleItem::Relative { event, offset, before }),
    );
    items.extend(on_demand.into_iter().map(|text| ScheduleItem::OnDemand { text }));
    items.extend(
        external
            .into_iter()
            .map(|(reference, owner)| ScheduleItem::External { reference, owner }),
    );

    let leftover = (!leftover_words.is_empty()).then(|| leftover_words.join(" "));
    if items.is_empty() {
        items.push(ScheduleItem::Unparsed { text: clean.clone() });
    }
    let kind = summarize(&items);
    Schedule {
        raw: raw.to_string(),
        items,
        kind,
        leftover,
    }
}

impl Schedule {
    /// True when a person must look at this schedule: the text was not understood, or words
    /// of it were not used (`leftover`). Every other schedule is fully structured.
    pub fn needs_review(&self) -> bool {
        self.kind == ScheduleKind::Unparsed || self.leftover.is_some()
    }
}

fn describe_day(day: &RecurrenceDay) -> String {
    match day {
        RecurrenceDay::DayOfMonth { day, .. } => format!("{day} числа"),
        RecurrenceDay::NthWeekday { n, weekday } => format!("{n} {weekday:?}"),
        RecurrenceDay::Weekdays { days } => days.iter().map(|d| format!("{d:?}")).collect::<Vec<_>>().join(" "),
    }
}

enum YearOf {
    School(i32),
    Calendar(i32),
}

/// The school year or calendar year a dated item spans exactly, if it does.
fn school_or_calendar_year(item: &ScheduleItem) -> Option<YearOf> {
    let ScheduleItem::Window { start, end, .. } = item else {
        return None;
    };
    if (start.month(), start.day(), end.month(), end.day()) == (9, 1, 8, 31) && end.year() == start.year() + 1 {
        Some(YearOf::School(start.year()))
    } else if (start.month(), start.day(), end.month(), end.day()) == (1, 1, 12, 31) && end.year() == start.year() {
        Some(YearOf::Calendar(start.year()))
    } else {
        None
    }
}

/// The school year of a term named in calendar year `y`; `None` when the year cannot decide
/// (winter holidays span two calendar years).
fn term_school_year(term: Term, y: i32) -> Option<i32> {
    match term {
        Term::SchoolQuarter(1 | 2) | Term::AutumnHolidays => Some(y),
        Term::SchoolQuarter(_) | Term::SpringHolidays | Term::SummerHolidays => Some(y - 1),
        Term::WinterHolidays | Term::Holidays => None,
    }
}

fn period_school_year(term: Term, p: &Period) -> Option<i32> {
    match p.kind {
        PeriodKind::SchoolYears if p.end.year() == p.start.year() + 1 => Some(p.start.year()),
        PeriodKind::CalendarYears if p.start.year() == p.end.year() => term_school_year(term, p.start.year()),
        _ => None,
    }
}

/// The one dated item that is exactly one month: (index, year, month).
fn single_month(dated: &[(ScheduleItem, bool)]) -> Option<(usize, i32, u32)> {
    let [(ScheduleItem::Window { start, end, .. }, _)] = dated else {
        return None;
    };
    (start.day() == 1
        && start.month() == end.month()
        && start.year() == end.year()
        && month_end(end.year(), end.month()) == Some(*end))
    .then_some((0, start.year(), start.month()))
}

fn summarize(items: &[ScheduleItem]) -> ScheduleKind {
    let kinds: Vec<ScheduleKind> = items.iter().map(ScheduleItem::kind).collect();
    let Some(first) = kinds.first().copied() else {
        return ScheduleKind::Missing;
    };
    if kinds.contains(&ScheduleKind::Recurrence) {
        ScheduleKind::Recurrence
    } else if kinds.contains(&ScheduleKind::Continuous) {
        ScheduleKind::Continuous
    } else if kinds.iter().all(|k| *k == first) {
        first
    } else {
        ScheduleKind::Mixed
    }
}

/// Marks a recognised phrase: [`MASK`] then spaces, the same length, so later passes do not
/// see it and the tokenizer knows a phrase stood there (a preposition before it is not a
/// stray word: "С ежеквартальным отчётом").
fn mask(work: &mut String, start: usize, end: usize) {
    if start < end && end <= work.len() && work.is_char_boundary(start) && work.is_char_boundary(end) {
        let mut fill = String::with_capacity(end - start);
        fill.push(MASK);
        fill.push_str(&" ".repeat(end - start - 1));
        work.replace_range(start..end, &fill);
    }
}

const MASK: char = '\u{1}';

fn unmask(s: &str) -> String {
    s.replace(MASK, " ")
}

fn ordinal_stem(s: &str) -> Option<u32> {
    let f = fold(s);
    Some(match f.as_str() {
        "перв" => 1,
        "втор" => 2,
        "трет" => 3,
        "четверт" => 4,
        "пят" => 5,
        "последн" => 0,
        _ => return None,
    })
}

/// "пяти" → 5, "10" → 10.
fn number_word(s: &str) -> Option<u32> {
    if let Ok(v) = s.parse::<u32>() {
        return Some(v);
    }
    let f = fold(s);
    Some(match f.as_str() {
        "один" | "одного" | "одной" | "одну" => 1,
        "два" | "две" | "двух" => 2,
        "три" | "трех" => 3,
        "четыре" | "четырех" => 4,
        "пять" | "пяти" => 5,
        "шесть" | "шести" => 6,
        "семь" | "семи" => 7,
        "десять" | "десяти" => 10,
        "четырнадцати" => 14,
        "пятнадцать" | "пятнадцати" => 15,
        "двадцать" | "двадцати" => 20,
        "тридцать" | "тридцати" => 30,
        _ => return None,
    })
}

/// Finds the most specific recurrence in the text and masks every recurrence phrase; also
/// the weekday a recurrence falls on ("каждая вторая среда месяца", "по пятницам").
fn take_frequency(work: &mut String) -> (Option<Frequency>, Option<RecurrenceDay>) {
    // (specificity rank, frequency): a nth-week phrase refines "ежемесячно" next to it.
    let mut found: Vec<(u8, Frequency)> = Vec::new();
    let mut spans = Vec::new();
    for c in TERM_FREQ.captures_iter(work) {
        let Some(m) = c.get(0) else { continue };
        let f = match c.get(1).map(|u| fold(u.as_str())) {
            None => Frequency::EveryTerm,
            Some(u) if u.starts_with("месяц") => Frequency::Monthly,
            Some(u) if u.starts_with("квартал") => Frequency::Quarterly,
            Some(u) if u.starts_with("полугод") => Frequency::EveryNMonths(6),
            Some(_) => Frequency::Yearly,
        };
        found.push((8, f));
        spans.push((m.start(), m.end()));
    }
    for (s, e) in spans.drain(..) {
        mask(work, s, e);
    }
    for c in NTH_WEEK.captures_iter(work) {
        let (Some(m), Some(stem)) = (c.get(0), c.get(1)) else {
            continue;
        };
        match ordinal_stem(stem.as_str()) {
            Some(0) => found.push((9, Frequency::LastWeekOfMonth)),
            Some(n) => found.push((9, Frequency::NthWeekOfMonth(n))),
            None => continue,
        }
        spans.push((m.start(), m.end()));
    }
    for c in TIMES_PER.captures_iter(work) {
        let Some(m) = c.get(0) else { continue };
        let times: u32 = c.get(1).and_then(|t| number_word(t.as_str())).unwrap_or(1);
        let n: u32 = c.get(2).and_then(|t| t.as_str().parse().ok()).unwrap_or(1);
        let unit = c.get(3).map(|u| fold(u.as_str())).unwrap_or_default();
        if unit.starts_with("четверт") {
            // A school term is not a calendar quarter; only "1 раз в четверть" is understood.
            if times == 1 && n == 1 {
                found.push((8, Frequency::EveryTerm));
                spans.push((m.start(), m.end()));
            }
            continue;
        }
        let months = if unit.starts_with("недел") {
            None
        } else if unit.starts_with("месяц") {
            Some(n)
        } else if unit.starts_with("квартал") {
            Some(3 * n)
        } else if unit.starts_with("полугод") || unit == "полгода" {
            Some(6 * n)
        } else {
            Some(12 * n)
        };
        let f = match (times, months) {
            (1, None) => Frequency::Weekly,
            (t, None) => Frequency::TimesPerWeek(t),
            (1, Some(1)) => Frequency::Monthly,
            (1, Some(3)) => Frequency::Quarterly,
            (1, Some(12)) => Frequency::Yearly,
            (1, Some(m)) => Frequency::EveryNMonths(m),
            (t, Some(1)) => Frequency::TimesPerMonth(t),
            (t, Some(12)) => Frequency::TimesPerYear(t),
            (t, Some(m)) => Frequency::TimesPerYear(t.saturating_mul(12) / m.max(1)),
        };
        found.push((8, f));
        spans.push((m.start(), m.end()));
    }
    for c in FREQ_WORD.captures_iter(work) {
        let Some(m) = c.get(0) else { continue };
        let w = fold(m.as_str());
        let f = if w.starts_with("ежедневн") {
            (7, Frequency::Daily)
        } else if w.starts_with("еженедельн") || w.contains("недел") {
            (6, Frequency::Weekly)
        } else if w.starts_with("ежемесячн") || w.contains("месяц") {
            (5, Frequency::Monthly)
        } else if w.starts_with("ежеквартальн") || w.starts_with("поквартальн") || w.contains("квартал")
        {
            (4, Frequency::Quarterly)
        } else if w.starts_with("ежеполугодн") {
            (4, Frequency::EveryNMonths(6))
        } else {
            (3, Frequency::Yearly)
        };
        found.push(f);
        spans.push((m.start(), m.end()));
    }
    for (s, e) in spans.drain(..) {
        mask(work, s, e);
    }
    found.sort_by_key(|(rank, _)| std::cmp::Reverse(*rank));
    let mut every = found.first().map(|(_, f)| *f);

    // "каждая вторая среда месяца": a monthly (or, with months, yearly) recurrence.
    let nth: Vec<(u32, Weekday, usize, usize)> = NTH_WEEKDAY
        .captures_iter(work)
        .filter_map(|c| {
            let m = c.get(0)?;
            let n = match (c.get(1), c.get(2)) {
                (Some(stem), _) => ordinal_stem(stem.as_str())?,
                (None, Some(d)) => d.as_str().parse().ok()?,
                _ => return None,
            };
            let wd = Weekday::from_word(c.get(3)?.as_str())?;
            Some((n, wd, m.start(), m.end()))
        })
        .collect();
    if let [(n, weekday, s, e)] = nth.as_slice() {
        match every {
            None | Some(Frequency::Monthly) => every = Some(Frequency::Monthly),
            Some(Frequency::Yearly) => {}
            _ => return (every, None),
        }
        mask(work, *s, *e);
        return (
            every,
            Some(RecurrenceDay::NthWeekday {
                n: *n,
                weekday: *weekday,
            }),
        );
    }
    if !nth.is_empty() {
        return (every, None);
    }
    // "по пятницам", "каждый понедельник": a weekly recurrence on those days.
    let weekdays: Vec<(Weekday, usize, usize)> = WEEKDAY
        .captures_iter(work)
        .filter_map(|c| {
            let m = c.get(0)?;
            Some((Weekday::from_word(c.get(1)?.as_str())?, m.start(), m.end()))
        })
        .collect();
    if !weekdays.is_empty() && matches!(every, None | Some(Frequency::Weekly)) {
        let mut days: Vec<Weekday> = weekdays.iter().map(|(d, _, _)| *d).collect();
        days.sort();
        days.dedup();
        for (_, s, e) in &weekdays {
            mask(work, *s, *e);
        }
        return (Some(Frequency::Weekly), Some(RecurrenceDay::Weekdays { days }));
    }
    (every, None)
}

/// "3 четверть", "в период осенних каникул".
fn take_terms(work: &mut String) -> Vec<Term> {
    let mut terms = Vec::new();
    let mut spans = Vec::new();
    for c in TERM_QUARTER.captures_iter(work) {
        let Some(m) = c.get(0) else { continue };
        let n = match (c.get(1), c.get(2), c.get(3)) {
            (Some(d), _, _) => d.as_str().parse().ok(),
            (_, Some(r), _) => text::roman_value(r.as_str()),
            (_, _, Some(stem)) => ordinal_stem(stem.as_str()),
            _ => None,
        };
        if let Some(n @ 1..=4) = n {
            terms.push(Term::SchoolQuarter(n));
            spans.push((m.start(), m.end()));
        }
    }
    for c in HOLIDAYS.captures_iter(work) {
        let Some(m) = c.get(0) else { continue };
        let term = match c.get(1).map(|s| fold(s.as_str())) {
            Some(s) if s == "осенн" => Term::AutumnHolidays,
            Some(s) if s == "зимн" => Term::WinterHolidays,
            Some(s) if s == "весенн" => Term::SpringHolidays,
            Some(_) => Term::SummerHolidays,
            None => Term::Holidays,
        };
        terms.push(term);
        spans.push((m.start(), m.end()));
    }
    for (s, e) in spans {
        mask(work, s, e);
    }
    terms
}

/// The text of an event: up to the end of the clause, trimmed.
fn event_text(s: &str) -> Option<String> {
    let s = unmask(s);
    let t = text::collapse_spaces(s.trim_matches(|c: char| c.is_whitespace() || matches!(c, '.' | ',' | ';' | '…')));
    let t = t.trim_end_matches(['.', '…']).trim().to_string();
    // "после 15 мая" names a date, not an event: the date parser reads it (and flags "после").
    let (_, words) = tokenize(&t);
    (!t.is_empty() && !words.is_empty() && t != "...").then_some(t)
}

/// Deadlines counted from an event: (event, offset, before).
fn take_relative(work: &mut String) -> Vec<(String, Option<Offset>, bool)> {
    let mut out = Vec::new();
    let mut spans = Vec::new();
    for c in RELATIVE_AMOUNT.captures_iter(work) {
        let (Some(m), Some(lead), Some(unit), Some(link), Some(event)) =
            (c.get(0), c.get(1), c.get(4), c.get(5), c.get(6))
        else {
            continue;
        };
        let lead = fold(lead.as_str());
        let link = fold(link.as_str());
        let before = link == "до";
        // "за 10 дней до …" counts back; "не позднее 10 дней до …" would be unclear.
        if before != (lead == "за") {
            continue;
        }
        let Some(event) = event_text(event.as_str()) else {
            continue;
        };
        let amount = match c.get(2) {
            Some(n) => match number_word(n.as_str()) {
                Some(v) => v,
                None => continue,
            },
            None => 1,
        };
        let unit_word = fold(unit.as_str());
        let kind = c.get(3).map(|k| fold(k.as_str())).unwrap_or_default();
        let unit = if unit_word.starts_with("недел") {
            OffsetUnit::Weeks
        } else if unit_word.starts_with("месяц") {
            OffsetUnit::Months
        } else if kind.starts_with("рабоч") {
            OffsetUnit::WorkingDays
        } else {
            OffsetUnit::Days
        };
        out.push((event, Some(Offset { amount, unit }), before));
        spans.push((m.start(), m.end()));
    }
    for (s, e) in spans.drain(..) {
        mask(work, s, e);
    }
    for c in RELATIVE_BARE.captures_iter(work) {
        let (Some(m), Some(event)) = (c.get(0), c.get(1)) else {
            continue;
        };
        let Some(event) = event_text(event.as_str()) else {
            continue;
        };
        out.push((event, None, false));
        spans.push((m.start(), m.end()));
    }
    for (s, e) in spans {
        mask(work, s, e);
    }
    out
}

/// Cuts a matched reference before a month name, so "по графику, октябрь 2023" keeps its month.
fn cut_before_month(text_all: &str) -> usize {
    let mut cut = text_all.len();
    let mut offset = 0;
    for (i, w) in text_all.split(|c: char| !c.is_alphabetic()).enumerate() {
        if i > 0 && !w.is_empty() && month_from_word(w).is_some() {
            cut = offset;
            break;
        }
        offset += w.len() + 1;
    }
    let cut = cut.min(text_all.len());
    (0..=cut).rev().find(|&i| text_all.is_char_boundary(i)).unwrap_or(0)
}

fn take_on_demand(work: &mut String) -> Vec<String> {
    let mut out = Vec::new();
    let mut spans = Vec::new();
    for m in ON_DEMAND.find_iter(work) {
        let cut = cut_before_month(m.as_str());
        let t = unmask(&m.as_str()[..cut]);
        let t = t.trim_matches(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | ';'));
        if t.is_empty() {
            continue;
        }
        out.push(text::collapse_spaces(t));
        spans.push((m.start(), m.start() + cut));
    }
    for (s, e) in spans {
        mask(work, s, e);
    }
    out
}

fn take_continuation(work: &mut String) -> bool {
    let spans: Vec<(usize, usize)> = CONTINUATION.find_iter(work).map(|m| (m.start(), m.end())).collect();
    for (s, e) in &spans {
        mask(work, *s, *e);
    }
    !spans.is_empty()
}

struct DayPhrase {
    day: u32,
    by: bool,
    following: bool,
    /// "следующего за отчетным кварталом" names the period; "… за отчетным" alone does not.
    following_known: bool,
    hint: Option<Frequency>,
    text: String,
}

fn take_day_of_month(work: &mut String) -> Option<DayPhrase> {
    let found: Vec<(DayPhrase, usize, usize)> = DAY_OF_MONTH
        .captures_iter(work)
        .filter_map(|c| {
            let m = c.get(0)?;
            let day: u32 = c.get(2)?.as_str().parse().ok()?;
            if !(1..=31).contains(&day) {
                return None;
            }
            let following = c.get(3).is_some();
            let hint = c.get(4).and_then(|u| {
                let u = fold(u.as_str());
                if u.starts_with("месяц") {
                    Some(Frequency::Monthly)
                } else if u.starts_with("квартал") {
                    Some(Frequency::Quarterly)
                } else if u.starts_with("полугод") {
                    Some(Frequency::EveryNMonths(6))
                } else if u.starts_with("год") {
                    Some(Frequency::Yearly)
                } else {
                    None
                }
            });
            Some((
                DayPhrase {
                    day,
                    by: c.get(1).is_some(),
                    following,
                    following_known: hint.is_some(),
                    hint,
                    text: text::collapse_spaces(&unmask(m.as_str())),
                },
                m.start(),
                m.end(),
            ))
        })
        .collect();
    let mut found = found;
    if found.len() != 1 {
        return None;
    }
    let (mut dp, s, e) = found.remove(0);
    mask(work, s, e);
    // "до 5 числа месяца, следующего за отчетным" with a recurrence word elsewhere: that word
    // names the reporting period.
    if dp.following && !dp.following_known {
        dp.following_known = true;
        dp.hint = None;
    }
    Some(dp)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// "в течение учебного года".
    SchoolYear,
    /// "в течение года".
    Year,
    /// "постоянно": the whole plan.
    Plan,
    /// "в течение" followed by something else: the dated part decides.
    Unspecified,
}

fn take_continuous(work: &mut String) -> Option<Scope> {
    let mut scope = None;
    let mut spans = Vec::new();
    for c in CONTINUOUS.captures_iter(work) {
        let Some(m) = c.get(0) else { continue };
        // "в течение 5 рабочих дней", "в течение месяца": a time limit, not continuous work.
        if c.get(1).is_none() && c.get(2).is_none() && AMOUNT_AHEAD.is_match(work.get(m.end()..).unwrap_or("")) {
            continue;
        }
        let w = fold(m.as_str());
        let s = if c.get(1).is_some_and(|x| fold(x.as_str()) == "учебного") {
            Scope::SchoolYear
        } else if c.get(2).is_some_and(|x| fold(x.as_str()) == "года") {
            Scope::Year
        } else if w.starts_with("в") && c.get(2).is_none() {
            Scope::Unspecified
        } else {
            Scope::Plan
        };
        scope = Some(match scope {
            None => s,
            Some(Scope::Unspecified) => s,
            Some(prev) => prev,
        });
        spans.push((m.start(), m.end()));
    }
    for (s, e) in spans {
        mask(work, s, e);
    }
    scope
}

fn scope_range(scope: Scope, period: Option<&Period>) -> Option<DateRange> {
    let p = period?;
    let whole = DateRange {
        start: p.start,
        end: p.end,
    };
    let single = p.end.year() - p.start.year() <= i32::from(p.kind == PeriodKind::SchoolYears);
    match scope {
        Scope::Plan => Some(whole),
        Scope::SchoolYear => (p.kind == PeriodKind::SchoolYears && single).then_some(whole),
        Scope::Year => single.then_some(whole),
        Scope::Unspecified => None,
    }
}

/// Whose schedule a reference names: a federal body, an abbreviation, or a ministry/service
/// written as one word ("Минпросвещения России", "ФЦТ", "ККИПК", "Рособрнадзора").
fn reference_owner(reference: &str) -> Option<String> {
    let words: Vec<&str> = reference
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '«' && c != '»'))
        .collect();
    for (i, w) in words.iter().enumerate().skip(1) {
        let bare = w.trim_matches(|c: char| !c.is_alphanumeric());
        let ministry_like = bare.chars().next().is_some_and(|c| c.is_uppercase())
            && ["мин", "рос", "феде"].iter().any(|p| fold(bare).starts_with(p));
        // Exams and programmes name a schedule, not whose it is ("по расписанию ГИА").
        let not_a_body = NOT_BODIES.contains(&bare);
        if !not_a_body
            && (crate::abbreviations::federal_body(bare).is_some() || text::is_abbreviation_like(bare) || ministry_like)
        {
            let mut owner = vec![bare];
            if let Some(next) = words.get(i + 1) {
                let n = next.trim_matches(|c: char| !c.is_alphanumeric());
                if matches!(n, "России" | "РФ") {
                    owner.push(n);
                }
            }
            return Some(owner.join(" "));
        }
    }
    None
}

const NOT_BODIES: [&str; 20] = [
    "ЕГЭ",
    "ОГЭ",
    "ГИА",
    "ВПР",
    "КДР",
    "НИКО",
    "PISA",
    "ФГОС",
    "ФООП",
    "ООП",
    "РП",
    "ИОМ",
    "ИОТ",
    "ИППР",
    "ШНОР",
    "ШНСУ",
    "ВСОКО",
    "ШСОКО",
    "УВР",
    "ВР",
];

fn take_external(work: &mut String) -> Vec<(String, Option<String>)> {
    let mut refs = Vec::new();
    let mut spans = Vec::new();
    for m in EXTERNAL.find_iter(work) {
        // The tail of the phrase stops before a month name so "по графику, октябрь 2023"
        // keeps its month.
        let text_all = m.as_str();
        let cut = cut_before_month(text_all);
        let reference = unmask(&text_all[..cut]);
        let reference = reference
            .trim_matches(|c: char| c.is_whitespace() || c == ',' || c == '.' || c == ';')
            .to_string();
        if reference.is_empty() {
            continue;
        }
        let reference = text::collapse_spaces(&reference);
        let owner = reference_owner(&reference);
        refs.push((reference, owner));
        spans.push((m.start(), m.start() + cut));
    }
    for (s, e) in spans {
        mask(work, s, e);
    }
    refs
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Date(NaiveDate),
    Year(i32),
    Num(u32),
    Month(u32),
    Roman(u32),
    Dash,
    Slash,
    Sep,
    From,
    To,
    Until,
    /// "до конца", "до окончания".
    UntilEnd,
    Quarter,
    Half,
    School,
    /// A phrase an earlier pass recognised.
    Masked,
}

/// Words that never change what a schedule means.
const STOP_WORDS: [&str; 22] = [
    "г",
    "гг",
    "год",
    "года",
    "году",
    "годы",
    "годов",
    "не",
    "и",
    "в",
    "во",
    "на",
    "а",
    "также",
    "уч",
    "течение",
    "течении",
    "срок",
    "отчет",
    "отчетом",
    "отчета",
    "отчеты",
];

fn tokenize(s: &str) -> (Vec<Tok>, Vec<String>) {
    let mut toks = Vec::new();
    let mut leftover = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let word = word.trim_end_matches('.');
            // An ordinal suffix: "1-й", "2-е", "3-я", "1-го".
            let mut j = i;
            if j < chars.len() && is_dash(chars[j]) {
                j += 1;
            }
            let suffix_start = j;
            while j < chars.len() && chars[j].is_alphabetic() {
                j += 1;
            }
            let suffix: String = chars[suffix_start..j].iter().collect();
            if !suffix.is_empty()
                && ["й", "я", "е", "го", "ый", "ий", "ой", "ая", "ое"].contains(&fold(&suffix).as_str())
                && !word.contains('.')
            {
                i = j;
            }
            toks.push(number_token(word).unwrap_or_else(|| {
                leftover.push(word.to_string());
                Tok::Sep
            }));
        } else if c.is_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_alphabetic() {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let f = fold(&word);
            if matches!(f.as_str(), "конца" | "окончания") && toks.last() == Some(&Tok::Until) {
                toks.pop();
                toks.push(Tok::UntilEnd);
                continue;
            }
            match word_token(&word) {
                Some(t) => toks.push(t),
                None => {
                    if !STOP_WORDS.contains(&f.as_str()) {
                        leftover.push(word);
                    }
                }
            }
        } else {
            if c == MASK {
                toks.push(Tok::Masked);
            } else if is_dash(c) {
                toks.push(Tok::Dash);
            } else if c == '/' {
                toks.push(Tok::Slash);
            } else if c == ',' || c == ';' {
                toks.push(Tok::Sep);
            }
            i += 1;
        }
    }
    (toks, leftover)
}

fn number_token(word: &str) -> Option<Tok> {
    let parts: Vec<&str> = word.split('.').collect();
    match parts.as_slice() {
        [d, m, y] => {
            let d: u32 = d.parse().ok()?;
            let m: u32 = m.parse().ok()?;
            let mut y: i32 = y.parse().ok()?;
            if y < 100 {
                y += 2000;
            }
            NaiveDate::from_ymd_opt(y, m, d).map(Tok::Date)
        }
        [n] => {
            let v: u32 = n.parse().ok()?;
            if (1990..=2100).contains(&v) {
                Some(Tok::Year(v as i32))
            } else if v <= 31 {
                Some(Tok::Num(v))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// "первый", "второе", "третьем" … as numbers (quarters and halves).
fn ordinal_word(f: &str) -> Option<u32> {
    const ENDINGS: [&str; 14] = [
        "ый", "ой", "ий", "ая", "ое", "ого", "ом", "ую", "ье", "ья", "ьего", "ьем", "ем", "ей",
    ];
    for (stem, n) in [("перв", 1), ("втор", 2), ("трет", 3), ("четверт", 4)] {
        if let Some(rest) = f.strip_prefix(stem)
            && ENDINGS.contains(&rest)
        {
            return Some(n);
        }
    }
    None
}

fn word_token(word: &str) -> Option<Tok> {
    if word.chars().all(|c| c.is_uppercase())
        && let Some(v) = text::roman_value(word)
    {
        return Some(Tok::Roman(v));
    }
    if let Some(m) = month_from_word(word) {
        return Some(Tok::Month(m));
    }
    let f = fold(word);
    if let Some(n) = ordinal_word(&f) {
        return Some(Tok::Num(n));
    }
    Some(match f.as_str() {
        "до" | "к" | "позднее" | "позже" => Tok::Until,
        "с" | "со" | "от" | "начиная" => Tok::From,
        "по" => Tok::To,
        "и" => Tok::Sep,
        "кв" => Tok::Quarter,
        w if w.starts_with("квартал") => Tok::Quarter,
        w if w.starts_with("полугоди") => Tok::Half,
        w if w.starts_with("учебн") => Tok::School,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Date(NaiveDate),
    DayMonth {
        day: u32,
        month: u32,
        year: Option<i32>,
    },
    Month {
        month: u32,
        year: Option<i32>,
    },
    Quarter {
        q: u32,
        year: Option<i32>,
    },
    Half {
        h: u32,
        year: Option<i32>,
    },
    Year(i32),
    SchoolYear(i32),
    /// "учебного года" without a year: the plan's school year, when it has exactly one.
    ThisSchoolYear,
    /// "II полугодие 2023/2024 учебного года": a half of a school year (September–December,
    /// January–May).
    SchoolHalf {
        h: u32,
        school_year: i32,
    },
}

impl Unit {
    fn yearless(&self) -> bool {
        matches!(
            self,
            Unit::DayMonth { year: None, .. }
                | Unit::Month { year: None, .. }
                | Unit::Quarter { year: None, .. }
                | Unit::Half { year: None, .. }
        )
    }

    fn set_year(&mut self, y: i32) {
        match self {
            Unit::DayMonth { year, .. }
            | Unit::Month { year, .. }
            | Unit::Quarter { year, .. }
            | Unit::Half { year, .. } => *year = Some(y),
            _ => {}
        }
    }

    /// Months this unit names, for year-less recurrences.
    fn months(&self) -> Vec<u32> {
        match self {
            Unit::DayMonth { month, .. } | Unit::Month { month, .. } => vec![*month],
            Unit::Quarter { q, .. } => {
                let first = (q.saturating_sub(1)) * 3 + 1;
                (first..first + 3).filter(|m| (1..=12).contains(m)).collect()
            }
            // A half-year without its year is the school's (September–December) in one plan
            // and the calendar's (January–June) in another: no months without the period.
            _ => Vec::new(),
        }
    }

    fn first_month(&self) -> u32 {
        self.months().first().copied().unwrap_or(1)
    }

    /// The unit as words, for `leftover` when it cannot be placed.
    fn describe(&self) -> String {
        match self {
            Unit::Date(d) => d.format("%d.%m.%Y").to_string(),
            Unit::DayMonth { day, month, .. } => format!("{day}.{month:02}"),
            Unit::Month { month, .. } => MONTH_NAMES
                .get(month.saturating_sub(1) as usize)
                .map_or_else(|| month.to_string(), |n| n.to_string()),
            Unit::Quarter { q, .. } => format!("{q} квартал"),
            Unit::Half { h, .. } => format!("{h} полугодие"),
            Unit::Year(y) => y.to_string(),
            Unit::SchoolYear(y) => format!("{y}/{}", y + 1),
            Unit::ThisSchoolYear => "учебный год".to_string(),
            Unit::SchoolHalf { h, school_year } => format!("{h} полугодие {school_year}/{}", school_year + 1),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum El {
    /// The flag: the unit took its year from a year written after a later unit of its group.
    U(Unit, bool),
    Dash,
    Sep,
    From,
    To,
    Until,
    UntilEnd,
    Masked,
}

/// Tokens into units; a token no unit uses (a bare number, "квартал" without its number) is
/// a leftover word, never silently dropped.
fn build_units(toks: Vec<Tok>, leftover: &mut Vec<String>) -> Vec<El> {
    let mut els = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let next = toks.get(i + 1);
        let is_ord = |t: Option<&Tok>| matches!(t, Some(Tok::Num(_) | Tok::Roman(_)));
        let ord = |t: Option<&Tok>| match t {
            Some(Tok::Num(n) | Tok::Roman(n)) => *n,
            _ => 0,
        };
        // "II – III квартал", "1-2 полугодие": a range of quarters or halves.
        if is_ord(toks.get(i))
            && matches!(next, Some(Tok::Dash))
            && is_ord(toks.get(i + 2))
            && matches!(toks.get(i + 3), Some(Tok::Quarter | Tok::Half))
        {
            let (a, b) = (ord(toks.get(i)), ord(toks.get(i + 2)));
            let quarter = matches!(toks.get(i + 3), Some(Tok::Quarter));
            let max = if quarter { 4 } else { 2 };
            if (1..=max).contains(&a) && (1..=max).contains(&b) && a < b {
                let unit = |n| {
                    if quarter {
                        Unit::Quarter { q: n, year: None }
                    } else {
                        Unit::Half { h: n, year: None }
                    }
                };
                els.push(El::U(unit(a), false));
                els.push(El::Dash);
                els.push(El::U(unit(b), false));
                i += 4;
                continue;
            }
        }
        match &toks[i] {
            Tok::Date(d) => els.push(El::U(Unit::Date(*d), false)),
            Tok::Num(n) if matches!(next, Some(Tok::Month(_))) && (1..=31).contains(n) => {
                if let Some(Tok::Month(m)) = next {
                    els.push(El::U(
                        Unit::DayMonth {
                            day: *n,
                            month: *m,
                            year: None,
                        },
                        false,
                    ));
                }
                i += 1;
            }
            Tok::Num(n) | Tok::Roman(n) if matches!(next, Some(Tok::Quarter)) && (1..=4).contains(n) => {
                els.push(El::U(Unit::Quarter { q: *n, year: None }, false));
                i += 1;
            }
            Tok::Num(n) | Tok::Roman(n) if matches!(next, Some(Tok::Half)) && (1..=2).contains(n) => {
                els.push(El::U(Unit::Half { h: *n, year: None }, false));
                i += 1;
            }
            Tok::Year(y1) => {
                let y1 = *y1;
                match (next, toks.get(i + 2), toks.get(i + 3)) {
                    (Some(Tok::Slash | Tok::Dash), Some(Tok::Year(y2)), after) if *y2 == y1 + 1 => {
                        let slash = matches!(next, Some(Tok::Slash));
                        if slash || matches!(after, Some(Tok::School)) {
                            els.push(El::U(Unit::SchoolYear(y1), false));
                            i += 2;
                            if matches!(after, Some(Tok::School)) {
                                i += 1;
                            }
                        } else {
                            els.push(El::U(Unit::Year(y1), false));
                        }
                    }
                    _ => els.push(El::U(Unit::Year(y1), false)),
                }
            }
            Tok::Month(m) => els.push(El::U(Unit::Month { month: *m, year: None }, false)),
            Tok::Dash => els.push(El::Dash),
            Tok::Sep => els.push(El::Sep),
            Tok::From => els.push(El::From),
            Tok::To => els.push(El::To),
            Tok::Until => els.push(El::Until),
            Tok::UntilEnd => els.push(El::UntilEnd),
            Tok::School => els.push(El::U(Unit::ThisSchoolYear, false)),
            Tok::Slash => {}
            Tok::Masked => els.push(El::Masked),
            Tok::Num(n) => leftover.push(n.to_string()),
            Tok::Roman(n) => leftover.push(roman(*n)),
            Tok::Quarter => leftover.push("квартал".to_string()),
            Tok::Half => leftover.push("полугодие".to_string()),
        }
        i += 1;
    }
    attach_years(els)
}

const MONTH_NAMES: [&str; 12] = [
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
];

fn roman(n: u32) -> String {
    match n {
        1 => "I".into(),
        2 => "II".into(),
        3 => "III".into(),
        4 => "IV".into(),
        other => other.to_string(),
    }
}

/// "Январь, февраль 2023 г." and "октябрь – декабрь 2023 г.": a year written after a group of
/// year-less months applies to the whole group.
fn attach_years(mut els: Vec<El>) -> Vec<El> {
    let mut consumed = vec![false; els.len()];
    let mut i = 0;
    while i < els.len() {
        let starts_group = matches!(&els[i], El::U(u, _) if u.yearless());
        if !starts_group {
            i += 1;
            continue;
        }
        // "II полугодие 2023/2024 учебного года".
        if let (El::U(Unit::Half { h, year: None }, _), Some(El::U(Unit::SchoolYear(sy), _))) =
            (&els[i], els.get(i + 1))
        {
            els[i] = El::U(
                Unit::SchoolHalf {
                    h: *h,
                    school_year: *sy,
                },
                false,
            );
            consumed[i + 1] = true;
            i += 2;
            continue;
        }
        let mut group = vec![i];
        let mut j = i + 1;
        let mut year = None;
        while j < els.len() {
            match &els[j] {
                El::U(u, _) if u.yearless() => group.push(j),
                El::Sep | El::Dash | El::To => {}
                El::U(Unit::Year(y), _) => {
                    year = Some(*y);
                    break;
                }
                _ => break,
            }
            j += 1;
        }
        if let Some(y) = year {
            let last = group.last().copied();
            for &g in &group {
                if let El::U(u, inherited) = &mut els[g] {
                    u.set_year(y);
                    *inherited = Some(g) != last;
                }
            }
            consumed[j] = true;
            i = j + 1;
        } else {
            i = j.max(i + 1);
        }
    }
    els.into_iter()
        .zip(consumed)
        .filter(|(_, c)| !c)
        .map(|(e, _)| e)
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Single(Unit),
    /// Start, end, and whether the start inherited its year from the end's group.
    Range(Unit, Unit, bool),
    Starting(Unit),
    Deadline(Unit),
    /// "до конца I квартала 2024 г.": due on the unit's last day.
    DeadlineEnd(Unit),
}

fn combine(els: Vec<El>, leftover: &mut Vec<String>) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < els.len() {
        match &els[i] {
            El::From | El::Until | El::UntilEnd | El::To if matches!(els.get(i + 1), Some(El::Masked)) => {}
            El::From => {
                if let Some(El::U(a, inh)) = els.get(i + 1) {
                    if let (Some(El::To | El::Dash), Some(El::U(b, _))) = (els.get(i + 2), els.get(i + 3)) {
                        pieces.push(Piece::Range(*a, *b, *inh));
                        i += 4;
                    } else {
                        pieces.push(Piece::Starting(*a));
                        i += 2;
                    }
                    continue;
                }
                leftover.push("с".to_string());
            }
            El::Until | El::UntilEnd => {
                let (piece, word): (fn(Unit) -> Piece, &str) = match els[i] {
                    El::Until => (Piece::Deadline, "до"),
                    _ => (Piece::DeadlineEnd, "до конца"),
                };
                if let Some(El::U(a, _)) = els.get(i + 1) {
                    pieces.push(piece(*a));
                    i += 2;
                    continue;
                }
                leftover.push(word.to_string());
            }
            El::To => leftover.push("по".to_string()),
            El::U(a, inh) => {
                if let (Some(El::Dash | El::To), Some(El::U(b, _))) = (els.get(i + 1), els.get(i + 2)) {
                    pieces.push(Piece::Range(*a, *b, *inh));
                    i += 3;
                } else {
                    pieces.push(Piece::Single(*a));
                    i += 1;
                }
                continue;
            }
            El::Dash | El::Sep | El::Masked => {}
        }
        i += 1;
    }
    pieces
}

/// The year a year-less month falls in, according to the plan period.
pub fn infer_year(month: u32, period: Option<&Period>) -> Option<i32> {
    let p = period?;
    match p.kind {
        PeriodKind::SchoolYears if p.end.year() == p.start.year() + 1 => {
            Some(if month >= 9 { p.start.year() } else { p.end.year() })
        }
        PeriodKind::CalendarYears if p.start.year() == p.end.year() => Some(p.start.year()),
        _ => None,
    }
}

fn month_end(y: i32, m: u32) -> Option<NaiveDate> {
    let (ny, nm) = if m == 12 { (y.checked_add(1)?, 1) } else { (y, m + 1) };
    NaiveDate::from_ymd_opt(ny, nm, 1).map(|d| d - Duration::days(1))
}

/// (start, end, year_inferred) of a unit, or `None` when its year is unknown.
fn unit_span(u: Unit, period: Option<&Period>) -> Option<(NaiveDate, NaiveDate, bool)> {
    let school = period.filter(|p| p.kind == PeriodKind::SchoolYears);
    match u {
        Unit::Date(d) => Some((d, d, false)),
        Unit::Year(y) => Some((
            NaiveDate::from_ymd_opt(y, 1, 1)?,
            NaiveDate::from_ymd_opt(y, 12, 31)?,
            false,
        )),
        Unit::SchoolYear(y) => Some((
            NaiveDate::from_ymd_opt(y, 9, 1)?,
            NaiveDate::from_ymd_opt(y.checked_add(1)?, 8, 31)?,
            false,
        )),
        Unit::ThisSchoolYear => {
            let p = school.filter(|p| p.end.year() == p.start.year() + 1)?;
            Some((p.start, p.end, true))
        }
        Unit::SchoolHalf { h, school_year } => {
            if h == 1 {
                Some((
                    NaiveDate::from_ymd_opt(school_year, 9, 1)?,
                    NaiveDate::from_ymd_opt(school_year, 12, 31)?,
                    false,
                ))
            } else {
                Some((
                    NaiveDate::from_ymd_opt(school_year.checked_add(1)?, 1, 1)?,
                    NaiveDate::from_ymd_opt(school_year.checked_add(1)?, 5, 31)?,
                    false,
                ))
            }
        }
        Unit::DayMonth { day, month, year } => {
            let (y, inf) = year
                .map(|y| (y, false))
                .or_else(|| infer_year(month, period).map(|y| (y, true)))?;
            let d = NaiveDate::from_ymd_opt(y, month, day)?;
            Some((d, d, inf))
        }
        Unit::Month { month, year } => {
            let (y, inf) = year
                .map(|y| (y, false))
                .or_else(|| infer_year(month, period).map(|y| (y, true)))?;
            Some((NaiveDate::from_ymd_opt(y, month, 1)?, month_end(y, month)?, inf))
        }
        Unit::Quarter { q, year } => {
            let first = (q.clamp(1, 4) - 1) * 3 + 1;
            let (y, inf) = year
                .map(|y| (y, false))
                .or_else(|| infer_year(first, period).map(|y| (y, true)))?;
            Some((NaiveDate::from_ymd_opt(y, first, 1)?, month_end(y, first + 2)?, inf))
        }
        Unit::Half { h, year } => {
            // In a school year the halves are the two terms: September–December and
            // January–May.
            if let Some(p) = school {
                let sy = p.start.year();
                let in_school = year.is_none() || year == Some(if h == 1 { sy } else { sy + 1 });
                if in_school {
                    return if h == 1 {
                        Some((
                            NaiveDate::from_ymd_opt(sy, 9, 1)?,
                            NaiveDate::from_ymd_opt(sy, 12, 31)?,
                            year.is_none(),
                        ))
                    } else {
                        Some((
                            NaiveDate::from_ymd_opt(sy + 1, 1, 1)?,
                            NaiveDate::from_ymd_opt(sy + 1, 5, 31)?,
                            year.is_none(),
                        ))
                    };
                }
            }
            let first = if h == 1 { 1 } else { 7 };
            let (y, inf) = year
                .map(|y| (y, false))
                .or_else(|| infer_year(first, period).map(|y| (y, true)))?;
            Some((NaiveDate::from_ymd_opt(y, first, 1)?, month_end(y, first + 5)?, inf))
        }
    }
}

fn push_bare(bare: &mut Vec<u32>, leftover: &mut Vec<String>, u: &Unit, ms: Vec<u32>) {
    // A day cannot be kept as a month of no year ("после 15 мая" in a three-year plan).
    if ms.is_empty() || matches!(u, Unit::DayMonth { .. }) {
        // Nothing to keep of it (a school year the period cannot name): a person decides.
        leftover.push(u.describe());
        return;
    }
    for m in ms {
        if !bare.contains(&m) {
            bare.push(m);
        }
    }
}

fn resolve_piece(
    piece: Piece,
    period: Option<&Period>,
    has_frequency: bool,
    dated: &mut Vec<(ScheduleItem, bool)>,
    bare: &mut Vec<u32>,
    day_months: &mut Vec<(u32, u32, bool)>,
    leftover: &mut Vec<String>,
) {
    // With a recurrence word, year-less months describe which months recur, not a date.
    let keep_bare = |u: &Unit| u.yearless() && has_frequency;
    match piece {
        Piece::Single(u) | Piece::Deadline(u) if keep_bare(&u) => {
            if let Unit::DayMonth { day, month, .. } = u {
                day_months.push((day, month, matches!(piece, Piece::Deadline(_))));
            } else {
                push_bare(bare, leftover, &u, u.months());
            }
        }
        Piece::Single(u) => match (u, unit_span(u, period)) {
            (Unit::Date(d), _) => dated.push((ScheduleItem::On { date: d }, false)),
            (Unit::DayMonth { .. }, Some((d, _, _))) => dated.push((ScheduleItem::On { date: d }, false)),
            (_, Some((s, e, inf))) => dated.push((
                ScheduleItem::Window {
                    start: s,
                    end: e,
                    year_inferred: inf,
                },
                matches!(u, Unit::Year(_) | Unit::SchoolYear(_) | Unit::ThisSchoolYear),
            )),
            (_, None) => push_bare(bare, leftover, &u, u.months()),
        },
        Piece::Range(a, b, inherited) => {
            let day_ends = matches!(a, Unit::DayMonth { .. }) || matches!(b, Unit::DayMonth { .. });
            if keep_bare(&a) && keep_bare(&b) {
                if day_ends || a.months().is_empty() || b.months().is_empty() {
                    // "ежегодно, с 1 сентября по 25 мая": the days cannot be kept as months.
                    leftover.push(format!("{} – {}", a.describe(), b.describe()));
                }
                bare_cycle(bare, a, b);
                return;
            }
            match (unit_span(a, period), unit_span(b, period)) {
                (Some((mut s, _, ia)), Some((_, e, ib))) => {
                    // "сентябрь – май 2024 г.": the start month inherited the year of the end.
                    if s > e
                        && (inherited || ia)
                        && let Some(prev) = s.with_year(s.year() - 1)
                    {
                        s = prev;
                    }
                    dated.push((
                        ScheduleItem::Window {
                            start: s,
                            end: e,
                            year_inferred: ia || ib,
                        },
                        true,
                    ));
                }
                _ => {
                    if day_ends || a.months().is_empty() || b.months().is_empty() {
                        leftover.push(format!("{} – {}", a.describe(), b.describe()));
                    }
                    bare_cycle(bare, a, b);
                }
            }
        }
        Piece::Starting(u) => match unit_span(u, period) {
            Some((s, _, _)) => dated.push((ScheduleItem::Starting { from: s }, true)),
            None => {
                // "с сентября" in a plan whose period cannot give the year: a start without a
                // date is not a month of a recurrence.
                leftover.push(format!("с {}", u.describe()));
                push_bare(bare, leftover, &u, u.months());
            }
        },
        Piece::Deadline(u) => match unit_span(u, period) {
            Some((s, e, _)) => {
                let by = if matches!(u, Unit::Date(_) | Unit::DayMonth { .. }) {
                    e
                } else {
                    s
                };
                dated.push((ScheduleItem::Deadline { by }, false));
            }
            None => {
                leftover.push(format!("до {}", u.describe()));
                push_bare(bare, leftover, &u, u.months());
            }
        },
        Piece::DeadlineEnd(u) => match unit_span(u, period) {
            Some((_, e, _)) => dated.push((ScheduleItem::Deadline { by: e }, false)),
            None => leftover.push(format!("до конца {}", u.describe())),
        },
    }
}

fn bare_cycle(bare: &mut Vec<u32>, a: Unit, b: Unit) {
    if a.months().is_empty() || b.months().is_empty() {
        return;
    }
    for m in month_cycle(a.first_month(), last_month(&b)) {
        if !bare.contains(&m) {
            bare.push(m);
        }
    }
}

fn last_month(u: &Unit) -> u32 {
    u.months().last().copied().unwrap_or(12)
}

fn month_cycle(from: u32, to: u32) -> Vec<u32> {
    let from = from.clamp(1, 12);
    let to = to.clamp(1, 12);
    let mut out = vec![from];
    let mut m = from;
    while m != to && out.len() < 12 {
        m = m % 12 + 1;
        out.push(m);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn school_2023() -> Period {
        Period {
            start: d(2023, 9, 1),
            end: d(2024, 8, 31),
            kind: PeriodKind::SchoolYears,
            raw: "2023/2024 учебном году".into(),
            line: 1,
            inferred: false,
        }
    }

    fn calendar(y1: i32, y2: i32) -> Period {
        Period {
            start: d(y1, 1, 1),
            end: d(y2, 12, 31),
            kind: PeriodKind::CalendarYears,
            raw: String::new(),
            line: 1,
            inferred: false,
        }
    }

    fn win(s: NaiveDate, e: NaiveDate) -> ScheduleItem {
        ScheduleItem::Window {
            start: s,
            end: e,
            year_inferred: false,
        }
    }

    /// A recurrence naming no months and no day.
    fn rec(every: Frequency, within: Option<DateRange>) -> ScheduleItem {
        ScheduleItem::Recurrence {
            every,
            months: vec![],
            within,
            day: None,
        }
    }

    fn cont(within: Option<DateRange>) -> ScheduleItem {
        ScheduleItem::Continuous { within }
    }

    fn inferred(s: NaiveDate, e: NaiveDate) -> ScheduleItem {
        ScheduleItem::Window {
            start: s,
            end: e,
            year_inferred: true,
        }
    }

    fn range(s: NaiveDate, e: NaiveDate) -> Option<DateRange> {
        Some(DateRange { start: s, end: e })
    }

    #[test]
    fn month_range_with_weekly_recurrence() {
        let s = parse_schedule("октябрь 2023 г. – март 2024 г. еженедельно", Some(&school_2023()));
        assert_eq!(s.kind, ScheduleKind::Recurrence);
        assert_eq!(
            s.items,
            vec![rec(Frequency::Weekly, range(d(2023, 10, 1), d(2024, 3, 31)))]
        );
        assert_eq!(s.leftover, None);
    }

    #[test]
    fn month_range_with_line_breaks_and_nth_week() {
        let p = school_2023();
        let s = parse_schedule(
            "октябрь 2023 г. –март 2024 г.,\nежемесячно (каждая четвертая неделя \nмесяца)",
            Some(&p),
        );
        assert_eq!(
            s.items,
            vec![rec(Frequency::NthWeekOfMonth(4), range(d(2023, 10, 1), d(2024, 3, 31)))]
        );
        let s = parse_schedule("октябрь 2023 г. – март 2024 г.,          вторая неделя", Some(&p));
        assert_eq!(
            s.items,
            vec![rec(Frequency::NthWeekOfMonth(2), range(d(2023, 10, 1), d(2024, 3, 31)))]
        );
    }

    #[test]
    fn year_written_once_after_a_range() {
        let p = calendar(2024, 2026);
        let s = parse_schedule("Январь – февраль 2024 года", Some(&p));
        assert_eq!(s.kind, ScheduleKind::Window);
        assert_eq!(s.items, vec![win(d(2024, 1, 1), d(2024, 2, 29))]);
        let s = parse_schedule("октябрь – \nдекабрь 2023 г.", Some(&school_2023()));
        assert_eq!(s.items, vec![win(d(2023, 10, 1), d(2023, 12, 31))]);
        let s = parse_schedule("декабрь 2023 г. -апрель 2024 г.", Some(&school_2023()));
        assert_eq!(s.items, vec![win(d(2023, 12, 1), d(2024, 4, 30))]);
        // The start month inherits the year of the end but lies before it.
        let s = parse_schedule("Сентябрь – май 2024 г.", None);
        assert_eq!(s.items, vec![win(d(2023, 9, 1), d(2024, 5, 31))]);
    }

    #[test]
    fn two_month_ranges_in_one_cell() {
        let s = parse_schedule(
            "октябрь – \nноябрь 2023 г.\nянварь – февраль 2024 г.",
            Some(&school_2023()),
        );
        assert_eq!(
            s.items,
            vec![win(d(2023, 10, 1), d(2023, 11, 30)), win(d(2024, 1, 1), d(2024, 2, 29))]
        );
        let s = parse_schedule(
            "сентябрь –\n октябрь 2023 г.,\nянварь – \nфевраль 2024 г.",
            Some(&school_2023()),
        );
        assert_eq!(
            s.items,
            vec![win(d(2023, 9, 1), d(2023, 10, 31)), win(d(2024, 1, 1), d(2024, 2, 29))]
        );
    }

    #[test]
    fn month_without_year_takes_it_from_the_period() {
        let s = parse_schedule("октябрь ", Some(&school_2023()));
        assert_eq!(s.items, vec![inferred(d(2023, 10, 1), d(2023, 10, 31))]);
        let s = parse_schedule("Февраль, март", Some(&calendar(2023, 2023)));
        assert_eq!(
            s.items,
            vec![
                inferred(d(2023, 2, 1), d(2023, 2, 28)),
                inferred(d(2023, 3, 1), d(2023, 3, 31))
            ]
        );
        // A three-year plan cannot tell which February is meant.
        let s = parse_schedule("Февраль", Some(&calendar(2024, 2026)));
        assert_eq!(s.kind, ScheduleKind::Months);
        assert_eq!(s.items, vec![ScheduleItem::Months { months: vec![2] }]);
    }

    #[test]
    fn month_list_with_one_year() {
        let s = parse_schedule("Январь, февраль 2023 г", Some(&calendar(2023, 2023)));
        assert_eq!(
            s.items,
            vec![win(d(2023, 1, 1), d(2023, 1, 31)), win(d(2023, 2, 1), d(2023, 2, 28))]
        );
        let s = parse_schedule("апрель, 2023 октябрь, 2023", Some(&calendar(2023, 2023)));
        assert_eq!(
            s.items,
            vec![win(d(2023, 4, 1), d(2023, 4, 30)), win(d(2023, 10, 1), d(2023, 10, 31))]
        );
        // Written with the wrong year: kept as written, the lint reports it.
        let s = parse_schedule(
            "ноябрь 2023 г., декабрь 2023 г., январь 2023 г., февраль 2023 г., март 2023 г.",
            Some(&school_2023()),
        );
        assert_eq!(s.items.len(), 5);
        assert_eq!(s.items[2], win(d(2023, 1, 1), d(2023, 1, 31)));
    }

    #[test]
    fn deadlines_and_dates() {
        let s = parse_schedule("до 15.09.2023", None);
        assert_eq!(s.kind, ScheduleKind::Deadline);
        assert_eq!(s.items, vec![ScheduleItem::Deadline { by: d(2023, 9, 15) }]);
        let s = parse_schedule("до 15.10.2023 до 25.08.2024", None);
        assert_eq!(
            s.items,
            vec![
                ScheduleItem::Deadline { by: d(2023, 10, 15) },
                ScheduleItem::Deadline { by: d(2024, 8, 25) }
            ]
        );
        let s = parse_schedule("не позднее 01.12.2023", None);
        assert_eq!(s.items, vec![ScheduleItem::Deadline { by: d(2023, 12, 1) }]);
        let s = parse_schedule("в срок до 15 октября 2023 года", None);
        assert_eq!(s.items, vec![ScheduleItem::Deadline { by: d(2023, 10, 15) }]);
        let s = parse_schedule("15.11.2023", None);
        assert_eq!(s.kind, ScheduleKind::Date);
        assert_eq!(s.items, vec![ScheduleItem::On { date: d(2023, 11, 15) }]);
        let s = parse_schedule("30.10.2023 26.04.2024", None);
        assert_eq!(
            s.items,
            vec![
                ScheduleItem::On { date: d(2023, 10, 30) },
                ScheduleItem::On { date: d(2024, 4, 26) }
            ]
        );
    }

    #[test]
    fn two_date_ranges() {
        let s = parse_schedule("30.11.2023 - 31.01.2024 01.03.2024 – 15.04.2024", None);
        assert_eq!(s.kind, ScheduleKind::Window);
        assert_eq!(
            s.items,
            vec![win(d(2023, 11, 30), d(2024, 1, 31)), win(d(2024, 3, 1), d(2024, 4, 15))]
        );
    }

    #[test]
    fn yearly_with_months() {
        let p = calendar(2024, 2026);
        let s = parse_schedule("Ежегодно, декабрь, апрель", Some(&p));
        assert_eq!(
            s.items,
            vec![ScheduleItem::Recurrence {
                every: Frequency::Yearly,
                months: vec![12, 4],
                within: None,
                day: None,
            }]
        );
        let s = parse_schedule("Ежегодно, ноябрь – апрель", Some(&p));
        assert_eq!(
            s.items,
            vec![ScheduleItem::Recurrence {
                every: Frequency::Yearly,
                months: vec![11, 12, 1, 2, 3, 4],
                within: None,
                day: None,
            }]
        );
        let s = parse_schedule("Сентябрь – май, еженедельно", Some(&p));
        assert_eq!(
            s.items,
            vec![ScheduleItem::Recurrence {
                every: Frequency::Weekly,
                months: vec![9, 10, 11, 12, 1, 2, 3, 4, 5],
                within: None,
                day: None,
            }]
        );
        let s = parse_schedule("Ежеквартально", Some(&p));
        assert_eq!(s.items, vec![rec(Frequency::Quarterly, None)]);
    }

    #[test]
    fn every_n_months_and_starting() {
        let p = calendar(2024, 2024);
        let s = parse_schedule("1 раз в 2 месяца", Some(&p));
        assert_eq!(s.items, vec![rec(Frequency::EveryNMonths(2), None)]);
        let s = parse_schedule("С февраля 2024 С ежеквартальным отчётом", Some(&p));
        assert_eq!(s.kind, ScheduleKind::Recurrence);
        assert_eq!(
            s.items,
            vec![rec(Frequency::Quarterly, range(d(2024, 2, 1), d(2024, 12, 31)))]
        );
        let s = parse_schedule("С февраля 2024", Some(&p));
        assert_eq!(s.items, vec![ScheduleItem::Starting { from: d(2024, 2, 1) }]);
        let s = parse_schedule("С февраля 2024 постоянно", Some(&p));
        assert_eq!(s.items, vec![cont(range(d(2024, 2, 1), d(2024, 12, 31)))]);
        let s = parse_schedule("1 раз в полгода (март 2024)", Some(&p));
        assert_eq!(
            s.items,
            vec![
                rec(Frequency::EveryNMonths(6), None),
                win(d(2024, 3, 1), d(2024, 3, 31)),
            ]
        );
        let s = parse_schedule("Ежемесячно 2023", None);
        assert_eq!(
            s.items,
            vec![rec(Frequency::Monthly, range(d(2023, 1, 1), d(2023, 12, 31)))]
        );
    }

    #[test]
    fn from_to_months() {
        let s = parse_schedule("С октября 2023 года по май 2024 года", None);
        assert_eq!(s.items, vec![win(d(2023, 10, 1), d(2024, 5, 31))]);
        let s = parse_schedule("С октября 2023 года по март 2024 года, еженедельно", None);
        assert_eq!(
            s.items,
            vec![rec(Frequency::Weekly, range(d(2023, 10, 1), d(2024, 3, 31)))]
        );
    }

    #[test]
    fn continuous_and_external() {
        let p = school_2023();
        let s = parse_schedule("постоянно", Some(&p));
        assert_eq!(s.kind, ScheduleKind::Continuous);
        assert_eq!(s.items, vec![cont(range(d(2023, 9, 1), d(2024, 8, 31)))]);
        let s = parse_schedule("В течение года", Some(&calendar(2023, 2023)));
        assert_eq!(s.items, vec![cont(range(d(2023, 1, 1), d(2023, 12, 31)))]);
        let s = parse_schedule("По плану курсовой подготовки", None);
        assert_eq!(s.kind, ScheduleKind::External);
        assert_eq!(
            s.items,
            vec![ScheduleItem::External {
                reference: "По плану курсовой подготовки".into(),
                owner: None,
            }]
        );
        let s = parse_schedule("По отдельному графику в течение учебного года", Some(&p));
        assert_eq!(s.kind, ScheduleKind::Continuous);
        assert_eq!(
            s.items,
            vec![
                cont(range(d(2023, 9, 1), d(2024, 8, 31))),
                ScheduleItem::External {
                    reference: "По отдельному графику".into(),
                    owner: None,
                },
            ]
        );
        let s = parse_schedule("Январь-декабрь 2023 По плану ККИПК", None);
        assert_eq!(s.kind, ScheduleKind::Mixed);
        assert_eq!(
            s.items,
            vec![
                win(d(2023, 1, 1), d(2023, 12, 31)),
                ScheduleItem::External {
                    reference: "По плану ККИПК".into(),
                    owner: Some("ККИПК".into()),
                }
            ]
        );
        let s = parse_schedule("В назначенные сроки", None);
        assert_eq!(s.kind, ScheduleKind::External);
        let s = parse_schedule("По графику проведения контрольных, проверочных работ", None);
        assert_eq!(
            s.items,
            vec![ScheduleItem::External {
                reference: "По графику проведения контрольных, проверочных работ".into(),
                owner: None,
            }]
        );
    }

    #[test]
    fn quarters_halves_school_years() {
        let p = school_2023();
        let s = parse_schedule("II полугодие", Some(&p));
        assert_eq!(s.items, vec![inferred(d(2024, 1, 1), d(2024, 5, 31))]);
        let s = parse_schedule("I квартал 2024 г.", None);
        assert_eq!(s.items, vec![win(d(2024, 1, 1), d(2024, 3, 31))]);
        let s = parse_schedule("в 2023/2024 учебном году", None);
        assert_eq!(s.items, vec![win(d(2023, 9, 1), d(2024, 8, 31))]);
        let s = parse_schedule("2024", None);
        assert_eq!(s.items, vec![win(d(2024, 1, 1), d(2024, 12, 31))]);
    }

    #[test]
    fn empty_and_unparsed() {
        assert_eq!(parse_schedule("  ", None).kind, ScheduleKind::Missing);
        let s = parse_schedule("когда получится", None);
        assert_eq!(s.kind, ScheduleKind::Unparsed);
        let s = parse_schedule("Январь, март 2024 года (в каникулярное время)", None);
        assert_eq!(s.leftover.as_deref(), Some("каникулярное время"));
        assert_eq!(s.items.len(), 2);
    }

    #[test]
    fn stored_json_keeps_its_shape_and_new_fields_are_additions() {
        // A schedule stored before `day`, `owner` and the new variants existed still reads.
        let old = r#"{"raw":"x","items":[{"type":"Recurrence","every":"Weekly","months":[],"within":null},{"type":"External","reference":"По плану ККИПК"}],"kind":"Recurrence","leftover":null}"#;
        let s: Schedule = serde_json::from_str(old).unwrap();
        assert_eq!(
            s.items,
            vec![
                rec(Frequency::Weekly, None),
                ScheduleItem::External {
                    reference: "По плану ККИПК".into(),
                    owner: None,
                },
            ]
        );
        // Without a day or owner, the JSON is the old one.
        assert_eq!(serde_json::to_string(&s).unwrap(), old);
        // The additions.
        let p = calendar(2024, 2024);
        let json = |text: &str| serde_json::to_string(&parse_schedule(text, Some(&p)).items).unwrap();
        assert_eq!(
            json("до 25 числа каждого месяца"),
            r#"[{"type":"Recurrence","every":"Monthly","months":[],"within":null,"day":{"rule":"DayOfMonth","day":25,"by":true,"following":false}}]"#
        );
        assert_eq!(
            json("каждая вторая среда месяца"),
            r#"[{"type":"Recurrence","every":"Monthly","months":[],"within":null,"day":{"rule":"NthWeekday","n":2,"weekday":"Wednesday"}}]"#
        );
        assert_eq!(
            json("по вторникам и четвергам"),
            r#"[{"type":"Recurrence","every":"Weekly","months":[],"within":null,"day":{"rule":"Weekdays","days":["Tuesday","Thursday"]}}]"#
        );
        assert_eq!(
            json("в течение 5 рабочих дней с момента получения запроса"),
            r#"[{"type":"Relative","event":"получения запроса","offset":{"amount":5,"unit":"WorkingDays"},"before":false}]"#
        );
        assert_eq!(
            json("по графику ФЦТ"),
            r#"[{"type":"External","reference":"по графику ФЦТ","owner":"ФЦТ"}]"#
        );
        assert_eq!(
            json("по мере необходимости"),
            r#"[{"type":"OnDemand","text":"по мере необходимости"}]"#
        );
        assert_eq!(
            json("3 четверть"),
            r#"[{"type":"SchoolTerm","term":{"SchoolQuarter":3},"school_year":2023}]"#
        );
        assert_eq!(
            json("в период осенних каникул"),
            r#"[{"type":"SchoolTerm","term":"AutumnHolidays","school_year":2024}]"#
        );
        assert_eq!(
            json("1 раз в четверть"),
            r#"[{"type":"Recurrence","every":"EveryTerm","months":[],"within":null}]"#
        );
        assert_eq!(
            serde_json::to_string(&parse_schedule("по мере необходимости", None).kind).unwrap(),
            r#""OnDemand""#
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "до 0 числа",
            "до 99 числа каждого месяца",
            "31 февраля",
            "IIII квартал",
            "5 четверть",
            "за до после",
            "далее далее",
            "с по до",
            "0 раз в 0 месяцев",
            "в течение 999 рабочих дней с момента ...",
            "\u{1}",
            "—",
            "ежегодно, 31 числа",
            "каждая пятая пятница месяца",
            "9999 год",
            "2100/2101 учебного года",
        ] {
            let s = parse_schedule(text, Some(&calendar(2024, 2024)));
            let _ = crate::occurrence::expand(
                &s,
                Some(DateRange {
                    start: d(2024, 1, 1),
                    end: d(2024, 12, 31),
                }),
            );
        }
    }
}
