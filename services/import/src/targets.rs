//! Quantitative targets in result and indicator texts: "не менее 15 учителей", "100 % ИОТ",
//! "не менее 30 %", "до 0,3%".
//!
//! A bare number counts as a target only with a percent sign; any other number needs a
//! comparator ("не менее", "до", …), because plain numbers in these texts are mostly grades,
//! years and scores ("11 классов", "98–100 баллов").

use std::sync::LazyLock;

use regex::Regex;

use crate::model::{Comparator, QuantTarget};
use crate::text::{collapse_spaces, fold, month_from_word, parse_decimal};

static TARGET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\b(не\s+менее|не\s+более|не\s+ниже|не\s+выше|не\s+меньше|не\s+больше|более|менее|свыше|больше|меньше|до)\s+)?(\d+(?:[.,]\d+)?)\s*(%|процент\w*|[\p{L}][\p{L}-]*)")
        .expect("static regex")
});

const NOT_UNITS: &[&str] = &[
    "класс",
    "кл",
    "год",
    "лет",
    "балл",
    "час",
    "раз",
    "х",
    "числ",
    "г",
    "гг",
    "мин",
    "человеко",
    "неделе",
];

pub fn parse_targets(text: &str) -> Vec<QuantTarget> {
    let text = collapse_spaces(text);
    let mut out = Vec::new();
    for c in TARGET.captures_iter(&text) {
        let (Some(all), Some(num)) = (c.get(0), c.get(2)) else {
            continue;
        };
        let unit_m = c.get(3);
        // Part of a date, a range or a longer number.
        let before = text.get(..num.start()).and_then(|b| b.chars().next_back());
        if before
            .is_some_and(|ch| ch.is_ascii_digit() || ch == '.' || ch == ',' || crate::text::is_dash(ch) || ch == '/')
        {
            continue;
        }
        let after: String = text.get(num.end()..).unwrap_or("").chars().take(2).collect();
        let mut after_chars = after.chars();
        if let (Some(a), Some(b)) = (after_chars.next(), after_chars.next())
            && (a == '.' || crate::text::is_dash(a) || a == '/')
            && b.is_ascii_digit()
        {
            continue;
        }
        let unit_raw = unit_m.map(|u| u.as_str()).unwrap_or("");
        let unit_fold = fold(unit_raw);
        let percent = unit_raw == "%" || unit_fold.starts_with("процент");
        if !percent && (NOT_UNITS.iter().any(|n| unit_fold.starts_with(n)) || month_from_word(unit_raw).is_some()) {
            continue;
        }
        let comparator = match c.get(1).map(|m| collapse_spaces(&fold(m.as_str()))) {
            None => Comparator::Eq,
            Some(w) => match w.as_str() {
                "не менее" | "не ниже" | "не меньше" => Comparator::Ge,
                "не более" | "не выше" | "не больше" | "до" => Comparator::Le,
                "более" | "свыше" | "больше" => Comparator::Gt,
                _ => Comparator::Lt,
            },
        };
        if comparator == Comparator::Eq && !percent {
            continue;
        }
        let Some(value) = parse_decimal(num.as_str()) else {
            continue;
        };
        let unit_end = unit_m.map(|u| u.end()).unwrap_or(num.end());
        let rest = text.get(unit_end..).unwrap_or("");
        let subject: String = rest
            .split([',', '.', ';', ':', '(', ')'])
            .next()
            .unwrap_or("")
            .split_whitespace()
            .take(6)
            .collect::<Vec<_>>()
            .join(" ");
        let raw_end = unit_end + rest.find(subject.as_str()).map(|p| p + subject.len()).unwrap_or(0);
        let raw = text
            .get(all.start()..raw_end.max(unit_end))
            .unwrap_or(all.as_str())
            .trim()
            .to_string();
        out.push(QuantTarget {
            comparator,
            value,
            value_raw: num.as_str().to_string(),
            unit: if percent { "%".to_string() } else { unit_raw.to_string() },
            subject,
            raw,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> QuantTarget {
        let t = parse_targets(text);
        assert_eq!(t.len(), 1, "{text}: {t:?}");
        t.into_iter().next().unwrap()
    }

    #[test]
    fn seed_phrases() {
        let t = one("повысили квалификацию не менее 15 учителей-предметников");
        assert_eq!(
            (t.comparator, t.value, t.unit.as_str()),
            (Comparator::Ge, 15.0, "учителей-предметников")
        );
        let t = one("Реализовано 100 % разработанных ИОТ");
        assert_eq!(
            (t.comparator, t.value, t.unit.as_str(), t.subject.as_str()),
            (Comparator::Eq, 100.0, "%", "разработанных ИОТ")
        );
        let t = one(
            "организовано сопровождение реализации ИОМ не менее 30 % от общего количества учителей, работающих в 11 классах",
        );
        assert_eq!(
            (t.comparator, t.value, t.subject.as_str()),
            (Comparator::Ge, 30.0, "от общего количества учителей")
        );
        let t = one("по русскому языку до 0,3%");
        assert_eq!(
            (t.comparator, t.value, t.value_raw.as_str()),
            (Comparator::Le, 0.3, "0,3")
        );
        let t = one("Не менее 200 обучающихся 11 классов прошли обучение");
        assert_eq!(
            (t.comparator, t.value, t.unit.as_str()),
            (Comparator::Ge, 200.0, "обучающихся")
        );
        let t = one("не более 5 ОО");
        assert_eq!((t.comparator, t.unit.as_str()), (Comparator::Le, "ОО"));
    }

    #[test]
    fn ignores_grades_scores_and_dates() {
        assert!(parse_targets("учителей, работающих в 11 классах в 2023–2024 учебном году").is_empty());
        assert!(parse_targets("набравших 98–100 баллов").is_empty());
        assert!(parse_targets("до 15.09.2023").is_empty());
        assert!(parse_targets("в 35 муниципальных образованиях").is_empty());
    }
}
