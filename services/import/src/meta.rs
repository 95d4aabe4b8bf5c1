//! Document metadata from the text before the first table: title, approving act, plan period,
//! goals, and a guess of the plan's level.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

use crate::model::{Approval, Level, LevelGuess, Period, PeriodKind};
use crate::text::{collapse_spaces, fold, month_from_word, strip_noise};

/// Paragraphs (runs of non-blank lines) of the given lines: (first line number, joined text).
fn paragraphs(lines: &[&str]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(usize, Vec<String>)> = None;
    for (i, l) in lines.iter().enumerate() {
        let clean = collapse_spaces(&strip_noise(l).0);
        if clean.is_empty() {
            if let Some((n, parts)) = cur.take() {
                out.push((n, parts.join(" ")));
            }
        } else {
            cur.get_or_insert_with(|| (i + 1, Vec::new())).1.push(clean);
        }
    }
    if let Some((n, parts)) = cur {
        out.push((n, parts.join(" ")));
    }
    out
}

/// The roadmap's own title: the first paragraph naming a "дорожная карта" or "план", not a
/// clause of the approving order.
pub fn find_title(preamble: &[&str]) -> Option<(String, usize)> {
    let paras = paragraphs(preamble);
    let good = |t: &str| {
        let f = fold(t);
        let names_plan = f.starts_with("дорожная карта") || f.starts_with("план") || f.starts_with("программа");
        names_plan && !f.starts_with("об утверждении")
    };
    let mentions = |t: &str| {
        let f = fold(t);
        f.contains("дорожн") && f.contains("карт") && !f.chars().next().is_some_and(|c| c.is_ascii_digit())
    };
    paras
        .iter()
        .find(|(_, t)| good(t))
        .or_else(|| paras.iter().find(|(_, t)| mentions(t) && t.chars().count() < 400))
        .map(|(n, t)| (t.clone(), *n))
}

static ACT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:от\s+)?(«?\d{1,2}»?\s+[а-яё]+\s+\d{4}|\d{1,2}\.\d{1,2}\.\d{4})\s*(?:г\.|года)?[^№\n]{0,40}?№\s*([^\s,;]+)")
        .expect("static regex")
});
static SIGNATORY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[\s\-–—_]*([А-ЯЁ]\.\s?[А-ЯЁ]\.\s?[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?)\s*$").expect("static regex")
});

pub fn parse_russian_date(s: &str) -> Option<NaiveDate> {
    let t: String = s.chars().filter(|c| !matches!(c, '«' | '»' | '"')).collect();
    let parts: Vec<&str> = t
        .split(|c: char| c.is_whitespace() || c == '.')
        .filter(|p| !p.is_empty())
        .collect();
    match parts.as_slice() {
        [d, m, y] => {
            let d: u32 = d.parse().ok()?;
            let y: i32 = y.parse().ok()?;
            let m: u32 = m.parse().ok().or_else(|| month_from_word(m))?;
            NaiveDate::from_ymd_opt(y, m, d)
        }
        _ => None,
    }
}

/// All "от <date> № <number>" mentions: (line, date, number).
pub fn act_mentions(preamble: &[&str]) -> Vec<(usize, Option<NaiveDate>, String)> {
    let mut out = Vec::new();
    for (i, l) in preamble.iter().enumerate() {
        let clean = collapse_spaces(&strip_noise(l).0);
        for c in ACT.captures_iter(&clean) {
            let (Some(d), Some(n)) = (c.get(1), c.get(2)) else {
                continue;
            };
            out.push((i + 1, parse_russian_date(d.as_str()), n.as_str().to_string()));
        }
    }
    out
}

