//! Deadlines and schedules written as Russian free text ("октябрь 2023 г. – март 2024 г.
//! еженедельно", "до 15.09.2023", "Ежегодно, декабрь, апрель", "по плану курсовой подготовки").
//!
//! The text is read in four passes, each masking what it recognised so later passes do not see
//! it again: recurrence words, "continuous" phrases, references to external plans, and finally
//! dates, months, quarters and years, which are combined into ranges ("октябрь – декабрь 2023 г.",
//! "с октября 2023 года по май 2024 года"), deadlines ("до", "не позднее", "к") and start dates
//! ("с февраля 2024").
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
    },
    /// "постоянно", "в течение года", "в течение учебного года", "систематически".
    Continuous {
        within: Option<DateRange>,
    },
    /// Dates set by another document: "по плану курсовой подготовки", "по отдельному графику".
    External {
        reference: String,
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
static TIMES_PER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:(\d{1,2})\s*)?раз[а]?\s+в\s+(?:(\d{1,2})\s*)?(недел\w*|месяц\w*|квартал\w*|четверт\w*|полугоди\w*|полгода|год\w*)")
        .expect("static regex")
});
static FREQ_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(ежедневн\w*|еженедельн\w*|ежемесячн\w*|ежеквартальн\w*|поквартальн\w*|ежегодн\w*|ежеполугодн\w*|каждую\s+неделю|каждый\s+месяц|каждый\s+квартал|каждый\s+год)")
        .expect("static regex")
});
static CONTINUOUS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:постоянн\w*|систематическ\w*|регулярн\w*|на\s+постоянной\s+основе|весь\s+период|в\s+течени[еи](?:\s+всего)?(?:\s+(учебного|календарного))?(?:\s+(года|периода|полугодия|четверти|месяца))?)")
        .expect("static regex")
});
static EXTERNAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:(?:по|согласно|в\s+соответствии\s+с)\s+(?:отдельному\s+|федеральному\s+|региональному\s+|утвержд[её]нному\s+|установленному\s+|единому\s+)?(?:план\w*|график\w*|курсов\w*|мере\s+\w+|запрос\w*|заявк\w*|согласовани\w*|срок\w*|расписани\w*|календар\w*|распоряжени\w*|приказ\w*|итог\w*|результат\w*|регламент\w*|положени\w*)|в\s+(?:назначенные|установленные|утвержденные|утверждённые)\s+сроки)[^;\d()]*")
        .expect("static regex")
});