pub fn find_approval(preamble: &[&str]) -> Option<Approval> {
    let kinds = [
        ("распоряж", "распоряжение"),
        ("приказ", "приказ"),
        ("постановлен", "постановление"),
        ("решени", "решение"),
    ];
    let mut kind: Option<(usize, &str)> = None;
    'outer: for (i, l) in preamble.iter().enumerate() {
        for word in l.split(|c: char| !c.is_alphabetic()) {
            let f = fold(word);
            if let Some((_, k)) = kinds.iter().find(|(stem, _)| f.starts_with(stem)) {
                kind = Some((i + 1, k));
                break 'outer;
            }
        }
    }
    let act = act_mentions(preamble).into_iter().next();
    let signatory = preamble.iter().enumerate().find_map(|(i, l)| {
        SIGNATORY
            .captures(&strip_noise(l).0)
            .and_then(|c| c.get(1))
            .map(|m| (i + 1, m.as_str().to_string()))
    });
    if kind.is_none() && act.is_none() && signatory.is_none() {
        return None;
    }
    let line = act
        .as_ref()
        .map(|a| a.0)
        .or(kind.map(|k| k.0))
        .or(signatory.as_ref().map(|s| s.0))
        .unwrap_or(1);
    Some(Approval {
        kind: kind.map(|(_, k)| k.to_string()),
        number: act.as_ref().map(|a| a.2.clone()),
        date: act.as_ref().and_then(|a| a.1),
        signatory: signatory.map(|s| s.1),
        line,
    })
}

static SCHOOL_YEARS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(\d{4})\s*[/–—-]\s*(\d{4})\s+(?:учебн\w*|уч\.)\s*(?:год\w*)?").expect("static regex")
});
static CALENDAR_RANGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(\d{4})\s*[–—-]\s*(\d{4})\s*(?:год\w*|гг\.?)").expect("static regex"));
static CALENDAR_ONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(?:на|в)\s+(\d{4})\s+год\w*").expect("static regex"));

fn period_in(text: &str, line: usize, inferred: bool) -> Option<Period> {
    let mk = |s: NaiveDate, e: NaiveDate, kind, raw: &str| Period {
        start: s,
        end: e,
        kind,
        raw: raw.trim().to_string(),
        line,
        inferred,
    };
    if let Some(c) = SCHOOL_YEARS.captures(text) {
        let y1: i32 = c.get(1)?.as_str().parse().ok()?;
        let y2: i32 = c.get(2)?.as_str().parse().ok()?;
        if y2 > y1 && y2 - y1 <= 10 {
            return Some(mk(
                NaiveDate::from_ymd_opt(y1, 9, 1)?,
                NaiveDate::from_ymd_opt(y2, 8, 31)?,
                PeriodKind::SchoolYears,
                c.get(0)?.as_str(),
            ));
        }
    }
    if let Some(c) = CALENDAR_RANGE.captures(text) {
        let y1: i32 = c.get(1)?.as_str().parse().ok()?;
        let y2: i32 = c.get(2)?.as_str().parse().ok()?;
        if y2 >= y1 && y2 - y1 <= 10 {
            return Some(mk(
                NaiveDate::from_ymd_opt(y1, 1, 1)?,
                NaiveDate::from_ymd_opt(y2, 12, 31)?,
                PeriodKind::CalendarYears,
                c.get(0)?.as_str(),
            ));
        }
    }
    if let Some(c) = CALENDAR_ONE.captures(text) {
        let y: i32 = c.get(1)?.as_str().parse().ok()?;
        if (1990..=2100).contains(&y) {
            return Some(mk(
                NaiveDate::from_ymd_opt(y, 1, 1)?,
                NaiveDate::from_ymd_opt(y, 12, 31)?,
                PeriodKind::CalendarYears,
                c.get(0)?.as_str(),
            ));
        }
    }
    None
}

/// The plan period: from the title, else the first mention in the text (marked inferred).
pub fn find_period(title: Option<&(String, usize)>, lines: &[&str]) -> Option<Period> {
    if let Some((t, n)) = title
        && let Some(p) = period_in(t, *n, false)
    {
        return Some(p);
    }
    // School-year mentions are more telling than a stray "в 2023 году" in the body.
    for (i, l) in lines.iter().enumerate() {
        let clean = collapse_spaces(&strip_noise(l).0);
        if SCHOOL_YEARS.is_match(&clean)
            && let Some(p) = period_in(&clean, i + 1, true)
        {
            return Some(p);
        }
    }
    lines
        .iter()
        .enumerate()
        .find_map(|(i, l)| period_in(&collapse_spaces(&strip_noise(l).0), i + 1, true))
}

/// Goal paragraphs after a "Цель" heading, or "Цель: …" on one line: (text, line).
pub fn find_goals(preamble: &[&str]) -> Vec<(String, usize)> {
    let paras = paragraphs(preamble);
    let mut out = Vec::new();
    let mut k = 0;
    while k < paras.len() {
        let (n, t) = &paras[k];
        let f = fold(t);
        let heading = (f.starts_with("цель") || f.starts_with("цели")) && !f.starts_with("целев");
        if !heading {
            k += 1;
            continue;
        }
        if let Some((_, rest)) = t.split_once(':')
            && rest.trim().chars().count() > 10
        {
            out.push((rest.trim().to_string(), *n));
            k += 1;
            continue;
        }
        k += 1;
        while let Some((n2, t2)) = paras.get(k) {
            let ends_sentence = t2.ends_with('.') || t2.ends_with(';');
            if !ends_sentence || t2.ends_with(':') || t2.contains('\t') {
                break;
            }
            out.push((t2.clone(), *n2));
            k += 1;
        }
    }
    out
}

pub fn guess_level(title: Option<&str>, preamble: &[&str]) -> Option<LevelGuess> {
    let head: Vec<String> = preamble
        .iter()
        .map(|l| collapse_spaces(&strip_noise(l).0))
        .filter(|l| !l.is_empty())
        .take(12)
        .collect();
    let title_f = title.map(fold).unwrap_or_default();
    let find = |stems: &[&str], texts: &[String]| -> Option<String> {
        texts.iter().find_map(|t| {
            let f = fold(t);
            stems.iter().find(|s| f.contains(*s)).map(|_| t.clone())
        })
    };
    let mk = |level, why: String| Some(LevelGuess { level, reason: why });
    if let Some(t) = find(
        &["министерство просвещения российской федерации", "минпросвещения россии"],
        &head,
    ) {
        return mk(Level::Federal, format!("issued by a federal body: \"{t}\""));
    }
    for stem in ["мбоу", "маоу", "моу ", "гбоу", "сош", "гимнази", "лице"] {
        if title_f.contains(stem) {
            return mk(Level::School, format!("the title names one school (\"{stem}\")"));
        }
    }
    let regional = head.iter().find(|t| {
        let f = fold(t);
        (f.contains("правительств") || f.contains("министерств") || f.contains("департамент"))
            && (f.contains("края") || f.contains("области") || f.contains("республик") || f.contains("округа"))
    });
    if let Some(t) = regional {
        return mk(Level::Regional, format!("issued by a regional body: \"{t}\""));
    }
    if title_f.contains("муниципальн") || title_f.contains("района") || title_f.contains("городского округа")
    {
        return mk(Level::Municipal, "the title names a municipality".into());
    }
    if let Some(t) = find(
        &["района", "муниципальн", "отдел образования", "управления образования"],
        &head,
    ) {
        return mk(Level::Municipal, format!("approved by a municipal authority: \"{t}\""));
    }
    if title_f.contains("края") || title_f.contains("области") || title_f.contains("республик") {
        return mk(Level::Regional, "the title names a region".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        let p = period_in("ДОРОЖНАЯ КАРТА … Хабаровского края в 2023/2024 учебном году", 7, false).unwrap();
        assert_eq!(
            (p.start, p.end, p.kind.clone()),
            (
                NaiveDate::from_ymd_opt(2023, 9, 1).unwrap(),
                NaiveDate::from_ymd_opt(2024, 8, 31).unwrap(),
                PeriodKind::SchoolYears
            )
        );
        let p = period_in("ПЛАН мероприятий в Забайкальском крае на 2024–2026 годы", 1, false).unwrap();
        assert_eq!(
            (p.start, p.end),
            (
                NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
                NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
            )
        );
        let p = period_in("Дорожная карта … на 2023 год", 1, false).unwrap();
        assert_eq!(
            (p.start, p.end),
            (
                NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(),
                NaiveDate::from_ymd_opt(2023, 12, 31).unwrap()
            )
        );
    }

    #[test]
    fn acts() {
        let a = act_mentions(&["от «01» ноября 2023 г. № 450/1-осн.р."]);
        assert_eq!(
            a,
            vec![(1, NaiveDate::from_ymd_opt(2023, 11, 1), "450/1-осн.р.".to_string())]
        );
        let a = act_mentions(&["11.10.2023 № З.12-1408-р"]);
        assert_eq!(a[0].2, "З.12-1408-р");
        assert!(act_mentions(&["по повышению качества общего образования в МБОУ СОШ № 8"]).is_empty());
    }
}