/// Parses a schedule cell. Never fails: what cannot be understood ends up in
/// `ScheduleItem::Unparsed` (whole text) or `Schedule::leftover` (stray words).
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

    let frequency = take_frequency(&mut work);
    let continuous = take_continuous(&mut work);
    let external = take_external(&mut work);

    let (tokens, leftover_words) = tokenize(&work);
    let units = build_units(tokens);
    let pieces = combine(units);

    let mut dated: Vec<(ScheduleItem, bool)> = Vec::new(); // (item, range-like)
    let mut bare_months: Vec<u32> = Vec::new();
    for piece in pieces {
        resolve_piece(piece, period, frequency.is_some(), &mut dated, &mut bare_months);
    }

    let mut items = Vec::new();
    let period_range = period.map(|p| DateRange {
        start: p.start,
        end: p.end,
    });
    if frequency.is_some() || continuous.is_some() {
        let range_like: Vec<usize> = dated
            .iter()
            .enumerate()
            .filter(|(_, (_, r))| *r)
            .map(|(i, _)| i)
            .collect();
        let mut within = None;
        if let [only] = range_like.as_slice() {
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
        if let Some(every) = frequency {
            items.push(ScheduleItem::Recurrence {
                every,
                months: std::mem::take(&mut bare_months),
                within,
            });
            if continuous.is_some() {
                items.push(ScheduleItem::Continuous { within: None });
            }
        } else if let Some(scope) = continuous {
            let within = within.or_else(|| scope_range(scope, period));
            items.push(ScheduleItem::Continuous { within });
        }
    }
    items.extend(dated.into_iter().map(|(i, _)| i));
    if !bare_months.is_empty() {
        items.push(ScheduleItem::Months { months: bare_months });
    }
    items.extend(
        external
            .into_iter()
            .map(|reference| ScheduleItem::External { reference }),
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

fn mask(work: &mut String, start: usize, end: usize) {
    if start < end && end <= work.len() && work.is_char_boundary(start) && work.is_char_boundary(end) {
        work.replace_range(start..end, &" ".repeat(end - start));
    }
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

/// Finds the most specific recurrence in the text and masks every recurrence phrase.
fn take_frequency(work: &mut String) -> Option<Frequency> {
    // (specificity rank, frequency): a nth-week phrase refines "ежемесячно" next to it.
    let mut found: Vec<(u8, Frequency)> = Vec::new();
    let mut spans = Vec::new();
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
        let times: u32 = c.get(1).and_then(|t| t.as_str().parse().ok()).unwrap_or(1);
        let n: u32 = c.get(2).and_then(|t| t.as_str().parse().ok()).unwrap_or(1);
        let unit = c.get(3).map(|u| fold(u.as_str())).unwrap_or_default();
        let months = if unit.starts_with("недел") {
            None
        } else if unit.starts_with("месяц") {
            Some(n)
        } else if unit.starts_with("квартал") || unit.starts_with("четверт") {
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
    for (s, e) in spans {
        mask(work, s, e);
    }
    found.sort_by_key(|(rank, _)| std::cmp::Reverse(*rank));
    found.first().map(|(_, f)| *f)
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

fn take_external(work: &mut String) -> Vec<String> {
    let mut refs = Vec::new();
    let mut spans = Vec::new();
    for m in EXTERNAL.find_iter(work) {
        // The tail of the phrase stops before a month name so "по графику, октябрь 2023"
        // keeps its month.
        let text_all = m.as_str();
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
        let cut = (0..=cut).rev().find(|&i| text_all.is_char_boundary(i)).unwrap_or(0);
        let reference = text_all[..cut]
            .trim_matches(|c: char| c.is_whitespace() || c == ',' || c == '.' || c == ';')
            .to_string();
        if reference.is_empty() {
            continue;
        }
        refs.push(text::collapse_spaces(&reference));
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
    Quarter,
    Half,
    School,
}

const STOP_WORDS: [&str; 20] = [
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
    "месяца",
    "месяц",
    "уч",
    "течение",
    "течении",
    "числа",
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
            match word_token(&word) {
                Some(t) => toks.push(t),
                None => {
                    let f = fold(&word);
                    if !STOP_WORDS.contains(&f.as_str()) {
                        leftover.push(word);
                    }
                }
            }
        } else {
            if is_dash(c) {
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
    Some(match f.as_str() {
        "до" | "к" | "позднее" | "позже" => Tok::Until,
        "с" | "со" | "от" | "начиная" => Tok::From,
        "по" => Tok::To,
        "и" => Tok::Sep,
        w if w.starts_with("квартал") => Tok::Quarter,
        w if w.starts_with("полугоди") => Tok::Half,
        w if w.starts_with("учебн") => Tok::School,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Date(NaiveDate),
    DayMonth { day: u32, month: u32, year: Option<i32> },
    Month { month: u32, year: Option<i32> },
    Quarter { q: u32, year: Option<i32> },
    Half { h: u32, year: Option<i32> },
    Year(i32),
    SchoolYear(i32),
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
            Unit::Half { h, .. } => {
                if *h == 1 {
                    vec![9, 10, 11, 12]
                } else {
                    vec![1, 2, 3, 4, 5]
                }
            }
            _ => Vec::new(),
        }
    }

    fn first_month(&self) -> u32 {
        self.months().first().copied().unwrap_or(1)
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
}

fn build_units(toks: Vec<Tok>) -> Vec<El> {
    let mut els = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let next = toks.get(i + 1);
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
                    (Some(Tok::Slash), Some(Tok::Year(y2)), _) if *y2 == y1 + 1 => {
                        els.push(El::U(Unit::SchoolYear(y1), false));
                        i += 2;
                    }
                    (Some(Tok::Dash), Some(Tok::Year(y2)), Some(Tok::School)) if *y2 == y1 + 1 => {
                        els.push(El::U(Unit::SchoolYear(y1), false));
                        i += 2;
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
            Tok::Num(_) | Tok::Roman(_) | Tok::Slash | Tok::Quarter | Tok::Half | Tok::School => {}
        }
        i += 1;
    }
    attach_years(els)
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
}

fn combine(els: Vec<El>) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < els.len() {
        match &els[i] {
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
            }
            El::Until => {
                if let Some(El::U(a, _)) = els.get(i + 1) {
                    pieces.push(Piece::Deadline(*a));
                    i += 2;
                    continue;
                }
            }
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
            _ => {}
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
            NaiveDate::from_ymd_opt(y + 1, 8, 31)?,
            false,
        )),
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

fn resolve_piece(
    piece: Piece,
    period: Option<&Period>,
    has_frequency: bool,
    dated: &mut Vec<(ScheduleItem, bool)>,
    bare: &mut Vec<u32>,
) {
    let push_bare = |bare: &mut Vec<u32>, ms: Vec<u32>| {
        for m in ms {
            if !bare.contains(&m) {
                bare.push(m);
            }
        }
    };
    // With a recurrence word, year-less months describe which months recur, not a date.
    let keep_bare = |u: &Unit| u.yearless() && has_frequency;
    match piece {
        Piece::Single(u) => {
            if keep_bare(&u) {
                return push_bare(bare, u.months());
            }
            match (u, unit_span(u, period)) {
                (Unit::Date(d), _) => dated.push((ScheduleItem::On { date: d }, false)),
                (Unit::DayMonth { .. }, Some((d, _, _))) => dated.push((ScheduleItem::On { date: d }, false)),
                (_, Some((s, e, inf))) => dated.push((
                    ScheduleItem::Window {
                        start: s,
                        end: e,
                        year_inferred: inf,
                    },
                    matches!(u, Unit::Year(_) | Unit::SchoolYear(_)),
                )),
                (_, None) => push_bare(bare, u.months()),
            }
        }
        Piece::Range(a, b, inherited) => {
            if keep_bare(&a) && keep_bare(&b) {
                return push_bare(bare, month_cycle(a.first_month(), last_month(&b)));
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
                _ => push_bare(bare, month_cycle(a.first_month(), last_month(&b))),
            }
        }
        Piece::Starting(u) => match unit_span(u, period) {
            Some((s, _, _)) => dated.push((ScheduleItem::Starting { from: s }, true)),
            None => push_bare(bare, u.months()),
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
            None => push_bare(bare, u.months()),
        },
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
            vec![ScheduleItem::Recurrence {
                every: Frequency::Weekly,
                months: vec![],
                within: range(d(2023, 10, 1), d(2024, 3, 31)),
            }]
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
            vec![ScheduleItem::Recurrence {
                every: Frequency::NthWeekOfMonth(4),
                months: vec![],
                within: range(d(2023, 10, 1), d(2024, 3, 31)),
            }]
        );
        let s = parse_schedule("октябрь 2023 г. – март 2024 г.,          вторая неделя", Some(&p));
        assert_eq!(
            s.items,
            vec![ScheduleItem::Recurrence {
                every: Frequency::NthWeekOfMonth(2),
                months: vec![],
                within: range(d(2023, 10, 1), d(2024, 3, 31)),
            }]
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
                within: None
            }]
        );
        let s = parse_schedule("Ежегодно, ноябрь – апрель", Some(&p));
        assert_eq!(
            s.items,
            vec![ScheduleItem::Recurrence {
                every: Frequency::Yearly,
                months: vec![11, 12, 1, 2, 3, 4],
                within: None
            }]
        );
        let s = parse_schedule("Сентябрь – май, еженедельно", Some(&p));
        assert_eq!(
            s.items,
            vec![ScheduleItem::Recurrence {
                every: Frequency::Weekly,
                months: vec![9, 10, 11, 12, 1, 2, 3, 4, 5],
                within: None
            }]
        );
        let s = parse_schedule("Ежеквартально", Some(&p));
        assert_eq!(
            s.items,
            vec![ScheduleItem::Recurrence {
                every: Frequency::Quarterly,
                months: vec![],
                within: None
            }]
        );
    }

    #[test]
    fn every_n_months_and_starting() {
        let p = calendar(2024, 2024);
        let s = parse_schedule("1 раз в 2 месяца", Some(&p));
        assert_eq!(
            s.items,
            vec![ScheduleItem::Recurrence {
                every: Frequency::EveryNMonths(2),
                months: vec![],
                within: None
            }]
        );
        let s = parse_schedule("С февраля 2024 С ежеквартальным отчётом", Some(&p));
        assert_eq!(s.kind, ScheduleKind::Recurrence);
        assert_eq!(
            s.items,
            vec![ScheduleItem::Recurrence {
                every: Frequency::Quarterly,
                months: vec![],
                within: range(d(2024, 2, 1), d(2024, 12, 31)),
            }]
        );
        let s = parse_schedule("С февраля 2024", Some(&p));
        assert_eq!(s.items, vec![ScheduleItem::Starting { from: d(2024, 2, 1) }]);
        let s = parse_schedule("С февраля 2024 постоянно", Some(&p));
        assert_eq!(
            s.items,
            vec![ScheduleItem::Continuous {
                within: range(d(2024, 2, 1), d(2024, 12, 31))
            }]
        );
        let s = parse_schedule("1 раз в полгода (март 2024)", Some(&p));
        assert_eq!(
            s.items,
            vec![
                ScheduleItem::Recurrence {
                    every: Frequency::EveryNMonths(6),
                    months: vec![],
                    within: None
                },
                win(d(2024, 3, 1), d(2024, 3, 31)),
            ]
        );
        let s = parse_schedule("Ежемесячно 2023", None);
        assert_eq!(
            s.items,
            vec![ScheduleItem::Recurrence {
                every: Frequency::Monthly,
                months: vec![],
                within: range(d(2023, 1, 1), d(2023, 12, 31))
            }]
        );
    }

    #[test]
    fn from_to_months() {
        let s = parse_schedule("С октября 2023 года по май 2024 года", None);
        assert_eq!(s.items, vec![win(d(2023, 10, 1), d(2024, 5, 31))]);
        let s = parse_schedule("С октября 2023 года по март 2024 года, еженедельно", None);
        assert_eq!(
            s.items,
            vec![ScheduleItem::Recurrence {
                every: Frequency::Weekly,
                months: vec![],
                within: range(d(2023, 10, 1), d(2024, 3, 31))
            }]
        );
    }

    #[test]
    fn continuous_and_external() {
        let p = school_2023();
        let s = parse_schedule("постоянно", Some(&p));
        assert_eq!(s.kind, ScheduleKind::Continuous);
        assert_eq!(
            s.items,
            vec![ScheduleItem::Continuous {
                within: range(d(2023, 9, 1), d(2024, 8, 31))
            }]
        );
        let s = parse_schedule("В течение года", Some(&calendar(2023, 2023)));
        assert_eq!(
            s.items,
            vec![ScheduleItem::Continuous {
                within: range(d(2023, 1, 1), d(2023, 12, 31))
            }]
        );
        let s = parse_schedule("По плану курсовой подготовки", None);
        assert_eq!(s.kind, ScheduleKind::External);
        assert_eq!(
            s.items,
            vec![ScheduleItem::External {
                reference: "По плану курсовой подготовки".into()
            }]
        );
        let s = parse_schedule("По отдельному графику в течение учебного года", Some(&p));
        assert_eq!(s.kind, ScheduleKind::Continuous);
        assert_eq!(
            s.items,
            vec![
                ScheduleItem::Continuous {
                    within: range(d(2023, 9, 1), d(2024, 8, 31))
                },
                ScheduleItem::External {
                    reference: "По отдельному графику".into()
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
                    reference: "По плану ККИПК".into()
                }
            ]
        );
        let s = parse_schedule("В назначенные сроки", None);
        assert_eq!(s.kind, ScheduleKind::External);
        let s = parse_schedule("По графику проведения контрольных, проверочных работ", None);
        assert_eq!(
            s.items,
            vec![ScheduleItem::External {
                reference: "По графику проведения контрольных, проверочных работ".into()
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
}
